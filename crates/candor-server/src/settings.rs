//! What the service itself needs of the configuration, which the command line loads (defaults,
//! TOML file, environment, flags) and passes in.

/// Largest request body accepted, in bytes, unless configured: a submission of 10,000 reports is
/// about 2 MB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 16 << 20;
/// Requests a key may make per minute, unless configured.
pub const DEFAULT_REQUESTS_PER_MINUTE: u32 = 6_000;
/// How long a subject's session lasts, unless configured.
pub const DEFAULT_SESSION_MINUTES: i64 = 30;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    pub max_body_bytes: usize,
    pub requests_per_minute: u32,
    pub session_minutes: i64,
    /// Days a dispute has, from opening to decision.
    pub dispute_days: i64,
    /// Days an activation code stays valid.
    pub activation_days: i64,
    /// Days after an enrolment over an earlier one during which lifting a freeze and new
    /// consents wait.
    pub cooling_off_days: i64,
    /// Longest a consent may run, in days.
    pub max_consent_days: i64,
    /// Where the last checkpoint the bureau signed is kept, outside the store (see
    /// [`crate::keep_checkpoint`]); none: not kept.
    pub checkpoint_file: Option<std::path::PathBuf>,
    /// How many connections, from where, for how long.
    pub connections: crate::listener::Limits,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            requests_per_minute: DEFAULT_REQUESTS_PER_MINUTE,
            session_minutes: DEFAULT_SESSION_MINUTES,
            dispute_days: candor_file::disputes::DEFAULT_DEADLINE_DAYS,
            activation_days: candor_bureau::DEFAULT_ACTIVATION_DAYS,
            cooling_off_days: candor_bureau::DEFAULT_COOLING_OFF_DAYS,
            max_consent_days: candor_bureau::DEFAULT_MAX_CONSENT_DAYS,
            checkpoint_file: None,
            connections: crate::listener::Limits::default(),
        }
    }
}
