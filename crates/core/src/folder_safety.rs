//! Whether a local store folder can be trusted: a folder another user can write to (or replace,
//! through a parent they can write to) lets them swap a backup for a dump of their own, which a
//! restore run as root would then load. Pure rules over the folders' owners and modes, so both
//! engines judge alike; the engines gather the facts.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// What the rules need to know of one folder on the way from the store up to `/`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FolderFacts {
    pub path: String,
    pub uid: u32,
    pub gid: u32,
    pub mode: u32,
}

/// Set to `1` (or `--insecure-store`) to use a store folder others can write to, with a warning.
pub const INSECURE_STORE_ENV: &str = "BACKSTAGE_BACKUP_INSECURE_STORE";

/// Whether `BACKSTAGE_BACKUP_INSECURE_STORE` (its value given) opts out of the folder checks.
pub fn insecure_store_opted_in(value: Option<&str>) -> bool {
    matches!(value, Some("1" | "true"))
}

const OTHERS_WRITE: u32 = 0o002;
const GROUP_WRITE: u32 = 0o020;
const STICKY: u32 = 0o1000;

/// Judges `chain`: the store folder (or, when it does not exist yet, the folder it will be
/// created in) first, then each parent up to `/`, as seen by a process running as `uid`/`gid`.
/// Every folder up to `/` must be owned by this user or root and writable by no one else (a
/// root-owned folder in a folder others can write to can still be renamed away and replaced); a parent writable by others is allowed only when it is
/// sticky (others cannot rename or remove what is not theirs, as in /tmp). A group-writable
/// folder counts as writable by others unless the group is this process's own.
pub fn judge(chain: &[FolderFacts], uid: u32, gid: u32) -> Result<()> {
    for (i, folder) in chain.iter().enumerate() {
        let is_store = i == 0;
        let owner_ok = folder.uid == uid || folder.uid == 0;
        let others_write = folder.mode & OTHERS_WRITE != 0
            || (folder.mode & GROUP_WRITE != 0 && folder.gid != gid);
        let sticky = folder.mode & STICKY != 0;
        let problem = if !owner_ok {
            Some(format!("is owned by another user (uid {})", folder.uid))
        } else if others_write && (is_store || !sticky) {
            Some(format!(
                "can be written by other users (mode {:04o})",
                folder.mode & 0o7777
            ))
        } else {
            None
        };
        if let Some(problem) = problem {
            let what = if is_store {
                "the store folder".to_string()
            } else {
                "a parent of the store folder,".to_string()
            };
            return Err(Error::invalid(format!(
                "{what} {} {problem}: another user could swap a backup for a dump of their own; \
                 make it this user's with `chmod go-w` (or choose another --store), or pass \
                 --insecure-store ({INSECURE_STORE_ENV}=1) to use it anyway",
                crate::naming::printable(&folder.path)
            )));
        }
    }
    Ok(())
}

#[cfg(feature = "runtime")]
mod gather {
    use std::os::unix::fs::MetadataExt;
    use std::path::Path;

    use super::{judge, FolderFacts};
    use crate::error::{Error, Result};

    /// Checks the local store folder at `root` (see `judge`) as this process.
    pub fn check_store_folder(root: &Path) -> Result<()> {
        let absolute = std::path::absolute(root)
            .map_err(|e| Error::invalid(format!("the store path cannot be resolved: {e}")))?;
        // The store folder may not exist yet (a first backup creates it): judge where it goes.
        let mut existing = absolute.as_path();
        while std::fs::metadata(existing).is_err() {
            match existing.parent() {
                Some(parent) => existing = parent,
                None => return Ok(()),
            }
        }
        // Links resolved: the folders that are really written to are judged.
        let real = std::fs::canonicalize(existing)
            .map_err(|e| Error::invalid(format!("the store path cannot be resolved: {e}")))?;
        let chain: Vec<FolderFacts> = real
            .ancestors()
            .filter_map(|dir| {
                let meta = std::fs::metadata(dir).ok()?;
                Some(FolderFacts {
                    path: dir.display().to_string(),
                    uid: meta.uid(),
                    gid: meta.gid(),
                    mode: meta.mode(),
                })
            })
            .collect();
        judge(
            &chain,
            rustix::process::geteuid().as_raw(),
            rustix::process::getegid().as_raw(),
        )
    }
}

#[cfg(feature = "runtime")]
pub use gather::check_store_folder;

#[cfg(test)]
mod tests {
    use super::*;

    fn folder(path: &str, uid: u32, mode: u32) -> FolderFacts {
        FolderFacts {
            path: path.into(),
            uid,
            gid: uid,
            mode,
        }
    }

    #[test]
    fn folders_only_this_user_and_root_can_write_are_trusted() {
        let ok = [
            vec![folder("/srv/b", 0, 0o700), folder("/srv", 0, 0o755)],
            vec![
                folder("/home/u/b", 1000, 0o700),
                folder("/home/u", 1000, 0o755),
                folder("/home", 0, 0o755),
            ],
            // Under /tmp: sticky, so others cannot swap this user's folder.
            vec![folder("/tmp/b", 1000, 0o700), folder("/tmp", 0, 0o1777)],
            // Group-writable by this user's own group.
            vec![folder("/home/u/b", 1000, 0o770), folder("/home", 0, 0o755)],
        ];
        for chain in ok {
            judge(&chain, 1000, 1000).unwrap_or_else(|e| panic!("{chain:?}: {e}"));
        }
    }

    #[test]
    fn folders_others_can_write_or_replace_are_refused() {
        let bad = [
            (
                vec![folder("/srv/b", 0, 0o777), folder("/srv", 0, 0o755)],
                "store folder",
            ),
            (vec![folder("/tmp", 0, 0o1777)], "store folder"),
            (
                vec![folder("/srv/b", 1001, 0o700), folder("/srv", 0, 0o755)],
                "another user",
            ),
            (
                vec![
                    folder("/srv/b", 1000, 0o700),
                    folder("/srv", 1001, 0o755),
                    folder("/", 0, 0o755),
                ],
                "parent",
            ),
            (
                vec![
                    folder("/srv/b", 1000, 0o700),
                    folder("/srv", 0, 0o777),
                    folder("/", 0, 0o755),
                ],
                "parent",
            ),
            (
                vec![
                    FolderFacts {
                        gid: 50,
                        ..folder("/srv/b", 1000, 0o770)
                    },
                    folder("/", 0, 0o755),
                ],
                "written by other users",
            ),
        ];
        for (chain, says) in bad {
            let err = judge(&chain, 1000, 1000).unwrap_err();
            assert!(err.message().contains(says), "{chain:?}: {err}");
            assert!(err.message().contains("--insecure-store"), "{err}");
        }
        // Root running the tool: a folder a user owns is theirs to swap.
        assert!(judge(&[folder("/home/u/b", 1000, 0o700)], 0, 0).is_err());
    }
}
