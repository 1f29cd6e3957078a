//! The SQL/JSON path language's text form, read into a [`JsonPath`] tree: a lexer over the
//! path's characters and a recursive-descent parser following PostgreSQL 15's
//! `jsonpath_gram.y`.
//!
//! Precedence, loosest first: `||`, `&&`, `!`, the comparisons / `starts with` /
//! `like_regex` (not associative), `+ -`, `* / %`, unary `+ -`, accessors. The grammar
//! keeps predicates (which give true, false or unknown) apart from value expressions:
//! `&&`, `||` and `!` take predicates, arithmetic and comparison operands take values, a
//! filter `? (...)` holds a predicate, and `!` needs a parenthesised predicate or
//! `exists(...)`. A whole path may be either (`$.a > 1` is a predicate path).
//!
//! Keywords are case-sensitive and are keys when they follow `.`; `@` is only allowed
//! inside a filter and `last` only inside an array subscript, as in PostgreSQL. A syntax
//! error is 42601 "syntax error at or near "tok" of jsonpath input" (or "at end of jsonpath
//! input"); `.datetime()` is refused with 0A000.

use zqlite_projections::value::{Jsonb, Numeric};

use super::{Accessor, Arith, Cmp, Expr, JsonPath, Method, Subscript};
use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    /// `$`.
    Root,
    /// `@`.
    Current,
    /// `$name` / `$"name"`.
    Var(String),
    /// A bare word: a keyword or a key.
    Ident(String),
    Str(String),
    Num(String),
    /// Punctuation and operators.
    Sym(&'static str),
}

/// The lexer's output: each token with its source text (for error messages).
struct Lexed {
    toks: Vec<(Tok, String)>,
}

pub(super) fn syntax_error(near: Option<&str>) -> Error {
    Error::Runtime {
        sqlstate: "42601",
        message: match near {
            Some(t) => format!("syntax error at or near \"{t}\" of jsonpath input"),
            None => "syntax error at end of jsonpath input".into(),
        },
    }
}

fn invalid(message: impl Into<String>) -> Error {
    Error::Runtime {
        sqlstate: "42601",
        message: message.into(),
    }
}

const SYMBOLS: &[&str] = &[
    "**", "==", "!=", "<>", "<=", ">=", "&&", "||", "$", "@", ".", "[", "]", "(", ")", "{", "}",
    ",", "?", "*", "+", "-", "/", "%", "<", ">", "!",
];

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn lex(text: &str) -> Result<Lexed> {
    let mut toks = Vec::new();
    let mut rest = text;
    loop {
        rest = rest.trim_start();
        let Some(c) = rest.chars().next() else {
            return Ok(Lexed { toks });
        };
        let start = rest;
        if c == '"' {
            let (s, r) = string(rest)?;
            toks.push((Tok::Str(s), start[..start.len() - r.len()].to_string()));
            rest = r;
            continue;
        }
        if c.is_ascii_digit()
            || (c == '.'
                && rest[1..].starts_with(|d: char| d.is_ascii_digit())
                && !after_dot(&toks))
        {
            let end = number_end(rest);
            toks.push((Tok::Num(rest[..end].to_string()), rest[..end].to_string()));
            rest = &rest[end..];
            continue;
        }
        if c == '$' {
            let r = &rest[1..];
            if r.starts_with('"') {
                let (s, r2) = string(r)?;
                toks.push((Tok::Var(s), start[..start.len() - r2.len()].to_string()));
                rest = r2;
                continue;
            }
            let end = r.find(|c: char| !is_word_char(c)).unwrap_or(r.len());
            if end > 0 {
                toks.push((Tok::Var(r[..end].to_string()), rest[..=end].to_string()));
                rest = &r[end..];
            } else {
                toks.push((Tok::Root, "$".into()));
                rest = r;
            }
            continue;
        }
        if is_word_char(c) {
            let end = rest.find(|c: char| !is_word_char(c)).unwrap_or(rest.len());
            toks.push((Tok::Ident(rest[..end].to_string()), rest[..end].to_string()));
            rest = &rest[end..];
            continue;
        }
        let Some(sym) = SYMBOLS.iter().find(|s| rest.starts_with(**s)) else {
            return Err(syntax_error(Some(&c.to_string())));
        };
        let tok = match *sym {
            "@" => Tok::Current,
            s => Tok::Sym(s),
        };
        toks.push((tok, sym.to_string()));
        rest = &rest[sym.len()..];
    }
}

/// Whether the previous token is `.`, so that `.5` there is not a number (`$.5` is not a
/// path either way, but `$.a` must lex as `.` `a`).
fn after_dot(toks: &[(Tok, String)]) -> bool {
    matches!(toks.last(), Some((Tok::Sym("."), _)))
}

/// The length of the numeric literal at the start of `text`.
fn number_end(text: &str) -> usize {
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    if i < b.len() && b[i] == b'.' && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
        i += 1;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        let mut j = i + 1;
        if j < b.len() && (b[j] == b'+' || b[j] == b'-') {
            j += 1;
        }
        if j < b.len() && b[j].is_ascii_digit() {
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
            i = j;
        }
    }
    i
}

/// A double-quoted string with jsonpath escapes, and the text after it.
fn string(text: &str) -> Result<(String, &str)> {
    let mut out = String::new();
    let mut chars = text[1..].char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Ok((out, &text[i + 2..])),
            '\\' => {
                let Some((_, e)) = chars.next() else {
                    return Err(syntax_error(None));
                };
                match e {
                    'b' => out.push('\u{8}'),
                    'f' => out.push('\u{c}'),
                    'n' => out.push('\n'),
                    'r' => out.push('\r'),
                    't' => out.push('\t'),
                    'v' => out.push('\u{b}'),
                    'x' => {
                        let hex: String = chars.clone().take(2).map(|(_, c)| c).collect();
                        let code = u32::from_str_radix(&hex, 16)
                            .map_err(|_| invalid("invalid hexadecimal character sequence"))?;
                        chars.nth(1);
                        out.push(char::from_u32(code).ok_or_else(|| syntax_error(None))?);
                    }
                    'u' => {
                        let hex: String = chars.clone().take(4).map(|(_, c)| c).collect();
                        let code = u32::from_str_radix(&hex, 16)
                            .map_err(|_| invalid("invalid Unicode escape sequence"))?;
                        chars.nth(3);
                        let c = char::from_u32(code)
                            .ok_or_else(|| invalid("invalid Unicode escape sequence"))?;
                        if c == '\0' {
                            return Err(Error::Runtime {
                                sqlstate: "22P05",
                                message: "unsupported Unicode escape sequence".into(),
                            });
                        }
                        out.push(c);
                    }
                    other => out.push(other),
                }
            }
            c => out.push(c),
        }
    }
    Err(syntax_error(None))
}

struct Parser {
    toks: Vec<(Tok, String)>,
    pos: usize,
    /// Nesting depth of filters (`@` is allowed above 0).
    filters: usize,
    /// Nesting depth of array subscripts (`last` is allowed above 0).
    subscripts: usize,
}

/// Parses a path's text.
pub fn parse(text: &str) -> Result<JsonPath> {
    let Lexed { toks } = lex(text)?;
    let mut p = Parser {
        toks,
        pos: 0,
        filters: 0,
        subscripts: 0,
    };
    let strict = match p.peek() {
        Some(Tok::Ident(w)) if w == "strict" => {
            p.pos += 1;
            true
        }
        Some(Tok::Ident(w)) if w == "lax" => {
            p.pos += 1;
            false
        }
        _ => false,
    };
    let (expr, _) = p.or_expr()?;
    if p.pos < p.toks.len() {
        return Err(p.error());
    }
    Ok(JsonPath { strict, expr })
}

/// A parsed expression and whether it is a predicate.
type Parsed = (Expr, bool);

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|(t, _)| t)
    }

    fn error(&self) -> Error {
        syntax_error(self.toks.get(self.pos).map(|(_, s)| s.as_str()))
    }

    fn eat_sym(&mut self, s: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Sym(x)) if *x == s) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect_sym(&mut self, s: &str) -> Result<()> {
        if self.eat_sym(s) {
            Ok(())
        } else {
            Err(self.error())
        }
    }

    fn eat_word(&mut self, w: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Ident(x)) if x == w) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn predicate(&mut self, (e, is_pred): Parsed) -> Result<Expr> {
        if is_pred { Ok(e) } else { Err(self.error()) }
    }

    fn value(&mut self, (e, is_pred): Parsed) -> Result<Expr> {
        if is_pred { Err(self.error()) } else { Ok(e) }
    }

    fn or_expr(&mut self) -> Result<Parsed> {
        let mut left = self.and_expr()?;
        while self.eat_sym("||") {
            let l = self.predicate(left)?;
            let r = self.and_expr()?;
            let r = self.predicate(r)?;
            left = (Expr::Or(Box::new(l), Box::new(r)), true);
        }
        Ok(left)
    }

    fn and_expr(&mut self) -> Result<Parsed> {
        let mut left = self.not_expr()?;
        while self.eat_sym("&&") {
            let l = self.predicate(left)?;
            let r = self.not_expr()?;
            let r = self.predicate(r)?;
            left = (Expr::And(Box::new(l), Box::new(r)), true);
        }
        Ok(left)
    }

    fn not_expr(&mut self) -> Result<Parsed> {
        if self.eat_sym("!") {
            // Only a delimited predicate: `!(...)` or `!exists(...)`.
            let delimited = matches!(self.peek(), Some(Tok::Sym("(")))
                || matches!(self.peek(), Some(Tok::Ident(w)) if w == "exists");
            if !delimited {
                return Err(self.error());
            }
            let inner = self.primary()?;
            let inner = self.predicate(inner)?;
            return Ok((Expr::Not(Box::new(inner)), true));
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Result<Parsed> {
        let left = self.additive()?;
        let op = match self.peek() {
            Some(Tok::Sym("==")) => Some(Cmp::Eq),
            Some(Tok::Sym("!=" | "<>")) => Some(Cmp::Ne),
            Some(Tok::Sym("<")) => Some(Cmp::Lt),
            Some(Tok::Sym("<=")) => Some(Cmp::Le),
            Some(Tok::Sym(">")) => Some(Cmp::Gt),
            Some(Tok::Sym(">=")) => Some(Cmp::Ge),
            _ => None,
        };
        if let Some(op) = op {
            let l = self.value(left)?;
            self.pos += 1;
            let r = self.additive()?;
            let r = self.value(r)?;
            return Ok((Expr::Compare(op, Box::new(l), Box::new(r)), true));
        }
        if self.eat_word("starts") {
            let l = self.value(left)?;
            if !self.eat_word("with") {
                return Err(self.error());
            }
            let init = match self.peek() {
                Some(Tok::Str(s)) => Expr::Literal(Jsonb::String(s.clone())),
                Some(Tok::Var(v)) => Expr::Var(v.clone()),
                _ => return Err(self.error()),
            };
            self.pos += 1;
            return Ok((Expr::StartsWith(Box::new(l), Box::new(init)), true));
        }
        if self.eat_word("like_regex") {
            let l = self.value(left)?;
            let Some(Tok::Str(pattern)) = self.peek().cloned() else {
                return Err(self.error());
            };
            self.pos += 1;
            let mut flags = String::new();
            if self.eat_word("flag") {
                let Some(Tok::Str(f)) = self.peek().cloned() else {
                    return Err(self.error());
                };
                self.pos += 1;
                flags = f;
            }
            let regex = super::regex::compile(&pattern, &flags)?;
            return Ok((Expr::LikeRegex(Box::new(l), regex), true));
        }
        Ok(left)
    }

    fn additive(&mut self) -> Result<Parsed> {
        let mut left = self.multiplicative()?;
        loop {
            let op = if self.eat_sym("+") {
                Arith::Add
            } else if self.eat_sym("-") {
                Arith::Sub
            } else {
                return Ok(left);
            };
            let l = self.value(left)?;
            let r = self.multiplicative()?;
            let r = self.value(r)?;
            left = (Expr::Binary(op, Box::new(l), Box::new(r)), false);
        }
    }

    fn multiplicative(&mut self) -> Result<Parsed> {
        let mut left = self.unary()?;
        loop {
            let op = if self.eat_sym("*") {
                Arith::Mul
            } else if self.eat_sym("/") {
                Arith::Div
            } else if self.eat_sym("%") {
                Arith::Mod
            } else {
                return Ok(left);
            };
            let l = self.value(left)?;
            let r = self.unary()?;
            let r = self.value(r)?;
            left = (Expr::Binary(op, Box::new(l), Box::new(r)), false);
        }
    }

    fn unary(&mut self) -> Result<Parsed> {
        let neg = if self.eat_sym("-") {
            true
        } else if self.eat_sym("+") {
            false
        } else {
            return self.accessor_expr();
        };
        let inner = self.unary()?;
        let inner = self.value(inner)?;
        Ok((Expr::Unary(neg, Box::new(inner)), false))
    }

    fn accessor_expr(&mut self) -> Result<Parsed> {
        let (base, is_pred) = self.primary()?;
        let mut accessors = Vec::new();
        while let Some(a) = self.accessor()? {
            accessors.push(a);
        }
        if accessors.is_empty() {
            return Ok((base, is_pred));
        }
        // A parenthesised predicate followed by accessors is a value.
        Ok((Expr::Path(Box::new(base), accessors), false))
    }

    fn primary(&mut self) -> Result<Parsed> {
        let Some((tok, _)) = self.toks.get(self.pos).cloned() else {
            return Err(self.error());
        };
        self.pos += 1;
        let e = match tok {
            Tok::Root => Expr::Root,
            Tok::Current => {
                if self.filters == 0 {
                    return Err(invalid("@ is not allowed in root expressions"));
                }
                Expr::Current
            }
            Tok::Var(v) => Expr::Var(v),
            Tok::Str(s) => Expr::Literal(Jsonb::String(s)),
            Tok::Num(n) => Expr::Literal(Jsonb::Number(
                Numeric::parse(&n).map_err(|_| syntax_error(Some(&n)))?,
            )),
            Tok::Ident(w) => match w.as_str() {
                "true" => Expr::Literal(Jsonb::Bool(true)),
                "false" => Expr::Literal(Jsonb::Bool(false)),
                "null" => Expr::Literal(Jsonb::Null),
                "last" => {
                    if self.subscripts == 0 {
                        return Err(invalid("LAST is allowed only in array subscripts"));
                    }
                    Expr::Last
                }
                "exists" => {
                    self.expect_sym("(")?;
                    let inner = self.or_expr()?;
                    let inner = self.value(inner)?;
                    self.expect_sym(")")?;
                    return Ok((Expr::Exists(Box::new(inner)), true));
                }
                _ => {
                    self.pos -= 1;
                    return Err(self.error());
                }
            },
            Tok::Sym("(") => {
                let (inner, is_pred) = self.or_expr()?;
                self.expect_sym(")")?;
                if is_pred && self.eat_word("is") {
                    if !self.eat_word("unknown") {
                        return Err(self.error());
                    }
                    return Ok((Expr::IsUnknown(Box::new(inner)), true));
                }
                return Ok((inner, is_pred));
            }
            _ => {
                self.pos -= 1;
                return Err(self.error());
            }
        };
        Ok((e, false))
    }

    /// The accessor at the cursor, if there is one.
    fn accessor(&mut self) -> Result<Option<Accessor>> {
        if self.eat_sym("[") {
            return self.subscripts().map(Some);
        }
        if self.eat_sym("?") {
            self.expect_sym("(")?;
            self.filters += 1;
            let inner = self.or_expr();
            self.filters -= 1;
            let inner = inner?;
            let pred = self.predicate(inner)?;
            self.expect_sym(")")?;
            return Ok(Some(Accessor::Filter(Box::new(pred))));
        }
        if !self.eat_sym(".") {
            return Ok(None);
        }
        let Some((tok, _)) = self.toks.get(self.pos).cloned() else {
            return Err(self.error());
        };
        self.pos += 1;
        Ok(Some(match tok {
            Tok::Sym("*") => Accessor::AnyKey,
            Tok::Sym("**") => self.any_levels()?,
            Tok::Str(key) => Accessor::Key(key),
            Tok::Ident(name) => {
                if self.eat_sym("(") {
                    let method = match name.as_str() {
                        "type" => Method::Type,
                        "size" => Method::Size,
                        "double" => Method::Double,
                        "ceiling" => Method::Ceiling,
                        "floor" => Method::Floor,
                        "abs" => Method::Abs,
                        "keyvalue" => Method::KeyValue,
                        "datetime" => {
                            return Err(Error::unsupported("jsonpath item method .datetime()"));
                        }
                        _ => {
                            self.pos -= 1;
                            return Err(self.error());
                        }
                    };
                    self.expect_sym(")")?;
                    Accessor::Method(method)
                } else {
                    Accessor::Key(name)
                }
            }
            _ => {
                self.pos -= 1;
                return Err(self.error());
            }
        }))
    }

    /// `[*]` or `[subscript, ...]`, after the `[`.
    fn subscripts(&mut self) -> Result<Accessor> {
        if self.eat_sym("*") {
            self.expect_sym("]")?;
            return Ok(Accessor::AnyIndex);
        }
        self.subscripts += 1;
        let result = self.subscript_list();
        self.subscripts -= 1;
        result
    }

    fn subscript_list(&mut self) -> Result<Accessor> {
        let mut list = Vec::new();
        loop {
            let from = self.or_expr()?;
            let from = self.value(from)?;
            let to = if self.eat_word("to") {
                let to = self.or_expr()?;
                Some(self.value(to)?)
            } else {
                None
            };
            list.push(Subscript { from, to });
            if self.eat_sym("]") {
                return Ok(Accessor::Index(list));
            }
            self.expect_sym(",")?;
        }
    }

    /// `.**`, `.**{n}`, `.**{n to m}` (`last` for unbounded), after the `**`.
    fn any_levels(&mut self) -> Result<Accessor> {
        if !self.eat_sym("{") {
            return Ok(Accessor::Any {
                first: 0,
                last: u32::MAX,
            });
        }
        let first = self.level()?;
        let last = if self.eat_word("to") {
            self.level()?
        } else {
            first
        };
        self.expect_sym("}")?;
        Ok(Accessor::Any { first, last })
    }

    fn level(&mut self) -> Result<u32> {
        let level = match self.peek() {
            Some(Tok::Ident(w)) if w == "last" => u32::MAX,
            Some(Tok::Num(n)) => n.parse::<u32>().map_err(|_| self.error())?,
            _ => return Err(self.error()),
        };
        self.pos += 1;
        Ok(level)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syntax_errors_name_the_token() {
        for (path, message) in [
            ("$.", "syntax error at end of jsonpath input"),
            ("", "syntax error at end of jsonpath input"),
            ("$ ? (@ > 1", "syntax error at end of jsonpath input"),
            (
                "$.a ? (1)",
                "syntax error at or near \")\" of jsonpath input",
            ),
            (
                "$.a.foo()",
                "syntax error at or near \"(\" of jsonpath input",
            ),
            ("@.a", "@ is not allowed in root expressions"),
            ("last", "LAST is allowed only in array subscripts"),
            (
                "$ == 1 == 2",
                "syntax error at or near \"==\" of jsonpath input",
            ),
            ("!$.a", "syntax error at or near \"$\" of jsonpath input"),
        ] {
            let err = parse(path).unwrap_err();
            assert_eq!(err.sqlstate(), "42601", "{path}");
            assert_eq!(err.to_string(), message, "{path}");
        }
        assert_eq!(parse("$.a.datetime()").unwrap_err().sqlstate(), "0A000");
    }

    #[test]
    fn modes_keys_and_predicates() {
        assert!(parse("strict $.a").unwrap().strict);
        assert!(!parse("lax $.a").unwrap().strict);
        assert!(!parse("$.a").unwrap().strict);
        // Keywords are keys after a dot; `$.strict` is not a mode.
        assert!(parse("$.last.type.strict.size").is_ok());
        assert!(parse("$ ? (@.a starts with \"x\" && !(@.b == 1) || exists(@.c))").is_ok());
        assert!(parse("$.a[1 to last, 0].**{1 to 2}").is_ok());
        assert!(parse("($.a > 1) is unknown").is_ok());
        assert!(parse("-$.a[*] + 2 * $x % 3").is_ok());
    }
}
