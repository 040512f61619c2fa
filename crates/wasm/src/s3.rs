//! core's `S3Calls` over the glue's `S3Calls` class (`pkg/wasm-engine/store/s3.js`, one
//! @aws-sdk/client-s3 request a method), so the S3 store's protocol and what its failures mean
//! are core's in this engine too. JS method names are the trait's, in camelCase; failures are
//! the SDK's own errors, read here into core's `S3Failure`.

use async_trait::async_trait;
use backstage_backup_core::store::s3::{
    CompletedPart, ListedObject, ListedUpload, ObjectPage, PartRequest, S3Calls, S3Failure,
    S3FailureReason, UploadPage,
};
use backstage_backup_core::store::ObjectReader;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use send_wrapper::SendWrapper;
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::js::{call, call_now};
use crate::store::{bytes_to_js, reader_from};

pub(crate) struct JsS3 {
    object: SendWrapper<JsValue>,
}

impl JsS3 {
    pub(crate) fn new(object: JsValue) -> JsS3 {
        JsS3 {
            object: SendWrapper::new(object),
        }
    }

    /// Calls `name(...args)` now and awaits its promise; a throw is read as an S3 failure.
    /// Takes the arguments by value: none of them is held across an await.
    fn request<const N: usize>(
        &self,
        name: &str,
        args: [JsValue; N],
    ) -> SendWrapper<impl std::future::Future<Output = Result<JsValue, S3Failure>>> {
        let called = call_now(&self.object, name, &args);
        SendWrapper::new(async move { called.await.map_err(failure) })
    }
}

/// Network failures Node reports by errno: no answer from the server.
const UNREACHABLE_ERRNOS: &[&str] = &[
    "ECONNREFUSED",
    "ECONNRESET",
    "ENOTFOUND",
    "ETIMEDOUT",
    "EHOSTUNREACH",
    "ENETUNREACH",
    "EAI_AGAIN",
    "EPIPE",
];

/// What an @aws-sdk/client-s3 error means: its `name` is S3's error code (or the SDK's class
/// for failures of its own), `$metadata.httpStatusCode` the status, `code` Node's errno.
fn failure(err: JsValue) -> S3Failure {
    let text = |value: &JsValue, name: &str| {
        js_sys::Reflect::get(value, &name.into())
            .ok()
            .and_then(|v| v.as_string())
    };
    let name = text(&err, "name").or_else(|| text(&err, "Code"));
    let errno = text(&err, "code");
    let message = text(&err, "message").unwrap_or_else(|| "an unknown error".into());
    let status = js_sys::Reflect::get(&err, &"$metadata".into())
        .and_then(|m| js_sys::Reflect::get(&m, &"httpStatusCode".into()))
        .ok()
        .and_then(|s| s.as_f64())
        .map(|s| s as u16);
    let reason = match (name.as_deref(), errno.as_deref()) {
        (Some("CredentialsProviderError"), _) => S3FailureReason::NoCredentials,
        (Some("TimeoutError"), _) => S3FailureReason::Unreachable,
        (_, Some(errno)) if UNREACHABLE_ERRNOS.contains(&errno) => S3FailureReason::Unreachable,
        // The SDK's region check throws a plain Error with no name or code of its own.
        _ if status.is_none() && message == "Region is missing" => S3FailureReason::NoRegion,
        _ => S3FailureReason::Answered,
    };
    let detail = match (&name, &errno) {
        (_, Some(errno)) if reason == S3FailureReason::Unreachable => errno.clone(),
        (Some(name), _) if name != "Error" => format!("{name}: {message}"),
        _ => message,
    };
    S3Failure {
        reason,
        code: name.filter(|_| status.is_some()),
        status,
        detail,
        source: None,
    }
}

fn optional(value: Option<String>) -> JsValue {
    value.map(JsValue::from).unwrap_or(JsValue::UNDEFINED)
}

fn decode<T: for<'de> Deserialize<'de>>(value: JsValue) -> Result<T, S3Failure> {
    serde_wasm_bindgen::from_value(value).map_err(|e| S3Failure {
        detail: format!("the S3 client answered {e}"),
        ..S3Failure::default()
    })
}

fn from_millis(ms: Option<f64>) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_millis(ms? as i64)
}

#[derive(Serialize)]
struct PartJs<'a> {
    part_number: i32,
    etag: Option<&'a str>,
    sha256: &'a str,
}

#[derive(Deserialize)]
struct ObjectPageJs {
    #[serde(default)]
    objects: Vec<ObjectJs>,
    next_token: Option<String>,
}

#[derive(Deserialize)]
struct ObjectJs {
    key: String,
    #[serde(default)]
    size: f64,
    modified_ms: Option<f64>,
}

#[derive(Deserialize)]
struct UploadPageJs {
    #[serde(default)]
    uploads: Vec<UploadJs>,
    #[serde(default)]
    truncated: bool,
    next_key_marker: Option<String>,
    next_upload_id_marker: Option<String>,
}

#[derive(Deserialize)]
struct UploadJs {
    key: String,
    upload_id: String,
    initiated_ms: Option<f64>,
}

#[async_trait]
impl S3Calls for JsS3 {
    async fn put_object(
        &self,
        key: &str,
        body: Bytes,
        sha256: &str,
        if_none_match: bool,
    ) -> Result<(), S3Failure> {
        let args = [
            key.into(),
            bytes_to_js(&body),
            sha256.into(),
            if_none_match.into(),
        ];
        self.request("putObject", args).await.map(drop)
    }

    async fn create_upload(&self, key: &str) -> Result<Option<String>, S3Failure> {
        Ok(self
            .request("createUpload", [key.into()])
            .await?
            .as_string())
    }

    fn upload_part(
        &self,
        part: PartRequest,
    ) -> BoxFuture<'static, Result<CompletedPart, S3Failure>> {
        let args = [
            part.key.into(),
            part.upload_id.into(),
            part.part_number.into(),
            bytes_to_js(&part.body),
            part.sha256.clone().into(),
        ];
        // Called here, so the request is on its way before the future is first polled.
        let sending = self.request("uploadPart", args);
        let (part_number, sha256) = (part.part_number, part.sha256);
        Box::pin(async move {
            let etag = sending.await?.as_string();
            Ok(CompletedPart {
                part_number,
                etag,
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
        let parts: Vec<PartJs> = parts
            .iter()
            .map(|p| PartJs {
                part_number: p.part_number,
                etag: p.etag.as_deref(),
                sha256: &p.sha256,
            })
            .collect();
        let parts = serde_wasm_bindgen::to_value(&parts).map_err(|e| S3Failure {
            detail: e.to_string(),
            ..S3Failure::default()
        })?;
        let args = [key.into(), upload_id.into(), parts];
        self.request("completeUpload", args).await.map(drop)
    }

    async fn abort_upload(&self, key: &str, upload_id: &str) -> Result<(), S3Failure> {
        let args = [key.into(), upload_id.into()];
        self.request("abortUpload", args).await.map(drop)
    }

    fn abort_upload_in_background(&self, key: &str, upload_id: &str) {
        // Runs on its own; its outcome is ignored.
        if let Ok(promise) = call(&self.object, "abortUpload", &[key.into(), upload_id.into()]) {
            let promise = js_sys::Promise::resolve(&promise);
            wasm_bindgen_futures::spawn_local(async move {
                let _ = JsFuture::from(promise).await;
            });
        }
    }

    async fn head_object(&self, key: &str) -> Result<(), S3Failure> {
        self.request("headObject", [key.into()]).await.map(drop)
    }

    async fn get_object(&self, key: &str) -> Result<(ObjectReader, u64), S3Failure> {
        let opened = self.request("getObject", [key.into()]).await?;
        SendWrapper::new(async move {
            reader_from(&opened).map_err(|e| S3Failure {
                detail: e.message().to_string(),
                ..S3Failure::default()
            })
        })
        .await
    }

    async fn list_objects(
        &self,
        prefix: &str,
        token: Option<String>,
    ) -> Result<ObjectPage, S3Failure> {
        let page = self
            .request("listObjects", [prefix.into(), optional(token)])
            .await?;
        let page: ObjectPageJs = SendWrapper::new(async move { decode(page) }).await?;
        Ok(ObjectPage {
            objects: page
                .objects
                .into_iter()
                .map(|o| ListedObject {
                    key: o.key,
                    size: o.size.max(0.0) as u64,
                    modified: from_millis(o.modified_ms),
                })
                .collect(),
            next_token: page.next_token,
        })
    }

    async fn list_uploads(
        &self,
        prefix: &str,
        key_marker: Option<String>,
        upload_id_marker: Option<String>,
    ) -> Result<UploadPage, S3Failure> {
        let args = [
            prefix.into(),
            optional(key_marker),
            optional(upload_id_marker),
        ];
        let page = self.request("listUploads", args).await?;
        let page: UploadPageJs = SendWrapper::new(async move { decode(page) }).await?;
        Ok(UploadPage {
            uploads: page
                .uploads
                .into_iter()
                .map(|u| ListedUpload {
                    key: u.key,
                    upload_id: u.upload_id,
                    initiated: from_millis(u.initiated_ms),
                })
                .collect(),
            truncated: page.truncated,
            next_key_marker: page.next_key_marker,
            next_upload_id_marker: page.next_upload_id_marker,
        })
    }

    async fn delete_object(&self, key: &str) -> Result<(), S3Failure> {
        self.request("deleteObject", [key.into()]).await.map(drop)
    }
}
