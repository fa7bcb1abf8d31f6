//! Reading schools from a GIAS-format CSV (an `edubasealldata*.csv` extract or
//! `../shared/data/hillingdon_ealing_schools.csv`). Columns are found by their
//! GIAS names, never by position; other columns are ignored.

use std::path::Path;

use bridges_schemas::Phase;
use bridges_schemas::Urn;
use bridges_schemas::triads::Ofsted;

/// One establishment as read from GIAS.
#[derive(Debug, Clone, PartialEq)]
pub struct GiasSchool {
    pub urn: Urn,
    pub name: String,
    pub la_code: Option<u16>,
    pub la_name: String,
    /// `None` where GIAS says "Not applicable" and the type is not special.
    pub phase: Option<Phase>,
    pub pupils: Option<u32>,
    pub trust: Option<String>,
    pub postcode: String,
    pub easting: Option<f64>,
    pub northing: Option<f64>,
    pub ofsted: Option<Ofsted>,
    pub open: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum GiasError {
    #[error("cannot read {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("{path}: {source}")]
    Csv { path: String, source: csv::Error },
    #[error("{path}: missing GIAS column {column:?}")]
    MissingColumn { path: String, column: &'static str },
    #[error("{path}: row {row}: URN = {value:?} is not a number")]
    BadUrn { path: String, row: usize, value: String },
}

pub const COL_URN: &str = "URN";
pub const COL_NAME: &str = "EstablishmentName";
pub const COL_LA_CODE: &str = "LA (code)";
pub const COL_LA_NAME: &str = "LA (name)";
pub const COL_TYPE_GROUP: &str = "EstablishmentTypeGroup (name)";
pub const COL_TYPE: &str = "TypeOfEstablishment (name)";
pub const COL_PHASE: &str = "PhaseOfEducation (name)";
pub const COL_STATUS: &str = "EstablishmentStatus (name)";
pub const COL_PUPILS: &str = "NumberOfPupils";
pub const COL_TRUST: &str = "Trusts (name)";
pub const COL_POSTCODE: &str = "Postcode";
pub const COL_EASTING: &str = "Easting";
pub const COL_NORTHING: &str = "Northing";
pub const COL_OFSTED: &str = "OfstedRating (name)";

/// Reads every establishment of a GIAS CSV. Optional columns that are absent
/// read as unknown; `URN` and `PhaseOfEducation (name)` are required.
pub fn read_schools(path: &Path) -> Result<Vec<GiasSchool>, GiasError> {
    let shown = path.display().to_string();
    let file = std::fs::File::open(path)
        .map_err(|source| GiasError::Io { path: shown.clone(), source })?;
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(file);
    let headers =
        reader.headers().map_err(|source| GiasError::Csv { path: shown.clone(), source })?.clone();
    let find = |name: &str| headers.iter().position(|h| h.trim() == name);
    let required = |name: &'static str| {
        find(name).ok_or(GiasError::MissingColumn { path: shown.clone(), column: name })
    };
    let urn_col = required(COL_URN)?;
    let phase_col = required(COL_PHASE)?;
    let cols = [
        COL_NAME,
        COL_LA_CODE,
        COL_LA_NAME,
        COL_TYPE_GROUP,
        COL_TYPE,
        COL_STATUS,
        COL_PUPILS,
        COL_TRUST,
        COL_POSTCODE,
        COL_EASTING,
        COL_NORTHING,
        COL_OFSTED,
    ]
    .map(find);
    let [
        name,
        la_code,
        la_name,
        type_group,
        type_name,
        status,
        pupils,
        trust,
        postcode,
        easting,
        northing,
        ofsted,
    ] = cols;

    let mut schools = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|source| GiasError::Csv { path: shown.clone(), source })?;
        let get = |col: Option<usize>| col.and_then(|c| record.get(c)).map(str::trim).unwrap_or("");
        let urn_text = record.get(urn_col).unwrap_or("").trim();
        let urn = urn_text.parse::<u32>().map_err(|_| GiasError::BadUrn {
            path: shown.clone(),
            row: i + 2,
            value: urn_text.to_owned(),
        })?;
        let type_text = format!("{} {}", get(type_group), get(type_name));
        schools.push(GiasSchool {
            urn: Urn(urn),
            name: get(name).to_owned(),
            la_code: get(la_code).parse().ok(),
            la_name: get(la_name).to_owned(),
            phase: phase_of(record.get(phase_col).unwrap_or("").trim(), &type_text),
            pupils: get(pupils).parse().ok(),
            trust: non_empty(get(trust)),
            postcode: get(postcode).to_owned(),
            easting: get(easting).parse().ok(),
            northing: get(northing).parse().ok(),
            ofsted: ofsted_of(get(ofsted)),
            open: status.is_none() || get(status).starts_with("Open"),
        });
    }
    Ok(schools)
}

/// Maps GIAS `PhaseOfEducation (name)` (and the type, for special schools) to a phase.
pub fn phase_of(gias_phase: &str, type_text: &str) -> Option<Phase> {
    let lower = gias_phase.to_ascii_lowercase();
    match lower.as_str() {
        "nursery" => Some(Phase::Nursery),
        "primary" => Some(Phase::Primary),
        "secondary" => Some(Phase::Secondary),
        "all-through" | "all through" => Some(Phase::AllThrough),
        "16 plus" => Some(Phase::SixteenPlus),
        p if p.starts_with("middle") => Some(Phase::Middle),
        _ if type_text.to_ascii_lowercase().contains("special") => Some(Phase::Special),
        _ => None,
    }
}

/// Maps GIAS `OfstedRating (name)` to a grade.
pub fn ofsted_of(text: &str) -> Option<Ofsted> {
    match text.to_ascii_lowercase().as_str() {
        "outstanding" => Some(Ofsted::Outstanding),
        "good" => Some(Ofsted::Good),
        "requires improvement" => Some(Ofsted::RequiresImprovement),
        "inadequate" | "serious weaknesses" | "special measures" => Some(Ofsted::Inadequate),
        _ => None,
    }
}

fn non_empty(s: &str) -> Option<String> {
    if s.is_empty() { None } else { Some(s.to_owned()) }
}

/// The shared data file of the two boroughs, relative to the workspace root's parent.
pub fn shared_boroughs_csv() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data/hillingdon_ealing_schools.csv")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_real_boroughs_by_column_name() {
        let path = shared_boroughs_csv();
        if !path.exists() {
            return;
        }
        let schools = read_schools(&path).expect("read");
        assert_eq!(schools.len(), 230);
        let primaries = schools.iter().filter(|s| s.phase == Some(Phase::Primary)).count();
        assert_eq!(primaries, 132);
        let hillingdon_primaries = schools
            .iter()
            .filter(|s| s.phase == Some(Phase::Primary) && s.la_code == Some(312))
            .count();
        assert_eq!(hillingdon_primaries, 67);
        assert_eq!(schools.iter().filter(|s| s.easting.is_some()).count(), 229);
    }
}
