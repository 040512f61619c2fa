//! What is in a store, decided from a listing: backups grouped from object keys, their status
//! (complete only with a readable manifest, written last), `latest`, free names and the
//! leftovers of unfinished backups. The rules are the native engine's (`core::listing`,
//! `core::leftovers`, `core::marker`); the JS glue only lists and reads objects.

use std::collections::BTreeMap;

use backstage_backup_core::listing::{classify, select_entry, BackupEntry, BackupStatus, Record};
use backstage_backup_core::manifest::{Manifest, MAX_MANIFEST_BYTES};
use backstage_backup_core::marker::{abandoned, Marker, Owner};
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
    /// The marker's text, which the glue reads for unfinished backups (see `leftovers`).
    #[serde(default)]
    marker_text: Option<String>,
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
        marker_text: None,
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

/// Throws why `entry` cannot be verified or restored (incomplete, damaged), as the native engine.
#[wasm_bindgen(js_name = refuseUnusable)]
pub fn refuse_unusable(entry: JsValue) -> Result<(), JsValue> {
    let entry: Entry = from_js(entry, "entry")?;
    match entry.to_core()?.refusal() {
        Some(err) => Err(coded(err)),
        None => Ok(()),
    }
}

/// Throws why `entry` may not be used under the configured signing trust (`{key, allow_unsigned}`),
/// as the native engine's `Trust::admit`.
#[wasm_bindgen(js_name = admitSignature)]
pub fn admit_signature(entry: JsValue, trust: JsValue) -> Result<(), JsValue> {
    let trust = crate::trust_from(trust)?;
    let entry: Entry = from_js(entry, "entry")?;
    trust.admit(&entry.to_core()?).map(|_| ()).map_err(coded)
}

/// The `list` shape: `{id, name, status, created_at, bytes, entities, verified_at, verified_ok,
/// drilled_at, drilled_ok, trigger, labels, problem, signature, signature_problem}` per backup.
#[wasm_bindgen]
pub fn summaries(entries: JsValue, trust: JsValue) -> Result<JsValue, JsValue> {
    let trust = crate::trust_from(trust)?;
    let entries = entries_from(entries)?;
    to_js(
        &entries
            .iter()
            .map(|e| e.summary(&trust))
            .collect::<Vec<_>>(),
    )
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
    let entries: Vec<Entry> = from_js(entries, "entries")?;
    let core_entries = entries
        .iter()
        .map(Entry::to_core)
        .collect::<Result<Vec<_>, _>>()?;
    let at = select_entry(&core_entries, selector, plugin_id.as_deref(), store).map_err(coded)?;
    to_js(&entries[at])
}

/// A backup's name for `plugin_id` at `now_ms` and the marker that reserves it (created only if
/// absent, see `core::marker`): `{id, keys, marker}`; `owner` is this process (`Owner`'s fields).
#[wasm_bindgen(js_name = reserveName)]
pub fn reserve_name(
    plugin_id: &str,
    now_ms: f64,
    token: String,
    owner: JsValue,
) -> Result<JsValue, JsValue> {
    let now = time(now_ms)?;
    let name = BackupName::new(plugin_id, now).map_err(coded)?;
    let marker = Marker {
        started_at: now,
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        token,
        owner: Some(from_js(owner, "owner")?),
    };
    to_js(&serde_json::json!({"id": name.id(), "keys": keys(&name), "marker": marker.to_json()}))
}

/// Whether the reserved name `id` is free of every other object: `groups` listed after the
/// marker was created (a twin that finished first shows its manifest by then).
#[wasm_bindgen(js_name = nameIsOurs)]
pub fn name_is_ours(id: &str, groups: JsValue) -> Result<bool, JsValue> {
    let groups: Vec<Group> = from_js(groups, "groups")?;
    Ok(groups
        .iter()
        .filter(|g| g.id == id)
        .all(|g| !g.pending && g.parts.keys().all(|part| part == part_name(Part::Marker))))
}

/// Unfinished backups younger than this whose process cannot be seen may still be running.
#[wasm_bindgen(js_name = defaultGraceSeconds)]
pub fn default_grace_seconds() -> f64 {
    (backstage_backup_core::marker::DEFAULT_GRACE_HOURS * 3600) as f64
}

/// The longest marker the glue reads (`core::marker::MAX_MARKER_BYTES`).
#[wasm_bindgen(js_name = maxMarkerBytes)]
pub fn max_marker_bytes() -> f64 {
    backstage_backup_core::marker::MAX_MARKER_BYTES as f64
}

/// The token of a marker's text, or null when it is not a marker.
#[wasm_bindgen(js_name = markerToken)]
pub fn marker_token(text: &str) -> Option<String> {
    Marker::parse(text.as_bytes()).map(|m| m.token)
}

/// Ids of the unfinished backups whose marker the glue must read for `leftovers`.
#[wasm_bindgen(js_name = unfinishedWithMarker)]
pub fn unfinished_with_marker(groups: JsValue) -> Result<Vec<String>, JsValue> {
    let groups: Vec<Group> = from_js(groups, "groups")?;
    Ok(groups
        .into_iter()
        .filter(|g| g.is_unfinished() && g.has(Part::Marker))
        .map(|g| g.id)
        .collect())
}

/// What clearing abandoned leftovers does (as `core::leftovers`): older than `grace_seconds`,
/// or whose marker (`groups[].marker_text`) names a process known gone, seen from `here` with
/// `alive(pid)`. `{abort: [pending upload], remove: [{id, keys}], report: {aborted_uploads,
/// removed_backups}}`; `remove[].keys` are in deletion order (manifest first, marker last).
#[wasm_bindgen]
pub fn leftovers(
    groups: JsValue,
    pending: JsValue,
    plugin_id: Option<String>,
    grace_seconds: f64,
    now_ms: f64,
    here: JsValue,
    alive: &js_sys::Function,
) -> Result<JsValue, JsValue> {
    let groups: Vec<Group> = from_js(groups, "groups")?;
    let pending: Vec<PendingJs> = from_js(pending, "pending uploads")?;
    let here: Owner = from_js(here, "this process")?;
    let now = time(now_ms)?;
    let grace = Duration::seconds(grace_seconds as i64);
    let alive = |pid: u32| {
        alive
            .call1(&JsValue::NULL, &JsValue::from(pid))
            .map(|v| v.is_truthy())
            // A liveness check that fails says nothing: alive.
            .unwrap_or(true)
    };
    let markers: BTreeMap<&str, Marker> = groups
        .iter()
        .filter_map(|g| {
            Some((
                g.id.as_str(),
                Marker::parse(g.marker_text.as_ref()?.as_bytes())?,
            ))
        })
        .collect();
    let judge = |name: &BackupName, started: DateTime<Utc>| {
        abandoned(
            started,
            markers.get(name.id().as_str()),
            grace,
            now,
            Some(&here),
            alive,
        )
    };
    let ours = |name: &BackupName| plugin_id.as_deref().is_none_or(|p| name.plugin_id == p);
    let mut abort = Vec::new();
    let mut aborted_uploads = Vec::new();
    for upload in pending {
        let Some((name, _)) = BackupName::parse_key(&upload.key) else {
            continue;
        };
        let started = match upload.started_ms {
            Some(ms) => time(ms)?.max(name.taken_at),
            None => name.taken_at,
        };
        if ours(&name) && judge(&name, started) {
            aborted_uploads.push(upload.key.clone());
            abort.push(upload);
        }
    }
    let mut remove = Vec::new();
    let mut removed_backups = Vec::new();
    for g in &groups {
        let name = BackupName::parse_id(&g.id).map_err(coded)?;
        if !g.is_unfinished() || !ours(&name) || !judge(&name, name.taken_at) {
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
