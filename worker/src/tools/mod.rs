//! Callers of the models, never called by them: the instance generators, the
//! benchmarks and the readable report table behind `bridges-worker generate`
//! and `bench`. The models (`brokerage`, `triads`) know nothing of this
//! module; it is test and benchmark tooling, not the solving API.

pub mod brokerage_bench;
pub mod brokerage_generate;
pub mod report;
pub mod triads_bench;
pub mod triads_generate;
