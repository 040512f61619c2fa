use std::process::ExitCode;

use backstage_backup_core::duration::HumanDuration;
use backstage_backup_core::prune::{prune, PruneOptions, PruneReport};
use backstage_backup_core::Result;
use chrono::Utc;

use crate::args::PruneArgs;
use crate::output::{finish, human_bytes};

pub async fn run(args: PruneArgs) -> ExitCode {
    let json = args.output.json;
    finish(execute(&args).await, json, describe, |_| 0)
}

fn describe(report: &PruneReport) -> String {
    let mut out = String::new();
    for decision in &report.decisions {
        if decision.keep {
            out.push_str(&format!(
                "keep    {}  ({})\n",
                decision.id,
                decision.reasons.join(", ")
            ));
        } else {
            let verb = if report.dry_run {
                "would delete"
            } else {
                "delete"
            };
            out.push_str(&format!("{verb:<7} {}\n", decision.id));
        }
    }
    for id in &report.untouched {
        out.push_str(&format!(
            "keep    {id}  (legacy: not made by backstage-backup)\n"
        ));
    }
    let leftovers = report.leftovers.aborted_uploads.len() + report.leftovers.removed_backups.len();
    out.push_str(&format!(
        "{}{} backup(s) {}, {} freed; {} kept; {leftovers} unfinished leftover(s) {}\n",
        if report.dry_run { "dry run: " } else { "" },
        report.deleted.len(),
        if report.dry_run {
            "would be deleted"
        } else {
            "deleted"
        },
        human_bytes(report.freed_bytes),
        report.decisions.iter().filter(|d| d.keep).count() + report.untouched.len(),
        if report.dry_run {
            "would be cleared"
        } else {
            "cleared"
        },
    ));
    out
}

async fn execute(args: &PruneArgs) -> Result<PruneReport> {
    let policy = args.policy.clone();
    policy.validate()?;
    let grace: HumanDuration = args.grace.parse()?;
    let trust = super::trust(&args.trust)?;
    let store = super::open_existing_store(&args.store).await?;
    let options = PruneOptions {
        policy,
        dry_run: args.dry_run,
        leftover_grace: grace.0,
        trust,
    };
    prune(store.as_ref(), &options, Utc::now()).await
}
