//! The R factor of a tall design, computed block by block (TSQR), and the
//! rank check that reads it: a column at a negligible distance from the
//! span of the columns before it makes the design rank deficient.

use ndarray::{Array2, ArrayView1, ArrayView2, ShapeBuilder, s};

use crate::error::{Error, Result};

/// Relative distance from the span of the other columns below which a column
/// counts as dependent. Exactly collinear columns land near 1e-16; the worst
/// well-posed NIST problem (Filip, a degree-10 polynomial) has 6.1e-8.
pub const RANK_TOL: f64 = 1e-11;

/// The R factor of `z = QR`, computed block by block (TSQR: the R of the
/// rows so far is stacked on the next block and factored again with
/// [`householder_r`]), so the working set stays in cache and no copy of `z`
/// is made.
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
        r = Some(householder_r(m));
        start = end;
    }
    Ok(r.unwrap_or_else(|| Array2::zeros((p, p))))
}

/// The R factor of the tall matrix `m` (at least as many rows as columns),
/// by Householder reflections, its diagonal made non-negative (the sign of
/// each row of R is free: `RᵀR` is the Gram matrix either way).
///
/// The reflections are LAPACK's (`dlarfg`/`dlarf`: the column's norm goes
/// to the diagonal with the sign opposite to its first entry, so nothing
/// cancels), applied column by column over contiguous memory with sums in
/// eight lanes, which the compiler vectorises; `m`'s storage is reused
/// when it is column-major (as the callers build it), else copied once.
#[must_use]
pub fn householder_r(m: Array2<f64>) -> Array2<f64> {
    let (rows, cols) = m.dim();
    // Column-major: column j is a[j * rows..(j + 1) * rows].
    let t = m.reversed_axes();
    let mut a = if t.is_standard_layout() {
        match t.into_raw_vec_and_offset() {
            (v, Some(0)) if v.len() == rows * cols => v,
            (v, off) => {
                let o = off.unwrap_or(0);
                v[o..o + rows * cols].to_vec()
            }
        }
    } else {
        t.iter().copied().collect()
    };
    let mut diag = vec![0.0; cols.min(rows)];
    for (j, d) in diag.iter_mut().enumerate() {
        let (left, right) = a.split_at_mut((j + 1) * rows);
        let v = &mut left[j * rows + j..];
        let alpha = v[0];
        let tail = dot(&v[1..], &v[1..]);
        if tail == 0.0 {
            // Already reduced: no reflection.
            *d = alpha;
            continue;
        }
        let beta = -alpha.signum() * (alpha * alpha + tail).sqrt();
        v[0] = alpha - beta;
        // H = I - v vᵀ / (β (β - α)), and vᵀv = 2 β (β - α).
        let scale = 1.0 / (beta * (beta - alpha));
        for c in right.chunks_exact_mut(rows) {
            let c = &mut c[j..];
            let w = dot(v, c) * scale;
            for (x, &vi) in c.iter_mut().zip(v.iter()) {
                *x -= w * vi;
            }
        }
        *d = beta;
    }
    let n = diag.len();
    Array2::from_shape_fn((n, cols), |(i, k)| {
        let sign = if diag[i] < 0.0 { -1.0 } else { 1.0 };
        match k.cmp(&i) {
            std::cmp::Ordering::Less => 0.0,
            std::cmp::Ordering::Equal => diag[i].abs(),
            std::cmp::Ordering::Greater => sign * a[k * rows + i],
        }
    })
}

/// `a · b`, summed in eight lanes (vectorised), then pairwise.
#[inline(always)]
pub(super) fn dot(a: &[f64], b: &[f64]) -> f64 {
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f64 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    let mut s = [0.0; 8];
    for (x, y) in ca.zip(cb) {
        for i in 0..8 {
            s[i] += x[i] * y[i];
        }
    }
    ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7])) + tail
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

#[cfg(test)]
mod tests {
    use super::*;
    use linfa_linalg::qr::QRInto;

    /// A matrix of awkward numbers: mixed scales, signs, a zero column
    /// below the first row, and a column that is already reduced.
    fn awkward(rows: usize, cols: usize) -> Array2<f64> {
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        Array2::from_shape_fn((rows, cols).f(), |(i, j)| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            #[allow(clippy::cast_precision_loss)]
            let u = (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
            match j {
                1 if i > 0 => 0.0,
                2 => u * 1e6,
                _ => u * f64::from(u32::try_from(j).unwrap_or(0) + 1),
            }
        })
    }

    #[test]
    fn householder_r_equals_linfa_up_to_rounding() {
        for (rows, cols) in [(1, 1), (3, 3), (17, 5), (4108, 12), (9, 1)] {
            let m = awkward(rows, cols);
            let ours = householder_r(m.clone());
            let theirs = m.qr_into().unwrap().into_r();
            assert_eq!(ours.dim(), theirs.dim());
            let scale = theirs.iter().fold(0.0f64, |a, v| a.max(v.abs()));
            for (a, b) in ours.iter().zip(theirs.iter()) {
                assert!(
                    (a - b).abs() <= 1e-13 * scale,
                    "{a} vs {b} ({rows} x {cols})"
                );
            }
            for i in 0..cols.min(rows) {
                assert!(ours[[i, i]] >= 0.0);
            }
        }
    }

    #[test]
    fn householder_r_takes_either_layout() {
        let m = awkward(40, 6);
        let c = m.as_standard_layout().to_owned();
        assert_eq!(householder_r(m), householder_r(c));
    }
}
