//! The softmax likelihood of a classifier and its derivatives, accumulated
//! row by row: the objective (negative log-likelihood plus the L2 penalty),
//! the gradient and the Hessian (the weighted Gram matrix) over the free
//! parameters. Both fitting paths feed it rows: the in-memory one from the
//! design, the streaming one from each pass over the files.
//!
//! Parameters are a `K × (1 + p)` matrix `theta` (column 0 the intercept) in
//! the units of the standardised design. Class 0's intercept is fixed at 0;
//! its slopes are fixed at 0 too (the reference class, as statsmodels'
//! `MNLogit` and `Logit`) unless every class has slopes (`all_slopes`, the
//! symmetric form scikit-learn's multinomial penalty needs). Each row's
//! log-sum-exp subtracts that row's own largest linear predictor.

use ndarray::{Array1, Array2};

/// Which entries of `theta` are free.
#[derive(Debug, Clone, Copy)]
pub struct Layout {
    /// Classes.
    pub k: usize,
    /// Design columns.
    pub p: usize,
    /// Whether the classes 1.. have an intercept.
    pub intercept: bool,
    /// Whether class 0 has slopes too.
    pub all_slopes: bool,
}

impl Layout {
    /// The free entries `(class, column)` in order (column 0 = intercept).
    #[must_use]
    pub fn free(&self) -> Vec<(usize, usize)> {
        let mut v = Vec::new();
        for c in 0..self.k {
            if c > 0 && self.intercept {
                v.push((c, 0));
            }
            if c > 0 || self.all_slopes {
                v.extend((1..=self.p).map(|j| (c, j)));
            }
        }
        v
    }

    /// The first class with free parameters.
    fn first_active(&self) -> usize {
        usize::from(!self.all_slopes)
    }
}

/// The objective, gradient and Hessian at one `theta`, summed over rows.
/// The sums live in flat row-major buffers (the hot loop of every fit).
#[derive(Debug, Clone)]
pub struct Accumulator {
    layout: Layout,
    theta: Array2<f64>,
    /// `theta`, row-major (`k × (1+p)`).
    flat: Vec<f64>,
    /// Negative log-likelihood.
    nll: f64,
    /// Gradient by `(class, column)`, row-major `k × (1+p)`.
    grad: Vec<f64>,
    /// Hessian blocks by active class pair `(a ≤ b)`, each `(1+p) × (1+p)`
    /// row-major (upper triangle used), one after the other.
    blocks: Vec<f64>,
    /// Rows seen.
    rows: u64,
    eta: Vec<f64>,
    prob: Vec<f64>,
    xt: Vec<f64>,
}

/// The sums of an [`Accumulator`], with the penalty added, over the free
/// parameters.
#[derive(Debug, Clone)]
pub struct Evaluation {
    /// Negative log-likelihood plus `½ Σ pen_j θ²`.
    pub objective: f64,
    /// Negative log-likelihood alone.
    pub nll: f64,
    /// Gradient over the free parameters.
    pub gradient: Array1<f64>,
    /// Hessian over the free parameters.
    pub hessian: Array2<f64>,
}

impl Accumulator {
    /// An empty sum at `theta`.
    #[must_use]
    pub fn new(layout: Layout, theta: Array2<f64>) -> Accumulator {
        let na = layout.k - layout.first_active();
        let d = layout.p + 1;
        Accumulator {
            layout,
            flat: theta.iter().copied().collect(),
            theta,
            nll: 0.0,
            grad: vec![0.0; layout.k * d],
            blocks: vec![0.0; na * (na + 1) / 2 * d * d],
            rows: 0,
            eta: vec![0.0; layout.k],
            prob: vec![0.0; layout.k],
            xt: vec![0.0; d],
        }
    }

    /// Add one row: standardised features `x` and class index `y`.
    pub fn add(&mut self, x: &[f64], y: usize) {
        let Layout { k, p, .. } = self.layout;
        let d = p + 1;
        self.xt[0] = 1.0;
        self.xt[1..=p].copy_from_slice(x);
        let mut top = f64::NEG_INFINITY;
        for (c, row) in self.flat.chunks_exact(d).enumerate() {
            let e: f64 = row.iter().zip(&self.xt).map(|(t, v)| t * v).sum();
            self.eta[c] = e;
            top = top.max(e);
        }
        let mut sum = 0.0;
        for c in 0..k {
            self.prob[c] = (self.eta[c] - top).exp();
            sum += self.prob[c];
        }
        self.nll += top + sum.ln() - self.eta[y];
        for c in 0..k {
            self.prob[c] /= sum;
        }
        self.rows += 1;
        self.add_derivatives(y);
    }

    fn add_derivatives(&mut self, y: usize) {
        let k = self.layout.k;
        let d = self.layout.p + 1;
        let xt = &self.xt[..d];
        for (c, grow) in self.grad.chunks_exact_mut(d).enumerate() {
            let r = self.prob[c] - f64::from(u8::from(c == y));
            for (g, v) in grow.iter_mut().zip(xt) {
                *g += r * v;
            }
        }
        let first = self.layout.first_active();
        let mut blocks = self.blocks.chunks_exact_mut(d * d);
        for a in first..k {
            for b in a..k {
                let w = self.prob[a] * (f64::from(u8::from(a == b)) - self.prob[b]);
                let m = blocks.next().unwrap_or_default();
                for (i, mrow) in m.chunks_exact_mut(d).enumerate() {
                    let wi = w * xt[i];
                    for (cell, v) in mrow[i..].iter_mut().zip(&xt[i..]) {
                        *cell += wi * v;
                    }
                }
            }
        }
    }

    /// Whether this is a binary fit with class 0 the reference: the rows
    /// may then be summed a block at a time (the streaming fit's kernel).
    #[must_use]
    pub fn is_binary(&self) -> bool {
        self.layout.k == 2 && !self.layout.all_slopes && self.layout.p > 0
    }

    /// Class `c`'s parameters `(intercept, slopes…)`.
    #[must_use]
    pub fn class_theta(&self, c: usize) -> &[f64] {
        let d = self.layout.p + 1;
        &self.flat[c * d..(c + 1) * d]
    }

    /// Add sums made over rows elsewhere for class 1 of a binary fit: the
    /// negative log-likelihood, the gradient (`1+p`) and the Hessian's upper
    /// triangle (`(1+p)²`, row-major) of `rows` rows.
    pub fn add_binary_sums(&mut self, nll: f64, grad: &[f64], hess: &[f64], rows: u64) {
        let d = self.layout.p + 1;
        self.nll += nll;
        self.rows += rows;
        for (a, b) in self.grad[d..2 * d].iter_mut().zip(grad) {
            *a += b;
        }
        for (a, b) in self.blocks[..d * d].iter_mut().zip(hess) {
            *a += b;
        }
    }

    /// Merge another sum at the same `theta` (from another thread).
    pub fn merge(&mut self, other: &Accumulator) {
        self.nll += other.nll;
        self.rows += other.rows;
        for (a, b) in self.grad.iter_mut().zip(&other.grad) {
            *a += b;
        }
        for (a, b) in self.blocks.iter_mut().zip(&other.blocks) {
            *a += b;
        }
    }

    /// Rows added.
    #[must_use]
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// The objective and derivatives over the free parameters, with the
    /// penalty `½ Σ_c Σ_j penalty[j-1] θ_cj²` on the slopes.
    #[must_use]
    pub fn finish(&self, penalty: &[f64]) -> Evaluation {
        let free = self.layout.free();
        let q = free.len();
        let first = self.layout.first_active();
        let na = self.layout.k - first;
        let d = self.layout.p + 1;
        let mut index = vec![vec![0usize; na]; na];
        let mut blk = 0;
        for (a, row) in index.iter_mut().enumerate() {
            for slot in row.iter_mut().skip(a) {
                *slot = blk;
                blk += 1;
            }
        }
        let mut h = Array2::zeros((q, q));
        let mut g = Array1::zeros(q);
        let mut pen = 0.0;
        for (u, &(a, i)) in free.iter().enumerate() {
            g[u] = self.grad[a * d + i];
            if i > 0 {
                let lam = penalty[i - 1];
                let t = self.theta[[a, i]];
                g[u] += lam * t;
                h[[u, u]] += lam;
                pen += 0.5 * lam * t * t;
            }
            for (v, &(b, j)) in free.iter().enumerate().skip(u) {
                let (x, y) = if a <= b { (a, b) } else { (b, a) };
                let m = index[x - first][y - first] * d * d;
                let val = self.blocks[m + i.min(j) * d + i.max(j)];
                h[[u, v]] += val;
                if u != v {
                    h[[v, u]] += val;
                }
            }
        }
        Evaluation {
            objective: self.nll + pen,
            nll: self.nll,
            gradient: g,
            hessian: h,
        }
    }
}
