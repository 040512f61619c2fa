//! `BackupName::parse_id` and `parse_key`: never a panic, errors without control characters, and
//! what parses round-trips exactly (`parse_id(name.id()) == name`, `name.key(part) == key`).
#![no_main]

use backstage_backup_core::naming::{validate_plugin_id, BackupName, Part, DATA_SUFFIX};
use backstage_backup_fuzz::{check_error, check_text};
use libfuzzer_sys::fuzz_target;

fn check_name(name: &BackupName) {
    let id = name.id();
    check_text("backup id", &id);
    assert!(
        !id.contains('/') && !id.contains('\\') && !id.contains(".."),
        "{id:?}"
    );
    assert!(validate_plugin_id(&name.plugin_id).is_ok(), "{id:?}");
    assert_eq!(
        BackupName::parse_id(&id).as_ref(),
        Ok(name),
        "id {id:?} does not round-trip"
    );
    for part in Part::ALL {
        let key = name.key(part);
        assert_eq!(
            BackupName::parse_key(&key),
            Some((name.clone(), part)),
            "key {key:?} does not round-trip"
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match BackupName::parse_id(text) {
        Ok(name) => {
            assert_eq!(name.id(), text.strip_suffix(DATA_SUFFIX).unwrap_or(text));
            check_name(&name);
        }
        Err(err) => check_error(&err),
    }
    if let Some((name, part)) = BackupName::parse_key(text) {
        assert_eq!(name.key(part), text, "key {text:?} is not canonical");
        check_name(&name);
    }
});
