//! Binding and compiling index expressions, the names PostgreSQL derives from them, and the
//! ALTER TABLE rewrites and dependencies they need. See the module documentation.

use std::any::Any;
use std::ops::ControlFlow;
use std::sync::{Arc, LazyLock};

use sqlparser::ast;
use zqlite_projections::value::{DataType, Value};
use zqlite_projections::{
    CompiledExpression, ExpressionCompiler, IndexColumn, State, TableDef,
    register_expression_compiler,
};

use super::deparse::column_forms;
use crate::bind::expr::coerce_unknown;
use crate::bind::window::WindowBan;
use crate::bind::{Binder, data_type, ident_name};
use crate::dml::{parse_expr, table_scope};
use crate::error::{Error, Result};
use crate::exec::Exec;
use crate::expr::Expr;

/// Binding reads the catalog only for subqueries and catalog functions, which index
/// expressions cannot contain: stored expressions bind and evaluate on an empty state.
static EMPTY: LazyLock<State> = LazyLock::new(State::default);

/// An index expression bound over its table's columns: the compiled form the projections
/// evaluate, and the planner matches WHERE clauses against.
#[derive(Debug)]
pub(crate) struct BoundIndexExpr {
    /// Reads the table's row: `Column(i)` is the table's column `i`, as in a scan's filter.
    /// Folded like every planned expression, so equal computations are equal trees.
    pub(crate) expr: Expr,
    pub(crate) ty: DataType,
    /// The key column as `pg_get_indexdef` prints it: plain and pretty.
    pub(crate) column: String,
    pub(crate) pretty: String,
}

impl CompiledExpression for BoundIndexExpr {
    fn eval(&self, row: &[Value]) -> zqlite_projections::Result<Value> {
        Exec::new(&EMPTY, &[])
            .eval(&self.expr, row)
            .map_err(into_storage)
    }

    fn display(&self) -> &str {
        &self.pretty
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// The compiler the projections call for stored index expressions.
struct SqlCompiler;

impl ExpressionCompiler for SqlCompiler {
    fn compile(
        &self,
        table: &TableDef,
        sql: &str,
    ) -> zqlite_projections::Result<Arc<dyn CompiledExpression>> {
        let e = parse_expr(sql).map_err(into_storage)?;
        // No IMMUTABLE check here: that is CREATE INDEX's rule, and an index already in
        // the log must open whatever a later version thinks of its functions.
        let bound = bind(&EMPTY, table, &e, false).map_err(into_storage)?;
        Ok(Arc::new(bound))
    }
}

/// Registers the SQL layer's index expression compiler with the projections (idempotent).
pub fn register() {
    static COMPILER: SqlCompiler = SqlCompiler;
    register_expression_compiler(&COMPILER);
}

/// A query-layer error as a projections error, SQLSTATE, message and detail kept.
fn into_storage(e: Error) -> zqlite_projections::Error {
    match e {
        Error::Storage(e) => e,
        Error::Value(e) => zqlite_projections::Error::Value(e),
        other => zqlite_projections::Error::Expression {
            sqlstate: other.sqlstate(),
            message: other.to_string(),
            detail: other.detail(),
        },
    }
}

/// Binds `e` for CREATE INDEX on `def`, with every PostgreSQL rule for index expressions
/// (`state` is the statement's, so a subquery is reported as one even if it names a table).
pub(crate) fn bind_new(state: &State, def: &TableDef, e: &ast::Expr) -> Result<BoundIndexExpr> {
    bind(state, def, e, true)
}

fn bind(state: &State, def: &TableDef, e: &ast::Expr, new: bool) -> Result<BoundIndexExpr> {
    let mut b = Binder::new(state, &[]);
    b.scope().columns = table_scope(def, &def.name);
    b.aggregates_banned_in = Some("index expressions");
    b.set_calls = Some(Vec::new());
    let (bound, ty) = b.without_windows(WindowBan::Clause("index expressions"), |b| b.expr(e))?;
    if b.set_calls.as_ref().is_some_and(|calls| !calls.is_empty()) {
        return Err(Error::bind(
            "0A000",
            "set-returning functions are not allowed in index expressions",
        ));
    }
    let mut subquery = false;
    let mut volatile = false;
    bound.walk(&mut |x| match x {
        Expr::Subquery(_) => subquery = true,
        Expr::Function(f, _) if f.is_volatile() => volatile = true,
        _ => {}
    });
    if subquery {
        return Err(Error::bind(
            "0A000",
            "cannot use subquery in index expression",
        ));
    }
    if new && (volatile || b.mutable_calls) {
        return Err(Error::bind(
            "42P17",
            "functions in index expression must be marked IMMUTABLE",
        ));
    }
    let (expr, ty) = match ty {
        Some(ty) => (bound, ty),
        None => (coerce_unknown(bound, DataType::Text)?, DataType::Text),
    };
    let expr = crate::fold::fold(expr)?;
    let (column, pretty) = column_forms(state, def, e);
    Ok(BoundIndexExpr {
        expr,
        ty,
        column,
        pretty,
    })
}

/// The compiled form of key column `column` of an index of `def`, when it is an expression
/// that compiles.
pub(crate) fn bound<'a>(def: &TableDef, column: &'a IndexColumn) -> Option<&'a BoundIndexExpr> {
    let IndexColumn::Expression(e) = column else {
        return None;
    };
    e.compiled(def).ok()?.as_any().downcast_ref()
}

/// The text an index expression is stored as: sqlparser's rendering of `e` without its
/// outer parentheses and with column references unqualified (so renaming the table leaves
/// it valid); `None` when `e` is a plain column reference (`(a)` indexes column `a`, as in
/// PostgreSQL).
pub(crate) fn stored_text(e: &ast::Expr) -> Option<String> {
    match e {
        ast::Expr::Nested(inner) => stored_text(inner),
        ast::Expr::Identifier(_) => None,
        other => {
            let mut e = other.clone();
            let _ = ast::visit_expressions_mut(&mut e, |x| {
                if let ast::Expr::CompoundIdentifier(parts) = x
                    && let Some(column) = parts.pop()
                {
                    *x = ast::Expr::Identifier(column);
                }
                ControlFlow::<()>::Continue(())
            });
            Some(e.to_string())
        }
    }
}

/// The name PostgreSQL gives a key column written as `e` (`FigureColname`), used in
/// default index names (`users_lower_idx`) and as the index's attribute name: a column's
/// name, a function's, a cast's type (unless its operand names itself), `case`; else
/// `expr`.
pub(crate) fn column_label(e: &ast::Expr) -> String {
    label(e).1.unwrap_or_else(|| "expr".into())
}

/// (strength, name): 2 for a name the expression clearly has, 1 for a fallback.
fn label(e: &ast::Expr) -> (u8, Option<String>) {
    use ast::Expr as E;
    let named = |n: &str| (2, Some(n.to_string()));
    match e {
        E::Nested(inner) => label(inner),
        E::Identifier(i) => (2, Some(ident_name(i))),
        E::CompoundIdentifier(parts) => (2, parts.last().map(ident_name)),
        E::Function(f) => match f.name.0.last() {
            Some(ast::ObjectNamePart::Identifier(i)) => (2, Some(ident_name(i))),
            _ => (0, None),
        },
        E::Cast {
            expr,
            data_type: dt,
            ..
        } => {
            let inner = label(expr);
            if inner.0 > 1 {
                return inner;
            }
            match data_type(dt) {
                Ok(t) => {
                    let t = t.element_type().unwrap_or(t);
                    (1, Some(t.typname().to_string()))
                }
                Err(_) => inner,
            }
        }
        E::Case { .. } => (1, Some("case".into())),
        E::Substring { .. } => named("substring"),
        E::Trim { .. } => named("btrim"),
        E::Position { .. } => named("position"),
        E::Extract { .. } => named("extract"),
        E::Ceil { .. } => named("ceil"),
        E::Floor { .. } => named("floor"),
        E::AtTimeZone { .. } => named("timezone"),
        E::Array(_) => named("array"),
        _ => (0, None),
    }
}

/// Whether key column `column` of an index of `def` reads table column `position`.
pub(crate) fn index_reads_column(def: &TableDef, column: &IndexColumn, position: usize) -> bool {
    if let IndexColumn::Column(c) = column {
        return *c == position;
    }
    // An expression that does not compile any more cannot be kept either.
    bound(def, column).is_none_or(|b| {
        let mut reads = false;
        b.expr
            .walk(&mut |x| reads |= matches!(x, Expr::Column(c) if *c == position));
        reads
    })
}

/// The stored expression `sql` with column `old` renamed to `new` (ALTER TABLE RENAME
/// COLUMN; PostgreSQL's index expressions refer to columns by number, so they follow).
pub(crate) fn rename_column(sql: &str, old: &str, new: &str) -> Result<String> {
    let mut e = parse_expr(sql)?;
    let renamed = ast::Ident {
        value: new.to_string(),
        quote_style: (crate::system::catalog_functions::quote_ident(new) != new).then_some('"'),
        span: sqlparser::tokenizer::Span::empty(),
    };
    let _ = ast::visit_expressions_mut(&mut e, |x| {
        match x {
            ast::Expr::Identifier(i) if ident_name(i) == old => *i = renamed.clone(),
            ast::Expr::CompoundIdentifier(parts) => {
                if let Some(last) = parts.last_mut()
                    && ident_name(last) == old
                {
                    *last = renamed.clone();
                }
            }
            _ => {}
        }
        ControlFlow::<()>::Continue(())
    });
    Ok(e.to_string())
}
