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
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub struct RetentionPolicy {
    /// Keep the N newest backups.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_last: Option<u32>,
    /// Keep the newest backup of each of the N newest UTC days that have one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_daily: Option<u32>,
    /// Keep the newest backup of each of the N newest ISO weeks that have one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_weekly: Option<u32>,
    /// Keep the newest backup of each of the N newest UTC months that have one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_monthly: Option<u32>,
    /// Keep every backup taken at or after `now - keep_within`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
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

#[cfg(test)]
mod tests {
    use chrono::{Duration, NaiveDate, NaiveDateTime, TimeZone};

    use super::*;
    use crate::error::ErrorKind;

    fn at(text: &str) -> DateTime<Utc> {
        let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").unwrap();
        Utc.from_utc_datetime(&naive)
    }

    fn backup(group: &str, taken_at: DateTime<Utc>, verified: bool) -> Candidate {
        Candidate {
            id: format!("{group}-{}", taken_at.format("%Y%m%d_%H%M%S")),
            group: group.to_string(),
            taken_at,
            verified,
        }
    }

    /// One verified backup a day at `time` (e.g. "02:00:00"), from `first` to `last` inclusive.
    fn daily(group: &str, first: &str, last: &str, time: &str) -> Vec<Candidate> {
        let first = NaiveDate::parse_from_str(first, "%Y-%m-%d").unwrap();
        let last = NaiveDate::parse_from_str(last, "%Y-%m-%d").unwrap();
        first
            .iter_days()
            .take_while(|day| *day <= last)
            .map(|day| backup(group, at(&format!("{day} {time}")), true))
            .collect()
    }

    fn policy(text: &str) -> RetentionPolicy {
        serde_json::from_str(text).unwrap()
    }

    /// Kept backups as "YYYY-MM-DD HH:MM:SS", in output order.
    fn kept(decisions: &[Decision]) -> Vec<String> {
        decisions
            .iter()
            .filter(|d| d.keep)
            .map(|d| d.taken_at.format("%Y-%m-%d %H:%M:%S").to_string())
            .collect()
    }

    fn kept_days(decisions: &[Decision]) -> Vec<String> {
        kept(decisions)
            .iter()
            .map(|t| t[..10].to_string())
            .collect()
    }

    fn reasons_of<'a>(decisions: &'a [Decision], id: &str) -> &'a [String] {
        &decisions.iter().find(|d| d.id == id).unwrap().reasons
    }

    #[test]
    fn a_year_of_daily_backups() {
        // 2025-11-01 .. 2026-11-30: thirteen months, so keep_monthly 12 must drop November 2025.
        let history = daily("catalog", "2025-11-01", "2026-11-30", "02:00:00");
        let now = at("2026-11-30 12:00:00");
        let cases: [(&str, &[&str]); 5] = [
            (
                r#"{"keep_daily": 7, "keep_weekly": 4, "keep_monthly": 12}"#,
                &[
                    "2026-11-30",
                    "2026-11-29",
                    "2026-11-28",
                    "2026-11-27",
                    "2026-11-26",
                    "2026-11-25",
                    "2026-11-24",
                    "2026-11-22",
                    "2026-11-15",
                    "2026-10-31",
                    "2026-09-30",
                    "2026-08-31",
                    "2026-07-31",
                    "2026-06-30",
                    "2026-05-31",
                    "2026-04-30",
                    "2026-03-31",
                    "2026-02-28",
                    "2026-01-31",
                    "2025-12-31",
                ],
            ),
            (
                r#"{"keep_last": 5}"#,
                &[
                    "2026-11-30",
                    "2026-11-29",
                    "2026-11-28",
                    "2026-11-27",
                    "2026-11-26",
                ],
            ),
            // Sundays end ISO weeks: 11-30 is the Monday of W49.
            (
                r#"{"keep_weekly": 3}"#,
                &["2026-11-30", "2026-11-29", "2026-11-22"],
            ),
            (
                r#"{"keep_monthly": 3}"#,
                &["2026-11-30", "2026-10-31", "2026-09-30"],
            ),
            // Cutoff 11-27 12:00 falls after that day's 02:00 backup.
            (
                r#"{"keep_within": "3d"}"#,
                &["2026-11-30", "2026-11-29", "2026-11-28"],
            ),
        ];
        for (rules, expected) in cases {
            let decisions = plan(&history, &policy(rules), now).unwrap();
            assert_eq!(decisions.len(), history.len(), "{rules}");
            assert_eq!(kept_days(&decisions), expected, "{rules}");
        }

        let decisions = plan(&history, &policy(cases[0].0), now).unwrap();
        assert_eq!(
            reasons_of(&decisions, "catalog-20261130_020000"),
            [
                "daily 2026-11-30",
                "weekly 2026-W49",
                "monthly 2026-11",
                NEWEST_VERIFIED
            ]
        );
        assert_eq!(
            reasons_of(&decisions, "catalog-20261129_020000"),
            ["daily 2026-11-29", "weekly 2026-W48"]
        );
        assert_eq!(
            reasons_of(&decisions, "catalog-20251231_020000"),
            ["monthly 2025-12"]
        );
        assert!(reasons_of(&decisions, "catalog-20261123_020000").is_empty());
        assert!(reasons_of(&decisions, "catalog-20251130_020000").is_empty());
    }

    #[test]
    fn several_backups_a_day_keep_the_newest_of_each_day() {
        let mut history = Vec::new();
        for time in ["00:30:00", "06:30:00", "12:30:00", "18:30:00"] {
            history.extend(daily("catalog", "2026-11-21", "2026-11-30", time));
        }
        let now = at("2026-11-30 20:00:00");
        let cases: [(&str, &[&str]); 3] = [
            (
                r#"{"keep_daily": 3}"#,
                &[
                    "2026-11-30 18:30:00",
                    "2026-11-29 18:30:00",
                    "2026-11-28 18:30:00",
                ],
            ),
            (
                r#"{"keep_last": 2, "keep_daily": 3}"#,
                &[
                    "2026-11-30 18:30:00",
                    "2026-11-30 12:30:00",
                    "2026-11-29 18:30:00",
                    "2026-11-28 18:30:00",
                ],
            ),
            (
                r#"{"keep_within": "12h"}"#,
                &["2026-11-30 18:30:00", "2026-11-30 12:30:00"],
            ),
        ];
        for (rules, expected) in cases {
            let decisions = plan(&history, &policy(rules), now).unwrap();
            assert_eq!(kept(&decisions), expected, "{rules}");
        }
    }

    #[test]
    fn days_are_utc_calendar_days() {
        let history = [
            backup("catalog", at("2026-11-30 00:00:00"), true),
            backup("catalog", at("2026-11-29 23:59:59"), true),
            backup("catalog", at("2026-11-29 00:00:00"), true),
        ];
        let decisions = plan(
            &history,
            &policy(r#"{"keep_daily": 2}"#),
            at("2026-11-30 01:00:00"),
        )
        .unwrap();
        assert_eq!(
            kept(&decisions),
            ["2026-11-30 00:00:00", "2026-11-29 23:59:59"]
        );
    }

    #[test]
    fn gaps_of_weeks_count_periods_that_have_backups() {
        let history: Vec<_> = [
            "2026-11-30",
            "2026-11-29",
            "2026-11-08",
            "2026-11-07",
            "2026-10-03",
            "2026-08-15",
        ]
        .iter()
        .map(|day| backup("catalog", at(&format!("{day} 02:00:00")), true))
        .collect();
        let now = at("2026-11-30 12:00:00");
        let cases: [(&str, &[&str]); 5] = [
            (
                r#"{"keep_daily": 4}"#,
                &["2026-11-30", "2026-11-29", "2026-11-08", "2026-11-07"],
            ),
            // 11-08 and 11-07 share W45.
            (
                r#"{"keep_weekly": 3}"#,
                &["2026-11-30", "2026-11-29", "2026-11-08"],
            ),
            (
                r#"{"keep_weekly": 5}"#,
                &[
                    "2026-11-30",
                    "2026-11-29",
                    "2026-11-08",
                    "2026-10-03",
                    "2026-08-15",
                ],
            ),
            (
                r#"{"keep_monthly": 3}"#,
                &["2026-11-30", "2026-10-03", "2026-08-15"],
            ),
            (
                r#"{"keep_within": "4w"}"#,
                &["2026-11-30", "2026-11-29", "2026-11-08", "2026-11-07"],
            ),
        ];
        for (rules, expected) in cases {
            let decisions = plan(&history, &policy(rules), now).unwrap();
            assert_eq!(kept_days(&decisions), expected, "{rules}");
        }
    }

    #[test]
    fn groups_do_not_interfere() {
        let mut history = daily("scaffolder", "2026-11-21", "2026-11-30", "03:00:00");
        for c in &mut history {
            c.verified = c.taken_at <= at("2026-11-25 03:00:00");
        }
        history.extend(daily("catalog", "2026-11-21", "2026-11-30", "02:00:00"));
        let decisions = plan(
            &history,
            &policy(r#"{"keep_last": 2}"#),
            at("2026-11-30 12:00:00"),
        )
        .unwrap();

        let order: Vec<_> = decisions.iter().map(|d| d.group.as_str()).collect();
        assert_eq!(order, [["catalog"; 10], ["scaffolder"; 10]].concat());
        let kept_ids: Vec<_> = decisions
            .iter()
            .filter(|d| d.keep)
            .map(|d| d.id.as_str())
            .collect();
        assert_eq!(
            kept_ids,
            [
                "catalog-20261130_020000",
                "catalog-20261129_020000",
                "scaffolder-20261130_030000",
                "scaffolder-20261129_030000",
                "scaffolder-20261125_030000",
            ]
        );
        assert_eq!(
            reasons_of(&decisions, "catalog-20261130_020000"),
            ["last 2", NEWEST_VERIFIED]
        );
        assert_eq!(
            reasons_of(&decisions, "scaffolder-20261125_030000"),
            [NEWEST_VERIFIED]
        );
    }

    #[test]
    fn backups_from_the_future_are_kept_and_take_no_slot() {
        let mut history = daily("catalog", "2026-11-25", "2026-11-30", "02:00:00");
        history.push(backup("catalog", at("2027-01-01 00:00:00"), true));
        let now = at("2026-11-30 01:00:00");
        let decisions = plan(&history, &policy(r#"{"keep_last": 2}"#), now).unwrap();
        assert_eq!(
            kept(&decisions),
            [
                "2027-01-01 00:00:00",
                "2026-11-30 02:00:00",
                "2026-11-29 02:00:00",
                "2026-11-28 02:00:00",
            ]
        );
        assert_eq!(reasons_of(&decisions, "catalog-20270101_000000"), [FUTURE]);
        assert_eq!(reasons_of(&decisions, "catalog-20261130_020000"), [FUTURE]);
        // The newest verified backup is the newest one whose time can be trusted.
        assert_eq!(
            reasons_of(&decisions, "catalog-20261129_020000"),
            ["last 2", NEWEST_VERIFIED]
        );
    }

    #[test]
    fn keep_within_includes_its_boundary() {
        let now = at("2026-11-30 12:00:00");
        let times = [
            "2026-11-30 12:00:01",
            "2026-11-30 12:00:00",
            "2026-11-29 00:00:00",
            "2026-11-28 23:59:59",
            "2026-10-31 12:00:00",
            "2026-10-31 11:59:59",
        ];
        // Newest unverified so the safety rule keeps only the oldest, out of the way.
        let mut history: Vec<_> = times
            .iter()
            .map(|t| backup("catalog", at(t), false))
            .collect();
        history[5].verified = true;
        let cases: [(&str, &[&str]); 3] = [
            (
                "30d",
                &[
                    "2026-11-30 12:00:01",
                    "2026-11-30 12:00:00",
                    "2026-11-29 00:00:00",
                    "2026-11-28 23:59:59",
                    "2026-10-31 12:00:00",
                    "2026-10-31 11:59:59",
                ],
            ),
            (
                "1d12h",
                &[
                    "2026-11-30 12:00:01",
                    "2026-11-30 12:00:00",
                    "2026-11-29 00:00:00",
                    "2026-10-31 11:59:59",
                ],
            ),
            (
                "1s",
                &[
                    "2026-11-30 12:00:01",
                    "2026-11-30 12:00:00",
                    "2026-10-31 11:59:59",
                ],
            ),
        ];
        for (within, expected) in cases {
            let rules = format!(r#"{{"keep_within": "{within}"}}"#);
            let decisions = plan(&history, &policy(&rules), now).unwrap();
            assert_eq!(kept(&decisions), expected, "{within}");
            assert_eq!(
                reasons_of(&decisions, "catalog-20261130_120000"),
                [format!("within {within}")]
            );
        }
        let decisions = plan(&history, &policy(r#"{"keep_within": "30d"}"#), now).unwrap();
        assert_eq!(
            reasons_of(&decisions, "catalog-20261031_120000"),
            ["within 30d"]
        );
        assert_eq!(
            reasons_of(&decisions, "catalog-20261031_115959"),
            [NEWEST_VERIFIED.to_string()]
        );
    }

    #[test]
    fn the_newest_verified_backup_survives() {
        let now = at("2026-11-30 12:00:00");
        let mut history = daily("catalog", "2026-11-26", "2026-11-30", "02:00:00");
        for c in &mut history {
            // 11-26 and 11-27 verified; the three newest not (yet).
            c.verified = c.taken_at < at("2026-11-28 00:00:00");
        }
        let decisions = plan(&history, &policy(r#"{"keep_last": 1}"#), now).unwrap();
        assert_eq!(
            kept(&decisions),
            ["2026-11-30 02:00:00", "2026-11-27 02:00:00"]
        );
        assert_eq!(
            reasons_of(&decisions, "catalog-20261130_020000"),
            ["last 1"]
        );
        assert_eq!(
            reasons_of(&decisions, "catalog-20261127_020000"),
            [NEWEST_VERIFIED]
        );

        for c in &mut history {
            c.verified = false;
        }
        for rules in [
            r#"{"keep_last": 0, "keep_within": "1h"}"#,
            r#"{"keep_within": "1h"}"#,
        ] {
            let decisions = plan(&history, &policy(rules), now).unwrap();
            assert_eq!(kept(&decisions), ["2026-11-30 02:00:00"], "{rules}");
            assert_eq!(
                reasons_of(&decisions, "catalog-20261130_020000"),
                [NEWEST_UNVERIFIED]
            );
        }
    }

    #[test]
    fn bad_policies_are_refused() {
        let history = daily("catalog", "2026-11-29", "2026-11-30", "02:00:00");
        let now = at("2026-11-30 12:00:00");
        let empty = RetentionPolicy::default();
        assert!(empty.is_empty());
        let err = plan(&history, &empty, now).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert_eq!(err.message(), EMPTY_POLICY);

        let cases = [
            (
                RetentionPolicy {
                    keep_weekly: Some(100_001),
                    ..Default::default()
                },
                "--keep-weekly 100001 is more than the limit of 100000: give a smaller count",
            ),
            (
                RetentionPolicy {
                    keep_last: Some(3),
                    keep_within: Some(HumanDuration(Duration::days(36501))),
                    ..Default::default()
                },
                "--keep-within: '36501d' is too long",
            ),
            (
                RetentionPolicy {
                    keep_within: Some(HumanDuration(Duration::seconds(-1))),
                    ..Default::default()
                },
                "--keep-within: a duration of -1 seconds is negative",
            ),
        ];
        for (bad, expected) in cases {
            let err = bad.validate().unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput);
            assert!(err.message().starts_with(expected), "{}", err.message());
            assert_eq!(plan(&history, &bad, now).unwrap_err(), err);
        }

        let limits = RetentionPolicy {
            keep_last: Some(0),
            keep_daily: Some(MAX_COUNT),
            ..Default::default()
        };
        assert!(!limits.is_empty());
        limits.validate().unwrap();
    }

    #[test]
    fn policies_that_keep_nothing_are_refused() {
        let history = daily("catalog", "2026-11-27", "2026-11-30", "02:00:00");
        let now = at("2026-11-30 12:00:00");
        let zero_within = Some(HumanDuration(Duration::zero()));
        let keeping_nothing = [
            RetentionPolicy {
                keep_last: Some(0),
                ..Default::default()
            },
            RetentionPolicy {
                keep_daily: Some(0),
                ..Default::default()
            },
            RetentionPolicy {
                keep_within: zero_within,
                ..Default::default()
            },
            RetentionPolicy {
                keep_last: Some(0),
                keep_daily: Some(0),
                keep_weekly: Some(0),
                keep_monthly: Some(0),
                keep_within: zero_within,
            },
        ];
        for policy in keeping_nothing {
            let err = plan(&history, &policy, now).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{policy:?}");
            assert_eq!(err.message(), ZERO_POLICY, "{policy:?}");
        }
        let one_rule_keeps = RetentionPolicy {
            keep_last: Some(0),
            keep_within: Some(HumanDuration(Duration::days(1))),
            ..Default::default()
        };
        assert!(plan(&history, &one_rule_keeps, now).is_ok());
    }

    #[test]
    fn duplicate_ids_are_refused() {
        let history = [
            backup("catalog", at("2026-11-30 02:00:00"), true),
            backup("catalog", at("2026-11-30 02:00:00"), false),
        ];
        let err = plan(
            &history,
            &policy(r#"{"keep_last": 1}"#),
            at("2026-11-30 12:00:00"),
        )
        .unwrap_err();
        assert_eq!(
            err.message(),
            "backup 'catalog-20261130_020000' is listed twice: give each candidate once"
        );
    }

    #[test]
    fn equal_times_are_ordered_by_id() {
        let taken_at = at("2026-11-30 02:00:00");
        let history = ["catalog-b", "catalog-a"].map(|id| Candidate {
            id: id.to_string(),
            group: "catalog".to_string(),
            taken_at,
            verified: true,
        });
        let decisions = plan(
            &history,
            &policy(r#"{"keep_last": 1}"#),
            at("2026-11-30 12:00:00"),
        )
        .unwrap();
        let ids: Vec<_> = decisions.iter().map(|d| (d.id.as_str(), d.keep)).collect();
        assert_eq!(ids, [("catalog-a", true), ("catalog-b", false)]);
    }

    #[test]
    fn shuffled_input_gives_the_same_plan() {
        let mut history = daily("scaffolder", "2026-01-01", "2026-11-30", "03:00:00");
        history.extend(daily("catalog", "2026-01-01", "2026-11-30", "02:00:00"));
        history.extend(daily("catalog", "2026-06-01", "2026-11-30", "14:00:00"));
        for (i, c) in history.iter_mut().enumerate() {
            c.verified = i % 3 != 0;
        }
        let rules = policy(
            r#"{"keep_last": 3, "keep_daily": 10, "keep_weekly": 8, "keep_monthly": 6, "keep_within": "2w"}"#,
        );
        let now = at("2026-11-20 12:00:00");
        let expected = plan(&history, &rules, now).unwrap();

        let mut shuffled = history.clone();
        // Fisher-Yates with a fixed LCG: a reproducible shuffle without a rand dependency.
        let mut state: u64 = 0x5eed;
        for i in (1..shuffled.len()).rev() {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            shuffled.swap(i, (state >> 33) as usize % (i + 1));
        }
        assert_ne!(shuffled, history);
        assert_eq!(plan(&shuffled, &rules, now).unwrap(), expected);
        history.reverse();
        assert_eq!(plan(&history, &rules, now).unwrap(), expected);
        // Newest first overall within each group: the first catalog decision is the newest.
        assert_eq!(expected[0].id, "catalog-20261130_140000");
        assert_eq!(expected[0].reasons, [FUTURE]);
    }

    #[test]
    fn policy_and_decision_serde() {
        let parsed = policy(r#"{"keep_daily": 7, "keep_within": "30d"}"#);
        assert_eq!(
            parsed,
            RetentionPolicy {
                keep_daily: Some(7),
                keep_within: Some(HumanDuration(Duration::days(30))),
                ..Default::default()
            }
        );
        assert_eq!(
            serde_json::to_string(&parsed).unwrap(),
            r#"{"keep_daily":7,"keep_within":"30d"}"#
        );
        let err = serde_json::from_str::<RetentionPolicy>(r#"{"keep_hourly": 24}"#).unwrap_err();
        assert!(
            err.to_string().contains("unknown field `keep_hourly`"),
            "{err}"
        );

        let decision = Decision {
            id: "catalog-20261130_020000".into(),
            group: "catalog".into(),
            taken_at: at("2026-11-30 02:00:00"),
            keep: true,
            reasons: vec!["last 1".into()],
        };
        assert_eq!(
            serde_json::to_string(&decision).unwrap(),
            r#"{"id":"catalog-20261130_020000","group":"catalog","taken_at":"2026-11-30T02:00:00Z","keep":true,"reasons":["last 1"]}"#
        );
    }
}
