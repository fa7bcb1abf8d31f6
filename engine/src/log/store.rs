//! The only module that touches sled (`=0.34.7`). It opens the database with an
//! explicit cache capacity, applies atomic batches, makes them durable (sled
//! flush, then `sync_all` of the data file) and serves point and range reads.
//! It turns sled's errors into one-line `LogError`s that say what was being
//! read or written (the lock, a full disk, corruption at a file offset).
//!
//! It knows the key bytes it is given, not what they mean (see `keys`), and it
//! holds no log rules: those live in the writer. Keeping sled here is what lets
//! the project move off sled (no longer developed) by rewriting one file.
//!
//! **After a failed write the database is leaked, not dropped.** When sled
//! fails a write (a full disk, for example while writing a blob), dropping the
//! `Db` runs sled's own flush, which can wait forever for the write that
//! failed (measured on a full tmpfs: a failed 200 KB insert, then `drop` never
//! returns). So once any write or sync has failed, the last handle forgets the
//! sled handles instead: the process keeps its memory and the folder's lock
//! until it exits, and nothing half-written is flushed after the error.

use std::fs::File;
use std::io::ErrorKind;
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::{LogError, keys};

/// Bytes of a stored value: cheap to clone, derefs to `[u8]`.
pub(crate) type Bytes = sled::IVec;

/// The sled tree of projection checkpoints. (The tree `checkpoints` of older
/// logs, which held whole states and could put them in blob files, is no
/// longer opened: its projections are rebuilt from the log once.)
const CHECKPOINTS_TREE: &str = "projection-checkpoints";

/// The open database: the main tree (events, stream index, command ids, all in
/// one tree so one batch is atomic) and a tree of projection checkpoints.
#[derive(Clone)]
pub(crate) struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    /// Always `Some` until `Drop` (which may forget them, see the module docs).
    db: Option<sled::Db>,
    checkpoints: Option<sled::Tree>,
    dir: PathBuf,
    failed: AtomicBool,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if self.failed.load(Ordering::Acquire) {
            std::mem::forget(self.checkpoints.take());
            std::mem::forget(self.db.take());
        }
    }
}

/// A set of writes applied atomically to one tree, in insertion order (a
/// later write of the same key wins).
#[derive(Default)]
pub(crate) struct WriteBatch {
    pairs: Vec<(Bytes, Option<Bytes>)>,
}

impl WriteBatch {
    pub(crate) fn insert(&mut self, key: &[u8], value: &[u8]) {
        self.pairs.push((Bytes::from(key), Some(Bytes::from(value))));
    }

    pub(crate) fn remove(&mut self, key: &[u8]) {
        self.pairs.push((Bytes::from(key), None));
    }

    pub(crate) fn extend(&mut self, other: WriteBatch) {
        self.pairs.extend(other.pairs);
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// The largest key plus value in the batch (every one must stay under
    /// `keys::MAX_ENTRY_BYTES`).
    #[cfg(debug_assertions)]
    fn largest(&self) -> usize {
        self.pairs
            .iter()
            .map(|(k, v)| k.len() + v.as_ref().map_or(0, |v| v.len()))
            .max()
            .unwrap_or(0)
    }

    fn into_sled(self) -> sled::Batch {
        #[cfg(debug_assertions)]
        debug_assert!(self.largest() <= keys::MAX_ENTRY_BYTES, "a value would reach sled's blobs");
        let mut b = sled::Batch::default();
        for (k, v) in self.pairs {
            match v {
                Some(v) => b.insert(k, v),
                None => b.remove(k),
            }
        }
        b
    }
}

/// Longest `Store::open` waits for a folder lock still held by sled's own
/// threads from a database closed just before.
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

impl Store {
    /// Opens the database in `dir`, with sled's page cache capped at
    /// `cache_capacity` bytes. With `create`, a missing folder or database
    /// is created; without it, a folder that holds no database is refused
    /// (`LogError::NoLog`) and nothing is created.
    pub(crate) fn open(dir: &Path, cache_capacity: u64, create: bool) -> Result<Store, LogError> {
        if !create && !holds_database(dir) {
            return Err(LogError::NoLog { dir: dir.to_path_buf() });
        }
        if create && !dir.exists() {
            std::fs::create_dir_all(dir)
                .map_err(|e| io_error(&format!("creating {}", dir.display()), &e))?;
            // The new folder must still be there after a crash.
            if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
                sync_dir(parent)?;
            }
        }
        let config = sled::Config::new()
            .path(dir)
            .cache_capacity(cache_capacity)
            .mode(sled::Mode::LowSpace)
            // The writer flushes and syncs itself before acknowledging; a
            // background flusher would only add work and hold the folder lock
            // after the last handle is dropped.
            .flush_every_ms(None);
        // sled's I/O threads can still hold the folder's lock for a moment
        // after the previous `Db` in this process was dropped (they finish
        // their last write on their own): retry briefly before reporting it.
        let deadline = std::time::Instant::now() + LOCK_WAIT;
        let db = loop {
            match config.open() {
                Err(sled::Error::Io(e)) if is_lock_error(&e) => {
                    if std::time::Instant::now() >= deadline {
                        return Err(LogError::Locked { dir: dir.to_path_buf() });
                    }
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                Err(e) => {
                    return Err(LogError::Storage(format!(
                        "opening the database in {}: {}",
                        dir.display(),
                        sled_text(&e, dir)
                    )));
                }
                Ok(db) => break db,
            }
        };
        let checkpoints = db.open_tree(CHECKPOINTS_TREE).map_err(|e| {
            LogError::Storage(format!(
                "opening the checkpoints of {}: {}",
                dir.display(),
                sled_text(&e, dir)
            ))
        })?;
        // Make the files sled may just have created reachable after a crash.
        sync_dir(dir)?;
        let inner = Inner {
            db: Some(db),
            checkpoints: Some(checkpoints),
            dir: dir.to_path_buf(),
            failed: AtomicBool::new(false),
        };
        Ok(Store { inner: Arc::new(inner) })
    }

    fn db(&self) -> &sled::Db {
        self.inner.db.as_ref().expect("the database is only taken in Drop")
    }

    fn checkpoint_tree(&self) -> &sled::Tree {
        self.inner.checkpoints.as_ref().expect("the tree is only taken in Drop")
    }

    /// The folder the database lives in.
    pub(crate) fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// Marks the database as failed: no handle will drop (and so flush) it.
    pub(crate) fn mark_failed(&self) {
        self.inner.failed.store(true, Ordering::Release);
    }

    /// The files whose contents must be synced for a flush to be durable.
    pub(crate) fn data_files(&self) -> Result<Vec<File>, LogError> {
        // sled 0.34 keeps its log and pages in `db`; `blobs/` only holds
        // messages over the blob threshold, which the log never writes (see
        // `keys`).
        let path = self.inner.dir.join("db");
        let file =
            File::open(&path).map_err(|e| io_error(&format!("opening {}", path.display()), &e))?;
        Ok(vec![file])
    }

    pub(crate) fn get(&self, key: &[u8]) -> Result<Option<Bytes>, LogError> {
        self.db().get(key).map_err(|e| self.read_error(&keys::describe(key), &e))
    }

    /// Key-value pairs of the main tree in `range`, in key order.
    pub(crate) fn range(
        &self,
        range: RangeInclusive<Vec<u8>>,
    ) -> impl DoubleEndedIterator<Item = Result<(Bytes, Bytes), LogError>> + use<> {
        let what = match keys::position_of(range.start()) {
            Some(p) => format!("the events from position {p}"),
            None => keys::describe(range.start()),
        };
        let dir = self.inner.dir.clone();
        self.db().range(range).map(move |r| r.map_err(|e| read_error(&dir, &what, &e)))
    }

    /// The last pair of the main tree in `range`.
    pub(crate) fn last_in(
        &self,
        range: RangeInclusive<Vec<u8>>,
    ) -> Result<Option<(Bytes, Bytes)>, LogError> {
        self.range(range).next_back().transpose()
    }

    /// Applies `batch` atomically: after a crash either all of it or none of it is there.
    pub(crate) fn apply(&self, batch: WriteBatch) -> Result<(), LogError> {
        let r = self.db().apply_batch(batch.into_sled());
        r.map_err(|e| self.write_error("writing to the log", &e))
    }

    /// Applies `batch` atomically to the checkpoints tree.
    pub(crate) fn apply_checkpoints(&self, batch: WriteBatch) -> Result<(), LogError> {
        let r = self.checkpoint_tree().apply_batch(batch.into_sled());
        r.map_err(|e| self.write_error("writing a checkpoint", &e))
    }

    pub(crate) fn get_checkpoint(&self, key: &[u8]) -> Result<Option<Bytes>, LogError> {
        let what = || format!("checkpoint key {:?}", String::from_utf8_lossy(key));
        self.checkpoint_tree().get(key).map_err(|e| self.read_error(&what(), &e))
    }

    /// Pairs of the checkpoints tree in `range`, in key order.
    pub(crate) fn checkpoint_range(
        &self,
        range: RangeInclusive<Vec<u8>>,
    ) -> impl DoubleEndedIterator<Item = Result<(Bytes, Bytes), LogError>> + use<> {
        let dir = self.inner.dir.clone();
        self.checkpoint_tree()
            .range(range)
            .map(move |r| r.map_err(|e| read_error(&dir, "checkpoints", &e)))
    }

    /// Writes sled's buffers to the file (sled's `flush` ends with
    /// `sync_file_range` on Linux, which is not a full fsync), then `sync_all`s
    /// every data file so the writes survive power loss.
    pub(crate) fn make_durable(&self, files: &[File]) -> Result<(), LogError> {
        self.db().flush().map_err(|e| self.write_error("flushing the log", &e))?;
        for f in files {
            if let Err(e) = f.sync_all() {
                self.mark_failed();
                return Err(io_error("syncing the log's data file", &e));
            }
        }
        Ok(())
    }

    /// Writes one key of the main tree and makes it durable: the writer's
    /// start-up, and the corruption tooling of tests (which bypasses every
    /// log rule). Every other write goes through `apply`.
    pub(crate) fn put_durable(&self, key: &[u8], value: &[u8]) -> Result<(), LogError> {
        self.db().insert(key, value).map_err(|e| self.write_error("writing to the log", &e))?;
        let files = self.data_files()?;
        self.make_durable(&files)
    }

    /// Test tooling: removes one key of the main tree, durably.
    pub(crate) fn remove_durable(&self, key: &[u8]) -> Result<(), LogError> {
        self.db().remove(key).map_err(|e| self.write_error("writing to the log", &e))?;
        let files = self.data_files()?;
        self.make_durable(&files)
    }

    /// Bytes the database folder takes on disk (sum of its files' lengths).
    pub(crate) fn size_on_disk(&self) -> Result<u64, LogError> {
        dir_size(&self.inner.dir).map_err(|e| io_error("measuring the data folder", &e))
    }

    /// Files sled has put under `blobs/` (the log writes none; see `keys`).
    pub(crate) fn blob_files(&self) -> Result<u64, LogError> {
        match std::fs::read_dir(self.inner.dir.join("blobs")) {
            Ok(entries) => Ok(entries.count() as u64),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(0),
            Err(e) => Err(io_error("listing blobs/", &e)),
        }
    }

    /// The benchmark's raw scan: every value in `range`, touching its bytes, no
    /// decoding. Returns (count, a checksum so the loop is not optimised away).
    pub(crate) fn raw_scan(&self, range: RangeInclusive<Vec<u8>>) -> Result<(u64, u64), LogError> {
        let mut n = 0u64;
        let mut sum = 0u64;
        for kv in self.range(range) {
            let (_, v) = kv?;
            n += 1;
            sum = sum.wrapping_add(v.len() as u64).wrapping_add(u64::from(v[v.len() / 2]));
        }
        Ok((n, sum))
    }

    fn read_error(&self, what: &str, e: &sled::Error) -> LogError {
        read_error(&self.inner.dir, what, e)
    }

    /// A failed write: the database is not trusted (nor dropped) afterwards.
    fn write_error(&self, what: &str, e: &sled::Error) -> LogError {
        self.mark_failed();
        LogError::Storage(format!(
            "{what} in {}: {}",
            self.inner.dir.display(),
            sled_text(e, &self.inner.dir)
        ))
    }
}

/// Raw sled baseline for the benchmark: the same durable write path with no
/// log logic, so the log's overhead can be shown as a ratio in one run.
pub(crate) struct RawBaseline {
    store: Store,
    files: Vec<File>,
}

impl RawBaseline {
    pub(crate) fn open(dir: &Path, cache_capacity: u64) -> Result<RawBaseline, LogError> {
        let store = Store::open(dir, cache_capacity, true)?;
        let files = store.data_files()?;
        Ok(RawBaseline { store, files })
    }

    /// `apply_batch` of the given pairs, then flush, then (if `sync_all`)
    /// `sync_all` of the data file. Without it the write is not durable: that
    /// variant only shows what the fsync costs.
    pub(crate) fn write(&self, pairs: &[(&[u8], &[u8])], sync_all: bool) -> Result<(), LogError> {
        let mut b = WriteBatch::default();
        for (k, v) in pairs {
            b.insert(k, v);
        }
        self.store.apply(b)?;
        if sync_all {
            self.store.make_durable(&self.files)
        } else {
            self.store.db().flush().map_err(|e| self.store.write_error("flushing", &e))?;
            Ok(())
        }
    }
}

/// Whether `dir` holds a sled database (its `db` file).
pub(crate) fn holds_database(dir: &Path) -> bool {
    dir.join("db").is_file()
}

/// Syncs a folder, so that the entries just created or renamed in it
/// survive a crash.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), LogError> {
    File::open(dir)
        .and_then(|f| f.sync_all())
        .map_err(|e| io_error(&format!("syncing the folder {}", dir.display()), &e))
}

/// An I/O error as one line saying what was being done.
pub(crate) fn io_error(what: &str, e: &std::io::Error) -> LogError {
    LogError::Storage(format!("{what}: {}", io_text(e)))
}

fn read_error(dir: &Path, what: &str, e: &sled::Error) -> LogError {
    LogError::Storage(format!("reading {what} in {}: {}", dir.display(), sled_text(e, dir)))
}

fn is_lock_error(e: &std::io::Error) -> bool {
    e.kind() == ErrorKind::WouldBlock || e.to_string().contains("could not acquire lock")
}

/// sled's error in words, naming the file and offset of corrupt data.
fn sled_text(e: &sled::Error, dir: &Path) -> String {
    match e {
        sled::Error::Io(io) => io_text(io),
        sled::Error::Corruption { at: Some(sled::DiskPtr::Inline(offset)), .. } => {
            format!("corrupt data at byte offset {offset} of {}", dir.join("db").display())
        }
        sled::Error::Corruption { at: Some(sled::DiskPtr::Blob(_, lsn)), .. } => {
            format!("corrupt blob file {}", dir.join("blobs").join(lsn.to_string()).display())
        }
        sled::Error::Corruption { at: None, .. } => {
            format!("corrupt data in {}", dir.join("db").display())
        }
        sled::Error::CollectionNotFound(name) => {
            format!("no tree {:?}", String::from_utf8_lossy(name))
        }
        other => other.to_string().replace('\n', " "),
    }
}

/// An I/O error in words. sled wraps some OS errors in a custom error whose
/// text is the `Debug` of the original; the kind says it better.
fn io_text(e: &std::io::Error) -> String {
    match e.kind() {
        ErrorKind::StorageFull => "no space left on the device".to_owned(),
        ErrorKind::QuotaExceeded => "the disk quota is exceeded".to_owned(),
        ErrorKind::FileTooLarge => "a file reached the size limit".to_owned(),
        ErrorKind::NotFound => format!("a file is missing ({e})"),
        _ => e.to_string().replace('\n', " "),
    }
}

fn dir_size(dir: &Path) -> std::io::Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let meta = entry.metadata()?;
        total += if meta.is_dir() { dir_size(&entry.path())? } else { meta.len() };
    }
    Ok(total)
}
