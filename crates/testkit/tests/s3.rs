//! S3Server: a real SeaweedFS on loopback.

use std::time::Instant;

use anyhow::{Context, Result};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{ChecksumAlgorithm, CompletedMultipartUpload, CompletedPart};
use backstage_backup_testkit::S3Server;

async fn get(server: &S3Server, bucket: &str, key: &str) -> Result<Vec<u8>> {
    let out = server
        .client()
        .await
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .with_context(|| format!("get {bucket}/{key}"))?;
    Ok(out.body.collect().await?.into_bytes().to_vec())
}

#[tokio::test]
async fn owned_server_put_get_round_trip() -> Result<()> {
    let t0 = Instant::now();
    let server = S3Server::start().await?;
    let ready = t0.elapsed();
    assert!(server.endpoint.starts_with("http://127.0.0.1:"));
    let bucket = server.create_bucket().await?;
    let client = server.client().await;
    let data: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
    client
        .put_object()
        .bucket(&bucket)
        .key("dir/one.bin")
        .body(ByteStream::from(data.clone()))
        .send()
        .await?;
    client
        .put_object()
        .bucket(&bucket)
        .key("other/two.bin")
        .body(ByteStream::from_static(b"two"))
        .send()
        .await?;
    assert_eq!(get(&server, &bucket, "dir/one.bin").await?, data);
    assert_eq!(
        server.list_keys(&bucket, "dir/").await?,
        vec!["dir/one.bin"]
    );
    assert_eq!(server.list_keys(&bucket, "").await?.len(), 2);

    // A wrong SHA-256 is refused: the server really checks checksums.
    let bad = client
        .put_object()
        .bucket(&bucket)
        .key("bad")
        .checksum_sha256("47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=") // SHA-256 of ""
        .body(ByteStream::from_static(b"not empty"))
        .send()
        .await;
    assert!(bad.is_err(), "a wrong x-amz-checksum-sha256 was accepted");

    // Unknown credentials are refused: SigV4 is checked.
    let conf = server
        .client()
        .await
        .config()
        .to_builder()
        .credentials_provider(aws_sdk_s3::config::Credentials::new(
            &server.access_key,
            "wrong-secret",
            None,
            None,
            "test",
        ))
        .build();
    let forged = aws_sdk_s3::Client::from_conf(conf)
        .get_object()
        .bucket(&bucket)
        .key("dir/one.bin")
        .send()
        .await;
    assert!(forged.is_err(), "a wrong secret key was accepted");

    eprintln!(
        "weed mini: ready (writes accepted) {:.2}s after spawn, RSS {} MiB",
        ready.as_secs_f64(),
        server.rss_bytes().unwrap_or(0) / (1024 * 1024)
    );
    Ok(())
}

#[tokio::test]
async fn store_url_and_env() -> Result<()> {
    let server = S3Server::shared().await?;
    assert_eq!(
        server.store_url("b", "some/prefix"),
        format!(
            "s3://b/some/prefix?endpoint={}&region=us-east-1&path_style=true",
            server.endpoint
        )
    );
    let env = server.env();
    let get = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    assert_eq!(get("AWS_ACCESS_KEY_ID"), Some(server.access_key.clone()));
    assert_eq!(
        get("AWS_SECRET_ACCESS_KEY"),
        Some(server.secret_key.clone())
    );
    assert_eq!(get("AWS_REGION"), Some("us-east-1".to_string()));
    Ok(())
}

#[tokio::test]
async fn unfinished_multipart_upload_is_reported_until_aborted() -> Result<()> {
    let server = S3Server::shared().await?;
    let bucket = server.create_bucket().await?;
    let client = server.client().await;
    assert!(server.open_multipart_uploads(&bucket).await?.is_empty());

    let upload = client
        .create_multipart_upload()
        .bucket(&bucket)
        .key("backups/big.dump")
        .checksum_algorithm(ChecksumAlgorithm::Sha256)
        .send()
        .await?;
    let upload_id = upload.upload_id().context("no upload id")?.to_string();
    let part = vec![b'x'; 5 * 1024 * 1024];
    client
        .upload_part()
        .bucket(&bucket)
        .key("backups/big.dump")
        .upload_id(&upload_id)
        .part_number(1)
        .checksum_algorithm(ChecksumAlgorithm::Sha256)
        .body(ByteStream::from(part))
        .send()
        .await?;
    assert_eq!(
        server.open_multipart_uploads(&bucket).await?,
        vec!["backups/big.dump"]
    );
    assert!(server.list_keys(&bucket, "").await?.is_empty());

    client
        .abort_multipart_upload()
        .bucket(&bucket)
        .key("backups/big.dump")
        .upload_id(&upload_id)
        .send()
        .await?;
    assert!(server.open_multipart_uploads(&bucket).await?.is_empty());
    Ok(())
}

#[tokio::test]
async fn completed_multipart_upload_round_trips() -> Result<()> {
    let server = S3Server::shared().await?;
    let bucket = server.create_bucket().await?;
    let client = server.client().await;
    let key = "backups/whole.dump";
    let upload = client
        .create_multipart_upload()
        .bucket(&bucket)
        .key(key)
        .checksum_algorithm(ChecksumAlgorithm::Sha256)
        .send()
        .await?;
    let upload_id = upload.upload_id().context("no upload id")?.to_string();
    let parts_data = [vec![1u8; 5 * 1024 * 1024], vec![2u8; 1000]];
    let mut parts = Vec::new();
    for (i, data) in parts_data.iter().enumerate() {
        let n = i as i32 + 1;
        let out = client
            .upload_part()
            .bucket(&bucket)
            .key(key)
            .upload_id(&upload_id)
            .part_number(n)
            .checksum_algorithm(ChecksumAlgorithm::Sha256)
            .body(ByteStream::from(data.clone()))
            .send()
            .await?;
        parts.push(
            CompletedPart::builder()
                .part_number(n)
                .set_e_tag(out.e_tag().map(str::to_string))
                .set_checksum_sha256(out.checksum_sha256().map(str::to_string))
                .build(),
        );
    }
    client
        .complete_multipart_upload()
        .bucket(&bucket)
        .key(key)
        .upload_id(&upload_id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(parts))
                .build(),
        )
        .send()
        .await?;
    assert!(server.open_multipart_uploads(&bucket).await?.is_empty());
    assert_eq!(get(server, &bucket, key).await?, parts_data.concat());
    Ok(())
}

#[tokio::test]
async fn kill_then_restart_keeps_objects() -> Result<()> {
    let mut server = S3Server::start().await?;
    let bucket = server.create_bucket().await?;
    server
        .client()
        .await
        .put_object()
        .bucket(&bucket)
        .key("kept")
        .body(ByteStream::from_static(b"survives a SIGKILL"))
        .send()
        .await?;
    let pid = server.weed_pid().context("no weed pid")?;
    let endpoint = server.endpoint.clone();

    server.kill();
    assert!(!server.is_running());
    assert!(
        !std::path::Path::new(&format!("/proc/{pid}")).exists(),
        "weed {pid} still exists after kill()"
    );
    let refused = server.client().await.list_buckets().send().await;
    assert!(refused.is_err(), "a killed server answered");

    let t0 = Instant::now();
    server.restart().await?;
    eprintln!(
        "weed mini: serving again {:.2}s after restart",
        t0.elapsed().as_secs_f64()
    );
    assert_eq!(server.endpoint, endpoint);
    assert_ne!(server.weed_pid(), Some(pid));
    assert_eq!(get(&server, &bucket, "kept").await?, b"survives a SIGKILL");
    Ok(())
}
