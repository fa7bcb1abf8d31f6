//! Key layout of the log's main sled tree. Everything an append writes lives
//! in one tree so that one batch is atomic:
//!
//! | key | value |
//! |---|---|
//! | `e` + position (u64 BE) | the record (see `record`) |
//! | `s` + stream + `0x00` + first version (u64 BE) | runs: (first position u64 BE, count u32 BE)*, versions consecutive from the key's |
//! | `c` + command id | the append's positions: first, last (u64 BE each; older logs add the version) |
//! | `mindexed_through` | position (u64 BE) through which the stream index is written |
//! | `mhead` | the last group commit: head position u64, head hash (32 bytes), the group's first position u64 |
//!
//! The checkpoints tree (`projection-checkpoints`; see `checkpoint`):
//!
//! | key | value |
//! |---|---|
//! | `h` + name | header: format, position, state length, chunk count, SHA-256 of the state |
//! | `k` + name + `0x00` + chunk index (u32 BE) | at most `CHECKPOINT_CHUNK` bytes of the state |
//!
//! **No value reaches sled's blob threshold.** sled 0.34 writes a whole leaf
//! node (up to 17 pairs: it splits a leaf holding more than 16) as one log
//! message, and a message over a quarter of its 512 KiB segment goes to a
//! file under `blobs/` that sled never fsyncs (and whose loss makes the page
//! unreadable). So every key plus value stays under `MAX_ENTRY_BYTES`, and 17
//! of them stay under the threshold: records through `MAX_PAYLOAD_BYTES`,
//! checkpoints through chunks, stream-index runs through `MAX_RUNS_PER_KEY`.
//!
//! An append's events are contiguous in both position and stream version, so
//! the stream index holds runs rather than one key per event. It is written
//! lazily: the writer keeps the runs of recent appends in memory and writes
//! them, one key per stream, once every `INDEX_LAG` events (see `writer`),
//! with `mindexed_through` in the same batch; events after that mark are
//! found by scanning them, and recovery rebuilds their runs from the events.
//! Fewer sled keys per commit means faster commits.
//! Big-endian numbers make key order equal numeric order. Stream ids never
//! contain `0x00` (validation forbids control characters), so a stream's
//! index keys form one contiguous range.

pub(crate) const EVENT: u8 = b'e';
pub(crate) const STREAM: u8 = b's';
pub(crate) const COMMAND: u8 = b'c';
/// The key of the position through which the stream index is written.
pub(crate) const INDEXED_THROUGH: &[u8] = b"mindexed_through";
/// The key of the last group commit's head and first position.
pub(crate) const HEAD: &[u8] = b"mhead";
/// Checkpoint header and chunk prefixes (checkpoints tree).
pub(crate) const CHECKPOINT_HEADER: u8 = b'h';
pub(crate) const CHECKPOINT_CHUNK: u8 = b'k';

/// sled 0.34's blob threshold with its default 512 KiB segments: a log
/// message longer than `segment_size / 4 - SEG_HEADER_LEN` (20), header
/// (32) included, is written to a blob file.
pub(crate) const SLED_BLOB_THRESHOLD: usize = 512 * 1024 / 4 - 20 - 32;
/// Pairs a sled leaf holds at most before it splits (it splits past 16).
pub(crate) const SLED_LEAF_PAIRS: usize = 17;
/// Largest key plus value the log writes. 17 such pairs take 119,000 bytes,
/// leaving 12 KB of the threshold for sled's own node overhead (measured:
/// random inserts of 7,300-byte values write no blob, 7,800-byte ones do).
pub const MAX_ENTRY_BYTES: usize = 7_000;
const _: () = assert!(SLED_LEAF_PAIRS * MAX_ENTRY_BYTES + 8 * 1024 < SLED_BLOB_THRESHOLD);
/// Bytes of checkpoint state per chunk.
pub(crate) const CHECKPOINT_CHUNK_BYTES: usize = 4 * 1024;
/// Stream-index runs per key (12 bytes each): a stream with more runs in
/// one index write gets several keys.
pub(crate) const MAX_RUNS_PER_KEY: usize = 256;

pub(crate) fn event(position: u64) -> [u8; 9] {
    let mut k = [0u8; 9];
    k[0] = EVENT;
    k[1..].copy_from_slice(&position.to_be_bytes());
    k
}

/// The inclusive key range of events from `from` to `to` positions.
pub(crate) fn events(from: u64, to: u64) -> std::ops::RangeInclusive<Vec<u8>> {
    event(from).to_vec()..=event(to).to_vec()
}

pub(crate) fn position_of(key: &[u8]) -> Option<u64> {
    match key {
        [EVENT, rest @ ..] => rest.try_into().ok().map(u64::from_be_bytes),
        _ => None,
    }
}

pub(crate) fn stream_entry(stream: &str, version: u64) -> Vec<u8> {
    let mut k = Vec::with_capacity(stream.len() + 10);
    k.push(STREAM);
    k.extend_from_slice(stream.as_bytes());
    k.push(0);
    k.extend_from_slice(&version.to_be_bytes());
    k
}

/// The inclusive key range of a stream's runs starting at versions
/// `from..=to`; its last run gives the stream's current version.
pub(crate) fn stream_entries(
    stream: &str,
    from: u64,
    to: u64,
) -> std::ops::RangeInclusive<Vec<u8>> {
    stream_entry(stream, from)..=stream_entry(stream, to)
}

/// A run of a stream: versions `first_version..first_version + count` sit at
/// positions `first_position..`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Run {
    pub(crate) first_version: u64,
    pub(crate) first_position: u64,
    pub(crate) count: u64,
}

/// The value of a stream index key: `runs` (consecutive versions) in order.
pub(crate) fn encode_runs(runs: &[Run]) -> Vec<u8> {
    let mut v = Vec::with_capacity(12 * runs.len());
    for r in runs {
        v.extend_from_slice(&r.first_position.to_be_bytes());
        v.extend_from_slice(&(r.count as u32).to_be_bytes());
    }
    v
}

/// Decodes a stream index pair into its runs; None if malformed.
pub(crate) fn decode_runs(key: &[u8], value: &[u8]) -> Option<Vec<Run>> {
    let mut version = Run::first_version_of(key)?;
    if value.is_empty() || !value.len().is_multiple_of(12) {
        return None;
    }
    let mut runs = Vec::with_capacity(value.len() / 12);
    for chunk in value.chunks_exact(12) {
        let first_position = u64_value(&chunk[..8])?;
        let count = u64::from(u32::from_be_bytes(chunk[8..].try_into().ok()?));
        if count == 0 {
            return None;
        }
        runs.push(Run { first_version: version, first_position, count });
        version += count;
    }
    Some(runs)
}

impl Run {
    /// The first version a stream index key starts at.
    pub(crate) fn first_version_of(key: &[u8]) -> Option<u64> {
        u64_value(key.get(key.len().checked_sub(8)?..)?)
    }

    /// Whether `next` continues this run in both version and position.
    pub(crate) fn continued_by(&self, next: &Run) -> bool {
        self.last_version() + 1 == next.first_version
            && self.first_position + self.count == next.first_position
    }

    pub(crate) fn last_version(&self) -> u64 {
        self.first_version + self.count - 1
    }

    /// The stream's version as of `position`, for a run starting at or
    /// before it: its last version at or before that position.
    pub(crate) fn version_at(&self, position: u64) -> u64 {
        self.first_version + self.count.min(position - self.first_position + 1) - 1
    }

    /// The position of `version` if this run holds it.
    pub(crate) fn position_of(&self, version: u64) -> Option<u64> {
        (self.first_version..=self.last_version())
            .contains(&version)
            .then(|| self.first_position + (version - self.first_version))
    }
}

/// The key of a checkpoint's header.
pub(crate) fn checkpoint_header(name: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(name.len() + 1);
    k.push(CHECKPOINT_HEADER);
    k.extend_from_slice(name.as_bytes());
    k
}

/// The key of chunk `index` of a checkpoint.
pub(crate) fn checkpoint_chunk(name: &str, index: u32) -> Vec<u8> {
    let mut k = Vec::with_capacity(name.len() + 6);
    k.push(CHECKPOINT_CHUNK);
    k.extend_from_slice(name.as_bytes());
    k.push(0);
    k.extend_from_slice(&index.to_be_bytes());
    k
}

/// The inclusive key range of every chunk of a checkpoint.
pub(crate) fn checkpoint_chunks(name: &str) -> std::ops::RangeInclusive<Vec<u8>> {
    checkpoint_chunk(name, 0)..=checkpoint_chunk(name, u32::MAX)
}

/// The name and index of a chunk key; None if it is not one.
pub(crate) fn chunk_of(key: &[u8]) -> Option<(&str, u32)> {
    let rest = key.strip_prefix(&[CHECKPOINT_CHUNK])?;
    let (name, index) = rest.split_at(rest.len().checked_sub(5)?);
    let index = index.strip_prefix(&[0])?;
    Some((std::str::from_utf8(name).ok()?, u32::from_be_bytes(index.try_into().ok()?)))
}

/// What a key of the main tree holds, in words, for error messages.
pub(crate) fn describe(key: &[u8]) -> String {
    match key {
        [EVENT, ..] => match position_of(key) {
            Some(p) => format!("the event at position {p}"),
            None => format!("event key {key:?}"),
        },
        [STREAM, rest @ ..] => {
            let stream = rest.split(|b| *b == 0).next().unwrap_or_default();
            format!("the index of stream {:?}", String::from_utf8_lossy(stream))
        }
        [COMMAND, rest @ ..] => {
            format!("the outcome of command {:?}", String::from_utf8_lossy(rest))
        }
        _ if key == INDEXED_THROUGH => "the stream index mark".to_owned(),
        _ if key == HEAD => "the last commit's head".to_owned(),
        _ => format!("key {:?}", String::from_utf8_lossy(key)),
    }
}

pub(crate) fn command(id: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(id.len() + 1);
    k.push(COMMAND);
    k.extend_from_slice(id.as_bytes());
    k
}

pub(crate) fn u64_value(bytes: &[u8]) -> Option<u64> {
    bytes.try_into().ok().map(u64::from_be_bytes)
}
