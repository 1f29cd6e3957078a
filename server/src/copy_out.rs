//! `COPY table [(columns)] TO STDOUT` and `COPY (query) TO STDOUT`, in text and CSV formats,
//! as psql's `\copy ... to` and dump tools use them.
//!
//! The table form runs `SELECT columns FROM table`; the query form runs the query. Rows go
//! out as one CopyData message each, in the format's escaping:
//! - text: fields split by the delimiter (default tab), NULL as `\N`, and backslash, newline,
//!   carriage return, tab and the delimiter escaped with a backslash;
//! - CSV: fields split by the delimiter (default comma), NULL as an unquoted empty field, and
//!   a field quoted (with `""` for a quote) when it holds the delimiter, a quote, a line break,
//!   or would read as NULL; `HEADER` adds a line of column names.

use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::tokenizer::{Token, Tokenizer};
use zqlite_query::Value;

use crate::copy::{CopyFormat, CopyIn, parse_options};
use crate::sqlerror::SqlError;

/// A parsed `COPY ... TO STDOUT`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CopyOut {
    /// The query whose rows are copied.
    pub query: String,
    pub options: CopyIn,
}

fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `None` when `sql` is not a `COPY ... TO STDOUT` (the query layer then handles it).
pub(crate) fn parse_copy_out(sql: &str) -> Option<Result<CopyOut, SqlError>> {
    if !sql.trim_start().get(..4)?.eq_ignore_ascii_case("copy") {
        return None;
    }
    let all: Vec<Token> = Tokenizer::new(&PostgreSqlDialect {}, sql).tokenize().ok()?;
    // Significant tokens, each with its index in `all` (to cut the query text back out).
    let sig: Vec<(usize, &Token)> = all
        .iter()
        .enumerate()
        .filter(|(_, t)| !matches!(t, Token::Whitespace(_) | Token::SemiColon))
        .collect();
    let word = |i: usize| match sig.get(i) {
        Some((_, Token::Word(w))) => Some(w),
        _ => None,
    };
    let keyword = |i: usize, k: &str| {
        word(i).is_some_and(|w| w.quote_style.is_none() && w.value.eq_ignore_ascii_case(k))
    };
    let name = |i: usize| {
        word(i).map(|w| match w.quote_style {
            Some(_) => w.value.clone(),
            None => w.value.to_lowercase(),
        })
    };
    if !keyword(0, "copy") {
        return None;
    }
    let mut i = 1;
    let query = if matches!(sig.get(i), Some((_, Token::LParen))) {
        let mut depth = 0usize;
        let start = sig[i].0 + 1;
        let mut end = None;
        while let Some((at, t)) = sig.get(i) {
            match t {
                Token::LParen => depth += 1,
                Token::RParen => {
                    depth -= 1;
                    if depth == 0 {
                        end = Some(*at);
                        i += 1;
                        break;
                    }
                }
                _ => {}
            }
            i += 1;
        }
        let end = end?;
        all[start..end].iter().map(Token::to_string).collect()
    } else {
        let mut table = name(i)?;
        i += 1;
        while matches!(sig.get(i), Some((_, Token::Period))) {
            table = name(i + 1)?;
            i += 2;
        }
        let mut columns = Vec::new();
        if matches!(sig.get(i), Some((_, Token::LParen))) {
            i += 1;
            loop {
                columns.push(quote_ident(&name(i)?));
                i += 1;
                match sig.get(i)?.1 {
                    Token::Comma => i += 1,
                    Token::RParen => {
                        i += 1;
                        break;
                    }
                    _ => return None,
                }
            }
        }
        let list = if columns.is_empty() {
            "*".to_string()
        } else {
            columns.join(", ")
        };
        format!("SELECT {list} FROM {}", quote_ident(&table))
    };
    if !(keyword(i, "to") && keyword(i + 1, "stdout")) {
        return None;
    }
    let rest: Vec<Token> = sig[i + 2..].iter().map(|(_, t)| (*t).clone()).collect();
    Some(parse_options(&rest).map(|options| CopyOut { query, options }))
}

/// The header line of a CSV copy (column names).
pub(crate) fn header_line(copy: &CopyIn, names: &[String]) -> String {
    let fields: Vec<String> = names.iter().map(|n| csv_field(copy, n)).collect();
    let mut line = fields.join(&copy.delimiter.to_string());
    line.push('\n');
    line
}

/// One row as a line of the copy's format, with its newline.
pub(crate) fn encode_row(copy: &CopyIn, row: &[Value]) -> String {
    let mut line = String::new();
    for (i, v) in row.iter().enumerate() {
        if i > 0 {
            line.push(copy.delimiter);
        }
        let text = if v.is_null() {
            None
        } else {
            Some(v.to_text().unwrap_or_default())
        };
        match (copy.format, text) {
            (_, None) => line.push_str(&copy.null),
            (CopyFormat::Text, Some(t)) => escape_text(&mut line, &t, copy.delimiter),
            (CopyFormat::Csv, Some(t)) => line.push_str(&csv_field(copy, &t)),
        }
    }
    line.push('\n');
    line
}

fn escape_text(out: &mut String, text: &str, delimiter: char) {
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' if delimiter == '\t' => out.push_str("\\t"),
            c if c == delimiter => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
}

fn csv_field(copy: &CopyIn, text: &str) -> String {
    let needs_quotes = text == copy.null
        || text
            .chars()
            .any(|c| c == copy.delimiter || c == '"' || c == '\n' || c == '\r');
    if needs_quotes {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(sql: &str) -> CopyOut {
        parse_copy_out(sql).expect("a COPY TO").expect("valid")
    }

    #[test]
    fn recognises_tables_columns_and_queries() {
        assert_eq!(parsed("COPY t TO STDOUT").query, "SELECT * FROM \"t\"");
        assert_eq!(
            parsed("copy public.\"T\" (a, \"B\") to stdout with (format csv, header)").query,
            "SELECT \"a\", \"B\" FROM \"T\""
        );
        let q = parsed("COPY (SELECT a, 'x;y' FROM t WHERE (a > 1)) TO STDOUT CSV");
        assert_eq!(q.query, "SELECT a, 'x;y' FROM t WHERE (a > 1)");
        assert_eq!(q.options.format, CopyFormat::Csv);
        assert!(parse_copy_out("COPY t FROM STDIN").is_none());
        assert!(parse_copy_out("SELECT 1").is_none());
        assert!(
            parse_copy_out("COPY t TO STDOUT (FORMAT nonsense)")
                .unwrap()
                .is_err()
        );
    }

    #[test]
    fn rows_are_escaped_per_format() {
        let text = parsed("COPY t TO STDOUT").options;
        let row = [
            Value::Int4(1),
            Value::Null,
            Value::Text("a\tb\\c\nd".into()),
        ];
        assert_eq!(encode_row(&text, &row), "1\t\\N\ta\\tb\\\\c\\nd\n");
        let csv = parsed("COPY t TO STDOUT (FORMAT csv)").options;
        let row = [
            Value::Text(String::new()),
            Value::Null,
            Value::Text("say \"hi\", ok".into()),
        ];
        assert_eq!(encode_row(&csv, &row), "\"\",,\"say \"\"hi\"\", ok\"\n");
        assert_eq!(
            header_line(&csv, &["a".into(), "b,c".into()]),
            "a,\"b,c\"\n"
        );
    }
}
