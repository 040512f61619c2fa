//! Printing for people and for machines, and the mapping from errors to exit codes.

use std::io::Write;
use std::process::ExitCode;

use backstage_backup_core::{Error, ErrorKind};

/// Exit codes documented in `--help`.
pub fn exit_code(kind: ErrorKind) -> u8 {
    match kind {
        ErrorKind::InvalidInput => 2,
        ErrorKind::NotFound => 3,
        ErrorKind::Integrity => 4,
        ErrorKind::Locked => 5,
        ErrorKind::Cancelled => 130,
        _ => 1,
    }
}

/// `text` with every control character but the newline escaped (`\u{1b}`), so nothing read
/// from the store or echoed from input (labels, names, problems) can drive the terminal.
pub fn terminal_safe(text: &str) -> std::borrow::Cow<'_, str> {
    escape_controls(text, |c| c.escape_default().collect())
}

/// `text` with each control character but the newline replaced by `escape(c)`.
fn escape_controls(text: &str, escape: impl Fn(char) -> String) -> std::borrow::Cow<'_, str> {
    let is_escaped = |c: char| c.is_control() && c != '\n';
    if !text.chars().any(is_escaped) {
        return text.into();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if is_escaped(c) {
            out.push_str(&escape(c));
        } else {
            out.push(c);
        }
    }
    out.into()
}

/// Writes for people to stdout, control characters escaped.
pub fn print(text: &str) {
    write_stdout(&terminal_safe(text));
}

/// Writes to stdout; a closed pipe (`| head`) ends quietly instead of panicking.
fn write_stdout(text: &str) {
    let mut out = std::io::stdout().lock();
    if out
        .write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .is_err()
    {
        std::process::exit(0);
    }
}

pub fn print_json(value: &impl serde::Serialize) {
    let text = serde_json::to_string_pretty(value).expect("serialisable");
    // serde_json escapes C0 controls only; DEL and C1 (CSI is U+009B) become \u escapes too,
    // which leave the JSON's meaning as it was (no control character stands outside a string).
    let safe = escape_controls(&text, |c| format!("\\u{:04x}", c as u32));
    write_stdout(&format!("{safe}\n"));
}

/// Reports a failure: JSON on stdout with --json, a plain line on stderr otherwise.
pub fn report_error(err: &Error, json: bool) -> ExitCode {
    if json {
        print_json(&serde_json::json!({
            "error": {"code": err.kind().code(), "message": err.message()}
        }));
    } else {
        eprintln!("error: {}", terminal_safe(&err.to_string()));
    }
    ExitCode::from(exit_code(err.kind()))
}

/// Prints a command's outcome (its report as JSON or for people, or its error) and picks the
/// exit code: `code` maps a finished report to one (a failed verify is still a report).
pub fn finish<T: serde::Serialize>(
    result: backstage_backup_core::Result<T>,
    json: bool,
    describe: impl Fn(&T) -> String,
    code: impl Fn(&T) -> u8,
) -> ExitCode {
    match result {
        Ok(report) => {
            if json {
                print_json(&report);
            } else {
                print(&describe(&report));
            }
            ExitCode::from(code(&report))
        }
        Err(err) => report_error(&err, json),
    }
}

pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

pub fn human_age(seconds: i64) -> String {
    let s = seconds.max(0);
    match s {
        0..=119 => format!("{s}s"),
        120..=7199 => format!("{}m", s / 60),
        7200..=172_799 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_ages_read_well() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(3 << 30), "3.0 GiB");
        assert_eq!(human_age(59), "59s");
        assert_eq!(human_age(3600), "60m");
        assert_eq!(human_age(3 * 86_400), "3d");
    }

    #[test]
    fn control_characters_are_escaped_for_the_terminal() {
        assert_eq!(terminal_safe("plain\nlines\n"), "plain\nlines\n");
        assert_eq!(
            terminal_safe("k\u{1b}[2J=v\u{1b}]0;pwned\u{7}\r\t\u{9b}x\u{7f}"),
            "k\\u{1b}[2J=v\\u{1b}]0;pwned\\u{7}\\r\\t\\u{9b}x\\u{7f}"
        );
    }
}
