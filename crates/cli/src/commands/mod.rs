pub mod backup;
pub mod list;
pub mod verify;

use std::sync::Arc;

use backstage_backup_core::store::{self, Store, StoreLocation};
use backstage_backup_core::Result;

pub async fn open_store(url: &str) -> Result<Arc<dyn Store>> {
    store::open(&StoreLocation::parse(url)?).await
}
