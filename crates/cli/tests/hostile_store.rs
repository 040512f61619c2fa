//! What a careless or hostile store does to the reads: safety backups never stand in for real
//! ones, a damaged manifest hides nothing else, a failed restore leaves nothing it created, a
//! mistyped store folder is named missing, and `file:` URLs read as RFC 8089 says.

mod common;

use backstage_backup_testkit::{admin_url, TestDb};
use common::*;
use predicates::prelude::PredicateBooleanExt;
use predicates::str::contains;

fn flip_a_byte_in_the_middle(path: &std::path::Path) {
    let mut bytes = std::fs::read(path).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    std::fs::write(path, bytes).unwrap();
}

async fn admin_client() -> tokio_postgres::Client {
    let (client, conn) = tokio_postgres::connect(&admin_url(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    client
}

async fn database_exists(name: &str) -> bool {
    admin_client()
        .await
        .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&name])
        .await
        .unwrap()
        .is_some()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_clean_restore_names_its_safety_backup_and_it_never_becomes_latest() {
    let (source, _) = TestDb::catalog(120).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().to_str().unwrap();
    let manifest = backup_json(&source, store);
    let id = manifest["id"].as_str().unwrap().to_string();
    flip_a_byte_in_the_middle(&dir.path().join(manifest["name"].as_str().unwrap()));

    let (target, _) = TestDb::catalog(40).await.unwrap();
    let before = fingerprint(&target).await;
    let failed = cli()
        .args(["restore", "latest", "--yes", "--clean"])
        .args(["--database-url", &target.url, "--store", store])
        .assert()
        .code(4)
        .stderr(contains("left unchanged"))
        .stderr(contains("; the safety backup backstage-"))
        .get_output()
        .stderr
        .clone();
    assert_eq!(fingerprint(&target).await, before);
    let list = list_json(store);
    let safety: Vec<&serde_json::Value> = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["trigger"] == "safety")
        .collect();
    assert_eq!(safety.len(), 1, "{list}");
    let safety_id = safety[0]["id"].as_str().unwrap();
    assert!(
        String::from_utf8_lossy(&failed).contains(safety_id),
        "{}",
        String::from_utf8_lossy(&failed)
    );
    assert!(safety_id > id.as_str(), "the safety backup is the newest");

    // Run again, `latest` is still the backup asked for, not the pre-restore state.
    cli()
        .args([
            "restore",
            "latest",
            "--yes",
            "--clean",
            "--no-safety-backup",
        ])
        .args(["--database-url", &target.url, "--store", store])
        .assert()
        .code(4)
        .stderr(contains(id.as_str()))
        .stderr(contains(safety_id).not());
    cli()
        .args(["verify", "latest", "--store", store])
        .assert()
        .code(4)
        .stdout(contains(id.as_str()));
    // Health judges the RPO on the real backup; retention counts safety backups apart.
    let health = json_of(
        &cli()
            .args(["health", "--json", "--store", store])
            .output()
            .unwrap()
            .stdout,
    );
    let last = health["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "last backup")
        .unwrap();
    assert!(
        last["message"].as_str().unwrap().contains(id.as_str()),
        "{health}"
    );
    cli()
        .args(["prune", "--keep-last", "1", "--store", store])
        .assert()
        .success();
    let ids: Vec<String> = list_json(store)
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect();
    assert!(
        ids.contains(&id) && ids.contains(&safety_id.to_string()),
        "{ids:?}"
    );
    // By its id, the safety backup still brings the replaced data back.
    cli()
        .args([
            "restore",
            safety_id,
            "--yes",
            "--clean",
            "--no-safety-backup",
        ])
        .args(["--database-url", &target.url, "--store", store])
        .assert()
        .success();
    assert_eq!(fingerprint(&target).await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_restore_drops_the_database_it_created() {
    let (source, _) = TestDb::catalog(60).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().to_str().unwrap();
    let manifest = backup_json(&source, store);
    flip_a_byte_in_the_middle(&dir.path().join(manifest["name"].as_str().unwrap()));
    // A database name nobody has: the restore creates it.
    let target = TestDb::empty().await.unwrap();
    admin_client()
        .await
        .batch_execute(&format!("DROP DATABASE \"{}\"", target.name))
        .await
        .unwrap();
    cli()
        .args(["restore", manifest["id"].as_str().unwrap(), "--yes"])
        .args(["--database-url", &target.url, "--store", store])
        .assert()
        .code(4)
        .stderr(contains("created was dropped again"));
    assert!(!database_exists(&target.name).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_manifest_is_listed_damaged_and_every_other_backup_still_works() {
    let (source, _) = TestDb::catalog(30).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().to_str().unwrap();
    let good = backup_json(&source, store)["id"]
        .as_str()
        .unwrap()
        .to_string();
    // Newer than the good one: a manifest over the size limit, and one the store cannot read.
    // Newer than the good one: a manifest over the size limit, one that is not JSON, and one
    // whose every read fails (a link to a file the kernel refuses to read at offset 0).
    let huge = "backstage-catalog-29990101_000000";
    let not_json = "backstage-catalog-29990102_000000";
    let unreadable = "backstage-catalog-29990103_000000";
    let manifest = |id: &str| dir.path().join(format!("{id}.sql.gz.manifest.json"));
    for id in [huge, not_json, unreadable] {
        std::fs::write(dir.path().join(format!("{id}.sql.gz")), b"not gzip").unwrap();
    }
    std::fs::write(manifest(huge), vec![b' '; 2 << 20]).unwrap();
    std::fs::write(manifest(not_json), b"\x1b[2J{not json").unwrap();
    std::os::unix::fs::symlink("/proc/self/mem", manifest(unreadable)).unwrap();

    let list = list_json(store);
    let status = |id: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|e| e["id"] == id)
            .map(|e| (e["status"].clone(), e["problem"].clone()))
            .unwrap_or_else(|| panic!("{id} not listed: {list}"))
    };
    assert_eq!(status(&good).0, "complete");
    for id in [huge, not_json, unreadable] {
        let (state, problem) = status(id);
        assert_eq!(state, "damaged", "{list}");
        assert!(problem.as_str().unwrap().contains("manifest"), "{list}");
    }
    cli()
        .args(["list", "--store", store])
        .assert()
        .success()
        .stdout(contains("damaged"));
    cli()
        .args(["verify", "latest", "--store", store])
        .assert()
        .success()
        .stdout(contains(good.as_str()));
    cli()
        .args(["verify", huge, "--store", store])
        .assert()
        .code(4)
        .stderr(contains("damaged"));
    let target = TestDb::empty().await.unwrap();
    cli()
        .args(["restore", "latest", "--yes", "--database-url", &target.url])
        .args(["--store", store])
        .assert()
        .success();
    assert_eq!(fingerprint(&target).await, fingerprint(&source).await);
    cli()
        .args(["health", "--store", store])
        .assert()
        .failure()
        .stdout(contains("damaged"));
    cli()
        .args(["prune", "--keep-last", "1", "--store", store])
        .assert()
        .success();
    assert!(dir
        .path()
        .join(format!("{huge}.sql.gz.manifest.json"))
        .exists());
}

#[test]
fn a_missing_store_folder_is_named_missing_for_every_read() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("bakcups");
    let missing = missing.to_str().unwrap();
    for args in [
        vec!["list"],
        vec!["verify", "latest"],
        vec!["restore", "latest", "--yes"],
        vec!["drill", "latest"],
        vec!["prune", "--keep-last", "3"],
        vec!["health"],
    ] {
        cli()
            .args(&args)
            .args(["--store", missing])
            .env(
                "DATABASE_URL",
                "postgresql://postgres@127.0.0.1:5432/nonexistent",
            )
            .assert()
            .code(3)
            .stderr(contains("does not exist"))
            .stderr(contains("bakcups"));
    }
    assert!(!std::path::Path::new(missing).exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_urls_name_folders_as_rfc_8089_says() {
    let (source, _) = TestDb::catalog(10).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("back ups");
    let path = folder.to_str().unwrap();
    let id = backup_json(&source, path)["id"]
        .as_str()
        .unwrap()
        .to_string();
    for url in [
        format!("file://{}", path.replace(' ', "%20")),
        format!("file://localhost{}", path.replace(' ', "%20")),
        format!("file:{}", path.replace(' ', "%20")),
    ] {
        cli()
            .args(["list", "--store", &url])
            .assert()
            .success()
            .stdout(contains(id.as_str()));
    }
    cli()
        .args(["list", "--store", &format!("file://otherhost{path}")])
        .assert()
        .code(2)
        .stderr(contains("remote machine"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endless_files_are_refused_never_read_forever() {
    let (source, _) = TestDb::catalog(10).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().to_str().unwrap();
    for config in ["/dev/zero", "/dev/urandom"] {
        cli()
            .args(["backup", "--app-config", config, "--store", store])
            .timeout(std::time::Duration::from_secs(30))
            .assert()
            .code(2)
            .stderr(contains("not a regular file"));
    }
    // A FIFO planted in place of a backup's data: opening it would wait for a writer forever.
    let manifest = backup_json(&source, store);
    let data = dir.path().join(manifest["name"].as_str().unwrap());
    std::fs::remove_file(&data).unwrap();
    let made = std::process::Command::new("mkfifo")
        .arg(&data)
        .status()
        .unwrap();
    assert!(made.success());
    cli()
        .args(["verify", manifest["id"].as_str().unwrap(), "--store", store])
        .timeout(std::time::Duration::from_secs(30))
        .assert()
        .code(4)
        .stderr(contains("not a regular file").or(contains("missing")));
}

/// A backup whose dump ends with a statement that runs for `seconds` (an index build on a big
/// catalog does): the window between the last byte sent to psql and COMMIT.
async fn slow_ending_backup(source: &TestDb, store: &str, seconds: u32) -> String {
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("first");
    let manifest = backup_json(source, first.to_str().unwrap());
    let gz = std::fs::read(first.join(manifest["name"].as_str().unwrap())).unwrap();
    let mut dump = String::new();
    std::io::Read::read_to_string(&mut flate2::read::MultiGzDecoder::new(&gz[..]), &mut dump)
        .unwrap();
    let end = dump
        .rfind("--\n-- PostgreSQL database dump complete")
        .unwrap();
    dump.insert_str(end, &format!("SELECT pg_catalog.pg_sleep({seconds});\n\n"));
    let file = dir.path().join("slow.sql");
    std::fs::write(&file, dump).unwrap();
    json_of(
        &cli()
            .args(["backup", "--json", "--from-file"])
            .arg(&file)
            .args(["--store", store])
            .assert()
            .success()
            .get_output()
            .stdout,
    )["id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signal_before_commit_rolls_the_restore_back_and_exits_130() {
    let (source, _) = TestDb::catalog(30).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().to_str().unwrap();
    let id = slow_ending_backup(&source, store, 20).await;
    let (target, _) = TestDb::catalog(10).await.unwrap();
    let before = fingerprint(&target).await;
    let child = cli_std()
        .args(["restore", &id, "--yes", "--clean", "--no-safety-backup"])
        .args(["--database-url", &target.url, "--store", store])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Every byte is in psql's hands and the last statement runs: only COMMIT is left.
    let admin = target.client().await.unwrap();
    let started = std::time::Instant::now();
    while admin
        .query_one(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND query ILIKE '%pg_sleep%' AND pid <> pg_backend_pid()",
            &[&target.name],
        )
        .await
        .unwrap()
        .get::<_, i64>(0)
        == 0
    {
        assert!(started.elapsed().as_secs() < 60, "the restore never reached its last statement");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let signalled = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(signalled.success());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("before COMMIT"), "{stderr}");
    assert!(stderr.contains("rolled back"), "{stderr}");
    assert!(
        started.elapsed().as_secs() < 15,
        "it waited for the statement to end"
    );
    assert_eq!(fingerprint(&target).await, before);
}

#[test]
fn a_store_folder_other_users_can_write_is_refused_unless_insecure_store_is_given() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let open = dir.path().join("open");
    std::fs::create_dir(&open).unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
    // And one whose parent anybody can write to (and so swap the folder itself).
    let parent = dir.path().join("parent");
    std::fs::create_dir_all(parent.join("backups")).unwrap();
    std::fs::set_permissions(&parent, std::fs::Permissions::from_mode(0o777)).unwrap();
    let nested = parent.join("backups");
    let dump = dir.path().join("dump.sql");
    std::fs::write(
        &dump,
        "SELECT 1;\n--\n-- PostgreSQL database dump complete\n--\n",
    )
    .unwrap();
    for (store, says) in [
        (&open, "the store folder"),
        (&nested, "a parent of the store folder"),
    ] {
        // health's errors are UNKNOWN (3) to monitoring; the other commands exit 2.
        for (args, code) in [
            (vec!["list"], 2),
            (vec!["health"], 3),
            (vec!["backup", "--from-file", dump.to_str().unwrap()], 2),
        ] {
            cli()
                .args(&args)
                .arg("--store")
                .arg(store)
                .assert()
                .code(code)
                .stderr(contains(says))
                .stderr(contains("--insecure-store"));
        }
        cli()
            .args(["backup", "--insecure-store", "--from-file"])
            .arg(&dump)
            .arg("--store")
            .arg(store)
            .assert()
            .success()
            .stderr(contains("warning"));
        cli()
            .args(["list", "--store"])
            .arg(store)
            .env("BACKSTAGE_BACKUP_INSECURE_STORE", "1")
            .assert()
            .success()
            .stdout(contains("backstage-catalog-"));
    }
}
