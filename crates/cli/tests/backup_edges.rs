//! Locks, app-config resolution, legacy runbook backups, interrupted runs, secrets and bad input.

mod common;

use std::process::{Command, Stdio};

use backstage_backup_testkit::TestDb;
use common::*;
use predicates::prelude::PredicateBooleanExt;
use predicates::str::contains;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_backup_of_a_locked_database_fails_fast() {
    let (db, _) = TestDb::catalog(20).await.unwrap();
    let holder = db.client().await.unwrap();
    // The same advisory lock a running backup holds.
    holder
        .execute(
            "SELECT pg_advisory_lock(4342347, hashtext(current_database()))",
            &[],
        )
        .await
        .unwrap();
    let store = tempfile::tempdir().unwrap();
    cli()
        .args(["backup", "--database-url", &db.url, "--store"])
        .arg(store.path())
        .timeout(std::time::Duration::from_secs(30))
        .assert()
        .code(5)
        .stderr(contains("already running"));
    assert_eq!(files_in(store.path()), Vec::<String>::new());
    holder
        .execute(
            "SELECT pg_advisory_unlock(4342347, hashtext(current_database()))",
            &[],
        )
        .await
        .unwrap();
    cli()
        .args(["backup", "--database-url", &db.url, "--store"])
        .arg(store.path())
        .assert()
        .success();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_database_is_found_in_a_backstage_app_config() {
    let (db, summary) = TestDb::catalog(30).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("app-config.yaml");
    std::fs::write(
        &config,
        "backend:\n  database:\n    client: pg\n    connection:\n      host: ${PG_TEST_HOST}\n      port: 5432\n      user: postgres\n      password: ${POSTGRES_PASSWORD}\n",
    )
    .unwrap();
    // A second file names the catalog's database, as an app-config.production.yaml might.
    let local = dir.path().join("app-config.local.yaml");
    std::fs::write(
        &local,
        format!("backend:\n  database:\n    plugin:\n      catalog:\n        connection:\n          database: {}\n", db.name),
    )
    .unwrap();
    let store = dir.path().join("backups");
    let manifest = json_of(
        &cli()
            .env("PG_TEST_HOST", "127.0.0.1")
            .env("POSTGRES_PASSWORD", "Sup3rS3cretPw")
            .args(["backup", "--json", "--app-config"])
            .arg(&config)
            .arg(&local)
            .arg("--store")
            .arg(&store)
            .assert()
            .success()
            .stdout(contains("Sup3rS3cretPw").not())
            .get_output()
            .stdout,
    );
    assert_eq!(manifest["database"]["name"], db.name.as_str());
    assert_eq!(manifest["database"]["plugin_id"], "catalog");
    assert!(manifest["id"]
        .as_str()
        .unwrap()
        .starts_with("backstage-catalog-"));
    assert_eq!(
        manifest["entities"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_u64().unwrap())
            .sum::<u64>(),
        summary.total
    );
    // The password is nowhere in what the backup left.
    for file in files_in(&store) {
        let bytes = std::fs::read(store.join(&file)).unwrap();
        assert!(
            !String::from_utf8_lossy(&bytes).contains("Sup3rS3cretPw"),
            "{file}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_runbook_backup_lists_as_legacy_verifies_and_a_truncated_one_fails() {
    let (db, _) = TestDb::catalog(20).await.unwrap();
    let store = tempfile::tempdir().unwrap();
    let legacy = store
        .path()
        .join("backstage-catalog-20250101_000000.sql.gz");
    // The runbook: pg_dump | gzip > backups/backstage-catalog-YYYYMMDD_HHMMSS.sql.gz
    let status = Command::new("sh")
        .arg("-c")
        .arg("pg_dump \"$1\" | gzip > \"$2\"")
        .args(["sh", &db.url])
        .arg(&legacy)
        .status()
        .unwrap();
    assert!(status.success());
    let list = list_json(store.path());
    assert_eq!(list[0]["status"], "legacy");
    cli()
        .args(["verify", "latest", "--store"])
        .arg(store.path())
        .assert()
        .success()
        .stdout(contains("legacy"));
    // Verified by path, anywhere on disk, under any name.
    let elsewhere = tempfile::tempdir().unwrap();
    let copy = elsewhere.path().join("latest-backup.sql.gz");
    std::fs::copy(&legacy, &copy).unwrap();
    cli().arg("verify").arg(&copy).assert().success();
    let bytes = std::fs::read(&copy).unwrap();
    std::fs::write(&copy, &bytes[..bytes.len() - 100]).unwrap();
    cli()
        .arg("verify")
        .arg(&copy)
        .assert()
        .code(4)
        .stdout(contains("FAILED"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_killed_mid_way_is_never_listed_complete_and_the_next_run_clears_it() {
    let db = bulky_db(1_500_000).await;
    let store = tempfile::tempdir().unwrap();
    let mut child = cli_std()
        .args(["backup", "--database-url", &db.url, "--store"])
        .arg(store.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait for the staged data file to grow, then SIGKILL: no clean-up code runs.
    let started = std::time::Instant::now();
    loop {
        let staged = files_in(store.path())
            .into_iter()
            .filter(|f| f.contains(".tmp-"))
            .map(|f| {
                std::fs::metadata(store.path().join(f))
                    .map(|m| m.len())
                    .unwrap_or(0)
            })
            .sum::<u64>();
        if staged > 1 << 20 {
            break;
        }
        assert!(started.elapsed().as_secs() < 60, "nothing was staged");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let list = list_json(store.path());
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list[0]["status"], "incomplete");
    cli()
        .args(["verify", "latest", "--store"])
        .arg(store.path())
        .assert()
        .code(3);

    cli()
        .args(["backup", "--database-url", &db.url, "--store"])
        .arg(store.path())
        .assert()
        .success();
    let list = list_json(store.path());
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list[0]["status"], "complete");
    assert!(
        files_in(store.path()).iter().all(|f| !f.starts_with('.')),
        "{:?}",
        files_in(store.path())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_existing_dump_is_backed_up_from_a_file_or_stdin_but_only_when_complete() {
    let (db, _) = TestDb::catalog(20).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let dump = dir.path().join("dump.sql");
    let out = Command::new("pg_dump").arg(&db.url).output().unwrap();
    assert!(out.status.success());
    std::fs::write(&dump, &out.stdout).unwrap();
    let store = dir.path().join("store");
    cli()
        .args(["backup", "--from-file"])
        .arg(&dump)
        .arg("--store")
        .arg(&store)
        .assert()
        .success();
    cli()
        .args([
            "backup",
            "--from-file",
            "-",
            "--plugin-id",
            "scaffolder",
            "--store",
        ])
        .arg(&store)
        .write_stdin(out.stdout.clone())
        .assert()
        .success();
    let list = list_json(&store);
    assert_eq!(list.as_array().unwrap().len(), 2);
    let half = &out.stdout[..out.stdout.len() / 2];
    cli()
        .args(["backup", "--from-file", "-", "--store"])
        .arg(&store)
        .write_stdin(half.to_vec())
        .assert()
        .code(1)
        .stderr(contains("not a complete plain-format dump"));
    let list = list_json(&store);
    assert_eq!(list.as_array().unwrap().len(), 2, "{list}");
}

#[test]
fn bad_input_gets_one_clear_message_and_exit_2() {
    for (args, says) in [
        (
            vec!["backup", "--database-url", "mysql://u:hunter2@h/db"],
            "must start with postgresql://",
        ),
        (
            vec![
                "backup",
                "--database-url",
                "postgresql://postgres@127.0.0.1/x",
                "--store",
                "gs://b/x",
            ],
            "unsupported store scheme",
        ),
        (
            vec![
                "backup",
                "--database-url",
                "postgresql://postgres@127.0.0.1/x",
                "--store",
                "s3://k:hunter2@bucket/x",
            ],
            "carries credentials",
        ),
        (
            vec![
                "backup",
                "--database-url",
                "postgresql://postgres@127.0.0.1/x",
                "--label",
                "nolabel",
            ],
            "KEY=VALUE",
        ),
        (vec!["backup"], "no database given"),
        (
            vec![
                "verify",
                "../../etc/passwd-20250101_000000",
                "--store",
                "/nonexistent",
            ],
            "not",
        ),
        (
            vec!["verify", "backstage-catalog-2025\u{7}0101_000000"],
            "is not a backup id",
        ),
    ] {
        let assert = cli().args(&args).assert();
        let out = assert.get_output();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(says), "{args:?}: {stderr}");
        assert!(!stderr.contains("hunter2"), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(
            matches!(out.status.code(), Some(2) | Some(3)),
            "{args:?}: {:?}",
            out.status
        );
    }
    cli().args(["backup", "--level", "12"]).assert().code(2);
    let json = json_of(
        &cli()
            .args([
                "backup",
                "--json",
                "--database-url",
                "postgresql://x@127.0.0.1/x",
                "--store",
                "ftp://x",
            ])
            .assert()
            .code(2)
            .get_output()
            .stdout,
    );
    assert_eq!(json["error"]["code"], "E_INVALID");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_connections_follow_libpq_sslmode() {
    // Debian's PostgreSQL serves TLS with its snakeoil certificate (CN and SAN: localhost).
    let (db, _) = TestDb::catalog(10).await.unwrap();
    let store = tempfile::tempdir().unwrap();
    let ca = "/etc/ssl/certs/ssl-cert-snakeoil.pem";
    let url =
        |host: &str, query: &str| format!("postgresql://postgres@{host}:5432/{}?{query}", db.name);
    for good in [
        url("127.0.0.1", "sslmode=require"),
        url(
            "localhost",
            &format!("sslmode=verify-full&sslrootcert={ca}"),
        ),
    ] {
        cli()
            .args(["backup", "--database-url", &good, "--store"])
            .arg(store.path())
            .assert()
            .success();
    }
    // The certificate does not name 127.0.0.1: verify-full must refuse, and say why.
    cli()
        .args([
            "backup",
            "--database-url",
            &url(
                "127.0.0.1",
                &format!("sslmode=verify-full&sslrootcert={ca}"),
            ),
        ])
        .arg("--store")
        .arg(store.path())
        .assert()
        .code(1)
        .stderr(contains("certificate not valid for name"))
        .stderr(contains("check sslmode and sslrootcert"));
    cli()
        .args([
            "backup",
            "--database-url",
            &url("localhost", "sslmode=verify-full&sslrootcert=/etc/hostname"),
        ])
        .arg("--store")
        .arg(store.path())
        .assert()
        .code(2)
        .stderr(contains("holds no PEM certificate"));
    let list = list_json(store.path());
    assert_eq!(list.as_array().unwrap().len(), 2);
}

/// The CLI runs itself once with glibc's mmap threshold fixed (steady peak RSS): the process
/// that does the work, under the same pid and argv[0], has it in its environment.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[test]
fn the_cli_runs_with_a_fixed_mmap_threshold() {
    let store = tempfile::tempdir().unwrap();
    let mut child = cli_std()
        .env_remove("MALLOC_MMAP_THRESHOLD_")
        .args(["backup", "--from-file", "-", "--store"])
        .arg(store.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // It waits for the dump on stdin, held open here, so it is still running while we look.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let environ = loop {
        let environ = std::fs::read(format!("/proc/{}/environ", child.id())).unwrap_or_default();
        let environ = String::from_utf8_lossy(&environ).replace('\0', "\n");
        if environ.contains("MALLOC_MMAP_THRESHOLD_") || std::time::Instant::now() > deadline {
            break environ;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let cmdline = std::fs::read(format!("/proc/{}/cmdline", child.id())).unwrap_or_default();
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        environ
            .lines()
            .any(|l| l == "MALLOC_MMAP_THRESHOLD_=4194304"),
        "{environ}"
    );
    let arg0 = cmdline.split(|b| *b == 0).next().unwrap_or_default();
    assert!(
        String::from_utf8_lossy(arg0).ends_with("backstage-backup"),
        "{cmdline:?}"
    );
}

/// Labels and other strings read back from a manifest in the store are untrusted: terminal
/// escapes in them are shown escaped by `list`, in text and in JSON (C1 controls too).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terminal_escapes_planted_in_a_manifest_are_never_printed_raw() {
    let (db, _) = TestDb::catalog(20).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().to_str().unwrap();
    let name = backup_json(&db, store)["name"]
        .as_str()
        .unwrap()
        .to_string();
    let path = dir.path().join(format!("{name}.manifest.json"));
    let mut manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    manifest["labels"] = serde_json::json!({"k\u{1b}[2J": "v\u{1b}]0;pwned\u{7}\u{9b}31m"});
    std::fs::write(&path, serde_json::to_vec(&manifest).unwrap()).unwrap();
    for args in [vec!["list"], vec!["list", "--json"]] {
        let out = cli()
            .args(&args)
            .args(["--store", store])
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        let text = String::from_utf8(out).unwrap();
        assert!(
            !text.chars().any(|c| c.is_control() && c != '\n'),
            "{args:?} printed a control character: {text:?}"
        );
        assert!(text.contains("pwned"), "{args:?}: {text}");
    }
}
