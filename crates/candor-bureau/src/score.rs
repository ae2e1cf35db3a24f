//! Scoring a file with the deployed model, and what a model must be to be deployed: every
//! characteristic a feature of the catalogue, numeric, with its cuts inside the feature's range,
//! and a scale every lender's policy covers.

use std::collections::BTreeMap;

use candor_file::features::{self, CATALOGUE};
use candor_file::model::SubjectFile;
use candor_scorecard::{BinRule, Kind, Model, Reason, Scorer, Value, NOT_SCORED};
use candor_store::Store;
use sha2::{Digest, Sha256};

use crate::{log, policy, unit, BureauError, Now, Result};

/// The feature told as a fifth reason where it costs points, as the FCRA has it: recent credit
/// inquiries.
pub const FIFTH_REASON: &str = "inquiries_6m";

/// Public records a person is always told of where they cost points, even outside the four
/// largest shortfalls: an open court judgment is never a silent part of a score.
pub const ALWAYS_TOLD: [&str; 2] = ["open_court_records", "open_court_amount"];

/// A scoring's reasons: up to four, largest shortfall first; then open court judgments where
/// they cost points and are not among them; then recent inquiries likewise. Every reason the
/// bureau gives or replays.
pub fn reasons(scorer: &Scorer, bins: &[usize]) -> Vec<Reason> {
    scorer.reasons_with(bins, &told_also(scorer.model()))
}

/// The model's characteristics told after the four largest shortfalls where they cost points,
/// in the order they are told: open court judgments, then recent inquiries.
pub fn told_also(model: &Model) -> Vec<usize> {
    let chars = &model.characteristics;
    ALWAYS_TOLD.iter().chain([&FIFTH_REASON]).filter_map(|name| chars.iter().position(|c| c.name == *name)).collect()
}

/// A deployed model and its version (the SHA-256 of its document).
pub struct Deployed {
    pub version: String,
    pub scorer: Scorer,
}

/// A file scored: the score, its pd and reasons, the bins it fell in and every feature as
/// computed (the inputs that replay it). A file that fails the model's minimum scoring
/// criteria has no score or pd, no bins, and the one reason [`NOT_SCORED`].
#[derive(Clone, Debug, PartialEq)]
pub struct Scoring {
    pub score: Option<i32>,
    pub pd: Option<f64>,
    pub model_version: String,
    pub reasons: Vec<Reason>,
    pub bins: Vec<usize>,
    pub features: [f64; CATALOGUE.len()],
}

impl Scoring {
    /// Every feature by name, missing as `None`: what a read's leaf keeps to replay it.
    pub fn inputs(&self) -> BTreeMap<String, Option<f64>> {
        CATALOGUE.iter().zip(self.features).map(|(f, v)| (f.name.to_owned(), v.is_finite().then_some(v))).collect()
    }
}

impl Deployed {
    /// Reads and checks a model document for deployment; its version is the document's digest.
    pub fn parse(document: &str) -> Result<Deployed> {
        let model: Model = serde_json::from_str(document)
            .map_err(|e| BureauError::invalid("bad_model", "model", format!("not a model document: {e}")))?;
        check_against_catalogue(&model)?;
        let scorer = Scorer::new(model).map_err(|e| BureauError::invalid("bad_model", "model", e.to_string()))?;
        Ok(Deployed { version: hex::encode(Sha256::digest(document.as_bytes())), scorer })
    }

    /// The score, pd and reasons for these feature values; none, with the reason
    /// [`NOT_SCORED`], when they fail the model's minimum scoring criteria.
    pub fn score_features(&self, features: [f64; CATALOGUE.len()]) -> Result<Scoring> {
        let minimum = &self.scorer.model().minimum;
        let value = |name: &str| features::index(name).map_or(f64::NAN, |i| features[i]);
        if !self.scorer.meets_minimum(|i| value(&minimum[i].column)) {
            return Ok(Scoring {
                score: None,
                pd: None,
                model_version: self.version.clone(),
                reasons: vec![not_scored(minimum)],
                bins: Vec::new(),
                features,
            });
        }
        let values: Vec<Value> = self
            .scorer
            .model()
            .characteristics
            .iter()
            .map(|c| match features::index(&c.name).map(|i| features[i]) {
                Some(x) if x.is_finite() => Value::Number(x),
                _ => Value::Missing,
            })
            .collect();
        let (scored, bins) = self.scorer.score_values(&values).map_err(BureauError::corrupt)?;
        Ok(Scoring {
            score: Some(scored.score),
            pd: Some(scored.pd),
            model_version: self.version.clone(),
            reasons: reasons(&self.scorer, &bins),
            bins,
            features,
        })
    }

    /// Scores a file (as the read gate gave it) on `today`.
    pub fn score_file(&self, file: &SubjectFile, today: time::Date) -> Result<Scoring> {
        self.score_features(features::compute(file, today))
    }

    /// The scale's ends.
    pub fn range(&self) -> (i32, i32) {
        let s = &self.scorer.model().scaling;
        (s.min_score, s.max_score)
    }
}

/// The reason a file is not scored: the one stable code, whatever criterion it failed.
fn not_scored(minimum: &[candor_scorecard::Criterion]) -> Reason {
    let criteria: Vec<String> = minimum.iter().map(|c| c.to_string()).collect();
    Reason {
        code: NOT_SCORED.to_owned(),
        characteristic: NOT_SCORED.to_owned(),
        bin: String::new(),
        points: 0,
        points_below_max: 0,
        sentence: format!("There is not enough history to score: the file must meet {}.", criteria.join(" and ")),
    }
}

/// A model the service scores files with reads its characteristics from the catalogue: one it
/// does not know would score every person as missing, a categorical one could never match, and
/// cuts outside a feature's range mean the model was fit on something else.
fn check_against_catalogue(model: &Model) -> Result<()> {
    let bad = |message: String| Err(BureauError::invalid("model_not_for_the_file", "model", message));
    for c in &model.minimum {
        if features::index(&c.column).is_none() {
            return bad(format!("the minimum scoring criterion on `{}` names no feature of the credit file", c.column));
        }
    }
    for c in &model.characteristics {
        let Some(i) = features::index(&c.name) else {
            let known: Vec<&str> = CATALOGUE.iter().map(|f| f.name).collect();
            return bad(format!(
                "characteristic `{}` is not a feature of the credit file (the catalogue has {})",
                c.name,
                known.join(", ")
            ));
        };
        if c.kind != Kind::Numeric {
            return bad(format!("characteristic `{}` is categorical, but the feature is a number", c.name));
        }
        let feature = &CATALOGUE[i];
        for bin in &c.bins {
            let cuts = match &bin.rule {
                BinRule::Range { lower, upper } => [*lower, *upper],
                BinRule::Special { value } => [Some(*value), None],
                BinRule::Categories { .. } => {
                    return bad(format!("characteristic `{}` has a category bin, but the feature is a number", c.name))
                }
                BinRule::Missing => [None, None],
            };
            for cut in cuts.into_iter().flatten() {
                if !feature.range.contains(cut) {
                    return bad(format!(
                        "characteristic `{}` has a cut at {cut}, outside the feature's range {}",
                        c.name, feature.range
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Deploys a model document: checked against the catalogue and against every lender's current
/// policy (each must still give every score a decision), kept in the store by version (earlier
/// versions stay, for replay) and logged — unless it is already the one deployed.
pub fn deploy(store: &mut Store, now: Now, document: &str) -> Result<Deployed> {
    let deployed = Deployed::parse(document)?;
    unit(store, |store| {
        for (org, name, body) in store.current_policies()? {
            let policy = policy::Policy::parse_stored(&body)?;
            policy.check(deployed.range()).map_err(|e| {
                BureauError::invalid(
                    "policy_outside_scale",
                    "model",
                    format!("the policy `{name}` of {} no longer fits this model's scale: {e}", org.as_str()),
                )
            })?;
        }
        if store.current_model()?.map(|(v, _)| v).as_deref() != Some(deployed.version.as_str()) {
            store.deploy_model(&deployed.version, document, now.ms)?;
            log(
                store,
                candor_log::Leaf::ModelDeployed(candor_log::leaf::ModelDeployed {
                    leaf_version: candor_log::LEAF_VERSION,
                    version: deployed.version.clone(),
                    recorded_ms: now.ms,
                }),
            )?;
        }
        Ok(())
    })?;
    Ok(deployed)
}

/// The model deployed last, as the store remembers it.
pub fn restore(store: &mut Store) -> Result<Option<Deployed>> {
    store.current_model()?.map(|(_, document)| Deployed::parse(&document)).transpose()
}
