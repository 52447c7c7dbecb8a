//! Statistics of experiments: distributions with known numerical fixes,
//! two-sample tests, intervals, multiple-comparison corrections, sample
//! ratio mismatch, Bayesian chance to win and power.
//!
//! Pure numerics: no I/O, no allocation beyond what a test needs. Every
//! module cites its formula and the reference implementation it matches
//! (scipy, statsmodels, GrowthBook); `docs/statistics.md` gathers them and
//! states the convention chosen where those libraries differ.

pub mod bayes;
pub mod binned;
pub mod classification;
pub mod correction;
pub mod dist;
pub mod ks;
pub mod mannwhitney;
pub mod power;
pub mod proportions;
pub mod srm;
pub mod ttest;

/// A p-value with its base-10 logarithm, which stays finite (and
/// meaningful) when the p-value itself underflows to 0.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PValue {
    /// The p-value in `[0, 1]`.
    pub p: f64,
    /// `log10(p)`, from a tail asymptote when `p` underflows.
    pub log10: f64,
}

impl PValue {
    /// A p-value whose logarithm is computed directly.
    #[must_use]
    pub fn from_p(p: f64) -> PValue {
        let p = p.clamp(0.0, 1.0);
        PValue {
            p,
            log10: p.log10(),
        }
    }

    /// A p-value from its natural logarithm.
    #[must_use]
    pub fn from_ln(ln_p: f64) -> PValue {
        let ln_p = ln_p.min(0.0);
        PValue {
            p: ln_p.exp(),
            log10: ln_p / std::f64::consts::LN_10,
        }
    }

    /// Not defined (NaN both).
    pub const NAN: PValue = PValue {
        p: f64::NAN,
        log10: f64::NAN,
    };
}

/// Summary of one arm of a continuous metric: count, mean and the sum of
/// squared deviations (Welford 1962; merged with Chan, Golub & LeVeque 1979).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Moments {
    /// Number of values.
    pub n: u64,
    /// Mean.
    pub mean: f64,
    /// Sum of squared deviations from the mean.
    pub m2: f64,
}

impl Moments {
    /// Add one value (Welford's update).
    #[inline]
    pub fn push(&mut self, x: f64) {
        self.n += 1;
        let d = x - self.mean;
        #[allow(clippy::cast_precision_loss)]
        let n = self.n as f64;
        self.mean += d / n;
        self.m2 += d * (x - self.mean);
    }

    /// Merge another summary (Chan et al.'s pairwise formula).
    pub fn merge(&mut self, o: &Moments) {
        if o.n == 0 {
            return;
        }
        if self.n == 0 {
            *self = *o;
            return;
        }
        #[allow(clippy::cast_precision_loss)]
        let (na, nb) = (self.n as f64, o.n as f64);
        let n = na + nb;
        let d = o.mean - self.mean;
        self.mean += d * nb / n;
        self.m2 += o.m2 + d * d * na * nb / n;
        self.n += o.n;
    }

    /// The summary of a slice.
    #[must_use]
    pub fn of(xs: &[f64]) -> Moments {
        let mut m = Moments::default();
        for &x in xs {
            m.push(x);
        }
        m
    }

    /// Sample variance (denominator `n - 1`); NaN below 2 values.
    #[must_use]
    pub fn var(&self) -> f64 {
        if self.n < 2 {
            f64::NAN
        } else {
            #[allow(clippy::cast_precision_loss)]
            let d = (self.n - 1) as f64;
            self.m2 / d
        }
    }

    /// Sample standard deviation.
    #[must_use]
    pub fn sd(&self) -> f64 {
        self.var().sqrt()
    }

    /// The count as a float.
    #[must_use]
    #[allow(clippy::cast_precision_loss)]
    pub fn nf(&self) -> f64 {
        self.n as f64
    }
}

/// The outcome of a two-sample comparison of `variant` against `control`:
/// the difference is always variant − control.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TestResult {
    /// The test statistic (t, z, U, chi-square or the odds ratio).
    pub statistic: f64,
    /// Degrees of freedom, when the reference distribution has them.
    pub df: Option<f64>,
    /// Two-sided p-value.
    pub p: PValue,
}
