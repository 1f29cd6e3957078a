//! Binding FROM clauses: tables, views (expanded from their stored SQL text), derived
//! tables, system relations and table functions ([`crate::system`]), set-returning
//! functions ([`crate::set_functions`]) and joins (`ON`, `USING`, `NATURAL`, comma and
//! `CROSS JOIN`).
//!
//! Each item appends its columns to the current scope in FROM order, which is also the
//! column order of the join rows the plan produces. LATERAL items (`LATERAL` subqueries
//! and set-returning functions, which PostgreSQL makes lateral implicitly) are bound one
//! level in, so the earlier items' columns are outer references, and run per row of the
//! earlier items by [`Plan::Lateral`].

use sqlparser::ast;
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;
use zqlite_projections::value::{BinaryOp, DataType, Value};

use super::expr::coerce_to;
use super::{Binder, ScopeColumn, ident_loc, ident_name, object_name};
use crate::error::{Error, Result};
use crate::expr::Expr;
use crate::plan::{JoinKind, Plan};
use crate::set_functions;
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

/// A LATERAL item inside a parenthesised join that follows other FROM items.
fn lateral_in_nested_join() -> Error {
    Error::unsupported("a LATERAL item inside a parenthesised join after other FROM items")
}

/// The input of a LATERAL item that comes first in FROM.
fn one_empty_row() -> Plan {
    Plan::Values {
        rows: vec![vec![]],
        width: 0,
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
        // Lateral items read the row of the items before them, which must be this plan's
        // rows: not so inside a parenthesised join that follows other items.
        let lateral_ok = base == 0;
        let (first, first_lateral) = self.table_factor_lateral(&twj.relation)?;
        let mut plan = match (left, first_lateral) {
            (None, false) => first,
            (Some(left), false) => Plan::NestedLoopJoin {
                left: Box::new(left),
                right: Box::new(first),
                kind: JoinKind::Inner,
                on: None,
            },
            // Inside a parenthesised join, reading FROM items outside it.
            (None, true) => return Err(lateral_in_nested_join()),
            (Some(left), true) => {
                if !lateral_ok {
                    return Err(lateral_in_nested_join());
                }
                Plan::Lateral {
                    left: Box::new(left),
                    right: Box::new(first),
                    kind: JoinKind::Inner,
                    on: None,
                }
            }
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
            let (right, lateral) = self.table_factor_lateral(&join.relation)?;
            if lateral && !lateral_ok {
                return Err(lateral_in_nested_join());
            }
            if lateral && !matches!(kind, JoinKind::Inner | JoinKind::Left) {
                return Err(Error::bind(
                    "42P10",
                    "invalid reference to FROM-clause entry: the combining JOIN type must be \
                     INNER or LEFT for a LATERAL reference",
                ));
            }
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
            plan = if lateral {
                Plan::Lateral {
                    left: Box::new(plan),
                    right: Box::new(right),
                    kind,
                    on,
                }
            } else {
                Plan::NestedLoopJoin {
                    left: Box::new(plan),
                    right: Box::new(right),
                    kind,
                    on,
                }
            };
        }
        Ok(plan)
    }

    /// Binds a FROM item; also says whether it is LATERAL (a `LATERAL` subquery or a
    /// set-returning function), to be run once per row of the items before it.
    fn table_factor_lateral(&mut self, tf: &ast::TableFactor) -> Result<(Plan, bool)> {
        let saved = std::mem::replace(&mut self.factor_is_lateral, false);
        let saved_referenced = std::mem::replace(&mut self.scope().referenced_from_inner, false);
        let before = self.scope().columns.len();
        let plan = self.table_factor(tf);
        // Two items of one FROM clause may not have the same name.
        let columns = &self.scope().columns;
        if let Some(name) = columns[before.min(columns.len())..]
            .iter()
            .filter_map(|c| c.table.as_deref())
            .find(|t| {
                columns[..before]
                    .iter()
                    .any(|c| c.table.as_deref() == Some(*t))
            })
        {
            let message = format!("table name \"{name}\" specified more than once");
            self.factor_is_lateral = saved;
            return Err(Error::bind("42712", message));
        }
        let lateral = std::mem::replace(&mut self.factor_is_lateral, saved);
        let referenced = self.scope().referenced_from_inner;
        self.scope().referenced_from_inner |= saved_referenced;
        let plan = plan?;
        if lateral && !referenced {
            // Reads nothing of the items before it: run once, as a plain join input.
            return Ok((
                Plan::Lateral {
                    left: Box::new(one_empty_row()),
                    right: Box::new(plan),
                    kind: JoinKind::Inner,
                    on: None,
                },
                false,
            ));
        }
        Ok((plan, lateral))
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
                sample,
                ..
            } => {
                if let Some(sample) = sample {
                    let mut unsampled = tf.clone();
                    if let ast::TableFactor::Table { sample, .. } = &mut unsampled {
                        *sample = None;
                    }
                    let plan = self.table_factor(&unsampled)?;
                    return self.table_sample(plan, sample);
                }
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
                if let Some(schema) = schema
                    .as_deref()
                    .filter(|s| system::is_system_schema(s) || *s != "public")
                {
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
                            row_alias: false,
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
                            row_alias: false,
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
                lateral,
                subquery,
                alias,
                ..
            } => {
                let Some(alias) = alias else {
                    return Err(Error::bind("42601", "subquery in FROM must have an alias"));
                };
                // A LATERAL subquery sees the FROM items before it as its enclosing level.
                let result = if *lateral {
                    self.factor_is_lateral = true;
                    self.subquery(subquery)
                } else {
                    let current = self.scopes.pop().unwrap_or_default();
                    let result = self.subquery(subquery);
                    self.scopes.push(current);
                    result
                };
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
                        row_alias: false,
                    });
                }
                Ok(bound.plan)
            }
            ast::TableFactor::NestedJoin {
                table_with_joins,
                alias: None,
            } => self.table_with_joins(table_with_joins, None),
            ast::TableFactor::Function {
                name,
                args,
                with_ordinality,
                alias,
                ..
            } => self.table_function(name, args, alias.as_ref(), *with_ordinality),
            ast::TableFactor::UNNEST {
                alias,
                array_exprs,
                with_offset: false,
                with_offset_alias: None,
                with_ordinality,
            } => {
                let args: Vec<ast::FunctionArg> = array_exprs
                    .iter()
                    .map(|e| ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(e.clone())))
                    .collect();
                self.set_function("unnest", &args, alias.as_ref(), *with_ordinality)
            }
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
        if set_functions::is_set_function(&object)
            && schema.as_deref().is_none_or(|s| s == "pg_catalog")
        {
            return self
                .set_function(&object, args, alias, ordinality)
                .map_err(|e| e.at(loc));
        }
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

    /// `FROM f(args)` for a set-returning function: LATERAL, so its arguments are bound one
    /// level in, where the earlier FROM items' columns are outer references.
    fn set_function(
        &mut self,
        name: &str,
        args: &[ast::FunctionArg],
        alias: Option<&ast::TableAlias>,
        ordinality: bool,
    ) -> Result<Plan> {
        self.scopes.push(super::Scope::default());
        let bound = (|| {
            let mut bound = Vec::with_capacity(args.len());
            for arg in args {
                let ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(e)) = arg else {
                    return Err(Error::unsupported(format!("argument {arg} of {name}")));
                };
                bound.push(self.expr(e)?);
            }
            Ok(bound)
        })();
        self.scopes.pop();
        let bound = bound?;
        let types: Vec<Option<DataType>> = bound.iter().map(|(_, t)| *t).collect();
        let resolved = set_functions::resolve(name, &types)?;
        let args = bound
            .into_iter()
            .zip(&resolved.arg_types)
            .map(|((e, from), to)| match to {
                Some(to) => coerce_to(e, from, Some(*to)),
                None => Ok(e),
            })
            .collect::<Result<Vec<_>>>()?;
        self.factor_is_lateral = true;
        let alias_name = alias
            .map(|a| ident_name(&a.name))
            .unwrap_or_else(|| name.to_string());
        let mut renames: Vec<String> = alias
            .map(|a| a.columns.iter().map(|c| ident_name(&c.name)).collect())
            .unwrap_or_default();
        // A function returning one column named after itself: its alias names the column.
        if renames.is_empty()
            && alias.is_some()
            && let [(column, _)] = resolved.columns.as_slice()
            && column == name
        {
            renames.push(alias_name.clone());
        }
        let mut columns: Vec<(String, DataType)> = resolved.columns.clone();
        if ordinality {
            columns.push(("ordinality".to_string(), DataType::Int8));
        }
        let single = resolved.columns.len() == 1;
        for (i, (column, ty)) in columns.into_iter().enumerate() {
            self.scope().columns.push(ScopeColumn {
                table: Some(alias_name.clone()),
                name: renames.get(i).cloned().unwrap_or(column),
                ty: Some(ty),
                hidden: false,
                row_alias: single && i == 0,
            });
        }
        Ok(Plan::FunctionScan {
            func: resolved.func,
            args,
            width: resolved.columns.len(),
            ordinality,
        })
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
                row_alias: false,
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

impl Binder<'_> {
    /// `TABLESAMPLE BERNOULLI (p)` / `SYSTEM (p)`: each row is kept with probability p%.
    /// SYSTEM samples pages in PostgreSQL; zqlite has no pages and samples rows for both.
    fn table_sample(&mut self, plan: Plan, sample: &ast::TableSampleKind) -> Result<Plan> {
        let (ast::TableSampleKind::BeforeTableAlias(s) | ast::TableSampleKind::AfterTableAlias(s)) =
            sample;
        match s.name {
            Some(ast::TableSampleMethod::Bernoulli | ast::TableSampleMethod::System) => {}
            _ => {
                return Err(Error::unsupported(format!("{s}")));
            }
        }
        let Some(quantity) = &s.quantity else {
            return Err(Error::bind("42601", "syntax error at or near \")\""));
        };
        if quantity.unit.is_some() || s.seed.is_some() || s.bucket.is_some() || s.offset.is_some() {
            return Err(Error::unsupported(format!("{s}")));
        }
        let (e, t) = self.expr(&quantity.value)?;
        let e = crate::fold::fold(super::expr::coerce_to(e, t, Some(DataType::Float4))?)?;
        let percent = match &e {
            Expr::Literal(Value::Float4(p)) => f64::from(*p),
            Expr::Literal(Value::Null) => {
                return Err(Error::bind("22023", "TABLESAMPLE parameter cannot be null"));
            }
            _ => {
                return Err(Error::unsupported(
                    "a TABLESAMPLE percentage that is not a constant",
                ));
            }
        };
        if !(0.0..=100.0).contains(&percent) {
            return Err(Error::bind(
                "2202H",
                "sample percentage must be between 0 and 100",
            ));
        }
        let keep = Expr::Binary(
            BinaryOp::Lt,
            Box::new(Expr::Binary(
                BinaryOp::Mul,
                Box::new(Expr::Function(crate::functions::Func::Random, Vec::new())),
                Box::new(Expr::Literal(Value::Float8(100.0))),
            )),
            Box::new(Expr::Literal(Value::Float8(percent))),
        );
        self.mutable_calls = true;
        Ok(Plan::Filter {
            input: Box::new(plan),
            predicate: keep,
        })
    }
}
