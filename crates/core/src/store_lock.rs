//! A lock object in the store, for operations that change a store as a whole (prune): created
//! with an atomic create-if-absent, released by its owner, and taken over once it has expired
//! (its holder died).

use bytes::Bytes;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorKind, Result};
use crate::store::Store;

/// Not a backup name, so listing and pruning never see it.
pub const LOCK_KEY: &str = "backstage-backup.lock";

#[derive(Debug, Clone, Serialize, Deserialize)]
struct LockBody {
    token: String,
    purpose: String,
    pid: u32,
    acquired_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
}

pub struct StoreLock<'a> {
    store: &'a dyn Store,
    token: String,
}

impl std::fmt::Debug for StoreLock<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "StoreLock({})", self.token)
    }
}

async fn read(store: &dyn Store) -> Result<Option<LockBody>> {
    match store.get_small(LOCK_KEY, 64 << 10).await {
        Ok(bytes) => Ok(serde_json::from_slice(&bytes).ok()),
        Err(err) if err.kind() == ErrorKind::NotFound => Ok(None),
        Err(err) => Err(err),
    }
}

/// When the store lock held now expires (None when nobody holds it).
pub async fn holder(store: &dyn Store) -> Result<Option<DateTime<Utc>>> {
    Ok(read(store).await?.map(|held| held.expires_at))
}

/// Takes the store lock for `ttl`; `Locked` while another live holder has it.
pub async fn acquire<'a>(
    store: &'a dyn Store,
    purpose: &str,
    ttl: Duration,
) -> Result<StoreLock<'a>> {
    let host = crate::host::host();
    let now = host.now();
    let body = LockBody {
        token: crate::host::process_token(),
        purpose: purpose.to_string(),
        pid: host.this_process().pid,
        acquired_at: now,
        expires_at: now + ttl,
    };
    let bytes = Bytes::from(serde_json::to_vec(&body).expect("lock serialises"));
    for _ in 0..2 {
        match store.put_new(LOCK_KEY, bytes.clone()).await {
            Ok(()) => {
                return Ok(StoreLock {
                    store,
                    token: body.token,
                })
            }
            Err(err) if err.kind() == ErrorKind::AlreadyExists => {}
            Err(err) => return Err(err),
        }
        match read(store).await? {
            // Expired or unreadable: its holder is gone; take it over.
            Some(held) if held.expires_at > host.now() => {
                return Err(Error::new(
                    ErrorKind::Locked,
                    format!(
                    "another {} (pid {}, since {}) holds the lock on {}; wait for it, or delete \
                         {LOCK_KEY} there if that process is gone (the lock expires at {})",
                    held.purpose,
                    held.pid,
                    held.acquired_at.format("%Y-%m-%d %H:%M:%S UTC"),
                    store.describe(),
                    held.expires_at.format("%Y-%m-%d %H:%M:%S UTC"),
                ),
                ))
            }
            _ => store.delete(LOCK_KEY).await?,
        }
    }
    Err(Error::new(
        ErrorKind::Locked,
        format!(
            "could not take the lock on {}: another process keeps taking it",
            store.describe()
        ),
    ))
}

impl StoreLock<'_> {
    /// Releases the lock if it is still ours.
    pub async fn release(self) -> Result<()> {
        match read(self.store).await? {
            Some(held) if held.token == self.token => self.store.delete(LOCK_KEY).await,
            _ => Ok(()),
        }
    }
}
