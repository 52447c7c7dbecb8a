//! Protobuf tensors to and from the V2 request and answer of
//! [`crate::serve::v2`], which decides everything about the model: here only
//! what the gRPC messages add (typed contents or `raw_input_contents`, one
//! per input; raw output contents by default).

use serde_json::Value as Json;

use super::super::model::{BadRequest, clip};
use super::super::v2::{self, Input, Values};
use super::proto::model_infer_request::InferInputTensor;
use super::proto::model_infer_response::InferOutputTensor;
use super::proto::model_metadata_response::TensorMetadata;
use super::proto::{
    InferParameter, InferTensorContents, ModelInferRequest, ModelInferResponse,
    ModelMetadataResponse, ServerMetadataResponse, infer_parameter::ParameterChoice,
};

/// Bytes per value of a fixed-size datatype this service reads.
fn width(datatype: &str) -> Option<usize> {
    match datatype {
        "FP64" | "INT64" => Some(8),
        "FP32" | "INT32" => Some(4),
        _ => None,
    }
}

/// The contents field that carries `datatype`.
fn field_of(datatype: &str) -> Option<&'static str> {
    match datatype {
        "FP64" => Some("fp64_contents"),
        "FP32" => Some("fp32_contents"),
        "INT64" => Some("int64_contents"),
        "INT32" => Some("int_contents"),
        "BYTES" => Some("bytes_contents"),
        _ => None,
    }
}

/// The contents fields that hold values.
fn filled(c: &InferTensorContents) -> Vec<&'static str> {
    [
        ("bool_contents", c.bool_contents.is_empty()),
        ("int_contents", c.int_contents.is_empty()),
        ("int64_contents", c.int64_contents.is_empty()),
        ("uint_contents", c.uint_contents.is_empty()),
        ("uint64_contents", c.uint64_contents.is_empty()),
        ("fp32_contents", c.fp32_contents.is_empty()),
        ("fp64_contents", c.fp64_contents.is_empty()),
        ("bytes_contents", c.bytes_contents.is_empty()),
    ]
    .into_iter()
    .filter(|(_, empty)| !empty)
    .map(|(name, _)| name)
    .collect()
}

/// The values of a typed input, from the one contents field its datatype
/// names.
#[allow(clippy::cast_precision_loss)]
fn typed(i: &InferInputTensor, field: &str) -> Result<Values<'static>, BadRequest> {
    let c = i.contents.clone().unwrap_or_default();
    let given = filled(&c);
    if let Some(other) = given.iter().find(|f| **f != field) {
        return Err(BadRequest(format!(
            "input \"{}\": datatype {} takes contents.{field}, but contents.{other} is given",
            clip(&i.name),
            clip(&i.datatype)
        )));
    }
    if given.is_empty() {
        return Err(BadRequest(format!(
            "input \"{}\" has no data: set contents.{field} or raw_input_contents",
            clip(&i.name)
        )));
    }
    Ok(match field {
        "fp64_contents" => Values::Numbers(c.fp64_contents),
        "fp32_contents" => Values::Numbers(c.fp32_contents.into_iter().map(f64::from).collect()),
        "int64_contents" => Values::Numbers(c.int64_contents.iter().map(|v| *v as f64).collect()),
        "int_contents" => Values::Numbers(c.int_contents.into_iter().map(f64::from).collect()),
        _ => Values::Texts(
            c.bytes_contents
                .iter()
                .map(|b| {
                    String::from_utf8(b.to_vec()).map_err(|_| {
                        BadRequest(format!(
                            "input \"{}\": contents.bytes_contents holds bytes that are not UTF-8",
                            clip(&i.name)
                        ))
                    })
                })
                .collect::<Result<_, _>>()?,
        ),
    })
}

/// The values of input `k` given in `raw_input_contents[k]`, whose length
/// must be the shape's values times the datatype's width.
fn raw<'a>(i: &InferInputTensor, k: usize, bytes: &'a [u8]) -> Result<Values<'a>, BadRequest> {
    if i.contents.as_ref().is_some_and(|c| !filled(c).is_empty()) {
        return Err(BadRequest(format!(
            "input \"{}\" has both contents and raw_input_contents[{k}]; send one",
            clip(&i.name)
        )));
    }
    if let Some(w) = width(&i.datatype) {
        let values = i.shape.iter().try_fold(1u64, |a, d| {
            u64::try_from(*d).ok().and_then(|d| a.checked_mul(d))
        });
        let want = values.and_then(|v| v.checked_mul(w as u64));
        if want != Some(bytes.len() as u64) {
            return Err(BadRequest(format!(
                "raw_input_contents[{k}] (input \"{}\") has {} bytes but shape {:?} of {} takes {}",
                clip(&i.name),
                bytes.len(),
                i.shape,
                i.datatype,
                want.map_or_else(|| "no whole number of".to_string(), |n| n.to_string()),
            )));
        }
    }
    Ok(Values::Raw(bytes))
}

/// Whether outputs go back as `raw_output_contents`: yes unless the
/// request's `binary_data_output` parameter is false.
fn raw_output(req: &ModelInferRequest) -> bool {
    !matches!(
        req.parameters.get("binary_data_output"),
        Some(InferParameter {
            parameter_choice: Some(ParameterChoice::BoolParam(false))
        })
    )
}

/// The V2 request a `ModelInfer` call makes, at most `max_rows` rows.
///
/// # Errors
/// A datatype this service does not read, contents that do not match the
/// datatype, both contents and raw bytes for one input, raw bytes of the
/// wrong length, a `raw_input_contents` count that is not the inputs'
/// count, and whatever [`v2::request`] refuses.
pub fn request(req: &ModelInferRequest, max_rows: usize) -> Result<v2::InferRequest, BadRequest> {
    let raw_given = !req.raw_input_contents.is_empty();
    if raw_given && req.raw_input_contents.len() != req.inputs.len() {
        return Err(BadRequest(format!(
            "raw_input_contents has {} entries but the request has {} inputs; give one per input, in order",
            req.raw_input_contents.len(),
            req.inputs.len()
        )));
    }
    let mut inputs = Vec::with_capacity(req.inputs.len());
    for (k, i) in req.inputs.iter().enumerate() {
        let Some(field) = field_of(&i.datatype) else {
            return Err(BadRequest(format!(
                "input \"{}\": datatype \"{}\" is not supported; use FP64, FP32, INT64, INT32 or BYTES",
                clip(&i.name),
                clip(&i.datatype)
            )));
        };
        let values = if raw_given {
            raw(i, k, &req.raw_input_contents[k])?
        } else {
            typed(i, field)?
        };
        inputs.push(Input {
            name: i.name.clone(),
            datatype: i.datatype.clone(),
            shape: i.shape.clone(),
            values,
        });
    }
    let id = (!req.id.is_empty()).then(|| req.id.clone());
    let outputs = req.outputs.iter().map(|o| o.name.clone()).collect();
    v2::request(id, inputs, outputs, raw_output(req), max_rows)
}

/// The `ModelInfer` answer of a regression, built directly (what
/// [`response`] makes of [`v2::infer`]'s JSON, without the JSON): the
/// predictions as output `prediction`, FP64 `[N]`, raw unless the request
/// asks for typed contents; NaN for a dropped row.
#[must_use]
pub fn regression(
    (name, version): (&str, &str),
    req: &ModelInferRequest,
    preds: &[Option<f64>],
) -> ModelInferResponse {
    let values = preds.iter().map(|p| p.unwrap_or(f64::NAN));
    let mut out = InferOutputTensor {
        name: v2::OUTPUT.to_string(),
        datatype: "FP64".to_string(),
        shape: vec![i64::try_from(preds.len()).unwrap_or(i64::MAX)],
        ..InferOutputTensor::default()
    };
    let mut raw_output_contents = Vec::new();
    if raw_output(req) {
        let mut b = Vec::with_capacity(preds.len() * 8);
        for v in values {
            b.extend_from_slice(&v.to_le_bytes());
        }
        raw_output_contents.push(bytes::Bytes::from(b));
    } else {
        out.contents = Some(InferTensorContents {
            fp64_contents: values.collect(),
            ..InferTensorContents::default()
        });
    }
    ModelInferResponse {
        model_name: name.to_string(),
        model_version: version.to_string(),
        id: req.id.clone(),
        outputs: vec![out],
        raw_output_contents,
        ..ModelInferResponse::default()
    }
}

fn shape_of(v: &Json) -> Vec<i64> {
    v.as_array()
        .map(|a| a.iter().filter_map(Json::as_i64).collect())
        .unwrap_or_default()
}

fn text(v: &Json, key: &str) -> String {
    v[key].as_str().unwrap_or_default().to_string()
}

/// The `ModelInfer` answer from the V2 answer: each binary output's bytes
/// in `raw_output_contents`, in order; JSON data as typed contents.
#[must_use]
pub fn response(resp: v2::InferResponse) -> ModelInferResponse {
    let doc = &resp.json;
    let binary = bytes::Bytes::from(resp.binary.unwrap_or_default());
    let mut at: usize = 0;
    let mut outputs = Vec::new();
    let mut raw_output_contents = Vec::new();
    for o in doc["outputs"].as_array().into_iter().flatten() {
        let mut out = InferOutputTensor {
            name: text(o, "name"),
            datatype: text(o, "datatype"),
            shape: shape_of(&o["shape"]),
            ..InferOutputTensor::default()
        };
        if let Some(n) = o["parameters"]["binary_data_size"].as_u64() {
            let end = usize::try_from(n)
                .ok()
                .and_then(|n| at.checked_add(n))
                .map_or(binary.len(), |e| e.min(binary.len()));
            raw_output_contents.push(binary.slice(at..end));
            at = end;
        } else {
            let data = o["data"].as_array().map_or(&[][..], Vec::as_slice);
            let mut c = InferTensorContents::default();
            if out.datatype == "BYTES" {
                c.bytes_contents = data
                    .iter()
                    .map(|v| bytes::Bytes::from(v.as_str().unwrap_or_default().to_string()))
                    .collect();
            } else {
                c.fp64_contents = data
                    .iter()
                    .map(|v| v.as_f64().unwrap_or(f64::NAN))
                    .collect();
            }
            out.contents = Some(c);
        }
        outputs.push(out);
    }
    ModelInferResponse {
        model_name: text(doc, "model_name"),
        model_version: text(doc, "model_version"),
        id: text(doc, "id"),
        outputs,
        raw_output_contents,
        ..ModelInferResponse::default()
    }
}

fn tensors(v: &Json) -> Vec<TensorMetadata> {
    v.as_array()
        .into_iter()
        .flatten()
        .map(|t| TensorMetadata {
            name: text(t, "name"),
            datatype: text(t, "datatype"),
            shape: shape_of(&t["shape"]),
        })
        .collect()
}

/// `ModelMetadata` from the V2 metadata document.
#[must_use]
pub fn model_metadata(doc: &Json) -> ModelMetadataResponse {
    ModelMetadataResponse {
        name: text(doc, "name"),
        versions: doc["versions"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        platform: text(doc, "platform"),
        inputs: tensors(&doc["inputs"]),
        outputs: tensors(&doc["outputs"]),
    }
}

/// `ServerMetadata` from the V2 server metadata document.
#[must_use]
pub fn server_metadata(doc: &Json) -> ServerMetadataResponse {
    ServerMetadataResponse {
        name: text(doc, "name"),
        version: text(doc, "version"),
        extensions: doc["extensions"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serve::model::tests::numeric;
    use crate::serve::v2::infer;

    fn input(
        name: &str,
        datatype: &str,
        shape: &[i64],
        c: Option<InferTensorContents>,
    ) -> InferInputTensor {
        InferInputTensor {
            name: name.into(),
            datatype: datatype.into(),
            shape: shape.to_vec(),
            contents: c,
            ..InferInputTensor::default()
        }
    }

    fn fp64(v: &[f64]) -> Option<InferTensorContents> {
        Some(InferTensorContents {
            fp64_contents: v.to_vec(),
            ..InferTensorContents::default()
        })
    }

    #[test]
    fn typed_and_raw_give_the_same_raw_answer() {
        let m = numeric();
        let typed_req = ModelInferRequest {
            id: "r1".into(),
            inputs: vec![input("x", "FP64", &[2, 2], fp64(&[1.0, 2.0, 0.0, 0.0]))],
            ..ModelInferRequest::default()
        };
        let raw_bytes: Vec<u8> = [1.0f64, 2.0, 0.0, 0.0]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let raw_req = ModelInferRequest {
            inputs: vec![input("x", "FP64", &[2, 2], None)],
            raw_input_contents: vec![raw_bytes.into()],
            ..ModelInferRequest::default()
        };
        for req in [typed_req, raw_req] {
            let (out, _, _) = infer(&m, &request(&req, 10).unwrap(), false).unwrap();
            let r = response(out);
            assert_eq!(r.id, req.id);
            assert_eq!(r.outputs[0].name, "prediction");
            assert_eq!(r.outputs[0].shape, vec![2]);
            let got: Vec<f64> = r.raw_output_contents[0]
                .chunks_exact(8)
                .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
                .collect();
            assert_eq!(got, vec![9.0, 1.0]);
        }
    }

    #[test]
    fn typed_output_on_request() {
        let m = numeric();
        let mut req = ModelInferRequest {
            inputs: vec![input("x", "FP64", &[1, 2], fp64(&[1.0, 2.0]))],
            ..ModelInferRequest::default()
        };
        req.parameters.insert(
            "binary_data_output".into(),
            InferParameter {
                parameter_choice: Some(ParameterChoice::BoolParam(false)),
            },
        );
        let (out, _, _) = infer(&m, &request(&req, 10).unwrap(), false).unwrap();
        let r = response(out);
        assert!(r.raw_output_contents.is_empty());
        assert_eq!(
            r.outputs[0].contents.as_ref().unwrap().fp64_contents,
            vec![9.0]
        );
    }

    #[test]
    fn refusals_name_the_field() {
        let f32c = Some(InferTensorContents {
            fp32_contents: vec![1.0, 2.0],
            ..InferTensorContents::default()
        });
        let cases: Vec<(ModelInferRequest, &str)> = vec![
            (
                ModelInferRequest {
                    inputs: vec![input("x", "FP64", &[1, 2], f32c.clone())],
                    ..ModelInferRequest::default()
                },
                "datatype FP64 takes contents.fp64_contents, but contents.fp32_contents is given",
            ),
            (
                ModelInferRequest {
                    inputs: vec![input("x", "FP64", &[1, 2], fp64(&[1.0, 2.0]))],
                    raw_input_contents: vec![vec![0u8; 16].into()],
                    ..ModelInferRequest::default()
                },
                "has both contents and raw_input_contents[0]",
            ),
            (
                ModelInferRequest {
                    inputs: vec![input("x", "FP64", &[1, 2], None)],
                    raw_input_contents: vec![vec![0u8; 12].into()],
                    ..ModelInferRequest::default()
                },
                "raw_input_contents[0] (input \"x\") has 12 bytes but shape [1, 2] of FP64 takes 16",
            ),
            (
                ModelInferRequest {
                    inputs: vec![
                        input("x", "FP64", &[1, 2], None),
                        input("y", "FP64", &[1], None),
                    ],
                    raw_input_contents: vec![vec![0u8; 16].into()],
                    ..ModelInferRequest::default()
                },
                "raw_input_contents has 1 entries but the request has 2 inputs",
            ),
            (
                ModelInferRequest {
                    inputs: vec![input("x", "UINT8", &[1, 2], None)],
                    ..ModelInferRequest::default()
                },
                "datatype \"UINT8\" is not supported",
            ),
            (
                ModelInferRequest {
                    inputs: vec![input("x", "FP64", &[1, 2], None)],
                    ..ModelInferRequest::default()
                },
                "input \"x\" has no data: set contents.fp64_contents or raw_input_contents",
            ),
            (ModelInferRequest::default(), "the request has no inputs"),
        ];
        for (req, want) in cases {
            let e = request(&req, 10).unwrap_err();
            assert!(e.0.contains(want), "{e} lacks {want}");
        }
    }

    #[test]
    fn metadata_documents_convert() {
        let m = numeric();
        let md = model_metadata(&v2::metadata(&m, &["v1"]));
        assert_eq!(md.versions, vec!["v1"]);
        assert_eq!(md.inputs[0].shape, vec![-1, 2]);
        assert_eq!(md.outputs[0].name, "prediction");
        let s = server_metadata(&v2::server_metadata());
        assert_eq!(s.name, "mlops");
        assert_eq!(s.extensions, vec!["binary_tensor_data"]);
    }

    /// The regression's answer built directly equals the one made from
    /// the V2 JSON answer, raw and typed, with and without an id.
    #[test]
    fn regression_answer_equals_the_json_route() {
        let m = numeric();
        let raw_bytes: Vec<u8> = [1.0f64, 2.0, 0.5, -3.25]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        for (id, typed) in [("", false), ("r-7", false), ("r-8", true)] {
            let mut req = ModelInferRequest {
                id: id.into(),
                model_name: "toy".into(),
                inputs: vec![input("x", "FP64", &[2, 2], None)],
                raw_input_contents: vec![raw_bytes.clone().into()],
                ..ModelInferRequest::default()
            };
            if typed {
                req.parameters.insert(
                    "binary_data_output".into(),
                    InferParameter {
                        parameter_choice: Some(ParameterChoice::BoolParam(false)),
                    },
                );
            }
            let parsed = request(&req, 10).unwrap();
            let (out, preds, _) = infer(&m, &parsed, false).unwrap();
            let direct = regression((&m.name, &m.version), &req, &preds);
            assert_eq!(direct, response(out), "id {id:?}, typed {typed}");
        }
    }
}
