//! Deciding commands about support requests: raise (a configured need that
//! fits the school's phase, configured titles, days only in half-terms not
//! yet ended), amend an open request, withdraw, close with the receiving
//! school's impact rating.

use bridges_schemas::commands::{
    AmendRequest, CloseRequest, RaiseRequest, Rejection, RejectionCode, WithdrawRequest,
};
use bridges_schemas::events::{
    DaysPerPeriod, DomainEvent, RequestAmended, RequestClosed, RequestWithdrawn, SupportRequested,
};
use bridges_schemas::{Designation, RequestId};

use super::state::{Request, RequestStatus};
use super::{Context, State, check_days, check_id, check_need, check_text, check_title, reject};

/// Longest request id (assignment ids are derived from it).
pub const MAX_REQUEST_ID: usize = 48;

/// Raise a request.
pub fn raise(
    state: &State,
    c: &RaiseRequest,
    ctx: &Context<'_>,
) -> Result<Vec<DomainEvent>, Rejection> {
    check_id("request", c.request.as_str(), MAX_REQUEST_ID)?;
    if state.requests.contains_key(&c.request) {
        return Err(reject(
            RejectionCode::Duplicate,
            "request",
            &c.request,
            "this request id is taken",
        ));
    }
    let school = super::school::open(state, "urn", c.urn)?;
    check_need(ctx.rules, &c.need, Some(school.phase))?;
    check_designations(ctx, &c.designations)?;
    check_days(ctx.rules, "days", &c.days, ctx.today(), false)?;
    check_purchase_order(&c.purchase_order)?;
    Ok(vec![DomainEvent::SupportRequested(SupportRequested {
        request: c.request.clone(),
        urn: c.urn,
        need: c.need.clone(),
        designations: c.designations.clone(),
        tier: c.tier,
        days: c.days.clone(),
        funding: c.funding,
        purchase_order: c.purchase_order.clone(),
    })])
}

/// Amend an open request; nothing when nothing changed. Days are never cut
/// below what proposals and accepted assignments hold.
pub fn amend(
    state: &State,
    c: &AmendRequest,
    ctx: &Context<'_>,
) -> Result<Vec<DomainEvent>, Rejection> {
    let r = open(state, &c.request)?;
    let school = state.schools.get(&r.urn);
    let need = c.need.clone().unwrap_or_else(|| r.need.clone());
    let designations = c.designations.clone().unwrap_or_else(|| r.designations.clone());
    let tier = c.tier.unwrap_or(r.tier);
    let funding = c.funding.unwrap_or(r.funding);
    let purchase_order = c.purchase_order.clone().or_else(|| r.purchase_order.clone());
    let mut days = r.days.clone();
    if let Some(new) = &c.days {
        // Only half-terms that have not ended may change: a past one may be
        // restated as it is (a whole map sent back), never changed, to zero
        // neither (that would rewrite what was asked for then).
        let today = ctx.today();
        let mut open_days = DaysPerPeriod::new();
        for (period, d) in new {
            let was = r.days.get(period).copied().unwrap_or(0);
            if ctx.rules.calendar.half_term(period).is_some()
                && ctx.rules.calendar.has_ended(period, today)
            {
                if *d != was {
                    return Err(reject(
                        RejectionCode::PeriodEnded,
                        &format!("days.{period}"),
                        d,
                        format!("{period} ended before {today}; its days stay {was}"),
                    ));
                }
            } else {
                open_days.insert(period.clone(), *d);
            }
        }
        if new.is_empty() || !open_days.is_empty() {
            check_days(ctx.rules, "days", &open_days, today, true)?;
        }
        for (period, d) in &open_days {
            let held: u32 = state
                .assignments_of(&r.id)
                .filter(|a| a.holds_days())
                .map(|a| a.days.get(period).copied().unwrap_or(0))
                .sum();
            if *d < held {
                return Err(reject(
                    RejectionCode::BelowAccepted,
                    &format!("days.{period}"),
                    d,
                    format!("{held} days are already proposed or accepted in {period}"),
                ));
            }
            if *d == 0 {
                days.remove(period);
            } else {
                days.insert(period.clone(), *d);
            }
        }
        if days.is_empty() {
            return Err(reject(
                RejectionCode::Invalid,
                "days",
                "{}",
                "a request keeps at least one day; withdraw it instead",
            ));
        }
    }
    if c.need.is_some() {
        check_need(ctx.rules, &need, school.map(|s| s.phase))?;
    }
    if c.designations.is_some() {
        check_designations(ctx, &designations)?;
    }
    check_purchase_order(&purchase_order)?;
    let mut changed = Vec::new();
    for (name, differs) in [
        ("need", need != r.need),
        ("designations", designations != r.designations),
        ("tier", tier != r.tier),
        ("days", days != r.days),
        ("funding", funding != r.funding),
        ("purchase_order", purchase_order != r.purchase_order),
    ] {
        if differs {
            changed.push(name.to_owned());
        }
    }
    if changed.is_empty() {
        return Ok(Vec::new());
    }
    Ok(vec![DomainEvent::RequestAmended(RequestAmended {
        request: c.request.clone(),
        need,
        designations,
        tier,
        days,
        funding,
        purchase_order,
        changed,
    })])
}

/// Withdraw an open request.
pub fn withdraw(state: &State, c: &WithdrawRequest) -> Result<Vec<DomainEvent>, Rejection> {
    open(state, &c.request)?;
    check_text("reason", &c.reason, 500)?;
    Ok(vec![DomainEvent::RequestWithdrawn(RequestWithdrawn {
        request: c.request.clone(),
        reason: c.reason.clone(),
    })])
}

/// Close an open request with its impact rating (the note sealed under the
/// request's own key).
pub fn close(
    state: &State,
    c: &CloseRequest,
    ctx: &Context<'_>,
) -> Result<Vec<DomainEvent>, Rejection> {
    open(state, &c.request)?;
    let note = super::seal_note(ctx, "note", &super::request_key(&c.request), &c.note)?;
    Ok(vec![DomainEvent::RequestClosed(RequestClosed {
        request: c.request.clone(),
        impact: c.impact,
        note,
    })])
}

/// A raised request.
pub(crate) fn known<'s>(state: &'s State, id: &RequestId) -> Result<&'s Request, Rejection> {
    state
        .requests
        .get(id)
        .ok_or_else(|| reject(RejectionCode::UnknownRequest, "request", id, "no such request"))
}

/// A raised request that is neither withdrawn nor closed.
pub(crate) fn open<'s>(state: &'s State, id: &RequestId) -> Result<&'s Request, Rejection> {
    let r = known(state, id)?;
    match r.status {
        RequestStatus::Open => Ok(r),
        RequestStatus::Withdrawn => {
            Err(reject(RejectionCode::Withdrawn, "request", id, "this request was withdrawn"))
        }
        RequestStatus::Closed(_) => {
            Err(reject(RejectionCode::WrongState, "request", id, "this request is closed"))
        }
    }
}

fn check_designations(ctx: &Context<'_>, designations: &[Designation]) -> Result<(), Rejection> {
    if designations.is_empty() {
        return Err(reject(RejectionCode::Invalid, "designations", "[]", "at least one title"));
    }
    for (i, d) in designations.iter().enumerate() {
        check_title(ctx.rules, &format!("designations[{i}]"), d)?;
    }
    Ok(())
}

fn check_purchase_order(po: &Option<String>) -> Result<(), Rejection> {
    if let Some(po) = po {
        check_text("purchase_order", po, 40)?;
    }
    Ok(())
}
