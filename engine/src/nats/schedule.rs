//! The schedule on `bridges serve`: the shell of `crate::schedule`. At
//! start it catches up the latest missed run (once: not when its run is
//! recorded, or its plan waits on the plans stream), then sleeps until each
//! next scheduled moment and starts that run (`runs::start`, trigger
//! `scheduled`, id `scheduled-<moment>`, actor `system`). A run id is its
//! moment's, so a second engine start, a retry, or the same moment seen
//! twice cannot make it twice: the run request's msg id is the run's, and
//! recording is by command id `run-<run>`.
//!
//! Its clock is the system's, or for tests only one that starts at a
//! given moment and runs on from it (`bridges serve --now`, hidden).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream;
use bridges_schemas::messages::StartRun;
use bridges_schemas::vocab::{RunId, RunTrigger, SYSTEM_USER, UserId};
use bridges_worker::nats::names;
use chrono::{DateTime, TimeDelta, Utc};
use tokio::sync::watch;
use tracing::{info, warn};

use super::runs::{self, RunSettings};
use crate::config::Calendar;
use crate::handle::Engine;
use crate::schedule::{RUN_PREFIX, Schedule, run_id};

/// Tries of a scheduled run's start before it is given up (logged).
const START_TRIES: u32 = 5;

/// The longest the scheduler sleeps before looking at its clock again.
const LONGEST_SLEEP: Duration = Duration::from_secs(60);

/// The schedule a served engine follows, and its clock.
#[derive(Debug, Clone)]
pub struct Scheduled {
    pub schedule: Schedule,
    pub calendar: Calendar,
    pub clock: Clock,
}

/// The scheduler's "now": the system clock, shifted for tests.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    offset: TimeDelta,
}

impl Clock {
    pub fn system() -> Clock {
        Clock { offset: TimeDelta::zero() }
    }

    /// A clock that reads `now` at once and runs on from it (tests only).
    pub fn starting_at(now: DateTime<Utc>) -> Clock {
        Clock { offset: now - Utc::now() }
    }

    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + self.offset
    }
}

/// Follows the schedule until `shutdown`.
pub async fn run(
    engine: Arc<Engine>,
    js: jetstream::Context,
    settings: RunSettings,
    max_payload: usize,
    scheduled: Scheduled,
    mut shutdown: watch::Receiver<bool>,
) {
    let Scheduled { schedule, calendar, clock } = scheduled;
    let now = clock.now();
    let recorded: BTreeSet<RunId> = match engine
        .read(|s| s.runs.keys().filter(|r| r.as_str().starts_with(RUN_PREFIX)).cloned().collect())
        .await
    {
        Ok(r) => r,
        Err(e) => {
            warn!(error = %e, "the schedule cannot read the recorded runs; it stops");
            return;
        }
    };
    let mut after = now;
    match schedule.catch_up(now, &calendar, |r| recorded.contains(r)) {
        Some(moment) => {
            info!(run = %run_id(moment), scheduled = %moment, "schedule: catching up a missed run");
            start(&engine, &js, &settings, max_payload, moment, now).await;
        }
        None => info!(at = %now, "schedule: nothing to catch up"),
    }
    loop {
        let Some(next) = schedule.next_after(after, &calendar) else {
            warn!(after = %after, "schedule: no scheduled moment within the calendar");
            let _ = shutdown.wait_for(|s| *s).await;
            return;
        };
        info!(run = %run_id(next), scheduled = %next, "schedule: next run");
        loop {
            let left = (next - clock.now()).to_std().unwrap_or(Duration::ZERO);
            if left.is_zero() {
                break;
            }
            tokio::select! {
                _ = tokio::time::sleep(left.min(LONGEST_SLEEP)) => {}
                _ = shutdown.changed() => return,
            }
        }
        if *shutdown.borrow() {
            return;
        }
        start(&engine, &js, &settings, max_payload, next, clock.now()).await;
        after = next;
    }
}

/// Starts the run of `moment` (at `at`), unless its plan is waiting on the
/// plans stream already; retried a few times on an error.
async fn start(
    engine: &Engine,
    js: &jetstream::Context,
    settings: &RunSettings,
    max_payload: usize,
    moment: DateTime<Utc>,
    at: DateTime<Utc>,
) {
    let run = run_id(moment);
    if plan_waiting(js, settings, &run).await {
        info!(run = %run, "schedule: the run's plan is on the plans stream already");
        return;
    }
    let request =
        StartRun { run: Some(run.clone()), actor: UserId(SYSTEM_USER.to_owned()), at: Some(at) };
    for attempt in 1..=START_TRIES {
        match runs::start(engine, js, max_payload, settings, &request, RunTrigger::Scheduled, at)
            .await
        {
            Ok(started) => {
                info!(run = %run, requested = started.requested, "schedule: run started");
                return;
            }
            Err(e) => {
                warn!(run = %run, attempt, error = %e, "schedule: starting the run");
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
        }
    }
    warn!(run = %run, "schedule: the run was not started");
}

/// Whether a plan of `run` is on the LA's plans stream (solved, perhaps
/// not recorded yet: the plans consumer will record it).
async fn plan_waiting(js: &jetstream::Context, settings: &RunSettings, run: &RunId) -> bool {
    let subject = names::plans_subject(&settings.prefix, settings.la, run.as_str());
    match js.get_stream(names::plans_stream(&settings.prefix, settings.la)).await {
        Ok(stream) => stream.get_last_raw_message_by_subject(&subject).await.is_ok(),
        Err(_) => false,
    }
}
