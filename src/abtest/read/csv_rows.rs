//! CSV rows: the header located, then block by block, a plain block (no
//! quotes) split at a newline near its middle and parsed on two threads,
//! each part into its own totals merged in order. Parquet rows go through
//! the same row reader, one by one ([`read_parquet`]).

use std::io::Read;

use super::row::{Cells, EXPERIMENT_COLUMN, PLAN_COLUMN, RowParser};
use crate::abtest::settings::Kind;
use crate::abtest::totals::ExperimentTotals;
use crate::data::{BlockReader, STREAM_BLOCK, locate, visit_chunk};
use crate::error::{Error, Result};
use crate::report::Progress;

/// Column indices in a CSV header.
pub(super) struct CsvColumns {
    variant: usize,
    metric: usize,
    covariate: Option<usize>,
    unit: Option<usize>,
    share: Option<usize>,
    experiment: Option<usize>,
    max: usize,
}

impl CsvColumns {
    /// The columns the settings need, found in `header`.
    pub(super) fn locate(header: &[String], parser: &RowParser<'_>) -> Result<CsvColumns> {
        let s = parser.s;
        let mut wanted = vec![s.variant_column.clone(), s.metric.clone()];
        wanted.extend(s.covariate.iter().cloned());
        wanted.extend(s.unit.iter().cloned());
        let idx = locate(header, &wanted, parser.origin, "required")?;
        // The plan columns of an export, read unless --split overrides them.
        let optional = |name: &str| {
            (!s.split_from_flag)
                .then(|| header.iter().position(|h| h == name))
                .flatten()
        };
        let share = optional(PLAN_COLUMN);
        let experiment = optional(EXPERIMENT_COLUMN);
        Ok(CsvColumns {
            variant: idx[0],
            metric: idx[1],
            covariate: s.covariate.as_ref().map(|_| idx[2]),
            unit: s.unit.as_ref().map(|_| idx[idx.len() - 1]),
            share,
            experiment,
            max: idx
                .iter()
                .chain(&share)
                .chain(&experiment)
                .copied()
                .max()
                .unwrap_or(0),
        })
    }

    /// The columns to read, in header order.
    pub(super) fn indices(&self) -> Vec<usize> {
        let mut v = vec![self.variant, self.metric];
        v.extend(self.covariate);
        v.extend(self.unit);
        v.extend(self.share);
        v.extend(self.experiment);
        v.sort_unstable();
        v.dedup();
        v
    }
}

/// One row's fields into `totals`.
pub(super) fn add_row(
    parser: &RowParser<'_>,
    cols: &CsvColumns,
    totals: &mut ExperimentTotals,
    f: &[&[u8]],
    line: u64,
) -> Result<()> {
    if f.len() <= cols.max {
        return Err(Error::data(format!(
            "{}:{line}: the row has {} fields but the header has more; fix the row",
            parser.origin,
            f.len()
        )));
    }
    let cells = Cells {
        variant: f[cols.variant],
        y: f[cols.metric],
        x: cols.covariate.map(|i| f[i]),
        unit: cols.unit.map(|i| f[i]),
        share: cols.share.map(|i| f[i]),
        experiment: cols.experiment.map(|i| f[i]),
    };
    parser.row(totals, &cells, line)
}

fn parse_csv_chunk(
    parser: &RowParser<'_>,
    cols: &CsvColumns,
    chunk: &[u8],
    line: u64,
) -> Result<ExperimentTotals> {
    let mut totals = ExperimentTotals::default();
    visit_chunk(parser.origin, chunk, line, &mut |f, line, _| {
        add_row(parser, cols, &mut totals, f, line)
    })?;
    Ok(totals)
}

/// A newline near the middle of a chunk without quotes.
fn middle(chunk: &[u8]) -> Option<usize> {
    if chunk.len() < 1 << 16 || chunk.contains(&b'"') {
        return None;
    }
    memchr::memchr(b'\n', &chunk[chunk.len() / 2..]).map(|i| chunk.len() / 2 + i + 1)
}

/// The rows of a CSV stream.
pub(super) fn read_csv<R: Read>(
    input: R,
    parser: &RowParser<'_>,
    progress: &dyn Progress,
) -> Result<ExperimentTotals> {
    let (mut reader, header) = BlockReader::open(input, parser.origin, STREAM_BLOCK)?;
    let s = parser.s;
    let cols = CsvColumns::locate(&header, parser)?;
    let mut totals = ExperimentTotals::default();
    let binary = s.kind == Kind::Binary;
    reader.for_each_chunk(
        &mut |chunk, line| {
            // Two threads per block when the block is plain (no quotes).
            if let Some(cut) = middle(chunk) {
                let (a, b) = chunk.split_at(cut);
                let line_b = line + memchr::memchr_iter(b'\n', a).count() as u64;
                let (ra, rb) = std::thread::scope(|sc| {
                    let h = sc.spawn(|| parse_csv_chunk(parser, &cols, b, line_b));
                    let ra = parse_csv_chunk(parser, &cols, a, line);
                    let rb = h.join().unwrap_or_else(|_| {
                        Err(Error::data("a parser thread failed; please report it"))
                    });
                    (ra, rb)
                });
                totals.merge(ra?, parser.origin, binary)?;
                totals.merge(rb?, parser.origin, binary)?;
            } else {
                let part = parse_csv_chunk(parser, &cols, chunk, line)?;
                totals.merge(part, parser.origin, binary)?;
            }
            Ok(())
        },
        &|pos| progress.set_position(pos),
    )?;
    Ok(totals)
}

/// The rows of a Parquet file (only the columns the settings need).
pub(super) fn read_parquet(
    file: &crate::data::ParquetFile,
    parser: &RowParser<'_>,
) -> Result<ExperimentTotals> {
    let cols = CsvColumns::locate(&file.header(), parser)?;
    let mut totals = ExperimentTotals::default();
    file.visit_rows(&cols.indices(), &mut |f, row| {
        add_row(parser, &cols, &mut totals, f, row)
    })?;
    Ok(totals)
}
