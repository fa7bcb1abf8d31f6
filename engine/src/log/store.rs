//! The only module that touches sled (`=0.34.7`). It opens the database with an
//! explicit cache capacity, applies atomic batches, makes them durable (sled
//! flush, then `sync_all` of the data file) and serves point and range reads.
//!
//! It knows the key bytes it is given, not what they mean (see `keys`), and it
//! holds no log rules: those live in the writer. Keeping sled here is what lets
//! the project move off sled (no longer developed) by rewriting one file.

use std::fs::File;
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};

use super::LogError;

/// Bytes of a stored value: cheap to clone, derefs to `[u8]`.
pub(crate) type Bytes = sled::IVec;

/// The open database: the main tree (events, stream index, command ids, all in
/// one tree so one batch is atomic) and a tree of projection checkpoints.
#[derive(Clone)]
pub(crate) struct Store {
    db: sled::Db,
    checkpoints: sled::Tree,
    dir: PathBuf,
}

/// A set of writes applied atomically to the main tree, in insertion order
/// (a later write of the same key wins).
#[derive(Default)]
pub(crate) struct WriteBatch {
    pairs: Vec<(Bytes, Bytes)>,
}

impl WriteBatch {
    pub(crate) fn insert(&mut self, key: &[u8], value: &[u8]) {
        self.pairs.push((Bytes::from(key), Bytes::from(value)));
    }

    pub(crate) fn extend(&mut self, other: WriteBatch) {
        self.pairs.extend(other.pairs);
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }
}

/// Longest `Store::open` waits for a folder lock still held by sled's own
/// threads from a database closed just before.
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

impl Store {
    /// Opens (or creates) the database in `dir`, with sled's page cache capped
    /// at `cache_capacity` bytes.
    pub(crate) fn open(dir: &Path, cache_capacity: u64) -> Result<Store, LogError> {
        std::fs::create_dir_all(dir)?;
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
                Err(sled::Error::Io(e))
                    if e.to_string().contains("could not acquire lock")
                        && std::time::Instant::now() < deadline =>
                {
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                other => break other.map_err(storage)?,
            }
        };
        let checkpoints = db.open_tree("checkpoints").map_err(storage)?;
        // Make the files sled may just have created reachable after a crash.
        sync_dir(dir)?;
        Ok(Store { db, checkpoints, dir: dir.to_path_buf() })
    }

    /// The folder the database lives in.
    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    /// The files whose contents must be synced for a flush to be durable.
    pub(crate) fn data_files(&self) -> Result<Vec<File>, LogError> {
        // sled 0.34 keeps its log and pages in `db`; `blobs/` only holds values
        // over the blob threshold, which the log never writes (see MAX_PAYLOAD).
        Ok(vec![File::open(self.dir.join("db"))?])
    }

    pub(crate) fn get(&self, key: &[u8]) -> Result<Option<Bytes>, LogError> {
        self.db.get(key).map_err(storage)
    }

    /// Key-value pairs of the main tree in `range`, in key order.
    pub(crate) fn range(
        &self,
        range: RangeInclusive<Vec<u8>>,
    ) -> impl DoubleEndedIterator<Item = Result<(Bytes, Bytes), LogError>> + use<> {
        self.db.range(range).map(|r| r.map_err(storage))
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
        let mut b = sled::Batch::default();
        for (k, v) in batch.pairs {
            b.insert(k, v);
        }
        self.db.apply_batch(b).map_err(storage)
    }

    /// Writes sled's buffers to the file (sled's `flush` ends with
    /// `sync_file_range` on Linux, which is not a full fsync), then `sync_all`s
    /// every data file so the writes survive power loss.
    pub(crate) fn make_durable(&self, files: &[File]) -> Result<(), LogError> {
        self.db.flush().map_err(storage)?;
        for f in files {
            f.sync_all()?;
        }
        Ok(())
    }

    /// Writes one key of the main tree and makes it durable: the writer's
    /// start-up, and the corruption tooling of tests (which bypasses every
    /// log rule). Every other write goes through `apply`.
    pub(crate) fn put_durable(&self, key: &[u8], value: &[u8]) -> Result<(), LogError> {
        self.db.insert(key, value).map_err(storage)?;
        let files = self.data_files()?;
        self.make_durable(&files)
    }

    pub(crate) fn put_checkpoint(&self, name: &str, value: &[u8]) -> Result<(), LogError> {
        self.checkpoints.insert(name.as_bytes(), value).map_err(storage)?;
        Ok(())
    }

    pub(crate) fn get_checkpoint(&self, name: &str) -> Result<Option<Bytes>, LogError> {
        self.checkpoints.get(name.as_bytes()).map_err(storage)
    }

    /// Bytes the database folder takes on disk (sum of its files' lengths).
    pub(crate) fn size_on_disk(&self) -> Result<u64, LogError> {
        dir_size(&self.dir).map_err(LogError::from)
    }

    /// The benchmark's raw scan: every value in `range`, touching its bytes, no
    /// decoding. Returns (count, a checksum so the loop is not optimised away).
    pub(crate) fn raw_scan(&self, range: RangeInclusive<Vec<u8>>) -> Result<(u64, u64), LogError> {
        let mut n = 0u64;
        let mut sum = 0u64;
        for kv in self.db.range(range) {
            let (_, v) = kv.map_err(storage)?;
            n += 1;
            sum = sum.wrapping_add(v.len() as u64).wrapping_add(u64::from(v[v.len() / 2]));
        }
        Ok((n, sum))
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
        let store = Store::open(dir, cache_capacity)?;
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
            self.store.db.flush().map_err(storage)?;
            Ok(())
        }
    }
}

fn storage(e: sled::Error) -> LogError {
    match e {
        sled::Error::Io(io) => LogError::Io(io),
        other => LogError::Storage(other.to_string()),
    }
}

fn sync_dir(dir: &Path) -> Result<(), LogError> {
    File::open(dir)?.sync_all()?;
    Ok(())
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
