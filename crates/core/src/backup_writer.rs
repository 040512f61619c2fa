//! How a backup is written, in the one order every engine follows: the name reserved (its
//! marker), the dump streamed into an upload invisible until complete, then the upload
//! completed, the `.sha256` sidecar, the manifest last (signed when a key is given), the marker
//! removed. A failure at any step removes what this backup wrote, and nothing else, and gives
//! the name back: a backup is complete or visibly incomplete, never silently half there.
//! How the bytes are made (pg_dump, parallel gzip) is the engine's; the order is this module's.

use std::collections::BTreeMap;

use bytes::Bytes;
use serde::Deserialize;

use crate::error::{Error, Result};
use crate::host::host;
use crate::leftovers::find_leftovers_in;
use crate::manifest::{
    sidecar_text, validate_label, Compression, DatabaseInfo, Manifest, Trigger, TriggerKind,
    FORMAT_V1,
};
use crate::naming::{BackupName, Part};
use crate::pipeline::{StreamDigests, DEFAULT_LEVEL};
use crate::reservation::{reserve_name, Reservation};
use crate::store::{Store, Upload};

#[derive(Debug, Clone)]
pub struct BackupOptions {
    /// gzip level 1 (fastest) to 9 (smallest); 6 is gzip's own default.
    pub level: u32,
    pub trigger: Trigger,
    pub labels: BTreeMap<String, String>,
    /// Names the backup when the source does not (a dump file or stdin).
    pub plugin_id: Option<String>,
    /// Compression threads; 0 means one per core.
    pub threads: usize,
    /// Signs the manifest when set; a public key is refused before anything is dumped.
    pub signing_key: Option<crate::signing::Key>,
}

impl Default for BackupOptions {
    fn default() -> Self {
        BackupOptions {
            level: DEFAULT_LEVEL,
            trigger: Trigger {
                kind: TriggerKind::Manual,
                by: None,
            },
            labels: BTreeMap::new(),
            plugin_id: None,
            threads: 0,
            signing_key: None,
        }
    }
}

impl BackupOptions {
    /// Refuses what would fail later, before anything is dumped.
    pub fn check(&self) -> Result<()> {
        if self.level > 9 {
            return Err(Error::invalid(format!(
                "compression level {} is out of range: use 1 (fastest) to 9 (smallest)",
                self.level
            )));
        }
        for (key, value) in &self.labels {
            validate_label(key, value)?;
        }
        if let Some(plugin_id) = &self.plugin_id {
            crate::naming::validate_plugin_id(plugin_id)?;
        }
        if let Some(key) = &self.signing_key {
            key.require_private()?;
        }
        crate::pipeline::compression_threads(self.threads as u64, 1)?;
        Ok(())
    }
}

/// A backup as the engines ask for it (JSON, camelCase), each value checked by `options`; the
/// database is the call's other part (`engine_options::BackupCallOptions`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, derive(ts_rs::TS), ts(optional_fields))]
pub struct BackupRequest {
    /// gzip level 1-9; default the engine's `compressionLevel`.
    #[serde(default)]
    #[cfg_attr(test, ts(as = "Option<u32>"))]
    pub level: Option<serde_json::Value>,
    /// Why it is taken (default `manual`).
    #[serde(default)]
    #[cfg_attr(test, ts(as = "Option<crate::manifest::TriggerKind>"))]
    pub trigger: Option<String>,
    /// Who asked for it (a user entity ref), recorded in the manifest.
    #[serde(default)]
    pub by: Option<String>,
    /// Keys: 1-63 letters, digits, '-', '_', '.', '/'; values: one line, at most 256 characters.
    #[serde(default)]
    #[cfg_attr(test, ts(as = "Option<BTreeMap<String, String>>"))]
    pub labels: Option<serde_json::Value>,
    /// The plugin id the backup is named after (default: the database's plugin).
    #[serde(default)]
    pub plugin_id: Option<String>,
    /// Compression threads, 0 = one per core (at most 4 in the WebAssembly engine, which
    /// compresses on worker threads). Either way the output is one standard gzip stream.
    #[serde(default)]
    #[cfg_attr(test, ts(as = "Option<u32>"))]
    pub threads: Option<serde_json::Value>,
}

impl BackupRequest {
    pub fn from_json(value: &serde_json::Value) -> Result<BackupRequest> {
        BackupRequest::deserialize(value).map_err(|e| {
            Error::invalid(format!(
                "backup options: {}",
                crate::naming::printable(&e.to_string())
            ))
        })
    }

    /// The options, each checked (`BackupOptions::check`); `level` defaults to the engine's.
    pub fn options(
        &self,
        default_level: u32,
        signing_key: Option<crate::signing::Key>,
    ) -> Result<BackupOptions> {
        let level = match &self.level {
            None | Some(serde_json::Value::Null) => default_level,
            Some(v) => v
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| {
                    Error::invalid(format!(
                        "compression level {v} is out of range: use 1 (fastest) to 9 (smallest)"
                    ))
                })?,
        };
        let labels = match &self.labels {
            None | Some(serde_json::Value::Null) => BTreeMap::new(),
            Some(v) => serde_json::from_value(v.clone())
                .map_err(|_| Error::invalid("labels must be an object of string values"))?,
        };
        let threads = match &self.threads {
            None | Some(serde_json::Value::Null) => 0,
            Some(v) => {
                let whole = v.as_f64().filter(|n| n.fract() == 0.0 && *n >= 0.0);
                let threads = whole.ok_or_else(|| {
                    Error::invalid(format!(
                        "threads must be a whole number from 0 (one per core) to {}, not {v}",
                        crate::pipeline::MAX_THREADS
                    ))
                })?;
                crate::pipeline::compression_threads(threads as u64, 1)?;
                threads as usize
            }
        };
        let options = BackupOptions {
            level,
            trigger: Trigger {
                kind: TriggerKind::parse(self.trigger.as_deref().unwrap_or("manual"))?,
                by: self.by.clone(),
            },
            labels,
            plugin_id: self.plugin_id.clone(),
            threads,
            signing_key,
        };
        options.check()?;
        Ok(options)
    }
}

/// A backup being written: its name reserved and its data upload open.
pub struct BackupWriter {
    reservation: Reservation,
    upload: Option<Box<dyn Upload>>,
}

impl std::fmt::Debug for BackupWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "BackupWriter({})", self.reservation.name.id())
    }
}

impl BackupWriter {
    /// Reserves a name for a backup of `plugin_id`, clears the abandoned leftovers of its
    /// earlier backups (judged from the listing the reservation took: other servers may share
    /// the plugin id and the store, so only what is abandoned goes) and opens its data upload.
    pub async fn begin(store: &dyn Store, plugin_id: &str) -> Result<BackupWriter> {
        let reservation = reserve_name(store, plugin_id).await?;
        let grace = chrono::Duration::hours(crate::marker::DEFAULT_GRACE_HOURS);
        let cleared = find_leftovers_in(
            store,
            &reservation.snapshot,
            Some(plugin_id),
            grace,
            host().now(),
            true,
        )
        .await;
        if let Err(err) = cleared {
            reservation.release(store).await;
            return Err(err);
        }
        match store.start_upload(&reservation.name.key(Part::Data)).await {
            Ok(upload) => Ok(BackupWriter {
                reservation,
                upload: Some(upload),
            }),
            Err(err) => {
                reservation.release(store).await;
                Err(err)
            }
        }
    }

    pub fn name(&self) -> &BackupName {
        &self.reservation.name
    }

    /// When the backup started (its marker's time).
    pub fn started_at(&self) -> chrono::DateTime<chrono::Utc> {
        self.reservation.marker.started_at
    }

    /// Where the compressed dump goes.
    pub fn upload(&mut self) -> &mut dyn Upload {
        self.upload
            .as_deref_mut()
            .expect("the upload is open until finish or abandon")
    }

    /// Completes the backup: the data object, the sidecar, the manifest (last, signed when
    /// `options.signing_key` is set), then the marker goes. On a failure everything this backup
    /// wrote is removed and the name given back.
    pub async fn finish(
        mut self,
        store: &dyn Store,
        database: DatabaseInfo,
        entities: Option<BTreeMap<String, u64>>,
        options: &BackupOptions,
        digests: StreamDigests,
    ) -> Result<Manifest> {
        let mut written: Vec<Part> = Vec::new();
        let upload = self.upload.take().expect("the upload is open until finish");
        let outcome = async {
            // Exclusive: a data object already under this name is another backup's, left alone.
            upload.complete().await?;
            written.push(Part::Data);
            let name = &self.reservation.name;
            let data_key = name.key(Part::Data);
            // Create-if-absent, as every part: nothing this backup writes replaces another's.
            store
                .put_new(
                    &name.key(Part::Sidecar),
                    Bytes::from(sidecar_text(&digests.compressed.sha256, &data_key)),
                )
                .await?;
            written.push(Part::Sidecar);
            let mut manifest = Manifest {
                format: FORMAT_V1.to_string(),
                id: name.id(),
                name: data_key,
                database,
                created_at: self.reservation.marker.started_at,
                finished_at: host().now(),
                tool_version: env!("CARGO_PKG_VERSION").to_string(),
                compression: Compression {
                    algorithm: "gzip".to_string(),
                    level: options.level,
                    extra: Default::default(),
                },
                raw: digests.raw,
                compressed: digests.compressed,
                entities,
                trigger: options.trigger.clone(),
                labels: options.labels.clone(),
                signature: None,
                extra: Default::default(),
            };
            if let Some(key) = &options.signing_key {
                key.sign(&mut manifest)?;
            }
            store
                .put_new(&name.key(Part::Manifest), Bytes::from(manifest.to_json()))
                .await?;
            written.push(Part::Manifest);
            Ok(manifest)
        }
        .await;
        let name = &self.reservation.name;
        match outcome {
            Ok(manifest) => {
                // A leftover marker beside a manifest is harmless: the manifest decides.
                let _ = store.delete(&name.key(Part::Marker)).await;
                Ok(manifest)
            }
            Err(err) => {
                for part in [Part::Manifest, Part::Sidecar, Part::Data] {
                    if written.contains(&part) {
                        let _ = store.delete(&name.key(part)).await;
                    }
                }
                self.reservation.release(store).await;
                Err(err)
            }
        }
    }

    /// Gives up: the upload is discarded and the name given back.
    pub async fn abandon(mut self, store: &dyn Store) {
        if let Some(upload) = self.upload.take() {
            let _ = upload.abort().await;
        }
        self.reservation.release(store).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::Digest;
    use crate::store::MemoryStore;

    fn digests() -> StreamDigests {
        let digest = |bytes| Digest {
            bytes,
            sha256: "ab".repeat(32),
        };
        StreamDigests {
            raw: digest(100),
            compressed: digest(10),
        }
    }

    fn database() -> DatabaseInfo {
        serde_json::from_value(
            serde_json::json!({"name": "backstage_plugin_catalog", "plugin_id": "catalog"}),
        )
        .unwrap()
    }

    /// A backup of `catalog` begun, with some bytes written.
    async fn begun(store: &MemoryStore) -> BackupWriter {
        let mut writer = BackupWriter::begin(store, "catalog").await.unwrap();
        writer
            .upload()
            .write(Bytes::from_static(b"gzip bytes"))
            .await
            .unwrap();
        writer
    }

    async fn keys_in(store: &MemoryStore) -> Vec<String> {
        let objects = store.list().await.unwrap();
        objects.into_iter().map(|o| o.key).collect()
    }

    async fn finish(writer: BackupWriter, store: &MemoryStore) -> Result<Manifest> {
        let options = BackupOptions::default();
        writer
            .finish(store, database(), None, &options, digests())
            .await
    }

    #[tokio::test]
    async fn a_backup_lists_the_store_once_and_its_open_uploads_once_and_clears_leftovers_from_that(
    ) {
        let store = MemoryStore::new();
        // An abandoned backup of the same plugin, older than the grace period (marker, sidecar),
        // and an upload under its name that started just now: that one may still be running.
        let old = BackupName::new("catalog", host().now() - chrono::Duration::days(3)).unwrap();
        for part in [Part::Marker, Part::Sidecar] {
            store
                .put(&old.key(part), Bytes::from_static(b"{}"))
                .await
                .unwrap();
        }
        std::mem::forget(store.start_upload(&old.key(Part::Data)).await.unwrap());
        // Another plugin's is not this backup's to clear.
        let other =
            BackupName::new("scaffolder", host().now() - chrono::Duration::days(3)).unwrap();
        store
            .put(&other.key(Part::Marker), Bytes::from_static(b"{}"))
            .await
            .unwrap();

        let writer = begun(&store).await;
        let manifest = finish(writer, &store).await.unwrap();

        assert_eq!(
            store.listing_calls(),
            (1, 1),
            "(objects, open uploads) listed"
        );
        let keys = keys_in(&store).await;
        let name = BackupName::parse_id(&manifest.id).unwrap();
        let mut expected = vec![
            name.key(Part::Data),
            name.key(Part::Sidecar),
            name.key(Part::Manifest),
            other.key(Part::Marker),
        ];
        expected.sort();
        assert_eq!(keys, expected);
        let pending = store.pending_uploads().await.unwrap();
        assert_eq!(pending.len(), 1);
        assert_eq!(pending[0].key, old.key(Part::Data));
    }

    #[tokio::test]
    async fn a_failed_finish_removes_what_it_wrote_and_gives_the_name_back() {
        let store = MemoryStore::new();
        let writer = begun(&store).await;
        let name = writer.name().clone();
        // Someone else's manifest under this name: the manifest write fails (create-if-absent).
        store
            .put(&name.key(Part::Manifest), Bytes::from_static(b"theirs"))
            .await
            .unwrap();
        let err = finish(writer, &store).await.unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::AlreadyExists);
        let keys = keys_in(&store).await;
        // Only the object this backup did not write is left.
        assert_eq!(keys, vec![name.key(Part::Manifest)]);
    }

    /// A memory store whose uploads cannot start (a full disk, a bucket policy).
    #[derive(Debug)]
    struct NoUploads(MemoryStore);

    #[async_trait::async_trait]
    impl Store for NoUploads {
        fn describe(&self) -> String {
            self.0.describe()
        }
        async fn put(&self, key: &str, data: Bytes) -> Result<()> {
            self.0.put(key, data).await
        }
        async fn put_new(&self, key: &str, data: Bytes) -> Result<()> {
            self.0.put_new(key, data).await
        }
        async fn start_upload(&self, _: &str) -> Result<Box<dyn Upload>> {
            Err(Error::store("no space left on device"))
        }
        async fn get(&self, key: &str) -> Result<(crate::store::ObjectReader, u64)> {
            self.0.get(key).await
        }
        async fn list(&self) -> Result<Vec<crate::store::ObjectMeta>> {
            self.0.list().await
        }
        async fn delete(&self, key: &str) -> Result<()> {
            self.0.delete(key).await
        }
        async fn pending_uploads(&self) -> Result<Vec<crate::store::PendingUpload>> {
            self.0.pending_uploads().await
        }
        async fn abort_pending(&self, pending: &crate::store::PendingUpload) -> Result<()> {
            self.0.abort_pending(pending).await
        }
    }

    #[tokio::test]
    async fn an_upload_that_cannot_start_gives_the_name_back_and_leaves_nothing() {
        let store = NoUploads(MemoryStore::new());
        let err = BackupWriter::begin(&store, "catalog").await.unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::Store);
        // The marker that reserved the name is gone: nothing is listed, nothing to clear.
        assert!(store.0.list().await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn an_abandoned_backup_leaves_nothing() {
        let store = MemoryStore::new();
        let writer = begun(&store).await;
        writer.abandon(&store).await;
        assert!(keys_in(&store).await.is_empty());
        assert!(store.pending_uploads().await.unwrap().is_empty());
    }
}
