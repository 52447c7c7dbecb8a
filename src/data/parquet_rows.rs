//! Parquet rows as text fields: the cells of the columns asked for, written
//! as a CSV would hold them (numbers in their shortest exact form, nulls
//! empty), for the readers that work on fields (`predict`, `abtest-analyze`).

use super::cells::Cells;
use super::parquet::ParquetFile;
use crate::error::{Error, Result};

/// What [`ParquetFile::visit_rows`] calls with each row's fields and row.
pub type RowVisitor<'a> = dyn FnMut(&[&[u8]], u64) -> Result<()> + 'a;

impl ParquetFile {
    /// Visit every row with one field per column of [`Self::header`] (the
    /// columns not in `columns` are empty, never read) and its 1-based row.
    pub fn visit_rows(&self, columns: &[usize], f: &mut RowVisitor<'_>) -> Result<()> {
        let header = self.header();
        let origin = self.origin.clone();
        let mut texts: Vec<String> = vec![String::new(); header.len()];
        self.for_each_batch(columns, &mut |batch, group, first| {
            let mut cells = Vec::with_capacity(columns.len());
            for &c in columns {
                let name = &header[c];
                let array = batch.column_by_name(name).ok_or_else(|| {
                    Error::data(format!(
                        "{origin}: column \"{name}\" is missing from row group {group}"
                    ))
                })?;
                cells.push((c, array.clone()));
            }
            let views: Vec<(usize, Cells<'_>)> = cells
                .iter()
                .map(|(c, a)| {
                    Cells::of(a.as_ref()).map(|v| (*c, v)).map_err(|t| {
                        Error::data(format!(
                            "{origin}: column \"{}\" has type {t}, which mlops cannot read; store it as an integer, float, boolean or string column",
                            header[*c]
                        ))
                    })
                })
                .collect::<Result<_>>()?;
            for i in 0..batch.num_rows() {
                for (c, v) in &views {
                    texts[*c].clear();
                    v.get(i).write_text(&mut texts[*c]);
                }
                let fields: Vec<&[u8]> = texts.iter().map(String::as_bytes).collect();
                f(&fields, first + i as u64 + 1)?;
            }
            Ok(())
        })
    }
}
