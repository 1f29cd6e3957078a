//! Rows as JSON: a whole-row reference (`to_jsonb(p)` for `FROM packages p`) or a
//! `ROW(...)` constructor given to `to_json`, `to_jsonb`, `row_to_json`, `json_agg` or
//! `jsonb_agg`. zqlite has no composite values, so such an argument is bound straight to
//! the JSON object PostgreSQL would make of the record: its columns' names (`f1`, `f2`,
//! ... for `ROW(...)`) and values, in column order.
//!
//! A column of the same name wins over a table alias, as in PostgreSQL (`to_json(t)` is
//! the column `t` when there is one).

use sqlparser::ast;
use zqlite_projections::value::{DataType, Value};

use super::expr::{Typed, coerce_unknown};
use super::{Binder, ident_name};
use crate::error::{Error, Result};
use crate::expr::Expr;
use crate::functions::Func;
use crate::json_functions::JsonFunc;

impl Binder<'_> {
    /// `e` as a JSON object when it is a record (see the module doc); `pretty` is
    /// `row_to_json`'s line-break flag.
    pub(super) fn record_json(
        &mut self,
        e: &ast::Expr,
        jsonb: bool,
        pretty: bool,
    ) -> Result<Option<Typed>> {
        let Some(fields) = self.record_fields(e, jsonb)? else {
            return Ok(None);
        };
        let mut args = Vec::with_capacity(2 * fields.len());
        for (name, (value, ty)) in fields {
            args.push(Expr::Literal(Value::Text(name)));
            // An unknown literal in ROW(...) is text, as in PostgreSQL.
            args.push(match ty {
                Some(_) => value,
                None => coerce_unknown(value, DataType::Text)?,
            });
        }
        let result = if jsonb {
            DataType::Jsonb
        } else {
            DataType::Json
        };
        Ok(Some((
            Expr::Function(Func::Json(JsonFunc::Record { jsonb, pretty }), args),
            Some(result),
        )))
    }

    /// The named fields of a record; a `ROW(...)` nested in a `ROW(...)` is a JSON object
    /// field of the same kind.
    fn record_fields(
        &mut self,
        e: &ast::Expr,
        jsonb: bool,
    ) -> Result<Option<Vec<(String, Typed)>>> {
        match e {
            ast::Expr::Nested(inner) => self.record_fields(inner, jsonb),
            ast::Expr::Identifier(id) => {
                let name = ident_name(id);
                if self.resolve_column(None, &name, None).is_ok() {
                    return Ok(None);
                }
                let Some(columns) = self.table_columns(&name) else {
                    return Ok(None);
                };
                let mut fields = Vec::with_capacity(columns.len());
                for column in columns {
                    let bound = self.resolve_column(Some(&name), &column, None)?;
                    fields.push((column, bound));
                }
                Ok(Some(fields))
            }
            ast::Expr::Function(f)
                if super::object_name(&f.name).is_ok_and(|n| n == "row") && f.over.is_none() =>
            {
                let ast::FunctionArguments::List(list) = &f.args else {
                    return Ok(Some(Vec::new()));
                };
                let mut fields = Vec::with_capacity(list.args.len());
                for (i, arg) in list.args.iter().enumerate() {
                    let ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(x)) = arg else {
                        return Err(Error::unsupported(format!("ROW argument {arg}")));
                    };
                    let value = match self.record_json(x, jsonb, false)? {
                        Some(nested) => nested,
                        None => self.expr(x)?,
                    };
                    fields.push((format!("f{}", i + 1), value));
                }
                Ok(Some(fields))
            }
            _ => Ok(None),
        }
    }

    /// The column names of the FROM item called `table`, at the innermost query level
    /// that has one.
    fn table_columns(&self, table: &str) -> Option<Vec<String>> {
        self.scopes.iter().rev().find_map(|scope| {
            let names: Vec<String> = scope
                .columns
                .iter()
                .filter(|c| c.table.as_deref() == Some(table) && !c.row_alias)
                .map(|c| c.name.clone())
                .collect();
            (!names.is_empty()).then_some(names)
        })
    }
}
