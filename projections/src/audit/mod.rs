//! Audit: the log read as "who changed what, when": records decoded into audit entries
//! ([`describe_changes`]) and the [`AuditIndex`] that finds the records worth reading.
//!
//! Design: the log stays the single source of truth. Every transaction record already
//! carries its who ([`TxMeta`]: user, tenant, application, client address, statement texts
//! and their parameters) and its row changes; updates and deletes also carry the row they
//! replaced (`before`, filled by the committer from the head), so one record describes its
//! changes completely and an audit query never replays state. Old records without a
//! before image show it as unknown. Security events that change no state (failed logins)
//! are records of their own kind ([`SECURITY`]).
//!
//! The index is derived from the log alone and kept in memory by the [`crate::Store`]. It is
//! built on the first audit query (one scan of the log) and caught up on later ones from
//! where it stopped, so commits pay nothing for it. Once built, the store saves it with
//! every checkpoint and on close ([`file`]), and the first audit query after a restart
//! loads it and reads only the records after it. It holds:
//! - the LSNs of the records that changed each row, by a 64-bit fingerprint of (table id,
//!   key): a history lookup reads only those records (a fingerprint collision only costs an
//!   extra read: entries are matched by exact key when read);
//! - the LSNs of the records that touched each table, and of the security-relevant ones
//!   (failed logins, role changes), so filters on a table or on security events skip the
//!   rest of the log;
//! - the shape of every table over time ([`TableHistory`]: name, columns, primary key), so
//!   keys and rows print with the column names they had when they were written.
//!
//! Time ranges need no index of their own: the log's sparse index maps a time to an LSN
//! ([`zqlite_log::Log::lsn_at_time`]) and an LSN to a file offset.
//!
//! Invariants:
//! - The index describes records `1..=lsn()` exactly; it only ever grows by catching up.
//! - A row's LSN list is in LSN order without duplicates; so are the other lists.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json, json};
use zqlite_log::{ChainHash, Log, Lsn, Record};

use crate::catalog::{IndexColumn, TableDef, TableId};
use crate::change::{Change, SECURITY, SecurityEvent, TRANSACTION, TxRecord};
use crate::error::{Error, Result};
use crate::value::{CastContext, DataType, Value, cast};

pub(crate) mod file;

pub use file::path as saved_index_path;

/// A table's name, columns and primary key at some point of the log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableShape {
    pub id: TableId,
    pub name: String,
    pub columns: Vec<(String, DataType)>,
    pub primary_key: Option<Vec<usize>>,
}

impl TableShape {
    pub fn from_def(def: &TableDef) -> TableShape {
        TableShape {
            id: def.id,
            name: def.name.clone(),
            columns: def
                .columns
                .iter()
                .map(|c| (c.name.clone(), c.data_type))
                .collect(),
            primary_key: def.primary_key.clone(),
        }
    }

    /// The key a row is stored under (`rowid` for a table without a primary key).
    fn key_of(&self, row: &[Value], rowid: Option<i64>) -> Vec<Value> {
        match (&self.primary_key, rowid) {
            (_, Some(id)) => vec![Value::Int8(id)],
            (Some(cols), None) => cols
                .iter()
                .map(|&c| row.get(c).cloned().unwrap_or(Value::Null))
                .collect(),
            (None, None) => Vec::new(),
        }
    }

    /// `{"column": value, ...}` of the primary key, or `{"rowid": n}`.
    pub fn key_json(&self, key: &[Value]) -> Json {
        let mut map = Map::new();
        match &self.primary_key {
            Some(cols) => {
                for (&c, v) in cols.iter().zip(key) {
                    map.insert(self.column_name(c), value_json(v));
                }
            }
            None => {
                map.insert("rowid".into(), key.first().map_or(Json::Null, value_json));
            }
        }
        Json::Object(map)
    }

    /// `{"column": value, ...}` of a whole row.
    pub fn row_json(&self, row: &[Value]) -> Json {
        let map = row
            .iter()
            .enumerate()
            .map(|(i, v)| (self.column_name(i), value_json(v)))
            .collect();
        Json::Object(map)
    }

    fn column_name(&self, i: usize) -> String {
        self.columns
            .get(i)
            .map_or_else(|| format!("#{i}"), |(n, _)| n.clone())
    }

    /// `{"columns": [{"name", "type"}], "primary_key": [names]}`.
    fn definition_json(&self) -> Json {
        json!({
            "columns": self.columns.iter().map(|(n, t)| json!({"name": n, "type": t.to_string()})).collect::<Vec<_>>(),
            "primary_key": self.primary_key.as_ref().map(|cols| cols.iter().map(|&c| self.column_name(c)).collect::<Vec<_>>()),
        })
    }

    /// The stored key a JSON key names: an object with exactly the primary key's columns
    /// (`{"rowid": n}` for a table without one), each value a JSON scalar that casts to
    /// the column's type. The error says what was expected.
    pub fn parse_key(&self, key: &Json) -> std::result::Result<Vec<Value>, String> {
        let wanted: Vec<(String, DataType)> = match &self.primary_key {
            Some(cols) => cols.iter().map(|&c| self.columns[c].clone()).collect(),
            None => vec![("rowid".into(), DataType::Int8)],
        };
        let names = || {
            wanted
                .iter()
                .map(|(n, _)| format!("\"{n}\""))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let Json::Object(map) = key else {
            return Err(format!(
                "a key of table \"{}\" is a JSON object with the keys {}",
                self.name,
                names()
            ));
        };
        if map.len() != wanted.len() || wanted.iter().any(|(n, _)| !map.contains_key(n)) {
            return Err(format!(
                "a key of table \"{}\" has exactly the keys {}",
                self.name,
                names()
            ));
        }
        wanted
            .iter()
            .map(|(name, ty)| {
                let text = match &map[name] {
                    Json::String(s) => s.clone(),
                    Json::Number(n) => n.to_string(),
                    Json::Bool(b) => b.to_string(),
                    Json::Null => return Ok(Value::Null),
                    other => {
                        return Err(format!("key column \"{name}\" cannot be {other}"));
                    }
                };
                cast(Value::Text(text), ty, CastContext::Explicit)
                    .map_err(|e| format!("key column \"{name}\": {e}"))
            })
            .collect()
    }
}

/// A value as JSON: numbers and booleans as such, JSON as nested JSON, NULL as null, arrays
/// as arrays, everything else as its PostgreSQL text.
pub fn value_json(value: &Value) -> Json {
    match value {
        Value::Null => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Int2(v) => (*v).into(),
        Value::Int4(v) => (*v).into(),
        Value::Int8(v) => (*v).into(),
        Value::Numeric(_) | Value::Float4(_) | Value::Float8(_) => {
            let text = value.to_string();
            serde_json::from_str::<serde_json::Number>(&text)
                .map_or(Json::String(text), Json::Number)
        }
        Value::Json(_) | Value::Jsonb(_) => {
            let text = value.to_string();
            serde_json::from_str(&text).unwrap_or(Json::String(text))
        }
        Value::Array(a) => Json::Array(a.items().iter().map(value_json).collect()),
        other => Json::String(other.to_string()),
    }
}

/// A table's shapes: (LSN from which each holds, shape or `None` once dropped).
type ShapeVersions = Vec<(Lsn, Option<Arc<TableShape>>)>;

/// Table shapes over the log: which shape each table id had before a given record, and
/// which ids a name has been given to.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TableHistory {
    /// Per table id: (LSN from which it holds, shape or `None` once dropped), LSN order.
    by_id: HashMap<TableId, ShapeVersions>,
    /// Per name: the ids that have had it, in the order they first got it.
    by_name: HashMap<String, Vec<TableId>>,
}

impl TableHistory {
    /// The table's shape as the record at `lsn` found it (before its own changes).
    pub fn before(&self, id: TableId, lsn: Lsn) -> Option<Arc<TableShape>> {
        let versions = self.by_id.get(&id)?;
        let i = versions.partition_point(|(from, _)| *from < lsn);
        versions[..i].last().and_then(|(_, s)| s.clone())
    }

    /// The latest shape of the table (`None` once dropped).
    pub fn latest(&self, id: TableId) -> Option<Arc<TableShape>> {
        self.by_id.get(&id)?.last().and_then(|(_, s)| s.clone())
    }

    /// The last shape the table had (also after it was dropped).
    pub fn last_known(&self, id: TableId) -> Option<Arc<TableShape>> {
        self.by_id
            .get(&id)?
            .iter()
            .rev()
            .find_map(|(_, s)| s.clone())
    }

    /// Every table id that has been called `name`, oldest first.
    pub fn ids_named(&self, name: &str) -> &[TableId] {
        self.by_name.get(name).map_or(&[], Vec::as_slice)
    }

    fn record(&mut self, id: TableId, lsn: Lsn, shape: Option<Arc<TableShape>>) {
        if let Some(s) = &shape {
            let ids = self.by_name.entry(s.name.clone()).or_default();
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        let versions = self.by_id.entry(id).or_default();
        match versions.last_mut() {
            Some((from, last)) if *from == lsn => *last = shape,
            _ => versions.push((lsn, shape)),
        }
    }
}

/// Follows table shapes through the changes of one record.
struct RecordShapes<'a> {
    history: &'a TableHistory,
    lsn: Lsn,
    changed: HashMap<TableId, Option<Arc<TableShape>>>,
}

impl<'a> RecordShapes<'a> {
    fn new(history: &'a TableHistory, lsn: Lsn) -> Self {
        RecordShapes {
            history,
            lsn,
            changed: HashMap::new(),
        }
    }

    fn get(&self, id: TableId) -> Option<Arc<TableShape>> {
        match self.changed.get(&id) {
            Some(shape) => shape.clone(),
            None => self.history.before(id, self.lsn),
        }
    }

    /// Applies a change's effect on table shapes; returns the table and its new shape when
    /// the change has one.
    fn track(&mut self, change: &Change) -> Option<(TableId, Option<Arc<TableShape>>)> {
        let (id, shape) = match change {
            Change::CreateTable(def) | Change::AlterTable(def) => {
                (def.id, Some(Arc::new(TableShape::from_def(def))))
            }
            Change::DropTable { table } => (*table, None),
            Change::AddColumn { table, column, .. } => {
                let mut shape = (*self.get(*table)?).clone();
                shape.columns.push((column.name.clone(), column.data_type));
                (*table, Some(Arc::new(shape)))
            }
            Change::DropColumn { table, column } => {
                let mut shape = (*self.get(*table)?).clone();
                if *column < shape.columns.len() {
                    shape.columns.remove(*column);
                }
                if let Some(pk) = &mut shape.primary_key {
                    for c in pk.iter_mut().filter(|c| **c > *column) {
                        *c -= 1;
                    }
                }
                (*table, Some(Arc::new(shape)))
            }
            _ => return None,
        };
        self.changed.insert(id, shape.clone());
        Some((id, shape))
    }
}

/// One change of a record, ready to show.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeEntry {
    /// `insert`, `update`, `delete`, `truncate`, `create_table`, `create_role`, ...
    pub op: &'static str,
    /// The table (view, sequence) the change is about, by its name at the time.
    pub table: Option<String>,
    /// The table's id, for changes to a table's rows or definition.
    pub table_id: Option<TableId>,
    /// The stored key of a row change.
    pub key_values: Option<Vec<Value>>,
    pub key: Option<Json>,
    pub before: Option<Json>,
    pub after: Option<Json>,
}

impl ChangeEntry {
    fn new(op: &'static str) -> ChangeEntry {
        ChangeEntry {
            op,
            table: None,
            table_id: None,
            key_values: None,
            key: None,
            before: None,
            after: None,
        }
    }

    fn on_table(mut self, id: TableId, shape: Option<&TableShape>) -> ChangeEntry {
        self.table_id = Some(id);
        self.table = Some(shape.map_or_else(|| format!("#{id}"), |s| s.name.clone()));
        self
    }

    fn named(mut self, name: &str) -> ChangeEntry {
        self.table = Some(name.to_string());
        self
    }

    fn keyed(mut self, key: Json) -> ChangeEntry {
        self.key = Some(key);
        self
    }

    /// Whether the change is about a table (its rows or its definition), as opposed to a
    /// view, sequence, role or event stream.
    pub fn is_table_change(&self) -> bool {
        self.table_id.is_some()
    }

    /// Whether the change is a security-relevant one (roles).
    pub fn is_role_change(&self) -> bool {
        matches!(self.op, "create_role" | "alter_role" | "drop_role")
    }
}

/// The entries of a transaction record's changes, in order, with tables named as they were
/// when each change happened (a `CREATE TABLE` and inserts in one record show the new
/// table's columns).
pub fn describe_changes(history: &TableHistory, lsn: Lsn, tx: &TxRecord) -> Vec<ChangeEntry> {
    let mut shapes = RecordShapes::new(history, lsn);
    tx.changes
        .iter()
        .map(|change| {
            let before_shape = match change {
                Change::CreateTable(def) | Change::AlterTable(def) => shapes.get(def.id),
                other => change_table(other).and_then(|id| shapes.get(id)),
            };
            let entry = describe(change, before_shape.as_deref());
            shapes.track(change);
            entry
        })
        .collect()
}

/// The names of the tables a transaction record changed (rows or definition), in the
/// order first touched, as they were named when touched.
pub fn tables_touched(history: &TableHistory, lsn: Lsn, tx: &TxRecord) -> Vec<String> {
    let mut shapes = RecordShapes::new(history, lsn);
    let mut names: Vec<String> = Vec::new();
    for change in &tx.changes {
        let name = match change {
            Change::CreateTable(def) | Change::AlterTable(def) => Some(def.name.clone()),
            other => change_table(other).map(|id| {
                shapes
                    .get(id)
                    .map_or_else(|| format!("#{id}"), |s| s.name.clone())
            }),
        };
        if let Some(name) = name
            && !names.contains(&name)
        {
            names.push(name);
        }
        shapes.track(change);
    }
    names
}

fn change_table(change: &Change) -> Option<TableId> {
    match change {
        Change::DropTable { table }
        | Change::AddColumn { table, .. }
        | Change::DropColumn { table, .. }
        | Change::CreateIndex { table, .. }
        | Change::DropIndex { table, .. }
        | Change::Truncate { table }
        | Change::Insert { table, .. }
        | Change::Update { table, .. }
        | Change::Delete { table, .. } => Some(*table),
        Change::CreateTable(def) | Change::AlterTable(def) => Some(def.id),
        _ => None,
    }
}

fn describe(change: &Change, shape: Option<&TableShape>) -> ChangeEntry {
    let row = |row: &[Value]| shape.map_or(Json::Null, |s| s.row_json(row));
    let key = |key: &[Value]| shape.map_or(Json::Null, |s| s.key_json(key));
    let column_name = |i: usize| shape.map_or_else(|| format!("#{i}"), |s| s.column_name(i));
    let stream = |s: &str| json!({ "stream": s });
    match change {
        Change::CreateTable(def) => {
            let new = TableShape::from_def(def);
            ChangeEntry::new("create_table")
                .on_table(def.id, Some(&new))
                .with_after(new.definition_json())
        }
        Change::AlterTable(def) => {
            let new = TableShape::from_def(def);
            let mut after = new.definition_json();
            if let Some(old) = shape.filter(|old| old.name != new.name) {
                after["previous_name"] = Json::String(old.name.clone());
            }
            ChangeEntry::new("alter_table")
                .on_table(def.id, Some(&new))
                .with_before(shape.map(TableShape::definition_json))
                .with_after(after)
        }
        Change::DropTable { table } => ChangeEntry::new("drop_table")
            .on_table(*table, shape)
            .with_before(shape.map(TableShape::definition_json)),
        Change::AddColumn {
            table,
            column,
            fill,
        } => ChangeEntry::new("add_column")
            .on_table(*table, shape)
            .with_after(json!({"column": column.name, "type": column.data_type.to_string(), "fill": value_json(fill)})),
        Change::DropColumn { table, column } => ChangeEntry::new("drop_column")
            .on_table(*table, shape)
            .with_before(Some(json!({"column": column_name(*column)}))),
        Change::CreateIndex { table, index } => ChangeEntry::new("create_index")
            .on_table(*table, shape)
            .with_after(json!({
                "index": index.name,
                "columns": index.columns.iter().map(|c| match c {
                    IndexColumn::Column(c) => column_name(*c),
                    IndexColumn::Expression(e) => e.sql().to_string(),
                }).collect::<Vec<_>>(),
                "unique": index.unique,
            })),
        Change::DropIndex { table, name } => ChangeEntry::new("drop_index")
            .on_table(*table, shape)
            .with_before(Some(json!({ "index": name }))),
        Change::Truncate { table } => ChangeEntry::new("truncate").on_table(*table, shape),
        Change::Insert {
            table,
            rowid,
            row: r,
        } => {
            let k = shape.map(|s| s.key_of(r, *rowid)).unwrap_or_default();
            let mut e = ChangeEntry::new("insert")
                .on_table(*table, shape)
                .keyed(key(&k))
                .with_after(row(r));
            e.key_values = Some(k);
            e
        }
        Change::Update {
            table,
            key: k,
            row: r,
            before,
        } => {
            let mut e = ChangeEntry::new("update")
                .on_table(*table, shape)
                .keyed(key(k))
                .with_before(before.as_deref().map(row))
                .with_after(row(r));
            e.key_values = Some(k.to_vec());
            e
        }
        Change::Delete {
            table,
            key: k,
            before,
        } => {
            let mut e = ChangeEntry::new("delete")
                .on_table(*table, shape)
                .keyed(key(k))
                .with_before(before.as_deref().map(row));
            e.key_values = Some(k.to_vec());
            e
        }
        Change::CreateView(def) => ChangeEntry::new("create_view")
            .named(&def.name)
            .with_after(json!({"query": def.query, "columns": def.columns})),
        Change::DropView { name } => ChangeEntry::new("drop_view").named(name),
        Change::CreateSequence(def) => ChangeEntry::new("create_sequence")
            .named(&def.name)
            .with_after(json!({
                "start": def.start, "increment": def.increment, "min_value": def.min_value,
                "max_value": def.max_value, "cycle": def.cycle,
            })),
        Change::DropSequence { name } => ChangeEntry::new("drop_sequence").named(name),
        Change::AdvanceSequence { name, last_value } => ChangeEntry::new("advance_sequence")
            .named(name)
            .with_after(json!({ "last_value": last_value })),
        Change::SetSequence {
            name,
            last_value,
            is_called,
        } => ChangeEntry::new("set_sequence")
            .named(name)
            .with_after(json!({"last_value": last_value, "is_called": is_called})),
        // Never the password verifier: only whether there is one.
        Change::CreateRole(def) => ChangeEntry::new("create_role")
            .keyed(json!({ "role": def.name }))
            .with_after(json!({"login": def.login, "password": def.password.is_some()})),
        Change::AlterRole(def) => ChangeEntry::new("alter_role")
            .keyed(json!({ "role": def.name }))
            .with_after(json!({"login": def.login, "password": def.password.is_some()})),
        Change::DropRole { name } => ChangeEntry::new("drop_role").keyed(json!({ "role": name })),
        Change::AppendEvents {
            stream: s,
            expected,
            events,
        } => ChangeEntry::new("append_events")
            .keyed(stream(s))
            .with_after(json!({
                "expected": format!("{expected:?}"),
                "events": events.iter().map(|e| json!({
                    "id": e.id.to_string(),
                    "type": e.event_type,
                    "data": serde_json::from_str::<Json>(&e.data).unwrap_or(Json::String(e.data.clone())),
                })).collect::<Vec<_>>(),
            })),
        Change::DeleteStream { stream: s, hard } => ChangeEntry::new("delete_stream")
            .keyed(stream(s))
            .with_after(json!({ "hard": hard })),
        Change::SetStreamMetadata {
            stream: s,
            max_count,
            max_age_seconds,
        } => ChangeEntry::new("set_stream_metadata")
            .keyed(stream(s))
            .with_after(json!({"max_count": max_count, "max_age_seconds": max_age_seconds})),
        Change::CreateProjection(def) => ChangeEntry::new("create_projection")
            .named(&def.name)
            .with_after(json!({
                "event_types": def.event_types, "sql": def.sql, "targets": def.targets,
            })),
        Change::DropProjection { name } => ChangeEntry::new("drop_projection").named(name),
        Change::SetProjectionProgress {
            name,
            last_position,
            events_applied,
        } => ChangeEntry::new("projection_progress")
            .named(name)
            .with_after(json!({
                "last_position": last_position, "events_applied": events_applied,
            })),
    }
}

impl ChangeEntry {
    fn with_before(mut self, before: Option<Json>) -> ChangeEntry {
        self.before = before;
        self
    }

    fn with_after(mut self, after: Json) -> ChangeEntry {
        self.after = Some(after);
        self
    }
}

/// A decoded record, as the audit relations read it.
#[derive(Debug, Clone)]
pub enum AuditRecord {
    Transaction(TxRecord),
    Security(SecurityEvent),
}

/// Decodes a record of a kind zqlite writes.
pub fn decode_record(record: &Record) -> Result<AuditRecord> {
    let undecodable = |e: zqlite_log::Error| Error::Decode {
        lsn: record.lsn,
        reason: e.to_string(),
    };
    match record.kind {
        TRANSACTION => Ok(AuditRecord::Transaction(
            record.decode_msgpack().map_err(undecodable)?,
        )),
        SECURITY => Ok(AuditRecord::Security(
            record.decode_msgpack().map_err(undecodable)?,
        )),
        other => Err(Error::Decode {
            lsn: record.lsn,
            reason: format!(
                "unknown record kind {}: written by a newer zqlite?",
                other.0
            ),
        }),
    }
}

/// LSNs in LSN order, stored inline while there is one (most rows change rarely).
#[derive(Debug, Clone, PartialEq)]
enum Lsns {
    One(Lsn),
    Many(Vec<Lsn>),
}

impl Lsns {
    fn push(&mut self, lsn: Lsn) {
        match self {
            Lsns::One(first) if *first == lsn => {}
            Lsns::One(first) => *self = Lsns::Many(vec![*first, lsn]),
            Lsns::Many(v) => {
                if v.last() != Some(&lsn) {
                    v.push(lsn);
                }
            }
        }
    }

    fn as_slice(&self) -> &[Lsn] {
        match self {
            Lsns::One(lsn) => std::slice::from_ref(lsn),
            Lsns::Many(v) => v,
        }
    }
}

fn push_lsn(list: &mut Vec<Lsn>, lsn: Lsn) {
    if list.last() != Some(&lsn) {
        list.push(lsn);
    }
}

/// The fingerprint a row is indexed under. Fingerprints are saved with the index, so the
/// hash is defined here rather than left to the standard library's choice of hasher.
fn fingerprint(table: TableId, key: &[Value]) -> u64 {
    let mut h = StableHasher::default();
    table.hash(&mut h);
    key.hash(&mut h);
    h.finish()
}

/// FNV-1a over the bytes `Hash` feeds it, then a final mix (from SplitMix64) so that every
/// output bit depends on every input byte.
struct StableHasher(u64);

impl Default for StableHasher {
    fn default() -> Self {
        StableHasher(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for StableHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn finish(&self) -> u64 {
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// Which records to read for an audit question; see the module documentation.
#[derive(Debug, Default, PartialEq)]
pub struct AuditIndex {
    lsn: Lsn,
    /// The log's hash-chain value after record `lsn` (identifies the log it was built from).
    chain: ChainHash,
    rows: HashMap<u64, Lsns>,
    /// Records that touched each table (rows or definition).
    tables: HashMap<TableId, Vec<Lsn>>,
    /// Records that truncated or dropped each table (every row of it ended there).
    table_wide: HashMap<TableId, Vec<Lsn>>,
    /// Failed logins and role changes.
    security: Vec<Lsn>,
    shapes: Arc<TableHistory>,
}

impl AuditIndex {
    /// The last record indexed.
    pub fn lsn(&self) -> Lsn {
        self.lsn
    }

    /// Indexes the durable records after [`AuditIndex::lsn`] up to `to`.
    pub fn catch_up(&mut self, log: &Log, to: Lsn) -> Result<()> {
        if self.lsn >= to {
            return Ok(());
        }
        for record in log.read_from(self.lsn + 1) {
            let record = record?;
            if record.lsn > to {
                break;
            }
            self.index(&record)?;
        }
        Ok(())
    }

    /// Indexes the record after [`AuditIndex::lsn`].
    pub fn index(&mut self, record: &Record) -> Result<()> {
        if record.lsn != self.lsn + 1 {
            return Err(Error::Decode {
                lsn: record.lsn,
                reason: format!(
                    "audit index out of order: at LSN {}, so LSN {} must come next",
                    self.lsn,
                    self.lsn + 1
                ),
            });
        }
        let lsn = record.lsn;
        match decode_record(record)? {
            AuditRecord::Security(_) => self.security.push(lsn),
            AuditRecord::Transaction(tx) => {
                let mut shapes = RecordShapes::new(&self.shapes, lsn);
                let mut new_shapes = Vec::new();
                let mut security = false;
                for change in &tx.changes {
                    let row_key = match change {
                        Change::Insert { table, rowid, row } => {
                            shapes.get(*table).map(|s| (*table, s.key_of(row, *rowid)))
                        }
                        Change::Update { table, key, .. } | Change::Delete { table, key, .. } => {
                            Some((*table, key.to_vec()))
                        }
                        _ => None,
                    };
                    if let Some((table, key)) = row_key {
                        let fp = fingerprint(table, &key);
                        match self.rows.get_mut(&fp) {
                            Some(lsns) => lsns.push(lsn),
                            None => {
                                self.rows.insert(fp, Lsns::One(lsn));
                            }
                        }
                    }
                    if let Some(table) = change_table(change) {
                        push_lsn(self.tables.entry(table).or_default(), lsn);
                        if matches!(change, Change::Truncate { .. } | Change::DropTable { .. }) {
                            push_lsn(self.table_wide.entry(table).or_default(), lsn);
                        }
                    }
                    security |= matches!(
                        change,
                        Change::CreateRole(_) | Change::AlterRole(_) | Change::DropRole { .. }
                    );
                    if let Some(shape) = shapes.track(change) {
                        new_shapes.push(shape);
                    }
                }
                if security {
                    self.security.push(lsn);
                }
                if !new_shapes.is_empty() {
                    let history = Arc::make_mut(&mut self.shapes);
                    for (id, shape) in new_shapes {
                        history.record(id, lsn, shape);
                    }
                }
            }
        }
        self.lsn = lsn;
        self.chain = record.chain;
        Ok(())
    }

    /// Table shapes over time (a snapshot: later catch-ups do not change it).
    pub fn shapes(&self) -> Arc<TableHistory> {
        self.shapes.clone()
    }

    /// Records that may have changed the row `key` of `table` (exactly those, plus any that
    /// share its fingerprint), in LSN order.
    pub fn row_lsns(&self, table: TableId, key: &[Value]) -> Vec<Lsn> {
        self.rows
            .get(&fingerprint(table, key))
            .map_or_else(Vec::new, |l| l.as_slice().to_vec())
    }

    /// Records that touched `table`, in LSN order.
    pub fn table_lsns(&self, table: TableId) -> &[Lsn] {
        self.tables.get(&table).map_or(&[], Vec::as_slice)
    }

    /// Records that truncated or dropped `table`, in LSN order.
    pub fn table_wide_lsns(&self, table: TableId) -> &[Lsn] {
        self.table_wide.get(&table).map_or(&[], Vec::as_slice)
    }

    /// Failed logins and records with role changes, in LSN order.
    pub fn security_lsns(&self) -> &[Lsn] {
        &self.security
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::change::TxMeta;
    use crate::store::{Store, StoreOptions};

    pub(super) use crate::catalog::test_column as column;

    pub(super) fn table(name: &str) -> TableDef {
        TableDef {
            id: 1,
            name: name.into(),
            columns: vec![column("id", DataType::Int8), column("v", DataType::Text)],
            primary_key: Some(vec![0]),
            primary_key_name: Some(format!("{name}_pkey")),
            indexes: Vec::new(),
            checks: Vec::new(),
            foreign_keys: Vec::new(),
            materialized: None,
        }
    }

    pub(super) fn row(id: i64, v: &str) -> Vec<Value> {
        vec![Value::Int8(id), Value::Text(v.into())]
    }

    pub(super) fn commit(
        store: &Store,
        user: &str,
        f: impl FnOnce(&mut crate::Transaction),
    ) -> Lsn {
        let mut txn = store.begin();
        f(&mut txn);
        let meta = TxMeta {
            user: user.into(),
            ..TxMeta::default()
        };
        store.wait(store.commit(txn, meta).unwrap()).unwrap()
    }

    fn entries(store: &Store, index: &AuditIndex, lsn: Lsn) -> Vec<ChangeEntry> {
        let record = store.log().read_from(lsn).next().unwrap().unwrap();
        let AuditRecord::Transaction(tx) = decode_record(&record).unwrap() else {
            panic!("LSN {lsn} is not a transaction");
        };
        describe_changes(&index.shapes(), lsn, &tx)
    }

    #[test]
    fn records_describe_their_changes_with_before_images_and_the_names_of_their_time() {
        let store = Store::open("/db", StoreOptions::in_memory()).unwrap();
        let created = commit(&store, "alice", |t| {
            t.apply(Change::CreateTable(table("t"))).unwrap();
            t.insert(1, row(1, "a")).unwrap();
        });
        let updated = commit(&store, "bob", |t| {
            t.update(1, &[Value::Int8(1)], row(1, "b")).unwrap();
        });
        let renamed = commit(&store, "carol", |t| {
            t.apply(Change::AlterTable(table("u"))).unwrap();
            t.delete(1, &[Value::Int8(1)]).unwrap();
        });
        let mut index = AuditIndex::default();
        index.catch_up(store.log(), renamed).unwrap();
        assert_eq!(index.lsn(), renamed);

        let first = entries(&store, &index, created);
        assert_eq!(first[0].op, "create_table");
        assert_eq!(first[1].op, "insert");
        assert_eq!(first[1].table.as_deref(), Some("t"));
        assert_eq!(first[1].key, Some(json!({"id": 1})));
        assert_eq!(first[1].after, Some(json!({"id": 1, "v": "a"})));

        let second = entries(&store, &index, updated);
        assert_eq!(second[0].before, Some(json!({"id": 1, "v": "a"})));
        assert_eq!(second[0].after, Some(json!({"id": 1, "v": "b"})));

        let third = entries(&store, &index, renamed);
        assert_eq!(third[0].after.as_ref().unwrap()["previous_name"], "t");
        assert_eq!(third[1].op, "delete");
        assert_eq!(third[1].table.as_deref(), Some("u"));
        assert_eq!(third[1].before, Some(json!({"id": 1, "v": "b"})));

        assert_eq!(
            index.row_lsns(1, &[Value::Int8(1)]),
            [created, updated, renamed]
        );
        assert!(index.row_lsns(1, &[Value::Int8(2)]).is_empty());
        assert_eq!(index.table_lsns(1), [created, updated, renamed]);
        let shapes = index.shapes();
        assert_eq!(shapes.ids_named("t"), [1]);
        assert_eq!(shapes.ids_named("u"), [1]);
        assert_eq!(shapes.before(1, created), None);
        assert_eq!(shapes.before(1, updated).unwrap().name, "t");
        assert_eq!(shapes.latest(1).unwrap().name, "u");
    }

    #[test]
    fn the_committer_takes_the_before_image_from_the_head() {
        let store = Store::open("/db", StoreOptions::in_memory()).unwrap();
        commit(&store, "a", |t| {
            t.apply(Change::CreateTable(table("t"))).unwrap();
            t.insert(1, row(1, "a")).unwrap();
            t.insert(1, row(2, "a")).unwrap();
        });
        // A block that started before another commit changed a different row.
        let mut block = store.begin();
        commit(&store, "b", |t| {
            t.update(1, &[Value::Int8(2)], row(2, "b")).unwrap()
        });
        block.delete(1, &[Value::Int8(1)]).unwrap();
        let lsn = store
            .wait(store.commit(block, TxMeta::default()).unwrap())
            .unwrap();
        let record = store.log().read_from(lsn).next().unwrap().unwrap();
        let tx: TxRecord = record.decode_msgpack().unwrap();
        let Change::Delete { before, .. } = &tx.changes[0] else {
            panic!("{:?}", tx.changes);
        };
        assert_eq!(before.as_deref(), Some(&row(1, "a")[..]));
    }

    #[test]
    fn security_events_take_an_lsn_and_replay_past_them() {
        let store = Store::open("/db", StoreOptions::in_memory()).unwrap();
        commit(&store, "a", |t| {
            t.apply(Change::CreateTable(table("t"))).unwrap()
        });
        let event = SecurityEvent {
            kind: "login_failed".into(),
            user: "mallory".into(),
            client_addr: Some("10.0.0.9".into()),
            application_name: None,
            reason: "28P01".into(),
        };
        let lsn = store
            .wait(store.record_security_event(&event).unwrap())
            .unwrap();
        assert_eq!(lsn, 2);
        assert_eq!(store.snapshot().lsn(), 2);
        let next = commit(&store, "a", |t| {
            t.insert(1, row(1, "x")).unwrap();
        });
        assert_eq!(next, 3);
        let replayed = crate::replay_all(store.log()).unwrap();
        assert_eq!(replayed.digest(), store.snapshot().digest());
        let mut index = AuditIndex::default();
        index.catch_up(store.log(), 3).unwrap();
        assert_eq!(index.security_lsns(), [2]);
        let record = store.log().read_from(2).next().unwrap().unwrap();
        let AuditRecord::Security(read) = decode_record(&record).unwrap() else {
            panic!("not a security record");
        };
        assert_eq!(read, event);
    }

    #[test]
    fn keys_parse_from_json_by_the_primary_key_columns() {
        let shape = TableShape::from_def(&table("t"));
        assert_eq!(shape.parse_key(&json!({"id": 7})), Ok(vec![Value::Int8(7)]));
        assert_eq!(
            shape.parse_key(&json!({"id": "7"})),
            Ok(vec![Value::Int8(7)])
        );
        assert!(
            shape
                .parse_key(&json!({"v": 7}))
                .unwrap_err()
                .contains("\"id\"")
        );
        assert!(shape.parse_key(&json!([7])).is_err());
        assert!(shape.parse_key(&json!({"id": "x"})).is_err());
        let mut heap = table("h");
        heap.primary_key = None;
        let shape = TableShape::from_def(&heap);
        assert_eq!(
            shape.parse_key(&json!({"rowid": 3})),
            Ok(vec![Value::Int8(3)])
        );
        assert_eq!(shape.key_json(&[Value::Int8(3)]), json!({"rowid": 3}));
    }

    #[test]
    fn old_records_without_before_images_still_decode() {
        // An update as zqlite wrote it before it kept before images.
        #[derive(serde::Serialize)]
        enum OldChange {
            Update {
                table: TableId,
                key: Vec<Value>,
                row: Vec<Value>,
            },
        }
        #[derive(serde::Serialize)]
        struct OldRecord {
            meta: TxMeta,
            changes: Vec<OldChange>,
        }
        let bytes = rmp_serde::to_vec_named(&OldRecord {
            meta: TxMeta::default(),
            changes: vec![OldChange::Update {
                table: 1,
                key: vec![Value::Int8(1)],
                row: row(1, "a"),
            }],
        })
        .unwrap();
        let tx: TxRecord = rmp_serde::from_slice(&bytes).unwrap();
        assert!(matches!(
            &tx.changes[0],
            Change::Update { before: None, .. }
        ));
        assert!(tx.meta.params.is_empty());
    }
}
