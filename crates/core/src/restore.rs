//! Restore: streams a backup from the store into psql inside ONE transaction, verifying while it
//! streams, and commits only when every check passed. Anything else — a hash mismatch, a
//! truncated object, a SQL error, a cancel, a killed process — leaves the target as it was.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::backup::{backup, BackupOptions};
use crate::error::{Error, ErrorKind, Result};
use crate::listing::BackupEntry;
use crate::manifest::{Trigger, TriggerKind};
use crate::progress::{Phase, Progress};
use crate::restore_sql;
use crate::source::session::{self, connect, entity_counts, lock_database, query_error};
use crate::source::{pg_tools, ConnectionInfo, DatabaseSource, DumpSource};
use crate::store::Store;
use crate::verify::{problems, read_verified, Expectations, VerifyFailure};

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

/// Tables, views and sequences outside the system schemas; only in `schema` when given
/// (Backstage's schema division mode keeps every plugin in one database).
async fn user_relations(client: &tokio_postgres::Client, schema: Option<&str>) -> Result<i64> {
    let row = client
        .query_one(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') \
             AND n.nspname NOT IN ('pg_catalog', 'information_schema') \
             AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%' \
             AND ($1::text IS NULL OR n.nspname = $1)",
            &[&schema],
        )
        .await
        .map_err(|e| query_error("inspecting the target database", e))?;
    Ok(row.get(0))
}

/// The schemas a clean restore drops: only the plugin's own in schema mode, else all of them.
async fn user_schemas(
    client: &tokio_postgres::Client,
    schema: Option<&str>,
) -> Result<Vec<String>> {
    let rows = client
        .query(
            "SELECT quote_ident(nspname) FROM pg_namespace WHERE nspname NOT IN \
             ('pg_catalog', 'information_schema') AND nspname NOT LIKE 'pg_toast%' \
             AND nspname NOT LIKE 'pg_temp%' AND ($1::text IS NULL OR nspname = $1) ORDER BY 1",
            &[&schema],
        )
        .await
        .map_err(|e| query_error("listing schemas of the target database", e))?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}

fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Creates `target.database` on its server when it does not exist; true when it did not.
pub async fn ensure_database(target: &ConnectionInfo) -> Result<bool> {
    match connect(target).await {
        Ok(_) => return Ok(false),
        Err(err) if err.kind() == ErrorKind::NotFound => {}
        Err(err) => return Err(err),
    }
    let admin = connect(&target.with_database("postgres")).await?;
    admin
        .batch_execute(&format!(
            "CREATE DATABASE {}",
            quote_ident(&target.database)
        ))
        .await
        .map_err(|e| query_error(&format!("creating database {}", target.database), e))?;
    Ok(true)
}

/// Restores `entry` into `target`.
pub async fn restore(
    store: &dyn Store,
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
    let started = Instant::now();
    progress.phase(Phase::Connecting);
    let expected = crate::verify::expectations_of(store, entry).await?;
    let created_database = ensure_database(target).await?;
    let mut safety_backup = None;
    let outcome = restore_in(
        store,
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
    let Err(err) = outcome else {
        let mut report = outcome?;
        report.duration_ms = started.elapsed().as_millis() as u64;
        return Ok(report);
    };
    let mut message = err.message().to_string();
    // A database this restore created holds nothing of anyone's: it goes, so "unchanged" holds.
    if created_database {
        if let Err(drop_err) = drop_database(target).await {
            message.push_str(&format!(
                "; the database {} this restore created could not be dropped ({}): drop it by hand",
                target.database,
                drop_err.message()
            ));
        } else {
            message.push_str(&format!(
                "; the database {} this restore created was dropped again",
                target.database
            ));
        }
    }
    if let Some(id) = &safety_backup {
        message.push_str(&format!(
            "; the safety backup {id} holds the data as it was before this restore"
        ));
    }
    Err(Error::new(err.kind(), message))
}

/// Drops the database a failed restore created (it was empty before the restore began).
async fn drop_database(target: &ConnectionInfo) -> Result<()> {
    let admin = connect(&target.with_database("postgres")).await?;
    admin
        .batch_execute(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            quote_ident(&target.database)
        ))
        .await
        .map_err(|e| query_error(&format!("dropping database {}", target.database), e))
}

#[allow(clippy::too_many_arguments)]
async fn restore_in(
    store: &dyn Store,
    entry: &BackupEntry,
    target: &ConnectionInfo,
    options: &RestoreOptions,
    expected: &Expectations,
    created_database: bool,
    safety_backup: &mut Option<String>,
    progress: Arc<dyn Progress>,
    cancel: &CancellationToken,
) -> Result<RestoreReport> {
    let client = connect(target).await?;
    let occupied = user_relations(&client, target.schema.as_deref()).await?;
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
        let source = DumpSource::Database(DatabaseSource::from_connection(target.clone()));
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
        let manifest = backup(store, &source, &safety, progress.clone(), cancel)
            .await
            .map_err(|e| e.context("taking the safety backup before the restore"))?;
        *safety_backup = Some(manifest.id);
    }
    lock_database(&client, &target.database).await?;
    let (server_version, server_major) = session::server_version(&client).await?;
    let tools = pg_tools::find(server_major)
        .await
        .map_err(|e| e.context(format!("server {server_version}")))?;
    let lz4_toast: bool = client
        .query_one(restore_sql::LZ4_TOAST_PROBE, &[])
        .await
        .map_err(|e| query_error("asking whether the server has LZ4 TOAST compression", e))?
        .get(0);
    let schemas = if occupied > 0 {
        user_schemas(&client, target.schema.as_deref()).await?
    } else {
        Vec::new()
    };

    progress.phase(Phase::Restoring);
    // Over a live Backstage, DROP SCHEMA … CASCADE locks table after table while the catalog
    // locks others: PostgreSQL may break the deadlock by aborting the restore. The transaction
    // rolled back, so the target is unchanged and the load is simply run again.
    let mut loads = 1;
    let bytes = loop {
        match load(
            store,
            entry,
            target,
            &tools,
            &schemas,
            lz4_toast,
            expected,
            progress.as_ref(),
            cancel,
        )
        .await
        {
            Err(err) => match crate::restore_sql::deadlock_retry_delay(loads, err.message()) {
                Some(delay) => {
                    loads += 1;
                    tokio::time::sleep(delay).await;
                }
                None => return Err(err),
            },
            Ok(bytes) => break bytes,
        }
    };
    // Committed by now: a catalog whose entities cannot be counted (a changed schema) is
    // restored all the same, reported without counts.
    let entities = entity_counts(&client, target.schema.as_deref())
        .await
        .ok()
        .flatten();
    progress.phase(Phase::Done);
    Ok(RestoreReport {
        id: entry.id(),
        database: target.database.clone(),
        host: target.host_port(),
        created_database,
        safety_backup: safety_backup.clone(),
        duration_ms: 0,
        restored_at: Utc::now(),
        bytes,
        entities,
        expected_entities: entry.manifest.as_ref().and_then(|m| m.entities.clone()),
    })
}

/// psql's stdin. Dropped before the whole dump was accepted (refused, damaged, cancelled), it
/// kills psql before closing the pipe: at the end of its input psql would still send the
/// statement left unfinished in its buffer, and a planted one must never run.
struct PsqlInput {
    stdin: std::process::ChildStdin,
    psql: Arc<std::sync::Mutex<std::process::Child>>,
    accepted: bool,
}

impl Write for PsqlInput {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.stdin.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.stdin.flush()
    }
}

impl Drop for PsqlInput {
    fn drop(&mut self) {
        if !self.accepted {
            if let Ok(mut psql) = self.psql.lock() {
                let _ = psql.kill();
            }
        }
    }
}

/// Streams the dump into psql in one transaction; returns the stored bytes read.
#[allow(clippy::too_many_arguments)]
async fn load(
    store: &dyn Store,
    entry: &BackupEntry,
    target: &ConnectionInfo,
    tools: &pg_tools::PgTools,
    schemas: &[String],
    lz4_toast: bool,
    expected: &Expectations,
    progress: &(dyn Progress + 'static),
    cancel: &CancellationToken,
) -> Result<u64> {
    let mut command = Command::new(&tools.psql);
    for var in ConnectionInfo::libpq_env_to_clear() {
        command.env_remove(var);
    }
    command.env_remove("PGPASSWORD");
    command
        .envs(target.libpq_env())
        .args([
            "--no-psqlrc",
            "--quiet",
            "--no-password",
            "-v",
            "ON_ERROR_STOP=1",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut psql = command
        .spawn()
        .map_err(|e| Error::database(format!("cannot start {}: {e}", tools.psql.display())))?;
    let stdin = psql.stdin.take().expect("piped stdin");
    let stderr = psql.stderr.take().expect("piped stderr");
    let stdout = psql.stdout.take().expect("piped stdout");
    // psql says this line once it has run every statement before it: until then a signal can
    // still roll the restore back, after it only COMMIT is left.
    let ready_line = format!(
        "backstage-backup-ready-{}",
        crate::host::host().random_token()
    );
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel::<()>();
    std::thread::spawn({
        let ready_line = ready_line.clone();
        move || {
            use std::io::BufRead;
            let mut ready_tx = Some(ready_tx);
            // Every line is read (psql must never block on a full pipe); only ours counts.
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if line.trim() == ready_line {
                    if let Some(tx) = ready_tx.take() {
                        let _ = tx.send(());
                    }
                }
            }
        }
    });
    let psql = Arc::new(std::sync::Mutex::new(psql));
    let mut stdin = PsqlInput {
        stdin,
        psql: psql.clone(),
        accepted: false,
    };
    let stderr_task = std::thread::spawn(move || {
        use std::io::Read;
        let mut text = String::new();
        let _ = std::io::BufReader::new(stderr)
            .take(64 << 10)
            .read_to_string(&mut text);
        text
    });

    let prelude = restore_sql::prelude(schemas, target.schema.is_some(), lz4_toast);
    let verdict = match stdin.write_all(prelude.as_bytes()) {
        Err(e) => {
            drop(stdin);
            Err(VerifyFailure::Output(e))
        }
        Ok(()) => read_verified(store, &entry.data_key(), stdin, progress, cancel).await?,
    };
    let outcome: Result<u64> = match verdict {
        Ok((check, mut stdin)) => {
            let found = problems(&check, expected);
            if found.is_empty() {
                // Every byte is checked; the transaction commits once psql has run the rest
                // (index builds can take minutes), unless a signal comes first.
                let asked = stdin
                    .write_all(format!("\n\\echo {ready_line}\n").as_bytes())
                    .and_then(|()| stdin.flush());
                let caught_up = async {
                    asked.map_err(|e| Error::database(format!("psql stopped reading: {e}")))?;
                    tokio::select! {
                        ready = ready_rx => ready.map_err(|_| {
                            Error::database("psql ended before the transaction could commit")
                        }),
                        _ = cancel.cancelled() => Err(Error::new(
                            ErrorKind::Cancelled,
                            format!(
                                "interrupted before COMMIT: the restore of {} was rolled back and \
                                 the target left unchanged",
                                entry.id()
                            ),
                        )),
                    }
                }
                .await;
                match caught_up {
                    Ok(()) => {
                        stdin.accepted = true;
                        progress.phase(Phase::Committing);
                        match stdin.write_all(b"COMMIT;\n").and_then(|()| stdin.flush()) {
                            Ok(()) => Ok(check.compressed.bytes),
                            Err(e) => Err(Error::database(format!("psql stopped reading: {e}"))),
                        }
                    }
                    // Dropping stdin unaccepted kills psql: the transaction rolls back.
                    Err(err) => Err(err),
                }
            } else {
                let _ = stdin.write_all(b"\nROLLBACK;\n");
                Err(Error::integrity(format!(
                    "{} failed verification; the target was left unchanged: {}",
                    entry.id(),
                    found.join("; ")
                )))
            }
        }
        Err(VerifyFailure::Corrupt(err)) => Err(Error::integrity(format!(
            "{}: {err}; the target was left unchanged",
            entry.id()
        ))),
        Err(VerifyFailure::Output(err)) => {
            Err(Error::database(format!("psql stopped reading: {err}")))
        }
    };
    // Closing stdin without COMMIT ends psql's session and rolls the transaction back.
    let status = tokio::task::spawn_blocking(move || psql.lock().expect("psql handle").wait())
        .await
        .map_err(|e| Error::internal(format!("waiting for psql: {e}")))?
        .map_err(|e| Error::database(format!("waiting for psql: {e}")))?;
    let said = stderr_task.join().unwrap_or_default();
    match outcome {
        Ok(bytes) if status.success() => Ok(bytes),
        // A damaged backup or a cancel is the cause even when psql also choked on the cut.
        Err(err) if matches!(err.kind(), ErrorKind::Integrity | ErrorKind::Cancelled) => Err(err),
        _ if !status.success() => {
            let said: Vec<&str> = said
                .lines()
                .filter(|l| !l.trim().is_empty())
                .take(5)
                .collect();
            Err(Error::database(format!(
                "psql failed loading {} ({status}); the transaction was rolled back and the target left unchanged: {}",
                entry.id(),
                if said.is_empty() { "it printed nothing".to_string() } else { said.join(" | ") }
            )))
        }
        Ok(_) => Err(Error::internal("psql succeeded without loading")),
        Err(err) => Err(err),
    }
}
