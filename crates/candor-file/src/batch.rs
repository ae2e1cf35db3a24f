//! One submission, parsed and checked, ready to apply: what ingestion makes and the store
//! applies, whole or not at all. Identifiers are already keyed and names sealed.

use crate::ids::{Scheme, SubjectKey};
use crate::model::{Account, Closure, CourtRecord, Inquiry, Organisation, Report};

/// A subject as a batch identifies it: the keyed hash and what may be kept beside it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubjectEntry {
    pub key: SubjectKey,
    pub scheme: Scheme,
    pub masked: String,
    pub region: Option<String>,
    pub name_sealed: Option<Vec<u8>>,
    pub birth_sealed: Option<Vec<u8>>,
}

impl SubjectEntry {
    /// The entry for a parsed identifier under its keyed hash: scheme, masked tail and region,
    /// with nothing sealed yet.
    pub fn of(key: SubjectKey, id: &crate::ids::NationalId) -> SubjectEntry {
        SubjectEntry {
            key,
            scheme: id.scheme(),
            masked: id.masked(),
            region: id.region(),
            name_sealed: None,
            birth_sealed: None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportEntry {
    pub record: usize,
    pub subject: SubjectKey,
    pub reference: String,
    pub report: Report,
    /// Reconstructed from a payment history rather than reported for its month (Metro 2's
    /// 24-month profile): stored only where the file has no report for that month yet.
    pub derived: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClosureEntry {
    pub record: usize,
    pub case_number: String,
    pub day: time::Date,
    pub outcome: Closure,
}

/// A negative record held back for want of the furnisher's attestation that the person was
/// notified beforehand.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Quarantined {
    pub record: usize,
    pub subject: SubjectKey,
    pub rule: &'static str,
    pub message: String,
}

/// One submission, parsed and checked, ready to apply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Batch {
    /// SHA-256 of the submitted bytes: the same submission twice is applied once.
    pub digest: [u8; 32],
    /// Who sent it; accounts and reports are this furnisher's, closures this court's.
    pub sender: Organisation,
    pub format: &'static str,
    pub records: usize,
    pub subjects: Vec<SubjectEntry>,
    pub accounts: Vec<(SubjectKey, Account)>,
    pub reports: Vec<ReportEntry>,
    pub inquiries: Vec<(SubjectKey, Inquiry)>,
    pub court_records: Vec<(SubjectKey, CourtRecord)>,
    pub closures: Vec<ClosureEntry>,
    pub quarantined: Vec<Quarantined>,
}

impl Batch {
    pub fn new(digest: [u8; 32], sender: Organisation, format: &'static str) -> Batch {
        Batch {
            digest,
            sender,
            format,
            records: 0,
            subjects: Vec::new(),
            accounts: Vec::new(),
            reports: Vec::new(),
            inquiries: Vec::new(),
            court_records: Vec::new(),
            closures: Vec::new(),
            quarantined: Vec::new(),
        }
    }
}
