//! An honest estimate of how a fit scores people it has not seen: a seeded share of the rows is
//! held out, a model is fitted on the rest with the same options, and the held-out rows are
//! scored with it. The model a caller deploys is still the one fitted on every row; this says
//! how well that way of fitting generalises, which in-sample figures cannot.

use crate::data::{Column, Values};
use crate::fit::{fit, FitError, FitMeta, FitOptions};
use crate::metrics;
use crate::model::Scorer;

/// Most rows the held-out model is fitted on: above it the training part is thinned by a
/// stride, so the check costs a bounded share of a large fit (its figures, from a model fitted
/// on fewer rows, then err on the cautious side).
pub const MAX_HOLDOUT_TRAIN_ROWS: usize = 50_000;

/// What a check whose model kept no characteristic means, as the fit's note and the report say it.
pub const HELD_OUT_KEPT_NOTHING: &str = "fitted on the others, no characteristic carried enough information to be kept, so that way of fitting scores everyone alike: the model's information may not hold on people it has not seen";

/// Fewest held-out rows of each outcome for figures worth printing.
const MIN_HELD_OUT_OF_EACH: usize = 10;

/// What the held-out rows say.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HeldOut {
    /// The share asked for and the seed of the split.
    pub share: f64,
    pub seed: u64,
    /// Rows the check's model was fitted on, and rows it scored.
    pub train_rows: usize,
    pub test_rows: usize,
    pub test_bads: usize,
    pub auc: f64,
    pub gini: f64,
    pub ks: f64,
    /// Characteristics the check's model kept: 0 where no characteristic carried enough
    /// information on the rows it was fitted on: the way of fitting then scores everyone alike
    /// (AUC 0.5), which says the full model's information may not hold on new data.
    pub characteristics: usize,
}

/// Whether row `i` is held out: a splitmix64 hash of the seed and the row, below the share.
fn held(seed: u64, i: usize, share: f64) -> bool {
    let z = crate::scramble(seed ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    ((z >> 11) as f64 / (1u64 << 53) as f64) < share
}

fn rows_of(values: &Values, rows: &[usize]) -> Values {
    match values {
        Values::Numeric(v) => Values::Numeric(rows.iter().map(|&r| v[r]).collect()),
        Values::Categorical { codes, levels } => {
            Values::Categorical { codes: rows.iter().map(|&r| codes[r]).collect(), levels: levels.clone() }
        }
    }
}

/// Holds out `share` of the rows (by `seed`), fits on the others as [`fit`] would, and measures
/// the held-out rows. None when the share is 0 or either part lacks enough goods or bads.
pub fn held_out(
    columns: &[Column],
    bad: &[bool],
    meta: &FitMeta,
    options: &FitOptions,
    share: f64,
    seed: u64,
) -> Result<Option<HeldOut>, FitError> {
    if !(0.0..1.0).contains(&share) {
        return Err(FitError::Option(format!("the held-out share must be in [0, 1), got {share}")));
    }
    if share == 0.0 {
        return Ok(None);
    }
    let (test, train): (Vec<usize>, Vec<usize>) = (0..bad.len()).partition(|&i| held(seed, i, share));
    let stride = train.len().div_ceil(MAX_HOLDOUT_TRAIN_ROWS).max(1);
    let train: Vec<usize> = train.into_iter().step_by(stride).collect();
    let count = |rows: &[usize]| rows.iter().filter(|&&r| bad[r]).count();
    let (test_bads, train_bads) = (count(&test), count(&train));
    let enough = |rows: usize, bads: usize| bads >= MIN_HELD_OUT_OF_EACH && rows - bads >= MIN_HELD_OUT_OF_EACH;
    if !enough(test.len(), test_bads) || !enough(train.len(), train_bads) {
        return Ok(None);
    }
    let part = |rows: &[usize]| -> Vec<Column> {
        columns.iter().map(|c| Column { name: c.name.clone(), values: rows_of(&c.values, rows) }).collect()
    };
    let train_bad: Vec<bool> = train.iter().map(|&r| bad[r]).collect();
    // The check's model is fitted the way the deployed one is: cross-fitted where that is.
    let mut options = options.clone();
    options.cross_fit_max_rows = if bad.len() <= options.cross_fit_max_rows { usize::MAX } else { 0 };
    let (auc, ks, characteristics) = match fit(&part(&train), &train_bad, meta.clone(), &options, &|_| {}) {
        Ok((model, _)) => {
            let scorer = Scorer::new(model).map_err(|e| FitError::Option(e.to_string()))?;
            let tested = part(&test);
            let inputs: Vec<&Values> = scorer
                .model()
                .characteristics
                .iter()
                .filter_map(|c| tested.iter().find(|col| col.name == c.name).map(|col| &col.values))
                .collect();
            let mut totals = vec![0.0; test.len()];
            scorer.batch(&inputs).map_err(|e| FitError::Option(e.to_string()))?.totals(0, &mut totals);
            let scores: Vec<f64> = totals.iter().map(|&t| f64::from(scorer.scored(t as i64).score)).collect();
            let test_bad: Vec<bool> = test.iter().map(|&r| bad[r]).collect();
            (
                metrics::auc(&scores, &test_bad).unwrap_or(0.5),
                metrics::ks(&scores, &test_bad).unwrap_or(0.0),
                scorer.model().characteristics.len(),
            )
        }
        // Fitted on all rows the characteristics carried enough to select; on the check's
        // share they did not. That is the check's finding (everyone scored alike), not a
        // failure of the fit.
        Err(FitError::NothingSelected { .. }) => (0.5, 0.0, 0),
        Err(e) => return Err(e),
    };
    Ok(Some(HeldOut {
        share,
        seed,
        train_rows: train.len(),
        test_rows: test.len(),
        test_bads,
        auc,
        gini: 2.0 * auc - 1.0,
        ks,
        characteristics,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_split_is_seeded_and_near_the_share() {
        let picked = |seed| (0..100_000).filter(|&i| held(seed, i, 0.2)).count();
        let (a, b) = (picked(1), picked(2));
        assert!((19_000..21_000).contains(&a) && (19_000..21_000).contains(&b), "{a} {b}");
        assert_eq!(picked(1), a, "the same seed, the same rows");
        let same = (0..1000).filter(|&i| held(1, i, 0.2) == held(2, i, 0.2)).count();
        assert!(same < 1000, "another seed, other rows");
    }

    /// Where the characteristics carry enough on all rows but nothing on the rows the check
    /// fits on, the check reports a model that scores everyone alike, not an error that would
    /// lose the fit: the signal here is only in the held-out rows.
    #[test]
    fn a_check_whose_share_selects_nothing_reports_no_skill_rather_than_failing() {
        let (share, seed) = (0.3, 1);
        let bad: Vec<bool> = (0..2_000).map(|i| i % 5 == 0).collect();
        let x: Vec<f64> = bad
            .iter()
            .enumerate()
            .map(|(i, &b)| {
                if !held(seed, i, share) {
                    0.5
                } else if b {
                    1.0
                } else {
                    0.0
                }
            })
            .collect();
        let columns = vec![Column::numeric("x", x)];
        let (meta, options) = (FitMeta::default(), FitOptions::default());
        let (model, _) = fit(&columns, &bad, meta.clone(), &options, &|_| {}).expect("all rows select x");
        assert_eq!(model.characteristics.len(), 1);
        let o = held_out(&columns, &bad, &meta, &options, share, seed).expect("no error").expect("figures");
        assert_eq!((o.characteristics, o.auc, o.gini, o.ks), (0, 0.5, 0.0, 0.0), "{o:?}");
        assert!(o.test_rows > 500 && o.test_bads > 100, "{o:?}");
    }
}
