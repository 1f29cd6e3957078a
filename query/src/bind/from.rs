//! Binding FROM clauses: tables, views (expanded from their stored SQL text), derived
//! tables, system relations and table functions ([`crate::system`]) and joins (`ON`,
//! `USING`, `NATURAL`, comma and `CROSS JOIN`).
//!
//! Each item appends its columns to the current scope in FROM order, which is also the
//! column order of the join rows the plan produces.

use sqlparser::ast;
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;
use zqlite_projections::value::{DataType, Value};

use super::expr::coerce_to;
use super::{Binder, ScopeColumn, ident_loc, ident_name, object_name};
use crate::error::{Error, Result};
use crate::expr::Expr;
use crate::plan::{JoinKind, Plan};
use crate::system::{self, SystemRelation};

pub(crate) fn parse_view(sql: &str) -> Result<ast::Query> {
    let mut stmts = Parser::parse_sql(&PostgreSqlDialect {}, sql).map_err(Error::from_parser)?;
    match (stmts.pop(), stmts.is_empty()) {
        (Some(ast::Statement::Query(q)), true) => Ok(*q),
        _ => Err(Error::Runtime {
            sqlstate: "XX000",
            message: "a stored view is not a single query".into(),
        }),
    }
}

impl Binder<'_> {
    /// Binds a FROM list into a plan, adding its columns to the current scope.
    pub(crate) fn bind_from(&mut self, from: &[ast::TableWithJoins]) -> Result<Plan> {
        let mut plan: Option<Plan> = None;
        for twj in from {
            // Join conditions are bound against the whole FROM list's columns, so a later
            // item's joins must run on rows that carry the earlier items' columns too. That
            // is `(a × b) ⟕ c` for `a, b LEFT JOIN c`, the same rows as `a × (b ⟕ c)` since
            // the condition cannot see `a`; RIGHT and FULL joins are not distributive that
            // way and keep their own rows.
            let distributive = twj.joins.iter().all(|j| {
                use ast::JoinOperator as J;
                matches!(
                    j.join_operator,
                    J::Join(_) | J::Inner(_) | J::Left(_) | J::LeftOuter(_) | J::CrossJoin(_)
                )
            });
            plan = Some(match plan {
                None => self.table_with_joins(twj, None)?,
                Some(left) if distributive => self.table_with_joins(twj, Some(left))?,
                Some(left) => Plan::NestedLoopJoin {
                    left: Box::new(left),
                    right: Box::new(self.table_with_joins(twj, None)?),
                    kind: JoinKind::Inner,
                    on: None,
                },
            });
        }
        Ok(plan.unwrap_or(Plan::Values {
            rows: vec![vec![]],
            width: 0,
        }))
    }

    /// Binds one FROM item with its joins, cross-joined after `left` (the earlier items).
    fn table_with_joins(&mut self, twj: &ast::TableWithJoins, left: Option<Plan>) -> Result<Plan> {
        let base = if left.is_some() {
            0
        } else {
            self.scope().columns.len()
        };
        let first = self.table_factor(&twj.relation)?;
        let mut plan = match left {
            None => first,
            Some(left) => Plan::NestedLoopJoin {
                left: Box::new(left),
                right: Box::new(first),
                kind: JoinKind::Inner,
                on: None,
            },
        };
        for join in &twj.joins {
            use ast::JoinOperator as J;
            let (kind, constraint) = match &join.join_operator {
                J::Join(c) | J::Inner(c) => (JoinKind::Inner, Some(c)),
                J::Left(c) | J::LeftOuter(c) => (JoinKind::Left, Some(c)),
                J::Right(c) | J::RightOuter(c) => (JoinKind::Right, Some(c)),
                J::FullOuter(c) => (JoinKind::Full, Some(c)),
                J::CrossJoin(ast::JoinConstraint::None) => (JoinKind::Inner, None),
                other => {
                    return Err(Error::unsupported(
                        format!("join {other:?}")
                            .chars()
                            .take(60)
                            .collect::<String>(),
                    ));
                }
            };
            let left_width = self.scope().columns.len();
            if let ast::TableFactor::Derived {
                lateral: true,
                subquery,
                alias,
                ..
            } = &join.relation
            {
                let cross = kind == JoinKind::Inner
                    && matches!(constraint, None | Some(ast::JoinConstraint::None));
                if !cross || base != 0 {
                    return Err(Error::unsupported(
                        "LATERAL other than CROSS JOIN LATERAL next to inner and left joins",
                    ));
                }
                plan = self.lateral_select(plan, left_width, subquery, alias.as_ref())?;
                continue;
            }
            let right = self.table_factor(&join.relation)?;
            let on = match constraint {
                None | Some(ast::JoinConstraint::None) => None,
                Some(ast::JoinConstraint::On(e)) => Some(self.predicate(e, "JOIN/ON")?),
                Some(ast::JoinConstraint::Using(names)) => {
                    let names: Vec<String> =
                        names.iter().map(object_name).collect::<Result<_>>()?;
                    Some(self.using(left_width, &names)?)
                }
                Some(ast::JoinConstraint::Natural) => {
                    let cols = self.scope().columns.clone();
                    let names: Vec<String> = cols[left_width..]
                        .iter()
                        .filter(|c| {
                            cols[..left_width]
                                .iter()
                                .any(|l| l.name == c.name && !l.hidden)
                        })
                        .map(|c| c.name.clone())
                        .collect();
                    if names.is_empty() {
                        None
                    } else {
                        Some(self.using(left_width, &names)?)
                    }
                }
                Some(other) => {
                    return Err(Error::unsupported(format!("join constraint {other:?}")));
                }
            };
            plan = Plan::NestedLoopJoin {
                left: Box::new(plan),
                right: Box::new(right),
                kind,
                on,
            };
        }
        Ok(plan)
    }

    /// `CROSS JOIN LATERAL (SELECT e1, e2) AS o(a, b)`: a FROM-less one-row SELECT over the
    /// left side's columns, which extends each left row with the values of `e1`, `e2`.
    fn lateral_select(
        &mut self,
        left: Plan,
        left_width: usize,
        q: &ast::Query,
        alias: Option<&ast::TableAlias>,
    ) -> Result<Plan> {
        let unsupported =
            || Error::unsupported("LATERAL subqueries other than SELECT <expressions>");
        let ast::SetExpr::Select(select) = q.body.as_ref() else {
            return Err(unsupported());
        };
        let plain = q.with.is_none()
            && q.order_by.is_none()
            && q.limit_clause.is_none()
            && select.from.is_empty()
            && select.selection.is_none()
            && select.having.is_none()
            && select.distinct.is_none()
            && matches!(&select.group_by, ast::GroupByExpr::Expressions(g, _) if g.is_empty());
        if !plain {
            return Err(unsupported());
        }
        let Some(alias) = alias else {
            return Err(Error::bind("42601", "subquery in FROM must have an alias"));
        };
        let mut exprs: Vec<Expr> = (0..left_width).map(Expr::Column).collect();
        let mut columns = Vec::new();
        for (i, item) in select.projection.iter().enumerate() {
            let (e, default_name) = match item {
                ast::SelectItem::UnnamedExpr(e) => (e, "?column?".to_string()),
                ast::SelectItem::ExprWithAlias { expr, alias } => (expr, ident_name(alias)),
                _ => return Err(unsupported()),
            };
            let (bound, ty) = self.expr(e)?;
            exprs.push(bound);
            let name = alias
                .columns
                .get(i)
                .map(|c| ident_name(&c.name))
                .unwrap_or(default_name);
            columns.push(ScopeColumn {
                table: Some(ident_name(&alias.name)),
                name,
                ty,
                hidden: false,
            });
        }
        self.scope().columns.extend(columns);
        Ok(Plan::Project {
            input: Box::new(left),
            exprs,
        })
    }

    /// `USING (a, b)`: equality of the named columns; the right-hand ones become hidden.
    fn using(&mut self, left_width: usize, names: &[String]) -> Result<Expr> {
        let mut conds = Vec::new();
        for name in names {
            let cols = &self.scope().columns;
            let l = cols[..left_width]
                .iter()
                .position(|c| c.name == *name && !c.hidden);
            let r = cols[left_width..]
                .iter()
                .position(|c| c.name == *name)
                .map(|i| i + left_width);
            let (Some(l), Some(r)) = (l, r) else {
                return Err(Error::bind(
                    "42703",
                    format!(
                        "column \"{name}\" specified in USING clause does not exist in both tables"
                    ),
                ));
            };
            let (lt, rt) = (cols[l].ty, cols[r].ty);
            self.scope().columns[r].hidden = true;
            let (e, _) = self.binary(
                zqlite_projections::value::BinaryOp::Eq,
                (Expr::Column(l), lt),
                (Expr::Column(r), rt),
            )?;
            conds.push(e);
        }
        Ok(Expr::and_all(conds).unwrap_or(Expr::Literal(Value::Bool(true))))
    }

    fn table_factor(&mut self, tf: &ast::TableFactor) -> Result<Plan> {
        match tf {
            ast::TableFactor::Table {
                name,
                alias,
                args: None,
                ..
            } => {
                let table = object_name(name)?;
                let loc = match name.0.last() {
                    Some(ast::ObjectNamePart::Identifier(i)) => ident_loc(i),
                    _ => None,
                };
                let cte = match name.0.len() {
                    1 => self.ctes.iter().rposition(|c| c.name == table),
                    _ => None,
                };
                if let Some(pos) = cte {
                    return self.cte_reference(pos, alias.as_ref(), loc);
                }
                let (schema, _) = super::qualified_name(name)?;
                if let Some(relation) = system::lookup(schema.as_deref(), &table, false) {
                    return Ok(self.system_relation(relation, Vec::new(), alias.as_ref(), false));
                }
                if let Some(schema) = schema.as_deref().filter(|s| system::is_system_schema(s)) {
                    return Err(Error::Bind {
                        sqlstate: "42P01",
                        message: format!("relation \"{schema}.{table}\" does not exist"),
                        location: loc,
                    });
                }
                if self.record_relations && self.view_stack.is_empty() {
                    self.relations.push(table.clone());
                }
                let alias_name = alias
                    .as_ref()
                    .map(|a| ident_name(&a.name))
                    .unwrap_or_else(|| table.clone());
                let renames: Vec<String> = alias
                    .as_ref()
                    .map(|a| a.columns.iter().map(|c| ident_name(&c.name)).collect())
                    .unwrap_or_default();
                if let Some(def) = self.state.catalog().table_by_name(&table).cloned() {
                    for (i, c) in def.columns.iter().enumerate() {
                        let name = renames.get(i).cloned().unwrap_or_else(|| c.name.clone());
                        self.scope().columns.push(ScopeColumn {
                            table: Some(alias_name.clone()),
                            name,
                            ty: Some(c.data_type),
                            hidden: false,
                        });
                    }
                    return Ok(Plan::Scan {
                        table: def.id,
                        name: def.name.clone(),
                        width: def.columns.len(),
                        filter: None,
                    });
                }
                if let Some(view) = self.state.catalog().view(&table).cloned() {
                    if self.view_stack.contains(&table) || self.view_stack.len() > 32 {
                        return Err(Error::bind(
                            "42P17",
                            format!("infinite recursion detected in view \"{table}\""),
                        ));
                    }
                    let q = parse_view(&view.query)?;
                    self.view_stack.push(table.clone());
                    let saved = std::mem::take(&mut self.scopes);
                    let saved_aggs = self.aggs.take();
                    let result = self.query(&q);
                    self.scopes = saved;
                    self.aggs = saved_aggs;
                    self.view_stack.pop();
                    let bound = result?;
                    for (i, c) in bound.columns.iter().enumerate() {
                        let name = renames
                            .get(i)
                            .or(view.columns.get(i))
                            .cloned()
                            .unwrap_or_else(|| c.name.clone());
                        self.scope().columns.push(ScopeColumn {
                            table: Some(alias_name.clone()),
                            name,
                            ty: c.ty,
                            hidden: false,
                        });
                    }
                    return Ok(bound.plan);
                }
                Err(Error::Bind {
                    sqlstate: "42P01",
                    message: format!("relation \"{table}\" does not exist"),
                    location: loc,
                })
            }
            ast::TableFactor::Table {
                name,
                args: Some(args),
                ..
            } if crate::as_of::is_function(name) => self.as_of_table(tf, name, &args.args),
            ast::TableFactor::Table {
                name,
                alias,
                args: Some(args),
                with_ordinality,
                ..
            } => self.table_function(name, &args.args, alias.as_ref(), *with_ordinality),
            ast::TableFactor::Derived {
                lateral: false,
                subquery,
                alias,
                ..
            } => {
                let Some(alias) = alias else {
                    return Err(Error::bind("42601", "subquery in FROM must have an alias"));
                };
                let current = self.scopes.pop().unwrap_or_default();
                let result = self.subquery(subquery);
                self.scopes.push(current);
                let (bound, _) = result?;
                let alias_name = ident_name(&alias.name);
                for (i, c) in bound.columns.iter().enumerate() {
                    let name = alias
                        .columns
                        .get(i)
                        .map(|c| ident_name(&c.name))
                        .unwrap_or_else(|| c.name.clone());
                    self.scope().columns.push(ScopeColumn {
                        table: Some(alias_name.clone()),
                        name,
                        ty: c.ty,
                        hidden: false,
                    });
                }
                Ok(bound.plan)
            }
            ast::TableFactor::NestedJoin {
                table_with_joins,
                alias: None,
            } => self.table_with_joins(table_with_joins, None),
            other => Err(Error::unsupported(format!("FROM item {other}"))),
        }
    }
}

impl Binder<'_> {
    /// `FROM zq_as_of('table', point)`: the table, read from the state the session chose
    /// for the query's point (see `as_of.rs`); it is named like the table unless aliased.
    fn as_of_table(
        &mut self,
        tf: &ast::TableFactor,
        name: &ast::ObjectName,
        args: &[ast::FunctionArg],
    ) -> Result<Plan> {
        let loc = match name.0.last() {
            Some(ast::ObjectNamePart::Identifier(i)) => ident_loc(i),
            _ => None,
        };
        let table = match args {
            [
                ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(ast::Expr::Value(v))),
                _,
            ] => match &v.value {
                ast::Value::SingleQuotedString(s) => s.clone(),
                _ => String::new(),
            },
            _ => {
                return Err(Error::Bind {
                    sqlstate: "42883",
                    message: format!(
                        "{} takes two arguments: a table name and a point (timestamptz or \
                         'lsn:<n>')",
                        crate::as_of::FUNCTION
                    ),
                    location: loc,
                });
            }
        };
        let parsed = Parser::new(&PostgreSqlDialect {})
            .try_with_sql(&table)
            .and_then(|mut p| {
                let name = p.parse_object_name(false)?;
                p.expect_token(&sqlparser::tokenizer::Token::EOF)?;
                Ok(name)
            });
        let Ok(table_name) = parsed.map_err(|_| ()).and_then(|n| {
            if table.trim().is_empty() {
                Err(())
            } else {
                Ok(n)
            }
        }) else {
            return Err(Error::Bind {
                sqlstate: "42601",
                message: format!(
                    "the first argument of {} must be a table name in a string literal, \
                     such as 'orders'",
                    crate::as_of::FUNCTION
                ),
                location: loc,
            });
        };
        if !self.as_of_allowed || !self.view_stack.is_empty() {
            return Err(Error::Bind {
                sqlstate: "0A000",
                message: format!(
                    "{} can be used in queries only (SELECT, EXPLAIN), not in views or \
                     data-changing statements",
                    crate::as_of::FUNCTION
                ),
                location: loc,
            });
        }
        let mut plain = tf.clone();
        if let ast::TableFactor::Table { name, args, .. } = &mut plain {
            *name = table_name;
            *args = None;
        }
        self.table_factor(&plain)
    }

    /// `FROM name(args)`: a system table function.
    fn table_function(
        &mut self,
        name: &ast::ObjectName,
        args: &[ast::FunctionArg],
        alias: Option<&ast::TableAlias>,
        ordinality: bool,
    ) -> Result<Plan> {
        let (schema, object) = super::qualified_name(name)?;
        let loc = match name.0.last() {
            Some(ast::ObjectNamePart::Identifier(i)) => ident_loc(i),
            _ => None,
        };
        let Some(relation) = system::lookup(schema.as_deref(), &object, true) else {
            return Err(Error::Bind {
                sqlstate: "42883",
                message: format!("function {name} does not exist"),
                location: loc,
            });
        };
        if args.len() != relation.args.len() {
            return Err(Error::Bind {
                sqlstate: "42883",
                message: format!(
                    "function {name} takes {} arguments, not {}",
                    relation.args.len(),
                    args.len()
                ),
                location: loc,
            });
        }
        let mut bound = Vec::with_capacity(args.len());
        for (arg, &ty) in args.iter().zip(relation.args) {
            let ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(e)) = arg else {
                return Err(Error::unsupported(format!("argument {arg} of {name}")));
            };
            let (expr, from) = self.expr(e)?;
            bound.push(coerce_to(expr, from, Some(ty))?);
        }
        Ok(self.system_relation(relation, bound, alias, ordinality))
    }

    /// Brings the columns of a system relation into scope and scans it.
    fn system_relation(
        &mut self,
        relation: &'static SystemRelation,
        args: Vec<Expr>,
        alias: Option<&ast::TableAlias>,
        ordinality: bool,
    ) -> Plan {
        let alias_name = alias
            .map(|a| ident_name(&a.name))
            .unwrap_or_else(|| relation.name.to_string());
        let mut renames: Vec<String> = alias
            .map(|a| a.columns.iter().map(|c| ident_name(&c.name)).collect())
            .unwrap_or_default();
        // As in PostgreSQL, the alias of a function returning one column named after
        // itself names that column too (`generate_series(1, 3) s` has column `s`).
        if renames.is_empty()
            && alias.is_some()
            && let [(column, _)] = relation.columns
            && *column == relation.name
        {
            renames.push(alias_name.clone());
        }
        let mut columns: Vec<(&str, Option<DataType>)> = relation
            .columns
            .iter()
            .map(|(c, t)| (*c, Some(*t)))
            .collect();
        if ordinality {
            columns.push(("ordinality", Some(DataType::Int8)));
        }
        for (i, (column, ty)) in columns.into_iter().enumerate() {
            let name = renames
                .get(i)
                .cloned()
                .unwrap_or_else(|| column.to_string());
            self.scope().columns.push(ScopeColumn {
                table: Some(alias_name.clone()),
                name,
                ty,
                hidden: false,
            });
        }
        Plan::SystemScan {
            relation,
            args,
            filter: None,
            ordinality,
        }
    }
}
