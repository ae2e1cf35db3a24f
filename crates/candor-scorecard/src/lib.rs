//! The scorecard engine: turns labelled columns into a points-based scorecard and scores rows with it.
//!
//! This crate is pure: it does no IO, reads no clock and uses no unseeded randomness. Everything
//! that varies between runs (the data digest, the creating tool's name) comes in as an argument,
//! so a model fitted twice on the same data is the same model, and every score is reproducible
//! from the model document alone.

mod batch;
mod binning;
mod data;
mod explain;
mod fit;
mod holdout;
mod identifier;
mod logistic;
pub mod metrics;
mod minimum;
mod model;
mod parallel;
mod protected;

pub use batch::Batch;
pub use binning::{BinningOptions, Trend};
pub use data::{Column, DataError, Values, MISSING_CODE};
pub use explain::{Change, Reason, Recourse, MAX_REASONS};
pub use fit::{
    fit, warnings, CharacteristicOutcome, CoefficientStats, FitError, FitMeta, FitOptions, FitReport, FitStage,
    SelectionOptions,
};
pub use holdout::{held_out, HeldOut, HELD_OUT_KEPT_NOTHING, MAX_HOLDOUT_TRAIN_ROWS};
pub use identifier::{identifies_rows, KEPT_OUT_AS_IDENTIFIER};
pub use minimum::{rows_meeting, Criterion, NOT_SCORED};
pub use model::{
    Bin, BinRule, Characteristic, Kind, Model, ModelError, Scaling, Scored, Scorer, TrainingSummary, Value,
    FORMAT_NAME, FORMAT_VERSION, UNKNOWN_SUFFIX,
};
pub use protected::looks_protected;

/// Uniform numbers in [0, 1) from a seeded linear congruential generator, for the unit tests'
/// data.
#[cfg(test)]
pub(crate) fn uniform(mut state: u64) -> impl FnMut() -> f64 {
    move || {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// SplitMix64's finaliser: a fixed scramble of a number, for seeded choices of rows (the
/// held-out split, the folds) that do not follow any pattern in the rows' order.
pub(crate) fn scramble(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
