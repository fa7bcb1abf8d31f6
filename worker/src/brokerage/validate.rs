//! Validation of a brokerage problem before anything is solved: unknown
//! references, duplicates, bad numbers and periods not listed. The first
//! problem found is returned as an [`InvalidProblem`] naming the JSON path of
//! the field, its value and why it is refused.
//!
//! It does not judge feasibility (pins that break a rule are a plan with
//! `status: "infeasible"`, not bad input).

use std::collections::BTreeSet;

use bridges_schemas::brokerage::{BrokerageProblem, DaysByPeriod};

use crate::common::InvalidProblem;

/// Checks every reference, id and number of `problem`.
pub fn validate(problem: &BrokerageProblem) -> Result<(), InvalidProblem> {
    let mut periods = BTreeSet::new();
    for (i, period) in problem.periods.iter().enumerate() {
        if period.0.trim().is_empty() {
            return Err(InvalidProblem::new(format!("periods[{i}]"), "\"\"", "empty period label"));
        }
        if !periods.insert(period.as_str()) {
            return Err(InvalidProblem::new(format!("periods[{i}]"), period, "duplicate period"));
        }
    }

    let mut urns = BTreeSet::new();
    for (i, school) in problem.schools.iter().enumerate() {
        if !urns.insert(school.urn) {
            return Err(InvalidProblem::new(
                format!("schools[{i}].urn"),
                school.urn,
                "duplicate school urn",
            ));
        }
        finite(&format!("schools[{i}].easting"), school.easting)?;
        finite(&format!("schools[{i}].northing"), school.northing)?;
    }

    let mut practitioners = BTreeSet::new();
    for (i, p) in problem.practitioners.iter().enumerate() {
        let at = format!("practitioners[{i}]");
        if !practitioners.insert(p.id.as_str()) {
            return Err(InvalidProblem::new(
                format!("{at}.id"),
                &p.id,
                "duplicate practitioner id",
            ));
        }
        if !urns.contains(&p.home_urn) {
            return Err(InvalidProblem::new(
                format!("{at}.home_urn"),
                p.home_urn,
                "no school with this urn",
            ));
        }
        non_negative(&format!("{at}.day_rate"), p.day_rate)?;
        days(&format!("{at}.capacity"), &p.capacity, &periods)?;
        if let Some(max) = p.max_days {
            whole_days(&format!("{at}.max_days"), max)?;
        }
    }

    let mut requests = BTreeSet::new();
    for (i, r) in problem.requests.iter().enumerate() {
        let at = format!("requests[{i}]");
        if !requests.insert(r.id.as_str()) {
            return Err(InvalidProblem::new(format!("{at}.id"), &r.id, "duplicate request id"));
        }
        if !urns.contains(&r.urn) {
            return Err(InvalidProblem::new(format!("{at}.urn"), r.urn, "no school with this urn"));
        }
        if !(1..=4).contains(&r.priority) {
            return Err(InvalidProblem::new(
                format!("{at}.priority"),
                r.priority,
                "priority must be 1 (most urgent) to 4",
            ));
        }
        days(&format!("{at}.days"), &r.days, &periods)?;
        if let Some(prev) = &r.previous_practitioner
            && !practitioners.contains(prev.as_str())
        {
            return Err(InvalidProblem::new(
                format!("{at}.previous_practitioner"),
                prev,
                "no practitioner with this id",
            ));
        }
    }

    for (i, c) in problem.conflicts.iter().enumerate() {
        if !practitioners.contains(c.practitioner.as_str()) {
            return Err(InvalidProblem::new(
                format!("conflicts[{i}].practitioner"),
                &c.practitioner,
                "no practitioner with this id",
            ));
        }
        if !urns.contains(&c.urn) {
            return Err(InvalidProblem::new(
                format!("conflicts[{i}].urn"),
                c.urn,
                "no school with this urn",
            ));
        }
    }

    for (i, pin) in problem.pinned.iter().enumerate() {
        if !requests.contains(pin.request.as_str()) {
            return Err(InvalidProblem::new(
                format!("pinned[{i}].request"),
                &pin.request,
                "no request with this id",
            ));
        }
        if !practitioners.contains(pin.practitioner.as_str()) {
            return Err(InvalidProblem::new(
                format!("pinned[{i}].practitioner"),
                &pin.practitioner,
                "no practitioner with this id",
            ));
        }
        days(&format!("pinned[{i}].days"), &pin.days, &periods)?;
    }

    if let Some(km) = problem.policy.max_distance_km {
        non_negative("policy.max_distance_km", km)?;
    }
    if let Some(budget) = problem.policy.budget {
        non_negative("policy.budget", budget)?;
    }
    Ok(())
}

/// A map of days: every period listed in `periods`, every value whole and >= 0.
fn days(at: &str, days: &DaysByPeriod, periods: &BTreeSet<&str>) -> Result<(), InvalidProblem> {
    for (period, &value) in days {
        let field = format!("{at}.{period}");
        if !periods.contains(period.as_str()) {
            return Err(InvalidProblem::new(field, period, "period not listed in `periods`"));
        }
        whole_days(&field, value)?;
    }
    Ok(())
}

/// Days are whole, finite and not negative (and small enough to count in u32).
fn whole_days(field: &str, value: f64) -> Result<(), InvalidProblem> {
    non_negative(field, value)?;
    if value.fract() != 0.0 {
        return Err(InvalidProblem::new(field, value, "days must be whole"));
    }
    if value > MAX_DAYS {
        return Err(InvalidProblem::new(field, value, "more days than a plan can hold"));
    }
    Ok(())
}

/// Far more days than any year holds; keeps the arithmetic in u32 exact.
const MAX_DAYS: f64 = 100_000.0;

fn non_negative(field: &str, value: f64) -> Result<(), InvalidProblem> {
    finite(field, value)?;
    if value < 0.0 {
        return Err(InvalidProblem::new(field, value, "must not be negative"));
    }
    Ok(())
}

fn finite(field: &str, value: f64) -> Result<(), InvalidProblem> {
    if value.is_finite() {
        Ok(())
    } else {
        Err(InvalidProblem::new(field, value, "must be a finite number"))
    }
}
