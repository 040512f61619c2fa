use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context, Result};
use backstage_catalog_fixture::{FixtureSpec, FixtureSummary};
use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, NoTls};

use crate::util::{pid_alive, random_hex};

const DEFAULT_ADMIN_URL: &str = "postgresql://postgres@127.0.0.1:5432/postgres";
const NAME_PREFIX: &str = "bbtest_";

/// URL of a PostgreSQL database on which the tests may create and drop databases:
/// env `BACKSTAGE_BACKUP_TEST_DATABASE_URL`, else `postgresql://postgres@127.0.0.1:5432/postgres`.
pub fn admin_url() -> String {
    std::env::var("BACKSTAGE_BACKUP_TEST_DATABASE_URL")
        .ok()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_ADMIN_URL.to_string())
}

/// A uniquely named throwaway database (name `bbtest_<pid>_<random>`), dropped `WITH (FORCE)`
/// when this value is dropped (from a fresh thread, so inside or outside a tokio runtime).
#[derive(Debug)]
pub struct TestDb {
    /// Database name.
    pub name: String,
    /// Connection URL of this database (the admin URL with its database name replaced).
    pub url: String,
    admin_url: String,
}

impl TestDb {
    /// Creates a new empty database.
    pub async fn empty() -> Result<TestDb> {
        let (db, admin) = Self::reserve()?;
        create_database(&admin, &db.name).await?;
        Ok(db)
    }

    /// Creates a catalog database: the real Backstage catalog schema filled with `entities`
    /// generated entities (seed 1, so the same catalog each time), by
    /// `backstage_catalog_fixture::create_catalog_database`.
    pub async fn catalog(entities: usize) -> Result<(TestDb, FixtureSummary)> {
        Self::catalog_with(&FixtureSpec {
            entities,
            ..FixtureSpec::default()
        })
        .await
    }

    /// Like [`TestDb::catalog`], with any fixture spec (e.g. another seed).
    pub async fn catalog_with(spec: &FixtureSpec) -> Result<(TestDb, FixtureSummary)> {
        let (db, admin) = Self::reserve()?;
        drop_stale_databases(&connect(&admin).await?).await;
        let mut attempt = 0;
        loop {
            attempt += 1;
            match backstage_catalog_fixture::create_catalog_database(&admin, &db.name, spec).await {
                Ok(summary) => return Ok((db, summary)),
                Err(e) if is_object_in_use(&e) && attempt < 20 => {
                    tokio::time::sleep(Duration::from_millis(100 * attempt)).await;
                }
                Err(e) => {
                    return Err(e).with_context(|| format!("creating catalog database {}", db.name))
                }
            }
        }
    }

    /// A database name and its drop guard, before the database exists.
    fn reserve() -> Result<(TestDb, String)> {
        let admin = admin_url();
        let name = format!("{NAME_PREFIX}{}_{}", std::process::id(), random_hex(12));
        let url = backstage_catalog_fixture::database_url(&admin, &name);
        let db = TestDb {
            name,
            url,
            admin_url: admin.clone(),
        };
        Ok((db, admin))
    }

    /// A new connection to this database (its connection task spawned on the current runtime).
    pub async fn client(&self) -> Result<Client> {
        connect(&self.url).await
    }

    /// This database's URL with another user and password (e.g. for wrong-password tests).
    /// Both are percent-encoded in a `postgresql://` URL; a `key=value` connection string gets
    /// `user=` and `password=` appended.
    pub fn url_with_password(&self, user: &str, password: &str) -> String {
        match url::Url::parse(&self.url) {
            Ok(mut url) if url.has_host() => {
                url.set_username(user)
                    .expect("a URL with a host takes a user name");
                url.set_password(Some(password))
                    .expect("a URL with a host takes a password");
                url.to_string()
            }
            _ => format!(
                "{} user={} password={}",
                self.url,
                quote_conninfo(user),
                quote_conninfo(password)
            ),
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let admin = self.admin_url.clone();
        let name = self.name.clone();
        // A fresh thread with its own runtime: works whether or not we are inside a runtime
        // (block_on inside a runtime panics) and whatever kind of runtime that is.
        let outcome = std::thread::spawn(move || -> Result<()> {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            rt.block_on(async {
                let client = connect(&admin).await?;
                client
                    .batch_execute(&format!(
                        "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                        quote_ident(&name)
                    ))
                    .await?;
                Ok(())
            })
        })
        .join();
        match outcome {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("testkit: could not drop database {}: {e:#}", self.name),
            Err(_) => eprintln!("testkit: dropping database {} panicked", self.name),
        }
    }
}

fn quote_conninfo(value: &str) -> String {
    format!("'{}'", value.replace('\\', "\\\\").replace('\'', "\\'"))
}

fn is_object_in_use(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause
            .downcast_ref::<tokio_postgres::Error>()
            .is_some_and(|pe| pe.code() == Some(&SqlState::OBJECT_IN_USE))
    })
}

pub(crate) async fn connect(url: &str) -> Result<Client> {
    let (client, connection) = tokio_postgres::connect(url, NoTls).await.with_context(|| {
        format!(
            "connecting to PostgreSQL at {}",
            backstage_catalog_fixture::describe_target(url)
        )
    })?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(client)
}

async fn create_database(admin_url: &str, name: &str) -> Result<()> {
    let client = connect(admin_url).await?;
    drop_stale_databases(&client).await;
    let sql = format!("CREATE DATABASE {}", quote_ident(name));
    // Concurrent CREATE DATABASE can fail with "source database template1 is being accessed
    // by other users" (55006): retry a few times.
    let mut attempt = 0;
    loop {
        attempt += 1;
        match client.batch_execute(&sql).await {
            Ok(()) => return Ok(()),
            Err(e) if e.code() == Some(&SqlState::OBJECT_IN_USE) && attempt < 20 => {
                tokio::time::sleep(Duration::from_millis(100 * attempt)).await;
            }
            Err(e) => {
                return Err(e).with_context(|| format!("creating test database {name}"));
            }
        }
    }
}

/// Once per process: drops `bbtest_<pid>_*` databases whose process is gone (left over by a
/// test binary that was killed before its `TestDb`s were dropped).
async fn drop_stale_databases(client: &Client) {
    static DONE: AtomicBool = AtomicBool::new(false);
    if DONE.swap(true, Ordering::SeqCst) {
        return;
    }
    let Ok(rows) = client
        .query(
            "SELECT datname FROM pg_database WHERE starts_with(datname, $1)",
            &[&NAME_PREFIX],
        )
        .await
    else {
        return;
    };
    for row in rows {
        let name: String = row.get(0);
        let Some(pid) = name
            .strip_prefix(NAME_PREFIX)
            .and_then(|rest| rest.split('_').next())
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if pid_alive(pid) {
            continue;
        }
        let _ = client
            .batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                quote_ident(&name)
            ))
            .await;
    }
}

pub(crate) fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}
