//! [`State`]: catalog, rows, indexes, sequences and the event store, and the one function that
//! changes them.
//!
//! Every change goes through [`State::apply`]: replay of the log, statements inside a
//! transaction, and validation of a transaction at commit all use it, with a [`Check`] level
//! saying what to verify. Replay checks nothing but structure (what was committed was
//! valid); statements check constraints; commit additionally detects write-write conflicts
//! with transactions committed after the snapshot.
//!
//! Invariants:
//! - `State` is persistent: clones share structure and cost O(1); a clone never observes later
//!   changes to the original.
//! - Applying the same changes in the same order with the same LSNs gives equal states and
//!   equal [`State::digest`]s.
//! - Each row entry records the LSN of the change that last wrote it; secondary index entries
//!   are the index key (column values, and values of index expressions: `index_expr.rs`)
//!   followed by the row's key, so they are unique.

use std::ops::Bound;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};

use imbl::OrdMap;

use crate::btree::{Descent, SharedBTree};
use serde::{Deserialize, Serialize};
use zqlite_log::Lsn;

use crate::catalog::{
    Catalog, FkAction, IndexColumn, IndexDef, ProjectionProgress, TableDef, TableId,
};
use crate::change::Change;
use crate::error::{Error, Result};
use crate::events::EventStore;
use crate::value::Value;

pub use crate::key::Key;
/// A stored row, in column order.
pub type Row = Arc<[Value]>;

/// LSN stamped on rows written by a transaction that has not committed.
pub const PENDING_LSN: Lsn = u64::MAX;

/// Catalog versions of uncommitted DDL count up from 2^63, far above any real LSN, and are never reused within a process.
static PENDING_CATALOG_VERSION: AtomicU64 = AtomicU64::new(1 << 63);

/// What [`State::apply`] verifies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// Replaying the log: structure only.
    Replay,
    /// A statement in a transaction: constraints.
    Statement,
    /// Committing a transaction whose snapshot was taken at `snapshot_lsn`: constraints and
    /// write-write conflicts.
    Commit { snapshot_lsn: Lsn },
}

/// A stored row and the LSN of the change that last wrote it.
#[derive(Debug, Clone, PartialEq)]
pub struct RowEntry {
    pub row: Row,
    pub lsn: Lsn,
}

/// The rows and index entries of one table.
#[derive(Debug, Clone, Default)]
pub struct TableData {
    pub(crate) rows: SharedBTree<Key, RowEntry>,
    /// Aligned with the definition's `indexes`.
    pub(crate) indexes: Vec<SharedBTree<Key, ()>>,
    /// LSN of the last definition change of this table.
    pub(crate) def_lsn: Lsn,
    /// LSN of the last change to its rows (kept in memory only: a table loaded from a
    /// checkpoint starts at the checkpoint's LSN). See [`State::table_version`].
    pub(crate) rows_lsn: Lsn,
}

/// Equal when the rows, indexes and definition LSN are: `rows_lsn` says when this process
/// last saw the rows change, not what they are (a table loaded from a checkpoint and the
/// same table built by replay differ there).
impl PartialEq for TableData {
    fn eq(&self, other: &Self) -> bool {
        self.rows == other.rows && self.indexes == other.indexes && self.def_lsn == other.def_lsn
    }
}

impl TableData {
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The row stored under `key`.
    pub fn get(&self, key: &[Value]) -> Option<&RowEntry> {
        self.rows.get(key)
    }

    /// All rows in key order.
    pub fn scan(&self) -> impl Iterator<Item = (&Key, &RowEntry)> + '_ {
        self.rows.iter()
    }

    /// Rows whose key lies in the range, in key order. Bounds on a key prefix work: a prefix
    /// sorts before every longer key that starts with it.
    pub fn range<'a>(
        &'a self,
        lower: Bound<&[Value]>,
        upper: Bound<&'a [Value]>,
    ) -> impl Iterator<Item = (&'a Key, &'a RowEntry)> + 'a {
        self.rows.range(lower, upper)
    }

    /// Entries of the index at `position` (index values followed by the row key) in the range.
    pub fn index_range<'a>(
        &'a self,
        position: usize,
        lower: Bound<&[Value]>,
        upper: Bound<&'a [Value]>,
    ) -> impl Iterator<Item = &'a Key> + 'a {
        self.indexes[position].range(lower, upper).map(|(k, _)| k)
    }

    /// Rewrites every row in place (keys and index entries unchanged), keeping row LSNs.
    fn rewrite_rows(&mut self, rewrite: impl Fn(&mut Vec<Value>)) {
        let keys: Vec<Key> = self.rows.keys().cloned().collect();
        for key in keys {
            if let Some(entry) = self.rows.get_mut(&key) {
                let mut row = entry.row.to_vec();
                rewrite(&mut row);
                entry.row = Arc::from(row);
            }
        }
    }

    /// Keys of rows whose `columns` equal `values` (NULLs never match), using the primary key
    /// or an index whose leading columns are `columns` when there is one.
    pub fn find_matching(&self, def: &TableDef, columns: &[usize], values: &[Value]) -> Vec<Key> {
        if values.iter().any(Value::is_null) {
            return Vec::new();
        }
        if def.primary_key.as_deref() == Some(columns) {
            return self
                .rows
                .get(values)
                .map(|_| Key::from(values))
                .into_iter()
                .collect();
        }
        if let Some(pos) = def.index_led_by(columns) {
            let key_len = def.primary_key.as_ref().map_or(1, Vec::len);
            let index_len = def.indexes[pos].columns.len();
            return self
                .index_range(pos, Bound::Included(values), Bound::Unbounded)
                .take_while(|entry| entry[..values.len()] == *values)
                .map(|entry| Key::from(&entry[index_len..index_len + key_len]))
                .collect();
        }
        self.rows
            .iter()
            .filter(|(_, e)| columns.iter().zip(values).all(|(&c, v)| e.row[c] == *v))
            .map(|(k, _)| k.clone())
            .collect()
    }
}

/// The state of a sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SequenceState {
    pub last_value: i64,
    pub is_called: bool,
}

/// Everything derived from the log. See the module documentation.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct State {
    pub(crate) catalog: Catalog,
    pub(crate) tables: OrdMap<TableId, TableData>,
    pub(crate) sequences: OrdMap<String, SequenceState>,
    /// Row ids handed out so far are all below this.
    pub(crate) next_rowid: i64,
    /// LSN of the last applied record.
    pub(crate) lsn: Lsn,
    /// Event streams and their events.
    pub(crate) events: EventStore,
    /// Progress of each projection in the catalog, by name.
    pub(crate) projections: OrdMap<String, ProjectionProgress>,
}

/// A walk to a row's entry, with the row's key ([`State::prefetch_row_changes`]).
type RowWalk<'a> = (Descent<'a, Key, RowEntry>, &'a [Value]);

/// The most row changes [`State::prefetch_row_changes`] prefetches at once.
pub(crate) const PREFETCH_ROWS: usize = 64;

/// The entry of a row in an index: its index key followed by its row key.
fn index_entry(index_key: &[Value], key: &[Value]) -> Key {
    index_key.iter().chain(key).cloned().collect()
}

/// The keys of `row` in each index of `def` (evaluating index expressions), in index order.
fn index_keys(def: &TableDef, row: &[Value]) -> Result<Vec<Vec<Value>>> {
    def.indexes.iter().map(|i| i.key_of(def, row)).collect()
}

/// `(a, lower(b))=(1, x)`: an index key as PostgreSQL's DETAIL lines show it.
fn describe_index(index: &IndexDef, def: &TableDef, values: &[Value]) -> String {
    let vals: Vec<String> = values.iter().map(|v| v.to_string()).collect();
    format!("({})=({})", index.describe_columns(def), vals.join(", "))
}

fn describe(columns: &[usize], def: &TableDef, values: &[Value]) -> String {
    let names: Vec<&str> = columns
        .iter()
        .map(|&c| def.columns[c].name.as_str())
        .collect();
    let vals: Vec<String> = values.iter().map(|v| v.to_string()).collect();
    format!("({})=({})", names.join(", "), vals.join(", "))
}

impl State {
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    pub fn table_data(&self, table: TableId) -> Option<&TableData> {
        self.tables.get(&table)
    }

    /// The LSN of the last change to the table's definition or rows that this state applied
    /// (None for an unknown table). Two published states whose versions of a table are equal
    /// hold the same rows and definition for it, so an answer computed from one holds for the
    /// other; a committed change to the table always gives it a new version.
    pub fn table_version(&self, table: TableId) -> Option<Lsn> {
        self.tables.get(&table).map(|d| d.def_lsn.max(d.rows_lsn))
    }

    /// Sets the `before` image of an update or delete to the row it replaces in this state
    /// (left as is when the row is not here: applying the change will fail anyway).
    pub fn fill_before(&self, change: &mut Change) {
        if let Change::Update {
            table, key, before, ..
        }
        | Change::Delete { table, key, before } = change
            && let Some(entry) = self.table_data(*table).and_then(|d| d.get(key))
        {
            *before = Some(entry.row.clone());
        }
    }

    /// A table's definition and data by name.
    pub fn table_by_name(&self, name: &str) -> Option<(&Arc<TableDef>, &TableData)> {
        let def = self.catalog.table_by_name(name)?;
        Some((def, self.tables.get(&def.id)?))
    }

    /// The event store: streams, events and their indexes.
    pub fn events(&self) -> &EventStore {
        &self.events
    }

    /// How far the projection `name` has processed the event store.
    pub fn projection_progress(&self, name: &str) -> Option<ProjectionProgress> {
        self.projections.get(name).copied()
    }

    pub fn sequence_state(&self, name: &str) -> Option<SequenceState> {
        self.sequences.get(name).copied()
    }

    /// The LSN of the last record applied.
    pub fn lsn(&self) -> Lsn {
        self.lsn
    }

    pub(crate) fn next_rowid(&self) -> i64 {
        self.next_rowid.max(1)
    }

    pub(crate) fn def(&self, table: TableId) -> Result<Arc<TableDef>> {
        self.catalog
            .tables
            .get(&table)
            .cloned()
            .ok_or_else(|| Error::UndefinedObject {
                kind: "relation",
                name: format!("with id {table}"),
            })
    }

    fn data_mut(&mut self, table: TableId) -> Result<&mut TableData> {
        self.tables
            .get_mut(&table)
            .ok_or_else(|| Error::UndefinedObject {
                kind: "relation",
                name: format!("with id {table}"),
            })
    }

    /// Applies one change written at `lsn`. Row changes (insert, update, delete, sequence
    /// advance) check everything before they modify anything, so on error the state is as it
    /// was; a failed definition change may leave the state partly changed (apply those to a
    /// clone).
    pub fn apply(&mut self, change: &Change, lsn: Lsn, check: Check) -> Result<()> {
        match change {
            Change::Insert { table, rowid, row } => self.insert(*table, *rowid, row, lsn, check),
            Change::Update {
                table, key, row, ..
            } => self.update(*table, key, row, lsn, check),
            Change::Delete { table, key, .. } => self.delete(*table, key, lsn, check),
            Change::AdvanceSequence { name, last_value } => {
                self.advance_sequence(name, *last_value)
            }
            Change::AppendEvents {
                stream,
                expected,
                events,
            } => self.events.append(stream, *expected, events, lsn, check),
            Change::DeleteStream { stream, hard } => self.events.delete(stream, *hard, check),
            Change::SetStreamMetadata {
                stream,
                max_count,
                max_age_seconds,
            } => self
                .events
                .set_metadata(stream, *max_count, *max_age_seconds, check),
            Change::SetProjectionProgress {
                name,
                last_position,
                events_applied,
            } => {
                if !self.catalog.projections.contains_key(name) {
                    return Err(Error::UndefinedObject {
                        kind: "projection",
                        name: name.clone(),
                    });
                }
                self.projections.insert(
                    name.clone(),
                    ProjectionProgress {
                        last_position: *last_position,
                        events_applied: *events_applied,
                    },
                );
                Ok(())
            }
            _ => self.apply_ddl(change, lsn, check),
        }
    }

    /// Asks the CPU to fetch what replaying these row changes will touch: the path down each
    /// row's tree to its entry. Each step runs over the whole batch before the next (see
    /// [`crate::btree::Descent`]), so the cache misses of different rows overlap; nothing is
    /// changed or checked here. (The rows that updates replace are freed, and prefetched,
    /// by the replay's decoder thread.)
    ///
    /// The first [`PREFETCH_ROWS`] row changes are prefetched; the work lists live on the
    /// stack, because a heap allocation of their size per batch makes glibc's allocator
    /// consolidate its free lists (walking the neighbours of freed rows: more misses).
    pub(crate) fn prefetch_row_changes<'c>(&self, changes: impl Iterator<Item = &'c Change>) {
        let mut walks: [Option<RowWalk<'_>>; PREFETCH_ROWS] = [const { None }; PREFETCH_ROWS];
        let found = changes.filter_map(|change| {
            let (table, key) = match change {
                Change::Update { table, key, .. } | Change::Delete { table, key, .. } => {
                    (*table, &key[..])
                }
                Change::Insert {
                    table,
                    rowid: None,
                    row,
                } => {
                    let def = self.catalog.tables.get(table)?;
                    match def.primary_key.as_deref() {
                        Some(&[column]) => (*table, std::slice::from_ref(row.get(column)?)),
                        _ => return None,
                    }
                }
                _ => return None,
            };
            Some((self.tables.get(&table)?.rows.descent()?, key))
        });
        let mut count = 0;
        for (slot, walk) in walks.iter_mut().zip(found) {
            *slot = Some(walk);
            count += 1;
        }
        let walks = &mut walks[..count];
        let mut moving = true;
        while moving {
            moving = false;
            for (walk, key) in walks.iter_mut().flatten() {
                moving |= walk.step(*key);
            }
        }
        for (walk, key) in walks.iter().flatten() {
            walk.candidate(*key);
        }
    }

    /// At commit: fails when the row was written by a transaction that committed after the
    /// snapshot (rows written earlier in the same commit carry its `lsn` and are fine).
    fn conflict_check(
        &self,
        entry: Option<&RowEntry>,
        def: &TableDef,
        lsn: Lsn,
        check: Check,
    ) -> Result<()> {
        if let Check::Commit { snapshot_lsn } = check {
            match entry {
                Some(e) if e.lsn == PENDING_LSN || e.lsn == lsn || e.lsn <= snapshot_lsn => {}
                _ => {
                    return Err(Error::SerializationFailure {
                        detail: format!(
                            "a row of \"{}\" was changed by a transaction that committed after this one started",
                            def.name
                        ),
                    });
                }
            }
        }
        self.definition_conflict(def, lsn, check)
    }

    /// At commit: fails when the table's definition changed after the snapshot.
    fn definition_conflict(&self, def: &TableDef, lsn: Lsn, check: Check) -> Result<()> {
        if let Check::Commit { snapshot_lsn } = check
            && self
                .tables
                .get(&def.id)
                .is_some_and(|d| d.def_lsn > snapshot_lsn && d.def_lsn != lsn)
        {
            return Err(Error::SerializationFailure {
                detail: format!("\"{}\" was altered concurrently", def.name),
            });
        }
        Ok(())
    }

    /// Checks `row`, stored under `key`, against the table's constraints. `keys` are its
    /// index keys; for an update, `old` is the row it replaces and `old_keys` that row's
    /// index keys (unchanged keys and references are not checked again).
    fn check_row_constraints(
        &self,
        def: &TableDef,
        data: &TableData,
        row: &[Value],
        key: &[Value],
        keys: &[Vec<Value>],
        old: Option<(&[Value], &[Vec<Value>])>,
    ) -> Result<()> {
        for col in def.primary_key.iter().flatten() {
            if row[*col].is_null() {
                return Err(Error::NotNullViolation {
                    table: def.name.clone(),
                    column: def.columns[*col].name.clone(),
                });
            }
        }
        for (c, column) in def.columns.iter().enumerate() {
            if !column.nullable && row[c].is_null() {
                return Err(Error::NotNullViolation {
                    table: def.name.clone(),
                    column: column.name.clone(),
                });
            }
        }
        for (pos, index) in def.indexes.iter().enumerate() {
            if !index.unique {
                continue;
            }
            let values = &keys[pos];
            if values.iter().any(Value::is_null)
                || old.is_some_and(|(_, old_keys)| old_keys[pos] == *values)
            {
                continue;
            }
            let clash = data
                .index_range(pos, Bound::Included(values), Bound::Unbounded)
                .take_while(|e| e[..values.len()] == *values)
                .any(|e| e[values.len()..] != *key);
            if clash {
                return Err(Error::UniqueViolation {
                    constraint: index.name.clone(),
                    detail: format!("Key {} already exists.", describe_index(index, def, values)),
                });
            }
        }
        for fk in &def.foreign_keys {
            let values: Vec<Value> = fk.columns.iter().map(|&c| row[c].clone()).collect();
            if values.iter().any(Value::is_null)
                || old.is_some_and(|(o, _)| fk.columns.iter().all(|&c| o[c] == row[c]))
            {
                continue;
            }
            let parent_def = self.def(fk.ref_table)?;
            let found = if fk.ref_table == def.id {
                // Self-reference: the row being written may be its own parent.
                fk.ref_columns
                    .iter()
                    .zip(&values)
                    .all(|(&c, v)| row[c] == *v)
                    || !data
                        .find_matching(&parent_def, &fk.ref_columns, &values)
                        .is_empty()
            } else {
                let parent = self.tables.get(&fk.ref_table).ok_or_else(|| {
                    Error::Internal(format!("no data for table {}", fk.ref_table))
                })?;
                !parent
                    .find_matching(&parent_def, &fk.ref_columns, &values)
                    .is_empty()
            };
            if !found {
                return Err(Error::ForeignKeyViolation {
                    constraint: fk.name.clone(),
                    message: format!(
                        "insert or update on table \"{}\" violates foreign key constraint \"{}\"",
                        def.name, fk.name
                    ),
                    detail: format!(
                        "Key {} is not present in table \"{}\".",
                        describe(&fk.columns, def, &values),
                        parent_def.name
                    ),
                });
            }
        }
        Ok(())
    }

    /// Fails when rows still reference `row` (stored under `own_key`) of `def` through a
    /// foreign key whose referenced columns the change removes or alters (cascades were
    /// applied before, as their own changes).
    fn check_not_referenced(
        &self,
        def: &TableDef,
        own_key: &[Value],
        row: &[Value],
        new_row: Option<&[Value]>,
    ) -> Result<()> {
        for (child_def, fk) in self.catalog.references_to(def.id) {
            if new_row.is_some_and(|n| fk.ref_columns.iter().all(|&c| n[c] == row[c])) {
                continue;
            }
            let Some(child) = self.tables.get(&child_def.id) else {
                continue;
            };
            let values: Vec<Value> = fk.ref_columns.iter().map(|&c| row[c].clone()).collect();
            let mut refs = child.find_matching(&child_def, &fk.columns, &values);
            // A row that references itself does not block its own change.
            refs.retain(|k| !(child_def.id == def.id && **k == *own_key));
            if !refs.is_empty() {
                let action = if new_row.is_some() {
                    "update"
                } else {
                    "delete"
                };
                return Err(Error::ForeignKeyViolation {
                    constraint: fk.name.clone(),
                    message: format!(
                        "{action} on table \"{}\" violates foreign key constraint \"{}\" on table \"{}\"",
                        def.name, fk.name, child_def.name
                    ),
                    detail: format!(
                        "Key {} is still referenced from table \"{}\".",
                        describe(&fk.ref_columns, def, &values),
                        child_def.name
                    ),
                });
            }
        }
        Ok(())
    }

    fn insert(
        &mut self,
        table: TableId,
        rowid: Option<i64>,
        row: &Row,
        lsn: Lsn,
        check: Check,
    ) -> Result<()> {
        let def = self.def(table)?;
        if row.len() != def.columns.len() {
            return Err(Error::Internal(format!(
                "row of {} values for \"{}\" with {} columns",
                row.len(),
                def.name,
                def.columns.len()
            )));
        }
        let key: Key = match (&def.primary_key, rowid) {
            (Some(cols), None) => cols.iter().map(|&c| row[c].clone()).collect(),
            (None, Some(id)) => Key::from([Value::Int8(id)]),
            _ => {
                return Err(Error::Internal(format!(
                    "insert into \"{}\" with a mismatched row id",
                    def.name
                )));
            }
        };
        let keys = index_keys(&def, row)?;
        if check != Check::Replay {
            self.definition_conflict(&def, lsn, check)?;
            let data = self
                .tables
                .get(&table)
                .expect("definition and data exist together");
            if data.rows.contains_key(&key) {
                return Err(primary_key_violation(&def, &key, "already exists"));
            }
            self.check_row_constraints(&def, data, row, &key, &keys, None)?;
        }
        if let Some(id) = rowid {
            self.next_rowid = self.next_rowid.max(id + 1);
        }
        let row = row.clone();
        let data = self.data_mut(table)?;
        data.rows_lsn = lsn;
        for (index, index_key) in data.indexes.iter_mut().zip(&keys) {
            index.insert(index_entry(index_key, &key), ());
        }
        data.rows.insert(key, RowEntry { row, lsn });
        Ok(())
    }

    fn update(
        &mut self,
        table: TableId,
        key: &[Value],
        row: &Row,
        lsn: Lsn,
        check: Check,
    ) -> Result<()> {
        if check == Check::Replay {
            return self.replay_update(table, key, row, lsn).map(drop);
        }
        let (def, old) = self.existing_row(table, key, lsn, check, "update")?;
        let data = self
            .tables
            .get(&table)
            .expect("definition and data exist together");
        let new_key: Key = match &def.primary_key {
            Some(cols) => cols.iter().map(|&c| row[c].clone()).collect(),
            None => Key::from(key),
        };
        let old_keys = index_keys(&def, &old.row)?;
        let keys = index_keys(&def, row)?;
        if check != Check::Replay {
            if *new_key != *key && data.rows.contains_key(&new_key) {
                return Err(primary_key_violation(&def, &new_key, "already exists"));
            }
            let old_entry = (&old.row[..], &old_keys[..]);
            self.check_row_constraints(&def, data, row, &new_key, &keys, Some(old_entry))?;
            self.check_not_referenced(&def, key, &old.row, Some(row))?;
        }
        let row = row.clone();
        let data = self.data_mut(table)?;
        data.rows_lsn = lsn;
        for ((index, old_key), index_key) in data.indexes.iter_mut().zip(&old_keys).zip(&keys) {
            index.remove(&index_entry(old_key, key));
            index.insert(index_entry(index_key, &new_key), ());
        }
        if *new_key != *key {
            data.rows.remove(key);
        }
        data.rows.insert(new_key, RowEntry { row, lsn });
        Ok(())
    }

    /// [`Self::update`] when replaying: nothing to check, so the row is replaced in one pass
    /// down the tree (replay is bound by the memory latency of that walk), and the row it
    /// replaces, returned by the map, updates the indexes. (So an index expression failing
    /// on the old row, which it did not when that row was written, fails the replay after
    /// the row was replaced; a failed replay discards its state.)
    fn replay_update(
        &mut self,
        table: TableId,
        key: &[Value],
        row: &Row,
        lsn: Lsn,
    ) -> Result<RowEntry> {
        let def = self.def(table)?;
        let new_key: Key = match &def.primary_key {
            Some(cols) => cols.iter().map(|&c| row[c].clone()).collect(),
            None => Key::from(key),
        };
        let keys = index_keys(&def, row)?;
        let data = self.data_mut(table)?;
        data.rows_lsn = lsn;
        let entry = RowEntry {
            row: row.clone(),
            lsn,
        };
        let old = if *new_key == *key {
            data.rows.insert(new_key.clone(), entry)
        } else {
            let old = data.rows.remove(key);
            if old.is_some() {
                data.rows.insert(new_key.clone(), entry);
            }
            old
        };
        let Some(old) = old else {
            return Err(Error::Internal(format!(
                "update of a missing row in \"{}\"",
                def.name
            )));
        };
        let old_keys = index_keys(&def, &old.row)?;
        for ((index, old_key), index_key) in data.indexes.iter_mut().zip(&old_keys).zip(&keys) {
            index.remove(&index_entry(old_key, key));
            index.insert(index_entry(index_key, &new_key), ());
        }
        Ok(old)
    }

    /// Applies a change while replaying the log ([`Check::Replay`]); the row an update
    /// replaces goes to `replaced` (for the caller to free where it wants).
    pub(crate) fn replay_change(
        &mut self,
        change: &Change,
        lsn: Lsn,
        replaced: &mut Vec<RowEntry>,
    ) -> Result<()> {
        match change {
            Change::Update {
                table, key, row, ..
            } => {
                replaced.push(self.replay_update(*table, key, row, lsn)?);
                Ok(())
            }
            _ => self.apply(change, lsn, Check::Replay),
        }
    }

    /// The definition and current entry of the row an update or delete targets, after the
    /// commit-time conflict check.
    fn existing_row(
        &self,
        table: TableId,
        key: &[Value],
        lsn: Lsn,
        check: Check,
        verb: &str,
    ) -> Result<(Arc<TableDef>, RowEntry)> {
        let def = self.def(table)?;
        let data = self
            .tables
            .get(&table)
            .expect("definition and data exist together");
        let old = data.rows.get(key).cloned();
        self.conflict_check(old.as_ref(), &def, lsn, check)?;
        let old = old.ok_or_else(|| {
            Error::Internal(format!("{verb} of a missing row in \"{}\"", def.name))
        })?;
        Ok((def, old))
    }

    fn delete(&mut self, table: TableId, key: &[Value], lsn: Lsn, check: Check) -> Result<()> {
        let (def, old) = self.existing_row(table, key, lsn, check, "delete")?;
        if check != Check::Replay {
            self.check_not_referenced(&def, key, &old.row, None)?;
        }
        let old_keys = index_keys(&def, &old.row)?;
        let data = self.data_mut(table)?;
        data.rows_lsn = lsn;
        for (index, old_key) in data.indexes.iter_mut().zip(&old_keys) {
            index.remove(&index_entry(old_key, key));
        }
        data.rows.remove(key);
        Ok(())
    }

    /// Rebuilds a table's keys and indexes for `def` (whose primary key was `old_pk`),
    /// checking uniqueness. Rows of a table that loses its primary key get new row ids, in key
    /// order, so replay assigns the same ones.
    fn rebuild(&mut self, def: &TableDef, old_pk: Option<&Vec<usize>>, check: Check) -> Result<()> {
        let data = self
            .tables
            .get(&def.id)
            .expect("definition and data exist together");
        let mut rows = SharedBTree::new();
        for (old_key, entry) in data.rows.iter() {
            let key: Key = match &def.primary_key {
                Some(cols) => cols.iter().map(|&c| entry.row[c].clone()).collect(),
                None if old_pk.is_none() => old_key.clone(),
                None => {
                    let id = self.next_rowid.max(1);
                    self.next_rowid = id + 1;
                    Key::from([Value::Int8(id)])
                }
            };
            if check != Check::Replay {
                for col in def.primary_key.iter().flatten() {
                    if entry.row[*col].is_null() {
                        return Err(Error::NotNullViolation {
                            table: def.name.clone(),
                            column: def.columns[*col].name.clone(),
                        });
                    }
                }
            }
            if rows.insert(key.clone(), entry.clone()).is_some() && check != Check::Replay {
                return Err(primary_key_violation(def, &key, "is duplicated"));
            }
        }
        let mut indexes = Vec::with_capacity(def.indexes.len());
        for index in &def.indexes {
            indexes.push(build_index(def, index, &rows, check)?);
        }
        let data = self.data_mut(def.id)?;
        data.rows = rows;
        data.indexes = indexes;
        Ok(())
    }

    fn apply_ddl(&mut self, change: &Change, lsn: Lsn, check: Check) -> Result<()> {
        if let Check::Commit { snapshot_lsn } = check
            && self.catalog.version > snapshot_lsn
            && self.catalog.version != lsn
        {
            return Err(Error::SerializationFailure {
                detail:
                    "the schema was changed by a transaction that committed after this one started"
                        .into(),
            });
        }
        self.catalog.version = if lsn == PENDING_LSN {
            // Uncommitted DDL: a version no other catalog has had, so plans cached inside
            // the transaction (or before a rollback to a savepoint) never match it wrongly.
            PENDING_CATALOG_VERSION.fetch_add(1, AtomicOrdering::Relaxed)
        } else {
            lsn
        };
        match change {
            Change::CreateTable(def) => {
                if self.catalog.relation_exists(&def.name) {
                    return Err(Error::DuplicateObject {
                        kind: "relation",
                        name: def.name.clone(),
                    });
                }
                self.catalog.next_table_id = self.catalog.next_table_id.max(def.id + 1);
                self.catalog.tables_by_name.insert(def.name.clone(), def.id);
                self.catalog.tables.insert(def.id, Arc::new(def.clone()));
                let data = TableData {
                    rows: SharedBTree::new(),
                    indexes: vec![SharedBTree::new(); def.indexes.len()],
                    def_lsn: lsn,
                    rows_lsn: lsn,
                };
                self.tables.insert(def.id, data);
            }
            Change::DropTable { table } => {
                let def = self.def(*table)?;
                if check != Check::Replay {
                    let mut dependents = self.catalog.dependent_views(&def.name);
                    for (child, fk) in self.catalog.references_to(def.id) {
                        if child.id != def.id {
                            dependents
                                .push(format!("constraint {} on table {}", fk.name, child.name));
                        }
                    }
                    if !dependents.is_empty() {
                        return Err(Error::DependentObjects {
                            kind: "table",
                            name: def.name.clone(),
                            dependents,
                        });
                    }
                }
                self.catalog.tables_by_name.remove(&def.name);
                self.catalog.tables.remove(&def.id);
                self.tables.remove(&def.id);
                let owned: Vec<String> = self
                    .catalog
                    .sequences
                    .values()
                    .filter(|s| s.owned_by == Some(def.id))
                    .map(|s| s.name.clone())
                    .collect();
                for name in owned {
                    self.catalog.sequences.remove(&name);
                    self.sequences.remove(&name);
                }
            }
            Change::AlterTable(def) => {
                let old = self.def(def.id)?;
                if old.name != def.name {
                    if self.catalog.relation_exists(&def.name) {
                        return Err(Error::DuplicateObject {
                            kind: "relation",
                            name: def.name.clone(),
                        });
                    }
                    self.catalog.tables_by_name.remove(&old.name);
                    self.catalog.tables_by_name.insert(def.name.clone(), def.id);
                }
                if old.columns.len() != def.columns.len() {
                    return Err(Error::Internal(
                        "ALTER TABLE changed the column count".into(),
                    ));
                }
                self.catalog.tables.insert(def.id, Arc::new(def.clone()));
                if old.primary_key != def.primary_key || old.indexes != def.indexes {
                    self.rebuild(def, old.primary_key.as_ref(), check)?;
                }
                if check != Check::Replay {
                    self.check_all_rows(def)?;
                }
                self.data_mut(def.id)?.def_lsn = lsn;
            }
            Change::AddColumn {
                table,
                column,
                fill,
            } => {
                let mut def = (*self.def(*table)?).clone();
                if def.column_index(&column.name).is_some() {
                    return Err(Error::DuplicateObject {
                        kind: "column",
                        name: format!("{}\" of relation \"{}", column.name, def.name),
                    });
                }
                if check != Check::Replay
                    && !column.nullable
                    && fill.is_null()
                    && self.tables.get(table).is_some_and(|d| !d.is_empty())
                {
                    return Err(Error::NotNullViolation {
                        table: def.name.clone(),
                        column: column.name.clone(),
                    });
                }
                def.columns.push(column.clone());
                self.catalog.tables.insert(*table, Arc::new(def));
                let data = self.data_mut(*table)?;
                data.rewrite_rows(|row| row.push(fill.clone()));
                data.def_lsn = lsn;
            }
            Change::DropColumn { table, column } => {
                let mut def = (*self.def(*table)?).clone();
                if *column >= def.columns.len() {
                    return Err(Error::Internal("DROP COLUMN of a missing column".into()));
                }
                def.columns.remove(*column);
                let shift = |c: &mut usize| {
                    if *c > *column {
                        *c -= 1;
                    }
                };
                for cols in def.primary_key.iter_mut() {
                    cols.iter_mut().for_each(shift);
                }
                for index in &mut def.indexes {
                    for column in &mut index.columns {
                        if let IndexColumn::Column(c) = column {
                            shift(c);
                        }
                    }
                }
                for fk in &mut def.foreign_keys {
                    fk.columns.iter_mut().for_each(shift);
                }
                self.catalog.tables.insert(*table, Arc::new(def));
                let data = self.data_mut(*table)?;
                data.rewrite_rows(|row| {
                    row.remove(*column);
                });
                data.def_lsn = lsn;
            }
            Change::CreateIndex { table, index } => {
                let mut def = (*self.def(*table)?).clone();
                if def.indexes.iter().any(|i| i.name == index.name)
                    || self.catalog.relation_exists(&index.name)
                {
                    return Err(Error::DuplicateObject {
                        kind: "relation",
                        name: index.name.clone(),
                    });
                }
                let built = {
                    let data = self
                        .tables
                        .get(table)
                        .expect("definition and data exist together");
                    build_index(&def, index, &data.rows, check)?
                };
                def.indexes.push(index.clone());
                self.catalog.tables.insert(*table, Arc::new(def));
                let data = self.data_mut(*table)?;
                data.indexes.push(built);
                data.def_lsn = lsn;
            }
            Change::DropIndex { table, name } => {
                let mut def = (*self.def(*table)?).clone();
                let pos = def
                    .indexes
                    .iter()
                    .position(|i| &i.name == name)
                    .ok_or_else(|| Error::UndefinedObject {
                        kind: "index",
                        name: name.clone(),
                    })?;
                def.indexes.remove(pos);
                self.catalog.tables.insert(*table, Arc::new(def));
                let data = self.data_mut(*table)?;
                data.indexes.remove(pos);
                data.def_lsn = lsn;
            }
            Change::Truncate { table } => {
                let def = self.def(*table)?;
                if check != Check::Replay {
                    for (child, fk) in self.catalog.references_to(def.id) {
                        if child.id != def.id
                            && self.tables.get(&child.id).is_some_and(|d| !d.is_empty())
                        {
                            return Err(Error::FeatureNotSupported(format!(
                                "cannot truncate a table referenced in a foreign key constraint: table \"{}\" references \"{}\" via \"{}\"",
                                child.name, def.name, fk.name
                            )));
                        }
                    }
                }
                let data = self.data_mut(*table)?;
                data.rows = SharedBTree::new();
                data.indexes = vec![SharedBTree::new(); def.indexes.len()];
                data.def_lsn = lsn;
            }
            Change::CreateProjection(def) => {
                if self.catalog.projections.contains_key(&def.name) {
                    return Err(Error::DuplicateObject {
                        kind: "projection",
                        name: def.name.clone(),
                    });
                }
                self.catalog
                    .projections
                    .insert(def.name.clone(), Arc::new(def.clone()));
                self.projections
                    .insert(def.name.clone(), ProjectionProgress::default());
            }
            Change::DropProjection { name } => {
                if self.catalog.projections.remove(name).is_none() {
                    return Err(Error::UndefinedObject {
                        kind: "projection",
                        name: name.clone(),
                    });
                }
                self.projections.remove(name);
            }
            Change::CreateRole(role) => {
                if self.catalog.roles.contains_key(&role.name) {
                    return Err(Error::DuplicateObject {
                        kind: "role",
                        name: role.name.clone(),
                    });
                }
                self.catalog
                    .roles
                    .insert(role.name.clone(), Arc::new(role.clone()));
            }
            Change::AlterRole(role) => {
                if !self.catalog.roles.contains_key(&role.name) {
                    return Err(Error::UndefinedObject {
                        kind: "role",
                        name: role.name.clone(),
                    });
                }
                self.catalog
                    .roles
                    .insert(role.name.clone(), Arc::new(role.clone()));
            }
            Change::DropRole { name } => {
                if self.catalog.roles.remove(name).is_none() {
                    return Err(Error::UndefinedObject {
                        kind: "role",
                        name: name.clone(),
                    });
                }
            }
            Change::CreateView(view) => {
                if self.catalog.relation_exists(&view.name) {
                    return Err(Error::DuplicateObject {
                        kind: "relation",
                        name: view.name.clone(),
                    });
                }
                self.catalog
                    .views
                    .insert(view.name.clone(), Arc::new(view.clone()));
            }
            Change::DropView { name } => {
                if !self.catalog.views.contains_key(name) {
                    return Err(Error::UndefinedObject {
                        kind: "view",
                        name: name.clone(),
                    });
                }
                let dependents = self.catalog.dependent_views(name);
                if check != Check::Replay && !dependents.is_empty() {
                    return Err(Error::DependentObjects {
                        kind: "view",
                        name: name.clone(),
                        dependents: dependents
                            .into_iter()
                            .map(|d| format!("view {d}"))
                            .collect(),
                    });
                }
                self.catalog.views.remove(name);
            }
            Change::CreateSequence(seq) => {
                if self.catalog.relation_exists(&seq.name)
                    || self.catalog.sequences.contains_key(&seq.name)
                {
                    return Err(Error::DuplicateObject {
                        kind: "relation",
                        name: seq.name.clone(),
                    });
                }
                self.catalog
                    .sequences
                    .insert(seq.name.clone(), Arc::new(seq.clone()));
                self.sequences.insert(
                    seq.name.clone(),
                    SequenceState {
                        last_value: seq.start,
                        is_called: false,
                    },
                );
            }
            Change::DropSequence { name } => {
                if self.catalog.sequences.remove(name).is_none() {
                    return Err(Error::UndefinedObject {
                        kind: "sequence",
                        name: name.clone(),
                    });
                }
                self.sequences.remove(name);
            }
            Change::SetSequence {
                name,
                last_value,
                is_called,
            } => {
                // Sequence advances are not transactional and never conflict.
                if !self.catalog.sequences.contains_key(name) {
                    return Err(Error::UndefinedObject {
                        kind: "sequence",
                        name: name.clone(),
                    });
                }
                self.sequences.insert(
                    name.clone(),
                    SequenceState {
                        last_value: *last_value,
                        is_called: *is_called,
                    },
                );
            }
            Change::Insert { .. }
            | Change::Update { .. }
            | Change::Delete { .. }
            | Change::AdvanceSequence { .. }
            | Change::AppendEvents { .. }
            | Change::DeleteStream { .. }
            | Change::SetStreamMetadata { .. }
            | Change::SetProjectionProgress { .. } => {
                unreachable!("row, sequence and event changes are applied by apply()")
            }
        }
        Ok(())
    }

    /// Sequence advances are not transactional and never conflict.
    fn advance_sequence(&mut self, name: &str, last_value: i64) -> Result<()> {
        let def = self
            .catalog
            .sequences
            .get(name)
            .ok_or_else(|| Error::UndefinedObject {
                kind: "sequence",
                name: name.to_string(),
            })?;
        let ascending = def.increment > 0;
        let state = self
            .sequences
            .entry(name.to_string())
            .or_insert(SequenceState {
                last_value,
                is_called: false,
            });
        let ahead = if ascending {
            last_value > state.last_value
        } else {
            last_value < state.last_value
        };
        if ahead || !state.is_called {
            state.last_value = last_value;
            state.is_called = true;
        }
        Ok(())
    }

    /// Checks every row against the table's constraints (after a definition change).
    fn check_all_rows(&self, def: &TableDef) -> Result<()> {
        let data = self
            .tables
            .get(&def.id)
            .expect("definition and data exist together");
        for (key, entry) in data.rows.iter() {
            let keys = index_keys(def, &entry.row)?;
            self.check_row_constraints(def, data, &entry.row, key, &keys, None)?;
        }
        Ok(())
    }

    /// Cascading actions for deleting `row` from `def`: the changes to apply first.
    pub fn cascade_for_delete(&self, def: &TableDef, row: &[Value]) -> Result<Vec<Change>> {
        let mut out = Vec::new();
        for (child_def, fk) in self.catalog.references_to(def.id) {
            let values: Vec<Value> = fk.ref_columns.iter().map(|&c| row[c].clone()).collect();
            let Some(child) = self.tables.get(&child_def.id) else {
                continue;
            };
            for key in child.find_matching(&child_def, &fk.columns, &values) {
                if child_def.id == def.id && *child.rows[&key].row == *row {
                    continue;
                }
                let child_row = &child.rows[&key].row;
                match fk.on_delete {
                    FkAction::Restrict => {}
                    FkAction::Cascade => out.push(Change::Delete {
                        table: child_def.id,
                        key: key.clone(),
                        before: None,
                    }),
                    FkAction::SetNull | FkAction::SetDefault => {
                        let mut new_row = child_row.to_vec();
                        for &c in &fk.columns {
                            new_row[c] = Value::Null;
                        }
                        out.push(Change::Update {
                            table: child_def.id,
                            key,
                            row: Row::from(new_row),
                            before: None,
                        });
                    }
                }
            }
        }
        Ok(out)
    }

    /// A digest of the whole state: equal states have equal digests.
    pub fn digest(&self) -> [u8; 32] {
        let mut hasher = blake3::Hasher::new();
        crate::checkpoint::write_state(&mut HashWriter(&mut hasher), self)
            .expect("hashing cannot fail");
        hasher.finalize().into()
    }
}

/// A duplicate primary key, worded like PostgreSQL ("already exists" / "is duplicated").
fn primary_key_violation(def: &TableDef, key: &[Value], what: &str) -> Error {
    let cols = def.primary_key.clone().unwrap_or_default();
    Error::UniqueViolation {
        constraint: def
            .primary_key_name
            .clone()
            .unwrap_or_else(|| format!("{}_pkey", def.name)),
        detail: format!("Key {} {what}.", describe(&cols, def, key)),
    }
}

/// The entries of `index` (of table `def`) for `rows`; with checks, fails on duplicate keys
/// of a unique index.
pub(crate) fn build_index(
    def: &TableDef,
    index: &IndexDef,
    rows: &SharedBTree<Key, RowEntry>,
    check: Check,
) -> Result<SharedBTree<Key, ()>> {
    let mut map = SharedBTree::new();
    let mut prev: Option<Vec<Value>> = None;
    for (key, entry) in rows.iter() {
        map.insert(index_entry(&index.key_of(def, &entry.row)?, key), ());
    }
    if index.unique && check != Check::Replay {
        for entry in map.keys() {
            let values = entry[..index.columns.len()].to_vec();
            if values.iter().any(Value::is_null) {
                prev = None;
                continue;
            }
            if prev.as_ref() == Some(&values) {
                return Err(Error::UniqueViolation {
                    constraint: index.name.clone(),
                    detail: format!("Key {} is duplicated.", describe_index(index, def, &values)),
                });
            }
            prev = Some(values);
        }
    }
    Ok(map)
}

/// Adapts a BLAKE3 hasher to `std::io::Write` for the digest.
struct HashWriter<'a>(&'a mut blake3::Hasher);

impl std::io::Write for HashWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
