//! The MLflow scoring protocol (`mlflow models serve`): `POST /invocations`
//! with a JSON body holding one of `dataframe_split`, `dataframe_records`,
//! `instances` or `inputs`, or a `text/csv` body with a header row; the
//! answer is `{"predictions": [...]}` (a classifier's labels).

use serde_json::{Map, Value as Json};

use super::model::{BadRequest, Cell, Model, Row, Scored, clip};

/// Why `/invocations` refuses a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// 400 `BAD_REQUEST`.
    Bad(String),
    /// 415: the content type is neither JSON nor CSV.
    Unsupported(String),
}

impl From<BadRequest> for Refusal {
    fn from(b: BadRequest) -> Self {
        Refusal::Bad(b.0)
    }
}

const KEYS: [&str; 4] = [
    "dataframe_split",
    "dataframe_records",
    "instances",
    "inputs",
];

/// Predict an `/invocations` request; `content_type` is the header's value.
///
/// # Errors
/// An unsupported content type (415); a malformed body, a bad row or too
/// many rows (400).
pub fn invocations(
    model: &Model,
    content_type: Option<&str>,
    body: &[u8],
    max_rows: usize,
) -> Result<Vec<Option<f64>>, Refusal> {
    Ok(model.predict(&rows_of(model, content_type, body, max_rows)?)?)
}

/// Predict an `/invocations` request: the answer `{"predictions": [...]}`,
/// which holds a classifier's labels (as scikit-learn's pyfunc `predict`
/// does), the numbers the prediction log records, and the encoded rows.
///
/// # Errors
/// As [`invocations`].
pub fn answer(
    model: &Model,
    content_type: Option<&str>,
    body: &[u8],
    max_rows: usize,
) -> Result<Scored<Json>, Refusal> {
    let rows = rows_of(model, content_type, body, max_rows)?;
    let preds = model.predict(&rows)?;
    let doc = if model.classifier().is_some() {
        let labels: Vec<Option<String>> = rows
            .iter()
            .map(|r| model.classify(r).map(|c| c.label))
            .collect();
        serde_json::json!({ "predictions": labels })
    } else {
        serde_json::json!({ "predictions": preds })
    };
    Ok((doc, preds, rows))
}

/// The rows of a request.
fn rows_of(
    model: &Model,
    content_type: Option<&str>,
    body: &[u8],
    max_rows: usize,
) -> Result<Vec<Row>, Refusal> {
    let mime = content_type
        .and_then(|c| c.split(';').next())
        .map(|c| c.trim().to_ascii_lowercase());
    let rows = match mime.as_deref() {
        Some("application/json") => json_rows(model, body, max_rows)?,
        Some("text/csv") => csv_rows(model, body, max_rows)?,
        // A JSON body under another type (curl -d sends a form type).
        _ if super::model::looks_like_json(body) => json_rows(model, body, max_rows)?,
        other => {
            return Err(Refusal::Unsupported(format!(
                "content type {} is not supported; send application/json or text/csv",
                other.map_or_else(|| "(none)".to_string(), |c| format!("\"{}\"", clip(c)))
            )));
        }
    };
    Ok(rows)
}

fn limit(n: usize, max_rows: usize) -> Result<(), BadRequest> {
    if n > max_rows {
        return Err(BadRequest(format!(
            "{n} rows is more than the limit of {max_rows} rows per request ([serve].max_batch_rows); split the batch"
        )));
    }
    Ok(())
}

fn json_rows(model: &Model, body: &[u8], max_rows: usize) -> Result<Vec<Row>, BadRequest> {
    let doc: Map<String, Json> =
        serde_json::from_slice(body).map_err(|e| super::rest::malformed(&e))?;
    if let Some(k) = doc.keys().find(|k| !KEYS.contains(&k.as_str())) {
        return Err(BadRequest(format!(
            "unknown key \"{}\"; the body must hold one of {}",
            clip(k),
            KEYS.join(", ")
        )));
    }
    let mut given = doc.into_iter();
    let (key, value) = match (given.next(), given.next()) {
        (Some(kv), None) => kv,
        _ => {
            return Err(BadRequest(format!(
                "the body must hold exactly one of {}",
                KEYS.join(", ")
            )));
        }
    };
    match key.as_str() {
        "dataframe_split" => split_rows(model, value, max_rows),
        "dataframe_records" => {
            let Json::Array(rows) = value else {
                return Err(BadRequest::new(
                    "dataframe_records must be a list of {\"column\": value} objects",
                ));
            };
            limit(rows.len(), max_rows)?;
            rows.iter()
                .enumerate()
                .map(|(i, r)| match r {
                    Json::Object(o) => model.encode_object(o, &format!("{key}[{i}]: ")),
                    _ => Err(BadRequest(format!(
                        "{key}[{i}]: a record must be an object"
                    ))),
                })
                .collect()
        }
        _ => tensor_rows(model, &key, value, max_rows),
    }
}

fn split_rows(model: &Model, value: Json, max_rows: usize) -> Result<Vec<Row>, BadRequest> {
    let Json::Object(mut o) = value else {
        return Err(BadRequest::new(
            "dataframe_split must be an object {\"columns\": [...], \"data\": [[...]]}",
        ));
    };
    o.remove("index");
    let columns = o.remove("columns");
    let Some(Json::Array(data)) = o.remove("data") else {
        return Err(BadRequest::new(
            "dataframe_split needs \"data\": a list of rows",
        ));
    };
    if let Some(k) = o.keys().next() {
        return Err(BadRequest(format!(
            "dataframe_split: unknown key \"{}\"; it holds columns, data and index",
            clip(k)
        )));
    }
    limit(data.len(), max_rows)?;
    // Each row has a value per column, extra (ignored) columns included.
    let (pos, width): (Vec<usize>, usize) = match columns {
        None => (
            (0..model.features().len()).collect(),
            model.features().len(),
        ),
        Some(Json::Array(cols)) => {
            let names: Option<Vec<&str>> = cols.iter().map(Json::as_str).collect();
            let names =
                names.ok_or_else(|| BadRequest::new("dataframe_split: columns must be strings"))?;
            (model.locate_columns(&names)?, names.len())
        }
        Some(_) => return Err(BadRequest::new("dataframe_split: columns must be a list")),
    };
    let mut tally = model.monitor.tally();
    data.iter()
        .enumerate()
        .map(|(i, r)| {
            let at = format!("dataframe_split row {i}: ");
            match r {
                Json::Array(cells) if cells.len() == width => {
                    model.encode_with_in(|k| Cell::of_json(&cells[pos[k]]), &at, &mut tally)
                }
                Json::Array(cells) => Err(BadRequest(format!(
                    "{at}{} values but {width} columns",
                    cells.len()
                ))),
                _ => Err(BadRequest(format!("{at}a row must be a list"))),
            }
        })
        .collect()
}

/// `instances` / `inputs`: records, positional rows, columns, or (for a
/// one-feature model) scalars.
fn tensor_rows(
    model: &Model,
    key: &str,
    value: Json,
    max_rows: usize,
) -> Result<Vec<Row>, BadRequest> {
    match value {
        Json::Array(rows) => {
            limit(rows.len(), max_rows)?;
            let mut tally = model.monitor.tally();
            rows.iter()
                .enumerate()
                .map(|(i, r)| {
                    let at = format!("{key}[{i}]: ");
                    match r {
                        Json::Object(o) => model.encode_object_in(o, &at, &mut tally),
                        Json::Array(a) => model.encode_list_in(a, &at, &mut tally),
                        scalar if model.features().len() == 1 => {
                            model.encode_list_in(std::slice::from_ref(scalar), &at, &mut tally)
                        }
                        _ => Err(BadRequest(format!(
                            "{at}a row must be an object or a list of values in feature order"
                        ))),
                    }
                })
                .collect()
        }
        Json::Object(cols) => {
            let names: Vec<&str> = cols.keys().map(String::as_str).collect();
            let pos = model.locate_columns(&names)?;
            let columns: Vec<&Vec<Json>> = cols
                .values()
                .map(|v| match v {
                    Json::Array(a) => Ok(a),
                    _ => Err(BadRequest(format!(
                        "{key}: each column must be a list of values"
                    ))),
                })
                .collect::<Result<_, _>>()?;
            let n = columns.first().map_or(0, |c| c.len());
            if columns.iter().any(|c| c.len() != n) {
                return Err(BadRequest(format!(
                    "{key}: the columns have different lengths"
                )));
            }
            limit(n, max_rows)?;
            let mut tally = model.monitor.tally();
            (0..n)
                .map(|i| {
                    model.encode_with_in(
                        |k| Cell::of_json(&columns[pos[k]][i]),
                        &format!("{key} row {i}: "),
                        &mut tally,
                    )
                })
                .collect()
        }
        _ => Err(BadRequest(format!(
            "{key} must be a list of rows or an object of columns"
        ))),
    }
}

fn csv_rows(model: &Model, body: &[u8], max_rows: usize) -> Result<Vec<Row>, BadRequest> {
    let mut rdr = csv::ReaderBuilder::new().flexible(false).from_reader(body);
    let bad = |e: &csv::Error| {
        let line = e.position().map_or(0, csv::Position::line);
        BadRequest(format!("the CSV body is malformed at line {line}: {e}"))
    };
    let header = rdr.headers().map_err(|e| bad(&e))?.clone();
    let names: Vec<&str> = header.iter().collect();
    let pos = model.locate_columns(&names)?;
    let mut rows = Vec::new();
    let mut tally = model.monitor.tally();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| bad(&e))?;
        limit(rows.len() + 1, max_rows)?;
        let line = rec.position().map_or(0, csv::Position::line);
        let at = format!("CSV line {line}: ");
        let row = model.encode_with_in(
            |k| {
                let s = rec.get(pos[k]).unwrap_or("");
                if s.is_empty() {
                    Cell::Null
                } else if model
                    .artifact
                    .categorical
                    .contains_key(&model.features()[k])
                {
                    Cell::Text(s)
                } else {
                    s.trim().parse::<f64>().map_or(Cell::Text(s), Cell::Number)
                }
            },
            &at,
            &mut tally,
        )?;
        rows.push(row);
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serve::model::tests::toy;

    const JSON: Option<&str> = Some("application/json");

    #[track_caller]
    fn ok(ct: Option<&str>, body: &str) -> Vec<Option<f64>> {
        invocations(&toy("error"), ct, body.as_bytes(), 5).unwrap_or_else(|e| panic!("{e:?}"))
    }

    #[test]
    fn every_payload_shape() {
        let want = vec![Some(19.0), Some(1.0)];
        for body in [
            r#"{"dataframe_split": {"columns": ["c", "a", "b"], "data": [["z", 1, 2], ["w", 0, 0]]}}"#,
            r#"{"dataframe_split": {"index": [0, 1], "data": [[1, 2, "z"], [0, 0, "w"]]}}"#,
            r#"{"dataframe_records": [{"a": 1, "b": 2, "c": "z"}, {"a": 0, "b": 0, "c": "w"}]}"#,
            r#"{"instances": [{"a": 1, "b": 2, "c": "z"}, [0, 0, "w"]]}"#,
            r#"{"inputs": {"a": [1, 0], "b": [2, 0], "c": ["z", "w"]}}"#,
        ] {
            assert_eq!(ok(JSON, body), want, "{body}");
        }
        assert_eq!(
            ok(Some("text/csv; charset=utf-8"), "b,a,c\n2,1,z\n0,0,w\n"),
            want
        );
    }

    #[test]
    fn refusals() {
        let m = toy("error");
        let e = invocations(&m, Some("text/plain"), b"x", 5).unwrap_err();
        assert!(matches!(e, Refusal::Unsupported(ref s) if s.contains("\"text/plain\"")));
        let cases = [
            (JSON, r#"{"instances": [], "inputs": []}"#, "exactly one of"),
            (JSON, r#"{"data": []}"#, "unknown key \"data\""),
            (
                JSON,
                r#"{"inputs": {"a": [1], "b": [2, 3], "c": ["w"]}}"#,
                "different lengths",
            ),
            (
                JSON,
                r#"{"dataframe_records": [{"a": 1, "b": 2}]}"#,
                "feature \"c\" is missing",
            ),
            (
                JSON,
                r#"{"instances": [[1,2,"w"],[1,2,"w"],[1,2,"w"],[1,2,"w"],[1,2,"w"],[1,2,"w"]]}"#,
                "more than the limit of 5",
            ),
            (
                Some("text/csv"),
                "a,b,c\n1,nan,w\n",
                "CSV line 2: feature \"b\" is not finite",
            ),
            (
                Some("text/csv"),
                "a,b,c\n1,x,w\n",
                "feature \"b\" must be a number",
            ),
            (Some("text/csv"), "a,b\n1,2\n", "feature \"c\" is missing"),
            (Some("text/csv"), "a,b,c\n1,2\n", "malformed at line 2"),
        ];
        for (ct, body, want) in cases {
            match invocations(&m, ct, body.as_bytes(), 5) {
                Err(Refusal::Bad(s)) => assert!(s.contains(want), "{body}: {s} lacks {want}"),
                other => panic!("{body}: {other:?}"),
            }
        }
    }
}
