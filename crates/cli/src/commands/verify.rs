use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use backstage_backup_core::listing::{find_backup, BackupStatus};
use backstage_backup_core::naming::BackupName;
use backstage_backup_core::store::LocalStore;
use backstage_backup_core::verify::{check_object, verify_backup, Expectations, VerifyReport};
use backstage_backup_core::{CancellationToken, Error, ErrorKind, Result};
use chrono::Utc;

use crate::args::VerifyArgs;
use crate::output::{human_bytes, print, print_json, report_error};
use crate::progress_bar::TerminalProgress;

pub async fn run(args: VerifyArgs, cancel: &CancellationToken) -> ExitCode {
    let json = args.output.json;
    match execute(&args, cancel).await {
        Ok(report) => {
            if json {
                print_json(&report);
            } else {
                print(&describe(&report));
            }
            if report.ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(crate::output::exit_code(ErrorKind::Integrity))
            }
        }
        Err(err) => report_error(&err, json),
    }
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
    let progress = Arc::new(TerminalProgress::new(args.output.json));
    let path = Path::new(&args.backup);
    let is_file = args.backup != "latest" && path.is_file();
    let result = if is_file {
        verify_path(path, progress.as_ref(), cancel).await
    } else {
        if args.backup != "latest" && args.backup.contains('/') {
            return Err(Error::not_found(format!("{} is not a file", args.backup)));
        }
        let store = super::open_store(&args.store.store).await?;
        let entry = find_backup(store.as_ref(), &args.backup).await?;
        verify_backup(store.as_ref(), &entry, progress.as_ref(), cancel).await
    };
    progress.finish();
    result
}

async fn verify_path(
    path: &Path,
    progress: &TerminalProgress,
    cancel: &CancellationToken,
) -> Result<VerifyReport> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let file = path
        .file_name()
        .and_then(|f| f.to_str())
        .ok_or_else(|| Error::invalid(format!("{} is not a file name", path.display())))?;
    let store = LocalStore::new(dir.to_path_buf());
    // A file named like our backups gets the full check with its manifest and sidecar.
    if let Ok(name) = BackupName::parse_id(file) {
        if let Ok(entry) = find_backup(&store, &name.id()).await {
            if entry.data_key() == file {
                return verify_backup(&store, &entry, progress, cancel).await;
            }
        }
    }
    let started = std::time::Instant::now();
    let verified_at = Utc::now();
    let (problems, check) =
        check_object(&store, file, &Expectations::default(), progress, cancel).await?;
    Ok(VerifyReport {
        id: file.to_string(),
        name: file.to_string(),
        status: BackupStatus::Legacy,
        ok: problems.is_empty(),
        problems,
        check,
        duration_ms: started.elapsed().as_millis() as u64,
        verified_at,
    })
}
