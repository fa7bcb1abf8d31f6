//! `bridges partnership budget|fee|show`: the partnership's year, its budget
//! per funding source and its brokerage fee, set through the engine; `show`
//! reads the state and the year's stream. No rule lives here.

use std::process::ExitCode;

use bridges_schemas::commands::{Command, SetBrokerageFee, SetBudget};
use bridges_schemas::vocab::{AcademicYearId, FundingSource};
use clap::Subcommand;

use super::parse;
use super::session::Session;
use crate::views;

#[derive(Debug, Subcommand)]
pub enum PartnershipCommand {
    /// Set the partnership's budget for a funding source in an academic year.
    #[command(
        after_help = "Example: bridges partnership budget --year 2026-27 --funding la_core --amount 50,000"
    )]
    Budget {
        /// The academic year, for example 2026-27.
        #[arg(long)]
        year: String,
        /// la_core, school_paid, rise or trust.
        #[arg(long, value_parser = parse::word::<FundingSource>)]
        funding: FundingSource,
        /// Pounds (and pence), for example 50,000 or 12500.50.
        #[arg(long, value_parser = parse::pounds)]
        amount: u64,
    },
    /// Set the brokerage fee for an academic year, a percentage of the days' cost.
    #[command(after_help = "Example: bridges partnership fee --year 2026-27 --percent 7.5")]
    Fee {
        #[arg(long)]
        year: String,
        /// A percentage with at most two decimals, for example 10 or 7.5.
        #[arg(long, value_parser = parse::percent)]
        percent: u32,
    },
    /// The year's budgets, fee and history.
    #[command(after_help = "Example: bridges partnership show 2026-27")]
    Show { year: String },
}

/// Runs one `bridges partnership` command.
pub async fn run(what: PartnershipCommand, session: &Session) -> anyhow::Result<ExitCode> {
    let command = match what {
        PartnershipCommand::Budget { year, funding, amount } => Command::SetBudget(SetBudget {
            year: AcademicYearId(year),
            funding,
            amount_pence: amount,
        }),
        PartnershipCommand::Fee { year, percent } => Command::SetBrokerageFee(SetBrokerageFee {
            year: AcademicYearId(year),
            basis_points: percent,
        }),
        PartnershipCommand::Show { year } => {
            let year = AcademicYearId(year);
            let history = session.history(&format!("partnership-{year}"))?;
            session.print(
                &session.engine()?.read(|s| views::partnership_show(s, &year, &history)).await?,
            );
            return Ok(ExitCode::SUCCESS);
        }
    };
    session.execute(command).await
}
