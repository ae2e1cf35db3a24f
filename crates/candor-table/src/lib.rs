//! Tabular input for the scorecard tools: a CSV or Parquet file read into typed columns.
//!
//! This crate is the only one that knows the CSV and Parquet formats (it also writes the
//! features table, in `parquet_out.rs`). A CSV file keeps every
//! field as text and types a column only when asked: numeric when every present value is a
//! finite number, categorical otherwise or when the caller says so. A Parquet file's columns
//! arrive typed. Every error names the file and, where there is one, the line (CSV) or row
//! (Parquet) and the column.

mod csv_file;
mod parquet_file;
mod parquet_out;

pub use parquet_out::{ParquetWriter, ROWS_PER_GROUP};

use rustc_hash::FxHashMap;
use std::borrow::Cow;
use std::path::{Path, PathBuf};

use candor_scorecard::{Column, Values, MISSING_CODE};
use sha2::{Digest, Sha256};
use thiserror::Error;

/// Largest input file read, in bytes.
pub const MAX_FILE_BYTES: u64 = 16 << 30;
/// Most columns in a file.
pub const MAX_COLUMNS: usize = 10_000;

#[derive(Debug, Error)]
pub enum TableError {
    #[error("{path}: cannot read: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: the file is larger than the {MAX_FILE_BYTES}-byte limit")]
    TooLarge { path: PathBuf },
    #[error("{path}: the file is empty (no header row)")]
    NoHeader { path: PathBuf },
    #[error("{path}: the file has a header but no data rows")]
    NoRows { path: PathBuf },
    #[error("{path}: more than {MAX_COLUMNS} columns")]
    TooManyColumns { path: PathBuf },
    #[error("{path}: line {line}: header names column `{column}` twice")]
    DuplicateColumn { path: PathBuf, line: u64, column: String },
    #[error("{path}: line {line}: expected {expected} fields as in the header, found {found}")]
    Ragged { path: PathBuf, line: u64, expected: usize, found: usize },
    #[error("{path}: line {line}: {message}")]
    Csv { path: PathBuf, line: u64, message: String },
    #[error("{path}: line {line}, column `{column}`: the value is not valid UTF-8")]
    Utf8 { path: PathBuf, line: u64, column: String },
    #[error("{path}: not a readable Parquet file: {message}")]
    Parquet { path: PathBuf, message: String },
    #[error("{path}: cannot write Parquet: {message}")]
    ParquetWrite { path: PathBuf, message: String },
    #[error("{path}: column `{column}` has Parquet type {kind}, which is neither a number nor a string")]
    ParquetType { path: PathBuf, column: String, kind: String },
    #[error("{path}: no column `{column}` (the header has: {available})")]
    UnknownColumn { path: PathBuf, column: String, available: String },
    #[error("{path}: {place}, column `{column}`: expected a number, found {value:?}")]
    NotANumber { path: PathBuf, place: String, column: String, value: String },
    #[error("{path}: {place}, column `{column}`: the target is missing")]
    TargetMissing { path: PathBuf, place: String, column: String },
    #[error("{path}: column `{column}`: the target must have exactly two values, found {found}")]
    TargetNotBinary { path: PathBuf, column: String, found: String },
    #[error("{path}: column `{column}`: the target has values {found}; say which one is bad with --bad-value (0/1 and good/bad are recognised)")]
    TargetAmbiguous { path: PathBuf, column: String, found: String },
    #[error("{path}: column `{column}`: the bad value `{bad}` does not occur (values: {found})")]
    BadValueAbsent { path: PathBuf, column: String, bad: String, found: String },
}

/// What to read of a file.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// Only these columns (all must exist); `None` reads every column.
    pub columns: Option<Vec<String>>,
    /// Compute the `sha256` digest of the file's bytes.
    pub digest: bool,
    /// String columns wanted as categories: a Parquet file read in batches codes them from its
    /// dictionaries ([`Table::take_column`] then moves the codes out). Elsewhere no effect.
    pub categorical: Vec<String>,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions { columns: None, digest: true, categorical: Vec::new() }
    }
}

/// One column as stored.
#[derive(Debug)]
enum Stored {
    /// CSV fields and Parquet strings: the text of every value concatenated, and where each
    /// ends. A Parquet null is an empty string, which reads as missing.
    Text { text: String, ends: Vec<usize> },
    /// Parquet numbers; NaN is missing.
    Numbers(Vec<f64>),
    /// Parquet strings read as categories: a code per row (`MISSING_CODE` for missing) into
    /// trimmed, distinct, non-missing levels.
    Coded { codes: Vec<u32>, levels: Vec<String> },
    /// Moved out by [`Table::take_column`]; reads as missing.
    Taken,
}

/// A table held in memory.
#[derive(Debug)]
pub struct Table {
    path: PathBuf,
    headers: Vec<String>,
    columns: Vec<Stored>,
    rows: usize,
    /// CSV only: the line number of each data row, for error messages.
    lines: Option<Vec<u64>>,
    digest: String,
    /// Parquet read in batches: the file's row index of this table's first row.
    first_row: usize,
}

impl Stored {
    /// Values held; `None` once taken.
    fn len(&self) -> Option<usize> {
        match self {
            Stored::Text { ends, .. } => Some(ends.len()),
            Stored::Numbers(v) => Some(v.len()),
            Stored::Coded { codes, .. } => Some(codes.len()),
            Stored::Taken => None,
        }
    }
}

/// Whether a text field counts as missing: empty, NA, NaN or null (any case).
pub fn is_missing(field: &str) -> bool {
    let f = field.trim();
    f.is_empty() || f.eq_ignore_ascii_case("na") || f.eq_ignore_ascii_case("nan") || f.eq_ignore_ascii_case("null")
}

/// Parses a present field as a finite number.
pub fn parse_number(field: &str) -> Option<f64> {
    field.trim().parse::<f64>().ok().filter(|x| x.is_finite())
}

fn is_parquet(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("parquet") || e.eq_ignore_ascii_case("pq"))
}

impl Table {
    /// Reads a file: Parquet when its name ends in `.parquet` or `.pq`, CSV otherwise.
    pub fn read(path: &Path) -> Result<Table, TableError> {
        Table::read_with(path, &ReadOptions::default())
    }

    /// Reads a file with options: only some columns (Parquet decodes no others; every name
    /// must exist), and the digest skipped when nobody needs it.
    pub fn read_with(path: &Path, options: &ReadOptions) -> Result<Table, TableError> {
        let io = |source| TableError::Io { path: path.to_path_buf(), source };
        let meta = std::fs::metadata(path).map_err(io)?;
        if meta.len() > MAX_FILE_BYTES {
            return Err(TableError::TooLarge { path: path.to_path_buf() });
        }
        let only = options.columns.as_deref();
        let table = if is_parquet(path) {
            let source = parquet_file::Source::map(path)?;
            if options.digest {
                // The digest is taken on a thread of its own while the columns decode.
                let bytes = source.shared_bytes();
                std::thread::scope(|s| {
                    let digest = s.spawn(|| digest(&bytes));
                    let mut table = parquet_file::read(path, source, String::new(), only)?;
                    table.digest = digest.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
                    Ok::<_, TableError>(table)
                })?
            } else {
                parquet_file::read(path, source, String::new(), only)?
            }
        } else {
            let bytes = std::fs::read(path).map_err(io)?;
            let d = if options.digest { digest(&bytes) } else { String::new() };
            csv_file::read(path, &bytes, d)?
        };
        if let Some(names) = &options.columns {
            for n in names {
                table.index_of(n)?;
            }
        }
        Ok(table)
    }

    /// Reads a file in tables of at most `batch_rows` rows, in order, handing each to `each`:
    /// a Parquet file read without its digest streams, decoding ahead on other threads while
    /// `each` works, in memory of a few batches; anything else is read whole, as one table.
    /// Stops at the first error, from the file or from `each`.
    pub fn read_in_batches<E: From<TableError>>(
        path: &Path,
        options: &ReadOptions,
        batch_rows: usize,
        mut each: impl FnMut(Table) -> Result<(), E>,
    ) -> Result<(), E> {
        if !is_parquet(path) || options.digest {
            return each(Table::read_with(path, options)?);
        }
        let meta = std::fs::metadata(path).map_err(|source| TableError::Io { path: path.to_path_buf(), source })?;
        if meta.len() > MAX_FILE_BYTES {
            return Err(TableError::TooLarge { path: path.to_path_buf() }.into());
        }
        parquet_file::read_batches(path, options.columns.as_deref(), &options.categorical, batch_rows.max(1), each)
    }

    /// Rows in a Parquet file by its footer, read without decoding anything; `None` for CSV
    /// or a file that cannot be read (reading it says why).
    pub fn parquet_rows(path: &Path) -> Option<u64> {
        is_parquet(path).then(|| parquet_file::rows(path)).flatten()
    }

    /// Reads CSV from memory; `path` only names it in errors.
    pub fn from_bytes(path: &Path, bytes: &[u8]) -> Result<Table, TableError> {
        csv_file::read(path, bytes, digest(bytes))
    }

    /// Reads Parquet from memory; `path` only names it in errors.
    pub fn from_parquet_bytes(path: &Path, bytes: Vec<u8>) -> Result<Table, TableError> {
        let d = digest(&bytes);
        parquet_file::read(path, parquet_file::Source::bytes(bytes), d, None)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn headers(&self) -> &[String] {
        &self.headers
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    /// `sha256:<hex>` of the file's bytes (empty when read without it).
    pub fn digest(&self) -> &str {
        &self.digest
    }

    /// Where row `row` is, for messages: "line N" in CSV, "row N" (from 1) in Parquet.
    pub fn place(&self, row: usize) -> String {
        match &self.lines {
            Some(lines) => format!("line {}", lines[row]),
            None => format!("row {}", self.first_row + row + 1),
        }
    }

    pub fn index_of(&self, column: &str) -> Result<usize, TableError> {
        self.headers.iter().position(|h| h == column).ok_or_else(|| TableError::UnknownColumn {
            path: self.path.clone(),
            column: column.to_string(),
            available: self.headers.join(", "),
        })
    }

    /// The value of column `c` in row `row` as text; `None` when missing.
    pub fn text(&self, c: usize, row: usize) -> Option<Cow<'_, str>> {
        match &self.columns[c] {
            Stored::Text { text, ends } => {
                let start = if row == 0 { 0 } else { ends[row - 1] };
                let f = text[start..ends[row]].trim();
                (!is_missing(f)).then_some(Cow::Borrowed(f))
            }
            Stored::Numbers(v) => (!v[row].is_nan()).then(|| Cow::Owned(v[row].to_string())),
            Stored::Coded { codes, levels } => levels.get(codes[row] as usize).map(|l| Cow::Borrowed(l.as_str())),
            Stored::Taken => None,
        }
    }

    /// Column `c` as numbers (NaN for missing), or an error at the first value that is not one.
    pub fn numbers(&self, c: usize) -> Result<Vec<f64>, TableError> {
        match &self.columns[c] {
            Stored::Numbers(v) => Ok(v.clone()),
            Stored::Taken => Ok(vec![f64::NAN; self.rows]),
            Stored::Text { .. } | Stored::Coded { .. } => (0..self.rows)
                .map(|row| match self.text(c, row) {
                    None => Ok(f64::NAN),
                    Some(t) => parse_number(&t).ok_or_else(|| self.not_a_number(c, row, &t)),
                })
                .collect(),
        }
    }

    fn not_a_number(&self, c: usize, row: usize, value: &str) -> TableError {
        TableError::NotANumber {
            path: self.path.clone(),
            place: self.place(row),
            column: self.headers[c].clone(),
            value: value.to_string(),
        }
    }

    /// Column `c` typed: numeric if every present value is a finite number and `categorical`
    /// is false, categorical otherwise.
    pub fn column(&self, c: usize, categorical: bool) -> Column {
        let name = self.headers[c].clone();
        match &self.columns[c] {
            Stored::Numbers(v) if !categorical => return Column { name, values: Values::Numeric(v.clone()) },
            Stored::Coded { codes, levels } if categorical => {
                return Column { name, values: Values::Categorical { codes: codes.clone(), levels: levels.clone() } }
            }
            Stored::Text { .. } | Stored::Coded { .. } if !categorical => {
                if let Ok(v) = self.numbers(c) {
                    return Column { name, values: Values::Numeric(v) };
                }
            }
            _ => {}
        }
        let mut levels: Vec<String> = Vec::new();
        let mut index: FxHashMap<String, u32> = FxHashMap::default();
        let codes = (0..self.rows)
            .map(|row| match self.text(c, row) {
                None => MISSING_CODE,
                Some(t) => {
                    if let Some(&code) = index.get(t.as_ref()) {
                        return code;
                    }
                    levels.push(t.to_string());
                    index.insert(t.into_owned(), (levels.len() - 1) as u32);
                    (levels.len() - 1) as u32
                }
            })
            .collect();
        Column { name, values: Values::Categorical { codes, levels } }
    }

    /// Column `c` typed as by [`Table::column`], moving numbers out of the table rather than
    /// copying them; a column taken that way reads as missing afterwards.
    pub fn take_column(&mut self, c: usize, categorical: bool) -> Column {
        if !categorical && matches!(self.columns[c], Stored::Numbers(_)) {
            if let Stored::Numbers(v) = std::mem::replace(&mut self.columns[c], Stored::Taken) {
                return Column { name: self.headers[c].clone(), values: Values::Numeric(v) };
            }
        }
        if categorical && matches!(self.columns[c], Stored::Coded { .. }) {
            if let Stored::Coded { codes, levels } = std::mem::replace(&mut self.columns[c], Stored::Taken) {
                return Column { name: self.headers[c].clone(), values: Values::Categorical { codes, levels } };
            }
        }
        self.column(c, categorical)
    }

    /// Whether column `c` arrived coded as categories (see [`ReadOptions::categorical`]).
    pub fn is_coded(&self, c: usize) -> bool {
        matches!(self.columns[c], Stored::Coded { .. })
    }

    /// Column `c` as numbers, moved out of the table when it holds Parquet numbers (see
    /// [`Table::take_column`]), parsed from text otherwise.
    pub fn take_numbers(&mut self, c: usize) -> Result<Vec<f64>, TableError> {
        if let Stored::Numbers(_) = self.columns[c] {
            if let Stored::Numbers(v) = std::mem::replace(&mut self.columns[c], Stored::Taken) {
                return Ok(v);
            }
        }
        self.numbers(c)
    }

    /// The target column as "is bad" flags. `bad_value` names the bad value; without it, 0/1
    /// (1 bad) and good/bad (any case) are recognised.
    pub fn target(&self, column: &str, bad_value: Option<&str>) -> Result<Vec<bool>, TableError> {
        let c = self.index_of(column)?;
        let mut distinct: Vec<String> = Vec::new();
        for row in 0..self.rows {
            let Some(f) = self.text(c, row) else {
                return Err(TableError::TargetMissing {
                    path: self.path.clone(),
                    place: self.place(row),
                    column: column.to_string(),
                });
            };
            if !distinct.iter().any(|d| d == f.as_ref()) {
                distinct.push(f.into_owned());
                // A fourth value is enough to say there are more than three.
                if distinct.len() > 3 {
                    break;
                }
            }
        }
        let list = |d: &[String]| d.iter().map(|v| format!("`{v}`")).collect::<Vec<_>>().join(", ");
        if distinct.len() != 2 {
            let (shown, more) = match distinct.len() {
                n if n > 3 => (&distinct[..3], " and more"),
                _ => (&distinct[..], ""),
            };
            return Err(TableError::TargetNotBinary {
                path: self.path.clone(),
                column: column.to_string(),
                found: format!("{}{more}", list(shown)),
            });
        }
        let bad: String = match bad_value {
            Some(b) if distinct.iter().any(|d| d == b) => b.to_string(),
            Some(b) => {
                return Err(TableError::BadValueAbsent {
                    path: self.path.clone(),
                    column: column.to_string(),
                    bad: b.to_string(),
                    found: list(&distinct),
                })
            }
            None => {
                let numbers: Vec<Option<f64>> = distinct.iter().map(|d| parse_number(d)).collect();
                if numbers.iter().all(|n| matches!(n, Some(x) if *x == 0.0 || *x == 1.0)) {
                    let one = numbers.iter().position(|n| *n == Some(1.0)).unwrap_or(0);
                    distinct[one].clone()
                } else if let (Some(b), true) = (
                    distinct.iter().find(|d| d.eq_ignore_ascii_case("bad")),
                    distinct.iter().any(|d| d.eq_ignore_ascii_case("good")),
                ) {
                    b.clone()
                } else {
                    return Err(TableError::TargetAmbiguous {
                        path: self.path.clone(),
                        column: column.to_string(),
                        found: list(&distinct),
                    });
                }
            }
        };
        Ok((0..self.rows).map(|row| self.text(c, row).is_some_and(|t| t == bad.as_str())).collect())
    }
}

/// Appends `field` to a CSV line, quoted when it holds a comma, a quote or a line break.
pub fn push_csv_field(line: &mut Vec<u8>, field: &str) {
    if field.bytes().any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r')) {
        line.push(b'"');
        for b in field.bytes() {
            if b == b'"' {
                line.push(b'"');
            }
            line.push(b);
        }
        line.push(b'"');
    } else {
        line.extend_from_slice(field.as_bytes());
    }
}

fn digest(bytes: &[u8]) -> String {
    format!("sha256:{:x}", Sha256::digest(bytes))
}

#[cfg(test)]
mod tests;
