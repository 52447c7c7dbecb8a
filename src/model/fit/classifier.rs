//! The in-memory classifier fit: standardise the design, refuse rank
//! deficiency, run Newton's iteration over the rows, and map the
//! coefficients back to the units of the design columns.

use ndarray::{Array2, Axis};

use crate::error::{Error, Result};

use super::logistic::{self, Convergence};
use super::qr::{check_rank, r_factor};
use super::softmax::{Accumulator, Layout};
use super::standardise::{self, Standardised};

/// What to fit.
#[derive(Debug, Clone, Copy)]
pub struct ClassifierSpec {
    /// Number of classes (≥ 2).
    pub classes: usize,
    /// Softmax with slopes for every class (`multinomial` with a penalty);
    /// else class 0 is the reference.
    pub all_slopes: bool,
    /// L2 penalty on the coefficients in the design's units.
    pub alpha: f64,
    /// Fit an intercept.
    pub intercept: bool,
    /// Newton iterations at most.
    pub max_iter: u64,
    /// Return an unconverged fit instead of refusing it.
    pub allow_unconverged: bool,
}

/// A fitted classifier in the units of the design columns.
#[derive(Debug, Clone)]
pub struct ClassFit {
    /// Per class, the intercept (class 0's is 0 with a reference class).
    pub intercepts: Vec<f64>,
    /// Per class, one coefficient per design column.
    pub coefficients: Vec<Vec<f64>>,
    /// How the iteration ended.
    pub convergence: Convergence,
}

/// Fit classes `y` (indices below `spec.classes`) on `x` (consumed).
pub fn fit_classifier(
    x: Array2<f64>,
    y: &[usize],
    names: &[String],
    spec: ClassifierSpec,
) -> Result<ClassFit> {
    let (n, p) = x.dim();
    let Standardised { x, means, scales } = standardise::standardise(x, names, spec.intercept)?;
    check_rank(&r_factor(x.view(), None)?, n, names)?;
    let layout = Layout {
        k: spec.classes,
        p,
        intercept: spec.intercept,
        all_slopes: spec.all_slopes,
    };
    let start = starting_point(y, layout);
    let x = x.as_standard_layout().into_owned();
    let mut eval = |theta: &Array2<f64>| {
        let mut acc = Accumulator::new(layout, theta.clone());
        for (row, &c) in x.axis_iter(Axis(0)).zip(y) {
            acc.add(row.as_slice().unwrap_or_default(), c);
        }
        Ok(acc)
    };
    newton_fit(layout, spec, names, (&means, &scales), start, &mut eval)
}

/// Newton's iteration from `start` over the evaluations `eval` returns
/// (the L2 penalty set from the columns' scales), mapped back to the
/// design's units by `(means, scales)`.
pub(super) fn newton_fit(
    layout: Layout,
    spec: ClassifierSpec,
    names: &[String],
    (means, scales): (&[f64], &[f64]),
    start: Array2<f64>,
    eval: &mut dyn FnMut(&Array2<f64>) -> Result<Accumulator>,
) -> Result<ClassFit> {
    let penalty: Vec<f64> = scales.iter().map(|s| spec.alpha * s * s).collect();
    let (theta, convergence) = logistic::newton(
        layout,
        &penalty,
        start,
        spec.max_iter,
        spec.allow_unconverged,
        names,
        eval,
    )?;
    unscale_classes(&theta, means, scales, spec, convergence)
}

/// Zero slopes, and intercepts at the log odds of each class against class 0.
#[allow(clippy::cast_precision_loss)]
#[must_use]
pub fn starting_point(y: &[usize], layout: Layout) -> Array2<f64> {
    let mut theta = Array2::zeros((layout.k, layout.p + 1));
    if layout.intercept {
        let mut counts = vec![0u64; layout.k];
        for &c in y {
            counts[c] += 1;
        }
        from_counts(&mut theta, &counts);
    }
    theta
}

/// Intercepts at the log odds of each class against class 0.
#[allow(clippy::cast_precision_loss)]
pub fn from_counts(theta: &mut Array2<f64>, counts: &[u64]) {
    let base = (counts[0].max(1) as f64).ln();
    for (c, &m) in counts.iter().enumerate().skip(1) {
        theta[[c, 0]] = (m.max(1) as f64).ln() - base;
    }
}

/// The fit in the design's units: `b_cj = θ_cj / s_j`,
/// `b_c0 = θ_c0 - Σ_j b_cj m_j`; with slopes for every class the intercepts
/// are centred to sum to 0 (scikit-learn's convention).
pub fn unscale_classes(
    theta: &Array2<f64>,
    means: &[f64],
    scales: &[f64],
    spec: ClassifierSpec,
    convergence: Convergence,
) -> Result<ClassFit> {
    let mut intercepts = Vec::with_capacity(spec.classes);
    let mut coefficients = Vec::with_capacity(spec.classes);
    for c in 0..spec.classes {
        let b: Vec<f64> = scales
            .iter()
            .enumerate()
            .map(|(j, s)| theta[[c, j + 1]] / s)
            .collect();
        let shift: f64 = b.iter().zip(means).map(|(b, m)| b * m).sum();
        intercepts.push(if spec.intercept {
            theta[[c, 0]] - shift
        } else {
            0.0
        });
        coefficients.push(b);
    }
    if spec.all_slopes && spec.intercept {
        #[allow(clippy::cast_precision_loss)]
        let mean = intercepts.iter().sum::<f64>() / intercepts.len() as f64;
        intercepts.iter_mut().for_each(|b| *b -= mean);
    }
    let finite = intercepts
        .iter()
        .chain(coefficients.iter().flatten())
        .all(|v| v.is_finite());
    if !finite {
        return Err(Error::data(
            "the classifier did not converge to finite coefficients; check the data for extreme values",
        ));
    }
    Ok(ClassFit {
        intercepts,
        coefficients,
        convergence,
    })
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use serde_json::Value;

    const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/logistic/");

    /// The design, class indices (sorted labels) and feature names of a
    /// committed CSV whose last column is the label.
    pub(in crate::model::fit) fn load(file: &str) -> (Array2<f64>, Vec<usize>, Vec<String>) {
        let text = std::fs::read_to_string(format!("{DIR}{file}")).unwrap();
        let mut lines = text.lines();
        let head: Vec<String> = lines.next().unwrap().split(',').map(String::from).collect();
        let p = head.len() - 1;
        let (mut xs, mut labels) = (Vec::new(), Vec::new());
        for l in lines {
            let cells: Vec<&str> = l.split(',').collect();
            xs.extend(cells[..p].iter().map(|c| c.parse::<f64>().unwrap()));
            labels.push(cells[p].to_string());
        }
        let mut classes = labels.clone();
        classes.sort();
        classes.dedup();
        let y = labels
            .iter()
            .map(|l| classes.binary_search(l).unwrap())
            .collect();
        let n = labels.len();
        (
            Array2::from_shape_vec((n, p), xs).unwrap(),
            y,
            head[..p].to_vec(),
        )
    }

    fn reference() -> Value {
        serde_json::from_str(&std::fs::read_to_string(format!("{DIR}reference.json")).unwrap())
            .unwrap()
    }

    pub(in crate::model::fit) fn spec(
        classes: usize,
        all_slopes: bool,
        alpha: f64,
    ) -> ClassifierSpec {
        ClassifierSpec {
            classes,
            all_slopes,
            alpha,
            intercept: true,
            max_iter: 100,
            allow_unconverged: false,
        }
    }

    #[track_caller]
    fn digits(got: f64, want: &Value, tol: f64) {
        let w = want.as_f64().unwrap();
        assert!((got - w).abs() <= tol * w.abs().max(1e-300), "{got} vs {w}");
    }

    #[test]
    fn binary_equals_statsmodels_logit_and_sklearn() {
        let (x, y, names) = load("breast.csv");
        let r = &reference()["breast"];
        let f = fit_classifier(x.clone(), &y, &names, spec(2, false, 0.0)).unwrap();
        let sm = &r["statsmodels"];
        digits(f.intercepts[1], &sm["intercept"], 1e-9);
        for (j, b) in f.coefficients[1].iter().enumerate() {
            digits(*b, &sm["coef"][j], 1e-9);
        }
        digits(-f.convergence.deviance / 2.0, &sm["llf"], 1e-12);
        assert!(f.convergence.converged && f.convergence.iterations < 20);
        for alpha in ["1.0", "10.0"] {
            let a: f64 = alpha.parse().unwrap();
            let f = fit_classifier(x.clone(), &y, &names, spec(2, false, a)).unwrap();
            let sk = &r["sklearn"][alpha];
            digits(f.intercepts[1], &sk["intercept"][0], 1e-6);
            for (j, b) in f.coefficients[1].iter().enumerate() {
                digits(*b, &sk["coef"][0][j], 1e-6);
            }
        }
    }

    #[test]
    fn multinomial_equals_statsmodels_mnlogit_and_sklearn() {
        let (x, y, names) = load("wine.csv");
        let r = &reference()["wine"];
        let f = fit_classifier(x.clone(), &y, &names, spec(3, false, 0.0)).unwrap();
        let sm = &r["statsmodels"];
        for c in 1..3 {
            digits(f.intercepts[c], &sm["intercept"][c - 1], 1e-9);
            for (j, b) in f.coefficients[c].iter().enumerate() {
                digits(*b, &sm["coef"][c - 1][j], 1e-9);
            }
        }
        digits(-f.convergence.deviance / 2.0, &sm["llf"], 1e-12);
        for alpha in ["1.0", "10.0"] {
            let a: f64 = alpha.parse().unwrap();
            let f = fit_classifier(x.clone(), &y, &names, spec(3, true, a)).unwrap();
            let sk = &r["sklearn"][alpha];
            for c in 0..3 {
                digits(f.intercepts[c], &sk["intercept"][c], 1e-6);
                for (j, b) in f.coefficients[c].iter().enumerate() {
                    digits(*b, &sk["coef"][c][j], 1e-6);
                }
            }
        }
    }

    #[test]
    fn separation_is_refused_naming_columns() {
        let (x, y, names) = load("iris.csv");
        let e = fit_classifier(x.clone(), &y, &names, spec(3, false, 0.0)).unwrap_err();
        assert_eq!(e.exit_code(), 3);
        let m = e.to_string();
        assert!(
            m.contains("separated") && m.contains("\"sepal_") && m.contains("model.alpha > 0"),
            "{m}"
        );
        // A penalty makes the likelihood bounded: the fit then converges.
        let f = fit_classifier(x, &y, &names, spec(3, true, 1.0)).unwrap();
        assert!(f.convergence.converged);
        // Perfect separation on one column, binary.
        let x = ndarray::array![[1.0], [2.0], [3.0], [4.0]];
        let e = fit_classifier(x, &[0, 0, 1, 1], &names[..1], spec(2, false, 0.0)).unwrap_err();
        assert!(e.to_string().contains("\"sepal_length\""), "{e}");
    }

    #[test]
    fn unconverged_is_refused_unless_allowed() {
        let (x, y, names) = load("breast.csv");
        let mut s = spec(2, false, 0.0);
        s.max_iter = 2;
        let e = fit_classifier(x.clone(), &y, &names, s).unwrap_err();
        assert!(
            e.to_string()
                .contains("did not converge in model.max_iter = 2"),
            "{e}"
        );
        s.allow_unconverged = true;
        let f = fit_classifier(x, &y, &names, s).unwrap();
        assert!(!f.convergence.converged && f.convergence.iterations == 2);
    }

    #[test]
    fn rank_deficiency_is_refused() {
        let x = ndarray::array![[1.0, 2.0], [2.0, 4.0], [3.0, 6.0], [5.0, 10.0], [4.0, 8.0]];
        let names = vec!["a".to_string(), "b".to_string()];
        let e = fit_classifier(x, &[0, 1, 0, 1, 1], &names, spec(2, false, 0.0)).unwrap_err();
        assert!(e.to_string().contains("duplicate each other"), "{e}");
    }
}
