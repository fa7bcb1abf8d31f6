//! Practitioners: the list (ids, names, titles, load this half-term), and a
//! practitioner's page: details (contacts only for a role that may see
//! them), availability by half-term against days held and accepted (a grid
//! a broker edits: one `DeclareAvailability` for the planning year),
//! leave, conflicts, assignments and history.

use std::collections::BTreeMap;

use axum::Form;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use bridges_schemas::commands::{Command, DeclareAvailability, ErasePractitioner};
use bridges_schemas::{Period, PractitionerId};
use maud::html;

use super::AppState;
use super::accounts::Action;
use super::auth::CurrentUser;
use super::layout::{self, FieldError, page};
use super::pages::{
    Fields, encode, field, handle, not_found, rejection_message, render, server_error,
};
use crate::domain::calendar::london_date;
use crate::domain::state::{Assignment, AssignmentStatus};
use crate::views::{self, Personal};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/practitioners", get(list))
        .route("/practitioners/{id}", get(practitioner_page))
        .route("/practitioners/{id}/availability", post(declare))
        .route("/practitioners/{id}/erase", post(erase))
}

struct Row {
    id: String,
    name: String,
    title: String,
    status: &'static str,
    capacity: u32,
    held: u32,
}

pub async fn list(State(state): State<AppState>, user: CurrentUser) -> Response {
    state.count();
    let today = london_date(state.options.clock.now());
    let rules = state.engine.rules();
    let period = rules.calendar.half_term_of(today).map(|h| h.label.clone());
    let keys = state.engine.keys();
    let rows = state
        .engine
        .read(|s| {
            s.practitioners
                .values()
                .map(|p| Row {
                    id: p.id.0.clone(),
                    name: views::personal(p, keys).name().to_owned(),
                    title: p.title.0.clone(),
                    status: views::practitioner_status(p),
                    capacity: period.as_ref().and_then(|h| p.capacity.get(h)).copied().unwrap_or(0),
                    held: period.as_ref().map_or(0, |h| s.held_days(&p.id, h)),
                })
                .collect::<Vec<_>>()
        })
        .await;
    let rows = match rows {
        Ok(r) => r,
        Err(e) => return server_error(&state, &user, &e.to_string()),
    };
    let now = period.map_or_else(|| "this half-term".to_owned(), |p| p.0);
    let body = html! {
        h1 class="govuk-heading-l" { "Practitioners" }
        p class="govuk-body" { (views::count(rows.len(), "practitioner")) }
        table class="govuk-table" {
            (layout::table_head("Practitioners", false, &[("Practitioner", false), ("Name", false), ("Title", false), ("Status", false), (&format!("Days held in {now}"), true)]))
            tbody class="govuk-table__body" {
                @for r in &rows {
                    tr class="govuk-table__row" {
                        td class="govuk-table__cell" { a class="govuk-link" href=(format!("/practitioners/{}", encode(&r.id))) { (r.id) } }
                        td class="govuk-table__cell" { (r.name) }
                        td class="govuk-table__cell" { (r.title) }
                        td class="govuk-table__cell" { (r.status) }
                        td class="govuk-table__cell govuk-table__cell--numeric" { (r.held) " of " (r.capacity) }
                    }
                }
            }
        }
    };
    render(StatusCode::OK, page("Practitioners", state.options.la, Some(&user), &[], body))
}

/// One half-term of the availability grid.
struct Load {
    period: Period,
    declared: Option<u32>,
    held: u32,
    accepted: u32,
    /// Open to change (not ended, in the planning year).
    editable: bool,
}

struct View {
    id: PractitionerId,
    personal: Personal,
    title: String,
    day_rate: u32,
    home: String,
    specialisms: String,
    phases: String,
    status: &'static str,
    loads: Vec<Load>,
    max_days: Vec<String>,
    leave: Vec<String>,
    conflicts: Vec<String>,
    assignments: Vec<Assignment>,
    history: Vec<views::HistoryEntry>,
}

pub async fn practitioner_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Response {
    state.count();
    response(&state, &user, &PractitionerId(id), &BTreeMap::new(), &[]).await
}

async fn response(
    state: &AppState,
    user: &CurrentUser,
    id: &PractitionerId,
    typed: &BTreeMap<String, String>,
    errors: &[FieldError],
) -> Response {
    let engine = &state.engine;
    let history = match engine.history(&format!("practitioner-{id}")) {
        Ok(h) => h,
        Err(e) => return server_error(state, user, &e.to_string()),
    };
    let today = london_date(state.options.clock.now());
    let (rules, keys) = (engine.rules(), engine.keys());
    let planning: Vec<Period> =
        rules.calendar.planning_half_terms(today).into_iter().map(|h| h.label.clone()).collect();
    let view = engine
        .read(|s| {
            let p = s.practitioners.get(id)?;
            let mut periods: Vec<Period> = p.capacity.keys().cloned().collect();
            periods.extend(planning.iter().cloned());
            periods.sort();
            periods.dedup();
            let loads = periods
                .into_iter()
                .map(|period| Load {
                    declared: p.capacity.get(&period).copied(),
                    held: s.held_days(&p.id, &period),
                    accepted: s.accepted_days(&p.id, &period),
                    editable: planning.contains(&period),
                    period,
                })
                .collect();
            let home = s
                .schools
                .get(&p.home_urn)
                .map_or_else(|| p.home_urn.to_string(), |sc| format!("{} ({})", sc.name, sc.urn));
            let join = |v: Vec<String>| if v.is_empty() { "–".to_owned() } else { v.join(", ") };
            Some(View {
                id: p.id.clone(),
                personal: views::personal(p, keys),
                title: p.title.0.clone(),
                day_rate: p.day_rate,
                home,
                specialisms: join(p.specialisms.iter().map(|n| n.0.replace('_', " ")).collect()),
                phases: join(p.phases.iter().map(|ph| ph.as_str().to_owned()).collect()),
                status: views::practitioner_status(p),
                loads,
                max_days: p.max_days.iter().map(|(y, d)| format!("{y}: {d} days")).collect(),
                leave: p.leave.iter().map(|(a, b)| format!("{a} to {b}")).collect(),
                conflicts: p
                    .conflicts
                    .values()
                    .map(|c| {
                        let window = views::window(c.valid_from, c.valid_to);
                        format!(
                            "{} ({}{window})",
                            c.conflict,
                            views::word(&c.kind).replace('_', " ")
                        )
                    })
                    .collect(),
                assignments: s
                    .assignments
                    .values()
                    .filter(|a| a.practitioner == p.id && !a.pending_run)
                    .cloned()
                    .collect(),
                history,
            })
        })
        .await;
    let v = match view {
        Ok(Some(v)) => v,
        Ok(None) => return not_found(State(state.clone())).await,
        Err(e) => return server_error(state, user, &e.to_string()),
    };
    let contacts = user.may(Action::SeeContacts);
    let edit = user.may(Action::Broker) && v.status == "active";
    let title = format!("Practitioner {}", v.id);
    let path = format!("/practitioners/{}", encode(v.id.as_str()));
    let value = |l: &Load| {
        typed
            .get(l.period.as_str())
            .cloned()
            .unwrap_or_else(|| l.declared.map(|d| d.to_string()).unwrap_or_default())
    };
    let body = html! {
        a href="/practitioners" class="govuk-back-link" { "Practitioners" }
        h1 class="govuk-heading-l" { (title) }
        (layout::summary_list(&[
            ("Name", html! { (v.personal.name()) }),
            ("Contact", html! {
                @if !contacts {
                    "Not shown to your role"
                } @else {
                    @match &v.personal {
                        Personal::Held(d) => {
                            (d.email.as_deref().unwrap_or("no email")) ", " (d.phone.as_deref().unwrap_or("no phone"))
                        }
                        Personal::Erased => { "Erased" }
                        Personal::NotRecorded => { "None recorded" }
                    }
                }
            }),
            ("Title", html! { (v.title) ", " (crate::render::money(u64::from(v.day_rate) * 100)) " a day" }),
            ("Home school", html! { (v.home) }),
            ("Specialisms", html! { (v.specialisms) }),
            ("Phases", html! { (v.phases) }),
            ("Status", html! { (v.status) }),
            ("Most days a year", html! { @if v.max_days.is_empty() { "No yearly limit" } @else { (v.max_days.join(", ")) } }),
            ("Leave", html! { @if v.leave.is_empty() { "None" } @else { (v.leave.join(", ")) } }),
            ("Conflicts of interest", html! { @if v.conflicts.is_empty() { "None declared" } @else { (v.conflicts.join("; ")) } }),
        ]))
        h2 class="govuk-heading-m" { "Availability and load by half-term" }
        form method="post" action=(format!("{path}/availability")) novalidate {
            input type="hidden" name="csrf" value=(user.csrf);
            table class="govuk-table" {
                (layout::table_head("Availability and load by half-term", false, &[("Half-term", false), ("Days available", true), ("Held (proposed or accepted)", true), ("Accepted", true)]))
                tbody class="govuk-table__body" {
                    @for l in &v.loads {
                        @let id = format!("capacity-{}", l.period);
                        @let error = layout::error_of(errors, &id);
                        tr class="govuk-table__row" {
                            th scope="row" class="govuk-table__header" {
                                @if edit && l.editable { label for=(id) { (l.period) } } @else { (l.period) }
                            }
                            td class="govuk-table__cell govuk-table__cell--numeric" {
                                @if edit && l.editable {
                                    div class={ "govuk-form-group govuk-!-margin-bottom-0" @if error.is_some() { " govuk-form-group--error" } } {
                                        @if let Some(e) = error {
                                            p id=(format!("{id}-error")) class="govuk-error-message" {
                                                span class="govuk-visually-hidden" { "Error: " } (e.message)
                                            }
                                        }
                                        input class={ "govuk-input govuk-input--width-3" @if error.is_some() { " govuk-input--error" } }
                                            id=(id) name=(id) type="text" inputmode="numeric" value=(value(l))
                                            aria-describedby=[error.map(|_| format!("{id}-error"))];
                                    }
                                } @else {
                                    (l.declared.map_or("–".to_owned(), |d| d.to_string()))
                                }
                            }
                            td class="govuk-table__cell govuk-table__cell--numeric" { (l.held) }
                            td class="govuk-table__cell govuk-table__cell--numeric" { (l.accepted) }
                        }
                    }
                }
            }
            @if edit {
                button type="submit" class="govuk-button" data-module="govuk-button" { "Save availability" }
            }
        }
        h2 class="govuk-heading-m" { "Assignments" }
        @if v.assignments.is_empty() {
            p class="govuk-body" { "None." }
        } @else {
            table class="govuk-table" {
                (layout::table_head("Assignments", false, &[("Assignment", false), ("Request", false), ("Days", false), ("Status", false)]))
                tbody class="govuk-table__body" {
                    @for a in &v.assignments {
                        tr class="govuk-table__row" {
                            td class="govuk-table__cell" { a class="govuk-link" href=(format!("/assignments/{}", encode(a.id.as_str()))) { (a.id) } }
                            td class="govuk-table__cell" { a class="govuk-link" href=(format!("/requests/{}", encode(a.request.as_str()))) { (a.request) } }
                            td class="govuk-table__cell" { (views::days(&a.days)) }
                            td class="govuk-table__cell" {
                                (super::assignments::status_tag(a.status))
                                @if a.status == AssignmentStatus::Proposed { @if let Some(by) = a.answer_by { " answer by " (by) } }
                            }
                        }
                    }
                }
            }
        }
        @if user.may(Action::Erase) && !matches!(v.personal, Personal::Erased) {
            h2 class="govuk-heading-m" { "Erase personal data" }
            div class="govuk-warning-text" {
                span class="govuk-warning-text__icon" aria-hidden="true" { "!" }
                strong class="govuk-warning-text__text" {
                    span class="govuk-visually-hidden" { "Warning" }
                    "Erasing destroys the practitioner's name, contacts and notes for good (their key is deleted); the log stays whole. It cannot be undone."
                }
            }
            form method="post" action=(format!("{path}/erase")) novalidate {
                input type="hidden" name="csrf" value=(user.csrf);
                (layout::checkboxes("confirm-erase", "Confirm", &[("yes".to_owned(), format!("Erase the personal data of {}", v.id))], &[], errors))
                button type="submit" class="govuk-button govuk-button--warning" data-module="govuk-button" id="erase" { "Erase personal data" }
            }
        }
        (layout::history_table("History", &v.history))
    };
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    render(status, page(&title, state.options.la, Some(user), errors, body))
}

/// Saves the grid: the days of every planning half-term, as one declaration.
pub async fn declare(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(fields): Form<Fields>,
) -> Response {
    if let Err(r) = user.may_post(field(&fields, "csrf"), Action::Broker) {
        return *r;
    }
    let id = PractitionerId(id);
    let today = london_date(state.options.clock.now());
    let terms = state.engine.rules().calendar.planning_half_terms(today);
    let planning: Vec<Period> = terms.iter().map(|h| h.label.clone()).collect();
    let mut typed = BTreeMap::new();
    let mut capacity = BTreeMap::new();
    let mut errors = Vec::new();
    for period in &planning {
        let text = field(&fields, &format!("capacity-{period}")).trim().to_owned();
        match text.parse::<u32>() {
            Ok(d) => {
                capacity.insert(period.clone(), d);
            }
            Err(_) if text.is_empty() => {}
            Err(_) => errors.push(FieldError {
                id: format!("capacity-{period}"),
                message: format!(
                    "Days available in {period} must be a whole number, like 4 (not \"{text}\")"
                ),
            }),
        }
        typed.insert(period.0.clone(), text);
    }
    if errors.is_empty() && capacity.is_empty() {
        errors.push(FieldError {
            id: planning.first().map_or_else(String::new, |p| format!("capacity-{p}")),
            message: "Enter the days available in at least one half-term".into(),
        });
    }
    if !errors.is_empty() {
        return response(&state, &user, &id, &typed, &errors).await;
    }
    // The year's limit stays as it was (a declaration without one clears it).
    let year = terms.first().map(|h| h.year.clone());
    let max_days = state
        .engine
        .read(|s| {
            s.practitioners.get(&id).and_then(|p| year.and_then(|y| p.max_days.get(&y).copied()))
        })
        .await
        .ok()
        .flatten();
    let command = Command::DeclareAvailability(DeclareAvailability {
        practitioner: id.clone(),
        capacity,
        max_days,
    });
    match handle(&state, &user, command).await {
        Ok(Ok(())) => {
            Redirect::to(&format!("/practitioners/{}", encode(id.as_str()))).into_response()
        }
        Ok(Err(r)) => {
            let name = r.field.strip_prefix("command.").unwrap_or(&r.field);
            let field_id = match name.strip_prefix("capacity.") {
                Some(p) if planning.iter().any(|q| q.as_str() == p) => format!("capacity-{p}"),
                _ => planning.first().map_or_else(String::new, |p| format!("capacity-{p}")),
            };
            let errors = [FieldError { id: field_id, message: rejection_message(&r) }];
            response(&state, &user, &id, &typed, &errors).await
        }
        Err(e) => server_error(&state, &user, &e),
    }
}

/// Erases a practitioner's personal data (administrators only).
pub async fn erase(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(fields): Form<Fields>,
) -> Response {
    if let Err(r) = user.may_post(field(&fields, "csrf"), Action::Erase) {
        return *r;
    }
    let id = PractitionerId(id);
    if field(&fields, "confirm-erase") != "yes" {
        let errors = [FieldError {
            id: "confirm-erase".into(),
            message: "Tick the box to confirm the erasure".into(),
        }];
        return response(&state, &user, &id, &BTreeMap::new(), &errors).await;
    }
    let command = Command::ErasePractitioner(ErasePractitioner { practitioner: id.clone() });
    match handle(&state, &user, command).await {
        Ok(Ok(())) => {
            Redirect::to(&format!("/practitioners/{}", encode(id.as_str()))).into_response()
        }
        Ok(Err(r)) => {
            let errors =
                [FieldError { id: "confirm-erase".into(), message: rejection_message(&r) }];
            response(&state, &user, &id, &BTreeMap::new(), &errors).await
        }
        Err(e) => server_error(&state, &user, &e),
    }
}
