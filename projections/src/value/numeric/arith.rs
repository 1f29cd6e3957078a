//! Arithmetic on [`Numeric`] with the result scales of PostgreSQL's `numeric.c`.
//!
//! Owns `+ - * / %` and integer-quotient division, including NaN and ±Infinity. The scale
//! rules, which decide how results print:
//! - `a + b`, `a - b`, `a % b`: `max(scale(a), scale(b))`;
//! - `a * b`: `scale(a) + scale(b)` (exact), rounded to 16383 digits only if longer;
//! - `a / b`: [`select_div_scale`], rounded half away from zero at that scale.
//!
//! Every finite result is exact before rounding (no intermediate precision loss), so results
//! match PostgreSQL digit for digit.

use std::cmp::Ordering;

use super::{Mag, NUMERIC_DSCALE_MAX, Numeric, Repr};
use crate::value::error::{Result, ValueError};

/// PostgreSQL's `NUMERIC_MIN_SIG_DIGITS`: divisions keep at least this many significant digits.
const MIN_SIG_DIGITS: i64 = 16;
/// PostgreSQL's `NUMERIC_MAX_DISPLAY_SCALE`.
const MAX_DISPLAY_SCALE: i64 = 1000;

/// The display scale of `a / b` (PostgreSQL's `select_div_scale`): enough digits for 16
/// significant digits of the quotient, estimated from the base-10⁴ leading digits, and never
/// fewer than either input's scale; at most 1000.
pub fn select_div_scale(a: &Numeric, b: &Numeric) -> u32 {
    let (w1, d1) = a.base10000_lead();
    let (w2, d2) = b.base10000_lead();
    // If the leading digits are equal we cannot tell; assume a < b, like PostgreSQL.
    let qweight = w1 - w2 - i64::from(d1 <= d2);
    let rscale = (MIN_SIG_DIGITS - qweight * 4)
        .max(i64::from(a.scale().unwrap_or(0)))
        .max(i64::from(b.scale().unwrap_or(0)))
        .clamp(0, MAX_DISPLAY_SCALE);
    rscale as u32
}

/// A finite operand: (negative, magnitude, scale).
type Fin<'a> = (bool, &'a Mag, u32);

fn finite(n: &Numeric) -> Option<Fin<'_>> {
    match &n.0 {
        Repr::Finite { neg, mag, scale } => Some((*neg, mag, *scale)),
        _ => None,
    }
}

/// Sign as -1, 0 or 1 (NaN must be handled by the caller).
fn sign(n: &Numeric) -> i8 {
    if n.is_zero() {
        0
    } else if n.is_negative() {
        -1
    } else {
        1
    }
}

fn add_finite(a: Fin<'_>, b: Fin<'_>) -> Result<Numeric> {
    let scale = a.2.max(b.2);
    let am = a.1.mul_pow10(scale - a.2);
    let bm = b.1.mul_pow10(scale - b.2);
    if a.0 == b.0 {
        return Numeric::checked_finite(a.0, am.add(&bm), scale);
    }
    match am.cmp_mag(&bm) {
        Ordering::Less => Numeric::checked_finite(b.0, bm.sub(&am), scale),
        _ => Numeric::checked_finite(a.0, am.sub(&bm), scale),
    }
}

/// `|a| / |b|` scaled to `rscale` digits, rounded half away from zero or truncated.
fn div_mag(a: Fin<'_>, b: Fin<'_>, rscale: u32, round: bool) -> Mag {
    // |a|/|b| * 10^rscale = a.mag * 10^(rscale + b.scale - a.scale) / b.mag
    let k = i64::from(rscale) + i64::from(b.2) - i64::from(a.2);
    let (num, den) = if k >= 0 {
        (a.1.mul_pow10(k as u32), b.1.clone())
    } else {
        (a.1.clone(), b.1.mul_pow10((-k) as u32))
    };
    let (q, r) = num.divrem(&den);
    if round && r.add(&r).cmp_mag(&den) != Ordering::Less {
        q.add_small(1)
    } else {
        q
    }
}

impl Numeric {
    pub fn add(&self, other: &Numeric) -> Result<Numeric> {
        match (finite(self), finite(other)) {
            (Some(a), Some(b)) => add_finite(a, b),
            _ if self.is_nan() || other.is_nan() => Ok(Numeric::nan()),
            (None, None) if self.is_negative() != other.is_negative() => Ok(Numeric::nan()),
            (None, _) => Ok(self.clone()),
            (Some(_), None) => Ok(other.clone()),
        }
    }

    pub fn sub(&self, other: &Numeric) -> Result<Numeric> {
        self.add(&other.neg())
    }

    pub fn mul(&self, other: &Numeric) -> Result<Numeric> {
        match (finite(self), finite(other)) {
            (Some(a), Some(b)) => {
                let exact = Numeric::finite(a.0 != b.0, a.1.mul(b.1), a.2 + b.2);
                let exact = if a.2 + b.2 > NUMERIC_DSCALE_MAX {
                    exact.round(NUMERIC_DSCALE_MAX as i32)
                } else {
                    exact
                };
                let Repr::Finite { neg, mag, scale } = exact.0 else {
                    unreachable!("finite product")
                };
                Numeric::checked_finite(neg, mag, scale)
            }
            _ if self.is_nan() || other.is_nan() => Ok(Numeric::nan()),
            _ => match sign(self) * sign(other) {
                0 => Ok(Numeric::nan()),
                s => Ok(Numeric::infinity(s < 0)),
            },
        }
    }

    /// `a / b` with the scale of [`select_div_scale`].
    pub fn div(&self, other: &Numeric) -> Result<Numeric> {
        self.divide(other, true)
    }

    /// The integer part of `a / b`, truncated toward zero (`div(a, b)` in PostgreSQL).
    pub fn div_trunc(&self, other: &Numeric) -> Result<Numeric> {
        self.divide(other, false)
    }

    fn divide(&self, other: &Numeric, rounded: bool) -> Result<Numeric> {
        match (finite(self), finite(other)) {
            (Some(a), Some(b)) => {
                if b.1.is_zero() {
                    return Err(ValueError::DivisionByZero);
                }
                let rscale = if rounded {
                    select_div_scale(self, other)
                } else {
                    0
                };
                Numeric::checked_finite(a.0 != b.0, div_mag(a, b, rscale, rounded), rscale)
            }
            _ if self.is_nan() || other.is_nan() => Ok(Numeric::nan()),
            (None, None) => Ok(Numeric::nan()),
            (Some(_), None) => Ok(Numeric::zero()),
            (None, Some(_)) => match sign(self) * sign(other) {
                0 => Err(ValueError::DivisionByZero),
                s => Ok(Numeric::infinity(s < 0)),
            },
        }
    }

    /// `a % b`: `a - b * trunc(a / b)`, with the sign of `a`.
    pub fn rem(&self, other: &Numeric) -> Result<Numeric> {
        match (finite(self), finite(other)) {
            (Some(a), Some(b)) => {
                if b.1.is_zero() {
                    return Err(ValueError::DivisionByZero);
                }
                let q = Numeric::finite(a.0 != b.0, div_mag(a, b, 0, false), 0);
                self.sub(&q.mul(other)?)
            }
            _ if self.is_nan() || other.is_nan() => Ok(Numeric::nan()),
            (None, _) if other.is_zero() => Err(ValueError::DivisionByZero),
            (None, _) => Ok(Numeric::nan()),
            (Some(_), None) => Ok(self.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn n(s: &str) -> Numeric {
        Numeric::parse(s).unwrap()
    }

    fn show(r: Result<Numeric>) -> String {
        match r {
            Ok(v) => v.to_string(),
            Err(e) => format!("ERROR: {e}"),
        }
    }

    #[test]
    fn scales_match_postgres() {
        // Each row: SQL run on PostgreSQL 15.18 and its output.
        let cases = [
            // SELECT 1::numeric / 3;
            (show(n("1").div(&n("3"))), "0.33333333333333333333"),
            // SELECT 10::numeric / 4;
            (show(n("10").div(&n("4"))), "2.5000000000000000"),
            // SELECT 19::numeric / 74;
            (show(n("19").div(&n("74"))), "0.25675675675675675676"),
            // SELECT -120::numeric / 3;  (avg of three -40s)
            (show(n("-120").div(&n("3"))), "-40.0000000000000000"),
            // SELECT 1.5 + 2.25, 1.5 - 2.25, 1.5 * 2.25;
            (show(n("1.5").add(&n("2.25"))), "3.75"),
            (show(n("1.5").sub(&n("2.25"))), "-0.75"),
            (show(n("1.5").mul(&n("2.25"))), "3.375"),
            // SELECT 1.00 * 2.000;
            (show(n("1.00").mul(&n("2.000"))), "2.00000"),
            // SELECT 123456789::numeric / 0.001;
            (
                show(n("123456789").div(&n("0.001"))),
                "123456789000.00000000",
            ),
            // SELECT 0.001 / 123456789::numeric;
            (
                show(n("0.001").div(&n("123456789"))),
                "0.0000000000081000000737100007",
            ),
            // SELECT 7.5 % 2, -7.5 % 2, 10 % 3.3;
            (show(n("7.5").rem(&n("2"))), "1.5"),
            (show(n("-7.5").rem(&n("2"))), "-1.5"),
            (show(n("10").rem(&n("3.3"))), "0.1"),
            // SELECT div(-7.5, 2);
            (show(n("-7.5").div_trunc(&n("2"))), "-3"),
            // SELECT 2::numeric / 3 * 3;
            (
                show(n("2").div(&n("3")).unwrap().mul(&n("3"))),
                "2.00000000000000000001",
            ),
            // SELECT 1e-20 / 3;
            (
                show(n("1e-20").div(&n("3"))),
                "0.0000000000000000000033333333333333333333",
            ),
            // SELECT 1.123456789012345678901 / 1, 0 / 7::numeric;
            (
                show(n("1.123456789012345678901").div(&n("1"))),
                "1.123456789012345678901",
            ),
            (show(n("0").div(&n("7"))), "0.00000000000000000000"),
            // SELECT 1::numeric / 0;  ERROR:  division by zero
            (show(n("1").div(&n("0"))), "ERROR: division by zero"),
            (show(n("1").rem(&n("0.0"))), "ERROR: division by zero"),
            // SELECT 'inf'::numeric - 'inf', 'inf'::numeric * 0, 1 / 'inf'::numeric,
            //        'inf'::numeric / -2, 5 % 'inf'::numeric, 'nan'::numeric + 1;
            // NaN | NaN | 0 | -Infinity | 5 | NaN
            (show(n("inf").sub(&n("inf"))), "NaN"),
            (show(n("inf").mul(&n("0"))), "NaN"),
            (show(n("1").div(&n("inf"))), "0"),
            (show(n("inf").div(&n("-2"))), "-Infinity"),
            (show(n("5").rem(&n("inf"))), "5"),
            (show(n("nan").add(&n("1"))), "NaN"),
            (show(n("inf").div(&n("0"))), "ERROR: division by zero"),
        ];
        for (got, want) in cases {
            assert_eq!(got, want);
        }
    }

    #[test]
    fn div_scale_rule() {
        assert_eq!(select_div_scale(&n("1"), &n("3")), 20);
        assert_eq!(select_div_scale(&n("10"), &n("4")), 16);
        assert_eq!(select_div_scale(&n("1.123456789012345678901"), &n("1")), 21);
        assert_eq!(select_div_scale(&n("0"), &n("7")), 20);
    }

    fn from(v: i128) -> Numeric {
        Numeric::from_i128(v)
    }

    proptest! {
        #[test]
        fn integer_arithmetic_matches_i128(a in any::<i64>(), b in any::<i64>()) {
            let (x, y) = (i128::from(a), i128::from(b));
            prop_assert_eq!(from(x).add(&from(y)).unwrap(), from(x + y));
            prop_assert_eq!(from(x).sub(&from(y)).unwrap(), from(x - y));
            prop_assert_eq!(from(x).mul(&from(y)).unwrap(), from(x * y));
            if y != 0 {
                prop_assert_eq!(from(x).div_trunc(&from(y)).unwrap(), from(x / y));
                prop_assert_eq!(from(x).rem(&from(y)).unwrap(), from(x % y));
                // The rounded quotient is within half a unit in the last place of x / y.
                let q = from(x).div(&from(y)).unwrap();
                let scale = q.scale().unwrap();
                let back = q.mul(&from(y)).unwrap().sub(&from(x)).unwrap().abs();
                let half_ulp_times_y = from(y.abs()).mul(&Numeric::parse(&format!("0.5e-{scale}")).unwrap()).unwrap();
                prop_assert!(back <= half_ulp_times_y);
            } else {
                prop_assert_eq!(from(x).div(&from(y)), Err(ValueError::DivisionByZero));
            }
        }

        #[test]
        fn scaled_arithmetic_matches_i128(a in -10i128.pow(18)..10i128.pow(18), sa in 0u32..8,
                                          b in -10i128.pow(18)..10i128.pow(18), sb in 0u32..8) {
            let na = Numeric::parse(&format!("{a}e-{sa}")).unwrap();
            let nb = Numeric::parse(&format!("{b}e-{sb}")).unwrap();
            let s = sa.max(sb);
            let (ia, ib) = (a * 10i128.pow(s - sa), b * 10i128.pow(s - sb));
            let sum = na.add(&nb).unwrap();
            prop_assert_eq!(sum.scale(), Some(s));
            prop_assert_eq!(sum, Numeric::parse(&format!("{}e-{s}", ia + ib)).unwrap());
            let prod = na.mul(&nb).unwrap();
            prop_assert_eq!(prod.scale(), Some(sa + sb));
            prop_assert_eq!(prod, Numeric::parse(&format!("{}e-{}", a * b, sa + sb)).unwrap());
        }
    }
}
