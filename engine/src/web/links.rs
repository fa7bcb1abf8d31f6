//! Links sent by email, and the mail that carries them.
//!
//! A link is a sealed [`Link`] (XChaCha20-Poly1305 under the key store's
//! `web-links` key: nobody can make or alter one, and it says nothing to
//! whoever reads the address) in the path `/links/<token>`. It works until
//! its `expires` and once: what a link does is sent with the command id
//! `link-<id>`, so a second use is the log's duplicate, refused. A GET only
//! shows the page (a mail scanner that follows links changes nothing);
//! only a POST from that page acts, recorded with the actor
//! `link-<practitioner>`.
//!
//! The mailer (`[mail]` of the config) looks every `poll_seconds` for mail
//! to send: each proposal awaiting an answer gets its link (valid to the
//! end of its answer-by day), a reminder with a fresh link `remind_hours`
//! before that, and each accepted assignment without first contact gets a
//! link to record it. What was sent is kept in `<data>-mail.json` (written
//! after the relay accepts each message), so a restart sends nothing twice.

use std::collections::BTreeMap;
use std::path::{Path as FsPath, PathBuf};
use std::time::Duration;

use axum::Form;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use bridges_schemas::PractitionerId;
use bridges_schemas::commands::{
    AcceptAssignment, CloseRequest, Command, CommandEnvelope, ConfirmVisit, DeclineAssignment,
    RecordFirstContact,
};
use bridges_schemas::vocab::{AssignmentId, DeclineReason, ImpactRating, Sealed, UserId, VisitId};
use chrono::{DateTime, NaiveDate, TimeZone as _, Utc};
use chrono_tz::Europe::London;
use maud::html;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use super::AppState;
use super::layout::{self, FieldError, page};
use super::pages::{Fields, field, rejection_message, render};
use crate::config::MailSettings;
use crate::domain::Sealer as _;
use crate::domain::calendar::london_date;
use crate::domain::state::{AssignmentStatus, State as DomainState};
use crate::handle::Outcome;
use crate::views::{self, Personal};

/// The key store's subject whose key seals links.
pub const LINK_KEY: &str = "web-links";
/// How long a link to record first contact works.
const CONTACT_DAYS: i64 = 14;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/links/{token}", get(link_page))
        .route("/links/{token}/accept", post(accept))
        .route("/links/{token}/decline", post(decline))
        .route("/links/{token}/contact", post(contact))
        .route("/links/{token}/confirm", post(confirm))
        .route("/links/{token}/rate", post(rate))
}

/// What a link lets its holder do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkKind {
    /// Accept or decline a proposal.
    Answer,
    /// Record first contact with the school.
    FirstContact,
    /// The receiving school confirms a visit (`visit`).
    ConfirmVisit,
    /// The receiving school rates the impact, closing the request.
    RateImpact,
}

/// A link's content, sealed into its token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    pub id: String,
    pub kind: LinkKind,
    pub assignment: AssignmentId,
    pub practitioner: PractitionerId,
    pub expires: DateTime<Utc>,
    /// The visit a `ConfirmVisit` link is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visit: Option<VisitId>,
}

impl Link {
    fn command_id(&self) -> String {
        format!("link-{}", self.id)
    }
}

/// Seals `link` into a token (none when the key store cannot).
pub fn seal(state: &AppState, link: &Link) -> Option<String> {
    let keys = state.engine.keys();
    keys.ensure(LINK_KEY).ok()?;
    let plain = serde_json::to_vec(link).ok()?;
    let sealed = keys.seal(LINK_KEY, &plain)?;
    let mut bytes = STANDARD.decode(&sealed.nonce).ok()?;
    bytes.extend(STANDARD.decode(&sealed.data).ok()?);
    Some(URL_SAFE_NO_PAD.encode(bytes))
}

/// Opens a token: none when it was not sealed here (or was altered).
pub fn open(state: &AppState, token: &str) -> Option<Link> {
    let bytes = URL_SAFE_NO_PAD.decode(token).ok()?;
    if bytes.len() <= 24 {
        return None;
    }
    let sealed = Sealed {
        key: LINK_KEY.to_owned(),
        nonce: STANDARD.encode(&bytes[..24]),
        data: STANDARD.encode(&bytes[24..]),
    };
    let plain = state.engine.keys().unseal(&sealed)?;
    serde_json::from_slice(&plain).ok()
}

/// The end of `day` in London.
fn end_of(day: NaiveDate) -> DateTime<Utc> {
    let last = day.and_hms_opt(23, 59, 59).unwrap_or_default();
    London
        .from_local_datetime(&last)
        .earliest()
        .map_or_else(|| Utc.from_utc_datetime(&last), |t| t.with_timezone(&Utc))
}

// --- the pages ----------------------------------------------------------------------

/// What a link's page is about.
struct About {
    school: String,
    need: String,
    days: String,
    answer_by: Option<NaiveDate>,
    status: AssignmentStatus,
    first_contact: Option<NaiveDate>,
    name: String,
    urn: bridges_schemas::Urn,
    request: bridges_schemas::RequestId,
    request_open: bool,
    /// The visit a `ConfirmVisit` link is about: date, half days, confirmed.
    visit: Option<(NaiveDate, u32, bool, bool)>,
}

/// Why a link does nothing now.
enum Dead {
    Invalid,
    Expired,
    Used,
    /// The assignment has moved on (answered, withdrawn, contact recorded).
    Moot(String),
}

async fn check(state: &AppState, token: &str) -> Result<(Link, About), Dead> {
    let link = open(state, token).ok_or(Dead::Invalid)?;
    if state.options.clock.now() > link.expires {
        return Err(Dead::Expired);
    }
    if matches!(state.engine.log().command_outcome(&link.command_id()), Ok(Some(_))) {
        return Err(Dead::Used);
    }
    let keys = state.engine.keys();
    let about = state
        .engine
        .read(|s| {
            let a = s.assignments.get(&link.assignment).filter(|a| !a.pending_run)?;
            if a.practitioner != link.practitioner {
                return None;
            }
            let r = s.requests.get(&a.request)?;
            let school =
                s.schools.get(&r.urn).map_or_else(|| r.urn.to_string(), |sc| sc.name.clone());
            let name = s
                .practitioners
                .get(&a.practitioner)
                .map_or_else(String::new, |p| views::personal(p, keys).name().to_owned());
            let visit = link.visit.as_ref().and_then(|v| a.visits.get(v)).map(|v| {
                let recorded = v.status == crate::domain::state::VisitStatus::Recorded;
                (v.on, v.half_days, v.confirmed, recorded)
            });
            if link.kind == LinkKind::ConfirmVisit && visit.is_none() {
                return None;
            }
            Some(About {
                school,
                need: r.need.0.replace('_', " "),
                days: views::days(&a.days),
                answer_by: a.answer_by,
                status: a.status,
                first_contact: a.first_contact,
                name,
                urn: r.urn,
                request: r.id.clone(),
                request_open: r.status == crate::domain::state::RequestStatus::Open,
                visit,
            })
        })
        .await
        .ok()
        .flatten()
        .ok_or(Dead::Invalid)?;
    match link.kind {
        LinkKind::Answer if about.status != AssignmentStatus::Proposed => Err(Dead::Moot(format!(
            "This proposal is {} now: there is nothing to answer.",
            views::assignment_status(about.status)
        ))),
        LinkKind::FirstContact if about.status != AssignmentStatus::Accepted => Err(Dead::Moot(
            format!("This assignment is {} now.", views::assignment_status(about.status)),
        )),
        LinkKind::FirstContact if about.first_contact.is_some() => {
            Err(Dead::Moot("First contact is recorded already.".to_owned()))
        }
        LinkKind::ConfirmVisit if about.visit.is_some_and(|v| v.2) => {
            Err(Dead::Moot("The visit is confirmed already.".to_owned()))
        }
        LinkKind::ConfirmVisit if about.visit.is_some_and(|v| !v.3) => Err(Dead::Moot(
            "The visit was voided or cancelled: there is nothing to confirm.".to_owned(),
        )),
        LinkKind::RateImpact if !about.request_open => {
            Err(Dead::Moot("The request is closed already.".to_owned()))
        }
        _ => Ok((link, about)),
    }
}

fn dead_page(state: &AppState, dead: Dead) -> Response {
    let (status, title, text) = match dead {
        Dead::Invalid => (
            StatusCode::NOT_FOUND,
            "This link is not valid",
            "Check you copied the whole address from the email.".to_owned(),
        ),
        Dead::Expired => (
            StatusCode::GONE,
            "This link has expired",
            "Ask the LA's brokerage team to send a new one.".to_owned(),
        ),
        Dead::Used => (
            StatusCode::GONE,
            "This link has been used",
            "Each link works once. What you sent is recorded.".to_owned(),
        ),
        Dead::Moot(why) => (StatusCode::GONE, "There is nothing to do here", why),
    };
    let body = html! {
        h1 class="govuk-heading-l" { (title) }
        p class="govuk-body" { (text) }
    };
    render(status, page(title, state.options.la, None, &[], body))
}

/// The link's page: a GET shows it and changes nothing.
pub async fn link_page(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    state.count();
    match check(&state, &token).await {
        Ok((link, about)) => link_form(&state, &token, &link, &about, &Typed::default(), &[]),
        Err(dead) => dead_page(&state, dead),
    }
}

#[derive(Debug, Default)]
struct Typed {
    reason: String,
    note: String,
    on: String,
}

fn link_form(
    state: &AppState,
    token: &str,
    link: &Link,
    about: &About,
    typed: &Typed,
    errors: &[FieldError],
) -> Response {
    let path = format!("/links/{token}");
    let title = match link.kind {
        LinkKind::Answer => "Can you take this support?",
        LinkKind::FirstContact => "Record first contact with the school",
        LinkKind::ConfirmVisit => "Confirm a visit to your school",
        LinkKind::RateImpact => "How much difference did the support make?",
    };
    let today = london_date(state.options.clock.now()).to_string();
    let on = if typed.on.is_empty() { today } else { typed.on.clone() };
    let body = html! {
        div class="govuk-grid-row" {
            div class="govuk-grid-column-two-thirds" {
                h1 class="govuk-heading-l" { (title) }
                @if !about.name.is_empty() { p class="govuk-body" { "For " (about.name) "." } }
                (layout::summary_list(&[
                    ("School", html! { (about.school) }),
                    ("Area of need", html! { (about.need) }),
                    ("Days by half-term", html! { (about.days) }),
                    ("Answer by", html! { @match about.answer_by { Some(d) => { (d.format("%-d %B %Y")) } None => { "–" } } }),
                ]))
                @match link.kind {
                    LinkKind::Answer => {
                        form method="post" action=(format!("{path}/accept")) novalidate {
                            button type="submit" class="govuk-button" data-module="govuk-button" id="accept" { "Accept" }
                        }
                        h2 class="govuk-heading-m" { "Or decline" }
                        form method="post" action=(format!("{path}/decline")) novalidate {
                            (layout::radios("reason", "Why you cannot take it", &super::assignments::decline_choices(), &typed.reason, errors))
                            (layout::textarea("note", "Anything the broker should know (optional)", &typed.note, errors))
                            button type="submit" class="govuk-button govuk-button--warning" data-module="govuk-button" id="decline" { "Decline" }
                        }
                    }
                    LinkKind::ConfirmVisit => {
                        @if let Some((on, half_days, _, _)) = about.visit {
                            p class="govuk-body" {
                                "The brokerage team has a visit recorded on " (on.format("%-d %B %Y")) " of "
                                (half_days) " half " (if half_days == 1 { "day" } else { "days" }) ". Confirm it took place."
                            }
                        }
                        form method="post" action=(format!("{path}/confirm")) novalidate {
                            button type="submit" class="govuk-button" data-module="govuk-button" id="confirm" { "Confirm the visit" }
                        }
                    }
                    LinkKind::RateImpact => {
                        form method="post" action=(format!("{path}/rate")) novalidate {
                            (layout::radios("impact", "The impact of the support on your school", &super::pages::impact_choices(), &typed.reason, errors))
                            (layout::textarea("note", "What changed (optional)", &typed.note, errors))
                            button type="submit" class="govuk-button" data-module="govuk-button" id="rate" { "Send the rating" }
                        }
                    }
                    LinkKind::FirstContact => {
                        form method="post" action=(format!("{path}/contact")) novalidate {
                            (layout::text_input("on", "Date you first spoke to the school", Some("For example, 2026-12-03 or 3/12/2026"), &on, "govuk-input--width-10", errors))
                            button type="submit" class="govuk-button" data-module="govuk-button" { "Record first contact" }
                        }
                    }
                }
                p class="govuk-body-s" { "This link works once, until " (views::time(link.expires)) "." }
            }
        }
    };
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    render(status, page(title, state.options.la, None, errors, body))
}

/// Sends what a link does, once.
async fn act(
    state: &AppState,
    token: &str,
    command: impl FnOnce(&Link, &About) -> Result<Command, FieldError>,
    typed: Typed,
    done: &str,
) -> Response {
    let (link, about) = match check(state, token).await {
        Ok(v) => v,
        Err(dead) => return dead_page(state, dead),
    };
    let command = match command(&link, &about) {
        Ok(c) => c,
        Err(e) => return link_form(state, token, &link, &about, &typed, &[e]),
    };
    let actor = match link.kind {
        LinkKind::ConfirmVisit | LinkKind::RateImpact => format!("link-school-{}", about.urn),
        LinkKind::Answer | LinkKind::FirstContact => format!("link-{}", link.practitioner),
    };
    let envelope = CommandEnvelope {
        id: link.command_id(),
        actor: UserId(actor),
        at: state.options.clock.now(),
        command,
    };
    match state.engine.handle(&envelope).await {
        Ok(Outcome::Rejected(r)) => {
            let id = match link.kind {
                LinkKind::Answer => "reason",
                LinkKind::FirstContact => "on",
                LinkKind::ConfirmVisit => "confirm",
                LinkKind::RateImpact => "impact",
            };
            let errors = [FieldError { id: id.into(), message: rejection_message(&r) }];
            link_form(state, token, &link, &about, &typed, &errors)
        }
        Ok(Outcome::Duplicate { .. }) => dead_page(state, Dead::Used),
        Ok(_) => {
            let body = html! {
                div class="govuk-panel govuk-panel--confirmation" {
                    h1 class="govuk-panel__title" { "Thank you" }
                    div class="govuk-panel__body" { (done) }
                }
                p class="govuk-body" { "The LA's brokerage team can see it now. You can close this page." }
            };
            render(StatusCode::OK, page("Thank you", state.options.la, None, &[], body))
        }
        Err(e) => {
            tracing::error!(error = %e, "a link's command failed");
            let body = html! {
                h1 class="govuk-heading-l" { "Sorry, there is a problem with the service" }
                p class="govuk-body" { "Try the link again later: it has not been used." }
            };
            render(
                StatusCode::INTERNAL_SERVER_ERROR,
                page("Sorry, there is a problem", state.options.la, None, &[], body),
            )
        }
    }
}

pub async fn accept(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    let command = |l: &Link, _: &About| {
        Ok(Command::AcceptAssignment(AcceptAssignment { assignment: l.assignment.clone() }))
    };
    act(&state, &token, command, Typed::default(), "You have accepted the support.").await
}

pub async fn decline(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Form(fields): Form<Fields>,
) -> Response {
    let typed = Typed {
        reason: field(&fields, "reason").to_owned(),
        note: field(&fields, "note").trim().to_owned(),
        on: String::new(),
    };
    let reason = DeclineReason::ALL.into_iter().find(|r| r.as_str() == typed.reason);
    let note = Some(typed.note.clone()).filter(|n| !n.is_empty());
    let command = move |l: &Link, _: &About| match reason {
        Some(reason) => Ok(Command::DeclineAssignment(DeclineAssignment {
            assignment: l.assignment.clone(),
            reason,
            note,
        })),
        None => {
            Err(FieldError { id: "reason".into(), message: "Choose why you cannot take it".into() })
        }
    };
    act(&state, &token, command, typed, "You have declined. The broker will look for someone else.")
        .await
}

pub async fn contact(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Form(fields): Form<Fields>,
) -> Response {
    let typed = Typed { on: field(&fields, "on").trim().to_owned(), ..Default::default() };
    let on = layout::parse_date(&typed.on);
    let text = typed.on.clone();
    let command = move |l: &Link, _: &About| match on {
        Some(on) => Ok(Command::RecordFirstContact(RecordFirstContact {
            assignment: l.assignment.clone(),
            on,
            note: None,
        })),
        None => Err(FieldError {
            id: "on".into(),
            message: format!("Enter the date as a date, like 2026-12-03 (not \"{text}\")"),
        }),
    };
    act(&state, &token, command, typed, "First contact is recorded.").await
}

pub async fn confirm(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    let command = |l: &Link, _: &About| match &l.visit {
        Some(visit) => Ok(Command::ConfirmVisit(ConfirmVisit {
            assignment: l.assignment.clone(),
            visit: visit.clone(),
        })),
        None => {
            Err(FieldError { id: "confirm".into(), message: "This link names no visit".into() })
        }
    };
    act(&state, &token, command, Typed::default(), "The visit is confirmed.").await
}

pub async fn rate(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Form(fields): Form<Fields>,
) -> Response {
    let typed = Typed {
        reason: field(&fields, "impact").to_owned(),
        note: field(&fields, "note").trim().to_owned(),
        on: String::new(),
    };
    let impact = ImpactRating::ALL.into_iter().find(|r| r.as_str() == typed.reason);
    let note = Some(typed.note.clone()).filter(|n| !n.is_empty());
    // The request is the one of the assignment the link names.
    let command = move |_: &Link, about: &About| match impact {
        Some(impact) => {
            Ok(Command::CloseRequest(CloseRequest { request: about.request.clone(), impact, note }))
        }
        _ => Err(FieldError {
            id: "impact".into(),
            message: "Choose how much difference it made".into(),
        }),
    };
    act(&state, &token, command, typed, "Thank you for rating the support. The request is closed.")
        .await
}

/// Sends the receiving school of assignment `a` a link of `kind` (about
/// `visit`) at `to`, valid for 14 days; the address is not kept.
pub async fn send_to_school(
    state: &AppState,
    assignment: &AssignmentId,
    kind: LinkKind,
    visit: Option<VisitId>,
    to: &str,
) -> Result<(), String> {
    let Some(settings) = state.options.mail.clone() else {
        return Err("Email is not set up for this service ([mail] in its configuration)".into());
    };
    let now = state.options.clock.now();
    let found = state
        .engine
        .read(|s| {
            let a = s.assignments.get(assignment)?;
            let r = s.requests.get(&a.request)?;
            let school =
                s.schools.get(&r.urn).map_or_else(|| r.urn.to_string(), |sc| sc.name.clone());
            Some((a.practitioner.clone(), r.id.clone(), school, a.visits.clone()))
        })
        .await
        .map_err(|e| e.to_string())?;
    let Some((practitioner, request, school, visits)) = found else {
        return Err("No such assignment".into());
    };
    let link = Link {
        id: uuid::Uuid::new_v4().simple().to_string(),
        kind,
        assignment: assignment.clone(),
        practitioner,
        expires: now + chrono::Duration::days(CONTACT_DAYS),
        visit: visit.clone(),
    };
    let token = seal(state, &link).ok_or("the link could not be sealed")?;
    let (subject, intro) = match kind {
        LinkKind::ConfirmVisit => {
            let on = visit
                .as_ref()
                .and_then(|v| visits.get(v))
                .map(|v| v.on.format("%-d %B %Y").to_string());
            (
                format!("Please confirm a visit to {school}"),
                format!(
                    "Dear colleague,\n\nThe brokerage team has recorded a support visit to {school}{} (request {request}).\nPlease confirm it took place:",
                    on.map(|d| format!(" on {d}")).unwrap_or_default()
                ),
            )
        }
        _ => (
            format!("How much difference did the support make at {school}?"),
            format!(
                "Dear colleague,\n\nThe support for {school} (request {request}) is coming to an end.\nPlease rate its impact; your answer closes the request:"
            ),
        ),
    };
    let text = link_text(&intro, &settings, &token, &link, state.options.la);
    send_mail(&settings, to, &subject, text).await.map_err(|e| e.to_string())
}

/// Why a message did not go.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MailError {
    /// The message cannot be made (an address that is not one): sending
    /// it again will not help.
    #[error("{0}")]
    Message(String),
    /// The relay did not take it: it may later.
    #[error("The mail relay did not take the message: {0}")]
    Relay(String),
}

/// The text of a message carrying `link` (sealed as `token`).
fn link_text(intro: &str, settings: &MailSettings, token: &str, link: &Link, la: u16) -> String {
    format!(
        "{intro}\n\n{}/links/{token}\n\nThe link works once, until {}. Opening it changes nothing: you answer on the page it opens.\n\nReference: {}\nBridges, for LA {la}\n",
        settings.base_url,
        views::time(link.expires),
        link.assignment,
    )
}

/// Hands one plain-text message to the relay.
pub async fn send_mail(
    settings: &MailSettings,
    to: &str,
    subject: &str,
    text: String,
) -> Result<(), MailError> {
    use lettre::{AsyncSmtpTransport, AsyncTransport as _, Message, Tokio1Executor};
    let from: lettre::message::Mailbox =
        settings.from.parse().map_err(|e| MailError::Message(format!("mail.from: {e}")))?;
    let to: lettre::message::Mailbox = to.parse().map_err(|_| {
        MailError::Message(format!(
            "Enter an email address, like head@school.example.org (not \"{to}\")"
        ))
    })?;
    let message = Message::builder()
        .from(from)
        .to(to)
        .subject(subject)
        .header(lettre::message::header::ContentType::TEXT_PLAIN)
        .body(text)
        .map_err(|e| MailError::Message(e.to_string()))?;
    let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&settings.smtp_host)
        .port(settings.smtp_port)
        .timeout(Some(Duration::from_secs(30)))
        .build();
    transport.send(message).await.map(|_| ()).map_err(|e| MailError::Relay(e.to_string()))
}

// --- the mailer ---------------------------------------------------------------------

/// One message to send.
#[derive(Debug, Clone, PartialEq)]
pub struct Mail {
    /// Its key in the ledger (`proposal-a1`, `reminder-a1`, `contact-a1`).
    pub key: String,
    pub to: String,
    pub subject: String,
    pub link: Link,
    /// The text before and after the link.
    pub intro: String,
}

/// The mail due at `now` that `sent` does not hold.
pub fn due(
    state: &DomainState,
    sealer: &dyn crate::domain::Sealer,
    now: DateTime<Utc>,
    remind_hours: u32,
    sent: &BTreeMap<String, DateTime<Utc>>,
) -> Vec<Mail> {
    let mut out = Vec::new();
    for a in state.assignments.values().filter(|a| !a.pending_run) {
        let Some(p) = state.practitioners.get(&a.practitioner) else { continue };
        let Personal::Held(details) = views::personal(p, sealer) else { continue };
        let Some(to) = details.email.clone() else { continue };
        let Some(r) = state.requests.get(&a.request) else { continue };
        let school =
            state.schools.get(&r.urn).map_or_else(|| r.urn.to_string(), |s| s.name.clone());
        let what = format!(
            "{} days of support at {} ({}): {}",
            a.days.values().sum::<u32>(),
            school,
            r.need.0.replace('_', " "),
            views::days(&a.days)
        );
        let link = |kind, expires| Link {
            id: uuid::Uuid::new_v4().simple().to_string(),
            kind,
            assignment: a.id.clone(),
            practitioner: a.practitioner.clone(),
            expires,
            visit: None,
        };
        match a.status {
            AssignmentStatus::Proposed => {
                let expires = a.answer_by.map_or(now + chrono::Duration::days(7), end_of);
                if expires <= now {
                    continue;
                }
                let first = format!("proposal-{}", a.id);
                let reminder = format!("reminder-{}", a.id);
                let by = a.answer_by.map(|d| d.format("%-d %B %Y").to_string());
                if !sent.contains_key(&first) {
                    out.push(Mail {
                        key: first,
                        to,
                        subject: format!("Can you take {} days at {school}?", a.days.values().sum::<u32>()),
                        intro: format!(
                            "Dear {},\n\nThe brokerage team proposes you for {what}.\n\nPlease answer{}:",
                            details.name,
                            by.map(|b| format!(" by {b}")).unwrap_or_default()
                        ),
                        link: link(LinkKind::Answer, expires),
                    });
                } else if !sent.contains_key(&reminder)
                    && expires - now <= chrono::Duration::hours(i64::from(remind_hours))
                {
                    out.push(Mail {
                        key: reminder,
                        to,
                        subject: format!("Reminder: please answer about {school}"),
                        intro: format!(
                            "Dear {},\n\nWe have not had your answer about {what}.\nThe proposal lapses{}. Please answer:",
                            details.name,
                            by.map(|b| format!(" at the end of {b}")).unwrap_or_default()
                        ),
                        link: link(LinkKind::Answer, expires),
                    });
                }
            }
            AssignmentStatus::Accepted if a.first_contact.is_none() => {
                let key = format!("contact-{}", a.id);
                if !sent.contains_key(&key) {
                    out.push(Mail {
                        key,
                        to,
                        subject: format!("When did you first contact {school}?"),
                        intro: format!(
                            "Dear {},\n\nThank you for taking {what}.\nWhen you have first spoken to the school, record it:",
                            details.name
                        ),
                        link: link(LinkKind::FirstContact, now + chrono::Duration::days(CONTACT_DAYS)),
                    });
                }
            }
            _ => {}
        }
    }
    out
}

/// What the mailer has sent, by key: `<data>-mail.json`.
#[derive(Debug, Clone)]
pub struct Ledger {
    path: PathBuf,
    pub sent: BTreeMap<String, DateTime<Utc>>,
}

impl Ledger {
    pub fn open(path: &FsPath) -> std::io::Result<Ledger> {
        let sent = match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(std::io::Error::other)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => return Err(e),
        };
        Ok(Ledger { path: path.to_owned(), sent })
    }

    /// Records `key` as sent, durably.
    pub fn record(&mut self, key: String, at: DateTime<Utc>) -> std::io::Result<()> {
        self.sent.insert(key, at);
        let tmp = self.path.with_extension("json.tmp");
        {
            use std::io::Write as _;
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&serde_json::to_vec_pretty(&self.sent).map_err(std::io::Error::other)?)?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, &self.path)
    }
}

/// Sends the mail due every `poll_seconds` until `shutdown`.
pub async fn mailer(
    state: AppState,
    settings: MailSettings,
    ledger: PathBuf,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut ledger = match Ledger::open(&ledger) {
        Ok(l) => l,
        Err(e) => {
            tracing::error!(path = %ledger.display(), error = %e, "the mail ledger does not open; no mail is sent");
            return;
        }
    };
    tracing::info!(relay = %settings.smtp_host, port = settings.smtp_port, "mailer started");
    loop {
        let now = state.options.clock.now();
        let keys = state.engine.keys();
        let due =
            state.engine.read(|s| due(s, keys, now, settings.remind_hours, &ledger.sent)).await;
        for mail in due.unwrap_or_default() {
            if *shutdown.borrow() {
                return;
            }
            let Some(token) = seal(&state, &mail.link) else {
                tracing::error!(key = mail.key, "a link could not be sealed");
                continue;
            };
            let text = link_text(&mail.intro, &settings, &token, &mail.link, state.options.la);
            match send_mail(&settings, &mail.to, &mail.subject, text).await {
                Ok(()) => {
                    if let Err(e) = ledger.record(mail.key.clone(), now) {
                        tracing::error!(error = %e, "the mail ledger could not be written");
                    }
                    tracing::info!(key = mail.key, "mail sent");
                }
                Err(e @ MailError::Message(_)) => {
                    tracing::warn!(key = mail.key, error = %e, "a message could not be made");
                }
                Err(e @ MailError::Relay(_)) => {
                    // Left for the next look.
                    tracing::warn!(key = mail.key, error = %e, "the relay did not take a message");
                    break;
                }
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(settings.poll_seconds)) => {}
            _ = shutdown.wait_for(|s| *s) => return,
        }
    }
}
