//! Checks of `[validate]`: thresholds, the baseline comparison and its
//! rules, drift and data-check thresholds.

use crate::error::{Error, Result};
use crate::project::locate::Source;
use crate::project::suggest::nearest;
use crate::project::types::{ModelKind, ProjectFile};
use crate::project::validate::{
    BaselineSection, CLASSIFIER_METRICS, DataChecksSection, DriftSection, Thresholds,
    VALIDATE_METRICS, ValidateSection,
};
use crate::registry::tag::valid_name;

/// `[validate]` and its tables, in order; each metric applies only to the
/// kinds of `[model]` that report it (the deviance to GLMs, the
/// classification metrics to classifiers).
pub(super) fn check_validate(f: &ProjectFile, v: &ValidateSection, src: Source<'_>) -> Result<()> {
    let t = &v.thresholds;
    let kind = f.model.as_ref().map(|m| m.kind);
    check_thresholds(t, kind, src)?;
    if let Some(b) = &v.baseline {
        check_baseline(b, kind, src)?;
        check_baseline_rules(b, kind, src)?;
    }
    if let Some(d) = &v.drift {
        check_drift(d, src)?;
    }
    check_data_shares(&v.data, src)
}

/// Why `metric` does not apply to a model of `kind`, if it does not.
pub(crate) fn inapplicable(metric: &str, kind: Option<ModelKind>) -> Option<&'static str> {
    let kind = kind?;
    let classifier_metric = CLASSIFIER_METRICS.contains(&metric);
    if metric == "deviance" && kind != ModelKind::Glm {
        Some("applies only to kind = \"glm\" models; remove it")
    } else if classifier_metric && !kind.is_classifier() {
        Some(
            "applies only to classifiers (kind = \"logistic\" or \"multinomial\"); remove it, or gate on r2, rmse, mae or mape",
        )
    } else if !classifier_metric && kind.is_classifier() {
        Some(
            "applies only to regressions; for a classifier use accuracy, log_loss, auc, average_precision, brier, precision, recall, f1 or ece",
        )
    } else if metric == "auc_weighted" && kind == ModelKind::Logistic {
        Some(
            "is defined only for more than two classes (kind = \"multinomial\"); use auc for kind = \"logistic\"",
        )
    } else {
        None
    }
}

/// `[validate.thresholds]`: finite bounds, at least one, in order.
fn check_thresholds(t: &Thresholds, kind: Option<ModelKind>, src: Source<'_>) -> Result<()> {
    let err = |section: &str, key: &str, msg: String| src.key_error(section, key, msg);
    for (name, b) in t.by_metric() {
        let Some(b) = b else { continue };
        let bad = |x: Option<f64>| x.is_some_and(|x| !x.is_finite());
        if bad(b.min) || bad(b.max) {
            return Err(err(
                "validate.thresholds",
                name,
                "needs finite numbers for min and max".into(),
            ));
        }
        if b.min.is_none() && b.max.is_none() {
            return Err(err(
                "validate.thresholds",
                name,
                "sets neither min nor max; write e.g. { min = 0.8 } or remove it".into(),
            ));
        }
        if let (Some(lo), Some(hi)) = (b.min, b.max)
            && lo > hi
        {
            return Err(err(
                "validate.thresholds",
                name,
                format!("has min = {lo} above max = {hi}; swap them"),
            ));
        }
        if let Some(why) = inapplicable(name, kind) {
            return Err(err("validate.thresholds", name, why.into()));
        }
    }
    Ok(())
}

/// `[validate.baseline]`: one way to choose the version, and known metrics.
fn check_baseline(b: &BaselineSection, kind: Option<ModelKind>, src: Source<'_>) -> Result<()> {
    let err = |section: &str, key: &str, msg: String| src.key_error(section, key, msg);
    if b.stage.is_some() && b.version.is_some() {
        return Err(err(
            "validate.baseline",
            "version",
            "cannot be combined with validate.baseline.stage; keep one of them".into(),
        ));
    }
    if let Some(st) = &b.stage
        && !valid_name(st)
    {
        return Err(err(
            "validate.baseline",
            "stage",
            format!("= \"{st}\" is not a valid stage name; use letters, digits, '-', '_' or '/'"),
        ));
    }
    if let Some(ms) = &b.metrics {
        for m in ms {
            let known: Vec<&str> = VALIDATE_METRICS
                .iter()
                .chain(CLASSIFIER_METRICS)
                .copied()
                .collect();
            if !known.contains(&m.as_str()) {
                let hint = nearest(m, &known).map_or_else(
                    || format!("use some of {}", known.join(", ")),
                    |n| format!("did you mean \"{n}\"?"),
                );
                return Err(err(
                    "validate.baseline",
                    "metrics",
                    format!("lists \"{m}\", which is not a metric; {hint}"),
                ));
            }
            if let Some(why) = inapplicable(m, kind) {
                return Err(err(
                    "validate.baseline",
                    "metrics",
                    format!("lists \"{m}\", which {why}"),
                ));
            }
        }
    }
    Ok(())
}

/// The rules of `[validate.baseline]` and of each `[validate.baseline.METRIC]`.
fn check_baseline_rules(
    b: &BaselineSection,
    kind: Option<ModelKind>,
    src: Source<'_>,
) -> Result<()> {
    let err = |section: &str, key: &str, msg: String| src.key_error(section, key, msg);
    let tables = b
        .metric_rules()
        .into_iter()
        .filter_map(|(m, r)| r.map(|r| (format!("validate.baseline.{m}"), Some(m), r)));
    for (section, metric, rules) in
        std::iter::once(("validate.baseline".to_string(), None, b.common_rules())).chain(tables)
    {
        for (key, x) in rules.by_name() {
            if let Some(x) = x
                && !(x >= 0.0 && x.is_finite())
            {
                return Err(err(
                    &section,
                    key,
                    format!("= {x} must be a finite number of at least 0"),
                ));
            }
        }
        let Some(m) = metric else { continue };
        if rules.by_name().iter().all(|(_, x)| x.is_none()) {
            return Err(Error::usage(format!(
                "{}: table [{section}] sets no rule; set max_relative_degradation, max_absolute_degradation, min_relative_improvement or min_absolute_improvement, or remove it",
                src.at_table(&section)
            )));
        }
        if let Some(ms) = &b.metrics
            && !ms.iter().any(|x| x == m)
        {
            return Err(err(
                "validate.baseline",
                "metrics",
                format!(
                    "does not list \"{m}\", which has rules in [{section}]; add it or remove the table"
                ),
            ));
        }
        if let Some(why) = inapplicable(m, kind) {
            return Err(Error::usage(format!(
                "{}: table [{section}] {why}",
                src.at_table(&section)
            )));
        }
    }
    Ok(())
}

/// `[validate.drift]`: thresholds in range and a named data file.
fn check_drift(d: &DriftSection, src: Source<'_>) -> Result<()> {
    let err = |section: &str, key: &str, msg: String| src.key_error(section, key, msg);
    if let Some(x) = d.max_psi
        && !(x > 0.0 && x.is_finite())
    {
        return Err(err(
            "validate.drift",
            "max_psi",
            format!("= {x} must be above 0, like 0.2"),
        ));
    }
    for (key, x) in [
        ("ks_p_value", d.ks_p_value),
        ("chi2_p_value", d.chi2_p_value),
    ] {
        if let Some(x) = x
            && !(x > 0.0 && x < 1.0)
        {
            return Err(err(
                "validate.drift",
                key,
                format!("= {x} must be above 0 and below 1, like 0.01"),
            ));
        }
    }
    if d.data.as_ref().is_some_and(|p| p.trim().is_empty()) {
        return Err(err(
            "validate.drift",
            "data",
            "is empty; name the recent data CSV".into(),
        ));
    }
    Ok(())
}

/// `[validate.data]`: each threshold is a share.
fn check_data_shares(data: &DataChecksSection, src: Source<'_>) -> Result<()> {
    let err = |section: &str, key: &str, msg: String| src.key_error(section, key, msg);
    for (key, x) in [
        ("max_missing", data.max_missing),
        ("max_out_of_range", data.max_out_of_range),
        ("max_unseen", data.max_unseen),
    ] {
        if let Some(x) = x
            && !(0.0..=1.0).contains(&x)
        {
            return Err(err(
                "validate.data",
                key,
                format!("= {x} must be a share between 0 and 1"),
            ));
        }
    }
    Ok(())
}
