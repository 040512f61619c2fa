pub mod backup;
pub mod drill;
pub mod health;
pub mod keygen;
pub mod list;
pub mod prune;
pub mod restore;
pub mod verify;

use std::sync::Arc;

use backstage_backup_core::store::{self, Store, StoreLocation};

use crate::args::{SignArgs, StoreArgs, TrustArgs};
use backstage_backup_core::signing::{key_from_setting, Key, Trust};
use backstage_backup_core::Result;

/// The key `--signing-key` (or BACKSTAGE_BACKUP_SIGNING_KEY) names, when one is given.
fn signing_key(setting: Option<&str>) -> Result<Option<Key>> {
    setting
        .filter(|s| !s.trim().is_empty())
        .map(|s| key_from_setting(s, "--signing-key (BACKSTAGE_BACKUP_SIGNING_KEY)"))
        .transpose()
}

pub fn sign_key(args: &SignArgs) -> Result<Option<Key>> {
    signing_key(args.signing_key.as_deref())
}

pub fn trust(args: &TrustArgs) -> Result<Trust> {
    Ok(Trust::new(
        signing_key(args.signing_key.as_deref())?,
        args.allow_unsigned,
    ))
}

pub async fn open_store(args: &StoreArgs) -> Result<Arc<dyn Store>> {
    let location = StoreLocation::parse(&args.store)?;
    allow_insecure_if_asked(args, &location);
    store::open(&location).await
}

/// With `--insecure-store`, a folder others can write to is used, and the user is told why
/// that is dangerous.
fn allow_insecure_if_asked(args: &StoreArgs, location: &StoreLocation) {
    if !args.insecure_store {
        return;
    }
    store::allow_insecure_folders();
    if let StoreLocation::Local(path) = location {
        if let Err(err) = backstage_backup_core::folder_safety::check_store_folder(path) {
            let why = err
                .message()
                .split(": another user")
                .next()
                .unwrap_or_default();
            eprintln!(
                "warning: {}: used anyway (--insecure-store); another user could swap a backup for a dump of their own",
                crate::output::terminal_safe(why)
            );
        }
    }
}

/// Opens a store that must already exist: a mistyped folder is named as missing (exit 3), not
/// listed as an empty store. Only `backup` creates the folder.
pub async fn open_existing_store(args: &StoreArgs) -> Result<Arc<dyn Store>> {
    let location = StoreLocation::parse(&args.store)?;
    if let StoreLocation::Local(path) = &location {
        match std::fs::metadata(path) {
            Ok(meta) if meta.is_dir() => {}
            Ok(_) => {
                return Err(backstage_backup_core::Error::invalid(format!(
                    "the store {} is not a folder: give the folder backups are written to",
                    location.describe()
                )))
            }
            Err(_) => {
                return Err(backstage_backup_core::Error::not_found(format!(
                    "the store folder {} does not exist: check --store (or \
                     BACKSTAGE_BACKUP_STORE); `backstage-backup backup` creates it",
                    location.describe()
                )))
            }
        }
    }
    allow_insecure_if_asked(args, &location);
    store::open(&location).await
}

/// Finds the backup an argument names: an id or `latest` in the store, or a `.sql.gz` file on
/// disk (any name: a file not named like a backup is linked into a scratch folder under one).
///
/// The backup is held against prune (`purpose` names the reader) until [`Located::release`].
pub async fn locate(
    selector: &str,
    store_args: &StoreArgs,
    plugin_hint: Option<&str>,
    purpose: &str,
    cancel: &backstage_backup_core::CancellationToken,
) -> Result<Located> {
    use backstage_backup_core::listing::find_backup;
    use backstage_backup_core::naming::BackupName;
    use backstage_backup_core::read_hold::{hold_backup, Hold};
    use backstage_backup_core::Error;
    use std::path::Path;

    let path = Path::new(selector);
    if selector != "latest" && path.is_file() {
        let file = path
            .file_name()
            .and_then(|f| f.to_str())
            .ok_or_else(|| Error::invalid(format!("{selector} is not a file name")))?;
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        if let Ok(name) = BackupName::parse_id(file) {
            if name.key(backstage_backup_core::naming::Part::Data) == file {
                let store: Arc<dyn Store> = Arc::new(store::FolderStore::local(dir.to_path_buf()));
                let (entry, hold) =
                    hold_backup(store.as_ref(), &name.id(), None, purpose, cancel).await?;
                return Ok(Located {
                    store,
                    entry,
                    hold,
                    _scratch: None,
                });
            }
        }
        let scratch = tempfile::tempdir()?;
        let stamp = std::fs::metadata(path)?
            .modified()
            .map(chrono::DateTime::<chrono::Utc>::from)
            .unwrap_or_else(|_| chrono::Utc::now());
        let name = BackupName::new("catalog", stamp)?;
        let absolute = std::fs::canonicalize(path)?;
        std::os::unix::fs::symlink(
            &absolute,
            scratch
                .path()
                .join(name.key(backstage_backup_core::naming::Part::Data)),
        )?;
        let store: Arc<dyn Store> =
            Arc::new(store::FolderStore::local(scratch.path().to_path_buf()));
        // A scratch folder of this process: no prune can reach it.
        let entry = find_backup(store.as_ref(), &name.id()).await?;
        return Ok(Located {
            store,
            entry,
            hold: Hold::none(),
            _scratch: Some(scratch),
        });
    }
    if selector != "latest" && selector.contains('/') {
        return Err(Error::not_found(format!("{selector} is not a file")));
    }
    if selector != "latest" {
        // A malformed id is the argument's fault, whatever the store holds.
        BackupName::parse_id(selector)?;
    }
    let store = open_existing_store(store_args).await?;
    let (entry, hold) = hold_backup(store.as_ref(), selector, plugin_hint, purpose, cancel).await?;
    Ok(Located {
        store,
        entry,
        hold,
        _scratch: None,
    })
}

/// A backup found for reading, held against prune.
pub struct Located {
    pub store: Arc<dyn Store>,
    pub entry: backstage_backup_core::listing::BackupEntry,
    hold: backstage_backup_core::read_hold::Hold,
    /// Keeps the scratch folder of a file given by path alive while it is read.
    _scratch: Option<tempfile::TempDir>,
}

impl Located {
    /// Ends the hold; call when the read is over, whatever its outcome.
    pub async fn release(self) {
        self.hold.release(self.store.as_ref()).await;
    }
}
