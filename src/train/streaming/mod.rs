//! The streaming training path: `linear` models on data larger than memory.
//!
//! **Pass 1** reads the CSV in blocks of whole records ([`data::stream_tables`]:
//! the same parser, messages and line numbers as the in-memory path) and
//! folds every block of training rows into a running triangular factor
//! (TSQR: the current R is stacked on the block and factored again with
//! linfa-linalg's Householder QR; XᵀX is never formed). The columns are
//! `[1, (x - shift) / scale, one-hot columns, y - shift_y]`, with shift and
//! scale taken from the first block (a power of two, so scaling is exact):
//! close enough to the final mean and spread to keep the factor as well
//! conditioned as the in-memory path's centred design. One-hot columns are
//! added as levels appear (a zero column appended to R is still a factor of
//! the rows so far). The same pass keeps exact running statistics (Chan et
//! al.'s pairwise update of count, mean and sum of squared deviations; min;
//! max) and the level counts.
//!
//! At the end the columns are put in design order and the reference levels
//! dropped (the R of `X P` is the R of `R P`: one small QR), the rank check
//! of the in-memory path runs on the centred block of that factor with the
//! exact column spreads, and linfa-linear's least squares solves the p × p
//! triangle.
//!
//! Parsing runs on two or more threads ([`data::stream_tables`]: one reads
//! and hashes, workers parse blocks, this thread folds them in file order),
//! and pass 1 writes every parsed block to an anonymous spill file
//! ([`data::spill`], in `TMPDIR`, bit for bit), so that
//!
//! **Pass 2** reads numbers back instead of parsing the CSV again (it parses
//! again only when the temporary folder cannot hold the spill). Pass 2 is
//! for what needs the final coefficients or the final range: MAE and MAPE need every residual (RMSE and R² are
//! computed there too, from the same sums), and the decile edges come from a
//! 4,096-bin histogram between each feature's training min and max: each
//! edge is within (max − min) / 4,096 of the exact type-7 quantile (see
//! [`numeric_stats`]).
//!
//! Not supported here (exit 2 with a message): `kind = "glm"` (iterative,
//! needs the rows) and `missing = "mean"` (the fill values must be known
//! before the first row is used).

use std::collections::HashMap;
use std::time::Instant;

use indexmap::IndexMap;
use linfa::prelude::*;
use linfa_linalg::qr::QRInto;
use linfa_linear::LinearRegression;
use ndarray::{Array2, ShapeBuilder, s};

use crate::data::{self, Column, MISSING_LEVEL, Selection, Table, split};
use crate::error::{Error, Result, display_path};
use crate::model::fit::check_rank;
use crate::model::stats::{CategoricalStats, ColumnStats, NumericStats};
use crate::model::{
    self, Artifact, Categorical, Metrics, Missing, Params, Rows, Split, Term, Tool, metrics,
};
use crate::project::{MissingPolicy, ModelKind, Project};
use crate::report::Progress;
use crate::train::{TrainOptions, TrainReport};

/// Histogram bins per feature for the decile edges.
pub const DECILE_BINS: usize = 4096;

/// Exact running count, mean, sum of squared deviations, min and max.
#[derive(Debug, Clone, Copy)]
struct Moments {
    n: u64,
    mean: f64,
    m2: f64,
    min: f64,
    max: f64,
    missing: u64,
}

impl Default for Moments {
    fn default() -> Self {
        Moments {
            n: 0,
            mean: 0.0,
            m2: 0.0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            missing: 0,
        }
    }
}

impl Moments {
    #[allow(clippy::cast_precision_loss)]
    fn push(&mut self, x: f64) {
        if x.is_nan() {
            self.missing += 1;
            return;
        }
        self.n += 1;
        let d = x - self.mean;
        self.mean += d / self.n as f64;
        self.m2 += d * (x - self.mean);
        self.min = self.min.min(x);
        self.max = self.max.max(x);
    }

    /// Add the values `v[i]` for `i` in `idx`: the block's own count, mean
    /// and squared deviations by two passes, merged with Chan, Golub and
    /// LeVeque's pairwise formula (one division per block, not per value).
    #[allow(clippy::cast_precision_loss)]
    fn push_block(&mut self, v: &[f64], idx: &[usize]) {
        if idx.len() == v.len() {
            // Every row (the indices are 0..n): straight over the slice.
            self.push_values(v);
            return;
        }
        let picked: Vec<f64> = idx.iter().map(|&i| v[i]).collect();
        self.push_values(&picked);
    }

    /// [`Moments::push_block`] of all of `v`: four lanes of sums, minima
    /// and maxima, with selects instead of branches, so the loops vectorise.
    #[allow(clippy::cast_precision_loss)]
    fn push_values(&mut self, v: &[f64]) {
        const L: usize = 4;
        let (mut cnt, mut sum) = ([0u64; L], [0.0f64; L]);
        let (mut lo, mut hi) = ([f64::INFINITY; L], [f64::NEG_INFINITY; L]);
        let mut step = |l: usize, x: f64| {
            // NaN (missing) compares false everywhere: it changes nothing.
            let ok = !x.is_nan();
            cnt[l] += u64::from(ok);
            sum[l] += if ok { x } else { 0.0 };
            lo[l] = if x < lo[l] { x } else { lo[l] };
            hi[l] = if x > hi[l] { x } else { hi[l] };
        };
        let lanes = v.chunks_exact(L);
        let rest = lanes.remainder();
        for c in lanes {
            for (l, &x) in c.iter().enumerate() {
                step(l, x);
            }
        }
        for (l, &x) in rest.iter().enumerate() {
            step(l, x);
        }
        let n: u64 = cnt.iter().sum();
        self.missing += v.len() as u64 - n;
        if n == 0 {
            return;
        }
        let sum = (sum[0] + sum[1]) + (sum[2] + sum[3]);
        let lo = lo.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = hi.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let mean_b = sum / n as f64;
        let mut m2 = [0.0f64; L];
        let mut step = |l: usize, x: f64| {
            let d = x - mean_b;
            m2[l] += if x.is_nan() { 0.0 } else { d * d };
        };
        for c in v.chunks_exact(L) {
            for (l, &x) in c.iter().enumerate() {
                step(l, x);
            }
        }
        for (l, &x) in rest.iter().enumerate() {
            step(l, x);
        }
        let m2_b = (m2[0] + m2[1]) + (m2[2] + m2[3]);
        let total = self.n + n;
        let delta = mean_b - self.mean;
        let (na, nb, nt) = (self.n as f64, n as f64, total as f64);
        self.mean += delta * (nb / nt);
        self.m2 += m2_b + delta * delta * (na * nb / nt);
        self.n = total;
        self.min = self.min.min(lo);
        self.max = self.max.max(hi);
    }

    /// Sample standard deviation.
    #[allow(clippy::cast_precision_loss)]
    fn sd(&self) -> f64 {
        if self.n < 2 {
            0.0
        } else {
            (self.m2 / (self.n - 1) as f64).sqrt()
        }
    }

    /// Root mean square about the mean (population).
    #[allow(clippy::cast_precision_loss)]
    fn centred_rms(&self) -> f64 {
        if self.n == 0 {
            0.0
        } else {
            (self.m2 / self.n as f64).sqrt()
        }
    }
}

/// Streaming sums for the regression metrics.
#[derive(Debug, Default)]
struct MetricSums {
    y: Moments,
    sq: f64,
    abs: f64,
    ape: f64,
    zero: bool,
}

impl MetricSums {
    fn push(&mut self, y: f64, pred: f64) {
        self.y.push(y);
        let r = y - pred;
        self.sq += r * r;
        self.abs += r.abs();
        if y == 0.0 {
            self.zero = true;
        } else {
            self.ape += r.abs() / y.abs();
        }
    }

    #[allow(clippy::cast_precision_loss)]
    fn finish(&self) -> Option<metrics::MetricSet> {
        let n = self.y.n;
        if n == 0 {
            return None;
        }
        let nf = n as f64;
        Some(metrics::MetricSet {
            rows: n,
            rmse: (self.sq / nf).sqrt(),
            mae: self.abs / nf,
            r2: (self.y.m2 > 0.0).then(|| 1.0 - self.sq / self.y.m2),
            mape: (!self.zero).then(|| self.ape / nf),
            deviance: None,
        })
    }
}

/// A categorical feature's levels as met in training rows.
#[derive(Debug, Default)]
struct Levels {
    index: HashMap<String, usize>,
    names: Vec<String>,
    counts: Vec<u64>,
    /// The factor column of each level.
    column: Vec<usize>,
    missing: u64,
}

/// Pass-1 state.
struct Fold {
    intercept: bool,
    /// Shift and scale per feature (numeric only), and of the target.
    shift: Vec<f64>,
    scale: Vec<f64>,
    y_shift: f64,
    ready: bool,
    /// Factor columns, y excluded; y is always the last column of `r`.
    width: usize,
    r: Option<Array2<f64>>,
    numeric_col: Vec<Option<usize>>,
    levels: Vec<Option<Levels>>,
    moments: Vec<Moments>,
    target: Moments,
    rows: u64,
    train: u64,
    validation: u64,
    dropped: u64,
}

/// Rows factored at a time: 4,096 rows of a dozen columns (about 400 KB)
/// stay in the core's cache while the Householder reflections sweep them.
const FOLD_ROWS: usize = 4096;

/// Factor `m` (the current R stacked on a piece of the block), or keep it
/// while it has fewer rows than columns: any matrix whose Gram matrix is that
/// of the rows so far is a valid running factor.
fn fold_block(m: Array2<f64>) -> Result<Array2<f64>> {
    if m.nrows() < m.ncols() {
        return Ok(m);
    }
    Ok(m.qr_into()
        .map_err(|e| Error::data(format!("the QR factorisation failed: {e}")))?
        .into_r())
}

/// A power of two near `v` (1 for 0): scaling by it is exact.
fn pow2_near(v: f64) -> f64 {
    if v == 0.0 || !v.is_finite() {
        1.0
    } else {
        #[allow(clippy::cast_possible_truncation)]
        2f64.powi(v.abs().log2().round() as i32)
    }
}

impl Fold {
    /// Set shifts and scales from the training rows of the first block.
    #[allow(clippy::cast_precision_loss)]
    fn init(&mut self, t: &Table, idx: &[usize]) {
        for (k, col) in t.features.iter().enumerate() {
            if let Column::Numeric(v) = col {
                let mut m = Moments::default();
                for &i in idx {
                    m.push(v[i]);
                }
                let shift = if self.intercept { m.mean } else { 0.0 };
                let spread = if self.intercept {
                    m.centred_rms()
                } else {
                    (m.m2 / m.n.max(1) as f64 + m.mean * m.mean).sqrt()
                };
                self.shift[k] = shift;
                self.scale[k] = pow2_near(if spread > 0.0 { spread } else { m.mean });
            }
        }
        let mut y = Moments::default();
        for &i in idx {
            y.push(t.target[i]);
        }
        self.y_shift = if self.intercept { y.mean } else { 0.0 };
        self.ready = true;
    }

    /// Fold the training rows `idx` of block `t`.
    fn push(&mut self, t: &Table, idx: &[usize]) -> Result<()> {
        if idx.is_empty() {
            return Ok(());
        }
        if !self.ready {
            self.init(t, idx);
        }
        // Map this block's level codes to factor columns (new levels get new
        // columns), and count.
        let mut maps: Vec<Vec<usize>> = Vec::with_capacity(t.features.len());
        for (k, col) in t.features.iter().enumerate() {
            match (col, &mut self.levels[k]) {
                (Column::Categorical { codes, levels }, Some(lv)) => {
                    let mut local = vec![usize::MAX; levels.len()];
                    for &i in idx {
                        let c = codes[i];
                        if c == MISSING_LEVEL {
                            lv.missing += 1;
                            continue;
                        }
                        let slot = &mut local[c as usize];
                        if *slot == usize::MAX {
                            let name = &levels[c as usize];
                            *slot = if let Some(&g) = lv.index.get(name) {
                                g
                            } else {
                                let g = lv.names.len();
                                lv.index.insert(name.clone(), g);
                                lv.names.push(name.clone());
                                lv.counts.push(0);
                                lv.column.push(self.width);
                                self.width += 1;
                                g
                            };
                        }
                        lv.counts[*slot] += 1;
                    }
                    maps.push(local);
                }
                (Column::Numeric(v), _) => {
                    self.moments[k].push_block(v, idx);
                    maps.push(Vec::new());
                }
                _ => maps.push(Vec::new()),
            }
        }
        self.target.push_block(&t.target, idx);
        // The factor's columns: [1?, numeric..., dummies..., y].
        let cols = self.width + 1;
        let mut source = vec![Source::Zero; cols];
        if self.intercept {
            source[0] = Source::One;
        }
        for (k, col) in self.numeric_col.iter().enumerate() {
            if let Some(j) = *col {
                let (sh, sc) = (self.shift[k], self.scale[k]);
                // The scale is a power of two: when its reciprocal is one
                // too, multiplying rounds as dividing does.
                let inv = 1.0 / sc;
                source[j] = if inv.recip() == sc {
                    Source::Scaled(k, sh, inv)
                } else {
                    Source::Divided(k, sh, sc)
                };
            }
        }
        source[cols - 1] = Source::Target(self.y_shift);
        // Widen R for new columns: they go before y, with zeros above.
        let mut r = self.r.take().map(|r| {
            if r.ncols() == cols {
                r
            } else {
                let old = r.ncols();
                let mut w = Array2::<f64>::zeros((r.nrows(), cols).f());
                w.slice_mut(s![.., ..old - 1])
                    .assign(&r.slice(s![.., ..old - 1]));
                w.column_mut(cols - 1).assign(&r.column(old - 1));
                w
            }
        });
        // R stacked on each piece of the block, built column by column in
        // place, and factored: pieces stay in cache while the Householder
        // reflections sweep them.
        for piece in idx.chunks(FOLD_ROWS) {
            let top = r.as_ref().map_or(0, Array2::nrows);
            let rows = top + piece.len();
            // Consecutive rows are read as one slice.
            let run = (piece[piece.len() - 1] + 1 - piece[0] == piece.len())
                .then(|| piece[0]..piece[0] + piece.len());
            let mut data: Vec<f64> = Vec::with_capacity(rows * cols);
            for (j, src) in source.iter().enumerate() {
                if let Some(r) = &r {
                    data.extend(r.column(j).iter());
                }
                match *src {
                    Source::Zero => data.resize(data.len() + piece.len(), 0.0),
                    Source::One => data.resize(data.len() + piece.len(), 1.0),
                    Source::Scaled(k, sh, inv) => {
                        let v = numeric(t, k);
                        match &run {
                            Some(range) => {
                                data.extend(v[range.clone()].iter().map(|&x| (x - sh) * inv))
                            }
                            None => data.extend(piece.iter().map(|&i| (v[i] - sh) * inv)),
                        }
                    }
                    Source::Divided(k, sh, sc) => {
                        let v = numeric(t, k);
                        data.extend(piece.iter().map(|&i| (v[i] - sh) / sc));
                    }
                    Source::Target(shift) => {
                        data.extend(piece.iter().map(|&i| t.target[i] - shift));
                    }
                }
            }
            // The dummies' ones.
            for (k, col) in t.features.iter().enumerate() {
                if let (Column::Categorical { codes, .. }, Some(lv)) = (col, &self.levels[k]) {
                    for (row, &i) in piece.iter().enumerate() {
                        let c = codes[i];
                        if c != MISSING_LEVEL {
                            let j = lv.column[maps[k][c as usize]];
                            data[j * rows + top + row] = 1.0;
                        }
                    }
                }
            }
            let m = Array2::from_shape_vec((rows, cols).f(), data).map_err(|e| {
                Error::data(format!(
                    "internal error: the block has the wrong shape: {e}"
                ))
            })?;
            r = Some(fold_block(m)?);
        }
        self.r = r;
        Ok(())
    }
}

/// Where a factor column's values come from, for one block.
#[derive(Debug, Clone, Copy)]
enum Source {
    /// A dummy column: zeros, then ones where the level is met.
    Zero,
    /// The intercept.
    One,
    /// Feature `k`, `(x - shift) * inverse scale` (the reciprocal is exact).
    Scaled(usize, f64, f64),
    /// Feature `k`, `(x - shift) / scale`.
    Divided(usize, f64, f64),
    /// The target, minus its shift.
    Target(f64),
}

/// The values of numeric feature `k` of `t` (empty for a categorical one,
/// which has no numeric factor column).
fn numeric(t: &Table, k: usize) -> &[f64] {
    match &t.features[k] {
        Column::Numeric(v) => v,
        Column::Categorical { .. } => &[],
    }
}

/// Train the project's linear model in two streaming passes.
#[allow(clippy::too_many_lines)]
pub fn train(
    project: &Project,
    opts: &TrainOptions,
    progress: &dyn Progress,
    start: Instant,
) -> Result<TrainReport> {
    let cfg = &project.file;
    let data_cfg = project.data()?;
    let model_cfg = project.model()?;
    if model_cfg.kind != ModelKind::Linear {
        return Err(Error::usage(format!(
            "{}: the streaming path fits only model.kind = \"linear\"; set model.streaming = false (or drop --streaming) to fit a GLM in memory",
            project.locate("model", "kind")
        )));
    }
    if data_cfg.missing == MissingPolicy::Mean {
        return Err(Error::usage(format!(
            "{}: the streaming path cannot use data.missing = \"mean\" (the means must be known before the first row is fitted); use \"drop-row\" or \"error\", or train in memory",
            project.locate("data", "missing")
        )));
    }
    let data_files = project.data_files()?;
    let origin = match data_files.as_slice() {
        [one] => display_path(one),
        [first, rest @ ..] => format!("{} (and {} more)", display_path(first), rest.len()),
        [] => String::new(),
    };
    let sel = Selection {
        target: Some(data_cfg.target.clone()),
        features: data_cfg.features.clone(),
        exclude: data_cfg.exclude.clone(),
        categorical: data_cfg.categorical.clone(),
        missing: data_cfg.missing,
    };
    let fraction = cfg.split.fraction();
    let seed = cfg.split.seed;
    let intercept = model_cfg.fit_intercept;
    let drop_rows = data_cfg.missing == MissingPolicy::DropRow;
    let block = if opts.block == 0 {
        data::STREAM_BLOCK
    } else {
        opts.block
    };
    let usable = |t: &Table, i: usize| {
        !drop_rows || (!t.target[i].is_nan() && !t.features.iter().any(|c| c.is_missing(i)))
    };

    // Pass 1: fold and count, and keep the parsed rows in a spill file for
    // pass 2 (when the temporary folder cannot hold it, pass 2 parses the
    // CSV again).
    let mut spill = data::spill::SpillWriter::new().ok();
    let mut fold: Option<Fold> = None;
    let mut feature_names: Vec<String> = Vec::new();
    let data_sha256 = data::stream_tables(&data_files, &sel, block, progress, &mut |t| {
        let f = fold.get_or_insert_with(|| {
            feature_names.clone_from(&t.feature_names);
            let mut width = usize::from(intercept);
            let numeric_col = t
                .features
                .iter()
                .map(|c| match c {
                    Column::Numeric(_) => {
                        width += 1;
                        Some(width - 1)
                    }
                    Column::Categorical { .. } => None,
                })
                .collect();
            let levels = t
                .features
                .iter()
                .map(|c| match c {
                    Column::Categorical { .. } => Some(Levels::default()),
                    Column::Numeric(_) => None,
                })
                .collect();
            let k = t.features.len();
            Fold {
                intercept,
                shift: vec![0.0; k],
                scale: vec![1.0; k],
                y_shift: 0.0,
                ready: false,
                width,
                r: None,
                numeric_col,
                levels,
                moments: vec![Moments::default(); k],
                target: Moments::default(),
                rows: 0,
                train: 0,
                validation: 0,
                dropped: 0,
            }
        });
        let mut idx = Vec::with_capacity(t.rows());
        for i in 0..t.rows() {
            let g = f.rows + i as u64;
            if !usable(&t, i) {
                f.dropped += 1;
            } else if cfg.split.validation_path.is_none() && split::is_validation(seed, g, fraction)
            {
                f.validation += 1;
            } else {
                idx.push(i);
            }
        }
        f.rows += t.rows() as u64;
        f.train += idx.len() as u64;
        f.push(&t, &idx)?;
        if let Some(w) = &mut spill
            && w.push(&t).is_err()
        {
            spill = None;
        }
        Ok(())
    })?;
    let Some(mut fold) = fold.filter(|f| f.rows > 0) else {
        return Err(Error::data(format!(
            "{origin} has a header row but no data rows; add data"
        )));
    };
    let n = fold.train;
    if n < 2 {
        return Err(Error::data(format!(
            "{origin}: only {n} training row is left after the split and the missing-value policy; a model needs at least 2, add rows"
        )));
    }
    if fraction > 0.0 && cfg.split.validation_path.is_none() && fold.validation == 0 {
        return Err(Error::data(format!(
            "{origin}: the validation split is empty ({} rows at split.validation_fraction = {fraction}); add rows or raise the fraction",
            fold.rows
        )));
    }
    if fold.target.min == fold.target.max {
        return Err(Error::data(format!(
            "{origin}: target \"{}\" is constant ({} in every training row); there is nothing to learn",
            data_cfg.target, fold.target.min
        )));
    }

    // Levels in design order, and the factor's columns in that order.
    let mut categorical = IndexMap::new();
    for (k, name) in feature_names.iter().enumerate() {
        if let Some(lv) = &fold.levels[k] {
            let mut sorted: Vec<String> = lv.names.clone();
            sorted.sort();
            if sorted.is_empty() {
                return Err(Error::data(format!(
                    "{origin}: categorical column \"{name}\" has no value in any training row; fill it or drop it from data.features"
                )));
            }
            categorical.insert(
                name.clone(),
                Categorical {
                    reference: intercept.then(|| sorted[0].clone()),
                    levels: sorted,
                },
            );
        }
    }
    let (terms, term_names) = model::design_terms(&feature_names, &categorical);
    let mut columns: Vec<usize> = Vec::new();
    let mut spread: Vec<f64> = Vec::new(); // the RMS of each term's column, in factor units
    #[allow(clippy::cast_precision_loss)]
    let nf = n as f64;
    if intercept {
        columns.push(0);
    }
    for (t, name) in terms.iter().zip(&term_names) {
        match *t {
            Term::Numeric { feature } => {
                let m = &fold.moments[feature];
                if m.min == m.max && (intercept || m.min == 0.0) {
                    let what = if intercept {
                        "is constant, so it duplicates the intercept"
                    } else {
                        "is all zeros"
                    };
                    return Err(Error::data(format!(
                        "{origin}: the design is rank deficient: column \"{name}\" {what}; drop it from data.features"
                    )));
                }
                columns.push(fold.numeric_col[feature].unwrap_or(0));
                let rms = if intercept {
                    m.centred_rms()
                } else {
                    (m.m2 / nf + m.mean * m.mean).sqrt()
                };
                spread.push(rms / fold.scale[feature]);
            }
            Term::Level { feature, level } => {
                let lv = fold.levels[feature]
                    .as_ref()
                    .ok_or_else(|| Error::data("internal error: a level of a numeric column"))?;
                let level_name = &categorical[&feature_names[feature]].levels[level];
                let g = lv.index[level_name];
                columns.push(lv.column[g]);
                let p = lv.counts[g] as f64 / nf;
                spread.push(if intercept {
                    (p * (1.0 - p)).sqrt()
                } else {
                    p.sqrt()
                });
            }
        }
    }
    let r = fold.r.take().unwrap_or_else(|| Array2::zeros((0, 0)));
    let ycol = r.ncols() - 1;
    columns.push(ycol);
    let k = columns.len();
    let mut m = Array2::<f64>::zeros((r.nrows().max(k), k).f());
    for (dst, &src) in columns.iter().enumerate() {
        m.slice_mut(s![..r.nrows(), dst]).assign(&r.column(src));
    }
    let rf = m
        .qr_into()
        .map_err(|e| Error::data(format!("{origin}: the QR factorisation failed: {e}")))?
        .into_r();
    // The rank check of the in-memory path, on the centred block with unit
    // columns.
    let off = usize::from(intercept);
    let p = term_names.len();
    let mut centred = rf.slice(s![off..off + p, off..off + p]).to_owned();
    for (j, sp) in spread.iter().enumerate() {
        if *sp > 0.0 {
            centred.column_mut(j).mapv_inplace(|v| v / sp);
        }
    }
    let n_usize = usize::try_from(n).unwrap_or(usize::MAX);
    check_rank(&centred, n_usize, &term_names)
        .map_err(|e| Error::data(format!("{origin}: {e}")))?;
    let a = rf.slice(s![..k - 1, ..k - 1]).to_owned();
    let b = rf.slice(s![..k - 1, k - 1]).to_owned();
    let solved = LinearRegression::new()
        .with_intercept(false)
        .fit(&Dataset::new(a, b))
        .map_err(|e| Error::data(format!("{origin}: the least-squares fit failed: {e}")))?;
    let sol = solved.params();
    let mut coefficients = Vec::with_capacity(p);
    let mut b0 = if intercept { sol[0] } else { 0.0 } + fold.y_shift;
    for (j, t) in terms.iter().enumerate() {
        let bj = sol[off + j];
        match *t {
            Term::Numeric { feature } => {
                let c = bj / fold.scale[feature];
                b0 -= c * fold.shift[feature];
                coefficients.push(c);
            }
            Term::Level { .. } => coefficients.push(bj),
        }
    }
    if coefficients.iter().any(|c| !c.is_finite()) || !b0.is_finite() {
        return Err(Error::data(format!(
            "{origin}: the fit did not converge to finite coefficients; check the data for extreme values"
        )));
    }
    let predictor = model::Predictor {
        terms: terms.clone(),
        coefficients: coefficients.clone(),
        intercept: if intercept { b0 } else { 0.0 },
        inverse: model::Inverse::Identity,
    };

    // Pass 2: metrics and decile histograms.
    let mut hist: Vec<Vec<u64>> = fold.moments.iter().map(|_| vec![0; DECILE_BINS]).collect();
    let mut target_hist = vec![0u64; DECILE_BINS];
    let mut train_sums = MetricSums::default();
    let mut valid_sums = MetricSums::default();
    let mut row0 = 0u64;
    let separate = cfg.split.validation_path.is_some();
    let mut values = vec![model::Value::Number(0.0); feature_names.len()];
    let lookup: Vec<Option<HashMap<&str, usize>>> = feature_names
        .iter()
        .map(|f| {
            categorical.get(f).map(|c| {
                c.levels
                    .iter()
                    .enumerate()
                    .map(|(i, l)| (l.as_str(), i))
                    .collect()
            })
        })
        .collect();
    let bins = DECILE_BINS as f64;
    // Per feature (and the target): the histogram's lower end and bins per
    // unit, or None when the column is constant (no histogram needed).
    let scale_of = |m: &Moments| (m.max > m.min).then(|| (m.min, bins / (m.max - m.min)));
    let feature_bins: Vec<Option<(f64, f64)>> = fold.moments.iter().map(scale_of).collect();
    let target_bins = scale_of(&fold.target);
    // Numeric-only models: the prediction as Predictor::predict computes it
    // (the same terms in the same order), straight from the columns.
    let numeric_terms: Option<Vec<(usize, f64)>> = predictor
        .terms
        .iter()
        .zip(&predictor.coefficients)
        .map(|(t, b)| match t {
            model::Term::Numeric { feature } => Some((*feature, *b)),
            model::Term::Level { .. } => None,
        })
        .collect();
    let identity = predictor.inverse == model::Inverse::Identity;
    let mut pass2 = |t: Table| -> Result<()> {
        let n = t.rows();
        // Each row's role, column by column: 0 unused (a missing value
        // under drop-row), 1 training, 2 validation.
        let mut role = vec![1u8; n];
        if drop_rows {
            for (i, r) in role.iter_mut().enumerate() {
                if !usable(&t, i) {
                    *r = 0;
                }
            }
        }
        if !separate && fraction > 0.0 {
            for (i, r) in role.iter_mut().enumerate() {
                if *r == 1 && split::is_validation(seed, row0 + i as u64, fraction) {
                    *r = 2;
                }
            }
        }
        // Predictions: numeric-only models as Predictor::predict computes
        // them (the same terms in the same order), a column at a time.
        let numeric: Option<Vec<&[f64]>> = t
            .features
            .iter()
            .map(|c| match c {
                Column::Numeric(v) => Some(v.as_slice()),
                Column::Categorical { .. } => None,
            })
            .collect();
        let pred: Vec<f64> = match (&numeric_terms, &numeric) {
            (Some(terms), Some(cols)) if identity => {
                let mut eta = vec![predictor.intercept; n];
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
                        *e = row_prediction(
                            &predictor,
                            &t,
                            i,
                            &lookup,
                            &mut values,
                            &categorical,
                            separate,
                        )?;
                    }
                }
                eta
            }
        };
        // Decile histograms of the training rows.
        for (k, col) in t.features.iter().enumerate() {
            if let (Column::Numeric(v), Some(sb)) = (col, feature_bins[k]) {
                let h = &mut hist[k];
                for (&x, &r) in v.iter().zip(&role) {
                    if r == 1 {
                        bin(h, sb, x);
                    }
                }
            }
        }
        if let Some(sb) = target_bins {
            for (&y, &r) in t.target.iter().zip(&role) {
                if r == 1 {
                    bin(&mut target_hist, sb, y);
                }
            }
        }
        for ((&y, &p), &r) in t.target.iter().zip(&pred).zip(&role) {
            match r {
                1 => train_sums.push(y, p),
                2 => valid_sums.push(y, p),
                _ => {}
            }
        }
        row0 += n as u64;
        Ok(())
    };
    let spilled = spill.and_then(|w| w.into_reader(origin.clone(), feature_names.clone()).ok());
    if let Some(mut r) = spilled {
        // Read the spill on its own thread while this one computes.
        let (tx, rx) = std::sync::mpsc::sync_channel::<std::io::Result<Table>>(2);
        std::thread::scope(|s| -> Result<()> {
            s.spawn(move || {
                loop {
                    let next = match r.next_table() {
                        Ok(Some(t)) => Ok(t),
                        Ok(None) => return,
                        Err(e) => Err(e),
                    };
                    let failed = next.is_err();
                    if tx.send(next).is_err() || failed {
                        return;
                    }
                }
            });
            let tmp = std::env::temp_dir();
            // On an error this returns, dropping `rx`: the reader stops.
            for t in rx {
                pass2(t.map_err(|e| {
                    Error::usage(format!(
                        "cannot read back the temporary file of parsed rows in {} ({e}); set TMPDIR to a folder with room",
                        display_path(&tmp)
                    ))
                })?)?;
            }
            Ok(())
        })?;
    } else {
        data::stream_tables(&data_files, &sel, block, progress, &mut pass2)?;
    }
    let mut validation_sha = None;
    if let Some(vp) = &cfg.split.validation_path {
        let vpath = project.resolve(vp);
        let vsel = Selection {
            features: Some(feature_names.clone()),
            exclude: Vec::new(),
            ..sel.clone()
        };
        validation_sha = Some(data::stream_tables(
            std::slice::from_ref(&vpath),
            &vsel,
            block,
            progress,
            &mut |t| {
                for i in 0..t.rows() {
                    if !usable(&t, i) {
                        fold.dropped += 1;
                        continue;
                    }
                    fold.validation += 1;
                    let pred = row_prediction(
                        &predictor,
                        &t,
                        i,
                        &lookup,
                        &mut values,
                        &categorical,
                        true,
                    )?;
                    valid_sums.push(t.target[i], pred);
                }
                Ok(())
            },
        )?);
    }

    // Statistics.
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
            None => ColumnStats::Numeric(numeric_stats(&fold.moments[k], &hist[k])),
        };
        feature_stats.insert(name.clone(), s);
    }
    let target_stats = numeric_stats(&fold.target, &target_hist);
    let train_metrics = train_sums
        .finish()
        .ok_or_else(|| Error::data(format!("{origin}: no training rows")))?;
    let artifact = Artifact {
        format: model::FORMAT.to_string(),
        name: model_cfg.name.clone(),
        kind: ModelKind::Linear,
        params: Params {
            fit_intercept: intercept,
            power: None,
            link: None,
            alpha: None,
            max_iter: None,
        },
        target: data_cfg.target.clone(),
        features: feature_names.clone(),
        categorical,
        intercept: predictor.intercept,
        coefficients: term_names.iter().cloned().zip(coefficients).collect(),
        missing: Missing {
            policy: data_cfg.missing,
            fill: IndexMap::new(),
        },
        metrics: Metrics {
            train: train_metrics,
            validation: valid_sums.finish(),
        },
        feature_stats,
        target_stats,
        rows: Rows {
            total: fold.rows,
            train: fold.train,
            validation: fold.validation,
            dropped: fold.dropped,
        },
        split: Split {
            validation_fraction: fraction,
            seed,
            validation_path: cfg.split.validation_path.clone(),
        },
        data_sha256,
        validation_data_sha256: validation_sha,
        tool: Tool {
            name: "mlops".into(),
            version: crate::VERSION.into(),
        },
        created_at: opts.created_at.clone(),
    };
    crate::train::write_report(project, opts, artifact, "streaming", start)
}

/// The prediction for row `i` of `t`; a level unseen in training is an error.
fn row_prediction(
    p: &model::Predictor,
    t: &Table,
    i: usize,
    lookup: &[Option<HashMap<&str, usize>>],
    values: &mut [model::Value],
    cats: &IndexMap<String, Categorical>,
    separate: bool,
) -> Result<f64> {
    for (k, col) in t.features.iter().enumerate() {
        values[k] = match col {
            Column::Numeric(v) => model::Value::Number(v[i]),
            Column::Categorical { codes, levels } => {
                let c = codes[i];
                if c == MISSING_LEVEL {
                    model::Value::Level(usize::MAX)
                } else {
                    let name = &levels[c as usize];
                    match lookup[k].as_ref().and_then(|m| m.get(name.as_str())) {
                        Some(&l) => model::Value::Level(l),
                        None => {
                            let f = &t.feature_names[k];
                            let hint = if separate {
                                "add training rows with it, or remove it from the validation file"
                            } else {
                                "add training rows with it, or change split.seed"
                            };
                            return Err(Error::data(format!(
                                "{}:{}: column \"{f}\": level \"{name}\" appears only in validation rows (training levels: {}); {hint}",
                                t.origin,
                                t.lines[i],
                                cats.get(f).map(|c| c.levels.join(", ")).unwrap_or_default()
                            )));
                        }
                    }
                }
            }
        };
    }
    Ok(p.predict(values))
}

/// Count `x` in its histogram bin, given the histogram's lower end and bins
/// per unit (`(min, bins / (max - min))`); values outside land in the end
/// bins, missing ones nowhere.
#[inline]
fn bin(hist: &mut [u64], (min, per_unit): (f64, f64), x: f64) {
    if !x.is_nan() {
        // `as` truncates toward zero and saturates: floor for x ≥ min, 0 below.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let b = (((x - min) * per_unit) as usize).min(hist.len() - 1);
        hist[b] += 1;
    }
}

/// Numeric statistics from exact moments and the decile histogram.
///
/// The type-7 decile `x(k) + f (x(k+1) - x(k))` (k = ⌊h⌋, f = h − k, h =
/// (n − 1)p) is taken with each order statistic estimated inside its own bin
/// (its rank spread evenly over the bin), so each lies within one bin width
/// of the true one, and so does the interpolated edge: |error| ≤
/// (max − min) / 4,096.
#[allow(clippy::cast_precision_loss)]
fn numeric_stats(m: &Moments, hist: &[u64]) -> NumericStats {
    let mut deciles = Vec::with_capacity(9);
    if m.n > 0 {
        let width = (m.max - m.min) / hist.len() as f64;
        // The value of the order statistic of 0-based rank `k`.
        let order = |k: u64| -> f64 {
            if m.max == m.min {
                return m.min;
            }
            let mut cum = 0u64;
            for (b, &c) in hist.iter().enumerate() {
                if c > 0 && cum + c > k {
                    let within = ((k - cum) as f64 + 0.5) / c as f64;
                    return (m.min + (b as f64 + within) * width).clamp(m.min, m.max);
                }
                cum += c;
            }
            m.max
        };
        for d in 1..=9 {
            let h = (m.n - 1) as f64 * f64::from(d) / 10.0;
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let k = h.floor() as u64;
            let f = h - k as f64;
            let lo = order(k);
            let v = if f > 0.0 && k + 1 < m.n {
                lo + f * (order(k + 1) - lo)
            } else {
                lo
            };
            deciles.push(v);
        }
    }
    NumericStats {
        count: m.n,
        missing: m.missing,
        mean: m.mean,
        sd: m.sd(),
        min: if m.n == 0 { 0.0 } else { m.min },
        max: if m.n == 0 { 0.0 } else { m.max },
        deciles,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_moments_equal_one_by_one_moments_far_from_zero() {
        // Values near 1e9 with a spread of about 1: the case where a naive
        // sum of squares loses every digit.
        let v: Vec<f64> = (0..10_000)
            .map(|i| {
                let u = split::splitmix64(i) as f64 / u64::MAX as f64;
                if i % 97 == 0 { f64::NAN } else { 1e9 + u }
            })
            .collect();
        let mut one = Moments::default();
        for &x in &v {
            one.push(x);
        }
        let mut blocks = Moments::default();
        let idx: Vec<usize> = (0..v.len()).collect();
        for chunk in idx.chunks(777) {
            blocks.push_block(&v, chunk);
        }
        assert_eq!((blocks.n, blocks.missing), (one.n, one.missing));
        assert_eq!((blocks.min, blocks.max), (one.min, one.max));
        // The reference: two passes over x - 1e9, which is exact (Sterbenz)
        // and well scaled.
        let d: Vec<f64> = v.iter().filter(|x| !x.is_nan()).map(|x| x - 1e9).collect();
        let mean_d = d.iter().sum::<f64>() / d.len() as f64;
        let m2: f64 = d.iter().map(|x| (x - mean_d) * (x - mean_d)).sum();
        let mean = 1e9 + mean_d;
        assert!(
            (blocks.mean - mean).abs() <= 1e-15 * mean,
            "{} {mean}",
            blocks.mean
        );
        // Spread / level = 3e-10 leaves about 7 digits in each value; both
        // updates keep the variance to better than 1e-6 relative, blocks at
        // least as well as one by one (Welford).
        assert!((blocks.m2 - m2).abs() <= 1e-7 * m2, "{} {m2}", blocks.m2);
        assert!((blocks.m2 - m2).abs() <= (one.m2 - m2).abs());
        assert!((one.m2 - m2).abs() <= 1e-6 * m2, "{} {m2}", one.m2);
        // The population variance of U(0, 1) is 1/12.
        assert!((one.m2 / one.n as f64 - 1.0 / 12.0).abs() < 0.01);
    }
}
