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
use std::io::{BufRead, BufReader, BufWriter, Read, Seek, SeekFrom, Write};

use super::table::{Column, Table};

/// Writes tables to an anonymous temporary file.
pub struct SpillWriter {
    out: BufWriter<File>,
    tables: u64,
}

/// Reads back what a [`SpillWriter`] wrote, in order.
pub struct SpillReader {
    input: BufReader<File>,
    left: u64,
    total: u64,
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
            tables: 0,
        })
    }

    /// Append `t`.
    ///
    /// # Errors
    /// When the file cannot be written (a full disk).
    pub fn push(&mut self, t: &Table) -> std::io::Result<()> {
        let n = t.target.len();
        let out = &mut self.out;
        out.write_all(&(n as u64).to_le_bytes())?;
        // Numbers go out as they lie in memory (large writes bypass the
        // buffer): no copy in this process.
        out.write_all(bytemuck::cast_slice(&t.target))?;
        for c in &t.features {
            match c {
                Column::Numeric(v) => {
                    out.write_all(&[0])?;
                    out.write_all(bytemuck::cast_slice(v))?;
                }
                Column::Categorical { codes, levels } => {
                    out.write_all(&[1])?;
                    out.write_all(&(levels.len() as u64).to_le_bytes())?;
                    for l in levels {
                        out.write_all(&(l.len() as u64).to_le_bytes())?;
                        out.write_all(l.as_bytes())?;
                    }
                    out.write_all(bytemuck::cast_slice(codes))?;
                }
            }
        }
        // Line numbers: usually consecutive, then the first one says all.
        let first = t.lines.first().copied().unwrap_or(0);
        let consecutive = t.lines.iter().zip(first..).all(|(l, k)| *l == k);
        out.write_all(&[u8::from(consecutive)])?;
        if consecutive {
            out.write_all(&first.to_le_bytes())?;
        } else {
            out.write_all(bytemuck::cast_slice(&t.lines))?;
        }
        self.tables += 1;
        Ok(())
    }

    /// Finish writing and read from the start; `origin` and
    /// `feature_names` are given to every table read back.
    ///
    /// # Errors
    /// When the file cannot be flushed or rewound.
    pub fn into_reader(
        self,
        origin: String,
        feature_names: Vec<String>,
    ) -> std::io::Result<SpillReader> {
        let mut f = self.out.into_inner().map_err(|e| e.into_error())?;
        f.seek(SeekFrom::Start(0))?;
        Ok(SpillReader {
            input: BufReader::with_capacity(1 << 20, f),
            left: self.tables,
            total: self.tables,
            origin,
            feature_names,
        })
    }
}

impl SpillReader {
    /// Read from the start again.
    ///
    /// # Errors
    /// When the file cannot be rewound.
    pub fn rewind(&mut self) -> std::io::Result<()> {
        self.input.seek(SeekFrom::Start(0))?;
        self.left = self.total;
        Ok(())
    }

    /// The next table, or `None` after the last.
    ///
    /// # Errors
    /// When the file cannot be read back.
    pub fn next_table(&mut self) -> std::io::Result<Option<Table>> {
        if self.left == 0 {
            return Ok(None);
        }
        self.left -= 1;
        let r = &mut self.input;
        let n = usize::try_from(get_u64(r)?).map_err(|_| corrupt())?;
        let target = get_pods::<f64>(r, n)?;
        let mut features = Vec::with_capacity(self.feature_names.len());
        for _ in 0..self.feature_names.len() {
            let tag = get_bytes(r, 1)?[0];
            features.push(if tag == 0 {
                Column::Numeric(get_pods::<f64>(r, n)?)
            } else {
                let k = usize::try_from(get_u64(r)?).map_err(|_| corrupt())?;
                let mut levels = Vec::with_capacity(k);
                for _ in 0..k {
                    let len = usize::try_from(get_u64(r)?).map_err(|_| corrupt())?;
                    let bytes = get_bytes(r, len)?;
                    levels.push(String::from_utf8(bytes).map_err(|_| corrupt())?);
                }
                let codes = get_pods::<u32>(r, n)?;
                Column::Categorical { codes, levels }
            });
        }
        let lines = if get_bytes(r, 1)?[0] == 1 {
            let first = get_u64(r)?;
            (first..).take(n).collect()
        } else {
            get_pods::<u64>(r, n)?
        };
        Ok(Some(Table {
            origin: self.origin.clone(),
            feature_names: self.feature_names.clone(),
            features,
            target,
            lines,
            sources: Vec::new(),
        }))
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
/// order: the file never leaves this process), copied once out of the
/// reader's buffer: a vector zero-filled first and then overwritten costs
/// a second pass.
fn get_pods<T: bytemuck::Pod>(r: &mut impl BufRead, n: usize) -> std::io::Result<Vec<T>> {
    let size = std::mem::size_of::<T>();
    let mut v: Vec<T> = Vec::with_capacity(n);
    while v.len() < n {
        let buf = r.fill_buf()?;
        if buf.is_empty() {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let whole = buf.len().min((n - v.len()) * size) / size * size;
        if whole == 0 {
            // A value split across the buffer's end.
            let mut one = T::zeroed();
            r.read_exact(bytemuck::bytes_of_mut(&mut one))?;
            v.push(one);
            continue;
        }
        v.extend(
            buf[..whole]
                .chunks_exact(size)
                .map(bytemuck::pod_read_unaligned::<T>),
        );
        r.consume(whole);
    }
    Ok(v)
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
}
