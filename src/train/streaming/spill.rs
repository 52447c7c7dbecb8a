//! The parsed rows of pass 1, kept for pass 2 in an anonymous temporary file
//! ([`crate::data::spill`], in `TMPDIR`, bit for bit), so that pass 2 reads numbers
//! back instead of parsing the CSV again; when the temporary folder cannot
//! hold them, pass 2 parses the CSV again.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{SyncSender, sync_channel};
use std::sync::{Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;

use crate::data::Table;
use crate::data::spill::{SpillReader, SpillWriter};
use crate::error::{Error, Result, display_path};

/// The spill file while pass 1 writes it, or nothing once it could not.
pub(super) struct Spill {
    writer: Option<Background>,
    /// After the first replay: the file, read again by later ones.
    reader: Option<SpillReader>,
}

/// The spill file written on its own thread (pass 1 folds while the
/// blocks before go out): the blocks to write, and the writer, given back
/// at the end unless a write failed.
struct Background {
    blocks: SyncSender<Table>,
    thread: JoinHandle<Option<SpillWriter>>,
}

impl Background {
    fn start(mut w: SpillWriter) -> std::io::Result<Background> {
        // One block waits while one is written: memory stays bounded.
        let (blocks, rx) = sync_channel::<Table>(1);
        let thread = std::thread::Builder::new()
            .name("spill".into())
            .spawn(move || {
                for t in rx {
                    // A failed write drops `rx`: pass 1 sees it and stops.
                    w.push(&t).ok()?;
                }
                Some(w)
            })?;
        Ok(Background { blocks, thread })
    }

    /// Every block written, the writer (`None` after a failed write).
    fn finish(self) -> Option<SpillWriter> {
        drop(self.blocks);
        self.thread.join().ok().flatten()
    }
}

impl Spill {
    /// Open an anonymous spill file (none if the temporary folder refuses).
    pub fn open() -> Spill {
        Spill {
            writer: SpillWriter::new().and_then(Background::start).ok(),
            reader: None,
        }
    }

    /// Keep the parsed block `t` (written on the spill's thread); after a
    /// failed write, keep nothing more.
    pub fn keep(&mut self, t: Table) {
        if let Some(w) = &self.writer
            && w.blocks.send(t).is_err()
        {
            self.writer = None;
        }
    }

    /// The spill, ready to be read from the start, or `None` when there is
    /// none to read back.
    fn reader(&mut self, origin: &str, feature_names: &[String]) -> Option<&mut SpillReader> {
        if let Some(b) = self.writer.take() {
            self.reader = b.finish().and_then(|w| {
                w.into_reader(origin.to_owned(), feature_names.to_vec())
                    .ok()
            });
        }
        let r = self.reader.as_mut()?;
        r.rewind();
        Some(r)
    }

    /// Hand every kept block to `f`, in file order, read back on its own
    /// thread while this one computes (into the blocks `f` is done with:
    /// the reads allocate nothing after the first few). `Ok(false)`, with
    /// nothing handed, when there is no spill to read back: the caller
    /// parses the CSV again.
    pub fn replay(
        &mut self,
        origin: &str,
        feature_names: &[String],
        f: &mut impl FnMut(&mut Table) -> Result<()>,
    ) -> Result<bool> {
        let Some(r) = self.reader(origin, feature_names) else {
            return Ok(false);
        };
        // Read the spill on its own thread while this one computes; the
        // blocks come back to be refilled.
        let (tx, rx) = std::sync::mpsc::sync_channel::<std::io::Result<Table>>(2);
        let (done, used) = std::sync::mpsc::channel::<Table>();
        std::thread::scope(|s| -> Result<()> {
            s.spawn(move || {
                loop {
                    let mut t = used.try_recv().unwrap_or_default();
                    let next = match r.next_into(&mut t) {
                        Ok(true) => Ok(t),
                        Ok(false) => return,
                        Err(e) => Err(e),
                    };
                    let failed = next.is_err();
                    if tx.send(next).is_err() || failed {
                        return;
                    }
                }
            });
            // On an error this returns, dropping `rx`: the reader stops.
            for t in rx {
                let mut t = t.map_err(unreadable)?;
                f(&mut t)?;
                // The reader may have finished: then the block is dropped.
                let _ = done.send(t);
            }
            Ok(())
        })?;
        Ok(true)
    }

    /// Hand every kept block to `f` on two lanes at once, then what it
    /// made to `then` in block order: block `i` (its first row the files'
    /// row `row0`) to lane `i % 2`, each lane reading its own blocks
    /// (positioned reads) and computing them on a thread of its own, so two
    /// cores stay busy; `then` takes block `i` after block `i - 1`, on
    /// whichever lane computed it. After an error both lanes stop; the
    /// error of the earliest block is returned. `Ok(false)` as
    /// [`Self::replay`].
    pub fn replay_lanes<T>(
        &mut self,
        origin: &str,
        feature_names: &[String],
        f: &(dyn Fn(usize, u64, &mut Table) -> Result<T> + Sync),
        then: &mut Then<'_, T>,
    ) -> Result<bool> {
        let Some(r) = self.reader(origin, feature_names) else {
            return Ok(false);
        };
        let r: &SpillReader = r;
        let turns = Turns {
            next: Mutex::new((0, then)),
            changed: Condvar::new(),
            failed: AtomicUsize::new(usize::MAX),
        };
        let lane = |k: usize| -> std::result::Result<(), (usize, Error)> {
            // A lane that panics stops the other, which might otherwise
            // wait for ever for a turn the panicking lane would have taken.
            let _halt = HaltOnPanic(&turns);
            let mut t = Table::default();
            for i in (k..r.tables()).step_by(2) {
                // Blocks after a failed one are not made; those before it
                // are, in case one of them fails too.
                if i > turns.failed.load(Ordering::Relaxed) {
                    break;
                }
                let made = r
                    .read_table(i, &mut t)
                    .map_err(unreadable)
                    .and_then(|()| f(i, r.row0(i), &mut t));
                match made.map(|v| turns.take(i, &t, v)) {
                    Ok(Some(Ok(()))) => {}
                    // An earlier block failed: its lane reports it.
                    Ok(None) => break,
                    Ok(Some(Err(e))) | Err(e) => {
                        turns.halt(i);
                        return Err((i, e));
                    }
                }
            }
            Ok(())
        };
        let (first, second) = std::thread::scope(|s| {
            let other = s.spawn(|| lane(1));
            let first = lane(0);
            let second = other
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            (first, second)
        });
        match (first, second) {
            (Err((i, e)), Err((j, _))) if i < j => Err(e),
            (_, Err((_, e))) | (Err((_, e)), Ok(())) => Err(e),
            (Ok(()), Ok(())) => Ok(true),
        }
    }
}

/// What takes the lanes' blocks in order.
type Then<'a, T> = dyn FnMut(usize, &Table, T) -> Result<()> + Send + 'a;

/// The lanes' turns at `then`: the next block to take it, and the earliest
/// block that failed (no turn comes after it).
struct Turns<'t, T> {
    next: Mutex<(usize, &'t mut Then<'t, T>)>,
    changed: Condvar,
    failed: AtomicUsize,
}

impl<T> Turns<'_, T> {
    /// Block `i`'s turn at `then` with `v`, once block `i - 1` has had its
    /// own; `None` if an earlier block failed.
    fn take(&self, i: usize, t: &Table, v: T) -> Option<Result<()>> {
        let mut g = self.next.lock().unwrap_or_else(PoisonError::into_inner);
        while g.0 != i && i < self.failed.load(Ordering::Relaxed) {
            g = self.changed.wait(g).unwrap_or_else(PoisonError::into_inner);
        }
        if i > self.failed.load(Ordering::Relaxed) || g.0 != i {
            return None;
        }
        let done = (g.1)(i, t, v);
        g.0 += 1;
        drop(g);
        self.changed.notify_all();
        Some(done)
    }

    /// Block `i` failed: no block after it is made or taken; a lane
    /// waiting for such a turn wakes.
    fn halt(&self, i: usize) {
        // Under the lock: a lane about to wait sees it.
        let g = self.next.lock().unwrap_or_else(PoisonError::into_inner);
        self.failed.fetch_min(i, Ordering::Relaxed);
        drop(g);
        self.changed.notify_all();
    }
}

/// Stops the lanes when dropped by a panic.
struct HaltOnPanic<'a, 't, T>(&'a Turns<'t, T>);

impl<T> Drop for HaltOnPanic<'_, '_, T> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.halt(0);
        }
    }
}

/// The error of a spill that cannot be read back.
fn unreadable(e: std::io::Error) -> Error {
    Error::usage(format!(
        "cannot read back the temporary file of parsed rows in {} ({e}); set TMPDIR to a folder with room",
        display_path(&std::env::temp_dir())
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Column;

    /// A spill of `blocks` blocks; block `i` holds `i + 1` rows whose one
    /// feature is the block's index.
    fn spill_of(blocks: usize) -> Spill {
        let mut s = Spill::open();
        for i in 0..blocks {
            let n = i + 1;
            s.keep(Table {
                origin: "t.csv".into(),
                feature_names: vec!["x".into()],
                #[allow(clippy::cast_precision_loss)]
                features: vec![Column::Numeric(vec![i as f64; n])],
                target: vec![0.0; n],
                lines: (2..).take(n).collect(),
                sources: Vec::new(),
            });
        }
        s
    }

    fn names() -> Vec<String> {
        vec!["x".into()]
    }

    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    fn index_of(t: &Table) -> usize {
        match &t.features[0] {
            Column::Numeric(v) => v[0] as usize,
            Column::Categorical { .. } => usize::MAX,
        }
    }

    #[test]
    fn lanes_see_every_block_and_then_takes_them_in_order() {
        let mut s = spill_of(9);
        for _ in 0..2 {
            let mut order = Vec::new();
            let kept = s
                .replay_lanes(
                    "t.csv",
                    &names(),
                    &|i, row0, t| {
                        assert_eq!(index_of(t), i);
                        assert_eq!(row0, (i * (i + 1) / 2) as u64);
                        Ok((i, t.rows()))
                    },
                    &mut |i, t, made| {
                        assert_eq!(made, (i, t.rows()));
                        order.push(i);
                        Ok(())
                    },
                )
                .unwrap();
            assert!(kept);
            assert_eq!(order, (0..9).collect::<Vec<_>>());
        }
        // The in-order replay still reads the same blocks after them.
        let mut seen = Vec::new();
        s.replay("t.csv", &names(), &mut |t| {
            seen.push(index_of(t));
            Ok(())
        })
        .unwrap();
        assert_eq!(seen, (0..9).collect::<Vec<_>>());
    }

    #[test]
    fn the_earliest_failure_is_returned_and_no_lane_waits_for_ever() {
        for bad in 0..6 {
            let mut s = spill_of(6);
            let mut taken = Vec::new();
            let e = s
                .replay_lanes(
                    "t.csv",
                    &names(),
                    &|i, _, _| {
                        if i >= bad {
                            // Every later block fails too: the earliest wins.
                            return Err(Error::data(format!("block {i}")));
                        }
                        Ok(())
                    },
                    &mut |i, _, ()| {
                        taken.push(i);
                        Ok(())
                    },
                )
                .unwrap_err();
            assert_eq!(e.to_string(), format!("block {bad}"));
            assert!(taken.iter().all(|&i| i < bad), "{taken:?}");
        }
        // A failure in `then` stops the lanes as well.
        let mut s = spill_of(6);
        let e = s
            .replay_lanes("t.csv", &names(), &|_, _, _| Ok(()), &mut |i, _, ()| {
                if i == 3 {
                    return Err(Error::data("then 3"));
                }
                Ok(())
            })
            .unwrap_err();
        assert_eq!(e.to_string(), "then 3");
    }

    #[test]
    fn a_lane_that_panics_does_not_leave_the_other_waiting() {
        let mut s = spill_of(6);
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            s.replay_lanes(
                "t.csv",
                &names(),
                &|i, _, _| {
                    assert!(i != 2, "block 2");
                    Ok(())
                },
                &mut |_, _, ()| Ok(()),
            )
        }));
        // Reached at all: block 3's lane did not wait for block 2's turn.
        assert!(outcome.is_err());
    }

    #[test]
    fn without_a_spill_nothing_is_handed() {
        let mut s = Spill {
            writer: None,
            reader: None,
        };
        let kept = s
            .replay_lanes("t.csv", &names(), &|_, _, _| Ok(()), &mut |_, _, ()| {
                panic!("nothing to take")
            })
            .unwrap();
        assert!(!kept);
    }
}
