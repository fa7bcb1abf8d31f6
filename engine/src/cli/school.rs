//! `bridges school register|change|close|inspect|assess-risk|show|list`:
//! flags to a school command, handled by the engine; `show` and `list` read
//! the state and the school's stream (`crate::views`). No rule lives here:
//! `change` only fills the flags left out from the school's current record.

use std::process::ExitCode;

use bridges_schemas::commands::{
    AssessRisk, ChangeSchool, CloseSchool, Command, RecordInspection, RegisterSchool, RejectionCode,
};
use bridges_schemas::inspection::{InspectionOutcome, Ofsted};
use bridges_schemas::vocab::RiskSource;
use bridges_schemas::{Phase, Urn};
use chrono::NaiveDate;
use clap::Subcommand;

use super::parse;
use super::session::Session;
use crate::views;

#[derive(Debug, Subcommand)]
pub enum SchoolCommand {
    /// Register a school of the LA, as its GIAS row says.
    #[command(
        after_help = "Example: bridges school register 102400 --name \"Cherry Lane Primary\" \
        --phase primary --trust \"Heathrow Learning Trust\" --easting 507000 --northing 182000 --pupils 420 --postcode \"UB8 1PH\""
    )]
    Register(RegisterArgs),
    /// Record what GIAS now says about a school; flags left out keep their value.
    #[command(
        after_help = "Example: bridges school change 102400 --name \"Cherry Lane Primary Academy\" --pupils 430"
    )]
    Change(ChangeArgs),
    /// Record that a school has closed (it takes no new requests).
    #[command(
        after_help = "Example: bridges school close 102400 --on 2026-12-31 --reason \"merged with 102401\""
    )]
    Close {
        #[arg(value_parser = parse::urn)]
        urn: Urn,
        /// The day it closed.
        #[arg(long, value_parser = parse::date)]
        on: Option<NaiveDate>,
        #[arg(long)]
        reason: String,
    },
    /// Record a school's latest inspection outcome; its risk follows the configured rule.
    #[command(
        after_help = "Examples:\n  bridges school inspect 102400 --overall requires_improvement --published 2023-05-10\n  \
        bridges school inspect 102400 --outcome '{\"framework\":\"report_card\",\"published\":\"2026-02-11\",\"grades\":{...},\"safeguarding\":\"met\"}'"
    )]
    Inspect(InspectArgs),
    /// Set or clear a school's risk tier (the LA's assessment, a RISE referral).
    #[command(
        after_help = "Example: bridges school assess-risk 102400 --tier 1 --source rise --reason \"RISE referral: stuck school\""
    )]
    AssessRisk {
        #[arg(value_parser = parse::urn)]
        urn: Urn,
        /// 1 (most at risk) to 4, or none.
        #[arg(long, value_parser = parse::risk_tier)]
        tier: parse::RiskTier,
        #[arg(long)]
        reason: String,
        /// la, rise or inspection_rule.
        #[arg(long, default_value = "la", value_parser = parse::word::<RiskSource>)]
        source: RiskSource,
    },
    /// A school's record, inspection, risk, requests and whole history.
    #[command(after_help = "Example: bridges school show 102400")]
    Show {
        #[arg(value_parser = parse::urn)]
        urn: Urn,
    },
    /// Every school, with its standing and risk tier.
    #[command(after_help = "Example: bridges school list")]
    List,
}

#[derive(Debug, clap::Args)]
pub struct RegisterArgs {
    /// The school's six-digit URN.
    #[arg(value_parser = parse::urn)]
    urn: Urn,
    #[arg(long)]
    name: String,
    /// The three-digit LA code (default: the LA this engine serves).
    #[arg(long)]
    la: Option<u16>,
    /// nursery, primary, middle, secondary, all-through, 16-plus or special.
    #[arg(long, value_parser = parse::word::<Phase>)]
    phase: Phase,
    /// Its trust or federation, if any.
    #[arg(long)]
    trust: Option<String>,
    /// British National Grid easting, metres.
    #[arg(long)]
    easting: f64,
    /// British National Grid northing, metres.
    #[arg(long)]
    northing: f64,
    #[arg(long)]
    pupils: Option<u32>,
    /// The school's postcode; its district (UB8) is its locality.
    #[arg(long)]
    postcode: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct ChangeArgs {
    #[arg(value_parser = parse::urn)]
    urn: Urn,
    #[arg(long)]
    name: Option<String>,
    #[arg(long, value_parser = parse::word::<Phase>)]
    phase: Option<Phase>,
    #[arg(long, conflicts_with = "no_trust")]
    trust: Option<String>,
    /// The school no longer belongs to a trust.
    #[arg(long)]
    no_trust: bool,
    #[arg(long)]
    easting: Option<f64>,
    #[arg(long)]
    northing: Option<f64>,
    #[arg(long)]
    pupils: Option<u32>,
    #[arg(long)]
    postcode: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct InspectArgs {
    #[arg(value_parser = parse::urn)]
    urn: Urn,
    /// An overall grade (inspections before September 2024): outstanding,
    /// good, requires_improvement or inadequate.
    #[arg(long, value_parser = parse::word::<Ofsted>, required_unless_present = "outcome", conflicts_with = "outcome")]
    overall: Option<Ofsted>,
    /// The day the report was published (with --overall).
    #[arg(long, value_parser = parse::date, requires = "overall")]
    published: Option<NaiveDate>,
    /// An outcome in any framework, as JSON (CONTRACTS.md "Inspection outcomes").
    #[arg(long, value_parser = outcome_json)]
    outcome: Option<InspectionOutcome>,
    /// Where it came from: manual (read from the report), csv or gias.
    #[arg(long, default_value = "manual")]
    source: String,
}

fn outcome_json(s: &str) -> Result<InspectionOutcome, String> {
    serde_json::from_str(s).map_err(|e| format!("not an inspection outcome: {e}"))
}

/// Runs one `bridges school` command.
pub async fn run(what: SchoolCommand, session: &Session) -> anyhow::Result<ExitCode> {
    let command = match what {
        SchoolCommand::Register(a) => Command::RegisterSchool(RegisterSchool {
            urn: a.urn,
            name: a.name,
            la_code: a.la.unwrap_or(session.engine()?.rules().la_code),
            phase: a.phase,
            trust: a.trust,
            easting: a.easting,
            northing: a.northing,
            pupils: a.pupils,
            postcode: a.postcode,
        }),
        SchoolCommand::Change(a) => {
            let current = session.engine()?.read(|s| s.schools.get(&a.urn).cloned()).await?;
            // An unknown school is the domain's to refuse; its fields are then moot.
            let (name, phase, trust, easting, northing, pupils, postcode) = match current {
                Some(s) => (s.name, s.phase, s.trust, s.easting, s.northing, s.pupils, s.postcode),
                None => (String::new(), Phase::Primary, None, 0.0, 0.0, None, None),
            };
            Command::ChangeSchool(ChangeSchool {
                urn: a.urn,
                name: a.name.unwrap_or(name),
                phase: a.phase.unwrap_or(phase),
                trust: if a.no_trust { None } else { a.trust.or(trust) },
                easting: a.easting.unwrap_or(easting),
                northing: a.northing.unwrap_or(northing),
                pupils: a.pupils.or(pupils),
                postcode: a.postcode.or(postcode),
            })
        }
        SchoolCommand::Close { urn, on, reason } => {
            Command::CloseSchool(CloseSchool { urn, closed_on: on, reason })
        }
        SchoolCommand::Inspect(a) => {
            let outcome = match (a.outcome, a.overall) {
                (Some(o), _) => o,
                (None, Some(overall)) => {
                    InspectionOutcome::Overall { published: a.published, overall }
                }
                (None, None) => anyhow::bail!("give --overall or --outcome"),
            };
            Command::RecordInspection(RecordInspection { urn: a.urn, outcome, source: a.source })
        }
        SchoolCommand::AssessRisk { urn, tier, reason, source } => {
            Command::AssessRisk(AssessRisk { urn, tier: tier.0, reason, source })
        }
        SchoolCommand::Show { urn } => {
            let history = session.history(&format!("school-{urn}"))?;
            let text = session.engine()?.read(|s| views::school_show(s, urn, &history)).await?;
            return Ok(match text {
                Some(t) => {
                    session.print(&t);
                    ExitCode::SUCCESS
                }
                None => session.unknown(RejectionCode::UnknownSchool, "urn", urn),
            });
        }
        SchoolCommand::List => {
            session.print(&session.engine()?.read(views::school_list).await?);
            return Ok(ExitCode::SUCCESS);
        }
    };
    session.execute(command).await
}
