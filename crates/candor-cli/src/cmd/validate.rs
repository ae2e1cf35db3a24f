//! `candor validate`: measure a model on labelled data and write the HTML report.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use candor_report::{evaluate, render, sample_bins, GroupColumn};
use candor_scorecard::{Column, FitReport, HeldOut, Scorer, Values};
use candor_table::Table;

use crate::io::{load_model, write_atomically};

#[derive(clap::Args)]
pub struct Args {
    #[arg(long)]
    model: PathBuf,
    #[arg(long)]
    data: PathBuf,
    #[arg(long)]
    target: String,
    #[arg(long)]
    bad_value: Option<String>,
    /// A column of group labels for adverse impact; read here only, never used by the model.
    #[arg(long)]
    group: Option<String>,
    /// Approve at or above this score when measuring adverse impact (default: the base points).
    #[arg(long)]
    cutoff: Option<i32>,
    #[arg(long)]
    report: PathBuf,
}

pub fn run(args: Args) -> Result<()> {
    crate::io::refuse_to_replace(("--report", &args.report), &[("--model", &args.model), ("--data", &args.data)])?;
    let scorer = load_model(&args.model)?;
    let mut table = Table::read(&args.data)?;
    let mut bad = table.target(&args.target, args.bad_value.as_deref())?;
    let scorable = super::scorable_rows(&scorer.model().minimum, &table)?;
    let mut group = match &args.group {
        Some(g) if scorer.model().characteristics.iter().any(|c| &c.name == g) => {
            anyhow::bail!(
                "--group: `{g}` is a characteristic of the model; adverse impact is measured by a column the model does not score on (fit without it: --exclude {g})"
            )
        }
        Some(g) => {
            let c = table.index_of(g)?;
            let cutoff = args.cutoff.unwrap_or(scorer.model().scaling.base_points.round() as i32);
            Some(GroupColumn {
                name: g.clone(),
                labels: (0..table.rows())
                    .map(|r| table.text(c, r).map(|t| t.into_owned()).unwrap_or_default())
                    .collect(),
                cutoff,
            })
        }
        None => None,
    };
    let mut columns = super::model_columns(&scorer, &mut table)?;
    // Rows the model does not score are not measured: they get no score to rank.
    if let Some(keep) = &scorable {
        eprintln!(
            "note: {} of {} rows fail the model's minimum scoring criteria and are not measured",
            keep.iter().filter(|&&k| !k).count(),
            keep.len()
        );
        super::keep_rows(&mut columns, &mut bad, keep);
        if let Some(g) = &mut group {
            g.labels = g.labels.drain(..).zip(keep).filter(|(_, &k)| k).map(|(l, _)| l).collect();
        }
    }
    write_report(&scorer, &columns, &describe(&table), &bad, group, None, None, &args.report, "Validation report")
}

/// How the report names its data: path, rows and digest.
pub fn describe(table: &Table) -> String {
    format!("{} ({} rows, {})", table.path().display(), table.rows(), table.digest())
}

/// Scores `columns` (which must include every characteristic of the model, by name) and writes
/// the report.
#[allow(clippy::too_many_arguments)]
pub fn write_report(
    scorer: &Scorer,
    columns: &[Column],
    data: &str,
    bad: &[bool],
    group: Option<GroupColumn>,
    fit: Option<&FitReport>,
    held: Option<&HeldOut>,
    path: &Path,
    title: &str,
) -> Result<()> {
    let by_name: Vec<&Values> = scorer
        .model()
        .characteristics
        .iter()
        .map(|c| {
            columns
                .iter()
                .find(|col| col.name == c.name)
                .map(|col| &col.values)
                .ok_or_else(|| anyhow::anyhow!("no column `{}`", c.name))
        })
        .collect::<Result<_>>()?;
    let mut totals = vec![0.0; bad.len()];
    scorer.batch(&by_name)?.totals(0, &mut totals);
    let scored: Vec<_> = totals.iter().map(|&t| scorer.scored(t as i64)).collect();
    let scores: Vec<f64> = scored.iter().map(|s| s.score as f64).collect();
    let pd: Vec<f64> = scored.iter().map(|s| s.pd).collect();
    let mut evaluation = evaluate(scorer.model(), &scores, &pd, bad, group.as_ref());
    if fit.is_none() {
        evaluation.sample_bins = sample_bins(scorer, &by_name, bad)?;
    }
    let html = render(title, data, scorer.model(), fit, held, &evaluation);
    write_atomically(path, |w| Ok(w.write_all(html.as_bytes())?))
        .with_context(|| format!("{}: cannot write the report", path.display()))?;
    eprintln!(
        "{}AUC {:.4}  Gini {:.4}  KS {:.4}  PSI {:.4}; report written to {}",
        if fit.is_some() { "in-sample: " } else { "" },
        evaluation.auc,
        evaluation.gini,
        evaluation.ks,
        evaluation.psi,
        path.display()
    );
    Ok(())
}
