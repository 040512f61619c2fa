//! Shared helpers for the CLI's integration tests: the built binary with a clean environment,
//! and ways to compare databases row for row.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};

use backstage_backup_testkit::{S3Server, TestDb};

/// The `backstage-backup` binary with no inherited database, store or AWS settings.
pub fn cli() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("backstage-backup").unwrap();
    clear_env(cmd.env_remove("DATABASE_URL"));
    cmd
}

/// The same, as a std command (for spawning and killing).
pub fn cli_std() -> Command {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("backstage-backup"));
    for var in VARS {
        cmd.env_remove(var);
    }
    cmd
}

const VARS: &[&str] = &[
    "DATABASE_URL",
    "PGHOST",
    "PGPORT",
    "PGUSER",
    "PGPASSWORD",
    "PGDATABASE",
    "BACKSTAGE_BACKUP_STORE",
    "BACKSTAGE_BACKUP_SIGNING_KEY",
    "BACKSTAGE_BACKUP_ALLOW_UNSIGNED",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_REGION",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
];

fn clear_env(cmd: &mut assert_cmd::Command) -> &mut assert_cmd::Command {
    for var in VARS {
        cmd.env_remove(var);
    }
    cmd
}

/// `cli()` with the S3 server's credentials in its environment.
pub fn cli_s3(s3: &S3Server) -> assert_cmd::Command {
    let mut cmd = cli();
    with_s3(&mut cmd, s3);
    cmd
}

pub fn with_s3(cmd: &mut assert_cmd::Command, s3: &S3Server) {
    for (k, v) in s3.env() {
        cmd.env(k, v);
    }
}

pub fn json_of(output: &[u8]) -> serde_json::Value {
    serde_json::from_slice(output)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(output)))
}

/// `backstage-backup backup --json` of `db` into a local store: the manifest.
pub fn backup_json(db: &TestDb, store: &str) -> serde_json::Value {
    json_of(
        &cli()
            .args([
                "backup",
                "--json",
                "--database-url",
                &db.url,
                "--store",
                store,
            ])
            .assert()
            .success()
            .get_output()
            .stdout,
    )
}

/// Nothing left in the bucket: no object, no open multipart upload.
pub async fn assert_bucket_empty(s3: &S3Server, bucket: &str) {
    assert_eq!(
        s3.list_keys(bucket, "").await.unwrap(),
        Vec::<String>::new()
    );
    assert_eq!(
        s3.open_multipart_uploads(bucket).await.unwrap(),
        Vec::<String>::new()
    );
}

/// `backstage-backup list --json --store STORE` (a local store).
pub fn list_json(store: impl AsRef<std::ffi::OsStr>) -> serde_json::Value {
    json_of(
        &cli()
            .args(["list", "--json", "--store"])
            .arg(store)
            .assert()
            .success()
            .get_output()
            .stdout,
    )
}

/// Every user table's row count and an order-independent hash of its rows.
pub async fn fingerprint(db: &TestDb) -> BTreeMap<String, (i64, String)> {
    let client = db.client().await.unwrap();
    let tables = client
        .query(
            "SELECT quote_ident(table_name) FROM information_schema.tables \
             WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1",
            &[],
        )
        .await
        .unwrap();
    let mut out = BTreeMap::new();
    for row in tables {
        let table: String = row.get(0);
        let sql = format!(
            "SELECT count(*), coalesce(md5(string_agg(md5(t::text), '' ORDER BY md5(t::text))), '') FROM {table} t"
        );
        let r = client.query_one(&sql, &[]).await.unwrap();
        out.insert(table, (r.get::<_, i64>(0), r.get::<_, String>(1)));
    }
    out
}

/// The runbook's restore: `gunzip -c FILE | psql`.
pub fn runbook_restore(file: &Path, db: &TestDb) {
    let status = Command::new("sh")
        .arg("-c")
        .arg("gunzip -c \"$1\" | psql -q -v ON_ERROR_STOP=1 \"$2\" > /dev/null")
        .arg("sh")
        .arg(file)
        .arg(&db.url)
        .stderr(Stdio::inherit())
        .status()
        .unwrap();
    assert!(status.success(), "gunzip | psql failed");
}

/// Names in a folder, sorted, hidden ones included.
pub fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// A database holding a table of poorly compressible text, `rows` × ~70 bytes of dump.
pub async fn bulky_db(rows: i64) -> TestDb {
    let db = TestDb::empty().await.unwrap();
    let client = db.client().await.unwrap();
    client
        .batch_execute(&format!(
            "CREATE TABLE bulk (id bigint PRIMARY KEY, a text, b text); \
             INSERT INTO bulk SELECT i, md5(i::text), md5((i::bigint * 7919)::text) FROM generate_series(1, {rows}) i;"
        ))
        .await
        .unwrap();
    db
}

/// How the catalog's TOASTed JSON values are compressed: (LZ4, pglz) value counts.
pub async fn toast_compression(db: &TestDb) -> (i64, i64) {
    let row = db
        .client()
        .await
        .unwrap()
        .query_one(
            "SELECT count(*) FILTER (WHERE c = 'lz4'), count(*) FILTER (WHERE c = 'pglz') FROM ( \
             SELECT pg_column_compression(final_entity) AS c FROM final_entities \
             UNION ALL SELECT pg_column_compression(processed_entity) FROM refresh_state) v",
            &[],
        )
        .await
        .unwrap();
    (row.get(0), row.get(1))
}
