//! Backup names: the runbook's `backstage-catalog-YYYYMMDD_HHMMSS.sql.gz` and the objects that
//! sit beside it. Parsing is strict, so an id from a URL or a CLI argument can never name
//! anything outside the store's prefix.

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};

use crate::error::{Error, Result};

const TIMESTAMP_FORMAT: &str = "%Y%m%d_%H%M%S";
const TIMESTAMP_LEN: usize = 15;
pub const DATA_SUFFIX: &str = ".sql.gz";

/// The objects that make up one backup, by their suffix after the data object's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Part {
    /// `….sql.gz`: the compressed dump.
    Data,
    /// `….sql.gz.sha256`: `sha256sum -c` sidecar.
    Sidecar,
    /// `….sql.gz.manifest.json`: written last; its presence marks the backup complete.
    Manifest,
    /// `….sql.gz.incomplete`: written first, removed last; marks a backup in progress or cut off.
    Marker,
    /// `….sql.gz.verify.json`: outcome of the last verification.
    VerifyRecord,
    /// `….sql.gz.drill.json`: outcome of the last restore drill.
    DrillRecord,
}

impl Part {
    pub const ALL: [Part; 6] = [
        Part::Data,
        Part::Sidecar,
        Part::Manifest,
        Part::Marker,
        Part::VerifyRecord,
        Part::DrillRecord,
    ];

    /// The order a backup is deleted in: manifest first (from then on it lists as incomplete,
    /// never as good), the marker last (so a half-deleted backup still shows as unfinished).
    pub const DELETION_ORDER: [Part; 6] = [
        Part::Manifest,
        Part::Data,
        Part::Sidecar,
        Part::VerifyRecord,
        Part::DrillRecord,
        Part::Marker,
    ];

    fn suffix(self) -> &'static str {
        match self {
            Part::Data => "",
            Part::Sidecar => ".sha256",
            Part::Manifest => ".manifest.json",
            Part::Marker => ".incomplete",
            Part::VerifyRecord => ".verify.json",
            Part::DrillRecord => ".drill.json",
        }
    }
}

/// A backup id taken apart (`engine.parseBackupId`): the Backstage plugin parses ids with core.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(test, derive(ts_rs::TS), ts(rename_all = "camelCase"))]
pub struct BackupIdParts {
    pub id: String,
    /// Which Backstage plugin's database, e.g. `catalog`.
    pub plugin_id: String,
    pub taken_at: DateTime<Utc>,
}

/// A backup's identity: which database (by Backstage plugin id) and when.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BackupName {
    /// Sorts by time first, so a sorted list is chronological.
    pub taken_at: DateTime<Utc>,
    pub plugin_id: String,
}

impl BackupName {
    pub fn new(plugin_id: &str, taken_at: DateTime<Utc>) -> Result<Self> {
        validate_plugin_id(plugin_id)?;
        // Names have whole seconds; drop the fraction so parse(format(x)) == x.
        let taken_at = Utc
            .timestamp_opt(taken_at.timestamp(), 0)
            .single()
            .ok_or_else(|| Error::invalid("backup time out of range"))?;
        Ok(BackupName {
            taken_at,
            plugin_id: plugin_id.to_string(),
        })
    }

    /// `backstage-catalog-20261125_020000`: the id used by the CLI, the API and manifests.
    pub fn id(&self) -> String {
        format!(
            "backstage-{}-{}",
            self.plugin_id,
            self.taken_at.format(TIMESTAMP_FORMAT)
        )
    }

    /// The object name of one part, relative to the store's prefix.
    pub fn key(&self, part: Part) -> String {
        format!("{}{}{}", self.id(), DATA_SUFFIX, part.suffix())
    }

    /// Parses an id (`backstage-catalog-20261125_020000`) or the data object's file name.
    pub fn parse_id(text: &str) -> Result<Self> {
        let stem = text.strip_suffix(DATA_SUFFIX).unwrap_or(text);
        Self::parse_stem(stem).ok_or_else(|| {
            Error::invalid(format!(
                "'{}' is not a backup id; ids look like backstage-catalog-20261125_020000 \
                 (run `backstage-backup list` to see them)",
                printable(text)
            ))
        })
    }

    /// An id exactly as [`BackupName::id`] writes it, and nothing else (not a file name): what
    /// an API that names backups takes.
    pub fn parse_exact_id(text: &str) -> Result<Self> {
        match Self::parse_id(text) {
            Ok(name) if name.id() == text => Ok(name),
            Ok(_) => Err(Error::invalid(format!(
                "'{}' is a backup's file name, not its id; ids look like \
                 backstage-catalog-20261125_020000",
                printable(text)
            ))),
            Err(err) => Err(err),
        }
    }

    /// The id's parts, as the engines give them to JS.
    pub fn parts(&self) -> BackupIdParts {
        BackupIdParts {
            id: self.id(),
            plugin_id: self.plugin_id.clone(),
            taken_at: self.taken_at,
        }
    }

    /// Parses an object key into the backup it belongs to and which part it is.
    pub fn parse_key(key: &str) -> Option<(Self, Part)> {
        Part::ALL.iter().rev().find_map(|&part| {
            let rest = key.strip_suffix(part.suffix())?;
            let stem = rest.strip_suffix(DATA_SUFFIX)?;
            Some((Self::parse_stem(stem)?, part))
        })
    }

    fn parse_stem(stem: &str) -> Option<Self> {
        let rest = stem.strip_prefix("backstage-")?;
        if rest.len() < TIMESTAMP_LEN + 2 || !rest.is_char_boundary(rest.len() - TIMESTAMP_LEN) {
            return None;
        }
        let (plugin_dash, stamp) = rest.split_at(rest.len() - TIMESTAMP_LEN);
        let plugin_id = plugin_dash.strip_suffix('-')?;
        validate_plugin_id(plugin_id).ok()?;
        if !stamp.bytes().enumerate().all(|(i, b)| {
            if i == 8 {
                b == b'_'
            } else {
                b.is_ascii_digit()
            }
        }) {
            return None;
        }
        let naive = NaiveDateTime::parse_from_str(stamp, TIMESTAMP_FORMAT).ok()?;
        Some(BackupName {
            taken_at: Utc.from_utc_datetime(&naive),
            plugin_id: plugin_id.to_string(),
        })
    }
}

/// Plugin ids become part of object names: lowercase letters, digits and single dashes.
pub fn validate_plugin_id(plugin_id: &str) -> Result<()> {
    let ok = !plugin_id.is_empty()
        && plugin_id.len() <= 64
        && plugin_id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !plugin_id.starts_with('-')
        && !plugin_id.ends_with('-')
        && !plugin_id.contains("--");
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "'{}' is not a usable plugin id: use lowercase letters, digits and dashes (e.g. catalog)",
            printable(plugin_id)
        )))
    }
}

/// The plugin id a database name stands for: `backstage_plugin_catalog` is `catalog`.
pub fn plugin_id_for_database(database: &str, prefix: &str) -> String {
    let bare = database.strip_prefix(prefix).unwrap_or(database);
    let mut id = String::new();
    for c in bare.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            id.push(c);
        } else if !id.ends_with('-') && !id.is_empty() {
            id.push('-');
        }
    }
    let id = id.trim_end_matches('-').to_string();
    if id.is_empty() {
        "database".to_string()
    } else {
        id.chars().take(64).collect::<String>()
    }
}

/// Shows untrusted text in a message without letting control characters through.
pub fn printable(text: &str) -> String {
    text.chars()
        .take(200)
        .flat_map(|c| {
            if c.is_control() {
                c.escape_default().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {

    #[test]
    fn an_api_takes_ids_exactly_and_nothing_else() {
        let name = BackupName::parse_exact_id("backstage-scaffolder-20261125_020000").unwrap();
        assert_eq!(name.parts().plugin_id, "scaffolder");
        assert_eq!(name.parts().id, "backstage-scaffolder-20261125_020000");
        for bad in [
            "backstage-catalog-20261125_020000.sql.gz",
            "backstage-catalog-20261125_0200",
            "../etc/passwd",
            "backstage-Catalog-20261125_020000",
            "",
        ] {
            let err = BackupName::parse_exact_id(bad).unwrap_err();
            assert_eq!(err.kind(), crate::error::ErrorKind::InvalidInput, "{bad}");
        }
    }

    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        Utc.from_utc_datetime(&NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap())
    }

    #[test]
    fn names_match_the_runbook() {
        let name = BackupName::new("catalog", at("2026-11-25 02:00:00")).unwrap();
        assert_eq!(name.id(), "backstage-catalog-20261125_020000");
        assert_eq!(
            name.key(Part::Data),
            "backstage-catalog-20261125_020000.sql.gz"
        );
        assert_eq!(
            name.key(Part::Sidecar),
            "backstage-catalog-20261125_020000.sql.gz.sha256"
        );
        assert_eq!(
            name.key(Part::Manifest),
            "backstage-catalog-20261125_020000.sql.gz.manifest.json"
        );
    }

    #[test]
    fn keys_round_trip_for_every_part() {
        let name = BackupName::new("scaffolder-tasks", at("2026-01-02 03:04:05")).unwrap();
        for part in Part::ALL {
            assert_eq!(
                BackupName::parse_key(&name.key(part)),
                Some((name.clone(), part))
            );
        }
        assert_eq!(BackupName::parse_id(&name.id()).unwrap(), name);
        assert_eq!(BackupName::parse_id(&name.key(Part::Data)).unwrap(), name);
    }

    #[test]
    fn hostile_ids_are_refused() {
        for bad in [
            "../backstage-catalog-20261125_020000",
            "backstage-catalog-20261125_020000/../../etc/passwd",
            "backstage-cat\nalog-20261125_020000",
            "backstage-Catalog-20261125_020000",
            "backstage--20261125_020000",
            "backstage-catalog-20261325_020000",
            "backstage-catalog-2026112５_020000",
            "",
            "latest/..",
        ] {
            let err = BackupName::parse_id(bad).unwrap_err();
            assert_eq!(err.kind(), crate::error::ErrorKind::InvalidInput, "{bad}");
            assert!(!err.message().contains('\n'));
        }
    }

    #[test]
    fn foreign_keys_are_not_ours() {
        for key in [
            "notes.txt",
            "backstage-catalog-20261125_020000.sql",
            "backstage-catalog-20261125_020000.sql.gz.tmp",
            "other-catalog-20261125_020000.sql.gz",
        ] {
            assert_eq!(BackupName::parse_key(key), None, "{key}");
        }
    }

    #[test]
    fn plugin_ids_from_database_names() {
        let prefix = "backstage_plugin_";
        assert_eq!(
            plugin_id_for_database("backstage_plugin_catalog", prefix),
            "catalog"
        );
        assert_eq!(
            plugin_id_for_database("backstage_plugin_search_index", prefix),
            "search-index"
        );
        assert_eq!(plugin_id_for_database("Backstage", prefix), "backstage");
        assert_eq!(plugin_id_for_database("__", prefix), "database");
    }
}
