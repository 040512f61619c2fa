//! Faults and secrets: a full disk, secrets kept out of argv and output, and damage at random
//! offsets always caught.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use backstage_backup_testkit::TestDb;
use common::*;
use predicates::str::contains;

const PASSWORD: &str = "Pw-In-Env-Only-7781";

/// Every process whose command line holds `needle`, with that command line.
fn processes_with(needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let text = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        if text.contains(needle) {
            found.push(text);
        }
    }
    found
}

/// A child of `parent` running `name` whose command line holds `marker` (so not the
/// `--version` probe that runs first).
fn child_named(parent: u32, name: &str, marker: &str) -> Option<u32> {
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // pid (comm) state ppid …
        let Some((head, rest)) = stat.rsplit_once(") ") else {
            continue;
        };
        let comm = head.split_once(" (").map(|(_, c)| c).unwrap_or("");
        let ppid: u32 = rest
            .split_whitespace()
            .nth(1)
            .and_then(|p| p.parse().ok())
            .unwrap_or(0);
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        if ppid == parent && comm == name && String::from_utf8_lossy(&cmdline).contains(marker) {
            return entry.file_name().to_str()?.parse().ok();
        }
    }
    None
}

/// Runs the CLI with `args` and, while it runs, finds its child `tool`: the password must be in
/// the child's environment and in no process's command line.
fn watch_secret(args: &[&str], database_url: &str, tool: &str, marker: &str) {
    // DATABASE_URL, not --database-url: the tool's own argv stays clean too.
    let mut child = cli_std()
        .env("DATABASE_URL", database_url)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let pid = loop {
        if let Some(pid) = child_named(child.id(), tool, marker) {
            break pid;
        }
        assert!(child.try_wait().unwrap().is_none(), "{tool} never started");
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{tool} never started"
        );
        std::thread::sleep(Duration::from_millis(2));
    };
    let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let seen_anywhere = processes_with(PASSWORD);
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        !cmdline.is_empty(),
        "{tool} exited before it could be inspected"
    );
    assert!(!String::from_utf8_lossy(&cmdline).contains(PASSWORD));
    let environ = String::from_utf8_lossy(&environ).replace('\0', " ");
    assert!(
        environ.contains(&format!("PGPASSWORD={PASSWORD}")),
        "{tool}: {environ}"
    );
    assert_eq!(seen_anywhere, Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_password_reaches_pg_dump_and_psql_through_the_environment_only() {
    // Trust authentication ignores the password, so the tool runs for real while carrying one.
    let source = bulky_db(300_000).await;
    let target = TestDb::empty().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().to_str().unwrap();
    let source_url = source.url_with_password("postgres", PASSWORD);
    let target_url = target.url_with_password("postgres", PASSWORD);

    watch_secret(
        &["backup", "--store", store],
        &source_url,
        "pg_dump",
        "--snapshot",
    );
    watch_secret(
        &["restore", "latest", "--yes", "--store", store],
        &target_url,
        "psql",
        "ON_ERROR_STOP",
    );

    // Nothing the tool wrote or printed holds the password.
    for file in files_in(dir.path()) {
        let bytes = std::fs::read(dir.path().join(&file)).unwrap();
        assert!(
            !String::from_utf8_lossy(&bytes).contains(PASSWORD),
            "{file}"
        );
    }
    for args in [
        vec!["list", "--json"],
        vec!["verify", "latest", "--json"],
        vec!["health", "--json"],
    ] {
        let out = cli()
            .env("DATABASE_URL", &source_url)
            .args(&args)
            .args(["--store", store])
            .output()
            .unwrap();
        assert!(!String::from_utf8_lossy(&out.stdout).contains(PASSWORD));
        assert!(!String::from_utf8_lossy(&out.stderr).contains(PASSWORD));
    }
    // A connection failure names the server, not the password.
    cli()
        .args(["backup", "--store", store])
        .env(
            "DATABASE_URL",
            format!("postgresql://postgres:{PASSWORD}@127.0.0.1:1/x"),
        )
        .assert()
        .code(1)
        .stderr(contains("postgresql://postgres:***@127.0.0.1:1/x"))
        .stderr(contains(PASSWORD).not());
}

use predicates::prelude::PredicateBooleanExt;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_size_limit_hit_mid_write_fails_clearly_and_leaves_nothing() {
    let source = bulky_db(200_000).await;
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("backups");
    // 4 MiB limit (ulimit -f counts 1 KiB blocks); SIGXFSZ ignored so the write fails instead.
    let out = Command::new("sh")
        .arg("-c")
        .arg("trap '' XFSZ; ulimit -f 4096; exec \"$@\"")
        .arg("sh")
        .arg(assert_cmd::cargo::cargo_bin("backstage-backup"))
        .args(["backup", "--database-url", &source.url, "--store"])
        .arg(&store)
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("file size limit"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert_eq!(files_in(&store), Vec::<String>::new());
    cli()
        .args(["list", "--store"])
        .arg(&store)
        .assert()
        .success()
        .stdout(contains("No backups"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_byte_flipped_at_any_offset_is_caught_by_verify() {
    let (source, _) = TestDb::catalog(30).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().to_str().unwrap();
    let manifest = backup_json(&source, store);
    let path = dir.path().join(manifest["name"].as_str().unwrap());
    let good = std::fs::read(&path).unwrap();
    // Deterministic pseudo-random offsets over the whole object, header and trailer included.
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut offsets: Vec<usize> = vec![0, 3, 9, good.len() - 8, good.len() - 1];
    for _ in 0..35 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        offsets.push((x % good.len() as u64) as usize);
    }
    for offset in offsets {
        let mut bad = good.clone();
        bad[offset] ^= 1 << (offset % 8);
        std::fs::write(&path, &bad).unwrap();
        cli()
            .args(["verify", "latest", "--store", store])
            .assert()
            .code(4)
            .stdout(contains("FAILED"));
    }
    std::fs::write(&path, &good).unwrap();
    cli()
        .args(["verify", "latest", "--store", store])
        .assert()
        .success();
}

fn s3_url(bucket: &str, prefix: &str, endpoint: &str) -> String {
    format!("s3://{bucket}/{prefix}?endpoint={endpoint}&region=us-east-1&path_style=true")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transient_s3_errors_are_retried_and_the_backup_succeeds() {
    use backstage_backup_testkit::{FaultProxy, S3Server};
    let (source, _) = TestDb::catalog(100).await.unwrap();
    let s3 = S3Server::shared().await.unwrap();
    let bucket = s3.create_bucket().await.unwrap();
    let proxy = FaultProxy::start(&s3.endpoint, 3, 503).await.unwrap();
    let store = s3_url(&bucket, "flaky", &proxy.endpoint);
    cli_s3(s3)
        .args(["backup", "--database-url", &source.url, "--store", &store])
        .assert()
        .success();
    assert_eq!(proxy.failures(), 3);
    cli_s3(s3)
        .args([
            "verify",
            "latest",
            "--store",
            &s3.store_url(&bucket, "flaky"),
        ])
        .assert()
        .success();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_s3_server_answering_500_fails_clearly_before_writing_anything() {
    use backstage_backup_testkit::{FaultProxy, S3Server};
    let (source, _) = TestDb::catalog(100).await.unwrap();
    let s3 = S3Server::shared().await.unwrap();
    let bucket = s3.create_bucket().await.unwrap();
    let proxy = FaultProxy::start(&s3.endpoint, usize::MAX, 500)
        .await
        .unwrap();
    let store = s3_url(&bucket, "broken", &proxy.endpoint);
    cli_s3(s3)
        .args(["backup", "--database-url", &source.url, "--store", &store])
        .timeout(Duration::from_secs(120))
        .assert()
        .code(1)
        .stderr(contains("InternalError"))
        .stderr(contains(s3.secret_key.as_str()).not());
    assert_bucket_empty(s3, &bucket).await;
}

/// Fails UploadPart number 3 of any multipart upload.
fn third_part() -> backstage_backup_testkit::RequestMatcher {
    std::sync::Arc::new(|method: &str, target: &str| {
        method == "PUT" && target.contains("uploadId=") && target.contains("partNumber=3")
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_500_on_a_part_mid_upload_is_retried_and_the_backup_succeeds() {
    use backstage_backup_testkit::{RequestFaultProxy, S3Server};
    // About 55 MB of gzip: 6 MiB parts, so part 3 is well inside the upload.
    let source = bulky_db(1_500_000).await;
    let s3 = S3Server::shared().await.unwrap();
    let bucket = s3.create_bucket().await.unwrap();
    let proxy = RequestFaultProxy::start(&s3.endpoint, 500, 2, third_part())
        .await
        .unwrap();
    let store = s3_url(&bucket, "part-flaky", &proxy.endpoint);
    cli_s3(s3)
        .args(["backup", "--database-url", &source.url, "--store", &store])
        .timeout(Duration::from_secs(300))
        .assert()
        .success();
    assert_eq!(proxy.failures(), 2);
    cli_s3(s3)
        .args([
            "verify",
            "latest",
            "--store",
            &s3.store_url(&bucket, "part-flaky"),
        ])
        .timeout(Duration::from_secs(300))
        .assert()
        .success();
    assert_eq!(
        s3.open_multipart_uploads(&bucket).await.unwrap(),
        Vec::<String>::new()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_part_that_keeps_failing_with_500_aborts_the_upload_and_lists_nothing() {
    use backstage_backup_testkit::{RequestFaultProxy, S3Server};
    let source = bulky_db(1_500_000).await;
    let s3 = S3Server::shared().await.unwrap();
    let bucket = s3.create_bucket().await.unwrap();
    let proxy = RequestFaultProxy::start(&s3.endpoint, 500, usize::MAX, third_part())
        .await
        .unwrap();
    let store = s3_url(&bucket, "part-broken", &proxy.endpoint);
    cli_s3(s3)
        .args(["backup", "--database-url", &source.url, "--store", &store])
        .timeout(Duration::from_secs(300))
        .assert()
        .code(1)
        .stderr(contains("InternalError"))
        .stderr(contains(s3.secret_key.as_str()).not());
    // Retried with backoff before giving up (the SDK's 5 attempts).
    assert!(proxy.failures() >= 2, "{} failures", proxy.failures());
    assert_bucket_empty(s3, &bucket).await;
    cli_s3(s3)
        .args([
            "list",
            "--json",
            "--store",
            &s3.store_url(&bucket, "part-broken"),
        ])
        .assert()
        .success()
        .stdout("[]\n");
}

/// Runs the CLI inside a private mount namespace after `setup` (shell commands that mount a
/// small or read-only tmpfs at $DIR); `{store}` in `args` stands for $DIR. Returns the exit
/// code, stderr, and the files left in $DIR.
fn in_private_mount(setup: &str, args: &[&str]) -> (i32, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    std::fs::create_dir(&store).unwrap();
    let store_text = store.to_str().unwrap();
    let args: Vec<String> = args
        .iter()
        .map(|a| a.replace("{store}", store_text))
        .collect();
    let script = format!(
        "set -e; DIR=\"$1\"; shift; {setup}; set +e; \"$@\" >/dev/null 2>\"$DIR.err\"; code=$?; \
         echo \"code=$code\"; echo \"files=$(ls -A \"$DIR\" | tr '\\n' ' ')\"; cat \"$DIR.err\" >&2"
    );
    // A user namespace makes this work without real root; the network stays shared.
    let out = Command::new("unshare")
        .args([
            "--user",
            "--map-root-user",
            "--mount",
            "sh",
            "-c",
            &script,
            "sh",
        ])
        .arg(&store)
        .arg(assert_cmd::cargo::cargo_bin("backstage-backup"))
        .args(&args)
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let code = stdout
        .lines()
        .find_map(|l| l.strip_prefix("code="))
        .unwrap_or_else(|| panic!("unshare could not set up the mount: {stdout} {stderr}"))
        .parse()
        .unwrap();
    let files = stdout
        .lines()
        .find_map(|l| l.strip_prefix("files="))
        .unwrap_or("")
        .trim()
        .to_string();
    (code, stderr, files)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_mid_write_fails_clearly_and_leaves_nothing() {
    let source = bulky_db(300_000).await;
    let (code, stderr, files) = in_private_mount(
        "mount -t tmpfs -o size=3m,mode=0700 tmpfs \"$DIR\"",
        &[
            "backup",
            "--database-url",
            &source.url,
            "--store",
            "{store}",
        ],
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("the disk is full"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert_eq!(files, "", "left behind: {files}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_backup_folder_fails_clearly() {
    let (source, _) = TestDb::catalog(10).await.unwrap();
    let (code, stderr, files) = in_private_mount(
        "mount -t tmpfs -o size=3m,mode=0700 tmpfs \"$DIR\"; mount -o remount,ro \"$DIR\"",
        &[
            "backup",
            "--database-url",
            &source.url,
            "--store",
            "{store}",
        ],
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("read-only"), "{stderr}");
    assert_eq!(files, "");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pg_dump_killed_or_cut_off_by_the_server_mid_dump_leaves_nothing_complete() {
    let source = bulky_db(1_500_000).await;
    let admin = source.client().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    for how in ["kill pg_dump", "terminate its server session"] {
        let child = cli_std()
            .args(["backup", "--database-url", &source.url, "--store"])
            .arg(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let started = Instant::now();
        let pid = loop {
            if let Some(pid) = child_named(child.id(), "pg_dump", "--snapshot") {
                break pid;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "pg_dump never started"
            );
            std::thread::sleep(Duration::from_millis(2));
        };
        std::thread::sleep(Duration::from_millis(150));
        if how == "kill pg_dump" {
            Command::new("kill")
                .args(["-9", &pid.to_string()])
                .status()
                .unwrap();
        } else {
            // What a server restart looks like to pg_dump: its connection is cut.
            admin
                .execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                     WHERE datname = current_database() AND application_name = 'pg_dump'",
                    &[],
                )
                .await
                .unwrap();
        }
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{how}: {stderr}");
        assert!(stderr.contains("pg_dump failed"), "{how}: {stderr}");
        assert_eq!(files_in(dir.path()), Vec::<String>::new(), "{how}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_s3_server_that_is_down_before_the_upload_gives_a_clear_error() {
    let (source, _) = TestDb::catalog(10).await.unwrap();
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    cli()
        .env("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
        .env("AWS_SECRET_ACCESS_KEY", "secret-never-printed")
        .args(["backup", "--database-url", &source.url, "--store"])
        .arg(format!(
            "s3://bucket/x?endpoint=http://127.0.0.1:{closed}&region=us-east-1&path_style=true"
        ))
        .timeout(Duration::from_secs(120))
        .assert()
        .code(1)
        .stderr(contains(format!("cannot reach http://127.0.0.1:{closed}")))
        .stderr(contains("secret-never-printed").not());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_mid_backup_cancels_and_cleans_up_locally_and_in_s3() {
    use backstage_backup_testkit::S3Server;
    let source = bulky_db(1_500_000).await;
    let dir = tempfile::tempdir().unwrap();
    let s3 = S3Server::shared().await.unwrap();
    let bucket = s3.create_bucket().await.unwrap();
    for store in [
        dir.path().to_str().unwrap().to_string(),
        s3.store_url(&bucket, "term"),
    ] {
        let child = cli_std()
            .envs(s3.env())
            .args(["backup", "--database-url", &source.url, "--store", &store])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let started = Instant::now();
        while child_named(child.id(), "pg_dump", "--snapshot").is_none() {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "pg_dump never started"
            );
            std::thread::sleep(Duration::from_millis(2));
        }
        std::thread::sleep(Duration::from_millis(300));
        // What Kubernetes sends a CronJob's pod before killing it.
        Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(130), "{store}: {stderr}");
        assert!(stderr.contains("cancelled"), "{stderr}");
    }
    assert_eq!(files_in(dir.path()), Vec::<String>::new());
    assert_bucket_empty(s3, &bucket).await;
}
