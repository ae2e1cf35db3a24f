//! `candor fit`: bin, select, regress and scale; write the model file and, if asked, the report.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use candor_scorecard::{
    fit, held_out, BinningOptions, CharacteristicOutcome, Criterion, FitMeta, FitOptions, FitStage, Scaling, Scorer,
    SelectionOptions, Trend, Values,
};
use candor_table::Table;

use super::keep_rows;
use crate::io::{progress, write_atomically};

#[derive(clap::Args)]
pub struct Args {
    /// Training data (CSV with a header row).
    #[arg(long)]
    data: PathBuf,
    /// The target column: 1 (or "bad") for a bad outcome, 0 (or "good") for a good one.
    #[arg(long)]
    target: String,
    /// The value of the target that means bad, when it is not 1 or "bad".
    #[arg(long)]
    bad_value: Option<String>,
    /// A row identifier, copied to scored output and never used as a characteristic.
    #[arg(long)]
    id: Option<String>,
    /// Columns to leave out (comma-separated, repeatable).
    #[arg(long)]
    exclude: Vec<String>,
    /// Columns to treat as categorical even if they hold numbers.
    #[arg(long)]
    categorical: Vec<String>,
    /// Characteristics a person can act on, offered in recourse (comma-separated).
    #[arg(long)]
    actionable: Vec<String>,
    /// Special values of a numeric column, each binned on its own: COL=-1,-2 (repeatable).
    #[arg(long, value_name = "COL=V,...")]
    special: Vec<String>,
    /// Trend of the bad rate as numbers grow: auto, ascending, descending, peak, valley, none.
    #[arg(long, default_value = "auto")]
    trend: Trend,
    /// The trend for one column: COL=TREND (repeatable).
    #[arg(long, value_name = "COL=TREND")]
    trend_for: Vec<String>,
    #[arg(long, default_value_t = 8)]
    max_bins: usize,
    #[arg(long, default_value_t = 0.05)]
    min_bin_share: f64,
    /// Quantile pre-bins of a numeric column, merged optimally into at most --max-bins bins.
    #[arg(long, default_value_t = 50)]
    prebins: usize,
    /// Categories with fewer rows than this share are pooled before grouping; on few rows (a bin
    /// of --min-bin-share expecting fewer than 100 bads) so is every category below that share.
    #[arg(long, default_value_t = 0.01)]
    rare_category_share: f64,
    /// Numeric columns that are severe derogatory records (court judgments, charge-offs,
    /// collections; comma-separated): a rare value keeps a bin of its own where its bad rate is
    /// higher at the 5% level, not only at 0.1%.
    #[arg(long)]
    severe: Vec<String>,
    /// Drop characteristics with less information value.
    #[arg(long, default_value_t = 0.002)]
    min_iv: f64,
    /// Drop the weaker of two characteristics correlated beyond this.
    #[arg(long, default_value_t = 0.8)]
    max_correlation: f64,
    /// Backward stepwise elimination: drop characteristics with a wrong-signed coefficient or a
    /// Wald p-value above this, one at a time. 1 (the default) turns it off.
    #[arg(long, default_value_t = 1.0)]
    max_p_value: f64,
    /// Use a column that looks like a protected attribute (sex, age, marital status, nationality,
    /// ethnicity, religion) as a characteristic; by default such columns are kept out.
    #[arg(long)]
    allow_protected: Vec<String>,
    /// Let a characteristic's points fall as its weight of evidence rises. By default every
    /// coefficient's sign is constrained and a characteristic that would be reversed is dropped.
    #[arg(long)]
    allow_reversals: bool,
    /// Minimum scoring criteria the model carries, COL>=X or COL<=X (comma-separated,
    /// repeatable): a row failing one is not scored ("not_enough_history") and is left out of
    /// the fit.
    #[arg(long, value_name = "COL>=X")]
    minimum: Vec<String>,
    #[arg(long, default_value_t = 1.0)]
    l2: f64,
    #[arg(long, default_value_t = 600.0)]
    base_points: f64,
    /// Good:bad odds at the base points.
    #[arg(long, default_value_t = 50.0)]
    base_odds: f64,
    /// Points to double the odds.
    #[arg(long, default_value_t = 20.0)]
    pdo: f64,
    #[arg(long, default_value_t = 300)]
    min_score: i32,
    #[arg(long, default_value_t = 900)]
    max_score: i32,
    /// Share of the rows held out to measure the fit on people it has not seen: a model is
    /// fitted on the others (at most 50,000 of them) and scores the held-out rows. 0 skips it.
    /// The model written is fitted on every row.
    #[arg(long, default_value_t = 0.2)]
    holdout: f64,
    /// Seed of the held-out split.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Where to write the model file (JSON).
    #[arg(long)]
    out: PathBuf,
    /// Also write a validation report on the training data (HTML).
    #[arg(long)]
    report: Option<PathBuf>,
    /// Print how long each phase took, to standard error.
    #[arg(long)]
    timings: bool,
}

pub fn run(args: Args) -> Result<()> {
    let clock = crate::io::Timings::new(args.timings);
    for output in
        [Some(("--out", args.out.as_path())), args.report.as_deref().map(|r| ("--report", r))].into_iter().flatten()
    {
        crate::io::refuse_to_replace(output, &[("--data", &args.data)])?;
    }
    let spin = crate::io::spinner("reading");
    let table = Table::read(&args.data)?;
    spin.finish_and_clear();
    clock.mark("read");
    let mut bad = table.target(&args.target, args.bad_value.as_deref())?;
    let minimum = super::list(&args.minimum)
        .iter()
        .map(|c| c.parse::<Criterion>().map_err(|e| anyhow::anyhow!("--minimum {e}")))
        .collect::<Result<Vec<_>>>()?;
    let scorable = super::scorable_rows(&minimum, &table)?;
    let known = |name: &str| table.index_of(name).map(|_| ());
    if let Some(id) = &args.id {
        known(id)?;
    }
    let excluded: BTreeSet<String> = super::list(&args.exclude).into_iter().collect();
    let categorical: BTreeSet<String> = super::list(&args.categorical).into_iter().collect();
    let actionable: BTreeSet<String> = super::list(&args.actionable).into_iter().collect();
    let allowed: BTreeSet<String> = super::list(&args.allow_protected).into_iter().collect();
    let severe: BTreeSet<String> = super::list(&args.severe).into_iter().collect();
    for name in excluded.iter().chain(&categorical).chain(&actionable).chain(&allowed).chain(&severe) {
        known(name)?;
    }
    let specials = parse_pairs(&args.special, "--special", |v| {
        v.split(',').map(|x| x.trim().parse::<f64>().map_err(|_| format!("`{x}` is not a number"))).collect()
    })?;
    let trends = parse_pairs(&args.trend_for, "--trend-for", |v| v.parse::<Trend>())?;
    for name in specials.keys().chain(trends.keys()) {
        known(name)?;
    }

    let wanted: Vec<(usize, bool)> = (0..table.headers().len())
        .filter(|&i| {
            let h = &table.headers()[i];
            *h != args.target && Some(h) != args.id.as_ref() && !excluded.contains(h)
        })
        .map(|i| (i, categorical.contains(&table.headers()[i])))
        .collect();
    let described = super::validate::describe(&table);
    let digest = table.digest().to_string();
    let mut table = table;
    let mut columns: Vec<_> = wanted.iter().map(|&(i, categorical)| table.take_column(i, categorical)).collect();
    if columns.is_empty() {
        bail!("{}: no columns left to fit on besides the target and id", args.data.display());
    }
    if let Some(keep) = &scorable {
        let left_out = keep.iter().filter(|&&k| !k).count();
        keep_rows(&mut columns, &mut bad, keep);
        eprintln!(
            "note: {left_out} of {} rows fail the minimum scoring criteria ({}) and are left out of the fit",
            keep.len(),
            minimum.iter().map(|c| c.to_string()).collect::<Vec<_>>().join(", ")
        );
    }
    for c in &columns {
        if specials.contains_key(&c.name) && !matches!(c.values, Values::Numeric(_)) {
            bail!("--special: column `{}` is not numeric", c.name);
        }
    }

    let options = FitOptions {
        binning: BinningOptions {
            max_bins: args.max_bins,
            min_bin_share: args.min_bin_share,
            prebins: args.prebins,
            rare_category_share: args.rare_category_share,
            trend: args.trend,
            trends,
            specials,
            severe,
        },
        selection: SelectionOptions {
            min_iv: args.min_iv,
            max_correlation: args.max_correlation,
            max_p_value: (args.max_p_value < 1.0).then_some(args.max_p_value),
            allow_reversals: args.allow_reversals,
            protected: columns
                .iter()
                .filter(|c| !allowed.contains(&c.name) && candor_scorecard::looks_protected(&c.name).is_some())
                .map(|c| c.name.clone())
                .collect(),
        },
        scaling: Scaling {
            base_points: args.base_points,
            base_odds: args.base_odds,
            pdo: args.pdo,
            min_score: args.min_score,
            max_score: args.max_score,
        },
        l2: args.l2,
        ..FitOptions::default()
    };
    let meta = FitMeta {
        target: args.target.clone(),
        id_column: args.id.clone(),
        data_digest: digest,
        created_by: format!("candor {}", env!("CARGO_PKG_VERSION")),
        actionable,
        minimum,
    };
    clock.mark("typed columns");
    let bar = progress(3, "fitting");
    let on_stage = |s: FitStage| {
        clock.mark(&format!("before {s:?}"));
        bar.set_position(match s {
            FitStage::Binning => 0,
            FitStage::Selecting => 1,
            FitStage::Regressing => 2,
        })
    };
    let (model, report) = fit(&columns, &bad, meta.clone(), &options, &on_stage)
        .with_context(|| format!("{}: cannot fit a scorecard", args.data.display()))?;
    bar.finish_and_clear();
    clock.mark("regressed");
    let spin = crate::io::spinner("held-out check");
    let held = held_out(&columns, &bad, &meta, &options, args.holdout, args.seed)
        .with_context(|| format!("{}: the held-out check", args.data.display()))?;
    spin.finish_and_clear();
    clock.mark("held-out check");
    match &held {
        Some(o) => {
            eprintln!(
                "held-out: AUC {:.4}  Gini {:.4}  KS {:.4} on {} rows ({} bad) scored by a model fitted on {} others",
                o.auc, o.gini, o.ks, o.test_rows, o.test_bads, o.train_rows
            );
            if o.characteristics == 0 {
                eprintln!("warning: held-out check: {}", candor_scorecard::HELD_OUT_KEPT_NOTHING);
            }
        }
        None if args.holdout > 0.0 => {
            eprintln!("note: too few goods or bads for a held-out check; every figure is in-sample")
        }
        None => {}
    }

    for ((c, outcome), column) in report.columns.iter().zip(&columns) {
        let all_missing = match &column.values {
            Values::Numeric(v) => v.iter().all(|x| x.is_nan()),
            Values::Categorical { codes, .. } => codes.iter().all(|&x| x == candor_scorecard::MISSING_CODE),
        };
        if *outcome == CharacteristicOutcome::Protected {
            let what = candor_scorecard::looks_protected(&c.name).unwrap_or("a protected attribute");
            eprintln!(
                "note: column `{}` kept out: it looks like {what}, which a credit score must not use (--allow-protected {} to use it)",
                c.name, c.name
            );
            continue;
        }
        if *outcome == CharacteristicOutcome::Identifier {
            eprintln!(
                "note: column `{}` kept out: {} (--id {} names it as the rows' id)",
                c.name,
                candor_scorecard::KEPT_OUT_AS_IDENTIFIER,
                c.name
            );
            continue;
        }
        let why = match outcome {
            CharacteristicOutcome::Constant if all_missing => "every value is missing",
            CharacteristicOutcome::Constant => "it is constant",
            CharacteristicOutcome::NoSplit => "no split into bins meets the minimum bin share",
            _ => continue,
        };
        eprintln!("warning: column `{}` skipped: {why}", c.name);
    }

    for warning in candor_scorecard::warnings(&model).iter().chain(&report.notes) {
        eprintln!("warning: {warning}");
    }
    let json = serde_json::to_string_pretty(&model)?;
    write_atomically(&args.out, |w| Ok(w.write_all(json.as_bytes())?))?;
    clock.mark("written");
    let scorer = Scorer::new(model)?;
    eprintln!(
        "fitted {} characteristics of {} on {} rows ({} bad); model written to {}",
        scorer.model().characteristics.len(),
        columns.len(),
        bad.len(),
        scorer.model().training.bads,
        args.out.display()
    );
    if let Some(path) = &args.report {
        super::validate::write_report(
            &scorer,
            &columns,
            &described,
            &bad,
            None,
            Some(&report),
            held.as_ref(),
            path,
            "Training report",
        )?;
    }
    Ok(())
}

fn parse_pairs<T>(
    items: &[String],
    flag: &str,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Result<BTreeMap<String, T>> {
    let mut out = BTreeMap::new();
    for item in items {
        let Some((col, value)) = item.split_once('=') else {
            bail!("{flag} {item:?}: expected COL=VALUE");
        };
        let v = parse(value).map_err(|e| anyhow::anyhow!("{flag} {item:?}: {e}"))?;
        out.insert(col.trim().to_string(), v);
    }
    Ok(out)
}
