//! The brokerage domain: one file per aggregate (school, practitioner,
//! request, assignment, run, partnership), each with a pure `decide` over the
//! whole `State`, the `Context` a command is decided in, and the rules it is
//! decided by (`Rules`, from the configuration). `State::apply` folds the
//! events back in. Nothing here knows of a CLI, a socket, a file or a clock:
//! the command's time, the acting user and the sealing of personal data come
//! in through `Context`. `crate::handle` is the one way in.

pub mod assignment;
pub mod calendar;
pub mod partnership;
pub mod practitioner;
pub mod request;
pub mod round;
pub mod run;
pub mod school;
pub mod state;

use bridges_schemas::brokerage::BrokeragePolicy;
use bridges_schemas::commands::{Command, Rejection, RejectionCode};
use bridges_schemas::events::{DaysPerPeriod, DomainEvent};
use bridges_schemas::vocab::{Sealed, UserId, is_subject_token};
use bridges_schemas::{Designation, NeedArea, Phase};
use chrono::{DateTime, NaiveDate, Utc};

pub use calendar::{Calendar, HalfTerm};
pub use state::State;

/// The rules commands are decided by: the LA's configuration as the domain
/// reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct Rules {
    pub la_code: u16,
    pub calendar: Calendar,
    pub needs: Vec<NeedRule>,
    pub titles: Vec<Title>,
    pub service: ServiceLevels,
    /// A school's risk tier from its inspection standing.
    pub risk: RiskRule,
    pub policy: BrokeragePolicy,
    /// Peer-review rounds: their policy, history years and review terms.
    pub rounds: round::RoundRules,
}

/// A need area and the phases of school it fits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NeedRule {
    pub area: NeedArea,
    pub phases: Vec<Phase>,
}

/// A configured designation title and its typical day rate (pounds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Title {
    pub name: Designation,
    pub day_rate: u32,
}

/// Service levels, in working days (DESIGN.md section 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceLevels {
    /// A request matched (a proposal made) within this many working days.
    pub match_within: u32,
    /// A proposal answered within this many, or it expires.
    pub answer_within: u32,
    /// First contact within this many of acceptance.
    pub first_contact_within: u32,
    /// Each visit recorded within this many of the visit.
    pub visit_record_within: u32,
}

/// The risk tier each inspection standing maps to (none: not at risk).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RiskRule {
    pub serious: Option<u8>,
    pub concern: Option<u8>,
    pub secure: Option<u8>,
    pub strong: Option<u8>,
}

/// Seals personal data and notes under a subject's key. The key store is
/// the shell's; to the domain sealing is a given capability, like the time.
pub trait Sealer: Send + Sync {
    /// `None` when the subject's key is gone (erased).
    fn seal(&self, subject: &str, plain: &[u8]) -> Option<Sealed>;
    /// The clear bytes, or `None` when the key is gone or the value does not open.
    fn unseal(&self, sealed: &Sealed) -> Option<Vec<u8>>;
}

/// What a command is decided in: when it happened, who acted, the rules, and
/// the sealer.
pub struct Context<'a> {
    pub at: DateTime<Utc>,
    pub actor: &'a UserId,
    pub rules: &'a Rules,
    pub sealer: &'a dyn Sealer,
}

impl<'a> Context<'a> {
    /// The date the command happened on, in England.
    pub fn today(&self) -> NaiveDate {
        calendar::london_date(self.at)
    }
}

/// Decides one command against the state: the events to append, or why not.
/// Pure: the same state, command and context give the same answer (a sealed
/// value's nonce aside).
pub fn decide(
    state: &State,
    command: &Command,
    ctx: &Context<'_>,
) -> Result<Vec<DomainEvent>, Rejection> {
    match command {
        Command::RegisterSchool(c) => school::register(state, c, ctx),
        Command::ChangeSchool(c) => school::change(state, c, ctx),
        Command::CloseSchool(c) => school::close(state, c),
        Command::RecordInspection(c) => school::record_inspection(state, c, ctx),
        Command::AssessRisk(c) => school::assess_risk(state, c),
        Command::DesignatePractitioner(c) => practitioner::designate(state, c, ctx),
        Command::ChangePractitioner(c) => practitioner::change(state, c, ctx),
        Command::DeclareAvailability(c) => practitioner::declare_availability(state, c, ctx),
        Command::RecordLeave(c) => practitioner::record_leave(state, c, ctx),
        Command::DeclareConflict(c) => practitioner::declare_conflict(state, c),
        Command::WithdrawConflict(c) => practitioner::withdraw_conflict(state, c),
        Command::WithdrawPractitioner(c) => practitioner::withdraw(state, c),
        Command::ErasePractitioner(c) => practitioner::erase(state, c),
        Command::RaiseRequest(c) => request::raise(state, c, ctx),
        Command::AmendRequest(c) => request::amend(state, c, ctx),
        Command::WithdrawRequest(c) => request::withdraw(state, c),
        Command::CloseRequest(c) => request::close(state, c, ctx),
        Command::ProposeAssignment(c) => assignment::propose(state, c, ctx),
        Command::AcceptAssignment(c) => assignment::accept(state, c, ctx),
        Command::DeclineAssignment(c) => assignment::decline(state, c, ctx),
        Command::ExpireAssignment(c) => assignment::expire(state, c, ctx),
        Command::WithdrawAssignment(c) => assignment::withdraw(state, c),
        Command::RecordFirstContact(c) => assignment::first_contact(state, c, ctx),
        Command::RecordVisit(c) => assignment::record_visit(state, c, ctx),
        Command::CorrectVisit(c) => assignment::correct_visit(state, c, ctx),
        Command::VoidVisit(c) => assignment::void_visit(state, c),
        Command::CancelVisit(c) => assignment::cancel_visit(state, c, ctx),
        Command::ConfirmVisit(c) => assignment::confirm_visit(state, c),
        Command::CompleteAssignment(c) => assignment::complete(state, c),
        Command::RecordRun(c) => run::record(state, c, ctx),
        Command::DiscardRun(c) => run::discard(state, c),
        Command::SetBudget(c) => partnership::set_budget(state, c, ctx),
        Command::SetBrokerageFee(c) => partnership::set_fee(state, c, ctx),
        Command::OpenRound(c) => round::open(state, c, ctx),
        Command::EnrolSchools(c) => round::enrol(state, c, ctx),
        Command::WithdrawFromRound(c) => round::withdraw(state, c),
        Command::FormRound(c) => round::form(state, c),
        Command::SwapSchools(c) => round::swap(state, c),
        Command::MoveSchool(c) => round::move_school(state, c),
        Command::ConfirmRound(c) => round::confirm(state, c),
        Command::RecordReview(c) => round::record_review(state, c, ctx),
        Command::ShareReport(c) => round::share(state, c),
        Command::CloseRound(c) => round::close(state, c),
    }
}

/// The streams whose state a command's rules read besides those it writes:
/// the handler appends with their versions as conditions, so a concurrent
/// change to them makes it decide again.
pub fn reads(state: &State, command: &Command) -> Vec<String> {
    let school = |urn: &bridges_schemas::Urn| format!("school-{urn}");
    let practitioner = |p: &bridges_schemas::PractitionerId| format!("practitioner-{p}");
    let request = |r: &bridges_schemas::RequestId| format!("request-{r}");
    let of_assignment = |a: &bridges_schemas::vocab::AssignmentId| {
        state
            .assignments
            .get(a)
            .map(|x| vec![request(&x.request), practitioner(&x.practitioner)])
            .unwrap_or_default()
    };
    match command {
        Command::DesignatePractitioner(c) => vec![school(&c.home_urn)],
        Command::ChangePractitioner(c) => vec![school(&c.home_urn)],
        Command::RaiseRequest(c) => vec![school(&c.urn)],
        Command::ProposeAssignment(c) => {
            let mut v = vec![practitioner(&c.practitioner), request(&c.request)];
            // Capacity is read from every assignment of the practitioner.
            v.extend(
                state
                    .assignments
                    .values()
                    .filter(|a| a.practitioner == c.practitioner)
                    .map(|a| format!("assignment-{}", a.id)),
            );
            v
        }
        Command::DeclareAvailability(c) => state
            .assignments
            .values()
            .filter(|a| a.practitioner == c.practitioner)
            .map(|a| format!("assignment-{}", a.id))
            .collect(),
        Command::AcceptAssignment(c) => of_assignment(&c.assignment),
        Command::RecordVisit(c) => of_assignment(&c.assignment),
        Command::CloseRequest(c) => {
            state.assignments_of(&c.request).map(|a| format!("assignment-{}", a.id)).collect()
        }
        _ => Vec::new(),
    }
}

/// The proposals past their answer window that a command looks at: the one
/// it answers or withdraws, and those whose held days its rules count (a
/// hand proposal counts its practitioner's and its request's, an amendment
/// its request's, a run's record everyone's). The handler records their
/// expiry, as the system, before deciding the command (DESIGN.md section 6:
/// "the next command or run that looks at it records the expiry").
pub fn overdue_touched(
    state: &State,
    command: &Command,
    today: NaiveDate,
) -> Vec<bridges_schemas::vocab::AssignmentId> {
    let overdue = |a: &&state::Assignment| assignment::is_overdue(a, today);
    let one = |id: &bridges_schemas::vocab::AssignmentId| {
        state.assignments.get(id).filter(overdue).map(|a| a.id.clone()).into_iter().collect()
    };
    match command {
        Command::AcceptAssignment(c) => one(&c.assignment),
        Command::DeclineAssignment(c) => one(&c.assignment),
        Command::WithdrawAssignment(c) => one(&c.assignment),
        Command::ProposeAssignment(c) => state
            .assignments
            .values()
            .filter(|a| a.practitioner == c.practitioner || a.request == c.request)
            .filter(overdue)
            .map(|a| a.id.clone())
            .collect(),
        Command::AmendRequest(c) => state
            .assignments
            .values()
            .filter(|a| a.request == c.request)
            .filter(overdue)
            .map(|a| a.id.clone())
            .collect(),
        Command::RecordRun(_) => {
            state.assignments.values().filter(overdue).map(|a| a.id.clone()).collect()
        }
        _ => Vec::new(),
    }
}

/// Whether a command's rules count days held across several assignment
/// streams (a request's, a practitioner's): a hand proposal, an
/// acceptance, a run's record, an availability, an amendment. Two of them
/// decided on the same state could each pass and together break a rule
/// (two practitioners on one request, more days than asked or free) while
/// appending to different streams, so the handler decides them one at a time.
pub fn counts_held_days(command: &Command) -> bool {
    matches!(
        command,
        Command::ProposeAssignment(_)
            | Command::AcceptAssignment(_)
            | Command::RecordRun(_)
            | Command::DeclareAvailability(_)
            | Command::AmendRequest(_)
    )
}

/// The subject whose key a command may seal under (the handler makes sure
/// a live subject has a key before deciding).
pub fn seal_subject(state: &State, command: &Command) -> Option<String> {
    let of_assignment = |a: &bridges_schemas::vocab::AssignmentId| {
        state.assignments.get(a).map(|x| x.practitioner.to_string())
    };
    match command {
        Command::DesignatePractitioner(c) => Some(c.practitioner.to_string()),
        Command::ChangePractitioner(c) => Some(c.practitioner.to_string()),
        Command::RecordLeave(c) => c.note.as_ref().map(|_| c.practitioner.to_string()),
        Command::DeclineAssignment(c) => c.note.as_ref().and_then(|_| of_assignment(&c.assignment)),
        Command::RecordFirstContact(c) => {
            c.note.as_ref().and_then(|_| of_assignment(&c.assignment))
        }
        Command::RecordVisit(c) => c.note.as_ref().and_then(|_| of_assignment(&c.assignment)),
        Command::CorrectVisit(c) => c.note.as_ref().and_then(|_| of_assignment(&c.assignment)),
        Command::CloseRequest(c) => c.note.as_ref().map(|_| request_key(&c.request)),
        _ => None,
    }
}

/// The key subject of a request's own notes.
pub fn request_key(request: &bridges_schemas::RequestId) -> String {
    format!("request-{request}")
}

// --- helpers shared by the aggregates -------------------------------------

pub(crate) fn reject(
    code: RejectionCode,
    field: &str,
    value: impl std::fmt::Display,
    reason: impl Into<String>,
) -> Rejection {
    Rejection::new(code, field, value, reason)
}

/// An id that stands in streams and subjects: at most `max` of the
/// contract's characters.
pub(crate) fn check_id(field: &str, id: &str, max: usize) -> Result<(), Rejection> {
    if !is_subject_token(id) || id.len() > max {
        return Err(reject(
            RejectionCode::Invalid,
            field,
            format!("{id:?}"),
            format!("an id is 1 to {max} ASCII letters, digits, - or _"),
        ));
    }
    Ok(())
}

/// Free text that must say something, at most `max` characters.
pub(crate) fn check_text(field: &str, text: &str, max: usize) -> Result<(), Rejection> {
    if text.trim().is_empty() {
        return Err(reject(
            RejectionCode::Invalid,
            field,
            format!("{text:?}"),
            "must not be empty",
        ));
    }
    if text.chars().count() > max {
        return Err(reject(
            RejectionCode::Invalid,
            field,
            text,
            format!("at most {max} characters"),
        ));
    }
    if text.chars().any(char::is_control) {
        return Err(reject(
            RejectionCode::Invalid,
            field,
            format!("{text:?}"),
            "must not contain control characters",
        ));
    }
    Ok(())
}

/// A need from the configured list that fits a school's phase.
pub(crate) fn check_need(
    rules: &Rules,
    need: &NeedArea,
    phase: Option<Phase>,
) -> Result<(), Rejection> {
    let Some(rule) = rules.needs.iter().find(|n| &n.area == need) else {
        let known: Vec<&str> = rules.needs.iter().map(|n| n.area.as_str()).collect();
        return Err(reject(
            RejectionCode::NotConfigured,
            "need",
            need,
            format!("not a configured need area ({})", known.join(", ")),
        ));
    };
    if let Some(phase) = phase
        && !rule.phases.contains(&phase)
    {
        return Err(reject(
            RejectionCode::PhaseMismatch,
            "need",
            need,
            format!("does not fit a {phase} school"),
        ));
    }
    Ok(())
}

/// A configured title.
pub(crate) fn check_title<'r>(
    rules: &'r Rules,
    field: &str,
    title: &Designation,
) -> Result<&'r Title, Rejection> {
    rules.titles.iter().find(|t| &t.name == title).ok_or_else(|| {
        let known: Vec<String> = rules.titles.iter().map(|t| t.name.to_string()).collect();
        reject(
            RejectionCode::NotConfigured,
            field,
            title,
            format!("not a configured title ({})", known.join(", ")),
        )
    })
}

/// Days per half-term: configured half-terms, at least one day each, none
/// in a half-term that has ended at `today`.
pub(crate) fn check_days(
    rules: &Rules,
    field: &str,
    days: &DaysPerPeriod,
    today: NaiveDate,
    allow_zero: bool,
) -> Result<(), Rejection> {
    if days.is_empty() {
        return Err(reject(RejectionCode::Invalid, field, "{}", "at least one half-term"));
    }
    for (period, d) in days {
        let f = format!("{field}.{period}");
        if rules.calendar.half_term(period).is_none() {
            return Err(reject(
                RejectionCode::NotConfigured,
                &f,
                period,
                "not a half-term of the configured calendar",
            ));
        }
        if *d == 0 && !allow_zero {
            return Err(reject(RejectionCode::Invalid, &f, d, "days must be at least 1"));
        }
        if *d > 60 {
            return Err(reject(RejectionCode::Invalid, &f, d, "at most 60 days in a half-term"));
        }
        if *d > 0 && rules.calendar.has_ended(period, today) {
            return Err(reject(
                RejectionCode::PeriodEnded,
                &f,
                period,
                format!("that half-term ended before {today}"),
            ));
        }
    }
    Ok(())
}

/// Personal data or a note that must say something, at most `max`
/// characters: as `check_text`, but a refusal never echoes the text (a
/// rejection is printed and logged by shells; the text is personal data).
pub(crate) fn check_private_text(field: &str, text: &str, max: usize) -> Result<(), Rejection> {
    let shown = || format!("(not shown, {} characters)", text.chars().count());
    if text.trim().is_empty() {
        return Err(reject(RejectionCode::Invalid, field, shown(), "must not be empty"));
    }
    if text.chars().count() > max {
        return Err(reject(
            RejectionCode::Invalid,
            field,
            shown(),
            format!("at most {max} characters"),
        ));
    }
    if text.chars().any(char::is_control) {
        return Err(reject(
            RejectionCode::Invalid,
            field,
            shown(),
            "must not contain control characters",
        ));
    }
    Ok(())
}

/// Seals `text` under `subject`, or rejects when the subject's key is gone.
pub(crate) fn seal_text(
    ctx: &Context<'_>,
    field: &str,
    subject: &str,
    text: &str,
) -> Result<Sealed, Rejection> {
    check_private_text(field, text, 2_000)?;
    ctx.sealer.seal(subject, text.as_bytes()).ok_or_else(|| {
        reject(
            RejectionCode::PersonalDataErased,
            field,
            subject,
            "the personal data of this subject was erased; nothing more is recorded about them",
        )
    })
}

/// Seals an optional note.
pub(crate) fn seal_note(
    ctx: &Context<'_>,
    field: &str,
    subject: &str,
    note: &Option<String>,
) -> Result<Option<Sealed>, Rejection> {
    note.as_deref().map(|n| seal_text(ctx, field, subject, n)).transpose()
}
