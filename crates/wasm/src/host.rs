//! core's `Host` over JS: wasm32 has no clock, timer, process, files or environment, so the glue
//! hands in an object with `thisProcess()`, `pidAlive(pid)`, `randomToken()`, `sleep(ms)`,
//! `envVar(name)`, `readSmallFile(path, max)`, `isFile(path)`, `listDir(path)` and
//! `toolVersion(program)`; the clock is `Date.now`.

use backstage_backup_core::host::{install, Host};
use backstage_backup_core::marker::Owner;
use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use send_wrapper::SendWrapper;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::coded;
use crate::js::{call, error_from_js};

struct JsHost {
    object: SendWrapper<JsValue>,
}

impl Host for JsHost {
    fn now(&self) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(js_sys::Date::now() as i64).unwrap_or_default()
    }

    fn sleep(&self, duration: std::time::Duration) -> BoxFuture<'static, ()> {
        let promise = call(
            &self.object,
            "sleep",
            &[(duration.as_millis() as f64).into()],
        );
        Box::pin(SendWrapper::new(async move {
            if let Ok(promise) = promise {
                let _ = JsFuture::from(js_sys::Promise::from(promise)).await;
            }
        }))
    }

    fn this_process(&self) -> Owner {
        call(&self.object, "thisProcess", &[])
            .and_then(|v| serde_wasm_bindgen::from_value(v).map_err(|e| error_from_js(e.into())))
            // No identity: the marker names a process nobody can judge gone, so only the
            // grace period clears it (the safe side).
            .unwrap_or(Owner {
                host: String::new(),
                boot_id: None,
                pid_namespace: None,
                pid: 0,
            })
    }

    fn pid_alive(&self, pid: u32) -> bool {
        call(&self.object, "pidAlive", &[pid.into()])
            .map(|v| v.is_truthy())
            // A liveness check that fails says nothing: alive.
            .unwrap_or(true)
    }

    fn random_token(&self) -> String {
        call(&self.object, "randomToken", &[])
            .ok()
            .and_then(|v| v.as_string())
            .filter(|t| t.len() == 32 && t.bytes().all(|b| b.is_ascii_hexdigit()))
            .expect("the host's randomToken() returns 32 hex digits")
    }

    fn env_var(&self, name: &str) -> Option<String> {
        call(&self.object, "envVar", &[name.into()])
            .ok()
            .and_then(|v| v.as_string())
    }

    fn read_small_file(&self, path: &std::path::Path, max: u64) -> std::io::Result<Vec<u8>> {
        let path = path
            .to_str()
            .ok_or_else(|| std::io::Error::other("the path is not UTF-8"))?;
        let bytes = call(
            &self.object,
            "readSmallFile",
            &[path.into(), (max as f64).into()],
        )
        .map_err(|e| std::io::Error::other(e.message().to_string()))?;
        Ok(js_sys::Uint8Array::new(&bytes).to_vec())
    }

    fn is_file(&self, path: &std::path::Path) -> bool {
        path.to_str()
            .and_then(|p| call(&self.object, "isFile", &[p.into()]).ok())
            .is_some_and(|v| v.is_truthy())
    }

    fn list_dir(&self, path: &std::path::Path) -> Vec<String> {
        path.to_str()
            .and_then(|p| call(&self.object, "listDir", &[p.into()]).ok())
            .and_then(|v| serde_wasm_bindgen::from_value(v).ok())
            .unwrap_or_default()
    }

    fn tool_version(&self, program: &std::path::Path) -> BoxFuture<'static, Option<String>> {
        let promise = program
            .to_str()
            .and_then(|p| call(&self.object, "toolVersion", &[p.into()]).ok());
        Box::pin(SendWrapper::new(async move {
            let promise = js_sys::Promise::resolve(&promise?);
            JsFuture::from(promise).await.ok()?.as_string()
        }))
    }
}

/// Installs the glue's host once per module; every store protocol and config reader uses it.
#[wasm_bindgen(js_name = installHost)]
pub fn install_host(host: JsValue) -> Result<(), JsValue> {
    for method in [
        "thisProcess",
        "pidAlive",
        "randomToken",
        "sleep",
        "envVar",
        "readSmallFile",
        "isFile",
        "listDir",
        "toolVersion",
    ] {
        let f = js_sys::Reflect::get(&host, &method.into()).unwrap_or(JsValue::UNDEFINED);
        if !f.is_function() {
            return Err(coded(backstage_backup_core::Error::internal(format!(
                "the host has no {method}()"
            ))));
        }
    }
    install(Box::new(JsHost {
        object: SendWrapper::new(host),
    }));
    Ok(())
}
