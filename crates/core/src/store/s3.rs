//! The S3 store's protocol, written once for both engines over [`S3Calls`] (one S3 request a
//! method): large objects go up as multipart uploads with a SHA-256 per part, a few parts in
//! flight, part sizes that grow so 10,000 parts always suffice, a HEAD before Complete so an
//! existing object is never replaced, and an abort on any failure: an object is visible whole
//! or not at all. Natively the calls are aws-sdk-s3's (`s3_sdk.rs`); in the WebAssembly engine
//! they are @aws-sdk/client-s3's, made by the glue.

use std::sync::Arc;

use async_trait::async_trait;
use base64::Engine as _;
use bytes::{Bytes, BytesMut};
use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use futures::stream::{FuturesUnordered, StreamExt};
use sha2::{Digest as _, Sha256};

use super::{ObjectMeta, ObjectReader, PendingUpload, Store, Upload};
use crate::error::{Cause, Error, ErrorKind, Result};
use crate::location::S3Location;

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

/// Why an S3 request failed, as the client saw it; [`s3_error`] words it.
#[derive(Debug, Clone, Default)]
pub struct S3Failure {
    pub reason: S3FailureReason,
    /// S3's error code (`NoSuchKey`, `AccessDenied`, `PreconditionFailed`, …), when it answered.
    pub code: Option<String>,
    /// The HTTP status, when it answered.
    pub status: Option<u16>,
    /// The client's own description, for the message's detail.
    pub detail: String,
    pub source: Option<Arc<dyn std::error::Error + Send + Sync>>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum S3FailureReason {
    /// The server answered with an error.
    #[default]
    Answered,
    /// No answer: refused, unresolvable, reset or timed out.
    Unreachable,
    /// The credential chain yielded nothing usable; no request was sent.
    NoCredentials,
    /// No region was configured; no request was sent.
    NoRegion,
}

impl S3Failure {
    fn is_code(&self, codes: &[&str]) -> bool {
        self.code.as_deref().is_some_and(|c| codes.contains(&c))
    }

    fn is_not_found(&self) -> bool {
        self.is_code(&["NoSuchKey", "NotFound"])
            || (self.status == Some(404) && !self.is_code(&["NoSuchBucket", "NoSuchUpload"]))
    }

    /// A conditional write (`If-None-Match: *`) found the key taken.
    fn is_precondition_failed(&self) -> bool {
        self.is_code(&["PreconditionFailed", "ConditionalRequestConflict"])
            || self.status == Some(412)
    }
}

/// An S3 failure in words that say what to do, naming the object (never a credential).
pub fn s3_error(location: &S3Location, doing: &str, key: &str, failure: S3Failure) -> Error {
    let bucket = &location.bucket;
    let what = format!("{doing} s3://{bucket}/{key}");
    let detail = &failure.detail;
    let code = failure.code.as_deref().unwrap_or_default();
    let error = match failure.reason {
        S3FailureReason::NoRegion => Error::invalid(
            "no AWS region is set for the S3 store: add ?region=… to the URL or set AWS_REGION",
        ),
        S3FailureReason::NoCredentials => Error::with_cause(
            ErrorKind::Store,
            Cause::NoCredentials,
            format!(
                "{what}: no usable AWS credentials ({detail}); set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, \
                 AWS_PROFILE, or run with an IAM role"
            ),
        ),
        S3FailureReason::Unreachable => {
            let endpoint = location.endpoint.as_deref().unwrap_or("AWS S3");
            Error::store(format!(
                "{what}: cannot reach {endpoint} ({detail}); check the endpoint, the network and that the server is up"
            ))
        }
        S3FailureReason::Answered if failure.is_not_found() => {
            Error::not_found(format!("{what}: no such object"))
        }
        S3FailureReason::Answered if code == "NoSuchBucket" => Error::store(format!(
            "{what}: bucket '{bucket}' does not exist; create it or fix the store URL"
        )),
        S3FailureReason::Answered
            if matches!(
                code,
                "AccessDenied" | "InvalidAccessKeyId" | "SignatureDoesNotMatch"
            ) =>
        {
            Error::store(format!(
                "{what}: access denied ({code}); check the AWS credentials and the bucket policy"
            ))
        }
        S3FailureReason::Answered => Error::store(format!("{what}: {detail}")),
    };
    match failure.source {
        Some(source) => error.with_shared_source(source),
        None => error,
    }
}

/// One part of a multipart upload, sent with its SHA-256.
#[derive(Debug, Clone)]
pub struct PartRequest {
    pub key: String,
    pub upload_id: String,
    pub part_number: i32,
    pub body: Bytes,
    /// Base64 SHA-256 of `body`, checked by the server.
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompletedPart {
    pub part_number: i32,
    pub etag: Option<String>,
    pub sha256: String,
}

#[derive(Debug, Clone, Default)]
pub struct ListedObject {
    /// The full key, prefix included.
    pub key: String,
    pub size: u64,
    pub modified: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Default)]
pub struct ObjectPage {
    pub objects: Vec<ListedObject>,
    /// Where the next page starts; none after the last.
    pub next_token: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct ListedUpload {
    pub key: String,
    pub upload_id: String,
    pub initiated: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Default)]
pub struct UploadPage {
    pub uploads: Vec<ListedUpload>,
    pub truncated: bool,
    pub next_key_marker: Option<String>,
    pub next_upload_id_marker: Option<String>,
}

/// What the S3 store needs from a client: one request a method, full keys, nothing decided.
/// Writes carry the location's server-side encryption (the client is made for one location).
#[async_trait]
pub trait S3Calls: Send + Sync + 'static {
    /// PutObject with the body's SHA-256; `if_none_match` adds `If-None-Match: *`.
    async fn put_object(
        &self,
        key: &str,
        body: Bytes,
        sha256: &str,
        if_none_match: bool,
    ) -> Result<(), S3Failure>;
    /// CreateMultipartUpload (SHA-256 checksums, gzip content type); the upload id.
    async fn create_upload(&self, key: &str) -> Result<Option<String>, S3Failure>;
    /// UploadPart, sent now: the future only collects the answer, so parts travel while the
    /// caller produces the next one.
    fn upload_part(
        &self,
        part: PartRequest,
    ) -> BoxFuture<'static, Result<CompletedPart, S3Failure>>;
    async fn complete_upload(
        &self,
        key: &str,
        upload_id: &str,
        parts: &[CompletedPart],
    ) -> Result<(), S3Failure>;
    async fn abort_upload(&self, key: &str, upload_id: &str) -> Result<(), S3Failure>;
    /// AbortMultipartUpload without waiting for it (an upload dropped mid-way).
    fn abort_upload_in_background(&self, key: &str, upload_id: &str);
    /// HeadObject: Ok when the object exists.
    async fn head_object(&self, key: &str) -> Result<(), S3Failure>;
    /// GetObject: the body and its length.
    async fn get_object(&self, key: &str) -> Result<(ObjectReader, u64), S3Failure>;
    /// One page of ListObjectsV2 under `prefix`, delimited by `/`.
    async fn list_objects(
        &self,
        prefix: &str,
        token: Option<String>,
    ) -> Result<ObjectPage, S3Failure>;
    /// One page of ListMultipartUploads under `prefix`.
    async fn list_uploads(
        &self,
        prefix: &str,
        key_marker: Option<String>,
        upload_id_marker: Option<String>,
    ) -> Result<UploadPage, S3Failure>;
    async fn delete_object(&self, key: &str) -> Result<(), S3Failure>;
}

/// An S3 store: the protocol above over a client's calls.
#[derive(Clone)]
pub struct S3Store {
    calls: Arc<dyn S3Calls>,
    location: S3Location,
}

impl std::fmt::Debug for S3Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Store")
            .field("location", &self.location)
            .finish_non_exhaustive()
    }
}

pub(crate) fn sha256_base64(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(data))
}

fn already_exists(key: &str) -> Error {
    Error::new(
        ErrorKind::AlreadyExists,
        format!("{key} already exists in the store"),
    )
}

impl S3Store {
    pub fn new(location: S3Location, calls: Arc<dyn S3Calls>) -> S3Store {
        S3Store { calls, location }
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

    fn error(&self, doing: &str, key: &str, failure: S3Failure) -> Error {
        s3_error(&self.location, doing, key, failure)
    }

    async fn write_small(&self, key: &str, data: Bytes, exclusive: bool) -> Result<()> {
        let sha256 = sha256_base64(&data);
        match self
            .calls
            .put_object(&self.full_key(key), data, &sha256, exclusive)
            .await
        {
            Ok(()) => Ok(()),
            Err(failure) if exclusive && failure.is_precondition_failed() => {
                Err(already_exists(key))
            }
            Err(failure) => Err(self.error("writing", key, failure)),
        }
    }
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
        let upload_id = self
            .calls
            .create_upload(&full_key)
            .await
            .map_err(|e| self.error("starting the upload of", key, e))?
            .filter(|id| !id.is_empty())
            .ok_or_else(|| Error::store("the S3 server returned no upload id"))?;
        Ok(Box::new(S3Upload {
            store: self.clone(),
            key: key.to_string(),
            full_key,
            upload_id,
            buffer: BytesMut::new(),
            next_part: 1,
            in_flight: FuturesUnordered::new(),
            done: Vec::new(),
            open: true,
        }))
    }

    async fn get(&self, key: &str) -> Result<(ObjectReader, u64)> {
        self.calls
            .get_object(&self.full_key(key))
            .await
            .map_err(|e| self.error("reading", key, e))
    }

    async fn list(&self) -> Result<Vec<ObjectMeta>> {
        let prefix = self.list_prefix();
        let mut out = Vec::new();
        let mut token = None;
        loop {
            let page = self
                .calls
                .list_objects(&prefix, token.take())
                .await
                .map_err(|e| self.error("listing", &prefix, e))?;
            for object in page.objects {
                if let Some(key) = self.relative(&object.key) {
                    out.push(ObjectMeta {
                        key: key.to_string(),
                        size: object.size,
                        modified: object.modified,
                    });
                }
            }
            match page.next_token {
                Some(next) if !next.is_empty() => token = Some(next),
                _ => break,
            }
        }
        out.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(out)
    }

    async fn delete(&self, key: &str) -> Result<()> {
        self.calls
            .delete_object(&self.full_key(key))
            .await
            .map_err(|e| self.error("deleting", key, e))
    }

    async fn pending_uploads(&self) -> Result<Vec<PendingUpload>> {
        let prefix = self.list_prefix();
        let mut out = Vec::new();
        let (mut key_marker, mut id_marker) = (None, None);
        loop {
            let page = self
                .calls
                .list_uploads(&prefix, key_marker.take(), id_marker.take())
                .await
                .map_err(|e| self.error("listing uploads in", &prefix, e))?;
            for upload in page.uploads {
                if let Some(key) = self.relative(&upload.key) {
                    out.push(PendingUpload {
                        key: key.to_string(),
                        started: upload.initiated,
                        handle: upload.upload_id,
                    });
                }
            }
            if !page.truncated
                || (page.next_key_marker.is_none() && page.next_upload_id_marker.is_none())
            {
                break;
            }
            (key_marker, id_marker) = (page.next_key_marker, page.next_upload_id_marker);
        }
        Ok(out)
    }

    async fn abort_pending(&self, pending: &PendingUpload) -> Result<()> {
        self.calls
            .abort_upload(&self.full_key(&pending.key), &pending.handle)
            .await
            .map_err(|e| self.error("aborting the upload of", &pending.key, e))
    }
}

type PartInFlight = BoxFuture<'static, (i32, Result<CompletedPart, S3Failure>)>;

struct S3Upload {
    store: S3Store,
    key: String,
    full_key: String,
    upload_id: String,
    buffer: BytesMut,
    next_part: i32,
    in_flight: FuturesUnordered<PartInFlight>,
    done: Vec<CompletedPart>,
    /// Neither completed nor aborted yet: Drop must abort.
    open: bool,
}

impl S3Upload {
    fn send_part(&mut self, body: Bytes) {
        let part_number = self.next_part;
        self.next_part += 1;
        let sending = self.store.calls.upload_part(PartRequest {
            key: self.full_key.clone(),
            upload_id: self.upload_id.clone(),
            part_number,
            sha256: sha256_base64(&body),
            body,
        });
        self.in_flight
            .push(Box::pin(async move { (part_number, sending.await) }));
    }

    async fn collect_one(&mut self) -> Result<()> {
        if let Some((part_number, answer)) = self.in_flight.next().await {
            let part = answer.map_err(|e| {
                self.store
                    .error(&format!("uploading part {part_number} of"), &self.key, e)
            })?;
            self.done.push(part);
        }
        Ok(())
    }

    /// Lets the parts in flight settle, then aborts: S3 may keep a part that lands after the
    /// abort, so the abort comes last and nothing of the upload stays.
    async fn abort_now(&mut self) -> Result<()> {
        self.open = false;
        self.buffer.clear();
        while self.in_flight.next().await.is_some() {}
        self.store
            .calls
            .abort_upload(&self.full_key, &self.upload_id)
            .await
            .map_err(|e| self.store.error("aborting the upload of", &self.key, e))
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
        match self.store.calls.head_object(&self.full_key).await {
            Ok(()) => return Err(already_exists(&self.key)),
            Err(failure)
                if failure.reason == S3FailureReason::Answered && failure.is_not_found() => {}
            Err(failure) => return Err(self.store.error("checking", &self.key, failure)),
        }
        let mut parts = std::mem::take(&mut self.done);
        parts.sort_by_key(|p| p.part_number);
        self.store
            .calls
            .complete_upload(&self.full_key, &self.upload_id, &parts)
            .await
            .map_err(|e| self.store.error("completing the upload of", &self.key, e))?;
        self.open = false;
        Ok(())
    }
}

#[async_trait]
impl Upload for S3Upload {
    async fn write(&mut self, chunk: Bytes) -> Result<()> {
        if !self.open {
            return Err(Error::internal("write after the upload ended"));
        }
        self.buffer.extend_from_slice(&chunk);
        while self.buffer.len() >= part_size(self.next_part) {
            while self.in_flight.len() >= MAX_PARTS_IN_FLIGHT {
                if let Err(err) = self.collect_one().await {
                    let _ = self.abort_now().await;
                    return Err(err);
                }
            }
            let body = self.buffer.split_to(part_size(self.next_part)).freeze();
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
        // Dropped mid-way (a cancelled future): abort without waiting, so no parts linger.
        if self.open {
            self.store
                .calls
                .abort_upload_in_background(&self.full_key, &self.upload_id);
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

    fn location() -> S3Location {
        S3Location {
            bucket: "b".into(),
            prefix: String::new(),
            region: None,
            endpoint: Some("http://127.0.0.1:9".into()),
            path_style: true,
            sse: None,
        }
    }

    fn answered(code: Option<&str>, status: Option<u16>) -> S3Failure {
        S3Failure {
            code: code.map(str::to_string),
            status,
            detail: "detail".into(),
            ..S3Failure::default()
        }
    }

    #[test]
    fn each_failure_is_worded_by_what_it_means() {
        let worded = |failure| s3_error(&location(), "reading", "k", failure);
        // A HEAD's 404 has no body, so no code: the status alone says "not found".
        for failure in [
            answered(Some("NoSuchKey"), Some(404)),
            answered(Some("NotFound"), None),
            answered(None, Some(404)),
        ] {
            assert_eq!(worded(failure).kind(), ErrorKind::NotFound);
        }
        let bucket = worded(answered(Some("NoSuchBucket"), Some(404)));
        assert_eq!(bucket.kind(), ErrorKind::Store);
        assert!(
            bucket.message().contains("bucket 'b' does not exist"),
            "{bucket}"
        );
        let denied = worded(answered(Some("SignatureDoesNotMatch"), Some(403)));
        assert!(
            denied
                .message()
                .contains("access denied (SignatureDoesNotMatch)"),
            "{denied}"
        );
        let unreachable = worded(S3Failure {
            reason: S3FailureReason::Unreachable,
            ..answered(None, None)
        });
        assert!(
            unreachable
                .message()
                .contains("cannot reach http://127.0.0.1:9"),
            "{unreachable}"
        );
        assert_eq!(unreachable.cause(), None);
        let no_credentials = worded(S3Failure {
            reason: S3FailureReason::NoCredentials,
            ..answered(None, None)
        });
        assert_eq!(no_credentials.cause(), Some(Cause::NoCredentials));
        let no_region = worded(S3Failure {
            reason: S3FailureReason::NoRegion,
            ..answered(None, None)
        });
        assert_eq!(no_region.kind(), ErrorKind::InvalidInput);
        // A 404 that names a missing upload is not a missing object.
        assert_eq!(
            worded(answered(Some("NoSuchUpload"), Some(404))).kind(),
            ErrorKind::Store
        );
    }

    #[test]
    fn a_taken_key_is_told_by_its_code_or_its_status() {
        assert!(answered(Some("PreconditionFailed"), None).is_precondition_failed());
        assert!(answered(Some("ConditionalRequestConflict"), Some(409)).is_precondition_failed());
        assert!(answered(None, Some(412)).is_precondition_failed());
        assert!(!answered(Some("AccessDenied"), Some(403)).is_precondition_failed());
    }

    /// S3 calls that record what is asked and fail the part numbered `failing_part`.
    struct Recording {
        asked: std::sync::Mutex<Vec<String>>,
        failing_part: i32,
    }

    impl Recording {
        fn note(&self, what: impl Into<String>) {
            self.asked.lock().unwrap().push(what.into());
        }
        fn asked(&self) -> Vec<String> {
            self.asked.lock().unwrap().clone()
        }
    }

    #[async_trait]
    impl S3Calls for Recording {
        async fn put_object(&self, _: &str, _: Bytes, _: &str, _: bool) -> Result<(), S3Failure> {
            Ok(())
        }
        async fn create_upload(&self, _: &str) -> Result<Option<String>, S3Failure> {
            self.note("create");
            Ok(Some("upload-1".into()))
        }
        fn upload_part(
            &self,
            part: PartRequest,
        ) -> BoxFuture<'static, Result<CompletedPart, S3Failure>> {
            self.note(format!("part {}", part.part_number));
            let answer = if part.part_number == self.failing_part {
                Err(answered(Some("InternalError"), Some(500)))
            } else {
                Ok(CompletedPart {
                    part_number: part.part_number,
                    etag: Some("e".into()),
                    sha256: part.sha256,
                })
            };
            Box::pin(async move { answer })
        }
        async fn complete_upload(
            &self,
            _: &str,
            _: &str,
            parts: &[CompletedPart],
        ) -> Result<(), S3Failure> {
            let numbers: Vec<i32> = parts.iter().map(|p| p.part_number).collect();
            self.note(format!("complete {numbers:?}"));
            Ok(())
        }
        async fn abort_upload(&self, _: &str, _: &str) -> Result<(), S3Failure> {
            self.note("abort");
            Ok(())
        }
        fn abort_upload_in_background(&self, _: &str, _: &str) {
            self.note("abort in background");
        }
        async fn head_object(&self, _: &str) -> Result<(), S3Failure> {
            Err(answered(None, Some(404)))
        }
        async fn get_object(&self, _: &str) -> Result<(ObjectReader, u64), S3Failure> {
            Err(answered(Some("NoSuchKey"), Some(404)))
        }
        async fn list_objects(&self, _: &str, _: Option<String>) -> Result<ObjectPage, S3Failure> {
            Ok(ObjectPage::default())
        }
        async fn list_uploads(
            &self,
            _: &str,
            _: Option<String>,
            _: Option<String>,
        ) -> Result<UploadPage, S3Failure> {
            Ok(UploadPage::default())
        }
        async fn delete_object(&self, _: &str) -> Result<(), S3Failure> {
            Ok(())
        }
    }

    async fn upload_three_parts(failing_part: i32) -> (Result<()>, Vec<String>) {
        let calls = Arc::new(Recording {
            asked: Default::default(),
            failing_part,
        });
        let store = S3Store::new(location(), calls.clone());
        let mut upload = store.start_upload("k").await.unwrap();
        let chunk = Bytes::from(vec![7u8; 1 << 20]);
        let mut outcome = Ok(());
        for _ in 0..((3 * part_size(1)) >> 20) {
            outcome = upload.write(chunk.clone()).await;
            if outcome.is_err() {
                break;
            }
        }
        if outcome.is_ok() {
            outcome = upload.complete().await;
        }
        (outcome, calls.asked())
    }

    #[tokio::test]
    async fn a_failed_part_aborts_the_upload_after_the_parts_in_flight_and_never_completes() {
        let (outcome, asked) = upload_three_parts(2).await;
        let err = outcome.unwrap_err();
        assert!(
            err.message().contains("uploading part 2 of s3://b/k"),
            "{err}"
        );
        assert_eq!(
            asked.iter().filter(|a| *a == "abort").count(),
            1,
            "{asked:?}"
        );
        assert_eq!(asked.last().map(String::as_str), Some("abort"), "{asked:?}");
        assert!(
            !asked.iter().any(|a| a.starts_with("complete")),
            "{asked:?}"
        );
        // Aborted once, awaited: dropping it sends nothing more.
        assert!(
            !asked.iter().any(|a| a == "abort in background"),
            "{asked:?}"
        );
    }

    #[tokio::test]
    async fn a_whole_upload_completes_its_parts_in_order_and_a_dropped_one_is_aborted() {
        let (outcome, asked) = upload_three_parts(0).await;
        outcome.unwrap();
        assert_eq!(
            asked.last().map(String::as_str),
            Some("complete [1, 2, 3]"),
            "{asked:?}"
        );
        assert!(!asked.iter().any(|a| a.starts_with("abort")), "{asked:?}");

        let calls = Arc::new(Recording {
            asked: Default::default(),
            failing_part: 0,
        });
        let store = S3Store::new(location(), calls.clone());
        let mut upload = store.start_upload("k").await.unwrap();
        upload.write(Bytes::from_static(b"some")).await.unwrap();
        drop(upload);
        assert_eq!(calls.asked(), ["create", "abort in background"]);
    }

    #[test]
    fn the_part_checksum_is_base64_sha256() {
        assert_eq!(
            sha256_base64(b"abc"),
            "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="
        );
    }
}
