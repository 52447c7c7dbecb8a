//! The two phases a target takes part in when an environment spans several
//! targets (`deploy::multi`): stage a version beside what is served and
//! verify it there, then commit it (make it the champion), with the ways
//! back: revert a commit, remove what was staged. Every method is
//! idempotent, so a deploy resumed after a crash may call it again.

use crate::error::Result;

use super::target::{Check, Job, Target};

/// Prediction requests a target has answered so far (from `/metrics`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Requests {
    /// Answered with a 5xx status.
    pub failed: u64,
    /// All of them.
    pub total: u64,
}

/// A target that can stage, commit, revert and unstage.
pub trait Phased: Target {
    /// Put `job.bundle` beside what is served without serving it (a target
    /// that serves nothing yet takes it as its first champion, as a
    /// single-target first deploy does) and verify it there: checksums,
    /// readiness, the smoke rows.
    fn stage(&mut self, job: &Job<'_>) -> Result<Vec<Check>>;
    /// Make the staged version the champion and verify it.
    fn commit(&mut self, job: &Job<'_>) -> Result<Vec<Check>>;
    /// Put `previous` back as the champion (`None`: serve nothing), undoing
    /// the commit of `job`.
    fn revert(&mut self, job: &Job<'_>, previous: Option<&str>) -> Result<()>;
    /// Remove what staging `version` left, unless it is the champion.
    fn unstage(&mut self, version: &str) -> Result<()>;
    /// The requests answered so far, when the target counts them.
    fn requests(&mut self) -> Result<Option<Requests>>;
    /// Whether the target answers its readiness check now.
    fn ready(&mut self) -> bool;
}

/// The `(failed, total)` prediction requests of `model` in a Prometheus
/// text exposition (`mlops_requests_total`, 5xx counted as failed).
#[must_use]
pub fn parse_requests(text: &str, model: &str) -> Requests {
    let mut r = Requests::default();
    let want = format!("model=\"{model}\"");
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("mlops_requests_total{") else {
            continue;
        };
        let Some((labels, value)) = rest.split_once("} ") else {
            continue;
        };
        if !labels.split(',').any(|l| l == want) {
            continue;
        }
        let n = value.trim().parse::<f64>().unwrap_or(0.0).max(0.0) as u64;
        r.total += n;
        if labels.contains("status=\"5") {
            r.failed += n;
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_count_the_model_and_its_5xx() {
        let text = "# HELP x\nmlops_requests_total{endpoint=\"predict\",model=\"m\",version=\"v1\",variant=\"champion\",status=\"200\"} 8\nmlops_requests_total{endpoint=\"predict\",model=\"m\",version=\"v1\",variant=\"champion\",status=\"503\"} 2\nmlops_requests_total{endpoint=\"predict\",model=\"other\",version=\"v1\",variant=\"champion\",status=\"500\"} 7\nmlops_requests_total{endpoint=\"predict\",model=\"\",version=\"\",variant=\"\",status=\"400\"} 1\n";
        assert_eq!(
            parse_requests(text, "m"),
            Requests {
                failed: 2,
                total: 10
            }
        );
        assert_eq!(parse_requests("", "m"), Requests::default());
    }
}
