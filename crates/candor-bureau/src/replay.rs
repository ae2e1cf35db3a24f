//! Replay: a logged read or decision scored again from what the log holds — its inputs, the
//! model version (kept in the store) and the policy version — and whether the answer is the
//! same. A decision the ombudsman overrode on review says so.

use candor_log::{leaf, Leaf};
use candor_scorecard::{Scorer, Value};
use candor_store::Store;

use crate::policy::{version_of, Policy};
use crate::{BureauError, Result};

/// What a logged read or decision said, and what scoring it again says.
#[derive(Clone, Debug, PartialEq)]
pub struct Replayed {
    pub leaf: i64,
    /// `read` or `decision`.
    pub kind: &'static str,
    pub logged: leaf::Read,
    pub score: i32,
    pub pd: f64,
    pub reasons: Vec<String>,
    pub decision: Option<String>,
    pub matches: bool,
    /// The ombudsman overrode this decision on the person's request for review.
    pub overridden: bool,
}

pub fn replay(store: &mut Store, index: i64) -> Result<Replayed> {
    let text = store.log_leaf(index)?.ok_or(BureauError::not_found("log entry"))?;
    let (logged, kind) = match Leaf::parse(&text).map_err(BureauError::corrupt)? {
        Leaf::Read(r) if !r.inputs.is_empty() => (r, "read"),
        Leaf::Decision(r) if !r.inputs.is_empty() => (r, "decision"),
        _ => {
            return Err(BureauError::Invalid {
                code: "not_replayable",
                field: None,
                message: "that log entry is not a score or a decision with its inputs".into(),
            })
        }
    };
    let document = store.model_document(&logged.model_version)?.ok_or_else(|| {
        BureauError::conflict("model_missing", "the store does not hold the model version this entry names")
    })?;
    let model: candor_scorecard::Model = serde_json::from_str(&document).map_err(BureauError::corrupt)?;
    let scorer = Scorer::new(model).map_err(BureauError::corrupt)?;
    let values: Vec<Value> = scorer
        .model()
        .characteristics
        .iter()
        .map(|c| logged.inputs.get(&c.name).copied().flatten().map_or(Value::Missing, Value::Number))
        .collect();
    let (scored, bins) = scorer.score_values(&values).map_err(BureauError::corrupt)?;
    let reasons: Vec<String> = crate::score::reasons(&scorer, &bins).into_iter().map(|r| r.code).collect();
    let decision = match &logged.policy {
        Some(policy_ref) => {
            let org = candor_file::model::OrgId::parse(&logged.org).map_err(BureauError::corrupt)?;
            let body = store
                .policy_versions(&org, &policy_ref.name)?
                .into_iter()
                .map(|(_, body)| body)
                .find(|body| version_of(body) == policy_ref.version)
                .ok_or_else(|| {
                    BureauError::conflict("policy_missing", "the store does not hold that policy version")
                })?;
            Policy::parse_stored(&body)?.band(scored.score).map(|b| b.decision.as_str().to_owned())
        }
        None => None,
    };
    let matches = scored.score == logged.score
        && scored.pd == logged.pd
        && reasons == logged.reasons
        && (logged.decision.is_none() || decision == logged.decision);
    // The person's reviews say whether this decision was overridden (read by their key).
    let mut key = [0u8; 32];
    hex::decode_to_slice(&logged.subject, &mut key).map_err(BureauError::corrupt)?;
    let reviewed = format!("leaf {index}");
    let overridden = store.disputes(&candor_file::ids::SubjectKey(key))?.iter().any(|d| {
        d.record_kind == "decision"
            && d.record_ref == reviewed
            && d.state == candor_file::model::DisputeState::Overridden
    });
    Ok(Replayed {
        leaf: index,
        kind,
        logged,
        score: scored.score,
        pd: scored.pd,
        reasons,
        decision,
        matches,
        overridden,
    })
}
