//! The smoke test of a deploy: a few rows whose predictions are known from
//! the artifact itself, sent through the deployed model and compared.
//!
//! Rows come from the project's validation rows (the same deterministic
//! split as `train`, or `split.validation_path`) when the data is at hand;
//! otherwise, or to fill up, they are made from the artifact's training
//! statistics (deciles of numeric features, every level of categorical
//! ones), so a deploy from a machine without the data still checks the model.
//!
//! A classifier's answer is checked on its probabilities: each class's
//! probability within [`TOLERANCE`] of the artifact's, and the label.

use std::io::Read;

use serde_json::{Map, Value as Json};

use crate::data::split::is_validation;
use crate::model::stats::ColumnStats;
use crate::model::{Artifact, Value};
use crate::project::Project;

/// Relative tolerance between the server's and the artifact's predictions.
pub const TOLERANCE: f64 = 1e-9;

/// One row of the smoke test.
#[derive(Debug, Clone)]
pub struct Row {
    /// The features as sent to a server.
    pub features: Map<String, Json>,
    /// The artifact's own prediction.
    pub expected: f64,
}

/// The rows of a smoke test and where they came from.
#[derive(Debug, Clone)]
pub struct Rows {
    /// The rows.
    pub rows: Vec<Row>,
    /// "validation rows of FILE", "rows from training statistics", or both.
    pub source: String,
}

/// Up to `n` rows for `artifact` (always at least one).
#[must_use]
pub fn rows(project: &Project, artifact: &Artifact, n: usize) -> Rows {
    let n = n.max(1);
    let mut out = Vec::new();
    let mut source = Vec::new();
    if let Some((file, found)) = validation_rows(project, artifact, n)
        && !found.is_empty()
    {
        source.push(format!("validation rows of {file}"));
        out = found;
    }
    if out.len() < n {
        source.push("rows from the training statistics".to_string());
        let k0 = out.len();
        out.extend((k0..n).filter_map(|k| synthetic_row(artifact, k)));
    }
    Rows {
        rows: out,
        source: source.join(" and "),
    }
}

/// The artifact's prediction for a JSON feature object, `None` when a
/// feature is missing or unknown. (A classifier's: the linear predictor of
/// its last class; [`compare_answer`] checks its probabilities.)
#[must_use]
pub fn predict(artifact: &Artifact, features: &Map<String, Json>) -> Option<f64> {
    let predictor = artifact.predictor().ok()?;
    Some(predictor.predict(&values(artifact, features)?))
}

/// The model's values of a JSON feature object.
fn values(artifact: &Artifact, features: &Map<String, Json>) -> Option<Vec<Value>> {
    let mut row = Vec::with_capacity(artifact.features.len());
    for f in &artifact.features {
        let v = features.get(f)?;
        row.push(match artifact.categorical.get(f) {
            Some(c) => c.value_of(v.as_str()?)?,
            None => Value::Number(v.as_f64()?),
        });
    }
    Some(row)
}

/// Compare the answer `doc` of `POST /predict` to `rows` with what
/// `artifact` predicts: the `predictions`, or a classifier's
/// `probabilities` (each class within [`TOLERANCE`]) and labels. `Err`
/// names the first row that differs; `Ok` is the number of rows.
pub fn compare_answer(
    artifact: &Artifact,
    rows: &[Row],
    doc: &Json,
) -> std::result::Result<usize, String> {
    let answered = |key: &str| -> Vec<Json> {
        doc.get(key)
            .and_then(Json::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let labels = answered("predictions");
    let Some(cp) = artifact.class_predictor().map_err(|e| e.to_string())? else {
        let got: Vec<f64> = labels
            .iter()
            .map(|x| x.as_f64().unwrap_or(f64::NAN))
            .collect();
        return compare(rows, &got).map(|()| got.len());
    };
    let probs = answered("probabilities");
    if probs.len() != rows.len() || labels.len() != rows.len() {
        return Err(format!(
            "{} rows were sent but {} labels and {} probability sets came back",
            rows.len(),
            labels.len(),
            probs.len()
        ));
    }
    for (i, r) in rows.iter().enumerate() {
        let want = values(artifact, &r.features)
            .map(|v| cp.probabilities(&v))
            .ok_or_else(|| format!("row {} cannot be scored by the artifact", i + 1))?;
        for (c, w) in cp.classes.iter().zip(&want) {
            let g = probs[i].get(c).and_then(Json::as_f64).unwrap_or(f64::NAN);
            if !same(g, *w) {
                return Err(format!(
                    "row {} has probability {g} of class \"{c}\" but the artifact gives {w} (tolerance {TOLERANCE} relative)",
                    i + 1
                ));
            }
        }
        let label = &cp.classes[cp.label(&want)];
        if labels[i].as_str() != Some(label.as_str()) {
            return Err(format!(
                "row {} is labelled {} but the artifact predicts \"{label}\"",
                i + 1,
                labels[i]
            ));
        }
    }
    Ok(rows.len())
}

/// Whether `got` equals `want` within [`TOLERANCE`] (relative).
#[must_use]
pub fn same(got: f64, want: f64) -> bool {
    (got - want).abs() <= TOLERANCE * want.abs().max(f64::MIN_POSITIVE) || got == want
}

/// Compare predictions with the rows' expected values: `Err` names the
/// first row that differs.
pub fn compare(rows: &[Row], got: &[f64]) -> std::result::Result<(), String> {
    if rows.len() != got.len() {
        return Err(format!(
            "{} rows were sent but {} predictions came back",
            rows.len(),
            got.len()
        ));
    }
    for (i, (r, g)) in rows.iter().zip(got).enumerate() {
        if !same(*g, r.expected) {
            return Err(format!(
                "row {} predicted {g} but the artifact predicts {} (tolerance {TOLERANCE} relative)",
                i + 1,
                r.expected
            ));
        }
    }
    Ok(())
}

fn validation_rows(project: &Project, artifact: &Artifact, n: usize) -> Option<(String, Vec<Row>)> {
    let split = &project.file.split;
    let (path, all) = match &split.validation_path {
        Some(p) => (project.resolve(p), true),
        None => (project.data_files().ok()?.into_iter().next()?, false),
    };
    let fraction = split.fraction();
    if !all && fraction <= 0.0 {
        return None;
    }
    let file = std::fs::File::open(&path).ok()?;
    let reader: Box<dyn Read> = if crate::data::is_gzip(&path) {
        Box::new(flate2::read::MultiGzDecoder::new(file))
    } else {
        Box::new(file)
    };
    let mut rdr = csv::ReaderBuilder::new().flexible(true).from_reader(reader);
    let header: Vec<String> = rdr.headers().ok()?.iter().map(str::to_string).collect();
    let idx: Vec<usize> = artifact
        .features
        .iter()
        .map(|f| header.iter().position(|h| h == f))
        .collect::<Option<_>>()?;
    let mut out = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        if out.len() >= n || i > 1_000_000 {
            break;
        }
        let Ok(rec) = rec else { break };
        if !all && !is_validation(split.seed, i as u64, fraction) {
            continue;
        }
        let mut features = Map::new();
        let ok = artifact.features.iter().zip(&idx).all(|(f, &c)| {
            let cell = rec.get(c).unwrap_or("").trim();
            let v = if artifact.categorical.contains_key(f) {
                Json::from(cell)
            } else {
                match cell.parse::<f64>() {
                    Ok(x) if x.is_finite() => Json::from(x),
                    _ => return false,
                }
            };
            features.insert(f.clone(), v);
            true
        });
        if !ok {
            continue;
        }
        if let Some(expected) = predict(artifact, &features) {
            out.push(Row { features, expected });
        }
    }
    Some((crate::error::display_path(&path), out))
}

fn synthetic_row(artifact: &Artifact, k: usize) -> Option<Row> {
    let mut features = Map::new();
    for f in &artifact.features {
        let v = match (artifact.categorical.get(f), artifact.feature_stats.get(f)) {
            (Some(c), _) if !c.levels.is_empty() => {
                Json::from(c.levels[k % c.levels.len()].clone())
            }
            (None, Some(ColumnStats::Numeric(s))) if !s.deciles.is_empty() => {
                Json::from(s.deciles[(k * 4) % s.deciles.len()])
            }
            (None, Some(ColumnStats::Numeric(s))) => Json::from(s.mean),
            (None, _) => Json::from(k as f64),
            (Some(_), _) => return None,
        };
        features.insert(f.clone(), v);
    }
    let expected = predict(artifact, &features)?;
    Some(Row { features, expected })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_tolerance() {
        assert!(same(1e6, 1e6 * (1.0 + 5e-10)));
        assert!(!same(1e6, 1e6 * (1.0 + 2e-9)));
        assert!(same(0.0, 0.0));
        assert!(!same(1e-12, 0.0));
        let rows = [Row {
            features: Map::new(),
            expected: 2.0,
        }];
        assert!(compare(&rows, &[2.0]).is_ok());
        let e = compare(&rows, &[2.1]).unwrap_err();
        assert!(
            e.starts_with("row 1 predicted 2.1 but the artifact predicts 2"),
            "{e}"
        );
        assert!(compare(&rows, &[]).is_err());
    }

    #[test]
    fn validation_rows_first_then_rows_from_the_statistics() {
        let dir = tempfile::tempdir().unwrap();
        let (_, b) = crate::deploy::test_bundle(dir.path(), "v1.0.0", 0.0);
        // d.csv has 20 rows: a = 0..19.
        let with = |extra: &str| {
            let text =
                format!("[data]\npath = \"d.csv\"\ntarget = \"y\"\n{extra}[model]\nname = \"m\"\n");
            Project::from_text(&text, dir.path().join("mlops.toml")).unwrap()
        };
        let p = with("[split]\nvalidation_fraction = 0.5\nseed = 42\n");
        let r = rows(&p, &b.artifact, 3);
        assert_eq!(
            r.source,
            "validation rows of ".to_string()
                + &crate::error::display_path(&dir.path().join("d.csv"))
        );
        let want: Vec<f64> = (0..20u32)
            .filter(|&i| is_validation(42, u64::from(i), 0.5))
            .take(3)
            .map(f64::from)
            .collect();
        let got: Vec<f64> = r
            .rows
            .iter()
            .map(|x| x.features["a"].as_f64().unwrap())
            .collect();
        assert_eq!(got, want);
        for x in &r.rows {
            assert_eq!(Some(x.expected), predict(&b.artifact, &x.features));
        }
        // No validation rows (fraction 0): rows from the deciles of `a`.
        let r = rows(
            &with("[split]\nvalidation_fraction = 0.0\n"),
            &b.artifact,
            2,
        );
        assert_eq!(r.source, "rows from the training statistics");
        assert_eq!(r.rows.len(), 2);
        let ColumnStats::Numeric(s) = &b.artifact.feature_stats["a"] else {
            panic!("a is numeric")
        };
        assert_eq!(r.rows[1].features["a"].as_f64(), Some(s.deciles[4]));
        // More rows asked than the file has: filled up.
        let r = rows(&p, &b.artifact, 50);
        assert_eq!(r.rows.len(), 50);
        assert!(
            r.source.ends_with(" and rows from the training statistics"),
            "{}",
            r.source
        );
    }
}
