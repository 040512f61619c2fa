//! Which database the user means: --database-url, --app-config, DATABASE_URL, then PG*.

use backstage_backup_core::source::{process_env, resolve_database, DatabaseSource};
use backstage_backup_core::{Cause, Error, ErrorKind, Result};

use crate::args::DatabaseArgs;

pub fn resolve(args: &DatabaseArgs) -> Result<DatabaseSource> {
    resolve_with(args, &process_env)
}

fn resolve_with(
    args: &DatabaseArgs,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<DatabaseSource> {
    resolve_database(
        args.database_url.as_deref(),
        &args.app_config,
        &args.plugin,
        env,
    )
    .map_err(|e| {
        if e.cause() == Some(Cause::NoDatabaseGiven) {
            // The same error, in the CLI's own words (its flags).
            Error::with_cause(
                ErrorKind::InvalidInput,
                Cause::NoDatabaseGiven,
                "no database given: pass --database-url URL or --app-config app-config.yaml, \
                 or set DATABASE_URL or the PG* variables (PGHOST, PGUSER, PGDATABASE, …)",
            )
        } else {
            e
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(database_url: Option<&str>) -> DatabaseArgs {
        DatabaseArgs {
            database_url: database_url.map(str::to_string),
            app_config: Vec::new(),
            plugin: "catalog".into(),
        }
    }

    #[test]
    fn no_database_names_the_cli_flags() {
        let err = resolve_with(&args(None), &|_| None).unwrap_err();
        assert_eq!(err.cause(), Some(Cause::NoDatabaseGiven));
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(err.message().contains("--database-url"), "{err}");
    }

    #[test]
    fn other_failures_pass_through_unchanged() {
        let err = resolve_with(&args(Some("mysql://db/x")), &|_| None).unwrap_err();
        assert_eq!(err.cause(), None);
        assert!(!err.message().contains("no database given"), "{err}");
    }
}
