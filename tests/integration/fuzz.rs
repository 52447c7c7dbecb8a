//! Property tests of the parsers that read what others write (issue 21):
//! the bundle reader, the project file, and the request parsers of `serve`
//! (REST, V2 JSON and binary, MLflow). Each must answer every input with a
//! value or an error, never a panic. 2,000 cases each by default;
//! `PROPTEST_CASES=1000000 cargo test --release fuzz` for a long run.

use std::sync::OnceLock;

use proptest::prelude::*;

use crate::common::{example_toml, train_in_process};

/// `n` cases unless `PROPTEST_CASES` says otherwise.
fn cases(n: u32) -> ProptestConfig {
    let mut c = ProptestConfig::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        c.cases = n;
    }
    c
}

/// A JSON value, nested up to a few levels, of the kinds requests use.
fn json() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<f64>().prop_map(|x| serde_json::json!(x)),
        any::<i64>().prop_map(|x| serde_json::json!(x)),
        "[a-z_]{0,8}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 40, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::vec(
                (
                    prop_oneof![
                        Just("features".to_string()),
                        Just("instances".to_string()),
                        Just("inputs".to_string()),
                        Just("name".to_string()),
                        Just("shape".to_string()),
                        Just("datatype".to_string()),
                        Just("data".to_string()),
                        Just("key".to_string()),
                        Just("parameters".to_string()),
                        Just("binary_data_size".to_string()),
                        Just("dataframe_split".to_string()),
                        Just("dataframe_records".to_string()),
                        Just("columns".to_string()),
                        "[a-z]{1,6}",
                    ],
                    inner
                ),
                0..6
            )
            .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// A request body: JSON built from [`json`], or arbitrary bytes.
fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        json().prop_map(|v| v.to_string().into_bytes()),
        proptest::collection::vec(any::<u8>(), 0..200),
    ]
}

fn model() -> &'static mlops::serve::Model {
    static MODEL: OnceLock<mlops::serve::Model> = OnceLock::new();
    MODEL.get_or_init(|| {
        mlops::serve::Model::new(train_in_process(&example_toml()), "v1.0.0", "0").unwrap()
    })
}

proptest! {
    #![proptest_config(cases(2000))]
    #[test]
    fn fuzz_rest_request_parsing_never_panics(b in body(), rows in 0usize..5) {
        let _ = mlops::serve::rest::parse(&b, rows);
    }

    #[test]
    fn fuzz_v2_request_parsing_never_panics(
        b in body(),
        tail in proptest::collection::vec(any::<u8>(), 0..64),
        header in proptest::option::of(0usize..400),
        rows in 0usize..5,
    ) {
        let mut bytes = b;
        bytes.extend_from_slice(&tail);
        let _ = mlops::serve::v2::parse(&bytes, header, rows);
    }

    #[test]
    fn fuzz_mlflow_payload_parsing_never_panics(
        b in body(),
        csv in proptest::bool::ANY,
        rows in 0usize..5,
    ) {
        let ct = if csv { "text/csv" } else { "application/json" };
        let _ = mlops::serve::mlflow::invocations(model(), Some(ct), &b, rows);
    }

    #[test]
    fn fuzz_bundle_reader_never_panics(
        entries in proptest::collection::vec(("[a-z./]{1,12}", proptest::collection::vec(any::<u8>(), 0..40)), 0..4),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
        cut in any::<prop::sample::Index>(),
        raw in proptest::collection::vec(any::<u8>(), 0..100),
    ) {
        let _ = mlops::bundle::read(&raw, "raw.tar.gz");
        let entries: Vec<mlops::bundle::Entry> = entries
            .into_iter()
            .map(|(path, bytes)| mlops::bundle::Entry { path, bytes })
            .collect();
        if let Ok(mut b) = mlops::bundle::build(&entries, 0) {
            let _ = mlops::bundle::read(&b, "b.tar.gz");
            for (at, x) in flips {
                let i = at.index(b.len());
                b[i] ^= x;
            }
            let _ = mlops::bundle::read(&b, "b.tar.gz");
            b.truncate(cut.index(b.len() + 1));
            let _ = mlops::bundle::read(&b, "b.tar.gz");
        }
    }

    #[test]
    fn fuzz_project_file_parsing_never_panics(
        lines in proptest::collection::vec(
            prop_oneof![
                Just("[project]".to_string()),
                Just("[data]".to_string()),
                Just("[model]".to_string()),
                Just("[serve]".to_string()),
                Just("[registry]".to_string()),
                Just("[environments.prod]".to_string()),
                Just("[validate.data]".to_string()),
                "[a-z_.]{1,12} = (\"[a-z0-9./:]{0,10}\"|-?[0-9]{1,12}|[0-9]\\.[0-9]e[0-9]{1,3}|true|\\[\\]|\\{\\})",
                "\\PC{0,30}",
            ],
            0..20,
        ),
    ) {
        let text = lines.join("\n");
        let _ = mlops::project::parse(&text, "mlops.toml");
    }
}

mod grpc {
    //! The gRPC decoder (`serve::grpc::convert`): a `ModelInferRequest`
    //! built from random inputs, typed contents or raw bytes, random
    //! shapes, datatypes and lengths, never panics, and either decodes to
    //! rows the model scores or is refused with INVALID_ARGUMENT (a 400)
    //! whose message names the field at fault.

    use std::collections::HashMap;

    use mlops::serve::grpc::convert;
    use mlops::serve::grpc::proto::model_infer_request::{
        InferInputTensor, InferRequestedOutputTensor,
    };
    use mlops::serve::grpc::proto::{
        InferParameter, InferTensorContents, ModelInferRequest, infer_parameter::ParameterChoice,
    };
    use mlops::serve::grpc::service::code_of;
    use mlops::serve::model::BadRequest;
    use proptest::prelude::*;

    use super::{cases, model};

    /// What a refusal's message must name: the input, output or row at
    /// fault, or the request field (`inputs`, `raw_input_contents`).
    const FIELDS: [&str; 7] = [
        "input \"",
        "input for feature \"",
        "output \"",
        "raw_input_contents",
        "the request has no inputs",
        "row ",
        "contents.",
    ];

    /// The model's features (the example's: six numbers and
    /// `neighborhood`).
    fn features() -> Vec<String> {
        model().features().to_vec()
    }

    fn name() -> impl Strategy<Value = String> {
        prop_oneof![
            4 => prop::sample::select(features()),
            1 => Just("input".to_string()),
            1 => Just(String::new()),
            1 => "\\PC{0,12}",
        ]
    }

    fn datatype() -> impl Strategy<Value = String> {
        prop_oneof![
            3 => prop::sample::select(vec!["FP64", "FP32", "INT64", "INT32", "BYTES"])
                .prop_map(str::to_string),
            1 => prop::sample::select(vec!["BOOL", "UINT8", "FP16", "", "fp64"])
                .prop_map(str::to_string),
            1 => "[A-Z0-9]{0,6}",
        ]
    }

    fn dim() -> impl Strategy<Value = i64> {
        prop_oneof![
            6 => 0i64..5,
            1 => Just(7i64),
            1 => Just(-1i64),
            1 => Just(i64::MAX),
            1 => Just(i64::MIN),
            1 => Just(1i64 << 32),
            1 => any::<i64>(),
        ]
    }

    fn text() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            prop::sample::select(vec!["eastside", "westside", "north", "", "zzz"])
                .prop_map(|s| s.as_bytes().to_vec()),
            prop::collection::vec(any::<u8>(), 0..12),
        ]
    }

    fn number() -> impl Strategy<Value = f64> {
        prop_oneof![
            4 => -10.0f64..3000.0,
            1 => any::<f64>(),
            1 => Just(f64::NAN),
            1 => Just(f64::INFINITY),
            1 => Just(1e308),
        ]
    }

    /// Typed contents: usually one field, sometimes two or none.
    fn contents() -> impl Strategy<Value = Option<InferTensorContents>> {
        let n = 0usize..9;
        prop::option::weighted(
            0.9,
            (
                prop::sample::subsequence(vec![0u8, 1, 2, 3, 4, 5, 6, 7], 0..3),
                prop::collection::vec(number(), n.clone()),
                prop::collection::vec(any::<i64>(), n.clone()),
                prop::collection::vec(text(), n),
            )
                .prop_map(|(fields, xs, ints, texts)| {
                    let mut c = InferTensorContents::default();
                    for f in fields {
                        match f {
                            0 => c.fp64_contents.clone_from(&xs),
                            #[allow(clippy::cast_possible_truncation)]
                            1 => c.fp32_contents = xs.iter().map(|x| *x as f32).collect(),
                            2 => c.int64_contents.clone_from(&ints),
                            #[allow(clippy::cast_possible_truncation)]
                            3 => c.int_contents = ints.iter().map(|x| *x as i32).collect(),
                            4 => {
                                c.bytes_contents =
                                    texts.iter().cloned().map(bytes::Bytes::from).collect();
                            }
                            5 => c.bool_contents = ints.iter().map(|x| x % 2 == 0).collect(),
                            #[allow(clippy::cast_sign_loss)]
                            6 => c.uint64_contents = ints.iter().map(|x| *x as u64).collect(),
                            _ => c.uint_contents = vec![1, 2],
                        }
                    }
                    c
                }),
        )
    }

    fn input() -> impl Strategy<Value = InferInputTensor> {
        (
            name(),
            datatype(),
            prop::collection::vec(dim(), 0..4),
            contents(),
        )
            .prop_map(|(name, datatype, shape, contents)| InferInputTensor {
                name,
                datatype,
                shape,
                parameters: HashMap::new(),
                contents,
            })
    }

    /// A well-formed request of `n` rows, one input per feature, typed or
    /// raw; the fuzzing then breaks it (or not).
    fn valid(n: usize, raw: bool) -> ModelInferRequest {
        let mut req = ModelInferRequest {
            model_name: "house-price".into(),
            ..ModelInferRequest::default()
        };
        for f in features() {
            let mut i = InferInputTensor {
                name: f.clone(),
                datatype: if f == "neighborhood" { "BYTES" } else { "FP64" }.into(),
                shape: vec![i64::try_from(n).unwrap()],
                ..InferInputTensor::default()
            };
            let mut c = InferTensorContents::default();
            if f == "neighborhood" {
                c.bytes_contents = vec![bytes::Bytes::from_static(b"eastside"); n];
            } else {
                c.fp64_contents = vec![3.0; n];
            }
            if raw {
                let bytes: Vec<u8> = if f == "neighborhood" {
                    (0..n)
                        .flat_map(|_| {
                            let mut b = 8u32.to_le_bytes().to_vec();
                            b.extend_from_slice(b"eastside");
                            b
                        })
                        .collect()
                } else {
                    (0..n).flat_map(|_| 3.0f64.to_le_bytes()).collect()
                };
                req.raw_input_contents.push(bytes::Bytes::from(bytes));
            } else {
                i.contents = Some(c);
            }
            req.inputs.push(i);
        }
        req
    }

    /// A change to a valid request.
    #[derive(Debug, Clone)]
    enum Break {
        Input(usize, InferInputTensor),
        Push(InferInputTensor),
        Drop(usize),
        Shape(usize, Vec<i64>),
        Datatype(usize, String),
        Raw(usize, Vec<u8>),
        RawCount(usize),
        Output(String),
        BinaryOutput(bool),
    }

    fn brk() -> impl Strategy<Value = Break> {
        prop_oneof![
            input().prop_map(|i| Break::Input(0, i)),
            (0usize..7, input()).prop_map(|(k, i)| Break::Input(k, i)),
            input().prop_map(Break::Push),
            (0usize..7).prop_map(Break::Drop),
            (0usize..7, prop::collection::vec(dim(), 0..4)).prop_map(|(k, s)| Break::Shape(k, s)),
            (0usize..7, datatype()).prop_map(|(k, d)| Break::Datatype(k, d)),
            (0usize..7, prop::collection::vec(any::<u8>(), 0..40))
                .prop_map(|(k, b)| Break::Raw(k, b)),
            (0usize..9).prop_map(Break::RawCount),
            prop_oneof![
                Just("predict".to_string()),
                Just("prediction".to_string()),
                "[a-z]{0,8}",
            ]
            .prop_map(Break::Output),
            any::<bool>().prop_map(Break::BinaryOutput),
        ]
    }

    fn apply(req: &mut ModelInferRequest, b: Break) {
        let n = req.inputs.len();
        match b {
            Break::Input(k, i) if k < n => req.inputs[k] = i,
            Break::Push(i) | Break::Input(_, i) => req.inputs.push(i),
            Break::Drop(k) if k < n => {
                req.inputs.remove(k);
                if k < req.raw_input_contents.len() {
                    req.raw_input_contents.remove(k);
                }
            }
            Break::Shape(k, s) if k < n => req.inputs[k].shape = s,
            Break::Datatype(k, d) if k < n => req.inputs[k].datatype = d,
            Break::Raw(k, bytes) => {
                if k < req.raw_input_contents.len() {
                    req.raw_input_contents[k] = bytes::Bytes::from(bytes);
                } else {
                    req.raw_input_contents.push(bytes::Bytes::from(bytes));
                }
            }
            Break::RawCount(c) => req.raw_input_contents.truncate(c),
            Break::Output(name) => req.outputs.push(InferRequestedOutputTensor {
                name,
                parameters: HashMap::new(),
            }),
            Break::BinaryOutput(b) => {
                req.parameters.insert(
                    "binary_data_output".into(),
                    InferParameter {
                        parameter_choice: Some(ParameterChoice::BoolParam(b)),
                    },
                );
            }
            _ => {}
        }
    }

    /// Decode and score `req`: rows, or a 400 naming a field.
    fn check(req: &ModelInferRequest, max_rows: usize) -> Result<usize, String> {
        let refused = |BadRequest(m): BadRequest| {
            assert!(
                FIELDS.iter().any(|f| m.contains(f)),
                "a refusal that names no field: {m}"
            );
            assert_eq!(code_of(400), tonic::Code::InvalidArgument);
            m
        };
        let parsed = convert::request(req, max_rows).map_err(refused)?;
        // Rows kept: the row-by-row path, whose rows the log would record.
        let (_, preds, rows) = mlops::serve::v2::infer(model(), &parsed, true).map_err(refused)?;
        assert_eq!(preds.len(), rows.len());
        assert!(rows.len() <= max_rows);
        // And the matrix path, where it applies, agrees to the last bit.
        let (_, fast, _) = mlops::serve::v2::infer(model(), &parsed, false).map_err(refused)?;
        let bits = |p: &[Option<f64>]| p.iter().map(|v| v.map(f64::to_bits)).collect::<Vec<_>>();
        assert_eq!(bits(&fast), bits(&preds));
        Ok(rows.len())
    }

    #[test]
    fn fuzz_grpc_valid_requests_decode_to_rows() {
        for raw in [false, true] {
            for n in 1..4 {
                assert_eq!(check(&valid(n, raw), 10), Ok(n), "raw {raw}, {n} rows");
            }
        }
    }

    proptest! {
        #![proptest_config(cases(2000))]
        #[test]
        fn fuzz_grpc_decoder_never_panics_and_names_the_field(
            n in 0usize..4,
            raw in any::<bool>(),
            breaks in prop::collection::vec(brk(), 0..4),
            max_rows in 1usize..5,
        ) {
            let mut req = valid(n, raw);
            for b in breaks {
                apply(&mut req, b);
            }
            let _ = check(&req, max_rows);
        }

        #[test]
        fn fuzz_grpc_random_inputs_never_panic(
            inputs in prop::collection::vec(input(), 0..5),
            raw in prop::option::of(prop::collection::vec(prop::collection::vec(any::<u8>(), 0..40), 0..5)),
            max_rows in 1usize..5,
        ) {
            let req = ModelInferRequest {
                model_name: "house-price".into(),
                inputs,
                raw_input_contents: raw.unwrap_or_default().into_iter().map(bytes::Bytes::from).collect(),
                ..ModelInferRequest::default()
            };
            let _ = check(&req, max_rows);
        }
    }
}
