//! A local folder. Each object is staged under a hidden temp name, fsynced, then moved into
//! place and the folder fsynced, so a crash leaves either the whole object or only a temp file
//! (which `pending_uploads` reports and prune clears). Files are mode 0600.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use tokio::io::AsyncWriteExt;

use super::{ObjectMeta, ObjectReader, PendingUpload, Store, Upload};
use crate::error::{Error, ErrorKind, Result};

const TEMP_MARK: &str = ".tmp-";

#[derive(Debug, Clone)]
pub struct LocalStore {
    root: PathBuf,
}

impl LocalStore {
    pub fn new(root: PathBuf) -> Self {
        LocalStore { root }
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
        let nanos = Utc::now().timestamp_nanos_opt().unwrap_or_default();
        self.root
            .join(format!(".{key}{TEMP_MARK}{}-{nanos}", std::process::id()))
    }

    fn ensure_root(&self) -> Result<()> {
        let mut builder = fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder
            .create(&self.root)
            .map_err(|e| io_error(&self.root, "creating the backup folder", e))
    }

    async fn write_small(&self, key: &str, data: Bytes, exclusive: bool) -> Result<()> {
        let target = self.path(key)?;
        let temp = self.temp_path(key);
        let store = self.clone();
        blocking(move || {
            store.ensure_root()?;
            let write = (|| {
                let mut file = create_private(&temp)?;
                file.write_all(&data)?;
                file.sync_all()
            })();
            if let Err(e) = write {
                let _ = fs::remove_file(&temp);
                return Err(io_error(&target, "writing", e));
            }
            publish(&temp, &target, exclusive)
        })
        .await
    }
}

fn create_private(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Maps an I/O failure to a message that names the path and what to do about it.
fn io_error(path: &Path, doing: &str, err: io::Error) -> Error {
    super::io_error(&path.display().to_string(), doing, err)
}

/// Moves a finished temp file to its final name. `exclusive` refuses to replace an existing
/// object (a hard link fails if the name is taken), which keeps two backups from clobbering.
fn publish(temp: &Path, target: &Path, exclusive: bool) -> Result<()> {
    let result = if exclusive {
        match fs::hard_link(temp, target) {
            Ok(()) => fs::remove_file(temp),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                let _ = fs::remove_file(temp);
                return Err(Error::new(
                    ErrorKind::AlreadyExists,
                    format!("{} already exists", target.display()),
                ));
            }
            // File systems without hard links: check, then rename.
            Err(_) if !target.exists() => fs::rename(temp, target),
            Err(e) => Err(e),
        }
    } else {
        fs::rename(temp, target)
    };
    if let Err(e) = result {
        let _ = fs::remove_file(temp);
        return Err(io_error(target, "publishing", e));
    }
    let dir = target.parent().unwrap_or(Path::new("."));
    sync_dir(dir).map_err(|e| io_error(dir, "syncing", e))
}

fn to_utc(time: io::Result<std::time::SystemTime>) -> Option<DateTime<Utc>> {
    time.ok().map(DateTime::<Utc>::from)
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::internal(format!("file task failed: {e}")))?
}

#[async_trait]
impl Store for LocalStore {
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
        let temp = self.temp_path(key);
        let store = self.clone();
        let file = blocking({
            let temp = temp.clone();
            move || {
                store.ensure_root()?;
                create_private(&temp).map_err(|e| io_error(&temp, "creating", e))
            }
        })
        .await?;
        Ok(Box::new(LocalUpload {
            file: Some(tokio::fs::File::from_std(file)),
            temp,
            target,
        }))
    }

    async fn get(&self, key: &str) -> Result<(ObjectReader, u64)> {
        let path = self.path(key)?;
        // Opening a FIFO planted in the store would wait forever: objects are regular files.
        let meta = tokio::fs::metadata(&path)
            .await
            .map_err(|e| io_error(&path, "opening", e))?;
        if !meta.is_file() {
            return Err(Error::integrity(format!("{key} is not a regular file")));
        }
        let file = tokio::fs::File::open(&path)
            .await
            .map_err(|e| io_error(&path, "opening", e))?;
        let size = file
            .metadata()
            .await
            .map_err(|e| io_error(&path, "reading", e))?
            .len();
        Ok((Box::new(file), size))
    }

    async fn list(&self) -> Result<Vec<ObjectMeta>> {
        let root = self.root.clone();
        blocking(move || {
            let entries = match fs::read_dir(&root) {
                Ok(entries) => entries,
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
                Err(e) => return Err(io_error(&root, "listing", e)),
            };
            let mut out = Vec::new();
            for entry in entries {
                let entry = entry.map_err(|e| io_error(&root, "listing", e))?;
                let Ok(name) = entry.file_name().into_string() else {
                    continue;
                };
                // Follows symlinks: a linked file is an object like any other.
                let Ok(meta) = fs::metadata(entry.path()) else {
                    continue;
                };
                if name.starts_with('.') || !meta.is_file() {
                    continue;
                }
                out.push(ObjectMeta {
                    key: name,
                    size: meta.len(),
                    modified: to_utc(meta.modified()),
                });
            }
            out.sort_by(|a, b| a.key.cmp(&b.key));
            Ok(out)
        })
        .await
    }

    async fn delete(&self, key: &str) -> Result<()> {
        let path = self.path(key)?;
        blocking(move || match fs::remove_file(&path) {
            Ok(()) => {
                let dir = path.parent().unwrap_or(Path::new("."));
                sync_dir(dir).map_err(|e| io_error(dir, "syncing", e))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_error(&path, "deleting", e)),
        })
        .await
    }

    async fn pending_uploads(&self) -> Result<Vec<PendingUpload>> {
        let root = self.root.clone();
        blocking(move || {
            let entries = match fs::read_dir(&root) {
                Ok(entries) => entries,
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
                Err(e) => return Err(io_error(&root, "listing", e)),
            };
            let mut out = Vec::new();
            for entry in entries.flatten() {
                let Ok(name) = entry.file_name().into_string() else {
                    continue;
                };
                let Some(key) = name
                    .strip_prefix('.')
                    .and_then(|rest| rest.rsplit_once(TEMP_MARK))
                    .map(|(key, _)| key.to_string())
                else {
                    continue;
                };
                let started = entry.metadata().ok().and_then(|m| to_utc(m.modified()));
                out.push(PendingUpload {
                    key,
                    started,
                    handle: name,
                });
            }
            Ok(out)
        })
        .await
    }

    async fn abort_pending(&self, pending: &PendingUpload) -> Result<()> {
        if !pending.handle.starts_with('.') || pending.handle.contains('/') {
            return Err(Error::invalid("not a temp file of this store"));
        }
        let path = self.root.join(&pending.handle);
        blocking(move || match fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_error(&path, "deleting", e)),
        })
        .await
    }
}

struct LocalUpload {
    file: Option<tokio::fs::File>,
    temp: PathBuf,
    target: PathBuf,
}

impl LocalUpload {
    async fn discard(&mut self) {
        self.file.take();
        let _ = tokio::fs::remove_file(&self.temp).await;
    }
}

#[async_trait]
impl Upload for LocalUpload {
    async fn write(&mut self, chunk: Bytes) -> Result<()> {
        let file = self
            .file
            .as_mut()
            .ok_or_else(|| Error::internal("write after the upload ended"))?;
        if let Err(e) = file.write_all(&chunk).await {
            self.discard().await;
            return Err(io_error(&self.target, "writing", e));
        }
        Ok(())
    }

    async fn complete(mut self: Box<Self>) -> Result<()> {
        let mut file = self
            .file
            .take()
            .ok_or_else(|| Error::internal("complete after the upload ended"))?;
        let flushed = async {
            file.flush().await?;
            file.sync_all().await
        }
        .await;
        drop(file);
        if let Err(e) = flushed {
            let _ = tokio::fs::remove_file(&self.temp).await;
            return Err(io_error(&self.target, "writing", e));
        }
        let (temp, target) = (self.temp.clone(), self.target.clone());
        blocking(move || publish(&temp, &target, true)).await
    }

    async fn abort(mut self: Box<Self>) -> Result<()> {
        self.discard().await;
        Ok(())
    }
}

impl Drop for LocalUpload {
    fn drop(&mut self) {
        // Dropped without complete or abort (a cancelled future): remove the temp file.
        if self.file.take().is_some() {
            let _ = fs::remove_file(&self.temp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Cause;

    #[test]
    fn a_full_disk_is_a_store_error_with_cause_no_space() {
        let path = Path::new("/backups/x");
        let enospc = io::Error::from_raw_os_error(28);
        for full in [enospc, io::Error::from(io::ErrorKind::QuotaExceeded)] {
            let err = io_error(path, "writing", full);
            assert_eq!(err.kind(), ErrorKind::Store, "{err}");
            assert_eq!(err.cause(), Some(Cause::NoSpace), "{err}");
            assert!(err.message().contains("free some space"), "{err}");
            assert_eq!(err.context("backup").cause(), Some(Cause::NoSpace));
        }
        let err = io_error(
            path,
            "writing",
            io::Error::from(io::ErrorKind::PermissionDenied),
        );
        assert_eq!(err.cause(), None);
        assert!(std::error::Error::source(&err).is_some());
    }
}
