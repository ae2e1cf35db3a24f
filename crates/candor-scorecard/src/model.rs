//! The model document (a versioned, human-readable scorecard) and the scorer compiled from it.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::binning::Trend;

pub const FORMAT_NAME: &str = "candor-scorecard";
pub const FORMAT_VERSION: u32 = 1;

/// What a characteristic's reason code gets after it when the row's value is a category the
/// model never saw in training: the row is scored in the characteristic's riskiest group (no
/// benefit of the doubt), and the reason says the value was not known (`purpose:unknown`).
pub const UNKNOWN_SUFFIX: &str = ":unknown";

/// How log-odds become points: `base_points` at good:bad odds of `base_odds`, and `pdo` more
/// points each time the odds double; totals are clamped to `[min_score, max_score]`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Scaling {
    pub base_points: f64,
    pub base_odds: f64,
    pub pdo: f64,
    pub min_score: i32,
    pub max_score: i32,
}

impl Default for Scaling {
    fn default() -> Self {
        Scaling { base_points: 600.0, base_odds: 50.0, pdo: 20.0, min_score: 300, max_score: 900 }
    }
}

impl Scaling {
    pub fn check(&self) -> Result<(), String> {
        if !(self.pdo.is_finite() && self.pdo > 0.0) {
            return Err(format!("points to double the odds must be positive, got {}", self.pdo));
        }
        if !(self.base_odds.is_finite() && self.base_odds > 0.0) {
            return Err(format!("base odds must be positive, got {}", self.base_odds));
        }
        if !self.base_points.is_finite() {
            return Err("base points must be a finite number".into());
        }
        if self.min_score >= self.max_score {
            return Err(format!("the minimum score {} must be below the maximum {}", self.min_score, self.max_score));
        }
        Ok(())
    }

    /// Points per unit of ln(odds).
    pub fn factor(&self) -> f64 {
        self.pdo / std::f64::consts::LN_2
    }

    /// Points at ln(odds) = 0.
    pub fn offset(&self) -> f64 {
        self.base_points - self.factor() * self.base_odds.ln()
    }

    /// Probability of bad implied by an (unclamped) points total.
    pub fn pd(&self, total_points: i64) -> f64 {
        let ln_odds_good = (total_points as f64 - self.offset()) / self.factor();
        1.0 / (1.0 + ln_odds_good.exp())
    }

    pub fn clamp(&self, total_points: i64) -> i32 {
        total_points.clamp(self.min_score as i64, self.max_score as i64) as i32
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Numeric,
    Categorical,
}

/// Which values fall in a bin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum BinRule {
    /// `lower <= x < upper`; an absent bound is unbounded.
    Range {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        lower: Option<f64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        upper: Option<f64>,
    },
    /// Exactly this declared special value.
    Special {
        value: f64,
    },
    /// These categories; `other` also takes every category not seen in training.
    Categories {
        categories: Vec<String>,
        #[serde(default)]
        other: bool,
    },
    Missing,
}

impl BinRule {
    /// A short human description, used in reports and reason sentences.
    pub fn label(&self) -> String {
        let (l, u) = match self {
            BinRule::Range { lower, upper } => (lower.map(readable), upper.map(readable)),
            _ => (None, None),
        };
        match self {
            BinRule::Range { lower: None, upper: None } => "any value".into(),
            BinRule::Range { lower: None, upper: Some(_) } => format!("below {}", u.unwrap_or_default()),
            BinRule::Range { lower: Some(_), upper: None } => format!("{} or more", l.unwrap_or_default()),
            BinRule::Range { lower: Some(_), upper: Some(_) } => {
                format!("from {} to below {}", l.unwrap_or_default(), u.unwrap_or_default())
            }
            BinRule::Special { value } => format!("the special value {value}"),
            BinRule::Missing => "missing".into(),
            BinRule::Categories { categories, other } => {
                let mut s = categories.iter().map(|c| format!("\"{c}\"")).collect::<Vec<_>>().join(", ");
                if *other {
                    if !s.is_empty() {
                        s.push_str(", or ");
                    }
                    s.push_str("a category not seen in training");
                }
                s
            }
        }
    }

    /// Whether a person could move into this bin by acting (not by becoming missing or special).
    pub fn is_attainable(&self) -> bool {
        matches!(self, BinRule::Range { .. } | BinRule::Categories { .. })
    }
}

/// A cut point as people read it: at most four significant digits (`0.1277`, not
/// `0.12772207676096814`; `5577`, not `5577.32`); whole numbers stay whole. The model keeps the
/// exact cut.
fn readable(x: f64) -> String {
    if x == x.trunc() && x.abs() < 1e15 {
        return format!("{x}");
    }
    let digits = 4 - (x.abs().log10().floor() as i32 + 1);
    let places = digits.clamp(0, 12) as usize;
    let s = format!("{x:.places$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bin {
    pub rule: BinRule,
    /// Training rows in the bin, and how many of them were bad.
    pub count: u64,
    pub bads: u64,
    pub woe: f64,
    pub points: i32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Characteristic {
    pub name: String,
    pub kind: Kind,
    /// Stable code for reasons about this characteristic.
    pub reason_code: String,
    /// Whether a person can act on it; only actionable characteristics appear in recourse.
    pub actionable: bool,
    pub trend: Trend,
    pub iv: f64,
    /// Logistic regression coefficient on the weight of evidence (log-odds of bad).
    pub coefficient: f64,
    pub bins: Vec<Bin>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingSummary {
    pub rows: u64,
    pub bads: u64,
    /// Digest of the training data as the caller computed it (e.g. `sha256:<hex>` of the file).
    pub data_digest: String,
    /// The training scores' distribution, the reference for stability (PSI): band edges (a
    /// score `s` is in band `k` where `k` counts edges `<= s`) and each band's share of rows.
    #[serde(default)]
    pub score_edges: Vec<f64>,
    #[serde(default)]
    pub score_shares: Vec<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Model {
    pub format: String,
    pub format_version: u32,
    pub created_by: String,
    pub target: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_column: Option<String>,
    pub training: TrainingSummary,
    pub scaling: Scaling,
    pub intercept: f64,
    pub characteristics: Vec<Characteristic>,
    /// Minimum scoring criteria: a row failing one gets no score ([`crate::NOT_SCORED`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub minimum: Vec<crate::Criterion>,
}

/// One input value for one characteristic.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Missing,
    Number(f64),
    Text(String),
}

#[derive(Debug, Error, PartialEq)]
pub enum ModelError {
    #[error("not a Candor scorecard (format `{0}`)")]
    Format(String),
    #[error("model format version {0} is not supported (this build reads version {FORMAT_VERSION})")]
    Version(u32),
    #[error("scaling: {0}")]
    Scaling(String),
    #[error("characteristic `{name}`: {why}")]
    Characteristic { name: String, why: String },
    #[error("the model has no characteristics")]
    Empty,
    #[error("minimum scoring criteria: {0}")]
    Minimum(String),
    #[error("characteristic `{name}` is numeric but got the text {value:?}")]
    NotANumber { name: String, value: String },
}

/// The result of scoring one row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scored {
    /// The score reported: the points total clamped to the scaling's range.
    pub score: i32,
    /// The sum of the points of every characteristic, before clamping.
    pub total_points: i64,
    /// Probability of bad implied by the total.
    pub pd: f64,
}

/// A model checked and compiled for fast scoring. Owns the model.
#[derive(Debug, Clone)]
pub struct Scorer {
    model: Model,
    lookups: Vec<Lookup>,
    max_points: Vec<i32>,
}

/// Finds the bin a value falls in by the bins' rules.
#[derive(Debug, Clone)]
pub(crate) enum Lookup {
    Numeric { uppers: Vec<f64>, ranges: Vec<usize>, specials: Vec<(f64, usize)>, missing: usize },
    Categorical { by_name: HashMap<String, usize>, other: usize, missing: usize },
}

impl Lookup {
    /// The bin of a number (missing when not finite) for a numeric lookup; a categorical one
    /// reads it as the category it spells.
    pub(crate) fn number(&self, x: f64) -> usize {
        match self {
            Lookup::Numeric { uppers, ranges, specials, missing } => {
                if !x.is_finite() {
                    return *missing;
                }
                if let Some(&(_, b)) = specials.iter().find(|(s, _)| *s == x) {
                    return b;
                }
                ranges[uppers.partition_point(|&u| u <= x)]
            }
            Lookup::Categorical { .. } => self.category(&x.to_string()),
        }
    }

    /// The bin of a category: its own, or the one taking categories not seen in training.
    pub(crate) fn category(&self, name: &str) -> usize {
        match self {
            Lookup::Categorical { by_name, other, .. } => by_name.get(name).copied().unwrap_or(*other),
            Lookup::Numeric { missing, .. } => *missing,
        }
    }

    pub(crate) fn missing(&self) -> usize {
        match self {
            Lookup::Numeric { missing, .. } | Lookup::Categorical { missing, .. } => *missing,
        }
    }
}

impl Scorer {
    pub fn new(model: Model) -> Result<Scorer, ModelError> {
        if model.format != FORMAT_NAME {
            return Err(ModelError::Format(model.format));
        }
        if model.format_version != FORMAT_VERSION {
            return Err(ModelError::Version(model.format_version));
        }
        model.scaling.check().map_err(ModelError::Scaling)?;
        if model.characteristics.is_empty() {
            return Err(ModelError::Empty);
        }
        for c in &model.minimum {
            c.check().map_err(ModelError::Minimum)?;
        }
        let mut lookups = Vec::with_capacity(model.characteristics.len());
        for c in &model.characteristics {
            let bad = |why: String| ModelError::Characteristic { name: c.name.clone(), why };
            lookups.push(compile(c).map_err(bad)?);
        }
        let max_points =
            model.characteristics.iter().map(|c| c.bins.iter().map(|b| b.points).max().unwrap_or(0)).collect();
        Ok(Scorer { model, lookups, max_points })
    }

    pub fn model(&self) -> &Model {
        &self.model
    }

    pub fn into_model(self) -> Model {
        self.model
    }

    /// The highest points characteristic `c` can give.
    pub fn max_points(&self, c: usize) -> i32 {
        self.max_points[c]
    }

    /// The bin of characteristic `c` that `value` falls in.
    pub fn bin_of(&self, c: usize, value: &Value) -> Result<usize, ModelError> {
        let lookup = &self.lookups[c];
        Ok(match (lookup, value) {
            (_, Value::Missing) => lookup.missing(),
            (_, Value::Number(x)) => lookup.number(*x),
            (Lookup::Numeric { .. }, Value::Text(t)) => {
                return Err(ModelError::NotANumber {
                    name: self.model.characteristics[c].name.clone(),
                    value: t.clone(),
                })
            }
            (Lookup::Categorical { .. }, Value::Text(t)) => lookup.category(t),
        })
    }

    /// Whether `value` is a category characteristic `c` never saw in training (scored in the
    /// bin that takes unseen categories). Numbers and missing values are never unseen.
    pub fn is_unseen(&self, c: usize, value: &Value) -> bool {
        match (&self.lookups[c], value) {
            (Lookup::Categorical { by_name, .. }, Value::Text(t)) => !by_name.contains_key(t),
            (Lookup::Categorical { by_name, .. }, Value::Number(x)) => !by_name.contains_key(&x.to_string()),
            _ => false,
        }
    }

    /// Where a score stands among the training scores: its band (1 = lowest) of how many, and
    /// the share of the training rows in lower bands. None for a model without the distribution.
    pub fn band(&self, score: i32) -> Option<(usize, usize, f64)> {
        let t = &self.model().training;
        if t.score_shares.is_empty() || t.score_shares.len() != t.score_edges.len() + 1 {
            return None;
        }
        let k = t.score_edges.iter().filter(|&&e| e <= f64::from(score)).count();
        let below: f64 = t.score_shares[..k].iter().sum();
        Some((k + 1, t.score_shares.len(), below))
    }

    /// Scores a row given the bin of every characteristic, in model order.
    pub fn score_bins(&self, bins: impl IntoIterator<Item = usize>) -> Scored {
        let total: i64 = bins.into_iter().zip(&self.model.characteristics).map(|(b, c)| c.bins[b].points as i64).sum();
        self.scored(total)
    }

    pub fn scored(&self, total_points: i64) -> Scored {
        let s = &self.model.scaling;
        Scored { score: s.clamp(total_points), total_points, pd: s.pd(total_points) }
    }

    /// Whether a row meets the minimum scoring criteria, given each criterion's value (in the
    /// model's order of criteria). A model without criteria scores every row.
    pub fn meets_minimum(&self, value: impl Fn(usize) -> f64) -> bool {
        self.model.minimum.iter().enumerate().all(|(i, c)| c.holds(value(i)))
    }

    /// Scores one row given by value per characteristic, in model order.
    pub fn score_values(&self, values: &[Value]) -> Result<(Scored, Vec<usize>), ModelError> {
        let bins = values.iter().enumerate().map(|(c, v)| self.bin_of(c, v)).collect::<Result<Vec<_>, _>>()?;
        Ok((self.score_bins(bins.iter().copied()), bins))
    }
}

fn compile(c: &Characteristic) -> Result<Lookup, String> {
    if c.bins.iter().any(|b| !b.woe.is_finite()) {
        return Err("a bin's weight of evidence is not a finite number".into());
    }
    let rules: Vec<&BinRule> = c.bins.iter().map(|b| &b.rule).collect();
    Lookup::from_rules(c.kind, &rules)
}

impl Lookup {
    /// The lookup of bins with these rules, in this order; an error says why the rules do not
    /// place every value in exactly one bin.
    pub(crate) fn from_rules(kind: Kind, rules: &[&BinRule]) -> Result<Lookup, String> {
        let missing: Vec<usize> = (0..rules.len()).filter(|&i| *rules[i] == BinRule::Missing).collect();
        let [missing] = missing[..] else {
            return Err(format!("needs exactly one missing bin, has {}", missing.len()));
        };
        match kind {
            Kind::Numeric => {
                let mut ranges: Vec<(Option<f64>, Option<f64>, usize)> = Vec::new();
                let mut specials = Vec::new();
                for (i, rule) in rules.iter().enumerate() {
                    match rule {
                        BinRule::Range { lower, upper } => ranges.push((*lower, *upper, i)),
                        BinRule::Special { value } if value.is_finite() => specials.push((*value, i)),
                        BinRule::Special { .. } => return Err("a special value is not a finite number".into()),
                        BinRule::Missing => {}
                        BinRule::Categories { .. } => return Err("a numeric characteristic has a category bin".into()),
                    }
                }
                ranges.sort_by(|a, b| a.0.unwrap_or(f64::NEG_INFINITY).total_cmp(&b.0.unwrap_or(f64::NEG_INFINITY)));
                // The ranges must tile the real line: open below, open above, each upper the next lower.
                let tiles = !ranges.is_empty()
                    && ranges[0].0.is_none()
                    && ranges[ranges.len() - 1].1.is_none()
                    && ranges
                        .windows(2)
                        .all(|w| matches!((w[0].1, w[1].0), (Some(u), Some(l)) if u == l && u.is_finite()))
                    && ranges.iter().all(|r| match (r.0, r.1) {
                        (Some(l), Some(u)) => l < u,
                        _ => true,
                    });
                if !tiles {
                    return Err("the ranges do not cover every number exactly once".into());
                }
                let uppers = ranges[..ranges.len() - 1].iter().filter_map(|r| r.1).collect();
                Ok(Lookup::Numeric { uppers, ranges: ranges.iter().map(|r| r.2).collect(), specials, missing })
            }
            Kind::Categorical => {
                let mut by_name = HashMap::new();
                let mut other = None;
                for (i, rule) in rules.iter().enumerate() {
                    match rule {
                        BinRule::Categories { categories, other: o } => {
                            for name in categories {
                                if by_name.insert(name.clone(), i).is_some() {
                                    return Err(format!("category \"{name}\" is in two bins"));
                                }
                            }
                            if *o {
                                if other.is_some() {
                                    return Err("more than one bin takes unseen categories".into());
                                }
                                other = Some(i);
                            }
                        }
                        BinRule::Missing => {}
                        _ => return Err("a categorical characteristic has a numeric bin".into()),
                    }
                }
                let other = other.ok_or("no bin takes categories not seen in training")?;
                Ok(Lookup::Categorical { by_name, other, missing })
            }
        }
    }
}

#[cfg(test)]
mod label_tests {
    use super::{readable, BinRule};

    #[test]
    fn cut_points_read_as_people_write_numbers() {
        for (x, shown) in [
            (0.12772207676096814, "0.1277"),
            (0.2148510242085661, "0.2149"),
            (5577.32, "5577"),
            (1591.53, "1592"),
            (12.0, "12"),
            (-1.5, "-1.5"),
            (0.0004567, "0.0004567"),
            (123456.7, "123457"),
        ] {
            assert_eq!(readable(x), shown, "{x}");
        }
        let r = BinRule::Range { lower: Some(0.12772207676096814), upper: Some(0.2148510242085661) };
        assert_eq!(r.label(), "from 0.1277 to below 0.2149");
    }
}
