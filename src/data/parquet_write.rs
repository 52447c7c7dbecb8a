//! Writing Parquet: rows of text fields (as a CSV holds them) into typed
//! columns (64-bit integers, doubles or strings; an empty field is a null),
//! a row group of at most [`GROUP_ROWS`] rows at a time, snappy-compressed.

use std::io::Write;
use std::sync::Arc;

use arrow_array::builder::{Float64Builder, Int64Builder, StringBuilder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use crate::error::{Error, Result};

/// Rows per row group written.
pub const GROUP_ROWS: usize = 1 << 16;

/// The type of an output column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutType {
    /// 64-bit integers.
    Int,
    /// Doubles.
    Float,
    /// Strings.
    Text,
}

enum Col {
    Int(Int64Builder),
    Float(Float64Builder),
    Text(StringBuilder),
}

/// A Parquet writer fed rows of text fields.
pub struct ParquetRowWriter<W: Write + Send> {
    writer: ArrowWriter<W>,
    schema: Arc<Schema>,
    cols: Vec<Col>,
    rows: usize,
    /// What the output is, as messages name it.
    what: String,
}

impl<W: Write + Send> ParquetRowWriter<W> {
    /// A writer of columns `names` of `types` into `out`.
    pub fn new(out: W, names: &[String], types: &[OutType], what: &str) -> Result<Self> {
        let fields: Vec<Field> = names
            .iter()
            .zip(types)
            .map(|(n, t)| {
                let dt = match t {
                    OutType::Int => DataType::Int64,
                    OutType::Float => DataType::Float64,
                    OutType::Text => DataType::Utf8,
                };
                Field::new(n, dt, true)
            })
            .collect();
        let schema = Arc::new(Schema::new(fields));
        let props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .build();
        let writer = ArrowWriter::try_new(out, Arc::clone(&schema), Some(props))
            .map_err(|e| Error::usage(format!("cannot write {what}: {e}")))?;
        let cols = types.iter().map(|t| new_col(*t)).collect();
        Ok(ParquetRowWriter {
            writer,
            schema,
            cols,
            rows: 0,
            what: what.to_string(),
        })
    }

    /// Add one row: a text field per column ("" for a null).
    pub fn push(&mut self, fields: &[&[u8]]) -> Result<()> {
        for (col, field) in self.cols.iter_mut().zip(fields) {
            let text = std::str::from_utf8(field).unwrap_or("").trim();
            match col {
                Col::Text(b) if field.is_empty() => b.append_null(),
                Col::Text(b) => b.append_value(String::from_utf8_lossy(field)),
                Col::Int(b) => b.append_option(text.parse::<i64>().ok()),
                Col::Float(b) => b.append_option(text.parse::<f64>().ok()),
            }
        }
        self.rows += 1;
        if self.rows == GROUP_ROWS {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        if self.rows == 0 {
            return Ok(());
        }
        let arrays: Vec<ArrayRef> = self
            .cols
            .iter_mut()
            .map(|c| -> ArrayRef {
                match c {
                    Col::Int(b) => Arc::new(b.finish()),
                    Col::Float(b) => Arc::new(b.finish()),
                    Col::Text(b) => Arc::new(b.finish()),
                }
            })
            .collect();
        let what = &self.what;
        let batch = RecordBatch::try_new(Arc::clone(&self.schema), arrays)
            .map_err(|e| Error::usage(format!("cannot write {what}: {e}")))?;
        self.writer
            .write(&batch)
            .and_then(|()| self.writer.flush())
            .map_err(|e| Error::usage(format!("cannot write {what}: {e}")))?;
        self.rows = 0;
        Ok(())
    }

    /// Write what is left and the footer.
    pub fn finish(mut self) -> Result<()> {
        self.flush()?;
        let what = self.what.clone();
        self.writer
            .close()
            .map(|_| ())
            .map_err(|e| Error::usage(format!("cannot write {what}: {e}")))
    }
}

fn new_col(t: OutType) -> Col {
    match t {
        OutType::Int => Col::Int(Int64Builder::new()),
        OutType::Float => Col::Float(Float64Builder::new()),
        OutType::Text => Col::Text(StringBuilder::new()),
    }
}
