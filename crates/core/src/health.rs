//! Health: is there a recent good backup, does it look like the others, and have verification
//! and restore drills passed lately. Statuses follow the monitoring-plugin convention (exit
//! 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN) so the CLI drops into Nagios, a probe or an alert.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

#[cfg(feature = "ops")]
use crate::listing::list_backups;
use crate::listing::{BackupEntry, BackupStatus, Record};
#[cfg(feature = "ops")]
use crate::store::Store;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub enum HealthStatus {
    Ok,
    Warning,
    Critical,
    Unknown,
}

impl HealthStatus {
    pub fn exit_code(self) -> u8 {
        match self {
            HealthStatus::Ok => 0,
            HealthStatus::Warning => 1,
            HealthStatus::Critical => 2,
            HealthStatus::Unknown => 3,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            HealthStatus::Ok => "OK",
            HealthStatus::Warning => "WARNING",
            HealthStatus::Critical => "CRITICAL",
            HealthStatus::Unknown => "UNKNOWN",
        }
    }

    /// CRITICAL outranks UNKNOWN, which outranks WARNING: a known outage is the louder news.
    fn rank(self) -> u8 {
        match self {
            HealthStatus::Ok => 0,
            HealthStatus::Warning => 1,
            HealthStatus::Unknown => 2,
            HealthStatus::Critical => 3,
        }
    }
}

#[derive(Debug, Clone)]
pub struct HealthThresholds {
    /// The RPO: the newest complete backup must be younger than this.
    pub max_age: Duration,
    /// The newest backup is suspicious when smaller than this fraction of the recent median…
    pub size_drop: f64,
    /// …or larger than this multiple of it.
    pub size_growth: f64,
    /// How many earlier backups form the median.
    pub recent: usize,
    /// Some backup must have passed verification within this time.
    pub verify_max_age: Duration,
    /// Some backup must have passed a restore drill within this time.
    pub drill_max_age: Duration,
}

impl Default for HealthThresholds {
    fn default() -> Self {
        HealthThresholds {
            max_age: Duration::hours(26),
            size_drop: 0.5,
            size_growth: 2.0,
            recent: 7,
            verify_max_age: Duration::days(8),
            drill_max_age: Duration::days(35),
        }
    }
}

/// Health's options as every front end takes them (the CLI's flags, the engines' `health({…})`),
/// parsed and checked once here: durations such as `26h`, ratios as positive numbers.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS), ts(rename = "HealthOptions", optional_fields))]
pub struct HealthRequest {
    /// The RPO: the newest complete backup must be younger (default `26h`).
    #[serde(default)]
    pub max_age: Option<String>,
    /// Some backup must have passed verify within this (default `8d`).
    #[serde(default)]
    pub verify_max_age: Option<String>,
    /// Some backup must have passed a drill within this (default `35d`).
    #[serde(default)]
    pub drill_max_age: Option<String>,
    /// Warn when the newest backup is smaller than this fraction of the recent median
    /// (default 0.5).
    #[serde(default)]
    pub size_drop: Option<f64>,
    /// Warn when the newest backup is larger than this multiple of the recent median
    /// (default 2).
    #[serde(default)]
    pub size_growth: Option<f64>,
}

impl HealthRequest {
    /// The thresholds, each option over its default; a bad value is `E_INVALID` naming it.
    pub fn thresholds(&self) -> crate::error::Result<HealthThresholds> {
        use crate::duration::HumanDuration;
        let defaults = HealthThresholds::default();
        let duration = |name: &str, text: &Option<String>, default: Duration| {
            text.as_deref()
                .map(|t| {
                    t.parse::<HumanDuration>()
                        .map(|d| d.0)
                        .map_err(|e| e.context(name))
                })
                .transpose()
                .map(|d| d.unwrap_or(default))
        };
        let ratio = |name: &str, value: Option<f64>, default: f64| match value {
            None => Ok(default),
            Some(v) if v.is_finite() && v > 0.0 && v < 1000.0 => Ok(v),
            Some(_) => Err(crate::error::Error::invalid(format!(
                "{name} must be a positive number, e.g. 0.5"
            ))),
        };
        Ok(HealthThresholds {
            max_age: duration("--max-age (maxAge)", &self.max_age, defaults.max_age)?,
            verify_max_age: duration(
                "--verify-max-age (verifyMaxAge)",
                &self.verify_max_age,
                defaults.verify_max_age,
            )?,
            drill_max_age: duration(
                "--drill-max-age (drillMaxAge)",
                &self.drill_max_age,
                defaults.drill_max_age,
            )?,
            size_drop: ratio("--size-drop (sizeDrop)", self.size_drop, defaults.size_drop)?,
            size_growth: ratio(
                "--size-growth (sizeGrowth)",
                self.size_growth,
                defaults.size_growth,
            )?,
            ..defaults
        })
    }

    /// From the engines' JSON options (camelCase); an unknown option is named, not ignored.
    pub fn from_json(value: serde_json::Value) -> crate::error::Result<HealthRequest> {
        serde_json::from_value(value).map_err(|e| {
            crate::error::Error::invalid(format!(
                "health options: {}; known: maxAge, verifyMaxAge, drillMaxAge, sizeDrop, sizeGrowth",
                crate::naming::printable(&e.to_string())
            ))
        })
    }
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS), ts(rename_all = "camelCase"))]
pub struct HealthCheck {
    pub name: String,
    pub status: HealthStatus,
    pub message: String,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS), ts(rename_all = "camelCase"))]
pub struct LastBackup {
    pub id: String,
    pub created_at: DateTime<Utc>,
    pub age_seconds: i64,
    pub bytes: Option<u64>,
    pub entities: Option<u64>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS), ts(rename_all = "camelCase"))]
pub struct LastCheck {
    pub id: String,
    pub at: DateTime<Utc>,
    pub ok: bool,
    pub duration_ms: u64,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS), ts(rename_all = "camelCase"))]
pub struct HealthReport {
    pub status: HealthStatus,
    /// One line: the worst finding, in words.
    pub summary: String,
    pub checks: Vec<HealthCheck>,
    pub checked_at: DateTime<Utc>,
    pub store: String,
    pub last_backup: Option<LastBackup>,
    pub last_verify: Option<LastCheck>,
    pub last_drill: Option<LastCheck>,
    pub max_age_seconds: i64,
}

fn human(d: Duration) -> String {
    let s = d.num_seconds().max(0);
    match s {
        // "passed 0m ago" reads like nothing happened.
        0..=59 => format!("{s}s"),
        60..=5_399 => format!("{}m", s / 60),
        5_400..=172_799 => format!("{:.1}h", s as f64 / 3600.0),
        _ => format!("{:.1}d", s as f64 / 86_400.0),
    }
}

fn check(name: &str, status: HealthStatus, message: String) -> HealthCheck {
    HealthCheck {
        name: name.to_string(),
        status,
        message,
    }
}

fn median(mut values: Vec<u64>) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let mid = values.len() / 2;
    Some(if values.len().is_multiple_of(2) {
        (values[mid - 1] + values[mid]) as f64 / 2.0
    } else {
        values[mid] as f64
    })
}

fn newest_record<'a>(
    entries: &'a [BackupEntry],
    pick: impl Fn(&'a BackupEntry) -> Option<&'a Record>,
) -> Option<(&'a BackupEntry, &'a Record)> {
    entries
        .iter()
        .filter_map(|e| pick(e).map(|r| (e, r)))
        .max_by_key(|(_, r)| r.at)
}

/// Judges a store's backups (newest first, as `list_backups` gives them). Pure: takes `now`.
pub fn evaluate(
    entries: &[BackupEntry],
    thresholds: &HealthThresholds,
    now: DateTime<Utc>,
    store: &str,
    trust: &crate::signing::Trust,
) -> HealthReport {
    let mut checks = Vec::new();
    // With a signing key, a backup it does not accept (forged, tampered, or unsigned without
    // allow-unsigned) cannot be restored, so it cannot satisfy the RPO either.
    let (refused, entries): (Vec<&BackupEntry>, Vec<&BackupEntry>) = entries
        .iter()
        .partition(|e| e.status == BackupStatus::Complete && !trust.accepts(e));
    match (refused.first(), &trust.key) {
        (Some(first), _) => checks.push(check(
            "signatures",
            HealthStatus::Warning,
            format!(
                "{} backup(s) refused by the signature check, e.g. {}: they do not count for \
                 the RPO; `backstage-backup list` says why",
                refused.len(),
                first.id()
            ),
        )),
        (None, Some(key)) => checks.push(check(
            "signatures",
            HealthStatus::Ok,
            format!("backups are checked against signing key {}", key.key_id()),
        )),
        (None, None) => checks.push(check(
            "signatures",
            HealthStatus::Ok,
            "backups are unsigned: anyone who can write to the store could plant one; configure \
             a signing key (--signing-key) to sign and check them"
                .to_string(),
        )),
    }
    let entries: Vec<BackupEntry> = entries.into_iter().cloned().collect();
    let entries = entries.as_slice();
    // A backup dated in the future (a skewed clock, a forged manifest) would satisfy the RPO
    // forever: it is flagged and does not count. Nor do safety backups: a restore took them of
    // what it replaced, not of the catalog as the schedule protects it.
    let (future, complete): (Vec<&BackupEntry>, Vec<&BackupEntry>) = entries
        .iter()
        .filter(|e| e.status == BackupStatus::Complete && !e.is_safety())
        .partition(|e| in_the_future(e.created_at(), now));
    if let Some(furthest) = future.iter().max_by_key(|e| e.created_at()) {
        checks.push(check(
            "future",
            HealthStatus::Warning,
            format!(
                "{} backup(s) dated in the future, up to {} ({} ahead): a skewed clock or a \
                 forged manifest; they do not count for the RPO",
                future.len(),
                furthest.id(),
                human(furthest.created_at() - now)
            ),
        ));
    }
    let newest = complete.first().copied();
    match newest {
        None => checks.push(check(
            "last backup",
            HealthStatus::Critical,
            format!("no complete backup in {store}"),
        )),
        Some(entry) => {
            let age = now - entry.created_at();
            let status = if age > thresholds.max_age {
                HealthStatus::Critical
            } else {
                HealthStatus::Ok
            };
            checks.push(check(
                "last backup",
                status,
                format!(
                    "{} is {} old (RPO {})",
                    entry.id(),
                    human(age),
                    human(thresholds.max_age)
                ),
            ));
        }
    }
    if let Some(entry) = newest {
        let earlier: Vec<&&BackupEntry> = complete.iter().skip(1).take(thresholds.recent).collect();
        let sizes = earlier.iter().filter_map(|e| e.bytes).collect();
        if let (Some(size), Some(median)) = (entry.bytes, median(sizes)) {
            let ratio = size as f64 / median.max(1.0);
            let status = if ratio < thresholds.size_drop || ratio > thresholds.size_growth {
                HealthStatus::Warning
            } else {
                HealthStatus::Ok
            };
            checks.push(check(
                "size",
                status,
                format!(
                    "{} is {size} bytes, {:.0}% of the median of the {} before it",
                    entry.id(),
                    ratio * 100.0,
                    earlier.len()
                ),
            ));
        }
        let totals = earlier
            .iter()
            .filter_map(|e| e.manifest.as_ref().and_then(|m| m.entity_total()))
            .collect();
        let total = entry.manifest.as_ref().and_then(|m| m.entity_total());
        if let (Some(total), Some(median)) = (total, median(totals)) {
            let ratio = total as f64 / median.max(1.0);
            let status = if ratio < thresholds.size_drop {
                HealthStatus::Warning
            } else {
                HealthStatus::Ok
            };
            checks.push(check(
                "entities",
                status,
                format!(
                    "{} holds {total} entities, {:.0}% of the recent median",
                    entry.id(),
                    ratio * 100.0
                ),
            ));
        }
    }
    let last_verify = newest_record(entries, |e| e.verified.as_ref());
    checks.push(record_check(
        "verify",
        last_verify,
        newest_record(entries, |e| e.verified.as_ref().filter(|r| r.ok)),
        thresholds.verify_max_age,
        now,
    ));
    let last_drill = newest_record(entries, |e| e.drilled.as_ref());
    checks.push(record_check(
        "drill",
        last_drill,
        newest_record(entries, |e| e.drilled.as_ref().filter(|r| r.ok)),
        thresholds.drill_max_age,
        now,
    ));
    let incomplete = entries
        .iter()
        .filter(|e| e.status == BackupStatus::Incomplete)
        .count();
    if incomplete > 0 {
        checks.push(check(
            "incomplete",
            HealthStatus::Ok,
            format!(
                "{incomplete} unfinished backup(s) will be cleared by the next backup or prune"
            ),
        ));
    }
    let damaged: Vec<&BackupEntry> = entries
        .iter()
        .filter(|e| e.status == BackupStatus::Damaged)
        .collect();
    if let Some(first) = damaged.first() {
        checks.push(check(
            "damaged",
            HealthStatus::Warning,
            format!(
                "{} backup(s) with a manifest that cannot be read, e.g. {} ({}): they cannot be \
                 restored; look at the store",
                damaged.len(),
                first.id(),
                first.problem.as_deref().unwrap_or("unreadable manifest")
            ),
        ));
    }
    let worst = checks
        .iter()
        .max_by_key(|c| c.status.rank())
        .expect("there is always a check");
    HealthReport {
        status: worst.status,
        summary: format!("{}: {}", worst.name, worst.message),
        checked_at: now,
        store: store.to_string(),
        last_backup: newest.map(|e| LastBackup {
            id: e.id(),
            created_at: e.created_at(),
            age_seconds: (now - e.created_at()).num_seconds(),
            bytes: e.bytes,
            entities: e.manifest.as_ref().and_then(|m| m.entity_total()),
        }),
        last_verify: last_verify.map(last_check),
        last_drill: last_drill.map(last_check),
        max_age_seconds: thresholds.max_age.num_seconds(),
        checks,
    }
}

/// Clocks of the backup host and this one may differ by this much before a time counts as
/// in the future.
const CLOCK_SKEW_SECONDS: i64 = 300;

fn in_the_future(at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    at - now > Duration::seconds(CLOCK_SKEW_SECONDS)
}

fn last_check((entry, record): (&BackupEntry, &Record)) -> LastCheck {
    LastCheck {
        id: entry.id(),
        at: record.at,
        ok: record.ok,
        duration_ms: record.duration_ms,
    }
}

fn record_check(
    name: &str,
    last: Option<(&BackupEntry, &Record)>,
    last_ok: Option<(&BackupEntry, &Record)>,
    max_age: Duration,
    now: DateTime<Utc>,
) -> HealthCheck {
    match (last, last_ok) {
        (_, Some((entry, record))) if in_the_future(record.at, now) => check(
            name,
            HealthStatus::Warning,
            format!(
                "the last passing {name} ({}) is dated {} in the future: a skewed clock or a \
                 forged record",
                entry.id(),
                human(record.at - now)
            ),
        ),
        (Some((entry, record)), _) if !record.ok => check(
            name,
            HealthStatus::Critical,
            format!(
                "the last {name} ({}, {} ago) failed: {}",
                entry.id(),
                human(now - record.at),
                record
                    .problems
                    .first()
                    .map(String::as_str)
                    .unwrap_or("see its report")
            ),
        ),
        (_, Some((entry, record))) if now - record.at <= max_age => check(
            name,
            HealthStatus::Ok,
            format!("{} passed {} ago", entry.id(), human(now - record.at)),
        ),
        (_, Some((entry, record))) => check(
            name,
            HealthStatus::Warning,
            format!(
                "the last passing {name} ({}) was {} ago, more than {}",
                entry.id(),
                human(now - record.at),
                human(max_age)
            ),
        ),
        (_, None) => check(
            name,
            HealthStatus::Warning,
            format!("no backup has passed a {name} yet"),
        ),
    }
}

/// Lists the store and judges it; an unreachable store is UNKNOWN, not an error.
#[cfg(feature = "ops")]
pub async fn health(
    store: &dyn Store,
    thresholds: &HealthThresholds,
    now: DateTime<Utc>,
    trust: &crate::signing::Trust,
) -> HealthReport {
    match list_backups(store).await {
        Ok(entries) => evaluate(&entries, thresholds, now, &store.describe(), trust),
        Err(err) => HealthReport {
            status: HealthStatus::Unknown,
            summary: format!("store: {err}"),
            checks: vec![check("store", HealthStatus::Unknown, err.to_string())],
            checked_at: now,
            store: store.describe(),
            last_backup: None,
            last_verify: None,
            last_drill: None,
            max_age_seconds: thresholds.max_age.num_seconds(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn legacy(id: &str) -> BackupEntry {
        BackupEntry {
            name: crate::naming::BackupName::parse_id(id).unwrap(),
            status: BackupStatus::Complete,
            bytes: Some(1000),
            manifest: None,
            has_sidecar: false,
            verified: None,
            drilled: None,
            problem: None,
        }
    }

    #[test]
    fn backups_and_records_dated_in_the_future_are_flagged_and_do_not_count() {
        let now = DateTime::parse_from_rfc3339("2026-12-03T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let thresholds = HealthThresholds::default();
        let mut forged = legacy("backstage-catalog-20991231_000000");
        let stale = legacy("backstage-catalog-20261101_000000");
        forged.drilled = Some(Record {
            at: now + Duration::days(400),
            ok: true,
            duration_ms: 1,
            problems: vec![],
            extra: Default::default(),
        });
        let report = evaluate(
            &[forged, stale],
            &thresholds,
            now,
            "store",
            &Default::default(),
        );
        let status_of = |name: &str| {
            report
                .checks
                .iter()
                .find(|c| c.name == name)
                .map(|c| c.status)
        };
        assert_eq!(
            status_of("future"),
            Some(HealthStatus::Warning),
            "{report:?}"
        );
        // The RPO is judged on the real backups, which are a month old.
        assert_eq!(
            status_of("last backup"),
            Some(HealthStatus::Critical),
            "{report:?}"
        );
        assert_eq!(report.status, HealthStatus::Critical);
        assert_eq!(
            status_of("drill"),
            Some(HealthStatus::Warning),
            "{report:?}"
        );
        assert_eq!(
            report.last_backup.as_ref().unwrap().id,
            "backstage-catalog-20261101_000000"
        );

        // Within the allowed skew, a backup is simply new.
        let just_ahead = legacy("backstage-catalog-20261203_120200");
        let report = evaluate(
            &[just_ahead],
            &thresholds,
            now,
            "store",
            &Default::default(),
        );
        assert!(
            report.checks.iter().all(|c| c.name != "future"),
            "{report:?}"
        );
        assert_eq!(report.checks[0].status, HealthStatus::Ok, "{report:?}");
    }

    #[test]
    fn ages_read_in_the_unit_that_fits() {
        for (seconds, text) in [
            (0, "0s"),
            (42, "42s"),
            (60, "1m"),
            (5_399, "89m"),
            (5_400, "1.5h"),
            (172_800, "2.0d"),
        ] {
            assert_eq!(human(Duration::seconds(seconds)), text);
        }
    }
}
