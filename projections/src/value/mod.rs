//! SQL values with PostgreSQL's semantics: types, text input and output, casts, operators,
//! comparison, hashing and the `sum`/`avg` aggregates. Pure code: no storage, no parser.
//!
//! How the executor uses this layer:
//! 1. The binder maps declared types to [`DataType`] ([`DataType::from_name`]) and resolves
//!    each operator's result type with [`binary_result_type`]/[`unary_result_type`], and
//!    coercions with [`cast_context`].
//! 2. Literals become values with [`parse_value`] (`'...'::type`); column values are
//!    coerced on INSERT/UPDATE with [`cast`] in [`CastContext::Assignment`].
//! 3. Expressions evaluate with [`binary_op`], [`unary_op`], [`and`], [`or`] and [`cast`];
//!    WHERE clauses use [`sql_cmp`] semantics (NULL gives NULL).
//! 4. Sorts, indexes, GROUP BY and DISTINCT use `Ord`/`Hash` on [`Value`] (the total order of
//!    [`cmp_total`]); `sum`/`avg` use [`Accumulator`].
//! 5. Results go to clients as text through `Display`/[`Value::to_text`], with row
//!    descriptions from [`DataType::oid`], [`DataType::typlen`] and [`DataType::typmod`].
//!
//! Every failure is a [`ValueError`] carrying PostgreSQL's SQLSTATE and message. The session
//! settings assumed are PostgreSQL's defaults plus `TimeZone = UTC`: DateStyle ISO,
//! IntervalStyle postgres, `extra_float_digits = 1`, collation "C".

mod aggregate;
mod array;
mod cast;
mod compare;
mod datetime;
pub(crate) mod encoding;
mod error;
mod float;
mod interval;
mod json;
mod numeric;
mod ops;
mod scalar;
mod text;
mod types;
mod zone;

pub use aggregate::{Accumulator, AggregateKind, aggregate_result_type};
pub use array::Array;
pub use cast::{CastContext, apply_typmod, cast, cast_context};
pub use compare::{cmp_total, key_prefix, sql_cmp};
pub use datetime::{
    Date, Time, Timestamp, TimestampTz, civil_from_pg_days, days_in_month, pg_days,
};
pub use error::{Result, ValueError};
pub use float::{format_f32, format_f64, parse_f32, parse_f64};
pub use interval::Interval;
pub use json::{Jsonb, validate_json};
pub use numeric::{NUMERIC_DSCALE_MAX, NUMERIC_MAX_PRECISION, Numeric, select_div_scale};
pub use ops::{
    BinaryOp, UnaryOp, and, binary_op, binary_result_type, or, unary_op, unary_result_type,
};
pub use scalar::Value;
pub use text::{
    parse_bool, parse_bytea, parse_bytea_escape, parse_bytea_hex, parse_int, parse_uuid,
    parse_value,
};
pub use types::{ArrayType, DataType, MAX_CHAR_LENGTH, NumericTypmod, TEXT_ARRAY, TypeCategory};
pub use zone::Zone;
