//! Given / when / then rows for the school commands: register, change,
//! close, record an inspection (and the risk it sets), assess risk; each
//! happy path with its exact events and each rejection by code and field.

mod common;

use bridges_schemas::commands::*;
use bridges_schemas::events::*;
use bridges_schemas::inspection::Ofsted;
use bridges_schemas::vocab::RiskSource;
use bridges_schemas::{InspectionOutcome, Phase, Urn};
use common::domain::*;

fn register(urn: u32) -> RegisterSchool {
    RegisterSchool {
        urn: Urn(urn),
        name: "Cedar Primary".into(),
        la_code: LA,
        phase: Phase::Primary,
        trust: Some(HLT.into()),
        easting: 507_100.0,
        northing: 182_300.0,
        pupils: Some(420),
        postcode: None,
    }
}

fn change(urn: u32) -> ChangeSchool {
    let SchoolRegistered { name, phase, trust, easting, northing, pupils, postcode, .. } =
        match school_in(urn, Phase::Primary, Some(HLT)) {
            DomainEvent::SchoolRegistered(s) => s,
            _ => unreachable!(),
        };
    ChangeSchool { urn: Urn(urn), name, phase, trust, easting, northing, pupils, postcode }
}

fn overall(grade: Ofsted) -> InspectionOutcome {
    InspectionOutcome::Overall { published: Some(d("2025-05-10")), overall: grade }
}

// --- register --------------------------------------------------------------

#[test]
fn register_school_records_the_gias_row() {
    given([]).when(Command::RegisterSchool(register(102400))).then_events(vec![
        DomainEvent::SchoolRegistered(SchoolRegistered {
            urn: Urn(102400),
            name: "Cedar Primary".into(),
            la_code: LA,
            phase: Phase::Primary,
            trust: Some(HLT.into()),
            easting: 507_100.0,
            northing: 182_300.0,
            pupils: Some(420),
            postcode: None,
        }),
    ]);
}

#[test]
fn register_school_refuses_a_urn_of_five_digits() {
    given([])
        .when(Command::RegisterSchool(register(12345)))
        .then_rejected(RejectionCode::Invalid, "urn");
}

#[test]
fn register_school_refuses_a_school_registered_before() {
    given(la())
        .when(Command::RegisterSchool(register(100001)))
        .then_rejected(RejectionCode::Duplicate, "urn");
}

#[test]
fn register_school_refuses_an_empty_name() {
    let c = RegisterSchool { name: "  ".into(), ..register(102400) };
    given([]).when(Command::RegisterSchool(c)).then_rejected(RejectionCode::Invalid, "name");
}

#[test]
fn register_school_refuses_a_school_of_another_la() {
    let c = RegisterSchool { la_code: 307, ..register(102400) };
    given([]).when(Command::RegisterSchool(c)).then_rejected(RejectionCode::Invalid, "la_code");
}

#[test]
fn register_school_refuses_a_point_off_the_national_grid() {
    let c = RegisterSchool { easting: -1.0, ..register(102400) };
    given([]).when(Command::RegisterSchool(c)).then_rejected(RejectionCode::Invalid, "easting");
    let c = RegisterSchool { northing: f64::NAN, ..register(102400) };
    given([]).when(Command::RegisterSchool(c)).then_rejected(RejectionCode::Invalid, "northing");
}

#[test]
fn register_school_refuses_an_empty_trust() {
    let c = RegisterSchool { trust: Some(String::new()), ..register(102400) };
    given([]).when(Command::RegisterSchool(c)).then_rejected(RejectionCode::Invalid, "trust");
}

#[test]
fn register_school_records_its_postcode_in_capitals_with_one_space() {
    for given_as in ["ub8 1ph", "UB81PH", " UB8  1PH "] {
        let c = RegisterSchool { postcode: Some(given_as.into()), ..register(102400) };
        let events = given([]).when(Command::RegisterSchool(c)).then_ok();
        match &events[..] {
            [DomainEvent::SchoolRegistered(e)] => {
                assert_eq!(e.postcode.as_deref(), Some("UB8 1PH"), "{given_as:?}")
            }
            other => panic!("{given_as:?}: {other:?}"),
        }
    }
    // The shapes of real outward codes: A9, A99, AA9, AA99, A9A, AA9A.
    for code in ["W5 2AA", "N10 3BB", "HA4 0LN", "UB10 8AB", "W1A 1AA", "EC1A 1BB"] {
        let c = RegisterSchool { postcode: Some(code.into()), ..register(102400) };
        given([]).when(Command::RegisterSchool(c)).then_ok();
    }
}

#[test]
fn register_school_refuses_a_postcode_that_is_not_one() {
    for bad in ["UB8", "UB8 1P", "12345", "UB8 1PHX", "8UB 1PH", "UBX8 1PH", "UB8 P1H", ""] {
        let c = RegisterSchool { postcode: Some(bad.into()), ..register(102400) };
        let r = given([])
            .when(Command::RegisterSchool(c))
            .then_rejected_on_log(RejectionCode::Invalid, "postcode");
        assert!(r.value.contains(&format!("{bad:?}")), "{bad:?}: {r:?}");
    }
}

// --- change ----------------------------------------------------------------

#[test]
fn change_school_records_a_new_postcode() {
    let c = ChangeSchool { postcode: Some("ub3 4ee".into()), ..change(100001) };
    let events = given(la()).when(Command::ChangeSchool(c)).then_ok();
    match &events[..] {
        [DomainEvent::SchoolChanged(e)] => {
            assert_eq!(e.postcode.as_deref(), Some("UB3 4EE"));
            assert_eq!(e.changed, vec!["postcode".to_owned()]);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn change_school_records_the_new_record_and_what_changed() {
    let c = ChangeSchool {
        name: "Cedar Academy".into(),
        trust: None,
        easting: 508_000.0,
        ..change(100001)
    };
    given(la()).when(Command::ChangeSchool(c)).then_events(vec![DomainEvent::SchoolChanged(
        SchoolChanged {
            urn: Urn(100001),
            name: "Cedar Academy".into(),
            phase: Phase::Primary,
            trust: None,
            easting: 508_000.0,
            northing: 182_000.0,
            pupils: Some(300),
            postcode: None,
            changed: vec!["name".into(), "trust".into(), "location".into()],
        },
    )]);
}

#[test]
fn change_school_with_the_same_record_changes_nothing() {
    // A move of less than half a metre is the same place (a re-export rounds).
    let c = ChangeSchool { easting: 507_100.3, ..change(100001) };
    given(la()).when(Command::ChangeSchool(c)).then_unchanged();
}

#[test]
fn change_school_refuses_an_unknown_school() {
    given(la())
        .when(Command::ChangeSchool(change(100777)))
        .then_rejected(RejectionCode::UnknownSchool, "urn");
}

#[test]
fn change_school_refuses_an_empty_name() {
    let c = ChangeSchool { name: String::new(), ..change(100001) };
    given(la()).when(Command::ChangeSchool(c)).then_rejected(RejectionCode::Invalid, "name");
}

/// Found in review: register checked the trust's text, change did not (an
/// empty trust made every trust-less school look like one trust).
#[test]
fn change_school_refuses_an_empty_trust() {
    let c = ChangeSchool { trust: Some(" ".into()), ..change(100001) };
    given(la()).when(Command::ChangeSchool(c)).then_rejected(RejectionCode::Invalid, "trust");
}

// --- close -----------------------------------------------------------------

#[test]
fn close_school_records_the_closure() {
    let c = CloseSchool {
        urn: Urn(100004),
        closed_on: Some(d("2026-08-31")),
        reason: "amalgamated".into(),
    };
    given(la()).when(Command::CloseSchool(c)).then_events(vec![DomainEvent::SchoolClosed(
        SchoolClosed {
            urn: Urn(100004),
            closed_on: Some(d("2026-08-31")),
            reason: "amalgamated".into(),
        },
    )]);
}

#[test]
fn close_school_refuses_a_closed_school() {
    let c = CloseSchool { urn: Urn(100009), closed_on: None, reason: "again".into() };
    given(la()).when(Command::CloseSchool(c)).then_rejected(RejectionCode::SchoolClosed, "urn");
}

#[test]
fn close_school_refuses_an_unknown_school() {
    let c = CloseSchool { urn: Urn(100777), closed_on: None, reason: "gone".into() };
    given(la()).when(Command::CloseSchool(c)).then_rejected(RejectionCode::UnknownSchool, "urn");
}

#[test]
fn close_school_refuses_an_empty_reason() {
    let c = CloseSchool { urn: Urn(100004), closed_on: None, reason: String::new() };
    given(la()).when(Command::CloseSchool(c)).then_rejected(RejectionCode::Invalid, "reason");
}

// --- inspections and risk ---------------------------------------------------

#[test]
fn an_inadequate_inspection_sets_tier_1_by_the_inspection_rule() {
    let c = RecordInspection {
        urn: Urn(100004),
        outcome: overall(Ofsted::Inadequate),
        source: "csv".into(),
    };
    given(la()).when(Command::RecordInspection(c)).then_events(vec![
        DomainEvent::InspectionRecorded(InspectionRecorded {
            urn: Urn(100004),
            outcome: overall(Ofsted::Inadequate),
            source: "csv".into(),
        }),
        DomainEvent::RiskAssessed(RiskAssessed {
            urn: Urn(100004),
            tier: Some(1),
            reason: "inspection standing serious".into(),
            source: RiskSource::InspectionRule,
        }),
    ]);
}

#[test]
fn a_good_inspection_of_a_school_not_at_risk_records_only_the_outcome() {
    let c = RecordInspection {
        urn: Urn(100004),
        outcome: overall(Ofsted::Good),
        source: "gias".into(),
    };
    given(la()).when(Command::RecordInspection(c)).then_events(vec![
        DomainEvent::InspectionRecorded(InspectionRecorded {
            urn: Urn(100004),
            outcome: overall(Ofsted::Good),
            source: "gias".into(),
        }),
    ]);
}

#[test]
fn a_better_inspection_clears_the_risk_the_rule_set() {
    let earlier = vec![
        DomainEvent::InspectionRecorded(InspectionRecorded {
            urn: Urn(100004),
            outcome: overall(Ofsted::RequiresImprovement),
            source: "csv".into(),
        }),
        DomainEvent::RiskAssessed(RiskAssessed {
            urn: Urn(100004),
            tier: Some(2),
            reason: "inspection standing concern".into(),
            source: RiskSource::InspectionRule,
        }),
    ];
    let c =
        RecordInspection { urn: Urn(100004), outcome: overall(Ofsted::Good), source: "csv".into() };
    let events = given(la()).and_at(T0, earlier).when(Command::RecordInspection(c)).then_ok();
    assert_eq!(events.len(), 2);
    assert!(matches!(&events[1], DomainEvent::RiskAssessed(r) if r.tier.is_none()));
}

#[test]
fn an_inspection_leaves_a_risk_the_la_assessed() {
    let la_risk = DomainEvent::RiskAssessed(RiskAssessed {
        urn: Urn(100004),
        tier: Some(3),
        reason: "new head".into(),
        source: RiskSource::La,
    });
    let c = RecordInspection {
        urn: Urn(100004),
        outcome: overall(Ofsted::Inadequate),
        source: "csv".into(),
    };
    let events = given(la()).and_at(T0, [la_risk]).when(Command::RecordInspection(c)).then_ok();
    assert_eq!(events.len(), 1, "{events:?}");
}

#[test]
fn the_same_inspection_again_changes_nothing() {
    let first = DomainEvent::InspectionRecorded(InspectionRecorded {
        urn: Urn(100004),
        outcome: overall(Ofsted::Good),
        source: "csv".into(),
    });
    let c =
        RecordInspection { urn: Urn(100004), outcome: overall(Ofsted::Good), source: "csv".into() };
    given(la()).and_at(T0, [first]).when(Command::RecordInspection(c)).then_unchanged();
}

#[test]
fn record_inspection_refuses_an_unknown_source() {
    let c =
        RecordInspection { urn: Urn(100004), outcome: overall(Ofsted::Good), source: "xls".into() };
    given(la()).when(Command::RecordInspection(c)).then_rejected(RejectionCode::Invalid, "source");
}

#[test]
fn record_inspection_refuses_an_unknown_school() {
    let c =
        RecordInspection { urn: Urn(100777), outcome: overall(Ofsted::Good), source: "csv".into() };
    given(la())
        .when(Command::RecordInspection(c))
        .then_rejected(RejectionCode::UnknownSchool, "urn");
}

#[test]
fn assess_risk_records_a_rise_referral() {
    let c = AssessRisk {
        urn: Urn(100004),
        tier: Some(1),
        reason: "stuck school".into(),
        source: RiskSource::Rise,
    };
    given(la()).when(Command::AssessRisk(c)).then_events(vec![DomainEvent::RiskAssessed(
        RiskAssessed {
            urn: Urn(100004),
            tier: Some(1),
            reason: "stuck school".into(),
            source: RiskSource::Rise,
        },
    )]);
}

#[test]
fn assess_risk_refuses_a_tier_beyond_4() {
    let c =
        AssessRisk { urn: Urn(100004), tier: Some(5), reason: "x".into(), source: RiskSource::La };
    given(la()).when(Command::AssessRisk(c)).then_rejected(RejectionCode::Invalid, "tier");
}

#[test]
fn assess_risk_refuses_a_closed_school() {
    let c =
        AssessRisk { urn: Urn(100009), tier: Some(2), reason: "x".into(), source: RiskSource::La };
    given(la()).when(Command::AssessRisk(c)).then_rejected(RejectionCode::SchoolClosed, "urn");
}

#[test]
fn assess_risk_refuses_an_unknown_school_and_an_empty_reason() {
    let c = AssessRisk { urn: Urn(100777), tier: None, reason: "x".into(), source: RiskSource::La };
    given(la()).when(Command::AssessRisk(c)).then_rejected(RejectionCode::UnknownSchool, "urn");
    let c = AssessRisk { urn: Urn(100004), tier: None, reason: "".into(), source: RiskSource::La };
    given(la()).when(Command::AssessRisk(c)).then_rejected(RejectionCode::Invalid, "reason");
}
