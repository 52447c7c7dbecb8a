//! Parquet inputs: recognising them (`.parquet`/`.pq`, or the `PAR1` magic
//! bytes), opening a local file or an object in storage (read in ranges),
//! and reading only the columns asked for, row group by row group, in
//! batches of at most [`BATCH_ROWS`] rows so that memory stays flat.
//!
//! Rows are numbered from 1 in the file; messages name the file, the row
//! group, the row and the column.

use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use arrow_array::RecordBatch;
use bytes::Bytes;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
};
use parquet::file::reader::{ChunkReader, Length};

use super::store::{ObjectInfo, Remote, store_url};
use crate::error::{Error, Result, display_path};

/// The most rows decoded at once.
pub const BATCH_ROWS: usize = 1 << 16;

/// Whether `path` names a Parquet file: by a `.parquet` or `.pq` suffix, or
/// (a local file) by its first four bytes, `PAR1`.
#[must_use]
pub fn is_parquet(path: &Path) -> bool {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    if ext.eq_ignore_ascii_case("parquet") || ext.eq_ignore_ascii_case("pq") {
        return true;
    }
    if store_url(path).is_some() || super::open::url_of(path).is_some() {
        return false;
    }
    let mut magic = [0u8; 4];
    File::open(path).is_ok_and(|mut f| f.read_exact(&mut magic).is_ok() && &magic == b"PAR1")
}

/// Where a Parquet file's bytes come from.
pub(super) enum Source {
    Local(File),
    Remote(Remote, u64),
}

impl Length for Source {
    fn len(&self) -> u64 {
        match self {
            Source::Local(f) => f.len(),
            Source::Remote(_, size) => *size,
        }
    }
}

impl ChunkReader for Source {
    type T = Box<dyn Read + Send>;

    fn get_read(&self, start: u64) -> parquet::errors::Result<Self::T> {
        match self {
            Source::Local(f) => Ok(Box::new(f.get_read(start)?)),
            Source::Remote(r, _) => {
                Ok(Box::new(r.reader(start).map_err(|e| {
                    parquet::errors::ParquetError::External(Box::new(e))
                })?))
            }
        }
    }

    fn get_bytes(&self, start: u64, length: usize) -> parquet::errors::Result<Bytes> {
        match self {
            Source::Local(f) => f.get_bytes(start, length),
            Source::Remote(r, _) => r
                .get_range(start..start + length as u64)
                .map_err(|e| parquet::errors::ParquetError::External(Box::new(e))),
        }
    }
}

/// An open Parquet file: its metadata read, its columns not yet.
pub struct ParquetFile {
    source: Arc<Source>,
    meta: ArrowReaderMetadata,
    /// The file, as shown in messages.
    pub origin: String,
    /// The object's size, ETag and version when it is in object storage.
    pub object: Option<ObjectInfo>,
    path: std::path::PathBuf,
}

impl ParquetFile {
    /// Open a local file or an object and read its footer.
    pub fn open(path: &Path) -> Result<ParquetFile> {
        let (source, origin, object) = match store_url(path) {
            Some(url) => {
                let remote = Remote::open(url)?;
                let info = remote.head()?;
                (
                    Source::Remote(remote, info.size),
                    url.to_string(),
                    Some(info),
                )
            }
            None => {
                let f = File::open(path).map_err(|e| Error::io("read", path, &e))?;
                (Source::Local(f), display_path(path), None)
            }
        };
        let meta = ArrowReaderMetadata::load(&source, ArrowReaderOptions::new())
            .map_err(|e| parquet_error(&origin, &e))?;
        Ok(ParquetFile {
            source: Arc::new(source),
            meta,
            origin,
            object,
            path: path.to_path_buf(),
        })
    }

    /// The top-level column names, in file order (the file's "header").
    #[must_use]
    pub fn header(&self) -> Vec<String> {
        self.meta
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect()
    }

    /// How each column is best written back: integers, floats or text.
    #[must_use]
    pub fn out_types(&self) -> Vec<super::parquet_write::OutType> {
        use super::parquet_write::OutType;
        self.meta
            .schema()
            .fields()
            .iter()
            .map(|f| match f.data_type() {
                t if t.is_integer() => OutType::Int,
                t if t.is_floating() => OutType::Float,
                _ => OutType::Text,
            })
            .collect()
    }

    /// The number of rows.
    #[must_use]
    pub fn rows(&self) -> u64 {
        u64::try_from(self.meta.metadata().file_metadata().num_rows()).unwrap_or(0)
    }

    /// Read the top-level columns `columns` (indices into [`Self::header`]),
    /// row group by row group, calling `f` with each batch, its row group
    /// and the 0-based file row of its first row.
    pub fn for_each_batch(
        &self,
        columns: &[usize],
        f: &mut dyn FnMut(RecordBatch, usize, u64) -> Result<()>,
    ) -> Result<()> {
        let origin = &self.origin;
        let groups = self.meta.metadata().row_groups();
        let mut first = 0u64;
        for (g, group) in groups.iter().enumerate() {
            let mask = ProjectionMask::roots(self.meta.parquet_schema(), columns.iter().copied());
            let rows = usize::try_from(group.num_rows()).unwrap_or(0);
            let reader = ParquetRecordBatchReaderBuilder::new_with_metadata(
                Shared(Arc::clone(&self.source)),
                self.meta.clone(),
            )
            .with_projection(mask)
            .with_row_groups(vec![g])
            .with_batch_size(rows.clamp(1, BATCH_ROWS))
            .build()
            .map_err(|e| parquet_error(origin, &e))?;
            for batch in reader {
                let batch = batch.map_err(|e| {
                    Error::data(format!(
                        "{origin}: row group {g}: cannot decode the columns ({e}); check the file"
                    ))
                })?;
                let n = batch.num_rows() as u64;
                f(batch, g, first)?;
                first += n;
            }
        }
        Ok(())
    }

    /// A sequential reader of the raw bytes of the file (for its hash).
    pub fn raw_reader(&self) -> Result<Box<dyn Read + Send>> {
        Ok(match self.source.as_ref() {
            // A file handle of its own: the decoder's shares one cursor.
            Source::Local(_) => {
                Box::new(File::open(&self.path).map_err(|e| Error::io("read", &self.path, &e))?)
            }
            Source::Remote(r, _) => Box::new(r.reader(0)?),
        })
    }
}

/// A shared [`Source`], so one open file serves a reader per row group.
struct Shared(Arc<Source>);

impl Length for Shared {
    fn len(&self) -> u64 {
        self.0.len()
    }
}

impl ChunkReader for Shared {
    type T = Box<dyn Read + Send>;

    fn get_read(&self, start: u64) -> parquet::errors::Result<Self::T> {
        self.0.get_read(start)
    }

    fn get_bytes(&self, start: u64, length: usize) -> parquet::errors::Result<Bytes> {
        self.0.get_bytes(start, length)
    }
}

/// A file that is not readable Parquet (exit 3), or a remote read that
/// failed (exit 5).
fn parquet_error(origin: &str, e: &parquet::errors::ParquetError) -> Error {
    if let parquet::errors::ParquetError::External(inner) = e
        && let Some(err) = inner.downcast_ref::<Error>()
    {
        return Error::Remote(err.to_string());
    }
    Error::data(format!(
        "{origin}: not a readable Parquet file ({e}); check the file or give a CSV"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parquet_is_recognised_by_suffix_or_magic_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let magic = dir.path().join("data.bin");
        std::fs::write(&magic, b"PAR1....PAR1").unwrap();
        let csv = dir.path().join("data.csv");
        std::fs::write(&csv, b"a,b\n1,2\n").unwrap();
        assert!(is_parquet(&magic));
        assert!(!is_parquet(&csv));
        assert!(is_parquet(Path::new("s3://b/k.PARQUET")));
        assert!(is_parquet(Path::new("x.pq")));
        assert!(!is_parquet(Path::new("s3://b/k.csv")));
        assert!(!is_parquet(&dir.path().join("missing")));
    }
}
