//! Peer-review rounds on the desk (DESIGN.md section 7): the rounds and a
//! form to open one; a round with its enrolled schools, groups and the
//! forms that change them (enrol by phase or URNs, withdraw, form the
//! groups, confirm); a swap or a move checked before it is sent; the rota
//! as a calendar of half-terms; the map of the groups.
//!
//! Every write is one command through `pages::handle`, as `bridges round`
//! sends it; forming runs `rounds::form` (the triads solver in process,
//! the POST waiting for it, within the `[solver]` time limit). A swap or a move is first shown with every
//! hard rule of each group it changes, holding or broken, by the domain's
//! own `check_swap` / `check_move`; the engine still decides when it is
//! sent. No rule lives here. Reading needs `Action::Read`, every write
//! `Action::Coordinate`.

use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use bridges_schemas::commands::{
    Command, ConfirmRound, EnrolSchools, MoveSchool, OpenRound, Rejection, SwapSchools,
    WithdrawFromRound,
};
use bridges_schemas::events::RoundId;
use bridges_schemas::vocab::{AcademicYearId, UserId};
use bridges_schemas::{Period, Phase, SameTrust, Urn};
use maud::{Markup, html};
use uuid::Uuid;

use super::AppState;
use super::accounts::Action;
use super::auth::CurrentUser;
use super::layout::{self, FieldError, page};
use super::pages::{
    Fields, encode, field, handle, not_found, rejection_message, render, server_error,
};
use crate::domain::State as DomainState;
use crate::domain::calendar::{Calendar, london_date};
use crate::domain::round::{self, GroupCheck};
use crate::domain::state::Round;
use crate::handle::Outcome;
use crate::rounds::{self, export, words};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/rounds", get(list).post(open))
        .route("/rounds/{id}", get(round_page))
        .route("/rounds/{id}/enrol", post(enrol))
        .route("/rounds/{id}/withdraw", post(withdraw))
        .route("/rounds/{id}/form", post(form))
        .route("/rounds/{id}/swap", get(swap_page).post(swap))
        .route("/rounds/{id}/move", get(move_page).post(move_school))
        .route("/rounds/{id}/confirm", post(confirm))
        .route("/rounds/{id}/rota", get(rota))
        .route("/rounds/{id}/map", get(map))
}

// --- the rounds --------------------------------------------------------------------

/// One round in the list.
#[derive(Debug, Clone, PartialEq)]
pub struct RoundRow {
    pub id: String,
    pub year: String,
    pub status: &'static str,
    pub enrolled: usize,
    pub groups: usize,
}

/// Every round, newest academic year first.
pub fn round_rows(state: &DomainState) -> Vec<RoundRow> {
    let mut rows: Vec<RoundRow> = state
        .rounds
        .values()
        .map(|r| RoundRow {
            id: r.id.to_string(),
            year: r.year.to_string(),
            status: status(r),
            enrolled: r.enrolled.len(),
            groups: r.groups.len(),
        })
        .collect();
    rows.sort_by(|a, b| b.year.cmp(&a.year).then(a.id.cmp(&b.id)));
    rows
}

/// The open-a-round form's values, as typed.
#[derive(Debug, Clone, Default)]
struct OpenForm {
    round: String,
    year: String,
    periods: String,
}

pub async fn list(State(state): State<AppState>, user: CurrentUser) -> Response {
    state.count();
    if let Err(r) = user.require(Action::Read) {
        return *r;
    }
    let year = planning_year(&state);
    list_response(&state, &user, &OpenForm { year, ..Default::default() }, &[]).await
}

async fn list_response(
    state: &AppState,
    user: &CurrentUser,
    form: &OpenForm,
    errors: &[FieldError],
) -> Response {
    let rows = match state.engine.read(round_rows).await {
        Ok(rows) => rows,
        Err(e) => return server_error(state, user, &e.to_string()),
    };
    let mut years: Vec<(String, String)> = Vec::new();
    for h in &state.engine.rules().calendar.half_terms {
        if !years.iter().any(|(y, _)| *y == h.year.as_str()) {
            years.push((h.year.to_string(), h.year.to_string()));
        }
    }
    let body = html! {
        h1 class="govuk-heading-l" { "Peer-review rounds" }
        @if rows.is_empty() {
            p class="govuk-body" { "No round has been opened yet." }
        } @else {
            table class="govuk-table" {
                (layout::table_head("Peer-review rounds", false, &[("Round", false), ("Academic year", false), ("Status", false), ("Schools enrolled", true), ("Groups", true)]))
                tbody class="govuk-table__body" {
                    @for r in &rows {
                        tr class="govuk-table__row" {
                            td class="govuk-table__cell" { a class="govuk-link" href=(round_path(&r.id, "")) { (r.id) } }
                            td class="govuk-table__cell" { (r.year) }
                            td class="govuk-table__cell" { (status_tag(r.status)) }
                            td class="govuk-table__cell govuk-table__cell--numeric" { (r.enrolled) }
                            td class="govuk-table__cell govuk-table__cell--numeric" { (r.groups) }
                        }
                    }
                }
            }
        }
        @if user.may(Action::Coordinate) {
            h2 class="govuk-heading-m" { "Open a round" }
            div class="govuk-grid-row" {
                div class="govuk-grid-column-two-thirds" {
                    form method="post" action="/rounds" novalidate {
                        input type="hidden" name="csrf" value=(user.csrf);
                        (layout::text_input("round", "Round reference", Some("For example 2026-27-primary: letters, digits, - or _"), &form.round, "govuk-input--width-20", errors))
                        (layout::select("year", "Academic year", &years, &form.year, errors))
                        (layout::text_input("periods", "Half-terms reviews are hosted in (optional)", Some("For example 2026-AU2, 2027-SP1, 2027-SP2. Leave blank for every half-term of the year not yet ended"), &form.periods, "govuk-input--width-30", errors))
                        button type="submit" class="govuk-button" data-module="govuk-button" { "Open the round" }
                    }
                }
            }
        }
    };
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    render(status, page("Peer-review rounds", state.options.la, Some(user), errors, body))
}

pub async fn open(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(fields): Form<Fields>,
) -> Response {
    if let Err(r) = user.may_post(field(&fields, "csrf"), Action::Coordinate) {
        return *r;
    }
    let form = OpenForm {
        round: field(&fields, "round").trim().to_owned(),
        year: field(&fields, "year").trim().to_owned(),
        periods: field(&fields, "periods").trim().to_owned(),
    };
    let periods: Vec<Period> = words_of(&form.periods).map(|p| Period(p.to_owned())).collect();
    let command = Command::OpenRound(OpenRound {
        round: RoundId(form.round.clone()),
        year: AcademicYearId(form.year.clone()),
        periods: (!periods.is_empty()).then_some(periods),
    });
    match handle(&state, &user, command).await {
        Ok(Ok(())) => Redirect::to(&round_path(&form.round, "")).into_response(),
        Ok(Err(r)) => {
            let id = match r.field.as_str() {
                "year" | "periods" => r.field.clone(),
                _ => "round".to_owned(),
            };
            let errors = [FieldError { id, message: rejection_message(&r) }];
            list_response(&state, &user, &form, &errors).await
        }
        Err(e) => server_error(&state, &user, &e),
    }
}

// --- one round ---------------------------------------------------------------------

/// An enrolled school as the round's pages show it.
#[derive(Debug, Clone, PartialEq)]
pub struct SchoolRow {
    pub urn: Urn,
    /// `100001 Cherry Lane Primary`.
    pub label: String,
    pub phase: String,
    pub standing: &'static str,
    pub group: Option<u32>,
}

/// A group as the round's page shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupRow {
    pub group: u32,
    /// Each member's label and the half-term it hosts in.
    pub members: Vec<(String, String)>,
    pub why: String,
}

/// What a round's page shows.
#[derive(Debug, Clone, PartialEq)]
pub struct RoundView {
    pub id: String,
    pub year: String,
    pub status: &'static str,
    /// Each half-term with its dates, as text.
    pub periods: Vec<String>,
    /// The round's hard rules, in words.
    pub policy: Vec<String>,
    pub enrolled: Vec<SchoolRow>,
    /// (label, reason).
    pub withdrawn: Vec<(String, String)>,
    /// The last forming, in words.
    pub formed: Option<String>,
    pub changes: Vec<String>,
    pub groups: Vec<GroupRow>,
    /// (label, why).
    pub unplaced: Vec<(String, String)>,
    pub changeable: bool,
    pub totals: String,
}

/// The view of `round`.
pub fn round_view(state: &DomainState, round: &Round, calendar: &Calendar) -> RoundView {
    let p = &round.policy;
    let four = p.allow_groups_of_4 && round.periods.len() >= 4;
    let mut policy = vec![match four {
        true => "Groups of 3 schools, or 4".to_owned(),
        false => "Groups of 3 schools".to_owned(),
    }];
    if p.phase_pools {
        policy.push("The schools of a group are of one phase".to_owned());
    }
    if p.same_trust == SameTrust::Forbid {
        policy.push("No two schools of a group share a trust".to_owned());
    }
    if let Some(km) = p.max_distance_km {
        policy.push(format!("Every two schools of a group are within {km} km"));
    }
    if p.require_good_or_better {
        policy.push("Each group has a school whose standing is strong or secure".to_owned());
    }
    policy.push(format!(
        "No two schools grouped in a confirmed round of this academic year or the {} before",
        crate::views::count(round.history_years as usize, "year")
    ));
    let formed = round.formed.as_ref().map(|f| {
        format!(
            "{} groups, {} unplaced: {} of at most {} schools placed ({}, {:.1} s)",
            round.groups.len(),
            round.unplaced.len(),
            f.objective,
            f.bound,
            f.status,
            f.seconds
        )
    });
    let ledger = export::ledger(state, round);
    RoundView {
        id: round.id.to_string(),
        year: round.year.to_string(),
        status: status(round),
        periods: round.periods.iter().map(|p| period_text(calendar, p)).collect(),
        policy,
        enrolled: round
            .enrolled
            .iter()
            .map(|&urn| SchoolRow {
                urn,
                label: label(state, urn),
                phase: state.schools.get(&urn).map(|s| s.phase.to_string()).unwrap_or_default(),
                standing: standing(state, urn),
                group: round.group_of(urn),
            })
            .collect(),
        withdrawn: round.withdrawn.iter().map(|(u, why)| (label(state, *u), why.clone())).collect(),
        formed,
        changes: round.changes.clone(),
        groups: round
            .groups
            .values()
            .map(|g| GroupRow {
                group: g.group,
                members: g
                    .members
                    .iter()
                    .map(|u| {
                        let hosts = g.hosts.iter().find(|h| h.host == *u);
                        (label(state, *u), hosts.map_or("–".to_owned(), |h| h.period.to_string()))
                    })
                    .collect(),
                why: words::reasons(g),
            })
            .collect(),
        unplaced: round
            .unplaced
            .values()
            .map(|u| (label(state, u.urn), u.detail.clone()))
            .collect(),
        changeable: !round.confirmed && !round.closed,
        totals: format!(
            "{} reviews ({} held), {} reviewer days, {}",
            ledger.reviews.len(),
            ledger.held,
            export::days(ledger.reviewer_days),
            crate::render::money(ledger.cost_pence)
        ),
    }
}

/// The values typed in a round page's forms.
#[derive(Debug, Clone, Default)]
struct RoundForms {
    phase: String,
    urns: String,
    withdraw_urn: String,
    reason: String,
}

pub async fn round_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Response {
    state.count();
    if let Err(r) = user.require(Action::Read) {
        return *r;
    }
    let forms = RoundForms { phase: "primary".into(), ..Default::default() };
    round_response(&state, &user, &id, &forms, &[]).await
}

async fn round_response(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    forms: &RoundForms,
    errors: &[FieldError],
) -> Response {
    let calendar = &state.engine.rules().calendar;
    let rid = RoundId(id.to_owned());
    let view =
        match state.engine.read(|s| s.rounds.get(&rid).map(|r| round_view(s, r, calendar))).await {
            Ok(Some(v)) => v,
            Ok(None) => return not_found(State(state.clone())).await,
            Err(e) => return server_error(state, user, &e.to_string()),
        };
    let coordinate = user.may(Action::Coordinate);
    let phases: Vec<(String, String)> =
        Phase::ALL.iter().map(|p| (p.as_str().to_owned(), p.as_str().to_owned())).collect();
    let schools: Vec<(String, String)> =
        std::iter::once((String::new(), "Choose a school".to_owned()))
            .chain(view.enrolled.iter().map(|s| (s.urn.to_string(), s.label.clone())))
            .collect();
    let title = format!("Round {}", view.id);
    let formed = view.formed.is_some();
    let body = html! {
        a href="/rounds" class="govuk-back-link" { "Peer-review rounds" }
        h1 class="govuk-heading-l" { (title) }
        dl class="govuk-summary-list" {
            (fact("Academic year", html! { (view.year) }))
            (fact("Status", status_tag(view.status)))
            (fact("Half-terms", html! { ul class="govuk-list" { @for p in &view.periods { li { (p) } } } }))
            (fact("Hard rules", html! { ul class="govuk-list govuk-list--bullet" { @for p in &view.policy { li { (p) } } } }))
            (fact("Schools", html! { (view.enrolled.len()) " enrolled, " (view.withdrawn.len()) " withdrawn" }))
            @if let Some(f) = &view.formed {
                (fact("Formed", html! { (f) }))
                (fact("Reviews", html! { (view.totals) }))
            }
            @if !view.changes.is_empty() {
                (fact("Changed by hand", html! { ul class="govuk-list" { @for c in &view.changes { li { (c) } } } }))
            }
        }
        @if formed {
            ul class="govuk-list" {
                li { a class="govuk-link" href=(round_path(&view.id, "/rota")) { "The rota, by half-term" } }
                li { a class="govuk-link" href=(round_path(&view.id, "/map")) { "The map of the groups" } }
            }
        }
        @if coordinate && view.changeable {
            h2 class="govuk-heading-m" { "Enrol schools" }
            div class="govuk-grid-row" {
                div class="govuk-grid-column-one-half" {
                    form method="post" action=(round_path(&view.id, "/enrol")) novalidate {
                        input type="hidden" name="csrf" value=(user.csrf);
                        input type="hidden" name="by" value="phase";
                        (layout::select("phase", "Every open school of the LA in a phase", &phases, &forms.phase, errors))
                        button type="submit" class="govuk-button govuk-button--secondary" data-module="govuk-button" id="enrol-phase" { "Enrol the phase" }
                    }
                }
                div class="govuk-grid-column-one-half" {
                    form method="post" action=(round_path(&view.id, "/enrol")) novalidate {
                        input type="hidden" name="csrf" value=(user.csrf);
                        input type="hidden" name="by" value="urns";
                        (layout::text_input("urns", "Schools by URN", Some("Separated by spaces or commas, for example 102400 102401"), &forms.urns, "govuk-input--width-20", errors))
                        button type="submit" class="govuk-button govuk-button--secondary" data-module="govuk-button" id="enrol-urns" { "Enrol the schools" }
                    }
                }
            }
            h2 class="govuk-heading-m" { "Form the groups" }
            p class="govuk-body" {
                "The solver groups the enrolled schools under the hard rules, with the groups of earlier confirmed rounds as history. "
                @if let Some(limit) = state.options.solve.time_limit { "It may take up to " (limit) " seconds. " }
                "Forming again replaces the groups and every change made by hand."
            }
            form method="post" action=(round_path(&view.id, "/form")) novalidate {
                input type="hidden" name="csrf" value=(user.csrf);
                (button_with_error("form-groups", if formed { "Form the groups again" } else { "Form the groups" }, formed, errors))
            }
        }
        @if formed {
            h2 class="govuk-heading-m" id="groups" { "Groups" }
            @if coordinate && view.changeable {
                p class="govuk-body" {
                    a class="govuk-link" href=(round_path(&view.id, "/swap")) { "Swap two schools" }
                    " or "
                    a class="govuk-link" href=(round_path(&view.id, "/move")) { "move a school" }
                    ": each change is checked against every hard rule before you make it."
                }
            }
            @if view.groups.is_empty() {
                p class="govuk-body" { "No group could be formed." }
            } @else {
                table class="govuk-table" {
                    (layout::table_head("Groups", false, &[("Group", true), ("Schools and the half-term each hosts in", false), ("Why it is a good group", false)]))
                    tbody class="govuk-table__body" {
                        @for g in &view.groups {
                            tr class="govuk-table__row" {
                                th scope="row" class="govuk-table__header govuk-table__header--numeric" { (g.group) }
                                td class="govuk-table__cell" {
                                    ul class="govuk-list" {
                                        @for (school, hosts) in &g.members { li { (school) ", hosts in " (hosts) } }
                                    }
                                }
                                td class="govuk-table__cell" { (g.why) }
                            }
                        }
                    }
                }
            }
            @if !view.unplaced.is_empty() {
                table class="govuk-table" {
                    (layout::table_head("Schools not placed in a group", true, &[("School", false), ("Why", false)]))
                    tbody class="govuk-table__body" {
                        @for (school, why) in &view.unplaced {
                            tr class="govuk-table__row" {
                                td class="govuk-table__cell" { (school) }
                                td class="govuk-table__cell" { (why) }
                            }
                        }
                    }
                }
            }
            @if coordinate && view.changeable {
                h2 class="govuk-heading-m" { "Confirm the round" }
                p class="govuk-body" { "Confirming publishes the rota; the groups then stand, and count as history for later rounds." }
                form method="post" action=(round_path(&view.id, "/confirm")) novalidate {
                    input type="hidden" name="csrf" value=(user.csrf);
                    (button_with_error("confirm", "Confirm the groups and publish the rota", false, errors))
                }
            }
        }
        h2 class="govuk-heading-m" { "Enrolled schools" }
        @if view.enrolled.is_empty() {
            p class="govuk-body" { "None yet." }
        } @else {
            table class="govuk-table" {
                (layout::table_head("Enrolled schools", false, &[("School", false), ("Phase", false), ("Standing", false), ("Group", true)]))
                tbody class="govuk-table__body" {
                    @for s in &view.enrolled {
                        tr class="govuk-table__row" {
                            td class="govuk-table__cell" { (s.label) }
                            td class="govuk-table__cell" { (s.phase) }
                            td class="govuk-table__cell" { (s.standing) }
                            td class="govuk-table__cell govuk-table__cell--numeric" {
                                @match s.group { Some(g) => { (g) }, None if formed => { "unplaced" }, None => { "–" } }
                            }
                        }
                    }
                }
            }
        }
        @if coordinate && !view.enrolled.is_empty() && view.status != "closed" {
            h2 class="govuk-heading-m" { "Withdraw a school" }
            div class="govuk-grid-row" {
                div class="govuk-grid-column-two-thirds" {
                    form method="post" action=(round_path(&view.id, "/withdraw")) novalidate {
                        input type="hidden" name="csrf" value=(user.csrf);
                        (layout::select("withdraw_urn", "School", &schools, &forms.withdraw_urn, errors))
                        (layout::text_input("reason", "Why it withdraws", None, &forms.reason, "govuk-!-width-full", errors))
                        button type="submit" class="govuk-button govuk-button--warning" data-module="govuk-button" { "Withdraw the school" }
                    }
                }
            }
        }
        @if !view.withdrawn.is_empty() {
            table class="govuk-table" {
                (layout::table_head("Withdrawn schools", true, &[("School", false), ("Why", false)]))
                tbody class="govuk-table__body" {
                    @for (school, why) in &view.withdrawn {
                        tr class="govuk-table__row" {
                            td class="govuk-table__cell" { (school) }
                            td class="govuk-table__cell" { (why) }
                        }
                    }
                }
            }
        }
    };
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    render(status, page(&title, state.options.la, Some(user), errors, body))
}

pub async fn enrol(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(fields): Form<Fields>,
) -> Response {
    if let Err(r) = user.may_post(field(&fields, "csrf"), Action::Coordinate) {
        return *r;
    }
    let by_phase = field(&fields, "by") == "phase";
    let forms = RoundForms {
        phase: field(&fields, "phase").to_owned(),
        urns: field(&fields, "urns").trim().to_owned(),
        ..Default::default()
    };
    let (phase, urns) = match by_phase {
        true => match Phase::ALL.into_iter().find(|p| p.as_str() == forms.phase) {
            Some(p) => (Some(p), Vec::new()),
            None => {
                let errors = [FieldError { id: "phase".into(), message: "Choose a phase".into() }];
                return round_response(&state, &user, &id, &forms, &errors).await;
            }
        },
        false => {
            let parsed: Option<Vec<Urn>> = words_of(&forms.urns).map(urn).collect();
            match parsed {
                Some(urns) if !urns.is_empty() => (None, urns),
                _ => {
                    let errors = [FieldError {
                        id: "urns".into(),
                        message: "Enter the schools' URNs, numbers such as 102400 102401".into(),
                    }];
                    return round_response(&state, &user, &id, &forms, &errors).await;
                }
            }
        }
    };
    let command = Command::EnrolSchools(EnrolSchools { round: RoundId(id.clone()), urns, phase });
    match handle(&state, &user, command).await {
        Ok(Ok(())) => Redirect::to(&round_path(&id, "")).into_response(),
        Ok(Err(r)) => {
            let id_of = if by_phase { "phase" } else { "urns" };
            let errors = [FieldError { id: id_of.into(), message: refusal(&r) }];
            round_response(&state, &user, &id, &forms, &errors).await
        }
        Err(e) => server_error(&state, &user, &e),
    }
}

pub async fn withdraw(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(fields): Form<Fields>,
) -> Response {
    if let Err(r) = user.may_post(field(&fields, "csrf"), Action::Coordinate) {
        return *r;
    }
    let forms = RoundForms {
        phase: "primary".into(),
        withdraw_urn: field(&fields, "withdraw_urn").to_owned(),
        reason: field(&fields, "reason").trim().to_owned(),
        ..Default::default()
    };
    let Some(school) = urn(&forms.withdraw_urn) else {
        let errors =
            [FieldError { id: "withdraw_urn".into(), message: "Choose the school".into() }];
        return round_response(&state, &user, &id, &forms, &errors).await;
    };
    let command = Command::WithdrawFromRound(WithdrawFromRound {
        round: RoundId(id.clone()),
        urn: school,
        reason: forms.reason.clone(),
    });
    match handle(&state, &user, command).await {
        Ok(Ok(())) => Redirect::to(&round_path(&id, "")).into_response(),
        Ok(Err(r)) => {
            let id_of = if r.field == "reason" { "reason" } else { "withdraw_urn" };
            let errors = [FieldError { id: id_of.into(), message: refusal(&r) }];
            round_response(&state, &user, &id, &forms, &errors).await
        }
        Err(e) => server_error(&state, &user, &e),
    }
}

/// Forms the round as `bridges round form` does, waiting for the solver.
pub async fn form(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(fields): Form<Fields>,
) -> Response {
    if let Err(r) = user.may_post(field(&fields, "csrf"), Action::Coordinate) {
        return *r;
    }
    let rid = RoundId(id.clone());
    let formed = rounds::form(
        &state.engine,
        &rid,
        Uuid::new_v4().simple().to_string(),
        UserId(user.user.0.clone()),
        state.options.clock.now(),
        &state.options.solve,
    )
    .await;
    let refused = |message: String| [FieldError { id: "form-groups".into(), message }];
    let forms = RoundForms { phase: "primary".into(), ..Default::default() };
    match formed {
        Ok(f) => match f.recorded {
            Outcome::Rejected(r) => {
                round_response(&state, &user, &id, &forms, &refused(refusal(&r))).await
            }
            _ => {
                tracing::info!(round = %rid, seconds = f.solve_seconds, groups = f.plan.groups.len(), "round formed");
                Redirect::to(&round_path(&id, "")).into_response()
            }
        },
        Err(rounds::FormError::UnknownRound(_)) => not_found(State(state.clone())).await,
        Err(rounds::FormError::Problem(why)) => {
            let message = format!("The round cannot be formed: {why}");
            round_response(&state, &user, &id, &forms, &refused(message)).await
        }
        Err(e) => server_error(&state, &user, &e.to_string()),
    }
}

pub async fn confirm(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(fields): Form<Fields>,
) -> Response {
    if let Err(r) = user.may_post(field(&fields, "csrf"), Action::Coordinate) {
        return *r;
    }
    let command = Command::ConfirmRound(ConfirmRound { round: RoundId(id.clone()) });
    match handle(&state, &user, command).await {
        Ok(Ok(())) => Redirect::to(&round_path(&id, "/rota")).into_response(),
        Ok(Err(r)) => {
            let errors = [FieldError { id: "confirm".into(), message: refusal(&r) }];
            let forms = RoundForms { phase: "primary".into(), ..Default::default() };
            round_response(&state, &user, &id, &forms, &errors).await
        }
        Err(e) => server_error(&state, &user, &e),
    }
}

// --- swapping and moving -------------------------------------------------------------

/// A change of the groups by hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Change {
    Swap,
    Move,
}

impl Change {
    /// The names of its two fields.
    fn fields(self) -> (&'static str, &'static str) {
        match self {
            Change::Swap => ("a", "b"),
            Change::Move => ("urn", "to"),
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Change::Swap => "swap",
            Change::Move => "move",
        }
    }

    fn path(self) -> &'static str {
        match self {
            Change::Swap => "/swap",
            Change::Move => "/move",
        }
    }

    /// The command of the values typed, or what is missing.
    fn command(self, round: &str, first: &str, second: &str) -> Result<Command, Vec<FieldError>> {
        let round = RoundId(round.to_owned());
        let (f1, f2) = self.fields();
        let mut errors = Vec::new();
        let one = urn(first);
        if one.is_none() {
            let message = match self {
                Change::Swap => "Choose the first school",
                Change::Move => "Choose the school to move",
            };
            errors.push(FieldError { id: f1.into(), message: message.into() });
        }
        let command = match self {
            Change::Swap => {
                let two = urn(second);
                if two.is_none() {
                    let message = "Choose the school to swap it with";
                    errors.push(FieldError { id: f2.into(), message: message.into() });
                }
                one.zip(two).map(|(a, b)| Command::SwapSchools(SwapSchools { round, a, b }))
            }
            Change::Move => {
                let to = match second {
                    "out" => Some(None),
                    n => n.parse::<u32>().ok().map(Some),
                };
                if to.is_none() {
                    let message = "Choose the group to move it to, or out of its group";
                    errors.push(FieldError { id: f2.into(), message: message.into() });
                }
                one.zip(to).map(|(urn, to)| Command::MoveSchool(MoveSchool { round, urn, to }))
            }
        };
        command.ok_or(errors)
    }

    /// The field a rejection of it is shown by: the school it names, else
    /// the second (a broken rule is of where the school would go).
    fn field_of(self, r: &Rejection) -> String {
        let (f1, f2) = self.fields();
        match r.field.as_str() {
            f if f == f1 => f1.to_owned(),
            _ => f2.to_owned(),
        }
    }
}

/// A group a change would make, as the check shows it.
#[derive(Debug, Clone, PartialEq)]
struct CheckView {
    group: u32,
    members: Vec<String>,
    /// (rule, breach).
    rules: Vec<(&'static str, Option<String>)>,
}

/// What a change page shows.
#[derive(Debug, Clone, PartialEq)]
struct ChangeView {
    round: String,
    changeable: bool,
    schools: Vec<(String, String)>,
    groups: Vec<(String, String)>,
    check: Option<Result<Vec<CheckView>, Rejection>>,
}

fn change_view(state: &DomainState, round: &Round, command: Option<&Command>) -> ChangeView {
    let place = |u: Urn| match round.group_of(u) {
        Some(g) => format!("group {g}"),
        None => "unplaced".to_owned(),
    };
    let schools = std::iter::once((String::new(), "Choose a school".to_owned()))
        .chain(
            round
                .enrolled
                .iter()
                .map(|&u| (u.to_string(), format!("{} ({})", label(state, u), place(u)))),
        )
        .collect();
    let groups = std::iter::once((String::new(), "Choose a group".to_owned()))
        .chain(round.groups.values().map(|g| {
            (g.group.to_string(), format!("Group {} ({} schools)", g.group, g.members.len()))
        }))
        .chain(std::iter::once(("out".to_owned(), "Out of its group (unplaced)".to_owned())))
        .collect();
    let check = command.map(|c| {
        let checks = match c {
            Command::SwapSchools(c) => round::check_swap(state, c),
            Command::MoveSchool(c) => round::check_move(state, c),
            _ => Ok(Vec::new()),
        };
        checks.map(|checks| checks.iter().map(|g| check_view(state, g)).collect())
    });
    ChangeView {
        round: round.id.to_string(),
        changeable: !round.confirmed && !round.closed && round.formed.is_some(),
        schools,
        groups,
        check,
    }
}

fn check_view(state: &DomainState, g: &GroupCheck) -> CheckView {
    CheckView {
        group: g.group,
        members: g.members.iter().map(|u| label(state, *u)).collect(),
        rules: g.rules.iter().map(|r| (r.rule, r.broken.as_ref().map(rejection_message))).collect(),
    }
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct SwapQuery {
    a: Option<String>,
    b: Option<String>,
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct MoveQuery {
    urn: Option<String>,
    to: Option<String>,
}

pub async fn swap_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Query(q): Query<SwapQuery>,
) -> Response {
    state.count();
    change_page(&state, &user, &id, Change::Swap, q.a, q.b).await
}

pub async fn move_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Query(q): Query<MoveQuery>,
) -> Response {
    state.count();
    change_page(&state, &user, &id, Change::Move, q.urn, q.to).await
}

/// The change page of a GET: the form, and the check of what it names.
async fn change_page(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    change: Change,
    first: Option<String>,
    second: Option<String>,
) -> Response {
    if let Err(r) = user.require(Action::Read) {
        return *r;
    }
    let (first, second) = (first.unwrap_or_default(), second.unwrap_or_default());
    let asked = !first.is_empty() || !second.is_empty();
    let (command, errors) = match (asked, change.command(id, &first, &second)) {
        (false, _) => (None, Vec::new()),
        (true, Ok(c)) => (Some(c), Vec::new()),
        (true, Err(errors)) => (None, errors),
    };
    change_response(state, user, id, change, (&first, &second), command.as_ref(), errors).await
}

pub async fn swap(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(fields): Form<Fields>,
) -> Response {
    change_post(&state, &user, &id, Change::Swap, &fields).await
}

pub async fn move_school(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(fields): Form<Fields>,
) -> Response {
    change_post(&state, &user, &id, Change::Move, &fields).await
}

/// A swap or a move sent: the engine decides; its refusal is shown by the
/// field it names, with the check of the same change.
async fn change_post(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    change: Change,
    fields: &Fields,
) -> Response {
    if let Err(r) = user.may_post(field(fields, "csrf"), Action::Coordinate) {
        return *r;
    }
    let (f1, f2) = change.fields();
    let values = (field(fields, f1).trim(), field(fields, f2).trim());
    let command = match change.command(id, values.0, values.1) {
        Ok(c) => c,
        Err(errors) => return change_response(state, user, id, change, values, None, errors).await,
    };
    match handle(state, user, command.clone()).await {
        Ok(Ok(())) => Redirect::to(&format!("{}#groups", round_path(id, ""))).into_response(),
        Ok(Err(r)) => {
            let errors = vec![FieldError { id: change.field_of(&r), message: refusal(&r) }];
            change_response(state, user, id, change, values, Some(&command), errors).await
        }
        Err(e) => server_error(state, user, &e),
    }
}

async fn change_response(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    change: Change,
    (first, second): (&str, &str),
    command: Option<&Command>,
    mut errors: Vec<FieldError>,
) -> Response {
    let rid = RoundId(id.to_owned());
    let view =
        match state.engine.read(|s| s.rounds.get(&rid).map(|r| change_view(s, r, command))).await {
            Ok(Some(v)) => v,
            Ok(None) => return not_found(State(state.clone())).await,
            Err(e) => return server_error(state, user, &e.to_string()),
        };
    // A change that cannot be made at all is refused by the check itself.
    if let Some(Err(r)) = &view.check
        && errors.is_empty()
    {
        errors.push(FieldError { id: change.field_of(r), message: refusal(r) });
    }
    let (f1, f2) = change.fields();
    let noun = change.noun();
    let title = match change {
        Change::Swap => "Swap two schools",
        Change::Move => "Move a school",
    };
    let checks = match &view.check {
        Some(Ok(checks)) => Some(checks),
        _ => None,
    };
    let broken =
        checks.map_or(0, |c| c.iter().flat_map(|g| &g.rules).filter(|(_, b)| b.is_some()).count());
    let body = html! {
        a href=(format!("{}#groups", round_path(&view.round, ""))) class="govuk-back-link" { "Round " (view.round) }
        h1 class="govuk-heading-l" { (title) }
        @if !view.changeable {
            p class="govuk-body" { "The groups of this round cannot change: it is not formed yet, or it is confirmed." }
        }
        p class="govuk-body" {
            @match change {
                Change::Swap => { "Two schools exchange their places; one of them may be unplaced. " }
                Change::Move => { "A school joins another group, or leaves its own. " }
            }
            "Check the " (noun) " first: every hard rule of each group it changes is shown, holding or broken."
        }
        form method="get" action=(round_path(&view.round, change.path())) novalidate {
            @match change {
                Change::Swap => {
                    (layout::select(f1, "School", &view.schools, first, &errors))
                    (layout::select(f2, "Swap it with", &view.schools, second, &errors))
                }
                Change::Move => {
                    (layout::select(f1, "School", &view.schools, first, &errors))
                    (layout::select(f2, "Move it to", &view.groups, second, &errors))
                }
            }
            button type="submit" class="govuk-button govuk-button--secondary" data-module="govuk-button" id="check" { "Check the " (noun) }
        }
        @if let Some(checks) = checks {
            h2 class="govuk-heading-m" { "What the " (noun) " would make" }
            @for g in checks {
                table class="govuk-table" {
                    caption class="govuk-table__caption govuk-table__caption--s" {
                        "Group " (g.group) " after the " (noun) ": " (g.members.join(", "))
                    }
                    thead class="govuk-table__head" {
                        tr class="govuk-table__row" {
                            th scope="col" class="govuk-table__header" { "Hard rule" }
                            th scope="col" class="govuk-table__header" { "Holds" }
                            th scope="col" class="govuk-table__header" { "Why not" }
                        }
                    }
                    tbody class="govuk-table__body" {
                        @for (rule, breach) in &g.rules {
                            tr class="govuk-table__row" id=(format!("rule-{}-{rule}", g.group)) {
                                th scope="row" class="govuk-table__header" { (rule_name(rule)) }
                                td class="govuk-table__cell" {
                                    @match breach { Some(_) => { (layout::tag("Broken", "red")) }, None => { (layout::tag("Holds", "green")) } }
                                }
                                td class="govuk-table__cell" { @match breach { Some(why) => { (why) }, None => { "–" } } }
                            }
                        }
                    }
                }
            }
            @if broken == 0 {
                div class="govuk-inset-text" id="verdict-holds" { "Every hard rule holds for the groups this " (noun) " changes." }
            } @else {
                div class="govuk-warning-text" id="verdict-breaks" {
                    span class="govuk-warning-text__icon" aria-hidden="true" { "!" }
                    strong class="govuk-warning-text__text" {
                        span class="govuk-visually-hidden" { "Warning" }
                        "This " (noun) " breaks " (if broken == 1 { "a hard rule".to_owned() } else { format!("{broken} hard rules") }) ": the engine will refuse it."
                    }
                }
            }
            @if user.may(Action::Coordinate) && view.changeable {
                form method="post" action=(round_path(&view.round, change.path())) novalidate {
                    input type="hidden" name="csrf" value=(user.csrf);
                    input type="hidden" name=(f1) value=(first);
                    input type="hidden" name=(f2) value=(second);
                    button type="submit" class="govuk-button" data-module="govuk-button" id="make-change" {
                        @match change { Change::Swap => { "Swap the schools" }, Change::Move => { "Move the school" } }
                    }
                }
            }
        }
    };
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    render(status, page(title, state.options.la, Some(user), &errors, body))
}

// --- the rota and the map --------------------------------------------------------------

/// One half-term of the rota: its heading and its reviews.
#[derive(Debug, Clone, PartialEq)]
pub struct RotaPeriod {
    pub heading: String,
    pub reviews: Vec<RotaReview>,
}

/// One review of the rota.
#[derive(Debug, Clone, PartialEq)]
pub struct RotaReview {
    pub group: u32,
    pub host: String,
    pub reviewers: Vec<String>,
    pub days_each: String,
    pub cost: String,
    /// "Planned", or the day it was held and whether its report is shared.
    pub held: String,
}

/// The rota of `round`, by half-term in the round's order.
pub fn rota_of(state: &DomainState, round: &Round, calendar: &Calendar) -> Vec<RotaPeriod> {
    let ledger = export::ledger(state, round);
    round
        .periods
        .iter()
        .map(|p| RotaPeriod {
            heading: period_text(calendar, p),
            reviews: ledger
                .reviews
                .iter()
                .filter(|r| &r.period == p)
                .map(|r| RotaReview {
                    group: r.group,
                    host: label(state, r.host),
                    reviewers: r.reviewers.iter().map(|u| label(state, *u)).collect(),
                    days_each: export::days(r.days_each),
                    cost: crate::render::money(r.cost_pence),
                    held: match (r.held, r.shared) {
                        (Some(d), Some(true)) => format!("Held {}, report shared", long_date(d)),
                        (Some(d), Some(false)) => {
                            format!("Held {}, report not shared", long_date(d))
                        }
                        (Some(d), None) => format!("Held {}", long_date(d)),
                        (None, _) => "Planned".to_owned(),
                    },
                })
                .collect(),
        })
        .collect()
}

pub async fn rota(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Response {
    state.count();
    if let Err(r) = user.require(Action::Read) {
        return *r;
    }
    let calendar = &state.engine.rules().calendar;
    let rid = RoundId(id.clone());
    let found = state
        .engine
        .read(|s| {
            s.rounds.get(&rid).map(|r| (rota_of(s, r, calendar), status(r), r.formed.is_some()))
        })
        .await;
    let (periods, status, formed) = match found {
        Ok(Some(v)) => v,
        Ok(None) => return not_found(State(state.clone())).await,
        Err(e) => return server_error(&state, &user, &e.to_string()),
    };
    let title = format!("Rota of round {id}");
    let body = html! {
        a href=(round_path(&id, "")) class="govuk-back-link" { "Round " (id) }
        h1 class="govuk-heading-l" { (title) }
        p class="govuk-body" { "Round " (id) " is " (status_tag(status)) }
        @if !formed {
            p class="govuk-body" { "The round is not formed yet: there is no rota." }
        } @else {
            @if status != "confirmed" && status != "closed" {
                div class="govuk-inset-text" { "The rota is provisional until the round is confirmed." }
            }
            p class="govuk-body" { "Each group's schools host in turn, one half-term each; the other schools of the group review the host." }
            @for (i, p) in periods.iter().enumerate() {
                h2 class="govuk-heading-m" id=(format!("period-{i}")) { (p.heading) }
                @if p.reviews.is_empty() {
                    p class="govuk-body" { "No review in this half-term." }
                } @else {
                    table class="govuk-table" {
                        (layout::table_head(&format!("Reviews in {}", p.heading), false, &[("Group", true), ("Host", false), ("Reviewers", false), ("Days each", true), ("Cost", true), ("Held", false)]))
                        tbody class="govuk-table__body" {
                            @for r in &p.reviews {
                                tr class="govuk-table__row" {
                                    td class="govuk-table__cell govuk-table__cell--numeric" { (r.group) }
                                    td class="govuk-table__cell" { (r.host) }
                                    td class="govuk-table__cell" { ul class="govuk-list" { @for x in &r.reviewers { li { (x) } } } }
                                    td class="govuk-table__cell govuk-table__cell--numeric" { (r.days_each) }
                                    td class="govuk-table__cell govuk-table__cell--numeric" { (r.cost) }
                                    td class="govuk-table__cell" { (r.held) }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    render(StatusCode::OK, page(&title, state.options.la, Some(&user), &[], body))
}

/// A school on the map: where it is (in the picture's units) and its group.
#[derive(Debug, Clone, PartialEq)]
pub struct MapPoint {
    pub urn: Urn,
    pub label: String,
    pub phase: String,
    pub locality: String,
    pub easting: f64,
    pub northing: f64,
    /// Its place in the picture.
    pub x: f64,
    pub y: f64,
    pub group: Option<u32>,
}

/// The map of a round's groups: its size and every enrolled school.
#[derive(Debug, Clone, PartialEq)]
pub struct MapView {
    pub width: f64,
    pub height: f64,
    pub points: Vec<MapPoint>,
    pub groups: Vec<u32>,
}

/// The map's width, in its own units (it scales to the page).
const MAP_WIDTH: f64 = 760.0;
const MAP_PAD: f64 = 24.0;

/// Colours of the groups in turn, each at least 3:1 against white; every
/// group is also labelled with its number, so no colour is needed to read it.
const PALETTE: [&str; 10] = [
    "#1d70b8", "#d4351c", "#00703c", "#4c2c92", "#d53880", "#003078", "#85500b", "#0b0c0c",
    "#505a5f", "#912b88",
];

/// The enrolled schools at their British National Grid points, north up.
pub fn map_of(state: &DomainState, round: &Round) -> MapView {
    let schools: Vec<_> = round.enrolled.iter().filter_map(|u| state.schools.get(u)).collect();
    let (mut e0, mut e1, mut n0, mut n1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for s in &schools {
        (e0, e1) = (e0.min(s.easting), e1.max(s.easting));
        (n0, n1) = (n0.min(s.northing), n1.max(s.northing));
    }
    let span = (e1 - e0).max(n1 - n0).max(1.0);
    let scale = (MAP_WIDTH - 2.0 * MAP_PAD) / span;
    let height = if schools.is_empty() { 0.0 } else { (n1 - n0) * scale + 2.0 * MAP_PAD };
    let points = schools
        .iter()
        .map(|s| MapPoint {
            urn: s.urn,
            label: label(state, s.urn),
            phase: s.phase.to_string(),
            locality: s.locality().unwrap_or_default().to_owned(),
            easting: s.easting,
            northing: s.northing,
            x: MAP_PAD + (s.easting - e0) * scale,
            y: MAP_PAD + (n1 - s.northing) * scale,
            group: round.group_of(s.urn),
        })
        .collect();
    MapView { width: MAP_WIDTH, height, points, groups: round.groups.keys().copied().collect() }
}

pub async fn map(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Response {
    state.count();
    if let Err(r) = user.require(Action::Read) {
        return *r;
    }
    let rid = RoundId(id.clone());
    let view = match state.engine.read(|s| s.rounds.get(&rid).map(|r| map_of(s, r))).await {
        Ok(Some(v)) => v,
        Ok(None) => return not_found(State(state.clone())).await,
        Err(e) => return server_error(&state, &user, &e.to_string()),
    };
    let title = format!("Map of the groups of round {id}");
    let colour = |g: u32| PALETTE[(g as usize).saturating_sub(1) % PALETTE.len()];
    let mut rows: Vec<&MapPoint> = view.points.iter().collect();
    rows.sort_by_key(|p| (p.group.is_none(), p.group, p.urn));
    let body = html! {
        a href=(round_path(&id, "")) class="govuk-back-link" { "Round " (id) }
        h1 class="govuk-heading-l" { (title) }
        @if view.points.is_empty() {
            p class="govuk-body" { "No school is enrolled." }
        } @else {
            p class="govuk-body" {
                "Each school at its place on the British National Grid, north up. The schools of a group are joined, "
                "drawn in the group's colour and labelled with its number; a school in no group is a grey cross marked U. "
                a class="govuk-link" href="#map-table" { "The table below the map" } " lists the same."
            }
            svg xmlns="http://www.w3.org/2000/svg" viewBox=(format!("0 0 {} {:.0}", view.width, view.height))
                width="100%" role="img" aria-labelledby="map-title map-desc" class="bridges-map" {
                title id="map-title" { (title) }
                desc id="map-desc" { "The same schools and groups are listed in the table below the map." }
                rect width="100%" height="100%" fill="#ffffff" stroke="#505a5f" {}
                @for g in &view.groups {
                    @let members: Vec<&MapPoint> = view.points.iter().filter(|p| p.group == Some(*g)).collect();
                    @let points: Vec<String> = members.iter().map(|p| format!("{:.1},{:.1}", p.x, p.y)).collect();
                    g class="bridges-map__group" data-group=(g) {
                        polygon points=(points.join(" ")) fill=(colour(*g)) fill-opacity="0.12" stroke=(colour(*g)) stroke-width="2" {}
                        @for p in &members {
                            circle cx=(format!("{:.1}", p.x)) cy=(format!("{:.1}", p.y)) r="5" fill=(colour(*g)) {}
                            text x=(format!("{:.1}", p.x + 7.0)) y=(format!("{:.1}", p.y + 4.0)) font-size="13" font-weight="bold" font-family="system-ui, sans-serif"
                                fill=(colour(*g)) stroke="#ffffff" stroke-width="3" paint-order="stroke" { (g) }
                        }
                    }
                }
                @for p in view.points.iter().filter(|p| p.group.is_none()) {
                    path d=(format!("M{:.1},{:.1}l8,8m0,-8l-8,8", p.x - 4.0, p.y - 4.0)) stroke="#505a5f" stroke-width="2" {}
                    text x=(format!("{:.1}", p.x + 7.0)) y=(format!("{:.1}", p.y + 4.0)) font-size="13" font-family="system-ui, sans-serif"
                        fill="#505a5f" stroke="#ffffff" stroke-width="3" paint-order="stroke" { "U" }
                }
            }
            table class="govuk-table" id="map-table" {
                (layout::table_head("The schools on the map, by group", true, &[("Group", false), ("School", false), ("Phase", false), ("Locality", false), ("Easting", true), ("Northing", true)]))
                tbody class="govuk-table__body" {
                    @for p in rows {
                        tr class="govuk-table__row" {
                            td class="govuk-table__cell" {
                                @match p.group {
                                    Some(g) => {
                                        svg width="14" height="14" viewBox="0 0 14 14" aria-hidden="true" focusable="false" class="bridges-map__key" {
                                            rect x="1" y="1" width="12" height="12" fill=(colour(g)) {}
                                        }
                                        " Group " (g)
                                    },
                                    None => { "Unplaced (U)" },
                                }
                            }
                            td class="govuk-table__cell" { (p.label) }
                            td class="govuk-table__cell" { (p.phase) }
                            td class="govuk-table__cell" { (p.locality) }
                            td class="govuk-table__cell govuk-table__cell--numeric" { (format!("{:.0}", p.easting)) }
                            td class="govuk-table__cell govuk-table__cell--numeric" { (format!("{:.0}", p.northing)) }
                        }
                    }
                }
            }
        }
    };
    render(StatusCode::OK, page(&title, state.options.la, Some(&user), &[], body))
}

// --- helpers -------------------------------------------------------------------------

fn round_path(id: &str, rest: &str) -> String {
    format!("/rounds/{}{rest}", encode(id))
}

/// The words of `text`, split at spaces and commas.
fn words_of(text: &str) -> impl Iterator<Item = &str> {
    text.split([' ', ',', '\n', '\t', ';']).map(str::trim).filter(|w| !w.is_empty())
}

fn urn(text: &str) -> Option<Urn> {
    text.trim().parse::<u32>().ok().map(Urn)
}

/// A rejection as the page says it: its reason, and the value it names
/// unless the reason says it already.
fn refusal(r: &Rejection) -> String {
    let reason = rejection_message(r);
    let named = r.value.split(", ").all(|v| reason.contains(v));
    match r.value.is_empty() || named {
        true => reason,
        false => format!("{reason} ({})", r.value),
    }
}

/// A round's status, as `bridges round show` words it.
fn status(round: &Round) -> &'static str {
    if round.closed {
        "closed"
    } else if round.confirmed {
        "confirmed"
    } else if round.formed.is_some() {
        "formed, not confirmed"
    } else {
        "open"
    }
}

fn status_tag(status: &str) -> Markup {
    let colour = match status {
        "open" => "blue",
        "formed, not confirmed" => "yellow",
        "confirmed" => "green",
        _ => "grey",
    };
    let mut text = status.to_owned();
    if let Some(first) = text.get_mut(0..1) {
        first.make_ascii_uppercase();
    }
    layout::tag(&text, colour)
}

/// A hard rule's name, as the check's table shows it.
fn rule_name(rule: &str) -> &'static str {
    match rule {
        "group_size" => "Group size",
        "phase_pools" => "One phase",
        "same_trust" => "No shared trust",
        "history" => "Not grouped before",
        "max_distance_km" => "Within the distance limit",
        "require_good_or_better" => "A strong or secure school",
        _ => "Every school known",
    }
}

fn label(state: &DomainState, urn: Urn) -> String {
    match state.schools.get(&urn) {
        Some(s) => format!("{urn} {}", s.name),
        None => urn.to_string(),
    }
}

fn standing(state: &DomainState, urn: Urn) -> &'static str {
    state.schools.get(&urn).and_then(round::standing).map_or("no outcome", words::standing)
}

/// `2026-AU2, 2 November to 18 December 2026`.
fn period_text(calendar: &Calendar, p: &Period) -> String {
    match calendar.half_term(p) {
        Some(h) => format!("{p}, {} to {}", h.first.format("%-d %B"), long_date(h.last)),
        None => p.to_string(),
    }
}

fn long_date(d: chrono::NaiveDate) -> String {
    d.format("%-d %B %Y").to_string()
}

/// The academic year a round opened now would be of.
fn planning_year(state: &AppState) -> String {
    let today = london_date(state.options.clock.now());
    state.engine.rules().calendar.planning_year(today).map(|y| y.to_string()).unwrap_or_default()
}

/// A summary list's row.
fn fact(key: &str, value: Markup) -> Markup {
    html! {
        div class="govuk-summary-list__row" {
            dt class="govuk-summary-list__key" { (key) }
            dd class="govuk-summary-list__value" { (value) }
        }
    }
}

/// A form's only button, with the error of the command it sends above it.
fn button_with_error(id: &str, text: &str, secondary: bool, errors: &[FieldError]) -> Markup {
    let error = layout::error_of(errors, id);
    html! {
        div class={ "govuk-form-group" @if error.is_some() { " govuk-form-group--error" } } {
            @if let Some(e) = error {
                p id=(format!("{id}-error")) class="govuk-error-message" {
                    span class="govuk-visually-hidden" { "Error: " } (e.message)
                }
            }
            button type="submit" id=(id) data-module="govuk-button"
                class={ "govuk-button govuk-!-margin-bottom-0" @if secondary { " govuk-button--secondary" } }
                aria-describedby=[error.map(|_| format!("{id}-error"))] { (text) }
        }
    }
}
