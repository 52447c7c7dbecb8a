//! A spill file: parsed tables written once in binary and read back in
//! order, so that a second pass over a large CSV costs a sequential read of
//! numbers instead of a second parse.
//!
//! The file is anonymous ([`tempfile::tempfile`]: created in the temporary
//! folder, `TMPDIR`, and unlinked at once), so nothing is left behind
//! whatever happens to the process. Values are stored bit for bit, as they
//! lie in memory (the file never leaves this process), so the second pass sees exactly the numbers the first one did.
//!
//! Per table: the row count; the target; per feature column a tag and either
//! the values or the levels and codes; and the line numbers (the first one
//! alone when they are consecutive).

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};

use super::table::{Column, Table};

/// Writes tables to an anonymous temporary file.
pub struct SpillWriter {
    out: BufWriter<File>,
    /// Bytes written so far.
    at: u64,
    /// Rows written so far.
    rows: u64,
    index: Vec<Place>,
}

/// Where a table lies in the file, and the rows before it.
#[derive(Debug, Clone, Copy)]
struct Place {
    offset: u64,
    row0: u64,
}

/// Reads back what a [`SpillWriter`] wrote: in order ([`Self::next_into`]),
/// or any table by its place ([`Self::read_table`], positioned reads, so
/// that several threads read tables of their own at once).
pub struct SpillReader {
    file: File,
    index: Vec<Place>,
    next: usize,
    origin: String,
    feature_names: Vec<String>,
}

impl SpillWriter {
    /// A new spill file in the temporary folder.
    ///
    /// # Errors
    /// When the temporary folder cannot hold a file.
    pub fn new() -> std::io::Result<SpillWriter> {
        Ok(SpillWriter {
            out: BufWriter::with_capacity(1 << 20, tempfile::tempfile()?),
            at: 0,
            rows: 0,
            index: Vec::new(),
        })
    }

    /// Write `bytes` (large ones bypass the buffer: no copy in this process).
    fn put(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.out.write_all(bytes)?;
        self.at += bytes.len() as u64;
        Ok(())
    }

    /// Append `t`.
    ///
    /// # Errors
    /// When the file cannot be written (a full disk).
    pub fn push(&mut self, t: &Table) -> std::io::Result<()> {
        let n = t.target.len();
        self.index.push(Place {
            offset: self.at,
            row0: self.rows,
        });
        self.put(&(n as u64).to_le_bytes())?;
        // Numbers go out as they lie in memory.
        self.put(bytemuck::cast_slice(&t.target))?;
        for c in &t.features {
            match c {
                Column::Numeric(v) => {
                    self.put(&[0])?;
                    self.put(bytemuck::cast_slice(v))?;
                }
                Column::Categorical { codes, levels } => {
                    self.put(&[1])?;
                    self.put(&(levels.len() as u64).to_le_bytes())?;
                    for l in levels {
                        self.put(&(l.len() as u64).to_le_bytes())?;
                        self.put(l.as_bytes())?;
                    }
                    self.put(bytemuck::cast_slice(codes))?;
                }
            }
        }
        // Line numbers: usually consecutive, then the first one says all.
        let first = t.lines.first().copied().unwrap_or(0);
        let consecutive = t.lines.iter().zip(first..).all(|(l, k)| *l == k);
        self.put(&[u8::from(consecutive)])?;
        if consecutive {
            self.put(&first.to_le_bytes())?;
        } else {
            self.put(bytemuck::cast_slice(&t.lines))?;
        }
        self.rows += n as u64;
        Ok(())
    }

    /// Finish writing and read from the start; `origin` and
    /// `feature_names` are given to every table read back.
    ///
    /// # Errors
    /// When the file cannot be flushed.
    pub fn into_reader(
        self,
        origin: String,
        feature_names: Vec<String>,
    ) -> std::io::Result<SpillReader> {
        Ok(SpillReader {
            file: self.out.into_inner().map_err(|e| e.into_error())?,
            index: self.index,
            next: 0,
            origin,
            feature_names,
        })
    }
}

/// Reads from a fixed offset of a file on, with positioned reads (the file
/// has no cursor of its own to share).
struct At<'f> {
    file: &'f File,
    pos: u64,
}

impl Read for At<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        #[cfg(unix)]
        let n = std::os::unix::fs::FileExt::read_at(self.file, buf, self.pos)?;
        #[cfg(windows)]
        let n = std::os::windows::fs::FileExt::seek_read(self.file, buf, self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl SpillReader {
    /// Read from the start again.
    pub fn rewind(&mut self) {
        self.next = 0;
    }

    /// How many tables the file holds.
    #[must_use]
    pub fn tables(&self) -> usize {
        self.index.len()
    }

    /// How many rows the tables before table `i` hold.
    #[must_use]
    pub fn row0(&self, i: usize) -> u64 {
        self.index.get(i).map_or(0, |p| p.row0)
    }

    /// The next table, or `None` after the last.
    ///
    /// # Errors
    /// When the file cannot be read back.
    pub fn next_table(&mut self) -> std::io::Result<Option<Table>> {
        let mut t = Table::default();
        Ok(self.next_into(&mut t)?.then_some(t))
    }

    /// Read the next table into `t` ([`Self::read_table`]); `false`, with
    /// `t` untouched, after the last.
    ///
    /// # Errors
    /// When the file cannot be read back.
    pub fn next_into(&mut self, t: &mut Table) -> std::io::Result<bool> {
        if self.next >= self.index.len() {
            return Ok(false);
        }
        self.read_table(self.next, t)?;
        self.next += 1;
        Ok(true)
    }

    /// Read table `i` into `t`, reusing its vectors: a table handed back
    /// after use is refilled by the read alone (the file's bytes go
    /// straight into its columns, no allocation, no second copy).
    ///
    /// # Errors
    /// When the file cannot be read back, or holds no table `i`.
    pub fn read_table(&self, i: usize, t: &mut Table) -> std::io::Result<()> {
        let place = self.index.get(i).ok_or_else(corrupt)?;
        if t.origin != self.origin {
            t.origin.clone_from(&self.origin);
        }
        if t.feature_names != self.feature_names {
            t.feature_names.clone_from(&self.feature_names);
        }
        t.sources.clear();
        // Small: the columns are read past it, straight into their vectors.
        let r = &mut BufReader::with_capacity(
            16 << 10,
            At {
                file: &self.file,
                pos: place.offset,
            },
        );
        let n = usize::try_from(get_u64(r)?).map_err(|_| corrupt())?;
        read_pods(r, &mut t.target, n)?;
        let p = self.feature_names.len();
        t.features.truncate(p);
        t.features.resize_with(p, || Column::Numeric(Vec::new()));
        for slot in &mut t.features {
            let old = std::mem::replace(slot, Column::Numeric(Vec::new()));
            *slot = if get_bytes(r, 1)?[0] == 0 {
                let mut v = match old {
                    Column::Numeric(v) => v,
                    Column::Categorical { .. } => Vec::new(),
                };
                read_pods(r, &mut v, n)?;
                Column::Numeric(v)
            } else {
                let k = usize::try_from(get_u64(r)?).map_err(|_| corrupt())?;
                let mut levels = Vec::with_capacity(k);
                for _ in 0..k {
                    let len = usize::try_from(get_u64(r)?).map_err(|_| corrupt())?;
                    let bytes = get_bytes(r, len)?;
                    levels.push(String::from_utf8(bytes).map_err(|_| corrupt())?);
                }
                let mut codes = match old {
                    Column::Categorical { codes, .. } => codes,
                    Column::Numeric(_) => Vec::new(),
                };
                read_pods(r, &mut codes, n)?;
                Column::Categorical { codes, levels }
            };
        }
        if get_bytes(r, 1)?[0] == 1 {
            let first = get_u64(r)?;
            t.lines.clear();
            t.lines.extend((first..).take(n));
        } else {
            read_pods(r, &mut t.lines, n)?;
        }
        Ok(())
    }
}

fn corrupt() -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, "the spill file is corrupt")
}

fn get_bytes(r: &mut impl Read, n: usize) -> std::io::Result<Vec<u8>> {
    let mut b = vec![0u8; n];
    r.read_exact(&mut b)?;
    Ok(b)
}

fn get_u64(r: &mut impl Read) -> std::io::Result<u64> {
    let mut b = [0u8; 8];
    r.read_exact(&mut b)?;
    Ok(u64::from_le_bytes(b))
}

/// `n` plain values of `T` (numbers, codes, line numbers; native byte
/// order: the file never leaves this process) into `v`, read straight
/// into its memory: only a vector that grows is zero-filled first, so a
/// reused one costs the read alone.
fn read_pods<T: bytemuck::Pod>(r: &mut impl Read, v: &mut Vec<T>, n: usize) -> std::io::Result<()> {
    v.resize(n, T::zeroed());
    r.read_exact(bytemuck::cast_slice_mut(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_come_back_bit_for_bit_in_order() {
        let t1 = Table {
            origin: "a.csv".into(),
            feature_names: vec!["x".into(), "c".into()],
            features: vec![
                Column::Numeric(vec![0.1, f64::NAN, -0.0, 1e308]),
                Column::Categorical {
                    codes: vec![0, 1, super::super::MISSING_LEVEL, 0],
                    levels: vec!["ä".into(), String::new()],
                },
            ],
            target: vec![1.0, 2.0, 3.0, f64::MIN_POSITIVE],
            lines: vec![2, 3, 5, 6],
            sources: Vec::new(),
        };
        let t2 = Table {
            features: vec![
                Column::Numeric(vec![]),
                Column::Categorical {
                    codes: vec![],
                    levels: vec![],
                },
            ],
            target: vec![],
            lines: vec![],
            ..t1.clone()
        };
        let mut w = SpillWriter::new().unwrap();
        w.push(&t1).unwrap();
        w.push(&t2).unwrap();
        let mut r = w
            .into_reader("a.csv".into(), vec!["x".into(), "c".into()])
            .unwrap();
        let back = r.next_table().unwrap().unwrap();
        let bits = |t: &Table| match &t.features[0] {
            Column::Numeric(v) => v.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
            Column::Categorical { .. } => unreachable!(),
        };
        assert_eq!(bits(&back), bits(&t1));
        assert_eq!(back.target, t1.target);
        assert_eq!(back.lines, t1.lines);
        match (&back.features[1], &t1.features[1]) {
            (
                Column::Categorical { codes, levels },
                Column::Categorical {
                    codes: c2,
                    levels: l2,
                },
            ) => assert_eq!((codes, levels), (c2, l2)),
            _ => unreachable!(),
        }
        assert_eq!(r.next_table().unwrap().unwrap().target.len(), 0);
        assert!(r.next_table().unwrap().is_none());
    }

    #[test]
    fn a_reused_table_is_refilled_whole_at_any_place() {
        let big = Table {
            origin: "a.csv".into(),
            feature_names: vec!["x".into(), "c".into()],
            features: vec![
                Column::Numeric(vec![1.5; 100]),
                Column::Categorical {
                    codes: vec![0; 100],
                    levels: vec!["u".into()],
                },
            ],
            target: vec![7.0; 100],
            lines: (10..).take(100).collect(),
            sources: Vec::new(),
        };
        let small = Table {
            features: vec![
                Column::Numeric(vec![-0.0, 2.5, f64::NAN]),
                Column::Categorical {
                    codes: vec![1, super::super::MISSING_LEVEL, 0],
                    levels: vec!["v".into(), "w".into()],
                },
            ],
            target: vec![1.0, 0.0, 1.0],
            // Not consecutive: stored one by one.
            lines: vec![4, 9, 11],
            ..big.clone()
        };
        let mut w = SpillWriter::new().unwrap();
        w.push(&big).unwrap();
        w.push(&small).unwrap();
        let r = w
            .into_reader("a.csv".into(), vec!["x".into(), "c".into()])
            .unwrap();
        assert_eq!((r.tables(), r.row0(0), r.row0(1)), (2, 0, 100));
        let mut t = Table::default();
        // Backwards, into the table that held the larger one.
        r.read_table(0, &mut t).unwrap();
        r.read_table(1, &mut t).unwrap();
        let bits = |t: &Table| match &t.features[0] {
            Column::Numeric(v) => v.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
            Column::Categorical { .. } => unreachable!(),
        };
        assert_eq!(bits(&t), bits(&small));
        assert_eq!((&t.target, &t.lines), (&small.target, &small.lines));
        assert_eq!((t.origin.as_str(), t.feature_names.len()), ("a.csv", 2));
        match &t.features[1] {
            Column::Categorical { codes, levels } => {
                assert_eq!(codes, &[1, super::super::MISSING_LEVEL, 0]);
                assert_eq!(levels, &["v", "w"]);
            }
            Column::Numeric(_) => unreachable!(),
        }
        r.read_table(0, &mut t).unwrap();
        assert_eq!(t.lines, big.lines);
        assert!(r.read_table(2, &mut t).is_err());
    }
}
