//! Clearing what unfinished backups leave behind: staged temp files, open multipart uploads,
//! and objects of backups that never got their manifest. Never touches a backup that has one.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::error::Result;
use crate::listing::index;
use crate::naming::{BackupName, Part};
use crate::store::Store;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Leftovers {
    /// Keys whose unfinished uploads were discarded.
    pub aborted_uploads: Vec<String>,
    /// Ids of never-finished backups whose objects were deleted.
    pub removed_backups: Vec<String>,
}

/// Clears leftovers of `plugin_id`'s backups (every plugin's when `None`) older than `min_age`.
pub async fn clear_leftovers(
    store: &dyn Store,
    plugin_id: Option<&str>,
    min_age: Duration,
    now: DateTime<Utc>,
) -> Result<Leftovers> {
    find_leftovers(store, plugin_id, min_age, now, true).await
}

/// Finds leftovers as `clear_leftovers` would, and clears them only when `apply` (dry runs).
pub async fn find_leftovers(
    store: &dyn Store,
    plugin_id: Option<&str>,
    min_age: Duration,
    now: DateTime<Utc>,
    apply: bool,
) -> Result<Leftovers> {
    let cutoff = now - min_age;
    let ours = |name: &BackupName| plugin_id.is_none_or(|p| name.plugin_id == p);
    let mut cleared = Leftovers::default();
    for pending in store.pending_uploads().await? {
        let Some((name, _)) = BackupName::parse_key(&pending.key) else {
            continue;
        };
        if ours(&name) && pending.started.unwrap_or(name.taken_at) <= cutoff {
            if apply {
                store.abort_pending(&pending).await?;
            }
            cleared.aborted_uploads.push(pending.key);
        }
    }
    // From the listing alone: every backup runs this, and reading each manifest would cost
    // one GET per backup in the store.
    for (name, objects) in index(store).await? {
        if !objects.is_unfinished() || !ours(&name) || name.taken_at > cutoff {
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
