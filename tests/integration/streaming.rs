//! The streaming training path: the same model as the in-memory path, in
//! bounded memory, whatever the block size.

use crate::common::{Test, noisy_csv, simple_toml, train_in_process, train_streaming};

fn project(csv: &std::path::Path, extra_data: &str, split: &str, intercept: bool) -> String {
    format!(
        "[data]\npath = {:?}\ntarget = \"y\"\nexclude = [\"id\"]\n{extra_data}\n[split]\n{split}\n[model]\nname = \"m\"\nfit_intercept = {intercept}\n",
        csv.display().to_string()
    )
}

#[track_caller]
fn same_model(a: &mlops::model::Artifact, b: &mlops::model::Artifact, what: &str) {
    assert_eq!(a.coefficients.len(), b.coefficients.len(), "{what}");
    let rel = |x: f64, y: f64| (x - y).abs() / y.abs().max(1e-300);
    assert!(
        rel(a.intercept, b.intercept) < 1e-9 || a.intercept == b.intercept,
        "{what}: intercept {} vs {}",
        a.intercept,
        b.intercept
    );
    for (k, v) in &b.coefficients {
        let got = a.coefficients[k.as_str()];
        assert!(rel(got, *v) < 1e-9, "{what}: {k}: {got} vs {v}");
    }
    assert_eq!(a.rows.train, b.rows.train, "{what}");
    assert_eq!(a.rows.validation, b.rows.validation, "{what}");
    assert_eq!(a.data_sha256, b.data_sha256, "{what}");
    let (ma, mb) = (&a.metrics.train, &b.metrics.train);
    assert!(
        rel(ma.rmse, mb.rmse) < 1e-9 && rel(ma.mae, mb.mae) < 1e-9,
        "{what}: {ma:?} vs {mb:?}"
    );
    match (&a.metrics.validation, &b.metrics.validation) {
        (Some(va), Some(vb)) => assert!(rel(va.rmse, vb.rmse) < 1e-9, "{what}: {va:?} vs {vb:?}"),
        (None, None) => {}
        other => panic!("{what}: {other:?}"),
    }
    assert_eq!(a.categorical.len(), b.categorical.len());
    for (name, c) in &b.categorical {
        assert_eq!(a.categorical[name].levels, c.levels, "{what}");
    }
}

#[test]
fn equals_the_in_memory_fit_for_any_block_size() {
    let dir = tempfile::tempdir().unwrap();
    for (seed, rows) in [(1u64, 997u64), (2, 1000), (3, 64)] {
        let csv = dir.path().join(format!("d{seed}.csv"));
        // Shuffle the generated rows by the seed so the models differ.
        let text = noisy_csv(rows + seed * 7);
        std::fs::write(&csv, &text).unwrap();
        for (extra, split, intercept) in [
            (
                "categorical = [\"c\"]",
                "validation_fraction = 0.25\nseed = 9",
                true,
            ),
            ("categorical = [\"c\"]", "validation_fraction = 0.0", false),
            (
                "features = [\"a\", \"b\"]",
                "validation_fraction = 0.1",
                true,
            ),
        ] {
            let toml = project(&csv, extra, split, intercept);
            let memory = train_in_process(&toml);
            // 24 bytes: one row per block; 1000: blocks that do not divide
            // the rows; the default 8 MiB: one block.
            for block in [24, 1000, 0] {
                let streamed = train_streaming(&toml, block);
                same_model(
                    &streamed,
                    &memory,
                    &format!("seed {seed}, {extra}, {split}, block {block}"),
                );
            }
        }
    }
}

/// Blocks of more rows than the factor takes at a time (4,096): pieces
/// with the running R on top, and dummies set below it.
#[test]
fn long_blocks_fold_in_pieces() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("long.csv");
    std::fs::write(&csv, noisy_csv(9_001)).unwrap();
    for (extra, split) in [
        (
            "categorical = [\"c\"]",
            "validation_fraction = 0.25\nseed = 3",
        ),
        ("features = [\"a\", \"b\"]", "validation_fraction = 0.0"),
    ] {
        let toml = project(&csv, extra, split, true);
        let memory = train_in_process(&toml);
        for block in [0, 150_000] {
            let streamed = train_streaming(&toml, block);
            same_model(
                &streamed,
                &memory,
                &format!("{extra}, {split}, block {block}"),
            );
        }
    }
}

#[test]
fn cli_flag_and_project_key_choose_the_path() {
    let t = Test::new()
        .toml(&simple_toml("categorical = [\"c\"]\nexclude = [\"id\"]"))
        .file("d.csv", noisy_csv(200))
        .args(["train", "--streaming"]);
    t.run().success().stdout_contains("streaming fit");
    let doc = t
        .args(["--json", "train", "--streaming"])
        .run()
        .success()
        .json();
    assert_eq!(doc["fit_path"], "streaming");
    let t = Test::new()
        .toml(
            &simple_toml("categorical = [\"c\"]\nexclude = [\"id\"]")
                .replace("name = \"m\"", "name = \"m\"\nstreaming = true"),
        )
        .file("d.csv", noisy_csv(200))
        .args(["--json", "train"]);
    assert_eq!(t.run().success().json()["fit_path"], "streaming");
    let t = Test::new()
        .toml(&simple_toml("categorical = [\"c\"]\nexclude = [\"id\"]"))
        .file("d.csv", noisy_csv(200))
        .args(["--json", "train"]);
    assert_eq!(t.run().success().json()["fit_path"], "in-memory");
}

#[test]
fn unsupported_combinations_are_usage_errors() {
    let glm = simple_toml("exclude = [\"id\", \"c\"]")
        .replace("name = \"m\"", "name = \"m\"\nkind = \"glm\"");
    Test::new()
        .toml(&glm)
        .file("d.csv", noisy_csv(50))
        .args(["train", "--streaming"])
        .run()
        .code(2)
        .stderr_contains("the streaming path fits model.kind = \"linear\", \"logistic\" or \"multinomial\", not \"glm\"");
    Test::new()
        .toml(&simple_toml(
            "exclude = [\"id\", \"c\"]\nmissing = \"mean\"",
        ))
        .file("d.csv", noisy_csv(50))
        .args(["train", "--streaming"])
        .run()
        .code(2)
        .stderr_contains("cannot use data.missing = \"mean\"");
}

/// The bad-data list gives the same message on both paths.
#[test]
fn bad_data_gives_the_same_messages() {
    let cases: &[(&str, &str)] = &[
        ("", "a,b,y\n1,2,3\n12a,3,4\n2,2,2\n"),
        ("", "a,b,y\r\n1,2,3\r\n2,3,4\r\n2,x,2\r\n"),
        ("", "a,b,y\n1,2,3\n2,3\n2,2,2\n"),
        ("", "a,b,y\n1,2,3\n2,3,NaN\n2,2,2\n"),
        ("", "a,a,y\n1,2,3\n"),
        ("", "a,b,z\n1,2,3\n"),
        ("", ""),
        ("", "a,b,y\n"),
        ("", "a,b,y\n1,7,3\n2,7,4\n3,7,2\n5,7,7\n"),
        ("", "a,b,y\n1,2,3\n2,4,4\n3,6,2\n5,10,7\n"),
        ("", "a,b,y\n1,2,5\n2,1,5\n3,3,5\n"),
        ("", "a,b,y\n1,\"2\",3\n2,\u{0}\u{ff}\n"),
        ("categorical = [\"b\"]", "a,b,y\n1,p,3\n2,,4\n"),
    ];
    for (extra, csv) in cases {
        let memory = Test::new()
            .toml(&simple_toml(extra))
            .file("d.csv", csv)
            .args(["train"]);
        let m = memory.run();
        let streamed = memory.args(["train", "--streaming"]).run();
        assert_eq!(
            m.status.code(),
            streamed.status.code(),
            "{csv:?}: {} vs {}",
            m.stderr,
            streamed.stderr
        );
        assert_eq!(m.stderr, streamed.stderr, "{csv:?}");
        assert!(m.status.code() == Some(3), "{csv:?}: {}", m.stderr);
    }
}
