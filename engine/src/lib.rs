//! The Bridges engine: the single writer of the append-only event log (sled),
//! projections over it, and the `bridges` command line.
//!
//! Start at `log::EventLog` (open, append, read, subscribe, verify, export,
//! import) and `projection` (replay, checkpoints, time travel); `weekly` is
//! the main job, `book` the brokerage read model it cuts snapshots from.

pub mod bench;
pub mod book;
pub mod cli;
pub mod config;
pub mod log;
pub mod projection;
pub mod weekly;
