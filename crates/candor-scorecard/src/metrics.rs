//! Validation metrics: discrimination (AUC, Gini, KS), stability (PSI), calibration and
//! adverse impact. Scores are "higher is safer" throughout.

use serde::Serialize;

/// Area under the ROC curve of the score as a predictor of good (so a useful scorecard is above
/// 0.5), with ties counted half. `None` without both outcomes.
pub fn auc(scores: &[f64], bad: &[bool]) -> Option<f64> {
    // Mann–Whitney U over tie groups: each good counts the bads strictly below it plus half
    // the bads it ties with.
    let p = placements(scores, bad)?;
    Some(p.counts.iter().zip(bad).filter(|(_, &b)| !b).map(|(c, _)| c).sum::<f64>() / (p.goods * p.bads))
}

/// Each row's placement among the rows of the other outcome under one score (DeLong's
/// structural components, as counts): for a good, how many bads it scores above (ties half);
/// for a bad, how many goods score above it.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Placements {
    counts: Vec<f64>,
    goods: f64,
    bads: f64,
}

/// The placements of `scores`; `None` without both outcomes.
pub(crate) fn placements(scores: &[f64], bad: &[bool]) -> Option<Placements> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let bads = bad.iter().filter(|&&b| b).count() as f64;
    let goods = bad.len() as f64 - bads;
    if bads == 0.0 || goods == 0.0 {
        return None;
    }
    let mut out = vec![0.0; scores.len()];
    let (mut bads_below, mut goods_below) = (0.0, 0.0);
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        let (mut g, mut b) = (0.0, 0.0);
        // Ties by the order sorted on, so a NaN ties with itself rather than ending no group.
        while j < order.len() && scores[order[j]].total_cmp(&scores[order[i]]).is_eq() {
            if bad[order[j]] {
                b += 1.0
            } else {
                g += 1.0
            }
            j += 1;
        }
        for &r in &order[i..j] {
            out[r] = if bad[r] { goods - goods_below - g / 2.0 } else { bads_below + b / 2.0 };
        }
        bads_below += b;
        goods_below += g;
        i = j;
    }
    Some(Placements { counts: out, goods, bads })
}

/// The difference between two scores' AUCs on the same rows (`a`'s less `b`'s), from their
/// placements, and its standard error by DeLong's method, which counts that both rank the
/// same rows.
pub(crate) fn auc_difference(a: &Placements, b: &Placements, bad: &[bool]) -> (f64, f64) {
    let (pa, pb) = (&a.counts, &b.counts);
    let spread = |of_bads: bool| {
        // As shares of the other outcome's rows.
        let other = if of_bads { a.goods } else { a.bads };
        let d: Vec<f64> = (0..bad.len()).filter(|&r| bad[r] == of_bads).map(|r| (pa[r] - pb[r]) / other).collect();
        let n = d.len() as f64;
        let mean = d.iter().sum::<f64>() / n;
        let var = if n > 1.0 { d.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1.0) } else { 0.0 };
        (mean, var / n)
    };
    let ((diff, var_goods), (_, var_bads)) = (spread(false), spread(true));
    (diff, (var_goods + var_bads).sqrt())
}

/// Kolmogorov–Smirnov statistic: the largest gap between the cumulative score distributions of
/// bads and goods.
pub fn ks(scores: &[f64], bad: &[bool]) -> Option<f64> {
    roc(scores, bad).map(|points| points.iter().map(|p| (p.tpr - p.fpr).abs()).fold(0.0, f64::max))
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RocPoint {
    /// Accepting scores at or above this threshold...
    pub threshold: f64,
    /// ...rejects this share of bads (true positive rate of "reject = bad")...
    pub tpr: f64,
    /// ...and this share of goods.
    pub fpr: f64,
}

/// The ROC curve, one point per distinct score, from rejecting nobody to rejecting everybody.
pub fn roc(scores: &[f64], bad: &[bool]) -> Option<Vec<RocPoint>> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let bads = bad.iter().filter(|&&b| b).count() as f64;
    let goods = bad.len() as f64 - bads;
    if bads == 0.0 || goods == 0.0 {
        return None;
    }
    let mut points = vec![RocPoint { threshold: f64::NEG_INFINITY, tpr: 0.0, fpr: 0.0 }];
    let (mut b, mut g) = (0.0, 0.0);
    let mut i = 0;
    while i < order.len() {
        let s = scores[order[i]];
        while i < order.len() && scores[order[i]].total_cmp(&s).is_eq() {
            if bad[order[i]] {
                b += 1.0
            } else {
                g += 1.0
            }
            i += 1;
        }
        let threshold = if i < order.len() { scores[order[i]] } else { f64::INFINITY };
        points.push(RocPoint { threshold, tpr: b / bads, fpr: g / goods });
    }
    Some(points)
}

/// Population stability index of `actual` against `expected` over the bands cut at `edges`
/// (a score `s` is in band `k` where `k` counts edges `<= s`). Empty cells get a small floor so
/// the index stays finite.
pub fn psi(expected: &[f64], actual: &[f64], edges: &[f64]) -> f64 {
    psi_of_shares(&band_shares(expected, edges), &band_shares(actual, edges))
}

/// Population stability index between two distributions over the same bands, given as shares.
pub fn psi_of_shares(e: &[f64], a: &[f64]) -> f64 {
    e.iter()
        .zip(a)
        .map(|(&e, &a)| {
            let (e, a) = (e.max(1e-4), a.max(1e-4));
            (a - e) * (a / e).ln()
        })
        .sum()
}

pub fn band_shares(scores: &[f64], edges: &[f64]) -> Vec<f64> {
    let mut counts = vec![0.0; edges.len() + 1];
    for &s in scores {
        counts[edges.partition_point(|&e| e <= s)] += 1.0;
    }
    let n = scores.len().max(1) as f64;
    counts.iter().map(|c| c / n).collect()
}

/// Edges cutting `scores` into about `bands` equally populated bands (fewer with ties).
pub fn quantile_edges(scores: &[f64], bands: usize) -> Vec<f64> {
    if scores.is_empty() {
        return Vec::new();
    }
    // Each quantile by selection within what lies above the one before: linear, not a sort.
    let mut values: Vec<f64> = scores.to_vec();
    let n = values.len();
    let min = values.iter().copied().min_by(f64::total_cmp).unwrap_or(f64::NAN);
    let mut edges = Vec::with_capacity(bands);
    let mut from = 0;
    for q in 1..bands {
        let k = q * n / bands;
        let (_, &mut at, _) = values[from..].select_nth_unstable_by(k - from, f64::total_cmp);
        edges.push(at);
        from = k;
    }
    edges.retain(|&e| e > min);
    edges.dedup();
    edges
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CalibrationBand {
    pub lower: Option<f64>,
    pub upper: Option<f64>,
    pub count: u64,
    pub predicted_pd: f64,
    pub observed_bad_rate: f64,
}

/// Mean predicted probability of bad against the observed bad rate, per score band.
pub fn calibration(scores: &[f64], pd: &[f64], bad: &[bool], edges: &[f64]) -> Vec<CalibrationBand> {
    let mut sums = vec![(0u64, 0.0, 0u64); edges.len() + 1];
    for ((&s, &p), &b) in scores.iter().zip(pd).zip(bad) {
        let k = edges.partition_point(|&e| e <= s);
        sums[k].0 += 1;
        sums[k].1 += p;
        sums[k].2 += b as u64;
    }
    sums.iter()
        .enumerate()
        .map(|(k, &(n, p, b))| CalibrationBand {
            lower: (k > 0).then(|| edges[k - 1]),
            upper: (k < edges.len()).then(|| edges[k]),
            count: n,
            predicted_pd: if n > 0 { p / n as f64 } else { 0.0 },
            observed_bad_rate: if n > 0 { b as f64 / n as f64 } else { 0.0 },
        })
        .collect()
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupImpact {
    pub group: String,
    pub count: u64,
    pub approved: u64,
    pub approval_rate: f64,
    /// Approval rate over the highest group's approval rate (the four-fifths rule flags < 0.8).
    pub adverse_impact_ratio: f64,
}

/// Approval rates at `cutoff` (approve when score >= cutoff) per group, and the adverse impact
/// ratio of each against the most approved group. Groups in name order.
pub fn adverse_impact(scores: &[f64], groups: &[String], cutoff: f64) -> Vec<GroupImpact> {
    let mut by: std::collections::BTreeMap<&str, (u64, u64)> = Default::default();
    for (s, g) in scores.iter().zip(groups) {
        let e = by.entry(g.as_str()).or_default();
        e.0 += 1;
        e.1 += (*s >= cutoff) as u64;
    }
    let best = by.values().map(|&(n, a)| a as f64 / n as f64).fold(0.0, f64::max);
    by.into_iter()
        .map(|(g, (n, a))| {
            let rate = a as f64 / n as f64;
            GroupImpact {
                group: g.to_string(),
                count: n,
                approved: a,
                approval_rate: rate,
                adverse_impact_ratio: if best > 0.0 { rate / best } else { 1.0 },
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auc_and_ks_on_a_small_case() {
        // Goods score high; one tie between a good and a bad.
        let scores = [1.0, 2.0, 3.0, 3.0, 4.0, 5.0];
        let bad = [true, true, true, false, false, false];
        // Pairs (good, bad): 9; good 3 ties bad 3 (half), every other good beats every bad.
        assert_eq!(auc(&scores, &bad), Some(8.5 / 9.0));
        assert!((ks(&scores, &bad).unwrap_or(0.0) - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(auc(&scores, &[false; 6]), None);
        // A score that is not a number sorts above every other and ends: no endless loop.
        let with_nan = [1.0, f64::NAN, 3.0, 3.0, 4.0, 5.0];
        assert_eq!(auc(&with_nan, &bad), Some(5.5 / 9.0));
        assert_eq!(roc(&with_nan, &bad).map(|p| p.len()), Some(6));
    }

    /// Placements and DeLong's standard error against their definitions, pair by pair, on
    /// scores with many ties; a score compared with itself differs by nothing.
    #[test]
    fn auc_difference_matches_delong_pair_by_pair() {
        let n = 300;
        let bad: Vec<bool> = (0..n).map(|i| (i * 7919) % 10 < 3).collect();
        let a: Vec<f64> = (0..n).map(|i| ((i * 31) % 17) as f64 + if bad[i] { 0.0 } else { 4.0 }).collect();
        let b: Vec<f64> = (0..n).map(|i| ((i * 57) % 23) as f64 + if bad[i] { 0.0 } else { 2.0 }).collect();
        let (goods, bads): (Vec<usize>, Vec<usize>) = (0..n).partition(|&i| !bad[i]);
        let beats = |x: f64, y: f64| {
            if x > y {
                1.0
            } else if x == y {
                0.5
            } else {
                0.0
            }
        };
        let placed = |s: &[f64]| -> Vec<f64> {
            (0..n)
                .map(|r| {
                    if bad[r] {
                        goods.iter().map(|&g| beats(s[g], s[r])).sum::<f64>() / goods.len() as f64
                    } else {
                        bads.iter().map(|&k| beats(s[r], s[k])).sum::<f64>() / bads.len() as f64
                    }
                })
                .collect()
        };
        let (pa, pb) = (placed(&a), placed(&b));
        let got = placements(&a, &bad).unwrap_or_default();
        assert_eq!((got.goods, got.bads), (goods.len() as f64, bads.len() as f64));
        let shares = got.counts.iter().zip(&bad).map(|(p, &b)| p / if b { got.goods } else { got.bads });
        assert!(shares.zip(&pa).all(|(x, y)| (x - y).abs() < 1e-12));
        let variance = |rows: &[usize]| {
            let d: Vec<f64> = rows.iter().map(|&r| pa[r] - pb[r]).collect();
            let m = d.iter().sum::<f64>() / d.len() as f64;
            d.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (d.len() as f64 - 1.0) / d.len() as f64
        };
        let want_se = (variance(&goods) + variance(&bads)).sqrt();
        let want_diff = auc(&a, &bad).unwrap_or(0.0) - auc(&b, &bad).unwrap_or(0.0);
        let placed = |s: &[f64]| placements(s, &bad).unwrap_or_default();
        let (diff, se) = auc_difference(&placed(&a), &placed(&b), &bad);
        assert!((diff - want_diff).abs() < 1e-12 && diff > 0.1, "{diff} against {want_diff}");
        assert!((se - want_se).abs() < 1e-12 && se > 0.0, "{se} against {want_se}");
        assert_eq!(auc_difference(&placed(&a), &placed(&a), &bad), (0.0, 0.0));
        assert_eq!(placements(&a, &[false; 300]), None);
    }

    #[test]
    fn psi_is_zero_for_identical_samples_and_grows_with_shift() {
        let a: Vec<f64> = (0..1000).map(|i| i as f64).collect();
        let b: Vec<f64> = (0..1000).map(|i| i as f64 + 300.0).collect();
        let edges = quantile_edges(&a, 10);
        assert!(psi(&a, &a, &edges).abs() < 1e-12);
        assert!(psi(&a, &b, &edges) > 0.25);
    }

    #[test]
    fn quantile_edges_are_the_sorted_scores_at_each_band() {
        // Scores with ties, in a scrambled order; the edges are read off the sorted scores.
        for (n, bands) in [(1usize, 10usize), (7, 10), (1000, 10), (999, 7), (50, 3)] {
            let scores: Vec<f64> = (0..n).map(|i| ((i * 7919) % 613 / 5) as f64).collect();
            let mut sorted = scores.clone();
            sorted.sort_by(f64::total_cmp);
            let mut want: Vec<f64> = (1..bands).map(|q| sorted[q * n / bands]).filter(|&e| e > sorted[0]).collect();
            want.dedup();
            assert_eq!(quantile_edges(&scores, bands), want, "{n} {bands}");
        }
        assert!(quantile_edges(&[], 10).is_empty());
    }

    #[test]
    fn adverse_impact_ratio_against_the_best_group() {
        let scores = [700.0, 650.0, 500.0, 700.0, 500.0, 500.0];
        let groups: Vec<String> = ["a", "a", "a", "b", "b", "b"].iter().map(|s| s.to_string()).collect();
        let r = adverse_impact(&scores, &groups, 600.0);
        assert_eq!(r[0].approved, 2);
        assert!((r[1].adverse_impact_ratio - 0.5).abs() < 1e-12);
        assert!((r[0].adverse_impact_ratio - 1.0).abs() < 1e-12);
    }
}
