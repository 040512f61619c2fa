//! Prune: applies a retention policy to the store. Deletes only complete backups made by this
//! tool (never legacy files or anything else under the prefix), never the newest verified one,
//! removes each backup's manifest first so a half-pruned backup is never shown as complete, and
//! clears leftovers of unfinished backups older than a grace period.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::error::Result;
use crate::leftovers::{delete_parts, find_leftovers, Leftovers};
use crate::listing::{list_backups, BackupStatus};
use crate::naming::Part;
use crate::retention::{plan, Candidate, Decision, RetentionPolicy};
use crate::store::Store;
use crate::store_lock;

#[derive(Debug, Clone)]
pub struct PruneOptions {
    pub policy: RetentionPolicy,
    pub dry_run: bool,
    /// Unfinished backups younger than this may still be running; leave them.
    pub leftover_grace: Duration,
}

#[derive(Debug, Clone, Serialize)]
pub struct PruneReport {
    pub dry_run: bool,
    /// One decision per complete backup, with the reasons each kept one is kept.
    pub decisions: Vec<Decision>,
    /// Ids deleted (or, in a dry run, that would be).
    pub deleted: Vec<String>,
    pub freed_bytes: u64,
    /// Legacy backups: not made by this tool, so never pruned.
    pub untouched: Vec<String>,
    pub leftovers: Leftovers,
}

/// How long a prune may hold the store lock before others may assume it died.
const LOCK_TTL_MINUTES: i64 = 30;

pub async fn prune(
    store: &dyn Store,
    options: &PruneOptions,
    now: DateTime<Utc>,
) -> Result<PruneReport> {
    options.policy.validate()?;
    let lock = if options.dry_run {
        None
    } else {
        Some(store_lock::acquire(store, "prune", Duration::minutes(LOCK_TTL_MINUTES)).await?)
    };
    let result = run(store, options, now).await;
    if let Some(lock) = lock {
        lock.release().await?;
    }
    result
}

async fn run(store: &dyn Store, options: &PruneOptions, now: DateTime<Utc>) -> Result<PruneReport> {
    let entries = list_backups(store).await?;
    let complete: Vec<_> = entries
        .iter()
        .filter(|e| e.status == BackupStatus::Complete)
        .collect();
    let candidates: Vec<Candidate> = complete
        .iter()
        .map(|e| Candidate {
            id: e.id(),
            group: e.name.plugin_id.clone(),
            taken_at: e.created_at(),
            verified: e.verified.as_ref().is_some_and(|r| r.ok),
        })
        .collect();
    let decisions = plan(&candidates, &options.policy, now)?;
    let mut deleted = Vec::new();
    let mut freed_bytes = 0;
    for decision in decisions.iter().filter(|d| !d.keep) {
        let entry = complete
            .iter()
            .find(|e| e.id() == decision.id)
            .expect("decisions come from these entries");
        if !options.dry_run {
            // Manifest first: from here on the backup lists as incomplete, never as good.
            delete_parts(store, &entry.name, &Part::DELETION_ORDER).await?;
        }
        freed_bytes += entry.bytes.unwrap_or(0);
        deleted.push(decision.id.clone());
    }
    let leftovers =
        find_leftovers(store, None, options.leftover_grace, now, !options.dry_run).await?;
    Ok(PruneReport {
        dry_run: options.dry_run,
        decisions,
        deleted,
        freed_bytes,
        untouched: entries
            .iter()
            .filter(|e| e.status == BackupStatus::Legacy)
            .map(|e| e.id())
            .collect(),
        leftovers,
    })
}
