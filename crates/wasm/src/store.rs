//! core's `Store` over the glue's JS stores (`pkg/wasm-engine/store/`: a local folder and S3),
//! so every store protocol (listing, holds, the store lock, reservation, leftovers, prune) runs
//! in core for the WebAssembly engine as it does natively. The JS side only moves bytes:
//! `describe, put, putNew, startUpload → {write, complete, abort}, get → {stream, size}, list
//! → [{key, size}], delete, pendingUploads → [{key, started_ms, handle}], abortPending`.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use async_trait::async_trait;
use backstage_backup_core::store::{ObjectMeta, ObjectReader, PendingUpload, Store, Upload};
use backstage_backup_core::{Error, Result};
use bytes::Bytes;
use chrono::DateTime;
use send_wrapper::SendWrapper;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, ReadBuf};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::js::{call, call_async, error_from_js};

/// A JS store. Clones share the JS object.
#[derive(Clone)]
pub(crate) struct JsStore {
    object: SendWrapper<JsValue>,
    description: String,
}

impl std::fmt::Debug for JsStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "JsStore({})", self.description)
    }
}

impl JsStore {
    pub(crate) fn new(object: JsValue) -> Result<JsStore> {
        let description = call(&object, "describe", &[])?
            .as_string()
            .ok_or_else(|| Error::internal("the store's describe() returned no string"))?;
        Ok(JsStore {
            object: SendWrapper::new(object),
            description,
        })
    }
}

fn bytes_to_js(data: &[u8]) -> JsValue {
    js_sys::Uint8Array::from(data).into()
}

#[derive(Deserialize)]
struct ObjectJs {
    key: String,
    #[serde(default)]
    size: f64,
}

#[derive(Deserialize, Serialize)]
struct PendingJs {
    key: String,
    /// Milliseconds since the epoch, when the store knows.
    #[serde(default)]
    started_ms: Option<f64>,
    handle: String,
}

fn decode<T: for<'de> Deserialize<'de>>(value: JsValue, what: &str) -> Result<T> {
    serde_wasm_bindgen::from_value(value)
        .map_err(|e| Error::internal(format!("the store's {what} returned {e}")))
}

// Each method runs its JS calls inside a SendWrapper: JS values are not Send, and the Store
// trait's futures must be; on wasm32 there is one thread, so the wrapper never trips.
#[async_trait]
impl Store for JsStore {
    fn describe(&self) -> String {
        self.description.clone()
    }

    async fn put(&self, key: &str, data: Bytes) -> Result<()> {
        let args = [key.into(), bytes_to_js(&data)];
        SendWrapper::new(call_async(&self.object, "put", &args))
            .await
            .map(drop)
    }

    async fn put_new(&self, key: &str, data: Bytes) -> Result<()> {
        let args = [key.into(), bytes_to_js(&data)];
        SendWrapper::new(call_async(&self.object, "putNew", &args))
            .await
            .map(drop)
    }

    async fn start_upload(&self, key: &str) -> Result<Box<dyn Upload>> {
        let object =
            SendWrapper::new(call_async(&self.object, "startUpload", &[key.into()])).await?;
        Ok(Box::new(JsUpload {
            object: SendWrapper::new(object),
        }))
    }

    async fn get(&self, key: &str) -> Result<(ObjectReader, u64)> {
        SendWrapper::new(async {
            let opened = call_async(&self.object, "get", &[key.into()]).await?;
            let field = |name: &str| js_sys::Reflect::get(&opened, &name.into());
            let size = field("size").ok().and_then(|v| v.as_f64()).unwrap_or(0.0);
            let stream = field("stream").map_err(error_from_js)?;
            let iterator = js_sys::Reflect::get(&stream, &js_sys::Symbol::async_iterator())
                .map_err(error_from_js)
                .and_then(|f| {
                    f.dyn_into::<js_sys::Function>()
                        .map_err(|_| Error::internal("the store's stream is not async-iterable"))
                })?
                .call0(&stream)
                .map_err(error_from_js)?;
            let reader: ObjectReader = Box::new(JsReader {
                iterator: SendWrapper::new(iterator),
                next: None,
                chunk: Vec::new(),
                offset: 0,
                done: false,
            });
            Ok((reader, size as u64))
        })
        .await
    }

    async fn list(&self) -> Result<Vec<ObjectMeta>> {
        let objects: Vec<ObjectJs> = SendWrapper::new(async {
            decode(call_async(&self.object, "list", &[]).await?, "list()")
        })
        .await?;
        Ok(objects
            .into_iter()
            .map(|o| ObjectMeta {
                key: o.key,
                size: o.size as u64,
                modified: None,
            })
            .collect())
    }

    async fn delete(&self, key: &str) -> Result<()> {
        SendWrapper::new(call_async(&self.object, "delete", &[key.into()]))
            .await
            .map(drop)
    }

    async fn pending_uploads(&self) -> Result<Vec<PendingUpload>> {
        let pending: Vec<PendingJs> = SendWrapper::new(async {
            decode(
                call_async(&self.object, "pendingUploads", &[]).await?,
                "pendingUploads()",
            )
        })
        .await?;
        Ok(pending
            .into_iter()
            .map(|p| PendingUpload {
                key: p.key,
                started: p
                    .started_ms
                    .and_then(|ms| DateTime::from_timestamp_millis(ms as i64)),
                handle: p.handle,
            })
            .collect())
    }

    async fn abort_pending(&self, pending: &PendingUpload) -> Result<()> {
        let js = PendingJs {
            key: pending.key.clone(),
            started_ms: pending.started.map(|t| t.timestamp_millis() as f64),
            handle: pending.handle.clone(),
        };
        SendWrapper::new(async {
            let value = crate::to_js(&js).map_err(error_from_js)?;
            call_async(&self.object, "abortPending", &[value])
                .await
                .map(drop)
        })
        .await
    }
}

struct JsUpload {
    object: SendWrapper<JsValue>,
}

#[async_trait]
impl Upload for JsUpload {
    async fn write(&mut self, chunk: Bytes) -> Result<()> {
        let args = [bytes_to_js(&chunk)];
        SendWrapper::new(call_async(&self.object, "write", &args))
            .await
            .map(drop)
    }

    async fn complete(self: Box<Self>) -> Result<()> {
        SendWrapper::new(call_async(&self.object, "complete", &[]))
            .await
            .map(drop)
    }

    async fn abort(self: Box<Self>) -> Result<()> {
        SendWrapper::new(call_async(&self.object, "abort", &[]))
            .await
            .map(drop)
    }
}

/// An object's bytes from a JS async iterator (a Node stream). Dropped early, it closes the
/// stream (`return()`), so a reader that stops never leaves a file or socket open.
struct JsReader {
    iterator: SendWrapper<JsValue>,
    next: Option<SendWrapper<JsFuture>>,
    chunk: Vec<u8>,
    offset: usize,
    done: bool,
}

impl AsyncRead for JsReader {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        loop {
            if self.offset < self.chunk.len() {
                let n = buf.remaining().min(self.chunk.len() - self.offset);
                let start = self.offset;
                buf.put_slice(&self.chunk[start..start + n]);
                self.offset += n;
                return Poll::Ready(Ok(()));
            }
            if self.done {
                return Poll::Ready(Ok(()));
            }
            if self.next.is_none() {
                let promise = call(&self.iterator, "next", &[])
                    .map_err(|e| std::io::Error::other(e.message().to_string()))?;
                self.next = Some(SendWrapper::new(JsFuture::from(js_sys::Promise::resolve(
                    &promise,
                ))));
            }
            let next = self.next.as_mut().expect("set above");
            let result = match Pin::new(&mut **next).poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(result) => result,
            };
            self.next = None;
            let result = result
                .map_err(|e| std::io::Error::other(error_from_js(e).message().to_string()))?;
            if js_sys::Reflect::get(&result, &"done".into())
                .map(|d| d.is_truthy())
                .unwrap_or(true)
            {
                self.done = true;
                continue;
            }
            let value =
                js_sys::Reflect::get(&result, &"value".into()).unwrap_or(JsValue::UNDEFINED);
            let array = js_sys::Uint8Array::new(&value);
            let len = array.length() as usize;
            if len == 0 {
                // Zero bytes read would mean the end: wait for the next chunk instead.
                continue;
            }
            if len <= buf.remaining() {
                // Straight into the caller's buffer: one copy out of JS, not two.
                array.copy_to(buf.initialize_unfilled_to(len));
                buf.advance(len);
                return Poll::Ready(Ok(()));
            }
            self.chunk = array.to_vec();
            self.offset = 0;
        }
    }
}

impl Drop for JsReader {
    fn drop(&mut self) {
        if !self.done {
            // Closes the stream; its promise settles on its own.
            let _ = call(&self.iterator, "return", &[]);
        }
    }
}
