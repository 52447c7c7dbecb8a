//! Tabular data: CSV and Parquet → typed columns, with errors that name file, line,
//! column and value; the deterministic split; the fingerprint.
//!
//! A cell is *missing* when it is empty or only whitespace. Missing numeric
//! cells are held as `NaN` internally: a literal `NaN`/`inf` in the file is a
//! data error, so the marker is unambiguous.
//!
//! One file per idea, from the bottom up: `table` (columns and tables);
//! `swar` and `cell` (one cell); `records` (the general CSV record parser);
//! `header` (the header row and the selection); `plan` and `builder`
//! (records into columns); `fast` (the fast numeric path); `chunk` (one
//! chunk, by either path); `diagnose` (after a cell that is not a number:
//! the first ten such cells, and whether the column is an identifier); `blocks` (reading in blocks); `open` (files,
//! gzip, URLs); `parallel` (parsing on several threads); `streaming` and
//! `load` (whole inputs); `fingerprint`; `spill`; `split`. Parquet:
//! `parquet` (files and objects, row group by row group), `cells` (Arrow
//! columns as cells), `parquet_table` (batches into tables) and
//! `parquet_rows` (rows as text fields); `parquet_write` (rows into a
//! Parquet file); `store`
//! (object storage: `s3://`, `gs://`, `az://`).

mod blocks;
mod builder;
mod cell;
mod cells;
mod chunk;
mod cut;
mod diagnose;
mod fast;
mod fingerprint;
mod header;
pub mod labels;
mod load;
mod open;
mod parallel;
pub mod parquet;
mod parquet_parallel;
mod parquet_rows;
mod parquet_table;
pub mod parquet_write;
mod plan;
mod records;
pub mod spill;
pub mod split;
pub mod store;
mod streaming;
mod swar;
mod table;

pub use blocks::{BlockReader, MAX_RECORD, STREAM_BLOCK};
pub use cell::{
    CATEGORICAL_HINT, is_na_value, looks_missing, missing_error, not_a_number_hint, parse_level,
    parse_number,
};
pub use fingerprint::{hex, sha256_file};
pub use header::{Selection, locate, read_header, resolve_features};
pub use load::{Loaded, load, load_files};
#[cfg(test)]
pub(crate) use open::stalling_server;
pub use open::{
    CONNECT_TIMEOUT_ENV, IDLE_TIMEOUT_ENV, TIMEOUTS, Timeouts, UrlBody, http_client, open_url_with,
    redact_url, timeouts, why_failed,
};
pub use open::{is_gzip, open_url, url_of};
pub use parquet::{ParquetFile, is_parquet};
pub use plan::FeatureKind;
pub use records::{RecordVisitor, csv_error, csv_reader, visit_chunk};
pub use store::store_url;
pub use streaming::stream_tables;
pub use table::{Column, MISSING_LEVEL, Table, too_many_levels};
