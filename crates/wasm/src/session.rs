//! core's `SqlSession` over the glue's psql coprocess (`postgres.js`'s Session: `query(sql,
//! doing)` → rows of text), so the backup lock, the snapshot and the catalog's shape are read
//! by core's queries (`source::sql`), as natively.

use std::collections::BTreeMap;

use async_trait::async_trait;
use backstage_backup_core::source::sql::{
    self, entity_counts, lock_database, open_snapshot, Rows, SqlSession,
};
use backstage_backup_core::source::ConnectionInfo;
use backstage_backup_core::Result;
use send_wrapper::SendWrapper;
use wasm_bindgen::prelude::*;

use crate::js::call_async;
use crate::{coded, from_js, to_js};

struct JsSession {
    object: SendWrapper<JsValue>,
}

#[async_trait]
impl SqlSession for JsSession {
    async fn query(&self, sql: &str, doing: &str) -> Result<Rows> {
        SendWrapper::new(async {
            let rows = call_async(&self.object, "query", &[sql.into(), doing.into()]).await?;
            // psql prints NULL as an empty field; core's queries never need to tell them apart.
            let rows: Vec<Vec<String>> = serde_wasm_bindgen::from_value(rows)
                .map_err(|e| backstage_backup_core::Error::internal(format!("psql's rows: {e}")))?;
            Ok(rows
                .into_iter()
                .map(|row| row.into_iter().map(Some).collect())
                .collect())
        })
        .await
    }
}

fn session(object: JsValue) -> JsSession {
    JsSession {
        object: SendWrapper::new(object),
    }
}

#[derive(serde::Deserialize)]
struct Target {
    database: String,
    #[serde(default)]
    schema: Option<String>,
}

/// Locks the database, exports a snapshot and reads the catalog's shape in it:
/// `{snapshot_id, server_version, server_major, entities, latest_migration}`.
#[wasm_bindgen(js_name = openSnapshot)]
pub async fn open_source_snapshot(
    session_js: JsValue,
    target: JsValue,
) -> Result<JsValue, JsValue> {
    let target: Target = from_js(target, "connection")?;
    let mut conn = ConnectionInfo::new("", 0, "", None, &target.database);
    conn.schema = target.schema;
    let info = open_snapshot(&session(session_js), &conn)
        .await
        .map_err(coded)?;
    to_js(&serde_json::json!({
        "snapshot_id": info.snapshot_id,
        "server_version": info.server_version,
        "server_major": info.server_major,
        "entities": info.entities,
        "latest_migration": info.latest_migration,
    }))
}

/// Takes the database's backup lock (E_LOCKED when held) and reads the server's version:
/// `{version, major}`. For restores and drills.
#[wasm_bindgen(js_name = lockForRestore)]
pub async fn lock_for_restore(session_js: JsValue, database: String) -> Result<JsValue, JsValue> {
    let session = session(session_js);
    lock_database(&session, &database).await.map_err(coded)?;
    let (version, major) = sql::server_version(&session).await.map_err(coded)?;
    to_js(&serde_json::json!({"version": version, "major": major}))
}

/// The catalog's entities by kind in the session's database, or null without a catalog schema.
#[wasm_bindgen(js_name = entityCounts)]
pub async fn catalog_entities(
    session_js: JsValue,
    schema: Option<String>,
) -> Result<JsValue, JsValue> {
    let counts: Option<BTreeMap<String, u64>> =
        entity_counts(&session(session_js), schema.as_deref())
            .await
            .map_err(coded)?;
    to_js(&counts)
}

/// pg_dump at least the server's major version and the psql beside it (core's
/// `pg_tools::find`): `{pg_dump, psql, version, major}`.
#[wasm_bindgen(js_name = findTools)]
pub async fn find_tools(server_major: u32) -> Result<JsValue, JsValue> {
    let tools = backstage_backup_core::source::pg_tools::find(server_major)
        .await
        .map_err(coded)?;
    to_js(&serde_json::json!({
        "pg_dump": tools.pg_dump,
        "psql": tools.psql,
        "version": tools.version,
        "major": tools.major,
    }))
}

/// Any psql, for a session before the server's version is known.
#[wasm_bindgen(js_name = findPsql)]
pub fn find_psql() -> Result<String, JsValue> {
    let psql = backstage_backup_core::source::pg_tools::find_psql().map_err(coded)?;
    Ok(psql.to_string_lossy().into_owned())
}
