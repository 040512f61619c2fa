//! Verification: re-reads a stored backup end to end and checks it against its manifest and
//! sidecar. Records the outcome beside the backup so `list` and `health` can show it.

mod sanitize;
mod stream;

pub use sanitize::{DumpSanitizer, ALLOWED_EXTENSIONS, MAX_SQL_LINE};

pub use stream::{
    ends_with_completion_line, problems, Expectations, StreamCheck, StreamVerifier, VerifyFailure,
};

#[cfg(feature = "ops")]
mod operation;
#[cfg(feature = "ops")]
pub use operation::{
    check_object, expectations_of, read_verified, read_verified_to, verify_backup, verify_selected,
    DumpSink, VerifyReport,
};
