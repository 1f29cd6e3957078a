//! The one seam between the log and the operating system's files.
//!
//! Everything the log does to disk goes through [`FileSystem`] and [`LogFile`], so tests can
//! substitute [`SimFs`](crate::sim::SimFs), which injects write and sync failures and simulates
//! a crash that loses everything not yet synced. [`RealFs`] is the production implementation.
//!
//! Contract the log relies on:
//! - `sync_data` returns only after the file's data and length are durable.
//! - A created, renamed or removed directory entry is durable only after `sync_dir`.
//! - `map` is only called on sealed segments, which nobody writes or truncates while mapped.

use std::any::Any;
use std::fmt::Debug;
use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{self, Read, Seek, Write};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::Arc;

/// Read-only bytes of a whole file (a memory map for real files).
pub type Mapped = Arc<dyn MappedBytes>;

/// What [`Mapped`] holds: any shareable read-only byte buffer.
pub trait MappedBytes: AsRef<[u8]> + Send + Sync + Debug {}

impl<T: AsRef<[u8]> + Send + Sync + Debug> MappedBytes for T {}

/// A held exclusive lock; dropping it releases the lock.
pub type LockGuard = Box<dyn Any + Send + Sync>;

/// Why a lock could not be taken.
#[derive(Debug)]
pub enum LockError {
    /// Another holder has it; the string says who, as far as the lock file tells.
    Held(String),
    Io(io::Error),
}

/// Directory and file operations used by the log.
pub trait FileSystem: Send + Sync + Debug {
    fn create_dir_all(&self, dir: &Path) -> io::Result<()>;
    /// Names of the entries in `dir`.
    fn list(&self, dir: &Path) -> io::Result<Vec<String>>;
    /// Opens a file for reading and writing, creating it (empty) when `create` is set.
    fn open(&self, path: &Path, create: bool) -> io::Result<Arc<dyn LogFile>>;
    fn exists(&self, path: &Path) -> bool;
    fn remove(&self, path: &Path) -> io::Result<()>;
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()>;
    /// Makes creations, renames and removals of entries in `dir` durable.
    fn sync_dir(&self, dir: &Path) -> io::Result<()>;
    /// The whole content of a file that will not change while mapped.
    fn map(&self, path: &Path) -> io::Result<Mapped>;
    /// Takes an exclusive lock tied to `path`, recording this process as its holder.
    fn lock(&self, path: &Path) -> Result<LockGuard, LockError>;
}

/// An open file: positional reads and writes, sync and length changes.
#[allow(clippy::len_without_is_empty)] // a file's length is read for offsets, never as a test
pub trait LogFile: Send + Sync + Debug {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize>;
    fn write_all_at(&self, buf: &[u8], offset: u64) -> io::Result<()>;
    fn sync_data(&self) -> io::Result<()>;
    fn len(&self) -> io::Result<u64>;
    fn set_len(&self, len: u64) -> io::Result<()>;

    /// Reads `len` bytes from `offset`, or fewer at end of file.
    fn read_vec(&self, offset: u64, len: usize) -> io::Result<Vec<u8>> {
        let mut buf = vec![0; len];
        let mut filled = 0;
        while filled < len {
            let n = self.read_at(&mut buf[filled..], offset + filled as u64)?;
            if n == 0 {
                break;
            }
            filled += n;
        }
        buf.truncate(filled);
        Ok(buf)
    }
}

/// The operating system's file system.
#[derive(Debug, Clone, Copy, Default)]
pub struct RealFs;

#[derive(Debug)]
struct RealFile(File);

impl FileSystem for RealFs {
    fn create_dir_all(&self, dir: &Path) -> io::Result<()> {
        fs::create_dir_all(dir)
    }

    fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
        let mut names = Vec::new();
        for entry in fs::read_dir(dir)? {
            names.push(entry?.file_name().to_string_lossy().into_owned());
        }
        Ok(names)
    }

    fn open(&self, path: &Path, create: bool) -> io::Result<Arc<dyn LogFile>> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(create)
            .truncate(false)
            .open(path)?;
        Ok(Arc::new(RealFile(file)))
    }

    fn exists(&self, path: &Path) -> bool {
        path.exists()
    }

    fn remove(&self, path: &Path) -> io::Result<()> {
        fs::remove_file(path)
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        fs::rename(from, to)
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        File::open(dir)?.sync_all()
    }

    fn map(&self, path: &Path) -> io::Result<Mapped> {
        let file = File::open(path)?;
        if file.metadata()?.len() == 0 {
            return Ok(Arc::new(Vec::<u8>::new()));
        }
        Ok(Arc::new(map_sealed_file(&file)?))
    }

    fn lock(&self, path: &Path) -> Result<LockGuard, LockError> {
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(LockError::Io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = holder.trim();
                return Err(LockError::Held(if holder.is_empty() {
                    "holder unknown".to_string()
                } else {
                    holder.to_string()
                }));
            }
            Err(TryLockError::Error(e)) => return Err(LockError::Io(e)),
        }
        let note = format!("pid {}", std::process::id());
        file.set_len(0)
            .and_then(|()| file.rewind())
            .and_then(|()| file.write_all(note.as_bytes()))
            .map_err(LockError::Io)?;
        // The lock lives as long as the open file description.
        Ok(Box::new(file))
    }
}

/// Maps a sealed segment read-only.
#[allow(unsafe_code)]
fn map_sealed_file(file: &File) -> io::Result<memmap2::Mmap> {
    // SAFETY: the log maps only sealed segments, which it never writes or truncates again while
    // it is open (the writer appends to the active segment only, and repair runs before any
    // reader exists). The map is read-only. Another process modifying the file behind zqlite's
    // back would break this, as it would break any database file.
    unsafe { memmap2::Mmap::map(file) }
}

impl LogFile for RealFile {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        self.0.read_at(buf, offset)
    }

    fn write_all_at(&self, buf: &[u8], offset: u64) -> io::Result<()> {
        self.0.write_all_at(buf, offset)
    }

    fn sync_data(&self) -> io::Result<()> {
        self.0.sync_data()
    }

    fn len(&self) -> io::Result<u64> {
        Ok(self.0.metadata()?.len())
    }

    fn set_len(&self, len: u64) -> io::Result<()> {
        self.0.set_len(len)
    }
}
