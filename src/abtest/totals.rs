//! Running totals of a pass over the rows: per arm (Welford moments, the
//! fast shifted sums of a block, the co-moment with the covariate, the
//! conversions and, for Mann–Whitney, the values) and per unit under
//! `--unit`; merged across blocks in first-appearance order, and per-unit
//! sums folded into the arms at the end.

use std::collections::HashMap;

use super::settings::{Settings, TestChoice};
use crate::error::{Error, Result};
use crate::stats::Moments;

/// Sums of deviations from a shift `k` (the block's first value), the fast
/// accumulator of a block: no division per value, and no dependency chain
/// through the mean. A block holds at most a few hundred thousand values and
/// `k` is one of them, so `M2 = s2 − s1²/n` loses no more than a digit or
/// two to cancellation; blocks are then merged exactly as Welford moments.
#[derive(Debug, Clone, Copy, Default)]
struct ShiftedSums {
    n: u64,
    k: f64,
    s1: f64,
    s2: f64,
}

impl ShiftedSums {
    #[inline]
    fn push(&mut self, y: f64) {
        if self.n == 0 {
            self.k = y;
        }
        let d = y - self.k;
        self.n += 1;
        self.s1 += d;
        self.s2 += d * d;
    }

    fn moments(&self) -> Moments {
        if self.n == 0 {
            return Moments::default();
        }
        #[allow(clippy::cast_precision_loss)]
        let n = self.n as f64;
        let d = self.s1 / n;
        let m2 = self.s2 - self.s1 * d;
        Moments {
            n: self.n,
            mean: self.k + d,
            // An overflowed sum stays infinite (never NaN clamped to 0), so
            // `check_finite` sees it.
            m2: if m2.is_nan() {
                f64::INFINITY
            } else {
                m2.max(0.0)
            },
        }
    }
}

/// Running sums of one arm.
#[derive(Debug, Clone, Default)]
pub(super) struct ArmTotals {
    /// Moments of the metric (complete once the totals are finished).
    pub(super) y: Moments,
    fast: ShiftedSums,
    /// Moments of the covariate.
    pub(super) x: Moments,
    /// Co-moment of metric and covariate.
    pub(super) cxy: f64,
    /// Rows (or units) whose metric is 1.
    pub(super) ones: u64,
    /// The values, kept for Mann–Whitney only.
    pub(super) values: Vec<f64>,
}

impl ArmTotals {
    #[inline]
    pub(super) fn push(&mut self, y: f64, x: Option<f64>, keep: bool) {
        if let Some(x) = x {
            // Bivariate Welford: the co-moment uses x's old deviation and
            // y's new one.
            let dx = x - self.x.mean;
            self.x.push(x);
            self.y.push(y);
            self.cxy += dx * (y - self.y.mean);
        } else {
            self.fast.push(y);
        }
        if y == 1.0 {
            self.ones += 1;
        }
        if keep {
            self.values.push(y);
        }
    }

    /// Fold the fast sums into the moments.
    fn flush(&mut self) {
        if self.fast.n > 0 {
            let m = self.fast.moments();
            self.y.merge(&m);
            self.fast = ShiftedSums::default();
        }
    }

    fn merge(&mut self, mut o: ArmTotals) {
        self.flush();
        o.flush();
        if self.y.n > 0 && o.y.n > 0 {
            let (na, nb) = (self.y.nf(), o.y.nf());
            let dx = o.x.mean - self.x.mean;
            let dy = o.y.mean - self.y.mean;
            self.cxy += o.cxy + dx * dy * na * nb / (na + nb);
        } else if self.y.n == 0 {
            self.cxy = o.cxy;
        }
        self.y.merge(&o.y);
        self.x.merge(&o.x);
        self.ones += o.ones;
        self.values.extend(o.values);
    }
}

/// One unit's rows under `--unit`.
#[derive(Debug, Clone)]
pub(super) struct UnitTotals {
    /// Index of its variant.
    pub(super) variant: usize,
    /// Sum of the metric (the maximum for a binary metric).
    pub(super) y: f64,
    /// Sum of the covariate.
    pub(super) x: f64,
    /// The line it first appeared on.
    pub(super) line: u64,
}

/// Most distinct values a tally keeps apart; beyond, rows count on the last.
const MAX_DISTINCT: usize = 100;

/// Distinct values of a column (planned shares, experiments) in order of
/// first appearance, each with its row count.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Tally<T> {
    /// The values and their rows.
    pub(super) values: Vec<(T, u64)>,
    /// Rows whose cell was empty.
    pub(super) missing: u64,
}

impl<T: PartialEq> Tally<T> {
    /// Count one row's value (`None`: an empty cell).
    pub(super) fn push(&mut self, v: Option<T>) {
        self.add(v, 1);
    }

    fn add(&mut self, v: Option<T>, n: u64) {
        let Some(v) = v else {
            self.missing += n;
            return;
        };
        if let Some(e) = self.values.iter_mut().find(|(x, _)| *x == v) {
            e.1 += n;
        } else if self.values.len() < MAX_DISTINCT {
            self.values.push((v, n));
        } else if let Some(last) = self.values.last_mut() {
            last.1 += n;
        }
    }

    fn merge(&mut self, o: Tally<T>) {
        self.missing += o.missing;
        for (v, n) in o.values {
            self.add(Some(v), n);
        }
    }
}

/// The per-variant state of a pass.
#[derive(Debug, Default)]
pub(super) struct ExperimentTotals {
    /// Variant names in order of first appearance.
    pub(super) names: Vec<Vec<u8>>,
    /// One per name.
    pub(super) arms: Vec<ArmTotals>,
    /// One per name: the planned shares its rows carry (an export's
    /// `planned_share` column).
    pub(super) shares: Vec<Tally<f64>>,
    /// The experiments the rows carry (an export's `experiment` column).
    pub(super) experiments: Tally<Vec<u8>>,
    /// Per-unit sums under `--unit`.
    pub(super) units: HashMap<Vec<u8>, UnitTotals>,
    /// Rows read.
    pub(super) rows: u64,
}

impl ExperimentTotals {
    /// Merge `b` (read after `self`) into `self`, keeping first-appearance
    /// order; a unit seen in two variants is an error.
    pub(super) fn merge(&mut self, b: ExperimentTotals, origin: &str, binary: bool) -> Result<()> {
        let mut map = Vec::with_capacity(b.names.len());
        for ((name, arm), shares) in b.names.into_iter().zip(b.arms).zip(b.shares) {
            let i = self.index(name);
            self.arms[i].merge(arm);
            self.shares[i].merge(shares);
            map.push(i);
        }
        self.experiments.merge(b.experiments);
        for (u, mut e) in b.units {
            e.variant = map[e.variant];
            match self.units.get_mut(&u) {
                Some(f) => {
                    if f.variant != e.variant {
                        return Err(Error::data(format!(
                            "{origin}:{}: unit \"{}\" is in variant \"{}\" here but in \"{}\" on line {}; a unit must stay in one variant (check the assignment)",
                            e.line,
                            String::from_utf8_lossy(&u),
                            String::from_utf8_lossy(&self.names[e.variant]),
                            String::from_utf8_lossy(&self.names[f.variant]),
                            f.line
                        )));
                    }
                    f.y = if binary { f.y.max(e.y) } else { f.y + e.y };
                    f.x += e.x;
                }
                None => {
                    self.units.insert(u, e);
                }
            }
        }
        self.rows += b.rows;
        Ok(())
    }

    /// The index of variant `name`, added (with empty totals) when new.
    pub(super) fn index(&mut self, name: Vec<u8>) -> usize {
        if let Some(i) = self.names.iter().position(|n| *n == name) {
            return i;
        }
        self.names.push(name);
        self.arms.push(ArmTotals::default());
        self.shares.push(Tally::default());
        self.names.len() - 1
    }

    /// Turn per-unit sums into arm totals.
    fn fold_units(&mut self, keep: bool, with_x: bool) {
        let units = std::mem::take(&mut self.units);
        if units.is_empty() {
            return;
        }
        for a in &mut self.arms {
            *a = ArmTotals::default();
        }
        // Sorted by first line so the order of sums is deterministic.
        let mut units: Vec<UnitTotals> = units.into_values().collect();
        units.sort_by_key(|u| u.line);
        for u in units {
            self.arms[u.variant].push(u.y, with_x.then_some(u.x), keep);
        }
    }

    /// The totals the statistics read: under `--unit` the per-unit sums
    /// folded into the arms, and every arm's fast sums folded into its moments.
    pub(super) fn finish(&mut self, s: &Settings) {
        if s.unit.is_some() {
            self.fold_units(s.test == TestChoice::MannWhitney, s.covariate.is_some());
        }
        for a in &mut self.arms {
            a.flush();
        }
    }

    /// Every arm's moments are finite: values beyond about 1e154 square
    /// past `f64::MAX`, and the variance (hence every test) would be
    /// infinite or NaN.
    pub(super) fn check_finite(&self, s: &Settings, origin: &str) -> Result<()> {
        for (name, a) in self.names.iter().zip(&self.arms) {
            let column = if a.y.mean.is_finite() && a.y.m2.is_finite() {
                if a.x.mean.is_finite() && a.x.m2.is_finite() && a.cxy.is_finite() {
                    continue;
                }
                s.covariate.as_deref().unwrap_or(&s.metric)
            } else {
                &s.metric
            };
            return Err(Error::data(format!(
                "{origin}: column \"{column}\" of variant \"{}\" holds values too large for their variance in double precision (above about 1e154 in size, or sums of them under --unit); rescale the column (divide it by a power of ten) and run again",
                String::from_utf8_lossy(name)
            )));
        }
        Ok(())
    }
}
