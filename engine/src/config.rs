//! The engine's one typed `Config`: read once from `config/default.toml` (built
//! into the binary, so `bridges` runs from any folder) or from a file given
//! with `--config`, then overridden by `BRIDGES_*` environment variables,
//! validated, and passed explicitly. It holds no behaviour.
//!
//! Parsing walks the TOML table by hand rather than deriving serde, because
//! only the schemas crate derives serde; it also lets every error name its key.

use std::path::{Path, PathBuf};

use bridges_schemas::brokerage::BrokeragePolicy;
use bridges_schemas::{NeedArea, Period, SameTrust};
use toml::{Table, Value};

/// The configuration compiled into the binary.
pub const DEFAULT_TOML: &str = include_str!("../../config/default.toml");

/// Everything `bridges` is configured with.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Three-digit code of the LA this engine serves (Hillingdon 312).
    pub la_code: u16,
    /// Folder of the event log.
    pub data_dir: PathBuf,
    /// Subject prefix on NATS (`bridges`).
    pub subject_prefix: String,
    /// NATS URL; `None` runs the embedded default (solver in process).
    pub nats_url: Option<String>,
    /// sled page cache, bytes.
    pub cache_capacity_bytes: u64,
    /// Most events one group commit takes.
    pub max_batch: usize,
    /// Events the writer holds stream-index runs for before writing them.
    pub index_lag: usize,
    pub solver_time_limit_seconds: f64,
    pub solver_mip_gap: f64,
    /// The half-terms of the academic year, in order.
    pub periods: Vec<Period>,
    /// Need areas practitioners can support.
    pub need_areas: Vec<NeedArea>,
    pub brokerage_policy: BrokeragePolicy,
    /// Size of the generated week when no real intake is given.
    pub weekly: WeeklySize,
}

/// How large a generated weekly intake is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WeeklySize {
    pub schools: usize,
    pub practitioners: usize,
    pub requests: usize,
}

/// A configuration that cannot be used: which key, which value, why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("configuration {key} = {value}: {reason}")]
pub struct ConfigError {
    pub key: String,
    pub value: String,
    pub reason: String,
}

impl Config {
    /// Reads the configuration: `file` (or the built-in default), then the
    /// environment (`BRIDGES_LA_CODE`, `BRIDGES_DATA_DIR`, `BRIDGES_NATS_URL`).
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        let text = match file {
            Some(path) => std::fs::read_to_string(path).map_err(|e| {
                ConfigError::new("--config", path.display(), format!("cannot read: {e}"))
            })?,
            None => DEFAULT_TOML.to_owned(),
        };
        let env: Vec<(String, String)> =
            std::env::vars().filter(|(k, _)| k.starts_with("BRIDGES_")).collect();
        Config::from_toml(&text, &env)
    }

    /// Parses `text` and applies `env` overrides (pairs of name and value).
    pub fn from_toml(text: &str, env: &[(String, String)]) -> Result<Config, ConfigError> {
        let table: Table = text.parse().map_err(|e: toml::de::Error| {
            ConfigError::new("(file)", "(as given)", e.to_string())
        })?;
        let mut config = Config {
            la_code: la_code(&int(&table, "la_code")?.to_string(), "la_code")?,
            data_dir: PathBuf::from(string(&table, "data_dir")?),
            subject_prefix: string(&table, "subject_prefix")?,
            nats_url: Some(string(&table, "nats_url")?).filter(|s| !s.is_empty()),
            cache_capacity_bytes: positive(&table, "log.cache_capacity_bytes")?,
            max_batch: positive(&table, "log.max_batch")? as usize,
            index_lag: positive(&table, "log.index_lag")? as usize,
            solver_time_limit_seconds: float(&table, "solver.time_limit_seconds")?,
            solver_mip_gap: float(&table, "solver.mip_gap")?,
            periods: strings(&table, "calendar.periods")?.into_iter().map(Period).collect(),
            need_areas: strings(&table, "needs.areas")?.into_iter().map(NeedArea).collect(),
            brokerage_policy: BrokeragePolicy {
                max_distance_km: Some(float(&table, "policy.brokerage.max_distance_km")?),
                same_trust: same_trust(&string(&table, "policy.brokerage.same_trust")?)?,
                budget: optional_float(&table, "policy.brokerage.budget")?,
                single_practitioner: boolean(&table, "policy.brokerage.single_practitioner")?,
            },
            weekly: WeeklySize {
                schools: positive(&table, "weekly.schools")? as usize,
                practitioners: positive(&table, "weekly.practitioners")? as usize,
                requests: positive(&table, "weekly.requests")? as usize,
            },
        };
        for (key, value) in env {
            match key.as_str() {
                "BRIDGES_LA_CODE" => config.la_code = la_code(value, key)?,
                "BRIDGES_DATA_DIR" => config.data_dir = PathBuf::from(value),
                "BRIDGES_NATS_URL" => {
                    config.nats_url = Some(value.clone()).filter(|s| !s.is_empty())
                }
                _ => {}
            }
        }
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if self.periods.is_empty() {
            return Err(ConfigError::new(
                "calendar.periods",
                "[]",
                "the calendar needs at least one half-term",
            ));
        }
        if self.solver_time_limit_seconds.is_nan() || self.solver_time_limit_seconds <= 0.0 {
            return Err(ConfigError::new(
                "solver.time_limit_seconds",
                self.solver_time_limit_seconds,
                "must be positive",
            ));
        }
        if !(0.0..1.0).contains(&self.solver_mip_gap) {
            return Err(ConfigError::new(
                "solver.mip_gap",
                self.solver_mip_gap,
                "must be in [0, 1)",
            ));
        }
        if let Some(d) = self.brokerage_policy.max_distance_km
            && (d.is_nan() || d <= 0.0)
        {
            return Err(ConfigError::new(
                "policy.brokerage.max_distance_km",
                d,
                "must be positive",
            ));
        }
        Ok(())
    }
}

impl ConfigError {
    fn new(
        key: impl Into<String>,
        value: impl std::fmt::Display,
        reason: impl Into<String>,
    ) -> ConfigError {
        ConfigError { key: key.into(), value: value.to_string(), reason: reason.into() }
    }
}

fn lookup<'a>(table: &'a Table, key: &str) -> Result<&'a Value, ConfigError> {
    let mut parts = key.split('.');
    let first = parts.next().unwrap_or(key);
    let mut value =
        table.get(first).ok_or_else(|| ConfigError::new(key, "(missing)", "required"))?;
    for part in parts {
        value = value.get(part).ok_or_else(|| ConfigError::new(key, "(missing)", "required"))?;
    }
    Ok(value)
}

fn wrong(key: &str, value: &Value, expected: &str) -> ConfigError {
    ConfigError::new(key, value, format!("expected {expected}"))
}

fn int(table: &Table, key: &str) -> Result<i64, ConfigError> {
    let v = lookup(table, key)?;
    v.as_integer().ok_or_else(|| wrong(key, v, "an integer"))
}

fn positive(table: &Table, key: &str) -> Result<u64, ConfigError> {
    let n = int(table, key)?;
    u64::try_from(n)
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| ConfigError::new(key, n, "must be positive"))
}

fn float(table: &Table, key: &str) -> Result<f64, ConfigError> {
    let v = lookup(table, key)?;
    v.as_float()
        .or_else(|| v.as_integer().map(|i| i as f64))
        .ok_or_else(|| wrong(key, v, "a number"))
}

fn optional_float(table: &Table, key: &str) -> Result<Option<f64>, ConfigError> {
    match lookup(table, key) {
        Ok(_) => float(table, key).map(Some),
        Err(_) => Ok(None),
    }
}

fn string(table: &Table, key: &str) -> Result<String, ConfigError> {
    let v = lookup(table, key)?;
    v.as_str().map(str::to_owned).ok_or_else(|| wrong(key, v, "a string"))
}

fn boolean(table: &Table, key: &str) -> Result<bool, ConfigError> {
    let v = lookup(table, key)?;
    v.as_bool().ok_or_else(|| wrong(key, v, "true or false"))
}

fn strings(table: &Table, key: &str) -> Result<Vec<String>, ConfigError> {
    let v = lookup(table, key)?;
    let items = v.as_array().ok_or_else(|| wrong(key, v, "a list of strings"))?;
    items
        .iter()
        .map(|i| i.as_str().map(str::to_owned).ok_or_else(|| wrong(key, i, "a string")))
        .collect()
}

fn la_code(text: &str, key: &str) -> Result<u16, ConfigError> {
    text.parse::<u16>()
        .ok()
        .filter(|c| (100..=999).contains(c))
        .ok_or_else(|| ConfigError::new(key, text, "an LA code has three digits, for example 312"))
}

fn same_trust(text: &str) -> Result<SameTrust, ConfigError> {
    match text {
        "forbid" => Ok(SameTrust::Forbid),
        "allow" => Ok(SameTrust::Allow),
        other => Err(ConfigError::new(
            "policy.brokerage.same_trust",
            other,
            "expected \"forbid\" or \"allow\"",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_default_is_valid() {
        let config = Config::from_toml(DEFAULT_TOML, &[]).expect("default config");
        assert_eq!(config.la_code, 312);
        assert_eq!(config.periods.len(), 6);
        assert_eq!(config.nats_url, None);
        assert!(config.brokerage_policy.single_practitioner);
    }

    #[test]
    fn environment_overrides_the_file() {
        let env = [
            ("BRIDGES_LA_CODE".to_owned(), "307".to_owned()),
            ("BRIDGES_DATA_DIR".to_owned(), "/tmp/x".to_owned()),
        ];
        let config = Config::from_toml(DEFAULT_TOML, &env).expect("config");
        assert_eq!(config.la_code, 307);
        assert_eq!(config.data_dir, PathBuf::from("/tmp/x"));
    }

    #[test]
    fn a_bad_value_names_its_key_and_value() {
        let env = [("BRIDGES_LA_CODE".to_owned(), "31".to_owned())];
        let err = Config::from_toml(DEFAULT_TOML, &env).expect_err("two digits are refused");
        assert_eq!((err.key.as_str(), err.value.as_str()), ("BRIDGES_LA_CODE", "31"));
        let text = DEFAULT_TOML.replace("mip_gap = 0.0", "mip_gap = 2.0");
        let err = Config::from_toml(&text, &[]).expect_err("gap of 200% refused");
        assert_eq!(err.key, "solver.mip_gap");
    }
}
