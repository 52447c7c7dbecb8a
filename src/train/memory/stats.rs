//! The statistics of the in-memory path's training rows that the artifact
//! records: per feature (numeric moments and deciles, or level counts) and of
//! the target.

use indexmap::IndexMap;

use crate::data::{Column, MISSING_LEVEL, Table};
use crate::model::stats::{self, CategoricalStats, ColumnStats, NumericStats};
use crate::model::{Categorical, Value};

/// What the artifact records of the training rows' values.
pub(super) struct TrainingStats {
    pub features: IndexMap<String, ColumnStats>,
    pub target: NumericStats,
}

/// Per-feature and target statistics of the training rows.
pub(super) fn training_stats(
    table: &Table,
    train_idx: &[usize],
    categorical: &IndexMap<String, Categorical>,
) -> TrainingStats {
    let mut feature_stats = IndexMap::new();
    for (name, col) in table.feature_names.iter().zip(&table.features) {
        let s = match col {
            Column::Numeric(v) => {
                ColumnStats::Numeric(stats::numeric(train_idx.iter().map(|&i| v[i])))
            }
            Column::Categorical { codes, levels } => {
                let mut counts: IndexMap<String, u64> = categorical[name]
                    .levels
                    .iter()
                    .map(|l| (l.clone(), 0))
                    .collect();
                // A level folded into `other` counts there.
                let cat = &categorical[name];
                let names: Vec<&String> = levels
                    .iter()
                    .map(|l| match cat.value_of(l) {
                        Some(Value::Level(k)) => &cat.levels[k],
                        _ => l,
                    })
                    .collect();
                let mut missing = 0;
                for &i in train_idx {
                    match codes[i] {
                        MISSING_LEVEL => missing += 1,
                        c => *counts.entry(names[c as usize].clone()).or_default() += 1,
                    }
                }
                ColumnStats::Categorical(CategoricalStats {
                    count: train_idx.len() as u64 - missing,
                    missing,
                    levels: counts,
                })
            }
        };
        feature_stats.insert(name.clone(), s);
    }
    let target_stats = stats::numeric(train_idx.iter().map(|&i| table.target[i]));
    TrainingStats {
        features: feature_stats,
        target: target_stats,
    }
}
