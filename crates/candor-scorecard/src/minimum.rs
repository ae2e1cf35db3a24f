//! Minimum scoring criteria: what a row must show before it is scored at all.
//!
//! A scorecard says nothing true about a row with too little behind it (a credit file with no
//! recent report, or no account old enough): scored anyway, it lands where the training data's
//! thin rows happened to land, often near the top. A model may carry criteria; a row failing any
//! of them gets no score and the one stable reason code [`NOT_SCORED`], on every path that scores
//! (the engine's, `candor score`, the SQL and PMML exports, the bureau's service), and is left
//! out of the rows a model is fitted and validated on.

use serde::{Deserialize, Serialize};

/// The reason code of a row that is not scored because it fails the minimum criteria.
pub const NOT_SCORED: &str = "not_enough_history";

/// One criterion: the column's value is present and within the bounds given (inclusive).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Criterion {
    pub column: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_least: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_most: Option<f64>,
}

impl Criterion {
    /// Whether `x` meets it: a number (not missing) within the bounds.
    pub fn holds(&self, x: f64) -> bool {
        x.is_finite() && self.at_least.is_none_or(|l| x >= l) && self.at_most.is_none_or(|u| x <= u)
    }

    /// Whether the criterion can be met by some number and says something.
    pub fn check(&self) -> Result<(), String> {
        if self.column.trim().is_empty() {
            return Err("a minimum criterion names no column".into());
        }
        if self.at_least.is_none() && self.at_most.is_none() {
            return Err(format!("the minimum criterion on `{}` has no bound", self.column));
        }
        if self.at_least.is_some_and(|l| !l.is_finite()) || self.at_most.is_some_and(|u| !u.is_finite()) {
            return Err(format!("the minimum criterion on `{}` has a bound that is not a number", self.column));
        }
        if let (Some(l), Some(u)) = (self.at_least, self.at_most) {
            if l > u {
                return Err(format!(
                    "the minimum criterion on `{}` asks for at least {l} and at most {u}",
                    self.column
                ));
            }
        }
        Ok(())
    }
}

impl std::fmt::Display for Criterion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.at_least, self.at_most) {
            (Some(l), Some(u)) => write!(f, "{l}<={}<={u}", self.column),
            (Some(l), None) => write!(f, "{}>={l}", self.column),
            (None, Some(u)) => write!(f, "{}<={u}", self.column),
            (None, None) => write!(f, "{} present", self.column),
        }
    }
}

impl std::str::FromStr for Criterion {
    type Err = String;

    /// `COL>=X` or `COL<=X`.
    fn from_str(text: &str) -> Result<Criterion, String> {
        let (column, bound, at_least) = if let Some((c, x)) = text.split_once(">=") {
            (c, x, true)
        } else if let Some((c, x)) = text.split_once("<=") {
            (c, x, false)
        } else {
            return Err(format!("`{text}`: expected COLUMN>=NUMBER or COLUMN<=NUMBER"));
        };
        let x: f64 = bound.trim().parse().map_err(|_| format!("`{text}`: `{}` is not a number", bound.trim()))?;
        let column = column.trim().to_owned();
        let c = if at_least {
            Criterion { column, at_least: Some(x), at_most: None }
        } else {
            Criterion { column, at_least: None, at_most: Some(x) }
        };
        c.check().map_err(|e| format!("`{text}`: {e}"))?;
        Ok(c)
    }
}

/// Which rows meet every criterion, given each criterion's column (in the same order).
pub fn rows_meeting(criteria: &[Criterion], columns: &[&[f64]]) -> Vec<bool> {
    let rows = columns.first().map_or(0, |c| c.len());
    (0..rows).map(|r| criteria.iter().zip(columns).all(|(c, v)| v.get(r).is_some_and(|&x| c.holds(x)))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn criteria_read_hold_and_refuse() {
        let c: Criterion = "months_of_history>=6".parse().expect("parses");
        assert_eq!(c, Criterion { column: "months_of_history".into(), at_least: Some(6.0), at_most: None });
        assert!(c.holds(6.0) && c.holds(40.0));
        assert!(!c.holds(5.0) && !c.holds(f64::NAN), "missing never meets a criterion");
        let r: Criterion = " months_since_last_report <= 5 ".parse().expect("parses");
        assert!(r.holds(0.0) && r.holds(5.0) && !r.holds(6.0));
        assert_eq!(r.to_string(), "months_since_last_report<=5");
        for bad in ["months", "x>=", "x>=y", ">=3", "x<=inf", "x>=NaN"] {
            assert!(bad.parse::<Criterion>().is_err(), "{bad}");
        }
        let both = Criterion { column: "x".into(), at_least: Some(2.0), at_most: Some(1.0) };
        assert!(both.check().is_err());
        let rows = rows_meeting(&[c, r], &[&[6.0, 7.0, f64::NAN, 9.0], &[0.0, 6.0, 0.0, 5.0]]);
        assert_eq!(rows, [true, false, false, true]);
    }
}
