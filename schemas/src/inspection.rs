//! Inspection outcomes in the three frameworks Ofsted has used (CONTRACTS.md,
//! "Inspection outcomes"), and Bridges' four bands over them, [`Standing`].
//!
//! A school's latest outcome is written in the framework it was given in:
//! the grades of one framework are never converted into another's. The
//! standing is Bridges' own rule for mixing groups and for
//! `require_good_or_better`, not an Ofsted equivalence. This module holds
//! the types and the one pure function [`standing`]; the engine records
//! outcomes with these types and the solver reads them. It is not a reader
//! of Ofsted's data files.

use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A grade of the overall and sub-judgement frameworks (and the older
/// `ofsted` field of a triads school): the four words used before
/// November 2025.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Ofsted {
    Outstanding,
    Good,
    RequiresImprovement,
    Inadequate,
}

impl Ofsted {
    /// Good or outstanding.
    pub fn good_or_better(self) -> bool {
        matches!(self, Ofsted::Outstanding | Ofsted::Good)
    }

    /// The standing of an overall grade (the `overall` column of the table).
    pub fn standing(self) -> Standing {
        match self {
            Ofsted::Outstanding => Standing::Strong,
            Ofsted::Good => Standing::Secure,
            Ofsted::RequiresImprovement => Standing::Concern,
            Ofsted::Inadequate => Standing::Serious,
        }
    }
}

/// A grade of a report card (since 10 November 2025).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ReportCardGrade {
    Exceptional,
    StrongStandard,
    ExpectedStandard,
    NeedsAttention,
    UrgentImprovement,
}

/// Whether safeguarding is effective.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Safeguarding {
    Met,
    NotMet,
}

/// The four sub-judgements (September 2024 to November 2025), all required,
/// and the early years and sixth form grades where the school has them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SubJudgementGrades {
    pub quality_of_education: Ofsted,
    pub behaviour_attitudes: Ofsted,
    pub personal_development: Ofsted,
    pub leadership_management: Ofsted,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub early_years: Option<Ofsted>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sixth_form: Option<Ofsted>,
}

impl SubJudgementGrades {
    /// Every grade given: the four, then early years and sixth form where present.
    pub fn all(&self) -> Vec<Ofsted> {
        let mut v = vec![
            self.quality_of_education,
            self.behaviour_attitudes,
            self.personal_development,
            self.leadership_management,
        ];
        v.extend(self.early_years);
        v.extend(self.sixth_form);
        v
    }
}

/// The six core areas of a report card, all required, and early years and
/// sixth form where the school has them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportCardGrades {
    pub leadership_governance: ReportCardGrade,
    pub curriculum_teaching: ReportCardGrade,
    pub achievement: ReportCardGrade,
    pub attendance_behaviour: ReportCardGrade,
    pub personal_development_wellbeing: ReportCardGrade,
    pub inclusion: ReportCardGrade,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub early_years: Option<ReportCardGrade>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sixth_form: Option<ReportCardGrade>,
}

impl ReportCardGrades {
    /// Every area graded: the six, then early years and sixth form where present.
    pub fn all(&self) -> Vec<ReportCardGrade> {
        let mut v = vec![
            self.leadership_governance,
            self.curriculum_teaching,
            self.achievement,
            self.attendance_behaviour,
            self.personal_development_wellbeing,
            self.inclusion,
        ];
        v.extend(self.early_years);
        v.extend(self.sixth_form);
        v
    }
}

/// A school's latest inspection outcome, in its framework (tag `framework`).
/// An unknown framework, area or grade word, or a missing core area, is
/// refused when the document is read. `published` is the ISO date of the
/// report, null (or absent) where the source does not give it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "framework", rename_all = "snake_case", deny_unknown_fields)]
pub enum InspectionOutcome {
    /// An overall effectiveness grade (inspections before September 2024).
    Overall {
        #[serde(default, deserialize_with = "iso_date")]
        #[schemars(with = "Option<String>")]
        published: Option<NaiveDate>,
        overall: Ofsted,
    },
    /// Sub-judgements without an overall grade (September 2024 to November 2025).
    SubJudgements {
        #[serde(default, deserialize_with = "iso_date")]
        #[schemars(with = "Option<String>")]
        published: Option<NaiveDate>,
        grades: SubJudgementGrades,
        safeguarding: Safeguarding,
    },
    /// A report card (since 10 November 2025).
    ReportCard {
        #[serde(default, deserialize_with = "iso_date")]
        #[schemars(with = "Option<String>")]
        published: Option<NaiveDate>,
        grades: ReportCardGrades,
        safeguarding: Safeguarding,
    },
}

/// Reads `published`: an ISO date (`2026-02-11`) or null; a refusal
/// quotes what it found (chrono's own message does not).
fn iso_date<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<NaiveDate>, D::Error> {
    let Some(text) = Option::<String>::deserialize(d)? else { return Ok(None) };
    NaiveDate::parse_from_str(&text, "%Y-%m-%d").map(Some).map_err(|e| {
        serde::de::Error::custom(format!(
            "`published` \"{text}\" is not an ISO date (YYYY-MM-DD): {e}"
        ))
    })
}

impl InspectionOutcome {
    /// The outcome's standing (see [`standing`]).
    pub fn standing(&self) -> Standing {
        standing(self)
    }
}

/// Bridges' four bands over inspection outcomes, lowest first (so `max`
/// is the highest band and `Strong > Secure`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Standing {
    Serious,
    Concern,
    Secure,
    Strong,
}

impl Standing {
    /// `strong` or `secure`: what `require_good_or_better` asks of a group.
    pub fn good_or_better(self) -> bool {
        matches!(self, Standing::Strong | Standing::Secure)
    }
}

/// The standing of an outcome, by the table of CONTRACTS.md: `serious` when
/// its row holds; otherwise the highest of the other bands whose row holds
/// (`concern` holds always, as "otherwise"). Early years and sixth form
/// grades count like the others where present.
///
/// | standing | overall | sub-judgements | report card |
/// |---|---|---|---|
/// | strong | outstanding | every grade good or outstanding, at least two outstanding, safeguarding met | no area below expected standard, at least two strong standard or exceptional, safeguarding met |
/// | secure | good | every grade good or better, safeguarding met | no area below expected standard, safeguarding met |
/// | concern | requires improvement | otherwise | otherwise |
/// | serious | inadequate | any grade inadequate, or safeguarding not met | any area urgent improvement, or safeguarding not met |
pub fn standing(outcome: &InspectionOutcome) -> Standing {
    match outcome {
        InspectionOutcome::Overall { overall, .. } => overall.standing(),
        InspectionOutcome::SubJudgements { grades, safeguarding, .. } => {
            let grades = grades.all();
            let met = *safeguarding == Safeguarding::Met;
            let count = |g: Ofsted| grades.iter().filter(|&&x| x == g).count();
            if !met || count(Ofsted::Inadequate) > 0 {
                Standing::Serious
            } else if !grades.iter().all(|g| g.good_or_better()) {
                Standing::Concern
            } else if count(Ofsted::Outstanding) >= 2 {
                Standing::Strong
            } else {
                Standing::Secure
            }
        }
        InspectionOutcome::ReportCard { grades, safeguarding, .. } => {
            use ReportCardGrade::{
                Exceptional, ExpectedStandard, StrongStandard, UrgentImprovement,
            };
            let grades = grades.all();
            let met = *safeguarding == Safeguarding::Met;
            if !met || grades.contains(&UrgentImprovement) {
                Standing::Serious
            } else if !grades
                .iter()
                .all(|g| matches!(g, Exceptional | StrongStandard | ExpectedStandard))
            {
                Standing::Concern
            } else if grades.iter().filter(|g| matches!(g, Exceptional | StrongStandard)).count()
                >= 2
            {
                Standing::Strong
            } else {
                Standing::Secure
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Ofsted::{Good, Inadequate, Outstanding, RequiresImprovement};
    use ReportCardGrade::{
        Exceptional, ExpectedStandard, NeedsAttention, StrongStandard, UrgentImprovement,
    };

    /// Given a framework's grades and safeguarding, then this standing.
    fn sub(grades: [Ofsted; 4], extra: [Option<Ofsted>; 2], met: bool) -> Standing {
        let [
            quality_of_education,
            behaviour_attitudes,
            personal_development,
            leadership_management,
        ] = grades;
        standing(&InspectionOutcome::SubJudgements {
            published: None,
            grades: SubJudgementGrades {
                quality_of_education,
                behaviour_attitudes,
                personal_development,
                leadership_management,
                early_years: extra[0],
                sixth_form: extra[1],
            },
            safeguarding: if met { Safeguarding::Met } else { Safeguarding::NotMet },
        })
    }

    fn card(
        grades: [ReportCardGrade; 6],
        extra: [Option<ReportCardGrade>; 2],
        met: bool,
    ) -> Standing {
        let [
            leadership_governance,
            curriculum_teaching,
            achievement,
            attendance_behaviour,
            personal_development_wellbeing,
            inclusion,
        ] = grades;
        standing(&InspectionOutcome::ReportCard {
            published: None,
            grades: ReportCardGrades {
                leadership_governance,
                curriculum_teaching,
                achievement,
                attendance_behaviour,
                personal_development_wellbeing,
                inclusion,
                early_years: extra[0],
                sixth_form: extra[1],
            },
            safeguarding: if met { Safeguarding::Met } else { Safeguarding::NotMet },
        })
    }

    const NONE: [Option<Ofsted>; 2] = [None, None];
    const NO_CARD: [Option<ReportCardGrade>; 2] = [None, None];
    const E: ReportCardGrade = ExpectedStandard;

    #[test]
    fn overall_grades_map_one_to_one() {
        for (grade, band) in [
            (Outstanding, Standing::Strong),
            (Good, Standing::Secure),
            (RequiresImprovement, Standing::Concern),
            (Inadequate, Standing::Serious),
        ] {
            let outcome = InspectionOutcome::Overall { published: None, overall: grade };
            assert_eq!(standing(&outcome), band, "{grade:?}");
            assert_eq!(grade.standing(), band);
        }
    }

    #[test]
    fn sub_judgements_strong_needs_two_outstanding_and_the_rest_good() {
        assert_eq!(sub([Outstanding, Outstanding, Good, Good], NONE, true), Standing::Strong);
        assert_eq!(sub([Outstanding; 4], NONE, true), Standing::Strong);
        // One outstanding is secure.
        assert_eq!(sub([Outstanding, Good, Good, Good], NONE, true), Standing::Secure);
    }

    #[test]
    fn sub_judgements_secure_is_every_grade_good_or_better() {
        assert_eq!(sub([Good; 4], NONE, true), Standing::Secure);
    }

    #[test]
    fn sub_judgements_concern_is_otherwise() {
        assert_eq!(
            sub([Outstanding, Outstanding, Good, RequiresImprovement], NONE, true),
            Standing::Concern
        );
        assert_eq!(sub([RequiresImprovement; 4], NONE, true), Standing::Concern);
    }

    #[test]
    fn sub_judgements_serious_is_any_inadequate_or_safeguarding_not_met() {
        assert_eq!(sub([Good, Good, Good, Inadequate], NONE, true), Standing::Serious);
        assert_eq!(sub([Outstanding; 4], NONE, false), Standing::Serious);
    }

    #[test]
    fn sub_judgements_count_early_years_and_sixth_form_where_present() {
        // An early years grade of outstanding makes the second outstanding.
        assert_eq!(
            sub([Outstanding, Good, Good, Good], [Some(Outstanding), None], true),
            Standing::Strong
        );
        // A sixth form that requires improvement pulls a secure school down.
        assert_eq!(sub([Good; 4], [None, Some(RequiresImprovement)], true), Standing::Concern);
        assert_eq!(sub([Good; 4], [Some(Inadequate), None], true), Standing::Serious);
    }

    #[test]
    fn report_card_strong_needs_two_strong_standard_or_exceptional() {
        assert_eq!(
            card([StrongStandard, Exceptional, E, E, E, E], NO_CARD, true),
            Standing::Strong
        );
        assert_eq!(
            card([StrongStandard, StrongStandard, E, E, E, E], NO_CARD, true),
            Standing::Strong
        );
        assert_eq!(card([Exceptional, E, E, E, E, E], NO_CARD, true), Standing::Secure);
    }

    #[test]
    fn report_card_secure_is_no_area_below_expected() {
        assert_eq!(card([E; 6], NO_CARD, true), Standing::Secure);
    }

    #[test]
    fn report_card_concern_is_otherwise() {
        assert_eq!(
            card([Exceptional, Exceptional, E, E, E, NeedsAttention], NO_CARD, true),
            Standing::Concern
        );
    }

    #[test]
    fn report_card_serious_is_any_urgent_improvement_or_safeguarding_not_met() {
        assert_eq!(card([E, E, E, E, E, UrgentImprovement], NO_CARD, true), Standing::Serious);
        assert_eq!(card([Exceptional; 6], NO_CARD, false), Standing::Serious);
    }

    #[test]
    fn report_card_counts_early_years_and_sixth_form_where_present() {
        assert_eq!(
            card([Exceptional, E, E, E, E, E], [Some(StrongStandard), None], true),
            Standing::Strong
        );
        assert_eq!(card([E; 6], [None, Some(NeedsAttention)], true), Standing::Concern);
        assert_eq!(card([E; 6], [Some(UrgentImprovement), None], true), Standing::Serious);
    }

    #[test]
    fn outcomes_read_as_the_contract_writes_them() {
        let card: InspectionOutcome = serde_json::from_str(
            r#"{"framework": "report_card", "published": "2026-02-11",
                "grades": {"leadership_governance": "strong_standard", "curriculum_teaching": "expected_standard",
                           "achievement": "needs_attention", "attendance_behaviour": "expected_standard",
                           "personal_development_wellbeing": "expected_standard", "inclusion": "expected_standard"},
                "safeguarding": "met"}"#,
        )
        .expect("the contract's report card");
        assert_eq!(card.standing(), Standing::Concern);
        let overall: InspectionOutcome = serde_json::from_str(
            r#"{"framework": "overall", "published": null, "overall": "good"}"#,
        )
        .expect("overall");
        assert_eq!(overall.standing(), Standing::Secure);
        // Round trip.
        let text = serde_json::to_string(&card).expect("json");
        assert_eq!(serde_json::from_str::<InspectionOutcome>(&text).expect("back"), card);
        for bad in [
            r#"{"framework": "section_5", "overall": "good"}"#,
            r#"{"framework": "overall", "overall": "excellent"}"#,
            r#"{"framework": "overall", "overall": "good", "note": "x"}"#,
            r#"{"framework": "overall", "published": "10/05/2023", "overall": "good"}"#,
            r#"{"framework": "sub_judgements", "safeguarding": "met", "grades":
                {"quality_of_education": "good", "behaviour_attitudes": "good", "personal_development": "good"}}"#,
        ] {
            assert!(serde_json::from_str::<InspectionOutcome>(bad).is_err(), "{bad}");
        }
    }
}
