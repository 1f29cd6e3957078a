//! Unsigned arbitrary-precision integers in base 10⁹, the magnitude of a finite `numeric`.
//!
//! Owns the digit-vector arithmetic that [`super::Numeric`] builds its exact decimal semantics
//! on: add, subtract, multiply, long division (Knuth's algorithm D), powers of ten and
//! conversion to and from decimal digit strings. Base 10⁹ keeps decimal conversion a matter of
//! printing limbs and keeps every intermediate product inside a `u64`.
//!
//! Invariants of [`Mag`]:
//! - limbs are little-endian and each is `< 10⁹`;
//! - there is no most-significant zero limb, so zero is the empty vector and two equal values
//!   have identical limbs (derived `Eq`/`Hash` are value equality).

use std::cmp::Ordering;

/// The limb base.
pub(crate) const BASE: u64 = 1_000_000_000;
/// Decimal digits per limb.
const LIMB_DIGITS: usize = 9;

/// An unsigned integer of any size (see the module invariants). A boxed slice, not a `Vec`,
/// keeps `Numeric` and so every `Value` 8 bytes smaller.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub(crate) struct Mag(Box<[u32]>);

impl Mag {
    pub(crate) fn zero() -> Mag {
        Mag(Box::default())
    }

    pub(crate) fn from_u128(mut v: u128) -> Mag {
        let mut limbs = Vec::new();
        while v > 0 {
            limbs.push((v % BASE as u128) as u32);
            v /= BASE as u128;
        }
        Mag(limbs.into())
    }

    /// Builds a magnitude from ASCII decimal digits (most significant first).
    pub(crate) fn from_ascii_digits(digits: &[u8]) -> Mag {
        let mut limbs = Vec::with_capacity(digits.len() / LIMB_DIGITS + 1);
        let mut end = digits.len();
        while end > 0 {
            let start = end.saturating_sub(LIMB_DIGITS);
            let limb = digits[start..end]
                .iter()
                .fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0'));
            limbs.push(limb);
            end = start;
        }
        let mut m = Mag(limbs.into());
        m.trim();
        m
    }

    fn trim(&mut self) {
        let len = self
            .0
            .iter()
            .rposition(|&limb| limb != 0)
            .map_or(0, |top| top + 1);
        if len < self.0.len() {
            self.0 = self.0[..len].into();
        }
    }

    pub(crate) fn is_zero(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn to_u128(&self) -> Option<u128> {
        let mut v: u128 = 0;
        for &limb in self.0.iter().rev() {
            v = v.checked_mul(BASE as u128)?.checked_add(u128::from(limb))?;
        }
        Some(v)
    }

    /// Decimal digits, most significant first; `"0"` for zero.
    pub(crate) fn to_decimal_string(&self) -> String {
        let Some((top, rest)) = self.0.split_last() else {
            return "0".to_owned();
        };
        let mut s = top.to_string();
        for limb in rest.iter().rev() {
            s.push_str(&format!("{limb:09}"));
        }
        s
    }

    /// Number of decimal digits (0 for zero).
    pub(crate) fn decimal_len(&self) -> usize {
        match self.0.last() {
            None => 0,
            Some(top) => (self.0.len() - 1) * LIMB_DIGITS + top.to_string().len(),
        }
    }

    pub(crate) fn cmp_mag(&self, other: &Mag) -> Ordering {
        self.0
            .len()
            .cmp(&other.0.len())
            .then_with(|| self.0.iter().rev().cmp(other.0.iter().rev()))
    }

    pub(crate) fn add(&self, other: &Mag) -> Mag {
        let (long, short) = if self.0.len() >= other.0.len() {
            (self, other)
        } else {
            (other, self)
        };
        let mut out = Vec::with_capacity(long.0.len() + 1);
        let mut carry = 0u64;
        for i in 0..long.0.len() {
            let s = u64::from(long.0[i]) + u64::from(*short.0.get(i).unwrap_or(&0)) + carry;
            out.push((s % BASE) as u32);
            carry = s / BASE;
        }
        if carry > 0 {
            out.push(carry as u32);
        }
        Mag(out.into())
    }

    /// `self - other`; the caller guarantees `self >= other`.
    pub(crate) fn sub(&self, other: &Mag) -> Mag {
        debug_assert!(self.cmp_mag(other) != Ordering::Less);
        let mut out = Vec::with_capacity(self.0.len());
        let mut borrow = 0i64;
        for i in 0..self.0.len() {
            let mut d = i64::from(self.0[i]) - i64::from(*other.0.get(i).unwrap_or(&0)) + borrow;
            borrow = 0;
            if d < 0 {
                d += BASE as i64;
                borrow = -1;
            }
            out.push(d as u32);
        }
        let mut m = Mag(out.into());
        m.trim();
        m
    }

    pub(crate) fn mul(&self, other: &Mag) -> Mag {
        if self.is_zero() || other.is_zero() {
            return Mag::zero();
        }
        let mut out = vec![0u64; self.0.len() + other.0.len()];
        for (i, &a) in self.0.iter().enumerate() {
            let mut carry = 0u64;
            for (j, &b) in other.0.iter().enumerate() {
                // < 10¹⁸ + 10⁹ + 10⁹: fits a u64 with room to spare.
                let t = out[i + j] + u64::from(a) * u64::from(b) + carry;
                out[i + j] = t % BASE;
                carry = t / BASE;
            }
            let mut k = i + other.0.len();
            while carry > 0 {
                let t = out[k] + carry;
                out[k] = t % BASE;
                carry = t / BASE;
                k += 1;
            }
        }
        let mut m = Mag(out.into_iter().map(|l| l as u32).collect());
        m.trim();
        m
    }

    /// `self * m + add` for a small multiplier.
    fn mul_small_add(&self, m: u64, add: u64) -> Mag {
        debug_assert!(m <= BASE && add < BASE);
        let mut out = Vec::with_capacity(self.0.len() + 1);
        let mut carry = add;
        for &l in &self.0 {
            let t = u64::from(l) * m + carry;
            out.push((t % BASE) as u32);
            carry = t / BASE;
        }
        if carry > 0 {
            out.push(carry as u32);
        }
        let mut r = Mag(out.into());
        r.trim();
        r
    }

    pub(crate) fn add_small(&self, add: u32) -> Mag {
        self.mul_small_add(1, u64::from(add))
    }

    /// `(self / d, self % d)` for `0 < d <= 10⁹`.
    fn divrem_small(&self, d: u64) -> (Mag, u64) {
        debug_assert!(d > 0 && d <= BASE);
        let mut q = vec![0u32; self.0.len()];
        let mut rem = 0u64;
        for i in (0..self.0.len()).rev() {
            let cur = rem * BASE + u64::from(self.0[i]);
            q[i] = (cur / d) as u32;
            rem = cur % d;
        }
        let mut m = Mag(q.into());
        m.trim();
        (m, rem)
    }

    /// `self * 10ⁿ`.
    pub(crate) fn mul_pow10(&self, n: u32) -> Mag {
        if self.is_zero() || n == 0 {
            return self.clone();
        }
        let shifted = self.mul_small_add(10u64.pow(n % LIMB_DIGITS as u32), 0);
        let mut limbs = vec![0u32; (n as usize) / LIMB_DIGITS];
        limbs.extend_from_slice(&shifted.0);
        Mag(limbs.into())
    }

    pub(crate) fn pow10(n: u32) -> Mag {
        Mag(vec![1].into()).mul_pow10(n)
    }

    /// `(self / 10ⁿ, self % 10ⁿ)`.
    pub(crate) fn divrem_pow10(&self, n: u32) -> (Mag, Mag) {
        let low_limbs = (n as usize / LIMB_DIGITS).min(self.0.len());
        let mut low = Mag(self.0[..low_limbs].into());
        low.trim();
        let high = Mag(self.0[low_limbs..].into());
        let part = 10u64.pow(n % LIMB_DIGITS as u32);
        let (q, r) = high.divrem_small(part);
        let mut rem = low;
        if r > 0 {
            let mut limbs = rem.0.into_vec();
            limbs.resize(low_limbs, 0);
            limbs.push(r as u32);
            rem = Mag(limbs.into());
            rem.trim();
        }
        (q, rem)
    }

    /// `(self / d, self % d)`; `d` must not be zero. Knuth, TAOCP vol. 2, 4.3.1, algorithm D.
    pub(crate) fn divrem(&self, d: &Mag) -> (Mag, Mag) {
        assert!(
            !d.is_zero(),
            "Mag::divrem by zero: callers check for division by zero"
        );
        if self.cmp_mag(d) == Ordering::Less {
            return (Mag::zero(), self.clone());
        }
        if d.0.len() == 1 {
            let (q, r) = self.divrem_small(u64::from(d.0[0]));
            return (q, Mag::from_u128(u128::from(r)));
        }
        // Normalise so the divisor's top limb is at least BASE / 2.
        let norm = BASE / (u64::from(*d.0.last().expect("non-zero")) + 1);
        let v = d.mul_small_add(norm, 0).0;
        let mut u = self.mul_small_add(norm, 0).0.into_vec();
        u.resize(self.0.len() + 1, 0);
        let n = v.len();
        let m = u.len() - n - 1;
        let mut q = vec![0u32; m + 1];
        let (v_top, v_next) = (u64::from(v[n - 1]), u64::from(v[n - 2]));
        for j in (0..=m).rev() {
            let num = u64::from(u[j + n]) * BASE + u64::from(u[j + n - 1]);
            let mut qhat = num / v_top;
            let mut rhat = num % v_top;
            while qhat >= BASE || qhat * v_next > rhat * BASE + u64::from(u[j + n - 2]) {
                qhat -= 1;
                rhat += v_top;
                if rhat >= BASE {
                    break;
                }
            }
            // u[j..=j+n] -= qhat * v
            let mut carry = 0u64;
            let mut borrow = 0i64;
            for i in 0..n {
                let p = qhat * u64::from(v[i]) + carry;
                carry = p / BASE;
                let mut t = i64::from(u[i + j]) - (p % BASE) as i64 + borrow;
                borrow = 0;
                if t < 0 {
                    t += BASE as i64;
                    borrow = -1;
                }
                u[i + j] = t as u32;
            }
            let mut t = i64::from(u[j + n]) - carry as i64 + borrow;
            borrow = 0;
            if t < 0 {
                t += BASE as i64;
                borrow = -1;
            }
            u[j + n] = t as u32;
            if borrow < 0 {
                // qhat was one too large: add the divisor back (the carry out is dropped).
                qhat -= 1;
                let mut c = 0u64;
                for i in 0..n {
                    let s = u64::from(u[i + j]) + u64::from(v[i]) + c;
                    u[i + j] = (s % BASE) as u32;
                    c = s / BASE;
                }
                u[j + n] = ((u64::from(u[j + n]) + c) % BASE) as u32;
            }
            q[j] = qhat as u32;
        }
        let mut quotient = Mag(q.into());
        quotient.trim();
        let mut rem = Mag(u[..n].into());
        rem.trim();
        let (rem, _) = rem.divrem_small(norm);
        (quotient, rem)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn m(v: u128) -> Mag {
        Mag::from_u128(v)
    }

    #[test]
    fn decimal_round_trip() {
        assert_eq!(Mag::from_ascii_digits(b"000").to_decimal_string(), "0");
        assert_eq!(
            Mag::from_ascii_digits(b"1000000000000000000001").to_decimal_string(),
            "1000000000000000000001"
        );
        assert_eq!(m(1_000_000_000).decimal_len(), 10);
        assert_eq!(Mag::zero().decimal_len(), 0);
    }

    #[test]
    fn pow10_shifts() {
        assert_eq!(
            m(123).mul_pow10(20).to_decimal_string(),
            format!("123{}", "0".repeat(20))
        );
        let (q, r) = m(123_456_789_012_345).divrem_pow10(10);
        assert_eq!((q, r), (m(12_345), m(6_789_012_345)));
        let (q, r) = m(5).divrem_pow10(30);
        assert_eq!((q, r), (m(0), m(5)));
        let (q, r) = m(1_000_000_000_000_000_000).divrem_pow10(18);
        assert_eq!((q, r), (m(1), m(0)));
    }

    #[test]
    fn long_division_needing_add_back() {
        // A classic case where the first qhat estimate is too large.
        let a = Mag::from_ascii_digits(b"999999999000000000000000000000000000");
        let b = Mag::from_ascii_digits(b"999999999000000001");
        let (q, r) = a.divrem(&b);
        assert_eq!(q.mul(&b).add(&r), a);
        assert_eq!(r.cmp_mag(&b), Ordering::Less);
    }

    proptest! {
        #[test]
        fn arithmetic_matches_u128(a in any::<u64>(), b in any::<u64>(), c in 1u64..) {
            let (a, b, c) = (u128::from(a), u128::from(b), u128::from(c));
            prop_assert_eq!(m(a).add(&m(b)), m(a + b));
            prop_assert_eq!(m(a).mul(&m(b)), m(a * b));
            if a >= b {
                prop_assert_eq!(m(a).sub(&m(b)), m(a - b));
            }
            let big = a * b + 17;
            let (q, r) = m(big).divrem(&m(c));
            prop_assert_eq!((q, r), (m(big / c), m(big % c)));
            let (q, r) = m(big).divrem_pow10((c % 38) as u32);
            let p = 10u128.pow((c % 38) as u32);
            prop_assert_eq!((q, r), (m(big / p), m(big % p)));
        }

        #[test]
        fn division_identity_on_wide_values(a in "[1-9][0-9]{0,60}", b in "[1-9][0-9]{0,30}") {
            let (a, b) = (Mag::from_ascii_digits(a.as_bytes()), Mag::from_ascii_digits(b.as_bytes()));
            let (q, r) = a.divrem(&b);
            prop_assert_eq!(r.cmp_mag(&b), Ordering::Less);
            prop_assert_eq!(q.mul(&b).add(&r), a);
        }
    }
}
