//! Array expressions and functions: `ARRAY[...]`, subscripts, `x op ANY|ALL (array)` and the
//! array functions (`array_length`, `cardinality`, `array_to_string`, `array_append`,
//! `array_prepend`, `array_cat`, `array_position(s)`, `array_remove`, `array_replace`,
//! `array_fill`, `trim_array`, `string_to_array`).
//!
//! The binder resolves a call with [`resolve`], which also says which type each argument is
//! coerced to (so `array_position(ints, '3')` compares integers); [`eval`] computes it.
//! Semantics are PostgreSQL's for one-dimensional arrays with lower bound 1: a subscript
//! out of range is NULL; `array_length(a, 1)` of an empty array is NULL; NULL elements are
//! kept by every function and found by `array_position(a, NULL)`.

use std::sync::Arc;

use zqlite_projections::value::{Array, BinaryOp, DataType, Value, binary_op, cmp_total};

use crate::error::{Error, Result};
use crate::functions::no_function;

/// An array operation; the element types it works on are fixed at bind time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ArrayFunc {
    /// `ARRAY[a, b, ...]` of elements of this type.
    Make(DataType),
    /// `a[i]`.
    Subscript,
    /// `a[l:u]`, `a[:u]`, `a[l:]`, `a[:]`: the arguments are the array and the bounds
    /// written.
    Slice {
        lower: bool,
        upper: bool,
    },
    /// `x op ANY (a)`, or `ALL` when `all`.
    Quantified {
        op: BinaryOp,
        all: bool,
    },
    /// `x [NOT] LIKE|ILIKE ANY (a)`.
    LikeAny {
        negated: bool,
        case_insensitive: bool,
    },
    Length,
    Cardinality,
    ToString,
    Append,
    Prepend,
    Cat,
    /// `array_position(a, x [, start])`.
    Position,
    /// `array_positions(a, x)`: every 1-based index of `x`.
    Positions,
    Remove,
    /// `array_replace(a, from, to)`.
    Replace,
    /// `array_fill(value, dims)` (one dimension) of elements of this type.
    Fill(DataType),
    /// `trim_array(a, n)`: without its last `n` elements.
    Trim,
    /// `a[i] = x` as an assignment target (see `update_syntax.rs`): `a` with element `i`
    /// set, extended with NULLs when `i` is past its end; elements of this type.
    Set(DataType),
    /// `string_to_array(text, delimiter [, null_string])`.
    FromString,
    /// `a @> b`: every element of `b` is in `a`.
    Contains,
    /// `a <@ b`.
    ContainedBy,
    /// `a && b`: an element in common.
    Overlap,
}

impl ArrayFunc {
    pub fn name(&self) -> &'static str {
        match self {
            ArrayFunc::Make(_) => "array",
            ArrayFunc::Subscript => "array_subscript",
            ArrayFunc::Slice { .. } => "array_slice",
            ArrayFunc::Quantified { all: false, .. } => "any",
            ArrayFunc::Quantified { all: true, .. } => "all",
            ArrayFunc::LikeAny { .. } => "like any",
            ArrayFunc::Length => "array_length",
            ArrayFunc::Cardinality => "cardinality",
            ArrayFunc::ToString => "array_to_string",
            ArrayFunc::Append => "array_append",
            ArrayFunc::Prepend => "array_prepend",
            ArrayFunc::Cat => "array_cat",
            ArrayFunc::Position => "array_position",
            ArrayFunc::Positions => "array_positions",
            ArrayFunc::Remove => "array_remove",
            ArrayFunc::Replace => "array_replace",
            ArrayFunc::Fill(_) => "array_fill",
            ArrayFunc::Trim => "trim_array",
            ArrayFunc::Set(_) => "array subscript assignment",
            ArrayFunc::FromString => "string_to_array",
            ArrayFunc::Contains => "@>",
            ArrayFunc::ContainedBy => "<@",
            ArrayFunc::Overlap => "&&",
        }
    }

    /// Whether a NULL argument makes the result NULL without evaluating the call.
    pub fn is_strict(&self) -> bool {
        matches!(
            self,
            ArrayFunc::Subscript
                | ArrayFunc::Slice { .. }
                | ArrayFunc::Length
                | ArrayFunc::Cardinality
                | ArrayFunc::Contains
                | ArrayFunc::ContainedBy
                | ArrayFunc::Overlap
                | ArrayFunc::Trim
        )
    }
}

/// A resolved call: the function, the type each argument must be coerced to (`None`: leave
/// it), and the result type.
#[derive(Debug)]
pub struct Resolved {
    pub func: ArrayFunc,
    pub arg_types: Vec<Option<DataType>>,
    pub result: DataType,
}

/// Resolves `a @> b`, `a <@ b`, `a && b` on arrays of the same element type (an unknown
/// operand takes the other's array type).
pub fn resolve_operator(
    op: &str,
    left: Option<DataType>,
    right: Option<DataType>,
) -> Result<Resolved> {
    let ty = match (left, right) {
        (Some(a), Some(b))
            if a.element_type().is_some()
                && a.element_type().map(|e| e.without_modifier())
                    == b.element_type().map(|e| e.without_modifier()) =>
        {
            a
        }
        (Some(a), None) | (None, Some(a)) if a.element_type().is_some() => a,
        _ => {
            let show = |t: Option<DataType>| t.map_or("unknown".into(), |t| t.to_string());
            let (sqlstate, message) = if left.is_none() && right.is_none() {
                (
                    "42725",
                    format!("operator is not unique: unknown {op} unknown"),
                )
            } else {
                (
                    "42883",
                    format!(
                        "operator does not exist: {} {op} {}",
                        show(left),
                        show(right)
                    ),
                )
            };
            return Err(crate::error::Error::bind(sqlstate, message));
        }
    };
    let func = match op {
        "@>" => ArrayFunc::Contains,
        "<@" => ArrayFunc::ContainedBy,
        _ => ArrayFunc::Overlap,
    };
    Ok(Resolved {
        func,
        arg_types: vec![Some(ty), Some(ty)],
        result: DataType::Bool,
    })
}

/// Whether every non-NULL element of `needles` equals an element of `hay` (a NULL in
/// `needles` is never found); with `any`, whether one does.
fn array_match(hay: &Array, needles: &Array, any: bool) -> bool {
    let found = |n: &Value| {
        !n.is_null()
            && hay
                .items()
                .iter()
                .any(|h| !h.is_null() && cmp_total(h, n).is_eq())
    };
    if any {
        needles.items().iter().any(found)
    } else {
        needles.items().iter().all(found)
    }
}

/// Whether `name` is one of this module's functions.
pub fn is_array_function(name: &str) -> bool {
    matches!(
        name,
        "array_length"
            | "cardinality"
            | "array_to_string"
            | "array_append"
            | "array_prepend"
            | "array_cat"
            | "array_position"
            | "array_positions"
            | "array_remove"
            | "array_replace"
            | "array_fill"
            | "trim_array"
            | "string_to_array"
            | crate::update_syntax::ARRAY_SET
    )
}

/// Resolves `name(args)`; an unknown-typed argument next to an array takes its element type.
pub fn resolve(name: &str, args: &[Option<DataType>]) -> Result<Resolved> {
    use ArrayFunc as F;
    use DataType as T;
    let elem_of = |t: Option<DataType>| t.and_then(|t| t.element_type());
    let int = Some(T::Int4);
    let text = Some(T::Text);
    let fail = || no_function(name, args);
    let (func, arg_types, result) = match (name, args) {
        ("array_length", [a, _]) => {
            elem_of(*a).ok_or_else(fail)?;
            (F::Length, vec![None, int], T::Int4)
        }
        ("cardinality", [a]) => {
            elem_of(*a).ok_or_else(fail)?;
            (F::Cardinality, vec![None], T::Int4)
        }
        ("array_to_string", [a, ..]) if (2..=3).contains(&args.len()) => {
            elem_of(*a).ok_or_else(fail)?;
            let mut types = vec![None, text];
            if args.len() == 3 {
                types.push(text);
            }
            (F::ToString, types, T::Text)
        }
        ("array_append" | "array_position" | "array_positions" | "array_remove", [a, _]) => {
            let elem = elem_of(*a).ok_or_else(fail)?;
            let (func, result) = match name {
                "array_append" => (F::Append, a.expect("an array")),
                "array_position" => (F::Position, T::Int4),
                "array_positions" => (F::Positions, T::Int4.array_type()?),
                _ => (F::Remove, a.expect("an array")),
            };
            (func, vec![None, Some(elem)], result)
        }
        ("array_position", [a, _, _]) => {
            let elem = elem_of(*a).ok_or_else(fail)?;
            (F::Position, vec![None, Some(elem), int], T::Int4)
        }
        ("array_replace", [a, _, _]) => {
            let elem = elem_of(*a).ok_or_else(fail)?;
            (
                F::Replace,
                vec![None, Some(elem), Some(elem)],
                a.expect("an array"),
            )
        }
        ("array_fill", [v, d]) => {
            if d.is_some_and(|d| elem_of(Some(d)).is_none()) {
                return Err(fail());
            }
            let Some(elem) = v else {
                return Err(Error::bind(
                    "42804",
                    "could not determine polymorphic type because input has type unknown",
                ));
            };
            let dims = T::Int4.array_type()?;
            (
                F::Fill(elem.without_modifier()),
                vec![None, Some(dims)],
                elem.array_type()?,
            )
        }
        (crate::update_syntax::ARRAY_SET, [a, _, _]) => {
            let elem = elem_of(*a).ok_or_else(|| {
                Error::bind(
                    "42804",
                    format!(
                        "cannot subscript type {} because it does not support subscripting",
                        a.map_or("unknown", |t| t.sql_name())
                    ),
                )
            })?;
            (
                F::Set(elem),
                vec![None, int, Some(elem)],
                a.expect("an array"),
            )
        }
        ("trim_array", [a, _]) => {
            elem_of(*a).ok_or_else(fail)?;
            (F::Trim, vec![None, int], a.expect("an array"))
        }
        ("array_prepend", [_, a]) => {
            let elem = elem_of(*a).ok_or_else(fail)?;
            (F::Prepend, vec![Some(elem), None], a.expect("an array"))
        }
        ("array_cat", [a, b]) => {
            let ty = match (a, b) {
                (Some(x), Some(y)) if x.element_type().is_some() && x == y => *x,
                (Some(x), None) | (None, Some(x)) if x.element_type().is_some() => *x,
                _ => return Err(fail()),
            };
            (F::Cat, vec![Some(ty), Some(ty)], ty)
        }
        ("string_to_array", [_, _, ..]) if args.len() <= 3 => {
            (F::FromString, vec![text; args.len()], T::Text.array_type()?)
        }
        _ => return Err(fail()),
    };
    Ok(Resolved {
        func,
        arg_types,
        result,
    })
}

fn array_arg(v: &Value) -> &Array {
    match v {
        Value::Array(a) => a,
        other => unreachable!("the binder passes arrays here, not {other:?}"),
    }
}

fn int_arg(v: &Value) -> Option<i64> {
    match v {
        Value::Int2(i) => Some(i64::from(*i)),
        Value::Int4(i) => Some(i64::from(*i)),
        Value::Int8(i) => Some(*i),
        _ => None,
    }
}

fn text_arg(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::BpChar(s) => Some(s.trim_end_matches(' ').to_owned()),
        other => Some(other.to_string()),
    }
}

/// PostgreSQL's `MaxArraySize`: the most elements an array may have.
const MAX_ARRAY_ITEMS: i64 = 134_217_727;

fn null_error(message: &str) -> Error {
    Error::Runtime {
        sqlstate: "22004",
        message: message.to_owned(),
    }
}

fn with_items(like: &Array, items: Vec<Value>) -> Value {
    Value::Array(Arc::new(Array::new(like.elem(), items)))
}

/// Evaluates an array function (strict ones already returned NULL for NULL arguments).
pub fn eval(func: ArrayFunc, args: &[Value]) -> Result<Value> {
    use Value as V;
    if func.is_strict() && args.iter().any(Value::is_null) {
        return Ok(V::Null);
    }
    Ok(match func {
        ArrayFunc::Make(elem) => V::Array(Arc::new(Array::new(elem, args.to_vec()))),
        ArrayFunc::Subscript => {
            let a = array_arg(&args[0]);
            match int_arg(&args[1]) {
                Some(i) if i >= 1 && (i as u64) <= a.items().len() as u64 => {
                    a.items()[i as usize - 1].clone()
                }
                _ => V::Null,
            }
        }
        ArrayFunc::Slice { lower, upper } => {
            // Bounds are clamped to the array's; a slice outside it is empty.
            let a = array_arg(&args[0]);
            let len = a.items().len() as i64;
            let mut bounds = args[1..].iter().map(|v| int_arg(v).unwrap_or(0));
            let from = if lower { bounds.next().unwrap_or(1) } else { 1 }.max(1);
            let to = if upper {
                bounds.next().unwrap_or(len)
            } else {
                len
            }
            .min(len);
            let items = if from > to {
                Vec::new()
            } else {
                a.items()[from as usize - 1..to as usize].to_vec()
            };
            with_items(a, items)
        }
        ArrayFunc::Quantified { op, all } => {
            // Three-valued: ANY is true on a match, else NULL if any comparison was NULL.
            // Over no elements ANY is false and ALL true, even for a NULL operand.
            if args[1].is_null() {
                return Ok(V::Null);
            }
            if array_arg(&args[1]).items().is_empty() {
                return Ok(V::Bool(all));
            }
            let mut saw_null = false;
            for item in array_arg(&args[1]).items() {
                match binary_op(op, &args[0], item)? {
                    V::Bool(b) if b != all => return Ok(V::Bool(!all)),
                    V::Null => saw_null = true,
                    _ => {}
                }
            }
            if saw_null { V::Null } else { V::Bool(all) }
        }
        ArrayFunc::LikeAny {
            negated,
            case_insensitive,
        } => {
            // Three-valued like `=` ANY: true on a match, else NULL if a pattern or the
            // operand was NULL; false over no patterns.
            let V::Array(patterns) = &args[1] else {
                return Ok(V::Null);
            };
            if patterns.items().is_empty() {
                return Ok(V::Bool(false));
            }
            let Some(mut x) = text_arg(&args[0]) else {
                return Ok(V::Null);
            };
            if case_insensitive {
                x = x.to_lowercase();
            }
            let mut saw_null = false;
            for p in patterns.items() {
                let Some(mut p) = text_arg(p) else {
                    saw_null = true;
                    continue;
                };
                if case_insensitive {
                    p = p.to_lowercase();
                }
                if crate::exec::like(&x, &p) != negated {
                    return Ok(V::Bool(true));
                }
            }
            if saw_null { V::Null } else { V::Bool(false) }
        }
        ArrayFunc::Length => {
            let a = array_arg(&args[0]);
            match int_arg(&args[1]) {
                Some(1) if !a.items().is_empty() => V::Int4(a.items().len() as i32),
                _ => V::Null,
            }
        }
        ArrayFunc::Contains => {
            V::Bool(array_match(array_arg(&args[0]), array_arg(&args[1]), false))
        }
        ArrayFunc::ContainedBy => {
            V::Bool(array_match(array_arg(&args[1]), array_arg(&args[0]), false))
        }
        ArrayFunc::Overlap => V::Bool(array_match(array_arg(&args[0]), array_arg(&args[1]), true)),
        ArrayFunc::Cardinality => V::Int4(array_arg(&args[0]).items().len() as i32),
        ArrayFunc::ToString => {
            if args[0].is_null() || args[1].is_null() {
                return Ok(V::Null);
            }
            let sep = text_arg(&args[1]).unwrap_or_default();
            let null_as = args.get(2).and_then(text_arg);
            let parts: Vec<String> = array_arg(&args[0])
                .items()
                .iter()
                .filter_map(|v| text_arg(v).or_else(|| null_as.clone()))
                .collect();
            V::Text(parts.join(&sep))
        }
        ArrayFunc::Append | ArrayFunc::Prepend => {
            let (array, item) = if func == ArrayFunc::Append {
                (&args[0], &args[1])
            } else {
                (&args[1], &args[0])
            };
            let V::Array(a) = array else {
                // A NULL array takes the item alone (when its type is known at run time).
                return Ok(item.data_type().map_or(V::Null, |elem| {
                    V::Array(Arc::new(Array::new(elem, vec![item.clone()])))
                }));
            };
            let mut items = Vec::with_capacity(a.items().len() + 1);
            if func == ArrayFunc::Prepend {
                items.push(item.clone());
            }
            items.extend(a.items().iter().cloned());
            if func == ArrayFunc::Append {
                items.push(item.clone());
            }
            with_items(a, items)
        }
        ArrayFunc::Cat => match (&args[0], &args[1]) {
            (V::Null, other) | (other, V::Null) => other.clone(),
            (V::Array(a), V::Array(b)) => {
                with_items(a, a.items().iter().chain(b.items()).cloned().collect())
            }
            _ => unreachable!("array_cat takes arrays"),
        },
        ArrayFunc::Position => {
            let V::Array(a) = &args[0] else {
                return Ok(V::Null);
            };
            // A start before the first element searches from the first.
            let start = match args.get(2) {
                None => 1,
                Some(V::Null) => return Err(null_error("initial position must not be null")),
                Some(v) => int_arg(v).unwrap_or(1).max(1),
            };
            let skip = usize::try_from(start - 1).unwrap_or(usize::MAX);
            let found = a
                .items()
                .iter()
                .enumerate()
                .skip(skip)
                .find(|(_, v)| cmp_total(v, &args[1]).is_eq());
            found.map_or(V::Null, |(i, _)| V::Int4(i as i32 + 1))
        }
        ArrayFunc::Positions => {
            let V::Array(a) = &args[0] else {
                return Ok(V::Null);
            };
            let found = a
                .items()
                .iter()
                .enumerate()
                .filter(|(_, v)| cmp_total(v, &args[1]).is_eq())
                .map(|(i, _)| V::Int4(i as i32 + 1))
                .collect();
            V::Array(Arc::new(Array::new(DataType::Int4, found)))
        }
        ArrayFunc::Replace => {
            let V::Array(a) = &args[0] else {
                return Ok(V::Null);
            };
            let items = a
                .items()
                .iter()
                .map(|v| {
                    if cmp_total(v, &args[1]).is_eq() {
                        args[2].clone()
                    } else {
                        v.clone()
                    }
                })
                .collect();
            with_items(a, items)
        }
        ArrayFunc::Fill(elem) => {
            let V::Array(dims) = &args[1] else {
                return Err(null_error(
                    "dimension array or low bound array cannot be null",
                ));
            };
            let n = match dims.items() {
                [] => 0,
                [V::Null] => return Err(null_error("dimension values cannot be null")),
                [d] => int_arg(d).unwrap_or(0),
                _ => return Err(Error::unsupported("multidimensional arrays")),
            };
            if !(0..=MAX_ARRAY_ITEMS).contains(&n) {
                return Err(Error::Runtime {
                    sqlstate: "54000",
                    message: format!("array size exceeds the maximum allowed ({MAX_ARRAY_ITEMS})"),
                });
            }
            V::Array(Arc::new(Array::new(
                elem,
                vec![args[0].clone(); n as usize],
            )))
        }
        ArrayFunc::Set(elem) => {
            let i = match &args[1] {
                V::Null => {
                    return Err(null_error("array subscript in assignment must not be null"));
                }
                v => int_arg(v).unwrap_or(0),
            };
            let mut items = match &args[0] {
                V::Array(a) => a.items().to_vec(),
                _ => Vec::new(),
            };
            // An element before the first, or past the end of an empty array, would
            // change the array's lower bound.
            if i < 1 || (items.is_empty() && i > 1) {
                return Err(Error::unsupported(
                    "array bounds other than the default lower bound 1",
                ));
            }
            if i > MAX_ARRAY_ITEMS {
                return Err(Error::Runtime {
                    sqlstate: "54000",
                    message: format!("array size exceeds the maximum allowed ({MAX_ARRAY_ITEMS})"),
                });
            }
            let i = i as usize;
            if items.len() < i {
                items.resize(i, V::Null);
            }
            items[i - 1] = args[2].clone();
            V::Array(Arc::new(Array::new(elem, items)))
        }
        ArrayFunc::Trim => {
            let a = array_arg(&args[0]);
            let len = a.items().len();
            match int_arg(&args[1]) {
                Some(n) if n >= 0 && (n as u64) <= len as u64 => {
                    with_items(a, a.items()[..len - n as usize].to_vec())
                }
                _ => {
                    return Err(Error::Runtime {
                        sqlstate: "2202E",
                        message: format!("number of elements to trim must be between 0 and {len}"),
                    });
                }
            }
        }
        ArrayFunc::Remove => {
            let V::Array(a) = &args[0] else {
                return Ok(V::Null);
            };
            let items = a
                .items()
                .iter()
                .filter(|v| !cmp_total(v, &args[1]).is_eq())
                .cloned()
                .collect();
            with_items(a, items)
        }
        ArrayFunc::FromString => {
            let Some(input) = text_arg(&args[0]) else {
                return Ok(V::Null);
            };
            let null_as = args.get(2).and_then(text_arg);
            let parts: Vec<String> = match text_arg(&args[1]) {
                // A NULL delimiter splits into characters.
                None => input.chars().map(String::from).collect(),
                Some(_) if input.is_empty() => Vec::new(),
                Some(d) if d.is_empty() => vec![input],
                Some(d) => input.split(d.as_str()).map(str::to_owned).collect(),
            };
            let items = parts
                .into_iter()
                .map(|p| {
                    if null_as.as_deref() == Some(p.as_str()) {
                        V::Null
                    } else {
                        V::Text(p)
                    }
                })
                .collect();
            V::Array(Arc::new(Array::new(DataType::Text, items)))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use zqlite_projections::value::parse_value;

    fn arr(text: &str, elem: DataType) -> Value {
        parse_value(text, &elem.array_type().unwrap()).unwrap()
    }

    #[test]
    fn containment_matches_postgres() {
        let a = |text: &str| arr(text, DataType::Int4);
        let run = |f, x: &str, y: &str| eval(f, &[a(x), a(y)]).unwrap();
        // SELECT '{1,2,3}'::int[] @> '{3,1}', '{1,2}'::int[] @> '{1,4}', '{1,NULL}'::int[] @>
        //   '{NULL}', '{1}'::int[] && '{NULL}', '{1}'::int[] @> '{}', '{}'::int[] <@ '{1}';
        // t | f | f | f | t | t
        assert_eq!(
            run(ArrayFunc::Contains, "{1,2,3}", "{3,1}"),
            Value::Bool(true)
        );
        assert_eq!(
            run(ArrayFunc::Contains, "{1,2}", "{1,4}"),
            Value::Bool(false)
        );
        assert_eq!(
            run(ArrayFunc::Contains, "{1,NULL}", "{NULL}"),
            Value::Bool(false)
        );
        assert_eq!(run(ArrayFunc::Overlap, "{1}", "{NULL}"), Value::Bool(false));
        assert_eq!(run(ArrayFunc::Contains, "{1}", "{}"), Value::Bool(true));
        assert_eq!(run(ArrayFunc::ContainedBy, "{}", "{1}"), Value::Bool(true));
        assert_eq!(run(ArrayFunc::Overlap, "{1,2}", "{3,2}"), Value::Bool(true));
        let e = resolve_operator(
            "@>",
            Some(DataType::Int4.array_type().unwrap()),
            Some(DataType::Int8.array_type().unwrap()),
        )
        .unwrap_err();
        assert_eq!(e.sqlstate(), "42883");
        let e = resolve_operator("&&", None, None).unwrap_err();
        assert_eq!(e.sqlstate(), "42725");
    }

    #[test]
    fn functions_match_postgres() {
        use DataType as T;
        let a = arr("{1,NULL,3,1}", T::Int4);
        // SELECT ('{1,NULL,3,1}'::int[])[3], (...)[0], (...)[5];  3 | NULL | NULL
        assert_eq!(
            eval(ArrayFunc::Subscript, &[a.clone(), V(3)]).unwrap(),
            V(3)
        );
        assert!(
            eval(ArrayFunc::Subscript, &[a.clone(), V(0)])
                .unwrap()
                .is_null()
        );
        assert!(
            eval(ArrayFunc::Subscript, &[a.clone(), V(5)])
                .unwrap()
                .is_null()
        );
        // SELECT array_length('{}'::int[], 1), cardinality('{}'::int[]);  NULL | 0
        let empty = arr("{}", T::Int4);
        assert!(
            eval(ArrayFunc::Length, &[empty.clone(), V(1)])
                .unwrap()
                .is_null()
        );
        assert_eq!(eval(ArrayFunc::Cardinality, &[empty]).unwrap(), V(0));
        // SELECT array_to_string('{1,NULL,3,1}'::int[], ',', '*');  1,*,3,1
        let s = |args: &[Value]| eval(ArrayFunc::ToString, args).unwrap().to_string();
        assert_eq!(s(&[a.clone(), "-".into()]), "1-3-1");
        assert_eq!(s(&[a.clone(), ",".into(), "*".into()]), "1,*,3,1");
        // SELECT array_position('{1,NULL,3,1}'::int[], NULL), array_remove(..., 1);  2 | {NULL,3}
        assert_eq!(
            eval(ArrayFunc::Position, &[a.clone(), Value::Null]).unwrap(),
            V(2)
        );
        assert_eq!(
            eval(ArrayFunc::Remove, &[a.clone(), V(1)])
                .unwrap()
                .to_string(),
            "{NULL,3}"
        );
        // SELECT array_append(NULL::int[], 1), array_cat('{1}'::int[], '{2,3}');  {1} | {1,2,3}
        let null_array = Value::Null;
        assert_eq!(
            eval(ArrayFunc::Append, &[null_array, V(1)])
                .unwrap()
                .to_string(),
            "{1}"
        );
        assert_eq!(
            eval(
                ArrayFunc::Cat,
                &[arr("{1}", T::Int4), arr("{2,3}", T::Int4)]
            )
            .unwrap()
            .to_string(),
            "{1,2,3}"
        );
        // SELECT string_to_array('a,b,,c', ',', '');  {a,b,NULL,c}
        assert_eq!(
            eval(
                ArrayFunc::FromString,
                &["a,b,,c".into(), ",".into(), "".into()]
            )
            .unwrap()
            .to_string(),
            "{a,b,NULL,c}"
        );
        // SELECT 2 = ANY('{1,NULL,3}'::int[]), 3 = ANY(...), 1 <> ALL('{2,3}');  NULL | t | t
        let q = |op, all, x: i32, a: &Value| {
            eval(ArrayFunc::Quantified { op, all }, &[V(x), a.clone()]).unwrap()
        };
        let b = arr("{1,NULL,3}", T::Int4);
        assert!(q(BinaryOp::Eq, false, 2, &b).is_null());
        assert_eq!(q(BinaryOp::Eq, false, 3, &b), Value::Bool(true));
        assert_eq!(
            q(BinaryOp::NotEq, true, 1, &arr("{2,3}", T::Int4)),
            Value::Bool(true)
        );
        assert_eq!(
            q(BinaryOp::NotEq, true, 1, &arr("{1,3}", T::Int4)),
            Value::Bool(false)
        );
    }

    #[allow(non_snake_case)]
    fn V(i: i32) -> Value {
        Value::Int4(i)
    }
}
