//! Scoring the evaluation rows: each model's prediction per row (a
//! classifier's: its probability of each class), and the rows both the
//! candidate and the baseline can score (a row with an unseen level, or an
//! empty cell the model has no fill value for, is left out).

use crate::data::{Column, MISSING_LEVEL, Table};
use crate::error::{Error, Result};
use crate::model::classes::ClassPredictor;
use crate::model::{Artifact, Predictor, Value};

/// The targets and predictions of the rows both models could score.
pub(super) struct Scores {
    /// The target of each scored row (a classifier's: the class index).
    pub(super) y: Vec<f64>,
    /// The candidate's prediction of each (a classifier's: the
    /// probability of each class, `k` per row).
    pub(super) candidate: Vec<f64>,
    /// The baseline's prediction of each, likewise (empty without a baseline).
    pub(super) baseline: Vec<f64>,
}

impl Scores {
    /// Score `rows` of `table` with the candidate and the baseline; an error
    /// when no row can be scored.
    pub(super) fn of(
        cand: &Artifact,
        base: Option<&Artifact>,
        table: &Table,
        rows: &[usize],
    ) -> Result<Scores> {
        let cs = Scorer::new(cand, table)?;
        let bs = match base {
            Some(b) => Some(Scorer::new(b, table)?),
            None => None,
        };
        let mut y = Vec::with_capacity(rows.len());
        let mut pc = Vec::with_capacity(rows.len());
        let mut pb = Vec::new();
        for &i in rows {
            let t = table.target[i];
            if t.is_nan() {
                continue;
            }
            let Some(c) = cs.score(table, i) else {
                continue;
            };
            let b = match &bs {
                Some(s) => match s.score(table, i) {
                    Some(b) => Some(b),
                    None => continue,
                },
                None => None,
            };
            y.push(t);
            pc.extend(c);
            if let Some(b) = b {
                pb.extend(b);
            }
        }
        if y.is_empty() {
            return Err(Error::data(format!(
                "{}: none of the {} validation rows can be scored (each has an empty target, an unseen level or an empty cell the model has no fill value for); see the data checks with --data, or fix the rows",
                table.origin,
                rows.len()
            )));
        }
        Ok(Scores {
            y,
            candidate: pc,
            baseline: pb,
        })
    }
}

/// Scores rows of a table with one model.
pub(super) struct Scorer {
    predictor: Predictor,
    /// A classifier's predictor.
    class: Option<ClassPredictor>,
    /// Table column of each model feature.
    cols: Vec<usize>,
    /// Per model feature: table level code → model level index.
    levels: Vec<Option<Vec<Option<Value>>>>,
    /// Per model feature: the fill value of a missing cell.
    fills: Vec<Option<Value>>,
}

impl Scorer {
    pub(super) fn new(a: &Artifact, t: &Table) -> Result<Scorer> {
        let mut cols = Vec::new();
        let mut levels = Vec::new();
        let mut fills = Vec::new();
        for f in &a.features {
            let ci = t.feature_names.iter().position(|n| n == f).ok_or_else(|| {
                Error::data(format!(
                    "{}:1: feature column \"{f}\" not in the header",
                    t.origin
                ))
            })?;
            cols.push(ci);
            let fill = a.missing.fill.get(f);
            match (&t.features[ci], a.categorical.get(f)) {
                (Column::Categorical { levels: tl, .. }, Some(c)) => {
                    levels.push(Some(tl.iter().map(|l| c.value_of(l)).collect()));
                    fills.push(
                        fill.and_then(|v| v.as_str())
                            .and_then(|s| c.levels.binary_search(&s.to_string()).ok())
                            .map(Value::Level),
                    );
                }
                (Column::Numeric(_), None) => {
                    levels.push(None);
                    fills.push(fill.and_then(serde_json::Value::as_f64).map(Value::Number));
                }
                _ => {
                    return Err(Error::data(format!(
                        "{}: column \"{f}\" is not read the way the model reads it; check data.categorical",
                        t.origin
                    )));
                }
            }
        }
        Ok(Scorer {
            predictor: a.predictor()?,
            class: a.class_predictor()?,
            cols,
            levels,
            fills,
        })
    }

    /// The prediction for row `i` (a classifier's: the probability of each
    /// class), or `None` when the model cannot score it.
    pub(super) fn score(&self, t: &Table, i: usize) -> Option<Vec<f64>> {
        let row = self.row(t, i)?;
        Some(match &self.class {
            Some(c) => c.probabilities(&row),
            None => vec![self.predictor.predict(&row)],
        })
    }

    /// The model's values of row `i`, or `None` when it cannot score it.
    fn row(&self, t: &Table, i: usize) -> Option<Vec<Value>> {
        let mut row = Vec::with_capacity(self.cols.len());
        for (k, &ci) in self.cols.iter().enumerate() {
            let v = match (&t.features[ci], &self.levels[k]) {
                (Column::Numeric(v), _) => {
                    if v[i].is_nan() {
                        self.fills[k]?
                    } else {
                        Value::Number(v[i])
                    }
                }
                (Column::Categorical { codes, .. }, Some(map)) => match codes[i] {
                    MISSING_LEVEL => self.fills[k]?,
                    c => map.get(c as usize).copied().flatten()?,
                },
                (Column::Categorical { .. }, None) => return None,
            };
            row.push(v);
        }
        Some(row)
    }
}
