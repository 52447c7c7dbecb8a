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
