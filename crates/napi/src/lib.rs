//! The Node native engine: a thin napi-rs binding of backstage-backup-core. Each operation runs
//! off the JS thread (libuv pool, on a shared tokio runtime) and settles its Promise with the
//! JSON text of `{ok: true, value}` or `{ok: false, error: {code, message}}`; `pkg/index.js` turns the latter
//! into an `Error` with a stable `code`. Options arrive as JSON (camelCase) and are parsed by
//! core's `engine_options`; values leave in core's JS shape (`js_shape`: camelCase names), as
//! the WebAssembly engine's do, and as `pkg/types.generated.d.ts` declares them.

use std::sync::{Arc, OnceLock};

use backstage_backup_core::backup::backup;
use backstage_backup_core::drill::drill_selected;
use backstage_backup_core::engine_options::{
    BackupCallOptions, DrillCallOptions, RestoreCallOptions,
};
use backstage_backup_core::health::{health, HealthRequest};
use backstage_backup_core::js_shape::to_js_shape;
use backstage_backup_core::listing::list_backups;
use backstage_backup_core::progress::{Bytes, Phase, Progress, ProgressEvent};
use backstage_backup_core::prune::{prune, PruneRequest};
use backstage_backup_core::restore::{restore_selected, RestoreOptions};
use backstage_backup_core::signing::Trust;
use backstage_backup_core::source::native_client::NativeClient;
use backstage_backup_core::source::DumpSource;
use backstage_backup_core::store::{self, Store};
use backstage_backup_core::verify::verify_selected;
use backstage_backup_core::{CancellationToken, Result};
use napi::bindgen_prelude::{AbortSignal, AsyncTask};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::{Env, Task};
use napi_derive::napi;
use serde_json::{json, Value};

pub(crate) fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("tokio runtime")
    })
}

/// Progress events go to JS as JSON strings of core's `ProgressEvent`.
type ProgressFn = ThreadsafeFunction<String, (), String, napi::Status, false>;

/// Sends progress to JS and counts the events JS has not run yet, so an operation's promise
/// settles only after its last event (`done`) was delivered: the events and the result travel
/// separately, and the result could overtake them.
struct JsProgress {
    send: Option<ProgressFn>,
    in_flight: Arc<(std::sync::Mutex<usize>, std::sync::Condvar)>,
}

impl JsProgress {
    fn new(send: Option<ProgressFn>) -> Self {
        JsProgress {
            send,
            in_flight: Arc::default(),
        }
    }

    fn send(&self, event: String) {
        let Some(f) = &self.send else { return };
        let in_flight = self.in_flight.clone();
        *in_flight.0.lock().expect("progress count") += 1;
        let delivered = {
            let in_flight = in_flight.clone();
            move |_: napi::Result<()>, _: Env| {
                *in_flight.0.lock().expect("progress count") -= 1;
                in_flight.1.notify_all();
                Ok(())
            }
        };
        if f.call_with_return_value(event, ThreadsafeFunctionCallMode::NonBlocking, delivered)
            != napi::Status::Ok
        {
            // Not queued (JS is shutting down): nothing to wait for.
            *in_flight.0.lock().expect("progress count") -= 1;
        }
    }

    fn send_event(&self, event: ProgressEvent) {
        if let Ok(value) = to_js_shape(&event) {
            self.send(value.to_string());
        }
    }

    /// Waits (a little at most) until JS has run every event sent.
    fn flush(&self) {
        let (count, delivered) = &*self.in_flight;
        let guard = count.lock().expect("progress count");
        let _ = delivered.wait_timeout_while(guard, std::time::Duration::from_secs(2), |n| *n > 0);
    }
}

impl Progress for JsProgress {
    fn phase(&self, phase: Phase) {
        self.send_event(ProgressEvent::Phase { phase });
    }

    fn bytes(&self, bytes: Bytes) {
        self.send_event(ProgressEvent::Bytes(bytes));
    }
}

#[derive(Debug, Clone)]
enum Op {
    Backup(Value),
    List,
    Verify(String),
    Restore(String, Value),
    Drill(String, Value),
    Prune(Value),
    Health(Value),
}

pub struct OpTask {
    store: StoreSpec,
    trust: Trust,
    level: u32,
    op: Op,
    cancel: CancellationToken,
    progress: Arc<JsProgress>,
}

impl OpTask {
    async fn open(&self) -> Result<Arc<dyn Store>> {
        self.store.open().await
    }

    async fn run(&self) -> Result<Value> {
        let progress: Arc<dyn Progress> = self.progress.clone();
        let cancel = &self.cancel;
        match &self.op {
            Op::Backup(options) => {
                let call = BackupCallOptions::from_json(options)?;
                let source = DumpSource::Database(call.database.resolve()?);
                let opts = call.backup.options(self.level, self.trust.key.clone())?;
                let store = self.open().await?;
                to_js_shape(&backup(store.as_ref(), &source, &opts, progress, cancel).await?)
            }
            Op::List => {
                let store = self.open().await?;
                let entries = list_backups(store.as_ref()).await?;
                to_js_shape(
                    &entries
                        .iter()
                        .map(|e| e.summary(&self.trust))
                        .collect::<Vec<_>>(),
                )
            }
            Op::Verify(selector) => {
                let store = self.open().await?;
                to_js_shape(
                    &verify_selected(
                        store.as_ref(),
                        selector,
                        &self.trust,
                        progress.as_ref(),
                        cancel,
                    )
                    .await?,
                )
            }
            Op::Restore(selector, options) => {
                let call = RestoreCallOptions::from_json(options)?;
                let target = call.database.resolve()?;
                let store = self.open().await?;
                let opts = RestoreOptions {
                    clean: call.clean.unwrap_or(false),
                    safety_backup: call.safety_backup.unwrap_or(true),
                    trust: self.trust.clone(),
                };
                to_js_shape(
                    &restore_selected(
                        store.as_ref(),
                        &NativeClient,
                        selector,
                        Some(&target.plugin_id),
                        &target.connection,
                        &opts,
                        progress,
                        cancel,
                    )
                    .await?,
                )
            }
            Op::Drill(selector, options) => {
                let server = DrillCallOptions::from_json(options)?.database.resolve()?;
                let store = self.open().await?;
                to_js_shape(
                    &drill_selected(
                        store.as_ref(),
                        &NativeClient,
                        selector,
                        &server.connection,
                        &self.trust,
                        progress,
                        cancel,
                    )
                    .await?,
                )
            }
            Op::Prune(options) => {
                let opts = PruneRequest::from_json(options.clone())?.options(self.trust.clone())?;
                let store = self.open().await?;
                to_js_shape(&prune(store.as_ref(), &opts, chrono::Utc::now()).await?)
            }
            Op::Health(options) => {
                let thresholds = HealthRequest::from_json(options.clone())?.thresholds()?;
                let store = self.open().await?;
                to_js_shape(
                    &health(store.as_ref(), &thresholds, chrono::Utc::now(), &self.trust).await,
                )
            }
        }
    }
}

#[napi]
impl Task for OpTask {
    type Output = String;
    type JsValue = String;

    fn compute(&mut self) -> napi::Result<Self::Output> {
        let outcome = runtime().block_on(self.run());
        self.progress.flush();
        Ok(match outcome {
            Ok(value) => json!({"ok": true, "value": value}),
            Err(err) => json!({
                "ok": false,
                "error": {"code": err.kind().code(), "message": err.message(), "reason": err.cause()},
            }),
        }
        .to_string())
    }

    fn resolve(&mut self, _env: Env, output: String) -> napi::Result<Self::JsValue> {
        Ok(output)
    }
}

mod reader;
pub use reader::NativeReader;

/// The native engine. Construct with the store URL and the default compression level.
#[napi]
pub struct NativeEngine {
    store: StoreSpec,
    level: u32,
    trust: Trust,
}

/// The store as the caller gave it (core's `StoreSpec` reads it when an operation opens it,
/// so a wrong store fails that operation with E_INVALID), and the `s3Credentials` option.
#[derive(Debug, Clone)]
pub(crate) struct StoreSpec {
    store: Value,
    credentials: Option<Value>,
}

impl StoreSpec {
    fn read(&self) -> Result<store::StoreSpec> {
        store::StoreSpec::from_json(&self.store, self.credentials.as_ref())
    }

    pub(crate) async fn open(&self) -> Result<Arc<dyn Store>> {
        let spec = self.read()?;
        store::open_with(&spec.location, spec.credentials.as_ref()).await
    }
}

/// The signing settings, JSON `{key?: PEM text, allow_unsigned?: bool}`; a bad key is named,
/// never echoed, and fails with the core's code as the reason's prefix.
fn trust_from(signing: Option<String>) -> napi::Result<Trust> {
    let Some(text) = signing else {
        return Ok(Trust::default());
    };
    let value: Value = serde_json::from_str(&text).map_err(|_| {
        napi::Error::from_reason(
            "E_INVALID: signing must be {key?: PEM text, allowUnsigned?: boolean}",
        )
    })?;
    let key = value
        .get("key")
        .and_then(Value::as_str)
        .filter(|k| !k.trim().is_empty());
    let allow_unsigned = value
        .get("allow_unsigned")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    Trust::from_pem(key, "signing.key", allow_unsigned).map_err(coded_reason)
}

/// A core error as napi's reason, its stable code first (`E_INVALID: …`).
fn coded_reason(err: backstage_backup_core::Error) -> napi::Error {
    napi::Error::from_reason(format!("{}: {}", err.kind().code(), err.message()))
}

fn parse(json_text: Option<String>) -> napi::Result<Value> {
    match json_text {
        None => Ok(json!({})),
        Some(text) => serde_json::from_str(&text)
            .map_err(|e| napi::Error::from_reason(format!("options are not JSON: {e}"))),
    }
}

#[napi]
impl NativeEngine {
    /// Where the store is, safe to show; E_INVALID when the store is wrong.
    #[napi]
    pub fn describe_store(&self) -> napi::Result<String> {
        self.store
            .read()
            .map(|spec| spec.location.describe())
            .map_err(coded_reason)
    }

    #[napi(constructor)]
    pub fn new(
        store: String,
        level: u32,
        s3_credentials: Option<String>,
        signing: Option<String>,
    ) -> napi::Result<Self> {
        let json = |text: &str, what: &str| {
            // The secret never reaches an error message: only the shape is named.
            serde_json::from_str::<Value>(text)
                .map_err(|_| napi::Error::from_reason(format!("E_INVALID: {what} is not JSON")))
        };
        let credentials = s3_credentials
            .map(|text| json(&text, "s3Credentials"))
            .transpose()?;
        // Wrong credentials fail here, at once, as they always have; the store when opened.
        if let Some(given) = credentials.as_ref().filter(|c| !c.is_null()) {
            store::S3Credentials::from_json(given).map_err(coded_reason)?;
        }
        Ok(NativeEngine {
            store: StoreSpec {
                store: json(&store, "store")?,
                credentials,
            },
            level,
            trust: trust_from(signing)?,
        })
    }

    fn task(
        &self,
        op: Op,
        progress: Option<ProgressFn>,
        signal: Option<AbortSignal>,
    ) -> AsyncTask<OpTask> {
        let cancel = CancellationToken::new();
        if let Some(signal) = &signal {
            let token = cancel.clone();
            signal.on_abort(move || token.cancel());
        }
        AsyncTask::with_optional_signal(
            OpTask {
                store: self.store.clone(),
                trust: self.trust.clone(),
                level: self.level,
                op,
                cancel,
                progress: Arc::new(JsProgress::new(progress)),
            },
            signal,
        )
    }

    /// Takes a backup; options JSON: core's `BackupCallOptions`.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn backup(
        &self,
        options: Option<String>,
        on_progress: Option<ProgressFn>,
        signal: Option<AbortSignal>,
    ) -> napi::Result<AsyncTask<OpTask>> {
        Ok(self.task(Op::Backup(parse(options)?), on_progress, signal))
    }

    /// Lists backups, newest first.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn list(&self) -> AsyncTask<OpTask> {
        self.task(Op::List, None, None)
    }

    /// Verifies a backup (`latest` or an id).
    #[napi(ts_return_type = "Promise<string>")]
    pub fn verify(
        &self,
        selector: String,
        on_progress: Option<ProgressFn>,
        signal: Option<AbortSignal>,
    ) -> AsyncTask<OpTask> {
        self.task(Op::Verify(selector), on_progress, signal)
    }

    /// Restores a backup; options JSON: core's `RestoreCallOptions`.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn restore(
        &self,
        selector: String,
        options: Option<String>,
        on_progress: Option<ProgressFn>,
        signal: Option<AbortSignal>,
    ) -> napi::Result<AsyncTask<OpTask>> {
        Ok(self.task(Op::Restore(selector, parse(options)?), on_progress, signal))
    }

    /// Restore drill into a scratch database; options JSON: core's `DrillCallOptions`.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn drill(
        &self,
        selector: String,
        options: Option<String>,
        signal: Option<AbortSignal>,
    ) -> napi::Result<AsyncTask<OpTask>> {
        Ok(self.task(Op::Drill(selector, parse(options)?), None, signal))
    }

    /// Applies a retention policy; options JSON: core's `PruneRequest`.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn prune(&self, options: Option<String>) -> napi::Result<AsyncTask<OpTask>> {
        Ok(self.task(Op::Prune(parse(options)?), None, None))
    }

    /// A backup id taken apart (JSON `{id, pluginId, takenAt}`); E_INVALID for anything but an id.
    #[napi]
    pub fn parse_backup_id(&self, id: String) -> napi::Result<String> {
        let parts = backstage_backup_core::naming::BackupName::parse_exact_id(&id)
            .map_err(coded_reason)?
            .parts();
        to_js_shape(&parts)
            .map(|v| v.to_string())
            .map_err(coded_reason)
    }

    /// Checks prune options without touching the store (E_INVALID names what is wrong).
    #[napi]
    pub fn check_prune(&self, options: Option<String>) -> napi::Result<()> {
        PruneRequest::from_json(parse(options)?)
            .and_then(|r| r.options(self.trust.clone()))
            .map(drop)
            .map_err(coded_reason)
    }

    /// A reader of one backup's stored `.sql.gz` (`latest` or an id), pulled chunk by chunk.
    #[napi]
    pub fn reader(&self, selector: String) -> NativeReader {
        NativeReader::new(self.store.clone(), self.trust.clone(), selector)
    }

    /// Health report; options JSON: core's `HealthRequest`.
    #[napi(ts_return_type = "Promise<string>")]
    pub fn health(&self, options: Option<String>) -> napi::Result<AsyncTask<OpTask>> {
        Ok(self.task(Op::Health(parse(options)?), None, None))
    }
}
