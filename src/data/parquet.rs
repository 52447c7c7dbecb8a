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

use super::store::{DataObject, Remote, store_url};
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

/// How much of the end of an object is fetched with its size: the footer
/// and, usually, all the metadata before it.
const TAIL: u64 = 64 << 10;

/// Where a Parquet file's bytes come from: a local file read at positions
/// (never through a shared cursor, so that threads can decode row groups
/// side by side), or an object, its last bytes fetched with its size.
pub(super) enum Source {
    Local(Arc<File>),
    Remote {
        remote: Remote,
        size: u64,
        tail: Bytes,
    },
}

impl Length for Source {
    fn len(&self) -> u64 {
        match self {
            Source::Local(f) => f.len(),
            Source::Remote { size, .. } => *size,
        }
    }
}

/// Bytes `start..start + len` of a local file, read at their position.
fn read_at(f: &File, start: u64, len: usize) -> std::io::Result<Vec<u8>> {
    let mut buf = vec![0u8; len];
    #[cfg(unix)]
    std::os::unix::fs::FileExt::read_exact_at(f, &mut buf, start)?;
    #[cfg(not(unix))]
    {
        use std::io::{Seek, SeekFrom};
        let mut f = f;
        f.seek(SeekFrom::Start(start))?;
        f.read_exact(&mut buf)?;
    }
    Ok(buf)
}

/// A reader of a local file from a position, by positional reads.
struct AtReader {
    file: Arc<File>,
    pos: u64,
}

impl Read for AtReader {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let left = self.file.len().saturating_sub(self.pos);
        let n = out.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        if n == 0 {
            return Ok(0);
        }
        let buf = read_at(&self.file, self.pos, n)?;
        out[..n].copy_from_slice(&buf);
        self.pos += n as u64;
        Ok(n)
    }
}

fn external(e: Error) -> parquet::errors::ParquetError {
    parquet::errors::ParquetError::External(Box::new(e))
}

impl ChunkReader for Source {
    type T = Box<dyn Read + Send>;

    fn get_read(&self, start: u64) -> parquet::errors::Result<Self::T> {
        match self {
            Source::Local(f) => Ok(Box::new(std::io::BufReader::new(AtReader {
                file: Arc::clone(f),
                pos: start,
            }))),
            Source::Remote { remote, size, tail } => {
                // The footer is read from the bytes fetched with the size.
                let from = size - tail.len() as u64;
                if start >= from && start <= *size {
                    let at = usize::try_from(start - from).unwrap_or(0);
                    return Ok(Box::new(bytes::Buf::reader(tail.slice(at..))));
                }
                Ok(Box::new(remote.reader(start).map_err(external)?))
            }
        }
    }

    fn get_bytes(&self, start: u64, length: usize) -> parquet::errors::Result<Bytes> {
        match self {
            Source::Local(f) => Ok(read_at(f, start, length)?.into()),
            Source::Remote { remote, size, tail } => {
                let from = size - tail.len() as u64;
                if start >= from && start + length as u64 <= *size {
                    let at = usize::try_from(start - from).unwrap_or(0);
                    return Ok(tail.slice(at..at + length));
                }
                remote
                    .get_range(start..start + length as u64)
                    .map_err(external)
            }
        }
    }
}

/// An open Parquet file: its metadata read, its columns not yet.
pub struct ParquetFile {
    source: Arc<Source>,
    meta: ArrowReaderMetadata,
    /// The file, as shown in messages.
    pub origin: String,
    path: std::path::PathBuf,
}

impl ParquetFile {
    /// Open a local file or an object and read its footer (of an object:
    /// one request for its last bytes, which also gives its size and ETag).
    pub fn open(path: &Path) -> Result<ParquetFile> {
        let (source, origin) = match store_url(path) {
            Some(url) => {
                let remote = Remote::open(url)?;
                let (tail, size) = remote.get_tail(TAIL)?;
                (Source::Remote { remote, size, tail }, url.to_string())
            }
            None => {
                let f = File::open(path).map_err(|e| Error::io("read", path, &e))?;
                (Source::Local(Arc::new(f)), display_path(path))
            }
        };
        let meta = ArrowReaderMetadata::load(&source, ArrowReaderOptions::new())
            .map_err(|e| parquet_error(&origin, &e))?;
        Ok(ParquetFile {
            source: Arc::new(source),
            meta,
            origin,
            path: path.to_path_buf(),
        })
    }

    /// The object the file was read from, as its reads saw it (URL, ETag,
    /// version); `None` for a local file.
    #[must_use]
    pub fn data_object(&self) -> Option<DataObject> {
        match self.source.as_ref() {
            Source::Remote { remote, .. } => remote.data_object(),
            Source::Local(_) => None,
        }
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

    /// The number of row groups.
    #[must_use]
    pub fn row_groups(&self) -> usize {
        self.meta.metadata().num_row_groups()
    }

    /// The rows of row group `g`.
    #[must_use]
    pub fn group_rows(&self, g: usize) -> u64 {
        u64::try_from(self.meta.metadata().row_group(g).num_rows()).unwrap_or(0)
    }

    /// Read the top-level columns `columns` (indices into [`Self::header`]),
    /// row group by row group, calling `f` with each batch, its row group
    /// and the 0-based file row of its first row.
    pub fn for_each_batch(
        &self,
        columns: &[usize],
        f: &mut dyn FnMut(RecordBatch, usize, u64) -> Result<()>,
    ) -> Result<()> {
        let mut first = 0u64;
        for g in 0..self.row_groups() {
            self.for_each_batch_of_group(g, columns, BATCH_ROWS, &mut |batch| {
                let n = batch.num_rows() as u64;
                f(batch, g, first)?;
                first += n;
                Ok(())
            })?;
        }
        Ok(())
    }

    /// Read the columns `columns` of row group `g` in batches of at most
    /// `batch` rows, calling `f` with each. The pages of a local file are
    /// read where they lie; an object's column chunks are fetched first,
    /// in one request for each run of adjacent ones.
    pub fn for_each_batch_of_group(
        &self,
        g: usize,
        columns: &[usize],
        batch: usize,
        f: &mut dyn FnMut(RecordBatch) -> Result<()>,
    ) -> Result<()> {
        let origin = &self.origin;
        let input = match self.source.as_ref() {
            Source::Local(_) => Fetched {
                chunks: Vec::new(),
                source: Arc::clone(&self.source),
            },
            Source::Remote { remote, .. } => self.fetch_group(remote, g, columns)?,
        };
        let mask = ProjectionMask::roots(self.meta.parquet_schema(), columns.iter().copied());
        let rows = usize::try_from(self.group_rows(g)).unwrap_or(0);
        let reader = ParquetRecordBatchReaderBuilder::new_with_metadata(input, self.meta.clone())
            .with_projection(mask)
            .with_row_groups(vec![g])
            .with_batch_size(rows.clamp(1, batch))
            .build()
            .map_err(|e| parquet_error(origin, &e))?;
        for b in reader {
            f(b.map_err(|e| {
                Error::data(format!(
                    "{origin}: row group {g}: cannot decode the columns ({e}); check the file"
                ))
            })?)?;
        }
        Ok(())
    }

    /// The byte ranges of the column chunks `columns` of row group `g`,
    /// fetched from the object: adjacent ones (gaps under 64 KiB) in one
    /// request.
    fn fetch_group(&self, remote: &Remote, g: usize, columns: &[usize]) -> Result<Fetched> {
        let schema = self.meta.parquet_schema();
        let group = self.meta.metadata().row_group(g);
        let mut ranges: Vec<(u64, u64)> = (0..group.num_columns())
            .filter(|&c| columns.contains(&schema.get_column_root_idx(c)))
            .map(|c| {
                let (start, len) = group.column(c).byte_range();
                (start, start + len)
            })
            .collect();
        ranges.sort_unstable();
        let mut merged: Vec<(u64, u64)> = Vec::new();
        for (a, b) in ranges {
            match merged.last_mut() {
                Some(last) if a <= last.1 + (64 << 10) => last.1 = last.1.max(b),
                _ => merged.push((a, b)),
            }
        }
        let mut chunks = Vec::with_capacity(merged.len());
        for (a, b) in merged {
            chunks.push((a, remote.get_range(a..b)?));
        }
        Ok(Fetched {
            chunks,
            source: Arc::clone(&self.source),
        })
    }

    /// A sequential reader of the raw bytes of the file (for its hash): of
    /// an object, one request for the whole of it.
    pub fn raw_reader(&self) -> Result<Box<dyn Read + Send>> {
        Ok(match self.source.as_ref() {
            Source::Local(_) => {
                Box::new(File::open(&self.path).map_err(|e| Error::io("read", &self.path, &e))?)
            }
            Source::Remote { remote, .. } => Box::new(remote.reader(0)?),
        })
    }
}

/// The bytes a row group's reader reads: runs of column chunks fetched
/// ahead (an object's), else the source itself.
struct Fetched {
    chunks: Vec<(u64, Bytes)>,
    source: Arc<Source>,
}

impl Fetched {
    /// The fetched bytes from `start` to the end of their run, if fetched.
    fn fetched(&self, start: u64) -> Option<Bytes> {
        let (a, bytes) = self
            .chunks
            .iter()
            .find(|(a, b)| *a <= start && start < a + b.len() as u64)?;
        Some(bytes.slice(usize::try_from(start - a).ok()?..))
    }
}

impl Length for Fetched {
    fn len(&self) -> u64 {
        self.source.len()
    }
}

impl ChunkReader for Fetched {
    type T = Box<dyn Read + Send>;

    fn get_read(&self, start: u64) -> parquet::errors::Result<Self::T> {
        match self.fetched(start) {
            Some(b) => Ok(Box::new(bytes::Buf::reader(b))),
            None => self.source.get_read(start),
        }
    }

    fn get_bytes(&self, start: u64, length: usize) -> parquet::errors::Result<Bytes> {
        match self.fetched(start) {
            Some(b) if b.len() >= length => Ok(b.slice(..length)),
            _ => self.source.get_bytes(start, length),
        }
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
