//! The statistics of the training rows that the artifact records, from pass
//! 1's exact moments and level counts and pass 2's decile histograms.

use indexmap::IndexMap;

use crate::model::stats::{CategoricalStats, ColumnStats, NumericStats};
use crate::model::{Categorical, Value};
use crate::train::streaming::deciles::Histograms;
use crate::train::streaming::fold::Fold;

/// Per-feature and target statistics of the training rows.
pub(super) fn training_stats(
    fold: &Fold,
    histograms: &Histograms,
    feature_names: &[String],
    categorical: &IndexMap<String, Categorical>,
) -> (IndexMap<String, ColumnStats>, NumericStats) {
    let mut feature_stats = IndexMap::new();
    for (k, name) in feature_names.iter().enumerate() {
        let s = match &fold.levels[k] {
            Some(lv) => {
                let cat = &categorical[name];
                let mut counts: IndexMap<String, u64> =
                    cat.levels.iter().map(|l| (l.clone(), 0)).collect();
                // A level folded into `other` counts there.
                for (l, &c) in lv.names.iter().zip(&lv.counts) {
                    if let Some(Value::Level(k)) = cat.value_of(l) {
                        counts[k] += c;
                    }
                }
                ColumnStats::Categorical(CategoricalStats {
                    count: fold.train - lv.missing,
                    missing: lv.missing,
                    levels: counts,
                })
            }
            None => ColumnStats::Numeric(histograms.feature_stats(k, &fold.moments[k])),
        };
        feature_stats.insert(name.clone(), s);
    }
    let target_stats = histograms.target_stats(&fold.target);
    (feature_stats, target_stats)
}
