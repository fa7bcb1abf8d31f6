//! Sessions, CSRF tokens and the sign-in rate limit of `bridges web`.
//!
//! - A session is a random 256-bit token in the cookie `bridges_session`
//!   (`HttpOnly`, `SameSite=Strict`, `Path=/`, and `Secure` whenever the
//!   page is served over HTTPS), held in memory: it ends after
//!   [`IDLE`] without a request, after [`LONGEST`] in any case, when its
//!   account is disabled, and on sign-out. A restart signs everyone out.
//! - Every form carries the session's CSRF token (a second random value,
//!   never in a cookie); a POST whose token differs is refused with 403
//!   before anything is read. The sign-in form, before any session, carries
//!   a token of its own that must match a cookie set with it (double submit).
//! - Sign-in failures are counted per account name and per client address:
//!   [`MAX_FAILURES`] for a name (or [`MAX_FAILURES_PER_ADDRESS`] from an
//!   address) within [`WINDOW`], and the next attempts are refused (429)
//!   until the oldest failure leaves the window, right password or not.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::FromRequestParts;
use axum::http::{HeaderMap, StatusCode, header, request::Parts};
use axum::response::{IntoResponse, Redirect, Response};
use bridges_schemas::accounts::Role;
use bridges_schemas::vocab::UserId;
use rand::RngCore;

use super::AppState;
use super::accounts::{Action, may};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "bridges_session";
/// The sign-in form's own CSRF cookie.
pub const LOGIN_COOKIE: &str = "bridges_login";
/// A session ends after this long without a request.
pub const IDLE: Duration = Duration::from_secs(30 * 60);
/// And after this long in any case.
pub const LONGEST: Duration = Duration::from_secs(10 * 60 * 60);
/// Sign-in failures allowed within [`WINDOW`] per account name.
pub const MAX_FAILURES: usize = 5;
/// And per client address (an office behind one address signs in often).
pub const MAX_FAILURES_PER_ADDRESS: usize = 50;
pub const WINDOW: Duration = Duration::from_secs(15 * 60);

/// A signed-in user, as every page and form sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrentUser {
    pub user: UserId,
    pub role: Role,
    /// The token every form of this session carries.
    pub csrf: String,
}

impl CurrentUser {
    pub fn may(&self, action: Action) -> bool {
        may(self.role, action)
    }

    /// Refuses (403) what the role may not do.
    pub fn require(&self, action: Action) -> Result<(), Box<Response>> {
        match self.may(action) {
            true => Ok(()),
            false => Err(Box::new(super::pages::forbidden(self, action))),
        }
    }

    /// A form's POST: refuses (403) a token that is not the session's,
    /// then what the role may not do.
    pub fn may_post(&self, token: &str, action: Action) -> Result<(), Box<Response>> {
        self.check_csrf(token)?;
        self.require(action)
    }

    /// Refuses (403) a form whose CSRF token is not the session's.
    pub fn check_csrf(&self, token: &str) -> Result<(), Box<Response>> {
        match constant_time_eq(token.as_bytes(), self.csrf.as_bytes()) {
            true => Ok(()),
            false => Err(Box::new(
                (
                    StatusCode::FORBIDDEN,
                    "The form has expired or was not sent by this service: go back, reload the \
                     page and try again.",
                )
                    .into_response(),
            )),
        }
    }
}

#[derive(Debug)]
struct Session {
    user: UserId,
    role: Role,
    csrf: String,
    started: Instant,
    seen: Instant,
}

/// The sessions of one server.
#[derive(Debug, Default)]
pub struct Sessions {
    map: Mutex<HashMap<String, Session>>,
}

impl Sessions {
    /// Starts a session and gives its token.
    pub fn start(&self, user: UserId, role: Role) -> String {
        let token = random_token();
        let now = Instant::now();
        let session = Session { user, role, csrf: random_token(), started: now, seen: now };
        self.lock().insert(token.clone(), session);
        token
    }

    /// The session of `token`, if it still stands (and notes the request).
    fn get(&self, token: &str) -> Option<CurrentUser> {
        let mut map = self.lock();
        let now = Instant::now();
        let session = map.get_mut(token)?;
        if now.duration_since(session.seen) > IDLE || now.duration_since(session.started) > LONGEST
        {
            map.remove(token);
            return None;
        }
        session.seen = now;
        Some(CurrentUser {
            user: session.user.clone(),
            role: session.role,
            csrf: session.csrf.clone(),
        })
    }

    pub fn end(&self, token: &str) {
        self.lock().remove(token);
    }

    /// Ends every session of `user` (disabled, or its password reset).
    pub fn end_all_of(&self, user: &str) {
        self.lock().retain(|_, s| s.user.as_str() != user);
    }

    pub fn count(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Sign-in failures by key (`user:<name>`, `addr:<ip>`).
#[derive(Debug, Default)]
pub struct Limiter {
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl Limiter {
    /// How long until `keys` may try again; `None` when they may now.
    pub fn blocked(&self, keys: &[String]) -> Option<Duration> {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        keys.iter()
            .filter_map(|k| {
                let q = map.get_mut(k)?;
                while q.front().is_some_and(|t| now.duration_since(*t) > WINDOW) {
                    q.pop_front();
                }
                let most =
                    if k.starts_with("addr:") { MAX_FAILURES_PER_ADDRESS } else { MAX_FAILURES };
                (q.len() >= most).then(|| WINDOW.saturating_sub(now.duration_since(q[0])))
            })
            .max()
    }

    pub fn failed(&self, keys: &[String]) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        for k in keys {
            map.entry(k.clone()).or_default().push_back(Instant::now());
        }
    }

    pub fn succeeded(&self, user_key: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(user_key);
    }
}

/// A random 256-bit token, hex.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// The value of cookie `name` in `headers`.
pub fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find_map(|(k, v)| (k == name).then_some(v))
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Strict, Path=/, Secure over HTTPS.
pub fn set_cookie(name: &str, value: &str, secure: bool, max_age: Option<u64>) -> String {
    let mut c = format!("{name}={value}; HttpOnly; SameSite=Strict; Path=/");
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    if secure {
        c.push_str("; Secure");
    }
    c
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = Response;

    /// The session's user; without one, a page redirects to sign in and a
    /// write is refused (403).
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let found = cookie(&parts.headers, SESSION_COOKIE).and_then(|t| state.sessions.get(t));
        // A disabled account's sessions end at its next request.
        let account =
            found.as_ref().and_then(|u| state.accounts.get(u.user.as_str()).ok().flatten());
        let found = found.filter(|_| account.as_ref().is_some_and(|a| !a.disabled));
        // After an administrator's reset, nothing but choosing a new password.
        let must_change = account.is_some_and(|a| a.must_change_password);
        let path = parts.uri.path();
        if found.is_some() && must_change && path != "/account/password" && path != "/logout" {
            return Err(match parts.method == axum::http::Method::GET {
                true => Redirect::to("/account/password").into_response(),
                false => (StatusCode::FORBIDDEN, "Choose a new password first.").into_response(),
            });
        }
        match found {
            Some(user) => Ok(user),
            None if parts.method == axum::http::Method::GET => {
                let next = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
                let to = format!("/login?next={}", super::pages::encode(next));
                Err(Redirect::to(&to).into_response())
            }
            None => Err((StatusCode::FORBIDDEN, "Sign in first.").into_response()),
        }
    }
}
