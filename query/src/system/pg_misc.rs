//! `pg_catalog` relations about things zqlite has one fixed answer for (types, the
//! database, access methods, collations, tablespaces, roles) and the relations of features
//! zqlite does not have, which exist with PostgreSQL's columns and no rows (inheritance,
//! partitioning, triggers, policies, extended statistics, publications, comments). Also the
//! table functions `generate_series(int, int)` and `pg_partition_ancestors(oid)`.
//!
//! Column types follow `pg_catalog.rs`'s mapping (`oid` as `bigint`, `name` and `"char"` as
//! `text`).

use zqlite_projections::value::{DataType, TypeCategory, Value};

use super::oids;
use super::pg_catalog::{BOOL, CHAR, INT2, INT4, NAME, OID, TEXT, rel};
use super::{Namespace, Row, SystemContext, SystemRelation};
use crate::error::Result;

const TEXT_ARRAY: DataType = DataType::TEXT_ARRAY;

fn empty(_ctx: &SystemContext<'_>, _args: &[Value]) -> Result<Vec<Row>> {
    Ok(Vec::new())
}

pub(super) const RELATIONS: &[SystemRelation] = &[
    rel(
        "pg_type",
        &[
            ("oid", OID),
            ("typname", NAME),
            ("typnamespace", OID),
            ("typowner", OID),
            ("typlen", INT2),
            ("typbyval", BOOL),
            ("typtype", CHAR),
            ("typcategory", CHAR),
            ("typispreferred", BOOL),
            ("typisdefined", BOOL),
            ("typdelim", CHAR),
            ("typrelid", OID),
            ("typelem", OID),
            ("typarray", OID),
            ("typnotnull", BOOL),
            ("typbasetype", OID),
            ("typtypmod", INT4),
            ("typndims", INT4),
            ("typcollation", OID),
            ("typdefault", TEXT),
        ],
        pg_type,
    ),
    rel(
        "pg_database",
        &[
            ("oid", OID),
            ("datname", NAME),
            ("datdba", OID),
            ("encoding", INT4),
            ("datlocprovider", CHAR),
            ("datistemplate", BOOL),
            ("datallowconn", BOOL),
            ("datconnlimit", INT4),
            ("dattablespace", OID),
            ("datcollate", TEXT),
            ("datctype", TEXT),
            ("daticulocale", TEXT),
            ("datcollversion", TEXT),
            ("datacl", TEXT_ARRAY),
        ],
        pg_database,
    ),
    rel(
        "pg_roles",
        &[
            ("rolname", NAME),
            ("rolsuper", BOOL),
            ("rolinherit", BOOL),
            ("rolcreaterole", BOOL),
            ("rolcreatedb", BOOL),
            ("rolcanlogin", BOOL),
            ("rolreplication", BOOL),
            ("rolconnlimit", INT4),
            ("rolpassword", TEXT),
            ("rolvaliduntil", DataType::TimestampTz),
            ("rolbypassrls", BOOL),
            ("rolconfig", TEXT_ARRAY),
            ("oid", OID),
        ],
        pg_roles,
    ),
    rel(
        "pg_am",
        &[
            ("oid", OID),
            ("amname", NAME),
            ("amhandler", TEXT),
            ("amtype", CHAR),
        ],
        pg_am,
    ),
    rel(
        "pg_collation",
        &[
            ("oid", OID),
            ("collname", NAME),
            ("collnamespace", OID),
            ("collowner", OID),
            ("collprovider", CHAR),
            ("collisdeterministic", BOOL),
            ("collencoding", INT4),
            ("collcollate", TEXT),
            ("collctype", TEXT),
        ],
        pg_collation,
    ),
    rel(
        "pg_tablespace",
        &[
            ("oid", OID),
            ("spcname", NAME),
            ("spcowner", OID),
            ("spcacl", TEXT_ARRAY),
            ("spcoptions", TEXT_ARRAY),
        ],
        pg_tablespace,
    ),
    rel(
        "pg_description",
        &[
            ("objoid", OID),
            ("classoid", OID),
            ("objsubid", INT4),
            ("description", TEXT),
        ],
        empty,
    ),
    rel(
        "pg_inherits",
        &[
            ("inhrelid", OID),
            ("inhparent", OID),
            ("inhseqno", INT4),
            ("inhdetachpending", BOOL),
        ],
        empty,
    ),
    rel(
        "pg_partitioned_table",
        &[
            ("partrelid", OID),
            ("partstrat", CHAR),
            ("partnatts", INT2),
            ("partdefid", OID),
            ("partattrs", DataType::INT2_ARRAY),
            ("partclass", DataType::INT8_ARRAY),
            ("partcollation", DataType::INT8_ARRAY),
            ("partexprs", TEXT),
        ],
        empty,
    ),
    rel(
        "pg_trigger",
        &[
            ("oid", OID),
            ("tgrelid", OID),
            ("tgparentid", OID),
            ("tgname", NAME),
            ("tgfoid", OID),
            ("tgtype", INT2),
            ("tgenabled", CHAR),
            ("tgisinternal", BOOL),
            ("tgconstrrelid", OID),
            ("tgconstrindid", OID),
            ("tgconstraint", OID),
            ("tgdeferrable", BOOL),
            ("tginitdeferred", BOOL),
            ("tgnargs", INT2),
        ],
        empty,
    ),
    rel(
        "pg_policy",
        &[
            ("oid", OID),
            ("polname", NAME),
            ("polrelid", OID),
            ("polcmd", CHAR),
            ("polpermissive", BOOL),
            ("polroles", DataType::INT8_ARRAY),
            ("polqual", TEXT),
            ("polwithcheck", TEXT),
        ],
        empty,
    ),
    rel(
        "pg_statistic_ext",
        &[
            ("oid", OID),
            ("stxrelid", OID),
            ("stxname", NAME),
            ("stxnamespace", OID),
            ("stxowner", OID),
            ("stxstattarget", INT4),
            ("stxkeys", DataType::INT2_ARRAY),
            ("stxkind", TEXT_ARRAY),
            ("stxexprs", TEXT),
        ],
        empty,
    ),
    rel(
        "pg_publication",
        &[
            ("oid", OID),
            ("pubname", NAME),
            ("pubowner", OID),
            ("puballtables", BOOL),
            ("pubinsert", BOOL),
            ("pubupdate", BOOL),
            ("pubdelete", BOOL),
            ("pubtruncate", BOOL),
            ("pubviaroot", BOOL),
        ],
        empty,
    ),
    rel(
        "pg_publication_namespace",
        &[("oid", OID), ("pnpubid", OID), ("pnnspid", OID)],
        empty,
    ),
    rel(
        "pg_publication_rel",
        &[
            ("oid", OID),
            ("prpubid", OID),
            ("prrelid", OID),
            ("prqual", TEXT),
            ("prattrs", DataType::INT2_ARRAY),
        ],
        empty,
    ),
    rel(
        "pg_auth_members",
        &[
            ("roleid", OID),
            ("member", OID),
            ("grantor", OID),
            ("admin_option", BOOL),
        ],
        empty,
    ),
    rel(
        "pg_enum",
        &[
            ("oid", OID),
            ("enumtypid", OID),
            ("enumsortorder", DataType::Float4),
            ("enumlabel", NAME),
        ],
        empty,
    ),
    SystemRelation {
        name: "pg_partition_ancestors",
        namespace: Namespace::PgCatalog,
        columns: &[("relid", OID)],
        args: &[OID],
        rows: pg_partition_ancestors,
    },
];

/// The scalar types zqlite has, each with its array type in `pg_type`.
pub(crate) const BASE_TYPES: &[DataType] = &[
    DataType::Bool,
    DataType::Bytea,
    DataType::Int8,
    DataType::Int2,
    DataType::Int4,
    DataType::Text,
    DataType::Json,
    DataType::Float4,
    DataType::Float8,
    DataType::Char(None),
    DataType::Varchar(None),
    DataType::Date,
    DataType::Time,
    DataType::Timestamp,
    DataType::TimestampTz,
    DataType::Interval,
    DataType::Numeric(None),
    DataType::Uuid,
    DataType::Jsonb,
];

/// Catalog-only types that appear in `pg_catalog` columns and casts: (oid, typname,
/// format_type name, typlen).
pub(crate) const CATALOG_TYPES: &[(u32, &str, &str, i16)] = &[
    (18, "char", "\"char\"", 1),
    (19, "name", "name", 64),
    (22, "int2vector", "int2vector", -1),
    (26, "oid", "oid", 4),
    (30, "oidvector", "oidvector", -1),
    (194, "pg_node_tree", "pg_node_tree", -1),
    (1033, "aclitem", "aclitem", 12),
    (2205, "regclass", "regclass", 4),
    (2206, "regtype", "regtype", 4),
    (4089, "regnamespace", "regnamespace", 4),
];

fn category_char(c: TypeCategory) -> &'static str {
    match c {
        TypeCategory::Boolean => "B",
        TypeCategory::Numeric => "N",
        TypeCategory::String => "S",
        TypeCategory::DateTime => "D",
        TypeCategory::Timespan => "T",
        TypeCategory::UserDefined => "U",
        TypeCategory::Array => "A",
    }
}

fn oid(v: i64) -> Value {
    Value::Int8(v)
}

fn text(s: &str) -> Value {
    Value::Text(s.to_string())
}

fn type_row(
    toid: u32,
    name: &str,
    len: i16,
    category: &str,
    elem: u32,
    array: u32,
    collation: i64,
) -> Row {
    vec![
        oid(i64::from(toid)),
        text(name),
        oid(oids::PG_CATALOG),
        oid(oids::BOOTSTRAP_ROLE),
        Value::Int2(len),
        Value::Bool((1..=8).contains(&len)),
        text("b"),
        text(category),
        Value::Bool(matches!(
            name,
            "bool" | "text" | "float8" | "timestamptz" | "interval" | "oid"
        )),
        Value::Bool(true),
        text(","),
        oid(0),
        oid(i64::from(elem)),
        oid(i64::from(array)),
        Value::Bool(false),
        oid(0),
        Value::Int4(-1),
        Value::Int4(0),
        oid(collation),
        Value::Null,
    ]
}

fn pg_type(_ctx: &SystemContext<'_>, _args: &[Value]) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    for t in BASE_TYPES {
        let collation = if t.category() == TypeCategory::String {
            oids::DEFAULT_COLLATION
        } else {
            0
        };
        let array = t.array_type().map_or(0, |a| a.oid());
        rows.push(type_row(
            t.oid(),
            t.typname(),
            t.typlen(),
            category_char(t.category()),
            0,
            array,
            collation,
        ));
        if let Ok(a) = t.array_type() {
            rows.push(type_row(
                a.oid(),
                a.typname(),
                -1,
                "A",
                t.oid(),
                0,
                collation,
            ));
        }
    }
    for &(toid, name, _, len) in CATALOG_TYPES {
        let category = match name {
            "char" | "name" => "S",
            "int2vector" | "oidvector" => "A",
            "pg_node_tree" => "S",
            "aclitem" => "U",
            _ => "N",
        };
        let collation = if name == "name" { 950 } else { 0 };
        rows.push(type_row(toid, name, len, category, 0, 0, collation));
    }
    Ok(rows)
}

fn pg_database(_ctx: &SystemContext<'_>, _args: &[Value]) -> Result<Vec<Row>> {
    Ok(vec![vec![
        oid(oids::DATABASE),
        text(oids::BOOTSTRAP_ROLE_NAME),
        oid(oids::BOOTSTRAP_ROLE),
        Value::Int4(super::catalog_functions::UTF8_ENCODING),
        text("c"),
        Value::Bool(false),
        Value::Bool(true),
        Value::Int4(-1),
        oid(oids::DEFAULT_TABLESPACE),
        text("C"),
        text("C"),
        Value::Null,
        Value::Null,
        Value::Null,
    ]])
}

fn role_row(name: &str, login: bool) -> Row {
    vec![
        text(name),
        Value::Bool(true),
        Value::Bool(true),
        Value::Bool(true),
        Value::Bool(true),
        Value::Bool(login),
        Value::Bool(true),
        Value::Int4(-1),
        text("********"),
        Value::Null,
        Value::Bool(true),
        Value::Null,
        oid(oids::role_oid(name)),
    ]
}

/// The bootstrap role and the catalog's roles. Every role may do everything in zqlite,
/// so each is shown as a superuser.
fn pg_roles(ctx: &SystemContext<'_>, _args: &[Value]) -> Result<Vec<Row>> {
    let mut rows = vec![role_row(oids::BOOTSTRAP_ROLE_NAME, true)];
    let mut owner = role_row("pg_database_owner", false);
    // rolsuper .. rolreplication: only rolinherit is set for pg_database_owner.
    for (i, attribute) in owner.iter_mut().enumerate().take(7).skip(1) {
        *attribute = Value::Bool(i == 2);
    }
    owner[10] = Value::Bool(false);
    owner[12] = oid(oids::DATABASE_OWNER_ROLE);
    rows.push(owner);
    for r in ctx.state.catalog().roles() {
        if r.name != oids::BOOTSTRAP_ROLE_NAME {
            rows.push(role_row(&r.name, r.login));
        }
    }
    Ok(rows)
}

fn pg_am(_ctx: &SystemContext<'_>, _args: &[Value]) -> Result<Vec<Row>> {
    Ok(vec![
        vec![
            oid(oids::HEAP_AM),
            text("heap"),
            text("heap_tableam_handler"),
            text("t"),
        ],
        vec![
            oid(oids::BTREE_AM),
            text("btree"),
            text("bthandler"),
            text("i"),
        ],
    ])
}

fn pg_collation(_ctx: &SystemContext<'_>, _args: &[Value]) -> Result<Vec<Row>> {
    let row = |o: i64, name: &str, provider: &str, locale: Value| {
        vec![
            oid(o),
            text(name),
            oid(oids::PG_CATALOG),
            oid(oids::BOOTSTRAP_ROLE),
            text(provider),
            Value::Bool(true),
            Value::Int4(-1),
            locale.clone(),
            locale,
        ]
    };
    Ok(vec![
        row(oids::DEFAULT_COLLATION, "default", "d", Value::Null),
        row(950, "C", "c", text("C")),
        row(951, "POSIX", "c", text("POSIX")),
    ])
}

fn pg_tablespace(_ctx: &SystemContext<'_>, _args: &[Value]) -> Result<Vec<Row>> {
    Ok(vec![
        vec![
            oid(oids::DEFAULT_TABLESPACE),
            text("pg_default"),
            oid(oids::BOOTSTRAP_ROLE),
            Value::Null,
            Value::Null,
        ],
        vec![
            oid(1664),
            text("pg_global"),
            oid(oids::BOOTSTRAP_ROLE),
            Value::Null,
            Value::Null,
        ],
    ])
}

/// zqlite has no partitions: a relation's only ancestor is itself.
fn pg_partition_ancestors(ctx: &SystemContext<'_>, args: &[Value]) -> Result<Vec<Row>> {
    match args {
        [Value::Int8(o)] if oids::resolve(ctx.state, *o).is_some() => Ok(vec![vec![oid(*o)]]),
        _ => Ok(Vec::new()),
    }
}
