//! How to reach a PostgreSQL database: from a URL, the standard `PG*` variables or a Backstage
//! app-config. The password is kept out of Debug, Display and argv; child processes get it
//! through their environment only.

use std::collections::BTreeMap;
use std::fmt;

use crate::error::{Error, ErrorKind, Result};
use crate::naming::printable;

/// The default database for this tool: Backstage's catalog with the default plugin prefix.
pub const DEFAULT_CATALOG_DATABASE: &str = "backstage_plugin_catalog";

/// libpq parameters passed through to pg_dump and psql as environment variables.
const PASS_THROUGH: &[(&str, &str)] = &[
    ("sslmode", "PGSSLMODE"),
    ("sslrootcert", "PGSSLROOTCERT"),
    ("sslcert", "PGSSLCERT"),
    ("sslkey", "PGSSLKEY"),
    ("application_name", "PGAPPNAME"),
    ("connect_timeout", "PGCONNECT_TIMEOUT"),
    ("options", "PGOPTIONS"),
];

#[derive(Clone, PartialEq, Eq)]
pub struct ConnectionInfo {
    /// Host name, IP address, or a Unix socket directory (starts with `/`).
    pub host: String,
    pub port: u16,
    pub user: String,
    password: Option<String>,
    pub database: String,
    /// Backstage's `schema` division mode keeps each plugin in a schema of one database.
    pub schema: Option<String>,
    /// Extra libpq parameters (sslmode, …), by their URL names.
    pub params: BTreeMap<String, String>,
}

impl fmt::Debug for ConnectionInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ConnectionInfo({})", self.redacted())
    }
}

/// Why a connection failed, in the words both engines use: what happened and what to check.
impl ConnectionInfo {
    /// Its database does not exist on the server.
    pub fn missing_database(&self) -> Error {
        Error::new(
            ErrorKind::NotFound,
            format!(
                "database '{}' does not exist on {}; check the name (Backstage's catalog is \
                 backstage_plugin_catalog unless backend.database sets another prefix)",
                self.database,
                self.host_port()
            ),
        )
    }

    /// The server refused the login.
    pub fn login_refused(&self, detail: &str) -> Error {
        Error::database(format!(
            "cannot log in to {}: {detail}; check the user and password",
            self.redacted()
        ))
    }

    /// The server could not be reached (or another connect failure): `hint` says what to check.
    pub fn unreachable(&self, detail: &str, hint: &str) -> Error {
        Error::database(format!(
            "cannot connect to {} ({detail}); {hint}",
            self.redacted()
        ))
    }

    /// What psql printed when it could not connect, as the failure it names. psql gives no
    /// SQLSTATE for a failed connection, so its libpq message is all there is to read.
    pub fn psql_connect_failure(&self, said: &str) -> Error {
        if said.contains(&format!("database \"{}\" does not exist", self.database)) {
            self.missing_database()
        } else if said.contains("authentication failed") || said.contains("no password supplied") {
            self.login_refused(said.trim())
        } else {
            self.unreachable(said.trim(), UNREACHABLE_HINT)
        }
    }
}

/// What to check when a server cannot be reached.
pub const UNREACHABLE_HINT: &str = "is PostgreSQL running and reachable from here?";

impl ConnectionInfo {
    pub fn new(
        host: &str,
        port: u16,
        user: &str,
        password: Option<String>,
        database: &str,
    ) -> Self {
        ConnectionInfo {
            host: host.to_string(),
            port,
            user: user.to_string(),
            password: password.filter(|p| !p.is_empty()),
            database: database.to_string(),
            schema: None,
            params: BTreeMap::new(),
        }
    }

    /// Parses `postgres://user:password@host:port/database?sslmode=…`.
    pub fn from_url(text: &str) -> Result<Self> {
        let url = url::Url::parse(text.trim()).map_err(|e| {
            Error::invalid(format!(
                "the database URL is not valid ({e}); expected postgresql://user:password@host:5432/database"
            ))
        })?;
        if !matches!(url.scheme(), "postgres" | "postgresql") {
            return Err(Error::invalid(format!(
                "the database URL must start with postgresql://, not {}://",
                printable(url.scheme())
            )));
        }
        // As a form value: keep '+' and '&' literal, so only %XX escapes are decoded.
        let decode = |s: &str| -> Result<String> {
            url::form_urlencoded::parse(
                format!("v={}", s.replace('+', "%2B").replace('&', "%26")).as_bytes(),
            )
            .next()
            .map(|(_, v)| v.into_owned())
            .ok_or_else(|| Error::invalid("the database URL has a bad escape"))
        };
        let mut info = ConnectionInfo::new(
            url.host_str().unwrap_or(""),
            url.port().unwrap_or(5432),
            &decode(url.username())?,
            url.password().map(decode).transpose()?,
            &decode(url.path().trim_start_matches('/'))?,
        );
        // Bracketed IPv6 hosts come back with brackets; libpq wants them bare.
        info.host = info
            .host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        for (name, value) in url.query_pairs() {
            let value = value.into_owned();
            match name.as_ref() {
                "host" => info.host = value,
                "port" => {
                    info.port = value.parse().map_err(|_| {
                        Error::invalid("the database URL's port parameter is not a number from 1 to 65535")
                    })?
                }
                "user" => info.user = value,
                "password" => info.password = Some(value).filter(|p| !p.is_empty()),
                "dbname" => info.database = value,
                "schema" | "currentSchema" => info.schema = Some(value),
                name if PASS_THROUGH.iter().any(|(n, _)| *n == name) => {
                    info.params.insert(name.to_string(), value);
                }
                other => {
                    return Err(Error::invalid(format!(
                        "unknown database URL parameter '{}'; supported: host, port, user, dbname, sslmode, sslrootcert, sslcert, sslkey, application_name, connect_timeout, options",
                        printable(other)
                    )))
                }
            }
        }
        info.fill_defaults(|_| None);
        Ok(info)
    }

    /// Reads the standard `PG*` variables; `None` when none of them is set.
    pub fn from_pg_env(env: impl Fn(&str) -> Option<String>) -> Result<Option<Self>> {
        let vars = ["PGHOST", "PGPORT", "PGUSER", "PGPASSWORD", "PGDATABASE"];
        if !vars.iter().any(|v| env(v).is_some_and(|s| !s.is_empty())) {
            return Ok(None);
        }
        let port = match env("PGPORT").filter(|p| !p.is_empty()) {
            None => 5432,
            Some(p) => p
                .parse()
                .map_err(|_| Error::invalid("PGPORT is not a port number from 1 to 65535"))?,
        };
        let mut info = ConnectionInfo::new(
            &env("PGHOST").unwrap_or_default(),
            port,
            &env("PGUSER").unwrap_or_default(),
            env("PGPASSWORD"),
            &env("PGDATABASE").unwrap_or_default(),
        );
        for (name, var) in PASS_THROUGH {
            if let Some(value) = env(var).filter(|v| !v.is_empty()) {
                info.params.insert(name.to_string(), value);
            }
        }
        info.fill_defaults(&env);
        Ok(Some(info))
    }

    /// libpq's defaults, except that the database defaults to Backstage's catalog.
    fn fill_defaults(&mut self, env: impl Fn(&str) -> Option<String>) {
        if self.host.is_empty() {
            self.host = "localhost".to_string();
        }
        if self.user.is_empty() {
            self.user = env("USER").unwrap_or_else(|| "postgres".to_string());
        }
        if self.database.is_empty() {
            self.database = DEFAULT_CATALOG_DATABASE.to_string();
        }
    }

    pub fn password(&self) -> Option<&str> {
        self.password.as_deref()
    }

    pub fn with_password(mut self, password: Option<String>) -> Self {
        self.password = password.filter(|p| !p.is_empty());
        self
    }

    /// The same server and credentials, another database.
    pub fn with_database(&self, database: &str) -> Self {
        let mut other = self.clone();
        other.database = database.to_string();
        other
    }

    /// `host:port`, for manifests and messages.
    pub fn host_port(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// A URL without the password, safe for logs and messages.
    pub fn redacted(&self) -> String {
        let password = if self.password.is_some() { ":***" } else { "" };
        format!(
            "postgresql://{}{password}@{}/{}",
            self.user,
            self.host_port(),
            self.database
        )
    }

    /// Environment for pg_dump and psql: everything they need, nothing on the command line.
    pub fn libpq_env(&self) -> Vec<(String, String)> {
        let mut env = vec![
            ("PGHOST".to_string(), self.host.clone()),
            ("PGPORT".to_string(), self.port.to_string()),
            ("PGUSER".to_string(), self.user.clone()),
            ("PGDATABASE".to_string(), self.database.clone()),
        ];
        if let Some(password) = &self.password {
            env.push(("PGPASSWORD".to_string(), password.clone()));
        }
        for (name, var) in PASS_THROUGH {
            if let Some(value) = self.params.get(*name) {
                env.push((var.to_string(), value.clone()));
            }
        }
        env
    }

    /// Variables a child must not inherit, because they could override ours.
    pub fn libpq_env_to_clear() -> &'static [&'static str] {
        &["PGPASSFILE", "PGSERVICE", "PGSERVICEFILE", "DATABASE_URL"]
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn what_psql_says_when_it_cannot_connect_is_named_by_core() {
        let conn = ConnectionInfo::new("db.example", 5432, "bb", Some("s3cret".into()), "cat");
        let missing = conn.psql_connect_failure(
            "psql: error: connection to server at \"db.example\", port 5432 failed: FATAL:  database \"cat\" does not exist",
        );
        assert_eq!(missing.kind(), ErrorKind::NotFound);
        assert!(missing
            .message()
            .contains("database 'cat' does not exist on db.example:5432"));
        let login =
            conn.psql_connect_failure("FATAL:  password authentication failed for user \"bb\"");
        assert_eq!(login.kind(), ErrorKind::Database);
        assert!(
            login.message().contains("check the user and password"),
            "{login}"
        );
        let down = conn.psql_connect_failure("connection refused");
        assert!(down.message().ends_with(UNREACHABLE_HINT), "{down}");
        // Another database's name in the text is not this one missing.
        let other = conn.psql_connect_failure("FATAL:  database \"catalog\" does not exist");
        assert_eq!(other.kind(), ErrorKind::Database);
        for err in [login, down, other] {
            assert!(!err.message().contains("s3cret"), "{err}");
        }
    }

    use super::*;

    #[test]
    fn url_with_everything() {
        let info = ConnectionInfo::from_url(
            "postgresql://back%40stage:p%40ss%2Fw0rd@db.internal:6543/backstage_plugin_catalog?sslmode=require",
        )
        .unwrap();
        assert_eq!(info.user, "back@stage");
        assert_eq!(info.password(), Some("p@ss/w0rd"));
        assert_eq!(info.host_port(), "db.internal:6543");
        assert_eq!(info.database, "backstage_plugin_catalog");
        assert_eq!(info.params["sslmode"], "require");
        assert!(!format!("{info:?}").contains("p@ss"));
        assert!(!info.redacted().contains("p@ss"));
        let env = info.libpq_env();
        assert!(env.contains(&("PGPASSWORD".into(), "p@ss/w0rd".into())));
        assert!(env.contains(&("PGSSLMODE".into(), "require".into())));
    }

    #[test]
    fn defaults_to_the_catalog_database() {
        let info = ConnectionInfo::from_url("postgres://postgres@127.0.0.1").unwrap();
        assert_eq!(info.database, DEFAULT_CATALOG_DATABASE);
        assert_eq!(info.port, 5432);
    }

    #[test]
    fn pg_env() {
        let vars: BTreeMap<&str, &str> = [("PGHOST", "/run/pg"), ("PGPASSWORD", "s3cret")].into();
        let info = ConnectionInfo::from_pg_env(|k| vars.get(k).map(|v| v.to_string()))
            .unwrap()
            .unwrap();
        assert_eq!(info.host, "/run/pg");
        assert_eq!(info.password(), Some("s3cret"));
        assert!(ConnectionInfo::from_pg_env(|_| None).unwrap().is_none());
    }

    #[test]
    fn bad_urls_say_what_is_wrong_without_the_password() {
        for (url, says) in [
            ("mysql://u:hunter2@h/db", "must start with postgresql://"),
            (
                "postgresql://u:hunter2@h/db?colour=1",
                "unknown database URL parameter",
            ),
            ("not a url hunter2", "not valid"),
        ] {
            let err = ConnectionInfo::from_url(url).unwrap_err();
            assert!(err.message().contains(says), "{err}");
            assert!(!err.message().contains("hunter2"), "{err}");
        }
    }
}
