//! `--drift-data` given a prediction log: the JSON Lines file `mlops serve`
//! writes with `[serve.prediction_log] features = true` (or its dead letter)
//! read back as the CSV of its rows, so the scheduled batch check and the
//! server measure the same rows. A line holds one row (`features` is an
//! object) or a batch's (`features` is a list; `null` for a row the model
//! dropped). `--since` keeps the lines whose `timestamp` is that recent.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use serde_json::Value as Json;

use crate::error::{Error, Result, display_path};

/// Whether the file at `path` is a JSON Lines log (its first non-blank
/// byte opens a JSON object) rather than a CSV.
#[must_use]
pub fn is_prediction_log(path: &Path) -> bool {
    let Ok(f) = std::fs::File::open(path) else {
        return false;
    };
    let mut head = Vec::with_capacity(512);
    let _ = f.take(512).read_to_end(&mut head);
    head.iter().find(|c| !c.is_ascii_whitespace()) == Some(&b'{')
}

/// What the log held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogRows {
    /// Lines kept (after `--since`).
    pub lines: u64,
    /// Rows written.
    pub rows: u64,
}

/// Write the rows of the log at `path` (lines at or after `since`, Unix
/// seconds) as a CSV of the columns `features` to `out`.
///
/// # Errors
/// A line that is not a JSON object, has no `features` (the log was
/// written without `features = true`), or no readable `timestamp` while
/// `since` is given; a file that cannot be read or written.
pub fn to_csv(path: &Path, features: &[String], since: Option<f64>, out: &Path) -> Result<LogRows> {
    let shown = display_path(path);
    let f = std::fs::File::open(path).map_err(|e| Error::io("read", path, &e))?;
    let mut w = csv::Writer::from_path(out)
        .map_err(|e| Error::data(format!("cannot write {}: {e}", display_path(out))))?;
    w.write_record(features)
        .map_err(|e| Error::data(format!("cannot write {}: {e}", display_path(out))))?;
    let mut stats = LogRows { lines: 0, rows: 0 };
    for (i, line) in BufReader::new(f).lines().enumerate() {
        let at = format!("{shown}:{}", i + 1);
        let line = line.map_err(|e| Error::io("read", path, &e))?;
        if line.trim().is_empty() {
            continue;
        }
        let doc: Json = serde_json::from_str(&line).map_err(|e| {
            Error::data(format!(
                "{at}: not a prediction log line ({e}); give --drift-data a CSV or the JSON Lines log of mlops serve"
            ))
        })?;
        if let Some(cut) = since
            && timestamp_of(&doc, &at)? < cut
        {
            continue;
        }
        stats.lines += 1;
        let rows: Vec<&Json> = match doc.get("features") {
            Some(Json::Array(rows)) => rows.iter().collect(),
            Some(row @ (Json::Object(_) | Json::Null)) => vec![row],
            _ => {
                return Err(Error::data(format!(
                    "{at}: the line has no \"features\"; log the inputs with [serve.prediction_log] features = true (see docs/monitoring.md)"
                )));
            }
        };
        for row in rows {
            let cells = cells_of(row, features, &at)?;
            w.write_record(&cells)
                .map_err(|e| Error::data(format!("cannot write {}: {e}", display_path(out))))?;
            stats.rows += 1;
        }
    }
    w.flush().map_err(|e| Error::io("write", out, &e))?;
    Ok(stats)
}

/// The `timestamp` of a line, Unix seconds.
fn timestamp_of(doc: &Json, at: &str) -> Result<f64> {
    doc.get("timestamp")
        .and_then(Json::as_str)
        .and_then(crate::timestamp::parse_rfc3339)
        .ok_or_else(|| {
            Error::data(format!(
                "{at}: the line has no RFC 3339 \"timestamp\", which --since needs"
            ))
        })
}

/// The CSV cells of one row: numbers in their shortest exact form, levels
/// as they are, missing values (and a dropped row) empty.
fn cells_of(row: &Json, features: &[String], at: &str) -> Result<Vec<String>> {
    let Some(obj) = row.as_object() else {
        return Ok(vec![String::new(); features.len()]);
    };
    features
        .iter()
        .map(|f| match obj.get(f) {
            None | Some(Json::Null) => Ok(String::new()),
            Some(Json::String(s)) => Ok(s.clone()),
            Some(Json::Number(n)) => n.as_f64().map(|x| x.to_string()).ok_or_else(|| {
                Error::data(format!("{at}: feature \"{f}\" is a number out of range"))
            }),
            Some(other) => Err(Error::data(format!(
                "{at}: feature \"{f}\" is {other}, not a number or a level"
            ))),
        })
        .collect()
}

/// `24h`, `30m`, `7d`, `90s` as seconds.
///
/// # Errors
/// Anything else.
pub fn parse_since(s: &str) -> Result<f64> {
    let t = s.trim();
    let split = t
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(t.len());
    let (n, unit) = t.split_at(split);
    let n: f64 = n.parse().unwrap_or(f64::NAN);
    let unit = match unit {
        "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        "d" => 86_400.0,
        _ => f64::NAN,
    };
    let secs = n * unit;
    if secs.is_finite() && secs > 0.0 {
        Ok(secs)
    } else {
        Err(Error::usage(format!(
            "--since \"{s}\" is not a duration; write a number and s, m, h or d, like 24h"
        )))
    }
}

/// A temporary folder holding the CSV of a log.
#[derive(Debug)]
pub struct Converted {
    /// Keeps the folder until dropped.
    _dir: tempfile::TempDir,
    /// The CSV.
    pub csv: PathBuf,
    /// What the log held.
    pub rows: LogRows,
}

/// The log at `path` as a CSV in a temporary folder.
///
/// # Errors
/// As [`to_csv`]; also no row at all (after `--since`).
pub fn convert(path: &Path, features: &[String], since: Option<f64>) -> Result<Converted> {
    let dir =
        tempfile::tempdir().map_err(|e| Error::io("create a temporary folder for", path, &e))?;
    let csv = dir.path().join("drift.csv");
    let rows = to_csv(path, features, since, &csv)?;
    if rows.rows == 0 {
        return Err(Error::data(format!(
            "{} holds no prediction{}; check the path{}",
            display_path(path),
            if since.is_some() { " that recent" } else { "" },
            if since.is_some() {
                " or widen --since"
            } else {
                ""
            }
        )));
    }
    Ok(Converted {
        _dir: dir,
        csv,
        rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_log_becomes_the_csv_of_its_rows() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("p.jsonl");
        std::fs::write(
            &log,
            concat!(
                "{\"request_id\":\"a\",\"timestamp\":\"2026-01-01T00:00:00.000Z\",\"prediction\":1,\"features\":{\"x\":2000.0,\"c\":\"east, side\"}}\n",
                "{\"request_id\":\"b\",\"timestamp\":\"2026-01-02T00:00:00.000Z\",\"prediction\":[1,null],\"features\":[{\"x\":0.1,\"c\":null},null]}\n",
            ),
        )
        .unwrap();
        assert!(is_prediction_log(&log));
        let feats = vec!["x".to_string(), "c".to_string()];
        let c = convert(&log, &feats, None).unwrap();
        assert_eq!(
            std::fs::read_to_string(&c.csv).unwrap(),
            "x,c\n2000,\"east, side\"\n0.1,\n,\n"
        );
        assert_eq!(c.rows, LogRows { lines: 2, rows: 3 });
        let since = crate::timestamp::parse_rfc3339("2026-01-01T12:00:00Z");
        let c = convert(&log, &feats, since).unwrap();
        assert_eq!(c.rows, LogRows { lines: 1, rows: 2 });
        let late = crate::timestamp::parse_rfc3339("2027-01-01T00:00:00Z");
        let e = convert(&log, &feats, late).unwrap_err().to_string();
        assert!(e.contains("holds no prediction that recent"), "{e}");
    }

    #[test]
    fn a_log_without_features_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("p.jsonl");
        std::fs::write(&log, "{\"request_id\":\"a\",\"prediction\":1}\n").unwrap();
        let e = convert(&log, &["x".to_string()], None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("p.jsonl:1: the line has no \"features\"; log the inputs with [serve.prediction_log] features = true"), "{e}");
        std::fs::write(&log, "{\"request_id\":\"a\",\"features\":{\"x\":1}}\n").unwrap();
        let e = convert(&log, &["x".to_string()], Some(0.0))
            .unwrap_err()
            .to_string();
        assert!(e.contains("no RFC 3339 \"timestamp\""), "{e}");
    }

    #[test]
    fn since_takes_s_m_h_d() {
        assert_eq!(parse_since("24h").unwrap(), 86_400.0);
        assert_eq!(parse_since("30m").unwrap(), 1800.0);
        assert_eq!(parse_since("7d").unwrap(), 604_800.0);
        assert!(parse_since("24").is_err());
        assert!(parse_since("0h").is_err());
        assert!(parse_since("h").is_err());
    }
}
