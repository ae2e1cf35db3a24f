//! A lender's policy: score bands, each with the decision it gives; checked against the scale
//! of the deployed model, so every score it can give gets a decision.

use candor_file::model::OrgId;
use candor_store::Store;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{BureauError, Deployed, Now, Result};

/// Most bands a policy may have.
pub const MAX_BANDS: usize = 20;

/// What a policy decides for a score.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Approve,
    /// Serve without a deposit.
    WaiveDeposit,
    /// Approve up to a limit, in minor units.
    Limit {
        limit_minor: i64,
    },
    /// Decline; the reasons go with it as adverse-action reasons.
    Decline,
}

impl Decision {
    /// From its name and, for `limit`, the limit: what a policy's band says.
    pub fn parse(name: &str, limit_minor: Option<i64>) -> Result<Decision, &'static str> {
        const WHAT: &str = "a decision is approve, waive_deposit, decline, or limit with a positive limit_minor";
        match (name, limit_minor) {
            ("approve", None) => Ok(Decision::Approve),
            ("waive_deposit", None) => Ok(Decision::WaiveDeposit),
            ("decline", None) => Ok(Decision::Decline),
            ("limit", Some(l)) if l > 0 => Ok(Decision::Limit { limit_minor: l }),
            _ => Err(WHAT),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Approve => "approve",
            Decision::WaiveDeposit => "waive_deposit",
            Decision::Limit { .. } => "limit",
            Decision::Decline => "decline",
        }
    }

    pub fn limit_minor(self) -> Option<i64> {
        match self {
            Decision::Limit { limit_minor } => Some(limit_minor),
            _ => None,
        }
    }
}

/// One band: every score from `min_score` up to the next band's start gets `decision`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Band {
    pub min_score: i32,
    pub decision: Decision,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    pub bands: Vec<Band>,
    /// The decision for a person the model does not score (too little history: the reason
    /// `not_enough_history`). None: [`Decision::Decline`], with that reason as the
    /// adverse-action reason ("insufficient credit file"), as lenders practise it.
    pub no_score: Option<Decision>,
}

/// A policy as the store keeps it; its version is the SHA-256 of this text, so the shape is
/// fixed for good (a policy stored by an earlier version must hash the same).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredPolicy {
    bands: Vec<StoredBand>,
    /// Absent when the policy names none, so policies stored before it hash the same.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    no_score: Option<StoredDecision>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredDecision {
    decision: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    limit_minor: Option<i64>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredBand {
    min_score: i32,
    decision: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    limit_minor: Option<i64>,
}

impl Policy {
    /// Whether the policy gives every score of a model's scale (`min..=max`) one decision.
    pub fn check(&self, (min, max): (i32, i32)) -> Result<(), String> {
        if self.bands.is_empty() || self.bands.len() > MAX_BANDS {
            return Err(format!("a policy has 1 to {MAX_BANDS} bands"));
        }
        let lowest = self.bands.iter().map(|b| b.min_score).min().unwrap_or(i32::MAX);
        if lowest > min {
            return Err(format!("the lowest band must start at {min} or below, so every score gets a decision"));
        }
        if let Some(b) = self.bands.iter().find(|b| b.min_score > max) {
            return Err(format!("a band starting at {} is above the highest score, {max}", b.min_score));
        }
        let mut starts: Vec<i32> = self.bands.iter().map(|b| b.min_score).collect();
        starts.sort_unstable();
        if starts.windows(2).any(|w| w[0] == w[1]) {
            return Err("two bands start at the same score".into());
        }
        Ok(())
    }

    /// The band for a score: the one with the highest start it meets.
    pub fn band(&self, score: i32) -> Option<&Band> {
        self.bands.iter().filter(|b| b.min_score <= score).max_by_key(|b| b.min_score)
    }

    /// The decision for a person the model gave no score.
    pub fn no_score_decision(&self) -> Decision {
        self.no_score.unwrap_or(Decision::Decline)
    }

    /// The text the store keeps.
    pub fn to_stored(&self) -> String {
        let stored = StoredPolicy {
            bands: self
                .bands
                .iter()
                .map(|b| StoredBand {
                    min_score: b.min_score,
                    decision: b.decision.as_str().to_owned(),
                    limit_minor: b.decision.limit_minor(),
                })
                .collect(),
            no_score: self
                .no_score
                .map(|d| StoredDecision { decision: d.as_str().to_owned(), limit_minor: d.limit_minor() }),
        };
        // Integers and strings only: serialising cannot fail.
        serde_json::to_string(&stored).unwrap_or_else(|e| unreachable!("a policy always serialises: {e}"))
    }

    /// A policy from the text the store keeps.
    pub fn parse_stored(text: &str) -> Result<Policy> {
        let stored: StoredPolicy = serde_json::from_str(text).map_err(BureauError::corrupt)?;
        let bands = stored
            .bands
            .into_iter()
            .map(|b| Ok(Band { min_score: b.min_score, decision: Decision::parse(&b.decision, b.limit_minor)? }))
            .collect::<Result<Vec<Band>, &str>>()
            .map_err(BureauError::corrupt)?;
        let no_score = stored
            .no_score
            .map(|d| Decision::parse(&d.decision, d.limit_minor))
            .transpose()
            .map_err(BureauError::corrupt)?;
        Ok(Policy { bands, no_score })
    }
}

/// A policy's version: the SHA-256 of its stored text.
pub fn version_of(stored: &str) -> String {
    hex::encode(Sha256::digest(stored.as_bytes()))
}

/// Records a new version of a lender's policy, checked against the deployed model's scale
/// (any model deployed later is checked against it in turn); its version.
pub fn put(
    store: &mut Store,
    now: Now,
    org: &OrgId,
    name: &str,
    policy: &Policy,
    deployed: Option<&Deployed>,
) -> Result<String> {
    let range = deployed.map_or((candor_scorecard::Scaling::default().min_score, i32::MAX), Deployed::range);
    policy.check(range).map_err(|m| BureauError::invalid("bad_policy", "bands", m))?;
    let text = policy.to_stored();
    store.put_policy(org, name, &text, now.ms)?;
    Ok(version_of(&text))
}

/// A lender's current policy by name, with its version.
pub fn current(store: &mut Store, org: &OrgId, name: &str) -> Result<(Policy, String)> {
    let text = store
        .policy(org, name)?
        .ok_or(BureauError::NotFound { what: "policy of yours by that name", field: Some("policy") })?;
    Ok((Policy::parse_stored(&text)?, version_of(&text)))
}
