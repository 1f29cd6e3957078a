//! `real` and `double precision`: text input and output, checked arithmetic, total order.
//!
//! Owns PostgreSQL's float semantics:
//! - input (`float4in`/`float8in`): surrounding whitespace, `NaN`, `Infinity`, `inf` in any
//!   case; a finite literal that overflows to infinity or underflows to zero is an error
//!   (subnormal results are fine);
//! - output with `extra_float_digits = 1` (the default since PostgreSQL 12): the shortest
//!   digits that read back to the same value, printed like `%g` — exponent form when the
//!   decimal exponent is `< -4` or `>= 15` (`>= 6` for `real`), with a signed exponent of at
//!   least two digits (`1e+15`, `1e-05`); `-0`, `NaN`, `Infinity`, `-Infinity`. Like
//!   PostgreSQL's Ryu, a candidate exactly halfway to a neighbouring value does not count as
//!   reading back (`2.0155806209120442e+17`, not `2.015580620912044e+17`);
//! - arithmetic raises `value out of range: overflow/underflow` when a finite computation
//!   leaves the range, and `division by zero` for `x / 0`;
//! - ordering: `NaN` equals `NaN` and is above every other value; `-0 = 0`.

use std::cmp::Ordering;

use super::error::{Result, ValueError};
use super::numeric::{Numeric, is_pg_space};

/// Parses `double precision` text as `float8in` does.
pub fn parse_f64(input: &str) -> Result<f64> {
    parse_float(
        input,
        "double precision",
        |s| s.parse::<f64>().ok(),
        f64::is_infinite,
        |v| v == 0.0,
    )
}

/// Parses `real` text as `float4in` does.
pub fn parse_f32(input: &str) -> Result<f32> {
    parse_float(
        input,
        "real",
        |s| s.parse::<f32>().ok(),
        f32::is_infinite,
        |v| v == 0.0,
    )
}

fn parse_float<T: Copy>(
    input: &str,
    type_name: &'static str,
    parse: impl Fn(&str) -> Option<T>,
    is_inf: impl Fn(T) -> bool,
    is_zero: impl Fn(T) -> bool,
) -> Result<T> {
    let s = input.trim_matches(is_pg_space);
    let lower = s.to_ascii_lowercase();
    let unsigned = lower.strip_prefix(['+', '-']).unwrap_or(&lower);
    let special = matches!(unsigned, "inf" | "infinity" | "nan");
    // Rust also accepts "infinity"/"nan" spelled in any case, matching PostgreSQL; restrict
    // the remaining syntax to decimal literals, as strtod (minus hex floats) does.
    let decimal = !unsigned.is_empty()
        && unsigned
            .bytes()
            .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'+' | b'-'));
    if !special && !decimal {
        return Err(ValueError::syntax(type_name, input));
    }
    let v = parse(&lower).ok_or_else(|| ValueError::syntax(type_name, input))?;
    if !special {
        let mantissa = unsigned.split('e').next().unwrap_or("");
        let nonzero = mantissa.bytes().any(|c| (b'1'..=b'9').contains(&c));
        if is_inf(v) || (is_zero(v) && nonzero) {
            return Err(ValueError::FloatInputOutOfRange {
                type_name,
                input: input.to_owned(),
            });
        }
    }
    Ok(v)
}

/// `float8out`: shortest round-trip digits, exponent form for exponents `< -4` or `>= 15`.
pub fn format_f64(v: f64) -> String {
    if v.is_nan() {
        return "NaN".to_owned();
    }
    if v.is_infinite() {
        return if v < 0.0 { "-Infinity" } else { "Infinity" }.to_owned();
    }
    let sci = break_ties_to_even(format!("{v:e}"), v.abs(), |c| {
        c.parse::<f64>().ok() == Some(v.abs())
    });
    let sci = if v.abs() >= 9_007_199_254_740_992.0 {
        // |v| >= 2^53: the only range where a shortest candidate can fall exactly halfway
        // between two doubles (see `exclude_halfway`).
        let up = if v.abs() == f64::MAX {
            v.abs() - v.abs().next_down()
        } else {
            v.abs().next_up() - v.abs()
        };
        let down = v.abs() - v.abs().next_down();
        exclude_halfway(&sci, v.abs(), up, down, 17, |c| {
            c.parse::<f64>().ok() == Some(v.abs())
        })
    } else {
        sci
    };
    format_shortest(&sci, 15)
}

/// `float4out`: like [`format_f64`] with the exponent threshold at 6.
pub fn format_f32(v: f32) -> String {
    if v.is_nan() {
        return "NaN".to_owned();
    }
    if v.is_infinite() {
        return if v < 0.0 { "-Infinity" } else { "Infinity" }.to_owned();
    }
    let sci = break_ties_to_even(format!("{v:e}"), f64::from(v.abs()), |c| {
        c.parse::<f32>().ok() == Some(v.abs())
    });
    let sci = if v.abs() >= 16_777_216.0 {
        // |v| >= 2^24: see `format_f64`.
        let a = v.abs();
        let up = if a == f32::MAX {
            a - a.next_down()
        } else {
            a.next_up() - a
        };
        let down = a - a.next_down();
        exclude_halfway(&sci, f64::from(a), f64::from(up), f64::from(down), 9, |c| {
            c.parse::<f32>().ok() == Some(a)
        })
    } else {
        sci
    };
    format_shortest(&sci, 6)
}

/// When the exact value of `v` (positive) lies exactly halfway between the two closest
/// shortest candidates (`736349901470302.25` between `…302.2` and `…302.3`), PostgreSQL's
/// Ryu picks the one with an even last digit; Rust's formatter may pick the other.
fn break_ties_to_even(sci: String, v: f64, reads_back: impl Fn(&str) -> bool) -> String {
    let (sign, abs) = match sci.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", sci.as_str()),
    };
    let n = abs
        .split('e')
        .next()
        .unwrap_or("")
        .chars()
        .filter(char::is_ascii_digit)
        .count();
    if v == 0.0 {
        return sci;
    }
    let digits_of = |s: &str| -> (Vec<u8>, i32) {
        let (m, e) = s.split_once('e').expect("`{:e}` output");
        (
            m.bytes().filter(u8::is_ascii_digit).collect(),
            e.parse().expect("`{:e}` exponent"),
        )
    };
    // A tie needs the exact expansion to stop right after a 5 in position n + 1. Look at a
    // longer rounding first (cheap), then confirm with the exact expansion (at most 767
    // significant digits for a double).
    let (longer, exp) = digits_of(&format!("{:.*e}", n + 20, v));
    if longer[n] != b'5' || longer[n + 1..].iter().any(|&d| d != b'0') {
        return sci;
    }
    let (exact, _) = digits_of(&format!("{:.800e}", v));
    if exact[n + 1..].iter().any(|&d| d != b'0') {
        return sci;
    }
    let mut chosen = longer[..n].to_vec();
    let mut exp = exp;
    if (chosen[n - 1] - b'0') % 2 == 1 {
        // Round the odd candidate up to its even neighbour, carrying as needed.
        let mut i = n;
        loop {
            if i == 0 {
                chosen.insert(0, b'1');
                chosen.pop();
                exp += 1;
                break;
            }
            i -= 1;
            if chosen[i] == b'9' {
                chosen[i] = b'0';
            } else {
                chosen[i] += 1;
                break;
            }
        }
    }
    while chosen.len() > 1 && chosen.last() == Some(&b'0') {
        chosen.pop();
    }
    let (first, rest) = chosen.split_at(1);
    let point = if rest.is_empty() {
        String::new()
    } else {
        format!(".{}", String::from_utf8_lossy(rest))
    };
    let candidate = format!("{}{point}e{exp}", first[0] as char);
    if reads_back(&candidate) {
        format!("{sign}{candidate}")
    } else {
        sci
    }
}

/// Rust's shortest output (`{:e}`) may be a decimal lying exactly halfway between `v` and a
/// neighbour, which reads back as `v` only through ties-to-even. PostgreSQL's Ryu excludes
/// the interval's end points, so there it prints the shortest correctly rounded form that
/// lies strictly inside. `v` (an integer here, being at least 2^24 or 2^53) is positive; `up`
/// and `down` are the distances to its neighbours; `reads_back` checks a candidate.
fn exclude_halfway(
    sci: &str,
    v: f64,
    up: f64,
    down: f64,
    max_digits: usize,
    reads_back: impl Fn(&str) -> bool,
) -> String {
    let (sign, abs) = match sci.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", sci),
    };
    let digits = abs
        .split('e')
        .next()
        .unwrap_or("")
        .chars()
        .filter(char::is_ascii_digit)
        .count();
    // Halfway points are v ± spacing/2, compared exactly as 2·candidate = 2·v ± spacing.
    let exact = |x: f64| Numeric::parse(&format!("{x:.0}")).expect("an integer's digits");
    let two = Numeric::from_i64(2);
    let v2 = exact(v).mul(&two).expect("in range");
    let halfway = |candidate: &str| {
        let c2 = Numeric::parse(candidate)
            .expect("`{:e}` output")
            .mul(&two)
            .expect("in range");
        Some(&c2) == v2.add(&exact(up)).ok().as_ref()
            || Some(&c2) == v2.sub(&exact(down)).ok().as_ref()
    };
    if !halfway(abs) {
        return sci.to_owned();
    }
    for n in digits + 1..max_digits {
        let candidate = format!("{:.*e}", n - 1, v);
        if reads_back(&candidate) && !halfway(&candidate) {
            let (mantissa, exp) = candidate.split_once('e').expect("`{:e}` output");
            let mantissa = mantissa.trim_end_matches('0').trim_end_matches('.');
            return format!("{sign}{mantissa}e{exp}");
        }
    }
    format!("{sign}{:.*e}", max_digits - 1, v)
}

/// Re-lays Rust's shortest `{:e}` output (`-1.25e-7`) in PostgreSQL's `%g`-like form.
fn format_shortest(sci: &str, max_fixed_exp: i32) -> String {
    let (mantissa, exp) = sci.split_once('e').expect("`{:e}` output has an exponent");
    let exp: i32 = exp.parse().expect("`{:e}` exponent is an integer");
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    if exp < -4 || exp >= max_fixed_exp {
        let (first, rest) = digits.split_at(1);
        let point = if rest.is_empty() {
            String::new()
        } else {
            format!(".{rest}")
        };
        let exp_sign = if exp < 0 { '-' } else { '+' };
        return format!("{sign}{first}{point}e{exp_sign}{:02}", exp.unsigned_abs());
    }
    let body = if exp < 0 {
        format!("0.{}{digits}", "0".repeat((-exp - 1) as usize))
    } else {
        let int_len = exp as usize + 1;
        if digits.len() <= int_len {
            format!("{digits}{}", "0".repeat(int_len - digits.len()))
        } else {
            format!("{}.{}", &digits[..int_len], &digits[int_len..])
        }
    };
    format!("{sign}{body}")
}

/// The float-to-integer cast: round half to even (`rint`), then range-check.
pub fn f64_to_int(v: f64, min: i64, max: i64, type_error: &'static str) -> Result<i64> {
    let r = v.round_ties_even();
    // `max + 1` is a power of two for every integer type, so the comparison is exact.
    if r.is_nan() || r < min as f64 || r >= (max as f64) + 1.0 {
        return Err(ValueError::out_of_range(type_error));
    }
    Ok(r as i64)
}

/// Narrows a double to `real`, failing like `float8_float4` on overflow and underflow.
pub fn f64_to_f32(v: f64) -> Result<f32> {
    let r = v as f32;
    if r.is_infinite() && !v.is_infinite() {
        return Err(ValueError::out_of_range("value out of range: overflow"));
    }
    if r == 0.0 && v != 0.0 {
        return Err(ValueError::out_of_range("value out of range: underflow"));
    }
    Ok(r)
}

/// A binary float operator, generic over `f32`/`f64`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FloatOp {
    Add,
    Sub,
    Mul,
    Div,
}

macro_rules! checked_float_op {
    ($name:ident, $t:ty) => {
        /// Applies `op` with PostgreSQL's overflow, underflow and zero-divisor checks.
        pub(crate) fn $name(op: FloatOp, a: $t, b: $t) -> Result<$t> {
            let r = match op {
                FloatOp::Add => a + b,
                FloatOp::Sub => a - b,
                FloatOp::Mul => a * b,
                FloatOp::Div => {
                    if b == 0.0 && !a.is_nan() {
                        return Err(ValueError::DivisionByZero);
                    }
                    a / b
                }
            };
            let finite_inputs = match op {
                FloatOp::Div => !a.is_infinite(),
                _ => !a.is_infinite() && !b.is_infinite(),
            };
            if r.is_infinite() && finite_inputs {
                return Err(ValueError::out_of_range("value out of range: overflow"));
            }
            let underflow = match op {
                FloatOp::Mul => r == 0.0 && a != 0.0 && b != 0.0,
                FloatOp::Div => r == 0.0 && a != 0.0 && !b.is_infinite(),
                _ => false,
            };
            if underflow {
                return Err(ValueError::out_of_range("value out of range: underflow"));
            }
            Ok(r)
        }
    };
}

checked_float_op!(checked_f64, f64);
checked_float_op!(checked_f32, f32);

/// PostgreSQL's float order: NaN = NaN, NaN above everything, `-0 = 0`.
pub fn cmp_f64(a: f64, b: f64) -> Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        (false, false) => a.partial_cmp(&b).expect("neither is NaN"),
    }
}

/// A hash key for a float consistent with [`cmp_f64`]: `-0` and `0` agree, all NaNs agree.
/// `f32` values hash through `f64` so a `real` and an equal `double` agree too.
pub fn f64_hash_bits(v: f64) -> u64 {
    if v.is_nan() {
        f64::NAN.to_bits()
    } else if v == 0.0 {
        0
    } else {
        v.to_bits()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn double_output_matches_postgres() {
        // SELECT 1e15::float8, 1e14::float8, 123456789012345.6::float8, 0.0001::float8,
        //        0.00001::float8, 1e100::float8, 'NaN'::float8, '-0'::float8, 0.1::float8,
        //        1.2345678901234567e+20::float8;
        // 1e+15 | 100000000000000 | 123456789012345.6 | 0.0001 | 1e-05 | 1e+100 | NaN | -0 |
        // 0.1 | 1.2345678901234567e+20
        let cases = [
            (1e15, "1e+15"),
            (1e14, "100000000000000"),
            (123456789012345.6, "123456789012345.6"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1e100, "1e+100"),
            (f64::NAN, "NaN"),
            (-0.0, "-0"),
            (0.1, "0.1"),
            (1.2345678901234567e20, "1.2345678901234567e+20"),
            // SELECT 999999999999999::float8, -1.5e-5::float8, 'inf'::float8, 1e-320::float8;
            // 999999999999999 | -1.5e-05 | Infinity | 1e-320
            (999999999999999.0, "999999999999999"),
            (-1.5e-5, "-1.5e-05"),
            (f64::INFINITY, "Infinity"),
            (1e-320, "1e-320"),
            (1.5e-7, "1.5e-07"),
            (0.0, "0"),
            (-40.0, "-40"),
            // SELECT '2.015580620912044e17'::float8, '2.306463098602868e17'::float8,
            //        '1.0263566927408303e18'::float8 + '1.786843679372057e13'::float8;
            // 2.0155806209120442e+17 | 2.3064630986028678e+17 | 1.0263745611776241e+18
            (2.015580620912044e17, "2.0155806209120442e+17"),
            (2.306463098602868e17, "2.3064630986028678e+17"),
            (
                1.0263566927408303e18 + 1.786843679372057e13,
                "1.0263745611776241e+18",
            ),
            (9007199254740993.0, "9.007199254740992e+15"),
            // SELECT '-7.363498825309845e14'::float8 - '1.8939317714285713e7'::float8;
            // -736349901470302.2  (exactly …302.25: the tie goes to the even digit)
            (
                -7.363498825309845e14 - 1.8939317714285713e7,
                "-736349901470302.2",
            ),
            // SELECT '2.6394336604990763e14'::float8;  263943366049907.62
            (2.6394336604990763e14, "263943366049907.62"),
            (f64::MAX, "1.7976931348623157e+308"),
        ];
        for (v, want) in cases {
            assert_eq!(format_f64(v), want);
        }
    }

    #[test]
    fn real_output_matches_postgres() {
        // SELECT 1e6::float4, 100000::float4, 123456.7::float4, 0.0001::float4,
        //        0.00001::float4, 1e-40::float4, 3.4e38::float4, 1234567::float4,
        //        '-Infinity'::float4;
        // 1e+06 | 100000 | 123456.7 | 0.0001 | 1e-05 | 1e-40 | 3.4e+38 | 1.234567e+06 | -Infinity
        let cases = [
            (1e6f32, "1e+06"),
            (100000.0, "100000"),
            (123456.7, "123456.7"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1e-40, "1e-40"),
            (3.4e38, "3.4e+38"),
            (1234567.0, "1.234567e+06"),
            (f32::NEG_INFINITY, "-Infinity"),
            (0.1, "0.1"),
        ];
        for (v, want) in cases {
            assert_eq!(format_f32(v), want);
        }
    }

    #[test]
    fn input_rules() {
        // SELECT ' 12 '::float8, 'inf'::float8, '-Infinity'::float4;  12 | Infinity | -Infinity
        assert_eq!(parse_f64(" 12 "), Ok(12.0));
        assert_eq!(parse_f64("inf"), Ok(f64::INFINITY));
        assert_eq!(parse_f64("-INFINITY"), Ok(f64::NEG_INFINITY));
        assert!(parse_f64("nan").unwrap().is_nan());
        // SELECT '-nan'::float8;  NaN  (glibc's strtod takes a signed NaN)
        assert!(parse_f64("-nan").unwrap().is_nan());
        assert_eq!(parse_f64(".5"), Ok(0.5));
        assert_eq!(parse_f64("1e-320"), Ok(1e-320));
        // SELECT '1e-400'::float8;
        // ERROR:  "1e-400" is out of range for type double precision
        let e = parse_f64("1e-400").unwrap_err();
        assert_eq!(
            e.to_string(),
            "\"1e-400\" is out of range for type double precision"
        );
        assert_eq!(e.sqlstate(), "22003");
        // SELECT '1e39'::float4;  ERROR:  "1e39" is out of range for type real
        assert_eq!(
            parse_f32("1e39").unwrap_err().to_string(),
            "\"1e39\" is out of range for type real"
        );
        assert_eq!(parse_f64("0e-500"), Ok(0.0));
        for bad in ["", "abc", "1.5x", "0x10", "1_0", "- 1"] {
            let e = parse_f64(bad).unwrap_err();
            assert_eq!(e.sqlstate(), "22P02", "{bad}");
        }
        assert_eq!(
            parse_f64("abc").unwrap_err().to_string(),
            "invalid input syntax for type double precision: \"abc\""
        );
    }

    #[test]
    fn conversions() {
        // SELECT 2.5::float8::int, 3.5::float8::int, (-2.5)::float8::int;  2 | 4 | -2
        let i4 = |v| f64_to_int(v, i32::MIN.into(), i32::MAX.into(), "integer out of range");
        assert_eq!(i4(2.5), Ok(2));
        assert_eq!(i4(3.5), Ok(4));
        assert_eq!(i4(-2.5), Ok(-2));
        assert_eq!(i4(2147483647.4), Ok(2147483647));
        assert_eq!(
            i4(2147483647.5).unwrap_err().to_string(),
            "integer out of range"
        );
        assert!(i4(f64::NAN).is_err());
        let i8 = |v| f64_to_int(v, i64::MIN, i64::MAX, "bigint out of range");
        assert_eq!(i8(-9223372036854775808.0), Ok(i64::MIN));
        assert!(i8(9223372036854775808.0).is_err());
        // SELECT 1e39::float8::float4;  ERROR:  value out of range: overflow
        // SELECT 1e-50::float8::float4;  ERROR:  value out of range: underflow
        assert_eq!(
            f64_to_f32(1e39).unwrap_err().to_string(),
            "value out of range: overflow"
        );
        assert_eq!(
            f64_to_f32(1e-50).unwrap_err().to_string(),
            "value out of range: underflow"
        );
        assert_eq!(f64_to_f32(f64::INFINITY), Ok(f32::INFINITY));
    }

    #[test]
    fn checked_arithmetic() {
        // SELECT 1e308::float8 * 10;  ERROR:  value out of range: overflow
        assert_eq!(
            checked_f64(FloatOp::Mul, 1e308, 10.0)
                .unwrap_err()
                .to_string(),
            "value out of range: overflow"
        );
        // SELECT 1e-308::float8 * 1e-308;  ERROR:  value out of range: underflow
        assert_eq!(
            checked_f64(FloatOp::Mul, 1e-308, 1e-308)
                .unwrap_err()
                .to_string(),
            "value out of range: underflow"
        );
        // SELECT 1::float8 / 0;  ERROR:  division by zero
        assert_eq!(
            checked_f64(FloatOp::Div, 1.0, 0.0),
            Err(ValueError::DivisionByZero)
        );
        // SELECT 'inf'::float8 + 1, 'nan'::float8 / 0;  Infinity | NaN
        assert_eq!(
            checked_f64(FloatOp::Add, f64::INFINITY, 1.0),
            Ok(f64::INFINITY)
        );
        assert!(checked_f64(FloatOp::Div, f64::NAN, 0.0).unwrap().is_nan());
        assert_eq!(checked_f32(FloatOp::Add, 1.5, 2.25), Ok(3.75));
    }

    #[test]
    fn order_and_hash() {
        assert_eq!(cmp_f64(f64::NAN, f64::INFINITY), Ordering::Greater);
        assert_eq!(cmp_f64(f64::NAN, f64::NAN), Ordering::Equal);
        assert_eq!(cmp_f64(-0.0, 0.0), Ordering::Equal);
        assert_eq!(f64_hash_bits(-0.0), f64_hash_bits(0.0));
        assert_eq!(f64_hash_bits(f64::NAN), f64_hash_bits(-f64::NAN));
    }

    proptest! {
        #[test]
        fn f64_text_round_trips(bits in any::<u64>()) {
            let v = f64::from_bits(bits);
            let back = parse_f64(&format_f64(v)).unwrap();
            prop_assert!(back.to_bits() == v.to_bits() || (v.is_nan() && back.is_nan()));
        }

        #[test]
        fn f32_text_round_trips(bits in any::<u32>()) {
            let v = f32::from_bits(bits);
            let back = parse_f32(&format_f32(v)).unwrap();
            prop_assert!(back.to_bits() == v.to_bits() || (v.is_nan() && back.is_nan()));
        }
    }
}
