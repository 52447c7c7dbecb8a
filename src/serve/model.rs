//! A model as the server holds it: the artifact, its predictor, and the
//! lookup tables that turn request cells into encoded rows. Every protocol
//! parses its payload into cells and calls [`Model::encode_cell`]; the checks
//! (missing, extra, non-numeric, non-finite feature, unknown level) live here
//! once, so every protocol answers a bad row with the same sentence.

use std::collections::HashMap;
use std::fmt;

use serde_json::Value as Json;

use crate::bundle::Bundle;
use crate::error::Result;
use crate::model::classes::ClassPredictor;
use crate::model::{Artifact, Predictor, Value};
use crate::project::MissingPolicy;

use super::monitor::{Monitor, Tally};

/// A request the server refuses (HTTP 400): one sentence naming what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadRequest(pub String);

impl fmt::Display for BadRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl BadRequest {
    /// A bad request with this message.
    pub fn new(msg: impl Into<String>) -> Self {
        BadRequest(msg.into())
    }
}

/// One input cell, as a protocol read it.
#[derive(Debug, Clone, Copy)]
pub enum Cell<'a> {
    /// A number (possibly not finite, from CSV or a binary tensor).
    Number(f64),
    /// A string: a level of a categorical feature (or a misplaced number).
    Text(&'a str),
    /// Absent or null: the missing-value policy decides.
    Null,
    /// Something that is neither (a JSON boolean, array or object).
    Other(&'static str),
}

impl<'a> Cell<'a> {
    /// The cell of a JSON value.
    #[must_use]
    pub fn of_json(v: &'a Json) -> Cell<'a> {
        match v {
            Json::Number(n) => n
                .as_f64()
                .map_or(Cell::Other("a number out of range"), Cell::Number),
            Json::String(s) => Cell::Text(s),
            Json::Null => Cell::Null,
            Json::Bool(_) => Cell::Other("a boolean"),
            Json::Array(_) => Cell::Other("an array"),
            Json::Object(_) => Cell::Other("an object"),
        }
    }
}

/// An encoded row, or `None` when a missing cell drops it (`drop-row`).
pub type Row = Option<Vec<Value>>;

/// A protocol's answer `A`, the numbers the prediction log records, and
/// the encoded rows.
pub type Scored<A> = (A, Vec<Option<f64>>, Vec<Row>);

/// A loaded model.
#[derive(Debug)]
pub struct Model {
    /// A number no other model of this process has (the key of its
    /// metric series).
    pub id: u64,
    /// Registry name.
    pub name: String,
    /// Version (`vX.Y.Z`), or `unversioned` for a bare artifact.
    pub version: String,
    /// SHA-256 of what was loaded (the bundle, the artifact file, or a
    /// release's `manifest.json`).
    pub sha256: String,
    /// When it was loaded, Unix seconds.
    pub loaded_at: f64,
    /// The artifact.
    pub artifact: Artifact,
    predictor: Predictor,
    classifier: Option<ClassPredictor>,
    index: HashMap<String, usize>,
    levels: Vec<Option<HashMap<String, usize>>>,
    fills: Vec<Option<Value>>,
    /// Upper bounds of the prediction histogram (from the training target's deciles).
    pub buckets: Vec<f64>,
    /// Live drift of what it is sent and answers.
    pub monitor: Monitor,
    /// `[serve] strict_features`: refuse a request naming a field that is not
    /// a feature (by default such fields are ignored, as MLflow does).
    pub strict_features: bool,
}

impl Model {
    /// A model from an artifact; `version` and `sha256` say where it came from.
    ///
    /// # Errors
    /// A corrupt artifact (no coefficient for a design column).
    pub fn new(artifact: Artifact, version: &str, sha256: &str) -> Result<Model> {
        let predictor = artifact.predictor()?;
        let classifier = artifact.class_predictor()?;
        let index = artifact
            .features
            .iter()
            .enumerate()
            .map(|(i, f)| (f.clone(), i))
            .collect();
        let levels: Vec<Option<HashMap<String, usize>>> = artifact
            .features
            .iter()
            .map(|f| {
                artifact.categorical.get(f).map(|c| {
                    c.levels
                        .iter()
                        .enumerate()
                        .map(|(i, l)| (l.clone(), i))
                        .collect()
                })
            })
            .collect();
        let fills = artifact
            .features
            .iter()
            .enumerate()
            .map(|(k, f)| {
                let v = artifact.missing.fill.get(f)?;
                match &levels[k] {
                    Some(m) => v.as_str().and_then(|s| m.get(s)).map(|i| Value::Level(*i)),
                    None => v.as_f64().map(Value::Number),
                }
            })
            .collect();
        let mut buckets: Vec<f64> = artifact
            .target_stats
            .deciles
            .iter()
            .copied()
            .filter(|x| x.is_finite())
            .collect();
        buckets.push(artifact.target_stats.max);
        buckets.retain(|x| x.is_finite());
        buckets.sort_by(f64::total_cmp);
        buckets.dedup();
        let loaded_at = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        Ok(Model {
            id: NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            monitor: Monitor::new(&artifact),
            name: artifact.name.clone(),
            version: version.to_string(),
            sha256: sha256.to_string(),
            loaded_at,
            artifact,
            predictor,
            classifier,
            index,
            levels,
            fills,
            buckets,
            strict_features: false,
        })
    }

    /// A model from a verified bundle.
    ///
    /// # Errors
    /// As [`Model::new`].
    pub fn from_bundle(b: Bundle) -> Result<Model> {
        let mut m = Model::new(b.artifact, &b.version, &b.sha256)?;
        m.name = b.name;
        Ok(m)
    }

    /// The input features, in order.
    #[must_use]
    pub fn features(&self) -> &[String] {
        &self.artifact.features
    }

    /// Whether every feature is numeric (so a `[N, F]` tensor can carry a row).
    #[must_use]
    pub fn all_numeric(&self) -> bool {
        self.levels.iter().all(Option::is_none)
    }

    /// Index of a feature by name.
    #[must_use]
    pub fn feature_index(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }

    /// `loaded_at` as RFC 3339.
    #[must_use]
    pub fn loaded_at_rfc3339(&self) -> String {
        #[allow(clippy::cast_possible_truncation)]
        crate::timestamp::rfc3339(self.loaded_at.floor() as i64)
    }

    fn list(&self) -> String {
        self.artifact.features.join(", ")
    }

    /// Encode cell `cell` of feature `k`; `Ok(None)` when the cell is
    /// missing and the policy drops the row. `at` locates the row in
    /// messages (like `instances[3]: `, or empty).
    ///
    /// # Errors
    /// A non-numeric or non-finite number, a non-string or unknown level, a
    /// missing cell under `missing = "error"`.
    pub fn encode_cell(
        &self,
        k: usize,
        cell: Cell<'_>,
        at: &str,
    ) -> Result<Option<Value>, BadRequest> {
        self.encode_cell_in(k, cell, at, &mut self.monitor.tally())
    }

    /// [`Model::encode_cell`], counting the cell in the drift monitor
    /// through `tally` (the request's, added to the window once).
    ///
    /// # Errors
    /// As [`Model::encode_cell`].
    pub fn encode_cell_in(
        &self,
        k: usize,
        cell: Cell<'_>,
        at: &str,
        tally: &mut Tally<'_>,
    ) -> Result<Option<Value>, BadRequest> {
        let name = &self.artifact.features[k];
        watch(self.levels[k].as_ref(), k, &cell, tally);
        match (&self.levels[k], cell) {
            (_, Cell::Null) => match self.artifact.missing.policy {
                MissingPolicy::Error => Err(BadRequest(format!(
                    "{at}feature \"{name}\" is null, and the model was trained with data.missing = \"error\"; send a value"
                ))),
                MissingPolicy::DropRow => Ok(None),
                MissingPolicy::Mean => match self.fills[k] {
                    Some(v) => Ok(Some(v)),
                    None => Err(BadRequest(format!(
                        "{at}feature \"{name}\" is null and the model has no fill value for it; send a value"
                    ))),
                },
            },
            (None, Cell::Number(x)) if x.is_finite() => Ok(Some(Value::Number(x))),
            (None, Cell::Number(x)) => Err(BadRequest(format!(
                "{at}feature \"{name}\" is not finite ({x}); send a finite number"
            ))),
            (_, Cell::Text(s))
                if self
                    .artifact
                    .missing
                    .na_values
                    .iter()
                    .any(|n| n == s.trim()) =>
            {
                self.encode_cell_in(k, Cell::Null, at, tally)
            }
            (None, Cell::Text(s)) => {
                let t = s.trim().to_ascii_lowercase();
                let t = t.trim_start_matches(['+', '-']);
                if matches!(t, "nan" | "inf" | "infinity") {
                    Err(BadRequest(format!(
                        "{at}feature \"{name}\" is not finite (\"{s}\"); send a finite number"
                    )))
                } else {
                    Err(BadRequest(format!(
                        "{at}feature \"{name}\" must be a number, got the string \"{}\"",
                        clip(s)
                    )))
                }
            }
            (None, Cell::Other(what)) => Err(BadRequest(format!(
                "{at}feature \"{name}\" must be a number, got {what}"
            ))),
            (Some(m), Cell::Text(s)) => match m.get(s) {
                Some(i) => Ok(Some(Value::Level(*i))),
                None => {
                    let c = &self.artifact.categorical[name];
                    match c.unknown_value() {
                        Some(v) => Ok(Some(v)),
                        None => Err(BadRequest(format!(
                            "{at}feature \"{name}\": {}",
                            c.unseen_message(s)
                        ))),
                    }
                }
            },
            (Some(_), Cell::Number(x)) => Err(BadRequest(format!(
                "{at}feature \"{name}\" is categorical and must be one of its levels as a string, got the number {x}"
            ))),
            (Some(_), Cell::Other(what)) => Err(BadRequest(format!(
                "{at}feature \"{name}\" is categorical and must be a string, got {what}"
            ))),
        }
    }

    /// This model with `[serve] strict_features` set to `on`.
    #[must_use]
    pub fn strict(mut self, on: bool) -> Model {
        self.strict_features = on;
        self
    }

    /// Refuse `name`, a field that is not a feature, when the model is strict.
    ///
    /// # Errors
    /// Strict, and `name` is not a feature.
    pub fn check_extra(&self, name: &str, at: &str) -> Result<(), BadRequest> {
        if self.strict_features && !self.index.contains_key(name) {
            return Err(BadRequest(format!(
                "{at}unknown feature \"{}\" ([serve] strict_features = true refuses fields that are not features; remove it, or set strict_features = false to ignore it); the model's features are {}",
                clip(name),
                self.list()
            )));
        }
        Ok(())
    }

    /// Encode a row given as a JSON object `{feature: value}`: every feature
    /// present; other keys are ignored, or refused when strict.
    ///
    /// # Errors
    /// A missing feature, an unknown one when strict, or a bad cell.
    pub fn encode_object(
        &self,
        obj: &serde_json::Map<String, Json>,
        at: &str,
    ) -> Result<Row, BadRequest> {
        self.encode_object_in(obj, at, &mut self.monitor.tally())
    }

    /// [`Model::encode_object`], counting the cells in `tally`.
    ///
    /// # Errors
    /// As [`Model::encode_object`].
    pub fn encode_object_in(
        &self,
        obj: &serde_json::Map<String, Json>,
        at: &str,
        tally: &mut Tally<'_>,
    ) -> Result<Row, BadRequest> {
        for k in obj.keys() {
            self.check_extra(k, at)?;
        }
        let mut row = Vec::with_capacity(self.artifact.features.len());
        let mut dropped = false;
        for (k, f) in self.artifact.features.iter().enumerate() {
            let Some(v) = obj.get(f) else {
                return Err(BadRequest(format!(
                    "{at}feature \"{f}\" is missing; the model's features are {}",
                    self.list()
                )));
            };
            match self.encode_cell_in(k, Cell::of_json(v), at, tally)? {
                Some(x) => row.push(x),
                None => dropped = true,
            }
        }
        Ok((!dropped).then_some(row))
    }

    /// Encode a row given positionally, in the model's feature order.
    ///
    /// # Errors
    /// The wrong number of values, or a bad cell.
    pub fn encode_list(&self, cells: &[Json], at: &str) -> Result<Row, BadRequest> {
        self.encode_list_in(cells, at, &mut self.monitor.tally())
    }

    /// [`Model::encode_list`], counting the cells in `tally`.
    ///
    /// # Errors
    /// As [`Model::encode_list`].
    pub fn encode_list_in(
        &self,
        cells: &[Json],
        at: &str,
        tally: &mut Tally<'_>,
    ) -> Result<Row, BadRequest> {
        let n = self.artifact.features.len();
        if cells.len() != n {
            return Err(BadRequest(format!(
                "{at}a row has {} values but the model has {n} features ({})",
                cells.len(),
                self.list()
            )));
        }
        self.encode_with_in(|k| Cell::of_json(&cells[k]), at, tally)
    }

    /// Encode a row from a cell per feature index.
    ///
    /// # Errors
    /// A bad cell.
    pub fn encode_with<'c>(
        &self,
        cell: impl FnMut(usize) -> Cell<'c>,
        at: &str,
    ) -> Result<Row, BadRequest> {
        self.encode_with_in(cell, at, &mut self.monitor.tally())
    }

    /// [`Model::encode_with`], counting the cells in `tally`: a request of
    /// many rows passes one tally for all of them.
    ///
    /// # Errors
    /// A bad cell.
    pub fn encode_with_in<'c>(
        &self,
        mut cell: impl FnMut(usize) -> Cell<'c>,
        at: &str,
        tally: &mut Tally<'_>,
    ) -> Result<Row, BadRequest> {
        let n = self.artifact.features.len();
        let mut row = Vec::with_capacity(n);
        let mut dropped = false;
        for k in 0..n {
            match self.encode_cell_in(k, cell(k), at, tally)? {
                Some(x) => row.push(x),
                None => dropped = true,
            }
        }
        Ok((!dropped).then_some(row))
    }

    /// The position of each feature among `columns` (a table's header);
    /// other columns are ignored, or refused when strict.
    ///
    /// # Errors
    /// A missing feature, a repeated column, an unknown one when strict.
    pub fn locate_columns(&self, columns: &[&str]) -> Result<Vec<usize>, BadRequest> {
        let mut pos = vec![usize::MAX; self.artifact.features.len()];
        for (ci, c) in columns.iter().enumerate() {
            self.check_extra(c, "")?;
            let Some(k) = self.feature_index(c) else {
                continue;
            };
            if pos[k] != usize::MAX {
                return Err(BadRequest(format!("feature \"{c}\" is given twice")));
            }
            pos[k] = ci;
        }
        if let Some(k) = pos.iter().position(|p| *p == usize::MAX) {
            return Err(BadRequest(format!(
                "feature \"{}\" is missing; the model's features are {}",
                self.artifact.features[k],
                self.list()
            )));
        }
        Ok(pos)
    }

    /// Predict encoded rows; a dropped row predicts `None`.
    ///
    /// # Errors
    /// A prediction beyond `f64`'s range (a log link's `exp` of a large
    /// linear predictor), naming the row.
    pub fn predict(&self, rows: &[Row]) -> Result<Vec<Option<f64>>, BadRequest> {
        rows.iter()
            .enumerate()
            .map(|(i, r)| {
                self.predict_one(r)
                    .map_err(|e| BadRequest(format!("row {i}: {}", e.0)))
            })
            .collect()
    }

    /// Predict the `n` rows of numbers `values` (row-major, one number per
    /// feature in the model's order), counting them in `tally`, when the
    /// model is a regression on numeric features alone and every number is
    /// finite and every prediction too: the answers [`Model::predict`] gives
    /// on the same rows encoded, to the last bit, and the same drift counts,
    /// without a row built per row. `None` (nothing counted): take the
    /// general path, which names what is wrong.
    #[must_use]
    pub fn predict_matrix(
        &self,
        values: &[f64],
        tally: &mut Tally<'_>,
    ) -> Option<Vec<Option<f64>>> {
        let f = self.artifact.features.len();
        if f == 0
            || self.classifier.is_some()
            || self.levels.iter().any(Option::is_some)
            || !self.predictor.numeric()
            || !values.len().is_multiple_of(f)
            || !values.iter().all(|x| x.is_finite())
        {
            return None;
        }
        let preds: Vec<Option<f64>> = values
            .chunks_exact(f)
            .map(|r| Some(self.predictor.predict_numbers(r)))
            .collect();
        if !preds.iter().flatten().all(|p| p.is_finite()) {
            return None;
        }
        for k in 0..f {
            tally.numbers(k, values.iter().skip(k).step_by(f).copied());
        }
        Some(preds)
    }

    /// Predict one encoded row: a regression's prediction, or a
    /// classifier's [`Classified::score`].
    ///
    /// # Errors
    /// A prediction beyond `f64`'s range: JSON has no number for it, and
    /// `null` would read as a dropped row.
    pub fn predict_one(&self, row: &Row) -> Result<Option<f64>, BadRequest> {
        let p = match &self.classifier {
            None => row.as_ref().map(|r| self.predictor.predict(r)),
            Some(_) => self.classify(row).map(|c| c.score),
        };
        match p {
            Some(x) if !x.is_finite() => Err(BadRequest(
                "prediction overflows: it is beyond ±1.8e308, the largest number a double holds; check the inputs' values and their scale".to_string(),
            )),
            _ => Ok(p),
        }
    }

    /// The classifier, if the model is one.
    #[must_use]
    pub fn classifier(&self) -> Option<&ClassPredictor> {
        self.classifier.as_ref()
    }

    /// A classifier's answer for one encoded row (`None` for a dropped row
    /// or a regression).
    #[must_use]
    pub fn classify(&self, row: &Row) -> Option<Classified> {
        let c = self.classifier.as_ref()?;
        let prob = c.probabilities(row.as_ref()?);
        let label = c.label(&prob);
        let score = prob[c.positive.unwrap_or(label)];
        Some(Classified {
            label: c.classes[label].clone(),
            probabilities: prob,
            score,
        })
    }
}

/// A classifier's answer for one row.
#[derive(Debug, Clone, PartialEq)]
pub struct Classified {
    /// The predicted class.
    pub label: String,
    /// The probability of each class, in the sorted classes' order.
    pub probabilities: Vec<f64>,
    /// The number the prediction log and the metrics record: the positive
    /// class's probability (binary), else the predicted class's.
    pub score: f64,
}

/// A client string cut to 64 characters for a message.
#[must_use]
pub fn clip(s: &str) -> String {
    if s.chars().count() <= 64 {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(64).collect();
        t.push('…');
        t
    }
}

/// At most ten `items` (each clipped), joined, and how many there are in
/// all when more: a message never grows with the list.
#[must_use]
pub fn clip_list<S: AsRef<str>>(items: &[S]) -> String {
    let shown: Vec<String> = items.iter().take(10).map(|s| clip(s.as_ref())).collect();
    let mut out = shown.join(", ");
    if items.len() > 10 {
        out.push_str(&format!(", ... ({} in all)", items.len()));
    }
    out
}

/// Whether a body is a JSON object or array (its first byte that is not
/// white space is `{` or `[`).
#[must_use]
pub fn looks_like_json(body: &[u8]) -> bool {
    matches!(
        body.iter().find(|b| !b.is_ascii_whitespace()),
        Some(b'{' | b'[')
    )
}

/// A tensor shape as a message shows it: at most eight dimensions.
#[must_use]
pub fn clip_shape(shape: &[usize]) -> String {
    let dims: Vec<String> = shape.iter().take(8).map(ToString::to_string).collect();
    if shape.len() > 8 {
        format!("[{}, ...] ({} dimensions)", dims.join(", "), shape.len())
    } else {
        format!("[{}]", dims.join(", "))
    }
}

/// Count cell `cell` of feature `k` (whose training levels are `levels`)
/// in `tally`.
fn watch(
    levels: Option<&HashMap<String, usize>>,
    k: usize,
    cell: &Cell<'_>,
    tally: &mut Tally<'_>,
) {
    match (levels, cell) {
        (_, Cell::Null) => tally.missing(k),
        (None, Cell::Number(x)) if x.is_finite() => tally.number(k, *x),
        (Some(m), Cell::Text(s)) => match m.get(*s) {
            Some(i) => tally.level(k, *i),
            None => tally.unseen(k),
        },
        _ => {}
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn lists_and_shapes_are_clipped() {
        let names: Vec<String> = (0..25).map(|i| format!("m{i}")).collect();
        assert_eq!(
            clip_list(&names),
            "m0, m1, m2, m3, m4, m5, m6, m7, m8, m9, ... (25 in all)"
        );
        assert_eq!(clip_list(&["a", "b"]), "a, b");
        assert_eq!(clip_shape(&[2, 3]), "[2, 3]");
        assert_eq!(
            clip_shape(&[1; 1000]),
            "[1, 1, 1, 1, 1, 1, 1, 1, ...] (1000 dimensions)"
        );
    }
    use serde_json::json;

    /// A small model: y = 1 + 2a + 3b (+10 when c = "z"); policy `policy`.
    pub(crate) fn toy(policy: &str) -> Model {
        let art = json!({
            "format": "mlops.model/v2", "name": "toy", "kind": "linear",
            "params": {"fit_intercept": true}, "target": "y",
            "features": ["a", "b", "c"],
            "categorical": {"c": {"levels": ["w", "z"], "reference": "w"}},
            "intercept": 1.0,
            "coefficients": {"a": 2.0, "b": 3.0, "c=z": 10.0},
            "missing": {"policy": policy, "fill": {"a": 0.5, "b": 1.0, "c": "w"}},
            "metrics": {"train": {"rows": 3, "rmse": 0.0, "mae": 0.0, "r2": 1.0}, "validation": null},
            "feature_stats": {},
            "target_stats": {"count": 3, "missing": 0, "mean": 1.0, "sd": 1.0, "min": 0.0, "max": 30.0, "deciles": [1.0, 2.0, 10.0]},
            "rows": {"total": 3, "train": 3, "validation": 0, "dropped": 0},
            "split": {"validation_fraction": 0.0, "seed": 1},
            "data_sha256": "00", "tool": {"name": "mlops", "version": "0"},
            "created_at": "2026-01-01T00:00:00Z"
        });
        let art = Artifact::from_slice(art.to_string().as_bytes(), "toy").unwrap();
        Model::new(art, "v1.0.0", "abc").unwrap()
    }

    /// The toy model as a bundle of `version`.
    pub(crate) fn toy_bundle(version: &str) -> Vec<u8> {
        let a = toy("error").artifact.to_json().into_bytes();
        let manifest = json!({
            "name": "toy", "version": version, "commit": "0".repeat(40),
            "files": {"models/toy.json": crate::bundle::sha256_hex(&a)},
        });
        let entries = [
            crate::bundle::Entry {
                path: "models/toy.json".into(),
                bytes: a,
            },
            crate::bundle::Entry {
                path: "manifest.json".into(),
                bytes: manifest.to_string().into_bytes(),
            },
        ];
        crate::bundle::build(&entries, 0).unwrap()
    }

    /// A numeric-only model: y = 1 + 2a + 3b.
    pub(crate) fn numeric() -> Model {
        let mut m = toy("error");
        let mut art = m.artifact.clone();
        art.features = vec!["a".into(), "b".into()];
        art.categorical.clear();
        art.coefficients.shift_remove("c=z");
        m = Model::new(art, "v1.0.0", "abc").unwrap();
        m
    }

    #[track_caller]
    fn bad(m: &Model, v: Json, want: &str) {
        let e = m.encode_object(v.as_object().unwrap(), "").unwrap_err();
        assert!(e.0.contains(want), "{e} lacks {want}");
    }

    /// L10: an artifact's name follows the model-name grammar, so it
    /// cannot carry a line break into CI variables, logs or metrics.
    #[test]
    fn an_artifact_name_outside_the_grammar_is_refused() {
        let mut doc: Json = serde_json::from_str(&toy("error").artifact.to_json()).unwrap();
        for bad in ["a\npassed=true", "", "-x", "a b", "\u{1b}[31m"] {
            doc["name"] = json!(bad);
            let e = Artifact::from_slice(doc.to_string().as_bytes(), "m.json").unwrap_err();
            assert!(e.to_string().starts_with("m.json: the model name"), "{e}");
        }
        doc["name"] = json!("team/churn_v2");
        assert!(Artifact::from_slice(doc.to_string().as_bytes(), "m.json").is_ok());
    }

    /// Security review L8.
    #[test]
    fn a_prediction_beyond_f64_is_refused_not_null() {
        let mut art = numeric().artifact.clone();
        art.kind = crate::project::ModelKind::Glm;
        art.params.link = Some(crate::model::GlmLink::Log);
        let m = Model::new(art, "v1.0.0", "abc").unwrap();
        let ok = m
            .encode_object(json!({"a": 1.0, "b": 0.0}).as_object().unwrap(), "")
            .unwrap();
        assert!((m.predict_one(&ok).unwrap().unwrap() - 3f64.exp()).abs() < 1e-9);
        // exp(1 + 2·400) is past f64::MAX.
        let big = m
            .encode_object(json!({"a": 400.0, "b": 0.0}).as_object().unwrap(), "")
            .unwrap();
        let e = m.predict_one(&big).unwrap_err();
        assert!(e.0.starts_with("prediction overflows"), "{e}");
        let e = m.predict(&[ok, big]).unwrap_err();
        assert!(e.0.starts_with("row 1: prediction overflows"), "{e}");
        // The identity link overflows too, on a sum past f64::MAX.
        let lin = numeric();
        let r = lin
            .encode_object(json!({"a": 1e308, "b": 0.0}).as_object().unwrap(), "")
            .unwrap();
        assert!(lin.predict_one(&r).is_err());
    }

    #[test]
    fn encodes_and_predicts_an_object() {
        let m = toy("error");
        let r = m
            .encode_object(json!({"a": 1, "b": 2, "c": "z"}).as_object().unwrap(), "")
            .unwrap();
        assert_eq!(m.predict_one(&r).unwrap(), Some(1.0 + 2.0 + 6.0 + 10.0));
        let r = m
            .encode_list(&[json!(1), json!(2), json!("w")], "")
            .unwrap();
        assert_eq!(m.predict(&[r]).unwrap(), vec![Some(9.0)]);
    }

    #[test]
    fn every_bad_cell_is_named() {
        let m = toy("error");
        bad(&m, json!({"a": 1, "b": 2}), "feature \"c\" is missing");
        let extra = json!({"a": 1, "b": 2, "c": "w", "d": 1});
        let lenient = m.encode_object(extra.as_object().unwrap(), "").unwrap();
        assert_eq!(m.predict_one(&lenient).unwrap(), Some(9.0));
        let strict = toy("error").strict(true);
        bad(
            &strict,
            extra,
            "unknown feature \"d\" ([serve] strict_features = true",
        );
        bad(
            &m,
            json!({"a": "x", "b": 2, "c": "w"}),
            "feature \"a\" must be a number, got the string \"x\"",
        );
        bad(
            &m,
            json!({"a": "NaN", "b": 2, "c": "w"}),
            "feature \"a\" is not finite",
        );
        bad(
            &m,
            json!({"a": true, "b": 2, "c": "w"}),
            "feature \"a\" must be a number, got a boolean",
        );
        bad(
            &m,
            json!({"a": 1, "b": 2, "c": "q"}),
            "level \"q\" was not seen",
        );
        bad(
            &m,
            json!({"a": 1, "b": 2, "c": 3}),
            "feature \"c\" is categorical",
        );
        bad(
            &m,
            json!({"a": null, "b": 2, "c": "w"}),
            "feature \"a\" is null",
        );
        let e = m
            .encode_cell(0, Cell::Number(f64::INFINITY), "row 2: ")
            .unwrap_err();
        assert_eq!(
            e.0,
            "row 2: feature \"a\" is not finite (inf); send a finite number"
        );
    }

    #[test]
    fn missing_policies() {
        let m = toy("mean");
        let r = m
            .encode_object(
                json!({"a": null, "b": 2, "c": null}).as_object().unwrap(),
                "",
            )
            .unwrap();
        assert_eq!(m.predict_one(&r).unwrap(), Some(1.0 + 1.0 + 6.0));
        let m = toy("drop-row");
        let r = m
            .encode_object(
                json!({"a": null, "b": 2, "c": "w"}).as_object().unwrap(),
                "",
            )
            .unwrap();
        assert_eq!(m.predict_one(&r).unwrap(), None);
    }

    #[test]
    fn columns_are_located() {
        let m = toy("error");
        assert_eq!(m.locate_columns(&["c", "a", "b"]).unwrap(), vec![1, 2, 0]);
        assert!(
            m.locate_columns(&["a", "b"])
                .unwrap_err()
                .0
                .contains("\"c\" is missing")
        );
        assert!(
            m.locate_columns(&["a", "a", "b", "c"])
                .unwrap_err()
                .0
                .contains("twice")
        );
        assert_eq!(
            m.locate_columns(&["x", "a", "b", "c"]).unwrap(),
            vec![1, 2, 3]
        );
        assert!(
            toy("error")
                .strict(true)
                .locate_columns(&["a", "b", "c", "x"])
                .unwrap_err()
                .0
                .contains("unknown feature \"x\"")
        );
        assert_eq!(m.buckets, vec![1.0, 2.0, 10.0, 30.0]);
    }
}
