//! What the drill glue still writes and compares: `.drill.json` records and the entity counts
//! of a drill against its manifest.

use std::collections::BTreeMap;

use backstage_backup_core::listing::Record;
use backstage_backup_core::manifest::entity_count_problems;
use wasm_bindgen::prelude::*;

use crate::{from_js, time};

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
