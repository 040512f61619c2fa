//! The one database primitive the glue asks core for: which psql its session coprocess runs
//! (core's `pg_tools`). Everything that session runs is core's, through `client.rs`.

use wasm_bindgen::prelude::*;

use crate::coded;

/// Any psql, for a session before the server's version is known.
#[wasm_bindgen(js_name = findPsql)]
pub fn find_psql() -> Result<String, JsValue> {
    let psql = backstage_backup_core::source::pg_tools::find_psql().map_err(coded)?;
    Ok(psql.to_string_lossy().into_owned())
}
