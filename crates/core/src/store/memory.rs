//! A store in memory: the same behaviour as a folder or S3 (it passes the one conformance
//! suite), for fast tests of the protocols above the store. It counts the listing calls, so
//! tests can hold the operations to how often they list.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use bytes::Bytes;
use chrono::{DateTime, Utc};

use super::{ObjectMeta, ObjectReader, PendingUpload, Store, Upload};
use crate::error::{Error, ErrorKind, Result};

#[derive(Debug, Default)]
struct State {
    objects: BTreeMap<String, (Bytes, DateTime<Utc>)>,
    /// Open uploads by handle: key, bytes so far, when started.
    uploads: BTreeMap<String, (String, Vec<u8>, DateTime<Utc>)>,
    next_upload: u64,
}

#[derive(Debug, Default, Clone)]
pub struct MemoryStore {
    state: Arc<Mutex<State>>,
    lists: Arc<AtomicUsize>,
    pending_lists: Arc<AtomicUsize>,
}

impl MemoryStore {
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    /// How many times `list` and `pending_uploads` were called so far.
    pub fn listing_calls(&self) -> (usize, usize) {
        (
            self.lists.load(Ordering::Relaxed),
            self.pending_lists.load(Ordering::Relaxed),
        )
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().expect("memory store lock")
    }

    fn now() -> DateTime<Utc> {
        crate::host::host().now()
    }
}

fn check_key(key: &str) -> Result<()> {
    if key.is_empty() || key.contains('/') {
        return Err(Error::invalid(format!("{key:?} is not an object name")));
    }
    Ok(())
}

#[async_trait]
impl Store for MemoryStore {
    fn describe(&self) -> String {
        "memory".to_string()
    }

    async fn put(&self, key: &str, data: Bytes) -> Result<()> {
        check_key(key)?;
        self.state()
            .objects
            .insert(key.to_string(), (data, Self::now()));
        Ok(())
    }

    async fn put_new(&self, key: &str, data: Bytes) -> Result<()> {
        check_key(key)?;
        let mut state = self.state();
        if state.objects.contains_key(key) {
            return Err(Error::new(
                ErrorKind::AlreadyExists,
                format!("{key} already exists"),
            ));
        }
        state.objects.insert(key.to_string(), (data, Self::now()));
        Ok(())
    }

    async fn start_upload(&self, key: &str) -> Result<Box<dyn Upload>> {
        check_key(key)?;
        let mut state = self.state();
        state.next_upload += 1;
        let handle = format!("upload-{}", state.next_upload);
        state
            .uploads
            .insert(handle.clone(), (key.to_string(), Vec::new(), Self::now()));
        Ok(Box::new(MemoryUpload {
            store: self.clone(),
            handle,
        }))
    }

    async fn get(&self, key: &str) -> Result<(ObjectReader, u64)> {
        let data = self
            .state()
            .objects
            .get(key)
            .map(|(data, _)| data.clone())
            .ok_or_else(|| Error::not_found(format!("{key}: no such object")))?;
        let size = data.len() as u64;
        Ok((Box::new(std::io::Cursor::new(data)), size))
    }

    async fn list(&self) -> Result<Vec<ObjectMeta>> {
        self.lists.fetch_add(1, Ordering::Relaxed);
        Ok(self
            .state()
            .objects
            .iter()
            .map(|(key, (data, modified))| ObjectMeta {
                key: key.clone(),
                size: data.len() as u64,
                modified: Some(*modified),
            })
            .collect())
    }

    async fn delete(&self, key: &str) -> Result<()> {
        self.state().objects.remove(key);
        Ok(())
    }

    async fn pending_uploads(&self) -> Result<Vec<PendingUpload>> {
        self.pending_lists.fetch_add(1, Ordering::Relaxed);
        Ok(self
            .state()
            .uploads
            .iter()
            .map(|(handle, (key, _, started))| PendingUpload {
                key: key.clone(),
                started: Some(*started),
                handle: handle.clone(),
            })
            .collect())
    }

    async fn abort_pending(&self, pending: &PendingUpload) -> Result<()> {
        self.state().uploads.remove(&pending.handle);
        Ok(())
    }
}

struct MemoryUpload {
    store: MemoryStore,
    handle: String,
}

#[async_trait]
impl Upload for MemoryUpload {
    async fn write(&mut self, chunk: Bytes) -> Result<()> {
        match self.store.state().uploads.get_mut(&self.handle) {
            Some((_, data, _)) => {
                data.extend_from_slice(&chunk);
                Ok(())
            }
            None => Err(Error::store("the upload was aborted")),
        }
    }

    async fn complete(self: Box<Self>) -> Result<()> {
        let mut state = self.store.state();
        let (key, data, _) = state
            .uploads
            .remove(&self.handle)
            .ok_or_else(|| Error::store("the upload was aborted"))?;
        if state.objects.contains_key(&key) {
            return Err(Error::new(
                ErrorKind::AlreadyExists,
                format!("{key} already exists"),
            ));
        }
        state
            .objects
            .insert(key, (Bytes::from(data), MemoryStore::now()));
        Ok(())
    }

    async fn abort(self: Box<Self>) -> Result<()> {
        self.store.state().uploads.remove(&self.handle);
        Ok(())
    }
}
