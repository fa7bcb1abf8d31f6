//! The Bridges solver worker: reads a problem document, solves it with good_lp
//! on HiGHS, writes a plan document. Stateless; it holds no log and speaks no
//! NATS in this crate's library (the engine embeds it, or a NATS shell wraps it).

pub mod brokerage;
pub mod cli;
pub mod common;
pub mod credentials;
pub mod gias;
pub mod nats;
pub mod tools;
pub mod triads;
