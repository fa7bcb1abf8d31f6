//! A year of a partnership, README's main job: the 39 term weeks of one
//! academic year on the embedded default, each week as an LA lives it.
//! Monday 09:00 the weekly run (`weekly::run`: GIAS, the demo's files
//! through the imports, the budget, the matching run); Tuesday the
//! practitioners answer the run's proposals (most accept, some decline,
//! the rest say nothing and expire at a later run); Wednesday first
//! contact for those accepted; on each working day of a half-term the
//! visits planned for it are recorded at 16:00 (a few cancelled, a few
//! no-shows charged, a few recorded then voided); Friday the requests whose
//! half-terms have all ended are closed with an impact rating, their
//! assignments completed; and half-way through the year one practitioner's
//! personal data is erased.
//!
//! Seeded: every answer and visit is drawn from a hash of the seed and what
//! it is about (no shared random stream, so one change does not move every
//! later draw), and every command's id is a hash of its content and time,
//! so running the same year again appends nothing. Wall-clock times (the
//! events' `recorded_at`), ciphertexts and solve times cannot repeat;
//! everything else does. It holds no rule: every command goes through
//! `Engine::handle`, and a refusal is counted, not hidden.

use std::collections::BTreeMap;
use std::path::PathBuf;

use bridges_schemas::brokerage::{BrokeragePlan, BrokerageProblem};
use bridges_schemas::commands::{
    AcceptAssignment, CancelVisit, CloseRequest, Command, CommandEnvelope, CompleteAssignment,
    DeclineAssignment, ErasePractitioner, RecordFirstContact, RecordVisit, VoidVisit,
};
use bridges_schemas::vocab::{AssignmentId, DeclineReason, ImpactRating, UserId, VisitId};
use bridges_schemas::{Period, PractitionerId, RequestId};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use sha2::{Digest, Sha256};

use crate::config::calendar::monday_morning;
use crate::config::{Config, IsoWeek};
use crate::domain::calendar::london_date;
use crate::domain::state::{AssignmentStatus, RequestStatus};
use crate::handle::{Engine, HandleError, Outcome};
use crate::weekly::{self, WeeklyError, WeeklyRequest};

/// The actor the simulated answers and visits are recorded as.
pub const YEAR_USER: &str = "year";

/// The seed when none is given.
pub const DEFAULT_SEED: u64 = 2026;

/// What a year is asked to do.
#[derive(Debug, Clone)]
pub struct YearRequest {
    /// The academic year, by the calendar year it starts in (2026: 2026/27).
    pub starts: i32,
    /// Only the first this many term weeks (none: all of them).
    pub weeks: Option<usize>,
    pub seed: u64,
    /// A GIAS-format CSV of the LA's schools; none: a generated borough.
    pub gias: Option<PathBuf>,
    pub demo_dir: PathBuf,
}

/// What one week's run gave, by tier 1..4.
#[derive(Debug, Clone, PartialEq)]
pub struct WeekFigures {
    pub week: String,
    pub requested: [u32; 4],
    pub covered: [u32; 4],
    pub greedy: [u32; 4],
    /// Each tier's gap to its proven bound (the higher tiers held).
    pub gaps: [f64; 4],
    pub proposals: u32,
    pub seconds: f64,
    /// What the run newly proposed against what the greedy broker would
    /// have on the same snapshot; none when the week was recorded before.
    pub versus: Option<Versus>,
}

/// One run's new proposals (days beyond the pins carried in) by the solver
/// and by the greedy broker on the same problem, `[solver, greedy]`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Versus {
    /// Days newly proposed.
    pub days: [u64; 2],
    /// Their cost at the practitioners' day rates, in pence (fee excluded).
    pub cost_pence: [u64; 2],
    /// Requests waiting for their first match when the run began.
    pub waiting: u64,
    /// Of those, the ones given a first proposal, and the ones given it
    /// within the match service level.
    pub matched: [u64; 2],
    pub matched_in_time: [u64; 2],
}

/// The sum of two runs' figures.
impl std::ops::Add for Versus {
    type Output = Versus;

    fn add(self, o: Versus) -> Versus {
        let two = |a: [u64; 2], b: [u64; 2]| [a[0] + b[0], a[1] + b[1]];
        Versus {
            days: two(self.days, o.days),
            cost_pence: two(self.cost_pence, o.cost_pence),
            waiting: self.waiting + o.waiting,
            matched: two(self.matched, o.matched),
            matched_in_time: two(self.matched_in_time, o.matched_in_time),
        }
    }
}

/// The solver's and the greedy broker's plans of one run's problem compared
/// on what each newly proposes; `state` is the engine's after the run was
/// recorded, `today` the run's day.
pub fn versus(
    state: &crate::domain::State,
    rules: &crate::domain::Rules,
    problem: &BrokerageProblem,
    plans: [&BrokeragePlan; 2],
    today: NaiveDate,
) -> Versus {
    let mut pinned: BTreeMap<(&RequestId, &PractitionerId, &Period), f64> = BTreeMap::new();
    for p in &problem.pinned {
        for (period, d) in &p.days {
            *pinned.entry((&p.request, &p.practitioner, period)).or_default() += d;
        }
    }
    let rate: BTreeMap<&PractitionerId, f64> =
        problem.practitioners.iter().map(|p| (&p.id, p.day_rate)).collect();
    // Waiting: no pin in the problem and no proposal before today; its
    // match clock's due day says whether a first proposal now is in time.
    let waiting: BTreeMap<&RequestId, bool> = problem
        .requests
        .iter()
        .filter(|r| !problem.pinned.iter().any(|p| p.request == r.id))
        .filter_map(|r| {
            let clock = crate::views::match_clock(state, rules, &r.id, today)?;
            let before = clock.done.is_some_and(|d| d < today);
            (!before).then_some((&r.id, today <= clock.due))
        })
        .collect();
    let mut out = Versus { waiting: waiting.len() as u64, ..Versus::default() };
    for (k, plan) in plans.iter().enumerate() {
        let mut cost = 0.0;
        let mut matched = std::collections::BTreeSet::new();
        for a in &plan.assignments {
            for (period, d) in &a.days {
                let before = pinned.get(&(&a.request, &a.practitioner, period)).copied();
                let new = (f64::from(*d) - before.unwrap_or(0.0)).max(0.0);
                out.days[k] += new.round() as u64;
                cost += new * rate.get(&a.practitioner).copied().unwrap_or(0.0);
            }
            if a.days.values().any(|d| *d > 0) && waiting.contains_key(&a.request) {
                matched.insert(&a.request);
            }
        }
        out.cost_pence[k] = (cost * 100.0).round() as u64;
        out.matched[k] = matched.len() as u64;
        out.matched_in_time[k] = matched.iter().filter(|r| waiting[**r]).count() as u64;
    }
    out
}

/// Commands the simulation sent, by kind, and what became of them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    pub applied: BTreeMap<&'static str, u64>,
    pub refused: BTreeMap<&'static str, u64>,
    /// The first few refusals, as lines.
    pub examples: Vec<String>,
}

/// What the year did.
#[derive(Debug, Clone)]
pub struct YearOutcome {
    pub weeks: Vec<WeekFigures>,
    pub tally: Tally,
    pub erased: Option<PractitionerId>,
    pub last_at: DateTime<Utc>,
}

/// Why a year stopped.
#[derive(Debug, thiserror::Error)]
pub enum YearError {
    #[error(transparent)]
    Weekly(#[from] WeeklyError),
    #[error(transparent)]
    Handle(#[from] HandleError),
    #[error("the calendar has no academic year starting in {0}")]
    NoYear(i32),
}

/// The term weeks' Mondays of the year starting in `starts`.
pub fn term_mondays(config: &Config, starts: i32) -> Result<Vec<NaiveDate>, YearError> {
    let year = config
        .calendar
        .years()
        .iter()
        .find(|y| y.starts == starts)
        .ok_or(YearError::NoYear(starts))?;
    Ok(config.calendar.term_weeks(year))
}

/// A draw in [0, 1) from the seed and a key.
pub fn draw(seed: u64, key: &str) -> f64 {
    let mut h = Sha256::new();
    h.update(seed.to_be_bytes());
    h.update(key.as_bytes());
    let bytes = h.finalize();
    let mut eight = [0u8; 8];
    eight.copy_from_slice(&bytes[..8]);
    (u64::from_be_bytes(eight) >> 11) as f64 / (1u64 << 53) as f64
}

/// Runs the year, calling `progress` with each week's label as it starts.
pub async fn run(
    engine: &Engine,
    config: &Config,
    request: &YearRequest,
    mut progress: impl FnMut(usize, &str),
) -> Result<YearOutcome, YearError> {
    let mut mondays = term_mondays(config, request.starts)?;
    if let Some(n) = request.weeks {
        mondays.truncate(n);
    }
    let half_way = mondays.len() / 2;
    let mut sim = Sim { engine, seed: request.seed, tally: Tally::default() };
    let mut weeks = Vec::new();
    let mut erased = None;
    let mut last_at = DateTime::<Utc>::UNIX_EPOCH;
    for (i, monday) in mondays.iter().enumerate() {
        let week = IsoWeek::of(*monday);
        progress(i, &week.to_string());
        let now = monday_morning(week);
        let outcome = weekly::run(
            engine,
            config,
            &WeeklyRequest {
                week,
                gias: request.gias.clone(),
                now,
                demo_dir: request.demo_dir.clone(),
            },
        )
        .await?;
        let mut week_figures = figures(engine, &outcome.run, &week.to_string()).await?;
        if let (Some((problem, plan)), Some(greedy)) = (&outcome.solved, &outcome.greedy) {
            let rules = engine.rules();
            let today = london_date(now);
            week_figures.versus =
                Some(engine.read(|s| versus(s, rules, problem, [plan, greedy], today)).await?);
        }
        weeks.push(week_figures);
        sim.answer(&outcome.run, now + Duration::hours(25)).await?;
        sim.first_contacts(now + Duration::hours(49)).await?;
        for day in 0..5 {
            let at = now + Duration::days(day) + Duration::hours(7);
            sim.visits(london_date(at), at).await?;
        }
        let friday = now + Duration::days(4) + Duration::hours(8);
        sim.close_ended(london_date(friday), friday).await?;
        last_at = friday;
        if i + 1 == half_way.max(1) && erased.is_none() {
            erased = sim.erase_one(friday + Duration::hours(1)).await?;
            last_at = friday + Duration::hours(1);
        }
    }
    Ok(YearOutcome { weeks, tally: sim.tally, erased, last_at })
}

async fn figures(
    engine: &Engine,
    run: &bridges_schemas::vocab::RunId,
    week: &str,
) -> Result<WeekFigures, YearError> {
    Ok(engine
        .read(|s| {
            let mut f = WeekFigures {
                week: week.to_owned(),
                requested: [0; 4],
                covered: [0; 4],
                greedy: [0; 4],
                gaps: [0.0; 4],
                proposals: 0,
                seconds: 0.0,
                versus: None,
            };
            if let Some(c) = s.runs.get(run).and_then(|r| r.completed.as_ref()) {
                for (i, t) in c.tiers.iter().take(4).enumerate() {
                    f.requested[i] = t.requested;
                    f.covered[i] = t.covered;
                    f.greedy[i] = t.greedy;
                    f.gaps[i] = t.gap;
                }
                f.proposals = c.proposals;
                f.seconds = c.seconds;
            }
            f
        })
        .await?)
}

struct Sim<'a> {
    engine: &'a Engine,
    seed: u64,
    tally: Tally,
}

impl Sim<'_> {
    /// Handles one command as `year` at `at`, its id a hash of both.
    async fn send(&mut self, at: DateTime<Utc>, command: Command) -> Result<bool, YearError> {
        let kind = command.name();
        let json = serde_json::to_vec(&command).expect("commands serialize");
        let mut h = Sha256::new();
        h.update(&json);
        h.update(at.to_rfc3339().as_bytes());
        let id = format!("year-{kind}-{}", hex::encode(&h.finalize()[..8]));
        let envelope = CommandEnvelope { id, actor: UserId(YEAR_USER.to_owned()), at, command };
        let outcome = self.engine.handle(&envelope).await?;
        let ok = !matches!(outcome, Outcome::Rejected(_));
        if let Outcome::Rejected(r) = &outcome {
            *self.tally.refused.entry(kind).or_default() += 1;
            if self.tally.examples.len() < 5 {
                self.tally.examples.push(format!("{kind} at {}: {r}", crate::views::time(at)));
            }
        } else {
            *self.tally.applied.entry(kind).or_default() += 1;
        }
        Ok(ok)
    }

    /// The run's proposals answered: 80% accept, 10% decline, 10% silent.
    async fn answer(
        &mut self,
        run: &bridges_schemas::vocab::RunId,
        at: DateTime<Utc>,
    ) -> Result<(), YearError> {
        let proposed: Vec<AssignmentId> = self
            .engine
            .read(|s| {
                s.assignments
                    .values()
                    .filter(|a| a.run.as_ref() == Some(run))
                    .filter(|a| a.status == AssignmentStatus::Proposed && !a.pending_run)
                    .map(|a| a.id.clone())
                    .collect()
            })
            .await?;
        for a in proposed {
            let r = draw(self.seed, &format!("answer {a}"));
            let command = if r < 0.8 {
                Command::AcceptAssignment(AcceptAssignment { assignment: a })
            } else if r < 0.9 {
                let reasons = DeclineReason::ALL;
                let i = (draw(self.seed, &format!("reason {a}")) * reasons.len() as f64) as usize;
                Command::DeclineAssignment(DeclineAssignment {
                    assignment: a,
                    reason: reasons[i.min(reasons.len() - 1)],
                    note: None,
                })
            } else {
                continue;
            };
            self.send(at, command).await?;
        }
        Ok(())
    }

    /// First contact for every accepted assignment without one.
    async fn first_contacts(&mut self, at: DateTime<Utc>) -> Result<(), YearError> {
        let due: Vec<AssignmentId> = self
            .engine
            .read(|s| {
                s.assignments
                    .values()
                    .filter(|a| a.status == AssignmentStatus::Accepted && a.first_contact.is_none())
                    .map(|a| a.id.clone())
                    .collect()
            })
            .await?;
        for a in due {
            let on = london_date(at);
            self.send(
                at,
                Command::RecordFirstContact(RecordFirstContact { assignment: a, on, note: None }),
            )
            .await?;
        }
        Ok(())
    }

    /// The visits planned for `day`, recorded at `at`: each accepted
    /// assignment's days of a half-term spread over the working days of
    /// that half-term after its first contact.
    async fn visits(&mut self, day: NaiveDate, at: DateTime<Utc>) -> Result<(), YearError> {
        let rules = self.engine.rules();
        if !rules.calendar.is_working_day(day) {
            return Ok(());
        }
        let Some(h) = rules.calendar.half_term_of(day).cloned() else { return Ok(()) };
        let due: Vec<AssignmentId> = self
            .engine
            .read(|s| {
                s.assignments
                    .values()
                    .filter(|a| a.status == AssignmentStatus::Accepted)
                    .filter_map(|a| {
                        let contact = a.first_contact?;
                        let days = a.days.get(&h.label).copied().unwrap_or(0);
                        if days == 0 || contact >= day {
                            return None;
                        }
                        let from = (contact + Duration::days(1)).max(h.first);
                        let mut working = Vec::new();
                        let mut d = from;
                        while d <= h.last {
                            if rules.calendar.is_working_day(d) {
                                working.push(d);
                            }
                            d += Duration::days(1);
                        }
                        let n = working.len();
                        let days = days as usize;
                        let planned = (0..days.min(n)).map(|i| working[i * n / days.min(n)]);
                        planned.into_iter().any(|p| p == day).then(|| a.id.clone())
                    })
                    .collect()
            })
            .await?;
        for a in due {
            let key = format!("visit {a} {day}");
            let visit = VisitId(format!("v{}", &hex::encode(Sha256::digest(key.as_bytes()))[..12]));
            let r = draw(self.seed, &key);
            if r < 0.06 {
                // Under 0.04 cancelled ahead; else a no-show, charged.
                let no_show = r >= 0.04;
                self.send(
                    at,
                    Command::CancelVisit(CancelVisit {
                        assignment: a,
                        visit: Some(visit),
                        on: day,
                        half_days: 2,
                        no_show,
                        charged: no_show,
                    }),
                )
                .await?;
            } else {
                let recorded = self
                    .send(
                        at,
                        Command::RecordVisit(RecordVisit {
                            assignment: a.clone(),
                            visit: Some(visit.clone()),
                            on: day,
                            half_days: 2,
                            note: None,
                        }),
                    )
                    .await?;
                if recorded && r < 0.09 {
                    self.send(
                        at + Duration::minutes(30),
                        Command::VoidVisit(VoidVisit {
                            assignment: a,
                            visit,
                            reason: "recorded against the wrong assignment".to_owned(),
                        }),
                    )
                    .await?;
                }
            }
        }
        Ok(())
    }

    /// Requests whose half-terms have all ended by `day`: their accepted
    /// assignments completed, then the request closed with an impact rating.
    async fn close_ended(&mut self, day: NaiveDate, at: DateTime<Utc>) -> Result<(), YearError> {
        let rules = self.engine.rules();
        let ended = |p: &bridges_schemas::Period| {
            rules.calendar.half_term(p).is_some_and(|h| h.last <= day)
        };
        let due: Vec<(bridges_schemas::RequestId, Vec<AssignmentId>)> = self
            .engine
            .read(|s| {
                s.requests
                    .values()
                    .filter(|r| r.status == RequestStatus::Open && !r.days.is_empty())
                    .filter(|r| r.days.keys().all(ended))
                    .filter(|r| s.assignments_of(&r.id).any(|a| a.is_committed()))
                    .map(|r| {
                        let accepted = s
                            .assignments_of(&r.id)
                            .filter(|a| a.status == AssignmentStatus::Accepted)
                            .map(|a| a.id.clone())
                            .collect();
                        (r.id.clone(), accepted)
                    })
                    .collect()
            })
            .await?;
        for (request, accepted) in due {
            for a in accepted {
                self.send(at, Command::CompleteAssignment(CompleteAssignment { assignment: a }))
                    .await?;
            }
            let r = draw(self.seed, &format!("impact {request}"));
            let impact = match r {
                r if r < 0.35 => ImpactRating::Significant,
                r if r < 0.75 => ImpactRating::Moderate,
                r if r < 0.95 => ImpactRating::Limited,
                _ => ImpactRating::None,
            };
            self.send(
                at + Duration::minutes(30),
                Command::CloseRequest(CloseRequest { request, impact, note: None }),
            )
            .await?;
        }
        Ok(())
    }

    /// The first practitioner (by id) holding accepted days asks to be erased
    /// (or, when the year runs again, the one erased before).
    async fn erase_one(&mut self, at: DateTime<Utc>) -> Result<Option<PractitionerId>, YearError> {
        let who = self
            .engine
            .read(|s| {
                // A year run again names the one it erased before (its
                // erasure may have ended its assignments), so that the
                // command is the same and appends nothing.
                let before = s.practitioners.values().filter(|p| p.erased).map(|p| p.id.clone());
                before.min().or_else(|| {
                    s.assignments
                        .values()
                        .filter(|a| a.is_committed() && a.proposed_at <= at)
                        .map(|a| a.practitioner.clone())
                        .min()
                })
            })
            .await?;
        let Some(p) = who else { return Ok(None) };
        let ok = self
            .send(at, Command::ErasePractitioner(ErasePractitioner { practitioner: p.clone() }))
            .await?;
        Ok(ok.then_some(p))
    }
}
