//! Checks of the training tables: `[split]`, `[data]` and `[model]`.

use crate::error::Result;
use crate::project::check::rules::first_duplicate;
use crate::project::locate::Source;
use crate::project::types::{DataSection, ModelKind, ModelSection, SplitSection};
use crate::registry::tag::valid_name;

/// `[split]`: the validation fraction is a share, and excludes a validation file.
pub(super) fn check_split(split: &SplitSection, src: Source<'_>) -> Result<()> {
    let err = |section: &str, key: &str, msg: String| src.key_error(section, key, msg);
    if let Some(fr) = split.validation_fraction {
        if !(0.0..1.0).contains(&fr) || fr.is_nan() {
            return Err(err(
                "split",
                "validation_fraction",
                format!("= {fr} must be at least 0 and below 1"),
            ));
        }
        if fr > 0.0 && split.validation_path.is_some() {
            return Err(err(
                "split",
                "validation_fraction",
                "cannot be combined with split.validation_path; keep one of them".into(),
            ));
        }
    }
    Ok(())
}

/// `[data]`: target, paths and the column lists agree with each other.
pub(super) fn check_data(d: &DataSection, src: Source<'_>) -> Result<()> {
    let err = |section: &str, key: &str, msg: String| src.key_error(section, key, msg);
    if d.target.trim().is_empty() {
        return Err(err(
            "data",
            "target",
            "is empty; name the target column".into(),
        ));
    }
    let patterns = d.path.patterns();
    if patterns.is_empty() || patterns.iter().any(|p| p.trim().is_empty()) {
        return Err(err(
            "data",
            "path",
            "is empty; name the training CSV (or a list of CSVs)".into(),
        ));
    }
    if let Some(feats) = &d.features {
        if feats.is_empty() {
            return Err(err(
                "data",
                "features",
                "is empty; list at least one column or remove the key to use every column".into(),
            ));
        }
        if feats.contains(&d.target) {
            return Err(err(
                "data",
                "features",
                format!("contains the target \"{}\"; remove it", d.target),
            ));
        }
        if let Some(dup) = first_duplicate(feats) {
            return Err(err("data", "features", format!("lists \"{dup}\" twice")));
        }
        for c in &d.categorical {
            if !feats.contains(c) {
                return Err(err(
                    "data",
                    "categorical",
                    format!("names \"{c}\", which is not in data.features; add it there"),
                ));
            }
        }
    }
    if d.categorical.contains(&d.target) {
        return Err(err(
            "data",
            "categorical",
            format!(
                "contains the target \"{}\"; the target must be numeric",
                d.target
            ),
        ));
    }
    if d.exclude.contains(&d.target) {
        return Err(err(
            "data",
            "exclude",
            format!("contains the target \"{}\"; remove it", d.target),
        ));
    }
    check_levels(d, src)
}

/// `[data]`: the level limits are counts that make sense.
fn check_levels(d: &DataSection, src: Source<'_>) -> Result<()> {
    if d.max_levels < 2 {
        return Err(src.key_error(
            "data",
            "max_levels",
            format!(
                "= {} must be at least 2 (a column with one level carries nothing)",
                d.max_levels
            ),
        ));
    }
    if d.min_level_count < 1 {
        return Err(src.key_error(
            "data",
            "min_level_count",
            "= 0 must be at least 1 (1 keeps every level)".into(),
        ));
    }
    Ok(())
}

/// `[model]`: a valid registry name, and GLM settings only on a GLM.
pub(super) fn check_model(m: &ModelSection, src: Source<'_>) -> Result<()> {
    let err = |section: &str, key: &str, msg: String| src.key_error(section, key, msg);
    if !valid_name(&m.name) {
        return Err(err(
            "model",
            "name",
            format!(
                "= \"{}\" is not a valid model name; use letters, digits, '-', '_' or '/', starting and ending with a letter or digit",
                m.name
            ),
        ));
    }
    check_classifier_keys(m, src)?;
    if m.kind == ModelKind::Linear {
        for (key, set) in [
            ("power", m.power.is_some()),
            ("link", m.link.is_some()),
            ("alpha", m.alpha.is_some()),
            ("max_iter", m.max_iter.is_some()),
        ] {
            if set {
                return Err(err(
                    "model",
                    key,
                    "applies only to kind = \"glm\"; remove it or set model.kind = \"glm\"".into(),
                ));
            }
        }
    } else {
        if let Some(p) = m.power
            && (!(p == 0.0 || p >= 1.0) || !p.is_finite())
        {
            return Err(err(
                "model",
                "power",
                format!("= {p} is not a Tweedie power; use 0, or a number of at least 1"),
            ));
        }
        if let Some(a) = m.alpha
            && (a < 0.0 || !a.is_finite())
        {
            return Err(err(
                "model",
                "alpha",
                format!("= {a} must be a finite number of at least 0"),
            ));
        }
        if m.max_iter == Some(0) {
            return Err(err("model", "max_iter", "must be at least 1".into()));
        }
    }
    Ok(())
}

/// `[model]`: classifier keys only on a classifier, GLM keys not on one,
/// and their ranges.
fn check_classifier_keys(m: &ModelSection, src: Source<'_>) -> Result<()> {
    let err = |key: &str, msg: String| src.key_error("model", key, msg);
    let classifier = m.kind.is_classifier();
    for (key, set, want) in [
        ("positive", m.positive.is_some(), true),
        ("max_classes", m.max_classes.is_some(), true),
        ("threshold", m.threshold.is_some(), true),
        ("allow_unconverged", m.allow_unconverged.is_some(), true),
        ("power", m.power.is_some(), false),
        ("link", m.link.is_some(), false),
    ] {
        if set && classifier != want {
            let kinds = if want {
                "\"logistic\" or \"multinomial\""
            } else {
                "\"glm\""
            };
            return Err(err(
                key,
                format!("applies only to kind = {kinds}; remove it or change model.kind"),
            ));
        }
    }
    if let Some(t) = m.threshold
        && !(t > 0.0 && t < 1.0)
    {
        return Err(err(
            "threshold",
            format!("= {t} must be strictly between 0 and 1"),
        ));
    }
    if let Some(k) = m.max_classes
        && k < 2
    {
        return Err(err("max_classes", format!("= {k} must be at least 2")));
    }
    Ok(())
}
