//! ALTER TABLE: add/drop/rename columns, add/drop constraints, rename the table, and
//! column defaults and NOT NULL. Each operation re-reads the table definition, so several
//! operations in one statement see each other's effect.

use sqlparser::ast;
use zqlite_projections::{Change, IndexColumn, IndexDef, IndexExpression, TableDef, Transaction};

use crate::bind::{ident_name, object_name};
use crate::ddl::{TableBuilder, done};
use crate::error::{Error, Result};
use crate::index_expr;
use crate::result::QueryResult;

pub(crate) fn alter_table(
    txn: &mut Transaction,
    at: &ast::AlterTable,
    params: &[zqlite_projections::value::Value],
) -> Result<QueryResult> {
    let name = object_name(&at.name)?;
    for op in &at.operations {
        let Some(def) = txn
            .state()
            .catalog()
            .table_by_name(&name)
            .map(|d| (**d).clone())
        else {
            if at.if_exists {
                return Ok(done("ALTER TABLE"));
            }
            return Err(Error::bind(
                "42P01",
                format!("relation \"{name}\" does not exist"),
            ));
        };
        alter_one(txn, def, op, params)?;
    }
    Ok(done("ALTER TABLE"))
}

fn alter_one(
    txn: &mut Transaction,
    mut def: TableDef,
    op: &ast::AlterTableOperation,
    params: &[zqlite_projections::value::Value],
) -> Result<()> {
    use ast::AlterTableOperation as A;
    match op {
        A::AddColumn {
            column_def,
            if_not_exists,
            ..
        } => {
            let cname = ident_name(&column_def.name);
            if def.column_index(&cname).is_some() {
                if *if_not_exists {
                    return Ok(());
                }
                return Err(Error::bind(
                    "42701",
                    format!(
                        "column \"{cname}\" of relation \"{}\" already exists",
                        def.name
                    ),
                ));
            }
            let mut b = TableBuilder {
                def: def.clone(),
                sequences: Vec::new(),
            };
            b.column(txn, column_def)?;
            for seq in b.sequences {
                txn.apply(Change::CreateSequence(seq))?;
            }
            let column = b
                .def
                .columns
                .last()
                .cloned()
                .ok_or_else(|| crate::exec::internal("no column"))?;
            let fill = match &column.default {
                Some(text) => crate::dml::eval_default_text(txn, text, &column.data_type, params)?,
                None => zqlite_projections::value::Value::Null,
            };
            txn.apply(Change::AddColumn {
                table: def.id,
                column: column.clone(),
                fill,
            })?;
            // Inline constraints of the new column (UNIQUE, CHECK, ...).
            let mut after = txn
                .state()
                .catalog()
                .table(def.id)
                .map(|d| (**d).clone())
                .ok_or_else(|| crate::exec::internal("table vanished"))?;
            let position = after.columns.len() - 1;
            after.columns[position] = column;
            for idx in b
                .def
                .indexes
                .iter()
                .filter(|i| !def.indexes.iter().any(|d| d.name == i.name))
            {
                txn.apply(Change::CreateIndex {
                    table: def.id,
                    index: idx.clone(),
                })?;
            }
            after.indexes = txn
                .state()
                .catalog()
                .table(def.id)
                .map(|d| d.indexes.clone())
                .unwrap_or_default();
            after.checks = b.def.checks;
            after.foreign_keys = b.def.foreign_keys;
            after.primary_key = b.def.primary_key;
            after.primary_key_name = b.def.primary_key_name;
            txn.apply(Change::AlterTable(after))?;
        }
        A::DropColumn {
            column_names,
            if_exists,
            ..
        } => {
            for c in column_names {
                let cname = ident_name(c);
                let Some(pos) = def.column_index(&cname) else {
                    if *if_exists {
                        continue;
                    }
                    return Err(Error::bind(
                        "42703",
                        format!(
                            "column \"{cname}\" of relation \"{}\" does not exist",
                            def.name
                        ),
                    ));
                };
                let dependents = views_reading_column(txn, &def.name, &cname);
                if !dependents.is_empty() {
                    return Err(Error::Runtime {
                        sqlstate: "2BP01",
                        message: format!(
                            "cannot drop column {cname} of table {} because other objects depend on it ({} depends on it)",
                            def.name,
                            dependents.join(", ")
                        ),
                    });
                }
                if def.primary_key.as_ref().is_some_and(|pk| pk.contains(&pos)) {
                    def.primary_key = None;
                    def.primary_key_name = None;
                }
                // Indexes on the column go with it, expression indexes reading it too.
                let reads = |i: &IndexDef| {
                    i.columns
                        .iter()
                        .any(|c| index_expr::index_reads_column(&def, c, pos))
                };
                let dropped: Vec<String> = def
                    .indexes
                    .iter()
                    .filter(|i| reads(i))
                    .map(|i| i.name.clone())
                    .collect();
                for name in &dropped {
                    txn.apply(Change::DropIndex {
                        table: def.id,
                        name: name.clone(),
                    })?;
                }
                def.indexes.retain(|i| !dropped.contains(&i.name));
                def.foreign_keys.retain(|f| !f.columns.contains(&pos));
                def.checks
                    .retain(|ck| !ck.expr.to_lowercase().contains(&cname));
                txn.apply(Change::AlterTable(def.clone()))?;
                txn.apply(Change::DropColumn {
                    table: def.id,
                    column: pos,
                })?;
                def = txn
                    .state()
                    .catalog()
                    .table(def.id)
                    .map(|d| (**d).clone())
                    .ok_or_else(|| crate::exec::internal("table vanished"))?;
            }
        }
        A::RenameColumn {
            old_column_name,
            new_column_name,
        } => {
            let old = ident_name(old_column_name);
            let new = ident_name(new_column_name);
            let pos = def
                .column_index(&old)
                .ok_or_else(|| Error::bind("42703", format!("column \"{old}\" does not exist")))?;
            if def.column_index(&new).is_some() {
                return Err(Error::bind(
                    "42701",
                    format!(
                        "column \"{new}\" of relation \"{}\" already exists",
                        def.name
                    ),
                ));
            }
            // Index expressions name the column: they follow the rename.
            for index in &mut def.indexes {
                for column in &mut index.columns {
                    if let IndexColumn::Expression(e) = column {
                        let sql = index_expr::rename_column(e.sql(), &old, &new)?;
                        *e = IndexExpression::new(sql);
                    }
                }
            }
            def.columns[pos].name = new;
            txn.apply(Change::AlterTable(def))?;
        }
        A::RenameTable { table_name } => {
            let (ast::RenameTableNameKind::As(n) | ast::RenameTableNameKind::To(n)) = table_name;
            let new = object_name(n)?;
            if txn.state().catalog().relation_exists(&new) {
                return Err(Error::bind(
                    "42P07",
                    format!("relation \"{new}\" already exists"),
                ));
            }
            def.name = new;
            txn.apply(Change::AlterTable(def))?;
        }
        A::AddConstraint { constraint, .. } => {
            let mut b = TableBuilder {
                def: def.clone(),
                sequences: Vec::new(),
            };
            b.table_constraint(txn, constraint)?;
            for idx in b
                .def
                .indexes
                .iter()
                .filter(|i| !def.indexes.iter().any(|d| d.name == i.name))
            {
                txn.apply(Change::CreateIndex {
                    table: def.id,
                    index: idx.clone(),
                })?;
            }
            let mut after = b.def;
            after.indexes = txn
                .state()
                .catalog()
                .table(def.id)
                .map(|d| d.indexes.clone())
                .unwrap_or_default();
            if after.checks.len() > def.checks.len() {
                crate::dml::check_existing_rows(txn, &after, params)?;
            }
            txn.apply(Change::AlterTable(after))?;
        }
        A::DropConstraint {
            name, if_exists, ..
        } => {
            let cname = ident_name(name);
            if def.indexes.iter().any(|i| i.constraint && i.name == cname) {
                txn.apply(Change::DropIndex {
                    table: def.id,
                    name: cname,
                })?;
                return Ok(());
            }
            let before = (
                def.checks.len(),
                def.foreign_keys.len(),
                def.primary_key.is_some(),
            );
            def.checks.retain(|c| c.name != cname);
            def.foreign_keys.retain(|f| f.name != cname);
            if def.primary_key_name.as_deref() == Some(cname.as_str()) {
                def.primary_key = None;
                def.primary_key_name = None;
            }
            if before
                == (
                    def.checks.len(),
                    def.foreign_keys.len(),
                    def.primary_key.is_some(),
                )
            {
                if *if_exists {
                    return Ok(());
                }
                return Err(Error::bind(
                    "42704",
                    format!(
                        "constraint \"{cname}\" of relation \"{}\" does not exist",
                        def.name
                    ),
                ));
            }
            txn.apply(Change::AlterTable(def))?;
        }
        A::AlterColumn { column_name, op } => {
            let cname = ident_name(column_name);
            let pos = def.column_index(&cname).ok_or_else(|| {
                Error::bind("42703", format!("column \"{cname}\" does not exist"))
            })?;
            match op {
                ast::AlterColumnOperation::SetNotNull => def.columns[pos].nullable = false,
                ast::AlterColumnOperation::DropNotNull => def.columns[pos].nullable = true,
                ast::AlterColumnOperation::SetDefault { value } => {
                    crate::ddl::validate_default(txn, value, def.columns[pos].data_type)?;
                    def.columns[pos].default = Some(value.to_string());
                }
                ast::AlterColumnOperation::DropDefault => def.columns[pos].default = None,
                ast::AlterColumnOperation::SetDataType {
                    data_type: to,
                    using: None,
                    ..
                } => {
                    // Without USING, PostgreSQL converts the values with an assignment cast.
                    let (from, to) = (def.columns[pos].data_type, crate::bind::data_type(to)?);
                    let assignable = matches!(
                        zqlite_projections::value::cast_context(&from, &to),
                        Some(
                            zqlite_projections::value::CastContext::Implicit
                                | zqlite_projections::value::CastContext::Assignment
                        )
                    );
                    if !assignable {
                        return Err(Error::bind(
                            "42804",
                            format!(
                                "column \"{cname}\" cannot be cast automatically to type {}",
                                to.sql_name()
                            ),
                        ));
                    }
                    return Err(Error::unsupported("ALTER COLUMN ... TYPE"));
                }
                other => return Err(Error::unsupported(format!("ALTER COLUMN {other}"))),
            }
            txn.apply(Change::AlterTable(def))?;
        }
        other => return Err(Error::unsupported(format!("ALTER TABLE {other}"))),
    }
    Ok(())
}

/// The views (and materialized views) reading `table` whose query names `column`, or that
/// output a column of that name (`SELECT *` was expanded when the view was made).
fn views_reading_column(txn: &Transaction, table: &str, column: &str) -> Vec<String> {
    use sqlparser::tokenizer::{Token, Tokenizer};
    let catalog = txn.state().catalog().clone();
    let dialect = sqlparser::dialect::PostgreSqlDialect {};
    let names_column = |sql: &str| {
        Tokenizer::new(&dialect, sql)
            .tokenize()
            .map(|tokens| {
                tokens.iter().any(|t| match t {
                    Token::Word(w) if w.quote_style.is_some() => w.value == column,
                    Token::Word(w) => w.value.to_lowercase() == column,
                    _ => false,
                })
            })
            .unwrap_or(true)
    };
    catalog
        .dependent_views(table)
        .into_iter()
        .filter(|name| {
            if let Some(view) = catalog.view(name) {
                return view.columns.iter().any(|c| c == column) || names_column(&view.query);
            }
            catalog.table_by_name(name).is_none_or(|t| {
                t.columns.iter().any(|c| c.name == column)
                    || t.materialized
                        .as_ref()
                        .is_none_or(|m| names_column(&m.query))
            })
        })
        .collect()
}
