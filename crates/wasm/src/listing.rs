//! Listed backups as the glue carries them between calls (`Entry`: core's `BackupEntry` with its
//! objects' keys), and the checks the restore glue asks of one: usable, signature admitted, its
//! `list` summary. Listing itself is core's, run by `ops.rs`.

use std::collections::BTreeMap;

use backstage_backup_core::listing::{BackupEntry, BackupStatus, Record};
use backstage_backup_core::manifest::Manifest;
use backstage_backup_core::naming::{BackupName, Part};
use serde::{Deserialize, Serialize};
use wasm_bindgen::prelude::*;

use crate::{coded, from_js, to_js};

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

pub(crate) fn keys(name: &BackupName) -> BTreeMap<&'static str, String> {
    Part::ALL
        .iter()
        .map(|&part| (part_name(part), name.key(part)))
        .collect()
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
    /// A listed backup as the glue carries it, with its objects' keys.
    pub(crate) fn from_core(entry: &BackupEntry) -> Entry {
        Entry {
            id: entry.id(),
            plugin_id: entry.name.plugin_id.clone(),
            status: entry.status,
            bytes: entry.bytes,
            manifest: entry.manifest.clone(),
            has_sidecar: entry.has_sidecar,
            verified: entry.verified.clone(),
            drilled: entry.drilled.clone(),
            problem: entry.problem.clone(),
            keys: keys(&entry.name)
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
        }
    }

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
