//! The hash chain over the log and its verification. Each record's hash is
//! SHA-256 over the previous record's hash (32 zero bytes before position 1)
//! followed by the record's canonical bytes, so changing, dropping or
//! reordering any record breaks every hash after it.
//!
//! This module checks hashes and the indexes that point at records; it does
//! not repair anything.

use sha2::{Digest, Sha256};

use super::store::Store;
use super::{LogError, Position, keys, record};

/// The hash "before" position 1.
pub(crate) const GENESIS: [u8; 32] = [0; 32];

/// What `verify` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// Records checked (all of them when the chain is intact).
    pub checked: u64,
    /// Hash of the last good record, hex.
    pub head_hash: String,
    /// The first position that does not verify, and why.
    pub first_broken: Option<(Position, String)>,
}

/// The next link: SHA-256(previous hash || record bytes).
pub(crate) fn link(prev: &[u8; 32], body: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(prev);
    h.update(body);
    h.finalize().into()
}

/// Walks the whole log from position 1: every key holds the next position,
/// every record decodes, its hash links to the previous one, and the stream
/// index points at it. Stops at the first break.
pub(crate) fn verify(store: &Store) -> Result<VerifyReport, LogError> {
    let mut prev = GENESIS;
    let mut checked = 0u64;
    let broken = |pos: u64, why: String, checked: u64, prev: &[u8; 32]| VerifyReport {
        checked,
        head_hash: hex::encode(prev),
        first_broken: Some((Position(pos), why)),
    };
    // A log without the mark predates the lazy index: all of it is indexed.
    let through = match store.get(keys::INDEXED_THROUGH)? {
        Some(v) => keys::u64_value(&v).unwrap_or(u64::MAX),
        None => u64::MAX,
    };
    for (expected, kv) in (1u64..).zip(store.range(keys::events(0, u64::MAX))) {
        let (k, v) = kv?;
        let Some(pos) = keys::position_of(&k) else {
            return Ok(broken(expected, "malformed event key".into(), checked, &prev));
        };
        if pos != expected {
            return Ok(broken(expected, format!("missing; next key is {pos}"), checked, &prev));
        }
        let (e, body) = match record::decode(&v) {
            Ok(x) => x,
            Err(why) => {
                return Ok(broken(pos, format!("undecodable record: {why}"), checked, &prev));
            }
        };
        if e.position.0 != pos {
            let why = format!("record says position {} under key {pos}", e.position.0);
            return Ok(broken(pos, why, checked, &prev));
        }
        let h = link(&prev, body);
        if &h != e.hash {
            return Ok(broken(pos, "hash does not match the chain".into(), checked, &prev));
        }
        // Events past the index mark have no run written yet (the writer
        // rebuilds theirs from the events when it starts).
        let entry = match pos <= through {
            true => store.last_in(keys::stream_entries(e.stream, 0, e.version.0))?,
            false => None,
        };
        let runs = entry.and_then(|(k, v)| keys::decode_runs(&k, &v));
        match runs {
            _ if pos > through => {}
            Some(runs) if runs.iter().any(|r| r.position_of(e.version.0) == Some(pos)) => {}
            _ => {
                let why = format!("stream index {}@{} does not point here", e.stream, e.version.0);
                return Ok(broken(pos, why, checked, &prev));
            }
        }
        prev = h;
        checked += 1;
    }
    Ok(VerifyReport { checked, head_hash: hex::encode(prev), first_broken: None })
}
