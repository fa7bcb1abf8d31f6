//! Projection checkpoints, stored in chunks. A state of any size is split into
//! chunks of at most `keys::CHECKPOINT_CHUNK_BYTES` under a header holding its
//! position, length, chunk count and SHA-256, all written in one atomic batch
//! of the checkpoints tree that also removes the previous checkpoint's extra
//! chunks. So no value reaches sled's blob threshold (see `keys`), and a chunk
//! that is missing, garbled or unreadable is detected on read rather than
//! trusted.
//!
//! This module stores and checks bytes; what a state means, and rebuilding a
//! projection whose checkpoint does not check, is `projection`'s business.

use std::collections::BTreeSet;

use sha2::{Digest, Sha256};

use super::store::{Store, WriteBatch};
use super::{LogError, Position, keys};

/// Longest checkpoint name, in bytes.
pub(crate) const MAX_NAME: usize = 100;
const FORMAT: u8 = 1;
/// Format, position, state length, chunk count, SHA-256.
const HEADER_LEN: usize = 1 + 8 + 8 + 4 + 32;

/// A projection's stored state and the position it is as of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub position: Position,
    pub state: Vec<u8>,
}

/// The batch that replaces checkpoint `name` with `state` as of `position`.
pub(crate) fn batch(
    store: &Store,
    name: &str,
    position: Position,
    state: &[u8],
) -> Result<WriteBatch, LogError> {
    let count = state.len().div_ceil(keys::CHECKPOINT_CHUNK_BYTES);
    let count = u32::try_from(count).map_err(|_| LogError::Invalid {
        field: "checkpoint state".into(),
        value: format!("{} bytes", state.len()),
        reason: "too large".into(),
    })?;
    let mut b = WriteBatch::default();
    let mut header = Vec::with_capacity(HEADER_LEN);
    header.push(FORMAT);
    header.extend_from_slice(&position.0.to_be_bytes());
    header.extend_from_slice(&(state.len() as u64).to_be_bytes());
    header.extend_from_slice(&count.to_be_bytes());
    header.extend_from_slice(&Sha256::digest(state));
    b.insert(&keys::checkpoint_header(name), &header);
    for (i, chunk) in (0u32..).zip(state.chunks(keys::CHECKPOINT_CHUNK_BYTES)) {
        b.insert(&keys::checkpoint_chunk(name, i), chunk);
    }
    // Chunks of a longer previous state go in the same batch.
    let stale = keys::checkpoint_chunk(name, count)..=keys::checkpoint_chunk(name, u32::MAX);
    for kv in store.checkpoint_range(stale) {
        let (k, _) = kv?;
        b.remove(&k);
    }
    Ok(b)
}

/// Reads and checks checkpoint `name`: None if there is none.
pub(crate) fn read(store: &Store, name: &str) -> Result<Option<Checkpoint>, LogError> {
    let bad = |reason: String| LogError::BadCheckpoint { name: name.to_owned(), reason };
    let header = match store.get_checkpoint(&keys::checkpoint_header(name)) {
        Ok(None) => return Ok(None),
        Ok(Some(h)) => h,
        Err(e) => return Err(bad(e.to_string())),
    };
    let (position, len, count, sha) =
        parse_header(&header).ok_or_else(|| bad("its header is malformed".into()))?;
    let mut state = Vec::with_capacity(usize::try_from(len).unwrap_or(0).min(1 << 30));
    let mut next = 0u32;
    for kv in store.checkpoint_range(keys::checkpoint_chunks(name)) {
        let (k, v) = kv.map_err(|e| bad(e.to_string()))?;
        let Some((_, index)) = keys::chunk_of(&k) else {
            return Err(bad(format!("malformed chunk key {k:?}")));
        };
        if index >= count {
            return Err(bad(format!("chunk {index} is beyond the header's {count} chunks")));
        }
        if index != next {
            return Err(bad(format!("chunk {next} of {count} is missing")));
        }
        state.extend_from_slice(&v);
        next += 1;
    }
    if next != count {
        return Err(bad(format!("chunk {next} of {count} is missing")));
    }
    if state.len() as u64 != len {
        return Err(bad(format!("its chunks hold {} bytes, the header says {len}", state.len())));
    }
    if Sha256::digest(&state).as_slice() != sha {
        return Err(bad("its SHA-256 does not match the header: a chunk is garbled".into()));
    }
    Ok(Some(Checkpoint { position: Position(position), state }))
}

/// Every checkpoint name with a header or a chunk stored.
pub(crate) fn names(store: &Store) -> Result<BTreeSet<String>, LogError> {
    let mut names = BTreeSet::new();
    for kv in store.checkpoint_range(vec![0]..=vec![0xff]) {
        let (k, _) = kv?;
        let name = match k.first() {
            Some(&keys::CHECKPOINT_HEADER) => String::from_utf8_lossy(&k[1..]).into_owned(),
            Some(&keys::CHECKPOINT_CHUNK) => match keys::chunk_of(&k) {
                Some((name, _)) => name.to_owned(),
                None => String::from_utf8_lossy(&k).into_owned(),
            },
            _ => String::from_utf8_lossy(&k).into_owned(),
        };
        names.insert(name);
    }
    Ok(names)
}

fn parse_header(h: &[u8]) -> Option<(u64, u64, u32, &[u8])> {
    if h.len() != HEADER_LEN || h[0] != FORMAT {
        return None;
    }
    let position = keys::u64_value(&h[1..9])?;
    let len = keys::u64_value(&h[9..17])?;
    let count = u32::from_be_bytes(h[17..21].try_into().ok()?);
    Some((position, len, count, &h[21..]))
}
