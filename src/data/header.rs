//! The header row and the columns chosen from it: the `[data]` selection,
//! reading and checking the header, and finding named columns in it (with a
//! did-you-mean hint when one is missing).

use std::collections::HashMap;
use std::io::Read;

use super::records::csv_error;
use crate::error::{Error, Result};
use crate::project::MissingPolicy;

/// Which columns to read, in the terms of `[data]`.
#[derive(Debug, Clone)]
pub struct Selection {
    /// The target column (none when predicting).
    pub target: Option<String>,
    /// Explicit feature list, or `None` for "every other column".
    pub features: Option<Vec<String>>,
    /// Columns never used as features.
    pub exclude: Vec<String>,
    /// Categorical feature columns.
    pub categorical: Vec<String>,
    /// Missing-value policy: `Error` fails while reading.
    pub missing: MissingPolicy,
    /// Cell texts that mean "missing" besides the empty cell (`data.na_values`).
    pub na_values: Vec<String>,
}

/// Read and check the header row: names in order, no duplicates.
pub fn read_header<R: Read>(rdr: &mut csv::Reader<R>, origin: &str) -> Result<Vec<String>> {
    let mut rec = csv::ByteRecord::new();
    let got = rdr
        .read_byte_record(&mut rec)
        .map_err(|e| csv_error(origin, &e))?;
    if !got || (rec.len() == 1 && rec[0].trim_ascii().is_empty()) {
        return Err(Error::data(format!(
            "{origin} is empty; it needs a header row and at least one data row"
        )));
    }
    let mut names = Vec::with_capacity(rec.len());
    for (i, f) in rec.iter().enumerate() {
        let f = if i == 0 {
            f.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(f)
        } else {
            f
        };
        let Ok(s) = std::str::from_utf8(f) else {
            return Err(Error::data(format!(
                "{origin}:1: header field {} is not valid UTF-8; save the file as UTF-8",
                i + 1
            )));
        };
        names.push(s.trim().to_string());
    }
    let mut seen = HashMap::new();
    for (i, n) in names.iter().enumerate() {
        if let Some(j) = seen.insert(n.as_str(), i) {
            return Err(Error::data(format!(
                "{origin}:1: column \"{n}\" appears twice (fields {} and {}); rename one",
                j + 1,
                i + 1
            )));
        }
    }
    Ok(names)
}

/// The index of each of `wanted` in `header`, or a data error naming every
/// missing one (and the nearest existing name).
pub fn locate(
    header: &[String],
    wanted: &[String],
    origin: &str,
    role: &str,
) -> Result<Vec<usize>> {
    let mut idx = Vec::with_capacity(wanted.len());
    let mut missing = Vec::new();
    for w in wanted {
        match header.iter().position(|h| h == w) {
            Some(i) => idx.push(i),
            None => missing.push(w.as_str()),
        }
    }
    if missing.is_empty() {
        return Ok(idx);
    }
    let hs: Vec<&str> = header.iter().map(String::as_str).collect();
    let hint = if missing.len() == 1 {
        match crate::project::nearest(missing[0], &hs) {
            Some(n) => format!("; did you mean \"{n}\"?"),
            None => format!("; its columns are: {}", hs.join(", ")),
        }
    } else {
        format!("; its columns are: {}", hs.join(", "))
    };
    let list = missing
        .iter()
        .map(|m| format!("\"{m}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let noun = if missing.len() == 1 {
        "column"
    } else {
        "columns"
    };
    Err(Error::data(format!(
        "{origin}:1: {role} {noun} {list} not in the header{hint}"
    )))
}

/// Resolve the feature list of `sel` against a header.
pub fn resolve_features(header: &[String], sel: &Selection, origin: &str) -> Result<Vec<String>> {
    locate(header, &sel.exclude, origin, "excluded")?;
    let feats = match &sel.features {
        Some(f) => f.clone(),
        None => header
            .iter()
            .filter(|h| Some(*h) != sel.target.as_ref() && !sel.exclude.contains(h))
            .cloned()
            .collect(),
    };
    locate(header, &feats, origin, "feature")?;
    locate(header, &sel.categorical, origin, "categorical")?;
    if feats.is_empty() {
        return Err(Error::data(format!(
            "{origin}: no feature columns are left after removing the target and data.exclude; add columns or list data.features"
        )));
    }
    Ok(feats)
}
