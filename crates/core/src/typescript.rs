//! The TypeScript declarations of every option, result, progress event and error code the Node
//! engines take and return, generated from the Rust types (ts-rs) so they cannot drift from what
//! the engines do. `scripts/generate-types.sh` writes them; this test fails while a committed
//! copy differs from what the types say now.

use std::path::PathBuf;

use ts_rs::{Config, TS};

use crate::engine_options::{BackupCallOptions, DrillCallOptions, RestoreCallOptions};
use crate::health::{HealthReport, HealthRequest};
use crate::listing::BackupSummary;
use crate::manifest::Manifest;
use crate::progress::ProgressEvent;
use crate::prune::{PruneReport, PruneRequest};
use crate::source::DatabaseRequest;
use crate::verify::VerifyReport;
use crate::{drill::DrillReport, restore::RestoreReport, ErrorKind};

/// Where the declarations go: the engine package's, and the plugins' common package's own copy
/// (the frontend cannot depend on the engine package, which carries a native addon).
const OUTPUTS: [&str; 2] = [
    "../../pkg/types.generated.d.ts",
    "../../plugin-ts/common/src/engine-types.generated.ts",
];

/// Every type a declaration is emitted for, dependencies included (ts-rs names them).
fn declarations(cfg: &Config) -> Vec<(String, Option<String>)> {
    macro_rules! decls {
        ($($ty:ty),* $(,)?) => {
            vec![$((<$ty as TS>::decl(cfg), <$ty as TS>::docs())),*]
        };
    }
    decls![
        crate::error::Cause,
        crate::store::spec::S3CredentialsObject,
        crate::store::spec::StoreObject,
        DatabaseRequest,
        crate::backup_writer::BackupRequest,
        BackupCallOptions,
        RestoreCallOptions,
        DrillCallOptions,
        crate::retention::RetentionPolicy,
        PruneRequest,
        HealthRequest,
        crate::progress::Phase,
        crate::progress::Bytes,
        ProgressEvent,
        crate::manifest::Digest,
        crate::manifest::DatabaseInfo,
        crate::manifest::Compression,
        crate::manifest::TriggerKind,
        crate::manifest::Trigger,
        crate::signing::ManifestSignature,
        Manifest,
        crate::listing::BackupStatus,
        crate::signing::SignatureStatus,
        BackupSummary,
        crate::naming::BackupIdParts,
        crate::listing::OpenedBackup,
        crate::verify::StreamCheck,
        VerifyReport,
        RestoreReport,
        DrillReport,
        crate::retention::Decision,
        crate::leftovers::Leftovers,
        PruneReport,
        crate::health::HealthStatus,
        crate::health::HealthCheck,
        crate::health::LastBackup,
        crate::health::LastCheck,
        HealthReport,
    ]
}

fn generate() -> String {
    let cfg = Config::new().with_large_int("number");
    let mut out = String::from(
        "// Generated from backstage-backup-core's Rust types by scripts/generate-types.sh: do not\n\
         // edit. Field names are camelCase, as both Node engines return them; keys of label and\n\
         // entity maps are data and keep their spelling.\n\n",
    );
    out.push_str("/** A stable failure class (core's `ErrorKind`); the CLI maps the same classes to exit codes. `E_UNAVAILABLE`: the engine, or a feature of it, is not available here. */\n");
    let codes: Vec<String> = ErrorKind::ALL
        .iter()
        .map(|k| k.code())
        // Raised only by the JS loader, when no engine (or not the one asked for) loads.
        .chain(["E_UNAVAILABLE"])
        .map(|code| format!("\"{code}\""))
        .collect();
    out.push_str(&format!("export type ErrorCode = {};\n", codes.join(" | ")));
    for (decl, docs) in declarations(&cfg) {
        out.push('\n');
        if let Some(docs) = docs {
            out.push_str(&docs);
        }
        out.push_str("export ");
        out.push_str(&decl);
        out.push('\n');
    }
    out
}

fn path(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(relative)
}

#[test]
fn generated_typescript_is_up_to_date() {
    let expected = generate();
    let update = std::env::var_os("UPDATE_TYPES").is_some();
    for output in OUTPUTS {
        let file = path(output);
        if update {
            std::fs::write(&file, &expected).expect("write the declarations");
            continue;
        }
        let committed = std::fs::read_to_string(&file).unwrap_or_default();
        assert!(
            committed == expected,
            "{} is not what the Rust types declare: run scripts/generate-types.sh and commit it",
            file.display()
        );
    }
}

/// A map whose keys are data must not have them renamed: every map-typed field the
/// declarations show is one `js_shape` keeps verbatim.
#[test]
fn every_map_field_is_kept_verbatim() {
    let text = generate();
    let mut seen = 0;
    for (at, _) in text.match_indices(": { [key in string]") {
        let before = &text[..at];
        let name: String = before
            .chars()
            .rev()
            .take_while(|c| c.is_alphanumeric() || *c == '?')
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .filter(|c| *c != '?')
            .collect();
        let snake: String = name
            .chars()
            .flat_map(|c| {
                if c.is_uppercase() {
                    vec!['_', c.to_ascii_lowercase()]
                } else {
                    vec![c]
                }
            })
            .collect();
        assert!(
            crate::js_shape::VERBATIM.contains(&snake.as_str()),
            "the map field `{name}` is not in js_shape::VERBATIM: its keys would be renamed"
        );
        seen += 1;
    }
    assert!(
        seen > 0,
        "no map fields found: has ts-rs changed how it writes maps?"
    );
}
