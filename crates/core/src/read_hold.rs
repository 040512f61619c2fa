//! Read holds: a backup being read (verify, drill, restore, download) is marked by a small
//! object in the store, and prune spares every backup with a live hold. Without them a prune
//! (a CronJob, the plugin's schedule) could delete a backup while a drill reads it, and the
//! drill would report a good backup as broken, or a restore would fail half-way.
//!
//! The protocol, safe on a strongly consistent store (a local folder, S3):
//! - a reader writes its hold, then waits while a prune holds the store lock (that prune may
//!   have listed the holds before this one existed), then finds its backup again;
//! - prune takes the store lock, then lists the holds, so it sees every hold written before.
//!
//! A reader that dies leaves its hold until it expires ([`HOLD_TTL_HOURS`]): its backup is only
//! kept a while longer. Prune removes expired holds.

use chrono::{DateTime, TimeZone, Utc};

/// Not a backup name (no `.sql.gz`), so listing never sees a hold.
pub const HOLD_PREFIX: &str = "backstage-backup.reading.";

/// Longer than any read; the holder deletes its hold as soon as it is done.
pub const HOLD_TTL_HOURS: i64 = 24;

/// One hold, as its object key spells it:
/// `backstage-backup.reading.<backup id>.<expires, unix seconds>.<purpose>.<token>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadHold {
    pub key: String,
    pub backup_id: String,
    pub purpose: String,
    pub expires_at: DateTime<Utc>,
}

impl ReadHold {
    pub fn new(backup_id: &str, purpose: &str, expires_at: DateTime<Utc>, token: &str) -> Self {
        ReadHold {
            key: format!(
                "{HOLD_PREFIX}{backup_id}.{}.{purpose}.{token}",
                expires_at.timestamp()
            ),
            backup_id: backup_id.to_string(),
            purpose: purpose.to_string(),
            expires_at,
        }
    }

    /// The hold an object key names, if it is one.
    pub fn parse(key: &str) -> Option<Self> {
        let rest = key.strip_prefix(HOLD_PREFIX)?;
        let mut fields = rest.rsplitn(4, '.');
        let (_token, purpose, expires, backup_id) = (
            fields.next()?,
            fields.next()?,
            fields.next()?,
            fields.next()?,
        );
        if backup_id.is_empty() || purpose.is_empty() {
            return None;
        }
        let expires_at = Utc.timestamp_opt(expires.parse().ok()?, 0).single()?;
        Some(ReadHold {
            key: key.to_string(),
            backup_id: backup_id.to_string(),
            purpose: purpose.to_string(),
            expires_at,
        })
    }

    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        self.expires_at > now
    }
}

/// The holds among a listing's keys, split into live and expired.
pub fn holds_in<'a>(
    keys: impl IntoIterator<Item = &'a str>,
    now: DateTime<Utc>,
) -> (Vec<ReadHold>, Vec<ReadHold>) {
    keys.into_iter()
        .filter_map(ReadHold::parse)
        .partition(|hold| hold.is_live(now))
}

#[cfg(feature = "ops")]
pub use io::{hold_backup, Hold};

#[cfg(feature = "ops")]
mod io {
    use bytes::Bytes;
    use chrono::Duration;
    use tokio_util::sync::CancellationToken;

    use super::{ReadHold, HOLD_TTL_HOURS};
    use crate::error::{Error, ErrorKind, Result};
    use crate::listing::{find_backup_for, BackupEntry};
    use crate::store::Store;
    use crate::store_lock;

    /// A hold this process wrote; [`Hold::release`] deletes it.
    #[derive(Debug, Default)]
    #[must_use = "release the hold when the read is done"]
    pub struct Hold {
        /// None when the store would not take the hold (read-only credentials).
        key: Option<String>,
    }

    impl Hold {
        /// No hold: for reads of files outside any store.
        pub fn none() -> Self {
            Hold::default()
        }

        /// Deletes the hold. A failure is not the read's failure.
        pub async fn release(self, store: &dyn Store) {
            if let Some(key) = self.key {
                // Left behind, it expires within HOLD_TTL_HOURS and the next prune removes it.
                let _ = store.delete(&key).await;
            }
        }
    }

    /// Finds the backup `selector` names and holds it against prune for `purpose` (`verify`,
    /// `drill`, `restore`, `download`). Waits while a prune runs; then `latest` is looked up
    /// again (the prune may have changed which backup that is), and an id that prune deleted
    /// is NotFound. A store that refuses the hold (no write permission) is read unheld.
    pub async fn hold_backup(
        store: &dyn Store,
        selector: &str,
        plugin_hint: Option<&str>,
        purpose: &str,
        cancel: &CancellationToken,
    ) -> Result<(BackupEntry, Hold)> {
        let mut entry = find_backup_for(store, selector, plugin_hint).await?;
        // Each lap follows a prune that changed what `latest` is; prunes are rare and short.
        for _ in 0..3 {
            let Some(hold) = write_hold(store, &entry.id(), purpose).await else {
                return Ok((entry, Hold::none()));
            };
            let waited = match wait_for_prune(store, cancel).await {
                Ok(waited) => waited,
                Err(err) => {
                    hold.release(store).await;
                    return Err(err);
                }
            };
            if !waited {
                return Ok((entry, hold));
            }
            // A prune ran while the hold was written: it may not have seen it.
            match find_backup_for(store, selector, plugin_hint).await {
                Ok(now) if now.id() == entry.id() => return Ok((now, hold)),
                Ok(now) => {
                    hold.release(store).await;
                    entry = now;
                }
                Err(err) => {
                    hold.release(store).await;
                    return Err(
                        if err.kind() == ErrorKind::NotFound && selector != "latest" {
                            Error::not_found(format!(
                                "{} was deleted by a prune that ran as this {purpose} started; \
                             `backstage-backup list` shows what is left",
                                entry.id()
                            ))
                        } else {
                            err
                        },
                    );
                }
            }
        }
        Err(Error::new(
            ErrorKind::Locked,
            format!(
                "prunes of {} keep deleting the backup this {purpose} picks; try again when \
                 they are done",
                store.describe()
            ),
        ))
    }

    /// Writes a hold on `backup_id`; None when the store refuses it.
    async fn write_hold(store: &dyn Store, backup_id: &str, purpose: &str) -> Option<Hold> {
        let host = crate::host::host();
        let now = host.now();
        let token = crate::host::process_token();
        let hold = ReadHold::new(
            backup_id,
            purpose,
            now + Duration::hours(HOLD_TTL_HOURS),
            &token,
        );
        let body = serde_json::json!({
            "backup": backup_id,
            "purpose": purpose,
            "pid": host.this_process().pid,
            "acquired_at": now,
            "expires_at": hold.expires_at,
        });
        // Read-only credentials must still verify and restore (disaster recovery often runs
        // with them): without a hold the read goes on unprotected, as before holds existed.
        // A store that is down fails the read itself a moment later.
        store
            .put_new(&hold.key, Bytes::from(body.to_string()))
            .await
            .ok()?;
        Some(Hold {
            key: Some(hold.key),
        })
    }

    /// Waits until no live prune holds the store lock; true if one did.
    async fn wait_for_prune(store: &dyn Store, cancel: &CancellationToken) -> Result<bool> {
        let host = crate::host::host();
        let mut waited = false;
        loop {
            match store_lock::holder(store).await? {
                Some(expires_at) if expires_at > host.now() => waited = true,
                _ => return Ok(waited),
            }
            tokio::select! {
                _ = cancel.cancelled() => return Err(Error::cancelled()),
                _ = host.sleep(std::time::Duration::from_millis(250)) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hold_key_round_trips() {
        let expires = Utc.with_ymd_and_hms(2026, 11, 26, 2, 0, 0).unwrap();
        let hold = ReadHold::new(
            "backstage-catalog-20261125_020000",
            "drill",
            expires,
            "42-7",
        );
        assert_eq!(
            hold.key,
            "backstage-backup.reading.backstage-catalog-20261125_020000.1795658400.drill.42-7"
        );
        assert_eq!(ReadHold::parse(&hold.key), Some(hold));
    }

    #[test]
    fn other_keys_are_not_holds() {
        for key in [
            "backstage-backup.lock",
            "backstage-catalog-20261125_020000.sql.gz",
            "backstage-backup.reading.",
            "backstage-backup.reading.x.notanumber.drill.1",
            "backstage-backup.reading.x.1.drill",
        ] {
            assert_eq!(ReadHold::parse(key), None, "{key}");
        }
    }

    #[test]
    fn holds_split_by_expiry() {
        let now = Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0).unwrap();
        let live = ReadHold::new("a", "verify", now + chrono::Duration::seconds(1), "1");
        let expired = ReadHold::new("b", "verify", now, "2");
        let (l, e) = holds_in(
            [
                live.key.as_str(),
                expired.key.as_str(),
                "backstage-x.sql.gz",
            ],
            now,
        );
        assert_eq!((l, e), (vec![live], vec![expired]));
    }
}
