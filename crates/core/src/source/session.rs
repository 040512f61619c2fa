//! A connection held open for the length of a backup or restore: it takes the per-database
//! advisory lock, and for a backup exports the snapshot pg_dump dumps from, so the entity counts
//! in the manifest describe exactly the rows in the dump. The queries are `sql`'s (shared with
//! the WebAssembly engine); this is the native session they run on.

use tokio_postgres::Client;

use super::conn::ConnectionInfo;
use crate::error::{Error, Result};

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
    if let Some(db) = err.as_db_error() {
        return match db.code().code() {
            "28P01" | "28000" => conn.login_refused(db.message()),
            "3D000" => conn.missing_database(),
            _ => Error::database(format!(
                "cannot connect to {}: {}",
                conn.redacted(),
                db.message()
            )),
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
        super::conn::UNREACHABLE_HINT
    };
    conn.unreachable(&detail, hint)
}

/// Maps a query failure.
pub fn query_error(doing: &str, err: tokio_postgres::Error) -> Error {
    match err.as_db_error() {
        Some(db) => Error::database(format!("{doing}: {}", db.message())),
        None => Error::database(format!("{doing}: {err}")),
    }
}

pub use super::sql::{
    entity_counts, latest_migration, lock_database, server_version, unlock_database, SnapshotInfo,
};
use super::sql::{finish_snapshot, open_snapshot, Rows, SqlSession};

#[async_trait::async_trait]
impl SqlSession for Client {
    async fn query(&self, sql: &str, doing: &str) -> Result<Rows> {
        let messages = self
            .simple_query(sql)
            .await
            .map_err(|e| query_error(doing, e))?;
        Ok(messages
            .into_iter()
            .filter_map(|message| match message {
                tokio_postgres::SimpleQueryMessage::Row(row) => Some(
                    (0..row.len())
                        .map(|i| row.get(i).map(str::to_string))
                        .collect(),
                ),
                _ => None,
            })
            .collect())
    }
}

/// A locked connection holding an exported snapshot open until dropped or finished.
pub struct SourceSession {
    client: Client,
    pub info: SnapshotInfo,
}

impl SourceSession {
    pub async fn open(conn: &ConnectionInfo) -> Result<Self> {
        let client = connect(conn).await?;
        let info = open_snapshot(&client, conn).await?;
        Ok(SourceSession { client, info })
    }

    /// Ends the snapshot transaction and releases the lock.
    pub async fn finish(self) {
        finish_snapshot(&self.client).await;
    }
}
