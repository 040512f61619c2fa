//! Properties shared by the fuzz targets.

use backstage_backup_core::Error;

/// An error must say something, and never carry control characters (a terminal escape or a
/// forged log line from untrusted input).
pub fn check_error(err: &Error) {
    check_text("error message", err.message());
    assert!(!err.message().is_empty(), "empty error message: {err:?}");
}

/// Text meant for people: no control characters at all (not even tab or newline).
pub fn check_text(what: &str, text: &str) {
    assert!(
        !text.chars().any(char::is_control),
        "control character in {what}: {text:?}"
    );
}
