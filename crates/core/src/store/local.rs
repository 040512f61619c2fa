//! The native engine's file system for the folder store (`folder.rs` holds the protocol):
//! std::fs on tokio's blocking threads, files mode 0600, folders 0700.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use tokio::io::AsyncWriteExt;

use super::folder::{FileMeta, FileWrite, FolderEntry, FolderFs, FolderStore};
use super::ObjectReader;

impl FolderStore {
    /// A folder store on this machine's file system.
    pub fn local(root: PathBuf) -> FolderStore {
        FolderStore::new(root, Arc::new(NativeFs))
    }
}

#[derive(Debug)]
struct NativeFs;

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> io::Result<T> + Send + 'static,
) -> io::Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| io::Error::other(format!("file task failed: {e}")))?
}

fn meta_of(meta: &fs::Metadata) -> FileMeta {
    FileMeta {
        is_file: meta.is_file(),
        size: meta.len(),
        modified: meta.modified().ok().map(DateTime::<Utc>::from),
    }
}

#[async_trait]
impl FolderFs for NativeFs {
    async fn create_dir_all(&self, dir: &Path) -> io::Result<()> {
        let dir = dir.to_path_buf();
        blocking(move || {
            let mut builder = fs::DirBuilder::new();
            builder.recursive(true);
            #[cfg(unix)]
            std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
            builder.create(&dir)
        })
        .await
    }

    async fn create_new(&self, path: &Path) -> io::Result<Box<dyn FileWrite>> {
        let path = path.to_path_buf();
        let file = blocking(move || {
            let mut options = OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            options.open(path)
        })
        .await?;
        Ok(Box::new(NativeFile(tokio::fs::File::from_std(file))))
    }

    async fn hard_link(&self, existing: &Path, link: &Path) -> io::Result<()> {
        tokio::fs::hard_link(existing, link).await
    }

    async fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        tokio::fs::rename(from, to).await
    }

    async fn remove_file(&self, path: &Path) -> io::Result<()> {
        tokio::fs::remove_file(path).await
    }

    fn remove_file_unawaited(&self, path: &Path) {
        let _ = fs::remove_file(path);
    }

    async fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        let dir = dir.to_path_buf();
        blocking(move || File::open(dir)?.sync_all()).await
    }

    async fn metadata(&self, path: &Path) -> io::Result<FileMeta> {
        Ok(meta_of(&tokio::fs::metadata(path).await?))
    }

    async fn read_dir(&self, dir: &Path) -> io::Result<Vec<FolderEntry>> {
        let dir: PathBuf = dir.to_path_buf();
        blocking(move || {
            let mut out = Vec::new();
            for entry in fs::read_dir(&dir)? {
                let entry = entry?;
                let Ok(name) = entry.file_name().into_string() else {
                    continue;
                };
                // fs::metadata, not the entry's: symlinks are followed.
                let meta = fs::metadata(entry.path()).ok().map(|m| meta_of(&m));
                out.push(FolderEntry { name, meta });
            }
            Ok(out)
        })
        .await
    }

    async fn open_read(&self, path: &Path) -> io::Result<(ObjectReader, u64)> {
        let file = tokio::fs::File::open(path).await?;
        let size = file.metadata().await?.len();
        Ok((Box::new(file), size))
    }
}

struct NativeFile(tokio::fs::File);

#[async_trait]
impl FileWrite for NativeFile {
    async fn write_all(&mut self, data: Bytes) -> io::Result<()> {
        self.0.write_all(&data).await
    }

    async fn sync_and_close(mut self: Box<Self>) -> io::Result<()> {
        self.0.flush().await?;
        self.0.sync_all().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{Cause, ErrorKind};

    #[test]
    fn a_full_disk_is_a_store_error_with_cause_no_space() {
        let path = "/backups/x";
        let enospc = io::Error::from_raw_os_error(28);
        for full in [enospc, io::Error::from(io::ErrorKind::QuotaExceeded)] {
            let err = super::super::io_error(path, "writing", full);
            assert_eq!(err.kind(), ErrorKind::Store, "{err}");
            assert_eq!(err.cause(), Some(Cause::NoSpace), "{err}");
            assert!(err.message().contains("free some space"), "{err}");
            assert_eq!(err.context("backup").cause(), Some(Cause::NoSpace));
        }
        let err = super::super::io_error(
            path,
            "writing",
            io::Error::from(io::ErrorKind::PermissionDenied),
        );
        assert_eq!(err.cause(), None);
        assert!(std::error::Error::source(&err).is_some());
    }
}
