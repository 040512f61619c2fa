//! A dump planted in the store must never run anything: psql meta-commands and SQL that reaches
//! the operating system are refused while the dump streams, by `verify` (naming the line),
//! `restore` and `drill` (exit 4, the command never ran, the target unchanged).

mod common;

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use backstage_backup_testkit::TestDb;
use common::*;
use predicates::str::contains;

/// A real plain pg_dump of a small catalog, as text.
async fn real_dump() -> (TestDb, String) {
    let (source, _) = TestDb::catalog(20).await.unwrap();
    let out = Command::new("pg_dump").arg(&source.url).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (source, String::from_utf8(out.stdout).unwrap())
}

fn gzip_to(path: &Path, text: &str) {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
    gz.write_all(text.as_bytes()).unwrap();
    std::fs::write(path, gz.finish().unwrap()).unwrap();
}

/// `dump` with `planted` inserted before line `at` (1-based): the planted text's first line
/// becomes line `at`.
fn plant(dump: &str, at: usize, planted: &str) -> String {
    let mut lines: Vec<&str> = dump.split_inclusive('\n').collect();
    lines.insert(at - 1, planted);
    lines.concat()
}

/// The line after pg_dump's `set_config('search_path', …)` header statement.
fn after_header(dump: &str) -> usize {
    dump.lines()
        .position(|l| l.contains("set_config('search_path'"))
        .expect("pg_dump header")
        + 2
}

/// The line after the first COPY block's `\.`.
fn after_first_copy(dump: &str) -> usize {
    let lines: Vec<&str> = dump.lines().collect();
    let copy = lines
        .iter()
        .position(|l| l.starts_with("COPY ") && l.ends_with("FROM stdin;"))
        .expect("a COPY block");
    copy + lines[copy..].iter().position(|l| *l == "\\.").unwrap() + 2
}

/// A folder where the command under test, or the database server (another user), could write
/// the marker: it stays absent only if nothing ran.
fn marker_dir() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let marker = dir.path().join("PWNED");
    (dir, marker)
}

struct Case {
    name: &'static str,
    /// Builds the planted text from the marker's path.
    planted: fn(&str) -> String,
    /// Where it goes.
    at: fn(&str) -> usize,
    /// Which line of the planted text is the refused one (0: its first).
    offset: usize,
    says: &'static str,
}

const CASES: &[Case] = &[
    Case {
        name: "shell escape",
        planted: |m| format!("\\! touch {m}\n"),
        at: after_header,
        offset: 0,
        says: "\\!",
    },
    Case {
        name: "output to a pipe",
        planted: |m| format!("\\o |touch {m}\nSELECT 1;\n"),
        at: after_header,
        offset: 0,
        says: "\\o",
    },
    Case {
        name: "mid-line shell escape",
        planted: |m| format!("SELECT 1; \\! touch {m}\n"),
        at: after_header,
        offset: 0,
        says: "\\!",
    },
    Case {
        name: "COPY TO PROGRAM",
        planted: |m| {
            format!("CREATE TABLE public.ux (x int);\nCOPY public.ux TO PROGRAM 'touch {m}';\n")
        },
        at: after_header,
        offset: 1,
        says: "COPY … TO",
    },
    Case {
        name: "meta-command after a COPY block",
        planted: |m| format!("\\! touch {m}\n"),
        at: after_first_copy,
        offset: 0,
        says: "\\!",
    },
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn planted_commands_are_refused_by_verify_restore_and_drill_and_never_run() {
    let (_source, dump) = real_dump().await;
    let work = tempfile::tempdir().unwrap();

    // The real dump itself passes: verified and restored unchanged.
    let good = work.path().join("good.sql.gz");
    gzip_to(&good, &dump);
    cli().arg("verify").arg(&good).assert().success();

    let (target, _) = TestDb::catalog(5).await.unwrap();
    let before = fingerprint(&target).await;
    let server = TestDb::empty().await.unwrap();

    for case in CASES {
        let (_dir, marker) = marker_dir();
        let planted = (case.planted)(marker.to_str().unwrap());
        let at = (case.at)(&dump);
        let line = at + case.offset;
        let evil = plant(&dump, at, &planted);
        let file = work.path().join("evil.sql.gz");
        gzip_to(&file, &evil);
        let name = case.name;

        cli()
            .arg("verify")
            .arg(&file)
            .assert()
            .code(4)
            .stdout(contains(format!("line {line} of the dump")))
            .stdout(contains(case.says));

        cli()
            .arg("restore")
            .arg(&file)
            .args([
                "--yes",
                "--clean",
                "--no-safety-backup",
                "--database-url",
                &target.url,
            ])
            .assert()
            .code(4)
            .stderr(contains(format!("line {line} of the dump")))
            .stderr(contains("left unchanged"));
        assert!(!marker.exists(), "{name}: restore ran the planted command");
        assert_eq!(fingerprint(&target).await, before, "{name}: target changed");

        let store = tempfile::tempdir().unwrap();
        std::fs::copy(
            &file,
            store
                .path()
                .join("backstage-catalog-20261203_000000.sql.gz"),
        )
        .unwrap();
        cli()
            .args(["drill", "latest", "--store"])
            .arg(store.path())
            .args(["--database-url", &server.url])
            .assert()
            .code(4)
            .stdout(contains("FAILED drill"))
            .stdout(contains(format!("line {line} of the dump")));
        assert!(!marker.exists(), "{name}: drill ran the planted command");
    }
}
