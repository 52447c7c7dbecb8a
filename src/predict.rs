//! `predict`: stream a CSV through a model, row by row, so memory does not
//! grow with the file. The output is the input columns plus `prediction`, in
//! input order.

use std::collections::HashMap;
use std::io::{Read, Write};

use crate::data::{self, BlockReader, locate, missing_error, parse_level, parse_number};
use crate::error::{Error, Result};
use crate::model::{Artifact, Value};
use crate::project::MissingPolicy;

/// The name of the added column.
pub const PREDICTION: &str = "prediction";

/// Predict every row of `input` (named `origin` in errors) into `output`;
/// returns the number of rows.
///
/// Errors: a missing feature column, an unseen level, a bad cell (exit 3);
/// an empty cell under `missing = "error"` (exit 3); under `drop-row` the
/// row gets an empty prediction; under `mean` the training fill value.
#[allow(clippy::too_many_lines)]
pub fn predict<R: Read, W: Write>(
    model: &Artifact,
    input: R,
    origin: &str,
    output: W,
) -> Result<u64> {
    let predictor = model.predictor()?;
    let (mut reader, header) = BlockReader::open(input, origin, data::STREAM_BLOCK)?;
    if header.iter().any(|h| h == PREDICTION) {
        return Err(Error::data(format!(
            "{origin}:1: the input already has a column \"{PREDICTION}\"; rename it so the output has one"
        )));
    }
    let idx = locate(&header, &model.features, origin, "feature")?;
    let level_maps: Vec<Option<HashMap<&str, usize>>> = model
        .features
        .iter()
        .map(|f| {
            model.categorical.get(f).map(|c| {
                c.levels
                    .iter()
                    .enumerate()
                    .map(|(i, l)| (l.as_str(), i))
                    .collect()
            })
        })
        .collect();
    let fills: Vec<Option<Value>> = model
        .features
        .iter()
        .enumerate()
        .map(|(k, f)| {
            let v = model.missing.fill.get(f)?;
            match &level_maps[k] {
                Some(m) => v.as_str().and_then(|s| m.get(s)).map(|i| Value::Level(*i)),
                None => v.as_f64().map(Value::Number),
            }
        })
        .collect();
    let policy = model.missing.policy;
    let mut wtr = csv::WriterBuilder::new()
        .flexible(false)
        .buffer_capacity(1 << 16)
        .from_writer(output);
    let write_err = |e: csv::Error| match e.into_kind() {
        csv::ErrorKind::Io(io) if io.kind() == std::io::ErrorKind::BrokenPipe => Error::Pipe,
        csv::ErrorKind::Io(io) => Error::usage(format!(
            "cannot write the predictions: {}",
            crate::error::io_reason(&io)
        )),
        other => Error::usage(format!("cannot write the predictions: {other:?}")),
    };
    let mut out_header = csv::ByteRecord::new();
    for h in &header {
        out_header.push_field(h.as_bytes());
    }
    out_header.push_field(PREDICTION.as_bytes());
    wtr.write_byte_record(&out_header).map_err(write_err)?;

    let width = header.len();
    let mut row = vec![Value::Number(0.0); model.features.len()];
    let mut buf = String::new();
    let mut n = 0u64;
    let mut visit = |fields: &[&[u8]], line: u64, _end: usize| -> Result<()> {
        if fields.len() != width {
            return Err(Error::data(format!(
                "{origin}:{line}: expected {width} fields as in the header, found {}; fix the row",
                fields.len()
            )));
        }
        let mut complete = true;
        for (k, &ci) in idx.iter().enumerate() {
            let name = &model.features[k];
            let v = match &level_maps[k] {
                None => parse_number(fields[ci], origin, line, name)
                    .map_err(|e| match e {
                        Error::Data(m) => Error::Data(m.replace(
                            "fix the cell, or list the column in data.categorical",
                            "fix the cell (the model reads it as a number)",
                        )),
                        other => other,
                    })?
                    .map(Value::Number),
                Some(m) => match parse_level(fields[ci], origin, line, name)? {
                    None => None,
                    Some(s) => match m.get(s) {
                        Some(i) => Some(Value::Level(*i)),
                        None => {
                            return Err(Error::data(format!(
                                "{origin}:{line}: column \"{name}\": level \"{s}\" was not seen in training (known levels: {}); retrain with it or fix the cell",
                                model.categorical[name].levels.join(", ")
                            )));
                        }
                    },
                },
            };
            row[k] = match (v, policy) {
                (Some(v), _) => v,
                (None, MissingPolicy::Error) => {
                    return Err(Error::data(format!(
                        "{origin}:{line}: column \"{name}\" is empty, and the model was trained with data.missing = \"error\"; fill the cell, or retrain with \"drop-row\" or \"mean\""
                    )));
                }
                (None, MissingPolicy::Mean) => match fills[k] {
                    Some(f) => f,
                    None => return Err(missing_error(origin, line, name)),
                },
                (None, MissingPolicy::DropRow) => {
                    complete = false;
                    Value::Number(0.0)
                }
            };
        }
        buf.clear();
        if complete {
            use std::fmt::Write as _;
            let _ = write!(buf, "{}", predictor.predict(&row));
        }
        wtr.write_record(
            fields
                .iter()
                .copied()
                .chain(std::iter::once(buf.as_bytes())),
        )
        .map_err(write_err)?;
        n += 1;
        Ok(())
    };
    reader.for_each_chunk(
        &mut |chunk, line| data::visit_chunk(origin, chunk, line, &mut visit),
        &|_| {},
    )?;
    wtr.flush().map_err(|e| {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            Error::Pipe
        } else {
            Error::usage(format!(
                "cannot write the predictions: {}",
                crate::error::io_reason(&e)
            ))
        }
    })?;
    Ok(n)
}
