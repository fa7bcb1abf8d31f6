//! What both models share: the validation error, solve options, the problem
//! hash and the solver record.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Instant;

use bridges_schemas::common::SolverInfo;
use sha2::{Digest, Sha256};

/// A problem that is malformed or inconsistent. Names the field (a JSON path
/// such as `requests[3].days.2026-AU1`), the value, and why it is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct InvalidProblem {
    pub field: String,
    pub value: String,
    pub reason: String,
}

impl InvalidProblem {
    /// The error, each part cut to a readable length (see [`cut`]): a
    /// value can be a megabyte of input, and the error is one line.
    pub fn new(
        field: impl Into<String>,
        value: impl fmt::Display,
        reason: impl Into<String>,
    ) -> Self {
        Self {
            field: cut(&field.into(), MAX_FIELD_CHARS),
            value: cut(&value.to_string(), MAX_VALUE_CHARS),
            reason: cut(&reason.into(), MAX_REASON_CHARS),
        }
    }
}

/// Most characters of a value echoed in an error.
pub const MAX_VALUE_CHARS: usize = 60;
/// Most characters of a field path in an error.
const MAX_FIELD_CHARS: usize = 120;
/// Most characters of a reason in an error (a parser's reason may quote the value).
const MAX_REASON_CHARS: usize = 240;

/// `text` itself when it has at most `max` characters, else its first `max`
/// and how long it was: `xxxx…(1048576 bytes)`.
pub fn cut(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_owned(),
        Some((end, _)) => format!("{}…({} bytes)", &text[..end], text.len()),
    }
}

impl fmt::Display for InvalidProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid problem: {} = {}: {}", self.field, self.value, self.reason)
    }
}

/// Errors of a solve that are not plans. An unmet request or an infeasible
/// set of pins is a plan, not an error.
#[derive(Debug, thiserror::Error)]
pub enum SolveError {
    #[error(transparent)]
    Invalid(#[from] InvalidProblem),
    #[error("solver failed: {0}")]
    Solver(String),
}

/// How a solve may be limited. Recorded in the plan's `solver.options`.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct SolveOptions {
    /// Wall-clock limit in seconds for the MILP search.
    pub time_limit: Option<f64>,
    /// Relative MIP gap at which the search may stop.
    pub mip_gap: Option<f64>,
}

/// What is left of a time limit of `limit` seconds since `began` (none
/// without a limit; never below zero).
pub fn time_left(limit: Option<f64>, began: Instant) -> Option<f64> {
    limit.map(|t| (t - began.elapsed().as_secs_f64()).max(0.0))
}

impl SolveOptions {
    /// The same options with the time limit less the time since `began`.
    pub fn since(&self, began: Instant) -> SolveOptions {
        SolveOptions { time_limit: time_left(self.time_limit, began), ..*self }
    }

    /// The options as they are recorded in a plan (only those set).
    pub fn to_record(&self) -> BTreeMap<String, serde_json::Value> {
        let mut m = BTreeMap::new();
        if let Some(t) = self.time_limit {
            m.insert("time_limit".to_owned(), serde_json::json!(t));
        }
        if let Some(g) = self.mip_gap {
            m.insert("mip_gap".to_owned(), serde_json::json!(g));
        }
        m
    }
}

/// SHA-256 (hex) of a problem document's exact bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The HiGHS version good_lp links against (`highs-sys` 1.16 bundles HiGHS 1.16.0).
pub const HIGHS_VERSION: &str = "1.16.0";

/// The solver record of a plan solved by HiGHS with these options.
pub fn highs_info(options: &SolveOptions) -> SolverInfo {
    SolverInfo {
        name: "highs".to_owned(),
        version: HIGHS_VERSION.to_owned(),
        options: options.to_record(),
    }
}

/// Relative gap between an objective and a bound, as HiGHS reports it.
pub fn relative_gap(objective: f64, bound: f64) -> f64 {
    let denom = objective.abs().max(bound.abs()).max(1e-9);
    ((objective - bound).abs() / denom).max(0.0)
}
