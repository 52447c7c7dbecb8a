//! `mlops monitor emit`: Prometheus alert rules, their promtool unit tests
//! and a Grafana dashboard for the project's model, from templates here.
//!
//! The rules watch what `mlops serve` exports (`docs/monitoring.md` lists
//! the series): multi-window burn-rate alerts on availability and on a
//! latency SLO (the SRE Workbook's 1 h/5 m at 14.4× and 6 h/30 m at 6×), a
//! missing scrape target, the error ratio, dropped prediction-log lines,
//! feature and prediction drift, a surge of rate-limited requests, and a
//! challenger worse than its champion. Every alert carries `summary`,
//! `description` and a `runbook` into `docs/monitoring.md`, and the unit
//! tests give each one a case where it fires and one where it stays silent.
//!
//! The YAML is written by hand: every string is a JSON string, which YAML
//! reads as a double-quoted scalar.

mod alerts;
mod dashboard;

use crate::error::{Error, Result};
use crate::serve::metrics::DURATION_BUCKETS;

pub use alerts::{ALERT_NAMES, alerts_test_yml, alerts_yml, prometheus_rule_yaml};
pub use dashboard::dashboard_json;

/// What the templates are made for.
#[derive(Debug, Clone)]
pub struct Options {
    /// The Prometheus `job` that scrapes the server.
    pub job: String,
    /// The model (registry name).
    pub model: String,
    /// Availability objective: the share of requests answered without a 5xx.
    pub availability: f64,
    /// Latency objective: requests at most this many seconds (a bucket of
    /// `mlops_request_duration_seconds`)…
    pub latency_le: f64,
    /// …make at least this share of requests.
    pub latency_target: f64,
    /// Where runbook links point (the anchors of docs/monitoring.md follow).
    pub runbook: String,
}

/// Default availability objective.
pub const DEFAULT_AVAILABILITY: f64 = 0.999;
/// Default latency bucket, seconds.
pub const DEFAULT_LATENCY_LE: f64 = 0.1;
/// Default latency objective.
pub const DEFAULT_LATENCY_TARGET: f64 = 0.99;
/// Default runbook location.
pub const DEFAULT_RUNBOOK: &str = "docs/monitoring.md";

impl Options {
    /// Check the objectives and the label values.
    ///
    /// # Errors
    /// An objective outside (0, 1), a latency bound that is not a bucket,
    /// a job or model name with a quote, backslash or newline.
    pub fn check(&self) -> Result<()> {
        for (flag, v) in [
            ("--availability", self.availability),
            ("--latency-target", self.latency_target),
        ] {
            if !(v > 0.0 && v < 1.0) {
                return Err(Error::usage(format!(
                    "{flag} {v} must be a share between 0 and 1, like 0.999"
                )));
            }
        }
        if !DURATION_BUCKETS.contains(&self.latency_le) {
            let list: Vec<String> = DURATION_BUCKETS.iter().map(f64::to_string).collect();
            return Err(Error::usage(format!(
                "--latency-le {} is not a bucket of mlops_request_duration_seconds; use one of {}",
                self.latency_le,
                list.join(", ")
            )));
        }
        for (what, v) in [("--job", &self.job), ("the model name", &self.model)] {
            if v.is_empty() || v.contains(['"', '\\', '\n', '\'', '{', '}']) {
                return Err(Error::usage(format!(
                    "{what} \"{v}\" cannot be a label value in the rules; use letters, digits, '-', '_', '/' or '.'"
                )));
            }
        }
        Ok(())
    }
}

/// A string as a YAML double-quoted scalar (JSON string syntax).
fn q(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

#[cfg(test)]
mod tests;
