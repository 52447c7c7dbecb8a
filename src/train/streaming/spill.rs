//! The parsed rows of pass 1, kept for pass 2 in an anonymous temporary file
//! ([`crate::data::spill`], in `TMPDIR`, bit for bit), so that pass 2 reads numbers
//! back instead of parsing the CSV again; when the temporary folder cannot
//! hold them, pass 2 parses the CSV again.

use std::sync::mpsc::{SyncSender, sync_channel};
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

    /// Hand every kept block to `f`, in file order, read back on its own
    /// thread while this one computes. `Ok(false)`, with nothing handed,
    /// when there is no spill to read back: the caller parses the CSV again.
    pub fn replay(
        &mut self,
        origin: &str,
        feature_names: &[String],
        f: &mut impl FnMut(Table) -> Result<()>,
    ) -> Result<bool> {
        if let Some(b) = self.writer.take() {
            self.reader = b.finish().and_then(|w| {
                w.into_reader(origin.to_owned(), feature_names.to_vec())
                    .ok()
            });
        } else if let Some(r) = &mut self.reader
            && r.rewind().is_err()
        {
            self.reader = None;
        }
        let Some(r) = self.reader.as_mut() else {
            return Ok(false);
        };
        // Read the spill on its own thread while this one computes.
        let (tx, rx) = std::sync::mpsc::sync_channel::<std::io::Result<Table>>(2);
        std::thread::scope(|s| -> Result<()> {
            s.spawn(move || {
                loop {
                    let next = match r.next_table() {
                        Ok(Some(t)) => Ok(t),
                        Ok(None) => return,
                        Err(e) => Err(e),
                    };
                    let failed = next.is_err();
                    if tx.send(next).is_err() || failed {
                        return;
                    }
                }
            });
            let tmp = std::env::temp_dir();
            // On an error this returns, dropping `rx`: the reader stops.
            for t in rx {
                f(t.map_err(|e| {
                    Error::usage(format!(
                        "cannot read back the temporary file of parsed rows in {} ({e}); set TMPDIR to a folder with room",
                        display_path(&tmp)
                    ))
                })?)?;
            }
            Ok(())
        })?;
        Ok(true)
    }
}
