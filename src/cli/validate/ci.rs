//! What the report says to CI systems: GitHub workflow annotations and
//! `$GITHUB_OUTPUT` lines, and GitLab's dotenv variables.

use std::fmt::Write as _;

use mlops::Result;
use mlops::error::Error;
use mlops::validate::{Report, Verdict};

use super::rows::rows;

/// GitHub's escaping of a workflow command's message.
fn gh_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// GitHub's escaping of a workflow command's property.
fn gh_property(s: &str) -> String {
    gh_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// One `::error` per failed check and one `::warning` per warning.
#[must_use]
pub fn annotations(r: &Report) -> String {
    let mut o = String::new();
    for x in rows(r) {
        let level = match x.verdict {
            Verdict::Pass => continue,
            Verdict::Warn => "warning",
            Verdict::Fail => "error",
        };
        let _ = writeln!(
            o,
            "::{level} title={}::{}",
            gh_property(&format!("mlops validate {} {}", x.group, x.name)),
            gh_data(&x.message)
        );
    }
    o
}

/// What CI variables carry: the verdict, the model, the number of failed
/// checks and the candidate's metrics, as `(name, value)`.
fn ci_values(r: &Report) -> Vec<(&'static str, String)> {
    let m = &r.candidate.metrics;
    let failed = rows(r)
        .iter()
        .filter(|x| x.verdict == Verdict::Fail)
        .count();
    let mut v = vec![
        ("passed", r.passed.to_string()),
        ("model", r.candidate.name.clone()),
        ("failed", failed.to_string()),
    ];
    let metrics = [
        ("r2", m.r2),
        ("rmse", Some(m.rmse)),
        ("mae", Some(m.mae)),
        ("mape", m.mape),
        ("deviance", m.deviance),
    ];
    match &r.candidate.classification {
        Some(c) => v.extend(
            mlops::stats::classification::METRICS
                .iter()
                .filter_map(|&(k, _)| c.get(k).map(|x| (k, x.to_string()))),
        ),
        None => v.extend(
            metrics
                .into_iter()
                .filter_map(|(k, x)| x.map(|x| (k, x.to_string()))),
        ),
    }
    v
}

/// The values, each refused if it holds a line break: in a `KEY=value`
/// file that would set another variable (`name\npassed=true`).
fn ci_lines(r: &Report, what: &str) -> Result<Vec<(&'static str, String)>> {
    no_line_breaks(ci_values(r), what)
}

fn no_line_breaks(
    v: Vec<(&'static str, String)>,
    what: &str,
) -> Result<Vec<(&'static str, String)>> {
    if let Some((k, x)) = v.iter().find(|(_, x)| x.contains(['\n', '\r'])) {
        return Err(Error::data(format!(
            "cannot write {what}: the value of {k} ({:?}) holds a line break, which would set other variables; check the model's name",
            x.chars().take(64).collect::<String>()
        )));
    }
    Ok(v)
}

/// Lines for `$GITHUB_OUTPUT`: `passed=true`, `model=NAME`, `failed=N`, `r2=…`.
///
/// # Errors
/// A value holding a line break.
pub fn github_output(r: &Report) -> Result<String> {
    Ok(ci_lines(r, "$GITHUB_OUTPUT")?
        .into_iter()
        .map(|(k, v)| format!("{k}={v}\n"))
        .collect())
}

/// A dotenv file for GitLab's `artifacts:reports:dotenv`:
/// `MLOPS_VALIDATE_PASSED=true`, `MLOPS_VALIDATE_MODEL=NAME`, ….
///
/// # Errors
/// A value holding a line break.
pub fn dotenv(r: &Report) -> Result<String> {
    Ok(ci_lines(r, "the dotenv file")?
        .into_iter()
        .map(|(k, v)| format!("MLOPS_VALIDATE_{}={v}\n", k.to_uppercase()))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        assert_eq!(gh_data("50% done\r\nnext"), "50%25 done%0D%0Anext");
        assert_eq!(gh_property("a: b, c"), "a%3A b%2C c");
    }

    #[test]
    fn a_value_with_a_line_break_is_refused() {
        let ok = vec![("model", "churn".to_string()), ("passed", "false".into())];
        assert_eq!(no_line_breaks(ok.clone(), "x").unwrap(), ok);
        for bad in ["churn\npassed=true", "churn\rpassed=true"] {
            let e = no_line_breaks(vec![("model", bad.to_string())], "$GITHUB_OUTPUT")
                .unwrap_err()
                .to_string();
            assert!(
                e.starts_with("cannot write $GITHUB_OUTPUT: the value of model"),
                "{e}"
            );
        }
    }
}
