//! Given / when / then over the pure domain (as cqrs-es's `TestFramework`):
//! `given(events)` folds events into a `State` (each with a meta: who and
//! when), `when(command)` decides it with a fixed `Context` (a time, an
//! actor, the test `Rules` below and a deterministic `Sealer`), and
//! `then_events` / `then_rejected` / `then_unchanged` check the answer.
//! Rows match rejection codes and fields, never message text.
//!
//! Also the test LA's rules (two academic years, a small list of needs and
//! titles), event fixtures, and a temporary engine on a real log. Support
//! code, not a test itself.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use bridges_engine::domain::round::RoundRules;
use bridges_engine::domain::{
    self, Calendar, Context, HalfTerm, NeedRule, RiskRule, Rules, Sealer, ServiceLevels, State,
    Title,
};
use bridges_engine::handle::{Engine, Outcome};
use bridges_engine::keys::KeyStore;
use bridges_engine::log::{AppendRequest, EventLog, ExpectedVersion, LogConfig, NewEvent};
use bridges_schemas::brokerage::BrokeragePolicy;
use bridges_schemas::commands::{Command, CommandEnvelope, Rejection, RejectionCode};
use bridges_schemas::events::*;
use bridges_schemas::triads::TriadsPolicy;
use bridges_schemas::vocab::{
    AcademicYearId, AssignmentId, DeclineReason, FundingSource, PersonalDetails, Sealed,
    TierChoice, UserId, VisitId,
};
use bridges_schemas::{Designation, NeedArea, Period, Phase, PractitionerId, RequestId, Urn};
use chrono::{DateTime, NaiveDate, Utc};

// --- time -----------------------------------------------------------------

/// The default time of a `when`: Monday 7 September 2026, 09:00 (2026-AU1).
pub const T0: &str = "2026-09-07T09:00:00Z";

/// An RFC 3339 time.
pub fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).expect("an RFC 3339 time").with_timezone(&Utc)
}

/// An ISO date.
pub fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("an ISO date")
}

// --- the test LA's rules --------------------------------------------------

pub const LA: u16 = 312;
pub const Y1: &str = "2026-27";
pub const Y2: &str = "2027-28";

/// The rules of the test LA: two academic years (2026-27 as England's
/// calendar has it, 2027-28 made up), five needs, four titles (three
/// national, one local), the default service levels, the inspection rule
/// (serious -> tier 1, concern -> tier 2) and the default policy (20 km,
/// same trust forbidden, no budget, one practitioner per request).
pub fn rules() -> Rules {
    let year = |y: &str, list: &[(&str, &str, &str)]| -> Vec<HalfTerm> {
        list.iter()
            .map(|(label, first, last)| HalfTerm {
                label: Period::from(*label),
                year: AcademicYearId(y.to_owned()),
                first: d(first),
                last: d(last),
            })
            .collect()
    };
    let mut half_terms = year(
        Y1,
        &[
            ("2026-AU1", "2026-09-02", "2026-10-23"),
            ("2026-AU2", "2026-11-02", "2026-12-18"),
            ("2027-SP1", "2027-01-04", "2027-02-12"),
            ("2027-SP2", "2027-02-22", "2027-03-25"),
            ("2027-SU1", "2027-04-12", "2027-05-28"),
            ("2027-SU2", "2027-06-07", "2027-07-21"),
        ],
    );
    half_terms.extend(year(
        Y2,
        &[
            ("2027-AU1", "2027-09-01", "2027-10-22"),
            ("2027-AU2", "2027-11-01", "2027-12-17"),
            ("2028-SP1", "2028-01-04", "2028-02-11"),
            ("2028-SP2", "2028-02-21", "2028-03-31"),
            ("2028-SU1", "2028-04-18", "2028-05-26"),
            ("2028-SU2", "2028-06-05", "2028-07-21"),
        ],
    ));
    let bank_holidays: BTreeSet<NaiveDate> = [
        "2026-12-25",
        "2026-12-28",
        "2027-01-01",
        "2027-03-26",
        "2027-03-29",
        "2027-05-03",
        "2027-05-31",
        "2027-08-30",
        "2027-12-27",
        "2027-12-28",
        "2028-01-03",
        "2028-04-14",
        "2028-04-17",
        "2028-05-01",
    ]
    .into_iter()
    .map(d)
    .collect();
    use Phase::*;
    let need = |area: &str, phases: &[Phase]| NeedRule {
        area: NeedArea::from(area),
        phases: phases.to_vec(),
    };
    Rules {
        la_code: LA,
        calendar: Calendar { half_terms, bank_holidays },
        needs: vec![
            need("maths", &Phase::ALL),
            need("english", &Phase::ALL),
            need("send", &Phase::ALL),
            need("post-16", &[Secondary, AllThrough, SixteenPlus]),
            need("early-years", &[Nursery, Primary, AllThrough, Special]),
        ],
        titles: vec![
            Title { name: title("NLE"), day_rate: 550 },
            Title { name: title("LLE"), day_rate: 475 },
            Title { name: title("SLE"), day_rate: 350 },
            Title { name: title("Senior Practitioner"), day_rate: 400 },
        ],
        service: ServiceLevels {
            match_within: 2,
            answer_within: 5,
            first_contact_within: 7,
            visit_record_within: 5,
        },
        risk: RiskRule { serious: Some(1), concern: Some(2), secure: None, strong: None },
        policy: BrokeragePolicy {
            max_distance_km: Some(20.0),
            same_trust: bridges_schemas::SameTrust::Forbid,
            budget: None,
            single_practitioner: true,
        },
        rounds: RoundRules {
            policy: TriadsPolicy {
                max_distance_km: Some(15.0),
                same_trust: bridges_schemas::SameTrust::Forbid,
                phase_pools: true,
                require_good_or_better: true,
                allow_groups_of_4: true,
            },
            history_years: 3,
            terms: ReviewTerms {
                primary_days: 1.0,
                secondary_days: 1.5,
                primary_cost_pence: 100_000,
                secondary_cost_pence: 160_000,
            },
        },
    }
}

pub fn title(s: &str) -> Designation {
    Designation::from(s)
}

pub fn need(s: &str) -> NeedArea {
    NeedArea::from(s)
}

pub fn period(s: &str) -> Period {
    Period::from(s)
}

pub fn pid(s: &str) -> PractitionerId {
    PractitionerId::from(s)
}

pub fn rid(s: &str) -> RequestId {
    RequestId::from(s)
}

pub fn aid(s: &str) -> AssignmentId {
    AssignmentId(s.to_owned())
}

pub fn vid(s: &str) -> VisitId {
    VisitId(s.to_owned())
}

pub fn user(s: &str) -> UserId {
    UserId(s.to_owned())
}

pub fn year(s: &str) -> AcademicYearId {
    AcademicYearId(s.to_owned())
}

/// Days per half-term.
pub fn days(list: &[(&str, u32)]) -> DaysPerPeriod {
    list.iter().map(|(p, n)| (period(p), *n)).collect()
}

// --- a deterministic sealer -----------------------------------------------

/// Seals as `hex(plain)` under the subject, with a fixed nonce, so expected
/// events can be written out exactly. A subject in `erased` has no key.
#[derive(Debug, Default, Clone)]
pub struct TestSealer {
    pub erased: BTreeSet<String>,
}

impl Sealer for TestSealer {
    fn seal(&self, subject: &str, plain: &[u8]) -> Option<Sealed> {
        if self.erased.contains(subject) {
            return None;
        }
        Some(sealed_bytes(subject, plain))
    }

    fn unseal(&self, sealed: &Sealed) -> Option<Vec<u8>> {
        if self.erased.contains(&sealed.key) {
            return None;
        }
        hex::decode(&sealed.data).ok()
    }
}

fn sealed_bytes(subject: &str, plain: &[u8]) -> Sealed {
    Sealed { key: subject.to_owned(), nonce: "test-nonce".to_owned(), data: hex::encode(plain) }
}

/// A note as the test sealer seals it.
pub fn sealed(subject: &str, text: &str) -> Sealed {
    sealed_bytes(subject, text.as_bytes())
}

/// Personal details as the test sealer seals them (the engine seals the
/// JSON of `PersonalDetails`).
pub fn personal(id: &str, name: &str, email: Option<&str>, phone: Option<&str>) -> Sealed {
    let details = PersonalDetails {
        name: name.to_owned(),
        email: email.map(str::to_owned),
        phone: phone.map(str::to_owned),
    };
    sealed_bytes(id, serde_json::to_string(&details).expect("serializes").as_bytes())
}

// --- given / when / then --------------------------------------------------

/// A state built from events, and the context the next command is decided in.
pub struct Given {
    pub state: State,
    /// The given events as folded, for `then_rejected_on_log`.
    pub events: Vec<(EventMeta, DomainEvent)>,
    pub at: DateTime<Utc>,
    pub actor: UserId,
    pub rules: Rules,
    pub sealer: TestSealer,
}

/// Folds `events` into a fresh state, each recorded at `T0` by `broker-1`.
pub fn given(events: impl IntoIterator<Item = DomainEvent>) -> Given {
    Given {
        state: State::default(),
        events: Vec::new(),
        at: t(T0),
        actor: user("broker-1"),
        rules: rules(),
        sealer: TestSealer::default(),
    }
    .and_at(T0, events)
}

impl Given {
    /// Folds more events in, recorded at `at`.
    pub fn and_at(mut self, at: &str, events: impl IntoIterator<Item = DomainEvent>) -> Given {
        let meta = EventMeta { actor: user("broker-1"), at: t(at) };
        for e in events {
            apply(&mut self.state, &e, &meta);
            self.events.push((meta.clone(), e));
        }
        self
    }

    /// Decide the command at `at` (default `T0`).
    pub fn at(mut self, at: &str) -> Given {
        self.at = t(at);
        self
    }

    /// The subject's key is gone.
    pub fn erased(mut self, subject: &str) -> Given {
        self.sealer.erased.insert(subject.to_owned());
        self
    }

    /// Changes the rules.
    pub fn rules(mut self, f: impl FnOnce(&mut Rules)) -> Given {
        f(&mut self.rules);
        self
    }

    pub fn when(self, command: Command) -> When {
        let ctx =
            Context { at: self.at, actor: &self.actor, rules: &self.rules, sealer: &self.sealer };
        let result = domain::decide(&self.state, &command, &ctx);
        When { given: self, command, result }
    }
}

/// Folds one event the way the log would: its stream's version moves on.
pub fn apply(state: &mut State, e: &DomainEvent, meta: &EventMeta) {
    let stream = e.stream();
    let v = state.version(&stream) + 1;
    state.versions.insert(stream, v);
    state.apply_event(e, meta);
}

/// What a command decided.
pub struct When {
    pub given: Given,
    pub command: Command,
    pub result: Result<Vec<DomainEvent>, Rejection>,
}

impl When {
    /// Expects exactly these events (each valid as the log checks events),
    /// and returns the state with them folded in.
    #[track_caller]
    pub fn then_events(self, expected: Vec<DomainEvent>) -> State {
        let events = match self.result {
            Ok(events) => events,
            Err(r) => panic!("{} was rejected: {r:?}", self.command.name()),
        };
        assert_eq!(events, expected, "events of {}", self.command.name());
        let meta = EventMeta { actor: self.given.actor.clone(), at: self.given.at };
        let mut state = self.given.state;
        for e in &events {
            if let Err(err) = e.validate() {
                panic!("{} decided an event the log refuses: {err}", self.command.name());
            }
            apply(&mut state, e, &meta);
        }
        state
    }

    /// Expects some events and returns them (for rows that check a part).
    #[track_caller]
    pub fn then_ok(self) -> Vec<DomainEvent> {
        match self.result {
            Ok(events) => {
                for e in &events {
                    e.validate().expect("a valid event");
                }
                events
            }
            Err(r) => panic!("{} was rejected: {r:?}", self.command.name()),
        }
    }

    /// Expects a rejection with this code, naming this field.
    #[track_caller]
    pub fn then_rejected(self, code: RejectionCode, field: &str) -> Rejection {
        match self.result {
            Err(r) => {
                assert_eq!((r.code, r.field.as_str()), (code, field), "{r:?}");
                assert!(!r.value.is_empty() && !r.reason.is_empty(), "{r:?}");
                r
            }
            Ok(events) => panic!("{} was not rejected: {events:?}", self.command.name()),
        }
    }

    /// As [`When::then_rejected`], and again through `Engine::handle` on a
    /// real log in a temporary folder that holds the given events (with the
    /// given rules and time): the same rejection, and the log head, the
    /// state and the key store as they were.
    #[track_caller]
    pub fn then_rejected_on_log(self, code: RejectionCode, field: &str) -> Rejection {
        let events = self.given.events.clone();
        let rules = self.given.rules.clone();
        let envelope = CommandEnvelope {
            id: "rejected-row".into(),
            actor: self.given.actor.clone(),
            at: self.given.at,
            command: self.command.clone(),
        };
        let rejection = self.then_rejected(code, field);
        let runtime =
            tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
        runtime.block_on(async {
            let dir = tempfile::tempdir().expect("tempdir");
            let log = EventLog::open(LogConfig::new(dir.path().join("data"))).expect("open log");
            // One append per run of events of one stream, in the given order.
            let mut k = 0;
            while k < events.len() {
                let stream = events[k].1.stream();
                let mut run = Vec::new();
                while k < events.len() && events[k].1.stream() == stream && run.len() < 1_000 {
                    let (meta, e) = &events[k];
                    run.push(NewEvent {
                        event_id: uuid::Uuid::new_v4(),
                        type_name: e.type_name().to_owned(),
                        type_version: e.version(),
                        payload: e.to_payload_with(meta),
                    });
                    k += 1;
                }
                let request = AppendRequest {
                    stream,
                    expected: ExpectedVersion::Any,
                    events: run,
                    command_id: None,
                    recorded_at: events[k - 1].0.at,
                };
                log.append(request).await.expect("append a given event");
            }
            let keys = KeyStore::open(dir.path().join("data-keys")).expect("open keys");
            let engine = Engine::open(log, rules, keys).await.expect("open engine");
            let head = engine.log().head();
            let state = engine.read(|s| s.clone()).await.expect("read");
            let key_files = files_under(&dir.path().join("data-keys"));
            match engine.handle(&envelope).await.expect("handled") {
                Outcome::Rejected(r) => {
                    assert_eq!((r.code, r.field.as_str()), (code, field), "on the log: {r:?}")
                }
                other => {
                    panic!("on the log, {} was not rejected: {other:?}", envelope.command.name())
                }
            }
            assert_eq!(engine.log().head(), head, "{} wrote to the log", envelope.command.name());
            assert_eq!(engine.read(|s| s.clone()).await.expect("read"), state);
            assert_eq!(files_under(&dir.path().join("data-keys")), key_files, "a key was written");
            engine.close().await.expect("close");
        });
        rejection
    }

    /// Expects a valid command that changes nothing.
    #[track_caller]
    pub fn then_unchanged(self) {
        match self.result {
            Ok(events) => assert!(events.is_empty(), "expected no events: {events:?}"),
            Err(r) => panic!("{} was rejected: {r:?}", self.command.name()),
        }
    }
}

// --- event fixtures -------------------------------------------------------

pub const HLT: &str = "Heathrow Learning Trust";

pub fn school(urn: u32, phase: Phase) -> DomainEvent {
    school_in(urn, phase, None)
}

pub fn school_in(urn: u32, phase: Phase, trust: Option<&str>) -> DomainEvent {
    DomainEvent::SchoolRegistered(SchoolRegistered {
        urn: Urn(urn),
        name: format!("School {urn}"),
        la_code: LA,
        phase,
        trust: trust.map(str::to_owned),
        easting: 507_000.0 + f64::from(urn % 100) * 100.0,
        northing: 182_000.0,
        pupils: Some(300),
        postcode: None,
    })
}

pub fn closed(urn: u32) -> DomainEvent {
    DomainEvent::SchoolClosed(SchoolClosed {
        urn: Urn(urn),
        closed_on: None,
        reason: "amalgamated".into(),
    })
}

/// A practitioner with the typical rate of the title, sealed as `name_of(id)`.
pub fn designated(
    id: &str,
    t: &str,
    home: u32,
    specialisms: &[&str],
    phases: &[Phase],
) -> DomainEvent {
    let rate = rules().titles.iter().find(|x| x.name.as_str() == t).map_or(350, |x| x.day_rate);
    DomainEvent::PractitionerDesignated(PractitionerDesignated {
        practitioner: pid(id),
        title: title(t),
        home_urn: Urn(home),
        specialisms: specialisms.iter().map(|s| need(s)).collect(),
        phases: phases.to_vec(),
        day_rate: rate,
        personal: Some(personal(id, &name_of(id), None, None)),
    })
}

pub fn name_of(id: &str) -> String {
    format!("Name of {id}")
}

/// Availability in 2026-27.
pub fn available(id: &str, capacity: &[(&str, u32)], max_days: Option<u32>) -> DomainEvent {
    DomainEvent::AvailabilityDeclared(AvailabilityDeclared {
        practitioner: pid(id),
        capacity: days(capacity),
        max_days,
        year: Some(year(Y1)),
    })
}

/// A request for maths-like support accepting SLE, LLE and NLE, tier 2, LA core.
pub fn raised(id: &str, urn: u32, need_area: &str, d: &[(&str, u32)]) -> DomainEvent {
    DomainEvent::SupportRequested(SupportRequested {
        request: rid(id),
        urn: Urn(urn),
        need: need(need_area),
        designations: vec![title("SLE"), title("LLE"), title("NLE")],
        tier: TierChoice::Tier2,
        days: days(d),
        funding: FundingSource::LaCore,
        purchase_order: None,
    })
}

/// Proposed by hand, to be answered by `answer_by`.
pub fn proposed(a: &str, r: &str, p: &str, d: &[(&str, u32)], answer_by: &str) -> DomainEvent {
    DomainEvent::AssignmentProposed(AssignmentProposed {
        assignment: aid(a),
        request: rid(r),
        practitioner: pid(p),
        days: days(d),
        run: None,
        answer_by: Some(self::d(answer_by)),
    })
}

pub fn accepted(a: &str) -> DomainEvent {
    DomainEvent::AssignmentAccepted(AssignmentAccepted { assignment: aid(a) })
}

pub fn declined(a: &str) -> DomainEvent {
    DomainEvent::AssignmentDeclined(AssignmentDeclined {
        assignment: aid(a),
        reason: DeclineReason::NoRelease,
        note: None,
    })
}

pub fn completed(a: &str) -> DomainEvent {
    DomainEvent::AssignmentCompleted(AssignmentCompleted { assignment: aid(a) })
}

pub fn withdrawn_assignment(a: &str) -> DomainEvent {
    DomainEvent::AssignmentWithdrawn(AssignmentWithdrawn {
        assignment: aid(a),
        reason: "not needed".into(),
    })
}

pub fn visit(a: &str, v: &str, on: &str, half_days: u32) -> DomainEvent {
    DomainEvent::VisitRecorded(VisitRecorded {
        assignment: aid(a),
        visit: vid(v),
        on: d(on),
        half_days,
        note: None,
    })
}

/// The test LA:
/// - 100001 primary and 100002 primary, both in the Heathrow Learning Trust;
///   100003 secondary, 100004 primary and 100005 secondary, no trust;
///   100009 primary, closed.
/// - `sle-1` (SLE, home 100003: maths, english; primary, secondary), 3 days
///   in 2026-AU1 and 2026-AU2, 2 in 2027-SP1, at most 6 in the year;
///   `lle-1` (LLE, home 100002: maths, send; primary), 2 days in 2026-AU1
///   and 2026-AU2; `nle-1` (NLE, home 100005: english, post-16; secondary),
///   no availability.
/// - `req-1` at 100001, maths, 2 days in 2026-AU1 and 1 in 2026-AU2;
///   `req-2` at 100004, english, 1 day in 2026-AU1.
pub fn la() -> Vec<DomainEvent> {
    use Phase::*;
    vec![
        school_in(100001, Primary, Some(HLT)),
        school_in(100002, Primary, Some(HLT)),
        school(100003, Secondary),
        school(100004, Primary),
        school(100005, Secondary),
        school(100009, Primary),
        closed(100009),
        designated("sle-1", "SLE", 100003, &["maths", "english"], &[Primary, Secondary]),
        available("sle-1", &[("2026-AU1", 3), ("2026-AU2", 3), ("2027-SP1", 2)], Some(6)),
        designated("lle-1", "LLE", 100002, &["maths", "send"], &[Primary]),
        available("lle-1", &[("2026-AU1", 2), ("2026-AU2", 2)], None),
        designated("nle-1", "NLE", 100005, &["english", "post-16"], &[Secondary]),
        raised("req-1", 100001, "maths", &[("2026-AU1", 2), ("2026-AU2", 1)]),
        raised("req-2", 100004, "english", &[("2026-AU1", 1)]),
    ]
}

/// `la()` with `a-1`: sle-1 proposed on req-1 (2 days in 2026-AU1) at `T0`,
/// to be answered by 14 September.
pub fn la_proposed() -> Vec<DomainEvent> {
    let mut v = la();
    v.push(proposed("a-1", "req-1", "sle-1", &[("2026-AU1", 2)], "2026-09-14"));
    v
}

/// `la_proposed()` with `a-1` accepted.
pub fn la_accepted() -> Vec<DomainEvent> {
    let mut v = la_proposed();
    v.push(accepted("a-1"));
    v
}

// --- an engine on a real log ----------------------------------------------

/// An engine over a temporary data folder (its keys beside it, as the CLI
/// keeps them); reopen it with `reopen`.
pub struct TestEngine {
    pub dir: tempfile::TempDir,
    pub engine: Option<Engine>,
}

impl TestEngine {
    pub async fn new() -> TestEngine {
        let dir = tempfile::tempdir().expect("tempdir");
        let engine = open_engine(dir.path()).await;
        TestEngine { dir, engine: Some(engine) }
    }

    pub fn engine(&self) -> &Engine {
        self.engine.as_ref().expect("open")
    }

    pub fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn keys_dir(&self) -> PathBuf {
        self.dir.path().join("data-keys")
    }

    /// Closes (checkpointing) and opens the engine again over the same folders.
    pub async fn reopen(&mut self) {
        if let Some(e) = self.engine.take() {
            e.close().await.expect("close");
        }
        self.engine = Some(open_engine(self.dir.path()).await);
    }

    /// Closes without a checkpoint (as a crash would leave it), then opens.
    pub async fn reopen_without_checkpoint(&mut self) {
        if let Some(e) = self.engine.take() {
            let log = e.log().clone();
            drop(e);
            log.close().await.expect("close log");
        }
        self.engine = Some(open_engine(self.dir.path()).await);
    }

    /// Handles a command by `broker-1` at `at`.
    pub async fn handle(&self, id: &str, at: &str, command: Command) -> Outcome {
        self.engine().handle(&envelope(id, at, command)).await.expect("handled")
    }

    /// Handles a command that must be applied.
    pub async fn apply(&self, id: &str, at: &str, command: Command) {
        match self.handle(id, at, command).await {
            Outcome::Applied { .. } => {}
            other => panic!("command {id}: {other:?}"),
        }
    }

    pub async fn state(&self) -> State {
        self.engine().read(|s| s.clone()).await.expect("read")
    }
}

pub async fn open_engine(root: &Path) -> Engine {
    let log = EventLog::open(LogConfig::new(root.join("data"))).expect("open log");
    let keys = KeyStore::open(root.join("data-keys")).expect("open keys");
    Engine::open(log, rules(), keys).await.expect("open engine")
}

pub fn envelope(id: &str, at: &str, command: Command) -> CommandEnvelope {
    CommandEnvelope { id: id.to_owned(), actor: user("broker-1"), at: t(at), command }
}

/// Every file under `dir` (recursively), with its bytes.
pub fn files_under(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for e in entries.flatten() {
            let path = e.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(bytes) = std::fs::read(&path) {
                out.insert(path, bytes);
            }
        }
    }
    out
}

/// Whether `needle` occurs in any file under `dir`.
pub fn found_under(dir: &Path, needle: &[u8]) -> Vec<PathBuf> {
    files_under(dir)
        .into_iter()
        .filter(|(_, bytes)| bytes.windows(needle.len()).any(|w| w == needle))
        .map(|(p, _)| p)
        .collect()
}

/// The rejection code of an outcome, if rejected.
pub fn rejected(o: &Outcome) -> Option<RejectionCode> {
    match o {
        Outcome::Rejected(r) => Some(r.code),
        _ => None,
    }
}
