use std::process::ExitCode;

use backstage_backup_core::listing::list_backups;
use backstage_backup_core::signing::SignatureState;
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

/// `yes` checked against the key, `signed` with no key to check it, `no`, or `BAD`.
fn signature_mark(state: &SignatureState) -> &'static str {
    match state {
        SignatureState::Valid(_) => "yes",
        SignatureState::Unchecked(_) => "signed",
        SignatureState::Unsigned => "no",
        SignatureState::Invalid(_) => "BAD",
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
    let trust = super::trust(&args.trust)?;
    let store = super::open_existing_store(&args.store).await?;
    let entries = list_backups(store.as_ref()).await?;
    if args.output.json {
        print_json(
            &entries
                .iter()
                .map(|e| e.summary(&trust))
                .collect::<Vec<_>>(),
        );
        return Ok(());
    }
    if entries.is_empty() {
        print(&format!("No backups in {}.\n", store.describe()));
        return Ok(());
    }
    let now = Utc::now();
    let mut out = format!(
        "{:<46} {:<10} {:>5} {:>10} {:>8} {:<9} {:<8} {:<8} {:<11}\n",
        "ID", "STATUS", "AGE", "SIZE", "ENTITIES", "SIGNED", "VERIFIED", "DRILLED", "TRIGGER"
    );
    let mut unsigned = 0;
    for entry in &entries {
        let signature = trust.state(entry);
        if entry.is_usable() && signature == SignatureState::Unsigned {
            unsigned += 1;
        }
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
            "{:<46} {:<10} {:>5} {:>10} {:>8} {:<9} {:<8} {:<8} {:<11}\n",
            entry.id(),
            entry.status.as_str(),
            human_age((now - entry.created_at()).num_seconds()),
            entry.bytes.map(human_bytes).unwrap_or_else(|| "-".into()),
            manifest
                .and_then(|m| m.entity_total())
                .map(|n| n.to_string())
                .unwrap_or_else(|| "-".into()),
            signature_mark(&signature),
            mark(entry.verified.as_ref()),
            mark(entry.drilled.as_ref()),
            trigger,
        ));
        if let Some(problem) = &entry.problem {
            out.push_str(&format!("    ! {problem}\n"));
        }
        if let SignatureState::Invalid(why) = &signature {
            out.push_str(&format!("    ! refused: {why}\n"));
        }
    }
    if unsigned > 0 {
        out.push_str(&match &trust.key {
            None => format!(
                "{unsigned} backup(s) unsigned: anyone who can write to the store could plant \
                 one; --signing-key signs new backups and checks them\n"
            ),
            Some(_) if trust.allow_unsigned => {
                format!("{unsigned} backup(s) unsigned, used because of --allow-unsigned\n")
            }
            Some(_) => format!("{unsigned} backup(s) unsigned: refused unless --allow-unsigned\n"),
        });
    }
    print(&out);
    Ok(())
}
