//! Bulk loading trick for the big tables: drop a table's secondary indexes and
//! outgoing foreign keys before its COPY and re-run the schema's own
//! statements afterwards (in the same transaction). One sorted index build and
//! one validating join are much faster than maintaining three indexes and an
//! RI trigger row by row; the resulting schema is exactly the same.

/// The statements to run around the load of one table.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Deferred {
    pub drops: Vec<String>,
    pub creates: Vec<String>,
}

/// Statements of a pg_dump script, comments and blank lines removed.
fn statements(sql: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in sql.lines() {
        if current.is_empty() && (line.starts_with("--") || line.trim().is_empty()) {
            continue;
        }
        if !current.is_empty() {
            current.push('\n');
        }
        current.push_str(line);
        if line.trim_end().ends_with(';') {
            out.push(std::mem::take(&mut current));
        }
    }
    out
}

fn word_after<'a>(text: &'a str, marker: &str) -> Option<&'a str> {
    let rest = &text[text.find(marker)? + marker.len()..];
    rest.split_whitespace().next()
}

/// Secondary indexes and outgoing foreign keys of `public.<table>` in `schema_sql`.
pub fn for_table(schema_sql: &str, table: &str) -> Deferred {
    let mut d = Deferred::default();
    let on_table = format!(" ON public.{table} USING ");
    let alter = format!("ALTER TABLE ONLY public.{table}\n");
    for stmt in statements(schema_sql) {
        if (stmt.starts_with("CREATE INDEX ") || stmt.starts_with("CREATE UNIQUE INDEX "))
            && stmt.contains(&on_table)
        {
            if let Some(name) = word_after(&stmt, "INDEX ") {
                d.drops.push(format!("DROP INDEX public.{name}"));
                d.creates.push(stmt);
            }
        } else if stmt.starts_with(&alter) && stmt.contains(" FOREIGN KEY ") {
            if let Some(name) = word_after(&stmt, "ADD CONSTRAINT ") {
                d.drops
                    .push(format!("ALTER TABLE public.{table} DROP CONSTRAINT {name}"));
                d.creates.push(stmt);
            }
        }
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CATALOG_SCHEMA_SQL;

    #[test]
    fn finds_the_search_and_relations_indexes_and_keys() {
        let search = for_table(CATALOG_SCHEMA_SQL, "search");
        assert_eq!(search.drops.len(), 4, "{search:?}");
        assert!(search
            .drops
            .contains(&"DROP INDEX public.search_entity_key_value_idx".to_string()));
        assert!(search.drops.contains(
            &"ALTER TABLE public.search DROP CONSTRAINT search_entity_id_foreign".to_string()
        ));
        assert!(search
            .creates
            .iter()
            .any(|c| c.starts_with("CREATE UNIQUE INDEX search_entity_key_value_idx")));
        let relations = for_table(CATALOG_SCHEMA_SQL, "relations");
        assert_eq!(relations.drops.len(), 4, "{relations:?}");
        assert!(for_table(CATALOG_SCHEMA_SQL, "no_such_table")
            .drops
            .is_empty());
    }
}
