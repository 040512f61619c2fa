//! An engine call's options as JavaScript passes them (camelCase, one object): the database the
//! call names and the call's own options. Both engines parse them here; a key that is not an
//! option is `E_INVALID` naming it, so a misspelt option never falls back to a default unseen.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::backup_writer::BackupRequest;
use crate::error::{Error, Result};
use crate::naming::printable;
use crate::source::DatabaseRequest;

/// `engine.backup(options)`.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS), ts(rename = "BackupOptions"))]
pub struct BackupCallOptions {
    #[serde(flatten)]
    #[cfg_attr(test, ts(flatten))]
    pub database: DatabaseRequest,
    #[serde(flatten)]
    #[cfg_attr(test, ts(flatten))]
    pub backup: BackupRequest,
    /// Keys no option took: refused by `from_json`.
    #[serde(flatten)]
    #[cfg_attr(test, ts(skip))]
    unknown: BTreeMap<String, serde_json::Value>,
}

/// `engine.restore(selector, options)`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(
    test,
    derive(ts_rs::TS),
    ts(rename = "RestoreOptions", optional_fields)
)]
pub struct RestoreCallOptions {
    #[serde(flatten)]
    #[cfg_attr(test, ts(flatten))]
    pub database: DatabaseRequest,
    /// Replace a target that holds tables (inside the restore's one transaction).
    #[serde(default)]
    pub clean: Option<bool>,
    /// Before `clean` replaces anything, back the target up into the store (default true).
    #[serde(default)]
    pub safety_backup: Option<bool>,
    /// Keys no option took: refused by `from_json`.
    #[serde(flatten)]
    #[cfg_attr(test, ts(skip))]
    unknown: BTreeMap<String, serde_json::Value>,
}

/// `engine.drill(selector, options)`: `databaseUrl` (or app-config) names the server the
/// scratch database is made on.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS), ts(rename = "DrillOptions"))]
pub struct DrillCallOptions {
    #[serde(flatten)]
    #[cfg_attr(test, ts(flatten))]
    pub database: DatabaseRequest,
    /// Keys no option took: refused by `from_json`.
    #[serde(flatten)]
    #[cfg_attr(test, ts(skip))]
    unknown: BTreeMap<String, serde_json::Value>,
}

impl BackupCallOptions {
    pub fn from_json(value: &serde_json::Value) -> Result<Self> {
        let options: Self = parse(value, "backup")?;
        refuse_unknown(&options.unknown, "backup")?;
        Ok(options)
    }
}

impl RestoreCallOptions {
    pub fn from_json(value: &serde_json::Value) -> Result<Self> {
        let options: Self = parse(value, "restore")?;
        refuse_unknown(&options.unknown, "restore")?;
        Ok(options)
    }
}

impl DrillCallOptions {
    pub fn from_json(value: &serde_json::Value) -> Result<Self> {
        let options: Self = parse(value, "drill")?;
        refuse_unknown(&options.unknown, "drill")?;
        Ok(options)
    }
}

// Each struct catches the keys its flattened parts did not take in a map of its own: serde's
// `deny_unknown_fields` does not work with `flatten`, and a flattened struct that itself
// flattens sees every key, so the catch-all sits beside the parts, never a level above.
fn parse<T: DeserializeOwned>(value: &serde_json::Value, call: &str) -> Result<T> {
    T::deserialize(value)
        .map_err(|e| Error::invalid(format!("{call} options: {}", printable(&e.to_string()))))
}

fn refuse_unknown(unknown: &BTreeMap<String, serde_json::Value>, call: &str) -> Result<()> {
    match unknown.keys().next() {
        None => Ok(()),
        Some(key) => Err(Error::invalid(format!(
            "{call} options: unknown option '{}'",
            printable(key)
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_misspelt_option_is_named() {
        let err =
            BackupCallOptions::from_json(&json!({"databseUrl": "postgresql://x/y"})).unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::InvalidInput);
        assert!(err.message().contains("'databseUrl'"), "{}", err.message());
        let err = RestoreCallOptions::from_json(&json!({"safety_backup": false})).unwrap_err();
        assert!(
            err.message().contains("'safety_backup'"),
            "{}",
            err.message()
        );
        assert!(DrillCallOptions::from_json(&json!({"clean": true})).is_err());
        // Known keys of either part are never taken for unknown ones.
        let err = BackupCallOptions::from_json(&json!({"appConfig": [], "level": 1, "x_y": 1}))
            .unwrap_err();
        assert!(err.message().ends_with("'x_y'"), "{}", err.message());
    }

    #[test]
    fn each_part_takes_its_own_keys() {
        let call = BackupCallOptions::from_json(&json!({
            "databaseUrl": "postgresql://x/y",
            "appConfig": ["a.yaml"],
            "plugin": "catalog",
            "trigger": "manual",
            "labels": {"team_name": "a"},
            "level": 3,
        }))
        .unwrap();
        assert_eq!(
            call.database.database_url.as_deref(),
            Some("postgresql://x/y")
        );
        assert_eq!(call.database.app_config.len(), 1);
        assert_eq!(call.backup.trigger.as_deref(), Some("manual"));
        let restore =
            RestoreCallOptions::from_json(&json!({"safetyBackup": false, "clean": true})).unwrap();
        assert_eq!(
            (restore.clean, restore.safety_backup),
            (Some(true), Some(false))
        );
    }
}
