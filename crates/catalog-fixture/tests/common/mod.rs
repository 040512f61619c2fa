//! Throwaway databases on the local test server.
#![allow(dead_code)]

use backstage_catalog_fixture::{connect, drop_database};
use futures::FutureExt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

pub fn admin_url() -> String {
    std::env::var("BACKSTAGE_BACKUP_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgresql://postgres@127.0.0.1:5432/postgres".to_string())
}

/// A database name no other test (or test run) uses.
pub fn unique_name(tag: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "fixture_test_{tag}_{}_{}_{nanos}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    )
}

/// Runs `body` with `names.len()` fresh database names, then drops every one
/// of them (whether the body created it or not, and even if it panicked).
pub async fn with_databases<F, Fut>(tags: &[&str], body: F)
where
    F: FnOnce(Vec<String>) -> Fut,
    Fut: Future<Output = ()>,
{
    let names: Vec<String> = tags.iter().map(|t| unique_name(t)).collect();
    let outcome = AssertUnwindSafe(body(names.clone())).catch_unwind().await;
    let admin = connect(&admin_url())
        .await
        .expect("admin connection for cleanup");
    for name in &names {
        drop_database(&admin, name)
            .await
            .expect("dropping test database");
    }
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}
