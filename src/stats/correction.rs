//! Multiple-comparison corrections of a family of p-values, as
//! `statsmodels.stats.multitest.multipletests` computes them:
//!
//! - Bonferroni: `min(1, m p_i)`.
//! - Holm (1979), step-down: sort ascending, `p̃_(i) = max_{j≤i} min(1, (m−j+1) p_(j))`.
//! - Benjamini–Hochberg (1995), step-up: sort ascending,
//!   `p̃_(i) = min_{j≥i} min(1, m p_(j)/j)`.
//!
//! The family is every variant-versus-control comparison of one analysis.
//! Undefined p-values (NaN) stay undefined and do not count in `m`.

/// The correction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Correction {
    /// Holm–Bonferroni step-down.
    Holm,
    /// Bonferroni.
    Bonferroni,
    /// Benjamini–Hochberg false discovery rate.
    Bh,
    /// No correction.
    None,
}

/// Adjusted p-values, in the order given.
#[must_use]
pub fn adjust(p: &[f64], how: Correction) -> Vec<f64> {
    let idx: Vec<usize> = (0..p.len()).filter(|&i| !p[i].is_nan()).collect();
    let mut out = vec![f64::NAN; p.len()];
    #[allow(clippy::cast_precision_loss)]
    let m = idx.len() as f64;
    let mut order = idx.clone();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    match how {
        Correction::None => {
            for &i in &idx {
                out[i] = p[i];
            }
        }
        Correction::Bonferroni => {
            for &i in &idx {
                out[i] = (m * p[i]).min(1.0);
            }
        }
        Correction::Holm => {
            let mut run = 0.0f64;
            for (j, &i) in order.iter().enumerate() {
                #[allow(clippy::cast_precision_loss)]
                let v = ((m - j as f64) * p[i]).min(1.0);
                run = run.max(v);
                out[i] = run;
            }
        }
        Correction::Bh => {
            let mut run = 1.0f64;
            for (j, &i) in order.iter().enumerate().rev() {
                #[allow(clippy::cast_precision_loss)]
                let v = (m * p[i] / (j as f64 + 1.0)).min(1.0);
                run = run.min(v);
                out[i] = run;
            }
        }
    }
    out
}
