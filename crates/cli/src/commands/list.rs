use std::process::ExitCode;

use backstage_backup_core::listing::{list_backups, BackupEntry};
use backstage_backup_core::Result;
use chrono::Utc;

use crate::args::ListArgs;
use crate::output::{human_age, human_bytes, print, print_json, report_error};

pub async fn run(args: ListArgs) -> ExitCode {
    let json = args.output.json;
    match execute(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => report_error(&err, json),
    }
}

fn mark(record: Option<&backstage_backup_core::listing::Record>) -> &'static str {
    match record {
        None => "-",
        Some(r) if r.ok => "ok",
        Some(_) => "FAILED",
    }
}

async fn execute(args: ListArgs) -> Result<()> {
    let store = super::open_existing_store(&args.store).await?;
    let entries = list_backups(store.as_ref()).await?;
    if args.output.json {
        print_json(&entries.iter().map(BackupEntry::summary).collect::<Vec<_>>());
        return Ok(());
    }
    if entries.is_empty() {
        print(&format!("No backups in {}.\n", store.describe()));
        return Ok(());
    }
    let now = Utc::now();
    let mut out = format!(
        "{:<46} {:<10} {:>5} {:>10} {:>8} {:<11} {:<8} {:<8}\n",
        "ID", "STATUS", "AGE", "SIZE", "ENTITIES", "TRIGGER", "VERIFIED", "DRILLED"
    );
    for entry in &entries {
        let manifest = entry.manifest.as_ref();
        let mut trigger = manifest
            .map(|m| m.trigger.kind.as_str())
            .unwrap_or("-")
            .to_string();
        if let Some(m) = manifest {
            for (k, v) in &m.labels {
                trigger.push_str(&format!(" {k}={v}"));
            }
        }
        out.push_str(&format!(
            "{:<46} {:<10} {:>5} {:>10} {:>8} {:<11} {:<8} {:<8}\n",
            entry.id(),
            entry.status.as_str(),
            human_age((now - entry.created_at()).num_seconds()),
            entry.bytes.map(human_bytes).unwrap_or_else(|| "-".into()),
            manifest
                .and_then(|m| m.entity_total())
                .map(|n| n.to_string())
                .unwrap_or_else(|| "-".into()),
            trigger,
            mark(entry.verified.as_ref()),
            mark(entry.drilled.as_ref()),
        ));
        if let Some(problem) = &entry.problem {
            out.push_str(&format!("    ! {problem}\n"));
        }
    }
    print(&out);
    Ok(())
}
