//! Parquet batches into tables: the columns of the plan read from each
//! batch (numbers as they are, levels as their text), nulls as missing
//! cells under `data.missing`, the same checks as a CSV, and the file
//! hashed on another thread while it is decoded.

use std::path::Path;

use arrow_array::{Array, RecordBatch};
use sha2::{Digest, Sha256};

use super::cell::parse_level;
use super::cells::{Cell, Cells};
use super::header::{Selection, resolve_features};
use super::parquet::ParquetFile;
use super::parquet_parallel::decode_in_parallel;
use super::plan::{FeatureKind, Plan, plan};
use super::store::DataObject;
use super::table::{Column, MISSING_LEVEL, Table, table_rows};
use crate::error::{Error, Result};

/// Where a cell sits, as messages name it.
fn at(origin: &str, group: usize, row: u64) -> String {
    format!("{origin}: row group {group}, row {row}")
}

/// A null (or empty) cell under `missing = "error"`.
fn missing(origin: &str, group: usize, row: u64, name: &str) -> Error {
    Error::data(format!(
        "{}: column \"{name}\" is null; fill it, or set data.missing = \"drop-row\" or \"mean\"",
        at(origin, group, row)
    ))
}

/// The header and feature names of the first file of an input.
pub(super) type First = Option<(Vec<String>, Vec<String>)>;

/// Stream the Parquet file `path` as tables (one per batch) with the
/// columns of `sel`, checking its columns against the first file's
/// (`first`, set when this is the first); the file's raw bytes go into
/// `hasher`, which is returned with the object the file was read from, if
/// it is in object storage. Row groups are decoded and their batches made
/// into tables on worker threads ([`decode_in_parallel`]), handed to `f`
/// in file order.
pub(super) fn stream_parquet(
    path: &Path,
    sel: &Selection,
    first: &mut First,
    hasher: Sha256,
    f: &mut dyn FnMut(Table) -> Result<()>,
) -> Result<(Sha256, Option<DataObject>)> {
    let file = ParquetFile::open(path)?;
    let origin = file.origin.clone();
    let header = file.header();
    let names = match first {
        None => {
            let names = resolve_features(&header, sel, &origin)?;
            *first = Some((header.clone(), names.clone()));
            names
        }
        Some((h, names)) if *h == header => names.clone(),
        Some(_) => {
            return Err(Error::data(format!(
                "{origin}: its columns differ from those of the first file of data.path; every file needs the same columns in the same order"
            )));
        }
    };
    let plan = plan(&header, &names, sel, &origin)?;
    if file.rows() == 0 {
        return Err(Error::data(format!(
            "{origin} has columns but no rows; add data"
        )));
    }
    let mut columns: Vec<usize> = plan.feat_idx.clone();
    columns.extend(plan.target.map(|(i, _)| i));
    let raw = file.raw_reader()?;
    let batch = table_rows(plan.feat_idx.len());
    let hasher = std::thread::scope(|s| {
        let hashing = s.spawn(move || hash_into(raw, hasher));
        let read = decode_in_parallel(
            &file,
            &columns,
            batch,
            &|b, g, first_row| batch_table(&plan, &header, &b, g, first_row),
            f,
        );
        let hasher = hashing
            .join()
            .map_err(|_| Error::data(format!("{origin}: hashing the file failed")))?;
        read.and(hasher)
    })?;
    Ok((hasher, file.data_object()))
}

/// Feed everything `raw` holds into `hasher`.
fn hash_into(mut raw: Box<dyn std::io::Read + Send>, mut hasher: Sha256) -> Result<Sha256> {
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = raw.read(&mut buf).map_err(|e| {
            Error::Remote(format!(
                "reading the input failed: {}",
                crate::error::io_reason(&e)
            ))
        })?;
        if n == 0 {
            return Ok(hasher);
        }
        hasher.update(&buf[..n]);
    }
}

/// The table of one batch: rows `first + 1 ..` of the file.
fn batch_table(
    plan: &Plan<'_>,
    header: &[String],
    batch: &RecordBatch,
    group: usize,
    first: u64,
) -> Result<Table> {
    let origin = plan.origin;
    let n = batch.num_rows();
    let column = |i: usize| -> Result<Cells<'_>> {
        let name = &header[i];
        let array = batch.column_by_name(name).ok_or_else(|| {
            Error::data(format!(
                "{origin}: column \"{name}\" is missing from row group {group}"
            ))
        })?;
        Cells::of(array.as_ref()).map_err(|t| {
            Error::data(format!(
                "{origin}: column \"{name}\" has type {t}, which mlops cannot read; store it as an integer, float, boolean or string column"
            ))
        })
    };
    let lines: Vec<u64> = (first + 1..=first + n as u64).collect();
    let target = match plan.target {
        Some((ti, name)) => numbers(plan, &column(ti)?, name, group, &lines, true)?,
        None => Vec::new(),
    };
    let mut features = Vec::with_capacity(plan.feat_idx.len());
    for (k, &ci) in plan.feat_idx.iter().enumerate() {
        let name = &plan.feature_names[k];
        let cells = column(ci)?;
        features.push(match plan.kinds[k] {
            FeatureKind::Numeric => {
                Column::Numeric(numbers(plan, &cells, name, group, &lines, false)?)
            }
            FeatureKind::Categorical => levels(plan, &cells, name, group, &lines)?,
        });
    }
    Ok(Table {
        origin: origin.to_string(),
        feature_names: plan.feature_names.to_vec(),
        features,
        target,
        lines,
        sources: Vec::new(),
    })
}

/// A numeric column (`NaN` for a missing cell).
fn numbers(
    plan: &Plan<'_>,
    cells: &Cells<'_>,
    name: &str,
    group: usize,
    lines: &[u64],
    is_target: bool,
) -> Result<Vec<f64>> {
    let origin = plan.origin;
    // The common case: doubles without nulls, taken as they are.
    if let Cells::F64(a) = cells
        && a.null_count() == 0
        && a.values().iter().all(|v| v.is_finite())
    {
        return Ok(a.values().to_vec());
    }
    let mut out = Vec::with_capacity(lines.len());
    for (i, &row) in lines.iter().enumerate() {
        match cells.get(i).number() {
            Ok(Some(v)) => out.push(v),
            Ok(None) if plan.error_on_missing => {
                return Err(missing(origin, group, row, name));
            }
            Ok(None) => out.push(f64::NAN),
            Err(text) if plan.is_na(text.as_bytes()) => {
                if plan.error_on_missing {
                    return Err(missing(origin, group, row, name));
                }
                out.push(f64::NAN);
            }
            Err(text) => {
                let hint = super::cell::not_a_number_hint(&text);
                let fix = if is_target && hint == super::cell::CATEGORICAL_HINT {
                    "the target must be numeric, fix the cell"
                } else {
                    &hint
                };
                return Err(Error::data(format!(
                    "{}: column \"{name}\": \"{text}\" is not a number; {fix}",
                    at(origin, group, row)
                )));
            }
        }
    }
    Ok(out)
}

/// A categorical column: each cell's text as its level, in first-seen order.
fn levels(
    plan: &Plan<'_>,
    cells: &Cells<'_>,
    name: &str,
    group: usize,
    lines: &[u64],
) -> Result<Column> {
    let origin = plan.origin;
    let mut map: std::collections::HashMap<String, u32> = std::collections::HashMap::new();
    let mut levels: Vec<String> = Vec::new();
    let mut codes = Vec::with_capacity(lines.len());
    let mut text = String::new();
    for (i, &row) in lines.iter().enumerate() {
        text.clear();
        let cell = cells.get(i);
        cell.write_text(&mut text);
        let level = if matches!(cell, Cell::Null) || plan.is_na(text.as_bytes()) {
            None
        } else {
            parse_level(text.as_bytes(), origin, row, name)?
        };
        let code = match level {
            None if plan.error_on_missing => {
                return Err(missing(origin, group, row, name));
            }
            None => MISSING_LEVEL,
            Some(s) => {
                if let Some(&c) = map.get(s) {
                    c
                } else {
                    let c = u32::try_from(levels.len()).unwrap_or(MISSING_LEVEL - 1);
                    map.insert(s.to_string(), c);
                    levels.push(s.to_string());
                    c
                }
            }
        };
        codes.push(code);
    }
    Ok(Column::Categorical { codes, levels })
}
