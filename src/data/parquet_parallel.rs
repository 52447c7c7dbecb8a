//! A Parquet file's row groups decoded on worker threads, the results
//! handed on in file order: the shape of the CSV pipeline (`parallel.rs`),
//! with row groups for chunks. Each worker takes the next row group, reads
//! its batches and converts each (into a table, say) on its own thread;
//! this thread takes the results of row group 0, then 1, and so on, so what
//! it folds is in the order of the file, as in a sequential read, and the
//! first error of the file is the one reported.
//!
//! Memory stays bounded: at most one row group per worker is in flight, and
//! the results decoded ahead of the row group being consumed hold at most
//! [`AHEAD`] bytes (the worker of that row group never waits, so the
//! pipeline always moves).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Condvar, Mutex, PoisonError};

use arrow_array::RecordBatch;

use super::parallel::parse_workers;
use super::parquet::ParquetFile;
use crate::error::{Error, Result};

/// The most bytes of batches decoded ahead of the row group being consumed.
const AHEAD: usize = 64 << 20;

/// A converted batch (or the first error of its row group), and the bytes
/// it holds against [`AHEAD`].
type Decoded<T> = (Result<T>, usize);

/// The bytes decoded ahead, and which row group is being consumed.
#[derive(Default)]
struct Budget {
    state: Mutex<(usize, usize, bool)>,
    changed: Condvar,
}

impl Budget {
    /// Wait until row group `g` may hold `bytes` more: at once when it is
    /// the one being consumed (or nothing is held), else once the bytes
    /// ahead leave room. `false` once the consumer has stopped.
    fn take(&self, g: usize, bytes: usize) -> bool {
        let mut s = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        while !s.2 && g != s.1 && s.0 > 0 && s.0 + bytes > AHEAD {
            s = self.changed.wait(s).unwrap_or_else(PoisonError::into_inner);
        }
        s.0 += bytes;
        !s.2
    }

    fn update(&self, f: impl FnOnce(&mut (usize, usize, bool))) {
        f(&mut self.state.lock().unwrap_or_else(PoisonError::into_inner));
        self.changed.notify_all();
    }
}

/// Decode the columns `columns` of `file` in batches of at most `batch`
/// rows on worker threads, `convert` each batch there (with its row group
/// and the 0-based file row of its first row), and hand the results to `f`
/// on this thread in file order.
pub(super) fn decode_in_parallel<T: Send>(
    file: &ParquetFile,
    columns: &[usize],
    batch: usize,
    convert: &(dyn Fn(RecordBatch, usize, u64) -> Result<T> + Sync),
    f: &mut dyn FnMut(T) -> Result<()>,
) -> Result<()> {
    let groups = file.row_groups();
    let mut firsts = Vec::with_capacity(groups);
    let mut senders = Vec::with_capacity(groups);
    let mut receivers = Vec::with_capacity(groups);
    let mut first = 0u64;
    for g in 0..groups {
        firsts.push(first);
        first += file.group_rows(g);
        let (tx, rx) = channel::<Decoded<T>>();
        senders.push(Some(tx));
        receivers.push(rx);
    }
    let senders = Mutex::new(senders);
    let next = AtomicUsize::new(0);
    let budget = Budget::default();
    let workers = parse_workers().min(groups.max(1));
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                while let Some((g, tx)) = take_group(&next, &senders) {
                    let job = Job {
                        file,
                        columns,
                        batch,
                        convert,
                        budget: &budget,
                    };
                    if !job.run(g, firsts[g], &tx) {
                        return;
                    }
                }
            });
        }
        let consumed = consume_in_order(receivers, &budget, f);
        budget.update(|s| s.2 = true);
        consumed
    })
}

/// The next row group to decode and the sender of its results.
fn take_group<T>(
    next: &AtomicUsize,
    senders: &Mutex<Vec<Option<Sender<T>>>>,
) -> Option<(usize, Sender<T>)> {
    let g = next.fetch_add(1, Ordering::SeqCst);
    let tx = senders
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get_mut(g)?
        .take()?;
    Some((g, tx))
}

/// What a worker needs to decode a row group.
struct Job<'a, T> {
    file: &'a ParquetFile,
    columns: &'a [usize],
    batch: usize,
    convert: &'a (dyn Fn(RecordBatch, usize, u64) -> Result<T> + Sync),
    budget: &'a Budget,
}

impl<T> Job<'_, T> {
    /// Decode row group `g` (its first row is file row `first`), sending
    /// each converted batch; `false` when the worker should stop (an error,
    /// sent, or the consumer gone).
    fn run(&self, g: usize, mut first: u64, tx: &Sender<Decoded<T>>) -> bool {
        let mut halted = false;
        let read = self
            .file
            .for_each_batch_of_group(g, self.columns, self.batch, &mut |b| {
                let bytes = b.get_array_memory_size();
                let rows = b.num_rows() as u64;
                if !self.budget.take(g, bytes) {
                    halted = true;
                    return Err(Error::data("stopped"));
                }
                let item = (self.convert)(b, g, first);
                first += rows;
                let failed = item.is_err();
                if tx.send((item, bytes)).is_err() || failed {
                    halted = true;
                    return Err(Error::data("stopped"));
                }
                Ok(())
            });
        match read {
            Ok(()) => true,
            Err(_) if halted => false,
            Err(e) => {
                let _ = tx.send((Err(e), 0));
                false
            }
        }
    }
}

/// Hand the results to `f` row group by row group, in file order, giving
/// their bytes back to the budget; stops at the first error, a batch's or
/// `f`'s (the receivers left are dropped: the workers stop).
fn consume_in_order<T>(
    receivers: Vec<Receiver<Decoded<T>>>,
    budget: &Budget,
    f: &mut dyn FnMut(T) -> Result<()>,
) -> Result<()> {
    for (g, rx) in receivers.into_iter().enumerate() {
        budget.update(|s| s.1 = g);
        for (item, bytes) in rx {
            let done = item.and_then(&mut *f);
            budget.update(|s| s.0 -= bytes);
            done?;
        }
    }
    Ok(())
}
