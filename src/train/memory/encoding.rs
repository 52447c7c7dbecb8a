//! How the in-memory path encodes features: each categorical feature's
//! levels (sorted, from training rows), the fill values of the missing-value
//! policy, and the design terms.

use indexmap::IndexMap;

use crate::data::{Column, MISSING_LEVEL, Table};
use crate::error::{Error, Result};
use crate::model::stats;
use crate::model::{self, Categorical, Term};
use crate::project::MissingPolicy;

/// A missing cell's replacement.
#[derive(Debug, Clone, Copy)]
pub(super) enum Fill {
    None,
    Number(f64),
    Level(usize),
}

/// Levels, fill values and the design terms of a table's features.
pub(super) struct Encoding {
    /// The trained levels of each categorical feature.
    pub categorical: IndexMap<String, Categorical>,
    /// Per feature, the trained level of each of the table's level codes
    /// (empty for a numeric feature).
    pub code_maps: Vec<Vec<Option<usize>>>,
    /// Per feature, the replacement of a missing cell.
    pub fills: Vec<Fill>,
    /// The fill values as the artifact records them.
    pub fill_json: IndexMap<String, serde_json::Value>,
    /// The design's terms and their names.
    pub terms: Vec<Term>,
    pub term_names: Vec<String>,
}

impl Encoding {
    /// Levels (sorted, from training rows), fill values and the design terms.
    pub fn of(
        table: &Table,
        train_idx: &[usize],
        policy: MissingPolicy,
        fit_intercept: bool,
    ) -> Result<Encoding> {
        let mut categorical = IndexMap::new();
        let mut code_maps: Vec<Vec<Option<usize>>> = Vec::new();
        let mut fills: Vec<Fill> = Vec::new();
        let mut fill_json = IndexMap::new();
        for (name, col) in table.feature_names.iter().zip(&table.features) {
            match col {
                Column::Numeric(v) => {
                    code_maps.push(Vec::new());
                    if policy == MissingPolicy::Mean {
                        let s = stats::numeric(train_idx.iter().map(|&i| v[i]));
                        let m = if s.count == 0 { 0.0 } else { s.mean };
                        fills.push(Fill::Number(m));
                        fill_json.insert(name.clone(), serde_json::json!(m));
                    } else {
                        fills.push(Fill::None);
                    }
                }
                Column::Categorical { codes, levels } => {
                    let (counts, seen) = training_levels(codes, levels, train_idx);
                    if seen.is_empty() {
                        return Err(Error::data(format!(
                            "{}: categorical column \"{name}\" has no value in any training row; fill it or drop it from data.features",
                            table.origin
                        )));
                    }
                    let map: Vec<Option<usize>> =
                        levels.iter().map(|l| seen.binary_search(&l).ok()).collect();
                    if policy == MissingPolicy::Mean {
                        let best = most_frequent(&seen, levels, &counts);
                        let idx = seen.binary_search(&&best).unwrap_or(0);
                        fills.push(Fill::Level(idx));
                        fill_json.insert(name.clone(), serde_json::json!(best));
                    } else {
                        fills.push(Fill::None);
                    }
                    code_maps.push(map);
                    categorical.insert(
                        name.clone(),
                        Categorical {
                            levels: seen.iter().map(|s| (*s).clone()).collect(),
                            reference: fit_intercept.then(|| seen[0].clone()),
                        },
                    );
                }
            }
        }
        let (terms, term_names) = model::design_terms(&table.feature_names, &categorical);
        Ok(Encoding {
            categorical,
            code_maps,
            fills,
            fill_json,
            terms,
            term_names,
        })
    }
}

/// Each level's count in the training rows, and the levels met there, sorted.
fn training_levels<'a>(
    codes: &[u32],
    levels: &'a [String],
    train_idx: &[usize],
) -> (Vec<u64>, Vec<&'a String>) {
    let mut counts = vec![0u64; levels.len()];
    for &i in train_idx {
        if codes[i] != MISSING_LEVEL {
            counts[codes[i] as usize] += 1;
        }
    }
    let mut seen: Vec<&String> = levels
        .iter()
        .zip(&counts)
        .filter(|(_, c)| **c > 0)
        .map(|(l, _)| l)
        .collect();
    seen.sort();
    (counts, seen)
}

/// The most frequent level; ties go to the first in sorted order.
fn most_frequent(seen: &[&String], levels: &[String], counts: &[u64]) -> String {
    seen.iter()
        .map(|l| {
            let code = levels.iter().position(|x| x == *l).unwrap_or(0);
            (counts[code], *l)
        })
        .fold(None::<(u64, &String)>, |acc, (c, l)| match acc {
            Some((bc, _)) if bc >= c => acc,
            _ => Some((c, l)),
        })
        .map(|(_, l)| l.clone())
        .unwrap_or_default()
}

/// Map a validation table's level codes onto the trained levels.
pub(super) fn remap_levels(
    t: &Table,
    cats: &IndexMap<String, Categorical>,
) -> Vec<Vec<Option<usize>>> {
    t.feature_names
        .iter()
        .zip(&t.features)
        .map(|(name, col)| match (col, cats.get(name)) {
            (Column::Categorical { levels, .. }, Some(c)) => levels
                .iter()
                .map(|l| c.levels.binary_search(l).ok())
                .collect(),
            _ => Vec::new(),
        })
        .collect()
}
