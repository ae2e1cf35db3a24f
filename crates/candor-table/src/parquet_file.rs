//! Parquet: columns of numbers (any integer or float type) or strings, decoded through Arrow.

use std::path::Path;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Float32Type, Float64Type, Int16Type, Int32Type, Int64Type, Int8Type, UInt16Type, UInt32Type, UInt64Type, UInt8Type,
};
use arrow_array::{Array, ArrayRef};
use std::sync::Arc;

use arrow_schema::{DataType, Field, Schema, SchemaRef};
use candor_scorecard::MISSING_CODE;
use parquet::arrow::arrow_reader::{ArrowReaderOptions, ParquetRecordBatchReaderBuilder};
use parquet::arrow::ProjectionMask;
use rustc_hash::FxHashMap;

use crate::{Stored, Table, TableError, MAX_COLUMNS};

/// Rows per decoded batch: large enough to amortise per-batch work, small enough to keep the
/// transient Arrow buffers a few megabytes.
const BATCH_ROWS: usize = 65_536;

/// Columns are decoded by this many threads, each taking a share of the columns.
const DECODE_THREADS: usize = 4;
/// Threads decoding ahead when a file is read in batches; the caller's work is the rest.
const STREAM_THREADS: usize = 2;

enum Builder {
    Numbers(Vec<f64>),
    /// Strings are kept as text, like CSV fields, and coded only if a caller asks for the
    /// column: an identifier column of a million distinct values costs nothing unless used.
    Text {
        text: String,
        ends: Vec<usize>,
    },
    /// Strings the caller asked for as categories, read as Parquet stores them, a dictionary
    /// and a key per row: each distinct text is trimmed, checked for missing and coded once
    /// per dictionary, not once per row.
    Coded {
        codes: Vec<u32>,
        levels: Vec<String>,
        index: FxHashMap<String, u32>,
    },
}

/// Some columns of some rows, decoded, each with its index in the file.
type Part = Vec<(usize, Builder)>;

/// The file's bytes: in memory (already read, e.g. to digest them) or mapped from the file,
/// so that decoding threads read the compressed pages in place rather than copy each out.
pub(crate) struct Source {
    bytes: bytes::Bytes,
    /// The schema to read with, when some string columns are to arrive as dictionaries.
    schema: Option<SchemaRef>,
}

impl Source {
    pub(crate) fn bytes(bytes: Vec<u8>) -> Source {
        Source { bytes: bytes::Bytes::from(bytes), schema: None }
    }

    /// The file's bytes (shared, not copied).
    pub(crate) fn shared_bytes(&self) -> bytes::Bytes {
        self.bytes.clone()
    }

    /// Maps the file read-only.
    pub(crate) fn map(path: &Path) -> Result<Source, TableError> {
        let io = |source| TableError::Io { path: path.to_path_buf(), source };
        let file = std::fs::File::open(path).map_err(io)?;
        // SAFETY: the map is read-only and Candor never writes its input files. Were another
        // process to shrink the file while it is read, the process would be stopped by SIGBUS
        // rather than read changed bytes: the trade every mapping reader makes (ripgrep too).
        #[allow(unsafe_code)]
        let map = unsafe { memmap2::Mmap::map(&file) }.map_err(io)?;
        Ok(Source { bytes: bytes::Bytes::from_owner(map), schema: None })
    }

    fn schema(&self) -> Result<SchemaRef, String> {
        Ok(ParquetRecordBatchReaderBuilder::try_new(self.bytes.clone()).map_err(|e| e.to_string())?.schema().clone())
    }

    /// Reads the named string columns as dictionaries, to be coded as categories.
    fn code(&mut self, names: &[String]) -> Result<(), String> {
        let file = self.schema()?;
        let fields: Vec<Field> = file
            .fields()
            .iter()
            .map(|f| match f.data_type() {
                DataType::Utf8 | DataType::LargeUtf8 if names.contains(f.name()) => f
                    .as_ref()
                    .clone()
                    .with_data_type(DataType::Dictionary(Box::new(DataType::Int32), Box::new(f.data_type().clone()))),
                _ => f.as_ref().clone(),
            })
            .collect();
        self.schema = Some(Arc::new(Schema::new_with_metadata(fields, file.metadata().clone())));
        Ok(())
    }

    /// Decodes the given top-level columns whole.
    fn decode(&self, indices: Vec<usize>) -> Result<Part, String> {
        let mut whole = None;
        self.decode_batches(indices, usize::MAX, &mut |part| {
            whole = Some(part);
            true
        })?;
        whole.unwrap_or_else(|| Ok(Vec::new()))
    }

    /// Decodes the given top-level columns in parts of `part_rows` rows (`usize::MAX`: one
    /// part), handing each to `send` until it says stop.
    fn decode_batches(
        &self,
        indices: Vec<usize>,
        part_rows: usize,
        send: &mut dyn FnMut(Result<Part, String>) -> bool,
    ) -> Result<(), String> {
        let options = match &self.schema {
            Some(schema) => ArrowReaderOptions::new().with_schema(schema.clone()),
            None => ArrowReaderOptions::new(),
        };
        decode(
            ParquetRecordBatchReaderBuilder::try_new_with_options(self.bytes.clone(), options)
                .map_err(|e| e.to_string())?,
            indices,
            part_rows,
            send,
        )
    }
}

/// Rows in the file by its footer.
pub(crate) fn rows(path: &Path) -> Option<u64> {
    let f = std::fs::File::open(path).ok()?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(f).ok()?;
    u64::try_from(builder.metadata().file_metadata().num_rows()).ok()
}

/// The file's column names and the indices of those wanted, after checking that every column
/// has a type we read and every wanted name exists.
fn plan(path: &Path, source: &Source, only: Option<&[String]>) -> Result<(Vec<String>, Vec<usize>), TableError> {
    let bad = |e: &dyn std::fmt::Display| TableError::Parquet { path: path.to_path_buf(), message: e.to_string() };
    let schema = source.schema().map_err(|e| bad(&e))?;
    if schema.fields().len() > MAX_COLUMNS {
        return Err(TableError::TooManyColumns { path: path.to_path_buf() });
    }
    if schema.fields().is_empty() {
        return Err(TableError::NoHeader { path: path.to_path_buf() });
    }
    for f in schema.fields() {
        if !is_number(f.data_type()) && !is_string(f.data_type()) {
            return Err(TableError::ParquetType {
                path: path.to_path_buf(),
                column: f.name().clone(),
                kind: f.data_type().to_string(),
            });
        }
    }
    let all_headers: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    if let Some(names) = only {
        if let Some(missing) = names.iter().find(|n| !all_headers.contains(n)) {
            return Err(TableError::UnknownColumn {
                path: path.to_path_buf(),
                column: missing.clone(),
                available: all_headers.join(", "),
            });
        }
    }
    let wanted: Vec<usize> =
        (0..all_headers.len()).filter(|&i| only.is_none_or(|names| names.contains(&all_headers[i]))).collect();
    Ok((all_headers, wanted))
}

/// Decoded columns back in the order of `wanted`, as stored columns.
fn in_order(wanted: &[usize], parts: Vec<Part>) -> Vec<Stored> {
    let mut columns: Vec<Option<Stored>> = (0..wanted.len()).map(|_| None).collect();
    for (i, b) in parts.into_iter().flatten() {
        let slot = wanted.iter().position(|&w| w == i).unwrap_or(0);
        columns[slot] = Some(match b {
            Builder::Numbers(v) => Stored::Numbers(v),
            Builder::Text { text, ends } => Stored::Text { text, ends },
            Builder::Coded { codes, levels, .. } => Stored::Coded { codes, levels },
        });
    }
    columns.into_iter().map(|c| c.unwrap_or(Stored::Numbers(Vec::new()))).collect()
}

fn stored_rows(columns: &[Stored]) -> usize {
    columns.first().and_then(Stored::len).unwrap_or(0)
}

pub(crate) fn read(path: &Path, source: Source, digest: String, only: Option<&[String]>) -> Result<Table, TableError> {
    let bad = |e: &dyn std::fmt::Display| TableError::Parquet { path: path.to_path_buf(), message: e.to_string() };
    let (all_headers, wanted) = plan(path, &source, only)?;
    // Each thread decodes every n-th wanted top-level column; results come back by index.
    let threads = DECODE_THREADS.min(wanted.len()).max(1);
    let parts: Vec<Result<Part, String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let mine: Vec<usize> = wanted.iter().copied().skip(t).step_by(threads).collect();
                let source = &source;
                scope.spawn(move || source.decode(mine))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or_else(|_| Err("a decoding thread failed".into()))).collect()
    });
    let parts = parts.into_iter().collect::<Result<Vec<_>, String>>().map_err(|e| bad(&e))?;
    let columns = in_order(&wanted, parts);
    let headers: Vec<String> = wanted.iter().map(|&i| all_headers[i].clone()).collect();
    let rows = stored_rows(&columns);
    if rows == 0 {
        return Err(TableError::NoRows { path: path.to_path_buf() });
    }
    Ok(Table { path: path.to_path_buf(), headers, columns, rows, lines: None, digest, first_row: 0 })
}

/// Reads the file in tables of at most `batch_rows` rows, in order, handing each to `each` as
/// soon as it is decoded: decoding runs ahead on [`STREAM_THREADS`] threads (each with a share of
/// the columns, at most two batches ahead) while `each` works. Memory stays at a few batches
/// however long the file, and the decoded values are still in cache when `each` reads them.
/// Stops at the first error, from the file or from `each`.
pub(crate) fn read_batches<E: From<TableError>>(
    path: &Path,
    only: Option<&[String]>,
    coded: &[String],
    batch_rows: usize,
    mut each: impl FnMut(Table) -> Result<(), E>,
) -> Result<(), E> {
    let bad = |e: &dyn std::fmt::Display| TableError::Parquet { path: path.to_path_buf(), message: e.to_string() };
    let mut source = Source::map(path)?;
    let (all_headers, wanted) = plan(path, &source, only)?;
    if !coded.is_empty() {
        source.code(coded).map_err(|e| bad(&e))?;
    }
    let headers: Vec<String> = wanted.iter().map(|&i| all_headers[i].clone()).collect();
    let threads = STREAM_THREADS.min(wanted.len()).max(1);
    std::thread::scope(|scope| {
        let receivers: Vec<_> = (0..threads)
            .map(|t| {
                let mine: Vec<usize> = wanted.iter().copied().skip(t).step_by(threads).collect();
                let (tx, rx) = std::sync::mpsc::sync_channel(1);
                let source = &source;
                scope.spawn(move || {
                    // A panic in the Parquet decoder on a malformed file becomes an error for
                    // the reader, not a panic of the whole scope.
                    let sent = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        source.decode_batches(mine, batch_rows, &mut |part| tx.send(part).is_ok())
                    }))
                    .unwrap_or_else(|_| Err("the Parquet decoder failed on this file".into()));
                    if let Err(e) = sent {
                        let _ = tx.send(Err(e));
                    }
                });
                rx
            })
            .collect();
        let mut first_row = 0;
        loop {
            let parts: Vec<Option<Result<Part, String>>> = receivers.iter().map(|rx| rx.recv().ok()).collect();
            if parts.iter().all(Option::is_none) {
                break;
            }
            let parts = parts
                .into_iter()
                .map(|p| p.unwrap_or_else(|| Err("a decoding thread stopped early".into())))
                .collect::<Result<Vec<_>, String>>()
                .map_err(|e| bad(&e))?;
            let columns = in_order(&wanted, parts);
            let rows = stored_rows(&columns);
            let table = Table {
                path: path.to_path_buf(),
                headers: headers.clone(),
                columns,
                rows,
                lines: None,
                digest: String::new(),
                first_row,
            };
            if table.columns.iter().any(|c| c.len() != Some(rows)) {
                return Err(bad(&format!("columns of unequal length from row {}", first_row + 1)).into());
            }
            first_row += rows;
            each(table)?;
        }
        if first_row == 0 {
            return Err(TableError::NoRows { path: path.to_path_buf() }.into());
        }
        Ok(())
    })
}

/// Decodes the given top-level columns of the file, in parts of `part_rows` rows.
fn decode<R: parquet::file::reader::ChunkReader + 'static>(
    builder: ParquetRecordBatchReaderBuilder<R>,
    indices: Vec<usize>,
    part_rows: usize,
    send: &mut dyn FnMut(Result<Part, String>) -> bool,
) -> Result<(), String> {
    let rows = builder.metadata().file_metadata().num_rows().max(0) as usize;
    let mask = ProjectionMask::roots(builder.parquet_schema(), indices.iter().copied());
    let schema = builder.schema().clone();
    let capacity = rows.min(part_rows);
    let empty = || -> Part {
        indices
            .iter()
            .map(|&i| {
                let b = match schema.field(i).data_type() {
                    t if is_number(t) => Builder::Numbers(Vec::with_capacity(capacity)),
                    DataType::Dictionary(..) => Builder::Coded {
                        codes: Vec::with_capacity(capacity),
                        levels: Vec::new(),
                        index: FxHashMap::default(),
                    },
                    _ => Builder::Text { text: String::new(), ends: Vec::with_capacity(capacity) },
                };
                (i, b)
            })
            .collect()
    };
    // One Arrow batch per part, so that no part exceeds `part_rows`; whole, in batches of
    // `BATCH_ROWS`.
    let batch_rows = if part_rows == usize::MAX { BATCH_ROWS } else { part_rows };
    let reader = builder.with_projection(mask).with_batch_size(batch_rows).build().map_err(|e| e.to_string())?;
    let mut out = empty();
    let mut held = 0;
    for batch in reader {
        let batch = batch.map_err(|e| e.to_string())?;
        for ((_, b), col) in out.iter_mut().zip(batch.columns()) {
            append(b, col)?;
        }
        held += batch.num_rows();
        if held >= part_rows {
            if !send(Ok(std::mem::replace(&mut out, empty()))) {
                return Ok(());
            }
            held = 0;
        }
    }
    if held > 0 || part_rows == usize::MAX {
        send(Ok(out));
    }
    Ok(())
}

fn is_number(t: &DataType) -> bool {
    t.is_numeric()
        && !matches!(
            t,
            DataType::Decimal32(..)
                | DataType::Decimal64(..)
                | DataType::Decimal128(..)
                | DataType::Decimal256(..)
                | DataType::Float16
        )
        || matches!(t, DataType::Boolean)
}

fn is_string(t: &DataType) -> bool {
    match t {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => true,
        DataType::Dictionary(_, v) => is_string(v),
        _ => false,
    }
}

macro_rules! push_numbers {
    ($out:expr, $col:expr, $t:ty) => {{
        let a = $col.as_primitive::<$t>();
        if a.null_count() == 0 {
            $out.extend(a.values().iter().map(|&v| v as f64));
        } else {
            $out.extend(a.iter().map(|v| v.map(|v| v as f64).unwrap_or(f64::NAN)));
        }
    }};
}

fn append(b: &mut Builder, col: &ArrayRef) -> Result<(), String> {
    match b {
        Builder::Numbers(out) => {
            match col.data_type() {
                DataType::Float64 => push_numbers!(out, col, Float64Type),
                DataType::Float32 => push_numbers!(out, col, Float32Type),
                DataType::Int8 => push_numbers!(out, col, Int8Type),
                DataType::Int16 => push_numbers!(out, col, Int16Type),
                DataType::Int32 => push_numbers!(out, col, Int32Type),
                DataType::Int64 => push_numbers!(out, col, Int64Type),
                DataType::UInt8 => push_numbers!(out, col, UInt8Type),
                DataType::UInt16 => push_numbers!(out, col, UInt16Type),
                DataType::UInt32 => push_numbers!(out, col, UInt32Type),
                DataType::UInt64 => push_numbers!(out, col, UInt64Type),
                DataType::Boolean => {
                    out.extend(col.as_boolean().iter().map(|v| v.map(|v| v as u8 as f64).unwrap_or(f64::NAN)))
                }
                t => return Err(format!("unexpected column type {t}")),
            }
            // NaN and infinities are kept: the engine reads every non-finite number as missing.
            Ok(())
        }
        Builder::Coded { codes, levels, index } => {
            let mut code = |v: Option<&str>| -> u32 {
                let Some(t) = v.map(str::trim).filter(|t| !crate::is_missing(t)) else { return MISSING_CODE };
                if let Some(&c) = index.get(t) {
                    return c;
                }
                levels.push(t.to_string());
                let c = (levels.len() - 1) as u32;
                index.insert(t.to_string(), c);
                c
            };
            match col.data_type() {
                DataType::Dictionary(_, _) => {
                    let dict = col.as_any_dictionary();
                    let values = dict.values();
                    let by_key: Vec<u32> = match values.data_type() {
                        DataType::Utf8 => values.as_string::<i32>().iter().map(&mut code).collect(),
                        DataType::LargeUtf8 => values.as_string::<i64>().iter().map(&mut code).collect(),
                        DataType::Utf8View => values.as_string_view().iter().map(&mut code).collect(),
                        t => return Err(format!("unexpected dictionary value type {t}")),
                    };
                    let keys = dict.normalized_keys();
                    let nulls = col.logical_nulls();
                    codes.extend(keys.iter().enumerate().map(|(i, &k)| {
                        if nulls.as_ref().is_some_and(|n| n.is_null(i)) {
                            MISSING_CODE
                        } else {
                            by_key.get(k).copied().unwrap_or(MISSING_CODE)
                        }
                    }));
                }
                DataType::Utf8 => codes.extend(col.as_string::<i32>().iter().map(&mut code)),
                DataType::LargeUtf8 => codes.extend(col.as_string::<i64>().iter().map(&mut code)),
                DataType::Utf8View => codes.extend(col.as_string_view().iter().map(&mut code)),
                t => return Err(format!("unexpected column type {t}")),
            }
            Ok(())
        }
        Builder::Text { text, ends } => {
            let mut push = |v: Option<&str>| {
                text.push_str(v.unwrap_or(""));
                ends.push(text.len());
            };
            match col.data_type() {
                DataType::Utf8 => col.as_string::<i32>().iter().for_each(&mut push),
                DataType::LargeUtf8 => col.as_string::<i64>().iter().for_each(&mut push),
                DataType::Utf8View => col.as_string_view().iter().for_each(&mut push),
                DataType::Dictionary(_, _) => {
                    let dict = col.as_any_dictionary();
                    let values = dict.values();
                    let texts: Vec<Option<String>> = match values.data_type() {
                        DataType::Utf8 => values.as_string::<i32>().iter().map(|v| v.map(String::from)).collect(),
                        DataType::LargeUtf8 => values.as_string::<i64>().iter().map(|v| v.map(String::from)).collect(),
                        DataType::Utf8View => values.as_string_view().iter().map(|v| v.map(String::from)).collect(),
                        t => return Err(format!("unexpected dictionary value type {t}")),
                    };
                    let keys = dict.normalized_keys();
                    for (i, k) in keys.iter().enumerate() {
                        push(if col.is_null(i) { None } else { texts.get(*k).and_then(|t| t.as_deref()) });
                    }
                }
                t => return Err(format!("unexpected column type {t}")),
            }
            Ok(())
        }
    }
}
