//! Row identifiers: a column that only names its rows (a customer number, a pandas index
//! written out as `Unnamed: 0`, R's `rownames`) carries no evidence about credit; binned, it can
//! only fit noise or the order the file was written in. A careless fit would use it all the same.

use crate::data::{Column, Values};
use crate::protected::name_words;

/// Why a column that identifies rows is kept out, as the fit's note and its report say it.
pub const KEPT_OUT_AS_IDENTIFIER: &str =
    "its name says it identifies rows and no two rows share a value, so it carries no evidence about credit";

/// The words of a column name that say it identifies rows.
const ID_WORDS: &[&str] = &["id", "ids", "uuid", "guid", "identifier", "rownames", "rowid", "index", "unnamed"];

/// Whether `column` identifies rows: its name says so (one of its words is `id`, `index`,
/// `unnamed`, ..., or it has no name at all) and no two rows share a value (whole numbers, for a
/// numeric column: a measurement named an index, such as a price index, is not an identifier).
pub fn identifies_rows(column: &Column) -> bool {
    let words = name_words(&column.name);
    let named = words.is_empty() || words.iter().any(|w| ID_WORDS.contains(&w.as_str()));
    named && all_distinct(&column.values)
}

/// Whether the column holds at least two values, none of them twice (missing values aside), and
/// only whole numbers if it is numeric.
fn all_distinct(values: &Values) -> bool {
    match values {
        Values::Numeric(v) => {
            let mut x: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
            if x.len() < 2 || x.iter().any(|x| x.fract() != 0.0) {
                return false;
            }
            x.sort_unstable_by(f64::total_cmp);
            x.windows(2).all(|w| w[0] != w[1])
        }
        Values::Categorical { codes, levels } => {
            let mut seen = vec![false; levels.len()];
            let mut present = 0;
            for &c in codes {
                let Some(s) = seen.get_mut(c as usize) else { continue };
                if *s {
                    return false;
                }
                *s = true;
                present += 1;
            }
            present >= 2
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numeric(name: &str, v: &[f64]) -> Column {
        Column { name: name.into(), values: Values::Numeric(v.to_vec()) }
    }

    fn categorical(name: &str, codes: &[u32], levels: usize) -> Column {
        let levels = (0..levels).map(|i| format!("L{i}")).collect();
        Column { name: name.into(), values: Values::Categorical { codes: codes.to_vec(), levels } }
    }

    #[test]
    fn a_column_named_as_an_identifier_with_a_value_per_row_is_one() {
        let distinct = [3.0, 1.0, 2.0, f64::NAN, 7.0];
        for name in ["id", "ID", "loan_id", "customerID", "SK_ID_CURR", "Unnamed: 0", "rownames", "", "row index"] {
            assert!(identifies_rows(&numeric(name, &distinct)), "{name}");
        }
        assert!(identifies_rows(&categorical("application_id", &[0, 2, 1, crate::MISSING_CODE], 3)));
    }

    #[test]
    fn a_shared_value_a_fraction_or_another_name_is_not_an_identifier() {
        // Two rows share a value.
        assert!(!identifies_rows(&numeric("id", &[1.0, 2.0, 2.0])));
        assert!(!identifies_rows(&categorical("id", &[0, 1, 1], 2)));
        // Measurements named an index.
        assert!(!identifies_rows(&numeric("price_index", &[101.3, 99.8, 100.1])));
        // Names that merely contain the letters.
        for name in ["paid", "paid_amount", "idle_days", "valid", "IDType", "amount"] {
            assert!(!identifies_rows(&numeric(name, &[1.0, 2.0, 3.0])), "{name}");
        }
        // Fewer than two values.
        assert!(!identifies_rows(&numeric("id", &[1.0, f64::NAN])));
    }
}
