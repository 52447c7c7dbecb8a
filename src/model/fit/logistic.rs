//! Logistic and multinomial (softmax) regression by Newton's method
//! (iteratively reweighted least squares) with step halving, on the
//! standardised design. The same iteration serves both fitting paths: it
//! asks an evaluator for the sums of [`softmax::Accumulator`] at each point,
//! which the in-memory path computes from the design and the streaming path
//! from one pass over the files.
//!
//! Stopping: when the Newton step moves no free parameter by more than
//! `1e-10` of the largest (the step is then taken: Newton converges
//! quadratically, so the answer is at working precision), or when the
//! last two full steps show the quadratic convergence that makes the next
//! one smaller than a hundredth of that (`settles`): the pass that would
//! only confirm the answer is not made. Separation: a
//! standardised slope beyond [`SEPARATED`] (a one-standard-deviation change
//! multiplying the odds by `e^50`) means the likelihood has no maximum; the
//! columns named are those carrying the last steps' direction.

use ndarray::{Array1, Array2};

use crate::error::{Error, Result};

use super::softmax::{Accumulator, Evaluation, Layout};

/// A standardised slope this large means the classes are separated.
pub const SEPARATED: f64 = 50.0;
/// Beyond this at the iteration limit, non-convergence is separation.
pub(super) const DIVERGING: f64 = 15.0;

/// How the iteration ended, as the report and the artifact record it.
#[derive(Debug, Clone, PartialEq)]
pub struct Convergence {
    /// Whether the Newton step became negligible within `max_iter`.
    pub converged: bool,
    /// Evaluations of the likelihood (passes over the data).
    pub iterations: u64,
    /// Euclidean norm of the objective's gradient at the last evaluation,
    /// in the standardised design's units.
    pub gradient_norm: f64,
    /// Residual deviance `-2 log L` at the last evaluation.
    pub deviance: f64,
}

/// Newton's iteration from `start`; `eval` returns the sums at a point.
/// `names` label the design columns in errors; `allow_unconverged` returns
/// the last point instead of refusing it.
pub fn newton(
    layout: Layout,
    penalty: &[f64],
    start: Array2<f64>,
    max_iter: u64,
    allow_unconverged: bool,
    names: &[String],
    eval: &mut dyn FnMut(&Array2<f64>) -> Result<Accumulator>,
) -> Result<(Array2<f64>, Convergence)> {
    let free = layout.free();
    let mut theta = start;
    let mut cur = eval(&theta)?.finish(penalty);
    let mut iterations = 1u64;
    let report = |ev: &Evaluation, it: u64, converged: bool| Convergence {
        converged,
        iterations: it,
        gradient_norm: ev.gradient.dot(&ev.gradient).sqrt(),
        deviance: 2.0 * ev.nll,
    };
    // The largest component of the last step, when it was a full one.
    let mut last_full: Option<f64> = None;
    loop {
        let step = newton_step(&cur, &theta, &free, names)?;
        let size = free
            .iter()
            .fold(1.0f64, |m, &(c, j)| m.max(theta[[c, j]].abs()));
        let moved = step.iter().fold(0.0f64, |m, s| m.max(s.abs()));
        if moved <= 1e-10 * size || settles(moved, last_full, size) {
            apply(&mut theta, &free, &step, 1.0);
            return Ok((theta, report(&cur, iterations, true)));
        }
        let mut t = 1.0;
        let accepted = loop {
            if iterations >= max_iter {
                break None;
            }
            let mut cand = theta.clone();
            apply(&mut cand, &free, &step, t);
            let ev = eval(&cand)?.finish(penalty);
            iterations += 1;
            let slack = 1e-12 * cur.objective.abs().max(1.0);
            if ev.objective.is_finite() && ev.objective <= cur.objective + slack {
                break Some((cand, ev));
            }
            t /= 2.0;
            if t < 1e-12 {
                // No step improves: the optimum to the precision available.
                return Ok((theta, report(&cur, iterations, true)));
            }
        };
        let Some((next, ev)) = accepted else {
            if largest_slope(&theta, &free) > DIVERGING {
                return Err(separated(&step, &free, names));
            }
            if allow_unconverged {
                return Ok((theta, report(&cur, iterations, false)));
            }
            return Err(Error::data(format!(
                "the classifier did not converge in model.max_iter = {max_iter} iterations (gradient norm {:.3e}); raise model.max_iter, set model.alpha > 0, or set model.allow_unconverged = true",
                cur.gradient.dot(&cur.gradient).sqrt()
            )));
        };
        last_full = (t == 1.0).then_some(moved);
        theta = next;
        cur = ev;
        if largest_slope(&theta, &free) > SEPARATED {
            return Err(separated(&step, &free, names));
        }
    }
}

/// Whether the step after a full step of `last` and this one of `moved`
/// (their largest components) is negligible without an evaluation to show
/// it: Newton's error squares at each step (`s₊ ≈ C s²`, so the next step
/// is about `moved · (moved / last)²`), and that prediction is a hundredth
/// of the stopping test's threshold. Only near the end (`moved` at most
/// `1e-6` of the largest parameter) and while the steps shrink fast, so
/// that a slow (linear) phase never stops here. It saves the pass over the
/// data that would only confirm the answer.
fn settles(moved: f64, last: Option<f64>, size: f64) -> bool {
    let Some(last) = last else { return false };
    let ratio = moved / last;
    moved <= 1e-6 * size && ratio <= 1.0 / 16.0 && moved * ratio * ratio <= 1e-12 * size
}

/// The largest standardised slope.
fn largest_slope(theta: &Array2<f64>, free: &[(usize, usize)]) -> f64 {
    free.iter()
        .filter(|(_, j)| *j > 0)
        .fold(0.0f64, |m, &(c, j)| m.max(theta[[c, j]].abs()))
}

/// `theta += t · step` on the free entries.
fn apply(theta: &mut Array2<f64>, free: &[(usize, usize)], step: &Array1<f64>, t: f64) {
    for (&(c, j), s) in free.iter().zip(step) {
        theta[[c, j]] += t * s;
    }
}

/// The error naming the columns that separate the classes: those carrying
/// at least a tenth of the step's largest slope component.
fn separated(step: &Array1<f64>, free: &[(usize, usize)], names: &[String]) -> Error {
    let big = free
        .iter()
        .zip(step)
        .filter(|((_, j), _)| *j > 0)
        .fold(0.0f64, |m, (_, s)| m.max(s.abs()));
    let mut cols: Vec<usize> = free
        .iter()
        .zip(step)
        .filter(|((_, j), s)| *j > 0 && s.abs() >= 0.1 * big)
        .map(|((_, j), _)| j - 1)
        .collect();
    cols.sort_unstable();
    cols.dedup();
    let list = cols
        .iter()
        .map(|&j| format!("\"{}\"", names[j]))
        .collect::<Vec<_>>()
        .join(", ");
    Error::data(format!(
        "the classes are (quasi-)completely separated by {list}: the maximum-likelihood coefficients are infinite; set model.alpha > 0 (an L2 penalty) or drop those columns"
    ))
}

/// The Newton step `-H⁻¹ g` by Cholesky (linfa-linalg).
fn newton_step(
    ev: &Evaluation,
    theta: &Array2<f64>,
    free: &[(usize, usize)],
    names: &[String],
) -> Result<Array1<f64>> {
    use linfa_linalg::cholesky::Cholesky;
    match ev.hessian.cholesky() {
        Ok(l) => Ok(solve_cholesky(&l, &ev.gradient)),
        Err(_) if largest_slope(theta, free) > DIVERGING => {
            Err(separated(&ev.gradient.mapv(|g| -g), free, names))
        }
        Err(_) => Err(Error::data(
            "the classifier's Hessian is not positive definite (the design is numerically rank deficient); drop nearly collinear columns or set model.alpha > 0",
        )),
    }
}

/// Solve `L Lᵀ x = -g`.
fn solve_cholesky(l: &Array2<f64>, g: &Array1<f64>) -> Array1<f64> {
    let q = g.len();
    let mut z = g.mapv(|v| -v);
    for i in 0..q {
        let s: f64 = (0..i).map(|k| l[[i, k]] * z[k]).sum();
        z[i] = (z[i] - s) / l[[i, i]];
    }
    for i in (0..q).rev() {
        let s: f64 = (i + 1..q).map(|k| l[[k, i]] * z[k]).sum();
        z[i] = (z[i] - s) / l[[i, i]];
    }
    z
}

#[cfg(test)]
mod tests {
    use super::settles;

    #[test]
    fn a_step_settles_only_when_quadratic_convergence_makes_the_next_negligible() {
        // The 10M-row benchmark's steps: 7e-3, 2.6e-5, 6.7e-10 (then 4.6e-17).
        assert!(!settles(2.6e-5, Some(7e-3), 1.0));
        assert!(settles(6.7e-10, Some(2.6e-5), 1.0));
        // No full step before, a slow (linear) phase, or still far from the end.
        assert!(!settles(6.7e-10, None, 1.0));
        assert!(!settles(1e-7, Some(2e-7), 1.0));
        assert!(!settles(1e-5, Some(1e-1), 1.0));
    }
}
