//! `bridges practitioner designate|change|availability|leave|conflict|
//! withdraw-conflict|withdraw|erase|sar|show|list`: flags to a practitioner
//! command, handled by the engine; `show`, `list` and `sar` read the state
//! and the streams (`crate::views`), opening personal data on purpose.
//! `change` only fills the flags left out from the current record (its
//! personal details opened through the key store). No rule lives here.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use bridges_schemas::commands::{
    ChangePractitioner, Command, DeclareAvailability, DeclareConflict, DesignatePractitioner,
    ErasePractitioner, RecordLeave, RejectionCode, WithdrawConflict, WithdrawPractitioner,
};
use bridges_schemas::vocab::{ConflictId, ConflictKind};
use bridges_schemas::{Designation, NeedArea, Period, Phase, PractitionerId, Urn};
use chrono::NaiveDate;
use clap::Subcommand;

use super::parse;
use super::session::Session;
use crate::views::{self, Personal};

#[derive(Debug, Subcommand)]
pub enum PractitionerCommand {
    /// Designate a system leader with a configured title (NLE, LLE, SLE or a local title).
    #[command(
        after_help = "Example: bridges practitioner designate sle-17 --title SLE --home 102401 \
        --specialisms maths,assessment --phases primary --name \"Jane Doe\" --email jane.doe@school.example.org"
    )]
    Designate(DesignateArgs),
    /// Change a practitioner's record; flags left out keep their value.
    #[command(
        after_help = "Example: bridges practitioner change sle-17 --day-rate 375 --phone \"020 7946 0000\""
    )]
    Change(ChangeArgs),
    /// Declare the days a practitioner can be released per half-term of one academic year.
    #[command(
        after_help = "Example: bridges practitioner availability sle-17 --days 2026-AU1=3,2026-AU2=3,2027-SP1=2 --max-days 12"
    )]
    Availability {
        practitioner: String,
        /// Days per half-term, HALF-TERM=DAYS, repeated or comma-separated.
        #[arg(long, value_name = "HALF-TERM=DAYS", value_delimiter = ',', value_parser = parse::period_days, required = true)]
        days: Vec<(Period, u32)>,
        /// The most days in the academic year.
        #[arg(long)]
        max_days: Option<u32>,
    },
    /// Record leave, FROM to TO inclusive.
    #[command(
        after_help = "Example: bridges practitioner leave sle-17 --from 2026-10-05 --to 2026-10-09 --note \"school trip\""
    )]
    Leave {
        practitioner: String,
        #[arg(long, value_parser = parse::date)]
        from: NaiveDate,
        #[arg(long, value_parser = parse::date)]
        to: NaiveDate,
        /// A note (sealed under the practitioner's key).
        #[arg(long)]
        note: Option<String>,
    },
    /// Declare a conflict of interest with a school or every school of a trust.
    #[command(
        after_help = "Example: bridges practitioner conflict sle-17 --urn 102400 --kind governor --from 2026-09-01"
    )]
    Conflict(ConflictArgs),
    /// Withdraw a declared conflict (its id is in `practitioner show`).
    #[command(
        after_help = "Example: bridges practitioner withdraw-conflict sle-17 --conflict school-102400"
    )]
    WithdrawConflict {
        practitioner: String,
        #[arg(long)]
        conflict: String,
    },
    /// The practitioner takes no more work; what is accepted stands.
    #[command(after_help = "Example: bridges practitioner withdraw sle-17 --reason \"retired\"")]
    Withdraw {
        practitioner: String,
        #[arg(long)]
        reason: String,
    },
    /// Erase a practitioner's personal data: destroys their key, for good.
    #[command(after_help = "Example: bridges practitioner erase sle-17")]
    Erase { practitioner: String },
    /// Write the subject-access export: everything held about a practitioner, as JSON.
    #[command(after_help = "Example: bridges practitioner sar sle-17 --out sle-17-sar.json")]
    Sar {
        practitioner: String,
        /// Where to write it (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// A practitioner's details (personal data opened), availability, assignments and history.
    #[command(after_help = "Example: bridges practitioner show sle-17")]
    Show { practitioner: String },
    /// Every practitioner, with their name (or "(erased)").
    #[command(after_help = "Example: bridges practitioner list")]
    List,
}

#[derive(Debug, clap::Args)]
pub struct DesignateArgs {
    /// The LA's own id for the practitioner, for example sle-17.
    practitioner: String,
    /// A configured title: NLE, LLE, SLE or a local one.
    #[arg(long)]
    title: String,
    /// The URN of their home school.
    #[arg(long, value_parser = parse::urn)]
    home: Urn,
    /// Need areas they support, comma-separated.
    #[arg(long, value_delimiter = ',', required = true)]
    specialisms: Vec<String>,
    /// Phases they work in, comma-separated.
    #[arg(long, value_delimiter = ',', value_parser = parse::word::<Phase>, required = true)]
    phases: Vec<Phase>,
    /// Pounds per day (default: the title's typical rate).
    #[arg(long)]
    day_rate: Option<u32>,
    #[arg(long)]
    name: String,
    #[arg(long)]
    email: Option<String>,
    #[arg(long)]
    phone: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct ChangeArgs {
    practitioner: String,
    #[arg(long)]
    title: Option<String>,
    #[arg(long, value_parser = parse::urn)]
    home: Option<Urn>,
    #[arg(long, value_delimiter = ',')]
    specialisms: Option<Vec<String>>,
    #[arg(long, value_delimiter = ',', value_parser = parse::word::<Phase>)]
    phases: Option<Vec<Phase>>,
    #[arg(long)]
    day_rate: Option<u32>,
    #[arg(long)]
    name: Option<String>,
    #[arg(long)]
    email: Option<String>,
    #[arg(long)]
    phone: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct ConflictArgs {
    practitioner: String,
    /// The school the conflict is with.
    #[arg(long, value_parser = parse::urn, required_unless_present = "trust", conflicts_with = "trust")]
    urn: Option<Urn>,
    /// The trust whose every school the conflict is with.
    #[arg(long)]
    trust: Option<String>,
    /// governor, former_employer, family or other.
    #[arg(long, value_parser = parse::word::<ConflictKind>)]
    kind: ConflictKind,
    /// First day it holds (default: always).
    #[arg(long, value_parser = parse::date)]
    from: Option<NaiveDate>,
    /// Last day it holds (default: no end).
    #[arg(long, value_parser = parse::date)]
    to: Option<NaiveDate>,
}

/// Runs one `bridges practitioner` command.
pub async fn run(what: PractitionerCommand, session: &Session) -> anyhow::Result<ExitCode> {
    let command = match what {
        PractitionerCommand::Designate(a) => {
            Command::DesignatePractitioner(DesignatePractitioner {
                practitioner: PractitionerId(a.practitioner),
                title: Designation(a.title),
                home_urn: a.home,
                specialisms: a.specialisms.into_iter().map(NeedArea).collect(),
                phases: a.phases,
                day_rate: a.day_rate,
                name: a.name,
                email: a.email,
                phone: a.phone,
            })
        }
        PractitionerCommand::Change(a) => change(a, session).await?,
        PractitionerCommand::Availability { practitioner, days, max_days } => {
            let capacity = match parse::days_map(&days) {
                Ok(c) => c,
                Err(r) => return Ok(session.refuse(&r)),
            };
            Command::DeclareAvailability(DeclareAvailability {
                practitioner: PractitionerId(practitioner),
                capacity,
                max_days,
            })
        }
        PractitionerCommand::Leave { practitioner, from, to, note } => {
            Command::RecordLeave(RecordLeave {
                practitioner: PractitionerId(practitioner),
                from,
                to,
                note,
            })
        }
        PractitionerCommand::Conflict(a) => Command::DeclareConflict(DeclareConflict {
            practitioner: PractitionerId(a.practitioner),
            urn: a.urn,
            trust: a.trust,
            kind: a.kind,
            valid_from: a.from,
            valid_to: a.to,
        }),
        PractitionerCommand::WithdrawConflict { practitioner, conflict } => {
            Command::WithdrawConflict(WithdrawConflict {
                practitioner: PractitionerId(practitioner),
                conflict: ConflictId(conflict),
            })
        }
        PractitionerCommand::Withdraw { practitioner, reason } => {
            Command::WithdrawPractitioner(WithdrawPractitioner {
                practitioner: PractitionerId(practitioner),
                reason,
            })
        }
        PractitionerCommand::Erase { practitioner } => {
            Command::ErasePractitioner(ErasePractitioner {
                practitioner: PractitionerId(practitioner),
            })
        }
        PractitionerCommand::Sar { practitioner, out } => {
            return sar(&PractitionerId(practitioner), out, session).await;
        }
        PractitionerCommand::Show { practitioner } => {
            let p = PractitionerId(practitioner);
            let history = session.history(&format!("practitioner-{p}"))?;
            let keys = session.engine()?.keys();
            let text =
                session.engine()?.read(|s| views::practitioner_show(s, &p, keys, &history)).await?;
            return Ok(match text {
                Some(t) => {
                    session.print(&t);
                    ExitCode::SUCCESS
                }
                None => session.unknown(RejectionCode::UnknownPractitioner, "practitioner", p),
            });
        }
        PractitionerCommand::List => {
            let keys = session.engine()?.keys();
            session.print(&session.engine()?.read(|s| views::practitioner_list(s, keys)).await?);
            return Ok(ExitCode::SUCCESS);
        }
    };
    session.execute(command).await
}

/// The change with the flags left out filled from the current record.
async fn change(a: ChangeArgs, session: &Session) -> anyhow::Result<Command> {
    let p = PractitionerId(a.practitioner);
    let keys = session.engine()?.keys();
    let current = session
        .engine()?
        .read(|s| s.practitioners.get(&p).map(|x| (x.clone(), views::personal(x, keys))))
        .await?;
    // An unknown or erased practitioner is the domain's to refuse; the
    // fields are then moot.
    let (record, details) = match current {
        Some((record, Personal::Held(d))) => (Some(record), Some(d)),
        Some((record, _)) => (Some(record), None),
        None => (None, None),
    };
    let title = a.title.map(Designation).or_else(|| record.as_ref().map(|r| r.title.clone()));
    Ok(Command::ChangePractitioner(ChangePractitioner {
        title: title.unwrap_or_else(|| Designation(String::new())),
        home_urn: a.home.or(record.as_ref().map(|r| r.home_urn)).unwrap_or(Urn(0)),
        specialisms: a
            .specialisms
            .map(|v| v.into_iter().map(NeedArea).collect())
            .or_else(|| record.as_ref().map(|r| r.specialisms.clone()))
            .unwrap_or_default(),
        phases: a.phases.or_else(|| record.as_ref().map(|r| r.phases.clone())).unwrap_or_default(),
        day_rate: a.day_rate.or(record.as_ref().map(|r| r.day_rate)),
        name: a.name.or_else(|| details.as_ref().map(|d| d.name.clone())).unwrap_or_default(),
        email: a.email.or_else(|| details.as_ref().and_then(|d| d.email.clone())),
        phone: a.phone.or_else(|| details.as_ref().and_then(|d| d.phone.clone())),
        practitioner: p,
    }))
}

/// Writes the subject-access export of `p` to `out` (or stdout).
async fn sar(
    p: &PractitionerId,
    out: Option<PathBuf>,
    session: &Session,
) -> anyhow::Result<ExitCode> {
    if let Some(path) = &out {
        session.may_write("--out", path)?;
    }
    let assignments: Vec<String> = session
        .engine()?
        .read(|s| {
            s.assignments
                .values()
                .filter(|a| &a.practitioner == p)
                .map(|a| format!("assignment-{}", a.id))
                .collect()
        })
        .await?;
    let mut streams = vec![session.history(&format!("practitioner-{p}"))?];
    for stream in &assignments {
        streams.push(session.history(stream)?);
    }
    let keys = session.engine()?.keys();
    let at = session.at();
    let export = session.engine()?.read(|s| views::sar(s, p, keys, &streams, at)).await?;
    let Some(export) = export else {
        return Ok(session.unknown(RejectionCode::UnknownPractitioner, "practitioner", p));
    };
    let mut text = serde_json::to_string_pretty(&export)?;
    text.push('\n');
    match out {
        Some(path) => {
            std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
            session
                .eprintln(&format!("wrote the subject-access export of {p} to {}", path.display()));
        }
        None => session.print(&text),
    }
    Ok(ExitCode::SUCCESS)
}
