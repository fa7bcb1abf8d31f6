//! Shared helpers of the engine's integration tests: temporary logs and
//! small append requests. Not a test itself.
#![allow(dead_code)]

use bridges_engine::log::{
    AppendOutcome, AppendRequest, EventLog, ExpectedVersion, LogConfig, NewEvent, Position, Version,
};
use chrono::{DateTime, TimeZone, Utc};
use serde_json::json;
use uuid::Uuid;

pub fn open(dir: &std::path::Path) -> EventLog {
    EventLog::open(LogConfig::new(dir)).expect("open log")
}

/// A log whose writer holds at most `index_lag` events' stream-index runs
/// before writing them (small values exercise the written and the pending
/// parts of the index together).
pub fn open_with_lag(dir: &std::path::Path, index_lag: usize) -> EventLog {
    EventLog::open(LogConfig { index_lag, ..LogConfig::new(dir) }).expect("open log")
}

pub fn at(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_790_000_000 + secs, 123_456_000).single().expect("valid time")
}

pub fn event(n: u64) -> NewEvent {
    NewEvent {
        event_id: Uuid::from_u64_pair(n, 7),
        type_name: "TestHappened".into(),
        type_version: 1,
        payload: json!({"n": n, "x": 0.1 + n as f64 / 3.0}),
    }
}

pub fn request(stream: &str, expected: ExpectedVersion, ns: &[u64]) -> AppendRequest {
    AppendRequest {
        stream: stream.into(),
        expected,
        events: ns.iter().map(|&n| event(n)).collect(),
        command_id: None,
        recorded_at: at(ns.first().copied().unwrap_or(0) as i64),
    }
}

pub async fn append(
    log: &EventLog,
    stream: &str,
    expected: ExpectedVersion,
    ns: &[u64],
) -> AppendOutcome {
    log.append(request(stream, expected, ns)).await.expect("append")
}

pub fn exact(v: u64) -> ExpectedVersion {
    ExpectedVersion::Exact(Version(v))
}

/// Every durable event, in order.
pub fn all(log: &EventLog) -> Vec<bridges_engine::log::RecordedEvent> {
    log.read_all(Position(1), usize::MAX).expect("read all")
}

pub mod domain;

/// Rounds of a crash test: `BRIDGES_CRASH_ROUNDS` when set (ask for 200 or
/// more for a long run), else 40 under `CI` or `BRIDGES_SLOW`, else 8.
pub fn crash_rounds() -> u64 {
    if let Some(n) = std::env::var("BRIDGES_CRASH_ROUNDS").ok().and_then(|s| s.parse().ok()) {
        return n;
    }
    let slow = std::env::var_os("CI").is_some() || std::env::var_os("BRIDGES_SLOW").is_some();
    if slow { 40 } else { 8 }
}
