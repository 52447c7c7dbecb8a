//! A request's drift counts: each cell is binned into a plain local array,
//! added to the model's shared window once, when the request is done (the
//! tally is dropped). A 4,096-row request of 10 features then makes one
//! relaxed add per touched counter (about a hundred), not one contended
//! atomic add per cell (40,960), and reads the clock once.
//!
//! The counts are those [`Monitor`] would have made cell by cell; only the
//! moment they reach the window changes (at the end of the request, in the
//! bucket of that moment). A request refused for a later cell still counts
//! its earlier ones: the tally is dropped, and so added, on every path.

use std::sync::atomic::Ordering;

use super::{Bins, Feature, Monitor, window};
use crate::stats::binned::bin_of;

/// The extra counters of each feature (and of the prediction), after the
/// window's: missing, out of range, unseen.
const EXTRAS: usize = 3;
const MISSING: usize = 0;
const OUT_OF_RANGE: usize = 1;
const UNSEEN: usize = 2;

/// Drift counts kept for one request, added to `monitor` when dropped.
#[derive(Debug)]
pub struct Tally<'m> {
    monitor: &'m Monitor,
    /// The window's counters, then [`EXTRAS`] per feature and for the
    /// prediction; empty until the first count (a disabled monitor, or a
    /// request refused before its first cell, allocates nothing).
    counts: Vec<u64>,
}

impl Monitor {
    /// An empty tally of this monitor.
    #[must_use]
    pub fn tally(&self) -> Tally<'_> {
        Tally {
            monitor: self,
            counts: Vec::new(),
        }
    }

    /// Index of the prediction among the features' extra counters.
    fn prediction_slot(&self) -> usize {
        self.features.len()
    }
}

impl Tally<'_> {
    fn bump(&mut self, i: usize) {
        self.bump_by(i, 1);
    }

    fn bump_by(&mut self, i: usize, n: u64) {
        if n == 0 {
            return;
        }
        if self.counts.is_empty() {
            let m = self.monitor;
            self.counts = vec![0; m.width + EXTRAS * (m.features.len() + 1)];
        }
        if let Some(c) = self.counts.get_mut(i) {
            *c += n;
        }
    }

    fn extra(&mut self, feature: usize, which: usize) {
        self.bump(self.monitor.width + EXTRAS * feature + which);
    }

    /// Feature `k` was missing (null or absent).
    pub fn missing(&mut self, k: usize) {
        if k < self.monitor.features.len() {
            self.extra(k, MISSING);
        }
    }

    /// Feature `k` had a level not seen in training.
    pub fn unseen(&mut self, k: usize) {
        if k < self.monitor.features.len() {
            self.extra(k, UNSEEN);
        }
    }

    /// Numeric feature `k` was `x` (finite).
    pub fn number(&mut self, k: usize, x: f64) {
        if let Some(f) = self.monitor.features.get(k) {
            self.observe(f, k, x);
        }
    }

    /// Numeric feature `k` was each of `xs` (all finite): the counts
    /// [`Tally::number`] makes one by one, made over the column (four sets
    /// of counters, so that a run of values in one bin does not wait on
    /// each increment).
    pub fn numbers(&mut self, k: usize, xs: impl Iterator<Item = f64>) {
        let Some(f) = self.monitor.features.get(k) else {
            return;
        };
        let Bins::Numeric { edges, min, max } = &f.bins else {
            return;
        };
        let mut lanes = vec![[0u64; 4]; edges.len() + 1];
        let mut out = [0u64; 4];
        for (i, x) in xs.enumerate() {
            let l = i & 3;
            lanes[bin_of(edges, x)][l] += 1;
            out[l] += u64::from(x < *min || x > *max);
        }
        for (b, l) in lanes.iter().enumerate() {
            self.bump_by(f.offset + b, l.iter().sum());
        }
        self.bump_by(
            self.monitor.width + EXTRAS * k + OUT_OF_RANGE,
            out.iter().sum(),
        );
    }

    /// Categorical feature `k` was its training level `level`.
    pub fn level(&mut self, k: usize, level: usize) {
        if let Some(f) = self.monitor.features.get(k)
            && level < f.width
        {
            self.bump(f.offset + level);
        }
    }

    /// The model answered `x` (finite; a classifier's score).
    pub fn prediction(&mut self, x: f64) {
        if let Some(p) = &self.monitor.prediction {
            self.observe(p, self.monitor.prediction_slot(), x);
        }
    }

    /// Bin the number `x` of `f`, the `slot`th feature (counting it out of
    /// range if it is).
    fn observe(&mut self, f: &Feature, slot: usize, x: f64) {
        if let Bins::Numeric { edges, min, max } = &f.bins {
            if x < *min || x > *max {
                self.extra(slot, OUT_OF_RANGE);
            }
            self.bump(f.offset + bin_of(edges, x));
        }
    }
}

impl Drop for Tally<'_> {
    fn drop(&mut self) {
        if self.counts.is_empty() {
            return;
        }
        let m = self.monitor;
        let (bins, extras) = self.counts.split_at(m.width.min(self.counts.len()));
        m.window.add_all(bins, window::now_ms());
        let feats = m.features.iter().chain(m.prediction.as_ref());
        for (f, c) in feats.zip(extras.chunks_exact(EXTRAS)) {
            for (counter, n) in [
                (&f.missing, c[MISSING]),
                (&f.out_of_range, c[OUT_OF_RANGE]),
                (&f.unseen, c[UNSEEN]),
            ] {
                if n > 0 {
                    counter.fetch_add(n, Ordering::Relaxed);
                }
            }
        }
    }
}
