//! `Manifest::from_json` and `manifest::parse_sidecar` on arbitrary bytes: never a panic, errors
//! without control characters, and a manifest that parses re-serialises and re-parses to an
//! equal value (byte-for-byte the same JSON the second time).
#![no_main]

use backstage_backup_core::manifest::{parse_sidecar, Manifest};
use backstage_backup_fuzz::check_error;
use libfuzzer_sys::fuzz_target;

const FILE: &str = "backstage-catalog-20261125_020000.sql.gz";

fuzz_target!(|data: &[u8]| {
    match Manifest::from_json(data) {
        Ok(manifest) => {
            let json = manifest.to_json();
            let again = Manifest::from_json(&json)
                .unwrap_or_else(|e| panic!("a parsed manifest does not re-parse: {e}"));
            assert_eq!(again, manifest, "manifest changed on a round trip");
            assert_eq!(again.to_json(), json, "manifest JSON is not stable");
        }
        Err(err) => check_error(&err),
    }
    match parse_sidecar(data, FILE) {
        Ok(hash) => assert!(
            hash.len() == 64 && hash.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')),
            "sidecar hash {hash:?} is not lowercase SHA-256 hex"
        ),
        Err(err) => check_error(&err),
    }
});
