//! `dashboard.json`: a Grafana dashboard of the server's series, with a
//! `datasource` variable and `job`, `instance` and `model` variables; every
//! counter under `rate()` with `$__rate_interval`, a unit on every panel.

use serde_json::{Value, json};

use super::Options;

/// The matchers of the dashboard's variables.
const SEL: &str = "job=\"$job\",instance=~\"$instance\",model=~\"$model\"";
/// The same without `model` (series of the server, not of a model).
const SEL_SERVER: &str = "job=\"$job\",instance=~\"$instance\"";

/// A panel of `exprs` (legend, PromQL) in `unit`.
struct Panel {
    title: &'static str,
    unit: &'static str,
    exprs: Vec<(&'static str, String)>,
}

fn rate(metric: &str, sel: &str, by: &str) -> String {
    format!("sum by ({by}) (rate({metric}{{{sel}}}[$__rate_interval]))")
}

/// The requests counter.
const REQ: &str = "mlops_requests_total";

/// The `p` quantile of the request duration.
fn quantile(p: &str) -> String {
    format!(
        "histogram_quantile({p}, sum by (le) (rate(mlops_request_duration_seconds_bucket{{{SEL}}}[$__rate_interval])))"
    )
}

/// The 5xx share of requests, by `by`.
fn ratio(by: &str) -> String {
    format!(
        "{} / {}",
        rate(REQ, &format!("{SEL},status=~\"5..\""), by),
        rate(REQ, SEL, by)
    )
}

/// The largest sample of gauge `m` per feature.
fn per_feature(m: &str) -> String {
    format!("max by (feature) ({m}{{{SEL}}})")
}

/// The rows: a title and its panels.
fn rows() -> Vec<(&'static str, Vec<Panel>)> {
    let mut r = service_rows();
    r.extend(model_rows());
    r
}

/// Traffic, latency and errors.
fn service_rows() -> Vec<(&'static str, Vec<Panel>)> {
    vec![
        (
            "Traffic",
            vec![
                Panel {
                    title: "Requests by status",
                    unit: "reqps",
                    exprs: vec![("{{status}}", rate(REQ, SEL, "status"))],
                },
                Panel {
                    title: "Requests by endpoint",
                    unit: "reqps",
                    exprs: vec![("{{endpoint}}", rate(REQ, SEL, "endpoint"))],
                },
                Panel {
                    title: "In flight",
                    unit: "short",
                    exprs: vec![(
                        "in flight",
                        format!("sum(mlops_in_flight_requests{{{SEL_SERVER}}})"),
                    )],
                },
            ],
        ),
        (
            "Latency",
            vec![Panel {
                title: "Latency p50, p95, p99",
                unit: "s",
                exprs: vec![
                    ("p50", quantile("0.5")),
                    ("p95", quantile("0.95")),
                    ("p99", quantile("0.99")),
                ],
            }],
        ),
        (
            "Errors",
            vec![
                Panel {
                    title: "5xx ratio",
                    unit: "percentunit",
                    exprs: vec![("5xx", ratio("model"))],
                },
                Panel {
                    title: "4xx and 5xx by status",
                    unit: "reqps",
                    exprs: vec![(
                        "{{status}}",
                        rate(REQ, &format!("{SEL},status=~\"4..|5..\""), "status"),
                    )],
                },
                Panel {
                    title: "Refused by rate limits",
                    unit: "reqps",
                    exprs: vec![(
                        "{{role}}",
                        rate("mlops_rate_limited_total", SEL_SERVER, "role"),
                    )],
                },
            ],
        ),
    ]
}

/// The A/B split, drift and the prediction log.
fn model_rows() -> Vec<(&'static str, Vec<Panel>)> {
    vec![
        (
            "A/B split",
            vec![
                Panel {
                    title: "Requests by variant",
                    unit: "reqps",
                    exprs: vec![("{{variant}}", rate(REQ, SEL, "variant"))],
                },
                Panel {
                    title: "5xx ratio by variant",
                    unit: "percentunit",
                    exprs: vec![("{{variant}}", ratio("variant"))],
                },
                Panel {
                    title: "Challenger share (configured)",
                    unit: "percent",
                    exprs: vec![(
                        "{{model}}",
                        format!("max by (model) (mlops_challenger_percent{{{SEL}}})"),
                    )],
                },
            ],
        ),
        (
            "Drift",
            vec![
                Panel {
                    title: "Feature PSI",
                    unit: "none",
                    exprs: vec![("{{feature}}", per_feature("mlops_feature_drift_psi"))],
                },
                Panel {
                    title: "Feature Jensen-Shannon distance",
                    unit: "none",
                    exprs: vec![(
                        "{{feature}}",
                        per_feature("mlops_feature_drift_js_distance"),
                    )],
                },
                Panel {
                    title: "Prediction PSI",
                    unit: "none",
                    exprs: vec![(
                        "{{variant}}",
                        format!("max by (variant) (mlops_prediction_drift_psi{{{SEL}}})"),
                    )],
                },
                Panel {
                    title: "Rows in the drift window",
                    unit: "short",
                    exprs: vec![("{{feature}}", per_feature("mlops_drift_window_samples"))],
                },
                Panel {
                    title: "Missing, out-of-range and unseen values",
                    unit: "cps",
                    exprs: vec![
                        (
                            "missing {{feature}}",
                            rate("mlops_feature_missing_total", SEL, "feature"),
                        ),
                        (
                            "out of range {{feature}}",
                            rate("mlops_feature_out_of_range_total", SEL, "feature"),
                        ),
                        (
                            "unseen {{feature}}",
                            rate("mlops_feature_unseen_level_total", SEL, "feature"),
                        ),
                    ],
                },
            ],
        ),
        (
            "Prediction log",
            vec![Panel {
                title: "Dropped log lines",
                unit: "cps",
                exprs: vec![(
                    "dropped",
                    format!(
                        "sum(rate(mlops_prediction_log_dropped_lines_total{{{SEL_SERVER}}}[$__rate_interval]))"
                    ),
                )],
            }],
        ),
    ]
}

fn variable(name: &str, query: &str, all: bool) -> Value {
    json!({
        "name": name,
        "label": name,
        "type": "query",
        "datasource": {"type": "prometheus", "uid": "${datasource}"},
        "query": {"query": query, "refId": name},
        "definition": query,
        "refresh": 2,
        "includeAll": all,
        "multi": all,
        "allValue": if all { Value::from(".*") } else { Value::Null },
        "current": {},
        "sort": 1,
    })
}

/// The dashboard, pretty-printed, ending with a newline.
#[must_use]
pub fn dashboard_json(o: &Options) -> String {
    let mut panels = Vec::new();
    let mut y = 0;
    let mut id = 1;
    for (title, ps) in rows() {
        panels.push(
            json!({"type": "row", "title": title, "id": id, "collapsed": false,
            "gridPos": {"h": 1, "w": 24, "x": 0, "y": y}, "panels": []}),
        );
        id += 1;
        y += 1;
        let w = 24 / u32::try_from(ps.len().min(3)).unwrap_or(1);
        for (i, p) in ps.iter().enumerate() {
            let i = u32::try_from(i).unwrap_or(0);
            let targets: Vec<Value> = p.exprs.iter().enumerate().map(|(k, (legend, e))| json!({
                "datasource": {"type": "prometheus", "uid": "${datasource}"},
                "expr": e, "legendFormat": legend, "refId": ((b'A' + u8::try_from(k).unwrap_or(0)) as char).to_string(),
            })).collect();
            panels.push(json!({
                "type": "timeseries", "title": p.title, "id": id,
                "datasource": {"type": "prometheus", "uid": "${datasource}"},
                "gridPos": {"h": 8, "w": w, "x": (i % 3) * w, "y": y + (i / 3) * 8},
                "fieldConfig": {"defaults": {"unit": p.unit}, "overrides": []},
                "targets": targets,
            }));
            id += 1;
        }
        y += 8 * u32::try_from(ps.len().div_ceil(3)).unwrap_or(1);
    }
    let current = |v: &str| json!({"text": v, "value": v});
    let mut job = variable("job", "label_values(mlops_model_info, job)", false);
    job["current"] = current(&o.job);
    let mut model = variable(
        "model",
        "label_values(mlops_model_info{job=\"$job\"}, model)",
        true,
    );
    model["current"] = current(&o.model);
    let d = json!({
        "title": format!("mlops: {}", o.model),
        "uid": format!("mlops-{}", o.model.replace(['/', '.'], "-")).chars().take(40).collect::<String>(),
        "tags": ["mlops"],
        "schemaVersion": 39,
        "editable": true,
        "time": {"from": "now-6h", "to": "now"},
        "refresh": "30s",
        "templating": {"list": [
            {"name": "datasource", "label": "Data source", "type": "datasource", "query": "prometheus", "current": {}},
            job,
            variable("instance", "label_values(up{job=\"$job\"}, instance)", true),
            model,
        ]},
        "panels": panels,
    });
    let mut s = serde_json::to_string_pretty(&d).unwrap_or_default();
    s.push('\n');
    s
}
