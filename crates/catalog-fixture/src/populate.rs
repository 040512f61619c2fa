//! Fills an empty catalog schema with the generated catalog, table by table
//! (in foreign-key order), each with one streamed COPY, in one transaction.

use crate::catalog::{Catalog, ORG};
use crate::copy::{copy_in, RowWriter};
use crate::deferred::{self, Deferred};
use crate::entity::{build, cache_of, final_of, relation_rows};
use crate::graph::Incoming;
use crate::kinds::Kind;
use crate::search::build_entity_search;
use crate::stable_json::{stable_hash, stable_stringify};
use crate::{FixtureSpec, FixtureSummary, CATALOG_SCHEMA_SQL};
use anyhow::{Context, Result};
use std::sync::Arc;

const S_TIME: u64 = 12;
/// Tables loaded without their secondary indexes and foreign keys, which are
/// rebuilt after the COPY (see `deferred`), for catalogs of this size and up.
const DEFERRED_TABLES: &[&str] = &["search", "relations"];
const DEFER_FROM: usize = 5_000;
/// Source keys of the providers that emit the roots of the catalog.
const LOCATION_STORE: &str = "DefaultLocationStore";
fn github_provider() -> String {
    format!("GithubEntityProvider:{ORG}")
}
fn org_provider() -> String {
    format!("GithubOrgEntityProvider:{ORG}")
}

/// Timestamps of entity `g`: (last_discovery_at, next_update_at, last_updated_at).
fn times(cat: &Catalog, g: usize) -> (String, String, String) {
    let mut rng = cat.rng(g, S_TIME);
    let discovered = 8 * 3600 * 1000 + rng.below(10 * 3600 * 1000) as u64;
    let next = discovered + 100_000 + rng.below(50_000) as u64;
    let updated = discovered + 1_000 + rng.below(30_000) as u64;
    (ts(discovered), ts(next), ts(updated))
}

/// A timestamptz literal `ms` milliseconds into the fixture's day.
fn ts(ms: u64) -> String {
    let (s, ms) = (ms / 1000, ms % 1000);
    format!(
        "2026-03-02 {:02}:{:02}:{:02}.{ms:03}+00",
        s / 3600,
        (s / 60) % 60,
        s % 60
    )
}

type Shared = (Arc<Catalog>, Arc<Incoming>);

/// Streams one row set per entity into the table of `sql` (a COPY). Big
/// tables get their indexes and foreign keys built after the load.
async fn load<F>(
    client: &tokio_postgres::Client,
    shared: &Shared,
    sql: &str,
    each: F,
) -> Result<u64>
where
    F: Fn(&Catalog, &Incoming, usize, &mut RowWriter) -> Result<()> + Send + 'static,
{
    let (cat, inc) = (shared.0.clone(), shared.1.clone());
    let started = std::time::Instant::now();
    let table = sql.split_whitespace().nth(1).unwrap_or("?");
    let deferred = if DEFERRED_TABLES.contains(&table) && cat.total() >= DEFER_FROM {
        deferred::for_table(CATALOG_SCHEMA_SQL, table)
    } else {
        Deferred::default()
    };
    for stmt in &deferred.drops {
        client
            .batch_execute(stmt)
            .await
            .with_context(|| stmt.clone())?;
    }
    let rows = copy_in(client, sql, move |w| {
        for g in 0..cat.total() {
            each(&cat, &inc, g, w)?;
        }
        Ok(())
    })
    .await?;
    for stmt in &deferred.creates {
        client
            .batch_execute(stmt)
            .await
            .with_context(|| stmt.clone())?;
    }
    if std::env::var_os("CATALOG_FIXTURE_PROGRESS").is_some() {
        eprintln!(
            "{table}: {rows} rows in {:.1}s",
            started.elapsed().as_secs_f64()
        );
    }
    Ok(rows)
}

async fn load_all(client: &tokio_postgres::Client, cat: Catalog) -> Result<()> {
    let cat = Arc::new(cat);
    let inc = {
        let cat = cat.clone();
        Arc::new(tokio::task::spawn_blocking(move || Incoming::build(&cat)).await?)
    };
    let shared: Shared = (cat.clone(), inc);

    // locations: the bootstrap row the migrations create, plus the registered ones.
    let locs = cat.clone();
    copy_in(
        client,
        "COPY locations (id, type, target, location_entity_ref) FROM STDIN",
        move |w| {
            let id = locs.rng(usize::MAX, 13).uuid_v4();
            w.row(&[Some(&id), Some("bootstrap"), Some("bootstrap"), Some("")])?;
            for l in 0..locs.registered_locations() {
                let g = locs.counts.global(Kind::Location, l);
                let id = locs.rng(g, 13).uuid_v4();
                let target = locs.location_target(l);
                w.row(&[
                    Some(&id),
                    Some("url"),
                    Some(&target),
                    Some(&locs.entity_ref(g)),
                ])?;
            }
            Ok(())
        },
    )
    .await?;

    load(
        client,
        &shared,
        "COPY refresh_state (entity_id, entity_ref, unprocessed_entity, processed_entity, cache, errors, \
         next_update_at, last_discovery_at, location_key, result_hash, unprocessed_hash) FROM STDIN",
        |cat, _, g, w| {
            let b = build(cat, g);
            let (discovered, next, _) = times(cat, g);
            let processed = stable_stringify(&b.processed);
            let result_hash = crate::catalog::sha1_hex(&format!("[]{processed}"));
            w.row(&[
                Some(&b.entity_id),
                Some(&b.entity_ref),
                Some(&b.unprocessed.to_string()),
                Some(&b.processed.to_string()),
                Some(&cache_of(cat, &b)),
                Some("[]"),
                Some(&next),
                Some(&discovered),
                Some(&b.location_key),
                Some(&result_hash),
                Some(&stable_hash(&b.unprocessed)),
            ])
        },
    )
    .await?;

    load(
        client,
        &shared,
        "COPY refresh_state_references (source_key, source_entity_ref, target_entity_ref) FROM STDIN",
        |cat, _, g, w| {
            let (kind, k) = cat.counts.locate(g);
            let me = cat.entity_ref(g);
            let parent = cat
                .counts
                .software_index(g)
                .and_then(|s| cat.location_of_software(s))
                .map(|l| cat.entity_ref(cat.counts.global(Kind::Location, l)));
            match (kind, parent) {
                (Kind::Location, _) if cat.location_is_registered(k) => {
                    w.row(&[Some(LOCATION_STORE), None, Some(&me)])
                }
                (Kind::Location, _) => w.row(&[Some(&github_provider()), None, Some(&me)]),
                (Kind::Group | Kind::User, _) => w.row(&[Some(&org_provider()), None, Some(&me)]),
                (_, Some(parent)) => w.row(&[None, Some(&parent), Some(&me)]),
                (_, None) => w.row(&[Some(&github_provider()), None, Some(&me)]),
            }
        },
    )
    .await?;

    load(
        client,
        &shared,
        "COPY refresh_keys (entity_id, key) FROM STDIN",
        |cat, _, g, w| {
            let (kind, k) = cat.counts.locate(g);
            if kind == Kind::Location {
                w.row(&[
                    Some(&cat.uid(g)),
                    Some(&format!("url:{}", cat.location_target(k))),
                ])?;
            }
            Ok(())
        },
    )
    .await?;

    load(
        client,
        &shared,
        "COPY relations (originating_entity_id, source_entity_ref, type, target_entity_ref) FROM STDIN",
        |cat, _, g, w| {
            let id = cat.uid(g);
            for (source, ty, target) in relation_rows(cat, g, &cat.decls(g)) {
                w.row(&[Some(&id), Some(&source), Some(ty), Some(&target)])?;
            }
            Ok(())
        },
    )
    .await?;

    load(
        client,
        &shared,
        "COPY final_entities (entity_id, hash, final_entity, last_updated_at, entity_ref) FROM STDIN",
        |cat, inc, g, w| {
            let b = build(cat, g);
            let (final_entity, hash) = final_of(cat, inc, &b);
            let (_, _, updated) = times(cat, g);
            w.row(&[
                Some(&b.entity_id),
                Some(&hash),
                Some(&final_entity.to_string()),
                Some(&updated),
                Some(&b.entity_ref),
            ])
        },
    )
    .await?;

    load(
        client,
        &shared,
        "COPY search (entity_id, key, value, original_value) FROM STDIN",
        |cat, inc, g, w| {
            let b = build(cat, g);
            let (final_entity, _) = final_of(cat, inc, &b);
            for row in build_entity_search(&final_entity) {
                w.row(&[
                    Some(&b.entity_id),
                    Some(&row.key),
                    row.value.as_deref(),
                    row.original_value.as_deref(),
                ])?;
            }
            Ok(())
        },
    )
    .await?;
    Ok(())
}

/// See [`crate::populate`].
pub async fn populate(
    client: &tokio_postgres::Client,
    spec: &FixtureSpec,
) -> Result<FixtureSummary> {
    let cat = Catalog::new(spec.entities, spec.seed);
    let mut summary = FixtureSummary::default();
    for kind in Kind::ALL {
        let n = cat.count(kind) as u64;
        if n > 0 {
            summary.counts_by_kind.insert(kind.lower().to_string(), n);
        }
        summary.total += n;
    }
    client
        .batch_execute("BEGIN; SET LOCAL maintenance_work_mem = '256MB'")
        .await
        .context("BEGIN")?;
    match load_all(client, cat).await {
        Ok(()) => client.batch_execute("COMMIT").await.context("COMMIT")?,
        Err(e) => {
            let _ = client.batch_execute("ROLLBACK").await;
            return Err(e);
        }
    }
    client
        .batch_execute("ANALYZE")
        .await
        .context("ANALYZE after loading")?;
    Ok(summary)
}
