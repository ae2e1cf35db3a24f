//! `candor validate`: measure a model on labelled data and write the HTML report.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use candor_report::{evaluate, render, GroupColumn};
use candor_scorecard::{Column, FitReport, Scorer};
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
    let scorer = load_model(&args.model)?;
    let mut table = Table::read(&args.data)?;
    let bad = table.target(&args.target, args.bad_value.as_deref())?;
    let group = match &args.group {
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
    let columns = super::model_columns(&scorer, &mut table)?;
    write_report(&scorer, &columns, &describe(&table), &bad, group, None, &args.report, "Validation report")
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
    path: &Path,
    title: &str,
) -> Result<()> {
    let by_name: Vec<Column> = scorer
        .model()
        .characteristics
        .iter()
        .map(|c| {
            columns
                .iter()
                .find(|col| col.name == c.name)
                .cloned()
                .ok_or_else(|| anyhow::anyhow!("no column `{}`", c.name))
        })
        .collect::<Result<_>>()?;
    let bins = super::bin_all(scorer, &by_name)?;
    let n = bad.len();
    let mut scores = Vec::with_capacity(n);
    let mut pd = Vec::with_capacity(n);
    for row in 0..n {
        let s = scorer.score_bins(bins.iter().map(|b| b[row] as usize));
        scores.push(s.score as f64);
        pd.push(s.pd);
    }
    let evaluation = evaluate(scorer.model(), &scores, &pd, bad, group.as_ref());
    let html = render(title, data, scorer.model(), fit, &evaluation);
    write_atomically(path, |w| Ok(w.write_all(html.as_bytes())?))
        .with_context(|| format!("{}: cannot write the report", path.display()))?;
    eprintln!(
        "AUC {:.4}  Gini {:.4}  KS {:.4}  PSI {:.4}; report written to {}",
        evaluation.auc,
        evaluation.gini,
        evaluation.ks,
        evaluation.psi,
        path.display()
    );
    Ok(())
}
