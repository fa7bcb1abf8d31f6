//! The accounts of `bridges web`: who may sign in, with which role. Kept
//! in a file of their own beside the data folder (`<data>-users.json`, mode
//! 0600), not in the log: a password hash or a second-factor secret in an
//! append-only log could never be removed. The staff who act are recorded
//! on every command by their user id, as from the CLI.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::vocab::UserId;

/// What an account may do (README's table of roles).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything, and the only one who manages accounts and erases
    /// practitioners.
    Administrator,
    /// Brokers days: requests, practitioners' availability and conflicts,
    /// matching runs, proposals, visits.
    Broker,
    /// Runs peer-review rounds; reads the rest; never brokers.
    ReviewCoordinator,
    /// Reads everything except practitioners' contact details; writes nothing.
    Viewer,
}

impl Role {
    pub const ALL: [Role; 4] =
        [Role::Administrator, Role::Broker, Role::ReviewCoordinator, Role::Viewer];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Administrator => "administrator",
            Role::Broker => "broker",
            Role::ReviewCoordinator => "review_coordinator",
            Role::Viewer => "viewer",
        }
    }

    /// The role named `s` (`coordinator` is short for `review_coordinator`).
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "coordinator" => Some(Role::ReviewCoordinator),
            _ => Role::ALL.into_iter().find(|r| r.as_str() == s),
        }
    }
}

/// One account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Account {
    pub user: UserId,
    pub role: Role,
    /// The password's Argon2id hash, in PHC string form.
    pub password_hash: String,
    /// The TOTP secret (RFC 6238: SHA-1, 6 digits, 30 s), base32.
    pub totp_secret: String,
    /// A disabled account cannot sign in, and its sessions end.
    #[serde(default)]
    pub disabled: bool,
    /// Set by an administrator's reset: the password must be changed at
    /// the next sign-in.
    #[serde(default)]
    pub must_change_password: bool,
    #[schemars(with = "String")]
    pub created_at: DateTime<Utc>,
}

/// The accounts file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Accounts {
    pub accounts: Vec<Account>,
}

impl Accounts {
    pub fn get(&self, user: &str) -> Option<&Account> {
        self.accounts.iter().find(|a| a.user.as_str() == user)
    }

    pub fn get_mut(&mut self, user: &str) -> Option<&mut Account> {
        self.accounts.iter_mut().find(|a| a.user.as_str() == user)
    }
}
