//! Streaming sums for the regression metrics (RMSE, MAE, R², MAPE), folded a
//! row at a time from the target and the prediction.

use crate::model::metrics;
use crate::train::streaming::moments::Moments;

/// Streaming sums for the regression metrics.
#[derive(Debug, Default)]
pub(super) struct MetricSums {
    y: Moments,
    sq: f64,
    abs: f64,
    ape: f64,
    zero: bool,
}

impl MetricSums {
    /// Add a row: its target `y` and its prediction.
    #[inline]
    pub fn push(&mut self, y: f64, pred: f64) {
        self.y.push(y);
        let r = y - pred;
        self.sq += r * r;
        self.abs += r.abs();
        if y == 0.0 {
            self.zero = true;
        } else {
            self.ape += r.abs() / y.abs();
        }
    }

    /// The metrics, or `None` without rows.
    #[allow(clippy::cast_precision_loss)]
    pub fn finish(&self) -> Option<metrics::MetricSet> {
        let n = self.y.n;
        if n == 0 {
            return None;
        }
        let nf = n as f64;
        Some(metrics::MetricSet {
            rows: n,
            rmse: (self.sq / nf).sqrt(),
            mae: self.abs / nf,
            r2: (self.y.m2 > 0.0).then(|| 1.0 - self.sq / self.y.m2),
            mape: (!self.zero).then(|| self.ape / nf),
            deviance: None,
        })
    }
}
