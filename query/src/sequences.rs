//! Sequences in SQL: `CREATE SEQUENCE`, `ALTER SEQUENCE`, and the `nextval`, `currval`,
//! `setval` and `lastval` calls the executor makes.
//!
//! sqlparser does not parse `ALTER SEQUENCE` in the PostgreSQL dialect, so [`recognise_alter`]
//! reads it from tokens: `RESTART [[WITH] n]` and `OWNED BY` are taken out, and the options
//! left are the ones `CREATE SEQUENCE` takes, parsed by sqlparser as such.
//!
//! Invariants: a definition always has `min_value < max_value`, `increment != 0` and its
//! start within the bounds (PostgreSQL's checks, SQLSTATE 22023). Sequence state changes are
//! not transactional: the calls return a [`Change`] that the caller logs whatever happens to
//! the statement's transaction.

use sqlparser::ast;
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Token, Tokenizer};
use zqlite_projections::catalog::{SequenceDef, TableId};
use zqlite_projections::value::Value;
use zqlite_projections::{Change, Sequences, State, Transaction};

use crate::bind::{object_name, qualified_name};
use crate::error::{Error, Result};
use crate::functions::Func;
use crate::result::QueryResult;

fn invalid(message: String) -> Error {
    Error::bind("22023", message)
}

/// The integer an option such as `START WITH -5` gives.
fn option_int(e: &ast::Expr) -> Result<i64> {
    let parsed = match e {
        ast::Expr::Value(v) => match &v.value {
            ast::Value::Number(n, _) => n.parse::<i64>().ok(),
            _ => None,
        },
        ast::Expr::UnaryOp {
            op: ast::UnaryOperator::Minus,
            expr,
        } => option_int(expr).ok().and_then(i64::checked_neg),
        ast::Expr::UnaryOp {
            op: ast::UnaryOperator::Plus,
            expr,
        } => option_int(expr).ok(),
        _ => None,
    };
    parsed.ok_or_else(|| Error::bind("22023", format!("invalid sequence option value: {e}")))
}

/// The largest value a sequence of type `ty` holds (smallint, integer or bigint).
fn type_max(ty: &ast::DataType) -> Result<i64> {
    let text = ty.to_string().to_lowercase();
    match text.as_str() {
        "smallint" | "int2" => Ok(i64::from(i16::MAX)),
        "integer" | "int" | "int4" => Ok(i64::from(i32::MAX)),
        "bigint" | "int8" => Ok(i64::MAX),
        _ => Err(invalid(
            "sequence type must be smallint, integer, or bigint".to_string(),
        )),
    }
}

/// What the options of one CREATE or ALTER SEQUENCE say; `None` where they are silent.
#[derive(Default)]
struct Options {
    type_max: Option<i64>,
    increment: Option<i64>,
    min_value: Option<Option<i64>>,
    max_value: Option<Option<i64>>,
    start: Option<i64>,
    cycle: Option<bool>,
    owned_by: Option<Option<ast::ObjectName>>,
}

fn read_options(options: &[ast::SequenceOptions]) -> Result<Options> {
    use ast::SequenceOptions as O;
    let mut out = Options::default();
    let mut seen = Vec::new();
    for option in options {
        let kind = std::mem::discriminant(option);
        if seen.contains(&kind) {
            return Err(Error::bind("42601", "conflicting or redundant options"));
        }
        seen.push(kind);
        match option {
            O::DataType(ty) => out.type_max = Some(type_max(ty)?),
            O::IncrementBy(e, _) => out.increment = Some(option_int(e)?),
            O::MinValue(e) => out.min_value = Some(e.as_ref().map(option_int).transpose()?),
            O::MaxValue(e) => out.max_value = Some(e.as_ref().map(option_int).transpose()?),
            O::StartWith(e, _) => out.start = Some(option_int(e)?),
            O::Cache(e) => {
                let n = option_int(e)?;
                if n < 1 {
                    return Err(invalid(format!("CACHE ({n}) must be greater than zero")));
                }
            }
            O::Cycle(no_cycle) => out.cycle = Some(!no_cycle),
            O::OwnedBy(target) => out.owned_by = Some(target.clone()),
        }
    }
    Ok(out)
}

/// The table an `OWNED BY table.column` names (checking the column exists).
fn owner(state: &State, target: &ast::ObjectName) -> Result<TableId> {
    let parts: Vec<String> = target
        .0
        .iter()
        .map(|p| match p {
            ast::ObjectNamePart::Identifier(i) => Ok(crate::bind::ident_name(i)),
            other => Err(Error::unsupported(format!("OWNED BY {other}"))),
        })
        .collect::<Result<_>>()?;
    let [.., table, column] = parts.as_slice() else {
        return Err(Error::bind(
            "42601",
            "invalid OWNED BY option: specify OWNED BY table.column or OWNED BY NONE",
        ));
    };
    let def = state
        .catalog()
        .table_by_name(table)
        .ok_or_else(|| Error::bind("42P01", format!("relation \"{table}\" does not exist")))?;
    if !def.columns.iter().any(|c| &c.name == column) {
        return Err(Error::bind(
            "42703",
            format!("column \"{column}\" of relation \"{table}\" does not exist"),
        ));
    }
    Ok(def.id)
}

/// `base` with `options` applied and checked as PostgreSQL checks them. A new sequence
/// (`creating`) or a changed type takes the default bounds the options do not name; a new
/// sequence starts at its minimum (ascending) or maximum (descending) by default.
fn apply_options(
    state: &State,
    base: SequenceDef,
    o: &Options,
    creating: bool,
) -> Result<SequenceDef> {
    let mut def = base;
    let increment = o.increment.unwrap_or(def.increment);
    if increment == 0 {
        return Err(invalid("INCREMENT must not be zero".into()));
    }
    let reset_bounds = creating || o.type_max.is_some();
    def.increment = increment;
    let max_of_type = o.type_max.unwrap_or(i64::MAX);
    let min_of_type = if max_of_type == i64::MAX {
        i64::MIN
    } else {
        -max_of_type - 1
    };
    let default_min = if increment > 0 { 1 } else { min_of_type };
    let default_max = if increment > 0 { max_of_type } else { -1 };
    def.min_value = match o.min_value {
        Some(Some(v)) => v,
        Some(None) => default_min,
        None if reset_bounds => default_min,
        None => def.min_value,
    };
    def.max_value = match o.max_value {
        Some(Some(v)) => v,
        Some(None) => default_max,
        None if reset_bounds => default_max,
        None => def.max_value,
    };
    if def.min_value > max_of_type || def.min_value < min_of_type {
        return Err(invalid(format!(
            "MINVALUE ({}) is out of range for sequence data type",
            def.min_value
        )));
    }
    if def.max_value > max_of_type || def.max_value < min_of_type {
        return Err(invalid(format!(
            "MAXVALUE ({}) is out of range for sequence data type",
            def.max_value
        )));
    }
    if def.min_value >= def.max_value {
        return Err(invalid(format!(
            "MINVALUE ({}) must be less than MAXVALUE ({})",
            def.min_value, def.max_value
        )));
    }
    def.start = match o.start {
        Some(v) => v,
        None if creating => {
            if increment > 0 {
                def.min_value
            } else {
                def.max_value
            }
        }
        None => def.start,
    };
    if def.start < def.min_value {
        return Err(invalid(format!(
            "START value ({}) cannot be less than MINVALUE ({})",
            def.start, def.min_value
        )));
    }
    if def.start > def.max_value {
        return Err(invalid(format!(
            "START value ({}) cannot be greater than MAXVALUE ({})",
            def.start, def.max_value
        )));
    }
    if let Some(cycle) = o.cycle {
        def.cycle = cycle;
    }
    if let Some(target) = &o.owned_by {
        def.owned_by = target.as_ref().map(|t| owner(state, t)).transpose()?;
    }
    Ok(def)
}

/// Fails unless `schema` is one zqlite has (everything lives in `public`).
pub(crate) fn check_schema(schema: Option<&str>) -> Result<()> {
    match schema {
        None | Some("public") => Ok(()),
        Some(other) => Err(Error::bind(
            "3F000",
            format!("schema \"{other}\" does not exist"),
        )),
    }
}

/// CREATE SEQUENCE.
pub(crate) fn create_sequence(
    txn: &mut Transaction,
    temporary: bool,
    if_not_exists: bool,
    name: &ast::ObjectName,
    options: &[ast::SequenceOptions],
) -> Result<QueryResult> {
    if temporary {
        return Err(Error::unsupported("CREATE TEMPORARY SEQUENCE"));
    }
    let (schema, name) = qualified_name(name)?;
    check_schema(schema.as_deref())?;
    let catalog = txn.state().catalog();
    if catalog.relation_exists(&name) || catalog.sequence(&name).is_some() {
        if if_not_exists {
            return Ok(QueryResult::command("CREATE SEQUENCE", None));
        }
        return Err(Error::bind(
            "42P07",
            format!("relation \"{name}\" already exists"),
        ));
    }
    let options = read_options(options)?;
    let base = SequenceDef {
        name,
        start: 1,
        increment: 1,
        min_value: 1,
        max_value: i64::MAX,
        cycle: false,
        owned_by: None,
    };
    let def = apply_options(txn.state(), base, &options, true)?;
    txn.apply(Change::CreateSequence(def))?;
    Ok(QueryResult::command("CREATE SEQUENCE", None))
}

/// One `ALTER SEQUENCE` statement, read from tokens.
#[derive(Debug)]
pub(crate) struct AlterSequence {
    if_exists: bool,
    name: ast::ObjectName,
    options: Vec<ast::SequenceOptions>,
    /// `RESTART` (Some(None)) or `RESTART WITH n`.
    restart: Option<Option<i64>>,
}

/// If `sql` is one ALTER SEQUENCE statement, that statement (or its syntax error).
pub(crate) fn recognise_alter(sql: &str) -> Option<Result<AlterSequence>> {
    let tokens = Tokenizer::new(&PostgreSqlDialect {}, sql).tokenize().ok()?;
    let words: Vec<&Token> = tokens
        .iter()
        .filter(|t| !matches!(t, Token::Whitespace(_)))
        .collect();
    let keyword = |t: Option<&&Token>, k: &str| matches!(t, Some(Token::Word(w)) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(k));
    if !(keyword(words.first(), "alter") && keyword(words.get(1), "sequence")) {
        return None;
    }
    Some(parse_alter(&words[2..]))
}

fn parse_alter(words: &[&Token]) -> Result<AlterSequence> {
    let keyword = |i: usize, k: &str| matches!(words.get(i), Some(Token::Word(w)) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(k));
    let mut i = 0;
    let if_exists = keyword(0, "if") && keyword(1, "exists");
    if if_exists {
        i = 2;
    }
    let mut rest = String::new();
    let mut restart = None;
    // Everything but RESTART goes to sqlparser as CREATE SEQUENCE options; the name too.
    let mut j = i;
    while j < words.len() {
        if keyword(j, "restart") {
            j += 1;
            if keyword(j, "with") {
                j += 1;
            }
            let mut text = String::new();
            while let Some(t @ (Token::Number(..) | Token::Minus | Token::Plus)) = words.get(j) {
                text.push_str(&t.to_string());
                j += 1;
            }
            restart = Some(match text.as_str() {
                "" => None,
                n => Some(
                    n.parse::<i64>()
                        .map_err(|_| Error::bind("22023", format!("invalid RESTART value: {n}")))?,
                ),
            });
            continue;
        }
        if matches!(words[j], Token::SemiColon) {
            break;
        }
        rest.push_str(&words[j].to_string());
        rest.push(' ');
        j += 1;
    }
    let text = format!("CREATE SEQUENCE {rest}");
    let mut statements = Parser::new(&PostgreSqlDialect {})
        .try_with_sql(&text)
        .and_then(|mut p| p.parse_statements())
        .map_err(|e| Error::bind("42601", format!("syntax error in ALTER SEQUENCE: {e}")))?;
    let (Some(stmt), None) = (statements.pop(), statements.pop()) else {
        return Err(Error::bind("42601", "syntax error in ALTER SEQUENCE"));
    };
    let ast::Statement::CreateSequence {
        name,
        sequence_options,
        ..
    } = stmt
    else {
        return Err(Error::bind("42601", "syntax error in ALTER SEQUENCE"));
    };
    Ok(AlterSequence {
        if_exists,
        name,
        options: sequence_options,
        restart,
    })
}

/// ALTER SEQUENCE: a new definition (the sequence keeps its position unless restarted).
pub(crate) fn alter_sequence(txn: &mut Transaction, alter: &AlterSequence) -> Result<QueryResult> {
    let done = Ok(QueryResult::command("ALTER SEQUENCE", None));
    let name = object_name(&alter.name)?;
    let state = txn.state().clone();
    let Some(old) = state.catalog().sequence(&name).cloned() else {
        if alter.if_exists {
            return done;
        }
        return Err(missing_relation_or_wrong_kind(&state, &name));
    };
    let options = read_options(&alter.options)?;
    let def = apply_options(&state, (*old).clone(), &options, false)?;
    let position = state.sequence_state(&name);
    if def != *old {
        txn.apply(Change::DropSequence { name: name.clone() })?;
        txn.apply(Change::CreateSequence(def.clone()))?;
    }
    match (alter.restart, position) {
        (Some(restart), _) => {
            let value = restart.unwrap_or(def.start);
            if value < def.min_value || value > def.max_value {
                return Err(invalid(format!(
                    "RESTART value ({value}) cannot be {} than {} ({})",
                    if value < def.min_value {
                        "less"
                    } else {
                        "greater"
                    },
                    if value < def.min_value {
                        "MINVALUE"
                    } else {
                        "MAXVALUE"
                    },
                    if value < def.min_value {
                        def.min_value
                    } else {
                        def.max_value
                    }
                )));
            }
            txn.setval(&name, value, false)?;
        }
        (None, Some(pos)) if def != *old => {
            let value = pos.last_value.clamp(def.min_value, def.max_value);
            txn.setval(&name, value, pos.is_called)?;
        }
        (None, _) => {}
    }
    done
}

/// 42809 when `name` is a relation of another kind, else 42P01.
fn missing_relation_or_wrong_kind(state: &State, name: &str) -> Error {
    if state.catalog().relation_exists(name) {
        Error::bind("42809", format!("\"{name}\" is not a sequence"))
    } else {
        Error::bind("42P01", format!("relation \"{name}\" does not exist"))
    }
}

/// The sequence a `regclass` text argument such as `'public.Invoice_No'` names, as
/// PostgreSQL reads it: an identifier chain, unquoted parts lower-cased.
fn sequence_name(state: &State, text: &str) -> Result<String> {
    let mut parts = Vec::new();
    let mut chars = text.trim().chars().peekable();
    loop {
        let mut part = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        part.push('"');
                    }
                    Some('"') => break,
                    Some(c) => part.push(c),
                    None => return Err(invalid_name(text)),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == '.' {
                    break;
                }
                part.extend(c.to_lowercase());
                chars.next();
            }
        }
        if part.is_empty() {
            return Err(invalid_name(text));
        }
        parts.push(part);
        match chars.next() {
            None => break,
            Some('.') => continue,
            Some(_) => return Err(invalid_name(text)),
        }
    }
    let (schema, name) = match parts.as_slice() {
        [name] => (None, name.clone()),
        [schema, name] => (Some(schema.as_str()), name.clone()),
        _ => return Err(invalid_name(text)),
    };
    check_schema(schema)?;
    if state.catalog().sequence(&name).is_none() {
        return Err(missing_relation_or_wrong_kind(state, &name));
    }
    Ok(name)
}

fn invalid_name(text: &str) -> Error {
    Error::bind("42602", format!("invalid name syntax: \"{text}\""))
}

fn not_yet_defined(what: String) -> Error {
    Error::Runtime {
        sqlstate: "55000",
        message: format!("{what} is not yet defined in this session"),
    }
}

/// Whether `f` is one of the calls [`call`] runs.
pub(crate) fn is_sequence_call(f: Func) -> bool {
    matches!(
        f,
        Func::NextVal | Func::CurrVal | Func::SetVal | Func::LastVal
    )
}

/// Runs a sequence call on evaluated arguments: its value, and the change to log if it
/// moved the sequence. NULL arguments give NULL (the functions are strict).
pub(crate) fn call(
    sequences: &Sequences,
    state: &State,
    f: Func,
    args: &[Value],
) -> Result<(Value, Option<Change>)> {
    if args.iter().any(Value::is_null) {
        return Ok((Value::Null, None));
    }
    let name = || sequence_name(state, &args[0].to_string());
    match f {
        Func::NextVal => {
            let (value, change) = sequences.nextval(state, &name()?)?;
            Ok((Value::Int8(value), Some(change)))
        }
        Func::CurrVal => {
            let name = name()?;
            match sequences.currval(&name) {
                Some(v) => Ok((Value::Int8(v), None)),
                None => Err(not_yet_defined(format!("currval of sequence \"{name}\""))),
            }
        }
        Func::LastVal => match sequences.lastval() {
            Some((_, v)) => Ok((Value::Int8(v), None)),
            None => Err(not_yet_defined("lastval".into())),
        },
        Func::SetVal => {
            let name = name()?;
            let value = match &args[1] {
                Value::Int8(v) => *v,
                Value::Int4(v) => i64::from(*v),
                Value::Int2(v) => i64::from(*v),
                other => other.to_string().parse().map_err(|_| {
                    Error::bind(
                        "22P02",
                        format!("invalid input syntax for type bigint: \"{other}\""),
                    )
                })?,
            };
            let is_called = args.get(2).is_none_or(|v| v.as_bool() == Some(true));
            let change = sequences.setval(state, &name, value, is_called)?;
            Ok((Value::Int8(value), Some(change)))
        }
        _ => Err(crate::exec::internal("not a sequence function")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alter_is_read_from_tokens() {
        let a = recognise_alter("ALTER SEQUENCE s RESTART WITH 100 INCREMENT BY 5")
            .unwrap()
            .unwrap();
        assert_eq!(a.restart, Some(Some(100)));
        assert!(!a.if_exists);
        assert_eq!(a.options.len(), 1);
        let a = recognise_alter("alter sequence if exists s restart")
            .unwrap()
            .unwrap();
        assert_eq!(a.restart, Some(None));
        assert!(a.if_exists);
        assert!(recognise_alter("ALTER TABLE s ADD COLUMN x int").is_none());
        assert!(recognise_alter("ALTER SEQUENCE s FOO 3").unwrap().is_err());
    }

    #[test]
    fn option_values() {
        let base = SequenceDef {
            name: "s".into(),
            start: 1,
            increment: 1,
            min_value: 1,
            max_value: i64::MAX,
            cycle: false,
            owned_by: None,
        };
        let state = State::default();
        let down = Options {
            increment: Some(-1),
            ..Options::default()
        };
        let d = apply_options(&state, base.clone(), &down, true).unwrap();
        assert_eq!((d.min_value, d.max_value, d.start), (i64::MIN, -1, -1));
        let bad = Options {
            min_value: Some(Some(10)),
            max_value: Some(Some(1)),
            ..Options::default()
        };
        let e = apply_options(&state, base.clone(), &bad, true).unwrap_err();
        assert_eq!(e.sqlstate(), "22023");
        let zero = Options {
            increment: Some(0),
            ..Options::default()
        };
        assert!(apply_options(&state, base, &zero, false).is_err());
    }
}
