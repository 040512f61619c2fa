//! Manifest v1: what a backup is, written last so its presence means the backup is complete.
//! Unknown fields are kept on read and written back; a newer major format is refused.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

pub const FORMAT_V1: &str = "backstage-backup/v1";
const FORMAT_PREFIX: &str = "backstage-backup/v";
/// A manifest is a few KiB; anything far larger is not one of ours.
pub const MAX_MANIFEST_BYTES: usize = 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS), ts(rename_all = "camelCase"))]
pub struct Manifest {
    pub format: String,
    pub id: String,
    /// The data object's name, relative to the store prefix.
    pub name: String,
    pub database: DatabaseInfo,
    pub created_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub tool_version: String,
    pub compression: Compression,
    pub raw: Digest,
    pub compressed: Digest,
    /// Catalog entities by lowercase kind, read in the dump's own snapshot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entities: Option<BTreeMap<String, u64>>,
    pub trigger: Trigger,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Ed25519 signature over every other field (`signing`): present when the writer held a key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<crate::signing::ManifestSignature>,
    /// Fields written by newer minor versions, kept as they were.
    #[serde(flatten)]
    #[cfg_attr(test, ts(skip))]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS), ts(rename_all = "camelCase"))]
pub struct DatabaseInfo {
    /// Database name, e.g. `backstage_plugin_catalog`.
    pub name: String,
    /// Backstage plugin id the database belongs to, e.g. `catalog`.
    pub plugin_id: String,
    /// Host and port only; never credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pg_dump_version: Option<String>,
    /// Name of the newest applied knex migration: what schema version a restore brings back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latest_migration: Option<String>,
    #[serde(flatten)]
    #[cfg_attr(test, ts(skip))]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS), ts(rename_all = "camelCase"))]
pub struct Compression {
    pub algorithm: String,
    pub level: u32,
    #[serde(flatten)]
    #[cfg_attr(test, ts(skip))]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS), ts(rename_all = "camelCase"))]
pub struct Digest {
    pub bytes: u64,
    pub sha256: String,
}

/// Why a backup was taken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS), ts(rename_all = "camelCase"))]
pub struct Trigger {
    pub kind: TriggerKind,
    /// Who asked for it (a user entity ref or a login), for manual backups.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub enum TriggerKind {
    Scheduled,
    Manual,
    PreUpgrade,
    Safety,
}

impl TriggerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TriggerKind::Scheduled => "scheduled",
            TriggerKind::Manual => "manual",
            TriggerKind::PreUpgrade => "pre-upgrade",
            TriggerKind::Safety => "safety",
        }
    }

    pub fn parse(text: &str) -> Result<Self> {
        match text {
            "scheduled" => Ok(TriggerKind::Scheduled),
            "manual" => Ok(TriggerKind::Manual),
            "pre-upgrade" => Ok(TriggerKind::PreUpgrade),
            "safety" => Ok(TriggerKind::Safety),
            other => Err(Error::invalid(format!(
                "unknown trigger '{}': use scheduled, manual, pre-upgrade or safety",
                crate::naming::printable(other)
            ))),
        }
    }
}

impl Manifest {
    /// Parses a manifest, refusing other tools' JSON and newer major formats with a clear message.
    pub fn from_json(bytes: &[u8]) -> Result<Self> {
        if bytes.len() > MAX_MANIFEST_BYTES {
            return Err(Error::integrity(format!(
                "manifest is {} bytes, over the {MAX_MANIFEST_BYTES}-byte limit: it is not a backstage-backup manifest",
                bytes.len()
            )));
        }
        // Look at the format first, so a v2 manifest says "upgrade" rather than "missing field".
        let value: serde_json::Value = serde_json::from_slice(bytes)
            .map_err(|e| Error::integrity(format!("manifest is not valid JSON: {e}")))?;
        let format = value
            .get("format")
            .and_then(|f| f.as_str())
            .ok_or_else(|| Error::integrity("manifest has no \"format\" field"))?;
        let major = format
            .strip_prefix(FORMAT_PREFIX)
            .and_then(|v| v.split('.').next())
            .and_then(|v| v.parse::<u32>().ok())
            .ok_or_else(|| {
                Error::integrity(format!(
                    "manifest format '{}' is not a backstage-backup format",
                    crate::naming::printable(format)
                ))
            })?;
        if major > 1 {
            return Err(Error::invalid(format!(
                "manifest format {} is newer than this tool understands ({FORMAT_V1}); \
                 upgrade backstage-backup to read it",
                crate::naming::printable(format)
            )));
        }
        // serde's messages quote the offending value (an unknown variant as it was written).
        let manifest: Manifest = serde_json::from_value(value).map_err(|e| {
            Error::integrity(format!(
                "manifest does not match {FORMAT_V1}: {}",
                crate::naming::printable(&e.to_string())
            ))
        })?;
        // What is read must be writable and readable again: deeply nested unknown fields grow
        // many times over when written back indented.
        let written = manifest.to_json().len();
        if written > MAX_MANIFEST_BYTES {
            return Err(Error::integrity(format!(
                "manifest is {written} bytes when written out, over the {MAX_MANIFEST_BYTES}-byte \
                 limit: it is not a backstage-backup manifest"
            )));
        }
        Ok(manifest)
    }

    pub fn to_json(&self) -> Vec<u8> {
        let mut out = serde_json::to_vec_pretty(self).expect("manifest serialises");
        out.push(b'\n');
        out
    }

    pub fn entity_total(&self) -> Option<u64> {
        self.entities.as_ref().map(|e| e.values().sum())
    }
}

/// The `sha256sum -c` sidecar line for a data object.
pub fn sidecar_text(sha256_hex: &str, file_name: &str) -> String {
    format!("{sha256_hex}  {file_name}\n")
}

/// Reads the hash out of a sidecar, checking it names the expected file.
pub fn parse_sidecar(text: &[u8], file_name: &str) -> Result<String> {
    let text =
        std::str::from_utf8(text).map_err(|_| Error::integrity("sidecar .sha256 is not text"))?;
    let line = text.lines().next().unwrap_or("");
    let (hash, name) = line
        .split_once("  ")
        .or_else(|| line.split_once(" *"))
        .ok_or_else(|| Error::integrity("sidecar .sha256 is not in `sha256sum` format"))?;
    if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Error::integrity("sidecar .sha256 holds no SHA-256 hash"));
    }
    if name.trim_end() != file_name {
        return Err(Error::integrity(format!(
            "sidecar .sha256 names '{}', not '{file_name}'",
            crate::naming::printable(name)
        )));
    }
    Ok(hash.to_ascii_lowercase())
}

/// Validates `key=value` labels: keys are short identifiers, values single-line text.
pub fn validate_label(key: &str, value: &str) -> Result<()> {
    let key_ok = !key.is_empty()
        && key.len() <= 63
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'/'));
    if !key_ok {
        return Err(Error::invalid(format!(
            "label key '{}' must be 1-63 letters, digits, '-', '_', '.' or '/'",
            crate::naming::printable(key)
        )));
    }
    if value.len() > 256 || value.chars().any(char::is_control) {
        return Err(Error::invalid(format!(
            "label {key}'s value must be at most 256 characters on one line"
        )));
    }
    Ok(())
}

/// Differences between the manifest's entity counts and what the restore produced.
pub fn entity_count_problems(
    expected: Option<&BTreeMap<String, u64>>,
    found: Option<&BTreeMap<String, u64>>,
) -> Vec<String> {
    let Some(expected) = expected else {
        return Vec::new();
    };
    let empty = BTreeMap::new();
    let found = found.unwrap_or(&empty);
    let mut kinds: Vec<&String> = expected.keys().chain(found.keys()).collect();
    kinds.sort();
    kinds.dedup();
    kinds
        .into_iter()
        .filter_map(|kind| {
            let want = expected.get(kind).copied().unwrap_or(0);
            let got = found.get(kind).copied().unwrap_or(0);
            (want != got).then(|| {
                format!(
                    "{kind}: the manifest says {want} entities, the restored database has {got}"
                )
            })
        })
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn sample() -> Manifest {
        let now = DateTime::parse_from_rfc3339("2026-11-25T02:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        Manifest {
            format: FORMAT_V1.into(),
            id: "backstage-catalog-20261125_020000".into(),
            name: "backstage-catalog-20261125_020000.sql.gz".into(),
            database: DatabaseInfo {
                name: "backstage_plugin_catalog".into(),
                plugin_id: "catalog".into(),
                host: Some("127.0.0.1:5432".into()),
                schema: None,
                server_version: Some("15.20".into()),
                pg_dump_version: Some("15.20".into()),
                latest_migration: Some("20250101_x.js".into()),
                extra: Default::default(),
            },
            created_at: now,
            finished_at: now,
            tool_version: "0.1.0".into(),
            compression: Compression {
                algorithm: "gzip".into(),
                level: 6,
                extra: Default::default(),
            },
            raw: Digest {
                bytes: 10,
                sha256: "a".repeat(64),
            },
            compressed: Digest {
                bytes: 5,
                sha256: "b".repeat(64),
            },
            entities: Some([("component".to_string(), 3)].into()),
            trigger: Trigger {
                kind: TriggerKind::PreUpgrade,
                by: None,
            },
            labels: [("backstage".to_string(), "1.45.0".to_string())].into(),
            signature: None,
            extra: Default::default(),
        }
    }

    #[test]
    fn round_trips_and_keeps_unknown_fields() {
        let mut value: serde_json::Value = serde_json::from_slice(&sample().to_json()).unwrap();
        value["futureField"] = serde_json::json!({"x": 1});
        value["database"]["replica"] = serde_json::json!("r1");
        let parsed = Manifest::from_json(value.to_string().as_bytes()).unwrap();
        let again: serde_json::Value = serde_json::from_slice(&parsed.to_json()).unwrap();
        assert_eq!(again, value);
        assert_eq!(value["trigger"]["kind"], "pre-upgrade");
    }

    #[test]
    fn newer_major_format_is_refused_with_upgrade_hint() {
        let mut value: serde_json::Value = serde_json::from_slice(&sample().to_json()).unwrap();
        value["format"] = "backstage-backup/v2".into();
        let err = Manifest::from_json(value.to_string().as_bytes()).unwrap_err();
        assert!(err.message().contains("upgrade backstage-backup"), "{err}");
    }

    #[test]
    fn garbage_is_an_integrity_error_not_a_panic() {
        let deep = "[".repeat(100_000);
        for bad in [
            &b"not json"[..],
            b"{}",
            b"{\"format\": 7}",
            b"{\"format\": \"other/v1\"}",
            deep.as_bytes(),
        ] {
            let err = Manifest::from_json(bad).unwrap_err();
            assert_eq!(err.kind(), crate::error::ErrorKind::Integrity, "{err}");
        }
        let huge = vec![b' '; MAX_MANIFEST_BYTES + 1];
        assert!(Manifest::from_json(&huge).is_err());
    }

    #[test]
    fn sidecar_matches_sha256sum_format() {
        let hash = "ab".repeat(32);
        let text = sidecar_text(&hash, "x.sql.gz");
        assert_eq!(text, format!("{hash}  x.sql.gz\n"));
        assert_eq!(parse_sidecar(text.as_bytes(), "x.sql.gz").unwrap(), hash);
        assert!(parse_sidecar(text.as_bytes(), "y.sql.gz").is_err());
        assert!(parse_sidecar(b"zz  x.sql.gz\n", "x.sql.gz").is_err());
    }
}
