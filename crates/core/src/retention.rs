//! Which backups prune keeps: restic's `forget` rules (`--keep-last`, `--keep-daily`, …), which
//! platform teams already know, plus two safety rules of our own.
//!
//! The decision is a pure function of the backups, the policy and `now`, so the CLI, the
//! plugin and a dry run all agree, and tests need no clock.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::duration::HumanDuration;
use crate::error::{Error, Result};

/// Counts above this are typos, not policies: 100000 daily backups span 273 years.
pub const MAX_COUNT: u32 = 100_000;

const EMPTY_POLICY: &str = "no retention rule given: pass at least one of --keep-last, --keep-daily, --keep-weekly, --keep-monthly, --keep-within";
const ZERO_POLICY: &str = "every retention rule given is zero, so the policy keeps nothing: give \
     at least one rule a count of 1 or more (e.g. --keep-last 7) or a --keep-within longer than 0";
const FUTURE: &str = "in the future: clock skew?";
const NEWEST_VERIFIED: &str = "newest verified backup";
const NEWEST_UNVERIFIED: &str = "newest backup (none verified)";

/// What to keep; one struct serves the library, CLI flags and config files. A backup is kept
/// if any rule keeps it. `Some(0)` is a rule that keeps nothing; `None` is no rule.
/// JSON (the engines' prune options, the plugin's `backup.retention`) is camelCase.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
#[cfg_attr(test, derive(ts_rs::TS), ts(optional_fields))]
pub struct RetentionPolicy {
    /// Keep the N newest backups.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "clap", arg(long, value_name = "N"))]
    pub keep_last: Option<u32>,
    /// Keep the newest backup of each of the N newest UTC days that have one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "clap", arg(long, value_name = "N"))]
    pub keep_daily: Option<u32>,
    /// Keep the newest backup of each of the N newest ISO weeks that have one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "clap", arg(long, value_name = "N"))]
    pub keep_weekly: Option<u32>,
    /// Keep the newest backup of each of the N newest UTC months that have one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "clap", arg(long, value_name = "N"))]
    pub keep_monthly: Option<u32>,
    /// Keep every backup younger than this (e.g. 30d, 2w, 36h).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "clap", arg(long, value_name = "DURATION"))]
    #[cfg_attr(test, ts(as = "Option<String>"))]
    pub keep_within: Option<HumanDuration>,
}

impl RetentionPolicy {
    /// True when no rule is given; such a policy is refused rather than read as "delete all".
    pub fn is_empty(&self) -> bool {
        self == &RetentionPolicy::default()
    }

    /// Refuses an empty policy and values that can only be mistakes.
    pub fn validate(&self) -> Result<()> {
        if self.is_empty() {
            return Err(Error::invalid(EMPTY_POLICY));
        }
        let counts = [
            ("--keep-last", self.keep_last),
            ("--keep-daily", self.keep_daily),
            ("--keep-weekly", self.keep_weekly),
            ("--keep-monthly", self.keep_monthly),
        ];
        for (flag, count) in counts {
            if let Some(count) = count.filter(|c| *c > MAX_COUNT) {
                return Err(Error::invalid(format!(
                    "{flag} {count} is more than the limit of {MAX_COUNT}: give a smaller count"
                )));
            }
        }
        if let Some(within) = self.keep_within {
            // Parsed values are in range already; this catches ones built in code.
            HumanDuration::new(within.0).map_err(|err| err.context("--keep-within"))?;
        }
        // As restic does: rules that are all zero keep nothing, which is never what was meant
        // (it would delete every backup but the newest verified one).
        let keeps_something = counts.iter().any(|(_, count)| count.is_some_and(|c| c > 0))
            || self
                .keep_within
                .is_some_and(|within| within.0 > chrono::Duration::zero());
        if !keeps_something {
            return Err(Error::invalid(ZERO_POLICY));
        }
        Ok(())
    }
}

/// One backup that prune may consider (complete backups made by this tool only; the caller
/// filters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub id: String,
    /// Plugin id, e.g. `catalog`: policies apply to each group on its own.
    pub group: String,
    pub taken_at: DateTime<Utc>,
    /// The last verification passed.
    pub verified: bool,
}

/// What prune does with one backup, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS), ts(rename_all = "camelCase"))]
pub struct Decision {
    pub id: String,
    pub group: String,
    pub taken_at: DateTime<Utc>,
    pub keep: bool,
    /// Every rule that keeps the backup, e.g. `["last 3", "daily 2026-11-25"]`; empty when
    /// it is deleted.
    pub reasons: Vec<String>,
}

/// The retention decision: pure, deterministic, takes `now`. Returns one decision per
/// candidate, newest first within each group (equal times by id), groups in name order.
///
/// Besides the policy's rules, two always apply: a backup taken after `now` is kept (a
/// skewed clock must not delete it, nor let it take another rule's place), and so is the
/// newest verified backup of each group (or its newest backup, if none is verified).
///
/// ```
/// use backstage_backup_core::retention::{plan, Candidate, RetentionPolicy};
/// use chrono::{TimeZone, Utc};
///
/// let backup = |day: u32, verified: bool| Candidate {
///     id: format!("backstage-catalog-202611{day:02}_020000"),
///     group: "catalog".into(),
///     taken_at: Utc.with_ymd_and_hms(2026, 11, day, 2, 0, 0).unwrap(),
///     verified,
/// };
/// let policy = RetentionPolicy { keep_last: Some(1), ..Default::default() };
/// let now = Utc.with_ymd_and_hms(2026, 11, 30, 12, 0, 0).unwrap();
/// let decisions = plan(&[backup(28, true), backup(29, false), backup(30, false)], &policy, now)?;
///
/// let kept: Vec<_> = decisions.iter().filter(|d| d.keep).map(|d| d.id.as_str()).collect();
/// assert_eq!(kept, ["backstage-catalog-20261130_020000", "backstage-catalog-20261128_020000"]);
/// assert_eq!(decisions[2].reasons, ["newest verified backup"]);
/// # Ok::<(), backstage_backup_core::Error>(())
/// ```
pub fn plan(
    candidates: &[Candidate],
    policy: &RetentionPolicy,
    now: DateTime<Utc>,
) -> Result<Vec<Decision>> {
    policy.validate()?;
    // Ties in time are broken by id, so ids must be unique for the result to be well defined.
    let mut ids = BTreeSet::new();
    if let Some(dup) = candidates.iter().find(|c| !ids.insert(c.id.as_str())) {
        return Err(Error::invalid(format!(
            "backup '{}' is listed twice: give each candidate once",
            dup.id
        )));
    }

    let mut groups: BTreeMap<&str, Vec<&Candidate>> = BTreeMap::new();
    for candidate in candidates {
        groups.entry(&candidate.group).or_default().push(candidate);
    }
    let mut decisions = Vec::with_capacity(candidates.len());
    for mut group in groups.into_values() {
        group.sort_by(|a, b| b.taken_at.cmp(&a.taken_at).then_with(|| a.id.cmp(&b.id)));
        let reasons = group_reasons(&group, policy, now);
        decisions.extend(group.into_iter().zip(reasons).map(|(c, reasons)| Decision {
            id: c.id.clone(),
            group: c.group.clone(),
            taken_at: c.taken_at,
            keep: !reasons.is_empty(),
            reasons,
        }));
    }
    Ok(decisions)
}

/// Reasons to keep each backup of one group, sorted newest first.
fn group_reasons(
    group: &[&Candidate],
    policy: &RetentionPolicy,
    now: DateTime<Utc>,
) -> Vec<Vec<String>> {
    let mut reasons = vec![Vec::new(); group.len()];
    // Sorted newest first, so backups from the future lead; the rules below walk the rest.
    let split = group.iter().take_while(|c| c.taken_at > now).count();
    let (future, past_reasons) = reasons.split_at_mut(split);
    future.iter_mut().for_each(|r| r.push(FUTURE.to_string()));
    let past = &group[split..];

    if let Some(n) = policy.keep_last {
        for r in past_reasons.iter_mut().take(n as usize) {
            r.push(format!("last {n}"));
        }
    }
    let periods = [
        ("daily", "%Y-%m-%d", policy.keep_daily),
        ("weekly", "%G-W%V", policy.keep_weekly),
        ("monthly", "%Y-%m", policy.keep_monthly),
    ];
    for (name, format, count) in periods {
        let Some(mut left) = count else { continue };
        // restic's walk: keep a backup when its period differs from the last one this rule kept.
        let mut last_kept: Option<String> = None;
        for (c, r) in past.iter().zip(past_reasons.iter_mut()) {
            if left == 0 {
                break;
            }
            let period = c.taken_at.format(format).to_string();
            if last_kept.as_ref() != Some(&period) {
                r.push(format!("{name} {period}"));
                last_kept = Some(period);
                left -= 1;
            }
        }
    }
    if let Some(within) = policy.keep_within {
        // Out of chrono's range means "since the beginning of time": keep everything.
        let cutoff = now.checked_sub_signed(within.0);
        for (c, r) in past.iter().zip(past_reasons.iter_mut()) {
            if cutoff.is_none_or(|cutoff| c.taken_at >= cutoff) {
                r.push(format!("within {within}"));
            }
        }
    }
    // Whatever the policy, a group keeps one backup it can restore from.
    match past.iter().position(|c| c.verified) {
        Some(i) => past_reasons[i].push(NEWEST_VERIFIED.to_string()),
        None => {
            if let Some(r) = past_reasons.first_mut() {
                r.push(NEWEST_UNVERIFIED.to_string());
            }
        }
    }
    reasons
}

/// Prune's decision over a listing, before anything is deleted: shared by the engine's prune
/// and the WebAssembly engine, so both keep and delete exactly the same backups.
#[derive(Debug)]
pub struct ListingPlan<'a> {
    pub decisions: Vec<Decision>,
    /// The complete backups to delete, in decision order.
    pub delete: Vec<&'a crate::listing::BackupEntry>,
    pub freed_bytes: u64,
    /// Runbook-made (legacy) backups: listed, never deleted.
    pub untouched: Vec<String>,
}

impl ListingPlan<'_> {
    /// Keeps every backup with a live read hold: a verify, drill, restore or download is
    /// reading it. Both engines apply this after the policy.
    pub fn spare_held(&mut self, holds: &[crate::read_hold::ReadHold], now: DateTime<Utc>) {
        let live: Vec<_> = holds.iter().filter(|h| h.is_live(now)).collect();
        let mut spared_bytes = 0;
        self.delete.retain(|entry| {
            let id = entry.id();
            let readers: Vec<&str> = live
                .iter()
                .filter(|h| h.backup_id == id)
                .map(|h| h.purpose.as_str())
                .collect();
            if readers.is_empty() {
                return true;
            }
            spared_bytes += entry.bytes.unwrap_or(0);
            if let Some(decision) = self.decisions.iter_mut().find(|d| d.id == id) {
                decision.keep = true;
                decision
                    .reasons
                    .push(format!("being read ({})", readers.join(", ")));
            }
            false
        });
        self.freed_bytes -= spared_bytes;
    }
}

/// Plans a prune of `entries`: only complete backups are candidates (a verified mark counts).
/// Backups `trust` refuses (a bad signature; unsigned ones while a key is configured without
/// allow-unsigned) are counted apart, as safety backups are: planted ones never take a real
/// backup's place in `last N` or a daily slot, so they cannot get a real one deleted.
pub fn plan_listing<'a>(
    entries: &'a [crate::listing::BackupEntry],
    policy: &RetentionPolicy,
    now: DateTime<Utc>,
    trust: &crate::signing::Trust,
) -> Result<ListingPlan<'a>> {
    use crate::listing::BackupStatus;
    let complete: Vec<_> = entries
        .iter()
        .filter(|e| e.status == BackupStatus::Complete)
        .collect();
    let candidates: Vec<Candidate> = complete
        .iter()
        .map(|e| Candidate {
            id: e.id(),
            // Safety backups are kept by the same rules, counted among themselves: they never
            // take the place of a real backup in `last N` or a daily slot.
            group: if !trust.accepts(e) {
                format!("{} (refused by the signature check)", e.name.plugin_id)
            } else if e.is_safety() {
                format!("{} (safety)", e.name.plugin_id)
            } else {
                e.name.plugin_id.clone()
            },
            taken_at: e.created_at(),
            verified: e.verified.as_ref().is_some_and(|r| r.ok),
        })
        .collect();
    let decisions = plan(&candidates, policy, now)?;
    let delete: Vec<_> = decisions
        .iter()
        .filter(|d| !d.keep)
        .filter_map(|d| complete.iter().copied().find(|e| e.id() == d.id))
        .collect();
    let freed_bytes = delete.iter().map(|e| e.bytes.unwrap_or(0)).sum();
    let untouched = entries
        .iter()
        .filter(|e| e.status == BackupStatus::Legacy)
        .map(|e| e.id())
        .collect();
    Ok(ListingPlan {
        decisions,
        delete,
        freed_bytes,
        untouched,
    })
}

// The tests are most of the file; kept beside it so the rules read on one screen.
#[cfg(test)]
mod tests;
