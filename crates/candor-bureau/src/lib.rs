//! The bureau's rules, as a library every front end calls: the HTTP service, the command line
//! and (next) the web pages. Nothing here knows HTTP or wire JSON; the time a workflow runs at
//! is an argument ([`Now`]), so a test replays any workflow at any moment.
//!
//! Each workflow is one function over a [`Store`], and runs as one unit of work
//! ([`Store::unit`]): its writes and the log leaves that record them commit together or not at
//! all. Every read of a person's file — report, score, decision, notification re-score,
//! statistic, the training data of `candor features` — goes through one gate,
//! [`gate::reported_file`] (or its walk over every file, [`gate::for_each_reported_file`]):
//! the file as known now, after retention, without what disputes deleted, suppressed or
//! blocked. Every third-party read goes through [`consent::consented_read`].

pub mod consent;
pub mod dispute;
pub mod gate;
pub mod log_view;
pub mod operator;
pub mod perks;
pub mod policy;
pub mod proofing;
pub mod replay;
pub mod score;
pub mod second_factor;
pub mod staff;
pub mod stats;
pub mod subject;

use candor_file::retention::Retention;
use candor_store::{Store, StoreError};

pub use candor_log::Leaf;
pub use score::Deployed;

/// The moment a workflow runs at: milliseconds since 1970, and the day it falls on (UTC).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Now {
    pub ms: i64,
    pub today: time::Date,
}

impl Now {
    /// The moment `ms` milliseconds after 1970, and its day in UTC.
    pub fn at_ms(ms: i64) -> Now {
        let today =
            time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000)).map_or(time::Date::MIN, |t| t.date());
        Now { ms, today }
    }
}

/// Milliseconds in a day.
pub const DAY_MS: i64 = 86_400_000;

/// The day (UTC) a moment falls on.
pub(crate) fn day_of_ms(ms: i64) -> time::Date {
    Now::at_ms(ms).today
}

/// The bureau's rules as the operator configured them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rules {
    /// Days the whole dispute has, from opening to decision; the furnisher answers within them
    /// or the record is suppressed (30 under the FCRA, 20 under China's 2013 regulation).
    pub dispute_days: i64,
    /// How long negative information stays on file.
    pub retention: Retention,
    /// Days an activation code stays valid.
    pub activation_days: i64,
    /// Days after an enrolment that followed an earlier one during which the person cannot
    /// lift a freeze or grant a consent (placing a freeze and revoking stay open).
    pub cooling_off_days: i64,
    /// Longest a consent may run, in days from the day it is given.
    pub max_consent_days: i64,
}

/// Days an activation code stays valid unless configured otherwise.
pub const DEFAULT_ACTIVATION_DAYS: i64 = 30;
/// The cooling-off period after an enrolment over an earlier one, unless configured otherwise.
pub const DEFAULT_COOLING_OFF_DAYS: i64 = 7;
/// The longest consent, unless configured otherwise: two years.
pub const DEFAULT_MAX_CONSENT_DAYS: i64 = 730;

impl Default for Rules {
    fn default() -> Rules {
        Rules {
            dispute_days: candor_file::disputes::DEFAULT_DEADLINE_DAYS,
            retention: Retention::default(),
            activation_days: DEFAULT_ACTIVATION_DAYS,
            cooling_off_days: DEFAULT_COOLING_OFF_DAYS,
            max_consent_days: DEFAULT_MAX_CONSENT_DAYS,
        }
    }
}

/// Why a workflow did not do what it was asked, for the caller to turn into its own answer.
/// Every variant but [`BureauError::Store`] is the caller's to fix or to be told.
#[derive(Debug, thiserror::Error)]
pub enum BureauError {
    /// Nothing of that description, or nothing the caller may see (the two look the same).
    #[error("no such {what}")]
    NotFound { what: &'static str, field: Option<&'static str> },
    /// The request itself is wrong: which rule, which field, and why.
    #[error("{message}")]
    Invalid { code: &'static str, field: Option<&'static str>, message: String },
    /// The request is well formed but the state of things does not allow it now.
    #[error("{message}")]
    Conflict { code: &'static str, field: Option<&'static str>, message: String },
    /// A read refused (and logged, as `leaf`): no live consent, or a frozen file.
    #[error("{}", .refusal.reason())]
    Refused { refusal: consent::Refusal, leaf: i64 },
    #[error("no model is deployed yet")]
    NoModel,
    /// The person did not prove who they are: an unknown identifier, or an activation code that
    /// is wrong, used or expired (the two look the same).
    #[error("unknown identifier, or an activation code that is wrong, used or expired")]
    Unproven,
    /// A way of proving identity closed to this identifier for now (too many wrong answers).
    #[error("{message}")]
    Closed { message: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl BureauError {
    pub(crate) fn invalid(code: &'static str, field: &'static str, message: impl Into<String>) -> BureauError {
        BureauError::Invalid { code, field: Some(field), message: message.into() }
    }

    pub(crate) fn conflict(code: &'static str, message: impl Into<String>) -> BureauError {
        BureauError::Conflict { code, field: None, message: message.into() }
    }

    pub(crate) fn not_found(what: &'static str) -> BureauError {
        BureauError::NotFound { what, field: None }
    }

    /// A value the store holds that this version cannot read: the store's fault, not the caller's.
    pub(crate) fn corrupt(what: impl std::fmt::Display) -> BureauError {
        BureauError::Store(StoreError::Corrupt(what.to_string()))
    }
}

pub type Result<T, E = BureauError> = std::result::Result<T, E>;

/// Most items a page of any list holds.
pub const MAX_PAGE: u32 = 500;
/// Items a page holds unless the caller asks for fewer (or more, up to [`MAX_PAGE`]).
pub const DEFAULT_PAGE: u32 = 100;

/// Which page of a list: at most `limit` items after the one whose key is `after` (each list
/// says what its key is: a leaf index, a dispute id, a position).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Page {
    pub after: i64,
    pub limit: u32,
}

impl Page {
    /// The page a caller asks for; the first page of [`DEFAULT_PAGE`] items by default.
    pub fn new(after: Option<i64>, limit: Option<u32>) -> Result<Page> {
        let limit = limit.unwrap_or(DEFAULT_PAGE);
        if limit == 0 || limit > MAX_PAGE {
            return Err(BureauError::invalid("bad_page", "limit", format!("a page holds 1 to {MAX_PAGE} items")));
        }
        Ok(Page { after: after.unwrap_or(-1), limit })
    }

    /// Every item: for walks inside the bureau that must see all (bounded by the caller).
    pub(crate) const fn first(limit: u32) -> Page {
        Page { after: -1, limit }
    }

    /// A page of items from a list already read by key, with `key` of each.
    pub(crate) fn of<T>(self, items: Vec<T>, key: impl Fn(&T) -> i64) -> Paged<T> {
        let items: Vec<T> = items.into_iter().filter(|i| key(i) > self.after).take(self.limit as usize).collect();
        Paged::read(self, items, key)
    }
}

/// One page of a list, and the key to ask the next page after (none: this is the last).
#[derive(Clone, Debug, PartialEq)]
pub struct Paged<T> {
    pub items: Vec<T>,
    pub next: Option<i64>,
}

impl<T> Paged<T> {
    /// A page from a store query that read at most `page.limit` items, `key` of each.
    pub(crate) fn read(page: Page, items: Vec<T>, key: impl Fn(&T) -> i64) -> Paged<T> {
        let next = (items.len() == page.limit as usize).then(|| items.last().map(key)).flatten();
        Paged { items, next }
    }
}

/// Appends a leaf inside the current unit; its index.
pub(crate) fn log(store: &mut Store, leaf: Leaf) -> Result<i64> {
    Ok(store.log(&leaf)?)
}

/// Runs `work` as one unit of work on the store (see [`Store::unit`]), with the bureau's errors.
pub(crate) fn unit<T>(store: &mut Store, work: impl FnOnce(&mut Store) -> Result<T>) -> Result<T> {
    store.unit(work)
}
