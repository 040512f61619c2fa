//! A backup's name, reserved before anything else is written: its marker is created only if
//! absent, so of two backups that pick the same one-second name exactly one owns it, and a
//! finished twin's objects show in the listing taken after the marker exists.

use bytes::Bytes;

use crate::error::{Error, ErrorKind, Result};
use crate::host::host;
use crate::leftovers::read_marker;
use crate::listing::Snapshot;
use crate::marker::Marker;
use crate::naming::{BackupName, Part};
use crate::store::Store;

/// Seconds (names) a backup tries before giving up: enough for a handful started at once.
const NAME_ATTEMPTS: usize = 8;

/// A name reserved for one backup: its marker is in the store, and no other object carries it.
#[derive(Debug, Clone)]
pub struct Reservation {
    pub name: BackupName,
    pub marker: Marker,
    /// The store as listed just after the marker was created.
    pub snapshot: Snapshot,
}

/// Reserves a name for a backup of `plugin_id` (names have one-second resolution).
pub async fn reserve_name(store: &dyn Store, plugin_id: &str) -> Result<Reservation> {
    let host = host();
    let owner = host.this_process();
    for _ in 0..NAME_ATTEMPTS {
        let now = host.now();
        let name = BackupName::new(plugin_id, now)?;
        let marker = Marker {
            started_at: now,
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            token: host.random_token(),
            owner: Some(owner.clone()),
        };
        let created = store
            .put_new(&name.key(Part::Marker), Bytes::from(marker.to_json()))
            .await;
        match created {
            Ok(()) => {
                // Checked after the marker exists: a twin that finished before it was created
                // has its manifest listed by now; one that finishes later lost the marker race.
                let snapshot = Snapshot::take(store).await?;
                let others = snapshot.groups().get(&name).is_some_and(|objects| {
                    objects.pending || objects.objects.keys().any(|&part| part != Part::Marker)
                });
                let reservation = Reservation {
                    name,
                    marker,
                    snapshot,
                };
                if !others {
                    return Ok(reservation);
                }
                reservation.release(store).await;
            }
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
        let into_second = host.now().timestamp_subsec_millis().min(999) as u64;
        host.sleep(std::time::Duration::from_millis(1000 - into_second))
            .await;
    }
    Err(Error::new(
        ErrorKind::AlreadyExists,
        format!(
            "{NAME_ATTEMPTS} seconds in a row found their name taken by another backup of this \
             database; other backups may be running: try again when they are done"
        ),
    ))
}

impl Reservation {
    /// Deletes the marker only while it is still the one this backup wrote (its token): a
    /// clean-up that judged this backup abandoned may have let another take the name.
    pub async fn release(&self, store: &dyn Store) {
        if let Ok(Some(found)) = read_marker(store, &self.name).await {
            if found.token == self.marker.token {
                let _ = store.delete(&self.name.key(Part::Marker)).await;
            }
        }
    }
}
