//! Pass 1 of the streaming fit: read the CSV in blocks of whole records
//! (`data::stream_tables`: the same parser, messages and line numbers as the
//! in-memory path), split each block's rows, fold the training rows into the
//! running factor, and keep every parsed block in the spill for pass 2.

use crate::data::{self, Table, split};
use crate::error::{Error, Result};
use crate::model::fit::Sample;
use crate::report::Progress;
use crate::train::streaming::fold::Fold;
use crate::train::streaming::labels::LabelSet;
use crate::train::streaming::plan::Plan;
use crate::train::streaming::spill::Spill;

/// What pass 1 learnt from the training files.
pub(super) struct Pass1 {
    /// The factor, the moments, the levels and the row counts.
    pub fold: Fold,
    /// The features, in model order.
    pub feature_names: Vec<String>,
    /// SHA-256 of the training files.
    pub data_sha256: String,
    /// The objects in storage among them, as their reads saw them.
    pub data_objects: Vec<data::store::DataObject>,
    /// A classifier's warm-start sample of the training rows (all features,
    /// each row's provisional label index), kept while every feature is
    /// numeric, so that the fit need not read the rows once more for it.
    pub sample: Option<Sample>,
}

impl Pass1 {
    /// Fold and count, and keep the parsed rows in `spill` for pass 2; a
    /// classifier's labels are counted in `labels`.
    pub fn run(
        plan: &Plan,
        spill: &mut Spill,
        mut labels: Option<&mut LabelSet>,
        progress: &dyn Progress,
    ) -> Result<Pass1> {
        let max_classes = plan.model_cfg.max_classes.unwrap_or(100);
        let mut fold: Option<Fold> = None;
        let mut feature_names: Vec<String> = Vec::new();
        let (mut sampling, mut sample) = (labels.is_some(), None::<Sample>);
        let read = data::stream_tables(
            &plan.data_files,
            &plan.sel,
            plan.block,
            progress,
            &mut |mut t| {
                if let Some(l) = labels.as_deref_mut() {
                    l.take(&mut t)?;
                }
                let f = fold.get_or_insert_with(|| {
                    feature_names.clone_from(&t.feature_names);
                    let mut f = Fold::new(&t, plan.intercept);
                    f.factor = !plan.classifier;
                    f
                });
                t.check_max_levels(plan.data_cfg.max_levels)?;
                let row0 = f.rows;
                let idx = training_rows(f, plan, &t);
                if let Some(l) = labels.as_deref_mut() {
                    // Usable rows not trained on are validation rows.
                    let mut role: Vec<u8> = (0..t.rows())
                        .map(|i| if plan.usable(&t, i) { 2 } else { 0 })
                        .collect();
                    idx.iter().for_each(|&i| role[i] = 1);
                    l.count(&t, &role, row0, max_classes, &plan.origin)?;
                }
                if sampling {
                    if let Some(cols) = t.numeric_columns() {
                        let s = sample.get_or_insert_with(|| Sample::new(cols.len()));
                        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                        s.push_rows(&cols, &idx, |r| t.target[r] as usize);
                    } else {
                        (sampling, sample) = (false, None);
                    }
                }
                f.push(&t, &idx)?;
                f.check_max_levels(&feature_names, plan)?;
                spill.keep(t);
                Ok(())
            },
        )?;
        let Some(fold) = fold.filter(|f| f.rows > 0) else {
            return Err(Error::data(format!(
                "{} has a header row but no data rows; add data",
                plan.origin
            )));
        };
        Ok(Pass1 {
            fold,
            feature_names,
            data_sha256: read.sha256,
            data_objects: read.objects,
            sample,
        })
    }

    /// At least two training rows, a validation split that is not empty,
    /// and a target that varies.
    pub fn check_fittable(&self, plan: &Plan) -> Result<()> {
        let (fold, origin, fraction) = (&self.fold, &plan.origin, plan.fraction);
        let n = fold.train;
        if n < 2 {
            return Err(Error::data(format!(
                "{origin}: only {n} training row is left after the split and the missing-value policy; a model needs at least 2, add rows"
            )));
        }
        if fraction > 0.0 && !plan.separate && fold.validation == 0 {
            return Err(Error::data(format!(
                "{origin}: the validation split is empty ({} rows at split.validation_fraction = {fraction}); add rows or raise the fraction",
                fold.rows
            )));
        }
        if !plan.classifier && fold.target.min == fold.target.max {
            return Err(Error::data(format!(
                "{origin}: target \"{}\" is constant ({} in every training row); there is nothing to learn",
                plan.data_cfg.target, fold.target.min
            )));
        }
        Ok(())
    }
}

/// The training rows of block `t`, counting the block's rows, dropped rows
/// and validation rows (of the split; a separate validation file has none
/// here) in `f`.
fn training_rows(f: &mut Fold, plan: &Plan, t: &Table) -> Vec<usize> {
    let (seed, fraction, separate) = (plan.seed, plan.fraction, plan.separate);
    let mut idx = Vec::with_capacity(t.rows());
    for i in 0..t.rows() {
        let g = f.rows + i as u64;
        if !plan.usable(t, i) {
            f.dropped += 1;
        } else if !separate && split::is_validation(seed, g, fraction) {
            f.validation += 1;
        } else {
            idx.push(i);
        }
    }
    f.rows += t.rows() as u64;
    f.train += idx.len() as u64;
    idx
}
