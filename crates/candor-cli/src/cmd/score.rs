//! `candor score`: score every row of a table, in input order, to CSV.
//!
//! The rows arrive in tables (a Parquet file streams in, decoded ahead on other threads; CSV
//! arrives whole) and each table is scored in chunks, several chunks at once on as many
//! threads, each chunk formatted into its own buffer; buffers are written in order. Each characteristic's points
//! come from the engine's columnar batch scorer, reasons from the points' shortfalls, and the
//! probability of bad from a table of its text per points total (it depends on nothing else).

use std::path::PathBuf;

use anyhow::{Context, Result};
use std::collections::BTreeMap;

use candor_scorecard::{Batch, Kind, Scorer, Values, MAX_REASONS, NOT_SCORED, UNKNOWN_SUFFIX};
use candor_table::{push_csv_field, ReadOptions, Table};

use crate::io::{load_model, progress, write_atomically};

/// Rows per chunk: big enough to amortise per-chunk work and keep the vector loops long,
/// small enough that a chunk's points (characteristics × rows × 4 bytes) stay in cache.
const CHUNK_ROWS: usize = 8_192;
/// Rows per table when a Parquet file streams in: a few such tables are in memory at once
/// (one being scored, one decoded ahead per decoding thread, one being decoded).
const STREAM_ROWS: usize = 65_536;
/// Most totals whose score and probability text is prepared in advance; a wider points range (only
/// possible with extreme scaling) formats each row's instead.
const MAX_PD_TABLE: i64 = 1 << 20;

#[derive(clap::Args)]
pub struct Args {
    #[arg(long)]
    model: PathBuf,
    /// Rows to score (CSV with a header row, or Parquet).
    #[arg(long)]
    data: PathBuf,
    /// Where to write the scores (CSV): id (if the model has one), score, pd, reason1..reason4,
    /// and, for a model with the bureau's open court judgment or recent inquiry features, one
    /// more reason column for each: such a feature is told after the four where it costs points
    /// and is not among them, as the bureau's service tells it.
    /// A row failing the model's minimum scoring criteria has no score or pd and the reason
    /// `not_enough_history`. A category the model never saw in training scores in its
    /// characteristic's riskiest group, and its reason code ends in `:unknown`.
    #[arg(long)]
    out: PathBuf,
    /// Print how long each phase took, to standard error.
    #[arg(long)]
    timings: bool,
}

pub fn run(args: Args) -> Result<()> {
    let clock = crate::io::Timings::new(args.timings);
    crate::io::refuse_to_replace(("--out", &args.out), &[("--model", &args.model), ("--data", &args.data)])?;
    let scorer = load_model(&args.model)?;
    let model = scorer.model();
    let mut wanted: Vec<String> = model.characteristics.iter().map(|c| c.name.clone()).collect();
    if let Some(id) = &model.id_column {
        wanted.push(id.clone());
    }
    for c in &model.minimum {
        if !wanted.contains(&c.column) {
            wanted.push(c.column.clone());
        }
    }
    let categorical =
        model.characteristics.iter().filter(|c| c.kind == Kind::Categorical).map(|c| c.name.clone()).collect();
    let options = ReadOptions { columns: Some(wanted), digest: false, categorical };
    let format = Format::new(&scorer);
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).min(16);
    let expected = Table::parquet_rows(&args.data);
    let bar = progress(expected.unwrap_or(0), "scoring");
    let mut rows = 0;
    // Per characteristic, the categories never seen in training and how many rows hold each.
    let mut unseen: Vec<BTreeMap<String, usize>> = vec![BTreeMap::new(); model.characteristics.len()];
    write_atomically(&args.out, |w| {
        let mut header: Vec<String> = Vec::new();
        if let Some(id) = &model.id_column {
            header.push(id.clone());
        }
        header.extend(["score".to_string(), "pd".to_string()]);
        header.extend((1..=MAX_REASONS + format.also.len()).map(|i| format!("reason{i}")));
        let mut line = Vec::new();
        for (i, h) in header.iter().enumerate() {
            if i > 0 {
                line.push(b',');
            }
            push_csv_field(&mut line, h);
        }
        line.push(b'\n');
        w.write_all(&line).with_context(|| format!("{}: cannot write the scores", args.out.display()))?;
        let mut waited = std::time::Duration::ZERO;
        let mut last = std::time::Instant::now();
        Table::read_in_batches(&args.data, &options, STREAM_ROWS, |mut table| -> Result<()> {
            waited += last.elapsed();
            if rows == 0 {
                clock.mark("first table decoded");
            }
            let scorable = super::scorable_rows(&model.minimum, &table)?;
            let columns = super::model_columns(&scorer, &mut table)?;
            let ids = match &model.id_column {
                Some(id) => Some(table.index_of(id)?),
                None => None,
            };
            let values: Vec<_> = columns.iter().map(|c| &c.values).collect();
            let batch = scorer.batch(&values)?;
            for (c, column) in columns.iter().enumerate() {
                if let Values::Categorical { levels, .. } = &column.values {
                    for (l, n) in batch.unseen_counts(c) {
                        *unseen[c].entry(levels[l].clone()).or_default() += n;
                    }
                }
            }
            let n = table.rows();
            let chunks: Vec<usize> = (0..n).step_by(CHUNK_ROWS).collect();
            for wave in chunks.chunks(threads) {
                let buffers: Vec<Vec<u8>> = std::thread::scope(|scope| {
                    let handles: Vec<_> = wave
                        .iter()
                        .map(|&start| {
                            let (batch, format, table, scorable) = (&batch, &format, &table, scorable.as_deref());
                            let rows = start..(start + CHUNK_ROWS).min(n);
                            scope.spawn(move || format.chunk(batch, table, ids, scorable, rows))
                        })
                        .collect();
                    handles.into_iter().map(|h| h.join().unwrap_or_default()).collect()
                });
                for b in &buffers {
                    w.write_all(b).with_context(|| format!("{}: cannot write the scores", args.out.display()))?;
                }
            }
            rows += n;
            if expected.is_none() {
                bar.inc_length(n as u64);
            }
            bar.set_position(rows as u64);
            last = std::time::Instant::now();
            Ok(())
        })?;
        clock.mark(&format!("scored ({:.3} s of it waiting for tables)", waited.as_secs_f64()));
        Ok(())
    })?;
    bar.finish_and_clear();
    clock.mark("written and synced");
    for (c, seen) in model.characteristics.iter().zip(&unseen).filter(|(_, u)| !u.is_empty()) {
        let held: usize = seen.values().sum();
        let mut named: Vec<String> = seen.keys().take(5).map(|k| format!("{k:?}")).collect();
        if seen.len() > 5 {
            named.push(format!("and {} more", seen.len() - 5));
        }
        eprintln!(
            "warning: `{}`: {held} row(s) have a category the model never saw in training ({}); they score in its riskiest group, with reason `{}{UNKNOWN_SUFFIX}` where it costs points",
            c.name,
            named.join(", "),
            c.reason_code
        );
    }
    eprintln!("scored {rows} rows into {}", args.out.display());
    Ok(())
}

/// Everything per model that formatting a row needs.
struct Format<'s> {
    scorer: &'s Scorer,
    codes: Vec<&'s str>,
    /// The `score,pd` text for totals `low..low + score_pd.len()`: both depend on the points
    /// total alone, and a model's totals span a few hundred values.
    low: i64,
    score_pd: Vec<String>,
    /// The rest of a line after the id for a row failing the minimum scoring criteria.
    not_scored: String,
    /// Characteristics told after the four where they cost points ([`candor_bureau::score::told_also`]).
    also: Vec<usize>,
}

impl<'s> Format<'s> {
    fn new(scorer: &'s Scorer) -> Format<'s> {
        let chars = &scorer.model().characteristics;
        let low: i64 = chars.iter().map(|c| c.bins.iter().map(|b| b.points).min().unwrap_or(0) as i64).sum();
        let high: i64 = (0..chars.len()).map(|c| scorer.max_points(c) as i64).sum();
        let score_pd =
            if high - low < MAX_PD_TABLE { (low..=high).map(|t| score_pd(scorer, t)).collect() } else { Vec::new() };
        let also = candor_bureau::score::told_also(scorer.model());
        let not_scored = format!(",,{NOT_SCORED}{}\n", ",".repeat(MAX_REASONS - 1 + also.len()));
        let codes = chars.iter().map(|c| c.reason_code.as_str()).collect();
        Format { scorer, codes, low, score_pd, not_scored, also }
    }

    /// The CSV lines of rows `rows`; a row `scorable` marks false gets no score and the one
    /// reason [`NOT_SCORED`].
    fn chunk(
        &self,
        batch: &Batch<'_>,
        table: &Table,
        ids: Option<usize>,
        scorable: Option<&[bool]>,
        rows: std::ops::Range<usize>,
    ) -> Vec<u8> {
        let (start, n) = (rows.start, rows.len());
        let mut totals = vec![0i64; n];
        let mut reasons = vec![[None; MAX_REASONS]; n];
        batch.totals_and_reasons(start, &mut totals, &mut reasons);
        let also_points: Vec<(usize, Vec<i32>)> = self
            .also
            .iter()
            .map(|&c| {
                let mut points = vec![0; n];
                batch.points(c, start, &mut points);
                (c, points)
            })
            .collect();
        let mut out = Vec::with_capacity(n * 64);
        for (r, (&total, top)) in totals.iter().zip(&reasons).enumerate() {
            if let Some(c) = ids {
                if let Some(id) = table.text(c, start + r) {
                    push_csv_field(&mut out, &id);
                }
                out.push(b',');
            }
            if scorable.is_some_and(|s| !s[start + r]) {
                out.extend_from_slice(self.not_scored.as_bytes());
                continue;
            }
            match self.score_pd.get((total - self.low) as usize) {
                Some(t) => out.extend_from_slice(t.as_bytes()),
                None => out.extend_from_slice(score_pd(self.scorer, total).as_bytes()),
            }
            for c in top {
                out.push(b',');
                if let Some(c) = *c {
                    out.extend_from_slice(self.codes[c].as_bytes());
                    if batch.is_unseen(c, start + r) {
                        out.extend_from_slice(UNKNOWN_SUFFIX.as_bytes());
                    }
                }
            }
            let points = |c: usize| also_points.iter().find(|(a, _)| *a == c).map_or(i32::MAX, |(_, p)| p[r]);
            let mut told = 0;
            for c in self.scorer.told_after(&self.also, |c| top.contains(&Some(c)), points) {
                out.push(b',');
                out.extend_from_slice(self.codes[c].as_bytes());
                told += 1;
            }
            out.extend(std::iter::repeat_n(b',', self.also.len() - told));
            out.push(b'\n');
        }
        out
    }
}

fn score_pd(scorer: &Scorer, total: i64) -> String {
    let scored = scorer.scored(total);
    format!("{},{}", scored.score, scored.pd)
}
