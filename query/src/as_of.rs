//! Time travel in SQL: reading the database as it was at a past point of its log.
//!
//! Two ways to ask (both documented in `docs/time-travel.md`):
//! - the session setting `SET zq.as_of = '<point>'` (`RESET zq.as_of` or `= DEFAULT` goes
//!   back to the live state); while it is set every read of the session uses that point
//!   and every write fails with 25006 (`read_only_sql_transaction`);
//! - the table function `zq_as_of('<table>', <point>)` in a query's FROM clause: the whole
//!   query reads that point (the named table and every other table it mentions).
//!
//! A point is `'lsn:<n>'` (the state right after LSN n committed; `lsn:0` is the empty
//! database), a `timestamptz` (the state after the last transaction committed at or
//! before it) or, in `zq_as_of`, an integer LSN. Times are resolved to an LSN once, when the
//! setting is made or the query starts; the state itself comes from
//! [`zqlite_projections::Store::state_at`] (nearest checkpoint, replay, bounded cache).
//!
//! Invariants:
//! - A statement reads exactly one state: one query cannot name two different points.
//! - A time in the future is refused (it has no fixed answer yet), as is an LSN past the
//!   last committed one.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use sqlparser::ast;
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Token, Tokenizer};
use zqlite_projections::value::{CastContext, DataType, TimestampTz, Value, cast};
use zqlite_projections::{Lsn, State, Store};

use crate::bind::Binder;
use crate::error::{Error, Result};
use crate::exec::Exec;

/// The session setting's name.
pub const SETTING: &str = "zq.as_of";
/// The table function's name.
pub const FUNCTION: &str = "zq_as_of";

/// Microseconds from the Unix epoch to PostgreSQL's (2000-01-01).
const PG_EPOCH_UNIX_MICROS: i64 = 946_684_800_000_000;

/// A past point a session or a query reads, opened.
#[derive(Debug, Clone)]
pub struct AsOf {
    /// How `SHOW zq.as_of` shows it: `lsn:<n>` or the time in timestamptz output form.
    pub shown: String,
    /// The state at that point (kept while the setting lasts).
    pub state: Arc<State>,
}

impl AsOf {
    pub fn lsn(&self) -> Lsn {
        self.state.lsn()
    }
}

/// A point before it is resolved to an LSN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Point {
    Lsn(Lsn),
    /// Microseconds since the Unix epoch.
    Time(i64),
}

fn invalid(message: String) -> Error {
    Error::Runtime {
        sqlstate: "22023",
        message,
    }
}

/// Reads a point from a value: text (`lsn:<n>` or a timestamp), a timestamptz, or an
/// integer LSN.
fn point_of(value: Value, what: &str) -> Result<Point> {
    match value {
        Value::Null => Err(invalid(format!("{what} cannot be NULL"))),
        Value::Int2(n) => lsn_of(i64::from(n), what),
        Value::Int4(n) => lsn_of(i64::from(n), what),
        Value::Int8(n) => lsn_of(n, what),
        Value::TimestampTz(TimestampTz(t)) => Ok(Point::Time(t + PG_EPOCH_UNIX_MICROS)),
        Value::Text(text) => {
            let trimmed = text.trim();
            if let Some(digits) = trimmed
                .get(..4)
                .filter(|p| p.eq_ignore_ascii_case("lsn:"))
                .map(|_| trimmed[4..].trim())
            {
                return digits.parse::<Lsn>().map(Point::Lsn).map_err(|_| {
                    invalid(format!(
                        "invalid value for {what}: \"{text}\": an LSN is written lsn:<n> with \
                         n a whole number from 0"
                    ))
                });
            }
            match cast(
                Value::Text(trimmed.to_string()),
                &DataType::TimestampTz,
                CastContext::Explicit,
            ) {
                Ok(Value::TimestampTz(TimestampTz(t))) => Ok(Point::Time(t + PG_EPOCH_UNIX_MICROS)),
                _ => Err(invalid(format!(
                    "invalid value for {what}: \"{text}\": expected a timestamptz such as \
                     '2026-11-28 10:00:00+00' or an LSN such as 'lsn:42'"
                ))),
            }
        }
        other => Err(invalid(format!(
            "invalid value for {what}: a {} is neither a timestamptz nor an LSN",
            other.data_type().map_or("value", |t| t.sql_name())
        ))),
    }
}

fn lsn_of(n: i64, what: &str) -> Result<Point> {
    Lsn::try_from(n)
        .map(Point::Lsn)
        .map_err(|_| invalid(format!("invalid value for {what}: LSN {n} is negative")))
}

fn now_unix_micros() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

/// The LSN a point stands for.
fn resolve(store: &Store, point: Point, what: &str) -> Result<Lsn> {
    match point {
        Point::Lsn(lsn) => Ok(lsn),
        Point::Time(t) => {
            if t > now_unix_micros() {
                return Err(invalid(format!(
                    "{what} is in the future ({}): only the past can be read",
                    shown(point)
                )));
            }
            Ok(store.lsn_committed_by(t)?)
        }
    }
}

fn shown(point: Point) -> String {
    match point {
        Point::Lsn(lsn) => format!("lsn:{lsn}"),
        Point::Time(t) => Value::TimestampTz(TimestampTz(t - PG_EPOCH_UNIX_MICROS)).to_string(),
    }
}

/// Evaluates a constant expression (a literal, a cast, `now() - interval '1 hour'`, a `$n`
/// parameter) on `live`.
fn constant(live: &State, params: &[Value], e: &ast::Expr) -> Result<Value> {
    let mut binder = Binder::new(live, params);
    let (expr, _) = binder.expr(e)?;
    Exec::new(live, params).eval(&expr, &[])
}

/// Opens the point a `SET zq.as_of` value names (`None` for the empty string: live).
pub(crate) fn open_setting(
    store: &Store,
    params: &[Value],
    value: &ast::Expr,
) -> Result<Option<AsOf>> {
    let live = store.snapshot();
    let value = constant(&live, params, value)?;
    if matches!(&value, Value::Text(t) if t.trim().is_empty()) {
        return Ok(None);
    }
    let what = format!("parameter \"{SETTING}\"");
    let point = point_of(value, &what)?;
    let lsn = resolve(store, point, &what)?;
    Ok(Some(AsOf {
        shown: shown(point),
        state: store.state_at(lsn)?.state,
    }))
}

/// Whether `name` is the setting (`zq.as_of`, any case).
pub(crate) fn is_setting(parts: &[String]) -> bool {
    parts.join(".").eq_ignore_ascii_case(SETTING)
}

/// Whether a FROM item's name is the table function (`zq_as_of` or `zq.zq_as_of`).
pub(crate) fn is_function(name: &ast::ObjectName) -> bool {
    let parts: Vec<String> = name
        .0
        .iter()
        .map(|p| match p {
            ast::ObjectNamePart::Identifier(i) => i.value.to_ascii_lowercase(),
            other => other.to_string(),
        })
        .collect();
    match parts.as_slice() {
        [f] => f == FUNCTION,
        [schema, f] => schema == "zq" && f == FUNCTION,
        _ => false,
    }
}

/// The point arguments of every `zq_as_of(...)` in a query, in text order, wherever the
/// calls are (FROM lists, joins, subqueries, CTEs). Found in the query's tokens: a call is
/// the word `zq_as_of` followed by `(`, and its second argument runs from the first
/// top-level comma to the closing parenthesis.
fn point_arguments(q: &ast::Query) -> Result<Vec<ast::Expr>> {
    let text = q.to_string();
    let tokens: Vec<Token> = Tokenizer::new(&PostgreSqlDialect {}, &text)
        .tokenize()
        .map_err(|e| Error::Runtime {
            sqlstate: "42601",
            message: e.to_string(),
        })?
        .into_iter()
        .filter(|t| !matches!(t, Token::Whitespace(_)))
        .collect();
    let mut points = Vec::new();
    for (i, t) in tokens.iter().enumerate() {
        let Token::Word(w) = t else { continue };
        if w.quote_style.is_some()
            || !w.value.eq_ignore_ascii_case(FUNCTION)
            || tokens.get(i + 1) != Some(&Token::LParen)
        {
            continue;
        }
        let mut depth = 0usize;
        let mut second: Option<Vec<Token>> = None;
        for t in &tokens[i + 2..] {
            match t {
                Token::LParen | Token::LBracket => depth += 1,
                Token::RParen | Token::RBracket if depth > 0 => depth -= 1,
                Token::RParen => break,
                Token::Comma if depth == 0 => {
                    if second.is_some() {
                        // A third argument: the binder reports the wrong arity.
                        second = None;
                        break;
                    }
                    second = Some(Vec::new());
                    continue;
                }
                _ => {}
            }
            if let Some(arg) = &mut second {
                arg.push(t.clone());
            }
        }
        if let Some(arg) = second {
            let expr = Parser::new(&PostgreSqlDialect {})
                .with_tokens(arg)
                .parse_expr()
                .map_err(Error::from_parser)?;
            points.push(expr);
        }
    }
    Ok(points)
}

/// What a query asks with `zq_as_of`.
#[derive(Debug)]
pub(crate) enum QueryPoint {
    /// No `zq_as_of` in the query.
    Absent,
    /// Only NULL points (as when a client describes a statement before binding its
    /// parameters): the query reads what it would read without them.
    Unset,
    /// The past state every table of the query reads.
    At(AsOf),
}

/// The point a query names with `zq_as_of`; see [`QueryPoint`].
pub(crate) fn query_point(store: &Store, q: &ast::Query, params: &[Value]) -> Result<QueryPoint> {
    let args = point_arguments(q)?;
    if args.is_empty() {
        return Ok(QueryPoint::Absent);
    }
    let live = store.snapshot();
    let what = format!("the point of {FUNCTION}");
    let mut chosen: Option<(Point, Lsn)> = None;
    for e in &args {
        let value = constant(&live, params, e)?;
        if value.is_null() {
            continue;
        }
        let point = point_of(value, &what)?;
        let lsn = resolve(store, point, &what)?;
        match chosen {
            None => chosen = Some((point, lsn)),
            Some((_, first)) if first != lsn => {
                return Err(Error::Runtime {
                    sqlstate: "0A000",
                    message: format!(
                        "a query reads one point in time, but its {FUNCTION} calls name LSN \
                         {first} and LSN {lsn}"
                    ),
                });
            }
            Some(_) => {}
        }
    }
    Ok(match chosen {
        None => QueryPoint::Unset,
        Some((point, lsn)) => QueryPoint::At(AsOf {
            shown: shown(point),
            state: store.state_at(lsn)?.state,
        }),
    })
}

/// The error for a write while the session reads the past.
pub(crate) fn read_only(stmt: &ast::Statement, at: &AsOf) -> Error {
    let text = stmt.to_string();
    let command: Vec<&str> = text.split_whitespace().take(2).collect();
    let command = match command.first().map(|w| w.to_ascii_uppercase()) {
        Some(w) if ["CREATE", "DROP", "ALTER"].contains(&w.as_str()) => command.join(" "),
        Some(w) => w,
        None => "a write".into(),
    };
    Error::Runtime {
        sqlstate: "25006",
        message: format!(
            "cannot execute {command} while {SETTING} is set: the session reads the database \
             as of {} (LSN {}) and is read-only; RESET {SETTING} to write",
            at.shown,
            at.lsn()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_read_from_text_timestamps_and_integers() {
        let what = "x";
        assert_eq!(
            point_of(Value::Text("lsn:42".into()), what).unwrap(),
            Point::Lsn(42)
        );
        assert_eq!(
            point_of(Value::Text(" LSN: 7 ".into()), what).unwrap(),
            Point::Lsn(7)
        );
        assert_eq!(point_of(Value::Int8(3), what).unwrap(), Point::Lsn(3));
        assert_eq!(
            point_of(Value::Text("1970-01-01 00:00:01+00".into()), what).unwrap(),
            Point::Time(1_000_000)
        );
        assert_eq!(
            point_of(Value::Text("2000-01-01 01:00:00+01".into()), what).unwrap(),
            Point::Time(PG_EPOCH_UNIX_MICROS)
        );
        for bad in ["lsn:-1", "lsn:x", "yesterday-ish", "lsn:"] {
            let e = point_of(Value::Text(bad.into()), what).unwrap_err();
            assert_eq!(e.sqlstate(), "22023", "{bad}");
        }
        assert_eq!(
            point_of(Value::Int8(-1), what).unwrap_err().sqlstate(),
            "22023"
        );
        assert_eq!(point_of(Value::Null, what).unwrap_err().sqlstate(), "22023");
        assert_eq!(shown(Point::Lsn(5)), "lsn:5");
        assert_eq!(
            shown(Point::Time(PG_EPOCH_UNIX_MICROS)),
            "2000-01-01 00:00:00+00"
        );
    }
}
