//! Bytes between the glue and core's stores: a JS async iterator (a Node stream: a file, an S3
//! body) as core's `ObjectReader`, and bytes as a JS `Uint8Array`. The stores themselves are
//! core's (`folder.rs` and `s3.rs` hold their JS calls).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use backstage_backup_core::store::ObjectReader;
use backstage_backup_core::{Error, Result};
use send_wrapper::SendWrapper;
use tokio::io::{AsyncRead, ReadBuf};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::js::{call, error_from_js};

pub(crate) fn bytes_to_js(data: &[u8]) -> JsValue {
    js_sys::Uint8Array::from(data).into()
}

/// An opened object (`{stream, size}`, the stream async-iterable) as core's reader.
pub(crate) fn reader_from(opened: &JsValue) -> Result<(ObjectReader, u64)> {
    let field = |name: &str| js_sys::Reflect::get(opened, &name.into());
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
    Ok((reader, size.max(0.0) as u64))
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
