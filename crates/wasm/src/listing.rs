//! What is in a store, decided from a listing: backups grouped from object keys, their status
//! (complete only with a readable manifest, written last), `latest`, free names and the
//! leftovers of unfinished backups. The rules are the native engine's (`core::listing`,
//! `core::leftovers`, `core::backup::pick_name`); the JS glue only lists and reads objects.

use std::collections::BTreeMap;

use backstage_backup_core::listing::{classify, BackupEntry, BackupStatus, Record};
use backstage_backup_core::manifest::{Manifest, MAX_MANIFEST_BYTES};
use backstage_backup_core::naming::{BackupName, Part};
use backstage_backup_core::Error;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;

use crate::{coded, from_js, time, to_js};

fn part_name(part: Part) -> &'static str {
    match part {
        Part::Data => "data",
        Part::Sidecar => "sidecar",
        Part::Manifest => "manifest",
        Part::Marker => "marker",
        Part::VerifyRecord => "verify_record",
        Part::DrillRecord => "drill_record",
    }
}

fn keys(name: &BackupName) -> BTreeMap<&'static str, String> {
    Part::ALL
        .iter()
        .map(|&part| (part_name(part), name.key(part)))
        .collect()
}

#[derive(Deserialize)]
pub(crate) struct ObjectJs {
    key: String,
    #[serde(default)]
    size: f64,
}

#[derive(Deserialize, Serialize, Clone)]
pub(crate) struct PendingJs {
    key: String,
    /// Milliseconds since the epoch, when the store knows.
    #[serde(default)]
    started_ms: Option<f64>,
    handle: String,
}

/// One backup's objects, from the listing alone.
#[derive(Serialize, Deserialize)]
struct Group {
    id: String,
    /// Part name → object size.
    parts: BTreeMap<String, f64>,
    pending: bool,
    keys: BTreeMap<String, String>,
    /// Has objects besides records: shown by `list`.
    shown: bool,
    /// Texts the glue read for the parts present (manifest, records); `manifest_gone` when the
    /// manifest was deleted between the listing and the read (a concurrent prune).
    #[serde(default)]
    manifest_text: Option<String>,
    #[serde(default)]
    manifest_error: Option<String>,
    #[serde(default)]
    manifest_gone: bool,
    #[serde(default)]
    verify_text: Option<String>,
    #[serde(default)]
    drill_text: Option<String>,
}

impl Group {
    fn has(&self, part: Part) -> bool {
        self.parts.contains_key(part_name(part))
    }

    /// `core::listing::BackupObjects::is_unfinished`.
    fn is_unfinished(&self) -> bool {
        !self.has(Part::Manifest)
            && (self.has(Part::Marker) || self.has(Part::Sidecar) || self.pending)
    }
}

/// A listed backup, as the glue carries it between calls.
#[derive(Serialize, Deserialize, Clone)]
pub(crate) struct Entry {
    id: String,
    plugin_id: String,
    status: BackupStatus,
    bytes: Option<u64>,
    manifest: Option<Manifest>,
    has_sidecar: bool,
    verified: Option<Record>,
    drilled: Option<Record>,
    problem: Option<String>,
    keys: BTreeMap<String, String>,
}

impl Entry {
    pub(crate) fn to_core(&self) -> Result<BackupEntry, JsValue> {
        Ok(BackupEntry {
            name: BackupName::parse_id(&self.id).map_err(coded)?,
            status: self.status,
            bytes: self.bytes,
            manifest: self.manifest.clone(),
            has_sidecar: self.has_sidecar,
            verified: self.verified.clone(),
            drilled: self.drilled.clone(),
            problem: self.problem.clone(),
        })
    }
}

pub(crate) fn entries_from(value: JsValue) -> Result<Vec<BackupEntry>, JsValue> {
    let entries: Vec<Entry> = from_js(value, "entries")?;
    entries.iter().map(Entry::to_core).collect()
}

fn group_all(objects: Vec<ObjectJs>, pending: &[PendingJs]) -> BTreeMap<BackupName, Group> {
    let mut groups: BTreeMap<BackupName, Group> = BTreeMap::new();
    let group = |name: BackupName| Group {
        id: name.id(),
        parts: BTreeMap::new(),
        pending: false,
        keys: keys(&name)
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
        shown: false,
        manifest_text: None,
        manifest_error: None,
        manifest_gone: false,
        verify_text: None,
        drill_text: None,
    };
    for object in objects {
        if let Some((name, part)) = BackupName::parse_key(&object.key) {
            groups
                .entry(name.clone())
                .or_insert_with(|| group(name))
                .parts
                .insert(part_name(part).to_string(), object.size);
        }
    }
    for upload in pending {
        if let Some((name, Part::Data)) = BackupName::parse_key(&upload.key) {
            groups
                .entry(name.clone())
                .or_insert_with(|| group(name))
                .pending = true;
        }
    }
    for g in groups.values_mut() {
        g.shown = g.has(Part::Data)
            || g.has(Part::Manifest)
            || g.has(Part::Marker)
            || g.has(Part::Sidecar)
            || g.pending;
    }
    groups
}

/// Groups a store listing (`[{key, size}]`) and its open uploads (`[{key, started_ms,
/// handle}]`) by backup. The glue then reads the manifest and records of the shown groups
/// and passes them to `listingEntries`.
#[wasm_bindgen(js_name = listingIndex)]
pub fn listing_index(objects: JsValue, pending: JsValue) -> Result<JsValue, JsValue> {
    let objects: Vec<ObjectJs> = from_js(objects, "objects")?;
    let pending: Vec<PendingJs> = from_js(pending, "pending uploads")?;
    let groups: Vec<Group> = group_all(objects, &pending).into_values().collect();
    to_js(&groups)
}

/// The largest object `listingEntries` accepts as a manifest or record.
#[wasm_bindgen(js_name = maxManifestBytes)]
pub fn max_manifest_bytes() -> f64 {
    MAX_MANIFEST_BYTES as f64
}

/// Backups from indexed groups with their texts read: newest first, with status and problem.
#[wasm_bindgen(js_name = listingEntries)]
pub fn listing_entries(groups: JsValue) -> Result<JsValue, JsValue> {
    let groups: Vec<Group> = from_js(groups, "groups")?;
    let mut entries = Vec::new();
    for g in groups {
        if !g.shown || g.manifest_gone {
            continue;
        }
        let name = BackupName::parse_id(&g.id).map_err(coded)?;
        let record = |text: &Option<String>| {
            text.as_deref()
                .and_then(|t| serde_json::from_str::<Record>(t).ok())
        };
        let mut entry = Entry {
            id: g.id.clone(),
            plugin_id: name.plugin_id.clone(),
            status: BackupStatus::Incomplete,
            bytes: g.parts.get("data").map(|&size| size as u64),
            manifest: None,
            has_sidecar: g.has(Part::Sidecar),
            verified: record(&g.verify_text),
            drilled: record(&g.drill_text),
            problem: None,
            keys: g.keys.clone(),
        };
        let manifest = g
            .has(Part::Manifest)
            .then(|| match (&g.manifest_text, &g.manifest_error) {
                (_, Some(err)) => Err(Error::integrity(err.clone())),
                (Some(text), None) => Manifest::from_json(text.as_bytes()),
                (None, None) => Err(Error::integrity("the manifest was not read")),
            });
        (entry.status, entry.manifest, entry.problem) =
            classify(entry.bytes.is_some(), manifest, g.is_unfinished());
        entries.push((name, entry));
    }
    entries.sort_by(|a, b| b.0.cmp(&a.0));
    to_js(&entries.into_iter().map(|(_, e)| e).collect::<Vec<_>>())
}

/// The `list` shape: `{id, name, status, created_at, bytes, entities, verified_at, verified_ok,
/// drilled_at, drilled_ok, trigger, labels, problem}` per backup.
#[wasm_bindgen]
pub fn summaries(entries: JsValue) -> Result<JsValue, JsValue> {
    let entries = entries_from(entries)?;
    to_js(&entries.iter().map(BackupEntry::summary).collect::<Vec<_>>())
}

/// The backup `selector` names (`latest` or an id), as `core::listing::find_backup_for`:
/// `latest` prefers `plugin_id`'s backups when the store has usable ones.
#[wasm_bindgen(js_name = selectBackup)]
pub fn select_backup(
    entries: JsValue,
    selector: &str,
    plugin_id: Option<String>,
    store: &str,
) -> Result<JsValue, JsValue> {
    let mut entries: Vec<Entry> = from_js(entries, "entries")?;
    if let Some(plugin_id) = plugin_id {
        if entries
            .iter()
            .any(|e| e.plugin_id == plugin_id && e.status != BackupStatus::Incomplete)
        {
            entries.retain(|e| e.plugin_id == plugin_id);
        }
    }
    if selector == "latest" {
        return entries
            .iter()
            .find(|e| e.status == BackupStatus::Complete)
            .or_else(|| entries.iter().find(|e| e.status == BackupStatus::Legacy))
            .ok_or_else(|| {
                coded(Error::not_found(format!(
                    "there are no complete backups in {store}; run `backstage-backup backup` first"
                )))
            })
            .and_then(to_js);
    }
    let name = BackupName::parse_id(selector).map_err(coded)?;
    let id = name.id();
    entries
        .iter()
        .find(|e| e.id == id)
        .ok_or_else(|| {
            coded(Error::not_found(format!(
                "no backup {id} in {store}; `backstage-backup list` shows what there is"
            )))
        })
        .and_then(to_js)
}

/// A name for a backup of `plugin_id` taken at `now_ms`: `{id, keys}`, or null when an object
/// of the store (any part, an open upload) already has it. Names have one-second resolution.
#[wasm_bindgen(js_name = backupName)]
pub fn backup_name(plugin_id: &str, now_ms: f64, groups: JsValue) -> Result<JsValue, JsValue> {
    let groups: Vec<Group> = from_js(groups, "groups")?;
    let name = BackupName::new(plugin_id, time(now_ms)?).map_err(coded)?;
    let id = name.id();
    if groups.iter().any(|g| g.id == id) {
        return Ok(JsValue::NULL);
    }
    to_js(&serde_json::json!({"id": id, "keys": keys(&name)}))
}

/// What clearing leftovers older than `min_age_seconds` does (as `core::leftovers`):
/// `{abort: [pending upload], remove: [{id, keys}], report: {aborted_uploads, removed_backups}}`;
/// `remove[].keys` are in deletion order (manifest first, marker last).
#[wasm_bindgen]
pub fn leftovers(
    groups: JsValue,
    pending: JsValue,
    plugin_id: Option<String>,
    min_age_seconds: f64,
    now_ms: f64,
) -> Result<JsValue, JsValue> {
    let groups: Vec<Group> = from_js(groups, "groups")?;
    let pending: Vec<PendingJs> = from_js(pending, "pending uploads")?;
    let cutoff: DateTime<Utc> = time(now_ms)? - Duration::seconds(min_age_seconds as i64);
    let ours = |name: &BackupName| plugin_id.as_deref().is_none_or(|p| name.plugin_id == p);
    let mut abort = Vec::new();
    let mut aborted_uploads = Vec::new();
    for upload in pending {
        let Some((name, _)) = BackupName::parse_key(&upload.key) else {
            continue;
        };
        let started = match upload.started_ms {
            Some(ms) => time(ms)?,
            None => name.taken_at,
        };
        if ours(&name) && started <= cutoff {
            aborted_uploads.push(upload.key.clone());
            abort.push(upload);
        }
    }
    let mut remove = Vec::new();
    let mut removed_backups = Vec::new();
    for g in &groups {
        let name = BackupName::parse_id(&g.id).map_err(coded)?;
        if !g.is_unfinished() || !ours(&name) || name.taken_at > cutoff {
            continue;
        }
        let order: Vec<String> = Part::DELETION_ORDER
            .iter()
            .map(|&part| name.key(part))
            .collect();
        remove.push(serde_json::json!({"id": g.id, "keys": order}));
        removed_backups.push(g.id.clone());
    }
    to_js(&serde_json::json!({
        "abort": abort,
        "remove": remove,
        "report": {"aborted_uploads": aborted_uploads, "removed_backups": removed_backups},
    }))
}

/// An entry's keys in deletion order (manifest first, marker last).
pub(crate) fn deletion_keys(id: &str) -> Result<Vec<String>, JsValue> {
    let name = BackupName::parse_id(id).map_err(coded)?;
    Ok(Part::DELETION_ORDER
        .iter()
        .map(|&part| name.key(part))
        .collect())
}
