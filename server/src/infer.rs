//! Parameter type inference for the extended protocol's Parse/Describe.
//!
//! The query layer types a `$n` from the value bound to it, and offers no "describe" call,
//! so the server infers each untyped parameter from the statement's shape, the way
//! PostgreSQL's parser would for the common cases:
//! - `col <op> $n`, `$n <op> col`, `col IN ($n, ...)`, `col BETWEEN $n AND $m`: the column's
//!   type (columns resolved by name or `alias.name` among the statement's tables);
//! - `col <op> ANY ($n)` / `ALL ($n)`: an array of the column's type;
//! - `$n::type` / `CAST($n AS type)`: that type; `x LIKE $n`: text;
//! - `INSERT INTO t (cols) VALUES ($n, ...)` and `UPDATE t SET col = $n`: the column's type;
//! - `LIMIT $n` / `OFFSET $n`: bigint;
//! - window calls: a ROWS or GROUPS frame offset is bigint, a RANGE offset takes the
//!   ordering column's type; `lag`/`lead`'s offset, `ntile`'s and `nth_value`'s count are
//!   integer, and `lag`/`lead`'s default takes the value's type.
//!
//! A type declared in Parse wins; what stays unknown is reported and bound as `text`.

use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::sync::Arc;

use sqlparser::ast::{
    self, AssignmentTarget, BinaryOperator, Expr, InTarget, LimitClause, SetExpr, Statement,
    TableFactor, TableObject, Visit, Visitor,
};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::tokenizer::{Token, Tokenizer};
use zqlite_projections::catalog::{Catalog, TableDef};
use zqlite_query::DataType;
use zqlite_query::bind::{data_type, ident_name, object_name};

use crate::params::type_of_oid;

/// The number of parameters of `sql`: the highest `$n` it mentions.
pub(crate) fn placeholder_count(sql: &str) -> usize {
    let Ok(tokens) = Tokenizer::new(&PostgreSqlDialect {}, sql).tokenize() else {
        return 0;
    };
    tokens
        .iter()
        .filter_map(|t| match t {
            Token::Placeholder(p) => p.strip_prefix('$')?.parse::<usize>().ok(),
            _ => None,
        })
        .max()
        .unwrap_or(0)
}

/// The type of each parameter of `stmt` (`None`: unknown), given the OIDs declared in Parse.
pub(crate) fn parameter_types(
    sql: &str,
    stmt: Option<&Statement>,
    declared: &[u32],
    catalog: &Catalog,
) -> Vec<Option<DataType>> {
    let count = placeholder_count(sql).max(declared.len());
    let mut types: Vec<Option<DataType>> = (0..count)
        .map(|i| declared.get(i).and_then(|oid| type_of_oid(*oid)))
        .collect();
    if let Some(stmt) = stmt {
        let mut tables = Tables {
            catalog,
            found: Vec::new(),
        };
        let _ = stmt.visit(&mut tables);
        let mut hints = Hints {
            tables: &tables.found,
            hints: BTreeMap::new(),
        };
        let _ = stmt.visit(&mut hints);
        for (i, ty) in hints.hints {
            if let Some(slot @ None) = types.get_mut(i) {
                *slot = Some(ty);
            }
        }
    }
    types
}

/// The statement's tables, each under the name it is referred to by (alias or name).
struct Tables<'a> {
    catalog: &'a Catalog,
    found: Vec<(String, Arc<TableDef>)>,
}

impl Tables<'_> {
    fn add(&mut self, name: &ast::ObjectName, alias: Option<&ast::TableAlias>) {
        let Ok(table_name) = object_name(name) else {
            return;
        };
        if let Some(def) = self.catalog.table_by_name(&table_name) {
            let key = alias.map_or(table_name, |a| ident_name(&a.name));
            self.found.push((key, def.clone()));
        }
    }
}

impl Visitor for Tables<'_> {
    type Break = ();

    fn pre_visit_table_factor(&mut self, tf: &TableFactor) -> ControlFlow<()> {
        if let TableFactor::Table { name, alias, .. } = tf {
            self.add(name, alias.as_ref());
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_statement(&mut self, stmt: &Statement) -> ControlFlow<()> {
        if let Statement::Insert(ins) = stmt
            && let TableObject::TableName(name) = &ins.table
        {
            self.add(name, None);
        }
        ControlFlow::Continue(())
    }
}

/// Types found for parameters (0-based index → type); the first finding wins.
struct Hints<'a> {
    tables: &'a [(String, Arc<TableDef>)],
    hints: BTreeMap<usize, DataType>,
}

fn placeholder(e: &Expr) -> Option<usize> {
    match e {
        Expr::Value(v) => match &v.value {
            ast::Value::Placeholder(p) => {
                p.strip_prefix('$')?.parse::<usize>().ok()?.checked_sub(1)
            }
            _ => None,
        },
        Expr::Nested(inner) => placeholder(inner),
        _ => None,
    }
}

impl Hints<'_> {
    fn hint(&mut self, e: &Expr, ty: Option<DataType>) {
        if let (Some(i), Some(ty)) = (placeholder(e), ty) {
            self.hints.entry(i).or_insert(ty);
        }
    }

    fn column(&self, qualifier: Option<&str>, name: &str) -> Option<DataType> {
        self.tables
            .iter()
            .filter(|(key, def)| qualifier.is_none_or(|q| q == key || q == def.name))
            .find_map(|(_, def)| def.columns.iter().find(|c| c.name == name))
            .map(|c| c.data_type)
    }

    fn type_of(&self, e: &Expr) -> Option<DataType> {
        match e {
            Expr::Identifier(id) => self.column(None, &ident_name(id)),
            Expr::CompoundIdentifier(parts) => match parts.as_slice() {
                [.., q, c] => self.column(Some(&ident_name(q)), &ident_name(c)),
                [c] => self.column(None, &ident_name(c)),
                [] => None,
            },
            Expr::Cast { data_type: t, .. } => data_type(t).ok(),
            Expr::Nested(inner) => self.type_of(inner),
            Expr::BinaryOp { left, op, right } if is_arithmetic(op) => {
                self.type_of(left).or_else(|| self.type_of(right))
            }
            Expr::Value(v) => match &v.value {
                ast::Value::Number(n, _) if n.contains(['.', 'e', 'E']) => {
                    Some(DataType::Numeric(None))
                }
                ast::Value::Number(..) => Some(DataType::Int4),
                ast::Value::Boolean(_) => Some(DataType::Bool),
                _ => None,
            },
            _ => None,
        }
    }
}

impl Hints<'_> {
    /// Parameters in a window call's arguments and frame offsets.
    fn window_call(&mut self, f: &ast::Function) {
        let Some(ast::WindowType::WindowSpec(spec)) = &f.over else {
            return;
        };
        let args: Vec<&Expr> = match &f.args {
            ast::FunctionArguments::List(list) => list
                .args
                .iter()
                .filter_map(|a| match a {
                    ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(e)) => Some(e),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        let name = f.name.0.last().map(|p| p.to_string().to_lowercase());
        let int4 = Some(DataType::Int4);
        match (name.as_deref(), args.as_slice()) {
            (Some("lag" | "lead"), [value, rest @ ..]) => {
                if let Some(offset) = rest.first() {
                    self.hint(offset, int4);
                }
                if let Some(default) = rest.get(1) {
                    self.hint(default, self.type_of(value));
                }
            }
            (Some("ntile"), [n]) | (Some("nth_value"), [_, n]) => self.hint(n, int4),
            _ => {}
        }
        let Some(frame) = &spec.window_frame else {
            return;
        };
        let ty = match frame.units {
            ast::WindowFrameUnits::Range => {
                spec.order_by.first().and_then(|o| self.type_of(&o.expr))
            }
            _ => Some(DataType::Int8),
        };
        for bound in std::iter::once(&frame.start_bound).chain(frame.end_bound.as_ref()) {
            if let ast::WindowFrameBound::Preceding(Some(e))
            | ast::WindowFrameBound::Following(Some(e)) = bound
            {
                self.hint(e, ty);
            }
        }
    }
}

fn is_arithmetic(op: &BinaryOperator) -> bool {
    use BinaryOperator as O;
    matches!(op, O::Plus | O::Minus | O::Multiply | O::Divide | O::Modulo)
}

impl Visitor for Hints<'_> {
    type Break = ();

    fn pre_visit_expr(&mut self, e: &Expr) -> ControlFlow<()> {
        match e {
            Expr::BinaryOp { left, op, right } => {
                if matches!(op, BinaryOperator::StringConcat) {
                    self.hint(left, Some(DataType::Text));
                    self.hint(right, Some(DataType::Text));
                } else {
                    self.hint(left, self.type_of(right));
                    self.hint(right, self.type_of(left));
                }
            }
            Expr::Cast {
                expr, data_type: t, ..
            } => self.hint(expr, data_type(t).ok()),
            Expr::In {
                expr,
                target: InTarget::List(list),
                ..
            } => {
                let ty = self
                    .type_of(expr)
                    .or_else(|| list.iter().find_map(|x| self.type_of(x)));
                self.hint(expr, ty);
                for item in list {
                    self.hint(item, ty);
                }
            }
            Expr::Between {
                expr, low, high, ..
            } => {
                let ty = self.type_of(expr);
                self.hint(low, ty);
                self.hint(high, ty);
                self.hint(expr, self.type_of(low).or_else(|| self.type_of(high)));
            }
            Expr::Function(f) => self.window_call(f),
            Expr::Like { pattern, .. } | Expr::ILike { pattern, .. } => {
                self.hint(pattern, Some(DataType::Text));
            }
            Expr::AnyOp { left, right, .. } | Expr::AllOp { left, right, .. } => {
                let array = self.type_of(left).and_then(|t| t.array_type().ok());
                self.hint(right, array);
                let elem = self.type_of(right).and_then(|t| t.element_type());
                self.hint(left, elem);
            }
            _ => {}
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_statement(&mut self, stmt: &Statement) -> ControlFlow<()> {
        match stmt {
            Statement::Insert(ins) => {
                let Some(table) = self.tables.iter().find_map(|(_, def)| match &ins.table {
                    TableObject::TableName(n) => {
                        (object_name(n).ok()? == def.name).then(|| def.clone())
                    }
                    _ => None,
                }) else {
                    return ControlFlow::Continue(());
                };
                let columns: Vec<Option<DataType>> = if ins.columns.is_empty() {
                    table.columns.iter().map(|c| Some(c.data_type)).collect()
                } else {
                    ins.columns
                        .iter()
                        .map(|n| {
                            let name = ident_name(n.0.last()?.as_ident()?);
                            table
                                .columns
                                .iter()
                                .find(|c| c.name == name)
                                .map(|c| c.data_type)
                        })
                        .collect()
                };
                if let Some(source) = &ins.source
                    && let SetExpr::Values(values) = source.body.as_ref()
                {
                    for row in &values.rows {
                        for (e, ty) in row.content.iter().zip(&columns) {
                            self.hint(e, *ty);
                        }
                    }
                }
            }
            Statement::Update(upd) => {
                for a in &upd.assignments {
                    if let AssignmentTarget::ColumnName(n) = &a.target
                        && let Some(id) = n.0.last().and_then(|p| p.as_ident())
                    {
                        self.hint(&a.value, self.column(None, &ident_name(id)));
                    }
                }
            }
            _ => {}
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_query(&mut self, q: &ast::Query) -> ControlFlow<()> {
        match &q.limit_clause {
            Some(LimitClause::LimitOffset { limit, offset, .. }) => {
                if let Some(l) = limit {
                    self.hint(l, Some(DataType::Int8));
                }
                if let Some(o) = offset {
                    self.hint(&o.value, Some(DataType::Int8));
                }
            }
            Some(LimitClause::OffsetCommaLimit { offset, limit }) => {
                self.hint(offset, Some(DataType::Int8));
                self.hint(limit, Some(DataType::Int8));
            }
            None => {}
        }
        ControlFlow::Continue(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use zqlite_query::Database;

    fn infer(db: &Database, sql: &str, declared: &[u32]) -> Vec<Option<DataType>> {
        let stmt = zqlite_query::session::parse(sql).expect("valid SQL").pop();
        let state = db.store().snapshot();
        parameter_types(sql, stmt.as_ref(), declared, state.catalog())
    }

    fn db() -> Database {
        let db = Database::open_in_memory().expect("in-memory database opens");
        db.session()
            .execute(
                "CREATE TABLE acc (id int PRIMARY KEY, name text, bal numeric(12,2), at timestamp, ok bool)",
                &[],
            )
            .expect("table is created");
        db
    }

    #[test]
    fn comparisons_take_the_column_type() {
        let db = db();
        let bal = db
            .store()
            .snapshot()
            .catalog()
            .table_by_name("acc")
            .expect("exists")
            .columns[2]
            .data_type;
        assert!(matches!(bal, DataType::Numeric(Some(_))));
        assert_eq!(
            infer(
                &db,
                "SELECT name FROM acc a WHERE a.id = $1 AND $2 < bal",
                &[]
            ),
            vec![Some(DataType::Int4), Some(bal)]
        );
        assert_eq!(
            infer(&db, "SELECT * FROM acc WHERE id IN ($1, $2) LIMIT $3", &[]),
            vec![
                Some(DataType::Int4),
                Some(DataType::Int4),
                Some(DataType::Int8)
            ]
        );
        let int_array = DataType::Int4.array_type().unwrap();
        assert_eq!(
            infer(
                &db,
                "SELECT * FROM acc WHERE id = ANY($1) OR id <> ALL ($2)",
                &[]
            ),
            vec![Some(int_array), Some(int_array)]
        );
    }

    #[test]
    fn inserts_and_updates_take_the_target_column_type() {
        let db = db();
        assert_eq!(
            infer(&db, "INSERT INTO acc (ok, id, at) VALUES ($1, $2, $3)", &[]),
            vec![
                Some(DataType::Bool),
                Some(DataType::Int4),
                Some(DataType::Timestamp)
            ]
        );
        assert_eq!(
            infer(&db, "UPDATE acc SET name = $2 WHERE id = $1", &[]),
            vec![Some(DataType::Int4), Some(DataType::Text)]
        );
    }

    #[test]
    fn casts_declarations_and_unknowns() {
        let db = db();
        assert_eq!(
            infer(&db, "SELECT $1::bigint, $2, $3", &[0, 0, 701]),
            vec![Some(DataType::Int8), None, Some(DataType::Float8)]
        );
        assert_eq!(placeholder_count("SELECT '$5', $2"), 2);
    }

    #[test]
    fn window_offsets_and_defaults() {
        let db = db();
        let bal = db
            .store()
            .snapshot()
            .catalog()
            .table_by_name("acc")
            .expect("exists")
            .columns[2]
            .data_type;
        assert_eq!(
            infer(
                &db,
                "SELECT lag(bal, $1, $2) OVER (ORDER BY id ROWS BETWEEN $3 PRECEDING AND CURRENT ROW), \
                 ntile($4) OVER (), sum(id) OVER (ORDER BY bal RANGE BETWEEN $5 PRECEDING AND $6 FOLLOWING) FROM acc",
                &[]
            ),
            vec![
                Some(DataType::Int4),
                Some(bal),
                Some(DataType::Int8),
                Some(DataType::Int4),
                Some(bal),
                Some(bal),
            ]
        );
    }
}
