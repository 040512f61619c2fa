//! core's store operations, exported to the glue: each takes a JS store (`store.rs`) and runs
//! the same code as the native engine (listing, read holds and the store lock, prune with its
//! leftovers, health, verify, a restore's expectations), so none of it is written again in JS.
//! The backup's write order is `writer.rs`; the database session's queries `session.rs`.

use backstage_backup_core::health::{health as judge_health, HealthRequest};
use backstage_backup_core::host::host;
use backstage_backup_core::listing::list_backups as list;
use backstage_backup_core::progress::{Bytes, Phase, Progress};
use backstage_backup_core::prune::{prune as apply_prune, PruneRequest};
use backstage_backup_core::read_hold::{hold_backup as hold, Hold};
use backstage_backup_core::verify::verify_selected;
use backstage_backup_core::CancellationToken;
use wasm_bindgen::prelude::*;

use crate::listing::Entry;
use std::sync::Arc;

use backstage_backup_core::store::{FolderStore, S3Location, S3Store, Store};
use backstage_backup_core::Error;

use crate::{coded, from_js, to_js, trust_from};

/// The store a glue object stands for: S3 requests (`s3Location`: core's S3 store over them) or
/// file system calls (`folderRoot`: core's folder store over them).
pub(crate) fn open(store: JsValue) -> Result<Arc<dyn Store>, JsValue> {
    let text = |name: &str| {
        js_sys::Reflect::get(&store, &name.into())
            .ok()
            .and_then(|v| v.as_string())
    };
    if let Some(root) = text("folderRoot") {
        let fs = Arc::new(crate::folder::JsFs::new(store));
        return Ok(Arc::new(FolderStore::new(root.into(), fs)));
    }
    let location = js_sys::Reflect::get(&store, &"s3Location".into())
        .ok()
        .filter(|v| v.is_object())
        .ok_or_else(|| {
            coded(Error::internal(
                "the glue gave neither a folder nor S3 calls",
            ))
        })?;
    let location: S3Location = crate::from_js(location, "the S3 location")?;
    Ok(Arc::new(S3Store::new(
        location,
        Arc::new(crate::s3::JsS3::new(store)),
    )))
}

pub(crate) fn options(value: JsValue, what: &str) -> Result<serde_json::Value, JsValue> {
    if value.is_undefined() || value.is_null() {
        Ok(serde_json::Value::Object(Default::default()))
    } else {
        from_js(value, what)
    }
}

/// An AbortSignal as a cancellation token, linked while this lives.
pub(crate) struct AbortLink {
    pub(crate) token: CancellationToken,
    signal: Option<(web_signal::Signal, Closure<dyn FnMut()>)>,
}

mod web_signal {
    use wasm_bindgen::prelude::*;

    #[wasm_bindgen]
    extern "C" {
        pub type Signal;
        #[wasm_bindgen(method, getter)]
        pub fn aborted(this: &Signal) -> bool;
        #[wasm_bindgen(method, js_name = addEventListener)]
        pub fn add_event_listener(this: &Signal, kind: &str, listener: &js_sys::Function);
        #[wasm_bindgen(method, js_name = removeEventListener)]
        pub fn remove_event_listener(this: &Signal, kind: &str, listener: &js_sys::Function);
    }
}

impl AbortLink {
    pub(crate) fn new(signal: JsValue) -> AbortLink {
        let token = CancellationToken::new();
        if signal.is_undefined() || signal.is_null() {
            return AbortLink {
                token,
                signal: None,
            };
        }
        let signal: web_signal::Signal = signal.unchecked_into();
        if signal.aborted() {
            token.cancel();
        }
        let on_abort = Closure::<dyn FnMut()>::new({
            let token = token.clone();
            move || token.cancel()
        });
        signal.add_event_listener("abort", on_abort.as_ref().unchecked_ref());
        AbortLink {
            token,
            signal: Some((signal, on_abort)),
        }
    }
}

impl Drop for AbortLink {
    fn drop(&mut self) {
        if let Some((signal, on_abort)) = &self.signal {
            signal.remove_event_listener("abort", on_abort.as_ref().unchecked_ref());
        }
    }
}

/// Every backup in the store, newest first, in the `list` shape (`summaries`).
#[wasm_bindgen(js_name = listBackups)]
pub async fn list_backups(store: JsValue, trust: JsValue) -> Result<JsValue, JsValue> {
    let trust = trust_from(trust)?;
    let store = open(store)?;
    let entries = list(&*store).await.map_err(coded)?;
    to_js(
        &entries
            .iter()
            .map(|e| e.summary(&trust))
            .collect::<Vec<_>>(),
    )
}

/// A backup held against prune while it is read; `release()` when done (it never throws).
#[wasm_bindgen]
pub struct HeldBackup {
    entry: Entry,
    hold: Option<Hold>,
    store: Arc<dyn Store>,
}

#[wasm_bindgen]
impl HeldBackup {
    /// The backup, as the glue carries entries (`{id, status, manifest, keys, …}`).
    #[wasm_bindgen(getter)]
    pub fn entry(&self) -> Result<JsValue, JsValue> {
        to_js(&self.entry)
    }

    /// Lets prune delete the backup again.
    pub async fn release(mut self) {
        if let Some(hold) = self.hold.take() {
            hold.release(&*self.store).await;
        }
    }
}

/// Finds the backup `selector` names (`latest` or an id; `latest` prefers `pluginHint`'s) and
/// holds it for `purpose`, waiting while a prune runs (core's `read_hold::hold_backup`).
#[wasm_bindgen(js_name = holdBackup)]
pub async fn hold_backup(
    store: JsValue,
    selector: String,
    plugin_hint: Option<String>,
    purpose: String,
    signal: JsValue,
) -> Result<HeldBackup, JsValue> {
    let store = open(store)?;
    let abort = AbortLink::new(signal);
    let (entry, held) = hold(
        &*store,
        &selector,
        plugin_hint.as_deref(),
        &purpose,
        &abort.token,
    )
    .await
    .map_err(coded)?;
    Ok(HeldBackup {
        entry: Entry::from_core(&entry),
        hold: Some(held),
        store,
    })
}

fn prune_options(
    request: JsValue,
    trust: JsValue,
) -> Result<backstage_backup_core::prune::PruneOptions, JsValue> {
    let trust = trust_from(trust)?;
    PruneRequest::from_json(options(request, "prune options")?)
        .and_then(|r| r.options(trust))
        .map_err(coded)
}

/// A backup id taken apart (`{id, pluginId, takenAt}`); E_INVALID for anything but an id.
#[wasm_bindgen(js_name = parseBackupId)]
pub fn parse_backup_id(id: &str) -> Result<JsValue, JsValue> {
    let parts = backstage_backup_core::naming::BackupName::parse_exact_id(id)
        .map_err(coded)?
        .parts();
    to_js(&backstage_backup_core::js_shape::to_js_shape(&parts).map_err(coded)?)
}

/// Checks prune options without touching the store (E_INVALID names what is wrong).
#[wasm_bindgen(js_name = checkPrune)]
pub fn check_prune(request: JsValue, trust: JsValue) -> Result<(), JsValue> {
    prune_options(request, trust).map(drop)
}

/// Applies a retention policy (core's `PruneRequest`: the policy's fields, `dryRun`, `grace`):
/// core's prune, store lock and all.
#[wasm_bindgen]
pub async fn prune(store: JsValue, request: JsValue, trust: JsValue) -> Result<JsValue, JsValue> {
    let options = prune_options(request, trust)?;
    let store = open(store)?;
    let report = apply_prune(&*store, &options, host().now())
        .await
        .map_err(coded)?;
    to_js(&report)
}

/// Health of the store's backups (`{max_age, verify_max_age, drill_max_age, size_drop,
/// size_growth}`); an unreachable store is UNKNOWN, not an error.
#[wasm_bindgen]
pub async fn health(store: JsValue, request: JsValue, trust: JsValue) -> Result<JsValue, JsValue> {
    let trust = trust_from(trust)?;
    let thresholds = HealthRequest::from_json(options(request, "health options")?)
        .and_then(|r| r.thresholds())
        .map_err(coded)?;
    let store = open(store)?;
    to_js(&judge_health(&*store, &thresholds, host().now(), &trust).await)
}

/// Progress to the glue's reporter (`{phase(name), bytes({raw, stored, total})}`); a failing
/// listener never breaks the operation.
pub(crate) struct JsProgress {
    reporter: send_wrapper::SendWrapper<JsValue>,
}

impl JsProgress {
    /// Over the glue's reporter: `{phase(name), bytes({raw, stored, total})}`.
    pub(crate) fn new(reporter: JsValue) -> JsProgress {
        JsProgress {
            reporter: send_wrapper::SendWrapper::new(reporter),
        }
    }
}

impl Progress for JsProgress {
    fn phase(&self, phase: Phase) {
        let _ = crate::js::call(&self.reporter, "phase", &[phase.as_str().into()]);
    }

    fn bytes(&self, bytes: Bytes) {
        if let Ok(value) = to_js(&bytes) {
            let _ = crate::js::call(&self.reporter, "bytes", &[value]);
        }
    }
}

/// Verifies the backup `selector` names, held against prune while it is read, and records the
/// outcome beside it (core's `verify_selected`).
#[wasm_bindgen]
pub async fn verify(
    store: JsValue,
    selector: String,
    trust: JsValue,
    reporter: JsValue,
    signal: JsValue,
) -> Result<JsValue, JsValue> {
    let trust = trust_from(trust)?;
    let store = open(store)?;
    let abort = AbortLink::new(signal);
    let progress = JsProgress {
        reporter: send_wrapper::SendWrapper::new(reporter),
    };
    let report = verify_selected(&*store, &selector, &trust, &progress, &abort.token)
        .await
        .map_err(coded)?;
    to_js(&report)
}

/// A backup's data object opened for a download (core's `download`): `opened` (`{id,
/// file_name, bytes, summary}`), then `next()` until it gives null; `close()` lets the backup go
/// (the end or a failure does too).
#[wasm_bindgen(js_name = Download)]
pub struct DownloadJs {
    opened: JsValue,
    download: std::rc::Rc<std::cell::RefCell<Option<backstage_backup_core::download::Download>>>,
    closed: std::rc::Rc<std::cell::Cell<bool>>,
    store: Arc<dyn Store>,
}

/// Opens the backup `selector` names for a download, held against prune while it is read.
#[wasm_bindgen(js_name = openDownload)]
pub async fn open_download(
    store: JsValue,
    selector: String,
    trust: JsValue,
) -> Result<DownloadJs, JsValue> {
    let trust = trust_from(trust)?;
    let store = open(store)?;
    let download = backstage_backup_core::download::open_download(&*store, &selector, &trust)
        .await
        .map_err(coded)?;
    Ok(DownloadJs {
        opened: to_js(&download.opened)?,
        download: std::rc::Rc::new(std::cell::RefCell::new(Some(download))),
        closed: Default::default(),
        store,
    })
}

#[wasm_bindgen(js_class = Download)]
impl DownloadJs {
    #[wasm_bindgen(getter)]
    pub fn opened(&self) -> JsValue {
        self.opened.clone()
    }

    /// The next chunk (up to 1 MiB) or null at the end. One call at a time.
    pub fn next(&self) -> js_sys::Promise {
        let slot = self.download.clone();
        let closed = self.closed.clone();
        let store = self.store.clone();
        wasm_bindgen_futures::future_to_promise(async move {
            // Taken out while it reads: a second call meanwhile sees the end, never a panic.
            let Some(mut download) = slot.borrow_mut().take() else {
                return Ok(JsValue::NULL);
            };
            match download.next_chunk().await {
                Ok(Some(chunk)) => {
                    if closed.get() {
                        // close() came while this read: it could not release what it did not see.
                        download.release(&*store).await;
                    } else {
                        *slot.borrow_mut() = Some(download);
                    }
                    Ok(js_sys::Uint8Array::from(chunk.as_slice()).into())
                }
                // The end or a failure: the backup goes free.
                outcome => {
                    download.release(&*store).await;
                    outcome.map(|_| JsValue::NULL).map_err(coded)
                }
            }
        })
    }

    /// Stops reading early and lets the backup go.
    pub async fn close(&self) {
        self.closed.set(true);
        let taken = self.download.borrow_mut().take();
        if let Some(download) = taken {
            download.release(&*self.store).await;
        }
    }
}
