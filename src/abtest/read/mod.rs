//! Reading an experiment's rows from a file, stdin or a URL, as CSV or JSON
//! Lines (sniffed from the first non-blank byte) or, from a file, Parquet, into per-variant totals
//! in one streaming pass.

mod csv_rows;
mod jsonl_rows;
mod row;
mod url;

use std::fs::File;
use std::io::{BufRead, BufReader, Read};

use crate::abtest::settings::{Input, Settings, TestChoice};
use crate::abtest::totals::ExperimentTotals;
use crate::error::{Error, Result, display_path};
use crate::report::Progress;
pub(super) use row::PLAN_COLUMN;
use row::RowParser;

/// Whether the stream holds JSON Lines: the first non-blank byte is `{`.
fn looks_like_jsonl<R: BufRead>(r: &mut R) -> bool {
    loop {
        let Ok(buf) = r.fill_buf() else {
            return false;
        };
        if buf.is_empty() {
            return false;
        }
        match buf.iter().position(|b| !b.is_ascii_whitespace()) {
            Some(i) => return buf[i] == b'{',
            None => {
                let n = buf.len();
                r.consume(n);
            }
        }
    }
}

/// CSV or JSON Lines, whichever the stream holds.
fn read_any<R: Read>(
    input: R,
    parser: &RowParser<'_>,
    progress: &dyn Progress,
) -> Result<ExperimentTotals> {
    let mut r = BufReader::with_capacity(1 << 16, input);
    if looks_like_jsonl(&mut r) {
        jsonl_rows::read_jsonl(r, parser)
    } else {
        csv_rows::read_csv(r, parser, progress)
    }
}

/// Read the rows of `s.input` into totals; returns the input's name as
/// errors and the report give it.
pub(super) fn read_input(
    s: &Settings,
    progress: &dyn Progress,
) -> Result<(String, ExperimentTotals)> {
    let keep_values = s.test == TestChoice::MannWhitney;
    Ok(match &s.input {
        Input::Path(p) if crate::data::is_parquet(p) => {
            let file = crate::data::ParquetFile::open(p)?;
            let parser = RowParser {
                origin: &file.origin,
                s,
                keep_values,
            };
            let totals = csv_rows::read_parquet(&file, &parser)?;
            (file.origin.clone(), totals)
        }
        Input::Path(p) => {
            let origin = display_path(p);
            let f = File::open(p).map_err(|e| Error::io("read", p, &e))?;
            let size = f.metadata().map_or(0, |m| m.len());
            let parser = RowParser {
                origin: &origin,
                s,
                keep_values,
            };
            progress.start("reading", Some(size));
            let totals = read_any(f, &parser, progress)?;
            progress.finish();
            (origin, totals)
        }
        Input::Stdin => {
            let origin = "<stdin>".to_string();
            let parser = RowParser {
                origin: &origin,
                s,
                keep_values,
            };
            let totals = read_any(std::io::stdin().lock(), &parser, progress)?;
            (origin, totals)
        }
        Input::Url(u) => {
            let resp = url::fetch(u, &s.bearer)?;
            let parser = RowParser {
                origin: u,
                s,
                keep_values,
            };
            let totals = read_any(resp, &parser, progress)?;
            (u.clone(), totals)
        }
    })
}
