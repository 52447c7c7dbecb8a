//! A warm start for the streaming classifier fit: a bounded, deterministic
//! sample of the training rows (every `stride`-th row, the stride doubling
//! whenever the sample fills), kept while the first pass reads the data,
//! and Newton's iteration run on it in memory. The full-data iteration then
//! starts there instead of at the class log odds: Newton converges
//! quadratically, so from a point a sample's standard error away from the
//! maximum two or three passes over the data remain instead of six or more.
//! The answer is still the full data's maximum: the start only changes how
//! many passes reach it (the stopping test is the same).

use ndarray::Array2;

use crate::error::Result;

use super::binary::{self, Scratch};
use super::logistic;
use super::softmax::{Accumulator, Layout};

/// At most this many design values are kept (32 MiB).
const CAP_VALUES: usize = 1 << 22;
/// At most one row in this many is kept, so that the sample stays a small
/// part of what is streamed (the memory test of `streamed`).
const MIN_STRIDE: u64 = 32;
/// Below this many sampled rows there is no warm start: the data are small
/// enough to iterate on whole, and a small sample can separate by chance.
const MIN_ROWS: usize = 10_000;

/// Every `stride`-th training row (design units) and its class.
pub struct Sample {
    p: usize,
    cap_rows: usize,
    stride: u64,
    seen: u64,
    x: Vec<f64>,
    y: Vec<usize>,
}

impl Sample {
    /// An empty sample of rows of `p` design columns.
    #[must_use]
    pub fn new(p: usize) -> Sample {
        Sample {
            p,
            cap_rows: (CAP_VALUES / p.max(1)).max(2),
            stride: MIN_STRIDE,
            seen: 0,
            x: Vec::new(),
            y: Vec::new(),
        }
    }

    /// Offer the next block of training rows.
    pub(super) fn push(&mut self, x: &[&[f64]], y: &[usize]) {
        let n = x.iter().fold(y.len(), |n, c| n.min(c.len()));
        self.push_with(x, n, |i| i, |r| y[r]);
    }

    /// Offer the next training rows: rows `rows` (ascending) of the block
    /// of columns `x`, row `r`'s class being `class(r)`. The same rows are
    /// kept as [`Sample::push`] of those rows alone would keep.
    pub fn push_rows(&mut self, x: &[&[f64]], rows: &[usize], class: impl Fn(usize) -> usize) {
        self.push_with(x, rows.len(), |i| rows[i], class);
    }

    /// Offer `n` rows, the `i`-th being row `row(i)` of the columns `x`,
    /// whose class is `class(row(i))`: straight to each row whose number
    /// (counted over every row offered) is a multiple of the stride.
    fn push_with(
        &mut self,
        x: &[&[f64]],
        n: usize,
        row: impl Fn(usize) -> usize,
        class: impl Fn(usize) -> usize,
    ) {
        let n = n as u64;
        let mut i = 0u64;
        while i < n {
            let skip = (self.stride - self.seen % self.stride) % self.stride;
            if i + skip >= n {
                self.seen += n - i;
                return;
            }
            i += skip;
            self.seen += skip;
            #[allow(clippy::cast_possible_truncation)]
            let r = row(i as usize);
            self.x.extend(x.iter().map(|c| c[r]));
            self.y.push(class(r));
            if self.y.len() >= self.cap_rows {
                self.thin();
            }
            self.seen += 1;
            i += 1;
        }
    }

    /// Call `f` with the sampled rows (design units) as columns, at most
    /// `rows` rows at a time.
    pub(super) fn columns(
        &self,
        rows: usize,
        f: &mut dyn FnMut(&[&[f64]]) -> Result<()>,
    ) -> Result<()> {
        let p = self.p;
        if p == 0 {
            return Ok(());
        }
        let mut cols = vec![Vec::with_capacity(rows); p];
        for part in self.x.chunks(rows.max(1) * p) {
            for (j, c) in cols.iter_mut().enumerate() {
                c.clear();
                c.extend(part.iter().skip(j).step_by(p));
            }
            let view: Vec<&[f64]> = cols.iter().map(Vec::as_slice).collect();
            f(&view)?;
        }
        Ok(())
    }

    /// Rename each sampled row's class `c` as `to(c)` (a first pass that
    /// met the labels before it knew the classes).
    pub fn relabel(&mut self, to: impl Fn(usize) -> usize) {
        self.y.iter_mut().for_each(|c| *c = to(*c));
    }

    /// Keep every other sampled row: row `i` of the sample is the data's row
    /// `i · stride`, so the kept ones are the multiples of twice the stride.
    fn thin(&mut self) {
        let p = self.p;
        let kept = self.y.len().div_ceil(2);
        for i in 0..kept {
            self.y[i] = self.y[2 * i];
            self.x.copy_within(2 * i * p..(2 * i + 1) * p, i * p);
        }
        self.y.truncate(kept);
        self.x.truncate(kept * p);
        self.stride *= 2;
    }

    /// Newton's iteration on the sample, standardised by `(means, scales)`,
    /// from `start`, with the penalty scaled to the sample's share of the
    /// `n` rows; `None` (start from `start` on the full data) when the
    /// sample is small or its fit fails or does not converge.
    pub(super) fn warm_start(
        mut self,
        layout: Layout,
        (penalty, max_iter): (&[f64], u64),
        (means, scales): (&[f64], &[f64]),
        n: u64,
        start: &Array2<f64>,
        names: &[String],
    ) -> Option<Array2<f64>> {
        let rows = self.y.len();
        if rows < MIN_ROWS || n == 0 {
            return None;
        }
        #[allow(clippy::cast_precision_loss)]
        let share = rows as f64 / n as f64;
        let penalty: Vec<f64> = penalty.iter().map(|l| l * share).collect();
        let (y, p) = (&self.y, self.p);
        // Two classes: summed a block at a time, column-major, standardised
        // as they are read (`binary`); else row by row, standardised here.
        let binary = Accumulator::new(layout, start.clone()).is_binary();
        let columns: Vec<Vec<f64>> = if binary {
            let x = std::mem::take(&mut self.x);
            (0..p)
                .map(|j| x.iter().skip(j).step_by(p).copied().collect())
                .collect()
        } else {
            for row in self.x.chunks_exact_mut(p) {
                for (j, v) in row.iter_mut().enumerate() {
                    *v = (*v - means[j]) / scales[j];
                }
            }
            Vec::new()
        };
        let columns: Vec<&[f64]> = columns.iter().map(Vec::as_slice).collect();
        let x = &self.x;
        let mut scratch = Scratch::default();
        let mut eval = |theta: &Array2<f64>| -> Result<Accumulator> {
            let mut acc = Accumulator::new(layout, theta.clone());
            if binary {
                binary::add_block(&mut acc, &columns, y, (means, scales), &mut scratch);
                return Ok(acc);
            }
            for (row, &c) in x.chunks_exact(p).zip(y) {
                acc.add(row, c);
            }
            Ok(acc)
        };
        let (theta, conv) = logistic::newton(
            layout,
            &penalty,
            start.clone(),
            max_iter,
            false,
            names,
            &mut eval,
        )
        .ok()?;
        let free = layout.free();
        let tame = free
            .iter()
            .filter(|(_, j)| *j > 0)
            .all(|&(c, j)| theta[[c, j]].abs() <= logistic::DIVERGING);
        (conv.converged && tame).then_some(theta)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sample_is_every_strideth_row_and_stays_bounded() {
        let mut s = Sample::new(2);
        s.cap_rows = 4;
        let x: Vec<Vec<f64>> = (0..2)
            .map(|j| (0..1000).map(|i| (2 * i + j) as f64).collect())
            .collect();
        let y: Vec<usize> = (0..1000).map(|i| i % 2).collect();
        for start in (0..1000).step_by(7) {
            let end = (start + 7).min(1000);
            let block: Vec<&[f64]> = x.iter().map(|c| &c[start..end]).collect();
            s.push(&block, &y[start..end]);
        }
        assert!(s.y.len() < 4 && s.stride > MIN_STRIDE);
        for (i, row) in s.x.chunks_exact(2).enumerate() {
            let r = i as u64 * s.stride;
            assert_eq!(row, [2.0 * r as f64, 2.0 * r as f64 + 1.0]);
            assert_eq!(s.y[i], (r % 2) as usize);
        }
        assert_eq!(s.x.len(), 2 * s.y.len());
    }

    #[test]
    fn rows_picked_from_blocks_are_sampled_as_those_rows_alone() {
        let x: Vec<f64> = (0..5000).map(f64::from).collect();
        let y: Vec<usize> = (0..5000).map(|i| i % 3).collect();
        let (mut whole, mut picked) = (Sample::new(1), Sample::new(1));
        whole.cap_rows = 40;
        picked.cap_rows = 40;
        let kept: Vec<usize> = (0..5000).filter(|i| i % 5 != 2).collect();
        let xs: Vec<f64> = kept.iter().map(|&i| x[i]).collect();
        let ys: Vec<usize> = kept.iter().map(|&i| y[i]).collect();
        whole.push(&[&xs], &ys);
        for start in (0..5000).step_by(333) {
            let end = (start + 333).min(5000);
            let rows: Vec<usize> = (0..end - start).filter(|r| (start + r) % 5 != 2).collect();
            picked.push_rows(&[&x[start..end]], &rows, |r| y[start + r] + 10);
        }
        picked.relabel(|c| c - 10);
        assert!(picked.stride > MIN_STRIDE && !picked.y.is_empty());
        assert_eq!(
            (picked.stride, &picked.x, &picked.y),
            (whole.stride, &whole.x, &whole.y)
        );
    }
}
