//! `init`: scaffold a project — a commented `mlops.toml` with every table,
//! a `.gitignore` that keeps `dist/` and `deploy/` out of git, and with
//! `--example` the house-price dataset (training and recent rows). Nothing that exists is ever overwritten: every target is checked
//! before the first write.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{Error, Result, display_path};
use crate::fsutil::write_atomic;

/// The bundled example dataset (`examples/house-prices/train.csv`).
pub const EXAMPLE_CSV: &str = include_str!("../examples/house-prices/train.csv");

/// Recent inputs of the example, for the drift check (`examples/house-prices/recent.csv`).
pub const EXAMPLE_RECENT_CSV: &str = include_str!("../examples/house-prices/recent.csv");

/// What `init` did.
#[derive(Debug, Clone, Serialize)]
pub struct InitReport {
    /// The project folder.
    pub dir: String,
    /// Files created.
    pub created: Vec<String>,
    /// Files changed (a `.gitignore` that gained `dist/` or `deploy/`).
    pub updated: Vec<String>,
    /// The lines added to an existing `.gitignore`.
    pub added: Vec<String>,
}

/// `line` with `# comment` aligned at column 36.
fn commented(line: &str, comment: &str) -> String {
    format!("{line:<34} # {comment}\n")
}

/// The project file `init` writes.
#[must_use]
pub fn template(name: &str, example: bool) -> String {
    format!(
        "{HEADER}\n[project]\nname = \"{name}\"\n\n[data]\n{data}\n[split]\n{split}\n[model]\n{model}\n{validate}\n{registry}\n{environments}\n{serve}\n{OPTIONAL_TABLES}",
        data = data_table(example),
        split = split_table(),
        model = model_table(name),
        validate = validate_tables(example),
        registry = registry_table(),
        environments = environments_tables(),
        serve = serve_table(),
    )
}

/// The first lines of the project file: where its documentation is.
const HEADER: &str = "# mlops project file. Every key is documented in docs/project-file.md of\n\
# mlops, and offline: `mlops help project-file` (also `mlops help commands`).\n\
# Commented keys show an option and its effect; the others are working defaults.\n";

fn data_table(example: bool) -> String {
    let mut data = commented(
        "path = \"data/train.csv\"",
        "CSV with a header row, relative to this file",
    );
    if example {
        data += &commented("target = \"price\"", "the column to predict");
        data += &commented("exclude = [\"id\"]", "columns that are never features");
        data += &commented(
            "categorical = [\"neighborhood\"]",
            "one-hot encoded, levels learned in training",
        );
    } else {
        data += &commented("target = \"target\"", "the column to predict");
        data += &commented(
            "# features = [\"a\", \"b\"]",
            "default: every column but the target and `exclude`",
        );
        data += &commented(
            "exclude = []",
            "columns that are never features (ids, times)",
        );
        data += &commented(
            "categorical = []",
            "one-hot encoded, levels learned in training",
        );
    }
    data + &commented(
        "missing = \"error\"",
        "empty cells: \"error\" | \"drop-row\" | \"mean\"",
    ) + &commented(
        "# na_values = [\"NA\", \"null\"]",
        "cell texts that also mean missing",
    ) + &commented(
        "# max_levels = 1000",
        "most levels a categorical column may have",
    ) + &commented(
        "# min_level_count = 1",
        "rarer levels are folded into \"other\"",
    ) + &commented(
        "# handle_unknown = \"error\"",
        "a level unseen in training: \"error\" | \"ignore\"",
    )
}

fn split_table() -> String {
    commented(
        "validation_fraction = 0.2",
        "held out, chosen deterministically from `seed`",
    ) + "seed = 42\n"
        + &commented(
            "# validation_path = \"data/valid.csv\"",
            "a separate validation file instead",
        )
}

fn model_table(name: &str) -> String {
    commented(
        &format!("name = \"{name}\""),
        "registry name (git tags NAME@vX.Y.Z)",
    ) + &commented(
        "kind = \"linear\"",
        "\"linear\" (OLS) | \"glm\" (Tweedie: power, link, alpha, max_iter)",
    ) + "fit_intercept = true\n"
        + &format!("artifact = \"models/{name}.json\"\n")
}

/// `[validate]`: gates (the example's pass on its data; a new project's are
/// commented until its metrics are known), the baseline in prod, drift.
fn validate_tables(example: bool) -> String {
    let gates = if example {
        commented(
            "r2 = { min = 0.85 }",
            "fail below this R² on validation rows",
        ) + &commented("rmse = { max = 16000.0 }", "fail above this RMSE")
    } else {
        commented(
            "# r2 = { min = 0.8 }",
            "fail below this R² on validation rows",
        ) + &commented("# rmse = { max = 1000.0 }", "fail above this RMSE")
    };
    let drift = commented(
        &format!(
            "{}data = \"data/recent.csv\"",
            if example { "" } else { "# " }
        ),
        "recent inputs to compare with training (KS, chi², PSI)",
    );
    format!(
        "[validate.thresholds]\n{gates}\n[validate.baseline]\n{}{}\n[validate.drift]\n{drift}{}",
        commented(
            "stage = \"prod\"",
            "compare with the version in prod (none yet: skipped)"
        ),
        commented(
            "max_relative_degradation = 0.01",
            "a metric may be at most 1 % worse than the baseline's"
        ),
        commented("max_psi = 0.2", "population stability index per column"),
    )
}

fn registry_table() -> String {
    format!(
        "[registry]\n{}{}",
        commented(
            "stages = [\"staging\", \"prod\"]",
            "stages = environments; tags NAME#STAGE#N"
        ),
        commented("# remote = \"origin\"", "where `--push` sends the tags"),
    )
}

/// Two local environments: folders that `mlops serve --env NAME` watches.
fn environments_tables() -> String {
    let env = |name: &str| {
        format!(
            "[environments.{name}]\n{}{}",
            commented(
                "target = \"local\"",
                "\"local\" (a folder) | \"http\" (a server) | \"kubernetes\""
            ),
            commented(
                &format!("path = \"deploy/{name}\""),
                &format!("`mlops serve --env {name}` serves what is deployed here")
            ),
        )
    };
    format!(
        "{}{}\n{}",
        env("staging"),
        commented("keep = 5", "releases kept for rollback"),
        env("prod")
    )
}

fn serve_table() -> String {
    format!(
        "[serve]\n{}{}{}",
        commented(
            "bind = \"127.0.0.1:8080\"",
            "\"0.0.0.0:8080\" to listen on every interface"
        ),
        commented(
            "# admin_token_env = \"MLOPS_ADMIN_TOKEN\"",
            "turns on the admin API (http targets)"
        ),
        commented(
            "# prediction_log = \"logs/predictions.jsonl\"",
            "one JSON line per prediction"
        ),
    )
}

/// The tables a first project does without, commented, so that the
/// scaffold shows every table: uncomment one to use it.
const OPTIONAL_TABLES: &str = "\
# [validate.data]                # data checks: fail (not only warn) above these shares
# max_missing = 0.0
# max_out_of_range = 0.05
# max_unseen = 0.0

# [deploy]                       # multi-target deploys (environments with targets = [...])
# max_error_ratio = 0.01

# [targets.eu]                   # one target of an environment with targets = [\"eu\", ...]
# target = \"http\"
# url = \"https://eu.models.example.com\"

# [abtest]                       # defaults of `mlops abtest-analyze`
# metric = \"value\"
# control = \"champion\"
# alpha = 0.05
";

/// The lines `init` keeps in `.gitignore`: bundles and deployed releases
/// are rebuilt from the registry, never committed.
const IGNORED: [&str; 2] = ["dist/", "deploy/"];

/// Scaffold a project in `dir` (created if needed).
pub fn init(dir: &Path, example: bool) -> Result<InitReport> {
    let name = project_name(dir);
    let toml_path = dir.join(crate::project::FILE_NAME);
    let data_path = dir.join("data").join("train.csv");
    let gitignore = dir.join(".gitignore");
    let mut planned: Vec<(PathBuf, String)> = vec![(toml_path, template(&name, example))];
    if example {
        planned.push((data_path, EXAMPLE_CSV.to_string()));
        planned.push((
            dir.join("data").join("recent.csv"),
            EXAMPLE_RECENT_CSV.to_string(),
        ));
    }
    let existing: Vec<String> = planned
        .iter()
        .filter(|(p, _)| p.exists())
        .map(|(p, _)| display_path(p))
        .collect();
    if !existing.is_empty() {
        return Err(Error::usage(format!(
            "{} already {}; init never overwrites a file: move it away or pick another folder",
            and_list(&existing),
            if existing.len() == 1 {
                "exists"
            } else {
                "exist"
            }
        )));
    }
    let mut report = InitReport {
        dir: display_path(dir),
        created: Vec::new(),
        updated: Vec::new(),
        added: Vec::new(),
    };
    for (p, text) in &planned {
        write_atomic(p, text.as_bytes())?;
        report.created.push(display_path(p));
    }
    update_gitignore(&gitignore, &mut report)?;
    Ok(report)
}

/// Add the lines of [`IGNORED`] that `.gitignore` lacks (or create it).
fn update_gitignore(gitignore: &Path, report: &mut InitReport) -> Result<()> {
    let old = match std::fs::read_to_string(gitignore) {
        Ok(old) => Some(old),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(Error::io("read", gitignore, &e)),
    };
    let has = |text: &str, entry: &str| {
        let bare = entry.trim_end_matches('/');
        text.lines().any(|l| {
            let l = l.trim();
            l.trim_start_matches('/').trim_end_matches('/') == bare
        })
    };
    let Some(old) = old else {
        let text = format!(
            "# mlops bundles and deployed releases\n{}\n",
            IGNORED.join("\n")
        );
        write_atomic(gitignore, text.as_bytes())?;
        report.created.push(display_path(gitignore));
        return Ok(());
    };
    let missing: Vec<&str> = IGNORED.into_iter().filter(|e| !has(&old, e)).collect();
    if missing.is_empty() {
        return Ok(());
    }
    let mut new = old;
    if !new.is_empty() && !new.ends_with('\n') {
        new.push('\n');
    }
    for m in &missing {
        new.push_str(m);
        new.push('\n');
    }
    write_atomic(gitignore, new.as_bytes())?;
    report.updated.push(display_path(gitignore));
    report
        .added
        .extend(missing.iter().map(|m| (*m).to_string()));
    Ok(())
}

/// `a`, `a and b`, `a, b and c`.
fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// A valid model name from the folder name.
fn project_name(dir: &Path) -> String {
    // The folder may not exist yet: fall back to its last component.
    let base = std::fs::canonicalize(dir)
        .ok()
        .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
        .or_else(|| dir.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_default();
    let mut s: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    s = s
        .trim_matches(|c: char| !c.is_ascii_alphanumeric())
        .to_string();
    if s.is_empty() { "model".into() } else { s }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_parse() {
        for example in [false, true] {
            let t = template("my-model", example);
            crate::project::parse(&t, "mlops.toml").unwrap();
        }
    }

    /// The scaffold names every table of the project file, and its
    /// commented optional tables parse once uncommented.
    #[test]
    fn template_shows_every_table() {
        let t = template("my-model", true);
        for table in [
            "[project]",
            "[data]",
            "[split]",
            "[model]",
            "[validate.thresholds]",
            "[validate.baseline]",
            "[validate.drift]",
            "[validate.data]",
            "[registry]",
            "[environments.staging]",
            "[environments.prod]",
            "[targets.",
            "[deploy]",
            "[serve]",
            "[abtest]",
        ] {
            assert!(t.contains(table), "the scaffold lacks {table}");
        }
        let uncommented: String = OPTIONAL_TABLES
            .lines()
            .map(|l| l.strip_prefix("# ").unwrap_or(l))
            .filter(|l| {
                !l.starts_with("[targets.") && !l.starts_with("target =") && !l.starts_with("url =")
            })
            .map(|l| format!("{l}\n"))
            .collect();
        let with = t.replace(OPTIONAL_TABLES, &uncommented);
        crate::project::parse(&with, "mlops.toml").unwrap();
    }

    #[test]
    fn never_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(".gitignore"), "target/").unwrap();
        let r = init(dir.path(), true).unwrap();
        assert_eq!(r.created.len(), 3);
        assert_eq!(
            std::fs::read_to_string(dir.path().join(".gitignore")).unwrap(),
            "target/\ndist/\ndeploy/\n"
        );
        let before = std::fs::read(dir.path().join("mlops.toml")).unwrap();
        let e = init(dir.path(), true).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert_eq!(
            std::fs::read(dir.path().join("mlops.toml")).unwrap(),
            before
        );
    }
}
