//! Writing a table of features to Parquet a slice at a time: an identifier column, one float
//! column per feature (NaN where a feature does not apply, written as null), and an optional
//! 0/1 label. Rows go out in row groups, so memory stays bounded however many rows there are.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;

use crate::TableError;

/// Rows buffered before a row group is written.
pub const ROWS_PER_GROUP: usize = 65_536;

pub struct ParquetWriter {
    path: std::path::PathBuf,
    writer: ArrowWriter<File>,
    schema: Arc<Schema>,
    ids: Vec<String>,
    columns: Vec<Vec<f64>>,
    labels: Option<Vec<Option<i64>>>,
    rows: u64,
}

impl ParquetWriter {
    /// Creates `path` with an `id` column, the named float columns and, if `label` names one,
    /// a nullable integer label column.
    pub fn create(path: &Path, id: &str, columns: &[&str], label: Option<&str>) -> Result<ParquetWriter, TableError> {
        let mut fields = vec![Field::new(id, DataType::Utf8, false)];
        fields.extend(columns.iter().map(|c| Field::new(*c, DataType::Float64, true)));
        if let Some(label) = label {
            fields.push(Field::new(label, DataType::Int64, true));
        }
        let schema = Arc::new(Schema::new(fields));
        let io = |source: std::io::Error| TableError::Io { path: path.to_path_buf(), source };
        let file = File::create(path).map_err(io)?;
        let props = WriterProperties::builder()
            .set_compression(Compression::ZSTD(ZstdLevel::try_new(3).unwrap_or_default()))
            .build();
        let writer = ArrowWriter::try_new(file, schema.clone(), Some(props)).map_err(|e| parquet_error(path, e))?;
        Ok(ParquetWriter {
            path: path.to_path_buf(),
            writer,
            schema,
            ids: Vec::with_capacity(ROWS_PER_GROUP),
            columns: vec![Vec::with_capacity(ROWS_PER_GROUP); columns.len()],
            labels: label.map(|_| Vec::with_capacity(ROWS_PER_GROUP)),
            rows: 0,
        })
    }

    pub fn push(&mut self, id: String, values: &[f64], label: Option<i64>) -> Result<(), TableError> {
        debug_assert_eq!(values.len(), self.columns.len());
        self.ids.push(id);
        for (column, &v) in self.columns.iter_mut().zip(values) {
            column.push(v);
        }
        if let Some(labels) = &mut self.labels {
            labels.push(label);
        }
        self.rows += 1;
        if self.ids.len() >= ROWS_PER_GROUP {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), TableError> {
        if self.ids.is_empty() {
            return Ok(());
        }
        let mut arrays: Vec<ArrayRef> = vec![Arc::new(StringArray::from(std::mem::take(&mut self.ids)))];
        for column in &mut self.columns {
            let values = std::mem::take(column);
            arrays.push(Arc::new(values.into_iter().map(|v| (!v.is_nan()).then_some(v)).collect::<Float64Array>()));
        }
        if let Some(labels) = &mut self.labels {
            arrays.push(Arc::new(Int64Array::from(std::mem::take(labels))));
        }
        let batch = RecordBatch::try_new(self.schema.clone(), arrays)
            .map_err(|e| TableError::ParquetWrite { path: self.path.clone(), message: e.to_string() })?;
        self.writer.write(&batch).map_err(|e| parquet_error(&self.path, e))?;
        self.writer.flush().map_err(|e| parquet_error(&self.path, e))
    }

    /// Writes what is buffered and the footer; returns the number of rows.
    pub fn finish(mut self) -> Result<u64, TableError> {
        self.flush()?;
        let file = self.writer.into_inner().map_err(|e| parquet_error(&self.path, e))?;
        // A device or a pipe (/dev/null, a FIFO) has nothing to sync, and refuses to.
        if file.metadata().is_ok_and(|m| m.is_file()) {
            file.sync_all().map_err(|source| TableError::Io { path: self.path.clone(), source })?;
        }
        Ok(self.rows)
    }
}

fn parquet_error(path: &Path, e: parquet::errors::ParquetError) -> TableError {
    TableError::ParquetWrite { path: path.to_path_buf(), message: e.to_string() }
}
