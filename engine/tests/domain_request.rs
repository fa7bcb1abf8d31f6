//! Given / when / then rows for the request commands: raise, amend,
//! withdraw, close with an impact rating; each happy path with its exact
//! events and each rejection by code and field.

mod common;

use bridges_schemas::Urn;
use bridges_schemas::commands::*;
use bridges_schemas::events::*;
use bridges_schemas::vocab::{FundingSource, ImpactRating, TierChoice};
use common::domain::*;

fn raise(id: &str) -> RaiseRequest {
    RaiseRequest {
        request: rid(id),
        urn: Urn(100004),
        need: need("maths"),
        designations: vec![title("SLE")],
        tier: TierChoice::Follow,
        days: days(&[("2026-AU1", 2)]),
        funding: FundingSource::SchoolPaid,
        purchase_order: Some("PO-123".into()),
    }
}

fn amend(id: &str) -> AmendRequest {
    AmendRequest {
        request: rid(id),
        need: None,
        designations: None,
        tier: None,
        days: None,
        funding: None,
        purchase_order: None,
    }
}

fn withdrawn(id: &str) -> DomainEvent {
    DomainEvent::RequestWithdrawn(RequestWithdrawn {
        request: rid(id),
        reason: "found help".into(),
    })
}

fn closed_request(id: &str) -> DomainEvent {
    DomainEvent::RequestClosed(RequestClosed {
        request: rid(id),
        impact: ImpactRating::Moderate,
        note: None,
    })
}

// --- raise -------------------------------------------------------------------

#[test]
fn raise_request_records_its_terms() {
    given(la()).when(Command::RaiseRequest(raise("req-9"))).then_events(vec![
        DomainEvent::SupportRequested(SupportRequested {
            request: rid("req-9"),
            urn: Urn(100004),
            need: need("maths"),
            designations: vec![title("SLE")],
            tier: TierChoice::Follow,
            days: days(&[("2026-AU1", 2)]),
            funding: FundingSource::SchoolPaid,
            purchase_order: Some("PO-123".into()),
        }),
    ]);
}

#[test]
fn raise_request_refuses_a_bad_or_taken_id() {
    given(la())
        .when(Command::RaiseRequest(raise("req 9")))
        .then_rejected(RejectionCode::Invalid, "request");
    let long = "r".repeat(49);
    given(la())
        .when(Command::RaiseRequest(raise(&long)))
        .then_rejected(RejectionCode::Invalid, "request");
    given(la())
        .when(Command::RaiseRequest(raise("req-1")))
        .then_rejected(RejectionCode::Duplicate, "request");
}

#[test]
fn raise_request_refuses_an_unknown_or_closed_school() {
    let c = RaiseRequest { urn: Urn(100777), ..raise("req-9") };
    given(la()).when(Command::RaiseRequest(c)).then_rejected(RejectionCode::UnknownSchool, "urn");
    let c = RaiseRequest { urn: Urn(100009), ..raise("req-9") };
    given(la()).when(Command::RaiseRequest(c)).then_rejected(RejectionCode::SchoolClosed, "urn");
}

#[test]
fn raise_request_refuses_a_need_not_configured_or_not_fitting_the_phase() {
    let c = RaiseRequest { need: need("cooking"), ..raise("req-9") };
    given(la()).when(Command::RaiseRequest(c)).then_rejected(RejectionCode::NotConfigured, "need");
    // No post-16 in a primary school.
    let c = RaiseRequest { need: need("post-16"), ..raise("req-9") };
    given(la()).when(Command::RaiseRequest(c)).then_rejected(RejectionCode::PhaseMismatch, "need");
    let c = RaiseRequest { need: need("post-16"), urn: Urn(100003), ..raise("req-9") };
    given(la()).when(Command::RaiseRequest(c)).then_ok();
}

#[test]
fn raise_request_refuses_no_title_or_one_not_configured() {
    let c = RaiseRequest { designations: vec![], ..raise("req-9") };
    given(la())
        .when(Command::RaiseRequest(c))
        .then_rejected(RejectionCode::Invalid, "designations");
    let c = RaiseRequest { designations: vec![title("SLE"), title("Guru")], ..raise("req-9") };
    given(la())
        .when(Command::RaiseRequest(c))
        .then_rejected(RejectionCode::NotConfigured, "designations[1]");
}

#[test]
fn raise_request_refuses_bad_days() {
    let with = |d: &[(&str, u32)]| RaiseRequest { days: days(d), ..raise("req-9") };
    given(la())
        .when(Command::RaiseRequest(with(&[])))
        .then_rejected(RejectionCode::Invalid, "days");
    given(la())
        .when(Command::RaiseRequest(with(&[("2031-AU1", 1)])))
        .then_rejected(RejectionCode::NotConfigured, "days.2031-AU1");
    given(la())
        .when(Command::RaiseRequest(with(&[("2026-AU1", 0)])))
        .then_rejected(RejectionCode::Invalid, "days.2026-AU1");
    given(la())
        .when(Command::RaiseRequest(with(&[("2026-AU1", 61)])))
        .then_rejected(RejectionCode::Invalid, "days.2026-AU1");
}

#[test]
fn raise_request_refuses_days_in_a_half_term_already_past() {
    let c = RaiseRequest { days: days(&[("2026-AU1", 1), ("2026-AU2", 2)]), ..raise("req-9") };
    given(la())
        .at("2026-10-24T09:00:00Z")
        .when(Command::RaiseRequest(c.clone()))
        .then_rejected(RejectionCode::PeriodEnded, "days.2026-AU1");
    // Its last day still counts.
    given(la()).at("2026-10-23T17:00:00Z").when(Command::RaiseRequest(c)).then_ok();
}

#[test]
fn raise_request_refuses_an_empty_purchase_order() {
    let c = RaiseRequest { purchase_order: Some("".into()), ..raise("req-9") };
    given(la())
        .when(Command::RaiseRequest(c))
        .then_rejected(RejectionCode::Invalid, "purchase_order");
}

// --- amend -------------------------------------------------------------------

#[test]
fn amend_request_records_the_whole_terms_and_what_changed() {
    let c = AmendRequest {
        tier: Some(TierChoice::Tier1),
        days: Some(days(&[("2026-AU2", 2), ("2027-SP1", 1)])),
        ..amend("req-1")
    };
    given(la()).when(Command::AmendRequest(c)).then_events(vec![DomainEvent::RequestAmended(
        RequestAmended {
            request: rid("req-1"),
            need: need("maths"),
            designations: vec![title("SLE"), title("LLE"), title("NLE")],
            tier: TierChoice::Tier1,
            days: days(&[("2026-AU1", 2), ("2026-AU2", 2), ("2027-SP1", 1)]),
            funding: FundingSource::LaCore,
            purchase_order: None,
            changed: vec!["tier".into(), "days".into()],
        },
    )]);
}

#[test]
fn amend_request_with_the_same_terms_changes_nothing() {
    let c = AmendRequest {
        need: Some(need("maths")),
        days: Some(days(&[("2026-AU1", 2)])),
        ..amend("req-1")
    };
    given(la()).when(Command::AmendRequest(c)).then_unchanged();
}

#[test]
fn amend_request_refuses_unknown_withdrawn_and_closed_requests() {
    let c = AmendRequest { tier: Some(TierChoice::Tier1), ..amend("req-9") };
    given(la())
        .when(Command::AmendRequest(c))
        .then_rejected(RejectionCode::UnknownRequest, "request");
    let c = AmendRequest { tier: Some(TierChoice::Tier1), ..amend("req-1") };
    given(la())
        .and_at(T0, [withdrawn("req-1")])
        .when(Command::AmendRequest(c.clone()))
        .then_rejected(RejectionCode::Withdrawn, "request");
    given(la())
        .and_at(T0, [closed_request("req-1")])
        .when(Command::AmendRequest(c))
        .then_rejected(RejectionCode::WrongState, "request");
}

#[test]
fn amend_request_refuses_days_below_those_proposed_or_accepted() {
    let c = AmendRequest { days: Some(days(&[("2026-AU1", 1)])), ..amend("req-1") };
    given(la_proposed())
        .when(Command::AmendRequest(c.clone()))
        .then_rejected(RejectionCode::BelowAccepted, "days.2026-AU1");
    given(la_accepted())
        .when(Command::AmendRequest(c))
        .then_rejected(RejectionCode::BelowAccepted, "days.2026-AU1");
}

#[test]
fn amend_request_keeps_at_least_one_day() {
    let c =
        AmendRequest { days: Some(days(&[("2026-AU1", 0), ("2026-AU2", 0)])), ..amend("req-1") };
    given(la()).when(Command::AmendRequest(c)).then_rejected(RejectionCode::Invalid, "days");
}

#[test]
fn amend_request_checks_a_new_need_and_new_titles() {
    let c = AmendRequest { need: Some(need("post-16")), ..amend("req-1") };
    given(la()).when(Command::AmendRequest(c)).then_rejected(RejectionCode::PhaseMismatch, "need");
    let c = AmendRequest { need: Some(need("cooking")), ..amend("req-1") };
    given(la()).when(Command::AmendRequest(c)).then_rejected(RejectionCode::NotConfigured, "need");
    let c = AmendRequest { designations: Some(vec![]), ..amend("req-1") };
    given(la())
        .when(Command::AmendRequest(c))
        .then_rejected(RejectionCode::Invalid, "designations");
}

/// Found in review: an amendment could cut the days of a half-term already
/// past to zero (rewriting what was asked for then), while restating a past
/// half-term's days unchanged beside a real change was refused.
#[test]
fn amend_request_changes_no_half_term_already_past() {
    let c = AmendRequest { days: Some(days(&[("2026-AU1", 0)])), ..amend("req-1") };
    given(la())
        .at("2026-11-02T09:00:00Z")
        .when(Command::AmendRequest(c))
        .then_rejected(RejectionCode::PeriodEnded, "days.2026-AU1");
    let c =
        AmendRequest { days: Some(days(&[("2026-AU1", 2), ("2026-AU2", 3)])), ..amend("req-1") };
    let events = given(la()).at("2026-11-02T09:00:00Z").when(Command::AmendRequest(c)).then_ok();
    assert!(matches!(&events[..], [DomainEvent::RequestAmended(e)]
        if e.days == days(&[("2026-AU1", 2), ("2026-AU2", 3)])));
}

// --- withdraw, close --------------------------------------------------------------

#[test]
fn withdraw_request_records_the_reason() {
    let c = WithdrawRequest { request: rid("req-1"), reason: "found help".into() };
    let state =
        given(la()).when(Command::WithdrawRequest(c.clone())).then_events(vec![withdrawn("req-1")]);
    assert_eq!(
        state.requests[&rid("req-1")].status,
        bridges_engine::domain::state::RequestStatus::Withdrawn
    );
    given(la())
        .and_at(T0, [withdrawn("req-1")])
        .when(Command::WithdrawRequest(c))
        .then_rejected(RejectionCode::Withdrawn, "request");
    let c = WithdrawRequest { request: rid("req-1"), reason: "\t".into() };
    given(la()).when(Command::WithdrawRequest(c)).then_rejected(RejectionCode::Invalid, "reason");
    let c = WithdrawRequest { request: rid("req-9"), reason: "x".into() };
    given(la())
        .when(Command::WithdrawRequest(c))
        .then_rejected(RejectionCode::UnknownRequest, "request");
}

#[test]
fn close_request_seals_the_schools_note_under_the_requests_key() {
    let c = CloseRequest {
        request: rid("req-1"),
        impact: ImpactRating::Significant,
        note: Some("maths results up".into()),
    };
    given(la()).when(Command::CloseRequest(c)).then_events(vec![DomainEvent::RequestClosed(
        RequestClosed {
            request: rid("req-1"),
            impact: ImpactRating::Significant,
            note: Some(sealed("request-req-1", "maths results up")),
        },
    )]);
}

#[test]
fn close_request_refuses_a_closed_or_unknown_request() {
    let c = CloseRequest { request: rid("req-1"), impact: ImpactRating::None, note: None };
    given(la())
        .and_at(T0, [closed_request("req-1")])
        .when(Command::CloseRequest(c.clone()))
        .then_rejected(RejectionCode::WrongState, "request");
    let c = CloseRequest { request: rid("req-9"), ..c };
    given(la())
        .when(Command::CloseRequest(c))
        .then_rejected(RejectionCode::UnknownRequest, "request");
}

#[test]
fn close_request_refuses_a_note_once_its_key_is_gone() {
    let c = CloseRequest {
        request: rid("req-1"),
        impact: ImpactRating::Limited,
        note: Some("x".into()),
    };
    given(la())
        .erased("request-req-1")
        .when(Command::CloseRequest(c))
        .then_rejected(RejectionCode::PersonalDataErased, "note");
}
