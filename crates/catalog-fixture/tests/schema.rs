//! The generated schema applies on a fresh database through batch_execute.

mod common;

use backstage_catalog_fixture::{apply_schema, connect, database_url, CATALOG_SCHEMA_SQL};
use common::{admin_url, with_databases};

const TABLES: &[&str] = &[
    "final_entities",
    "knex_migrations",
    "knex_migrations_lock",
    "location_update_log",
    "locations",
    "refresh_keys",
    "refresh_state",
    "refresh_state_references",
    "relations",
    "search",
    "stitch_queue",
];

#[test]
fn schema_sql_is_post_processed() {
    assert!(CATALOG_SCHEMA_SQL.contains("@backstage/plugin-catalog-backend 4.0.0"));
    assert!(CATALOG_SCHEMA_SQL.contains("scripts/catalog-schema/generate.sh"));
    assert!(
        !CATALOG_SCHEMA_SQL.lines().any(|l| l.starts_with('\\')),
        "psql meta-commands must be stripped"
    );
    assert!(CATALOG_SCHEMA_SQL.contains("RESET search_path;"));
    assert!(!CATALOG_SCHEMA_SQL.contains("OWNER TO"));
    assert!(!CATALOG_SCHEMA_SQL.contains("GRANT "));
}

#[tokio::test]
async fn schema_applies_and_records_the_migrations() {
    with_databases(&["schema"], |names| async move {
        let admin = connect(&admin_url()).await.unwrap();
        admin
            .batch_execute(&format!("CREATE DATABASE \"{}\"", names[0]))
            .await
            .unwrap();
        let client = connect(&database_url(&admin_url(), &names[0])).await.unwrap();
        apply_schema(&client).await.unwrap();

        // The search_path pg_dump emptied is back: unqualified names resolve.
        let path: String = client.query_one("SHOW search_path", &[]).await.unwrap().get(0);
        assert_eq!(path, "\"$user\", public");
        let n: i64 = client
            .query_one("SELECT count(*) FROM final_entities", &[])
            .await
            .unwrap()
            .get(0);
        assert_eq!(n, 0);

        let tables: Vec<String> = client
            .query(
                "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public' ORDER BY 1",
                &[],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        assert_eq!(tables, TABLES);

        let migrations: Vec<String> = client
            .query("SELECT name FROM knex_migrations ORDER BY id", &[])
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        assert_eq!(migrations.len(), 45, "catalog-backend 4.0.0 ships 45 migrations");
        assert_eq!(migrations[0], "20200511113813_init.js");
        assert!(migrations.windows(2).all(|w| w[0] < w[1]));
        let locked: i32 = client
            .query_one("SELECT is_locked FROM knex_migrations_lock", &[])
            .await
            .unwrap()
            .get(0);
        assert_eq!(locked, 0);
        // knex can go on appending: the id sequence was restored.
        let next: i32 = client
            .query_one(
                "INSERT INTO knex_migrations (name, batch, migration_time) VALUES ('x.js', 2, now()) RETURNING id",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        assert_eq!(next, 46);

        let err = apply_schema(&client).await.unwrap_err();
        assert!(format!("{err:#}").contains("not empty"), "{err:#}");
    })
    .await;
}

async fn schema_fingerprint(client: &tokio_postgres::Client) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for sql in [
        "SELECT indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1",
        "SELECT conname || ' ' || pg_get_constraintdef(oid) || ' ' || convalidated \
         FROM pg_constraint WHERE connamespace = 'public'::regnamespace ORDER BY 1",
        "SELECT c.relname || ' ' || coalesce(array_to_string(c.reloptions, ','), '') \
         FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace ORDER BY 1",
        "SELECT stxname || ' ' || stxkeys::text FROM pg_statistic_ext ORDER BY 1",
    ] {
        for row in client.query(sql, &[]).await.unwrap() {
            out.push(row.get(0));
        }
    }
    out
}

/// Big catalogs load `search` and `relations` with their indexes and foreign
/// keys built afterwards: the schema must come out exactly as applied.
#[tokio::test]
async fn bulk_loaded_catalog_keeps_the_schema() {
    use backstage_catalog_fixture::{create_catalog_database, FixtureSpec};
    with_databases(&["empty", "bulk"], |names| async move {
        let admin = connect(&admin_url()).await.unwrap();
        admin
            .batch_execute(&format!("CREATE DATABASE \"{}\"", names[0]))
            .await
            .unwrap();
        let empty = connect(&database_url(&admin_url(), &names[0]))
            .await
            .unwrap();
        apply_schema(&empty).await.unwrap();
        let spec = FixtureSpec {
            entities: 6_000,
            seed: 3,
        };
        create_catalog_database(&admin_url(), &names[1], &spec)
            .await
            .unwrap();
        let bulk = connect(&database_url(&admin_url(), &names[1]))
            .await
            .unwrap();
        assert_eq!(
            schema_fingerprint(&empty).await,
            schema_fingerprint(&bulk).await
        );
    })
    .await;
}
