//! The practitioners import: the LA's spreadsheet of system leaders, one
//! row per practitioner under the LA's own id (the headers are documented
//! in README). A row becomes `DesignatePractitioner` for a new id or
//! `ChangePractitioner` for a known one (the domain records only what
//! changed), `DeclareAvailability` per academic year when the days of its
//! half-terms not yet ended (or the yearly maximum) differ from those held,
//! and `DeclareConflict` / `WithdrawConflict` so that the practitioner's
//! conflicts are those the `Conflicts` cell lists.
//!
//! Half-term columns are the headers that are configured half-term labels
//! (`2026-AU1` ...); a blank cell is 0 days. Columns of half-terms that have
//! ended at the import's time are read but not declared: the past is not
//! planned again. Names, emails and phones are personal data: a report
//! shows their cells as "(not shown)". A practitioner whose personal data
//! was erased, or who withdrew, is skipped with the reason.

use std::collections::BTreeMap;

use bridges_schemas::commands::{
    ChangePractitioner, Command, DeclareAvailability, DeclareConflict, DesignatePractitioner,
    WithdrawConflict,
};
use bridges_schemas::events::DaysPerPeriod;
use bridges_schemas::vocab::{AcademicYearId, ConflictKind, ConflictTarget};
use bridges_schemas::{Designation, NeedArea, Period, Phase, PractitionerId, Urn};
use chrono::NaiveDate;

use super::{
    ImportError, ImportOptions, ImportReport, Importer, Kind, Planned, Row, RowError, RowPlan,
    Table, cell_error, date, days_of, half_term_columns, list, period_of_field, phase_word, whole,
    word,
};
use crate::domain::calendar::london_date;
use crate::domain::{Rules, State};
use crate::handle::Engine;

pub const ID: &str = "Practitioner ID";
pub const NAME: &str = "Name";
pub const EMAIL: &str = "Email";
pub const PHONE: &str = "Phone";
pub const TITLE: &str = "Title";
pub const HOME_URN: &str = "Home URN";
pub const SPECIALISMS: &str = "Specialisms";
pub const PHASES: &str = "Phases";
pub const DAY_RATE: &str = "Day rate";
pub const MAX_DAYS: &str = "Max days";
pub const CONFLICTS: &str = "Conflicts";

/// The headers before the half-term columns, in README's order.
pub const LEADING_HEADERS: [&str; 9] =
    [ID, NAME, EMAIL, PHONE, TITLE, HOME_URN, SPECIALISMS, PHASES, DAY_RATE];
/// The headers after them.
pub const TRAILING_HEADERS: [&str; 2] = [MAX_DAYS, CONFLICTS];

/// Imports a practitioners CSV.
pub async fn import(
    engine: &Engine,
    bytes: &[u8],
    options: &ImportOptions,
) -> Result<ImportReport, ImportError> {
    let table = Table::read(bytes)?;
    let cols = Columns {
        id: table.require(ID)?,
        name: table.require(NAME)?,
        email: table.column(EMAIL)?,
        phone: table.column(PHONE)?,
        title: table.require(TITLE)?,
        home: table.require(HOME_URN)?,
        specialisms: table.require(SPECIALISMS)?,
        phases: table.require(PHASES)?,
        day_rate: table.column(DAY_RATE)?,
        max_days: table.column(MAX_DAYS)?,
        conflicts: table.column(CONFLICTS)?,
        half_terms: half_term_columns(&table, engine.rules())?,
    };
    let today = london_date(options.at);
    let importer =
        Importer { kind: Kind::Practitioners, key_column: ID, personal: &[NAME, EMAIL, PHONE] };
    importer
        .run(engine, &table, options, |state, rules, row| {
            match plan(state, rules, &cols, row, today) {
                Ok(p) => p,
                Err(e) => RowPlan::Error(e),
            }
        })
        .await
}

struct Columns {
    id: usize,
    name: usize,
    email: Option<usize>,
    phone: Option<usize>,
    title: usize,
    home: usize,
    specialisms: usize,
    phases: usize,
    day_rate: Option<usize>,
    max_days: Option<usize>,
    conflicts: Option<usize>,
    half_terms: Vec<(Period, usize)>,
}

/// A conflict as a row lists it.
#[derive(Debug, Clone, PartialEq)]
struct RowConflict {
    target: ConflictTarget,
    kind: ConflictKind,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
}

fn plan(
    state: &State,
    rules: &Rules,
    cols: &Columns,
    row: &Row,
    today: NaiveDate,
) -> Result<RowPlan, RowError> {
    let id_text = row.cell(cols.id);
    if id_text.is_empty() {
        return Err(cell_error(row, ID, id_text, "every practitioner has the LA's own id"));
    }
    let id = PractitionerId::from(id_text);
    let key = format!("practitioner {id}");
    let known = state.practitioners.get(&id);
    if let Some(p) = known {
        if p.erased {
            return Ok(RowPlan::Skip {
                key,
                reason: "this practitioner's personal data was erased; remove the row from the spreadsheet".into(),
            });
        }
        if p.withdrawn {
            return Ok(RowPlan::Skip { key, reason: "this practitioner has withdrawn".into() });
        }
    }
    let home_text = row.cell(cols.home);
    let home_urn = match home_text.parse::<u32>() {
        Ok(n) => Urn(n),
        Err(_) => return Err(cell_error(row, HOME_URN, home_text, "not a URN")),
    };
    let phases_text = row.cell(cols.phases);
    let mut phases: Vec<Phase> = Vec::new();
    for p in list(phases_text) {
        match phase_word(&p) {
            Some(phase) if !phases.contains(&phase) => phases.push(phase),
            Some(_) => {}
            None => {
                return Err(cell_error(
                    row,
                    PHASES,
                    &p,
                    "not a phase (nursery, primary, middle, secondary, all-through, 16-plus, special)",
                ));
            }
        }
    }
    let specialisms: Vec<NeedArea> =
        list(row.cell(cols.specialisms)).iter().map(|s| NeedArea::from(s.as_str())).collect();
    let rate_text = row.get(cols.day_rate);
    let day_rate = whole(row, DAY_RATE, rate_text.trim_start_matches('£'))
        .map_err(|e| cell_error(row, DAY_RATE, rate_text, e.reason))?;
    let max_days = whole(row, MAX_DAYS, row.get(cols.max_days))?;
    let days = days_of(row, &cols.half_terms)?;
    let conflicts = conflicts(row, row.get(cols.conflicts), state)?;
    let optional = |c: Option<usize>| Some(row.get(c).to_owned()).filter(|s| !s.is_empty());
    let (name, email, phone) =
        (row.cell(cols.name).to_owned(), optional(cols.email), optional(cols.phone));
    let title = Designation::from(row.cell(cols.title));

    let mut commands = vec![match known {
        None => Planned {
            tag: "designate",
            command: Command::DesignatePractitioner(DesignatePractitioner {
                practitioner: id.clone(),
                title,
                home_urn,
                specialisms,
                phases,
                day_rate,
                name,
                email,
                phone,
            }),
            column: record_column,
        },
        Some(_) => Planned {
            tag: "change",
            command: Command::ChangePractitioner(ChangePractitioner {
                practitioner: id.clone(),
                title,
                home_urn,
                specialisms,
                phases,
                day_rate,
                name,
                email,
                phone,
            }),
            column: record_column,
        },
    }];

    // Availability: per academic year, the half-terms not yet ended.
    let mut by_year: BTreeMap<AcademicYearId, DaysPerPeriod> = BTreeMap::new();
    for (period, d) in &days {
        let Some(h) = rules.calendar.half_term(period) else { continue };
        if !rules.calendar.has_ended(period, today) {
            by_year.entry(h.year.clone()).or_default().insert(period.clone(), *d);
        }
    }
    for (year, capacity) in by_year {
        let (held, held_max) = match known {
            Some(p) => (
                capacity
                    .keys()
                    .map(|k| p.capacity.get(k).copied().unwrap_or(0))
                    .collect::<Vec<_>>(),
                p.max_days.get(&year).copied(),
            ),
            None => (vec![0; capacity.len()], None),
        };
        let given: Vec<u32> = capacity.values().copied().collect();
        if given != held || max_days != held_max {
            commands.push(Planned {
                tag: "availability",
                command: Command::DeclareAvailability(DeclareAvailability {
                    practitioner: id.clone(),
                    capacity,
                    max_days,
                }),
                column: |field| match field {
                    "practitioner" => ID.to_owned(),
                    "max_days" => MAX_DAYS.to_owned(),
                    f => period_of_field(f).unwrap_or_else(|| MAX_DAYS.to_owned()),
                },
            });
        }
    }

    // Conflicts: those listed, and no others.
    let held = known.map(|p| p.conflicts.clone()).unwrap_or_default();
    for c in &conflicts {
        let same = held.values().any(|h| {
            h.target == c.target && h.kind == c.kind && h.valid_from == c.from && h.valid_to == c.to
        });
        if same {
            continue;
        }
        let (urn, trust) = match &c.target {
            ConflictTarget::School { urn } => (Some(*urn), None),
            ConflictTarget::Trust { name } => (None, Some(name.clone())),
        };
        commands.push(Planned {
            tag: "conflict",
            command: Command::DeclareConflict(DeclareConflict {
                practitioner: id.clone(),
                urn,
                trust,
                kind: c.kind,
                valid_from: c.from,
                valid_to: c.to,
            }),
            column: conflict_column,
        });
    }
    for (conflict, h) in &held {
        if conflicts.iter().all(|c| c.target != h.target) {
            commands.push(Planned {
                tag: "unconflict",
                command: Command::WithdrawConflict(WithdrawConflict {
                    practitioner: id.clone(),
                    conflict: conflict.clone(),
                }),
                column: conflict_column,
            });
        }
    }
    Ok(RowPlan::Commands { key, version: state.version(&format!("practitioner-{id}")), commands })
}

/// The column of a designate or change field.
fn record_column(field: &str) -> String {
    let f = field.split('[').next().unwrap_or(field);
    match f {
        "practitioner" => ID,
        "title" => TITLE,
        "home_urn" => HOME_URN,
        "specialisms" => SPECIALISMS,
        "phases" => PHASES,
        "day_rate" => DAY_RATE,
        "email" => EMAIL,
        "phone" => PHONE,
        _ => NAME,
    }
    .to_owned()
}

fn conflict_column(field: &str) -> String {
    if field == "practitioner" { ID } else { CONFLICTS }.to_owned()
}

/// Reads the `Conflicts` cell: `;`-separated items
/// `school:<URN>:<kind>` or `trust:<name>:<kind>`, each optionally followed
/// by `:<from>..<to>` (ISO dates, either side may be empty). A trust's name
/// is matched to the spelling of the registered schools' trusts.
fn conflicts(row: &Row, text: &str, state: &State) -> Result<Vec<RowConflict>, RowError> {
    let mut out: Vec<RowConflict> = Vec::new();
    for item in text.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        let bad = |why: &str| cell_error(row, CONFLICTS, item, why);
        let parts: Vec<&str> = item.split(':').map(str::trim).collect();
        if parts.len() < 3 {
            return Err(bad("a conflict is school:<URN>:<kind> or trust:<name>:<kind>"));
        }
        let (window, rest) = match parts.last() {
            Some(w) if w.contains("..") => (Some(*w), &parts[..parts.len() - 1]),
            _ => (None, &parts[..]),
        };
        if rest.len() < 3 {
            return Err(bad("a conflict is school:<URN>:<kind> or trust:<name>:<kind>"));
        }
        let kind_text = rest[rest.len() - 1];
        let kind = ConflictKind::parse(&word(kind_text))
            .ok_or_else(|| bad("the kind is governor, former_employer, family or other"))?;
        let what = rest[1..rest.len() - 1].join(":");
        let target = match word(rest[0]).as_str() {
            "school" => match what.parse::<u32>() {
                Ok(n) => ConflictTarget::School { urn: Urn(n) },
                Err(_) => return Err(bad("school:<URN> needs a URN")),
            },
            "trust" if !what.is_empty() => {
                let name = state
                    .schools
                    .values()
                    .filter_map(|s| s.trust.as_deref())
                    .find(|t| t.eq_ignore_ascii_case(&what))
                    .unwrap_or(&what)
                    .to_owned();
                ConflictTarget::Trust { name }
            }
            _ => return Err(bad("a conflict is with a school:<URN> or a trust:<name>")),
        };
        let (from, to) = match window {
            None => (None, None),
            Some(w) => {
                let (a, b) = w.split_once("..").unwrap_or((w, ""));
                (date(row, CONFLICTS, a.trim())?, date(row, CONFLICTS, b.trim())?)
            }
        };
        if out.iter().any(|c| c.target == target) {
            return Err(bad("the same school or trust is listed twice"));
        }
        out.push(RowConflict { target, kind, from, to });
    }
    Ok(out)
}
