//! The page template and the GOV.UK Design System components the pages
//! use, as maud functions: a skip link, a service header of Bridges' own
//! (not the GOV.UK header: no crown), service navigation, the error
//! summary, form fields with their error messages, and the footer with
//! the accessibility statement. Markup follows govuk-frontend 5's.

use maud::{DOCTYPE, Markup, html};

use super::auth::CurrentUser;

/// A field's error, shown in the summary (linking to `id`) and by the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The input's id (the summary links to `#id`).
    pub id: String,
    pub message: String,
}

/// A whole page: `title` (prefixed "Error: " when the form has errors).
pub fn page(
    title: &str,
    la: u16,
    user: Option<&CurrentUser>,
    errors: &[FieldError],
    body: Markup,
) -> Markup {
    let full = match errors.is_empty() {
        true => format!("{title} – Bridges"),
        false => format!("Error: {title} – Bridges"),
    };
    html! {
        (DOCTYPE)
        html lang="en" class="govuk-template govuk-template--rebranded" {
            head {
                meta charset="utf-8";
                title { (full) }
                meta name="viewport" content="width=device-width, initial-scale=1";
                link rel="stylesheet" href="/assets/bridges.css";
                script src="/assets/bridges.js" defer {}
            }
            body class="govuk-template__body" {
                a href="#main-content" class="govuk-skip-link" { "Skip to main content" }
                header class="bridges-header" role="banner" {
                    div class="govuk-width-container" {
                        a href="/" class="bridges-header__service" { "Bridges" }
                        span class="bridges-header__la" {
                            "School-to-school support, LA " (la)
                        }
                    }
                }
                @if let Some(user) = user {
                    (navigation(user))
                }
                div class="govuk-width-container" {
                    main class="govuk-main-wrapper" id="main-content" role="main" {
                        (error_summary(errors))
                        (body)
                    }
                }
                footer class="govuk-footer" role="contentinfo" {
                    div class="govuk-width-container" {
                        div class="govuk-footer__meta" {
                            div class="govuk-footer__meta-item govuk-footer__meta-item--grow" {
                                h2 class="govuk-visually-hidden" { "Support links" }
                                ul class="govuk-footer__inline-list" {
                                    li class="govuk-footer__inline-list-item" {
                                        a class="govuk-footer__link" href="/accessibility" { "Accessibility statement" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn navigation(user: &CurrentUser) -> Markup {
    html! {
        section aria-label="Service menu" class="govuk-service-navigation" {
            div class="govuk-width-container" {
                div class="govuk-service-navigation__container" {
                    nav aria-label="Menu" class="govuk-service-navigation__wrapper" {
                        ul class="govuk-service-navigation__list" id="navigation" {
                            @for (href, text) in links(user) {
                                li class="govuk-service-navigation__item" {
                                    a class="govuk-service-navigation__link" href=(href) { (text) }
                                }
                            }
                            li class="govuk-service-navigation__item" {
                                form method="post" action="/logout" class="govuk-!-display-inline" {
                                    input type="hidden" name="csrf" value=(user.csrf);
                                    button type="submit" class="govuk-button govuk-button--secondary govuk-!-margin-bottom-0 govuk-!-margin-top-1" {
                                        "Sign out " (user.user)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The menu's links for `user`'s role.
fn links(user: &CurrentUser) -> Vec<(&'static str, &'static str)> {
    let mut links = vec![
        ("/", "Dashboard"),
        ("/requests", "Requests"),
        ("/runs", "Matching"),
        ("/practitioners", "Practitioners"),
        ("/rounds", "Review rounds"),
        ("/reports", "Reports"),
    ];
    if user.may(super::accounts::Action::ManageUsers) {
        links.push(("/accounts", "Accounts"));
    }
    links
}

/// The error summary: nothing when there are no errors.
pub fn error_summary(errors: &[FieldError]) -> Markup {
    html! {
        @if !errors.is_empty() {
            div class="govuk-error-summary" data-module="govuk-error-summary" {
                div role="alert" {
                    h2 class="govuk-error-summary__title" { "There is a problem" }
                    div class="govuk-error-summary__body" {
                        ul class="govuk-list govuk-error-summary__list" {
                            @for e in errors {
                                li { a href=(format!("#{}", e.id)) { (e.message) } }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The error of field `id`, if any.
pub fn error_of<'e>(errors: &'e [FieldError], id: &str) -> Option<&'e FieldError> {
    errors.iter().find(|e| e.id == id)
}

/// A text input with its label, hint and error.
pub fn text_input(
    id: &str,
    label: &str,
    hint: Option<&str>,
    value: &str,
    width: &str,
    errors: &[FieldError],
) -> Markup {
    let error = error_of(errors, id);
    let described = describedby(id, hint.is_some(), error.is_some());
    html! {
        div class={ "govuk-form-group" @if error.is_some() { " govuk-form-group--error" } } {
            label class="govuk-label" for=(id) { (label) }
            @if let Some(hint) = hint {
                div id=(format!("{id}-hint")) class="govuk-hint" { (hint) }
            }
            @if let Some(e) = error {
                p id=(format!("{id}-error")) class="govuk-error-message" {
                    span class="govuk-visually-hidden" { "Error: " } (e.message)
                }
            }
            input class={ "govuk-input " (width) @if error.is_some() { " govuk-input--error" } }
                id=(id) name=(id) type="text" value=(value)
                aria-describedby=[described];
        }
    }
}

/// A select with its label and error; `options` are (value, text).
pub fn select(
    id: &str,
    label: &str,
    options: &[(String, String)],
    selected: &str,
    errors: &[FieldError],
) -> Markup {
    let error = error_of(errors, id);
    let described = describedby(id, false, error.is_some());
    html! {
        div class={ "govuk-form-group" @if error.is_some() { " govuk-form-group--error" } } {
            label class="govuk-label" for=(id) { (label) }
            @if let Some(e) = error {
                p id=(format!("{id}-error")) class="govuk-error-message" {
                    span class="govuk-visually-hidden" { "Error: " } (e.message)
                }
            }
            select class={ "govuk-select" @if error.is_some() { " govuk-select--error" } }
                id=(id) name=(id) aria-describedby=[described] {
                @for (value, text) in options {
                    option value=(value) selected[value == selected] { (text) }
                }
            }
        }
    }
}

/// Radios in a fieldset; the first radio's id is `id` (the summary's link).
pub fn radios(
    id: &str,
    legend: &str,
    options: &[(String, String)],
    selected: &str,
    errors: &[FieldError],
) -> Markup {
    choices(Choice::Radios, id, legend, options, &[selected.to_owned()], errors)
}

/// Checkboxes in a fieldset; the first box's id is `id`.
pub fn checkboxes(
    id: &str,
    legend: &str,
    options: &[(String, String)],
    checked: &[String],
    errors: &[FieldError],
) -> Markup {
    choices(Choice::Checkboxes, id, legend, options, checked, errors)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Choice {
    Radios,
    Checkboxes,
}

/// The fieldset of radios or checkboxes (govuk-frontend's two share it).
fn choices(
    kind: Choice,
    id: &str,
    legend: &str,
    options: &[(String, String)],
    checked: &[String],
    errors: &[FieldError],
) -> Markup {
    let error = error_of(errors, id);
    let (block, input_type, layout) = match kind {
        Choice::Radios => ("govuk-radios", "radio", " govuk-radios--small govuk-radios--inline"),
        Choice::Checkboxes => ("govuk-checkboxes", "checkbox", " govuk-checkboxes--small"),
    };
    html! {
        div class={ "govuk-form-group" @if error.is_some() { " govuk-form-group--error" } } {
            fieldset class="govuk-fieldset" aria-describedby=[error.map(|_| format!("{id}-error"))] {
                legend class="govuk-fieldset__legend govuk-fieldset__legend--s" { (legend) }
                @if let Some(e) = error {
                    p id=(format!("{id}-error")) class="govuk-error-message" {
                        span class="govuk-visually-hidden" { "Error: " } (e.message)
                    }
                }
                div class={ (block) (layout) } data-module=(block) {
                    @for (i, (value, text)) in options.iter().enumerate() {
                        @let input_id = if i == 0 { id.to_owned() } else { format!("{id}-{i}") };
                        div class=(format!("{block}__item")) {
                            input class=(format!("{block}__input")) id=(input_id) name=(id)
                                type=(input_type) value=(value) checked[checked.contains(value)];
                            label class=(format!("govuk-label {block}__label")) for=(input_id) { (text) }
                        }
                    }
                }
            }
        }
    }
}

/// A table's head: its caption (hidden unless `shown`) and its columns,
/// (header, numeric).
pub fn table_head(caption: &str, shown: bool, columns: &[(&str, bool)]) -> Markup {
    html! {
        caption class={ "govuk-table__caption " @if shown { "govuk-table__caption--s" } @else { "govuk-visually-hidden" } } { (caption) }
        thead class="govuk-table__head" {
            tr class="govuk-table__row" {
                @for (header, numeric) in columns {
                    th scope="col" class={ "govuk-table__header" @if *numeric { " govuk-table__header--numeric" } } { (header) }
                }
            }
        }
    }
}

/// A tag: `colour` one of govuk-frontend's (`red`, `green`, `grey`, ...).
pub fn tag(text: &str, colour: &str) -> Markup {
    html! { strong class=(format!("govuk-tag govuk-tag--{colour}")) { (text) } }
}

fn describedby(id: &str, hint: bool, error: bool) -> Option<String> {
    let mut ids = Vec::new();
    if hint {
        ids.push(format!("{id}-hint"));
    }
    if error {
        ids.push(format!("{id}-error"));
    }
    (!ids.is_empty()).then(|| ids.join(" "))
}

/// A summary list of (key, value) rows.
pub fn summary_list(rows: &[(&str, Markup)]) -> Markup {
    html! {
        dl class="govuk-summary-list" {
            @for (key, value) in rows {
                div class="govuk-summary-list__row" {
                    dt class="govuk-summary-list__key" { (key) }
                    dd class="govuk-summary-list__value" { (value) }
                }
            }
        }
    }
}

/// A textarea with its label and error.
pub fn textarea(id: &str, label: &str, value: &str, errors: &[FieldError]) -> Markup {
    let error = error_of(errors, id);
    let described = describedby(id, false, error.is_some());
    html! {
        div class={ "govuk-form-group" @if error.is_some() { " govuk-form-group--error" } } {
            label class="govuk-label" for=(id) { (label) }
            @if let Some(e) = error {
                p id=(format!("{id}-error")) class="govuk-error-message" {
                    span class="govuk-visually-hidden" { "Error: " } (e.message)
                }
            }
            textarea class={ "govuk-textarea" @if error.is_some() { " govuk-textarea--error" } }
                id=(id) name=(id) rows="3" aria-describedby=[described] { (value) }
        }
    }
}

/// A stream's history as a table: when, who, what.
pub fn history_table(caption: &str, entries: &[crate::views::HistoryEntry]) -> Markup {
    html! {
        table class="govuk-table" {
            (table_head(caption, true, &[("When", false), ("Who", false), ("What", false)]))
            tbody class="govuk-table__body" {
                @for e in entries {
                    tr class="govuk-table__row" {
                        td class="govuk-table__cell" { (crate::views::time(e.at)) }
                        td class="govuk-table__cell" { (e.actor) }
                        td class="govuk-table__cell" { (e.summary) }
                    }
                }
            }
        }
    }
}

/// A date typed as `2026-12-03` or `3/12/2026`.
pub fn parse_date(text: &str) -> Option<chrono::NaiveDate> {
    let text = text.trim();
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .or_else(|_| chrono::NaiveDate::parse_from_str(text, "%d/%m/%Y"))
        .ok()
}
