//! Progress reporting: a trait the library calls and the CLI implements
//! (with indicatif on a terminal, nothing elsewhere). The library never
//! prints.

/// Progress of a long step, in bytes or rows.
pub trait Progress: Sync {
    /// A step starts; `total` is its size when known.
    fn start(&self, label: &str, total: Option<u64>);
    /// The step has reached `pos` (same unit as `total`).
    fn set_position(&self, pos: u64);
    /// Rows read so far in this step (for a rows-per-second figure).
    fn set_rows(&self, _rows: u64) {}
    /// The step is over.
    fn finish(&self);
}

/// Progress that shows nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&self, _: &str, _: Option<u64>) {}
    fn set_position(&self, _: u64) {}
    fn finish(&self) {}
}
