//! The backup operation natively: pg_dump (or a dump file) streamed through SHA-256 and
//! parallel gzip into a `BackupWriter` (backup_writer.rs), which owns the write order and its
//! clean-up for both engines: marker, data, sidecar, manifest last.

use std::io::Read;
use std::sync::Arc;

use bytes::Bytes;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::backup_writer::BackupWriter;
use crate::error::{Error, Result};
use crate::manifest::{DatabaseInfo, Manifest};
use crate::naming::validate_plugin_id;
use crate::parallel_gzip::ParallelCompressor;
use crate::pipeline::StreamDigests;
use crate::progress::{self, Phase, Progress};
use crate::source::DumpSource;
use crate::store::Store;
use crate::verify::ends_with_completion_line;

/// Compressed output is handed to the store in chunks of this size.
const CHUNK_BYTES: usize = 1 << 20;
/// pg_dump's pipe is read this much at a time.
const READ_BYTES: usize = 256 << 10;
/// Chunks waiting for the store; with the store's own buffers this bounds memory.
const CHUNKS_IN_QUEUE: usize = 4;
pub use crate::backup_writer::{BackupOptions, BackupRequest};
pub use crate::manifest::validate_label;

/// Takes a backup into `store`; returns its manifest.
pub async fn backup(
    store: &dyn Store,
    source: &DumpSource,
    options: &BackupOptions,
    progress: Arc<dyn Progress>,
    cancel: &CancellationToken,
) -> Result<Manifest> {
    // Before a dump is made for nothing.
    options.check()?;
    match source {
        #[cfg(feature = "postgres")]
        DumpSource::Database(db) => {
            let client = crate::source::native_client::NativeClient;
            crate::database_backup::backup_database(store, &client, db, options, progress, cancel)
                .await
        }
        #[cfg(not(feature = "postgres"))]
        DumpSource::Database(_) => Err(Error::invalid("this build cannot connect to PostgreSQL")),
        DumpSource::File(path) => {
            progress.phase(Phase::Connecting);
            let file = tokio::fs::File::open(path).await.map_err(|e| {
                Error::invalid(format!("cannot read the dump file {}: {e}", path.display()))
            })?;
            backup_reader(store, Box::new(file), options, progress, cancel).await
        }
        DumpSource::Stdin => {
            progress.phase(Phase::Connecting);
            backup_reader(
                store,
                Box::new(tokio::io::stdin()),
                options,
                progress,
                cancel,
            )
            .await
        }
    }
}

async fn backup_reader(
    store: &dyn Store,
    reader: Box<dyn tokio::io::AsyncRead + Send + Unpin>,
    options: &BackupOptions,
    progress: Arc<dyn Progress>,
    cancel: &CancellationToken,
) -> Result<Manifest> {
    let plugin_id = options
        .plugin_id
        .clone()
        .unwrap_or_else(|| "catalog".into());
    validate_plugin_id(&plugin_id)?;
    let database = DatabaseInfo {
        name: format!("{}{plugin_id}", crate::source::DEFAULT_PREFIX),
        plugin_id,
        host: None,
        schema: None,
        server_version: None,
        pg_dump_version: None,
        latest_migration: None,
        extra: Default::default(),
    };
    // The compression thread reads synchronously; the bridge runs this async reader for it.
    let reader = Box::new(tokio_util::io::SyncIoBridge::new(reader));
    write_backup(store, reader, database, options, progress, cancel).await
}

/// A dump from a file or stdin, written in core's one order.
async fn write_backup(
    store: &dyn Store,
    reader: Box<dyn std::io::Read + Send>,
    database: DatabaseInfo,
    options: &BackupOptions,
    progress: Arc<dyn Progress>,
    cancel: &CancellationToken,
) -> Result<Manifest> {
    let mut writer = BackupWriter::begin(store, &database.plugin_id).await?;
    progress.phase(Phase::Dumping);
    let streamed = stream_into(
        writer.upload(),
        reader,
        options.level,
        options.threads,
        &progress,
        cancel,
        None,
    )
    .await;
    // No process behind it: it ended well.
    let exited = Ok(crate::source::client::ProcessExit {
        success: true,
        ..Default::default()
    });
    let digests = match crate::database_backup::dump_verdict(streamed, exited, cancel) {
        Ok(digests) => digests,
        Err(err) => {
            writer.abandon(store).await;
            return Err(err);
        }
    };
    progress.phase(Phase::Finalizing);
    let manifest = writer
        .finish(store, database, None, options, digests)
        .await?;
    progress.phase(Phase::Done);
    Ok(manifest)
}

/// Streams `reader` through the compressor into `upload`. Returns the digests and whether the
/// dump ended with pg_dump's completion line. `dump`, the process behind `reader`, is killed
/// when the upload fails, so the compressor sees the end of its input.
pub(crate) async fn stream_into(
    upload: &mut dyn crate::store::Upload,
    mut input: Box<dyn std::io::Read + Send>,
    level: u32,
    threads: usize,
    progress: &Arc<dyn Progress>,
    cancel: &CancellationToken,
    dump: Option<&mut tokio::process::Child>,
) -> Result<(StreamDigests, bool)> {
    let (tx, mut rx) = mpsc::channel::<Bytes>(CHUNKS_IN_QUEUE);
    let thread_progress = progress.clone();
    let compress = tokio::task::spawn_blocking(move || -> Result<(StreamDigests, bool)> {
        let mut compressor = ParallelCompressor::new(level, threads);
        let mut buf = vec![0u8; READ_BYTES];
        let mut tail: Vec<u8> = Vec::new();
        let send = |compressor: &mut ParallelCompressor, chunk: Vec<u8>| -> Result<()> {
            thread_progress.bytes(progress::Bytes {
                raw: compressor.raw_bytes(),
                stored: compressor.compressed_bytes(),
                total: None,
            });
            // The receiver is gone only when the upload failed or was cancelled.
            tx.blocking_send(Bytes::from(chunk))
                .map_err(|_| Error::cancelled())
        };
        loop {
            let n = input
                .read(&mut buf)
                .map_err(|e| Error::database(format!("reading the dump: {e}")))?;
            if n == 0 {
                break;
            }
            compressor.push(&buf[..n]);
            tail.extend_from_slice(&buf[..n]);
            if tail.len() > 64 << 10 {
                tail.drain(..tail.len() - (16 << 10));
            }
            if compressor.pending() >= CHUNK_BYTES {
                let chunk = compressor.take_output();
                send(&mut compressor, chunk)?;
            }
        }
        let complete = ends_with_completion_line(&tail);
        let (last, digests) = compressor
            .finish()
            .map_err(|e| Error::internal(format!("compression failed: {e}")))?;
        thread_progress.bytes(progress::Bytes {
            raw: digests.raw.bytes,
            stored: digests.compressed.bytes,
            total: None,
        });
        tx.blocking_send(Bytes::from(last))
            .map_err(|_| Error::cancelled())?;
        Ok((digests, complete))
    });
    // `move`: when this future is dropped (failure, cancel), the receiver goes with it and
    // the compressor's next send fails instead of blocking forever.
    let uploading = async move {
        while let Some(chunk) = rx.recv().await {
            upload.write(chunk).await?;
        }
        Ok::<(), Error>(())
    };
    let uploaded = tokio::select! {
        result = uploading => result,
        _ = cancel.cancelled() => Err(Error::cancelled()),
    };
    if uploaded.is_err() {
        // The compressor may be blocked reading pg_dump: stop pg_dump so it sees EOF.
        if let Some(dump) = dump {
            let _ = dump.start_kill();
        }
    }
    let compressed = compress
        .await
        .map_err(|e| Error::internal(format!("compression task failed: {e}")))?;
    uploaded?;
    compressed
}
