//! What backups and restores ask of a database session, written once over `SqlSession`: the
//! advisory lock both engines share, the server's version, the exported snapshot, and the
//! catalog's shape (entity counts, latest migration). Natively the session is a tokio-postgres
//! client; in the WebAssembly engine, a psql coprocess the glue runs.

use std::collections::BTreeMap;

use async_trait::async_trait;

use super::conn::ConnectionInfo;
use crate::error::{Error, ErrorKind, Result};

/// The advisory lock class every backup and restore takes ("BBK" in ASCII, so it does not
/// collide with the app's own locks), with the database's name hash: both engines and every
/// process exclude each other.
pub const LOCK_CLASS: i32 = 0x0042_424B;

/// Rows as text, NULL as None.
pub type Rows = Vec<Vec<Option<String>>>;

#[async_trait]
pub trait SqlSession: Send + Sync {
    /// Runs one SQL statement; its rows, every field as text. A failure is `Database` with
    /// `doing` and the server's message; the session stays usable.
    async fn query(&self, sql: &str, doing: &str) -> Result<Rows>;
    /// Ends the session; its lock and open transaction go with it. Natively dropping the
    /// client does the same.
    async fn close(&self) {}
}

/// `'text'`, quotes doubled: for values the server must see as a literal.
pub fn quote_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// `"schema"."table"` (or `"table"`), quotes doubled.
pub fn qualified(schema: Option<&str>, table: &str) -> String {
    let ident = |name: &str| format!("\"{}\"", name.replace('"', "\"\""));
    match schema {
        Some(schema) => format!("{}.{}", ident(schema), ident(table)),
        None => ident(table),
    }
}

/// The first field of the first row.
pub async fn value(session: &dyn SqlSession, sql: &str, doing: &str) -> Result<Option<String>> {
    Ok(session
        .query(sql, doing)
        .await?
        .into_iter()
        .next()
        .and_then(|row| row.into_iter().next().flatten()))
}

async fn truth(session: &dyn SqlSession, sql: &str, doing: &str) -> Result<bool> {
    Ok(value(session, sql, doing).await?.as_deref() == Some("t"))
}

/// Takes the database's backup lock; `Locked` while another backup or restore holds it.
pub async fn lock_database(session: &dyn SqlSession, database: &str) -> Result<()> {
    let sql = format!("SELECT pg_try_advisory_lock({LOCK_CLASS}, hashtext(current_database()))");
    if truth(session, &sql, "taking the backup lock").await? {
        return Ok(());
    }
    Err(Error::new(
        ErrorKind::Locked,
        format!(
            "another backup or restore of database '{database}' is already running (its \
             advisory lock is held); wait for it to finish and try again"
        ),
    ))
}

/// Releases the backup lock (ending the session does too).
pub async fn unlock_database(session: &dyn SqlSession) {
    let sql = format!("SELECT pg_advisory_unlock({LOCK_CLASS}, hashtext(current_database()))");
    let _ = session.query(&sql, "releasing the backup lock").await;
}

/// The server's version (`15.20`) and major version.
pub async fn server_version(session: &dyn SqlSession) -> Result<(String, u32)> {
    let doing = "reading the server version";
    let rows = session
        .query(
            "SELECT current_setting('server_version'), current_setting('server_version_num')",
            doing,
        )
        .await?;
    let field = |i: usize| rows.first().and_then(|r| r.get(i).cloned().flatten());
    let (Some(full), Some(num)) = (field(0), field(1)) else {
        return Err(Error::database(format!("{doing}: no answer")));
    };
    let num: u32 = num
        .trim()
        .parse()
        .map_err(|_| Error::database(format!("{doing}: server_version_num is not a number")))?;
    let version = full.split_whitespace().next().unwrap_or(&full).to_string();
    Ok((version, num / 10_000))
}

async fn table_exists(session: &dyn SqlSession, schema: Option<&str>, table: &str) -> Result<bool> {
    let sql = format!(
        "SELECT to_regclass({}) IS NOT NULL",
        quote_literal(&qualified(schema, table))
    );
    truth(session, &sql, "inspecting the schema").await
}

/// The catalog's entities by lowercase kind; None without a catalog schema.
pub async fn entity_counts(
    session: &dyn SqlSession,
    schema: Option<&str>,
) -> Result<Option<BTreeMap<String, u64>>> {
    if !table_exists(session, schema, "final_entities").await? {
        return Ok(None);
    }
    let table = qualified(schema, "final_entities");
    let has_ref = format!(
        "SELECT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass({}) \
         AND attname = 'entity_ref' AND NOT attisdropped)",
        quote_literal(&table)
    );
    // The kind from the entity ref (NOT NULL) where the schema has one: no JSON is detoasted
    // and parsed; older schemas only have the entity.
    let kind = if truth(session, &has_ref, "inspecting the schema").await? {
        "split_part(entity_ref, ':', 1)"
    } else {
        "final_entity::jsonb->>'kind'"
    };
    let sql = format!(
        "SELECT coalesce(lower({kind}), 'unknown'), count(*) FROM {table} \
         WHERE final_entity IS NOT NULL GROUP BY 1"
    );
    let doing = "counting catalog entities";
    let mut counts = BTreeMap::new();
    for row in session.query(&sql, doing).await? {
        let mut fields = row.into_iter();
        let kind = fields.next().flatten().unwrap_or_else(|| "unknown".into());
        let count = fields
            .next()
            .flatten()
            .and_then(|c| c.parse::<u64>().ok())
            .ok_or_else(|| Error::database(format!("{doing}: a count is not a number")))?;
        *counts.entry(kind).or_insert(0) += count;
    }
    Ok(Some(counts))
}

/// The name of the newest knex migration; None without a migrations table.
pub async fn latest_migration(
    session: &dyn SqlSession,
    schema: Option<&str>,
) -> Result<Option<String>> {
    if !table_exists(session, schema, "knex_migrations").await? {
        return Ok(None);
    }
    let sql = format!(
        "SELECT name FROM {} ORDER BY id DESC LIMIT 1",
        qualified(schema, "knex_migrations")
    );
    value(session, &sql, "reading knex_migrations").await
}

/// Runs `read` in a savepoint: a failure rolls back to it and gives None, leaving the
/// transaction (and its snapshot) usable.
async fn best_effort<T>(
    session: &dyn SqlSession,
    read: impl std::future::Future<Output = Result<T>>,
) -> Result<Option<T>> {
    let doing = "reading the catalog's shape";
    session.query("SAVEPOINT catalog_shape", doing).await?;
    match read.await {
        Ok(value) => {
            session
                .query("RELEASE SAVEPOINT catalog_shape", doing)
                .await?;
            Ok(Some(value))
        }
        Err(_) => {
            session
                .query("ROLLBACK TO SAVEPOINT catalog_shape", doing)
                .await?;
            Ok(None)
        }
    }
}

/// What a backup learns from its source before pg_dump starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotInfo {
    pub snapshot_id: String,
    pub server_version: String,
    pub server_major: u32,
    pub entities: Option<BTreeMap<String, u64>>,
    pub latest_migration: Option<String>,
}

/// Locks the database, opens a read-only snapshot transaction and exports its snapshot for
/// pg_dump, and reads the catalog's shape inside it. The session holds the lock and the
/// snapshot until `finish_snapshot`.
pub async fn open_snapshot(
    session: &dyn SqlSession,
    conn: &ConnectionInfo,
) -> Result<SnapshotInfo> {
    lock_database(session, &conn.database).await?;
    let (server_version, server_major) = server_version(session).await?;
    session
        .query(
            "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY",
            "starting the snapshot transaction",
        )
        .await?;
    let snapshot_id = value(
        session,
        "SELECT pg_export_snapshot()",
        "exporting a snapshot for pg_dump",
    )
    .await?
    .ok_or_else(|| Error::database("exporting a snapshot for pg_dump: no snapshot id"))?;
    let schema = conn.schema.as_deref();
    // What a catalog looks like is the catalog's business: after a bad migration (the failed
    // upgrade a rollback is for) these reads may fail, and the backup must still be taken.
    let entities = best_effort(session, entity_counts(session, schema))
        .await?
        .flatten();
    let latest_migration = best_effort(session, latest_migration(session, schema))
        .await?
        .flatten();
    Ok(SnapshotInfo {
        snapshot_id,
        server_version,
        server_major,
        entities,
        latest_migration,
    })
}

/// Ends the snapshot transaction and releases the lock.
pub async fn finish_snapshot(session: &dyn SqlSession) {
    let _ = session.query("COMMIT", "ending the snapshot").await;
    unlock_database(session).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_literals_are_quoted() {
        assert_eq!(quote_literal("it's"), "'it''s'");
        assert_eq!(qualified(None, "final_entities"), "\"final_entities\"");
        assert_eq!(qualified(Some("we\"ird"), "t"), "\"we\"\"ird\".\"t\"");
    }
}
