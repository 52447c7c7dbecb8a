//! The R factor of a tall design, computed block by block (TSQR), and the
//! rank check that reads it: a column at a negligible distance from the
//! span of the columns before it makes the design rank deficient.

use linfa_linalg::qr::QRInto;
use ndarray::{Array2, ArrayView1, ArrayView2, ShapeBuilder, s};

use crate::error::{Error, Result};

/// Relative distance from the span of the other columns below which a column
/// counts as dependent. Exactly collinear columns land near 1e-16; the worst
/// well-posed NIST problem (Filip, a degree-10 polynomial) has 6.1e-8.
pub const RANK_TOL: f64 = 1e-11;

/// The R factor of `z = QR`, computed block by block (TSQR: the R of the
/// rows so far is stacked on the next block and factored again with
/// linfa-linalg's Householder QR), so the working set stays in cache and no
/// copy of `z` is made.
///
/// With `extra`, the factor is that of `[z | extra]`: its last column above
/// the diagonal is `Qᵀ extra`, and its corner is the residual norm.
pub fn r_factor(z: ArrayView2<f64>, extra: Option<ArrayView1<f64>>) -> Result<Array2<f64>> {
    let (n, pz) = z.dim();
    let p = pz + usize::from(extra.is_some());
    let block = (2 * p).max(4096);
    let mut r: Option<Array2<f64>> = None;
    let mut start = 0;
    while start < n {
        let end = (start + block).min(n);
        let top = r.as_ref().map_or(0, Array2::nrows);
        let mut m = Array2::<f64>::zeros((top + end - start, p).f());
        if let Some(r) = &r {
            m.slice_mut(s![..top, ..]).assign(r);
        }
        m.slice_mut(s![top.., ..pz])
            .assign(&z.slice(s![start..end, ..]));
        if let Some(e) = &extra {
            m.slice_mut(s![top.., pz]).assign(&e.slice(s![start..end]));
        }
        if m.nrows() < p {
            return Err(Error::data(format!(
                "{n} rows cannot determine {p} coefficients; add rows or drop features"
            )));
        }
        r = Some(
            m.qr_into()
                .map_err(|e| Error::data(format!("the QR factorisation failed: {e}")))?
                .into_r(),
        );
        start = end;
    }
    Ok(r.unwrap_or_else(|| Array2::zeros((p, p))))
}

/// Refuse a rank-deficient design, given the R factor (at least p × p) of
/// its standardised columns over `n` rows, naming the columns involved.
pub fn check_rank(r: &Array2<f64>, n: usize, names: &[String]) -> Result<()> {
    let p = names.len();
    #[allow(clippy::cast_precision_loss)]
    let root_n = (n as f64).sqrt();
    for j in 0..p {
        if r[[j, j]].abs() / root_n >= RANK_TOL {
            continue;
        }
        // Column j ≈ sum_i c_i z_i over i < j: solve R[..j,..j] c = R[..j, j].
        let mut c = vec![0.0; j];
        for i in (0..j).rev() {
            let mut s = r[[i, j]];
            for k in i + 1..j {
                s -= r[[i, k]] * c[k];
            }
            c[i] = if r[[i, i]] == 0.0 { 0.0 } else { s / r[[i, i]] };
        }
        let mut involved: Vec<&str> = c
            .iter()
            .enumerate()
            .filter(|(_, v)| v.abs() > 1e-8)
            .map(|(i, _)| names[i].as_str())
            .collect();
        involved.push(names[j].as_str());
        let list = involved
            .iter()
            .map(|s| format!("\"{s}\""))
            .collect::<Vec<_>>()
            .join(", ");
        let what = if involved.len() == 2 {
            "duplicate each other (up to scale and shift)"
        } else {
            "are exactly collinear"
        };
        return Err(Error::data(format!(
            "the design is rank deficient: columns {list} {what}; drop one of them from data.features"
        )));
    }
    Ok(())
}
