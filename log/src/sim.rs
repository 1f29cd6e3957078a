//! An in-memory [`FileSystem`] with a durability model and fault injection, for tests.
//!
//! Model: each file has its current bytes and its durable bytes (copied at `sync_data`); each
//! directory has its current entries and its durable entries (copied at `sync_dir`).
//! [`SimFs::crash`] returns the file system a machine would see after losing power: only
//! durable entries, each with only its durable bytes.
//!
//! Faults: writes can run out of space after a byte budget (ENOSPC), the N-th sync can fail
//! (EIO), and durability can freeze after the N-th sync (later syncs report success but make
//! nothing durable, which is how a crash "after the N-th fsync" looks to the program).

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::fs::{FileSystem, LockError, LockGuard, LogFile, Mapped};

/// Faults to inject; all off by default.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// Writes fail with ENOSPC once this many more bytes have been written.
    pub write_budget: Option<u64>,
    /// The sync with this 1-based number (counting `sync_data` and `sync_dir`) fails with EIO,
    /// and so does every sync after it.
    pub fail_sync_from: Option<u64>,
    /// Syncs after this many (1-based count) succeed but make nothing durable.
    pub freeze_after_syncs: Option<u64>,
}

/// See the module documentation.
#[derive(Debug, Clone, Default)]
pub struct SimFs {
    shared: Arc<Shared>,
}

#[derive(Debug, Default)]
struct Shared {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    files: BTreeMap<PathBuf, Arc<SimFile>>,
    durable_entries: BTreeMap<PathBuf, Arc<SimFile>>,
    dirs: BTreeSet<PathBuf>,
    locks: BTreeSet<PathBuf>,
    faults: Faults,
    syncs: u64,
    written: u64,
}

#[derive(Debug)]
struct SimFile {
    shared: Arc<Shared>,
    data: Mutex<Vec<u8>>,
    durable: Mutex<Vec<u8>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding a simulator lock is a test failure already; keep going.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl SimFs {
    pub fn new() -> Self {
        SimFs::default()
    }

    /// Replaces the injected faults (and resets the write budget's count).
    pub fn set_faults(&self, faults: Faults) {
        let mut state = lock(&self.shared.state);
        state.faults = faults;
        state.written = 0;
    }

    /// How many syncs (`sync_data` and `sync_dir`) have been issued so far.
    pub fn sync_count(&self) -> u64 {
        lock(&self.shared.state).syncs
    }

    /// The file system as it would be found after a power loss now.
    pub fn crash(&self) -> SimFs {
        let state = lock(&self.shared.state);
        let after = SimFs::default();
        {
            let mut new_state = lock(&after.shared.state);
            new_state.dirs = state.dirs.clone();
            for (path, file) in &state.durable_entries {
                let bytes = lock(&file.durable).clone();
                let copy = Arc::new(SimFile {
                    shared: after.shared.clone(),
                    data: Mutex::new(bytes.clone()),
                    durable: Mutex::new(bytes),
                });
                new_state.files.insert(path.clone(), copy.clone());
                new_state.durable_entries.insert(path.clone(), copy);
            }
        }
        after
    }

    /// The current bytes of a file (for tests that damage or inspect files).
    pub fn read(&self, path: &Path) -> Option<Vec<u8>> {
        let state = lock(&self.shared.state);
        state.files.get(path).map(|f| lock(&f.data).clone())
    }

    /// Overwrites a file's current bytes, as if damaged on disk; they count as durable too.
    pub fn overwrite(&self, path: &Path, bytes: Vec<u8>) {
        let state = lock(&self.shared.state);
        if let Some(file) = state.files.get(path) {
            *lock(&file.durable) = bytes.clone();
            *lock(&file.data) = bytes;
        }
    }
}

/// Counts a sync and says whether it may make anything durable.
fn begin_sync(shared: &Shared) -> io::Result<bool> {
    let mut state = lock(&shared.state);
    state.syncs += 1;
    let n = state.syncs;
    if state.faults.fail_sync_from.is_some_and(|from| n >= from) {
        return Err(io::Error::from_raw_os_error(5)); // EIO
    }
    Ok(state
        .faults
        .freeze_after_syncs
        .is_none_or(|limit| n <= limit))
}

fn not_found(path: &Path) -> io::Error {
    io::Error::new(
        io::ErrorKind::NotFound,
        format!("{} not found", path.display()),
    )
}

impl FileSystem for SimFs {
    fn create_dir_all(&self, dir: &Path) -> io::Result<()> {
        let mut state = lock(&self.shared.state);
        for ancestor in dir.ancestors() {
            state.dirs.insert(ancestor.to_path_buf());
        }
        Ok(())
    }

    fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
        let state = lock(&self.shared.state);
        if !state.dirs.contains(dir) {
            return Err(not_found(dir));
        }
        Ok(state
            .files
            .keys()
            .filter(|p| p.parent() == Some(dir))
            .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .collect())
    }

    fn open(&self, path: &Path, create: bool) -> io::Result<Arc<dyn LogFile>> {
        let mut state = lock(&self.shared.state);
        if let Some(file) = state.files.get(path) {
            return Ok(file.clone());
        }
        if !create || !path.parent().is_some_and(|d| state.dirs.contains(d)) {
            return Err(not_found(path));
        }
        let file = Arc::new(SimFile {
            shared: self.shared.clone(),
            data: Mutex::new(Vec::new()),
            durable: Mutex::new(Vec::new()),
        });
        state.files.insert(path.to_path_buf(), file.clone());
        Ok(file)
    }

    fn exists(&self, path: &Path) -> bool {
        let state = lock(&self.shared.state);
        state.files.contains_key(path) || state.dirs.contains(path)
    }

    fn remove(&self, path: &Path) -> io::Result<()> {
        let mut state = lock(&self.shared.state);
        state
            .files
            .remove(path)
            .map(|_| ())
            .ok_or_else(|| not_found(path))
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        let mut state = lock(&self.shared.state);
        let file = state.files.remove(from).ok_or_else(|| not_found(from))?;
        state.files.insert(to.to_path_buf(), file);
        Ok(())
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        if !begin_sync(&self.shared)? {
            return Ok(());
        }
        let mut state = lock(&self.shared.state);
        let in_dir = |p: &PathBuf| p.parent() == Some(dir);
        state.durable_entries.retain(|p, _| !in_dir(p));
        let current: Vec<_> = state
            .files
            .iter()
            .filter(|(p, _)| in_dir(p))
            .map(|(p, f)| (p.clone(), f.clone()))
            .collect();
        state.durable_entries.extend(current);
        Ok(())
    }

    fn map(&self, path: &Path) -> io::Result<Mapped> {
        let state = lock(&self.shared.state);
        let file = state.files.get(path).ok_or_else(|| not_found(path))?;
        Ok(Arc::new(lock(&file.data).clone()))
    }

    fn lock(&self, path: &Path) -> Result<LockGuard, LockError> {
        let mut state = lock(&self.shared.state);
        if !state.locks.insert(path.to_path_buf()) {
            return Err(LockError::Held("pid of this test process".to_string()));
        }
        Ok(Box::new(SimLock {
            shared: self.shared.clone(),
            path: path.to_path_buf(),
        }))
    }
}

#[derive(Debug)]
struct SimLock {
    shared: Arc<Shared>,
    path: PathBuf,
}

impl Drop for SimLock {
    fn drop(&mut self) {
        lock(&self.shared.state).locks.remove(&self.path);
    }
}

impl LogFile for SimFile {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        let data = lock(&self.data);
        let start = (offset as usize).min(data.len());
        let n = buf.len().min(data.len() - start);
        buf[..n].copy_from_slice(&data[start..start + n]);
        Ok(n)
    }

    fn write_all_at(&self, buf: &[u8], offset: u64) -> io::Result<()> {
        {
            let mut state = lock(&self.shared.state);
            if let Some(budget) = state.faults.write_budget
                && state.written + buf.len() as u64 > budget
            {
                return Err(io::Error::from_raw_os_error(28)); // ENOSPC
            }
            state.written += buf.len() as u64;
        }
        let mut data = lock(&self.data);
        let end = offset as usize + buf.len();
        if data.len() < end {
            data.resize(end, 0);
        }
        data[offset as usize..end].copy_from_slice(buf);
        Ok(())
    }

    fn sync_data(&self) -> io::Result<()> {
        if begin_sync(&self.shared)? {
            *lock(&self.durable) = lock(&self.data).clone();
        }
        Ok(())
    }

    fn len(&self) -> io::Result<u64> {
        Ok(lock(&self.data).len() as u64)
    }

    fn set_len(&self, len: u64) -> io::Result<()> {
        lock(&self.data).resize(len as usize, 0);
        Ok(())
    }
}

/// How long each round of a kill -9 test lets its child run: `ZQLITE_CRASH_ROUNDS` rounds
/// (default 30), each between `min` and `min` + 200 ms, at random.
pub fn crash_schedule(min: std::time::Duration) -> Vec<std::time::Duration> {
    let rounds: usize = std::env::var("ZQLITE_CRASH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(30);
    let mut x = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64)
        | 1;
    (0..rounds)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            min + std::time::Duration::from_millis(x % 200)
        })
        .collect()
}

/// Crash tests with a real process: runs the current test binary again as a child (only the
/// test `test_name`, with the environment variable `env` set so the test acts as the child),
/// lets it run for `run_for`, kills it with SIGKILL, and returns the whole lines it printed to
/// stdout. The child's stderr is discarded.
pub fn run_child_then_kill(
    test_name: &str,
    env: (&str, &std::ffi::OsStr),
    run_for: std::time::Duration,
) -> io::Result<Vec<String>> {
    use std::io::BufRead;
    let mut child = std::process::Command::new(std::env::current_exe()?)
        .args(["--exact", test_name, "--nocapture", "--test-threads=1"])
        .env(env.0, env.1)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()?;
    let stdout = child.stdout.take().expect("stdout was piped");
    let reader = std::thread::spawn(move || {
        io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .collect::<Vec<_>>()
    });
    std::thread::sleep(run_for);
    child.kill()?;
    child.wait()?;
    reader
        .join()
        .map_err(|_| io::Error::other("the stdout reader panicked"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crash_keeps_only_synced_entries_and_bytes() {
        let fs = SimFs::new();
        let dir = Path::new("/d");
        fs.create_dir_all(dir).unwrap();
        let a = fs.open(&dir.join("a"), true).unwrap();
        a.write_all_at(b"hello", 0).unwrap();
        a.sync_data().unwrap();
        fs.sync_dir(dir).unwrap();
        a.write_all_at(b" world", 5).unwrap();
        let b = fs.open(&dir.join("b"), true).unwrap();
        b.write_all_at(b"lost", 0).unwrap();
        b.sync_data().unwrap(); // data synced, but the entry never was

        let after = fs.crash();
        assert_eq!(after.read(&dir.join("a")).unwrap(), b"hello");
        assert!(after.read(&dir.join("b")).is_none());
    }

    #[test]
    fn faults_fire_where_configured() {
        let fs = SimFs::new();
        let dir = Path::new("/d");
        fs.create_dir_all(dir).unwrap();
        let f = fs.open(&dir.join("f"), true).unwrap();
        fs.set_faults(Faults {
            write_budget: Some(4),
            fail_sync_from: Some(2),
            freeze_after_syncs: None,
        });
        f.write_all_at(b"abcd", 0).unwrap();
        let err = f.write_all_at(b"e", 4).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(28));
        f.sync_data().unwrap();
        assert_eq!(f.sync_data().unwrap_err().raw_os_error(), Some(5));
    }

    #[test]
    fn frozen_durability_loses_later_syncs() {
        let fs = SimFs::new();
        let dir = Path::new("/d");
        fs.create_dir_all(dir).unwrap();
        let f = fs.open(&dir.join("f"), true).unwrap();
        fs.sync_dir(dir).unwrap(); // sync 1
        fs.set_faults(Faults {
            freeze_after_syncs: Some(2),
            ..Faults::default()
        });
        f.write_all_at(b"kept", 0).unwrap();
        f.sync_data().unwrap(); // sync 2: durable
        f.write_all_at(b"gone", 4).unwrap();
        f.sync_data().unwrap(); // sync 3: frozen
        assert_eq!(fs.crash().read(&dir.join("f")).unwrap(), b"kept");
    }
}
