//! Catch-up subscriptions: from any position, read ranges from disk until the
//! durable head, then wait on the head watch (a wake-up only, it carries no
//! events) and read the new range. Every event comes from the same ordered key
//! range, so the switch from catching up to live has no gap and no duplicate.
//!
//! Memory is bounded for a slow reader: the subscription pulls at most
//! `CHUNK` events ahead of its consumer; nothing is pushed to it.

use std::collections::VecDeque;

use tokio::sync::watch;

use super::{EventLog, LogError, Position, RecordedEvent};

/// Events read from disk at a time.
pub const CHUNK: usize = 256;

/// A catch-up subscription (see the module docs). Dropping it stops it.
pub struct Subscription {
    log: EventLog,
    next: u64,
    head: watch::Receiver<Position>,
    buffer: VecDeque<RecordedEvent>,
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription").field("next", &self.next).finish()
    }
}

impl EventLog {
    /// Subscribes from `from` (inclusive; 0 and 1 both mean the start).
    pub fn subscribe(&self, from: Position) -> Subscription {
        Subscription {
            log: self.clone(),
            next: from.0.max(1),
            head: self.head_watch(),
            buffer: VecDeque::with_capacity(CHUNK),
        }
    }
}

impl Subscription {
    /// The next event in log order, waiting for it if the subscriber is live.
    /// `None` once the log has been closed and everything durable was delivered.
    pub async fn next(&mut self) -> Option<Result<RecordedEvent, LogError>> {
        loop {
            if let Some(e) = self.buffer.pop_front() {
                return Some(Ok(e));
            }
            let head = self.head.borrow_and_update().0;
            if self.next <= head {
                match self.log.read_all(Position(self.next), CHUNK) {
                    Ok(events) => {
                        self.next += events.len() as u64;
                        self.buffer.extend(events);
                        continue;
                    }
                    Err(e) => return Some(Err(e)),
                }
            }
            // Caught up: sleep until the writer publishes a new durable head.
            if self.head.changed().await.is_err() {
                return None;
            }
        }
    }

    /// Events read from disk but not yet delivered (at most `CHUNK`).
    pub fn buffered(&self) -> usize {
        self.buffer.len()
    }

    /// The position the next delivered event will have.
    pub fn next_position(&self) -> Position {
        Position(self.next - self.buffer.len() as u64)
    }
}
