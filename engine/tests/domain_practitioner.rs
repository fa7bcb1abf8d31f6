//! Given / when / then rows for the practitioner commands: designate,
//! change, declare availability, record leave, declare and withdraw a
//! conflict, withdraw, erase; each happy path with its exact events and each
//! rejection by code and field.

mod common;

use bridges_schemas::Phase::*;
use bridges_schemas::Urn;
use bridges_schemas::commands::*;
use bridges_schemas::events::*;
use bridges_schemas::vocab::{ConflictId, ConflictKind, ConflictTarget};
use common::domain::*;

fn designate(id: &str) -> DesignatePractitioner {
    DesignatePractitioner {
        practitioner: pid(id),
        title: title("Senior Practitioner"),
        home_urn: Urn(100004),
        specialisms: vec![need("maths")],
        phases: vec![Primary],
        day_rate: None,
        name: "Ada Lovelace".into(),
        email: Some("ada@example.org".into()),
        phone: Some("020 7946 0000".into()),
    }
}

/// sle-1's record as `la()` has it.
fn change_sle1() -> ChangePractitioner {
    ChangePractitioner {
        practitioner: pid("sle-1"),
        title: title("SLE"),
        home_urn: Urn(100003),
        specialisms: vec![need("maths"), need("english")],
        phases: vec![Primary, Secondary],
        day_rate: Some(350),
        name: name_of("sle-1"),
        email: None,
        phone: None,
    }
}

fn availability(id: &str, capacity: &[(&str, u32)], max_days: Option<u32>) -> Command {
    Command::DeclareAvailability(DeclareAvailability {
        practitioner: pid(id),
        capacity: days(capacity),
        max_days,
    })
}

fn conflict(urn: Option<u32>, trust: Option<&str>) -> DeclareConflict {
    DeclareConflict {
        practitioner: pid("sle-1"),
        urn: urn.map(Urn),
        trust: trust.map(str::to_owned),
        kind: ConflictKind::Governor,
        valid_from: Some(d("2026-09-01")),
        valid_to: Some(d("2027-08-31")),
    }
}

fn withdrawn(id: &str) -> DomainEvent {
    DomainEvent::PractitionerWithdrawn(PractitionerWithdrawn {
        practitioner: pid(id),
        reason: "retired".into(),
    })
}

fn erased(id: &str) -> DomainEvent {
    DomainEvent::PersonalDataErased(PersonalDataErased { practitioner: pid(id) })
}

// --- designate ---------------------------------------------------------------

#[test]
fn designate_practitioner_seals_the_personal_details_and_takes_the_titles_rate() {
    given(la()).when(Command::DesignatePractitioner(designate("sp-1"))).then_events(vec![
        DomainEvent::PractitionerDesignated(PractitionerDesignated {
            practitioner: pid("sp-1"),
            title: title("Senior Practitioner"),
            home_urn: Urn(100004),
            specialisms: vec![need("maths")],
            phases: vec![Primary],
            day_rate: 400,
            personal: Some(personal(
                "sp-1",
                "Ada Lovelace",
                Some("ada@example.org"),
                Some("020 7946 0000"),
            )),
        }),
    ]);
}

#[test]
fn designate_practitioner_refuses_an_id_that_cannot_stand_in_a_subject() {
    given(la())
        .when(Command::DesignatePractitioner(designate("sp 1")))
        .then_rejected(RejectionCode::Invalid, "practitioner");
}

#[test]
fn designate_practitioner_refuses_a_designated_id() {
    given(la())
        .when(Command::DesignatePractitioner(designate("sle-1")))
        .then_rejected(RejectionCode::Duplicate, "practitioner");
}

#[test]
fn designate_practitioner_refuses_a_title_not_configured() {
    let c = DesignatePractitioner { title: title("Consultant"), ..designate("sp-1") };
    given(la())
        .when(Command::DesignatePractitioner(c))
        .then_rejected(RejectionCode::NotConfigured, "title");
}

#[test]
fn designate_practitioner_refuses_an_unknown_or_closed_home_school() {
    let c = DesignatePractitioner { home_urn: Urn(100777), ..designate("sp-1") };
    given(la())
        .when(Command::DesignatePractitioner(c))
        .then_rejected(RejectionCode::UnknownSchool, "home_urn");
    let c = DesignatePractitioner { home_urn: Urn(100009), ..designate("sp-1") };
    given(la())
        .when(Command::DesignatePractitioner(c))
        .then_rejected(RejectionCode::SchoolClosed, "home_urn");
}

#[test]
fn designate_practitioner_refuses_no_specialism_or_one_not_configured() {
    let c = DesignatePractitioner { specialisms: vec![], ..designate("sp-1") };
    given(la())
        .when(Command::DesignatePractitioner(c))
        .then_rejected(RejectionCode::Invalid, "specialisms");
    let c = DesignatePractitioner {
        specialisms: vec![need("maths"), need("cooking")],
        ..designate("sp-1")
    };
    given(la())
        .when(Command::DesignatePractitioner(c))
        .then_rejected(RejectionCode::NotConfigured, "specialisms[1]");
}

#[test]
fn designate_practitioner_refuses_no_phase_and_an_absurd_day_rate() {
    let c = DesignatePractitioner { phases: vec![], ..designate("sp-1") };
    given(la())
        .when(Command::DesignatePractitioner(c))
        .then_rejected(RejectionCode::Invalid, "phases");
    let c = DesignatePractitioner { day_rate: Some(20), ..designate("sp-1") };
    given(la())
        .when(Command::DesignatePractitioner(c))
        .then_rejected(RejectionCode::Invalid, "day_rate");
}

#[test]
fn designate_practitioner_refuses_a_bad_name_email_or_phone() {
    let c = DesignatePractitioner { name: " ".into(), ..designate("sp-1") };
    given(la())
        .when(Command::DesignatePractitioner(c))
        .then_rejected(RejectionCode::Invalid, "name");
    let c = DesignatePractitioner { email: Some("ada at home".into()), ..designate("sp-1") };
    given(la())
        .when(Command::DesignatePractitioner(c))
        .then_rejected(RejectionCode::Invalid, "email");
    let c = DesignatePractitioner { phone: Some("call me".into()), ..designate("sp-1") };
    given(la())
        .when(Command::DesignatePractitioner(c))
        .then_rejected(RejectionCode::Invalid, "phone");
}

/// Found in review: a name refused for its length or a control character
/// was echoed back in the rejection (personal data in a reply that shells
/// print and log); email and phone already said "(not shown)".
#[test]
fn a_refused_name_is_not_echoed_in_the_rejection() {
    let name = format!("Ada\u{7}Lovelace{}", "e".repeat(130));
    let c = DesignatePractitioner { name: name.clone(), ..designate("sp-1") };
    let r = given(la())
        .when(Command::DesignatePractitioner(c))
        .then_rejected(RejectionCode::Invalid, "name");
    assert!(!r.value.contains("Lovelace") && !r.reason.contains("Lovelace"), "{r:?}");
    let c = DesignatePractitioner { name: "Ada Lovelace".repeat(20), ..designate("sp-1") };
    let r = given(la())
        .when(Command::DesignatePractitioner(c))
        .then_rejected(RejectionCode::Invalid, "name");
    assert!(!r.value.contains("Lovelace"), "{r:?}");
}

// --- change ------------------------------------------------------------------

#[test]
fn change_practitioner_records_the_whole_record_and_what_changed() {
    let c = ChangePractitioner {
        specialisms: vec![need("maths")],
        day_rate: Some(380),
        ..change_sle1()
    };
    given(la()).when(Command::ChangePractitioner(c)).then_events(vec![
        DomainEvent::PractitionerChanged(PractitionerChanged {
            practitioner: pid("sle-1"),
            title: title("SLE"),
            home_urn: Urn(100003),
            specialisms: vec![need("maths")],
            phases: vec![Primary, Secondary],
            day_rate: 380,
            personal: Some(personal("sle-1", &name_of("sle-1"), None, None)),
            changed: vec!["specialisms".into(), "day_rate".into()],
        }),
    ]);
}

#[test]
fn change_practitioner_compares_the_sealed_details() {
    given(la()).when(Command::ChangePractitioner(change_sle1())).then_unchanged();
    let c = ChangePractitioner { email: Some("sle1@example.org".into()), ..change_sle1() };
    let events = given(la()).when(Command::ChangePractitioner(c)).then_ok();
    assert!(
        matches!(&events[..], [DomainEvent::PractitionerChanged(e)] if e.changed == ["personal"]),
        "{events:?}"
    );
}

#[test]
fn change_practitioner_refuses_unknown_withdrawn_and_erased_practitioners() {
    let c = ChangePractitioner { practitioner: pid("sle-99"), ..change_sle1() };
    given(la())
        .when(Command::ChangePractitioner(c))
        .then_rejected(RejectionCode::UnknownPractitioner, "practitioner");
    given(la())
        .and_at(T0, [withdrawn("sle-1")])
        .when(Command::ChangePractitioner(change_sle1()))
        .then_rejected(RejectionCode::PractitionerWithdrawn, "practitioner");
    given(la())
        .and_at(T0, [erased("sle-1")])
        .erased("sle-1")
        .when(Command::ChangePractitioner(change_sle1()))
        .then_rejected(RejectionCode::PersonalDataErased, "practitioner");
}

#[test]
fn change_practitioner_checks_the_record_as_designate_does() {
    let c = ChangePractitioner { title: title("Guru"), ..change_sle1() };
    given(la())
        .when(Command::ChangePractitioner(c))
        .then_rejected(RejectionCode::NotConfigured, "title");
    let c = ChangePractitioner { home_urn: Urn(100009), ..change_sle1() };
    given(la())
        .when(Command::ChangePractitioner(c))
        .then_rejected(RejectionCode::SchoolClosed, "home_urn");
}

// --- availability ------------------------------------------------------------

#[test]
fn declare_availability_records_the_half_terms_of_one_year() {
    given(la())
        .when(availability("sle-1", &[("2026-AU2", 4), ("2027-SP1", 3)], Some(8)))
        .then_events(vec![DomainEvent::AvailabilityDeclared(AvailabilityDeclared {
            practitioner: pid("sle-1"),
            capacity: days(&[("2026-AU2", 4), ("2027-SP1", 3)]),
            max_days: Some(8),
            year: Some(year(Y1)),
        })]);
}

#[test]
fn declare_availability_refuses_no_half_term_and_one_not_configured() {
    given(la())
        .when(availability("sle-1", &[], None))
        .then_rejected(RejectionCode::Invalid, "capacity");
    given(la())
        .when(availability("sle-1", &[("2031-AU1", 2)], None))
        .then_rejected(RejectionCode::NotConfigured, "capacity.2031-AU1");
}

#[test]
fn declare_availability_refuses_two_academic_years_at_once() {
    given(la())
        .when(availability("sle-1", &[("2026-AU2", 2), ("2027-AU1", 2)], None))
        .then_rejected(RejectionCode::Invalid, "capacity.2027-AU1");
}

#[test]
fn declare_availability_refuses_more_days_than_a_half_term_has() {
    given(la())
        .when(availability("sle-1", &[("2026-AU2", 61)], None))
        .then_rejected(RejectionCode::Invalid, "capacity.2026-AU2");
    given(la())
        .when(availability("sle-1", &[("2026-AU2", 2)], Some(201)))
        .then_rejected(RejectionCode::Invalid, "max_days");
}

#[test]
fn declare_availability_refuses_days_in_a_half_term_already_past() {
    given(la())
        .at("2026-11-02T09:00:00Z")
        .when(availability("sle-1", &[("2026-AU1", 3), ("2026-AU2", 3)], None))
        .then_rejected(RejectionCode::PeriodEnded, "capacity.2026-AU1");
    // Nothing is ever free in a past half-term: zero is accepted.
    given(la())
        .at("2026-11-02T09:00:00Z")
        .when(availability("sle-1", &[("2026-AU1", 0), ("2026-AU2", 3)], None))
        .then_ok();
}

#[test]
fn declare_availability_refuses_days_below_those_already_accepted() {
    given(la_accepted())
        .when(availability("sle-1", &[("2026-AU1", 1)], None))
        .then_rejected(RejectionCode::BelowAccepted, "capacity.2026-AU1");
    given(la_accepted())
        .when(availability("sle-1", &[("2026-AU1", 2)], Some(1)))
        .then_rejected(RejectionCode::BelowAccepted, "max_days");
    // A proposal awaiting an answer is not accepted: its days may go.
    given(la_proposed()).when(availability("sle-1", &[("2026-AU1", 1)], None)).then_ok();
}

#[test]
fn declare_availability_refuses_an_unknown_or_withdrawn_practitioner() {
    given(la())
        .when(availability("sle-99", &[("2026-AU1", 1)], None))
        .then_rejected(RejectionCode::UnknownPractitioner, "practitioner");
    given(la())
        .and_at(T0, [withdrawn("sle-1")])
        .when(availability("sle-1", &[("2026-AU1", 1)], None))
        .then_rejected(RejectionCode::PractitionerWithdrawn, "practitioner");
}

// --- leave ---------------------------------------------------------------------

#[test]
fn record_leave_seals_its_note() {
    let c = RecordLeave {
        practitioner: pid("sle-1"),
        from: d("2026-10-05"),
        to: d("2026-10-09"),
        note: Some("surgery".into()),
    };
    given(la()).when(Command::RecordLeave(c)).then_events(vec![DomainEvent::LeaveRecorded(
        LeaveRecorded {
            practitioner: pid("sle-1"),
            from: d("2026-10-05"),
            to: d("2026-10-09"),
            note: Some(sealed("sle-1", "surgery")),
        },
    )]);
}

#[test]
fn record_leave_refuses_a_window_that_ends_before_it_starts() {
    let c = RecordLeave {
        practitioner: pid("sle-1"),
        from: d("2026-10-09"),
        to: d("2026-10-05"),
        note: None,
    };
    given(la()).when(Command::RecordLeave(c)).then_rejected(RejectionCode::Window, "to");
}

#[test]
fn record_leave_refuses_more_than_a_year_and_a_withdrawn_practitioner() {
    let c = RecordLeave {
        practitioner: pid("sle-1"),
        from: d("2026-09-01"),
        to: d("2027-10-01"),
        note: None,
    };
    given(la()).when(Command::RecordLeave(c.clone())).then_rejected(RejectionCode::Invalid, "to");
    let c = RecordLeave { to: d("2026-09-05"), ..c };
    given(la())
        .and_at(T0, [withdrawn("sle-1")])
        .when(Command::RecordLeave(c))
        .then_rejected(RejectionCode::PractitionerWithdrawn, "practitioner");
}

// --- conflicts -----------------------------------------------------------------

#[test]
fn declare_conflict_with_a_school() {
    given(la()).when(Command::DeclareConflict(conflict(Some(100004), None))).then_events(vec![
        DomainEvent::ConflictDeclared(ConflictDeclared {
            practitioner: pid("sle-1"),
            conflict: ConflictId("school-100004".into()),
            target: ConflictTarget::School { urn: Urn(100004) },
            kind: ConflictKind::Governor,
            valid_from: Some(d("2026-09-01")),
            valid_to: Some(d("2027-08-31")),
        }),
    ]);
}

#[test]
fn declare_conflict_with_a_trust() {
    given(la()).when(Command::DeclareConflict(conflict(None, Some(HLT)))).then_events(vec![
        DomainEvent::ConflictDeclared(ConflictDeclared {
            practitioner: pid("sle-1"),
            conflict: ConflictId("trust-heathrow-learning-trust".into()),
            target: ConflictTarget::Trust { name: HLT.into() },
            kind: ConflictKind::Governor,
            valid_from: Some(d("2026-09-01")),
            valid_to: Some(d("2027-08-31")),
        }),
    ]);
}

#[test]
fn declare_conflict_refuses_an_unknown_school() {
    given(la())
        .when(Command::DeclareConflict(conflict(Some(100777), None)))
        .then_rejected(RejectionCode::UnknownSchool, "urn");
}

#[test]
fn declare_conflict_is_with_a_school_or_a_trust() {
    given(la())
        .when(Command::DeclareConflict(conflict(Some(100004), Some(HLT))))
        .then_rejected(RejectionCode::Invalid, "urn");
    given(la())
        .when(Command::DeclareConflict(conflict(None, None)))
        .then_rejected(RejectionCode::Invalid, "urn");
    given(la())
        .when(Command::DeclareConflict(conflict(None, Some(""))))
        .then_rejected(RejectionCode::Invalid, "trust");
}

#[test]
fn declare_conflict_refuses_a_window_that_ends_before_it_starts() {
    let c = DeclareConflict { valid_to: Some(d("2026-08-01")), ..conflict(Some(100004), None) };
    given(la()).when(Command::DeclareConflict(c)).then_rejected(RejectionCode::Window, "valid_to");
}

#[test]
fn withdraw_conflict_removes_a_declared_one() {
    let declared = DomainEvent::ConflictDeclared(ConflictDeclared {
        practitioner: pid("sle-1"),
        conflict: ConflictId("school-100004".into()),
        target: ConflictTarget::School { urn: Urn(100004) },
        kind: ConflictKind::Family,
        valid_from: None,
        valid_to: None,
    });
    let c = WithdrawConflict {
        practitioner: pid("sle-1"),
        conflict: ConflictId("school-100004".into()),
    };
    let state = given(la())
        .and_at(T0, [declared])
        .when(Command::WithdrawConflict(c.clone()))
        .then_events(vec![DomainEvent::ConflictWithdrawn(ConflictWithdrawn {
            practitioner: pid("sle-1"),
            conflict: ConflictId("school-100004".into()),
        })]);
    assert!(state.practitioners[&pid("sle-1")].conflicts.is_empty());
    given(la())
        .when(Command::WithdrawConflict(c))
        .then_rejected(RejectionCode::UnknownConflict, "conflict");
}

#[test]
fn withdraw_conflict_refuses_an_unknown_practitioner() {
    let c =
        WithdrawConflict { practitioner: pid("sle-99"), conflict: ConflictId("school-1".into()) };
    given(la())
        .when(Command::WithdrawConflict(c))
        .then_rejected(RejectionCode::UnknownPractitioner, "practitioner");
}

// --- withdraw, erase -------------------------------------------------------------

#[test]
fn withdraw_practitioner_records_the_reason() {
    let c = WithdrawPractitioner { practitioner: pid("lle-1"), reason: "retired".into() };
    given(la())
        .when(Command::WithdrawPractitioner(c.clone()))
        .then_events(vec![withdrawn("lle-1")]);
    given(la())
        .and_at(T0, [withdrawn("lle-1")])
        .when(Command::WithdrawPractitioner(c))
        .then_rejected(RejectionCode::PractitionerWithdrawn, "practitioner");
    let c = WithdrawPractitioner { practitioner: pid("lle-1"), reason: "".into() };
    given(la())
        .when(Command::WithdrawPractitioner(c))
        .then_rejected(RejectionCode::Invalid, "reason");
}

#[test]
fn erase_practitioner_records_the_erasure_once() {
    let c = ErasePractitioner { practitioner: pid("lle-1") };
    let state =
        given(la()).when(Command::ErasePractitioner(c.clone())).then_events(vec![erased("lle-1")]);
    assert!(state.practitioners[&pid("lle-1")].erased);
    // A withdrawn practitioner can be erased; an erased one not again.
    given(la())
        .and_at(T0, [withdrawn("lle-1")])
        .when(Command::ErasePractitioner(c.clone()))
        .then_ok();
    given(la())
        .and_at(T0, [erased("lle-1")])
        .when(Command::ErasePractitioner(c))
        .then_rejected(RejectionCode::PersonalDataErased, "practitioner");
    given(la())
        .when(Command::ErasePractitioner(ErasePractitioner { practitioner: pid("x-1") }))
        .then_rejected(RejectionCode::UnknownPractitioner, "practitioner");
}

#[test]
fn nothing_more_is_recorded_about_an_erased_practitioner() {
    let g = || given(la()).and_at(T0, [erased("sle-1")]).erased("sle-1");
    g().when(availability("sle-1", &[("2026-AU2", 1)], None))
        .then_rejected(RejectionCode::PersonalDataErased, "practitioner");
    g().when(Command::DeclareConflict(conflict(Some(100004), None)))
        .then_rejected(RejectionCode::PersonalDataErased, "practitioner");
    g().when(Command::WithdrawPractitioner(WithdrawPractitioner {
        practitioner: pid("sle-1"),
        reason: "gone".into(),
    }))
    .then_rejected(RejectionCode::PersonalDataErased, "practitioner");
}
