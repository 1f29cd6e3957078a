//! The SQL-standard `information_schema` views PostgreSQL offers, over zqlite's catalog:
//! `schemata`, `tables`, `columns`, `views`, `table_constraints`, `key_column_usage`,
//! `referential_constraints` and `check_constraints`.
//!
//! Values are PostgreSQL 15's for the same schema (`YES`/`NO` flags, `data_type` spellings
//! such as `character varying` and `ARRAY`, numeric precisions and radixes, the
//! `<namespace oid>_<table oid>_<column>_not_null` CHECK entries for NOT NULL columns);
//! the standard's domain types (`sql_identifier`, `cardinal_number`, `character_data`,
//! `yes_or_no`) are shown as `text` and `integer`. User objects are in schema `public` of
//! the catalog (database) `zqlite`.

use std::sync::Arc;

use zqlite_projections::catalog::{FkAction, TableDef};
use zqlite_projections::value::{DataType, Value};

use super::oids::{self, Object};
use super::pg_catalog::{constraint_name, constraints_of, view_columns};
use super::{Namespace, Row, SystemContext, SystemRelation};
use crate::error::Result;

const TEXT: DataType = DataType::Text;
const INT4: DataType = DataType::Int4;

const fn view(
    name: &'static str,
    columns: &'static [(&'static str, DataType)],
    rows: super::RowsFn,
) -> SystemRelation {
    SystemRelation {
        name,
        namespace: Namespace::InformationSchema,
        columns,
        args: &[],
        rows,
    }
}

pub(super) const RELATIONS: &[SystemRelation] = &[
    view(
        "schemata",
        &[
            ("catalog_name", TEXT),
            ("schema_name", TEXT),
            ("schema_owner", TEXT),
            ("default_character_set_catalog", TEXT),
            ("default_character_set_schema", TEXT),
            ("default_character_set_name", TEXT),
            ("sql_path", TEXT),
        ],
        schemata,
    ),
    view(
        "tables",
        &[
            ("table_catalog", TEXT),
            ("table_schema", TEXT),
            ("table_name", TEXT),
            ("table_type", TEXT),
            ("self_referencing_column_name", TEXT),
            ("reference_generation", TEXT),
            ("user_defined_type_catalog", TEXT),
            ("user_defined_type_schema", TEXT),
            ("user_defined_type_name", TEXT),
            ("is_insertable_into", TEXT),
            ("is_typed", TEXT),
            ("commit_action", TEXT),
        ],
        tables,
    ),
    view(
        "columns",
        &[
            ("table_catalog", TEXT),
            ("table_schema", TEXT),
            ("table_name", TEXT),
            ("column_name", TEXT),
            ("ordinal_position", INT4),
            ("column_default", TEXT),
            ("is_nullable", TEXT),
            ("data_type", TEXT),
            ("character_maximum_length", INT4),
            ("character_octet_length", INT4),
            ("numeric_precision", INT4),
            ("numeric_precision_radix", INT4),
            ("numeric_scale", INT4),
            ("datetime_precision", INT4),
            ("interval_type", TEXT),
            ("udt_catalog", TEXT),
            ("udt_schema", TEXT),
            ("udt_name", TEXT),
            ("is_identity", TEXT),
            ("identity_generation", TEXT),
            ("is_generated", TEXT),
            ("generation_expression", TEXT),
            ("is_updatable", TEXT),
        ],
        columns,
    ),
    view(
        "views",
        &[
            ("table_catalog", TEXT),
            ("table_schema", TEXT),
            ("table_name", TEXT),
            ("view_definition", TEXT),
            ("check_option", TEXT),
            ("is_updatable", TEXT),
            ("is_insertable_into", TEXT),
            ("is_trigger_updatable", TEXT),
            ("is_trigger_deletable", TEXT),
            ("is_trigger_insertable_into", TEXT),
        ],
        views,
    ),
    view(
        "table_constraints",
        &[
            ("constraint_catalog", TEXT),
            ("constraint_schema", TEXT),
            ("constraint_name", TEXT),
            ("table_catalog", TEXT),
            ("table_schema", TEXT),
            ("table_name", TEXT),
            ("constraint_type", TEXT),
            ("is_deferrable", TEXT),
            ("initially_deferred", TEXT),
            ("enforced", TEXT),
            ("nulls_distinct", TEXT),
        ],
        table_constraints,
    ),
    view(
        "key_column_usage",
        &[
            ("constraint_catalog", TEXT),
            ("constraint_schema", TEXT),
            ("constraint_name", TEXT),
            ("table_catalog", TEXT),
            ("table_schema", TEXT),
            ("table_name", TEXT),
            ("column_name", TEXT),
            ("ordinal_position", INT4),
            ("position_in_unique_constraint", INT4),
        ],
        key_column_usage,
    ),
    view(
        "referential_constraints",
        &[
            ("constraint_catalog", TEXT),
            ("constraint_schema", TEXT),
            ("constraint_name", TEXT),
            ("unique_constraint_catalog", TEXT),
            ("unique_constraint_schema", TEXT),
            ("unique_constraint_name", TEXT),
            ("match_option", TEXT),
            ("update_rule", TEXT),
            ("delete_rule", TEXT),
        ],
        referential_constraints,
    ),
    view(
        "check_constraints",
        &[
            ("constraint_catalog", TEXT),
            ("constraint_schema", TEXT),
            ("constraint_name", TEXT),
            ("check_clause", TEXT),
        ],
        check_constraints,
    ),
];

/// The catalog (database) name of every object.
const CATALOG: &str = oids::BOOTSTRAP_ROLE_NAME;
const SCHEMA: &str = "public";

fn text(s: &str) -> Value {
    Value::Text(s.to_string())
}

fn yes(b: bool) -> Value {
    text(if b { "YES" } else { "NO" })
}

fn int(n: impl TryInto<i32>) -> Value {
    n.try_into().map_or(Value::Null, Value::Int4)
}

fn schemata(_ctx: &SystemContext<'_>, _args: &[Value]) -> Result<Vec<Row>> {
    Ok(super::pg_catalog::NAMESPACES
        .iter()
        .map(|(_, name)| {
            vec![
                text(CATALOG),
                text(name),
                text(oids::BOOTSTRAP_ROLE_NAME),
                Value::Null,
                Value::Null,
                Value::Null,
                Value::Null,
            ]
        })
        .collect())
}

fn tables(ctx: &SystemContext<'_>, _args: &[Value]) -> Result<Vec<Row>> {
    let catalog = ctx.state.catalog();
    let row = |name: &str, kind: &str, insertable: bool| {
        vec![
            text(CATALOG),
            text(SCHEMA),
            text(name),
            text(kind),
            Value::Null,
            Value::Null,
            Value::Null,
            Value::Null,
            Value::Null,
            yes(insertable),
            yes(false),
            Value::Null,
        ]
    };
    let mut rows: Vec<Row> = catalog
        .tables()
        .map(|t| row(&t.name, "BASE TABLE", true))
        .collect();
    rows.extend(catalog.views().map(|v| row(&v.name, "VIEW", false)));
    Ok(rows)
}

/// `data_type`, `character_maximum_length`, `character_octet_length`,
/// `numeric_precision`, `numeric_precision_radix`, `numeric_scale`, `datetime_precision`.
fn type_facts(ty: &DataType) -> [Value; 7] {
    let data_type = match ty {
        DataType::Array(_) => "ARRAY",
        other => other.sql_name(),
    };
    let (max_len, octets) = match ty {
        DataType::Varchar(Some(n)) | DataType::Char(Some(n)) => (int(*n), int(n.saturating_mul(4))),
        DataType::Varchar(None) | DataType::Char(None) | DataType::Text => {
            (Value::Null, int(1_073_741_824))
        }
        _ => (Value::Null, Value::Null),
    };
    let (precision, radix, scale) = match ty {
        DataType::Int2 => (int(16), int(2), int(0)),
        DataType::Int4 => (int(32), int(2), int(0)),
        DataType::Int8 => (int(64), int(2), int(0)),
        DataType::Float4 => (int(24), int(2), Value::Null),
        DataType::Float8 => (int(53), int(2), Value::Null),
        DataType::Numeric(Some(m)) => (int(m.precision), int(10), int(m.scale)),
        DataType::Numeric(None) => (Value::Null, int(10), Value::Null),
        _ => (Value::Null, Value::Null, Value::Null),
    };
    let datetime = match ty {
        DataType::Date => int(0),
        DataType::Time | DataType::Timestamp | DataType::TimestampTz | DataType::Interval => int(6),
        _ => Value::Null,
    };
    [
        text(data_type),
        max_len,
        octets,
        precision,
        radix,
        scale,
        datetime,
    ]
}

#[expect(
    clippy::too_many_arguments,
    reason = "one argument per column the caller knows"
)]
fn column_row(
    table: &str,
    position: usize,
    name: &str,
    ty: DataType,
    default: Option<&str>,
    nullable: bool,
    identity: Option<&str>,
    updatable: bool,
) -> Row {
    let mut row = vec![
        text(CATALOG),
        text(SCHEMA),
        text(table),
        text(name),
        int(position),
        default.map_or(Value::Null, text),
        yes(nullable),
    ];
    row.extend(type_facts(&ty));
    row.extend([
        Value::Null,
        text(CATALOG),
        text("pg_catalog"),
        text(ty.typname()),
        yes(identity.is_some()),
        identity.map_or(Value::Null, text),
        text("NEVER"),
        Value::Null,
        yes(updatable),
    ]);
    row
}

fn columns(ctx: &SystemContext<'_>, _args: &[Value]) -> Result<Vec<Row>> {
    let catalog = ctx.state.catalog();
    let mut rows = Vec::new();
    for t in catalog.tables() {
        for (k, c) in t.columns.iter().enumerate() {
            let identity = c.identity.as_ref().map(|i| match i.kind {
                zqlite_projections::catalog::IdentityKind::Always => "ALWAYS",
                zqlite_projections::catalog::IdentityKind::ByDefault => "BY DEFAULT",
            });
            rows.push(column_row(
                &t.name,
                k + 1,
                &c.name,
                c.data_type,
                c.default.as_deref(),
                c.nullable,
                identity,
                true,
            ));
        }
    }
    for v in catalog.views() {
        for (k, (name, ty)) in view_columns(ctx.state, v).into_iter().enumerate() {
            let ty = ty.unwrap_or(DataType::Text);
            rows.push(column_row(
                &v.name,
                k + 1,
                &name,
                ty,
                None,
                true,
                None,
                false,
            ));
        }
    }
    Ok(rows)
}

fn views(ctx: &SystemContext<'_>, _args: &[Value]) -> Result<Vec<Row>> {
    Ok(ctx
        .state
        .catalog()
        .views()
        .map(|v| {
            vec![
                text(CATALOG),
                text(SCHEMA),
                text(&v.name),
                text(&format!(" {};", v.query)),
                text("NONE"),
                yes(false),
                yes(false),
                yes(false),
                yes(false),
                yes(false),
            ]
        })
        .collect())
}

fn constraint_type(obj: &Object) -> &'static str {
    match obj {
        Object::PrimaryKey(_) => "PRIMARY KEY",
        Object::Unique(..) => "UNIQUE",
        Object::ForeignKey(..) => "FOREIGN KEY",
        _ => "CHECK",
    }
}

fn table_constraints(ctx: &SystemContext<'_>, _args: &[Value]) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    let row = |name: &str, table: &str, kind: &str, nulls_distinct: Value| {
        vec![
            text(CATALOG),
            text(SCHEMA),
            text(name),
            text(CATALOG),
            text(SCHEMA),
            text(table),
            text(kind),
            yes(false),
            yes(false),
            yes(true),
            nulls_distinct,
        ]
    };
    for t in ctx.state.catalog().tables() {
        for c in constraints_of(t) {
            let distinct = if matches!(c, Object::Unique(..)) {
                yes(true)
            } else {
                Value::Null
            };
            rows.push(row(
                &constraint_name(&c),
                &t.name,
                constraint_type(&c),
                distinct,
            ));
        }
        for (k, col) in t.columns.iter().enumerate() {
            if !col.nullable {
                let name = format!("{}_{}_{}_not_null", oids::PUBLIC, oids::table_oid(t), k + 1);
                rows.push(row(&name, &t.name, "CHECK", Value::Null));
            }
        }
    }
    Ok(rows)
}

/// The columns of a key constraint and, for a foreign key, the positions of the referenced
/// columns in the referenced key.
fn key_columns(
    ctx: &SystemContext<'_>,
    t: &Arc<TableDef>,
    c: &Object,
) -> Vec<(usize, Option<usize>)> {
    match c {
        Object::PrimaryKey(t) => t.primary_key.iter().flatten().map(|&k| (k, None)).collect(),
        Object::Unique(t, i) => t.indexes[*i]
            .plain_columns()
            .unwrap_or_default()
            .into_iter()
            .map(|k| (k, None))
            .collect(),
        Object::ForeignKey(_, i) => {
            let f = &t.foreign_keys[*i];
            let referenced = unique_key_of(ctx, f.ref_table, &f.ref_columns);
            f.columns
                .iter()
                .zip(&f.ref_columns)
                .map(|(&k, r)| {
                    let pos = referenced
                        .as_ref()
                        .and_then(|(_, cols)| cols.iter().position(|c| c == r))
                        .map(|p| p + 1);
                    (k, pos)
                })
                .collect()
        }
        _ => Vec::new(),
    }
}

/// The primary key or unique constraint of `table` on exactly `cols` (in any order).
fn unique_key_of(
    ctx: &SystemContext<'_>,
    table: u64,
    cols: &[usize],
) -> Option<(String, Vec<usize>)> {
    let t = ctx.state.catalog().table(table)?;
    let same = |k: &[usize]| {
        let mut a = k.to_vec();
        let mut b = cols.to_vec();
        a.sort_unstable();
        b.sort_unstable();
        a == b
    };
    if let Some(pk) = &t.primary_key
        && same(pk)
    {
        return Some((oids::primary_key_name(t), pk.clone()));
    }
    t.indexes.iter().find_map(|x| {
        let cols = x.plain_columns()?;
        (x.unique && same(&cols)).then(|| (x.name.clone(), cols))
    })
}

fn key_column_usage(ctx: &SystemContext<'_>, _args: &[Value]) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    for t in ctx.state.catalog().tables() {
        for c in constraints_of(t) {
            let name = constraint_name(&c);
            for (n, (k, pos)) in key_columns(ctx, t, &c).into_iter().enumerate() {
                rows.push(vec![
                    text(CATALOG),
                    text(SCHEMA),
                    text(&name),
                    text(CATALOG),
                    text(SCHEMA),
                    text(&t.name),
                    text(&t.columns[k].name),
                    int(n + 1),
                    pos.map_or(Value::Null, int),
                ]);
            }
        }
    }
    Ok(rows)
}

fn rule(a: FkAction) -> Value {
    text(match a {
        FkAction::Restrict => "NO ACTION",
        FkAction::Cascade => "CASCADE",
        FkAction::SetNull => "SET NULL",
        FkAction::SetDefault => "SET DEFAULT",
    })
}

fn referential_constraints(ctx: &SystemContext<'_>, _args: &[Value]) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    for t in ctx.state.catalog().tables() {
        for f in &t.foreign_keys {
            let unique = unique_key_of(ctx, f.ref_table, &f.ref_columns).map(|(n, _)| n);
            rows.push(vec![
                text(CATALOG),
                text(SCHEMA),
                text(&f.name),
                text(CATALOG),
                text(SCHEMA),
                unique.as_deref().map_or(Value::Null, text),
                text("NONE"),
                rule(f.on_update),
                rule(f.on_delete),
            ]);
        }
    }
    Ok(rows)
}

fn check_constraints(ctx: &SystemContext<'_>, _args: &[Value]) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    for t in ctx.state.catalog().tables() {
        for c in &t.checks {
            rows.push(vec![
                text(CATALOG),
                text(SCHEMA),
                text(&c.name),
                text(&c.expr),
            ]);
        }
        for (k, col) in t.columns.iter().enumerate() {
            if !col.nullable {
                let name = format!("{}_{}_{}_not_null", oids::PUBLIC, oids::table_oid(t), k + 1);
                rows.push(vec![
                    text(CATALOG),
                    text(SCHEMA),
                    text(&name),
                    text(&format!("{} IS NOT NULL", col.name)),
                ]);
            }
        }
    }
    Ok(rows)
}
