//! Accounts, for administrators: the list, add an account (its second
//! factor shown once), disable or enable one, reset a password (the user
//! must choose a new one at the next sign-in, and their sessions end);
//! and for everyone, choosing a new password.

use axum::Form;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use bridges_schemas::accounts::Role;
use chrono::Utc;
use maud::html;

use super::AppState;
use super::accounts::{AccountError, Action};
use super::auth::CurrentUser;
use super::layout::{self, FieldError, page};
use super::pages::{Fields, encode, field, not_found, render, server_error};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/accounts", get(list).post(add))
        .route("/accounts/{user}/disable", post(disable))
        .route("/accounts/{user}/enable", post(enable))
        .route("/accounts/{user}/reset", get(reset_page).post(reset))
        .route("/account/password", get(password_page).post(change_password))
}

fn roles() -> Vec<(String, String)> {
    [Role::Broker, Role::ReviewCoordinator, Role::Viewer, Role::Administrator]
        .iter()
        .map(|r| (r.as_str().to_owned(), r.as_str().replace('_', " ")))
        .collect()
}

/// The message of an account error for a form.
fn message(e: &AccountError) -> String {
    match e {
        AccountError::Invalid { field, reason, .. } => {
            let mut m = format!("The {} must be {reason}", field.replace('_', " "));
            if reason.starts_with("an account") || reason.starts_with("no such") {
                m = reason.clone();
                if let Some(first) = m.get_mut(0..1) {
                    first.make_ascii_uppercase();
                }
            }
            m
        }
        AccountError::Storage { .. } => e.to_string(),
    }
}

#[derive(Debug, Default)]
struct AddTyped {
    user: String,
    role: String,
}

pub async fn list(State(state): State<AppState>, user: CurrentUser) -> Response {
    if let Err(r) = user.require(Action::ManageUsers) {
        return *r;
    }
    state.count();
    list_response(&state, &user, &AddTyped { role: "broker".into(), ..Default::default() }, &[])
}

fn list_response(
    state: &AppState,
    user: &CurrentUser,
    typed: &AddTyped,
    errors: &[FieldError],
) -> Response {
    let accounts = match state.accounts.load() {
        Ok(a) => a,
        Err(e) => return server_error(state, user, &e.to_string()),
    };
    let body = html! {
        h1 class="govuk-heading-l" { "Accounts" }
        table class="govuk-table" {
            (layout::table_head("Accounts", false, &[("User", false), ("Role", false), ("Status", false), ("", false)]))
            tbody class="govuk-table__body" {
                @for a in &accounts.accounts {
                    @let path = format!("/accounts/{}", encode(a.user.as_str()));
                    tr class="govuk-table__row" {
                        td class="govuk-table__cell" { (a.user) }
                        td class="govuk-table__cell" { (a.role.as_str().replace('_', " ")) }
                        td class="govuk-table__cell" {
                            @if a.disabled { (layout::tag("Disabled", "grey")) } @else { (layout::tag("Active", "green")) }
                            @if a.must_change_password { " " (layout::tag("Must choose a new password", "yellow")) }
                        }
                        td class="govuk-table__cell" {
                            @if a.user != user.user {
                                form method="post" action=(format!("{path}/{}", if a.disabled { "enable" } else { "disable" })) class="govuk-!-display-inline" {
                                    input type="hidden" name="csrf" value=(user.csrf);
                                    button type="submit" class="govuk-button govuk-button--secondary govuk-!-margin-bottom-0"
                                        id=(format!("{}-{}", if a.disabled { "enable" } else { "disable" }, a.user)) {
                                        (if a.disabled { "Enable" } else { "Disable" }) span class="govuk-visually-hidden" { " " (a.user) }
                                    }
                                }
                                " "
                                a class="govuk-link" href=(format!("{path}/reset")) { "Reset password" span class="govuk-visually-hidden" { " of " (a.user) } }
                            }
                        }
                    }
                }
            }
        }
        h2 class="govuk-heading-m" { "Add an account" }
        form method="post" action="/accounts" novalidate {
            input type="hidden" name="csrf" value=(user.csrf);
            (layout::text_input("user", "User name", Some("Letters, digits, - or _"), &typed.user, "govuk-input--width-20", errors))
            (layout::radios("role", "Role", &roles(), &typed.role, errors))
            div class="govuk-form-group" {
                label class="govuk-label" for="password" { "A first password" }
                div id="password-hint" class="govuk-hint" { "At least 12 characters; they choose their own at their first sign-in" }
                @if let Some(e) = layout::error_of(errors, "password") {
                    p id="password-error" class="govuk-error-message" { span class="govuk-visually-hidden" { "Error: " } (e.message) }
                }
                input class="govuk-input govuk-!-width-one-half" id="password" name="password" type="password" autocomplete="new-password" aria-describedby="password-hint";
            }
            button type="submit" class="govuk-button" data-module="govuk-button" id="add-account" { "Add account" }
        }
    };
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    render(status, page("Accounts", state.options.la, Some(user), errors, body))
}

pub async fn add(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(fields): Form<Fields>,
) -> Response {
    if let Err(r) = user.may_post(field(&fields, "csrf"), Action::ManageUsers) {
        return *r;
    }
    let typed = AddTyped {
        user: field(&fields, "user").trim().to_owned(),
        role: field(&fields, "role").to_owned(),
    };
    let Some(role) = Role::parse(&typed.role) else {
        let errors = [FieldError { id: "role".into(), message: "Choose a role".into() }];
        return list_response(&state, &user, &typed, &errors);
    };
    let password = field(&fields, "password");
    let added = state.accounts.add(&typed.user, role, password, Utc::now()).and_then(|enrolment| {
        state.accounts.set_password(&typed.user, password, true)?;
        Ok(enrolment)
    });
    match added {
        Ok(enrolment) => {
            tracing::info!(by = %user.user, user = typed.user, role = role.as_str(), "account added");
            let body = html! {
                div class="govuk-panel govuk-panel--confirmation" {
                    h1 class="govuk-panel__title" { "Account added" }
                    div class="govuk-panel__body" { (typed.user) ", " (role.as_str().replace('_', " ")) }
                }
                p class="govuk-body" {
                    "Give them, in person or by a separate channel, their first password and this secret for their "
                    "authenticator app. It is shown only now."
                }
                (layout::summary_list(&[
                    ("Secret", html! { code { (enrolment.secret) } }),
                    ("Address for the app", html! { code class="bridges-break" { (enrolment.url) } }),
                ]))
                p class="govuk-body" { a class="govuk-link" href="/accounts" { "Back to accounts" } }
            };
            render(StatusCode::OK, page("Account added", state.options.la, Some(&user), &[], body))
        }
        Err(e @ AccountError::Invalid { field, .. }) => {
            let id = if field == "password" { "password" } else { "user" };
            let errors = [FieldError { id: id.into(), message: message(&e) }];
            list_response(&state, &user, &typed, &errors)
        }
        Err(e) => server_error(&state, &user, &e.to_string()),
    }
}

async fn set_disabled(
    state: &AppState,
    user: &CurrentUser,
    name: &str,
    disabled: bool,
) -> Response {
    if name == user.user.as_str() {
        let errors = [FieldError {
            id: "user".into(),
            message: "You cannot disable your own account".into(),
        }];
        return list_response(state, user, &AddTyped::default(), &errors);
    }
    match state.accounts.set_disabled(name, disabled) {
        Ok(()) => {
            if disabled {
                state.sessions.end_all_of(name);
            }
            tracing::info!(by = %user.user, user = name, disabled, "account changed");
            Redirect::to("/accounts").into_response()
        }
        Err(AccountError::Invalid { .. }) => not_found(State(state.clone())).await,
        Err(e) => server_error(state, user, &e.to_string()),
    }
}

pub async fn disable(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(name): Path<String>,
    Form(fields): Form<Fields>,
) -> Response {
    if let Err(r) = user.may_post(field(&fields, "csrf"), Action::ManageUsers) {
        return *r;
    }
    set_disabled(&state, &user, &name, true).await
}

pub async fn enable(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(name): Path<String>,
    Form(fields): Form<Fields>,
) -> Response {
    if let Err(r) = user.may_post(field(&fields, "csrf"), Action::ManageUsers) {
        return *r;
    }
    set_disabled(&state, &user, &name, false).await
}

fn password_form(
    state: &AppState,
    user: &CurrentUser,
    title: &str,
    action: &str,
    intro: &str,
    errors: &[FieldError],
) -> Response {
    let input = |id: &str, label: &str| {
        let error = layout::error_of(errors, id);
        html! {
            div class={ "govuk-form-group" @if error.is_some() { " govuk-form-group--error" } } {
                label class="govuk-label" for=(id) { (label) }
                @if let Some(e) = error {
                    p id=(format!("{id}-error")) class="govuk-error-message" { span class="govuk-visually-hidden" { "Error: " } (e.message) }
                }
                input class={ "govuk-input govuk-!-width-one-half" @if error.is_some() { " govuk-input--error" } }
                    id=(id) name=(id) type="password" autocomplete="new-password"
                    aria-describedby=[error.map(|_| format!("{id}-error"))];
            }
        }
    };
    let body = html! {
        div class="govuk-grid-row" {
            div class="govuk-grid-column-two-thirds" {
                h1 class="govuk-heading-l" { (title) }
                p class="govuk-body" { (intro) }
                form method="post" action=(action) novalidate {
                    input type="hidden" name="csrf" value=(user.csrf);
                    (input("password", "New password (at least 12 characters)"))
                    (input("confirm", "The new password again"))
                    button type="submit" class="govuk-button" data-module="govuk-button" id="save-password" { "Save password" }
                }
            }
        }
    };
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    render(status, page(title, state.options.la, Some(user), errors, body))
}

/// The two passwords typed, or the error.
fn new_password(fields: &Fields) -> Result<String, FieldError> {
    let (password, confirm) = (field(fields, "password"), field(fields, "confirm"));
    if password != confirm {
        return Err(FieldError {
            id: "confirm".into(),
            message: "The two passwords are not the same".into(),
        });
    }
    Ok(password.to_owned())
}

pub async fn reset_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(name): Path<String>,
) -> Response {
    if let Err(r) = user.require(Action::ManageUsers) {
        return *r;
    }
    match state.accounts.get(&name) {
        Ok(Some(_)) => {}
        Ok(None) => return not_found(State(state.clone())).await,
        Err(e) => return server_error(&state, &user, &e.to_string()),
    }
    let intro = format!(
        "Give {name} this password by a separate channel: they choose their own at their next sign-in, and their sessions end now."
    );
    password_form(
        &state,
        &user,
        &format!("Reset the password of {name}"),
        &format!("/accounts/{}/reset", encode(&name)),
        &intro,
        &[],
    )
}

pub async fn reset(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(name): Path<String>,
    Form(fields): Form<Fields>,
) -> Response {
    if let Err(r) = user.may_post(field(&fields, "csrf"), Action::ManageUsers) {
        return *r;
    }
    let title = format!("Reset the password of {name}");
    let action = format!("/accounts/{}/reset", encode(&name));
    let done = new_password(&fields).and_then(|p| {
        state
            .accounts
            .set_password(&name, &p, true)
            .map_err(|e| FieldError { id: "password".into(), message: message(&e) })
    });
    match done {
        Ok(()) => {
            state.sessions.end_all_of(&name);
            tracing::info!(by = %user.user, user = name, "password reset");
            Redirect::to("/accounts").into_response()
        }
        Err(e) => password_form(&state, &user, &title, &action, "", &[e]),
    }
}

pub async fn password_page(State(state): State<AppState>, user: CurrentUser) -> Response {
    state.count();
    password_form(
        &state,
        &user,
        "Choose a new password",
        "/account/password",
        "Choose a password only you know.",
        &[],
    )
}

pub async fn change_password(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(fields): Form<Fields>,
) -> Response {
    if let Err(r) = user.check_csrf(field(&fields, "csrf")) {
        return *r;
    }
    let done = new_password(&fields).and_then(|p| {
        state
            .accounts
            .set_password(user.user.as_str(), &p, false)
            .map_err(|e| FieldError { id: "password".into(), message: message(&e) })
    });
    match done {
        Ok(()) => {
            tracing::info!(user = %user.user, "password changed");
            Redirect::to("/").into_response()
        }
        Err(e) => {
            password_form(&state, &user, "Choose a new password", "/account/password", "", &[e])
        }
    }
}
