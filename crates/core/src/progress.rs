//! Progress reporting: a trait in the core, implemented by each front end (a terminal bar in
//! the CLI, a JS callback in the Node engine, job state in the Backstage plugin).

use serde::Serialize;

/// The stage an operation is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
#[cfg_attr(test, derive(ts_rs::TS))]
pub enum Phase {
    Connecting,
    Dumping,
    Uploading,
    Finalizing,
    Reading,
    Verifying,
    Restoring,
    /// COMMIT is sent: the restore can no longer be rolled back by a signal.
    Committing,
    Comparing,
    Cleaning,
    Done,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Connecting => "connecting",
            Phase::Dumping => "dumping",
            Phase::Uploading => "uploading",
            Phase::Finalizing => "finalizing",
            Phase::Reading => "reading",
            Phase::Committing => "committing",
            Phase::Verifying => "verifying",
            Phase::Restoring => "restoring",
            Phase::Comparing => "comparing",
            Phase::Cleaning => "cleaning",
            Phase::Done => "done",
        }
    }
}

/// Bytes moved so far: the dump side (`raw`) and the stored, compressed side (`stored`).
/// `total` is the stored object's size when known (verify, restore).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(test, derive(ts_rs::TS), ts(rename_all = "camelCase"))]
pub struct Bytes {
    pub raw: u64,
    pub stored: u64,
    pub total: Option<u64>,
}

/// A progress event as the engines hand it to JavaScript: `{phase}` when a stage starts,
/// `{raw, stored, total}` about once per MiB.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(untagged)]
#[cfg_attr(test, derive(ts_rs::TS))]
pub enum ProgressEvent {
    Phase { phase: Phase },
    Bytes(Bytes),
}

/// Receives progress. Called from worker threads, roughly once per MiB: implementations that
/// cross into another runtime should rate-limit.
pub trait Progress: Send + Sync {
    fn phase(&self, phase: Phase);
    fn bytes(&self, bytes: Bytes);
}

/// Discards progress.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn phase(&self, _: Phase) {}
    fn bytes(&self, _: Bytes) {}
}
