//! `candor score`: score every row of a table, in input order, to CSV.
//!
//! The rows are scored in chunks, several chunks at once on as many threads, each chunk
//! formatted into its own buffer; buffers are written in order. Each characteristic's points
//! come from the engine's columnar batch scorer, reasons from the points' shortfalls, and the
//! probability of bad from a table of its text per points total (it depends on nothing else).

use std::path::PathBuf;

use anyhow::{Context, Result};
use candor_scorecard::{Batch, Scorer, MAX_REASONS};
use candor_table::{push_csv_field, ReadOptions, Table};

use crate::io::{load_model, progress, write_atomically};

/// Rows per chunk: big enough to amortise per-chunk work and keep the vector loops long,
/// small enough that a chunk's points (characteristics × rows × 4 bytes) stay in cache.
const CHUNK_ROWS: usize = 8_192;
/// Most totals whose probability text is prepared in advance; a wider points range (only
/// possible with extreme scaling) formats each row's instead.
const MAX_PD_TABLE: i64 = 1 << 20;

#[derive(clap::Args)]
pub struct Args {
    #[arg(long)]
    model: PathBuf,
    /// Rows to score (CSV with a header row, or Parquet).
    #[arg(long)]
    data: PathBuf,
    /// Where to write the scores (CSV): id (if the model has one), score, pd, reason1..reason4.
    #[arg(long)]
    out: PathBuf,
    /// Print how long each phase took, to standard error.
    #[arg(long)]
    timings: bool,
}

pub fn run(args: Args) -> Result<()> {
    let clock = crate::io::Timings::new(args.timings);
    let scorer = load_model(&args.model)?;
    let model = scorer.model();
    let mut wanted: Vec<String> = model.characteristics.iter().map(|c| c.name.clone()).collect();
    if let Some(id) = &model.id_column {
        wanted.push(id.clone());
    }
    let mut table = Table::read_with(&args.data, &ReadOptions { columns: Some(wanted), digest: false })?;
    clock.mark("read");
    let columns = super::model_columns(&scorer, &mut table)?;
    let ids = match &model.id_column {
        Some(id) => Some(table.index_of(id)?),
        None => None,
    };
    let values: Vec<_> = columns.iter().map(|c| &c.values).collect();
    let batch = scorer.batch(&values)?;
    let format = Format::new(&scorer);
    clock.mark("typed columns");

    let rows = table.rows();
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).min(16);
    let bar = progress(rows as u64, "scoring");
    write_atomically(&args.out, |w| {
        let mut header: Vec<String> = Vec::new();
        if let Some(id) = &model.id_column {
            header.push(id.clone());
        }
        header.extend(["score".to_string(), "pd".to_string()]);
        header.extend((1..=MAX_REASONS).map(|i| format!("reason{i}")));
        let mut line = Vec::new();
        for (i, h) in header.iter().enumerate() {
            if i > 0 {
                line.push(b',');
            }
            push_csv_field(&mut line, h);
        }
        line.push(b'\n');
        w.write_all(&line)?;
        let chunks: Vec<usize> = (0..rows).step_by(CHUNK_ROWS).collect();
        for wave in chunks.chunks(threads) {
            let buffers: Vec<Vec<u8>> = std::thread::scope(|scope| {
                let handles: Vec<_> = wave
                    .iter()
                    .map(|&start| {
                        let (batch, format, table) = (&batch, &format, &table);
                        scope.spawn(move || format.chunk(batch, table, ids, start, (start + CHUNK_ROWS).min(rows)))
                    })
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap_or_default()).collect()
            });
            for b in &buffers {
                w.write_all(b)?;
            }
            bar.set_position(wave.last().map(|&s| (s + CHUNK_ROWS).min(rows)).unwrap_or(0) as u64);
        }
        Ok(())
    })
    .with_context(|| format!("{}: cannot write the scores", args.out.display()))?;
    bar.finish_and_clear();
    clock.mark("scored and written");
    eprintln!("scored {rows} rows into {}", args.out.display());
    Ok(())
}

/// Everything per model that formatting a row needs.
struct Format<'s> {
    scorer: &'s Scorer,
    codes: Vec<&'s str>,
    /// `pd` text for totals `pd_low..pd_low + pd_text.len()`.
    pd_low: i64,
    pd_text: Vec<String>,
}

impl<'s> Format<'s> {
    fn new(scorer: &'s Scorer) -> Format<'s> {
        let chars = &scorer.model().characteristics;
        let low: i64 = chars.iter().map(|c| c.bins.iter().map(|b| b.points).min().unwrap_or(0) as i64).sum();
        let high: i64 = (0..chars.len()).map(|c| scorer.max_points(c) as i64).sum();
        let pd_text = if high - low < MAX_PD_TABLE {
            (low..=high).map(|t| scorer.scored(t).pd.to_string()).collect()
        } else {
            Vec::new()
        };
        Format { scorer, codes: chars.iter().map(|c| c.reason_code.as_str()).collect(), pd_low: low, pd_text }
    }

    fn chunk(&self, batch: &Batch<'_>, table: &Table, ids: Option<usize>, start: usize, end: usize) -> Vec<u8> {
        let n = end - start;
        let mut totals = vec![0i64; n];
        let mut reasons = vec![[None; MAX_REASONS]; n];
        batch.totals_and_reasons(start, &mut totals, &mut reasons);
        let mut out = Vec::with_capacity(n * 64);
        for (r, (&total, top)) in totals.iter().zip(&reasons).enumerate() {
            if let Some(c) = ids {
                if let Some(id) = table.text(c, start + r) {
                    push_csv_field(&mut out, &id);
                }
                out.push(b',');
            }
            let scored = self.scorer.scored(total);
            push_int(&mut out, scored.score as i64);
            out.push(b',');
            match self.pd_text.get((total - self.pd_low) as usize) {
                Some(t) => out.extend_from_slice(t.as_bytes()),
                None => out.extend_from_slice(scored.pd.to_string().as_bytes()),
            }
            for c in top {
                out.push(b',');
                if let Some(c) = *c {
                    out.extend_from_slice(self.codes[c].as_bytes());
                }
            }
            out.push(b'\n');
        }
        out
    }
}

fn push_int(out: &mut Vec<u8>, v: i64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    let mut x = v.unsigned_abs();
    loop {
        i -= 1;
        digits[i] = b'0' + (x % 10) as u8;
        x /= 10;
        if x == 0 {
            break;
        }
    }
    if v < 0 {
        out.push(b'-');
    }
    out.extend_from_slice(&digits[i..]);
}
