//! Where backups are kept. A small trait with implementations that pass one conformance suite
//! (a local folder, S3, memory for tests, and in the WebAssembly engine the glue's JS stores);
//! callers above it never know which they have.

pub mod folder;
#[cfg(feature = "runtime")]
mod local;
mod memory;
pub mod s3;
#[cfg(feature = "s3")]
mod s3_sdk;
pub mod spec;

#[cfg(feature = "runtime")]
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use tokio::io::AsyncRead;

use crate::error::{Cause, Error, ErrorKind, Result};

pub use crate::location::{S3Location, ServerSideEncryption, StoreLocation, DEFAULT_STORE};
pub use folder::{FolderFs, FolderStore};
pub use memory::MemoryStore;
pub use s3::{S3Calls, S3Store};
pub use spec::StoreSpec;

/// An object directly under the store's prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectMeta {
    /// Name relative to the prefix.
    pub key: String,
    pub size: u64,
    pub modified: Option<DateTime<Utc>>,
}

/// An upload that was started and never finished (a staged temp file, an open multipart upload).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingUpload {
    pub key: String,
    pub started: Option<DateTime<Utc>>,
    /// Store-specific handle: a temp file name, an S3 upload id.
    pub handle: String,
}

pub type ObjectReader = Box<dyn AsyncRead + Send + Unpin>;

/// A streaming write of one object that is invisible until `complete` and leaves nothing
/// behind after `abort`.
#[async_trait]
pub trait Upload: Send {
    /// Adds bytes; waits when the store is behind (back-pressure).
    async fn write(&mut self, chunk: Bytes) -> Result<()>;
    /// Makes the object visible under its key, all at once. Fails if the key already exists.
    async fn complete(self: Box<Self>) -> Result<()>;
    /// Discards everything written.
    async fn abort(self: Box<Self>) -> Result<()>;
}

#[async_trait]
pub trait Store: Send + Sync + std::fmt::Debug {
    /// Where this store is, safe to show.
    fn describe(&self) -> String;
    /// Writes a small object atomically, replacing any previous one.
    async fn put(&self, key: &str, data: Bytes) -> Result<()>;
    /// Writes a small object only if the key is free; `AlreadyExists` otherwise. Atomic.
    async fn put_new(&self, key: &str, data: Bytes) -> Result<()>;
    /// Starts a streaming upload of a large object.
    async fn start_upload(&self, key: &str) -> Result<Box<dyn Upload>>;
    /// Opens an object for streaming; `NotFound` when absent.
    async fn get(&self, key: &str) -> Result<(ObjectReader, u64)>;
    /// Every object directly under the prefix.
    async fn list(&self) -> Result<Vec<ObjectMeta>>;
    /// Removes an object; absent objects are not an error.
    async fn delete(&self, key: &str) -> Result<()>;
    /// Uploads started under the prefix and never completed or aborted.
    async fn pending_uploads(&self) -> Result<Vec<PendingUpload>>;
    /// Discards a pending upload.
    async fn abort_pending(&self, pending: &PendingUpload) -> Result<()>;

    /// Reads a small object whole, refusing one larger than `limit`.
    async fn get_small(&self, key: &str, limit: usize) -> Result<Vec<u8>> {
        use tokio::io::AsyncReadExt;
        let (reader, size) = self.get(key).await?;
        if size > limit as u64 {
            return Err(Error::integrity(format!(
                "{key} is {size} bytes, more than the {limit} expected"
            )));
        }
        let mut out = Vec::with_capacity(size as usize);
        reader
            .take(limit as u64 + 1)
            .read_to_end(&mut out)
            .await
            .map_err(|e| Error::store(format!("reading {key}: {e}")))?;
        if out.len() > limit {
            return Err(Error::integrity(format!(
                "{key} is larger than {limit} bytes"
            )));
        }
        Ok(out)
    }
}

/// S3 credentials a caller holds itself (the Backstage plugin's config), used instead of the
/// standard AWS chain. Never printed: Debug shows the key id only.
#[derive(Clone, serde::Deserialize)]
pub struct S3Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    #[serde(default)]
    pub session_token: Option<String>,
}

impl std::fmt::Debug for S3Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Credentials")
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

#[cfg(feature = "runtime")]
static INSECURE_FOLDERS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Lets `open` use local store folders other users can write to (`--insecure-store`); the
/// caller warns. `BACKSTAGE_BACKUP_INSECURE_STORE=1` in the environment does the same.
#[cfg(feature = "runtime")]
pub fn allow_insecure_folders() {
    INSECURE_FOLDERS.store(true, std::sync::atomic::Ordering::Relaxed);
}

#[cfg(feature = "runtime")]
fn insecure_folders_allowed() -> bool {
    INSECURE_FOLDERS.load(std::sync::atomic::Ordering::Relaxed)
        || crate::folder_safety::insecure_store_opted_in(
            std::env::var(crate::folder_safety::INSECURE_STORE_ENV)
                .ok()
                .as_deref(),
        )
}

/// Opens the store a location names (S3 credentials from the standard AWS chain).
#[cfg(feature = "runtime")]
pub async fn open(location: &StoreLocation) -> Result<Arc<dyn Store>> {
    open_with(location, None).await
}

/// As `open`, with S3 credentials given by the caller instead of the AWS chain.
#[cfg(feature = "runtime")]
pub async fn open_with(
    location: &StoreLocation,
    #[cfg_attr(not(feature = "s3"), allow(unused_variables))] credentials: Option<&S3Credentials>,
) -> Result<Arc<dyn Store>> {
    match location {
        StoreLocation::Local(path) => {
            if !insecure_folders_allowed() {
                crate::folder_safety::check_store_folder(path)?;
            }
            Ok(Arc::new(FolderStore::local(path.clone())))
        }
        #[cfg(feature = "s3")]
        StoreLocation::S3(s3) => Ok(Arc::new(s3_sdk::connect(s3.clone(), credentials).await?)),
        #[cfg(not(feature = "s3"))]
        StoreLocation::S3(_) => Err(Error::invalid(
            "this build has no S3 support; use a build with the `s3` feature",
        )),
    }
}

/// A file system failure at `where_` while `doing`, in words that say what to do; a full disk
/// keeps its cause. Both engines' folder stores (the wasm engine's through `io_kind_of_code`).
pub fn io_error(where_: &str, doing: &str, err: std::io::Error) -> Error {
    use std::io;
    let error = match err.kind() {
        io::ErrorKind::NotFound => Error::not_found(format!("{where_} does not exist")),
        io::ErrorKind::PermissionDenied => Error::store(format!(
            "{doing} {where_}: permission denied; make the folder writable by this user or choose another --store"
        )),
        io::ErrorKind::StorageFull => Error::with_cause(
            ErrorKind::Store,
            Cause::NoSpace,
            format!(
                "{doing} {where_}: the disk is full; free some space or choose another --store (nothing partial was kept)"
            ),
        ),
        io::ErrorKind::QuotaExceeded => Error::with_cause(
            ErrorKind::Store,
            Cause::NoSpace,
            format!(
                "{doing} {where_}: the disk quota is used up; free some space or choose another --store (nothing partial was kept)"
            ),
        ),
        io::ErrorKind::FileTooLarge => Error::store(format!(
            "{doing} {where_}: the file size limit was reached (ulimit -f or the file system's limit); nothing partial was kept"
        )),
        io::ErrorKind::ReadOnlyFilesystem => Error::store(format!(
            "{doing} {where_}: the file system is read-only; choose a writable --store"
        )),
        _ => Error::store(format!("{doing} {where_}: {err}")),
    };
    error.with_source(err)
}

/// The io kind of a Node.js/libc error code (`ENOSPC`, …), for the wasm engine's folder store.
pub fn io_kind_of_code(code: &str) -> std::io::ErrorKind {
    use std::io::ErrorKind as K;
    match code {
        "ENOENT" => K::NotFound,
        "EACCES" | "EPERM" => K::PermissionDenied,
        "ENOSPC" => K::StorageFull,
        "EDQUOT" => K::QuotaExceeded,
        "EFBIG" => K::FileTooLarge,
        "EROFS" => K::ReadOnlyFilesystem,
        "EEXIST" => K::AlreadyExists,
        _ => K::Other,
    }
}

#[cfg(test)]
mod io_tests {
    use super::*;

    #[test]
    fn a_node_error_code_is_worded_as_the_native_store_words_it() {
        let full = io_error(
            "/backups/x.sql.gz",
            "writing",
            std::io::Error::new(io_kind_of_code("ENOSPC"), "ENOSPC: no space left on device"),
        );
        assert_eq!(full.kind(), ErrorKind::Store);
        assert_eq!(full.cause(), Some(Cause::NoSpace));
        assert!(full.message().contains("the disk is full"), "{full}");
        let gone = io_error(
            "/backups",
            "listing",
            std::io::Error::new(io_kind_of_code("ENOENT"), "x"),
        );
        assert_eq!(gone.kind(), ErrorKind::NotFound);
        let other = io_error(
            "/b",
            "writing",
            std::io::Error::new(io_kind_of_code("EIO"), "EIO: i/o error"),
        );
        assert_eq!(other.kind(), ErrorKind::Store);
        assert!(other.message().ends_with("EIO: i/o error"), "{other}");
    }
}
