//! core's `FolderFs` over the glue's `FolderFs` object (`pkg/wasm-engine/store/local.js`: Node's
//! `fs/promises`, one call a method), so the folder store's protocol (temp names, fsyncs,
//! publishing, what a leftover is) is core's in this engine too. Node's errors keep their errno
//! as the io::Error's kind, so core words them as it does natively.

use std::io;
use std::path::Path;

use async_trait::async_trait;
use backstage_backup_core::store::folder::{FileMeta, FileWrite, FolderEntry, FolderFs};
use backstage_backup_core::store::{io_kind_of_code, ObjectReader};
use bytes::Bytes;
use chrono::DateTime;
use send_wrapper::SendWrapper;
use serde::Deserialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::js::{call, call_now};
use crate::store::{bytes_to_js, reader_from};

pub(crate) struct JsFs {
    object: SendWrapper<JsValue>,
}

impl JsFs {
    pub(crate) fn new(object: JsValue) -> JsFs {
        JsFs {
            object: SendWrapper::new(object),
        }
    }
}

/// A Node error as an io::Error: its errno (`code`) decides the kind.
fn io_from_js(err: JsValue) -> io::Error {
    let text = |name: &str| {
        js_sys::Reflect::get(&err, &name.into())
            .ok()
            .and_then(|v| v.as_string())
    };
    let kind = text("code").map_or(io::ErrorKind::Other, |c| io_kind_of_code(&c));
    let message = text("message")
        .or_else(|| err.as_string())
        .unwrap_or_else(|| "an unknown file system error".into());
    io::Error::new(kind, message)
}

/// Calls `object[name](...args)` now and awaits its promise. Takes the arguments by value:
/// none is held across an await.
fn request<const N: usize>(
    object: &JsValue,
    name: &str,
    args: [JsValue; N],
) -> SendWrapper<impl std::future::Future<Output = io::Result<JsValue>>> {
    let called = call_now(object, name, &args);
    SendWrapper::new(async move { called.await.map_err(io_from_js) })
}

fn path_js(path: &Path) -> JsValue {
    path.to_string_lossy().as_ref().into()
}

#[derive(Deserialize)]
struct MetaJs {
    is_file: bool,
    #[serde(default)]
    size: f64,
    modified_ms: Option<f64>,
}

impl From<MetaJs> for FileMeta {
    fn from(meta: MetaJs) -> FileMeta {
        FileMeta {
            is_file: meta.is_file,
            size: meta.size.max(0.0) as u64,
            modified: meta
                .modified_ms
                .and_then(|ms| DateTime::from_timestamp_millis(ms as i64)),
        }
    }
}

#[derive(Deserialize)]
struct EntryJs {
    name: String,
    meta: Option<MetaJs>,
}

fn decode<T: for<'de> Deserialize<'de>>(value: JsValue) -> io::Result<T> {
    serde_wasm_bindgen::from_value(value).map_err(|e| io::Error::other(e.to_string()))
}

#[async_trait]
impl FolderFs for JsFs {
    async fn create_dir_all(&self, dir: &Path) -> io::Result<()> {
        request(&self.object, "createDirAll", [path_js(dir)])
            .await
            .map(drop)
    }

    async fn create_new(&self, path: &Path) -> io::Result<Box<dyn FileWrite>> {
        let handle = request(&self.object, "createNew", [path_js(path)]).await?;
        Ok(Box::new(JsFile {
            handle: Some(SendWrapper::new(handle)),
        }))
    }

    async fn hard_link(&self, existing: &Path, link: &Path) -> io::Result<()> {
        request(&self.object, "hardLink", [path_js(existing), path_js(link)])
            .await
            .map(drop)
    }

    async fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        request(&self.object, "rename", [path_js(from), path_js(to)])
            .await
            .map(drop)
    }

    async fn remove_file(&self, path: &Path) -> io::Result<()> {
        request(&self.object, "removeFile", [path_js(path)])
            .await
            .map(drop)
    }

    fn remove_file_unawaited(&self, path: &Path) {
        let _ = call(&self.object, "removeFileNow", &[path_js(path)]);
    }

    async fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        request(&self.object, "syncDir", [path_js(dir)])
            .await
            .map(drop)
    }

    async fn metadata(&self, path: &Path) -> io::Result<FileMeta> {
        let meta = request(&self.object, "metadata", [path_js(path)]).await?;
        let meta: MetaJs = SendWrapper::new(async move { decode(meta) }).await?;
        Ok(meta.into())
    }

    async fn read_dir(&self, dir: &Path) -> io::Result<Vec<FolderEntry>> {
        let entries = request(&self.object, "readDir", [path_js(dir)]).await?;
        let entries: Vec<EntryJs> = SendWrapper::new(async move { decode(entries) }).await?;
        Ok(entries
            .into_iter()
            .map(|e| FolderEntry {
                name: e.name,
                meta: e.meta.map(FileMeta::from),
            })
            .collect())
    }

    async fn open_read(&self, path: &Path) -> io::Result<(ObjectReader, u64)> {
        let opened = request(&self.object, "openRead", [path_js(path)]).await?;
        SendWrapper::new(async move {
            reader_from(&opened).map_err(|e| io::Error::other(e.message().to_string()))
        })
        .await
    }
}

/// A Node `FileHandle`; closed when dropped unfinished.
struct JsFile {
    handle: Option<SendWrapper<JsValue>>,
}

impl JsFile {
    fn handle(&self) -> io::Result<&JsValue> {
        self.handle
            .as_deref()
            .ok_or_else(|| io::Error::other("the file is closed"))
    }
}

#[async_trait]
impl FileWrite for JsFile {
    async fn write_all(&mut self, data: Bytes) -> io::Result<()> {
        // FileHandle.writeFile writes every byte (write() may stop short).
        request(self.handle()?, "writeFile", [bytes_to_js(&data)])
            .await
            .map(drop)
    }

    async fn sync_and_close(mut self: Box<Self>) -> io::Result<()> {
        let handle = self
            .handle
            .take()
            .ok_or_else(|| io::Error::other("the file is closed"))?;
        let synced = request(&handle, "sync", []).await;
        let closed = request(&handle, "close", []).await;
        synced.and(closed).map(drop)
    }
}

impl Drop for JsFile {
    fn drop(&mut self) {
        if let Some(handle) = self.handle.take() {
            if let Ok(promise) = call(&handle, "close", &[]) {
                let promise = js_sys::Promise::resolve(&promise);
                wasm_bindgen_futures::spawn_local(async move {
                    let _ = JsFuture::from(promise).await;
                });
            }
        }
    }
}
