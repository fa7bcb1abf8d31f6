//! The Bridges engine: the single writer of the append-only event log (sled),
//! projections over it, and the `bridges` command line.

pub mod log;
