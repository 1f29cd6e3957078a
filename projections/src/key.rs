//! [`Key`]: the key of a stored row (its primary key values, or `[rowid]`) and of an index
//! entry (index values followed by the row key).
//!
//! Most keys are one value, so a one-value key is stored inline, in the map node itself; a
//! longer key is a shared slice. Either way a key behaves as `[Value]`: it derefs, borrows,
//! compares, hashes and serialises exactly as the slice of its values, so maps keyed by
//! `Key` are searched with a plain `&[Value]`.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::btree::KeyPrefix;
use crate::value::Value;

#[derive(Clone)]
pub struct Key(Repr);

#[derive(Clone)]
enum Repr {
    One(Value),
    Many(Arc<[Value]>),
}

impl Deref for Key {
    type Target = [Value];

    fn deref(&self) -> &[Value] {
        match &self.0 {
            Repr::One(v) => std::slice::from_ref(v),
            Repr::Many(values) => values,
        }
    }
}

impl Borrow<[Value]> for Key {
    fn borrow(&self) -> &[Value] {
        self
    }
}

/// A key orders by its first value first (see [`crate::value::key_prefix`]).
impl KeyPrefix for [Value] {
    fn key_prefix(&self) -> u64 {
        self.first().map_or(0, crate::value::key_prefix)
    }
}

impl KeyPrefix for Key {
    fn key_prefix(&self) -> u64 {
        (**self).key_prefix()
    }
}

impl From<&[Value]> for Key {
    fn from(values: &[Value]) -> Key {
        match values {
            [one] => Key(Repr::One(one.clone())),
            _ => Key(Repr::Many(Arc::from(values))),
        }
    }
}

impl From<Vec<Value>> for Key {
    fn from(mut values: Vec<Value>) -> Key {
        match values.len() {
            1 => Key(Repr::One(values.pop().expect("one value"))),
            _ => Key(Repr::Many(Arc::from(values))),
        }
    }
}

impl From<[Value; 1]> for Key {
    fn from([value]: [Value; 1]) -> Key {
        Key(Repr::One(value))
    }
}

impl FromIterator<Value> for Key {
    /// A one-value key (the common case) is built without allocating.
    fn from_iter<I: IntoIterator<Item = Value>>(iter: I) -> Key {
        let mut iter = iter.into_iter();
        let Some(first) = iter.next() else {
            return Key::from(Vec::new());
        };
        match iter.next() {
            None => Key(Repr::One(first)),
            Some(second) => {
                let mut values = vec![first, second];
                values.extend(iter);
                Key::from(values)
            }
        }
    }
}

impl PartialEq for Key {
    fn eq(&self, other: &Key) -> bool {
        **self == **other
    }
}

impl Eq for Key {}

impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Key) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Key {
    fn cmp(&self, other: &Key) -> Ordering {
        (**self).cmp(&**other)
    }
}

impl Hash for Key {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (**self).hash(state)
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (**self).fmt(f)
    }
}

impl Serialize for Key {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        (**self).serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Key, D::Error> {
        Vec::<Value>::deserialize(deserializer).map(Key::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_behave_as_their_values() {
        let one = Key::from(vec![Value::Int8(7)]);
        let many = Key::from(&[Value::Int8(7), Value::Text("a".into())][..]);
        assert_eq!(&*one, &[Value::Int8(7)]);
        assert!(one < many, "a prefix sorts first, as for slices");
        assert_eq!(one, Key::from([Value::Int8(7)]));
        let bytes = rmp_serde::to_vec(&many).unwrap();
        assert_eq!(bytes, rmp_serde::to_vec(&many.to_vec()).unwrap());
        assert_eq!(rmp_serde::from_slice::<Key>(&bytes).unwrap(), many);
        // One-value keys live inline in map nodes.
        assert_eq!(std::mem::size_of::<Key>(), 32);
    }

    #[test]
    fn collected_keys_equal_keys_built_from_vectors() {
        for len in 0..4 {
            let values: Vec<Value> = (0..len).map(Value::Int8).collect();
            let collected: Key = values.iter().cloned().collect();
            assert_eq!(collected, Key::from(values.clone()));
            assert_eq!(&*collected, &values[..]);
            assert_eq!(matches!(collected.0, Repr::One(_)), len == 1);
        }
    }
}
