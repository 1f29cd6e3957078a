//! `hashtext(text)`: PostgreSQL's `hash_any` (Bob Jenkins' lookup3 hash, as in
//! `common/hashfn.c`) of the string's UTF-8 bytes, as a signed `int4`. Applications use
//! it for advisory lock keys and sharding, so the value must be PostgreSQL's exactly.

fn mix(a: &mut u32, b: &mut u32, c: &mut u32) {
    *a = a.wrapping_sub(*c);
    *a ^= c.rotate_left(4);
    *c = c.wrapping_add(*b);
    *b = b.wrapping_sub(*a);
    *b ^= a.rotate_left(6);
    *a = a.wrapping_add(*c);
    *c = c.wrapping_sub(*b);
    *c ^= b.rotate_left(8);
    *b = b.wrapping_add(*a);
    *a = a.wrapping_sub(*c);
    *a ^= c.rotate_left(16);
    *c = c.wrapping_add(*b);
    *b = b.wrapping_sub(*a);
    *b ^= a.rotate_left(19);
    *a = a.wrapping_add(*c);
    *c = c.wrapping_sub(*b);
    *c ^= b.rotate_left(4);
    *b = b.wrapping_add(*a);
}

fn finish(a: &mut u32, b: &mut u32, c: &mut u32) {
    *c ^= *b;
    *c = c.wrapping_sub(b.rotate_left(14));
    *a ^= *c;
    *a = a.wrapping_sub(c.rotate_left(11));
    *b ^= *a;
    *b = b.wrapping_sub(a.rotate_left(25));
    *c ^= *b;
    *c = c.wrapping_sub(b.rotate_left(16));
    *a ^= *c;
    *a = a.wrapping_sub(c.rotate_left(4));
    *b ^= *a;
    *b = b.wrapping_sub(a.rotate_left(14));
    *c ^= *b;
    *c = c.wrapping_sub(b.rotate_left(24));
}

/// `hash_bytes` on a little-endian machine (PostgreSQL's answers there).
pub fn hash_bytes(key: &[u8]) -> u32 {
    let init = 0x9e37_79b9_u32
        .wrapping_add(key.len() as u32)
        .wrapping_add(3_923_095);
    let (mut a, mut b, mut c) = (init, init, init);
    let word = |chunk: &[u8]| -> u32 {
        chunk
            .iter()
            .enumerate()
            .fold(0u32, |w, (i, &byte)| w | (u32::from(byte) << (8 * i)))
    };
    let mut rest = key;
    while rest.len() >= 12 {
        a = a.wrapping_add(word(&rest[0..4]));
        b = b.wrapping_add(word(&rest[4..8]));
        c = c.wrapping_add(word(&rest[8..12]));
        mix(&mut a, &mut b, &mut c);
        rest = &rest[12..];
    }
    // The tail: up to 4 bytes into a, 4 into b, and 3 into c's upper bytes (its lowest
    // byte is left for the length, which `init` already holds).
    a = a.wrapping_add(word(&rest[..rest.len().min(4)]));
    if rest.len() > 4 {
        b = b.wrapping_add(word(&rest[4..rest.len().min(8)]));
    }
    if rest.len() > 8 {
        c = c.wrapping_add(word(&rest[8..]) << 8);
    }
    finish(&mut a, &mut b, &mut c);
    c
}

/// `hashtext`.
pub fn hashtext(s: &str) -> i32 {
    hash_bytes(s.as_bytes()) as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    // Values from PostgreSQL 15 on x86-64.
    #[test]
    fn matches_postgres() {
        assert_eq!(hashtext("x"), 1_074_944_137);
        assert_eq!(hashtext(""), -1_477_818_771);
        assert_eq!(hashtext("hello world, this is long"), -1_137_652_777);
        assert_eq!(hashtext("abcdefghijkl"), -1_586_087_212);
        assert_eq!(hashtext("é"), -983_094_517);
    }
}
