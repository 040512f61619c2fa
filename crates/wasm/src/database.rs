//! Which database, and how pg_dump and psql reach it: core's database URL, `PG*` and app-config
//! grammars (`source::DatabaseRequest`), for the glue that spawns the tools. The password
//! crosses to JS only to be put in the child's environment (PGPASSWORD).

use std::collections::BTreeMap;

use backstage_backup_core::source::ConnectionInfo;
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;

use crate::{from_js, to_js};

/// A connection as the glue carries it.
#[derive(Serialize, Deserialize)]
pub(crate) struct ConnJs {
    host: String,
    port: u16,
    user: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    password: Option<String>,
    database: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    schema: Option<String>,
    #[serde(default)]
    params: BTreeMap<String, String>,
}

impl ConnJs {
    pub(crate) fn from_core(conn: &ConnectionInfo) -> ConnJs {
        ConnJs {
            host: conn.host.clone(),
            port: conn.port,
            user: conn.user.clone(),
            password: conn.password().map(str::to_string),
            database: conn.database.clone(),
            schema: conn.schema.clone(),
            params: conn.params.clone(),
        }
    }

    fn into_core(self) -> ConnectionInfo {
        let mut conn = ConnectionInfo::new(
            &self.host,
            self.port,
            &self.user,
            self.password,
            &self.database,
        );
        conn.schema = self.schema;
        conn.params = self.params;
        conn
    }
}

fn connection(value: JsValue) -> Result<ConnectionInfo, JsValue> {
    from_js::<ConnJs>(value, "connection").map(ConnJs::into_core)
}

/// A libpq child's environment changes: `{set: [[name, value]], clear: [name]}`; the
/// connection goes in variables, never in argv.
#[wasm_bindgen(js_name = libpqEnv)]
pub fn libpq_env(conn: JsValue) -> Result<JsValue, JsValue> {
    let conn = connection(conn)?;
    let mut clear: Vec<&str> = ConnectionInfo::libpq_env_to_clear().to_vec();
    // An inherited password must never reach a database it was not meant for.
    clear.push("PGPASSWORD");
    to_js(&serde_json::json!({"set": conn.libpq_env(), "clear": clear}))
}
