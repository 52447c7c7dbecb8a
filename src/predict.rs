//! `predict`: stream a CSV or Parquet file through a model, row by row, so
//! memory does not grow with the file. The output (CSV, or Parquet) is the
//! input columns plus `prediction`, in input order; a classifier's
//! `prediction` is the label, followed by one `probability_<class>` column
//! per class, in the sorted classes' order.

use std::collections::HashMap;
use std::io::{Read, Write};

use crate::data::parquet_write::{OutType, ParquetRowWriter};
use crate::data::{self, BlockReader, locate, missing_error, parse_level, parse_number};
use crate::error::{Error, Result};
use crate::model::{Artifact, Value};
use crate::project::MissingPolicy;

/// The name of the added column.
pub const PREDICTION: &str = "prediction";
/// The prefix of a classifier's probability columns.
pub const PROBABILITY_PREFIX: &str = "probability_";

/// Predict every row of `input` (named `origin` in errors) into `output`;
/// returns the number of rows.
///
/// Errors: a missing feature column, an unseen level, a bad cell (exit 3);
/// an empty cell under `missing = "error"` (exit 3); under `drop-row` the
/// row gets an empty prediction; under `mean` the training fill value.
pub fn predict<R: Read, W: Write>(
    model: &Artifact,
    input: R,
    origin: &str,
    output: W,
) -> Result<u64> {
    run(
        model,
        Rows::Csv(Box::new(input), origin),
        |header, _, added, _| Ok(Box::new(PredictionWriter::start(output, header, added)?)),
    )
}

/// Where the rows to predict come from.
pub enum Rows<'a> {
    /// A CSV stream, named as messages show it.
    Csv(Box<dyn Read + 'a>, &'a str),
    /// A Parquet file (every column is read and written back).
    Parquet(&'a data::ParquetFile),
}

/// Predict every row of `rows` into `output`, as CSV or (`parquet`) as a
/// Parquet file with the input's columns typed as in the input (a CSV's
/// model features as doubles, its other columns as strings) and
/// `prediction` a nullable double; returns the number of rows.
pub fn predict_from<W: Write + Send>(
    model: &Artifact,
    rows: Rows<'_>,
    output: W,
    parquet: bool,
) -> Result<u64> {
    run(model, rows, |header, types, added, classifier| {
        let sink: Box<dyn Sink + '_> = if parquet {
            let types = types.unwrap_or_else(|| csv_types(model, header));
            Box::new(ParquetSink::start(
                output, header, types, added, classifier,
            )?)
        } else {
            Box::new(PredictionWriter::start(output, header, added)?)
        };
        Ok(sink)
    })
}

/// Predict every row of `rows` into the sink `start` makes from the
/// header (and, for Parquet, the column types).
fn run<'o>(
    model: &Artifact,
    rows: Rows<'_>,
    start: impl FnOnce(&[String], Option<Vec<OutType>>, &[String], bool) -> Result<Box<dyn Sink + 'o>>,
) -> Result<u64> {
    let predictor = model.predictor()?;
    let classifier = model.class_predictor()?;
    let (origin, header, types, feed) = match rows {
        Rows::Csv(input, origin) => {
            let (reader, header) = BlockReader::open(input, origin, data::STREAM_BLOCK)?;
            (origin.to_string(), header, None, Feed::Csv(reader))
        }
        Rows::Parquet(f) => (
            f.origin.clone(),
            f.header(),
            Some(f.out_types()),
            Feed::Parquet(f),
        ),
    };
    let origin = origin.as_str();
    let mut added = vec![PREDICTION.to_string()];
    if let Some(c) = &classifier {
        added.extend(c.classes.iter().map(|k| format!("{PROBABILITY_PREFIX}{k}")));
    }
    if let Some(h) = header.iter().find(|h| added.contains(h)) {
        return Err(Error::data(format!(
            "{origin}:1: the input already has a column \"{h}\"; rename it so the output has one"
        )));
    }
    let cells = CellReader::new(model, &header, origin)?;
    let mut out = start(&header, types, &added, classifier.is_some())?;
    let width = header.len();
    let mut row = vec![Value::Number(0.0); model.features.len()];
    let mut n = 0u64;
    let mut visit = |fields: &[&[u8]], line: u64| -> Result<()> {
        if fields.len() != width {
            return Err(Error::data(format!(
                "{origin}:{line}: expected {width} fields as in the header, found {}; fix the row",
                fields.len()
            )));
        }
        let complete = cells.read_row(fields, line, &mut row)?;
        match &classifier {
            None => {
                let p = complete.then(|| predictor.predict(&row));
                if p.is_some_and(|p| !p.is_finite()) {
                    return Err(Error::data(format!(
                        "{origin}:{line}: the prediction overflows (it is beyond ±1.8e308, the largest number a double holds); check the row's values and their scale"
                    )));
                }
                out.write_row(fields, p)?;
            }
            Some(c) => {
                let prob = complete.then(|| c.probabilities(&row));
                let label = prob.as_ref().map(|p| c.classes[c.label(p)].as_str());
                out.write_class_row(fields, label, prob.as_deref())?;
            }
        }
        n += 1;
        Ok(())
    };
    match feed {
        Feed::Csv(mut reader) => reader.for_each_chunk(
            &mut |chunk, line| {
                data::visit_chunk(origin, chunk, line, &mut |f, line, _| visit(f, line))
            },
            &|_| {},
        )?,
        Feed::Parquet(f) => f.visit_rows(&(0..width).collect::<Vec<_>>(), &mut visit)?,
    }
    out.finish()?;
    Ok(n)
}

/// The rows of a [`Rows`], once its header is read.
enum Feed<'a> {
    Csv(BlockReader<Box<dyn Read + 'a>>),
    Parquet(&'a data::ParquetFile),
}

/// The Parquet column types of a CSV input: the model's numeric features
/// as doubles, every other column as strings.
fn csv_types(model: &Artifact, header: &[String]) -> Vec<OutType> {
    header
        .iter()
        .map(|h| {
            if model.features.contains(h) && !model.categorical.contains_key(h) {
                OutType::Float
            } else {
                OutType::Text
            }
        })
        .collect()
}

/// Where predictions go.
trait Sink {
    /// One output row: the input `fields` and the prediction.
    fn write_row(&mut self, fields: &[&[u8]], prediction: Option<f64>) -> Result<()>;
    /// One output row of a classifier: the label and the probabilities.
    fn write_class_row(
        &mut self,
        fields: &[&[u8]],
        label: Option<&str>,
        prob: Option<&[f64]>,
    ) -> Result<()>;
    /// Write what is buffered.
    fn finish(self: Box<Self>) -> Result<()>;
}

/// The output Parquet file: the input columns plus [`PREDICTION`] (a
/// double, or a classifier's label as a string, then its probabilities).
struct ParquetSink<W: Write + Send> {
    writer: ParquetRowWriter<W>,
    /// The added cells' text, reused from row to row.
    bufs: Vec<String>,
}

impl<W: Write + Send> ParquetSink<W> {
    fn start(
        output: W,
        header: &[String],
        mut types: Vec<OutType>,
        added: &[String],
        classifier: bool,
    ) -> Result<Self> {
        let mut names = header.to_vec();
        names.extend(added.iter().cloned());
        types.push(if classifier {
            OutType::Text
        } else {
            OutType::Float
        });
        types.extend(std::iter::repeat_n(OutType::Float, added.len() - 1));
        Ok(ParquetSink {
            writer: ParquetRowWriter::new(output, &names, &types, "the predictions")?,
            bufs: vec![String::new(); added.len()],
        })
    }

    fn emit(&mut self, fields: &[&[u8]]) -> Result<()> {
        let mut row: Vec<&[u8]> = fields.to_vec();
        row.extend(self.bufs.iter().map(String::as_bytes));
        self.writer.push(&row)
    }
}

impl<W: Write + Send> Sink for ParquetSink<W> {
    fn write_row(&mut self, fields: &[&[u8]], prediction: Option<f64>) -> Result<()> {
        fill_prediction_cell(&mut self.bufs, prediction);
        self.emit(fields)
    }

    fn write_class_row(
        &mut self,
        fields: &[&[u8]],
        label: Option<&str>,
        prob: Option<&[f64]>,
    ) -> Result<()> {
        fill_class_cells(&mut self.bufs, label, prob);
        self.emit(fields)
    }

    fn finish(self: Box<Self>) -> Result<()> {
        self.writer.finish()
    }
}

/// The added cell of a regression's row: the prediction, empty when there
/// is none.
#[inline]
fn fill_prediction_cell(bufs: &mut [String], prediction: Option<f64>) {
    use std::fmt::Write as _;
    bufs[0].clear();
    if let Some(p) = prediction {
        let _ = write!(bufs[0], "{p}");
    }
}

/// The added cells of a classifier's row: the label, then the
/// probabilities (all empty when there is no prediction).
fn fill_class_cells(bufs: &mut [String], label: Option<&str>, prob: Option<&[f64]>) {
    use std::fmt::Write as _;
    bufs.iter_mut().for_each(String::clear);
    if let (Some(l), Some(p)) = (label, prob) {
        bufs[0].push_str(l);
        for (b, v) in bufs[1..].iter_mut().zip(p) {
            let _ = write!(b, "{v}");
        }
    }
}

/// Reads the model's features from the cells of an input row.
struct CellReader<'a> {
    model: &'a Artifact,
    origin: &'a str,
    /// The input column of each model feature.
    idx: Vec<usize>,
    /// Per model feature: level name → level index (categorical features).
    level_maps: Vec<Option<HashMap<&'a str, usize>>>,
    /// Per model feature: the fill value of an empty cell.
    fills: Vec<Option<Value>>,
    policy: MissingPolicy,
}

impl<'a> CellReader<'a> {
    /// The reader of `model`'s features from rows with columns `header`.
    fn new(model: &'a Artifact, header: &[String], origin: &'a str) -> Result<CellReader<'a>> {
        let idx = locate(header, &model.features, origin, "feature")?;
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
        Ok(CellReader {
            model,
            origin,
            idx,
            level_maps,
            fills,
            policy: model.missing.policy,
        })
    }

    /// Fill `row` from the cells of input line `line`; false when a cell is
    /// empty and the row gets no prediction (`drop-row`).
    #[inline]
    fn read_row(&self, fields: &[&[u8]], line: u64, row: &mut [Value]) -> Result<bool> {
        let origin = self.origin;
        let mut complete = true;
        for (k, &ci) in self.idx.iter().enumerate() {
            let name = &self.model.features[k];
            let v = self.cell(k, fields[ci], line)?;
            row[k] = match (v, self.policy) {
                (Some(v), _) => v,
                (None, MissingPolicy::Error) => {
                    return Err(Error::data(format!(
                        "{origin}:{line}: column \"{name}\" is empty, and the model was trained with data.missing = \"error\"; fill the cell, or retrain with \"drop-row\" or \"mean\""
                    )));
                }
                (None, MissingPolicy::Mean) => match self.fills[k] {
                    Some(f) => f,
                    None => return Err(missing_error(origin, line, name)),
                },
                (None, MissingPolicy::DropRow) => {
                    complete = false;
                    Value::Number(0.0)
                }
            };
        }
        Ok(complete)
    }

    /// The value of feature `k` in `cell`; `None` when the cell is empty.
    #[inline]
    fn cell(&self, k: usize, cell: &[u8], line: u64) -> Result<Option<Value>> {
        let origin = self.origin;
        let name = &self.model.features[k];
        if !self.model.missing.na_values.is_empty()
            && data::is_na_value(&self.model.missing.na_values, cell)
        {
            return Ok(None);
        }
        Ok(match &self.level_maps[k] {
            None => parse_number(cell, origin, line, name)
                .map_err(|e| match e {
                    Error::Data(m) => Error::Data(m.replace(
                        data::CATEGORICAL_HINT,
                        "fix the cell (the model reads it as a number)",
                    )),
                    other => other,
                })?
                .map(Value::Number),
            Some(m) => match parse_level(cell, origin, line, name)? {
                None => None,
                Some(s) => match m.get(s) {
                    Some(i) => Some(Value::Level(*i)),
                    None => {
                        let c = &self.model.categorical[name];
                        match c.unknown_value() {
                            Some(v) => Some(v),
                            None => {
                                return Err(Error::data(format!(
                                    "{origin}:{line}: column \"{name}\": {}; retrain with it (or with data.handle_unknown = \"ignore\"), or fix the cell",
                                    c.unseen_message(s)
                                )));
                            }
                        }
                    }
                },
            },
        })
    }
}

/// The output CSV: the input columns plus [`PREDICTION`] (and a
/// classifier's probabilities).
struct PredictionWriter<W: Write> {
    wtr: csv::Writer<W>,
    /// The added cells' text, reused from row to row.
    bufs: Vec<String>,
}

impl<W: Write> Sink for PredictionWriter<W> {
    fn write_row(&mut self, fields: &[&[u8]], prediction: Option<f64>) -> Result<()> {
        PredictionWriter::write_row(self, fields, prediction)
    }

    fn write_class_row(
        &mut self,
        fields: &[&[u8]],
        label: Option<&str>,
        prob: Option<&[f64]>,
    ) -> Result<()> {
        PredictionWriter::write_class_row(self, fields, label, prob)
    }

    fn finish(self: Box<Self>) -> Result<()> {
        PredictionWriter::finish(*self)
    }
}

impl<W: Write> PredictionWriter<W> {
    /// A writer into `output` that has written the header and `added`.
    fn start(output: W, header: &[String], added: &[String]) -> Result<PredictionWriter<W>> {
        let mut wtr = csv::WriterBuilder::new()
            .flexible(false)
            .buffer_capacity(1 << 16)
            .from_writer(output);
        let mut out_header = csv::ByteRecord::new();
        for h in header.iter().chain(added) {
            out_header.push_field(h.as_bytes());
        }
        wtr.write_byte_record(&out_header).map_err(write_error)?;
        Ok(PredictionWriter {
            wtr,
            bufs: vec![String::new(); added.len()],
        })
    }

    /// One output row: the input `fields` and the prediction (empty when
    /// there is none).
    #[inline]
    fn write_row(&mut self, fields: &[&[u8]], prediction: Option<f64>) -> Result<()> {
        fill_prediction_cell(&mut self.bufs, prediction);
        self.emit(fields)
    }

    /// One output row of a classifier: the label and the probabilities
    /// (all empty when there is no prediction).
    fn write_class_row(
        &mut self,
        fields: &[&[u8]],
        label: Option<&str>,
        prob: Option<&[f64]>,
    ) -> Result<()> {
        fill_class_cells(&mut self.bufs, label, prob);
        self.emit(fields)
    }

    fn emit(&mut self, fields: &[&[u8]]) -> Result<()> {
        self.wtr
            .write_record(
                fields
                    .iter()
                    .copied()
                    .chain(self.bufs.iter().map(String::as_bytes)),
            )
            .map_err(write_error)
    }

    /// Flush what is buffered.
    fn finish(mut self) -> Result<()> {
        self.wtr.flush().map_err(|e| {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                Error::Pipe
            } else {
                Error::usage(format!(
                    "cannot write the predictions: {}",
                    crate::error::io_reason(&e)
                ))
            }
        })
    }
}

/// A failed write of the output CSV: a closed pipe ends quietly.
fn write_error(e: csv::Error) -> Error {
    match e.into_kind() {
        csv::ErrorKind::Io(io) if io.kind() == std::io::ErrorKind::BrokenPipe => Error::Pipe,
        csv::ErrorKind::Io(io) => Error::usage(format!(
            "cannot write the predictions: {}",
            crate::error::io_reason(&io)
        )),
        other => Error::usage(format!("cannot write the predictions: {other:?}")),
    }
}
