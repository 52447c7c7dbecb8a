//! Parquet inputs: files written by pyarrow (four codecs, several row
//! groups, a dictionary-encoded column), polars and DuckDB
//! (tests/data/parquet/, made by make.py there) give the model of the same
//! data as CSV bit for bit, on both fitting paths; nulls follow
//! `data.missing`; errors name the file, row group, row and column.

use std::path::PathBuf;

use crate::common::{Test, example_csv, example_toml, repo, sha256_hex, toml_str};

fn data(name: &str) -> PathBuf {
    repo().join("tests/data/parquet").join(name)
}

/// The example's project file reading `path` instead of the CSV.
fn toml_for(path: &std::path::Path) -> String {
    example_toml().replace(
        &toml_str(&example_csv().display().to_string()),
        &toml_str(&path.display().to_string()),
    )
}

/// The artifact without what names the input (its hash) or the time.
fn model_of(doc: &serde_json::Value) -> serde_json::Value {
    let mut d = doc.clone();
    let o = d.as_object_mut().unwrap();
    for k in ["data_sha256", "created_at", "data_object"] {
        o.remove(k);
    }
    d
}

fn train(path: &std::path::Path, streaming: bool) -> serde_json::Value {
    let mut args = vec!["train"];
    if streaming {
        args.push("--streaming");
    }
    let t = Test::new().toml(&toml_for(path)).args(args);
    t.run().success();
    t.read_json("models/house-price.json")
}

#[test]
fn every_writer_and_codec_fits_the_csv_model_bit_for_bit() {
    let csv = train(&example_csv(), false);
    for name in [
        "train.snappy.parquet",
        "train.zstd.parquet",
        "train.gzip.parquet",
        "train.none.parquet",
        "train.polars.parquet",
        "train.duckdb.parquet",
        "train-no-suffix.bin",
    ] {
        let doc = train(&data(name), false);
        assert_eq!(model_of(&doc), model_of(&csv), "{name}");
        let bytes = std::fs::read(data(name)).unwrap();
        assert_eq!(doc["data_sha256"], sha256_hex(&bytes), "{name}");
    }
    // The streaming path factors the rows another way (a running QR factor,
    // table by table), so the last bits may differ from the in-memory fit:
    // equal within rounding (bit for bit to the streaming fit of the CSV,
    // see a_streaming_fit_on_parquet_equals_the_fit_on_the_same_csv_bit_for_bit).
    let streamed = train(&data("train.snappy.parquet"), true);
    for (k, v) in csv["coefficients"].as_object().unwrap() {
        let (a, b) = (
            streamed["coefficients"][k].as_f64().unwrap(),
            v.as_f64().unwrap(),
        );
        assert!((a - b).abs() <= 1e-9 * b.abs(), "{k}: {a} vs {b}");
    }
    assert_eq!(
        train(&data("train.snappy.parquet"), true)["coefficients"],
        streamed["coefficients"]
    );
}

#[test]
fn nulls_follow_data_missing_like_empty_csv_cells() {
    let path = data("holes.parquet");
    Test::new()
        .toml(&toml_for(&path))
        .args(["train"])
        .run()
        .error(
            3,
            &format!(
                "{}: row group 0, row 5: column \"sqft\" is null; fill it, or set data.missing = \"drop-row\" or \"mean\"",
                path.display()
            ),
        );
    for policy in ["drop-row", "mean"] {
        let fit = |p: &std::path::Path| {
            let toml =
                toml_for(p).replace("missing = \"error\"", &format!("missing = \"{policy}\""));
            let t = Test::new().toml(&toml).args(["train"]);
            t.run().success();
            model_of(&t.read_json("models/house-price.json"))
        };
        assert_eq!(fit(&path), fit(&data("holes.csv")), "{policy}");
    }
}

#[test]
fn a_string_column_not_categorical_is_a_data_error_naming_the_cell() {
    let path = data("strings.parquet");
    let toml = toml_for(&path).replace("categorical = [\"neighborhood\"]\n", "");
    Test::new().toml(&toml).args(["train"]).run().error(
        3,
        &format!(
            "{}: row group 0, row 1: column \"neighborhood\": \"lakeview\" is not a number; fix the cell, or list the column in data.categorical",
            path.display()
        ),
    );
    // A boolean column reads as 0/1; a string column listed as categorical.
    let t = Test::new().toml(&toml_for(&path)).args(["--json", "train"]);
    let doc = t.run().success().json();
    assert!(doc.to_string().contains("garage"), "{doc}");
}

#[test]
fn a_file_that_is_not_parquet_is_a_data_error() {
    Test::new()
        .toml(&toml_for(std::path::Path::new("bad.parquet")))
        .file("bad.parquet", "PAR1 but not really")
        .args(["train"])
        .run()
        .code(3)
        .stderr_contains("bad.parquet: not a readable Parquet file");
}

#[test]
fn drift_data_and_validation_path_take_parquet() {
    let toml = toml_for(&data("train.zstd.parquet")).replace(
        "validation_fraction = 0.2\n",
        &format!(
            "validation_path = {}\n",
            toml_str(&data("recent.parquet").display().to_string())
        ),
    );
    let t = Test::new().toml(&toml).args(["train"]);
    t.run().success();
    let csv_toml = toml.replace(
        &toml_str(&data("recent.parquet").display().to_string()),
        &toml_str(
            &repo()
                .join("examples/house-prices/recent.csv")
                .display()
                .to_string(),
        ),
    );
    let c = Test::new().toml(&csv_toml).args(["train"]);
    c.run().success();
    assert_eq!(
        model_of(&t.read_json("models/house-price.json"))["metrics"],
        model_of(&c.read_json("models/house-price.json"))["metrics"]
    );
    t.run_args([
        "validate",
        "--drift-data",
        &data("recent.parquet").display().to_string(),
    ])
    .success();
}

/// The `prediction` column of a CSV.
fn predictions(csv: &str) -> Vec<String> {
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let k = header.iter().position(|h| *h == "prediction").unwrap();
    lines
        .map(|l| l.split(',').nth(k).unwrap().to_string())
        .collect()
}

#[test]
fn predict_reads_parquet_and_writes_parquet() {
    let t = Test::new().toml(&example_toml()).args(["train"]);
    t.run().success();
    let recent_csv = repo().join("examples/house-prices/recent.csv");
    let from_csv = t.run_args(["predict", "--input", &recent_csv.display().to_string()]);
    from_csv.success();
    let from_pq = t.run_args([
        "predict",
        "--input",
        &data("recent.parquet").display().to_string(),
    ]);
    from_pq.success();
    let want = predictions(&from_csv.stdout);
    assert_eq!(want.len(), 500);
    assert_eq!(predictions(&from_pq.stdout), want);

    // Parquet out, from either input: the input columns, typed, plus the
    // prediction as a double equal to the CSV's text.
    for input in [recent_csv, data("recent.parquet")] {
        t.run_args([
            "predict",
            "--input",
            &input.display().to_string(),
            "--output",
            "out.parquet",
        ])
        .success()
        .stdout_contains("Wrote 500 predictions to out.parquet");
        let f = std::fs::File::open(t.path("out.parquet")).unwrap();
        let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(f)
            .unwrap()
            .build()
            .unwrap();
        let mut got = Vec::new();
        for batch in reader {
            let batch = batch.unwrap();
            assert_eq!(batch.num_columns(), 10);
            let p = batch.column_by_name("prediction").unwrap();
            let p = p
                .as_any()
                .downcast_ref::<arrow_array::Float64Array>()
                .unwrap();
            got.extend(p.values().iter().map(|v| format!("{v}")));
            let sqft = batch.column_by_name("sqft").unwrap();
            assert!(sqft.data_type().is_numeric(), "{input:?}");
        }
        assert_eq!(got, want, "{input:?}");
    }
}

#[test]
fn abtest_analyze_reads_parquet_as_it_reads_the_csv() {
    let t = Test::new()
        .toml("[abtest]\nmetric = \"revenue\"\ncontrol = \"champion\"\nvariant_column = \"arm\"\n");
    let run = |name: &str| {
        let mut doc = t
            .run_args([
                "--json",
                "abtest-analyze",
                "--input",
                &data(name).display().to_string(),
            ])
            .json();
        doc.as_object_mut().unwrap().remove("input");
        doc
    };
    let csv = run("experiment.csv");
    assert_eq!(csv["variants"][0]["n"], 300, "{csv}");
    assert_eq!(run("experiment.parquet"), csv);
}

/// A classifier's Parquet output: the label as a string column and one
/// double per class, equal to the CSV output's cells.
#[test]
fn predict_writes_a_classifiers_labels_and_probabilities_to_parquet() {
    let churn = repo().join("examples/churn");
    let toml = std::fs::read_to_string(churn.join("mlops.toml"))
        .unwrap()
        .replace(
            "path = \"train.csv\"",
            &format!("path = {:?}", churn.join("train.csv").display().to_string()),
        );
    let t = Test::new().toml(&toml);
    t.run_args(["-q", "train"]).success();
    let recent = churn.join("recent.csv").display().to_string();
    let csv = t.run_args(["predict", "--input", &recent]);
    csv.success();
    t.run_args(["predict", "--input", &recent, "--output", "out.parquet"])
        .success();
    let mut lines = csv.stdout.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let n = header.len();
    assert_eq!(
        &header[n - 3..],
        ["prediction", "probability_no", "probability_yes"]
    );
    let want: Vec<Vec<String>> = lines
        .map(|l| l.split(',').skip(n - 3).map(str::to_string).collect())
        .collect();
    let f = std::fs::File::open(t.path("out.parquet")).unwrap();
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(f)
        .unwrap()
        .build()
        .unwrap();
    let mut got = Vec::new();
    for batch in reader {
        let batch = batch.unwrap();
        assert_eq!(batch.num_columns(), n);
        let label = batch.column_by_name("prediction").unwrap();
        let label = label
            .as_any()
            .downcast_ref::<arrow_array::StringArray>()
            .expect("the label is a string column");
        let prob = |name: &str| {
            batch
                .column_by_name(name)
                .unwrap()
                .as_any()
                .downcast_ref::<arrow_array::Float64Array>()
                .expect("a probability is a double column")
                .clone()
        };
        let (no, yes) = (prob("probability_no"), prob("probability_yes"));
        for i in 0..batch.num_rows() {
            got.push(vec![
                label.value(i).to_string(),
                format!("{}", no.value(i)),
                format!("{}", yes.value(i)),
            ]);
        }
    }
    assert_eq!(got.len(), 600);
    assert_eq!(got, want);
}

/// `rows` rows of one source, written as a CSV (each double in its
/// shortest round-trip text) and as a snappy Parquet file in row groups of
/// `group` rows: the same numbers, bit for bit, in both.
fn one_source_twice(dir: &std::path::Path, rows: u64, group: usize) -> (PathBuf, PathBuf) {
    use std::fmt::Write as _;
    use std::sync::Arc;

    use crate::common::unit;
    use arrow_array::{ArrayRef, Float64Array, RecordBatch, StringArray};

    let a: Vec<f64> = (0..rows).map(|i| 1e3 + unit(11, i) * 7.3).collect();
    let b: Vec<f64> = (0..rows).map(|i| (unit(12, i) - 0.5) / 3.0).collect();
    let c: Vec<&str> = (0..rows)
        .map(|i| ["north", "south", "west"][(unit(13, i) * 3.0) as usize % 3])
        .collect();
    let y: Vec<f64> = (0..rows)
        .map(|i| {
            let i = i as usize;
            let shift = match c[i] {
                "north" => 0.0,
                "south" => 4.0,
                _ => -1.0,
            };
            0.25 * a[i] - 3.0 * b[i] + shift + unit(14, i as u64) - 0.5
        })
        .collect();
    let mut text = String::from("a,b,c,y\n");
    for i in 0..rows as usize {
        let _ = writeln!(text, "{},{},{},{}", a[i], b[i], c[i], y[i]);
    }
    let csv = dir.join("d.csv");
    std::fs::write(&csv, text).unwrap();
    let batch = RecordBatch::try_from_iter([
        ("a", Arc::new(Float64Array::from(a)) as ArrayRef),
        ("b", Arc::new(Float64Array::from(b)) as ArrayRef),
        ("c", Arc::new(StringArray::from(c)) as ArrayRef),
        ("y", Arc::new(Float64Array::from(y)) as ArrayRef),
    ])
    .unwrap();
    let pq = dir.join("d.parquet");
    let props = parquet::file::properties::WriterProperties::builder()
        .set_compression(parquet::basic::Compression::SNAPPY)
        .set_max_row_group_row_count(Some(group))
        .build();
    let file = std::fs::File::create(&pq).unwrap();
    let mut w = parquet::arrow::ArrowWriter::try_new(file, batch.schema(), Some(props)).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    (csv, pq)
}

/// The artifact as JSON without what names the input or the time; serde
/// writes each double in its shortest round-trip text, so equal JSON is
/// equal bits.
fn fitted(a: &mlops::model::Artifact) -> serde_json::Value {
    let mut d = serde_json::to_value(a).unwrap();
    let o = d.as_object_mut().unwrap();
    for k in ["data_sha256", "created_at", "data_objects"] {
        o.remove(k);
    }
    d
}

#[test]
fn a_streaming_fit_on_parquet_equals_the_fit_on_the_same_csv_bit_for_bit() {
    use crate::common::{train_in_process, train_streaming};
    let dir = tempfile::tempdir().unwrap();
    // More rows than one table of the streaming path holds (65,536), in row
    // groups that do not divide it.
    let (csv, pq) = one_source_twice(dir.path(), 150_001, 9_999);
    let toml = |p: &std::path::Path| {
        format!(
            "[data]\npath = {}\ntarget = \"y\"\ncategorical = [\"c\"]\n[split]\nvalidation_fraction = 0.2\nseed = 5\n[model]\nname = \"m\"\n",
            toml_str(&p.display().to_string())
        )
    };
    let (csv_toml, pq_toml) = (toml(&csv), toml(&pq));
    let streamed = train_streaming(&pq_toml, 0);
    // The CSV streamed in its default blocks and in small ones (about 300
    // rows each), and the Parquet file again: the same bits.
    for (what, other) in [
        ("csv", train_streaming(&csv_toml, 0)),
        ("csv, 16 KiB blocks", train_streaming(&csv_toml, 16 << 10)),
        ("parquet again", train_streaming(&pq_toml, 0)),
    ] {
        assert_eq!(
            other.intercept.to_bits(),
            streamed.intercept.to_bits(),
            "{what}"
        );
        for (k, v) in &other.coefficients {
            assert_eq!(
                v.to_bits(),
                streamed.coefficients[k.as_str()].to_bits(),
                "{what}: {k}: {v} vs {}",
                streamed.coefficients[k.as_str()]
            );
        }
        assert_eq!(fitted(&other), fitted(&streamed), "{what}");
    }
    // In memory, Parquet and CSV give the same bits too.
    let (m_csv, m_pq) = (train_in_process(&csv_toml), train_in_process(&pq_toml));
    assert_eq!(m_pq.intercept.to_bits(), m_csv.intercept.to_bits());
    for (k, v) in &m_csv.coefficients {
        assert_eq!(v.to_bits(), m_pq.coefficients[k.as_str()].to_bits(), "{k}");
    }
    assert_eq!(fitted(&m_pq), fitted(&m_csv));
}
