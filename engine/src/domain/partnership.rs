//! Deciding commands about the partnership's year: the budget per funding
//! source and the brokerage fee.

use bridges_schemas::commands::{Rejection, RejectionCode, SetBrokerageFee, SetBudget};
use bridges_schemas::events::{BrokerageFeeSet, BudgetSet, DomainEvent};
use bridges_schemas::vocab::AcademicYearId;

use super::{Context, State, reject};

/// Set a funding source's budget for a configured academic year.
pub fn set_budget(
    _state: &State,
    c: &SetBudget,
    ctx: &Context<'_>,
) -> Result<Vec<DomainEvent>, Rejection> {
    configured_year(ctx, &c.year)?;
    if c.amount_pence > 10_000_000_000 {
        return Err(reject(
            RejectionCode::Invalid,
            "amount_pence",
            c.amount_pence,
            "at most £100,000,000",
        ));
    }
    Ok(vec![DomainEvent::BudgetSet(BudgetSet {
        year: c.year.clone(),
        funding: c.funding,
        amount_pence: c.amount_pence,
    })])
}

/// Set the brokerage fee (basis points of the days' cost) for a year.
pub fn set_fee(
    _state: &State,
    c: &SetBrokerageFee,
    ctx: &Context<'_>,
) -> Result<Vec<DomainEvent>, Rejection> {
    configured_year(ctx, &c.year)?;
    if c.basis_points > 5_000 {
        return Err(reject(
            RejectionCode::Invalid,
            "basis_points",
            c.basis_points,
            "a fee of at most 50% (5,000 basis points)",
        ));
    }
    Ok(vec![DomainEvent::BrokerageFeeSet(BrokerageFeeSet {
        year: c.year.clone(),
        basis_points: c.basis_points,
    })])
}

fn configured_year(ctx: &Context<'_>, year: &AcademicYearId) -> Result<(), Rejection> {
    if ctx.rules.calendar.year(year).next().is_none() {
        return Err(reject(
            RejectionCode::NotConfigured,
            "year",
            year,
            "not an academic year of the configured calendar",
        ));
    }
    Ok(())
}
