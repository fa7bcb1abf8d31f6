//! The accounts file of `bridges web` (`<data>-users.json`, mode 0600):
//! read and written whole, under an exclusive lock of `<data>-users.lock`,
//! through a temporary file renamed into place, so `bridges user add` and
//! the web page's administrators can change it while the page serves.
//! Passwords are hashed with Argon2id (the `argon2` crate's defaults, a
//! salt each); the second factor is a TOTP (RFC 6238, `totp-rs`: SHA-1, 6
//! digits, 30 s steps, one step of skew), its secret made here.
//!
//! What each role may do is [`may`]; README holds the same table.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use bridges_schemas::accounts::{Account, Accounts, Role};
use bridges_schemas::vocab::{UserId, is_subject_token};
use chrono::{DateTime, Utc};
use totp_rs::{Algorithm, Secret, TOTP};

/// The shortest password accepted (NCSC: length over complexity).
pub const MIN_PASSWORD: usize = 12;
/// The service name shown by authenticator apps.
const ISSUER: &str = "Bridges";

/// What a role may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Every page except contact details.
    Read,
    /// Practitioners' email and phone.
    SeeContacts,
    /// Requests, practitioners' availability and conflicts, matching runs,
    /// proposals and their answers, visits, budgets.
    Broker,
    /// Peer-review rounds: enrol, form, swap, move, confirm, reviews.
    Coordinate,
    /// Add, disable and reset accounts.
    ManageUsers,
    /// Erase a practitioner.
    Erase,
}

impl Action {
    pub const ALL: [Action; 6] = [
        Action::Read,
        Action::SeeContacts,
        Action::Broker,
        Action::Coordinate,
        Action::ManageUsers,
        Action::Erase,
    ];
}

/// Whether `role` may do `action` (the server asks this before every
/// write, whatever the page showed).
pub fn may(role: Role, action: Action) -> bool {
    use Action::*;
    match role {
        Role::Administrator => true,
        Role::Broker => matches!(action, Read | SeeContacts | Broker),
        Role::ReviewCoordinator => matches!(action, Read | SeeContacts | Coordinate),
        Role::Viewer => matches!(action, Read),
    }
}

/// Why an account could not be changed.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("{field} = {value}: {reason}")]
    Invalid { field: &'static str, value: String, reason: String },
    #[error("{path}: {reason}")]
    Storage { path: PathBuf, reason: String },
}

impl AccountError {
    fn invalid(
        field: &'static str,
        value: impl std::fmt::Display,
        reason: impl Into<String>,
    ) -> Self {
        AccountError::Invalid { field, value: value.to_string(), reason: reason.into() }
    }

    pub fn is_bad_input(&self) -> bool {
        matches!(self, AccountError::Invalid { .. })
    }
}

/// Why a sign-in failed. The page says only that the details are wrong,
/// whichever it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginFailure {
    UnknownUser,
    WrongPassword,
    WrongCode,
    /// The code of a step already used to sign in (a replayed code).
    CodeUsed,
    Disabled,
}

/// A new account's second factor, to enter into an authenticator app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enrolment {
    /// Base32.
    pub secret: String,
    /// `otpauth://totp/Bridges:<user>?secret=...&issuer=Bridges`.
    pub url: String,
}

/// The accounts of one data folder.
#[derive(Debug)]
pub struct AccountStore {
    path: PathBuf,
    lock: PathBuf,
    /// The file as last read, by its modification time.
    cache: Mutex<Option<(SystemTime, Accounts)>>,
    /// The last TOTP step each user signed in with (no code twice).
    used_steps: Mutex<std::collections::HashMap<String, u64>>,
}

impl AccountStore {
    /// The accounts beside `data` (`<data>-users.json`).
    pub fn beside(data: &Path) -> AccountStore {
        let path = crate::cli::beside(data, "users.json");
        let lock = crate::cli::beside(data, "users.lock");
        AccountStore { path, lock, cache: Mutex::new(None), used_steps: Mutex::default() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every account (none when the file does not exist yet).
    pub fn load(&self) -> Result<Accounts, AccountError> {
        let modified = match std::fs::metadata(&self.path) {
            Ok(m) => m.modified().map_err(|e| self.storage(e))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Accounts::default()),
            Err(e) => return Err(self.storage(e)),
        };
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((at, accounts)) = cache.as_ref()
            && *at == modified
        {
            return Ok(accounts.clone());
        }
        let bytes = std::fs::read(&self.path).map_err(|e| self.storage(e))?;
        let accounts: Accounts = serde_json::from_slice(&bytes).map_err(|e| self.storage(e))?;
        *cache = Some((modified, accounts.clone()));
        Ok(accounts)
    }

    /// The account of `user`, if it exists.
    pub fn get(&self, user: &str) -> Result<Option<Account>, AccountError> {
        Ok(self.load()?.get(user).cloned())
    }

    /// Adds an account and gives its second factor to enrol.
    pub fn add(
        &self,
        user: &str,
        role: Role,
        password: &str,
        now: DateTime<Utc>,
    ) -> Result<Enrolment, AccountError> {
        if !is_subject_token(user) {
            return Err(AccountError::invalid(
                "user",
                format!("{user:?}"),
                "1 to 64 ASCII letters, digits, - or _",
            ));
        }
        check_password(password)?;
        let secret = Secret::generate_secret().to_encoded().to_string();
        let enrolment = enrolment(user, &secret)?;
        let hash = hash_password(password)?;
        self.update(|accounts| {
            if accounts.get(user).is_some() {
                return Err(AccountError::invalid("user", user, "an account of that name exists"));
            }
            accounts.accounts.push(Account {
                user: UserId(user.to_owned()),
                role,
                password_hash: hash,
                totp_secret: secret,
                disabled: false,
                must_change_password: false,
                created_at: now,
            });
            Ok(())
        })?;
        Ok(enrolment)
    }

    /// Disables (or enables again) `user`'s account.
    pub fn set_disabled(&self, user: &str, disabled: bool) -> Result<(), AccountError> {
        self.update(|accounts| {
            let a = accounts
                .get_mut(user)
                .ok_or_else(|| AccountError::invalid("user", user, "no such account"))?;
            a.disabled = disabled;
            Ok(())
        })
    }

    /// Sets `user`'s password; `must_change` when an administrator reset it.
    pub fn set_password(
        &self,
        user: &str,
        password: &str,
        must_change: bool,
    ) -> Result<(), AccountError> {
        check_password(password)?;
        let hash = hash_password(password)?;
        self.update(|accounts| {
            let a = accounts
                .get_mut(user)
                .ok_or_else(|| AccountError::invalid("user", user, "no such account"))?;
            a.password_hash = hash;
            a.must_change_password = must_change;
            Ok(())
        })
    }

    /// Checks a sign-in: the account, its password and the code of its
    /// second factor at `now` (a step's code works once).
    pub fn verify(
        &self,
        user: &str,
        password: &str,
        code: &str,
        now: DateTime<Utc>,
    ) -> Result<Account, LoginFailure> {
        let account = self.get(user).ok().flatten().ok_or(LoginFailure::UnknownUser)?;
        let hash =
            PasswordHash::new(&account.password_hash).map_err(|_| LoginFailure::WrongPassword)?;
        Argon2::default()
            .verify_password(password.as_bytes(), &hash)
            .map_err(|_| LoginFailure::WrongPassword)?;
        let totp =
            totp(&account.user.0, &account.totp_secret).map_err(|_| LoginFailure::WrongCode)?;
        let code = code.trim().replace(' ', "");
        let seconds = u64::try_from(now.timestamp()).unwrap_or(0);
        // The step the code belongs to, within the skew of one step.
        let step = [0i64, -1, 1].into_iter().find_map(|d| {
            let at = seconds.checked_add_signed(d * totp.step as i64)?;
            (totp.generate(at) == code).then_some(at / totp.step)
        });
        let step = step.ok_or(LoginFailure::WrongCode)?;
        if account.disabled {
            return Err(LoginFailure::Disabled);
        }
        let mut used = self.used_steps.lock().unwrap_or_else(|p| p.into_inner());
        if used.get(user).is_some_and(|s| *s >= step) {
            return Err(LoginFailure::CodeUsed);
        }
        used.insert(user.to_owned(), step);
        Ok(account)
    }

    /// Reads, changes and writes the file under its lock.
    fn update<T>(
        &self,
        change: impl FnOnce(&mut Accounts) -> Result<T, AccountError>,
    ) -> Result<T, AccountError> {
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&self.lock)
            .map_err(|e| self.storage(e))?;
        lock.lock().map_err(|e| self.storage(e))?;
        let mut accounts = match std::fs::read(&self.path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| self.storage(e))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Accounts::default(),
            Err(e) => return Err(self.storage(e)),
        };
        let value = change(&mut accounts)?;
        let text = serde_json::to_vec_pretty(&accounts).map_err(|e| self.storage(e))?;
        let tmp = self.path.with_extension("json.tmp");
        {
            use std::io::Write as _;
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create(true).truncate(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut f = options.open(&tmp).map_err(|e| self.storage(e))?;
            f.write_all(&text).map_err(|e| self.storage(e))?;
            f.sync_all().map_err(|e| self.storage(e))?;
        }
        std::fs::rename(&tmp, &self.path).map_err(|e| self.storage(e))?;
        drop(lock);
        Ok(value)
    }

    fn storage(&self, e: impl std::fmt::Display) -> AccountError {
        AccountError::Storage { path: self.path.clone(), reason: e.to_string() }
    }
}

/// The TOTP of `user` with `secret` (base32).
pub fn totp(user: &str, secret: &str) -> Result<TOTP, AccountError> {
    let bytes = Secret::Encoded(secret.to_owned())
        .to_bytes()
        .map_err(|e| AccountError::invalid("totp_secret", "(secret)", format!("{e:?}")))?;
    TOTP::new(Algorithm::SHA1, 6, 1, 30, bytes, Some(ISSUER.to_owned()), user.to_owned())
        .map_err(|e| AccountError::invalid("totp_secret", "(secret)", e.to_string()))
}

fn enrolment(user: &str, secret: &str) -> Result<Enrolment, AccountError> {
    Ok(Enrolment { secret: secret.to_owned(), url: totp(user, secret)?.get_url() })
}

fn check_password(password: &str) -> Result<(), AccountError> {
    if password.chars().count() < MIN_PASSWORD {
        return Err(AccountError::invalid(
            "password",
            "(hidden)",
            format!("at least {MIN_PASSWORD} characters"),
        ));
    }
    Ok(())
}

fn hash_password(password: &str) -> Result<String, AccountError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AccountError::invalid("password", "(hidden)", e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(account: &Account, at: DateTime<Utc>) -> String {
        totp(&account.user.0, &account.totp_secret).expect("totp").generate(at.timestamp() as u64)
    }

    /// Given an account, when it signs in, then the password and the
    /// current code are both needed, a code works once, and a disabled
    /// account cannot sign in.
    #[test]
    fn signing_in_takes_the_password_and_a_fresh_code() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = AccountStore::beside(&dir.path().join("data"));
        let now: DateTime<Utc> = "2026-11-23T09:00:00Z".parse().expect("time");
        let enrolment =
            store.add("broker-1", Role::Broker, "correct horse battery", now).expect("add");
        assert!(enrolment.url.starts_with("otpauth://totp/Bridges:broker-1?"), "{}", enrolment.url);
        let account = store.get("broker-1").expect("read").expect("added");
        assert!(account.password_hash.starts_with("$argon2id$"));
        assert!(!std::fs::read_to_string(store.path()).expect("file").contains("correct horse"));
        let good = code(&account, now);
        assert_eq!(
            store.verify("broker-1", "wrong password!", &good, now),
            Err(LoginFailure::WrongPassword)
        );
        let wrong = format!("{:06}", (good.parse::<u32>().expect("digits") + 1) % 1_000_000);
        assert_eq!(
            store.verify("broker-1", "correct horse battery", &wrong, now),
            Err(LoginFailure::WrongCode)
        );
        assert!(store.verify("broker-1", "correct horse battery", &good, now).is_ok());
        assert_eq!(
            store.verify("broker-1", "correct horse battery", &good, now),
            Err(LoginFailure::CodeUsed)
        );
        let later = now + chrono::Duration::seconds(60);
        store.set_disabled("broker-1", true).expect("disable");
        assert_eq!(
            store.verify("broker-1", "correct horse battery", &code(&account, later), later),
            Err(LoginFailure::Disabled)
        );
        assert_eq!(
            store.verify("nobody", "correct horse battery", &good, now),
            Err(LoginFailure::UnknownUser)
        );
        // Bad input names the field and changes nothing.
        let short = store.add("broker-2", Role::Broker, "short", now).expect_err("too short");
        assert!(matches!(short, AccountError::Invalid { field: "password", .. }), "{short}");
        let twice =
            store.add("broker-1", Role::Viewer, "another long password", now).expect_err("exists");
        assert!(matches!(twice, AccountError::Invalid { field: "user", .. }), "{twice}");
        assert_eq!(store.load().expect("load").accounts.len(), 1);
    }

    #[test]
    fn each_role_may_do_what_the_table_says() {
        use Action::*;
        assert!(Action::ALL.iter().all(|a| may(Role::Administrator, *a)));
        let allowed = |r: Role| Action::ALL.into_iter().filter(|a| may(r, *a)).collect::<Vec<_>>();
        assert_eq!(allowed(Role::Broker), [Read, SeeContacts, Broker]);
        assert_eq!(allowed(Role::ReviewCoordinator), [Read, SeeContacts, Coordinate]);
        assert_eq!(allowed(Role::Viewer), [Read]);
    }
}
