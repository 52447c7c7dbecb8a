//! Live drift of each loaded model (`[serve.monitor]`): every incoming
//! feature value is binned on the training distribution the artifact
//! records (the decile edges and the training count per bin for numeric
//! features, the level counts for categorical ones) and every prediction on
//! the deciles of the training predictions, over a sliding window
//! ([`window`]); memory is features × bins × buckets, whatever the traffic.
//!
//! The drift figures are those of the batch check
//! ([`crate::stats::binned`]: PSI, and the Jensen–Shannon distance), so
//! over the same rows the live PSI equals `mlops validate --drift-data`.
//! Cells are counted as they are read, before the rest of the request is
//! checked: a request refused for a later cell still counts its earlier
//! ones. A request counts into its own [`Tally`] (plain numbers), added to
//! the shared window once when the request is done. Missing cells are not binned (as in the batch check); they, values
//! outside the training min and max, and unseen levels have their own
//! counters. A `mlops.model/v1` artifact has no training counts per bin: its
//! counters are kept but no drift is measured.
//!
//! The monitor lives in its model, so its series go when the model is
//! unloaded. [`render`] writes the Prometheus families.

pub mod render;
pub mod tally;
pub mod window;

use std::sync::RwLock;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::model::Artifact;
use crate::model::stats::{ColumnStats, NumericStats};
use crate::project::MonitorSection;

pub use render::render;
pub use tally::Tally;
use window::Window;

/// Default window.
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(3600);
/// Default rows a feature needs in the window before its drift is shown.
pub const DEFAULT_MIN_SAMPLES: u64 = 500;

/// The settings of `[serve.monitor]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// The sliding window.
    pub window: Duration,
    /// Rows in the window before a drift gauge is shown.
    pub min_samples: u64,
    /// Whether requests are binned at all (`enabled = false` turns the
    /// drift gauges and counters off).
    pub enabled: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            window: DEFAULT_WINDOW,
            min_samples: DEFAULT_MIN_SAMPLES,
            enabled: true,
        }
    }
}

static SETTINGS: RwLock<Settings> = RwLock::new(Settings {
    window: DEFAULT_WINDOW,
    min_samples: DEFAULT_MIN_SAMPLES,
    enabled: true,
});

/// Use `s` for the models loaded from now on (the server sets it once, at
/// start, before loading any).
pub fn configure(s: Settings) {
    match SETTINGS.write() {
        Ok(mut g) => *g = s,
        Err(p) => *p.into_inner() = s,
    }
}

fn settings() -> Settings {
    match SETTINGS.read() {
        Ok(g) => *g,
        Err(p) => *p.into_inner(),
    }
}

/// A duration like `90s`, `30m`, `1h` or `2d`.
///
/// # Errors
/// Anything else, or zero.
pub fn parse_duration(s: &str) -> Option<Duration> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit())?;
    let (n, unit) = t.split_at(split);
    let n: u64 = n.parse().ok()?;
    let secs = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return None,
    };
    (n > 0).then(|| Duration::from_secs(n.saturating_mul(secs)))
}

/// Read `[serve.monitor]`.
///
/// # Errors
/// A window that is not a duration, or longer than 7 days; `min_samples` 0.
pub fn settings_of(m: Option<&MonitorSection>) -> Result<Settings> {
    let d = Settings::default();
    let Some(m) = m else { return Ok(d) };
    let window = match &m.window {
        None => d.window,
        Some(w) => parse_duration(w)
            .filter(|w| *w <= Duration::from_secs(7 * 86_400))
            .ok_or_else(|| {
                Error::usage(format!(
                    "[serve.monitor].window = \"{w}\" is not a duration of at most 7 days; write a whole number and s, m, h or d, like \"1h\""
                ))
            })?,
    };
    let min_samples = m.min_samples.unwrap_or(d.min_samples);
    if min_samples == 0 {
        return Err(Error::usage(
            "[serve.monitor].min_samples = 0: it must be at least 1",
        ));
    }
    Ok(Settings {
        window,
        min_samples,
        enabled: m.enabled.unwrap_or(true),
    })
}

/// How one feature's values are binned.
#[derive(Debug)]
enum Bins {
    /// Decile edges and the training range.
    Numeric { edges: Vec<f64>, min: f64, max: f64 },
    /// One bin per training level (by index).
    Levels,
}

/// One feature (or the prediction): its bins in the window's counters and
/// the training count per bin.
#[derive(Debug)]
struct Feature {
    name: String,
    bins: Bins,
    offset: usize,
    width: usize,
    /// Training counts per bin; `None` when the artifact lacks them (v1).
    expected: Option<Vec<u64>>,
    missing: AtomicU64,
    out_of_range: AtomicU64,
    unseen: AtomicU64,
}

/// The drift monitor of one model.
#[derive(Debug)]
pub struct Monitor {
    features: Vec<Feature>,
    prediction: Option<Feature>,
    window: Window,
    /// The window's counters (every feature's bins, then the prediction's).
    width: usize,
    min_samples: u64,
}

fn numeric(name: &str, s: &NumericStats, offset: usize) -> Feature {
    let width = s.deciles.len() + 1;
    Feature {
        name: name.to_string(),
        bins: Bins::Numeric {
            edges: s.deciles.clone(),
            min: s.min,
            max: s.max,
        },
        offset,
        width,
        expected: (s.bin_counts.len() == width).then(|| s.bin_counts.clone()),
        missing: AtomicU64::new(0),
        out_of_range: AtomicU64::new(0),
        unseen: AtomicU64::new(0),
    }
}

impl Monitor {
    /// The monitor of `a`, with the server's settings.
    #[must_use]
    pub fn new(a: &Artifact) -> Monitor {
        Monitor::with(a, settings())
    }

    /// The monitor of `a` with settings `s`.
    #[must_use]
    pub fn with(a: &Artifact, s: Settings) -> Monitor {
        if !s.enabled {
            return Monitor {
                features: Vec::new(),
                prediction: None,
                window: Window::new(0, s.window),
                width: 0,
                min_samples: s.min_samples,
            };
        }
        let mut offset = 0;
        let mut features = Vec::with_capacity(a.features.len());
        for f in &a.features {
            let feat = match (a.categorical.get(f), a.feature_stats.get(f)) {
                (Some(c), stats) => {
                    let counts = match stats {
                        Some(ColumnStats::Categorical(cs)) => Some(
                            c.levels
                                .iter()
                                .map(|l| cs.levels.get(l).copied().unwrap_or(0))
                                .collect(),
                        ),
                        _ => None,
                    };
                    Feature {
                        name: f.clone(),
                        bins: Bins::Levels,
                        offset,
                        width: c.levels.len(),
                        expected: counts,
                        missing: AtomicU64::new(0),
                        out_of_range: AtomicU64::new(0),
                        unseen: AtomicU64::new(0),
                    }
                }
                (None, Some(ColumnStats::Numeric(n))) => numeric(f, n, offset),
                (None, _) => numeric(f, &crate::model::stats::numeric(std::iter::empty()), offset),
            };
            offset += feat.width;
            features.push(feat);
        }
        let prediction = a.prediction_stats.as_ref().map(|p| numeric("", p, offset));
        if let Some(p) = &prediction {
            offset += p.width;
        }
        Monitor {
            features,
            prediction,
            window: Window::new(offset, s.window),
            width: offset,
            min_samples: s.min_samples,
        }
    }

    /// Feature `k` was missing (null or absent). A request counts its
    /// cells in a [`Tally`] instead, added to the window once.
    pub fn missing(&self, k: usize) {
        self.tally().missing(k);
    }

    /// Feature `k` had a level not seen in training.
    pub fn unseen(&self, k: usize) {
        self.tally().unseen(k);
    }

    /// Numeric feature `k` was `x` (finite).
    pub fn number(&self, k: usize, x: f64) {
        self.tally().number(k, x);
    }

    /// Categorical feature `k` was its training level `level`.
    pub fn level(&self, k: usize, level: usize) {
        self.tally().level(k, level);
    }

    /// The model answered `values` (a classifier's scores), counted in one
    /// tally.
    pub fn predictions(&self, values: &[Option<f64>]) {
        if self.prediction.is_none() {
            return;
        }
        let mut t = self.tally();
        for v in values.iter().flatten().filter(|v| v.is_finite()) {
            t.prediction(*v);
        }
    }
}

#[cfg(test)]
mod tests;
