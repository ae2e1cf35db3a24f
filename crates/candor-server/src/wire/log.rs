//! The transparency log's answers: proofs, cosignatures, replay.

use schemars::JsonSchema;
use serde::Serialize;

/// An inclusion proof of a log entry: the entry's body and hash, and the path to the root of
/// the log at `size`.
#[derive(Serialize, JsonSchema)]
pub struct Inclusion {
    pub index: i64,
    pub size: u64,
    /// Hex.
    pub root: String,
    /// Hex.
    pub leaf_hash: String,
    /// The bytes the leaf hash commits to.
    pub body: String,
    /// Hex hashes, from the leaf up.
    pub proof: Vec<String>,
}

pub fn inclusion(p: &candor_bureau::log_view::Inclusion) -> Inclusion {
    Inclusion {
        index: p.index,
        size: p.size,
        root: hex::encode(p.root),
        leaf_hash: hex::encode(p.leaf_hash),
        body: p.body.clone(),
        proof: p.proof.iter().map(hex::encode).collect(),
    }
}

/// A proof that the log at `from` leaves is a prefix of the log at `to`.
#[derive(Serialize, JsonSchema)]
pub struct Consistency {
    pub from: u64,
    pub to: u64,
    /// Hex hashes.
    pub proof: Vec<String>,
}

/// The log's size after a cosignature was kept.
#[derive(Serialize, JsonSchema)]
pub struct Cosigned {
    pub size: u64,
}

/// A logged read or decision scored again from its logged inputs.
#[derive(Serialize, JsonSchema)]
pub struct Replay {
    pub leaf: i64,
    /// `read` or `decision`.
    pub kind: String,
    pub model_version: String,
    pub logged: Scored,
    pub replayed: Scored,
    pub matches: bool,
    /// The ombudsman overrode this decision on the person's request for review.
    pub overridden: bool,
}

/// What a read or decision gave: its score, probability of default, reason codes and decision.
#[derive(Serialize, JsonSchema)]
pub struct Scored {
    /// Null where the file was not scored (the reason `not_enough_history`).
    pub score: Option<i32>,
    pub pd: Option<f64>,
    pub reasons: Vec<String>,
    pub decision: Option<String>,
}

pub fn replay(r: &candor_bureau::replay::Replayed) -> Replay {
    Replay {
        leaf: r.leaf,
        kind: r.kind.to_owned(),
        model_version: r.logged.model_version.clone(),
        logged: Scored {
            score: r.logged.score,
            pd: r.logged.pd,
            reasons: r.logged.reasons.clone(),
            decision: r.logged.decision.clone(),
        },
        replayed: Scored { score: r.score, pd: r.pd, reasons: r.reasons.clone(), decision: r.decision.clone() },
        matches: r.matches,
        overridden: r.overridden,
    }
}
