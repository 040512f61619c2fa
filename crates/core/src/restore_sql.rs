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

/// The SQLSTATE psql printed for its first error: it runs with `VERBOSITY=verbose`, so an
/// error reads `psql:<stdin>:12: ERROR:  40P01: deadlock detected`.
pub fn first_sqlstate(psql_stderr: &str) -> Option<&str> {
    psql_stderr.lines().find_map(|line| {
        let after = &line[line.find("ERROR:")? + "ERROR:".len()..];
        let code = after.trim_start().get(..6)?.strip_suffix(':')?;
        code.bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
            .then_some(code)
    })
}

/// PostgreSQL's SQLSTATE for a transaction aborted to break a deadlock.
pub const DEADLOCK_DETECTED: &str = "40P01";

/// After load number `loads` (from 1) failed with `cause`: how long to wait before loading
/// again, when PostgreSQL aborted it to break a deadlock (the transaction rolled back, so the
/// target is unchanged) and attempts remain; `None` otherwise.
pub fn deadlock_retry_delay(
    loads: u32,
    cause: Option<crate::error::Cause>,
) -> Option<std::time::Duration> {
    (loads < DEADLOCK_ATTEMPTS && cause == Some(crate::error::Cause::Deadlock))
        .then(|| std::time::Duration::from_millis(500 * u64::from(loads)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deadlock_is_loaded_again_three_times_with_a_growing_pause() {
        use crate::error::Cause;
        let said = "psql:<stdin>:9: ERROR:  40P01: deadlock detected\nDETAIL:  Process 1 waits";
        assert_eq!(first_sqlstate(said), Some(DEADLOCK_DETECTED));
        let delays: Vec<_> = (1..=5)
            .map(|n| deadlock_retry_delay(n, Some(Cause::Deadlock)))
            .collect();
        let ms = |n| Some(std::time::Duration::from_millis(n));
        assert_eq!(delays, [ms(500), ms(1000), ms(1500), None, None]);
        assert_eq!(deadlock_retry_delay(1, None), None);
        assert_eq!(deadlock_retry_delay(1, Some(Cause::NoSpace)), None);
        let missing = "psql:<stdin>:3: ERROR:  42P01: relation \"x\" does not exist";
        assert_eq!(first_sqlstate(missing), Some("42P01"));
        // The words alone are not the code: a table named after them is no deadlock.
        let named = "psql:<stdin>:3: ERROR:  relation \"deadlock detected\" does not exist";
        assert_eq!(first_sqlstate(named), None);
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
