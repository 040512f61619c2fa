//! Finding pg_dump and psql, and checking they can handle the server: pg_dump refuses servers
//! newer than itself, so pick a matching one where several are installed and say what to
//! install where none is.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::host::host;

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

async fn version_of(pg_dump: &Path) -> Option<(String, u32)> {
    parse_version(&host().tool_version(pg_dump).await?)
}

/// Folders to look in, best first: `BACKSTAGE_BACKUP_PG_BIN` alone when set; else Debian's
/// versioned folders from `server_major` up, then PATH.
fn candidates(server_major: u32) -> Vec<PathBuf> {
    let host = host();
    if let Some(dir) = host.env_var(PG_BIN_ENV).filter(|d| !d.is_empty()) {
        return vec![PathBuf::from(dir)];
    }
    // Debian and Ubuntu install each major version side by side.
    let mut versioned: Vec<(u32, PathBuf)> = host
        .list_dir(Path::new(DEBIAN_ROOT))
        .into_iter()
        .filter_map(|name| {
            let major = name.parse::<u32>().ok()?;
            Some((major, Path::new(DEBIAN_ROOT).join(name).join("bin")))
        })
        .filter(|(major, _)| *major >= server_major)
        .collect();
    versioned.sort();
    let mut dirs: Vec<PathBuf> = versioned.into_iter().map(|(_, dir)| dir).collect();
    if let Some(path) = host.env_var("PATH") {
        dirs.extend(path.split(':').filter(|d| !d.is_empty()).map(PathBuf::from));
    }
    dirs
}

const DEBIAN_ROOT: &str = "/usr/lib/postgresql";

/// Finds pg_dump and psql able to work with a server of major version `server_major`.
pub async fn find(server_major: u32) -> Result<PgTools> {
    let install = format!(
        "install the PostgreSQL {server_major} client (Debian/Ubuntu: apt-get install postgresql-client-{server_major}; \
         Alpine: apk add postgresql{server_major}-client) or set {PG_BIN_ENV} to the folder holding its pg_dump"
    );
    let host = host();
    let mut too_old = None;
    for dir in candidates(server_major) {
        let pg_dump = dir.join("pg_dump");
        if !host.is_file(&pg_dump) {
            continue;
        }
        let Some((version, major)) = version_of(&pg_dump).await else {
            continue;
        };
        if major < server_major {
            too_old.get_or_insert((pg_dump.clone(), version));
            continue;
        }
        let psql = dir.join("psql");
        return Ok(PgTools {
            psql: if host.is_file(&psql) {
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

/// Any psql, for a session before the server's version is known.
pub fn find_psql() -> Result<PathBuf> {
    candidates(0)
        .into_iter()
        .map(|dir| dir.join("psql"))
        .find(|psql| host().is_file(psql))
        .ok_or_else(|| {
            Error::database(
                "psql was not found: install the PostgreSQL client (Debian/Ubuntu: apt-get \
                 install postgresql-client)",
            )
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

    #[tokio::test]
    async fn the_installed_pg_dump_is_found_and_a_future_server_is_refused_clearly() {
        let tools = find(10)
            .await
            .expect("pg_dump is installed on test machines");
        assert!(tools.major >= 10);
        assert!(find_psql().unwrap().ends_with("psql"));
        let err = find(99).await.unwrap_err();
        assert!(err.message().contains("postgresql-client-99"), "{err}");
        assert!(err.message().contains("older than the server"), "{err}");
    }
}
