//! The SQL a restore sends around the dump, in its one transaction. Pure, so that both engines
//! (native and WebAssembly) send exactly the same.

/// Answers true when the server can compress TOASTed values with LZ4: PostgreSQL 14 or later
/// built with lz4 (Debian's and the official images are).
pub const LZ4_TOAST_PROBE: &str = "SELECT EXISTS (SELECT 1 FROM pg_settings \
     WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals))";

/// What goes to psql before the dump: session settings, `BEGIN`, the transaction's settings,
/// then the schemas a clean restore replaces (`drop_schemas`, already quoted identifiers).
/// `schema_mode`: the target is one plugin's schema (Backstage's schema division mode), whose
/// dump creates that schema itself; a whole-database dump expects `public` to exist.
pub fn prelude(drop_schemas: &[String], schema_mode: bool, lz4_toast: bool) -> String {
    // Notices (e.g. DROP … CASCADE's) would crowd the real error out of what psql prints.
    // psql splits the dump by these two settings, and the dump sanitizer assumes them: a server
    // or role default of `off` or a multibyte client encoding must not change how psql reads it.
    let mut sql = String::from(
        "SET client_min_messages = warning;\nSET standard_conforming_strings = on;\n\
         SET client_encoding = 'UTF8';\nBEGIN;\n",
    );
    // maintenance_work_mem stays the server's: raising it from PostgreSQL's default 64 MB to
    // 256 MB made the catalog's search index builds slower here (+3 to 4 s of ~28 s on the 200k
    // catalog, C.UTF-8 collation): one large in-memory sort is less cache-friendly than merged runs.
    // The catalog's large JSON columns are TOASTed: LZ4 compresses them several times faster
    // than the default pglz (refresh_state and final_entities load ~40% faster on 200k entities),
    // and reads them back faster. The values are the same; only how they are stored differs.
    if lz4_toast {
        sql.push_str("SET LOCAL default_toast_compression = 'lz4';\n");
    }
    // A running Backstage holding locks makes the restore fail after a minute, not hang.
    sql.push_str("SET LOCAL lock_timeout = '60s';\n");
    for schema in drop_schemas {
        sql.push_str(&format!("DROP SCHEMA {schema} CASCADE;\n"));
    }
    if !drop_schemas.is_empty() && !schema_mode {
        sql.push_str("CREATE SCHEMA public;\n");
    }
    sql
}

/// Loads a restore tries when PostgreSQL aborts it to break a deadlock with a live Backstage.
pub const DEADLOCK_ATTEMPTS: u32 = 4;

/// After load number `loads` (from 1) failed with `message`: how long to wait before loading
/// again, when PostgreSQL aborted it to break a deadlock (the transaction rolled back, so the
/// target is unchanged) and attempts remain; `None` otherwise. Both engines retry by this.
pub fn deadlock_retry_delay(loads: u32, message: &str) -> Option<std::time::Duration> {
    (loads < DEADLOCK_ATTEMPTS && message.contains("deadlock detected"))
        .then(|| std::time::Duration::from_millis(500 * u64::from(loads)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deadlock_is_loaded_again_three_times_with_a_growing_pause() {
        let deadlock = "ERROR:  deadlock detected\nDETAIL:  Process 1 waits for …";
        let delays: Vec<_> = (1..=5).map(|n| deadlock_retry_delay(n, deadlock)).collect();
        let ms = |n| Some(std::time::Duration::from_millis(n));
        assert_eq!(delays, [ms(500), ms(1000), ms(1500), None, None]);
        assert_eq!(
            deadlock_retry_delay(1, "ERROR:  relation does not exist"),
            None
        );
    }

    #[test]
    fn settings_come_inside_the_transaction_before_any_drop() {
        let sql = prelude(&["\"catalog\"".into()], true, true);
        let begin = sql.find("BEGIN;").unwrap();
        for setting in ["default_toast_compression", "lock_timeout"] {
            let at = sql.find(setting).unwrap();
            assert!(at > begin, "{setting} is outside the transaction:\n{sql}");
            assert!(
                sql[..at].ends_with("SET LOCAL "),
                "{setting} is not SET LOCAL:\n{sql}"
            );
        }
        assert!(
            sql.find("DROP SCHEMA \"catalog\" CASCADE;").unwrap()
                > sql.find("lock_timeout").unwrap()
        );
        assert!(!sql.contains("CREATE SCHEMA"));
    }

    #[test]
    fn psql_reads_the_dump_as_the_sanitizer_does() {
        let sql = prelude(&[], false, false);
        let begin = sql.find("BEGIN;").unwrap();
        for setting in [
            "SET standard_conforming_strings = on;\n",
            "SET client_encoding = 'UTF8';\n",
        ] {
            assert!(sql[..begin].contains(setting), "{setting} missing:\n{sql}");
        }
    }

    #[test]
    fn lz4_only_where_the_server_has_it_and_public_recreated_after_a_whole_database_drop() {
        let sql = prelude(&["public".into()], false, false);
        assert!(!sql.contains("lz4"), "{sql}");
        assert!(
            sql.ends_with("DROP SCHEMA public CASCADE;\nCREATE SCHEMA public;\n"),
            "{sql}"
        );
        // Nothing dropped (an empty target): nothing to recreate.
        let empty = prelude(&[], false, false);
        assert_eq!(empty.matches("BEGIN;").count(), 1);
        assert!(!empty.contains("SCHEMA"), "{empty}");
    }
}
