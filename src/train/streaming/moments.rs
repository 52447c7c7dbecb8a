//! Exact running moments of a column, folded a value or a block at a time:
//! count, mean, sum of squared deviations, min, max and missing values.

/// Exact running count, mean, sum of squared deviations, min and max.
#[derive(Debug, Clone, Copy)]
pub(super) struct Moments {
    pub n: u64,
    pub mean: f64,
    pub m2: f64,
    pub min: f64,
    pub max: f64,
    pub missing: u64,
}

impl Default for Moments {
    fn default() -> Self {
        Moments {
            n: 0,
            mean: 0.0,
            m2: 0.0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            missing: 0,
        }
    }
}

impl Moments {
    /// Add one value (NaN: a missing one).
    #[inline]
    #[allow(clippy::cast_precision_loss)]
    pub fn push(&mut self, x: f64) {
        if x.is_nan() {
            self.missing += 1;
            return;
        }
        self.n += 1;
        let d = x - self.mean;
        self.mean += d / self.n as f64;
        self.m2 += d * (x - self.mean);
        self.min = self.min.min(x);
        self.max = self.max.max(x);
    }

    /// Add the values `v[i]` for `i` in `idx`: the block's own count, mean
    /// and squared deviations by two passes, merged with Chan, Golub and
    /// LeVeque's pairwise formula (one division per block, not per value).
    #[allow(clippy::cast_precision_loss)]
    pub fn push_block(&mut self, v: &[f64], idx: &[usize]) {
        if idx.len() == v.len() {
            // Every row (the indices are 0..n): straight over the slice.
            self.push_values(v);
            return;
        }
        let picked: Vec<f64> = idx.iter().map(|&i| v[i]).collect();
        self.push_values(&picked);
    }

    /// [`Moments::push_block`] of all of `v`: four lanes of sums, minima
    /// and maxima, with selects instead of branches, so the loops vectorise.
    #[allow(clippy::cast_precision_loss)]
    fn push_values(&mut self, v: &[f64]) {
        const L: usize = 4;
        let (mut cnt, mut sum) = ([0u64; L], [0.0f64; L]);
        let (mut lo, mut hi) = ([f64::INFINITY; L], [f64::NEG_INFINITY; L]);
        let mut step = |l: usize, x: f64| {
            // NaN (missing) compares false everywhere: it changes nothing.
            let ok = !x.is_nan();
            cnt[l] += u64::from(ok);
            sum[l] += if ok { x } else { 0.0 };
            lo[l] = if x < lo[l] { x } else { lo[l] };
            hi[l] = if x > hi[l] { x } else { hi[l] };
        };
        let lanes = v.chunks_exact(L);
        let rest = lanes.remainder();
        for c in lanes {
            for (l, &x) in c.iter().enumerate() {
                step(l, x);
            }
        }
        for (l, &x) in rest.iter().enumerate() {
            step(l, x);
        }
        let n: u64 = cnt.iter().sum();
        self.missing += v.len() as u64 - n;
        if n == 0 {
            return;
        }
        let sum = (sum[0] + sum[1]) + (sum[2] + sum[3]);
        let lo = lo.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = hi.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let mean_b = sum / n as f64;
        let mut m2 = [0.0f64; L];
        let mut step = |l: usize, x: f64| {
            let d = x - mean_b;
            m2[l] += if x.is_nan() { 0.0 } else { d * d };
        };
        for c in v.chunks_exact(L) {
            for (l, &x) in c.iter().enumerate() {
                step(l, x);
            }
        }
        for (l, &x) in rest.iter().enumerate() {
            step(l, x);
        }
        let m2_b = (m2[0] + m2[1]) + (m2[2] + m2[3]);
        let total = self.n + n;
        let delta = mean_b - self.mean;
        let (na, nb, nt) = (self.n as f64, n as f64, total as f64);
        self.mean += delta * (nb / nt);
        self.m2 += m2_b + delta * delta * (na * nb / nt);
        self.n = total;
        self.min = self.min.min(lo);
        self.max = self.max.max(hi);
    }

    /// Sample standard deviation.
    #[allow(clippy::cast_precision_loss)]
    pub fn sd(&self) -> f64 {
        if self.n < 2 {
            0.0
        } else {
            (self.m2 / (self.n - 1) as f64).sqrt()
        }
    }

    /// Root mean square about the mean (population).
    #[allow(clippy::cast_precision_loss)]
    pub fn centred_rms(&self) -> f64 {
        if self.n == 0 {
            0.0
        } else {
            (self.m2 / self.n as f64).sqrt()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::split;

    #[test]
    fn block_moments_equal_one_by_one_moments_far_from_zero() {
        // Values near 1e9 with a spread of about 1: the case where a naive
        // sum of squares loses every digit.
        let v: Vec<f64> = (0..10_000)
            .map(|i| {
                let u = split::splitmix64(i) as f64 / u64::MAX as f64;
                if i % 97 == 0 { f64::NAN } else { 1e9 + u }
            })
            .collect();
        let mut one = Moments::default();
        for &x in &v {
            one.push(x);
        }
        let mut blocks = Moments::default();
        let idx: Vec<usize> = (0..v.len()).collect();
        for chunk in idx.chunks(777) {
            blocks.push_block(&v, chunk);
        }
        assert_eq!((blocks.n, blocks.missing), (one.n, one.missing));
        assert_eq!((blocks.min, blocks.max), (one.min, one.max));
        // The reference: two passes over x - 1e9, which is exact (Sterbenz)
        // and well scaled.
        let d: Vec<f64> = v.iter().filter(|x| !x.is_nan()).map(|x| x - 1e9).collect();
        let mean_d = d.iter().sum::<f64>() / d.len() as f64;
        let m2: f64 = d.iter().map(|x| (x - mean_d) * (x - mean_d)).sum();
        let mean = 1e9 + mean_d;
        assert!(
            (blocks.mean - mean).abs() <= 1e-15 * mean,
            "{} {mean}",
            blocks.mean
        );
        // Spread / level = 3e-10 leaves about 7 digits in each value; both
        // updates keep the variance to better than 1e-6 relative, blocks at
        // least as well as one by one (Welford).
        assert!((blocks.m2 - m2).abs() <= 1e-7 * m2, "{} {m2}", blocks.m2);
        assert!((blocks.m2 - m2).abs() <= (one.m2 - m2).abs());
        assert!((one.m2 - m2).abs() <= 1e-6 * m2, "{} {m2}", one.m2);
        // The population variance of U(0, 1) is 1/12.
        assert!((one.m2 / one.n as f64 - 1.0 / 12.0).abs() < 0.01);
    }
}
