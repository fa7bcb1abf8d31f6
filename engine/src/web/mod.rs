//! `bridges web`: the broker's desk, a web page served by the engine over
//! the same `Engine::handle` and projections as the CLI and NATS (DESIGN.md
//! section 8). axum on tokio; pages are server-rendered HTML from maud's
//! compile-checked templates in the GOV.UK Design System's patterns, styled
//! by govuk-frontend's Sass compiled at build time (`engine/build.rs`,
//! embedded; nothing from a CDN) and working without JavaScript.
//!
//! - `accounts`: the accounts file, passwords (Argon2id), the second factor
//!   (TOTP) and what each role may do;
//! - `auth`: sessions, CSRF tokens, the sign-in rate limit, the signed-in
//!   user as an extractor;
//! - `layout`: the page template and the GOV.UK components used;
//! - `pages`: the handlers, each a view struct read from the projections
//!   and a template; every write goes through `handle`, its rejection shown
//!   next to the field it names with the values kept.

pub mod accounts;
mod admin;
pub mod assignments;
pub mod auth;
pub(crate) mod layout;
pub mod links;
pub mod matching;
pub mod pages;
pub mod practitioners;
pub mod reports;
pub mod rounds;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::routing::{get, post};
use tokio::sync::watch;
use tracing::info;

use crate::handle::Engine;
use accounts::AccountStore;

/// The compiled stylesheet (govuk-frontend with a system font stack).
pub const STYLESHEET: &str = include_str!(concat!(env!("OUT_DIR"), "/bridges.css"));

/// How the page is served.
#[derive(Debug, Clone)]
pub struct WebOptions {
    pub listen: SocketAddr,
    /// Cookies `Secure` (served over HTTPS, or behind a proxy that is).
    pub secure_cookies: bool,
    /// The LA's code, shown in the header.
    pub la: u16,
    /// The clock of what pages show and commands record (the system's; a
    /// test's starts where it says). Sign-in codes go by the system's.
    pub clock: crate::nats::schedule::Clock,
    /// What a matching run or a round's forming started here may take
    /// (`[solver]` of the config).
    pub solve: bridges_worker::common::SolveOptions,
    /// Where email goes (`[mail]`); none: no email.
    pub mail: Option<crate::config::MailSettings>,
}

/// What every handler shares.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub engine: Arc<Engine>,
    pub accounts: AccountStore,
    pub sessions: auth::Sessions,
    pub limiter: auth::Limiter,
    pub options: WebOptions,
    /// Pages served, for `/metrics`.
    pub served: AtomicU64,
    /// Matching runs started from the page.
    pub runs: matching::Jobs,
}

impl std::ops::Deref for AppState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    pub fn new(engine: Arc<Engine>, accounts: AccountStore, options: WebOptions) -> AppState {
        AppState(Arc::new(Inner {
            engine,
            accounts,
            sessions: auth::Sessions::default(),
            limiter: auth::Limiter::default(),
            options,
            served: AtomicU64::new(0),
            runs: matching::Jobs::default(),
        }))
    }

    pub(super) fn count(&self) {
        self.served.fetch_add(1, Ordering::Relaxed);
    }
}

/// Every route of the page.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(pages::dashboard))
        .route("/login", get(pages::login_page).post(pages::login))
        .route("/logout", post(pages::logout))
        .route("/requests", get(pages::requests).post(pages::raise))
        .route("/requests/new", get(pages::raise_page))
        .route("/requests/{id}", get(pages::request_page))
        .route("/requests/{id}/propose", post(pages::propose))
        .route("/requests/{id}/amend", get(pages::amend_page).post(pages::amend))
        .route("/requests/{id}/withdraw", post(pages::withdraw))
        .route("/requests/{id}/close", post(pages::close))
        .route("/requests/{id}/ask-impact", post(pages::ask_impact))
        .merge(admin::routes())
        .merge(matching::routes())
        .merge(assignments::routes())
        .merge(links::routes())
        .merge(practitioners::routes())
        .merge(rounds::routes())
        .merge(reports::routes())
        .route("/accessibility", get(pages::accessibility))
        .route("/health", get(pages::health))
        .route("/metrics", get(pages::metrics))
        .route("/assets/bridges.css", get(pages::stylesheet))
        .route("/assets/bridges.js", get(pages::script))
        .fallback(pages::not_found)
        .layer(axum::middleware::from_fn(pages::security_headers))
        .with_state(state)
}

/// The page as a part of a process that holds the engine (`bridges web`,
/// or `bridges serve --web`): the server, and the mailer when `[mail]` is
/// set.
#[derive(Debug, Clone)]
pub struct WebStart {
    /// The data folder: its accounts file sits beside it.
    pub data: std::path::PathBuf,
    pub options: WebOptions,
    /// The ledger of the mail sent (`<data>-mail.json`).
    pub mail_ledger: std::path::PathBuf,
}

impl WebStart {
    /// Serves until `shutdown` turns true, then waits for the mailer.
    pub async fn run(
        self,
        engine: Arc<Engine>,
        shutdown: watch::Receiver<bool>,
    ) -> std::io::Result<()> {
        let mail = self.options.mail.clone();
        let state = AppState::new(engine, AccountStore::beside(&self.data), self.options);
        let mailer = mail.map(|settings| {
            let ledger = self.mail_ledger;
            tokio::spawn(links::mailer(state.clone(), settings, ledger, shutdown.clone()))
        });
        let served = serve(state, shutdown).await;
        if let Some(mailer) = mailer {
            let _ = mailer.await;
        }
        served
    }
}

/// Serves until `shutdown` turns true; in-flight requests finish first.
pub async fn serve(state: AppState, mut shutdown: watch::Receiver<bool>) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(state.options.listen).await?;
    let addr = listener.local_addr()?;
    info!(%addr, la = state.options.la, "web serving");
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            let _ = shutdown.wait_for(|s| *s).await;
        })
        .await
}
