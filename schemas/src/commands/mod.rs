//! Commands: what a person (or the engine itself) asks the engine to do, in
//! imperative names, each handled by the engine's one `handle` (decide, then
//! append). A command travels in a `CommandEnvelope` with its id (the
//! idempotency key), the acting user and the time it happened; the same JSON
//! comes from `bridges submit`, NATS (`<la>.cmd`) and the web page.
//!
//! What became of a command travels back as a `CommandResult` (one line of
//! `bridges submit`'s output, and the reply on `<la>.cmd`).
//!
//! Types only. Personal data arrives here in clear and is sealed by the
//! engine before anything is written.

mod assignment;
mod practitioner;
mod request;
mod round;
mod school;

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use assignment::*;
pub use practitioner::*;
pub use request::*;
pub use round::*;
pub use school::*;

use crate::vocab::{AcademicYearId, FundingSource, UserId};

/// One command with who asked for it and when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CommandEnvelope {
    /// The idempotency key: a command id seen before returns its first
    /// outcome and writes nothing. 1 to 64 ASCII letters, digits, `-`, `_`.
    pub id: String,
    pub actor: UserId,
    /// When it happened (the domain never reads a clock).
    #[schemars(with = "String")]
    pub at: DateTime<Utc>,
    pub command: Command,
}

/// Every command, tagged by `type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Command {
    RegisterSchool(RegisterSchool),
    ChangeSchool(ChangeSchool),
    CloseSchool(CloseSchool),
    RecordInspection(RecordInspection),
    AssessRisk(AssessRisk),
    DesignatePractitioner(DesignatePractitioner),
    ChangePractitioner(ChangePractitioner),
    DeclareAvailability(DeclareAvailability),
    RecordLeave(RecordLeave),
    DeclareConflict(DeclareConflict),
    WithdrawConflict(WithdrawConflict),
    WithdrawPractitioner(WithdrawPractitioner),
    ErasePractitioner(ErasePractitioner),
    RaiseRequest(RaiseRequest),
    AmendRequest(AmendRequest),
    WithdrawRequest(WithdrawRequest),
    CloseRequest(CloseRequest),
    ProposeAssignment(ProposeAssignment),
    AcceptAssignment(AcceptAssignment),
    DeclineAssignment(DeclineAssignment),
    ExpireAssignment(ExpireAssignment),
    WithdrawAssignment(WithdrawAssignment),
    RecordFirstContact(RecordFirstContact),
    RecordVisit(RecordVisit),
    CorrectVisit(CorrectVisit),
    VoidVisit(VoidVisit),
    CancelVisit(CancelVisit),
    ConfirmVisit(ConfirmVisit),
    CompleteAssignment(CompleteAssignment),
    RecordRun(Box<RecordRun>),
    DiscardRun(DiscardRun),
    SetBudget(SetBudget),
    SetBrokerageFee(SetBrokerageFee),
    OpenRound(OpenRound),
    EnrolSchools(EnrolSchools),
    WithdrawFromRound(WithdrawFromRound),
    FormRound(Box<FormRound>),
    SwapSchools(SwapSchools),
    MoveSchool(MoveSchool),
    ConfirmRound(ConfirmRound),
    RecordReview(RecordReview),
    ShareReport(ShareReport),
    CloseRound(CloseRound),
}

/// Set the partnership's budget for a funding source in an academic year.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SetBudget {
    pub year: AcademicYearId,
    pub funding: FundingSource,
    pub amount_pence: u64,
}

/// Set the partnership's brokerage fee for an academic year, in basis points.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SetBrokerageFee {
    pub year: AcademicYearId,
    pub basis_points: u32,
}

/// Why a command was refused: which rule, which field and value, and why, in
/// words a broker reads. A rejection writes nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, thiserror::Error)]
#[error("{field} = {value}: {reason}")]
#[serde(deny_unknown_fields)]
pub struct Rejection {
    pub code: RejectionCode,
    pub field: String,
    pub value: String,
    pub reason: String,
}

/// The rule a rejection names.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum RejectionCode {
    /// A value that is malformed whatever the state (an id, a date, a number).
    Invalid,
    UnknownSchool,
    SchoolClosed,
    UnknownPractitioner,
    PractitionerWithdrawn,
    PersonalDataErased,
    UnknownRequest,
    UnknownAssignment,
    UnknownVisit,
    UnknownConflict,
    UnknownRun,
    /// The id is taken.
    Duplicate,
    /// A need, title, half-term or year not in the configuration.
    NotConfigured,
    /// A need that does not fit the school's phase (no post-16 in a primary).
    PhaseMismatch,
    /// Days in a half-term that has already ended.
    PeriodEnded,
    /// A date after the command's time.
    InFuture,
    /// A visit outside the assignment's half-terms.
    OutsideHalfTerm,
    NotWorkingDay,
    /// More days than the assignment gives.
    BeyondAssigned,
    /// Availability below days already accepted.
    BelowAccepted,
    /// More days than the practitioner has free.
    OverCapacity,
    /// The practitioner cannot take this request (need, phase, title, conflict).
    Ineligible,
    /// The practitioner declined this request before (CONTRACTS.md rule 9).
    Excluded,
    /// The proposal's answer window has passed.
    Expired,
    /// The thing was withdrawn.
    Withdrawn,
    /// Not in a state that allows this (accepting an accepted proposal,
    /// amending a closed request).
    WrongState,
    /// A window that ends before it starts.
    Window,
    UnknownRound,
    /// The school is not enrolled in the round (or not in a group of it).
    NotEnrolled,
    /// A group would break a hard rule of the round (the field names the
    /// rule: `group_size`, `same_trust`, `phase_pools`, `history`,
    /// `max_distance_km`, `require_good_or_better`; the value the schools).
    HardRule,
}

impl Rejection {
    pub fn new(
        code: RejectionCode,
        field: impl Into<String>,
        value: impl std::fmt::Display,
        reason: impl Into<String>,
    ) -> Rejection {
        let value = value.to_string();
        // A value echoed back is cut to a readable length.
        let value = if value.chars().count() > 80 {
            format!("{}… ({} bytes)", value.chars().take(60).collect::<String>(), value.len())
        } else {
            value
        };
        Rejection { code, field: field.into(), value, reason: reason.into() }
    }
}

/// What became of one command: its id, the outcome, the events appended (or
/// the first outcome's positions for a duplicate), or the rejection. One line
/// of `bridges submit`'s output; the reply on `<la>.cmd`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CommandResult {
    /// The command's id; none when the input was too malformed to carry one.
    pub id: Option<String>,
    /// The input line it answers (`bridges submit`), from 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    pub outcome: CommandOutcome,
    /// Log positions of the events appended (for a duplicate, those of the
    /// first time the command was handled).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last: Option<u64>,
    /// The events appended by this command (empty unless `applied`).
    #[serde(default)]
    pub events: Vec<AppendedEvent>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejection: Option<Rejection>,
}

/// The four outcomes of a command.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum CommandOutcome {
    /// Its events were appended.
    Applied,
    /// Valid, and nothing to record (a re-import of an unchanged row).
    Unchanged,
    /// The command id was seen before; nothing was written this time.
    Duplicate,
    /// Refused; nothing was written.
    Rejected,
}

/// One event a command appended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AppendedEvent {
    pub position: u64,
    pub stream: String,
    #[serde(rename = "type")]
    pub type_name: String,
}

impl CommandResult {
    /// A rejection of command `id` (or of input without one).
    pub fn rejected(id: Option<String>, rejection: Rejection) -> CommandResult {
        CommandResult {
            id,
            line: None,
            outcome: CommandOutcome::Rejected,
            first: None,
            last: None,
            events: Vec::new(),
            rejection: Some(rejection),
        }
    }

    /// Whether the command stands (applied, unchanged or a duplicate).
    pub fn is_ok(&self) -> bool {
        self.outcome != CommandOutcome::Rejected
    }
}

impl Command {
    /// Commands only the engine issues itself (a proposal's expiry, a run's
    /// record and its discard): no shell takes them from a person.
    pub fn is_internal(&self) -> bool {
        matches!(
            self,
            Command::ExpireAssignment(_)
                | Command::RecordRun(_)
                | Command::DiscardRun(_)
                | Command::FormRound(_)
        )
    }

    /// The snake_case name of the command, as its `type` tag reads.
    pub fn name(&self) -> &'static str {
        match self {
            Command::RegisterSchool(_) => "register_school",
            Command::ChangeSchool(_) => "change_school",
            Command::CloseSchool(_) => "close_school",
            Command::RecordInspection(_) => "record_inspection",
            Command::AssessRisk(_) => "assess_risk",
            Command::DesignatePractitioner(_) => "designate_practitioner",
            Command::ChangePractitioner(_) => "change_practitioner",
            Command::DeclareAvailability(_) => "declare_availability",
            Command::RecordLeave(_) => "record_leave",
            Command::DeclareConflict(_) => "declare_conflict",
            Command::WithdrawConflict(_) => "withdraw_conflict",
            Command::WithdrawPractitioner(_) => "withdraw_practitioner",
            Command::ErasePractitioner(_) => "erase_practitioner",
            Command::RaiseRequest(_) => "raise_request",
            Command::AmendRequest(_) => "amend_request",
            Command::WithdrawRequest(_) => "withdraw_request",
            Command::CloseRequest(_) => "close_request",
            Command::ProposeAssignment(_) => "propose_assignment",
            Command::AcceptAssignment(_) => "accept_assignment",
            Command::DeclineAssignment(_) => "decline_assignment",
            Command::ExpireAssignment(_) => "expire_assignment",
            Command::WithdrawAssignment(_) => "withdraw_assignment",
            Command::RecordFirstContact(_) => "record_first_contact",
            Command::RecordVisit(_) => "record_visit",
            Command::CorrectVisit(_) => "correct_visit",
            Command::VoidVisit(_) => "void_visit",
            Command::CancelVisit(_) => "cancel_visit",
            Command::ConfirmVisit(_) => "confirm_visit",
            Command::CompleteAssignment(_) => "complete_assignment",
            Command::RecordRun(_) => "record_run",
            Command::DiscardRun(_) => "discard_run",
            Command::SetBudget(_) => "set_budget",
            Command::SetBrokerageFee(_) => "set_brokerage_fee",
            Command::OpenRound(_) => "open_round",
            Command::EnrolSchools(_) => "enrol_schools",
            Command::WithdrawFromRound(_) => "withdraw_from_round",
            Command::FormRound(_) => "form_round",
            Command::SwapSchools(_) => "swap_schools",
            Command::MoveSchool(_) => "move_school",
            Command::ConfirmRound(_) => "confirm_round",
            Command::RecordReview(_) => "record_review",
            Command::ShareReport(_) => "share_report",
            Command::CloseRound(_) => "close_round",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_reads_from_its_json_and_refuses_unknown_fields() {
        let text = r#"{"id":"c-1","actor":"broker-1","at":"2026-09-07T09:00:00Z",
            "command":{"type":"withdraw_request","request":"req-9","reason":"school found support"}}"#;
        let c: CommandEnvelope = serde_json::from_str(text).expect("reads");
        assert_eq!(c.command.name(), "withdraw_request");
        let back = serde_json::to_value(&c).expect("writes");
        assert_eq!(back["command"]["type"], "withdraw_request");
        let typo = text.replace("\"reason\"", "\"reasn\"");
        let err = serde_json::from_str::<CommandEnvelope>(&typo).expect_err("typo refused");
        assert!(err.to_string().contains("reasn"), "{err}");
        let unknown = text.replace("withdraw_request", "withdraw_everything");
        assert!(serde_json::from_str::<CommandEnvelope>(&unknown).is_err());
    }

    /// Given an applied command and a rejected one, when their results are
    /// written, then each reads as `bridges submit` documents it and back.
    #[test]
    fn a_command_result_reads_as_documented() {
        let applied = CommandResult {
            id: Some("c-1".into()),
            line: Some(1),
            outcome: CommandOutcome::Applied,
            first: Some(12),
            last: Some(12),
            events: vec![AppendedEvent {
                position: 12,
                stream: "request-req-9".into(),
                type_name: "RequestWithdrawn".into(),
            }],
            rejection: None,
        };
        let text = serde_json::to_string(&applied).expect("writes");
        assert_eq!(
            text,
            r#"{"id":"c-1","line":1,"outcome":"applied","first":12,"last":12,"events":[{"position":12,"stream":"request-req-9","type":"RequestWithdrawn"}]}"#
        );
        assert_eq!(serde_json::from_str::<CommandResult>(&text).expect("reads"), applied);
        let r = Rejection::new(RejectionCode::UnknownSchool, "urn", 999999, "no such school");
        let rejected = CommandResult::rejected(None, r);
        assert!(!rejected.is_ok());
        let v = serde_json::to_value(&rejected).expect("writes");
        assert_eq!(v["outcome"], "rejected");
        assert_eq!(v["rejection"]["code"], "unknown_school");
        assert_eq!(v["id"], serde_json::Value::Null);
        let internal = Command::ExpireAssignment(ExpireAssignment { assignment: "a-1".into() });
        assert!(internal.is_internal());
    }
}
