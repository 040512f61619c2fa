//! Signed backups end to end: `keygen`, a private key signing every backup (a restore's safety
//! backup too), a public key checking what verify, restore, drill, list and health read; tampered,
//! moved, foreign-key and unsigned backups refused (exit 4) before anything reaches the target;
//! OpenSSL's keys work; key material never echoed.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use backstage_backup_testkit::TestDb;
use common::*;
use predicates::str::contains;

fn keygen(dir: &Path, name: &str) -> (String, String) {
    let private = dir.join(name);
    cli()
        .args(["keygen", "--out"])
        .arg(&private)
        .assert()
        .success()
        .stdout(contains("Made signing key"));
    let public = format!("{}.pub", private.display());
    (private.display().to_string(), public)
}

fn table_count(url: &str) -> String {
    let out = Command::new("psql")
        .args([
            url,
            "-tAc",
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'",
        ])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_private_key_signs_and_the_public_key_checks_verify_restore_drill_list_and_health() {
    let (source, _) = TestDb::catalog(20).await.unwrap();
    let work = tempfile::tempdir().unwrap();
    let (private, public) = keygen(work.path(), "signing.pem");
    let mode = |p: &str| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&private), 0o600);
    assert_eq!(mode(&public), 0o644);
    // A key is never overwritten.
    cli()
        .args(["keygen", "--out", &private])
        .assert()
        .code(2)
        .stderr(contains("exists already"));

    // A private key file in the way: nothing is written, and the public half made first is gone.
    let taken = work.path().join("taken.pem");
    std::fs::write(&taken, "mine").unwrap();
    cli()
        .args(["keygen", "--out"])
        .arg(&taken)
        .assert()
        .code(2)
        .stderr(contains("exists already"));
    assert_eq!(std::fs::read_to_string(&taken).unwrap(), "mine");
    assert!(!work.path().join("taken.pem.pub").exists());
    // A folder that does not exist: named, nothing made.
    cli()
        .args(["keygen", "--out"])
        .arg(work.path().join("missing/k.pem"))
        .assert()
        .code(2)
        .stderr(contains("missing/k.pem.pub"));

    let store = work.path().join("store");
    let store = store.to_str().unwrap();
    let manifest = json_of(
        &cli()
            .args(["backup", "--json", "--database-url", &source.url])
            .args(["--store", store, "--signing-key", &private])
            .assert()
            .success()
            .get_output()
            .stdout,
    );
    let id = manifest["id"].as_str().unwrap().to_string();
    assert_eq!(manifest["signature"]["algorithm"], "ed25519");
    let key_id = manifest["signature"]["key_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(list_json(store)[0]["signature"], "signed");

    let list = cli()
        .args(["list", "--json", "--store", store, "--signing-key", &public])
        .assert()
        .success();
    assert_eq!(json_of(&list.get_output().stdout)[0]["signature"], "valid");
    cli()
        .args(["verify", &id, "--store", store, "--signing-key", &public])
        .assert()
        .success();
    let target = TestDb::empty().await.unwrap();
    cli()
        .args(["restore", &id, "--yes", "--store", store])
        .args(["--database-url", &target.url, "--signing-key", &public])
        .assert()
        .success();
    assert_eq!(fingerprint(&target).await, fingerprint(&source).await);
    let server = TestDb::empty().await.unwrap();
    cli()
        .args(["drill", &id, "--store", store])
        .args(["--database-url", &server.url, "--signing-key", &public])
        .assert()
        .success();
    cli()
        .args(["health", "--store", store, "--signing-key", &public])
        .assert()
        .success()
        .stdout(contains(format!("checked against signing key {key_id}")));
    // Without a key, health says the backups are unsigned… when they are.
    let plain = work.path().join("plain");
    backup_json(&source, plain.to_str().unwrap());
    // (WARNING: nothing there was verified yet.)
    cli()
        .args(["health", "--store"])
        .arg(&plain)
        .assert()
        .code(1)
        .stdout(contains("backups are unsigned"));

    // A clean restore's safety backup is signed with the same private key.
    let restored = json_of(
        &cli()
            .args([
                "restore", &id, "--yes", "--clean", "--json", "--store", store,
            ])
            .args(["--database-url", &target.url, "--signing-key", &private])
            .assert()
            .success()
            .get_output()
            .stdout,
    );
    let safety = restored["safety_backup"].as_str().unwrap();
    let listed = json_of(
        &cli()
            .args(["list", "--json", "--store", store, "--signing-key", &public])
            .assert()
            .success()
            .get_output()
            .stdout,
    );
    let safety_entry = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == safety)
        .unwrap();
    assert_eq!(safety_entry["signature"], "valid");

    // A public key cannot sign: refused before anything is written.
    let before = files_in(Path::new(store));
    cli()
        .args(["backup", "--database-url", &source.url, "--store", store])
        .args(["--signing-key", &public])
        .assert()
        .code(2)
        .stderr(contains("is a public key"));
    assert_eq!(files_in(Path::new(store)), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampered_moved_and_foreign_backups_are_refused_before_the_target_is_touched() {
    let (source, _) = TestDb::catalog(10).await.unwrap();
    let work = tempfile::tempdir().unwrap();
    let (private, public) = keygen(work.path(), "k.pem");
    let (_, other_public) = keygen(work.path(), "other.pem");
    let store = work.path().join("store");
    let store_text = store.to_str().unwrap();
    let manifest = json_of(
        &cli()
            .args(["backup", "--json", "--database-url", &source.url])
            .args(["--store", store_text, "--signing-key", &private])
            .args(["--label", "release=1.45.0"])
            .assert()
            .success()
            .get_output()
            .stdout,
    );
    let id = manifest["id"].as_str().unwrap().to_string();
    let manifest_path = store.join(format!("{id}.sql.gz.manifest.json"));
    let original = std::fs::read_to_string(&manifest_path).unwrap();
    let target = TestDb::empty().await.unwrap();
    let server = TestDb::empty().await.unwrap();

    let refused_everywhere = |key: &str, selector: &str, says: &str| {
        for args in [
            vec!["verify", selector],
            vec!["restore", selector, "--yes", "--database-url", &target.url],
            vec!["drill", selector, "--database-url", &server.url],
        ] {
            cli()
                .args(&args)
                .args(["--store", store_text, "--signing-key", key])
                // Refused even when unsigned backups are allowed: this one is signed, wrongly.
                .arg("--allow-unsigned")
                .assert()
                .code(4)
                .stderr(contains(says));
        }
        assert_eq!(table_count(&target.url), "0", "the target was touched");
    };

    let edits: [(&str, serde_json::Value); 4] = [
        ("/labels/release", "9.9.9".into()),
        ("/trigger/kind", "scheduled".into()),
        ("/compressed/bytes", 1.into()),
        ("/database/name", "other".into()),
    ];
    for (pointer, value) in edits {
        let mut changed: serde_json::Value = serde_json::from_str(&original).unwrap();
        *changed.pointer_mut(pointer).unwrap() = value;
        std::fs::write(&manifest_path, changed.to_string()).unwrap();
        refused_everywhere(&public, &id, "changed after it was signed");
        cli()
            .args(["list", "--store", store_text, "--signing-key", &public])
            .assert()
            .success()
            .stdout(contains("BAD"))
            .stdout(contains("refused: its signature does not match"));
    }
    std::fs::write(&manifest_path, &original).unwrap();
    refused_everywhere(&other_public, &id, "signed by key");

    // The whole signed backup copied under a newer name.
    let moved = format!("{}235959", &id[..id.len() - 6]);
    for part in [".sql.gz", ".sql.gz.sha256", ".sql.gz.manifest.json"] {
        std::fs::copy(
            store.join(format!("{id}{part}")),
            store.join(format!("{moved}{part}")),
        )
        .unwrap();
    }
    refused_everywhere(&public, &moved, "copied or renamed");
    // `latest` is the moved copy; health does not count it for the RPO.
    cli()
        .args(["health", "--store", store_text, "--signing-key", &public])
        .assert()
        .code(1)
        .stdout(contains("refused by the signature check"));
    cli()
        .args([
            "verify",
            &id,
            "--store",
            store_text,
            "--signing-key",
            &public,
        ])
        .assert()
        .success();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsigned_backups_need_allow_unsigned_and_openssl_keys_work_from_a_file_or_the_environment()
{
    let (source, _) = TestDb::catalog(10).await.unwrap();
    let work = tempfile::tempdir().unwrap();
    let private = work.path().join("openssl.pem");
    let public = work.path().join("openssl.pub.pem");
    let ok = |cmd: &mut Command| assert!(cmd.status().unwrap().success());
    ok(Command::new("openssl")
        .args(["genpkey", "-algorithm", "ed25519", "-out"])
        .arg(&private));
    ok(Command::new("openssl")
        .arg("pkey")
        .arg("-in")
        .arg(&private)
        .arg("-pubout")
        .arg("-out")
        .arg(&public));
    let private_pem = std::fs::read_to_string(&private).unwrap();

    // A runbook file: no manifest, so no signature.
    let runbook = work.path().join("catalog.sql.gz");
    let dump = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "pg_dump '{}' | gzip > '{}'",
            source.url,
            runbook.display()
        ))
        .status()
        .unwrap();
    assert!(dump.success());
    let target = TestDb::empty().await.unwrap();
    cli()
        .args(["restore", runbook.to_str().unwrap(), "--yes"])
        .args(["--database-url", &target.url, "--signing-key"])
        .arg(&public)
        .assert()
        .code(4)
        .stderr(contains("is not signed"))
        .stderr(contains("--allow-unsigned"));
    assert_eq!(table_count(&target.url), "0");
    cli()
        .args(["restore", runbook.to_str().unwrap(), "--yes"])
        .args([
            "--database-url",
            &target.url,
            "--allow-unsigned",
            "--signing-key",
        ])
        .arg(&public)
        .assert()
        .success();
    assert_eq!(fingerprint(&target).await, fingerprint(&source).await);

    // The key as PEM text in the environment (a Kubernetes secret), never shown by --help.
    let store = work.path().join("store");
    let manifest = json_of(
        &cli()
            .args(["backup", "--json", "--database-url", &source.url, "--store"])
            .arg(&store)
            .env("BACKSTAGE_BACKUP_SIGNING_KEY", &private_pem)
            .assert()
            .success()
            .get_output()
            .stdout,
    );
    assert!(manifest["signature"]["value"].is_string());
    cli()
        .args(["verify", "latest", "--store"])
        .arg(&store)
        .env("BACKSTAGE_BACKUP_SIGNING_KEY", &public)
        .assert()
        .success();
    let help = cli()
        .args(["backup", "--help"])
        .env("BACKSTAGE_BACKUP_SIGNING_KEY", &private_pem)
        .assert()
        .success();
    let help = String::from_utf8_lossy(&help.get_output().stdout).to_string();
    assert!(!help.contains("PRIVATE KEY"), "{help}");

    // Bad keys: named by where they came from, never echoed.
    let secret = work.path().join("not-a-key.pem");
    std::fs::write(
        &secret,
        "-----BEGIN PRIVATE KEY-----\nhunter2-secret\n-----END PRIVATE KEY-----\n",
    )
    .unwrap();
    for key in [
        secret.to_str().unwrap(),
        "/dev/zero",
        "/nonexistent/key.pem",
    ] {
        let out = cli()
            .args(["verify", "latest", "--store"])
            .arg(&store)
            .args(["--signing-key", key])
            .assert()
            .code(2);
        let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
        assert!(stderr.contains(key), "{stderr}");
        assert!(!stderr.contains("hunter2"), "{stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    }
    let out = cli()
        .args(["verify", "latest", "--store"])
        .arg(&store)
        .env(
            "BACKSTAGE_BACKUP_SIGNING_KEY",
            "-----BEGIN PUBLIC KEY-----\nhunter2\n-----END PUBLIC KEY-----",
        )
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).to_string();
    assert!(stderr.contains("BACKSTAGE_BACKUP_SIGNING_KEY"), "{stderr}");
    assert!(!stderr.contains("hunter2"), "{stderr}");
}
