//! The engine's one typed `Config`: read once, through figment, from a TOML
//! file (`--config FILE`, or the built-in `config/default.toml`, so `bridges`
//! runs from any folder) and then from `BRIDGES_*` environment variables (a
//! double underscore between a section and its key:
//! `BRIDGES_SOLVER__TIME_LIMIT_SECONDS`), validated, and passed explicitly.
//!
//! Reading is strict: every key is required unless documented optional, an
//! unknown key (in the file or as a `BRIDGES_` variable) is refused, and so
//! is a bad value; each refusal is a one-line [`ConfigError`] naming the key
//! (dotted, `solver.time_limit_seconds`), the variable when the value came
//! from the environment, and the value. The few `BRIDGES_` variables that are
//! not configuration are listed in [`NOT_CONFIGURATION`].
//!
//! It holds no behaviour beyond reading and checking; the calendar's date
//! helpers live in [`calendar`]. Only the binary's own configuration derives
//! `Deserialize` here (STYLE.md); the schemas' types it converts to are
//! built by hand so that their lenient defaults never apply to a config file.

pub mod calendar;

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};

use bridges_schemas::brokerage::BrokeragePolicy;
use bridges_schemas::triads::TriadsPolicy;
use bridges_schemas::{NeedArea, Phase, SameTrust};
use bridges_worker::credentials::Credentials;
use figment::Figment;
use figment::providers::{Env, Format, Toml};
use figment::value::Value as FigValue;
use serde::Deserialize;

pub use calendar::{AcademicYear, Calendar, HalfTerm, IsoWeek};

/// The configuration compiled into the binary.
pub const DEFAULT_TOML: &str = include_str!("../../config/default.toml");

/// What the built-in configuration is called in errors.
pub const BUILT_IN: &str = "config/default.toml (built in)";

/// Prefix of the environment variables that override configuration keys.
pub const ENV_PREFIX: &str = "BRIDGES_";

/// `BRIDGES_` variables that are not configuration keys and are accepted as
/// they are: the configuration file itself (read by the command line), the
/// slow-test and crash-test switches, the acting user, and HiGHS's own log.
/// (`BRIDGES_DATA_DIR` is the `data_dir` key; `--data` reads it too.)
pub const NOT_CONFIGURATION: [&str; 5] =
    ["BRIDGES_CONFIG", "BRIDGES_SLOW", "BRIDGES_CRASH_SEED", "BRIDGES_USER", "BRIDGES_HIGHS_LOG"];

/// The NATS subject prefix DESIGN.md section 2 gives.
pub const DEFAULT_SUBJECT_PREFIX: &str = "bridges";

/// The service levels of DESIGN.md section 6, in working days.
pub const DEFAULT_SERVICE_LEVELS: ServiceLevels =
    ServiceLevels { matched: 2, answer: 5, first_contact: 7, visit_record: 5 };

/// Everything `bridges` is configured with (the sections of `default.toml`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Three-digit code of the LA this engine serves (Hillingdon 312).
    pub la_code: u16,
    /// Folder of the event log.
    pub data_dir: PathBuf,
    /// Subject prefix on NATS (`bridges`).
    pub subject_prefix: String,
    /// NATS URL; empty runs the embedded default (see [`Config::nats_url`]).
    pub nats_url: String,
    pub log: LogSettings,
    pub solver: SolverSettings,
    pub calendar: Calendar,
    pub needs: Needs,
    pub designations: Vec<DesignationTitle>,
    pub service_levels: ServiceLevels,
    pub policy: Policies,
    /// Size of the generated week when no real intake is given.
    pub weekly: WeeklySize,
    /// When `bridges serve` starts matching runs by itself. Optional (a
    /// configuration from before it was built runs on demand only); when
    /// given, every key of it is required.
    #[serde(default)]
    pub schedule: ScheduleSettings,
    /// How `bridges serve` authenticates to NATS. Optional, and so is each
    /// of its keys (none: no authentication).
    #[serde(default)]
    pub nats: Credentials,
    /// How `bridges web` sends email (proposals' links and reminders).
    /// Optional: without it no email is sent.
    #[serde(default)]
    pub mail: Option<MailSettings>,
}

/// `[mail]`: the SMTP relay `bridges web` hands its email to, the sender,
/// and the address its links start with.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailSettings {
    /// The relay's host name or address (the LA's mail relay; plain SMTP,
    /// no TLS: a relay on the same network or host).
    pub smtp_host: String,
    pub smtp_port: u16,
    /// The sender, `Bridges <bridges@example.gov.uk>` or a bare address.
    pub from: String,
    /// Where the page is reached from outside, `https://bridges.example.gov.uk`.
    pub base_url: String,
    /// Seconds between looks for mail to send (default 60).
    #[serde(default = "MailSettings::default_poll")]
    pub poll_seconds: u64,
    /// Hours before a proposal's answer-by day ends that its reminder goes (default 24).
    #[serde(default = "MailSettings::default_remind")]
    pub remind_hours: u32,
}

impl MailSettings {
    fn default_poll() -> u64 {
        60
    }

    fn default_remind() -> u32 {
        24
    }

    fn validate(&self) -> Result<(), Invalid> {
        if self.smtp_host.trim().is_empty() {
            return Err(Invalid::new("mail.smtp_host", "\"\"", "name the SMTP relay"));
        }
        if self.from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(Invalid::new(
                "mail.from",
                format!("{:?}", self.from),
                "an address, like Bridges <bridges@example.gov.uk>",
            ));
        }
        if !(self.base_url.starts_with("https://") || self.base_url.starts_with("http://"))
            || self.base_url.ends_with('/')
        {
            return Err(Invalid::new(
                "mail.base_url",
                format!("{:?}", self.base_url),
                "the page's address, http:// or https:// and no / at the end",
            ));
        }
        if self.poll_seconds == 0 {
            return Err(Invalid::new("mail.poll_seconds", "0", "at least 1 second"));
        }
        Ok(())
    }
}

/// Whether an error must not show the value of `key`: the password and
/// the seed, and any unknown key of `[nats]` (a misspelt password).
fn is_secret(key: &str) -> bool {
    const SHOWN: [&str; 6] = [
        "nats.user",
        "nats.nkey_seed_file",
        "nats.creds_file",
        "nats.tls_ca_file",
        "nats.tls_cert_file",
        "nats.tls_key_file",
    ];
    (key == "nats" || key.starts_with("nats.")) && !SHOWN.contains(&key)
}

/// `[nats]`: the engine's NATS credentials and TLS (README "Credentials"),
/// checked with the worker's own rules; an error names the key and never
/// shows the password or the seed.
fn validate_nats(nats: &Credentials) -> Result<(), Invalid> {
    nats.check().map_err(|e| {
        let key = format!("nats.{}", e.field);
        let value = match e.field {
            "user" => nats.user.as_deref().map_or("(missing)".to_owned(), |u| format!("{u:?}")),
            "password" | "nkey_seed" => "(hidden)".to_owned(),
            "nkey_seed_file" => shown_path(&nats.nkey_seed_file),
            "creds_file" => shown_path(&nats.creds_file),
            "tls_cert_file" => shown_path(&nats.tls_cert_file),
            _ => shown_path(&nats.tls_key_file),
        };
        Invalid::new(key, value, e.reason)
    })
}

fn shown_path(path: &Option<PathBuf>) -> String {
    path.as_ref().map_or("(missing)".to_owned(), |p| format!("{:?}", p.display().to_string()))
}

/// `[log]`: how the event log is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    /// sled page cache, bytes.
    pub cache_capacity_bytes: u64,
    /// Most events one group commit takes.
    pub max_group_events: usize,
    /// Events the writer holds stream-index runs for before writing them.
    pub index_lag: usize,
}

/// `[solver]`: limits of a matching run's solve.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SolverSettings {
    pub time_limit_seconds: f64,
    /// 0 asks for a proven optimum.
    pub mip_gap: f64,
}

/// `[needs]`: the need areas, each with the phases it fits.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Needs {
    pub areas: Vec<AreaOfNeed>,
}

/// A need area and the phases of school it fits (`post-16` fits secondary,
/// all-through and 16 plus schools only).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AreaOfNeed {
    pub name: NeedArea,
    pub phases: Vec<Phase>,
}

/// A designation a practitioner may hold: NLE, LLE, SLE or a local title.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DesignationTitle {
    pub title: String,
    /// Typical day rate, pounds.
    pub day_rate: f64,
    /// Guidance: the days a year a holder is usually released for, `[min, max]`.
    pub days_per_year: [u32; 2],
}

/// `[service_levels]`, in working days (Monday to Friday less bank holidays).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceLevels {
    /// A request matched (proposed) within this many.
    #[serde(rename = "match")]
    pub matched: u32,
    /// A proposal answered within this many, or it expires.
    pub answer: u32,
    /// First contact within this many of acceptance.
    pub first_contact: u32,
    /// A visit recorded within this many of the visit.
    pub visit_record: u32,
}

/// `[policy.*]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policies {
    pub brokerage: BrokerageSettings,
    pub triads: TriadsSettings,
}

/// `[policy.brokerage]`: the hard rules of a matching run (CONTRACTS.md).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BrokerageSettings {
    pub max_distance_km: f64,
    pub same_trust: SameTrust,
    pub single_practitioner: bool,
    /// Optional: absent means no budget limit.
    #[serde(default)]
    pub budget: Option<f64>,
}

/// `[policy.triads]`: the hard rules of a peer-review round.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TriadsSettings {
    pub max_distance_km: f64,
    pub same_trust: SameTrust,
    pub phase_pools: bool,
    pub require_good_or_better: bool,
    pub allow_groups_of_4: bool,
    /// A round's history: the groups of confirmed rounds of this many
    /// academic years before its own (and of its own year).
    pub history_years: u32,
    /// Days of each reviewing school's time for a primary (any
    /// non-secondary) host's review, and for a secondary's.
    pub primary_review_days: f64,
    pub secondary_review_days: f64,
    /// Cost of one hosted review, pounds.
    pub primary_review_cost: f64,
    pub secondary_review_cost: f64,
}

/// `[weekly]`: how large a generated weekly intake is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeeklySize {
    pub schools: usize,
    pub practitioners: usize,
    pub requests: usize,
}

/// `[schedule]`: the matching run `bridges serve` starts by itself, on
/// `days` at `time` in `timezone`, in term weeks (`crate::schedule`).
/// `enabled = false` or no days: runs on demand only.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleSettings {
    pub enabled: bool,
    /// `Mon` .. `Sun`, each once.
    pub days: Vec<String>,
    /// `HH:MM`, 24-hour, local to `timezone`.
    pub time: String,
    /// An IANA name (`Europe/London`).
    pub timezone: String,
}

impl Default for ScheduleSettings {
    /// No `[schedule]`: runs on demand only (the built-in file's values, off).
    fn default() -> ScheduleSettings {
        ScheduleSettings {
            enabled: false,
            days: vec!["Mon".to_owned()],
            time: "07:00".to_owned(),
            timezone: "Europe/London".to_owned(),
        }
    }
}

impl ScheduleSettings {
    /// The schedule it configures, or `None` for runs on demand only (the
    /// values are checked by `Config::validate`; a bad one is `None` too).
    pub fn schedule(&self) -> Option<crate::schedule::Schedule> {
        if !self.enabled || self.days.is_empty() {
            return None;
        }
        let days: Result<Vec<_>, _> =
            self.days.iter().map(|d| crate::schedule::parse_day(d)).collect();
        Some(crate::schedule::Schedule::new(
            days.ok()?,
            crate::schedule::parse_time(&self.time).ok()?,
            crate::schedule::parse_zone(&self.timezone).ok()?,
        ))
    }

    fn validate(&self) -> Result<(), Invalid> {
        let mut seen = BTreeSet::new();
        for (i, day) in self.days.iter().enumerate() {
            let key = format!("schedule.days[{i}]");
            let parsed = crate::schedule::parse_day(day)
                .map_err(|reason| Invalid::new(&key, format!("{day:?}"), reason))?;
            if !seen.insert(parsed.num_days_from_monday()) {
                return Err(Invalid::new(key, format!("{day:?}"), "a day is listed once"));
            }
        }
        crate::schedule::parse_time(&self.time)
            .map_err(|reason| Invalid::new("schedule.time", format!("{:?}", self.time), reason))?;
        crate::schedule::parse_zone(&self.timezone).map_err(|reason| {
            Invalid::new("schedule.timezone", format!("{:?}", self.timezone), reason)
        })?;
        Ok(())
    }
}

/// A configuration that cannot be used. One line, naming the file or the
/// key, the environment variable it came from, and the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the configuration file {path}: {reason}")]
    Unreadable { path: String, reason: String },
    #[error("configuration {file}, line {line}, column {column}: {reason}")]
    Syntax { file: String, line: usize, column: usize, reason: String },
    #[error("configuration {key} = {value} ({origin}): {reason}")]
    Value { key: String, value: String, origin: Origin, reason: String },
}

/// Where a configuration value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    File(String),
    Variable(String),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::File(file) => write!(f, "in {file}"),
            Origin::Variable(name) => write!(f, "from {name}"),
        }
    }
}

/// A refused value before its origin is known: the dotted key (with list
/// indices, `calendar.years[1].half_terms[2].label`), the value, why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub key: String,
    pub value: String,
    pub reason: String,
}

impl Invalid {
    pub fn new(
        key: impl Into<String>,
        value: impl fmt::Display,
        reason: impl Into<String>,
    ) -> Invalid {
        Invalid { key: key.into(), value: value.to_string(), reason: reason.into() }
    }
}

impl Config {
    /// Reads the configuration: `file` (or the built-in default), then the
    /// `BRIDGES_*` environment variables, then validates it.
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        let (text, name) = match file {
            Some(path) => (
                std::fs::read_to_string(path).map_err(|e| ConfigError::Unreadable {
                    path: path.display().to_string(),
                    reason: e.to_string(),
                })?,
                path.display().to_string(),
            ),
            None => (DEFAULT_TOML.to_owned(), BUILT_IN.to_owned()),
        };
        read(&text, &name, true)
    }

    /// The built-in configuration alone, without the environment.
    pub fn built_in() -> Result<Config, ConfigError> {
        read(DEFAULT_TOML, BUILT_IN, false)
    }

    /// A configuration from TOML text alone (no environment); `name` is what
    /// errors call the file.
    pub fn from_toml(text: &str, name: &str) -> Result<Config, ConfigError> {
        read(text, name, false)
    }

    /// `None` runs the embedded default (solver in process, no NATS).
    pub fn nats_url(&self) -> Option<&str> {
        Some(self.nats_url.as_str()).filter(|u| !u.is_empty())
    }

    /// The brokerage rules as the problem document states them.
    pub fn brokerage_policy(&self) -> BrokeragePolicy {
        let b = &self.policy.brokerage;
        BrokeragePolicy {
            max_distance_km: Some(b.max_distance_km),
            same_trust: b.same_trust,
            budget: b.budget,
            single_practitioner: b.single_practitioner,
        }
    }

    /// The triads rules as the problem document states them.
    pub fn triads_policy(&self) -> TriadsPolicy {
        let t = &self.policy.triads;
        TriadsPolicy {
            max_distance_km: Some(t.max_distance_km),
            same_trust: t.same_trust,
            phase_pools: t.phase_pools,
            require_good_or_better: t.require_good_or_better,
            allow_groups_of_4: t.allow_groups_of_4,
        }
    }

    /// The configured need area called `name`.
    pub fn need(&self, name: &NeedArea) -> Option<&AreaOfNeed> {
        self.needs.areas.iter().find(|a| &a.name == name)
    }

    /// Whether `need` is configured and fits a school of `phase`.
    pub fn need_fits(&self, need: &NeedArea, phase: Phase) -> bool {
        self.need(need).is_some_and(|a| a.phases.contains(&phase))
    }

    /// The configured designation called `title`.
    pub fn designation(&self, title: &str) -> Option<&DesignationTitle> {
        self.designations.iter().find(|d| d.title == title)
    }

    /// Checks every value a type alone does not: the first refusal found.
    pub fn validate(&self) -> Result<(), Invalid> {
        if !(100..=999).contains(&self.la_code) {
            return Err(Invalid::new(
                "la_code",
                self.la_code,
                "an LA code has three digits, for example 312",
            ));
        }
        if self.data_dir.as_os_str().is_empty() {
            return Err(Invalid::new("data_dir", "\"\"", "a folder is needed"));
        }
        if let Some(bad) = self.subject_prefix.split('.').find_map(|t| calendar::id(t).err()) {
            return Err(Invalid::new(
                "subject_prefix",
                format!("{:?}", self.subject_prefix),
                format!("each dot-separated part must be an id: {bad}"),
            ));
        }
        if self.nats_url.chars().any(char::is_whitespace) {
            return Err(Invalid::new(
                "nats_url",
                format!("{:?}", self.nats_url),
                "a URL has no spaces",
            ));
        }
        positive("log.cache_capacity_bytes", self.log.cache_capacity_bytes)?;
        positive("log.max_group_events", self.log.max_group_events as u64)?;
        positive("log.index_lag", self.log.index_lag as u64)?;
        if !(self.solver.time_limit_seconds.is_finite() && self.solver.time_limit_seconds > 0.0) {
            return Err(Invalid::new(
                "solver.time_limit_seconds",
                self.solver.time_limit_seconds,
                "must be a positive number of seconds",
            ));
        }
        if !(0.0..1.0).contains(&self.solver.mip_gap) {
            return Err(Invalid::new("solver.mip_gap", self.solver.mip_gap, "must be in [0, 1)"));
        }
        self.calendar.validate()?;
        self.validate_needs()?;
        self.validate_designations()?;
        let s = &self.service_levels;
        for (key, days) in [
            ("service_levels.match", s.matched),
            ("service_levels.answer", s.answer),
            ("service_levels.first_contact", s.first_contact),
            ("service_levels.visit_record", s.visit_record),
        ] {
            positive(key, u64::from(days))?;
        }
        kilometres("policy.brokerage.max_distance_km", self.policy.brokerage.max_distance_km)?;
        if let Some(budget) = self.policy.brokerage.budget
            && !(budget.is_finite() && budget >= 0.0)
        {
            return Err(Invalid::new("policy.brokerage.budget", budget, "must be 0 or more"));
        }
        kilometres("policy.triads.max_distance_km", self.policy.triads.max_distance_km)?;
        let t = &self.policy.triads;
        for (key, days) in [
            ("policy.triads.primary_review_days", t.primary_review_days),
            ("policy.triads.secondary_review_days", t.secondary_review_days),
        ] {
            if !(days.is_finite() && days > 0.0 && days <= 5.0 && (days * 2.0).fract() == 0.0) {
                return Err(Invalid::new(key, days, "must be 0.5 to 5 days, in half days"));
            }
        }
        for (key, cost) in [
            ("policy.triads.primary_review_cost", t.primary_review_cost),
            ("policy.triads.secondary_review_cost", t.secondary_review_cost),
        ] {
            if !(cost.is_finite() && cost >= 0.0) {
                return Err(Invalid::new(key, cost, "must be 0 or more pounds"));
            }
        }
        if self.weekly.schools < 2 {
            return Err(Invalid::new("weekly.schools", self.weekly.schools, "at least 2"));
        }
        positive("weekly.practitioners", self.weekly.practitioners as u64)?;
        positive("weekly.requests", self.weekly.requests as u64)?;
        self.schedule.validate()?;
        if let Some(mail) = &self.mail {
            mail.validate()?;
        }
        validate_nats(&self.nats)?;
        Ok(())
    }

    fn validate_needs(&self) -> Result<(), Invalid> {
        if self.needs.areas.is_empty() {
            return Err(Invalid::new("needs.areas", "[]", "at least one need area"));
        }
        let mut names = BTreeSet::new();
        for (i, area) in self.needs.areas.iter().enumerate() {
            let at = format!("needs.areas[{i}]");
            if let Err(reason) = calendar::id(area.name.as_str()) {
                return Err(Invalid::new(
                    format!("{at}.name"),
                    format!("{:?}", area.name.0),
                    reason,
                ));
            }
            if !names.insert(area.name.as_str()) {
                return Err(Invalid::new(
                    format!("{at}.name"),
                    format!("{:?}", area.name.0),
                    "a need area is listed once",
                ));
            }
            if area.phases.is_empty() {
                return Err(Invalid::new(
                    format!("{at}.phases"),
                    "[]",
                    "a need area fits at least one phase",
                ));
            }
            let mut phases = BTreeSet::new();
            for (j, phase) in area.phases.iter().enumerate() {
                if !phases.insert(*phase) {
                    return Err(Invalid::new(
                        format!("{at}.phases[{j}]"),
                        format!("{:?}", phase.as_str()),
                        "listed twice",
                    ));
                }
            }
        }
        Ok(())
    }

    fn validate_designations(&self) -> Result<(), Invalid> {
        if self.designations.is_empty() {
            return Err(Invalid::new("designations", "[]", "at least one designation"));
        }
        let mut titles = BTreeSet::new();
        for (i, d) in self.designations.iter().enumerate() {
            let at = format!("designations[{i}]");
            let shown = format!("{:?}", d.title);
            if d.title.trim().is_empty() || d.title.trim() != d.title || d.title.len() > 64 {
                return Err(Invalid::new(
                    format!("{at}.title"),
                    shown,
                    "a title is 1 to 64 characters with no space at either end",
                ));
            }
            if !titles.insert(d.title.to_lowercase()) {
                return Err(Invalid::new(format!("{at}.title"), shown, "a title is listed once"));
            }
            if !(d.day_rate.is_finite() && d.day_rate > 0.0) {
                return Err(Invalid::new(
                    format!("{at}.day_rate"),
                    d.day_rate,
                    "must be a positive amount",
                ));
            }
            let [min, max] = d.days_per_year;
            if min > max || max == 0 {
                return Err(Invalid::new(
                    format!("{at}.days_per_year"),
                    format!("[{min}, {max}]"),
                    "expected [fewest, most] days, most at least 1",
                ));
            }
        }
        Ok(())
    }
}

fn positive(key: &str, n: u64) -> Result<(), Invalid> {
    if n == 0 { Err(Invalid::new(key, n, "must be at least 1")) } else { Ok(()) }
}

fn kilometres(key: &str, km: f64) -> Result<(), Invalid> {
    if km.is_finite() && km > 0.0 {
        Ok(())
    } else {
        Err(Invalid::new(key, km, "must be a positive distance"))
    }
}

/// Reads `text` (called `file` in errors), then the environment when
/// `with_env`, extracts and validates.
fn read(text: &str, file: &str, with_env: bool) -> Result<Config, ConfigError> {
    // figment's TOML errors span several lines; toml's own parse names the
    // line and column in one.
    if let Err(e) = text.parse::<toml::Table>() {
        let (line, column) = e.span().map_or((0, 0), |s| line_and_column(text, s.start));
        return Err(ConfigError::Syntax {
            file: file.to_owned(),
            line,
            column,
            reason: e.message().replace('\n', " "),
        });
    }
    let variables = if with_env { configuration_variables() } else { Vec::new() };
    let mut figment = Figment::new().merge(Toml::string(text));
    if with_env {
        let ignored: Vec<String> =
            NOT_CONFIGURATION.iter().map(|v| v[ENV_PREFIX.len()..].to_ascii_lowercase()).collect();
        let ignored: Vec<&str> = ignored.iter().map(String::as_str).collect();
        figment = figment.merge(Env::prefixed(ENV_PREFIX).ignore(&ignored).split("__"));
    }
    let config: Config = figment.extract().map_err(|e| {
        let (key, value, reason) = explain(&e, &figment);
        located(Invalid { key, value, reason }, file, &variables)
    })?;
    config.validate().map_err(|invalid| located(invalid, file, &variables))?;
    Ok(config)
}

/// A `BRIDGES_` variable that configures a key: its name, the dotted key,
/// its raw value.
#[derive(Debug, Clone)]
struct Variable {
    name: String,
    key: String,
    value: String,
}

/// The process's `BRIDGES_` variables that are configuration (as figment's
/// `Env::prefixed(..).split("__")` reads them: prefix in any case,
/// lower-cased key).
fn configuration_variables() -> Vec<Variable> {
    std::env::vars_os()
        .filter_map(|(k, v)| {
            let name = k.to_string_lossy().trim().to_owned();
            let prefixed =
                name.get(..ENV_PREFIX.len()).is_some_and(|p| p.eq_ignore_ascii_case(ENV_PREFIX));
            if !prefixed || NOT_CONFIGURATION.iter().any(|n| n.eq_ignore_ascii_case(&name)) {
                return None;
            }
            let key = name[ENV_PREFIX.len()..].to_ascii_lowercase().replace("__", ".");
            Some(Variable { name, key, value: v.to_string_lossy().into_owned() })
        })
        .collect()
}

/// Gives `invalid` its origin: the variable whose key is the key or holds it
/// (`BRIDGES_CALENDAR__YEARS` for `calendar.years[0].starts`), else the file.
fn located(mut invalid: Invalid, file: &str, variables: &[Variable]) -> ConfigError {
    if is_secret(&invalid.key) {
        invalid.value = "(hidden)".to_owned();
    }
    let plain = invalid.key.split('[').next().unwrap_or(&invalid.key);
    let variable = variables
        .iter()
        .filter(|v| plain == v.key || plain.starts_with(&format!("{}.", v.key)))
        .max_by_key(|v| v.key.len());
    match variable {
        Some(v) => ConfigError::Value {
            value: if plain == v.key && !invalid.key.contains('[') && !is_secret(plain) {
                format!("{:?}", v.value)
            } else {
                invalid.value
            },
            key: invalid.key,
            origin: Origin::Variable(v.name.clone()),
            reason: invalid.reason,
        },
        None => ConfigError::Value {
            key: invalid.key,
            value: invalid.value,
            origin: Origin::File(file.to_owned()),
            reason: invalid.reason,
        },
    }
}

/// The key, value and reason of figment's first error, in one line each.
fn explain(error: &figment::Error, figment: &Figment) -> (String, String, String) {
    use figment::error::Kind;
    let mut path = error.path.clone();
    let expected = |e: &str| format!("expected {}", plain_type(e));
    let reason = match &error.kind {
        Kind::UnknownField(name, known) => {
            if path.last() != Some(name) {
                path.push(name.clone());
            }
            format!("unknown key; known here: {}", known.join(", "))
        }
        Kind::MissingField(name) => {
            if path.last().map(String::as_str) != Some(name.as_ref()) {
                path.push(name.to_string());
            }
            "missing: every key is required (see config/default.toml)".to_owned()
        }
        Kind::InvalidType(_, e) | Kind::InvalidValue(_, e) | Kind::InvalidLength(_, e) => {
            expected(e)
        }
        Kind::UnknownVariant(_, known) => format!("expected one of {}", known.join(", ")),
        Kind::Message(m) => m.replace('\n', " "),
        other => other.to_string(),
    };
    let value = match &error.kind {
        Kind::InvalidType(actual, _) | Kind::InvalidValue(actual, _) => actual_text(actual),
        Kind::MissingField(_) => "(missing)".to_owned(),
        _ => found(figment, &path).unwrap_or_else(|| "(as given)".to_owned()),
    };
    (dotted(&path), value, reason)
}

/// `calendar.years[1].half_terms[2].label` from figment's path.
fn dotted(path: &[String]) -> String {
    let mut key = String::new();
    for part in path {
        if part.parse::<usize>().is_ok() {
            key.push_str(&format!("[{part}]"));
        } else {
            if !key.is_empty() {
                key.push('.');
            }
            key.push_str(part);
        }
    }
    key
}

/// The merged value at `path`, shown compactly.
fn found(figment: &Figment, path: &[String]) -> Option<String> {
    let mut value: FigValue = figment.find_value("").ok()?;
    for part in path {
        value = match value {
            FigValue::Dict(_, mut dict) => dict.remove(part)?,
            FigValue::Array(_, mut items) => {
                let i: usize = part.parse().ok()?;
                (i < items.len()).then(|| items.swap_remove(i))?
            }
            _ => return None,
        };
    }
    let text = serde_json::to_string(&value).ok()?;
    Some(if text.chars().count() > 80 {
        format!("{}...", text.chars().take(77).collect::<String>())
    } else {
        text
    })
}

fn actual_text(actual: &figment::error::Actual) -> String {
    use figment::error::Actual;
    match actual {
        Actual::Bool(b) => b.to_string(),
        Actual::Unsigned(n) => n.to_string(),
        Actual::Signed(n) => n.to_string(),
        Actual::Float(x) => x.to_string(),
        Actual::Char(c) => format!("{c:?}"),
        Actual::Str(s) => format!("{s:?}"),
        Actual::Seq => "a list".to_owned(),
        Actual::Map => "a table".to_owned(),
        other => other.to_string(),
    }
}

/// serde's type names in words a configuration reader knows.
fn plain_type(expected: &str) -> String {
    match expected {
        "f64" | "f32" => "a number".to_owned(),
        "u8" | "u16" | "u32" | "u64" | "usize" => "a whole number, 0 or more".to_owned(),
        "i32" | "i64" => "a whole number".to_owned(),
        "a boolean" | "bool" => "true or false".to_owned(),
        other => other.to_owned(),
    }
}

fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let before: String =
        text.char_indices().take_while(|(i, _)| *i < offset).map(|(_, c)| c).collect();
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    (line, column)
}

#[cfg(test)]
// figment's `Jail` closures return its own (large) error type.
#[allow(clippy::result_large_err)]
mod tests {
    use figment::Jail;

    use super::*;

    fn value_error(e: ConfigError) -> (String, String, Origin) {
        match e {
            ConfigError::Value { key, value, origin, .. } => (key, value, origin),
            other => panic!("expected a value error, got {other}"),
        }
    }

    fn file_error(text: &str) -> (String, String) {
        let (key, value, origin) =
            value_error(Config::from_toml(text, "test.toml").expect_err("refused"));
        assert_eq!(origin, Origin::File("test.toml".to_owned()));
        (key, value)
    }

    #[test]
    fn given_the_built_in_default_then_it_is_valid() {
        let config = Config::built_in().expect("default config");
        assert_eq!(config.la_code, 312);
        assert_eq!(config.nats_url(), None);
        assert_eq!(config.calendar.years().len(), 3);
        assert!(config.brokerage_policy().single_practitioner);
        assert_eq!(config.brokerage_policy().budget, None);
        assert!(config.triads_policy().phase_pools);
        assert!(config.need_fits(&NeedArea::from("post-16"), Phase::SixteenPlus));
        assert!(!config.need_fits(&NeedArea::from("post-16"), Phase::Primary));
        assert!(!config.need_fits(&NeedArea::from("early-years"), Phase::Secondary));
        assert!(config.need_fits(&NeedArea::from("early-years"), Phase::Nursery));
        assert!(!config.need_fits(&NeedArea::from("knitting"), Phase::Primary));
        let rate = |t: &str| config.designation(t).map(|d| d.day_rate);
        assert_eq!(
            [rate("SLE"), rate("LLE"), rate("NLE"), rate("Senior Practitioner")],
            [Some(350.0), Some(475.0), Some(550.0), Some(400.0)]
        );
    }

    #[test]
    fn given_the_named_defaults_then_default_toml_agrees_with_them() {
        let config = Config::built_in().expect("default config");
        assert_eq!(config.log.cache_capacity_bytes, crate::log::DEFAULT_CACHE_CAPACITY);
        assert_eq!(config.log.max_group_events, crate::log::DEFAULT_MAX_GROUP_EVENTS);
        assert_eq!(config.log.index_lag, crate::log::DEFAULT_INDEX_LAG);
        assert_eq!(config.solver.time_limit_seconds, bridges_worker::cli::DEFAULT_TIME_LIMIT);
        assert_eq!(config.subject_prefix, DEFAULT_SUBJECT_PREFIX);
        assert_eq!(config.service_levels, DEFAULT_SERVICE_LEVELS);
        // The generator draws its needs from this list: the two agree, so no
        // generated need is dropped for not being configured.
        let configured: BTreeSet<&str> =
            config.needs.areas.iter().map(|a| a.name.as_str()).collect();
        let generated: BTreeSet<&str> =
            bridges_worker::tools::brokerage_generate::SPECIALISMS.into_iter().collect();
        assert_eq!(configured, generated);
    }

    #[test]
    fn given_the_schedule_then_it_is_off_by_default_and_bad_values_are_named() {
        let config = Config::built_in().expect("default config");
        assert_eq!(config.schedule.schedule(), None, "runs on demand only by default");
        let on = DEFAULT_TOML.replace("enabled = false", "enabled = true");
        let config = Config::from_toml(&on, "on.toml").expect("valid");
        assert!(config.schedule.schedule().is_some());
        let start = DEFAULT_TOML.find("[schedule]").expect("the built-in [schedule]");
        let without = Config::from_toml(&DEFAULT_TOML[..start], "old.toml").expect("valid");
        assert_eq!(without.schedule, ScheduleSettings::default(), "optional: off when absent");
        let partial = on.replace("time = \"07:00\"\n", "");
        assert_eq!(file_error(&partial).0, "schedule.time", "given, every key is required");
        let empty = on.replace("days = [\"Mon\"]", "days = []");
        let config = Config::from_toml(&empty, "empty.toml").expect("valid");
        assert_eq!(config.schedule.schedule(), None, "no days: on demand only");
        for (from, to, key, value) in [
            ("days = [\"Mon\"]", "days = [\"Mon\", \"Funday\"]", "schedule.days[1]", "\"Funday\""),
            ("days = [\"Mon\"]", "days = [\"Mon\", \"Mon\"]", "schedule.days[1]", "\"Mon\""),
            ("time = \"07:00\"", "time = \"7am\"", "schedule.time", "\"7am\""),
            ("time = \"07:00\"", "time = \"25:00\"", "schedule.time", "\"25:00\""),
            (
                "timezone = \"Europe/London\"",
                "timezone = \"Mars/Olympus\"",
                "schedule.timezone",
                "\"Mars/Olympus\"",
            ),
        ] {
            let text = DEFAULT_TOML.replace(from, to);
            assert_eq!(file_error(&text), (key.to_owned(), value.to_owned()), "{to}");
        }
    }

    #[test]
    fn given_a_file_with_an_unknown_key_then_it_is_refused_naming_the_key() {
        let text = DEFAULT_TOML.replace("mip_gap = 0.0", "mip_gap = 0.0\ntime_limit = 5");
        assert_eq!(file_error(&text), ("solver.time_limit".to_owned(), "5".to_owned()));
        let text = format!("colour = \"blue\"\n{DEFAULT_TOML}");
        assert_eq!(file_error(&text).0, "colour");
        let text = DEFAULT_TOML.replace("starts = 2026", "starts = 2026\nlabel = \"x\"");
        assert_eq!(file_error(&text).0, "calendar.years[1].label");
    }

    #[test]
    fn given_a_file_with_a_bad_value_then_it_is_refused_naming_key_and_value() {
        let text = DEFAULT_TOML.replace("mip_gap = 0.0", "mip_gap = 2.0");
        assert_eq!(file_error(&text), ("solver.mip_gap".to_owned(), "2".to_owned()));
        let text =
            DEFAULT_TOML.replace("time_limit_seconds = 60.0", "time_limit_seconds = \"abc\"");
        assert_eq!(
            file_error(&text),
            ("solver.time_limit_seconds".to_owned(), "\"abc\"".to_owned())
        );
        let text = DEFAULT_TOML.replace("la_code = 312", "la_code = 31");
        assert_eq!(file_error(&text), ("la_code".to_owned(), "31".to_owned()));
        let text = DEFAULT_TOML.replacen("same_trust = \"forbid\"", "same_trust = \"never\"", 1);
        assert_eq!(file_error(&text).0, "policy.brokerage.same_trust");
        let text = DEFAULT_TOML.replace("\"2026-09-02\"", "\"2026-09-31\"");
        let (key, _) = file_error(&text);
        assert_eq!(key, "calendar.years[1].half_terms[0].first");
        let text = DEFAULT_TOML.replace("la_code = 312\n", "");
        assert_eq!(file_error(&text), ("la_code".to_owned(), "(missing)".to_owned()));
    }

    #[test]
    fn given_duplicate_half_terms_or_needs_then_they_are_refused() {
        let text = DEFAULT_TOML.replace("label = \"2027-SP1\"", "label = \"2026-AU2\"");
        assert_eq!(file_error(&text).0, "calendar.years[1].half_terms[2].label");
        let text = DEFAULT_TOML.replace("name = \"science\"", "name = \"maths\"");
        assert_eq!(file_error(&text).0, "needs.areas[4].name");
        let start = DEFAULT_TOML.find("areas = [").expect("areas");
        let end = start + DEFAULT_TOML[start..].find("\n]\n").expect("end of areas") + 3;
        let text = format!("{}areas = []\n{}", &DEFAULT_TOML[..start], &DEFAULT_TOML[end..]);
        assert_eq!(file_error(&text), ("needs.areas".to_owned(), "[]".to_owned()));
        let text = DEFAULT_TOML.replace("title = \"SLE\"", "title = \"LLE\"");
        assert_eq!(file_error(&text).0, "designations[2].title");
        let text = DEFAULT_TOML.replace("days_per_year = [10, 15]", "days_per_year = [15, 10]");
        assert_eq!(file_error(&text).0, "designations[2].days_per_year");
        let text = DEFAULT_TOML.replace("visit_record = 5", "visit_record = 0");
        assert_eq!(file_error(&text).0, "service_levels.visit_record");
    }

    #[test]
    fn given_a_toml_syntax_error_then_the_line_is_named_in_one_line() {
        let text = DEFAULT_TOML.replace("la_code = 312", "la_code = = 312");
        let err = Config::from_toml(&text, "bad.toml").expect_err("refused");
        assert!(
            matches!(err, ConfigError::Syntax { ref file, line, .. } if file == "bad.toml" && line > 1),
            "{err}"
        );
        assert!(!err.to_string().contains('\n'), "{err}");
    }

    #[test]
    fn given_environment_variables_then_every_key_is_overridable() {
        Jail::expect_with(|jail| {
            jail.set_env("BRIDGES_LA_CODE", "307");
            jail.set_env("BRIDGES_DATA_DIR", "/tmp/x");
            jail.set_env("BRIDGES_SOLVER__TIME_LIMIT_SECONDS", "5");
            jail.set_env("BRIDGES_POLICY__BROKERAGE__BUDGET", "25000.0");
            jail.set_env("BRIDGES_SERVICE_LEVELS__MATCH", "3");
            jail.set_env("BRIDGES_NEEDS__AREAS", "[{name=\"maths\", phases=[\"primary\"]}]");
            jail.set_env("BRIDGES_NATS_URL", "nats://127.0.0.1:4222");
            // Not configuration, accepted as they are.
            jail.set_env("BRIDGES_CONFIG", "elsewhere.toml");
            jail.set_env("BRIDGES_SLOW", "1");
            jail.set_env("BRIDGES_CRASH_SEED", "7");
            let config = Config::load(None).expect("config");
            assert_eq!(config.la_code, 307);
            assert_eq!(config.data_dir, PathBuf::from("/tmp/x"));
            assert_eq!(config.solver.time_limit_seconds, 5.0);
            assert_eq!(config.policy.brokerage.budget, Some(25000.0));
            assert_eq!(config.service_levels.matched, 3);
            assert_eq!(config.needs.areas.len(), 1);
            assert_eq!(config.nats_url(), Some("nats://127.0.0.1:4222"));
            Ok(())
        });
    }

    #[test]
    fn given_a_bad_environment_value_then_the_variable_key_and_value_are_named() {
        Jail::expect_with(|jail| {
            jail.set_env("BRIDGES_SOLVER__TIME_LIMIT_SECONDS", "abc");
            let err = Config::load(None).expect_err("abc is not a number");
            let text = err.to_string();
            assert_eq!(
                value_error(err),
                (
                    "solver.time_limit_seconds".to_owned(),
                    "\"abc\"".to_owned(),
                    Origin::Variable("BRIDGES_SOLVER__TIME_LIMIT_SECONDS".to_owned())
                )
            );
            assert!(text.contains("BRIDGES_SOLVER__TIME_LIMIT_SECONDS") && text.contains("abc"));
            Ok(())
        });
        Jail::expect_with(|jail| {
            jail.set_env("BRIDGES_LA_CODE", "31");
            let (key, value, origin) = value_error(Config::load(None).expect_err("two digits"));
            assert_eq!((key.as_str(), value.as_str()), ("la_code", "\"31\""));
            assert_eq!(origin, Origin::Variable("BRIDGES_LA_CODE".to_owned()));
            Ok(())
        });
    }

    #[test]
    fn given_a_nats_section_then_it_gives_the_credentials_and_never_shows_a_secret() {
        let config = Config::built_in().expect("default config");
        assert_eq!(config.nats, Credentials::default(), "optional: no credentials");
        let with = |section: &str| format!("{DEFAULT_TOML}\n[nats]\n{section}\n");
        let config =
            Config::from_toml(&with("user = \"engine-312\"\npassword = \"hunter2\""), "t.toml")
                .expect("valid");
        let credentials = &config.nats;
        assert_eq!(credentials.user.as_deref(), Some("engine-312"));
        assert_eq!(credentials.password.as_deref(), Some("hunter2"));
        assert!(!format!("{config:?}").contains("hunter2"), "Debug hides the password");
        let (key, value) = file_error(&with("password = \"hunter2\""));
        assert_eq!((key.as_str(), value.as_str()), ("nats.user", "(missing)"));
        let (key, value) = file_error(&with("user = \"engine-312\""));
        assert_eq!((key.as_str(), value.as_str()), ("nats.password", "(hidden)"));
        let (key, _) = file_error(&with(
            "user = \"u\"\npassword = \"hunter2\"\ncreds_file = \"/etc/u.creds\"",
        ));
        assert_eq!(key, "nats.creds_file", "one way to authenticate");
        let (key, value) = file_error(&with("nkey_seed = \"SUhunter2\""));
        assert_eq!((key.as_str(), value.as_str()), ("nats.nkey_seed", "(hidden)"));
        let (key, value) = file_error(&with("passwd = \"hunter2\""));
        assert_eq!((key.as_str(), value.as_str()), ("nats.passwd", "(hidden)"), "a misspelt key");
        let (key, _) = file_error(&with("tls_cert_file = \"/etc/c.pem\""));
        assert_eq!(key, "nats.tls_key_file");
        Jail::expect_with(|jail| {
            jail.set_env("BRIDGES_NATS__USER", "engine-312");
            jail.set_env("BRIDGES_NATS__PASSWORD", "hunter2");
            jail.set_env("BRIDGES_NATS__TLS_CA_FILE", "/etc/bridges/ca.pem");
            let config = Config::load(None).expect("config");
            assert_eq!(config.nats.user.as_deref(), Some("engine-312"));
            assert_eq!(config.nats.password.as_deref(), Some("hunter2"));
            assert_eq!(config.nats.tls_ca_file, Some(PathBuf::from("/etc/bridges/ca.pem")));
            Ok(())
        });
        Jail::expect_with(|jail| {
            jail.set_env("BRIDGES_NATS__PASSWORD", "hunter2");
            let err = Config::load(None).expect_err("a password needs its user");
            assert!(!err.to_string().contains("hunter2"), "{err}");
            jail.set_env("BRIDGES_NATS__USER", "engine-312");
            jail.set_env("BRIDGES_NATS__PASSWORD", "[1, 2]");
            let err = Config::load(None).expect_err("not a string");
            let text = err.to_string();
            assert!(text.contains("BRIDGES_NATS__PASSWORD") && !text.contains("1, 2"), "{text}");
            Ok(())
        });
    }

    #[test]
    fn given_an_unknown_bridges_variable_then_it_is_refused_naming_it() {
        for (name, key) in [
            ("BRIDGES_SOLVER_TIME_LIMIT_SECONDS", "solver_time_limit_seconds"),
            ("BRIDGES_SOLVER__TIME_LIMIT", "solver.time_limit"),
            ("BRIDGES_COLOUR", "colour"),
        ] {
            Jail::expect_with(|jail| {
                jail.set_env(name, "5");
                let (k, _, origin) = value_error(Config::load(None).expect_err("unknown"));
                assert_eq!(k, key);
                assert_eq!(origin, Origin::Variable(name.to_owned()));
                Ok(())
            });
        }
    }
}
