//! Calling the glue's JS objects from Rust: methods by name, promises awaited, JS errors back
//! into core errors by their stable code.

use backstage_backup_core::{Error, ErrorKind};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

/// A JS error as a core error: a `BackupError`'s code keeps its kind; anything else (a
/// TypeError, a thrown string) is internal.
pub(crate) fn error_from_js(err: JsValue) -> Error {
    let field = |name: &str| {
        js_sys::Reflect::get(&err, &name.into())
            .ok()
            .and_then(|v| v.as_string())
    };
    let code = field("code");
    let message = field("message")
        .or_else(|| err.as_string())
        .unwrap_or_else(|| "an unknown JS error".to_string());
    // A file system call of the folder store that failed (`{code: 'ENOSPC', where, doing}`):
    // core words it, as it does natively.
    if let (Some(code), Some(place), Some(doing)) = (&code, field("where"), field("doing")) {
        let kind = backstage_backup_core::store::io_kind_of_code(code);
        return backstage_backup_core::store::io_error(
            &place,
            &doing,
            std::io::Error::new(kind, message),
        );
    }
    let kind = code
        .as_deref()
        .and_then(ErrorKind::from_code)
        .unwrap_or(ErrorKind::Internal);
    Error::new(kind, message)
}

/// Calls `object[name](...args)`; a throw or a missing method is an error.
pub(crate) fn call(object: &JsValue, name: &str, args: &[JsValue]) -> Result<JsValue, Error> {
    let method = js_sys::Reflect::get(object, &name.into()).map_err(error_from_js)?;
    let method: &js_sys::Function = method
        .dyn_ref()
        .ok_or_else(|| Error::internal(format!("the JS object has no {name}()")))?;
    let args: js_sys::Array = args.iter().collect();
    method.apply(object, &args).map_err(error_from_js)
}

/// Calls `object[name](...args)` now and gives a future of what it returns (a promise or a
/// value). A failure stays the JS value thrown or rejected, so each caller reads it its own way
/// (core's error, an S3 failure, an io::Error); the request is on its way before the first poll.
pub(crate) fn call_now(
    object: &JsValue,
    name: &str,
    args: &[JsValue],
) -> impl std::future::Future<Output = Result<JsValue, JsValue>> {
    let called = js_sys::Reflect::get(object, &name.into())
        .and_then(|method| {
            method
                .dyn_into::<js_sys::Function>()
                .map_err(|_| JsValue::from_str(&format!("the JS object has no {name}()")))
        })
        .and_then(|method| method.apply(object, &args.iter().collect()));
    async move { JsFuture::from(js_sys::Promise::resolve(&called?)).await }
}

/// Calls `object[name](...args)` and awaits what it returns (a promise or a value).
pub(crate) async fn call_async(
    object: &JsValue,
    name: &str,
    args: &[JsValue],
) -> Result<JsValue, Error> {
    call_now(object, name, args).await.map_err(error_from_js)
}
