//! The binary logistic likelihood over a block of rows at once: the
//! streaming fit's hot loop for `kind = "logistic"`. The same sums as
//! [`Accumulator::add`] row by row (class 0 the reference), made column by
//! column over up to [`ROWS`] standardised rows held column-major, so that
//! the linear predictors, the gradient and the `(1+p)²/2` Hessian sums are
//! dot products over rows (vectorised, in lanes) and each row costs one
//! `exp` instead of the softmax's two and a `ln`: the rows' `ln(1 + t)`
//! are summed as the logarithm of their product over each run of rows
//! ([`likelihood`]). Otherwise only the order of the additions differs from
//! the row-by-row sums.

use super::qr::dot;
use super::softmax::Accumulator;

/// Rows standardised and summed together.
const ROWS: usize = 256;

/// Scratch space for [`add_block`], reused across its blocks of [`ROWS`] rows.
#[derive(Debug, Default)]
pub struct Scratch {
    /// Column-major: column `j` (0 the intercept's ones) at `j * ROWS`.
    z: Vec<f64>,
    eta: Vec<f64>,
    w: Vec<f64>,
    res: Vec<f64>,
    wz: Vec<f64>,
    grad: Vec<f64>,
    hess: Vec<f64>,
}

/// Add the rows of the design columns `x` (design units, standardised by
/// `(means, scales)` here) with classes `y` (0 or 1) to `acc`, a binary
/// accumulator ([`Accumulator::is_binary`]).
pub fn add_block(
    acc: &mut Accumulator,
    x: &[&[f64]],
    y: &[usize],
    standard: (&[f64], &[f64]),
    scratch: &mut Scratch,
) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: `add_block_avx2` needs AVX2, which this CPU has.
        #[allow(unsafe_code)]
        unsafe {
            add_block_avx2(acc, x, y, standard, scratch);
        }
        return;
    }
    block_sums(acc, x, y, standard, scratch);
}

/// [`block_sums`] compiled for AVX2: four lanes where SSE2 has two, the
/// same operations in the same order in each lane (no fused
/// multiply-add), so the sums are those of the portable build to the bit.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn add_block_avx2(
    acc: &mut Accumulator,
    x: &[&[f64]],
    y: &[usize],
    standard: (&[f64], &[f64]),
    scratch: &mut Scratch,
) {
    block_sums(acc, x, y, standard, scratch);
}

/// The body of [`add_block`], inlined into each build of it.
#[inline(always)]
fn block_sums(
    acc: &mut Accumulator,
    x: &[&[f64]],
    y: &[usize],
    (means, scales): (&[f64], &[f64]),
    scratch: &mut Scratch,
) {
    let s = scratch;
    let p = means.len();
    let d = p + 1;
    let n = x.iter().fold(y.len(), |n, c| n.min(c.len()));
    s.z.resize(d * ROWS, 0.0);
    for v in [&mut s.eta, &mut s.w, &mut s.res, &mut s.wz] {
        v.resize(ROWS, 0.0);
    }
    s.grad.clear();
    s.grad.resize(d, 0.0);
    s.hess.clear();
    s.hess.resize(d * d, 0.0);
    let theta = acc.class_theta(1).to_vec();
    let mut nll = 0.0;
    for r0 in (0..n).step_by(ROWS) {
        let m = ROWS.min(n - r0);
        let ys = &y[r0..r0 + m];
        standardise(x, r0..r0 + m, (means, scales), &mut s.z);
        // Linear predictors, column by column.
        let eta = &mut s.eta[..m];
        eta.fill(theta[0]);
        for (j, t) in theta.iter().enumerate().skip(1) {
            for (e, z) in eta.iter_mut().zip(&s.z[j * ROWS..j * ROWS + m]) {
                *e += t * z;
            }
        }
        nll += likelihood(eta, ys, &mut s.w[..m], &mut s.res[..m]);
        let col = |j: usize| &s.z[j * ROWS..j * ROWS + m];
        let mut j = 0;
        while j + 4 <= d {
            let four = dots(&s.res[..m], [col(j), col(j + 1), col(j + 2), col(j + 3)]);
            for (k, v) in four.iter().enumerate() {
                s.grad[j + k] += v;
            }
            j += 4;
        }
        for j in j..d {
            s.grad[j] += dot(&s.res[..m], col(j));
        }
        for i in 0..d {
            let zi = &s.z[i * ROWS..i * ROWS + m];
            for ((wz, w), z) in s.wz[..m].iter_mut().zip(&s.w[..m]).zip(zi) {
                *wz = w * z;
            }
            // Four columns at a time, `wz` read once for the four.
            let col = |j: usize| &s.z[j * ROWS..j * ROWS + m];
            let mut j = i;
            while j + 4 <= d {
                let four = dots(&s.wz[..m], [col(j), col(j + 1), col(j + 2), col(j + 3)]);
                for (k, v) in four.iter().enumerate() {
                    s.hess[i * d + j + k] += v;
                }
                j += 4;
            }
            for j in j..d {
                s.hess[i * d + j] += dot(&s.wz[..m], col(j));
            }
        }
    }
    acc.add_binary_sums(nll, &s.grad, &s.hess, n as u64);
}

/// [`dot`] of `a` with each of `bs`, in one loop (each product summed in
/// the same lanes and the lanes added in the same order: the same bits).
#[inline(always)]
fn dots<const J: usize>(a: &[f64], bs: [&[f64]; J]) -> [f64; J] {
    let n = bs.iter().fold(a.len(), |n, b| n.min(b.len()));
    let body = n - n % 8;
    let mut s = [[0.0; 8]; J];
    for k in (0..body).step_by(8) {
        let x = &a[k..k + 8];
        for (acc, b) in s.iter_mut().zip(&bs) {
            let y = &b[k..k + 8];
            for i in 0..8 {
                acc[i] += x[i] * y[i];
            }
        }
    }
    let mut out = [0.0; J];
    for ((o, acc), b) in out.iter_mut().zip(&s).zip(&bs) {
        let tail: f64 = a[body..n].iter().zip(&b[body..n]).map(|(x, y)| x * y).sum();
        *o = ((acc[0] + acc[4]) + (acc[1] + acc[5]))
            + ((acc[2] + acc[6]) + (acc[3] + acc[7]))
            + tail;
    }
    out
}

/// The `rows` of the columns `x` standardised into the column-major `z`,
/// whose column 0 is the intercept's ones.
#[inline(always)]
fn standardise(
    x: &[&[f64]],
    rows: std::ops::Range<usize>,
    (means, scales): (&[f64], &[f64]),
    z: &mut [f64],
) {
    let m = rows.len();
    z[..m].fill(1.0);
    for (j, col) in x.iter().enumerate() {
        let (mean, scale) = (means[j], scales[j]);
        let out = z[(j + 1) * ROWS..(j + 1) * ROWS + m]
            .iter_mut()
            .zip(&col[rows.clone()]);
        if let Some(inv) = exact_reciprocal(scale) {
            out.for_each(|(dst, v)| *dst = (v - mean) * inv);
        } else {
            out.for_each(|(dst, v)| *dst = (v - mean) / scale);
        }
    }
}

/// `1 / s` when multiplying by it is dividing by `s` to the bit: `s` and
/// `1 / s` both normal powers of two (the scales `scale_of` chooses), so
/// that `v · (1 / s)` and `v / s` are the same real number, rounded once.
/// A multiplication instead of a division per value.
#[inline(always)]
fn exact_reciprocal(s: f64) -> Option<f64> {
    const MANTISSA: u64 = (1 << 52) - 1;
    let inv = 1.0 / s;
    (s.is_normal() && inv.is_normal() && s.to_bits() & MANTISSA == 0).then_some(inv)
}

/// Each row's negative log-likelihood (summed, returned), Hessian weight
/// `p(1-p)` and residual `p - y`, from its linear predictor: the softmax of
/// `(0, eta)` written with `t = e^{-|eta|}`, so that nothing overflows.
///
/// The rows' `ln(1 + t)` are summed as the logarithm of their product, one
/// logarithm per run instead of one per row: each factor lies in `[1, 2]`
/// (1 when `|eta|` is so large that `t` underflows), so the product of a
/// run's (at most [`ROWS`]) factors is at most `2^256`, and its rounding
/// (at most one part in `2^53` per factor, so `ROWS · 2^-53` in all, as an
/// absolute error of the logarithm) is of the size of the terms' own
/// logarithms' rounding summed.
#[inline(always)]
fn likelihood(eta: &[f64], y: &[usize], w: &mut [f64], res: &mut [f64]) -> f64 {
    let mut nll = 0.0;
    let mut product = 1.0;
    for (((&e, &c), w), res) in eta.iter().zip(y).zip(w).zip(res) {
        let t = (-e.abs()).exp();
        let p = if e >= 0.0 {
            1.0 / (1.0 + t)
        } else {
            t / (1.0 + t)
        };
        let yv = if c == 1 { 1.0 } else { 0.0 };
        nll += e.max(0.0) - yv * e;
        product *= 1.0 + t;
        *w = p * (1.0 - p);
        *res = p - yv;
    }
    nll + product.ln()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::fit::softmax::Layout;
    use ndarray::Array2;

    /// Multiplying by the reciprocal of a power of two divides by it to the
    /// bit, subnormal, huge and special values included; other scales
    /// have no exact reciprocal.
    #[test]
    fn power_of_two_scales_divide_by_multiplying() {
        let values = [
            0.0,
            -0.0,
            1.0,
            -3.7,
            0.1,
            1e-310,
            -4.9e-324,
            2.2e-308,
            1.7e308,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            123_456.789,
        ];
        for k in [-1022, -600, -1, 0, 1, 3, 600, 1022] {
            let s = 2f64.powi(k);
            let inv = exact_reciprocal(s).unwrap();
            for &v in &values {
                let (a, b) = (v * inv, v / s);
                assert!(
                    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()),
                    "{v} / 2^{k}"
                );
            }
        }
        for s in [
            3.0,
            0.1,
            2f64.powi(1023),
            2f64.powi(-1023),
            0.0,
            f64::INFINITY,
            f64::NAN,
        ] {
            assert_eq!(exact_reciprocal(s), None, "{s}");
        }
    }

    /// Uniform numbers in [0, 1) from a xorshift generator seeded `state`.
    fn uniform(mut state: u64) -> impl FnMut() -> f64 {
        move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    /// Several dot products at once are each [`dot`] to the bit.
    #[test]
    fn dots_are_dot() {
        let mut next = uniform(0x2545_f491_4f6c_dd1d);
        for n in [0, 1, 7, 8, 9, 255, 256] {
            let cols: Vec<Vec<f64>> = (0..5)
                .map(|_| (0..n).map(|_| (next() - 0.5) * 1e3).collect())
                .collect();
            let four = dots(&cols[0], [&cols[1], &cols[2], &cols[3], &cols[4]]);
            for (k, v) in four.iter().enumerate() {
                assert_eq!(
                    v.to_bits(),
                    dot(&cols[0], &cols[k + 1]).to_bits(),
                    "{n}, {k}"
                );
            }
        }
    }

    #[test]
    fn block_sums_equal_the_row_by_row_sums() {
        let mut next = uniform(0x9e37_79b9_7f4a_7c15);
        let (n, p) = (1000, 3);
        let x = Array2::from_shape_fn((n, p), |_| next() * 10.0 - 3.0);
        let y: Vec<usize> = (0..n).map(|_| usize::from(next() < 0.4)).collect();
        let (means, scales) = (vec![2.0, 1.5, 2.5], vec![4.0, 2.0, 8.0]);
        let layout = Layout {
            k: 2,
            p,
            intercept: true,
            all_slopes: false,
        };
        // A large slope too: rows far out on both sides.
        let theta = ndarray::array![[0.0, 0.0, 0.0, 0.0], [-0.3, 1.2, -40.0, 0.7]];
        let mut rowwise = Accumulator::new(layout, theta.clone());
        for (r, &c) in x.rows().into_iter().zip(&y) {
            let z: Vec<f64> = r
                .iter()
                .enumerate()
                .map(|(j, v)| (v - means[j]) / scales[j])
                .collect();
            rowwise.add(&z, c);
        }
        let mut blocks = Accumulator::new(layout, theta);
        assert!(blocks.is_binary());
        let mut s = Scratch::default();
        let columns: Vec<Vec<f64>> = x.columns().into_iter().map(|c| c.to_vec()).collect();
        let (head, tail): (Vec<&[f64]>, Vec<&[f64]>) =
            columns.iter().map(|c| c.split_at(300)).unzip();
        // Two calls, the first not a multiple of the block.
        add_block(&mut blocks, &head, &y[..300], (&means, &scales), &mut s);
        add_block(&mut blocks, &tail, &y[300..], (&means, &scales), &mut s);
        assert_eq!(blocks.rows(), rowwise.rows());
        let pen = [0.0; 3];
        let (a, b) = (rowwise.finish(&pen), blocks.finish(&pen));
        let close = |u: f64, v: f64| (u - v).abs() <= 1e-12 * v.abs().max(1.0);
        assert!(
            close(a.objective, b.objective),
            "{} vs {}",
            a.objective,
            b.objective
        );
        for (u, v) in a.gradient.iter().zip(&b.gradient) {
            assert!(close(*u, *v), "{u} vs {v}");
        }
        for (u, v) in a.hessian.iter().zip(&b.hessian) {
            assert!(close(*u, *v), "{u} vs {v}");
        }
    }
}
