//! Prometheus metrics in the text exposition format (version 0.0.4).
//!
//! Labels only ever name a model the server loaded: a request for a name
//! no model has counts under `model=""`, so a client cannot grow the label
//! set. Series are keyed by the model's process-unique [`Model::id`] and
//! hold only its name and version, never the model: a model unloaded (not
//! in any slot) has its series dropped at the next scrape, and two loads of
//! the same name and version (a rollback, a re-upload) are summed into one
//! sample, so no label set is ever written twice.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::model::Model;
use super::monitor::{self, render::esc};
use super::state::{Slots, Table, Variant};

/// Upper bounds of the request duration histogram, seconds.
pub const DURATION_BUCKETS: [f64; 14] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 2.5, 10.0,
];

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct RequestKey {
    endpoint: &'static str,
    model: u64,
    variant: &'static str,
    status: u16,
}

/// The bucket of `x` among upper `bounds` (the first bound at least `x`).
fn bucket(bounds: &[f64], x: f64) -> Option<usize> {
    bounds.iter().position(|b| x <= *b)
}

#[derive(Debug, Clone)]
struct Histogram {
    counts: Vec<u64>,
    sum: f64,
    count: u64,
}

impl Histogram {
    fn new(n: usize) -> Histogram {
        Histogram {
            counts: vec![0; n],
            sum: 0.0,
            count: 0,
        }
    }

    fn observe(&mut self, bounds: &[f64], x: f64) {
        if let Some(i) = bucket(bounds, x) {
            self.counts[i] += 1;
        }
        self.sum += x;
        self.count += 1;
    }

    /// Add `counts` (per bucket, as [`bucket`] finds them) and `values`,
    /// summed in their order: what observing each value would give.
    fn add(&mut self, counts: &[u64], values: impl Iterator<Item = f64>) {
        for (a, b) in self.counts.iter_mut().zip(counts) {
            *a += b;
        }
        for x in values {
            self.sum += x;
            self.count += 1;
        }
    }

    /// Add `other`'s counts (the same bounds).
    fn merge(&mut self, other: &Histogram) {
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
        self.sum += other.sum;
        self.count += other.count;
    }

    fn render(&self, out: &mut String, name: &str, labels: &str, bounds: &[f64]) {
        let mut cum = 0;
        for (b, c) in bounds.iter().zip(&self.counts) {
            cum += c;
            let _ = writeln!(out, "{name}_bucket{{{labels},le=\"{b}\"}} {cum}");
        }
        let _ = writeln!(out, "{name}_bucket{{{labels},le=\"+Inf\"}} {}", self.count);
        let _ = writeln!(out, "{name}_sum{{{labels}}} {}", self.sum);
        let _ = writeln!(out, "{name}_count{{{labels}}} {}", self.count);
    }
}

/// A model's name and version, escaped for labels (empty: no model).
#[derive(Debug, Clone, Default)]
struct Named {
    name: String,
    version: String,
}

impl Named {
    fn of(m: &Model) -> Named {
        Named {
            name: esc(&m.name),
            version: esc(&m.version),
        }
    }
}

#[derive(Debug)]
struct RequestSeries {
    model: Named,
    total: u64,
    duration: Histogram,
}

#[derive(Debug)]
struct PredictionSeries {
    model: Named,
    /// The model's id, so the newest load's buckets win on a clash.
    id: u64,
    buckets: Vec<f64>,
    values: Histogram,
}

/// The server's counters.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: Mutex<HashMap<RequestKey, RequestSeries>>,
    predictions: Mutex<HashMap<(u64, &'static str), PredictionSeries>>,
    /// Requests being handled now.
    pub in_flight: AtomicI64,
    /// Prediction log lines not delivered (queue full, disk failing,
    /// dead-lettered).
    pub dropped_log_lines: Arc<AtomicU64>,
    /// The prediction log's sink (the metric's `sink` label), once started.
    pub log_sink: std::sync::OnceLock<&'static str>,
    /// Audit log lines lost (`sink="audit_log"`).
    pub dropped_audit_lines: AtomicU64,
}

impl Metrics {
    /// Count a request to a prediction `endpoint` served by `model` (or
    /// refused before one was chosen).
    pub fn request(
        &self,
        endpoint: &'static str,
        model: Option<(&Arc<Model>, Variant)>,
        status: u16,
        elapsed: Duration,
    ) {
        let key = RequestKey {
            endpoint,
            model: model.map_or(0, |m| m.0.id),
            variant: model.map_or("", |m| m.1.as_str()),
            status,
        };
        let mut map = self
            .requests
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let s = map.entry(key).or_insert_with(|| RequestSeries {
            model: model.map(|m| Named::of(m.0)).unwrap_or_default(),
            total: 0,
            duration: Histogram::new(DURATION_BUCKETS.len()),
        });
        s.total += 1;
        s.duration.observe(&DURATION_BUCKETS, elapsed.as_secs_f64());
    }

    /// Record predicted values of `model` as `variant`. The values are
    /// binned before the lock is taken, so a large batch holds it only to
    /// add its counts and sum.
    pub fn predictions(&self, model: &Arc<Model>, variant: Variant, values: &[Option<f64>]) {
        let finite = || values.iter().flatten().copied().filter(|v| v.is_finite());
        let mut counts = vec![0u64; model.buckets.len()];
        for v in finite() {
            if let Some(i) = bucket(&model.buckets, v) {
                counts[i] += 1;
            }
        }
        let mut map = self
            .predictions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let s = map
            .entry((model.id, variant.as_str()))
            .or_insert_with(|| PredictionSeries {
                model: Named::of(model),
                id: model.id,
                buckets: model.buckets.clone(),
                values: Histogram::new(model.buckets.len()),
            });
        s.values.add(&counts, finite());
        drop(map);
        model.monitor.predictions(values);
    }

    /// The exposition text, with the model slots of `table`.
    #[must_use]
    pub fn render(&self, table: &Table) -> String {
        self.prune(table);
        let mut out = String::with_capacity(4096);
        self.render_requests(&mut out);
        self.render_predictions(&mut out);
        render_slots(&mut out, table);
        self.render_gauges(&mut out);
        render_monitors(&mut out, table);
        out
    }

    /// `mlops_requests_total` and `mlops_request_duration_seconds`.
    fn render_requests(&self, out: &mut String) {
        out.push_str("# HELP mlops_requests_total Prediction requests by endpoint, model, version, variant and status.\n# TYPE mlops_requests_total counter\n");
        let reqs = self
            .requests
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // One sample per label set: loads of the same version are summed.
        let mut rows: BTreeMap<String, (u64, Histogram)> = BTreeMap::new();
        for (k, s) in reqs.iter() {
            let l = format!(
                "endpoint=\"{}\",model=\"{}\",version=\"{}\",variant=\"{}\",status=\"{}\"",
                k.endpoint, s.model.name, s.model.version, k.variant, k.status
            );
            match rows.get_mut(&l) {
                Some((t, h)) => {
                    *t += s.total;
                    h.merge(&s.duration);
                }
                None => {
                    rows.insert(l, (s.total, s.duration.clone()));
                }
            }
        }
        for (l, (total, _)) in &rows {
            let _ = writeln!(out, "mlops_requests_total{{{l}}} {total}");
        }
        out.push_str("# HELP mlops_request_duration_seconds Time to answer a prediction request.\n# TYPE mlops_request_duration_seconds histogram\n");
        for (l, (_, h)) in &rows {
            h.render(out, "mlops_request_duration_seconds", l, &DURATION_BUCKETS);
        }
    }

    /// `mlops_predictions`, one histogram per model and variant.
    fn render_predictions(&self, out: &mut String) {
        out.push_str("# HELP mlops_predictions Predicted values by model and variant (buckets: the training target's deciles).\n# TYPE mlops_predictions histogram\n");
        let preds = self
            .predictions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // One sample per label set: loads of the same version are summed
        // (when their buckets differ, the newest load's series is shown).
        let mut rows: BTreeMap<String, (u64, &[f64], Histogram)> = BTreeMap::new();
        for ((_, variant), s) in preds.iter() {
            let l = format!(
                "model=\"{}\",version=\"{}\",variant=\"{variant}\"",
                s.model.name, s.model.version
            );
            match rows.get_mut(&l) {
                Some((_, b, h)) if *b == s.buckets.as_slice() => h.merge(&s.values),
                Some(row) if row.0 < s.id => *row = (s.id, &s.buckets, s.values.clone()),
                Some(_) => {}
                None => {
                    rows.insert(l, (s.id, &s.buckets, s.values.clone()));
                }
            }
        }
        for (l, (_, b, h)) in &rows {
            h.render(out, "mlops_predictions", l, b);
        }
    }

    /// Drop the series of models no longer in any slot of `table`.
    fn prune(&self, table: &Table) {
        let live: HashSet<u64> = table
            .values()
            .flat_map(|s| [&s.champion, &s.challenger, &s.previous])
            .flatten()
            .map(|m| m.id)
            .collect();
        self.requests
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .retain(|k, _| k.model == 0 || live.contains(&k.model));
        self.predictions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .retain(|k, _| live.contains(&k.0));
    }

    /// `mlops_in_flight_requests` and `mlops_prediction_log_dropped_lines_total`.
    fn render_gauges(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "# HELP mlops_in_flight_requests Requests being handled.\n# TYPE mlops_in_flight_requests gauge\nmlops_in_flight_requests {}",
            self.in_flight.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP mlops_prediction_log_dropped_lines_total Log lines not delivered by their sink (queue full, write failed, dead-lettered).\n# TYPE mlops_prediction_log_dropped_lines_total counter"
        );
        if let Some(sink) = self.log_sink.get() {
            let _ = writeln!(
                out,
                "mlops_prediction_log_dropped_lines_total{{sink=\"{sink}\"}} {}",
                self.dropped_log_lines.load(Ordering::Relaxed)
            );
        }
        let audit = self.dropped_audit_lines.load(Ordering::Relaxed);
        if audit > 0 {
            let _ = writeln!(
                out,
                "mlops_prediction_log_dropped_lines_total{{sink=\"audit_log\"}} {audit}"
            );
        }
    }
}

/// The models in memory by slot (`mlops_model_info`,
/// `mlops_model_loaded_timestamp_seconds`) and each model's
/// `mlops_challenger_percent`.
fn render_slots(out: &mut String, table: &Table) {
    let slots = |s: &Slots| {
        [
            ("champion", s.champion.clone()),
            ("challenger", s.challenger.clone()),
            ("previous", s.previous.clone()),
        ]
    };
    out.push_str(
        "# HELP mlops_model_info The models in memory, by slot.\n# TYPE mlops_model_info gauge\n",
    );
    for s in table.values() {
        for (slot, m) in slots(s) {
            if let Some(m) = m {
                let _ = writeln!(
                    out,
                    "mlops_model_info{{model=\"{}\",version=\"{}\",slot=\"{slot}\"}} 1",
                    esc(&m.name),
                    esc(&m.version)
                );
            }
        }
    }
    out.push_str("# HELP mlops_model_loaded_timestamp_seconds When each model in memory was loaded.\n# TYPE mlops_model_loaded_timestamp_seconds gauge\n");
    for s in table.values() {
        for (slot, m) in slots(s) {
            if let Some(m) = m {
                let _ = writeln!(
                    out,
                    "mlops_model_loaded_timestamp_seconds{{model=\"{}\",version=\"{}\",slot=\"{slot}\"}} {:.3}",
                    esc(&m.name),
                    esc(&m.version),
                    m.loaded_at
                );
            }
        }
    }
    out.push_str("# HELP mlops_challenger_percent Share of traffic routed to the challenger.\n# TYPE mlops_challenger_percent gauge\n");
    for (name, s) in table {
        let _ = writeln!(
            out,
            "mlops_challenger_percent{{model=\"{}\"}} {}",
            esc(name),
            s.challenger_percent
        );
    }
}

/// The drift families of the champion and challenger of every name.
fn render_monitors(out: &mut String, table: &Table) {
    let mut served = Vec::new();
    for s in table.values() {
        for v in [Variant::Champion, Variant::Challenger] {
            if let Some(m) = s.get(v) {
                let labels = format!(
                    "model=\"{}\",version=\"{}\",variant=\"{}\"",
                    esc(&m.name),
                    esc(&m.version),
                    v.as_str()
                );
                served.push((labels, &m.monitor));
            }
        }
    }
    monitor::render(out, &served);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serve::model::tests::toy;
    use crate::serve::state::Models;

    #[test]
    fn renders_counters_histograms_and_slots() {
        let m = Metrics::default();
        m.log_sink.set("elasticsearch").unwrap();
        m.dropped_log_lines.fetch_add(3, Ordering::Relaxed);
        let models = Models::new();
        let a = models
            .put(toy("error"), Variant::Champion, None, false)
            .unwrap();
        m.request(
            "predict",
            Some((&a, Variant::Champion)),
            200,
            Duration::from_micros(300),
        );
        m.request(
            "predict",
            Some((&a, Variant::Champion)),
            200,
            Duration::from_millis(20),
        );
        m.request("predict", None, 400, Duration::from_micros(50));
        m.predictions(&a, Variant::Champion, &[Some(1.5), None, Some(100.0)]);
        let text = m.render(&models.snapshot());
        for want in [
            "mlops_requests_total{endpoint=\"predict\",model=\"toy\",version=\"v1.0.0\",variant=\"champion\",status=\"200\"} 2\n",
            "mlops_requests_total{endpoint=\"predict\",model=\"\",version=\"\",variant=\"\",status=\"400\"} 1\n",
            "mlops_request_duration_seconds_bucket{endpoint=\"predict\",model=\"toy\",version=\"v1.0.0\",variant=\"champion\",status=\"200\",le=\"0.0005\"} 1\n",
            "mlops_request_duration_seconds_bucket{endpoint=\"predict\",model=\"toy\",version=\"v1.0.0\",variant=\"champion\",status=\"200\",le=\"0.025\"} 2\n",
            "mlops_predictions_bucket{model=\"toy\",version=\"v1.0.0\",variant=\"champion\",le=\"2\"} 1\n",
            "mlops_predictions_bucket{model=\"toy\",version=\"v1.0.0\",variant=\"champion\",le=\"30\"} 1\n",
            "mlops_predictions_bucket{model=\"toy\",version=\"v1.0.0\",variant=\"champion\",le=\"+Inf\"} 2\n",
            "mlops_predictions_sum{model=\"toy\",version=\"v1.0.0\",variant=\"champion\"} 101.5\n",
            "mlops_model_info{model=\"toy\",version=\"v1.0.0\",slot=\"champion\"} 1\n",
            "mlops_in_flight_requests 0\n",
            "mlops_prediction_log_dropped_lines_total{sink=\"elasticsearch\"} 3\n",
        ] {
            assert!(text.contains(want), "missing {want} in\n{text}");
        }
        assert_eq!(esc("a\"b\\c"), "a\\\"b\\\\c");
    }

    /// Review M2: v1, then v2, then v1 again (a new load): each label set
    /// once, and an unloaded model is not kept alive by its series.
    #[test]
    fn reloads_never_repeat_a_label_set_and_unloaded_models_are_freed() {
        let m = Metrics::default();
        let models = Models::new();
        let ms = Duration::from_millis(1);
        let first = models
            .put(toy("error"), Variant::Champion, None, false)
            .unwrap();
        m.request("predict", Some((&first, Variant::Champion)), 200, ms);
        m.predictions(&first, Variant::Champion, &[Some(1.0)]);
        let mut v2 = toy("error");
        v2.version = "v2.0.0".into();
        let second = models.put(v2, Variant::Champion, None, false).unwrap();
        m.request("predict", Some((&second, Variant::Champion)), 200, ms);
        let again = models
            .put(toy("error"), Variant::Champion, None, false)
            .unwrap();
        m.request("predict", Some((&again, Variant::Champion)), 200, ms);
        m.predictions(&again, Variant::Champion, &[Some(1.0)]);
        let text = m.render(&models.snapshot());
        let v1 = "mlops_requests_total{endpoint=\"predict\",model=\"toy\",version=\"v1.0.0\",variant=\"champion\",status=\"200\"}";
        assert_eq!(text.matches(v1).count(), 1, "{text}");
        for l in text.lines().filter(|l| !l.starts_with('#')) {
            let labels = l.rsplit_once(' ').unwrap().0;
            let same = text
                .lines()
                .filter(|x| x.starts_with(&format!("{labels} ")));
            assert_eq!(same.count(), 1, "{labels} twice in\n{text}");
        }
        // The first load is in no slot: its series are gone, and nothing
        // but this test holds it.
        assert!(text.contains(&format!("{v1} 1\n")), "{text}");
        assert_eq!(Arc::strong_count(&first), 1);
        assert!(text.contains("version=\"v2.0.0\""), "{text}");
    }
}
