//! The service's configuration, layered: defaults in code, then a TOML file, then `CANDOR_*`
//! environment variables; the command line applies its flags last. Parsed once into this struct
//! and passed explicitly.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Largest request body accepted, in bytes, unless configured: a submission of 10,000 reports is
/// about 2 MB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 16 << 20;
/// Requests a key may make per minute, unless configured.
pub const DEFAULT_REQUESTS_PER_MINUTE: u32 = 6_000;
/// Connections to a PostgreSQL store, unless configured.
pub const DEFAULT_DB_CONNECTIONS: usize = 8;
/// How long a subject's session lasts, unless configured.
pub const DEFAULT_SESSION_MINUTES: i64 = 30;

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub listen: SocketAddr,
    /// The store: a SQLite path or a postgres:// URL.
    pub db: String,
    /// A model file to deploy at start, if the store has none deployed yet.
    pub model: Option<PathBuf>,
    pub max_body_bytes: usize,
    pub requests_per_minute: u32,
    pub session_minutes: i64,
    /// Days a furnisher has to verify a disputed record before it is suppressed.
    pub dispute_days: i64,
    /// Connections to a PostgreSQL store (SQLite always has one: it has one writer).
    pub db_connections: usize,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            db: "candor.db".into(),
            model: None,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            requests_per_minute: DEFAULT_REQUESTS_PER_MINUTE,
            session_minutes: DEFAULT_SESSION_MINUTES,
            dispute_days: candor_file::disputes::DEFAULT_DEADLINE_DAYS,
            db_connections: DEFAULT_DB_CONNECTIONS,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: cannot read: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path}: {message}")]
    Toml { path: PathBuf, message: String },
    #[error("environment variable {name}: {message}")]
    Env { name: &'static str, message: String },
}

impl Config {
    /// Defaults, then the file if given, then the environment.
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        let mut config = match file {
            None => Config::default(),
            Some(path) => {
                let text =
                    std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.into(), source })?;
                toml::from_str(&text).map_err(|e| ConfigError::Toml { path: path.into(), message: e.to_string() })?
            }
        };
        config.apply_env(|name| std::env::var(name).ok())?;
        Ok(config)
    }

    pub fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        if let Some(v) = get("CANDOR_LISTEN") {
            self.listen = v
                .parse()
                .map_err(|_| ConfigError::Env { name: "CANDOR_LISTEN", message: "expected host:port".into() })?;
        }
        if let Some(v) = get("CANDOR_DB") {
            self.db = v;
        }
        if let Some(v) = get("CANDOR_MODEL") {
            self.model = Some(v.into());
        }
        if let Some(v) = get("CANDOR_MAX_BODY_BYTES") {
            self.max_body_bytes = v
                .parse()
                .map_err(|_| ConfigError::Env { name: "CANDOR_MAX_BODY_BYTES", message: "expected bytes".into() })?;
        }
        if let Some(n) = ranged(&get, "CANDOR_DB_CONNECTIONS", 1, 64)? {
            self.db_connections = n as usize;
        }
        if let Some(days) = ranged(&get, "CANDOR_DISPUTE_DAYS", 1, 365)? {
            self.dispute_days = days;
        }
        Ok(())
    }
}

/// A whole number from the environment variable `name`, from `low` to `high`.
fn ranged(
    get: &impl Fn(&str) -> Option<String>,
    name: &'static str,
    low: i64,
    high: i64,
) -> Result<Option<i64>, ConfigError> {
    get(name)
        .map(|v| {
            v.parse::<i64>()
                .ok()
                .filter(|n| (low..=high).contains(n))
                .ok_or(ConfigError::Env { name, message: format!("expected a whole number from {low} to {high}") })
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_apply_in_order() {
        let mut c: Config = toml::from_str("db = \"file.db\"\nmax_body_bytes = 1000").expect("toml");
        assert_eq!((c.db.as_str(), c.max_body_bytes, c.listen.port()), ("file.db", 1000, 8080));
        c.apply_env(|n| (n == "CANDOR_DB").then(|| "env.db".to_owned())).expect("env");
        assert_eq!(c.db, "env.db");
        assert!(toml::from_str::<Config>("colour = 1").is_err(), "unknown keys are refused");
        assert!(c.apply_env(|n| (n == "CANDOR_LISTEN").then(|| "nowhere".to_owned())).is_err());
    }
}
