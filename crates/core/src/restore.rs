//! Restore: streams a backup from the store into psql inside ONE transaction, verifying while it
//! streams, and commits only when every check passed. Anything else — a hash mismatch, a
//! truncated object, a SQL error, a cancel, a killed process — leaves the target as it was.
//! Written once over `PgClient` for both engines.

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::backup_writer::BackupOptions;
use crate::error::{Cause, Error, ErrorKind, Result};
use crate::host::host;
use crate::listing::BackupEntry;
use crate::manifest::{Trigger, TriggerKind};
use crate::progress::{Phase, Progress};
use crate::restore_sql;
use crate::source::client::{PgClient, PsqlLoad};
use crate::source::sql::{self, entity_counts, lock_database, quote_literal, SqlSession};
use crate::source::{pg_tools, ConnectionInfo, DatabaseSource};
use crate::store::Store;
use crate::verify::{problems, read_verified_to, Expectations, VerifyFailure};

#[derive(Debug, Clone)]
pub struct RestoreOptions {
    /// Replace a target that already holds tables (dropped inside the same transaction).
    pub clean: bool,
    /// With `clean`, back the target up first (trigger `safety`) into the same store.
    pub safety_backup: bool,
    /// Which backups may be restored (signatures); a private key also signs the safety backup.
    pub trust: crate::signing::Trust,
}

impl Default for RestoreOptions {
    fn default() -> Self {
        RestoreOptions {
            clean: false,
            safety_backup: true,
            trust: Default::default(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS), ts(rename_all = "camelCase"))]
pub struct RestoreReport {
    pub id: String,
    pub database: String,
    pub host: String,
    /// The target database did not exist and was created.
    pub created_database: bool,
    /// Id of the safety backup taken before a `clean` restore.
    pub safety_backup: Option<String>,
    /// Wall time from start to commit: the recovery time actually achieved.
    pub duration_ms: u64,
    pub restored_at: DateTime<Utc>,
    pub bytes: u64,
    /// Catalog entities found in the target after the restore.
    pub entities: Option<BTreeMap<String, u64>>,
    /// What the manifest says the backup holds.
    pub expected_entities: Option<BTreeMap<String, u64>>,
}

/// `AND n.nspname = 'schema'` when a schema is given (Backstage's schema division mode keeps
/// every plugin in one database), else nothing.
fn in_schema(column: &str, schema: Option<&str>) -> String {
    match schema {
        Some(schema) => format!(" AND {column} = {}", quote_literal(schema)),
        None => String::new(),
    }
}

/// Tables, views and sequences outside the system schemas (only in `schema` when given).
async fn user_relations(session: &dyn SqlSession, schema: Option<&str>) -> Result<u64> {
    let sql = format!(
        "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') \
         AND n.nspname NOT IN ('pg_catalog', 'information_schema') \
         AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'{}",
        in_schema("n.nspname", schema)
    );
    let doing = "inspecting the target database";
    sql::value(session, &sql, doing)
        .await?
        .and_then(|count| count.trim().parse().ok())
        .ok_or_else(|| Error::database(format!("{doing}: the count is not a number")))
}

/// The schemas a clean restore drops: only the plugin's own in schema mode, else all of them.
async fn user_schemas(session: &dyn SqlSession, schema: Option<&str>) -> Result<Vec<String>> {
    let sql = format!(
        "SELECT quote_ident(nspname) FROM pg_namespace WHERE nspname NOT IN \
         ('pg_catalog', 'information_schema') AND nspname NOT LIKE 'pg_toast%' \
         AND nspname NOT LIKE 'pg_temp%'{} ORDER BY 1",
        in_schema("nspname", schema)
    );
    let rows = session
        .query(&sql, "listing schemas of the target database")
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| row.into_iter().next().flatten())
        .collect())
}

fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Runs one statement on a session of its own to `conn`.
async fn run_alone(
    client: &dyn PgClient,
    conn: &ConnectionInfo,
    sql: &str,
    doing: &str,
) -> Result<()> {
    let session = client.connect(conn).await?;
    let result = session.query(sql, doing).await.map(drop);
    session.close().await;
    result
}

/// Creates `target.database` on its server when it does not exist; true when it did not.
pub async fn ensure_database(client: &dyn PgClient, target: &ConnectionInfo) -> Result<bool> {
    match client.connect(target).await {
        Ok(session) => {
            session.close().await;
            return Ok(false);
        }
        Err(err) if err.kind() == ErrorKind::NotFound => {}
        Err(err) => return Err(err),
    }
    run_alone(
        client,
        &target.with_database("postgres"),
        &format!("CREATE DATABASE {}", quote_ident(&target.database)),
        &format!("creating database {}", target.database),
    )
    .await?;
    Ok(true)
}

/// Drops database `name`, connected as `admin` (a scratch database, or one a failed restore
/// made).
pub async fn drop_database(
    client: &dyn PgClient,
    admin: &ConnectionInfo,
    name: &str,
) -> Result<()> {
    run_alone(
        client,
        admin,
        &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", quote_ident(name)),
        &format!("dropping database {name}"),
    )
    .await
}

fn elapsed_ms(since: DateTime<Utc>) -> u64 {
    (host().now() - since).num_milliseconds().max(0) as u64
}

/// Restores `entry` into `target`.
pub async fn restore_with(
    store: &dyn Store,
    client: &dyn PgClient,
    entry: &BackupEntry,
    target: &ConnectionInfo,
    options: &RestoreOptions,
    progress: Arc<dyn Progress>,
    cancel: &CancellationToken,
) -> Result<RestoreReport> {
    if let Some(refusal) = entry.refusal() {
        return Err(refusal);
    }
    options.trust.admit(entry)?;
    let started = host().now();
    if cancel.is_cancelled() {
        return Err(Error::cancelled());
    }
    progress.phase(Phase::Connecting);
    // The manifest and the sidecar must agree before anything loads.
    let expected = crate::verify::expectations_of(store, entry).await?;
    let created_database = ensure_database(client, target).await?;
    let mut safety_backup = None;
    let outcome = restore_in(
        store,
        client,
        entry,
        target,
        options,
        &expected,
        created_database,
        &mut safety_backup,
        progress,
        cancel,
    )
    .await;
    let err = match outcome {
        Ok(mut report) => {
            report.duration_ms = elapsed_ms(started);
            return Ok(report);
        }
        Err(err) => err,
    };
    let mut message = err.message().to_string();
    // A database this restore created holds nothing of anyone's: it goes, so "unchanged" holds.
    if created_database {
        match drop_database(client, &target.with_database("postgres"), &target.database).await {
            Err(drop_err) => message.push_str(&format!(
                "; the database {} this restore created could not be dropped ({}): drop it by hand",
                target.database,
                drop_err.message()
            )),
            Ok(()) => message.push_str(&format!(
                "; the database {} this restore created was dropped again",
                target.database
            )),
        }
    }
    if let Some(id) = &safety_backup {
        message.push_str(&format!(
            "; the safety backup {id} holds the data as it was before this restore"
        ));
    }
    Err(Error::new(err.kind(), message))
}

#[allow(clippy::too_many_arguments)]
async fn restore_in(
    store: &dyn Store,
    client: &dyn PgClient,
    entry: &BackupEntry,
    target: &ConnectionInfo,
    options: &RestoreOptions,
    expected: &Expectations,
    created_database: bool,
    safety_backup: &mut Option<String>,
    progress: Arc<dyn Progress>,
    cancel: &CancellationToken,
) -> Result<RestoreReport> {
    let session = client.connect(target).await?;
    let result = restore_on(
        store,
        client,
        session.as_ref(),
        entry,
        target,
        options,
        expected,
        created_database,
        safety_backup,
        progress,
        cancel,
    )
    .await;
    // Ends the session, and the lock with it.
    session.close().await;
    result
}

#[allow(clippy::too_many_arguments)]
async fn restore_on(
    store: &dyn Store,
    client: &dyn PgClient,
    session: &dyn SqlSession,
    entry: &BackupEntry,
    target: &ConnectionInfo,
    options: &RestoreOptions,
    expected: &Expectations,
    created_database: bool,
    safety_backup: &mut Option<String>,
    progress: Arc<dyn Progress>,
    cancel: &CancellationToken,
) -> Result<RestoreReport> {
    let occupied = user_relations(session, target.schema.as_deref()).await?;
    if occupied > 0 && !options.clean {
        return Err(Error::new(
            ErrorKind::AlreadyExists,
            format!(
                "the target database '{}' on {} already holds {occupied} tables, views or sequences; \
                 pass --clean to replace them (a safety backup is taken first), or restore into an empty database",
                target.database,
                target.host_port()
            ),
        ));
    }
    if occupied > 0 && options.safety_backup {
        // Before our lock: the safety backup takes the same per-database lock itself.
        let source = DatabaseSource::from_connection(target.clone());
        let safety = BackupOptions {
            trigger: Trigger {
                kind: TriggerKind::Safety,
                by: Some(format!("restore of {}", entry.id())),
            },
            // Named after the backup it is replaced by, not the database: a target whose name
            // does not follow the default prefix still gets `backstage-catalog-…`, found by
            // `latest` and pruned with its plugin's backups.
            plugin_id: Some(entry.name.plugin_id.clone()),
            signing_key: options.trust.key.clone().filter(|k| k.can_sign()),
            ..BackupOptions::default()
        };
        let manifest = crate::database_backup::backup_database(
            store,
            client,
            &source,
            &safety,
            progress.clone(),
            cancel,
        )
        .await
        .map_err(|e| e.context("taking the safety backup before the restore"))?;
        *safety_backup = Some(manifest.id.clone());
    }
    lock_database(session, &target.database).await?;
    let (server_version, server_major) = sql::server_version(session).await?;
    let tools = pg_tools::find(server_major)
        .await
        .map_err(|e| e.context(format!("server {server_version}")))?;
    let lz4_toast = sql::value(
        session,
        restore_sql::LZ4_TOAST_PROBE,
        "asking whether the server has LZ4 TOAST compression",
    )
    .await?
    .as_deref()
        == Some("t");
    let schemas = if occupied > 0 {
        user_schemas(session, target.schema.as_deref()).await?
    } else {
        Vec::new()
    };

    progress.phase(Phase::Restoring);
    // Over a live Backstage, DROP SCHEMA … CASCADE locks table after table while the catalog
    // locks others: PostgreSQL may break the deadlock by aborting the restore. The transaction
    // rolled back, so the target is unchanged and the load is simply run again.
    let mut loads = 1;
    let bytes = loop {
        let load = Load {
            store,
            client,
            entry,
            target,
            tools: &tools,
            prelude: restore_sql::prelude(&schemas, target.schema.is_some(), lz4_toast),
            expected,
            progress: progress.as_ref(),
            cancel,
        };
        match load.run().await {
            Ok(bytes) => break bytes,
            Err(err) => match restore_sql::deadlock_retry_delay(loads, err.cause()) {
                Some(delay) => {
                    loads += 1;
                    host().sleep(delay).await;
                }
                None => return Err(err),
            },
        }
    };
    // Committed by now: a catalog whose entities cannot be counted (a changed schema) is
    // restored all the same, reported without counts; on a session of its own, as the
    // restore's may have seen the catalog before it was replaced.
    let entities = match client.connect(target).await {
        Ok(counting) => {
            let counts = entity_counts(counting.as_ref(), target.schema.as_deref())
                .await
                .ok()
                .flatten();
            counting.close().await;
            counts
        }
        Err(_) => None,
    };
    progress.phase(Phase::Done);
    Ok(RestoreReport {
        id: entry.id(),
        database: target.database.clone(),
        host: target.host_port(),
        created_database,
        safety_backup: safety_backup.clone(),
        duration_ms: 0,
        restored_at: host().now(),
        bytes,
        entities,
        expected_entities: entry.manifest.as_ref().and_then(|m| m.entities.clone()),
    })
}

/// One load: the dump streamed into psql in one transaction.
struct Load<'a> {
    store: &'a dyn Store,
    client: &'a dyn PgClient,
    entry: &'a BackupEntry,
    target: &'a ConnectionInfo,
    tools: &'a pg_tools::PgTools,
    prelude: String,
    expected: &'a Expectations,
    progress: &'a (dyn Progress + 'static),
    cancel: &'a CancellationToken,
}

impl Load<'_> {
    /// Returns the stored bytes read.
    async fn run(self) -> Result<u64> {
        // psql says this line once it has run every statement before it: until then a cancel
        // can still roll the restore back, after it only COMMIT is left.
        let ready_line = format!("backstage-backup-ready-{}", host().random_token());
        let mut psql = self
            .client
            .start_psql(&self.tools.psql, self.target, &ready_line)
            .await?;
        let outcome = self.stream(psql.as_mut(), &ready_line).await;
        // Only a load that sent COMMIT lets psql finish; anything else kills it, so the
        // statement left unfinished in its buffer (a planted one) never runs.
        let exit = psql.end(outcome.is_ok()).await?;
        let id = self.entry.id();
        match outcome {
            Ok(bytes) if exit.success => Ok(bytes),
            // A damaged backup or a cancel is the cause even when psql also choked on the cut.
            Err(err) if matches!(err.kind(), ErrorKind::Integrity | ErrorKind::Cancelled) => {
                Err(err)
            }
            _ if !exit.success => {
                let said: Vec<&str> = exit
                    .stderr
                    .lines()
                    .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with("LOCATION:"))
                    .take(5)
                    .collect();
                let message = format!(
                    "psql failed loading {id} ({}); the transaction was rolled back and the target left unchanged: {}",
                    exit.status,
                    if said.is_empty() { "it printed nothing".to_string() } else { said.join(" | ") }
                );
                // PostgreSQL's code for the error, not its words: a table named "deadlock
                // detected" is no deadlock.
                Err(match restore_sql::first_sqlstate(&exit.stderr) {
                    Some(restore_sql::DEADLOCK_DETECTED) => {
                        Error::with_cause(ErrorKind::Database, Cause::Deadlock, message)
                    }
                    _ => Error::database(message),
                })
            }
            Ok(_) => Err(Error::internal("psql succeeded without loading")),
            Err(err) => Err(err),
        }
    }

    /// Sends the prelude, the verified dump and, once every check passed and psql caught up,
    /// COMMIT.
    async fn stream(&self, psql: &mut dyn PsqlLoad, ready_line: &str) -> Result<u64> {
        let id = self.entry.id();
        let stopped = |e: std::io::Error| Error::database(format!("psql stopped reading: {e}"));
        psql.write(Bytes::from(self.prelude.clone()))
            .await
            .map_err(stopped)?;
        let check = match read_verified_to(
            self.store,
            &self.entry.data_key(),
            psql,
            self.progress,
            self.cancel,
        )
        .await?
        {
            Ok(check) => check,
            Err(VerifyFailure::Corrupt(err)) => {
                return Err(Error::integrity(format!(
                    "{id}: {err}; the target was left unchanged"
                )))
            }
            Err(VerifyFailure::Output(err)) => return Err(stopped(err)),
        };
        let found = problems(&check, self.expected);
        if !found.is_empty() {
            return Err(Error::integrity(format!(
                "{id} failed verification; the target was left unchanged: {}",
                found.join("; ")
            )));
        }
        // Every byte is checked; the transaction commits once psql has run the rest (index
        // builds can take minutes), unless a cancel comes first.
        psql.write(Bytes::from(format!("\n\\echo {ready_line}\n")))
            .await
            .map_err(stopped)?;
        tokio::select! {
            caught_up = psql.caught_up() => if !caught_up {
                return Err(Error::database("psql ended before the transaction could commit"));
            },
            _ = self.cancel.cancelled() => return Err(Error::new(
                ErrorKind::Cancelled,
                format!(
                    "interrupted before COMMIT: the restore of {id} was rolled back and the \
                     target left unchanged"
                ),
            )),
        }
        self.progress.phase(Phase::Committing);
        psql.write(Bytes::from_static(b"COMMIT;\n"))
            .await
            .map_err(stopped)?;
        Ok(check.compressed.bytes)
    }
}

/// Restores `entry` into `target` with this machine's PostgreSQL client.
#[cfg(feature = "postgres")]
pub async fn restore(
    store: &dyn Store,
    entry: &BackupEntry,
    target: &ConnectionInfo,
    options: &RestoreOptions,
    progress: Arc<dyn Progress>,
    cancel: &CancellationToken,
) -> Result<RestoreReport> {
    let client = crate::source::native_client::NativeClient;
    restore_with(store, &client, entry, target, options, progress, cancel).await
}

/// Restores the backup `selector` names, held against prune while it is read: hold, restore,
/// release, as every engine does it. `plugin_id` narrows `latest` to the target's plugin.
#[allow(clippy::too_many_arguments)]
pub async fn restore_selected(
    store: &dyn Store,
    client: &dyn PgClient,
    selector: &str,
    plugin_id: Option<&str>,
    target: &ConnectionInfo,
    options: &RestoreOptions,
    progress: Arc<dyn Progress>,
    cancel: &CancellationToken,
) -> Result<RestoreReport> {
    let (entry, hold) =
        crate::read_hold::hold_backup(store, selector, plugin_id, "restore", cancel).await?;
    let report = restore_with(store, client, &entry, target, options, progress, cancel).await;
    hold.release(store).await;
    report
}
