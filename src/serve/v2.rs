//! The Open Inference Protocol V2 (KServe, Triton) over REST, with Triton's
//! binary tensor data extension.
//!
//! A request carries either one `[N, F]` tensor (any name; the model's
//! features in order; FP64, FP32, INT32 or INT64) or one tensor per feature
//! named after it (`[N]` or `[N, 1]`; BYTES for a categorical feature). The
//! output is `prediction`, FP64 `[N]`; a classifier's outputs are `label`,
//! BYTES `[N]`, and `probability`, FP64 `[N, K]` (classes in sorted order),
//! as many of them as the request's `outputs` names (both when it names
//! none). With the binary extension the JSON
//! header is followed by raw little-endian tensor bytes:
//! `Inference-Header-Content-Length` gives the header's length, and each
//! binary input or output says its size in `parameters.binary_data_size`.

use serde::Deserialize;
use serde_json::{Map, Value as Json, json};

use super::model::{BadRequest, Cell, Model, Row, Scored, clip, clip_shape};

/// The name of the output tensor.
pub const OUTPUT: &str = "prediction";
/// A classifier's label output (BYTES `[N]`).
pub const LABEL: &str = "label";
/// A classifier's probability output (FP64 `[N, K]`).
pub const PROBABILITY: &str = "probability";

/// Header naming the length of the JSON part of a binary request or response.
pub const HEADER_LENGTH: &str = "inference-header-content-length";

#[derive(Debug, Deserialize)]
struct RequestJson {
    #[serde(default)]
    id: Option<Json>,
    #[serde(default)]
    parameters: Option<Map<String, Json>>,
    inputs: Vec<InputJson>,
    #[serde(default)]
    outputs: Option<Vec<OutputJson>>,
}

#[derive(Debug, Deserialize)]
struct InputJson {
    name: String,
    shape: Vec<i64>,
    datatype: String,
    #[serde(default)]
    parameters: Option<Map<String, Json>>,
    #[serde(default)]
    data: Option<Json>,
}

#[derive(Debug, Deserialize)]
struct OutputJson {
    name: String,
    #[serde(default)]
    parameters: Option<Map<String, Json>>,
}

/// A tensor's values, flattened in row-major order.
#[derive(Debug)]
enum Flat {
    Json(Vec<Json>),
    Num(Vec<f64>),
    Text(Vec<String>),
}

impl Flat {
    fn len(&self) -> usize {
        match self {
            Flat::Json(v) => v.len(),
            Flat::Num(v) => v.len(),
            Flat::Text(v) => v.len(),
        }
    }

    fn cell(&self, i: usize) -> Cell<'_> {
        match self {
            Flat::Json(v) => Cell::of_json(&v[i]),
            Flat::Num(v) => Cell::Number(v[i]),
            Flat::Text(v) => Cell::Text(&v[i]),
        }
    }
}

#[derive(Debug)]
struct Tensor {
    name: String,
    shape: Vec<usize>,
    data: Flat,
}

/// A parsed inference request.
#[derive(Debug)]
pub struct InferRequest {
    id: Option<Json>,
    inputs: Vec<Tensor>,
    /// Whether the output goes back as binary data.
    binary_output: bool,
    /// The outputs the request names, each with whether it goes back as
    /// binary data; empty: every output, as `binary_output` says.
    outputs: Vec<(String, bool)>,
}

fn flag(p: Option<&Map<String, Json>>, key: &str) -> bool {
    p.and_then(|p| p.get(key))
        .and_then(Json::as_bool)
        .unwrap_or(false)
}

fn flatten(v: Json, out: &mut Vec<Json>) {
    match v {
        Json::Array(a) => {
            for x in a {
                flatten(x, out);
            }
        }
        x => out.push(x),
    }
}

/// Bytes per element of a fixed-size datatype.
fn width(datatype: &str) -> Option<usize> {
    match datatype {
        "FP64" | "INT64" | "UINT64" => Some(8),
        "FP32" | "INT32" | "UINT32" => Some(4),
        "INT16" | "UINT16" | "FP16" => Some(2),
        "INT8" | "UINT8" | "BOOL" => Some(1),
        _ => None,
    }
}

fn decode_binary(name: &str, datatype: &str, bytes: &[u8]) -> Result<Flat, BadRequest> {
    let chunks = |w: usize| -> Result<std::slice::ChunksExact<'_, u8>, BadRequest> {
        if bytes.len().is_multiple_of(w) {
            Ok(bytes.chunks_exact(w))
        } else {
            Err(BadRequest(format!(
                "input \"{}\": {} binary bytes is not a whole number of {datatype} values",
                clip(name),
                bytes.len()
            )))
        }
    };
    #[allow(clippy::cast_precision_loss)]
    let v: Vec<f64> = match datatype {
        "FP64" => chunks(8)?
            .map(|c| f64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
            .collect(),
        "FP32" => chunks(4)?
            .map(|c| f64::from(f32::from_le_bytes(c.try_into().unwrap_or([0; 4]))))
            .collect(),
        "INT64" => chunks(8)?
            .map(|c| i64::from_le_bytes(c.try_into().unwrap_or([0; 8])) as f64)
            .collect(),
        "INT32" => chunks(4)?
            .map(|c| f64::from(i32::from_le_bytes(c.try_into().unwrap_or([0; 4]))))
            .collect(),
        "BYTES" => {
            let mut out = Vec::new();
            let mut rest = bytes;
            while !rest.is_empty() {
                let bad = || {
                    BadRequest(format!(
                        "input \"{}\": BYTES binary data is not a sequence of 4-byte lengths and strings",
                        clip(name)
                    ))
                };
                let (len, tail) = rest.split_first_chunk::<4>().ok_or_else(bad)?;
                let n = u32::from_le_bytes(*len) as usize;
                if tail.len() < n {
                    return Err(bad());
                }
                let s = std::str::from_utf8(&tail[..n]).map_err(|_| bad())?;
                out.push(s.to_string());
                rest = &tail[n..];
            }
            return Ok(Flat::Text(out));
        }
        other => {
            return Err(BadRequest(format!(
                "input \"{}\": datatype {other} is not supported; use FP64, FP32, INT64, INT32 or BYTES",
                clip(name)
            )));
        }
    };
    Ok(Flat::Num(v))
}

/// Parse an inference request: `header_len` is the value of
/// `Inference-Header-Content-Length` (binary extension), else the whole
/// body is JSON. At most `max_rows` rows.
///
/// # Errors
/// Malformed JSON or binary data, shapes that do not match the data, an
/// unsupported datatype, too many rows, an unknown output.
pub fn parse(
    body: &[u8],
    header_len: Option<usize>,
    max_rows: usize,
) -> Result<InferRequest, BadRequest> {
    let (head, mut binary) = split_body(body, header_len)?;
    let req: RequestJson = serde_json::from_slice(head).map_err(|e| super::rest::malformed(&e))?;
    let (binary_output, outputs) = binary_output(&req)?;
    if req.inputs.is_empty() {
        return Err(BadRequest::new("the request has no inputs"));
    }
    let mut inputs = Vec::with_capacity(req.inputs.len());
    for i in req.inputs {
        inputs.push(tensor(i, &mut binary, max_rows)?);
    }
    if !binary.is_empty() {
        return Err(BadRequest(format!(
            "{} binary bytes follow the inputs that no input claims (binary_data_size)",
            binary.len()
        )));
    }
    Ok(InferRequest {
        id: req.id,
        inputs,
        binary_output,
        outputs,
    })
}

/// The JSON header and the binary data that follows it.
fn split_body(body: &[u8], header_len: Option<usize>) -> Result<(&[u8], &[u8]), BadRequest> {
    match header_len {
        Some(n) if n > body.len() => Err(BadRequest(format!(
            "Inference-Header-Content-Length is {n} but the body has {} bytes",
            body.len()
        ))),
        Some(n) => Ok(body.split_at(n)),
        None => Ok((body, &[][..])),
    }
}

/// Whether the output goes back as binary data (the request's
/// `binary_data_output`, overridden by the output's own `binary_data`);
/// the only output a request may name is [`OUTPUT`].
fn binary_output(req: &RequestJson) -> Result<(bool, Vec<(String, bool)>), BadRequest> {
    let request_level = flag(req.parameters.as_ref(), "binary_data_output");
    let mut binary_output = request_level;
    let mut named = Vec::new();
    if let Some(outs) = &req.outputs {
        for o in outs {
            known_output(&o.name)?;
            let binary = o
                .parameters
                .as_ref()
                .and_then(|p| p.get("binary_data"))
                .and_then(Json::as_bool)
                .unwrap_or(request_level);
            binary_output = flag(o.parameters.as_ref(), "binary_data");
            named.push((o.name.clone(), binary));
        }
    }
    Ok((binary_output, named))
}

/// An output some model may have.
fn known_output(name: &str) -> Result<(), BadRequest> {
    if [OUTPUT, LABEL, PROBABILITY].contains(&name) {
        return Ok(());
    }
    Err(BadRequest(format!(
        "unknown output \"{}\"; the model's output is \"{OUTPUT}\" (a classifier's: \"{LABEL}\", \"{PROBABILITY}\")",
        clip(name)
    )))
}

/// One input as a tensor: its shape, and its data from the JSON or from
/// the front of `binary` (which then moves past it). The shape must hold
/// the data and at most `max_rows` rows.
fn tensor(i: InputJson, binary: &mut &[u8], max_rows: usize) -> Result<Tensor, BadRequest> {
    let size = i
        .parameters
        .as_ref()
        .and_then(|p| p.get("binary_data_size"));
    let data = match (size, i.data) {
        (Some(s), _) => binary_data(&i.name, &i.datatype, s, binary)?,
        (None, Some(d)) => {
            if width(&i.datatype).is_none() && i.datatype != "BYTES" {
                return Err(BadRequest(format!(
                    "input \"{}\": datatype {} is not a V2 datatype",
                    clip(&i.name),
                    clip(&i.datatype)
                )));
            }
            let mut flat = Vec::new();
            flatten(d, &mut flat);
            Flat::Json(flat)
        }
        (None, None) => {
            return Err(BadRequest(format!(
                "input \"{}\" has no data",
                clip(&i.name)
            )));
        }
    };
    shaped(i.name, &i.shape, data, max_rows)
}

/// `data` as a tensor of `shape`, which must hold it and at most
/// `max_rows` rows.
fn shaped(name: String, shape: &[i64], data: Flat, max_rows: usize) -> Result<Tensor, BadRequest> {
    let shape: Vec<usize> = shape
        .iter()
        .map(|d| usize::try_from(*d))
        .collect::<Result<_, _>>()
        .map_err(|_| {
            BadRequest(format!(
                "input \"{}\": a negative dimension in its shape",
                clip(&name)
            ))
        })?;
    let want: usize = shape
        .iter()
        .try_fold(1usize, |a, d| a.checked_mul(*d))
        .unwrap_or(usize::MAX);
    if want != data.len() {
        return Err(BadRequest(format!(
            "input \"{}\": shape {} holds {want} values but the data has {}",
            clip(&name),
            clip_shape(&shape),
            data.len()
        )));
    }
    if shape.first().is_some_and(|n| *n > max_rows) {
        return Err(BadRequest(format!(
            "input \"{}\": {} rows is more than the limit of {max_rows} rows per request ([serve].max_batch_rows); split the batch",
            clip(&name),
            shape[0]
        )));
    }
    Ok(Tensor { name, shape, data })
}

/// An input's values as a protocol other than JSON carries them (the gRPC
/// service's typed contents or raw bytes).
#[derive(Debug)]
pub enum Values<'a> {
    /// Numbers (FP64, FP32, INT64, INT32 contents).
    Numbers(Vec<f64>),
    /// Strings (BYTES contents).
    Texts(Vec<String>),
    /// Little-endian, row-major bytes of the input's datatype.
    Raw(&'a [u8]),
}

/// One input of an inference request given as [`Values`].
#[derive(Debug)]
pub struct Input<'a> {
    /// The input's name.
    pub name: String,
    /// Its V2 datatype (FP64, FP32, INT64, INT32, BYTES).
    pub datatype: String,
    /// Its shape.
    pub shape: Vec<i64>,
    /// Its values.
    pub values: Values<'a>,
}

/// An inference request made of [`Input`]s rather than JSON: `outputs`
/// names the outputs wanted (none: all), each sent back as binary data
/// when `binary_output`. Checked as [`parse`] checks a JSON request.
///
/// # Errors
/// No inputs, an unsupported datatype, raw bytes that are not whole values,
/// a shape that does not hold the data, too many rows, an unknown output.
pub fn request(
    id: Option<String>,
    inputs: Vec<Input<'_>>,
    outputs: Vec<String>,
    binary_output: bool,
    max_rows: usize,
) -> Result<InferRequest, BadRequest> {
    if inputs.is_empty() {
        return Err(BadRequest::new("the request has no inputs"));
    }
    for o in &outputs {
        known_output(o)?;
    }
    let mut tensors = Vec::with_capacity(inputs.len());
    for i in inputs {
        let data = match i.values {
            Values::Numbers(v) => Flat::Num(v),
            Values::Texts(v) => Flat::Text(v),
            Values::Raw(b) => decode_binary(&i.name, &i.datatype, b)?,
        };
        tensors.push(shaped(i.name, &i.shape, data, max_rows)?);
    }
    Ok(InferRequest {
        id: id.map(Json::String),
        inputs: tensors,
        binary_output,
        outputs: outputs.into_iter().map(|o| (o, binary_output)).collect(),
    })
}

/// The `size` (`binary_data_size`) bytes at the front of `binary`, decoded
/// as `datatype`; `binary` moves past them.
fn binary_data(
    name: &str,
    datatype: &str,
    size: &Json,
    binary: &mut &[u8],
) -> Result<Flat, BadRequest> {
    let n = size
        .as_u64()
        .and_then(|n| usize::try_from(n).ok())
        .ok_or_else(|| {
            BadRequest(format!(
                "input \"{}\": binary_data_size must be a byte count",
                clip(name)
            ))
        })?;
    if n > binary.len() {
        return Err(BadRequest(format!(
            "input \"{}\": binary_data_size is {n} but only {} binary bytes are left",
            clip(name),
            binary.len()
        )));
    }
    let (mine, rest) = binary.split_at(n);
    *binary = rest;
    decode_binary(name, datatype, mine)
}

/// The rows of a request for `model`.
fn rows(model: &Model, req: &InferRequest) -> Result<Vec<Row>, BadRequest> {
    let f = model.features().len();
    if let [t] = req.inputs.as_slice()
        && model.feature_index(&t.name).is_none()
    {
        let (n, w) = match t.shape.as_slice() {
            [n, w] => (*n, *w),
            [w] => (1, *w),
            _ => {
                return Err(BadRequest(format!(
                    "input \"{}\" must have shape [N, {f}] (rows by the model's features), got {}",
                    clip(&t.name),
                    clip_shape(&t.shape)
                )));
            }
        };
        if w != f {
            return Err(BadRequest(format!(
                "input \"{}\" has {w} columns but the model has {f} features ({}); or send one input per feature, named after it",
                clip(&t.name),
                model.features().join(", ")
            )));
        }
        let mut tally = model.monitor.tally();
        return (0..n)
            .map(|i| {
                at_row(
                    i,
                    model.encode_with_in(|k| t.data.cell(i * f + k), "", &mut tally),
                )
            })
            .collect();
    }
    let mut cols: Vec<Option<&Tensor>> = vec![None; f];
    let mut n = None;
    for t in &req.inputs {
        let Some(k) = model.feature_index(&t.name) else {
            if !model.strict_features {
                continue; // an extra input is ignored, as an extra field is
            }
            return Err(BadRequest(format!(
                "unknown input \"{}\" ([serve] strict_features = true refuses inputs that are not features); send one [N, {f}] tensor, or one input per feature ({})",
                clip(&t.name),
                model.features().join(", ")
            )));
        };
        if cols[k].replace(t).is_some() {
            return Err(BadRequest(format!("input \"{}\" is given twice", t.name)));
        }
        let rows = match t.shape.as_slice() {
            [n] | [n, 1] => *n,
            _ => {
                return Err(BadRequest(format!(
                    "input \"{}\" must have shape [N] or [N, 1], got {}",
                    clip(&t.name),
                    clip_shape(&t.shape)
                )));
            }
        };
        if n.is_some_and(|m| m != rows) {
            return Err(BadRequest(format!(
                "input \"{}\" has {rows} rows but another input has {}",
                t.name,
                n.unwrap_or(0)
            )));
        }
        n = Some(rows);
    }
    if let Some(k) = cols.iter().position(Option::is_none) {
        return Err(BadRequest(format!(
            "input for feature \"{}\" is missing; the model's features are {}",
            model.features()[k],
            model.features().join(", ")
        )));
    }
    let cols: Vec<&Tensor> = cols.into_iter().flatten().collect();
    let mut tally = model.monitor.tally();
    (0..n.unwrap_or(0))
        .map(|i| {
            at_row(
                i,
                model.encode_with_in(|k| cols[k].data.cell(i), "", &mut tally),
            )
        })
        .collect()
}

/// `r`, its message (if refused) starting with `row {i}: `; made only on a
/// refusal, since formatting the prefix for every row of a large batch
/// costs more than encoding it.
fn at_row(i: usize, r: Result<Row, BadRequest>) -> Result<Row, BadRequest> {
    r.map_err(|BadRequest(m)| BadRequest(format!("row {i}: {m}")))
}

/// A response: the JSON document and, with binary output, the bytes that
/// follow it.
#[derive(Debug)]
pub struct InferResponse {
    /// The JSON part.
    pub json: Json,
    /// The binary part (little-endian FP64 predictions; NaN for a dropped row).
    pub binary: Option<Vec<u8>>,
}

/// The numbers of a request's one `[N, F]` (or `[F]`) tensor of numbers
/// (not named after a feature), row-major; JSON data qualifies when every
/// value is a number (as [`Cell::of_json`] reads it).
fn matrix<'r>(model: &Model, req: &'r InferRequest) -> Option<std::borrow::Cow<'r, [f64]>> {
    let [t] = req.inputs.as_slice() else {
        return None;
    };
    let f = model.features().len();
    let n = match t.shape.as_slice() {
        [n, w] if *w == f => *n,
        [w] if *w == f => 1,
        _ => return None,
    };
    if model.feature_index(&t.name).is_some() || Some(t.data.len()) != n.checked_mul(f) {
        return None;
    }
    match &t.data {
        Flat::Num(v) => Some(std::borrow::Cow::Borrowed(v)),
        Flat::Json(v) => v
            .iter()
            .map(|j| match Cell::of_json(j) {
                Cell::Number(x) => Some(x),
                _ => None,
            })
            .collect::<Option<Vec<f64>>>()
            .map(std::borrow::Cow::Owned),
        Flat::Text(_) => None,
    }
}

/// A regression's predictions for an inference request, and the encoded
/// rows (empty unless `keep_rows`), once the outputs it names are checked:
/// what [`infer`] answers with, before it is put in JSON (gRPC puts it in
/// protobuf directly). A batch of numbers on numeric features is
/// predicted as a matrix ([`Model::predict_matrix`]).
///
/// # Errors
/// An output other than the model's, inputs that do not fit the model, or
/// bad cells (named).
pub fn regress(
    model: &Model,
    req: &InferRequest,
    keep_rows: bool,
) -> Result<(Vec<Option<f64>>, Vec<Row>), BadRequest> {
    if let Some((o, _)) = req.outputs.iter().find(|(o, _)| o != OUTPUT) {
        return Err(BadRequest(format!(
            "unknown output \"{}\"; the model's output is \"{OUTPUT}\"",
            clip(o)
        )));
    }
    let fast = if keep_rows {
        None
    } else {
        matrix(model, req).and_then(|v| model.predict_matrix(&v, &mut model.monitor.tally()))
    };
    Ok(match fast {
        Some(preds) => (preds, Vec::new()),
        None => {
            let rows = rows(model, req)?;
            let preds = model.predict(&rows)?;
            (preds, rows)
        }
    })
}

/// Run an inference request: the response, the numbers the prediction log
/// records, and the encoded rows (empty unless `keep_rows`: only a log of
/// the features needs them); a regression's through [`regress`].
///
/// # Errors
/// Inputs that do not fit the model, or bad cells (named).
pub fn infer(
    model: &Model,
    req: &InferRequest,
    keep_rows: bool,
) -> Result<Scored<InferResponse>, BadRequest> {
    if model.classifier().is_some() {
        let rows = rows(model, req)?;
        let preds = model.predict(&rows)?;
        return classifier_infer(model, req, &rows).map(|r| (r, preds, rows));
    }
    let (preds, rows) = regress(model, req, keep_rows)?;
    let n = preds.len();
    let mut out = json!({"name": OUTPUT, "datatype": "FP64", "shape": [n]});
    let binary = if req.binary_output {
        let mut b = Vec::with_capacity(n * 8);
        for p in &preds {
            b.extend_from_slice(&p.unwrap_or(f64::NAN).to_le_bytes());
        }
        out["parameters"] = json!({"binary_data_size": b.len()});
        Some(b)
    } else {
        out["data"] = json!(preds);
        None
    };
    let mut doc = json!({
        "model_name": model.name,
        "model_version": model.version,
        "outputs": [out],
    });
    if let Some(id) = &req.id {
        doc["id"] = id.clone();
    }
    Ok((InferResponse { json: doc, binary }, preds, rows))
}

/// A classifier's outputs: `label` (BYTES `[N]`, empty for a dropped row)
/// and `probability` (FP64 `[N, K]`, NaN for a dropped row), those the
/// request names, each in JSON or binary as it asks.
fn classifier_infer(
    model: &Model,
    req: &InferRequest,
    rows: &[Row],
) -> Result<InferResponse, BadRequest> {
    let k = model.classifier().map_or(0, |c| c.classes.len());
    let answers: Vec<_> = rows.iter().map(|r| model.classify(r)).collect();
    let wanted: Vec<(String, bool)> = if req.outputs.is_empty() {
        vec![
            (LABEL.into(), req.binary_output),
            (PROBABILITY.into(), req.binary_output),
        ]
    } else {
        req.outputs.clone()
    };
    let n = answers.len();
    let mut outs = Vec::new();
    let mut binary: Option<Vec<u8>> = None;
    for (name, as_binary) in wanted {
        let (mut out, bytes, data) = if name == LABEL {
            let labels: Vec<String> = answers
                .iter()
                .map(|a| a.as_ref().map(|a| a.label.clone()).unwrap_or_default())
                .collect();
            let mut b = Vec::new();
            for l in &labels {
                b.extend_from_slice(&u32::try_from(l.len()).unwrap_or(0).to_le_bytes());
                b.extend_from_slice(l.as_bytes());
            }
            (
                json!({"name": LABEL, "datatype": "BYTES", "shape": [n]}),
                b,
                json!(labels),
            )
        } else if name == PROBABILITY {
            let probs: Vec<Vec<f64>> = answers
                .iter()
                .map(|a| {
                    a.as_ref()
                        .map_or_else(|| vec![f64::NAN; k], |a| a.probabilities.clone())
                })
                .collect();
            let b: Vec<u8> = probs
                .iter()
                .flatten()
                .flat_map(|p| p.to_le_bytes())
                .collect();
            let flat: Vec<Option<f64>> = probs
                .iter()
                .flatten()
                .map(|p| p.is_finite().then_some(*p))
                .collect();
            (
                json!({"name": PROBABILITY, "datatype": "FP64", "shape": [n, k]}),
                b,
                json!(flat),
            )
        } else {
            return Err(BadRequest(format!(
                "unknown output \"{}\"; a classifier's outputs are \"{LABEL}\" and \"{PROBABILITY}\"",
                clip(&name)
            )));
        };
        if as_binary {
            out["parameters"] = json!({"binary_data_size": bytes.len()});
            binary
                .get_or_insert_with(Vec::new)
                .extend_from_slice(&bytes);
        } else {
            out["data"] = data;
        }
        outs.push(out);
    }
    let mut doc =
        json!({"model_name": model.name, "model_version": model.version, "outputs": outs});
    if let Some(id) = &req.id {
        doc["id"] = id.clone();
    }
    Ok(InferResponse { json: doc, binary })
}

/// `GET /v2/models/{m}`.
#[must_use]
pub fn metadata(model: &Model, versions: &[&str]) -> Json {
    let f = model.features();
    let input = if model.all_numeric() {
        json!([{"name": "input", "datatype": "FP64", "shape": [-1, f.len()]}])
    } else {
        Json::Array(
            f.iter()
                .map(|name| {
                    let dt = if model.artifact.categorical.contains_key(name) {
                        "BYTES"
                    } else {
                        "FP64"
                    };
                    json!({"name": name, "datatype": dt, "shape": [-1]})
                })
                .collect(),
        )
    };
    json!({
        "name": model.name,
        "versions": versions,
        "platform": "mlops",
        "inputs": input,
        "outputs": match model.classifier() {
            Some(c) => json!([
                {"name": LABEL, "datatype": "BYTES", "shape": [-1]},
                {"name": PROBABILITY, "datatype": "FP64", "shape": [-1, c.classes.len()]}
            ]),
            None => json!([{"name": OUTPUT, "datatype": "FP64", "shape": [-1]}]),
        },
    })
}

/// `GET /v2`.
#[must_use]
pub fn server_metadata() -> Json {
    json!({
        "name": "mlops",
        "version": crate::VERSION,
        "extensions": ["binary_tensor_data"],
    })
}

/// The bytes of a response and its `Inference-Header-Content-Length` when binary.
#[must_use]
pub fn encode(resp: &InferResponse) -> (Vec<u8>, Option<usize>) {
    let mut bytes = serde_json::to_vec(&resp.json).unwrap_or_default();
    match &resp.binary {
        Some(b) => {
            let n = bytes.len();
            bytes.extend_from_slice(b);
            (bytes, Some(n))
        }
        None => (bytes, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serve::model::tests::{numeric, toy};

    #[test]
    fn json_matrix() {
        let m = numeric();
        let body = br#"{"id": "r1", "inputs": [{"name": "x", "shape": [2, 2], "datatype": "FP64", "data": [[1, 2], [0, 0]]}]}"#;
        let req = parse(body, None, 10).unwrap();
        let (resp, _, _) = infer(&m, &req, false).unwrap();
        assert_eq!(resp.json["outputs"][0]["data"], json!([9.0, 1.0]));
        assert_eq!(resp.json["outputs"][0]["shape"], json!([2]));
        assert_eq!(resp.json["id"], "r1");
        assert!(resp.binary.is_none());
    }

    #[test]
    fn binary_in_and_out() {
        let m = numeric();
        let head = br#"{"inputs": [{"name": "x", "shape": [1, 2], "datatype": "FP32", "parameters": {"binary_data_size": 8}}], "outputs": [{"name": "prediction", "parameters": {"binary_data": true}}]}"#;
        let mut body = head.to_vec();
        body.extend_from_slice(&1.0f32.to_le_bytes());
        body.extend_from_slice(&2.0f32.to_le_bytes());
        let req = parse(&body, Some(head.len()), 10).unwrap();
        let (resp, _, _) = infer(&m, &req, false).unwrap();
        let (bytes, n) = encode(&resp);
        let n = n.unwrap();
        let doc: Json = serde_json::from_slice(&bytes[..n]).unwrap();
        assert_eq!(doc["outputs"][0]["parameters"]["binary_data_size"], 8);
        assert_eq!(f64::from_le_bytes(bytes[n..].try_into().unwrap()), 9.0);
    }

    #[test]
    fn one_input_per_feature_with_bytes() {
        let m = toy("error");
        let head = br#"{"inputs": [{"name": "a", "shape": [2], "datatype": "FP64", "data": [1, 0]}, {"name": "b", "shape": [2, 1], "datatype": "INT64", "data": [2, 0]}, {"name": "c", "shape": [2], "datatype": "BYTES", "parameters": {"binary_data_size": 10}}]}"#;
        let mut body = head.to_vec();
        for s in ["z", "w"] {
            body.extend_from_slice(&1u32.to_le_bytes());
            body.extend_from_slice(s.as_bytes());
        }
        let req = parse(&body, Some(head.len()), 10).unwrap();
        let (resp, _, _) = infer(&m, &req, false).unwrap();
        assert_eq!(resp.json["outputs"][0]["data"], json!([19.0, 1.0]));
        assert_eq!(metadata(&m, &["v1.0.0"])["inputs"][2]["datatype"], "BYTES");
    }

    #[test]
    fn bad_requests() {
        let m = numeric();
        let cases: [(&[u8], Option<usize>, &str); 8] = [
            (b"{", None, "not valid JSON"),
            (br#"{"inputs": [{"name": "x", "shape": [1, 3], "datatype": "FP64", "data": [1, 2]}]}"#, None, "holds 3 values but the data has 2"),
            (br#"{"inputs": [{"name": "x", "shape": [1, 3], "datatype": "FP64", "data": [1, 2, 3]}]}"#, None, "has 3 columns but the model has 2"),
            (br#"{"inputs": [{"name": "x", "shape": [1, 2], "datatype": "FP64", "data": [1, "a"]}]}"#, None, "row 0: feature \"b\" must be a number"),
            (br#"{"inputs": [{"name": "x", "shape": [1, 2], "datatype": "FP64", "data": [1, 2]}], "outputs": [{"name": "y"}]}"#, None, "unknown output \"y\""),
            (br#"{"inputs": [{"name": "x", "shape": [11, 0], "datatype": "FP64", "data": []}]}"#, None, "more than the limit of 10"),
            (br#"{"inputs": [{"name": "x", "shape": [1, 2], "datatype": "FP64", "parameters": {"binary_data_size": 16}}]}"#, Some(200), "but the body has"),
            (br#"{"inputs": [{"name": "a", "shape": [1], "datatype": "FP64", "data": [1]}]}"#, None, "input for feature \"b\" is missing"),
        ];
        for (body, hl, want) in cases {
            let e = parse(body, hl, 10)
                .and_then(|r| infer(&m, &r, false).map(|_| ()))
                .unwrap_err();
            assert!(
                e.0.contains(want),
                "{}: {e} lacks {want}",
                String::from_utf8_lossy(body)
            );
        }
        let head = br#"{"inputs": [{"name": "x", "shape": [1, 2], "datatype": "FP64", "parameters": {"binary_data_size": 16}}]}"#;
        let mut body = head.to_vec();
        body.extend_from_slice(&f64::NAN.to_le_bytes());
        body.extend_from_slice(&1.0f64.to_le_bytes());
        let e = parse(&body, Some(head.len()), 10)
            .and_then(|r| infer(&m, &r, false).map(|_| ()))
            .unwrap_err();
        assert!(e.0.contains("row 0: feature \"a\" is not finite"), "{e}");
    }

    #[test]
    fn extra_inputs_are_ignored_unless_strict() {
        let body = br#"{"inputs": [{"name": "a", "shape": [1], "datatype": "FP64", "data": [1]}, {"name": "b", "shape": [1], "datatype": "FP64", "data": [2]}, {"name": "id", "shape": [1], "datatype": "FP64", "data": [7]}]}"#;
        let r = parse(body, None, 10).unwrap();
        let (_, preds, _) = infer(&numeric(), &r, false).unwrap();
        assert_eq!(preds, vec![Some(1.0 + 2.0 + 6.0)]);
        let e = infer(&numeric().strict(true), &r, false).unwrap_err();
        assert!(
            e.0.contains("unknown input \"id\" ([serve] strict_features"),
            "{e}"
        );
    }
}
