//! Log records written by the projections: one record per committed transaction.
//!
//! A record holds who committed it and the ordered list of changes (row and catalog changes,
//! and the event store's appends, deletes and stream metadata); applying the changes in
//! order to the state before it yields the state after it. Records are compact MessagePack
//! (see `zqlite_log::NewRecord::msgpack`): structs are arrays in field order, enum variants
//! keep their names; records written with field names (zqlite before the compact form)
//! decode too. Hence the rules for every type here: new fields go at the end of their struct
//! with `#[serde(default)]`, fields are never reordered or removed, and variants are never
//! renamed (`the_record_encoding_is_stable` pins the bytes).

use std::cell::Cell;
use std::fmt;

use serde::de::{SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use zqlite_log::RecordKind;

use crate::catalog::{
    ColumnDef, IndexDef, ProjectionDef, RoleDef, SequenceDef, TableDef, TableId, ViewDef,
};
use crate::events::{ExpectedVersion, NewEvent};
use crate::state::{Key, Row};
use crate::value::Value;

/// Decodes a row (a plain array of values) straight into its shared slice with one
/// allocation: serde's own `Arc<[T]>` builds a vector, then copies it into a new
/// allocation. Replay decodes a row per record, so this is on its hot path.
fn decode_row<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Row, D::Error> {
    struct RowVisitor;

    impl<'de> Visitor<'de> for RowVisitor {
        type Value = Row;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a row: an array of values")
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Row, A::Error> {
            thread_local! {
                /// Decoded values before they move into the row's allocation; kept to
                /// reuse its capacity (taken out while in use, so nesting is harmless).
                static VALUES: Cell<Vec<Value>> = const { Cell::new(Vec::new()) };
            }
            let mut values = VALUES.take();
            values.clear();
            while let Some(value) = seq.next_element()? {
                values.push(value);
            }
            // A draining iterator knows its exact length: the row is allocated once.
            let row: Row = values.drain(..).collect();
            VALUES.set(values);
            Ok(row)
        }
    }

    deserializer.deserialize_seq(RowVisitor)
}

/// The log record kind of a committed transaction.
pub const TRANSACTION: RecordKind = RecordKind(1);

/// The log record kind of a security event ([`SecurityEvent`]): something worth auditing
/// that changes no state, such as a failed login. Replay only advances the LSN past it.
pub const SECURITY: RecordKind = RecordKind(2);

/// One change to the state. Rows are full rows in the table's column order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Change {
    CreateTable(TableDef),
    DropTable {
        table: TableId,
    },
    /// A new definition for an existing table (same id and columns): renames, constraints,
    /// primary key. Rows are re-keyed and indexes rebuilt as the definition requires.
    AlterTable(TableDef),
    /// Appends a column; every existing row gets `fill`.
    AddColumn {
        table: TableId,
        column: ColumnDef,
        fill: Value,
    },
    /// Removes the column at `column` from the definition and every row. Indexes and
    /// constraints that used it must have been dropped by earlier changes.
    DropColumn {
        table: TableId,
        column: usize,
    },
    CreateIndex {
        table: TableId,
        index: IndexDef,
    },
    DropIndex {
        table: TableId,
        name: String,
    },
    Truncate {
        table: TableId,
    },
    /// `rowid` is set exactly for tables without a primary key.
    Insert {
        table: TableId,
        rowid: Option<i64>,
        /// Shared with the stored row (encoded as a plain array).
        #[serde(deserialize_with = "decode_row")]
        row: Row,
    },
    /// Replaces the row stored under `key` (its primary key, or `[rowid]`).
    Update {
        table: TableId,
        key: Key,
        #[serde(deserialize_with = "decode_row")]
        row: Row,
        /// The row it replaced, as the committer found it at the head (for audit; replay
        /// ignores it). Absent in records written before zqlite kept it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        before: Option<Row>,
    },
    Delete {
        table: TableId,
        key: Key,
        /// The row deleted (as for `Update::before`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        before: Option<Row>,
    },
    CreateView(ViewDef),
    DropView {
        name: String,
    },
    CreateSequence(SequenceDef),
    DropSequence {
        name: String,
    },
    /// nextval handed out `last_value`: the sequence moves to it unless it is already past
    /// it (concurrent transactions may commit their advances out of order).
    AdvanceSequence {
        name: String,
        last_value: i64,
    },
    /// setval: the sequence's state becomes exactly this.
    SetSequence {
        name: String,
        last_value: i64,
        is_called: bool,
    },
    CreateRole(RoleDef),
    /// The role's new definition (same name).
    AlterRole(RoleDef),
    DropRole {
        name: String,
    },
    /// Appends events to a stream as its next versions and the next global positions.
    /// `expected` is checked against the head at commit (and kept for audit); replay
    /// ignores it.
    AppendEvents {
        stream: String,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    },
    /// Soft delete (hides the events so far), or with `hard` a tombstone.
    DeleteStream {
        stream: String,
        hard: bool,
    },
    /// The stream's read limits; None removes a limit.
    SetStreamMetadata {
        stream: String,
        max_count: Option<u64>,
        max_age_seconds: Option<u64>,
    },
    /// A new projection (its progress starts empty).
    CreateProjection(ProjectionDef),
    DropProjection {
        name: String,
    },
    /// A projection's progress becomes exactly this (written with the row changes its
    /// statements made for the events of the same record).
    SetProjectionProgress {
        name: String,
        last_position: Option<u64>,
        events_applied: u64,
    },
}

/// Who committed a transaction and how (for audit).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxMeta {
    #[serde(default)]
    pub user: String,
    #[serde(default)]
    pub tenant: Option<String>,
    #[serde(default)]
    pub application_name: Option<String>,
    #[serde(default)]
    pub client_addr: Option<String>,
    /// Statement texts as received (parameters are never spliced in).
    #[serde(default)]
    pub statements: Vec<String>,
    /// The parameter values each statement ran with, in their text form (`None` for NULL),
    /// parallel to `statements`: empty for a statement without parameters, and the whole
    /// list empty when no statement had any. Values of parameters that set a password are
    /// `"********"`, as passwords in statement texts are.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub params: Vec<Vec<Option<String>>>,
}

/// The payload of a [`SECURITY`] record.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityEvent {
    /// What happened: `login_failed`.
    pub kind: String,
    /// The role the client named.
    #[serde(default)]
    pub user: String,
    #[serde(default)]
    pub client_addr: Option<String>,
    #[serde(default)]
    pub application_name: Option<String>,
    /// Why, for the audit trail (the SQLSTATE and message the client got).
    #[serde(default)]
    pub reason: String,
}

/// The payload of a [`TRANSACTION`] record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TxRecord {
    pub meta: TxMeta,
    pub changes: Vec<Change>,
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn sample() -> TxRecord {
        let row =
            |id: i64, v: &str| -> Row { Arc::from(vec![Value::Int8(id), Value::Text(v.into())]) };
        TxRecord {
            meta: TxMeta {
                user: "ann".into(),
                tenant: Some("t1".into()),
                statements: vec!["UPDATE t SET v = $1".into()],
                params: vec![vec![Some("b".into())]],
                ..TxMeta::default()
            },
            changes: vec![
                Change::Insert {
                    table: 7,
                    rowid: None,
                    row: row(1, "a"),
                },
                Change::Update {
                    table: 7,
                    key: vec![Value::Int8(1)].into(),
                    row: row(1, "b"),
                    before: Some(row(1, "a")),
                },
                Change::Delete {
                    table: 7,
                    key: vec![Value::Int8(1)].into(),
                    before: None,
                },
                Change::AppendEvents {
                    stream: "s".into(),
                    expected: ExpectedVersion::Exact(2),
                    events: vec![NewEvent {
                        id: uuid::Uuid::from_u128(1),
                        event_type: "E".into(),
                        data: "{}".into(),
                        metadata: None,
                    }],
                },
            ],
        }
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The bytes of a record are part of the log format: a change to a type here that moves
    /// them (a reordered field or variant) would misread every log written before it.
    #[test]
    fn the_record_encoding_is_stable() {
        let record = zqlite_log::NewRecord::msgpack(TRANSACTION, &sample()).unwrap();
        assert_eq!(
            hex(&record.payload),
            "9296a3616e6ea27431c0c091b35550444154452074205345542076203d2024319191a1629481a6496e736572749307c0929204019208a16181a6557064617465940791920401929204019208a162929204019208a16181a644656c65746592079192040181ac417070656e644576656e747393a17381a54578616374029194c41000000000000000000000000000000001a145a27b7dc0"
        );
    }

    #[test]
    fn records_written_with_field_names_still_decode() {
        let named = rmp_serde::to_vec_named(&sample()).unwrap();
        let tx: TxRecord = rmp_serde::from_slice(&named).unwrap();
        assert_eq!(tx, sample());
        let compact = rmp_serde::to_vec(&sample()).unwrap();
        assert!(
            compact.len() * 2 < named.len(),
            "{} vs {}",
            compact.len(),
            named.len()
        );
    }

    #[test]
    fn a_shorter_compact_update_reads_its_before_image_as_absent() {
        // An update written without `before` (older records) is an array of three fields.
        let bytes = rmp_serde::to_vec(&(
            TxMeta::default(),
            vec![std::collections::BTreeMap::from([(
                "Update",
                (7u64, vec![Value::Int8(1)], vec![Value::Int8(1)]),
            )])],
        ))
        .unwrap();
        let tx: TxRecord = rmp_serde::from_slice(&bytes).unwrap();
        assert!(
            matches!(&tx.changes[0], Change::Update { before: None, .. }),
            "{tx:?}"
        );
    }
}
