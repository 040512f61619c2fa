//! The app-config resolver: the input is written as an app-config YAML file, loaded with
//! `app_config::load` and resolved with `plugin_database(&config, "catalog")`. Never a panic
//! or a hang; errors without control characters.
//!
//! The file lives in `$BACKSTAGE_BACKUP_FUZZ_TMP` (run.sh points it at a temp folder it removes),
//! else in a per-process folder under the system temp dir.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use backstage_backup_core::source::app_config;
use backstage_backup_fuzz::check_error;
use libfuzzer_sys::fuzz_target;

fn config_file() -> &'static PathBuf {
    static FILE: OnceLock<PathBuf> = OnceLock::new();
    FILE.get_or_init(|| {
        let base = std::env::var_os("BACKSTAGE_BACKUP_FUZZ_TMP")
            .map(PathBuf::from)
            .unwrap_or_else(std::env::temp_dir);
        let dir = base.join(format!("app-config-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create the fuzz temp folder");
        std::fs::write(dir.join("password.txt"), "from-file\n").expect("write password.txt");
        dir.join("app-config.yaml")
    })
}

fn resolve(file: &PathBuf, env: &dyn Fn(&str) -> Option<String>) {
    match app_config::load(std::slice::from_ref(file), env) {
        Ok(config) => match app_config::plugin_database(&config, "catalog") {
            Ok(db) => assert_eq!(db.plugin_id, "catalog"),
            Err(err) => check_error(&err),
        },
        Err(err) => check_error(&err),
    }
}

fuzz_target!(|data: &[u8]| {
    let file = config_file();
    std::fs::write(file, data).expect("write the app-config");
    // As the brief has it: no environment at all, so every ${VAR} is undefined...
    resolve(file, &|_| None);
    // ...and with some variables defined, so substitution itself runs.
    resolve(file, &|name| {
        (name.len() % 2 == 0).then(|| format!("v-{name}"))
    });
});
