//! A backup of a database, written once for both engines over `PgClient`: a session takes the
//! database's advisory lock and exports a snapshot, pg_dump streams from that snapshot through
//! gzip into a `BackupWriter`, and core decides what a failure was and cleans up.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::backup_writer::{BackupOptions, BackupWriter};
use crate::error::{Error, Result};
use crate::manifest::{DatabaseInfo, Manifest};
use crate::naming::validate_plugin_id;
use crate::progress::{Phase, Progress};
use crate::source::client::{DumpSpec, PgClient, ProcessExit};
use crate::source::sql::{finish_snapshot, open_snapshot};
use crate::source::{pg_tools, DatabaseSource};
use crate::store::Store;

/// Takes a backup of `db` into `store`; returns its manifest.
pub async fn backup_database(
    store: &dyn Store,
    client: &dyn PgClient,
    db: &DatabaseSource,
    options: &BackupOptions,
    progress: Arc<dyn Progress>,
    cancel: &CancellationToken,
) -> Result<Manifest> {
    // Before a dump is made for nothing.
    options.check()?;
    let plugin_id = options
        .plugin_id
        .clone()
        .unwrap_or_else(|| db.plugin_id.clone());
    validate_plugin_id(&plugin_id)?;
    if cancel.is_cancelled() {
        return Err(Error::cancelled());
    }
    progress.phase(Phase::Connecting);
    let session = client.connect(&db.connection).await?;
    // The session holds the database's advisory lock and the exported snapshot until the dump
    // is done; ending it releases both.
    let result = async {
        let info = open_snapshot(session.as_ref(), &db.connection).await?;
        let tools = pg_tools::find(info.server_major).await?;
        if cancel.is_cancelled() {
            return Err(Error::cancelled());
        }
        let database = DatabaseInfo {
            name: db.connection.database.clone(),
            plugin_id: plugin_id.clone(),
            host: Some(db.connection.host_port()),
            schema: db.connection.schema.clone(),
            server_version: Some(info.server_version.clone()),
            pg_dump_version: Some(tools.version.clone()),
            latest_migration: info.latest_migration.clone(),
            extra: Default::default(),
        };
        let mut writer = BackupWriter::begin(store, &plugin_id).await?;
        progress.phase(Phase::Dumping);
        let spec = DumpSpec {
            pg_dump: &tools.pg_dump,
            conn: &db.connection,
            snapshot: &info.snapshot_id,
            level: options.level,
            threads: options.threads,
        };
        let outcome = client
            .dump_into(spec, writer.upload(), &progress, cancel)
            .await;
        let digests = match dump_verdict(outcome.streamed, outcome.exited, cancel) {
            Ok(digests) => digests,
            Err(err) => {
                writer.abandon(store).await;
                return Err(err);
            }
        };
        progress.phase(Phase::Finalizing);
        // finish removes what it wrote itself when it fails.
        let manifest = writer
            .finish(store, database, info.entities.clone(), options, digests)
            .await?;
        progress.phase(Phase::Done);
        Ok(manifest)
    }
    .await;
    finish_snapshot(session.as_ref()).await;
    session.close().await;
    result
}

/// Which failure counts: a failed upload or a cancel came first (and stopped pg_dump), then
/// pg_dump's own exit, then a dump that is not whole.
pub fn dump_verdict<T>(
    streamed: Result<(T, bool)>,
    exited: Result<ProcessExit>,
    cancel: &CancellationToken,
) -> Result<T> {
    let (digests, complete) = streamed?;
    if cancel.is_cancelled() {
        return Err(Error::cancelled());
    }
    let exit = exited?;
    if !exit.success {
        let said = if exit.stderr.trim().is_empty() {
            "it printed nothing"
        } else {
            exit.stderr.trim()
        };
        return Err(Error::database(format!(
            "pg_dump failed ({}): {said}",
            exit.status
        )));
    }
    if !complete {
        return Err(Error::database(
            "the dump ended without pg_dump's \"PostgreSQL database dump complete\" line: \
             it is not a complete plain-format dump",
        ));
    }
    Ok(digests)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    fn exit(success: bool, stderr: &str) -> Result<ProcessExit> {
        Ok(ProcessExit {
            success,
            status: if success {
                "exit status: 0"
            } else {
                "exit status: 1"
            }
            .into(),
            stderr: stderr.into(),
        })
    }

    #[test]
    fn the_first_failure_is_the_cause() {
        let cancel = CancellationToken::new();
        let upload_failed: Result<((), bool)> = Err(Error::store("disk full"));
        let err = dump_verdict(upload_failed, exit(false, "killed"), &cancel).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Store, "{err}");
        let err =
            dump_verdict(Ok(((), true)), exit(false, "pg_dump: error: x"), &cancel).unwrap_err();
        assert!(err
            .message()
            .contains("pg_dump failed (exit status: 1): pg_dump: error: x"));
        let err = dump_verdict(Ok(((), false)), exit(true, ""), &cancel).unwrap_err();
        assert!(err.message().contains("dump complete"), "{err}");
        assert!(dump_verdict(Ok(((), true)), exit(true, ""), &cancel).is_ok());
        cancel.cancel();
        let err = dump_verdict(Ok(((), true)), exit(true, ""), &cancel).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Cancelled);
    }
}
