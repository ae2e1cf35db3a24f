//! `candor score`: score every row of a table, in input order, to CSV.

use std::path::PathBuf;

use anyhow::{Context, Result};
use candor_scorecard::MAX_REASONS;
use candor_table::Table;

use crate::io::{load_model, progress, write_atomically};

/// Rows scored between progress updates.
const PROGRESS_ROWS: usize = 65_536;

#[derive(clap::Args)]
pub struct Args {
    #[arg(long)]
    model: PathBuf,
    /// Rows to score (CSV with a header row).
    #[arg(long)]
    data: PathBuf,
    /// Where to write the scores (CSV): id (if the model has one), score, pd, reason1..reason4.
    #[arg(long)]
    out: PathBuf,
}

pub fn run(args: Args) -> Result<()> {
    let scorer = load_model(&args.model)?;
    let table = Table::read(&args.data)?;
    let columns = super::model_columns(&scorer, &table)?;
    let ids = match &scorer.model().id_column {
        Some(id) => Some(table.index_of(id)?),
        None => None,
    };
    let bins = super::bin_all(&scorer, &columns)?;
    let chars = &scorer.model().characteristics;
    let bar = progress(table.rows() as u64, "scoring");
    write_atomically(&args.out, |w| {
        let mut out = csv::Writer::from_writer(w);
        let mut header: Vec<String> = Vec::new();
        if let Some(id) = &scorer.model().id_column {
            header.push(id.clone());
        }
        header.extend(["score".to_string(), "pd".to_string()]);
        header.extend((1..=MAX_REASONS).map(|i| format!("reason{i}")));
        out.write_record(&header)?;
        let mut row_bins = vec![0usize; chars.len()];
        let mut record: Vec<String> = Vec::with_capacity(header.len());
        for row in 0..table.rows() {
            for (c, b) in row_bins.iter_mut().enumerate() {
                *b = bins[c][row] as usize;
            }
            let scored = scorer.score_bins(row_bins.iter().copied());
            record.clear();
            if let Some(c) = ids {
                record.push(table.text(c, row).map(|t| t.into_owned()).unwrap_or_default());
            }
            record.push(scored.score.to_string());
            record.push(format!("{}", scored.pd));
            let reasons = scorer.reason_indices(&row_bins);
            for k in 0..MAX_REASONS {
                record.push(reasons.get(k).map(|&c| chars[c].reason_code.clone()).unwrap_or_default());
            }
            out.write_record(&record)?;
            if row % PROGRESS_ROWS == 0 {
                bar.set_position(row as u64);
            }
        }
        out.flush()?;
        Ok(())
    })
    .with_context(|| format!("{}: cannot write the scores", args.out.display()))?;
    bar.finish_and_clear();
    eprintln!("scored {} rows into {}", table.rows(), args.out.display());
    Ok(())
}
