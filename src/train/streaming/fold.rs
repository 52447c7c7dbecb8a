//! The running triangular factor of pass 1 (TSQR): each block's training
//! rows, as the columns `[1, (x - shift) / scale, one-hot columns, y -
//! shift_y]`, are stacked under the current R and factored again with
//! Householder reflections (`model::fit::qr`; XᵀX is never formed); one-hot columns are
//! added as levels appear. The same fold keeps the exact moments of every
//! numeric column, the level counts and the row counts.

use std::collections::HashMap;

use ndarray::{Array2, ShapeBuilder, s};

use crate::data::{Column, MISSING_LEVEL, Table};
use crate::error::{Error, Result};
use crate::train::streaming::moments::Moments;
use crate::train::streaming::plan::Plan;

/// A categorical feature's levels as met in training rows.
#[derive(Debug, Default)]
pub(super) struct Levels {
    pub index: HashMap<String, usize>,
    pub names: Vec<String>,
    pub counts: Vec<u64>,
    /// The factor column of each level.
    pub column: Vec<usize>,
    pub missing: u64,
}

/// Pass-1 state.
pub(super) struct Fold {
    intercept: bool,
    /// Whether the rows are folded into the factor (a classifier's fit
    /// needs only the counts and moments of pass 1).
    pub factor: bool,
    /// Shift and scale per feature (numeric only), and of the target.
    pub shift: Vec<f64>,
    pub scale: Vec<f64>,
    pub y_shift: f64,
    ready: bool,
    /// Factor columns, y excluded; y is always the last column of `r`.
    width: usize,
    pub r: Option<Array2<f64>>,
    pub numeric_col: Vec<Option<usize>>,
    pub levels: Vec<Option<Levels>>,
    pub moments: Vec<Moments>,
    pub target: Moments,
    pub rows: u64,
    pub train: u64,
    pub validation: u64,
    pub dropped: u64,
}

impl Fold {
    /// The first categorical feature with more than `data.max_levels` levels
    /// in the training rows so far, as an error (before the factor grows a
    /// column for each).
    pub fn check_max_levels(&self, feature_names: &[String], plan: &Plan) -> Result<()> {
        let max = plan.data_cfg.max_levels;
        for (name, lv) in feature_names.iter().zip(&self.levels) {
            if let Some(lv) = lv
                && lv.names.len() as u64 > max
            {
                return Err(crate::data::too_many_levels(
                    &plan.origin,
                    name,
                    lv.names.len(),
                    max,
                ));
            }
        }
        Ok(())
    }
}

/// Rows factored at a time: 4,096 rows of a dozen columns (about 400 KB)
/// stay in the core's cache while the Householder reflections sweep them.
const FOLD_ROWS: usize = 4096;

/// Factor `m` (the current R stacked on a piece of the block), or keep it
/// while it has fewer rows than columns: any matrix whose Gram matrix is that
/// of the rows so far is a valid running factor.
fn fold_block(m: Array2<f64>) -> Array2<f64> {
    if m.nrows() < m.ncols() {
        return m;
    }
    crate::model::fit::qr::householder_r(m)
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
    /// An empty fold for tables with the columns of the first block `t`.
    pub fn new(t: &Table, intercept: bool) -> Fold {
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
            factor: true,
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
    }

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
    pub fn push(&mut self, t: &Table, idx: &[usize]) -> Result<()> {
        if idx.is_empty() {
            return Ok(());
        }
        if !self.ready {
            self.init(t, idx);
        }
        let maps = self.count(t, idx);
        self.target.push_block(&t.target, idx);
        if !self.factor {
            return Ok(());
        }
        // The factor's columns: [1?, numeric..., dummies..., y].
        let cols = self.width + 1;
        let source = self.sources(cols);
        // Widen R for new columns: they go before y, with zeros above.
        let mut r = self.r.take().map(|r| widen(r, cols));
        // R stacked on each piece of the block, built column by column in
        // place, and factored: pieces stay in cache while the Householder
        // reflections sweep them.
        for piece in idx.chunks(FOLD_ROWS) {
            let top = r.as_ref().map_or(0, Array2::nrows);
            let rows = top + piece.len();
            let data = self.stack(t, piece, r.as_ref(), &source, &maps);
            let m = Array2::from_shape_vec((rows, cols).f(), data).map_err(|e| {
                Error::data(format!(
                    "internal error: the block has the wrong shape: {e}"
                ))
            })?;
            r = Some(fold_block(m));
        }
        self.r = r;
        Ok(())
    }

    /// Map this block's level codes to levels of the fold (new levels get
    /// new factor columns), and count; add the numeric columns' values to
    /// their moments. Returns, per feature, the fold's level of each of the
    /// block's codes (empty for a numeric feature).
    fn count(&mut self, t: &Table, idx: &[usize]) -> Vec<Vec<usize>> {
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
        maps
    }

    /// Where each of the `cols` factor columns' values come from.
    fn sources(&self, cols: usize) -> Vec<Source> {
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
        source
    }

    /// The rows `piece` of block `t` stacked under `r`, column by column
    /// (column-major, `source.len()` columns), ready to be factored.
    fn stack(
        &self,
        t: &Table,
        piece: &[usize],
        r: Option<&Array2<f64>>,
        source: &[Source],
        maps: &[Vec<usize>],
    ) -> Vec<f64> {
        let top = r.map_or(0, Array2::nrows);
        let rows = top + piece.len();
        let cols = source.len();
        // Consecutive rows are read as one slice.
        let run = (piece[piece.len() - 1] + 1 - piece[0] == piece.len())
            .then(|| piece[0]..piece[0] + piece.len());
        let mut data: Vec<f64> = Vec::with_capacity(rows * cols);
        for (j, src) in source.iter().enumerate() {
            if let Some(r) = r {
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
        data
    }
}

/// `r` with zero columns inserted before its last one (y) up to `cols`.
fn widen(r: Array2<f64>, cols: usize) -> Array2<f64> {
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
