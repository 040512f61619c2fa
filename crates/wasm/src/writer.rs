//! core's `BackupWriter` for the glue: the glue makes the bytes (pg_dump, gzip on worker
//! threads) and core writes them in its one order (marker, data, sidecar, manifest last) and
//! cleans up after a failure, exactly as the native engine does.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use backstage_backup_core::backup_writer::{BackupOptions, BackupWriter};
use backstage_backup_core::engine_options::BackupCallOptions;
use backstage_backup_core::manifest::DatabaseInfo;
use backstage_backup_core::pipeline::StreamDigests;
use backstage_backup_core::Error;
use bytes::Bytes;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use crate::listing::keys;
use crate::store::JsStore;
use crate::{coded, from_js, to_js, trust_from};

fn options(request: JsValue, default_level: u32, trust: JsValue) -> Result<BackupOptions, JsValue> {
    let trust = trust_from(trust)?;
    let request = crate::options::options_json(&request, "backup options")?;
    BackupCallOptions::from_json(&request)
        .and_then(|call| call.backup.options(default_level, trust.key.clone()))
        .map_err(coded)
}

/// Checks a backup's options before anything is dumped (core's `BackupCallOptions`: an unknown
/// option is E_INVALID): `{level, threads, plugin_id}` (threads 0: one per core).
#[wasm_bindgen(js_name = checkBackup)]
pub fn check_backup(
    request: JsValue,
    default_level: u32,
    trust: JsValue,
) -> Result<JsValue, JsValue> {
    let options = options(request, default_level, trust)?;
    to_js(&serde_json::json!({
        "level": options.level,
        "threads": options.threads,
        "plugin_id": options.plugin_id,
    }))
}

/// A backup being written (core's `BackupWriter`).
#[wasm_bindgen(js_name = BackupWriter)]
pub struct BackupWriterJs {
    writer: Rc<RefCell<Option<BackupWriter>>>,
    store: JsStore,
    options: BackupOptions,
    id: String,
    keys: BTreeMap<&'static str, String>,
    started_ms: f64,
}

/// Reserves a name for a backup of `pluginId` and opens its upload.
#[wasm_bindgen(js_name = beginBackup)]
pub async fn begin_backup(
    store: JsValue,
    request: JsValue,
    default_level: u32,
    trust: JsValue,
    plugin_id: String,
) -> Result<BackupWriterJs, JsValue> {
    let options = options(request, default_level, trust)?;
    let store = JsStore::new(store).map_err(coded)?;
    let writer = BackupWriter::begin(&store, &plugin_id)
        .await
        .map_err(coded)?;
    Ok(BackupWriterJs {
        id: writer.name().id(),
        keys: keys(writer.name()),
        started_ms: writer.started_at().timestamp_millis() as f64,
        writer: Rc::new(RefCell::new(Some(writer))),
        store,
        options,
    })
}

impl BackupWriterJs {
    /// The writer, taken while one call runs: calls are made one at a time.
    fn take(&self) -> Result<BackupWriter, JsValue> {
        self.writer.borrow_mut().take().ok_or_else(|| {
            coded(Error::internal(
                "the backup writer is busy or done: await each call before the next",
            ))
        })
    }
}

#[wasm_bindgen(js_class = BackupWriter)]
impl BackupWriterJs {
    #[wasm_bindgen(getter)]
    pub fn id(&self) -> String {
        self.id.clone()
    }

    /// Part name → object key (`data`, `sidecar`, `manifest`, `marker`, …).
    #[wasm_bindgen(getter)]
    pub fn keys(&self) -> Result<JsValue, JsValue> {
        to_js(&self.keys)
    }

    /// When the backup started (its marker's time), milliseconds since the epoch.
    #[wasm_bindgen(getter, js_name = startedMs)]
    pub fn started_ms(&self) -> f64 {
        self.started_ms
    }

    /// The gzip level the request asked for (or the engine's default).
    #[wasm_bindgen(getter)]
    pub fn level(&self) -> u32 {
        self.options.level
    }

    /// Compression threads as requested (0: one per core).
    #[wasm_bindgen(getter)]
    pub fn threads(&self) -> u32 {
        self.options.threads as u32
    }

    /// Appends compressed bytes to the data upload (waits when the store is behind).
    pub fn write(&self, chunk: Vec<u8>) -> Result<js_sys::Promise, JsValue> {
        let mut writer = self.take()?;
        let slot = self.writer.clone();
        Ok(future_to_promise(async move {
            let written = writer.upload().write(Bytes::from(chunk)).await;
            *slot.borrow_mut() = Some(writer);
            written.map(|()| JsValue::UNDEFINED).map_err(coded)
        }))
    }

    /// Completes the backup (`digests`: `{raw, compressed}`, each `{bytes, sha256}`); resolves
    /// to its manifest. A failure removes what was written.
    pub fn finish(
        &self,
        database: JsValue,
        entities: JsValue,
        digests: JsValue,
    ) -> Result<js_sys::Promise, JsValue> {
        let database: DatabaseInfo = from_js(database, "database")?;
        let entities: Option<BTreeMap<String, u64>> =
            if entities.is_undefined() || entities.is_null() {
                None
            } else {
                Some(from_js(entities, "entities")?)
            };
        let digests: StreamDigests = from_js(digests, "digests")?;
        let writer = self.take()?;
        let (store, options) = (self.store.clone(), self.options.clone());
        Ok(future_to_promise(async move {
            let manifest = writer
                .finish(&store, database, entities, &options, digests)
                .await
                .map_err(coded)?;
            to_js(&manifest)
        }))
    }

    /// Gives up: the upload is discarded and the name given back. Never fails.
    pub fn abandon(&self) -> js_sys::Promise {
        let writer = self.writer.borrow_mut().take();
        let store = self.store.clone();
        future_to_promise(async move {
            if let Some(writer) = writer {
                writer.abandon(&store).await;
            }
            Ok(JsValue::UNDEFINED)
        })
    }
}
