//! Splits a simple-query string into its statements, keeping each one's place in the text.
//!
//! PostgreSQL answers a multi-statement Query message statement by statement: the results
//! of the statements before a failing one are sent, then the error. The query layer's
//! `Session::execute` returns all or nothing, so the server runs one statement at a time.
//!
//! - Splitting follows sqlparser's tokenizer (semicolons inside strings, dollar quotes,
//!   comments and quoted identifiers do not split).
//! - Pieces holding only whitespace and comments are dropped.
//! - Text the tokenizer rejects is returned whole, so the query layer reports the error.

use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::tokenizer::{Token, Tokenizer};

/// One statement's text and where it starts in the full string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Piece<'a> {
    pub text: &'a str,
    /// 0-based character offset of `text` in the full string.
    pub char_start: usize,
}

/// The tokens of `sql` without whitespace, comments and semicolons (`None` when it does not
/// tokenize); the small statement recognisers of the server read these.
pub(crate) fn significant_tokens(sql: &str) -> Option<Vec<Token>> {
    let tokens = Tokenizer::new(&PostgreSqlDialect {}, sql).tokenize().ok()?;
    Some(
        tokens
            .into_iter()
            .filter(|t| !matches!(t, Token::Whitespace(_) | Token::SemiColon))
            .collect(),
    )
}

pub(crate) fn split_statements(sql: &str) -> Vec<Piece<'_>> {
    let Ok(tokens) = Tokenizer::new(&PostgreSqlDialect {}, sql).tokenize_with_location() else {
        return vec![Piece {
            text: sql,
            char_start: 0,
        }];
    };
    // Byte offset of each line start, to turn (line, column) into a byte offset.
    let mut line_starts = vec![0];
    line_starts.extend(sql.match_indices('\n').map(|(i, _)| i + 1));
    let byte_at = |line: u64, column: u64| -> usize {
        let start = line_starts[(line as usize).saturating_sub(1).min(line_starts.len() - 1)];
        sql[start..]
            .char_indices()
            .nth((column as usize).saturating_sub(1))
            .map_or(sql.len(), |(i, _)| start + i)
    };
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut meaningful = false;
    for t in &tokens {
        match &t.token {
            Token::SemiColon => {
                let end = byte_at(t.span.start.line, t.span.start.column);
                if meaningful {
                    pieces.push(piece(sql, start, end));
                }
                start = end + 1;
                meaningful = false;
            }
            Token::Whitespace(_) => {}
            _ => meaningful = true,
        }
    }
    if meaningful {
        pieces.push(piece(sql, start, sql.len()));
    }
    pieces
}

fn piece(sql: &str, start: usize, end: usize) -> Piece<'_> {
    Piece {
        text: &sql[start..end],
        char_start: sql[..start].chars().count(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(sql: &str) -> Vec<(&str, usize)> {
        split_statements(sql)
            .into_iter()
            .map(|p| (p.text, p.char_start))
            .collect()
    }

    #[test]
    fn splits_at_top_level_semicolons_only() {
        assert_eq!(
            texts("SELECT 'a;b'; SELECT $$x;y$$;\nSELECT \"c;d\" -- e;f\n"),
            vec![
                ("SELECT 'a;b'", 0),
                (" SELECT $$x;y$$", 13),
                ("\nSELECT \"c;d\" -- e;f\n", 29)
            ]
        );
    }

    #[test]
    fn empty_pieces_are_dropped() {
        assert!(texts("").is_empty());
        assert!(texts(" ; ;\n-- only a comment\n").is_empty());
        assert_eq!(texts(";SELECT 1;;"), vec![("SELECT 1", 1)]);
    }

    #[test]
    fn offsets_are_in_characters() {
        assert_eq!(
            texts("SELECT 'é'; SELECT 2"),
            vec![("SELECT 'é'", 0), (" SELECT 2", 11)]
        );
    }

    #[test]
    fn untokenizable_text_is_returned_whole() {
        assert_eq!(texts("SELECT 'open"), vec![("SELECT 'open", 0)]);
    }
}
