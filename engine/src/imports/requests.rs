//! The requests import: the LA's spreadsheet of support requests, one row
//! per request under the LA's own id (the headers are documented in
//! README). A new id becomes `RaiseRequest`; a known one `AmendRequest`
//! carrying only the fields that differ from those held (nothing at all
//! when none do). The domain refuses a need not configured or not fitting
//! the school's phase, a title not configured, days in a half-term already
//! ended, and amending a closed or withdrawn request; each refusal comes
//! back as a row error naming its column.
//!
//! Half-term columns are the headers that are configured half-term labels;
//! a blank cell is 0 days. On a known request the columns of half-terms
//! that have ended are read but not sent: the past is not amended.

use bridges_schemas::commands::{AmendRequest, Command, RaiseRequest};
use bridges_schemas::events::DaysPerPeriod;
use bridges_schemas::vocab::{FundingSource, TierChoice};
use bridges_schemas::{Designation, NeedArea, Period, RequestId, Urn};
use chrono::NaiveDate;

use super::{
    ImportError, ImportOptions, ImportReport, Importer, Kind, Planned, Row, RowError, RowPlan,
    Table, cell_error, days_of, half_term_columns, list, period_of_field, word,
};
use crate::domain::calendar::london_date;
use crate::domain::{Rules, State};
use crate::handle::Engine;

pub const ID: &str = "Request ID";
pub const URN: &str = "URN";
pub const NEED: &str = "Need";
pub const TIER: &str = "Tier";
pub const TITLES: &str = "Titles accepted";
pub const FUNDING: &str = "Funding";
pub const PURCHASE_ORDER: &str = "Purchase order";

/// The headers before the half-term columns, in README's order.
pub const LEADING_HEADERS: [&str; 3] = [ID, URN, NEED];
/// The headers after them.
pub const TRAILING_HEADERS: [&str; 4] = [TIER, TITLES, FUNDING, PURCHASE_ORDER];

/// What a rejection of `days` without a half-term names.
const DAYS_COLUMNS: &str = "(the half-term columns)";

/// Imports a requests CSV.
pub async fn import(
    engine: &Engine,
    bytes: &[u8],
    options: &ImportOptions,
) -> Result<ImportReport, ImportError> {
    let table = Table::read(bytes)?;
    let cols = Columns {
        id: table.require(ID)?,
        urn: table.require(URN)?,
        need: table.require(NEED)?,
        tier: table.require(TIER)?,
        titles: table.require(TITLES)?,
        funding: table.column(FUNDING)?,
        purchase_order: table.column(PURCHASE_ORDER)?,
        half_terms: half_term_columns(&table, engine.rules())?,
    };
    let today = london_date(options.at);
    let importer = Importer { kind: Kind::Requests, key_column: ID, personal: &[] };
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
    urn: usize,
    need: usize,
    tier: usize,
    titles: usize,
    funding: Option<usize>,
    purchase_order: Option<usize>,
    half_terms: Vec<(Period, usize)>,
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
        return Err(cell_error(row, ID, id_text, "every request has the LA's own id"));
    }
    let id = RequestId::from(id_text);
    let urn_text = row.cell(cols.urn);
    let urn = match urn_text.parse::<u32>() {
        Ok(n) => Urn(n),
        Err(_) => return Err(cell_error(row, URN, urn_text, "not a URN")),
    };
    let need = NeedArea::from(row.cell(cols.need));
    let tier_text = row.cell(cols.tier);
    let tier_word = word(tier_text);
    let tier = TierChoice::parse(tier_word.trim_start_matches("tier_")).ok_or_else(|| {
        cell_error(
            row,
            TIER,
            tier_text,
            "a tier is 1 (most urgent) to 4, or follow (the school's risk)",
        )
    })?;
    let designations: Vec<Designation> =
        list(row.cell(cols.titles)).iter().map(|t| Designation::from(t.as_str())).collect();
    let funding_text = row.get(cols.funding);
    let funding = if funding_text.is_empty() {
        FundingSource::LaCore
    } else {
        FundingSource::parse(&word(funding_text)).ok_or_else(|| {
            cell_error(row, FUNDING, funding_text, "la_core, school_paid, rise or trust")
        })?
    };
    let purchase_order = Some(row.get(cols.purchase_order).to_owned()).filter(|s| !s.is_empty());
    let days = days_of(row, &cols.half_terms)?;
    let key = format!("request {id}");
    let version = state.version(&format!("request-{id}"));

    let Some(held) = state.requests.get(&id) else {
        let days: DaysPerPeriod = days.into_iter().filter(|(_, d)| *d > 0).collect();
        return Ok(RowPlan::Commands {
            key,
            version,
            commands: vec![Planned {
                tag: "raise",
                command: Command::RaiseRequest(RaiseRequest {
                    request: id,
                    urn,
                    need,
                    designations,
                    tier,
                    days,
                    funding,
                    purchase_order,
                }),
                column,
            }],
        });
    };
    if held.urn != urn {
        return Err(cell_error(
            row,
            URN,
            urn_text,
            format!("request {id} is for school {}; a request's school does not change", held.urn),
        ));
    }
    let mut amend = AmendRequest {
        request: id,
        need: (need != held.need).then_some(need),
        designations: (designations != held.designations).then_some(designations),
        tier: (tier != held.tier).then_some(tier),
        days: None,
        funding: (funding != held.funding).then_some(funding),
        purchase_order: purchase_order.filter(|po| held.purchase_order.as_ref() != Some(po)),
    };
    let changed_days: DaysPerPeriod = days
        .into_iter()
        .filter(|(p, _)| !rules.calendar.has_ended(p, today))
        .filter(|(p, d)| held.days.get(p).copied().unwrap_or(0) != *d)
        .collect();
    if !changed_days.is_empty() {
        amend.days = Some(changed_days);
    }
    let nothing = amend.need.is_none()
        && amend.designations.is_none()
        && amend.tier.is_none()
        && amend.days.is_none()
        && amend.funding.is_none()
        && amend.purchase_order.is_none();
    let commands = if nothing {
        Vec::new()
    } else {
        vec![Planned { tag: "amend", command: Command::AmendRequest(amend), column }]
    };
    Ok(RowPlan::Commands { key, version, commands })
}

/// The column of a raise or amend field.
fn column(field: &str) -> String {
    if let Some(period) = period_of_field(field) {
        return period;
    }
    match field.split('[').next().unwrap_or(field) {
        "request" => ID,
        "urn" => URN,
        "need" => NEED,
        "designations" => TITLES,
        "tier" => TIER,
        "funding" => FUNDING,
        "purchase_order" => PURCHASE_ORDER,
        _ => DAYS_COLUMNS,
    }
    .to_owned()
}
