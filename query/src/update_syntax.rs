//! Subscripted assignment targets (`UPDATE t SET a[2] = x`), which sqlparser 0.64 does not
//! parse.
//!
//! [`rewrite`] works on the token stream [`crate::window_syntax::tokens`] produces: an
//! assignment `col [ i ] = value` directly after `SET` or after a comma of the same `SET`
//! list becomes `col = "<MARKER>array_set"(col, (i), (value))`, which the binder resolves to
//! the array assignment function (`array_functions.rs`). The new tokens take the span of the
//! token they stand for, so errors still point at the SQL the user wrote.
//!
//! Invariants:
//! - Only a plain column name followed by one subscript is rewritten; anything else is left
//!   to sqlparser (and is a syntax error there, as before).
//! - The value ends at the first comma, `FROM`, `WHERE`, `RETURNING`, `;` or closing
//!   parenthesis outside any parentheses or brackets it opened.
//! - [`ARRAY_SET`] starts with the NUL [`crate::window_syntax::MARKER`], which cannot appear
//!   in an identifier a user writes, so no user function is ever taken for it.

use sqlparser::keywords::Keyword;
use sqlparser::tokenizer::{Token, TokenWithSpan, Word};

/// The name of the function an assignment to a subscript becomes.
pub const ARRAY_SET: &str = "\0array_set";

fn is_keyword(t: &Token, k: Keyword) -> bool {
    matches!(t, Token::Word(w) if w.quote_style.is_none() && w.keyword == k)
}

/// The significant index just past the value starting at significant index `k`.
fn value_end(tokens: &[TokenWithSpan], sig: &[usize], mut k: usize) -> usize {
    let mut depth = 0usize;
    while k < sig.len() {
        match &tokens[sig[k]].token {
            Token::LParen | Token::LBracket => depth += 1,
            Token::RParen | Token::RBracket if depth == 0 => break,
            Token::RParen | Token::RBracket => depth -= 1,
            Token::Comma | Token::SemiColon if depth == 0 => break,
            t if depth == 0
                && (is_keyword(t, Keyword::FROM)
                    || is_keyword(t, Keyword::WHERE)
                    || is_keyword(t, Keyword::RETURNING)) =>
            {
                break;
            }
            _ => {}
        }
        k += 1;
    }
    k
}

/// Rewrites subscripted assignment targets (module doc); other tokens are returned as they
/// are.
pub fn rewrite(tokens: Vec<TokenWithSpan>) -> Vec<TokenWithSpan> {
    if !tokens.iter().any(|t| t.token == Token::LBracket) {
        return tokens;
    }
    let sig: Vec<usize> = (0..tokens.len())
        .filter(|&i| !matches!(tokens[i].token, Token::Whitespace(_)))
        .collect();
    let tok = |k: usize| &tokens[sig[k]].token;
    let n = sig.len();
    // (significant index of the column, of its `[`, of its `]`, end of the value).
    let mut found: Vec<(usize, usize, usize, usize)> = Vec::new();
    let mut in_set = false;
    let mut k = 0;
    while k < n {
        let t = tok(k);
        if is_keyword(t, Keyword::SET) {
            in_set = true;
            k += 1;
            continue;
        }
        let starts_target = in_set
            && k > 0
            && (is_keyword(tok(k - 1), Keyword::SET) || *tok(k - 1) == Token::Comma);
        if starts_target
            && matches!(t, Token::Word(_))
            && k + 1 < n
            && *tok(k + 1) == Token::LBracket
        {
            let close = value_end(&tokens, &sig, k + 2);
            if close + 1 < n && *tok(close) == Token::RBracket && *tok(close + 1) == Token::Eq {
                let end = value_end(&tokens, &sig, close + 2);
                found.push((k, k + 1, close, end));
                k = end;
                continue;
            }
        }
        if matches!(t, Token::SemiColon) || is_keyword(t, Keyword::WHERE) {
            in_set = false;
        }
        k += 1;
    }
    if found.is_empty() {
        return tokens;
    }
    let mut out = Vec::with_capacity(tokens.len() + 8 * found.len());
    let mut next = 0; // the next token of `tokens` to copy
    for (col, open, close, end) in found {
        let column = tokens[sig[col]].clone();
        let at = |k: usize| tokens[sig[k]].span;
        let make = |token: Token, k: usize| TokenWithSpan::new(token, at(k));
        out.extend(tokens[next..=sig[col]].iter().cloned());
        out.push(make(Token::Eq, close + 1));
        out.push(make(
            Token::Word(Word {
                value: ARRAY_SET.to_string(),
                quote_style: Some('"'),
                keyword: Keyword::NoKeyword,
            }),
            col,
        ));
        out.push(make(Token::LParen, open));
        out.push(column);
        out.push(make(Token::Comma, open));
        out.push(make(Token::LParen, open));
        out.extend(tokens[sig[open] + 1..sig[close]].iter().cloned());
        out.push(make(Token::RParen, close));
        out.push(make(Token::Comma, close + 1));
        out.push(make(Token::LParen, close + 1));
        let value_to = if end < n { sig[end] } else { tokens.len() };
        out.extend(tokens[sig[close + 1] + 1..value_to].iter().cloned());
        out.push(make(Token::RParen, end.min(n - 1)));
        out.push(make(Token::RParen, end.min(n - 1)));
        next = value_to;
    }
    out.extend(tokens[next..].iter().cloned());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(sql: &str) -> String {
        let tokens = rewrite(crate::window_syntax::tokens(sql).unwrap());
        tokens
            .iter()
            .map(|t| t.token.to_string())
            .collect::<String>()
            .replace('\0', "$")
    }

    #[test]
    fn subscripted_targets_become_calls() {
        // Only the tokens matter: the rewrite adds none of the whitespace.
        assert_eq!(
            text("UPDATE t SET a[1] = 'x', b = 2, c[i + 1] = f(1, 2) WHERE id = 1"),
            "UPDATE t SET a=\"$array_set\"(a,(1),( 'x')), b = 2, \
             c=\"$array_set\"(c,(i + 1),( f(1, 2) ))WHERE id = 1"
        );
        assert_eq!(
            text("UPDATE t SET a[2]=3 RETURNING a"),
            "UPDATE t SET a=\"$array_set\"(a,(2),(3 ))RETURNING a"
        );
        // Subscripts elsewhere are left alone.
        assert_eq!(text("SELECT a[1] FROM t"), "SELECT a[1] FROM t");
    }
}
