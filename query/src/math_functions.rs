//! Numeric operators and functions beyond the arithmetic of the value layer, with
//! PostgreSQL's types and errors: the operators `^`, `|/`, `||/`, `@` and the bitwise
//! integer operators `& | # ~ << >>`, and the functions `div`, `width_bucket`, `scale`,
//! `min_scale`, `trim_scale` and `to_number`.
//!
//! [`resolve_operator`] and [`resolve`] pick the implementation, the type each argument is
//! coerced to and the result type; [`eval`] computes a [`MathFunc`]. Operators that are
//! functions under another name (`^` is `power`, `|/` is `sqrt`) resolve to those.
//!
//! Invariants:
//! - The arguments of a bitwise operator reach [`eval`] as one integer type (the shift
//!   count as `integer`): the binder coerced them to the resolved argument types.

use zqlite_projections::value::{DataType, Numeric, Value};

use crate::error::{Error, Result};
use crate::functions::{Func, float_arg, int_arg, is_string_arg, no_function, numeric_arg};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MathFunc {
    /// `&`
    BitAnd,
    /// `|`
    BitOr,
    /// `#`
    BitXor,
    /// prefix `~`
    BitNot,
    /// `<<`
    ShiftLeft,
    /// `>>`
    ShiftRight,
    /// `div(numeric, numeric)`: the quotient truncated toward zero.
    Div,
    WidthBucket,
    Scale,
    MinScale,
    TrimScale,
    /// `to_number(text, format)`.
    ToNumber,
}

impl MathFunc {
    pub fn name(&self) -> &'static str {
        match self {
            MathFunc::BitAnd => "&",
            MathFunc::BitOr => "|",
            MathFunc::BitXor => "#",
            MathFunc::BitNot => "~",
            MathFunc::ShiftLeft => "<<",
            MathFunc::ShiftRight => ">>",
            MathFunc::Div => "div",
            MathFunc::WidthBucket => "width_bucket",
            MathFunc::Scale => "scale",
            MathFunc::MinScale => "min_scale",
            MathFunc::TrimScale => "trim_scale",
            MathFunc::ToNumber => "to_number",
        }
    }
}

/// A call resolved: the function, the type each argument is coerced to (`None`: as it
/// is), and the result type.
#[derive(Debug)]
pub struct Resolved {
    pub func: Func,
    pub arg_types: Vec<Option<DataType>>,
    pub result: DataType,
}

pub fn is_math_function(name: &str) -> bool {
    matches!(
        name,
        "div" | "width_bucket" | "scale" | "min_scale" | "trim_scale" | "to_number"
    )
}

fn is_integer(t: &DataType) -> bool {
    matches!(t, DataType::Int2 | DataType::Int4 | DataType::Int8)
}

fn is_number(t: &DataType) -> bool {
    is_integer(t)
        || matches!(
            t,
            DataType::Numeric(_) | DataType::Float4 | DataType::Float8
        )
}

fn show(t: Option<DataType>) -> &'static str {
    t.map_or("unknown", |t| t.sql_name())
}

fn no_operator(symbol: &str, args: &[Option<DataType>]) -> Error {
    let message = match args {
        [t] => format!("operator does not exist: {symbol} {}", show(*t)),
        [l, r] => format!(
            "operator does not exist: {} {symbol} {}",
            show(*l),
            show(*r)
        ),
        _ => format!("operator does not exist: {symbol}"),
    };
    Error::bind("42883", message)
}

/// The wider of two integer types: PostgreSQL casts the narrower operand up.
fn wider(a: DataType, b: DataType) -> DataType {
    let rank = |t: DataType| match t {
        DataType::Int2 => 0,
        DataType::Int4 => 1,
        _ => 2,
    };
    if rank(a) >= rank(b) { a } else { b }
}

/// Resolves operator `symbol` on operands of these types (one for a prefix operator;
/// `None`: an unknown literal). Returns `None` for symbols this module does not own.
pub fn resolve_operator(symbol: &str, args: &[Option<DataType>]) -> Option<Result<Resolved>> {
    let number = |t: &Option<DataType>| t.is_none_or(|t| is_number(&t));
    let float8 = Some(DataType::Float8);
    let resolved = |func, arg_types, result| {
        Ok(Resolved {
            func,
            arg_types,
            result,
        })
    };
    Some(match (symbol, args) {
        ("^", [l, r]) if number(l) && number(r) => {
            if [l, r]
                .iter()
                .any(|t| matches!(t, Some(DataType::Numeric(_))))
            {
                Err(Error::unsupported("numeric ^ numeric"))
            } else {
                resolved(Func::Power, vec![float8, float8], DataType::Float8)
            }
        }
        ("|/", [t]) if number(t) => resolved(Func::Sqrt, vec![float8], DataType::Float8),
        ("||/", [t]) if number(t) => resolved(Func::Cbrt, vec![float8], DataType::Float8),
        ("@", [t]) if number(t) => {
            let ty = t.unwrap_or(DataType::Float8).without_modifier();
            resolved(Func::Abs, vec![Some(ty)], ty)
        }
        ("~", [t]) if t.is_none_or(|t| is_integer(&t)) => {
            let ty = t.unwrap_or(DataType::Int4);
            resolved(Func::Math(MathFunc::BitNot), vec![Some(ty)], ty)
        }
        ("&" | "|" | "#", [l, r]) if [l, r].iter().all(|t| t.is_none_or(|t| is_integer(&t))) => {
            let ty = match (l, r) {
                (Some(a), Some(b)) => wider(*a, *b),
                (Some(a), None) | (None, Some(a)) => *a,
                (None, None) => DataType::Int4,
            };
            let func = match symbol {
                "&" => MathFunc::BitAnd,
                "|" => MathFunc::BitOr,
                _ => MathFunc::BitXor,
            };
            resolved(Func::Math(func), vec![Some(ty), Some(ty)], ty)
        }
        ("<<" | ">>", [l, r])
            if l.is_none_or(|t| is_integer(&t)) && r.is_none_or(|t| is_integer(&t)) =>
        {
            let ty = l.unwrap_or(DataType::Int4);
            let func = if symbol == "<<" {
                MathFunc::ShiftLeft
            } else {
                MathFunc::ShiftRight
            };
            resolved(Func::Math(func), vec![Some(ty), Some(DataType::Int4)], ty)
        }
        ("^" | "|/" | "||/" | "@" | "~" | "&" | "|" | "#" | "<<" | ">>", _) => {
            Err(no_operator(symbol, args))
        }
        _ => return None,
    })
}

/// Resolves a call of one of [`is_math_function`]'s names.
pub fn resolve(name: &str, args: &[Option<DataType>]) -> Result<Resolved> {
    let number = |t: &Option<DataType>| t.is_none_or(|t| is_number(&t));
    let numeric = Some(DataType::Numeric(None));
    let int4 = Some(DataType::Int4);
    let func = |f| Func::Math(f);
    let (f, arg_types, result) = match (name, args) {
        ("div", [a, b]) if number(a) && number(b) => (
            func(MathFunc::Div),
            vec![numeric, numeric],
            DataType::Numeric(None),
        ),
        ("width_bucket", [x, lo, hi, n]) if [x, lo, hi].iter().all(|t| number(t)) && number(n) => {
            // width_bucket(double precision, ...) when an operand is a float, else numeric.
            let floats = [x, lo, hi]
                .iter()
                .any(|t| matches!(t, Some(DataType::Float4 | DataType::Float8)));
            let t = if floats {
                Some(DataType::Float8)
            } else {
                numeric
            };
            (
                func(MathFunc::WidthBucket),
                vec![t, t, t, int4],
                DataType::Int4,
            )
        }
        ("scale" | "min_scale", [t]) if number(t) => {
            let f = if name == "scale" {
                MathFunc::Scale
            } else {
                MathFunc::MinScale
            };
            (func(f), vec![numeric], DataType::Int4)
        }
        ("trim_scale", [t]) if number(t) => (
            func(MathFunc::TrimScale),
            vec![numeric],
            DataType::Numeric(None),
        ),
        ("to_number", [a, b]) if [a, b].iter().all(|t| is_string_arg(t)) => (
            func(MathFunc::ToNumber),
            vec![Some(DataType::Text), Some(DataType::Text)],
            DataType::Numeric(None),
        ),
        _ => return Err(no_function(name, args)),
    };
    Ok(Resolved {
        func: f,
        arg_types,
        result,
    })
}

/// `to_number`: reads `input` position by position as `format` describes it. `9` and `0`
/// take a digit, `.` and `D` the decimal point, `,` and `G` a group separator, `S`, `MI`,
/// `PL` and `SG` a sign, `PR` angle brackets around a negative number; a sign is also
/// accepted before the first digit. Other format characters skip one input character.
fn to_number(input: &str, format: &str) -> Result<Numeric> {
    let bad = || {
        runtime(
            "22P02",
            format!("invalid input syntax for type numeric: \"{input}\""),
        )
    };
    let chars: Vec<char> = input.chars().collect();
    let fmt = format.to_ascii_uppercase();
    let fmt: Vec<char> = fmt.chars().collect();
    let mut at = 0;
    let (mut int, mut frac) = (String::new(), String::new());
    let (mut negative, mut in_fraction, mut seen_digit) = (false, false, false);
    let mut i = 0;
    let take_sign = |at: &mut usize, negative: &mut bool| {
        while chars.get(*at) == Some(&' ') {
            *at += 1;
        }
        match chars.get(*at) {
            Some('-') => {
                *negative = true;
                *at += 1;
            }
            Some('+') => *at += 1,
            Some('<') => {
                *negative = true;
                *at += 1;
            }
            _ => {}
        }
    };
    while i < fmt.len() {
        let rest: String = fmt[i..].iter().collect();
        let (token, width) = ["FM", "MI", "PL", "SG", "PR", "TH"]
            .iter()
            .find(|t| rest.starts_with(**t))
            .map_or((fmt[i].to_string(), 1), |t| ((*t).to_string(), 2));
        i += width;
        match token.as_str() {
            "9" | "0" => {
                if !seen_digit {
                    take_sign(&mut at, &mut negative);
                    seen_digit = true;
                }
                if let Some(c) = chars.get(at).filter(|c| c.is_ascii_digit()) {
                    if in_fraction {
                        frac.push(*c);
                    } else {
                        int.push(*c);
                    }
                    at += 1;
                } else if chars.get(at) == Some(&' ') && !in_fraction {
                    at += 1;
                }
            }
            "." | "D" => {
                if chars.get(at) == Some(&'.') {
                    at += 1;
                }
                in_fraction = true;
            }
            "," | "G" => {
                if chars.get(at) == Some(&',') {
                    at += 1;
                }
            }
            "S" | "MI" | "PL" | "SG" => take_sign(&mut at, &mut negative),
            "PR" => {
                if chars.get(at) == Some(&'>') {
                    at += 1;
                }
            }
            "FM" | "TH" => {}
            _ => {
                if at < chars.len() {
                    at += 1;
                }
            }
        }
    }
    if int.is_empty() && frac.is_empty() {
        return Err(bad());
    }
    let text = format!(
        "{}{}{}{}",
        if negative { "-" } else { "" },
        if int.is_empty() { "0" } else { &int },
        if frac.is_empty() { "" } else { "." },
        frac
    );
    Numeric::parse(&text).map_err(|_| bad())
}

fn runtime(sqlstate: &'static str, message: impl Into<String>) -> Error {
    Error::Runtime {
        sqlstate,
        message: message.into(),
    }
}

/// The digits after the decimal point that `n`'s value needs (trailing zeros dropped).
fn min_scale(n: &Numeric) -> u32 {
    let text = n.to_string();
    match text.split_once('.') {
        Some((_, frac)) => frac.trim_end_matches('0').len() as u32,
        None => 0,
    }
}

/// The bucket `x` falls in, of `count` equal buckets over `[lo, hi)` (or `(hi, lo]` when
/// `lo > hi`); 0 and `count + 1` are below and above the range.
fn width_bucket(x: &Numeric, lo: &Numeric, hi: &Numeric, count: i64) -> Result<i64> {
    if count <= 0 {
        return Err(runtime("2201G", "count must be greater than zero"));
    }
    if lo == hi {
        return Err(runtime("2201G", "lower bound cannot equal upper bound"));
    }
    if !(x.is_finite() && lo.is_finite() && hi.is_finite()) {
        return Err(runtime(
            "2201G",
            "operand, lower bound, and upper bound cannot be NaN or infinity",
        ));
    }
    let ascending = lo < hi;
    let (below, above) = if ascending {
        (x < lo, x >= hi)
    } else {
        (x > lo, x <= hi)
    };
    if below {
        return Ok(0);
    }
    if above {
        return count
            .checked_add(1)
            .ok_or_else(|| runtime("22003", "integer out of range"));
    }
    let (offset, width) = if ascending {
        (x.sub(lo)?, hi.sub(lo)?)
    } else {
        (lo.sub(x)?, lo.sub(hi)?)
    };
    let bucket = offset
        .mul(&Numeric::from_i64(count))?
        .div_trunc(&width)?
        .to_integer(i64::MIN, i64::MAX, "integer")?;
    Ok(bucket + 1)
}

fn int_result(ty: &Value, v: i64) -> Result<Value> {
    Ok(match ty {
        Value::Int2(_) => {
            Value::Int2(i16::try_from(v).map_err(|_| runtime("22003", "smallint out of range"))?)
        }
        Value::Int4(_) => {
            Value::Int4(i32::try_from(v).map_err(|_| runtime("22003", "integer out of range"))?)
        }
        _ => Value::Int8(v),
    })
}

/// Shifts `v` (of the type of `like`) by `n` bits as PostgreSQL does on its platforms:
/// the count is taken modulo the type's width, and `>>` keeps the sign.
fn shift(like: &Value, v: i64, n: i64, left: bool) -> Value {
    let n = n as u32;
    match like {
        Value::Int2(_) => {
            // int2 shifts compute in int4 and keep the low 16 bits.
            let x = v as i32;
            let r = if left {
                x.wrapping_shl(n)
            } else {
                x.wrapping_shr(n)
            };
            Value::Int2(r as i16)
        }
        Value::Int4(_) => {
            let x = v as i32;
            Value::Int4(if left {
                x.wrapping_shl(n)
            } else {
                x.wrapping_shr(n)
            })
        }
        _ => Value::Int8(if left {
            v.wrapping_shl(n)
        } else {
            v.wrapping_shr(n)
        }),
    }
}

/// Computes `func` on already evaluated (and coerced) arguments. Every function here is
/// strict.
pub fn eval(func: MathFunc, args: &[Value]) -> Result<Value> {
    use MathFunc as M;
    if args.iter().any(Value::is_null) {
        return Ok(Value::Null);
    }
    Ok(match func {
        M::BitAnd | M::BitOr | M::BitXor => {
            let (a, b) = (int_arg(&args[0])?, int_arg(&args[1])?);
            let r = match func {
                M::BitAnd => a & b,
                M::BitOr => a | b,
                _ => a ^ b,
            };
            int_result(&args[0], r)?
        }
        M::BitNot => int_result(&args[0], !int_arg(&args[0])?)?,
        M::ShiftLeft | M::ShiftRight => shift(
            &args[0],
            int_arg(&args[0])?,
            int_arg(&args[1])?,
            func == M::ShiftLeft,
        ),
        M::ToNumber => Value::Numeric(to_number(
            &crate::functions::text_arg(&args[0]),
            &crate::functions::text_arg(&args[1]),
        )?),
        M::Div => Value::Numeric(numeric_arg(&args[0])?.div_trunc(&numeric_arg(&args[1])?)?),
        M::WidthBucket => {
            let count = int_arg(&args[3])?;
            let bucket = if matches!(args[0], Value::Float8(_)) {
                let [x, lo, hi] = [&args[0], &args[1], &args[2]].map(|v| {
                    float_arg(v).map(|f| {
                        if f.is_finite() {
                            Numeric::from_f64(f)
                        } else {
                            Numeric::nan()
                        }
                    })
                });
                width_bucket(&x?, &lo?, &hi?, count)?
            } else {
                let [x, lo, hi] = [&args[0], &args[1], &args[2]].map(numeric_arg);
                width_bucket(&x?, &lo?, &hi?, count)?
            };
            Value::Int4(
                i32::try_from(bucket).map_err(|_| runtime("22003", "integer out of range"))?,
            )
        }
        M::Scale => match numeric_arg(&args[0])?.scale() {
            Some(s) => Value::Int4(s as i32),
            None => Value::Null,
        },
        M::MinScale => {
            let n = numeric_arg(&args[0])?;
            if n.is_finite() {
                Value::Int4(min_scale(&n) as i32)
            } else {
                Value::Null
            }
        }
        M::TrimScale => {
            let n = numeric_arg(&args[0])?;
            if n.is_finite() {
                Value::Numeric(n.round(min_scale(&n) as i32))
            } else {
                Value::Numeric(n)
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num(s: &str) -> Value {
        Value::Numeric(Numeric::parse(s).unwrap())
    }

    #[test]
    fn bitwise_operators_keep_the_operand_type() {
        let r = |s, l: Option<DataType>, rt: Option<DataType>| {
            resolve_operator(s, &[l, rt]).unwrap().unwrap().result
        };
        assert_eq!(
            r("&", Some(DataType::Int4), Some(DataType::Int8)),
            DataType::Int8
        );
        assert_eq!(
            r("<<", Some(DataType::Int2), Some(DataType::Int8)),
            DataType::Int2
        );
        assert_eq!(r("#", None, None), DataType::Int4);
        assert!(
            resolve_operator("&", &[Some(DataType::Numeric(None)), None])
                .unwrap()
                .is_err()
        );
        assert!(resolve_operator("=", &[None, None]).is_none());
        let i = Value::Int4;
        assert_eq!(eval(MathFunc::BitAnd, &[i(5), i(3)]).unwrap(), i(1));
        assert_eq!(eval(MathFunc::BitOr, &[i(5), i(3)]).unwrap(), i(7));
        assert_eq!(eval(MathFunc::BitXor, &[i(5), i(3)]).unwrap(), i(6));
        assert_eq!(eval(MathFunc::BitNot, &[i(5)]).unwrap(), i(-6));
        assert_eq!(eval(MathFunc::ShiftLeft, &[i(1), i(4)]).unwrap(), i(16));
        assert_eq!(
            eval(MathFunc::ShiftRight, &[i(-256), i(2)]).unwrap(),
            i(-64)
        );
        assert_eq!(eval(MathFunc::ShiftLeft, &[i(1), i(33)]).unwrap(), i(2));
        assert_eq!(
            eval(MathFunc::ShiftLeft, &[Value::Int2(5), i(15)]).unwrap(),
            Value::Int2(-32768)
        );
    }

    #[test]
    fn power_operator_is_double_precision_for_integers() {
        let r = resolve_operator("^", &[Some(DataType::Int4), None])
            .unwrap()
            .unwrap();
        assert_eq!(r.func, Func::Power);
        assert_eq!(r.result, DataType::Float8);
    }

    #[test]
    fn scale_functions() {
        assert_eq!(
            eval(MathFunc::Scale, &[num("1.2300")]).unwrap(),
            Value::Int4(4)
        );
        assert_eq!(
            eval(MathFunc::MinScale, &[num("1.2300")]).unwrap(),
            Value::Int4(2)
        );
        assert_eq!(
            eval(MathFunc::MinScale, &[num("100")]).unwrap(),
            Value::Int4(0)
        );
        assert_eq!(
            eval(MathFunc::TrimScale, &[num("1.2300")])
                .unwrap()
                .to_string(),
            "1.23"
        );
        assert_eq!(
            eval(MathFunc::Div, &[num("-17"), num("5")])
                .unwrap()
                .to_string(),
            "-3"
        );
    }

    #[test]
    fn to_number_reads_by_the_format() {
        let n = |s: &str, f: &str| to_number(s, f).unwrap().to_string();
        assert_eq!(n("12,345.67", "99,999.99"), "12345.67");
        assert_eq!(n("-42", "999"), "-42");
        assert_eq!(n("<42>", "999PR"), "-42");
        assert_eq!(n("  7", "999"), "7");
        assert_eq!(n("1.5-", "9.9S"), "-1.5");
        assert!(to_number("abc", "999").is_err());
    }

    #[test]
    fn width_bucket_edges() {
        let wb = |x: &str, lo: &str, hi: &str, n: i32| {
            eval(
                MathFunc::WidthBucket,
                &[num(x), num(lo), num(hi), Value::Int4(n)],
            )
        };
        assert_eq!(wb("42", "0", "100", 10).unwrap(), Value::Int4(5));
        assert_eq!(wb("-1", "0", "100", 10).unwrap(), Value::Int4(0));
        assert_eq!(wb("100", "0", "100", 10).unwrap(), Value::Int4(11));
        assert_eq!(wb("42", "100", "0", 10).unwrap(), Value::Int4(6));
        assert!(wb("1", "0", "0", 10).is_err());
        assert!(wb("1", "0", "10", 0).is_err());
    }
}
