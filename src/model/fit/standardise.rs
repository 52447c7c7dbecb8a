//! Standardising the design in place: each column centred on its mean (when
//! there is an intercept) and divided by a power of two near its root mean
//! square, an exact operation in binary floating point. A constant (or
//! all-zero) column is refused here, by name.

use ndarray::{Array2, Axis};

use crate::error::{Error, Result};

/// The standardised design and what undoes it.
pub(super) struct Standardised {
    /// The design, centred and scaled.
    pub(super) x: Array2<f64>,
    /// The mean taken off each column (0 without an intercept).
    pub(super) means: Vec<f64>,
    /// The power of two each column was divided by.
    pub(super) scales: Vec<f64>,
}

/// Standardise `x` in place; `names` label the columns in errors.
#[allow(clippy::cast_precision_loss)]
pub(super) fn standardise(
    mut x: Array2<f64>,
    names: &[String],
    intercept: bool,
) -> Result<Standardised> {
    let (n, p) = x.dim();
    let nf = n as f64;
    let mut means = vec![0.0; p];
    let mut scales = vec![1.0; p];
    for (j, mut col) in x.axis_iter_mut(Axis(1)).enumerate() {
        if intercept {
            let m = col.sum() / nf;
            col.mapv_inplace(|v| v - m);
            means[j] = m;
        }
        // The root mean square, scaled by the largest magnitude first so
        // that values near 1e300 do not overflow when squared.
        let big = col.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let rms = if big > 0.0 && big.is_finite() {
            big * (col.iter().map(|v| (v / big) * (v / big)).sum::<f64>() / nf).sqrt()
        } else {
            big
        };
        let s = scale_of(rms, &names[j], intercept)?;
        col.mapv_inplace(|v| v / s);
        scales[j] = s;
    }
    Ok(Standardised { x, means, scales })
}

/// The power of two nearest a column's root mean square (about its mean
/// with an intercept), by which it is divided; a zero or non-finite one
/// (a constant or all-zero column) is refused, naming the column.
#[allow(clippy::cast_possible_truncation)]
pub(super) fn scale_of(rms: f64, name: &str, intercept: bool) -> Result<f64> {
    if rms == 0.0 || !rms.is_finite() {
        let what = if intercept {
            "is constant, so it duplicates the intercept"
        } else {
            "is all zeros"
        };
        return Err(Error::data(format!(
            "the design is rank deficient: column \"{name}\" {what}; drop it from data.features"
        )));
    }
    // A power of two: scaling by it is exact.
    Ok(2f64.powi(rms.log2().round() as i32))
}
