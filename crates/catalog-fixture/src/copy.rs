//! Streaming `COPY ... FROM STDIN` (text format): rows are encoded on a
//! blocking thread into ~1 MiB chunks and sent through a small bounded
//! channel, so memory stays bounded whatever the table size and generation
//! overlaps with the server's work.

use anyhow::{anyhow, Context, Result};
use bytes::Bytes;
use futures::SinkExt;
use tokio::sync::mpsc;

const CHUNK: usize = 1 << 20;
const CHANNEL_DEPTH: usize = 4;

/// Writes rows in COPY text format and hands full chunks to the loader.
pub struct RowWriter {
    buf: Vec<u8>,
    tx: mpsc::Sender<Bytes>,
    rows: u64,
}

impl RowWriter {
    /// One row; `None` is SQL NULL.
    pub fn row(&mut self, fields: &[Option<&str>]) -> Result<()> {
        for (i, field) in fields.iter().enumerate() {
            if i > 0 {
                self.buf.push(b'\t');
            }
            match field {
                None => self.buf.extend_from_slice(b"\\N"),
                Some(text) => escape_into(text, &mut self.buf),
            }
        }
        self.buf.push(b'\n');
        self.rows += 1;
        if self.buf.len() >= CHUNK {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(
            &mut self.buf,
            Vec::with_capacity(CHUNK + 64 * 1024),
        ));
        self.tx
            .blocking_send(chunk)
            .map_err(|_| anyhow!("COPY stream closed by the loader"))
    }
}

/// Escapes `text` for the COPY text format.
pub fn escape_into(text: &str, out: &mut Vec<u8>) {
    for &b in text.as_bytes() {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0b => out.extend_from_slice(b"\\v"),
            0x0c => out.extend_from_slice(b"\\f"),
            _ => out.push(b),
        }
    }
}

/// Runs `copy_sql` (a `COPY ... FROM STDIN`) fed by `generate`, which runs on
/// a blocking thread. Returns the number of rows written.
pub async fn copy_in<F>(client: &tokio_postgres::Client, copy_sql: &str, generate: F) -> Result<u64>
where
    F: FnOnce(&mut RowWriter) -> Result<()> + Send + 'static,
{
    let (tx, mut rx) = mpsc::channel::<Bytes>(CHANNEL_DEPTH);
    let producer = tokio::task::spawn_blocking(move || -> Result<u64> {
        let mut w = RowWriter {
            buf: Vec::with_capacity(CHUNK + 64 * 1024),
            tx,
            rows: 0,
        };
        generate(&mut w)?;
        w.flush()?;
        Ok(w.rows)
    });
    let load = async {
        let sink = client
            .copy_in::<_, Bytes>(copy_sql)
            .await
            .with_context(|| format!("starting {copy_sql}"))?;
        futures::pin_mut!(sink);
        while let Some(chunk) = rx.recv().await {
            sink.send(chunk)
                .await
                .with_context(|| format!("streaming {copy_sql}"))?;
        }
        sink.finish()
            .await
            .with_context(|| format!("finishing {copy_sql}"))
    };
    let loaded = load.await;
    // On a load error the receiver is gone here, so the producer stops too.
    drop(rx);
    let produced = producer.await.context("row generator panicked")?;
    let server_rows = loaded?;
    let rows = produced?;
    debug_assert_eq!(rows, server_rows);
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::escape_into;

    #[test]
    fn escapes_copy_specials() {
        let mut out = Vec::new();
        escape_into("a\\b\tc\nd\re", &mut out);
        assert_eq!(out, b"a\\\\b\\tc\\nd\\re");
    }
}
