//! The Bridges engine: the single writer of the append-only event log (sled),
//! projections over it, and the `bridges` command line.
//!
//! Start at `log::EventLog` (open, append, read, subscribe, verify, export,
//! import) and `projection` (replay, checkpoints, time travel).

pub mod bench;
pub mod cli;
pub mod log;
pub mod projection;
