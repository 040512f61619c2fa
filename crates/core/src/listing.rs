//! What is in a store: backups grouped from their objects, with a status that never calls a
//! backup good unless its manifest (written last) is there and readable.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
#[cfg(feature = "ops")]
use futures::stream::{self, StreamExt};
use serde::{Deserialize, Serialize};

#[cfg(feature = "ops")]
use crate::error::ErrorKind;
use crate::error::{Error, Result};
use crate::manifest::Manifest;
#[cfg(feature = "ops")]
use crate::manifest::MAX_MANIFEST_BYTES;
use crate::naming::{BackupName, Part};
#[cfg(feature = "ops")]
use crate::store::{ObjectMeta, Store};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub enum BackupStatus {
    /// Manifest present and readable: the backup finished.
    Complete,
    /// Started and never finished: never to be trusted.
    Incomplete,
    /// Its manifest is there but cannot be read or is not one (too large, not JSON, refused by
    /// the store): never to be trusted, and never a reason for the rest of the store to fail.
    Damaged,
    /// A `.sql.gz` made by the runbook's `pg_dump | gzip`: no manifest, can be verified and restored.
    Legacy,
}

impl BackupStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            BackupStatus::Complete => "complete",
            BackupStatus::Incomplete => "incomplete",
            BackupStatus::Damaged => "damaged",
            BackupStatus::Legacy => "legacy",
        }
    }
}

/// The outcome of an operation recorded beside a backup (`.verify.json`, `.drill.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct Record {
    pub at: DateTime<Utc>,
    pub ok: bool,
    #[serde(default)]
    pub duration_ms: u64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// One backup as `list` shows it (the fields keep this order in `list --json`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS), ts(rename_all = "camelCase"))]
pub struct BackupSummary {
    /// `valid`: signed by the configured key; `invalid`: it is not (the backup is refused, see
    /// `signature_problem`); `signed`: signed, and no key is configured to check it; `unsigned`.
    pub signature: crate::signing::SignatureStatus,
    pub signature_problem: Option<String>,
    pub id: String,
    /// The data object's key, e.g. `backstage-catalog-20261125_020000.sql.gz`.
    pub name: String,
    pub status: BackupStatus,
    pub created_at: DateTime<Utc>,
    pub bytes: Option<u64>,
    /// Catalog entities by lowercase kind, from the manifest.
    pub entities: Option<BTreeMap<String, u64>>,
    pub verified_at: Option<DateTime<Utc>>,
    pub verified_ok: Option<bool>,
    pub drilled_at: Option<DateTime<Utc>>,
    pub drilled_ok: Option<bool>,
    pub trigger: Option<crate::manifest::TriggerKind>,
    pub labels: BTreeMap<String, String>,
    /// Why an incomplete or damaged backup is not usable.
    pub problem: Option<String>,
    /// Which Backstage plugin's database, e.g. `catalog` (from the id, parsed once here).
    pub plugin_id: String,
}

/// A backup opened for reading its stored `.sql.gz` (`engine.openRead`; the JS side adds the
/// chunks).
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(test, derive(ts_rs::TS), ts(rename_all = "camelCase"))]
pub struct OpenedBackup {
    pub id: String,
    /// The data object's file name, e.g. `backstage-catalog-20261125_020000.sql.gz`.
    pub file_name: String,
    /// Its stored (compressed) size.
    pub bytes: u64,
    pub summary: BackupSummary,
}

#[derive(Debug, Clone)]
pub struct BackupEntry {
    pub name: BackupName,
    pub status: BackupStatus,
    /// Size of the data object, when it exists.
    pub bytes: Option<u64>,
    pub manifest: Option<Manifest>,
    pub has_sidecar: bool,
    pub verified: Option<Record>,
    pub drilled: Option<Record>,
    /// Why an incomplete backup is incomplete.
    pub problem: Option<String>,
}

impl BackupEntry {
    pub fn id(&self) -> String {
        self.name.id()
    }

    pub fn data_key(&self) -> String {
        self.name.key(Part::Data)
    }

    pub fn created_at(&self) -> DateTime<Utc> {
        self.manifest
            .as_ref()
            .map(|m| m.created_at)
            .unwrap_or(self.name.taken_at)
    }

    /// The shape `list --json` and the engines show; `signature` is `unsigned`, `signed` (no
    /// key to check it with), `valid` or `invalid` under `trust`.
    pub fn summary(&self, trust: &crate::signing::Trust) -> BackupSummary {
        let manifest = self.manifest.as_ref();
        let signature = trust.state(self);
        let signature_problem = match &signature {
            crate::signing::SignatureState::Invalid(why) => Some(why.clone()),
            _ => None,
        };
        BackupSummary {
            signature: signature.status(),
            signature_problem,
            id: self.id(),
            name: self.data_key(),
            status: self.status,
            created_at: self.created_at(),
            bytes: self.bytes,
            entities: manifest.and_then(|m| m.entities.clone()),
            verified_at: self.verified.as_ref().map(|r| r.at),
            verified_ok: self.verified.as_ref().map(|r| r.ok),
            drilled_at: self.drilled.as_ref().map(|r| r.at),
            drilled_ok: self.drilled.as_ref().map(|r| r.ok),
            trigger: manifest.map(|m| m.trigger.kind),
            labels: manifest.map(|m| m.labels.clone()).unwrap_or_default(),
            problem: self.problem.clone(),
            plugin_id: self.name.plugin_id.clone(),
        }
    }

    /// Taken by a restore of what it replaced: never `latest`, never the RPO's newest backup,
    /// and counted apart from real backups by retention.
    pub fn is_safety(&self) -> bool {
        self.manifest
            .as_ref()
            .is_some_and(|m| m.trigger.kind == crate::manifest::TriggerKind::Safety)
    }

    /// Complete or legacy: something that can be verified and restored.
    pub fn is_usable(&self) -> bool {
        matches!(self.status, BackupStatus::Complete | BackupStatus::Legacy)
    }

    /// Why it cannot be verified or restored, when it cannot (incomplete or damaged).
    pub fn refusal(&self) -> Option<crate::error::Error> {
        let why = self.problem.as_deref();
        match self.status {
            BackupStatus::Complete | BackupStatus::Legacy => None,
            BackupStatus::Incomplete => Some(Error::integrity(format!(
                "{} is incomplete ({}); choose a complete backup (`backstage-backup list`)",
                self.id(),
                why.unwrap_or("no manifest")
            ))),
            BackupStatus::Damaged => Some(Error::integrity(format!(
                "{} is damaged ({}); choose another backup (`backstage-backup list`)",
                self.id(),
                why.unwrap_or("its manifest cannot be read")
            ))),
        }
    }
}

/// The objects one backup has in the store, from a listing alone (no object is read).
#[cfg(feature = "ops")]
#[derive(Debug, Default)]
pub struct BackupObjects {
    pub objects: BTreeMap<Part, ObjectMeta>,
    /// Its data object is an upload still open (or abandoned).
    pub pending: bool,
}

#[cfg(feature = "ops")]
impl BackupObjects {
    pub fn has(&self, part: Part) -> bool {
        self.objects.contains_key(&part)
    }

    /// Started and never finished: no manifest, but a marker, a sidecar or an open upload.
    pub fn is_unfinished(&self) -> bool {
        !self.has(Part::Manifest)
            && (self.has(Part::Marker) || self.has(Part::Sidecar) || self.pending)
    }
}

/// Which of `entries` (newest first) `selector` names: `latest` or an id. `latest` is the newest
/// complete backup, else the newest legacy one, never a safety backup (that holds what a restore
/// replaced: choose it by id); with `plugin_id`, of that plugin's backups when it has any.
/// Both engines select with this.
pub fn select_entry(
    entries: &[BackupEntry],
    selector: &str,
    plugin_id: Option<&str>,
    store: &str,
) -> Result<usize> {
    let plugin_has_any = plugin_id.is_some_and(|p| {
        entries
            .iter()
            .any(|e| e.name.plugin_id == p && e.is_usable() && !e.is_safety())
    });
    let eligible =
        |e: &BackupEntry| !plugin_has_any || plugin_id.is_some_and(|p| e.name.plugin_id == p);
    if selector == "latest" {
        let pick = |status: BackupStatus| {
            entries
                .iter()
                .position(|e| e.status == status && !e.is_safety() && eligible(e))
        };
        return pick(BackupStatus::Complete)
            .or_else(|| pick(BackupStatus::Legacy))
            .ok_or_else(|| {
                let safety = entries.iter().any(BackupEntry::is_safety);
                Error::not_found(format!(
                    "there are no complete backups in {store}{}; run `backstage-backup backup` first",
                    if safety {
                        " besides safety backups (taken before a restore; choose one by its id)"
                    } else {
                        ""
                    }
                ))
            });
    }
    let name = BackupName::parse_id(selector)?;
    entries.iter().position(|e| e.name == name).ok_or_else(|| {
        Error::not_found(format!(
            "no backup {} in {store}; `backstage-backup list` shows what there is",
            name.id()
        ))
    })
}

/// The store's open uploads and objects, listed once (in that order: an upload that completes
/// between the two calls shows as its object).
#[cfg(feature = "ops")]
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub pending: Vec<crate::store::PendingUpload>,
    pub objects: Vec<ObjectMeta>,
}

#[cfg(feature = "ops")]
impl Snapshot {
    pub async fn take(store: &dyn Store) -> Result<Snapshot> {
        let pending = store.pending_uploads().await?;
        let objects = store.list().await?;
        Ok(Snapshot { pending, objects })
    }

    /// Objects and open uploads grouped by backup.
    pub fn groups(&self) -> BTreeMap<BackupName, BackupObjects> {
        let mut groups: BTreeMap<BackupName, BackupObjects> = BTreeMap::new();
        for object in &self.objects {
            if let Some((name, part)) = BackupName::parse_key(&object.key) {
                groups
                    .entry(name)
                    .or_default()
                    .objects
                    .insert(part, object.clone());
            }
        }
        for pending in &self.pending {
            if let Some((name, Part::Data)) = BackupName::parse_key(&pending.key) {
                groups.entry(name).or_default().pending = true;
            }
        }
        groups
    }
}

/// Groups the store's objects and open uploads by backup: one LIST each, no reads.
#[cfg(feature = "ops")]
pub async fn index(store: &dyn Store) -> Result<BTreeMap<BackupName, BackupObjects>> {
    Ok(Snapshot::take(store).await?.groups())
}

/// As `index`, over objects already listed (the open uploads are still asked for).
#[cfg(feature = "ops")]
async fn index_of(
    store: &dyn Store,
    objects: Vec<ObjectMeta>,
) -> Result<BTreeMap<BackupName, BackupObjects>> {
    let pending = store.pending_uploads().await?;
    Ok(Snapshot { pending, objects }.groups())
}

/// Lists backups, newest first.
#[cfg(feature = "ops")]
pub async fn list_backups(store: &dyn Store) -> Result<Vec<BackupEntry>> {
    list_backups_in(store, store.list().await?).await
}

/// As `list_backups`, over objects the caller has listed already (prune also needs their keys).
#[cfg(feature = "ops")]
pub async fn list_backups_in(
    store: &dyn Store,
    objects: Vec<ObjectMeta>,
) -> Result<Vec<BackupEntry>> {
    let groups = index_of(store, objects).await?;
    let mut entries: Vec<BackupEntry> = stream::iter(groups)
        .map(|(name, parts)| load_entry(store, name, parts))
        .buffer_unordered(8)
        .filter_map(|entry| async move { entry.transpose() })
        .collect::<Vec<Result<BackupEntry>>>()
        .await
        .into_iter()
        .collect::<Result<_>>()?;
    entries.sort_by(|a, b| b.name.cmp(&a.name));
    Ok(entries)
}

#[cfg(feature = "ops")]
async fn read_record(store: &dyn Store, key: &str) -> Option<Record> {
    let bytes = store.get_small(key, MAX_MANIFEST_BYTES).await.ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// A backup's status from what the store holds: complete only with a readable manifest and its
/// data object; without a manifest, incomplete when our marker or an upload says it never
/// finished, else a legacy (runbook-made) backup. Returns (status, manifest, problem).
pub fn classify(
    has_data: bool,
    manifest: Option<crate::error::Result<Manifest>>,
    unfinished: bool,
) -> (BackupStatus, Option<Manifest>, Option<String>) {
    match manifest {
        Some(Ok(manifest)) if has_data => (BackupStatus::Complete, Some(manifest), None),
        Some(Ok(manifest)) => (
            BackupStatus::Incomplete,
            Some(manifest),
            Some("the manifest is there but the data object is missing".into()),
        ),
        Some(Err(err)) => (
            BackupStatus::Damaged,
            None,
            Some(format!(
                "unreadable manifest: {}",
                crate::naming::printable(err.message())
            )),
        ),
        None if unfinished => (
            BackupStatus::Incomplete,
            None,
            Some("the backup never finished (no manifest)".into()),
        ),
        None => (BackupStatus::Legacy, None, None),
    }
}

#[cfg(feature = "ops")]
async fn load_entry(
    store: &dyn Store,
    name: BackupName,
    parts: BackupObjects,
) -> Result<Option<BackupEntry>> {
    let has = |part| parts.has(part);
    if !has(Part::Data)
        && !has(Part::Manifest)
        && !has(Part::Marker)
        && !has(Part::Sidecar)
        && !parts.pending
    {
        // Only stray records: nothing to show.
        return Ok(None);
    }
    let mut entry = BackupEntry {
        bytes: parts.objects.get(&Part::Data).map(|o| o.size),
        name: name.clone(),
        status: BackupStatus::Incomplete,
        manifest: None,
        has_sidecar: has(Part::Sidecar),
        verified: None,
        drilled: None,
        problem: None,
    };
    let manifest = if has(Part::Manifest) {
        match store
            .get_small(&name.key(Part::Manifest), MAX_MANIFEST_BYTES)
            .await
        {
            Ok(bytes) => Some(Manifest::from_json(&bytes)),
            // Deleted between list and read (a concurrent prune): skip it.
            Err(err) if err.kind() == ErrorKind::NotFound => return Ok(None),
            // Too large, refused, unreadable: this entry is damaged, the listing goes on.
            Err(err) => Some(Err(err)),
        }
    } else {
        None
    };
    (entry.status, entry.manifest, entry.problem) =
        classify(entry.bytes.is_some(), manifest, parts.is_unfinished());
    if has(Part::VerifyRecord) {
        entry.verified = read_record(store, &name.key(Part::VerifyRecord)).await;
    }
    if has(Part::DrillRecord) {
        entry.drilled = read_record(store, &name.key(Part::DrillRecord)).await;
    }
    Ok(Some(entry))
}

/// Finds the backup `selector` names: `latest` (the newest complete one, else the newest
/// legacy one) or an id.
#[cfg(feature = "ops")]
pub async fn find_backup(store: &dyn Store, selector: &str) -> Result<BackupEntry> {
    find_backup_for(store, selector, None).await
}

/// As `find_backup`, but `latest` prefers backups of `plugin_id` (restoring the catalog must not
/// pick up a newer backup of another plugin's database) when the store has any.
#[cfg(feature = "ops")]
pub async fn find_backup_for(
    store: &dyn Store,
    selector: &str,
    plugin_id: Option<&str>,
) -> Result<BackupEntry> {
    let mut entries = list_backups(store).await?;
    let at = select_entry(&entries, selector, plugin_id, &store.describe())?;
    Ok(entries.swap_remove(at))
}
