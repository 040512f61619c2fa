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
    let cli = Cli::parse();
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
        }
    })
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
