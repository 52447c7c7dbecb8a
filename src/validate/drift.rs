//! Drift of recent data against the training rows, per feature.
//!
//! - Numeric features: the two-sample Kolmogorov–Smirnov test of the
//!   training values against the recent values ([`crate::stats::ks`], equal
//!   to `scipy.stats.ks_2samp`), and the population stability index over
//!   the ten bins cut by the nine training decile edges of the artifact.
//! - Categorical features: Pearson's chi-square test of homogeneity on the
//!   2 × k table of level counts (training, recent), without Yates'
//!   correction (`scipy.stats.chi2_contingency(t, correction=False)`), and
//!   the PSI over the levels.
//!
//! PSI = Σ (a_i − e_i) ln(a_i / e_i) over bins, `e` the training shares and
//! `a` the recent shares, each clipped below at [`PSI_EPSILON`] so that an
//! empty bin adds a large but finite term instead of an infinity. Missing
//! cells are left out of both samples.

use serde::Serialize;

pub use crate::stats::binned::{PSI_EPSILON, bin_counts, bin_of, psi_from_counts};
use crate::stats::dist::chi2_sf;
use crate::stats::ks;

/// Default: a feature drifts when its PSI is above this.
pub const DEFAULT_MAX_PSI: f64 = 0.2;

/// Default: a numeric feature drifts when its KS p-value is below this.
pub const DEFAULT_KS_P_VALUE: f64 = 0.01;

/// A chi-square test of homogeneity.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Chi2 {
    /// `Σ (O − E)² / E`.
    pub statistic: f64,
    /// Degrees of freedom, `k − 1` for `k` levels seen in either sample.
    pub df: f64,
    /// `P(χ²_df > statistic)`.
    pub p_value: f64,
}

/// Pearson's chi-square on the 2 × k table of counts `a` and `b` (levels
/// empty in both are dropped); `None` when either sample is empty.
#[must_use]
#[allow(clippy::cast_precision_loss)]
pub fn chi2_homogeneity(a: &[u64], b: &[u64]) -> Option<Chi2> {
    let na: u64 = a.iter().sum();
    let nb: u64 = b.iter().sum();
    if na == 0 || nb == 0 {
        return None;
    }
    let n = (na + nb) as f64;
    let mut stat = 0.0;
    let mut k = 0u32;
    for (&x, &y) in a.iter().zip(b) {
        let col = (x + y) as f64;
        if col == 0.0 {
            continue;
        }
        k += 1;
        let ea = na as f64 * col / n;
        let eb = nb as f64 * col / n;
        stat += (x as f64 - ea).powi(2) / ea + (y as f64 - eb).powi(2) / eb;
    }
    if k < 2 {
        return Some(Chi2 {
            statistic: 0.0,
            df: 0.0,
            p_value: 1.0,
        });
    }
    let df = f64::from(k - 1);
    Some(Chi2 {
        statistic: stat,
        df,
        p_value: chi2_sf(stat, df).p,
    })
}

/// The drift of one feature.
#[derive(Debug, Clone, Serialize)]
pub struct FeatureDrift {
    /// The feature.
    pub name: String,
    /// `numeric` or `categorical`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Non-missing training values compared.
    pub train_rows: u64,
    /// Non-missing recent values compared.
    pub recent_rows: u64,
    /// The KS statistic (numeric features).
    pub ks_statistic: Option<f64>,
    /// The KS p-value (numeric features).
    pub ks_p_value: Option<f64>,
    /// Whether the KS p-value is exact (numeric features).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ks_exact: Option<bool>,
    /// The chi-square statistic (categorical features).
    pub chi2_statistic: Option<f64>,
    /// The chi-square p-value (categorical features).
    pub chi2_p_value: Option<f64>,
    /// The population stability index.
    pub psi: f64,
    /// No threshold crossed.
    pub passed: bool,
    /// Why it failed, or empty.
    pub message: String,
}

/// Thresholds of the drift checks.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct DriftThresholds {
    /// PSI above this fails.
    pub max_psi: f64,
    /// A KS p-value below this fails.
    pub ks_p_value: f64,
    /// A chi-square p-value below this fails.
    pub chi2_p_value: f64,
}

/// Drift of a numeric feature: training values, recent values (NaN = missing)
/// and the artifact's decile edges.
#[must_use]
#[allow(clippy::cast_precision_loss)]
pub fn numeric(
    name: &str,
    train: &[f64],
    recent: &[f64],
    edges: &[f64],
    t: &DriftThresholds,
) -> FeatureDrift {
    let a: Vec<f64> = train.iter().copied().filter(|x| !x.is_nan()).collect();
    let b: Vec<f64> = recent.iter().copied().filter(|x| !x.is_nan()).collect();
    let psi = psi_from_counts(
        &bin_counts(edges, a.iter().copied()),
        &bin_counts(edges, b.iter().copied()),
    );
    let k = ks::ks_2samp(&a, &b);
    let mut f = FeatureDrift {
        name: name.to_string(),
        kind: "numeric",
        train_rows: a.len() as u64,
        recent_rows: b.len() as u64,
        ks_statistic: k.map(|k| k.statistic),
        ks_p_value: k.map(|k| k.p_value),
        ks_exact: k.map(|k| k.exact),
        chi2_statistic: None,
        chi2_p_value: None,
        psi,
        passed: true,
        message: String::new(),
    };
    f.judge(("KS", t.ks_p_value), t.max_psi);
    f
}

/// Drift of a categorical feature from level counts (parallel, same levels).
#[must_use]
pub fn categorical(name: &str, train: &[u64], recent: &[u64], t: &DriftThresholds) -> FeatureDrift {
    let psi = psi_from_counts(train, recent);
    let c = chi2_homogeneity(train, recent);
    let mut f = FeatureDrift {
        name: name.to_string(),
        kind: "categorical",
        train_rows: train.iter().sum(),
        recent_rows: recent.iter().sum(),
        ks_statistic: None,
        ks_p_value: None,
        ks_exact: None,
        chi2_statistic: c.map(|c| c.statistic),
        chi2_p_value: c.map(|c| c.p_value),
        psi,
        passed: true,
        message: String::new(),
    };
    f.judge(("chi-square", t.chi2_p_value), t.max_psi);
    f
}

impl FeatureDrift {
    /// Set `passed` and `message` from the test's p-value (`test` names the
    /// test and its threshold) and the PSI.
    fn judge(&mut self, test: (&str, f64), max_psi: f64) {
        let mut why = Vec::new();
        if self.train_rows == 0 || self.recent_rows == 0 {
            why.push(format!(
                "there is nothing to compare: {} training and {} recent values",
                self.train_rows, self.recent_rows
            ));
        }
        if let Some(p) = self.ks_p_value.or(self.chi2_p_value)
            && p < test.1
        {
            why.push(format!(
                "{} p-value {} is below {}",
                test.0,
                short(p),
                test.1
            ));
        }
        if self.psi > max_psi {
            why.push(format!("PSI {} is above {max_psi}", short(self.psi)));
        }
        self.passed = why.is_empty();
        self.message = why.join("; ");
    }
}

/// A number with four significant digits (trailing zeros dropped), for
/// messages.
#[must_use]
pub fn short(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return format!("{x}");
    }
    let a = x.abs();
    if (1e-3..1e6).contains(&a) {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let digits = (3 - a.log10().floor() as i32).max(0) as usize;
        let s = format!("{x:.digits$}");
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    } else {
        format!("{x:.3e}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_numbers() {
        assert_eq!(short(0.85), "0.85");
        assert_eq!(short(600.0), "600");
        assert_eq!(short(14_917.513), "14918");
        assert_eq!(short(0.891_423_9), "0.8914");
        assert_eq!(short(1.5e-7), "1.500e-7");
    }

    #[test]
    fn an_empty_sample_fails() {
        let t = DriftThresholds {
            max_psi: 0.2,
            ks_p_value: 0.01,
            chi2_p_value: 0.01,
        };
        let f = numeric("x", &[1.0, 2.0], &[f64::NAN], &[1.5], &t);
        assert!(!f.passed);
        assert_eq!(
            f.message,
            "there is nothing to compare: 2 training and 0 recent values"
        );
        assert!(numeric("x", &[1.0, 2.0], &[1.0, 2.0], &[1.5], &t).passed);
        assert!(!categorical("c", &[0, 0], &[1, 2], &t).passed);
    }

    #[test]
    fn chi2_matches_scipy() {
        // scipy.stats.chi2_contingency([[120, 80, 40, 10], [30, 25, 8, 5]], correction=False)
        let c = chi2_homogeneity(&[120, 80, 40, 10], &[30, 25, 8, 5]).unwrap();
        assert!((c.statistic - 2.447_798_319_327_729_7).abs() < 1e-12);
        assert!((c.p_value - 0.484_799_003_323_993_06).abs() < 1e-12);
        assert_eq!(c.df, 3.0);
        let one = chi2_homogeneity(&[5, 0], &[3, 0]).unwrap();
        assert_eq!(one.p_value, 1.0);
        assert!(chi2_homogeneity(&[0], &[1]).is_none());
    }
}
