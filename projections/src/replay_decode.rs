//! Decoding transaction records for replay without serde on the common path.
//!
//! Replay decodes every record of the log, and decoding through serde (every field through a
//! visitor, an allocation per vector) costs more than applying the changes. Almost every
//! record is a transaction of row inserts, updates and deletes in the compact form zqlite
//! writes; [`decode_changes`] reads those directly from the payload. Anything else (another
//! change, a record written with field names, an unexpected encoding) is decoded by serde:
//! a change on its own when its bytes frame correctly, the whole record otherwise.
//!
//! Invariants:
//! - [`decode_changes`] yields exactly the changes `rmp_serde` decodes from the payload,
//!   except the before images of updates and deletes, which replay never reads: those are
//!   checked to decode and then dropped (`before: None`).
//! - It fails exactly when `rmp_serde` fails: it gives up (and serde decides) on anything it
//!   does not read exactly as serde would. Both are property-tested against serde below.

use crate::change::{Change, TxRecord};
use crate::msgpack::Cursor;
use crate::state::{Key, Row};
use crate::value::Value;
use crate::value::encoding::read_raw_value;

/// Reusable buffers of a decoding thread.
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    /// A row's values before they move into its shared allocation.
    values: Vec<Value>,
}

/// Decodes a transaction record's payload into `changes` (which must be empty). An error is
/// serde's message for a payload that does not decode.
pub(crate) fn decode_changes(
    payload: &[u8],
    changes: &mut Vec<Change>,
    scratch: &mut Scratch,
) -> Result<(), String> {
    if read_transaction(&mut Cursor::new(payload), changes, scratch).is_some() {
        return Ok(());
    }
    changes.clear();
    let tx: TxRecord = rmp_serde::from_slice(payload).map_err(|e| e.to_string())?;
    changes.extend(tx.changes.into_iter().map(without_before));
    Ok(())
}

/// A change as replay keeps it: without the before image it never reads.
fn without_before(change: Change) -> Change {
    match change {
        Change::Update {
            table, key, row, ..
        } => Change::Update {
            table,
            key,
            row,
            before: None,
        },
        Change::Delete { table, key, .. } => Change::Delete {
            table,
            key,
            before: None,
        },
        other => other,
    }
}

/// `[meta, changes]`, all of it.
fn read_transaction(
    cursor: &mut Cursor<'_>,
    changes: &mut Vec<Change>,
    scratch: &mut Scratch,
) -> Option<()> {
    if cursor.array_len()? != 2 {
        return None;
    }
    check_meta(cursor)?;
    let count = cursor.array_len()?;
    if count > cursor.remaining() {
        return None;
    }
    changes.reserve(count);
    for _ in 0..count {
        changes.push(read_change(cursor, scratch)?);
    }
    cursor.at_end().then_some(())
}

/// `TxMeta` as a field array (every field defaults, so any prefix of them): checked, not
/// kept (replay does not read it).
fn check_meta(cursor: &mut Cursor<'_>) -> Option<()> {
    let fields = cursor.array_len()?;
    if fields > 6 {
        return None;
    }
    for field in 0..fields {
        match field {
            // user
            0 => drop(cursor.str()?),
            // tenant, application_name, client_addr
            1..=3 => check_optional_str(cursor)?,
            // statements
            4 => {
                for _ in 0..cursor.array_len()? {
                    cursor.str()?;
                }
            }
            // params: per statement, per parameter, its text or NULL
            _ => {
                for _ in 0..cursor.array_len()? {
                    for _ in 0..cursor.array_len()? {
                        check_optional_str(cursor)?;
                    }
                }
            }
        }
    }
    Some(())
}

fn check_optional_str(cursor: &mut Cursor<'_>) -> Option<()> {
    if !cursor.nil() {
        cursor.str()?;
    }
    Some(())
}

/// One change: `{variant: fields}`. Row changes are read here, any other by serde.
fn read_change(cursor: &mut Cursor<'_>, scratch: &mut Scratch) -> Option<Change> {
    let start = cursor.position();
    if cursor.map_len()? != 1 {
        return None;
    }
    let variant = cursor.str()?;
    match variant {
        "Insert" => {
            if cursor.array_len()? != 3 {
                return None;
            }
            let table = cursor.int_as()?;
            let rowid = if cursor.nil() {
                None
            } else {
                Some(cursor.int_as()?)
            };
            let row = read_row(cursor, scratch)?;
            Some(Change::Insert { table, rowid, row })
        }
        "Update" => {
            let fields = cursor.array_len()?;
            if !(3..=4).contains(&fields) {
                return None;
            }
            let table = cursor.int_as()?;
            let key = read_key(cursor)?;
            let row = read_row(cursor, scratch)?;
            if fields == 4 {
                check_optional_row(cursor)?;
            }
            Some(Change::Update {
                table,
                key,
                row,
                before: None,
            })
        }
        "Delete" => {
            let fields = cursor.array_len()?;
            if !(2..=3).contains(&fields) {
                return None;
            }
            let table = cursor.int_as()?;
            let key = read_key(cursor)?;
            if fields == 3 {
                check_optional_row(cursor)?;
            }
            Some(Change::Delete {
                table,
                key,
                before: None,
            })
        }
        _ => {
            cursor.skip()?;
            rmp_serde::from_slice(cursor.since(start)).ok()
        }
    }
}

/// A row: an array of values, straight into its shared allocation.
fn read_row(cursor: &mut Cursor<'_>, scratch: &mut Scratch) -> Option<Row> {
    let len = cursor.array_len()?;
    if len > cursor.remaining() {
        return None;
    }
    let values = &mut scratch.values;
    values.clear();
    for _ in 0..len {
        values.push(read_raw_value(cursor)?.into_value()?);
    }
    // A draining iterator knows its exact length: the row is allocated once.
    Some(values.drain(..).collect())
}

/// A key: an array of values (one value, the common case, without allocating).
fn read_key(cursor: &mut Cursor<'_>) -> Option<Key> {
    let len = cursor.array_len()?;
    if len == 1 {
        return Some(Key::from([read_raw_value(cursor)?.into_value()?]));
    }
    if len > cursor.remaining() {
        return None;
    }
    let mut key = Vec::with_capacity(len);
    for _ in 0..len {
        key.push(read_raw_value(cursor)?.into_value()?);
    }
    Some(Key::from(key))
}

/// An optional before image: checked to decode, not kept.
fn check_optional_row(cursor: &mut Cursor<'_>) -> Option<()> {
    if cursor.nil() {
        return Some(());
    }
    for _ in 0..cursor.array_len()? {
        if !read_raw_value(cursor)?.is_valid() {
            return None;
        }
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use proptest::prelude::*;

    use super::*;
    use crate::catalog::test_column;
    use crate::change::TxMeta;
    use crate::value::encoding::{RawValue, samples_of_every_type};
    use crate::value::{DataType, parse_value};

    fn decode(payload: &[u8]) -> Result<Vec<Change>, String> {
        let mut changes = Vec::new();
        decode_changes(payload, &mut changes, &mut Scratch::default()).map(|()| changes)
    }

    /// What serde decodes, as replay keeps it.
    fn serde_decode(payload: &[u8]) -> Result<Vec<Change>, String> {
        let tx: TxRecord = rmp_serde::from_slice(payload).map_err(|e| e.to_string())?;
        Ok(tx.changes.into_iter().map(without_before).collect())
    }

    /// Whether the fast path read it (serde was not needed for the record as a whole).
    fn read_directly(payload: &[u8]) -> bool {
        let mut changes = Vec::new();
        read_transaction(
            &mut Cursor::new(payload),
            &mut changes,
            &mut Scratch::default(),
        )
        .is_some()
    }

    /// Whether a value would be read by [`read_raw_value`] without falling back (for tests).
    fn reads_directly(value: &Value) -> bool {
        let bytes = rmp_serde::to_vec(value).unwrap();
        !matches!(
            read_raw_value(&mut Cursor::new(&bytes)),
            None | Some(RawValue::Serde(_))
        )
    }

    fn values_of_every_type() -> Vec<Value> {
        let cases = samples_of_every_type();
        let mut values: Vec<Value> = cases
            .iter()
            .map(|(text, ty)| parse_value(text, ty).unwrap())
            .collect();
        values.push(Value::Null);
        values.push(Value::Float8(f64::NAN));
        values
    }

    fn sample(values: &[Value]) -> TxRecord {
        let row: Row = Arc::from(values);
        TxRecord {
            meta: TxMeta {
                user: "ann".into(),
                tenant: Some("t1".into()),
                application_name: None,
                client_addr: Some("127.0.0.1".into()),
                statements: vec!["UPDATE t SET v = $1".into(), "DELETE FROM t".into()],
                params: vec![vec![Some("b".into()), None], vec![]],
            },
            changes: vec![
                Change::Insert {
                    table: 7,
                    rowid: Some(3),
                    row: row.clone(),
                },
                Change::Update {
                    table: 7,
                    key: vec![Value::Int8(1), Value::Text("k".into())].into(),
                    row: row.clone(),
                    before: Some(row.clone()),
                },
                Change::Update {
                    table: 7,
                    key: vec![Value::Int8(2)].into(),
                    row: row.clone(),
                    before: None,
                },
                Change::Delete {
                    table: 300,
                    key: vec![Value::Int8(-1)].into(),
                    before: Some(row.clone()),
                },
                Change::Truncate { table: 7 },
                Change::AddColumn {
                    table: 7,
                    column: test_column("c", DataType::Int4),
                    fill: Value::Int4(5),
                },
            ],
        }
    }

    #[test]
    fn row_changes_decode_as_serde_decodes_them_without_before_images() {
        let values = values_of_every_type();
        let payload = rmp_serde::to_vec(&sample(&values)).unwrap();
        assert!(read_directly(&payload));
        let decoded = decode(&payload).unwrap();
        assert_eq!(
            format!("{decoded:?}"),
            format!("{:?}", serde_decode(&payload).unwrap())
        );
        assert!(matches!(
            &decoded[1],
            Change::Update { before: None, row, .. } if row.len() == values.len()
        ));
    }

    #[test]
    fn the_common_types_are_read_without_serde() {
        for value in values_of_every_type() {
            let expected = !matches!(value, Value::Numeric(_) | Value::Jsonb(_) | Value::Array(_));
            assert_eq!(reads_directly(&value), expected, "{value:?}");
        }
    }

    #[test]
    fn records_written_with_field_names_decode_through_serde() {
        let payload = rmp_serde::to_vec_named(&sample(&[Value::Int8(1)])).unwrap();
        assert!(!read_directly(&payload));
        assert_eq!(decode(&payload), serde_decode(&payload));
        assert_eq!(decode(&payload).unwrap().len(), 6);
    }

    #[test]
    fn damaged_payloads_fail_as_serde_fails() {
        let payload = rmp_serde::to_vec(&sample(&[Value::Int8(1)])).unwrap();
        for end in 0..payload.len() {
            assert!(decode(&payload[..end]).is_err(), "truncated at {end}");
        }
        // A value tag that does not exist, in a before image replay does not keep.
        let bad_before = rmp_serde::to_vec(&(
            TxMeta::default(),
            [std::collections::BTreeMap::from([(
                "Update",
                (7u64, [(4u8, 1i64)], [(4u8, 1i64)], [(99u8, 1i64)]),
            )])],
        ))
        .unwrap();
        assert!(serde_decode(&bad_before).is_err());
        assert!(decode(&bad_before).is_err());
    }

    fn arb_value() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i16>().prop_map(Value::Int2),
            any::<i32>().prop_map(Value::Int4),
            any::<i64>().prop_map(Value::Int8),
            any::<f32>().prop_map(Value::Float4),
            any::<f64>().prop_map(Value::Float8),
            ".{0,40}".prop_map(Value::Text),
            ".{0,3}".prop_map(Value::BpChar),
            proptest::collection::vec(any::<u8>(), 0..40).prop_map(Value::Bytea),
            any::<i32>().prop_map(|d| Value::Date(crate::value::Date(d))),
            any::<i64>().prop_map(|t| Value::Timestamp(crate::value::Timestamp(t))),
            any::<u128>().prop_map(|u| Value::Uuid(uuid::Uuid::from_u128(u))),
            (-1000i64..1000).prop_map(|n| parse_value(
                &format!("{n}.25"),
                &DataType::Numeric(None)
            )
            .unwrap()),
        ]
    }

    fn arb_change() -> impl Strategy<Value = Change> {
        let row = || proptest::collection::vec(arb_value(), 0..6).prop_map(Row::from);
        let key = || proptest::collection::vec(arb_value(), 1..3).prop_map(Key::from);
        prop_oneof![
            (any::<u64>(), proptest::option::of(any::<i64>()), row())
                .prop_map(|(table, rowid, row)| Change::Insert { table, rowid, row }),
            (any::<u64>(), key(), row(), proptest::option::of(row())).prop_map(
                |(table, key, row, before)| Change::Update {
                    table,
                    key,
                    row,
                    before
                }
            ),
            (any::<u64>(), key(), proptest::option::of(row()))
                .prop_map(|(table, key, before)| { Change::Delete { table, key, before } }),
            any::<u64>().prop_map(|table| Change::Truncate { table }),
        ]
    }

    fn arb_record() -> impl Strategy<Value = TxRecord> {
        (
            ".{0,8}",
            proptest::option::of(".{0,8}"),
            proptest::collection::vec(".{0,20}", 0..3),
            proptest::collection::vec(arb_change(), 0..4),
        )
            .prop_map(|(user, tenant, statements, changes)| TxRecord {
                meta: TxMeta {
                    user,
                    tenant,
                    statements,
                    ..TxMeta::default()
                },
                changes,
            })
    }

    proptest! {
        /// Any record decodes to what serde decodes, read directly.
        #[test]
        fn records_decode_as_serde_decodes_them(record in arb_record()) {
            let payload = rmp_serde::to_vec(&record).unwrap();
            prop_assert!(read_directly(&payload));
            prop_assert_eq!(
                format!("{:?}", decode(&payload)),
                format!("{:?}", serde_decode(&payload))
            );
        }

        /// A damaged record (a byte changed) decodes as serde decodes it, or fails as serde
        /// fails; never a different answer.
        #[test]
        fn damaged_records_decode_or_fail_as_serde_does(
            record in arb_record(),
            at in any::<prop::sample::Index>(),
            byte in any::<u8>(),
        ) {
            let mut payload = rmp_serde::to_vec(&record).unwrap();
            let at = at.index(payload.len());
            payload[at] = byte;
            let ours = decode(&payload);
            let theirs = serde_decode(&payload);
            prop_assert_eq!(ours.is_ok(), theirs.is_ok(), "{:?} vs {:?}", ours, theirs);
            prop_assert_eq!(format!("{:?}", ours.ok()), format!("{:?}", theirs.ok()));
        }
    }
}
