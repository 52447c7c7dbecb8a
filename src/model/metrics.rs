//! Regression metrics: RMSE, MAE, R², MAPE and the mean Tweedie deviance.
//!
//! Definitions follow scikit-learn's `sklearn.metrics`: R² = 1 − SS_res/SS_tot
//! with SS_tot about the mean of the evaluated rows (so R² can be negative on
//! validation rows); MAPE = mean |y − ŷ| / |y| as a fraction, reported only
//! when no target is 0; `mean_tweedie_deviance` for GLMs.

use serde::{Deserialize, Serialize};

/// Metrics of a model on a set of rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricSet {
    /// Rows evaluated.
    pub rows: u64,
    /// Root mean squared error.
    pub rmse: f64,
    /// Mean absolute error.
    pub mae: f64,
    /// Coefficient of determination; `null` when the target is constant.
    pub r2: Option<f64>,
    /// Mean absolute percentage error as a fraction; `null` when a target is 0.
    pub mape: Option<f64>,
    /// Mean Tweedie deviance (GLMs only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deviance: Option<f64>,
}

/// Compute the metrics of predictions `pred` against targets `y`.
/// `tweedie_power` adds the mean deviance for that power.
#[must_use]
#[allow(clippy::cast_precision_loss)]
pub fn compute(y: &[f64], pred: &[f64], tweedie_power: Option<f64>) -> MetricSet {
    let n = y.len();
    let nf = n as f64;
    let mean = y.iter().sum::<f64>() / nf;
    let (mut ss_res, mut ss_tot, mut abs, mut ape) = (0.0, 0.0, 0.0, 0.0);
    let mut zero = false;
    for (&t, &p) in y.iter().zip(pred) {
        let r = t - p;
        ss_res += r * r;
        ss_tot += (t - mean) * (t - mean);
        abs += r.abs();
        if t == 0.0 {
            zero = true;
        } else {
            ape += r.abs() / t.abs();
        }
    }
    MetricSet {
        rows: n as u64,
        rmse: (ss_res / nf).sqrt(),
        mae: abs / nf,
        r2: (ss_tot > 0.0).then(|| 1.0 - ss_res / ss_tot),
        mape: (!zero).then(|| ape / nf),
        deviance: tweedie_power.map(|p| mean_tweedie_deviance(y, pred, p)),
    }
}

/// Mean Tweedie deviance of power `p`, as `sklearn.metrics.mean_tweedie_deviance`.
#[must_use]
#[allow(clippy::cast_precision_loss)]
pub fn mean_tweedie_deviance(y: &[f64], mu: &[f64], p: f64) -> f64 {
    let d: f64 = y
        .iter()
        .zip(mu)
        .map(|(&y, &mu)| {
            if p == 0.0 {
                (y - mu).powi(2)
            } else if p == 1.0 {
                let t = if y > 0.0 { y * (y / mu).ln() } else { 0.0 };
                2.0 * (t - y + mu)
            } else if p == 2.0 {
                2.0 * ((mu / y).ln() + y / mu - 1.0)
            } else {
                let a = y.max(0.0).powf(2.0 - p) / ((1.0 - p) * (2.0 - p));
                let b = y * mu.powf(1.0 - p) / (1.0 - p);
                let c = mu.powf(2.0 - p) / (2.0 - p);
                2.0 * (a - b + c)
            }
        })
        .sum();
    d / y.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_sklearn() {
        // sklearn.metrics on y=[3,-0.5,2,7], p=[2.5,0,2,8]:
        // r2_score 0.9486081370449679, mean_absolute_error 0.5,
        // root_mean_squared_error 0.6123724356957945,
        // mean_absolute_percentage_error 0.3273809523809524
        let m = compute(&[3.0, -0.5, 2.0, 7.0], &[2.5, 0.0, 2.0, 8.0], None);
        assert!((m.r2.unwrap() - 0.948_608_137_044_967_9).abs() < 1e-15);
        assert!((m.mae - 0.5).abs() < 1e-15);
        assert!((m.rmse - 0.612_372_435_695_794_5).abs() < 1e-15);
        assert!((m.mape.unwrap() - 0.327_380_952_380_952_4).abs() < 1e-15);
        let z = compute(&[0.0, 1.0], &[0.5, 1.0], None);
        assert!(z.mape.is_none());
    }

    #[test]
    fn tweedie_deviance_matches_sklearn() {
        // sklearn 1.x mean_tweedie_deviance([2,0,1,4],[0.5,0.5,2,2], power=p):
        // p=1: 1.4260151319598084, p=0: 1.875, p=1.5: 1.7781745930520232;
        // y=[2,0.5,1,4], p=2: 1.0568528194400546
        let y = [2.0, 0.0, 1.0, 4.0];
        let mu = [0.5, 0.5, 2.0, 2.0];
        assert!((mean_tweedie_deviance(&y, &mu, 1.0) - 1.426_015_131_959_808_4).abs() < 1e-12);
        assert!((mean_tweedie_deviance(&y, &mu, 0.0) - 1.875).abs() < 1e-12);
        assert!((mean_tweedie_deviance(&y, &mu, 1.5) - 1.778_174_593_052_023_2).abs() < 1e-12);
        let y2 = [2.0, 0.5, 1.0, 4.0];
        assert!((mean_tweedie_deviance(&y2, &mu, 2.0) - 1.056_852_819_440_054_6).abs() < 1e-12);
    }
}
