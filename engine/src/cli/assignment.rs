//! `bridges assignment propose|accept|decline|withdraw|contact|visit|
//! correct-visit|void-visit|cancel-visit|confirm-visit|complete|show|list`:
//! flags to an assignment command, handled by the engine; `show` and `list`
//! read the state and the assignment's stream (`crate::views`). No rule
//! lives here: `correct-visit` only fills the flags left out from the visit
//! as recorded (its note opened through the key store).

use std::process::ExitCode;

use bridges_schemas::commands::{
    AcceptAssignment, CancelVisit, Command, CompleteAssignment, ConfirmVisit, CorrectVisit,
    DeclineAssignment, ProposeAssignment, RecordFirstContact, RecordVisit, RejectionCode,
    VoidVisit, WithdrawAssignment,
};
use bridges_schemas::vocab::{AssignmentId, DeclineReason, VisitId};
use bridges_schemas::{Period, PractitionerId, RequestId};
use chrono::NaiveDate;
use clap::Subcommand;

use super::parse;
use super::session::Session;
use crate::views::{self, AssignmentFilter};

#[derive(Debug, Subcommand)]
pub enum AssignmentCommand {
    /// Propose a practitioner's days on a request by hand (the contract's hard rules apply).
    #[command(
        after_help = "Example: bridges assignment propose --request req-9 --practitioner sle-17 --days 2026-AU1=2"
    )]
    Propose {
        #[arg(long)]
        request: String,
        #[arg(long)]
        practitioner: String,
        /// Days per half-term, HALF-TERM=DAYS, repeated or comma-separated.
        #[arg(long, value_name = "HALF-TERM=DAYS", value_delimiter = ',', value_parser = parse::period_days, required = true)]
        days: Vec<(Period, u32)>,
        /// The assignment's id (default: <request>-h<n>).
        #[arg(long)]
        assignment: Option<String>,
    },
    /// Accept a proposal within its answer window (the practitioner, or a broker for them).
    #[command(after_help = "Example: bridges assignment accept req-9-h1")]
    Accept { assignment: String },
    /// Decline a proposal: the practitioner is not proposed on this request again.
    #[command(
        after_help = "Example: bridges assignment decline req-9-h1 --reason no_release --note \"Ofsted due\""
    )]
    Decline {
        assignment: String,
        /// no_release, conflict, not_my_area, logistics or other.
        #[arg(long, value_parser = parse::word::<DeclineReason>)]
        reason: DeclineReason,
        /// A note (sealed under the practitioner's key).
        #[arg(long)]
        note: Option<String>,
    },
    /// Withdraw a proposal or an accepted assignment.
    #[command(
        after_help = "Example: bridges assignment withdraw req-9-h1 --reason \"request changed\""
    )]
    Withdraw {
        assignment: String,
        #[arg(long)]
        reason: String,
    },
    /// Record the practitioner's first contact with the receiving school.
    #[command(after_help = "Example: bridges assignment contact req-9-h1 --on 2026-09-09")]
    Contact {
        assignment: String,
        #[arg(long, value_parser = parse::date)]
        on: NaiveDate,
        #[arg(long)]
        note: Option<String>,
    },
    /// Record a visit of an accepted assignment, in half days.
    #[command(
        after_help = "Example: bridges assignment visit req-9-h1 --on 2026-09-15 --half-days 2 --note \"maths lead, Y4 books\""
    )]
    Visit {
        assignment: String,
        #[arg(long, value_parser = parse::date)]
        on: NaiveDate,
        /// 1 (half a day) or 2 (a day).
        #[arg(long, default_value_t = 2)]
        half_days: u32,
        /// The visit's id (default: v<n>).
        #[arg(long)]
        visit: Option<String>,
        #[arg(long)]
        note: Option<String>,
    },
    /// Correct a recorded visit; flags left out keep their value.
    #[command(
        after_help = "Example: bridges assignment correct-visit req-9-h1 --visit v1 --on 2026-09-16"
    )]
    CorrectVisit {
        assignment: String,
        #[arg(long)]
        visit: String,
        #[arg(long, value_parser = parse::date)]
        on: Option<NaiveDate>,
        #[arg(long)]
        half_days: Option<u32>,
        #[arg(long)]
        note: Option<String>,
    },
    /// Void a visit recorded in error.
    #[command(
        after_help = "Example: bridges assignment void-visit req-9-h1 --visit v1 --reason \"recorded twice\""
    )]
    VoidVisit {
        assignment: String,
        #[arg(long)]
        visit: String,
        #[arg(long)]
        reason: String,
    },
    /// Record a planned visit that was cancelled, or a no-show, charged or not.
    #[command(
        after_help = "Example: bridges assignment cancel-visit req-9-h1 --on 2026-09-22 --half-days 2 --no-show --charged"
    )]
    CancelVisit {
        assignment: String,
        #[arg(long, value_parser = parse::date)]
        on: NaiveDate,
        #[arg(long, default_value_t = 2)]
        half_days: u32,
        #[arg(long)]
        visit: Option<String>,
        /// Nobody showed (otherwise it was cancelled ahead).
        #[arg(long)]
        no_show: bool,
        /// The school is charged for it.
        #[arg(long)]
        charged: bool,
    },
    /// The receiving school confirms a recorded visit took place.
    #[command(after_help = "Example: bridges assignment confirm-visit req-9-h1 --visit v1")]
    ConfirmVisit {
        assignment: String,
        #[arg(long)]
        visit: String,
    },
    /// Mark an accepted assignment's work as done.
    #[command(after_help = "Example: bridges assignment complete req-9-h1")]
    Complete { assignment: String },
    /// An assignment's terms, answer, visits, notes and whole history.
    #[command(after_help = "Example: bridges assignment show req-9-h1")]
    Show { assignment: String },
    /// Assignments (of a request, of a practitioner).
    #[command(after_help = "Example: bridges assignment list --practitioner sle-17")]
    List {
        #[arg(long)]
        request: Option<String>,
        #[arg(long)]
        practitioner: Option<String>,
    },
}

/// Runs one `bridges assignment` command.
pub async fn run(what: AssignmentCommand, session: &Session) -> anyhow::Result<ExitCode> {
    let command = match what {
        AssignmentCommand::Propose { request, practitioner, days, assignment } => {
            let days = match parse::days_map(&days) {
                Ok(d) => d,
                Err(r) => return Ok(session.refuse(&r)),
            };
            Command::ProposeAssignment(ProposeAssignment {
                assignment: assignment.map(AssignmentId),
                request: RequestId(request),
                practitioner: PractitionerId(practitioner),
                days,
            })
        }
        AssignmentCommand::Accept { assignment } => {
            Command::AcceptAssignment(AcceptAssignment { assignment: AssignmentId(assignment) })
        }
        AssignmentCommand::Decline { assignment, reason, note } => {
            Command::DeclineAssignment(DeclineAssignment {
                assignment: AssignmentId(assignment),
                reason,
                note,
            })
        }
        AssignmentCommand::Withdraw { assignment, reason } => {
            Command::WithdrawAssignment(WithdrawAssignment {
                assignment: AssignmentId(assignment),
                reason,
            })
        }
        AssignmentCommand::Contact { assignment, on, note } => {
            Command::RecordFirstContact(RecordFirstContact {
                assignment: AssignmentId(assignment),
                on,
                note,
            })
        }
        AssignmentCommand::Visit { assignment, on, half_days, visit, note } => {
            Command::RecordVisit(RecordVisit {
                assignment: AssignmentId(assignment),
                visit: visit.map(VisitId),
                on,
                half_days,
                note,
            })
        }
        AssignmentCommand::CorrectVisit { assignment, visit, on, half_days, note } => {
            let (a, v) = (AssignmentId(assignment), VisitId(visit));
            let keys = session.engine()?.keys();
            let recorded = session
                .engine()?
                .read(|s| {
                    let visit = s.assignments.get(&a)?.visits.get(&v)?;
                    let note = visit.note.as_ref().map(|n| views::open_text(keys, n));
                    Some((visit.on, visit.half_days, note))
                })
                .await?;
            // An unknown visit is the domain's to refuse; the fields are then moot.
            let (was_on, was_half_days, was_note) = recorded.unwrap_or((NaiveDate::MIN, 2, None));
            // A note whose key is gone is not carried over as "(erased)".
            let was_note = was_note.filter(|n| n != views::ERASED);
            Command::CorrectVisit(CorrectVisit {
                assignment: a,
                visit: v,
                on: on.unwrap_or(was_on),
                half_days: half_days.unwrap_or(was_half_days),
                note: note.or(was_note),
            })
        }
        AssignmentCommand::VoidVisit { assignment, visit, reason } => {
            Command::VoidVisit(VoidVisit {
                assignment: AssignmentId(assignment),
                visit: VisitId(visit),
                reason,
            })
        }
        AssignmentCommand::CancelVisit { assignment, on, half_days, visit, no_show, charged } => {
            Command::CancelVisit(CancelVisit {
                assignment: AssignmentId(assignment),
                visit: visit.map(VisitId),
                on,
                half_days,
                no_show,
                charged,
            })
        }
        AssignmentCommand::ConfirmVisit { assignment, visit } => {
            Command::ConfirmVisit(ConfirmVisit {
                assignment: AssignmentId(assignment),
                visit: VisitId(visit),
            })
        }
        AssignmentCommand::Complete { assignment } => {
            Command::CompleteAssignment(CompleteAssignment { assignment: AssignmentId(assignment) })
        }
        AssignmentCommand::Show { assignment } => {
            let id = AssignmentId(assignment);
            let history = session.history(&format!("assignment-{id}"))?;
            let keys = session.engine()?.keys();
            let text =
                session.engine()?.read(|s| views::assignment_show(s, &id, keys, &history)).await?;
            return Ok(match text {
                Some(t) => {
                    session.print(&t);
                    ExitCode::SUCCESS
                }
                None => session.unknown(RejectionCode::UnknownAssignment, "assignment", id),
            });
        }
        AssignmentCommand::List { request, practitioner } => {
            let filter = AssignmentFilter {
                request: request.map(RequestId),
                practitioner: practitioner.map(PractitionerId),
            };
            session.print(&session.engine()?.read(|s| views::assignment_list(s, &filter)).await?);
            return Ok(ExitCode::SUCCESS);
        }
    };
    session.execute(command).await
}
