//! The streaming training path: `linear` models on data larger than memory.
//!
//! **Pass 1** (`pass1`) reads the CSV in blocks of whole records
//! ([`data::stream_tables`]: the same parser, messages and line numbers as
//! the in-memory path) and folds every block of training rows into a running
//! triangular factor (`fold`; TSQR: the current R is stacked on the block and
//! factored again with Householder reflections, `model::fit::qr`; XᵀX is
//! never formed).
//! The columns are `[1, (x - shift) / scale, one-hot columns, y - shift_y]`,
//! with shift and scale taken from the first block (a power of two, so
//! scaling is exact): close enough to the final mean and spread to keep the
//! factor as well conditioned as the in-memory path's centred design. One-hot
//! columns are added as levels appear (a zero column appended to R is still a
//! factor of the rows so far). The same pass keeps exact running statistics
//! (`moments`: Chan et al.'s pairwise update of count, mean and sum of
//! squared deviations; min; max) and the level counts.
//!
//! At the end (`solve`) the columns are put in design order and the
//! reference levels dropped (the R of `X P` is the R of `R P`: one small QR),
//! the rank check of the in-memory path runs on the centred block of that
//! factor with the exact column spreads, and linfa-linear's least squares
//! solves the p × p triangle.
//!
//! Parsing runs on two or more threads ([`data::stream_tables`]: one reads
//! and hashes, workers parse blocks, this thread folds them in file order),
//! and pass 1 hands every parsed block to a thread that writes it to an
//! anonymous spill file (`spill`, [`data::spill`], in `TMPDIR`, bit for
//! bit), so that
//!
//! **Pass 2** (`pass2`) reads numbers back instead of parsing the CSV again
//! (it parses again only when the temporary folder cannot hold the spill).
//! Pass 2 is for what needs the final coefficients or the final range: MAE
//! and MAPE need every residual (RMSE and R² are computed there too, from the
//! same sums, `metric_sums`), and the decile edges come from a 4,096-bin
//! histogram between each feature's training min and max (`deciles`): each
//! edge is within (max − min) / 4,096 of the exact type-7 quantile.
//!
//! **Pass 3** (`bins`) reads the rows once more to count the training rows
//! per bin of the final decile edges (features and predictions), which the
//! artifact records for drift checks.
//!
//! Not supported here (exit 2 with a message, `plan`): `kind = "glm"`
//! (iterative, needs the rows) and `missing = "mean"` (the fill values must
//! be known before the first row is used).

use std::time::Instant;

use indexmap::IndexMap;

use crate::data::{self, Table};
use crate::error::Result;
use crate::model::{self, Artifact, Missing, Params, Rows, Split, Tool};
use crate::project::{ModelKind, Project};
use crate::report::Progress;
use crate::train::report::{TrainReport, write_report};
use crate::train::request::TrainOptions;

mod bins;
mod classify;
mod deciles;
mod fold;
mod labels;
mod metric_sums;
mod moments;
mod pass1;
mod pass2;
mod plan;
mod ranks;
mod scoring;
mod solve;
mod spill;
mod stats;

use labels::LabelSet;
use pass1::Pass1;
use pass2::{Measured, Pass2};
use plan::Plan;
use spill::Spill;

/// Train the project's model in streaming passes.
pub(crate) fn train(
    project: &Project,
    opts: &TrainOptions,
    progress: &dyn Progress,
    start: Instant,
) -> Result<TrainReport> {
    let plan = Plan::new(project, opts)?;
    // Pass 1: fold and count, and keep the parsed rows in a spill file for
    // pass 2 (when the temporary folder cannot hold it, pass 2 parses the
    // CSV again).
    let mut spill = Spill::open();
    let mut labels = plan
        .classifier
        .then(|| LabelSet::new(&plan.data_cfg.target));
    let mut pass1 = Pass1::run(&plan, &mut spill, labels.as_mut(), progress)?;
    pass1.check_fittable(&plan)?;
    if let Some(labels) = labels {
        let artifact = classify::train(&plan, opts, pass1, labels, &mut spill, progress)?;
        return write_report(project, opts, artifact, "streaming", start);
    }
    let solution = solve::solve(&mut pass1.fold, &pass1.feature_names, &plan)?;
    // Pass 2: metrics and decile histograms.
    let mut pass2 = Pass2::new(
        &plan,
        &pass1.fold,
        &pass1.feature_names,
        (&solution.categorical, &solution.predictor),
        None,
    );
    let mut read_again = |pass2: &mut Pass2| -> Result<()> {
        replay(
            &mut spill,
            &plan,
            &pass1.feature_names,
            None,
            progress,
            &mut |t| pass2.push(t),
        )
    };
    read_again(&mut pass2)?;
    pass2.validation_file(&mut pass1.fold, progress)?;
    let mut measured = pass2.finish(&pass1.fold)?;
    // Pass 3: the training rows per bin of the final decile edges.
    pass2.count_bins(&measured);
    read_again(&mut pass2)?;
    pass2.record_bins(&mut measured);
    let model = Model {
        kind: ModelKind::Linear,
        params: Params {
            fit_intercept: plan.intercept,
            power: None,
            link: None,
            alpha: None,
            max_iter: None,
        },
        intercept: solution.predictor.intercept,
        coefficients: solution
            .term_names
            .iter()
            .cloned()
            .zip(solution.coefficients)
            .collect(),
        categorical: solution.categorical,
        classifier: None,
        inference: solution.inference,
    };
    let artifact = artifact(&plan, opts, pass1, model, measured);
    write_report(project, opts, artifact, "streaming", start)
}

/// Hand every block of the training files to `f`, in file order: read back
/// from the spill, else parsed again; a classifier's targets (`labels`)
/// become class indices.
fn replay(
    spill: &mut Spill,
    plan: &Plan,
    feature_names: &[String],
    labels: Option<&LabelSet>,
    progress: &dyn Progress,
    f: &mut dyn FnMut(&Table) -> Result<()>,
) -> Result<()> {
    let kept = spill.replay(&plan.origin, feature_names, &mut |t| {
        if let Some(l) = labels {
            l.remap(t);
        }
        f(t)
    })?;
    if !kept {
        parse_again(plan, labels, progress, f)?;
    }
    Ok(())
}

/// Hand every block of the training files, parsed again, to `f`, in file
/// order; a classifier's targets (`labels`) become class indices.
fn parse_again(
    plan: &Plan,
    labels: Option<&LabelSet>,
    progress: &dyn Progress,
    f: &mut dyn FnMut(&Table) -> Result<()>,
) -> Result<()> {
    data::stream_tables(
        &plan.data_files,
        &plan.sel,
        plan.block,
        progress,
        &mut |mut t| {
            if let Some(l) = labels {
                l.encode(&mut t)?;
            }
            f(&t)
        },
    )?;
    Ok(())
}

/// Hand every block of the training files to `f` on two lanes at once and
/// what it made to `then` in block order, as [`Spill::replay_lanes`] (`f`
/// gets the block's index, its first row and the block); without a spill,
/// the files are parsed again and each block goes to `f`, then to `then`.
fn replay_lanes<T>(
    spill: &mut Spill,
    plan: &Plan,
    feature_names: &[String],
    labels: Option<&LabelSet>,
    progress: &dyn Progress,
    f: &(dyn Fn(usize, u64, &Table) -> Result<T> + Sync),
    then: &mut (dyn FnMut(usize, &Table, T) -> Result<()> + Send),
) -> Result<()> {
    let remapped = |i, row0, t: &mut Table| {
        if let Some(l) = labels {
            l.remap(t);
        }
        f(i, row0, t)
    };
    if spill.replay_lanes(&plan.origin, feature_names, &remapped, then)? {
        return Ok(());
    }
    let (mut i, mut row0) = (0usize, 0u64);
    parse_again(plan, labels, progress, &mut |t| {
        let made = f(i, row0, t)?;
        then(i, t, made)?;
        i += 1;
        row0 += t.rows() as u64;
        Ok(())
    })
}

/// What a streaming fit found: the model's own part of the artifact.
struct Model {
    kind: ModelKind,
    params: Params,
    categorical: IndexMap<String, model::Categorical>,
    intercept: f64,
    coefficients: IndexMap<String, f64>,
    classifier: Option<model::classes::ClassifierPart>,
    inference: Option<model::inference::Inference>,
}

/// The artifact of a streaming fit.
fn artifact(
    plan: &Plan,
    opts: &TrainOptions,
    pass1: Pass1,
    fitted: Model,
    measured: Measured,
) -> Artifact {
    let fold = &pass1.fold;
    Artifact {
        format: model::FORMAT.to_string(),
        name: plan.model_cfg.name.clone(),
        kind: fitted.kind,
        params: fitted.params,
        target: plan.data_cfg.target.clone(),
        features: pass1.feature_names.clone(),
        categorical: fitted.categorical,
        intercept: fitted.intercept,
        coefficients: fitted.coefficients,
        missing: Missing {
            policy: plan.data_cfg.missing,
            fill: IndexMap::new(),
            na_values: plan.data_cfg.na_values.clone(),
        },
        metrics: measured.metrics,
        feature_stats: measured.feature_stats,
        target_stats: measured.target_stats,
        prediction_stats: Some(measured.prediction_stats),
        rows: Rows {
            total: fold.rows,
            train: fold.train,
            validation: fold.validation,
            dropped: fold.dropped,
        },
        split: Split {
            validation_fraction: plan.fraction,
            seed: plan.seed,
            validation_path: plan.project.file.split.validation_path.clone(),
        },
        data_sha256: pass1.data_sha256,
        validation_data_sha256: measured.validation_sha256,
        data_objects: pass1.data_objects,
        tool: Tool {
            name: "mlops".into(),
            version: crate::VERSION.into(),
        },
        created_at: opts.created_at.clone(),
        classifier: fitted.classifier,
        inference: fitted.inference,
    }
}
