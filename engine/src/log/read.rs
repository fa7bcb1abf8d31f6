//! Reads: one stream, the whole log from a position, and an allocation-free
//! scan for replay. Every read stops at the durable head, so an event is never
//! visible before it is acknowledged. Reads do not check the hash chain (that
//! is `verify`); they do reject records that do not decode or sit under the
//! wrong key, as `LogError::Corrupt`.

use super::{EventLog, EventRef, LogError, Position, RecordedEvent, Version, keys, record};

impl EventLog {
    /// Up to `max` events from position `from` (inclusive) in log order.
    pub fn read_all(&self, from: Position, max: usize) -> Result<Vec<RecordedEvent>, LogError> {
        let mut out = Vec::new();
        let head = self.head().0;
        if max == 0 || from.0 > head {
            return Ok(out);
        }
        let to = head.min(from.0.max(1).saturating_add(max as u64 - 1));
        self.scan(Position(from.0.max(1)), Position(to), |e| out.push(e.to_owned_event()))?;
        Ok(out)
    }

    /// Up to `max` events of `stream` from version `from` (inclusive), in
    /// order: through the written stream index, then by scanning the events
    /// after its mark (at most `index_lag` of them, and one group).
    pub fn read_stream(
        &self,
        stream: &str,
        from: Version,
        max: usize,
    ) -> Result<Vec<RecordedEvent>, LogError> {
        // The mark before the head: the head is published first, so it is at
        // least the mark, and index runs past the mark are left to the scan.
        let through = self.indexed_through();
        let head = self.head().0;
        let from = from.0.max(1);
        let mut out = Vec::new();
        if max == 0 {
            return Ok(out);
        }
        // Start at the key holding `from`: the last one starting at or before it.
        let start = match self.store().last_in(keys::stream_entries(stream, 0, from))? {
            Some((k, _)) => keys::Run::first_version_of(&k).unwrap_or(from),
            None => from,
        };
        'runs: for kv in self.store().range(keys::stream_entries(stream, start, u64::MAX)) {
            let (k, v) = kv?;
            for r in runs(stream, &k, &v)? {
                for version in r.first_version.max(from)..=r.last_version() {
                    let pos = r.position_of(version).unwrap_or(0);
                    if out.len() >= max || pos > through {
                        break 'runs;
                    }
                    let e = self.get(Position(pos))?.ok_or_else(|| LogError::Corrupt {
                        position: pos,
                        reason: format!("stream {stream:?} points at a missing event"),
                    })?;
                    if e.stream != stream || e.version.0 != version {
                        return Err(LogError::Corrupt {
                            position: pos,
                            reason: format!(
                                "index of {stream:?}@{version} points at {}@{}",
                                e.stream, e.version
                            ),
                        });
                    }
                    out.push(e);
                }
            }
        }
        if out.len() < max && through < head {
            self.scan(Position(through + 1), Position(head), |e| {
                if e.stream == stream && e.version.0 >= from && out.len() < max {
                    out.push(e.to_owned_event());
                }
            })?;
        }
        Ok(out)
    }

    /// The current durable version of `stream` (0 when it has no events).
    pub fn stream_version(&self, stream: &str) -> Result<Version, LogError> {
        let through = self.indexed_through();
        let head = self.head().0;
        let mut last = None;
        if through < head {
            self.scan(Position(through + 1), Position(head), |e| {
                if e.stream == stream {
                    last = Some(e.version);
                }
            })?;
        }
        if let Some(v) = last {
            return Ok(v);
        }
        // Walk back from the last run past any beyond the mark.
        for kv in self.store().range(keys::stream_entries(stream, 1, u64::MAX)).rev() {
            let (k, v) = kv?;
            for r in runs(stream, &k, &v)?.into_iter().rev() {
                if r.first_position <= through {
                    let written = r.count.min(through - r.first_position + 1);
                    return Ok(Version(r.first_version + written - 1));
                }
            }
        }
        Ok(Version(0))
    }

    /// The event at `position`, if it is durable.
    pub fn get(&self, position: Position) -> Result<Option<RecordedEvent>, LogError> {
        if position.0 == 0 || position > self.head() {
            return Ok(None);
        }
        match self.store().get(&keys::event(position.0))? {
            None => Ok(None),
            Some(v) => Ok(Some(decode_at(position.0, &v)?.to_owned_event())),
        }
    }

    /// Calls `f` with every event from `from` to `to` (inclusive, capped at
    /// the durable head), borrowed from the store without allocating: the
    /// replay path of projections.
    pub fn scan(
        &self,
        from: Position,
        to: Position,
        mut f: impl FnMut(&EventRef<'_>),
    ) -> Result<u64, LogError> {
        let to = to.min(self.head());
        let from = from.0.max(1);
        if from > to.0 {
            return Ok(0);
        }
        let mut expected = from;
        for kv in self.store().range(keys::events(from, to.0)) {
            let (k, v) = kv.map_err(|e| unreadable(expected, e))?;
            let pos = keys::position_of(&k).unwrap_or(0);
            if pos != expected {
                return Err(LogError::Corrupt {
                    position: expected,
                    reason: format!("missing; the next stored key is {pos}"),
                });
            }
            f(&decode_at(pos, &v)?);
            expected += 1;
        }
        if expected != to.0 + 1 {
            return Err(LogError::Corrupt {
                position: expected,
                reason: "missing below the durable head".into(),
            });
        }
        Ok(to.0 + 1 - from)
    }

    /// Test and benchmark support: a raw sled scan of events `from..=to`
    /// without decoding. Returns (count, checksum).
    #[doc(hidden)]
    pub fn raw_scan(&self, from: Position, to: Position) -> Result<(u64, u64), LogError> {
        self.store().raw_scan(keys::events(from.0, to.0))
    }
}

/// A storage error met while reading position `position`, naming it.
fn unreadable(position: u64, e: LogError) -> LogError {
    match e {
        LogError::Storage(s) => {
            LogError::Storage(format!("position {position} is unreadable: {s}"))
        }
        other => other,
    }
}

fn runs(stream: &str, key: &[u8], value: &[u8]) -> Result<Vec<keys::Run>, LogError> {
    keys::decode_runs(key, value).ok_or_else(|| LogError::Corrupt {
        position: 0,
        reason: format!("index run of stream {stream:?} is malformed"),
    })
}

/// Decodes the value stored under `position`, checking it belongs there.
pub(crate) fn decode_at(position: u64, value: &[u8]) -> Result<EventRef<'_>, LogError> {
    let (e, _) = record::decode(value).map_err(|reason| LogError::Corrupt { position, reason })?;
    if e.position.0 != position {
        return Err(LogError::Corrupt {
            position,
            reason: format!("record says position {}", e.position.0),
        });
    }
    Ok(e)
}
