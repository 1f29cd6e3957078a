//! `pg_catalog` relations that describe zqlite's own catalog: `pg_namespace`, `pg_class`,
//! `pg_attribute`, `pg_index`, `pg_constraint`, `pg_attrdef`, `pg_sequence` and the views
//! `pg_tables`, `pg_views`, `pg_indexes`, `pg_sequences` built on them.
//!
//! Columns keep PostgreSQL 15's names and order (a subset of them); types are shown as the
//! closest zqlite type: `oid` and `regproc` as `bigint`, `name` and `"char"` as `text`,
//! `int2vector` as `smallint[]`, `oidvector` and `oid[]` as `bigint[]`, `aclitem[]` as
//! `text[]`, `pg_node_tree` as `text` (holding the expression's SQL text, which `pg_get_expr`
//! returns). OIDs come from [`super::oids`].
//!
//! Invariants:
//! - Every OID that appears in one relation (`relnamespace`, `indrelid`, `conrelid`, ...)
//!   names a row of the relation it refers to.
//! - User relations live in `public`; the system relations themselves are not listed.

use std::sync::Arc;

use zqlite_projections::State;
use zqlite_projections::catalog::{FkAction, IndexColumn, TableDef, ViewDef};
use zqlite_projections::value::{Array, DataType, Value};

use super::oids::{self, Object};
use super::{Namespace, Row, SystemContext, SystemRelation};
use crate::error::Result;
use crate::index_expr::bound;

pub(super) const OID: DataType = DataType::Int8;
pub(super) const NAME: DataType = DataType::Text;
pub(super) const CHAR: DataType = DataType::Text;
pub(super) const TEXT: DataType = DataType::Text;
pub(super) const BOOL: DataType = DataType::Bool;
pub(super) const INT2: DataType = DataType::Int2;
pub(super) const INT4: DataType = DataType::Int4;

pub(super) const fn rel(
    name: &'static str,
    columns: &'static [(&'static str, DataType)],
    rows: super::RowsFn,
) -> SystemRelation {
    SystemRelation {
        name,
        namespace: Namespace::PgCatalog,
        columns,
        args: &[],
        rows,
    }
}

pub(super) const RELATIONS: &[SystemRelation] = &[
    rel(
        "pg_namespace",
        &[
            ("oid", OID),
            ("nspname", NAME),
            ("nspowner", OID),
            ("nspacl", DataType::TEXT_ARRAY),
        ],
        pg_namespace,
    ),
    rel(
        "pg_class",
        &[
            ("oid", OID),
            ("relname", NAME),
            ("relnamespace", OID),
            ("reltype", OID),
            ("reloftype", OID),
            ("relowner", OID),
            ("relam", OID),
            ("relfilenode", OID),
            ("reltablespace", OID),
            ("relpages", INT4),
            ("reltuples", DataType::Float4),
            ("relallvisible", INT4),
            ("reltoastrelid", OID),
            ("relhasindex", BOOL),
            ("relisshared", BOOL),
            ("relpersistence", CHAR),
            ("relkind", CHAR),
            ("relnatts", INT2),
            ("relchecks", INT2),
            ("relhasrules", BOOL),
            ("relhastriggers", BOOL),
            ("relhassubclass", BOOL),
            ("relrowsecurity", BOOL),
            ("relforcerowsecurity", BOOL),
            ("relispopulated", BOOL),
            ("relreplident", CHAR),
            ("relispartition", BOOL),
            ("relrewrite", OID),
            ("relacl", DataType::TEXT_ARRAY),
            ("reloptions", DataType::TEXT_ARRAY),
            ("relpartbound", TEXT),
        ],
        pg_class,
    ),
    rel(
        "pg_attribute",
        &[
            ("attrelid", OID),
            ("attname", NAME),
            ("atttypid", OID),
            ("attstattarget", INT4),
            ("attlen", INT2),
            ("attnum", INT2),
            ("attndims", INT4),
            ("atttypmod", INT4),
            ("attbyval", BOOL),
            ("attalign", CHAR),
            ("attstorage", CHAR),
            ("attnotnull", BOOL),
            ("atthasdef", BOOL),
            ("atthasmissing", BOOL),
            ("attidentity", CHAR),
            ("attgenerated", CHAR),
            ("attisdropped", BOOL),
            ("attislocal", BOOL),
            ("attinhcount", INT4),
            ("attcollation", OID),
            ("attacl", DataType::TEXT_ARRAY),
            ("attoptions", DataType::TEXT_ARRAY),
        ],
        pg_attribute,
    ),
    rel(
        "pg_index",
        &[
            ("indexrelid", OID),
            ("indrelid", OID),
            ("indnatts", INT2),
            ("indnkeyatts", INT2),
            ("indisunique", BOOL),
            ("indnullsnotdistinct", BOOL),
            ("indisprimary", BOOL),
            ("indisexclusion", BOOL),
            ("indimmediate", BOOL),
            ("indisclustered", BOOL),
            ("indisvalid", BOOL),
            ("indcheckxmin", BOOL),
            ("indisready", BOOL),
            ("indislive", BOOL),
            ("indisreplident", BOOL),
            ("indkey", DataType::INT2_ARRAY),
            ("indcollation", DataType::INT8_ARRAY),
            ("indclass", DataType::INT8_ARRAY),
            ("indoption", DataType::INT2_ARRAY),
            ("indexprs", TEXT),
            ("indpred", TEXT),
        ],
        pg_index,
    ),
    rel(
        "pg_constraint",
        &[
            ("oid", OID),
            ("conname", NAME),
            ("connamespace", OID),
            ("contype", CHAR),
            ("condeferrable", BOOL),
            ("condeferred", BOOL),
            ("convalidated", BOOL),
            ("conrelid", OID),
            ("contypid", OID),
            ("conindid", OID),
            ("conparentid", OID),
            ("confrelid", OID),
            ("confupdtype", CHAR),
            ("confdeltype", CHAR),
            ("confmatchtype", CHAR),
            ("conislocal", BOOL),
            ("coninhcount", INT4),
            ("connoinherit", BOOL),
            ("conkey", DataType::INT2_ARRAY),
            ("confkey", DataType::INT2_ARRAY),
            ("conbin", TEXT),
        ],
        pg_constraint,
    ),
    rel(
        "pg_attrdef",
        &[
            ("oid", OID),
            ("adrelid", OID),
            ("adnum", INT2),
            ("adbin", TEXT),
        ],
        pg_attrdef,
    ),
    rel(
        "pg_sequence",
        &[
            ("seqrelid", OID),
            ("seqtypid", OID),
            ("seqstart", DataType::Int8),
            ("seqincrement", DataType::Int8),
            ("seqmax", DataType::Int8),
            ("seqmin", DataType::Int8),
            ("seqcache", DataType::Int8),
            ("seqcycle", BOOL),
        ],
        pg_sequence,
    ),
    rel(
        "pg_tables",
        &[
            ("schemaname", NAME),
            ("tablename", NAME),
            ("tableowner", NAME),
            ("tablespace", NAME),
            ("hasindexes", BOOL),
            ("hasrules", BOOL),
            ("hastriggers", BOOL),
            ("rowsecurity", BOOL),
        ],
        pg_tables,
    ),
    rel(
        "pg_views",
        &[
            ("schemaname", NAME),
            ("viewname", NAME),
            ("viewowner", NAME),
            ("definition", TEXT),
        ],
        pg_views,
    ),
    rel(
        "pg_indexes",
        &[
            ("schemaname", NAME),
            ("tablename", NAME),
            ("indexname", NAME),
            ("tablespace", NAME),
            ("indexdef", TEXT),
        ],
        pg_indexes,
    ),
];

fn oid(v: i64) -> Value {
    Value::Int8(v)
}

fn name(s: &str) -> Value {
    Value::Text(s.to_string())
}

fn int2(n: usize) -> Value {
    Value::Int2(i16::try_from(n).unwrap_or(i16::MAX))
}

fn int2_array(items: impl IntoIterator<Item = usize>) -> Value {
    Value::Array(Arc::new(Array::new(
        DataType::Int2,
        items.into_iter().map(int2).collect(),
    )))
}

fn int8_array(items: impl IntoIterator<Item = i64>) -> Value {
    Value::Array(Arc::new(Array::new(
        DataType::Int8,
        items.into_iter().map(Value::Int8).collect(),
    )))
}

/// The namespaces: `pg_catalog`, `public`, `information_schema` (and `zq`, owner of
/// zqlite's own relations).
pub(crate) const NAMESPACES: &[(i64, &str)] = &[
    (oids::PG_CATALOG, "pg_catalog"),
    (oids::PUBLIC, "public"),
    (oids::INFORMATION_SCHEMA, "information_schema"),
];

fn pg_namespace(_ctx: &SystemContext<'_>, _args: &[Value]) -> Result<Vec<Row>> {
    Ok(NAMESPACES
        .iter()
        .map(|&(o, n)| {
            let owner = if o == oids::PUBLIC {
                oids::DATABASE_OWNER_ROLE
            } else {
                oids::BOOTSTRAP_ROLE
            };
            vec![oid(o), name(n), oid(owner), Value::Null]
        })
        .collect())
}

/// The output columns of a view and their types, from binding its query now.
pub(crate) fn view_columns(state: &State, view: &ViewDef) -> Vec<(String, Option<DataType>)> {
    let bound = crate::bind::from::parse_view(&view.query)
        .and_then(|q| crate::bind::Binder::new(state, &[]).query(&q));
    match bound {
        Ok(b) => b
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let name = view.columns.get(i).cloned().unwrap_or(c.name.clone());
                (name, Some(c.ty.unwrap_or(DataType::Text)))
            })
            .collect(),
        Err(_) => view.columns.iter().map(|c| (c.clone(), None)).collect(),
    }
}

/// A `pg_class` row (see the column list above).
struct ClassRow {
    oid: i64,
    name: String,
    am: i64,
    has_index: bool,
    kind: &'static str,
    natts: usize,
    checks: usize,
    replident: &'static str,
    /// PostgreSQL enforces foreign keys with internal triggers on both tables, so
    /// `relhastriggers` is set on a referencing or referenced table (psql looks for foreign
    /// keys only then).
    has_triggers: bool,
}

fn class_row(c: ClassRow) -> Row {
    vec![
        oid(c.oid),
        name(&c.name),
        oid(oids::PUBLIC),
        oid(0),
        oid(0),
        oid(oids::BOOTSTRAP_ROLE),
        oid(c.am),
        oid(c.oid),
        oid(0),
        Value::Int4(0),
        Value::Float4(-1.0),
        Value::Int4(0),
        oid(0),
        Value::Bool(c.has_index),
        Value::Bool(false),
        name("p"),
        name(c.kind),
        int2(c.natts),
        int2(c.checks),
        Value::Bool(c.kind == "v"),
        Value::Bool(c.has_triggers),
        Value::Bool(false),
        Value::Bool(false),
        Value::Bool(false),
        Value::Bool(true),
        name(c.replident),
        Value::Bool(false),
        oid(0),
        Value::Null,
        Value::Null,
        Value::Null,
    ]
}

/// The indexes of a table as objects, primary key first.
pub(super) fn indexes_of(t: &Arc<TableDef>) -> Vec<Object> {
    let mut out = Vec::new();
    if t.primary_key.is_some() {
        out.push(Object::PrimaryKeyIndex(t.clone()));
    }
    out.extend((0..t.indexes.len()).map(|i| Object::Index(t.clone(), i)));
    out
}

/// The key columns (columns 0-based, or expressions), uniqueness and primary-ness of an
/// index object.
pub(super) fn index_columns(
    obj: &Object,
) -> Option<(&Arc<TableDef>, Vec<IndexColumn>, bool, bool)> {
    match obj {
        Object::PrimaryKeyIndex(t) => {
            let cols = t.primary_key.iter().flatten().map(|&c| c.into()).collect();
            Some((t, cols, true, true))
        }
        Object::Index(t, i) => {
            let x = &t.indexes[*i];
            Some((t, x.columns.clone(), x.unique, false))
        }
        _ => None,
    }
}

/// The type of an index key column (an expression's, or its column's).
fn key_column_type(t: &TableDef, c: &IndexColumn) -> DataType {
    match c {
        IndexColumn::Column(c) => t.columns[*c].data_type,
        IndexColumn::Expression(_) => bound(t, c).map_or(DataType::Text, |b| b.ty),
    }
}

fn pg_class(ctx: &SystemContext<'_>, _args: &[Value]) -> Result<Vec<Row>> {
    let catalog = ctx.state.catalog();
    let mut rows = Vec::new();
    for t in catalog.tables() {
        let indexes = indexes_of(t);
        rows.push(class_row(ClassRow {
            oid: oids::table_oid(t),
            name: t.name.clone(),
            am: oids::HEAP_AM,
            has_index: !indexes.is_empty(),
            kind: if t.materialized.is_some() { "m" } else { "r" },
            natts: t.columns.len(),
            checks: t.checks.len(),
            replident: "d",
            has_triggers: !t.foreign_keys.is_empty() || !catalog.references_to(t.id).is_empty(),
        }));
        for ix in indexes {
            let natts = index_columns(&ix).map_or(0, |(_, cols, _, _)| cols.len());
            rows.push(class_row(ClassRow {
                oid: ix.oid(),
                name: oids::relation_name(&ix).unwrap_or_default(),
                am: oids::BTREE_AM,
                has_index: false,
                kind: "i",
                natts,
                checks: 0,
                replident: "n",
                has_triggers: false,
            }));
        }
    }
    for v in catalog.views() {
        rows.push(class_row(ClassRow {
            oid: oids::view_oid(&v.name),
            name: v.name.clone(),
            am: 0,
            has_index: false,
            kind: "v",
            natts: v.columns.len(),
            checks: 0,
            replident: "n",
            has_triggers: false,
        }));
    }
    for s in catalog.sequences() {
        rows.push(class_row(ClassRow {
            oid: oids::sequence_oid(&s.name),
            name: s.name.clone(),
            am: 0,
            has_index: false,
            kind: "S",
            natts: 3,
            checks: 0,
            replident: "n",
            has_triggers: false,
        }));
    }
    Ok(rows)
}

/// `pg_attribute` values that follow from the type: `attlen`, `attbyval`, `attalign`,
/// `attstorage`, `attcollation`.
fn type_storage(ty: &DataType) -> (i16, bool, &'static str, &'static str, i64) {
    let len = ty.typlen();
    let byval = (1..=8).contains(&len);
    let align = match len {
        1 => "c",
        2 => "s",
        4 => "i",
        8 | 16 => "d",
        _ if matches!(ty, DataType::Array(_)) => "d",
        _ => "i",
    };
    let storage = if len > 0 { "p" } else { "x" };
    let collation = if ty.category() == zqlite_projections::value::TypeCategory::String {
        oids::DEFAULT_COLLATION
    } else {
        0
    };
    (len, byval, align, storage, collation)
}

fn attribute_row(rel: i64, num: usize, col: &str, ty: Option<DataType>, notnull: bool) -> Row {
    let ty = ty.unwrap_or(DataType::Text);
    let (len, byval, align, storage, collation) = type_storage(&ty);
    vec![
        oid(rel),
        name(col),
        oid(i64::from(ty.oid())),
        Value::Int4(-1),
        Value::Int2(len),
        int2(num),
        Value::Int4(i32::from(matches!(ty, DataType::Array(_)))),
        Value::Int4(ty.typmod()),
        Value::Bool(byval),
        name(align),
        name(storage),
        Value::Bool(notnull),
        Value::Bool(false),
        Value::Bool(false),
        name(""),
        name(""),
        Value::Bool(false),
        Value::Bool(true),
        Value::Int4(0),
        oid(collation),
        Value::Null,
        Value::Null,
    ]
}

const ATTHASDEF: usize = 12;
const ATTIDENTITY: usize = 14;

fn pg_attribute(ctx: &SystemContext<'_>, _args: &[Value]) -> Result<Vec<Row>> {
    let catalog = ctx.state.catalog();
    let wanted = ctx.equal_to(0).and_then(|v| match v {
        Value::Int8(o) => Some(*o),
        _ => None,
    });
    let mut rows = Vec::new();
    for t in catalog.tables() {
        let rel = oids::table_oid(t);
        if wanted.is_some_and(|w| w != rel) {
            continue;
        }
        for (k, c) in t.columns.iter().enumerate() {
            let mut row = attribute_row(rel, k + 1, &c.name, Some(c.data_type), !c.nullable);
            row[ATTHASDEF] = Value::Bool(c.default.is_some());
            if let Some(id) = &c.identity {
                row[ATTIDENTITY] = name(match id.kind {
                    zqlite_projections::catalog::IdentityKind::Always => "a",
                    zqlite_projections::catalog::IdentityKind::ByDefault => "d",
                });
            }
            rows.push(row);
        }
    }
    for v in catalog.views() {
        let rel = oids::view_oid(&v.name);
        if wanted.is_some_and(|w| w != rel) {
            continue;
        }
        for (k, (col, ty)) in view_columns(ctx.state, v).into_iter().enumerate() {
            rows.push(attribute_row(rel, k + 1, &col, ty, false));
        }
    }
    Ok(rows)
}

fn pg_index(ctx: &SystemContext<'_>, _args: &[Value]) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    for t in ctx.state.catalog().tables() {
        for ix in indexes_of(t) {
            let Some((_, cols, unique, primary)) = index_columns(&ix) else {
                continue;
            };
            let n = cols.len();
            // PostgreSQL keeps expression trees here; the printed key columns stand in.
            let exprs: Vec<String> = cols
                .iter()
                .filter(|c| c.column().is_none())
                .map(|c| super::catalog_functions::key_column(t, c, false))
                .collect();
            rows.push(vec![
                oid(ix.oid()),
                oid(oids::table_oid(t)),
                int2(n),
                int2(n),
                Value::Bool(unique),
                Value::Bool(false),
                Value::Bool(primary),
                Value::Bool(false),
                Value::Bool(true),
                Value::Bool(false),
                Value::Bool(true),
                Value::Bool(false),
                Value::Bool(true),
                Value::Bool(true),
                Value::Bool(false),
                // 0 marks an expression, as in PostgreSQL.
                int2_array(cols.iter().map(|c| c.column().map_or(0, |c| c + 1))),
                int8_array(cols.iter().map(|c| type_storage(&key_column_type(t, c)).4)),
                int8_array(cols.iter().map(|_| 0)),
                int2_array(cols.iter().map(|_| 0)),
                if exprs.is_empty() {
                    Value::Null
                } else {
                    Value::Text(exprs.join(", "))
                },
                Value::Null,
            ]);
        }
    }
    Ok(rows)
}

fn fk_action(a: FkAction) -> &'static str {
    match a {
        FkAction::Restrict => "a",
        FkAction::Cascade => "c",
        FkAction::SetNull => "n",
        FkAction::SetDefault => "d",
    }
}

/// The constraints of a table, in `pg_constraint` order: primary key, unique, check,
/// foreign key.
pub(super) fn constraints_of(t: &Arc<TableDef>) -> Vec<Object> {
    let mut out = Vec::new();
    if t.primary_key.is_some() {
        out.push(Object::PrimaryKey(t.clone()));
    }
    for (i, x) in t.indexes.iter().enumerate() {
        if x.constraint {
            out.push(Object::Unique(t.clone(), i));
        }
    }
    out.extend((0..t.checks.len()).map(|i| Object::Check(t.clone(), i)));
    out.extend((0..t.foreign_keys.len()).map(|i| Object::ForeignKey(t.clone(), i)));
    out
}

/// The name of a constraint object.
pub(super) fn constraint_name(obj: &Object) -> String {
    match obj {
        Object::PrimaryKey(t) => oids::primary_key_name(t),
        Object::Unique(t, i) => t.indexes[*i].name.clone(),
        Object::Check(t, i) => t.checks[*i].name.clone(),
        Object::ForeignKey(t, i) => t.foreign_keys[*i].name.clone(),
        _ => String::new(),
    }
}

/// The index a referenced key is enforced by (PostgreSQL's `conindid` of a foreign key).
fn referenced_index(state: &State, table: u64, cols: &[usize]) -> i64 {
    let Some(t) = state.catalog().table(table) else {
        return 0;
    };
    if t.primary_key.as_deref() == Some(cols) {
        return Object::PrimaryKeyIndex(t.clone()).oid();
    }
    t.indexes
        .iter()
        .position(|x| x.unique && x.plain_columns().as_deref() == Some(cols))
        .map_or(0, |i| Object::Index(t.clone(), i).oid())
}

fn pg_constraint(ctx: &SystemContext<'_>, _args: &[Value]) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    for t in ctx.state.catalog().tables() {
        for c in constraints_of(t) {
            let (contype, index, keys, fk) = match &c {
                Object::PrimaryKey(t) => (
                    "p",
                    Object::PrimaryKeyIndex(t.clone()).oid(),
                    t.primary_key.clone(),
                    None,
                ),
                Object::Unique(t, i) => (
                    "u",
                    Object::Index(t.clone(), *i).oid(),
                    t.indexes[*i].plain_columns(),
                    None,
                ),
                Object::Check(..) => ("c", 0, None, None),
                Object::ForeignKey(t, i) => {
                    let f = &t.foreign_keys[*i];
                    (
                        "f",
                        referenced_index(ctx.state, f.ref_table, &f.ref_columns),
                        Some(f.columns.clone()),
                        Some(f),
                    )
                }
                _ => continue,
            };
            let conbin = match &c {
                Object::Check(t, i) => name(&t.checks[*i].expr),
                _ => Value::Null,
            };
            let ref_table = fk
                .and_then(|f| ctx.state.catalog().table(f.ref_table))
                .map_or(0, |r| oids::table_oid(r));
            rows.push(vec![
                oid(c.oid()),
                name(&constraint_name(&c)),
                oid(oids::PUBLIC),
                name(contype),
                Value::Bool(false),
                Value::Bool(false),
                Value::Bool(true),
                oid(oids::table_oid(t)),
                oid(0),
                oid(index),
                oid(0),
                oid(ref_table),
                name(fk.map_or(" ", |f| fk_action(f.on_update))),
                name(fk.map_or(" ", |f| fk_action(f.on_delete))),
                name(if fk.is_some() { "s" } else { " " }),
                Value::Bool(true),
                Value::Int4(0),
                Value::Bool(false),
                keys.map_or(Value::Null, |k| int2_array(k.iter().map(|c| c + 1))),
                fk.map_or(Value::Null, |f| {
                    int2_array(f.ref_columns.iter().map(|c| c + 1))
                }),
                conbin,
            ]);
        }
    }
    Ok(rows)
}

fn pg_attrdef(ctx: &SystemContext<'_>, _args: &[Value]) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    for t in ctx.state.catalog().tables() {
        for (k, c) in t.columns.iter().enumerate() {
            if let Some(d) = &c.default {
                rows.push(vec![
                    oid(Object::Default(t.clone(), k).oid()),
                    oid(oids::table_oid(t)),
                    int2(k + 1),
                    name(d),
                ]);
            }
        }
    }
    Ok(rows)
}

fn pg_sequence(ctx: &SystemContext<'_>, _args: &[Value]) -> Result<Vec<Row>> {
    Ok(ctx
        .state
        .catalog()
        .sequences()
        .map(|s| {
            vec![
                oid(oids::sequence_oid(&s.name)),
                oid(i64::from(DataType::Int8.oid())),
                Value::Int8(s.start),
                Value::Int8(s.increment),
                Value::Int8(s.max_value),
                Value::Int8(s.min_value),
                Value::Int8(1),
                Value::Bool(s.cycle),
            ]
        })
        .collect())
}

fn pg_tables(ctx: &SystemContext<'_>, _args: &[Value]) -> Result<Vec<Row>> {
    Ok(ctx
        .state
        .catalog()
        .tables()
        .map(|t| {
            vec![
                name("public"),
                name(&t.name),
                name(oids::BOOTSTRAP_ROLE_NAME),
                Value::Null,
                Value::Bool(!indexes_of(t).is_empty()),
                Value::Bool(false),
                Value::Bool(false),
                Value::Bool(false),
            ]
        })
        .collect())
}

fn pg_views(ctx: &SystemContext<'_>, _args: &[Value]) -> Result<Vec<Row>> {
    Ok(ctx
        .state
        .catalog()
        .views()
        .map(|v| {
            vec![
                name("public"),
                name(&v.name),
                name(oids::BOOTSTRAP_ROLE_NAME),
                name(&format!(" {};", v.query)),
            ]
        })
        .collect())
}

fn pg_indexes(ctx: &SystemContext<'_>, _args: &[Value]) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    for t in ctx.state.catalog().tables() {
        for ix in indexes_of(t) {
            rows.push(vec![
                name("public"),
                name(&t.name),
                name(&oids::relation_name(&ix).unwrap_or_default()),
                Value::Null,
                name(&super::catalog_functions::index_def(&ix, false).unwrap_or_default()),
            ]);
        }
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use crate::{Database, QueryResult, Value};

    fn query(db: &Database, sql: &str) -> Vec<Vec<String>> {
        match db.session().execute(sql, &[]).unwrap().pop() {
            Some(QueryResult::Rows { rows, .. }) => rows
                .iter()
                .map(|r| r.iter().map(Value::to_string).collect())
                .collect(),
            other => panic!("expected rows, got {other:?}"),
        }
    }

    fn schema() -> Database {
        let db = Database::open_in_memory().unwrap();
        db.session()
            .execute(
                "CREATE TABLE a (id int PRIMARY KEY, code varchar(5) UNIQUE NOT NULL); \
                 CREATE TABLE b (id bigint PRIMARY KEY, a_id int REFERENCES a (id), \
                 n int DEFAULT 1 CHECK (n > 0)); \
                 CREATE INDEX b_n_idx ON b (n); \
                 CREATE VIEW v AS SELECT id, n FROM b",
                &[],
            )
            .unwrap();
        db
    }

    #[test]
    fn relations_refer_to_each_other_by_oid() {
        let db = schema();
        let classes = query(
            &db,
            "SELECT c.relname, c.relkind, n.nspname FROM pg_class c \
             JOIN pg_namespace n ON n.oid = c.relnamespace ORDER BY c.relname",
        );
        let names: Vec<String> = classes
            .iter()
            .map(|r| format!("{}:{}", r[0], r[1]))
            .collect();
        assert_eq!(
            names,
            [
                "a:r",
                "a_code_key:i",
                "a_pkey:i",
                "b:r",
                "b_n_idx:i",
                "b_pkey:i",
                "v:v"
            ]
        );
        assert!(classes.iter().all(|r| r[2] == "public"));
        let indexes = query(
            &db,
            "SELECT t.relname, i.relname, x.indisprimary, x.indisunique, x.indkey::text \
             FROM pg_index x JOIN pg_class t ON t.oid = x.indrelid \
             JOIN pg_class i ON i.oid = x.indexrelid ORDER BY 2",
        );
        assert_eq!(
            indexes,
            [
                ["a", "a_code_key", "f", "t", "{2}"],
                ["a", "a_pkey", "t", "t", "{1}"],
                ["b", "b_n_idx", "f", "f", "{3}"],
                ["b", "b_pkey", "t", "t", "{1}"],
            ]
        );
        let fk = query(
            &db,
            "SELECT c.conname, r.relname, f.relname, c.confkey::text FROM pg_constraint c \
             JOIN pg_class r ON r.oid = c.conrelid JOIN pg_class f ON f.oid = c.confrelid \
             WHERE c.contype = 'f'",
        );
        assert_eq!(fk, [["b_a_id_fkey", "b", "a", "{1}"]]);
        let attrs = query(
            &db,
            "SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, a.atthasdef \
             FROM pg_attribute a WHERE a.attrelid = 'a'::regclass ORDER BY a.attnum",
        );
        assert_eq!(
            attrs,
            [
                ["id", "integer", "t", "f"],
                ["code", "character varying(5)", "t", "f"]
            ]
        );
        let view = query(
            &db,
            "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a \
             WHERE a.attrelid = 'v'::regclass ORDER BY a.attnum",
        );
        assert_eq!(view, [["id", "bigint"], ["n", "integer"]]);
        let defaults = query(
            &db,
            "SELECT pg_get_expr(d.adbin, d.adrelid), d.adnum FROM pg_attrdef d \
             WHERE d.adrelid = 'b'::regclass",
        );
        assert_eq!(defaults, [["1", "3"]]);
    }

    #[test]
    fn definitions_print_like_postgresql() {
        let db = schema();
        let defs = query(
            &db,
            "SELECT conname, pg_get_constraintdef(oid, true) FROM pg_constraint ORDER BY 1",
        );
        assert_eq!(
            defs,
            [
                ["a_code_key", "UNIQUE (code)"],
                ["a_pkey", "PRIMARY KEY (id)"],
                ["b_a_id_fkey", "FOREIGN KEY (a_id) REFERENCES a(id)"],
                ["b_n_check", "CHECK (n > 0)"],
                ["b_pkey", "PRIMARY KEY (id)"],
            ]
        );
        let idx = query(
            &db,
            "SELECT pg_get_indexdef(indexrelid, 0, true) FROM pg_index \
             WHERE indrelid = 'a'::regclass ORDER BY 1",
        );
        assert_eq!(
            idx,
            [
                ["CREATE UNIQUE INDEX a_code_key ON a USING btree (code)"],
                ["CREATE UNIQUE INDEX a_pkey ON a USING btree (id)"],
            ]
        );
        let names = query(
            &db,
            "SELECT ('b'::regclass)::regclass, pg_get_userbyid(10), format_type(1043, 14), \
             format_type(1231, -1), pg_table_is_visible('b'::regclass)",
        );
        assert_eq!(
            names,
            [["b", "zqlite", "character varying(10)", "numeric[]", "t"]]
        );
    }

    #[test]
    fn oids_do_not_depend_on_later_objects() {
        let db = schema();
        let before = query(&db, "SELECT oid, relname FROM pg_class ORDER BY relname");
        db.session()
            .execute("CREATE TABLE c (x int PRIMARY KEY)", &[])
            .unwrap();
        let after = query(
            &db,
            "SELECT oid, relname FROM pg_class WHERE relname <> 'c' AND relname <> 'c_pkey' ORDER BY relname",
        );
        assert_eq!(before, after);
    }

    #[test]
    fn information_schema_matches_postgresql() {
        let db = schema();
        let cols = query(
            &db,
            "SELECT column_name, data_type, udt_name, is_nullable, \
             coalesce(character_maximum_length, -1), coalesce(numeric_precision, -1) \
             FROM information_schema.columns WHERE table_name = 'a' ORDER BY ordinal_position",
        );
        assert_eq!(
            cols,
            [
                ["id", "integer", "int4", "NO", "-1", "32"],
                ["code", "character varying", "varchar", "NO", "5", "-1"],
            ]
        );
        let kcu = query(
            &db,
            "SELECT constraint_name, column_name, coalesce(position_in_unique_constraint, 0) \
             FROM information_schema.key_column_usage ORDER BY 1",
        );
        assert_eq!(
            kcu,
            [
                ["a_code_key", "code", "0"],
                ["a_pkey", "id", "0"],
                ["b_a_id_fkey", "a_id", "1"],
                ["b_pkey", "id", "0"],
            ]
        );
        let rc = query(
            &db,
            "SELECT constraint_name, unique_constraint_name, update_rule, delete_rule \
             FROM information_schema.referential_constraints",
        );
        assert_eq!(rc, [["b_a_id_fkey", "a_pkey", "NO ACTION", "NO ACTION"]]);
        let err = db
            .session()
            .execute("SELECT * FROM columns", &[])
            .unwrap_err();
        assert_eq!(err.sqlstate(), "42P01");
    }
}
