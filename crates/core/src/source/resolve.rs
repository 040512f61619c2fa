//! Which database the caller means, in the order every front end uses: an explicit URL, then
//! Backstage app-config files, then `DATABASE_URL`, then the `PG*` variables.

use std::path::PathBuf;

use serde::Deserialize;

use super::{app_config, ConnectionInfo, DatabaseSource};
use crate::error::{Cause, Error, ErrorKind, Result};

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
    // Typed, so a front end can name its own flags for the missing database.
    Err(Error::with_cause(
        ErrorKind::InvalidInput,
        Cause::NoDatabaseGiven,
        "no database given: pass a database URL or app-config files, \
         or set DATABASE_URL or the PG* variables (PGHOST, PGUSER, PGDATABASE, …)",
    ))
}

/// The database of `plugin_id` in a configuration Backstage has already read (JSON text holding
/// at least `backend.database`, with its `${VAR}`s substituted): the Backstage plugin's path,
/// so the plugin derives the database exactly as the CLI does from app-config files.
pub fn database_from_config_json(config_json: &str, plugin_id: &str) -> Result<DatabaseSource> {
    // JSON is YAML, and the app-config resolver works on YAML values.
    let config: serde_yaml::Value = serde_yaml::from_str(config_json)
        .map_err(|_| Error::invalid("the Backstage configuration passed in is not JSON"))?;
    let db = app_config::plugin_database(&config, plugin_id)?;
    let mut source = DatabaseSource::from_connection(db.connection);
    source.plugin_id = db.plugin_id;
    Ok(source)
}

/// The process environment, for `resolve_database` (this process's `Host`'s).
pub fn process_env(name: &str) -> Option<String> {
    crate::host::host().env_var(name)
}

/// Which database an engine's operation means (JSON, camelCase): Backstage's configuration
/// already read (`appConfigJson`), else `databaseUrl`, app-config files, `DATABASE_URL`, the
/// `PG*` variables. Other fields of the request are the operation's own.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(
    test,
    derive(ts_rs::TS),
    ts(rename = "DatabaseOptions", optional_fields)
)]
pub struct DatabaseRequest {
    /// postgresql://user:password@host:5432/backstage_plugin_catalog; else appConfig,
    /// DATABASE_URL, PG*.
    #[serde(default)]
    pub database_url: Option<String>,
    /// Backstage app-config files to find the database in (later files win, `${VAR}`, `$env`,
    /// `$file`).
    #[serde(default)]
    #[cfg_attr(test, ts(as = "Option<Vec<String>>"))]
    pub app_config: Vec<PathBuf>,
    /// Backstage's configuration as JSON text, already read (`{"backend": {"database": …}}`):
    /// the database is derived from it as Backstage does.
    #[serde(default)]
    pub app_config_json: Option<String>,
    /// With appConfig or appConfigJson: which plugin's database (default `catalog`).
    #[serde(default)]
    pub plugin: Option<String>,
}

impl DatabaseRequest {
    pub fn from_json(value: &serde_json::Value) -> Result<DatabaseRequest> {
        DatabaseRequest::deserialize(value).map_err(|e| {
            Error::invalid(format!(
                "database options: {}; known: databaseUrl, appConfig (a list of files), \
                 appConfigJson, plugin",
                crate::naming::printable(&e.to_string())
            ))
        })
    }

    pub fn resolve(&self) -> Result<DatabaseSource> {
        let plugin = self.plugin.as_deref().unwrap_or("catalog");
        if let Some(config) = &self.app_config_json {
            return database_from_config_json(config, plugin);
        }
        resolve_database(
            self.database_url.as_deref(),
            &self.app_config,
            plugin,
            &process_env,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_json_resolves_like_app_config_files() {
        let json = r#"{"backend":{"database":{"client":"pg","prefix":"bs_",
            "connection":{"host":"db.internal","port":5433,"user":"backstage","password":"s3cret"}}}}"#;
        let source = database_from_config_json(json, "catalog").unwrap();
        assert_eq!(source.connection.database, "bs_catalog");
        assert_eq!(source.connection.host, "db.internal");
        assert_eq!(source.connection.port, 5433);
        assert_eq!(source.plugin_id, "catalog");
    }

    #[test]
    fn config_json_that_is_not_json_is_refused_without_echoing_it() {
        let err = database_from_config_json("{\"password\": \"s3cret\"", "catalog").unwrap_err();
        assert!(err.message().contains("not JSON"), "{}", err.message());
        assert!(!err.message().contains("s3cret"));
    }

    #[test]
    fn no_database_anywhere_is_typed_not_worded() {
        let err = resolve_database(None, &[], "catalog", &|_| None).unwrap_err();
        assert_eq!(err.cause(), Some(crate::error::Cause::NoDatabaseGiven));
        assert_eq!(err.kind(), crate::error::ErrorKind::InvalidInput);
        // Empty variables count as unset, so they name no database either.
        let err = resolve_database(None, &[], "catalog", &|_| Some(String::new())).unwrap_err();
        assert_eq!(err.cause(), Some(crate::error::Cause::NoDatabaseGiven));
        // A database that is named but wrong is another failure.
        let err = resolve_database(Some("mysql://x"), &[], "catalog", &|_| None).unwrap_err();
        assert_eq!(err.cause(), None, "{err}");
    }
}
