//! Which database the user means: --database-url, --app-config, DATABASE_URL, then PG*.

use backstage_backup_core::source::{app_config, ConnectionInfo, DatabaseSource};
use backstage_backup_core::{Error, Result};

use crate::args::DatabaseArgs;

pub fn resolve(args: &DatabaseArgs) -> Result<DatabaseSource> {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    if let Some(url) = &args.database_url {
        return Ok(DatabaseSource::from_connection(ConnectionInfo::from_url(
            url,
        )?));
    }
    if !args.app_config.is_empty() {
        let config = app_config::load(&args.app_config, &env)?;
        let db = app_config::plugin_database(&config, &args.plugin)?;
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
        "no database given: pass --database-url URL or --app-config app-config.yaml, \
         or set DATABASE_URL or the PG* variables (PGHOST, PGUSER, PGDATABASE, …)",
    ))
}
