//! ROC AUC and average precision of the streaming classifier: both need the
//! rows in order of score, so each ranked probability column is sorted on
//! disk. Rows are written, as they are scored, to an anonymous temporary
//! file (the true class and the ranked columns' probabilities); at the end
//! each column is sorted in runs of [`RUN`] rows (held in memory one at a
//! time), written to a second temporary file, and the runs are merged,
//! feeding the groups of tied scores, in decreasing order, to
//! [`Ranking`]: the same groups, so the same integers and the same sums as
//! the in-memory path's sort. Each row's score (what `serve` reports of it)
//! is kept too, and sorted the same way for its exact deciles (type 7, as
//! `model::stats::quantiles`). Memory: one run, and a small buffer per run.
//!
//! Two classes, when the caller has said how many rows will come (at most
//! [`MEMORY_ROWS`]): the ranked column is the score, so each row is one
//! 64-bit key (the score's bits, shifted, and the row's class in the last
//! bit) kept in memory, and at the end the keys are sorted (split at a
//! sampled median, both parts sorted at once on two threads, the upper part
//! visited while the lower one is sorted): the same groups of tied
//! scores in the same order, without the temporary files. There the
//! sorted scores also give their counts per bin of their own decile edges
//! (what pass 3 would count), so pass 3 need not read the rows again.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt;

use crate::error::{Error, Result, display_path};
use crate::stats::classification::{Ranking, Tally};

/// Rows sorted in memory at a time (16 MiB of scores and flags).
const RUN: usize = 1 << 20;

/// Bytes read at a time from each run while merging.
const RUN_BUFFER: usize = 1 << 14;

/// Rows at most ranked in memory (100 MB of keys).
const MEMORY_ROWS: u64 = 12_500_000;

/// What the ranking found.
#[derive(Debug, PartialEq)]
pub(super) struct Ranked {
    /// Per ranked column, `(ROC AUC, average precision)`.
    pub columns: Vec<(f64, f64)>,
    /// The scores' deciles (type 7).
    pub deciles: Vec<f64>,
    /// The scores per bin of `deciles`, counted as pass 3 counts them
    /// (`bins::count`), when they were ranked in memory.
    pub bins: Option<Vec<u64>>,
}

/// The scored rows so far, on disk.
pub(super) struct Ranks {
    /// Rows sorted in memory at a time ([`RUN`]).
    run: usize,
    columns: std::ops::Range<usize>,
    out: Option<BufWriter<File>>,
    rows: u64,
    /// In memory (binary, the score the ranked column): per row
    /// `bits << 1 | hit`, within the capacity reserved.
    keys: Option<Vec<u64>>,
}

/// The error of a temporary file that failed.
fn tmp_error(e: &std::io::Error) -> Error {
    Error::usage(format!(
        "cannot write or read the temporary file of scored rows in {} ({e}); set TMPDIR to a folder with room",
        display_path(&std::env::temp_dir())
    ))
}

/// A key whose order as an unsigned integer is `f64::total_cmp`'s.
fn key(x: f64) -> u64 {
    let b = x.to_bits();
    if b >> 63 == 1 { !b } else { b | (1 << 63) }
}

impl Ranks {
    /// No rows yet, of `k` classes.
    pub fn new(k: usize) -> Ranks {
        Ranks {
            run: RUN,
            columns: Tally::ranked_columns(k),
            out: None,
            rows: 0,
            keys: None,
        }
    }

    /// Expect about `rows` rows: with two classes and few enough rows, they
    /// are ranked in memory (a row that does not fit moves them to disk).
    pub fn reserve(&mut self, rows: u64) {
        if self.columns.len() == 1 && self.rows == 0 && rows > 0 && rows <= MEMORY_ROWS {
            self.keys = usize::try_from(rows).ok().map(Vec::with_capacity);
        }
    }

    /// Add a row: its true class, its `k` probabilities and its score.
    pub fn push(&mut self, t: usize, prob: &[f64], score: f64) -> Result<()> {
        if let Some(keys) = &mut self.keys {
            let c = self.columns.start;
            let bits = prob[c].to_bits();
            // A non-negative number's bits, shifted, keep its order.
            if keys.len() < keys.capacity() && bits == score.to_bits() && bits >> 63 == 0 {
                keys.push((bits << 1) | u64::from(t == c));
                self.rows += 1;
                return Ok(());
            }
            self.move_to_disk()?;
        }
        self.push_disk(t, prob, score)
    }

    /// Move the rows kept in memory to the file, as `push` writes them.
    fn move_to_disk(&mut self) -> Result<()> {
        let Some(keys) = self.keys.take() else {
            return Ok(());
        };
        let c = self.columns.start;
        let rows = self.rows;
        self.rows = 0;
        for k in keys {
            let x = f64::from_bits(k >> 1);
            // Two classes: a row not of class `c` is of the other one.
            let t = if k & 1 == 1 { c } else { 1 - c };
            let mut prob = [0.0; 2];
            prob[c] = x;
            self.push_disk(t, &prob, x)?;
        }
        debug_assert_eq!(self.rows, rows);
        Ok(())
    }

    /// Add a row to the file.
    fn push_disk(&mut self, t: usize, prob: &[f64], score: f64) -> Result<()> {
        if self.out.is_none() {
            let f = tempfile::tempfile().map_err(|e| tmp_error(&e))?;
            self.out = Some(BufWriter::with_capacity(1 << 16, f));
        }
        let out = self.out.as_mut().unwrap_or_else(|| unreachable!());
        #[allow(clippy::cast_possible_truncation)]
        let mut write = || -> std::io::Result<()> {
            out.write_all(&(t as u32).to_le_bytes())?;
            for c in self.columns.clone() {
                out.write_all(&prob[c].to_le_bytes())?;
            }
            out.write_all(&score.to_le_bytes())
        };
        write().map_err(|e| tmp_error(&e))?;
        self.rows += 1;
        Ok(())
    }

    /// `(ROC AUC, average precision)` of each ranked column, given the rows
    /// per class, and the deciles of the scores.
    pub fn finish(self, counts: &[u64]) -> Result<Ranked> {
        if let Some(keys) = self.keys {
            return Ok(in_memory(keys, self.columns.start, counts));
        }
        let Some(out) = self.out else {
            return Ok(Ranked {
                columns: Vec::new(),
                deciles: Vec::new(),
                bins: None,
            });
        };
        let mut file = out.into_inner().map_err(|e| tmp_error(e.error()))?;
        let n: u64 = counts.iter().sum();
        let mut runs = tempfile::tempfile().map_err(|e| tmp_error(&e))?;
        // The ranked columns, then the score.
        let width = self.columns.len() + 1;
        let (rows, run) = (self.rows, self.run);
        let mut sort = |slot: usize, c: usize, visit: &mut dyn FnMut(u64, bool)| -> Result<()> {
            file.seek(SeekFrom::Start(0)).map_err(|e| tmp_error(&e))?;
            let starts = sorted_runs(&mut file, &mut runs, (width, slot, c), rows, run)
                .map_err(|e| tmp_error(&e))?;
            merge(&runs, &starts, rows, visit).map_err(|e| tmp_error(&e))
        };
        let mut ranked = Vec::with_capacity(width - 1);
        for (slot, c) in self.columns.clone().enumerate() {
            let mut r = Ranking::new(counts[c], n - counts[c]);
            let mut groups = Groups::default();
            sort(slot, c, &mut |k, hit| groups.add(k, hit, &mut r))?;
            groups.end(&mut r);
            ranked.push(r.finish());
        }
        let mut deciles = Deciles::new(rows);
        sort(width - 1, usize::MAX, &mut |k, _| deciles.add(k))?;
        Ok(Ranked {
            columns: ranked,
            deciles: deciles.finish(),
            bins: None,
        })
    }
}

/// Keys ranked in memory are split at a pivot into a lower and an upper
/// part sorted on two threads ([`split_at_pivot`]); below this many, one
/// sort.
const SPLIT_MIN: usize = 1024;

/// The ranking of column `c` and the deciles of the scores, from the keys
/// kept in memory: split at a pivot into the keys below it and the rest,
/// both parts sorted at once on two threads; the upper part is visited from
/// the top while the lower one is still being sorted, then the lower one:
/// every key in decreasing order, each handed on in [`key`]'s form.
fn in_memory(mut keys: Vec<u64>, c: usize, counts: &[u64]) -> Ranked {
    let n: u64 = counts.iter().sum();
    let total = keys.len() as u64;
    let mid = split_at_pivot(&mut keys);
    let (low, high) = keys.split_at_mut(mid);
    let mut r = Ranking::new(counts[c], n - counts[c]);
    let mut groups = Groups::default();
    let mut deciles = Deciles::new(total);
    let mut visit = |part: &[u64]| {
        for &k in part.iter().rev() {
            let kk = key(f64::from_bits(k >> 1));
            groups.add(kk, k & 1 == 1, &mut r);
            deciles.add(kk);
        }
    };
    std::thread::scope(|s| {
        let lower = s.spawn(move || {
            low.sort_unstable();
            low
        });
        high.sort_unstable();
        visit(high);
        match lower.join() {
            Ok(low) => visit(low),
            Err(e) => std::panic::resume_unwind(e),
        }
    });
    groups.end(&mut r);
    let deciles = deciles.finish();
    let (low, high) = keys.split_at(mid);
    Ranked {
        columns: vec![r.finish()],
        bins: bin_counts([low, high], &deciles),
        deciles,
    }
}

/// Move the keys below a pivot (the median of 255 evenly spaced keys) to
/// the front, returning how many there are: every key of the front is
/// below every key of the rest. 0 below [`SPLIT_MIN`] keys.
fn split_at_pivot(keys: &mut [u64]) -> usize {
    let n = keys.len();
    if n < SPLIT_MIN {
        return 0;
    }
    let mut sample: Vec<u64> = (0..255).map(|i| keys[i * n / 255]).collect();
    sample.sort_unstable();
    let pivot = sample[127];
    // keys[..mid] are below the pivot and keys[mid..i] are not: each key
    // is swapped to `mid`, which advances past it when it is below (no
    // branch, so no mispredicted one).
    let mut mid = 0;
    for i in 0..n {
        keys.swap(i, mid);
        mid += usize::from(keys[mid] < pivot);
    }
    mid
}

/// The scores of the ascending `halves` (keys as [`Ranks::push`] keeps
/// them) per bin of the ascending `edges`: bin `b` holds the scores above
/// exactly `b` edges (`bins::count`'s bins), NaNs in none. `None` when the
/// edges do not ascend.
fn bin_counts(halves: [&[u64]; 2], edges: &[f64]) -> Option<Vec<u64>> {
    if !edges.is_sorted_by(|a, b| a <= b) {
        return None;
    }
    let score = |k: u64| f64::from_bits(k >> 1);
    // A NaN's bits are above every number's: they sort last.
    let at_most = |e: f64| -> u64 {
        halves
            .iter()
            .map(|h| h.partition_point(|&k| score(k) <= e) as u64)
            .sum()
    };
    let numbers: u64 = halves
        .iter()
        .map(|h| h.partition_point(|&k| !score(k).is_nan()) as u64)
        .sum();
    let mut counts = Vec::with_capacity(edges.len() + 1);
    let mut below = 0;
    for &e in edges {
        let upto = at_most(e);
        counts.push(upto - below);
        below = upto;
    }
    counts.push(numbers - below);
    Some(counts)
}

/// The groups of tied keys of a decreasing stream, handed to a [`Ranking`].
#[derive(Default)]
struct Groups {
    current: Option<(u64, u64, u64)>,
}

impl Groups {
    fn add(&mut self, k: u64, hit: bool, r: &mut Ranking) {
        match &mut self.current {
            Some((last, p, q)) if *last == k => {
                if hit {
                    *p += 1
                } else {
                    *q += 1
                }
            }
            _ => {
                self.end(r);
                self.current = Some((k, u64::from(hit), u64::from(!hit)));
            }
        }
    }

    fn end(&mut self, r: &mut Ranking) {
        if let Some((_, p, q)) = self.current.take() {
            r.group(p, q);
        }
    }
}

/// The type-7 deciles of a decreasing stream of `n` keys.
struct Deciles {
    n: u64,
    seen: u64,
    /// The ascending ranks needed, and their values once met.
    wanted: Vec<(u64, f64)>,
    /// How many of `wanted` (the lowest) are not met yet.
    ahead: usize,
}

const DECILES: [f64; 9] = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];

impl Deciles {
    #[allow(
        clippy::cast_precision_loss,
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss
    )]
    fn new(n: u64) -> Deciles {
        let mut wanted = Vec::new();
        if n > 0 {
            for q in DECILES {
                let lo = ((n - 1) as f64 * q).floor() as u64;
                wanted.push((lo, f64::NAN));
                if lo + 1 < n {
                    wanted.push((lo + 1, f64::NAN));
                }
            }
        }
        wanted.sort_by_key(|w| w.0);
        wanted.dedup_by_key(|w| w.0);
        Deciles {
            n,
            seen: 0,
            ahead: wanted.len(),
            wanted,
        }
    }

    fn add(&mut self, k: u64) {
        let rank = self.n - 1 - self.seen;
        self.seen += 1;
        // Ranks come down one at a time: the next one wanted is the
        // highest not met yet.
        if let Some(w) = self.wanted[..self.ahead].last_mut()
            && w.0 == rank
        {
            w.1 = value(k);
            self.ahead -= 1;
        }
    }

    #[allow(
        clippy::cast_precision_loss,
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss
    )]
    fn finish(&self) -> Vec<f64> {
        if self.n == 0 {
            return Vec::new();
        }
        let at = |r: u64| {
            self.wanted
                .binary_search_by_key(&r, |w| w.0)
                .map_or(f64::NAN, |i| self.wanted[i].1)
        };
        DECILES
            .iter()
            .map(|&q| {
                let h = (self.n - 1) as f64 * q;
                let k = h.floor() as u64;
                let frac = h - k as f64;
                let a = at(k);
                if frac > 0.0 && k + 1 < self.n {
                    a + frac * (at(k + 1) - a)
                } else {
                    a
                }
            })
            .collect()
    }
}

/// The value whose [`key`] is `k`.
fn value(k: u64) -> f64 {
    f64::from_bits(if k >> 63 == 1 { k & !(1 << 63) } else { !k })
}

/// One sorted record: the score's key, and whether the row is of the class.
type Record = (u64, bool);

/// Sort column `slot` (class `c`) of the `rows` rows of `file` (`width`
/// columns) in runs of `size` rows, decreasing, written one after another to `runs`; the index
/// of each run's first record.
fn sorted_runs(
    file: &mut File,
    runs: &mut File,
    (width, slot, c): (usize, usize, usize),
    rows: u64,
    size: usize,
) -> std::io::Result<Vec<u64>> {
    runs.set_len(0)?;
    runs.seek(SeekFrom::Start(0))?;
    let mut input = BufReader::with_capacity(1 << 16, file);
    let mut output = BufWriter::with_capacity(1 << 16, &mut *runs);
    let mut record = vec![0u8; 4 + 8 * width];
    let mut run: Vec<Record> = Vec::with_capacity(size.min(usize::try_from(rows).unwrap_or(size)));
    let mut starts = Vec::new();
    let mut left = rows;
    let mut written = 0u64;
    while left > 0 {
        run.clear();
        while left > 0 && run.len() < size {
            input.read_exact(&mut record)?;
            let t = u32::from_le_bytes([record[0], record[1], record[2], record[3]]);
            let at = 4 + 8 * slot;
            let mut b = [0u8; 8];
            b.copy_from_slice(&record[at..at + 8]);
            run.push((key(f64::from_le_bytes(b)), t as usize == c));
            left -= 1;
        }
        run.sort_unstable_by_key(|r| Reverse(r.0));
        starts.push(written);
        for &(k, hit) in &run {
            output.write_all(&k.to_le_bytes())?;
            output.write_all(&[u8::from(hit)])?;
        }
        written += run.len() as u64;
    }
    output.flush()?;
    Ok(starts)
}

/// One run while merging: where it reads next, and what it holds.
struct Cursor {
    at: u64,
    end: u64,
    buf: Vec<u8>,
    pos: usize,
}

const RECORD: usize = 9;

impl Cursor {
    /// The next record, refilling the buffer from `f` when it is spent.
    fn next(&mut self, f: &File) -> std::io::Result<Option<Record>> {
        if self.pos == self.buf.len() {
            if self.at == self.end {
                return Ok(None);
            }
            let records = (self.end - self.at).min((RUN_BUFFER / RECORD) as u64);
            #[allow(clippy::cast_possible_truncation)]
            self.buf.resize(records as usize * RECORD, 0);
            f.read_exact_at(&mut self.buf, self.at * RECORD as u64)?;
            self.at += records;
            self.pos = 0;
        }
        let r = &self.buf[self.pos..self.pos + RECORD];
        self.pos += RECORD;
        let mut b = [0u8; 8];
        b.copy_from_slice(&r[..8]);
        Ok(Some((u64::from_le_bytes(b), r[8] == 1)))
    }
}

/// Merge the runs starting at `starts` (of `rows` records in all) in
/// decreasing order of score, handing each record to `visit`.
fn merge(
    f: &File,
    starts: &[u64],
    rows: u64,
    visit: &mut dyn FnMut(u64, bool),
) -> std::io::Result<()> {
    let mut cursors: Vec<Cursor> = starts
        .iter()
        .enumerate()
        .map(|(i, &at)| Cursor {
            at,
            end: starts.get(i + 1).copied().unwrap_or(rows),
            buf: Vec::new(),
            pos: 0,
        })
        .collect();
    let mut heap = BinaryHeap::with_capacity(cursors.len());
    for (i, c) in cursors.iter_mut().enumerate() {
        if let Some((k, hit)) = c.next(f)? {
            heap.push((k, hit, i));
        }
    }
    while let Some((k, hit, i)) = heap.pop() {
        visit(k, hit);
        if let Some((k, hit)) = cursors[i].next(f)? {
            heap.push((k, hit, i));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::classification::{average_precision, roc_auc};

    /// The next xorshift state's uniform number in [0, 1).
    fn next(state: &mut u64) -> f64 {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        #[allow(clippy::cast_precision_loss)]
        let u = (*state >> 11) as f64 / (1u64 << 53) as f64;
        u
    }

    /// The on-disk ranking equals the in-memory one, ties included, in one
    /// run and across several.
    #[test]
    fn equals_the_in_memory_ranking() {
        let n = 2 * 4096 + 1234;
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut prob = Vec::with_capacity(n * 3);
        let mut y = Vec::with_capacity(n);
        for i in 0..n {
            // Coarse scores (ties) on a third of the rows.
            let u = next(&mut state);
            let a = if i % 3 == 0 {
                (u * 50.0).floor() / 100.0
            } else {
                u * 0.5
            };
            let b = (1.0 - a) * u;
            prob.extend([a, b, 1.0 - a - b]);
            y.push(usize::try_from(state % 3).unwrap());
        }
        let mut counts = vec![0u64; 3];
        let mut r = Ranks::new(3);
        r.run = 4096;
        for (row, &t) in prob.chunks_exact(3).zip(&y) {
            counts[t] += 1;
            r.push(t, row, row[0]).unwrap();
        }
        let Ranked {
            columns: got,
            deciles,
            bins,
        } = r.finish(&counts).unwrap();
        assert_eq!(bins, None);
        let mut first: Vec<f64> = prob.iter().step_by(3).copied().collect();
        let want = crate::model::stats::quantiles(&mut first, &DECILES);
        assert_eq!(deciles, want);
        assert_eq!(got.len(), 3);
        for (c, g) in got.iter().enumerate() {
            let col: Vec<f64> = prob.iter().skip(c).step_by(3).copied().collect();
            let is: Vec<bool> = y.iter().map(|&t| t == c).collect();
            assert_eq!(g.0, roc_auc(&col, &is), "class {c}");
            assert_eq!(g.1, average_precision(&col, &is), "class {c}");
        }
    }

    /// The split puts every key below the pivot first, keeps every key,
    /// and leaves equal keys (one tie group) together.
    #[test]
    fn the_split_keeps_every_key_and_orders_the_parts() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        for n in [0, 5, SPLIT_MIN - 1, SPLIT_MIN, 10_000] {
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let mut keys: Vec<u64> = (0..n).map(|_| (next(&mut state) * 50.0) as u64).collect();
            let mut want = keys.clone();
            let mid = split_at_pivot(&mut keys);
            let (low, high) = keys.split_at(mid);
            let top = low.iter().max();
            assert!(top.is_none_or(|t| high.iter().all(|h| h > t)), "{n}");
            assert!(
                n < SPLIT_MIN || (mid > n / 4 && mid < 3 * n / 4),
                "{n}: {mid}"
            );
            keys.sort_unstable();
            want.sort_unstable();
            assert_eq!(keys, want);
        }
        let mut same = vec![7u64; 5000];
        assert_eq!(split_at_pivot(&mut same), 0);
    }

    /// Two classes ranked in memory equal the on-disk ranking and the
    /// in-memory path's functions, ties included; more rows than reserved
    /// move to disk with the same result.
    #[test]
    fn two_classes_in_memory_equal_the_disk_and_the_reference() {
        let n = 3 * 4096 + 77;
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let (mut score, mut y) = (Vec::with_capacity(n), Vec::with_capacity(n));
        for i in 0..n {
            let u = next(&mut state);
            // Coarse scores (ties) on half of the rows, zeros and ones too.
            score.push(match i % 4 {
                0 => (u * 20.0).floor() / 20.0,
                1 => u,
                2 => f64::from(u8::from(u > 0.5)),
                _ => u * u,
            });
            y.push(usize::from(u * 3.0 % 1.0 < 0.4 + 0.4 * u));
        }
        let counts = [
            y.iter().filter(|&&t| t == 0).count() as u64,
            y.iter().filter(|&&t| t == 1).count() as u64,
        ];
        let run = |reserve: u64| {
            let mut r = Ranks::new(2);
            r.run = 4096;
            r.reserve(reserve);
            for (&s, &t) in score.iter().zip(&y) {
                r.push(t, &[1.0 - s, s], s).unwrap();
            }
            r.finish(&counts).unwrap()
        };
        let disk = run(0);
        let memory = run(n as u64);
        let moved = run(n as u64 / 2);
        let without_bins = |r: &Ranked| (r.columns.clone(), r.deciles.clone());
        assert_eq!(without_bins(&memory), without_bins(&disk));
        assert_eq!(moved, disk);
        let is: Vec<bool> = y.iter().map(|&t| t == 1).collect();
        assert_eq!(memory.columns[0].0, roc_auc(&score, &is));
        assert_eq!(memory.columns[0].1, average_precision(&score, &is));
        let want = crate::model::stats::quantiles(&mut score.clone(), &DECILES);
        assert_eq!(memory.deciles, want);
        // The bins counted from the sorted scores are pass 3's.
        let mut want = vec![0u64; want.len() + 1];
        let role = vec![1u8; n];
        crate::train::streaming::bins::count(
            &memory.deciles,
            &mut want,
            &score,
            &role,
            &mut Vec::new(),
        );
        assert_eq!(memory.bins, Some(want));
    }
}
