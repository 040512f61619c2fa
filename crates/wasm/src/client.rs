//! core's `PgClient` over the glue's primitives (`postgres.js`'s `client`): a psql coprocess
//! session for queries, psql loading a restore, and pg_dump streamed through the gzip worker
//! threads. Backup, restore and drill are core's (`database_backup`, `restore`, `drill`),
//! exported here; the glue holds no step of them.

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use backstage_backup_core::drill::drill_selected;
use backstage_backup_core::engine_options::{
    BackupCallOptions, DrillCallOptions, RestoreCallOptions,
};
use backstage_backup_core::pipeline::StreamDigests;
use backstage_backup_core::progress::{Bytes as ByteCounts, Progress};
use backstage_backup_core::restore::{restore_selected, RestoreOptions};
use backstage_backup_core::source::client::{
    DumpOutcome, DumpSpec, PgClient, ProcessExit, PsqlLoad,
};
use backstage_backup_core::source::sql::{Rows, SqlSession};
use backstage_backup_core::source::ConnectionInfo;
use backstage_backup_core::store::Upload;
use backstage_backup_core::verify::DumpSink;
use backstage_backup_core::{CancellationToken, Error, Result};
use bytes::Bytes;
use send_wrapper::SendWrapper;
use wasm_bindgen::prelude::*;

use crate::database::ConnJs;
use crate::js::{call, call_async};
use crate::ops::{open, AbortLink, JsProgress};
use crate::options::options_json;
use crate::{coded, to_js, trust_from};

fn conn_js(conn: &ConnectionInfo) -> Result<JsValue> {
    to_js(&ConnJs::from_core(conn))
        .map_err(|_| Error::internal("a connection could not be handed to the glue"))
}

fn field(object: &JsValue, name: &str) -> JsValue {
    js_sys::Reflect::get(object, &name.into()).unwrap_or(JsValue::UNDEFINED)
}

/// `{success, status, stderr}` from the glue.
fn process_exit(value: &JsValue) -> ProcessExit {
    ProcessExit {
        success: field(value, "success").as_bool().unwrap_or(false),
        status: field(value, "status")
            .as_string()
            .unwrap_or_else(|| "unknown status".into()),
        stderr: field(value, "stderr").as_string().unwrap_or_default(),
    }
}

/// The glue's primitives: `connect(conn)`, `startPsql(path, conn, readyLine)`,
/// `startDump(path, conn, snapshot, level, threads)`.
pub(crate) struct JsClient {
    object: SendWrapper<JsValue>,
}

impl JsClient {
    pub(crate) fn new(object: JsValue) -> JsClient {
        JsClient {
            object: SendWrapper::new(object),
        }
    }
}

#[async_trait]
impl PgClient for JsClient {
    async fn connect(&self, conn: &ConnectionInfo) -> Result<Box<dyn SqlSession>> {
        SendWrapper::new(async {
            let opening = call(&self.object, "connect", &[conn_js(conn)?])?;
            let session = wasm_bindgen_futures::JsFuture::from(js_sys::Promise::resolve(&opening))
                .await
                .map_err(|err| match field(&err, "connectOutput").as_string() {
                    // psql could not connect: core says what that means.
                    Some(said) => conn.psql_connect_failure(&said),
                    None => crate::js::error_from_js(err),
                })?;
            Ok(Box::new(JsSession::new(session)) as Box<dyn SqlSession>)
        })
        .await
    }

    async fn start_psql(
        &self,
        psql: &Path,
        conn: &ConnectionInfo,
        ready_line: &str,
    ) -> Result<Box<dyn PsqlLoad>> {
        SendWrapper::new(async {
            let args = [
                psql.to_string_lossy().as_ref().into(),
                conn_js(conn)?,
                ready_line.into(),
            ];
            let object = call_async(&self.object, "startPsql", &args).await?;
            Ok(Box::new(JsPsql {
                object: SendWrapper::new(object),
                ended: false,
            }) as Box<dyn PsqlLoad>)
        })
        .await
    }

    async fn dump_into(
        &self,
        spec: DumpSpec<'_>,
        upload: &mut dyn Upload,
        progress: &Arc<dyn Progress>,
        cancel: &CancellationToken,
    ) -> DumpOutcome {
        SendWrapper::new(self.dump_into_js(spec, upload, progress, cancel)).await
    }
}

impl JsClient {
    async fn dump_into_js(
        &self,
        spec: DumpSpec<'_>,
        upload: &mut dyn Upload,
        progress: &Arc<dyn Progress>,
        cancel: &CancellationToken,
    ) -> DumpOutcome {
        let started = match conn_js(spec.conn).and_then(|conn| {
            let args = [
                spec.pg_dump.to_string_lossy().as_ref().into(),
                conn,
                spec.snapshot.into(),
                spec.level.into(),
                (spec.threads as f64).into(),
            ];
            call(&self.object, "startDump", &args)
        }) {
            Ok(dump) => dump,
            Err(err) => {
                return DumpOutcome {
                    streamed: Err(err.clone()),
                    exited: Err(err),
                }
            }
        };
        let streamed = pump(&started, upload, progress, cancel).await;
        if streamed.is_err() {
            // pg_dump stops; its workers with it.
            let _ = call(&started, "kill", &[]);
        }
        let exited = call_async(&started, "exit", &[])
            .await
            .map(|value| process_exit(&value));
        DumpOutcome { streamed, exited }
    }
}

/// Moves the dump's compressed chunks (`next()` → `{data, raw}` or null at the end) into the
/// upload; then `result()`: `{digests, complete}`.
async fn pump(
    dump: &JsValue,
    upload: &mut dyn Upload,
    progress: &Arc<dyn Progress>,
    cancel: &CancellationToken,
) -> Result<(StreamDigests, bool)> {
    let mut stored = 0u64;
    loop {
        let step = tokio::select! {
            step = call_async(dump, "next", &[]) => step?,
            _ = cancel.cancelled() => return Err(Error::cancelled()),
        };
        if step.is_null() || step.is_undefined() {
            break;
        }
        let data = js_sys::Uint8Array::new(&field(&step, "data")).to_vec();
        stored += data.len() as u64;
        let raw = field(&step, "raw").as_f64().unwrap_or(0.0) as u64;
        if !data.is_empty() {
            upload.write(Bytes::from(data)).await?;
        }
        progress.bytes(ByteCounts {
            raw,
            stored,
            total: None,
        });
    }
    let result = call(dump, "result", &[])?;
    let digests: StreamDigests = serde_wasm_bindgen::from_value(field(&result, "digests"))
        .map_err(|e| Error::internal(format!("the dump's digests: {e}")))?;
    let complete = field(&result, "complete").as_bool().unwrap_or(false);
    Ok((digests, complete))
}

/// A psql coprocess session (`query(sql, doing)` → rows of text, `close()`).
pub(crate) struct JsSession {
    object: SendWrapper<JsValue>,
}

impl JsSession {
    pub(crate) fn new(object: JsValue) -> JsSession {
        JsSession {
            object: SendWrapper::new(object),
        }
    }
}

#[async_trait]
impl SqlSession for JsSession {
    async fn query(&self, sql: &str, doing: &str) -> Result<Rows> {
        SendWrapper::new(async {
            let rows = call_async(&self.object, "query", &[sql.into(), doing.into()]).await?;
            // psql prints NULL as an empty field; core's queries never need to tell them apart.
            let rows: Vec<Vec<String>> = serde_wasm_bindgen::from_value(rows)
                .map_err(|e| Error::internal(format!("psql's rows: {e}")))?;
            Ok(rows
                .into_iter()
                .map(|row| row.into_iter().map(Some).collect())
                .collect())
        })
        .await
    }

    async fn close(&self) {
        let _ = SendWrapper::new(call_async(&self.object, "close", &[])).await;
    }
}

impl Drop for JsSession {
    fn drop(&mut self) {
        // Idempotent in the glue: a session dropped unclosed (a cancel) still ends.
        let _ = call(&self.object, "close", &[]);
    }
}

/// psql loading a restore: `write(bytes)`, `caughtUp()`, `end(finish)`, `kill()`.
struct JsPsql {
    object: SendWrapper<JsValue>,
    ended: bool,
}

#[async_trait]
impl DumpSink for JsPsql {
    async fn write(&mut self, data: Bytes) -> std::io::Result<()> {
        SendWrapper::new(async {
            let chunk: JsValue = js_sys::Uint8Array::from(data.as_ref()).into();
            call_async(&self.object, "write", &[chunk]).await
        })
        .await
        .map(drop)
        .map_err(|e| std::io::Error::other(e.message().to_string()))
    }
}

#[async_trait]
impl PsqlLoad for JsPsql {
    async fn caught_up(&mut self) -> bool {
        SendWrapper::new(call_async(&self.object, "caughtUp", &[]))
            .await
            .map(|ready| ready.as_bool() == Some(true))
            .unwrap_or(false)
    }

    async fn end(mut self: Box<Self>, finish: bool) -> Result<ProcessExit> {
        self.ended = true;
        let exit = SendWrapper::new(call_async(&self.object, "end", &[finish.into()])).await?;
        Ok(process_exit(&exit))
    }
}

impl Drop for JsPsql {
    fn drop(&mut self) {
        if !self.ended {
            // Dropped mid-load (a cancel): the transaction must roll back.
            let _ = call(&self.object, "kill", &[]);
        }
    }
}

/// Takes a backup (core's `database_backup`): `request` is `engine.backup`'s options (core's
/// `BackupCallOptions`); resolves to the manifest.
#[wasm_bindgen(js_name = backupDatabase)]
pub async fn backup_database(
    store: JsValue,
    client: JsValue,
    request: JsValue,
    default_level: u32,
    trust: JsValue,
    reporter: JsValue,
    signal: JsValue,
) -> std::result::Result<JsValue, JsValue> {
    let trust = trust_from(trust)?;
    let call =
        BackupCallOptions::from_json(&options_json(&request, "backup options")?).map_err(coded)?;
    let backup = call
        .backup
        .options(default_level, trust.key.clone())
        .map_err(coded)?;
    let source = call.database.resolve().map_err(coded)?;
    let store = open(store)?;
    let abort = AbortLink::new(signal);
    let progress: Arc<dyn Progress> = Arc::new(JsProgress::new(reporter));
    let manifest = backstage_backup_core::database_backup::backup_database(
        &*store,
        &JsClient::new(client),
        &source,
        &backup,
        progress,
        &abort.token,
    )
    .await
    .map_err(coded)?;
    to_js(&manifest)
}

/// Restores the backup `selector` names (core's `restore_selected`: hold, restore, release).
/// `request`: `engine.restore`'s options (core's `RestoreCallOptions`).
#[wasm_bindgen]
pub async fn restore(
    store: JsValue,
    client: JsValue,
    selector: String,
    request: JsValue,
    trust: JsValue,
    reporter: JsValue,
    signal: JsValue,
) -> std::result::Result<JsValue, JsValue> {
    let trust = trust_from(trust)?;
    let call = RestoreCallOptions::from_json(&options_json(&request, "restore options")?)
        .map_err(coded)?;
    let target = call.database.resolve().map_err(coded)?;
    let restore_options = RestoreOptions {
        clean: call.clean.unwrap_or(false),
        safety_backup: call.safety_backup.unwrap_or(true),
        trust,
    };
    let store = open(store)?;
    let abort = AbortLink::new(signal);
    let report = restore_selected(
        &*store,
        &JsClient::new(client),
        &selector,
        Some(&target.plugin_id),
        &target.connection,
        &restore_options,
        Arc::new(JsProgress::new(reporter)),
        &abort.token,
    )
    .await
    .map_err(coded)?;
    to_js(&report)
}

/// Drills the backup `selector` names on the server `request` names (core's `drill_selected`).
#[wasm_bindgen]
pub async fn drill(
    store: JsValue,
    client: JsValue,
    selector: String,
    request: JsValue,
    trust: JsValue,
    reporter: JsValue,
    signal: JsValue,
) -> std::result::Result<JsValue, JsValue> {
    let trust = trust_from(trust)?;
    let server = DrillCallOptions::from_json(&options_json(&request, "drill options")?)
        .and_then(|call| call.database.resolve())
        .map_err(coded)?;
    let store = open(store)?;
    let abort = AbortLink::new(signal);
    let report = drill_selected(
        &*store,
        &JsClient::new(client),
        &selector,
        &server.connection,
        &trust,
        Arc::new(JsProgress::new(reporter)),
        &abort.token,
    )
    .await
    .map_err(coded)?;
    to_js(&report)
}
