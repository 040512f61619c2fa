use std::process::ExitCode;
use std::sync::Arc;

use backstage_backup_core::drill::{drill, DrillReport};
use backstage_backup_core::{CancellationToken, ErrorKind, Result};

use crate::args::DrillArgs;
use crate::output::{exit_code, finish};
use crate::progress_bar::TerminalProgress;

pub async fn run(args: DrillArgs, cancel: &CancellationToken) -> ExitCode {
    let json = args.output.json;
    finish(execute(&args, cancel).await, json, describe, |r| {
        if r.ok {
            0
        } else {
            exit_code(ErrorKind::Integrity)
        }
    })
}

fn describe(report: &DrillReport) -> String {
    let total = report.entities.as_ref().map(|e| e.values().sum::<u64>());
    if report.ok {
        format!(
            "PASSED drill of {}: restored in {:.1}s on {}{}; scratch database dropped\n",
            report.id,
            report.restore_ms as f64 / 1000.0,
            report.host,
            total
                .map(|t| format!(", {t} entities match the manifest"))
                .unwrap_or_default()
        )
    } else {
        let mut out = format!("FAILED drill of {}\n", report.id);
        for problem in &report.problems {
            out.push_str(&format!("  - {problem}\n"));
        }
        out
    }
}

async fn execute(args: &DrillArgs, cancel: &CancellationToken) -> Result<DrillReport> {
    let server = crate::database::resolve(&args.database)?.connection;
    let trust = super::trust(&args.trust)?;
    let located = super::locate(&args.backup, &args.store, None, "drill", cancel).await?;
    let progress = Arc::new(TerminalProgress::new(args.output.json));
    let result = drill(
        located.store.as_ref(),
        &located.entry,
        &server,
        &trust,
        progress.clone(),
        cancel,
    )
    .await;
    progress.finish();
    located.release().await;
    result
}
