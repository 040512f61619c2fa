//! `backstage-backup backup`, `list` and `verify` against real PostgreSQL with the real catalog
//! schema, into a local folder and a real S3 server.

mod common;

use std::process::Command;

use backstage_backup_testkit::{S3Server, TestDb};
use common::*;
use predicates::str::contains;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_round_trips_through_the_runbooks_restore() {
    let (source, summary) = TestDb::catalog(300).await.unwrap();
    let store = tempfile::tempdir().unwrap();

    let out = cli()
        .args(["backup", "--json", "--database-url", &source.url, "--store"])
        .arg(store.path())
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let manifest = json_of(&out);
    assert_eq!(manifest["format"], "backstage-backup/v1");
    assert_eq!(manifest["database"]["name"], source.name.as_str());
    // Counts were read in the dump's own snapshot and match what the fixture wrote.
    let entities: std::collections::BTreeMap<String, u64> =
        serde_json::from_value(manifest["entities"].clone()).unwrap();
    assert_eq!(entities, summary.counts_by_kind);
    assert!(manifest["database"]["latest_migration"]
        .as_str()
        .unwrap()
        .ends_with(".js"));
    // The summary a person reads calls the migration what it is.
    let other = tempfile::tempdir().unwrap();
    let human = cli()
        .args(["backup", "--database-url", &source.url, "--store"])
        .arg(other.path())
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let human = String::from_utf8_lossy(&human);
    let line = human
        .lines()
        .find(|l| l.trim_start().starts_with("migration "))
        .unwrap_or_else(|| panic!("no migration line in {human}"));
    assert!(
        line.contains(".js (the database's latest knex migration)"),
        "{line}"
    );
    assert!(!human.contains("schema"), "{human}");

    let name = manifest["name"].as_str().unwrap();
    let data = store.path().join(name);
    // The runbook's own checks accept what we wrote.
    let sha = Command::new("sha256sum")
        .args(["-c", &format!("{name}.sha256")])
        .current_dir(store.path())
        .output()
        .unwrap();
    assert!(
        sha.status.success(),
        "{}",
        String::from_utf8_lossy(&sha.stdout)
    );
    assert!(Command::new("gunzip")
        .arg("-t")
        .arg(&data)
        .status()
        .unwrap()
        .success());
    // Files are private to their owner.
    use std::os::unix::fs::PermissionsExt;
    for file in files_in(store.path()) {
        let mode = std::fs::metadata(store.path().join(&file))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{file}");
    }

    let target = TestDb::empty().await.unwrap();
    runbook_restore(&data, &target);
    assert_eq!(fingerprint(&target).await, fingerprint(&source).await);

    cli()
        .args(["verify", "latest", "--store"])
        .arg(store.path())
        .assert()
        .success()
        .stdout(contains("OK backstage-"));
    let list = list_json(store.path());
    assert_eq!(list[0]["id"], manifest["id"]);
    assert_eq!(list[0]["status"], "complete");
    assert_eq!(list[0]["entities"], manifest["entities"]);
    assert!(list[0]["verified_at"].is_string(), "{list}");
    assert_eq!(list[0]["trigger"], "manual");
}

fn flip_byte(path: &std::path::Path, at: usize) {
    let mut bytes = std::fs::read(path).unwrap();
    bytes[at] ^= 0x40;
    std::fs::write(path, bytes).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_catches_a_flipped_byte_a_truncated_object_and_a_truncated_dump() {
    let (source, _) = TestDb::catalog(100).await.unwrap();
    let store = tempfile::tempdir().unwrap();
    let backup = |extra: &[&str]| {
        json_of(
            &cli()
                .args(["backup", "--json", "--database-url", &source.url, "--store"])
                .arg(store.path())
                .args(extra)
                .assert()
                .success()
                .get_output()
                .stdout,
        )
    };
    let verify = |id: &str| {
        cli()
            .args(["verify", id, "--json", "--store"])
            .arg(store.path())
            .assert()
    };

    // A flipped byte in the middle.
    let flipped = backup(&[]);
    let path = store.path().join(flipped["name"].as_str().unwrap());
    flip_byte(&path, std::fs::metadata(&path).unwrap().len() as usize / 2);
    let report = json_of(
        &verify(flipped["id"].as_str().unwrap())
            .code(4)
            .get_output()
            .stdout,
    );
    assert_eq!(report["ok"], false);

    // A truncated object.
    let cut = backup(&[]);
    let path = store.path().join(cut["name"].as_str().unwrap());
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() * 2 / 3]).unwrap();
    let report = json_of(
        &verify(cut["id"].as_str().unwrap())
            .code(4)
            .get_output()
            .stdout,
    );
    assert!(
        report["problems"].to_string().contains("truncated"),
        "{report}"
    );

    // A dump cut short inside an intact gzip stream, with manifest and sidecar rewritten to
    // match: only the completion-line check can catch it.
    let short = backup(&[]);
    let name = short["name"].as_str().unwrap();
    let path = store.path().join(name);
    let mut dump = Vec::new();
    use std::io::{Read, Write};
    flate2::read::GzDecoder::new(std::fs::File::open(&path).unwrap())
        .read_to_end(&mut dump)
        .unwrap();
    let text = String::from_utf8(dump).unwrap();
    let cut_at = text.find("-- PostgreSQL database dump complete").unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&text.as_bytes()[..cut_at]).unwrap();
    let gz = gz.finish().unwrap();
    std::fs::write(&path, &gz).unwrap();
    use sha2::Digest;
    let gz_sha = hex::encode(sha2::Sha256::digest(&gz));
    let raw_sha = hex::encode(sha2::Sha256::digest(&text.as_bytes()[..cut_at]));
    std::fs::write(
        store.path().join(format!("{name}.sha256")),
        format!("{gz_sha}  {name}\n"),
    )
    .unwrap();
    let manifest_path = store.path().join(format!("{name}.manifest.json"));
    let mut manifest = json_of(&std::fs::read(&manifest_path).unwrap());
    manifest["compressed"] = serde_json::json!({"bytes": gz.len(), "sha256": gz_sha});
    manifest["raw"] = serde_json::json!({"bytes": cut_at, "sha256": raw_sha});
    std::fs::write(&manifest_path, manifest.to_string()).unwrap();
    let report = json_of(
        &verify(short["id"].as_str().unwrap())
            .code(4)
            .get_output()
            .stdout,
    );
    assert_eq!(report["problems"].as_array().unwrap().len(), 1, "{report}");
    assert!(
        report["problems"][0]
            .as_str()
            .unwrap()
            .contains("dump complete"),
        "{report}"
    );

    // list shows the failed verifications.
    let list = list_json(store.path());
    assert_eq!(list.as_array().unwrap().len(), 3);
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .all(|e| e["verified_ok"] == false),
        "{list}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_pg_dump_leaves_nothing_locally_or_in_s3() {
    // pg_dump itself fails: the role may connect but not read the table.
    let db = TestDb::empty().await.unwrap();
    let role = format!("{}_reader", db.name);
    let client = db.client().await.unwrap();
    client
        .batch_execute(&format!(
            "CREATE TABLE secret (x int); INSERT INTO secret VALUES (1); \
             DROP ROLE IF EXISTS {role}; CREATE ROLE {role} LOGIN;"
        ))
        .await
        .unwrap();
    let url = db.url_with_password(&role, "irrelevant-under-trust");
    let store = tempfile::tempdir().unwrap();
    let s3 = S3Server::shared().await.unwrap();
    let bucket = s3.create_bucket().await.unwrap();

    for target in [
        store.path().to_str().unwrap().to_string(),
        s3.store_url(&bucket, "catalog"),
    ] {
        cli_s3(s3)
            .args(["backup", "--database-url", &url, "--store", &target])
            .assert()
            .code(1)
            .stderr(contains("pg_dump failed"))
            .stderr(contains("permission denied"))
            .stderr(contains("irrelevant-under-trust").not());
        cli_s3(s3)
            .args(["list", "--store", &target])
            .assert()
            .success()
            .stdout(contains("No backups"));
    }
    assert_eq!(files_in(store.path()), Vec::<String>::new());
    assert_bucket_empty(s3, &bucket).await;
    client
        .batch_execute(&format!("DROP OWNED BY {role}; DROP ROLE {role};"))
        .await
        .ok();

    // A database that does not exist: a clear message, nothing written.
    let missing = format!("{}_missing", db.name);
    let url = db.url.replace(&db.name, &missing);
    cli()
        .args(["backup", "--database-url", &url, "--store"])
        .arg(store.path())
        .assert()
        .code(3)
        .stderr(contains(format!("database '{missing}' does not exist")));
    assert_eq!(files_in(store.path()), Vec::<String>::new());
}

use predicates::prelude::PredicateBooleanExt;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_to_s3_then_verify_and_list() {
    let (source, summary) = TestDb::catalog(200).await.unwrap();
    let s3 = S3Server::shared().await.unwrap();
    let bucket = s3.create_bucket().await.unwrap();
    let store = s3.store_url(&bucket, "backstage/prod");
    let manifest = json_of(
        &cli_s3(s3)
            .args([
                "backup",
                "--json",
                "--trigger",
                "pre-upgrade",
                "--label",
                "backstage=1.45.0",
            ])
            .args(["--database-url", &source.url, "--store", &store])
            .assert()
            .success()
            .get_output()
            .stdout,
    );
    assert_eq!(manifest["trigger"]["kind"], "pre-upgrade");
    assert_eq!(manifest["labels"]["backstage"], "1.45.0");
    let name = manifest["name"].as_str().unwrap();
    let mut keys = s3.list_keys(&bucket, "backstage/prod/").await.unwrap();
    keys.sort();
    assert_eq!(
        keys,
        vec![
            format!("backstage/prod/{name}"),
            format!("backstage/prod/{name}.manifest.json"),
            format!("backstage/prod/{name}.sha256"),
        ]
    );
    cli_s3(s3)
        .args(["verify", "latest", "--store", &store])
        .assert()
        .success();
    let list = json_of(
        &cli_s3(s3)
            .args(["list", "--json", "--store", &store])
            .assert()
            .success()
            .get_output()
            .stdout,
    );
    assert_eq!(list[0]["status"], "complete");
    assert_eq!(list[0]["verified_ok"], true);
    assert_eq!(
        list[0]["entities"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_u64().unwrap())
            .sum::<u64>(),
        summary.total
    );

    // The object in S3 restores with the runbook's `gunzip -c | psql`.
    let body = s3
        .client()
        .await
        .get_object()
        .bucket(&bucket)
        .key(format!("backstage/prod/{name}"))
        .send()
        .await
        .unwrap()
        .body
        .collect()
        .await
        .unwrap()
        .into_bytes();
    let local = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(local.path(), &body).unwrap();
    let target = TestDb::empty().await.unwrap();
    runbook_restore(local.path(), &target);
    assert_eq!(fingerprint(&target).await, fingerprint(&source).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_s3_server_stopped_mid_upload_fails_clearly_and_a_later_run_clears_the_upload() {
    // ~80 MB of dump that compresses poorly: several 8 MiB parts.
    let source = bulky_db(1_200_000).await;
    let mut s3 = S3Server::start().await.unwrap();
    let bucket = s3.create_bucket().await.unwrap();
    let store = s3.store_url(&bucket, "b");

    let mut cmd = cli_std();
    cmd.envs(s3.env())
        .args(["backup", "--database-url", &source.url, "--store", &store])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let child = cmd.spawn().unwrap();
    // Wait until the multipart upload is open, then stop the server under it.
    let started = std::time::Instant::now();
    while s3
        .open_multipart_uploads(&bucket)
        .await
        .unwrap_or_default()
        .is_empty()
    {
        assert!(started.elapsed().as_secs() < 60, "the upload never started");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    s3.kill();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("cannot reach"), "{stderr}");
    assert!(!stderr.contains(&s3.secret_key));

    s3.restart().await.unwrap();
    let list = json_of(
        &cli_s3(&s3)
            .args(["list", "--json", "--store", &store])
            .assert()
            .success()
            .get_output()
            .stdout,
    );
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .all(|e| e["status"] != "complete"),
        "{list}"
    );
    // The upload the dying run could not abort is still open; the next run clears it.
    assert!(!s3.open_multipart_uploads(&bucket).await.unwrap().is_empty());
    cli_s3(&s3)
        .args(["backup", "--database-url", &source.url, "--store", &store])
        .assert()
        .success();
    assert_eq!(
        s3.open_multipart_uploads(&bucket).await.unwrap(),
        Vec::<String>::new()
    );
    let list = json_of(
        &cli_s3(&s3)
            .args(["list", "--json", "--store", &store])
            .assert()
            .success()
            .get_output()
            .stdout,
    );
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list[0]["status"], "complete");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entity_counts_hold_with_and_without_the_entity_ref_column() {
    let (source, summary) = TestDb::catalog(120).await.unwrap();
    let store = tempfile::tempdir().unwrap();
    let store = store.path().to_str().unwrap();
    let counts = |manifest: serde_json::Value| -> std::collections::BTreeMap<String, u64> {
        serde_json::from_value(manifest["entities"].clone()).unwrap()
    };
    // Counted from the entity refs (the current schema)...
    assert_eq!(counts(backup_json(&source, store)), summary.counts_by_kind);
    // ...and from the entities' JSON in a catalog from before Backstage's 2024-10 migration.
    let client = source.client().await.unwrap();
    client
        .batch_execute("ALTER TABLE final_entities DROP COLUMN entity_ref")
        .await
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    assert_eq!(counts(backup_json(&source, store)), summary.counts_by_kind);
}
