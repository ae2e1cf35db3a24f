//! One module per subcommand, and the column-typing they share.

pub mod demo;
pub mod explain;
pub mod export;
pub mod features;
pub mod fit;
pub mod ingest;
pub mod log;
pub mod metro2;
pub mod org;
pub mod purge;
pub mod score;
pub mod serve;
pub mod simulate;
pub mod staff;
pub mod subject;
pub mod validate;

use anyhow::Result;
use candor_scorecard::{Column, Kind, Scorer, Values};
use candor_table::Table;

/// The columns a model needs, typed as the model expects, in model order, moved out of the
/// table where they can be (those columns then read as missing in it).
pub fn model_columns(scorer: &Scorer, table: &mut Table) -> Result<Vec<Column>> {
    let chars = &scorer.model().characteristics;
    let mut indices = Vec::with_capacity(chars.len());
    for c in chars {
        indices.push(table.index_of(&c.name)?);
    }
    // Numbers, and categories that arrived coded, move out of the table first; other
    // categorical columns, which need a pass of hashing each, are coded on several threads.
    let mut columns: Vec<Option<Column>> = Vec::with_capacity(chars.len());
    for (c, &i) in chars.iter().zip(&indices) {
        columns.push(match c.kind {
            Kind::Numeric => Some(Column { name: c.name.clone(), values: Values::Numeric(table.take_numbers(i)?) }),
            Kind::Categorical if table.is_coded(i) => Some(table.take_column(i, true)),
            Kind::Categorical => None,
        });
    }
    let pending: Vec<usize> = (0..chars.len()).filter(|&k| columns[k].is_none()).collect();
    let (table, indices) = (&*table, &indices);
    let coded: Vec<(usize, Column)> = std::thread::scope(|scope| {
        let handles: Vec<_> =
            pending.iter().map(|&k| scope.spawn(move || (k, table.column(indices[k], true)))).collect();
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    });
    for (k, col) in coded {
        columns[k] = Some(col);
    }
    columns
        .into_iter()
        .zip(chars)
        .map(|(c, ch)| c.ok_or_else(|| anyhow::anyhow!("column `{}` could not be read", ch.name)))
        .collect()
}

/// Splits a comma-separated list flag.
/// Which rows of `table` meet the minimum scoring criteria, or None when there are none (every
/// row is scored). Each criterion's column must be there and hold numbers.
pub fn scorable_rows(criteria: &[candor_scorecard::Criterion], table: &Table) -> Result<Option<Vec<bool>>> {
    if criteria.is_empty() {
        return Ok(None);
    }
    let mut columns = Vec::with_capacity(criteria.len());
    for c in criteria {
        match table.column(table.index_of(&c.column)?, false).values {
            Values::Numeric(v) => columns.push(v),
            Values::Categorical { .. } => anyhow::bail!(
                "{}: column `{}` of the minimum scoring criteria does not hold numbers",
                table.path().display(),
                c.column
            ),
        }
    }
    let slices: Vec<&[f64]> = columns.iter().map(Vec::as_slice).collect();
    Ok(Some(candor_scorecard::rows_meeting(criteria, &slices)))
}

/// Keeps the rows marked in `keep` of every column and of `bad`.
pub fn keep_rows(columns: &mut [Column], bad: &mut Vec<bool>, keep: &[bool]) {
    fn kept<T: Copy>(v: &[T], keep: &[bool]) -> Vec<T> {
        v.iter().zip(keep).filter(|(_, &k)| k).map(|(x, _)| *x).collect()
    }
    for c in columns.iter_mut() {
        match &mut c.values {
            Values::Numeric(v) => *v = kept(v, keep),
            Values::Categorical { codes, .. } => *codes = kept(codes, keep),
        }
    }
    *bad = kept(bad, keep);
}

pub fn list(items: &[String]) -> Vec<String> {
    items.iter().flat_map(|s| s.split(',')).map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect()
}
