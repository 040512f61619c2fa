//! S3 and S3-compatible servers. Large objects go up as multipart uploads with a SHA-256 per
//! part (the SDK's default CRC32 streaming checksums corrupt bodies on some compatible servers),
//! a few parts in flight at once, part sizes that grow so 10,000 parts always suffice, and an
//! abort on any failure: an object is visible whole or not at all.

use std::time::Duration;

use async_trait::async_trait;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region};
use aws_credential_types::provider::error::CredentialsError;
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    ChecksumAlgorithm, CompletedMultipartUpload, CompletedPart, ServerSideEncryption as AwsSse,
};
use aws_sdk_s3::Client;
use bytes::{Bytes, BytesMut};
use chrono::{DateTime, Utc};
use sha2::{Digest as _, Sha256};
use tokio::task::JoinSet;

use super::{ObjectMeta, ObjectReader, PendingUpload, Store, Upload};
use crate::error::{Cause, Error, Result};
use crate::location::{S3Location, ServerSideEncryption};

/// First parts are 6 MiB (S3's minimum is 5); the size doubles every 1,000 parts
/// (6 MiB × 1,000 × (2¹⁰ − 1) ≈ 5.9 TiB within 10,000 parts, above S3's 5 TiB object limit).
/// Small parts keep memory low: a part is buffered whole, and two are in flight.
const FIRST_PART_SIZE: usize = 6 << 20;
const PARTS_PER_SIZE_STEP: i32 = 1000;
/// Parts uploading at once: enough to hide latency, few enough to keep memory bounded.
const MAX_PARTS_IN_FLIGHT: usize = 2;

pub fn part_size(part_number: i32) -> usize {
    let step = ((part_number.max(1) - 1) / PARTS_PER_SIZE_STEP).min(9) as u32;
    FIRST_PART_SIZE << step
}

#[derive(Debug, Clone)]
pub struct S3Store {
    client: Client,
    location: S3Location,
}

impl S3Store {
    /// Builds a client from the standard AWS chain (environment, profiles and SSO, web
    /// identity, instance roles) with the URL's region, endpoint and addressing on top.
    pub async fn connect(location: S3Location) -> Result<Self> {
        Self::connect_with(location, None).await
    }

    /// As `connect`, with credentials given by the caller instead of the AWS chain.
    pub async fn connect_with(
        location: S3Location,
        credentials: Option<&super::S3Credentials>,
    ) -> Result<Self> {
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .retry_config(
                RetryConfig::standard()
                    // Six: a loaded S3-compatible server can answer one real 500 after a burst of 503s.
                    .with_max_attempts(6)
                    .with_initial_backoff(Duration::from_millis(200)),
            )
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(10))
                    .read_timeout(Duration::from_secs(120))
                    .build(),
            );
        if let Some(region) = &location.region {
            loader = loader.region(Region::new(region.clone()));
        }
        if let Some(given) = credentials {
            loader = loader.credentials_provider(aws_sdk_s3::config::Credentials::new(
                &given.access_key_id,
                &given.secret_access_key,
                given.session_token.clone(),
                None,
                "backstage-backup-configuration",
            ));
        }
        let shared = loader.load().await;
        let mut config = aws_sdk_s3::config::Builder::from(&shared);
        if shared.region().is_none() {
            if location.endpoint.is_none() && shared.endpoint_url().is_none() {
                return Err(Error::invalid(
                    "no AWS region is set for the S3 store: add ?region=… to the URL or set AWS_REGION",
                ));
            }
            // S3-compatible servers accept any region name; us-east-1 is the convention.
            config = config.region(Region::new("us-east-1"));
        }
        if let Some(endpoint) = &location.endpoint {
            config = config.endpoint_url(endpoint);
        }
        config = config.force_path_style(location.path_style);
        Ok(S3Store {
            client: Client::from_conf(config.build()),
            location,
        })
    }

    fn full_key(&self, key: &str) -> String {
        if self.location.prefix.is_empty() {
            key.to_string()
        } else {
            format!("{}/{}", self.location.prefix, key)
        }
    }

    fn list_prefix(&self) -> String {
        if self.location.prefix.is_empty() {
            String::new()
        } else {
            format!("{}/", self.location.prefix)
        }
    }

    /// The key relative to the prefix, for objects directly under it.
    fn relative<'a>(&self, full: &'a str) -> Option<&'a str> {
        let rest = full.strip_prefix(&self.list_prefix())?;
        (!rest.is_empty() && !rest.contains('/')).then_some(rest)
    }

    /// PutObject with a SHA-256; `exclusive` adds `If-None-Match: *` (S3's conditional write).
    async fn write_small(&self, key: &str, data: Bytes, exclusive: bool) -> Result<()> {
        let mut request = self
            .client
            .put_object()
            .bucket(&self.location.bucket)
            .key(self.full_key(key))
            .checksum_algorithm(ChecksumAlgorithm::Sha256)
            .checksum_sha256(sha256_base64(&data))
            .body(ByteStream::from(data));
        request = match &self.location.sse {
            None => request,
            Some(ServerSideEncryption::Aes256) => request.server_side_encryption(AwsSse::Aes256),
            Some(ServerSideEncryption::Kms { key_id }) => request
                .server_side_encryption(AwsSse::AwsKms)
                .set_ssekms_key_id(key_id.clone()),
        };
        if exclusive {
            request = request.if_none_match("*");
        }
        match request.send().await {
            Ok(_) => Ok(()),
            Err(e)
                if matches!(
                    e.code(),
                    Some("PreconditionFailed") | Some("ConditionalRequestConflict")
                ) =>
            {
                Err(Error::new(
                    crate::error::ErrorKind::AlreadyExists,
                    format!("{key} already exists in the store"),
                ))
            }
            Err(e) => Err(self.error("writing", key, e)),
        }
    }

    fn error<E, R>(&self, doing: &str, key: &str, err: SdkError<E, R>) -> Error
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug + Send + Sync + 'static,
    {
        s3_error(&self.location, doing, key, err)
    }
}

fn s3_error<E, R>(location: &S3Location, doing: &str, key: &str, err: SdkError<E, R>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    let bucket = &location.bucket;
    let code = err.code().map(str::to_string);
    let detail = DisplayErrorContext(&err).to_string();
    let what = format!("{doing} s3://{bucket}/{key}");
    let error = match code.as_deref() {
        Some("NoSuchKey") | Some("NotFound") => Error::not_found(format!("{what}: no such object")),
        Some("NoSuchBucket") => Error::store(format!(
            "{what}: bucket '{bucket}' does not exist; create it or fix the store URL"
        )),
        Some("AccessDenied") | Some("InvalidAccessKeyId") | Some("SignatureDoesNotMatch") => {
            Error::store(format!(
                "{what}: access denied ({}); check the AWS credentials and the bucket policy",
                code.unwrap_or_default()
            ))
        }
        // Before the dispatch arm: the SDK reports a failed credential chain as a failure to
        // send (it resolves credentials just before sending), which is not "cannot reach".
        _ if lacks_credentials(&err) => Error::with_cause(
            crate::error::ErrorKind::Store,
            Cause::NoCredentials,
            format!(
                "{what}: no usable AWS credentials ({detail}); set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, \
                 AWS_PROFILE, or run with an IAM role"
            ),
        ),
        _ => match &err {
            SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) => {
                let endpoint = location.endpoint.as_deref().unwrap_or("AWS S3");
                Error::store(format!(
                    "{what}: cannot reach {endpoint} ({detail}); check the endpoint, the network and that the server is up"
                ))
            }
            _ => Error::store(format!("{what}: {detail}")),
        },
    };
    error.with_source(err)
}

/// Whether the SDK gave up for want of credentials. The AWS credential chain fails with a
/// typed `CredentialsError` (not loaded, provider failed, timed out, misconfigured), which the
/// SDK keeps in the error's source chain; so the chain is walked rather than the text read.
fn lacks_credentials(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(err);
    while let Some(e) = next {
        if e.is::<CredentialsError>() {
            return true;
        }
        next = e.source();
    }
    false
}

fn sha256_base64(data: &[u8]) -> String {
    aws_smithy_types::base64::encode(Sha256::digest(data))
}

fn to_utc(time: Option<&aws_smithy_types::DateTime>) -> Option<DateTime<Utc>> {
    let t = time?;
    DateTime::from_timestamp(t.secs(), t.subsec_nanos())
}

#[async_trait]
impl Store for S3Store {
    fn describe(&self) -> String {
        super::StoreLocation::S3(self.location.clone()).describe()
    }

    async fn put(&self, key: &str, data: Bytes) -> Result<()> {
        self.write_small(key, data, false).await
    }

    async fn put_new(&self, key: &str, data: Bytes) -> Result<()> {
        self.write_small(key, data, true).await
    }

    async fn start_upload(&self, key: &str) -> Result<Box<dyn Upload>> {
        let full_key = self.full_key(key);
        let mut request = self
            .client
            .create_multipart_upload()
            .bucket(&self.location.bucket)
            .key(&full_key)
            .content_type("application/gzip")
            .checksum_algorithm(ChecksumAlgorithm::Sha256);
        request = match &self.location.sse {
            None => request,
            Some(ServerSideEncryption::Aes256) => request.server_side_encryption(AwsSse::Aes256),
            Some(ServerSideEncryption::Kms { key_id }) => request
                .server_side_encryption(AwsSse::AwsKms)
                .set_ssekms_key_id(key_id.clone()),
        };
        let created = request
            .send()
            .await
            .map_err(|e| self.error("starting the upload of", key, e))?;
        let upload_id = created
            .upload_id()
            .ok_or_else(|| Error::store("the S3 server returned no upload id"))?
            .to_string();
        Ok(Box::new(S3Upload {
            store: self.clone(),
            key: key.to_string(),
            full_key,
            upload_id,
            buffer: BytesMut::new(),
            next_part: 1,
            in_flight: JoinSet::new(),
            done: Vec::new(),
            open: true,
        }))
    }

    async fn get(&self, key: &str) -> Result<(ObjectReader, u64)> {
        let out = self
            .client
            .get_object()
            .bucket(&self.location.bucket)
            .key(self.full_key(key))
            .send()
            .await
            .map_err(|e| self.error("reading", key, e))?;
        let size = out.content_length().unwrap_or(0).max(0) as u64;
        Ok((Box::new(out.body.into_async_read()), size))
    }

    async fn list(&self) -> Result<Vec<ObjectMeta>> {
        let mut out = Vec::new();
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.location.bucket)
            .prefix(self.list_prefix())
            .delimiter("/")
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| self.error("listing", &self.list_prefix(), e))?;
            for object in page.contents() {
                let Some(key) = object.key().and_then(|k| self.relative(k)) else {
                    continue;
                };
                out.push(ObjectMeta {
                    key: key.to_string(),
                    size: object.size().unwrap_or(0).max(0) as u64,
                    modified: to_utc(object.last_modified()),
                });
            }
        }
        out.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(out)
    }

    async fn delete(&self, key: &str) -> Result<()> {
        self.client
            .delete_object()
            .bucket(&self.location.bucket)
            .key(self.full_key(key))
            .send()
            .await
            .map_err(|e| self.error("deleting", key, e))?;
        Ok(())
    }

    async fn pending_uploads(&self) -> Result<Vec<PendingUpload>> {
        let mut out = Vec::new();
        let (mut key_marker, mut id_marker) = (None::<String>, None::<String>);
        loop {
            let page = self
                .client
                .list_multipart_uploads()
                .bucket(&self.location.bucket)
                .prefix(self.list_prefix())
                .set_key_marker(key_marker.clone())
                .set_upload_id_marker(id_marker.clone())
                .send()
                .await
                .map_err(|e| self.error("listing uploads in", &self.list_prefix(), e))?;
            for upload in page.uploads() {
                let (Some(full), Some(id)) = (upload.key(), upload.upload_id()) else {
                    continue;
                };
                if let Some(key) = self.relative(full) {
                    out.push(PendingUpload {
                        key: key.to_string(),
                        started: to_utc(upload.initiated()),
                        handle: id.to_string(),
                    });
                }
            }
            if page.is_truncated() != Some(true) {
                break;
            }
            key_marker = page.next_key_marker().map(str::to_string);
            id_marker = page.next_upload_id_marker().map(str::to_string);
            if key_marker.is_none() && id_marker.is_none() {
                break;
            }
        }
        Ok(out)
    }

    async fn abort_pending(&self, pending: &PendingUpload) -> Result<()> {
        self.client
            .abort_multipart_upload()
            .bucket(&self.location.bucket)
            .key(self.full_key(&pending.key))
            .upload_id(&pending.handle)
            .send()
            .await
            .map_err(|e| self.error("aborting the upload of", &pending.key, e))?;
        Ok(())
    }
}

struct S3Upload {
    store: S3Store,
    key: String,
    full_key: String,
    upload_id: String,
    buffer: BytesMut,
    next_part: i32,
    in_flight: JoinSet<Result<CompletedPart>>,
    done: Vec<CompletedPart>,
    /// Neither completed nor aborted yet: Drop must abort.
    open: bool,
}

impl S3Upload {
    fn send_part(&mut self, body: Bytes) {
        let part_number = self.next_part;
        self.next_part += 1;
        let (client, bucket) = (
            self.store.client.clone(),
            self.store.location.bucket.clone(),
        );
        let (full_key, upload_id) = (self.full_key.clone(), self.upload_id.clone());
        let location = self.store.location.clone();
        let key = self.key.clone();
        self.in_flight.spawn(async move {
            let checksum = sha256_base64(&body);
            let out = client
                .upload_part()
                .bucket(bucket)
                .key(full_key)
                .upload_id(upload_id)
                .part_number(part_number)
                .checksum_algorithm(ChecksumAlgorithm::Sha256)
                .checksum_sha256(&checksum)
                .body(ByteStream::from(body))
                .send()
                .await
                .map_err(|e| {
                    s3_error(
                        &location,
                        &format!("uploading part {part_number} of"),
                        &key,
                        e,
                    )
                })?;
            Ok(CompletedPart::builder()
                .part_number(part_number)
                .set_e_tag(out.e_tag().map(str::to_string))
                .checksum_sha256(checksum)
                .build())
        });
    }

    async fn collect_one(&mut self) -> Result<()> {
        if let Some(joined) = self.in_flight.join_next().await {
            let part =
                joined.map_err(|e| Error::internal(format!("upload task failed: {e}")))??;
            self.done.push(part);
        }
        Ok(())
    }

    async fn abort_now(&mut self) -> Result<()> {
        self.open = false;
        self.in_flight.abort_all();
        while self.in_flight.join_next().await.is_some() {}
        self.store
            .client
            .abort_multipart_upload()
            .bucket(&self.store.location.bucket)
            .key(&self.full_key)
            .upload_id(&self.upload_id)
            .send()
            .await
            .map_err(|e| self.store.error("aborting the upload of", &self.key, e))?;
        Ok(())
    }

    async fn finish(&mut self) -> Result<()> {
        let last = self.buffer.split().freeze();
        if !last.is_empty() || self.next_part == 1 {
            self.send_part(last);
        }
        while !self.in_flight.is_empty() {
            self.collect_one().await?;
        }
        // Refuse to replace an existing backup (two writers are already kept apart by locks).
        let exists = self
            .store
            .client
            .head_object()
            .bucket(&self.store.location.bucket)
            .key(&self.full_key)
            .send()
            .await;
        match exists {
            Ok(_) => {
                return Err(Error::new(
                    crate::error::ErrorKind::AlreadyExists,
                    format!("{} already exists in the store", self.key),
                ))
            }
            Err(SdkError::ServiceError(e)) if e.err().is_not_found() => {}
            Err(e) => return Err(self.store.error("checking", &self.key, e)),
        }
        let mut parts = std::mem::take(&mut self.done);
        parts.sort_by_key(|p| p.part_number());
        self.store
            .client
            .complete_multipart_upload()
            .bucket(&self.store.location.bucket)
            .key(&self.full_key)
            .upload_id(&self.upload_id)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(parts))
                    .build(),
            )
            .send()
            .await
            .map_err(|e| self.store.error("completing the upload of", &self.key, e))?;
        self.open = false;
        Ok(())
    }
}

#[async_trait]
impl Upload for S3Upload {
    async fn write(&mut self, chunk: Bytes) -> Result<()> {
        self.buffer.extend_from_slice(&chunk);
        while self.buffer.len() >= part_size(self.next_part) {
            let body = self.buffer.split_to(part_size(self.next_part)).freeze();
            while self.in_flight.len() >= MAX_PARTS_IN_FLIGHT {
                if let Err(err) = self.collect_one().await {
                    let _ = self.abort_now().await;
                    return Err(err);
                }
            }
            self.send_part(body);
        }
        Ok(())
    }

    async fn complete(mut self: Box<Self>) -> Result<()> {
        if let Err(err) = self.finish().await {
            let _ = self.abort_now().await;
            return Err(err);
        }
        Ok(())
    }

    async fn abort(mut self: Box<Self>) -> Result<()> {
        self.abort_now().await
    }
}

impl Drop for S3Upload {
    fn drop(&mut self) {
        // Dropped mid-way (a cancelled future): abort in the background so no parts linger.
        if self.open {
            self.in_flight.abort_all();
            if let Ok(handle) = tokio::runtime::Handle::try_current() {
                let request = self
                    .store
                    .client
                    .abort_multipart_upload()
                    .bucket(&self.store.location.bucket)
                    .key(&self.full_key)
                    .upload_id(&self.upload_id);
                handle.spawn(async move {
                    let _ = request.send().await;
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_thousand_parts_hold_more_than_the_s3_object_limit() {
        let total: u128 = (1..=10_000).map(|n| part_size(n) as u128).sum();
        assert!(total > 5 * (1u128 << 40), "{total}");
        assert!(part_size(10_000) <= 5 << 30);
        assert_eq!(part_size(1), 6 << 20);
        assert_eq!(part_size(1001), 12 << 20);
    }

    /// A store whose credential chain yields `credentials`, at an address nothing answers on.
    fn store_with(
        credentials: impl aws_credential_types::provider::ProvideCredentials + 'static,
    ) -> S3Store {
        // Port 9 (discard): refused at once on a machine that serves nothing there.
        let endpoint = "http://127.0.0.1:9";
        let config = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url(endpoint)
            .force_path_style(true)
            .retry_config(RetryConfig::disabled())
            .credentials_provider(credentials)
            .build();
        S3Store {
            client: Client::from_conf(config),
            location: S3Location {
                bucket: "b".into(),
                prefix: String::new(),
                region: None,
                endpoint: Some(endpoint.into()),
                path_style: true,
                sse: None,
            },
        }
    }

    #[tokio::test]
    async fn a_failed_credential_chain_is_no_credentials_not_unreachable() {
        let store = store_with(aws_credential_types::credential_fn::provide_credentials_fn(
            || async { Err(CredentialsError::not_loaded("none in this test")) },
        ));
        let err = store.list().await.unwrap_err();
        assert_eq!(err.cause(), Some(Cause::NoCredentials), "{err}");
        assert_eq!(err.kind(), crate::error::ErrorKind::Store);
        assert!(err.message().contains("no usable AWS credentials"), "{err}");
        let err = err.context("listing backups");
        assert_eq!(err.cause(), Some(Cause::NoCredentials), "{err}");
    }

    #[tokio::test]
    async fn an_unreachable_server_with_credentials_is_not_a_credentials_failure() {
        let store = store_with(aws_sdk_s3::config::Credentials::new(
            "AKIDEXAMPLE",
            "secret",
            None,
            None,
            "test",
        ));
        let err = store.list().await.unwrap_err();
        assert_eq!(err.cause(), None, "{err}");
        assert!(err.message().contains("cannot reach"), "{err}");
        assert!(std::error::Error::source(&err).is_some());
    }
}
