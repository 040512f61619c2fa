//! `restore`, `drill`, `prune` and `health` against real PostgreSQL, the real catalog schema and
//! a real S3 server: the runbook's recovery half, each one command, safe by default.

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use backstage_backup_testkit::{S3Server, TestDb};
use common::*;
use predicates::str::contains;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_round_trip_refusal_clean_and_safety_backup() {
    let (source, summary) = TestDb::catalog(300).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().to_str().unwrap();
    let manifest = backup_json(&source, store);
    let id = manifest["id"].as_str().unwrap();

    // Into a database that does not exist yet: created, then loaded.
    let target = TestDb::empty().await.unwrap();
    target
        .client()
        .await
        .unwrap()
        .batch_execute("SELECT 1")
        .await
        .unwrap();
    let report = json_of(
        &cli()
            .args([
                "restore",
                id,
                "--yes",
                "--json",
                "--database-url",
                &target.url,
                "--store",
                store,
            ])
            .assert()
            .success()
            .get_output()
            .stdout,
    );
    assert_eq!(fingerprint(&target).await, fingerprint(&source).await);
    assert_eq!(report["entities"], manifest["entities"]);
    // The same values, stored with LZ4 (the faster load) where the source used pglz.
    let (_, source_pglz) = toast_compression(&source).await;
    assert!(
        source_pglz > 0,
        "the fixture has no compressed values to check"
    );
    assert_eq!(toast_compression(&target).await, (source_pglz, 0));
    let total: u64 = report["entities"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(total, summary.total);
    assert!(report["duration_ms"].as_u64().is_some());

    // A non-empty target is refused without --clean, and left exactly as it was.
    let other = TestDb::empty().await.unwrap();
    other
        .client()
        .await
        .unwrap()
        .batch_execute("CREATE TABLE keep_me (x int); INSERT INTO keep_me VALUES (42);")
        .await
        .unwrap();
    let before = fingerprint(&other).await;
    cli()
        .args([
            "restore",
            id,
            "--yes",
            "--database-url",
            &other.url,
            "--store",
            store,
        ])
        .assert()
        .code(1)
        .stderr(contains("pass --clean"));
    assert_eq!(fingerprint(&other).await, before);

    // With --clean: replaced, and the old contents kept in a safety backup.
    cli()
        .args([
            "restore",
            id,
            "--yes",
            "--clean",
            "--database-url",
            &other.url,
            "--store",
            store,
        ])
        .assert()
        .success()
        .stdout(contains("safety backup"));
    assert_eq!(fingerprint(&other).await, fingerprint(&source).await);
    let list = list_json(store);
    let safety: Vec<_> = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["trigger"] == "safety")
        .collect();
    assert_eq!(safety.len(), 1, "{list}");
    assert_eq!(safety[0]["status"], "complete");
    // Named after the plugin of the backup that replaced it (the target's own name, which
    // does not follow Backstage's prefix, would give it another plugin id).
    let plugin = manifest["database"]["plugin_id"].as_str().unwrap();
    let safety_id = safety[0]["id"].as_str().unwrap();
    assert!(
        safety_id.starts_with(&format!("backstage-{plugin}-")),
        "{safety_id} is not a {plugin} backup"
    );

    // The safety backup brings the replaced data back.
    cli()
        .args([
            "restore",
            safety[0]["id"].as_str().unwrap(),
            "--yes",
            "--clean",
            "--no-safety-backup",
        ])
        .args(["--database-url", &other.url, "--store", store])
        .assert()
        .success();
    assert_eq!(fingerprint(&other).await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupted_backup_aborts_the_restore_and_leaves_the_target_unchanged() {
    let (source, _) = TestDb::catalog(200).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().to_str().unwrap();
    let manifest = backup_json(&source, store);
    let path = dir.path().join(manifest["name"].as_str().unwrap());
    let mut bytes = std::fs::read(&path).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    std::fs::write(&path, bytes).unwrap();

    let (target, _) = TestDb::catalog(50).await.unwrap();
    let before = fingerprint(&target).await;
    cli()
        .args([
            "restore",
            manifest["id"].as_str().unwrap(),
            "--yes",
            "--clean",
            "--no-safety-backup",
        ])
        .args(["--database-url", &target.url, "--store", store])
        .assert()
        .code(4)
        .stderr(contains("left unchanged"));
    assert_eq!(fingerprint(&target).await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tampered_sidecar_is_refused_before_the_target_is_touched() {
    let (source, _) = TestDb::catalog(30).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().to_str().unwrap();
    let manifest = backup_json(&source, store);
    let name = manifest["name"].as_str().unwrap();
    std::fs::write(
        dir.path().join(format!("{name}.sha256")),
        format!("{}  {name}\n", "0".repeat(64)),
    )
    .unwrap();
    let target = TestDb::empty().await.unwrap();
    cli()
        .args([
            "restore",
            "latest",
            "--yes",
            "--database-url",
            &target.url,
            "--store",
            store,
        ])
        .assert()
        .code(4)
        .stderr(contains("disagree"));
    assert!(fingerprint(&target).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restore_killed_mid_way_leaves_the_target_unchanged() {
    let source = bulky_db(1_500_000).await;
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().to_str().unwrap();
    backup_json(&source, store);
    let (target, _) = TestDb::catalog(40).await.unwrap();
    let before = fingerprint(&target).await;
    let mut child = cli_std()
        .args([
            "restore",
            "latest",
            "--yes",
            "--clean",
            "--no-safety-backup",
        ])
        .args(["--database-url", &target.url, "--store", store])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait until rows are streaming into the target's transaction, then SIGKILL the tool.
    let admin = target.client().await.unwrap();
    let started = std::time::Instant::now();
    loop {
        let copying: i64 = admin
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND query ILIKE 'COPY %bulk%'",
                &[&target.name],
            )
            .await
            .unwrap()
            .get(0);
        if copying > 0 {
            break;
        }
        assert!(
            started.elapsed().as_secs() < 60,
            "the restore never started loading"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    // psql sees its input end without COMMIT; wait for its session to go.
    let started = std::time::Instant::now();
    loop {
        let sessions: i64 = admin
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
                &[&target.name],
            )
            .await
            .unwrap()
            .get(0);
        if sessions == 0 {
            break;
        }
        assert!(started.elapsed().as_secs() < 60, "psql never exited");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(fingerprint(&target).await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_runbook_pg_dump_gzip_file_restores_by_path() {
    let (source, _) = TestDb::catalog(60).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("latest-backup.sql.gz");
    let status = Command::new("sh")
        .arg("-c")
        .arg("pg_dump \"$1\" | gzip > \"$2\"")
        .args(["sh", &source.url])
        .arg(&file)
        .status()
        .unwrap();
    assert!(status.success());
    let target = TestDb::empty().await.unwrap();
    cli()
        .args(["restore"])
        .arg(&file)
        .args(["--yes", "--database-url", &target.url])
        .assert()
        .success();
    assert_eq!(fingerprint(&target).await, fingerprint(&source).await);
}

async fn scratch_exists(admin: &tokio_postgres::Client, name: &str) -> bool {
    admin
        .query_one(
            "SELECT count(*) FROM pg_database WHERE datname = $1",
            &[&name],
        )
        .await
        .unwrap()
        .get::<_, i64>(0)
        > 0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drills_pass_on_good_backups_and_fail_on_tampered_counts_in_s3() {
    let (source, _) = TestDb::catalog(150).await.unwrap();
    let s3 = S3Server::shared().await.unwrap();
    let bucket = s3.create_bucket().await.unwrap();
    let store = s3.store_url(&bucket, "drills");
    let server = TestDb::empty().await.unwrap();
    let admin = server.client().await.unwrap();

    let manifest = json_of(
        &cli_s3(s3)
            .args([
                "backup",
                "--json",
                "--database-url",
                &source.url,
                "--store",
                &store,
            ])
            .assert()
            .success()
            .get_output()
            .stdout,
    );
    let report = json_of(
        &cli_s3(s3)
            .args([
                "drill",
                "latest",
                "--json",
                "--database-url",
                &server.url,
                "--store",
                &store,
            ])
            .assert()
            .success()
            .get_output()
            .stdout,
    );
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(report["entities"], manifest["entities"]);
    assert!(!scratch_exists(&admin, report["scratch_database"].as_str().unwrap()).await);

    // Tamper with the manifest's counts: the drill must notice and say which kind.
    let name = manifest["name"].as_str().unwrap();
    let mut tampered = manifest.clone();
    let kind = manifest["entities"]
        .as_object()
        .unwrap()
        .keys()
        .next()
        .unwrap()
        .clone();
    tampered["entities"][&kind] = serde_json::json!(999_999);
    s3.client()
        .await
        .put_object()
        .bucket(&bucket)
        .key(format!("drills/{name}.manifest.json"))
        .body(tampered.to_string().into_bytes().into())
        .send()
        .await
        .unwrap();
    let report = json_of(
        &cli_s3(s3)
            .args([
                "drill",
                "latest",
                "--json",
                "--database-url",
                &server.url,
                "--store",
                &store,
            ])
            .assert()
            .code(4)
            .get_output()
            .stdout,
    );
    assert_eq!(report["ok"], false);
    assert!(
        report["problems"][0]
            .as_str()
            .unwrap()
            .contains(&format!("{kind}: the manifest says 999999")),
        "{report}"
    );
    assert!(!scratch_exists(&admin, report["scratch_database"].as_str().unwrap()).await);
    let list = json_of(
        &cli_s3(s3)
            .args(["list", "--json", "--store", &store])
            .assert()
            .success()
            .get_output()
            .stdout,
    );
    assert_eq!(list[0]["drilled_ok"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_concurrent_backups_of_one_database_one_wins_one_fails_fast() {
    let db = bulky_db(800_000).await;
    let dir = tempfile::tempdir().unwrap();
    let spawn = || {
        cli_std()
            .args(["backup", "--database-url", &db.url, "--store"])
            .arg(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    let mut codes = vec![a.status.code(), b.status.code()];
    codes.sort();
    assert_eq!(
        codes,
        vec![Some(0), Some(5)],
        "{} {}",
        String::from_utf8_lossy(&a.stderr),
        String::from_utf8_lossy(&b.stderr)
    );
    let loser = if a.status.code() == Some(5) { &a } else { &b };
    assert!(String::from_utf8_lossy(&loser.stderr).contains("already running"));
    let list = list_json(dir.path());
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["status"], "complete");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_reaches_every_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().to_str().unwrap();
    // No backup at all: CRITICAL.
    cli()
        .args(["health", "--store", store])
        .assert()
        .code(2)
        .stdout(contains("CRITICAL"));
    let (db, _) = TestDb::catalog(40).await.unwrap();
    backup_json(&db, store);
    // A fresh backup, never verified or drilled: WARNING.
    cli()
        .args(["health", "--store", store])
        .assert()
        .code(1)
        .stdout(contains("WARNING"));
    cli()
        .args(["verify", "latest", "--store", store])
        .assert()
        .success();
    let server = TestDb::empty().await.unwrap();
    cli()
        .args([
            "drill",
            "latest",
            "--database-url",
            &server.url,
            "--store",
            store,
        ])
        .assert()
        .success();
    // Verified and drilled: OK.
    let report = json_of(
        &cli()
            .args(["health", "--json", "--store", store])
            .assert()
            .code(0)
            .get_output()
            .stdout,
    );
    assert_eq!(report["status"], "OK", "{report}");
    assert_eq!(report["last_drill"]["ok"], true);
    // Older than the RPO: CRITICAL.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    cli()
        .args(["health", "--max-age", "1s", "--store", store])
        .assert()
        .code(2)
        .stdout(contains("RPO"));
    // A store that cannot be reached: UNKNOWN.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    cli()
        .env("AWS_ACCESS_KEY_ID", "x")
        .env("AWS_SECRET_ACCESS_KEY", "y")
        .args(["health", "--store", &format!("s3://nobucket/x?endpoint=http://127.0.0.1:{closed}&region=us-east-1&path_style=true")])
        .timeout(Duration::from_secs(120))
        .assert()
        .code(3)
        .stdout(contains("UNKNOWN"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schema_mode_backs_up_and_cleanly_restores_only_the_plugins_own_schema() {
    // Backstage's `pluginDivisionMode: schema`: every plugin in one database, one schema each.
    let db = TestDb::empty().await.unwrap();
    let client = db.client().await.unwrap();
    client
        .batch_execute(
            "CREATE SCHEMA catalog; CREATE TABLE catalog.final_entities (entity_id text PRIMARY KEY, final_entity text); \
             INSERT INTO catalog.final_entities VALUES ('a', '{\"kind\":\"Component\"}'), ('b', '{\"kind\":\"API\"}'); \
             CREATE SCHEMA scaffolder; CREATE TABLE scaffolder.tasks (id int); INSERT INTO scaffolder.tasks VALUES (1);",
        )
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("app-config.yaml");
    std::fs::write(
        &config,
        format!(
            "backend:\n  database:\n    client: pg\n    pluginDivisionMode: schema\n    connection:\n      host: 127.0.0.1\n      user: postgres\n      database: {}\n",
            db.name
        ),
    )
    .unwrap();
    let store = dir.path().join("backups");
    let manifest = json_of(
        &cli()
            .args(["backup", "--json", "--app-config"])
            .arg(&config)
            .arg("--store")
            .arg(&store)
            .assert()
            .success()
            .get_output()
            .stdout,
    );
    assert_eq!(manifest["database"]["schema"], "catalog");
    assert_eq!(
        manifest["entities"],
        serde_json::json!({"api": 1, "component": 1})
    );

    // Later: the catalog loses a row, the scaffolder gains one.
    client
        .batch_execute("DELETE FROM catalog.final_entities WHERE entity_id = 'b'; INSERT INTO scaffolder.tasks VALUES (2);")
        .await
        .unwrap();
    cli()
        .args(["restore", "latest", "--yes", "--clean", "--app-config"])
        .arg(&config)
        .arg("--store")
        .arg(&store)
        .assert()
        .success();
    let count = |sql: &'static str| {
        let client = &client;
        async move { client.query_one(sql, &[]).await.unwrap().get::<_, i64>(0) }
    };
    assert_eq!(
        count("SELECT count(*) FROM catalog.final_entities").await,
        2
    );
    // The other plugin's schema was not touched by the clean restore.
    assert_eq!(count("SELECT count(*) FROM scaffolder.tasks").await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_catalog_broken_by_a_bad_migration_is_backed_up_and_rolled_back() {
    let (source, summary) = TestDb::catalog(60).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().to_str().unwrap();
    let good_state = fingerprint(&source).await;
    let pre_upgrade = backup_json(&source, store);
    let id = pre_upgrade["id"].as_str().unwrap();

    // The upgrade goes wrong: an unknown migration, a changed table the catalog cannot read.
    source
        .client()
        .await
        .unwrap()
        .batch_execute(
            "INSERT INTO knex_migrations (name, batch, migration_time) VALUES ('20991231000000_bad.js', 99, now()); \
             ALTER TABLE final_entities RENAME COLUMN final_entity TO final_entity_v2;",
        )
        .await
        .unwrap();
    // Its state can still be backed up, without entity counts (they cannot be read).
    let broken = backup_json(&source, store);
    assert!(broken["entities"].is_null(), "{broken}");
    assert_eq!(
        broken["database"]["latest_migration"],
        "20991231000000_bad.js"
    );

    // The rollback: the pre-upgrade backup over the broken catalog, safety backup first.
    let report = json_of(
        &cli()
            .args([
                "restore",
                id,
                "--yes",
                "--clean",
                "--json",
                "--database-url",
                &source.url,
                "--store",
                store,
            ])
            .assert()
            .success()
            .get_output()
            .stdout,
    );
    assert!(report["safety_backup"].as_str().is_some(), "{report}");
    assert_eq!(fingerprint(&source).await, good_state);
    let total: u64 = report["entities"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(total, summary.total);
}

/// Backs `db` up, then deletes its relations: a loss the restore must undo. Returns the id.
async fn back_up_then_lose_relations(db: &TestDb, store: &str) -> String {
    let id = backup_json(db, store)["id"].as_str().unwrap().to_string();
    db.client()
        .await
        .unwrap()
        .batch_execute("DELETE FROM relations")
        .await
        .unwrap();
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restore_caught_in_a_deadlock_with_a_live_backstage_is_retried() {
    let (target, summary) = TestDb::catalog(60).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().to_str().unwrap();
    let good_state = fingerprint(&target).await;
    let id = back_up_then_lose_relations(&target, store).await;

    // "Backstage": a transaction that holds a lock on `relations` and will want another table.
    let live = target.client().await.unwrap();
    live.batch_execute("BEGIN; LOCK TABLE relations IN ROW EXCLUSIVE MODE")
        .await
        .unwrap();
    let live_pid: i32 = live
        .query_one("SELECT pg_backend_pid()", &[])
        .await
        .unwrap()
        .get(0);
    let child = cli_std()
        .args(["restore", &id, "--yes", "--clean", "--no-safety-backup"])
        .args(["--database-url", &target.url, "--store", store])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Once the restore waits for `relations`, ask for a table it already holds: a deadlock.
    let admin = target.client().await.unwrap();
    let started = std::time::Instant::now();
    let held: String = loop {
        let row = admin
            .query_opt(
                "SELECT c.relname::text FROM pg_locks l JOIN pg_class c ON c.oid = l.relation \
                 JOIN pg_stat_activity a ON a.pid = l.pid \
                 WHERE a.datname = $1 AND l.pid <> $2 AND l.granted AND l.mode = 'AccessExclusiveLock' \
                   AND c.relkind = 'r' AND c.relname <> 'relations' \
                   AND EXISTS (SELECT 1 FROM pg_locks w WHERE w.pid = l.pid AND NOT w.granted) \
                 LIMIT 1",
                &[&target.name, &live_pid],
            )
            .await
            .unwrap();
        if let Some(row) = row {
            break row.get(0);
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the restore never waited for the live transaction's lock"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    // PostgreSQL aborts one side; if it picks "Backstage", that side simply fails here.
    let _ = live
        .batch_execute(&format!("SELECT count(*) FROM \"{held}\""))
        .await;
    let _ = live.batch_execute("ROLLBACK").await;
    let output = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(fingerprint(&target).await, good_state);
    let restored: i64 = admin
        .query_one("SELECT count(*) FROM final_entities", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(restored as u64, summary.total);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restore_blocked_by_a_live_backstage_gives_up_after_the_lock_timeout_unchanged() {
    let (target, _) = TestDb::catalog(40).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().to_str().unwrap();
    let id = back_up_then_lose_relations(&target, store).await;
    let before = fingerprint(&target).await;
    // A reader that never lets go: the restore's DROP SCHEMA … CASCADE cannot get its lock.
    let live = target.client().await.unwrap();
    live.batch_execute("BEGIN; LOCK TABLE final_entities IN ACCESS SHARE MODE")
        .await
        .unwrap();
    let started = std::time::Instant::now();
    cli()
        .args(["restore", &id, "--yes", "--clean", "--no-safety-backup"])
        .args(["--database-url", &target.url, "--store", store])
        .timeout(Duration::from_secs(240))
        .assert()
        .code(1)
        .stderr(contains("lock timeout"))
        .stderr(contains("left unchanged"));
    // It waited (lock_timeout is 60 s), rather than failing at once or hanging.
    assert!(started.elapsed() >= Duration::from_secs(55));
    live.batch_execute("ROLLBACK").await.unwrap();
    assert_eq!(fingerprint(&target).await, before);
}

/// A typo in a Nagios check definition must page as UNKNOWN (3), not CRITICAL (2).
#[test]
fn health_parse_errors_exit_unknown() {
    for args in [
        vec!["health", "--size-drop", "abc"],
        vec!["health", "--max-age", "-1h"],
        vec!["health", "--no-such-flag"],
        vec!["health", "--store"],
    ] {
        cli().args(&args).assert().code(3).stderr(contains("error"));
    }
    cli().args(["health", "--help"]).assert().success();
    // Other commands keep clap's usage exit.
    cli().args(["list", "--no-such-flag"]).assert().code(2);
}

/// Each command says what its --database-url is: the source of a backup, the target of a
/// restore, the server a drill makes its scratch database on.
#[test]
fn database_url_help_says_what_each_command_does_with_it() {
    let help = |command: &str| {
        let out = cli().args([command, "--help"]).assert().success();
        String::from_utf8_lossy(&out.get_output().stdout).to_string()
    };
    assert!(help("backup").contains("The database to back up"));
    let restore = help("restore");
    assert!(
        restore.contains("The database to restore into"),
        "{restore}"
    );
    assert!(!restore.contains("to back up"), "{restore}");
    let drill = help("drill");
    assert!(drill.contains("The server to drill on"), "{drill}");
    assert!(drill.contains("scratch database"), "{drill}");
    assert!(!drill.contains("to back up"), "{drill}");
}
