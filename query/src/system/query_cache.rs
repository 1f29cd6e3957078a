//! `zq_query_cache`: the state and hit rates of the query result cache
//! ([`crate::result_cache`]), one row.

use zqlite_projections::value::{DataType, Value};

use super::{Namespace, SystemContext, SystemRelation};
use crate::error::Result;
use crate::exec::Row;

pub(super) const RELATIONS: &[SystemRelation] = &[SystemRelation {
    name: "zq_query_cache",
    namespace: Namespace::Zq,
    columns: &[
        ("enabled", DataType::Bool),
        ("capacity_bytes", DataType::Int8),
        ("used_bytes", DataType::Int8),
        ("entries", DataType::Int8),
        ("hits", DataType::Int8),
        ("misses", DataType::Int8),
        ("hit_rate", DataType::Float8),
        ("invalidations", DataType::Int8),
        ("evictions", DataType::Int8),
    ],
    args: &[],
    rows: zq_query_cache,
}];

fn int(n: impl TryInto<i64>) -> Value {
    Value::Int8(n.try_into().unwrap_or(i64::MAX))
}

fn zq_query_cache(ctx: &SystemContext<'_>, _args: &[Value]) -> Result<Vec<Row>> {
    let Some(cache) = ctx.query_cache else {
        return Ok(Vec::new());
    };
    let s = cache.stats();
    let lookups = s.hits + s.misses;
    let hit_rate = if lookups == 0 {
        Value::Null
    } else {
        Value::Float8(s.hits as f64 / lookups as f64)
    };
    Ok(vec![vec![
        Value::Bool(s.capacity_bytes > 0),
        int(s.capacity_bytes),
        int(s.used_bytes),
        int(s.entries),
        int(s.hits),
        int(s.misses),
        hit_rate,
        int(s.invalidations),
        int(s.evictions),
    ]])
}
