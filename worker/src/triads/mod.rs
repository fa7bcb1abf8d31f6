//! The peer-review triads model (to be built).

use bridges_schemas::triads::{TriadsPlan, TriadsProblem};

use crate::common::{SolveError, SolveOptions};

/// Validates, builds, solves and explains. `problem_sha256` is the hash of the
/// document's bytes as read.
pub fn solve(
    _problem: &TriadsProblem,
    _problem_sha256: &str,
    _options: &SolveOptions,
) -> Result<TriadsPlan, SolveError> {
    Err(SolveError::Solver("triads model not built yet".to_owned()))
}

/// Generates a realistic problem (see `bridges-worker generate --help`).
pub fn generate(_args: &crate::cli::GenerateArgs) -> anyhow::Result<TriadsProblem> {
    anyhow::bail!("triads generator not built yet")
}

/// Runs the triads benchmark and prints its table.
pub fn bench(_quick: bool) -> anyhow::Result<()> {
    anyhow::bail!("triads benchmark not built yet")
}
