//! The demo's inspection outcomes: for each school, its latest outcome in
//! the framework it would have been given in, consistent with the grade
//! GIAS recorded for it. Older inspections stay `overall` (GIAS's grade,
//! dated before September 2024); some schools were inspected under the
//! sub-judgements (September 2024 to November 2025) or have a report card
//! (since 10 November 2025); schools GIAS grades as requiring improvement
//! are re-inspected sooner. A good school sometimes slips (one area below
//! the line), as LAs see in a falling trend. Seeded; outcomes only.

use bridges_schemas::Phase;
use bridges_schemas::inspection::{
    InspectionOutcome, Ofsted, ReportCardGrade, ReportCardGrades, Safeguarding, SubJudgementGrades,
};
use chrono::{Days, NaiveDate};
use rand::Rng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use crate::imports::gias::GiasSchool;
use crate::imports::inspections::HEADERS;

/// The school's latest outcome, or none (a new school not yet inspected).
pub fn outcome(rng: &mut ChaCha8Rng, school: &GiasSchool) -> Option<InspectionOutcome> {
    let grade = school.ofsted;
    let roll = rng.random_range(0..100);
    let framework = match grade {
        None => match roll {
            0..45 => Framework::ReportCard,
            45..65 => Framework::SubJudgements,
            _ => return None,
        },
        Some(Ofsted::RequiresImprovement | Ofsted::Inadequate) => match roll {
            0..30 => Framework::Overall,
            30..60 => Framework::SubJudgements,
            _ => Framework::ReportCard,
        },
        Some(_) => match roll {
            0..55 => Framework::Overall,
            55..75 => Framework::SubJudgements,
            _ => Framework::ReportCard,
        },
    };
    let grade = grade.unwrap_or(Ofsted::Good);
    let early_years = matches!(school.phase, Phase::Nursery | Phase::Primary | Phase::AllThrough)
        && rng.random_bool(0.7);
    let sixth_form =
        matches!(school.phase, Phase::Secondary | Phase::AllThrough | Phase::SixteenPlus)
            && rng.random_bool(0.6);
    Some(match framework {
        Framework::Overall => InspectionOutcome::Overall {
            published: Some(between(rng, date(2015, 9, 1), date(2024, 7, 19))),
            overall: grade,
        },
        Framework::SubJudgements => {
            let mut g = sub_grades(rng, grade);
            let safeguarding = if grade == Ofsted::Inadequate && rng.random_bool(0.5) {
                Safeguarding::NotMet
            } else {
                Safeguarding::Met
            };
            let extra = |rng: &mut ChaCha8Rng, on: bool| on.then(|| g[rng.random_range(0..4)]);
            let (ey, sf) = (extra(rng, early_years), extra(rng, sixth_form));
            g.truncate(4);
            InspectionOutcome::SubJudgements {
                published: Some(between(rng, date(2024, 9, 16), date(2025, 11, 7))),
                grades: SubJudgementGrades {
                    quality_of_education: g[0],
                    behaviour_attitudes: g[1],
                    personal_development: g[2],
                    leadership_management: g[3],
                    early_years: ey,
                    sixth_form: sf,
                },
                safeguarding,
            }
        }
        Framework::ReportCard => {
            let g = card_grades(rng, grade);
            let extra = |rng: &mut ChaCha8Rng, on: bool| on.then(|| g[rng.random_range(0..6)]);
            let (ey, sf) = (extra(rng, early_years), extra(rng, sixth_form));
            let safeguarding = if grade == Ofsted::Inadequate && rng.random_bool(0.5) {
                Safeguarding::NotMet
            } else {
                Safeguarding::Met
            };
            InspectionOutcome::ReportCard {
                published: Some(between(rng, date(2025, 11, 10), date(2026, 7, 10))),
                grades: ReportCardGrades {
                    leadership_governance: g[0],
                    curriculum_teaching: g[1],
                    achievement: g[2],
                    attendance_behaviour: g[3],
                    personal_development_wellbeing: g[4],
                    inclusion: g[5],
                    early_years: ey,
                    sixth_form: sf,
                },
                safeguarding,
            }
        }
    })
}

enum Framework {
    Overall,
    SubJudgements,
    ReportCard,
}

/// Four sub-judgement grades in keeping with an overall grade.
fn sub_grades(rng: &mut ChaCha8Rng, grade: Ofsted) -> Vec<Ofsted> {
    use Ofsted::*;
    let mut g = match grade {
        Outstanding => {
            let third = if rng.random_bool(0.5) { Outstanding } else { Good };
            vec![Outstanding, Outstanding, third, Good]
        }
        Good if rng.random_bool(0.15) => vec![Good, Good, Good, RequiresImprovement],
        Good if rng.random_bool(0.2) => vec![Good, Good, Good, Outstanding],
        Good => vec![Good; 4],
        RequiresImprovement => {
            let ri = rng.random_range(2..=4);
            (0..4).map(|i| if i < ri { RequiresImprovement } else { Good }).collect()
        }
        Inadequate => vec![Inadequate, RequiresImprovement, RequiresImprovement, Good],
    };
    g.shuffle(rng);
    g
}

/// Six report-card grades in keeping with an overall grade (a card is not
/// a conversion of it: only its spirit is kept).
fn card_grades(rng: &mut ChaCha8Rng, grade: Ofsted) -> Vec<ReportCardGrade> {
    use ReportCardGrade::*;
    let mut g = match grade {
        Ofsted::Outstanding => {
            let strong = rng.random_range(2..=4);
            (0..6)
                .map(|i| match i {
                    0 if rng.random_bool(0.4) => Exceptional,
                    i if i < strong => StrongStandard,
                    _ => ExpectedStandard,
                })
                .collect()
        }
        Ofsted::Good if rng.random_bool(0.12) => {
            vec![
                NeedsAttention,
                ExpectedStandard,
                ExpectedStandard,
                ExpectedStandard,
                ExpectedStandard,
                StrongStandard,
            ]
        }
        Ofsted::Good => {
            let strong = rng.random_range(0..=2);
            (0..6).map(|i| if i < strong { StrongStandard } else { ExpectedStandard }).collect()
        }
        Ofsted::RequiresImprovement => {
            let weak = rng.random_range(1..=3);
            (0..6).map(|i| if i < weak { NeedsAttention } else { ExpectedStandard }).collect()
        }
        Ofsted::Inadequate => vec![
            UrgentImprovement,
            NeedsAttention,
            NeedsAttention,
            ExpectedStandard,
            ExpectedStandard,
            ExpectedStandard,
        ],
    };
    g.shuffle(rng);
    g
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a real date")
}

/// A day from `a` to `b`, inclusive.
fn between(rng: &mut ChaCha8Rng, a: NaiveDate, b: NaiveDate) -> NaiveDate {
    let span = (b - a).num_days().max(0) as u64;
    a + Days::new(rng.random_range(0..=span))
}

/// The inspections CSV row of an outcome, its words as a spreadsheet
/// writes them (the import reads them back).
pub fn csv_row(urn: bridges_schemas::Urn, outcome: &InspectionOutcome) -> Vec<String> {
    let mut cells = vec![String::new(); HEADERS.len()];
    let mut set = |header: &str, text: &str| {
        let i = HEADERS.iter().position(|h| *h == header).expect("a known header");
        cells[i] = text.to_owned();
    };
    use crate::imports::inspections as h;
    set(h::URN, &urn.to_string());
    let published = match outcome {
        InspectionOutcome::Overall { published, .. }
        | InspectionOutcome::SubJudgements { published, .. }
        | InspectionOutcome::ReportCard { published, .. } => *published,
    };
    set(h::PUBLISHED, &published.map(|d| d.to_string()).unwrap_or_default());
    match outcome {
        InspectionOutcome::Overall { overall, .. } => {
            set(h::FRAMEWORK, "overall");
            set(h::OVERALL, ofsted(*overall));
        }
        InspectionOutcome::SubJudgements { grades, safeguarding, .. } => {
            set(h::FRAMEWORK, "sub_judgements");
            set(h::QUALITY_OF_EDUCATION, ofsted(grades.quality_of_education));
            set(h::BEHAVIOUR_AND_ATTITUDES, ofsted(grades.behaviour_attitudes));
            set(h::PERSONAL_DEVELOPMENT, ofsted(grades.personal_development));
            set(h::LEADERSHIP_AND_MANAGEMENT, ofsted(grades.leadership_management));
            if let Some(g) = grades.early_years {
                set(h::EARLY_YEARS, ofsted(g));
            }
            if let Some(g) = grades.sixth_form {
                set(h::SIXTH_FORM, ofsted(g));
            }
            set(h::SAFEGUARDING, met(*safeguarding));
        }
        InspectionOutcome::ReportCard { grades, safeguarding, .. } => {
            set(h::FRAMEWORK, "report_card");
            set(h::LEADERSHIP_AND_GOVERNANCE, card(grades.leadership_governance));
            set(h::CURRICULUM_AND_TEACHING, card(grades.curriculum_teaching));
            set(h::ACHIEVEMENT, card(grades.achievement));
            set(h::ATTENDANCE_AND_BEHAVIOUR, card(grades.attendance_behaviour));
            set(h::PERSONAL_DEVELOPMENT_AND_WELLBEING, card(grades.personal_development_wellbeing));
            set(h::INCLUSION, card(grades.inclusion));
            if let Some(g) = grades.early_years {
                set(h::EARLY_YEARS, card(g));
            }
            if let Some(g) = grades.sixth_form {
                set(h::SIXTH_FORM, card(g));
            }
            set(h::SAFEGUARDING, met(*safeguarding));
        }
    }
    cells
}

fn ofsted(g: Ofsted) -> &'static str {
    match g {
        Ofsted::Outstanding => "Outstanding",
        Ofsted::Good => "Good",
        Ofsted::RequiresImprovement => "Requires improvement",
        Ofsted::Inadequate => "Inadequate",
    }
}

fn card(g: ReportCardGrade) -> &'static str {
    match g {
        ReportCardGrade::Exceptional => "Exceptional",
        ReportCardGrade::StrongStandard => "Strong standard",
        ReportCardGrade::ExpectedStandard => "Expected standard",
        ReportCardGrade::NeedsAttention => "Needs attention",
        ReportCardGrade::UrgentImprovement => "Urgent improvement",
    }
}

fn met(s: Safeguarding) -> &'static str {
    match s {
        Safeguarding::Met => "Met",
        Safeguarding::NotMet => "Not met",
    }
}
