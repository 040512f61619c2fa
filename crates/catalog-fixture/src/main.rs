//! `catalog-fixture`: creates a Backstage catalog database with the real
//! schema and a generated catalog.

use anyhow::{bail, Result};
use backstage_catalog_fixture::{
    connect, create_catalog_database, database_exists, describe_target, drop_database, FixtureSpec,
};
use clap::Parser;
use std::time::Instant;

#[derive(Debug, Parser)]
#[command(
    name = "catalog-fixture",
    about = "Create a Backstage catalog database (real catalog-backend 4.0.0 schema, generated entities)"
)]
struct Args {
    /// Admin connection URL of the PostgreSQL server (any existing database).
    #[arg(
        long,
        env = "BACKSTAGE_BACKUP_TEST_DATABASE_URL",
        default_value = "postgresql://postgres@127.0.0.1:5432/postgres"
    )]
    admin_url: String,
    /// Name of the database to create.
    #[arg(long)]
    database: String,
    /// Number of entities to generate.
    #[arg(long, default_value_t = 200)]
    entities: usize,
    /// Seed: the same seed gives the same catalog.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Do nothing (and succeed) when the database already exists.
    #[arg(long, conflicts_with = "replace")]
    if_missing: bool,
    /// Drop the database first (WITH (FORCE)) when it exists.
    #[arg(long)]
    replace: bool,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
}

#[tokio::main]
async fn main() {
    if let Err(e) = run(Args::parse()).await {
        eprintln!("catalog-fixture: error: {e:#}");
        std::process::exit(1);
    }
}

async fn run(args: Args) -> Result<()> {
    let server = describe_target(&args.admin_url);
    let admin = connect(&args.admin_url).await?;
    if database_exists(&admin, &args.database).await? {
        if args.if_missing {
            if args.json {
                println!(
                    "{}",
                    serde_json::json!({"database": args.database, "created": false, "exists": true})
                );
            } else {
                println!(
                    "database {} already exists on {server}; nothing to do",
                    args.database
                );
            }
            return Ok(());
        } else if args.replace {
            drop_database(&admin, &args.database).await?;
        } else {
            bail!(
                "database {} already exists on {server} (use --replace to recreate it, --if-missing to keep it)",
                args.database
            );
        }
    }
    drop(admin);
    let spec = FixtureSpec {
        entities: args.entities,
        seed: args.seed,
    };
    let started = Instant::now();
    let summary = create_catalog_database(&args.admin_url, &args.database, &spec).await?;
    let seconds = started.elapsed().as_secs_f64();
    if args.json {
        let mut out = summary.to_json();
        out["database"] = args.database.clone().into();
        out["created"] = true.into();
        out["seed"] = args.seed.into();
        out["seconds"] = ((seconds * 10.0).round() / 10.0).into();
        println!("{out}");
    } else {
        println!(
            "created database {} with {} entities (seed {}) in {seconds:.1}s",
            args.database, summary.total, args.seed
        );
        for (kind, n) in &summary.counts_by_kind {
            println!("  {kind:<10} {n:>8}");
        }
    }
    Ok(())
}
