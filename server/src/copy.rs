//! `COPY table [(columns)] FROM STDIN`: the statement's grammar and the data formats
//! (`copy_out.rs` has `COPY ... TO STDOUT`, sharing the options).
//!
//! sqlparser 0.64 rejects options PostgreSQL clients send (`WITH (FREEZE ON)` from
//! pgbench), so this small parser runs in front of it: it recognises only
//! `COPY ... FROM STDIN` and leaves every other text to the query layer.
//!
//! - Options (parenthesised or the old bare style): `FORMAT text|csv`, `CSV`, `HEADER
//!   [bool]`, `DELIMITER 'c'`, `NULL 's'`, `FREEZE [bool]` (accepted: every commit is
//!   already final). `BINARY` format is refused (0A000).
//! - Text format: one row per line, fields split at the delimiter (default tab), `\N` is
//!   NULL, backslash escapes as PostgreSQL's (`\t`, `\n`, `\\`, octal, `\x` hex); a line
//!   `\.` ends the data.
//! - CSV format: fields split at the delimiter (default comma), `"` quotes with `""` for a
//!   quote, an unquoted empty field is NULL; a quoted field may not span lines here.

use sqlparser::tokenizer::{Token, Word};

use crate::sqlerror::SqlError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CopyFormat {
    Text,
    Csv,
}

/// A COPY the server runs itself (the data moves over the protocol, not through SQL).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ServerCopy {
    In(CopyIn),
    Out(crate::copy_out::CopyOut),
}

/// `COPY ... FROM STDIN` or `COPY ... TO STDOUT`; `None` for any other text.
pub(crate) fn parse_server_copy(sql: &str) -> Option<Result<ServerCopy, SqlError>> {
    if let Some(parsed) = parse_copy_in(sql) {
        return Some(parsed.map(ServerCopy::In));
    }
    crate::copy_out::parse_copy_out(sql).map(|parsed| parsed.map(ServerCopy::Out))
}

/// A parsed `COPY ... FROM STDIN`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CopyIn {
    pub table: String,
    /// Empty: every column, in table order.
    pub columns: Vec<String>,
    pub format: CopyFormat,
    pub delimiter: char,
    pub null: String,
    pub header: bool,
}

fn word_name(w: &Word) -> String {
    if w.quote_style.is_some() {
        w.value.clone()
    } else {
        w.value.to_lowercase()
    }
}

/// `None` when `sql` is not a `COPY ... FROM STDIN` (the query layer then handles it).
pub(crate) fn parse_copy_in(sql: &str) -> Option<Result<CopyIn, SqlError>> {
    if !sql.trim_start().get(..4)?.eq_ignore_ascii_case("copy") {
        return None;
    }
    let tokens = crate::split::significant_tokens(sql)?;
    let word = |i: usize| match tokens.get(i) {
        Some(Token::Word(w)) => Some(w),
        _ => None,
    };
    let keyword = |i: usize, k: &str| {
        word(i).is_some_and(|w| w.quote_style.is_none() && w.value.eq_ignore_ascii_case(k))
    };
    if !keyword(0, "copy") {
        return None;
    }
    let mut i = 1;
    let mut table = word_name(word(i)?);
    i += 1;
    while matches!(tokens.get(i), Some(Token::Period)) {
        table = word_name(word(i + 1)?);
        i += 2;
    }
    let mut columns = Vec::new();
    if matches!(tokens.get(i), Some(Token::LParen)) {
        i += 1;
        loop {
            columns.push(word_name(word(i)?));
            i += 1;
            match tokens.get(i)? {
                Token::Comma => i += 1,
                Token::RParen => {
                    i += 1;
                    break;
                }
                _ => return None,
            }
        }
    }
    if !(keyword(i, "from") && keyword(i + 1, "stdin")) {
        return None;
    }
    Some(parse_options(&tokens[i + 2..]).map(|opts| CopyIn {
        table,
        columns,
        ..opts
    }))
}

pub(crate) fn parse_options(tokens: &[Token]) -> Result<CopyIn, SqlError> {
    let mut copy = CopyIn {
        table: String::new(),
        columns: Vec::new(),
        format: CopyFormat::Text,
        delimiter: '\t',
        null: "\\N".into(),
        header: false,
    };
    let mut delimiter = None;
    let mut null = None;
    let bad =
        |what: &str| SqlError::new("42601", format!("syntax error in COPY options at {what}"));
    let value = |t: Option<&Token>| -> Option<String> {
        match t? {
            Token::SingleQuotedString(s) => Some(s.clone()),
            Token::Word(w) => Some(w.value.to_lowercase()),
            Token::Number(n, _) => Some(n.clone()),
            _ => None,
        }
    };
    let is_bool = |t: Option<&Token>| {
        value(t).is_some_and(|v| matches!(v.as_str(), "true" | "false" | "on" | "off" | "1" | "0"))
    };
    let mut i = 0;
    while let Some(t) = tokens.get(i) {
        i += 1;
        let Token::Word(w) = t else {
            if matches!(t, Token::LParen | Token::RParen | Token::Comma) {
                continue;
            }
            return Err(bad(&t.to_string()));
        };
        match w.value.to_lowercase().as_str() {
            "with" => {}
            "csv" => copy.format = CopyFormat::Csv,
            "text" => copy.format = CopyFormat::Text,
            "binary" => return Err(SqlError::new("0A000", "COPY BINARY is not supported")),
            "format" => {
                copy.format = match value(tokens.get(i)).as_deref() {
                    Some("csv") => CopyFormat::Csv,
                    Some("text") => CopyFormat::Text,
                    Some("binary") => {
                        return Err(SqlError::new("0A000", "COPY BINARY is not supported"));
                    }
                    _ => return Err(bad("FORMAT")),
                };
                i += 1;
            }
            "header" | "freeze" => {
                let on = if is_bool(tokens.get(i)) {
                    i += 1;
                    matches!(
                        value(tokens.get(i - 1)).as_deref(),
                        Some("true" | "on" | "1")
                    )
                } else {
                    true
                };
                if w.value.eq_ignore_ascii_case("header") {
                    copy.header = on;
                }
            }
            "delimiter" => {
                let d = value(tokens.get(i)).ok_or_else(|| bad("DELIMITER"))?;
                let mut chars = d.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) => delimiter = Some(c),
                    _ => {
                        return Err(SqlError::new(
                            "0A000",
                            "COPY delimiter must be a single one-byte character",
                        ));
                    }
                }
                i += 1;
            }
            "null" => {
                null = Some(value(tokens.get(i)).ok_or_else(|| bad("NULL"))?);
                i += 1;
            }
            other => return Err(bad(other)),
        }
    }
    if copy.format == CopyFormat::Csv {
        copy.delimiter = ',';
        copy.null = String::new();
    }
    copy.delimiter = delimiter.unwrap_or(copy.delimiter);
    copy.null = null.unwrap_or(copy.null);
    Ok(copy)
}

/// The fields of one line (without its line terminator); `None` is NULL.
pub(crate) fn decode_line(copy: &CopyIn, line: &str) -> Result<Vec<Option<String>>, SqlError> {
    match copy.format {
        CopyFormat::Text => Ok(line
            .split(copy.delimiter)
            .map(|raw| (raw != copy.null).then(|| unescape_text(raw)))
            .collect()),
        CopyFormat::Csv => decode_csv(line, copy.delimiter, &copy.null),
    }
}

fn unescape_text(raw: &str) -> String {
    if !raw.contains('\\') {
        return raw.to_string();
    }
    let mut out = Vec::with_capacity(raw.len());
    let bytes = raw.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        i += 1;
        if b != b'\\' || i == bytes.len() {
            out.push(b);
            continue;
        }
        let c = bytes[i];
        i += 1;
        match c {
            b'b' => out.push(8),
            b'f' => out.push(12),
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'v' => out.push(11),
            b'0'..=b'7' => {
                let mut v = u32::from(c - b'0');
                for _ in 0..2 {
                    match bytes.get(i) {
                        Some(d @ b'0'..=b'7') => {
                            v = v * 8 + u32::from(d - b'0');
                            i += 1;
                        }
                        _ => break,
                    }
                }
                out.push(v as u8);
            }
            b'x' if bytes.get(i).is_some_and(u8::is_ascii_hexdigit) => {
                let mut v = 0u32;
                for _ in 0..2 {
                    match bytes.get(i).and_then(|d| (*d as char).to_digit(16)) {
                        Some(d) => {
                            v = v * 16 + d;
                            i += 1;
                        }
                        None => break,
                    }
                }
                out.push(v as u8);
            }
            other => out.push(other),
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn decode_csv(line: &str, delim: char, null: &str) -> Result<Vec<Option<String>>, SqlError> {
    let mut fields = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        let mut field = String::new();
        let mut quoted = false;
        if chars.peek() == Some(&'"') {
            quoted = true;
            chars.next();
            loop {
                match chars.next() {
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.push('"');
                    }
                    Some('"') => break,
                    Some(c) => field.push(c),
                    None => {
                        return Err(SqlError::new("22P04", "unterminated CSV quoted field"));
                    }
                }
            }
        }
        while let Some(&c) = chars.peek() {
            if c == delim {
                break;
            }
            field.push(c);
            chars.next();
        }
        fields.push((quoted || field != null).then_some(field));
        if chars.next().is_none() {
            return Ok(fields);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_copy_from_stdin_with_pgbench_options() {
        let c = parse_copy_in("copy pgbench_accounts from stdin with (freeze on)")
            .expect("a COPY FROM STDIN")
            .expect("valid options");
        assert_eq!(c.table, "pgbench_accounts");
        assert_eq!(
            (c.format, c.delimiter, c.null.as_str()),
            (CopyFormat::Text, '\t', "\\N")
        );
        let c = parse_copy_in(
            "COPY public.\"T\" (a, B) FROM STDIN WITH (FORMAT csv, HEADER true, NULL 'x')",
        )
        .expect("a COPY FROM STDIN")
        .expect("valid options");
        assert_eq!(
            (c.table.as_str(), c.columns.clone()),
            ("T", vec!["a".to_string(), "b".to_string()])
        );
        assert_eq!(
            (c.format, c.delimiter, c.null.as_str(), c.header),
            (CopyFormat::Csv, ',', "x", true)
        );
        let c = parse_copy_in("copy t from stdin csv header delimiter ';'")
            .expect("copy")
            .expect("valid");
        assert_eq!(
            (c.format, c.delimiter, c.header),
            (CopyFormat::Csv, ';', true)
        );
    }

    #[test]
    fn leaves_other_statements_alone() {
        assert!(parse_copy_in("SELECT 1").is_none());
        assert!(parse_copy_in("COPY t TO STDOUT").is_none());
        assert!(parse_copy_in("copy").is_none());
        let e = parse_copy_in("COPY t FROM STDIN (FORMAT binary)")
            .expect("copy")
            .expect_err("binary");
        assert_eq!(e.code, "0A000");
    }

    #[test]
    fn text_format_unescapes_and_reads_nulls() {
        let c = parse_copy_in("COPY t FROM STDIN")
            .expect("copy")
            .expect("valid");
        assert_eq!(
            decode_line(&c, "1\ta\\tb\\\\c\\n\t\\N\t\\101\\x41").expect("valid line"),
            vec![
                Some("1".to_string()),
                Some("a\tb\\c\n".to_string()),
                None,
                Some("AA".to_string())
            ]
        );
    }

    #[test]
    fn csv_quotes_and_empty_fields() {
        let c = parse_copy_in("COPY t FROM STDIN (FORMAT csv)")
            .expect("copy")
            .expect("valid");
        assert_eq!(
            decode_line(&c, "1,\"a,\"\"b\"\"\",,\"\"").expect("valid line"),
            vec![
                Some("1".into()),
                Some("a,\"b\"".into()),
                None,
                Some(String::new())
            ]
        );
        assert!(decode_line(&c, "\"open").is_err());
    }
}
