//! One module per subcommand, and the column-typing they share.

pub mod explain;
pub mod export;
pub mod fit;
pub mod score;
pub mod validate;

use anyhow::Result;
use candor_scorecard::{Column, Kind, Scorer, Values};
use candor_table::Table;

/// The columns a model needs, typed as the model expects, in model order.
pub fn model_columns(scorer: &Scorer, table: &Table) -> Result<Vec<Column>> {
    scorer
        .model()
        .characteristics
        .iter()
        .map(|c| {
            let i = table.index_of(&c.name)?;
            match c.kind {
                Kind::Categorical => Ok(table.column(i, true)),
                Kind::Numeric => Ok(Column { name: c.name.clone(), values: Values::Numeric(table.numbers(i)?) }),
            }
        })
        .collect()
}

/// Bins of every row for every characteristic: `bins[c][row]`.
pub fn bin_all(scorer: &Scorer, columns: &[Column]) -> Result<Vec<Vec<u16>>> {
    columns
        .iter()
        .enumerate()
        .map(|(c, col)| {
            let mut out = Vec::with_capacity(col.values.len());
            scorer.bin_column(c, &col.values, &mut out)?;
            Ok(out)
        })
        .collect()
}

/// Splits a comma-separated list flag.
pub fn list(items: &[String]) -> Vec<String> {
    items.iter().flat_map(|s| s.split(',')).map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect()
}
