//! The GIAS import: an establishments extract (`edubasealldata*.csv`, or the
//! two boroughs' file in `../shared/data`) read by its column names, the
//! rows of one LA turned into school commands: `RegisterSchool` for a new
//! URN, `ChangeSchool` for a known one (the domain records only what
//! changed: name, phase, trust, location, pupils, postcode), `CloseSchool` when the
//! status says closed, and `RecordInspection` (framework `overall`,
//! `published` null, source `gias`) from `OfstedRating (name)` where given.
//!
//! GIAS's grade is the oldest word on a school: it is recorded only while
//! the school has no outcome or only GIAS's own (an outcome imported with a
//! date, or in a later framework, is never overwritten by it). Phase "Not
//! applicable" is `special` where the type says special; other rows without
//! a phase (independent schools, colleges, universities, alternative
//! provision) are skipped with the reason. Rows of other LAs are left alone.
//!
//! [`read`] is the pure reading of the file (the demo uses it too);
//! [`import`] plans each row against the state and hands it to the engine.

use bridges_schemas::commands::{
    ChangeSchool, CloseSchool, Command, RecordInspection, RegisterSchool,
};
use bridges_schemas::inspection::{InspectionOutcome, Ofsted};
use bridges_schemas::{Phase, Urn};
use chrono::NaiveDate;

use super::{
    ImportError, ImportOptions, ImportReport, Importer, Kind, Planned, Row, RowError, RowPlan,
    Table, cell_error, date, whole, word,
};
use crate::domain::State;
use crate::handle::Engine;

pub const URN: &str = "URN";
pub const NAME: &str = "EstablishmentName";
pub const LA_CODE: &str = "LA (code)";
pub const TYPE: &str = "TypeOfEstablishment (name)";
pub const TYPE_GROUP: &str = "EstablishmentTypeGroup (name)";
pub const PHASE: &str = "PhaseOfEducation (name)";
pub const STATUS: &str = "EstablishmentStatus (name)";
pub const PUPILS: &str = "NumberOfPupils";
pub const TRUSTS: &str = "Trusts (name)";
pub const EASTING: &str = "Easting";
pub const NORTHING: &str = "Northing";
pub const OFSTED: &str = "OfstedRating (name)";
pub const CLOSE_DATE: &str = "CloseDate";
pub const POSTCODE: &str = "Postcode";

/// One establishment of the LA as GIAS describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct GiasSchool {
    pub urn: Urn,
    pub name: String,
    pub phase: Phase,
    pub trust: Option<String>,
    pub easting: f64,
    pub northing: f64,
    pub pupils: Option<u32>,
    /// `Postcode` as GIAS gives it (the domain checks and normalises it).
    pub postcode: Option<String>,
    /// `Some(date)` (or `Some(None)` without a date) when GIAS says closed.
    pub closed: Option<Option<NaiveDate>>,
    pub ofsted: Option<Ofsted>,
}

/// What one GIAS row is.
#[derive(Debug, Clone, PartialEq)]
pub enum GiasRow {
    School(GiasSchool),
    Skip { urn: Urn, reason: String },
    OtherLa,
    Error(RowError),
}

/// The columns the importer reads, found by name.
#[derive(Debug, Clone)]
pub struct Columns {
    urn: usize,
    name: usize,
    la: usize,
    phase: usize,
    easting: usize,
    northing: usize,
    kind: Option<usize>,
    group: Option<usize>,
    status: Option<usize>,
    pupils: Option<usize>,
    trusts: Option<usize>,
    ofsted: Option<usize>,
    close_date: Option<usize>,
    postcode: Option<usize>,
}

impl Columns {
    /// Finds the columns; `URN`, `EstablishmentName`, `LA (code)`,
    /// `PhaseOfEducation (name)`, `Easting` and `Northing` are required.
    pub fn find(table: &Table) -> Result<Columns, ImportError> {
        Ok(Columns {
            urn: table.require(URN)?,
            name: table.require(NAME)?,
            la: table.require(LA_CODE)?,
            phase: table.require(PHASE)?,
            easting: table.require(EASTING)?,
            northing: table.require(NORTHING)?,
            kind: table.column(TYPE)?,
            group: table.column(TYPE_GROUP)?,
            status: table.column(STATUS)?,
            pupils: table.column(PUPILS)?,
            trusts: table.column(TRUSTS)?,
            ofsted: table.column(OFSTED)?,
            close_date: table.column(CLOSE_DATE)?,
            postcode: table.column(POSTCODE)?,
        })
    }
}

/// Reads every row of a GIAS file for LA `la` (pure: no state).
pub fn read(table: &Table, la: u16) -> Result<Vec<(usize, GiasRow)>, ImportError> {
    let cols = Columns::find(table)?;
    Ok(table
        .rows()
        .iter()
        .map(|row| match row {
            Ok(row) => (row.number, parse_row(&cols, row, la)),
            Err(e) => (e.row, GiasRow::Error(e.clone())),
        })
        .collect())
}

/// The open schools of LA `la` that a GIAS file registers (what the demo
/// generates its CSVs for).
pub fn open_schools(bytes: &[u8], la: u16) -> Result<Vec<GiasSchool>, ImportError> {
    let table = Table::read(bytes)?;
    Ok(read(&table, la)?
        .into_iter()
        .filter_map(|(_, r)| match r {
            GiasRow::School(s) if s.closed.is_none() => Some(s),
            _ => None,
        })
        .collect())
}

/// Imports a GIAS file's rows of LA `la` (which must be the engine's).
pub async fn import(
    engine: &Engine,
    bytes: &[u8],
    la: u16,
    options: &ImportOptions,
) -> Result<ImportReport, ImportError> {
    let serves = engine.rules().la_code;
    if la != serves {
        return Err(ImportError::WrongLa { given: la, serves });
    }
    let table = Table::read(bytes)?;
    let cols = Columns::find(&table)?;
    let importer = Importer { kind: Kind::Gias, key_column: URN, personal: &[] };
    importer.run(engine, &table, options, |state, _, row| plan(state, &cols, row, la)).await
}

/// The commands a row asks for, against the state.
fn plan(state: &State, cols: &Columns, row: &Row, la: u16) -> RowPlan {
    let s = match parse_row(cols, row, la) {
        GiasRow::School(s) => s,
        GiasRow::OtherLa => return RowPlan::OtherLa,
        GiasRow::Error(e) => return RowPlan::Error(e),
        GiasRow::Skip { urn, reason } => return RowPlan::Skip { key: key(urn), reason },
    };
    let stream = format!("school-{}", s.urn);
    let version = state.version(&stream);
    let known = state.schools.get(&s.urn);
    let mut commands = Vec::new();
    match (known, s.closed) {
        (None, Some(_)) => {
            return RowPlan::Skip {
                key: key(s.urn),
                reason: "closed in GIAS and never registered here".into(),
            };
        }
        (Some(k), Some(closed_on)) => {
            if !k.closed {
                commands.push(planned(
                    "close",
                    Command::CloseSchool(CloseSchool {
                        urn: s.urn,
                        closed_on,
                        reason: "GIAS status: Closed".into(),
                    }),
                ));
            }
        }
        (None, None) => commands.push(planned(
            "register",
            Command::RegisterSchool(RegisterSchool {
                urn: s.urn,
                name: s.name.clone(),
                la_code: la,
                phase: s.phase,
                trust: s.trust.clone(),
                easting: s.easting,
                northing: s.northing,
                pupils: s.pupils,
                postcode: s.postcode.clone(),
            }),
        )),
        (Some(_), None) => commands.push(planned(
            "change",
            Command::ChangeSchool(ChangeSchool {
                urn: s.urn,
                name: s.name.clone(),
                phase: s.phase,
                trust: s.trust.clone(),
                easting: s.easting,
                northing: s.northing,
                pupils: s.pupils,
                postcode: s.postcode.clone(),
            }),
        )),
    }
    let gias_may_grade = known.is_none_or(|k| {
        k.inspection.is_none()
            || matches!(k.inspection, Some(InspectionOutcome::Overall { published: None, .. }))
    });
    if let (Some(grade), None, true) = (s.ofsted, s.closed, gias_may_grade) {
        commands.push(planned(
            "inspection",
            Command::RecordInspection(RecordInspection {
                urn: s.urn,
                outcome: InspectionOutcome::Overall { published: None, overall: grade },
                source: "gias".into(),
            }),
        ));
    }
    RowPlan::Commands { key: key(s.urn), version, commands }
}

fn key(urn: Urn) -> String {
    format!("URN {urn}")
}

fn planned(tag: &'static str, command: Command) -> Planned {
    Planned { tag, command, column }
}

/// The GIAS column a school command's field comes from.
fn column(field: &str) -> String {
    match field {
        "urn" => URN,
        "name" => NAME,
        "la_code" => LA_CODE,
        "phase" => PHASE,
        "trust" => TRUSTS,
        "easting" => EASTING,
        "northing" => NORTHING,
        "pupils" => PUPILS,
        "postcode" => POSTCODE,
        "reason" | "closed_on" => STATUS,
        _ => OFSTED,
    }
    .to_owned()
}

/// Reads one row's cells (pure).
fn parse_row(cols: &Columns, row: &Row, la: u16) -> GiasRow {
    match parse_cells(cols, row, la) {
        Ok(r) => r,
        Err(e) => GiasRow::Error(e),
    }
}

fn parse_cells(cols: &Columns, row: &Row, la: u16) -> Result<GiasRow, RowError> {
    let la_text = row.cell(cols.la);
    match la_text.parse::<u16>() {
        Ok(code) if code == la => {}
        Ok(_) => return Ok(GiasRow::OtherLa),
        Err(_) => return Err(cell_error(row, LA_CODE, la_text, "not a three-digit LA code")),
    }
    let urn_text = row.cell(cols.urn);
    let urn = match urn_text.parse::<u32>() {
        Ok(n) if (100_000..=999_999).contains(&n) => Urn(n),
        _ => return Err(cell_error(row, URN, urn_text, "a URN has six digits")),
    };
    let status_text = row.get(cols.status);
    let closed = match word(status_text).as_str() {
        "" | "open" | "open_but_proposed_to_close" => None,
        "closed" => Some(date(row, CLOSE_DATE, row.get(cols.close_date))?),
        "proposed_to_open" => {
            return Ok(GiasRow::Skip { urn, reason: "proposed to open; not open yet".into() });
        }
        _ => {
            return Err(cell_error(
                row,
                STATUS,
                status_text,
                "not a GIAS status (Open, Closed, Open but proposed to close, Proposed to open)",
            ));
        }
    };
    let phase_text = row.cell(cols.phase);
    let kind = row.get(cols.kind);
    let group = row.get(cols.group);
    let phase = match word(phase_text).as_str() {
        "not_applicable" | "" => {
            let special = [kind, group].iter().any(|t| t.to_ascii_lowercase().contains("special"));
            if !special {
                let what = if kind.is_empty() { group } else { kind };
                let what = if what.is_empty() { "(no type)" } else { what };
                return Ok(GiasRow::Skip {
                    urn,
                    reason: format!(
                        "phase {phase_text:?} and type {what:?}: not a school the partnership brokers for (a school without a phase is taken only when its type is special)"
                    ),
                });
            }
            Phase::Special
        }
        "nursery" => Phase::Nursery,
        "primary" => Phase::Primary,
        "middle_deemed_primary" | "middle_deemed_secondary" | "middle" => Phase::Middle,
        "secondary" => Phase::Secondary,
        "all_through" => Phase::AllThrough,
        "16_plus" => Phase::SixteenPlus,
        _ => {
            return Err(cell_error(
                row,
                PHASE,
                phase_text,
                "not a GIAS phase (Nursery, Primary, Middle deemed primary or secondary, Secondary, All-through, 16 plus, Not applicable)",
            ));
        }
    };
    let coordinate = |column: &str, index: usize| -> Result<f64, RowError> {
        let text = row.cell(index);
        if text.is_empty() {
            return Err(cell_error(
                row,
                column,
                text,
                "a school needs its location (British National Grid)",
            ));
        }
        text.parse::<f64>()
            .ok()
            .filter(|x| x.is_finite())
            .ok_or_else(|| cell_error(row, column, text, "not a number of metres"))
    };
    let easting = coordinate(EASTING, cols.easting)?;
    let northing = coordinate(NORTHING, cols.northing)?;
    let pupils = whole(row, PUPILS, row.get(cols.pupils))?;
    let trust = Some(row.get(cols.trusts).to_owned()).filter(|t| !t.is_empty());
    let postcode = Some(row.get(cols.postcode).trim().to_owned()).filter(|p| !p.is_empty());
    let ofsted_text = row.get(cols.ofsted);
    let ofsted = match word(ofsted_text).as_str() {
        "" | "not_applicable" | "insufficient_evidence" | "null" => None,
        "outstanding" => Some(Ofsted::Outstanding),
        "good" => Some(Ofsted::Good),
        "requires_improvement" => Some(Ofsted::RequiresImprovement),
        "inadequate" | "serious_weaknesses" | "special_measures" => Some(Ofsted::Inadequate),
        _ => {
            return Err(cell_error(
                row,
                OFSTED,
                ofsted_text,
                "not an Ofsted grade (Outstanding, Good, Requires improvement, Inadequate, Serious Weaknesses, Special Measures)",
            ));
        }
    };
    Ok(GiasRow::School(GiasSchool {
        urn,
        name: row.cell(cols.name).to_owned(),
        phase,
        trust,
        easting,
        northing,
        pupils,
        postcode,
        closed,
        ofsted,
    }))
}
