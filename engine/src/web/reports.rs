//! The LA's reports on the desk: `/reports?as_of=YYYY-MM-DD` shows every
//! table of `bridges report` as of the end of that day in London (today by
//! default), and `/reports/<table>.csv?as_of=...` downloads one as the
//! same CSV file (a byte-order mark, formula-escaped cells). The log is cut
//! and the state replayed as `bridges report --as-of DATE` does
//! (`reports::cut_of`, `projection::state_at`; the live state when the cut
//! is the head), then `reports::build`. Nothing is recorded.
//!
//! Role `Read`. The report holds no personal data: practitioners appear by
//! their opaque id, never with a name, email or phone (`reports::rows`), so
//! a viewer sees nothing here they may not.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::NaiveDate;
use maud::{Markup, html};

use super::AppState;
use super::accounts::Action;
use super::auth::CurrentUser;
use super::layout::{self, FieldError, page};
use super::pages::{encode, not_found, render, server_error};
use crate::domain::calendar::london_date;
use crate::log::Position;
use crate::reports::{self, AsOf, Report, ReportError, Table};

/// Rows of a table shown on the page; its CSV holds them all.
pub const SHOWN_ROWS: usize = 100;

pub fn routes() -> Router<AppState> {
    Router::new().route("/reports", get(report_page)).route("/reports/{file}", get(csv_file))
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct ReportQuery {
    as_of: Option<String>,
}

/// Why a report as of a date cannot be shown.
enum Refused {
    /// The date typed: the form's error.
    BadInput(String),
    Server(String),
}

pub async fn report_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<ReportQuery>,
) -> Response {
    state.count();
    if let Err(r) = user.require(Action::Read) {
        return *r;
    }
    let typed = q.as_of.as_deref().map(str::trim).unwrap_or_default().to_owned();
    match report_of(&state, &typed).await {
        Ok((date, report)) => {
            let body = report_markup(&date.to_string(), Some(&report), &[]);
            render(StatusCode::OK, page("Reports", state.options.la, Some(&user), &[], body))
        }
        Err(Refused::BadInput(message)) => bad_date(&state, &user, &typed, message),
        Err(Refused::Server(e)) => server_error(&state, &user, &e),
    }
}

/// `/reports/<table>.csv`: one table as its CSV file, for Excel.
pub async fn csv_file(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(file): Path<String>,
    Query(q): Query<ReportQuery>,
) -> Response {
    state.count();
    if let Err(r) = user.require(Action::Read) {
        return *r;
    }
    let Some(name) = file.strip_suffix(".csv") else {
        return not_found(State(state.clone())).await;
    };
    let typed = q.as_of.as_deref().map(str::trim).unwrap_or_default().to_owned();
    let (date, report) = match report_of(&state, &typed).await {
        Ok(r) => r,
        Err(Refused::BadInput(message)) => return bad_date(&state, &user, &typed, message),
        Err(Refused::Server(e)) => return server_error(&state, &user, &e),
    };
    let Some(table) = report.tables.iter().find(|t| t.name == name) else {
        return not_found(State(state.clone())).await;
    };
    match table.to_csv() {
        Ok(bytes) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{}-{date}.csv\"", table.name),
                ),
            ],
            bytes,
        )
            .into_response(),
        Err(e) => server_error(&state, &user, &e.to_string()),
    }
}

/// The report as of the end of `typed` (a date; blank for today).
async fn report_of(state: &AppState, typed: &str) -> Result<(NaiveDate, Report), Refused> {
    let today = london_date(state.options.clock.now());
    let date = match typed {
        "" => today,
        t => match NaiveDate::parse_from_str(t, "%Y-%m-%d") {
            Ok(d) if d > today => {
                return Err(Refused::BadInput(format!(
                    "The date must be today ({today}) or before: you entered {t}"
                )));
            }
            Ok(d) => d,
            Err(_) => {
                return Err(Refused::BadInput(format!(
                    "Enter the date as year-month-day, for example {today}: you entered {t}"
                )));
            }
        },
    };
    let engine = state.engine.clone();
    let cut = tokio::task::spawn_blocking(move || reports::cut_of(engine.log(), AsOf::Date(date)))
        .await
        .map_err(|e| Refused::Server(e.to_string()))?
        .map_err(|e| match e {
            ReportError::AsOf { value, reason } => {
                Refused::BadInput(format!("There is no report as of {value}: {reason}"))
            }
            other => Refused::Server(other.to_string()),
        })?;
    let rules = state.engine.rules();
    // The live state when the cut is its position; else replayed to the cut.
    let live = state
        .engine
        .read_at_position(|s| reports::build(s, rules, cut))
        .await
        .map_err(|e| Refused::Server(e.to_string()))?;
    if live.0.0 == cut.position {
        return Ok((date, live.1));
    }
    let engine = state.engine.clone();
    let report = tokio::task::spawn_blocking(move || {
        crate::projection::state_at::<crate::domain::State>(engine.log(), Position(cut.position))
            .map(|s| reports::build(&s, engine.rules(), cut))
    })
    .await
    .map_err(|e| Refused::Server(e.to_string()))?
    .map_err(|e| Refused::Server(e.to_string()))?;
    Ok((date, report))
}

fn bad_date(state: &AppState, user: &CurrentUser, typed: &str, message: String) -> Response {
    let errors = [FieldError { id: "as_of".into(), message }];
    let body = report_markup(typed, None, &errors);
    render(StatusCode::BAD_REQUEST, page("Reports", state.options.la, Some(user), &errors, body))
}

fn report_markup(as_of: &str, report: Option<&Report>, errors: &[FieldError]) -> Markup {
    html! {
        h1 class="govuk-heading-l" { "Reports" }
        form method="get" action="/reports" novalidate {
            (layout::text_input("as_of", "As of the end of", Some("A date as year-month-day, for example 2026-12-03; blank for today"), as_of, "govuk-input--width-10", errors))
            button type="submit" class="govuk-button govuk-button--secondary" data-module="govuk-button" { "Show the report" }
        }
        @if let Some(report) = report {
            p class="govuk-body" {
                "What was known at the end of " (as_of) " (London): the log up to position " (report.cut.position) ". "
                "Money is in pounds and pence; practitioners appear by their reference only."
            }
            h2 class="govuk-heading-m" { "Tables" }
            ul class="govuk-list" {
                @for t in &report.tables {
                    li { a class="govuk-link" href=(format!("#table-{}", t.name)) { (t.title) } }
                }
            }
            @for t in &report.tables {
                (table_markup(t, as_of))
            }
        }
    }
}

fn table_markup(t: &Table, as_of: &str) -> Markup {
    let numeric: Vec<bool> = (0..t.headers.len()).map(|i| is_numeric(t, i)).collect();
    let columns: Vec<(String, bool)> =
        t.headers.iter().zip(&numeric).map(|(h, n)| (header_text(h), *n)).collect();
    let columns: Vec<(&str, bool)> = columns.iter().map(|(h, n)| (h.as_str(), *n)).collect();
    let href = format!("/reports/{}.csv?as_of={}", t.name, encode(as_of));
    html! {
        h2 class="govuk-heading-m" id=(format!("table-{}", t.name)) { (t.title) }
        p class="govuk-body" {
            a class="govuk-link" href=(href) download id=(format!("download-{}", t.name)) {
                "Download " (t.file_name()) span class="govuk-visually-hidden" { ": " (t.title) }
            }
            " (CSV, " (crate::views::count(t.rows.len(), "row")) ")"
        }
        @if t.rows.is_empty() {
            p class="govuk-body" { "No rows." }
        } @else {
            div class="bridges-scroll" tabindex="0" role="region" aria-label=(t.title) {
                table class="govuk-table govuk-table--small-text-until-tablet" {
                    (layout::table_head(t.title, false, &columns))
                    tbody class="govuk-table__body" {
                        @for row in t.rows.iter().take(SHOWN_ROWS) {
                            tr class="govuk-table__row" {
                                @for (cell, n) in row.iter().zip(&numeric) {
                                    td class={ "govuk-table__cell" @if *n { " govuk-table__cell--numeric" } } { (cell) }
                                }
                            }
                        }
                    }
                }
            }
            @if t.rows.len() > SHOWN_ROWS {
                p class="govuk-body" { "The first " (SHOWN_ROWS) " rows of " (t.rows.len()) "; the CSV file holds them all." }
            }
        }
    }
}

/// A column is right-aligned when every cell it has is a number (and it is
/// not a reference such as a URN).
fn is_numeric(t: &Table, column: usize) -> bool {
    let header = t.headers[column];
    let mut cells =
        t.rows.iter().filter_map(|r| r.get(column)).filter(|c| !c.is_empty()).peekable();
    !header.contains("urn") && cells.peek().is_some() && cells.all(|c| c.parse::<f64>().is_ok())
}

/// `committed_gbp` as `Committed (£)`.
fn header_text(header: &str) -> String {
    let mut words: Vec<String> = header
        .split('_')
        .map(|w| match w {
            "gbp" => "(£)".to_owned(),
            "pct" => "(%)".to_owned(),
            "urn" => "URN".to_owned(),
            w => w.to_owned(),
        })
        .collect();
    if let Some(first) = words.first_mut().and_then(|w| w.get_mut(0..1)) {
        first.make_ascii_uppercase();
    }
    words.join(" ")
}
