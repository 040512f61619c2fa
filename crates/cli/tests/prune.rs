//! `prune` against a local folder and a real S3 server: exactly which objects remain.

mod common;

use chrono::{Duration, Utc};

use backstage_backup_testkit::{S3Server, TestDb};
use common::*;
use predicates::str::contains;

enum Target {
    Local(tempfile::TempDir),
    S3 {
        server: &'static S3Server,
        bucket: String,
    },
}

impl Target {
    fn url(&self) -> String {
        match self {
            Target::Local(dir) => dir.path().to_str().unwrap().to_string(),
            Target::S3 { server, bucket } => server.store_url(bucket, "p"),
        }
    }

    fn cli(&self) -> assert_cmd::Command {
        let mut cmd = cli();
        if let Target::S3 { server, .. } = self {
            with_s3(&mut cmd, server);
        }
        cmd
    }

    async fn put(&self, key: &str, body: Vec<u8>) {
        match self {
            Target::Local(dir) => std::fs::write(dir.path().join(key), body).unwrap(),
            Target::S3 { server, bucket } => {
                server
                    .client()
                    .await
                    .put_object()
                    .bucket(bucket)
                    .key(format!("p/{key}"))
                    .body(body.into())
                    .send()
                    .await
                    .unwrap();
            }
        }
    }

    async fn keys(&self) -> Vec<String> {
        let mut keys = match self {
            Target::Local(dir) => files_in(dir.path()),
            Target::S3 { server, bucket } => server
                .list_keys(bucket, "p/")
                .await
                .unwrap()
                .into_iter()
                .map(|k| k.trim_start_matches("p/").to_string())
                .collect(),
        };
        keys.sort();
        keys
    }
}

fn stamp(t: chrono::DateTime<Utc>) -> String {
    format!("backstage-catalog-{}", t.format("%Y%m%d_%H%M%S"))
}

/// A history of complete backups (copies of one real backup under older names), a verified old
/// one, a legacy runbook file, a foreign file, and unfinished leftovers old and new.
async fn history(target: &Target, db: &TestDb) -> (String, Vec<String>) {
    let manifest = json_of(
        &target
            .cli()
            .args([
                "backup",
                "--json",
                "--database-url",
                &db.url,
                "--store",
                &target.url(),
            ])
            .assert()
            .success()
            .get_output()
            .stdout,
    );
    let real = manifest["id"].as_str().unwrap().to_string();
    let data = {
        let mut cmd = target.cli();
        let _ = &mut cmd;
        match target {
            Target::Local(dir) => {
                std::fs::read(dir.path().join(manifest["name"].as_str().unwrap())).unwrap()
            }
            Target::S3 { server, bucket } => server
                .client()
                .await
                .get_object()
                .bucket(bucket)
                .key(format!("p/{}", manifest["name"].as_str().unwrap()))
                .send()
                .await
                .unwrap()
                .body
                .collect()
                .await
                .unwrap()
                .to_vec(),
        }
    };
    let now = Utc::now();
    let mut ids = Vec::new();
    for days in [1, 2, 3, 10, 40, 100, 400] {
        let t = now - Duration::days(days);
        let id = stamp(t);
        let name = format!("{id}.sql.gz");
        let mut m = manifest.clone();
        m["id"] = id.clone().into();
        m["name"] = name.clone().into();
        m["created_at"] = serde_json::to_value(t).unwrap();
        m["finished_at"] = serde_json::to_value(t).unwrap();
        target.put(&name, data.clone()).await;
        target
            .put(
                &format!("{name}.sha256"),
                format!(
                    "{}  {name}\n",
                    manifest["compressed"]["sha256"].as_str().unwrap()
                )
                .into_bytes(),
            )
            .await;
        target
            .put(&format!("{name}.manifest.json"), m.to_string().into_bytes())
            .await;
        if days == 100 {
            let record = serde_json::json!({"at": now, "ok": true, "duration_ms": 5});
            target
                .put(
                    &format!("{name}.verify.json"),
                    record.to_string().into_bytes(),
                )
                .await;
        }
        ids.push(id);
    }
    target
        .put("backstage-catalog-20200101_000000.sql.gz", data.clone())
        .await;
    target.put("notes.txt", b"not ours".to_vec()).await;
    let old_leftover = stamp(now - Duration::days(5));
    target
        .put(&format!("{old_leftover}.sql.gz"), data.clone())
        .await;
    target
        .put(&format!("{old_leftover}.sql.gz.incomplete"), b"{}".to_vec())
        .await;
    let fresh_leftover = stamp(now - Duration::minutes(10));
    target
        .put(
            &format!("{fresh_leftover}.sql.gz.incomplete"),
            b"{}".to_vec(),
        )
        .await;
    ids.push(old_leftover);
    ids.push(fresh_leftover);
    (real, ids)
}

async fn prune_keeps_exactly_what_the_policy_says(target: Target) {
    let (db, _) = TestDb::catalog(20).await.unwrap();
    let (real, ids) = history(&target, &db).await;
    let before = target.keys().await;
    // Dry run: the plan with reasons, nothing changed.
    target
        .cli()
        .args([
            "prune",
            "--keep-last",
            "2",
            "--keep-within",
            "3d12h",
            "--dry-run",
            "--store",
            &target.url(),
        ])
        .assert()
        .success()
        .stdout(contains("newest verified backup"))
        .stdout(contains("would delete"));
    assert_eq!(target.keys().await, before);

    let report = json_of(
        &target
            .cli()
            .args([
                "prune",
                "--json",
                "--keep-last",
                "2",
                "--keep-within",
                "3d12h",
                "--store",
                &target.url(),
            ])
            .assert()
            .success()
            .get_output()
            .stdout,
    );
    let mut deleted: Vec<String> = report["deleted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    deleted.sort();
    // 1, 2, 3 days: within 3d12h (and the last 2); 100 days: the newest verified one.
    let mut expected = vec![ids[3].clone(), ids[4].clone(), ids[6].clone()];
    expected.sort();
    assert_eq!(deleted, expected, "{report}");
    let mut remaining = Vec::new();
    for id in [&real, &ids[0], &ids[1], &ids[2], &ids[5]] {
        for suffix in ["", ".manifest.json", ".sha256"] {
            remaining.push(format!("{id}.sql.gz{suffix}"));
        }
    }
    remaining.push(format!("{}.sql.gz.verify.json", ids[5]));
    remaining.push("backstage-catalog-20200101_000000.sql.gz".into());
    remaining.push("notes.txt".into());
    remaining.push(format!("{}.sql.gz.incomplete", ids[8]));
    remaining.sort();
    let keys: Vec<String> = target
        .keys()
        .await
        .into_iter()
        .filter(|k| !k.starts_with('.'))
        .collect();
    assert_eq!(keys, remaining, "{report}");
    assert_eq!(report["leftovers"]["removed_backups"][0], ids[7].as_str());
    assert_eq!(report["untouched"][0], "backstage-catalog-20200101_000000");

    // A prune already running (its lock held and fresh) blocks a second one.
    let expires = Utc::now() + Duration::minutes(5);
    target
        .put(
            "backstage-backup.lock",
            serde_json::json!({"token": "t", "purpose": "prune", "pid": 1, "acquired_at": Utc::now(), "expires_at": expires})
                .to_string()
                .into_bytes(),
        )
        .await;
    target
        .cli()
        .args(["prune", "--keep-last", "1", "--store", &target.url()])
        .assert()
        .code(5)
        .stderr(contains("holds the lock"));
    // An expired lock (its holder died) is taken over.
    let expired = Utc::now() - Duration::minutes(1);
    target
        .put(
            "backstage-backup.lock",
            serde_json::json!({"token": "t", "purpose": "prune", "pid": 1, "acquired_at": expired, "expires_at": expired})
                .to_string()
                .into_bytes(),
        )
        .await;
    target
        .cli()
        .args(["prune", "--keep-last", "50", "--store", &target.url()])
        .assert()
        .success();
    assert!(!target
        .keys()
        .await
        .contains(&"backstage-backup.lock".to_string()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prune_in_a_local_folder() {
    prune_keeps_exactly_what_the_policy_says(Target::Local(tempfile::tempdir().unwrap())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prune_in_s3() {
    let server = S3Server::shared().await.unwrap();
    let bucket = server.create_bucket().await.unwrap();
    prune_keeps_exactly_what_the_policy_says(Target::S3 { server, bucket }).await;
}

#[test]
fn absurd_retention_values_are_refused() {
    for (args, says) in [
        (vec!["prune"], "no retention rule"),
        (
            vec!["prune", "--keep-last", "1000000"],
            "more than the limit",
        ),
        (vec!["prune", "--keep-within", "10x"], "not a duration"),
        (vec!["prune", "--keep-within", "500y"], "100 years"),
        // Rules that keep nothing are no policy (as restic reads them), not "delete all".
        (vec!["prune", "--keep-last", "0"], "keeps nothing"),
        (vec!["prune", "--keep-within", "0d"], "keeps nothing"),
        (
            vec!["prune", "--keep-daily", "0", "--keep-weekly", "0"],
            "keeps nothing",
        ),
    ] {
        cli()
            .args(&args)
            .args(["--store", "/nonexistent-store"])
            .assert()
            .code(2)
            .stderr(contains(says));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prune_during_a_backup_leaves_the_running_backup_alone() {
    let source = bulky_db(1_500_000).await;
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().to_str().unwrap();
    let older = backup_json(&source, store);
    let running = spawn_cli(&[
        "backup",
        "--json",
        "--database-url",
        &source.url,
        "--store",
        store,
    ]);
    // Prune while the second backup is still being written: its leftovers are fresh (inside
    // the grace period) and it is not complete, so nothing of it is a candidate.
    wait_until("the backup never staged a file", || {
        files_in(dir.path()).iter().any(|f| f.starts_with('.'))
    })
    .await;
    let report = prune_keep_last_1(store);
    assert_eq!(report["deleted"], serde_json::json!([]), "{report}");
    let output = running.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let newer = json_of(&output.stdout);
    let ids: Vec<String> = list_json(store)
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["status"] == "complete")
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        ids,
        vec![newer["id"].as_str().unwrap(), older["id"].as_str().unwrap()]
    );
}

/// Waits (up to a minute) until `done` holds.
async fn wait_until(what: &str, done: impl Fn() -> bool) {
    let started = std::time::Instant::now();
    while !done() {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "{what}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// Starts the CLI in the background, its output captured.
fn spawn_cli(args: &[&str]) -> std::process::Child {
    cli_std()
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

fn prune_keep_last_1(store: &str) -> serde_json::Value {
    json_of(
        &cli()
            .args(["prune", "--keep-last", "1", "--json", "--store", store])
            .assert()
            .success()
            .get_output()
            .stdout,
    )
}

fn hold_files(dir: &std::path::Path) -> Vec<String> {
    files_in(dir)
        .into_iter()
        .filter(|f| f.starts_with("backstage-backup.reading."))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prune_spares_a_backup_while_a_drill_reads_it() {
    let source = bulky_db(1_500_000).await;
    let server = TestDb::empty().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().to_str().unwrap();
    let older = backup_json(&source, store)["id"]
        .as_str()
        .unwrap()
        .to_string();
    let newer = backup_json(&source, store)["id"]
        .as_str()
        .unwrap()
        .to_string();
    // A hold whose reader died long ago: it must neither spare anything nor stay.
    let stale = format!("backstage-backup.reading.{newer}.1700000000.verify.1-1");
    std::fs::write(dir.path().join(&stale), b"{}").unwrap();
    let drill = spawn_cli(&[
        "drill",
        &older,
        "--json",
        "--database-url",
        &server.url,
        "--store",
        store,
    ]);
    wait_until("the drill never held its backup", || {
        hold_files(dir.path()).len() == 2
    })
    .await;
    let report = prune_keep_last_1(store);
    assert_eq!(report["deleted"], serde_json::json!([]), "{report}");
    let decision = report["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == older.as_str())
        .unwrap();
    assert_eq!(decision["keep"], true, "{report}");
    assert_eq!(
        decision["reasons"],
        serde_json::json!(["being read (drill)"]),
        "{report}"
    );
    let holds = hold_files(dir.path());
    assert!(!holds.contains(&stale), "{holds:?}");
    assert_eq!(holds.len(), 1, "{holds:?}");
    assert!(holds[0].contains(&format!(".{older}.")), "{holds:?}");

    let output = drill.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(json_of(&output.stdout)["ok"], true);
    // The drill let go of the backup: the next prune applies the policy.
    assert_eq!(hold_files(dir.path()), Vec::<String>::new());
    let report = prune_keep_last_1(store);
    assert_eq!(report["deleted"], serde_json::json!([older]), "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_that_starts_during_a_prune_waits_and_says_the_prune_deleted_its_backup() {
    let source = TestDb::empty().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().to_str().unwrap();
    let manifest = backup_json(&source, store);
    let id = manifest["id"].as_str().unwrap();
    // A prune holds the store lock (as another process's would).
    let now = Utc::now();
    let lock = serde_json::json!({
        "token": "other", "purpose": "prune", "pid": 1,
        "acquired_at": now, "expires_at": now + Duration::minutes(30),
    });
    std::fs::write(dir.path().join("backstage-backup.lock"), lock.to_string()).unwrap();
    let mut verify = spawn_cli(&["verify", id, "--store", store]);
    wait_until("the verify never wrote its hold", || {
        !hold_files(dir.path()).is_empty()
    })
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(
        verify.try_wait().unwrap().is_none(),
        "verify must wait for the prune"
    );
    // The prune deletes the backup (manifest first) and ends.
    for file in files_in(dir.path()) {
        if file.starts_with(id) {
            std::fs::remove_file(dir.path().join(&file)).unwrap();
        }
    }
    std::fs::remove_file(dir.path().join("backstage-backup.lock")).unwrap();
    let output = verify.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "{id} was deleted by a prune that ran as this verify started"
        )),
        "{stderr}"
    );
    assert_eq!(files_in(dir.path()), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_credentials_still_verify_a_backup_they_cannot_hold() {
    let s3 = S3Server::shared().await.unwrap();
    let bucket = s3.create_bucket().await.unwrap();
    let store = s3.store_url(&bucket, "ro");
    let source = TestDb::empty().await.unwrap();
    let manifest = json_of(
        &cli_s3(s3)
            .args(["backup", "--json", "--database-url", &source.url, "--store"])
            .arg(&store)
            .assert()
            .success()
            .get_output()
            .stdout,
    );
    let id = manifest["id"].as_str().unwrap();
    let before = s3.list_keys(&bucket, "ro/").await.unwrap();
    // These keys can write nothing: no hold, no verify record; the verdict still stands.
    let mut verify = cli();
    verify.envs(s3.read_only_env());
    verify
        .args(["verify", id, "--store", &store])
        .assert()
        .success()
        .stdout(contains(format!("OK {id}")));
    assert_eq!(s3.list_keys(&bucket, "ro/").await.unwrap(), before);
    // The same keys cannot write: a backup with them fails (so the test above is read-only).
    let mut backup = cli();
    backup.envs(s3.read_only_env());
    backup
        .args(["backup", "--database-url", &source.url, "--store", &store])
        .assert()
        .failure();
}
