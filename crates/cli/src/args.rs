//! Command-line definitions. The spellings are a promise to scripts and runbooks: add, don't rename.

use std::path::PathBuf;

use backstage_backup_core::retention::RetentionPolicy;
use clap::{Args, Parser, Subcommand};

const AFTER_HELP: &str = "\
Exit codes:
  0  success
  1  failure (database, pg_dump, store or an unexpected error)
  2  invalid input: a flag, URL, id or config file that cannot be used
  3  not found: no such backup, or no backups at all
  4  integrity: the backup is damaged (verify found a problem)
  5  locked: another backup or restore of the same database is running
  130 cancelled (Ctrl-C or SIGTERM); nothing partial was left in the store

Environment:
  BACKSTAGE_BACKUP_STORE   store when --store is not given (default ./backups)
  DATABASE_URL, PG*        database when neither --database-url nor --app-config is given
  AWS_*                    S3 credentials and settings (standard AWS chain)
  BACKSTAGE_BACKUP_PG_BIN  folder holding the pg_dump and psql to use
  BACKSTAGE_BACKUP_SIGNING_KEY   --signing-key: a PEM key file, or the PEM text itself
  BACKSTAGE_BACKUP_ALLOW_UNSIGNED=1  --allow-unsigned";

/// Back up, verify and restore a Backstage catalog (PostgreSQL) to a folder or S3.
///
/// Replaces the `pg_dump | gzip`, `gunzip -t`, `aws s3 cp` runbook: every backup is streamed,
/// hashed (SHA-256), compressed, stored atomically and described by a manifest written last.
#[derive(Debug, Parser)]
#[command(name = "backstage-backup", version, after_help = AFTER_HELP, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Take a backup now: pg_dump → SHA-256 → gzip → store, manifest last.
    ///
    /// Example: backstage-backup backup --database-url postgresql://backstage@db:5432/backstage_plugin_catalog --store s3://my-backups/backstage?region=eu-west-1
    Backup(BackupArgs),
    /// List backups, newest first, with status (complete, incomplete, legacy) and checks.
    List(ListArgs),
    /// Re-read a stored backup: SHA-256 against manifest and sidecar, full gunzip, completion line.
    ///
    /// Example: backstage-backup verify latest --store ./backups
    Verify(VerifyArgs),
    /// Restore a backup into a database, in one transaction committed only after every check passed.
    ///
    /// Example: backstage-backup restore latest --database-url postgresql://backstage@db/backstage_plugin_catalog --clean
    Restore(RestoreArgs),
    /// Restore drill: restore into a scratch database, compare entity counts, record the time, drop it.
    ///
    /// Example: backstage-backup drill latest --database-url postgresql://postgres@db/postgres
    Drill(DrillArgs),
    /// Delete old backups by a retention policy (never the newest verified one, never legacy files).
    ///
    /// Example: backstage-backup prune --keep-daily 7 --keep-weekly 4 --keep-monthly 12 --dry-run
    Prune(PruneArgs),
    /// Check backup health: age against the RPO, size anomalies, last verify and drill.
    /// Exits 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (monitoring-plugin convention).
    ///
    /// Example: backstage-backup health --max-age 26h
    Health(HealthArgs),
    /// Make an Ed25519 key pair for signed backups: FILE (private, 0600) and FILE.pub.
    ///
    /// Backups are signed with FILE (--signing-key FILE); restore, drill and verify hosts need
    /// only FILE.pub. Example: backstage-backup keygen --out /etc/backstage-backup/signing.pem
    Keygen(KeygenArgs),
}

#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// Where to write the private key; the public key goes to FILE.pub. Neither may exist.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Signed backups, as a writer: the private key signs each manifest.
#[derive(Debug, Args)]
pub struct SignArgs {
    /// Sign the backup's manifest with this Ed25519 private key (PEM: `keygen`, or `openssl
    /// genpkey -algorithm ed25519`). BACKSTAGE_BACKUP_SIGNING_KEY may hold the path or the PEM text.
    #[arg(
        long,
        env = "BACKSTAGE_BACKUP_SIGNING_KEY",
        value_name = "FILE",
        hide_env_values = true
    )]
    pub signing_key: Option<String>,
}

/// Signed backups, as a reader: with a key, only backups it signed are used.
#[derive(Debug, Args)]
pub struct TrustArgs {
    /// Check backups against this Ed25519 key (the public key is enough; PEM). A backup it did not
    /// sign is refused; an unsigned one too, unless --allow-unsigned.
    #[arg(
        long,
        env = "BACKSTAGE_BACKUP_SIGNING_KEY",
        value_name = "FILE",
        hide_env_values = true
    )]
    pub signing_key: Option<String>,
    /// With --signing-key, also use unsigned backups (runbook files, backups from before signing
    /// was set up). A backup with a signature that does not check is refused all the same.
    #[arg(long, env = "BACKSTAGE_BACKUP_ALLOW_UNSIGNED", value_parser = clap::builder::BoolishValueParser::new())]
    pub allow_unsigned: bool,
}

#[derive(Debug, Args)]
pub struct StoreArgs {
    /// Where backups live: a folder, file://PATH, or s3://bucket/prefix?region=…&endpoint=…&path_style=true&sse=AES256|aws:kms&kms_key_id=…
    #[arg(
        long,
        env = "BACKSTAGE_BACKUP_STORE",
        default_value = "./backups",
        value_name = "URL"
    )]
    pub store: String,
    /// Use a local store folder that other users can write to (or replace), with a warning.
    /// Without it such a folder is refused: another user could swap a backup for their own dump.
    #[arg(long, env = "BACKSTAGE_BACKUP_INSECURE_STORE", value_parser = clap::builder::BoolishValueParser::new())]
    pub insecure_store: bool,
}

#[derive(Debug, Args)]
pub struct OutputArgs {
    /// Print machine-readable JSON on stdout (errors as {"error": {"code", "message"}}).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct DatabaseArgs {
    /// The database to back up, e.g. postgresql://user:password@host:5432/backstage_plugin_catalog.
    /// Falls back to DATABASE_URL, then the PG* variables. Prefer DATABASE_URL or PGPASSWORD for
    /// the password: arguments are visible to other users of the machine.
    #[arg(long, value_name = "URL", conflicts_with = "app_config")]
    pub database_url: Option<String>,
    /// Backstage app-config file(s) to find the database in, as Backstage does (later files win;
    /// ${VAR} substitution; backend.database with its pluginDivisionMode, prefix and plugin overrides).
    #[arg(long = "app-config", value_name = "FILE", num_args = 1..)]
    pub app_config: Vec<PathBuf>,
    /// With --app-config: which plugin's database.
    #[arg(long, value_name = "ID", default_value = "catalog")]
    pub plugin: String,
}

#[derive(Debug, Args)]
pub struct BackupArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Back up an existing plain-format pg_dump file instead of running pg_dump ('-' for stdin).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["database_url", "app_config"])]
    pub from_file: Option<PathBuf>,
    #[command(flatten)]
    pub store: StoreArgs,
    /// gzip level: 1 fastest … 9 smallest.
    #[arg(long, default_value_t = 6, value_parser = clap::value_parser!(u32).range(1..=9))]
    pub level: u32,
    /// Compression threads (pigz-style, one standard gzip stream); 0 = one per core.
    #[arg(long, default_value_t = 0, value_name = "N", value_parser = clap::value_parser!(u16).range(0..=256))]
    pub threads: u16,
    /// Why this backup is taken; shown by list.
    #[arg(long, default_value = "manual", value_parser = ["scheduled", "manual", "pre-upgrade", "safety"])]
    pub trigger: String,
    /// Who asked for it (recorded in the manifest).
    #[arg(long, value_name = "NAME")]
    pub by: Option<String>,
    /// A label to record, e.g. --label backstage=1.45.0 (repeatable).
    #[arg(long = "label", value_name = "KEY=VALUE")]
    pub labels: Vec<String>,
    /// Name backups backstage-<ID>-… (default: from the database name, e.g. catalog).
    #[arg(long, value_name = "ID")]
    pub plugin_id: Option<String>,
    #[command(flatten)]
    pub signing: SignArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(flatten)]
    pub trust: TrustArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// A backup id (backstage-catalog-20261125_020000), `latest`, or the path of a .sql.gz file.
    #[arg(default_value = "latest", value_name = "ID|latest|PATH")]
    pub backup: String,
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(flatten)]
    pub trust: TrustArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
#[command(mut_arg("database_url", |a| a.help(
    "The database to restore into, e.g. postgresql://user:password@host:5432/backstage_plugin_catalog \
     (its tables are replaced only with --clean). Falls back to DATABASE_URL, then the PG* variables. \
     Prefer DATABASE_URL or PGPASSWORD for the password: arguments are visible to other users of the machine."
)))]
pub struct RestoreArgs {
    /// A backup id, `latest`, or the path of a .sql.gz file (a runbook backup, say).
    #[arg(value_name = "ID|latest|PATH")]
    pub backup: String,
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub store: StoreArgs,
    /// Replace a target that already holds tables (inside the same transaction).
    #[arg(long)]
    pub clean: bool,
    /// Do not ask for confirmation on a terminal.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// With --clean, skip the safety backup of the target taken first.
    #[arg(long)]
    pub no_safety_backup: bool,
    #[command(flatten)]
    pub trust: TrustArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
#[command(mut_arg("database_url", |a| a.help(
    "The server to drill on: a URL of any database there, e.g. postgresql://user:password@host:5432/postgres; \
     the drill creates a scratch database beside it and drops it after (CREATEDB needed). Falls back to \
     DATABASE_URL, then the PG* variables. Prefer DATABASE_URL or PGPASSWORD for the password."
)))]
pub struct DrillArgs {
    /// A backup id or `latest`.
    #[arg(default_value = "latest", value_name = "ID|latest")]
    pub backup: String,
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(flatten)]
    pub trust: TrustArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct PruneArgs {
    /// The rules (core's `RetentionPolicy`, declared once); a backup any rule keeps stays.
    #[command(flatten)]
    pub policy: RetentionPolicy,
    /// Print the plan, with the reason for each keep, and delete nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Unfinished backups younger than this are left alone (they may still be running).
    #[arg(long, value_name = "DURATION", default_value = "1d")]
    pub grace: String,
    #[command(flatten)]
    pub store: StoreArgs,
    // With a key, backups it refuses are kept by the rules among themselves, never in a good
    // backup's place.
    #[command(flatten)]
    pub trust: TrustArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Args)]
pub struct HealthArgs {
    /// The RPO: the newest complete backup must be younger than this.
    #[arg(long, value_name = "DURATION", default_value = "26h")]
    pub max_age: String,
    /// Warn when the newest backup is smaller than this fraction of the recent median.
    #[arg(long, value_name = "RATIO", default_value_t = 0.5)]
    pub size_drop: f64,
    /// Warn when the newest backup is larger than this multiple of the recent median.
    #[arg(long, value_name = "RATIO", default_value_t = 2.0)]
    pub size_growth: f64,
    /// Warn when no backup passed verification within this time.
    #[arg(long, value_name = "DURATION", default_value = "8d")]
    pub verify_max_age: String,
    /// Warn when no backup passed a restore drill within this time.
    #[arg(long, value_name = "DURATION", default_value = "35d")]
    pub drill_max_age: String,
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(flatten)]
    pub trust: TrustArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}
