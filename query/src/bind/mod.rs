//! The binder: resolves names and types of a parsed statement against a catalog snapshot
//! and builds bound expressions ([`crate::expr::Expr`]) and logical plans
//! ([`crate::plan::Plan`]).
//!
//! - `mod.rs`: the [`Binder`], its scopes and name resolution;
//! - `expr.rs`: expressions (operators, literals, casts, subqueries);
//! - `call.rs`: function calls and aggregates;
//! - `query.rs`: queries (SELECT, grouping, ORDER BY, LIMIT, VALUES, set operations);
//! - `from.rs`: FROM clauses (tables, views, derived tables, joins);
//! - `row.rs`: row constructors in comparisons and IN;
//! - `cte.rs`: WITH queries, recursive ones included;
//! - `window.rs`: window function calls and the WINDOW clause.
//!
//! Invariants:
//! - `scopes` is a stack of query levels; the last is the level being bound. A name found
//!   in an enclosing level becomes [`Expr::Outer`] with the distance as depth.
//! - Errors carry the line and column of the offending name or expression when known.

mod call;
mod cte;
pub(crate) use cte::{Cte, CteBody, cte_name};
pub(crate) mod expr;
pub(crate) mod from;
mod query;
mod record;
pub(crate) use query::derived_name;
mod row;
pub(crate) mod window;

use sqlparser::ast;
use zqlite_projections::State;
use zqlite_projections::value::{DataType, Value};

use crate::error::{Error, Location, Result};
use crate::expr::Expr;
use crate::plan::{AggCall, Plan};

/// A query's bound plan and its output columns.
#[derive(Debug, Clone)]
pub struct BoundQuery {
    pub plan: Plan,
    pub columns: Vec<OutputColumn>,
}

#[derive(Debug, Clone)]
pub struct OutputColumn {
    pub name: String,
    /// `None` for an unknown-typed literal (reported as text).
    pub ty: Option<DataType>,
}

/// One column visible in a scope.
#[derive(Debug, Clone)]
pub struct ScopeColumn {
    /// The table name or alias that qualifies it.
    pub table: Option<String>,
    pub name: String,
    pub ty: Option<DataType>,
    /// Hidden from unqualified lookups and `*` (the right side of `JOIN ... USING`).
    pub hidden: bool,
    /// The table alias alone names this column: the one column of a set-returning
    /// function (`FROM jsonb_array_elements(doc) AS item` makes `item` its value).
    pub row_alias: bool,
}

/// The columns of one query level.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    pub columns: Vec<ScopeColumn>,
    /// Set when a subquery resolved a name in this scope.
    pub referenced_from_inner: bool,
}

/// Collects the aggregate calls of a query level while its select list is bound.
#[derive(Debug, Default)]
pub(crate) struct AggCollector {
    pub calls: Vec<AggCall>,
    pub types: Vec<Option<DataType>>,
}

/// Resolves names and types; see the module documentation.
#[derive(Debug)]
pub struct Binder<'a> {
    pub(crate) state: &'a State,
    pub(crate) params: &'a [Value],
    /// Parameter types when binding without values (describing a statement); `params`
    /// gives them otherwise.
    pub(crate) param_types: Option<&'a [Option<DataType>]>,
    pub(crate) scopes: Vec<Scope>,
    pub(crate) aggs: Option<AggCollector>,
    /// The window calls of the select list being bound (`None` where they are not allowed).
    pub(crate) windows: Option<window::WindowCollector>,
    /// The set-returning calls of the select list being bound (`None` where they are not
    /// allowed): function and bound arguments.
    pub(crate) set_calls: Option<Vec<(crate::set_functions::SetFunc, Vec<Expr>)>>,
    /// Why window calls are not allowed where `windows` is `None`.
    pub(crate) window_ban: window::WindowBan,
    pub(crate) next_subquery: usize,
    /// Views being expanded (to stop a view that refers to itself).
    pub(crate) view_stack: Vec<String>,
    /// When set, the names of tables and views the statement reads (not through views) are
    /// collected in `relations` (CREATE VIEW records them as dependencies).
    pub(crate) record_relations: bool,
    pub(crate) relations: Vec<String>,
    /// WITH queries in scope, innermost last.
    pub(crate) ctes: Vec<cte::Cte>,
    /// Set by `table_factor` when the item it bound is LATERAL (see `bind/from.rs`).
    pub(crate) factor_is_lateral: bool,
    /// The id the next `WITH RECURSIVE` work table gets.
    pub(crate) next_work_table: usize,
    /// Whether `zq_as_of(table, point)` may appear: only in a query whose point the session
    /// resolved and whose state it chose (`as_of.rs`); it then binds as `table`.
    pub(crate) as_of_allowed: bool,
    /// Set when a function call, operator or cast bound so far is not IMMUTABLE in
    /// PostgreSQL (index expressions refuse them: `crate::index_expr`).
    pub(crate) mutable_calls: bool,
    /// Where aggregates are not allowed, for the error ("aggregate functions are not allowed
    /// in index expressions"); `None` says "here".
    pub(crate) aggregates_banned_in: Option<&'static str>,
}

/// Normalises an identifier as PostgreSQL does: unquoted names are lower-cased.
pub fn ident_name(ident: &ast::Ident) -> String {
    if ident.quote_style.is_some() {
        ident.value.clone()
    } else {
        ident.value.to_lowercase()
    }
}

/// The object an `ObjectName` names: its last part (schema qualifiers are ignored).
pub fn object_name(name: &ast::ObjectName) -> Result<String> {
    match name.0.last() {
        Some(ast::ObjectNamePart::Identifier(ident)) => Ok(ident_name(ident)),
        _ => Err(Error::unsupported(format!("object name {name}"))),
    }
}

/// An `ObjectName` split into its schema qualifier (if any) and object name.
pub fn qualified_name(name: &ast::ObjectName) -> Result<(Option<String>, String)> {
    let object = object_name(name)?;
    let schema = match name.0.len() {
        0 | 1 => None,
        n => match &name.0[n - 2] {
            ast::ObjectNamePart::Identifier(ident) => Some(ident_name(ident)),
            _ => return Err(Error::unsupported(format!("object name {name}"))),
        },
    };
    Ok((schema, object))
}

pub(crate) fn ident_loc(ident: &ast::Ident) -> Option<Location> {
    Location::from_sql(ident.span.start)
}

/// Maps a SQL type as sqlparser parsed it to a [`DataType`].
pub fn data_type(ty: &ast::DataType) -> Result<DataType> {
    if let ast::DataType::Array(
        ast::ArrayElemTypeDef::SquareBracket(elem, _) | ast::ArrayElemTypeDef::Qualified(elem, _),
    ) = ty
    {
        // As in PostgreSQL, `int[][]` and `int[3]` declare the same type as `int[]`.
        return Ok(match data_type(elem)? {
            array @ DataType::Array(_) => array,
            scalar => scalar.array_type()?,
        });
    }
    let text = ty.to_string();
    if text.contains('[') || text.to_ascii_uppercase().contains("ARRAY") {
        return Err(Error::unsupported(format!("array type {text}")));
    }
    let (name, mods) = match (text.find('('), text.rfind(')')) {
        (Some(open), Some(close)) if close > open => {
            let mods: Vec<i64> = text[open + 1..close]
                .split(',')
                .map(|m| m.trim().parse::<i64>())
                .collect::<Result<_, _>>()
                .map_err(|_| Error::bind("42601", format!("invalid type modifier in {text}")))?;
            let rest = format!("{}{}", &text[..open], &text[close + 1..]);
            (rest.trim().to_string(), mods)
        }
        _ => (text.clone(), Vec::new()),
    };
    let name = match name.to_ascii_lowercase().as_str() {
        "serial" | "serial4" => "integer".to_string(),
        "bigserial" | "serial8" => "bigint".to_string(),
        "smallserial" | "serial2" => "smallint".to_string(),
        "int2" | "int4" | "int8" | "float4" | "float8" => name.to_ascii_lowercase(),
        "timestamp with time zone" | "timestamptz" => "timestamptz".to_string(),
        other => other.to_string(),
    };
    Ok(DataType::from_name(&name, &mods)?)
}

impl<'a> Binder<'a> {
    pub fn new(state: &'a State, params: &'a [Value]) -> Binder<'a> {
        Binder {
            state,
            params,
            param_types: None,
            scopes: Vec::new(),
            aggs: None,
            windows: None,
            window_ban: window::WindowBan::Here,
            next_subquery: 0,
            view_stack: Vec::new(),
            record_relations: false,
            relations: Vec::new(),
            ctes: Vec::new(),
            next_work_table: 0,
            factor_is_lateral: false,
            set_calls: None,
            as_of_allowed: false,
            mutable_calls: false,
            aggregates_banned_in: None,
        }
    }

    /// Puts WITH queries a statement defined before this binder's part of it in scope (the
    /// queries of a WITH clause around INSERT, UPDATE or DELETE: `crate::dml::with`).
    pub(crate) fn with_ctes(mut self, ctes: &[Cte]) -> Binder<'a> {
        self.ctes = ctes.to_vec();
        self
    }

    /// A binder for a statement whose parameters are not known yet, only their types
    /// (`None`: unknown, like an untyped literal). Its plans are for describing, not running.
    pub fn for_types(state: &'a State, types: &'a [Option<DataType>]) -> Binder<'a> {
        Binder {
            param_types: Some(types),
            ..Binder::new(state, &[])
        }
    }

    /// The type of parameter `$n` (1-based), or None when there is no such parameter.
    pub(crate) fn param_type(&self, n: usize) -> Option<Option<DataType>> {
        match self.param_types {
            Some(types) => types.get(n - 1).copied(),
            None => self.params.get(n - 1).map(Value::data_type),
        }
    }

    /// Lets the query use `zq_as_of` (the caller reads the state its point names).
    pub fn allow_as_of(mut self, allowed: bool) -> Self {
        self.as_of_allowed = allowed;
        self
    }

    pub(crate) fn scope(&mut self) -> &mut Scope {
        if self.scopes.is_empty() {
            self.scopes.push(Scope::default());
        }
        let last = self.scopes.len() - 1;
        &mut self.scopes[last]
    }

    /// Resolves a possibly qualified column name.
    pub(crate) fn resolve_column(
        &mut self,
        table: Option<&str>,
        name: &str,
        loc: Option<Location>,
    ) -> Result<(Expr, Option<DataType>)> {
        let levels = self.scopes.len();
        for level in (0..levels).rev() {
            let scope = &self.scopes[level];
            let matches: Vec<usize> = scope
                .columns
                .iter()
                .enumerate()
                .filter(|(_, c)| {
                    c.name == name
                        && match table {
                            Some(t) => c.table.as_deref() == Some(t),
                            None => !c.hidden,
                        }
                })
                .map(|(i, _)| i)
                .collect();
            // A column's name wins over a one-column function's alias.
            let matches = if matches.is_empty() && table.is_none() {
                scope
                    .columns
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| c.row_alias && c.table.as_deref() == Some(name))
                    .map(|(i, _)| i)
                    .collect()
            } else {
                matches
            };
            match matches.as_slice() {
                [] => continue,
                [index] => {
                    let ty = scope.columns[*index].ty;
                    let depth = levels - 1 - level;
                    if depth == 0 {
                        return Ok((Expr::Column(*index), ty));
                    }
                    self.scopes[level].referenced_from_inner = true;
                    return Ok((
                        Expr::Outer {
                            depth,
                            index: *index,
                        },
                        ty,
                    ));
                }
                _ => {
                    return Err(Error::Bind {
                        sqlstate: "42702",
                        message: format!("column reference \"{name}\" is ambiguous"),
                        location: loc,
                    });
                }
            }
        }
        if let Some(t) = table {
            let known = self
                .scopes
                .iter()
                .any(|s| s.columns.iter().any(|c| c.table.as_deref() == Some(t)));
            if !known {
                return Err(Error::Bind {
                    sqlstate: "42P01",
                    message: format!("missing FROM-clause entry for table \"{t}\""),
                    location: loc,
                });
            }
            return Err(Error::Bind {
                sqlstate: "42703",
                message: format!("column {t}.{name} does not exist"),
                location: loc,
            });
        }
        Err(Error::Bind {
            sqlstate: "42703",
            message: format!("column \"{name}\" does not exist"),
            location: loc,
        })
    }

    /// Binds a query nested in an expression or FROM clause as a new query level.
    pub(crate) fn subquery(&mut self, q: &ast::Query) -> Result<(BoundQuery, bool)> {
        self.nested(|b| b.query(q))
    }

    /// Runs `bind` as a nested query level; also returns whether it referred to an
    /// enclosing level.
    pub(crate) fn nested<T>(
        &mut self,
        bind: impl FnOnce(&mut Self) -> Result<T>,
    ) -> Result<(T, bool)> {
        let saved_aggs = self.aggs.take();
        let saved_set_calls = self.set_calls.take();
        let saved_windows = (self.windows.take(), self.window_ban);
        let before: Vec<bool> = self
            .scopes
            .iter()
            .map(|s| s.referenced_from_inner)
            .collect();
        for s in &mut self.scopes {
            s.referenced_from_inner = false;
        }
        let result = bind(self);
        self.aggs = saved_aggs;
        self.set_calls = saved_set_calls;
        (self.windows, self.window_ban) = saved_windows;
        // Correlated if any enclosing level was referenced from inside.
        let correlated = self.scopes.iter().any(|s| s.referenced_from_inner);
        for (s, b) in self.scopes.iter_mut().zip(before) {
            s.referenced_from_inner |= b;
        }
        Ok((result?, correlated))
    }
}
