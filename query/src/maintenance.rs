//! `VACUUM` and `ANALYZE`: PostgreSQL's maintenance commands, which tools such as pgbench
//! send. zqlite's projections have no dead rows to reclaim and no planner statistics to
//! gather, so both only check their table names and succeed.
//!
//! sqlparser does not parse them in the PostgreSQL dialect, so they are recognised here from
//! their tokens: `VACUUM [ (options) | FULL | FREEZE | VERBOSE | ANALYZE ...] [table [(cols)], ...]`
//! and `ANALYZE [ (options) | VERBOSE ] [table [(cols)], ...]`.

use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::tokenizer::{Token, Tokenizer};
use zqlite_projections::State;

use crate::error::{Error, Result};

/// If `sql` is one VACUUM or ANALYZE command, its command tag and table names.
pub(crate) fn recognise(sql: &str) -> Option<Result<(&'static str, Vec<String>)>> {
    let tokens = Tokenizer::new(&PostgreSqlDialect {}, sql).tokenize().ok()?;
    let mut words = tokens
        .into_iter()
        .filter(|t| !matches!(t, Token::Whitespace(_)) && !matches!(t, Token::SemiColon));
    let tag = match words.next()? {
        Token::Word(w) if w.quote_style.is_none() => match w.value.to_lowercase().as_str() {
            "vacuum" => "VACUUM",
            "analyze" | "analyse" => "ANALYZE",
            _ => return None,
        },
        _ => return None,
    };
    Some(parse_rest(words.collect(), tag).map(|tables| (tag, tables)))
}

fn parse_rest(tokens: Vec<Token>, tag: &'static str) -> Result<Vec<String>> {
    let flags: &[&str] = match tag {
        "VACUUM" => &["full", "freeze", "verbose", "analyze", "analyse"],
        _ => &["verbose"],
    };
    let mut i = 0;
    // Options: a parenthesised list, or the old-style keywords.
    if tokens.first() == Some(&Token::LParen) {
        i = skip_parens(&tokens, 0)?;
    } else {
        while let Some(Token::Word(w)) = tokens.get(i) {
            if w.quote_style.is_some() || !flags.contains(&w.value.to_lowercase().as_str()) {
                break;
            }
            i += 1;
        }
    }
    let mut tables = Vec::new();
    while i < tokens.len() {
        let mut name = Vec::new();
        loop {
            match tokens.get(i) {
                Some(Token::Word(w)) => {
                    name.push(match w.quote_style {
                        Some(_) => w.value.clone(),
                        None => w.value.to_lowercase(),
                    });
                    i += 1;
                }
                _ => return Err(syntax(tag)),
            }
            if tokens.get(i) == Some(&Token::Period) {
                i += 1;
            } else {
                break;
            }
        }
        // `public.t` and `t` name the same table.
        tables.push(name.pop().expect("a name has a last part"));
        if tokens.get(i) == Some(&Token::LParen) {
            i = skip_parens(&tokens, i)?;
        }
        match tokens.get(i) {
            None => break,
            Some(Token::Comma) => i += 1,
            Some(_) => return Err(syntax(tag)),
        }
    }
    Ok(tables)
}

/// The index after the parenthesised group that starts at `start`.
fn skip_parens(tokens: &[Token], start: usize) -> Result<usize> {
    let mut depth = 0usize;
    for (i, t) in tokens.iter().enumerate().skip(start) {
        match t {
            Token::LParen => depth += 1,
            Token::RParen => {
                depth -= 1;
                if depth == 0 {
                    return Ok(i + 1);
                }
            }
            _ => {}
        }
    }
    Err(Error::Syntax {
        message: "syntax error at end of input".into(),
        location: crate::error::Location { line: 1, column: 1 },
    })
}

fn syntax(tag: &str) -> Error {
    Error::Syntax {
        message: format!("syntax error in {tag}"),
        location: crate::error::Location { line: 1, column: 1 },
    }
}

/// Checks that every named table exists (PostgreSQL's error for one that does not).
pub(crate) fn check_tables(state: &State, tables: &[String]) -> Result<()> {
    for t in tables {
        if state.catalog().table_by_name(t).is_none() {
            return Err(Error::bind(
                "42P01",
                format!("relation \"{t}\" does not exist"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_the_forms_tools_send() {
        let ok = |sql: &str| recognise(sql).expect("recognised").expect("valid");
        assert_eq!(
            ok("vacuum analyze pgbench_branches"),
            ("VACUUM", vec!["pgbench_branches".into()])
        );
        assert_eq!(ok("VACUUM"), ("VACUUM", vec![]));
        assert_eq!(
            ok("VACUUM (VERBOSE, ANALYZE) a, public.\"B\"(x, y);"),
            ("VACUUM", vec!["a".into(), "B".into()])
        );
        assert_eq!(ok("analyse verbose t"), ("ANALYZE", vec!["t".into()]));
        assert!(recognise("SELECT 1").is_none());
        assert!(recognise("vacuum t u").expect("recognised").is_err());
        assert!(recognise("vacuum (verbose").expect("recognised").is_err());
    }
}
