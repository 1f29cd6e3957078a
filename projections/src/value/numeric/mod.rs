//! `numeric`: exact decimal numbers with PostgreSQL's display-scale semantics.
//!
//! Owns the representation of `numeric` values, their text input (`numeric_in`) and output
//! (`numeric_out`), rounding, `numeric(p,s)` type modifiers, conversions to and from integers
//! and floats, and the total order and hash used for sorting and grouping. Arithmetic lives in
//! [`arith`](self) and the digit vectors in `mag`.
//!
//! A finite value is `±mag × 10^-scale`, where `scale` is PostgreSQL's *display scale*
//! (`dscale`): the number of digits printed after the decimal point. `1.50` and `1.5` are
//! equal and hash alike but print differently, exactly as in PostgreSQL. The special values
//! `NaN`, `Infinity` and `-Infinity` exist as in PostgreSQL ≥ 14.
//!
//! Invariants of [`Numeric`]:
//! - zero is never negative;
//! - `scale <= NUMERIC_DSCALE_MAX` (16383) and at most 131072 digits precede the point
//!   (otherwise the value "overflows numeric format", as in PostgreSQL);
//! - the order is total: `-Infinity < finite < Infinity < NaN`, and `NaN = NaN` (PostgreSQL
//!   sorts NaN above everything so that B-tree indexes work).

mod arith;
mod mag;

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

use super::error::{Result, ValueError};
use mag::Mag;

pub use arith::select_div_scale;

/// Largest display scale a value can carry (PostgreSQL's `NUMERIC_DSCALE_MAX`).
pub const NUMERIC_DSCALE_MAX: u32 = 0x3FFF;
/// Largest precision a `numeric(p,s)` type modifier accepts.
pub const NUMERIC_MAX_PRECISION: u32 = 1000;
/// Digits allowed before the decimal point (PostgreSQL's `NUMERIC_WEIGHT_MAX` in base 10⁴).
const MAX_INTEGER_DIGITS: usize = 131_072;

/// An exact decimal number, or NaN / ±Infinity (see the module doc for the invariants).
#[derive(Clone, Debug)]
pub struct Numeric(Repr);

#[derive(Clone, Debug)]
enum Repr {
    NaN,
    Inf { neg: bool },
    Finite { neg: bool, mag: Mag, scale: u32 },
}

impl Numeric {
    fn finite(neg: bool, mag: Mag, scale: u32) -> Numeric {
        let neg = neg && !mag.is_zero();
        Numeric(Repr::Finite { neg, mag, scale })
    }

    /// Builds a finite value and enforces the format's bounds.
    fn checked_finite(neg: bool, mag: Mag, scale: u32) -> Result<Numeric> {
        let integer_digits = mag.decimal_len().saturating_sub(scale as usize);
        if scale > NUMERIC_DSCALE_MAX || integer_digits > MAX_INTEGER_DIGITS {
            return Err(ValueError::out_of_range("value overflows numeric format"));
        }
        Ok(Numeric::finite(neg, mag, scale))
    }

    pub fn nan() -> Numeric {
        Numeric(Repr::NaN)
    }

    pub fn infinity(negative: bool) -> Numeric {
        Numeric(Repr::Inf { neg: negative })
    }

    pub fn zero() -> Numeric {
        Numeric::finite(false, Mag::zero(), 0)
    }

    pub fn from_i128(v: i128) -> Numeric {
        Numeric::finite(v < 0, Mag::from_u128(v.unsigned_abs()), 0)
    }

    pub fn from_i64(v: i64) -> Numeric {
        Numeric::from_i128(i128::from(v))
    }

    pub fn is_nan(&self) -> bool {
        matches!(self.0, Repr::NaN)
    }

    /// `Some(negative)` for ±Infinity.
    pub fn infinity_sign(&self) -> Option<bool> {
        match self.0 {
            Repr::Inf { neg } => Some(neg),
            _ => None,
        }
    }

    pub fn is_finite(&self) -> bool {
        matches!(self.0, Repr::Finite { .. })
    }

    pub fn is_zero(&self) -> bool {
        matches!(&self.0, Repr::Finite { mag, .. } if mag.is_zero())
    }

    /// True for values below zero, including `-Infinity`.
    pub fn is_negative(&self) -> bool {
        matches!(
            self.0,
            Repr::Finite { neg: true, .. } | Repr::Inf { neg: true }
        )
    }

    /// The display scale of a finite value.
    pub fn scale(&self) -> Option<u32> {
        match self.0 {
            Repr::Finite { scale, .. } => Some(scale),
            _ => None,
        }
    }

    /// Parses text as `numeric_in` does (no type modifier applied).
    pub fn parse(input: &str) -> Result<Numeric> {
        let err = || ValueError::syntax("numeric", input);
        let s = input.trim_matches(is_pg_space);
        let lower = s.to_ascii_lowercase();
        match lower.as_str() {
            "nan" => return Ok(Numeric::nan()),
            "infinity" | "+infinity" | "inf" | "+inf" => return Ok(Numeric::infinity(false)),
            "-infinity" | "-inf" => return Ok(Numeric::infinity(true)),
            _ => {}
        }
        let bytes = s.as_bytes();
        let mut i = 0;
        let mut neg = false;
        if let Some(&c) = bytes.first()
            && (c == b'+' || c == b'-')
        {
            neg = c == b'-';
            i = 1;
        }
        let mut digits = Vec::new();
        let mut frac_digits: i64 = 0;
        let mut seen_point = false;
        while i < bytes.len() {
            match bytes[i] {
                c @ b'0'..=b'9' => {
                    digits.push(c);
                    if seen_point {
                        frac_digits += 1;
                    }
                }
                b'.' if !seen_point => seen_point = true,
                _ => break,
            }
            i += 1;
        }
        if digits.is_empty() {
            return Err(err());
        }
        let mut exponent: i64 = 0;
        if i < bytes.len() && (bytes[i] == b'e' || bytes[i] == b'E') {
            let rest = &s[i + 1..];
            let unsigned = rest.strip_prefix(['+', '-']).unwrap_or(rest);
            if unsigned.is_empty() || !unsigned.bytes().all(|c| c.is_ascii_digit()) {
                return Err(err());
            }
            exponent = rest.parse::<i64>().map_err(|_| err())?;
            // Far beyond any representable value; keeps the shift arithmetic small.
            if exponent.unsigned_abs() > 1_000_000 {
                return Err(ValueError::out_of_range("value overflows numeric format"));
            }
            i = bytes.len();
        }
        if i != bytes.len() {
            return Err(err());
        }
        Numeric::from_digits_exponent(neg, &digits, frac_digits - exponent)
    }

    /// `±digits × 10^-shift` with display scale `max(shift, 0)`.
    fn from_digits_exponent(neg: bool, digits: &[u8], shift: i64) -> Result<Numeric> {
        let mag = Mag::from_ascii_digits(digits);
        if shift >= 0 {
            let scale = u32::try_from(shift)
                .map_err(|_| ValueError::out_of_range("value overflows numeric format"))?;
            Numeric::checked_finite(neg, mag, scale)
        } else {
            let up = u32::try_from(-shift)
                .map_err(|_| ValueError::out_of_range("value overflows numeric format"))?;
            if mag.is_zero() {
                return Ok(Numeric::zero());
            }
            if mag.decimal_len() + up as usize > MAX_INTEGER_DIGITS {
                return Err(ValueError::out_of_range("value overflows numeric format"));
            }
            Numeric::checked_finite(neg, mag.mul_pow10(up), 0)
        }
    }

    /// Rounds half away from zero to `scale` digits after the point, like `round(x, scale)`.
    /// A negative `scale` rounds to tens, hundreds, ...; the display scale becomes
    /// `max(scale, 0)`. NaN and infinities are returned unchanged.
    pub fn round(&self, scale: i32) -> Numeric {
        self.rescale(scale, true)
    }

    /// Truncates toward zero to `scale` digits after the point, like `trunc(x, scale)`.
    pub fn trunc(&self, scale: i32) -> Numeric {
        self.rescale(scale, false)
    }

    fn rescale(&self, new_scale: i32, round: bool) -> Numeric {
        let Repr::Finite { neg, mag, scale } = &self.0 else {
            return self.clone();
        };
        let target = new_scale.clamp(-(MAX_INTEGER_DIGITS as i32), NUMERIC_DSCALE_MAX as i32);
        let display = target.max(0) as u32;
        if i64::from(target) >= i64::from(*scale) {
            return Numeric::finite(*neg, mag.mul_pow10(display - scale), display);
        }
        let drop = (i64::from(*scale) - i64::from(target)) as u32;
        let (mut q, r) = mag.divrem_pow10(drop);
        if round && !r.is_zero() {
            // Round half away from zero: compare 2r with 10^drop.
            let twice = r.add(&r);
            if twice.cmp_mag(&Mag::pow10(drop)) != Ordering::Less {
                q = q.add_small(1);
            }
        }
        // q counts units of 10^-target; re-express it with the display scale.
        let mag = if target < 0 {
            q.mul_pow10(target.unsigned_abs())
        } else {
            q
        };
        Numeric::finite(*neg, mag, display)
    }

    /// Coerces to `numeric(precision, scale)` like PostgreSQL's `apply_typmod`: rounds to
    /// `scale` and fails with `numeric field overflow` when the integer part does not fit.
    pub fn apply_typmod(&self, precision: u32, scale: u32) -> Result<Numeric> {
        let limit = precision.saturating_sub(scale);
        match &self.0 {
            Repr::NaN => Ok(self.clone()),
            Repr::Inf { .. } => Err(ValueError::NumericFieldOverflow {
                detail: format!(
                    "A field with precision {precision}, scale {scale} cannot hold an infinite value."
                ),
            }),
            Repr::Finite { .. } => {
                let rounded = self.round(scale as i32);
                let Repr::Finite { mag, .. } = &rounded.0 else {
                    unreachable!("rounding keeps finiteness")
                };
                let integer_digits = mag.decimal_len().saturating_sub(scale as usize);
                if integer_digits > limit as usize {
                    let bound = if limit == 0 {
                        "1".to_owned()
                    } else {
                        format!("10^{limit}")
                    };
                    return Err(ValueError::NumericFieldOverflow {
                        detail: format!(
                            "A field with precision {precision}, scale {scale} must round to an absolute value less than {bound}."
                        ),
                    });
                }
                Ok(rounded)
            }
        }
    }

    /// Rounds half away from zero to an integer and checks it against `[min, max]`, as
    /// PostgreSQL's `numeric_int2/4/8` do. `type_error` is the range error's message.
    pub fn to_integer(&self, min: i64, max: i64, type_error: &'static str) -> Result<i64> {
        match &self.0 {
            Repr::NaN => Err(ValueError::FeatureNotSupported {
                message: format!("cannot convert NaN to {}", int_name(type_error)),
            }),
            Repr::Inf { .. } => Err(ValueError::FeatureNotSupported {
                message: format!("cannot convert infinity to {}", int_name(type_error)),
            }),
            Repr::Finite { .. } => {
                let rounded = self.round(0);
                let Repr::Finite { neg, mag, .. } = &rounded.0 else {
                    unreachable!("rounding keeps finiteness")
                };
                let v = mag
                    .to_u128()
                    .and_then(|m| i128::try_from(m).ok())
                    .map(|m| if *neg { -m } else { m })
                    .filter(|v| (i128::from(min)..=i128::from(max)).contains(v))
                    .ok_or(ValueError::out_of_range(type_error))?;
                Ok(v as i64)
            }
        }
    }

    /// The value truncated toward zero, saturated to `i64` (NaN, which sorts above every
    /// number, and +Infinity as the maximum; -Infinity as the minimum): a non-decreasing
    /// function of the value, which the key search relies on.
    pub(crate) fn saturating_trunc(&self) -> i64 {
        let (neg, mag, scale) = match &self.0 {
            Repr::NaN | Repr::Inf { neg: false } => return i64::MAX,
            Repr::Inf { neg: true } => return i64::MIN,
            Repr::Finite { neg, mag, scale } => (*neg, mag, *scale),
        };
        let (q, _) = mag.divrem_pow10(scale);
        let m = q
            .to_u128()
            .and_then(|m| i64::try_from(m).ok())
            .unwrap_or(i64::MAX);
        if neg { -m } else { m }
    }

    /// `Some(v)` when the value is finite, integral and fits an `i64` (any display scale).
    pub fn to_i64_exact(&self) -> Option<i64> {
        let Repr::Finite { neg, mag, scale } = &self.0 else {
            return None;
        };
        let (q, r) = mag.divrem_pow10(*scale);
        if !r.is_zero() {
            return None;
        }
        let m = i128::try_from(q.to_u128()?).ok()?;
        i64::try_from(if *neg { -m } else { m }).ok()
    }

    /// Converts to `double precision` the way `numeric_float8` does (through the text form,
    /// so the result is correctly rounded); overflow and underflow to zero are errors.
    pub fn to_f64(&self) -> Result<f64> {
        match self.0 {
            Repr::NaN => Ok(f64::NAN),
            Repr::Inf { neg } => Ok(if neg {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            }),
            Repr::Finite { .. } => super::float::parse_f64(&self.to_string()),
        }
    }

    /// Converts to `real` the way `numeric_float4` does.
    pub fn to_f32(&self) -> Result<f32> {
        match self.0 {
            Repr::NaN => Ok(f32::NAN),
            Repr::Inf { neg } => Ok(if neg {
                f32::NEG_INFINITY
            } else {
                f32::INFINITY
            }),
            Repr::Finite { .. } => super::float::parse_f32(&self.to_string()),
        }
    }

    /// Converts a `double precision` value the way `float8_numeric` does: through its
    /// 15-significant-digit (`DBL_DIG`) decimal form, so `0.1::float8::numeric` is `0.1`.
    pub fn from_f64(v: f64) -> Numeric {
        Numeric::from_float_digits(v, 15)
    }

    /// Converts a `real` value the way `float4_numeric` does (6 significant digits).
    pub fn from_f32(v: f32) -> Numeric {
        Numeric::from_float_digits(f64::from(v), 6)
    }

    fn from_float_digits(v: f64, significant: usize) -> Numeric {
        if v.is_nan() {
            return Numeric::nan();
        }
        if v.is_infinite() {
            return Numeric::infinity(v < 0.0);
        }
        // `{:.Ne}` rounds the exact binary value to N+1 significant digits, ties to even,
        // like glibc's `%.*g`; `%g` then drops trailing zeros, which sets the display scale.
        let formatted = format!("{:.*e}", significant - 1, v.abs());
        let (mantissa, exp) = formatted
            .split_once('e')
            .expect("`{:e}` output has an exponent");
        let exp: i64 = exp.parse().expect("`{:e}` exponent is an integer");
        let mut digits: Vec<u8> = mantissa.bytes().filter(u8::is_ascii_digit).collect();
        while digits.len() > 1 && digits.last() == Some(&b'0') {
            digits.pop();
        }
        let shift = digits.len() as i64 - 1 - exp;
        Numeric::from_digits_exponent(v < 0.0, &digits, shift)
            .expect("a finite double is far inside numeric's range")
    }

    pub fn neg(&self) -> Numeric {
        match &self.0 {
            Repr::NaN => Numeric::nan(),
            Repr::Inf { neg } => Numeric::infinity(!neg),
            Repr::Finite { neg, mag, scale } => Numeric::finite(!neg, mag.clone(), *scale),
        }
    }

    pub fn abs(&self) -> Numeric {
        if self.is_negative() {
            self.neg()
        } else {
            self.clone()
        }
    }

    /// The base-10⁴ weight and leading base-10⁴ digit of a finite value, as PostgreSQL's
    /// `NumericVar` would hold them after stripping leading zeros; `(0, 0)` for zero. The
    /// division scale rule is defined on these.
    fn base10000_lead(&self) -> (i64, u32) {
        let Repr::Finite { mag, scale, .. } = &self.0 else {
            return (0, 0);
        };
        if mag.is_zero() {
            return (0, 0);
        }
        let digits = mag.to_decimal_string();
        // The leading digit stands for 10^e.
        let e = digits.len() as i64 - 1 - i64::from(*scale);
        let weight = e.div_euclid(4);
        let lead_len = (e - 4 * weight + 1) as usize;
        // The leading group may extend past the last stored digit (0.001 is group "0010").
        let stored = lead_len.min(digits.len());
        let first: u32 = digits[..stored].parse().expect("1 to 4 decimal digits");
        let first = first * 10u32.pow((lead_len - stored) as u32);
        (weight, first)
    }

    fn cmp_finite(a: (bool, &Mag, u32), b: (bool, &Mag, u32)) -> Ordering {
        let ((an, am, ascale), (bn, bm, bscale)) = (a, b);
        match (an, bn) {
            (false, true) => return Ordering::Greater,
            (true, false) => return Ordering::Less,
            _ => {}
        }
        let common = ascale.max(bscale);
        let ord = am
            .mul_pow10(common - ascale)
            .cmp_mag(&bm.mul_pow10(common - bscale));
        if an { ord.reverse() } else { ord }
    }

    fn rank(&self) -> u8 {
        match self.0 {
            Repr::Inf { neg: true } => 0,
            Repr::Finite { .. } => 1,
            Repr::Inf { neg: false } => 2,
            Repr::NaN => 3,
        }
    }
}

fn int_name(type_error: &str) -> &'static str {
    match type_error {
        "smallint out of range" => "smallint",
        "bigint out of range" => "bigint",
        _ => "integer",
    }
}

/// PostgreSQL's `isspace` for input trimming (space, \t, \n, \r, \v, \f).
pub(crate) fn is_pg_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0B' | '\x0C')
}

impl fmt::Display for Numeric {
    /// `numeric_out`: all `scale` digits after the point, `NaN`, `Infinity`, `-Infinity`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Repr::NaN => f.write_str("NaN"),
            Repr::Inf { neg } => f.write_str(if *neg { "-Infinity" } else { "Infinity" }),
            Repr::Finite { neg, mag, scale } => {
                let mut digits = mag.to_decimal_string();
                let scale = *scale as usize;
                if *neg {
                    f.write_str("-")?;
                }
                if scale == 0 {
                    return f.write_str(&digits);
                }
                if digits.len() <= scale {
                    digits = format!("{}{digits}", "0".repeat(scale + 1 - digits.len()));
                }
                let (int, frac) = digits.split_at(digits.len() - scale);
                write!(f, "{int}.{frac}")
            }
        }
    }
}

impl Ord for Numeric {
    fn cmp(&self, other: &Numeric) -> Ordering {
        match (&self.0, &other.0) {
            (
                Repr::Finite {
                    neg: an,
                    mag: am,
                    scale: ascale,
                },
                Repr::Finite {
                    neg: bn,
                    mag: bm,
                    scale: bscale,
                },
            ) => Numeric::cmp_finite((*an, am, *ascale), (*bn, bm, *bscale)),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

impl PartialOrd for Numeric {
    fn partial_cmp(&self, other: &Numeric) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Numeric {
    fn eq(&self, other: &Numeric) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Numeric {}

impl Hash for Numeric {
    /// Equal values hash alike whatever their display scale; an integral value that fits an
    /// `i64` hashes exactly like that `i64`, so integers and numerics can share a hash table.
    fn hash<H: Hasher>(&self, state: &mut H) {
        if let Some(i) = self.to_i64_exact() {
            return i.hash(state);
        }
        match &self.0 {
            Repr::NaN => state.write_u8(0xF0),
            Repr::Inf { neg } => state.write_u8(if *neg { 0xF1 } else { 0xF2 }),
            Repr::Finite { neg, mag, scale } => {
                let mut mag = mag.clone();
                let mut scale = *scale;
                while scale > 0 {
                    let (q, r) = mag.divrem_pow10(1);
                    if !r.is_zero() {
                        break;
                    }
                    mag = q;
                    scale -= 1;
                }
                (neg, mag, scale).hash(state);
            }
        }
    }
}

impl From<i64> for Numeric {
    fn from(v: i64) -> Numeric {
        Numeric::from_i64(v)
    }
}

impl From<i32> for Numeric {
    fn from(v: i32) -> Numeric {
        Numeric::from_i64(v.into())
    }
}

impl From<i16> for Numeric {
    fn from(v: i16) -> Numeric {
        Numeric::from_i64(v.into())
    }
}

impl std::str::FromStr for Numeric {
    type Err = ValueError;

    fn from_str(s: &str) -> Result<Numeric> {
        Numeric::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::hash_map::DefaultHasher;

    fn n(s: &str) -> Numeric {
        Numeric::parse(s).unwrap()
    }

    fn hash_of(v: &Numeric) -> u64 {
        let mut h = DefaultHasher::new();
        v.hash(&mut h);
        h.finish()
    }

    #[test]
    fn input_and_output_keep_the_display_scale() {
        // Verified on PostgreSQL 15.18:
        // SELECT '1.50'::numeric, ' -0.000 '::numeric, '1.5e3'::numeric, '1.5e-3'::numeric,
        //        '.5'::numeric, '5.'::numeric, '-1e2'::numeric, '12.345e1'::numeric;
        // 1.50 | 0.000 | 1500 | 0.0015 | 0.5 | 5 | -100 | 123.45
        let cases = [
            ("1.50", "1.50"),
            (" -0.000 ", "0.000"),
            ("1.5e3", "1500"),
            ("1.5e-3", "0.0015"),
            (".5", "0.5"),
            ("5.", "5"),
            ("-1e2", "-100"),
            ("12.345e1", "123.45"),
            ("+007", "7"),
            ("NaN", "NaN"),
            ("-inf", "-Infinity"),
            ("Infinity", "Infinity"),
        ];
        for (input, out) in cases {
            assert_eq!(n(input).to_string(), out, "{input}");
        }
    }

    #[test]
    fn bad_input_is_22p02() {
        // SELECT 'abc'::numeric;  ERROR:  invalid input syntax for type numeric: "abc"
        for bad in ["abc", "", ".", "1e", "1.2.3", "- 1", "-NaN", "1 2", "1e+"] {
            let e = Numeric::parse(bad).unwrap_err();
            assert_eq!(e.sqlstate(), "22P02", "{bad}");
            assert_eq!(
                e.to_string(),
                format!("invalid input syntax for type numeric: \"{bad}\"")
            );
        }
    }

    #[test]
    fn rounding_is_half_away_from_zero() {
        // SELECT round(2.5), round(-2.5), round(1.2345, 3), round(1234.5, -2), trunc(-1.99, 1);
        // 3 | -3 | 1.235 | 1200 | -1.9
        assert_eq!(n("2.5").round(0).to_string(), "3");
        assert_eq!(n("-2.5").round(0).to_string(), "-3");
        assert_eq!(n("1.2345").round(3).to_string(), "1.235");
        assert_eq!(n("1234.5").round(-2).to_string(), "1200");
        assert_eq!(n("-1.99").trunc(1).to_string(), "-1.9");
        assert_eq!(n("1.5").round(3).to_string(), "1.500");
        assert_eq!(n("-0.4").round(0).to_string(), "0");
    }

    #[test]
    fn typmod_rounds_and_checks_precision() {
        // SELECT 123.456::numeric(5,2);  123.46
        assert_eq!(
            n("123.456").apply_typmod(5, 2).unwrap().to_string(),
            "123.46"
        );
        // SELECT 999.995::numeric(5,2);
        // ERROR:  numeric field overflow
        // DETAIL:  A field with precision 5, scale 2 must round to an absolute value less than 10^3.
        let e = n("999.995").apply_typmod(5, 2).unwrap_err();
        assert_eq!(e.to_string(), "numeric field overflow");
        assert_eq!(
            e.detail(),
            Some(
                "A field with precision 5, scale 2 must round to an absolute value less than 10^3."
            )
        );
        // SELECT 0.5::numeric(2,2) → 0.50; SELECT 1::numeric(2,2) → must round to ... less than 1.
        assert_eq!(n("0.5").apply_typmod(2, 2).unwrap().to_string(), "0.50");
        assert!(
            n("1")
                .apply_typmod(2, 2)
                .unwrap_err()
                .detail()
                .unwrap()
                .ends_with("less than 1.")
        );
        assert_eq!(n("NaN").apply_typmod(3, 1).unwrap().to_string(), "NaN");
        assert!(n("inf").apply_typmod(3, 1).is_err());
    }

    #[test]
    fn conversion_to_integers() {
        // SELECT 3.5::numeric::int, (-2.5)::numeric::int;  4 | -3
        assert_eq!(
            n("3.5").to_integer(i32::MIN.into(), i32::MAX.into(), "integer out of range"),
            Ok(4)
        );
        assert_eq!(
            n("-2.5").to_integer(i32::MIN.into(), i32::MAX.into(), "integer out of range"),
            Ok(-3)
        );
        // SELECT 2147483647.5::numeric::int;  ERROR:  integer out of range
        let e =
            n("2147483647.5").to_integer(i32::MIN.into(), i32::MAX.into(), "integer out of range");
        assert_eq!(e.unwrap_err().to_string(), "integer out of range");
        // SELECT 'NaN'::numeric::int;  ERROR:  cannot convert NaN to integer
        let e = n("NaN")
            .to_integer(0, 1, "integer out of range")
            .unwrap_err();
        assert_eq!(
            (e.to_string().as_str(), e.sqlstate()),
            ("cannot convert NaN to integer", "0A000")
        );
        let e = n("-inf")
            .to_integer(0, 1, "bigint out of range")
            .unwrap_err();
        assert_eq!(e.to_string(), "cannot convert infinity to bigint");
        assert_eq!(n("12.000").to_i64_exact(), Some(12));
        assert_eq!(n("12.001").to_i64_exact(), None);
    }

    #[test]
    fn float_conversions_use_dbl_dig() {
        // SELECT (1/3::float8)::numeric, 0.1::float4::numeric, 1e20::float8::numeric,
        //        1.5e-7::float8::numeric;
        // 0.333333333333333 | 0.1 | 100000000000000000000 | 0.00000015
        assert_eq!(
            Numeric::from_f64(1.0 / 3.0).to_string(),
            "0.333333333333333"
        );
        assert_eq!(Numeric::from_f32(0.1).to_string(), "0.1");
        assert_eq!(Numeric::from_f64(1e20).to_string(), "100000000000000000000");
        assert_eq!(Numeric::from_f64(1.5e-7).to_string(), "0.00000015");
        assert_eq!(Numeric::from_f64(-0.0).to_string(), "0");
        assert_eq!(
            Numeric::from_f64(f64::NEG_INFINITY).to_string(),
            "-Infinity"
        );
        assert_eq!(n("0.1").to_f64(), Ok(0.1));
        assert_eq!(n("1e400").to_f64().unwrap_err().sqlstate(), "22003");
    }

    #[test]
    fn order_equality_and_hash_ignore_display_scale() {
        assert_eq!(n("1.0"), n("1.00"));
        assert_eq!(hash_of(&n("1.0")), hash_of(&n("1.000")));
        assert_eq!(hash_of(&n("2.50")), hash_of(&n("2.5")));
        assert_eq!(hash_of(&n("7.00")), hash_of(&Numeric::from_i64(7)));
        let mut v = [
            n("NaN"),
            n("inf"),
            n("-1.5"),
            n("-inf"),
            n("0"),
            n("-1.25"),
            n("10"),
        ];
        v.sort();
        let out: Vec<String> = v.iter().map(ToString::to_string).collect();
        assert_eq!(
            out,
            ["-Infinity", "-1.5", "-1.25", "0", "10", "Infinity", "NaN"]
        );
        assert_eq!(n("NaN"), n("nan"));
    }

    #[test]
    fn format_bounds() {
        // SELECT length('1e131071'::numeric::text);  131072
        // SELECT '1e131072'::numeric;  ERROR:  value overflows numeric format
        // SELECT length('1e-16383'::numeric::text);  16385
        // SELECT '1e-16384'::numeric;  ERROR:  value overflows numeric format
        assert_eq!(n("1e131071").to_string().len(), 131_072);
        assert_eq!(n("1e-16383").to_string().len(), 16_385);
        for bad in ["1e131072", "1e-16384", "1e2000000000"] {
            let e = Numeric::parse(bad).unwrap_err();
            assert_eq!(
                (e.to_string().as_str(), e.sqlstate()),
                ("value overflows numeric format", "22003")
            );
        }
        assert_eq!(n("1e1001").to_string().len(), 1002);
    }

    proptest! {
        #[test]
        fn text_round_trip(int in "-?[0-9]{1,30}", frac in "[0-9]{0,25}") {
            let text = if frac.is_empty() { int } else { format!("{int}.{frac}") };
            let v = n(&text);
            let printed = v.to_string();
            let again = n(&printed);
            prop_assert_eq!(again.to_string(), printed.clone());
            prop_assert_eq!(again.scale(), v.scale());
            prop_assert_eq!(&again, &v);
        }

        #[test]
        fn from_f64_matches_15_digit_rounding(x in any::<f64>().prop_filter("finite", |x| x.is_finite())) {
            let v = Numeric::from_f64(x);
            let back: f64 = v.to_string().parse().unwrap();
            let expected: f64 = format!("{x:.14e}").parse().unwrap();
            prop_assert_eq!(back, expected);
        }
    }
}
