//! Server connections, database creation and the counting query.

use crate::{populate, FixtureSpec, FixtureSummary, CATALOG_SCHEMA_SQL};
use anyhow::{anyhow, bail, Context, Result};
use tokio_postgres::config::Host;
use tokio_postgres::{Client, Config, NoTls};

/// `user@host:port/dbname` of a connection string, never the password.
pub fn describe_target(url: &str) -> String {
    let Ok(cfg) = url.parse::<Config>() else {
        return "<unparsable connection string>".to_string();
    };
    let host = match cfg.get_hosts().first() {
        Some(Host::Tcp(h)) => h.clone(),
        #[cfg(unix)]
        Some(Host::Unix(p)) => p.display().to_string(),
        None => "localhost".to_string(),
    };
    let port = cfg.get_ports().first().copied().unwrap_or(5432);
    let user = cfg.get_user().unwrap_or("(default user)");
    let db = cfg.get_dbname().unwrap_or("(default database)");
    format!("{user}@{host}:{port}/{db}")
}

/// Connects and drives the connection on a background task.
pub async fn connect(url: &str) -> Result<Client> {
    let (client, connection) = tokio_postgres::connect(url, NoTls).await.map_err(|e| {
        let target = describe_target(url);
        if let Some(db) = e.as_db_error() {
            // The server answered: wrong role, database or password.
            return anyhow!(
                "PostgreSQL at {target} refused the connection: {}",
                db.message()
            );
        }
        let cause = match std::error::Error::source(&e) {
            Some(source) => format!("{e}: {source}"),
            None => e.to_string(),
        };
        anyhow!(
            "cannot connect to PostgreSQL at {target}: {cause}\n\
             Is the server running and reachable? Locally, start it with \
             `pg_ctlcluster 15 main start` (or `service postgresql start`)."
        )
    })?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(client)
}

/// Quotes an SQL identifier.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

pub fn database_url(admin_url: &str, db_name: &str) -> String {
    if let Ok(mut url) = url::Url::parse(admin_url) {
        if matches!(url.scheme(), "postgres" | "postgresql") {
            url.set_path(&format!("/{db_name}"));
            return url.to_string();
        }
    }
    // key=value form: replace or add dbname.
    let mut parts: Vec<String> = admin_url
        .split_whitespace()
        .filter(|p| !p.starts_with("dbname="))
        .map(str::to_string)
        .collect();
    parts.push(format!(
        "dbname='{}'",
        db_name.replace('\\', "\\\\").replace('\'', "\\'")
    ));
    parts.join(" ")
}

pub async fn database_exists(admin: &Client, db_name: &str) -> Result<bool> {
    let row = admin
        .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&db_name])
        .await
        .context("checking pg_database")?;
    Ok(row.is_some())
}

pub async fn drop_database(admin: &Client, db_name: &str) -> Result<()> {
    admin
        .batch_execute(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            quote_ident(db_name)
        ))
        .await
        .with_context(|| format!("dropping database {db_name}"))
}

pub async fn apply_schema(client: &Client) -> Result<()> {
    let existing: i64 = client
        .query_one(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = 'public' AND c.relkind IN ('r', 'v', 'S')",
            &[],
        )
        .await
        .context("inspecting the target database")?
        .get(0);
    if existing > 0 {
        bail!("the database is not empty: its public schema already has {existing} tables, views or sequences");
    }
    client
        .batch_execute(CATALOG_SCHEMA_SQL)
        .await
        .context("applying the catalog schema")
}

pub async fn create_catalog_database(
    admin_url: &str,
    db_name: &str,
    spec: &FixtureSpec,
) -> Result<FixtureSummary> {
    let admin = connect(admin_url).await?;
    if database_exists(&admin, db_name).await? {
        bail!(
            "database {db_name} already exists on {}",
            describe_target(admin_url)
        );
    }
    admin
        .batch_execute(&format!("CREATE DATABASE {}", quote_ident(db_name)))
        .await
        .with_context(|| {
            format!(
                "creating database {db_name} on {}",
                describe_target(admin_url)
            )
        })?;
    let filled = async {
        let client = connect(&database_url(admin_url, db_name)).await?;
        apply_schema(&client).await?;
        populate(&client, spec).await
    }
    .await;
    match filled {
        Ok(summary) => Ok(summary),
        Err(e) => {
            // Leave nothing half-made behind.
            let _ = drop_database(&admin, db_name).await;
            Err(e.context(format!("filling database {db_name}")))
        }
    }
}

pub async fn count_entities(client: &Client) -> Result<FixtureSummary> {
    let rows = client
        .query(
            "SELECT lower(final_entity::jsonb->>'kind') AS kind, count(*) AS n \
             FROM final_entities WHERE final_entity IS NOT NULL GROUP BY 1",
            &[],
        )
        .await
        .context("counting entities in final_entities")?;
    let mut summary = FixtureSummary::default();
    for row in rows {
        let kind: Option<String> = row.get(0);
        let n: i64 = row.get(1);
        summary
            .counts_by_kind
            .insert(kind.unwrap_or_else(|| "unknown".into()), n as u64);
        summary.total += n as u64;
    }
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_url_swaps_the_database() {
        assert_eq!(
            database_url("postgresql://postgres@127.0.0.1:5432/postgres", "cat"),
            "postgresql://postgres@127.0.0.1:5432/cat"
        );
        assert_eq!(
            database_url("postgres://u:p@db:6543/x?sslmode=disable", "y"),
            "postgres://u:p@db:6543/y?sslmode=disable"
        );
        assert_eq!(
            database_url("host=127.0.0.1 user=postgres dbname=postgres", "cat"),
            "host=127.0.0.1 user=postgres dbname='cat'"
        );
    }

    #[test]
    fn describe_target_hides_the_password() {
        let d = describe_target("postgresql://me:secret@db.example:6543/cat");
        assert_eq!(d, "me@db.example:6543/cat");
    }
}
