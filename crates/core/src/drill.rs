//! Restore drills: the runbook's quarterly restore test, automated. Restores a backup into a
//! scratch database, compares entity counts with the manifest, records the outcome and the time
//! it took beside the backup, and always drops the scratch database.

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::error::Result;
use crate::host::host;
use crate::listing::{BackupEntry, Record};
use crate::naming::Part;
use crate::progress::{Phase, Progress};
use crate::restore::{drop_database, restore_with, RestoreOptions};
use crate::source::client::PgClient;
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

/// `bbdrill_<UTC time>_<nonce>`: the time lets a later drill find it stale, the nonce keeps
/// two drills in the same second apart.
fn scratch_name(now: DateTime<Utc>, token: &str) -> String {
    let nonce = u64::from_str_radix(token.get(..12).unwrap_or(""), 16).unwrap_or(0) % 1_000_000;
    format!("{SCRATCH_PREFIX}{}_{nonce:06}", now.format("%Y%m%d_%H%M%S"))
}

fn scratch_time(name: &str) -> Option<DateTime<Utc>> {
    let stamp = name.strip_prefix(SCRATCH_PREFIX)?.get(..15)?;
    NaiveDateTime::parse_from_str(stamp, "%Y%m%d_%H%M%S")
        .ok()
        .map(|t| t.and_utc())
}

/// Drops scratch databases older than a few hours: leftovers of drills killed with SIGKILL.
async fn drop_stale_scratch(
    client: &dyn PgClient,
    server: &ConnectionInfo,
    now: DateTime<Utc>,
) -> Result<Vec<String>> {
    let admin = client.connect(server).await?;
    let rows = admin
        .query(
            "SELECT datname FROM pg_database WHERE datname LIKE 'bbdrill\\_%'",
            "listing scratch databases",
        )
        .await;
    admin.close().await;
    let mut dropped = Vec::new();
    for name in rows?
        .into_iter()
        .filter_map(|row| row.into_iter().next().flatten())
    {
        if scratch_time(&name).is_some_and(|t| t < now - Duration::hours(STALE_SCRATCH_HOURS)) {
            drop_database(client, server, &name).await?;
            dropped.push(name);
        }
    }
    Ok(dropped)
}

/// Drills `entry`: `server` names the PostgreSQL server (and a database on it to connect to
/// for CREATE/DROP DATABASE) where the scratch database is made.
pub async fn drill_with(
    store: &dyn Store,
    client: &dyn PgClient,
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
    let drilled_at = host().now();
    drop_stale_scratch(client, server, drilled_at).await?;
    let scratch = scratch_name(drilled_at, &host().random_token());
    let mut target = server.with_database(&scratch);
    target.schema = entry
        .manifest
        .as_ref()
        .and_then(|m| m.database.schema.clone());
    let restored = restore_with(
        store,
        client,
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
    let dropped = drop_database(client, server, &scratch).await;
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
    report.duration_ms = (host().now() - drilled_at).num_milliseconds().max(0) as u64;
    record(store, entry, &report).await?;
    progress.phase(Phase::Done);
    Ok(report)
}

/// Drills `entry` with this machine's PostgreSQL client.
#[cfg(feature = "postgres")]
pub async fn drill(
    store: &dyn Store,
    entry: &BackupEntry,
    server: &ConnectionInfo,
    trust: &crate::signing::Trust,
    progress: Arc<dyn Progress>,
    cancel: &CancellationToken,
) -> Result<DrillReport> {
    let client = crate::source::native_client::NativeClient;
    drill_with(store, &client, entry, server, trust, progress, cancel).await
}

/// Drills the backup `selector` names, held against prune while it is read.
pub async fn drill_selected(
    store: &dyn Store,
    client: &dyn PgClient,
    selector: &str,
    server: &ConnectionInfo,
    trust: &crate::signing::Trust,
    progress: Arc<dyn Progress>,
    cancel: &CancellationToken,
) -> Result<DrillReport> {
    let (entry, hold) =
        crate::read_hold::hold_backup(store, selector, None, "drill", cancel).await?;
    let report = drill_with(store, client, &entry, server, trust, progress, cancel).await;
    hold.release(store).await;
    report
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
        let name = scratch_name(now, "0123456789abcdef0123456789abcdef");
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
