//! S3 requests through aws-sdk-s3: the native engine's [`S3Calls`], one request a method.
//! The protocol over them (multipart, checksums, HEAD before Complete, aborts) is `s3.rs`.

use std::time::Duration;

use async_trait::async_trait;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region};
use aws_credential_types::provider::error::CredentialsError;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    ChecksumAlgorithm, CompletedMultipartUpload, CompletedPart as AwsPart,
    ServerSideEncryption as AwsSse,
};
use aws_sdk_s3::Client;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures::future::BoxFuture;

use super::s3::{
    CompletedPart, ListedObject, ListedUpload, ObjectPage, PartRequest, S3Calls, S3Failure,
    S3FailureReason, S3Store, UploadPage,
};
use super::ObjectReader;
use crate::error::Result;
use crate::location::{S3Location, ServerSideEncryption};

/// aws-sdk-s3's client for one location.
#[derive(Debug, Clone)]
pub struct SdkS3 {
    client: Client,
    location: S3Location,
}

/// Opens an S3 store over aws-sdk-s3: credentials from the standard AWS chain (environment,
/// profiles and SSO, web identity, instance roles) unless the caller gives them, with the
/// URL's region, endpoint and addressing on top.
pub async fn connect(
    location: S3Location,
    credentials: Option<&super::S3Credentials>,
) -> Result<S3Store> {
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
            return Err(super::s3::s3_error(
                &location,
                "opening",
                "",
                S3Failure {
                    reason: S3FailureReason::NoRegion,
                    ..S3Failure::default()
                },
            ));
        }
        // S3-compatible servers accept any region name; us-east-1 is the convention.
        config = config.region(Region::new("us-east-1"));
    }
    if let Some(endpoint) = &location.endpoint {
        config = config.endpoint_url(endpoint);
    }
    config = config.force_path_style(location.path_style);
    let calls = SdkS3 {
        client: Client::from_conf(config.build()),
        location: location.clone(),
    };
    Ok(S3Store::new(location, std::sync::Arc::new(calls)))
}

/// What the SDK's error means for the store; the SDK's own words stay as the detail.
fn failure<E>(err: SdkError<E, HttpResponse>) -> S3Failure
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let reason = if lacks_credentials(&err) {
        // Checked first: the SDK reports a failed credential chain as a failure to send (it
        // resolves credentials just before sending), which is not "cannot reach".
        S3FailureReason::NoCredentials
    } else if matches!(
        err,
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_)
    ) {
        S3FailureReason::Unreachable
    } else {
        S3FailureReason::Answered
    };
    let status = match &err {
        SdkError::ServiceError(e) => Some(e.raw().status().as_u16()),
        SdkError::ResponseError(e) => Some(e.raw().status().as_u16()),
        _ => None,
    };
    S3Failure {
        reason,
        code: err.code().map(str::to_string),
        status,
        detail: DisplayErrorContext(&err).to_string(),
        source: Some(std::sync::Arc::new(err)),
    }
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

fn to_utc(time: Option<&aws_smithy_types::DateTime>) -> Option<DateTime<Utc>> {
    let t = time?;
    DateTime::from_timestamp(t.secs(), t.subsec_nanos())
}

/// A spawned request, cancelled when its answer is no longer wanted.
struct Spawned<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for Spawned<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl SdkS3 {
    fn sse(&self) -> (Option<AwsSse>, Option<String>) {
        match &self.location.sse {
            None => (None, None),
            Some(ServerSideEncryption::Aes256) => (Some(AwsSse::Aes256), None),
            Some(ServerSideEncryption::Kms { key_id }) => (Some(AwsSse::AwsKms), key_id.clone()),
        }
    }

    fn abort_request(
        &self,
        key: &str,
        upload_id: &str,
    ) -> aws_sdk_s3::operation::abort_multipart_upload::builders::AbortMultipartUploadFluentBuilder
    {
        self.client
            .abort_multipart_upload()
            .bucket(&self.location.bucket)
            .key(key)
            .upload_id(upload_id)
    }
}

#[async_trait]
impl S3Calls for SdkS3 {
    async fn put_object(
        &self,
        key: &str,
        body: Bytes,
        sha256: &str,
        if_none_match: bool,
    ) -> Result<(), S3Failure> {
        let (sse, kms_key) = self.sse();
        self.client
            .put_object()
            .bucket(&self.location.bucket)
            .key(key)
            .checksum_algorithm(ChecksumAlgorithm::Sha256)
            .checksum_sha256(sha256)
            .set_server_side_encryption(sse)
            .set_ssekms_key_id(kms_key)
            .set_if_none_match(if_none_match.then(|| "*".to_string()))
            .body(ByteStream::from(body))
            .send()
            .await
            .map(drop)
            .map_err(failure)
    }

    async fn create_upload(&self, key: &str) -> Result<Option<String>, S3Failure> {
        let (sse, kms_key) = self.sse();
        let created = self
            .client
            .create_multipart_upload()
            .bucket(&self.location.bucket)
            .key(key)
            .content_type("application/gzip")
            .checksum_algorithm(ChecksumAlgorithm::Sha256)
            .set_server_side_encryption(sse)
            .set_ssekms_key_id(kms_key)
            .send()
            .await
            .map_err(failure)?;
        Ok(created.upload_id().map(str::to_string))
    }

    fn upload_part(
        &self,
        part: PartRequest,
    ) -> BoxFuture<'static, Result<CompletedPart, S3Failure>> {
        let request = self
            .client
            .upload_part()
            .bucket(&self.location.bucket)
            .key(part.key)
            .upload_id(part.upload_id)
            .part_number(part.part_number)
            .checksum_algorithm(ChecksumAlgorithm::Sha256)
            .checksum_sha256(&part.sha256)
            .body(ByteStream::from(part.body));
        let (part_number, sha256) = (part.part_number, part.sha256);
        // Spawned now, so the part travels while the caller compresses the next one.
        let mut sent = Spawned(tokio::spawn(async move { request.send().await }));
        Box::pin(async move {
            let answer = (&mut sent.0).await.map_err(|e| S3Failure {
                detail: format!("the upload task failed: {e}"),
                ..S3Failure::default()
            })?;
            let out = answer.map_err(failure)?;
            Ok(CompletedPart {
                part_number,
                etag: out.e_tag().map(str::to_string),
                sha256,
            })
        })
    }

    async fn complete_upload(
        &self,
        key: &str,
        upload_id: &str,
        parts: &[CompletedPart],
    ) -> Result<(), S3Failure> {
        let parts = parts
            .iter()
            .map(|p| {
                AwsPart::builder()
                    .part_number(p.part_number)
                    .set_e_tag(p.etag.clone())
                    .checksum_sha256(&p.sha256)
                    .build()
            })
            .collect();
        self.client
            .complete_multipart_upload()
            .bucket(&self.location.bucket)
            .key(key)
            .upload_id(upload_id)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(parts))
                    .build(),
            )
            .send()
            .await
            .map(drop)
            .map_err(failure)
    }

    async fn abort_upload(&self, key: &str, upload_id: &str) -> Result<(), S3Failure> {
        self.abort_request(key, upload_id)
            .send()
            .await
            .map(drop)
            .map_err(failure)
    }

    fn abort_upload_in_background(&self, key: &str, upload_id: &str) {
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let request = self.abort_request(key, upload_id);
            runtime.spawn(async move {
                let _ = request.send().await;
            });
        }
    }

    async fn head_object(&self, key: &str) -> Result<(), S3Failure> {
        self.client
            .head_object()
            .bucket(&self.location.bucket)
            .key(key)
            .send()
            .await
            .map(drop)
            .map_err(failure)
    }

    async fn get_object(&self, key: &str) -> Result<(ObjectReader, u64), S3Failure> {
        let out = self
            .client
            .get_object()
            .bucket(&self.location.bucket)
            .key(key)
            .send()
            .await
            .map_err(failure)?;
        let size = out.content_length().unwrap_or(0).max(0) as u64;
        Ok((Box::new(out.body.into_async_read()), size))
    }

    async fn list_objects(
        &self,
        prefix: &str,
        token: Option<String>,
    ) -> Result<ObjectPage, S3Failure> {
        let page = self
            .client
            .list_objects_v2()
            .bucket(&self.location.bucket)
            .prefix(prefix)
            .delimiter("/")
            .set_continuation_token(token)
            .send()
            .await
            .map_err(failure)?;
        Ok(ObjectPage {
            objects: page
                .contents()
                .iter()
                .filter_map(|o| {
                    Some(ListedObject {
                        key: o.key()?.to_string(),
                        size: o.size().unwrap_or(0).max(0) as u64,
                        modified: to_utc(o.last_modified()),
                    })
                })
                .collect(),
            next_token: page
                .is_truncated()
                .unwrap_or(false)
                .then(|| page.next_continuation_token().map(str::to_string))
                .flatten(),
        })
    }

    async fn list_uploads(
        &self,
        prefix: &str,
        key_marker: Option<String>,
        upload_id_marker: Option<String>,
    ) -> Result<UploadPage, S3Failure> {
        let page = self
            .client
            .list_multipart_uploads()
            .bucket(&self.location.bucket)
            .prefix(prefix)
            .set_key_marker(key_marker)
            .set_upload_id_marker(upload_id_marker)
            .send()
            .await
            .map_err(failure)?;
        Ok(UploadPage {
            uploads: page
                .uploads()
                .iter()
                .filter_map(|u| {
                    Some(ListedUpload {
                        key: u.key()?.to_string(),
                        upload_id: u.upload_id()?.to_string(),
                        initiated: to_utc(u.initiated()),
                    })
                })
                .collect(),
            truncated: page.is_truncated() == Some(true),
            next_key_marker: page.next_key_marker().map(str::to_string),
            next_upload_id_marker: page.next_upload_id_marker().map(str::to_string),
        })
    }

    async fn delete_object(&self, key: &str) -> Result<(), S3Failure> {
        self.client
            .delete_object()
            .bucket(&self.location.bucket)
            .key(key)
            .send()
            .await
            .map(drop)
            .map_err(failure)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Cause;
    use crate::store::Store;

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
        let location = S3Location {
            bucket: "b".into(),
            prefix: String::new(),
            region: None,
            endpoint: Some(endpoint.into()),
            path_style: true,
            sse: None,
        };
        let calls = SdkS3 {
            client: Client::from_conf(config),
            location: location.clone(),
        };
        S3Store::new(location, std::sync::Arc::new(calls))
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
