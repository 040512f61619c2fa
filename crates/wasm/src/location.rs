//! Store URLs for the glue, read by core's parser (`core::location`): one reading of `file:`
//! (RFC 8089) and `s3://` URLs, and one set of messages, for both engines.

use backstage_backup_core::location::{ServerSideEncryption, StoreLocation};
use wasm_bindgen::prelude::*;

use crate::{coded, to_js};

/// `{kind: 'local', path}` or `{kind: 's3', bucket, prefix, region, endpoint, pathStyle, sse}`
/// (`sse`: `{kind: 'AES256'}` or `{kind: 'aws:kms', keyId}`), and `describe`: safe to show.
#[wasm_bindgen(js_name = parseStoreLocation)]
pub fn parse_store_location(text: &str) -> Result<JsValue, JsValue> {
    let location = StoreLocation::parse(text).map_err(coded)?;
    let describe = location.describe();
    let value = match location {
        StoreLocation::Local(path) => serde_json::json!({
            "kind": "local",
            "path": path.to_string_lossy(),
            "describe": describe,
        }),
        StoreLocation::S3(s3) => serde_json::json!({
            "kind": "s3",
            "bucket": s3.bucket,
            "prefix": s3.prefix,
            "region": s3.region,
            "endpoint": s3.endpoint,
            "pathStyle": s3.path_style,
            "sse": match s3.sse {
                None => serde_json::Value::Null,
                Some(ServerSideEncryption::Aes256) => serde_json::json!({"kind": "AES256"}),
                Some(ServerSideEncryption::Kms { key_id }) => {
                    serde_json::json!({"kind": "aws:kms", "keyId": key_id})
                }
            },
            "describe": describe,
        }),
    };
    to_js(&value)
}

/// Judges a local store folder's owners and modes (`core::folder_safety::judge`): `chain` is
/// `[{path, uid, gid, mode}]` from the store folder (or where it will be made) up to `/`.
#[wasm_bindgen(js_name = judgeStoreFolders)]
pub fn judge_store_folders(chain: JsValue, uid: u32, gid: u32) -> Result<(), JsValue> {
    let chain: Vec<backstage_backup_core::folder_safety::FolderFacts> =
        crate::from_js(chain, "folders")?;
    backstage_backup_core::folder_safety::judge(&chain, uid, gid).map_err(coded)
}
