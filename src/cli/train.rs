//! `mlops train [--output PATH]`: render a [`TrainReport`] as text or JSON.

use std::fmt::Write as _;

use serde_json::json;

use super::{Cli, Env, TrainArgs, output::Output};
use mlops::Result;
use mlops::error::Error;
use mlops::model::metrics::MetricSet;
use mlops::project::Project;
use mlops::timestamp::rfc3339;
use mlops::train::{TrainOptions, TrainReport};

pub fn run(a: &TrainArgs, cli: &Cli, env: &Env, out: &Output) -> Result<()> {
    let project = Project::load(super::config_path(cli, env), &env.cwd)?;
    out.verbose(&format!("project file: {}", project.path.display()));
    let opts = TrainOptions {
        out: a.out.as_ref().map(|p| env.cwd.join(p)),
        created_at: created_at(env)?,
        streaming: a.streaming,
        block: 0,
    };
    let progress = out.progress();
    let report = mlops::train::train(&project, &opts, progress.as_ref())?;
    if out.json {
        out.report(&render_json(&report), "")
    } else {
        let text = render_text(&report, out);
        out.report(&text, super::output::first_line(&text))
    }
}

/// `SOURCE_DATE_EPOCH` when set (reproducible builds), else now.
pub fn created_at(env: &Env) -> Result<String> {
    let secs = match &env.source_date_epoch {
        Some(s) => s.trim().parse::<i64>().map_err(|_| {
            Error::usage(format!(
                "SOURCE_DATE_EPOCH = \"{s}\" is not a whole number of seconds; unset it or fix it"
            ))
        })?,
        None => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0)),
    };
    Ok(rfc3339(secs))
}

/// The `--json` document (schema: docs/schemas/train.schema.json).
#[must_use]
pub fn render_json(r: &TrainReport) -> String {
    let m = &r.model;
    let doc = json!({
        "artifact": r.artifact_path,
        "fit_path": r.path,
        "seconds": r.seconds,
        "name": m.name,
        "kind": m.kind,
        "target": m.target,
        "features": m.features,
        "rows": m.rows,
        "metrics": m.metrics,
        "intercept": m.intercept,
        "coefficients": m.coefficients,
        "data_sha256": m.data_sha256,
        "created_at": m.created_at,
    });
    let mut doc = doc;
    if let Some(inf) = &m.inference {
        doc["inference"] = json!(inf);
    }
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
    s.push('\n');
    s
}

pub(super) fn fmt_num(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let a = v.abs();
    if (1e-3..1e7).contains(&a) {
        let digits = (6 - a.log10().floor() as i32).clamp(0, 9) as usize;
        format!("{v:.digits$}")
    } else {
        format!("{v:.6e}")
    }
}

fn fmt_opt(v: Option<f64>) -> String {
    v.map_or_else(|| "-".into(), fmt_num)
}

/// The human report.
#[must_use]
pub fn render_text(r: &TrainReport, out: &Output) -> String {
    let m = &r.model;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{} {} ({}, {} fit) on {} rows in {:.2} s",
        out.paint("Trained", "1;32"),
        m.name,
        m.kind.as_str(),
        r.path,
        m.rows.train,
        r.seconds
    );
    let _ = writeln!(
        s,
        "  rows     {} read, {} train, {} validation, {} dropped",
        m.rows.total, m.rows.train, m.rows.validation, m.rows.dropped
    );
    let _ = writeln!(s, "  data     sha256 {}", m.data_sha256);
    let _ = writeln!(s);
    // A classifier's metric names (`average_precision`) are longer.
    let w = if m.classifier.is_some() { 17 } else { 10 };
    let _ = writeln!(s, "  {:<w$} {:>16} {:>16}", "metric", "train", "validation");
    let v = m.metrics.validation.as_ref();
    let row = |s: &mut String, name: &str, f: &dyn Fn(&MetricSet) -> Option<f64>| {
        let _ = writeln!(
            s,
            "  {:<w$} {:>16} {:>16}",
            name,
            fmt_opt(f(&m.metrics.train)),
            v.map_or_else(|| "-".into(), |v| fmt_opt(f(v)))
        );
    };
    row(&mut s, "rmse", &|x| Some(x.rmse));
    row(&mut s, "mae", &|x| Some(x.mae));
    row(&mut s, "r2", &|x| x.r2);
    if m.classifier.is_none() {
        // Undefined on probabilities: a classifier reports none.
        row(&mut s, "mape", &|x| x.mape);
    }
    if m.metrics.train.deviance.is_some() {
        row(&mut s, "deviance", &|x| x.deviance);
    }
    if let Some(c) = &m.classifier {
        classifier_rows(&mut s, c, w);
    }
    let _ = writeln!(s);
    let width = m
        .coefficients
        .keys()
        .map(String::len)
        .max()
        .unwrap_or(9)
        .max(9);
    if let Some(inf) = &m.inference {
        inference_rows(&mut s, inf, width);
    } else {
        let _ = writeln!(s, "  {:<width$} {:>16}", "intercept", fmt_num(m.intercept));
        for (k, c) in &m.coefficients {
            let _ = writeln!(s, "  {k:<width$} {:>16}", fmt_num(*c));
        }
    }
    let _ = writeln!(s);
    let _ = writeln!(s, "{} {}", out.paint("Wrote", "1"), r.artifact_path);
    s
}

/// The coefficient table with standard errors, t (or z), p and 95 %
/// intervals, and the fit's statistics (statsmodels' OLS or GLM summary).
fn inference_rows(s: &mut String, inf: &mlops::model::inference::Inference, width: usize) {
    let glm = inf.family.is_some();
    let (stat, p) = if glm { ("z", "P>|z|") } else { ("t", "P>|t|") };
    let _ = writeln!(
        s,
        "  {:<width$} {:>16} {:>12} {:>9} {:>10} {:>16} {:>16}",
        "", "coef", "std err", stat, p, "[0.025", "0.975]"
    );
    let rows = inf
        .intercept
        .iter()
        .map(|c| ("intercept", c))
        .chain(inf.coefficients.iter().map(|(k, c)| (k.as_str(), c)));
    for (k, c) in rows {
        let _ = writeln!(
            s,
            "  {k:<width$} {:>16} {:>12} {:>9.3} {:>10.3e} {:>16} {:>16}",
            fmt_num(c.estimate),
            fmt_num(c.std_error),
            c.t.or(c.z).unwrap_or(f64::NAN),
            c.p_value,
            fmt_num(c.ci_low),
            fmt_num(c.ci_high)
        );
    }
    let _ = writeln!(s);
    if let (Some(r2), Some(adj), Some(f), Some(fp)) =
        (inf.r2, inf.adj_r2, inf.f_statistic, inf.f_p_value)
    {
        let _ = writeln!(
            s,
            "  R² {r2:.6}  adj. R² {adj:.6}  F {} on {} and {} df (p = {fp:.3e})",
            fmt_num(f),
            inf.df_model,
            inf.df_resid,
        );
    }
    if let (Some(family), Some(dev), Some(x2), Some(scale)) =
        (&inf.family, inf.deviance, inf.pearson_chi2, inf.scale)
    {
        let _ = writeln!(
            s,
            "  family {family}  deviance {}  Pearson chi² {}  scale {}  df {} model, {} residual",
            fmt_num(dev),
            fmt_num(x2),
            fmt_num(scale),
            inf.df_model,
            inf.df_resid,
        );
    }
    let opt = |v: Option<f64>| v.map_or_else(|| "undefined".to_string(), fmt_num);
    let _ = write!(
        s,
        "  log-likelihood {}  AIC {}  BIC {}",
        opt(inf.log_likelihood),
        opt(inf.aic),
        opt(inf.bic),
    );
    if let Some(se) = inf.residual_std_error {
        let _ = write!(s, "  residual std. error {}", fmt_num(se));
    }
    let _ = writeln!(s);
}

/// A classifier's metric rows and how its fit converged.
fn classifier_rows(s: &mut String, c: &mlops::model::classes::ClassifierPart, w: usize) {
    let v = c.metrics.validation.as_ref();
    for (name, _) in mlops::stats::classification::METRICS {
        let t = c.metrics.train.get(name);
        if t.is_none() {
            continue;
        }
        let _ = writeln!(
            s,
            "  {name:<w$} {:>16} {:>16}",
            fmt_opt(t),
            v.map_or_else(|| "-".into(), |v| fmt_opt(v.get(name)))
        );
    }
    let k = &c.convergence;
    let _ = writeln!(
        s,
        "  {}converged in {} iterations (gradient norm {:.3e}, deviance {})",
        if k.converged { "" } else { "NOT " },
        k.iterations,
        k.gradient_norm,
        fmt_num(k.deviance)
    );
}
