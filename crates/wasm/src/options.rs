//! An operation's options checked by core (`engine_options`), and its result put in the shape
//! JavaScript callers get (`js_shape`): the two ends of every engine call, as the native engine
//! has them.

use backstage_backup_core::engine_options::{DrillCallOptions, RestoreCallOptions};
use backstage_backup_core::js_shape::camel_case_names;
use backstage_backup_core::Error;
use wasm_bindgen::prelude::*;

use crate::{coded, from_js, to_js};

/// A caller's options through JSON, as the native engine gets them: functions and `undefined`
/// drop out, so both engines see the same keys.
pub(crate) fn options_json(value: &JsValue, what: &str) -> Result<serde_json::Value, JsValue> {
    match js_sys::JSON::stringify(value)
        .ok()
        .and_then(|text| text.as_string())
    {
        Some(text) => {
            serde_json::from_str(&text).map_err(|e| coded(Error::invalid(format!("{what}: {e}"))))
        }
        None => Ok(serde_json::Value::Object(Default::default())),
    }
}

/// A restore's options (`{clean, safety_backup}` with defaults applied); throws E_INVALID for
/// an unknown one.
#[wasm_bindgen(js_name = checkRestore)]
pub fn check_restore(options: JsValue) -> Result<JsValue, JsValue> {
    let call = RestoreCallOptions::from_json(&options_json(&options, "restore options")?)
        .map_err(coded)?;
    to_js(&serde_json::json!({
        "clean": call.clean.unwrap_or(false),
        "safety_backup": call.safety_backup.unwrap_or(true),
    }))
}

/// Throws E_INVALID when a drill's options hold an unknown one.
#[wasm_bindgen(js_name = checkDrill)]
pub fn check_drill(options: JsValue) -> Result<(), JsValue> {
    DrillCallOptions::from_json(&options_json(&options, "drill options")?)
        .map(|_| ())
        .map_err(coded)
}

/// An operation's result as callers get it: core's serde value with camelCase field names
/// (label and entity maps keep their keys).
#[wasm_bindgen(js_name = jsShape)]
pub fn js_shape(value: JsValue) -> Result<JsValue, JsValue> {
    to_js(&camel_case_names(from_js(value, "result")?))
}
