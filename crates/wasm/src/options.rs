//! The two ends of every engine call, as the native engine has them: the caller's options as
//! JSON for core's `engine_options`, and the result in the shape JavaScript callers get
//! (`js_shape`).

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

/// An operation's result as callers get it: core's serde value with camelCase field names
/// (label and entity maps keep their keys).
#[wasm_bindgen(js_name = jsShape)]
pub fn js_shape(value: JsValue) -> Result<JsValue, JsValue> {
    to_js(&camel_case_names(from_js(value, "result")?))
}
