//! The inspections import: a CSV of schools' latest Ofsted outcomes, one
//! row per school, each in its own framework (CONTRACTS.md "Inspection
//! outcomes"; the headers are documented in README): the `Framework` cell
//! says which, and only that framework's cells are filled. A row becomes
//! one `RecordInspection` (source `csv`); the domain records nothing when
//! the outcome is the one held, and sets the school's risk by the
//! configured rule over its standing.
//!
//! A missing core area, a cell filled for an area its framework does not
//! grade, or a grade word the framework does not use is a row error naming
//! the column; grades are never converted between frameworks.

use bridges_schemas::Urn;
use bridges_schemas::commands::{Command, RecordInspection};
use bridges_schemas::inspection::{
    InspectionOutcome, Ofsted, ReportCardGrade, ReportCardGrades, Safeguarding, SubJudgementGrades,
};

use super::{
    ImportError, ImportOptions, ImportReport, Importer, Kind, Planned, Row, RowError, RowPlan,
    Table, cell_error, date, word,
};
use crate::handle::Engine;

pub const URN: &str = "URN";
pub const FRAMEWORK: &str = "Framework";
pub const PUBLISHED: &str = "Published";
pub const OVERALL: &str = "Overall";
pub const QUALITY_OF_EDUCATION: &str = "Quality of education";
pub const BEHAVIOUR_AND_ATTITUDES: &str = "Behaviour and attitudes";
pub const PERSONAL_DEVELOPMENT: &str = "Personal development";
pub const LEADERSHIP_AND_MANAGEMENT: &str = "Leadership and management";
pub const EARLY_YEARS: &str = "Early years";
pub const SIXTH_FORM: &str = "Sixth form";
pub const LEADERSHIP_AND_GOVERNANCE: &str = "Leadership and governance";
pub const CURRICULUM_AND_TEACHING: &str = "Curriculum and teaching";
pub const ACHIEVEMENT: &str = "Achievement";
pub const ATTENDANCE_AND_BEHAVIOUR: &str = "Attendance and behaviour";
pub const PERSONAL_DEVELOPMENT_AND_WELLBEING: &str = "Personal development and wellbeing";
pub const INCLUSION: &str = "Inclusion";
pub const SAFEGUARDING: &str = "Safeguarding";

/// Every header of the file, in the order README lists them.
pub const HEADERS: [&str; 17] = [
    URN,
    FRAMEWORK,
    PUBLISHED,
    OVERALL,
    QUALITY_OF_EDUCATION,
    BEHAVIOUR_AND_ATTITUDES,
    PERSONAL_DEVELOPMENT,
    LEADERSHIP_AND_MANAGEMENT,
    EARLY_YEARS,
    SIXTH_FORM,
    LEADERSHIP_AND_GOVERNANCE,
    CURRICULUM_AND_TEACHING,
    ACHIEVEMENT,
    ATTENDANCE_AND_BEHAVIOUR,
    PERSONAL_DEVELOPMENT_AND_WELLBEING,
    INCLUSION,
    SAFEGUARDING,
];

const SUB_JUDGEMENT_AREAS: [&str; 7] = [
    QUALITY_OF_EDUCATION,
    BEHAVIOUR_AND_ATTITUDES,
    PERSONAL_DEVELOPMENT,
    LEADERSHIP_AND_MANAGEMENT,
    EARLY_YEARS,
    SIXTH_FORM,
    SAFEGUARDING,
];

const REPORT_CARD_AREAS: [&str; 9] = [
    LEADERSHIP_AND_GOVERNANCE,
    CURRICULUM_AND_TEACHING,
    ACHIEVEMENT,
    ATTENDANCE_AND_BEHAVIOUR,
    PERSONAL_DEVELOPMENT_AND_WELLBEING,
    INCLUSION,
    EARLY_YEARS,
    SIXTH_FORM,
    SAFEGUARDING,
];

/// Imports an inspections CSV.
pub async fn import(
    engine: &Engine,
    bytes: &[u8],
    options: &ImportOptions,
) -> Result<ImportReport, ImportError> {
    let table = Table::read(bytes)?;
    let urn = table.require(URN)?;
    table.require(FRAMEWORK)?;
    let mut columns = Vec::new();
    for h in HEADERS {
        columns.push((h, table.column(h)?));
    }
    let importer = Importer { kind: Kind::Inspections, key_column: URN, personal: &[] };
    importer
        .run(engine, &table, options, |state, _, row| {
            let cells = Cells { row, columns: &columns };
            let urn_text = row.cell(urn);
            let urn = match urn_text.parse::<u32>() {
                Ok(n) => Urn(n),
                Err(_) => return RowPlan::Error(cell_error(row, URN, urn_text, "not a URN")),
            };
            let outcome = match outcome(&cells) {
                Ok(o) => o,
                Err(e) => return RowPlan::Error(e),
            };
            RowPlan::Commands {
                key: format!("URN {urn}"),
                version: state.version(&format!("school-{urn}")),
                commands: vec![Planned {
                    tag: "inspection",
                    command: Command::RecordInspection(RecordInspection {
                        urn,
                        outcome,
                        source: "csv".into(),
                    }),
                    column: |field| if field == "urn" { URN } else { FRAMEWORK }.to_owned(),
                }],
            }
        })
        .await
}

/// A row's cells by header.
struct Cells<'a> {
    row: &'a Row,
    columns: &'a [(&'static str, Option<usize>)],
}

impl Cells<'_> {
    fn get(&self, header: &str) -> &str {
        let i = self.columns.iter().find(|(h, _)| *h == header).and_then(|(_, i)| *i);
        self.row.get(i)
    }

    fn error(&self, header: &str, reason: impl Into<String>) -> RowError {
        cell_error(self.row, header, self.get(header), reason)
    }

    /// A required grade in the four words of the older frameworks.
    fn ofsted(&self, header: &str, framework: &str) -> Result<Ofsted, RowError> {
        self.optional_ofsted(header)?.ok_or_else(|| {
            self.error(header, format!("a {framework} outcome grades every core area"))
        })
    }

    fn optional_ofsted(&self, header: &str) -> Result<Option<Ofsted>, RowError> {
        match word(self.get(header)).as_str() {
            "" => Ok(None),
            "outstanding" => Ok(Some(Ofsted::Outstanding)),
            "good" => Ok(Some(Ofsted::Good)),
            "requires_improvement" => Ok(Some(Ofsted::RequiresImprovement)),
            "inadequate" => Ok(Some(Ofsted::Inadequate)),
            _ => Err(self.error(
                header,
                "not a grade of this framework (outstanding, good, requires improvement, inadequate)",
            )),
        }
    }

    fn card(&self, header: &str) -> Result<ReportCardGrade, RowError> {
        self.optional_card(header)?
            .ok_or_else(|| self.error(header, "a report card grades every core area"))
    }

    fn optional_card(&self, header: &str) -> Result<Option<ReportCardGrade>, RowError> {
        match word(self.get(header)).as_str() {
            "" => Ok(None),
            "exceptional" => Ok(Some(ReportCardGrade::Exceptional)),
            "strong_standard" => Ok(Some(ReportCardGrade::StrongStandard)),
            "expected_standard" => Ok(Some(ReportCardGrade::ExpectedStandard)),
            "needs_attention" => Ok(Some(ReportCardGrade::NeedsAttention)),
            "urgent_improvement" => Ok(Some(ReportCardGrade::UrgentImprovement)),
            _ => Err(self.error(
                header,
                "not a report card grade (exceptional, strong standard, expected standard, needs attention, urgent improvement)",
            )),
        }
    }

    fn safeguarding(&self) -> Result<Safeguarding, RowError> {
        match word(self.get(SAFEGUARDING)).as_str() {
            "met" => Ok(Safeguarding::Met),
            "not_met" => Ok(Safeguarding::NotMet),
            "" => Err(self.error(SAFEGUARDING, "this framework says whether safeguarding is met")),
            _ => Err(self.error(SAFEGUARDING, "met or not met")),
        }
    }

    /// Cells filled outside the framework's own areas.
    fn only(&self, framework: &str, own: &[&str]) -> Result<(), RowError> {
        for h in HEADERS.iter().skip(3) {
            if !own.contains(h) && !self.get(h).is_empty() {
                return Err(self.error(h, format!("not an area of the {framework} framework")));
            }
        }
        Ok(())
    }
}

/// The outcome a row writes.
fn outcome(c: &Cells<'_>) -> Result<InspectionOutcome, RowError> {
    let published = date(c.row, PUBLISHED, c.get(PUBLISHED))?;
    match word(c.get(FRAMEWORK)).as_str() {
        "overall" => {
            c.only("overall", &[OVERALL])?;
            Ok(InspectionOutcome::Overall { published, overall: c.ofsted(OVERALL, "overall")? })
        }
        "sub_judgements" | "sub_judgement" | "subjudgements" => {
            c.only("sub_judgements", &SUB_JUDGEMENT_AREAS)?;
            let f = "sub_judgements";
            Ok(InspectionOutcome::SubJudgements {
                published,
                grades: SubJudgementGrades {
                    quality_of_education: c.ofsted(QUALITY_OF_EDUCATION, f)?,
                    behaviour_attitudes: c.ofsted(BEHAVIOUR_AND_ATTITUDES, f)?,
                    personal_development: c.ofsted(PERSONAL_DEVELOPMENT, f)?,
                    leadership_management: c.ofsted(LEADERSHIP_AND_MANAGEMENT, f)?,
                    early_years: c.optional_ofsted(EARLY_YEARS)?,
                    sixth_form: c.optional_ofsted(SIXTH_FORM)?,
                },
                safeguarding: c.safeguarding()?,
            })
        }
        "report_card" => {
            c.only("report_card", &REPORT_CARD_AREAS)?;
            Ok(InspectionOutcome::ReportCard {
                published,
                grades: ReportCardGrades {
                    leadership_governance: c.card(LEADERSHIP_AND_GOVERNANCE)?,
                    curriculum_teaching: c.card(CURRICULUM_AND_TEACHING)?,
                    achievement: c.card(ACHIEVEMENT)?,
                    attendance_behaviour: c.card(ATTENDANCE_AND_BEHAVIOUR)?,
                    personal_development_wellbeing: c.card(PERSONAL_DEVELOPMENT_AND_WELLBEING)?,
                    inclusion: c.card(INCLUSION)?,
                    early_years: c.optional_card(EARLY_YEARS)?,
                    sixth_form: c.optional_card(SIXTH_FORM)?,
                },
                safeguarding: c.safeguarding()?,
            })
        }
        _ => Err(c.error(FRAMEWORK, "not a framework (overall, sub_judgements, report_card)")),
    }
}
