//! Streaming CSV and Parquet files as a sequence of tables, one per block
//! of whole records (or Parquet batch), in memory bounded by the block size.

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
use super::table::Table;
use crate::error::{Error, Result, display_path};
use crate::report::Progress;

/// Stream CSV files (plain or gzip) with the same header as a sequence of
/// tables, one per block of whole records: the same parser, checks,
/// messages and exact line numbers as `load`, in memory bounded by the
/// block size. Calls `f` for each block (category codes are local to each
/// table) and returns the SHA-256 of the files' raw bytes, concatenated.
pub fn stream_tables(
    paths: &[PathBuf],
    sel: &Selection,
    block: usize,
    progress: &dyn Progress,
    f: &mut dyn FnMut(Table) -> Result<()>,
) -> Result<String> {
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
        if is_parquet(path) {
            hasher = stream_parquet(path, sel, &mut first, hasher, &mut |t| {
                rows += t.rows() as u64;
                progress.set_rows(rows);
                f(t)
            })?;
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
                f(t)
            },
            &|pos| progress.set_position(done + pos),
        )?;
        hasher = reader.into_inner().finish();
        done += std::fs::metadata(path).map_or(0, |m| m.len());
    }
    progress.finish();
    Ok(hex(&hasher.finalize()))
}
