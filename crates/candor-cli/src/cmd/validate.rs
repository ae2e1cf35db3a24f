//! `candor validate`: measure a model on labelled data and write the HTML report.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use candor_report::{evaluate, render, GroupColumn};
use candor_scorecard::{FitReport, Scorer};
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
    let table = Table::read(&args.data)?;
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
    write_report(&scorer, &table, &bad, group, None, &args.report, "Validation report")
}

pub fn write_report(
    scorer: &Scorer,
    table: &Table,
    bad: &[bool],
    group: Option<GroupColumn>,
    fit: Option<&FitReport>,
    path: &Path,
    title: &str,
) -> Result<()> {
    let columns = super::model_columns(scorer, table)?;
    let bins = super::bin_all(scorer, &columns)?;
    let n = table.rows();
    let mut scores = Vec::with_capacity(n);
    let mut pd = Vec::with_capacity(n);
    for row in 0..n {
        let s = scorer.score_bins(bins.iter().map(|b| b[row] as usize));
        scores.push(s.score as f64);
        pd.push(s.pd);
    }
    let evaluation = evaluate(scorer.model(), &scores, &pd, bad, group.as_ref());
    let data = format!("{} ({} rows, {})", table.path().display(), n, table.digest());
    let html = render(title, &data, scorer.model(), fit, &evaluation);
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
