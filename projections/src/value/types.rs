//! SQL data types: the closed set of scalar types, their names, OIDs and type modifiers.
//!
//! Owns [`DataType`], the type of a column, parameter or expression, with its modifier
//! (`numeric(p,s)`, `varchar(n)`, `char(n)`). It knows how PostgreSQL spells each type
//! (`format_type`, for errors and `pg_catalog`), the `pg_type` OIDs, `typlen` and `typmod`
//! values that go into a RowDescription, and PostgreSQL's type categories, which operator and
//! cast resolution use.
//!
//! Invariants:
//! - `Numeric(Some(m))` has `1 <= m.precision <= 1000` and `m.scale <= m.precision`;
//! - `Varchar(Some(n))` and `Char(Some(n))` have `1 <= n <= 10_485_760`;
//! - `Char(None)` is `bpchar` with no length limit; the SQL spelling `char`/`character`
//!   without a length means `char(1)` and is resolved to `Char(Some(1))` by [`DataType::from_name`].

use std::fmt;

use super::error::{Result, ValueError};
use super::numeric::NUMERIC_MAX_PRECISION;

/// PostgreSQL's limit on `varchar(n)` / `char(n)` lengths.
pub const MAX_CHAR_LENGTH: u32 = 10 * 1024 * 1024;

/// The precision and scale of `numeric(p,s)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct NumericTypmod {
    pub precision: u32,
    pub scale: u32,
}

/// A scalar SQL type (see the module invariants).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum DataType {
    Bool,
    Int2,
    Int4,
    Int8,
    Numeric(Option<NumericTypmod>),
    Float4,
    Float8,
    Text,
    Varchar(Option<u32>),
    Char(Option<u32>),
    Bytea,
    Date,
    Time,
    Timestamp,
    TimestampTz,
    Interval,
    Uuid,
    Json,
    Jsonb,
    /// A one-dimensional array of the element type (see [`ArrayType`]).
    #[serde(with = "array_type_serde")]
    Array(&'static ArrayType),
    /// `regtype`: a type, held as its name (`integer`, `text[]`); what `pg_typeof` returns.
    /// Only expressions have it: no column can be declared with it.
    Regtype,
}

/// An array type: its element type (without modifier) and `pg_type` entry.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct ArrayType {
    pub elem: DataType,
    pub oid: u32,
    pub typname: &'static str,
    pub sql_name: &'static str,
}

/// `text[]`, for declarations that need a constant (equal to `Text.array_type()`).
pub const TEXT_ARRAY: DataType = DataType::Array(&ArrayType {
    elem: DataType::Text,
    oid: 1009,
    typname: "_text",
    sql_name: "text[]",
});

/// The array type of every scalar type (PostgreSQL 15's `pg_type.typarray`).
static ARRAY_TYPES: [ArrayType; 19] = {
    const fn a(
        elem: DataType,
        oid: u32,
        typname: &'static str,
        sql_name: &'static str,
    ) -> ArrayType {
        ArrayType {
            elem,
            oid,
            typname,
            sql_name,
        }
    }
    [
        a(DataType::Bool, 1000, "_bool", "boolean[]"),
        a(DataType::Int2, 1005, "_int2", "smallint[]"),
        a(DataType::Int4, 1007, "_int4", "integer[]"),
        a(DataType::Int8, 1016, "_int8", "bigint[]"),
        a(DataType::Numeric(None), 1231, "_numeric", "numeric[]"),
        a(DataType::Float4, 1021, "_float4", "real[]"),
        a(DataType::Float8, 1022, "_float8", "double precision[]"),
        a(DataType::Text, 1009, "_text", "text[]"),
        a(
            DataType::Varchar(None),
            1015,
            "_varchar",
            "character varying[]",
        ),
        a(DataType::Char(None), 1014, "_bpchar", "character[]"),
        a(DataType::Bytea, 1001, "_bytea", "bytea[]"),
        a(DataType::Date, 1182, "_date", "date[]"),
        a(DataType::Time, 1183, "_time", "time without time zone[]"),
        a(
            DataType::Timestamp,
            1115,
            "_timestamp",
            "timestamp without time zone[]",
        ),
        a(
            DataType::TimestampTz,
            1185,
            "_timestamptz",
            "timestamp with time zone[]",
        ),
        a(DataType::Interval, 1187, "_interval", "interval[]"),
        a(DataType::Uuid, 2951, "_uuid", "uuid[]"),
        a(DataType::Json, 199, "_json", "json[]"),
        a(DataType::Jsonb, 3807, "_jsonb", "jsonb[]"),
    ]
};

/// Array types are stored as their element type.
mod array_type_serde {
    use super::{ArrayType, DataType};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(t: &&'static ArrayType, s: S) -> Result<S::Ok, S::Error> {
        t.elem.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<&'static ArrayType, D::Error> {
        let elem = DataType::deserialize(d)?;
        match elem.array_type() {
            Ok(DataType::Array(t)) => Ok(t),
            _ => Err(serde::de::Error::custom("invalid array element type")),
        }
    }
}

/// PostgreSQL's `typcategory`: drives implicit casts and operator resolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TypeCategory {
    Boolean,
    Numeric,
    String,
    DateTime,
    Timespan,
    /// `bytea`, `uuid`, `json`, `jsonb` (PostgreSQL's "user-defined" category `U`), and
    /// `regtype` (PostgreSQL's `N`, but zqlite does no arithmetic on it).
    UserDefined,
    Array,
}

impl DataType {
    /// `smallint[]` (also how zqlite shows `int2vector` catalog columns).
    pub const INT2_ARRAY: DataType = DataType::Array(&ARRAY_TYPES[1]);
    /// `bigint[]` (also how zqlite shows `oid[]` and `oidvector` catalog columns).
    pub const INT8_ARRAY: DataType = DataType::Array(&ARRAY_TYPES[3]);
    /// `text[]`.
    pub const TEXT_ARRAY: DataType = DataType::Array(&ARRAY_TYPES[7]);

    /// The `pg_type` OID.
    pub fn oid(&self) -> u32 {
        match self {
            DataType::Bool => 16,
            DataType::Bytea => 17,
            DataType::Int8 => 20,
            DataType::Int2 => 21,
            DataType::Int4 => 23,
            DataType::Text => 25,
            DataType::Json => 114,
            DataType::Float4 => 700,
            DataType::Float8 => 701,
            DataType::Char(_) => 1042,
            DataType::Varchar(_) => 1043,
            DataType::Date => 1082,
            DataType::Time => 1083,
            DataType::Timestamp => 1114,
            DataType::TimestampTz => 1184,
            DataType::Interval => 1186,
            DataType::Numeric(_) => 1700,
            DataType::Uuid => 2950,
            DataType::Jsonb => 3802,
            DataType::Array(t) => t.oid,
            DataType::Regtype => 2206,
        }
    }

    /// The `pg_type.typname` (`int4`, `bpchar`, `timestamptz`, ...).
    pub fn typname(&self) -> &'static str {
        match self {
            DataType::Bool => "bool",
            DataType::Int2 => "int2",
            DataType::Int4 => "int4",
            DataType::Int8 => "int8",
            DataType::Numeric(_) => "numeric",
            DataType::Float4 => "float4",
            DataType::Float8 => "float8",
            DataType::Text => "text",
            DataType::Varchar(_) => "varchar",
            DataType::Char(_) => "bpchar",
            DataType::Bytea => "bytea",
            DataType::Date => "date",
            DataType::Time => "time",
            DataType::Timestamp => "timestamp",
            DataType::TimestampTz => "timestamptz",
            DataType::Interval => "interval",
            DataType::Uuid => "uuid",
            DataType::Json => "json",
            DataType::Jsonb => "jsonb",
            DataType::Array(t) => t.typname,
            DataType::Regtype => "regtype",
        }
    }

    /// The SQL name without modifiers, as in error messages (`integer`, `character varying`).
    pub fn sql_name(&self) -> &'static str {
        match self {
            DataType::Bool => "boolean",
            DataType::Int2 => "smallint",
            DataType::Int4 => "integer",
            DataType::Int8 => "bigint",
            DataType::Numeric(_) => "numeric",
            DataType::Float4 => "real",
            DataType::Float8 => "double precision",
            DataType::Text => "text",
            DataType::Varchar(_) => "character varying",
            DataType::Char(_) => "character",
            DataType::Bytea => "bytea",
            DataType::Date => "date",
            DataType::Time => "time without time zone",
            DataType::Timestamp => "timestamp without time zone",
            DataType::TimestampTz => "timestamp with time zone",
            DataType::Interval => "interval",
            DataType::Uuid => "uuid",
            DataType::Json => "json",
            DataType::Jsonb => "jsonb",
            DataType::Array(t) => t.sql_name,
            DataType::Regtype => "regtype",
        }
    }

    /// The array type whose elements are of this type (modifiers are not kept); 0A000 for
    /// arrays of arrays, which are multidimensional arrays.
    pub fn array_type(&self) -> Result<DataType> {
        let elem = self.without_modifier();
        ARRAY_TYPES
            .iter()
            .find(|t| t.elem == elem)
            .map(DataType::Array)
            .ok_or_else(|| ValueError::FeatureNotSupported {
                message: "multidimensional arrays are not supported".into(),
            })
    }

    /// The array type with this `pg_type` OID.
    pub fn array_from_oid(oid: u32) -> Option<DataType> {
        ARRAY_TYPES
            .iter()
            .find(|t| t.oid == oid)
            .map(DataType::Array)
    }

    /// The element type of an array type.
    pub fn element_type(&self) -> Option<DataType> {
        match self {
            DataType::Array(t) => Some(t.elem),
            _ => None,
        }
    }

    /// `pg_type.typlen`: the fixed width in bytes, or -1 for variable-length types.
    pub fn typlen(&self) -> i16 {
        match self {
            DataType::Bool => 1,
            DataType::Int2 => 2,
            DataType::Int4 | DataType::Float4 | DataType::Date => 4,
            DataType::Int8
            | DataType::Float8
            | DataType::Time
            | DataType::Timestamp
            | DataType::TimestampTz => 8,
            DataType::Interval | DataType::Uuid => 16,
            _ => -1,
        }
    }

    /// The `atttypmod` a RowDescription carries: -1 without a modifier, `n + 4` for
    /// `varchar(n)`/`char(n)`, `((p << 16) | s) + 4` for `numeric(p,s)`.
    pub fn typmod(&self) -> i32 {
        match self {
            DataType::Varchar(Some(n)) | DataType::Char(Some(n)) => *n as i32 + 4,
            DataType::Numeric(Some(m)) => ((m.precision << 16) | m.scale) as i32 + 4,
            _ => -1,
        }
    }

    pub fn category(&self) -> TypeCategory {
        match self {
            DataType::Bool => TypeCategory::Boolean,
            DataType::Int2
            | DataType::Int4
            | DataType::Int8
            | DataType::Numeric(_)
            | DataType::Float4
            | DataType::Float8 => TypeCategory::Numeric,
            DataType::Text | DataType::Varchar(_) | DataType::Char(_) => TypeCategory::String,
            DataType::Date | DataType::Time | DataType::Timestamp | DataType::TimestampTz => {
                TypeCategory::DateTime
            }
            DataType::Interval => TypeCategory::Timespan,
            DataType::Bytea
            | DataType::Uuid
            | DataType::Json
            | DataType::Jsonb
            | DataType::Regtype => TypeCategory::UserDefined,
            DataType::Array(_) => TypeCategory::Array,
        }
    }

    /// The type without its modifier (`varchar(3)` → `varchar`).
    pub fn without_modifier(&self) -> DataType {
        match self {
            DataType::Numeric(_) => DataType::Numeric(None),
            DataType::Varchar(_) => DataType::Varchar(None),
            DataType::Char(_) => DataType::Char(None),
            other => *other,
        }
    }

    /// Whether values of this type have equality, ordering and hashing in PostgreSQL
    /// (`json` has none: DISTINCT, GROUP BY, ORDER BY and `=` on it are errors there).
    pub fn is_comparable(&self) -> bool {
        match self {
            DataType::Json => false,
            DataType::Array(t) => t.elem.is_comparable(),
            _ => true,
        }
    }

    /// Resolves a type name as written in SQL (case-insensitive; `pg_catalog.` prefix allowed)
    /// with its modifiers, e.g. `("varchar", &[10])`, `("double precision", &[])`,
    /// `("numeric", &[10, 2])`, `("int4", &[])`, `("character", &[])` (= `char(1)`).
    pub fn from_name(name: &str, modifiers: &[i64]) -> Result<DataType> {
        let lower = name.trim().to_ascii_lowercase();
        let lower = lower.strip_prefix("pg_catalog.").unwrap_or(&lower);
        if let Some(elem) = lower.strip_suffix("[]") {
            return DataType::from_name(elem, modifiers)?.array_type();
        }
        if let Some(elem) = lower.strip_prefix('_')
            && let Ok(DataType::Array(t)) =
                DataType::from_name(elem, modifiers).and_then(|e| e.array_type())
            && t.typname == lower
        {
            return Ok(DataType::Array(t));
        }
        let plain = |ty: DataType| -> Result<DataType> {
            if modifiers.is_empty() {
                Ok(ty)
            } else {
                Err(ValueError::InvalidParameterValue {
                    message: format!("type modifier is not allowed for type \"{}\"", ty.typname()),
                })
            }
        };
        match lower {
            "bool" | "boolean" => plain(DataType::Bool),
            "int2" | "smallint" => plain(DataType::Int2),
            "int4" | "int" | "integer" => plain(DataType::Int4),
            "int8" | "bigint" => plain(DataType::Int8),
            "float4" | "real" => plain(DataType::Float4),
            "float8" | "double precision" => plain(DataType::Float8),
            "float" => match modifiers {
                [] => Ok(DataType::Float8),
                [p] if (1..=24).contains(p) => Ok(DataType::Float4),
                [p] if (25..=53).contains(p) => Ok(DataType::Float8),
                [p] if *p < 1 => Err(invalid("precision for type float must be at least 1 bit")),
                _ => Err(invalid(
                    "precision for type float must be less than 54 bits",
                )),
            },
            "numeric" | "decimal" => numeric_typmod(modifiers).map(DataType::Numeric),
            "text" => plain(DataType::Text),
            "varchar" | "character varying" => {
                length_typmod("varchar", modifiers).map(DataType::Varchar)
            }
            "bpchar" => length_typmod("bpchar", modifiers).map(DataType::Char),
            "char" | "character" => Ok(DataType::Char(Some(
                length_typmod("char", modifiers)?.unwrap_or(1),
            ))),
            "bytea" => plain(DataType::Bytea),
            "date" => plain(DataType::Date),
            "time" | "time without time zone" => plain(DataType::Time),
            "timestamp" | "timestamp without time zone" => plain(DataType::Timestamp),
            "timestamptz" | "timestamp with time zone" => plain(DataType::TimestampTz),
            "interval" => plain(DataType::Interval),
            "uuid" => plain(DataType::Uuid),
            "json" => plain(DataType::Json),
            "jsonb" => plain(DataType::Jsonb),
            _ => Err(ValueError::UndefinedType {
                name: name.trim().to_owned(),
            }),
        }
    }
}

fn invalid(message: &str) -> ValueError {
    ValueError::InvalidParameterValue {
        message: message.to_owned(),
    }
}

fn numeric_typmod(modifiers: &[i64]) -> Result<Option<NumericTypmod>> {
    let (precision, scale) = match modifiers {
        [] => return Ok(None),
        [p] => (*p, 0),
        [p, s] => (*p, *s),
        _ => return Err(invalid("invalid NUMERIC type modifier")),
    };
    if !(1..=i64::from(NUMERIC_MAX_PRECISION)).contains(&precision) {
        return Err(invalid(&format!(
            "NUMERIC precision {precision} must be between 1 and {NUMERIC_MAX_PRECISION}"
        )));
    }
    if !(0..=precision).contains(&scale) {
        // PostgreSQL 15 also allows negative scales; they are not supported here.
        return Err(invalid(&format!(
            "NUMERIC scale {scale} must be between 0 and precision {precision}"
        )));
    }
    Ok(Some(NumericTypmod {
        precision: precision as u32,
        scale: scale as u32,
    }))
}

fn length_typmod(name: &str, modifiers: &[i64]) -> Result<Option<u32>> {
    match modifiers {
        [] => Ok(None),
        [n] if *n < 1 => Err(invalid(&format!(
            "length for type {name} must be at least 1"
        ))),
        [n] if *n > i64::from(MAX_CHAR_LENGTH) => Err(invalid(&format!(
            "length for type {name} cannot exceed {MAX_CHAR_LENGTH}"
        ))),
        [n] => Ok(Some(*n as u32)),
        _ => Err(invalid(&format!("invalid type modifier for type {name}"))),
    }
}

impl fmt::Display for DataType {
    /// PostgreSQL's `format_type` spelling: `integer`, `numeric(10,2)`,
    /// `character varying(3)`, `character(1)`, `bpchar`, `timestamp with time zone`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DataType::Numeric(Some(m)) => write!(f, "numeric({},{})", m.precision, m.scale),
            DataType::Varchar(Some(n)) => write!(f, "character varying({n})"),
            DataType::Char(Some(n)) => write!(f, "character({n})"),
            DataType::Char(None) => f.write_str("bpchar"),
            other => f.write_str(other.sql_name()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_array_constant_is_text_s_array_type() {
        assert_eq!(DataType::TEXT_ARRAY, DataType::Text.array_type().unwrap());
    }

    #[test]
    fn names_and_oids_match_pg_catalog() {
        // SELECT oid, typname, typlen FROM pg_type WHERE typname IN (...) on PostgreSQL 15.
        let expected: [(DataType, u32, &str, i16); 19] = [
            (DataType::Bool, 16, "bool", 1),
            (DataType::Bytea, 17, "bytea", -1),
            (DataType::Int8, 20, "int8", 8),
            (DataType::Int2, 21, "int2", 2),
            (DataType::Int4, 23, "int4", 4),
            (DataType::Text, 25, "text", -1),
            (DataType::Json, 114, "json", -1),
            (DataType::Float4, 700, "float4", 4),
            (DataType::Float8, 701, "float8", 8),
            (DataType::Char(None), 1042, "bpchar", -1),
            (DataType::Varchar(None), 1043, "varchar", -1),
            (DataType::Date, 1082, "date", 4),
            (DataType::Time, 1083, "time", 8),
            (DataType::Timestamp, 1114, "timestamp", 8),
            (DataType::TimestampTz, 1184, "timestamptz", 8),
            (DataType::Interval, 1186, "interval", 16),
            (DataType::Numeric(None), 1700, "numeric", -1),
            (DataType::Uuid, 2950, "uuid", 16),
            (DataType::Jsonb, 3802, "jsonb", -1),
        ];
        for (ty, oid, name, len) in expected {
            assert_eq!(
                (ty.oid(), ty.typname(), ty.typlen()),
                (oid, name, len),
                "{ty:?}"
            );
        }
    }

    #[test]
    fn format_type_spelling() {
        // SELECT format_type('numeric'::regtype, 655366), format_type(1043, 7),
        //        format_type(1042, 5), format_type(1042, -1), format_type(1184, -1);
        // numeric(10,2) | character varying(3) | character(1) | bpchar | timestamp with time zone
        let numeric = DataType::from_name("numeric", &[10, 2]).unwrap();
        assert_eq!(numeric.to_string(), "numeric(10,2)");
        assert_eq!(numeric.typmod(), 655_366);
        let varchar = DataType::from_name("VARCHAR", &[3]).unwrap();
        assert_eq!(
            (varchar.to_string().as_str(), varchar.typmod()),
            ("character varying(3)", 7)
        );
        let ch = DataType::from_name("character", &[]).unwrap();
        assert_eq!((ch.to_string().as_str(), ch.typmod()), ("character(1)", 5));
        assert_eq!(
            DataType::from_name("bpchar", &[]).unwrap().to_string(),
            "bpchar"
        );
        assert_eq!(
            DataType::TimestampTz.to_string(),
            "timestamp with time zone"
        );
        assert_eq!(DataType::Int4.to_string(), "integer");
        assert_eq!(DataType::Float8.typmod(), -1);
    }

    #[test]
    fn from_name_rules() {
        assert_eq!(
            DataType::from_name("pg_catalog.int4", &[]),
            Ok(DataType::Int4)
        );
        assert_eq!(DataType::from_name("float", &[24]), Ok(DataType::Float4));
        // SELECT 'int[]'::regtype::oid, typname, format_type: 1007 | _int4 | integer[]
        let ints = DataType::from_name("int[]", &[]).unwrap();
        assert_eq!(
            (ints.oid(), ints.typname(), ints.sql_name()),
            (1007, "_int4", "integer[]")
        );
        assert_eq!(DataType::from_name("_int4", &[]), Ok(ints));
        assert_eq!(DataType::array_from_oid(1007), Some(ints));
        assert_eq!(ints.element_type(), Some(DataType::Int4));
        assert_eq!(
            DataType::from_name("varchar[]", &[5]).unwrap().typname(),
            "_varchar"
        );
        assert_eq!(ints.array_type().unwrap_err().sqlstate(), "0A000");
        assert_eq!(DataType::from_name("float", &[25]), Ok(DataType::Float8));
        assert_eq!(
            DataType::from_name("decimal", &[5]).unwrap().to_string(),
            "numeric(5,0)"
        );
        let e = DataType::from_name("nosuchtype", &[]).unwrap_err();
        assert_eq!(
            (e.to_string().as_str(), e.sqlstate()),
            ("type \"nosuchtype\" does not exist", "42704")
        );
        // SELECT 1::numeric(1001);
        // ERROR:  NUMERIC precision 1001 must be between 1 and 1000
        let e = DataType::from_name("numeric", &[1001]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "NUMERIC precision 1001 must be between 1 and 1000"
        );
        // SELECT 'a'::varchar(0);  ERROR:  length for type varchar must be at least 1
        let e = DataType::from_name("varchar", &[0]).unwrap_err();
        assert_eq!(e.to_string(), "length for type varchar must be at least 1");
        assert!(DataType::from_name("int4", &[3]).is_err());
        assert!(!DataType::Json.is_comparable());
        assert_eq!(
            DataType::Varchar(Some(3)).without_modifier(),
            DataType::Varchar(None)
        );
    }
}
