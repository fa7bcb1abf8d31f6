//! Deciding commands about schools: register from GIAS, change, close,
//! record an inspection outcome (which sets the school's risk by the
//! configured rule unless the LA or a RISE referral set it), assess risk.

use bridges_schemas::Urn;
use bridges_schemas::commands::{
    AssessRisk, ChangeSchool, CloseSchool, RecordInspection, RegisterSchool, Rejection,
    RejectionCode,
};
use bridges_schemas::events::{
    DomainEvent, InspectionRecorded, RiskAssessed, SchoolChanged, SchoolClosed, SchoolRegistered,
};
use bridges_schemas::inspection::{Standing, standing};
use bridges_schemas::vocab::RiskSource;

use super::state::School;
use super::{Context, State, check_text, reject};

/// Register a school of the LA (a GIAS row). A school seen before is refused.
pub fn register(
    state: &State,
    c: &RegisterSchool,
    ctx: &Context<'_>,
) -> Result<Vec<DomainEvent>, Rejection> {
    check_urn("urn", c.urn)?;
    if state.schools.contains_key(&c.urn) {
        return Err(reject(
            RejectionCode::Duplicate,
            "urn",
            c.urn,
            "this school is already registered",
        ));
    }
    check_text("name", &c.name, 200)?;
    if c.la_code != ctx.rules.la_code {
        return Err(reject(
            RejectionCode::Invalid,
            "la_code",
            c.la_code,
            format!("this engine serves LA {}", ctx.rules.la_code),
        ));
    }
    check_location(c.easting, c.northing)?;
    if let Some(t) = &c.trust {
        check_text("trust", t, 200)?;
    }
    let postcode = c.postcode.as_deref().map(check_postcode).transpose()?;
    Ok(vec![DomainEvent::SchoolRegistered(SchoolRegistered {
        urn: c.urn,
        name: c.name.clone(),
        la_code: c.la_code,
        phase: c.phase,
        trust: c.trust.clone(),
        easting: c.easting,
        northing: c.northing,
        pupils: c.pupils,
        postcode,
    })])
}

/// Record a registered school's new record; nothing when nothing changed.
pub fn change(
    state: &State,
    c: &ChangeSchool,
    _ctx: &Context<'_>,
) -> Result<Vec<DomainEvent>, Rejection> {
    let s = known(state, c.urn)?;
    check_text("name", &c.name, 200)?;
    check_location(c.easting, c.northing)?;
    if let Some(t) = &c.trust {
        check_text("trust", t, 200)?;
    }
    let postcode = c.postcode.as_deref().map(check_postcode).transpose()?;
    let mut changed = Vec::new();
    if s.name != c.name {
        changed.push("name".to_owned());
    }
    if s.phase != c.phase {
        changed.push("phase".to_owned());
    }
    if s.trust != c.trust {
        changed.push("trust".to_owned());
    }
    if (s.easting - c.easting).abs() > 0.5 || (s.northing - c.northing).abs() > 0.5 {
        changed.push("location".to_owned());
    }
    if s.pupils != c.pupils {
        changed.push("pupils".to_owned());
    }
    if s.postcode != postcode {
        changed.push("postcode".to_owned());
    }
    if changed.is_empty() {
        return Ok(Vec::new());
    }
    Ok(vec![DomainEvent::SchoolChanged(SchoolChanged {
        urn: c.urn,
        name: c.name.clone(),
        phase: c.phase,
        trust: c.trust.clone(),
        easting: c.easting,
        northing: c.northing,
        pupils: c.pupils,
        postcode,
        changed,
    })])
}

/// Record that an open school closed.
pub fn close(state: &State, c: &CloseSchool) -> Result<Vec<DomainEvent>, Rejection> {
    let s = known(state, c.urn)?;
    if s.closed {
        return Err(reject(
            RejectionCode::SchoolClosed,
            "urn",
            c.urn,
            "this school is already closed",
        ));
    }
    check_text("reason", &c.reason, 500)?;
    Ok(vec![DomainEvent::SchoolClosed(SchoolClosed {
        urn: c.urn,
        closed_on: c.closed_on,
        reason: c.reason.clone(),
    })])
}

/// Record the latest inspection outcome; unchanged outcomes record nothing.
/// The school's risk follows the configured rule over its standing, unless
/// the LA or a RISE referral assessed it.
pub fn record_inspection(
    state: &State,
    c: &RecordInspection,
    ctx: &Context<'_>,
) -> Result<Vec<DomainEvent>, Rejection> {
    let s = known(state, c.urn)?;
    if !matches!(c.source.as_str(), "csv" | "gias" | "manual") {
        return Err(reject(
            RejectionCode::Invalid,
            "source",
            &c.source,
            "expected csv, gias or manual",
        ));
    }
    if s.inspection.as_ref() == Some(&c.outcome) {
        return Ok(Vec::new());
    }
    let mut events = vec![DomainEvent::InspectionRecorded(InspectionRecorded {
        urn: c.urn,
        outcome: c.outcome,
        source: c.source.clone(),
    })];
    let by_hand = s.risk.as_ref().is_some_and(|r| r.source != RiskSource::InspectionRule);
    let band = standing(&c.outcome);
    let tier = match band {
        Standing::Serious => ctx.rules.risk.serious,
        Standing::Concern => ctx.rules.risk.concern,
        Standing::Secure => ctx.rules.risk.secure,
        Standing::Strong => ctx.rules.risk.strong,
    };
    let current = s.risk.as_ref().and_then(|r| r.tier);
    if !by_hand && (current != tier || s.risk.is_none() && tier.is_some()) {
        events.push(DomainEvent::RiskAssessed(RiskAssessed {
            urn: c.urn,
            tier,
            reason: format!("inspection standing {}", standing_word(band)),
            source: RiskSource::InspectionRule,
        }));
    }
    Ok(events)
}

/// Set or clear a school's risk tier (the LA's own assessment, a RISE
/// referral, or the inspection rule again).
pub fn assess_risk(state: &State, c: &AssessRisk) -> Result<Vec<DomainEvent>, Rejection> {
    let s = known(state, c.urn)?;
    if let Some(t) = c.tier
        && !(1..=4).contains(&t)
    {
        return Err(reject(
            RejectionCode::Invalid,
            "tier",
            t,
            "a risk tier is 1 (most at risk) to 4",
        ));
    }
    check_text("reason", &c.reason, 500)?;
    if s.closed {
        return Err(reject(RejectionCode::SchoolClosed, "urn", c.urn, "this school has closed"));
    }
    Ok(vec![DomainEvent::RiskAssessed(RiskAssessed {
        urn: c.urn,
        tier: c.tier,
        reason: c.reason.clone(),
        source: c.source,
    })])
}

/// The registered school `urn`.
pub(crate) fn known(state: &State, urn: Urn) -> Result<&School, Rejection> {
    check_urn("urn", urn)?;
    state.schools.get(&urn).ok_or_else(|| {
        reject(RejectionCode::UnknownSchool, "urn", urn, "no such school is registered")
    })
}

/// A registered, open school.
pub(crate) fn open<'s>(state: &'s State, field: &str, urn: Urn) -> Result<&'s School, Rejection> {
    check_urn(field, urn)?;
    match state.schools.get(&urn) {
        None => {
            Err(reject(RejectionCode::UnknownSchool, field, urn, "no such school is registered"))
        }
        Some(s) if s.closed => {
            Err(reject(RejectionCode::SchoolClosed, field, urn, "this school has closed"))
        }
        Some(s) => Ok(s),
    }
}

fn check_urn(field: &str, urn: Urn) -> Result<(), Rejection> {
    if (100_000..=999_999).contains(&urn.0) {
        Ok(())
    } else {
        Err(reject(RejectionCode::Invalid, field, urn, "a URN has six digits"))
    }
}

fn check_location(easting: f64, northing: f64) -> Result<(), Rejection> {
    // British National Grid: 0..700 km east, 0..1,300 km north.
    for (field, x, max) in [("easting", easting, 700_000.0), ("northing", northing, 1_300_000.0)] {
        if !x.is_finite() || !(0.0..=max).contains(&x) {
            return Err(reject(
                RejectionCode::Invalid,
                field,
                x,
                "not a British National Grid coordinate",
            ));
        }
    }
    Ok(())
}

/// A UK postcode, normalised to capitals with one space before the inward
/// code (`ub81ph` -> `UB8 1PH`): an outward code of one or two letters, a
/// digit and an optional letter or digit, then a digit and two letters.
fn check_postcode(text: &str) -> Result<String, Rejection> {
    let compact: String =
        text.chars().filter(|c| !c.is_whitespace()).map(|c| c.to_ascii_uppercase()).collect();
    let well_formed = |code: &str| {
        let b = code.as_bytes();
        if !(5..=7).contains(&b.len()) {
            return false;
        }
        let (outward, inward) = b.split_at(b.len() - 3);
        let letters = outward.iter().take_while(|c| c.is_ascii_alphabetic()).count();
        (1..=2).contains(&letters)
            && outward.get(letters).is_some_and(u8::is_ascii_digit)
            && outward[letters + 1..].iter().all(u8::is_ascii_alphanumeric)
            && outward.len() - letters <= 2
            && inward[0].is_ascii_digit()
            && inward[1..].iter().all(u8::is_ascii_alphabetic)
    };
    if !well_formed(&compact) {
        return Err(reject(
            RejectionCode::Invalid,
            "postcode",
            format!("{text:?}"),
            "not a UK postcode (for example UB8 1PH)",
        ));
    }
    let (outward, inward) = compact.split_at(compact.len() - 3);
    Ok(format!("{outward} {inward}"))
}

fn standing_word(s: Standing) -> &'static str {
    match s {
        Standing::Strong => "strong",
        Standing::Secure => "secure",
        Standing::Concern => "concern",
        Standing::Serious => "serious",
    }
}
