//! TestDb against the real PostgreSQL server named by `admin_url()`.

use anyhow::Result;
use backstage_backup_testkit::{admin_url, TestDb};

async fn database_exists(name: &str) -> Result<bool> {
    let (client, conn) = tokio_postgres::connect(&admin_url(), tokio_postgres::NoTls).await?;
    tokio::spawn(conn);
    let row = client
        .query_one(
            "SELECT count(*) FROM pg_database WHERE datname = $1",
            &[&name],
        )
        .await?;
    Ok(row.get::<_, i64>(0) == 1)
}

#[tokio::test]
async fn created_usable_and_dropped_inside_a_runtime() -> Result<()> {
    let db = TestDb::empty().await?;
    assert!(db.name.starts_with("bbtest_"), "{}", db.name);
    assert!(db.url.ends_with(&format!("/{}", db.name)), "{}", db.url);
    assert!(database_exists(&db.name).await?);

    let client = db.client().await?;
    client
        .batch_execute("CREATE TABLE t (id int primary key); INSERT INTO t VALUES (1), (2);")
        .await?;
    let row = client
        .query_one("SELECT current_database(), count(*) FROM t", &[])
        .await?;
    assert_eq!(row.get::<_, String>(0), db.name);
    assert_eq!(row.get::<_, i64>(1), 2);

    // Dropped WITH (FORCE) although `client` is still connected.
    let name = db.name.clone();
    drop(db);
    assert!(!database_exists(&name).await?, "{name} still exists");
    assert!(client.is_closed() || client.simple_query("SELECT 1").await.is_err());
    Ok(())
}

#[test]
fn dropped_outside_any_runtime() -> Result<()> {
    let rt = tokio::runtime::Runtime::new()?;
    let db = rt.block_on(TestDb::empty())?;
    let name = db.name.clone();
    assert!(rt.block_on(database_exists(&name))?);
    drop(rt);
    drop(db);
    let rt = tokio::runtime::Runtime::new()?;
    assert!(!rt.block_on(database_exists(&name))?, "{name} still exists");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_are_unique_and_drop_works_on_a_multi_thread_runtime() -> Result<()> {
    let (a, b) = tokio::try_join!(TestDb::empty(), TestDb::empty())?;
    assert_ne!(a.name, b.name);
    let names = [a.name.clone(), b.name.clone()];
    drop(a);
    drop(b);
    for name in names {
        assert!(!database_exists(&name).await?, "{name} still exists");
    }
    Ok(())
}

#[tokio::test]
async fn url_with_password_sets_user_and_password() -> Result<()> {
    let db = TestDb::empty().await?;
    let url = db.url_with_password("someone", "p@ss:w/rd");
    let parsed = url::Url::parse(&url)?;
    assert_eq!(parsed.username(), "someone");
    assert_eq!(parsed.password(), Some("p%40ss%3Aw%2Frd"));
    assert_eq!(parsed.path(), format!("/{}", db.name));
    // tokio-postgres decodes it back.
    let config: tokio_postgres::Config = url.parse()?;
    assert_eq!(config.get_user(), Some("someone"));
    assert_eq!(config.get_password(), Some(&b"p@ss:w/rd"[..]));
    assert_eq!(config.get_dbname(), Some(db.name.as_str()));
    Ok(())
}

#[tokio::test]
async fn catalog_database_has_the_generated_entities() -> Result<()> {
    let (db, summary) = TestDb::catalog(60).await?;
    assert_eq!(summary.total, 60);
    assert_eq!(summary.counts_by_kind.values().sum::<u64>(), 60);
    let client = db.client().await?;
    let row = client
        .query_one("SELECT count(*) FROM final_entities", &[])
        .await?;
    assert_eq!(row.get::<_, i64>(0), 60);
    let migrations = client
        .query_one("SELECT count(*) FROM knex_migrations", &[])
        .await?;
    assert!(migrations.get::<_, i64>(0) > 0);
    drop(client);
    let name = db.name.clone();
    drop(db);
    assert!(!database_exists(&name).await?, "{name} still exists");
    Ok(())
}
