//! The streaming path's classifiers (`logistic`, `multinomial`): after
//! pass 1 has counted the labels (`labels`), the fit
//! ([`fit::fit_classifier_streamed`], one pass over the spill per Newton
//! evaluation, each block of training rows turned into design rows as the
//! in-memory path's design), then pass 2 and pass 3 as for a linear model,
//! scoring with the class probabilities (`scoring`). The fit's first pass
//! also fills the features' decile histograms, so that pass 2 counts the
//! features per final bin; with two classes and the scores sorted in
//! memory (`ranks`) the predictions' bin counts come from that sort, and
//! pass 3 is skipped.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use crate::data::{Column, Table};
use crate::error::{Error, Result};
use crate::model::fit::{self, Block, ClassFit, ClassifierSpec, Prepared};
use crate::model::{self, Artifact, Term, Value};
use crate::report::Progress;
use crate::train::memory::classify::{linear_of, params_of, part_of, positive_index, spec_of};
use crate::train::request::TrainOptions;
use crate::train::streaming::deciles::Histograms;
use crate::train::streaming::labels::LabelSet;
use crate::train::streaming::moments::Moments;
use crate::train::streaming::pass1::Pass1;
use crate::train::streaming::pass2::Pass2;
use crate::train::streaming::pass2::{beside, roles, row_values};
use crate::train::streaming::plan::Plan;
use crate::train::streaming::scoring::{Scoring, lookup_of, target_stats};
use crate::train::streaming::solve::Design;
use crate::train::streaming::spill::Spill;
use crate::train::streaming::{Model, artifact, replay, replay_lanes};

/// Train the classifier after pass 1 (which counted the `labels`): its
/// fit over the spill, pass 2 (metrics, decile histograms) and pass 3 (bin
/// counts), as the linear model's.
pub(super) fn train(
    plan: &Plan,
    opts: &TrainOptions,
    mut pass1: Pass1,
    mut labels: LabelSet,
    spill: &mut Spill,
    progress: &dyn Progress,
) -> Result<Artifact> {
    let m = plan.model_cfg;
    let counts = labels.classes(m, &plan.origin)?;
    let labels = labels;
    let classes = labels.classes.clone();
    let names = pass1.feature_names.clone();
    let design = Design::new(&pass1.fold, &names, plan)?;
    model::check_enough_rows(
        pass1.fold.train,
        design.terms.len(),
        plan.intercept,
        &design.categorical,
        &plan.origin,
    )?;
    let spec = spec_of(m, classes.len());
    // A classifier's predictions are probabilities: their histogram spans [0, 1].
    let unit = Moments {
        min: 0.0,
        max: 1.0,
        ..Moments::default()
    };
    let mut histograms = Histograms::new(&pass1.fold.moments, &unit);
    let prepared = prepared(&mut pass1, &design, &labels, &counts, plan.intercept);
    let f = fit_streamed(
        plan,
        &names,
        &design,
        (spec, prepared),
        Tables {
            spill,
            labels: &labels,
            progress,
        },
        &mut histograms,
    )?;
    let positive = positive_index(m, &classes)?;
    let threshold = m.threshold.unwrap_or(0.5);
    let linear = linear_of(&f, &design.terms);
    let last = linear[classes.len() - 1].clone();
    let mut scoring = Scoring::new(&classes, positive, threshold, linear);
    scoring.expect(pass1.fold.train, pass1.fold.validation);
    let mut pass2 = Pass2::new(
        plan,
        &pass1.fold,
        &names,
        (&design.categorical, &last),
        Some((scoring, &labels)),
    );
    pass2.features_counted(&pass1.fold, histograms);
    if pass2.lanes_apply() {
        pass2.on_lanes(&mut |f, then| {
            replay_lanes(spill, plan, &names, Some(&labels), progress, f, then)
        })?;
    } else {
        replay(spill, plan, &names, Some(&labels), progress, &mut |t| {
            pass2.push(t)
        })?;
    }
    pass2.validation_file(&mut pass1.fold, progress)?;
    let mut measured = pass2.finish(&pass1.fold)?;
    if !Pass2::all_counted(&measured) {
        pass2.count_bins(&measured);
        replay(spill, plan, &names, Some(&labels), progress, &mut |t| {
            pass2.push(t)
        })?;
        pass2.record_bins(&mut measured);
    }
    measured.target_stats = target_stats(&counts);
    let pair = measured
        .classes
        .take()
        .ok_or_else(|| Error::data(format!("{}: no training rows", plan.origin)))?;
    let part = part_of(
        (&classes, positive, threshold),
        spec,
        &f,
        &design.term_names,
        pair,
    );
    let last = &part.linear_predictors[classes.len() - 1];
    let fitted = Model {
        kind: m.kind,
        params: params_of(m),
        intercept: last.intercept,
        coefficients: last.coefficients.clone(),
        categorical: design.categorical,
        classifier: Some(part),
        inference: None,
    };
    Ok(artifact(plan, opts, pass1, fitted, measured))
}

/// The fit's first pass, from pass 1: when every design column is a
/// numeric feature with a value in each training row, its moments are the
/// feature's (pass 1 folded the same rows), and pass 1 kept the sample.
fn prepared(
    pass1: &mut Pass1,
    design: &Design,
    labels: &LabelSet,
    counts: &[u64],
    intercept: bool,
) -> Option<Prepared> {
    let mut sample = pass1.sample.take()?;
    let fold = &pass1.fold;
    let features = &fold.moments;
    let numeric = design.terms.len() == features.len()
        && design
            .terms
            .iter()
            .enumerate()
            .all(|(j, t)| *t == Term::Numeric { feature: j });
    if !numeric || features.iter().any(|m| m.n != fold.train || m.missing > 0) {
        return None;
    }
    #[allow(clippy::cast_precision_loss)]
    let n = fold.train as f64;
    let (mean, m2) = features
        .iter()
        .map(|m| {
            if intercept {
                (m.mean, m.m2)
            } else {
                (0.0, m.m2 + n * m.mean * m.mean)
            }
        })
        .unzip();
    sample.relabel(|id| labels.class_of(id));
    Some(Prepared {
        n: fold.train,
        mean,
        m2,
        counts: counts.to_vec(),
        sample,
    })
}

/// Where the training files' blocks come from, their targets as class
/// indices: in order ([`replay`]) or on two lanes ([`replay_lanes`]).
pub(super) struct Tables<'r> {
    pub spill: &'r mut Spill,
    pub labels: &'r LabelSet,
    pub progress: &'r dyn Progress,
}

impl Tables<'_> {
    /// Every block, in order, to `f`.
    fn each(&mut self, shape: &Shape<'_>, f: &mut dyn FnMut(&Table) -> Result<()>) -> Result<()> {
        let labels = Some(self.labels);
        replay(
            self.spill,
            shape.plan,
            shape.feature_names,
            labels,
            self.progress,
            f,
        )
    }

    /// Every block on two lanes, then in order ([`replay_lanes`]).
    fn lanes<T>(
        &mut self,
        shape: &Shape<'_>,
        f: &(dyn Fn(usize, u64, &Table) -> Result<T> + Sync),
        then: &mut (dyn FnMut(usize, &Table, T) -> Result<()> + Send),
    ) -> Result<()> {
        let labels = Some(self.labels);
        replay_lanes(
            self.spill,
            shape.plan,
            shape.feature_names,
            labels,
            self.progress,
            f,
            then,
        )
    }
}

/// What turns a block of the files into the design's block.
struct Shape<'r> {
    plan: &'r Plan<'r>,
    feature_names: &'r [String],
    design: &'r Design,
    lookup: Vec<Option<HashMap<&'r str, usize>>>,
}

impl Shape<'_> {
    /// The training rows of `t` (roles `role`) as design columns and their
    /// classes, to `sink`: a block of numeric features, all of them
    /// training rows, as the table's own columns; else copied out.
    fn design_block(
        &self,
        t: &Table,
        role: &[u8],
        sink: &mut dyn FnMut(Block<'_>) -> Result<()>,
    ) -> Result<()> {
        let (categorical, terms) = (&self.design.categorical, &self.design.terms);
        let p = terms.len();
        let idx: Vec<usize> = (0..t.rows()).filter(|&i| role[i] == 1).collect();
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let y: Vec<usize> = idx.iter().map(|&i| t.target[i] as usize).collect();
        let numeric = numeric_columns(t, terms);
        if let Some(cols) = &numeric
            && idx.len() == t.rows()
        {
            return sink((cols, &y));
        }
        let n = idx.len();
        let mut data = Vec::with_capacity(n * p);
        if let Some(cols) = numeric {
            // Numbers only: each design column is a feature column.
            for col in cols {
                data.extend(idx.iter().map(|&i| col[i]));
            }
        } else {
            data.resize(n * p, 0.0);
            let mut values = vec![Value::Number(0.0); self.feature_names.len()];
            for (r, &i) in idx.iter().enumerate() {
                row_values(
                    t,
                    i,
                    &self.lookup,
                    &mut values,
                    categorical,
                    self.plan.separate,
                )?;
                for (j, term) in terms.iter().enumerate() {
                    data[j * n + r] = term_value(*term, &values);
                }
            }
        }
        let cols: Vec<&[f64]> = (0..p).map(|j| &data[j * n..(j + 1) * n]).collect();
        sink((&cols, &y))
    }
}

/// The training rows of the [`Tables`] as the design's blocks, for the fit;
/// the first replay also fills the features' decile histograms.
struct DesignBlocks<'r> {
    shape: Shape<'r>,
    tables: Tables<'r>,
    histograms: Option<&'r mut Histograms>,
}

impl fit::Replay for DesignBlocks<'_> {
    fn each(&mut self, sink: &mut dyn FnMut(Block<'_>) -> Result<()>) -> Result<()> {
        let shape = &self.shape;
        let mut histograms = self.histograms.take();
        let mut row0 = 0u64;
        self.tables.each(shape, &mut |t| {
            let role = roles(shape.plan, t, row0);
            row0 += t.rows() as u64;
            let Some(h) = histograms.as_deref_mut() else {
                return shape.design_block(t, &role, sink);
            };
            beside(
                t.rows(),
                || h.push(t, &role),
                || shape.design_block(t, &role, sink),
            )
        })
    }

    fn lanes(&mut self, sink: &(dyn Fn(usize, Block<'_>) -> Result<()> + Sync)) -> Result<()> {
        let shape = &self.shape;
        // The first replay fills the histograms, each lane its own.
        let histograms = self.histograms.take();
        let lanes = histograms
            .as_deref()
            .map(|h| [0, 1].map(|_| Mutex::new(h.empty_like())));
        self.tables.lanes(
            shape,
            &|i, row0, t| {
                let lane = i % 2;
                let role = roles(shape.plan, t, row0);
                if let Some(h) = &lanes {
                    h[lane]
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .push(t, &role);
                }
                shape.design_block(t, &role, &mut |b| sink(lane, b))
            },
            &mut |_, _, ()| Ok(()),
        )?;
        if let (Some(h), Some(lanes)) = (histograms, lanes) {
            for lane in lanes {
                h.add(&lane.into_inner().unwrap_or_else(PoisonError::into_inner));
            }
        }
        Ok(())
    }
}

/// Fit the classifier of `design` on the training rows of `tables`; the
/// first replay also fills the features' decile `histograms`.
pub(super) fn fit_streamed(
    plan: &Plan,
    feature_names: &[String],
    design: &Design,
    (spec, prepared): (ClassifierSpec, Option<Prepared>),
    tables: Tables<'_>,
    histograms: &mut Histograms,
) -> Result<ClassFit> {
    let mut blocks = DesignBlocks {
        shape: Shape {
            plan,
            feature_names,
            design,
            lookup: lookup_of(feature_names, &design.categorical),
        },
        tables,
        histograms: Some(histograms),
    };
    fit::fit_classifier_streamed(&mut blocks, &design.term_names, spec, prepared).map_err(|e| {
        match e {
            Error::Data(msg) => Error::Data(format!("{}: {msg}", plan.origin)),
            other => other,
        }
    })
}

/// The feature column of each design column, when every design column is
/// a numeric feature as it is (no levels to look up).
fn numeric_columns<'t>(t: &'t Table, terms: &[Term]) -> Option<Vec<&'t [f64]>> {
    if t.features.iter().any(|c| !matches!(c, Column::Numeric(_))) {
        return None;
    }
    terms
        .iter()
        .map(|term| match (term, t.features.get(term_feature(*term))) {
            (Term::Numeric { .. }, Some(Column::Numeric(v))) => Some(v.as_slice()),
            _ => None,
        })
        .collect()
}

/// A design column's value for a row's feature values.
fn term_value(t: Term, values: &[Value]) -> f64 {
    match (t, values[term_feature(t)]) {
        (Term::Numeric { .. }, Value::Number(x)) => x,
        (Term::Level { level, .. }, Value::Level(l)) if l == level => 1.0,
        _ => 0.0,
    }
}

fn term_feature(t: Term) -> usize {
    match t {
        Term::Numeric { feature } | Term::Level { feature, .. } => feature,
    }
}
