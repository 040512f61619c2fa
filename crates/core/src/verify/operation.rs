use std::io::Write;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use super::stream::{problems, Expectations, StreamCheck, StreamVerifier, VerifyFailure};
use crate::error::{Error, ErrorKind, Result};
use crate::listing::{BackupEntry, BackupStatus, Record};
use crate::manifest::{parse_sidecar, MAX_MANIFEST_BYTES};
use crate::naming::Part;
use crate::progress::{self, Phase, Progress};
use crate::store::Store;

const READ_CHUNK: usize = 1 << 20;

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS), ts(rename_all = "camelCase"))]
pub struct VerifyReport {
    pub id: String,
    pub name: String,
    pub status: BackupStatus,
    pub ok: bool,
    pub problems: Vec<String>,
    pub check: Option<StreamCheck>,
    pub duration_ms: u64,
    pub verified_at: DateTime<Utc>,
}

/// Streams an object through the verifier, sending the dump to `out`; checks `cancel` between
/// chunks. Natively the CPU work runs on a blocking thread; on the one thread a WebAssembly
/// host has, the verifier runs between reads.
pub async fn read_verified<W: Write + Send + 'static>(
    store: &dyn Store,
    key: &str,
    out: W,
    progress: &(dyn Progress + 'static),
    cancel: &CancellationToken,
) -> Result<Result<(StreamCheck, W), VerifyFailure>> {
    #[cfg(feature = "runtime")]
    {
        use std::io::Read;
        let (reader, total) = store.get(key).await?;
        let mut reader = tokio_util::io::SyncIoBridge::new(reader);
        let cancel = cancel.clone();
        // Progress is borrowed; report from here by polling shared counters instead of moving it.
        let (tx, mut rx) = tokio::sync::watch::channel(progress::Bytes::default());
        let task = tokio::task::spawn_blocking(
            move || -> Result<Result<(StreamCheck, W), VerifyFailure>> {
                let mut verifier = StreamVerifier::with_output(out);
                let mut buf = vec![0u8; READ_CHUNK];
                loop {
                    if cancel.is_cancelled() {
                        return Err(Error::cancelled());
                    }
                    let n = match reader.read(&mut buf) {
                        Ok(n) => n,
                        Err(e) => {
                            return Err(Error::store(format!(
                                "reading the backup from the store: {e}"
                            )))
                        }
                    };
                    if n == 0 {
                        break;
                    }
                    if let Err(failure) = verifier.push(&buf[..n]) {
                        return Ok(Err(failure));
                    }
                    let _ = tx.send(progress::Bytes {
                        raw: verifier.raw_bytes(),
                        stored: verifier.compressed_bytes(),
                        total: Some(total),
                    });
                }
                Ok(verifier.finish())
            },
        );
        let forward = async {
            while rx.changed().await.is_ok() {
                progress.bytes(*rx.borrow_and_update());
            }
        };
        let (result, ()) = tokio::join!(task, forward);
        result.map_err(|e| Error::internal(format!("verification task failed: {e}")))?
    }
    #[cfg(not(feature = "runtime"))]
    {
        use tokio::io::AsyncReadExt;
        let (mut reader, total) = store.get(key).await?;
        let mut verifier = StreamVerifier::with_output(out);
        let mut buf = vec![0u8; READ_CHUNK];
        loop {
            if cancel.is_cancelled() {
                return Err(Error::cancelled());
            }
            let n = reader
                .read(&mut buf)
                .await
                .map_err(|e| Error::store(format!("reading the backup from the store: {e}")))?;
            if n == 0 {
                break;
            }
            if let Err(failure) = verifier.push(&buf[..n]) {
                return Ok(Err(failure));
            }
            progress.bytes(progress::Bytes {
                raw: verifier.raw_bytes(),
                stored: verifier.compressed_bytes(),
                total: Some(total),
            });
        }
        Ok(verifier.finish())
    }
}

/// Where a restore's checked dump goes (psql's stdin).
#[async_trait::async_trait]
pub trait DumpSink: Send {
    /// Fails once the reader stopped reading.
    async fn write(&mut self, data: Bytes) -> std::io::Result<()>;
}

/// `read_verified`, handing the dump to an async `sink` as it is checked. A sink that stops
/// reading does not stop the check: the rest of the stream is still read, so a damaged backup
/// is reported as damaged and not as the failure the damage caused; otherwise the sink's
/// failure comes back as `Output`.
pub async fn read_verified_to(
    store: &dyn Store,
    key: &str,
    sink: &mut dyn DumpSink,
    progress: &(dyn Progress + 'static),
    cancel: &CancellationToken,
) -> Result<Result<StreamCheck, VerifyFailure>> {
    let mut stopped: Option<std::io::Error> = None;
    #[cfg(feature = "runtime")]
    let verdict = {
        // The verifier runs on a blocking thread and sends the dump here in chunks; the queue
        // is short, so a slow psql slows the reading (memory stays bounded).
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Bytes>(4);
        let outbox = Outbox {
            tx,
            buf: Vec::new(),
        };
        let verifying = read_verified(store, key, outbox, progress, cancel);
        tokio::pin!(verifying);
        let verdict = loop {
            tokio::select! {
                biased;
                Some(chunk) = rx.recv() => hand(sink, &mut stopped, chunk).await,
                verdict = &mut verifying => break verdict,
            }
        };
        // Chunks sent before the verifier ended, then what it had not sent yet.
        while let Ok(chunk) = rx.try_recv() {
            hand(sink, &mut stopped, chunk).await;
        }
        match verdict? {
            Ok((check, outbox)) => {
                hand(sink, &mut stopped, Bytes::from(outbox.buf)).await;
                Ok(check)
            }
            Err(failure) => Err(failure),
        }
    };
    #[cfg(not(feature = "runtime"))]
    let verdict = {
        // One thread: the verifier runs between reads, its output handed on after each chunk.
        use tokio::io::AsyncReadExt;
        let (mut reader, total) = store.get(key).await?;
        let mut verifier = StreamVerifier::with_output(Vec::new());
        let mut buf = vec![0u8; READ_CHUNK];
        loop {
            if cancel.is_cancelled() {
                return Err(Error::cancelled());
            }
            let n = reader
                .read(&mut buf)
                .await
                .map_err(|e| Error::store(format!("reading the backup from the store: {e}")))?;
            if n == 0 {
                break;
            }
            if let Err(failure) = verifier.push(&buf[..n]) {
                return Ok(Err(failure));
            }
            hand(
                sink,
                &mut stopped,
                Bytes::from(std::mem::take(verifier.output_mut())),
            )
            .await;
            progress.bytes(progress::Bytes {
                raw: verifier.raw_bytes(),
                stored: verifier.compressed_bytes(),
                total: Some(total),
            });
        }
        match verifier.finish() {
            Ok((check, rest)) => {
                hand(sink, &mut stopped, Bytes::from(rest)).await;
                Ok(check)
            }
            Err(failure) => Err(failure),
        }
    };
    Ok(match (verdict, stopped) {
        (Err(failure), _) => Err(failure),
        (Ok(_), Some(err)) => Err(VerifyFailure::Output(err)),
        (Ok(check), None) => Ok(check),
    })
}

/// Hands `data` on until the sink first fails; after that it is dropped.
async fn hand(sink: &mut dyn DumpSink, stopped: &mut Option<std::io::Error>, data: Bytes) {
    if stopped.is_none() && !data.is_empty() {
        if let Err(err) = sink.write(data).await {
            *stopped = Some(err);
        }
    }
}

/// The verifier's output natively: sent on in chunks of about a MiB from its blocking thread.
#[cfg(feature = "runtime")]
struct Outbox {
    tx: tokio::sync::mpsc::Sender<Bytes>,
    buf: Vec<u8>,
}

#[cfg(feature = "runtime")]
impl Write for Outbox {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= READ_CHUNK {
            let chunk = Bytes::from(std::mem::take(&mut self.buf));
            // The receiver is gone only when the restore was dropped (cancelled).
            self.tx
                .blocking_send(chunk)
                .map_err(|_| std::io::Error::other("the restore stopped"))?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Reads one object end to end and lists its problems against `expected`.
pub async fn check_object(
    store: &dyn Store,
    key: &str,
    expected: &Expectations,
    progress: &(dyn Progress + 'static),
    cancel: &CancellationToken,
) -> Result<(Vec<String>, Option<StreamCheck>)> {
    match read_verified(store, key, std::io::sink(), progress, cancel).await? {
        Ok((check, _)) => Ok((problems(&check, expected), Some(check))),
        Err(VerifyFailure::Corrupt(err)) => Ok((vec![err.to_string()], None)),
        Err(VerifyFailure::Output(err)) => {
            Err(Error::io(ErrorKind::Internal, "verify output", err))
        }
    }
}

/// Verifies one backup and records the outcome beside it (for backups this tool can name).
pub async fn verify_backup(
    store: &dyn Store,
    entry: &BackupEntry,
    trust: &crate::signing::Trust,
    progress: &(dyn Progress + 'static),
    cancel: &CancellationToken,
) -> Result<VerifyReport> {
    if let Some(refusal) = entry.refusal() {
        return Err(refusal);
    }
    trust.admit(entry)?;
    // The host's clock: wasm32 has no Instant.
    let verified_at = crate::host::host().now();
    progress.phase(Phase::Verifying);
    let mut found = Vec::new();
    let mut expected = Expectations::default();
    if let Some(manifest) = &entry.manifest {
        expected.compressed = Some(manifest.compressed.clone());
        expected.raw = Some(manifest.raw.clone());
    }
    if entry.has_sidecar {
        match store
            .get_small(&entry.name.key(Part::Sidecar), MAX_MANIFEST_BYTES)
            .await
            .and_then(|text| parse_sidecar(&text, &entry.data_key()))
        {
            Ok(hash) => expected.sidecar_sha256 = Some(hash),
            Err(err) => found.push(format!("sidecar: {err}")),
        }
    } else if entry.status == BackupStatus::Complete {
        found.push("the .sha256 sidecar is missing".to_string());
    }
    let (more, check) = check_object(store, &entry.data_key(), &expected, progress, cancel).await?;
    found.extend(more);
    let report = VerifyReport {
        id: entry.id(),
        name: entry.data_key(),
        status: entry.status,
        ok: found.is_empty(),
        problems: found,
        check,
        duration_ms: (crate::host::host().now() - verified_at)
            .num_milliseconds()
            .max(0) as u64,
        verified_at,
    };
    let record = Record {
        at: verified_at,
        ok: report.ok,
        duration_ms: report.duration_ms,
        problems: report.problems.clone(),
        extra: Default::default(),
    };
    let body = serde_json::to_vec_pretty(&record).expect("record serialises");
    if let Err(err) = store
        .put(&entry.name.key(Part::VerifyRecord), Bytes::from(body))
        .await
    {
        // The verdict stands even if it cannot be recorded (e.g. a read-only store).
        if err.kind() != ErrorKind::Store {
            return Err(err);
        }
    }
    progress.phase(Phase::Done);
    Ok(report)
}

/// What a restore's stream must match: the manifest and the sidecar, which must agree before
/// anything loads.
pub async fn expectations_of(store: &dyn Store, entry: &BackupEntry) -> Result<Expectations> {
    let mut expected = Expectations::default();
    if let Some(manifest) = &entry.manifest {
        expected.compressed = Some(manifest.compressed.clone());
        expected.raw = Some(manifest.raw.clone());
    }
    if entry.has_sidecar {
        let text = store
            .get_small(&entry.name.key(Part::Sidecar), MAX_MANIFEST_BYTES)
            .await?;
        let hash = parse_sidecar(&text, &entry.data_key())?;
        if let Some(manifest) = &entry.manifest {
            if manifest.compressed.sha256 != hash {
                return Err(Error::integrity(format!(
                    "{}: the .sha256 sidecar ({hash}) and the manifest ({}) disagree; the backup \
                     was tampered with",
                    entry.id(),
                    crate::naming::printable(&manifest.compressed.sha256)
                )));
            }
        }
        expected.sidecar_sha256 = Some(hash);
    }
    Ok(expected)
}

/// Verifies the backup `selector` names (`latest` or an id), held against prune while it is
/// read: hold, verify, release, as every engine does it.
pub async fn verify_selected(
    store: &dyn Store,
    selector: &str,
    trust: &crate::signing::Trust,
    progress: &(dyn Progress + 'static),
    cancel: &CancellationToken,
) -> Result<VerifyReport> {
    let (entry, hold) =
        crate::read_hold::hold_backup(store, selector, None, "verify", cancel).await?;
    let report = verify_backup(store, &entry, trust, progress, cancel).await;
    hold.release(store).await;
    report
}
