//! The Bridges engine: the single writer of the append-only event log (sled),
//! projections over it, and the `bridges` command line.
//!
//! Start at `log::EventLog` (open, append, read, subscribe, verify, export,
//! import) and `projection` (replay, checkpoints, time travel); `weekly` is
//! the main job, `book` the brokerage read model it cuts snapshots from.

pub mod bench;
pub mod cli;
pub mod config;
pub mod demo;
pub mod domain;
pub mod handle;
pub mod imports;
pub mod keys;
pub mod log;
pub mod matching;
pub mod nats;
pub mod planning;
pub mod projection;
pub mod recommend;
pub mod render;
pub mod reports;
pub mod rounds;
pub mod rules;
pub mod schedule;
pub mod views;
pub mod web;
pub mod weekly;
pub mod year;
