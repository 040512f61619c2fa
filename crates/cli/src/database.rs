//! Which database the user means: --database-url, --app-config, DATABASE_URL, then PG*.

use backstage_backup_core::source::{process_env, resolve_database, DatabaseSource};
use backstage_backup_core::{Error, Result};

use crate::args::DatabaseArgs;

pub fn resolve(args: &DatabaseArgs) -> Result<DatabaseSource> {
    resolve_database(
        args.database_url.as_deref(),
        &args.app_config,
        &args.plugin,
        &process_env,
    )
    .map_err(|e| {
        if e.message().starts_with("no database given") {
            Error::invalid(
                "no database given: pass --database-url URL or --app-config app-config.yaml, \
                 or set DATABASE_URL or the PG* variables (PGHOST, PGUSER, PGDATABASE, …)",
            )
        } else {
            e
        }
    })
}
