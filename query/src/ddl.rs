//! DDL: CREATE/DROP/ALTER of tables, indexes, views and sequences, and TRUNCATE.
//!
//! Each statement turns into catalog [`Change`]s applied to the transaction, which
//! validates them. Defaults and CHECK expressions are stored as SQL text and bound here once
//! to reject bad ones early. PostgreSQL's naming rules are followed for generated names:
//! `t_pkey`, `t_a_key`, `t_a_fkey`, `t_a_check`, `t_a_idx`, `t_a_seq`.

use sqlparser::ast;
use zqlite_projections::value::DataType;
use zqlite_projections::{
    Change, CheckConstraint, ColumnDef, FkAction, ForeignKey, Identity, IdentityKind, IndexColumn,
    IndexDef, IndexExpression, SequenceDef, TableDef, Transaction, ViewDef,
};

use crate::bind::{Binder, ScopeColumn, data_type, ident_name, object_name};
use crate::error::{Error, Result};
use crate::index_expr;
use crate::result::QueryResult;

pub(crate) fn done(tag: &str) -> QueryResult {
    QueryResult::command(tag, None)
}

fn fk_action(a: &Option<ast::ReferentialAction>) -> Result<FkAction> {
    Ok(match a {
        None | Some(ast::ReferentialAction::NoAction) | Some(ast::ReferentialAction::Restrict) => {
            FkAction::Restrict
        }
        Some(ast::ReferentialAction::Cascade) => FkAction::Cascade,
        Some(ast::ReferentialAction::SetNull) => FkAction::SetNull,
        Some(ast::ReferentialAction::SetDefault) => FkAction::SetDefault,
    })
}

fn column_positions(def: &TableDef, names: &[String]) -> Result<Vec<usize>> {
    names
        .iter()
        .map(|n| {
            def.column_index(n).ok_or_else(|| {
                Error::bind(
                    "42703",
                    format!("column \"{n}\" named in key does not exist"),
                )
            })
        })
        .collect()
}

fn index_columns(cols: &[ast::IndexColumn]) -> Result<Vec<String>> {
    cols.iter()
        .map(|c| match &c.column.expr {
            ast::Expr::Identifier(i) => Ok(ident_name(i)),
            other => Err(Error::unsupported(format!("index on expression {other}"))),
        })
        .collect()
}

/// Validates an expression stored as text (DEFAULT, CHECK) by binding it over `def`.
pub(crate) fn validate_expr(
    txn: &Transaction,
    def: &TableDef,
    expr: &ast::Expr,
    check: bool,
) -> Result<()> {
    let state = txn.state().clone();
    let mut b = Binder::new(&state, &[]);
    if check {
        for c in &def.columns {
            b.scope().columns.push(ScopeColumn {
                table: Some(def.name.clone()),
                name: c.name.clone(),
                ty: Some(c.data_type),
                hidden: false,
                row_alias: false,
            });
        }
        b.predicate(expr, "CHECK")?;
    } else {
        b.scope();
        b.expr(expr)?;
    }
    Ok(())
}

/// Binds a column default as `validate_expr` does, and converts an unknown literal to the
/// column's type now, as PostgreSQL does (`DEFAULT 'x'` on an integer column is 22P02).
pub(crate) fn validate_default(txn: &Transaction, expr: &ast::Expr, ty: DataType) -> Result<()> {
    let state = txn.state().clone();
    let mut b = Binder::new(&state, &[]);
    b.scope();
    let (e, t) = b.expr(expr)?;
    if t.is_none() {
        crate::bind::expr::coerce_unknown(e, ty)?;
    }
    Ok(())
}

pub(crate) struct TableBuilder {
    pub(crate) def: TableDef,
    pub(crate) sequences: Vec<SequenceDef>,
}

impl TableBuilder {
    fn add_unique(&mut self, name: Option<String>, cols: Vec<usize>) {
        let col_names: Vec<&str> = cols
            .iter()
            .map(|&c| self.def.columns[c].name.as_str())
            .collect();
        let name = name.unwrap_or_else(|| format!("{}_{}_key", self.def.name, col_names.join("_")));
        if self
            .def
            .indexes
            .iter()
            .any(|i| i.plain_columns().as_ref() == Some(&cols) && i.unique)
        {
            return;
        }
        self.def
            .indexes
            .push(IndexDef::on_columns(name, &cols, true, true));
    }

    fn set_primary_key(&mut self, name: Option<String>, cols: Vec<usize>) -> Result<()> {
        if self.def.primary_key.is_some() {
            return Err(Error::bind(
                "42P16",
                format!(
                    "multiple primary keys for table \"{}\" are not allowed",
                    self.def.name
                ),
            ));
        }
        for &c in &cols {
            self.def.columns[c].nullable = false;
        }
        self.def.primary_key_name = Some(name.unwrap_or_else(|| format!("{}_pkey", self.def.name)));
        self.def.primary_key = Some(cols);
        Ok(())
    }

    fn add_foreign_key(
        &mut self,
        txn: &Transaction,
        fk: &ast::ForeignKeyConstraint,
        cols: Vec<usize>,
    ) -> Result<()> {
        let ref_name = object_name(&fk.foreign_table)?;
        let referenced: TableDef = if ref_name == self.def.name {
            self.def.clone()
        } else {
            txn.state()
                .catalog()
                .table_by_name(&ref_name)
                .map(|d| (**d).clone())
                .ok_or_else(|| {
                    Error::bind("42P01", format!("relation \"{ref_name}\" does not exist"))
                })?
        };
        let ref_cols = if fk.referred_columns.is_empty() {
            referenced.primary_key.clone().ok_or_else(|| {
                Error::bind(
                    "42830",
                    format!("there is no primary key for referenced table \"{ref_name}\""),
                )
            })?
        } else {
            let names: Vec<String> = fk.referred_columns.iter().map(ident_name).collect();
            column_positions(&referenced, &names)?
        };
        if ref_cols.len() != cols.len() {
            return Err(Error::bind(
                "42830",
                "number of referencing and referenced columns for foreign key disagree",
            ));
        }
        let col_names: Vec<&str> = cols
            .iter()
            .map(|&c| self.def.columns[c].name.as_str())
            .collect();
        let name = fk
            .name
            .as_ref()
            .map(ident_name)
            .unwrap_or_else(|| format!("{}_{}_fkey", self.def.name, col_names.join("_")));
        // The referenced columns must be a primary key or unique constraint's (in any
        // order); a table's own keys may still be declared further on in its CREATE TABLE.
        let mut wanted = ref_cols.clone();
        wanted.sort_unstable();
        let same_set = |c: &[usize]| {
            let mut c = c.to_vec();
            c.sort_unstable();
            c == wanted
        };
        let unique = referenced.primary_key.as_deref().is_some_and(same_set)
            || referenced
                .indexes
                .iter()
                .any(|i| i.unique && i.plain_columns().is_some_and(|c| same_set(&c)));
        if !unique && ref_name != self.def.name {
            return Err(Error::bind(
                "42830",
                format!(
                    "there is no unique constraint matching given keys for referenced table \"{ref_name}\""
                ),
            ));
        }
        // Each pair needs an equality operator: the same type, integers of any width, or
        // a referencing type implicitly converted to the referenced one.
        for (&c, &r) in cols.iter().zip(&ref_cols) {
            let (from, to) = (
                self.def.columns[c].data_type,
                referenced.columns[r].data_type,
            );
            let integer =
                |t: DataType| matches!(t, DataType::Int2 | DataType::Int4 | DataType::Int8);
            let comparable = from.without_modifier() == to.without_modifier()
                || (integer(from) && integer(to))
                || zqlite_projections::value::cast_context(&from, &to)
                    == Some(zqlite_projections::value::CastContext::Implicit);
            if !comparable {
                return Err(Error::bind(
                    "42804",
                    format!(
                        "foreign key constraint \"{name}\" cannot be implemented: key columns \"{}\" and \"{}\" are of incompatible types: {} and {}",
                        self.def.columns[c].name,
                        referenced.columns[r].name,
                        from.sql_name(),
                        to.sql_name()
                    ),
                ));
            }
        }
        self.def.foreign_keys.push(ForeignKey {
            name,
            columns: cols,
            ref_table: referenced.id,
            ref_columns: ref_cols,
            on_delete: fk_action(&fk.on_delete)?,
            on_update: fk_action(&fk.on_update)?,
        });
        Ok(())
    }

    pub(crate) fn table_constraint(
        &mut self,
        txn: &Transaction,
        c: &ast::TableConstraint,
    ) -> Result<()> {
        match c {
            ast::TableConstraint::PrimaryKey(pk) => {
                let cols = column_positions(&self.def, &index_columns(&pk.columns)?)?;
                self.set_primary_key(pk.name.as_ref().map(ident_name), cols)
            }
            ast::TableConstraint::Unique(u) => {
                let cols = column_positions(&self.def, &index_columns(&u.columns)?)?;
                self.add_unique(u.name.as_ref().map(ident_name), cols);
                Ok(())
            }
            ast::TableConstraint::ForeignKey(fk) => {
                let names: Vec<String> = fk.columns.iter().map(ident_name).collect();
                let cols = column_positions(&self.def, &names)?;
                self.add_foreign_key(txn, fk, cols)
            }
            ast::TableConstraint::Check(ck) => {
                validate_expr(txn, &self.def, &ck.expr, true)?;
                let name = ck
                    .name
                    .as_ref()
                    .map(ident_name)
                    .unwrap_or_else(|| format!("{}_check", self.def.name));
                self.def.checks.push(CheckConstraint {
                    name,
                    expr: ck.expr.to_string(),
                });
                Ok(())
            }
            other => Err(Error::unsupported(format!("constraint {other}"))),
        }
    }

    /// Adds a column and applies its inline constraints.
    pub(crate) fn column(&mut self, txn: &Transaction, col: &ast::ColumnDef) -> Result<()> {
        let name = ident_name(&col.name);
        if self.def.column_index(&name).is_some() {
            return Err(Error::bind(
                "42701",
                format!("column \"{name}\" specified more than once"),
            ));
        }
        let ty_text = col.data_type.to_string().to_ascii_lowercase();
        let serial = matches!(
            ty_text.as_str(),
            "serial" | "bigserial" | "smallserial" | "serial4" | "serial8" | "serial2"
        );
        let ty = data_type(&col.data_type)?;
        let position = self.def.columns.len();
        self.def.columns.push(ColumnDef {
            name: name.clone(),
            data_type: ty,
            nullable: true,
            default: None,
            identity: None,
        });
        let max = match ty {
            DataType::Int2 => i64::from(i16::MAX),
            DataType::Int4 => i64::from(i32::MAX),
            _ => i64::MAX,
        };
        let identity = |kind: IdentityKind, me: &mut TableBuilder| {
            let seq = format!("{}_{}_seq", me.def.name, name);
            me.sequences.push(SequenceDef {
                name: seq.clone(),
                start: 1,
                increment: 1,
                min_value: 1,
                max_value: max,
                cycle: false,
                owned_by: Some(me.def.id),
            });
            me.def.columns[position].identity = Some(Identity {
                kind,
                sequence: seq,
            });
            me.def.columns[position].nullable = false;
        };
        if serial {
            identity(IdentityKind::ByDefault, self);
        }
        for opt in &col.options {
            let cname = opt.name.as_ref().map(ident_name);
            match &opt.option {
                ast::ColumnOption::Null => self.def.columns[position].nullable = true,
                ast::ColumnOption::NotNull => self.def.columns[position].nullable = false,
                ast::ColumnOption::Default(e) => {
                    let ty = self.def.columns[position].data_type;
                    validate_default(txn, e, ty)?;
                    self.def.columns[position].default = Some(e.to_string());
                }
                ast::ColumnOption::PrimaryKey(_) => self.set_primary_key(cname, vec![position])?,
                ast::ColumnOption::Unique(_) => self.add_unique(cname, vec![position]),
                ast::ColumnOption::ForeignKey(fk) => {
                    self.add_foreign_key(txn, fk, vec![position])?
                }
                ast::ColumnOption::Check(ck) => {
                    validate_expr(txn, &self.def, &ck.expr, true)?;
                    let name = cname.unwrap_or_else(|| format!("{}_{}_check", self.def.name, name));
                    self.def.checks.push(CheckConstraint {
                        name,
                        expr: ck.expr.to_string(),
                    });
                }
                ast::ColumnOption::Generated {
                    generated_as,
                    generation_expr: None,
                    ..
                } => {
                    let kind = match generated_as {
                        ast::GeneratedAs::Always => IdentityKind::Always,
                        _ => IdentityKind::ByDefault,
                    };
                    identity(kind, self);
                }
                other => return Err(Error::unsupported(format!("column option {other}"))),
            }
        }
        Ok(())
    }
}

pub(crate) fn create_table(txn: &mut Transaction, ct: &ast::CreateTable) -> Result<QueryResult> {
    let (schema, name) = crate::bind::qualified_name(&ct.name)?;
    crate::sequences::check_schema(schema.as_deref())?;
    if let Some(q) = &ct.query {
        return create_table_as(txn, ct, &name, q);
    }
    let catalog = txn.state().catalog();
    if catalog.relation_exists(&name) {
        if ct.if_not_exists {
            return Ok(done("CREATE TABLE"));
        }
        return Err(Error::bind(
            "42P07",
            format!("relation \"{name}\" already exists"),
        ));
    }
    let mut b = TableBuilder {
        def: TableDef {
            id: catalog.next_table_id(),
            name,
            columns: Vec::new(),
            primary_key: None,
            primary_key_name: None,
            indexes: Vec::new(),
            checks: Vec::new(),
            foreign_keys: Vec::new(),
            materialized: None,
        },
        sequences: Vec::new(),
    };
    for col in &ct.columns {
        b.column(txn, col)?;
    }
    for c in &ct.constraints {
        b.table_constraint(txn, c)?;
    }
    for seq in b.sequences {
        txn.apply(Change::CreateSequence(seq))?;
    }
    txn.apply(Change::CreateTable(b.def))?;
    Ok(done("CREATE TABLE"))
}

/// `CREATE TABLE name AS query`: columns named and typed after the query's output.
fn create_table_as(
    txn: &mut Transaction,
    ct: &ast::CreateTable,
    name: &str,
    q: &ast::Query,
) -> Result<QueryResult> {
    if txn.state().catalog().relation_exists(name) {
        if ct.if_not_exists {
            return Ok(done("CREATE TABLE AS"));
        }
        return Err(Error::bind(
            "42P07",
            format!("relation \"{name}\" already exists"),
        ));
    }
    let state = txn.state().clone();
    let (mut columns, rows, _) = crate::materialized::compute(&state, q)?;
    let names = ct.columns.iter().map(|c| ident_name(&c.name));
    crate::materialized::rename_columns(&mut columns, names)?;
    let id = state.catalog().next_table_id();
    txn.apply(Change::CreateTable(TableDef {
        id,
        name: name.to_string(),
        columns,
        primary_key: None,
        primary_key_name: None,
        indexes: Vec::new(),
        checks: Vec::new(),
        foreign_keys: Vec::new(),
        materialized: None,
    }))?;
    let count = rows.len() as u64;
    for row in rows {
        txn.insert(id, row)?;
    }
    Ok(QueryResult::command("SELECT", Some(count)))
}

/// CREATE INDEX: key columns are columns or expressions (`ON t (a, (lower(b)))`; see
/// `index_expr`). An unnamed index is named as PostgreSQL names it: `t_a_lower_idx`, with a
/// number appended while that name is taken (`t_a_lower_idx1`).
pub(crate) fn create_index(txn: &mut Transaction, ci: &ast::CreateIndex) -> Result<QueryResult> {
    let table = object_name(&ci.table_name)?;
    let def = txn
        .state()
        .catalog()
        .table_by_name(&table)
        .cloned()
        .ok_or_else(|| Error::bind("42P01", format!("relation \"{table}\" does not exist")))?;
    // Indexing every row would enforce a partial unique index on rows it excludes.
    if ci.predicate.is_some() || !ci.include.is_empty() {
        return Err(Error::unsupported(
            "CREATE INDEX with WHERE (partial index) or INCLUDE",
        ));
    }
    let state = txn.state().clone();
    let mut columns = Vec::new();
    let mut labels = Vec::new();
    for c in &ci.columns {
        let e = &c.column.expr;
        labels.push(index_expr::column_label(e));
        match index_expr::stored_text(e) {
            None => {
                let n = labels.last().cloned().unwrap_or_default();
                let position = def.column_index(&n).ok_or_else(|| {
                    Error::bind("42703", format!("column \"{n}\" does not exist"))
                })?;
                columns.push(IndexColumn::Column(position));
            }
            Some(text) => {
                index_expr::bind_new(&state, &def, e)?;
                columns.push(IndexColumn::Expression(IndexExpression::new(text)));
            }
        }
    }
    let taken = |name: &str| {
        state.catalog().relation_exists(name)
            || state.catalog().tables().any(|t| t.index(name).is_some())
    };
    let name = match &ci.name {
        Some(n) => object_name(n)?,
        None => {
            let base = format!("{table}_{}_idx", labels.join("_"));
            let mut name = base.clone();
            let mut pass = 0;
            while taken(&name) {
                pass += 1;
                name = format!("{base}{pass}");
            }
            name
        }
    };
    if taken(&name) {
        if ci.if_not_exists {
            return Ok(done("CREATE INDEX"));
        }
        return Err(Error::bind(
            "42P07",
            format!("relation \"{name}\" already exists"),
        ));
    }
    txn.apply(Change::CreateIndex {
        table: def.id,
        index: IndexDef {
            name,
            columns,
            unique: ci.unique,
            constraint: false,
        },
    })?;
    Ok(done("CREATE INDEX"))
}

pub(crate) fn create_view(txn: &mut Transaction, cv: &ast::CreateView) -> Result<QueryResult> {
    if cv.materialized {
        return crate::materialized::create(txn, cv);
    }
    if cv.or_alter {
        return Err(Error::unsupported("CREATE OR ALTER VIEW"));
    }
    let name = object_name(&cv.name)?;
    if txn.state().catalog().relation_exists(&name) && !cv.or_replace {
        return Err(Error::bind(
            "42P07",
            format!("relation \"{name}\" already exists"),
        ));
    }
    let text = cv.query.to_string();
    if text.contains(crate::window_syntax::MARKER) {
        // The stored text is sqlparser's rendering, which cannot show a frame exclusion.
        return Err(Error::unsupported("EXCLUDE in a window frame of a view"));
    }
    let state = txn.state().clone();
    let mut binder = Binder::new(&state, &[]);
    binder.record_relations = true;
    let bound = binder.query(&cv.query)?;
    let mut columns: Vec<String> = bound.columns.iter().map(|c| c.name.clone()).collect();
    if !cv.columns.is_empty() {
        if cv.columns.len() > columns.len() {
            return Err(Error::bind(
                "42601",
                "CREATE VIEW specifies more column names than columns",
            ));
        }
        for (i, c) in cv.columns.iter().enumerate() {
            columns[i] = ident_name(&c.name);
        }
    }
    for (i, c) in columns.iter().enumerate() {
        if columns[..i].contains(c) {
            return Err(Error::bind(
                "42701",
                format!("column \"{c}\" specified more than once"),
            ));
        }
    }
    let mut depends_on = binder.relations.clone();
    depends_on.sort();
    depends_on.dedup();
    if cv.or_replace && txn.state().catalog().view(&name).is_some() {
        txn.apply(Change::DropView { name: name.clone() })?;
    }
    txn.apply(Change::CreateView(ViewDef {
        name,
        query: text,
        columns,
        depends_on,
    }))?;
    Ok(done("CREATE VIEW"))
}

/// 42809: `name` is a relation of another kind than the statement names.
fn not_a(name: &str, kind: &str) -> Error {
    Error::bind("42809", format!("\"{name}\" is not a {kind}"))
}

pub(crate) fn drop(
    txn: &mut Transaction,
    object_type: &ast::ObjectType,
    names: &[ast::ObjectName],
    if_exists: bool,
    cascade: bool,
) -> Result<QueryResult> {
    if cascade {
        return Err(Error::unsupported("DROP ... CASCADE"));
    }
    let mut tag = "DROP TABLE";
    for n in names {
        let name = object_name(n)?;
        let catalog = txn.state().catalog().clone();
        let dependents = || catalog.dependent_views(&name);
        let depends_err = |kind: &str, deps: Vec<String>| Error::Runtime {
            sqlstate: "2BP01",
            message: format!(
                "cannot drop {kind} {name} because other objects depend on it ({} depends on it)",
                deps.join(", ")
            ),
        };
        match object_type {
            ast::ObjectType::Table | ast::ObjectType::MaterializedView => {
                let materialized = *object_type == ast::ObjectType::MaterializedView;
                let kind = if materialized {
                    tag = "DROP MATERIALIZED VIEW";
                    "materialized view"
                } else {
                    tag = "DROP TABLE";
                    "table"
                };
                let Some(def) = catalog.table_by_name(&name) else {
                    if catalog.view(&name).is_some() {
                        return Err(not_a(&name, kind));
                    }
                    if if_exists {
                        continue;
                    }
                    return Err(Error::bind(
                        "42P01",
                        format!("{kind} \"{name}\" does not exist"),
                    ));
                };
                if def.materialized.is_some() != materialized {
                    return Err(not_a(&name, kind));
                }
                let deps = dependents();
                if !deps.is_empty() {
                    return Err(depends_err(kind, deps));
                }
                txn.apply(Change::DropTable { table: def.id })?;
            }
            ast::ObjectType::View => {
                tag = "DROP VIEW";
                if catalog.view(&name).is_none() {
                    if catalog.table_by_name(&name).is_some() {
                        return Err(not_a(&name, "view"));
                    }
                    if if_exists {
                        continue;
                    }
                    return Err(Error::bind(
                        "42P01",
                        format!("view \"{name}\" does not exist"),
                    ));
                }
                let deps = dependents();
                if !deps.is_empty() {
                    return Err(depends_err("view", deps));
                }
                txn.apply(Change::DropView { name })?;
            }
            ast::ObjectType::Index => {
                tag = "DROP INDEX";
                let owner = catalog.tables().find(|t| t.index(&name).is_some()).cloned();
                let Some(def) = owner else {
                    if if_exists {
                        continue;
                    }
                    return Err(Error::bind(
                        "42704",
                        format!("index \"{name}\" does not exist"),
                    ));
                };
                if def.index(&name).is_some_and(|i| i.constraint) {
                    return Err(Error::Runtime {
                        sqlstate: "2BP01",
                        message: format!(
                            "cannot drop index {name} because constraint {name} on table {} requires it",
                            def.name
                        ),
                    });
                }
                txn.apply(Change::DropIndex {
                    table: def.id,
                    name,
                })?;
            }
            ast::ObjectType::Role | ast::ObjectType::User => {
                tag = "DROP ROLE";
                if catalog.role(&name).is_none() {
                    if if_exists {
                        continue;
                    }
                    return Err(Error::bind(
                        "42704",
                        format!("role \"{name}\" does not exist"),
                    ));
                }
                txn.apply(Change::DropRole { name })?;
            }
            ast::ObjectType::Sequence => {
                tag = "DROP SEQUENCE";
                if catalog.sequence(&name).is_none() {
                    if if_exists {
                        continue;
                    }
                    return Err(Error::bind(
                        "42P01",
                        format!("sequence \"{name}\" does not exist"),
                    ));
                }
                txn.apply(Change::DropSequence { name })?;
            }
            other => return Err(Error::unsupported(format!("DROP {other}"))),
        }
    }
    Ok(done(tag))
}

pub(crate) fn truncate(txn: &mut Transaction, t: &ast::Truncate) -> Result<QueryResult> {
    for target in &t.table_names {
        let name = object_name(&target.name)?;
        let catalog = txn.state().catalog();
        let def = catalog.table_by_name(&name).ok_or_else(|| {
            if catalog.view(&name).is_some() {
                not_a(&name, "table")
            } else {
                Error::bind("42P01", format!("relation \"{name}\" does not exist"))
            }
        })?;
        if def.materialized.is_some() {
            return Err(not_a(&name, "table"));
        }
        let id = def.id;
        txn.apply(Change::Truncate { table: id })?;
    }
    Ok(done("TRUNCATE TABLE"))
}
