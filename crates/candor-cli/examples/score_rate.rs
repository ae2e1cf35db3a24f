//! Measures in-memory batch scoring: a model's points for every row of decoded columns, on one
//! thread, excluding reading and writing. `cargo run --release --example score_rate -- MODEL DATA`.

use std::time::Instant;

use candor_scorecard::{Column, Kind, Model, Scorer, Values};
use candor_table::Table;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let (model, data) = match &args[..] {
        [_, m, d] => (m, d),
        _ => anyhow::bail!("usage: score_rate MODEL DATA"),
    };
    let model: Model = serde_json::from_str(&std::fs::read_to_string(model)?)?;
    let scorer = Scorer::new(model)?;
    let table = Table::read(std::path::Path::new(data))?;
    let columns: Vec<Column> = scorer
        .model()
        .characteristics
        .iter()
        .map(|c| {
            let i = table.index_of(&c.name)?;
            Ok(match c.kind {
                Kind::Numeric => Column { name: c.name.clone(), values: Values::Numeric(table.numbers(i)?) },
                Kind::Categorical => table.column(i, true),
            })
        })
        .collect::<anyhow::Result<_>>()?;
    let values: Vec<&Values> = columns.iter().map(|c| &c.values).collect();
    let batch = scorer.batch(&values)?;
    let rows = batch.rows();
    const CHUNK: usize = 4096;
    let mut totals = vec![0f64; CHUNK];
    let mut best = f64::INFINITY;
    let mut checksum = 0i64;
    for _ in 0..15 {
        let t = Instant::now();
        for start in (0..rows).step_by(CHUNK) {
            let n = CHUNK.min(rows - start);
            batch.totals(start, &mut totals[..n]);
            checksum = checksum.wrapping_add(totals[..n].iter().sum::<f64>() as i64);
        }
        best = best.min(t.elapsed().as_secs_f64());
    }
    println!(
        "{{\"rows\": {rows}, \"characteristics\": {}, \"seconds\": {best:.4}, \"rows_per_second\": {:.0}, \"checksum\": {checksum}}}",
        batch.characteristics(),
        rows as f64 / best
    );
    Ok(())
}
