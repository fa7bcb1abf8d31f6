//! A proposal or assignment's page: its terms and history; while proposed,
//! accept or decline on behalf of the practitioner; once accepted, record
//! first contact and visits, and correct or void a visit. Every form posts
//! one command through `handle`; a rejection is shown by the field it names
//! with what was typed kept.

use axum::Form;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use bridges_schemas::commands::{
    AcceptAssignment, Command, CorrectVisit, DeclineAssignment, RecordFirstContact, RecordVisit,
    Rejection, VoidVisit,
};
use bridges_schemas::vocab::{AssignmentId, DeclineReason, VisitId};
use maud::{Markup, html};

use super::AppState;
use super::accounts::Action;
use super::auth::CurrentUser;
use super::layout::{self, FieldError, page};
use super::pages::{
    Fields, encode, field, handle, local, not_found, rejection_message, render, server_error,
};
use crate::domain::calendar::london_date;
use crate::domain::state::{Assignment, AssignmentStatus, VisitStatus};
use crate::views;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/assignments/{id}", get(assignment_page))
        .route("/assignments/{id}/accept", post(accept))
        .route("/assignments/{id}/decline", post(decline))
        .route("/assignments/{id}/contact", post(first_contact))
        .route("/assignments/{id}/visits", post(record_visit))
        .route("/assignments/{id}/visits/{visit}", get(visit_page))
        .route("/assignments/{id}/visits/{visit}/correct", post(correct_visit))
        .route("/assignments/{id}/visits/{visit}/void", post(void_visit))
        .route("/assignments/{id}/visits/{visit}/ask", post(ask_school))
}

/// A decline reason as the page words it.
pub fn decline_text(r: DeclineReason) -> &'static str {
    match r {
        DeclineReason::NoRelease => "Their school cannot release them for these days",
        DeclineReason::Conflict => "A conflict of interest",
        DeclineReason::NotMyArea => "Not an area of need they can support well",
        DeclineReason::Logistics => "Travel or timing does not work",
        DeclineReason::Other => "Another reason",
    }
}

pub fn decline_choices() -> Vec<(String, String)> {
    DeclineReason::ALL
        .iter()
        .map(|r| (r.as_str().to_owned(), decline_text(*r).to_owned()))
        .collect()
}

/// The status of an assignment as a tag.
pub fn status_tag(s: AssignmentStatus) -> Markup {
    let colour = match s {
        AssignmentStatus::Proposed => "yellow",
        AssignmentStatus::Accepted => "green",
        AssignmentStatus::Completed => "blue",
        AssignmentStatus::Declined(_) | AssignmentStatus::Expired => "red",
        AssignmentStatus::Withdrawn => "grey",
    };
    layout::tag(&views::assignment_status(s), colour)
}

/// The values typed in the page's forms (kept when one is refused).
#[derive(Debug, Clone, Default)]
struct Typed {
    back: String,
    decline_reason: String,
    decline_note: String,
    contact_on: String,
    visit_on: String,
    visit_half_days: String,
    visit_note: String,
}

/// What the page shows of an assignment.
struct AssignmentView {
    a: Assignment,
    school: String,
    need: String,
    request_open: bool,
    cost: u64,
    history: Vec<views::HistoryEntry>,
}

async fn view_of(state: &AppState, id: &AssignmentId) -> Result<Option<AssignmentView>, String> {
    let history = state.engine.history(&format!("assignment-{id}")).map_err(|e| e.to_string())?;
    state
        .engine
        .read(|s| {
            let a = s.assignments.get(id).filter(|a| !a.pending_run)?.clone();
            let r = s.requests.get(&a.request)?;
            let school = s
                .schools
                .get(&r.urn)
                .map_or_else(|| r.urn.to_string(), |sc| format!("{} ({})", sc.name, sc.urn));
            let rate = s.practitioners.get(&a.practitioner).map_or(0, |p| p.day_rate);
            let cost = u64::from(a.days.values().sum::<u32>()) * u64::from(rate) * 100;
            let request_open = r.status == crate::domain::state::RequestStatus::Open;
            Some(AssignmentView { school, need: r.need.0.clone(), request_open, cost, history, a })
        })
        .await
        .map_err(|e| e.to_string())
}

pub async fn assignment_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Response {
    state.count();
    let today = london_date(state.options.clock.now()).to_string();
    let typed = Typed { contact_on: today.clone(), visit_on: today, ..Default::default() };
    assignment_response(&state, &user, &AssignmentId(id), &typed, &[]).await
}

async fn assignment_response(
    state: &AppState,
    user: &CurrentUser,
    id: &AssignmentId,
    typed: &Typed,
    errors: &[FieldError],
) -> Response {
    let view = match view_of(state, id).await {
        Ok(Some(v)) => v,
        Ok(None) => return not_found(State(state.clone())).await,
        Err(e) => return server_error(state, user, &e),
    };
    let a = &view.a;
    let title = format!("Assignment {id}");
    let path = format!("/assignments/{}", encode(id.as_str()));
    let back = if typed.back.is_empty() { path.clone() } else { typed.back.clone() };
    let broker = user.may(Action::Broker);
    let days = views::days(&a.days);
    let body = html! {
        a href=(format!("/requests/{}", encode(a.request.as_str()))) class="govuk-back-link" { "Request " (a.request) }
        h1 class="govuk-heading-l" { (title) }
        (layout::summary_list(&[
            ("Status", status_tag(a.status)),
            ("Request", html! { a class="govuk-link" href=(format!("/requests/{}", encode(a.request.as_str()))) { (a.request) } " – " (view.need) }),
            ("School", html! { (view.school) }),
            ("Practitioner", html! { a class="govuk-link" href=(format!("/practitioners/{}", encode(a.practitioner.as_str()))) { (a.practitioner) } }),
            ("Days by half-term", html! { (days) }),
            ("Cost at the day rate", html! { (crate::render::money(view.cost)) }),
            ("Proposed by", html! {
                @match &a.run {
                    Some(run) => { "Matching run " a class="govuk-link" href=(format!("/runs/{}", encode(run.as_str()))) { (run) } }
                    None => { "Hand" }
                }
            }),
            ("Answer by", html! { @match a.answer_by { Some(d) => { (d) } None => { "–" } } }),
            ("First contact", html! { @match a.first_contact { Some(d) => { (d) } None => { "Not recorded" } } }),
        ]))
        @if broker && a.status == AssignmentStatus::Proposed {
            h2 class="govuk-heading-m" { "Answer on behalf of the practitioner" }
            p class="govuk-body" { "Record the practitioner's answer when they give it by phone or in person." }
            form method="post" action=(format!("{path}/accept")) novalidate {
                input type="hidden" name="csrf" value=(user.csrf);
                input type="hidden" name="back" value=(back);
                button type="submit" class="govuk-button" data-module="govuk-button" id="accept" { "Accept on their behalf" }
            }
            form method="post" action=(format!("{path}/decline")) novalidate {
                input type="hidden" name="csrf" value=(user.csrf);
                input type="hidden" name="back" value=(back);
                (layout::radios("decline-reason", "Why they decline", &decline_choices(), &typed.decline_reason, errors))
                (layout::textarea("decline-note", "Note (optional)", &typed.decline_note, errors))
                button type="submit" class="govuk-button govuk-button--warning" data-module="govuk-button" id="decline" { "Decline on their behalf" }
            }
        }
        @if broker && a.status == AssignmentStatus::Accepted {
            @if a.first_contact.is_none() {
                h2 class="govuk-heading-m" { "Record first contact" }
                form method="post" action=(format!("{path}/contact")) novalidate {
                    input type="hidden" name="csrf" value=(user.csrf);
                    (layout::text_input("contact-on", "Date of first contact with the school", Some("For example, 2026-12-03 or 3/12/2026"), &typed.contact_on, "govuk-input--width-10", errors))
                    button type="submit" class="govuk-button govuk-button--secondary" data-module="govuk-button" { "Record first contact" }
                }
            }
            h2 class="govuk-heading-m" { "Record a visit" }
            form method="post" action=(format!("{path}/visits")) novalidate {
                input type="hidden" name="csrf" value=(user.csrf);
                (layout::text_input("visit-on", "Date of the visit", Some("For example, 2026-12-03 or 3/12/2026"), &typed.visit_on, "govuk-input--width-10", errors))
                (layout::text_input("visit-half_days", "Half days", Some("A whole day is 2 half days"), &typed.visit_half_days, "govuk-input--width-3", errors))
                (layout::textarea("visit-note", "Note (optional)", &typed.visit_note, errors))
                button type="submit" class="govuk-button" data-module="govuk-button" id="record-visit" { "Record visit" }
            }
        }
        h2 class="govuk-heading-m" { "Visits" }
        @if a.visits.is_empty() {
            p class="govuk-body" { "None recorded." }
        } @else {
            table class="govuk-table" {
                (layout::table_head("Visits", false, &[("Visit", false), ("Date", false), ("Half days", true), ("Status", false), ("", false)]))
                tbody class="govuk-table__body" {
                    @for (v, visit) in &a.visits {
                        tr class="govuk-table__row" {
                            td class="govuk-table__cell" { (v) }
                            td class="govuk-table__cell" { (visit.on) }
                            td class="govuk-table__cell govuk-table__cell--numeric" { (visit.half_days) }
                            td class="govuk-table__cell" {
                                (views::visit_status(visit.status))
                                @if visit.confirmed { " " (layout::tag("Confirmed by the school", "green")) }
                            }
                            td class="govuk-table__cell" {
                                @if broker && visit.status == VisitStatus::Recorded {
                                    a class="govuk-link" href=(format!("{path}/visits/{}", encode(v.as_str()))) id=(format!("visit-{v}")) {
                                        "Correct, void or ask the school to confirm" span class="govuk-visually-hidden" { " visit " (v) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if !view.request_open {
            p class="govuk-body" { "The request is no longer open." }
        }
        (layout::history_table("History", &view.history))
    };
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    render(status, page(&title, state.options.la, Some(user), errors, body))
}

/// The field of `form` (`decline`, `contact`, `visit`) a rejection names,
/// or the form's first field.
fn field_of(r: &Rejection, form: &str, fields: &[&str]) -> String {
    let name = r.field.strip_prefix("command.").unwrap_or(&r.field);
    let head = name.split(['.', '[']).next().unwrap_or(name);
    match fields.contains(&head) {
        true => format!("{form}-{head}"),
        false => format!("{form}-{}", fields[0]),
    }
}

/// Sends `command` for assignment `id` and redirects to `back`, or shows
/// the page again with the rejection by `field`.
async fn act(
    state: &AppState,
    user: &CurrentUser,
    id: &AssignmentId,
    command: Command,
    typed: &Typed,
    on_reject: impl Fn(&Rejection) -> String,
) -> Response {
    match handle(state, user, command).await {
        Ok(Ok(())) => {
            let to = match typed.back.is_empty() {
                true => format!("/assignments/{}", encode(id.as_str())),
                false => local(Some(&typed.back)),
            };
            Redirect::to(&to).into_response()
        }
        Ok(Err(r)) => {
            let errors = [FieldError { id: on_reject(&r), message: rejection_message(&r) }];
            assignment_response(state, user, id, typed, &errors).await
        }
        Err(e) => server_error(state, user, &e),
    }
}

fn typed_of(fields: &Fields) -> Typed {
    Typed {
        back: field(fields, "back").to_owned(),
        decline_reason: field(fields, "decline-reason").to_owned(),
        decline_note: field(fields, "decline-note").trim().to_owned(),
        contact_on: field(fields, "contact-on").trim().to_owned(),
        visit_on: field(fields, "visit-on").trim().to_owned(),
        visit_half_days: field(fields, "visit-half_days").trim().to_owned(),
        visit_note: field(fields, "visit-note").trim().to_owned(),
    }
}

fn note(text: &str) -> Option<String> {
    Some(text.to_owned()).filter(|t| !t.is_empty())
}

pub async fn accept(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(fields): Form<Fields>,
) -> Response {
    if let Err(r) = user.may_post(field(&fields, "csrf"), Action::Broker) {
        return *r;
    }
    let id = AssignmentId(id);
    let command = Command::AcceptAssignment(AcceptAssignment { assignment: id.clone() });
    // A refused accept has no field of its own: the message sits by the decline's first.
    act(&state, &user, &id, command, &typed_of(&fields), |_| "decline-reason".into()).await
}

pub async fn decline(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(fields): Form<Fields>,
) -> Response {
    if let Err(r) = user.may_post(field(&fields, "csrf"), Action::Broker) {
        return *r;
    }
    let id = AssignmentId(id);
    let typed = typed_of(&fields);
    let Some(reason) = DeclineReason::ALL.into_iter().find(|r| r.as_str() == typed.decline_reason)
    else {
        let errors = [FieldError {
            id: "decline-reason".into(),
            message: "Choose why the practitioner declines".into(),
        }];
        return assignment_response(&state, &user, &id, &typed, &errors).await;
    };
    let command = Command::DeclineAssignment(DeclineAssignment {
        assignment: id.clone(),
        reason,
        note: note(&typed.decline_note),
    });
    act(&state, &user, &id, command, &typed, |r| field_of(r, "decline", &["reason", "note"])).await
}

pub async fn first_contact(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(fields): Form<Fields>,
) -> Response {
    if let Err(r) = user.may_post(field(&fields, "csrf"), Action::Broker) {
        return *r;
    }
    let id = AssignmentId(id);
    let typed = typed_of(&fields);
    let Some(on) = layout::parse_date(&typed.contact_on) else {
        let errors = [FieldError {
            id: "contact-on".into(),
            message: format!(
                "Enter the date of first contact as a date, like 2026-12-03 (not \"{}\")",
                typed.contact_on
            ),
        }];
        return assignment_response(&state, &user, &id, &typed, &errors).await;
    };
    let command =
        Command::RecordFirstContact(RecordFirstContact { assignment: id.clone(), on, note: None });
    act(&state, &user, &id, command, &typed, |_| "contact-on".into()).await
}

/// A visit's date and half days as typed: the errors of each.
fn visit_values(
    on: &str,
    half_days: &str,
    prefix: &str,
) -> Result<(chrono::NaiveDate, u32), Vec<FieldError>> {
    let date = layout::parse_date(on);
    let half = half_days.parse::<u32>().ok();
    let mut errors = Vec::new();
    if date.is_none() {
        errors.push(FieldError {
            id: format!("{prefix}-on"),
            message: format!(
                "Enter the date of the visit as a date, like 2026-12-03 (not \"{on}\")"
            ),
        });
    }
    if half.is_none() {
        errors.push(FieldError {
            id: format!("{prefix}-half_days"),
            message: format!("Enter the half days as a whole number, like 2 (not \"{half_days}\")"),
        });
    }
    match (date, half) {
        (Some(d), Some(h)) => Ok((d, h)),
        _ => Err(errors),
    }
}

pub async fn record_visit(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(fields): Form<Fields>,
) -> Response {
    if let Err(r) = user.may_post(field(&fields, "csrf"), Action::Broker) {
        return *r;
    }
    let id = AssignmentId(id);
    let typed = typed_of(&fields);
    let (on, half_days) = match visit_values(&typed.visit_on, &typed.visit_half_days, "visit") {
        Ok(v) => v,
        Err(errors) => return assignment_response(&state, &user, &id, &typed, &errors).await,
    };
    let command = Command::RecordVisit(RecordVisit {
        assignment: id.clone(),
        visit: None,
        on,
        half_days,
        note: note(&typed.visit_note),
    });
    act(&state, &user, &id, command, &typed, |r| field_of(r, "visit", &["on", "half_days", "note"]))
        .await
}

// --- one visit: correct or void -------------------------------------------------------

#[derive(Debug, Clone, Default)]
struct VisitTyped {
    on: String,
    half_days: String,
    note: String,
    reason: String,
    email: String,
}

pub async fn visit_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, visit)): Path<(String, String)>,
) -> Response {
    if let Err(r) = user.require(Action::Broker) {
        return *r;
    }
    state.count();
    let (id, visit) = (AssignmentId(id), VisitId(visit));
    let found = state
        .engine
        .read(|s| s.assignments.get(&id).and_then(|a| a.visits.get(&visit)).cloned())
        .await;
    let typed = match found {
        Ok(Some(v)) => VisitTyped {
            on: v.on.to_string(),
            half_days: v.half_days.to_string(),
            ..Default::default()
        },
        Ok(None) => return not_found(State(state.clone())).await,
        Err(e) => return server_error(&state, &user, &e.to_string()),
    };
    visit_response(&state, &user, &id, &visit, &typed, &[])
}

fn visit_response(
    state: &AppState,
    user: &CurrentUser,
    id: &AssignmentId,
    visit: &VisitId,
    typed: &VisitTyped,
    errors: &[FieldError],
) -> Response {
    let back = format!("/assignments/{}", encode(id.as_str()));
    let path = format!("{back}/visits/{}", encode(visit.as_str()));
    let title = format!("Visit {visit} of assignment {id}");
    let body = html! {
        a href=(back) class="govuk-back-link" { "Assignment " (id) }
        h1 class="govuk-heading-l" { (title) }
        div class="govuk-grid-row" {
            div class="govuk-grid-column-two-thirds" {
                h2 class="govuk-heading-m" { "Correct the visit" }
                form method="post" action=(format!("{path}/correct")) novalidate {
                    input type="hidden" name="csrf" value=(user.csrf);
                    (layout::text_input("correct-on", "Date of the visit", Some("For example, 2026-12-03 or 3/12/2026"), &typed.on, "govuk-input--width-10", errors))
                    (layout::text_input("correct-half_days", "Half days", None, &typed.half_days, "govuk-input--width-3", errors))
                    (layout::textarea("correct-note", "Note (optional)", &typed.note, errors))
                    button type="submit" class="govuk-button" data-module="govuk-button" { "Correct visit" }
                }
                h2 class="govuk-heading-m" { "Ask the school to confirm" }
                p class="govuk-body" { "Email the receiving school a link to confirm the visit took place. The address is not kept." }
                form method="post" action=(format!("{path}/ask")) novalidate {
                    input type="hidden" name="csrf" value=(user.csrf);
                    (layout::text_input("school-email", "The school's email address", Some("For example, head@school.example.org"), &typed.email, "govuk-!-width-two-thirds", errors))
                    button type="submit" class="govuk-button govuk-button--secondary" data-module="govuk-button" id="ask-confirm" { "Send the link" }
                }
                h2 class="govuk-heading-m" { "Void the visit" }
                p class="govuk-body" { "Void a visit recorded in error. It stays in the history." }
                form method="post" action=(format!("{path}/void")) novalidate {
                    input type="hidden" name="csrf" value=(user.csrf);
                    (layout::text_input("void-reason", "Why it is void", None, &typed.reason, "govuk-!-width-two-thirds", errors))
                    button type="submit" class="govuk-button govuk-button--warning" data-module="govuk-button" { "Void visit" }
                }
            }
        }
    };
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    render(status, page(&title, state.options.la, Some(user), errors, body))
}

async fn visit_act(
    state: &AppState,
    user: &CurrentUser,
    (id, visit): (&AssignmentId, &VisitId),
    command: Command,
    typed: &VisitTyped,
    on_reject: impl Fn(&Rejection) -> String,
) -> Response {
    match handle(state, user, command).await {
        Ok(Ok(())) => {
            Redirect::to(&format!("/assignments/{}", encode(id.as_str()))).into_response()
        }
        Ok(Err(r)) => {
            let errors = [FieldError { id: on_reject(&r), message: rejection_message(&r) }];
            visit_response(state, user, id, visit, typed, &errors)
        }
        Err(e) => server_error(state, user, &e),
    }
}

pub async fn correct_visit(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, visit)): Path<(String, String)>,
    Form(fields): Form<Fields>,
) -> Response {
    if let Err(r) = user.may_post(field(&fields, "csrf"), Action::Broker) {
        return *r;
    }
    let (id, visit) = (AssignmentId(id), VisitId(visit));
    let typed = VisitTyped {
        on: field(&fields, "correct-on").trim().to_owned(),
        half_days: field(&fields, "correct-half_days").trim().to_owned(),
        note: field(&fields, "correct-note").trim().to_owned(),
        ..Default::default()
    };
    let (on, half_days) = match visit_values(&typed.on, &typed.half_days, "correct") {
        Ok(v) => v,
        Err(errors) => return visit_response(&state, &user, &id, &visit, &typed, &errors),
    };
    let command = Command::CorrectVisit(CorrectVisit {
        assignment: id.clone(),
        visit: visit.clone(),
        on,
        half_days,
        note: note(&typed.note),
    });
    visit_act(&state, &user, (&id, &visit), command, &typed, |r| {
        field_of(r, "correct", &["on", "half_days", "note"])
    })
    .await
}

pub async fn void_visit(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, visit)): Path<(String, String)>,
    Form(fields): Form<Fields>,
) -> Response {
    if let Err(r) = user.may_post(field(&fields, "csrf"), Action::Broker) {
        return *r;
    }
    let (id, visit) = (AssignmentId(id), VisitId(visit));
    let typed = VisitTyped {
        reason: field(&fields, "void-reason").trim().to_owned(),
        ..Default::default()
    };
    if typed.reason.is_empty() {
        let errors = [FieldError {
            id: "void-reason".into(),
            message: "Enter why the visit is void".into(),
        }];
        return visit_response(&state, &user, &id, &visit, &typed, &errors);
    }
    let command = Command::VoidVisit(VoidVisit {
        assignment: id.clone(),
        visit: visit.clone(),
        reason: typed.reason.clone(),
    });
    visit_act(&state, &user, (&id, &visit), command, &typed, |_| "void-reason".into()).await
}

/// Emails the receiving school a link to confirm the visit.
pub async fn ask_school(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, visit)): Path<(String, String)>,
    Form(fields): Form<Fields>,
) -> Response {
    if let Err(r) = user.may_post(field(&fields, "csrf"), Action::Broker) {
        return *r;
    }
    let (id, visit) = (AssignmentId(id), VisitId(visit));
    let typed = VisitTyped {
        email: field(&fields, "school-email").trim().to_owned(),
        ..Default::default()
    };
    let kind = super::links::LinkKind::ConfirmVisit;
    match super::links::send_to_school(&state, &id, kind, Some(visit.clone()), &typed.email).await {
        Ok(()) => {
            sent(&state, &user, &format!("/assignments/{}", encode(id.as_str())), &typed.email)
        }
        Err(message) => {
            let errors = [FieldError { id: "school-email".into(), message }];
            visit_response(&state, &user, &id, &visit, &typed, &errors)
        }
    }
}

/// The page after a link was emailed.
pub fn sent(state: &AppState, user: &CurrentUser, back: &str, to: &str) -> Response {
    let body = html! {
        div class="govuk-panel govuk-panel--confirmation" {
            h1 class="govuk-panel__title" { "Link sent" }
            div class="govuk-panel__body" { "To " (to) }
        }
        p class="govuk-body" { "It works once, for 14 days. What the school answers shows in the history." }
        p class="govuk-body" { a class="govuk-link" href=(back) id="back" { "Back" } }
    };
    render(StatusCode::OK, page("Link sent", state.options.la, Some(user), &[], body))
}
