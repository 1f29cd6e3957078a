//! An index expression as PostgreSQL's `pg_get_indexdef` prints it.
//!
//! PostgreSQL prints its analysed expression tree (ruleutils.c); this prints the parsed
//! expression the same way for the shapes index expressions take: column references,
//! function calls (`COALESCE`, `GREATEST`, `LEAST` and `NULLIF` in capitals), operators,
//! casts, `IS [NOT] NULL` and `CASE`, with constants labelled by the type they were resolved
//! to (`'key'::text`, `5`, `1.5`, `'7'::bigint`). Anything else is printed as sqlparser
//! writes it.
//!
//! Parentheses follow PostgreSQL's two modes: plain (every operator in parentheses:
//! `(doc ->> 'key'::text)`, `(b)::integer`) and pretty (`pg_get_indexdef(oid, 0, true)`,
//! used by `\d`: only where precedence needs them). A key column that is not a bare
//! function call is wrapped in one more pair (`((a + 1))`, `lower(email)`).

use sqlparser::ast::{self, BinaryOperator as B, UnaryOperator as U};
use zqlite_projections::State;
use zqlite_projections::TableDef;
use zqlite_projections::value::{DataType, TypeCategory};

use crate::bind::{Binder, data_type, ident_name};
use crate::dml::table_scope;
use crate::system::catalog_functions::quote_ident;

/// The key column `e` as `pg_get_indexdef` prints it: (plain, pretty).
pub(super) fn column_forms(state: &State, def: &TableDef, e: &ast::Expr) -> (String, String) {
    let wrap = |s: String| {
        if looks_like_function(e) {
            s
        } else {
            format!("({s})")
        }
    };
    let plain = Deparser {
        state,
        def,
        pretty: false,
    };
    let pretty = Deparser {
        state,
        def,
        pretty: true,
    };
    (
        wrap(plain.expr(e, None, Parent::Top)),
        wrap(pretty.expr(e, None, Parent::Top)),
    )
}

/// PostgreSQL's `looks_like_function`: a call written as a call, which needs no parentheses
/// of its own in a key column list.
fn looks_like_function(e: &ast::Expr) -> bool {
    match e {
        ast::Expr::Nested(inner) => looks_like_function(inner),
        ast::Expr::Function(_) => true,
        _ => false,
    }
}

/// Where an expression is printed, for pretty mode's parentheses (PostgreSQL's
/// `isSimpleNode` cases).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Parent {
    Top,
    /// An operand of a binary operator, with that operator's arithmetic class (`Some(1)` for
    /// `+ -`, `Some(2)` for `* / %`, `None` for any other) and whether it is the left one.
    Operator {
        class: Option<u8>,
        left: bool,
    },
    /// An argument of a call, an operand of AND/OR, a part of CASE: separated already.
    Separated,
    /// The operand of a cast or of IS NULL.
    Tight,
}

struct Deparser<'a> {
    state: &'a State,
    def: &'a TableDef,
    pretty: bool,
}

fn arithmetic_class(op: &B) -> Option<u8> {
    match op {
        B::Plus | B::Minus => Some(1),
        B::Multiply | B::Divide | B::Modulo => Some(2),
        _ => None,
    }
}

fn strip(e: &ast::Expr) -> &ast::Expr {
    match e {
        ast::Expr::Nested(inner) => strip(inner),
        other => other,
    }
}

fn quote_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// A constant of type `ty` written as `text`, as PostgreSQL's `get_const_expr` prints it.
fn constant(text: &str, ty: DataType) -> String {
    let ty = ty.without_modifier();
    match ty {
        DataType::Int4 if !text.starts_with('-') && text.parse::<i32>().is_ok() => text.into(),
        DataType::Numeric(_)
            if text.starts_with(|c: char| c.is_ascii_digit()) && text.contains(['.', 'e', 'E']) =>
        {
            text.into()
        }
        DataType::Bool if matches!(text.to_ascii_lowercase().as_str(), "t" | "true") => {
            "true".into()
        }
        DataType::Bool if matches!(text.to_ascii_lowercase().as_str(), "f" | "false") => {
            "false".into()
        }
        other => format!("{}::{other}", quote_literal(text)),
    }
}

fn is_numeric(ty: Option<DataType>) -> bool {
    ty.is_some_and(|t| t.category() == TypeCategory::Numeric)
}

impl Deparser<'_> {
    /// The type `e` binds to over the table's columns (`None`: unknown, or it does not bind).
    fn type_of(&self, e: &ast::Expr) -> Option<DataType> {
        let mut b = Binder::new(self.state, &[]);
        b.scope().columns = table_scope(self.def, &self.def.name);
        b.expr(e).ok().and_then(|(_, ty)| ty)
    }

    /// Parentheses around an operator-like node printed under `parent`.
    fn paren(&self, s: String, parent: Parent, simple: impl Fn(Parent) -> bool) -> String {
        if !self.pretty || !simple(parent) {
            format!("({s})")
        } else {
            s
        }
    }

    /// A literal; `ty` is the type its context resolves an unknown literal to.
    fn literal(&self, v: &ast::Value, ty: Option<DataType>, negate: bool) -> Option<String> {
        let sign = if negate { "-" } else { "" };
        Some(match v {
            ast::Value::SingleQuotedString(s) if !negate => {
                constant(s, ty.unwrap_or(DataType::Text))
            }
            ast::Value::Number(n, _) => {
                let text = format!("{sign}{n}");
                let integer = n.parse::<i64>().is_ok();
                let natural = match (integer, text.parse::<i32>().is_ok()) {
                    (true, true) => DataType::Int4,
                    (true, false) => DataType::Int8,
                    (false, _) => DataType::Numeric(None),
                };
                // An integer next to an integer of another width keeps its type (there are
                // cross-width operators); next to numeric or a float it becomes one.
                let ty = match ty {
                    Some(t)
                        if is_numeric(Some(t)) && !matches!(t, DataType::Int2 | DataType::Int8) =>
                    {
                        t
                    }
                    _ => natural,
                };
                constant(&text, ty)
            }
            ast::Value::Boolean(b) if !negate => b.to_string(),
            ast::Value::Null if !negate => format!("NULL::{}", ty.unwrap_or(DataType::Text)),
            _ => return None,
        })
    }

    fn expr(&self, e: &ast::Expr, ty: Option<DataType>, parent: Parent) -> String {
        use ast::Expr as E;
        match e {
            E::Nested(inner) => self.expr(inner, ty, parent),
            E::Identifier(i) => quote_ident(&ident_name(i)),
            E::CompoundIdentifier(parts) => parts
                .last()
                .map_or_else(|| e.to_string(), |i| quote_ident(&ident_name(i))),
            E::Value(v) => self
                .literal(&v.value, ty, false)
                .unwrap_or_else(|| e.to_string()),
            E::UnaryOp { op: U::Minus, expr } if matches!(strip(expr), E::Value(_)) => {
                let E::Value(v) = strip(expr) else {
                    unreachable!("matched above")
                };
                self.literal(&v.value, ty, true)
                    .unwrap_or_else(|| e.to_string())
            }
            E::UnaryOp { op, expr } => {
                let symbol = match op {
                    U::Not => "NOT ",
                    U::Minus => "- ",
                    U::Plus => "+ ",
                    _ => return e.to_string(),
                };
                let inner = self.expr(expr, None, Parent::Tight);
                self.paren(format!("{symbol}{inner}"), parent, |p| {
                    matches!(p, Parent::Top | Parent::Separated)
                })
            }
            E::BinaryOp { left, op, right } => self.binary(left, op, right, parent),
            E::IsNull(inner) | E::IsNotNull(inner) => {
                let what = if matches!(e, E::IsNull(_)) {
                    "IS NULL"
                } else {
                    "IS NOT NULL"
                };
                let inner = self.expr(inner, None, Parent::Tight);
                self.paren(format!("{inner} {what}"), parent, |p| {
                    matches!(p, Parent::Top | Parent::Separated)
                })
            }
            E::Cast {
                kind: ast::CastKind::Cast | ast::CastKind::DoubleColon,
                expr,
                data_type: dt,
                format: None,
            } => {
                let Ok(target) = data_type(dt) else {
                    return e.to_string();
                };
                if let E::Value(v) = strip(expr) {
                    let text = match &v.value {
                        ast::Value::SingleQuotedString(s) => Some(s.clone()),
                        ast::Value::Number(n, _) => Some(n.clone()),
                        _ => None,
                    };
                    if let Some(text) = text {
                        return constant(&text, target);
                    }
                }
                // Pretty: an operand that needs parentheses printed them itself.
                let inner = self.expr(expr, None, Parent::Tight);
                if self.pretty {
                    format!("{inner}::{target}")
                } else {
                    format!("({inner})::{target}")
                }
            }
            E::Function(f) => self.call(f).unwrap_or_else(|| e.to_string()),
            E::Case {
                operand,
                conditions,
                else_result,
                ..
            } => {
                let result_ty = self.type_of(e);
                let mut out = String::from("CASE");
                if let Some(o) = operand {
                    out.push(' ');
                    out.push_str(&self.expr(o, None, Parent::Separated));
                }
                for when in conditions {
                    out.push_str(" WHEN ");
                    out.push_str(&self.expr(&when.condition, None, Parent::Separated));
                    out.push_str(" THEN ");
                    out.push_str(&self.expr(&when.result, result_ty, Parent::Separated));
                }
                out.push_str(" ELSE ");
                match else_result {
                    Some(r) => out.push_str(&self.expr(r, result_ty, Parent::Separated)),
                    None => out.push_str(&format!("NULL::{}", result_ty.unwrap_or(DataType::Text))),
                }
                out.push_str(" END");
                out
            }
            other => other.to_string(),
        }
    }

    fn binary(&self, left: &ast::Expr, op: &B, right: &ast::Expr, parent: Parent) -> String {
        let symbol = match op {
            B::NotEq => "<>".to_string(),
            other => other.to_string(),
        };
        let (lt, rt) = (self.type_of(left), self.type_of(right));
        // The type an unknown literal operand is read as: a JSON key or path, or the other
        // operand's type.
        let (lctx, rctx) = match op {
            B::Arrow | B::LongArrow | B::Question => (lt, Some(DataType::Text)),
            B::HashArrow | B::HashLongArrow | B::HashMinus => (lt, Some(DataType::TEXT_ARRAY)),
            B::StringConcat => (lt.or(Some(DataType::Text)), rt.or(Some(DataType::Text))),
            _ => (lt.or(rt), rt.or(lt)),
        };
        let class = arithmetic_class(op);
        let l = self.expr(left, lctx, Parent::Operator { class, left: true });
        let r = self.expr(right, rctx, Parent::Operator { class, left: false });
        let text = format!("{l} {symbol} {r}");
        if matches!(op, B::And | B::Or) {
            return self.paren(text, parent, |p| {
                matches!(p, Parent::Top | Parent::Separated)
            });
        }
        self.paren(text, parent, |p| match p {
            Parent::Top | Parent::Separated => true,
            Parent::Tight => false,
            Parent::Operator {
                class: parent_class,
                left,
            } => match (class, parent_class) {
                (Some(mine), Some(theirs)) => mine > theirs || (mine == theirs && left),
                _ => false,
            },
        })
    }

    fn call(&self, f: &ast::Function) -> Option<String> {
        let ast::FunctionArguments::List(list) = &f.args else {
            return None;
        };
        if f.over.is_some() || f.filter.is_some() || !list.clauses.is_empty() {
            return None;
        }
        let name = match f.name.0.last()? {
            ast::ObjectNamePart::Identifier(i) => ident_name(i),
            _ => return None,
        };
        let mut args = Vec::new();
        for a in &list.args {
            match a {
                ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(e)) => args.push(e),
                _ => return None,
            }
        }
        let special = matches!(name.as_str(), "coalesce" | "greatest" | "least" | "nullif");
        // Unknown literals take the common type of these calls, and are text elsewhere.
        let common = if special {
            args.iter().find_map(|a| self.type_of(a))
        } else {
            None
        };
        let printed: Vec<String> = args
            .iter()
            .map(|a| self.expr(a, common, Parent::Separated))
            .collect();
        let shown = if special {
            name.to_uppercase()
        } else {
            quote_ident(&name)
        };
        Some(format!("{shown}({})", printed.join(", ")))
    }
}
