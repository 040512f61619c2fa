//! A connection held open for the length of a backup or restore: it takes the per-database
//! advisory lock, and for a backup exports the snapshot pg_dump dumps from, so the entity counts
//! in the manifest describe exactly the rows in the dump.

use std::collections::BTreeMap;

use tokio_postgres::Client;

use super::conn::ConnectionInfo;
use crate::error::{Error, ErrorKind, Result};

/// First key of our advisory locks ("BBK" in ASCII), so they do not collide with the app's own.
const LOCK_CLASS: i32 = 0x0042_424B;

/// Opens a connection, mapping failures to messages that say what to check.
pub async fn connect(conn: &ConnectionInfo) -> Result<Client> {
    let (ssl_mode, tls) = super::tls::connector(conn)?;
    let mut config = tokio_postgres::Config::new();
    config
        .host(&conn.host)
        .port(conn.port)
        .user(&conn.user)
        .dbname(&conn.database)
        .application_name("backstage-backup")
        .ssl_mode(ssl_mode)
        .connect_timeout(std::time::Duration::from_secs(15));
    if let Some(password) = conn.password() {
        config.password(password);
    }
    let (client, connection) = config
        .connect(tls)
        .await
        .map_err(|e| connect_error(conn, &e))?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(client)
}

fn connect_error(conn: &ConnectionInfo, err: &tokio_postgres::Error) -> Error {
    let target = conn.redacted();
    if let Some(db) = err.as_db_error() {
        let code = db.code().code();
        return match code {
            "28P01" | "28000" => Error::database(format!(
                "cannot log in to {target}: {}; check the user and password",
                db.message()
            )),
            "3D000" => Error::new(
                ErrorKind::NotFound,
                format!(
                    "database '{}' does not exist on {}; check the name (Backstage's catalog is \
                     backstage_plugin_catalog unless backend.database sets another prefix)",
                    conn.database,
                    conn.host_port()
                ),
            ),
            _ => Error::database(format!("cannot connect to {target}: {}", db.message())),
        };
    }
    let mut detail = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(inner) = source {
        detail = format!("{detail}: {inner}");
        source = inner.source();
    }
    let hint = if detail.contains("TLS") || detail.contains("certificate") {
        "check sslmode and sslrootcert (verify-full needs the host name the certificate names)"
    } else {
        "is PostgreSQL running and reachable from here?"
    };
    Error::database(format!("cannot connect to {target} ({detail}); {hint}"))
}

/// Maps a query failure.
pub fn query_error(doing: &str, err: tokio_postgres::Error) -> Error {
    match err.as_db_error() {
        Some(db) => Error::database(format!("{doing}: {}", db.message())),
        None => Error::database(format!("{doing}: {err}")),
    }
}

/// Takes the per-database advisory lock held by backups and restores; `Locked` when taken.
pub async fn lock_database(client: &Client, database: &str) -> Result<()> {
    let row = client
        .query_one(
            "SELECT pg_try_advisory_lock($1, hashtext(current_database()))",
            &[&LOCK_CLASS],
        )
        .await
        .map_err(|e| query_error("taking the backup lock", e))?;
    if row.get::<_, bool>(0) {
        Ok(())
    } else {
        Err(Error::new(
            ErrorKind::Locked,
            format!(
                "another backup or restore of database '{database}' is already running \
                 (its advisory lock is held); wait for it to finish and try again"
            ),
        ))
    }
}

/// Releases the lock now: a dropped connection releases it too, but only once the server
/// notices, which can be after the next operation asks for it.
pub async fn unlock_database(client: &Client) {
    let _ = client
        .query_one(
            "SELECT pg_advisory_unlock($1, hashtext(current_database()))",
            &[&LOCK_CLASS],
        )
        .await;
}

/// The server's version, e.g. ("15.20", 15).
pub async fn server_version(client: &Client) -> Result<(String, u32)> {
    let row = client
        .query_one(
            "SELECT current_setting('server_version'), current_setting('server_version_num')::int",
            &[],
        )
        .await
        .map_err(|e| query_error("reading the server version", e))?;
    let full: String = row.get(0);
    let num: i32 = row.get(1);
    let version = full.split_whitespace().next().unwrap_or(&full).to_string();
    Ok((version, (num / 10_000) as u32))
}

fn qualified(schema: Option<&str>, table: &str) -> String {
    match schema {
        Some(schema) => format!("\"{}\".\"{table}\"", schema.replace('"', "\"\"")),
        None => format!("\"{table}\""),
    }
}

async fn table_exists(client: &Client, schema: Option<&str>, table: &str) -> Result<bool> {
    let row = client
        .query_one(
            "SELECT to_regclass($1) IS NOT NULL",
            &[&qualified(schema, table)],
        )
        .await
        .map_err(|e| query_error("inspecting the schema", e))?;
    Ok(row.get(0))
}

async fn column_exists(
    client: &Client,
    schema: Option<&str>,
    table: &str,
    column: &str,
) -> Result<bool> {
    let row = client
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass($1) \
             AND attname = $2 AND NOT attisdropped)",
            &[&qualified(schema, table), &column],
        )
        .await
        .map_err(|e| query_error("inspecting the schema", e))?;
    Ok(row.get(0))
}

/// Catalog entities by lowercase kind; `None` when the database is not a catalog.
pub async fn entity_counts(
    client: &Client,
    schema: Option<&str>,
) -> Result<Option<BTreeMap<String, u64>>> {
    if !table_exists(client, schema, "final_entities").await? {
        return Ok(None);
    }
    // Since Backstage's 2024-10 migration each row carries its entity ref ("kind:ns/name",
    // NOT NULL): reading the kind from it skips detoasting and parsing every entity's JSON
    // (2.3 s of server CPU on 200k entities). Older schemas use the JSON.
    let kind = if column_exists(client, schema, "final_entities", "entity_ref").await? {
        "split_part(entity_ref, ':', 1)"
    } else {
        "final_entity::jsonb->>'kind'"
    };
    let sql = format!(
        "SELECT lower({kind}), count(*) FROM {} WHERE final_entity IS NOT NULL GROUP BY 1",
        qualified(schema, "final_entities")
    );
    let rows = client
        .query(&sql, &[])
        .await
        .map_err(|e| query_error("counting catalog entities", e))?;
    Ok(Some(
        rows.iter()
            .map(|row| {
                let kind: Option<String> = row.get(0);
                let count: i64 = row.get(1);
                (kind.unwrap_or_else(|| "unknown".into()), count as u64)
            })
            .collect(),
    ))
}

/// The newest applied knex migration, if the database has knex's table.
pub async fn latest_migration(client: &Client, schema: Option<&str>) -> Result<Option<String>> {
    if !table_exists(client, schema, "knex_migrations").await? {
        return Ok(None);
    }
    let sql = format!(
        "SELECT name FROM {} ORDER BY id DESC LIMIT 1",
        qualified(schema, "knex_migrations")
    );
    let row = client
        .query_opt(&sql, &[])
        .await
        .map_err(|e| query_error("reading knex_migrations", e))?;
    Ok(row.map(|r| r.get(0)))
}

/// Runs `read` inside a savepoint of the open transaction: `None` (and the transaction still
/// usable) when it fails.
async fn best_effort<T>(
    client: &Client,
    read: impl std::future::Future<Output = Result<T>>,
) -> Result<Option<T>> {
    let savepoint = |sql: &'static str| async move {
        client
            .batch_execute(sql)
            .await
            .map_err(|e| query_error("reading the catalog's shape", e))
    };
    savepoint("SAVEPOINT catalog_shape").await?;
    match read.await {
        Ok(value) => {
            savepoint("RELEASE SAVEPOINT catalog_shape").await?;
            Ok(Some(value))
        }
        Err(_) => {
            savepoint("ROLLBACK TO SAVEPOINT catalog_shape").await?;
            Ok(None)
        }
    }
}

/// What a backup learns from its source before pg_dump starts.
#[derive(Debug, Clone)]
pub struct SnapshotInfo {
    pub snapshot_id: String,
    pub server_version: String,
    pub server_major: u32,
    pub entities: Option<BTreeMap<String, u64>>,
    pub latest_migration: Option<String>,
}

/// A locked connection holding an exported snapshot open until dropped or finished.
pub struct SourceSession {
    client: Client,
    pub info: SnapshotInfo,
}

impl SourceSession {
    pub async fn open(conn: &ConnectionInfo) -> Result<Self> {
        let client = connect(conn).await?;
        lock_database(&client, &conn.database).await?;
        let (server_version, server_major) = server_version(&client).await?;
        client
            .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .await
            .map_err(|e| query_error("starting the snapshot transaction", e))?;
        let snapshot_id: String = client
            .query_one("SELECT pg_export_snapshot()", &[])
            .await
            .map_err(|e| query_error("exporting a snapshot for pg_dump", e))?
            .get(0);
        let schema = conn.schema.as_deref();
        // What a catalog looks like is the catalog's business: after a bad migration (the
        // failed upgrade a rollback is for) these reads may fail, and the backup must still be
        // taken. Each runs in a savepoint, so a failure leaves the snapshot usable.
        let entities = best_effort(&client, entity_counts(&client, schema))
            .await?
            .flatten();
        let latest_migration = best_effort(&client, latest_migration(&client, schema))
            .await?
            .flatten();
        Ok(SourceSession {
            client,
            info: SnapshotInfo {
                snapshot_id,
                server_version,
                server_major,
                entities,
                latest_migration,
            },
        })
    }

    /// Ends the snapshot transaction and releases the lock.
    pub async fn finish(self) {
        let _ = self.client.batch_execute("COMMIT").await;
        unlock_database(&self.client).await;
    }
}
