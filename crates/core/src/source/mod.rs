//! Where a dump comes from: pg_dump against a database (named by URL, `PG*` variables or a
//! Backstage app-config), or an existing plain dump in a file or on stdin.

pub mod app_config;
pub mod client;
pub mod conn;
#[cfg(feature = "postgres")]
pub mod native_client;
pub mod pg_tools;
mod resolve;
#[cfg(feature = "postgres")]
pub mod session;
pub mod sql;
#[cfg(feature = "postgres")]
mod tls;

use std::path::PathBuf;
#[cfg(feature = "runtime")]
use std::process::Stdio;

#[cfg(feature = "runtime")]
use tokio::io::AsyncReadExt;
#[cfg(feature = "runtime")]
use tokio::process::{Child, Command};
#[cfg(feature = "runtime")]
use tokio::task::JoinHandle;

pub use conn::ConnectionInfo;
pub use pg_tools::PgTools;
pub use resolve::{database_from_config_json, process_env, resolve_database, DatabaseRequest};

#[cfg(feature = "runtime")]
use crate::error::{Error, Result};

/// Backstage's default plugin database prefix.
pub const DEFAULT_PREFIX: &str = "backstage_plugin_";

/// What to back up.
#[derive(Debug, Clone)]
pub enum DumpSource {
    /// Run pg_dump against this database.
    Database(DatabaseSource),
    /// An existing plain-format dump.
    File(PathBuf),
    /// A plain-format dump piped in.
    Stdin,
}

#[derive(Debug, Clone)]
pub struct DatabaseSource {
    pub connection: ConnectionInfo,
    /// Names the backup: `backstage-<plugin_id>-…`.
    pub plugin_id: String,
}

impl DatabaseSource {
    /// A database named by URL or `PG*` variables; the plugin id comes from its name.
    pub fn from_connection(connection: ConnectionInfo) -> Self {
        let plugin_id = crate::naming::plugin_id_for_database(
            connection.schema.as_deref().unwrap_or(&connection.database),
            DEFAULT_PREFIX,
        );
        DatabaseSource {
            connection,
            plugin_id,
        }
    }
}

#[cfg(feature = "runtime")]
/// Keeps the last `limit` bytes of a child's stderr for error messages.
pub fn collect_stderr(
    mut stderr: impl tokio::io::AsyncRead + Unpin + Send + 'static,
    limit: usize,
) -> JoinHandle<String> {
    tokio::spawn(async move {
        let mut kept = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = stderr.read(&mut buf).await {
            if n == 0 {
                break;
            }
            kept.extend_from_slice(&buf[..n]);
            if kept.len() > 2 * limit {
                kept.drain(..kept.len() - limit);
            }
        }
        String::from_utf8_lossy(&kept).trim().to_string()
    })
}

#[cfg(feature = "runtime")]
/// Builds a command for a libpq tool with the connection in its environment, never in argv.
pub fn libpq_command(program: &std::path::Path, conn: &ConnectionInfo) -> Command {
    let mut command = Command::new(program);
    for var in ConnectionInfo::libpq_env_to_clear() {
        command.env_remove(var);
    }
    command.env_remove("PGPASSWORD");
    command.envs(conn.libpq_env());
    command.kill_on_drop(true);
    command
}

#[cfg(feature = "runtime")]
/// A running pg_dump.
pub struct DumpProcess {
    pub child: Child,
    /// Read with plain blocking reads on the compression thread (no async reactor between
    /// pg_dump and the compressor).
    pub stdout: std::io::PipeReader,
    pub stderr: JoinHandle<String>,
}

#[cfg(feature = "runtime")]
/// pg_dump's pipe; on Linux 1 MiB instead of 64 KiB, so pg_dump and the compressor each
/// wait on the other far less often (fewer, larger reads and writes).
fn dump_pipe() -> Result<(std::io::PipeReader, std::io::PipeWriter)> {
    let (reader, writer) = std::io::pipe()
        .map_err(|e| Error::database(format!("cannot create a pipe for pg_dump: {e}")))?;
    // Best effort: a lower limit (fs.pipe-max-size) just keeps the default size.
    #[cfg(target_os = "linux")]
    let _ = rustix::pipe::fcntl_setpipe_size(&writer, PIPE_BYTES);
    Ok((reader, writer))
}

#[cfg(feature = "runtime")]
#[cfg(target_os = "linux")]
const PIPE_BYTES: usize = 1 << 20;

#[cfg(feature = "runtime")]
/// Starts pg_dump (plain format, from `snapshot`) for the connection's database or schema.
pub fn spawn_pg_dump(
    pg_dump: &std::path::Path,
    conn: &ConnectionInfo,
    snapshot: Option<&str>,
) -> Result<DumpProcess> {
    let mut command = libpq_command(pg_dump, conn);
    command.args(["--format=plain", "--no-password"]);
    if let Some(snapshot) = snapshot {
        command.arg(format!("--snapshot={snapshot}"));
    }
    if let Some(schema) = &conn.schema {
        command.arg(format!("--schema={schema}"));
    }
    let (stdout, writer) = dump_pipe()?;
    command
        .stdin(Stdio::null())
        .stdout(writer)
        .stderr(Stdio::piped());
    let mut child = command
        .spawn()
        .map_err(|e| Error::database(format!("cannot start {}: {e}", pg_dump.display())))?;
    // Our copy of the write end must go, or the reader never sees the end of the dump.
    drop(command);
    let stderr = collect_stderr(child.stderr.take().expect("piped stderr"), 8192);
    Ok(DumpProcess {
        child,
        stdout,
        stderr,
    })
}
