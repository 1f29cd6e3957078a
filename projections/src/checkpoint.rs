//! Checkpoints: the whole [`State`] at an LSN, so opening replays only the log after it.
//!
//! A checkpoint is a cache of the log: deleting every checkpoint loses nothing. The format and
//! the write protocol are specified in `docs/checkpoint-format.md`; this module is their one
//! implementation. Invariant: loading a checkpoint yields a state equal to the one written
//! (table indexes are rebuilt from rows, event indexes from the events).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use imbl::OrdMap;

use crate::btree::SharedBTree;
use serde::de::{SeqAccess, Visitor};
use serde::ser::SerializeSeq;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use tracing::warn;
use uuid::Uuid;
use zqlite_log::{FileSystem, Lsn};

use crate::catalog::{
    Catalog, ProjectionDef, ProjectionProgress, RoleDef, SequenceDef, TableDef, TableId, ViewDef,
};
use crate::error::{Error, Result};
use crate::events::{EventStore, RecordedEvent, StreamState};
use crate::state::{Check, Key, RowEntry, SequenceState, State, TableData, build_index};
use crate::value::Value;

const MAGIC: &[u8; 8] = b"ZQSNAP01";
const VERSION: u32 = 4;
/// Checkpoints written before projections (no projections section) still load.
const VERSION_WITHOUT_PROJECTIONS: u32 = 3;
/// Checkpoints written before roles (no roles section) still load.
const VERSION_WITHOUT_ROLES: u32 = 2;
/// Checkpoints written before the event store (no events section) still load.
const VERSION_WITHOUT_EVENTS: u32 = 1;
const HEADER_LEN: usize = 8 + 4 + 8 + 8 + 4;

pub(crate) fn checkpoint_name(lsn: Lsn) -> String {
    format!("{lsn:020}.snap")
}

fn parse_name(name: &str) -> Option<Lsn> {
    let digits = name.strip_suffix(".snap")?;
    (digits.len() == 20 && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| digits.parse().ok())
        .flatten()
}

/// Serializes the state's content in the canonical order (also used for the digest).
pub(crate) fn write_state(out: &mut impl Write, state: &State) -> Result<()> {
    rmp_serde::encode::write(out, &StateRef(state))
        .map_err(|e| Error::Internal(format!("encoding state: {e}")))
}

struct StateRef<'a>(&'a State);

struct Rows<'a>(&'a OrdMap<TableId, TableData>);
struct TableRows<'a>(&'a SharedBTree<Key, RowEntry>);

impl Serialize for StateRef<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let st = self.0;
        let c = &st.catalog;
        let tables: Vec<&TableDef> = c.tables.values().map(|t| &**t).collect();
        let views: Vec<&ViewDef> = c.views.values().map(|v| &**v).collect();
        let seqs: Vec<&SequenceDef> = c.sequences.values().map(|v| &**v).collect();
        let seq_states: Vec<(&String, &SequenceState)> = st.sequences.iter().collect();
        let roles: Vec<&RoleDef> = c.roles.values().map(|r| &**r).collect();
        let projections: Vec<(&ProjectionDef, ProjectionProgress)> = c
            .projections
            .values()
            .map(|p| {
                let progress = st.projections.get(&p.name).copied().unwrap_or_default();
                (&**p, progress)
            })
            .collect();
        (
            st.lsn,
            st.next_rowid,
            c.version,
            c.next_table_id,
            tables,
            views,
            seqs,
            seq_states,
            Rows(&st.tables),
            Events(&st.events),
            roles,
            projections,
        )
            .serialize(s)
    }
}

impl Serialize for Rows<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for (id, data) in self.0.iter() {
            seq.serialize_element(&(id, data.def_lsn, TableRows(&data.rows)))?;
        }
        seq.end()
    }
}

impl Serialize for TableRows<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for (key, entry) in self.0.iter() {
            seq.serialize_element(&(&**key, &*entry.row, entry.lsn))?;
        }
        seq.end()
    }
}

struct Events<'a>(&'a EventStore);

/// One stream's state as stored: name, last version, deleted through, tombstoned,
/// max count, max age (seconds).
type StreamTuple = (
    String,
    Option<u64>,
    Option<u64>,
    bool,
    Option<u64>,
    Option<u64>,
);
/// One event as stored: position, id, stream, version, type, data, metadata, LSN.
type EventTuple = (u64, Uuid, String, u64, String, String, Option<String>, Lsn);
type EventsBody = (u64, Vec<StreamTuple>, Vec<EventTuple>, Vec<(Lsn, i64)>);

impl Serialize for Events<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let ev = self.0;
        let streams: Vec<_> = ev
            .streams
            .iter()
            .map(|(name, st)| {
                (
                    &**name,
                    st.last_version,
                    st.deleted_through,
                    st.tombstoned,
                    st.max_count,
                    st.max_age_seconds,
                )
            })
            .collect();
        let events: Vec<_> = ev
            .events
            .iter()
            .map(|(pos, e)| {
                (
                    pos,
                    e.id,
                    &*e.stream,
                    e.version,
                    &*e.event_type,
                    &*e.data,
                    e.metadata.as_deref(),
                    e.lsn,
                )
            })
            .collect();
        let times: Vec<(&Lsn, &i64)> = ev.commit_times.iter().collect();
        (ev.next_position, streams, events, times).serialize(s)
    }
}

fn decode_events(body: EventsBody) -> EventStore {
    let (next_position, streams, events, times) = body;
    let mut store = EventStore {
        next_position,
        ..EventStore::default()
    };
    for (name, last_version, deleted_through, tombstoned, max_count, max_age_seconds) in streams {
        store.streams.insert(
            Arc::from(name),
            StreamState {
                last_version,
                deleted_through,
                tombstoned,
                max_count,
                max_age_seconds,
            },
        );
    }
    let mut name: Arc<str> = Arc::from("");
    for (position, id, stream, version, event_type, data, metadata, lsn) in events {
        if *name != *stream {
            // Share one name per run of a stream's events, like apply does per append.
            name = store
                .streams
                .get_key_value(stream.as_str())
                .map_or_else(|| Arc::from(stream.as_str()), |(k, _)| k.clone());
        }
        store.by_stream.insert((name.clone(), version), position);
        store.by_id.insert(id, position);
        store.events.insert(
            position,
            Arc::new(RecordedEvent {
                id,
                stream: name.clone(),
                version,
                position,
                event_type: Arc::from(event_type),
                data: Arc::from(data),
                metadata: metadata.map(Arc::from),
                lsn,
            }),
        );
    }
    store.commit_times = times.into_iter().collect();
    store
}

/// Rows decoded straight into a persistent map, without an intermediate vector.
struct RowsOf(SharedBTree<Key, RowEntry>);

impl<'de> Deserialize<'de> for RowsOf {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RowsOf;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("rows")
            }
            fn visit_seq<A: SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> std::result::Result<RowsOf, A::Error> {
                let mut map = SharedBTree::new();
                while let Some((key, row, lsn)) =
                    seq.next_element::<(Vec<Value>, Vec<Value>, Lsn)>()?
                {
                    map.insert(
                        Key::from(key),
                        RowEntry {
                            row: Arc::from(row),
                            lsn,
                        },
                    );
                }
                Ok(RowsOf(map))
            }
        }
        d.deserialize_seq(V)
    }
}

type Body = (
    Lsn,
    i64,
    u64,
    TableId,
    Vec<TableDef>,
    Vec<ViewDef>,
    Vec<SequenceDef>,
    Vec<(String, SequenceState)>,
    Vec<(TableId, Lsn, RowsOf)>,
    EventsBody,
    Vec<RoleDef>,
    Vec<(ProjectionDef, ProjectionProgress)>,
);

/// The body of a version 3 checkpoint (no projections).
type BodyV3 = (
    Lsn,
    i64,
    u64,
    TableId,
    Vec<TableDef>,
    Vec<ViewDef>,
    Vec<SequenceDef>,
    Vec<(String, SequenceState)>,
    Vec<(TableId, Lsn, RowsOf)>,
    EventsBody,
    Vec<RoleDef>,
);

/// The body of a version 2 checkpoint (no roles).
type BodyV2 = (
    Lsn,
    i64,
    u64,
    TableId,
    Vec<TableDef>,
    Vec<ViewDef>,
    Vec<SequenceDef>,
    Vec<(String, SequenceState)>,
    Vec<(TableId, Lsn, RowsOf)>,
    EventsBody,
);

/// The body of a version 1 checkpoint (no event store).
type BodyV1 = (
    Lsn,
    i64,
    u64,
    TableId,
    Vec<TableDef>,
    Vec<ViewDef>,
    Vec<SequenceDef>,
    Vec<(String, SequenceState)>,
    Vec<(TableId, Lsn, RowsOf)>,
);

fn decode_state(body: &[u8], format: u32) -> std::result::Result<State, String> {
    let decode_error = |e: rmp_serde::decode::Error| e.to_string();
    let (
        lsn,
        next_rowid,
        version,
        next_table_id,
        tables,
        views,
        seqs,
        seq_states,
        rows,
        events,
        roles,
        projections,
    ): Body = match format {
        VERSION_WITHOUT_EVENTS => {
            let (a, b, c, d, e, f, g, h, i): BodyV1 =
                rmp_serde::from_slice(body).map_err(decode_error)?;
            (
                a,
                b,
                c,
                d,
                e,
                f,
                g,
                h,
                i,
                EventsBody::default(),
                Vec::new(),
                Vec::new(),
            )
        }
        VERSION_WITHOUT_ROLES => {
            let (a, b, c, d, e, f, g, h, i, j): BodyV2 =
                rmp_serde::from_slice(body).map_err(decode_error)?;
            (a, b, c, d, e, f, g, h, i, j, Vec::new(), Vec::new())
        }
        VERSION_WITHOUT_PROJECTIONS => {
            let (a, b, c, d, e, f, g, h, i, j, k): BodyV3 =
                rmp_serde::from_slice(body).map_err(decode_error)?;
            (a, b, c, d, e, f, g, h, i, j, k, Vec::new())
        }
        _ => rmp_serde::from_slice(body).map_err(decode_error)?,
    };
    let mut catalog = Catalog {
        version,
        next_table_id,
        ..Catalog::default()
    };
    for def in tables {
        catalog.tables_by_name.insert(def.name.clone(), def.id);
        catalog.tables.insert(def.id, Arc::new(def));
    }
    for view in views {
        catalog.views.insert(view.name.clone(), Arc::new(view));
    }
    for seq in seqs {
        catalog.sequences.insert(seq.name.clone(), Arc::new(seq));
    }
    for role in roles {
        catalog.roles.insert(role.name.clone(), Arc::new(role));
    }
    let mut progress = OrdMap::new();
    for (def, at) in projections {
        progress.insert(def.name.clone(), at);
        catalog.projections.insert(def.name.clone(), Arc::new(def));
    }
    let mut state = State {
        catalog,
        lsn,
        next_rowid,
        sequences: seq_states.into_iter().collect(),
        tables: OrdMap::new(),
        events: decode_events(events),
        projections: progress,
    };
    for (id, def_lsn, RowsOf(rows)) in rows {
        let def = state
            .catalog
            .tables
            .get(&id)
            .cloned()
            .ok_or_else(|| format!("rows for unknown table {id}"))?;
        let mut data = TableData {
            rows,
            indexes: Vec::new(),
            def_lsn,
            // The checkpoint holds every change up to its LSN.
            rows_lsn: state.lsn,
        };
        for index in &def.indexes {
            let built = build_index(&def, index, &data.rows, Check::Replay)
                .map_err(|e| format!("index \"{}\" of table {id}: {e}", index.name))?;
            data.indexes.push(built);
        }
        state.tables.insert(id, data);
    }
    if state.tables.len() != state.catalog.tables.len() {
        return Err("tables without rows section".into());
    }
    Ok(state)
}

/// Writes a checkpoint of `state` into `dir` atomically (temporary file, sync, rename,
/// directory sync) and returns its path. A checkpoint already there for the same LSN is
/// replaced.
pub fn write(fs: &dyn FileSystem, dir: &Path, state: &State) -> Result<PathBuf> {
    let io = |op: &'static str, path: &Path| {
        let path = path.to_path_buf();
        move |e: std::io::Error| Error::Checkpoint {
            path,
            reason: format!("{op}: {e}"),
        }
    };
    fs.create_dir_all(dir)
        .map_err(io("create directory", dir))?;
    let mut body = Vec::new();
    write_state(&mut body, state)?;
    let mut bytes = Vec::with_capacity(HEADER_LEN + body.len());
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&VERSION.to_le_bytes());
    bytes.extend_from_slice(&state.lsn.to_le_bytes());
    bytes.extend_from_slice(&(body.len() as u64).to_le_bytes());
    bytes.extend_from_slice(&crc32fast_hash(&body).to_le_bytes());
    bytes.extend_from_slice(&body);
    let path = dir.join(checkpoint_name(state.lsn));
    let tmp = path.with_extension("snap.tmp");
    let file = fs.open(&tmp, true).map_err(io("create", &tmp))?;
    file.set_len(0)
        .and_then(|()| file.write_all_at(&bytes, 0))
        .and_then(|()| file.sync_data())
        .map_err(io("write", &tmp))?;
    fs.rename(&tmp, &path).map_err(io("rename", &tmp))?;
    fs.sync_dir(dir).map_err(io("sync directory", dir))?;
    Ok(path)
}

fn crc32fast_hash(bytes: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(bytes);
    h.finalize()
}

/// Reads one checkpoint file, with every check opening makes (magic, version, length, CRC,
/// body); the error says what failed.
pub fn read(fs: &dyn FileSystem, path: &Path) -> std::result::Result<State, String> {
    let file = fs.open(path, false).map_err(|e| e.to_string())?;
    let len = file.len().map_err(|e| e.to_string())?;
    let bytes = file.read_vec(0, len as usize).map_err(|e| e.to_string())?;
    if bytes.len() < HEADER_LEN || &bytes[..8] != MAGIC {
        return Err("not a zqlite checkpoint".into());
    }
    let version = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
    if ![
        VERSION,
        VERSION_WITHOUT_PROJECTIONS,
        VERSION_WITHOUT_ROLES,
        VERSION_WITHOUT_EVENTS,
    ]
    .contains(&version)
    {
        return Err(format!("unsupported checkpoint version {version}"));
    }
    let lsn = u64::from_le_bytes(bytes[12..20].try_into().expect("8 bytes"));
    let body_len = u64::from_le_bytes(bytes[20..28].try_into().expect("8 bytes")) as usize;
    let crc = u32::from_le_bytes(bytes[28..32].try_into().expect("4 bytes"));
    let body = &bytes[HEADER_LEN..];
    if body.len() != body_len {
        return Err(format!(
            "truncated: {} of {body_len} body bytes",
            body.len()
        ));
    }
    if crc32fast_hash(body) != crc {
        return Err("checksum mismatch".into());
    }
    let state = decode_state(body, version)?;
    if state.lsn != lsn {
        return Err("header and body disagree on the LSN".into());
    }
    Ok(state)
}

/// The checkpoint LSNs to keep out of `lsns` (ascending): the newest `keep` (at least one),
/// and up to
/// `history` older ones chosen by dropping, one at a time, the older checkpoint whose
/// removal leaves the smallest gap between its neighbours (LSN 0, the empty state, is the
/// first neighbour), the oldest on a tie. With checkpoints written at a steady rate this
/// keeps the older ones about evenly spread over the log, so a past state is never much
/// further than `log length / (history + 1)` records from a checkpoint before it.
pub fn thin(lsns: &[Lsn], keep: usize, history: usize) -> Vec<Lsn> {
    let mut kept = lsns.to_vec();
    let newest = keep.max(1).min(kept.len());
    while kept.len() > newest + history {
        let older = kept.len() - newest;
        let gap = |i: usize| {
            let before = if i == 0 { 0 } else { kept[i - 1] };
            kept[i + 1] - before
        };
        // `older < kept.len()`, so every candidate has a successor.
        let drop = (0..older)
            .min_by_key(|&i| gap(i))
            .expect("at least one older checkpoint");
        kept.remove(drop);
    }
    kept
}

/// Checkpoint files in `dir`, newest first (the order opening tries them).
pub fn list(fs: &dyn FileSystem, dir: &Path) -> Vec<(Lsn, PathBuf)> {
    let mut found: Vec<(Lsn, PathBuf)> = fs
        .list(dir)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|name| parse_name(&name).map(|lsn| (lsn, dir.join(name))))
        .collect();
    found.sort_by_key(|(lsn, _)| std::cmp::Reverse(*lsn));
    found
}

/// The newest checkpoint that reads back whole and does not claim more than the log holds.
pub(crate) fn load_newest(fs: &dyn FileSystem, dir: &Path, durable_lsn: Lsn) -> Option<State> {
    for (lsn, path) in list(fs, dir) {
        if lsn > durable_lsn {
            warn!(checkpoint = %path.display(), lsn, durable_lsn, "skipping a checkpoint past the end of the log");
            continue;
        }
        match read(fs, &path) {
            Ok(state) => return Some(state),
            Err(reason) => {
                warn!(checkpoint = %path.display(), %reason, "skipping a damaged checkpoint")
            }
        }
    }
    None
}

/// Deletes checkpoints beyond the newest `keep` and `history` older ones (and leftover
/// temporary files); failures to delete are logged, never fatal (a checkpoint is only a
/// cache). The older ones kept are those [`thin`] picks, spread over the log.
pub fn prune(fs: &dyn FileSystem, dir: &Path, keep: usize, history: usize) {
    let found = list(fs, dir);
    let lsns: Vec<Lsn> = found.iter().rev().map(|(lsn, _)| *lsn).collect();
    let kept = thin(&lsns, keep, history);
    for (lsn, path) in found {
        if kept.contains(&lsn) {
            continue;
        }
        if let Err(e) = fs.remove(&path) {
            warn!(checkpoint = %path.display(), error = %e, "could not delete an old checkpoint");
        }
    }
    for name in fs.list(dir).unwrap_or_default() {
        if name.ends_with(".snap.tmp") {
            let _ = fs.remove(&dir.join(name));
        }
    }
}
