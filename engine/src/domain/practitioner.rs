//! Deciding commands about practitioners: designate with a configured title,
//! change, declare availability per half-term (never below days already
//! accepted), record leave, declare or withdraw a conflict of interest,
//! withdraw, erase personal data. Names and contacts are sealed here, through
//! the context's sealer; the clear text never reaches an event.

use bridges_schemas::commands::{
    ChangePractitioner, DeclareAvailability, DeclareConflict, DesignatePractitioner,
    ErasePractitioner, RecordLeave, Rejection, RejectionCode, WithdrawConflict,
    WithdrawPractitioner,
};
use bridges_schemas::events::{
    AvailabilityDeclared, ConflictDeclared, ConflictWithdrawn, DomainEvent, LeaveRecorded,
    PersonalDataErased, PractitionerChanged, PractitionerDesignated, PractitionerWithdrawn,
};
use bridges_schemas::vocab::{ConflictId, ConflictTarget, PersonalDetails, Sealed};
use bridges_schemas::{Designation, NeedArea, Phase, PractitionerId, Urn};

use super::state::Practitioner;
use super::{
    Context, State, check_id, check_need, check_private_text, check_text, check_title, reject,
    seal_note, seal_text,
};

/// Longest practitioner id: ids stand in stream names and NATS subjects.
pub const MAX_PRACTITIONER_ID: usize = 48;

/// Designate a new practitioner.
pub fn designate(
    state: &State,
    c: &DesignatePractitioner,
    ctx: &Context<'_>,
) -> Result<Vec<DomainEvent>, Rejection> {
    check_id("practitioner", c.practitioner.as_str(), MAX_PRACTITIONER_ID)?;
    if state.practitioners.contains_key(&c.practitioner) {
        return Err(reject(
            RejectionCode::Duplicate,
            "practitioner",
            &c.practitioner,
            "this practitioner is already designated",
        ));
    }
    let record = Record::check(
        ctx,
        &c.practitioner,
        &c.title,
        c.home_urn,
        &c.specialisms,
        &c.phases,
        c.day_rate,
        state,
    )?;
    let personal = seal_personal(ctx, &c.practitioner, &c.name, &c.email, &c.phone)?;
    Ok(vec![DomainEvent::PractitionerDesignated(PractitionerDesignated {
        practitioner: c.practitioner.clone(),
        title: c.title.clone(),
        home_urn: c.home_urn,
        specialisms: c.specialisms.clone(),
        phases: c.phases.clone(),
        day_rate: record.day_rate,
        personal: Some(personal),
    })])
}

/// Change a practitioner's record; nothing when nothing changed. The
/// sealed details are compared with the given ones through the sealer.
pub fn change(
    state: &State,
    c: &ChangePractitioner,
    ctx: &Context<'_>,
) -> Result<Vec<DomainEvent>, Rejection> {
    let p = active(state, &c.practitioner)?;
    let record = Record::check(
        ctx,
        &c.practitioner,
        &c.title,
        c.home_urn,
        &c.specialisms,
        &c.phases,
        c.day_rate,
        state,
    )?;
    let mut changed = Vec::new();
    if p.title != c.title {
        changed.push("title");
    }
    if p.home_urn != c.home_urn {
        changed.push("home_urn");
    }
    if p.specialisms != c.specialisms {
        changed.push("specialisms");
    }
    if p.phases != c.phases {
        changed.push("phases");
    }
    if p.day_rate != record.day_rate {
        changed.push("day_rate");
    }
    let given =
        PersonalDetails { name: c.name.clone(), email: c.email.clone(), phone: c.phone.clone() };
    let held: Option<PersonalDetails> = p
        .personal
        .as_ref()
        .and_then(|s| ctx.sealer.unseal(s))
        .and_then(|b| serde_json::from_slice(&b).ok());
    if held.as_ref() != Some(&given) {
        changed.push("personal");
    }
    if changed.is_empty() {
        return Ok(Vec::new());
    }
    let personal = seal_personal(ctx, &c.practitioner, &c.name, &c.email, &c.phone)?;
    Ok(vec![DomainEvent::PractitionerChanged(PractitionerChanged {
        practitioner: c.practitioner.clone(),
        title: c.title.clone(),
        home_urn: c.home_urn,
        specialisms: c.specialisms.clone(),
        phases: c.phases.clone(),
        day_rate: record.day_rate,
        personal: Some(personal),
        changed: changed.into_iter().map(str::to_owned).collect(),
    })])
}

/// Declare the days a practitioner can be released per half-term of one
/// academic year, and at most in it; never below days already accepted.
pub fn declare_availability(
    state: &State,
    c: &DeclareAvailability,
    ctx: &Context<'_>,
) -> Result<Vec<DomainEvent>, Rejection> {
    let p = active(state, &c.practitioner)?;
    super::check_days(ctx.rules, "capacity", &c.capacity, ctx.today(), true)?;
    let mut year = None;
    for period in c.capacity.keys() {
        let h = ctx.rules.calendar.half_term(period).expect("check_days knows every half-term");
        match &year {
            None => year = Some(h.year.clone()),
            Some(y) if y != &h.year => {
                return Err(reject(
                    RejectionCode::Invalid,
                    &format!("capacity.{period}"),
                    period,
                    format!("one declaration covers one academic year ({y})"),
                ));
            }
            Some(_) => {}
        }
    }
    let year = year.expect("check_days refuses an empty map");
    for (period, days) in &c.capacity {
        let accepted = state.accepted_days(&p.id, period);
        if *days < accepted {
            return Err(reject(
                RejectionCode::BelowAccepted,
                &format!("capacity.{period}"),
                days,
                format!("{accepted} days are already accepted in {period}"),
            ));
        }
    }
    if let Some(max) = c.max_days {
        let accepted: u32 =
            ctx.rules.calendar.year(&year).map(|h| state.accepted_days(&p.id, &h.label)).sum();
        if max < accepted {
            return Err(reject(
                RejectionCode::BelowAccepted,
                "max_days",
                max,
                format!("{accepted} days are already accepted in {year}"),
            ));
        }
        if max > 200 {
            return Err(reject(RejectionCode::Invalid, "max_days", max, "at most 200 days a year"));
        }
    }
    Ok(vec![DomainEvent::AvailabilityDeclared(AvailabilityDeclared {
        practitioner: c.practitioner.clone(),
        capacity: c.capacity.clone(),
        max_days: c.max_days,
        year: Some(year),
    })])
}

/// Record leave, `from` to `to` inclusive.
pub fn record_leave(
    state: &State,
    c: &RecordLeave,
    ctx: &Context<'_>,
) -> Result<Vec<DomainEvent>, Rejection> {
    let p = active(state, &c.practitioner)?;
    if c.to < c.from {
        return Err(reject(
            RejectionCode::Window,
            "to",
            c.to,
            format!("leave ends before it starts ({})", c.from),
        ));
    }
    if (c.to - c.from).num_days() > 366 {
        return Err(reject(
            RejectionCode::Invalid,
            "to",
            c.to,
            "leave of more than a year: withdraw the practitioner instead",
        ));
    }
    let note = seal_note(ctx, "note", p.id.as_str(), &c.note)?;
    Ok(vec![DomainEvent::LeaveRecorded(LeaveRecorded {
        practitioner: c.practitioner.clone(),
        from: c.from,
        to: c.to,
        note,
    })])
}

/// Declare a conflict with one school or with every school of a trust. A
/// conflict declared again replaces its window and kind.
pub fn declare_conflict(state: &State, c: &DeclareConflict) -> Result<Vec<DomainEvent>, Rejection> {
    active(state, &c.practitioner)?;
    let (conflict, target) = match (&c.urn, &c.trust) {
        (Some(urn), None) => {
            if !state.schools.contains_key(urn) {
                return Err(reject(
                    RejectionCode::UnknownSchool,
                    "urn",
                    urn,
                    "no such school is registered",
                ));
            }
            (ConflictId(format!("school-{urn}")), ConflictTarget::School { urn: *urn })
        }
        (None, Some(trust)) => {
            check_text("trust", trust, 200)?;
            (
                ConflictId(format!("trust-{}", slug(trust))),
                ConflictTarget::Trust { name: trust.clone() },
            )
        }
        (Some(urn), Some(_)) => {
            return Err(reject(
                RejectionCode::Invalid,
                "urn",
                urn,
                "a conflict is with a school or a trust, not both",
            ));
        }
        (None, None) => {
            return Err(reject(
                RejectionCode::Invalid,
                "urn",
                "(missing)",
                "a conflict needs a school (urn) or a trust",
            ));
        }
    };
    if let (Some(from), Some(to)) = (c.valid_from, c.valid_to)
        && to < from
    {
        return Err(reject(
            RejectionCode::Window,
            "valid_to",
            to,
            format!("the conflict's window ends before it starts ({from})"),
        ));
    }
    Ok(vec![DomainEvent::ConflictDeclared(ConflictDeclared {
        practitioner: c.practitioner.clone(),
        conflict,
        target,
        kind: c.kind,
        valid_from: c.valid_from,
        valid_to: c.valid_to,
    })])
}

/// Withdraw a declared conflict.
pub fn withdraw_conflict(
    state: &State,
    c: &WithdrawConflict,
) -> Result<Vec<DomainEvent>, Rejection> {
    let p = known(state, &c.practitioner)?;
    if !p.conflicts.contains_key(&c.conflict) {
        return Err(reject(
            RejectionCode::UnknownConflict,
            "conflict",
            &c.conflict,
            "no such conflict is declared",
        ));
    }
    Ok(vec![DomainEvent::ConflictWithdrawn(ConflictWithdrawn {
        practitioner: c.practitioner.clone(),
        conflict: c.conflict.clone(),
    })])
}

/// The practitioner takes no more work; what is accepted stands.
pub fn withdraw(state: &State, c: &WithdrawPractitioner) -> Result<Vec<DomainEvent>, Rejection> {
    active(state, &c.practitioner)?;
    check_text("reason", &c.reason, 500)?;
    Ok(vec![DomainEvent::PractitionerWithdrawn(PractitionerWithdrawn {
        practitioner: c.practitioner.clone(),
        reason: c.reason.clone(),
    })])
}

/// Erase a practitioner's personal data (the shell destroys the key once
/// this event is durable).
pub fn erase(state: &State, c: &ErasePractitioner) -> Result<Vec<DomainEvent>, Rejection> {
    let p = known(state, &c.practitioner)?;
    if p.erased {
        return Err(reject(
            RejectionCode::PersonalDataErased,
            "practitioner",
            &c.practitioner,
            "this practitioner's personal data is already erased",
        ));
    }
    Ok(vec![DomainEvent::PersonalDataErased(PersonalDataErased {
        practitioner: c.practitioner.clone(),
    })])
}

/// A designated practitioner (withdrawn or not).
pub(crate) fn known<'s>(
    state: &'s State,
    id: &PractitionerId,
) -> Result<&'s Practitioner, Rejection> {
    state.practitioners.get(id).ok_or_else(|| {
        reject(
            RejectionCode::UnknownPractitioner,
            "practitioner",
            id,
            "no such practitioner is designated",
        )
    })
}

/// A designated practitioner who still takes work and has not been erased.
pub(crate) fn active<'s>(
    state: &'s State,
    id: &PractitionerId,
) -> Result<&'s Practitioner, Rejection> {
    let p = known(state, id)?;
    if p.erased {
        return Err(reject(
            RejectionCode::PersonalDataErased,
            "practitioner",
            id,
            "this practitioner's personal data was erased; nothing more is recorded about them",
        ));
    }
    if p.withdrawn {
        return Err(reject(
            RejectionCode::PractitionerWithdrawn,
            "practitioner",
            id,
            "this practitioner has withdrawn",
        ));
    }
    Ok(p)
}

/// What designate and change check alike.
struct Record {
    day_rate: u32,
}

impl Record {
    #[allow(clippy::too_many_arguments)]
    fn check(
        ctx: &Context<'_>,
        id: &PractitionerId,
        title: &Designation,
        home_urn: Urn,
        specialisms: &[NeedArea],
        phases: &[Phase],
        day_rate: Option<u32>,
        state: &State,
    ) -> Result<Record, Rejection> {
        let _ = id;
        let t = check_title(ctx.rules, "title", title)?;
        super::school::open(state, "home_urn", home_urn)?;
        if specialisms.is_empty() {
            return Err(reject(
                RejectionCode::Invalid,
                "specialisms",
                "[]",
                "at least one specialism",
            ));
        }
        for (i, s) in specialisms.iter().enumerate() {
            check_need(ctx.rules, s, None).map_err(|mut r| {
                r.field = format!("specialisms[{i}]");
                r
            })?;
        }
        if phases.is_empty() {
            return Err(reject(RejectionCode::Invalid, "phases", "[]", "at least one phase"));
        }
        let day_rate = day_rate.unwrap_or(t.day_rate);
        if !(50..=2_000).contains(&day_rate) {
            return Err(reject(
                RejectionCode::Invalid,
                "day_rate",
                day_rate,
                "a day rate is £50 to £2,000",
            ));
        }
        Ok(Record { day_rate })
    }
}

fn seal_personal(
    ctx: &Context<'_>,
    id: &PractitionerId,
    name: &str,
    email: &Option<String>,
    phone: &Option<String>,
) -> Result<Sealed, Rejection> {
    check_private_text("name", name, 120)?;
    if let Some(e) = email {
        check_private_text("email", e, 200)?;
        if !e.contains('@') || e.contains(char::is_whitespace) {
            return Err(reject(
                RejectionCode::Invalid,
                "email",
                "(not shown)",
                "not an email address",
            ));
        }
    }
    if let Some(p) = phone {
        check_private_text("phone", p, 40)?;
        if !p.chars().all(|c| c.is_ascii_digit() || " +()-".contains(c)) {
            return Err(reject(
                RejectionCode::Invalid,
                "phone",
                "(not shown)",
                "not a telephone number",
            ));
        }
    }
    let details =
        PersonalDetails { name: name.to_owned(), email: email.clone(), phone: phone.clone() };
    let text = serde_json::to_string(&details).expect("personal details serialize");
    seal_text(ctx, "name", id.as_str(), &text)
}

fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_matches('-').to_owned();
    out.chars().take(40).collect()
}
