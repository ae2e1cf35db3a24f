//! Exports a scorecard to formats other engines run: one SQL SELECT, and a PMML 4.4
//! `Scorecard`. This crate is the only one that knows SQL text and PMML.
//!
//! Both reproduce the engine exactly: each characteristic's bins become, in the engine's order
//! of precedence (missing, special values, ranges or category sets, then the rest), conditions
//! carrying the bin's integer points; the points are summed and clamped.

mod pmml;
mod sql;

pub use pmml::to_pmml;
pub use sql::{to_sql, Dialect};
