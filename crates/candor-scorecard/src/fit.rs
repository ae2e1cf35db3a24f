//! Fitting a scorecard: bin every column, select characteristics, regress, scale to points.

use std::collections::BTreeSet;

use thiserror::Error;

use crate::binning::{
    bin_column, fold_of, min_count, totals, turn_price, woe, Binned, BinningOptions, Counts, Trend, AUTO_SHAPES, FOLDS,
};
use crate::data::{Column, DataError};
use crate::logistic::{
    backtrack, fit_logistic, fit_logistic_nonpositive, log_likelihood, polish, row, Feature, LogisticFit, CODED_BINS,
};
use crate::metrics::{auc_difference, band_shares, placements, quantile_edges, Placements};
use crate::model::{
    Bin, BinRule, Characteristic, Kind, Lookup, Model, Scaling, TrainingSummary, FORMAT_NAME, FORMAT_VERSION,
};
use crate::parallel::par_map;
use crate::Values;

/// Above this many rows, correlations and the stepwise search use a strided sample of this
/// size and the final coefficients are polished on all rows. A sample this large pins a
/// correlation to about ±0.01 and estimates 30-odd coefficients finely enough for the search;
/// the polish then makes the final fit exact.
const STEPWISE_SAMPLE_ROWS: usize = 100_000;

/// Rows the variance inflation factors are computed on, at most.
const VIF_SAMPLE_ROWS: usize = 20_000;

/// Bands of the training score distribution kept in the model for stability checks.
const SCORE_BANDS: usize = 10;

#[derive(Debug, Clone, PartialEq)]
pub struct SelectionOptions {
    /// Characteristics with less information value are dropped. The default, 0.002, drops only
    /// those that carry essentially nothing; the textbook 0.02 cost test AUC in `bench/`.
    pub min_iv: f64,
    /// Of two characteristics whose weights of evidence correlate more than this (in absolute
    /// value), the one with less information value is dropped.
    pub max_correlation: f64,
    /// Backward stepwise elimination drops characteristics whose coefficient has the wrong sign
    /// or a Wald p-value above this, one at a time. `None` (the default) keeps every
    /// characteristic: on the public credit data in `bench/`, elimination at 0.05 cost up to 0.01
    /// of test AUC, and the L2 penalty already tames weak characteristics.
    pub max_p_value: Option<f64>,
    /// Lets a characteristic's points fall as its weight of evidence rises (a coefficient of
    /// the "wrong" sign, which only corrects other characteristics). Off by default: the
    /// regression is fitted with every coefficient's sign constrained, and a characteristic
    /// the constraint holds at zero is dropped as [`CharacteristicOutcome::Reversed`].
    pub allow_reversals: bool,
    /// Columns kept out of the scorecard as protected attributes (see [`crate::looks_protected`]),
    /// reported as [`CharacteristicOutcome::Protected`].
    pub protected: BTreeSet<String>,
}

impl Default for SelectionOptions {
    fn default() -> Self {
        SelectionOptions {
            min_iv: 0.002,
            max_correlation: 0.8,
            max_p_value: None,
            allow_reversals: false,
            protected: BTreeSet::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct FitOptions {
    pub binning: BinningOptions,
    pub selection: SelectionOptions,
    pub scaling: Scaling,
    /// L2 penalty on the regression coefficients (not the intercept).
    pub l2: f64,
    /// Up to this many rows the regression is fitted on cross-fitted weights of evidence (each
    /// row weighed by a binning of the other folds); above it, where every bin holds thousands
    /// of rows, on the bins' own, to which they are then equal.
    pub cross_fit_max_rows: usize,
}

impl Default for FitOptions {
    fn default() -> Self {
        FitOptions {
            binning: BinningOptions::default(),
            selection: SelectionOptions::default(),
            scaling: Scaling::default(),
            l2: 1.0,
            cross_fit_max_rows: CROSS_FIT_MAX_ROWS,
        }
    }
}

/// What the model document records about where it came from.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FitMeta {
    pub target: String,
    pub id_column: Option<String>,
    pub data_digest: String,
    pub created_by: String,
    /// Characteristics a person can act on (offered in recourse).
    pub actionable: BTreeSet<String>,
    /// Minimum scoring criteria the model carries. The rows given to [`fit`] are the ones that
    /// meet them: the caller leaves the others out ([`crate::rows_meeting`]).
    pub minimum: Vec<crate::Criterion>,
}

#[derive(Debug, Error, PartialEq)]
pub enum FitError {
    #[error(transparent)]
    Data(#[from] DataError),
    #[error("there are no rows to fit on")]
    NoRows,
    #[error("the target has no bad rows (1); a scorecard needs both outcomes")]
    NoBads,
    #[error("the target has no good rows (0); a scorecard needs both outcomes")]
    NoGoods,
    #[error("invalid option: {0}")]
    Option(String),
    #[error("no characteristic carries enough information to build a scorecard (best information value {best_iv:.4})")]
    NothingSelected { best_iv: f64 },
}

/// What happened to each input column.
#[derive(Debug, Clone, PartialEq)]
pub enum CharacteristicOutcome {
    Selected,
    /// One value in every row (missing counts as a value): nothing to learn from.
    Constant,
    /// Varies, but no split into bins meets the constraints (e.g. a rare value below the
    /// minimum bin share).
    NoSplit,
    LowIv,
    Correlated {
        with: String,
        correlation: f64,
    },
    /// Dropped by backward elimination.
    Insignificant {
        p_value: f64,
    },
    WrongSign {
        coefficient: f64,
    },
    /// Dropped because, beside the others, its points would fall as its weight of evidence
    /// rises: the sign-constrained fit holds its coefficient at zero.
    Reversed,
    /// Kept out as a protected attribute.
    Protected,
    /// Kept out because it only names its rows ([`crate::identifies_rows`]).
    Identifier,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FitReport {
    /// Every input column binned, selected or not, with its outcome, in input order.
    pub columns: Vec<(Characteristic, CharacteristicOutcome)>,
    /// The regression's coefficients on the selected characteristics' weights of evidence, in
    /// model order, with what an analyst checks before signing.
    pub coefficients: Vec<CoefficientStats>,
    /// What the fit had to do that the analyst must know (beside [`warnings`] on the model).
    pub notes: Vec<String>,
}

/// One coefficient of the final regression.
#[derive(Debug, Clone, PartialEq)]
pub struct CoefficientStats {
    pub name: String,
    /// On the log-odds of bad per unit of weight of evidence: negative, so points rise with it.
    pub estimate: f64,
    /// From the inverse of the penalised Hessian on all rows.
    pub std_error: f64,
    /// Two-sided Wald p-value.
    pub p_value: f64,
    /// Variance inflation factor of its weight of evidence given the others' (1 alone; above 5
    /// or 10, its coefficient mostly restates others').
    pub vif: f64,
}

/// Variance inflation factors of `columns`: the diagonal of the inverse of their correlation
/// matrix (infinite where it is singular).
fn vifs(columns: &[&[f64]]) -> Vec<f64> {
    let k = columns.len();
    if k == 1 {
        return vec![1.0];
    }
    // [R | I], reduced to [I | R⁻¹] by Gauss–Jordan with partial pivoting.
    let w = 2 * k;
    let mut m = vec![0.0; k * w];
    for i in 0..k {
        for j in 0..k {
            m[i * w + j] = if i == j { 1.0 } else { correlation(columns[i], columns[j]) };
        }
        m[i * w + k + i] = 1.0;
    }
    for col in 0..k {
        let pivot = (col..k).max_by(|&a, &b| m[a * w + col].abs().total_cmp(&m[b * w + col].abs())).unwrap_or(col);
        if m[pivot * w + col].abs() < 1e-12 {
            return vec![f64::INFINITY; k];
        }
        for j in 0..w {
            m.swap(col * w + j, pivot * w + j);
        }
        let d = m[col * w + col];
        for j in 0..w {
            m[col * w + j] /= d;
        }
        for r in (0..k).filter(|&r| r != col) {
            let f = m[r * w + col];
            if f != 0.0 {
                for j in 0..w {
                    m[r * w + j] -= f * m[col * w + j];
                }
            }
        }
    }
    (0..k).map(|i| m[i * w + k + i]).collect()
}

/// Progress of a fit, for a caller that wants to show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FitStage {
    Binning,
    Selecting,
    Regressing,
}

pub fn fit(
    columns: &[Column],
    bad: &[bool],
    meta: FitMeta,
    options: &FitOptions,
    progress: &(dyn Fn(FitStage) + Sync),
) -> Result<(Model, FitReport), FitError> {
    fit_shaped(columns, bad, meta, options, progress, None)
}

/// What the fit that follows [`model_shapes`] takes over from the fit before it: every
/// column's binning and the weights of evidence the regression ran on, of which it redoes
/// those of the columns whose shape `changed`.
struct Reuse {
    binned: Vec<Binned>,
    woes: Vec<Vec<f64>>,
    changed: Vec<bool>,
}

/// [`fit`], where the shapes [`Trend::Auto`] chose alone are reconsidered beside the other
/// characteristics ([`model_shapes`]) unless this is the fit that follows a reconsideration,
/// which `reuse`s what did not change.
fn fit_shaped(
    columns: &[Column],
    bad: &[bool],
    meta: FitMeta,
    options: &FitOptions,
    progress: &(dyn Fn(FitStage) + Sync),
    reuse: Option<Reuse>,
) -> Result<(Model, FitReport), FitError> {
    let reshape = reuse.is_none();
    options.binning.check().map_err(FitError::Option)?;
    options.scaling.check().map_err(FitError::Option)?;
    if !(options.l2.is_finite() && options.l2 >= 0.0) {
        return Err(FitError::Option(format!("the L2 penalty must be >= 0, got {}", options.l2)));
    }
    if bad.is_empty() {
        return Err(FitError::NoRows);
    }
    for c in columns {
        c.check(bad.len())?;
    }
    let total = totals(bad);
    if total.bads == 0 {
        return Err(FitError::NoBads);
    }
    if total.goods == 0 {
        return Err(FitError::NoGoods);
    }

    progress(FitStage::Binning);
    let bin = |c: &Column| bin_column(&c.name, &c.values, bad, &options.binning);
    // Weights of evidence taken over from the fit before, by column (empty where redone).
    let (binned, reused): (Vec<Binned>, Vec<Vec<f64>>) = match reuse {
        None => (par_map(columns, bin), Vec::new()),
        Some(Reuse { mut binned, woes, changed }) => {
            for (i, column) in columns.iter().enumerate().filter(|&(i, _)| changed[i]) {
                binned[i] = bin(column);
            }
            let woes = woes.into_iter().zip(&changed).map(|(w, &c)| if c { Vec::new() } else { w }).collect();
            (binned, woes)
        }
    };
    let ivs: Vec<f64> = binned.iter().map(|b| b.iv(total)).collect();
    let outcomes: Vec<Option<CharacteristicOutcome>> = binned
        .iter()
        .zip(&ivs)
        .zip(columns)
        .map(|((b, &iv), column)| {
            if options.selection.protected.contains(&column.name) {
                Some(CharacteristicOutcome::Protected)
            } else if crate::identifies_rows(column) {
                Some(CharacteristicOutcome::Identifier)
            } else if b.populated() < 2 && is_constant(&column.values) {
                Some(CharacteristicOutcome::Constant)
            } else if b.populated() < 2 {
                Some(CharacteristicOutcome::NoSplit)
            } else if iv < options.selection.min_iv {
                Some(CharacteristicOutcome::LowIv)
            } else {
                None
            }
        })
        .collect();

    // Weight of evidence per row, for the candidates.
    progress(FitStage::Selecting);
    // Columns already dropped get no weights (an empty column).
    let candidates: Vec<Option<&Binned>> =
        binned.iter().zip(&outcomes).map(|(b, o)| o.is_none().then_some(b)).collect();
    let min_rows = min_count(options.binning.min_bin_share, bad.len());
    let bin_woe = |rule: &BinRule, c: Counts| credible_woe(rule, c, total, min_rows);
    let cross_fit = bad.len() <= options.cross_fit_max_rows;
    let indexed: Vec<(usize, Option<&Binned>)> = candidates.iter().copied().enumerate().collect();
    let weigh = |in_sample: bool| -> Vec<Weights> {
        par_map(&indexed, |&(i, b)| {
            let Some(b) = b else { return Weights::Rows(Vec::new()) };
            if let Some(w) = reused.get(i).filter(|w| !in_sample && w.len() == bad.len()) {
                return Weights::Rows(w.clone());
            }
            // A column declared severe is binned on the analyst's word that its rare records
            // are risky: a fold without enough of them to bin alone says nothing against that.
            let severe = options.binning.severe.contains(&columns[i].name);
            if cross_fit && !in_sample && !severe {
                return Weights::Rows(cross_fitted_woes(&columns[i], bad, &options.binning));
            }
            let woes: Vec<f64> = b.bins.iter().map(|(rule, c)| bin_woe(rule, *c)).collect();
            if woes.len() > CODED_BINS {
                return Weights::Rows(b.assignment.iter().map(|&a| woes[a as usize]).collect());
            }
            let mut table = Box::new([0.0; CODED_BINS]);
            table[..woes.len()].copy_from_slice(&woes);
            Weights::Bins { assignment: &b.assignment, woes: table }
        })
    };
    progress(FitStage::Regressing);
    let mut chosen = outcomes.clone();
    let mut regression = regress(columns, &ivs, weigh(false), bad, options, &mut chosen);
    // Where no characteristic's binning ranks rows it did not see (a few hundred rows, a weak
    // characteristic), the fit falls back on the bins' own weights of evidence, and says so.
    let mut notes = Vec::new();
    if cross_fit && matches!(regression, Err(FitError::NothingSelected { .. })) {
        chosen = outcomes.clone();
        regression = regress(columns, &ivs, weigh(true), bad, options, &mut chosen);
        notes.push(format!(
            "no characteristic's binning ranked rows it was not fitted to (five-fold cross-fitting, {} rows, {} bad): the model is fitted on in-sample weights of evidence and may not hold on new data",
            bad.len(),
            total.bads
        ));
    }
    let Regression { kept, fit, search_woes } = regression?;
    if reshape && cross_fit && notes.is_empty() {
        let trends: Vec<Trend> = binned.iter().map(|b| b.trend).collect();
        let reversed: Vec<usize> =
            (0..columns.len()).filter(|&i| chosen[i] == Some(CharacteristicOutcome::Reversed)).collect();
        let changes = model_shapes(columns, bad, options, (&kept, &reversed), &trends, &search_woes);
        if !changes.is_empty() {
            let mut reshaped = options.clone();
            let mut changed = vec![false; columns.len()];
            for change in &changes {
                reshaped.binning.trends.insert(columns[change.column].name.clone(), change.to);
                changed[change.column] = true;
            }
            // Its stages were shown: the refit of what changed is not shown again.
            let reuse = Reuse { binned, woes: search_woes, changed };
            let (model, mut report) = fit_shaped(columns, bad, meta, &reshaped, &|_| {}, Some(reuse))?;
            report.notes.extend(changes.iter().map(|c| {
                let why = match c.gain {
                    ShapeGain::Ranking { auc, se } => format!(
                        "ranks rows it was not fitted to better, its AUC up by {auc:.4} (standard error {se:.4})"
                    ),
                    ShapeGain::Likelihood { gain, price } => format!(
                        "predicts rows it was not fitted to better by {gain:.1} in log-likelihood, net of {price:.1} for each turn of the bad rate"
                    ),
                };
                format!(
                    "`{}` is binned {} rather than {}, the shape its bins take alone{}: beside the other characteristics it {why}",
                    columns[c.column].name,
                    shape_name(c.to),
                    shape_name(c.from),
                    if c.added { " (in which it was reversed beside them and left out)" } else { "" },
                )
            }));
            return Ok((model, report));
        }
    }
    let outcomes = chosen;
    let scaling = options.scaling;
    let m = kept.len() as f64;
    let factor = scaling.factor();
    let offset = scaling.offset();
    let mut report = Vec::with_capacity(columns.len());
    let mut characteristics = Vec::with_capacity(kept.len());
    let mut codes = BTreeSet::new();
    for (i, (column, b)) in columns.iter().zip(&binned).enumerate() {
        let coefficient = kept.iter().position(|&k| k == i).map(|j| fit.coefficients[j]);
        let beta = coefficient.unwrap_or(0.0);
        let bins = b
            .bins
            .iter()
            .map(|(rule, c)| {
                let w = bin_woe(rule, *c);
                let points = offset / m + factor * (-(beta * w) - fit.intercept / m);
                Bin { rule: rule.clone(), count: c.total(), bads: c.bads, woe: w, points: points.round() as i32 }
            })
            .collect();
        let reason_code = unique_code(&column.name, &mut codes);
        let characteristic = Characteristic {
            name: column.name.clone(),
            kind: match column.values {
                Values::Numeric(_) => Kind::Numeric,
                Values::Categorical { .. } => Kind::Categorical,
            },
            reason_code,
            actionable: meta.actionable.contains(&column.name),
            trend: b.trend,
            iv: ivs[i],
            coefficient: beta,
            bins,
        };
        if coefficient.is_some() {
            notes.extend(rare_bin_notes(&characteristic, total, min_rows, options.binning.min_bin_share));
            characteristics.push(characteristic.clone());
        }
        let outcome = outcomes[i].clone().unwrap_or(CharacteristicOutcome::LowIv);
        report.push((characteristic, outcome));
    }
    // The training score distribution, kept as the reference for stability checks.
    let mut totals_points = vec![0i64; bad.len()];
    for (c, &i) in characteristics.iter().zip(&kept) {
        for (t, &a) in totals_points.iter_mut().zip(&binned[i].assignment) {
            *t += c.bins[a as usize].points as i64;
        }
    }
    let scores: Vec<f64> = totals_points.iter().map(|&t| scaling.clamp(t) as f64).collect();
    let score_edges = quantile_edges(&scores, SCORE_BANDS);
    let score_shares = band_shares(&scores, &score_edges);
    let model = Model {
        format: FORMAT_NAME.into(),
        format_version: FORMAT_VERSION,
        created_by: meta.created_by,
        target: meta.target,
        id_column: meta.id_column,
        training: TrainingSummary {
            rows: bad.len() as u64,
            bads: total.bads,
            data_digest: meta.data_digest,
            score_edges,
            score_shares,
        },
        scaling,
        intercept: fit.intercept,
        minimum: meta.minimum,
        characteristics,
    };
    // Inflation factors need no more rows than a correlation pinned to about ±0.01.
    let vif_stride = search_woes.first().map_or(0, Vec::len).div_ceil(VIF_SAMPLE_ROWS).max(1);
    let vif_woes: Vec<Vec<f64>> =
        kept.iter().map(|&i| search_woes[i].iter().copied().step_by(vif_stride).collect()).collect();
    let kept_woes: Vec<&[f64]> = vif_woes.iter().map(Vec::as_slice).collect();
    let coefficients = kept
        .iter()
        .zip(vifs(&kept_woes))
        .enumerate()
        .map(|(j, (&i, vif))| CoefficientStats {
            name: columns[i].name.clone(),
            estimate: fit.coefficients[j],
            std_error: fit.std_errors[j],
            p_value: fit.p_value(j, 1.0),
            vif,
        })
        .collect();
    Ok((model, FitReport { columns: report, coefficients, notes }))
}

/// What the report says of each bin of a kept characteristic that holds fewer rows than a bin
/// may (`min_rows`): a rare record or category kept on its own because its bad rate is
/// significantly above the other rows'.
fn rare_bin_notes(c: &Characteristic, total: Counts, min_rows: u64, min_share: f64) -> Vec<String> {
    let rows = total.total();
    c.bins
        .iter()
        .filter(|b| matches!(b.rule, BinRule::Range { .. } | BinRule::Categories { .. }))
        .filter(|b| b.count > 0 && b.count < min_rows)
        .map(|b| {
            let rest = (total.bads - b.bads) as f64 / (rows - b.count).max(1) as f64;
            format!(
                "`{}`: the bin {} holds {} rows ({:.1}% of all), below the minimum bin share of {:.0}%: it is kept on its own because its bad rate, {:.1}%, is significantly above the other rows' {:.1}%",
                c.name,
                b.rule.label(),
                b.count,
                100.0 * b.count as f64 / rows as f64,
                100.0 * min_share,
                100.0 * b.bads as f64 / b.count as f64,
                100.0 * rest
            )
        })
        .collect()
}

/// A column's weights of evidence, one per row, as the regression reads them.
enum Weights<'a> {
    /// Written out row by row (cross-fitted, or taken over from the fit before).
    Rows(Vec<f64>),
    /// Each row's bin and each bin's weight: on a million rows, a quarter of the memory to
    /// read at each step of the regression, and none to write.
    Bins { assignment: &'a [u16], woes: Box<[f64; CODED_BINS]> },
}

impl Weights<'_> {
    fn feature(&self) -> Feature<'_> {
        match self {
            Weights::Rows(w) => Feature::Rows(w),
            Weights::Bins { assignment, woes } => Feature::Coded { codes: assignment, values: woes },
        }
    }

    /// Every `stride`th row's weight, from the first.
    fn sample(&self, stride: usize) -> Vec<f64> {
        match self {
            Weights::Rows(w) => w.iter().copied().step_by(stride).collect(),
            Weights::Bins { assignment, woes } => {
                assignment.iter().step_by(stride).map(|&a| woes[a as usize]).collect()
            }
        }
    }

    /// Every row's weight, written out.
    fn into_rows(self) -> Vec<f64> {
        match self {
            Weights::Rows(w) => w,
            bins => bins.sample(1),
        }
    }
}

/// What [`regress`] found.
struct Regression {
    /// The characteristics kept, as column indices in ascending order.
    kept: Vec<usize>,
    fit: LogisticFit,
    /// The weights of evidence the search ran on, per column (a sample of rows on large data).
    search_woes: Vec<Vec<f64>>,
}

/// Selects among the candidate characteristics (those without an outcome yet) by correlation,
/// fits the sign-constrained regression on their weights of evidence `woes`, with stepwise
/// elimination if asked; marks the characteristics kept as selected in `outcomes`.
fn regress(
    columns: &[Column],
    ivs: &[f64],
    woes: Vec<Weights>,
    bad: &[bool],
    options: &FitOptions,
    outcomes: &mut [Option<CharacteristicOutcome>],
) -> Result<Regression, FitError> {
    // On large data, correlation and the stepwise search run on a strided sample, and `all`
    // keeps every row's weights for the polish.
    let stride = bad.len().div_ceil(STEPWISE_SAMPLE_ROWS);
    let (search_woes, all): (Vec<Vec<f64>>, Option<Vec<Weights>>) = if stride > 1 {
        (woes.iter().map(|w| w.sample(stride)).collect(), Some(woes))
    } else {
        (woes.into_iter().map(Weights::into_rows).collect(), None)
    };
    let sample_bad: Vec<bool> = if stride > 1 { bad.iter().copied().step_by(stride).collect() } else { Vec::new() };
    let search_bad = if stride > 1 { &sample_bad[..] } else { bad };

    let mut by_iv: Vec<usize> = (0..columns.len()).filter(|&i| outcomes[i].is_none()).collect();
    by_iv.sort_by(|&a, &b| ivs[b].total_cmp(&ivs[a]).then(a.cmp(&b)));
    // Each candidate's correlation with every stronger one, in parallel; then the weaker of
    // two correlated ones goes, strongest first.
    let places: Vec<usize> = (0..by_iv.len()).collect();
    let with_stronger: Vec<Vec<f64>> =
        par_map(&places, |&a| (0..a).map(|b| correlation(&search_woes[by_iv[a]], &search_woes[by_iv[b]])).collect());
    let mut kept: Vec<usize> = Vec::new();
    let mut kept_places: Vec<usize> = Vec::new();
    for (a, &i) in by_iv.iter().enumerate() {
        let clash = kept_places.iter().find_map(|&b| {
            let r = with_stronger[a][b];
            (r.abs() > options.selection.max_correlation).then_some((by_iv[b], r))
        });
        match clash {
            Some((k, r)) => {
                outcomes[i] = Some(CharacteristicOutcome::Correlated { with: columns[k].name.clone(), correlation: r })
            }
            None => {
                kept.push(i);
                kept_places.push(a);
            }
        }
    }
    // What a fit left with no characteristic answers, with the best it had.
    let nothing_selected = || FitError::NothingSelected { best_iv: ivs.iter().copied().fold(0.0, f64::max) };
    if kept.is_empty() {
        return Err(nothing_selected());
    }
    kept.sort_unstable();

    // Backward elimination: refit after dropping the worst offender, until none is left. On
    // large data the search runs on a sample, with Wald statistics scaled to the full size.
    let z_scale = (bad.len() as f64 / search_bad.len() as f64).sqrt();
    let x: Vec<&[f64]> = kept.iter().map(|&i| search_woes[i].as_slice()).collect();
    let mut fit = if options.selection.allow_reversals {
        fit_logistic(&x, search_bad, options.l2)
    } else {
        let (constrained, held) = fit_logistic_nonpositive(&x, search_bad, options.l2);
        if held.iter().any(|&h| h) {
            drop_held(&mut kept, &held, outcomes);
            let x: Vec<&[f64]> = kept.iter().map(|&i| search_woes[i].as_slice()).collect();
            constrained.without_held(&held, &x, search_bad, options.l2)
        } else {
            constrained
        }
    };
    if kept.is_empty() {
        return Err(nothing_selected());
    }
    if let Some(max_p) = options.selection.max_p_value {
        while kept.len() > 1 {
            // Weights of evidence point towards goods, so the coefficient on the log-odds of
            // bad must be negative; a positive one means the characteristic only corrects others.
            let worst = (0..kept.len())
                .filter_map(|j| {
                    let c = fit.coefficients[j];
                    let p = fit.p_value(j, z_scale);
                    if c > 0.0 {
                        Some((j, 2.0 + p, CharacteristicOutcome::WrongSign { coefficient: c }))
                    } else if p > max_p {
                        Some((j, p, CharacteristicOutcome::Insignificant { p_value: p }))
                    } else {
                        None
                    }
                })
                .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)));
            let Some((j, _, outcome)) = worst else { break };
            outcomes[kept[j]] = Some(outcome);
            kept.remove(j);
            let x: Vec<&[f64]> = kept.iter().map(|&i| search_woes[i].as_slice()).collect();
            fit = fit.refit_without(j, &x, search_bad, options.l2);
        }
    }
    let mut fit = match &all {
        Some(all) => {
            let x: Vec<Feature> = kept.iter().map(|&i| all[i].feature()).collect();
            polish(&x[..], bad, options.l2, &fit, bad.len() as f64 / search_bad.len() as f64)
        }
        None => fit,
    };
    // The sample's fit moved to all rows may tip a coefficient held near zero over it: then
    // the constrained fit runs on all rows.
    if !options.selection.allow_reversals && fit.coefficients.iter().any(|&c| c > 0.0) {
        // Rarely needed: every row's weights written out.
        let rows: Vec<Vec<f64>> = kept
            .iter()
            .map(|&i| match &all {
                Some(all) => all[i].sample(1),
                None => search_woes[i].clone(),
            })
            .collect();
        let x: Vec<&[f64]> = rows.iter().map(Vec::as_slice).collect();
        let (constrained, held) = fit_logistic_nonpositive(&x, bad, options.l2);
        fit = constrained;
        if held.iter().any(|&h| h) {
            drop_held(&mut kept, &held, outcomes);
            if kept.is_empty() {
                return Err(nothing_selected());
            }
            let x: Vec<&[f64]> = rows.iter().zip(&held).filter(|(_, &h)| !h).map(|(r, _)| r.as_slice()).collect();
            fit = fit.without_held(&held, &x, bad, options.l2);
        }
    }
    for &i in &kept {
        outcomes[i] = Some(CharacteristicOutcome::Selected);
    }
    Ok(Regression { kept, fit, search_woes })
}

/// A numeric characteristic's shape changed by [`model_shapes`].
struct ShapeChange {
    column: usize,
    from: Trend,
    to: Trend,
    gain: ShapeGain,
    /// Left out as reversed in the shape chosen alone, kept in this one.
    added: bool,
}

/// Why [`model_shapes`] changed a shape.
#[derive(Debug, Clone, Copy, PartialEq)]
enum ShapeGain {
    /// The model ranks rows better: its AUC went up by `auc`, more than [`RANKING_Z`] times the
    /// difference's standard error `se`.
    Ranking { auc: f64, se: f64 },
    /// The regression's log-likelihood went up by `gain`, net of the price of turns, and by
    /// more than one turn's `price`; the ranking is no worse.
    Likelihood { gain: f64, price: f64 },
}

/// How many standard errors a shape must raise the model's AUC by before [`model_shapes`]
/// takes it for its ranking alone: about the two-sided 5% level of DeLong's test, so among the
/// four other shapes of a few dozen characteristics few changes are noise.
const RANKING_Z: f64 = 2.0;

/// One shape of a characteristic as [`model_shapes`] weighs it against the shape chosen
/// alone: its log-likelihood net of the price of its turns, and the difference its ranking
/// makes to the model's AUC with that difference's standard error.
#[derive(Debug, Clone, Copy, PartialEq)]
struct ShapeTrial {
    net: f64,
    auc_gain: f64,
    auc_se: f64,
}

/// The rule [`model_shapes`] changes a shape by, given the trials of the other shapes and the
/// shape held (`held`, net of its turns): a shape that ranks significantly better is taken
/// (the best-ranking such); failing that, the shape with the best net log-likelihood among
/// those that rank no worse, where it beats the held shape by more than one turn's `price`.
/// The ranking is what a scorecard is for, and a likelihood can favour a shape that calibrates
/// better but orders people worse; so neither measure alone moves a shape against the other.
/// On a tie the earlier trial is taken: trials come simplest shape first.
/// Returns the index of the trial taken and why.
fn choose_shape(trials: &[ShapeTrial], held: f64, price: f64) -> Option<(usize, ShapeGain)> {
    let ranks_better = trials
        .iter()
        .enumerate()
        .filter(|(_, t)| t.auc_gain > RANKING_Z * t.auc_se && t.auc_gain > 0.0)
        .rev()
        .max_by(|a, b| a.1.auc_gain.total_cmp(&b.1.auc_gain));
    if let Some((k, t)) = ranks_better {
        return Some((k, ShapeGain::Ranking { auc: t.auc_gain, se: t.auc_se }));
    }
    trials
        .iter()
        .enumerate()
        .filter(|(_, t)| t.auc_gain >= 0.0)
        .rev()
        .max_by(|a, b| a.1.net.total_cmp(&b.1.net))
        .filter(|(_, t)| t.net > held + price)
        .map(|(k, t)| (k, ShapeGain::Likelihood { gain: t.net - held, price }))
}

/// Reconsiders, beside the other characteristics, the shapes [`Trend::Auto`] chose for each
/// numeric characteristic alone. The shape that predicts a characteristic's own outcome best may
/// not be the one that adds most to the others: where large bills and past lateness go
/// together, risk over everyone may fall and then rise with the bill while among those never
/// late it only falls. So each kept characteristic in turn (the others at their shapes so far)
/// is cross-fitted in every shape and weighed in the regression, by how the model then ranks
/// the rows (AUC) and by its log-likelihood less the price [`Trend::Auto`] charges per turn of
/// the bad rate, and [`choose_shape`] decides: a shape that ranks significantly better than the
/// one chosen alone is taken, or else one whose net log-likelihood beats it by more than one
/// turn's price without ranking worse (a change of shape is itself a choice made on the data).
/// Where a bill's risk turns twice, likelihood may prefer a descending shape that ranks people
/// worse; ranking alone, with its standard error, would take noise on a few dozen bads. The
/// regression's inputs are cross-fitted weights of evidence (each row weighed by bins it took
/// no part in) and each has one coefficient, so both measures are of prediction on rows the
/// bins did not see. A shape under which the coefficient would be reversed is not taken, nor
/// is any change where the shape chosen alone is reversed. Then each characteristic left out
/// as reversed (`dropped`) in the shape chosen alone is tried in every shape, and kept in the
/// best one that is not reversed, where that earns more than a turn's price.
/// Returns the changes.
fn model_shapes(
    columns: &[Column],
    bad: &[bool],
    options: &FitOptions,
    (kept, dropped): (&[usize], &[usize]),
    trends: &[Trend],
    woes: &[Vec<f64>],
) -> Vec<ShapeChange> {
    let binning = &options.binning;
    if binning.trend != Trend::Auto || kept.iter().any(|&i| woes[i].len() != bad.len()) {
        return Vec::new();
    }
    let reshapable = |c: &Column| {
        matches!(c.values, Values::Numeric(_))
            && !binning.trends.contains_key(&c.name)
            && !binning.severe.contains(&c.name)
    };
    // On more rows, the comparison runs on a strided sample, each kept characteristic
    // cross-fitted afresh there in its shape so far: every shape is then weighed on the same rows.
    let stride = bad.len().div_ceil(RESHAPE_SAMPLE_ROWS);
    let (sampled, sampled_bad, sampled_woes): (Vec<Column>, Vec<bool>, Vec<Vec<f64>>);
    let (columns, bad, woes) = if stride > 1 {
        let take = |v: &Values| match v {
            Values::Numeric(v) => Values::Numeric(v.iter().copied().step_by(stride).collect()),
            Values::Categorical { codes, levels } => {
                Values::Categorical { codes: codes.iter().copied().step_by(stride).collect(), levels: levels.clone() }
            }
        };
        sampled = columns.iter().map(|c| Column { name: c.name.clone(), values: take(&c.values) }).collect();
        sampled_bad = bad.iter().copied().step_by(stride).collect();
        sampled_woes = (0..columns.len())
            .map(|i| {
                if !kept.contains(&i) {
                    return Vec::new();
                }
                let mut o = binning.clone();
                if matches!(sampled[i].values, Values::Numeric(_)) {
                    o.trends.insert(sampled[i].name.clone(), trends[i]);
                }
                cross_fitted_woes(&sampled[i], &sampled_bad, &o)
            })
            .collect();
        (&sampled[..], &sampled_bad[..], &sampled_woes[..])
    } else {
        (columns, bad, woes)
    };
    let price = turn_price(bad.len());
    // The regression on the kept characteristics in their shapes so far: each shape of one
    // characteristic is then weighed with the others' part of the log-odds held where it is
    // (an offset), refitting only the intercept and its own coefficient, much as a stepwise
    // search's score test weighs a candidate. The same for the shape it has, so they compare.
    let current: Vec<&[f64]> = kept.iter().map(|&i| woes[i].as_slice()).collect();
    let fit = if options.selection.allow_reversals {
        fit_logistic(&current, bad, options.l2)
    } else {
        fit_logistic_nonpositive(&current, bad, options.l2).0
    };
    let mut eta: Vec<f64> = (0..bad.len())
        .map(|r| fit.intercept + current.iter().zip(&fit.coefficients).map(|(c, b)| c[r] * b).sum::<f64>())
        .collect();
    let mut current: Vec<Vec<f64>> = current.iter().map(|c| c.to_vec()).collect();
    let mut coefficients = fit.coefficients.clone();
    let mut changes = Vec::new();
    for (j, &i) in kept.iter().enumerate() {
        let name = &columns[i].name;
        if !reshapable(&columns[i]) {
            continue;
        }
        // Every shape, the one chosen alone included, with the others' part of the log-odds
        // held: its net log-likelihood and how the model then ranks the rows; `None` where
        // the sign constraint would hold its coefficient at zero (the shape reverses it).
        let offset: Vec<f64> = eta.iter().zip(&current[j]).map(|(e, w)| e - coefficients[j] * w).collect();
        let shaped: Vec<Shaped> = par_map(&AUTO_SHAPES, |&(trend, bends)| {
            let mut o = binning.clone();
            o.trends.insert(name.clone(), trend);
            let woes = cross_fitted_woes(&columns[i], bad, &o);
            let (ll, a, b) = fit_with_offset(&woes, &offset, bad, options.l2);
            if !(options.selection.allow_reversals || b <= 0.0) {
                return None;
            }
            let safe: Vec<f64> = offset.iter().zip(&woes).map(|(o, w)| -(o + a + b * w)).collect();
            let placed = placements(&safe, bad)?;
            Some(Shaped { trend, net: ll - bends * price, a, b, woes, placed })
        })
        .into_iter()
        .flatten()
        .collect();
        let from = trends[i];
        let Some(held) = shaped.iter().find(|s| s.trend == from) else { continue };
        let trials: Vec<ShapeTrial> = shaped
            .iter()
            .map(|s| {
                let (auc_gain, auc_se) = auc_difference(&s.placed, &held.placed, bad);
                ShapeTrial { net: s.net, auc_gain, auc_se }
            })
            .collect();
        if let Some((k, gain)) = choose_shape(&trials, held.net, price) {
            let Shaped { trend: to, a, b, woes, .. } = &shaped[k];
            changes.push(ShapeChange { column: i, from, to: *to, gain, added: false });
            for ((e, o), w) in eta.iter_mut().zip(&offset).zip(woes) {
                *e = o + a + b * w;
            }
            coefficients[j] = *b;
            current[j] = woes.clone();
        }
    }
    for &i in dropped {
        if !reshapable(&columns[i]) {
            continue;
        }
        let without: f64 = eta.iter().zip(bad).map(|(&e, &y)| log_likelihood(e, y)).sum();
        let tried = par_map(&AUTO_SHAPES, |&(t, bends)| {
            let mut o = binning.clone();
            o.trends.insert(columns[i].name.clone(), t);
            let w = cross_fitted_woes(&columns[i], bad, &o);
            let (ll, a, b) = fit_with_offset(&w, &eta, bad, options.l2);
            (options.selection.allow_reversals || b < 0.0).then_some((ll - bends * price, t, (a, b), w))
        });
        let best = tried.into_iter().flatten().max_by(|a, b| a.0.total_cmp(&b.0));
        if let Some((net, to, (a, b), w)) = best.filter(|b| b.0 > without + price) {
            let gain = ShapeGain::Likelihood { gain: net - without, price };
            changes.push(ShapeChange { column: i, from: trends[i], to, gain, added: true });
            for (e, w) in eta.iter_mut().zip(&w) {
                *e += a + b * w;
            }
        }
    }
    changes
}

/// One shape of a characteristic cross-fitted beside the others in [`model_shapes`].
struct Shaped {
    trend: Trend,
    /// The log-likelihood with this shape, less the price of its turns.
    net: f64,
    /// The intercept and coefficient fitted beside the others' offset.
    a: f64,
    b: f64,
    woes: Vec<f64>,
    /// How the model then ranks the rows (by its log-odds of good).
    placed: Placements,
}

/// The logistic regression of `bad` on one feature `x` beside a fixed `offset` in the log-odds
/// (intercept and slope free, the slope penalised by `l2`), by Newton's method with a line
/// search: its log-likelihood, intercept and slope.
fn fit_with_offset(x: &[f64], offset: &[f64], bad: &[bool], l2: f64) -> (f64, f64, f64) {
    // The log-likelihood (unpenalised), gradient and Hessian at (a, b), in one pass.
    let sums = |ab: &[f64]| {
        let (a, b) = (ab[0], ab[1]);
        let (mut ll, mut g0, mut g1, mut h00, mut h01, mut h11) = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
        for ((&x, &o), &y) in x.iter().zip(offset).zip(bad) {
            let (row_ll, p) = row(o + a + b * x, y);
            let r = y as u8 as f64 - p;
            let w = p * (1.0 - p);
            ll += row_ll;
            (g0, g1) = (g0 + r, g1 + r * x);
            (h00, h01, h11) = (h00 + w, h01 + w * x, h11 + w * x * x);
        }
        let penalised = ll - 0.5 * l2 * b * b;
        (penalised, (penalised, ll, [g0, g1 - l2 * b, h00, h01, h11 + l2]))
    };
    let mut ab = vec![0.0, 0.0];
    let (_, mut here) = sums(&ab);
    for _ in 0..50 {
        let (at, _, [g0, g1, h00, h01, h11]) = here;
        let det = h00 * h11 - h01 * h01;
        if !(det.is_finite() && det > 0.0) {
            break;
        }
        let (da, db) = ((h11 * g0 - h01 * g1) / det, (h00 * g1 - h01 * g0) / det);
        let longest = da.abs().max(db.abs());
        let t0 = 5.0 / longest.max(5.0);
        (ab, _, here) = backtrack(&ab, &[da, db], t0, at, g0 * da + g1 * db, sums);
        if longest < 1e-9 {
            break;
        }
    }
    (here.1, ab[0], ab[1])
}

/// Rows [`model_shapes`] compares shapes on, at most: each shape of each characteristic costs
/// a cross-fitted binning and a regression, which on more rows would cost more than the fit.
const RESHAPE_SAMPLE_ROWS: usize = 25_000;

fn shape_name(trend: Trend) -> &'static str {
    match trend {
        Trend::Auto => "automatically",
        Trend::Ascending => "ascending",
        Trend::Descending => "descending",
        Trend::Peak => "as a peak",
        Trend::Valley => "as a valley",
        Trend::None => "freely",
    }
}

/// The default of [`FitOptions::cross_fit_max_rows`].
pub const CROSS_FIT_MAX_ROWS: usize = 100_000;

/// Each row's weight of evidence from a binning its own fold took no part in: the column is
/// binned afresh on the other folds (cuts, grouping and counts), and the row weighed by the bin
/// it falls in there. Binning picks the cuts and groups that fit its rows best, so weights of
/// evidence computed in sample flatter a characteristic by the noise its bins were cut to fit;
/// fitted on these instead, the regression weighs each characteristic by how well its binning
/// ranks rows it has not seen (forty codes unrelated to the outcome, grouped by their bad rates,
/// get next to no weight). The model's points use the binning of all rows.
fn cross_fitted_woes(column: &Column, bad: &[bool], options: &BinningOptions) -> Vec<f64> {
    let n = bad.len();
    let folds: Vec<u8> = (0..n).map(|i| fold_of(i) as u8).collect();
    let mut out = vec![0.0; n];
    for f in 0..FOLDS as u8 {
        let rows: Vec<usize> = (0..n).filter(|&i| folds[i] != f).collect();
        let fold_bad: Vec<bool> = rows.iter().map(|&i| bad[i]).collect();
        let values = match &column.values {
            Values::Numeric(v) => Values::Numeric(rows.iter().map(|&i| v[i]).collect()),
            Values::Categorical { codes, levels } => {
                Values::Categorical { codes: rows.iter().map(|&i| codes[i]).collect(), levels: levels.clone() }
            }
        };
        let binned = bin_column(&column.name, &values, &fold_bad, options);
        let (total, min_rows) = (totals(&fold_bad), min_count(options.min_bin_share, rows.len()));
        let table: Vec<f64> = binned.bins.iter().map(|(rule, c)| credible_woe(rule, *c, total, min_rows)).collect();
        let rules: Vec<&BinRule> = binned.bins.iter().map(|(rule, _)| rule).collect();
        let kind = match column.values {
            Values::Numeric(_) => Kind::Numeric,
            Values::Categorical { .. } => Kind::Categorical,
        };
        // A binning always places every value; were it not to, the fold's rows would be weighed
        // as the population (zero).
        let Ok(lookup) = Lookup::from_rules(kind, &rules) else { continue };
        let held_out = (0..n).filter(|&i| folds[i] == f);
        match &column.values {
            Values::Numeric(v) => held_out.for_each(|i| out[i] = table[lookup.number(v[i])]),
            Values::Categorical { codes, levels } => {
                let by_level: Vec<usize> = levels.iter().map(|l| lookup.category(l)).collect();
                held_out.for_each(|i| {
                    let bin = by_level.get(codes[i] as usize).copied().unwrap_or_else(|| lookup.missing());
                    out[i] = table[bin];
                });
            }
        }
    }
    out
}

/// A bin's weight of evidence as the model uses it: the missing bin with fewer rows than a
/// regular bin may hold scores no better than the population (a weight of evidence of at most
/// zero), since so few rows are not evidence that not knowing a value is good news.
fn credible_woe(rule: &BinRule, c: Counts, total: Counts, min_rows: u64) -> f64 {
    let w = woe(c, total);
    if *rule == BinRule::Missing && c.total() < min_rows {
        w.min(0.0)
    } else {
        w
    }
}

/// Drops from `kept` the characteristics the sign constraint held at zero, saying why.
fn drop_held(kept: &mut Vec<usize>, held: &[bool], outcomes: &mut [Option<CharacteristicOutcome>]) {
    let mut j = 0;
    kept.retain(|&i| {
        let keep = !held[j];
        j += 1;
        if !keep {
            outcomes[i] = Some(CharacteristicOutcome::Reversed);
        }
        keep
    });
}

/// Information value above this suggests a characteristic that knows the outcome (recorded
/// after it, or derived from it).
pub const LEAKAGE_IV: f64 = 1.0;

/// What an analyst should look at before signing a model: characteristics with an information
/// value that suggests leakage, bins of a characteristic with no bads or no goods (their weight
/// of evidence is an estimate from the smoothing alone), and reversed coefficients (only when
/// fitted with reversals allowed).
pub fn warnings(model: &Model) -> Vec<String> {
    let mut out = Vec::new();
    for c in &model.characteristics {
        if c.iv > LEAKAGE_IV {
            out.push(format!(
                "`{}` has an information value of {:.2} (above {LEAKAGE_IV}): check that it is not recorded after the outcome or derived from it",
                c.name, c.iv
            ));
        }
        for b in c.bins.iter().filter(|b| b.count > 0 && (b.bads == 0 || b.bads == b.count)) {
            let which = if b.bads == 0 { "no bads" } else { "no goods" };
            out.push(format!(
                "`{}`: the bin {} holds {which} ({} rows): its weight of evidence rests on the smoothing",
                c.name,
                b.rule.label(),
                b.count
            ));
        }
        if c.coefficient > 0.0 {
            out.push(format!(
                "`{}` is reversed (coefficient {:.3}): its points fall as its weight of evidence rises",
                c.name, c.coefficient
            ));
        }
    }
    out
}

/// A reason code from a characteristic name: upper case, letters, digits and underscores, at
/// most 32 characters, made unique with a numeric suffix.
fn unique_code(name: &str, taken: &mut BTreeSet<String>) -> String {
    let mut base: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' })
        .take(40)
        .collect::<String>()
        .trim_end_matches('_')
        .to_string();
    if base.is_empty() || base.starts_with(|c: char| c.is_ascii_digit()) {
        base.insert(0, 'C');
    }
    let mut code = base.clone();
    let mut n = 2;
    while !taken.insert(code.clone()) {
        code = format!("{base}_{n}");
        n += 1;
    }
    code
}

/// Whether every row holds the same value, missing counting as one value.
fn is_constant(values: &Values) -> bool {
    match values {
        Values::Numeric(v) => v.windows(2).all(|w| w[0] == w[1] || (w[0].is_nan() && w[1].is_nan())),
        Values::Categorical { codes, .. } => codes.windows(2).all(|w| w[0] == w[1]),
    }
}

fn correlation(a: &[f64], b: &[f64]) -> f64 {
    let (mut n, mut sa, mut sb, mut saa, mut sbb, mut sab) = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        n += 1.0;
        sa += x;
        sb += y;
        saa += x * x;
        sbb += y * y;
        sab += x * y;
    }
    let cov = sab / n - (sa / n) * (sb / n);
    let va = saa / n - (sa / n) * (sa / n);
    let vb = sbb / n - (sb / n) * (sb / n);
    if va <= 0.0 || vb <= 0.0 {
        return 0.0;
    }
    cov / (va * vb).sqrt()
}

#[cfg(test)]
mod tests {
    use super::{choose_shape, vifs, ShapeGain, ShapeTrial};

    /// The rule that changes a shape beside the others, case by case: the held shape is trial 0
    /// (net log-likelihood -1000, no AUC difference from itself), a turn costs 5.
    #[test]
    fn a_shape_changes_for_a_significantly_better_ranking_or_a_likelihood_that_ranks_no_worse() {
        let held = ShapeTrial { net: -1000.0, auc_gain: 0.0, auc_se: 0.0 };
        let t = |net: f64, auc_gain: f64, auc_se: f64| ShapeTrial { net, auc_gain, auc_se };
        let cases: [(&str, Vec<ShapeTrial>, Option<usize>); 10] = [
            ("nothing else", vec![held], None),
            ("a small likelihood gain", vec![held, t(-996.0, 0.001, 0.002)], None),
            ("a likelihood gain beyond a turn's price", vec![held, t(-990.0, 0.0, 0.001)], Some(1)),
            ("the same gain, ranking worse", vec![held, t(-990.0, -0.0005, 0.001)], None),
            (
                "the best likelihood ranks worse: the next",
                vec![held, t(-980.0, -0.01, 0.003), t(-992.0, 0.0, 0.001)],
                Some(2),
            ),
            ("a better ranking within noise", vec![held, t(-1010.0, 0.005, 0.003)], None),
            ("a significantly better ranking at a likelihood cost", vec![held, t(-1020.0, 0.009, 0.003)], Some(1)),
            (
                "two shapes binned alike: the simpler",
                vec![held, t(-1020.0, 0.009, 0.003), t(-1025.0, 0.009, 0.003)],
                Some(1),
            ),
            ("alike in likelihood: the simpler", vec![held, t(-990.0, 0.0, 0.0), t(-990.0, 0.0, 0.0)], Some(1)),
            (
                "the best of two significant rankings over a likelihood gain",
                vec![held, t(-960.0, 0.0, 0.001), t(-1010.0, 0.007, 0.003), t(-1015.0, 0.012, 0.004)],
                Some(3),
            ),
        ];
        for (what, trials, want) in cases {
            let got = choose_shape(&trials, held.net, 5.0);
            assert_eq!(got.map(|(k, _)| k), want, "{what}: {got:?}");
            match got.map(|(_, why)| why) {
                Some(ShapeGain::Ranking { auc, se }) => assert!(auc > 2.0 * se, "{what}"),
                Some(ShapeGain::Likelihood { gain, price }) => assert!(gain > price && price == 5.0, "{what}"),
                None => {}
            }
        }
    }

    #[test]
    fn variance_inflation_grows_with_collinearity() {
        let a: Vec<f64> = (0..400).map(|i| ((i * 37) % 101) as f64).collect();
        let b: Vec<f64> = (0..400).map(|i| ((i * 53) % 89) as f64).collect();
        let noise: Vec<f64> = (0..400).map(|i| ((i * 71) % 97) as f64).collect();
        let near_a: Vec<f64> = a.iter().zip(&noise).map(|(x, e)| x + 0.05 * e).collect();
        let independent = vifs(&[&a, &b]);
        assert!(independent.iter().all(|v| (v - 1.0).abs() < 0.05), "{independent:?}");
        let collinear = vifs(&[&a, &b, &near_a]);
        assert!(collinear[0] > 50.0 && collinear[2] > 50.0 && collinear[1] < 2.0, "{collinear:?}");
        // With two variables, VIF = 1 / (1 - r²).
        let c: Vec<f64> = a.iter().zip(&b).map(|(x, y)| x + y).collect();
        let r = super::correlation(&a, &c);
        let two = vifs(&[&a, &c]);
        assert!((two[0] - 1.0 / (1.0 - r * r)).abs() < 1e-9, "{two:?} r {r}");
        assert_eq!(vifs(&[&a, &a.clone()]), vec![f64::INFINITY; 2], "singular");
        assert_eq!(vifs(&[&a]), vec![1.0]);
    }

    /// The offset regression that weighs a shape agrees with the full regression: with no
    /// offset it is the one-feature fit; beside a second feature held at its full-fit
    /// coefficient it finds the full fit's own coefficient again.
    #[test]
    fn the_offset_fit_agrees_with_the_full_regression() {
        let x1: Vec<f64> = (0..3_000).map(|i| ((i * 37) % 101) as f64 / 50.0 - 1.0).collect();
        let x2: Vec<f64> = (0..3_000).map(|i| ((i * 53) % 89) as f64 / 44.0 - 1.0).collect();
        let bad: Vec<bool> = x1
            .iter()
            .zip(&x2)
            .enumerate()
            .map(|(i, (a, b))| ((i * 7919) % 1000) as f64 / 1000.0 < 0.3 - 0.1 * a - 0.08 * b)
            .collect();
        let one = super::fit_logistic(&[&x1], &bad, 1.0);
        let (ll, a, b) = super::fit_with_offset(&x1, &vec![0.0; x1.len()], &bad, 1.0);
        assert!((a - one.intercept).abs() < 1e-6 && (b - one.coefficients[0]).abs() < 1e-6, "{a} {b} vs {one:?}");
        let want: f64 =
            x1.iter().zip(&bad).map(|(&x, &y)| super::log_likelihood(one.intercept + one.coefficients[0] * x, y)).sum();
        assert!((ll - want).abs() < 1e-6, "{ll} vs {want}");
        assert!(b < 0.0, "risk falls as x1 rises");

        let both = super::fit_logistic(&[&x1, &x2], &bad, 1.0);
        let offset: Vec<f64> = x2.iter().map(|x| both.intercept + both.coefficients[1] * x).collect();
        let (_, a, b) = super::fit_with_offset(&x1, &offset, &bad, 1.0);
        assert!(a.abs() < 1e-6 && (b - both.coefficients[0]).abs() < 1e-6, "{a} {b} vs {both:?}");
    }
}
