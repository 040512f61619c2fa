//! Finding pg_dump and psql, and checking they can handle the server: pg_dump refuses servers
//! newer than itself, so pick a matching one where several are installed and say what to
//! install where none is.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Environment variable naming a folder holding pg_dump and psql.
pub const PG_BIN_ENV: &str = "BACKSTAGE_BACKUP_PG_BIN";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgTools {
    pub pg_dump: PathBuf,
    pub psql: PathBuf,
    /// `15.20`, from `pg_dump --version`.
    pub version: String,
    pub major: u32,
}

/// Parses the first version number out of `pg_dump (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)`.
pub fn parse_version(output: &str) -> Option<(String, u32)> {
    let token = output
        .split_whitespace()
        .find(|t| t.chars().next().is_some_and(|c| c.is_ascii_digit()))?;
    let version: String = token
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    let major = version.split('.').next()?.parse().ok()?;
    Some((version, major))
}

fn version_of(pg_dump: &Path) -> Option<(String, u32)> {
    // A version probe needs no credentials: keep them out of its environment.
    let out = std::process::Command::new(pg_dump)
        .arg("--version")
        .env_remove("PGPASSWORD")
        .env_remove("DATABASE_URL")
        .stdin(std::process::Stdio::null())
        .output()
        .ok()?;
    parse_version(&String::from_utf8_lossy(&out.stdout))
}

fn candidates(server_major: u32) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(dir) = std::env::var_os(PG_BIN_ENV) {
        dirs.push(PathBuf::from(dir));
        return dirs;
    }
    // Debian and Ubuntu install each major version side by side.
    let mut versioned: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let major = e.file_name().to_str()?.parse::<u32>().ok()?;
            Some((major, e.path().join("bin")))
        })
        .filter(|(major, _)| *major >= server_major)
        .collect();
    versioned.sort();
    dirs.extend(versioned.into_iter().map(|(_, dir)| dir));
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    dirs
}

/// Finds pg_dump and psql able to work with a server of major version `server_major`.
pub fn find(server_major: u32) -> Result<PgTools> {
    let install = format!(
        "install the PostgreSQL {server_major} client (Debian/Ubuntu: apt-get install postgresql-client-{server_major}; \
         Alpine: apk add postgresql{server_major}-client) or set {PG_BIN_ENV} to the folder holding its pg_dump"
    );
    let mut too_old = None;
    for dir in candidates(server_major) {
        let pg_dump = dir.join("pg_dump");
        if !pg_dump.is_file() {
            continue;
        }
        let Some((version, major)) = version_of(&pg_dump) else {
            continue;
        };
        if major < server_major {
            too_old.get_or_insert((pg_dump.clone(), version));
            continue;
        }
        let psql = dir.join("psql");
        return Ok(PgTools {
            psql: if psql.is_file() {
                psql
            } else {
                PathBuf::from("psql")
            },
            pg_dump,
            version,
            major,
        });
    }
    Err(match too_old {
        Some((path, version)) => Error::database(format!(
            "pg_dump {version} ({}) is older than the server (PostgreSQL {server_major}) and cannot dump it: {install}",
            path.display()
        )),
        None => Error::database(format!("pg_dump was not found: {install}")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert_eq!(
            parse_version("pg_dump (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)\n"),
            Some(("15.20".into(), 15))
        );
        assert_eq!(
            parse_version("psql (PostgreSQL) 17devel"),
            Some(("17".into(), 17))
        );
        assert_eq!(parse_version("nothing here"), None);
    }

    #[test]
    fn the_installed_pg_dump_is_found_and_a_future_server_is_refused_clearly() {
        let tools = find(10).expect("pg_dump is installed on test machines");
        assert!(tools.major >= 10);
        let err = find(99).unwrap_err();
        assert!(err.message().contains("postgresql-client-99"), "{err}");
        assert!(err.message().contains("older than the server"), "{err}");
    }
}
