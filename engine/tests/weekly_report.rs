//! The main job's two new tables, read from a real engine's state: each
//! open request's "matched within 2 working days" clock (met, late, open)
//! and the spend against budget per funding source (proposed, committed,
//! spent, remaining, with the brokerage fee). Given / when / then.

use bridges_engine::config::Config;
use bridges_engine::handle::{Engine, Outcome};
use bridges_engine::imports::{ImportOptions, gias, practitioners, requests};
use bridges_engine::keys::KeyStore;
use bridges_engine::log::{EventLog, LogConfig};
use bridges_engine::rules;
use bridges_engine::weekly::{self, Clock, Spend};
use bridges_schemas::commands::{
    AcceptAssignment, Command, CommandEnvelope, ProposeAssignment, RecordVisit, SetBrokerageFee,
    SetBudget,
};
use bridges_schemas::vocab::{AcademicYearId, AssignmentId, FundingSource, UserId};
use bridges_schemas::{Period, PractitionerId, RequestId};
use chrono::{DateTime, NaiveDate, Utc};

const GIAS: &str = "\
URN,EstablishmentName,LA (code),PhaseOfEducation (name),Easting,Northing
102400,Alpha Primary School,312,Primary,507000,182000
102401,Beta Primary School,312,Primary,508000,183000
";

const PRACTITIONERS: &str = "\
Practitioner ID,Name,Title,Home URN,Specialisms,Phases,2026-AU1,Max days
sle-1,Amara Okafor,SLE,102401,maths; english,primary,6,6
";

/// r-1 and r-2 raised on Monday 7 September, r-3 on Thursday the 10th.
const REQUESTS: &str = "\
Request ID,URN,Need,2026-AU1,Tier,Titles accepted,Funding
r-1,102400,maths,2,3,SLE,la_core
r-2,102400,english,1,3,SLE,rise
";
const LATER: &str = "\
Request ID,URN,Need,2026-AU1,Tier,Titles accepted,Funding
r-3,102400,send,1,3,SLE,la_core
";

fn time(text: &str) -> DateTime<Utc> {
    text.parse().expect("a time")
}

async fn handle(engine: &Engine, id: &str, at: &str, command: Command) {
    let envelope =
        CommandEnvelope { id: id.into(), actor: UserId("broker-1".into()), at: time(at), command };
    let outcome = engine.handle(&envelope).await.expect("handle");
    assert!(matches!(outcome, Outcome::Applied { .. }), "{id}: {outcome:?}");
}

#[tokio::test]
async fn clocks_say_met_late_or_open_and_the_spend_counts_fee_commitments_and_visits() {
    // Given two schools, one practitioner, a budget with a 5% fee, and
    // two requests raised on Monday 7 September 2026
    let dir = tempfile::tempdir().expect("tempdir");
    let log = EventLog::open(LogConfig::new(dir.path().join("data"))).expect("log");
    let keys = KeyStore::open(dir.path().join("data-keys")).expect("keys");
    let rules = rules::rules(&Config::built_in().expect("config"));
    let engine = Engine::open(log, rules.clone(), keys).await.expect("engine");
    let monday =
        ImportOptions { at: time("2026-09-07T09:00:00Z"), actor: UserId("broker-1".into()) };
    let thursday = ImportOptions { at: time("2026-09-10T09:00:00Z"), ..monday.clone() };
    for (report, what) in [
        (gias::import(&engine, GIAS.as_bytes(), 312, &monday).await.expect("gias"), "gias"),
        (practitioners::import(&engine, PRACTITIONERS.as_bytes(), &monday).await.expect("p"), "p"),
        (requests::import(&engine, REQUESTS.as_bytes(), &monday).await.expect("r"), "r"),
        (requests::import(&engine, LATER.as_bytes(), &thursday).await.expect("r"), "later"),
    ] {
        assert!(report.rejected.is_empty(), "{what}: {}", report.render());
    }
    let year = AcademicYearId("2026-27".into());
    let budget = |funding, amount_pence| {
        Command::SetBudget(SetBudget { year: year.clone(), funding, amount_pence })
    };
    handle(&engine, "b-1", "2026-09-07T09:00:00Z", budget(FundingSource::LaCore, 100_000)).await;
    let fee = Command::SetBrokerageFee(SetBrokerageFee { year: year.clone(), basis_points: 500 });
    handle(&engine, "b-2", "2026-09-07T09:00:00Z", fee).await;

    // When r-2 is proposed on Tuesday (in time), r-1 on Thursday (late),
    // r-1's proposal is accepted and one day of it visited
    let propose = |request: &str, assignment: &str, days: u32| {
        Command::ProposeAssignment(ProposeAssignment {
            assignment: Some(AssignmentId(assignment.into())),
            request: RequestId::from(request),
            practitioner: PractitionerId::from("sle-1"),
            days: [(Period::from("2026-AU1"), days)].into(),
        })
    };
    handle(&engine, "p-2", "2026-09-08T09:00:00Z", propose("r-2", "a-2", 1)).await;
    handle(&engine, "p-1", "2026-09-10T09:00:00Z", propose("r-1", "a-1", 2)).await;
    let accept =
        Command::AcceptAssignment(AcceptAssignment { assignment: AssignmentId("a-1".into()) });
    handle(&engine, "acc-1", "2026-09-11T09:00:00Z", accept).await;
    let visit = Command::RecordVisit(RecordVisit {
        assignment: AssignmentId("a-1".into()),
        visit: None,
        on: NaiveDate::from_ymd_opt(2026, 9, 14).expect("a date"),
        half_days: 2,
        note: None,
    });
    handle(&engine, "v-1", "2026-09-15T09:00:00Z", visit).await;

    // Then, on Tuesday 15 September, r-2's clock is met, r-1's late, and
    // r-3's late too (due Monday the 14th, open until then)
    let tuesday = time("2026-09-15T09:00:00Z");
    let clocks = engine.read(|s| weekly::match_clocks(s, &rules, tuesday)).await.expect("read");
    let by: Vec<(&str, Clock)> = clocks.iter().map(|c| (c.request.as_str(), c.clock)).collect();
    assert_eq!(by, [("r-1", Clock::Late), ("r-2", Clock::Met), ("r-3", Clock::Late)]);
    let thursday_clocks = engine
        .read(|s| weekly::match_clocks(s, &rules, time("2026-09-11T09:00:00Z")))
        .await
        .expect("read");
    assert_eq!(thursday_clocks[2].clock, Clock::Open, "r-3 is due on Monday the 14th");
    assert_eq!(thursday_clocks[2].due.to_string(), "2026-09-14");
    let text = engine.read(|s| weekly::service_clocks(s, &rules, tuesday)).await.expect("read");
    assert!(text.contains("matched within 2 working days: 1 met, 2 late, 0 open"), "{text}");

    // And the spend: r-1's 2 accepted days at £350 with 5% is £735.00
    // committed, its visited day £367.50 spent, £265.00 of the £1,000
    // left; r-2's proposed day, RISE-funded, £367.50 proposed
    let spend = engine
        .read(|s| weekly::spend_by_source(s, &rules, tuesday))
        .await
        .expect("read")
        .expect("a year");
    assert_eq!((spend.year.as_str(), spend.fee_basis_points), ("2026-27", 500));
    let of = |f: FundingSource| spend.sources.iter().find(|(g, _)| *g == f).map(|(_, s)| *s);
    assert_eq!(
        of(FundingSource::LaCore),
        Some(Spend { budget: 100_000, proposed: 0, committed: 73_500, spent: 36_750 })
    );
    assert_eq!(
        of(FundingSource::Rise),
        Some(Spend { budget: 0, proposed: 36_750, committed: 0, spent: 0 })
    );
    let table = engine.read(|s| weekly::spend(s, &rules, tuesday)).await.expect("read");
    let la_core = table.lines().find(|l| l.starts_with("la_core")).expect("a row");
    assert_eq!(
        la_core.split_whitespace().collect::<Vec<_>>(),
        ["la_core", "£1,000.00", "£0.00", "£735.00", "£367.50", "£265.00"],
        "{table}"
    );
    let rise = table.lines().find(|l| l.starts_with("rise")).expect("a row");
    assert_eq!(
        rise.split_whitespace().collect::<Vec<_>>(),
        ["rise", "£0.00", "£367.50", "£0.00", "£0.00", "£0.00"],
        "{table}"
    );
}
