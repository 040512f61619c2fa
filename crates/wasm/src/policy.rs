//! Retention (prune's plan) and health: pure decisions over listed backups, taking `now`.

use backstage_backup_core::duration::HumanDuration;
use backstage_backup_core::health::{evaluate, HealthRequest, HealthThresholds};
use backstage_backup_core::read_hold::{holds_in, ReadHold, HOLD_TTL_HOURS};
use backstage_backup_core::retention::{plan_listing, RetentionPolicy};
use backstage_backup_core::Error;
use serde::Deserialize;
use wasm_bindgen::prelude::*;

use crate::listing::{deletion_keys, entries_from};
use crate::{coded, from_js, time, to_js};

#[derive(Deserialize, Default)]
struct PolicyJs {
    keep_last: Option<f64>,
    keep_daily: Option<f64>,
    keep_weekly: Option<f64>,
    keep_monthly: Option<f64>,
    keep_within: Option<String>,
}

fn count(value: Option<f64>, key: &str) -> Result<Option<u32>, JsValue> {
    match value {
        None => Ok(None),
        Some(n) if n >= 0.0 && n.fract() == 0.0 && n <= u32::MAX as f64 => Ok(Some(n as u32)),
        Some(_) => Err(coded(Error::invalid(format!(
            "{key} must be a whole number"
        )))),
    }
}

/// Prune's plan: `{decisions, delete: [{id, keys, bytes}], freed_bytes, untouched,
/// expired_holds}`. Only complete backups are candidates; legacy ones are listed as untouched;
/// `keys` are in deletion order. `store_keys` (the store's object keys, listed after the
/// store lock was taken) spare backups with a live read hold; expired holds are returned to
/// be deleted.
#[wasm_bindgen(js_name = prunePlan)]
pub fn prune_plan(
    entries: JsValue,
    policy: JsValue,
    now_ms: f64,
    store_keys: Option<Vec<String>>,
    trust: JsValue,
) -> Result<JsValue, JsValue> {
    let trust = crate::trust_from(trust)?;
    let p: PolicyJs = from_js(policy, "prune options")?;
    let policy = RetentionPolicy {
        keep_last: count(p.keep_last, "keep_last")?,
        keep_daily: count(p.keep_daily, "keep_daily")?,
        keep_weekly: count(p.keep_weekly, "keep_weekly")?,
        keep_monthly: count(p.keep_monthly, "keep_monthly")?,
        keep_within: p
            .keep_within
            .as_deref()
            .map(str::parse::<HumanDuration>)
            .transpose()
            .map_err(coded)?,
    };
    let entries = entries_from(entries)?;
    let now = time(now_ms)?;
    let mut plan = plan_listing(&entries, &policy, now, &trust).map_err(coded)?;
    let keys = store_keys.unwrap_or_default();
    let (holds, expired) = holds_in(keys.iter().map(String::as_str), now);
    plan.spare_held(&holds, now);
    let expired_holds: Vec<String> = expired.into_iter().map(|h| h.key).collect();
    let delete = plan
        .delete
        .iter()
        .map(|e| {
            Ok(serde_json::json!({
                "id": e.id(),
                "keys": deletion_keys(&e.id())?,
                "bytes": e.bytes.unwrap_or(0),
            }))
        })
        .collect::<Result<Vec<_>, JsValue>>()?;
    let (decisions, freed_bytes, untouched) = (plan.decisions, plan.freed_bytes, plan.untouched);
    to_js(&serde_json::json!({
        "decisions": decisions,
        "delete": delete,
        "freed_bytes": freed_bytes,
        "untouched": untouched,
        "expired_holds": expired_holds,
    }))
}

/// Health's options, parsed by core's one parser (the CLI and the native engine use it too).
fn thresholds(value: JsValue) -> Result<HealthThresholds, JsValue> {
    let request: serde_json::Value = if value.is_undefined() || value.is_null() {
        serde_json::Value::Object(Default::default())
    } else {
        from_js(value, "health options")?
    };
    HealthRequest::from_json(request)
        .and_then(|r| r.thresholds())
        .map_err(coded)
}

/// Validates health options; throws `E_INVALID`.
#[wasm_bindgen(js_name = checkHealthOptions)]
pub fn check_health_options(options: JsValue) -> Result<(), JsValue> {
    thresholds(options).map(|_| ())
}

/// The health report for listed backups (newest first), as `core::health::evaluate`.
#[wasm_bindgen(js_name = evaluateHealth)]
pub fn evaluate_health(
    entries: JsValue,
    options: JsValue,
    now_ms: f64,
    store: &str,
    trust: JsValue,
) -> Result<JsValue, JsValue> {
    let thresholds = thresholds(options)?;
    let trust = crate::trust_from(trust)?;
    let entries = entries_from(entries)?;
    to_js(&evaluate(
        &entries,
        &thresholds,
        time(now_ms)?,
        store,
        &trust,
    ))
}

/// The report for a store that could not be read: UNKNOWN, as the native engine says it.
#[wasm_bindgen(js_name = unreadableHealth)]
pub fn unreadable_health(
    message: &str,
    options: JsValue,
    now_ms: f64,
    store: &str,
) -> Result<JsValue, JsValue> {
    let thresholds = thresholds(options)?;
    to_js(&serde_json::json!({
        "status": "UNKNOWN",
        "summary": format!("store: {message}"),
        "checks": [{"name": "store", "status": "UNKNOWN", "message": message}],
        "checked_at": time(now_ms)?,
        "store": store,
        "last_backup": null,
        "last_verify": null,
        "last_drill": null,
        "max_age_seconds": thresholds.max_age.num_seconds(),
    }))
}

/// The key of a read hold (see core's `read_hold`): both engines name holds alike.
#[wasm_bindgen(js_name = holdKey)]
pub fn hold_key(
    backup_id: &str,
    purpose: &str,
    expires_ms: f64,
    token: &str,
) -> Result<String, JsValue> {
    Ok(ReadHold::new(backup_id, purpose, time(expires_ms)?, token).key)
}

/// How long a read hold lives if its reader never removes it.
#[wasm_bindgen(js_name = holdTtlMs)]
pub fn hold_ttl_ms() -> f64 {
    (HOLD_TTL_HOURS * 3_600_000) as f64
}
