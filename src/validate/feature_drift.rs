//! Drift of each candidate feature: the training rows of the training data
//! against every row of the recent data, counted into the samples that
//! [`super::drift`] tests.

use std::collections::HashMap;
use std::path::Path;

use crate::data::{self, Column, MISSING_LEVEL, Table};
use crate::error::Result;
use crate::model::Artifact;
use crate::model::stats::ColumnStats;
use crate::project::DriftSection;
use crate::report::Progress;

use super::columns::Columns;
use super::drift::{self, DriftThresholds, FeatureDrift};
use super::training::Training;

/// The thresholds of `[validate.drift]`, with the defaults.
pub(super) fn thresholds(dcfg: &DriftSection) -> DriftThresholds {
    let ks_p = dcfg.ks_p_value.unwrap_or(drift::DEFAULT_KS_P_VALUE);
    DriftThresholds {
        max_psi: dcfg.max_psi.unwrap_or(drift::DEFAULT_MAX_PSI),
        ks_p_value: ks_p,
        chi2_p_value: dcfg.chi2_p_value.unwrap_or(ks_p),
    }
}

/// Read the recent data at `path` (a CSV, or a prediction log whose lines
/// at or after `since` count) and measure the drift of every candidate
/// feature against the training rows; then, for a classifier, of its
/// predicted probabilities.
pub(super) fn of_recent(
    path: &Path,
    since: Option<f64>,
    cand: &Artifact,
    training: &Training,
    columns: &Columns,
    th: &DriftThresholds,
    progress: &dyn Progress,
) -> Result<(Vec<FeatureDrift>, Vec<FeatureDrift>)> {
    let selection = columns.tolerant(None, &cand.features);
    let recent = if super::prediction_log::is_prediction_log(path) {
        let log = super::prediction_log::convert(path, &cand.features, since)?;
        data::load(&log.csv, &selection, progress)?.table
    } else if since.is_some() {
        return Err(crate::error::Error::usage(format!(
            "--since keeps the recent lines of a prediction log, and {} is a CSV; remove --since or give the JSON Lines log",
            crate::error::display_path(path)
        )));
    } else {
        data::load(path, &selection, progress)?.table
    };
    let predictions = super::prediction_drift::of(cand, training, &recent, th)?;
    Ok((drift_of(cand, training, &recent, th), predictions))
}

/// Drift of every candidate feature: training rows against recent rows.
fn drift_of(
    cand: &Artifact,
    t: &Training,
    recent: &Table,
    th: &DriftThresholds,
) -> Vec<FeatureDrift> {
    let col = |tab: &'_ Table, name: &str| -> Option<usize> {
        tab.feature_names.iter().position(|n| n == name)
    };
    let mut out = Vec::new();
    for f in &cand.features {
        let (Some(ti), Some(ri)) = (col(&t.table, f), col(recent, f)) else {
            continue;
        };
        match (&t.table.features[ti], &recent.features[ri]) {
            (Column::Numeric(tv), Column::Numeric(rv)) => {
                let train: Vec<f64> = t.train_idx.iter().map(|&i| tv[i]).collect();
                let edges = match cand.feature_stats.get(f) {
                    Some(ColumnStats::Numeric(s)) => s.deciles.clone(),
                    _ => Vec::new(),
                };
                out.push(drift::numeric(f, &train, rv, &edges, th));
            }
            (
                Column::Categorical {
                    codes: tc,
                    levels: tl,
                },
                Column::Categorical {
                    codes: rc,
                    levels: rl,
                },
            ) => {
                // Levels: the training levels in order, then recent-only ones.
                let mut names: Vec<String> = cand
                    .categorical
                    .get(f)
                    .map(|c| c.levels.clone())
                    .unwrap_or_default();
                let mut index: HashMap<String, usize> = names
                    .iter()
                    .enumerate()
                    .map(|(i, l)| (l.clone(), i))
                    .collect();
                let mut a =
                    level_counts(tc, tl, t.train_idx.iter().copied(), &mut names, &mut index);
                let mut b = level_counts(rc, rl, 0..recent.rows(), &mut names, &mut index);
                a.resize(names.len(), 0);
                b.resize(names.len(), 0);
                out.push(drift::categorical(f, &a, &b, th));
            }
            _ => {}
        }
    }
    out
}

/// Counts per level name of rows `idx`; new names are appended to `names`.
fn level_counts(
    codes: &[u32],
    levels: &[String],
    idx: impl Iterator<Item = usize>,
    names: &mut Vec<String>,
    index: &mut HashMap<String, usize>,
) -> Vec<u64> {
    let mut c = vec![0u64; names.len()];
    for i in idx {
        let code = codes[i];
        if code == MISSING_LEVEL {
            continue;
        }
        let l = &levels[code as usize];
        let k = match index.get(l) {
            Some(&k) => k,
            None => {
                names.push(l.clone());
                index.insert(l.clone(), names.len() - 1);
                names.len() - 1
            }
        };
        if c.len() <= k {
            c.resize(k + 1, 0);
        }
        c[k] += 1;
    }
    c
}
