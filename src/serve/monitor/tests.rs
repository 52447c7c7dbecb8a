use super::*;
use crate::serve::model::Cell;
use crate::serve::model::tests::toy;
use crate::stats::binned::{js_distance, psi_from_counts};

/// The toy model with statistics: `a` binary (ties across the edges), `b`
/// spread evenly, `c` two levels; predictions 0..=9.
fn stats_artifact() -> Artifact {
    let mut a = toy("error").artifact;
    let even = |lo: f64| NumericStats {
        count: 100,
        missing: 0,
        mean: 0.0,
        sd: 1.0,
        min: lo,
        max: lo + 9.0,
        deciles: (1..10).map(|i| lo + f64::from(i) - 0.5).collect(),
        bin_counts: vec![10; 10],
    };
    let binary = NumericStats {
        count: 100,
        missing: 0,
        mean: 0.3,
        sd: 0.46,
        min: 0.0,
        max: 1.0,
        deciles: vec![0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0],
        // 70 zeros land in the first bin, 30 ones in the eighth.
        bin_counts: vec![70, 0, 0, 0, 0, 0, 0, 30, 0, 0],
    };
    a.feature_stats
        .insert("a".into(), ColumnStats::Numeric(binary));
    a.feature_stats
        .insert("b".into(), ColumnStats::Numeric(even(0.0)));
    a.feature_stats.insert(
        "c".into(),
        ColumnStats::Categorical(crate::model::stats::CategoricalStats {
            count: 100,
            missing: 0,
            levels: [("w".to_string(), 40), ("z".to_string(), 60)]
                .into_iter()
                .collect(),
        }),
    );
    a.prediction_stats = Some(even(0.0));
    a
}

fn served(m: &Monitor) -> String {
    let mut out = String::new();
    render(
        &mut out,
        &[(
            "model=\"toy\",version=\"v1\",variant=\"champion\"".into(),
            m,
        )],
    );
    out
}

/// The value of the sample of `family` for `feature`.
fn sample(text: &str, family: &str, feature: &str) -> Option<f64> {
    let head = format!(
        "{family}{{model=\"toy\",version=\"v1\",variant=\"champion\",feature=\"{feature}\"}} "
    );
    text.lines()
        .find_map(|l| l.strip_prefix(head.as_str()))
        .map(|v| v.parse().unwrap())
}

#[test]
fn drift_is_absent_until_min_samples_then_matches_the_batch_figures() {
    let s = Settings {
        window: Duration::from_secs(3600),
        min_samples: 20,
        enabled: true,
    };
    let m = Monitor::with(&stats_artifact(), s);
    for i in 0..19 {
        m.number(0, f64::from(i % 2));
        m.number(1, f64::from(i % 10));
    }
    let t = served(&m);
    assert_eq!(sample(&t, "mlops_drift_window_samples", "a"), Some(19.0));
    assert_eq!(sample(&t, "mlops_feature_drift_psi", "a"), None, "{t}");
    assert!(!t.contains("mlops_prediction_drift_psi{"), "{t}");
    m.number(0, 1.0);
    m.number(1, 3.0);
    let t = served(&m);
    // a: 10 zeros and 10 ones against 70/30 training rows (not 10 % a bin).
    let window_a = [10, 0, 0, 0, 0, 0, 0, 10, 0, 0];
    let expected_a = [70, 0, 0, 0, 0, 0, 0, 30, 0, 0];
    assert_eq!(
        sample(&t, "mlops_feature_drift_psi", "a"),
        Some(psi_from_counts(&expected_a, &window_a))
    );
    assert_eq!(
        sample(&t, "mlops_feature_drift_js_distance", "a"),
        js_distance(&expected_a, &window_a)
    );
    assert!(sample(&t, "mlops_feature_drift_psi", "a").unwrap() > 0.15);
    assert!(sample(&t, "mlops_feature_drift_psi", "b").unwrap() < 0.1);
    // c has no rows yet: samples 0, no gauge.
    assert_eq!(sample(&t, "mlops_drift_window_samples", "c"), Some(0.0));
    assert_eq!(sample(&t, "mlops_feature_drift_psi", "c"), None);
}

#[test]
fn counters_of_missing_out_of_range_and_unseen_cells() {
    let model = {
        let mut m = toy("mean");
        m.artifact = stats_artifact();
        m.monitor = Monitor::with(&m.artifact, Settings::default());
        m
    };
    let _ = model.encode_cell(0, Cell::Null, "");
    let _ = model.encode_cell(1, Cell::Number(42.0), "");
    let _ = model.encode_cell(1, Cell::Number(-1.0), "");
    let _ = model.encode_cell(1, Cell::Number(4.0), "");
    let _ = model.encode_cell(2, Cell::Text("nope"), "");
    let _ = model.encode_cell(2, Cell::Text("z"), "");
    let t = served(&model.monitor);
    assert_eq!(sample(&t, "mlops_feature_missing_total", "a"), Some(1.0));
    assert_eq!(
        sample(&t, "mlops_feature_out_of_range_total", "b"),
        Some(2.0)
    );
    assert_eq!(
        sample(&t, "mlops_feature_unseen_level_total", "c"),
        Some(1.0)
    );
    assert_eq!(
        sample(&t, "mlops_feature_unseen_level_total", "a"),
        Some(0.0)
    );
    // Missing cells are not binned; out-of-range ones are (end bins).
    assert_eq!(sample(&t, "mlops_drift_window_samples", "a"), Some(0.0));
    assert_eq!(sample(&t, "mlops_drift_window_samples", "b"), Some(3.0));
    assert_eq!(sample(&t, "mlops_drift_window_samples", "c"), Some(1.0));
}

#[test]
fn prediction_drift_after_min_samples() {
    let s = Settings {
        window: Duration::from_secs(60),
        min_samples: 10,
        enabled: true,
    };
    let m = Monitor::with(&stats_artifact(), s);
    m.predictions(&[Some(100.0); 9]);
    assert!(!served(&m).contains("mlops_prediction_drift_psi{"));
    m.predictions(&[Some(100.0), None, Some(f64::NAN)]);
    let t = served(&m);
    let mut w = [0u64; 10];
    w[9] = 10;
    let want = format!(
        "mlops_prediction_drift_psi{{model=\"toy\",version=\"v1\",variant=\"champion\"}} {}\n",
        psi_from_counts(&[10; 10], &w)
    );
    assert!(t.contains(&want), "{t}");
}

#[test]
fn a_v1_artifact_has_counters_but_no_drift() {
    let mut a = stats_artifact();
    for s in a.feature_stats.values_mut() {
        if let ColumnStats::Numeric(n) = s {
            n.bin_counts.clear();
        }
    }
    let m = Monitor::with(
        &a,
        Settings {
            window: DEFAULT_WINDOW,
            min_samples: 1,
            enabled: true,
        },
    );
    m.number(1, 3.0);
    let t = served(&m);
    assert_eq!(sample(&t, "mlops_drift_window_samples", "b"), Some(1.0));
    assert_eq!(sample(&t, "mlops_feature_drift_psi", "b"), None);
}

#[test]
fn js_distance_matches_scipy() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/monitor/js_reference.json"
    );
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let cases = r["cases"].as_array().unwrap();
    assert!(cases.len() >= 10);
    let counts = |v: &serde_json::Value| -> Vec<u64> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_u64().unwrap())
            .collect()
    };
    for c in cases {
        let (p, q) = (counts(&c["p"]), counts(&c["q"]));
        let want = c["js_distance"].as_f64().unwrap();
        let got = js_distance(&p, &q).unwrap();
        assert!(
            (got - want).abs() < 1e-10,
            "{p:?} {q:?}: {got} vs scipy {want}"
        );
    }
}

#[test]
fn settings_parse_and_refuse() {
    assert_eq!(parse_duration("1h"), Some(Duration::from_secs(3600)));
    assert_eq!(parse_duration("90s"), Some(Duration::from_secs(90)));
    assert_eq!(parse_duration("2d"), Some(Duration::from_secs(172_800)));
    for bad in ["", "h", "1", "1.5h", "0m", "-1h", "1w"] {
        assert_eq!(parse_duration(bad), None, "{bad}");
    }
    let sec = |w: &str, n: Option<u64>| MonitorSection {
        window: Some(w.into()),
        min_samples: n,
        enabled: None,
    };
    assert_eq!(
        settings_of(Some(&sec("30m", Some(5)))).unwrap(),
        Settings {
            window: Duration::from_secs(1800),
            min_samples: 5,
            enabled: true,
        }
    );
    assert_eq!(settings_of(None).unwrap(), Settings::default());
    let e = settings_of(Some(&sec("an hour", None)))
        .unwrap_err()
        .to_string();
    assert!(e.contains("[serve.monitor].window = \"an hour\""), "{e}");
    assert!(settings_of(Some(&sec("8d", None))).is_err());
    assert!(settings_of(Some(&sec("1h", Some(0)))).is_err());
}

#[test]
fn a_disabled_monitor_bins_nothing_and_renders_no_drift() {
    let s = Settings {
        window: DEFAULT_WINDOW,
        min_samples: 1,
        enabled: false,
    };
    let m = Monitor::with(&stats_artifact(), s);
    for i in 0..100 {
        m.number(0, f64::from(i % 2));
        m.number(1, 1e9);
        m.missing(0);
    }
    m.predictions(&[Some(100.0); 10]);
    let out = served(&m);
    assert!(!out.contains("mlops_feature_drift_psi{"), "{out}");
    assert!(!out.contains("mlops_feature_out_of_range_total{"), "{out}");
    assert!(!out.contains("mlops_prediction_drift_psi{"), "{out}");
    let sec = MonitorSection {
        window: None,
        min_samples: None,
        enabled: Some(false),
    };
    assert!(!settings_of(Some(&sec)).unwrap().enabled);
}

/// A batch of numbers takes the matrix path (`Model::predict_matrix`) and
/// gives what the row-by-row path gives: the same predictions to the last
/// bit and the same drift counts; a batch it cannot take (a NaN, a
/// prediction that overflows) gets the row-by-row path's answer.
#[test]
fn the_matrix_path_equals_the_row_path() {
    use crate::serve::model::Model;
    use crate::serve::v2::{encode, infer, parse};
    let model = || {
        let mut a = stats_artifact();
        a.features = vec!["a".into(), "b".into()];
        a.categorical.clear();
        a.coefficients.shift_remove("c=z");
        a.feature_stats.shift_remove("c");
        let mut m = Model::new(a, "v1", "abc").unwrap();
        m.monitor = Monitor::with(&m.artifact, Settings::default());
        m
    };
    // Edges, ties, values outside the training range, awkward decimals.
    let mut data = Vec::new();
    for i in 0..503 {
        let f = f64::from(i);
        data.push([0.0, 1.0, 0.5, -3.0, 2.0][i as usize % 5]);
        data.push((f * 0.37).sin() * 7.0 + 4.5 + f64::from(i % 3) * 0.1);
    }
    // A binary request: the JSON header, then the numbers.
    let raw = |d: &[f64]| -> (Vec<u8>, usize) {
        let head = format!(
            r#"{{"inputs": [{{"name": "x", "shape": [{}, 2], "datatype": "FP64", "parameters": {{"binary_data_size": {}}}}}], "outputs": [{{"name": "prediction", "parameters": {{"binary_data": true}}}}]}}"#,
            d.len() / 2,
            d.len() * 8
        );
        let n = head.len();
        let mut body = head.into_bytes();
        body.extend(d.iter().flat_map(|v| v.to_le_bytes()));
        (body, n)
    };
    let (body, n) = raw(&data);
    let (fast, slow) = (model(), model());
    let req = parse(&body, Some(n), 10_000).unwrap();
    let (a, pa, ra) = infer(&fast, &req, false).unwrap();
    let (b, pb, rb) = infer(&slow, &req, true).unwrap();
    assert!(ra.is_empty() && rb.len() == 503);
    assert_eq!(encode(&a), encode(&b));
    let bits = |p: &[Option<f64>]| p.iter().map(|v| v.map(f64::to_bits)).collect::<Vec<_>>();
    assert_eq!(bits(&pa), bits(&pb));
    assert_eq!(served(&fast.monitor), served(&slow.monitor));
    assert!(
        sample(
            &served(&fast.monitor),
            "mlops_feature_out_of_range_total",
            "a"
        )
        .unwrap()
            > 0.0
    );
    // The same numbers as JSON data.
    let body = serde_json::json!({"inputs": [{"name": "x", "shape": [503, 2], "datatype": "FP64", "data": data}]});
    let req = parse(body.to_string().as_bytes(), None, 10_000).unwrap();
    let (a, pa, _) = infer(&fast, &req, false).unwrap();
    let (b, pb, _) = infer(&slow, &req, true).unwrap();
    assert_eq!(encode(&a), encode(&b));
    assert_eq!(bits(&pa), bits(&pb));
    assert_eq!(served(&fast.monitor), served(&slow.monitor));
    // Small batches (the tally bins a column of a few values one by one)
    // and one just past them.
    for rows in [1, 3, 8, 9] {
        let (body, n) = raw(&data[..2 * rows]);
        let req = parse(&body, Some(n), 10_000).unwrap();
        let (a, _, _) = infer(&fast, &req, false).unwrap();
        let (b, _, _) = infer(&slow, &req, true).unwrap();
        assert_eq!(encode(&a), encode(&b));
        assert_eq!(served(&fast.monitor), served(&slow.monitor), "{rows} rows");
    }
    // What the matrix path declines, the row path answers (here: refuses).
    for bad in [f64::NAN, 1e308] {
        let mut d = data.clone();
        d[7] = bad;
        d[8] = 1e308;
        let (body, n) = raw(&d);
        let req = parse(&body, Some(n), 10_000).unwrap();
        let e1 = infer(&fast, &req, false).unwrap_err();
        let e2 = infer(&slow, &req, true).unwrap_err();
        assert_eq!(e1.0, e2.0);
    }
    assert_eq!(served(&fast.monitor), served(&slow.monitor));
}

/// A tally that touches a few counters keeps them as a short list, one
/// that touches many takes the whole row: the counts are the same.
#[test]
fn few_and_many_counters_count_the_same() {
    let a = stats_artifact();
    let (one_by_one, all_at_once) = (
        Monitor::with(&a, Settings::default()),
        Monitor::with(&a, Settings::default()),
    );
    // Numbers of a and b inside and outside the training range, a missing
    // cell, both levels of c and an unseen one, predictions in every bin.
    let cells: Vec<(usize, f64)> = (0..300)
        .map(|i| (i % 2, f64::from(u32::try_from(i).unwrap()) * 0.37 - 20.0))
        .collect();
    let predictions: Vec<f64> = (0..12).map(|i| f64::from(i) - 0.5).collect();
    {
        let mut t = all_at_once.tally();
        for &(k, x) in &cells {
            t.number(k, x);
        }
        t.missing(0);
        t.level(2, 0);
        t.level(2, 1);
        t.unseen(2);
        for &p in &predictions {
            t.prediction(p);
        }
        assert!(t.dense(), "many counters take the whole row");
    }
    let few = |f: &dyn Fn(&mut Tally<'_>)| {
        let mut t = one_by_one.tally();
        f(&mut t);
        assert!(!t.dense(), "a few counters stay a short list");
    };
    for &(k, x) in &cells {
        few(&|t| t.number(k, x));
    }
    few(&|t| t.missing(0));
    few(&|t| t.level(2, 0));
    few(&|t| t.level(2, 1));
    few(&|t| t.unseen(2));
    for &p in &predictions {
        few(&|t| t.prediction(p));
    }
    let (a, b) = (served(&one_by_one), served(&all_at_once));
    assert_eq!(a, b);
    let outside = |k: usize, lo: f64, hi: f64| {
        cells
            .iter()
            .filter(|&&(j, x)| j == k && (x < lo || x > hi))
            .count() as f64
    };
    assert_eq!(sample(&a, "mlops_feature_missing_total", "a"), Some(1.0));
    assert_eq!(
        sample(&a, "mlops_feature_unseen_level_total", "c"),
        Some(1.0)
    );
    assert_eq!(
        sample(&a, "mlops_feature_out_of_range_total", "a"),
        Some(outside(0, 0.0, 1.0))
    );
    assert_eq!(
        sample(&a, "mlops_feature_out_of_range_total", "b"),
        Some(outside(1, 0.0, 9.0))
    );
    assert_eq!(sample(&a, "mlops_drift_window_samples", "b"), Some(150.0));
    assert_eq!(sample(&a, "mlops_drift_window_samples", "c"), Some(2.0));
}
