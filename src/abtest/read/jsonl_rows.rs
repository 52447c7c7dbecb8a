//! JSON Lines rows: one object per line, every needed key present (a
//! missing one suggests the nearest key), each value turned into the bytes
//! of a cell and handed to the row parser.

use std::io::{BufRead, Read};

use super::row::{Cells, EXPERIMENT_COLUMN, PLAN_COLUMN, RowParser};
use crate::abtest::totals::ExperimentTotals;
use crate::error::{Error, Result};

/// A JSON value as a cell's bytes: strings as they are, numbers and
/// booleans as written, null and absent as empty.
fn json_cell(v: Option<&serde_json::Value>) -> Vec<u8> {
    match v {
        None | Some(serde_json::Value::Null) => Vec::new(),
        Some(serde_json::Value::String(s)) => s.as_bytes().to_vec(),
        Some(v) => v.to_string().into_bytes(),
    }
}

/// The rows of a JSON Lines stream.
pub(super) fn read_jsonl<R: BufRead>(
    mut input: R,
    parser: &RowParser<'_>,
) -> Result<ExperimentTotals> {
    let s = parser.s;
    let mut totals = ExperimentTotals::default();
    let mut buf = Vec::new();
    let mut line = 0u64;
    let cap = crate::data::MAX_RECORD as u64;
    loop {
        buf.clear();
        let n = (&mut input)
            .take(cap + 1)
            .read_until(b'\n', &mut buf)
            .map_err(|e| {
                Error::data(format!(
                    "{}: cannot read: {}",
                    parser.origin,
                    crate::error::io_reason(&e)
                ))
            })?;
        if n == 0 {
            break;
        }
        line += 1;
        if n as u64 > cap {
            return Err(Error::data(format!(
                "{}:{line}: a line longer than {} MiB; each line must be one JSON object",
                parser.origin,
                cap >> 20
            )));
        }
        if buf.trim_ascii().is_empty() {
            continue;
        }
        let obj: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(&buf)
            .map_err(|e| {
                Error::data(format!(
                    "{}:{line}: not a JSON object ({e}); each line must be one object like {{\"{}\": \"A\", \"{}\": 1.0}}",
                    parser.origin, s.variant_column, s.metric
                ))
            })?;
        for c in [
            Some(&s.variant_column),
            Some(&s.metric),
            s.covariate.as_ref(),
            s.unit.as_ref(),
        ]
        .into_iter()
        .flatten()
        {
            if !obj.contains_key(c) {
                let keys: Vec<&str> = obj.keys().map(String::as_str).collect();
                let hint = crate::project::nearest(c, &keys)
                    .map_or_else(String::new, |n| format!("; did you mean \"{n}\"?"));
                return Err(Error::data(format!(
                    "{}:{line}: the object has no key \"{c}\"{hint}",
                    parser.origin
                )));
            }
        }
        let variant = json_cell(obj.get(&s.variant_column));
        let y = json_cell(obj.get(&s.metric));
        let x = s.covariate.as_ref().map(|c| json_cell(obj.get(c)));
        let u = s.unit.as_ref().map(|c| json_cell(obj.get(c)));
        let optional = |name: &str| {
            (!s.split_from_flag)
                .then(|| obj.get(name).map(|v| json_cell(Some(v))))
                .flatten()
        };
        let share = optional(PLAN_COLUMN);
        let experiment = optional(EXPERIMENT_COLUMN);
        let cells = Cells {
            variant: &variant,
            y: &y,
            x: x.as_deref(),
            unit: u.as_deref(),
            share: share.as_deref(),
            experiment: experiment.as_deref(),
        };
        parser.row(&mut totals, &cells, line)?;
    }
    Ok(totals)
}
