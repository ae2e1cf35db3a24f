//! Scoring a file with the deployed model, and what a model must be to be deployed: every
//! characteristic a feature of the catalogue, numeric, with its cuts inside the feature's range,
//! and a scale every lender's policy covers.

use std::collections::BTreeMap;

use candor_file::features::{self, CATALOGUE};
use candor_file::model::SubjectFile;
use candor_scorecard::{BinRule, Kind, Model, Reason, Scorer, Value};
use candor_store::Store;
use sha2::{Digest, Sha256};

use crate::{log, policy, unit, BureauError, Now, Result};

/// The feature told as a fifth reason where it costs points, as the FCRA has it: recent credit
/// inquiries.
pub const FIFTH_REASON: &str = "inquiries_6m";

/// A scoring's reasons: up to four, largest shortfall first, and recent inquiries as a fifth
/// where they cost points and are not among them. Every reason the bureau gives or replays.
pub fn reasons(scorer: &Scorer, bins: &[usize]) -> Vec<Reason> {
    let inquiries = scorer.model().characteristics.iter().position(|c| c.name == FIFTH_REASON);
    scorer.reasons_with(bins, inquiries)
}

/// A deployed model and its version (the SHA-256 of its document).
pub struct Deployed {
    pub version: String,
    pub scorer: Scorer,
}

/// A file scored: the score, its pd and reasons, the bins it fell in and every feature as
/// computed (the inputs that replay it).
#[derive(Clone, Debug, PartialEq)]
pub struct Scoring {
    pub score: i32,
    pub pd: f64,
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

    /// The score, pd and reasons for these feature values.
    pub fn score_features(&self, features: [f64; CATALOGUE.len()]) -> Result<Scoring> {
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
            score: scored.score,
            pd: scored.pd,
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

/// A model the service scores files with reads its characteristics from the catalogue: one it
/// does not know would score every person as missing, a categorical one could never match, and
/// cuts outside a feature's range mean the model was fit on something else.
fn check_against_catalogue(model: &Model) -> Result<()> {
    let bad = |message: String| Err(BureauError::invalid("model_not_for_the_file", "model", message));
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
