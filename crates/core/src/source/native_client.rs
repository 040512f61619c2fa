//! `PgClient` on this machine: tokio-postgres sessions, psql and pg_dump as child processes
//! (the connection in their environment, never in argv), and the parallel gzip threads.

use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
use tokio_util::sync::CancellationToken;

use super::client::{DumpOutcome, DumpSpec, PgClient, ProcessExit, PsqlLoad};
use super::conn::ConnectionInfo;
use super::sql::SqlSession;
use crate::error::{Error, Result};
use crate::progress::Progress;
use crate::store::Upload;
use crate::verify::DumpSink;

/// psql's stderr kept for messages: its first error is what matters.
const PSQL_STDERR_BYTES: u64 = 64 << 10;

pub struct NativeClient;

#[async_trait]
impl PgClient for NativeClient {
    async fn connect(&self, conn: &ConnectionInfo) -> Result<Box<dyn SqlSession>> {
        Ok(Box::new(super::session::connect(conn).await?))
    }

    async fn start_psql(
        &self,
        psql: &Path,
        conn: &ConnectionInfo,
        ready_line: &str,
    ) -> Result<Box<dyn PsqlLoad>> {
        let mut command = super::libpq_command(psql, conn);
        command
            .args([
                "--no-psqlrc",
                "--quiet",
                "--no-password",
                "-v",
                "ON_ERROR_STOP=1",
                "-v",
                "VERBOSITY=verbose",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command
            .spawn()
            .map_err(|e| Error::database(format!("cannot start {}: {e}", psql.display())))?;
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = child.stdout.take().expect("piped stdout");
        let stderr = child.stderr.take().expect("piped stderr");
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel::<()>();
        let ready_line = ready_line.to_string();
        tokio::spawn(async move {
            let mut ready_tx = Some(ready_tx);
            // Every line is read (psql must never block on a full pipe); only ours counts.
            let mut lines = tokio::io::BufReader::new(stdout).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                if line.trim() == ready_line {
                    if let Some(tx) = ready_tx.take() {
                        let _ = tx.send(());
                    }
                }
            }
        });
        let stderr = tokio::spawn(async move {
            let mut kept = Vec::new();
            let mut first = stderr.take(PSQL_STDERR_BYTES);
            let _ = first.read_to_end(&mut kept).await;
            // The rest is read and dropped, so psql never blocks writing it.
            let _ = tokio::io::copy(&mut first.into_inner(), &mut tokio::io::sink()).await;
            String::from_utf8_lossy(&kept).into_owned()
        });
        Ok(Box::new(NativePsql {
            child,
            stdin: Some(stdin),
            ready: Some(ready_rx),
            stderr,
        }))
    }

    async fn dump_into(
        &self,
        spec: DumpSpec<'_>,
        upload: &mut dyn Upload,
        progress: &Arc<dyn Progress>,
        cancel: &CancellationToken,
    ) -> DumpOutcome {
        let mut dump = match super::spawn_pg_dump(spec.pg_dump, spec.conn, Some(spec.snapshot)) {
            Ok(dump) => dump,
            Err(err) => {
                return DumpOutcome {
                    streamed: Err(err.clone()),
                    exited: Err(err),
                }
            }
        };
        let streamed = crate::backup::stream_into(
            upload,
            Box::new(dump.stdout),
            spec.level,
            spec.threads,
            progress,
            cancel,
            Some(&mut dump.child),
        )
        .await;
        let exited = match dump.child.wait().await {
            Ok(status) => Ok(ProcessExit {
                success: status.success(),
                status: status.to_string(),
                stderr: dump.stderr.await.unwrap_or_default(),
            }),
            Err(e) => Err(Error::database(format!("waiting for pg_dump: {e}"))),
        };
        DumpOutcome { streamed, exited }
    }
}

/// psql loading a restore. `kill_on_drop`: dropped before `end`, it is killed.
struct NativePsql {
    child: tokio::process::Child,
    stdin: Option<tokio::process::ChildStdin>,
    ready: Option<tokio::sync::oneshot::Receiver<()>>,
    stderr: tokio::task::JoinHandle<String>,
}

#[async_trait]
impl DumpSink for NativePsql {
    async fn write(&mut self, data: Bytes) -> std::io::Result<()> {
        let stdin = self
            .stdin
            .as_mut()
            .ok_or_else(|| std::io::Error::other("psql's input is closed"))?;
        stdin.write_all(&data).await?;
        stdin.flush().await
    }
}

#[async_trait]
impl PsqlLoad for NativePsql {
    async fn caught_up(&mut self) -> bool {
        match self.ready.take() {
            Some(ready) => ready.await.is_ok(),
            None => false,
        }
    }

    async fn end(mut self: Box<Self>, finish: bool) -> Result<ProcessExit> {
        if !finish {
            // Before its input closes: at the end of its input psql would still run the
            // statement left unfinished in its buffer.
            let _ = self.child.start_kill();
        }
        // Closing stdin without COMMIT ends psql's session and rolls the transaction back.
        drop(self.stdin.take());
        let status = self
            .child
            .wait()
            .await
            .map_err(|e| Error::database(format!("waiting for psql: {e}")))?;
        let stderr = (&mut self.stderr).await.unwrap_or_default();
        Ok(ProcessExit {
            success: status.success(),
            status: status.to_string(),
            stderr,
        })
    }
}
