//! Engine properties: binning constraints, points summing to the score, determinism, the model
//! file round trip, reasons and recourse.

use std::collections::BTreeSet;

use candor_scorecard::{
    fit, BinRule, BinningOptions, CharacteristicOutcome, Column, FitError, FitMeta, FitOptions, Model, Scorer,
    SelectionOptions, Trend, Value, MAX_REASONS,
};
use proptest::prelude::*;

/// A seeded generator, so every data set here is reproducible without a dependency.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Rows with a latent risk driving the target through several characteristics: two numeric
/// (one with missing values and a special value), one categorical.
fn synthetic(rows: usize, seed: u64) -> (Vec<Column>, Vec<bool>) {
    let mut r = Lcg(seed);
    let (mut income, mut utilisation, mut region, mut bad) = (vec![], vec![], vec![], vec![]);
    for _ in 0..rows {
        let risk = r.next();
        income.push(if r.next() < 0.1 { f64::NAN } else { (1.0 - risk) * 5000.0 + r.next() * 3000.0 });
        utilisation.push(if r.next() < 0.05 { -1.0 } else { risk * 0.8 + r.next() * 0.4 });
        let regions = ["north", "south", "east", "west", "centre"];
        let k = ((risk * 2.0 + r.next() * 3.0) as usize).min(4);
        region.push(Some(regions[k]));
        bad.push(r.next() < 0.05 + 0.4 * risk * risk);
    }
    let cols = vec![
        Column::numeric("income", income),
        Column::numeric("utilisation", utilisation),
        Column::categorical("region", &region),
    ];
    (cols, bad)
}

fn options() -> FitOptions {
    let mut o = FitOptions::default();
    o.binning.specials.insert("utilisation".into(), vec![-1.0]);
    o
}

fn meta(actionable: &[&str]) -> FitMeta {
    FitMeta {
        target: "bad".into(),
        created_by: "test".into(),
        data_digest: "sha256:test".into(),
        actionable: actionable.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>(),
        ..FitMeta::default()
    }
}

fn fitted(rows: usize, seed: u64, actionable: &[&str]) -> (Model, Vec<Column>, Vec<bool>) {
    let (cols, bad) = synthetic(rows, seed);
    let (model, _) = fit(&cols, &bad, meta(actionable), &options(), &|_| {}).unwrap_or_else(|e| panic!("{e}"));
    (model, cols, bad)
}

fn row_values(cols: &[Column], model: &Model, row: usize) -> Vec<Value> {
    model
        .characteristics
        .iter()
        .map(|c| {
            let col = cols.iter().find(|x| x.name == c.name).unwrap_or_else(|| panic!("no column {}", c.name));
            match &col.values {
                candor_scorecard::Values::Numeric(v) if v[row].is_nan() => Value::Missing,
                candor_scorecard::Values::Numeric(v) => Value::Number(v[row]),
                candor_scorecard::Values::Categorical { codes, levels } => {
                    Value::Text(levels[codes[row] as usize].clone())
                }
            }
        })
        .collect()
}

#[test]
fn a_fitted_scorecard_discriminates() {
    let (model, cols, bad) = fitted(20_000, 7, &[]);
    let scorer = Scorer::new(model.clone()).unwrap_or_else(|e| panic!("{e}"));
    let scores: Vec<f64> = (0..bad.len())
        .map(|r| scorer.score_values(&row_values(&cols, &model, r)).map(|s| s.0.score as f64).unwrap_or(f64::NAN))
        .collect();
    let auc = candor_scorecard::metrics::auc(&scores, &bad).unwrap_or(0.0);
    assert!(auc > 0.70, "AUC {auc}");
    assert_eq!(model.characteristics.len(), 3);
    // Higher income is safer: the points of its ranges never fall as income grows.
    let income = &model.characteristics.iter().find(|c| c.name == "income").unwrap_or_else(|| panic!()).bins;
    let pts: Vec<i32> = income.iter().filter(|b| matches!(b.rule, BinRule::Range { .. })).map(|b| b.points).collect();
    assert!(pts.windows(2).all(|w| w[1] >= w[0]), "{pts:?}");
}

#[test]
fn fitting_is_deterministic_and_the_model_file_round_trips() {
    let (a, cols, _) = fitted(5_000, 11, &[]);
    let (b, _, _) = fitted(5_000, 11, &[]);
    let ja = serde_json::to_string(&a).unwrap_or_default();
    assert_eq!(ja, serde_json::to_string(&b).unwrap_or_default());
    let back: Model = serde_json::from_str(&ja).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(back, a);
    let (s1, s2) =
        (Scorer::new(a.clone()).unwrap_or_else(|e| panic!("{e}")), Scorer::new(back).unwrap_or_else(|e| panic!("{e}")));
    for r in 0..5_000 {
        let v = row_values(&cols, &a, r);
        assert_eq!(s1.score_values(&v), s2.score_values(&v));
    }
}

#[test]
fn a_damaged_model_file_is_refused_with_a_reason() {
    let (model, _, _) = fitted(3_000, 3, &[]);
    let check = |edit: &dyn Fn(&mut Model), want: &str| {
        let mut m = model.clone();
        edit(&mut m);
        match Scorer::new(m) {
            Ok(_) => panic!("accepted a model that should fail with {want}"),
            Err(e) => assert_eq!(e.to_string(), want),
        }
    };
    check(&|m| m.format = "other".into(), "not a Candor scorecard (format `other`)");
    check(&|m| m.format_version = 9, "model format version 9 is not supported (this build reads version 1)");
    check(&|m| m.scaling.pdo = 0.0, "scaling: points to double the odds must be positive, got 0");
    check(&|m| m.characteristics.clear(), "the model has no characteristics");
    check(
        &|m| m.characteristics[0].bins.retain(|b| b.rule != BinRule::Missing),
        &format!("characteristic `{}`: needs exactly one missing bin, has 0", model.characteristics[0].name),
    );
    let income = model.characteristics.iter().position(|c| c.name == "income").unwrap_or(0);
    check(
        &|m| {
            m.characteristics[income].bins.remove(1);
        },
        "characteristic `income`: the ranges do not cover every number exactly once",
    );
}

#[test]
fn reasons_are_the_largest_shortfalls_and_recourse_reaches_the_target_with_the_fewest_changes() {
    let (model, cols, _) = fitted(8_000, 5, &["income", "utilisation"]);
    let scorer = Scorer::new(model.clone()).unwrap_or_else(|e| panic!("{e}"));
    let chars = &model.characteristics;
    let mut reached = 0;
    for r in 0..500 {
        let (scored, bins) = scorer.score_values(&row_values(&cols, &model, r)).unwrap_or_else(|e| panic!("{e}"));
        let reasons = scorer.reasons(&bins);
        assert!(reasons.len() <= MAX_REASONS);
        let shortfalls: Vec<i32> = reasons.iter().map(|x| x.points_below_max).collect();
        assert!(shortfalls.windows(2).all(|w| w[0] >= w[1]), "{shortfalls:?}");
        // Every characteristic left out has no larger shortfall than the last reason.
        let all: Vec<i32> = (0..chars.len()).map(|c| scorer.max_points(c) - chars[c].bins[bins[c]].points).collect();
        let listed: BTreeSet<&str> = reasons.iter().map(|x| x.characteristic.as_str()).collect();
        for (c, s) in all.iter().enumerate() {
            if listed.contains(chars[c].name.as_str()) {
                continue;
            }
            assert!(*s == 0 || reasons.len() == MAX_REASONS && *s <= *shortfalls.last().unwrap_or(&0));
        }

        let target = scored.score + 15;
        let rec = scorer.recourse(&bins, target);
        assert!(rec.changes.iter().all(|c| c.characteristic == "income" || c.characteristic == "utilisation"));
        assert!(rec.changes.iter().all(|c| c.points_gain > 0));
        let gain: i32 = rec.changes.iter().map(|c| c.points_gain).sum();
        assert_eq!(rec.new_score, scorer.scored(scored.total_points + gain as i64).score);
        // The best single change, if any; when it suffices, recourse must use one change.
        let best_single = ["income", "utilisation"]
            .iter()
            .filter_map(|n| chars.iter().position(|c| c.name == *n))
            .map(|c| {
                chars[c]
                    .bins
                    .iter()
                    .filter(|b| b.rule.is_attainable() && b.count > 0)
                    .map(|b| b.points - chars[c].bins[bins[c]].points)
                    .max()
                    .unwrap_or(0)
            })
            .max()
            .unwrap_or(0);
        if rec.reachable {
            assert!(rec.new_score >= target);
            reached += 1;
            if scored.total_points + best_single as i64 >= target as i64 {
                assert!(rec.changes.len() <= 1, "{rec:?}");
            }
        }
    }
    assert!(reached > 100, "recourse reached the target for only {reached} of 500 rows");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Bins respect the minimum share and the bin count, and their weights of evidence follow
    /// the trend asked for; the score is the sum of the points.
    #[test]
    fn binning_respects_its_constraints(
        seed in 0u64..1_000_000,
        rows in 200usize..3_000,
        max_bins in 2usize..8,
        share in 0.02f64..0.2,
        trend in prop_oneof![Just(Trend::Ascending), Just(Trend::Descending), Just(Trend::Peak), Just(Trend::Valley), Just(Trend::Auto)],
    ) {
        let (cols, bad) = synthetic(rows, seed);
        prop_assume!(bad.iter().any(|&b| b) && bad.iter().any(|&b| !b));
        let options = FitOptions {
            binning: BinningOptions { max_bins, min_bin_share: share, trend, ..options().binning },
            selection: SelectionOptions { min_iv: 0.0, max_correlation: 1.0, ..SelectionOptions::default() },
            ..FitOptions::default()
        };
        let Ok((model, report)) = fit(&cols, &bad, meta(&[]), &options, &|_| {}) else { return Ok(()) };
        // No reversals: in every characteristic of the model, more weight of evidence never
        // earns fewer points.
        for c in &model.characteristics {
            prop_assert!(c.coefficient <= 0.0, "{}: {}", c.name, c.coefficient);
            let mut by_woe: Vec<_> = c.bins.iter().filter(|b| b.count > 0).map(|b| (b.woe, b.points)).collect();
            by_woe.sort_by(|a, b| a.0.total_cmp(&b.0));
            prop_assert!(by_woe.windows(2).all(|w| w[1].1 >= w[0].1), "{}: {:?}", c.name, by_woe);
        }
        for (c, _) in &report.columns {
            let ranges: Vec<_> = c.bins.iter().filter(|b| matches!(b.rule, BinRule::Range { .. } | BinRule::Categories { .. }) && b.count > 0).collect();
            prop_assert!(ranges.len() <= max_bins);
            if ranges.len() > 1 {
                let min = (share * rows as f64).ceil() as u64;
                // A numeric characteristic's top range may be a rare severe tail below the
                // minimum (at least 20 rows, riskier than the range below it).
                let (last, rest) = ranges.split_last().expect("ranges");
                let counts = ranges.iter().map(|b| b.count).collect::<Vec<_>>();
                prop_assert!(rest.iter().all(|b| b.count >= min), "{}: {:?}", c.name, counts);
                let below = rest.last().map_or(0.0, |b| b.woe);
                prop_assert!(last.count >= min || (last.count >= 20 && last.woe < below), "{}: {:?}", c.name, counts);
            }
            if c.name != "region" {
                let risk: Vec<f64> = ranges.iter().map(|b| -b.woe).collect();
                let up = |r: &[f64]| r.windows(2).all(|w| w[1] >= w[0]);
                let down = |r: &[f64]| r.windows(2).all(|w| w[1] <= w[0]);
                let ok = match c.trend {
                    Trend::Ascending => up(&risk),
                    Trend::Descending => down(&risk),
                    Trend::Peak => (0..risk.len()).any(|t| up(&risk[..=t]) && down(&risk[t..])),
                    Trend::Valley => (0..risk.len()).any(|t| down(&risk[..=t]) && up(&risk[t..])),
                    _ => true,
                };
                prop_assert!(ok, "{} {:?}: {:?}", c.name, c.trend, risk);
                if trend != Trend::Auto {
                    prop_assert_eq!(c.trend, trend);
                }
            }
        }
        let scorer = Scorer::new(model.clone()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        for r in (0..rows).step_by(37) {
            let (s, bins) = scorer.score_values(&row_values(&cols, &model, r)).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let sum: i64 = bins.iter().zip(&model.characteristics).map(|(&b, c)| c.bins[b].points as i64).sum();
            prop_assert_eq!(s.total_points, sum);
            prop_assert_eq!(s.score as i64, sum.clamp(300, 900));
        }
    }
}

#[test]
fn batch_points_equal_the_bins_points_for_every_row_including_odd_values() {
    // Few bins and many take different vector loops; the special value of `utilisation` another.
    for max_bins in [4, 8] {
        let (cols, bad) = synthetic(6_000, 21);
        let mut opts = options();
        opts.binning.max_bins = max_bins;
        let (model, _) = fit(&cols, &bad, meta(&[]), &opts, &|_| {}).unwrap_or_else(|e| panic!("{e}"));
        batch_matches_bins(&model, cols);
    }
    // Missing values (and infinities) of `income` score its missing bin.
    let (model, mut cols, _) = fitted(6_000, 21, &[]);
    if let candor_scorecard::Values::Numeric(v) = &mut cols[0].values {
        v[..3].copy_from_slice(&[f64::INFINITY, f64::NEG_INFINITY, f64::NAN]);
    }
    let scorer = Scorer::new(model.clone()).unwrap_or_else(|e| panic!("{e}"));
    let batch = scorer.batch(&in_model_order(&model, &cols)).unwrap_or_else(|e| panic!("{e}"));
    let mut head = vec![0; 3];
    let income = model.characteristics.iter().position(|c| c.name == "income").unwrap_or(0);
    batch.points(income, 0, &mut head);
    let missing = model.characteristics[income].bins.iter().find(|b| b.rule == BinRule::Missing).map(|b| b.points);
    assert_eq!(head.iter().map(|&p| Some(p)).collect::<Vec<_>>(), vec![missing; 3]);
}

/// The columns a model reads, in its order.
fn in_model_order<'a>(model: &Model, cols: &'a [Column]) -> Vec<&'a candor_scorecard::Values> {
    let find = |name: &str| &cols.iter().find(|x| x.name == name).unwrap_or_else(|| panic!("no {name}")).values;
    model.characteristics.iter().map(|c| find(&c.name)).collect()
}

/// Every characteristic's batch points, and every row's batch total from row 0 (infinities and
/// NaN included) and from an offset, equal the bins' points row by row.
fn batch_matches_bins(model: &Model, mut cols: Vec<Column>) {
    // Infinities and NaN are missing, like absent values.
    if let candor_scorecard::Values::Numeric(v) = &mut cols[0].values {
        v[0] = f64::INFINITY;
        v[1] = f64::NEG_INFINITY;
        v[2] = f64::NAN;
    }
    let scorer = Scorer::new(model.clone()).unwrap_or_else(|e| panic!("{e}"));
    let batch = scorer.batch(&in_model_order(model, &cols)).unwrap_or_else(|e| panic!("{e}"));
    let rows = batch.rows();
    for start in [0, 100] {
        let n = rows - start;
        let mut totals = vec![0.0; n];
        batch.totals(start, &mut totals);
        for c in 0..model.characteristics.len() {
            let mut pts = vec![0; n];
            batch.points(c, start, &mut pts);
            for (k, &p) in pts.iter().enumerate() {
                let (_, bins) =
                    scorer.score_values(&row_values(&cols, model, start + k)).unwrap_or_else(|e| panic!("{e}"));
                assert_eq!(p, model.characteristics[c].bins[bins[c]].points, "characteristic {c} row {}", start + k);
            }
        }
        let mut whole = vec![0i64; n];
        let mut reasons = vec![[None; candor_scorecard::MAX_REASONS]; n];
        batch.totals_and_reasons(start, &mut whole, &mut reasons);
        for (k, &t) in totals.iter().enumerate() {
            let (s, bins) = scorer.score_values(&row_values(&cols, model, start + k)).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(t as i64, s.total_points, "row {}", start + k);
            assert_eq!(whole[k], s.total_points, "row {}", start + k);
            let expected = scorer.reasons_from_points(|c| model.characteristics[c].bins[bins[c]].points);
            assert_eq!(reasons[k], expected, "reasons of row {}", start + k);
        }
    }
}

/// Nothing known earns nothing: a category never seen in training scores as the riskiest bin
/// (not with the rare levels, not as the best), and a missing bin too small to be a bin of its
/// own scores no better than the population, however clean its few rows were.
#[test]
fn the_unknown_gets_no_benefit_of_the_doubt() {
    let mut r = Lcg(5);
    let (mut purpose, mut years, mut bad) = (vec![], vec![], vec![]);
    for i in 0..10_000 {
        let risk = r.next();
        // "car" is safe, "cash" risky, "rare-good" a rare and clean level.
        let p = if i % 200 == 0 {
            "rare-good"
        } else if risk < 0.5 {
            "car"
        } else {
            "cash"
        };
        purpose.push(Some(p));
        // Twenty rows without a value, none of them bad: too few to be a bin of their own.
        let missing = i % 500 == 0;
        years.push(if missing { f64::NAN } else { (1.0 - risk) * 20.0 + r.next() * 5.0 });
        bad.push(!missing && p != "rare-good" && r.next() < 0.05 + 0.4 * risk);
    }
    let cols = vec![Column::categorical("purpose", &purpose), Column::numeric("years", years)];
    let (model, _) = fit(&cols, &bad, meta(&[]), &FitOptions::default(), &|_| {}).unwrap_or_else(|e| panic!("{e}"));
    let scorer = Scorer::new(model.clone()).unwrap_or_else(|e| panic!("{e}"));
    let c = model.characteristics.iter().position(|c| c.name == "purpose").expect("purpose in the model");
    let bins = &model.characteristics[c].bins;
    let riskiest = (0..bins.len())
        .filter(|&b| bins[b].count > 0)
        .min_by(|&a, &b| bins[a].woe.total_cmp(&bins[b].woe))
        .expect("a bin");
    for unseen in ["spaceship", "Car", "CASH "] {
        assert_eq!(scorer.bin_of(c, &Value::Text(unseen.into())).expect("bin"), riskiest, "{unseen}");
    }
    let rare = scorer.bin_of(c, &Value::Text("rare-good".into())).expect("bin");
    assert!(
        matches!(&bins[rare].rule, BinRule::Categories { categories, .. } if categories.contains(&"rare-good".to_string()))
    );
    let y = model.characteristics.iter().find(|c| c.name == "years").expect("years in the model");
    let missing = y.bins.iter().find(|b| b.rule == BinRule::Missing).expect("a missing bin");
    assert_eq!((missing.count, missing.bads), (20, 0));
    assert!(missing.woe <= 0.0, "twenty clean rows are not evidence: {}", missing.woe);
    let best = y.bins.iter().map(|b| b.points).max().expect("points");
    assert!(missing.points < best, "{:?}", y.bins);
}

/// A column that all but knows the outcome is flagged as possible leakage, and a bin without a
/// bad is flagged as resting on the smoothing; a clean fit has neither.
#[test]
fn a_fit_warns_of_leakage_and_of_bins_without_bads() {
    let mut r = Lcg(17);
    let (mut leak, mut noise, mut group, mut bad) = (vec![], vec![], vec![], vec![]);
    for i in 0..5_000 {
        // Group "z", a tenth of the rows, never goes bad.
        let z = i % 10 == 0;
        group.push(Some(if z {
            "z"
        } else if i % 2 == 0 {
            "x"
        } else {
            "y"
        }));
        let b = !z && r.next() < 0.2;
        // Recorded after the outcome: almost always 1 for the bad, 0 for the good.
        leak.push(if (r.next() < 0.95) == b { 1.0 } else { 0.0 });
        noise.push(r.next());
        bad.push(b);
    }
    let cols = vec![
        Column::numeric("paid_late_after", leak),
        Column::numeric("noise", noise),
        Column::categorical("group", &group),
    ];
    let (model, _) = fit(&cols, &bad, meta(&[]), &FitOptions::default(), &|_| {}).unwrap_or_else(|e| panic!("{e}"));
    let warnings = candor_scorecard::warnings(&model);
    assert!(warnings.iter().any(|w| w.starts_with("`paid_late_after` has an information value of")), "{warnings:?}");
    assert!(
        warnings.iter().any(|w| w.starts_with("`group`: the bin \"z\"") && w.contains("holds no bads")),
        "{warnings:?}"
    );
    let (clean, _, _) = fitted(5_000, 3, &[]);
    let clean_warnings = candor_scorecard::warnings(&clean);
    assert!(clean_warnings.iter().all(|w| !w.contains("information value")), "{clean_warnings:?}");
}

/// A rare severe event keeps a bin of its own below the minimum share: an open court judgment
/// on 1% of files, with a bad rate far above the rest, costs points and is the person's first
/// reason; a rare value that is not riskier does not.
#[test]
fn a_rare_severe_event_keeps_a_bin_of_its_own() {
    let mut r = Lcg(23);
    let (mut judgments, mut harmless, mut utilisation, mut bad) = (vec![], vec![], vec![], vec![]);
    for i in 0..10_000 {
        let judged = i % 100 == 0;
        let risk = r.next();
        judgments.push(if judged { 1.0 + (i % 300 == 0) as u8 as f64 } else { 0.0 });
        harmless.push(if i % 100 == 1 { 1.0 } else { 0.0 });
        utilisation.push(risk);
        bad.push(r.next() < if judged { 0.6 } else { 0.05 + 0.2 * risk });
    }
    let cols = vec![
        Column::numeric("open_judgments", judgments),
        Column::numeric("harmless_flag", harmless),
        Column::numeric("utilisation", utilisation),
    ];
    let (model, report) =
        fit(&cols, &bad, meta(&[]), &FitOptions::default(), &|_| {}).unwrap_or_else(|e| panic!("{e}"));
    let c = model.characteristics.iter().position(|c| c.name == "open_judgments").expect("the judgments count");
    let bins = &model.characteristics[c].bins;
    let ranges: Vec<_> = bins.iter().filter(|b| matches!(b.rule, BinRule::Range { .. })).collect();
    assert_eq!(ranges.len(), 2, "{bins:?}");
    assert_eq!(ranges[1].count, 100, "the judged files alone: {bins:?}");
    assert!(
        report
            .notes
            .iter()
            .any(|n| n.starts_with("`open_judgments`: the bin ") && n.contains("holds 100 rows (1.0% of all)")),
        "the report says why: {:?}",
        report.notes
    );
    assert!(ranges[1].points < ranges[0].points - 20, "a judgment costs points: {bins:?}");
    let harmless = report.columns.iter().find(|(c, _)| c.name == "harmless_flag").expect("reported");
    assert_ne!(harmless.1, candor_scorecard::CharacteristicOutcome::Selected, "{:?}", harmless.0.bins);
    let first = first_reason(&model, |name| Value::Number(if name == "open_judgments" { 1.0 } else { 0.5 }));
    assert_eq!(first.as_deref(), Some("open_judgments"));
}

/// The characteristic of the first reason the model gives a row whose values `value_of` names.
fn first_reason(model: &candor_scorecard::Model, value_of: impl Fn(&str) -> Value) -> Option<String> {
    let scorer = Scorer::new(model.clone()).unwrap_or_else(|e| panic!("{e}"));
    let row: Vec<Value> = model.characteristics.iter().map(|ch| value_of(&ch.name)).collect();
    let (_, bins_of) = scorer.score_values(&row).expect("scored");
    scorer.reasons(&bins_of).first().map(|r| r.characteristic.clone())
}

/// A record declared severe keeps its bin on the evidence a small sample gives: 30 judgments
/// among 3,000 files, 20% of them bad against 7%, are riskier at the 5% level but not at 0.1%.
/// Undeclared, the column has no split; declared, the judgment costs points.
#[test]
fn a_severe_record_counts_on_the_evidence_a_small_sample_gives() {
    let mut r = Lcg(41);
    let (mut judgments, mut utilisation, mut bad) = (vec![], vec![], vec![]);
    for i in 0..3_000 {
        let judged = i % 100 == 0;
        let risk = r.next();
        judgments.push(if judged { 1.0 } else { 0.0 });
        utilisation.push(risk);
        // Exactly 6 of the 30 judged files are bad; the rest about 7%.
        bad.push(if judged { i % 500 == 0 } else { r.next() < 0.02 + 0.1 * risk });
    }
    let cols = vec![Column::numeric("open_judgments", judgments), Column::numeric("utilisation", utilisation)];
    let judgments_in = |options: &FitOptions| {
        let (model, _) = fit(&cols, &bad, meta(&[]), options, &|_| {}).unwrap_or_else(|e| panic!("{e}"));
        model.characteristics.into_iter().find(|c| c.name == "open_judgments")
    };
    assert!(judgments_in(&FitOptions::default()).is_none(), "not significant at p < 0.001");
    let mut options = FitOptions::default();
    options.binning.severe.insert("open_judgments".into());
    let c = judgments_in(&options).expect("declared severe, the judgments count");
    let ranges: Vec<_> = c.bins.iter().filter(|b| matches!(b.rule, BinRule::Range { .. })).collect();
    assert_eq!((ranges.len(), ranges[1].count), (2, 30), "{:?}", c.bins);
    assert!(ranges[1].points < ranges[0].points, "a judgment costs points: {:?}", c.bins);
}

/// A rare category far riskier than the rest keeps a bin of its own below the minimum share, as
/// a numeric column's rare top tail does: mortgage insurance denied on 2% of 2,000 applications,
/// nine in ten of them refused against one in ten of the rest, costs points and is the
/// applicant's first reason; a rare category no riskier than the rest is not binned alone.
#[test]
fn a_rare_risky_category_keeps_a_bin_of_its_own() {
    let mut r = Lcg(17);
    let (mut insurance, mut region, mut income, mut bad) = (vec![], vec![], vec![], vec![]);
    for i in 0..2_000 {
        let denied = i % 50 == 0;
        let risk = r.next();
        insurance.push(Some(if denied { "denied" } else { "granted" }));
        region.push(Some(if i % 50 == 1 {
            "islands"
        } else if i % 2 == 0 {
            "north"
        } else {
            "south"
        }));
        income.push(risk);
        bad.push(r.next() < if denied { 0.9 } else { 0.02 + 0.16 * risk });
    }
    let cols = vec![
        Column::categorical("insurance", &insurance),
        Column::categorical("region", &region),
        Column::numeric("debt_to_income", income),
    ];
    let (model, report) =
        fit(&cols, &bad, meta(&[]), &FitOptions::default(), &|_| {}).unwrap_or_else(|e| panic!("{e}"));
    let c = model.characteristics.iter().find(|c| c.name == "insurance").expect("insurance counts");
    let groups: Vec<_> = c.bins.iter().filter(|b| matches!(b.rule, BinRule::Categories { .. })).collect();
    assert_eq!(groups.len(), 2, "{:?}", c.bins);
    assert_eq!(
        groups[1].rule,
        BinRule::Categories { categories: vec!["denied".into()], other: true },
        "the denied alone, riskiest, where unseen values go too: {:?}",
        c.bins
    );
    assert_eq!(groups[1].count, 40);
    assert!(groups[1].points < groups[0].points - 20, "a denial costs points: {:?}", c.bins);
    assert!(
        report.notes.iter().any(|n| n.starts_with("`insurance`: the bin \"denied\"")
            && n.contains("holds 40 rows (2.0% of all), below the minimum bin share of 5%")),
        "the report says why: {:?}",
        report.notes
    );
    assert!(report.notes.iter().all(|n| !n.contains("`region`")), "{:?}", report.notes);
    let region = report.columns.iter().find(|(c, _)| c.name == "region").expect("reported");
    assert!(
        region
            .0
            .bins
            .iter()
            .all(|b| !matches!(&b.rule, BinRule::Categories { categories, .. } if categories == &["islands"])),
        "a rare category no riskier than the rest is not binned alone: {:?}",
        region.0.bins
    );
    let first = first_reason(&model, |name| match name {
        "insurance" => Value::Text("denied".into()),
        "region" => Value::Text("north".into()),
        _ => Value::Number(0.5),
    });
    assert_eq!(first.as_deref(), Some("insurance"));
}

/// The held-out check measures a fit on rows it has not seen: against a second sample drawn
/// from the same process, its AUC is as close as the in-sample one would flatter, the same seed
/// gives the same figures, and pure noise shows no skill held out whatever it shows in-sample.
#[test]
fn the_held_out_check_measures_what_in_sample_figures_flatter() {
    let (cols, bad) = synthetic(6_000, 3);
    let once = candor_scorecard::held_out(&cols, &bad, &meta(&[]), &options(), 0.25, 7).expect("fit").expect("figures");
    let again = candor_scorecard::held_out(&cols, &bad, &meta(&[]), &options(), 0.25, 7).expect("fit");
    assert_eq!(Some(once), again, "seeded");
    assert!((once.test_rows as f64 - 1_500.0).abs() < 150.0, "{once:?}");
    let (model, _) = fit(&cols, &bad, meta(&[]), &options(), &|_| {}).expect("fit");
    let scorer = Scorer::new(model.clone()).expect("scorer");
    let (fresh_cols, fresh_bad) = synthetic(6_000, 99);
    let auc_on = |cols: &[Column], bad: &[bool]| {
        let scores: Vec<f64> = (0..bad.len())
            .map(|r| f64::from(scorer.score_values(&row_values(cols, &model, r)).expect("scored").0.score))
            .collect();
        candor_scorecard::metrics::auc(&scores, bad).expect("auc")
    };
    let fresh = auc_on(&fresh_cols, &fresh_bad);
    assert!((once.auc - fresh).abs() < 0.03, "held out {} vs fresh data {fresh}", once.auc);

    // Noise: a column unrelated to the outcome.
    let mut r = Lcg(5);
    let noise: Vec<f64> = (0..4_000).map(|_| r.next()).collect();
    let coin: Vec<bool> = (0..4_000).map(|_| r.next() < 0.2).collect();
    let cols = vec![Column::numeric("noise", noise)];
    let mut loose = FitOptions::default();
    loose.selection.min_iv = 0.0;
    let o = candor_scorecard::held_out(&cols, &coin, &meta(&[]), &loose, 0.3, 1).expect("fit").expect("figures");
    assert!((o.auc - 0.5).abs() < 0.06, "no skill on unseen rows: {o:?}");
}

/// A characteristic whose bins only fit their own rows' noise (forty levels of a code unrelated
/// to the outcome, grouped by their bad rates in sample) gets next to no weight: the regression
/// is fitted on weights of evidence each row did not contribute to, so it weighs bins by how
/// well they rank rows they were not counted from.
#[test]
fn bins_that_only_fit_their_own_noise_get_next_to_no_weight() {
    let mut r = Lcg(41);
    let (mut signal, mut code, mut bad) = (vec![], vec![], vec![]);
    let codes: Vec<String> = (0..40).map(|i| format!("c{i:02}")).collect();
    for _ in 0..3_000 {
        let risk = r.next();
        signal.push(risk + 0.5 * r.next());
        code.push(Some(codes[(r.next() * 40.0) as usize].as_str()));
        bad.push(r.next() < 0.05 + 0.3 * risk);
    }
    let cols = vec![Column::numeric("signal", signal), Column::categorical("code", &code)];
    // By default each code, 2.5% of the rows, is too small for a bin of its own on so few bads
    // and all are pooled: the code gets no bins at all.
    let (_, report) = fit(&cols, &bad, meta(&[]), &FitOptions::default(), &|_| {}).unwrap_or_else(|e| panic!("{e}"));
    let (_, outcome) = report.columns.iter().find(|(c, _)| c.name == "code").expect("code reported");
    assert_eq!(*outcome, candor_scorecard::CharacteristicOutcome::NoSplit);
    // With bins as small as 1%, the codes are grouped by their bad rates.
    let mut small_bins = FitOptions::default();
    small_bins.binning.min_bin_share = 0.01;
    let (model, report) = fit(&cols, &bad, meta(&[]), &small_bins, &|_| {}).unwrap_or_else(|e| panic!("{e}"));
    // In sample the code carries information (its groups are cut to fit it)...
    let (noise, _) = report.columns.iter().find(|(c, _)| c.name == "code").expect("code reported");
    assert!(noise.iv > 0.03, "in-sample information value {}", noise.iv);
    // ...but the model gives it a small fraction of the signal's spread of points, if any.
    let spread = |name: &str| {
        model.characteristics.iter().find(|c| c.name == name).map_or(0, |c| {
            let points = c.bins.iter().filter(|b| b.count > 0).map(|b| b.points);
            points.clone().max().unwrap_or(0) - points.min().unwrap_or(0)
        })
    };
    assert!(spread("signal") > 20, "signal spread {}", spread("signal"));
    assert!(spread("code") * 5 < spread("signal"), "code {} vs signal {}", spread("code"), spread("signal"));
}

/// Where no characteristic's binning ranks rows it was not fitted to (300 rows, one column that
/// is noise), the fit still gives a model, fitted on in-sample weights of evidence, and its
/// report says so; with a real signal beside the noise it never falls back.
#[test]
fn a_fit_that_cross_fitting_leaves_empty_falls_back_and_says_so() {
    let rows = |seed: u64| {
        let mut r = Lcg(seed);
        let (mut noise, mut signal, mut bad) = (vec![], vec![], vec![]);
        for _ in 0..300 {
            let risk = r.next();
            noise.push((r.next() * 30.0).floor());
            signal.push(risk + 0.3 * r.next());
            bad.push(r.next() < 0.02 + 0.3 * risk);
        }
        (Column::numeric("noise", noise), Column::numeric("signal", signal), bad)
    };
    // (fitted, fell back): a fit may still find nothing at all in pure noise.
    let fitted = |cols: Vec<Column>, bad: &[bool]| match fit(&cols, bad, meta(&[]), &FitOptions::default(), &|_| {}) {
        Ok((model, report)) => {
            assert!(!model.characteristics.is_empty());
            (true, report.notes.iter().any(|n| n.contains("fitted on in-sample weights of evidence")))
        }
        Err(FitError::NothingSelected { .. }) => (false, false),
        Err(e) => panic!("{e}"),
    };
    let (mut noise_fell_back, mut signal_fell_back) = (0, 0);
    for seed in 1..=20 {
        let (noise, signal, bad) = rows(seed);
        noise_fell_back += usize::from(fitted(vec![noise.clone()], &bad).1);
        let (fitted_with_signal, fell_back) = fitted(vec![noise, signal], &bad);
        assert!(fitted_with_signal, "seed {seed}");
        signal_fell_back += usize::from(fell_back);
    }
    // Noise has no held-out skill: about half the time its coefficient falls on the wrong side.
    assert!(noise_fell_back >= 5, "{noise_fell_back} of 20 noise fits fell back");
    assert_eq!(signal_fell_back, 0);
}

/// Cross-fitting meets folds that saw a column's values and folds that did not: a column with
/// one known value among hundreds, a categorical level seen in one row only, a column of one
/// special value and missing; every fit completes and its model scores every row.
#[test]
fn cross_fitting_copes_with_values_some_folds_never_saw() {
    let mut r = Lcg(3);
    let rows = 400;
    let bad: Vec<bool> = (0..rows).map(|_| r.next() < 0.2).collect();
    let risk: Vec<f64> = bad.iter().map(|&b| if b { 0.6 } else { 0.3 } + 0.5 * r.next()).collect();
    let one_known: Vec<f64> = (0..rows).map(|i| if i == 17 { 5.0 } else { f64::NAN }).collect();
    let once: Vec<Option<String>> =
        (0..rows).map(|i| Some(if i == 3 { "once".to_owned() } else { format!("g{}", i % 4) })).collect();
    let special: Vec<f64> = (0..rows).map(|i| if i % 3 == 0 { -1.0 } else { f64::NAN }).collect();
    let cols = vec![
        Column::numeric("risk", risk),
        Column::numeric("one_known", one_known),
        Column::categorical("once", &once),
        Column::numeric("special", special),
    ];
    let mut options = FitOptions::default();
    options.binning.specials.insert("special".into(), vec![-1.0]);
    let (model, _) = fit(&cols, &bad, meta(&[]), &options, &|_| {}).unwrap_or_else(|e| panic!("{e}"));
    assert!(model.characteristics.iter().any(|c| c.name == "risk"), "{model:?}");
    let scorer = Scorer::new(model.clone()).unwrap_or_else(|e| panic!("{e}"));
    for row in 0..rows {
        scorer.score_values(&row_values(&cols, &model, row)).unwrap_or_else(|e| panic!("row {row}: {e}"));
    }
}

/// A bill whose risk, alone, falls and then rises (those with large bills are more often late
/// already), though among those never late it only falls: binned as it looks alone, it would be
/// reversed beside the lateness and left out. Its shape is reconsidered beside the lateness: the
/// model keeps it descending, says so, and ranks people it has not seen better than without it.
#[test]
fn a_shape_is_chosen_for_what_it_adds_beside_the_others() {
    let rows = |n: usize, seed: u64| {
        bill_beside_lateness(n, seed, |r| {
            let b = r.next();
            let l = r.next() < 0.02 + 0.5 * b * b;
            (b, l, if l { 0.7 } else { 0.3 - 0.25 * b })
        })
    };
    let (cols, bad) = rows(20_000, 61);
    let shape = |m: &Model| m.characteristics.iter().find(|c| c.name == "bill").expect("bill kept").trend;
    let (bill_alone, _) = fit(&cols[..1], &bad, meta(&[]), &FitOptions::default(), &|_| {}).expect("fit");
    assert_eq!(shape(&bill_alone), Trend::Valley, "the bill alone");
    let (model, report) = fit(&cols, &bad, meta(&[]), &FitOptions::default(), &|_| {}).expect("fit");
    assert_eq!(shape(&model), Trend::Descending, "beside lateness");
    assert!(report.notes.iter().any(|n| n.contains("`bill` is binned descending")), "{:?}", report.notes);
    // The fit after the change redoes only what changed: it is the fit given that shape.
    let mut descending = FitOptions::default();
    descending.binning.trends.insert("bill".into(), Trend::Descending);
    let (as_given, _) = fit(&cols, &bad, meta(&[]), &descending, &|_| {}).expect("fit");
    assert_eq!(model, as_given);
    // A shape given is kept: binned as a valley, beside lateness the bill is reversed and left out.
    let mut given = FitOptions::default();
    given.binning.trends.insert("bill".into(), Trend::Valley);
    let (valley, valley_report) = fit(&cols, &bad, meta(&[]), &given, &|_| {}).expect("fit");
    let outcome = valley_report.columns.iter().find(|(c, _)| c.name == "bill").map(|(_, o)| o.clone());
    assert_eq!(outcome, Some(CharacteristicOutcome::Reversed));
    assert!(!valley_report.notes.iter().any(|n| n.contains("`bill` is binned")), "{:?}", valley_report.notes);
    let (fresh_cols, fresh_bad) = rows(20_000, 62);
    let auc_on = |m: &Model| auc_of(m, &fresh_cols, &fresh_bad);
    assert!(auc_on(&model) > auc_on(&valley) + 0.005, "{} vs {}", auc_on(&model), auc_on(&valley));
}

/// A bill whose risk, among those never late, turns twice: high at nothing owed (cards unused
/// or closed), low for small bills, higher again for middling ones, low for large ones; a few
/// more of those with middling bills are late already. Beside the lateness a descending bill
/// predicts better in log-likelihood, but it lumps small bills with middling ones and ranks
/// people worse: the model keeps the free shape its bins take alone, and ranks people it has
/// not seen better than the descending bill would.
#[test]
fn a_shape_that_ranks_worse_beside_the_others_is_not_taken_for_its_likelihood() {
    let rows = |n: usize, seed: u64| {
        bill_beside_lateness(n, seed, |r| {
            let u = r.next();
            let owes = u >= 0.18;
            let l = r.next() < if owes { 0.04 + 0.1 * (std::f64::consts::PI * (u - 0.18) / 0.82).sin() } else { 0.03 };
            let rate = match u {
                _ if l => 0.55 + 0.1 * u,
                u if u < 0.18 => 0.28,
                u if u < 0.35 => 0.14,
                u if u < 0.60 => 0.19,
                _ => 0.14,
            };
            (if owes { (8.0 * (u - 0.18)).exp() - 1.0 } else { 0.0 }, l, rate)
        })
    };
    let (cols, bad) = rows(20_000, 71);
    let (model, report) = fit(&cols, &bad, meta(&[]), &FitOptions::default(), &|_| {}).expect("fit");
    let shape = model.characteristics.iter().find(|c| c.name == "bill").expect("bill kept").trend;
    assert_eq!(shape, Trend::None, "{:?}", report.notes);
    let mut descending = FitOptions::default();
    descending.binning.trends.insert("bill".into(), Trend::Descending);
    let (monotone, _) = fit(&cols, &bad, meta(&[]), &descending, &|_| {}).expect("fit");
    let (fresh_cols, fresh_bad) = rows(40_000, 72);
    let auc_on = |m: &Model| auc_of(m, &fresh_cols, &fresh_bad);
    assert!(auc_on(&model) > auc_on(&monotone) + 0.002, "{} vs {}", auc_on(&model), auc_on(&monotone));
}

/// `n` rows of a bill and whether the person was late already, each drawn by `draw` (the bill,
/// the lateness and the bad rate), then the outcome drawn at that rate.
fn bill_beside_lateness(n: usize, seed: u64, draw: impl Fn(&mut Lcg) -> (f64, bool, f64)) -> (Vec<Column>, Vec<bool>) {
    let mut r = Lcg(seed);
    let (mut bill, mut late, mut bad) = (vec![], vec![], vec![]);
    for _ in 0..n {
        let (b, l, rate) = draw(&mut r);
        bill.push(b);
        late.push(Some(if l { "yes" } else { "no" }));
        bad.push(r.next() < rate);
    }
    (vec![Column::numeric("bill", bill), Column::categorical("late", &late)], bad)
}

/// The AUC of a model's scores on rows it was not fitted to.
fn auc_of(model: &Model, cols: &[Column], bad: &[bool]) -> f64 {
    let scorer = Scorer::new(model.clone()).expect("scorer");
    let scores: Vec<f64> = (0..bad.len())
        .map(|r| f64::from(scorer.score_values(&row_values(cols, model, r)).expect("scored").0.score))
        .collect();
    candor_scorecard::metrics::auc(&scores, bad).expect("auc")
}

#[test]
fn a_column_that_only_names_its_rows_is_kept_out_and_reported() {
    let mut r = Lcg(7);
    let n = 2_000;
    let x: Vec<f64> = (0..n).map(|_| r.next()).collect();
    let bad: Vec<bool> = x.iter().map(|&x| r.next() < 0.1 + 0.4 * x).collect();
    // Loan numbers in the order the file was written, and a branch number many rows share.
    let numbers: Vec<f64> = (0..n).map(|i| 10_000.0 + i as f64).collect();
    let branches: Vec<f64> = (0..n).map(|i| (i % 7) as f64).collect();
    let columns =
        vec![Column::numeric("x", x), Column::numeric("loan_id", numbers), Column::numeric("branch_id", branches)];
    let (model, report) = fit(&columns, &bad, meta(&[]), &FitOptions::default(), &|_| {}).expect("fit");
    let outcome = |name: &str| report.columns.iter().find(|(c, _)| c.name == name).map(|(_, o)| o.clone());
    assert_eq!(outcome("loan_id"), Some(CharacteristicOutcome::Identifier));
    assert!(model.characteristics.iter().all(|c| c.name != "loan_id"));
    // Shared by many rows, a value named an id is a characteristic like any other.
    assert_ne!(outcome("branch_id"), Some(CharacteristicOutcome::Identifier));
    assert_eq!(outcome("x"), Some(CharacteristicOutcome::Selected));
}
