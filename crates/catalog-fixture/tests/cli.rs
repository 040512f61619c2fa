//! The `catalog-fixture` binary: --if-missing, --replace, --json, errors.

mod common;

use common::{admin_url, with_databases};
use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_catalog-fixture"))
        .args(args)
        .env_remove("BACKSTAGE_BACKUP_TEST_DATABASE_URL")
        .output()
        .expect("running catalog-fixture")
}

fn json(out: &Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

#[tokio::test]
async fn if_missing_and_replace() {
    with_databases(&["cli"], |names| async move {
        let url = admin_url();
        let db = names[0].as_str();
        let base = [
            "--admin-url",
            url.as_str(),
            "--database",
            db,
            "--entities",
            "40",
        ];

        let created = json(&run(&[&base[..], &["--json"]].concat()));
        assert_eq!(created["created"], true);
        assert_eq!(created["total"], 40);
        assert_eq!(created["counts_by_kind"]["component"], 14);

        let again = run(&base);
        assert!(!again.status.success());
        assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));

        let kept = run(&[&base[..], &["--if-missing"]].concat());
        assert!(kept.status.success());
        assert!(String::from_utf8_lossy(&kept.stdout).contains("already exists"));

        let replaced = run(&[&base[..], &["--replace", "--seed", "9"]].concat());
        assert!(
            replaced.status.success(),
            "{}",
            String::from_utf8_lossy(&replaced.stderr)
        );
        let text = String::from_utf8_lossy(&replaced.stdout);
        assert!(
            text.contains("component") && text.contains("40 entities"),
            "{text}"
        );
    })
    .await;
}

#[test]
fn unreachable_server_is_explained_without_the_password() {
    let out = run(&[
        "--admin-url",
        "postgresql://postgres:sekrit@127.0.0.1:1/postgres",
        "--database",
        "never_created",
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("127.0.0.1:1"), "{err}");
    assert!(err.contains("start"), "{err}");
    assert!(!err.contains("sekrit"), "{err}");
}
