//! The imports against a real engine on a temporary folder: each importer
//! with good rows going in and bad rows reported by row and column (a
//! malformed cell without calling the domain, a domain refusal mapped back
//! to its column), re-import of the same file appending nothing, a changed
//! row recording only the change, the real GIAS file of ../shared/data,
//! and the demo's files importing cleanly. Given / when / then.

use std::collections::BTreeMap;

use bridges_engine::config::Config;
use bridges_engine::domain::state::State;
use bridges_engine::handle::{Engine, Outcome};
use bridges_engine::imports::{
    self, ImportOptions, ImportReport, gias, inspections, practitioners, requests,
};
use bridges_engine::keys::KeyStore;
use bridges_engine::log::{EventLog, LogConfig, Position};
use bridges_engine::{demo, rules};
use bridges_schemas::commands::CommandEnvelope;
use bridges_schemas::inspection::InspectionOutcome;
use bridges_schemas::vocab::{ConflictTarget, UserId};
use bridges_schemas::{Period, Phase, PractitionerId, RequestId, Urn};
use chrono::{DateTime, Utc};
use serde_json::Value;

struct Fixture {
    _dir: tempfile::TempDir,
    engine: Engine,
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = EventLog::open(LogConfig::new(dir.path().join("data"))).expect("log");
    let keys = KeyStore::open(dir.path().join("data-keys")).expect("keys");
    let config = Config::built_in().expect("config");
    let engine = Engine::open(log, rules::rules(&config), keys).await.expect("engine");
    Fixture { _dir: dir, engine }
}

fn at(text: &str) -> ImportOptions {
    let at: DateTime<Utc> = text.parse().expect("a time");
    ImportOptions { at, actor: UserId("broker-1".into()) }
}

/// Early in the year: no half-term has ended.
fn september() -> ImportOptions {
    at("2026-09-07T09:00:00Z")
}

/// After Autumn 1 has ended.
fn november() -> ImportOptions {
    at("2026-11-23T09:00:00Z")
}

/// The events appended after `from`: (stream, type, payload).
fn events_after(engine: &Engine, from: Position) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    let head = engine.log().head();
    if head.0 <= from.0 {
        return out;
    }
    engine
        .log()
        .scan(Position(from.0 + 1), head, |e| {
            out.push((
                e.stream.to_owned(),
                e.type_name.to_owned(),
                serde_json::from_slice(e.payload).expect("json"),
            ))
        })
        .expect("scan");
    out
}

/// (row, column) of each rejection.
fn rejected(report: &ImportReport) -> Vec<(usize, &str)> {
    report.rejected.iter().map(|r| (r.row, r.column.as_str())).collect()
}

async fn state<R>(engine: &Engine, f: impl FnOnce(&State) -> R) -> R {
    engine.read(f).await.expect("read")
}

const GIAS: &str = "\
URN,EstablishmentName,LA (code),LA (name),TypeOfEstablishment (name),EstablishmentTypeGroup (name),PhaseOfEducation (name),EstablishmentStatus (name),NumberOfPupils,Trusts (name),Postcode,Easting,Northing,OfstedRating (name),CloseDate,Unused
102400,Alpha Primary School,312,Hillingdon,Community school,Local authority maintained schools,Primary,Open,420,,UB1 1AA,507000,182000,Good,,x
102401,Beta High School,312,Hillingdon,Academy converter,Academies,Secondary,Open,1200,Heathrow Learning Trust,UB2 2BB,508000,183000,Outstanding,,y
102402,Gamma School,312,Hillingdon,Community special school,Special schools,Not applicable,Open,150,,UB3 3CC,509000,181000,Requires improvement,,
102403,Delta Prep,312,Hillingdon,Other independent school,Independent schools,Not applicable,Open,200,,UB4 4DD,506000,184000,,,
102404,Epsilon Primary School,312,Hillingdon,Community school,Local authority maintained schools,Primary,Open,abc,,UB5 5EE,505000,185000,Good,,
102405,Zeta School,312,Hillingdon,Community school,Local authority maintained schools,Elementary,Open,300,,UB6 6FF,505000,185000,Good,,
101858,Maples Nursery School,307,Ealing,Local authority nursery school,Local authority maintained schools,Nursery,Open,101,,W3 7LL,520726,180361,Good,,
102406,Eta Primary School,312,Hillingdon,Community school,Local authority maintained schools,Primary,Open,300,,UB7 7GG,,,Good,,
";

async fn with_schools() -> Fixture {
    let f = fixture().await;
    let report = gias::import(&f.engine, GIAS.as_bytes(), 312, &september()).await.expect("import");
    assert_eq!(report.applied, 3, "{}", report.render());
    f
}

#[tokio::test]
async fn gias_imports_the_good_rows_and_reports_bad_ones_by_row_and_column() {
    // Given a GIAS extract with extra columns, another LA's row, an
    // independent school, and three malformed rows
    let f = fixture().await;
    // When it is imported for LA 312
    let report = gias::import(&f.engine, GIAS.as_bytes(), 312, &september()).await.expect("import");
    // Then the three schools go in, the independent school is skipped with
    // why, and each bad row names its column
    assert_eq!((report.rows, report.other_la), (7, 1), "{}", report.render());
    assert_eq!(report.applied, 3);
    assert_eq!(report.skipped.len(), 1);
    assert_eq!(report.skipped[0].row, 5);
    assert!(report.skipped[0].reason.contains("Other independent school"), "{:?}", report.skipped);
    assert_eq!(
        rejected(&report),
        [(6, gias::PUPILS), (7, gias::PHASE), (9, gias::EASTING)],
        "{}",
        report.render()
    );
    assert_eq!(report.rejected[0].value, "abc");
    let (schools, special, risk) = state(&f.engine, |s| {
        (
            s.schools.keys().copied().collect::<Vec<_>>(),
            s.schools[&Urn(102402)].phase,
            s.schools[&Urn(102402)].risk.as_ref().and_then(|r| r.tier),
        )
    })
    .await;
    assert_eq!(schools, [Urn(102400), Urn(102401), Urn(102402)], "bad rows wrote nothing");
    assert_eq!(special, Phase::Special, "Not applicable + a special type is special");
    assert_eq!(risk, Some(2), "GIAS's 'Requires improvement' sets the risk by the rule");
    let types: Vec<String> =
        events_after(&f.engine, Position(0)).into_iter().map(|e| e.1).collect();
    assert_eq!(types.iter().filter(|t| *t == "InspectionRecorded").count(), 3);
}

#[tokio::test]
async fn gias_re_import_appends_nothing_and_a_changed_row_records_only_the_change() {
    // Given the schools imported
    let f = with_schools().await;
    let head = f.engine.log().head();
    // When the same file is imported again
    let again = gias::import(&f.engine, GIAS.as_bytes(), 312, &september()).await.expect("import");
    // Then nothing is appended
    assert_eq!(f.engine.log().head(), head, "{}", again.render());
    assert_eq!((again.applied, again.unchanged), (0, 3));

    // When Alpha is renamed with more pupils, and Beta closes
    let changed = GIAS
        .replace("Alpha Primary School,312,Hillingdon,Community school,Local authority maintained schools,Primary,Open,420",
                 "Alpha Academy,312,Hillingdon,Community school,Local authority maintained schools,Primary,Open,430")
        .replace("Academies,Secondary,Open,1200", "Academies,Secondary,Closed,1200")
        .replace("Outstanding,,y", "Outstanding,31-08-2026,y");
    let report =
        gias::import(&f.engine, changed.as_bytes(), 312, &september()).await.expect("import");
    // Then exactly one change (name and pupils) and one closure are recorded
    let events = events_after(&f.engine, head);
    assert_eq!(events.len(), 2, "{events:?}\n{}", report.render());
    assert_eq!(events[0].1, "SchoolChanged");
    assert_eq!(events[0].2["changed"], serde_json::json!(["name", "pupils"]));
    assert_eq!(events[1].1, "SchoolClosed");
    assert_eq!(events[1].2["closed_on"], "2026-08-31");

    // When the name is changed back (A, B, then A again)
    let head = f.engine.log().head();
    gias::import(&f.engine, GIAS.as_bytes(), 312, &september()).await.expect("import");
    // Then that change is recorded too (a command id carries the stream version)
    let events = events_after(&f.engine, head);
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].2["name"], "Alpha Primary School");
    // And so is B once more, though the same command was applied before
    let head = f.engine.log().head();
    gias::import(&f.engine, changed.as_bytes(), 312, &september()).await.expect("import");
    let events = events_after(&f.engine, head);
    assert_eq!(events.len(), 1, "B again is recorded: {events:?}");
    assert_eq!(events[0].2["name"], "Alpha Academy");
}

#[tokio::test]
async fn gias_refuses_another_la_and_a_file_without_a_required_column() {
    let f = fixture().await;
    let err = gias::import(&f.engine, GIAS.as_bytes(), 307, &september()).await.expect_err("LA");
    assert!(err.is_bad_input() && err.to_string().contains("312"), "{err}");
    let no_urn = GIAS.replacen("URN,", "Ref,", 1);
    let err = gias::import(&f.engine, no_urn.as_bytes(), 312, &september()).await.expect_err("URN");
    assert!(matches!(err, imports::ImportError::MissingColumn { ref column } if column == "URN"));
    assert_eq!(f.engine.log().head(), Position(0), "a refused file writes nothing");
}

const INSPECTIONS: &str = "\
URN,Framework,Published,Overall,Quality of education,Behaviour and attitudes,Personal development,Leadership and management,Early years,Sixth form,Leadership and governance,Curriculum and teaching,Achievement,Attendance and behaviour,Personal development and wellbeing,Inclusion,Safeguarding
102400,report_card,2026-02-11,,,,,,,,Strong standard,Expected standard,Needs attention,Expected standard,Expected standard,Expected standard,Met
102401,sub_judgements,04/03/2025,,Good,Good,Outstanding,Outstanding,,Good,,,,,,,Met
102402,overall,2019-05-10,Good,,,,,,,,,,,,,
102401,overall,,Good,,,,,,,,,,,,,
102410,sub_judgements,2025-03-04,,Good,Good,,Good,,,,,,,,,Met
102411,report_card,2026-02-11,Good,,,,,,,Expected standard,Expected standard,Expected standard,Expected standard,Expected standard,Expected standard,Met
102412,overall,,Satisfactory,,,,,,,,,,,,,
102413,inspection_grade,,Good,,,,,,,,,,,,,
123456,overall,,Good,,,,,,,,,,,,,
";

#[tokio::test]
async fn inspections_import_each_framework_and_name_the_column_of_a_bad_cell() {
    // Given the schools and an inspections file in all three frameworks
    // with six bad rows
    let f = with_schools().await;
    // When it is imported
    let report =
        inspections::import(&f.engine, INSPECTIONS.as_bytes(), &september()).await.expect("import");
    // Then the three good rows go in and each bad row names its column
    assert_eq!(report.applied, 3, "{}", report.render());
    assert_eq!(
        rejected(&report),
        [
            (5, inspections::URN),
            (6, inspections::PERSONAL_DEVELOPMENT),
            (7, inspections::OVERALL),
            (8, inspections::OVERALL),
            (9, inspections::FRAMEWORK),
            (10, inspections::URN),
        ],
        "{}",
        report.render()
    );
    assert!(report.rejected[0].reason.contains("also in row 3"), "{:?}", report.rejected[0]);
    assert!(report.rejected[5].reason.contains("no such school"), "{:?}", report.rejected[5]);
    // And the outcomes set each school's risk by the configured rule
    let (alpha, gamma, beta) = state(&f.engine, |s| {
        let tier = |u| s.schools[&Urn(u)].risk.as_ref().and_then(|r| r.tier);
        (tier(102400), tier(102402), s.schools[&Urn(102401)].inspection)
    })
    .await;
    assert_eq!(alpha, Some(2), "a report card with 'needs attention' is concern: tier 2");
    assert_eq!(gamma, None, "an overall 'good' is secure: no longer at risk");
    assert!(matches!(beta, Some(InspectionOutcome::SubJudgements { .. })), "{beta:?}");

    // When the same file is imported again, and then GIAS again
    let head = f.engine.log().head();
    inspections::import(&f.engine, INSPECTIONS.as_bytes(), &september()).await.expect("import");
    gias::import(&f.engine, GIAS.as_bytes(), 312, &september()).await.expect("import");
    // Then nothing is appended: GIAS's older grade never overwrites an imported outcome
    assert_eq!(events_after(&f.engine, head), []);
}

const PRACTITIONERS: &str = "\
Practitioner ID,Name,Email,Phone,Title,Home URN,Specialisms,Phases,Day rate,2026-AU1,2026-AU2,2027-SP1,2027-SP2,2027-SU1,2027-SU2,Max days,Conflicts
sle-1,Amara Okafor,amara.okafor@alpha.sch.example,020 7946 0001,SLE,102400,maths; english,primary,350,3,2,2,2,2,2,12,school:102401:governor
lle-1,Ben Hughes,,,LLE,102401,leadership,secondary; 16 plus,£475,,4,4,4,4,4,20,trust:heathrow learning trust:former_employer:2026-09-01..2027-08-31
sle-2,Chloe Patel,,,SLE,102400,maths,primary; elementary,,,1,1,1,1,1,5,
sle-3,Dev Nowak,,,SLE,102400,maths,primary,cheap,,1,1,1,1,1,5,
sle-4,Ella Singh,,,Consultant,102400,maths,primary,,,1,1,1,1,1,5,
sle-5,NAME_TOO_LONG,,,SLE,102400,maths,primary,,,1,1,1,1,1,5,
sle-6,Farid Ahmed,,,SLE,999999,maths,primary,,,1,1,1,1,1,5,
sle-1,Grace Walsh,,,SLE,102400,maths,primary,,,1,1,1,1,1,5,
";

fn practitioners_csv() -> String {
    PRACTITIONERS.replace("NAME_TOO_LONG", &format!("Harpreet {}", "Clarke".repeat(25)))
}

#[tokio::test]
async fn practitioners_import_with_availability_and_conflicts_and_never_show_personal_data() {
    // Given the schools, and a spreadsheet with two good rows and six bad
    let f = with_schools().await;
    let text = practitioners_csv();
    // When it is imported in November (Autumn 1 has ended)
    let report =
        practitioners::import(&f.engine, text.as_bytes(), &november()).await.expect("import");
    // Then the good rows go in and each bad row names its column
    assert_eq!(report.applied, 2, "{}", report.render());
    assert_eq!(
        rejected(&report),
        [
            (4, practitioners::PHASES),
            (5, practitioners::DAY_RATE),
            (6, practitioners::TITLE),
            (7, practitioners::NAME),
            (8, practitioners::HOME_URN),
            (9, practitioners::ID),
        ],
        "{}",
        report.render()
    );
    // And no name, email or phone appears in the report
    let shown = format!("{}{:?}", report.render(), report);
    for secret in ["Amara", "Okafor", "amara.okafor", "7946", "Clarke", "Grace", "Walsh"] {
        assert!(!shown.contains(secret), "{secret} shown in\n{shown}");
    }
    assert_eq!(report.rejected[3].value, "(not shown)");
    // And the availability of the half-terms not ended is declared, the conflicts too
    let (sle, lle) = state(&f.engine, |s| {
        let p = |id: &str| s.practitioners[&PractitionerId::from(id)].clone();
        (p("sle-1"), p("lle-1"))
    })
    .await;
    assert_eq!(
        sle.capacity.get(&Period::from("2026-AU1")),
        None,
        "an ended half-term is not declared"
    );
    assert_eq!(sle.capacity.get(&Period::from("2026-AU2")), Some(&2));
    assert_eq!(sle.max_days.values().copied().collect::<Vec<_>>(), [12]);
    assert_eq!(lle.day_rate, 475);
    assert_eq!(lle.phases, [Phase::Secondary, Phase::SixteenPlus]);
    let trust = lle.conflicts.values().next().expect("a conflict");
    assert_eq!(
        trust.target,
        ConflictTarget::Trust { name: "Heathrow Learning Trust".into() },
        "a trust is matched to the registered schools' spelling"
    );
    assert_eq!(trust.valid_to.map(|d| d.to_string()).as_deref(), Some("2027-08-31"));
}

#[tokio::test]
async fn a_practitioner_re_import_records_only_what_changed() {
    // Given the practitioners imported
    let f = with_schools().await;
    let text = practitioners_csv();
    practitioners::import(&f.engine, text.as_bytes(), &november()).await.expect("import");
    let head = f.engine.log().head();
    // When the same file is imported again
    practitioners::import(&f.engine, text.as_bytes(), &november()).await.expect("import");
    // Then nothing is appended
    assert_eq!(events_after(&f.engine, head), []);

    // When sle-1 offers one more day in Spring 1, no longer lists its
    // conflict, and lle-1's email is added
    let changed = text
        .replace("primary,350,3,2,2,2,2,2,12,school:102401:governor", "primary,350,3,2,3,2,2,2,12,")
        .replace("Ben Hughes,,", "Ben Hughes,ben.hughes@beta.sch.example,");
    let report =
        practitioners::import(&f.engine, changed.as_bytes(), &november()).await.expect("import");
    // Then sle-1's availability and the conflict's withdrawal are recorded,
    // and lle-1's personal details, and nothing else
    let events: Vec<(String, String)> =
        events_after(&f.engine, head).into_iter().map(|e| (e.0, e.1)).collect();
    assert_eq!(
        events,
        [
            ("practitioner-sle-1".to_owned(), "AvailabilityDeclared".to_owned()),
            ("practitioner-sle-1".to_owned(), "ConflictWithdrawn".to_owned()),
            ("practitioner-lle-1".to_owned(), "PractitionerChanged".to_owned()),
        ],
        "{}",
        report.render()
    );
    assert_eq!(report.applied, 2);
    assert!(!report.render().contains("ben.hughes"));

    // When lle-1's personal data is erased and the spreadsheet imported again
    let erase = CommandEnvelope {
        id: "erase-lle-1".into(),
        actor: UserId("broker-1".into()),
        at: november().at,
        command: bridges_schemas::commands::Command::ErasePractitioner(
            bridges_schemas::commands::ErasePractitioner {
                practitioner: PractitionerId::from("lle-1"),
            },
        ),
    };
    f.engine.handle(&erase).await.expect("erase");
    let head = f.engine.log().head();
    let report =
        practitioners::import(&f.engine, changed.as_bytes(), &november()).await.expect("import");
    // Then its row is skipped with why, not refused, and nothing is appended
    assert_eq!(events_after(&f.engine, head), []);
    assert_eq!(report.skipped.len(), 1, "{}", report.render());
    assert!(report.skipped[0].reason.contains("erased"), "{:?}", report.skipped);
    assert!(rejected(&report).iter().all(|(row, _)| *row != 3), "{}", report.render());
}

const REQUESTS: &str = "\
Request ID,URN,Need,2026-AU1,2026-AU2,2027-SP1,2027-SP2,Tier,Titles accepted,Funding,Purchase order
r-1,102400,maths,,2,1,,follow,SLE,la_core,
r-2,102401,post-16,,1,1,1,2,SLE; LLE,School paid,PO-77
r-3,102400,post-16,,1,,,3,SLE,,
r-4,102400,maths,2,1,,,3,SLE,,
r-5,102400,maths,,1,,,5,SLE,,
r-6,102400,knitting,,1,,,3,SLE,,
r-7,102400,maths,,1,,,3,Consultant,,
r-8,102400,maths,,1,,,3,SLE,barter,
";

#[tokio::test]
async fn requests_import_and_a_need_that_does_not_fit_the_phase_is_refused_by_column() {
    // Given the schools, and requests with two good rows and six bad
    let f = with_schools().await;
    // When they are imported in November
    let report =
        requests::import(&f.engine, REQUESTS.as_bytes(), &november()).await.expect("import");
    // Then the good rows go in and each bad row names its column
    assert_eq!(report.applied, 2, "{}", report.render());
    assert_eq!(
        rejected(&report),
        [
            (4, requests::NEED),
            (5, "2026-AU1"),
            (6, requests::TIER),
            (7, requests::NEED),
            (8, requests::TITLES),
            (9, requests::FUNDING),
        ],
        "{}",
        report.render()
    );
    assert!(
        report.rejected[0].reason.contains("primary"),
        "post-16 in a primary: {:?}",
        report.rejected[0]
    );
    let r2 = state(&f.engine, |s| s.requests[&RequestId::from("r-2")].clone()).await;
    assert_eq!(r2.purchase_order.as_deref(), Some("PO-77"));
    assert_eq!(r2.funding.as_str(), "school_paid");
}

#[tokio::test]
async fn a_request_re_import_amends_only_what_changed_and_leaves_ended_half_terms_alone() {
    // Given the requests imported
    let f = with_schools().await;
    requests::import(&f.engine, REQUESTS.as_bytes(), &november()).await.expect("import");
    let head = f.engine.log().head();
    // When the same file is imported again
    requests::import(&f.engine, REQUESTS.as_bytes(), &november()).await.expect("import");
    // Then nothing is appended
    assert_eq!(events_after(&f.engine, head), []);
    // When r-1 asks for one more day in Spring 1 (and its ended Autumn 1
    // cell is filled in after the fact), and r-2 moves to another school
    let changed = REQUESTS
        .replace("r-1,102400,maths,,2,1,", "r-1,102400,maths,4,2,2,")
        .replace("r-2,102401,", "r-2,102400,");
    let report =
        requests::import(&f.engine, changed.as_bytes(), &november()).await.expect("import");
    // Then one amendment of r-1's days alone is recorded, and r-2's row is refused at URN
    let events = events_after(&f.engine, head);
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].1, "RequestAmended");
    assert_eq!(events[0].2["changed"], serde_json::json!(["days"]));
    let days: BTreeMap<String, u32> =
        serde_json::from_value(events[0].2["days"].clone()).expect("days");
    assert_eq!(days, BTreeMap::from([("2026-AU2".into(), 2), ("2027-SP1".into(), 2)]));
    assert!(rejected(&report).contains(&(3, requests::URN)), "{}", report.render());
}

#[tokio::test]
async fn an_import_reads_the_day_in_london_so_a_half_term_ended_at_midnight_there_is_left_alone() {
    // Given the requests imported in September (r-4 asks for 2 days in Autumn 1)
    let f = with_schools().await;
    requests::import(&f.engine, REQUESTS.as_bytes(), &september()).await.expect("import");
    let head = f.engine.log().head();
    // When r-4's row changes Autumn 1 and Autumn 2 at 23:30 UTC on Friday
    // 23 October, Autumn 1's last day: 00:30 on Saturday in London (summer
    // time), so Autumn 1 has ended
    let changed = REQUESTS.replace("r-4,102400,maths,2,1,", "r-4,102400,maths,3,2,");
    let report = requests::import(&f.engine, changed.as_bytes(), &at("2026-10-23T23:30:00Z"))
        .await
        .expect("import");
    // Then Autumn 1 is left alone (its 2 days kept, not 3) and Autumn 2's
    // change is recorded, not the row refused for a half-term that has ended
    assert!(rejected(&report).iter().all(|(row, _)| *row != 5), "{}", report.render());
    let events = events_after(&f.engine, head);
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].1, "RequestAmended");
    let days: BTreeMap<String, u32> =
        serde_json::from_value(events[0].2["days"].clone()).expect("days");
    assert_eq!(days, BTreeMap::from([("2026-AU1".into(), 2), ("2026-AU2".into(), 2)]));
}

/// The shared data file, or `None` (with a note) when it is absent; under
/// CI its absence fails the test.
fn shared_gias() -> Option<std::path::PathBuf> {
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data/hillingdon_ealing_schools.csv");
    if path.exists() {
        return Some(path);
    }
    if std::env::var_os("CI").is_some() {
        panic!("{} is missing and CI is set: the real-data tests must run", path.display());
    }
    eprintln!("note: {} is absent; skipping the real-data test", path.display());
    None
}

#[tokio::test]
async fn the_real_hillingdon_gias_file_imports_100_of_its_113_establishments() {
    let Some(path) = shared_gias() else { return };
    // Given the two boroughs' GIAS file (SOURCES.md: 113 establishments of LA 312)
    let f = fixture().await;
    // When LA 312's rows are imported
    let report =
        imports::import_file(&f.engine, imports::Kind::Gias, &path, Some(312), &september())
            .await
            .expect("import");
    // Then all 113 are read, Ealing's 117 left alone, 100 registered, and
    // the 13 without a phase that are not special (independent schools,
    // colleges, universities, alternative provision) skipped with why
    assert_eq!((report.rows, report.other_la), (113, 117), "{}", report.render());
    assert_eq!((report.applied, report.skipped.len(), report.rejected.len()), (100, 13, 0));
    assert!(
        report
            .skipped
            .iter()
            .all(|s| s.reason.contains("not a school the partnership brokers for")),
        "{}",
        report.render()
    );
    let phases = state(&f.engine, |s| {
        let mut m: BTreeMap<Phase, usize> = BTreeMap::new();
        for school in s.schools.values() {
            *m.entry(school.phase).or_default() += 1;
        }
        m
    })
    .await;
    assert_eq!(
        phases,
        BTreeMap::from([
            (Phase::Nursery, 1),
            (Phase::Primary, 67),
            (Phase::Secondary, 21),
            (Phase::AllThrough, 1),
            (Phase::SixteenPlus, 1),
            (Phase::Special, 9),
        ])
    );
    // And importing it again appends nothing
    let head = f.engine.log().head();
    imports::import_file(&f.engine, imports::Kind::Gias, &path, None, &september())
        .await
        .expect("import");
    assert_eq!(f.engine.log().head(), head);
}

#[tokio::test]
async fn the_demo_files_import_cleanly_and_the_budget_goes_through_handle() {
    for when in [september(), november(), at("2027-02-01T09:00:00Z")] {
        // Given a generated borough and the demo's files for that moment
        let f = fixture().await;
        let borough = demo::borough(7, 60, 312);
        let report = gias::import(&f.engine, borough.as_bytes(), 312, &when).await.expect("gias");
        assert!(report.rejected.is_empty(), "{}", report.render());
        let schools = gias::open_schools(borough.as_bytes(), 312).expect("schools");
        let spec =
            demo::DemoSpec { seed: 7, practitioners: 24, requests: 48, weekly_arrivals: false };
        let files = demo::generate(&schools, f.engine.rules(), when.at, &spec);
        // When they are imported like a user's files
        for (text, import) in [
            (&files.inspections, imports::Kind::Inspections),
            (&files.practitioners, imports::Kind::Practitioners),
            (&files.requests, imports::Kind::Requests),
        ] {
            let dir = tempfile::tempdir().expect("tempdir");
            let path = demo::write(dir.path(), "file.csv", text).expect("write");
            let report =
                imports::import_file(&f.engine, import, &path, None, &when).await.expect("import");
            // Then every row goes in
            assert!(report.rejected.is_empty() && report.skipped.is_empty(), "{}", report.render());
            assert_eq!(report.applied, report.rows, "{}", report.render());
            assert!(report.rows > 0, "{import:?} at {}", when.at);
        }
        // And every practitioner works in a school whose standing is good or better
        let homes_good = state(&f.engine, |s| {
            s.practitioners.values().all(|p| {
                s.schools[&p.home_urn].inspection.is_some_and(|o| o.standing().good_or_better())
            })
        })
        .await;
        assert!(homes_good);
        for (i, command) in
            demo::budget(f.engine.rules(), when.at, schools.len()).into_iter().enumerate()
        {
            let envelope = CommandEnvelope {
                id: format!("budget-{i}"),
                actor: when.actor.clone(),
                at: when.at,
                command,
            };
            let outcome = f.engine.handle(&envelope).await.expect("handle");
            assert!(!matches!(outcome, Outcome::Rejected(_)), "{outcome:?}");
        }
    }
}
