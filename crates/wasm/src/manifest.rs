//! The store format's small objects: manifest v1, the `.sha256` sidecar, `.verify.json` and
//! `.drill.json` records, and the checks on what goes into them (labels, trigger).

use std::collections::BTreeMap;

use backstage_backup_core::duration::HumanDuration;
use backstage_backup_core::listing::Record;
use backstage_backup_core::manifest::{
    entity_count_problems, parse_sidecar, sidecar_text, validate_label, Compression, DatabaseInfo,
    Digest, Manifest, Trigger, TriggerKind, FORMAT_V1,
};
use backstage_backup_core::naming::validate_plugin_id;
use backstage_backup_core::Error;
use serde::Deserialize;
use wasm_bindgen::prelude::*;

use crate::{coded, from_js, time, to_js};

/// Checks a backup's trigger, labels and plugin id before anything is written; returns the
/// trigger as the manifest stores it.
#[wasm_bindgen(js_name = checkBackupOptions)]
pub fn check_backup_options(
    trigger: Option<String>,
    by: Option<String>,
    labels: JsValue,
    plugin_id: &str,
) -> Result<JsValue, JsValue> {
    validate_plugin_id(plugin_id).map_err(coded)?;
    let kind = TriggerKind::parse(trigger.as_deref().unwrap_or("manual")).map_err(coded)?;
    if !(labels.is_undefined() || labels.is_null()) {
        let labels: BTreeMap<String, String> = serde_wasm_bindgen::from_value(labels)
            .map_err(|_| coded(Error::invalid("labels must be an object of string values")))?;
        for (key, value) in &labels {
            validate_label(key, value).map_err(coded)?;
        }
    }
    to_js(&Trigger { kind, by })
}

/// What the JS glue knows when a backup finishes; the rest of the manifest is fixed here.
#[derive(Deserialize)]
struct ManifestInput {
    id: String,
    name: String,
    database: DatabaseInfo,
    created_at_ms: f64,
    finished_at_ms: f64,
    level: u32,
    raw: Digest,
    compressed: Digest,
    #[serde(default)]
    entities: Option<BTreeMap<String, u64>>,
    trigger: Trigger,
    #[serde(default)]
    labels: BTreeMap<String, String>,
}

/// Builds manifest v1, signed with the trust's private key when it has one; returns
/// `{manifest, text}` (text as written to the store).
#[wasm_bindgen(js_name = buildSignedManifest)]
pub fn build_signed_manifest(input: JsValue, trust: JsValue) -> Result<JsValue, JsValue> {
    let trust = crate::trust_from(trust)?;
    let mut manifest = manifest_from(input)?;
    if let Some(key) = trust.key.as_ref() {
        key.sign(&mut manifest).map_err(coded)?;
    }
    let text = String::from_utf8(manifest.to_json()).expect("JSON is UTF-8");
    to_js(&serde_json::json!({"manifest": manifest, "text": text}))
}

fn manifest_from(input: JsValue) -> Result<Manifest, JsValue> {
    let input: ManifestInput = from_js(input, "manifest fields")?;
    Ok(Manifest {
        format: FORMAT_V1.to_string(),
        id: input.id,
        name: input.name,
        database: input.database,
        created_at: time(input.created_at_ms)?,
        finished_at: time(input.finished_at_ms)?,
        tool_version: crate::tool_version(),
        compression: Compression {
            algorithm: "gzip".to_string(),
            level: input.level,
            extra: Default::default(),
        },
        raw: input.raw,
        compressed: input.compressed,
        entities: input.entities,
        trigger: input.trigger,
        labels: input.labels,
        signature: None,
        extra: Default::default(),
    })
}

/// Parses a stored manifest, refusing newer major formats and other tools' JSON.
#[wasm_bindgen(js_name = parseManifest)]
pub fn parse_manifest(bytes: &[u8]) -> Result<JsValue, JsValue> {
    to_js(&Manifest::from_json(bytes).map_err(coded)?)
}

/// The `sha256sum -c` line for a data object.
#[wasm_bindgen(js_name = sidecarText)]
pub fn sidecar(sha256_hex: &str, file_name: &str) -> String {
    sidecar_text(sha256_hex, file_name)
}

/// The hash a sidecar holds, checking it names `file_name`.
#[wasm_bindgen(js_name = parseSidecar)]
pub fn sidecar_hash(text: &[u8], file_name: &str) -> Result<String, JsValue> {
    parse_sidecar(text, file_name).map_err(coded)
}

/// A `.verify.json` / `.drill.json` record as the native engine writes it.
#[wasm_bindgen(js_name = recordText)]
pub fn record_text(
    at_ms: f64,
    ok: bool,
    duration_ms: f64,
    problems: Vec<String>,
    extra: JsValue,
) -> Result<String, JsValue> {
    let extra = if extra.is_undefined() || extra.is_null() {
        Default::default()
    } else {
        from_js(extra, "record fields")?
    };
    let record = Record {
        at: time(at_ms)?,
        ok,
        duration_ms: duration_ms as u64,
        problems,
        extra,
    };
    Ok(serde_json::to_string_pretty(&record).expect("record serialises"))
}

/// A drill's findings: each kind whose count differs from the manifest's (as `drill.rs`).
#[wasm_bindgen(js_name = compareEntities)]
pub fn compare_entities(expected: JsValue, found: JsValue) -> Result<Vec<String>, JsValue> {
    let expected: Option<BTreeMap<String, u64>> = from_js(expected, "expected entities")?;
    let found: Option<BTreeMap<String, u64>> = from_js(found, "entities")?;
    Ok(entity_count_problems(expected.as_ref(), found.as_ref()))
}

/// Seconds in a duration such as `26h`, `30d`, `1d12h`.
#[wasm_bindgen(js_name = parseDuration)]
pub fn parse_duration(text: &str) -> Result<f64, JsValue> {
    let parsed: HumanDuration = text.parse().map_err(coded)?;
    Ok(parsed.0.num_seconds() as f64)
}
