//! Matching runs: the list of runs; start one (`matching::run` in a task
//! of its own, as `bridges match` does, one at a time); its progress page
//! (a link to check again, and a small script that checks by itself when
//! JavaScript is on); a run's page with the coverage by tier beside the
//! greedy broker by hand, its proposals (each linking to its page, where it
//! is accepted or declined on the practitioner's behalf) and its unmet
//! requests with the reason and what would help.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use axum::Form;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use bridges_schemas::vocab::{RunId, RunTrigger, UserId};
use chrono::{DateTime, Utc};
use maud::{Markup, html};

use super::AppState;
use super::accounts::Action;
use super::auth::{self, CurrentUser};
use super::layout::{self, page};
use super::pages::{Fields, encode, field, not_found, render, server_error};
use crate::domain::state::AssignmentStatus;
use crate::handle::Outcome;
use crate::matching::{self, MatchRequest};
use crate::planning::tier_of;
use crate::views;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/runs", get(runs_page).post(start))
        .route("/runs/progress/{job}", get(progress))
        .route("/runs/{id}", get(run_page))
}

/// A run started from the page.
#[derive(Debug, Clone)]
pub struct Job {
    pub started: Instant,
    pub at: DateTime<Utc>,
    pub by: UserId,
    pub limit: Option<f64>,
    /// The run recorded, or why it failed; none while it runs.
    pub done: Option<Result<RunId, String>>,
}

/// The runs started from the page, by job id; one runs at a time.
#[derive(Debug, Default)]
pub struct Jobs(Mutex<HashMap<String, Job>>);

impl Jobs {
    fn get(&self, job: &str) -> Option<Job> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).get(job).cloned()
    }

    fn running(&self) -> Option<String> {
        let jobs = self.0.lock().unwrap_or_else(|e| e.into_inner());
        jobs.iter().find(|(_, j)| j.done.is_none()).map(|(id, _)| id.clone())
    }

    fn finish(&self, job: &str, done: Result<RunId, String>) {
        if let Some(j) = self.0.lock().unwrap_or_else(|e| e.into_inner()).get_mut(job) {
            j.done = Some(done);
        }
    }
}

/// One row of the runs list.
struct RunRow {
    id: RunId,
    at: DateTime<Utc>,
    trigger: String,
    status: String,
    proposals: Option<u32>,
    unmet: Option<u32>,
}

pub async fn runs_page(State(state): State<AppState>, user: CurrentUser) -> Response {
    state.count();
    let rows = state
        .engine
        .read(|s| {
            let mut rows: Vec<RunRow> = s
                .runs
                .iter()
                .map(|(id, r)| RunRow {
                    id: id.clone(),
                    at: r.started_at,
                    trigger: r
                        .started
                        .as_ref()
                        .map_or_else(|| "–".to_owned(), |st| views::word(&st.trigger)),
                    status: match (&r.completed, r.discarded) {
                        (_, true) => "discarded".to_owned(),
                        (Some(c), _) => views::word(&c.status),
                        (None, _) => "not completed".to_owned(),
                    },
                    proposals: r.completed.as_ref().map(|c| c.proposals),
                    unmet: r.completed.as_ref().map(|c| c.unmet),
                })
                .collect();
            rows.sort_by(|a, b| (b.at, &b.id).cmp(&(a.at, &a.id)));
            rows
        })
        .await;
    let rows = match rows {
        Ok(r) => r,
        Err(e) => return server_error(&state, &user, &e.to_string()),
    };
    let running = state.runs.running();
    let body = html! {
        h1 class="govuk-heading-l" { "Matching runs" }
        @if user.may(Action::Broker) {
            @if let Some(job) = &running {
                div class="govuk-inset-text" {
                    "A run is going now. " a class="govuk-link" href=(format!("/runs/progress/{job}")) { "See its progress" }
                }
            } @else {
                form method="post" action="/runs" novalidate {
                    input type="hidden" name="csrf" value=(user.csrf);
                    p class="govuk-body" {
                        "A run matches practitioners to every open request with days still to plan, "
                        "from what is recorded now. Its proposals go to the practitioners to answer."
                    }
                    button type="submit" class="govuk-button" data-module="govuk-button" id="start-run" { "Start a matching run" }
                }
            }
        }
        @if rows.is_empty() {
            p class="govuk-body" { "No runs yet." }
        } @else {
            table class="govuk-table" {
                (layout::table_head("Matching runs, newest first", true, &[("Run", false), ("Started", false), ("Trigger", false), ("Status", false), ("Proposals", true), ("Unmet", true)]))
                tbody class="govuk-table__body" {
                    @for r in rows.iter().take(100) {
                        tr class="govuk-table__row" {
                            td class="govuk-table__cell" { a class="govuk-link" href=(format!("/runs/{}", encode(r.id.as_str()))) { (r.id) } }
                            td class="govuk-table__cell" { (views::time(r.at)) }
                            td class="govuk-table__cell" { (r.trigger.replace('_', " ")) }
                            td class="govuk-table__cell" { (r.status.replace('_', " ")) }
                            td class="govuk-table__cell govuk-table__cell--numeric" { (r.proposals.map_or("–".to_owned(), |n| n.to_string())) }
                            td class="govuk-table__cell govuk-table__cell--numeric" { (r.unmet.map_or("–".to_owned(), |n| n.to_string())) }
                        }
                    }
                }
            }
        }
    };
    render(StatusCode::OK, page("Matching runs", state.options.la, Some(&user), &[], body))
}

/// Starts a run in a task of its own and shows its progress.
pub async fn start(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(fields): Form<Fields>,
) -> Response {
    if let Err(r) = user.may_post(field(&fields, "csrf"), Action::Broker) {
        return *r;
    }
    let job = {
        let mut jobs = state.runs.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((id, _)) = jobs.iter().find(|(_, j)| j.done.is_none()) {
            // One at a time: the second start sees the first's progress.
            return Redirect::to(&format!("/runs/progress/{id}")).into_response();
        }
        let id = auth::random_token()[..16].to_owned();
        jobs.insert(
            id.clone(),
            Job {
                started: Instant::now(),
                at: state.options.clock.now(),
                by: user.user.clone(),
                limit: state.options.solve.time_limit,
                done: None,
            },
        );
        id
    };
    let at = state.options.clock.now();
    let request = MatchRequest {
        run: None,
        label: at.format("%Y-%m-%dT%H%M").to_string(),
        at,
        actor: user.user.clone(),
        trigger: RunTrigger::OnDemand,
        options: state.options.solve,
    };
    let (task_state, task_job) = (state.clone(), job.clone());
    tokio::spawn(async move {
        let done = match matching::run(&task_state.engine, &request).await {
            Ok(Some(outcome)) => match outcome.recorded {
                Outcome::Rejected(r) => Err(r.reason),
                _ => Ok(outcome.run),
            },
            Ok(None) => Err("that run is recorded already".to_owned()),
            Err(e) => Err(e.to_string()),
        };
        if let Err(e) = &done {
            tracing::warn!(error = %e, "a matching run started from the page failed");
        }
        task_state.runs.finish(&task_job, done);
    });
    Redirect::to(&format!("/runs/progress/{job}")).into_response()
}

pub async fn progress(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(job): Path<String>,
) -> Response {
    state.count();
    let Some(j) = state.runs.get(&job) else {
        return not_found(State(state.clone())).await;
    };
    if let Some(Ok(run)) = &j.done {
        return Redirect::to(&format!("/runs/{}", encode(run.as_str()))).into_response();
    }
    let elapsed = j.started.elapsed().as_secs();
    let body = html! {
        a href="/runs" class="govuk-back-link" { "Matching runs" }
        h1 class="govuk-heading-l" { "Matching run" }
        @match &j.done {
            Some(Err(why)) => {
                div class="govuk-error-summary" data-module="govuk-error-summary" {
                    div role="alert" {
                        h2 class="govuk-error-summary__title" { "The run did not finish" }
                        div class="govuk-error-summary__body" { p class="govuk-body" { (why) } }
                    }
                }
                p class="govuk-body" { "Nothing of it was recorded. " a class="govuk-link" href="/runs" { "Start another" } }
            }
            _ => {
                div class="govuk-panel govuk-panel--interruption bridges-progress" data-bridges-refresh="2" {
                    p class="govuk-body" role="status" {
                        "Started by " (j.by) " at " (views::time(j.at)) ". Running for " (elapsed) " seconds"
                        @if let Some(limit) = j.limit { " of at most about " (limit.ceil() as u64 + 5) }
                        "."
                    }
                }
                p class="govuk-body" {
                    a class="govuk-link" href=(format!("/runs/progress/{job}")) id="check-progress" { "Check progress" }
                }
            }
        }
    };
    render(
        StatusCode::OK,
        page("Matching run in progress", state.options.la, Some(&user), &[], body),
    )
}

/// What a run's page shows.
struct RunView {
    run: crate::domain::state::Run,
    proposals: Vec<ProposalRow>,
    unmet: Vec<UnmetRow>,
}

struct ProposalRow {
    assignment: String,
    school: String,
    request: String,
    need: String,
    tier: u8,
    practitioner: String,
    days: u32,
    cost: u64,
    status: AssignmentStatus,
}

struct UnmetRow {
    request: String,
    school: String,
    reason: String,
    days: String,
    detail: String,
    counterfactual: Option<String>,
}

fn run_view(s: &crate::domain::State, id: &RunId) -> Option<RunView> {
    let run = s.runs.get(id)?.clone();
    let mut proposals: Vec<ProposalRow> = crate::render::run_proposals(s, id)
        .into_iter()
        .filter_map(|a| {
            let r = s.requests.get(&a.request)?;
            let school =
                s.schools.get(&r.urn).map_or_else(|| r.urn.to_string(), |sc| sc.name.clone());
            let rate = s.practitioners.get(&a.practitioner).map_or(0, |p| p.day_rate);
            let days = a.days.values().sum::<u32>();
            Some(ProposalRow {
                assignment: a.id.0.clone(),
                school,
                request: a.request.0.clone(),
                need: r.need.0.replace('_', " "),
                tier: tier_of(s, r.tier, r.urn),
                practitioner: a.practitioner.0.clone(),
                days,
                cost: u64::from(days) * u64::from(rate) * 100,
                status: a.status,
            })
        })
        .collect();
    proposals.sort_by(|a, b| (a.tier, &a.school, &a.request).cmp(&(b.tier, &b.school, &b.request)));
    let unmet = run
        .unmet
        .iter()
        .map(|u| {
            let school = s
                .requests
                .get(&u.request)
                .and_then(|r| s.schools.get(&r.urn))
                .map_or_else(String::new, |sc| sc.name.clone());
            UnmetRow {
                request: u.request.0.clone(),
                school,
                reason: views::word(&u.reason).replace('_', " "),
                days: u
                    .days
                    .iter()
                    .map(|(k, d)| format!("{k}: {d}"))
                    .collect::<Vec<_>>()
                    .join(", "),
                detail: u.detail.clone(),
                counterfactual: u.counterfactual.clone(),
            }
        })
        .collect();
    Some(RunView { run, proposals, unmet })
}

pub async fn run_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Response {
    state.count();
    let id = RunId(id);
    let view = match state.engine.read(|s| run_view(s, &id)).await {
        Ok(Some(v)) => v,
        Ok(None) => return not_found(State(state.clone())).await,
        Err(e) => return server_error(&state, &user, &e.to_string()),
    };
    let title = format!("Matching run {id}");
    render(
        StatusCode::OK,
        page(&title, state.options.la, Some(&user), &[], run_markup(&title, &view, &user)),
    )
}

fn run_markup(title: &str, v: &RunView, user: &CurrentUser) -> Markup {
    let total: u64 = v.proposals.iter().map(|p| p.cost).sum();
    let awaiting = v.proposals.iter().filter(|p| p.status == AssignmentStatus::Proposed).count();
    html! {
        a href="/runs" class="govuk-back-link" { "Matching runs" }
        h1 class="govuk-heading-l" { (title) }
        @match &v.run.completed {
            None => {
                p class="govuk-body" {
                    "This run was started but not completed"
                    @if v.run.discarded { " and was discarded: none of its proposals count" }
                    "."
                }
            }
            Some(done) => {
                (layout::summary_list(&[
                    ("Started", html! { (views::time(v.run.started_at)) }),
                    ("Solver status", html! { (views::word(&done.status).replace('_', " ")) }),
                    ("Solved in", html! { (format!("{:.1} seconds", done.seconds)) }),
                    ("Proposals", html! { (done.proposals) " (" (awaiting) " awaiting an answer), costing " (crate::render::money(total)) }),
                    ("Unmet requests", html! { (done.unmet) }),
                ]))
                @if !done.tiers.is_empty() {
                    table class="govuk-table" {
                        (layout::table_head("Days covered by tier, against the greedy broker by hand", true, &[("", false), ("Tier 1", true), ("Tier 2", true), ("Tier 3", true), ("Tier 4", true)]))
                        tbody class="govuk-table__body" {
                            (tier_row("Requested", &done.tiers.iter().map(|t| t.requested.to_string()).collect::<Vec<_>>()))
                            (tier_row("Covered by this run", &done.tiers.iter().map(|t| t.covered.to_string()).collect::<Vec<_>>()))
                            (tier_row("Covered by the greedy broker", &done.tiers.iter().map(|t| t.greedy.to_string()).collect::<Vec<_>>()))
                            (tier_row("Best possible (bound)", &done.tiers.iter().map(|t| format!("{:.0}", t.bound)).collect::<Vec<_>>()))
                            (tier_row("Gap to the bound", &done.tiers.iter().map(|t| format!("{:.1}%", t.gap * 100.0)).collect::<Vec<_>>()))
                        }
                    }
                    p class="govuk-body" {
                        "The greedy broker takes requests most urgent first and gives each the nearest practitioner "
                        "free, as a broker working down a spreadsheet would."
                    }
                }
                @if !done.dropped.is_empty() {
                    h2 class="govuk-heading-m" { "Dropped when recorded" }
                    ul class="govuk-list govuk-list--bullet" {
                        @for d in &done.dropped { li { (d.request) ", " (d.practitioner) ": " (d.reason) } }
                    }
                }
            }
        }
        h2 class="govuk-heading-m" { "Proposals" }
        @if v.proposals.is_empty() {
            p class="govuk-body" { "None." }
        } @else {
            @if user.may(Action::Broker) {
                p class="govuk-body" { "Open a proposal to accept or decline it on the practitioner's behalf." }
            }
            table class="govuk-table" {
                (layout::table_head("Proposals", false, &[("Proposal", false), ("School", false), ("Request", false), ("Tier", true), ("Practitioner", false), ("Days", true), ("Cost", true), ("Status", false)]))
                tbody class="govuk-table__body" {
                    @for p in &v.proposals {
                        tr class="govuk-table__row" {
                            td class="govuk-table__cell" { a class="govuk-link" href=(format!("/assignments/{}", encode(&p.assignment))) { (p.assignment) } }
                            td class="govuk-table__cell" { (p.school) }
                            td class="govuk-table__cell" { a class="govuk-link" href=(format!("/requests/{}", encode(&p.request))) { (p.request) } " " (p.need) }
                            td class="govuk-table__cell govuk-table__cell--numeric" { (p.tier) }
                            td class="govuk-table__cell" { (p.practitioner) }
                            td class="govuk-table__cell govuk-table__cell--numeric" { (p.days) }
                            td class="govuk-table__cell govuk-table__cell--numeric" { (crate::render::money(p.cost)) }
                            td class="govuk-table__cell" { (super::assignments::status_tag(p.status)) }
                        }
                    }
                }
            }
        }
        h2 class="govuk-heading-m" { "Unmet requests" }
        @if v.unmet.is_empty() {
            p class="govuk-body" { "None: every request with days to plan got some." }
        } @else {
            table class="govuk-table" {
                (layout::table_head("Unmet requests", false, &[("Request", false), ("Why", false), ("Days asked", false), ("What would help", false)]))
                tbody class="govuk-table__body" {
                    @for u in &v.unmet {
                        tr class="govuk-table__row" {
                            td class="govuk-table__cell" { a class="govuk-link" href=(format!("/requests/{}", encode(&u.request))) { (u.request) } " " (u.school) }
                            td class="govuk-table__cell" { strong { (u.reason) } ": " (u.detail) }
                            td class="govuk-table__cell" { (u.days) }
                            td class="govuk-table__cell" { (u.counterfactual.as_deref().unwrap_or("–")) }
                        }
                    }
                }
            }
        }
    }
}

fn tier_row(name: &str, cells: &[String]) -> Markup {
    html! {
        tr class="govuk-table__row" {
            th scope="row" class="govuk-table__header" { (name) }
            @for c in cells { td class="govuk-table__cell govuk-table__cell--numeric" { (c) } }
        }
    }
}

/// The page's one script: while a progress page is open it checks again
/// every few seconds, updates the status line in place, and goes to the
/// run once it is recorded (without JavaScript, "Check progress" does it).
pub const SCRIPT: &str = r#"(function () {
  var el = document.querySelector('[data-bridges-refresh]');
  if (!el || !window.fetch || !window.DOMParser) { return; }
  var seconds = parseInt(el.getAttribute('data-bridges-refresh'), 10) || 2;
  var url = window.location.href;
  function check() {
    fetch(url, { credentials: 'same-origin' }).then(function (r) {
      if (r.redirected) { window.location.assign(r.url); return; }
      return r.text().then(function (text) {
        var next = new DOMParser().parseFromString(text, 'text/html');
        var now = next.querySelector('[data-bridges-refresh] [role=status]');
        var shown = el.querySelector('[role=status]');
        if (!now) { window.location.reload(); return; }
        if (shown) { shown.textContent = now.textContent; }
        window.setTimeout(check, seconds * 1000);
      });
    }).catch(function () { window.setTimeout(check, seconds * 1000); });
  }
  window.setTimeout(check, seconds * 1000);
})();
"#;
