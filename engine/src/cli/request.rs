//! `bridges request raise|amend|withdraw|close|show|list|recommend`: flags
//! to a request command, handled by the engine; `show` and `list` read the
//! state and the streams of the request and its assignments (`crate::views`,
//! which also holds the match clock behind `list --late`); `recommend` reads
//! who could take it now (`crate::recommend`, printed by
//! `render::recommendation`, or as the `Recommendation` document with
//! `--json`). No rule lives here.

use std::process::ExitCode;

use bridges_schemas::commands::{
    AmendRequest, CloseRequest, Command, RaiseRequest, RejectionCode, WithdrawRequest,
};
use bridges_schemas::vocab::{FundingSource, ImpactRating, TierChoice};
use bridges_schemas::{Designation, NeedArea, Period, RequestId, Urn};
use clap::Subcommand;

use super::parse;
use super::session::Session;
use crate::recommend::{self, RecommendError};
use crate::render;
use crate::views::{self, RequestFilter};

#[derive(Debug, Subcommand)]
pub enum RequestCommand {
    /// Raise a school's request for days of support in a need area.
    #[command(after_help = "Example: bridges request raise req-9 --urn 102400 --need maths \
        --designations SLE,LLE --tier 2 --days 2026-AU1=2,2026-AU2=1 --funding la_core")]
    Raise(RaiseArgs),
    /// Amend an open request; flags left out stay as they are (days 0 drops a half-term).
    #[command(after_help = "Example: bridges request amend req-9 --days 2026-AU2=2 --tier follow")]
    Amend(AmendArgs),
    /// Withdraw an open request: nothing more is proposed on it.
    #[command(
        after_help = "Example: bridges request withdraw req-9 --reason \"the school found support\""
    )]
    Withdraw {
        request: String,
        #[arg(long)]
        reason: String,
    },
    /// Close a request with the receiving school's impact rating.
    #[command(
        after_help = "Example: bridges request close req-9 --impact moderate --note \"phonics scores up\""
    )]
    Close {
        request: String,
        /// significant, moderate, limited or none.
        #[arg(long, value_parser = parse::word::<ImpactRating>)]
        impact: ImpactRating,
        /// The school's note (sealed under the request's own key).
        #[arg(long)]
        note: Option<String>,
    },
    /// A request's terms, status, match clock, assignments and whole history.
    #[command(after_help = "Example: bridges request show req-9")]
    Show { request: String },
    /// Requests, with the days held in the planning half-terms and their match clock.
    #[command(
        after_help = "Examples:\n  bridges request list --open\n  bridges request list --unmet\n  \
        bridges request list --late --at 2026-09-10T09:00:00Z"
    )]
    List {
        /// Only open requests (neither withdrawn nor closed).
        #[arg(long)]
        open: bool,
        /// Only open requests with no days held in the planning half-terms.
        #[arg(long)]
        unmet: bool,
        /// Only open requests whose match clock is late.
        #[arg(long)]
        late: bool,
    },
    /// Who could take an open request now, ranked as a matching run would
    /// choose for it alone, and why each other practitioner cannot. Records nothing.
    #[command(
        after_help = "Examples:\n  bridges request recommend req-9\n  bridges request recommend req-9 --json"
    )]
    Recommend {
        request: String,
        /// Print the Recommendation document (schemas/json/recommendation.schema.json).
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, clap::Args)]
pub struct RaiseArgs {
    /// The request's id, for example req-9.
    request: String,
    /// The receiving school.
    #[arg(long, value_parser = parse::urn)]
    urn: Urn,
    /// A configured need area, for example maths.
    #[arg(long)]
    need: String,
    /// The titles it accepts, comma-separated.
    #[arg(long, value_delimiter = ',', required = true)]
    designations: Vec<String>,
    /// 1 (most urgent) to 4, or follow (the school's risk tier; 4 while it has none).
    #[arg(long, value_parser = parse::tier)]
    tier: TierChoice,
    /// Days per half-term, HALF-TERM=DAYS, repeated or comma-separated.
    #[arg(long, value_name = "HALF-TERM=DAYS", value_delimiter = ',', value_parser = parse::period_days, required = true)]
    days: Vec<(Period, u32)>,
    /// la_core, school_paid, rise or trust.
    #[arg(long, default_value = "la_core", value_parser = parse::word::<FundingSource>)]
    funding: FundingSource,
    /// The school's purchase-order number, for its recharge statement.
    #[arg(long)]
    purchase_order: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct AmendArgs {
    request: String,
    #[arg(long)]
    need: Option<String>,
    #[arg(long, value_delimiter = ',')]
    designations: Option<Vec<String>>,
    #[arg(long, value_parser = parse::tier)]
    tier: Option<TierChoice>,
    /// Days per half-term to set, HALF-TERM=DAYS (0 drops the half-term).
    #[arg(long, value_name = "HALF-TERM=DAYS", value_delimiter = ',', value_parser = parse::period_days)]
    days: Option<Vec<(Period, u32)>>,
    #[arg(long, value_parser = parse::word::<FundingSource>)]
    funding: Option<FundingSource>,
    #[arg(long)]
    purchase_order: Option<String>,
}

/// Runs one `bridges request` command.
pub async fn run(what: RequestCommand, session: &Session) -> anyhow::Result<ExitCode> {
    let titles = |v: Vec<String>| v.into_iter().map(Designation).collect::<Vec<_>>();
    let command = match what {
        RequestCommand::Raise(a) => {
            let days = match parse::days_map(&a.days) {
                Ok(d) => d,
                Err(r) => return Ok(session.refuse(&r)),
            };
            Command::RaiseRequest(RaiseRequest {
                request: RequestId(a.request),
                urn: a.urn,
                need: NeedArea(a.need),
                designations: titles(a.designations),
                tier: a.tier,
                days,
                funding: a.funding,
                purchase_order: a.purchase_order,
            })
        }
        RequestCommand::Amend(a) => {
            let days = match a.days.as_deref().map(parse::days_map).transpose() {
                Ok(d) => d,
                Err(r) => return Ok(session.refuse(&r)),
            };
            Command::AmendRequest(AmendRequest {
                request: RequestId(a.request),
                need: a.need.map(NeedArea),
                designations: a.designations.map(titles),
                tier: a.tier,
                days,
                funding: a.funding,
                purchase_order: a.purchase_order,
            })
        }
        RequestCommand::Withdraw { request, reason } => {
            Command::WithdrawRequest(WithdrawRequest { request: RequestId(request), reason })
        }
        RequestCommand::Close { request, impact, note } => {
            Command::CloseRequest(CloseRequest { request: RequestId(request), impact, note })
        }
        RequestCommand::Show { request } => {
            let id = RequestId(request);
            let history = session.engine()?.request_history(&id).await?;
            let (keys, at) = (session.engine()?.keys(), session.at());
            let rules = session.engine()?.rules();
            let text = session
                .engine()?
                .read(|s| views::request_show(s, rules, &id, keys, at, &history))
                .await?;
            return Ok(match text {
                Some(t) => {
                    session.print(&t);
                    ExitCode::SUCCESS
                }
                None => session.unknown(RejectionCode::UnknownRequest, "request", id),
            });
        }
        RequestCommand::List { open, unmet, late } => {
            let filter = RequestFilter { open, unmet, late };
            let (rules, at) = (session.engine()?.rules(), session.at());
            let rows =
                session.engine()?.read(|s| views::request_rows(s, rules, at, filter)).await?;
            session.print(&views::request_list(&rows));
            return Ok(ExitCode::SUCCESS);
        }
        RequestCommand::Recommend { request, json } => {
            let id = RequestId(request);
            let (rules, at) = (session.engine()?.rules(), session.at());
            let text = session
                .engine()?
                .read(|s| {
                    recommend::recommend(s, rules, &id, at).map(|r| match json {
                        true => serde_json::to_string_pretty(&r.recommendation)
                            .map(|mut t| {
                                t.push('\n');
                                t
                            })
                            .expect("a recommendation serializes"),
                        false => render::recommendation(s, &r.recommendation),
                    })
                })
                .await?;
            return Ok(match text {
                Ok(t) => {
                    session.print(&t);
                    ExitCode::SUCCESS
                }
                Err(RecommendError::Refused(r)) => session.refuse(&r),
                Err(e) => return Err(e.into()),
            });
        }
    };
    session.execute(command).await
}
