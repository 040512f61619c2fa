//! `fast-json-stable-stringify` (keys sorted, no whitespace) and the SHA-1
//! hashes the catalog computes over it.

use serde_json::Value;

/// Serialises like `fast-json-stable-stringify`: object keys sorted, no spaces.
pub fn stable_stringify(value: &Value) -> String {
    let mut out = String::with_capacity(1024);
    write(value, &mut out);
    out
}

fn write(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_str(key, out);
                out.push(':');
                write(&map[key.as_str()], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write(item, out);
            }
            out.push(']');
        }
        Value::String(s) => write_str(s, out),
        other => out.push_str(&other.to_string()),
    }
}

fn write_str(s: &str, out: &mut String) {
    // serde_json escapes strings the way JSON.stringify does.
    out.push_str(&Value::String(s.to_string()).to_string());
}

/// `generateStableHash`: SHA-1 hex of the stable serialisation.
pub fn stable_hash(value: &Value) -> String {
    crate::catalog::sha1_hex(&stable_stringify(value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sorts_keys_recursively() {
        let v = json!({"b": 1, "a": {"d": [true, null, "x\"y"], "c": "é"}});
        assert_eq!(
            stable_stringify(&v),
            r#"{"a":{"c":"é","d":[true,null,"x\"y"]},"b":1}"#
        );
    }
}
