//! One error type for every operation: a small, stable set of kinds that front ends map to exit
//! codes (CLI) and `code`s (JS), and a message that names the cause and, where there is one, the fix.

use std::fmt;

/// What went wrong, in the terms a caller acts on. Stable: the CLI's exit codes and the JS
/// engine's error codes are derived from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Bad input: a flag, URL, config file, id or manifest that cannot be used as given.
    InvalidInput,
    /// The named backup, object or database does not exist.
    NotFound,
    /// The target already holds something this operation refuses to overwrite.
    AlreadyExists,
    /// A backup is damaged: hash mismatch, truncated, not gzip, no completion line.
    Integrity,
    /// Another backup, restore or prune of the same database or store is running.
    Locked,
    /// pg_dump, psql or the database failed or could not be reached.
    Database,
    /// The backup store failed or could not be reached.
    Store,
    /// The operation was cancelled (signal, AbortSignal) and cleaned up after itself.
    Cancelled,
    /// A bug or an unexpected condition in this tool.
    Internal,
}

impl ErrorKind {
    /// The stable code used by `--json` output and by the JS engine.
    pub fn code(self) -> &'static str {
        match self {
            ErrorKind::InvalidInput => "E_INVALID",
            ErrorKind::NotFound => "E_NOT_FOUND",
            ErrorKind::AlreadyExists => "E_EXISTS",
            ErrorKind::Integrity => "E_INTEGRITY",
            ErrorKind::Locked => "E_LOCKED",
            ErrorKind::Database => "E_PG_DUMP",
            ErrorKind::Store => "E_STORE",
            ErrorKind::Cancelled => "E_ABORTED",
            ErrorKind::Internal => "E_INTERNAL",
        }
    }

    /// Every kind (the JS engine's `ErrorCode` type lists their codes).
    pub const ALL: [ErrorKind; 9] = [
        ErrorKind::InvalidInput,
        ErrorKind::NotFound,
        ErrorKind::AlreadyExists,
        ErrorKind::Integrity,
        ErrorKind::Locked,
        ErrorKind::Database,
        ErrorKind::Store,
        ErrorKind::Cancelled,
        ErrorKind::Internal,
    ];

    /// The kind a stable code names (errors that crossed into JS and back).
    pub fn from_code(code: &str) -> Option<ErrorKind> {
        Self::ALL.into_iter().find(|kind| kind.code() == code)
    }
}

/// An error with its kind and a message meant for the person who has to fix it.
///
/// Messages never contain secrets: connection URLs are redacted before they reach one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    message: String,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidInput, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, message)
    }

    pub fn integrity(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Integrity, message)
    }

    pub fn database(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Database, message)
    }

    pub fn store(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Store, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, message)
    }

    pub fn cancelled() -> Self {
        Self::new(
            ErrorKind::Cancelled,
            "cancelled; nothing partial was left in the store",
        )
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    /// Prefixes the message with what was being done, keeping the kind.
    pub fn context(mut self, doing: impl fmt::Display) -> Self {
        self.message = format!("{doing}: {}", self.message);
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl From<std::io::Error> for Error {
    fn from(err: std::io::Error) -> Self {
        Error::internal(format!("I/O error: {err}"))
    }
}
