//! Replay: a logged read or decision scored again from what the log holds — its inputs, the
//! model version (kept in the store) and the policy version — and whether the answer is the
//! same. A decision the ombudsman overrode on review says so.

use candor_file::features::CATALOGUE;
use candor_log::{leaf, Leaf};
use candor_scorecard::Scorer;
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
    pub score: Option<i32>,
    pub pd: Option<f64>,
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
    // The features as logged, scored by the one path the service scores with (minimum
    // criteria, reasons and the fifth reason included).
    let features = CATALOGUE.map(|f| logged.inputs.get(f.name).copied().flatten().unwrap_or(f64::NAN));
    let deployed = crate::Deployed { version: logged.model_version.clone(), scorer };
    let scored = deployed.score_features(features)?;
    let reasons: Vec<String> = scored.reasons.iter().map(|r| r.code.clone()).collect();
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
            let policy = Policy::parse_stored(&body)?;
            match scored.score {
                Some(score) => policy.band(score).map(|b| b.decision.as_str().to_owned()),
                None => Some(policy.no_score_decision().as_str().to_owned()),
            }
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
