//! The gate between a decompressed dump and psql. It splits the dump as psql (15+) does: lines,
//! quotes, comments, dollar quotes, statements ending in `;`, and COPY … FROM stdin data, and
//! refuses what a pg_dump of a catalog never holds but a planted dump would use to reach the
//! machine or the database server's operating system: psql meta-commands (`\!`, `\o |cmd`, …)
//! other than pg_dump's own `\restrict`/`\unrestrict`, and SQL such as `COPY … TO PROGRAM`,
//! untrusted languages, `ALTER SYSTEM`, server file functions or role changes.
//!
//! psql runs a meta-command as soon as it has read its line and sends a statement as soon as it
//! has read the line with its `;`, so a line is handed on only once it has been checked whole;
//! COPY data lines stream through once their first bytes show they do not end the data. After a
//! refusal nothing more is handed on. Pure: both engines run it inside `StreamVerifier`.

use crate::error::{Error, Result};
use crate::naming::printable;

/// The longest SQL line held back for checking; pg_dump's longest are a few KiB.
pub const MAX_SQL_LINE: usize = 16 << 20;

/// Extensions a restore may create: trusted, in-core or contrib, none reaches the OS.
pub const ALLOWED_EXTENSIONS: &[&str] = &[
    "plpgsql",
    "pg_trgm",
    "uuid-ossp",
    "pgcrypto",
    "citext",
    "btree_gin",
    "btree_gist",
    "hstore",
    "unaccent",
    "fuzzystrmatch",
];

/// Languages a restored function may be written in; others (C, internal, plpython3u, …) run
/// code of their own on the database server.
const ALLOWED_LANGUAGES: &[&str] = &["sql", "plpgsql"];

/// Functions, roles and settings that read or write the server's files, run programs, load
/// libraries or run SQL built from strings; refused wherever they appear, even in a string or
/// a function body.
const OS_NAMES: &[&str] = &[
    "lo_import",
    "lo_export",
    "pg_read_file",
    "pg_read_binary_file",
    "pg_stat_file",
    "pg_logdir_ls",
    "pg_execute_server_program",
    "pg_read_server_files",
    "pg_write_server_files",
    "query_to_xml",
    "query_to_xmlschema",
    "query_to_xml_and_xmlschema",
    "session_preload_libraries",
    "local_preload_libraries",
    "shared_preload_libraries",
    "dynamic_library_path",
];
const OS_PREFIXES: &[&str] = &["dblink", "pg_ls_", "pg_file_"];

/// Words refused inside string literals and dollar-quoted bodies: dynamic SQL (`EXECUTE`) would
/// hide any name above, and a function body's COPY may write files or run programs.
const BODY_WORDS: &[&str] = &["execute", "copy"];

/// Settings that change how psql splits what follows.
const LEXER_SETTINGS: &[&str] = &["standard_conforming_strings", "client_encoding"];

/// First words of statements that end or nest the restore's one transaction.
const TRANSACTION_WORDS: &[&str] = &[
    "begin",
    "start",
    "commit",
    "end",
    "rollback",
    "abort",
    "savepoint",
    "release",
    "prepare",
    "discard",
    "reset",
];

/// Statement tokens kept for the checks (the first few; never the statement text).
const KEPT_TOKENS: usize = 8;
/// Longest token text kept; longer names cannot be any the checks look for.
const KEPT_CHARS: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Word(String),
    Str(String),
    QIdent(String),
    Punct(u8),
    Other,
}

impl Tok {
    fn word(&self) -> Option<&str> {
        match self {
            Tok::Word(w) => Some(w),
            _ => None,
        }
    }
    fn is_word(&self, w: &str) -> bool {
        self.word() == Some(w)
    }
    /// A name given as a word, a quoted identifier or a string (`LANGUAGE 'sql'`).
    fn name(&self) -> Option<String> {
        match self {
            Tok::Word(w) => Some(w.clone()),
            Tok::QIdent(s) => Some(s.clone()),
            Tok::Str(s) => Some(s.to_ascii_lowercase()),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lex {
    Normal,
    LineComment,
    Block(u32),
    Quote,
    Ident,
    Dollar,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CopyAt {
    LineStart,
    Backslash,
    Dot,
    DotCr,
    Data,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CopySource {
    /// Not a COPY, or no FROM/TO seen yet.
    None,
    /// `FROM` seen: the next token is the source.
    AfterFrom,
    Stdin,
}

/// What is known of the statement being read (bounded, whatever its length).
#[derive(Debug, Default)]
struct Statement {
    line: u64,
    tokens: Vec<Tok>,
    count: usize,
    /// `CREATE [OR REPLACE] [TRUSTED] [PROCEDURAL] <kind>`: the kind word.
    create_kind: Option<String>,
    after_language: bool,
    /// 0: nothing; 1: `EXTENSION` seen, the name comes next (after IF NOT EXISTS).
    extension_name_next: bool,
    copy_source: Option<CopySource>,
    saw_on: bool,
    lexer_setting: bool,
    /// `set_config` seen: how much of `set_config('search_path',` followed.
    set_config: u8,
}

/// Scans the words of everything but comments for the names refused anywhere.
#[derive(Debug, Default)]
struct WordScan {
    word: Vec<u8>,
    too_long: bool,
}

/// Checks a dump as it streams and hands on only what was checked.
#[derive(Debug)]
pub struct DumpSanitizer {
    /// Number of the line being read, from 1.
    line: u64,
    held: Vec<u8>,
    copy: Option<CopyAt>,
    copy_line: u64,
    /// A COPY … FROM stdin ended on this line: its data starts on the next.
    copy_next_line: bool,
    lex: Lex,
    block_line: u64,
    tag: Vec<u8>,
    paren: u32,
    begin_depth: u32,
    idents: [u8; 4],
    ident_count: usize,
    words: WordScan,
    /// The first bytes of the string or quoted identifier being read.
    literal: Vec<u8>,
    stmt: Statement,
    restrict_key: Option<Vec<u8>>,
    unrestricted: bool,
    refused: bool,
}

impl Default for DumpSanitizer {
    fn default() -> Self {
        Self::new()
    }
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b >= 0x80
}

fn is_ident_cont(b: u8) -> bool {
    is_ident_start(b) || b.is_ascii_digit() || b == b'$'
}

fn is_dollar_tag_cont(b: u8) -> bool {
    is_ident_start(b) || b.is_ascii_digit()
}

fn kept(bytes: &[u8], lower: bool) -> String {
    let cut = &bytes[..bytes.len().min(KEPT_CHARS)];
    let text = String::from_utf8_lossy(cut).into_owned();
    if lower {
        text.to_ascii_lowercase()
    } else {
        text
    }
}

/// The dollar-quote delimiter (`$tag$`, tag possibly empty) starting at `line[i]`, if any.
fn dollar_delimiter(line: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    if j < line.len() && is_ident_start(line[j]) {
        j += 1;
        while j < line.len() && is_dollar_tag_cont(line[j]) {
            j += 1;
        }
    }
    (j < line.len() && line[j] == b'$').then_some(j + 1 - i)
}

impl DumpSanitizer {
    pub fn new() -> Self {
        DumpSanitizer {
            line: 1,
            held: Vec::new(),
            copy: None,
            copy_line: 0,
            copy_next_line: false,
            lex: Lex::Normal,
            block_line: 0,
            tag: Vec::new(),
            paren: 0,
            begin_depth: 0,
            idents: [0; 4],
            ident_count: 0,
            words: WordScan::default(),
            literal: Vec::new(),
            stmt: Statement::default(),
            restrict_key: None,
            unrestricted: false,
            refused: false,
        }
    }

    /// Checks `data`, handing every checked byte to `emit` in order. After an error nothing more
    /// is emitted, ever.
    pub fn push(&mut self, mut data: &[u8], emit: &mut dyn FnMut(&[u8])) -> Result<()> {
        if self.refused {
            return Err(Error::integrity("the dump was already refused"));
        }
        let result = (|| {
            while !data.is_empty() {
                if self.copy.is_some() {
                    data = self.copy_data(data, emit)?;
                } else {
                    let end = data.iter().position(|&b| b == b'\n');
                    let take = end.map_or(data.len(), |e| e + 1);
                    if self.held.len() + take > MAX_SQL_LINE {
                        return Err(self.refuse(format!(
                            "the line is longer than {} MiB, more than any pg_dump writes",
                            MAX_SQL_LINE >> 20
                        )));
                    }
                    self.held.extend_from_slice(&data[..take]);
                    data = &data[take..];
                    if end.is_some() {
                        let line = std::mem::take(&mut self.held);
                        self.sql_line(&line)?;
                        emit(&line);
                        self.held = line;
                        self.held.clear();
                        self.line += 1;
                        if self.copy_next_line {
                            self.copy_next_line = false;
                            self.copy = Some(CopyAt::LineStart);
                        }
                    }
                }
            }
            Ok(())
        })();
        if result.is_err() {
            self.refused = true;
        }
        result
    }

    /// The end of the dump: checks (and emits) a last line without a newline, and refuses a dump
    /// that ends inside COPY data, a quoted string, a comment or a statement.
    pub fn finish(&mut self, emit: &mut dyn FnMut(&[u8])) -> Result<()> {
        if self.refused {
            return Err(Error::integrity("the dump was already refused"));
        }
        let result = (|| {
            if self.copy.is_none() && !self.held.is_empty() {
                let line = std::mem::take(&mut self.held);
                self.sql_line(&line)?;
                emit(&line);
            }
            if self.copy_next_line {
                self.copy = Some(CopyAt::LineStart);
            }
            match self.copy {
                None => {}
                // psql ends COPY data at the end of its input too.
                Some(CopyAt::Dot) => emit(b"\\."),
                Some(_) => {
                    return Err(Error::integrity(format!(
                        "the dump ends inside the data of the COPY on line {}: it is truncated",
                        self.copy_line
                    )))
                }
            }
            let open = match self.lex {
                Lex::Normal | Lex::LineComment => None,
                Lex::Block(_) => Some(format!(
                    "a /* comment */ opened on line {}",
                    self.block_line
                )),
                Lex::Quote => Some("a quoted string".to_string()),
                Lex::Ident => Some("a quoted identifier".to_string()),
                Lex::Dollar => Some("a dollar-quoted string".to_string()),
            };
            if let Some(open) = open {
                return Err(Error::integrity(format!(
                    "the dump ends inside {open}: it is truncated or not a plain pg_dump file"
                )));
            }
            if self.stmt.count > 0 {
                return Err(Error::integrity(format!(
                    "the dump ends inside the statement that starts on line {}: it is truncated",
                    self.stmt.line
                )));
            }
            Ok(())
        })();
        if result.is_err() {
            self.refused = true;
        }
        result
    }

    fn refuse(&self, what: String) -> Error {
        Error::integrity(format!(
            "line {} of the dump {what}; refused before it reached psql (a catalog dump never holds \
             this: the backup may have been tampered with)",
            self.line
        ))
    }

    /// COPY data: forwards lines until `\.` alone on a line; returns what follows it.
    fn copy_data<'a>(&mut self, data: &'a [u8], emit: &mut dyn FnMut(&[u8])) -> Result<&'a [u8]> {
        let mut i = 0;
        while i < data.len() {
            let at = self.copy.expect("in COPY data");
            if at == CopyAt::Data {
                let rest = &data[i..];
                let end = rest.iter().position(|&b| b == b'\n');
                let span = &rest[..end.map_or(rest.len(), |e| e + 1)];
                if span.contains(&0) {
                    return Err(self.refuse("holds a NUL byte".to_string()));
                }
                emit(span);
                i += span.len();
                if end.is_some() {
                    self.line += 1;
                    self.copy = Some(CopyAt::LineStart);
                }
                continue;
            }
            let b = data[i];
            let next = match (at, b) {
                (CopyAt::LineStart, b'\\') => Some(CopyAt::Backslash),
                (CopyAt::Backslash, b'.') => Some(CopyAt::Dot),
                (CopyAt::Dot, b'\r') => Some(CopyAt::DotCr),
                (CopyAt::Dot | CopyAt::DotCr, b'\n') => {
                    emit(if at == CopyAt::Dot {
                        b"\\.\n"
                    } else {
                        b"\\.\r\n"
                    });
                    self.line += 1;
                    self.copy = None;
                    return Ok(&data[i + 1..]);
                }
                _ => None,
            };
            match next {
                Some(next) => {
                    self.copy = Some(next);
                    i += 1;
                }
                None => {
                    // Not the end marker: hand on what was held and go on as a data line.
                    let held: &[u8] = match at {
                        CopyAt::Backslash => b"\\",
                        CopyAt::Dot => b"\\.",
                        CopyAt::DotCr => b"\\.\r",
                        _ => b"",
                    };
                    emit(held);
                    self.copy = Some(CopyAt::Data);
                }
            }
        }
        Ok(&data[data.len()..])
    }

    fn words_byte(&mut self, b: u8, body: bool) -> Result<()> {
        if b.is_ascii_alphanumeric() || b == b'_' {
            if self.words.word.len() < KEPT_CHARS {
                self.words.word.push(b.to_ascii_lowercase());
            } else {
                self.words.too_long = true;
            }
            return Ok(());
        }
        self.words_end(body)
    }

    fn words_end(&mut self, body: bool) -> Result<()> {
        if self.words.word.is_empty() {
            return Ok(());
        }
        let too_long = std::mem::take(&mut self.words.too_long);
        let word = String::from_utf8_lossy(&self.words.word).into_owned();
        self.words.word.clear();
        if too_long {
            return Ok(());
        }
        let w = word.as_str();
        if OS_NAMES.contains(&w) || OS_PREFIXES.iter().any(|p| w.starts_with(p)) {
            return Err(self.refuse(format!(
                "names {w}, which reads or writes the database server's files, runs programs or \
                 loads code there"
            )));
        }
        if body && BODY_WORDS.contains(&w) {
            return Err(self.refuse(format!(
                "has {} inside a quoted string or function body, where it could run SQL that \
                 reaches the server's files or programs",
                w.to_ascii_uppercase()
            )));
        }
        if body && (LEXER_SETTINGS.contains(&w) || w == "set_config") {
            return Err(self.refuse(format!(
                "has {w} inside a quoted string or function body (it would change how psql reads \
                 the rest of the dump)"
            )));
        }
        Ok(())
    }

    /// One whole SQL-mode line (ending in `\n`, or the dump's last bytes).
    fn sql_line(&mut self, line: &[u8]) -> Result<()> {
        if line.contains(&0) {
            return Err(self.refuse("holds a NUL byte".to_string()));
        }
        let mut i = 0;
        let n = line.len();
        while i < n {
            let b = line[i];
            match self.lex {
                Lex::LineComment => {
                    // psql ends a -- comment at a carriage return too.
                    if b == b'\n' || b == b'\r' {
                        self.lex = Lex::Normal;
                    }
                    i += 1;
                }
                Lex::Block(depth) => {
                    if b == b'/' && line.get(i + 1) == Some(&b'*') {
                        self.lex = Lex::Block(depth + 1);
                        i += 2;
                    } else if b == b'*' && line.get(i + 1) == Some(&b'/') {
                        self.lex = if depth == 1 {
                            Lex::Normal
                        } else {
                            Lex::Block(depth - 1)
                        };
                        i += 2;
                    } else {
                        i += 1;
                    }
                }
                Lex::Quote => {
                    if b == b'\'' {
                        if line.get(i + 1) == Some(&b'\'') {
                            self.str_byte(b);
                            self.words_byte(b, true)?;
                            i += 2;
                        } else {
                            self.words_end(true)?;
                            self.lex = Lex::Normal;
                            let text = kept(&self.literal, false);
                            self.literal.clear();
                            self.token(Tok::Str(text))?;
                            i += 1;
                        }
                    } else {
                        self.str_byte(b);
                        self.words_byte(b, true)?;
                        i += 1;
                    }
                }
                Lex::Ident => {
                    if b == b'"' {
                        if line.get(i + 1) == Some(&b'"') {
                            self.str_byte(b);
                            self.words_byte(b, false)?;
                            i += 2;
                        } else {
                            self.words_end(false)?;
                            self.lex = Lex::Normal;
                            let text = kept(&self.literal, false);
                            self.literal.clear();
                            self.token(Tok::QIdent(text))?;
                            i += 1;
                        }
                    } else {
                        self.str_byte(b);
                        self.words_byte(b, false)?;
                        i += 1;
                    }
                }
                Lex::Dollar => {
                    if b == b'$' && line[i..].starts_with(&self.tag) {
                        self.words_end(true)?;
                        i += self.tag.len();
                        self.lex = Lex::Normal;
                        self.token(Tok::Other)?;
                    } else {
                        self.words_byte(b, true)?;
                        i += 1;
                    }
                }
                Lex::Normal => i = self.normal(line, i)?,
            }
        }
        self.words_end(self.lex != Lex::Normal && self.lex != Lex::Ident)?;
        // A statement still open at the line's end could be sent by psql at EOF as it is:
        // a GRANT without ON is already a grant of a role.
        if self.stmt.count > 0 && self.stmt.tokens[0].is_word("grant") && !self.stmt.saw_on {
            return Err(self.refuse("grants a role (GRANT without ON)".to_string()));
        }
        Ok(())
    }

    fn str_byte(&mut self, b: u8) {
        if self.literal.len() < KEPT_CHARS {
            self.literal.push(b);
        }
    }

    /// Normal SQL text at `line[i]`; returns where to go on.
    fn normal(&mut self, line: &[u8], i: usize) -> Result<usize> {
        let b = line[i];
        let next = line.get(i + 1).copied();
        let blank = matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c);
        if self.copy_next_line {
            // psql reads the COPY's data from the next line and runs the rest of this one after it.
            if blank {
                return Ok(i + 1);
            }
            if b == b'-' && next == Some(b'-') {
                self.lex = Lex::LineComment;
                return Ok(i + 2);
            }
            return Err(self.refuse(
                "has more after `COPY … FROM stdin;` on the same line, which psql would run after \
                 the data"
                    .to_string(),
            ));
        }
        if blank {
            return Ok(i + 1);
        }
        match b {
            b'-' if next == Some(b'-') => {
                self.lex = Lex::LineComment;
                Ok(i + 2)
            }
            b'/' if next == Some(b'*') => {
                self.lex = Lex::Block(1);
                self.block_line = self.line;
                Ok(i + 2)
            }
            b'\'' => {
                self.lex = Lex::Quote;
                Ok(i + 1)
            }
            b'"' => {
                self.lex = Lex::Ident;
                Ok(i + 1)
            }
            b'$' => {
                if next.is_some_and(|c| c.is_ascii_digit()) {
                    let mut j = i + 1;
                    while j < line.len() && line[j].is_ascii_digit() {
                        j += 1;
                    }
                    if j < line.len() && is_ident_start(line[j]) {
                        return Err(self.refuse(
                            "has a parameter directly followed by a letter, which psql versions \
                             split differently"
                                .to_string(),
                        ));
                    }
                    self.token(Tok::Other)?;
                    Ok(j)
                } else if let Some(len) = dollar_delimiter(line, i) {
                    self.tag = line[i..i + len].to_vec();
                    self.lex = Lex::Dollar;
                    Ok(i + len)
                } else {
                    self.token(Tok::Punct(b'$'))?;
                    Ok(i + 1)
                }
            }
            b'\\' => self.meta_command(line, i),
            b':' => {
                if next == Some(b':') {
                    self.token(Tok::Punct(b':'))?;
                    return Ok(i + 2);
                }
                if next.is_some_and(is_ident_start) {
                    let end = line[i + 1..]
                        .iter()
                        .position(|&c| !is_dollar_tag_cont(c))
                        .map_or(line.len(), |p| i + 1 + p);
                    let name = printable(&String::from_utf8_lossy(&line[i + 1..end.min(i + 33)]));
                    return Err(self.refuse(format!(
                        "has :{name}, which psql would replace with the value of its variable"
                    )));
                }
                self.token(Tok::Punct(b':'))?;
                Ok(i + 1)
            }
            b';' => {
                if self.paren == 0 && self.begin_depth == 0 {
                    self.end_statement()?;
                }
                Ok(i + 1)
            }
            b'(' => {
                self.token(Tok::Punct(b'('))?;
                self.paren += 1;
                Ok(i + 1)
            }
            b')' => {
                self.paren = self.paren.saturating_sub(1);
                self.token(Tok::Punct(b')'))?;
                Ok(i + 1)
            }
            b'0'..=b'9' => self.number(line, i),
            b'.' if next.is_some_and(|c| c.is_ascii_digit()) => self.number(line, i),
            _ if is_ident_start(b) => self.identifier(line, i),
            _ => {
                self.token(Tok::Punct(b))?;
                Ok(i + 1)
            }
        }
    }

    fn number(&mut self, line: &[u8], i: usize) -> Result<usize> {
        let n = line.len();
        let mut j = i;
        while j < n && (line[j].is_ascii_digit() || line[j] == b'.') {
            j += 1;
        }
        if j < n && (line[j] == b'e' || line[j] == b'E') {
            let mut k = j + 1;
            if k < n && (line[k] == b'+' || line[k] == b'-') {
                k += 1;
            }
            if k < n && line[k].is_ascii_digit() {
                while k < n && line[k].is_ascii_digit() {
                    k += 1;
                }
                j = k;
            }
        }
        if j < n && is_ident_start(line[j]) {
            return Err(self.refuse(
                "has a number directly followed by a letter, which psql versions split differently"
                    .to_string(),
            ));
        }
        self.token(Tok::Other)?;
        Ok(j)
    }

    fn identifier(&mut self, line: &[u8], i: usize) -> Result<usize> {
        let b = line[i].to_ascii_lowercase();
        let next = line.get(i + 1).copied();
        if b == b'e' && next == Some(b'\'') {
            return Err(self.refuse(
                "has an E'…' string, whose backslash escapes could spell any name; pg_dump never \
                 writes one"
                    .to_string(),
            ));
        }
        if b == b'u' && next == Some(b'&') && matches!(line.get(i + 2), Some(b'\'' | b'"')) {
            return Err(self.refuse(
                "has a U&'…' string or identifier, whose escapes could spell any name; pg_dump \
                 never writes one"
                    .to_string(),
            ));
        }
        if matches!(b, b'b' | b'x' | b'n') && next == Some(b'\'') {
            self.lex = Lex::Quote;
            return Ok(i + 2);
        }
        let mut j = i;
        while j < line.len() && is_ident_cont(line[j]) {
            j += 1;
        }
        for &c in &line[i..j] {
            self.words_byte(c, false)?;
        }
        self.words_end(false)?;
        let word = kept(&line[i..j], true);
        self.track_begin(&word);
        self.token(Tok::Word(word))?;
        Ok(j)
    }

    /// psql's own heuristic (psqlscan.l) for `CREATE FUNCTION … BEGIN ATOMIC … END`, whose inner
    /// semicolons do not end the statement: mirrored so both split statements alike.
    fn track_begin(&mut self, word: &str) {
        if self.ident_count == 0 {
            self.idents = [0; 4];
        }
        if matches!(word, "create" | "function" | "procedure" | "or" | "replace")
            && self.ident_count < self.idents.len()
        {
            self.idents[self.ident_count] = word.as_bytes()[0];
        }
        self.ident_count += 1;
        let id = self.idents;
        let in_routine = id[0] == b'c'
            && (id[1] == b'f'
                || id[1] == b'p'
                || (id[1] == b'o' && id[2] == b'r' && (id[3] == b'f' || id[3] == b'p')));
        if in_routine && self.paren == 0 {
            match word {
                "begin" => self.begin_depth += 1,
                "case" if self.begin_depth >= 1 => self.begin_depth += 1,
                "end" => self.begin_depth = self.begin_depth.saturating_sub(1),
                _ => {}
            }
        }
    }

    /// A backslash outside quotes and comments: a psql meta-command.
    fn meta_command(&mut self, line: &[u8], i: usize) -> Result<usize> {
        let rest = &line[i + 1..];
        let name_len = rest
            .iter()
            .position(|&c| c.is_ascii_whitespace() || c == b'\\')
            .unwrap_or(rest.len());
        let name = String::from_utf8_lossy(&rest[..name_len.min(32)]).into_owned();
        if i == 0 && self.stmt.count == 0 && (name == "restrict" || name == "unrestrict") {
            let body = line.strip_suffix(b"\n").unwrap_or(line);
            let body = body.strip_suffix(b"\r").unwrap_or(body);
            let key = body[1 + name.len()..].strip_prefix(b" ").unwrap_or(b"");
            if !key.is_empty() && key.len() <= 256 && key.iter().all(u8::is_ascii_alphanumeric) {
                if name == "restrict" {
                    if self.restrict_key.is_some() {
                        return Err(self.refuse("has a second \\restrict line".to_string()));
                    }
                    self.restrict_key = Some(key.to_vec());
                } else {
                    if self.unrestricted || self.restrict_key.as_deref() != Some(key) {
                        return Err(self.refuse(
                            "has an \\unrestrict line that does not match the dump's one \\restrict \
                             line"
                                .to_string(),
                        ));
                    }
                    self.unrestricted = true;
                }
                // psql forgets the statement's first words at a meta-command.
                self.ident_count = 0;
                return Ok(line.len());
            }
        }
        let shown = printable(&name);
        if name == "c" || name == "connect" {
            return Err(self.refuse(format!(
                "holds the psql meta-command \\{shown}, which would leave the restore's single \
                 transaction for a new session (a pg_dump -C or pg_dumpall file: dump the one \
                 database without -C)"
            )));
        }
        Err(self.refuse(format!(
            "holds the psql meta-command \\{shown}, which psql would run on this machine (only \
             pg_dump's own \\restrict and \\unrestrict lines are allowed)"
        )))
    }

    /// A token of the statement being read: the checks that can be decided from it.
    fn token(&mut self, tok: Tok) -> Result<()> {
        let paren = self.paren;
        let line = self.line;
        let s = &mut self.stmt;
        if s.count == 0 {
            s.line = line;
        }
        let idx = s.count;
        s.count += 1;
        if s.tokens.len() < KEPT_TOKENS {
            s.tokens.push(tok.clone());
        }
        let mut refusal: Option<String> = None;
        if let Some(w) = tok.word() {
            if LEXER_SETTINGS.contains(&w) {
                s.lexer_setting = true;
            }
        }
        // set_config(…) may set only search_path (pg_dump's first statement does).
        match s.set_config {
            0 if tok.is_word("set_config") => s.set_config = 1,
            0 => {}
            1 if tok == Tok::Punct(b'(') => s.set_config = 2,
            2 if tok == Tok::Str("search_path".into()) => s.set_config = 3,
            3 if tok == Tok::Punct(b',') => s.set_config = 0,
            _ => refusal = Some("calls set_config(…) for something other than search_path".into()),
        }
        let first = s.tokens[0].word().unwrap_or("").to_string();
        if idx == 0 {
            match first.as_str() {
                "do" => {
                    refusal = Some("has a DO block, which runs code pg_dump never writes".into())
                }
                "load" => refusal = Some("has LOAD, which loads a library into the server".into()),
                "copy" => s.copy_source = Some(CopySource::None),
                w if TRANSACTION_WORDS.contains(&w) => {
                    refusal = Some(format!(
                        "has {}, which would end or change the restore's one transaction",
                        w.to_ascii_uppercase()
                    ))
                }
                _ => {}
            }
        } else {
            let w = tok.word().unwrap_or("");
            match first.as_str() {
                "alter" | "drop" if idx == 1 => {
                    if first == "alter" && w == "system" {
                        refusal = Some(
                            "has ALTER SYSTEM, which rewrites the server's configuration".into(),
                        );
                    } else if matches!(w, "role" | "user" | "group") {
                        refusal = Some(format!(
                            "changes a role ({} {})",
                            first.to_ascii_uppercase(),
                            w.to_ascii_uppercase()
                        ));
                    }
                }
                "create" => {
                    if s.create_kind.is_none() {
                        if !matches!(w, "or" | "replace" | "trusted" | "procedural") {
                            s.create_kind = Some(w.to_string());
                            match w {
                                "language" => {
                                    refusal = Some("creates a procedural language".into())
                                }
                                "role" | "user" | "group" => {
                                    refusal = Some(format!(
                                        "changes a role (CREATE {})",
                                        w.to_ascii_uppercase()
                                    ))
                                }
                                "extension" => s.extension_name_next = true,
                                _ => {}
                            }
                        }
                    } else if s.extension_name_next {
                        if !matches!(w, "if" | "not" | "exists") {
                            s.extension_name_next = false;
                            let name = tok.name().unwrap_or_default();
                            if !ALLOWED_EXTENSIONS.contains(&name.as_str()) {
                                refusal = Some(format!(
                                    "creates the extension {}, which is not one of {}",
                                    printable(&name),
                                    ALLOWED_EXTENSIONS.join(", ")
                                ));
                            }
                        }
                    } else if matches!(s.create_kind.as_deref(), Some("function" | "procedure")) {
                        if s.after_language {
                            s.after_language = false;
                            let name = tok.name().unwrap_or_default();
                            if !ALLOWED_LANGUAGES.contains(&name.as_str()) {
                                refusal = Some(format!(
                                    "creates a function in LANGUAGE {}, which runs code on the \
                                     server (only sql and plpgsql are allowed)",
                                    printable(&name)
                                ));
                            }
                        } else if paren == 0 && w == "language" {
                            s.after_language = true;
                        }
                    }
                }
                "copy" => {
                    if w == "binary" {
                        refusal = Some("has a binary COPY, which pg_dump never writes".into());
                    } else if paren == 0 {
                        match s.copy_source {
                            Some(CopySource::None) if w == "to" => {
                                refusal = Some(
                                    "has COPY … TO, which writes a server file or runs a program"
                                        .into(),
                                )
                            }
                            Some(CopySource::None) if w == "from" => {
                                s.copy_source = Some(CopySource::AfterFrom)
                            }
                            Some(CopySource::AfterFrom) => {
                                if w == "stdin" {
                                    s.copy_source = Some(CopySource::Stdin);
                                } else {
                                    refusal = Some(
                                        "has COPY … FROM a server file or PROGRAM (only FROM \
                                         stdin is allowed)"
                                            .into(),
                                    );
                                }
                            }
                            _ => {}
                        }
                    }
                }
                "grant" if paren == 0 && w == "on" => s.saw_on = true,
                "set" if idx == 1 && w == "names" => s.lexer_setting = true,
                _ => {}
            }
        }
        match refusal {
            Some(what) => Err(self.refuse(what)),
            None => Ok(()),
        }
    }

    /// A `;` that ends the statement for psql: the checks that need all of it.
    fn end_statement(&mut self) -> Result<()> {
        let s = std::mem::take(&mut self.stmt);
        self.ident_count = 0;
        if s.count == 0 {
            return Ok(());
        }
        let first = s.tokens[0].word().unwrap_or("");
        if s.lexer_setting && !harmless_setting(&s) {
            return Err(self.refuse(
                "changes standard_conforming_strings or client_encoding, which would make psql \
                 read the rest of the dump differently (only SET standard_conforming_strings = on \
                 and SET client_encoding = 'UTF8' are allowed)"
                    .to_string(),
            ));
        }
        if s.set_config != 0 {
            return Err(
                self.refuse("calls set_config(…) for something other than search_path".to_string())
            );
        }
        if first == "grant" && !s.saw_on {
            return Err(self.refuse("grants a role (GRANT without ON)".to_string()));
        }
        match s.copy_source {
            None => {}
            Some(CopySource::Stdin) => {
                self.copy_next_line = true;
                self.copy_line = self.line;
            }
            Some(_) => {
                return Err(self.refuse(
                    "has a COPY that is not COPY … FROM stdin, which reads or writes server files"
                        .to_string(),
                ))
            }
        }
        Ok(())
    }
}

/// `SET [SESSION|LOCAL] standard_conforming_strings {=|TO} on`, `SET client_encoding … UTF8`
/// or `SET NAMES 'UTF8'`, and nothing else.
fn harmless_setting(s: &Statement) -> bool {
    let t = &s.tokens;
    if s.count > t.len() || !t[0].is_word("set") {
        return false;
    }
    let mut k = 1;
    if t.get(k)
        .is_some_and(|t| t.is_word("session") || t.is_word("local"))
    {
        k += 1;
    }
    let Some(name) = t.get(k).and_then(Tok::word) else {
        return false;
    };
    let (value, end) = if name == "names" {
        (t.get(k + 1), k + 2)
    } else {
        let op = t.get(k + 1);
        if !op.is_some_and(|op| *op == Tok::Punct(b'=') || op.is_word("to")) {
            return false;
        }
        (t.get(k + 2), k + 3)
    };
    if s.count != end {
        return false;
    }
    let Some(value) = value.and_then(Tok::name) else {
        return false;
    };
    match name {
        "standard_conforming_strings" => value == "on",
        "client_encoding" | "names" => matches!(value.as_str(), "utf8" | "utf-8" | "unicode"),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// pg_dump 15.14+'s header (10 lines): the first line of a test body is line 11.
    const HEAD: &str = "--\n-- PostgreSQL database dump\n--\n\n\\restrict K3y\n\n\
        SET statement_timeout = 0;\nSET client_encoding = 'UTF8';\n\
        SET standard_conforming_strings = on;\n\
        SELECT pg_catalog.set_config('search_path', '', false);\n";
    const TAIL: &str = "\n--\n-- PostgreSQL database dump complete\n--\n\n\\unrestrict K3y\n\n";

    fn run(dump: &[u8], size: usize) -> (Result<()>, Vec<u8>) {
        let mut s = DumpSanitizer::new();
        let mut out = Vec::new();
        for chunk in dump.chunks(size) {
            if let Err(e) = s.push(chunk, &mut |b| out.extend_from_slice(b)) {
                // Refused for good: nothing more gets through.
                assert!(s.push(b"SELECT 1;\n", &mut |_| panic!("emitted")).is_err());
                return (Err(e), out);
            }
        }
        let r = s.finish(&mut |b| out.extend_from_slice(b));
        (r, out)
    }

    /// The verdict on a whole dump, the same in chunks of every size (1 byte included). A
    /// refused dump has handed on only whole lines before the refused one.
    fn verdict(dump: &str) -> Result<(), String> {
        let mut seen: Option<Result<(), String>> = None;
        for size in [1, 2, 3, 7, 64, 4096, dump.len().max(1)] {
            let (r, out) = run(dump.as_bytes(), size);
            match &r {
                Ok(()) => assert_eq!(out, dump.as_bytes(), "not handed on byte for byte"),
                Err(e) => {
                    assert!(dump.as_bytes().starts_with(&out));
                    if !e.message().contains("NUL") {
                        assert!(
                            out.is_empty() || out.ends_with(b"\n"),
                            "{:?}",
                            String::from_utf8_lossy(&out)
                        );
                    }
                    let line = e
                        .message()
                        .split(' ')
                        .nth(1)
                        .and_then(|n| n.parse::<usize>().ok());
                    if let Some(line) = line {
                        let lines_out = out.iter().filter(|&&b| b == b'\n').count();
                        assert!(lines_out < line, "line {line} was handed on: {e}");
                    }
                }
            }
            let r = r.map_err(|e| e.message().to_string());
            match &seen {
                Some(prev) => assert_eq!(prev, &r, "chunk size {size} of {dump:?}"),
                None => seen = Some(r),
            }
        }
        seen.unwrap()
    }

    fn accepted(body: &str) {
        let dump = format!("{HEAD}{body}{TAIL}");
        if let Err(e) = verdict(&dump) {
            panic!("{body:?} was refused: {e}");
        }
    }

    /// Refused, naming `line` (of the body; 1 is the first) and saying `needle`.
    fn refused(body: &str, line: usize, needle: &str) {
        let dump = format!("{HEAD}{body}{TAIL}");
        let msg = verdict(&dump).expect_err(body);
        assert!(
            msg.starts_with(&format!("line {} of the dump ", line + 10)),
            "{body:?}: {msg}"
        );
        assert!(msg.contains(needle), "{body:?}: {msg}");
        assert!(!msg.chars().any(char::is_control), "{msg}");
    }

    #[test]
    fn a_plain_dump_passes_byte_for_byte() {
        accepted(
            "CREATE TABLE public.t (x integer, y text DEFAULT ''::text);\n\
             ALTER TABLE public.t OWNER TO postgres;\n\
             COPY public.t (x, y) FROM stdin;\n1\t\\N\n2\t\\\\! not a command\n\\N\tx\n\\.\n\n\
             SELECT pg_catalog.setval('public.s', 1, false);\n\
             ALTER TABLE ONLY public.t ADD CONSTRAINT t_pkey PRIMARY KEY (x);\n\
             GRANT ALL ON TABLE public.t TO PUBLIC;\n\
             COMMENT ON EXTENSION plpgsql IS 'PL/pgSQL procedural language';\n\
             SET default_table_access_method = heap;\nSET SESSION AUTHORIZATION DEFAULT;\n",
        );
    }

    #[test]
    fn copy_data_is_data_until_backslash_dot_alone() {
        // Lines that only look like the end marker, or like commands, are data.
        accepted("COPY t (x) FROM stdin;\n\\.x\n\\\\.\n \\.\n\\! id\n\\o |id\n\\.\n");
        accepted("COPY t (x) FROM stdin;\r\n1\r\n\\.\r\n");
        accepted("COPY t (x) FROM STDIN WITH (FORMAT csv);\n\"a\",\"\\\"\n\\.\n");
        // An empty table's data: the marker straight away.
        accepted("COPY t (x) FROM stdin;\n\\.\nSELECT 1;\n");
        accepted("COPY t (x) FROM stdin; -- a comment may follow\n\\.\n");
        // After the marker psql reads SQL again, and so does the check.
        refused("COPY t (x) FROM stdin;\n1\n\\.\n\\! id\n", 4, "\\!");
        refused("COPY t (x) FROM stdin;\r\n1\r\n\\.\r\n\\! id\r\n", 4, "\\!");
    }

    #[test]
    fn meta_commands_are_refused_wherever_psql_would_run_them() {
        refused("\\! id > /tmp/pwned\n", 1, "meta-command \\!");
        refused("SELECT 1 \\g |id\n", 1, "\\g");
        refused("SELECT 1;\\! id\n", 1, "\\!");
        refused("SELECT 1; \\! id\n", 1, "\\!");
        refused("SELECT 1\n\\! id\n;\n", 2, "\\!");
        refused("  \\! id\n", 1, "\\!");
        refused("\\o |id\n", 1, "\\o");
        refused("\\copy t from program 'id'\n", 1, "\\copy");
        refused("\\set x 1\n", 1, "\\set");
        refused("SELECT 'x' \\gexec\n", 1, "\\gexec");
        refused("\\i /etc/passwd\n", 1, "\\i");
        refused("\\setenv PAGER id\n", 1, "\\setenv");
        refused("\\echo `id`\n", 1, "\\echo");
        refused("SELECT 1 \\; SELECT 2;\n", 1, "\\;");
        refused("SELECT 'x'; \\! id\n", 1, "\\!");
        refused("SELECT $$a$$ \\! id;\n", 1, "\\!");
        refused("/* a */ \\! id\n", 1, "\\!");
        refused("SELECT \"a\" \\! id\n", 1, "\\!");
        // psql ends a -- comment at a carriage return.
        refused("-- x\r\\! id\n", 1, "\\!");
        refused("COPY t (x) FROM stdin; \\! id\n\\.\n", 1, "after `COPY");
        refused("COPY t (x) FROM stdin; SELECT 1;\n\\.\n", 1, "after `COPY");
        refused("\\connect other\n", 1, "\\connect");
        refused("\\c other\n", 1, "single transaction");
        refused("\\\n", 1, "meta-command");
        // The printed name is escaped and short.
        refused("\\\x1b[2Jx\n", 1, "\\u{1b}");
    }

    #[test]
    fn backslashes_inside_quotes_comments_and_bodies_are_text() {
        accepted("SELECT 'a\\b', 'it''s \\! x';\n");
        accepted("SELECT $$ \\! $$, $f$ $$ \\o $f$;\n");
        accepted("SELECT 1 -- \\! a comment\n;\n");
        accepted("/* \\! /* nested */ still \\o */ SELECT 1;\n");
        accepted("SELECT \"a\\b\" FROM \"x\"\"\\y\";\n");
        accepted("SELECT 'multi\nline \\! still a string\n';\n");
        accepted("SELECT $body$\n\\! inside\n$body$;\n");
        accepted("SELECT B'0101', X'1f', N'x\\';\n");
        accepted("SELECT 'a'\n'b';\n");
        accepted("SELECT $a1$ x $a1$, a$b$, x::text, a[1:2] FROM t;\n");
        accepted("SELECT 1.5e+10, .5, $1;\n");
        accepted(
            "CREATE FUNCTION public.h() RETURNS integer LANGUAGE sql\nBEGIN ATOMIC\n SELECT 1;\n SELECT 2;\nEND;\n",
        );
        // `a$b$` is one identifier, not the start of a dollar quote.
        refused("SELECT a$b$ \\! id\n", 1, "\\!");
    }

    #[test]
    fn what_would_desync_psql_and_the_check_is_refused() {
        refused(
            "COPY (SELECT 1 AS stdin) TO STDOUT;\n\\! id\n",
            1,
            "COPY … TO",
        );
        refused("SELECT E'\\' ; \\! id';\n", 1, "E'");
        refused("SELECT U&'\\0070g_read_file';\n", 1, "U&");
        refused("SELECT 1e'x';\n", 1, "number directly followed");
        refused("SELECT $1a$b$;\n", 1, "parameter directly followed");
        refused("SELECT :DBNAME;\n", 1, ":DBNAME");
        refused("SELECT 1\0;\n", 1, "NUL");
        refused("COPY t (x) FROM stdin;\n1\0\n\\.\n", 2, "NUL");
        refused("COPY BINARY t FROM stdin;\n", 1, "binary");
        refused(
            "SET standard_conforming_strings = off;\n",
            1,
            "standard_conforming_strings",
        );
        refused(
            "SET standard_conforming_strings TO 'off';\n",
            1,
            "standard_conforming_strings",
        );
        refused(
            "SET LOCAL standard_conforming_strings = on, x;\n",
            1,
            "standard_conforming_strings",
        );
        refused("RESET standard_conforming_strings;\n", 1, "RESET");
        refused("RESET ALL;\n", 1, "RESET");
        refused("DISCARD ALL;\n", 1, "DISCARD");
        refused(
            "SELECT set_config('standard_conforming_strings', 'off', false);\n",
            1,
            "inside a quoted string",
        );
        refused(
            "SELECT set_config('standard_' || 'conforming_strings', 'off', false);\n",
            1,
            "set_config",
        );
        refused("SELECT set_config(x, 'off', false);\n", 1, "set_config");
        refused("SET client_encoding = 'SJIS';\n", 1, "client_encoding");
        refused("SET NAMES 'BIG5';\n", 1, "client_encoding");
        refused(
            "SET SESSION client_encoding TO 'GBK';\n",
            1,
            "client_encoding",
        );
        accepted("SET client_encoding TO utf8;\nSET NAMES 'UTF8';\nSET SESSION standard_conforming_strings TO on;\n");
    }

    #[test]
    fn sql_that_reaches_the_operating_system_is_refused() {
        for (body, needle) in [
            ("COPY t FROM PROGRAM 'id';\n", "PROGRAM"),
            ("COPY t (x) TO PROGRAM 'id';\n", "COPY … TO"),
            ("COPY t FROM '/etc/passwd';\n", "server file"),
            ("copy t to '/tmp/x';\n", "COPY … TO"),
            ("CREATE LANGUAGE plpython3u;\n", "language"),
            ("CREATE OR REPLACE TRUSTED PROCEDURAL LANGUAGE plperlu;\n", "language"),
            ("CREATE FUNCTION f() RETURNS int LANGUAGE c AS '/tmp/x.so', 'f';\n", "LANGUAGE c"),
            ("CREATE FUNCTION f() RETURNS int AS 'x' LANGUAGE 'plpython3u';\n", "plpython3u"),
            ("CREATE PROCEDURE p() LANGUAGE internal AS 'x';\n", "LANGUAGE internal"),
            ("ALTER SYSTEM SET archive_command = 'id';\n", "ALTER SYSTEM"),
            ("LOAD '/tmp/x.so';\n", "LOAD"),
            ("DO $$ BEGIN PERFORM 1; END $$;\n", "DO block"),
            ("CREATE EXTENSION adminpack;\n", "adminpack"),
            ("CREATE EXTENSION IF NOT EXISTS \"file_fdw\";\n", "file_fdw"),
            ("CREATE ROLE evil SUPERUSER;\n", "role"),
            ("ALTER USER postgres PASSWORD 'x';\n", "role"),
            ("DROP GROUP x;\n", "role"),
            ("GRANT admin TO bob;\n", "GRANT without ON"),
            ("ALTER DATABASE x SET session_preload_libraries = 'evil';\n", "session_preload_libraries"),
            ("SET dynamic_library_path = '/tmp';\n", "dynamic_library_path"),
            ("SELECT lo_import('/etc/passwd');\n", "lo_import"),
            ("SELECT pg_catalog.PG_READ_FILE('/etc/passwd');\n", "pg_read_file"),
            ("SELECT pg_ls_dir('.');\n", "pg_ls_dir"),
            ("SELECT dblink_exec('x', 'y');\n", "dblink_exec"),
            ("SELECT \"pg_read_binary_file\"('/x');\n", "pg_read_binary_file"),
            ("GRANT pg_execute_server_program TO x;\n", "pg_execute_server_program"),
            ("SELECT query_to_xml('SELECT 1', true, true, '');\n", "query_to_xml"),
            ("CREATE FUNCTION f() RETURNS text LANGUAGE sql AS $$ SELECT pg_read_file('/etc/passwd') $$;\n", "pg_read_file"),
            ("CREATE FUNCTION f() RETURNS text LANGUAGE sql AS 'SELECT lo_export(1, ''/tmp/x'')';\n", "lo_export"),
            ("CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$ BEGIN EXECUTE 'x'; END $$;\n", "EXECUTE"),
            ("CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$ BEGIN COPY t TO PROGRAM 'id'; END $$;\n", "COPY"),
            ("COMMIT;\n", "COMMIT"),
            ("BEGIN;\n", "BEGIN"),
            ("END;\n", "END"),
            ("ROLLBACK;\n", "ROLLBACK"),
            ("START TRANSACTION;\n", "START"),
            ("PREPARE TRANSACTION 'x';\n", "PREPARE"),
        ] {
            refused(body, 1, needle);
        }
        // Decided on the line that makes it dangerous, before that line reaches psql.
        refused("copy t from\nprogram 'id';\n", 2, "PROGRAM");
        refused(
            "CREATE FUNCTION f() RETURNS int\n    LANGUAGE c\n    AS 'x';\n",
            2,
            "LANGUAGE c",
        );
        accepted("CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;\n");
        accepted("CREATE FUNCTION public.f() RETURNS integer LANGUAGE sql AS $$ SELECT 1 $$;\n");
        accepted("CREATE FUNCTION public.g(language text) RETURNS integer\n    LANGUAGE plpgsql\n    AS $_$ BEGIN RETURN 1; END $_$;\n");
    }

    #[test]
    fn restrict_lines_are_pg_dumps_own_only() {
        let ok = "\\restrict abc\nSELECT 1;\n\\unrestrict abc\n";
        assert_eq!(verdict(ok), Ok(()));
        let wrong = verdict("\\restrict abc\n\\unrestrict abd\n").unwrap_err();
        assert!(
            wrong.starts_with("line 2 ") && wrong.contains("does not match"),
            "{wrong}"
        );
        assert!(verdict("\\unrestrict abc\n").is_err());
        assert!(verdict("\\restrict abc\n\\restrict abc\n")
            .unwrap_err()
            .contains("second"));
        assert!(verdict("\\restrict abc\n\\unrestrict abc\n\\unrestrict abc\n").is_err());
        assert!(verdict("\\restrict abc \\! id\n")
            .unwrap_err()
            .contains("\\restrict"));
        assert!(verdict("SELECT 1 \\restrict abc\n").is_err());
    }

    #[test]
    fn a_dump_that_ends_inside_something_is_refused() {
        for (dump, needle) in [
            (
                "COPY t (x) FROM stdin;\n1\n",
                "inside the data of the COPY on line 1",
            ),
            ("COPY t (x) FROM stdin;\n", "inside the data"),
            ("SELECT $$x\n", "dollar-quoted"),
            ("SELECT 'x\n", "quoted string"),
            ("/* x\n", "comment"),
            ("SELECT 1\n", "statement that starts on line 1"),
        ] {
            let msg = verdict(dump).unwrap_err();
            assert!(msg.contains(needle), "{dump:?}: {msg}");
        }
        // A last line without a newline is checked as well.
        assert!(verdict("SELECT 1;\n\\! id").is_err());
        assert_eq!(verdict("SELECT 1;\n-- end"), Ok(()));
        assert_eq!(verdict("COPY t (x) FROM stdin;\n1\n\\."), Ok(()));
    }

    #[test]
    fn an_overlong_line_is_refused_and_long_copy_rows_stream() {
        let mut dump = b"SELECT '".to_vec();
        dump.resize(MAX_SQL_LINE + 10, b'x');
        let (r, out) = run(&dump, 1 << 20);
        assert!(r.unwrap_err().message().contains("longer than 16 MiB"));
        assert!(out.is_empty());
        // A 20 MiB COPY row is handed on as it comes, not held.
        let mut s = DumpSanitizer::new();
        let mut out = 0usize;
        s.push(b"COPY t (x) FROM stdin;\n", &mut |b| out += b.len())
            .unwrap();
        let row = vec![b'y'; 1 << 20];
        for _ in 0..20 {
            let before = out;
            s.push(&row, &mut |b| out += b.len()).unwrap();
            assert_eq!(out - before, row.len());
        }
        s.push(b"\n\\.\n", &mut |b| out += b.len()).unwrap();
        s.finish(&mut |_| {}).unwrap();
    }
}
