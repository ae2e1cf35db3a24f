//! Columns as the engine sees them: numbers (NaN is missing) or categories (coded, with levels).

use thiserror::Error;

/// The code a categorical value takes when it is missing.
pub const MISSING_CODE: u32 = u32::MAX;

#[derive(Debug, Clone, PartialEq)]
pub enum Values {
    /// One number per row; `NaN` (or any value that is not finite) is missing.
    Numeric(Vec<f64>),
    /// One code per row into `levels`; [`MISSING_CODE`] marks a missing value.
    Categorical { codes: Vec<u32>, levels: Vec<String> },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: String,
    pub values: Values,
}

#[derive(Debug, Error, PartialEq)]
pub enum DataError {
    #[error("column `{column}` has {got} rows but the target has {expected}")]
    LengthMismatch { column: String, got: usize, expected: usize },
    #[error("column `{column}` row {row} has category code {code} but only {levels} levels")]
    BadCode { column: String, row: usize, code: u32, levels: usize },
}

impl Values {
    pub fn len(&self) -> usize {
        match self {
            Values::Numeric(v) => v.len(),
            Values::Categorical { codes, .. } => codes.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Column {
    pub fn numeric(name: impl Into<String>, values: Vec<f64>) -> Column {
        Column { name: name.into(), values: Values::Numeric(values) }
    }

    /// Builds a categorical column from optional strings, assigning codes in order of first
    /// appearance.
    pub fn categorical<S: AsRef<str>>(name: impl Into<String>, values: &[Option<S>]) -> Column {
        let mut levels: Vec<String> = Vec::new();
        let mut index = std::collections::HashMap::new();
        let codes = values
            .iter()
            .map(|v| match v {
                None => MISSING_CODE,
                Some(s) => *index.entry(s.as_ref().to_string()).or_insert_with(|| {
                    levels.push(s.as_ref().to_string());
                    (levels.len() - 1) as u32
                }),
            })
            .collect();
        Column { name: name.into(), values: Values::Categorical { codes, levels } }
    }

    pub(crate) fn check(&self, rows: usize) -> Result<(), DataError> {
        if self.values.len() != rows {
            return Err(DataError::LengthMismatch {
                column: self.name.clone(),
                got: self.values.len(),
                expected: rows,
            });
        }
        if let Values::Categorical { codes, levels } = &self.values {
            if let Some((row, &code)) =
                codes.iter().enumerate().find(|(_, &c)| c != MISSING_CODE && c as usize >= levels.len())
            {
                return Err(DataError::BadCode { column: self.name.clone(), row, code, levels: levels.len() });
            }
        }
        Ok(())
    }
}
