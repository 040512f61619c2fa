//! Which database the caller means, in the order every front end uses: an explicit URL, then
//! Backstage app-config files, then `DATABASE_URL`, then the `PG*` variables.

use std::path::PathBuf;

use super::{app_config, ConnectionInfo, DatabaseSource};
use crate::error::{Error, Result};

pub fn resolve_database(
    database_url: Option<&str>,
    app_config_files: &[PathBuf],
    plugin_id: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<DatabaseSource> {
    let env = |name: &str| env(name).filter(|v| !v.is_empty());
    if let Some(url) = database_url {
        return Ok(DatabaseSource::from_connection(ConnectionInfo::from_url(
            url,
        )?));
    }
    if !app_config_files.is_empty() {
        let config = app_config::load(app_config_files, &env)?;
        let db = app_config::plugin_database(&config, plugin_id)?;
        let mut source = DatabaseSource::from_connection(db.connection);
        source.plugin_id = db.plugin_id;
        return Ok(source);
    }
    if let Some(url) = env("DATABASE_URL") {
        return ConnectionInfo::from_url(&url)
            .map(DatabaseSource::from_connection)
            .map_err(|e| e.context("DATABASE_URL"));
    }
    if let Some(conn) = ConnectionInfo::from_pg_env(env)? {
        return Ok(DatabaseSource::from_connection(conn));
    }
    Err(Error::invalid(
        "no database given: pass a database URL or app-config files, \
         or set DATABASE_URL or the PG* variables (PGHOST, PGUSER, PGDATABASE, …)",
    ))
}

/// The process environment, for `resolve_database`.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}
