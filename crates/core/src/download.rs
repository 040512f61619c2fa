//! A backup's stored `.sql.gz` read out whole (the plugin's download route, `engine.openRead`),
//! written once for both engines: held against prune while it is read, admitted by the same
//! signatures as a restore (a download is a restore by hand), and read in bounded chunks so a
//! slow client slows the store read down.

use tokio::io::AsyncReadExt;

use crate::error::{Error, Result};
use crate::listing::OpenedBackup;
use crate::read_hold::{hold_backup, Hold};
use crate::signing::Trust;
use crate::store::{ObjectReader, Store};
use crate::CancellationToken;

/// At most this much is read per chunk.
const CHUNK: usize = 1 << 20;

/// An opened data object. Its hold goes with `release`, or with `take_hold` for an engine that
/// releases it elsewhere (a reader dropped from JS).
pub struct Download {
    pub opened: OpenedBackup,
    reader: ObjectReader,
    remaining: u64,
    hold: Option<Hold>,
}

/// Finds the backup `selector` names, holds it and opens its data object.
pub async fn open_download(store: &dyn Store, selector: &str, trust: &Trust) -> Result<Download> {
    let (entry, hold) =
        hold_backup(store, selector, None, "download", &CancellationToken::new()).await?;
    let key = entry.data_key();
    let opened = match trust.admit(&entry) {
        Ok(_) => store.get(&key).await,
        Err(err) => Err(err),
    };
    let (reader, bytes) = match opened {
        Ok(opened) => opened,
        Err(err) => {
            hold.release(store).await;
            return Err(err);
        }
    };
    Ok(Download {
        opened: OpenedBackup {
            id: entry.id(),
            file_name: key.rsplit('/').next().unwrap_or(&key).to_string(),
            bytes,
            summary: entry.summary(trust),
        },
        reader,
        remaining: bytes,
        hold: Some(hold),
    })
}

impl Download {
    /// The next chunk (up to 1 MiB), or None at the end. An object that ends before the size
    /// the store gave is `Integrity`: it changed or broke while it was read.
    pub async fn next_chunk(&mut self) -> Result<Option<Vec<u8>>> {
        if self.remaining == 0 {
            return Ok(None);
        }
        let want = CHUNK.min(usize::try_from(self.remaining).unwrap_or(CHUNK));
        let mut chunk = vec![0u8; want];
        let mut filled = 0;
        while filled < want {
            let n = self
                .reader
                .read(&mut chunk[filled..])
                .await
                .map_err(|e| Error::store(format!("reading the backup failed: {e}")))?;
            if n == 0 {
                return Err(Error::integrity(format!(
                    "the stored object ended {} bytes early",
                    self.remaining - filled as u64
                )));
            }
            filled += n;
        }
        self.remaining -= filled as u64;
        Ok(Some(chunk))
    }

    /// Lets the backup go.
    pub async fn release(mut self, store: &dyn Store) {
        if let Some(hold) = self.hold.take() {
            hold.release(store).await;
        }
    }

    /// The hold, for an engine that releases it when its reader goes.
    pub fn take_hold(&mut self) -> Option<Hold> {
        self.hold.take()
    }
}
