//! Prune: applies a retention policy to the store. Deletes only complete backups made by this
//! tool (never legacy files or anything else under the prefix), never the newest verified one,
//! removes each backup's manifest first so a half-pruned backup is never shown as complete, and
//! clears leftovers of unfinished backups older than a grace period. Spares backups being read
//! (see `read_hold`).

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::duration::HumanDuration;
use crate::error::{Error, Result};
use crate::leftovers::{delete_parts, find_leftovers, Leftovers};
use crate::listing::list_backups_in;
use crate::naming::Part;
use crate::read_hold::holds_in;
use crate::retention::{plan_listing, Decision, RetentionPolicy};
use crate::store::Store;
use crate::store_lock;

#[derive(Debug, Clone)]
pub struct PruneOptions {
    pub policy: RetentionPolicy,
    pub dry_run: bool,
    /// Unfinished backups younger than this may still be running; leave them.
    pub leftover_grace: Duration,
    /// Backups it refuses are counted apart from the good ones (see `plan_listing`).
    pub trust: crate::signing::Trust,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS), ts(rename_all = "camelCase"))]
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

/// A prune as the engines ask for it (JSON, camelCase): the retention policy's own fields
/// (core's `RetentionPolicy`, declared once), `dryRun` and `grace`. One parser for napi and wasm.
#[derive(Debug, Clone, Default)]
#[cfg_attr(
    test,
    derive(ts_rs::TS),
    ts(rename = "PruneOptions", rename_all = "camelCase", optional_fields)
)]
pub struct PruneRequest {
    #[cfg_attr(test, ts(flatten))]
    pub policy: RetentionPolicy,
    /// Report every decision, delete nothing.
    pub dry_run: Option<bool>,
    /// Unfinished backups younger than this are left alone (default `1d`).
    #[cfg_attr(test, ts(as = "Option<String>"))]
    pub grace: Option<HumanDuration>,
}

const PRUNE_FIELDS: &str =
    "keepLast, keepDaily, keepWeekly, keepMonthly, keepWithin, dryRun, grace";

impl PruneRequest {
    pub fn from_json(value: serde_json::Value) -> Result<PruneRequest> {
        let invalid = |what: String| {
            Error::invalid(format!(
                "prune options: {}; known: {PRUNE_FIELDS}",
                crate::naming::printable(&what)
            ))
        };
        let serde_json::Value::Object(mut fields) = value else {
            return Err(invalid("not an object".into()));
        };
        let mut take = |name: &str| fields.remove(name).filter(|v| !v.is_null());
        let dry_run = take("dryRun")
            .map(|v| {
                v.as_bool()
                    .ok_or_else(|| invalid("dryRun must be true or false".into()))
            })
            .transpose()?;
        let grace = take("grace")
            .map(|v| {
                serde_json::from_value::<HumanDuration>(v)
                    .map_err(|e| invalid(format!("grace: {e}")))
            })
            .transpose()?;
        // The rest is the policy: its fields, each named in what goes wrong (`keepLast: …`).
        let policy: RetentionPolicy =
            serde_path_to_error::deserialize(serde_json::Value::Object(fields)).map_err(|e| {
                let path = e.path().to_string();
                let inner = e.into_inner().to_string();
                invalid(if path == "." {
                    inner
                } else {
                    format!("{path}: {inner}")
                })
            })?;
        Ok(PruneRequest {
            policy,
            dry_run,
            grace,
        })
    }

    /// The options, checked: a policy that keeps nothing is refused.
    pub fn options(&self, trust: crate::signing::Trust) -> Result<PruneOptions> {
        self.policy.validate()?;
        Ok(PruneOptions {
            policy: self.policy.clone(),
            dry_run: self.dry_run.unwrap_or(false),
            leftover_grace: self
                .grace
                .map_or(Duration::hours(crate::marker::DEFAULT_GRACE_HOURS), |g| g.0),
            trust,
        })
    }
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
    // Listed after the lock is taken: every reader that wrote its hold before sees this prune
    // running and waits; every other hold is in this listing. One LIST for holds and backups.
    let objects = store.list().await?;
    let (holds, expired) = holds_in(objects.iter().map(|o| o.key.as_str()), now);
    let entries = list_backups_in(store, objects).await?;
    let mut plan = plan_listing(&entries, &options.policy, now, &options.trust)?;
    plan.spare_held(&holds, now);
    if !options.dry_run {
        for hold in &expired {
            store.delete(&hold.key).await?;
        }
    }
    let mut deleted = Vec::new();
    for entry in &plan.delete {
        if !options.dry_run {
            // Manifest first: from here on the backup lists as incomplete, never as good.
            delete_parts(store, &entry.name, &Part::DELETION_ORDER).await?;
        }
        deleted.push(entry.id());
    }
    let leftovers =
        find_leftovers(store, None, options.leftover_grace, now, !options.dry_run).await?;
    Ok(PruneReport {
        dry_run: options.dry_run,
        decisions: plan.decisions,
        deleted,
        freed_bytes: plan.freed_bytes,
        untouched: plan.untouched,
        leftovers,
    })
}
