//! The folder store's protocol, written once for both engines over [`FolderFs`] (one file
//! system call a method). Each object is staged under a hidden temp name
//! (`.KEY.tmp-PID-NANOS`, mode 0600), fsynced, then moved into place (hard-linked, for
//! put-if-absent) and the folder fsynced, so a crash leaves either the whole object or only a
//! temp file, which `pending_uploads` reports and prune clears. Natively the calls are
//! std::fs's (`local.rs`); in the WebAssembly engine Node's `fs`, through the glue.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use chrono::{DateTime, Utc};

use super::{ObjectMeta, ObjectReader, PendingUpload, Store, Upload};
use crate::error::{Error, ErrorKind, Result};
use crate::host::host;

const TEMP_MARK: &str = ".tmp-";

/// What a file system says of a path (symlinks followed).
#[derive(Debug, Clone, Default)]
pub struct FileMeta {
    pub is_file: bool,
    pub size: u64,
    pub modified: Option<DateTime<Utc>>,
}

/// A folder entry; `meta` is none when it could not be read (gone since the listing).
#[derive(Debug, Clone)]
pub struct FolderEntry {
    pub name: String,
    pub meta: Option<FileMeta>,
}

/// What the folder store needs from a file system: one call a method, nothing decided.
#[async_trait]
pub trait FolderFs: Send + Sync + 'static {
    /// Creates the folder and its parents, new ones mode 0700.
    async fn create_dir_all(&self, dir: &Path) -> io::Result<()>;
    /// Creates a file that must not exist yet (O_EXCL), mode 0600, for writing.
    async fn create_new(&self, path: &Path) -> io::Result<Box<dyn FileWrite>>;
    async fn hard_link(&self, existing: &Path, link: &Path) -> io::Result<()>;
    async fn rename(&self, from: &Path, to: &Path) -> io::Result<()>;
    async fn remove_file(&self, path: &Path) -> io::Result<()>;
    /// Removes a file from `Drop` (an upload dropped mid-way): at once where the host can,
    /// else without waiting; failures are ignored.
    fn remove_file_unawaited(&self, path: &Path);
    /// fsync of a folder, so a rename in it survives a crash.
    async fn sync_dir(&self, dir: &Path) -> io::Result<()>;
    async fn metadata(&self, path: &Path) -> io::Result<FileMeta>;
    /// The folder's entries, each with its metadata.
    async fn read_dir(&self, dir: &Path) -> io::Result<Vec<FolderEntry>>;
    /// Opens a file for reading: its bytes and its size.
    async fn open_read(&self, path: &Path) -> io::Result<(ObjectReader, u64)>;
}

/// A file being written. Dropped without `sync_and_close`, it is closed.
#[async_trait]
pub trait FileWrite: Send {
    async fn write_all(&mut self, data: Bytes) -> io::Result<()>;
    /// fsync, then close.
    async fn sync_and_close(self: Box<Self>) -> io::Result<()>;
}

/// A folder store: the protocol above over a file system's calls.
#[derive(Clone)]
pub struct FolderStore {
    fs: Arc<dyn FolderFs>,
    root: PathBuf,
}

impl std::fmt::Debug for FolderStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FolderStore({})", self.root.display())
    }
}

/// A file system failure at `path` while `doing`, in core's words.
fn io_error(path: &Path, doing: &str, err: io::Error) -> Error {
    super::io_error(&path.display().to_string(), doing, err)
}

/// Temp names made by this process so far: two in the same clock tick still differ.
static TEMP_NAMES: AtomicU64 = AtomicU64::new(0);

/// This process's pid, asked of the host once: its `this_process` reads /proc files, and every
/// object written needs a temp name.
fn this_pid() -> u32 {
    static PID: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    *PID.get_or_init(|| host().this_process().pid)
}

impl FolderStore {
    pub fn new(root: PathBuf, fs: Arc<dyn FolderFs>) -> FolderStore {
        FolderStore { fs, root }
    }

    fn path(&self, key: &str) -> Result<PathBuf> {
        // Keys come from naming.rs, but a store must never write outside its folder.
        if key.is_empty() || key.contains('/') || key.contains('\\') || key.starts_with('.') {
            return Err(Error::invalid(format!(
                "'{key}' is not a valid object name"
            )));
        }
        Ok(self.root.join(key))
    }

    fn temp_path(&self, key: &str) -> PathBuf {
        let nanos = host().now().timestamp_nanos_opt().unwrap_or_default() as u64
            + TEMP_NAMES.fetch_add(1, Ordering::Relaxed);
        self.root
            .join(format!(".{key}{TEMP_MARK}{}-{nanos}", this_pid()))
    }

    async fn ensure_root(&self) -> Result<()> {
        self.fs
            .create_dir_all(&self.root)
            .await
            .map_err(|e| io_error(&self.root, "creating the backup folder", e))
    }

    /// A new private temp file for `key`, its folder made first.
    async fn create_temp(&self, key: &str) -> Result<(Box<dyn FileWrite>, PathBuf)> {
        self.ensure_root().await?;
        let temp = self.temp_path(key);
        let file = self
            .fs
            .create_new(&temp)
            .await
            .map_err(|e| io_error(&temp, "creating", e))?;
        Ok((file, temp))
    }

    async fn write_small(&self, key: &str, data: Bytes, exclusive: bool) -> Result<()> {
        let target = self.path(key)?;
        let (mut file, temp) = self.create_temp(key).await?;
        let written = match file.write_all(data).await {
            Ok(()) => file.sync_and_close().await,
            Err(e) => Err(e),
        };
        if let Err(e) = written {
            let _ = self.fs.remove_file(&temp).await;
            return Err(io_error(&target, "writing", e));
        }
        self.publish(&temp, &target, exclusive).await
    }

    /// Moves a finished temp file to its final name. `exclusive` refuses to replace an
    /// existing object (a hard link fails if the name is taken), which keeps two backups from
    /// clobbering each other. The temp file is gone afterwards, whatever happened.
    async fn publish(&self, temp: &Path, target: &Path, exclusive: bool) -> Result<()> {
        let moved = if exclusive {
            match self.fs.hard_link(temp, target).await {
                Ok(()) => self.fs.remove_file(temp).await,
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    let _ = self.fs.remove_file(temp).await;
                    return Err(Error::new(
                        ErrorKind::AlreadyExists,
                        format!("{} already exists", target.display()),
                    ));
                }
                // File systems without hard links: check, then rename.
                Err(e) => match self.fs.metadata(target).await {
                    Err(absent) if absent.kind() == io::ErrorKind::NotFound => {
                        self.fs.rename(temp, target).await
                    }
                    _ => Err(e),
                },
            }
        } else {
            self.fs.rename(temp, target).await
        };
        if let Err(e) = moved {
            let _ = self.fs.remove_file(temp).await;
            return Err(io_error(target, "publishing", e));
        }
        let dir = target.parent().unwrap_or(Path::new("."));
        self.fs
            .sync_dir(dir)
            .await
            .map_err(|e| io_error(dir, "syncing", e))
    }

    /// The folder's entries; a folder not made yet has none.
    async fn entries(&self) -> Result<Vec<FolderEntry>> {
        match self.fs.read_dir(&self.root).await {
            Ok(entries) => Ok(entries),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(io_error(&self.root, "listing", e)),
        }
    }

    async fn remove_if_present(&self, path: &Path) -> Result<bool> {
        match self.fs.remove_file(path).await {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(io_error(path, "deleting", e)),
        }
    }
}

#[async_trait]
impl Store for FolderStore {
    fn describe(&self) -> String {
        self.root.display().to_string()
    }

    async fn put(&self, key: &str, data: Bytes) -> Result<()> {
        self.write_small(key, data, false).await
    }

    async fn put_new(&self, key: &str, data: Bytes) -> Result<()> {
        self.write_small(key, data, true).await
    }

    async fn start_upload(&self, key: &str) -> Result<Box<dyn Upload>> {
        let target = self.path(key)?;
        let (file, temp) = self.create_temp(key).await?;
        Ok(Box::new(FolderUpload {
            store: self.clone(),
            file: Some(file),
            temp,
            target,
        }))
    }

    async fn get(&self, key: &str) -> Result<(ObjectReader, u64)> {
        let path = self.path(key)?;
        // Opening a FIFO planted in the store would wait forever: objects are regular files.
        let meta = self
            .fs
            .metadata(&path)
            .await
            .map_err(|e| io_error(&path, "opening", e))?;
        if !meta.is_file {
            return Err(Error::integrity(format!("{key} is not a regular file")));
        }
        self.fs
            .open_read(&path)
            .await
            .map_err(|e| io_error(&path, "opening", e))
    }

    async fn list(&self) -> Result<Vec<ObjectMeta>> {
        let mut out: Vec<ObjectMeta> = self
            .entries()
            .await?
            .into_iter()
            .filter(|entry| !entry.name.starts_with('.'))
            .filter_map(|entry| {
                // Follows symlinks: a linked file is an object like any other.
                let meta = entry.meta.filter(|m| m.is_file)?;
                Some(ObjectMeta {
                    key: entry.name,
                    size: meta.size,
                    modified: meta.modified,
                })
            })
            .collect();
        out.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(out)
    }

    async fn delete(&self, key: &str) -> Result<()> {
        let path = self.path(key)?;
        if self.remove_if_present(&path).await? {
            let dir = path.parent().unwrap_or(Path::new("."));
            self.fs
                .sync_dir(dir)
                .await
                .map_err(|e| io_error(dir, "syncing", e))?;
        }
        Ok(())
    }

    async fn pending_uploads(&self) -> Result<Vec<PendingUpload>> {
        Ok(self
            .entries()
            .await?
            .into_iter()
            .filter_map(|entry| {
                let (key, _) = entry.name.strip_prefix('.')?.rsplit_once(TEMP_MARK)?;
                Some(PendingUpload {
                    key: key.to_string(),
                    started: entry.meta.as_ref().and_then(|m| m.modified),
                    handle: entry.name.clone(),
                })
            })
            .collect())
    }

    async fn abort_pending(&self, pending: &PendingUpload) -> Result<()> {
        if !pending.handle.starts_with('.')
            || pending.handle.contains('/')
            || pending.handle.contains('\\')
        {
            return Err(Error::invalid("not a temp file of this store"));
        }
        self.remove_if_present(&self.root.join(&pending.handle))
            .await
            .map(drop)
    }
}

struct FolderUpload {
    store: FolderStore,
    /// Open until completed or aborted.
    file: Option<Box<dyn FileWrite>>,
    temp: PathBuf,
    target: PathBuf,
}

impl FolderUpload {
    async fn discard(&mut self) {
        self.file.take();
        let _ = self.store.fs.remove_file(&self.temp).await;
    }
}

#[async_trait]
impl Upload for FolderUpload {
    async fn write(&mut self, chunk: Bytes) -> Result<()> {
        let file = self
            .file
            .as_mut()
            .ok_or_else(|| Error::internal("write after the upload ended"))?;
        if let Err(e) = file.write_all(chunk).await {
            self.discard().await;
            return Err(io_error(&self.target, "writing", e));
        }
        Ok(())
    }

    async fn complete(mut self: Box<Self>) -> Result<()> {
        let file = self
            .file
            .take()
            .ok_or_else(|| Error::internal("complete after the upload ended"))?;
        if let Err(e) = file.sync_and_close().await {
            let _ = self.store.fs.remove_file(&self.temp).await;
            return Err(io_error(&self.target, "writing", e));
        }
        self.store.publish(&self.temp, &self.target, true).await
    }

    async fn abort(mut self: Box<Self>) -> Result<()> {
        self.discard().await;
        Ok(())
    }
}

impl Drop for FolderUpload {
    fn drop(&mut self) {
        // Dropped without complete or abort (a cancelled future): remove the temp file.
        if self.file.take().is_some() {
            self.store.fs.remove_file_unawaited(&self.temp);
        }
    }
}
