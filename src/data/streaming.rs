//! Streaming CSV and Parquet files as a sequence of tables of a fixed
//! number of rows ([`table_rows`]), in memory bounded by the block size.
//!
//! A CSV is read in blocks of bytes and a Parquet file in batches of its
//! row groups; both are cut again into tables of the same number of rows
//! from the start of each file ([`Rebatch`]), so that what is folded from
//! them (the streaming fit's factor and moments, in that order) depends on
//! the rows alone: the same data as CSV or Parquet, in blocks of any size,
//! gives the same fit bit for bit.

use std::path::PathBuf;

use sha2::{Digest, Sha256};

use super::blocks::BlockReader;
use super::fingerprint::hex;
use super::header::{Selection, resolve_features};
use super::open::Input;
use super::parallel::parse_in_parallel;
use super::parquet::is_parquet;
use super::parquet_table::stream_parquet;
use super::plan::plan;
use super::store::DataObject;
use super::table::{Table, table_rows};
use crate::error::{Error, Result, display_path};
use crate::report::Progress;

/// Stream CSV files (plain or gzip) with the same header as a sequence of
/// tables, one per block of whole records: the same parser, checks,
/// messages and exact line numbers as `load`, in memory bounded by the
/// block size. Calls `f` for each block (category codes are local to each
/// table) and returns the SHA-256 of the files' raw bytes, concatenated,
/// and the objects in storage among them as their reads saw them.
pub fn stream_tables(
    paths: &[PathBuf],
    sel: &Selection,
    block: usize,
    progress: &dyn Progress,
    f: &mut dyn FnMut(Table) -> Result<()>,
) -> Result<Streamed> {
    let mut objects = Vec::new();
    let mut hasher = Sha256::new();
    let mut first: Option<(Vec<String>, Vec<String>)> = None;
    let total: u64 = paths
        .iter()
        .map(|p| std::fs::metadata(p).map_or(0, |m| m.len()))
        .sum();
    progress.start("reading", Some(total));
    let mut done = 0u64;
    let mut rows = 0u64;
    for path in paths {
        let mut cut = Rebatch::default();
        if is_parquet(path) {
            let object;
            (hasher, object) = stream_parquet(path, sel, &mut first, hasher, &mut |t| {
                rows += t.rows() as u64;
                progress.set_rows(rows);
                cut.push(t, f)
            })?;
            cut.flush(f)?;
            objects.extend(object);
            continue;
        }
        let origin = display_path(path);
        let input = Input::open(path, hasher)?;
        let (reader, header) = BlockReader::open(input, &origin, block)?;
        let feature_names = match &first {
            None => {
                let names = resolve_features(&header, sel, &origin)?;
                first = Some((header.clone(), names.clone()));
                names
            }
            Some((h, _)) if *h != header => {
                return Err(Error::data(format!(
                    "{origin}:1: the header differs from that of {}; every file of data.path needs the same columns in the same order",
                    display_path(&paths[0])
                )));
            }
            Some((_, names)) => names.clone(),
        };
        let plan = plan(&header, &feature_names, sel, &origin)?;
        let reader = parse_in_parallel(
            reader,
            &plan,
            &mut |t| {
                rows += t.rows() as u64;
                progress.set_rows(rows);
                cut.push(t, f)
            },
            &|pos| progress.set_position(done + pos),
        )?;
        cut.flush(f)?;
        let (h, object) = reader.into_inner().finish();
        hasher = h;
        objects.extend(object);
        done += std::fs::metadata(path).map_or(0, |m| m.len());
    }
    progress.finish();
    Ok(Streamed {
        sha256: hex(&hasher.finalize()),
        objects,
    })
}

/// What [`stream_tables`] read.
#[derive(Debug, Clone)]
pub struct Streamed {
    /// SHA-256 of the files' raw bytes, concatenated, lowercase hex.
    pub sha256: String,
    /// The objects in storage read (URL, ETag, version), in order.
    pub objects: Vec<DataObject>,
}

/// Tables cut again into [`table_rows`] rows each (the last of a file
/// shorter): a table of exactly that size passes through without a copy.
#[derive(Default)]
struct Rebatch {
    pending: Option<Table>,
}

impl Rebatch {
    /// Hand on the rows of `t` in tables of [`table_rows`] rows, keeping
    /// the rest for the next table; each value is copied once at most (a
    /// table of exactly that many rows, with nothing pending, not at all).
    fn push(&mut self, t: Table, f: &mut dyn FnMut(Table) -> Result<()>) -> Result<()> {
        let size = table_rows(t.features.len());
        let n = t.rows();
        let mut start = 0;
        if let Some(mut p) = self.pending.take() {
            start = (size - p.rows()).min(n);
            p.extend_from(&t, 0..start);
            if p.rows() < size {
                self.pending = Some(p);
                return Ok(());
            }
            f(p)?;
        } else if n == size {
            return f(t);
        }
        while n - start >= size {
            let mut out = t.empty_like(start, size);
            out.extend_from(&t, start..start + size);
            f(out)?;
            start += size;
        }
        if start < n {
            let mut p = t.empty_like(start, size);
            p.extend_from(&t, start..n);
            self.pending = Some(p);
        }
        Ok(())
    }

    fn flush(&mut self, f: &mut dyn FnMut(Table) -> Result<()>) -> Result<()> {
        match self.pending.take() {
            Some(t) => f(t),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Column;

    fn table(from: u64, n: u64) -> Table {
        let rows: Vec<u64> = (from..from + n).collect();
        Table {
            origin: "t".into(),
            feature_names: vec!["a".into(), "c".into()],
            features: vec![
                Column::Numeric(rows.iter().map(|&r| r as f64).collect()),
                Column::Categorical {
                    codes: rows.iter().map(|&r| u32::from(r % 3 == 0)).collect(),
                    levels: if from.is_multiple_of(2) {
                        vec!["x".into(), "y".into()]
                    } else {
                        vec!["y".into(), "x".into()]
                    },
                },
            ],
            target: rows.iter().map(|&r| r as f64 * 2.0).collect(),
            lines: rows.iter().map(|&r| r + 2).collect(),
            sources: Vec::new(),
        }
    }

    #[test]
    fn tables_of_any_size_are_cut_into_the_same_tables() {
        let size = table_rows(2);
        let total = 3 * size as u64 + 123;
        let cut = |step: u64| {
            let mut out: Vec<(Vec<u64>, Vec<f64>)> = Vec::new();
            let mut r = Rebatch::default();
            let mut keep = |t: Table| {
                out.push((t.lines.clone(), t.target.clone()));
                Ok(())
            };
            let mut from = 0;
            while from < total {
                let n = step.min(total - from);
                r.push(table(from, n), &mut keep).unwrap();
                from += n;
            }
            r.flush(&mut keep).unwrap();
            out
        };
        let whole = cut(total);
        assert_eq!(whole.len(), 4);
        assert!(whole[..3].iter().all(|(l, _)| l.len() == size));
        assert_eq!(whole[3].0.len(), 123);
        for step in [1, 1000, size as u64 - 1, size as u64, 70_001] {
            assert_eq!(cut(step), whole, "step {step}");
        }
    }
}
