//! One error type for every operation: a small, stable set of kinds that front ends map to exit
//! codes (CLI) and `code`s (JS), and a message that names the cause and, where there is one, the fix.
//! Where code must act on *why* something failed (retry a deadlock, explain a full disk), the
//! error also carries a typed [`Cause`], so no caller has to read the message to decide.

use std::fmt;
use std::sync::Arc;

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
    /// The database side failed: pg_dump or psql (missing, too old, or exiting with an error),
    /// or the server itself (cannot be reached, refuses the login, fails a query). Its code is
    /// `E_PG_DUMP` for all of these, not only for pg_dump (see [`ErrorKind::code`]).
    Database,
    /// The backup store failed or could not be reached.
    Store,
    /// The operation was cancelled (signal, AbortSignal) and cleaned up after itself.
    Cancelled,
    /// A bug or an unexpected condition in this tool.
    Internal,
}

impl ErrorKind {
    /// Every kind, once each: what `from_code` searches and the JS engine's `ErrorCode` type
    /// lists.
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

    /// The stable code used by `--json` output and by the JS engine. One code per kind.
    pub fn code(self) -> &'static str {
        match self {
            ErrorKind::InvalidInput => "E_INVALID",
            ErrorKind::NotFound => "E_NOT_FOUND",
            ErrorKind::AlreadyExists => "E_EXISTS",
            ErrorKind::Integrity => "E_INTEGRITY",
            ErrorKind::Locked => "E_LOCKED",
            // Named when pg_dump was the only database-side tool; it now means the whole
            // database side (pg_dump, psql, connecting, queries). The code is public (the
            // CLI's `--json`, pkg/index.d.ts), so it keeps its name.
            ErrorKind::Database => "E_PG_DUMP",
            ErrorKind::Store => "E_STORE",
            ErrorKind::Cancelled => "E_ABORTED",
            ErrorKind::Internal => "E_INTERNAL",
        }
    }

    /// The kind a stable code names (errors that crossed into JS and back).
    pub fn from_code(code: &str) -> Option<ErrorKind> {
        Self::ALL.into_iter().find(|kind| kind.code() == code)
    }
}

/// Why an operation failed, where code acts on the reason and not only on the [`ErrorKind`].
/// Not a public code: front ends still report the kind's code; the cause decides what this
/// tool does (retry, which advice to give). The engines pass it on as `BackupError.reason`
/// (`deadlock`, `no-space`, …) for callers that act on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
#[cfg_attr(test, derive(ts_rs::TS), ts(rename = "ErrorReason"))]
#[non_exhaustive]
pub enum Cause {
    /// psql lost a deadlock (SQLSTATE 40P01): the same statements may succeed when run again.
    Deadlock,
    /// The disk (or the user's quota) is full: ENOSPC or EDQUOT.
    NoSpace,
    /// No database was named: no URL, app-config, `DATABASE_URL` or `PG*` variables.
    NoDatabaseGiven,
    /// The AWS SDK found no usable credentials in its chain.
    NoCredentials,
}

/// An error with its kind and a message meant for the person who has to fix it, and, where
/// code needs it, a typed cause and the underlying error.
///
/// Messages never contain secrets: connection URLs are redacted before they reach one.
#[derive(Debug, Clone)]
pub struct Error {
    kind: ErrorKind,
    cause: Option<Cause>,
    message: String,
    // Shared so `Error` stays `Clone`; most underlying errors (io, SDK) are not.
    source: Option<Arc<dyn std::error::Error + Send + Sync>>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            cause: None,
            message: message.into(),
            source: None,
        }
    }

    /// An error whose cause code acts on (see [`Error::cause`]).
    pub fn with_cause(kind: ErrorKind, cause: Cause, message: impl Into<String>) -> Self {
        Error {
            cause: Some(cause),
            ..Self::new(kind, message)
        }
    }

    /// Keeps `source` as the underlying error (`std::error::Error::source`). The message
    /// stays the one given: it already says what the source means.
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Arc::new(source));
        self
    }

    /// As `with_source`, for an underlying error already shared.
    pub fn with_shared_source(mut self, source: Arc<dyn std::error::Error + Send + Sync>) -> Self {
        self.source = Some(source);
        self
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

    /// An I/O failure while `doing` something (`"writing the report"`), as `kind`, unless the
    /// disk is full: that is [`Cause::NoSpace`] with advice, and, asked for `Internal`, a `Store`
    /// error (the disk this tool writes to failed; not a bug). The io error is kept as the source.
    pub fn io(kind: ErrorKind, doing: impl fmt::Display, err: std::io::Error) -> Self {
        let error = match io_cause(&err) {
            Some(Cause::NoSpace) => Error::with_cause(
                // A full disk is the environment's doing, not this tool's.
                if kind == ErrorKind::Internal {
                    ErrorKind::Store
                } else {
                    kind
                },
                Cause::NoSpace,
                format!("{doing}: the disk is full ({err}); free some space and try again"),
            ),
            _ => Error::new(kind, format!("{doing}: {err}")),
        };
        error.with_source(err)
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// Why it failed, where that is known and something acts on it.
    pub fn cause(&self) -> Option<Cause> {
        self.cause
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    /// Prefixes the message with what was being done, keeping the kind, cause and source.
    pub fn context(mut self, doing: impl fmt::Display) -> Self {
        self.message = format!("{doing}: {}", self.message);
        self
    }
}

/// The cause an I/O error carries, read from its kind (the OS error number behind it), never
/// from its text.
pub fn io_cause(err: &std::io::Error) -> Option<Cause> {
    match err.kind() {
        std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded => Some(Cause::NoSpace),
        _ => None,
    }
}

// By what a caller sees (kind, cause, message); the source is detail behind the message.
impl PartialEq for Error {
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind && self.cause == other.cause && self.message == other.message
    }
}

impl Eq for Error {}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl From<std::io::Error> for Error {
    fn from(err: std::io::Error) -> Self {
        Error::io(ErrorKind::Internal, "I/O error", err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    #[test]
    fn every_kind_has_one_code_that_round_trips() {
        // No wildcard: a new kind fails to compile here until it is listed in `ALL`.
        let listed = |kind: ErrorKind| match kind {
            ErrorKind::InvalidInput
            | ErrorKind::NotFound
            | ErrorKind::AlreadyExists
            | ErrorKind::Integrity
            | ErrorKind::Locked
            | ErrorKind::Database
            | ErrorKind::Store
            | ErrorKind::Cancelled
            | ErrorKind::Internal => ErrorKind::ALL.contains(&kind),
        };
        let mut codes = std::collections::HashSet::new();
        for kind in ErrorKind::ALL {
            assert!(listed(kind));
            assert!(codes.insert(kind.code()), "{kind:?}'s code is shared");
            assert_eq!(ErrorKind::from_code(kind.code()), Some(kind));
        }
        assert_eq!(ErrorKind::from_code("E_UNAVAILABLE"), None);
        assert_eq!(ErrorKind::from_code(""), None);
    }

    #[test]
    fn the_database_side_keeps_its_public_code() {
        // The contract with pkg/index.d.ts and the CLI's --json: psql and connection failures
        // are E_PG_DUMP too.
        assert_eq!(ErrorKind::Database.code(), "E_PG_DUMP");
        assert_eq!(Error::database("psql failed").kind().code(), "E_PG_DUMP");
    }

    #[test]
    fn a_cause_survives_context() {
        for cause in [
            Cause::Deadlock,
            Cause::NoSpace,
            Cause::NoDatabaseGiven,
            Cause::NoCredentials,
        ] {
            let err = Error::with_cause(ErrorKind::Database, cause, "failed")
                .context("restoring")
                .context("drill");
            assert_eq!(err.cause(), Some(cause));
            assert_eq!(err.kind(), ErrorKind::Database);
            assert_eq!(err.message(), "drill: restoring: failed");
        }
        assert_eq!(Error::database("failed").cause(), None);
    }

    #[test]
    fn a_deadlock_is_a_database_error_that_says_so() {
        let err = Error::with_cause(ErrorKind::Database, Cause::Deadlock, "deadlock detected");
        assert_eq!(
            err.clone().context("loading").cause(),
            Some(Cause::Deadlock)
        );
        assert_ne!(err, Error::database("deadlock detected"));
    }

    #[test]
    fn a_full_disk_is_no_space_not_internal() {
        let enospc = std::io::Error::from_raw_os_error(28);
        assert_eq!(io_cause(&enospc), Some(Cause::NoSpace));

        let err = Error::from(std::io::Error::from_raw_os_error(28));
        assert_eq!(err.cause(), Some(Cause::NoSpace));
        assert_ne!(err.kind(), ErrorKind::Internal);
        assert!(err.message().contains("the disk is full"), "{err}");

        let err = Error::io(
            ErrorKind::Store,
            "writing x",
            std::io::Error::from_raw_os_error(28),
        )
        .context("backup");
        assert_eq!(err.kind(), ErrorKind::Store);
        assert_eq!(err.cause(), Some(Cause::NoSpace));
        assert!(
            err.message()
                .starts_with("backup: writing x: the disk is full"),
            "{err}"
        );
        // The io error is still there to look at.
        let source = err.source().expect("the io error is the source");
        let io = source
            .downcast_ref::<std::io::Error>()
            .expect("an io error");
        assert_eq!(io.raw_os_error(), Some(28));
    }

    #[test]
    fn other_io_errors_keep_their_kind_and_source() {
        let err = Error::from(std::io::Error::from(std::io::ErrorKind::BrokenPipe));
        assert_eq!(err.kind(), ErrorKind::Internal);
        assert_eq!(err.cause(), None);
        assert!(err.message().starts_with("I/O error: "), "{err}");
        assert!(err.source().is_some());
        // A clone shares the source.
        assert!(err.clone().source().is_some());
    }

    #[test]
    fn no_database_given_is_typed() {
        let err = Error::with_cause(
            ErrorKind::InvalidInput,
            Cause::NoDatabaseGiven,
            "no database given",
        )
        .context("backup");
        assert_eq!(err.cause(), Some(Cause::NoDatabaseGiven));
    }

    #[test]
    fn no_credentials_is_typed() {
        let err = Error::with_cause(ErrorKind::Store, Cause::NoCredentials, "no credentials")
            .context("listing");
        assert_eq!(err.cause(), Some(Cause::NoCredentials));
        assert_eq!(err.kind(), ErrorKind::Store);
    }
}
