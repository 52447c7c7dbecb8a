//! A sliding window of counts: a ring of time buckets, each a row of
//! counters, so memory is buckets × counters whatever the traffic.
//!
//! The window is [`BUCKETS`] buckets of `window / BUCKETS` each; the totals
//! are over the buckets of the last `window` (the current one included, so
//! the oldest rows leave up to one bucket late). A bucket is cleared by the
//! first count that reaches it in a new period. Counters are atomics: a
//! count is one relaxed add, and reading the totals takes no lock.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Buckets per window.
pub const BUCKETS: usize = 60;

#[derive(Debug)]
struct Slot {
    /// The period (milliseconds since the epoch / bucket length) whose
    /// counts this slot holds.
    period: AtomicU64,
    counts: Box<[AtomicU64]>,
}

/// Counters over a sliding window.
#[derive(Debug)]
pub struct Window {
    bucket_ms: u64,
    slots: Vec<Slot>,
    clearing: Mutex<()>,
}

/// Milliseconds since the Unix epoch.
#[must_use]
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl Window {
    /// `width` counters over `window`.
    #[must_use]
    pub fn new(width: usize, window: Duration) -> Window {
        let ms = u64::try_from(window.as_millis()).unwrap_or(u64::MAX);
        Window {
            bucket_ms: (ms / BUCKETS as u64).max(1),
            slots: (0..BUCKETS)
                .map(|_| Slot {
                    period: AtomicU64::new(u64::MAX),
                    counts: (0..width).map(|_| AtomicU64::new(0)).collect(),
                })
                .collect(),
            clearing: Mutex::new(()),
        }
    }

    /// The slot of the period of `at_ms`, cleared if it held an older one.
    fn slot(&self, at_ms: u64) -> &Slot {
        let period = at_ms / self.bucket_ms;
        #[allow(clippy::cast_possible_truncation)]
        let s = &self.slots[(period % BUCKETS as u64) as usize];
        if s.period.load(Ordering::Acquire) != period {
            let _g = self
                .clearing
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if s.period.load(Ordering::Acquire) != period {
                for c in &s.counts {
                    c.store(0, Ordering::Relaxed);
                }
                s.period.store(period, Ordering::Release);
            }
        }
        s
    }

    /// Add each `(i, n)` of `counts` (`n` to counter `i`) at time `at_ms`:
    /// one slot lookup.
    pub fn add_some(&self, counts: &[(u32, u64)], at_ms: u64) {
        let slot = self.slot(at_ms);
        for &(i, n) in counts {
            if let Some(c) = slot.counts.get(i as usize) {
                c.fetch_add(n, Ordering::Relaxed);
            }
        }
    }

    /// Add `n` to counter `i` at time `at_ms`.
    pub fn add(&self, i: usize, n: u64, at_ms: u64) {
        if let Some(c) = self.slot(at_ms).counts.get(i) {
            c.fetch_add(n, Ordering::Relaxed);
        }
    }

    /// Add `counts[i]` to counter `i`, for each `i`, at time `at_ms`: one
    /// slot lookup, and an add only for the counts that are not zero.
    pub fn add_all(&self, counts: &[u64], at_ms: u64) {
        let slot = self.slot(at_ms);
        for (c, n) in slot.counts.iter().zip(counts) {
            if *n > 0 {
                c.fetch_add(*n, Ordering::Relaxed);
            }
        }
    }

    /// Each counter's total over the window ending at `at_ms`.
    #[must_use]
    pub fn totals(&self, at_ms: u64) -> Vec<u64> {
        let now = at_ms / self.bucket_ms;
        let oldest = now.saturating_sub(BUCKETS as u64 - 1);
        let width = self.slots.first().map_or(0, |s| s.counts.len());
        let mut out = vec![0u64; width];
        for s in &self.slots {
            let p = s.period.load(Ordering::Acquire);
            if p != u64::MAX && p >= oldest && p <= now {
                for (o, c) in out.iter_mut().zip(s.counts.iter()) {
                    *o += c.load(Ordering::Relaxed);
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_buckets_leave_the_window() {
        let w = Window::new(2, Duration::from_secs(60));
        let t0 = 1_000_000_000;
        w.add(0, 3, t0);
        w.add(1, 1, t0 + 30_000);
        assert_eq!(w.totals(t0 + 30_000), vec![3, 1]);
        // 60 s later the first bucket has left; the second is still in.
        assert_eq!(w.totals(t0 + 60_000), vec![0, 1]);
        // Reusing the first bucket's slot clears it.
        w.add(0, 5, t0 + 60_000);
        assert_eq!(w.totals(t0 + 60_000), vec![5, 1]);
        assert_eq!(w.totals(t0 + 200_000), vec![0, 0]);
        // An index past the width is ignored, not a panic.
        w.add(7, 1, t0);
    }
}
