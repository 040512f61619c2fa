//! `StoreLocation::parse`: never a panic, errors without control characters, and what it accepts
//! is safe to use: an S3 prefix has no `.`, `..` or empty segments, no leading or trailing slash
//! and no control characters; no path or description carries control characters.
#![no_main]

use backstage_backup_core::store::StoreLocation;
use backstage_backup_fuzz::{check_error, check_text};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match StoreLocation::parse(text) {
        Ok(location) => {
            match &location {
                StoreLocation::S3(s3) => {
                    check_text("S3 prefix", &s3.prefix);
                    if !s3.prefix.is_empty() {
                        for segment in s3.prefix.split('/') {
                            assert!(
                                !matches!(segment, "" | "." | ".."),
                                "S3 prefix {:?} has a {segment:?} segment",
                                s3.prefix
                            );
                        }
                    }
                    check_text("S3 bucket", &s3.bucket);
                }
                StoreLocation::Local(path) => {
                    check_text("local store path", &path.to_string_lossy());
                }
            }
            check_text("store description", &location.describe());
            // Parsing is deterministic.
            assert_eq!(StoreLocation::parse(text).unwrap(), location);
        }
        Err(err) => check_error(&err),
    }
});
