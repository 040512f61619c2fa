//! Backups that pick the same one-second name, and clean-up of unfinished backups: a backup
//! never writes over or deletes an object another backup wrote, and clean-up removes only what
//! is provably abandoned. On a local folder and on S3.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use backstage_backup_core::backup::{backup, BackupOptions};
use backstage_backup_core::listing::{list_backups, BackupStatus};
use backstage_backup_core::marker::{Marker, Owner};
use backstage_backup_core::naming::{BackupName, Part};
use backstage_backup_core::progress::NoProgress;
use backstage_backup_core::source::DumpSource;
use backstage_backup_core::store::{self, Store, StoreLocation};
use backstage_backup_core::{CancellationToken, ErrorKind};
use backstage_backup_testkit::S3Server;
use bytes::Bytes;
use chrono::{Duration, Utc};
use tokio::io::AsyncReadExt;

fn dump_file(dir: &Path) -> PathBuf {
    let path = dir.join("dump.sql");
    let mut text =
        String::from("--\n-- PostgreSQL database dump\n--\n\nSET statement_timeout = 0;\n");
    for i in 0..2000 {
        text.push_str(&format!("-- filler line {i}\n"));
    }
    text.push_str("\n--\n-- PostgreSQL database dump complete\n--\n\n");
    std::fs::write(&path, text).unwrap();
    path
}

fn options() -> BackupOptions {
    BackupOptions {
        plugin_id: Some("catalog".into()),
        threads: 1,
        ..Default::default()
    }
}

async fn take(store: &dyn Store, dump: &Path) -> backstage_backup_core::Result<String> {
    backup(
        store,
        &DumpSource::File(dump.to_path_buf()),
        &options(),
        Arc::new(NoProgress),
        &CancellationToken::new(),
    )
    .await
    .map(|m| m.id)
}

async fn read_all(store: &dyn Store, key: &str) -> Option<Vec<u8>> {
    let (mut reader, _) = store.get(key).await.ok()?;
    let mut out = Vec::new();
    reader.read_to_end(&mut out).await.unwrap();
    Some(out)
}

async fn stores() -> Vec<(Arc<dyn Store>, tempfile::TempDir)> {
    let dir = tempfile::tempdir().unwrap();
    let local = store::open(&StoreLocation::Local(dir.path().join("store")))
        .await
        .unwrap();
    let server = S3Server::shared().await.unwrap();
    let bucket = server.create_bucket().await.unwrap();
    for (k, v) in server.env() {
        std::env::set_var(k, v);
    }
    let s3 = store::open(&StoreLocation::parse(&server.store_url(&bucket, "names")).unwrap())
        .await
        .unwrap();
    vec![(local, dir), (s3, tempfile::tempdir().unwrap())]
}

fn marker(owner: Owner, age: Duration) -> Bytes {
    Bytes::from(
        Marker {
            started_at: Utc::now() - age,
            tool_version: "0.0.0".into(),
            token: "planted".into(),
            owner: Some(owner),
        }
        .to_json(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backups_started_in_one_second_each_finish_under_a_name_of_their_own() {
    for (store, dir) in stores().await {
        let dump = dump_file(dir.path());
        let runs: Vec<_> = (0..5)
            .map(|_| {
                let (store, dump) = (store.clone(), dump.clone());
                tokio::spawn(async move { take(store.as_ref(), &dump).await })
            })
            .collect();
        let mut ids = Vec::new();
        for run in runs {
            ids.push(run.await.unwrap().expect("every twin finishes"));
        }
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 5, "{} : {ids:?}", store.describe());
        let listed = list_backups(store.as_ref()).await.unwrap();
        assert_eq!(listed.len(), 5, "{}", store.describe());
        assert!(listed.iter().all(|e| e.status == BackupStatus::Complete));
        let keys: Vec<String> = store
            .list()
            .await
            .unwrap()
            .into_iter()
            .map(|o| o.key)
            .collect();
        assert!(!keys.iter().any(|k| k.ends_with(".incomplete")), "{keys:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_held_by_a_running_or_finished_backup_is_never_written_over_or_cleaned_up() {
    for (store, dir) in stores().await {
        let dump = dump_file(dir.path());
        let now = Utc::now();
        let mut planted: Vec<(String, Bytes)> = Vec::new();
        // Every name this backup could pick in its eight tries: running twins hold the even
        // seconds' markers, finished twins (marker already gone) the odd seconds' names.
        for second in -1..14 {
            let name = BackupName::new("catalog", now + Duration::seconds(second)).unwrap();
            if second % 2 == 0 {
                planted.push((
                    name.key(Part::Marker),
                    marker(Owner::this_process(), Duration::zero()),
                ));
            } else {
                planted.push((name.key(Part::Data), Bytes::from_static(b"the twin's data")));
                planted.push((
                    name.key(Part::Sidecar),
                    Bytes::from_static(b"the twin's sidecar"),
                ));
                planted.push((
                    name.key(Part::Manifest),
                    Bytes::from_static(b"{\"twin\":1}"),
                ));
            }
        }
        for (key, body) in &planted {
            store.put(key, body.clone()).await.unwrap();
        }
        let err = take(store.as_ref(), &dump).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::AlreadyExists, "{err}");
        assert!(err.message().contains("another backup"), "{err}");
        for (key, body) in &planted {
            assert_eq!(
                read_all(store.as_ref(), key).await.as_deref(),
                Some(body.as_ref()),
                "{} lost or changed {key}",
                store.describe()
            );
        }
        assert_eq!(store.list().await.unwrap().len(), planted.len());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_backups_known_to_be_abandoned_are_cleared() {
    let mut running = std::process::Command::new("sleep")
        .arg("120")
        .spawn()
        .unwrap();
    let mut finished = std::process::Command::new("true").spawn().unwrap();
    let dead_pid = finished.id();
    finished.wait().unwrap();
    for (store, dir) in stores().await {
        let dump = dump_file(dir.path());
        let here = Owner::this_process();
        let other_host = Owner {
            host: format!("{}-elsewhere", here.host),
            ..here.clone()
        };
        let rebooted = Owner {
            boot_id: Some("00000000-0000-0000-0000-000000000000".into()),
            ..here.clone()
        };
        let other_container = Owner {
            pid_namespace: Some("pid:[1]".into()),
            pid: dead_pid,
            ..here.clone()
        };
        let young = Duration::minutes(10);
        let old = Duration::hours(25);
        // (age, marker owner, whether clean-up may remove it)
        let cases = [
            (
                young,
                Some(Owner {
                    pid: running.id(),
                    ..here.clone()
                }),
                false,
            ),
            (
                young,
                Some(Owner {
                    pid: dead_pid,
                    ..here.clone()
                }),
                true,
            ),
            (young, Some(other_host.clone()), false),
            (young, Some(other_container), false),
            (young, Some(rebooted), true),
            (young, None, false),
            (old, Some(other_host), true),
            (old, None, true),
        ];
        let mut names = Vec::new();
        for (i, (age, owner, _)) in cases.iter().enumerate() {
            let name = BackupName::new("catalog", Utc::now() - *age - Duration::seconds(i as i64))
                .unwrap();
            store
                .put(&name.key(Part::Data), Bytes::from_static(b"partial"))
                .await
                .unwrap();
            match owner {
                Some(owner) => store
                    .put(&name.key(Part::Marker), marker(owner.clone(), *age))
                    .await
                    .unwrap(),
                // An unfinished backup without a marker: its sidecar shows it was cut off.
                None => store
                    .put(&name.key(Part::Sidecar), Bytes::from_static(b"x"))
                    .await
                    .unwrap(),
            }
            names.push(name);
        }
        // A running backup of another plugin's database is not this backup's to judge.
        let other_plugin = BackupName::new("scaffolder", Utc::now() - old).unwrap();
        store
            .put(&other_plugin.key(Part::Marker), marker(here.clone(), old))
            .await
            .unwrap();
        let id = take(store.as_ref(), &dump).await.unwrap();
        for ((_, owner, removable), name) in cases.iter().zip(&names) {
            let left = read_all(store.as_ref(), &name.key(Part::Data))
                .await
                .is_some();
            assert_eq!(
                left,
                !removable,
                "{}: {owner:?} {}",
                store.describe(),
                name.id()
            );
        }
        assert!(read_all(store.as_ref(), &other_plugin.key(Part::Marker))
            .await
            .is_some());
        let listed = list_backups(store.as_ref()).await.unwrap();
        assert!(listed
            .iter()
            .any(|e| e.id() == id && e.status == BackupStatus::Complete));
    }
    running.kill().unwrap();
    running.wait().unwrap();
}
