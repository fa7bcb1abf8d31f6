//! Validation of a triads problem before anything is built: duplicate or
//! unknown URNs, period names outside the contract's id set, non-finite
//! coordinates, negative limits, a school with both an `ofsted` grade and an
//! `inspection` (the framework's words are checked as the document is read). It
//! refuses with the first problem found; it does not judge whether a plan is
//! possible (an unplaceable school is a plan with a reason, not an error).

use std::collections::BTreeSet;

use bridges_schemas::common::check_id;
use bridges_schemas::triads::TriadsProblem;

use crate::common::InvalidProblem;

/// The fewest periods a round needs: in a triad each school hosts once, and a
/// school reviews at most once per period, so the three hosts need three periods.
pub const MIN_PERIODS: usize = 3;

/// Checks the problem; the error names the field (a JSON path), the value and why.
pub fn validate(problem: &TriadsProblem) -> Result<(), InvalidProblem> {
    check_periods(problem)?;
    check_schools(problem)?;
    let known: BTreeSet<u32> = problem.schools.iter().map(|s| s.urn.0).collect();
    check_groups("history", &problem.history, &known)?;
    check_groups("partnerships", &problem.partnerships, &known)?;
    check_policy(problem)
}

fn check_periods(problem: &TriadsProblem) -> Result<(), InvalidProblem> {
    if problem.periods.len() < MIN_PERIODS {
        let shown: Vec<&str> = problem.periods.iter().map(|p| p.as_str()).collect();
        return Err(InvalidProblem::new(
            "periods",
            format!("{shown:?}"),
            format!(
                "a round needs at least {MIN_PERIODS} periods: each school of a triad hosts \
                 once and reviews at most once per period"
            ),
        ));
    }
    let mut seen = BTreeSet::new();
    for (i, period) in problem.periods.iter().enumerate() {
        check_id(period.as_str()).map_err(|why| {
            InvalidProblem::new(format!("periods[{i}]"), format!("{:?}", period.as_str()), why)
        })?;
        if !seen.insert(period.as_str()) {
            return Err(InvalidProblem::new(
                format!("periods[{i}]"),
                period,
                "duplicate period label",
            ));
        }
    }
    Ok(())
}

fn check_schools(problem: &TriadsProblem) -> Result<(), InvalidProblem> {
    let mut seen = BTreeSet::new();
    for (i, school) in problem.schools.iter().enumerate() {
        if !seen.insert(school.urn.0) {
            return Err(InvalidProblem::new(
                format!("schools[{i}].urn"),
                school.urn,
                "duplicate URN",
            ));
        }
        for (name, value) in [("easting", school.easting), ("northing", school.northing)] {
            if !value.is_finite() {
                return Err(InvalidProblem::new(
                    format!("schools[{i}].{name}"),
                    value,
                    "coordinate must be a finite British National Grid value",
                ));
            }
        }
        if let Some(p) = school.pupils
            && (!p.is_finite() || p < 0.0)
        {
            return Err(InvalidProblem::new(
                format!("schools[{i}].pupils"),
                p,
                "pupils must be a non-negative number",
            ));
        }
        if let Some(d) = school.disadvantaged
            && (!d.is_finite() || !(0.0..=1.0).contains(&d))
        {
            return Err(InvalidProblem::new(
                format!("schools[{i}].disadvantaged"),
                d,
                "disadvantaged is a share between 0 and 1",
            ));
        }
        if let (Some(grade), Some(_)) = (school.ofsted, &school.inspection) {
            return Err(InvalidProblem::new(
                format!("schools[{i}].inspection"),
                format!("given with ofsted {grade:?}"),
                "a school carries either `ofsted` (before September 2024) or `inspection`, not both",
            ));
        }
        if let Some(t) = &school.trust
            && t.trim().is_empty()
        {
            return Err(InvalidProblem::new(
                format!("schools[{i}].trust"),
                "\"\"",
                "an unknown trust is null, not an empty name",
            ));
        }
    }
    Ok(())
}

fn check_groups(
    field: &str,
    groups: &[Vec<bridges_schemas::Urn>],
    known: &BTreeSet<u32>,
) -> Result<(), InvalidProblem> {
    for (g, group) in groups.iter().enumerate() {
        let mut seen = BTreeSet::new();
        for (k, urn) in group.iter().enumerate() {
            if !known.contains(&urn.0) {
                return Err(InvalidProblem::new(
                    format!("{field}[{g}][{k}]"),
                    urn,
                    "unknown URN: not among schools",
                ));
            }
            if !seen.insert(urn.0) {
                return Err(InvalidProblem::new(
                    format!("{field}[{g}][{k}]"),
                    urn,
                    "URN listed twice in one group",
                ));
            }
        }
    }
    Ok(())
}

fn check_policy(problem: &TriadsProblem) -> Result<(), InvalidProblem> {
    if let Some(d) = problem.policy.max_distance_km
        && (!d.is_finite() || d < 0.0)
    {
        return Err(InvalidProblem::new(
            "policy.max_distance_km",
            d,
            "distance limit must be a non-negative number of kilometres",
        ));
    }
    Ok(())
}
