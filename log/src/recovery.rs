//! Opening a log directory: find the segments, trust what checks, repair only a torn tail.
//!
//! The procedure (the case analysis behind it is in `docs/log-format.md`):
//! 1. List `*.seg` files; anything else that is not ours (other than `.idx`, the lock file and
//!    temporary files) means the directory is not a zqlite log.
//! 2. Every segment but the last is sealed: its header must decode, and its `.idx` must match
//!    the file (else the segment is scanned, CRC by CRC, and the index rewritten). Consecutive
//!    segments must continue each other's LSNs and hash chain.
//! 3. The last segment is scanned frame by frame. Damage with no valid frame after it is a
//!    torn write and is truncated away; damage followed by valid frames is corruption.
//! 4. [`RecoveryMode::Repair`] instead truncates at the first damage anywhere and deletes the
//!    segments after it, reporting what was dropped.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tracing::{info, warn};

use crate::error::{Error, Result};
use crate::format::{GENESIS_CHAIN, HeaderError, SEGMENT_HEADER_LEN, SegmentHeader};
use crate::fs::{FileSystem, LogFile};
use crate::options::{LogOptions, RecoveryMode};
use crate::segment::{
    self, INDEX_EXT, SEGMENT_EXT, SegmentSummary, encode_index, index_path, parse_segment_name,
    read_index, scan_segment, segment_path,
};

pub(crate) const LOCK_FILE: &str = "LOCK";

/// What opening found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecoveryReport {
    /// Bytes cut from the end of the last segment because its last write was torn.
    pub torn_bytes_truncated: u64,
    /// Indexes that were missing or damaged and rebuilt from their segments.
    pub indexes_rebuilt: usize,
    /// With [`RecoveryMode::Repair`]: the first LSN dropped, if anything was.
    pub repaired_from_lsn: Option<u64>,
    /// With [`RecoveryMode::Repair`]: segment files deleted.
    pub segments_deleted: Vec<PathBuf>,
}

/// A sealed segment known to be sound.
#[derive(Debug)]
pub(crate) struct SealedOpen {
    pub path: PathBuf,
    pub summary: SegmentSummary,
}

/// The segment appends go to.
#[derive(Debug)]
pub(crate) struct ActiveOpen {
    pub path: PathBuf,
    pub file: Arc<dyn LogFile>,
    pub summary: SegmentSummary,
    /// Current file length (data plus zero fill).
    pub allocated: u64,
}

#[derive(Debug)]
pub(crate) struct Recovered {
    pub sealed: Vec<SealedOpen>,
    pub active: ActiveOpen,
    pub report: RecoveryReport,
}

pub(crate) fn recover(dir: &Path, opts: &LogOptions) -> Result<Recovered> {
    let fs = &*opts.fs;
    let mut lsns = list_segments(fs, dir)?;
    let mut report = RecoveryReport::default();
    if lsns.is_empty() {
        let active = create_segment(fs, dir, 1, GENESIS_CHAIN)?;
        return Ok(Recovered {
            sealed: Vec::new(),
            active,
            report,
        });
    }
    lsns.sort_unstable();

    let mut sealed: Vec<SealedOpen> = Vec::new();
    let last = lsns.len() - 1;
    for (i, &first_lsn) in lsns.iter().enumerate() {
        let path = segment_path(dir, first_lsn);
        let prev = sealed.last().map(|s| &s.summary);
        let outcome = if i < last {
            open_sealed(fs, &path, first_lsn, prev, opts, &mut report).map(|summary| {
                Step::Sealed(SealedOpen {
                    path: path.clone(),
                    summary,
                })
            })
        } else {
            open_tail(fs, &path, first_lsn, prev, opts, &mut report)
        };
        let failure = match outcome {
            Ok(Step::Sealed(s)) => {
                sealed.push(s);
                continue;
            }
            Ok(Step::Active(active)) => {
                return Ok(Recovered {
                    sealed,
                    active,
                    report,
                });
            }
            Ok(Step::Repaired(active)) => {
                delete_segments(fs, dir, &lsns[i + 1..], &mut report)?;
                return Ok(Recovered {
                    sealed,
                    active,
                    report,
                });
            }
            Err(e) => e,
        };
        if opts.recovery != RecoveryMode::Repair || !failure.is_corruption() {
            return Err(failure);
        }
        // Repair: this segment and everything after it cannot be trusted from the damage
        // on. Keep what checks in this segment; delete the later ones.
        let active = repair_segment(fs, dir, &path, first_lsn, sealed.last(), opts, &mut report)?;
        delete_segments(fs, dir, &lsns[i + 1..], &mut report)?;
        return Ok(Recovered {
            sealed,
            active,
            report,
        });
    }
    unreachable!("the loop returns at the last segment")
}

enum Step {
    Sealed(SealedOpen),
    Active(ActiveOpen),
    Repaired(ActiveOpen),
}

fn list_segments(fs: &dyn FileSystem, dir: &Path) -> Result<Vec<u64>> {
    let names = fs.list(dir).map_err(Error::io("list", dir))?;
    let mut lsns = Vec::new();
    for name in names {
        if let Some(lsn) = parse_segment_name(&name) {
            lsns.push(lsn);
        } else if !(name == LOCK_FILE
            || name.ends_with(".tmp")
            || name.strip_suffix(&format!(".{INDEX_EXT}")).is_some())
        {
            return Err(Error::NotALog {
                path: dir.join(&name),
                reason: format!(
                    "unexpected file in a log directory (holds only *.{SEGMENT_EXT} and *.{INDEX_EXT})"
                ),
            });
        }
    }
    Ok(lsns)
}

fn read_whole(fs: &dyn FileSystem, path: &Path) -> Result<(Arc<dyn LogFile>, Vec<u8>)> {
    let file = fs.open(path, false).map_err(Error::io("open", path))?;
    let len = file.len().map_err(Error::io("stat", path))?;
    let bytes = file
        .read_vec(0, len as usize)
        .map_err(Error::io("read", path))?;
    Ok((file, bytes))
}

pub(crate) fn header_error(path: &Path, err: HeaderError) -> Error {
    let path = path.to_path_buf();
    match err {
        HeaderError::BadMagic => Error::NotALog {
            path,
            reason: "bad magic bytes".into(),
        },
        HeaderError::UnsupportedVersion { found } => Error::UnsupportedVersion {
            path,
            found,
            supported: crate::format::FORMAT_VERSION,
        },
        HeaderError::Truncated { len } => Error::Corruption {
            path,
            offset: len as u64,
            reason: format!("segment header truncated after {len} bytes"),
        },
        HeaderError::BadChecksum => Error::Corruption {
            path,
            offset: 0,
            reason: "segment header checksum mismatch".into(),
        },
    }
}

/// Checks that a segment header continues the previous segment.
fn check_continuity(
    path: &Path,
    name_lsn: u64,
    header: &SegmentHeader,
    prev: Option<&SegmentSummary>,
) -> Result<()> {
    let corrupt = |reason: String| Error::Corruption {
        path: path.to_path_buf(),
        offset: 0,
        reason,
    };
    if header.first_lsn != name_lsn {
        return Err(corrupt(format!(
            "header says first LSN {} but the file is named for {name_lsn}",
            header.first_lsn
        )));
    }
    let (expected_lsn, expected_chain) = match prev {
        Some(p) => (p.last_lsn + 1, p.last_chain),
        None => (name_lsn, header.chain_start),
    };
    if header.first_lsn != expected_lsn {
        return Err(corrupt(format!(
            "segment starts at LSN {} but the previous one ends at {}: a segment is missing \
             or truncated",
            header.first_lsn,
            expected_lsn - 1
        )));
    }
    if prev.is_none() && name_lsn == 1 && header.chain_start != GENESIS_CHAIN {
        return Err(corrupt(
            "first segment does not start the hash chain".into(),
        ));
    }
    if header.chain_start != expected_chain {
        return Err(corrupt(
            "hash chain does not continue the previous segment".into(),
        ));
    }
    Ok(())
}

fn open_sealed(
    fs: &dyn FileSystem,
    path: &Path,
    name_lsn: u64,
    prev: Option<&SegmentSummary>,
    opts: &LogOptions,
    report: &mut RecoveryReport,
) -> Result<SegmentSummary> {
    let (file, bytes) = read_whole(fs, path)?;
    let header = segment::read_header(&bytes).map_err(|e| header_error(path, e))?;
    check_continuity(path, name_lsn, &header, prev)?;
    let cached = read_index(fs, path, &header).filter(|s| s.data_end == bytes.len() as u64);
    if let Some(summary) = cached {
        return Ok(summary);
    }
    let scan = scan_segment(&header, &bytes, opts.index_interval, false);
    if let Some(damage) = scan.damage {
        return Err(Error::Corruption {
            path: path.to_path_buf(),
            offset: damage.offset,
            reason: format!("{} in a sealed segment", damage.reason),
        });
    }
    if scan.summary.data_end != bytes.len() as u64 {
        // Zero fill after the last frame: a crash between writing and sealing. Harmless; seal
        // it now so the file matches its index.
        truncate_durably(&*file, scan.summary.data_end, path)?;
    }
    write_index(fs, path, &scan.summary)?;
    report.indexes_rebuilt += 1;
    info!(segment = %path.display(), "rebuilt missing or stale segment index");
    Ok(scan.summary)
}

fn open_tail(
    fs: &dyn FileSystem,
    path: &Path,
    name_lsn: u64,
    prev: Option<&SegmentSummary>,
    opts: &LogOptions,
    report: &mut RecoveryReport,
) -> Result<Step> {
    let (file, mut bytes) = read_whole(fs, path)?;
    let header = match segment::read_header(&bytes) {
        Ok(header) => header,
        // A segment whose creation was torn before its header became durable holds nothing:
        // the roll that created it never acknowledged a record in it. Write the header again.
        Err(
            e @ (HeaderError::Truncated { .. } | HeaderError::BadChecksum | HeaderError::BadMagic),
        ) if (e != HeaderError::BadMagic || bytes.iter().all(|&b| b == 0))
            && bytes
                .get(SEGMENT_HEADER_LEN..)
                .is_none_or(|rest| rest.iter().all(|&b| b == 0)) =>
        {
            let (first_lsn, chain_start) = prev.map_or((name_lsn, GENESIS_CHAIN), |p| {
                (p.last_lsn + 1, p.last_chain)
            });
            let header = SegmentHeader {
                first_lsn,
                chain_start,
            };
            warn!(segment = %path.display(), "rewriting the torn header of an empty last segment");
            file.write_all_at(&header.encode(), 0)
                .and_then(|()| file.sync_data())
                .map_err(Error::io("write", path))?;
            bytes.resize(bytes.len().max(SEGMENT_HEADER_LEN), 0);
            bytes[..SEGMENT_HEADER_LEN].copy_from_slice(&header.encode());
            header
        }
        Err(e) => return Err(header_error(path, e)),
    };
    check_continuity(path, name_lsn, &header, prev)?;

    let scan = scan_segment(&header, &bytes, opts.index_interval, false);
    let mut repaired = false;
    if let Some(damage) = &scan.damage {
        if damage.valid_frames_after {
            if opts.recovery != RecoveryMode::Repair {
                return Err(Error::Corruption {
                    path: path.to_path_buf(),
                    offset: damage.offset,
                    reason: format!(
                        "{}, followed by valid frames (not a torn write)",
                        damage.reason
                    ),
                });
            }
            report.repaired_from_lsn = Some(scan.summary.last_lsn + 1);
            repaired = true;
            warn!(segment = %path.display(), offset = damage.offset, "repair: truncating the log at damage");
        } else {
            warn!(
                segment = %path.display(),
                offset = damage.offset,
                reason = %damage.reason,
                "truncating a torn write at the end of the log"
            );
        }
        report.torn_bytes_truncated += bytes.len() as u64 - damage.offset;
        truncate_durably(&*file, scan.summary.data_end, path)?;
    }
    let allocated = file.len().map_err(Error::io("stat", path))?;
    let active = ActiveOpen {
        path: path.to_path_buf(),
        file,
        summary: scan.summary,
        allocated,
    };
    Ok(if repaired {
        Step::Repaired(active)
    } else {
        Step::Active(active)
    })
}

/// Repair mode: keep the valid prefix of a damaged segment and make it the active one.
fn repair_segment(
    fs: &dyn FileSystem,
    dir: &Path,
    path: &Path,
    name_lsn: u64,
    prev: Option<&SealedOpen>,
    opts: &LogOptions,
    report: &mut RecoveryReport,
) -> Result<ActiveOpen> {
    let (file, bytes) = read_whole(fs, path)?;
    let prev_summary = prev.map(|p| &p.summary);
    let header = segment::read_header(&bytes)
        .ok()
        .filter(|h| check_continuity(path, name_lsn, h, prev_summary).is_ok());
    let Some(header) = header else {
        // Nothing in this segment can be trusted: start a fresh one after the previous.
        let (first_lsn, chain) = prev_summary.map_or((name_lsn, GENESIS_CHAIN), |p| {
            (p.last_lsn + 1, p.last_chain)
        });
        report.repaired_from_lsn.get_or_insert(first_lsn);
        fs.remove(path).map_err(Error::io("remove", path))?;
        report.segments_deleted.push(path.to_path_buf());
        return create_segment(fs, dir, first_lsn, chain);
    };
    let scan = scan_segment(&header, &bytes, opts.index_interval, false);
    if scan.damage.is_some() {
        report
            .repaired_from_lsn
            .get_or_insert(scan.summary.last_lsn + 1);
        report.torn_bytes_truncated += bytes.len() as u64 - scan.summary.data_end;
        truncate_durably(&*file, scan.summary.data_end, path)?;
    }
    let _ = fs.remove(&index_path(path));
    warn!(segment = %path.display(), "repair: the log now ends in this segment");
    Ok(ActiveOpen {
        path: path.to_path_buf(),
        allocated: scan.summary.data_end,
        file,
        summary: scan.summary,
    })
}

fn delete_segments(
    fs: &dyn FileSystem,
    dir: &Path,
    lsns: &[u64],
    report: &mut RecoveryReport,
) -> Result<()> {
    for &lsn in lsns {
        let path = segment_path(dir, lsn);
        fs.remove(&path).map_err(Error::io("remove", &path))?;
        let _ = fs.remove(&index_path(&path));
        report.repaired_from_lsn.get_or_insert(lsn);
        report.segments_deleted.push(path);
    }
    if !lsns.is_empty() {
        fs.sync_dir(dir).map_err(Error::io("sync directory", dir))?;
    }
    Ok(())
}

/// Cuts a file to `len` and syncs it.
fn truncate_durably(file: &dyn LogFile, len: u64, path: &Path) -> Result<()> {
    file.set_len(len)
        .and_then(|()| file.sync_data())
        .map_err(Error::io("truncate", path))
}

/// Creates an empty segment durably: header written and synced, then the directory synced.
pub(crate) fn create_segment(
    fs: &dyn FileSystem,
    dir: &Path,
    first_lsn: u64,
    chain_start: [u8; 32],
) -> Result<ActiveOpen> {
    let path = segment_path(dir, first_lsn);
    let header = SegmentHeader {
        first_lsn,
        chain_start,
    };
    let file = fs.open(&path, true).map_err(Error::io("create", &path))?;
    file.set_len(0)
        .and_then(|()| file.write_all_at(&header.encode(), 0))
        .and_then(|()| file.sync_data())
        .map_err(Error::io("write", &path))?;
    fs.sync_dir(dir).map_err(Error::io("sync directory", dir))?;
    Ok(ActiveOpen {
        path,
        file,
        summary: SegmentSummary::empty(&header),
        allocated: SEGMENT_HEADER_LEN as u64,
    })
}

/// Writes a sealed segment's index atomically (temporary file, then rename). The index is a
/// cache, so it is not synced: after a power loss it is rebuilt if it did not survive.
pub(crate) fn write_index(
    fs: &dyn FileSystem,
    segment: &Path,
    summary: &SegmentSummary,
) -> Result<()> {
    let idx = index_path(segment);
    let tmp = idx.with_extension("idx.tmp");
    let file = fs.open(&tmp, true).map_err(Error::io("create", &tmp))?;
    file.set_len(0)
        .and_then(|()| file.write_all_at(&encode_index(summary), 0))
        .map_err(Error::io("write", &tmp))?;
    fs.rename(&tmp, &idx).map_err(Error::io("rename", &tmp))
}
