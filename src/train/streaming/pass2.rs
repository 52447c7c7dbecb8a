//! Pass 2 of the streaming fit: what needs the final coefficients or the
//! final ranges. MAE and MAPE need every residual (RMSE and R² are computed
//! here too, from the same sums), and the decile histograms need each
//! column's training min and max. Pass 2 reads the spill of pass 1 (or the
//! CSV again), then the separate validation file, if any.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use indexmap::IndexMap;

use crate::data::{self, Column, MISSING_LEVEL, Selection, Table, split};
use crate::error::{Error, Result};
use crate::model::classes::ClassMetricsPair;
use crate::model::stats::{ColumnStats, NumericStats};
use crate::model::{self, Categorical, Metrics};
use crate::report::Progress;
use crate::stats::classification::Tally;
use crate::train::streaming::bins::BinCounts;
use crate::train::streaming::deciles::Histograms;
use crate::train::streaming::fold::Fold;
use crate::train::streaming::labels::LabelSet;
use crate::train::streaming::metric_sums::MetricSums;
use crate::train::streaming::moments::Moments;
use crate::train::streaming::plan::Plan;
use crate::train::streaming::scoring::{Scored, Scoring, lookup_of};
use crate::train::streaming::stats::training_stats;

/// Pass-2 state: the model's predictor, and the sums and histograms so far.
pub(super) struct Pass2<'a> {
    plan: &'a Plan<'a>,
    feature_names: &'a [String],
    categorical: &'a IndexMap<String, Categorical>,
    predictor: &'a model::Predictor,
    /// Per categorical feature, each trained level's index by name.
    lookup: Vec<Option<HashMap<&'a str, usize>>>,
    /// The row being predicted, one value per feature.
    values: Vec<model::Value>,
    /// Numeric-only models: the prediction as Predictor::predict computes it
    /// (the same terms in the same order), straight from the columns.
    numeric_terms: Option<Vec<(usize, f64)>>,
    identity: bool,
    histograms: Histograms,
    /// The moments of the training predictions.
    predicted: Moments,
    /// Pass 3 (set by [`Pass2::count_bins`]): counts per final decile bin.
    counting: Option<BinCounts>,
    /// The features' counts per final decile bin, made here when their
    /// histograms were filled before ([`Pass2::features_counted`]).
    feature_bins: Option<BinCounts>,
    train_sums: MetricSums,
    valid_sums: MetricSums,
    /// The file row of the next block's first row.
    row0: u64,
    validation_sha256: Option<String>,
    /// A classifier's scoring (its metrics replace the sums above) and its
    /// labels (for the separate validation file).
    scoring: Option<(Scoring, &'a LabelSet)>,
    /// The range of the predictions' decile histogram: the target's, or a
    /// classifier's [0, 1].
    range: Moments,
}

/// Blocks handed to two lanes and then in order ([`super::replay_lanes`]).
pub(super) type Lanes<'r> = dyn FnMut(
        &(dyn Fn(usize, u64, &Table) -> Result<Scored> + Sync),
        &mut (dyn FnMut(usize, &Table, Scored) -> Result<()> + Send),
    ) -> Result<()>
    + 'r;

/// What pass 2 measured.
pub(super) struct Measured {
    pub metrics: Metrics,
    pub feature_stats: IndexMap<String, ColumnStats>,
    pub target_stats: NumericStats,
    /// The training predictions (bin counts from pass 3).
    pub prediction_stats: NumericStats,
    /// SHA-256 of the separate validation file, if any.
    pub validation_sha256: Option<String>,
    /// A classifier's classification metrics.
    pub classes: Option<ClassMetricsPair>,
}

impl<'a> Pass2<'a> {
    /// Pass 2 of the model `predictor` (a classifier's: `scoring`, with its
    /// labels), with histograms over pass 1's ranges.
    pub fn new(
        plan: &'a Plan<'a>,
        fold: &Fold,
        feature_names: &'a [String],
        (categorical, predictor): (&'a IndexMap<String, Categorical>, &'a model::Predictor),
        scoring: Option<(Scoring, &'a LabelSet)>,
    ) -> Pass2<'a> {
        let lookup = lookup_of(feature_names, categorical);
        // A classifier's predictions are probabilities.
        let range = if scoring.is_some() {
            Moments {
                min: 0.0,
                max: 1.0,
                ..Moments::default()
            }
        } else {
            fold.target
        };
        let numeric_terms: Option<Vec<(usize, f64)>> = predictor
            .terms
            .iter()
            .zip(&predictor.coefficients)
            .map(|(t, b)| match t {
                model::Term::Numeric { feature } => Some((*feature, *b)),
                model::Term::Level { .. } => None,
            })
            .collect();
        Pass2 {
            plan,
            feature_names,
            categorical,
            predictor,
            lookup,
            values: vec![model::Value::Number(0.0); feature_names.len()],
            numeric_terms,
            identity: predictor.inverse == model::Inverse::Identity,
            histograms: Histograms::new(&fold.moments, &range),
            predicted: Moments::default(),
            counting: None,
            feature_bins: None,
            train_sums: MetricSums::default(),
            valid_sums: MetricSums::default(),
            row0: 0,
            validation_sha256: None,
            scoring,
            range,
        }
    }

    /// The features' decile histograms of the training rows, `filled`
    /// before this pass (by an earlier pass over the same rows): their
    /// edges are final now, so this pass counts the rows per bin of them
    /// (what pass 3 would).
    pub fn features_counted(&mut self, fold: &Fold, filled: Histograms) {
        self.histograms = filled;
        let (features, _) =
            training_stats(fold, &self.histograms, self.feature_names, self.categorical);
        self.feature_bins = Some(BinCounts::features_from(&features, &self.histograms));
    }

    /// Score and count the block `t` of the training files. The features'
    /// histograms (pass 2) or bin counts (pass 3, or pass 2 after
    /// [`Pass2::features_counted`]) are counted on a helper thread while
    /// this one predicts: counts are integers, the same whichever thread
    /// adds them.
    pub fn push(&mut self, t: &Table) -> Result<()> {
        let n = t.rows();
        let role = roles(self.plan, t, self.row0);
        let measure = self.counting.is_none();
        let mut counting = self.counting.take();
        let mut feature_bins = self.feature_bins.take();
        let mut histograms = std::mem::take(&mut self.histograms);
        let pred = beside(
            n,
            || match (counting.as_mut(), feature_bins.as_mut()) {
                (Some(c), _) | (None, Some(c)) => c.push_features(t, &role),
                (None, None) => histograms.push(t, &role),
            },
            || {
                if self.scoring.is_some() {
                    self.class_scores(t, &role, measure)
                } else {
                    self.predictions(t, &role)
                }
            },
        );
        self.counting = counting;
        self.feature_bins = feature_bins;
        self.histograms = histograms;
        let pred = pred?;
        if let Some(c) = &mut self.counting {
            c.push_predictions(&role, &pred);
            self.row0 += n as u64;
            return Ok(());
        }
        let sums = self.scoring.is_none();
        // Decile histograms of the training rows (a classifier's deciles
        // come from its sorted scores).
        if sums {
            self.histograms.push_predictions(&pred, &role);
        }
        for ((&y, &p), &r) in t.target.iter().zip(&pred).zip(&role) {
            match r {
                1 => {
                    if sums {
                        self.train_sums.push(y, p);
                    }
                    self.predicted.push(p);
                }
                2 if sums => self.valid_sums.push(y, p),
                _ => {}
            }
        }
        self.row0 += n as u64;
        Ok(())
    }

    /// Whether this pass can run on lanes ([`Pass2::on_lanes`]): a
    /// classifier's pass 2 that counts the features per final bin.
    pub fn lanes_apply(&self) -> bool {
        self.scoring.is_some() && self.counting.is_none() && self.feature_bins.is_some()
    }

    /// This pass over blocks that `run` hands to two lanes at once and then
    /// in block order ([`super::replay_lanes`]): each lane scores its blocks
    /// and counts their features per bin (counts of its own, added up at
    /// the end); the metrics take the scored blocks in file order, so every
    /// sum is the one [`Pass2::push`] makes. Only after
    /// [`Pass2::lanes_apply`].
    pub fn on_lanes(&mut self, run: &mut Lanes<'_>) -> Result<()> {
        let (Some((mut sc, labels)), Some(mut bins)) =
            (self.scoring.take(), self.feature_bins.take())
        else {
            return Err(Error::data("pass 2 on lanes needs a classifier's scoring"));
        };
        let (mut train, mut valid) = sc.take();
        let lanes = [0, 1].map(|_| Mutex::new(bins.empty_like()));
        let terms = sc.numeric_terms();
        let (mut predicted, mut rows) = (std::mem::take(&mut self.predicted), 0u64);
        let this = &*self;
        let done = run(
            &|i, row0, t| {
                let role = roles(this.plan, t, row0);
                lanes[i % 2]
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push_features(t, &role);
                this.score_block(&sc, terms.as_deref(), t, role)
            },
            &mut |_, t, s| {
                let k = s.prob.len() / t.rows().max(1);
                for (i, &r) in s.role.iter().enumerate() {
                    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                    let y = t.target[i] as usize;
                    let p = &s.prob[i * k..(i + 1) * k];
                    match r {
                        1 => {
                            train.push_with_loss(y, p, s.pred[i], s.loss[i])?;
                            predicted.push(s.pred[i]);
                        }
                        2 => valid.push_with_loss(y, p, s.pred[i], s.loss[i])?,
                        _ => {}
                    }
                }
                rows += t.rows() as u64;
                Ok(())
            },
        );
        for lane in lanes {
            bins.add(&lane.into_inner().unwrap_or_else(PoisonError::into_inner));
        }
        (sc.train, sc.valid) = (train, valid);
        self.scoring = Some((sc, labels));
        self.feature_bins = Some(bins);
        self.predicted = predicted;
        self.row0 += rows;
        done
    }

    /// Score the block `t` (roles `role`) with `sc` on a lane: each used
    /// row's score, class probabilities and log loss, as
    /// [`Pass2::class_scores`] computes them.
    fn score_block(
        &self,
        sc: &Scoring,
        terms: Option<&[Vec<(usize, f64)>]>,
        t: &Table,
        role: Vec<u8>,
    ) -> Result<Scored> {
        let (n, k) = (t.rows(), sc.predictor.classes.len());
        let (mut pred, mut prob, mut loss) = (vec![0.0; n], vec![0.0; n * k], vec![0.0; n]);
        let (mut eta, mut p) = (Vec::with_capacity(k), Vec::with_capacity(k));
        let cols = t.numeric_columns();
        if let (Some(c), Some([t0, t1])) = (&cols, terms) {
            let mut s = Scored {
                role,
                pred,
                prob,
                loss,
            };
            sc.score_two_columns([t0, t1], c, &t.target, &mut s);
            return Ok(s);
        }
        let mut values = vec![model::Value::Number(0.0); self.feature_names.len()];
        for (i, &r) in role.iter().enumerate() {
            if r == 0 {
                continue;
            }
            pred[i] = if let (Some(c), Some(terms)) = (&cols, terms) {
                sc.score_columns(terms, c, i, (&mut eta, &mut p))
            } else {
                row_values(
                    t,
                    i,
                    &self.lookup,
                    &mut values,
                    self.categorical,
                    self.plan.separate,
                )?;
                let (pr, s) = sc.score(&values);
                p = pr;
                s
            };
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let y = t.target[i] as usize;
            loss[i] = Tally::loss(p[y]);
            prob[i * k..(i + 1) * k].copy_from_slice(&p);
        }
        Ok(Scored {
            role,
            pred,
            prob,
            loss,
        })
    }

    /// The feature values of row `i` of `t`, in `self.values`.
    fn fill(&mut self, t: &Table, i: usize, separate: bool) -> Result<()> {
        row_values(
            t,
            i,
            &self.lookup,
            &mut self.values,
            self.categorical,
            separate,
        )
    }

    /// A classifier's scores of the used rows of `t` (0 for unused ones),
    /// their probabilities added to the metrics when `measure` (in pass 2,
    /// not pass 3).
    fn class_scores(&mut self, t: &Table, role: &[u8], measure: bool) -> Result<Vec<f64>> {
        // Numbers only: scored straight from the columns.
        if let Some((sc, _)) = self.scoring.as_mut()
            && let Some(cols) = t.numeric_columns()
            && let Some(terms) = sc.numeric_terms()
        {
            return numeric_class_scores(sc, &terms, &cols, t, role, measure);
        }
        let mut pred = vec![0.0; t.rows()];
        for (i, &r) in role.iter().enumerate() {
            if r == 0 {
                continue;
            }
            self.fill(t, i, self.plan.separate)?;
            let Some((sc, _)) = self.scoring.as_mut() else {
                break;
            };
            let (prob, s) = sc.score(&self.values);
            pred[i] = s;
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let y = t.target[i] as usize;
            match r {
                1 if measure => sc.train.push(y, &prob, s)?,
                2 if measure => sc.valid.push(y, &prob, s)?,
                _ => {}
            }
        }
        Ok(pred)
    }

    /// The predictions of the used rows of `t` (0 for unused ones).
    fn predictions(&mut self, t: &Table, role: &[u8]) -> Result<Vec<f64>> {
        let n = t.rows();
        // Predictions: numeric-only models as Predictor::predict computes
        // them (the same terms in the same order), a column at a time.
        let numeric = t.numeric_columns();
        let pred: Vec<f64> = match (&self.numeric_terms, &numeric) {
            (Some(terms), Some(cols)) if self.identity => {
                let mut eta = vec![self.predictor.intercept; n];
                for &(f, b) in terms {
                    for (e, &x) in eta.iter_mut().zip(cols[f]) {
                        *e += b * x;
                    }
                }
                eta
            }
            _ => {
                let mut eta = vec![0.0; n];
                for (i, e) in eta.iter_mut().enumerate() {
                    if role[i] != 0 {
                        self.fill(t, i, self.plan.separate)?;
                        *e = self.predictor.predict(&self.values);
                    }
                }
                eta
            }
        };
        Ok(pred)
    }

    /// Score the separate validation file, if any (counting its rows in
    /// `fold`).
    pub fn validation_file(&mut self, fold: &mut Fold, progress: &dyn Progress) -> Result<()> {
        let plan = self.plan;
        let Some(vp) = &plan.project.file.split.validation_path else {
            return Ok(());
        };
        let vpath = plan.project.resolve(vp);
        let mut features = self.feature_names.to_vec();
        if self.scoring.is_some() {
            features.push(plan.data_cfg.target.clone());
        }
        let vsel = Selection {
            features: Some(features),
            exclude: Vec::new(),
            ..plan.sel.clone()
        };
        let sha256 = data::stream_tables(
            std::slice::from_ref(&vpath),
            &vsel,
            plan.block,
            progress,
            &mut |mut t| {
                if let Some((_, labels)) = &self.scoring {
                    labels.encode(&mut t)?;
                }
                for i in 0..t.rows() {
                    if !plan.usable(&t, i) {
                        fold.dropped += 1;
                        continue;
                    }
                    fold.validation += 1;
                    self.fill(&t, i, true)?;
                    if let Some((sc, _)) = self.scoring.as_mut() {
                        let (prob, s) = sc.score(&self.values);
                        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                        sc.valid.push(t.target[i] as usize, &prob, s)?;
                        continue;
                    }
                    let pred = self.predictor.predict(&self.values);
                    self.valid_sums.push(t.target[i], pred);
                }
                Ok(())
            },
        )?
        .sha256;
        self.validation_sha256 = Some(sha256);
        Ok(())
    }

    /// The metrics and the statistics of the training rows.
    pub fn finish(&mut self, fold: &Fold) -> Result<Measured> {
        let (feature_stats, target_stats) =
            training_stats(fold, &self.histograms, self.feature_names, self.categorical);
        let mut prediction_stats = self
            .histograms
            .prediction_stats(&self.predicted, &self.range);
        let no_rows = || Error::data(format!("{}: no training rows", self.plan.origin));
        let (metrics, classes) = match self.scoring.as_mut() {
            Some((sc, labels)) => {
                let classes = &labels.classes;
                let (train_eval, valid_eval) = sc.take();
                let (train_cm, train, ranked) = train_eval
                    .finish(classes, "training")?
                    .ok_or_else(no_rows)?;
                // A classifier's scores were sorted: their deciles are
                // exact, and their bin counts known when sorted in memory.
                prediction_stats.deciles = ranked.deciles;
                if let Some(bins) = ranked.bins {
                    prediction_stats.bin_counts = bins;
                }
                let valid = valid_eval.finish(classes, "validation")?;
                let pair = ClassMetricsPair {
                    train: train_cm,
                    validation: valid.as_ref().map(|v| v.0.clone()),
                };
                let metrics = Metrics {
                    train,
                    validation: valid.map(|v| v.1),
                };
                (metrics, Some(pair))
            }
            None => {
                let train = self.train_sums.finish().ok_or_else(no_rows)?;
                let metrics = Metrics {
                    train,
                    validation: self.valid_sums.finish(),
                };
                (metrics, None)
            }
        };
        let mut feature_stats = feature_stats;
        if let Some(b) = self.feature_bins.take() {
            b.record_features(&mut feature_stats);
        }
        Ok(Measured {
            metrics,
            classes,
            feature_stats,
            target_stats,
            prediction_stats,
            validation_sha256: self.validation_sha256.take(),
        })
    }

    /// Whether every bin count is known after pass 2 (the features counted
    /// here, the predictions' from their sort), so that pass 3 is not needed.
    pub fn all_counted(m: &Measured) -> bool {
        let known = |s: &NumericStats| !s.bin_counts.is_empty();
        known(&m.prediction_stats)
            && m.feature_stats.values().all(|s| match s {
                ColumnStats::Numeric(n) => known(n),
                ColumnStats::Categorical(_) => true,
            })
    }

    /// Turn into pass 3: the next blocks pushed (the training files from
    /// the start) are counted per bin of the edges in `m`.
    pub fn count_bins(&mut self, m: &Measured) {
        self.counting = Some(BinCounts::new(&m.feature_stats, &m.prediction_stats));
        self.row0 = 0;
    }

    /// Record pass 3's counts in `m`.
    pub fn record_bins(&mut self, m: &mut Measured) {
        if let Some(c) = self.counting.take() {
            c.record(&mut m.feature_stats, &mut m.prediction_stats);
        }
    }
}

/// [`Pass2::class_scores`] of a block of numeric columns `cols` (the
/// scoring's `terms`): each used row's probabilities, score and log loss
/// computed on two threads (each row's own arithmetic, as
/// `Scoring::score_columns`), then added to the metrics in row order here.
fn numeric_class_scores(
    sc: &mut Scoring,
    terms: &[Vec<(usize, f64)>],
    cols: &[&[f64]],
    t: &Table,
    role: &[u8],
    measure: bool,
) -> Result<Vec<f64>> {
    let (n, k) = (t.rows(), sc.predictor.classes.len());
    let mut pred = vec![0.0; n];
    let mut prob = vec![0.0; n * k];
    let mut loss = vec![0.0; n];
    {
        let sc = &*sc;
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let score =
            |rows: std::ops::Range<usize>, pred: &mut [f64], prob: &mut [f64], loss: &mut [f64]| {
                let (mut eta, mut p) = (Vec::with_capacity(k), Vec::with_capacity(k));
                for (j, i) in rows.enumerate() {
                    if role[i] == 0 {
                        continue;
                    }
                    pred[j] = sc.score_columns(terms, cols, i, (&mut eta, &mut p));
                    loss[j] = Tally::loss(p[t.target[i] as usize]);
                    prob[j * k..(j + 1) * k].copy_from_slice(&p);
                }
            };
        let h = if n >= 4096 { n / 2 } else { n };
        let (pred_a, pred_b) = pred.split_at_mut(h);
        let (prob_a, prob_b) = prob.split_at_mut(h * k);
        let (loss_a, loss_b) = loss.split_at_mut(h);
        std::thread::scope(|s| {
            if h < n {
                s.spawn(|| score(h..n, pred_b, prob_b, loss_b));
            }
            score(0..h, pred_a, prob_a, loss_a);
        });
    }
    if measure {
        for (i, &r) in role.iter().enumerate() {
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let y = t.target[i] as usize;
            let p = &prob[i * k..(i + 1) * k];
            match r {
                1 => sc.train.push_with_loss(y, p, pred[i], loss[i])?,
                2 => sc.valid.push_with_loss(y, p, pred[i], loss[i])?,
                _ => {}
            }
        }
    }
    Ok(pred)
}

/// Run `side` and `main` side by side, `side` on a scoped helper thread
/// when the block (`rows`) is large enough to be worth a thread; `main`'s
/// result.
pub(super) fn beside<T>(rows: usize, side: impl FnOnce() + Send, main: impl FnOnce() -> T) -> T {
    if rows < 4096 {
        side();
        return main();
    }
    std::thread::scope(|s| {
        let helper = s.spawn(side);
        let out = main();
        if let Err(panic) = helper.join() {
            std::panic::resume_unwind(panic);
        }
        out
    })
}

/// Each row's role, column by column: 0 unused (a missing value under
/// drop-row), 1 training, 2 validation; the block's first row is the
/// files' row `row0`.
pub(super) fn roles(plan: &Plan, t: &Table, row0: u64) -> Vec<u8> {
    let (seed, fraction) = (plan.seed, plan.fraction);
    let mut role = vec![1u8; t.rows()];
    if plan.drop_rows {
        for (i, r) in role.iter_mut().enumerate() {
            if !plan.usable(t, i) {
                *r = 0;
            }
        }
    }
    if !plan.separate && fraction > 0.0 {
        for (i, r) in role.iter_mut().enumerate() {
            if *r == 1 && split::is_validation(seed, row0 + i as u64, fraction) {
                *r = 2;
            }
        }
    }
    role
}

/// The feature values of row `i` of `t`, in `values`; a level unseen in
/// training is an error.
pub(super) fn row_values(
    t: &Table,
    i: usize,
    lookup: &[Option<HashMap<&str, usize>>],
    values: &mut [model::Value],
    cats: &IndexMap<String, Categorical>,
    separate: bool,
) -> Result<()> {
    for (k, col) in t.features.iter().enumerate() {
        values[k] = match col {
            Column::Numeric(v) => model::Value::Number(v[i]),
            Column::Categorical { codes, levels } => {
                let c = codes[i];
                if c == MISSING_LEVEL {
                    model::Value::Level(usize::MAX)
                } else {
                    let name = &levels[c as usize];
                    let f = &t.feature_names[k];
                    let cat = cats.get(f);
                    match lookup[k].as_ref().and_then(|m| m.get(name.as_str())) {
                        Some(&l) => model::Value::Level(l),
                        None => match cat.and_then(Categorical::unknown_value) {
                            Some(v) => v,
                            None => {
                                let what = cat.map_or_else(
                                    || format!("level \"{name}\" was not seen in training"),
                                    |c| c.unseen_message(name),
                                );
                                return Err(Error::data(format!(
                                    "{}:{}: column \"{f}\": {what}; it appears only in validation rows: {}",
                                    t.origin,
                                    t.lines[i],
                                    crate::train::unseen_hint(separate)
                                )));
                            }
                        },
                    }
                }
            }
        };
    }
    Ok(())
}
