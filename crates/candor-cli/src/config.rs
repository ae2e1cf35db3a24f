//! The configuration, loaded in this one place, layered: defaults in code, then a TOML file,
//! then `CANDOR_*` environment variables; the command line applies its flags last. Parsed once
//! into these structs and passed down: the service's part as [`candor_server::Settings`], the
//! bureau's keys to whoever needs them.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use candor_server::Settings;

/// Connections to the store, unless configured.
pub const DEFAULT_DB_CONNECTIONS: usize = 8;

/// The bureau's keys, each 64 hex characters, as the TOML file's `[keys]` table or the
/// `CANDOR_IDENTITY_KEY`, `CANDOR_SEALING_KEY` and `CANDOR_LOG_KEY` variables give them. Unset,
/// an embedded SQLite store keeps its own beside the database. Never printed.
#[derive(Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KeyConfig {
    /// The key of the keyed hash that stands for a national identifier.
    pub identity: Option<String>,
    /// The key that seals names and birth dates.
    pub sealing: Option<String>,
    /// The Ed25519 seed that signs the log's checkpoints.
    pub log: Option<String>,
}

impl KeyConfig {
    /// The keys the environment gives, for the commands that take no configuration file.
    pub fn from_env() -> KeyConfig {
        let get = |name| std::env::var(name).ok();
        KeyConfig {
            identity: get("CANDOR_IDENTITY_KEY"),
            sealing: get("CANDOR_SEALING_KEY"),
            log: get("CANDOR_LOG_KEY"),
        }
    }
}

impl std::fmt::Debug for KeyConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let set = |k: &Option<String>| if k.is_some() { "set" } else { "unset" };
        f.debug_struct("KeyConfig")
            .field("identity", &set(&self.identity))
            .field("sealing", &set(&self.sealing))
            .field("log", &set(&self.log))
            .finish()
    }
}

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
    /// Days a dispute has, from opening to decision; a furnisher that has not answered by then
    /// has its record suppressed.
    pub dispute_days: i64,
    /// Days an activation code stays valid.
    pub activation_days: i64,
    /// Days after an enrolment over an earlier one during which lifting a freeze and new
    /// consents wait.
    pub cooling_off_days: i64,
    /// Longest a consent may run, in days.
    pub max_consent_days: i64,
    /// Most connections the service holds open at once (below the process's file descriptors).
    pub max_connections: usize,
    /// Most of them from one address.
    pub max_connections_per_address: u32,
    /// Connections to the store: on PostgreSQL each serves any request; on SQLite, which has one
    /// writer, one serves the writes and the rest only reads (the log's writer has its own).
    pub db_connections: usize,
    /// Where the last signed checkpoint is kept, outside the store (a rolled-back store is
    /// refused at start); default: beside a SQLite store; for PostgreSQL, set it.
    pub checkpoint_file: Option<PathBuf>,
    pub keys: KeyConfig,
}

impl Default for Config {
    fn default() -> Config {
        let service = Settings::default();
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            db: "candor.db".into(),
            model: None,
            max_body_bytes: service.max_body_bytes,
            requests_per_minute: service.requests_per_minute,
            session_minutes: service.session_minutes,
            dispute_days: service.dispute_days,
            activation_days: service.activation_days,
            cooling_off_days: service.cooling_off_days,
            max_consent_days: service.max_consent_days,
            max_connections: candor_server::listener::Limits::default().max_connections,
            max_connections_per_address: candor_server::listener::Limits::default().per_address,
            db_connections: DEFAULT_DB_CONNECTIONS,
            checkpoint_file: None,
            keys: KeyConfig::default(),
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

    /// What the service itself needs.
    pub fn settings(&self) -> Settings {
        Settings {
            max_body_bytes: self.max_body_bytes,
            requests_per_minute: self.requests_per_minute,
            session_minutes: self.session_minutes,
            dispute_days: self.dispute_days,
            activation_days: self.activation_days,
            cooling_off_days: self.cooling_off_days,
            max_consent_days: self.max_consent_days,
            checkpoint_file: self.checkpoint_file.clone().or_else(|| crate::bureau::checkpoint_file(&self.db)),
            connections: candor_server::listener::Limits {
                max_connections: self.max_connections,
                per_address: self.max_connections_per_address,
                ..Default::default()
            },
        }
    }

    pub fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        for (name, slot) in [
            ("CANDOR_IDENTITY_KEY", &mut self.keys.identity),
            ("CANDOR_SEALING_KEY", &mut self.keys.sealing),
            ("CANDOR_LOG_KEY", &mut self.keys.log),
        ] {
            if let Some(v) = get(name) {
                *slot = Some(v);
            }
        }
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
        if let Some(v) = get("CANDOR_CHECKPOINT_FILE") {
            self.checkpoint_file = Some(v.into());
        }
        if let Some(v) = get("CANDOR_MAX_BODY_BYTES") {
            self.max_body_bytes = v
                .parse()
                .map_err(|_| ConfigError::Env { name: "CANDOR_MAX_BODY_BYTES", message: "expected bytes".into() })?;
        }
        if let Some(n) = ranged(&get, "CANDOR_MAX_CONNECTIONS", 8, 65_536)? {
            self.max_connections = n as usize;
        }
        if let Some(n) = ranged(&get, "CANDOR_DB_CONNECTIONS", 1, 64)? {
            self.db_connections = n as usize;
        }
        if let Some(days) = ranged(&get, "CANDOR_DISPUTE_DAYS", 1, 365)? {
            self.dispute_days = days;
        }
        if let Some(days) = ranged(&get, "CANDOR_ACTIVATION_DAYS", 1, 365)? {
            self.activation_days = days;
        }
        if let Some(days) = ranged(&get, "CANDOR_COOLING_OFF_DAYS", 0, 90)? {
            self.cooling_off_days = days;
        }
        if let Some(days) = ranged(&get, "CANDOR_MAX_CONSENT_DAYS", 1, 3_650)? {
            self.max_consent_days = days;
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

    #[test]
    fn keys_come_from_the_file_or_the_environment_and_are_never_printed() {
        let mut c: Config = toml::from_str("[keys]\nidentity = \"aa\"\nsealing = \"bb\"").expect("toml");
        assert_eq!((c.keys.identity.as_deref(), c.keys.log.as_deref()), (Some("aa"), None));
        c.apply_env(|n| (n == "CANDOR_IDENTITY_KEY").then(|| "cc".to_owned())).expect("env");
        assert_eq!(c.keys.identity.as_deref(), Some("cc"), "the environment overrides the file");
        let shown = format!("{c:?}");
        assert!(!shown.contains("cc") && !shown.contains("bb"), "{shown}");
        assert!(toml::from_str::<Config>("[keys]\nother = \"x\"").is_err(), "unknown keys are refused");
    }
}
