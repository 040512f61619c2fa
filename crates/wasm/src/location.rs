//! The store as the caller gave it, read by core (`store::StoreSpec`: a folder, a URL or the
//! plugin's store object, and the S3 credentials): one reading and one set of messages for both
//! engines. The glue learns only what it needs to make its file system or S3 calls.

use backstage_backup_core::store::spec::CREDENTIALS_SHAPE;
use backstage_backup_core::store::{S3Credentials, StoreLocation, StoreSpec};
use wasm_bindgen::prelude::*;

use crate::{coded, from_js, to_js};

/// The `s3Credentials` option as JSON (none when absent), read without naming what it holds:
/// it may be the secret.
fn credentials_json(credentials: JsValue) -> Result<Option<serde_json::Value>, JsValue> {
    if credentials.is_undefined() || credentials.is_null() {
        return Ok(None);
    }
    serde_wasm_bindgen::from_value(credentials)
        .map(Some)
        .map_err(|_| coded(backstage_backup_core::Error::invalid(CREDENTIALS_SHAPE)))
}

fn spec_from(store: JsValue, credentials: JsValue) -> Result<StoreSpec, JsValue> {
    let store: serde_json::Value = from_js(store, "store")?;
    StoreSpec::from_json(&store, credentials_json(credentials)?.as_ref()).map_err(coded)
}

/// `{kind: 'local', path, describe}` or `{kind: 's3', location, credentials?, describe}`
/// (`location`: core's S3Location, camelCase; `credentials`: as @aws-sdk/client-s3 takes them);
/// `describe` is safe to show.
#[wasm_bindgen(js_name = resolveStore)]
pub fn resolve_store(store: JsValue, credentials: JsValue) -> Result<JsValue, JsValue> {
    let spec = spec_from(store, credentials)?;
    let describe = spec.location.describe();
    let value = match spec.location {
        StoreLocation::Local(path) => serde_json::json!({
            "kind": "local",
            "path": path.to_string_lossy(),
            "describe": describe,
        }),
        StoreLocation::S3(location) => serde_json::json!({
            "kind": "s3",
            "location": location,
            "credentials": spec.credentials.map(|c| serde_json::json!({
                "accessKeyId": c.access_key_id,
                "secretAccessKey": c.secret_access_key,
                "sessionToken": c.session_token,
            })),
            "describe": describe,
        }),
    };
    to_js(&value)
}

/// Refuses S3 credentials of the wrong shape when the engine is made (core's rule), never
/// echoing a value.
#[wasm_bindgen(js_name = checkS3Credentials)]
pub fn check_s3_credentials(credentials: JsValue) -> Result<(), JsValue> {
    match credentials_json(credentials)? {
        Some(value) => S3Credentials::from_json(&value).map(drop).map_err(coded),
        None => Ok(()),
    }
}

/// Judges a local store folder's owners and modes (`core::folder_safety::judge`): `chain` is
/// `[{path, uid, gid, mode}]` from the store folder (or where it will be made) up to `/`.
#[wasm_bindgen(js_name = judgeStoreFolders)]
pub fn judge_store_folders(chain: JsValue, uid: u32, gid: u32) -> Result<(), JsValue> {
    let chain: Vec<backstage_backup_core::folder_safety::FolderFacts> =
        crate::from_js(chain, "folders")?;
    backstage_backup_core::folder_safety::judge(&chain, uid, gid).map_err(coded)
}

/// Whether the environment opts out of the folder checks (`BACKSTAGE_BACKUP_INSECURE_STORE=1`),
/// by core's rule.
#[wasm_bindgen(js_name = insecureStoreAllowed)]
pub fn insecure_store_allowed() -> bool {
    use backstage_backup_core::folder_safety::{insecure_store_opted_in, INSECURE_STORE_ENV};
    insecure_store_opted_in(
        backstage_backup_core::host::host()
            .env_var(INSECURE_STORE_ENV)
            .as_deref(),
    )
}

/// The parallel gzip's block and dictionary sizes (core's, as the native compressor uses).
#[wasm_bindgen(js_name = gzipBlocks)]
pub fn gzip_blocks() -> Result<JsValue, JsValue> {
    use backstage_backup_core::pipeline::{GZIP_BLOCK_BYTES, GZIP_DICTIONARY_BYTES};
    to_js(&serde_json::json!({
        "blockBytes": GZIP_BLOCK_BYTES,
        "dictionaryBytes": GZIP_DICTIONARY_BYTES,
    }))
}
