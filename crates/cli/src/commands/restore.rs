use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;

use backstage_backup_core::restore::{restore, RestoreOptions, RestoreReport};
use backstage_backup_core::{CancellationToken, Error, ErrorKind, Result};

use crate::args::RestoreArgs;
use crate::output::finish;
use crate::progress_bar::TerminalProgress;

pub async fn run(args: RestoreArgs, cancel: &CancellationToken) -> ExitCode {
    let json = args.output.json;
    finish(execute(&args, cancel).await, json, describe, |_| 0)
}

fn describe(report: &RestoreReport) -> String {
    let mut out = format!(
        "Restored {} into {} ({}) in {:.1}s\n",
        report.id,
        report.database,
        report.host,
        report.duration_ms as f64 / 1000.0
    );
    if report.created_database {
        out.push_str("  created the database\n");
    }
    if let Some(safety) = &report.safety_backup {
        out.push_str(&format!("  safety backup of the replaced data: {safety}\n"));
    }
    if let Some(found) = &report.entities {
        let total: u64 = found.values().sum();
        let verdict = match &report.expected_entities {
            Some(expected) if expected == found => " (matches the manifest)",
            Some(_) => " (DIFFERS from the manifest)",
            None => "",
        };
        out.push_str(&format!("  entities  {total}{verdict}\n"));
    }
    out
}

/// Asks on a terminal; elsewhere (scripts, CronJobs) the flags are the consent.
fn confirm(question: &str) -> Result<()> {
    if !std::io::stdin().is_terminal() {
        return Ok(());
    }
    eprint!(
        "{} Type 'yes' to continue: ",
        crate::output::terminal_safe(question)
    );
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    if answer.trim() == "yes" {
        Ok(())
    } else {
        Err(Error::new(
            ErrorKind::Cancelled,
            "restore not confirmed; nothing was changed",
        ))
    }
}

async fn execute(args: &RestoreArgs, cancel: &CancellationToken) -> Result<RestoreReport> {
    let target = crate::database::resolve(&args.database)?;
    let located = super::locate(
        &args.backup,
        &args.store,
        Some(&target.plugin_id),
        "restore",
        cancel,
    )
    .await?;
    let result = confirm_and_restore(args, &located, &target.connection, cancel).await;
    located.release().await;
    result
}

async fn confirm_and_restore(
    args: &RestoreArgs,
    located: &super::Located,
    target: &backstage_backup_core::source::ConnectionInfo,
    cancel: &CancellationToken,
) -> Result<RestoreReport> {
    let (store, entry) = (&located.store, &located.entry);
    if !args.yes {
        let what = if args.clean {
            "Its current contents will be REPLACED (a safety backup is taken first unless --no-safety-backup)."
        } else {
            "It must be empty or missing."
        };
        confirm(&format!(
            "Restore {} into database '{}' on {}? {what}",
            entry.id(),
            target.database,
            target.host_port()
        ))?;
    }
    let progress = Arc::new(TerminalProgress::new(args.output.json));
    let options = RestoreOptions {
        clean: args.clean,
        safety_backup: !args.no_safety_backup,
        trust: super::trust(&args.trust)?,
    };
    let result = restore(
        store.as_ref(),
        entry,
        target,
        &options,
        progress.clone(),
        cancel,
    )
    .await;
    progress.finish();
    if result.is_ok() && cancel.is_cancelled() {
        // The signal came once COMMIT was sent: the restore had to finish, and did.
        eprintln!(
            "interrupted after COMMIT was sent: the restore could no longer be rolled back and finished"
        );
    }
    result
}
