//! How the in-memory path encodes features: each categorical feature's
//! levels (sorted, from training rows), the fill values of the missing-value
//! policy, and the design terms.

use indexmap::IndexMap;

use crate::data::{Column, MISSING_LEVEL, Table};
use crate::error::{Error, Result};
use crate::model::stats;
use crate::model::{self, Categorical, LevelRules, Term, Value};
use crate::project::MissingPolicy;

/// A code map's entry for a level read as all zeros (`handle_unknown =
/// "ignore"`): an index no term has.
pub(super) const IGNORED: usize = usize::MAX;

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
        rules: LevelRules,
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
                    let counts = level_counts(codes, levels.len(), train_idx);
                    let Some(cat) = Categorical::from_counts(levels, &counts, rules, fit_intercept)
                    else {
                        return Err(Error::data(format!(
                            "{}: categorical column \"{name}\" has no value in any training row; fill it or drop it from data.features",
                            table.origin
                        )));
                    };
                    let map: Vec<Option<usize>> = levels.iter().map(|l| code_of(&cat, l)).collect();
                    if policy == MissingPolicy::Mean {
                        let idx = most_frequent(&map, &counts, cat.levels.len());
                        fills.push(Fill::Level(idx));
                        fill_json.insert(name.clone(), serde_json::json!(cat.levels[idx]));
                    } else {
                        fills.push(Fill::None);
                    }
                    code_maps.push(map);
                    categorical.insert(name.clone(), cat);
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

/// Each level code's count in the training rows.
fn level_counts(codes: &[u32], n_levels: usize, train_idx: &[usize]) -> Vec<u64> {
    let mut counts = vec![0u64; n_levels];
    for &i in train_idx {
        if codes[i] != MISSING_LEVEL {
            counts[codes[i] as usize] += 1;
        }
    }
    counts
}

/// The trained level index a level reads as: its own, `other`, [`IGNORED`]
/// (all zeros), or `None` (unseen: an error).
pub(super) fn code_of(cat: &Categorical, level: &str) -> Option<usize> {
    match cat.value_of(level)? {
        Value::Level(i) => Some(i),
        _ => Some(IGNORED),
    }
}

/// The most frequent trained level (after folding); ties go to the first in
/// sorted order.
fn most_frequent(map: &[Option<usize>], counts: &[u64], n_trained: usize) -> usize {
    let mut per_level = vec![0u64; n_trained];
    for (m, &c) in map.iter().zip(counts) {
        if let Some(i) = m
            && *i < n_trained
        {
            per_level[*i] += c;
        }
    }
    let mut best = 0;
    for (i, &c) in per_level.iter().enumerate() {
        if c > per_level[best] {
            best = i;
        }
    }
    best
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
            (Column::Categorical { levels, .. }, Some(c)) => {
                levels.iter().map(|l| code_of(c, l)).collect()
            }
            _ => Vec::new(),
        })
        .collect()
}
