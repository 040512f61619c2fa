//! Every input the fuzzers (fuzz/, `fuzz/run.sh`) found breaking a property, replayed on stable
//! through the same functions the fuzz targets call. Properties: no panic; error messages and
//! anything shown to people carry no control characters; what parses is safe and round-trips.

use backstage_backup_core::manifest::{Digest, Manifest, MAX_MANIFEST_BYTES};
use backstage_backup_core::source::{app_config, ConnectionInfo};
use backstage_backup_core::store::StoreLocation;
use backstage_backup_core::verify::{problems, Expectations, StreamVerifier};
use backstage_backup_core::{Error, ErrorKind};

fn assert_printable(what: &str, text: &str) {
    assert!(
        !text.chars().any(char::is_control),
        "control character in {what}: {text:?}"
    );
}

fn assert_clean(err: &Error) {
    assert!(!err.message().is_empty());
    assert_printable("error message", err.message());
}

fn manifest_json(trigger_kind: &str, format: &str) -> String {
    serde_json::json!({
        "format": format,
        "id": "backstage-catalog-20261125_020000",
        "name": "backstage-catalog-20261125_020000.sql.gz",
        "database": {"name": "backstage_plugin_catalog", "plugin_id": "catalog", "replica": "r1"},
        "created_at": "2026-11-25T02:00:00Z",
        "finished_at": "2026-11-25T02:00:03.25Z",
        "tool_version": "0.1.0",
        "compression": {"algorithm": "gzip", "level": 6},
        "raw": {"bytes": 10, "sha256": "a".repeat(64)},
        "compressed": {"bytes": 5, "sha256": "b".repeat(64)},
        "trigger": {"kind": trigger_kind, "by": "user:default/jane"},
        "futureField": {"x": [1, 2.5, null, true]}
    })
    .to_string()
}

/// fuzz target `manifest`: serde's "unknown variant" message quoted the trigger kind as written,
/// so a manifest could put a bell or a terminal escape into the error.
#[test]
fn manifest_unknown_trigger_kind_with_control_characters() {
    let sane = manifest_json("manual", "backstage-backup/v1");
    Manifest::from_json(sane.as_bytes()).expect("the sample manifest parses");
    for kind in ["\u{7}manual", "\u{1b}[31mmanual", "man\nual", "\t"] {
        let err =
            Manifest::from_json(manifest_json(kind, "backstage-backup/v1").as_bytes()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Integrity, "{err}");
        assert!(err.message().contains("unknown variant"), "{err}");
        assert_clean(&err);
    }
}

/// Same path as the fuzzer's find, one branch earlier: a newer major format echoed as written.
#[test]
fn manifest_newer_format_with_control_characters() {
    let json = manifest_json("manual", "backstage-backup/v2.\u{1b}[2J\n");
    let err = Manifest::from_json(json.as_bytes()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    assert!(err.message().contains("upgrade backstage-backup"), "{err}");
    assert_clean(&err);
}

/// fuzz target `store_location`: a control character in the endpoint parameter (raw in the
/// query, or percent-encoded) was accepted and shown by `describe()`, which is meant for logs.
#[test]
fn store_url_parameters_with_control_characters() {
    for url in [
        // The fuzzer's input as found (a raw 0x06 in the query string).
        "s3://my-bucket/backstage/prod/?region=eu-west-1&endpoint=http://127.s3://bucket/0.0.a%20b/c?1:9000\u{6}sspe=AEat",
        "s3://bucket/x?endpoint=http://127.0.0.1:9000%0A",
        "s3://bucket/x?region=eu-west-1%1B[2J",
        "s3://bucket/x?sse=aws:kms&kms_key_id=alias%2Fk%07",
    ] {
        match StoreLocation::parse(url) {
            Ok(location) => panic!("{url:?} parsed as {location:?}"),
            Err(err) => {
                assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
                assert!(err.message().contains("control characters"), "{err}");
                assert_clean(&err);
            }
        }
    }
    // Still fine without them.
    let ok =
        StoreLocation::parse("s3://my-bucket/p?region=eu-west-1&endpoint=http://127.0.0.1:9000")
            .unwrap();
    assert_printable("description", &ok.describe());
}

/// fuzz target `manifest` (round trip): unknown fields nested deep are small as read but grow
/// many times over when written back indented, so a manifest that was accepted came out over the
/// size limit and was refused when read again (a 13 KB manifest became 1.5 MB).
#[test]
fn manifest_that_parses_always_reads_back() {
    let mut value: serde_json::Value =
        serde_json::from_str(&manifest_json("manual", "backstage-backup/v1")).unwrap();
    let mut deep = serde_json::Value::Array(vec![1.into(); 6000]);
    for _ in 0..120 {
        deep = serde_json::Value::Array(vec![deep]);
    }
    value["futureField"] = deep;
    let json = serde_json::to_vec(&value).unwrap();
    assert!(json.len() < 16 * 1024);
    match Manifest::from_json(&json) {
        Ok(manifest) => {
            let written = manifest.to_json();
            assert!(
                written.len() <= MAX_MANIFEST_BYTES,
                "{} bytes",
                written.len()
            );
            assert_eq!(Manifest::from_json(&written).unwrap(), manifest);
        }
        Err(err) => {
            assert_eq!(err.kind(), ErrorKind::Integrity, "{err}");
            assert_clean(&err);
        }
    }
    // A manifest with modest unknown fields still round-trips.
    value["futureField"] = serde_json::json!({"nested": [[1, 2], {"a": "b"}]});
    let json = serde_json::to_vec(&value).unwrap();
    let manifest = Manifest::from_json(&json).unwrap();
    assert_eq!(Manifest::from_json(&manifest.to_json()).unwrap(), manifest);
}

/// fuzz target `manifest` (round trip): serde_json's default float parsing is fast but not
/// correctly rounded, so a number in an unknown field came back different on every read and write
/// (`…332.5`, 73 digits, read as 3.333333333333334e72, then 3.3333333333333337e72; the nearest
/// double is 3.3333333333333333e72). Fixed by serde_json's `float_roundtrip` feature.
#[test]
fn manifest_unknown_float_fields_round_trip_exactly() {
    let number = format!("{}2.5", "3".repeat(72));
    let json = manifest_json("manual", "backstage-backup/v1").replace(
        "\"futureField\":{\"x\":[1,2.5,null,true]}",
        &format!("\"futureField\":{{\"x\":[0,{number},1e-7,0.1,null,true]}}"),
    );
    assert!(json.contains(&number), "{json}");
    let manifest = Manifest::from_json(json.as_bytes()).unwrap();
    let read = manifest.extra["futureField"]["x"][1].as_f64();
    assert_eq!(
        read,
        Some(3.333_333_333_333_333_3e72),
        "floats are not read exactly: serde_json needs its float_roundtrip feature"
    );
    let again = Manifest::from_json(&manifest.to_json()).unwrap();
    assert_eq!(again, manifest);
}

/// fuzz target `store_location`: `file://` paths skipped the control-character check that plain
/// paths get, and `describe()` showed them.
#[test]
fn file_store_paths_with_control_characters() {
    for url in ["file:///var/backups/baakst\u{4}age", "file://a\u{1b}[2Jb"] {
        let err = StoreLocation::parse(url).unwrap_err();
        assert!(err.message().contains("control characters"), "{err}");
        assert_clean(&err);
    }
    assert_eq!(
        StoreLocation::parse("file:///var/backups/backstage").unwrap(),
        StoreLocation::Local("/var/backups/backstage".into())
    );
}

/// fuzz target `store_location`: the prefix was decoded as a form value, so an '&' cut it short
/// (`s3://bucket/a&b` stored under `a`), and an escaped slash (`%2F`) made empty or '..'
/// segments after the checks had run (`s3://bucket/..%2Fetc` gave the prefix `../etc`).
#[test]
fn a_multi_byte_character_across_the_file_scheme_check_is_a_path_not_a_panic() {
    // store_location's crash input: the fifth byte falls inside "Ź" (two bytes).
    let input = std::str::from_utf8(&[
        13, 197, 185, 35, 46, 197, 185, 35, 46, 47, 47, 120, 47, 47, 120, 46,
    ])
    .unwrap();
    for text in [input, "ŹŹŹ", "fileŹ", "FILE:/x"] {
        match StoreLocation::parse(text) {
            Ok(location) => assert_printable("store description", &location.describe()),
            Err(err) => assert_clean(&err),
        }
    }
    assert_eq!(
        StoreLocation::parse(input).unwrap(),
        StoreLocation::Local("Ź#.Ź#.//x//x.".into())
    );
}

#[test]
fn s3_prefix_is_decoded_exactly_and_checked_after_decoding() {
    // The fuzzer's input as found: an '&' in the path (and NULs that url percent-encodes).
    let found = "s3://bucket/s3:[/bucket/&%10\t\0\0\0!ss\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0e=A/e=AES256";
    let err = StoreLocation::parse(found).unwrap_err();
    assert_clean(&err);

    let StoreLocation::S3(s3) = StoreLocation::parse("s3://bucket/team&co/prod").unwrap() else {
        panic!("not S3")
    };
    assert_eq!(s3.prefix, "team&co/prod");

    for url in [
        "s3://bucket/..%2Fetc",
        "s3://bucket/a/%2e%2e%2fb",
        "s3://bucket/a%2F%2Fb",
        "s3://bucket/%2Fa",
        "s3://bucket/a%2F",
        "s3://bucket/a/.%2Fb",
    ] {
        match StoreLocation::parse(url) {
            Ok(location) => panic!("{url:?} parsed as {location:?}"),
            Err(err) => {
                assert!(err.message().contains("segments"), "{url}: {err}");
                assert_clean(&err);
            }
        }
    }
    let StoreLocation::S3(s3) = StoreLocation::parse("s3://bucket/a%2Fb/c%20d").unwrap() else {
        panic!("not S3")
    };
    assert_eq!(s3.prefix, "a/b/c d");
}

/// fuzz target `database_url`: user, password and database were decoded as a form value, so an
/// '&' cut them short: `postgresql:/&nr\x7fimn` lost its database name, and a password with an
/// '&' in it was sent to the server truncated.
#[test]
fn database_url_parts_keep_ampersands() {
    let info = ConnectionInfo::from_url("postgresql:/&nr\u{7f}imn").unwrap();
    assert_eq!(info.database, "&nr\u{7f}imn");
    let info = ConnectionInfo::from_url(
        "postgresql://us&er:p&ss%26w0rd+x@db:5433/cat&log?sslmode=require",
    )
    .unwrap();
    assert_eq!(info.user, "us&er");
    assert_eq!(info.password(), Some("p&ss&w0rd+x"));
    assert_eq!(info.database, "cat&log");
    assert_eq!(info.port, 5433);
    assert_eq!(info.params["sslmode"], "require");
}

/// Writes `yaml` as an app-config file and resolves the catalog's database from it, as the
/// `app_config` fuzz target does.
fn resolve_app_config(yaml: &[u8]) -> Result<app_config::PluginDatabase, Error> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app-config.yaml");
    std::fs::write(&path, yaml).unwrap();
    let config = app_config::load(&[path], &|_| None)?;
    app_config::plugin_database(&config, "catalog")
}

/// fuzz target `app_config`: serde_yaml's "duplicate entry" message starts with the path of the
/// key as written, tabs and all.
#[test]
fn app_config_yaml_errors_with_control_characters() {
    let found = b"backe${n)e\t\t\t\t\xe2\x82\xaedatabase d:\n  database:\n    client: pg\n    pluginDbackend:\n  database:\n    client: pg\n    pluginDivisionMode: schivisionMode: schema\n #   prefix: asmeema\n #_\n      ";
    for yaml in [&found[..], b"a\tb:\n  x: 1\n  x: 2\n"] {
        let err = resolve_app_config(yaml).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
        assert!(err.message().contains("not valid YAML"), "{err}");
        assert_clean(&err);
    }
}

/// fuzz target `app_config`: a `$file` that cannot be read was named in the error as written,
/// tabs and carriage returns included.
#[test]
fn app_config_file_reference_with_control_characters() {
    let found = b"backend:\n  database:\n    connection:\n      host: {$env: HH}\n      p: 5433\n      password: {$file: passwoae\rI\t\tz\tM,}\n    ";
    for yaml in [
        &found[..],
        b"backend:\n  database:\n    connection:\n      password: {$file: \"pass\\tword\\e[2J.txt\"}\n",
    ] {
        let err = resolve_app_config(yaml).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
        assert!(err.message().contains("$file"), "{err}");
        assert_clean(&err);
    }
}

/// Two gzip members of a small plain dump, split as the `stream_verify` seed the fuzzer tripped
/// on was (that seed's `\unrestrict` had no `\restrict`, which the sanitizer now refuses).
fn two_members() -> Vec<u8> {
    use std::io::Write;
    let member = |text: &str| {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(text.as_bytes()).unwrap();
        gz.finish().unwrap()
    };
    let mut both =
        member("\\restrict abc\n--\n-- PostgreSQL database dump\n--\n\nCREATE TABLE t (x int);\n");
    both.extend(member(
        "\n--\n-- PostgreSQL database dump complete\n--\n\n\\unrestrict abc\n\n",
    ));
    both
}

/// fuzz target `stream_verify`: `problems` quoted the hashes a (tampered) manifest or sidecar
/// holds as they were, terminal escapes included.
#[test]
fn verify_problems_with_tampered_hashes() {
    let two_members = two_members();
    let split = 0x6e % (two_members.len() + 1);
    let mut verifier = StreamVerifier::new();
    verifier.push(&two_members[..split]).unwrap();
    verifier.push(&two_members[split..]).unwrap();
    let (check, _) = verifier.finish().unwrap();
    assert!(check.completion_line);
    let tampered = Digest {
        bytes: 3,
        sha256: "\u{1b}[m".to_string(),
    };
    let found = problems(
        &check,
        &Expectations {
            compressed: Some(tampered.clone()),
            raw: Some(tampered),
            sidecar_sha256: Some("\u{1b}[m\n".to_string()),
        },
    );
    assert_eq!(found.len(), 4, "{found:?}");
    for problem in &found {
        assert_printable("verify problem", problem);
    }
}
