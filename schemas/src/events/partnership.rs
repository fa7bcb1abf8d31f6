//! Events of a partnership's stream, `partnership-<year>`: the academic
//! year's budget per funding source and the brokerage fee.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::vocab::{AcademicYearId, FundingSource};

/// The partnership's budget for one funding source in one academic year.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct BudgetSet {
    pub year: AcademicYearId,
    pub funding: FundingSource,
    /// Pounds and pence, in pence.
    pub amount_pence: u64,
}

/// The partnership's brokerage fee: a percentage of the days' cost, in basis
/// points (1,000 = 10%).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct BrokerageFeeSet {
    pub year: AcademicYearId,
    pub basis_points: u32,
}
