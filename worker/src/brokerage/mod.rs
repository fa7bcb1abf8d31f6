//! The brokerage matching model (to be built).

use bridges_schemas::brokerage::{BrokeragePlan, BrokerageProblem};

use crate::common::{SolveError, SolveOptions};

/// Validates, builds, solves and explains. `problem_sha256` is the hash of the
/// document's bytes as read.
pub fn solve(
    _problem: &BrokerageProblem,
    _problem_sha256: &str,
    _options: &SolveOptions,
) -> Result<BrokeragePlan, SolveError> {
    Err(SolveError::Solver("brokerage model not built yet".to_owned()))
}

/// Generates a realistic problem (see `bridges-worker generate --help`).
pub fn generate(_args: &crate::cli::GenerateArgs) -> anyhow::Result<BrokerageProblem> {
    anyhow::bail!("brokerage generator not built yet")
}

/// Runs the brokerage benchmark and prints its table.
pub fn bench(_quick: bool) -> anyhow::Result<()> {
    anyhow::bail!("brokerage benchmark not built yet")
}
