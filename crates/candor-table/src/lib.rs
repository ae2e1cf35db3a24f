//! Tabular input for the scorecard tools: a CSV file read into typed columns.
//!
//! This crate is the only one that knows the CSV format. It reads a whole file, keeps every
//! field as text, and types a column only when asked: numeric when every present value is a
//! finite number, categorical otherwise or when the caller says so. Every error names the file
//! and, where there is one, the line and the column.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use candor_scorecard::{Column, Values, MISSING_CODE};
use sha2::{Digest, Sha256};
use thiserror::Error;

/// Largest input file read, in bytes; a bigger training file belongs in Parquet.
pub const MAX_FILE_BYTES: u64 = 8 << 30;
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
    #[error("{path}: no column `{column}` (the header has: {available})")]
    UnknownColumn { path: PathBuf, column: String, available: String },
    #[error("{path}: line {line}, column `{column}`: the target is missing")]
    TargetMissing { path: PathBuf, line: u64, column: String },
    #[error("{path}: column `{column}`: the target must have exactly two values, found {found}")]
    TargetNotBinary { path: PathBuf, column: String, found: String },
    #[error("{path}: column `{column}`: the target has values {found}; say which one is bad with --bad-value (0/1 and good/bad are recognised)")]
    TargetAmbiguous { path: PathBuf, column: String, found: String },
    #[error("{path}: column `{column}`: the bad value `{bad}` does not occur (values: {found})")]
    BadValueAbsent { path: PathBuf, column: String, bad: String, found: String },
}

/// A CSV file held in memory as text columns.
#[derive(Debug)]
pub struct Table {
    path: PathBuf,
    headers: Vec<String>,
    /// Per column, all fields concatenated, and where each ends.
    text: Vec<String>,
    ends: Vec<Vec<usize>>,
    /// Line number of each data row, for error messages.
    lines: Vec<u64>,
    digest: String,
}

/// Whether a field counts as missing: empty, NA, NaN or null (any case).
pub fn is_missing(field: &str) -> bool {
    let f = field.trim();
    f.is_empty() || f.eq_ignore_ascii_case("na") || f.eq_ignore_ascii_case("nan") || f.eq_ignore_ascii_case("null")
}

/// Parses a present field as a finite number.
pub fn parse_number(field: &str) -> Option<f64> {
    field.trim().parse::<f64>().ok().filter(|x| x.is_finite())
}

impl Table {
    pub fn read(path: &Path) -> Result<Table, TableError> {
        let io = |source| TableError::Io { path: path.to_path_buf(), source };
        let meta = std::fs::metadata(path).map_err(io)?;
        if meta.len() > MAX_FILE_BYTES {
            return Err(TableError::TooLarge { path: path.to_path_buf() });
        }
        let bytes = std::fs::read(path).map_err(io)?;
        Table::from_bytes(path, &bytes)
    }

    pub fn from_bytes(path: &Path, bytes: &[u8]) -> Result<Table, TableError> {
        let path_buf = path.to_path_buf();
        let digest = format!("sha256:{:x}", Sha256::digest(bytes));
        let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(bytes);
        let mut record = csv::ByteRecord::new();
        let csv_err = |e: csv::Error| TableError::Csv {
            path: path_buf.clone(),
            line: e.position().map(|p| p.line()).unwrap_or(0),
            message: e.to_string(),
        };
        if !reader.read_byte_record(&mut record).map_err(csv_err)? {
            return Err(TableError::NoHeader { path: path_buf });
        }
        let header_line = record.position().map(|p| p.line()).unwrap_or(1);
        if record.len() > MAX_COLUMNS {
            return Err(TableError::TooManyColumns { path: path_buf });
        }
        let mut headers = Vec::with_capacity(record.len());
        let mut seen = HashSet::new();
        for (i, field) in record.iter().enumerate() {
            let name = std::str::from_utf8(field)
                .map_err(|_| TableError::Utf8 {
                    path: path_buf.clone(),
                    line: header_line,
                    column: format!("#{}", i + 1),
                })?
                .trim()
                .trim_start_matches('\u{feff}')
                .to_string();
            if !seen.insert(name.clone()) {
                return Err(TableError::DuplicateColumn { path: path_buf, line: header_line, column: name });
            }
            headers.push(name);
        }
        if headers.len() == 1 && headers[0].is_empty() {
            return Err(TableError::NoHeader { path: path_buf });
        }
        let width = headers.len();
        let mut text = vec![String::new(); width];
        let mut ends = vec![Vec::new(); width];
        let mut lines = Vec::new();
        while reader.read_byte_record(&mut record).map_err(csv_err)? {
            let line = record.position().map(|p| p.line()).unwrap_or(0);
            if record.len() == 1 && record[0].is_empty() && width > 1 {
                continue; // a blank line
            }
            if record.len() != width {
                return Err(TableError::Ragged { path: path_buf, line, expected: width, found: record.len() });
            }
            for (c, field) in record.iter().enumerate() {
                let s = std::str::from_utf8(field).map_err(|_| TableError::Utf8 {
                    path: path_buf.clone(),
                    line,
                    column: headers[c].clone(),
                })?;
                text[c].push_str(s);
                ends[c].push(text[c].len());
            }
            lines.push(line);
        }
        if lines.is_empty() {
            return Err(TableError::NoRows { path: path_buf });
        }
        Ok(Table { path: path_buf, headers, text, ends, lines, digest })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn headers(&self) -> &[String] {
        &self.headers
    }

    pub fn rows(&self) -> usize {
        self.lines.len()
    }

    /// `sha256:<hex>` of the file's bytes.
    pub fn digest(&self) -> &str {
        &self.digest
    }

    pub fn index_of(&self, column: &str) -> Result<usize, TableError> {
        self.headers.iter().position(|h| h == column).ok_or_else(|| TableError::UnknownColumn {
            path: self.path.clone(),
            column: column.to_string(),
            available: self.headers.join(", "),
        })
    }

    /// The text fields of column `c`, in row order.
    pub fn fields(&self, c: usize) -> impl Iterator<Item = &str> + '_ {
        let text = &self.text[c];
        let ends = &self.ends[c];
        (0..ends.len()).map(move |r| {
            let start = if r == 0 { 0 } else { ends[r - 1] };
            &text[start..ends[r]]
        })
    }

    pub fn line(&self, row: usize) -> u64 {
        self.lines[row]
    }

    /// Column `c` typed: numeric if every present value is a finite number and `categorical`
    /// is false, categorical otherwise.
    pub fn column(&self, c: usize, categorical: bool) -> Column {
        let name = self.headers[c].clone();
        if !categorical {
            let numbers: Option<Vec<f64>> =
                self.fields(c).map(|f| if is_missing(f) { Some(f64::NAN) } else { parse_number(f) }).collect();
            if let Some(v) = numbers {
                return Column { name, values: Values::Numeric(v) };
            }
        }
        let mut levels: Vec<String> = Vec::new();
        let mut index = std::collections::HashMap::new();
        let codes = self
            .fields(c)
            .map(|f| {
                if is_missing(f) {
                    return MISSING_CODE;
                }
                let f = f.trim();
                *index.entry(f).or_insert_with(|| {
                    levels.push(f.to_string());
                    (levels.len() - 1) as u32
                })
            })
            .collect();
        Column { name, values: Values::Categorical { codes, levels } }
    }

    /// The target column as "is bad" flags. `bad_value` names the bad value; without it, 0/1
    /// (1 bad) and good/bad (any case) are recognised.
    pub fn target(&self, column: &str, bad_value: Option<&str>) -> Result<Vec<bool>, TableError> {
        let c = self.index_of(column)?;
        let mut distinct: Vec<&str> = Vec::new();
        for (row, f) in self.fields(c).enumerate() {
            if is_missing(f) {
                return Err(TableError::TargetMissing {
                    path: self.path.clone(),
                    line: self.lines[row],
                    column: column.to_string(),
                });
            }
            let f = f.trim();
            if !distinct.contains(&f) {
                distinct.push(f);
                if distinct.len() > 2 {
                    break;
                }
            }
        }
        let list = |d: &[&str]| d.iter().map(|v| format!("`{v}`")).collect::<Vec<_>>().join(", ");
        if distinct.len() != 2 {
            let more = if distinct.len() > 2 { " and more" } else { "" };
            return Err(TableError::TargetNotBinary {
                path: self.path.clone(),
                column: column.to_string(),
                found: format!("{}{more}", list(&distinct)),
            });
        }
        let is_bad: Box<dyn Fn(&str) -> bool> = match bad_value {
            Some(b) => {
                if !distinct.contains(&b) {
                    return Err(TableError::BadValueAbsent {
                        path: self.path.clone(),
                        column: column.to_string(),
                        bad: b.to_string(),
                        found: list(&distinct),
                    });
                }
                let b = b.to_string();
                Box::new(move |f| f == b)
            }
            None => {
                let numbers: Vec<Option<f64>> = distinct.iter().map(|d| parse_number(d)).collect();
                let lower: Vec<String> = distinct.iter().map(|d| d.to_ascii_lowercase()).collect();
                if numbers.iter().all(|n| matches!(n, Some(x) if *x == 0.0 || *x == 1.0)) {
                    Box::new(|f| parse_number(f) == Some(1.0))
                } else if lower.iter().any(|l| l == "bad") && lower.iter().any(|l| l == "good") {
                    Box::new(|f| f.eq_ignore_ascii_case("bad"))
                } else {
                    return Err(TableError::TargetAmbiguous {
                        path: self.path.clone(),
                        column: column.to_string(),
                        found: list(&distinct),
                    });
                }
            }
        };
        Ok(self.fields(c).map(|f| is_bad(f.trim())).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(csv: &str) -> Result<Table, TableError> {
        Table::from_bytes(Path::new("t.csv"), csv.as_bytes())
    }

    fn err(csv: &str) -> String {
        match table(csv) {
            Ok(_) => "ok".into(),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn reading_errors_name_file_line_and_column() {
        let cases = [
            ("", "t.csv: the file is empty (no header row)"),
            ("a,b\n", "t.csv: the file has a header but no data rows"),
            ("a,b\n1,2\n3\n", "t.csv: line 3: expected 2 fields as in the header, found 1"),
            ("a,a\n1,2\n", "t.csv: line 1: header names column `a` twice"),
            ("a,b\n1,2\n\n3,4\n", "ok"),
        ];
        for (input, want) in cases {
            assert_eq!(err(input), want, "input {input:?}");
        }
    }

    #[test]
    fn columns_are_typed_by_content_and_missing_tokens_are_recognised() {
        let t = table("n,c,m\n1,x,\n2.5,y,NA\nnull,NA,nan\n").unwrap_or_else(|e| panic!("{e}"));
        let Values::Numeric(n) = t.column(0, false).values else { panic!("n should be numeric") };
        assert_eq!(n[..2], [1.0, 2.5]);
        assert!(n[2].is_nan());
        let Values::Categorical { codes, levels } = t.column(1, false).values else {
            panic!("c should be categorical")
        };
        assert_eq!(levels, ["x", "y"]);
        assert_eq!(codes, [0, 1, MISSING_CODE]);
        let Values::Categorical { levels, .. } = t.column(0, true).values else { panic!("forced categorical") };
        assert_eq!(levels, ["1", "2.5"]);
    }

    #[test]
    fn target_must_be_two_valued_and_the_bad_value_known() {
        let t = |csv: &str, bad: Option<&str>| match table(csv).and_then(|t| t.target("y", bad)) {
            Ok(v) => format!("{v:?}"),
            Err(e) => e.to_string(),
        };
        assert_eq!(t("y\n0\n1\n1\n", None), "[false, true, true]");
        assert_eq!(t("y\ngood\nBAD\n", None), "[false, true]");
        assert_eq!(t("y\nyes\nno\n", Some("yes")), "[true, false]");
        assert_eq!(t("y\n1\n1\n", None), "t.csv: column `y`: the target must have exactly two values, found `1`");
        assert_eq!(
            t("y\n0\n1\n2\n", None),
            "t.csv: column `y`: the target must have exactly two values, found `0`, `1`, `2` and more"
        );
        assert_eq!(t("y\n0\nNA\n1\n", None), "t.csv: line 3, column `y`: the target is missing");
        assert_eq!(
            t("y\nyes\nno\n", None),
            "t.csv: column `y`: the target has values `yes`, `no`; say which one is bad with --bad-value (0/1 and good/bad are recognised)"
        );
        assert_eq!(t("x\n1\n", None), "t.csv: no column `y` (the header has: x)");
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..400)) {
            if let Ok(t) = Table::from_bytes(Path::new("f.csv"), &bytes) {
                for c in 0..t.headers().len() {
                    let _ = t.column(c, false);
                    let _ = t.target(&t.headers()[c].clone(), None);
                }
            }
        }
    }
}
