//! Grouping and aggregate functions.
//!
//! Groups are kept in first-seen order. Without GROUP BY there is exactly one group, even
//! over no rows (so `count(*)` of an empty table is 0). `sum`/`avg` use the value layer's
//! [`Accumulator`]; DISTINCT feeds each distinct non-NULL value once; FILTER skips rows.
//! `array_agg` and `json[b]_agg` keep NULL inputs (and DISTINCT keeps one NULL), as in
//! PostgreSQL; `json[b]_object_agg` rejects a NULL key (22023) and keeps NULL values. An
//! aggregate with its own ORDER BY buffers its inputs with their sort keys and feeds them
//! in that order when the group is finished.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use zqlite_projections::value::{Accumulator, AggregateKind, Array, Jsonb, Value, cmp_total};

use super::{Exec, Row, compare_sort_keys};
use crate::error::Result;
use crate::json_functions::{key_text, to_json_text, to_jsonb};
use crate::plan::{AggCall, AggFunc};

#[derive(Debug)]
enum State {
    Count(i64),
    Sum(Option<Accumulator>, AggregateKind),
    Extreme(Option<Value>),
    StringAgg(Option<String>),
    Bool(Option<bool>),
    Array(Option<Vec<Value>>),
    Pairs(Option<Vec<(Value, Value)>>),
}

/// One input of an aggregate with ORDER BY: its sort keys, value and `string_agg` separator.
type OrderedInput = (Vec<Value>, Value, Option<Value>);

/// The running state of one aggregate call over one group (or window frame).
#[derive(Debug)]
pub(super) struct AggState {
    state: State,
    seen: Option<HashSet<Value>>,
    ordered: Option<Vec<OrderedInput>>,
}

impl AggState {
    pub(super) fn new(call: &AggCall) -> AggState {
        let state = match call.func {
            AggFunc::CountStar | AggFunc::Count => State::Count(0),
            AggFunc::Sum => State::Sum(None, AggregateKind::Sum),
            AggFunc::Avg => State::Sum(None, AggregateKind::Avg),
            AggFunc::Min | AggFunc::Max => State::Extreme(None),
            AggFunc::StringAgg => State::StringAgg(None),
            AggFunc::BoolAnd | AggFunc::BoolOr => State::Bool(None),
            AggFunc::ArrayAgg { .. } | AggFunc::JsonAgg { .. } => State::Array(None),
            AggFunc::JsonObjectAgg { .. } => State::Pairs(None),
        };
        AggState {
            state,
            seen: call.distinct.then(HashSet::new),
            ordered: (!call.order_by.is_empty()).then(Vec::new),
        }
    }

    pub(super) fn add(&mut self, func: AggFunc, v: Value, sep: Option<Value>) -> Result<()> {
        if func == AggFunc::CountStar {
            if let State::Count(n) = &mut self.state {
                *n += 1;
            }
            return Ok(());
        }
        if let State::Pairs(pairs) = &mut self.state {
            if v.is_null() {
                return Err(crate::error::Error::Runtime {
                    sqlstate: "22023",
                    message: "field name must not be null".into(),
                });
            }
            pairs
                .get_or_insert_with(Vec::new)
                .push((v, sep.unwrap_or(Value::Null)));
            return Ok(());
        }
        if v.is_null() && !matches!(func, AggFunc::ArrayAgg { .. } | AggFunc::JsonAgg { .. }) {
            return Ok(());
        }
        if let Some(seen) = &mut self.seen
            && !seen.insert(v.clone())
        {
            return Ok(());
        }
        match &mut self.state {
            State::Count(n) => *n += 1,
            State::Sum(acc, kind) => {
                if acc.is_none() {
                    let ty = v
                        .data_type()
                        .unwrap_or(zqlite_projections::value::DataType::Int4);
                    *acc = Some(Accumulator::new(*kind, &ty)?);
                }
                if let Some(acc) = acc {
                    acc.add(&v)?;
                }
            }
            State::Extreme(best) => {
                let replace = match best {
                    None => true,
                    Some(b) => {
                        let ord = cmp_total(&v, b);
                        if func == AggFunc::Min {
                            ord.is_lt()
                        } else {
                            ord.is_gt()
                        }
                    }
                };
                if replace {
                    *best = Some(v);
                }
            }
            State::StringAgg(acc) => {
                let text = match &v {
                    Value::BpChar(s) => s.trim_end_matches(' ').to_string(),
                    other => other.to_string(),
                };
                match acc {
                    None => *acc = Some(text),
                    Some(s) => {
                        if let Some(sep) = sep.filter(|s| !s.is_null()) {
                            s.push_str(&sep.to_string());
                        }
                        s.push_str(&text);
                    }
                }
            }
            State::Array(items) => items.get_or_insert_with(Vec::new).push(v),
            State::Pairs(_) => {}
            State::Bool(acc) => {
                let b = v.as_bool().unwrap_or(false);
                *acc = Some(match (*acc, func) {
                    (None, _) => b,
                    (Some(a), AggFunc::BoolAnd) => a && b,
                    (Some(a), _) => a || b,
                });
            }
        }
        Ok(())
    }

    /// The aggregate's value over the inputs added so far, leaving the state as it is (a
    /// window frame keeps growing after it). Inputs of an aggregate with ORDER BY are only
    /// fed by [`AggState::finish`].
    pub(super) fn current(&self, call: &AggCall) -> Result<Value> {
        Ok(match &self.state {
            State::Array(Some(items)) => collected(call.func, items.clone())?,
            State::Array(None) | State::Pairs(None) => Value::Null,
            State::Pairs(Some(pairs)) => json_object(call.func, pairs)?,
            State::Count(n) => Value::Int8(*n),
            State::Sum(acc, _) => match acc {
                Some(acc) => acc.finish()?,
                None => Value::Null,
            },
            State::Extreme(v) => v.clone().unwrap_or(Value::Null),
            State::StringAgg(s) => s.clone().map_or(Value::Null, Value::Text),
            State::Bool(b) => b.map_or(Value::Null, Value::Bool),
        })
    }

    fn finish(&mut self, call: &AggCall) -> Result<Value> {
        if let Some(mut inputs) = self.ordered.take() {
            inputs.sort_by(|(a, ..), (b, ..)| compare_sort_keys(&call.order_by, a, b));
            for (_, v, sep) in inputs {
                self.add(call.func, v, sep)?;
            }
        }
        Ok(match &mut self.state {
            State::Count(n) => Value::Int8(*n),
            State::Sum(acc, _) => match acc {
                Some(acc) => acc.finish()?,
                None => Value::Null,
            },
            State::Extreme(v) => v.clone().unwrap_or(Value::Null),
            State::StringAgg(s) => s.clone().map_or(Value::Null, Value::Text),
            State::Bool(b) => b.map_or(Value::Null, Value::Bool),
            State::Array(items) => match items.take() {
                Some(items) => collected(call.func, items)?,
                None => Value::Null,
            },
            State::Pairs(pairs) => match pairs.take() {
                Some(pairs) => json_object(call.func, &pairs)?,
                None => Value::Null,
            },
        })
    }
}

/// The value of `array_agg` / `json[b]_agg` over the collected inputs.
fn collected(func: AggFunc, items: Vec<Value>) -> Result<Value> {
    Ok(match func {
        AggFunc::ArrayAgg { elem } => Value::Array(Arc::new(Array::new(elem, items))),
        AggFunc::JsonAgg { jsonb: true, .. } => Value::Jsonb(Jsonb::Array(
            items.iter().map(to_jsonb).collect::<Result<_>>()?,
        )),
        AggFunc::JsonAgg { jsonb: false, rows } => {
            // PostgreSQL puts a line break before each array or row input after the first.
            let mut out = String::from("[");
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                    if rows || matches!(item, Value::Array(_)) {
                        out.push_str("\n ");
                    }
                }
                out.push_str(&to_json_text(item)?);
            }
            out.push(']');
            Value::Json(out)
        }
        _ => return Err(super::internal("collected inputs of a scalar aggregate")),
    })
}

/// The value of `jsonb_object_agg` (normalised: the last duplicate key wins) or
/// `json_object_agg` (`{ "k" : v, ... }`, pairs as fed).
fn json_object(func: AggFunc, pairs: &[(Value, Value)]) -> Result<Value> {
    if func == (AggFunc::JsonObjectAgg { jsonb: true }) {
        let mut out: Vec<(String, Jsonb)> = Vec::with_capacity(pairs.len());
        for (k, v) in pairs {
            let (k, v) = (key_text(k)?, to_jsonb(v)?);
            match out.iter_mut().find(|(ok, _)| *ok == k) {
                Some(slot) => slot.1 = v,
                None => out.push((k, v)),
            }
        }
        // Re-parsing puts the keys in jsonb's storage order.
        return Ok(Value::Jsonb(Jsonb::parse(&Jsonb::Object(out).to_string())?));
    }
    let parts = pairs
        .iter()
        .map(|(k, v)| {
            Ok(format!(
                "{} : {}",
                Jsonb::String(key_text(k)?),
                to_json_text(v)?
            ))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Value::Json(format!("{{ {} }}", parts.join(", "))))
}

impl Exec<'_> {
    pub(super) fn aggregate(
        &mut self,
        rows: Vec<Row>,
        group_by: &[Expr],
        aggs: &[AggCall],
    ) -> Result<Vec<Row>> {
        let mut index: HashMap<Row, usize> = HashMap::new();
        let mut groups: Vec<(Row, Vec<AggState>)> = Vec::new();
        if group_by.is_empty() {
            groups.push((Vec::new(), aggs.iter().map(AggState::new).collect()));
            index.insert(Vec::new(), 0);
        }
        for row in rows {
            self.tick()?;
            let mut key = Vec::with_capacity(group_by.len());
            for g in group_by {
                key.push(self.eval(g, &row)?);
            }
            let g = match index.get(&key) {
                Some(g) => *g,
                None => {
                    groups.push((key.clone(), aggs.iter().map(AggState::new).collect()));
                    index.insert(key, groups.len() - 1);
                    groups.len() - 1
                }
            };
            for (i, call) in aggs.iter().enumerate() {
                if let Some(f) = &call.filter
                    && !self.test(f, &row)?
                {
                    continue;
                }
                let v = match &call.arg {
                    Some(a) => self.eval(a, &row)?,
                    None => Value::Null,
                };
                let sep = call
                    .extra
                    .as_ref()
                    .map(|e| self.eval(e, &row))
                    .transpose()?;
                let state = &mut groups[g].1[i];
                match &mut state.ordered {
                    Some(inputs) => {
                        let mut keys = Vec::with_capacity(call.order_by.len());
                        for key in &call.order_by {
                            keys.push(self.eval(&key.expr, &row)?);
                        }
                        inputs.push((keys, v, sep));
                    }
                    None => state.add(call.func, v, sep)?,
                }
            }
        }
        let mut out = Vec::with_capacity(groups.len());
        for (key, states) in groups {
            let mut row = key;
            for (mut s, call) in states.into_iter().zip(aggs) {
                row.push(s.finish(call)?);
            }
            out.push(row);
        }
        Ok(out)
    }
}

use crate::expr::Expr;
