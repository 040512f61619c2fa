//! Restore drills: the runbook's quarterly restore test, automated. Restores a backup into a
//! scratch database, compares entity counts with the manifest, records the outcome and the time
//! it took beside the backup, and always drops the scratch database.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::error::Result;
use crate::listing::{BackupEntry, Record};
use crate::naming::Part;
use crate::progress::{Phase, Progress};
use crate::restore::{restore, RestoreOptions};
use crate::source::session::{connect, query_error};
use crate::source::ConnectionInfo;
use crate::store::Store;

const SCRATCH_PREFIX: &str = "bbdrill_";
/// Scratch databases left by a drill that was killed outright are dropped after this long.
const STALE_SCRATCH_HOURS: i64 = 6;

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS), ts(rename_all = "camelCase"))]
pub struct DrillReport {
    pub id: String,
    pub ok: bool,
    pub problems: Vec<String>,
    pub scratch_database: String,
    pub host: String,
    /// Time to restore into the scratch database: the recovery time this backup gives.
    pub restore_ms: u64,
    pub duration_ms: u64,
    pub drilled_at: DateTime<Utc>,
    pub expected_entities: Option<BTreeMap<String, u64>>,
    pub entities: Option<BTreeMap<String, u64>>,
}

fn scratch_name(now: DateTime<Utc>) -> String {
    let nonce: u32 =
        (now.timestamp_subsec_nanos() ^ std::process::id().rotate_left(16)) % 1_000_000;
    format!("{SCRATCH_PREFIX}{}_{nonce:06}", now.format("%Y%m%d_%H%M%S"))
}

fn scratch_time(name: &str) -> Option<DateTime<Utc>> {
    let stamp = name.strip_prefix(SCRATCH_PREFIX)?.get(..15)?;
    NaiveDateTime::parse_from_str(stamp, "%Y%m%d_%H%M%S")
        .ok()
        .map(|t| t.and_utc())
}

async fn drop_database(server: &ConnectionInfo, name: &str) -> Result<()> {
    let admin = connect(server).await?;
    admin
        .batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .await
        .map_err(|e| query_error(&format!("dropping scratch database {name}"), e))
}

/// Drops scratch databases older than a few hours: leftovers of drills killed with SIGKILL.
async fn drop_stale_scratch(server: &ConnectionInfo, now: DateTime<Utc>) -> Result<Vec<String>> {
    let admin = connect(server).await?;
    let rows = admin
        .query(
            "SELECT datname FROM pg_database WHERE datname LIKE 'bbdrill\\_%'",
            &[],
        )
        .await
        .map_err(|e| query_error("listing scratch databases", e))?;
    let mut dropped = Vec::new();
    for row in rows {
        let name: String = row.get(0);
        if scratch_time(&name).is_some_and(|t| t < now - Duration::hours(STALE_SCRATCH_HOURS)) {
            drop_database(server, &name).await?;
            dropped.push(name);
        }
    }
    Ok(dropped)
}

/// Drills `entry`: `server` names the PostgreSQL server (and a database on it to connect to
/// for CREATE/DROP DATABASE) where the scratch database is made.
pub async fn drill(
    store: &dyn Store,
    entry: &BackupEntry,
    server: &ConnectionInfo,
    trust: &crate::signing::Trust,
    progress: Arc<dyn Progress>,
    cancel: &CancellationToken,
) -> Result<DrillReport> {
    // Refused before a scratch database is made for it.
    if let Some(refusal) = entry.refusal() {
        return Err(refusal);
    }
    trust.admit(entry)?;
    let started = Instant::now();
    let drilled_at = Utc::now();
    drop_stale_scratch(server, drilled_at).await?;
    let scratch = scratch_name(drilled_at);
    let mut target = server.with_database(&scratch);
    target.schema = entry
        .manifest
        .as_ref()
        .and_then(|m| m.database.schema.clone());
    let restored = restore(
        store,
        entry,
        &target,
        &RestoreOptions {
            clean: false,
            safety_backup: false,
            trust: trust.clone(),
        },
        progress.clone(),
        cancel,
    )
    .await;
    // Dropped whatever happened, cancel included.
    let dropped = drop_database(server, &scratch).await;
    let expected = entry.manifest.as_ref().and_then(|m| m.entities.clone());
    let mut report = DrillReport {
        id: entry.id(),
        ok: false,
        problems: Vec::new(),
        scratch_database: scratch.clone(),
        host: server.host_port(),
        restore_ms: 0,
        duration_ms: 0,
        drilled_at,
        expected_entities: expected.clone(),
        entities: None,
    };
    match restored {
        Err(err) if err.kind() == crate::error::ErrorKind::Cancelled => return Err(err),
        Err(err) => report.problems.push(format!("restore failed: {err}")),
        Ok(restored) => {
            report.restore_ms = restored.duration_ms;
            report.entities = restored.entities.clone();
            progress.phase(Phase::Comparing);
            report
                .problems
                .extend(crate::manifest::entity_count_problems(
                    expected.as_ref(),
                    restored.entities.as_ref(),
                ));
        }
    }
    if let Err(err) = dropped {
        report.problems.push(format!("{err}; drop it by hand"));
    }
    report.ok = report.problems.is_empty();
    report.duration_ms = started.elapsed().as_millis() as u64;
    record(store, entry, &report).await?;
    progress.phase(Phase::Done);
    Ok(report)
}

async fn record(store: &dyn Store, entry: &BackupEntry, report: &DrillReport) -> Result<()> {
    let mut extra = serde_json::Map::new();
    extra.insert("restore_ms".into(), report.restore_ms.into());
    extra.insert(
        "entities".into(),
        serde_json::to_value(&report.entities).expect("counts serialise"),
    );
    let record = Record {
        at: report.drilled_at,
        ok: report.ok,
        duration_ms: report.duration_ms,
        problems: report.problems.clone(),
        extra,
    };
    store
        .put(
            &entry.name.key(Part::DrillRecord),
            Bytes::from(serde_json::to_vec_pretty(&record).expect("record serialises")),
        )
        .await
        .map_err(|e| e.context("recording the drill outcome"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scratch_names_carry_their_time() {
        let now = Utc::now();
        let name = scratch_name(now);
        assert!(name.len() < 63, "{name}");
        assert_eq!(scratch_time(&name).unwrap().timestamp(), now.timestamp());
        assert_eq!(scratch_time("bbdrill_garbage"), None);
    }

    #[test]
    fn counts_are_compared_kind_by_kind() {
        let want: BTreeMap<String, u64> = [("api".into(), 2), ("user".into(), 3)].into();
        let got: BTreeMap<String, u64> =
            [("api".into(), 2), ("user".into(), 1), ("group".into(), 1)].into();
        let problems = crate::manifest::entity_count_problems(Some(&want), Some(&got));
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(crate::manifest::entity_count_problems(Some(&want), Some(&want)).is_empty());
        assert!(crate::manifest::entity_count_problems(None, Some(&got)).is_empty());
    }
}
