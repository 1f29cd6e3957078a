//! The frame exclusion clause (`EXCLUDE CURRENT ROW | GROUP | TIES | NO OTHERS`), which
//! sqlparser 0.64 does not parse.
//!
//! [`tokens`] tokenizes a statement with sqlparser's tokenizer and takes each exclusion
//! clause out of the token stream. The clause is carried to the binder in the window
//! specification's name: the token after the specification's `(` becomes (or, when the
//! specification copies a named window, replaces) a quoted identifier made of [`MARKER`],
//! the exclusion, [`MARKER`] and the copied window's name, if any. [`split_name`] reads it
//! back. Every other token keeps its text position, so errors still point at the SQL the
//! user wrote.
//!
//! Invariants:
//! - A clause is only taken out where PostgreSQL's grammar allows it: directly inside the
//!   parentheses of `OVER (...)` or `name AS (...)`, right after a frame bound (`ROW`,
//!   `PRECEDING`, `FOLLOWING`) and right before the closing parenthesis. Anything else is
//!   left to sqlparser (and is a syntax error, as in PostgreSQL).
//! - [`MARKER`] (NUL) cannot appear in a PostgreSQL identifier, so a marker never collides
//!   with a name the user wrote. Rendering the AST back to SQL would show the marker, so
//!   CREATE VIEW rejects queries that carry one (`ddl.rs`).

use sqlparser::ast;
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::keywords::Keyword;
use sqlparser::tokenizer::{Token, TokenWithSpan, Tokenizer, TokenizerError, Word};

use crate::plan::FrameExclusion;

/// Starts and ends the exclusion part of a marker window name.
pub const MARKER: char = '\0';

fn exclusion_word(e: FrameExclusion) -> &'static str {
    match e {
        FrameExclusion::NoOthers => "no others",
        FrameExclusion::CurrentRow => "current row",
        FrameExclusion::Group => "group",
        FrameExclusion::Ties => "ties",
    }
}

/// The identifier carrying `exclusion` and the copied window's name `base`.
fn marker_ident(exclusion: FrameExclusion, base: Option<&ast::Ident>) -> ast::Ident {
    let base = base.map(super::bind::ident_name).unwrap_or_default();
    ast::Ident::with_quote(
        '"',
        format!("{MARKER}{}{MARKER}{base}", exclusion_word(exclusion)),
    )
}

/// A window name that only carries `exclusion` (none when there is no exclusion).
pub fn exclusion_name(exclusion: Option<FrameExclusion>) -> Option<ast::Ident> {
    exclusion.map(|e| marker_ident(e, None))
}

/// Splits a window specification's name into the copied window's name and the exclusion.
pub fn split_name(name: Option<&ast::Ident>) -> (Option<ast::Ident>, Option<FrameExclusion>) {
    let Some(name) = name else {
        return (None, None);
    };
    let Some(rest) = name.value.strip_prefix(MARKER) else {
        return (Some(name.clone()), None);
    };
    let Some((word, base)) = rest.split_once(MARKER) else {
        return (Some(name.clone()), None);
    };
    let exclusion = [
        FrameExclusion::NoOthers,
        FrameExclusion::CurrentRow,
        FrameExclusion::Group,
        FrameExclusion::Ties,
    ]
    .into_iter()
    .find(|e| exclusion_word(*e) == word);
    let base = (!base.is_empty()).then(|| ast::Ident::with_quote('"', base));
    (base, exclusion)
}

/// The exclusion of a window specification (after [`tokens`] moved it into its name).
pub fn exclusion_of(spec: &ast::WindowSpec) -> Option<FrameExclusion> {
    split_name(spec.window_name.as_ref()).1
}

fn word(t: &Token) -> Option<&Word> {
    match t {
        Token::Word(w) if w.quote_style.is_none() => Some(w),
        _ => None,
    }
}

fn is_word(t: &Token, s: &str) -> bool {
    word(t).is_some_and(|w| w.value.eq_ignore_ascii_case(s))
}

/// Tokenizes `sql`, moving frame exclusion clauses into window names (module doc).
pub fn tokens(sql: &str) -> Result<Vec<TokenWithSpan>, TokenizerError> {
    let dialect = PostgreSqlDialect {};
    let tokens = Tokenizer::new(&dialect, sql)
        .with_unescape(true)
        .tokenize_with_location()?;
    if !sql.to_ascii_lowercase().contains("exclude") {
        return Ok(tokens);
    }
    // Indexes of the significant (non-whitespace) tokens.
    let sig: Vec<usize> = (0..tokens.len())
        .filter(|&i| !matches!(tokens[i].token, Token::Whitespace(_)))
        .collect();
    let tok = |k: usize| &tokens[sig[k]].token;
    // For each open parenthesis: whether it opens a window specification.
    let mut stack: Vec<(usize, bool)> = Vec::new();
    // (significant index of the window's `(`, first and last significant index of the
    // clause, exclusion).
    let mut found: Vec<(usize, usize, usize, FrameExclusion)> = Vec::new();
    let mut k = 0;
    while k < sig.len() {
        match tok(k) {
            Token::LParen => {
                let window = k > 0
                    && (matches!(word(tok(k - 1)), Some(w) if w.keyword == Keyword::OVER)
                        || (k > 1
                            && matches!(word(tok(k - 1)), Some(w) if w.keyword == Keyword::AS)
                            && matches!(tok(k - 2), Token::Word(_))));
                stack.push((k, window));
            }
            Token::RParen => {
                stack.pop();
            }
            t if is_word(t, "exclude") => {
                if let Some(&(open, true)) = stack.last()
                    && k > 0
                    && ["row", "preceding", "following"]
                        .iter()
                        .any(|w| is_word(tok(k - 1), w))
                {
                    let rest: Vec<&Token> = (k + 1..sig.len().min(k + 4)).map(tok).collect();
                    let clause = match rest.as_slice() {
                        [a, b, Token::RParen, ..] if is_word(a, "current") && is_word(b, "row") => {
                            Some((FrameExclusion::CurrentRow, 2))
                        }
                        [a, b, Token::RParen, ..] if is_word(a, "no") && is_word(b, "others") => {
                            Some((FrameExclusion::NoOthers, 2))
                        }
                        [a, Token::RParen, ..] if is_word(a, "group") => {
                            Some((FrameExclusion::Group, 1))
                        }
                        [a, Token::RParen, ..] if is_word(a, "ties") => {
                            Some((FrameExclusion::Ties, 1))
                        }
                        _ => None,
                    };
                    if let Some((exclusion, len)) = clause {
                        found.push((open, k, k + len, exclusion));
                        k += len;
                    }
                }
            }
            _ => {}
        }
        k += 1;
    }
    if found.is_empty() {
        return Ok(tokens);
    }
    let mut drop = vec![false; tokens.len()];
    // Replacement or insertion after each window's `(` (by token index).
    let mut replace: Vec<(usize, TokenWithSpan)> = Vec::new();
    let mut insert: Vec<(usize, TokenWithSpan)> = Vec::new();
    for (open, first, last, exclusion) in found {
        // Take the clause and the whitespace between it and the preceding bound.
        drop[sig[first - 1] + 1..=sig[last]].fill(true);
        let next = &tokens[sig[open + 1]];
        let names_window = matches!(word(&next.token), Some(w) if w.keyword == Keyword::NoKeyword)
            || matches!(&next.token, Token::Word(w) if w.quote_style == Some('"'));
        if names_window {
            let Token::Word(w) = &next.token else {
                continue;
            };
            let base = ast::Ident {
                value: w.value.clone(),
                quote_style: w.quote_style,
                span: next.span,
            };
            let ident = marker_ident(exclusion, Some(&base));
            replace.push((sig[open + 1], ident_token(ident, next)));
        } else {
            insert.push((
                sig[open],
                ident_token(marker_ident(exclusion, None), &tokens[sig[open]]),
            ));
        }
    }
    let mut out = Vec::with_capacity(tokens.len() + insert.len());
    for (i, t) in tokens.into_iter().enumerate() {
        if drop[i] {
            continue;
        }
        match replace.iter().position(|(at, _)| *at == i) {
            Some(p) => out.push(replace[p].1.clone()),
            None => out.push(t),
        }
        if let Some(p) = insert.iter().position(|(at, _)| *at == i) {
            out.push(insert[p].1.clone());
        }
    }
    Ok(out)
}

fn ident_token(ident: ast::Ident, at: &TokenWithSpan) -> TokenWithSpan {
    TokenWithSpan {
        token: Token::Word(Word {
            value: ident.value,
            quote_style: Some('"'),
            keyword: Keyword::NoKeyword,
        }),
        span: at.span,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlparser::parser::Parser;

    fn spec_of(sql: &str) -> ast::WindowSpec {
        let tokens = tokens(sql).unwrap();
        let stmt = Parser::new(&PostgreSqlDialect {})
            .with_tokens_with_locations(tokens)
            .parse_statement()
            .unwrap();
        let ast::Statement::Query(q) = stmt else {
            panic!("not a query")
        };
        let ast::SetExpr::Select(s) = q.body.as_ref() else {
            panic!("not a select")
        };
        if let Some(ast::NamedWindowDefinition(_, ast::NamedWindowExpr::WindowSpec(spec))) =
            s.named_window.first()
        {
            return spec.clone();
        }
        let ast::SelectItem::UnnamedExpr(ast::Expr::Function(f)) = &s.projection[0] else {
            panic!("not a call")
        };
        match f.over.as_ref().unwrap() {
            ast::WindowType::WindowSpec(spec) => spec.clone(),
            ast::WindowType::NamedWindow(_) => panic!("named"),
        }
    }

    #[test]
    fn exclusions_move_into_the_window_name() {
        let cases = [
            ("EXCLUDE CURRENT ROW", FrameExclusion::CurrentRow),
            ("exclude group", FrameExclusion::Group),
            ("Exclude Ties", FrameExclusion::Ties),
            ("EXCLUDE NO OTHERS", FrameExclusion::NoOthers),
        ];
        for (clause, want) in cases {
            let sql = format!(
                "SELECT sum(a) OVER (ORDER BY a ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING {clause}) FROM t"
            );
            let spec = spec_of(&sql);
            assert_eq!(exclusion_of(&spec), Some(want), "{sql}");
            assert_eq!(split_name(spec.window_name.as_ref()).0, None);
            assert!(spec.window_frame.is_some());
        }
    }

    #[test]
    fn a_copied_window_keeps_its_name() {
        let spec = spec_of(
            "SELECT sum(a) OVER (w ROWS UNBOUNDED PRECEDING EXCLUDE TIES) FROM t WINDOW w AS (ORDER BY a)",
        );
        // The WINDOW clause is read first by `spec_of`; it has no exclusion.
        assert_eq!(exclusion_of(&spec), None);
        let tokens =
            tokens("SELECT sum(a) OVER (\"W\" ROWS UNBOUNDED PRECEDING EXCLUDE TIES) FROM t")
                .unwrap();
        let marker = tokens
            .iter()
            .find_map(|t| match &t.token {
                Token::Word(w) if w.value.starts_with(MARKER) => Some(w.value.clone()),
                _ => None,
            })
            .unwrap();
        let (base, exclusion) = split_name(Some(&ast::Ident::with_quote('"', marker)));
        assert_eq!(base.unwrap().value, "W");
        assert_eq!(exclusion, Some(FrameExclusion::Ties));
    }

    #[test]
    fn named_window_definitions_carry_exclusions() {
        let spec = spec_of(
            "SELECT a FROM t WINDOW w AS (ORDER BY a GROUPS BETWEEN 1 PRECEDING AND CURRENT ROW EXCLUDE GROUP)",
        );
        assert_eq!(exclusion_of(&spec), Some(FrameExclusion::Group));
    }

    #[test]
    fn other_uses_of_exclude_are_left_alone() {
        let sql = "SELECT 'exclude ties' AS exclude FROM t";
        let plain = Tokenizer::new(&PostgreSqlDialect {}, sql)
            .tokenize_with_location()
            .unwrap();
        assert_eq!(tokens(sql).unwrap(), plain);
        // Not after a frame bound: sqlparser reports the syntax error.
        let sql = "SELECT sum(a) OVER (ORDER BY a EXCLUDE TIES) FROM t";
        assert!(
            tokens(sql)
                .unwrap()
                .iter()
                .any(|t| is_word(&t.token, "exclude"))
        );
    }
}
