//! The shape results take in JavaScript: both Node engines (napi and WebAssembly) return core's
//! serde values with camelCase field names, while the CLI's `--json` keeps serde's snake_case.
//! One rule for both engines, so their results cannot drift apart; the TypeScript types
//! (`pkg/types.generated.d.ts`, see `typescript.rs`) declare the same names.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// Fields whose keys are data (label names, entity kinds), not field names: never renamed.
/// A new field holding a map of data keys belongs here (a test in `typescript.rs` checks the
/// declared types against this list).
pub const VERBATIM: &[&str] = &["labels", "entities", "expected_entities"];

/// `value` serialised as JavaScript receives it: field names in camelCase.
pub fn to_js_shape(value: &impl Serialize) -> Result<Value> {
    serde_json::to_value(value)
        .map(camel_case_names)
        .map_err(|e| Error::internal(format!("serialising a result: {e}")))
}

/// Renames every object key from snake_case to camelCase, except inside `VERBATIM` fields.
pub fn camel_case_names(value: Value) -> Value {
    match value {
        Value::Array(items) => Value::Array(items.into_iter().map(camel_case_names).collect()),
        Value::Object(fields) => Value::Object(
            fields
                .into_iter()
                .map(|(key, inner)| {
                    let inner = if VERBATIM.contains(&key.as_str()) {
                        inner
                    } else {
                        camel_case_names(inner)
                    };
                    (camel_case(&key), inner)
                })
                .collect::<Map<_, _>>(),
        ),
        other => other,
    }
}

/// `created_at` → `createdAt`, `sha256` unchanged (serde's and ts-rs's camelCase rule).
pub fn camel_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn field_names_turn_camel_case_and_data_keys_do_not() {
        let value = json!({
            "created_at": 1,
            "labels": {"team_name": "a_b"},
            "entities": {"api_thing": 2},
            "expected_entities": {"some_kind": 3},
            "decisions": [{"taken_at": 4}],
            "database": {"plugin_id": "catalog", "pg_dump_version": "15"},
        });
        assert_eq!(
            camel_case_names(value),
            json!({
                "createdAt": 1,
                "labels": {"team_name": "a_b"},
                "entities": {"api_thing": 2},
                "expectedEntities": {"some_kind": 3},
                "decisions": [{"takenAt": 4}],
                "database": {"pluginId": "catalog", "pgDumpVersion": "15"},
            })
        );
    }

    #[test]
    fn camel_case_matches_serde() {
        assert_eq!(camel_case("sha256"), "sha256");
        assert_eq!(camel_case("verify_max_age"), "verifyMaxAge");
        assert_eq!(camel_case("restore_ms"), "restoreMs");
    }
}
