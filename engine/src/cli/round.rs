//! `bridges round open|enrol|withdraw|form|swap|move|confirm|review|share|
//! close|show|export`: a peer-review round. Every change is a command
//! through the engine; `form` runs `rounds::form` (snapshot, the triads
//! solver in process, the plan recorded through the engine); `show` prints
//! `rounds::show`, `export` writes `rounds::export`'s files. No rule lives here.

use std::path::PathBuf;
use std::process::ExitCode;

use bridges_schemas::commands::{
    CloseRound, Command, ConfirmRound, EnrolSchools, MoveSchool, OpenRound, RecordReview,
    RejectionCode, ShareReport, SwapSchools, WithdrawFromRound,
};
use bridges_schemas::events::RoundId;
use bridges_schemas::vocab::AcademicYearId;
use bridges_schemas::{Period, Phase, Urn};
use bridges_worker::common::SolveOptions;
use chrono::NaiveDate;
use clap::Subcommand;

use super::parse;
use super::session::Session;
use super::submit::result_of;
use crate::config::Config;
use crate::handle::Outcome;
use crate::rounds;

#[derive(Debug, Subcommand)]
pub enum RoundCommand {
    /// Open a round for an academic year (policy, history and review terms from config).
    #[command(
        after_help = "Examples:\n  bridges round open 2026-27-primary --year 2026-27\n  bridges round open 2026-27-primary --year 2026-27 --periods 2026-AU2,2027-SP1,2027-SP2,2027-SU1"
    )]
    Open {
        round: String,
        #[arg(long)]
        year: String,
        /// Half-terms reviews are hosted in (default: those of the year not yet ended).
        #[arg(long, value_delimiter = ',')]
        periods: Vec<String>,
    },
    /// Enrol schools, or every open school of the LA in a phase.
    #[command(
        after_help = "Examples:\n  bridges round enrol 2026-27-primary --phase primary\n  bridges round enrol 2026-27-primary 102400 102401"
    )]
    Enrol {
        round: String,
        #[arg(value_parser = parse::urn)]
        urns: Vec<Urn>,
        /// nursery, primary, middle, secondary, all-through, 16-plus or special.
        #[arg(long, value_parser = parse::word::<Phase>)]
        phase: Option<Phase>,
    },
    /// A school leaves the round (and its group).
    #[command(
        after_help = "Example: bridges round withdraw 2026-27-primary 102400 --reason \"new head\""
    )]
    Withdraw {
        round: String,
        #[arg(value_parser = parse::urn)]
        urn: Urn,
        #[arg(long)]
        reason: String,
    },
    /// Form the groups: the triads solver over the enrolled schools, with
    /// the groups of earlier confirmed rounds as history.
    #[command(after_help = "Example: bridges round form 2026-27-primary --time-limit 30")]
    Form {
        round: String,
        /// Seconds the solver may take (default: solver.time_limit_seconds).
        #[arg(long)]
        time_limit: Option<f64>,
    },
    /// Exchange two schools' places (one may be unplaced); checked against every hard rule.
    #[command(after_help = "Example: bridges round swap 2026-27-primary 102400 102455")]
    Swap {
        round: String,
        #[arg(value_parser = parse::urn)]
        a: Urn,
        #[arg(value_parser = parse::urn)]
        b: Urn,
    },
    /// Move a school into a group (`--to N`) or out of its group (`--out`).
    #[command(after_help = "Example: bridges round move 2026-27-primary 102400 --to 7")]
    Move {
        round: String,
        #[arg(value_parser = parse::urn)]
        urn: Urn,
        #[arg(long, conflicts_with = "out", required_unless_present = "out")]
        to: Option<u32>,
        #[arg(long)]
        out: bool,
    },
    /// Confirm the groups and publish the rota.
    #[command(after_help = "Example: bridges round confirm 2026-27-primary")]
    Confirm { round: String },
    /// Record a host's review as held.
    #[command(
        after_help = "Example: bridges round review 2026-27-primary 102400 --on 2026-11-12 --reviewers 102455,102460"
    )]
    Review {
        round: String,
        #[arg(value_parser = parse::urn)]
        host: Urn,
        #[arg(long, value_parser = parse::date)]
        on: NaiveDate,
        /// The reviewing schools present.
        #[arg(long, value_delimiter = ',', value_parser = parse::urn, required = true)]
        reviewers: Vec<Urn>,
        /// Days of each reviewer's time (default: the round's terms for the host's phase).
        #[arg(long)]
        days: Option<f64>,
    },
    /// Mark the host's report shared (`--shared yes`) or not (`--shared no`).
    #[command(after_help = "Example: bridges round share 2026-27-primary 102400 --shared yes")]
    Share {
        round: String,
        #[arg(value_parser = parse::urn)]
        host: Urn,
        #[arg(long, value_parser = yes_no, action = clap::ArgAction::Set)]
        shared: bool,
    },
    /// Close the round.
    #[command(after_help = "Example: bridges round close 2026-27-primary")]
    Close { round: String },
    /// Groups, rota, reasons, reviews and costs.
    #[command(after_help = "Example: bridges round show 2026-27-primary")]
    Show { round: String },
    /// Write groups.csv, rota.csv, schools.csv and round.html into a folder.
    #[command(after_help = "Example: bridges round export 2026-27-primary --out round-files")]
    Export {
        round: String,
        #[arg(long)]
        out: PathBuf,
    },
}

/// Runs one `bridges round` command.
pub async fn run(
    what: RoundCommand,
    config: &Config,
    session: &Session,
) -> anyhow::Result<ExitCode> {
    let id = |s: String| RoundId(s);
    let command = match what {
        RoundCommand::Open { round, year, periods } => Command::OpenRound(OpenRound {
            round: id(round),
            year: AcademicYearId(year),
            periods: (!periods.is_empty()).then(|| periods.into_iter().map(Period).collect()),
        }),
        RoundCommand::Enrol { round, urns, phase } => {
            Command::EnrolSchools(EnrolSchools { round: id(round), urns, phase })
        }
        RoundCommand::Withdraw { round, urn, reason } => {
            Command::WithdrawFromRound(WithdrawFromRound { round: id(round), urn, reason })
        }
        RoundCommand::Form { round, time_limit } => {
            let options = SolveOptions {
                time_limit: Some(time_limit.unwrap_or(config.solver.time_limit_seconds)),
                mip_gap: Some(config.solver.mip_gap).filter(|g| *g > 0.0),
            };
            return form(session, id(round), &options).await;
        }
        RoundCommand::Swap { round, a, b } => {
            Command::SwapSchools(SwapSchools { round: id(round), a, b })
        }
        RoundCommand::Move { round, urn, to, out: _ } => {
            Command::MoveSchool(MoveSchool { round: id(round), urn, to })
        }
        RoundCommand::Confirm { round } => Command::ConfirmRound(ConfirmRound { round: id(round) }),
        RoundCommand::Review { round, host, on, reviewers, days } => {
            Command::RecordReview(RecordReview { round: id(round), host, on, reviewers, days })
        }
        RoundCommand::Share { round, host, shared } => {
            Command::ShareReport(ShareReport { round: id(round), host, shared })
        }
        RoundCommand::Close { round } => Command::CloseRound(CloseRound { round: id(round) }),
        RoundCommand::Show { round } => {
            let round = id(round);
            let text = session
                .engine()?
                .read(|s| s.rounds.get(&round).map(|r| rounds::show::show(s, r)))
                .await?;
            return Ok(match text {
                Some(t) => {
                    session.print(&t);
                    ExitCode::SUCCESS
                }
                None => session.unknown(RejectionCode::UnknownRound, "round", &round),
            });
        }
        RoundCommand::Export { round, out } => {
            session.may_write("--out", &out)?;
            let round = id(round);
            let calendar = session.engine()?.rules().calendar.clone();
            let written = session
                .engine()?
                .read(|s| {
                    s.rounds.get(&round).map(|r| rounds::export::write(s, r, &calendar, &out))
                })
                .await?;
            return Ok(match written {
                None => session.unknown(RejectionCode::UnknownRound, "round", &round),
                Some(paths) => {
                    for p in paths.map_err(|e| {
                        super::CliError::environment(format!("writing {}: {e}", out.display()))
                    })? {
                        session.print(&format!("wrote {}\n", p.display()));
                    }
                    ExitCode::SUCCESS
                }
            });
        }
    };
    session.execute(command).await
}

/// Forms the round and prints what was recorded, then the round.
async fn form(
    session: &Session,
    round: RoundId,
    options: &SolveOptions,
) -> anyhow::Result<ExitCode> {
    let command_id = session.command_id();
    let formed = match rounds::form(
        session.engine()?,
        &round,
        command_id.clone(),
        session.actor(),
        session.at(),
        options,
    )
    .await
    {
        Ok(f) => f,
        Err(rounds::FormError::UnknownRound(r)) => {
            return Ok(session.unknown(RejectionCode::UnknownRound, "round", &r));
        }
        Err(rounds::FormError::Problem(why)) => {
            return Err(super::CliError::bad_input(format!("round {round}: {why}")).into());
        }
        Err(e) => return Err(e.into()),
    };
    if let Outcome::Rejected(r) = &formed.recorded {
        return Ok(session.refuse(r));
    }
    let result = result_of(&command_id, &formed.recorded);
    session.print(&format!(
        "formed {round}: {} of {} schools placed in {} groups ({}, bound {}, gap {:.2}%); solved in {:.2} s ({} events)\n",
        formed.plan.objective,
        formed.problem.schools.len(),
        formed.plan.groups.len(),
        formed.plan.status,
        formed.plan.bound,
        100.0 * formed.plan.gap,
        formed.solve_seconds,
        result.events.len()
    ));
    let text = session
        .engine()?
        .read(|s| s.rounds.get(&round).map(|r| rounds::show::show(s, r)))
        .await?
        .unwrap_or_default();
    session.print(&text);
    Ok(ExitCode::SUCCESS)
}

/// `yes` or `no`.
fn yes_no(s: &str) -> Result<bool, String> {
    match s {
        "yes" | "true" => Ok(true),
        "no" | "false" => Ok(false),
        _ => Err("expected yes or no".to_owned()),
    }
}
