//! `alerts.yml` (Prometheus alerting rules) and `alerts_test.yml` (their
//! promtool unit tests: each alert fires in one case and stays silent in
//! another).

use std::fmt::Write as _;

use super::{Options, q};

/// The alerts, in file order (their anchors in docs/monitoring.md are the
/// names in lower case).
pub const ALERT_NAMES: [&str; 11] = [
    "MlopsAvailabilityBurnRateFast",
    "MlopsAvailabilityBurnRateSlow",
    "MlopsLatencyBurnRateFast",
    "MlopsLatencyBurnRateSlow",
    "MlopsTargetAbsent",
    "MlopsErrorRatio",
    "MlopsPredictionLogDropping",
    "MlopsFeatureDrift",
    "MlopsPredictionDrift",
    "MlopsRateLimitedSurge",
    "MlopsChallengerWorse",
];

type Labels = Vec<(&'static str, String)>;

/// Input series: (series, values) pairs.
type Series = Vec<(String, String)>;

/// A unit-test case: input series (1 m apart), when to evaluate, and the
/// labels of the alert expected then (`None`: no alert).
struct Case {
    series: Series,
    at: &'static str,
    labels: Option<Labels>,
}

/// An alerting rule and its two test cases.
struct Alert {
    name: &'static str,
    expr: String,
    hold: &'static str,
    severity: &'static str,
    summary: String,
    description: String,
    fires: Case,
    silent: Case,
}

/// The matchers of the model's series, then `extra`.
fn sel(o: &Options, extra: &str) -> String {
    format!("job=\"{}\",model=\"{}\"{extra}", o.job, o.model)
}

/// The labels a scraped series of the model has, then `extra`.
fn scraped(o: &Options, extra: &str) -> String {
    format!(
        "job=\"{}\",instance=\"127.0.0.1:8080\",model=\"{}\",version=\"v1.0.0\"{extra}",
        o.job, o.model
    )
}

/// A request counter series of the tests.
fn req(o: &Options, variant: &str, status: &str) -> String {
    format!(
        "mlops_requests_total{{{}}}",
        scraped(
            o,
            &format!(",endpoint=\"predict\",variant=\"{variant}\",status=\"{status}\"")
        )
    )
}

fn ser(name: String, values: &str) -> (String, String) {
    (name, values.to_string())
}

/// The share of requests answered with a status matching `status` over
/// `window`.
fn status_ratio(o: &Options, status: &str, window: &str) -> String {
    format!(
        "sum(rate(mlops_requests_total{{{}}}[{window}])) / sum(rate(mlops_requests_total{{{}}}[{window}]))",
        sel(o, &format!(",status=~\"{status}\"")),
        sel(o, "")
    )
}

/// The share of requests slower than the latency bound over `window`.
fn slow_ratio(o: &Options, window: &str) -> String {
    format!(
        "(1 - sum(rate(mlops_request_duration_seconds_bucket{{{}}}[{window}])) / sum(rate(mlops_request_duration_seconds_count{{{}}}[{window}])))",
        sel(o, &format!(",le=\"{}\"", o.latency_le)),
        sel(o, "")
    )
}

fn page() -> Option<Labels> {
    Some(vec![("severity", "page".into())])
}

/// The fast (1 h and 5 m, 14.4×) and slow (6 h and 30 m, 6×) burn-rate
/// alerts of one objective. `ratio` gives the bad share over a window;
/// `series(good, bad)` the test input with good and bad events per minute.
fn burn_rates(
    names: [&'static str; 2],
    what: &str,
    objective: f64,
    ratio: &dyn Fn(&str) -> String,
    series: &dyn Fn(&str, &str) -> Series,
) -> [Alert; 2] {
    let rule = |long: &str, short: &str, f: f64| {
        format!(
            "{} > ({f} * (1 - {objective})) and {} > ({f} * (1 - {objective}))",
            ratio(long),
            ratio(short)
        )
    };
    [
        Alert {
            name: names[0],
            expr: rule("1h", "5m", 14.4),
            hold: "2m",
            severity: "page",
            summary: format!("{what} burns its error budget 14.4 times too fast"),
            description: format!(
                "Over both the last hour and the last 5 minutes, more than 14.4 × (1 − {objective}) of the requests were {what}: 2 % of a 30-day budget goes in an hour."
            ),
            fires: Case {
                series: series("0+50x120", "0+50x120"),
                at: "70m",
                labels: page(),
            },
            silent: Case {
                series: series("0+100x120", "0+0x120"),
                at: "70m",
                labels: None,
            },
        },
        Alert {
            name: names[1],
            expr: rule("6h", "30m", 6.0),
            hold: "15m",
            severity: "page",
            summary: format!("{what} burns its error budget 6 times too fast"),
            description: format!(
                "Over both the last 6 hours and the last 30 minutes, more than 6 × (1 − {objective}) of the requests were {what}: 5 % of a 30-day budget goes in 6 hours."
            ),
            fires: Case {
                series: series("0+90x420", "0+10x420"),
                at: "400m",
                labels: page(),
            },
            silent: Case {
                series: series("0+100000x420", "0+1x420"),
                at: "400m",
                labels: None,
            },
        },
    ]
}

/// Availability and latency burn rates.
fn slo_alerts(o: &Options) -> Vec<Alert> {
    let avail = burn_rates(
        [ALERT_NAMES[0], ALERT_NAMES[1]],
        &format!("{}: 5xx answers", o.model),
        o.availability,
        &|w| format!("({})", status_ratio(o, "5..", w)),
        &|good, bad| {
            vec![
                ser(req(o, "champion", "200"), good),
                ser(req(o, "champion", "500"), bad),
            ]
        },
    );
    let dur = |le: bool| {
        let l = scraped(
            o,
            ",endpoint=\"predict\",variant=\"champion\",status=\"200\"",
        );
        if le {
            format!(
                "mlops_request_duration_seconds_bucket{{{l},le=\"{}\"}}",
                o.latency_le
            )
        } else {
            format!("mlops_request_duration_seconds_count{{{l}}}")
        }
    };
    let latency = burn_rates(
        [ALERT_NAMES[2], ALERT_NAMES[3]],
        &format!("{}: requests slower than {} s", o.model, o.latency_le),
        o.latency_target,
        &|w| slow_ratio(o, w),
        &|good, bad| {
            // The bucket counts the good requests, the count all of them.
            let (g, b) = (steps(good), steps(bad));
            vec![
                ser(dur(true), good),
                (dur(false), format!("0+{}x{}", g.0 + b.0, g.1)),
            ]
        },
    );
    avail.into_iter().chain(latency).collect()
}

/// The step and the number of steps of a `0+NxM` series.
fn steps(v: &str) -> (u64, u64) {
    let mut it = v
        .trim_start_matches("0+")
        .split('x')
        .map(|n| n.parse().unwrap_or(0));
    (it.next().unwrap_or(0), it.next().unwrap_or(0))
}

/// Target absent, error ratio, dropped log lines.
fn service_alerts(o: &Options) -> Vec<Alert> {
    let up = format!("up{{job=\"{}\",instance=\"127.0.0.1:8080\"}}", o.job);
    let dropped = format!(
        "mlops_prediction_log_dropped_lines_total{{job=\"{}\",instance=\"127.0.0.1:8080\"}}",
        o.job
    );
    let traffic = |ok: &str, bad: &str| {
        vec![
            ser(req(o, "champion", "200"), ok),
            ser(req(o, "champion", "400"), bad),
        ]
    };
    vec![
        Alert {
            name: ALERT_NAMES[4],
            expr: format!("absent(up{{job=\"{}\"}})", o.job),
            hold: "5m",
            severity: "page",
            summary: format!("Prometheus has no target for job {}", o.job),
            description: format!(
                "No series up{{job=\"{}\"}} for 5 minutes: the server is not discovered or not scraped, so none of the other alerts can fire.",
                o.job
            ),
            fires: Case { series: vec![ser("up{job=\"other\"}".to_string(), "1x20")], at: "10m", labels: Some(vec![("job", o.job.clone()), ("severity", "page".into())]) },
            silent: Case { series: vec![ser(up, "1x20")], at: "10m", labels: None },
        },
        Alert {
            name: ALERT_NAMES[5],
            expr: format!("{} > 0.05", status_ratio(o, "4..|5..", "5m")),
            hold: "10m",
            severity: "ticket",
            summary: format!("{}: more than 5 % of the requests fail", o.model),
            description: "Over 10 minutes, more than 5 % of the prediction requests were answered with a 4xx or 5xx: clients send what the model does not accept, or the server fails.".into(),
            fires: Case { series: traffic("0+90x30", "0+10x30"), at: "25m", labels: Some(vec![("severity", "ticket".into())]) },
            silent: Case { series: traffic("0+99x30", "0+1x30"), at: "25m", labels: None },
        },
        Alert {
            name: ALERT_NAMES[6],
            expr: format!(
                "sum(increase(mlops_prediction_log_dropped_lines_total{{job=\"{}\"}}[10m])) > 0",
                o.job
            ),
            hold: "1m",
            severity: "ticket",
            summary: "prediction log lines are being lost".into(),
            description: "mlops_prediction_log_dropped_lines_total grew in the last 10 minutes: the log queue is full, the disk fails, or the sink is down longer than its buffer lasts.".into(),
            fires: Case { series: vec![ser(dropped.clone(), "0+1x20")], at: "15m", labels: Some(vec![("severity", "ticket".into())]) },
            silent: Case { series: vec![ser(dropped, "0+0x20")], at: "15m", labels: None },
        },
    ]
}

/// Feature and prediction drift.
fn drift_alerts(o: &Options) -> Vec<Alert> {
    let psi = format!(
        "mlops_feature_drift_psi{{{}}}",
        scraped(o, ",variant=\"champion\",feature=\"sqft\"")
    );
    let pred = format!(
        "mlops_prediction_drift_psi{{{}}}",
        scraped(o, ",variant=\"champion\"")
    );
    let labels = |feature: bool| {
        let mut l = vec![
            ("model", o.model.clone()),
            ("version", "v1.0.0".to_string()),
            ("variant", "champion".to_string()),
        ];
        if feature {
            l.push(("feature", "sqft".into()));
        }
        l.push(("severity", "ticket".into()));
        Some(l)
    };
    vec![
        Alert {
            name: ALERT_NAMES[7],
            expr: format!(
                "max by (model, version, variant, feature) (mlops_feature_drift_psi{{{}}}) > 0.25",
                sel(o, "")
            ),
            hold: "30m",
            severity: "ticket",
            summary: format!("{}: a feature's live distribution drifted from training", o.model),
            description: "The population stability index of a feature over the monitor window has been above 0.25 for 30 minutes: the model sees inputs unlike its training data.".into(),
            fires: Case { series: vec![ser(psi.clone(), "0.4x60")], at: "45m", labels: labels(true) },
            silent: Case { series: vec![ser(psi, "0.1x60")], at: "45m", labels: None },
        },
        Alert {
            name: ALERT_NAMES[8],
            expr: format!(
                "max by (model, version, variant) (mlops_prediction_drift_psi{{{}}}) > 0.25",
                sel(o, "")
            ),
            hold: "30m",
            severity: "ticket",
            summary: format!("{}: the predictions drifted from the training predictions", o.model),
            description: "The population stability index of the predictions over the monitor window has been above 0.25 for 30 minutes.".into(),
            fires: Case { series: vec![ser(pred.clone(), "0.4x60")], at: "45m", labels: labels(false) },
            silent: Case { series: vec![ser(pred, "0.2x60")], at: "45m", labels: None },
        },
    ]
}

/// Rate-limited surge, challenger worse than champion.
fn traffic_alerts(o: &Options) -> Vec<Alert> {
    let limited = format!(
        "mlops_rate_limited_total{{job=\"{}\",instance=\"127.0.0.1:8080\",role=\"predict\"}}",
        o.job
    );
    let arm = |variant: &str, status: &str, w: &str| {
        format!(
            "sum by (model) (rate(mlops_requests_total{{{}}}[{w}]))",
            sel(o, &format!(",variant=\"{variant}\"{status}"))
        )
    };
    let ratio_of = |variant: &str| {
        format!(
            "(({} or {} * 0) / {})",
            arm(variant, ",status=~\"5..\"", "30m"),
            arm(variant, "", "30m"),
            arm(variant, "", "30m")
        )
    };
    let ab = |bad: &str| {
        vec![
            ser(req(o, "champion", "200"), "0+100x60"),
            ser(req(o, "champion", "500"), "0+1x60"),
            ser(req(o, "challenger", "200"), "0+90x60"),
            ser(req(o, "challenger", "500"), bad),
        ]
    };
    vec![
        Alert {
            name: ALERT_NAMES[9],
            expr: format!(
                "sum(rate(mlops_rate_limited_total{{job=\"{}\"}}[5m])) > 1",
                o.job
            ),
            hold: "10m",
            severity: "ticket",
            summary: "a surge of requests refused by the rate limits".into(),
            description: "For 10 minutes, more than one request a second was refused by [serve.rate_limit]: a client misbehaves, or the limits are too tight for the traffic.".into(),
            fires: Case { series: vec![ser(limited.clone(), "0+120x30")], at: "25m", labels: Some(vec![("severity", "ticket".into())]) },
            silent: Case { series: vec![ser(limited, "0+6x30")], at: "25m", labels: None },
        },
        Alert {
            name: ALERT_NAMES[10],
            expr: format!("{} > on (model) {} + 0.01", ratio_of("challenger"), ratio_of("champion")),
            hold: "15m",
            severity: "ticket",
            summary: format!("{}: the challenger fails more often than the champion", o.model),
            description: "Over 30 minutes the challenger's share of 5xx answers is more than a percentage point above the champion's: stop the experiment (mlops deploy with challenger_percent 0) or roll the challenger back.".into(),
            fires: Case { series: ab("0+10x60"), at: "50m", labels: Some(vec![("model", o.model.clone()), ("severity", "ticket".into())]) },
            silent: Case { series: ab("0+1x60"), at: "50m", labels: None },
        },
    ]
}

/// Every alert, in [`ALERT_NAMES`] order.
fn all(o: &Options) -> Vec<Alert> {
    let mut a = slo_alerts(o);
    a.extend(service_alerts(o));
    a.extend(drift_alerts(o));
    a.extend(traffic_alerts(o));
    a
}

fn runbook(o: &Options, name: &str) -> String {
    format!("{}#{}", o.runbook, name.to_lowercase())
}

/// The annotations of `a`, one a line at `indent`, without the last newline.
fn annotations(o: &Options, a: &Alert, indent: &str) -> String {
    format!(
        "{indent}summary: {}\n{indent}description: {}\n{indent}runbook: {}",
        q(&a.summary),
        q(&a.description),
        q(&runbook(o, a.name))
    )
}

/// `alerts.yml`: one rule group of every alert.
#[must_use]
pub fn alerts_yml(o: &Options) -> String {
    let mut out =
        String::from("# Written by `mlops monitor emit`; see docs/monitoring.md.\ngroups:\n");
    let _ = writeln!(
        out,
        "  - name: {}\n    rules:",
        q(&format!("mlops-{}", o.model))
    );
    for a in all(o) {
        let _ = writeln!(
            out,
            "      - alert: {}\n        expr: {}\n        for: {}\n        labels:\n          severity: {}\n        annotations:\n{}",
            a.name,
            q(&a.expr),
            a.hold,
            a.severity,
            annotations(o, &a, "          ")
        );
    }
    out
}

/// `alerts_test.yml`: per alert, a test group where it fires and one where
/// it stays silent.
#[must_use]
pub fn alerts_test_yml(o: &Options) -> String {
    let mut out = String::from(
        "# Written by `mlops monitor emit`: promtool test rules alerts_test.yml\nrule_files:\n  - alerts.yml\nevaluation_interval: 1m\ntests:\n",
    );
    for a in all(o) {
        for case in [&a.fires, &a.silent] {
            let _ = writeln!(out, "  - interval: 1m\n    input_series:");
            for (series, values) in &case.series {
                let _ = writeln!(
                    out,
                    "      - series: {}\n        values: {}",
                    q(series),
                    q(values)
                );
            }
            let _ = write!(
                out,
                "    alert_rule_test:\n      - eval_time: {}\n        alertname: {}\n        exp_alerts:",
                case.at, a.name
            );
            match &case.labels {
                None => out.push_str(" []\n"),
                Some(labels) => {
                    out.push_str("\n          - exp_labels:\n");
                    for (k, v) in labels {
                        let _ = writeln!(out, "              {k}: {}", q(v));
                    }
                    let _ = writeln!(
                        out,
                        "            exp_annotations:\n{}",
                        annotations(o, &a, "              ")
                    );
                }
            }
        }
    }
    out
}

/// The rules of [`alerts_yml`] as a Prometheus Operator `PrometheusRule`
/// (to sit beside a Kubernetes environment's manifests).
#[must_use]
pub fn prometheus_rule_yaml(o: &Options) -> String {
    let rules = alerts_yml(o);
    let groups = rules.split_once("groups:\n").map_or("", |(_, g)| g);
    let name: String = format!("mlops-{}", o.model)
        .to_ascii_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '-'
            }
        })
        .take(63)
        .collect();
    let mut out = format!(
        "# Written by `mlops monitor emit --kube`; see docs/monitoring.md.\napiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nmetadata:\n  name: {}\n  labels:\n    app.kubernetes.io/managed-by: mlops\nspec:\n  groups:\n",
        q(name.trim_end_matches('-'))
    );
    for line in groups.lines() {
        let _ = writeln!(out, "  {line}");
    }
    out
}
