//! Streams a stored backup to JS (the plugin's download route) without holding it in memory:
//! JS pulls one chunk at a time, so a slow client slows the store read down (back-pressure).

use std::sync::Arc;

use backstage_backup_core::download::{open_download, Download};
use backstage_backup_core::js_shape::to_js_shape;
use backstage_backup_core::signing::Trust;
use backstage_backup_core::store::Store;
use backstage_backup_core::Result;
use napi::bindgen_prelude::{AsyncTask, Buffer};
use napi::{Env, Task};
use napi_derive::napi;
use serde_json::{json, Value};
use tokio::sync::Mutex;

use crate::{runtime, StoreSpec};

/// Core's download; its hold keeps prune off the backup while it is read and is released
/// when this is dropped (the end, a failure, `close()`, or the JS object collected).
struct Opened {
    download: Download,
    store: Arc<dyn Store>,
}

impl Drop for Opened {
    fn drop(&mut self) {
        if let Some(hold) = self.download.take_hold() {
            let store = self.store.clone();
            runtime().spawn(async move { hold.release(store.as_ref()).await });
        }
    }
}

/// One backup's data object, opened on `open()` and read with `next()` until it gives `null`.
#[napi]
pub struct NativeReader {
    store: StoreSpec,
    trust: Trust,
    selector: String,
    state: Arc<Mutex<Option<Opened>>>,
}

impl NativeReader {
    pub(crate) fn new(store: StoreSpec, trust: Trust, selector: String) -> Self {
        NativeReader {
            store,
            trust,
            selector,
            state: Arc::new(Mutex::new(None)),
        }
    }
}

pub struct OpenTask {
    store: StoreSpec,
    trust: Trust,
    selector: String,
    state: Arc<Mutex<Option<Opened>>>,
}

impl OpenTask {
    async fn run(&self) -> Result<Value> {
        let store = self.store.open().await?;
        let download = open_download(store.as_ref(), &self.selector, &self.trust).await?;
        let opened = to_js_shape(&download.opened);
        *self.state.lock().await = Some(Opened { download, store });
        opened
    }
}

#[napi]
impl Task for OpenTask {
    type Output = String;
    type JsValue = String;

    fn compute(&mut self) -> napi::Result<String> {
        Ok(match runtime().block_on(self.run()) {
            Ok(value) => json!({"ok": true, "value": value}),
            Err(err) => {
                json!({"ok": false, "error": {"code": err.kind().code(), "message": err.message()}})
            }
        }
        .to_string())
    }

    fn resolve(&mut self, _env: Env, output: String) -> napi::Result<String> {
        Ok(output)
    }
}

pub struct NextTask {
    state: Arc<Mutex<Option<Opened>>>,
}

impl NextTask {
    async fn run(&self) -> Result<Option<Vec<u8>>> {
        let mut guard = self.state.lock().await;
        let result = Self::read_chunk(&mut guard).await;
        if !matches!(result, Ok(Some(_))) {
            // The end or a failure: let the backup go (drops the hold).
            guard.take();
        }
        result
    }

    async fn read_chunk(state: &mut Option<Opened>) -> Result<Option<Vec<u8>>> {
        match state.as_mut() {
            Some(opened) => opened.download.next_chunk().await,
            None => Ok(None),
        }
    }
}

#[napi]
impl Task for NextTask {
    type Output = Option<Vec<u8>>;
    type JsValue = Option<Buffer>;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        // The code travels in the message; pkg/index.js turns it back into `err.code`.
        runtime().block_on(self.run()).map_err(|err| {
            napi::Error::from_reason(format!("{}: {}", err.kind().code(), err.message()))
        })
    }

    fn resolve(&mut self, _env: Env, output: Self::Output) -> napi::Result<Self::JsValue> {
        Ok(output.map(Buffer::from))
    }
}

#[napi]
impl NativeReader {
    /// Finds the backup and opens its data object; resolves to JSON text `{ok, value: {id, file_name, bytes, summary}}`.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn open(&self) -> AsyncTask<OpenTask> {
        AsyncTask::new(OpenTask {
            store: self.store.clone(),
            trust: self.trust.clone(),
            selector: self.selector.clone(),
            state: self.state.clone(),
        })
    }

    /// Stops reading early: releases the backup's hold (the end of the data does that too).
    #[napi]
    pub fn close(&self) {
        if let Ok(mut state) = self.state.try_lock() {
            state.take();
        } else {
            // A next() is in flight; drop the reader once it is done.
            let state = self.state.clone();
            runtime().spawn(async move { state.lock().await.take() });
        }
    }

    /// The next chunk (up to 1 MiB), or `null` at the end (and after `close()`).
    #[napi(ts_return_type = "Promise<Buffer | null>")]
    pub fn next(&self) -> AsyncTask<NextTask> {
        AsyncTask::new(NextTask {
            state: self.state.clone(),
        })
    }
}
