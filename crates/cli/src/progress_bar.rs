//! A terminal progress bar (bytes and rate) for interactive use; nothing when not on a terminal.

use std::io::IsTerminal;

use backstage_backup_core::progress::{Bytes, Phase, Progress};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

pub struct TerminalProgress {
    bar: Option<ProgressBar>,
}

impl TerminalProgress {
    /// A bar on stderr when it is a terminal and output is for people.
    pub fn new(json: bool) -> Self {
        let show = !json && std::io::stderr().is_terminal();
        let bar = show.then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} {msg:<11} {bytes:>10} stored  {binary_bytes_per_sec:>12}  {elapsed}",
                )
                .expect("valid template"),
            );
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
            bar
        });
        TerminalProgress { bar }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Progress for TerminalProgress {
    fn phase(&self, phase: Phase) {
        if let Some(bar) = &self.bar {
            bar.set_message(phase.as_str());
        }
    }

    fn bytes(&self, bytes: Bytes) {
        if let Some(bar) = &self.bar {
            if let Some(total) = bytes.total {
                bar.set_length(total);
            }
            bar.set_position(bytes.stored);
        }
    }
}
