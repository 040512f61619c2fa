//! backstage-backup-core: streaming, verified backups of Backstage's PostgreSQL databases.
//!
//! The pure parts (`pipeline`, `verify`'s stream checks, `manifest`, `naming`) build for
//! `wasm32-unknown-unknown` with default features off. The store protocols (listing, read
//! holds, the store lock, name reservation, leftovers, prune, health) are written once over the
//! `Store` trait and a `Host` behind the `ops` feature, which also builds for wasm32 (crates/wasm
//! supplies both over JS); the native stores, pg_dump, psql and the operations that run them
//! sit behind the `runtime`, `postgres` and `s3` features.
//!
//! ```no_run
//! # async fn run() -> backstage_backup_core::Result<()> {
//! use std::sync::Arc;
//! use backstage_backup_core::{backup, progress::NoProgress, source, store};
//!
//! let store = store::open(&store::StoreLocation::parse("./backups")?).await?;
//! let conn = source::ConnectionInfo::from_url("postgresql://postgres@127.0.0.1/backstage_plugin_catalog")?;
//! let manifest = backup::backup(
//!     store.as_ref(),
//!     &source::DumpSource::Database(source::DatabaseSource::from_connection(conn)),
//!     &backup::BackupOptions::default(),
//!     Arc::new(NoProgress),
//!     &Default::default(),
//! )
//! .await?;
//! println!("{} holds {:?} entities", manifest.name, manifest.entity_total());
//! # Ok(()) }
//! ```

pub mod duration;
pub mod error;
// Pure without `runtime` (the rules); reading the folders needs it.
pub mod folder_safety;
pub mod location;
pub mod manifest;
// Pure without `runtime` (the rules); this process's identity needs it.
pub mod marker;
pub mod naming;
pub mod pipeline;
pub mod progress;
// Pure without `ops` (hold keys); taking a hold needs it.
pub mod read_hold;
pub mod restore_sql;
pub mod retention;
pub mod signing;
pub mod verify;

#[cfg(feature = "runtime")]
pub mod backup;
#[cfg(feature = "ops")]
pub mod backup_writer;
#[cfg(feature = "ops")]
pub mod database_backup;
#[cfg(feature = "ops")]
pub mod drill;
// Pure without `ops` (evaluate); its store-reading entry point needs it.
pub mod health;
#[cfg(feature = "ops")]
pub mod host;
#[cfg(feature = "ops")]
pub mod leftovers;
// Pure without `ops` (entry types, records); reading a store needs it.
pub mod listing;
#[cfg(feature = "runtime")]
pub mod parallel_gzip;
#[cfg(feature = "ops")]
pub mod prune;
#[cfg(feature = "ops")]
pub mod reservation;
#[cfg(feature = "ops")]
pub mod restore;
#[cfg(feature = "ops")]
pub mod source;
#[cfg(feature = "ops")]
pub mod store;
#[cfg(feature = "ops")]
pub mod store_lock;

pub use error::{Cause, Error, ErrorKind, Result};

#[cfg(feature = "ops")]
pub use tokio_util::sync::CancellationToken;
