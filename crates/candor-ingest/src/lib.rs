//! Submissions from furnishers and courts, in JSON Lines, CSV or Metro 2, turned into one
//! [`Batch`] for the store — or refused with every error listed.
//!
//! The JSON Lines and CSV forms share one record schema (`docs/batch-format.md`): a record is a
//! flat object whose `type` says what it is, and a field the schema does not name is refused by
//! name, so nothing the product forbids (location, contacts, health, religion, ...) can enter.
//! National identifiers are keyed and names and birth dates sealed here, at the edge; the store
//! never sees them. Negative information without the furnisher's attestation that the person was
//! notified beforehand is quarantined, not applied.

mod metro2;
mod record;

use candor_file::batch::Batch;
use candor_file::model::{OrgKind, Organisation};
use candor_file::secret::{Keys, NONCE_BYTES};
use sha2::{Digest, Sha256};
use time::Date;

pub use record::SCHEMA;

/// Most records in one submission; larger submissions are split by the sender.
pub const MAX_RECORDS: usize = 1_000_000;
/// Most errors listed for one refused submission; the rest are counted.
pub const MAX_ERRORS_LISTED: usize = 1_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    JsonLines,
    Csv,
    Metro2,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::JsonLines => "jsonl",
            Format::Csv => "csv",
            Format::Metro2 => "metro2",
        }
    }

    /// From a file name: `.jsonl`/`.ndjson`, `.csv`, else Metro 2 (`.dat`, `.txt`, `.m2`, ...).
    pub fn of_path(path: &str) -> Format {
        let lower = path.to_ascii_lowercase();
        if lower.ends_with(".jsonl") || lower.ends_with(".ndjson") {
            Format::JsonLines
        } else if lower.ends_with(".csv") {
            Format::Csv
        } else {
            Format::Metro2
        }
    }
}

/// One thing wrong with a submission: the record (1-based), the field, and what was expected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IngestError {
    pub record: usize,
    pub field: Option<String>,
    /// The consistency rule broken, when it is one.
    pub rule: Option<&'static str>,
    pub message: String,
}

impl std::fmt::Display for IngestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "record {}", self.record)?;
        if let Some(field) = &self.field {
            write!(f, ", field `{field}`")?;
        }
        if let Some(rule) = self.rule {
            write!(f, " [{rule}]")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// A refused submission: every error found, up to [`MAX_ERRORS_LISTED`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the submission was refused, nothing was applied ({total} errors):\n{}", .errors.iter().map(|e| format!("  {e}")).collect::<Vec<_>>().join("\n"))]
pub struct Refused {
    pub errors: Vec<IngestError>,
    pub total: usize,
}

/// What a submission needs besides its bytes.
pub struct Context<'a> {
    pub keys: &'a Keys,
    /// The submission's date: reports after its month are refused.
    pub today: Date,
    /// Fresh nonces for sealing names and birth dates.
    pub nonce: &'a mut dyn FnMut() -> [u8; NONCE_BYTES],
    /// Who sends a Metro 2 file (JSON Lines and CSV name their sender in the `batch` record).
    pub sender: Option<Organisation>,
    /// The sender attests, for a whole Metro 2 file, that every person with negative
    /// information in it was notified beforehand (Metro 2 has no field for it).
    pub notice_attested: bool,
}

/// Collects errors up to the listing limit, counting the rest.
#[derive(Default)]
pub(crate) struct Errors {
    list: Vec<IngestError>,
    total: usize,
}

impl Errors {
    pub(crate) fn push(&mut self, error: IngestError) {
        self.total += 1;
        if self.list.len() < MAX_ERRORS_LISTED {
            self.list.push(error);
        }
    }

    pub(crate) fn add(&mut self, record: usize, field: Option<&str>, message: impl Into<String>) {
        self.push(IngestError { record, field: field.map(str::to_owned), rule: None, message: message.into() });
    }

    fn finish(self, batch: Batch) -> Result<Batch, Refused> {
        if self.total == 0 {
            Ok(batch)
        } else {
            Err(Refused { errors: self.list, total: self.total })
        }
    }
}

/// Parses and checks a whole submission.
pub fn parse(bytes: &[u8], format: Format, ctx: &mut Context<'_>) -> Result<Batch, Refused> {
    let digest: [u8; 32] = Sha256::digest(bytes).into();
    let mut errors = Errors::default();
    let batch = match format {
        Format::JsonLines => record::parse_jsonl(bytes, digest, ctx, &mut errors),
        Format::Csv => record::parse_csv(bytes, digest, ctx, &mut errors),
        Format::Metro2 => metro2::parse(bytes, digest, ctx, &mut errors),
    };
    let batch = batch.unwrap_or_else(|| {
        Batch::new(
            digest,
            Organisation { id: unknown_sender(), kind: OrgKind::Lender, name: String::new() },
            format.as_str(),
        )
    });
    errors.finish(batch)
}

fn unknown_sender() -> candor_file::model::OrgId {
    candor_file::model::OrgId::parse("unknown").unwrap_or_else(|_| unreachable!("a valid literal id"))
}
