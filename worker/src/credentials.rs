//! How a service proves who it is to NATS and which servers it trusts: a
//! user and password, an nkey seed (a value or a file), or a `.creds` file
//! (a JWT and its seed, for a server in operator mode); and TLS with a CA
//! (and a client certificate) when configured. Applied to async-nats's
//! `ConnectOptions` by [`Credentials::apply`]; both services connect
//! through `nats::connect` with it.
//!
//! Secrets never reach a log or an error: `Debug` hides the password and
//! the seed, and a refusal names the user, the nkey's public key or the
//! `.creds` file, never what proves it. It reads no configuration itself:
//! the engine fills it from its `[nats]` section, the worker from its flags.

use std::fmt;
use std::path::{Path, PathBuf};

/// What a service connects to NATS with; all empty: no authentication.
/// The engine reads it as its `[nats]` section (every key optional).
#[derive(Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    /// A user of the account (with `password`).
    pub user: Option<String>,
    pub password: Option<String>,
    /// A user nkey's seed (`SU...`), as a value...
    pub nkey_seed: Option<String>,
    /// ... or in a file (its first line).
    pub nkey_seed_file: Option<PathBuf>,
    /// A `.creds` file (JWT and seed) for a server in operator mode.
    pub creds_file: Option<PathBuf>,
    /// The CA that signed the server's certificate; given, TLS is required.
    pub tls_ca_file: Option<PathBuf>,
    /// A client certificate and its key, when the server asks for one.
    pub tls_cert_file: Option<PathBuf>,
    pub tls_key_file: Option<PathBuf>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hidden = |s: &Option<String>| s.as_ref().map(|_| "(hidden)");
        f.debug_struct("Credentials")
            .field("user", &self.user)
            .field("password", &hidden(&self.password))
            .field("nkey_seed", &hidden(&self.nkey_seed))
            .field("nkey_seed_file", &self.nkey_seed_file)
            .field("creds_file", &self.creds_file)
            .field("tls_ca_file", &self.tls_ca_file)
            .field("tls_cert_file", &self.tls_cert_file)
            .field("tls_key_file", &self.tls_key_file)
            .finish()
    }
}

/// Credentials that cannot be used: the field (as the caller names it:
/// the engine's `nats.` keys, the worker's `--nats-` flags) and why. Never
/// holds a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct CredentialsError {
    /// The field's plain name (`user`, `nkey_seed_file`, ...).
    pub field: &'static str,
    pub reason: String,
}

impl CredentialsError {
    fn new(field: &'static str, reason: impl Into<String>) -> CredentialsError {
        CredentialsError { field, reason: reason.into() }
    }
}

/// Who a connection claims to be, for logs and refusals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    Anonymous,
    User(String),
    /// An nkey's public key (`U...`).
    Nkey(String),
    CredsFile(PathBuf),
}

impl fmt::Display for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Identity::Anonymous => write!(f, "no user (no credentials configured)"),
            Identity::User(u) => write!(f, "user {u:?}"),
            Identity::Nkey(k) => write!(f, "nkey {k}"),
            Identity::CredsFile(p) => write!(f, "the credentials file {}", p.display()),
        }
    }
}

impl Credentials {
    /// Checks what the values alone can tell (no file is read): one way to
    /// authenticate at most, a password with its user, a certificate with
    /// its key.
    pub fn check(&self) -> Result<(), CredentialsError> {
        let given = |s: &Option<String>| s.as_deref().is_some_and(|s| !s.is_empty());
        if let Some(user) = &self.user {
            if user.is_empty() || user.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err(CredentialsError::new("user", "a user name has no spaces"));
            }
            if !given(&self.password) {
                return Err(CredentialsError::new("password", "a user needs its password"));
            }
        } else if self.password.is_some() {
            return Err(CredentialsError::new("user", "a password needs its user"));
        }
        if self.nkey_seed.is_some() && self.nkey_seed_file.is_some() {
            return Err(CredentialsError::new(
                "nkey_seed_file",
                "give the seed or its file, not both",
            ));
        }
        let ways = [
            ("user", self.user.is_some()),
            ("nkey_seed", self.nkey_seed.is_some()),
            ("nkey_seed_file", self.nkey_seed_file.is_some()),
            ("creds_file", self.creds_file.is_some()),
        ];
        if let Some((second, _)) = ways.iter().filter(|(_, on)| *on).nth(1) {
            let first = ways.iter().find(|(_, on)| *on).map_or("", |(f, _)| *f);
            return Err(CredentialsError::new(
                second,
                format!("one way to authenticate at most ({first} is given too)"),
            ));
        }
        if let Some(seed) = &self.nkey_seed {
            public_key(seed).map_err(|reason| CredentialsError::new("nkey_seed", reason))?;
        }
        match (&self.tls_cert_file, &self.tls_key_file) {
            (Some(_), None) => {
                Err(CredentialsError::new("tls_key_file", "a certificate needs its key"))
            }
            (None, Some(_)) => {
                Err(CredentialsError::new("tls_cert_file", "a key needs its certificate"))
            }
            _ => Ok(()),
        }
    }

    /// Who these credentials claim to be (reading the seed file for an
    /// nkey's public key).
    pub fn identity(&self) -> Result<Identity, CredentialsError> {
        Ok(if let Some(user) = &self.user {
            Identity::User(user.clone())
        } else if let Some(seed) = self.seed()? {
            Identity::Nkey(
                public_key(&seed)
                    .map_err(|reason| CredentialsError::new(self.seed_field(), reason))?,
            )
        } else if let Some(path) = &self.creds_file {
            Identity::CredsFile(path.clone())
        } else {
            Identity::Anonymous
        })
    }

    /// `options` with these credentials and TLS settings; every file is
    /// read (or checked readable) now, so that a missing one is an error
    /// naming it rather than a connection retried forever.
    pub async fn apply(
        &self,
        mut options: async_nats::ConnectOptions,
    ) -> Result<(async_nats::ConnectOptions, Identity), CredentialsError> {
        self.check()?;
        let identity = self.identity()?;
        if let (Some(user), Some(password)) = (&self.user, &self.password) {
            options = options.user_and_password(user.clone(), password.clone());
        }
        if let Some(seed) = self.seed()? {
            options = options.nkey(seed);
        }
        if let Some(path) = &self.creds_file {
            readable("creds_file", path)?;
            options = options
                .credentials_file(path)
                .await
                .map_err(|e| file_error("creds_file", path, &e.to_string()))?;
        }
        if let Some(ca) = &self.tls_ca_file {
            readable("tls_ca_file", ca)?;
            options = options.add_root_certificates(ca.clone()).require_tls(true);
        }
        if let (Some(cert), Some(key)) = (&self.tls_cert_file, &self.tls_key_file) {
            readable("tls_cert_file", cert)?;
            readable("tls_key_file", key)?;
            options = options.add_client_certificate(cert.clone(), key.clone()).require_tls(true);
        }
        Ok((options, identity))
    }

    fn seed_field(&self) -> &'static str {
        if self.nkey_seed_file.is_some() { "nkey_seed_file" } else { "nkey_seed" }
    }

    /// The nkey seed, from the value or the file's first line.
    fn seed(&self) -> Result<Option<String>, CredentialsError> {
        if let Some(seed) = &self.nkey_seed {
            return Ok(Some(seed.trim().to_owned()));
        }
        let Some(path) = &self.nkey_seed_file else { return Ok(None) };
        let text = std::fs::read_to_string(path)
            .map_err(|e| file_error("nkey_seed_file", path, &e.to_string()))?;
        let seed = text.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("").to_owned();
        public_key(&seed).map_err(|reason| file_error("nkey_seed_file", path, &reason))?;
        Ok(Some(seed))
    }
}

/// The public key of a user seed; the reason (never the seed) when it is not one.
fn public_key(seed: &str) -> Result<String, String> {
    let pair = nkeys::KeyPair::from_seed(seed.trim())
        .map_err(|_| "not an nkey seed (SU... as nk -gen user prints it)".to_owned())?;
    let public = pair.public_key();
    if !public.starts_with('U') {
        return Err("not a user nkey seed (SU...)".to_owned());
    }
    Ok(public)
}

fn readable(field: &'static str, path: &Path) -> Result<(), CredentialsError> {
    std::fs::File::open(path).map(drop).map_err(|e| file_error(field, path, &e.to_string()))
}

fn file_error(field: &'static str, path: &Path, reason: &str) -> CredentialsError {
    CredentialsError::new(field, format!("{}: {reason}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seed() -> String {
        nkeys::KeyPair::new_user().seed().expect("a new pair has a seed")
    }

    #[test]
    fn given_a_user_without_password_or_two_ways_then_the_field_is_named() {
        let c = Credentials { user: Some("engine-312".into()), ..Default::default() };
        assert_eq!(c.check().map_err(|e| e.field), Err("password"));
        let c = Credentials { password: Some("pw".into()), ..Default::default() };
        assert_eq!(c.check().map_err(|e| e.field), Err("user"));
        let c = Credentials {
            user: Some("u".into()),
            password: Some("pw".into()),
            nkey_seed: Some(seed()),
            ..Default::default()
        };
        assert_eq!(c.check().map_err(|e| e.field), Err("nkey_seed"));
        let c = Credentials { nkey_seed: Some("SUNOTASEED".into()), ..Default::default() };
        let e = c.check().expect_err("not a seed");
        assert_eq!(e.field, "nkey_seed");
        assert!(!e.to_string().contains("SUNOTASEED"), "{e}");
        let c = Credentials { tls_cert_file: Some("c.pem".into()), ..Default::default() };
        assert_eq!(c.check().map_err(|e| e.field), Err("tls_key_file"));
        assert_eq!(Credentials::default().check(), Ok(()));
    }

    #[test]
    fn given_secrets_then_debug_and_identity_hide_them() {
        let s = seed();
        let c = Credentials { nkey_seed: Some(s.clone()), ..Default::default() };
        let shown = format!("{c:?}");
        assert!(!shown.contains(&s) && shown.contains("(hidden)"), "{shown}");
        let Ok(Identity::Nkey(public)) = c.identity() else { panic!("an nkey identity") };
        assert!(public.starts_with('U') && !public.contains(&s));
        let c = Credentials {
            user: Some("engine-312".into()),
            password: Some("hunter2".into()),
            ..Default::default()
        };
        assert!(!format!("{c:?}").contains("hunter2"));
        assert_eq!(c.identity().map(|i| i.to_string()), Ok("user \"engine-312\"".to_owned()));
    }

    #[test]
    fn given_a_seed_file_then_it_is_read_and_a_missing_one_is_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("worker.nk");
        let s = seed();
        std::fs::write(&path, format!("{s}\n")).expect("write");
        let c = Credentials { nkey_seed_file: Some(path.clone()), ..Default::default() };
        assert!(matches!(c.identity(), Ok(Identity::Nkey(_))));
        let c = Credentials { nkey_seed_file: Some(dir.path().join("none")), ..Default::default() };
        assert_eq!(c.identity().map_err(|e| e.field), Err("nkey_seed_file"));
    }
}
