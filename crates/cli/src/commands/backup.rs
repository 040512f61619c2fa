use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use backstage_backup_core::backup::{backup, BackupOptions};
use backstage_backup_core::manifest::{Manifest, Trigger, TriggerKind};
use backstage_backup_core::source::DumpSource;
use backstage_backup_core::{CancellationToken, Error, Result};

use crate::args::BackupArgs;
use crate::output::{human_bytes, print, print_json, report_error};
use crate::progress_bar::TerminalProgress;

pub async fn run(args: BackupArgs, cancel: &CancellationToken) -> ExitCode {
    let json = args.output.json;
    match execute(args, cancel).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => report_error(&err, json),
    }
}

fn parse_labels(labels: &[String]) -> Result<BTreeMap<String, String>> {
    labels
        .iter()
        .map(|label| {
            let (key, value) = label.split_once('=').ok_or_else(|| {
                Error::invalid(format!(
                    "label '{label}' must be KEY=VALUE, e.g. backstage=1.45.0"
                ))
            })?;
            backstage_backup_core::backup::validate_label(key, value)?;
            Ok((key.to_string(), value.to_string()))
        })
        .collect()
}

async fn execute(args: BackupArgs, cancel: &CancellationToken) -> Result<()> {
    let source = match &args.from_file {
        Some(path) if path.as_os_str() == "-" => DumpSource::Stdin,
        Some(path) => DumpSource::File(path.clone()),
        None => DumpSource::Database(crate::database::resolve(&args.database)?),
    };
    let options = BackupOptions {
        level: args.level,
        trigger: Trigger {
            kind: TriggerKind::parse(&args.trigger)?,
            by: args.by.clone(),
        },
        labels: parse_labels(&args.labels)?,
        plugin_id: args.plugin_id.clone(),
        threads: args.threads as usize,
        signing_key: super::sign_key(&args.signing)?,
    };
    let store = super::open_store(&args.store).await?;
    let progress = Arc::new(TerminalProgress::new(args.output.json));
    let started = Instant::now();
    let result = backup(store.as_ref(), &source, &options, progress.clone(), cancel).await;
    progress.finish();
    let manifest = result?;
    if args.output.json {
        print_json(&manifest);
    } else {
        print(&summary(
            &manifest,
            &store.describe(),
            started.elapsed().as_secs_f64(),
        ));
    }
    Ok(())
}

fn summary(manifest: &Manifest, store: &str, seconds: f64) -> String {
    let db = &manifest.database;
    let from = db
        .host
        .as_deref()
        .map(|h| format!(" ({h})"))
        .unwrap_or_default();
    let mut out = format!(
        "Backed up {}{from} in {seconds:.1}s\n  backup    {}/{}\n  size      {} dump -> {} gzip (level {})\n  sha256    {}\n",
        db.name,
        store.trim_end_matches('/'),
        manifest.name,
        human_bytes(manifest.raw.bytes),
        human_bytes(manifest.compressed.bytes),
        manifest.compression.level,
        manifest.compressed.sha256,
    );
    if let Some(entities) = &manifest.entities {
        let kinds: Vec<String> = entities.iter().map(|(k, n)| format!("{k} {n}")).collect();
        out.push_str(&format!(
            "  entities  {}: {}\n",
            manifest.entity_total().unwrap_or(0),
            kinds.join(", ")
        ));
    }
    if let Some(migration) = &db.latest_migration {
        out.push_str(&format!(
            "  migration {migration} (the database's latest knex migration)\n"
        ));
    }
    match &manifest.signature {
        Some(signature) => out.push_str(&format!("  signed    key {}\n", signature.key_id)),
        None => out.push_str("  signed    no (--signing-key signs backups)\n"),
    }
    out
}
