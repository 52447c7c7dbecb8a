//! One chunk of whole records into columns: the fast numeric path when it
//! applies, else the general record parser cell by cell.

use super::builder::{Builder, estimate_rows};
use super::fast;
use super::plan::Plan;
use super::records::visit_chunk;
use crate::error::Result;

/// Parse the records of `chunk` (see [`visit_chunk`]) into a [`Builder`].
pub(super) fn parse_chunk<'a>(
    plan: &'a Plan<'a>,
    chunk: &[u8],
    first_line: u64,
    progress: &dyn Fn(u64, u64),
) -> Result<Builder<'a>> {
    let mut b = Builder::new(plan);
    if fast::applies(plan, chunk) {
        fast::parse_numeric_chunk(plan, chunk, first_line, &mut b, progress)?;
        return Ok(b);
    }
    let mut n = 0usize;
    visit_chunk(plan.origin, chunk, first_line, &mut |fields, line, end| {
        b.push(fields, line)?;
        n += 1;
        if n == 1024 {
            b.reserve(estimate_rows(chunk.len(), end as u64));
        }
        if n.is_multiple_of(65_536) {
            progress(end as u64, n as u64);
        }
        Ok(())
    })?;
    Ok(b)
}
