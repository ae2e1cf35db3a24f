//! Parquet: columns of numbers (any integer or float type) or strings, decoded through Arrow.

use std::collections::HashMap;
use std::path::Path;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Float32Type, Float64Type, Int16Type, Int32Type, Int64Type, Int8Type, UInt16Type, UInt32Type, UInt64Type, UInt8Type,
};
use arrow_array::{Array, ArrayRef};
use arrow_schema::DataType;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use candor_scorecard::MISSING_CODE;

use crate::{Stored, Table, TableError, MAX_COLUMNS};

/// Rows per decoded batch: large enough to amortise per-batch work, small enough to keep the
/// transient Arrow buffers a few megabytes.
const BATCH_ROWS: usize = 65_536;

enum Builder {
    Numbers(Vec<f64>),
    Strings { codes: Vec<u32>, levels: Vec<String>, index: HashMap<String, u32> },
}

pub(crate) fn read(path: &Path, bytes: bytes::Bytes, digest: String) -> Result<Table, TableError> {
    let bad = |e: &dyn std::fmt::Display| TableError::Parquet { path: path.to_path_buf(), message: e.to_string() };
    let builder = ParquetRecordBatchReaderBuilder::try_new(bytes).map_err(|e| bad(&e))?;
    let schema = builder.schema().clone();
    if schema.fields().len() > MAX_COLUMNS {
        return Err(TableError::TooManyColumns { path: path.to_path_buf() });
    }
    let rows = builder.metadata().file_metadata().num_rows().max(0) as usize;
    let mut builders = Vec::with_capacity(schema.fields().len());
    for f in schema.fields() {
        builders.push(match f.data_type() {
            t if is_number(t) => Builder::Numbers(Vec::with_capacity(rows)),
            t if is_string(t) => {
                Builder::Strings { codes: Vec::with_capacity(rows), levels: vec![], index: HashMap::new() }
            }
            t => {
                return Err(TableError::ParquetType {
                    path: path.to_path_buf(),
                    column: f.name().clone(),
                    kind: t.to_string(),
                })
            }
        });
    }
    let reader = builder.with_batch_size(BATCH_ROWS).build().map_err(|e| bad(&e))?;
    for batch in reader {
        let batch = batch.map_err(|e| bad(&e))?;
        for (b, col) in builders.iter_mut().zip(batch.columns()) {
            append(b, col).map_err(|e| bad(&e))?;
        }
    }
    let headers: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    let columns: Vec<Stored> = builders
        .into_iter()
        .map(|b| match b {
            Builder::Numbers(v) => Stored::Numbers(v),
            Builder::Strings { codes, levels, .. } => Stored::Strings { codes, levels },
        })
        .collect();
    let rows = match columns.first() {
        Some(Stored::Numbers(v)) => v.len(),
        Some(Stored::Strings { codes, .. }) => codes.len(),
        _ => 0,
    };
    if headers.is_empty() {
        return Err(TableError::NoHeader { path: path.to_path_buf() });
    }
    if rows == 0 {
        return Err(TableError::NoRows { path: path.to_path_buf() });
    }
    Ok(Table { path: path.to_path_buf(), headers, columns, rows, lines: None, digest })
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
            // Infinities are not numbers a scorecard can bin; treat them as missing.
            Ok(())
        }
        Builder::Strings { codes, levels, index } => {
            let mut push = |v: Option<&str>| {
                codes.push(match v {
                    None => MISSING_CODE,
                    Some(s) => match index.get(s) {
                        Some(&c) => c,
                        None => {
                            levels.push(s.to_string());
                            index.insert(s.to_string(), (levels.len() - 1) as u32);
                            (levels.len() - 1) as u32
                        }
                    },
                })
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
