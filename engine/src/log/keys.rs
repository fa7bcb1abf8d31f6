//! Key layout of the log's main sled tree. Everything an append writes lives
//! in one tree so that one batch is atomic:
//!
//! | key | value |
//! |---|---|
//! | `e` + position (u64 BE) | the record (see `record`) |
//! | `s` + stream + `0x00` + first version (u64 BE) | runs: (first position u64 BE, count u32 BE)*, versions consecutive from the key's |
//! | `c` + command id | the append's outcome (first, last position, version) |
//! | `mindexed_through` | position (u64 BE) through which the stream index is written |
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

    /// The position of `version` if this run holds it.
    pub(crate) fn position_of(&self, version: u64) -> Option<u64> {
        (self.first_version..=self.last_version())
            .contains(&version)
            .then(|| self.first_position + (version - self.first_version))
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
