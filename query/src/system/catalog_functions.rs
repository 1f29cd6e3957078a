//! Scalar functions over the catalog, as PostgreSQL's `pg_catalog` defines them:
//! `pg_table_is_visible`, `format_type`, `pg_get_indexdef`, `pg_get_constraintdef`,
//! `pg_get_userbyid`, `pg_get_expr`, `pg_get_viewdef`, `obj_description`, ... and the
//! output and input of the `regclass`, `regtype` and `regnamespace` casts.
//!
//! They read the statement's snapshot, so the executor evaluates them with its state
//! ([`eval`]) and constant folding leaves them alone. Arguments of type `oid` are `bigint`
//! (see `pg_catalog.rs`). An OID that names nothing gives NULL, as in PostgreSQL.

use zqlite_projections::State;
use zqlite_projections::catalog::{FkAction, IndexColumn, TableDef};
use zqlite_projections::value::{DataType, Value};

use super::oids::{self, Object};
use super::pg_catalog::index_columns;
use super::pg_misc::{BASE_TYPES, CATALOG_TYPES};
use crate::error::{Error, Result};

/// `pg_encoding_to_char(6)` is `UTF8`, the only encoding zqlite has.
pub const UTF8_ENCODING: i32 = 6;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CatalogFunc {
    TableIsVisible,
    TypeIsVisible,
    FormatType,
    GetIndexdef,
    GetConstraintdef,
    GetUserById,
    GetExpr,
    GetViewdef,
    GetTriggerdef,
    GetStatisticsObjdefColumns,
    GetSerialSequence,
    /// `obj_description`, `col_description`, `shobj_description`: zqlite stores no comments.
    Description,
    EncodingToChar,
    RelationIsPublishable,
    /// As a scalar: zqlite has no partitions, so a relation is its own only ancestor.
    PartitionAncestors,
    CurrentSchema,
    CurrentSchemas,
    CurrentDatabase,
    ArrayUpper,
    ArrayLower,
    /// `oid::regclass`: the relation's name.
    RegclassOut,
    /// `text::regclass` of a non-constant: the relation's OID (42P01 if there is none).
    RegclassIn,
    /// `oid::regtype`: the type's name.
    RegtypeOut,
    /// `oid::regnamespace`: the schema's name.
    RegnamespaceOut,
}

const OID: DataType = DataType::Int8;
const TEXT: DataType = DataType::Text;
const INT4: DataType = DataType::Int4;
const BOOL: DataType = DataType::Bool;

/// Resolves `name` with `n` arguments to a catalog function, its argument types and its
/// result type. Array arguments are given as `None` (any array).
pub fn resolve(
    name: &str,
    args: &[Option<DataType>],
) -> Option<(CatalogFunc, Vec<Option<DataType>>, DataType)> {
    use CatalogFunc as F;
    let n = args.len();
    let sig =
        |f: F, a: &[DataType], r: DataType| Some((f, a.iter().copied().map(Some).collect(), r));
    match (name, n) {
        ("pg_table_is_visible", 1) => sig(F::TableIsVisible, &[OID], BOOL),
        ("pg_type_is_visible", 1) => sig(F::TypeIsVisible, &[OID], BOOL),
        ("format_type", 2) => sig(F::FormatType, &[OID, INT4], TEXT),
        ("pg_get_indexdef", 1) => sig(F::GetIndexdef, &[OID], TEXT),
        ("pg_get_indexdef", 3) => sig(F::GetIndexdef, &[OID, INT4, BOOL], TEXT),
        ("pg_get_constraintdef", 1) => sig(F::GetConstraintdef, &[OID], TEXT),
        ("pg_get_constraintdef", 2) => sig(F::GetConstraintdef, &[OID, BOOL], TEXT),
        ("pg_get_userbyid", 1) => sig(F::GetUserById, &[OID], TEXT),
        ("pg_get_expr", 2) => sig(F::GetExpr, &[TEXT, OID], TEXT),
        ("pg_get_expr", 3) => sig(F::GetExpr, &[TEXT, OID, BOOL], TEXT),
        ("pg_get_viewdef", 1) => sig(F::GetViewdef, &[OID], TEXT),
        ("pg_get_viewdef", 2) => sig(F::GetViewdef, &[OID, BOOL], TEXT),
        ("pg_get_triggerdef", 1) => sig(F::GetTriggerdef, &[OID], TEXT),
        ("pg_get_triggerdef", 2) => sig(F::GetTriggerdef, &[OID, BOOL], TEXT),
        ("pg_get_statisticsobjdef_columns", 1) => sig(F::GetStatisticsObjdefColumns, &[OID], TEXT),
        ("pg_get_serial_sequence", 2) => sig(F::GetSerialSequence, &[TEXT, TEXT], TEXT),
        ("obj_description", 1) => sig(F::Description, &[OID], TEXT),
        ("obj_description" | "shobj_description", 2) => sig(F::Description, &[OID, TEXT], TEXT),
        ("col_description", 2) => sig(F::Description, &[OID, INT4], TEXT),
        ("pg_encoding_to_char", 1) => sig(F::EncodingToChar, &[INT4], TEXT),
        ("pg_relation_is_publishable", 1) => sig(F::RelationIsPublishable, &[OID], BOOL),
        ("pg_partition_ancestors", 1) => sig(F::PartitionAncestors, &[OID], OID),
        ("current_schema", 0) => sig(F::CurrentSchema, &[], TEXT),
        ("current_schemas", 1) => sig(F::CurrentSchemas, &[BOOL], DataType::TEXT_ARRAY),
        ("current_database", 0) => sig(F::CurrentDatabase, &[], TEXT),
        ("array_upper" | "array_lower", 2)
            if args[0].is_some_and(|t| t.element_type().is_some()) =>
        {
            let f = if name == "array_upper" {
                F::ArrayUpper
            } else {
                F::ArrayLower
            };
            Some((f, vec![None, Some(INT4)], INT4))
        }
        _ => None,
    }
}

/// PostgreSQL's `quote_ident`: double-quotes a name unless it is a plain lower-case
/// identifier that is not one of PostgreSQL's keywords other than the unreserved ones.
pub fn quote_ident(name: &str) -> String {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !QUOTED_KEYWORDS.contains(&name);
    if plain {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

/// PostgreSQL 15's reserved, column-name and type-or-function-name keywords: the ones
/// `quote_ident` quotes.
const QUOTED_KEYWORDS: &[&str] = &[
    "all",
    "analyse",
    "analyze",
    "and",
    "any",
    "array",
    "as",
    "asc",
    "asymmetric",
    "authorization",
    "between",
    "bigint",
    "binary",
    "bit",
    "boolean",
    "both",
    "case",
    "cast",
    "char",
    "character",
    "check",
    "coalesce",
    "collate",
    "collation",
    "column",
    "concurrently",
    "constraint",
    "create",
    "cross",
    "current_catalog",
    "current_date",
    "current_role",
    "current_schema",
    "current_time",
    "current_timestamp",
    "current_user",
    "dec",
    "decimal",
    "default",
    "deferrable",
    "desc",
    "distinct",
    "do",
    "else",
    "end",
    "except",
    "exists",
    "extract",
    "false",
    "fetch",
    "float",
    "for",
    "foreign",
    "freeze",
    "from",
    "full",
    "grant",
    "greatest",
    "group",
    "grouping",
    "having",
    "ilike",
    "in",
    "initially",
    "inner",
    "inout",
    "int",
    "integer",
    "intersect",
    "interval",
    "into",
    "is",
    "isnull",
    "join",
    "lateral",
    "leading",
    "least",
    "left",
    "like",
    "limit",
    "localtime",
    "localtimestamp",
    "national",
    "natural",
    "nchar",
    "none",
    "normalize",
    "not",
    "notnull",
    "null",
    "nullif",
    "numeric",
    "offset",
    "on",
    "only",
    "or",
    "order",
    "out",
    "outer",
    "overlaps",
    "overlay",
    "placing",
    "position",
    "precision",
    "primary",
    "real",
    "references",
    "returning",
    "right",
    "row",
    "select",
    "session_user",
    "setof",
    "similar",
    "smallint",
    "some",
    "substring",
    "symmetric",
    "table",
    "tablesample",
    "then",
    "time",
    "timestamp",
    "to",
    "trailing",
    "treat",
    "trim",
    "true",
    "union",
    "unique",
    "user",
    "using",
    "values",
    "varchar",
    "variadic",
    "verbose",
    "when",
    "where",
    "window",
    "with",
    "xmlattributes",
    "xmlconcat",
    "xmlelement",
    "xmlexists",
    "xmlforest",
    "xmlnamespaces",
    "xmlparse",
    "xmlpi",
    "xmlroot",
    "xmlserialize",
    "xmltable",
];

fn oid_arg(v: &Value) -> Option<i64> {
    match v {
        Value::Int8(o) => Some(*o),
        Value::Int4(o) => Some(i64::from(*o)),
        _ => None,
    }
}

fn text(s: impl Into<String>) -> Value {
    Value::Text(s.into())
}

/// `format_type(oid, typmod)`.
pub fn format_type(type_oid: i64, typmod: Option<i32>) -> String {
    let Ok(o) = u32::try_from(type_oid) else {
        return "???".into();
    };
    for t in BASE_TYPES {
        let with_mod = |t: DataType| -> String {
            let base = t.oid();
            let m = typmod.unwrap_or(-1);
            let modded = match t {
                DataType::Varchar(_) if m >= 4 => DataType::Varchar(Some((m - 4) as u32)),
                DataType::Char(_) if m >= 4 => DataType::Char(Some((m - 4) as u32)),
                DataType::Char(_) if typmod.is_some() => DataType::Char(None),
                DataType::Numeric(_) if m >= 4 => {
                    let m = (m - 4) as u32;
                    DataType::Numeric(Some(zqlite_projections::value::NumericTypmod {
                        precision: m >> 16,
                        scale: m & 0xffff,
                    }))
                }
                other => other,
            };
            debug_assert_eq!(modded.oid(), base);
            match modded {
                DataType::Char(None) if typmod.is_none() => "character".into(),
                other => other.to_string(),
            }
        };
        if t.oid() == o {
            return with_mod(*t);
        }
        if let Ok(a) = t.array_type()
            && a.oid() == o
        {
            return format!("{}[]", with_mod(*t));
        }
    }
    CATALOG_TYPES
        .iter()
        .find(|t| t.0 == o)
        .map_or_else(|| "???".into(), |t| t.2.to_string())
}

fn column_list(t: &TableDef, cols: &[usize]) -> String {
    cols.iter()
        .map(|&c| quote_ident(&t.columns[c].name))
        .collect::<Vec<_>>()
        .join(", ")
}

/// An index key column as `pg_get_indexdef` prints it: a column's name, or an expression
/// (`lower(email)`, `((a + 1))`; `(a + 1)` when `pretty`).
pub(crate) fn key_column(t: &TableDef, c: &IndexColumn, pretty: bool) -> String {
    match (c, crate::index_expr::bound(t, c)) {
        (IndexColumn::Column(c), _) => quote_ident(&t.columns[*c].name),
        (IndexColumn::Expression(_), Some(b)) if pretty => b.pretty.clone(),
        (IndexColumn::Expression(_), Some(b)) => b.column.clone(),
        (IndexColumn::Expression(e), None) => format!("({})", e.sql()),
    }
}

/// `pg_get_indexdef(oid [, 0, pretty])`: `CREATE [UNIQUE] INDEX name ON public.table USING
/// btree (keys)`; pretty printing leaves out the schema (it is on the search path) and
/// parentheses precedence does not need.
pub fn index_def(obj: &Object, pretty: bool) -> Option<String> {
    let (t, cols, unique, _) = index_columns(obj)?;
    let keys: Vec<String> = cols.iter().map(|c| key_column(t, c, pretty)).collect();
    Some(format!(
        "CREATE {}INDEX {} ON {}{} USING btree ({})",
        if unique { "UNIQUE " } else { "" },
        quote_ident(&oids::relation_name(obj)?),
        if pretty { "" } else { "public." },
        quote_ident(&t.name),
        keys.join(", ")
    ))
}

fn fk_action(what: &str, a: FkAction) -> String {
    match a {
        FkAction::Restrict => String::new(),
        FkAction::Cascade => format!(" ON {what} CASCADE"),
        FkAction::SetNull => format!(" ON {what} SET NULL"),
        FkAction::SetDefault => format!(" ON {what} SET DEFAULT"),
    }
}

/// `pg_get_constraintdef(oid)`.
fn constraint_def(state: &State, obj: &Object) -> Option<String> {
    Some(match obj {
        Object::PrimaryKey(t) => format!(
            "PRIMARY KEY ({})",
            column_list(t, t.primary_key.as_deref().unwrap_or_default())
        ),
        Object::Unique(t, i) => format!(
            "UNIQUE ({})",
            column_list(t, &t.indexes[*i].plain_columns().unwrap_or_default())
        ),
        Object::Check(t, i) => {
            let e = &t.checks[*i].expr;
            if e.starts_with('(') && e.ends_with(')') {
                format!("CHECK {e}")
            } else {
                format!("CHECK ({e})")
            }
        }
        Object::ForeignKey(t, i) => {
            let f = &t.foreign_keys[*i];
            let r = state.catalog().table(f.ref_table)?;
            format!(
                "FOREIGN KEY ({}) REFERENCES {}({}){}{}",
                column_list(t, &f.columns),
                quote_ident(&r.name),
                column_list(r, &f.ref_columns),
                fk_action("UPDATE", f.on_update),
                fk_action("DELETE", f.on_delete)
            )
        }
        _ => return None,
    })
}

fn namespace_name(o: i64) -> Option<&'static str> {
    super::pg_catalog::NAMESPACES
        .iter()
        .find(|n| n.0 == o)
        .map(|n| n.1)
}

fn int_arg(v: &Value) -> Option<i64> {
    match v {
        Value::Int2(i) => Some(i64::from(*i)),
        Value::Int4(i) => Some(i64::from(*i)),
        Value::Int8(i) => Some(*i),
        _ => None,
    }
}

/// Evaluates `f` on `args` (already of the resolved types) against `state`.
pub fn eval(f: CatalogFunc, state: &State, args: &[Value]) -> Result<Value> {
    use CatalogFunc as F;
    let first = args.first().and_then(oid_arg);
    let obj = || first.and_then(|o| oids::resolve(state, o));
    let null_if_null =
        args.first().is_some_and(Value::is_null) && !matches!(f, F::FormatType | F::Description);
    if null_if_null {
        return Ok(Value::Null);
    }
    Ok(match f {
        F::TableIsVisible => Value::Bool(obj().is_some()),
        F::TypeIsVisible => Value::Bool(true),
        F::FormatType => match first {
            None => Value::Null,
            Some(o) => {
                let typmod = args.get(1).and_then(int_arg).map(|m| m as i32);
                text(format_type(o, typmod))
            }
        },
        F::GetIndexdef => {
            let Some(ix) = obj() else {
                return Ok(Value::Null);
            };
            let col = args.get(1).and_then(int_arg).unwrap_or(0);
            let pretty = matches!(args.get(2), Some(Value::Bool(true)));
            if col == 0 {
                index_def(&ix, pretty).map_or(Value::Null, text)
            } else {
                let Some((t, cols, _, _)) = index_columns(&ix) else {
                    return Ok(Value::Null);
                };
                usize::try_from(col - 1)
                    .ok()
                    .and_then(|k| cols.get(k))
                    .map_or(text(""), |c| text(key_column(t, c, pretty)))
            }
        }
        F::GetConstraintdef => obj()
            .and_then(|c| constraint_def(state, &c))
            .map_or(Value::Null, text),
        F::GetUserById => {
            let o = first.unwrap_or(0);
            text(oids::role_name(state, o).unwrap_or_else(|| format!("unknown (OID={o})")))
        }
        F::GetExpr => match &args[0] {
            Value::Text(s) => text(s.clone()),
            _ => Value::Null,
        },
        F::GetViewdef => match obj() {
            Some(Object::View(v)) => text(format!(" {};", v.query)),
            _ => Value::Null,
        },
        F::GetTriggerdef | F::GetStatisticsObjdefColumns | F::Description => Value::Null,
        F::GetSerialSequence => {
            let (Value::Text(table), Some(Value::Text(column))) = (&args[0], args.get(1)) else {
                return Ok(Value::Null);
            };
            let table = table.strip_prefix("public.").unwrap_or(table);
            let seq = state
                .catalog()
                .table_by_name(table)
                .and_then(|t| t.columns.iter().find(|c| &c.name == column))
                .and_then(|c| c.identity.as_ref())
                .map(|i| format!("public.{}", quote_ident(&i.sequence)));
            seq.map_or(Value::Null, text)
        }
        F::EncodingToChar => text(if first == Some(i64::from(UTF8_ENCODING)) {
            "UTF8"
        } else {
            ""
        }),
        F::RelationIsPublishable => Value::Bool(matches!(obj(), Some(Object::Table(_)))),
        F::PartitionAncestors => match obj() {
            Some(_) => args[0].clone(),
            None => Value::Null,
        },
        F::CurrentSchema => text("public"),
        F::CurrentSchemas => {
            let implicit = args[0] == Value::Bool(true);
            let names: Vec<Value> = if implicit {
                vec![text("pg_catalog"), text("public")]
            } else {
                vec![text("public")]
            };
            Value::Array(std::sync::Arc::new(zqlite_projections::value::Array::new(
                DataType::Text,
                names,
            )))
        }
        F::CurrentDatabase => text(oids::BOOTSTRAP_ROLE_NAME),
        F::ArrayUpper | F::ArrayLower => match (&args[0], args.get(1).and_then(int_arg)) {
            (Value::Array(a), Some(1)) if !a.items().is_empty() => {
                Value::Int4(if f == F::ArrayUpper {
                    i32::try_from(a.items().len()).unwrap_or(i32::MAX)
                } else {
                    1
                })
            }
            _ => Value::Null,
        },
        F::RegclassOut => match first {
            Some(o) => match oids::resolve(state, o).and_then(|x| oids::relation_name(&x)) {
                Some(n) => text(quote_ident(&n)),
                None => text(o.to_string()),
            },
            None => Value::Null,
        },
        F::RegclassIn => match &args[0] {
            Value::Text(s) => Value::Int8(regclass_in(state, s)?),
            _ => Value::Null,
        },
        F::RegtypeOut => match first {
            Some(o) => text(format_type(o, None)),
            None => Value::Null,
        },
        F::RegnamespaceOut => match first {
            Some(o) => text(namespace_name(o).map_or_else(|| o.to_string(), str::to_string)),
            None => Value::Null,
        },
    })
}

/// `'name'::regclass`: a relation name (optionally `public.`-qualified or quoted) or a
/// number, to an OID.
pub fn regclass_in(state: &State, s: &str) -> Result<i64> {
    let s = s.trim();
    if let Ok(n) = s.parse::<i64>() {
        return Ok(n);
    }
    let unqualified = s
        .strip_prefix("public.")
        .or_else(|| s.strip_prefix("\"public\"."))
        .unwrap_or(s);
    let name = match unqualified
        .strip_prefix('"')
        .and_then(|r| r.strip_suffix('"'))
    {
        Some(q) => q.replace("\"\"", "\""),
        None => unqualified.to_lowercase(),
    };
    oids::relation_by_name(state, &name)
        .ok_or_else(|| Error::bind("42P01", format!("relation \"{s}\" does not exist")))
}
