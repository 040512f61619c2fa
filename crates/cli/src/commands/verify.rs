use std::process::ExitCode;
use std::sync::Arc;

use backstage_backup_core::listing::BackupStatus;
use backstage_backup_core::verify::{verify_backup, VerifyReport};
use backstage_backup_core::{CancellationToken, ErrorKind, Result};

use crate::args::VerifyArgs;
use crate::output::{exit_code, finish, human_bytes};
use crate::progress_bar::TerminalProgress;

pub async fn run(args: VerifyArgs, cancel: &CancellationToken) -> ExitCode {
    let json = args.output.json;
    finish(execute(&args, cancel).await, json, describe, |r| {
        if r.ok {
            0
        } else {
            exit_code(ErrorKind::Integrity)
        }
    })
}

fn describe(report: &VerifyReport) -> String {
    let size = report
        .check
        .as_ref()
        .map(|c| {
            format!(
                " ({} gzip, {} dump)",
                human_bytes(c.compressed.bytes),
                human_bytes(c.raw.bytes)
            )
        })
        .unwrap_or_default();
    if report.ok {
        let what = match report.status {
            BackupStatus::Legacy => "legacy backup: gzip stream intact, pg_dump completion line present",
            _ => "SHA-256 matches manifest and sidecar, gzip stream intact, pg_dump completion line present",
        };
        format!("OK {}{size}\n  {what}\n", report.id)
    } else {
        let mut out = format!("FAILED {}{size}\n", report.id);
        for problem in &report.problems {
            out.push_str(&format!("  - {problem}\n"));
        }
        out
    }
}

/// `backup` names a backup in the store, or a .sql.gz file anywhere on disk.
async fn execute(args: &VerifyArgs, cancel: &CancellationToken) -> Result<VerifyReport> {
    let trust = super::trust(&args.trust)?;
    let progress = Arc::new(TerminalProgress::new(args.output.json));
    let located = super::locate(&args.backup, &args.store, None, "verify", cancel).await?;
    let result = verify_backup(
        located.store.as_ref(),
        &located.entry,
        &trust,
        progress.as_ref(),
        cancel,
    )
    .await;
    progress.finish();
    located.release().await;
    result
}
