//! The log's leaves, typed: one variant per kind of event the bureau records, each a plain
//! record of what happened, in the JSON the log commits to.
//!
//! The bytes of a leaf are what its hash commits to, so they are pinned: [`Leaf::to_text`] is the
//! one serialisation (keys in declaration order, `kind` first), and the tests hold every kind's
//! bytes to a snapshot. Leaves written before leaves were typed (no `leaf_version`, read as
//! version 0) parse into the same types, so replay, notifications and review requests keep
//! working for every leaf already in a log. A leaf is never rewritten: a later version of this
//! program adds fields with defaults or new kinds, and says so with a new [`LEAF_VERSION`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The shape of the leaves this program writes. 0 is the untyped shape of earlier versions.
pub const LEAF_VERSION: u32 = 1;

/// One entry of the transparency log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Leaf {
    /// A batch applied: it commits to the submission's bytes and the rows it wrote.
    Ingestion(Ingestion),
    /// The retention purge: what it deleted, by the hashes it kept.
    Purge(Purge),
    Enrolment(SubjectEvent),
    Withdrawal(SubjectEvent),
    FreezePlaced(SubjectEvent),
    FreezeLifted(SubjectEvent),
    ConsentGranted(ConsentChange),
    ConsentRevoked(ConsentChange),
    /// A score or decision asked for without a live consent, or of a frozen file.
    RefusedRead(RefusedRead),
    /// A score given under a live consent, with the inputs that replay it.
    Read(Read),
    /// A decision under a lender's policy: a read with the policy and its outcome.
    Decision(Read),
    ModelDeployed(ModelDeployed),
    DisputeOpened(DisputeOpened),
    DisputeAnswered(DisputeAnswered),
    DisputeSuppressed(DisputeSuppressed),
    DisputeDecided(DisputeDecided),
    ReviewRequested(ReviewRequested),
    Statement(Statement),
    /// An organisation that read the file is told of a change to it.
    Notification(Notification),
    /// An activation code issued to a person, out of band (the code itself is never logged).
    ActivationIssued(ActivationIssued),
    /// An enrolment over an earlier one: every session of the earlier ends, and sensitive
    /// changes wait out a cooling-off period.
    Reenrolment(SubjectEvent),
    /// The operator registered an organisation (or renamed it) and issued it a key.
    OrganisationRegistered(OrganisationRegistered),
    /// The operator stopped (or resumed) all scoring.
    ScoringSwitched(ScoringSwitched),
    /// The person put a second factor in force for signing in.
    SecondFactorOn(SubjectEvent),
    /// The person turned their second factor off.
    SecondFactorOff(SubjectEvent),
    /// The operator revoked an organisation's API key.
    KeyRevoked(KeyRevoked),
    /// The operator registered a member of an overseeing organisation's staff (a person who signs
    /// in to the console with a passphrase and a second factor).
    StaffRegistered(StaffRegistered),
    /// A member of the ombudsman's staff opened a case: who looked at which dispute.
    CaseOpened(CaseOpened),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Ingestion {
    #[serde(default)]
    pub leaf_version: u32,
    pub batch_id: i64,
    pub sender: String,
    pub format: String,
    /// SHA-256 of the submitted bytes, hex.
    pub submission: String,
    /// The digest of the rows the batch wrote, hex.
    pub rows: String,
    pub recorded_ms: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Purge {
    #[serde(default)]
    pub leaf_version: u32,
    pub purge_id: i64,
    /// The day retention was applied on, `YYYY-MM-DD`.
    pub today: String,
    pub negative_years: u8,
    pub reports_deleted: u64,
    pub court_records_deleted: u64,
    /// The digest of the hashes of the rows it removed, hex.
    pub purged: String,
    pub recorded_ms: i64,
}

/// An event about one person with nothing more to say: enrolment, withdrawal, a freeze placed
/// or lifted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct SubjectEvent {
    #[serde(default)]
    pub leaf_version: u32,
    /// The subject's keyed hash, hex.
    pub subject: String,
    pub recorded_ms: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ConsentChange {
    #[serde(default)]
    pub leaf_version: u32,
    pub subject: String,
    pub org: String,
    pub purpose: String,
    pub granted: String,
    pub until: String,
    pub revoked: Option<String>,
    pub recorded_ms: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RefusedRead {
    #[serde(default)]
    pub leaf_version: u32,
    pub subject: String,
    pub org: String,
    pub purpose: String,
    /// Why, in words: "no live consent" or "file frozen".
    pub reason: String,
    pub recorded_ms: i64,
}

/// A policy by name and version (the SHA-256 of its stored text).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PolicyRef {
    pub name: String,
    pub version: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Read {
    #[serde(default)]
    pub leaf_version: u32,
    pub subject: String,
    pub org: String,
    pub purpose: String,
    pub consent_until: String,
    pub model_version: String,
    /// Absent for a file the model did not score (its one reason then `not_enough_history`);
    /// a score is written exactly as before the option existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pd: Option<f64>,
    /// Reason codes, largest shortfall first.
    #[serde(default)]
    pub reasons: Vec<String>,
    /// For a decision: what it was (`approve`, `waive_deposit`, `limit`, `decline`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<PolicyRef>,
    /// Every feature as computed for the score (null: missing): what replays it.
    #[serde(default)]
    pub inputs: BTreeMap<String, Option<f64>>,
    /// The day the features describe, `YYYY-MM-DD`.
    #[serde(default)]
    pub as_of: String,
    pub recorded_ms: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ModelDeployed {
    #[serde(default)]
    pub leaf_version: u32,
    /// The SHA-256 of the model document, hex.
    pub version: String,
    pub recorded_ms: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct DisputeOpened {
    #[serde(default)]
    pub leaf_version: u32,
    pub subject: String,
    pub dispute: i64,
    pub record_kind: String,
    pub record_ref: String,
    pub furnisher_asked: String,
    pub identity_theft_report: Option<String>,
    pub blocked: bool,
    /// When the whole dispute must be decided, ms since 1970 (absent in version 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_ms: Option<i64>,
    /// What the person says is wrong (`not_mine`, `paid`, ...), when they said (absent before).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim_reason: Option<String>,
    /// The SHA-256 (hex) of everything they sent — reason, words, evidence — which their receipt
    /// shows; the words and the evidence themselves are kept sealed, never in the log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim_sha256: Option<String>,
    pub recorded_ms: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct DisputeAnswered {
    #[serde(default)]
    pub leaf_version: u32,
    pub subject: String,
    pub dispute: i64,
    pub record_ref: String,
    pub furnisher: String,
    /// `furnisher_verified` or `furnisher_corrected`.
    pub answer: String,
    pub recorded_ms: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct DisputeSuppressed {
    #[serde(default)]
    pub leaf_version: u32,
    pub subject: String,
    pub dispute: i64,
    pub record_kind: String,
    pub record_ref: String,
    pub furnisher: Option<String>,
    pub reason: String,
    pub recorded_ms: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct DisputeDecided {
    #[serde(default)]
    pub leaf_version: u32,
    pub subject: String,
    pub dispute: i64,
    pub record_kind: String,
    pub record_ref: String,
    pub outcome: String,
    pub reviewer: String,
    /// For a review: the log leaf of the decision reviewed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision_leaf: Option<i64>,
    /// Why, as one of the explanations the bureau publishes (`deleted_not_verified`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explanation: Option<String>,
    /// The member of the ombudsman's staff who decided, when decided in the console.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staff: Option<String>,
    pub recorded_ms: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ReviewRequested {
    #[serde(default)]
    pub leaf_version: u32,
    pub subject: String,
    pub dispute: i64,
    pub decision_leaf: i64,
    pub org: String,
    pub recorded_ms: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Statement {
    #[serde(default)]
    pub leaf_version: u32,
    pub subject: String,
    pub record_ref: String,
    pub withdrawn: bool,
    pub recorded_ms: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Notification {
    #[serde(default)]
    pub leaf_version: u32,
    pub subject: String,
    pub org: String,
    pub dispute: i64,
    pub outcome: String,
    /// The score the file gives after the change (none: no model, or no file).
    pub new_score: Option<i32>,
    /// For an overridden decision: its log leaf.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision_leaf: Option<i64>,
    pub recorded_ms: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ActivationIssued {
    #[serde(default)]
    pub leaf_version: u32,
    pub subject: String,
    pub expires_ms: i64,
    pub recorded_ms: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct OrganisationRegistered {
    #[serde(default)]
    pub leaf_version: u32,
    pub org: String,
    /// What the bureau registered it as (lender, merchant, court, ...).
    pub org_kind: String,
    pub name: String,
    /// A new API key was issued (any earlier one stops working).
    pub key_issued: bool,
    pub recorded_ms: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct StaffRegistered {
    #[serde(default)]
    pub leaf_version: u32,
    /// The organisation the member works for.
    pub org: String,
    pub staff: String,
    pub recorded_ms: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct CaseOpened {
    #[serde(default)]
    pub leaf_version: u32,
    pub subject: String,
    pub dispute: i64,
    pub org: String,
    pub staff: String,
    pub recorded_ms: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct KeyRevoked {
    #[serde(default)]
    pub leaf_version: u32,
    pub org: String,
    pub recorded_ms: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ScoringSwitched {
    #[serde(default)]
    pub leaf_version: u32,
    pub suspended: bool,
    /// The operator who switched it.
    pub by: String,
    pub recorded_ms: i64,
}

/// A leaf body that is not one this program can read.
#[derive(Debug, thiserror::Error)]
#[error("not a log leaf this version can read: {0}")]
pub struct LeafError(String);

impl Leaf {
    /// The exact bytes the log commits to.
    pub fn to_text(&self) -> String {
        // Serialising these types cannot fail: no maps with non-string keys, no non-finite
        // floats reach here (a missing input is null, a pd is a probability).
        serde_json::to_string(self).unwrap_or_else(|e| unreachable!("a leaf always serialises: {e}"))
    }

    /// Reads a stored leaf body, of this version or an earlier one.
    pub fn parse(text: &str) -> Result<Leaf, LeafError> {
        serde_json::from_str(text).map_err(|e| LeafError(e.to_string()))
    }

    /// The kind, as the log's `kind` column holds it.
    pub fn kind(&self) -> &'static str {
        match self {
            Leaf::Ingestion(_) => "ingestion",
            Leaf::Purge(_) => "purge",
            Leaf::Enrolment(_) => "enrolment",
            Leaf::Withdrawal(_) => "withdrawal",
            Leaf::FreezePlaced(_) => "freeze_placed",
            Leaf::FreezeLifted(_) => "freeze_lifted",
            Leaf::ConsentGranted(_) => "consent_granted",
            Leaf::ConsentRevoked(_) => "consent_revoked",
            Leaf::RefusedRead(_) => "refused_read",
            Leaf::Read(_) => "read",
            Leaf::Decision(_) => "decision",
            Leaf::ModelDeployed(_) => "model_deployed",
            Leaf::DisputeOpened(_) => "dispute_opened",
            Leaf::DisputeAnswered(_) => "dispute_answered",
            Leaf::DisputeSuppressed(_) => "dispute_suppressed",
            Leaf::DisputeDecided(_) => "dispute_decided",
            Leaf::ReviewRequested(_) => "review_requested",
            Leaf::Statement(_) => "statement",
            Leaf::Notification(_) => "notification",
            Leaf::ActivationIssued(_) => "activation_issued",
            Leaf::Reenrolment(_) => "reenrolment",
            Leaf::OrganisationRegistered(_) => "organisation_registered",
            Leaf::ScoringSwitched(_) => "scoring_switched",
            Leaf::SecondFactorOn(_) => "second_factor_on",
            Leaf::SecondFactorOff(_) => "second_factor_off",
            Leaf::KeyRevoked(_) => "key_revoked",
            Leaf::StaffRegistered(_) => "staff_registered",
            Leaf::CaseOpened(_) => "case_opened",
        }
    }

    /// The subject the leaf is about (its keyed hash, hex), if any.
    pub fn subject(&self) -> Option<&str> {
        match self {
            Leaf::Ingestion(_)
            | Leaf::Purge(_)
            | Leaf::ModelDeployed(_)
            | Leaf::OrganisationRegistered(_)
            | Leaf::KeyRevoked(_)
            | Leaf::StaffRegistered(_)
            | Leaf::ScoringSwitched(_) => None,
            Leaf::CaseOpened(c) => Some(&c.subject),
            Leaf::Enrolment(e)
            | Leaf::Withdrawal(e)
            | Leaf::FreezePlaced(e)
            | Leaf::FreezeLifted(e)
            | Leaf::Reenrolment(e)
            | Leaf::SecondFactorOn(e)
            | Leaf::SecondFactorOff(e) => Some(&e.subject),
            Leaf::ActivationIssued(a) => Some(&a.subject),
            Leaf::ConsentGranted(c) | Leaf::ConsentRevoked(c) => Some(&c.subject),
            Leaf::RefusedRead(r) => Some(&r.subject),
            Leaf::Read(r) | Leaf::Decision(r) => Some(&r.subject),
            Leaf::DisputeOpened(d) => Some(&d.subject),
            Leaf::DisputeAnswered(d) => Some(&d.subject),
            Leaf::DisputeSuppressed(d) => Some(&d.subject),
            Leaf::DisputeDecided(d) => Some(&d.subject),
            Leaf::ReviewRequested(r) => Some(&r.subject),
            Leaf::Statement(s) => Some(&s.subject),
            Leaf::Notification(n) => Some(&n.subject),
        }
    }

    /// When the bureau recorded it, ms since 1970.
    pub fn recorded_ms(&self) -> i64 {
        match self {
            Leaf::Ingestion(x) => x.recorded_ms,
            Leaf::Purge(x) => x.recorded_ms,
            Leaf::Enrolment(x)
            | Leaf::Withdrawal(x)
            | Leaf::FreezePlaced(x)
            | Leaf::FreezeLifted(x)
            | Leaf::Reenrolment(x)
            | Leaf::SecondFactorOn(x)
            | Leaf::SecondFactorOff(x) => x.recorded_ms,
            Leaf::ActivationIssued(x) => x.recorded_ms,
            Leaf::OrganisationRegistered(x) => x.recorded_ms,
            Leaf::ScoringSwitched(x) => x.recorded_ms,
            Leaf::KeyRevoked(x) => x.recorded_ms,
            Leaf::StaffRegistered(x) => x.recorded_ms,
            Leaf::CaseOpened(x) => x.recorded_ms,
            Leaf::ConsentGranted(x) | Leaf::ConsentRevoked(x) => x.recorded_ms,
            Leaf::RefusedRead(x) => x.recorded_ms,
            Leaf::Read(x) | Leaf::Decision(x) => x.recorded_ms,
            Leaf::ModelDeployed(x) => x.recorded_ms,
            Leaf::DisputeOpened(x) => x.recorded_ms,
            Leaf::DisputeAnswered(x) => x.recorded_ms,
            Leaf::DisputeSuppressed(x) => x.recorded_ms,
            Leaf::DisputeDecided(x) => x.recorded_ms,
            Leaf::ReviewRequested(x) => x.recorded_ms,
            Leaf::Statement(x) => x.recorded_ms,
            Leaf::Notification(x) => x.recorded_ms,
        }
    }

    /// The organisation the leaf is addressed to (a notification's), which reads it by index.
    pub fn addressee(&self) -> Option<&str> {
        match self {
            Leaf::Notification(n) => Some(&n.org),
            _ => None,
        }
    }

    /// The organisation that received a report of the person's file in this leaf, if any.
    pub fn reader(&self) -> Option<&str> {
        match self {
            Leaf::Read(r) | Leaf::Decision(r) => Some(&r.org),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests;
