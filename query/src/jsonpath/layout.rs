//! Where a nested object sits in PostgreSQL's binary jsonb, which `.keyvalue()` reports as
//! the `id` of the pairs it makes.
//!
//! The layout (PostgreSQL 15, `jsonb_util.c`): a container is a 4-byte header, one 4-byte
//! entry per element (an object has its keys' entries, then its values'), then the keys'
//! bytes in storage order, then the values' data. Strings are their UTF-8 bytes, `true`,
//! `false` and `null` take no data, and numbers and nested containers are padded to a
//! 4-byte boundary first. A number is a `numeric` varlena: 4 bytes of length, a 2-byte
//! header (4 bytes when the display scale exceeds 63 or the base-10⁴ weight lies outside
//! -64..=63), and 2 bytes per base-10⁴ digit with leading and trailing zero digits
//! stripped. Offsets are from the document's top container.

use zqlite_projections::value::Jsonb;

/// The offset of the container `target` (compared by address) inside `root`.
pub(super) fn offset_of(root: &Jsonb, target: &Jsonb) -> Option<usize> {
    let mut found = None;
    container(root, 0, target, &mut found);
    found
}

fn align(pos: usize) -> usize {
    pos.next_multiple_of(4)
}

/// Lays out the container `node` at `start`, returning its length.
fn container(node: &Jsonb, start: usize, target: &Jsonb, found: &mut Option<usize>) -> usize {
    if std::ptr::eq(node, target) {
        *found = Some(start);
    }
    let mut pos = start + 4;
    match node {
        Jsonb::Array(items) => {
            pos += 4 * items.len();
            for v in items {
                pos = value(v, pos, target, found);
            }
        }
        Jsonb::Object(pairs) => {
            pos += 8 * pairs.len();
            pos += pairs.iter().map(|(k, _)| k.len()).sum::<usize>();
            for (_, v) in pairs {
                pos = value(v, pos, target, found);
            }
        }
        // A top-level scalar is a one-element array.
        scalar => {
            pos += 4;
            pos = value(scalar, pos, target, found);
        }
    }
    pos - start
}

/// Lays out one value at `pos`, returning the position after it.
fn value(v: &Jsonb, pos: usize, target: &Jsonb, found: &mut Option<usize>) -> usize {
    match v {
        Jsonb::Null | Jsonb::Bool(_) => pos,
        Jsonb::String(s) => pos + s.len(),
        Jsonb::Number(n) => align(pos) + numeric_size(&n.to_string()),
        Jsonb::Array(_) | Jsonb::Object(_) => {
            let start = align(pos);
            start + container(v, start, target, found)
        }
    }
}

/// The varlena size of a finite numeric, from its `numeric_out` text.
fn numeric_size(text: &str) -> usize {
    let text = text.trim_start_matches('-');
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    let int = int.trim_start_matches('0');
    let mut digits = "0".repeat((4 - int.len() % 4) % 4);
    digits.push_str(int);
    let int_groups = digits.len() / 4;
    digits.push_str(frac);
    digits.push_str(&"0".repeat((4 - frac.len() % 4) % 4));
    let groups: Vec<&str> = (0..digits.len() / 4)
        .map(|i| &digits[4 * i..4 * i + 4])
        .collect();
    let is_zero = |g: &&&str| g.bytes().all(|b| b == b'0');
    let lead = groups.iter().take_while(is_zero).count();
    let trail = groups.iter().rev().take_while(is_zero).count();
    let ndigits = groups.len().saturating_sub(lead + trail);
    let weight = if ndigits == 0 {
        0
    } else {
        int_groups as i64 - 1 - lead as i64
    };
    let short = frac.len() <= 63 && (-64..=63).contains(&weight);
    (if short { 6 } else { 8 }) + 2 * ndigits
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_sizes() {
        assert_eq!(numeric_size("0"), 6);
        assert_eq!(numeric_size("1"), 8);
        assert_eq!(numeric_size("12345"), 10);
        assert_eq!(numeric_size("-2.50"), 10);
        assert_eq!(numeric_size("10000"), 8);
        assert_eq!(numeric_size("0.001"), 8);
    }

    // Offsets PostgreSQL 15 reports as `.keyvalue()` ids.
    #[test]
    fn offsets_match_postgres() {
        let doc = Jsonb::parse(r#"{"a": 1, "b": {"c": 2}}"#).unwrap();
        let Jsonb::Object(pairs) = &doc else { panic!() };
        assert_eq!(offset_of(&doc, &doc), Some(0));
        assert_eq!(offset_of(&doc, &pairs[1].1), Some(32));
        let doc = Jsonb::parse(r#"[{"x": "yy"}, 1.5, {"z": null}]"#).unwrap();
        let Jsonb::Array(items) = &doc else { panic!() };
        assert_eq!(offset_of(&doc, &items[0]), Some(16));
        assert_eq!(offset_of(&doc, &items[2]), Some(44));
    }
}
