//! Metro 2, the file format furnishers use to report accounts to credit bureaus.
//!
//! [`read`] takes a whole file in any of its three physical forms — fixed 426-byte character
//! records, "packed" 366-byte records with binary numbers and dates, and variable-length records
//! with block descriptor words — and returns its header, its data records (a base segment with
//! any J1, J2, K1–K4, L1 and N1 segments) and its trailer. [`write`] turns a [`File`] back into
//! bytes, and [`json`] converts to and from the JSON form of the open-source peer
//! `moov-io/metro2`, whose field names it uses. Every field is typed and checked while reading:
//! a bad byte gives an [`Error`] naming the record, the segment, the field and what was found,
//! never a panic.
//!
//! This crate knows the format only. What the fields mean for a credit file — which subject, which
//! account, which month — is decided by the ingestion code that uses it.

mod field;
pub mod json;
pub mod layout;
mod read;
mod write;

use std::fmt;

pub use read::{read, read_segment};
pub use write::write;

use layout::Layout;
pub use time::{Date, PrimitiveDateTime};

/// One decoded field value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Text(String),
    Int(i64),
    Date(Option<Date>),
    Stamp(Option<PrimitiveDateTime>),
}

impl Value {
    pub fn is_empty(&self) -> bool {
        match self {
            Value::Text(s) => s.is_empty(),
            Value::Int(v) => *v == 0,
            Value::Date(d) => d.is_none(),
            Value::Stamp(t) => t.is_none(),
        }
    }
}

/// A header, trailer, base segment or appended segment with its values in layout order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    pub layout: &'static Layout,
    /// Block descriptor word, when the record was (or is to be) written in a block.
    pub bdw: Option<u32>,
    /// Record descriptor word: the record's length including segments and padding. Zero for
    /// appended segments, which have none.
    pub rdw: u32,
    pub values: Vec<Value>,
}

impl Record {
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.layout.field(name).map(|i| &self.values[i])
    }

    /// A text field's value, or "" when the layout has no such text field.
    pub fn text(&self, name: &str) -> &str {
        match self.get(name) {
            Some(Value::Text(s)) => s,
            _ => "",
        }
    }

    /// A numeric field's value, or 0.
    pub fn int(&self, name: &str) -> i64 {
        match self.get(name) {
            Some(Value::Int(v)) => *v,
            _ => 0,
        }
    }

    pub fn date(&self, name: &str) -> Option<Date> {
        match self.get(name) {
            Some(Value::Date(d)) => *d,
            Some(Value::Stamp(t)) => t.map(|t| t.date()),
            _ => None,
        }
    }

    /// A record of this layout with every field empty.
    pub fn empty(layout: &'static Layout) -> Record {
        let values = layout
            .fields
            .iter()
            .map(|f| match f.kind {
                _ if f.is_reserved() => Value::Text(String::new()),
                layout::Kind::Text => Value::Text(String::new()),
                layout::Kind::Number | layout::Kind::PackedNumber => Value::Int(0),
                layout::Kind::Date | layout::Kind::PackedDate => Value::Date(None),
                layout::Kind::Timestamp | layout::Kind::PackedTimestamp => Value::Stamp(None),
            })
            .collect();
        Record { layout, bdw: None, rdw: 0, values }
    }
}

/// A base segment and the segments appended to it, in file order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataRecord {
    pub base: Record,
    pub segments: Vec<Record>,
}

impl DataRecord {
    /// The appended segments of one kind ("j1", "k2", ...).
    pub fn segments_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Record> + 'a {
        self.segments.iter().filter(move |s| s.layout.name == name)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// 426-byte records, numbers and dates as characters.
    Character,
    /// 366-byte records, numbers and dates in binary.
    Packed,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct File {
    pub format: Format,
    pub header: Record,
    pub data: Vec<DataRecord>,
    pub trailer: Record,
}

/// What went wrong and where: the record (1-based, header = 1), the segment and the field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    pub record: usize,
    pub segment: &'static str,
    pub field: Option<&'static str>,
    pub problem: String,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.record > 0 {
            write!(f, "record {}", self.record)?;
            if !self.segment.is_empty() {
                write!(f, " ({} segment)", self.segment)?;
            }
        } else if !self.segment.is_empty() {
            write!(f, "{}", self.segment)?;
        } else {
            write!(f, "file")?;
        }
        if let Some(field) = self.field {
            write!(f, ", field `{field}`")?;
        }
        write!(f, ": {}", self.problem)
    }
}

impl std::error::Error for Error {}

impl Error {
    pub(crate) fn at(record: usize, segment: &'static str, problem: impl Into<String>) -> Error {
        Error { record, segment, field: None, problem: problem.into() }
    }
}
