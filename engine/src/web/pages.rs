//! The handlers of `bridges web`. Each page reads a view struct from the
//! projections (`Engine::read`) and renders it with `layout`; each form's
//! POST checks the session's CSRF token and the role (403 otherwise), builds
//! one command, hands it to `Engine::handle` with the signed-in user as the
//! actor, and either redirects (303, so a reload sends nothing twice) or
//! shows the form again with the rejection next to the field it names and
//! every value kept.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use axum::Form;
use axum::extract::{ConnectInfo, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use bridges_schemas::commands::{
    AmendRequest, CloseRequest, Command, CommandEnvelope, ProposeAssignment, RaiseRequest,
    Rejection, WithdrawRequest,
};
use bridges_schemas::vocab::{FundingSource, ImpactRating, TierChoice, UserId};
use bridges_schemas::{Designation, NeedArea, Period, PractitionerId, RequestId, Urn};
use chrono::{NaiveDate, Utc};
use maud::{Markup, html};
use uuid::Uuid;

use super::AppState;
use super::accounts::{Action, LoginFailure};
use super::auth::{self, CurrentUser, LOGIN_COOKIE, SESSION_COOKIE};
use super::layout::{self, FieldError, page};
use crate::domain::calendar::london_date;
use crate::domain::state::AssignmentStatus;
use crate::domain::{Rules, State as DomainState};
use crate::handle::Outcome;
use crate::recommend::{self, RecommendError};
use crate::reports::rows::{Spend, spend_of_year};
use crate::views::{self, ClockStatus, RequestFilter, RequestRow};

/// A form's fields as sent (a name may repeat: checkboxes).
pub(super) type Fields = Vec<(String, String)>;

pub(super) fn field<'f>(fields: &'f Fields, name: &str) -> &'f str {
    fields.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.as_str())
}

pub(super) fn all(fields: &Fields, name: &str) -> Vec<String> {
    fields.iter().filter(|(k, _)| k == name).map(|(_, v)| v.clone()).collect()
}

/// Percent-encodes `s` for a query string.
pub fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub(super) fn render(status: StatusCode, markup: Markup) -> Response {
    (status, Html(markup.into_string())).into_response()
}

/// Headers on every response: no framing, no sniffing, scripts and styles
/// from this service only, pages never cached.
pub async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    let set = |h: &mut HeaderMap, k: header::HeaderName, v: &'static str| {
        h.entry(k).or_insert(HeaderValue::from_static(v));
    };
    set(
        h,
        header::CONTENT_SECURITY_POLICY,
        "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    );
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(h, header::REFERRER_POLICY, "same-origin");
    set(h, header::X_FRAME_OPTIONS, "DENY");
    set(h, header::CACHE_CONTROL, "no-store");
    response
}

pub async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        super::STYLESHEET,
    )
        .into_response()
}

pub async fn script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        super::matching::SCRIPT,
    )
        .into_response()
}

/// `/health`: the engine answers and its log's head.
pub async fn health(State(state): State<AppState>) -> Response {
    let head = state.engine.log().head().0;
    let body = serde_json::json!({"status": "ok", "head": head});
    ([(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
}

/// `/metrics`, in Prometheus's text format.
pub async fn metrics(State(state): State<AppState>) -> Response {
    let served = state.served.load(std::sync::atomic::Ordering::Relaxed);
    let text = format!(
        "# TYPE bridges_web_pages_total counter\nbridges_web_pages_total {served}\n\
         # TYPE bridges_web_sessions gauge\nbridges_web_sessions {}\n\
         # TYPE bridges_log_head gauge\nbridges_log_head {}\n",
        state.sessions.count(),
        state.engine.log().head().0
    );
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}

pub async fn not_found(State(state): State<AppState>) -> Response {
    let body = html! {
        h1 class="govuk-heading-l" { "Page not found" }
        p class="govuk-body" { "If you typed the web address, check it is correct." }
        p class="govuk-body" { a class="govuk-link" href="/" { "Go to the dashboard" } }
    };
    render(StatusCode::NOT_FOUND, page("Page not found", state.options.la, None, &[], body))
}

/// The 403 page of `action` refused to `user`.
pub fn forbidden(user: &CurrentUser, action: Action) -> Response {
    let what = match action {
        Action::Read => "read this",
        Action::SeeContacts => "see practitioners' contact details",
        Action::Broker => "broker support",
        Action::Coordinate => "run peer-review rounds",
        Action::ManageUsers => "manage accounts",
        Action::Erase => "erase practitioners",
    };
    let body = html! {
        h1 class="govuk-heading-l" { "You cannot do this" }
        p class="govuk-body" {
            "Your account (" (user.user) ", " (user.role.as_str().replace('_', " ")) ") may not " (what) "."
        }
        p class="govuk-body" { a class="govuk-link" href="/" { "Go to the dashboard" } }
    };
    render(StatusCode::FORBIDDEN, page("You cannot do this", 0, Some(user), &[], body))
}

// --- signing in ------------------------------------------------------------------

#[derive(Debug, serde::Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
}

/// Only a path of this service (not `//host`) is a place to go back to.
pub(super) fn local(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_owned(),
        _ => "/".to_owned(),
    }
}

pub async fn login_page(State(state): State<AppState>, Query(q): Query<LoginQuery>) -> Response {
    login_form(&state, q.next.as_deref(), "", &[], StatusCode::OK)
}

fn login_form(
    state: &AppState,
    next: Option<&str>,
    user: &str,
    errors: &[FieldError],
    status: StatusCode,
) -> Response {
    let token = auth::random_token();
    let body = html! {
        div class="govuk-grid-row" {
            div class="govuk-grid-column-two-thirds" {
                h1 class="govuk-heading-l" { "Sign in" }
                form method="post" action="/login" novalidate {
                    input type="hidden" name="csrf" value=(token);
                    input type="hidden" name="next" value=(local(next));
                    (layout::text_input("user", "User name", None, user, "govuk-!-width-one-half", errors))
                    div class="govuk-form-group" {
                        label class="govuk-label" for="password" { "Password" }
                        input class="govuk-input govuk-!-width-one-half" id="password" name="password"
                            type="password" autocomplete="current-password";
                    }
                    div class="govuk-form-group" {
                        label class="govuk-label" for="code" { "Security code" }
                        div id="code-hint" class="govuk-hint" { "The 6-digit code your authenticator app shows for Bridges" }
                        input class="govuk-input govuk-input--width-5" id="code" name="code" type="text"
                            inputmode="numeric" autocomplete="one-time-code" aria-describedby="code-hint";
                    }
                    button type="submit" class="govuk-button" data-module="govuk-button" { "Sign in" }
                }
            }
        }
    };
    let mut response = render(status, page("Sign in", state.options.la, None, errors, body));
    let cookie = auth::set_cookie(LOGIN_COOKIE, &token, state.options.secure_cookies, Some(3600));
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(fields): Form<Fields>,
) -> Response {
    let (user, next) = (field(&fields, "user").trim(), field(&fields, "next"));
    let sent = field(&fields, "csrf");
    if sent.is_empty() || auth::cookie(&headers, LOGIN_COOKIE) != Some(sent) {
        return (StatusCode::FORBIDDEN, "The sign-in form has expired: reload it and try again.")
            .into_response();
    }
    let keys = [format!("user:{user}"), format!("addr:{}", addr.ip())];
    if let Some(wait) = state.limiter.blocked(&keys) {
        let minutes = wait.as_secs().div_ceil(60).max(1);
        let errors = [FieldError {
            id: "user".into(),
            message: format!("Too many attempts to sign in: try again in {minutes} minutes"),
        }];
        return login_form(&state, Some(next), user, &errors, StatusCode::TOO_MANY_REQUESTS);
    }
    match state.accounts.verify(
        user,
        field(&fields, "password"),
        field(&fields, "code"),
        Utc::now(),
    ) {
        Ok(account) => {
            state.limiter.succeeded(&keys[0]);
            let token = state.sessions.start(account.user.clone(), account.role);
            tracing::info!(user = %account.user, "signed in");
            let mut response = Redirect::to(&local(Some(next))).into_response();
            let secure = state.options.secure_cookies;
            for c in [
                auth::set_cookie(SESSION_COOKIE, &token, secure, None),
                auth::set_cookie(LOGIN_COOKIE, "", secure, Some(0)),
            ] {
                if let Ok(v) = HeaderValue::from_str(&c) {
                    response.headers_mut().append(header::SET_COOKIE, v);
                }
            }
            response
        }
        Err(why) => {
            state.limiter.failed(&keys);
            tracing::warn!(user, reason = ?why, "sign-in refused");
            let message = match why {
                LoginFailure::Disabled => "This account is disabled: ask an administrator",
                _ => "The user name, password or security code is not right",
            };
            let errors = [FieldError { id: "user".into(), message: message.into() }];
            login_form(&state, Some(next), user, &errors, StatusCode::UNAUTHORIZED)
        }
    }
}

pub async fn logout(
    State(state): State<AppState>,
    user: CurrentUser,
    headers: HeaderMap,
    Form(fields): Form<Fields>,
) -> Response {
    if let Err(r) = user.check_csrf(field(&fields, "csrf")) {
        return *r;
    }
    if let Some(token) = auth::cookie(&headers, SESSION_COOKIE) {
        state.sessions.end(token);
    }
    let mut response = Redirect::to("/login").into_response();
    let c = auth::set_cookie(SESSION_COOKIE, "", state.options.secure_cookies, Some(0));
    if let Ok(v) = HeaderValue::from_str(&c) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

// --- the dashboard -------------------------------------------------------------------

/// Rows of each dashboard table shown; the rest are counted and linked.
const SHOWN: usize = 25;

/// What the dashboard shows, as of `today`.
#[derive(Debug, Clone, PartialEq)]
pub struct Dashboard {
    pub today: NaiveDate,
    /// Open requests of tiers 1 to 4.
    pub open_by_tier: [usize; 4],
    /// Open requests with days to plan and none held.
    pub unmet: usize,
    /// Open requests whose match clock is late or due today, most urgent first.
    pub clocks: Vec<RequestRow>,
    /// Proposals awaiting an answer: (assignment, request, practitioner, answer by).
    pub awaiting: Vec<(String, String, String, Option<NaiveDate>)>,
    /// The academic year of `today` and its spend per funding source.
    pub year: Option<String>,
    pub spend: Vec<Spend>,
}

/// The dashboard of `state` at `at`.
pub fn dashboard_of(state: &DomainState, rules: &Rules, at: chrono::DateTime<Utc>) -> Dashboard {
    let today = london_date(at);
    let rows =
        views::request_rows(state, rules, at, RequestFilter { open: true, ..Default::default() });
    let mut open_by_tier = [0usize; 4];
    for r in &rows {
        if (1..=4).contains(&r.tier) {
            open_by_tier[usize::from(r.tier) - 1] += 1;
        }
    }
    let unmet = rows.iter().filter(|r| r.planned > 0 && r.held == 0).count();
    let mut clocks: Vec<RequestRow> = rows
        .into_iter()
        .filter(|r| {
            r.clock.status == ClockStatus::Late
                || r.clock.status == ClockStatus::Open && r.clock.due == today
        })
        .collect();
    clocks.sort_by(|a, b| (a.clock.due, a.tier, &a.id).cmp(&(b.clock.due, b.tier, &b.id)));
    let mut awaiting: Vec<_> = state
        .assignments
        .values()
        .filter(|a| a.status == AssignmentStatus::Proposed && !a.pending_run)
        .map(|a| (a.id.to_string(), a.request.to_string(), a.practitioner.to_string(), a.answer_by))
        .collect();
    awaiting.sort_by(|a, b| (a.3, &a.0).cmp(&(b.3, &b.0)));
    let year = rules
        .calendar
        .half_term_of(today)
        .map(|h| h.year.clone())
        .or_else(|| rules.calendar.planning_half_terms(today).first().map(|h| h.year.clone()));
    let spend = year.as_ref().map(|y| spend_of_year(state, rules, y)).unwrap_or_default();
    Dashboard { today, open_by_tier, unmet, clocks, awaiting, year: year.map(|y| y.0), spend }
}

pub async fn dashboard(State(state): State<AppState>, user: CurrentUser) -> Response {
    state.count();
    let rules = state.engine.rules();
    let d = match state.engine.read(|s| dashboard_of(s, rules, state.options.clock.now())).await {
        Ok(d) => d,
        Err(e) => return server_error(&state, &user, &e.to_string()),
    };
    render(
        StatusCode::OK,
        page("Dashboard", state.options.la, Some(&user), &[], dashboard_markup(&d, &user)),
    )
}

fn dashboard_markup(d: &Dashboard, user: &CurrentUser) -> Markup {
    let total: usize = d.open_by_tier.iter().sum();
    html! {
        h1 class="govuk-heading-l" { "Dashboard" }
        p class="govuk-body" { "As of " (d.today.format("%-d %B %Y")) "." }
        @if user.may(Action::Broker) {
            a href="/requests/new" role="button" draggable="false" class="govuk-button" data-module="govuk-button" { "Raise a request" }
        }
        h2 class="govuk-heading-m" { "Open requests by tier" }
        table class="govuk-table" {
            (layout::table_head("Open requests by tier", false, &[("Tier", false), ("Open requests", true)]))
            tbody class="govuk-table__body" {
                @for (i, n) in d.open_by_tier.iter().enumerate() {
                    tr class="govuk-table__row" {
                        th scope="row" class="govuk-table__header" {
                            a class="govuk-link" href=(format!("/requests?status=open&tier={}", i + 1)) { "Tier " (i + 1) }
                        }
                        td class="govuk-table__cell govuk-table__cell--numeric" { (n) }
                    }
                }
                tr class="govuk-table__row" {
                    th scope="row" class="govuk-table__header" { "All tiers" }
                    td class="govuk-table__cell govuk-table__cell--numeric" id="open-total" { (total) }
                }
            }
        }
        p class="govuk-body" {
            a class="govuk-link" href="/requests?status=unmet" { (views::count(d.unmet, "open request")) " with nothing held" }
        }
        h2 class="govuk-heading-m" { "Match clocks late or due today" }
        @if d.clocks.is_empty() {
            p class="govuk-body" { "None." }
        } @else {
            (request_table("Match clocks late or due today", &d.clocks[..d.clocks.len().min(SHOWN)]))
            @if d.clocks.len() > SHOWN {
                p class="govuk-body" {
                    a class="govuk-link" href="/requests?status=late" { "See all " (d.clocks.len()) " late or due today" }
                }
            }
        }
        h2 class="govuk-heading-m" { "Proposals awaiting an answer" }
        p class="govuk-body" id="awaiting-total" { (views::count(d.awaiting.len(), "proposal")) " awaiting an answer" }
        @if d.awaiting.is_empty() {
            p class="govuk-body" { "None." }
        } @else {
            table class="govuk-table" {
                (layout::table_head("Proposals awaiting an answer", false, &[("Assignment", false), ("Request", false), ("Practitioner", false), ("Answer by", false)]))
                tbody class="govuk-table__body" {
                    @for (a, r, p, by) in d.awaiting.iter().take(SHOWN) {
                        tr class="govuk-table__row" {
                            td class="govuk-table__cell" { a class="govuk-link" href=(format!("/assignments/{}", encode(a))) { (a) } }
                            td class="govuk-table__cell" { a class="govuk-link" href=(format!("/requests/{}", encode(r))) { (r) } }
                            td class="govuk-table__cell" { (p) }
                            td class="govuk-table__cell" {
                                @match by {
                                    Some(by) if *by < d.today => { (layout::tag("Overdue", "red")) " " (by) }
                                    Some(by) => { (by) }
                                    None => { "–" }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if d.awaiting.len() > SHOWN {
            p class="govuk-body" { "And " (d.awaiting.len() - SHOWN) " more, answer by the latest last." }
        }
        h2 class="govuk-heading-m" {
            "Spend against budget"
            @if let Some(y) = &d.year { " in " (y) }
        }
        table class="govuk-table" {
            (layout::table_head("Spend against budget", false, &[("Funding", false), ("Budget", true), ("Committed", true), ("Spent", true), ("Left to commit", true)]))
            tbody class="govuk-table__body" {
                @for s in &d.spend {
                    tr class="govuk-table__row" {
                        th scope="row" class="govuk-table__header" { (funding_name(s.funding)) }
                        td class="govuk-table__cell govuk-table__cell--numeric" { (crate::render::money(s.budget)) }
                        td class="govuk-table__cell govuk-table__cell--numeric" { (crate::render::money(s.committed)) }
                        td class="govuk-table__cell govuk-table__cell--numeric" { (crate::render::money(s.spent)) }
                        td class="govuk-table__cell govuk-table__cell--numeric" {
                            @if s.committed > s.budget && s.budget > 0 {
                                (layout::tag("Over", "red")) " " (crate::render::money(s.committed - s.budget))
                            } @else {
                                (crate::render::money(s.budget.saturating_sub(s.committed)))
                            }
                        }
                    }
                }
            }
        }
    }
}

pub(super) fn funding_name(f: FundingSource) -> &'static str {
    match f {
        FundingSource::LaCore => "LA core budget",
        FundingSource::SchoolPaid => "Paid by the school",
        FundingSource::Rise => "RISE grant",
        FundingSource::Trust => "Paid by the trust",
    }
}

pub(super) fn request_table(caption: &str, rows: &[RequestRow]) -> Markup {
    html! {
        table class="govuk-table" {
            (layout::table_head(caption, false, &[("Request", false), ("School", false), ("Need", false), ("Tier", true), ("Status", false), ("Days held", true), ("Match clock", false)]))
            tbody class="govuk-table__body" {
                @for r in rows {
                    tr class="govuk-table__row" {
                        td class="govuk-table__cell" { a class="govuk-link" href=(format!("/requests/{}", encode(r.id.as_str()))) { (r.id) } }
                        td class="govuk-table__cell" { (r.school) " (" (r.urn) ")" }
                        td class="govuk-table__cell" { (r.need) }
                        td class="govuk-table__cell govuk-table__cell--numeric" { (r.tier) }
                        td class="govuk-table__cell" { (r.status) }
                        td class="govuk-table__cell govuk-table__cell--numeric" { (r.held) " of " (r.planned) }
                        td class="govuk-table__cell" {
                            @match r.clock.status {
                                ClockStatus::Late => { (layout::tag("Late", "red")) " due " (r.clock.due) }
                                ClockStatus::Met => { (layout::tag("Met", "green")) }
                                ClockStatus::Open => { "due " (r.clock.due) }
                            }
                        }
                    }
                }
            }
        }
    }
}

// --- requests ----------------------------------------------------------------------

#[derive(Debug, Default, serde::Deserialize)]
pub struct ListQuery {
    status: Option<String>,
    tier: Option<String>,
    page: Option<String>,
}

/// Rows of the requests list on one page.
pub const PAGE_ROWS: usize = 100;

pub async fn requests(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<ListQuery>,
) -> Response {
    state.count();
    let status = q.status.as_deref().unwrap_or("open");
    let filter =
        RequestFilter { open: status == "open", unmet: status == "unmet", late: status == "late" };
    let tier: Option<u8> =
        q.tier.as_deref().and_then(|t| t.parse().ok()).filter(|t| (1..=4).contains(t));
    let rules = state.engine.rules();
    let rows = match state
        .engine
        .read(|s| views::request_rows(s, rules, state.options.clock.now(), filter))
        .await
    {
        Ok(rows) => rows,
        Err(e) => return server_error(&state, &user, &e.to_string()),
    };
    let rows: Vec<RequestRow> =
        rows.into_iter().filter(|r| tier.is_none_or(|t| r.tier == t)).collect();
    let statuses = [
        ("open", "Open"),
        ("unmet", "Open with nothing held"),
        ("late", "Open and late"),
        ("all", "All"),
    ]
    .map(|(v, t)| (v.to_owned(), t.to_owned()));
    let tiers: Vec<(String, String)> = std::iter::once(("".to_owned(), "Any tier".to_owned()))
        .chain((1..=4).map(|t| (t.to_string(), format!("Tier {t}"))))
        .collect();
    let tier_text = tier.map(|t| t.to_string()).unwrap_or_default();
    let pages = rows.len().div_ceil(PAGE_ROWS).max(1);
    let at: usize = q.page.as_deref().and_then(|p| p.parse().ok()).unwrap_or(1).clamp(1, pages);
    let status_q = encode(status);
    let body = html! {
        h1 class="govuk-heading-l" { "Requests" }
        @if user.may(Action::Broker) {
            a href="/requests/new" role="button" draggable="false" class="govuk-button" data-module="govuk-button" { "Raise a request" }
        }
        form method="get" action="/requests" class="govuk-!-margin-bottom-6" {
            div class="govuk-grid-row" {
                div class="govuk-grid-column-one-third" { (layout::select("status", "Show", &statuses, status, &[])) }
                div class="govuk-grid-column-one-third" { (layout::select("tier", "Tier", &tiers, &tier_text, &[])) }
                div class="govuk-grid-column-one-third" {
                    button type="submit" class="govuk-button govuk-button--secondary govuk-!-margin-top-6" { "Filter" }
                }
            }
        }
        p class="govuk-body" {
            (views::count(rows.len(), "request"))
            @if pages > 1 { ", page " (at) " of " (pages) }
        }
        @if !rows.is_empty() { (request_table("Requests", &rows[(at - 1) * PAGE_ROWS..(at * PAGE_ROWS).min(rows.len())])) }
        @if pages > 1 { (pagination(at, pages, &|n| format!("/requests?status={status_q}&tier={tier_text}&page={n}"))) }
    };
    render(StatusCode::OK, page("Requests", state.options.la, Some(&user), &[], body))
}

/// GOV.UK pagination: previous, the pages near `page` (the first and last
/// always), next; `href` gives page n's address.
fn pagination(page: usize, pages: usize, href: &dyn Fn(usize) -> String) -> Markup {
    let shown: Vec<usize> =
        (1..=pages).filter(|n| *n == 1 || *n == pages || n.abs_diff(page) <= 2).collect();
    html! {
        nav class="govuk-pagination" aria-label="Pages of requests" {
            @if page > 1 {
                div class="govuk-pagination__prev" {
                    a class="govuk-link govuk-pagination__link" href=(href(page - 1)) rel="prev" {
                        span class="govuk-pagination__link-title" { "Previous" span class="govuk-visually-hidden" { " page" } }
                    }
                }
            }
            ul class="govuk-pagination__list" {
                @for (i, n) in shown.iter().enumerate() {
                    @if i > 0 && shown[i - 1] + 1 != *n {
                        li class="govuk-pagination__item govuk-pagination__item--ellipses" { "⋯" }
                    }
                    li class={ "govuk-pagination__item" @if *n == page { " govuk-pagination__item--current" } } {
                        a class="govuk-link govuk-pagination__link" href=(href(*n)) aria-label=(format!("Page {n}")) aria-current=[(*n == page).then_some("page")] { (n) }
                    }
                }
            }
            @if page < pages {
                div class="govuk-pagination__next" {
                    a class="govuk-link govuk-pagination__link" href=(href(page + 1)) rel="next" {
                        span class="govuk-pagination__link-title" { "Next" span class="govuk-visually-hidden" { " page" } }
                    }
                }
            }
        }
    }
}

/// What a request's page shows.
struct RequestView {
    text: String,
    open: bool,
    assignments: Vec<crate::domain::state::Assignment>,
    recommendation: Option<Result<bridges_schemas::brokerage::Recommendation, String>>,
}

pub async fn request_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Response {
    state.count();
    request_response(&state, &user, &id, &RequestTyped::default(), &[]).await
}

/// What was typed in a request page's forms.
#[derive(Debug, Clone, Default)]
struct RequestTyped {
    email: String,
    impact: String,
    close_note: String,
    withdraw_reason: String,
}

pub(super) fn impact_choices() -> Vec<(String, String)> {
    bridges_schemas::vocab::ImpactRating::ALL
        .iter()
        .map(|r| {
            let mut text = r.as_str().to_owned();
            if let Some(first) = text.get_mut(0..1) {
                first.make_ascii_uppercase();
            }
            (r.as_str().to_owned(), text)
        })
        .collect()
}

async fn request_response(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    typed: &RequestTyped,
    errors: &[FieldError],
) -> Response {
    let engine = &state.engine;
    let id = RequestId(id.to_owned());
    let at = state.options.clock.now();
    let history = match engine.request_history(&id).await {
        Ok(h) => h,
        Err(e) => return server_error(state, user, &e.to_string()),
    };
    let (rules, keys) = (engine.rules(), engine.keys());
    let view = engine
        .read(|s| {
            let r = s.requests.get(&id)?;
            let open = r.status == crate::domain::state::RequestStatus::Open;
            let text = views::request_show(s, rules, &id, keys, at, &history)?;
            let recommendation = open.then(|| match recommend::recommend(s, rules, &id, at) {
                Ok(r) => Ok(r.recommendation),
                Err(RecommendError::Refused(r)) => Err(r.reason),
                Err(e) => Err(e.to_string()),
            });
            let assignments = s.assignments_of(&id).filter(|a| !a.pending_run).cloned().collect();
            Some(RequestView { text, open, assignments, recommendation })
        })
        .await;
    let view = match view {
        Ok(Some(v)) => v,
        Ok(None) => return not_found(State(state.clone())).await,
        Err(e) => return server_error(state, user, &e.to_string()),
    };
    let title = format!("Request {id}");
    let body = html! {
        a href="/requests" class="govuk-back-link" { "Requests" }
        h1 class="govuk-heading-l" { (title) }
        @if view.open && user.may(Action::Broker) {
            a href=(format!("/requests/{}/amend", encode(id.as_str()))) class="govuk-button govuk-button--secondary" role="button" draggable="false" data-module="govuk-button" { "Amend this request" }
        }
        pre class="govuk-body bridges-history" { (view.text) }
        h2 class="govuk-heading-m" { "Assignments" }
        @if view.assignments.is_empty() {
            p class="govuk-body" { "None yet." }
        } @else {
            table class="govuk-table" {
                (layout::table_head("Assignments", false, &[("Assignment", false), ("Practitioner", false), ("Days", false), ("Status", false)]))
                tbody class="govuk-table__body" {
                    @for a in &view.assignments {
                        tr class="govuk-table__row" {
                            td class="govuk-table__cell" { a class="govuk-link" href=(format!("/assignments/{}", encode(a.id.as_str()))) { (a.id) } }
                            td class="govuk-table__cell" { (a.practitioner) }
                            td class="govuk-table__cell" { (views::days(&a.days)) }
                            td class="govuk-table__cell" { (super::assignments::status_tag(a.status)) }
                        }
                    }
                }
            }
        }
        @if view.open {
            h2 class="govuk-heading-m" { "Who could take it now" }
            @match &view.recommendation {
                Some(Ok(rec)) => { (recommendation_markup(rec, &id, user, errors)) }
                Some(Err(why)) => { p class="govuk-body" { (why) } }
                None => {}
            }
            @if user.may(Action::Broker) {
                @if !view.assignments.is_empty() {
                    h2 class="govuk-heading-m" { "Ask the school to rate the impact" }
                    p class="govuk-body" { "Email the receiving school a link to rate the impact; their answer closes the request. The address is not kept." }
                    form method="post" action=(format!("/requests/{}/ask-impact", encode(id.as_str()))) novalidate {
                        input type="hidden" name="csrf" value=(user.csrf);
                        (layout::text_input("school-email", "The school's email address", Some("For example, head@school.example.org"), &typed.email, "govuk-!-width-two-thirds", errors))
                        button type="submit" class="govuk-button govuk-button--secondary" data-module="govuk-button" id="ask-impact" { "Send the link" }
                    }
                }
                h2 class="govuk-heading-m" { "Close with its impact" }
                form method="post" action=(format!("/requests/{}/close", encode(id.as_str()))) novalidate {
                    input type="hidden" name="csrf" value=(user.csrf);
                    (layout::radios("close-impact", "The receiving school's rating of the impact", &impact_choices(), &typed.impact, errors))
                    (layout::textarea("close-note", "Note (optional)", &typed.close_note, errors))
                    button type="submit" class="govuk-button govuk-button--secondary" data-module="govuk-button" { "Close request" }
                }
                h2 class="govuk-heading-m" { "Withdraw" }
                form method="post" action=(format!("/requests/{}/withdraw", encode(id.as_str()))) novalidate {
                    input type="hidden" name="csrf" value=(user.csrf);
                    (layout::text_input("withdraw-reason", "Why it is withdrawn", None, &typed.withdraw_reason, "govuk-!-width-two-thirds", errors))
                    button type="submit" class="govuk-button govuk-button--warning" data-module="govuk-button" { "Withdraw request" }
                }
            }
        }
    };
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    render(status, page(&title, state.options.la, Some(user), errors, body))
}

fn recommendation_markup(
    rec: &bridges_schemas::brokerage::Recommendation,
    id: &RequestId,
    user: &CurrentUser,
    errors: &[FieldError],
) -> Markup {
    let by = |days: &bridges_schemas::brokerage::PlanDays| {
        days.iter().map(|(k, d)| format!("{k}: {d}")).collect::<Vec<_>>().join(", ")
    };
    html! {
        @if rec.candidates.is_empty() {
            p class="govuk-body" { "Nobody can take it now." }
        } @else {
            table class="govuk-table" {
                caption class="govuk-table__caption govuk-table__caption--s" { "Ranked as the solver would choose for this request alone" }
                thead class="govuk-table__head" {
                    tr class="govuk-table__row" {
                        th scope="col" class="govuk-table__header govuk-table__header--numeric" { "Rank" }
                        th scope="col" class="govuk-table__header" { "Practitioner" }
                        th scope="col" class="govuk-table__header" { "Days" }
                        th scope="col" class="govuk-table__header govuk-table__header--numeric" { "Cost" }
                        th scope="col" class="govuk-table__header govuk-table__header--numeric" { "Distance" }
                        @if user.may(Action::Broker) { th scope="col" class="govuk-table__header" { span class="govuk-visually-hidden" { "Action" } } }
                    }
                }
                tbody class="govuk-table__body" {
                    @for c in &rec.candidates {
                        tr class="govuk-table__row" {
                            td class="govuk-table__cell govuk-table__cell--numeric" { (c.rank) }
                            td class="govuk-table__cell" {
                                (c.practitioner) " (" (c.designation) ")"
                                @if c.continuity { " " (layout::tag("Continuity", "blue")) }
                            }
                            td class="govuk-table__cell" { (by(&c.days)) }
                            td class="govuk-table__cell govuk-table__cell--numeric" { (crate::render::money((c.cost * 100.0).round() as u64)) }
                            td class="govuk-table__cell govuk-table__cell--numeric" { (format!("{:.1} km", c.distance_km)) }
                            @if user.may(Action::Broker) {
                                td class="govuk-table__cell" {
                                    form method="post" action=(format!("/requests/{}/propose", encode(id.as_str()))) {
                                        input type="hidden" name="csrf" value=(user.csrf);
                                        input type="hidden" name="practitioner" value=(c.practitioner);
                                        @for (period, d) in &c.days {
                                            input type="hidden" name=(format!("days-{period}")) value=(d);
                                        }
                                        button type="submit" class="govuk-button govuk-button--secondary govuk-!-margin-bottom-0" id=(format!("propose-{}", c.practitioner)) {
                                            "Propose" span class="govuk-visually-hidden" { " " (c.practitioner) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if let Some(e) = layout::error_of(errors, "practitioner") {
            p class="govuk-error-message" id="practitioner" { span class="govuk-visually-hidden" { "Error: " } (e.message) }
        }
        @if !rec.unavailable.is_empty() {
            details class="govuk-details" {
                summary class="govuk-details__summary" {
                    span class="govuk-details__summary-text" { "Why " (views::count(rec.unavailable.len(), "other practitioner")) " cannot" }
                }
                div class="govuk-details__text" {
                    ul class="govuk-list govuk-list--bullet" {
                        @for u in &rec.unavailable {
                            li { (u.practitioner) ": " (u.detail) }
                        }
                    }
                }
            }
        }
    }
}

/// A proposal by hand of one ranked practitioner.
pub async fn propose(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(fields): Form<Fields>,
) -> Response {
    if let Err(r) = user.may_post(field(&fields, "csrf"), Action::Broker) {
        return *r;
    }
    let mut days = BTreeMap::new();
    for (k, v) in &fields {
        if let Some(period) = k.strip_prefix("days-")
            && let Ok(d) = v.parse::<u32>()
        {
            days.insert(Period(period.to_owned()), d);
        }
    }
    let command = Command::ProposeAssignment(ProposeAssignment {
        assignment: None,
        request: RequestId(id.clone()),
        practitioner: PractitionerId(field(&fields, "practitioner").to_owned()),
        days,
    });
    match handle(&state, &user, command).await {
        Ok(Ok(())) => Redirect::to(&format!("/requests/{}", encode(&id))).into_response(),
        Ok(Err(r)) => {
            let errors = [FieldError { id: "practitioner".into(), message: rejection_message(&r) }];
            request_response(&state, &user, &id, &RequestTyped::default(), &errors).await
        }
        Err(e) => server_error(&state, &user, &e),
    }
}

/// Hands `command` to the engine as `user`: `Ok(Err(rejection))` when refused.
pub(super) async fn handle(
    state: &AppState,
    user: &CurrentUser,
    command: Command,
) -> Result<Result<(), Rejection>, String> {
    let envelope = CommandEnvelope {
        id: Uuid::new_v4().simple().to_string(),
        actor: UserId(user.user.0.clone()),
        at: state.options.clock.now(),
        command,
    };
    match state.engine.handle(&envelope).await {
        Ok(Outcome::Rejected(r)) => Ok(Err(r)),
        Ok(_) => Ok(Ok(())),
        Err(e) => Err(e.to_string()),
    }
}

pub(super) fn rejection_message(r: &Rejection) -> String {
    let mut reason = r.reason.clone();
    if let Some(first) = reason.get_mut(0..1) {
        first.make_ascii_uppercase();
    }
    reason
}

// --- raising a request ------------------------------------------------------------

/// The raise form's values, as typed.
#[derive(Debug, Clone, Default)]
struct RaiseForm {
    request: String,
    urn: String,
    need: String,
    designations: Vec<String>,
    tier: String,
    funding: String,
    purchase_order: String,
    /// Days per planning half-term, as typed.
    days: Vec<(String, String)>,
}

pub async fn raise_page(State(state): State<AppState>, user: CurrentUser) -> Response {
    if let Err(r) = user.require(Action::Broker) {
        return *r;
    }
    let form = RaiseForm {
        tier: "follow".into(),
        funding: "la_core".into(),
        days: planning(&state).into_iter().map(|p| (p, String::new())).collect(),
        ..Default::default()
    };
    raise_form(&state, &user, &form, &[], StatusCode::OK)
}

/// The half-terms a request raised now may ask days in.
fn planning(state: &AppState) -> Vec<String> {
    state
        .engine
        .rules()
        .calendar
        .planning_half_terms(london_date(state.options.clock.now()))
        .into_iter()
        .map(|h| h.label.0.clone())
        .collect()
}

fn raise_form(
    state: &AppState,
    user: &CurrentUser,
    form: &RaiseForm,
    errors: &[FieldError],
    status: StatusCode,
) -> Response {
    request_form(state, user, form, None, errors, status)
}

/// The raise form, or (`amend` naming the request) the amend form: the
/// same fields but the reference and the school, which do not change.
fn request_form(
    state: &AppState,
    user: &CurrentUser,
    form: &RaiseForm,
    amend: Option<&str>,
    errors: &[FieldError],
    status: StatusCode,
) -> Response {
    let rules = state.engine.rules();
    let needs: Vec<(String, String)> = std::iter::once((String::new(), "Choose a need".to_owned()))
        .chain(rules.needs.iter().map(|n| {
            let phases: Vec<&str> = n.phases.iter().map(|p| p.as_str()).collect();
            (n.area.0.clone(), format!("{} ({})", n.area.0.replace('_', " "), phases.join(", ")))
        }))
        .collect();
    let titles: Vec<(String, String)> =
        rules.titles.iter().map(|t| (t.name.0.clone(), t.name.0.clone())).collect();
    let tiers: Vec<(String, String)> = [
        ("1", "1 (most urgent)"),
        ("2", "2"),
        ("3", "3"),
        ("4", "4"),
        ("follow", "Follow the school's risk"),
    ]
    .map(|(v, t)| (v.to_owned(), t.to_owned()))
    .to_vec();
    let fundings: Vec<(String, String)> = FundingSource::ALL
        .iter()
        .map(|f| (f.as_str().to_owned(), funding_name(*f).to_owned()))
        .collect();
    let (title, action, button) = match amend {
        None => ("Raise a request".to_owned(), "/requests".to_owned(), "Raise request"),
        Some(id) => (
            format!("Amend request {id}"),
            format!("/requests/{}/amend", encode(id)),
            "Save changes",
        ),
    };
    let back = match amend {
        None => "/requests".to_owned(),
        Some(id) => format!("/requests/{}", encode(id)),
    };
    let body = html! {
        a href=(back) class="govuk-back-link" { "Back" }
        div class="govuk-grid-row" {
            div class="govuk-grid-column-two-thirds" {
                h1 class="govuk-heading-l" { (title) }
                form method="post" action=(action) novalidate {
                    input type="hidden" name="csrf" value=(user.csrf);
                    @if amend.is_none() {
                        (layout::text_input("request", "Request reference", Some("The LA's own reference, for example req-2026-041: letters, digits, - or _"), &form.request, "govuk-input--width-20", errors))
                        (layout::text_input("urn", "School URN", Some("The school's 6-digit unique reference number"), &form.urn, "govuk-input--width-10", errors))
                    } @else {
                        (layout::summary_list(&[("School URN", html! { (form.urn) })]))
                    }
                    (layout::select("need", "Area of need", &needs, &form.need, errors))
                    (layout::checkboxes("designations", "Designations that may take it", &titles, &form.designations, errors))
                    (layout::radios("tier", "Tier", &tiers, &form.tier, errors))
                    fieldset class="govuk-fieldset" {
                        legend class="govuk-fieldset__legend govuk-fieldset__legend--s" { "Days of support per half-term" }
                        @for (period, days) in &form.days {
                            (layout::text_input(&format!("days-{period}"), period, None, days, "govuk-input--width-3", errors))
                        }
                    }
                    (layout::select("funding", "Funding", &fundings, &form.funding, errors))
                    (layout::text_input("purchase_order", "Purchase order (optional)", None, &form.purchase_order, "govuk-input--width-20", errors))
                    button type="submit" class="govuk-button" data-module="govuk-button" { (button) }
                }
            }
        }
    };
    render(status, page(&title, state.options.la, Some(user), errors, body))
}

pub async fn raise(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(fields): Form<Fields>,
) -> Response {
    if let Err(r) = user.may_post(field(&fields, "csrf"), Action::Broker) {
        return *r;
    }
    let form = typed_request(&state, &fields);
    let (urn, tier, funding, days, errors) = checked(&form);
    let (Some(urn), Some(tier), true) = (urn, tier, errors.is_empty()) else {
        return raise_form(&state, &user, &form, &errors, StatusCode::UNPROCESSABLE_ENTITY);
    };
    let command = Command::RaiseRequest(RaiseRequest {
        request: RequestId(form.request.clone()),
        urn,
        need: NeedArea(form.need.clone()),
        designations: form.designations.iter().cloned().map(Designation).collect(),
        tier,
        days,
        funding: funding.unwrap_or(FundingSource::LaCore),
        purchase_order: Some(form.purchase_order.clone()).filter(|p| !p.is_empty()),
    });
    match handle(&state, &user, command).await {
        Ok(Ok(())) => Redirect::to(&format!("/requests/{}", encode(&form.request))).into_response(),
        Ok(Err(r)) => {
            let errors =
                [FieldError { id: form_field(&r.field, &form), message: rejection_message(&r) }];
            raise_form(&state, &user, &form, &errors, StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(e) => server_error(&state, &user, &e),
    }
}

/// The request form's values as sent.
fn typed_request(state: &AppState, fields: &Fields) -> RaiseForm {
    RaiseForm {
        request: field(fields, "request").trim().to_owned(),
        urn: field(fields, "urn").trim().to_owned(),
        need: field(fields, "need").to_owned(),
        designations: all(fields, "designations"),
        tier: field(fields, "tier").to_owned(),
        funding: field(fields, "funding").to_owned(),
        purchase_order: field(fields, "purchase_order").trim().to_owned(),
        days: planning(state)
            .into_iter()
            .map(|p| {
                let v = field(fields, &format!("days-{p}")).trim().to_owned();
                (p, v)
            })
            .collect(),
    }
}

type Checked = (
    Option<Urn>,
    Option<TierChoice>,
    Option<FundingSource>,
    BTreeMap<Period, u32>,
    Vec<FieldError>,
);

/// What the request form itself can tell; the rest is the engine's to refuse.
fn checked(form: &RaiseForm) -> Checked {
    let mut errors = Vec::new();
    let urn = form.urn.parse::<u32>().ok().map(Urn);
    if urn.is_none() {
        errors.push(FieldError {
            id: "urn".into(),
            message: "Enter the school's URN, a number such as 102400".into(),
        });
    }
    let tier = match form.tier.as_str() {
        "1" => Some(TierChoice::Tier1),
        "2" => Some(TierChoice::Tier2),
        "3" => Some(TierChoice::Tier3),
        "4" => Some(TierChoice::Tier4),
        "follow" => Some(TierChoice::Follow),
        _ => None,
    };
    if tier.is_none() {
        errors.push(FieldError { id: "tier".into(), message: "Choose a tier".into() });
    }
    let funding = FundingSource::ALL.into_iter().find(|f| f.as_str() == form.funding);
    let mut days = BTreeMap::new();
    for (period, text) in &form.days {
        match text.as_str() {
            "" | "0" => {}
            t => match t.parse::<u32>() {
                Ok(d) => {
                    days.insert(Period(period.clone()), d);
                }
                Err(_) => errors.push(FieldError {
                    id: format!("days-{period}"),
                    message: format!("Days in {period} must be a whole number, like 2"),
                }),
            },
        }
    }
    if errors.is_empty() && days.is_empty() {
        let first = form.days.first().map(|(p, _)| p.clone()).unwrap_or_default();
        errors.push(FieldError {
            id: format!("days-{first}"),
            message: "Enter the days of support in at least one half-term".into(),
        });
    }
    (urn, tier, funding, days, errors)
}

/// The form field a rejection's `field` names (`days.2026-SP1` is the
/// input `days-2026-SP1`; a field the form does not show is the request's).
fn form_field(field: &str, form: &RaiseForm) -> String {
    let field = field.strip_prefix("command.").unwrap_or(field);
    let (head, rest) = field.split_once(['.', '[']).unwrap_or((field, ""));
    match head {
        "days" => {
            let period = rest.trim_end_matches(']');
            match form.days.iter().any(|(p, _)| p == period) {
                true => format!("days-{period}"),
                false => form
                    .days
                    .first()
                    .map(|(p, _)| format!("days-{p}"))
                    .unwrap_or_else(|| "request".into()),
            }
        }
        "urn" | "need" | "designations" | "tier" | "funding" | "purchase_order" | "request" => {
            head.to_owned()
        }
        _ => "request".to_owned(),
    }
}

pub(super) fn server_error(state: &AppState, user: &CurrentUser, error: &str) -> Response {
    tracing::error!(error, "a page failed");
    let body = html! {
        h1 class="govuk-heading-l" { "Sorry, there is a problem with the service" }
        p class="govuk-body" { "Try again later. Nothing you sent was lost: what was recorded stays recorded." }
    };
    render(
        StatusCode::INTERNAL_SERVER_ERROR,
        page("Sorry, there is a problem", state.options.la, Some(user), &[], body),
    )
}

// --- the accessibility statement ---------------------------------------------------

pub async fn accessibility(State(state): State<AppState>) -> Response {
    let body = html! {
        h1 class="govuk-heading-l" { "Accessibility statement for Bridges" }
        p class="govuk-body" {
            "This statement applies to the Bridges broker's desk: the web pages a local authority's brokers, "
            "peer-review coordinators and their colleagues use to broker school-to-school support."
        }
        p class="govuk-body" {
            "We want as many people as possible to be able to use it. You should be able to change colours, "
            "contrast levels and fonts, zoom in up to 400% without the text spilling off the screen, "
            "navigate the whole service using just a keyboard or speech recognition software, and listen to it "
            "using a screen reader. Every page works without JavaScript."
        }
        h2 class="govuk-heading-m" { "How accessible this service is" }
        p class="govuk-body" {
            "The pages follow the GOV.UK Design System's components and patterns. We test every page "
            "with axe-core in a real browser, and the main journeys by keyboard alone and with JavaScript off."
        }
        p class="govuk-body" { "We know some parts are not fully accessible:" }
        ul class="govuk-list govuk-list--bullet" {
            li { "a request's history is shown as preformatted text, which is harder to read with a screen reader than a table" }
            li { "the map of a review round's groups is an image: the table beside it holds the same content" }
            li { "a matching run's progress page, with JavaScript on, checks again every 2 seconds and updates its status line in place; it moves on to the run's result by itself when the run is recorded" }
            li { "report tables show their first 100 rows; the CSV download holds them all" }
        }
        h2 class="govuk-heading-m" { "Reporting accessibility problems" }
        p class="govuk-body" {
            "Tell your local authority's service owner for Bridges. They will reply within 5 working days."
        }
        h2 class="govuk-heading-m" { "Enforcement procedure" }
        p class="govuk-body" {
            "The Equality and Human Rights Commission (EHRC) is responsible for enforcing the Public Sector Bodies "
            "(Websites and Mobile Applications) (No. 2) Accessibility Regulations 2018. If you are not happy with "
            "how we respond to your complaint, contact the Equality Advisory and Support Service (EASS)."
        }
        h2 class="govuk-heading-m" { "Compliance status" }
        p class="govuk-body" {
            "This service is partially compliant with the Web Content Accessibility Guidelines version 2.2 AA "
            "standard, due to the non-compliances listed above."
        }
        p class="govuk-body" { "This statement was prepared on 3 December 2026 and reviewed on 4 December 2026." }
    };
    render(StatusCode::OK, page("Accessibility statement", state.options.la, None, &[], body))
}

// --- amending, withdrawing and closing a request ------------------------------------

pub async fn amend_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Response {
    if let Err(r) = user.require(Action::Broker) {
        return *r;
    }
    let rid = RequestId(id.clone());
    let request = match state.engine.read(|s| s.requests.get(&rid).cloned()).await {
        Ok(Some(r)) => r,
        Ok(None) => return not_found(State(state.clone())).await,
        Err(e) => return server_error(&state, &user, &e.to_string()),
    };
    let tier = match request.tier {
        TierChoice::Tier1 => "1",
        TierChoice::Tier2 => "2",
        TierChoice::Tier3 => "3",
        TierChoice::Tier4 => "4",
        TierChoice::Follow => "follow",
    };
    let form = RaiseForm {
        request: id.clone(),
        urn: request.urn.to_string(),
        need: request.need.0.clone(),
        designations: request.designations.iter().map(|d| d.0.clone()).collect(),
        tier: tier.to_owned(),
        funding: request.funding.as_str().to_owned(),
        purchase_order: request.purchase_order.clone().unwrap_or_default(),
        days: planning(&state)
            .into_iter()
            .map(|p| {
                let d = request.days.get(&Period(p.clone())).map(|d| d.to_string());
                (p, d.unwrap_or_default())
            })
            .collect(),
    };
    request_form(&state, &user, &form, Some(&id), &[], StatusCode::OK)
}

/// Sends the fields that changed as one `AmendRequest`.
pub async fn amend(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(fields): Form<Fields>,
) -> Response {
    if let Err(r) = user.may_post(field(&fields, "csrf"), Action::Broker) {
        return *r;
    }
    let rid = RequestId(id.clone());
    let request = match state.engine.read(|s| s.requests.get(&rid).cloned()).await {
        Ok(Some(r)) => r,
        Ok(None) => return not_found(State(state.clone())).await,
        Err(e) => return server_error(&state, &user, &e.to_string()),
    };
    let mut form = typed_request(&state, &fields);
    (form.request, form.urn) = (id.clone(), request.urn.to_string());
    let (_, tier, funding, typed_days, errors) = checked(&form);
    let Some(tier) = tier.filter(|_| errors.is_empty()) else {
        return request_form(
            &state,
            &user,
            &form,
            Some(&id),
            &errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    };
    // Days of half-terms the form does not show (ended) stay as they were.
    let shown: Vec<Period> = form.days.iter().map(|(p, _)| Period(p.clone())).collect();
    let mut days: BTreeMap<Period, u32> = request
        .days
        .iter()
        .filter(|(p, _)| !shown.contains(p))
        .map(|(p, d)| (p.clone(), *d))
        .collect();
    days.extend(typed_days);
    let designations: Vec<Designation> =
        form.designations.iter().cloned().map(Designation).collect();
    let purchase_order = Some(form.purchase_order.clone()).filter(|p| !p.is_empty());
    let command = Command::AmendRequest(AmendRequest {
        request: rid,
        need: Some(NeedArea(form.need.clone())).filter(|n| *n != request.need),
        designations: Some(designations).filter(|d| *d != request.designations),
        tier: Some(tier).filter(|t| *t != request.tier),
        days: Some(days).filter(|d| *d != request.days),
        funding: funding.filter(|f| *f != request.funding),
        purchase_order: purchase_order.filter(|p| Some(p) != request.purchase_order.as_ref()),
    });
    match handle(&state, &user, command).await {
        Ok(Ok(())) => Redirect::to(&format!("/requests/{}", encode(&id))).into_response(),
        Ok(Err(r)) => {
            let mut field = form_field(&r.field, &form);
            if field == "request" || field == "urn" {
                field = "need".into();
            }
            let errors = [FieldError { id: field, message: rejection_message(&r) }];
            request_form(&state, &user, &form, Some(&id), &errors, StatusCode::UNPROCESSABLE_ENTITY)
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
    if let Err(r) = user.may_post(field(&fields, "csrf"), Action::Broker) {
        return *r;
    }
    let typed = RequestTyped {
        withdraw_reason: field(&fields, "withdraw-reason").trim().to_owned(),
        ..Default::default()
    };
    if typed.withdraw_reason.is_empty() {
        let errors = [FieldError {
            id: "withdraw-reason".into(),
            message: "Enter why the request is withdrawn".into(),
        }];
        return request_response(&state, &user, &id, &typed, &errors).await;
    }
    let command = Command::WithdrawRequest(WithdrawRequest {
        request: RequestId(id.clone()),
        reason: typed.withdraw_reason.clone(),
    });
    request_act(&state, &user, &id, command, &typed, "withdraw-reason").await
}

pub async fn close(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(fields): Form<Fields>,
) -> Response {
    if let Err(r) = user.may_post(field(&fields, "csrf"), Action::Broker) {
        return *r;
    }
    let typed = RequestTyped {
        impact: field(&fields, "close-impact").to_owned(),
        close_note: field(&fields, "close-note").trim().to_owned(),
        ..Default::default()
    };
    let Some(impact) = ImpactRating::ALL.into_iter().find(|r| r.as_str() == typed.impact) else {
        let errors = [FieldError {
            id: "close-impact".into(),
            message: "Choose the school's rating of the impact".into(),
        }];
        return request_response(&state, &user, &id, &typed, &errors).await;
    };
    let command = Command::CloseRequest(CloseRequest {
        request: RequestId(id.clone()),
        impact,
        note: Some(typed.close_note.clone()).filter(|n| !n.is_empty()),
    });
    request_act(&state, &user, &id, command, &typed, "close-impact").await
}

async fn request_act(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    command: Command,
    typed: &RequestTyped,
    field: &str,
) -> Response {
    match handle(state, user, command).await {
        Ok(Ok(())) => Redirect::to(&format!("/requests/{}", encode(id))).into_response(),
        Ok(Err(r)) => {
            let errors = [FieldError { id: field.to_owned(), message: rejection_message(&r) }];
            request_response(state, user, id, typed, &errors).await
        }
        Err(e) => server_error(state, user, &e),
    }
}

/// Emails the receiving school a link to rate the impact (and close).
pub async fn ask_impact(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Form(fields): Form<Fields>,
) -> Response {
    if let Err(r) = user.may_post(field(&fields, "csrf"), Action::Broker) {
        return *r;
    }
    let typed = RequestTyped {
        email: field(&fields, "school-email").trim().to_owned(),
        ..Default::default()
    };
    let rid = RequestId(id.clone());
    // The link names the request through its latest assignment.
    let assignment = state
        .engine
        .read(|s| s.assignments_of(&rid).filter(|a| !a.pending_run).last().map(|a| a.id.clone()))
        .await
        .ok()
        .flatten();
    let result = match &assignment {
        Some(a) => {
            let kind = super::links::LinkKind::RateImpact;
            super::links::send_to_school(&state, a, kind, None, &typed.email).await
        }
        None => Err("The request has no assignment yet: close it here instead".to_owned()),
    };
    match result {
        Ok(()) => super::assignments::sent(
            &state,
            &user,
            &format!("/requests/{}", encode(&id)),
            &typed.email,
        ),
        Err(message) => {
            let errors = [FieldError { id: "school-email".into(), message }];
            request_response(&state, &user, &id, &typed, &errors).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::pagination;

    #[test]
    fn pagination_shows_the_ends_and_the_pages_near_the_current_one() {
        let html = pagination(6, 12, &|n| format!("/requests?page={n}")).into_string();
        for n in [1, 4, 5, 6, 7, 8, 12] {
            assert!(html.contains(&format!("aria-label=\"Page {n}\"")), "page {n} in {html}");
        }
        for n in [2, 3, 9, 10, 11] {
            assert!(!html.contains(&format!("aria-label=\"Page {n}\"")), "page {n} hidden");
        }
        assert_eq!(html.matches("aria-current=\"page\"").count(), 1);
        assert!(
            html.contains("href=\"/requests?page=6\" aria-label=\"Page 6\" aria-current=\"page\"")
        );
        assert!(html.contains("rel=\"prev\"") && html.contains("rel=\"next\""));
        assert_eq!(html.matches('⋯').count(), 2, "a gap each side");
        let first = pagination(1, 2, &|n| format!("?page={n}")).into_string();
        assert!(!first.contains("rel=\"prev\"") && first.contains("rel=\"next\""));
    }
}
