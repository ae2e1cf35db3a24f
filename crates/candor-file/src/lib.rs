//! The credit file's domain, with no IO and no clock: who a subject is ([`ids`], keyed by
//! [`secret::Keys`]), what the file holds ([`model`]), which incoming records are inconsistent
//! ([`rules`]), what may still be shown ([`retention`]) and the characteristics computed from a
//! file ([`features`]), and aggregate statistics that never show a cell of fewer than k people
//! ([`stats`]), and a checked submission ready to apply ([`batch`]).
//!
//! Storage, ingestion formats and time come from the crates that use it; dates and "today" are
//! arguments here, so every computation can be replayed.

pub mod activation;
pub mod batch;
pub mod claim;
pub mod disputes;
pub mod features;
pub mod ids;
pub mod model;
pub mod retention;
pub mod rules;
pub mod secret;
pub mod stats;
pub mod text;

pub use time::Date;
