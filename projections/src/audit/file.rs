//! The audit index on disk: `audit/index` in the data directory, so that the first audit
//! query after a restart reads the index and the records after it instead of the whole log.
//!
//! The file is a cache of the log like a checkpoint: deleting it costs one scan of the log
//! on the next audit query, never an answer. It is written whole (to a temporary file,
//! synced, renamed over the old one, directory synced) and used only when every check
//! passes, otherwise ignored with a warning:
//! - magic, version, body length and CRC-32 of the body;
//! - the record it ends at is still in the log with the same hash-chain value (a log that
//!   was replaced, cut back or restored from elsewhere does not match);
//! - the fingerprints of a fixed set of sample keys equal those this build computes (a row's
//!   LSNs are found by fingerprint, so a different hash would silently find nothing).
//!
//! Layout: `ZQAUDIT\0`, version (u32 LE), LSN (u64 LE), chain value at that LSN (32 bytes),
//! body length (u64 LE), CRC-32 of the body (u32 LE), then the body: a MessagePack
//! [`Stored`], whose LSN lists are delta-encoded (first value, then differences).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use zqlite_log::{ChainHash, FileSystem, Log, Lsn};

use super::{AuditIndex, Lsns, TableHistory, TableShape, fingerprint};
use crate::catalog::TableId;
use crate::value::Value;

const MAGIC: &[u8; 8] = b"ZQAUDIT\0";
const VERSION: u32 = 1;
const HEADER_LEN: usize = 8 + 4 + 8 + 32 + 8 + 4;

/// Where the index lives in a data directory.
pub fn path(data_dir: &Path) -> PathBuf {
    data_dir.join("audit").join("index")
}

/// A table's shapes: (LSN from which each holds, the shape or none once dropped).
type StoredShapes = Vec<(Lsn, Option<TableShape>)>;

#[derive(Serialize, Deserialize)]
struct Stored {
    /// [`fingerprint`] of each of [`probe_keys`], in order.
    probes: Vec<u64>,
    rows: Vec<(u64, Vec<u64>)>,
    tables: Vec<(TableId, Vec<u64>)>,
    table_wide: Vec<(TableId, Vec<u64>)>,
    security: Vec<u64>,
    shapes: Vec<(TableId, StoredShapes)>,
    names: Vec<(String, Vec<TableId>)>,
}

/// Keys of the common types, whose fingerprints tell whether values still hash the way
/// they did when a file was written.
fn probe_keys() -> Vec<(TableId, Vec<Value>)> {
    vec![
        (1, vec![Value::Int8(42)]),
        (2, vec![Value::Int4(-7), Value::Text("é probe".into())]),
        (3, vec![Value::Int2(3), Value::Bool(true), Value::Null]),
        (4, vec![Value::Float8(1.5), Value::Bytea(vec![0, 255])]),
        (
            5,
            vec![Value::Uuid(uuid::Uuid::from_u128(
                0x0123_4567_89ab_cdef_0123_4567_89ab_cdef,
            ))],
        ),
    ]
}

fn probes() -> Vec<u64> {
    probe_keys()
        .iter()
        .map(|(table, key)| fingerprint(*table, key))
        .collect()
}

fn delta_encode(lsns: &[Lsn]) -> Vec<u64> {
    let mut previous = 0;
    lsns.iter()
        .map(|&lsn| {
            let delta = lsn - previous;
            previous = lsn;
            delta
        })
        .collect()
}

fn delta_decode(deltas: Vec<u64>) -> Result<Vec<Lsn>, String> {
    let mut lsn = 0u64;
    let mut out = Vec::with_capacity(deltas.len());
    for delta in deltas {
        if delta == 0 {
            return Err("an LSN list that is not strictly ascending from 1".into());
        }
        lsn = lsn
            .checked_add(delta)
            .ok_or_else(|| "LSN overflow".to_string())?;
        out.push(lsn);
    }
    Ok(out)
}

/// The file's bytes for `index` (which must have indexed at least one record).
pub fn encode(index: &AuditIndex) -> Vec<u8> {
    let lists = |map: &HashMap<TableId, Vec<Lsn>>| {
        map.iter()
            .map(|(&table, lsns)| (table, delta_encode(lsns)))
            .collect()
    };
    let stored = Stored {
        probes: probes(),
        rows: index
            .rows
            .iter()
            .map(|(&fp, lsns)| (fp, delta_encode(lsns.as_slice())))
            .collect(),
        tables: lists(&index.tables),
        table_wide: lists(&index.table_wide),
        security: delta_encode(&index.security),
        shapes: index
            .shapes
            .by_id
            .iter()
            .map(|(&id, versions)| {
                let versions = versions
                    .iter()
                    .map(|(lsn, shape)| (*lsn, shape.as_deref().cloned()))
                    .collect();
                (id, versions)
            })
            .collect(),
        names: index
            .shapes
            .by_name
            .iter()
            .map(|(name, ids)| (name.clone(), ids.clone()))
            .collect(),
    };
    let body = rmp_serde::to_vec(&stored).expect("the index serialises");
    let mut bytes = Vec::with_capacity(HEADER_LEN + body.len());
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&VERSION.to_le_bytes());
    bytes.extend_from_slice(&index.lsn.to_le_bytes());
    bytes.extend_from_slice(&index.chain);
    bytes.extend_from_slice(&(body.len() as u64).to_le_bytes());
    bytes.extend_from_slice(&crc32fast::hash(&body).to_le_bytes());
    bytes.extend_from_slice(&body);
    bytes
}

/// Writes `bytes` (from [`encode`]) as the index of the data directory `data_dir`,
/// replacing the previous one atomically.
pub fn write(fs: &dyn FileSystem, data_dir: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let path = path(data_dir);
    let dir = path.parent().expect("the index is in a directory");
    fs.create_dir_all(dir)?;
    let tmp = path.with_extension("tmp");
    let file = fs.open(&tmp, true)?;
    file.set_len(0)?;
    file.write_all_at(bytes, 0)?;
    file.sync_data()?;
    fs.rename(&tmp, &path)?;
    fs.sync_dir(dir)
}

/// The saved index of `data_dir` if there is one that passes every check against `log`;
/// `Ok(None)` when there is none, an error saying why a file present is unusable.
pub fn read(fs: &dyn FileSystem, data_dir: &Path, log: &Log) -> Result<Option<AuditIndex>, String> {
    let path = path(data_dir);
    if !fs.exists(&path) {
        return Ok(None);
    }
    let file = fs.open(&path, false).map_err(|e| e.to_string())?;
    let len = file.len().map_err(|e| e.to_string())?;
    let bytes = file.read_vec(0, len as usize).map_err(|e| e.to_string())?;
    let (lsn, chain, stored) = decode(&bytes)?;
    if lsn > log.durable_lsn() {
        return Err(format!(
            "it ends at LSN {lsn}, past the end of the log ({})",
            log.durable_lsn()
        ));
    }
    let record = log
        .read_from(lsn)
        .next()
        .ok_or_else(|| format!("the log has no record {lsn}"))?
        .map_err(|e| e.to_string())?;
    if record.lsn != lsn || record.chain != chain {
        return Err(format!(
            "record {lsn} of the log is not the one it was built from"
        ));
    }
    if stored.probes != probes() {
        return Err("keys fingerprint differently in this build".into());
    }
    into_index(lsn, chain, stored).map(Some)
}

fn decode(bytes: &[u8]) -> Result<(Lsn, ChainHash, Stored), String> {
    if bytes.len() < HEADER_LEN || &bytes[..8] != MAGIC {
        return Err("not a zqlite audit index".into());
    }
    let u64_at = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"));
    let version = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
    if version != VERSION {
        return Err(format!("unsupported audit index version {version}"));
    }
    let lsn = u64_at(12);
    let chain: ChainHash = bytes[20..52].try_into().expect("32 bytes");
    let body_len = u64_at(52);
    let crc = u32::from_le_bytes(bytes[60..64].try_into().expect("4 bytes"));
    let body = &bytes[HEADER_LEN..];
    if body.len() as u64 != body_len {
        return Err(format!(
            "truncated: {} of {body_len} body bytes",
            body.len()
        ));
    }
    if crc32fast::hash(body) != crc {
        return Err("checksum mismatch".into());
    }
    let stored = rmp_serde::from_slice(body).map_err(|e| format!("undecodable body: {e}"))?;
    Ok((lsn, chain, stored))
}

fn into_index(lsn: Lsn, chain: ChainHash, stored: Stored) -> Result<AuditIndex, String> {
    let lists = |lists: Vec<(TableId, Vec<u64>)>| {
        lists
            .into_iter()
            .map(|(table, deltas)| Ok((table, delta_decode(deltas)?)))
            .collect::<Result<HashMap<_, _>, String>>()
    };
    let mut rows = HashMap::with_capacity(stored.rows.len());
    for (fp, deltas) in stored.rows {
        let lsns = match delta_decode(deltas)?.as_slice() {
            [] => return Err("a row without LSNs".into()),
            [one] => Lsns::One(*one),
            many => Lsns::Many(many.to_vec()),
        };
        rows.insert(fp, lsns);
    }
    let by_id = stored
        .shapes
        .into_iter()
        .map(|(id, versions)| {
            let versions = versions
                .into_iter()
                .map(|(from, shape)| (from, shape.map(Arc::new)))
                .collect();
            (id, versions)
        })
        .collect();
    Ok(AuditIndex {
        lsn,
        chain,
        rows,
        tables: lists(stored.tables)?,
        table_wide: lists(stored.table_wide)?,
        security: delta_decode(stored.security)?,
        shapes: Arc::new(TableHistory {
            by_id,
            by_name: stored.names.into_iter().collect(),
        }),
    })
}

#[cfg(test)]
mod tests {
    use zqlite_log::RealFs;

    use super::super::tests::{commit, row, table};
    use super::*;
    use crate::change::{Change, SecurityEvent};
    use crate::store::{Store, StoreOptions};

    /// A store with a table renamed, altered and dropped, row changes by two users, and
    /// security events; returns the store and its audit index built from the log.
    fn workload(dir: &Path) -> (Store, AuditIndex) {
        let store = Store::open(dir, StoreOptions::default()).unwrap();
        commit(&store, "alice", |t| {
            t.apply(Change::CreateTable(table("t"))).unwrap();
            for id in 0..50 {
                t.insert(1, row(id, "a")).unwrap();
            }
        });
        for id in 0..20 {
            commit(&store, "bob", |t| {
                t.update(1, &[Value::Int8(id)], row(id, "b")).unwrap();
            });
        }
        store
            .wait(
                store
                    .record_security_event(&SecurityEvent {
                        kind: "login_failed".into(),
                        ..SecurityEvent::default()
                    })
                    .unwrap(),
            )
            .unwrap();
        commit(&store, "carol", |t| {
            t.apply(Change::AlterTable(table("u"))).unwrap();
            t.delete(1, &[Value::Int8(3)]).unwrap();
        });
        let head = commit(&store, "carol", |t| {
            t.apply(Change::Truncate { table: 1 }).unwrap();
        });
        let mut index = AuditIndex::default();
        index.catch_up(store.log(), head).unwrap();
        (store, index)
    }

    #[test]
    fn a_saved_index_reads_back_equal_to_the_one_built_from_the_log() {
        let dir = tempfile::tempdir().unwrap();
        let (store, index) = workload(dir.path());
        write(&RealFs, dir.path(), &encode(&index)).unwrap();
        let loaded = read(&RealFs, dir.path(), store.log()).unwrap().unwrap();
        assert_eq!(loaded, index);
        // Inserted, updated, deleted (the truncate is table-wide).
        assert_eq!(loaded.row_lsns(1, &[Value::Int8(3)]).len(), 3);
        assert_eq!(loaded.table_wide_lsns(1), &[index.lsn()]);
        assert_eq!(loaded.security_lsns().len(), 1);
        assert_eq!(loaded.shapes().latest(1).unwrap().name, "u");
        // No file: nothing to load.
        let empty = tempfile::tempdir().unwrap();
        assert!(read(&RealFs, empty.path(), store.log()).unwrap().is_none());
    }

    #[test]
    fn a_damaged_or_foreign_index_is_refused_with_the_reason() {
        let dir = tempfile::tempdir().unwrap();
        let (store, index) = workload(dir.path());
        let bytes = encode(&index);
        let refused = |bytes: &[u8]| {
            write(&RealFs, dir.path(), bytes).unwrap();
            read(&RealFs, dir.path(), store.log()).unwrap_err()
        };

        let mut flipped = bytes.clone();
        *flipped.last_mut().unwrap() ^= 1;
        assert_eq!(refused(&flipped), "checksum mismatch");
        assert!(refused(&bytes[..bytes.len() - 3]).starts_with("truncated"));
        assert_eq!(refused(b"not an index"), "not a zqlite audit index");

        // Built from another log with as many records.
        let other_dir = tempfile::tempdir().unwrap();
        let (_other, other) = workload(other_dir.path());
        assert_eq!(other.lsn(), index.lsn());
        assert!(refused(&encode(&other)).contains("not the one it was built from"));

        // Ahead of the log (a log cut back after the index was saved).
        let mut ahead = AuditIndex {
            lsn: index.lsn() + 1,
            ..AuditIndex::default()
        };
        ahead.chain = index.chain;
        assert!(refused(&encode(&ahead)).contains("past the end of the log"));
    }

    #[test]
    fn sample_keys_fingerprint_as_pinned() {
        // Saved indexes carry these and are refused when they change; a change here means
        // every saved index is rebuilt once after an upgrade.
        assert_eq!(probes(), PINNED_PROBES);
    }

    const PINNED_PROBES: [u64; 5] = [
        2_069_744_868_449_933_444,
        11_298_016_045_760_373_369,
        11_075_230_358_943_880_054,
        7_086_711_463_989_546_732,
        13_341_936_488_723_594_676,
    ];

    #[test]
    fn the_store_saves_the_index_at_checkpoints_and_loads_it_after_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let (store, built) = workload(dir.path());
        let head = store.snapshot().lsn();
        // Not built yet: a checkpoint saves nothing.
        store.checkpoint().unwrap();
        assert!(!path(dir.path()).exists());
        assert_eq!(*store.audit_index(head).unwrap(), built);
        store.checkpoint().unwrap();
        assert!(path(dir.path()).exists());
        let later = commit(&store, "dave", |t| {
            t.insert(1, row(100, "d")).unwrap();
        });
        store.close().unwrap();

        let store = Store::open(dir.path(), StoreOptions::default()).unwrap();
        let mut saved = read(&RealFs, dir.path(), store.log()).unwrap().unwrap();
        assert_eq!(saved.lsn(), head, "close saves only an index that grew");
        // A row no record changed, planted in the saved index: answers that show it were
        // read from the file.
        let planted = [Value::Int8(999)];
        saved.rows.insert(fingerprint(1, &planted), Lsns::One(2));
        write(&RealFs, dir.path(), &encode(&saved)).unwrap();

        let index = store.audit_index(later).unwrap();
        assert_eq!(index.lsn(), later);
        assert_eq!(index.row_lsns(1, &planted), vec![2]);
        assert_eq!(index.row_lsns(1, &[Value::Int8(100)]), vec![later]);
        let mut rebuilt = AuditIndex::default();
        rebuilt.catch_up(store.log(), later).unwrap();
        assert!(rebuilt.row_lsns(1, &planted).is_empty());
        rebuilt.rows.insert(fingerprint(1, &planted), Lsns::One(2));
        assert_eq!(*index, rebuilt);
    }
}
