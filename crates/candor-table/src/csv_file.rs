//! CSV: a header row, then one record per row, every field kept as text.

use std::collections::HashSet;
use std::path::Path;

use crate::{Stored, Table, TableError, MAX_COLUMNS};

pub(crate) fn read(path: &Path, bytes: &[u8], digest: String) -> Result<Table, TableError> {
    let path_buf = path.to_path_buf();
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(bytes);
    let mut record = csv::ByteRecord::new();
    // Lines are counted here, from each record's byte offset: the csv crate's own count falls one
    // behind in a file with CRLF endings (as Excel and Windows write them).
    let line_of = |byte: u64| line_at(bytes, byte);
    let csv_err = |e: csv::Error| TableError::Csv {
        path: path_buf.clone(),
        line: e.position().map_or(0, |p| line_of(p.byte())),
        message: e.to_string(),
    };
    if !reader.read_byte_record(&mut record).map_err(csv_err)? {
        return Err(TableError::NoHeader { path: path_buf });
    }
    let header_line = record.position().map_or(1, |p| line_of(p.byte()));
    if record.len() > MAX_COLUMNS {
        return Err(TableError::TooManyColumns { path: path_buf });
    }
    let mut headers = Vec::with_capacity(record.len());
    let mut seen = HashSet::new();
    for (i, field) in record.iter().enumerate() {
        let name = std::str::from_utf8(field)
            .map_err(|_| TableError::Utf8 { path: path_buf.clone(), line: header_line, column: format!("#{}", i + 1) })?
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
    let mut lines_so_far = LineCount::default();
    while reader.read_byte_record(&mut record).map_err(csv_err)? {
        let line = record.position().map_or(0, |p| lines_so_far.at(bytes, p.byte()));
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
    let columns = text.into_iter().zip(ends).map(|(text, ends)| Stored::Text { text, ends }).collect();
    Ok(Table { path: path_buf, headers, columns, rows: lines.len(), lines: Some(lines), digest, first_row: 0 })
}

/// The line (from 1) holding byte `byte` of `bytes`.
fn line_at(bytes: &[u8], byte: u64) -> u64 {
    LineCount::default().at(bytes, byte)
}

/// Lines counted up to a byte offset, carried on from the last offset asked for, so a pass over
/// every record in order counts each byte once.
#[derive(Default)]
struct LineCount {
    byte: usize,
    newlines: u64,
}

impl LineCount {
    fn at(&mut self, bytes: &[u8], byte: u64) -> u64 {
        let mut to = usize::try_from(byte).unwrap_or(usize::MAX).min(bytes.len());
        // After a CRLF the csv crate places the next record at the LF: its first byte is past it.
        while to < bytes.len() && matches!(bytes[to], b'\r' | b'\n') {
            to += 1;
        }
        if to < self.byte {
            *self = LineCount::default();
        }
        self.newlines += bytes[self.byte..to].iter().filter(|&&b| b == b'\n').count() as u64;
        self.byte = to;
        self.newlines + 1
    }
}
