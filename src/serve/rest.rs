//! The simple REST protocol: `POST /predict` with `{"features": {...}}` (one
//! row) or `{"instances": [...]}` (rows as objects, or as lists in the
//! model's feature order), and an optional `"key"` for sticky A/B routing.
//! Parsing does not need the model (the key chooses it); [`predict`] does.
//! A classifier answers `{"prediction": "yes", "probabilities": {"no":
//! 0.2, "yes": 0.8}, ...}` (`predictions` and `probabilities` as lists for
//! `instances`).

use serde::Deserialize;
use serde_json::{Map, Value as Json, json};

use super::model::{BadRequest, Classified, Model, Row};
use super::state::Variant;

/// A parsed `/predict` body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Body {
    /// One row.
    #[serde(default)]
    pub features: Option<Map<String, Json>>,
    /// Several rows.
    #[serde(default)]
    pub instances: Option<Vec<Json>>,
    /// The routing key (a string or a number).
    #[serde(default)]
    pub key: Option<Json>,
}

/// What `/predict` answers before the model's name is added.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// For `features`.
    One(Option<f64>),
    /// For `instances`.
    Many(Vec<Option<f64>>),
    /// A classifier's answer for `features`.
    Class(Option<Classified>),
    /// A classifier's answers for `instances`.
    Classes(Vec<Option<Classified>>),
}

impl Output {
    /// What the prediction log records: one number per row (a classifier's
    /// [`Classified::score`]), and whether the request was one row.
    #[must_use]
    pub fn logged(&self) -> (Vec<Option<f64>>, bool) {
        let score = |c: &Option<Classified>| c.as_ref().map(|c| c.score);
        match self {
            Output::One(p) => (vec![*p], true),
            Output::Many(p) => (p.clone(), false),
            Output::Class(c) => (vec![score(c)], true),
            Output::Classes(c) => (c.iter().map(score).collect(), false),
        }
    }
}

/// The error sentence for a body that is not JSON.
#[must_use]
pub fn malformed(e: &serde_json::Error) -> BadRequest {
    if e.is_data() {
        BadRequest(format!(
            "the request body does not have the expected shape: {e}"
        ))
    } else {
        BadRequest(format!("the request body is not valid JSON: {e}"))
    }
}

/// Parse a body; at most `max_rows` instances.
///
/// # Errors
/// Malformed JSON, an unknown top-level key, neither or both of
/// `features` and `instances`, too many rows, a key that is not a string
/// or a number.
pub fn parse(body: &[u8], max_rows: usize) -> Result<Body, BadRequest> {
    let b: Body = serde_json::from_slice(body).map_err(|e| malformed(&e))?;
    match (&b.features, &b.instances) {
        (Some(_), Some(_)) => {
            return Err(BadRequest::new(
                "send either \"features\" (one row) or \"instances\" (rows), not both",
            ));
        }
        (None, None) => {
            return Err(BadRequest::new(
                "the body needs \"features\": {\"column\": value, ...} or \"instances\": [...]",
            ));
        }
        (None, Some(rows)) if rows.len() > max_rows => {
            return Err(BadRequest(format!(
                "{} instances is more than the limit of {max_rows} rows per request ([serve].max_batch_rows); split the batch",
                rows.len()
            )));
        }
        _ => {}
    }
    if let Some(k) = &b.key
        && !(k.is_string() || k.is_number())
    {
        return Err(BadRequest::new("\"key\" must be a string or a number"));
    }
    Ok(b)
}

impl Body {
    /// The routing key of the body, if any.
    #[must_use]
    pub fn key(&self) -> Option<String> {
        match &self.key {
            Some(Json::String(s)) => Some(s.clone()),
            Some(Json::Number(n)) => Some(n.to_string()),
            _ => None,
        }
    }
}

/// Predict a parsed body with `model`.
///
/// # Errors
/// A missing, extra, non-numeric or non-finite feature, named, with the
/// instance's index for batches.
pub fn predict(model: &Model, body: &Body) -> Result<Output, BadRequest> {
    predict_rows(model, body).map(|(out, _)| out)
}

/// Like [`predict`], with the encoded rows (for the prediction log).
///
/// # Errors
/// As [`predict`].
pub fn predict_rows(model: &Model, body: &Body) -> Result<(Output, Vec<Row>), BadRequest> {
    let mut tally = model.monitor.tally();
    if let Some(f) = &body.features {
        let row = model.encode_object_in(f, "", &mut tally)?;
        let out = if model.classifier().is_some() {
            Output::Class(model.classify(&row))
        } else {
            Output::One(model.predict_one(&row)?)
        };
        return Ok((out, vec![row]));
    }
    let rows = body.instances.as_deref().unwrap_or_default();
    let mut enc = Vec::with_capacity(rows.len());
    for (i, r) in rows.iter().enumerate() {
        let at = format!("instances[{i}]: ");
        enc.push(match r {
            Json::Object(o) => model.encode_object_in(o, &at, &mut tally)?,
            Json::Array(a) => model.encode_list_in(a, &at, &mut tally)?,
            _ => {
                return Err(BadRequest(format!(
                    "{at}an instance must be an object {{\"column\": value}} or a list of values in feature order"
                )));
            }
        });
    }
    let out = if model.classifier().is_some() {
        Output::Classes(enc.iter().map(|r| model.classify(r)).collect())
    } else {
        Output::Many(model.predict(&enc)?)
    };
    Ok((out, enc))
}

/// The response document.
#[must_use]
pub fn response(out: &Output, model: &Model, variant: Variant) -> Json {
    match out {
        Output::One(p) => json!({
            "prediction": p, "model": model.name, "version": model.version, "variant": variant.as_str()
        }),
        Output::Many(p) => json!({
            "predictions": p, "model": model.name, "version": model.version, "variant": variant.as_str()
        }),
        Output::Class(c) => {
            let (label, prob) = class_json(model, c.as_ref());
            json!({
                "prediction": label, "probabilities": prob, "model": model.name,
                "version": model.version, "variant": variant.as_str()
            })
        }
        Output::Classes(cs) => {
            let (labels, probs): (Vec<Json>, Vec<Json>) =
                cs.iter().map(|c| class_json(model, c.as_ref())).unzip();
            json!({
                "predictions": labels, "probabilities": probs, "model": model.name,
                "version": model.version, "variant": variant.as_str()
            })
        }
    }
}

/// A classifier's label and `{class: probability}` (both null for a
/// dropped row).
fn class_json(model: &Model, c: Option<&Classified>) -> (Json, Json) {
    let (Some(c), Some(k)) = (c, model.classifier()) else {
        return (Json::Null, Json::Null);
    };
    let prob: Map<String, Json> = k
        .classes
        .iter()
        .zip(&c.probabilities)
        .map(|(name, p)| (name.clone(), json!(p)))
        .collect();
    (json!(c.label), Json::Object(prob))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serve::model::tests::toy;

    #[track_caller]
    fn run(body: &str) -> Result<Output, BadRequest> {
        let m = toy("error");
        let b = parse(body.as_bytes(), 3)?;
        predict(&m, &b)
    }

    #[test]
    fn one_row_and_many() {
        assert_eq!(
            run(r#"{"features": {"a": 1, "b": 2, "c": "z"}}"#).unwrap(),
            Output::One(Some(19.0))
        );
        assert_eq!(
            run(r#"{"instances": [{"a": 0, "b": 0, "c": "w"}, [1, 1, "z"]], "key": 7}"#).unwrap(),
            Output::Many(vec![Some(1.0), Some(16.0)])
        );
        let b = parse(br#"{"features": {}, "key": "u1"}"#, 3).unwrap();
        assert_eq!(b.key().as_deref(), Some("u1"));
        let m = toy("error");
        let doc = response(&Output::One(Some(2.5)), &m, Variant::Challenger);
        assert_eq!(
            doc,
            json!({"prediction": 2.5, "model": "toy", "version": "v1.0.0", "variant": "challenger"})
        );
    }

    #[test]
    fn bad_requests_name_the_problem() {
        let cases = [
            (r#"{"features": {"a": 1}"#, "not valid JSON"),
            (r#"{"rows": []}"#, "unknown field `rows`"),
            (r"{}", "needs \"features\""),
            (r#"{"features": {}, "instances": []}"#, "not both"),
            (r#"{"instances": [1, 2, 3, 4]}"#, "more than the limit of 3"),
            (r#"{"instances": [1]}"#, "instances[0]: an instance must be"),
            (
                r#"{"instances": [[1, 2]]}"#,
                "instances[0]: a row has 2 values",
            ),
            (
                r#"{"features": {"a": 1, "b": 2}}"#,
                "feature \"c\" is missing",
            ),
            (
                r#"{"features": {"a": "1", "b": 2, "c": "w"}}"#,
                "feature \"a\" must be a number",
            ),
            (
                r#"{"features": {"a": "-Infinity", "b": 2, "c": "w"}}"#,
                "feature \"a\" is not finite",
            ),
            (
                r#"{"features": {"a": 1, "b": 2, "c": "w"}, "key": [1]}"#,
                "\"key\" must be",
            ),
            (
                r#"{"instances": [{"a": 1, "b": 2, "c": "w"}, {"a": 1, "b": 2, "c": "v"}]}"#,
                "instances[1]: feature \"c\": level \"v\"",
            ),
        ];
        for (body, want) in cases {
            let e = run(body).unwrap_err();
            assert!(e.0.contains(want), "{body}: {e} lacks {want}");
        }
    }
}
