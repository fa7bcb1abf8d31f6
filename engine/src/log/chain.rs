//! The hash chain over the log and its verification. Each record's hash is
//! SHA-256 over the previous record's hash (32 zero bytes before position 1)
//! followed by the record's canonical bytes, so changing, dropping or
//! reordering any record breaks every hash after it.
//!
//! `verify` walks the whole chain; `check_tail` is what opening a log checks:
//! the last group commit against its `mhead` mark and the chain. This module
//! checks hashes, the indexes that point at records and the checkpoints; it
//! does not repair anything.

use sha2::{Digest, Sha256};

use super::store::Store;
use super::{LogError, Position, checkpoint, keys, record, writer};

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
    /// Projection checkpoints that check.
    pub checkpoints: u64,
    /// Projection checkpoints that do not: each is rebuilt from the log at
    /// its projection's next load (and then written anew).
    pub bad_checkpoints: Vec<CheckpointProblem>,
}

/// A checkpoint `verify` found unusable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointProblem {
    pub name: String,
    pub reason: String,
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
    let mut report = verify_chain(store)?;
    let head = report.checked;
    for name in checkpoint::names(store)? {
        let problem = match checkpoint::read(store, &name) {
            Ok(Some(c)) if c.position.0 <= head => None,
            Ok(Some(c)) => {
                Some(format!("it is as of position {}, past the head {head}", c.position))
            }
            Ok(None) => Some("its chunks have no header".to_owned()),
            Err(LogError::BadCheckpoint { reason, .. }) => Some(reason),
            Err(e) => Some(e.to_string()),
        };
        match problem {
            None => report.checkpoints += 1,
            Some(reason) => report.bad_checkpoints.push(CheckpointProblem { name, reason }),
        }
    }
    Ok(report)
}

/// The chain, the stream index and the `mhead` mark.
fn verify_chain(store: &Store) -> Result<VerifyReport, LogError> {
    let mut prev = GENESIS;
    let mut checked = 0u64;
    let broken = |pos: u64, why: String, checked: u64, prev: &[u8; 32]| VerifyReport {
        checked,
        head_hash: hex::encode(prev),
        first_broken: Some((Position(pos), why)),
        checkpoints: 0,
        bad_checkpoints: Vec::new(),
    };
    // A log without the mark predates the lazy index: all of it is indexed.
    let through = match store.get(keys::INDEXED_THROUGH)? {
        Some(v) => keys::u64_value(&v).unwrap_or(u64::MAX),
        None => u64::MAX,
    };
    for (expected, kv) in (1u64..).zip(store.range(keys::events(0, u64::MAX))) {
        // sled's own corruption (a damaged page) is named by the position
        // the walk had reached.
        let (k, v) = match kv {
            Ok(kv) => kv,
            Err(LogError::Storage(e)) | Err(LogError::Corrupt { reason: e, .. }) => {
                return Ok(broken(expected, format!("unreadable: {e}"), checked, &prev));
            }
            Err(e) => return Err(e),
        };
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
    // The last commit's mark must name the last record: events lost from the
    // end of the log leave a chain that verifies on its own.
    if let Some(v) = store.get(keys::HEAD)? {
        let Some((head, hash, _)) = writer::decode_head(&v) else {
            return Ok(broken(
                checked + 1,
                "the last commit's head mark is malformed".into(),
                checked,
                &prev,
            ));
        };
        if head > checked {
            let why = format!("missing: the last commit wrote through position {head}");
            return Ok(broken(checked + 1, why, checked, &prev));
        }
        if head < checked {
            let why = format!("stored past the last commit's head {head}");
            return Ok(broken(head + 1, why, head, &prev));
        }
        if hash != prev {
            let why = "its hash is not the one the last commit recorded".to_owned();
            return Ok(broken(head, why, checked.saturating_sub(1), &prev));
        }
    }
    Ok(VerifyReport {
        checked,
        head_hash: hex::encode(prev),
        first_broken: None,
        checkpoints: 0,
        bad_checkpoints: Vec::new(),
    })
}

/// What opening a log checks before anything can be appended: the last
/// record decodes under its key and is the head the last commit recorded
/// (`mhead`: position and hash), and every record of the last group and
/// after the stream index mark (`index_mark`) links to its predecessor. That
/// is at most about one index lag and one group of records; the rest of the
/// chain is `verify`'s. Returns the next position and the last hash.
pub(crate) fn check_tail(
    store: &Store,
    index_mark: Option<u64>,
) -> Result<(u64, [u8; 32]), LogError> {
    let corrupt = |position: u64, reason: String| LogError::Corrupt { position, reason };
    let mark = match store.get(keys::HEAD)? {
        None => None,
        Some(v) => Some(
            writer::decode_head(&v)
                .ok_or_else(|| corrupt(0, "the last commit's head mark is malformed".into()))?,
        ),
    };
    let Some((k, v)) = store.last_in(keys::events(0, u64::MAX))? else {
        return match mark {
            Some((head, _, _)) if head > 0 => Err(corrupt(
                1,
                format!(
                    "missing: the last commit wrote through position {head}, the log holds no event"
                ),
            )),
            _ => Ok((1, GENESIS)),
        };
    };
    let pos =
        keys::position_of(&k).ok_or_else(|| corrupt(0, "last event key is malformed".into()))?;
    let (e, _) = record::decode(&v).map_err(|reason| corrupt(pos, reason))?;
    if e.position.0 != pos {
        return Err(corrupt(pos, format!("record says position {}", e.position.0)));
    }
    let head_hash = *e.hash;
    let mut start = pos;
    if let Some((head, hash, group_first)) = mark {
        if head > pos {
            return Err(corrupt(
                pos + 1,
                format!("missing: the last commit wrote through position {head}"),
            ));
        }
        if head < pos {
            return Err(corrupt(head + 1, format!("stored past the last commit's head {head}")));
        }
        if hash != head_hash {
            return Err(corrupt(pos, "its hash is not the one the last commit recorded".into()));
        }
        start = start.min(group_first.max(1));
    }
    if let Some(through) = index_mark {
        if through > pos {
            return Err(corrupt(
                pos + 1,
                format!("missing: the stream index is written through {through}"),
            ));
        }
        start = start.min(through + 1);
    }
    let mut prev = match start {
        1 => GENESIS,
        _ => {
            let v = store
                .get(&keys::event(start - 1))?
                .ok_or_else(|| corrupt(start - 1, "missing below the head".into()))?;
            let (e, _) = record::decode(&v).map_err(|reason| corrupt(start - 1, reason))?;
            *e.hash
        }
    };
    for (expected, kv) in (start..).zip(store.range(keys::events(start, pos))) {
        let (k, v) = kv?;
        let at = keys::position_of(&k).unwrap_or(0);
        if at != expected {
            return Err(corrupt(expected, format!("missing; the next stored key is {at}")));
        }
        let (e, body) = record::decode(&v).map_err(|reason| corrupt(at, reason))?;
        if e.position.0 != at {
            return Err(corrupt(at, format!("record says position {}", e.position.0)));
        }
        let h = link(&prev, body);
        if &h != e.hash {
            return Err(corrupt(at, "hash does not match the chain".into()));
        }
        prev = h;
    }
    Ok((pos + 1, head_hash))
}
