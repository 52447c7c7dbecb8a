//! `mlops validate`: the drift statistics against scipy's values (golden
//! data in `tests/data/validate/`), and the binary in temporary projects
//! and repositories: pass, fail, baselines from the registry, data and
//! configuration errors, and the GitHub Actions and GitLab CI integrations.

use serde_json::Value;

use crate::common::{GIT_TIME, Test, example_csv, example_toml, packaged_project, repo};

// ---------------------------------------------------------------- golden

/// A sample of `tests/data/validate/generate.py`'s generator, bit for bit.
#[allow(clippy::cast_precision_loss)]
fn sample(g: &Value) -> Vec<f64> {
    let seed = g["seed"].as_u64().unwrap();
    let n = g["n"].as_u64().unwrap();
    let scale = g["scale"].as_f64().unwrap();
    let shift = g["shift"].as_f64().unwrap();
    let levels = g["levels"].as_u64().unwrap() as f64;
    (0..n)
        .map(|i| {
            let mut u = crate::common::unit(seed, i);
            if levels > 0.0 {
                u = (u * levels).floor() / levels;
            }
            u * scale + shift
        })
        .collect()
}

fn reference() -> Value {
    let p = repo().join("tests/data/validate/reference.json");
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

#[track_caller]
fn rel(got: f64, want: f64, tol: f64, what: &str) {
    let ok = if want == 0.0 {
        got.abs() < 1e-300
    } else {
        ((got - want) / want).abs() <= tol
    };
    assert!(ok, "{what}: {got} vs scipy {want}");
}

#[test]
fn ks_matches_scipy_ks_2samp_to_1e_6() {
    let r = reference();
    let cases = r["ks"].as_array().unwrap();
    assert!(cases.len() >= 20);
    let (mut exact, mut asymp) = (0, 0);
    for c in cases {
        let a = sample(&c["a"]);
        let b = sample(&c["b"]);
        let k = mlops::stats::ks::ks_2samp(&a, &b).unwrap();
        let what = format!("n = {}, {}", a.len(), b.len());
        rel(k.statistic, c["statistic"].as_f64().unwrap(), 1e-12, &what);
        rel(k.p_value, c["p_value"].as_f64().unwrap(), 1e-6, &what);
        if k.exact {
            exact += 1;
        } else {
            asymp += 1;
        }
    }
    assert!(
        exact >= 10 && asymp >= 8,
        "{exact} exact, {asymp} asymptotic"
    );
}

#[test]
fn psi_matches_numpy_and_deciles_match_numpy_quantile() {
    use mlops::validate::drift::{PSI_EPSILON, bin_counts, psi_from_counts};
    let r = reference();
    assert_eq!(r["psi_epsilon"].as_f64().unwrap(), PSI_EPSILON);
    for c in r["psi"].as_array().unwrap() {
        let train = sample(&c["train"]);
        let recent = sample(&c["recent"]);
        // The artifact's deciles are numpy.quantile's.
        let stats = mlops::model::stats::numeric(train.iter().copied());
        let want: Vec<f64> = c["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect();
        for (g, w) in stats.deciles.iter().zip(&want) {
            assert!((g - w).abs() <= 1e-12 * w.abs().max(1.0), "{g} vs {w}");
        }
        let e = bin_counts(&stats.deciles, train.iter().copied());
        let a = bin_counts(&stats.deciles, recent.iter().copied());
        rel(
            psi_from_counts(&e, &a),
            c["psi"].as_f64().unwrap(),
            1e-9,
            "psi",
        );
    }
}

#[test]
fn chi_square_matches_scipy_chi2_contingency() {
    let r = reference();
    for c in r["chi2"].as_array().unwrap() {
        let v = |k: &str| -> Vec<u64> {
            c[k].as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_u64().unwrap())
                .collect()
        };
        let x = mlops::validate::drift::chi2_homogeneity(&v("train"), &v("recent")).unwrap();
        rel(x.statistic, c["statistic"].as_f64().unwrap(), 1e-10, "chi2");
        rel(x.p_value, c["p_value"].as_f64().unwrap(), 1e-8, "chi2 p");
        assert_eq!(x.df, c["df"].as_f64().unwrap());
    }
}

// ---------------------------------------------------------------- binary

/// The example project plus `extra` TOML, trained.
fn trained(extra: &str) -> Test {
    let t = Test::new()
        .toml(&format!("{}\n{extra}", example_toml()))
        .args(["-q", "train"]);
    t.run().success();
    t
}

#[test]
fn passing_gates_exit_0_with_a_table() {
    let t = trained("[validate.thresholds]\nr2 = { min = 0.8 }\nrmse = { max = 25000.0 }\n");
    let o = t.run_args(["validate"]);
    o.success()
        .stdout_contains("Validated house-price (models/house-price.json) on 387 rows")
        .stdout_contains("gate r2 min")
        .stdout_contains("gate rmse max")
        .stdout_contains("PASSED 16 checks passed");
    assert!(o.stderr.is_empty(), "{}", o.stderr);
    // The metrics are train's validation metrics, exactly.
    let doc = t.run_args(["--json", "validate"]).success().json();
    let art = t.read_json("models/house-price.json");
    assert_eq!(doc["candidate"]["metrics"], art["metrics"]["validation"]);
    assert_eq!(doc["passed"], true);
    assert_eq!(doc["gates"][0]["name"], "r2 min");
    assert_eq!(doc["gates"][0]["kind"], "threshold");
}

#[test]
fn no_gates_configured_is_said() {
    let t = trained("");
    let o = t.run_args(["validate"]);
    o.success().stdout_contains("no gates configured: ");
    let doc = t.run_args(["--json", "validate"]).success().json();
    assert_eq!(doc["gates"].as_array().unwrap().len(), 0);
    assert_eq!(doc["notes"][0], mlops::validate::NO_GATES);
    // A configured gate silences it.
    let t = trained("[validate.thresholds]\nr2 = { min = 0.8 }\n");
    let doc = t.run_args(["--json", "validate"]).success().json();
    assert!(!doc["notes"].to_string().contains("no gates"), "{doc}");
}

#[test]
fn a_failing_gate_exits_1_and_names_it() {
    let t = trained("[validate.thresholds]\nr2 = { min = 0.95 }\nmae = { max = 20000 }\n");
    let o = t.run_args(["validate"]);
    o.code(1)
        .stdout_contains("FAILED 1 of 16 checks failed (gate r2 min)")
        .stdout_contains("fail r2 min: r2 = 0.8914 is below the minimum 0.95");
    assert_eq!(
        o.stderr,
        "error: validation of house-price failed: 1 of 16 checks failed (gate r2 min); see the report\n"
    );
    let doc = t.run_args(["--json", "validate"]).code(1).json();
    assert_eq!(doc["passed"], false);
    assert_eq!(doc["gates"][0]["passed"], false);
    assert_eq!(doc["gates"][1]["passed"], true);
}

#[test]
fn drift_against_recent_data_can_fail_a_feature() {
    let recent = repo().join("examples/house-prices/recent.csv");
    let t = trained(&format!(
        "[validate.drift]\ndata = {}\nks_p_value = 0.05\n",
        crate::common::toml_str(&recent.display().to_string())
    ));
    let doc = t.run_args(["--json", "validate"]).code(1).json();
    let f = &doc["drift"]["features"];
    assert_eq!(f[0]["name"], "sqft");
    assert_eq!(f[0]["passed"], false);
    // scipy.stats.ks_2samp of the training rows against recent.csv
    // (checked by hand with scipy 1.17.1; see the golden tests for the method).
    crate::common::close(
        f[0]["ks_p_value"].as_f64().unwrap(),
        0.016_277_119_771_948_89,
        1e-9,
    );
    assert_eq!(f[6]["type"], "categorical");
    assert!(f[6]["chi2_p_value"].as_f64().unwrap() > 0.5);
    // --drift-data overrides, and passes at the default thresholds.
    t.write("mlops.toml", format!("{}\n", example_toml()));
    t.run_args(["validate", "--drift-data", &recent.display().to_string()])
        .success()
        .stdout_contains("drift sqft ks_p_value")
        .stdout_contains("drift neighborhood chi2_p_value");
}

#[test]
fn data_checks_warn_by_default_and_fail_when_configured() {
    let t = trained("");
    let csv = std::fs::read_to_string(example_csv()).unwrap();
    let mut lines: Vec<String> = csv.lines().take(101).map(str::to_string).collect();
    // An unseen level, an empty cell and a value far out of range.
    lines[1] = lines[1].replace("lakeview", "harbour");
    lines[2] = lines[2].replacen(",4,", ",,", 1);
    lines[3] = lines[3].replacen("2375", "99999", 1);
    t.write("v.csv", lines.join("\n") + "\n");
    let o = t.run_args(["validate", "--data", "v.csv"]);
    o.success()
        .stdout_contains("on 98 rows: v.csv")
        .stdout_contains("data unseen_levels neighborhood")
        .stdout_contains("warn unseen_levels neighborhood: neighborhood: 1 of 100 rows (1.00%) have a level not seen in training; allowed 0.00% (levels: harbour)")
        .stdout_contains("note: 2 of 100 rows could not be scored");
    t.write(
        "mlops.toml",
        format!("{}\n[validate.data]\nmax_unseen = 0.0\n", example_toml()),
    );
    t.run_args(["validate", "--data", "v.csv"])
        .code(1)
        .stderr_contains("(data unseen_levels neighborhood)");
}

#[test]
fn no_baseline_yet_passes_with_a_note() {
    let t = trained("[validate.baseline]\nstage = \"prod\"\n").git_init();
    let doc = t.run_args(["--json", "validate"]).success().json();
    assert_eq!(doc["baseline"]["version"], Value::Null);
    assert_eq!(
        doc["baseline"]["note"],
        "no version of house-price is registered yet; there is no baseline to compare with"
    );
    t.run_args(["validate"]).success().stdout_contains(
        "baseline  none (stage prod): no version of house-price is registered yet",
    );
}

#[test]
fn baseline_from_a_stage_is_read_from_its_commit() {
    let (t, _) = packaged_project();
    t.run_args(["package"]).success();
    t.assign("prod", "v0.0.1");
    // The same model: no degradation, passes the default rule.
    let doc = t
        .run_args(["--json", "validate", "--baseline", "prod"])
        .success()
        .json();
    let b = &doc["baseline"];
    assert_eq!(b["version"], "v0.0.1");
    assert_eq!(b["requested"], "stage prod");
    assert_eq!(b["artifact"], "models/house-price.json");
    assert_eq!(b["metrics"], doc["candidate"]["metrics"]);
    assert_eq!(doc["gates"][0]["name"], "r2 max_relative_degradation");
    assert_eq!(doc["gates"][0]["threshold"], 0.01);
    // A worse candidate in the work tree (without sqft); the baseline still
    // comes from the tagged commit.
    let worse = example_toml().replace("exclude = [\"id\"]", "exclude = [\"id\", \"sqft\"]");
    t.write(
        "mlops.toml",
        format!("{worse}\n[validate.baseline]\nstage = \"prod\"\nmax_relative_degradation = 0.05\nmetrics = [\"rmse\", \"r2\"]\n"),
    );
    t.run_args(["-q", "train"]).success();
    let o = t.run_args(["validate"]);
    o.code(1)
        .stdout_contains("baseline  house-price@v0.0.1 (stage prod, commit ")
        .stdout_contains("baseline rmse max_relative_degradation");
    let doc = t.run_args(["--json", "validate"]).code(1).json();
    let g = &doc["gates"][0];
    assert_eq!(g["kind"], "baseline");
    assert_eq!(g["metric"], "rmse");
    assert_eq!(g["passed"], false);
    assert!(g["value"].as_f64().unwrap() > g["baseline_value"].as_f64().unwrap());
    // A metric's own rules replace the common ones for it.
    t.write(
        "mlops.toml",
        format!("{worse}\n[validate.baseline]\nstage = \"prod\"\nmax_relative_degradation = 0.05\nmetrics = [\"rmse\", \"r2\"]\n\n[validate.baseline.rmse]\nmax_absolute_degradation = 1e9\n"),
    );
    let doc = t.run_args(["--json", "validate"]).code(1).json();
    let names: Vec<(&str, bool)> = doc["gates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| (g["name"].as_str().unwrap(), g["passed"].as_bool().unwrap()))
        .collect();
    assert_eq!(
        names,
        [
            ("rmse max_absolute_degradation", true),
            ("r2 max_relative_degradation", false)
        ]
    );
    // By version, too.
    t.run_args(["--json", "validate", "--baseline", "house-price@v0.0.1"])
        .code(1);
}

#[test]
fn unknown_stage_or_version_is_a_registry_error() {
    let (t, _) = packaged_project();
    t.run_args(["package"]).success();
    t.run_args(["validate", "--baseline", "house-price@v9.9.9"])
        .error(
            4,
            "house-price has no version v9.9.9; run `mlops models` to see its versions",
        );
    t.run_args(["validate", "--baseline", "other@v1.0.0"])
        .code(4)
        .stderr_contains("there is no model other in the registry");
    t.run_args(["validate", "--baseline", "qa"])
        .code(4)
        .stderr_contains("there is no stage \"qa\" in the registry");
    t.write(
        "mlops.toml",
        format!(
            "{}\n[registry]\nstages = [\"dev\", \"prod\"]\n",
            example_toml()
        ),
    );
    t.run_args(["validate", "--baseline", "qa"])
        .code(4)
        .stderr_contains("(the stages are dev, prod)");
    // A configured but empty stage is no baseline yet.
    t.run_args(["validate", "--baseline", "prod"])
        .success()
        .stdout_contains("stage prod of house-price is empty");
    // Outside a repository.
    let t = trained("");
    t.run_args(["validate", "--baseline", "prod"])
        .code(4)
        .stderr_contains("is not inside a git repository");
    t.run_args(["validate", "--baseline", "a b"]).error(
        2,
        "--baseline \"a b\" is neither a stage name nor NAME@vX.Y.Z; use e.g. prod or house-price@v1.2.0",
    );
}

#[test]
fn bad_data_exits_3_named_as_in_train() {
    let t = trained("");
    t.write("v.csv", "id,bedrooms,price\n1,2,3\n");
    t.run_args(["validate", "--data", "v.csv"])
        .code(3)
        .stderr_contains("v.csv:1: feature columns \"sqft\"");
    t.write(
        "v.csv",
        "id,sqft,bedrooms,bathrooms,year_built,lot_size,distance_km,neighborhood,price\n1,big,2,1,1990,100,1.0,lakeview,3\n",
    );
    t.run_args(["validate", "--data", "v.csv"])
        .code(3)
        .stderr_contains("v.csv:2: column \"sqft\"");
    t.run_args(["validate", "--data", "nope.csv"]).error(
        2,
        "--data nope.csv does not exist or is not a file; check the path",
    );
}

#[test]
fn bad_configuration_exits_2() {
    let t = trained("");
    for (extra, msg) in [
        (
            "[validate.thresholds]\nr3 = { min = 0.8 }\n",
            "unknown key \"validate.thresholds.r3\"; did you mean \"validate.thresholds.r2\"?",
        ),
        (
            "[validate]\nthreshold = 1\n",
            "did you mean \"validate.thresholds\"?",
        ),
        (
            "[validate.thresholds]\nrmse = { min = 5.0, max = 1.0 }\n",
            "key \"validate.thresholds.rmse\" has min = 5 above max = 1; swap them",
        ),
        (
            "[validate.thresholds]\ndeviance = { max = 1.0 }\n",
            "applies only to kind = \"glm\" models",
        ),
        (
            "[validate.drift]\nks_p_value = 2\n",
            "key \"validate.drift.ks_p_value\" = 2 must be above 0 and below 1",
        ),
        (
            "[validate.baseline]\nstage = \"prod\"\nversion = \"v1.0.0\"\n",
            "cannot be combined with validate.baseline.stage",
        ),
        (
            "[validate.baseline]\nmetrics = [\"rsme\"]\n",
            "lists \"rsme\", which is not a metric; did you mean \"rmse\"?",
        ),
        (
            "[validate.baseline]\nstage = \"prod\"\n[validate.baseline.rmse]\n",
            "table [validate.baseline.rmse] sets no rule",
        ),
        (
            "[validate.baseline.rmse]\nmax_relative = 0.1\n",
            "unknown key \"validate.baseline.rmse.max_relative\"; did you mean \"validate.baseline.rmse.max_relative_degradation\"?",
        ),
        (
            "[validate.baseline]\nmetrics = [\"r2\"]\n[validate.baseline.mae]\nmax_absolute_degradation = 1.0\n",
            "key \"validate.baseline.metrics\" does not list \"mae\", which has rules in [validate.baseline.mae]",
        ),
        (
            "[validate.drift]\ndata = \"missing.csv\"\n",
            "validate.drift.data = missing.csv does not exist",
        ),
    ] {
        t.write("mlops.toml", format!("{}\n{extra}", example_toml()));
        t.run_args(["validate"]).code(2).stderr_contains(msg);
    }
    t.write("mlops.toml", example_toml());
    t.run_args(["validate", "--format", "yaml"]).code(2);
}

#[test]
fn github_actions_gets_summary_outputs_and_annotations() {
    let t = trained("[validate.thresholds]\nr2 = { min = 0.95 }\n");
    let summary = t.path("summary.md");
    let output = t.path("output.txt");
    std::fs::write(&summary, "earlier step\n").unwrap();
    let t = t
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("GITHUB_OUTPUT", &output);
    let o = t.run_args(["validate"]);
    o.code(1).stdout_contains(
        "\n::error title=mlops validate gate r2 min::r2 = 0.8914 is below the minimum 0.95\n",
    );
    let s = t.read("summary.md");
    assert!(
        s.starts_with("earlier step\n### mlops validate: `house-price` ❌ **failed**"),
        "{s}"
    );
    assert!(
        s.contains("| gate r2 min | 0.8914239 | >= 0.95 |  | ❌ fail |"),
        "{s}"
    );
    let out = t.read("output.txt");
    assert!(
        out.starts_with("passed=false\nmodel=house-price\nfailed=1\nr2=0.8914239051416099\n"),
        "{out}"
    );
    // With --json, stdout stays one document and the annotations go to stderr.
    let o = t.run_args(["--json", "validate"]);
    let _ = o.code(1).json();
    assert!(
        o.stderr
            .starts_with("::error title=mlops validate gate r2 min::"),
        "{}",
        o.stderr
    );
    // Outside GitHub Actions none of this happens.
    let t = t.env("GITHUB_ACTIONS", "false");
    std::fs::remove_file(&summary).unwrap();
    t.run_args(["validate"]).code(1).stdout_lacks("::error");
    assert!(!summary.exists());
}

#[test]
fn gitlab_ci_gets_junit_and_dotenv() {
    let t = trained("[validate.thresholds]\nr2 = { min = 0.95 }\nrmse = { max = 25000 }\n")
        .env("GITLAB_CI", "true");
    let o = t.run_args([
        "validate",
        "--report",
        "junit.xml",
        "--dotenv",
        "validate.env",
    ]);
    o.code(1).stdout_contains("FAILED 1 of 16 checks failed");
    let x = t.read("junit.xml");
    assert!(x.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"mlops validate\" tests=\"16\" failures=\"1\""), "{x}");
    assert!(x.contains("<testcase classname=\"mlops.validate.gate\" name=\"r2 min\">\n      <failure message=\"r2 = 0.8914 is below the minimum 0.95\" type=\"gate\">"), "{x}");
    assert!(
        x.contains("<testcase classname=\"mlops.validate.gate\" name=\"rmse max\"/>"),
        "{x}"
    );
    assert_eq!(x.matches("<testcase ").count(), 16);
    let env = t.read("validate.env");
    assert!(env.starts_with("MLOPS_VALIDATE_PASSED=false\nMLOPS_VALIDATE_MODEL=house-price\nMLOPS_VALIDATE_FAILED=1\nMLOPS_VALIDATE_R2="), "{env}");
    // --format wins over the GitLab default; outside CI --report writes the text table.
    t.run_args(["validate", "--report", "r.md", "--format", "markdown"])
        .code(1);
    assert!(t.read("r.md").starts_with("### mlops validate"));
    let t = t.env("GITLAB_CI", "false");
    t.run_args(["validate", "--report", "r.txt"]).code(1);
    assert!(t.read("r.txt").starts_with("Validated house-price"));
    // --format junit alone prints JUnit on stdout.
    t.run_args(["validate", "--format", "junit"])
        .code(1)
        .stdout_contains("<testsuites");
}

#[test]
fn a_commit_tagged_later_is_not_needed_for_the_candidate() {
    // The candidate is the work-tree artifact even when it is not committed.
    let (t, _) = packaged_project();
    t.run_args(["package"]).success();
    t.write("extra.txt", "x");
    t.commit_all("later", GIT_TIME + 5);
    t.run_args(["validate", "--baseline", "v0.0.1"])
        .success()
        .stdout_contains("baseline  house-price@v0.0.1 (house-price@v0.0.1, commit ");
}

#[test]
fn validation_file_and_training_rows_and_glm_deviance() {
    // split.validation_path: the rows of that file, metrics as train's.
    let csv = std::fs::read_to_string(example_csv()).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    let t = Test::new()
        .file("train.csv", lines[..1501].join("\n") + "\n")
        .file(
            "valid.csv",
            [&lines[..1], &lines[1501..]].concat().join("\n") + "\n",
        )
        .toml(
            &example_toml()
                .replace(
                    &crate::common::toml_str(&example_csv().display().to_string()),
                    "\"train.csv\"",
                )
                .replace(
                    "validation_fraction = 0.2",
                    "validation_path = \"valid.csv\"",
                ),
        )
        .args(["-q", "train"]);
    t.run().success();
    let doc = t.run_args(["--json", "validate"]).success().json();
    assert_eq!(doc["rows"]["source"], "valid.csv");
    assert_eq!(doc["rows"]["scored"], 500);
    let art = t.read_json("models/house-price.json");
    assert_eq!(doc["candidate"]["metrics"], art["metrics"]["validation"]);

    // validation_fraction = 0: the training rows; a GLM's deviance gate.
    let glm = crate::common::simple_toml("").replace(
        "name = \"m\"",
        "name = \"m\"\nkind = \"glm\"\npower = 1.5\nlink = \"log\"",
    );
    let t = Test::new()
        .toml(&format!(
            "{glm}\n[validate.thresholds]\ndeviance = {{ max = 0.001 }}\n"
        ))
        .file("d.csv", "a,y\n1,2\n2,3\n3,5\n4,4\n5,7\n6,6\n")
        .args(["-q", "train"]);
    t.run().success();
    let doc = t.run_args(["--json", "validate"]).code(1).json();
    assert_eq!(
        doc["rows"]["source"],
        "the training rows of d.csv (split.validation_fraction = 0)"
    );
    let art = t.read_json("out/m.json");
    assert_eq!(doc["candidate"]["metrics"], art["metrics"]["train"]);
    assert_eq!(doc["gates"][0]["name"], "deviance max");
    assert_eq!(
        doc["gates"][0]["value"],
        art["metrics"]["train"]["deviance"]
    );
}
