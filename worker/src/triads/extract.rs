//! Turning HiGHS column values into groups: a column is chosen when its value
//! exceeds [`ROUND_TOL`]. It does not check the groups (check.rs does, independently).

use bridges_schemas::Urn;
use bridges_schemas::triads::TriadsProblem;

use super::enumerate::Column;
use super::pool::Pool;

/// A binary column counts as chosen above this value (HiGHS returns values
/// within its feasibility tolerance of 0 or 1).
pub const ROUND_TOL: f64 = 0.5;

/// Indices of the chosen columns, ascending.
pub fn chosen(values: &[f64]) -> Vec<usize> {
    values.iter().enumerate().filter(|(_, v)| **v > ROUND_TOL).map(|(i, _)| i).collect()
}

/// The URNs of a column's schools, ascending.
pub fn group_urns(problem: &TriadsProblem, pool: &Pool, column: &Column) -> Vec<Urn> {
    let mut urns: Vec<Urn> =
        column.members.iter().map(|&a| problem.schools[pool.members[a]].urn).collect();
    urns.sort_unstable();
    urns
}
