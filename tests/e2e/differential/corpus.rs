//! The corpus of `tests/differential/`: one `<area>.sql` file per feature area, split into
//! statements, each with a key that stays the same when other statements of the file change.
//!
//! File format:
//! - A statement ends at a line whose last non-blank character is `;` (the `;` is not sent).
//!   It may span several lines; a `;` elsewhere in a line does not end it.
//! - Lines whose first non-blank characters are `--` are comments and are dropped, inside a
//!   statement too. Blank lines between statements are ignored.
//! - Text after the last statement must be blank or comments (an unterminated statement is an
//!   error naming its line).
//!
//! Invariants:
//! - A key is `<file>:<16 hex digits>`, the FNV-1a 64 hash of the statement's text with runs
//!   of whitespace collapsed to one space; the n-th repetition (n ≥ 2) of the same text in a
//!   file gets `#n` appended, so keys are unique within a file.

use std::collections::HashMap;
use std::path::Path;

/// One statement of a corpus file.
#[derive(Debug, Clone)]
pub(crate) struct Statement {
    /// The text sent to both servers (without the final `;`).
    pub(crate) sql: String,
    /// The 1-based line where the statement starts.
    pub(crate) line: usize,
    /// `<file>:<hash>[#n]`, see the module doc.
    pub(crate) key: String,
}

/// One corpus file: an area of features, run in its own fresh database.
#[derive(Debug, Clone)]
pub(crate) struct Area {
    /// The file name, `basics.sql`.
    pub(crate) file: String,
    pub(crate) statements: Vec<Statement>,
}

impl Statement {
    /// Whether the statement is an `INSERT`, `UPDATE` or `DELETE` (also as the main
    /// statement after `WITH`): its `RETURNING` rows come in no order SQL can fix.
    pub(crate) fn is_dml(&self) -> bool {
        const DML: [&str; 3] = ["INSERT", "UPDATE", "DELETE"];
        let text = normalise(&self.sql).to_ascii_uppercase();
        let first = text.split([' ', '(']).next().unwrap_or("");
        if DML.contains(&first) {
            return true;
        }
        // `WITH a AS (...) UPDATE ...`: a DML keyword right after a closing parenthesis.
        first == "WITH"
            && DML
                .iter()
                .any(|kw| text.contains(&format!(") {kw} ")) || text.contains(&format!("){kw} ")))
    }
}

impl Area {
    /// The area's name: the file name without `.sql`.
    pub(crate) fn name(&self) -> &str {
        self.file.trim_end_matches(".sql")
    }
}

/// Every `*.sql` file of `dir`, sorted by name.
pub(crate) fn load(dir: &Path) -> Vec<Area> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("the corpus directory {} is readable: {e}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|path| {
            let file = path
                .file_name()
                .expect("a file name")
                .to_string_lossy()
                .into_owned();
            let text = std::fs::read_to_string(path)
                .unwrap_or_else(|e| panic!("{} is readable: {e}", path.display()));
            let statements = parse(&file, &text).unwrap_or_else(|e| panic!("{e}"));
            Area { file, statements }
        })
        .collect()
}

/// Splits a corpus file into statements (see the module doc for the format).
pub(crate) fn parse(file: &str, text: &str) -> Result<Vec<Statement>, String> {
    let mut statements = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut current: Option<(usize, String)> = None;
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.starts_with("--") {
            continue;
        }
        if trimmed.is_empty() && current.is_none() {
            continue;
        }
        let (_, sql) = current.get_or_insert_with(|| (i + 1, String::new()));
        if !sql.is_empty() {
            sql.push('\n');
        }
        sql.push_str(line.trim_end());
        if trimmed.ends_with(';') {
            let (start, mut sql) = current.take().expect("a statement in progress");
            sql.pop();
            let normalised = normalise(&sql);
            if normalised.is_empty() {
                return Err(format!("{file}:{start}: empty statement"));
            }
            let n = seen.entry(normalised.clone()).or_insert(0);
            *n += 1;
            let mut key = format!("{file}:{:016x}", fnv1a64(normalised.as_bytes()));
            if *n > 1 {
                key.push_str(&format!("#{n}"));
            }
            statements.push(Statement {
                sql: sql.trim().to_string(),
                line: start,
                key,
            });
        }
    }
    match current {
        Some((start, _)) => Err(format!(
            "{file}:{start}: statement without a final `;` at the end of a line"
        )),
        None => Ok(statements),
    }
}

/// The statement on one line, runs of whitespace collapsed to one space.
pub(crate) fn normalise(sql: &str) -> String {
    sql.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// FNV-1a, 64 bits: a stable hash with no dependency (keys must not change between builds).
fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

#[test]
fn differential_corpus_format_splits_statements_and_keys_them_stably() {
    let text = "-- a comment\n\nCREATE TABLE t (a int);\nSELECT a,\n  -- inside\n  'x;y'\nFROM t;\n\
                SELECT 1;\nselect   1;\nSELECT\n1;\n";
    let got = parse("f.sql", text).unwrap();
    let sqls: Vec<_> = got.iter().map(|s| s.sql.as_str()).collect();
    assert_eq!(
        sqls,
        [
            "CREATE TABLE t (a int)",
            "SELECT a,\n  'x;y'\nFROM t",
            "SELECT 1",
            "select   1",
            "SELECT\n1"
        ]
    );
    let lines: Vec<_> = got.iter().map(|s| s.line).collect();
    assert_eq!(lines, [3, 4, 8, 9, 10]);
    // Whitespace does not change a key; a repetition gets a suffix; case does.
    assert_eq!(got[4].key, format!("{}#2", got[2].key));
    assert_ne!(got[3].key, got[2].key);
    assert!(got[2].key.starts_with("f.sql:") && got[2].key.len() == "f.sql:".len() + 16);
    // Keys do not depend on the position in the file.
    let alone = parse("f.sql", "SELECT 1;\n").unwrap();
    assert_eq!(alone[0].key, got[2].key);
    assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);

    let unordered = |sql: &str| parse("h.sql", &format!("{sql};\n")).unwrap()[0].is_dml();
    assert!(unordered("update t SET a = 1 RETURNING a"));
    assert!(unordered("INSERT INTO t VALUES (1)"));
    assert!(unordered("WITH s AS (SELECT 1) DELETE FROM t RETURNING *"));
    assert!(!unordered("SELECT a FROM t"));
    assert!(!unordered(
        "WITH u AS (UPDATE t SET a = 1 RETURNING a) SELECT a FROM u ORDER BY a"
    ));

    let err = parse("g.sql", "SELECT 1;\nSELECT 2\n-- end\n").unwrap_err();
    assert_eq!(
        err,
        "g.sql:2: statement without a final `;` at the end of a line"
    );
}
