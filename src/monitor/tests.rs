use super::*;

fn opts() -> Options {
    Options {
        job: "mlops".into(),
        model: "house-price".into(),
        availability: DEFAULT_AVAILABILITY,
        latency_le: DEFAULT_LATENCY_LE,
        latency_target: DEFAULT_LATENCY_TARGET,
        runbook: DEFAULT_RUNBOOK.into(),
    }
}

#[test]
fn every_alert_has_annotations_and_two_test_cases() {
    let o = opts();
    let rules = alerts_yml(&o);
    let tests = alerts_test_yml(&o);
    for name in ALERT_NAMES {
        assert_eq!(
            rules.matches(&format!("- alert: {name}\n")).count(),
            1,
            "{name}"
        );
        assert!(rules.contains(&format!(
            "runbook: \"docs/monitoring.md#{}\"",
            name.to_lowercase()
        )));
        assert_eq!(
            tests.matches(&format!("alertname: {name}\n")).count(),
            2,
            "{name}"
        );
    }
    assert_eq!(rules.matches("summary: ").count(), ALERT_NAMES.len());
    assert_eq!(rules.matches("description: ").count(), ALERT_NAMES.len());
    assert_eq!(tests.matches("exp_alerts: []").count(), ALERT_NAMES.len());
    assert!(rules.contains("> (14.4 * (1 - 0.999))"), "{rules}");
    assert!(rules.contains("> (6 * (1 - 0.999))"), "{rules}");
    assert!(rules.contains("absent(up{job=\\\"mlops\\\"})"), "{rules}");
}

#[test]
fn the_dashboard_rates_every_counter_and_has_units() {
    let d: serde_json::Value = serde_json::from_str(&dashboard_json(&opts())).unwrap();
    let vars: Vec<&str> = d["templating"]["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    assert_eq!(vars, ["datasource", "job", "instance", "model"]);
    let panels = d["panels"].as_array().unwrap();
    let rows: Vec<&str> = panels
        .iter()
        .filter(|p| p["type"] == "row")
        .map(|p| p["title"].as_str().unwrap())
        .collect();
    assert_eq!(
        rows,
        [
            "Traffic",
            "Latency",
            "Errors",
            "A/B split",
            "Drift",
            "Prediction log"
        ]
    );
    for p in panels.iter().filter(|p| p["type"] != "row") {
        assert!(p["fieldConfig"]["defaults"]["unit"].is_string(), "{p}");
        for t in p["targets"].as_array().unwrap() {
            let e = t["expr"].as_str().unwrap();
            if e.contains("rate(") {
                assert!(e.contains("[$__rate_interval]"), "{e}");
            }
            // A counter (…_total, …_bucket) only ever inside rate().
            for counter in ["_total{", "_bucket{"] {
                for (i, _) in e.match_indices(counter) {
                    let start = e[..i].rfind(['(', ' ']).map_or(0, |k| k + 1);
                    let head = &e[..start];
                    assert!(
                        head.ends_with("rate(") || head.ends_with("increase("),
                        "{e}"
                    );
                }
            }
        }
    }
}

#[test]
fn options_are_checked() {
    let mut o = opts();
    o.latency_le = 0.3;
    assert!(
        o.check()
            .unwrap_err()
            .to_string()
            .contains("--latency-le 0.3")
    );
    let mut o = opts();
    o.availability = 1.0;
    assert!(o.check().is_err());
    let mut o = opts();
    o.job = "a\"b".into();
    assert!(o.check().is_err());
    assert!(opts().check().is_ok());
}

#[test]
fn every_alert_has_a_runbook_section() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/monitoring.md"))
        .unwrap();
    for name in ALERT_NAMES {
        assert!(
            doc.contains(&format!("\n### {name}\n")),
            "docs/monitoring.md lacks ### {name}"
        );
    }
}

#[test]
fn the_prometheus_rule_holds_the_same_groups() {
    let o = opts();
    let r = prometheus_rule_yaml(&o);
    assert!(r.contains("kind: PrometheusRule\n"));
    assert!(r.contains("  name: \"mlops-house-price\"\n"));
    assert_eq!(r.matches("- alert: ").count(), ALERT_NAMES.len());
    assert!(r.contains("\n    - name: \"mlops-house-price\"\n      rules:\n        - alert: MlopsAvailabilityBurnRateFast\n"), "{r}");
}
