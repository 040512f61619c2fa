//! backstage-backup's WebAssembly engine core: the pure parts of backstage-backup-core for the
//! Node package's fallback engine (`pkg/wasm-engine/`). The JS glue does all I/O (pg_dump, psql,
//! files, S3) and calls in here for every decision and every byte transform, so both engines
//! share one implementation of the store format, the listing rules, retention and health.
//!
//! Values cross to the glue as plain JS objects with serde's snake_case names
//! (serde-wasm-bindgen); the glue hands each operation's result to `jsShape` once, at the
//! engine's boundary (`pkg/wasm-engine/engine.js`), for the camelCase names callers get.
//! Options arrive as callers pass them (camelCase). Failures are JS `Error`s carrying the core's
//! stable `code` (`E_INVALID`, `E_INTEGRITY`, …).

mod client;
mod database;
mod folder;
mod host;
mod js;
mod listing;
mod location;
mod ops;
mod options;
mod s3;
mod session;
mod store;
mod stream;

use backstage_backup_core::Error;
use serde::{de::DeserializeOwned, Serialize};
use wasm_bindgen::prelude::*;

pub use client::*;
pub use database::*;
pub use host::*;
pub use listing::*;
pub use location::*;
pub use ops::*;
pub use options::*;
pub use session::*;
pub use stream::*;

/// A JS `Error` with the core error's stable code, and its cause as `reason` when it has one.
pub(crate) fn coded(err: Error) -> JsValue {
    let js = js_sys::Error::new(err.message());
    let _ = js_sys::Reflect::set(&js, &"code".into(), &err.kind().code().into());
    if let Some(reason) = err
        .cause()
        .and_then(|c| serde_wasm_bindgen::to_value(&c).ok())
    {
        let _ = js_sys::Reflect::set(&js, &"reason".into(), &reason);
    }
    js.into()
}

pub(crate) fn to_js(value: &impl Serialize) -> Result<JsValue, JsValue> {
    // Maps as plain objects and 64-bit counts as numbers: what JSON.parse would give.
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| coded(Error::internal(format!("serialising a result: {e}"))))
}

pub(crate) fn from_js<T: DeserializeOwned>(value: JsValue, what: &str) -> Result<T, JsValue> {
    serde_wasm_bindgen::from_value(value).map_err(|e| coded(Error::invalid(format!("{what}: {e}"))))
}

/// The signing trust the JS glue carries: `{key?: PEM text, allow_unsigned?: bool}`; the key's
/// text is never echoed in an error.
#[derive(serde::Deserialize, Default)]
struct TrustInput {
    #[serde(default)]
    key: Option<String>,
    #[serde(default)]
    allow_unsigned: bool,
}

pub(crate) fn trust_from(value: JsValue) -> Result<backstage_backup_core::signing::Trust, JsValue> {
    let input: TrustInput = if value.is_undefined() || value.is_null() {
        TrustInput::default()
    } else {
        serde_wasm_bindgen::from_value(value).map_err(|_| {
            coded(Error::invalid(
                "signing must be {key?: PEM text, keyFile?: path, allowUnsigned?: boolean}",
            ))
        })?
    };
    backstage_backup_core::signing::Trust::from_pem(
        input.key.as_deref().filter(|k| !k.trim().is_empty()),
        "signing.key",
        input.allow_unsigned,
    )
    .map_err(coded)
}

/// Checks the signing settings once, when the engine is made: `{key_id, can_sign}` or null.
#[wasm_bindgen(js_name = checkTrust)]
pub fn check_trust(trust: JsValue) -> Result<JsValue, JsValue> {
    let trust = trust_from(trust)?;
    to_js(
        &trust
            .key
            .as_ref()
            .map(|k| serde_json::json!({"key_id": k.key_id(), "can_sign": k.can_sign()})),
    )
}

/// Compression threads for `requested` (0: one per core) on a machine of `cores`: core's rule,
/// the CLI's and the native engine's too; throws E_INVALID past the limit.
#[wasm_bindgen(js_name = compressionThreads)]
pub fn compression_threads(requested: f64, cores: u32) -> Result<u32, JsValue> {
    if !(requested >= 0.0 && requested.fract() == 0.0 && requested <= u64::MAX as f64) {
        return Err(coded(Error::invalid(format!(
            "threads must be a whole number from 0 (one per core) to {}, not {requested}",
            backstage_backup_core::pipeline::MAX_THREADS
        ))));
    }
    backstage_backup_core::pipeline::compression_threads(requested as u64, cores as usize)
        .map(|n| n as u32)
        .map_err(coded)
}
