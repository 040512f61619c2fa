//! What backup, restore and drill ask of PostgreSQL's client side, as one small trait: a
//! session for queries, psql loading a dump, and pg_dump streaming through gzip into an upload.
//! The operations (database_backup.rs, restore.rs, drill.rs) are written once over it. Natively
//! it is tokio-postgres, spawned processes and compression threads (`NativeClient`); in the
//! WebAssembly engine, the glue's psql coprocess, child processes and gzip worker threads.

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

use super::conn::ConnectionInfo;
use super::sql::SqlSession;
use crate::error::Result;
use crate::pipeline::StreamDigests;
use crate::progress::Progress;
use crate::store::Upload;
use crate::verify::DumpSink;

/// How a child process ended.
#[derive(Debug, Clone, Default)]
pub struct ProcessExit {
    pub success: bool,
    /// `exit status: 3`, `signal: 15`: for messages.
    pub status: String,
    /// What it printed on stderr (bounded by the host).
    pub stderr: String,
}

/// What pg_dump streamed: the digests and whether the dump ended with pg_dump's completion
/// line, or why streaming stopped (a failed upload, a cancel, an unreadable pipe); and how
/// pg_dump ended. Both are returned so core decides which is the cause.
pub struct DumpOutcome {
    pub streamed: Result<(StreamDigests, bool)>,
    pub exited: Result<ProcessExit>,
}

/// One pg_dump run: plain format, from an exported snapshot, the connection's schema only
/// when it names one.
pub struct DumpSpec<'a> {
    pub pg_dump: &'a Path,
    pub conn: &'a ConnectionInfo,
    pub snapshot: &'a str,
    pub level: u32,
    /// Compression threads; 0 is one per core.
    pub threads: usize,
}

/// psql reading a restore from its stdin (`ON_ERROR_STOP`, `VERBOSITY=verbose` so errors carry
/// their SQLSTATE, no psqlrc, no password prompt); `write` hands it SQL and fails once it
/// stopped reading. Dropped without `end`, it is killed: its transaction rolls back.
#[async_trait]
pub trait PsqlLoad: DumpSink {
    /// Waits until psql printed the ready line it was started with (every line of its output is
    /// read, so it never blocks on a full pipe); false when its output ended first.
    async fn caught_up(&mut self) -> bool;
    /// Ends psql and waits for it: with `finish`, its input is closed and it runs what it was
    /// given; without, it is killed first (its open transaction rolls back).
    async fn end(self: Box<Self>, finish: bool) -> Result<ProcessExit>;
}

#[async_trait]
pub trait PgClient: Send + Sync {
    /// A session on `conn`; `NotFound` when its database does not exist, `Database` when the
    /// server cannot be reached or refuses the login.
    async fn connect(&self, conn: &ConnectionInfo) -> Result<Box<dyn SqlSession>>;
    /// Starts `psql` on `conn`; it echoes `ready_line` when asked to (`\echo`).
    async fn start_psql(
        &self,
        psql: &Path,
        conn: &ConnectionInfo,
        ready_line: &str,
    ) -> Result<Box<dyn PsqlLoad>>;
    /// Runs pg_dump and streams its output through SHA-256 and gzip into `upload`. pg_dump is
    /// stopped when streaming fails; both verdicts come back.
    async fn dump_into(
        &self,
        spec: DumpSpec<'_>,
        upload: &mut dyn Upload,
        progress: &Arc<dyn Progress>,
        cancel: &CancellationToken,
    ) -> DumpOutcome;
}
