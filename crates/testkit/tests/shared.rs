//! `S3Server::shared()` across concurrently running tests (each with its own tokio runtime).
//! This binary holds only these two tests, so that they do run at the same time.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::Result;
use aws_sdk_s3::primitives::ByteStream;
use backstage_backup_testkit::S3Server;

static ARRIVED: AtomicUsize = AtomicUsize::new(0);
static SEEN: Mutex<Vec<(String, usize)>> = Mutex::new(Vec::new());

/// Both tests call `shared()` at about the same moment (unless tests run one at a time, in
/// which case each waits at most a few seconds for the other) and must get the same server.
async fn use_shared_concurrently(name: &str) -> Result<()> {
    ARRIVED.fetch_add(1, Ordering::SeqCst);
    let t0 = Instant::now();
    while ARRIVED.load(Ordering::SeqCst) < 2 && t0.elapsed() < Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let server = S3Server::shared().await?;
    SEEN.lock()
        .unwrap()
        .push((server.endpoint.clone(), server as *const S3Server as usize));

    // The server works from this test's own runtime, whichever runtime started it.
    let bucket = server.create_bucket().await?;
    server
        .client()
        .await
        .put_object()
        .bucket(&bucket)
        .key(name)
        .body(ByteStream::from_static(b"hello"))
        .send()
        .await?;
    assert_eq!(server.list_keys(&bucket, "").await?, vec![name.to_string()]);

    let t0 = Instant::now();
    while SEEN.lock().unwrap().len() < 2 && t0.elapsed() < Duration::from_secs(60) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let seen = SEEN.lock().unwrap().clone();
    assert_eq!(
        seen.len(),
        2,
        "the other test did not get a server: {seen:?}"
    );
    assert_eq!(seen[0], seen[1], "two different shared servers");
    Ok(())
}

#[tokio::test]
async fn shared_from_test_a() -> Result<()> {
    use_shared_concurrently("a").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shared_from_test_b() -> Result<()> {
    use_shared_concurrently("b").await
}
