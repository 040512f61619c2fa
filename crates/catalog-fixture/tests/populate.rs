//! Generated catalogs: counts, determinism and referential consistency.

mod common;

use backstage_catalog_fixture::{
    connect, count_entities, create_catalog_database, database_url, FixtureSpec,
};
use common::{admin_url, with_databases};
use tokio_postgres::Client;

const KINDS: &[&str] = &[
    "api",
    "component",
    "domain",
    "group",
    "location",
    "resource",
    "system",
    "template",
    "user",
];

async fn create(name: &str, entities: usize, seed: u64) -> Client {
    let spec = FixtureSpec { entities, seed };
    create_catalog_database(&admin_url(), name, &spec)
        .await
        .unwrap();
    connect(&database_url(&admin_url(), name)).await.unwrap()
}

async fn scalar(client: &Client, sql: &str) -> i64 {
    client.query_one(sql, &[]).await.unwrap().get(0)
}

#[tokio::test]
async fn populate_500_counts_every_kind() {
    with_databases(&["p500"], |names| async move {
        let spec = FixtureSpec { entities: 500, seed: 1 };
        let summary = create_catalog_database(&admin_url(), &names[0], &spec).await.unwrap();
        assert_eq!(summary.total, 500);
        assert_eq!(summary.counts_by_kind.values().sum::<u64>(), 500);
        let kinds: Vec<&str> = summary.counts_by_kind.keys().map(String::as_str).collect();
        assert_eq!(kinds, KINDS);
        assert!(summary.counts_by_kind.values().all(|n| *n > 0));
        assert_eq!(summary.counts_by_kind["component"], 175);

        let client = connect(&database_url(&admin_url(), &names[0])).await.unwrap();
        assert_eq!(count_entities(&client).await.unwrap(), summary);
        assert_eq!(scalar(&client, "SELECT count(*) FROM refresh_state").await, 500);
        assert_eq!(
            scalar(&client, "SELECT count(*) FROM refresh_state WHERE processed_entity IS NULL OR errors <> '[]'").await,
            0
        );
        assert_eq!(
            scalar(&client, "SELECT count(*) FROM final_entities WHERE final_entity::jsonb #>> '{metadata,etag}' <> hash").await,
            0
        );
        // The bootstrap location plus the registered url locations.
        assert_eq!(scalar(&client, "SELECT count(*) FROM locations WHERE type = 'url'").await, 4);
        assert_eq!(scalar(&client, "SELECT count(*) FROM locations WHERE type = 'bootstrap'").await, 1);
        assert_eq!(
            scalar(&client, "SELECT count(*) FROM locations l JOIN refresh_state r ON r.entity_ref = l.location_entity_ref").await,
            4
        );

        // Asking for an existing database fails.
        let err = create_catalog_database(&admin_url(), &names[0], &spec).await.unwrap_err();
        assert!(format!("{err:#}").contains("already exists"), "{err:#}");
    })
    .await;
}

#[tokio::test]
async fn tiny_catalogs_work() {
    with_databases(&["tiny0", "tiny3", "tiny9"], |names| async move {
        for (name, n) in names.iter().zip([0usize, 3, 9]) {
            let client = create(name, n, 5).await;
            let summary = count_entities(&client).await.unwrap();
            assert_eq!(summary.total, n as u64);
            if n == 9 {
                assert_eq!(summary.counts_by_kind.len(), 9, "{summary:?}");
            }
        }
    })
    .await;
}

async fn content(client: &Client) -> Vec<(String, String, String, String)> {
    client
        .query(
            "SELECT entity_ref, entity_id, hash, final_entity FROM final_entities ORDER BY entity_ref",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
        .collect()
}

#[tokio::test]
async fn same_seed_same_catalog() {
    with_databases(&["det_a", "det_b", "det_c"], |names| async move {
        let a = create(&names[0], 300, 42).await;
        let b = create(&names[1], 300, 42).await;
        let c = create(&names[2], 300, 43).await;
        let (ca, cb, cc) = (content(&a).await, content(&b).await, content(&c).await);
        assert_eq!(ca.len(), 300);
        assert_eq!(ca, cb, "same seed, same final_entities");
        assert_ne!(ca, cc, "another seed, another catalog");
        let refs = |c: &[(String, String, String, String)]| c.iter().map(|r| r.0.clone()).collect::<Vec<_>>();
        assert_ne!(refs(&ca), refs(&cc), "names depend on the seed too");
        let digest = "SELECT md5(string_agg(entity_id || key || coalesce(value, '') || coalesce(original_value, ''), ',' \
                      ORDER BY entity_id, key, value)) FROM search";
        let (da, db): (String, String) = (
            a.query_one(digest, &[]).await.unwrap().get(0),
            b.query_one(digest, &[]).await.unwrap().get(0),
        );
        assert_eq!(da, db, "same search rows");
    })
    .await;
}

#[tokio::test]
async fn relations_and_search_refer_to_existing_entities() {
    with_databases(&["refs"], |names| async move {
        let client = create(&names[0], 400, 7).await;
        let relations = scalar(&client, "SELECT count(*) FROM relations").await;
        assert!(relations > 400, "{relations} relations");
        for (what, sql) in [
            ("relations from unknown originators", "SELECT count(*) FROM relations r LEFT JOIN refresh_state s ON s.entity_id = r.originating_entity_id WHERE s.entity_id IS NULL"),
            ("relations from unknown sources", "SELECT count(*) FROM relations r LEFT JOIN refresh_state s ON s.entity_ref = r.source_entity_ref WHERE s.entity_id IS NULL"),
            ("relations to unknown targets", "SELECT count(*) FROM relations r LEFT JOIN refresh_state s ON s.entity_ref = r.target_entity_ref WHERE s.entity_id IS NULL"),
            ("relations without inverse", "SELECT count(*) FROM relations r WHERE NOT EXISTS (SELECT 1 FROM relations i WHERE i.source_entity_ref = r.target_entity_ref AND i.target_entity_ref = r.source_entity_ref)"),
            ("search rows of unknown entities", "SELECT count(*) FROM search x LEFT JOIN final_entities f ON f.entity_id = x.entity_id WHERE f.entity_id IS NULL"),
            ("entities without search rows", "SELECT count(*) FROM final_entities f WHERE NOT EXISTS (SELECT 1 FROM search x WHERE x.entity_id = f.entity_id)"),
            ("orphans (no refresh_state_references)", "SELECT count(*) FROM refresh_state s WHERE NOT EXISTS (SELECT 1 FROM refresh_state_references x WHERE x.target_entity_ref = s.entity_ref)"),
            ("final relations not in the relations table", "SELECT count(*) FROM final_entities f, jsonb_array_elements(f.final_entity::jsonb->'relations') rel WHERE NOT EXISTS (SELECT 1 FROM relations r WHERE r.source_entity_ref = f.entity_ref AND r.type = rel->>'type' AND r.target_entity_ref = rel->>'targetRef')"),
        ] {
            assert_eq!(scalar(&client, sql).await, 0, "{what}");
        }
        for ty in ["ownedBy", "ownerOf", "partOf", "hasPart", "providesApi", "apiProvidedBy", "consumesApi", "apiConsumedBy", "dependsOn", "dependencyOf", "memberOf", "hasMember", "childOf", "parentOf"] {
            let n: i64 = client
                .query_one("SELECT count(*) FROM relations WHERE type = $1", &[&ty])
                .await
                .unwrap()
                .get(0);
            assert!(n > 0, "no {ty} relations");
        }
        let search = scalar(&client, "SELECT count(*) FROM search").await;
        assert!((400 * 15..=400 * 40).contains(&search), "{search} search rows for 400 entities");
        for key in ["kind", "metadata.name", "metadata.namespace", "metadata.uid", "spec.type", "spec.owner", "relations.ownedby", "metadata.annotations.backstage.io/managed-by-location", "metadata.tags"] {
            let n: i64 = client
                .query_one("SELECT count(*) FROM search WHERE key = $1", &[&key])
                .await
                .unwrap()
                .get(0);
            assert!(n > 0, "no search rows for {key}");
        }
        assert_eq!(
            scalar(&client, "SELECT count(*) FROM search WHERE key = 'kind'").await,
            400
        );
    })
    .await;
}
