//! Clearing what unfinished backups leave behind: staged temp files, open multipart uploads,
//! and objects of backups that never got their manifest. Never touches a backup that has one,
//! and never one that may still be running: only what is older than the grace period, or whose
//! marker names a process known to be gone (see `marker`).

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use std::collections::BTreeMap;

use crate::error::{ErrorKind, Result};
use crate::host::host;
use crate::listing::Snapshot;
use crate::marker::{abandoned, Marker, MAX_MARKER_BYTES};
use crate::naming::{BackupName, Part};
use crate::store::Store;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS), ts(rename_all = "camelCase"))]
pub struct Leftovers {
    /// Keys whose unfinished uploads were discarded.
    pub aborted_uploads: Vec<String>,
    /// Ids of never-finished backups whose objects were deleted.
    pub removed_backups: Vec<String>,
}

/// Clears abandoned leftovers of `plugin_id`'s backups (every plugin's when `None`).
pub async fn clear_leftovers(
    store: &dyn Store,
    plugin_id: Option<&str>,
    grace: Duration,
    now: DateTime<Utc>,
) -> Result<Leftovers> {
    find_leftovers(store, plugin_id, grace, now, true).await
}

/// The marker of `name`, if it has a readable one. A marker deleted meanwhile, unreadable or
/// planted reads as none: then only the grace period can clear the backup.
pub async fn read_marker(store: &dyn Store, name: &BackupName) -> Result<Option<Marker>> {
    match store
        .get_small(&name.key(Part::Marker), MAX_MARKER_BYTES)
        .await
    {
        Ok(bytes) => Ok(Marker::parse(&bytes)),
        Err(e) if e.kind() == ErrorKind::NotFound || e.kind() == ErrorKind::Integrity => Ok(None),
        Err(e) => Err(e),
    }
}

/// Finds leftovers as `clear_leftovers` would, and clears them only when `apply` (dry runs).
pub async fn find_leftovers(
    store: &dyn Store,
    plugin_id: Option<&str>,
    grace: Duration,
    now: DateTime<Utc>,
    apply: bool,
) -> Result<Leftovers> {
    let snapshot = Snapshot::take(store).await?;
    find_leftovers_in(store, &snapshot, plugin_id, grace, now, apply).await
}

/// As `find_leftovers`, judged from a listing already taken (a backup reuses the one it took to
/// reserve its name: one LIST of objects and one of uploads per backup).
pub async fn find_leftovers_in(
    store: &dyn Store,
    snapshot: &Snapshot,
    plugin_id: Option<&str>,
    grace: Duration,
    now: DateTime<Utc>,
    apply: bool,
) -> Result<Leftovers> {
    let host = host();
    let here = host.this_process();
    let ours = |name: &BackupName| plugin_id.is_none_or(|p| name.plugin_id == p);
    // Which unfinished backups are abandoned, judged once per backup (one marker read each).
    let mut verdicts: BTreeMap<BackupName, bool> = BTreeMap::new();
    let mut judge = async |name: &BackupName, started: DateTime<Utc>| -> Result<bool> {
        if let Some(&verdict) = verdicts.get(name) {
            if verdict || started <= now - grace {
                return Ok(true);
            }
            return Ok(verdict);
        }
        let marker = if started <= now - grace {
            None
        } else {
            read_marker(store, name).await?
        };
        let verdict = abandoned(started, marker.as_ref(), grace, now, Some(&here), |pid| {
            host.pid_alive(pid)
        });
        verdicts.insert(name.clone(), verdict);
        Ok(verdict)
    };
    let mut cleared = Leftovers::default();
    for pending in &snapshot.pending {
        let Some((name, _)) = BackupName::parse_key(&pending.key) else {
            continue;
        };
        // A store that knows when the upload began says so; a later start means younger.
        let started = pending.started.unwrap_or(name.taken_at).max(name.taken_at);
        if ours(&name) && judge(&name, started).await? {
            if apply {
                store.abort_pending(pending).await?;
            }
            cleared.aborted_uploads.push(pending.key.clone());
        }
    }
    // From the listing alone, but for the markers of young unfinished backups: every backup
    // runs this, and reading each manifest would cost one GET per backup in the store.
    for (name, objects) in snapshot.groups() {
        if !objects.is_unfinished() || !ours(&name) || !judge(&name, name.taken_at).await? {
            continue;
        }
        if apply {
            // The marker goes last, so an interrupted clean-up is still seen as incomplete.
            delete_parts(store, &name, &Part::DELETION_ORDER).await?;
        }
        cleared.removed_backups.push(name.id());
    }
    Ok(cleared)
}

/// Deletes a backup's objects in the order given (`Part::DELETION_ORDER` for a whole backup).
pub async fn delete_parts(store: &dyn Store, name: &BackupName, parts: &[Part]) -> Result<()> {
    for part in parts {
        store.delete(&name.key(*part)).await?;
    }
    Ok(())
}
