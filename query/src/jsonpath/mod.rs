//! SQL/JSON paths, as PostgreSQL 15 evaluates them for `jsonb_path_exists`,
//! `jsonb_path_match`, `jsonb_path_query(_array|_first)` and the `@?` / `@@` operators.
//!
//! 1. [`parse`] reads a path's text into a [`JsonPath`] (`parse.rs`): a mode (`lax`, the
//!    default, or `strict`) and one expression — accessors (`.key`, `.*`, `[i, j to k]`,
//!    `[*]`, `.**{m to n}`), filters `? (...)`, item methods (`.type()`, `.size()`,
//!    `.double()`, `.ceiling()`, `.floor()`, `.abs()`, `.keyvalue()`), arithmetic,
//!    variables `$name` and predicates (`==` ... `>=`, `&&`, `||`, `!`, `exists`,
//!    `starts with`, `like_regex`, `is unknown`).
//! 2. [`query`] evaluates it against a document and the `vars` object (`exec.rs`) and gives
//!    the sequence of items it selects, or `None` when `silent` suppressed an error.
//!
//! Lax mode unwraps arrays one level before accessors, filters and comparisons, treats a
//! non-array as a one-element array under a subscript, and ignores structural errors
//! (a missing key, a subscript out of range, an accessor on the wrong kind of item); strict
//! mode reports them. Other errors (an arithmetic operand that is not one number, an item
//! method on the wrong type) are raised in both modes unless `silent`. Inside a predicate
//! any such error makes the predicate unknown, which a filter treats as false. Missing
//! variables and a `vars` argument that is not an object are always errors.
//! `.datetime()` is not supported (0A000).

mod calls;
mod exec;
mod layout;
mod parse;
mod regex;

use zqlite_projections::value::Jsonb;

pub use calls::{PathCall, call, rows};
pub use exec::query;
pub use parse::parse;

/// A parsed path.
#[derive(Debug, Clone)]
pub struct JsonPath {
    /// `strict` mode (otherwise lax).
    pub strict: bool,
    expr: Expr,
}

/// A path expression; predicates and value expressions share the type, the parser keeps
/// them in their places.
#[derive(Debug, Clone)]
enum Expr {
    /// `$`.
    Root,
    /// `@`, the item a filter is testing.
    Current,
    /// `$name`.
    Var(String),
    /// `last` in a subscript: the innermost array's last index.
    Last,
    Literal(Jsonb),
    /// A primary followed by accessors.
    Path(Box<Expr>, Vec<Accessor>),
    /// Unary minus (`true`) or plus.
    Unary(bool, Box<Expr>),
    Binary(Arith, Box<Expr>, Box<Expr>),
    Compare(Cmp, Box<Expr>, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    IsUnknown(Box<Expr>),
    Exists(Box<Expr>),
    /// `x starts with "prefix"` (or a variable).
    StartsWith(Box<Expr>, Box<Expr>),
    LikeRegex(Box<Expr>, ::regex::Regex),
}

#[derive(Debug, Clone)]
enum Accessor {
    Key(String),
    /// `.*`.
    AnyKey,
    /// `[*]`.
    AnyIndex,
    /// `[a, b to c, ...]`.
    Index(Vec<Subscript>),
    /// `.**{first to last}`; level 0 is the item itself, `u32::MAX` is `last`.
    Any {
        first: u32,
        last: u32,
    },
    /// `? (predicate)`.
    Filter(Box<Expr>),
    Method(Method),
}

#[derive(Debug, Clone)]
struct Subscript {
    from: Expr,
    to: Option<Expr>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Method {
    Type,
    Size,
    Double,
    Ceiling,
    Floor,
    Abs,
    KeyValue,
}

impl Method {
    fn name(self) -> &'static str {
        match self {
            Method::Type => "type",
            Method::Size => "size",
            Method::Double => "double",
            Method::Ceiling => "ceiling",
            Method::Floor => "floor",
            Method::Abs => "abs",
            Method::KeyValue => "keyvalue",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Arith {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
}

impl Arith {
    fn symbol(self) -> &'static str {
        match self {
            Arith::Add => "+",
            Arith::Sub => "-",
            Arith::Mul => "*",
            Arith::Div => "/",
            Arith::Mod => "%",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}
