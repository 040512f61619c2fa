//! Finds a plugin's database in Backstage app-config files the way Backstage itself does:
//! files merged in order, `${VAR}` substitution, `$env`/`$file` values, `backend.database`
//! with its `pluginDivisionMode`, `prefix` and `plugin.<id>` overrides.

use std::path::{Path, PathBuf};

use serde_yaml::{Mapping, Value};

use super::conn::ConnectionInfo;
use crate::error::{Error, Result};
use crate::naming::printable;

const DEFAULT_PREFIX: &str = "backstage_plugin_";
const MAX_CONFIG_BYTES: u64 = 4 * 1024 * 1024;

/// A plugin's database as Backstage would connect to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginDatabase {
    pub connection: ConnectionInfo,
    pub plugin_id: String,
    /// Whether Backstage keeps each plugin in its own database (`database` mode) or schema.
    pub prefix: String,
}

/// Loads and merges app-config files (later files win, as with Backstage's `--config`).
pub fn load(files: &[PathBuf], env: &dyn Fn(&str) -> Option<String>) -> Result<Value> {
    let mut merged = Value::Mapping(Mapping::new());
    for file in files {
        // Capped as it is read, whatever its size says: `/dev/zero` or a FIFO says 0.
        let text = read_capped(file).map_err(|e| {
            Error::invalid(format!("cannot read app-config {}: {e}", file.display()))
        })?;
        // serde_yaml's messages can quote the file (a duplicate key as it was written).
        let parsed: Value = serde_yaml::from_str(&text).map_err(|e| {
            Error::invalid(format!(
                "app-config {} is not valid YAML: {}",
                file.display(),
                printable(&e.to_string())
            ))
        })?;
        let dir = file.parent().unwrap_or(Path::new("."));
        let resolved = substitute(parsed, dir, env, 0)
            .map_err(|e| e.context(format!("app-config {}", file.display())))?;
        merge(&mut merged, resolved.unwrap_or(Value::Null));
    }
    Ok(merged)
}

/// Resolves where `plugin_id`'s database is.
pub fn plugin_database(config: &Value, plugin_id: &str) -> Result<PluginDatabase> {
    let database = config
        .get("backend")
        .and_then(|b| b.get("database"))
        .ok_or_else(|| {
            Error::invalid(
                "the app-config has no backend.database section; pass --database-url instead",
            )
        })?;
    let plugin = database.get("plugin").and_then(|p| p.get(plugin_id));
    let client = plugin
        .and_then(|p| p.get("client"))
        .or_else(|| database.get("client"))
        .and_then(Value::as_str)
        .unwrap_or("pg");
    if client != "pg" && client != "postgres" && client != "postgresql" {
        // The value itself is never echoed: it may have come from a secret ${VAR}.
        return Err(Error::invalid(
            "backend.database.client is not pg: backstage-backup backs up PostgreSQL (client: pg) only",
        ));
    }
    let mut connection =
        connection_from(database.get("connection"), "backend.database.connection")?
            .ok_or_else(|| Error::invalid("backend.database.connection is missing"))?;
    let plugin_override = plugin.and_then(|p| p.get("connection"));
    let overrides_database = plugin_override.and_then(|c| c.get("database")).is_some()
        || plugin_override.is_some_and(Value::is_string);
    if let Some(plugin_conn) = plugin_override {
        connection = match plugin_conn {
            Value::String(_) => {
                connection_from(Some(plugin_conn), "plugin connection")?.expect("string connection")
            }
            Value::Mapping(_) => overlay(connection, plugin_conn)?,
            _ => {
                return Err(Error::invalid(format!(
                    "backend.database.plugin.{plugin_id}.connection must be a URL or a mapping"
                )))
            }
        };
    }
    let prefix = database
        .get("prefix")
        .and_then(Value::as_str)
        .unwrap_or(DEFAULT_PREFIX)
        .to_string();
    let mode = database
        .get("pluginDivisionMode")
        .and_then(Value::as_str)
        .unwrap_or("database");
    match mode {
        "database" if !overrides_database => {
            connection.database = format!("{prefix}{plugin_id}");
        }
        "database" => {}
        "schema" => {
            if !overrides_database && connection.database == super::conn::DEFAULT_CATALOG_DATABASE {
                connection.database = "postgres".to_string();
            }
            connection.schema = Some(plugin_id.to_string());
        }
        _ => {
            return Err(Error::invalid(
                "backend.database.pluginDivisionMode is neither database nor schema, the two Backstage knows",
            ))
        }
    }
    Ok(PluginDatabase {
        connection,
        plugin_id: plugin_id.to_string(),
        prefix,
    })
}

fn connection_from(value: Option<&Value>, what: &str) -> Result<Option<ConnectionInfo>> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(url)) => ConnectionInfo::from_url(url)
            .map(Some)
            .map_err(|e| e.context(what)),
        Some(map @ Value::Mapping(_)) => {
            let base = ConnectionInfo::new("localhost", 5432, "postgres", None, "");
            overlay(base, map).map(Some)
        }
        Some(_) => Err(Error::invalid(format!("{what} must be a URL or a mapping"))),
    }
}

/// Applies knex-style connection fields over a connection.
fn overlay(mut conn: ConnectionInfo, map: &Value) -> Result<ConnectionInfo> {
    let text = |key: &str| -> Result<Option<String>> {
        match map.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(_) => Err(Error::invalid(format!(
                "database connection field {key} must be text"
            ))),
        }
    };
    if let Some(host) = text("host")? {
        conn.host = host;
    }
    if let Some(port) = text("port")? {
        conn.port = port.parse().map_err(|_| {
            Error::invalid(
                "database connection field port is not a number from 1 to 65535 (its value is \
                 not shown: it may come from a secret variable)",
            )
        })?;
    }
    if let Some(user) = text("user")? {
        conn.user = user;
    }
    if let Some(password) = text("password")? {
        conn = conn.with_password(Some(password));
    }
    if let Some(database) = text("database")? {
        conn.database = database;
    }
    match map.get("ssl") {
        None | Some(Value::Null) | Some(Value::Bool(false)) => {}
        Some(Value::Bool(true)) => {
            conn.params.insert("sslmode".into(), "require".into());
        }
        Some(Value::Mapping(ssl)) => {
            let verify = ssl
                .get("rejectUnauthorized")
                .and_then(Value::as_bool)
                .unwrap_or(true);
            conn.params.insert(
                "sslmode".into(),
                if verify { "verify-full" } else { "require" }.into(),
            );
        }
        Some(_) => {
            return Err(Error::invalid(
                "database connection ssl must be true, false or a mapping",
            ))
        }
    }
    Ok(conn)
}

fn read_capped(path: &Path) -> std::io::Result<String> {
    read_text_capped(path, MAX_CONFIG_BYTES)
}

/// Reads a small text file whole, refusing anything but a regular file and anything over `max`
/// bytes whatever its metadata says (/proc files say 0).
pub(crate) fn read_text_capped(path: &Path, max: u64) -> std::io::Result<String> {
    let bytes = crate::host::host().read_small_file(path, max)?;
    if bytes.len() as u64 > max {
        let limit = if max >= 1 << 20 {
            format!("{} MiB", max >> 20)
        } else {
            format!("{} KiB", max >> 10)
        };
        return Err(std::io::Error::other(format!(
            "over {limit}; is it the right file?"
        )));
    }
    String::from_utf8(bytes).map_err(|_| std::io::Error::other("not UTF-8 text"))
}

fn merge(base: &mut Value, top: Value) {
    match (base, top) {
        (Value::Mapping(base), Value::Mapping(top)) => {
            for (key, value) in top {
                match base.get_mut(&key) {
                    Some(existing) => merge(existing, value),
                    None => {
                        base.insert(key, value);
                    }
                }
            }
        }
        (base, top) => *base = top,
    }
}

/// Backstage's substitutions. An undefined `${VAR}` makes the value undefined, as in Backstage.
fn substitute(
    value: Value,
    dir: &Path,
    env: &dyn Fn(&str) -> Option<String>,
    depth: usize,
) -> Result<Option<Value>> {
    if depth > 64 {
        return Err(Error::invalid("nested more than 64 levels deep"));
    }
    match value {
        Value::String(s) => Ok(interpolate(&s, env)?.map(Value::String)),
        Value::Mapping(map) => {
            if map.len() == 1 {
                let (key, arg) = map.iter().next().expect("one entry");
                match key.as_str() {
                    Some("$env") => {
                        let name = arg
                            .as_str()
                            .ok_or_else(|| Error::invalid("$env takes a variable name"))?;
                        return Ok(env(name).map(Value::String));
                    }
                    Some("$file") => {
                        let rel = arg
                            .as_str()
                            .ok_or_else(|| Error::invalid("$file takes a path"))?;
                        let path = dir.join(rel);
                        // Capped like the config files themselves: `$file: /dev/zero` must
                        // fail, not exhaust memory.
                        let text = read_capped(&path).map_err(|e| {
                            Error::invalid(format!(
                                "$file {}: {e}",
                                printable(&path.display().to_string())
                            ))
                        })?;
                        return Ok(Some(Value::String(text.trim_end_matches('\n').to_string())));
                    }
                    _ => {}
                }
            }
            let mut out = Mapping::new();
            for (key, item) in map {
                if let Some(item) = substitute(item, dir, env, depth + 1)? {
                    out.insert(key, item);
                }
            }
            Ok(Some(Value::Mapping(out)))
        }
        Value::Sequence(items) => {
            let mut out = Vec::new();
            for item in items {
                if let Some(item) = substitute(item, dir, env, depth + 1)? {
                    out.push(item);
                }
            }
            Ok(Some(Value::Sequence(out)))
        }
        other => Ok(Some(other)),
    }
}

fn interpolate(text: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<Option<String>> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos..];
        if let Some(escaped) = after.strip_prefix("$${") {
            out.push_str("${");
            rest = escaped;
        } else if let Some(open) = after.strip_prefix("${") {
            let end = open.find('}').ok_or_else(|| {
                Error::invalid("a value has an unclosed ${ (write $${ for a literal one)")
            })?;
            let name = open[..end].trim();
            match env(name) {
                Some(value) => out.push_str(&value),
                None => return Ok(None),
            }
            rest = &open[end + 1..];
        } else {
            out.push('$');
            rest = &after[1..];
        }
    }
    out.push_str(rest);
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn resolve(yaml: &[&str], env: &[(&str, &str)]) -> Result<PluginDatabase> {
        let dir = tempfile::tempdir().unwrap();
        let files: Vec<PathBuf> = yaml
            .iter()
            .enumerate()
            .map(|(i, text)| {
                let path = dir.path().join(format!("app-config.{i}.yaml"));
                std::fs::write(&path, text).unwrap();
                path
            })
            .collect();
        let env: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let config = load(&files, &|k| env.get(k).cloned())?;
        plugin_database(&config, "catalog")
    }

    const BASE: &str = "backend:\n  database:\n    client: pg\n    connection:\n      host: ${POSTGRES_HOST}\n      port: ${POSTGRES_PORT}\n      user: ${POSTGRES_USER}\n      password: ${POSTGRES_PASSWORD}\n";

    #[test]
    fn database_mode_uses_prefix_and_plugin_id() {
        let db = resolve(
            &[BASE],
            &[
                ("POSTGRES_HOST", "db"),
                ("POSTGRES_PORT", "5433"),
                ("POSTGRES_USER", "bs"),
                ("POSTGRES_PASSWORD", "pw"),
            ],
        )
        .unwrap();
        assert_eq!(db.connection.database, "backstage_plugin_catalog");
        assert_eq!(db.connection.host_port(), "db:5433");
        assert_eq!(db.connection.password(), Some("pw"));
        assert_eq!(db.connection.schema, None);
    }

    #[test]
    fn later_files_and_plugin_overrides_win() {
        let local = "backend:\n  database:\n    prefix: acme_\n    plugin:\n      catalog:\n        connection:\n          host: catalog-db\n";
        let db = resolve(
            &[BASE, local],
            &[("POSTGRES_HOST", "db"), ("POSTGRES_USER", "u")],
        )
        .unwrap();
        assert_eq!(db.connection.database, "acme_catalog");
        assert_eq!(db.connection.host, "catalog-db");
        let named = "backend:\n  database:\n    plugin:\n      catalog:\n        connection:\n          database: cat\n";
        let db = resolve(
            &[BASE, named],
            &[("POSTGRES_HOST", "db"), ("POSTGRES_USER", "u")],
        )
        .unwrap();
        assert_eq!(db.connection.database, "cat");
    }

    #[test]
    fn schema_mode_and_url_connections() {
        let yaml = "backend:\n  database:\n    client: pg\n    pluginDivisionMode: schema\n    connection: postgresql://u:$${literal}@h:5432/backstage\n";
        let db = resolve(&[yaml], &[]).unwrap();
        assert_eq!(db.connection.database, "backstage");
        assert_eq!(db.connection.schema.as_deref(), Some("catalog"));
        assert_eq!(db.connection.password(), Some("${literal}"));
    }

    #[test]
    fn env_and_file_values() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("pw.txt"), "from-file\n").unwrap();
        let yaml = "backend:\n  database:\n    connection:\n      host: {$env: H}\n      password: {$file: pw.txt}\n";
        let path = dir.path().join("app-config.yaml");
        std::fs::write(&path, yaml).unwrap();
        let config = load(&[path], &|k| (k == "H").then(|| "envhost".to_string())).unwrap();
        let db = plugin_database(&config, "catalog").unwrap();
        assert_eq!(db.connection.host, "envhost");
        assert_eq!(db.connection.password(), Some("from-file"));
    }

    #[test]
    fn an_endless_file_value_is_refused_not_read_forever() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app-config.yaml");
        std::fs::write(
            &path,
            "backend:\n  database:\n    connection:\n      password: {$file: /dev/zero}\n",
        )
        .unwrap();
        let err = load(&[path], &|_| None).unwrap_err();
        assert!(err.message().contains("not a regular file"), "{err}");
    }

    #[test]
    fn an_endless_config_file_is_refused_not_read_forever() {
        for device in ["/dev/zero", "/dev/urandom"] {
            let err = load(&[PathBuf::from(device)], &|_| None).unwrap_err();
            assert!(err.message().contains("not a regular file"), "{err}");
        }
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("app-config.yaml");
        std::fs::write(&big, vec![b'#'; (MAX_CONFIG_BYTES + 1) as usize]).unwrap();
        let err = load(&[big], &|_| None).unwrap_err();
        assert!(err.message().contains("over 4 MiB"), "{err}");
    }

    #[test]
    fn clear_errors() {
        for (yaml, says) in [
            (
                "backend:\n  database:\n    client: better-sqlite3\n    connection: ':memory:'\n",
                "PostgreSQL (client: pg) only",
            ),
            ("app:\n  title: x\n", "no backend.database section"),
            ("backend: [\n", "not valid YAML"),
            (
                "backend:\n  database:\n    pluginDivisionMode: table\n    connection: {host: h}\n",
                "pluginDivisionMode",
            ),
            (
                "backend:\n  database:\n    connection: {host: h, port: abc}\n",
                "not a number",
            ),
        ] {
            let err = resolve(&[yaml], &[]).unwrap_err();
            assert!(err.message().contains(says), "{yaml}: {err}");
        }
    }

    #[test]
    fn a_value_from_a_variable_is_never_echoed_in_an_error() {
        let secret = "hunter2-s3cr3t";
        for yaml in [
            "backend:\n  database:\n    connection:\n      host: h\n      port: ${DB_PASSWORD}\n",
            "backend:\n  database:\n    client: ${DB_PASSWORD}\n    connection: {host: h}\n",
            "backend:\n  database:\n    pluginDivisionMode: ${DB_PASSWORD}\n    connection: {host: h}\n",
            "backend:\n  database:\n    connection: postgresql://u:p@h/db?port=${DB_PASSWORD}\n",
            "backend:\n  database:\n    connection: ${DB_PASSWORD}\n",
            "backend:\n  database:\n    connection:\n      host: h\n      password: ${DB_PASSWORD\n",
        ] {
            let err = resolve(&[yaml], &[("DB_PASSWORD", secret)]).unwrap_err();
            assert!(!err.message().contains("s3cr3t"), "{yaml}: {err}");
        }
    }
}
