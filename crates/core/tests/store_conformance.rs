//! One conformance suite for every `Store`: a local folder, a real S3 server (SeaweedFS) and
//! the memory store must behave the same to everything above them.

use std::sync::Arc;

use backstage_backup_core::store::{self, Store, StoreLocation};
use backstage_backup_core::ErrorKind;
use backstage_backup_testkit::S3Server;
use bytes::Bytes;
use tokio::io::AsyncReadExt;

async fn read_all(store: &dyn Store, key: &str) -> Vec<u8> {
    let (mut reader, size) = store.get(key).await.unwrap();
    let mut out = Vec::new();
    reader.read_to_end(&mut out).await.unwrap();
    assert_eq!(out.len() as u64, size);
    out
}

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    let mut x = seed as u32 | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

/// Small objects: put replaces, put_new refuses to, get_small refuses what is over its limit.
async fn small_objects(store: &dyn Store) {
    store
        .put("a.json", Bytes::from_static(b"one"))
        .await
        .unwrap();
    store
        .put("a.json", Bytes::from_static(b"two"))
        .await
        .unwrap();
    assert_eq!(read_all(store, "a.json").await, b"two");
    let err = store
        .put_new("a.json", Bytes::from_static(b"three"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AlreadyExists);
    store
        .put_new("b.lock", Bytes::from_static(b"mine"))
        .await
        .unwrap();
    assert_eq!(store.get_small("b.lock", 100).await.unwrap(), b"mine");
    assert_eq!(
        store.get_small("a.json", 2).await.unwrap_err().kind(),
        ErrorKind::Integrity
    );
}

/// Missing objects are NotFound; deleting one is not an error.
async fn missing_objects(store: &dyn Store) {
    assert_eq!(
        store.get("missing").await.err().unwrap().kind(),
        ErrorKind::NotFound
    );
    store.delete("missing").await.unwrap();
}

/// A streamed upload larger than one S3 part, in uneven chunks: invisible until complete;
/// completing onto an existing object fails and leaves the original. Returns the data.
async fn streamed_uploads(store: &dyn Store) -> Vec<u8> {
    let data = pattern(19 * 1024 * 1024 + 12_345, 7);
    let mut upload = store.start_upload("big.sql.gz").await.unwrap();
    for chunk in data.chunks(1_000_003) {
        upload.write(Bytes::copy_from_slice(chunk)).await.unwrap();
    }
    assert!(!store
        .list()
        .await
        .unwrap()
        .iter()
        .any(|o| o.key == "big.sql.gz"));
    assert_eq!(store.pending_uploads().await.unwrap().len(), 1);
    upload.complete().await.unwrap();
    assert!(store.pending_uploads().await.unwrap().is_empty());
    assert_eq!(read_all(store, "big.sql.gz").await, data);

    let mut upload = store.start_upload("big.sql.gz").await.unwrap();
    upload.write(Bytes::from_static(b"other")).await.unwrap();
    assert_eq!(
        upload.complete().await.unwrap_err().kind(),
        ErrorKind::AlreadyExists
    );
    assert_eq!(read_all(store, "big.sql.gz").await, data);
    assert!(store.pending_uploads().await.unwrap().is_empty());
    data
}

/// Aborted uploads leave nothing.
async fn aborted_uploads(store: &dyn Store) {
    let mut upload = store.start_upload("gone.sql.gz").await.unwrap();
    upload
        .write(Bytes::from(pattern(9 * 1024 * 1024, 3)))
        .await
        .unwrap();
    upload.abort().await.unwrap();
    assert!(store.pending_uploads().await.unwrap().is_empty());
    assert_eq!(
        store.get("gone.sql.gz").await.err().unwrap().kind(),
        ErrorKind::NotFound
    );
}

/// An upload abandoned by a dead process is pending until aborted through the listing.
async fn abandoned_uploads(store: &dyn Store) {
    let mut upload = store.start_upload("orphan.sql.gz").await.unwrap();
    upload.write(Bytes::from(pattern(1024, 1))).await.unwrap();
    std::mem::forget(upload);
    let pending = store.pending_uploads().await.unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].key, "orphan.sql.gz");
    assert!(pending[0].started.is_some());
    store.abort_pending(&pending[0]).await.unwrap();
    assert!(store.pending_uploads().await.unwrap().is_empty());
}

/// Listing: sizes, sorted keys, nothing but the objects; deleting empties the store.
async fn listing(store: &dyn Store, big: usize) {
    let listed: Vec<(String, u64)> = store
        .list()
        .await
        .unwrap()
        .into_iter()
        .map(|o| (o.key, o.size))
        .collect();
    assert_eq!(
        listed,
        vec![
            ("a.json".into(), 3),
            ("b.lock".into(), 4),
            ("big.sql.gz".into(), big as u64)
        ]
    );
    for key in ["a.json", "b.lock", "big.sql.gz"] {
        store.delete(key).await.unwrap();
    }
    assert!(store.list().await.unwrap().is_empty());
}

/// Every store runs every part, in this order (the listing checks what the others left).
async fn conformance(store: Arc<dyn Store>) {
    let store = store.as_ref();
    assert!(store.list().await.unwrap().is_empty());
    small_objects(store).await;
    missing_objects(store).await;
    let big = streamed_uploads(store).await.len();
    aborted_uploads(store).await;
    abandoned_uploads(store).await;
    listing(store, big).await;
}

#[tokio::test]
async fn a_memory_store_conforms() {
    conformance(Arc::new(store::MemoryStore::new())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_local_folder_conforms() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("nested/backups");
    let store = store::open(&StoreLocation::Local(root.clone()))
        .await
        .unwrap();
    conformance(store).await;
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&root).unwrap().permissions().mode() & 0o777,
        0o700
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_conforms() {
    let server = S3Server::shared().await.unwrap();
    let bucket = server.create_bucket().await.unwrap();
    for (k, v) in server.env() {
        // The SDK's credential chain reads the environment, as it would in production.
        std::env::set_var(k, v);
    }
    let location = StoreLocation::parse(&server.store_url(&bucket, "team/prod")).unwrap();
    conformance(store::open(&location).await.unwrap()).await;
    // Objects outside the prefix are not the store's.
    let client = server.client().await;
    for key in ["elsewhere.sql.gz", "team/prod/deeper/x.sql.gz"] {
        client
            .put_object()
            .bucket(&bucket)
            .key(key)
            .body(b"x".to_vec().into())
            .send()
            .await
            .unwrap();
    }
    let store = store::open(&location).await.unwrap();
    assert!(store.list().await.unwrap().is_empty());
}
