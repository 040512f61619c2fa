//! `backstage-backup`: the command-line front end of backstage-backup-core.

mod args;
mod commands;
mod database;
mod output;
mod progress_bar;

use std::process::ExitCode;

use backstage_backup_core::CancellationToken;
use clap::Parser;

use args::{Cli, Command};

fn main() -> ExitCode {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    fix_mmap_threshold();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => return parse_failure(err),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::from(1);
        }
    };
    runtime.block_on(async {
        let cancel = CancellationToken::new();
        watch_signals(cancel.clone());
        match cli.command {
            Command::Backup(args) => commands::backup::run(args, &cancel).await,
            Command::List(args) => commands::list::run(args).await,
            Command::Verify(args) => commands::verify::run(args, &cancel).await,
            Command::Restore(args) => commands::restore::run(args, &cancel).await,
            Command::Drill(args) => commands::drill::run(args, &cancel).await,
            Command::Prune(args) => commands::prune::run(args).await,
            Command::Health(args) => commands::health::run(args).await,
            Command::Keygen(args) => commands::keygen::run(args),
        }
    })
}

/// clap's own exit (2 for a usage error, 0 for --help), except for `health`: monitoring reads 2
/// as CRITICAL, so a mistyped check definition is UNKNOWN (3), like health's other failures.
fn parse_failure(err: clap::Error) -> ExitCode {
    let subcommand = std::env::args_os()
        .skip(1)
        .find(|arg| !arg.to_string_lossy().starts_with('-'));
    if err.use_stderr() && subcommand.is_some_and(|name| name == "health") {
        let _ = err.print();
        return ExitCode::from(3);
    }
    err.exit()
}

/// Ctrl-C and SIGTERM (a CronJob's pod being stopped) cancel the running operation, which then
/// cleans up after itself instead of dying with an upload open.
fn watch_signals(cancel: CancellationToken) {
    tokio::spawn(async move {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let Ok(mut term) = signal(SignalKind::terminate()) else {
                return;
            };
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        cancel.cancel();
    });
}

/// glibc raises its mmap threshold whenever a large block is freed; after that the S3 parts
/// (6 MiB and up) come from the heap and fragment it, so identical backups peaked anywhere from
/// 56 to 69 MiB of RSS. A fixed threshold keeps them at 54-56 MiB. glibc reads it from the
/// environment only at start-up, so the process runs itself again once with it set.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn fix_mmap_threshold() {
    use std::os::unix::process::CommandExt;
    const THRESHOLD: &str = "MALLOC_MMAP_THRESHOLD_";
    if std::env::var_os(THRESHOLD).is_some() {
        return;
    }
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let mut args = std::env::args_os();
    let arg0 = args.next().unwrap_or_else(|| exe.clone().into_os_string());
    // exec returns only when it failed: then run on with glibc's defaults.
    let _ = std::process::Command::new(&exe)
        .arg0(arg0)
        .args(args)
        .env(THRESHOLD, (4u32 << 20).to_string())
        .exec();
}
