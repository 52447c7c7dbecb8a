//! The statistics of the training rows that the artifact records, from pass
//! 1's exact moments and level counts and pass 2's decile histograms.

use indexmap::IndexMap;

use crate::model::Categorical;
use crate::model::stats::{CategoricalStats, ColumnStats, NumericStats};
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
                let mut counts: IndexMap<String, u64> = IndexMap::new();
                for l in &categorical[name].levels {
                    counts.insert(l.clone(), lv.counts[lv.index[l]]);
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
