//! Port of the catalog's `buildEntitySearch`: the flattened, lowercased
//! key/value rows of the `search` table.

use serde_json::Value;
use std::collections::HashSet;

const SPECIAL_KEYS: &[&str] = &[
    "attachments",
    "relations",
    "status",
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "metadata.etag",
];
const MAX_KEY_LENGTH: usize = 200;
const MAX_VALUE_LENGTH: usize = 200;

/// One `search` row: `(key, value, original_value)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchRow {
    pub key: String,
    pub value: Option<String>,
    pub original_value: Option<String>,
}

fn traverse(root: &Value) -> Vec<(String, Option<String>)> {
    fn visit(
        path: &str,
        current: &Value,
        out: &mut Vec<(String, Option<String>)>,
        seen: &mut HashSet<String>,
    ) {
        if SPECIAL_KEYS.contains(&path) {
            return;
        }
        match current {
            Value::Null => out.push((path.to_string(), None)),
            Value::String(s) => out.push((path.to_string(), Some(s.clone()))),
            Value::Number(n) => out.push((path.to_string(), Some(n.to_string()))),
            Value::Bool(b) => out.push((path.to_string(), Some(b.to_string()))),
            Value::Array(items) => {
                for item in items {
                    visit(path, item, out, seen);
                    if let Value::String(s) = item {
                        let path_key = format!("{path}.{s}");
                        if seen.insert(path_key.to_lowercase()) {
                            out.push((path_key, Some("true".to_string())));
                        }
                    }
                }
            }
            Value::Object(map) => {
                for (key, value) in map {
                    let child = if path.is_empty() {
                        key.clone()
                    } else {
                        format!("{path}.{key}")
                    };
                    visit(&child, value, out, seen);
                }
            }
        }
    }
    let mut out = Vec::with_capacity(48);
    visit("", root, &mut out, &mut HashSet::new());
    out
}

/// The search rows of a stitched entity (`entity` must carry `metadata.uid`
/// and `relations`).
pub fn build_entity_search(entity: &Value) -> Vec<SearchRow> {
    let mut raw = traverse(entity);
    let meta = &entity["metadata"];
    let text = |v: &Value| v.as_str().map(str::to_string);
    raw.push(("metadata.name".into(), text(&meta["name"])));
    raw.push(("metadata.namespace".into(), text(&meta["namespace"])));
    raw.push(("metadata.uid".into(), text(&meta["uid"])));
    if meta["namespace"].as_str().is_none_or(str::is_empty) {
        raw.push(("metadata.namespace".into(), Some("default".into())));
    }
    if let Some(relations) = entity["relations"].as_array() {
        for r in relations {
            raw.push((
                format!("relations.{}", r["type"].as_str().unwrap_or_default()),
                text(&r["targetRef"]),
            ));
        }
    }
    let mut seen = HashSet::with_capacity(raw.len());
    let mut rows = Vec::with_capacity(raw.len());
    for (raw_key, raw_value) in raw {
        let key = raw_key.to_lowercase();
        if key.chars().count() > MAX_KEY_LENGTH {
            continue;
        }
        let (value, original_value) = match raw_value {
            Some(v) => {
                let lower = v.to_lowercase();
                if lower.chars().count() <= MAX_VALUE_LENGTH {
                    (Some(lower), Some(v))
                } else {
                    (None, None)
                }
            }
            None => (None, None),
        };
        let dedup_key = format!("{key}\0{}", value.as_deref().unwrap_or("\u{1}NULL"));
        if seen.insert(dedup_key) {
            rows.push(SearchRow {
                key,
                value,
                original_value,
            });
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn flattens_like_the_catalog() {
        let e = json!({
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "Component",
            "metadata": {"name": "Foo", "namespace": "default", "uid": "u1", "etag": "e",
                         "tags": ["Java", "java"], "annotations": {"a/B": "X"}},
            "spec": {"type": "service", "definition": "x".repeat(300)},
            "relations": [{"type": "ownedBy", "targetRef": "group:default/team"}]
        });
        let rows = build_entity_search(&e);
        let find = |k: &str| rows.iter().filter(|r| r.key == k).collect::<Vec<_>>();
        assert_eq!(find("kind")[0].value.as_deref(), Some("component"));
        assert_eq!(find("kind")[0].original_value.as_deref(), Some("Component"));
        assert_eq!(
            find("metadata.tags").len(),
            1,
            "java/Java dedupe to one row"
        );
        assert_eq!(find("metadata.tags.java").len(), 1);
        assert_eq!(
            find("metadata.annotations.a/b")[0].value.as_deref(),
            Some("x")
        );
        assert_eq!(find("spec.definition")[0].value, None);
        assert_eq!(find("metadata.name")[0].value.as_deref(), Some("foo"));
        assert_eq!(
            find("relations.ownedby")[0].value.as_deref(),
            Some("group:default/team")
        );
        assert!(find("metadata.etag").is_empty());
    }
}
