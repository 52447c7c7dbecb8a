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

/// Counters a tally keeps as a short list before it takes the whole row.
const FEW: usize = 24;
/// Values of a column [`Tally::numbers`] bins one by one, without lanes.
const FEW_VALUES: usize = 8;

/// Drift counts kept for one request, added to `monitor` when dropped.
#[derive(Debug)]
pub struct Tally<'m> {
    monitor: &'m Monitor,
    /// The counters touched so far, as `(index, count)`, while there are at
    /// most [`FEW`] (a one-row request: no allocation, and only these are
    /// added to the window); indices as in `counts`.
    few: [(u32, u64); FEW],
    touched: usize,
    /// The window's counters, then [`EXTRAS`] per feature and for the
    /// prediction; empty until more than [`FEW`] counters are touched.
    counts: Vec<u64>,
}

impl Monitor {
    /// An empty tally of this monitor.
    #[must_use]
    pub fn tally(&self) -> Tally<'_> {
        Tally {
            monitor: self,
            few: [(0, 0); FEW],
            touched: 0,
            counts: Vec::new(),
        }
    }

    /// Index of the prediction among the features' extra counters.
    fn prediction_slot(&self) -> usize {
        self.features.len()
    }
}

impl Tally<'_> {
    /// Whether the tally holds the whole row of counters (else its short
    /// list), for tests.
    #[cfg(test)]
    pub(super) fn dense(&self) -> bool {
        !self.counts.is_empty()
    }

    fn bump(&mut self, i: usize) {
        self.bump_by(i, 1);
    }

    fn bump_by(&mut self, i: usize, n: u64) {
        let m = self.monitor;
        let len = m.width + EXTRAS * (m.features.len() + 1);
        if n == 0 || i >= len {
            return;
        }
        if self.counts.is_empty() {
            let few = &mut self.few[..self.touched];
            if let Some(e) = few.iter_mut().find(|e| e.0 as usize == i) {
                e.1 += n;
                return;
            }
            if let (true, Ok(at)) = (self.touched < FEW, u32::try_from(i)) {
                self.few[self.touched] = (at, n);
                self.touched += 1;
                return;
            }
            // More counters than the list holds: the whole row from now on.
            self.counts = vec![0; len];
            for &(j, c) in &self.few[..self.touched] {
                self.counts[j as usize] += c;
            }
            self.touched = 0;
        }
        self.counts[i] += n;
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
        if xs.size_hint().1.is_some_and(|n| n <= FEW_VALUES) {
            // A row or a few: no lanes to allocate.
            for x in xs {
                self.observe(f, k, x);
            }
            return;
        }
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
        let m = self.monitor;
        if self.counts.is_empty() {
            let few = &mut self.few[..self.touched];
            if few.is_empty() {
                return;
            }
            // The window's counters first (one slot lookup), then the extras.
            few.sort_unstable_by_key(|e| e.0);
            let split = few.partition_point(|e| (e.0 as usize) < m.width);
            let (bins, extras) = few.split_at(split);
            if !bins.is_empty() {
                m.window.add_some(bins, window::now_ms());
            }
            for &(i, n) in extras {
                let e = i as usize - m.width;
                let k = e / EXTRAS;
                let f = m.features.get(k).or_else(|| {
                    (k == m.features.len())
                        .then_some(m.prediction.as_ref())
                        .flatten()
                });
                if let Some(f) = f {
                    let counter = match e % EXTRAS {
                        MISSING => &f.missing,
                        OUT_OF_RANGE => &f.out_of_range,
                        _ => &f.unseen,
                    };
                    counter.fetch_add(n, Ordering::Relaxed);
                }
            }
            return;
        }
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
