//! `init`: scaffold a project — a commented `mlops.toml`, a `.gitignore`
//! that keeps `dist/` out of git, and with `--example` the house-price
//! dataset. Nothing that exists is ever overwritten: every target is checked
//! before the first write.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{Error, Result, display_path};
use crate::fsutil::write_atomic;

/// The bundled example dataset (`examples/house-prices/train.csv`).
pub const EXAMPLE_CSV: &str = include_str!("../examples/house-prices/train.csv");

/// What `init` did.
#[derive(Debug, Clone, Serialize)]
pub struct InitReport {
    /// The project folder.
    pub dir: String,
    /// Files created.
    pub created: Vec<String>,
    /// Files changed (a `.gitignore` that gained `dist/`).
    pub updated: Vec<String>,
}

/// `line` with `# comment` aligned at column 36.
fn commented(line: &str, comment: &str) -> String {
    format!("{line:<34} # {comment}\n")
}

/// The project file `init` writes.
#[must_use]
pub fn template(name: &str, example: bool) -> String {
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
    data += &commented(
        "missing = \"error\"",
        "empty cells: \"error\" | \"drop-row\" | \"mean\"",
    );
    let split = commented(
        "validation_fraction = 0.2",
        "held out, chosen deterministically from `seed`",
    ) + "seed = 42\n"
        + &commented(
            "# validation_path = \"data/valid.csv\"",
            "a separate validation file instead",
        );
    let model = commented(
        &format!("name = \"{name}\""),
        "registry name (git tags NAME@vX.Y.Z)",
    ) + &commented(
        "kind = \"linear\"",
        "\"linear\" (OLS) | \"glm\" (Tweedie: power, link, alpha, max_iter)",
    ) + "fit_intercept = true\n"
        + &format!("artifact = \"models/{name}.json\"\n");
    format!(
        "# mlops project file; every key is documented in mlops's docs/project-file.md.\n\n[project]\nname = \"{name}\"\n\n[data]\n{data}\n[split]\n{split}\n[model]\n{model}"
    )
}

/// Scaffold a project in `dir` (created if needed).
pub fn init(dir: &Path, example: bool) -> Result<InitReport> {
    let name = project_name(dir);
    let toml_path = dir.join(crate::project::FILE_NAME);
    let data_path = dir.join("data").join("train.csv");
    let gitignore = dir.join(".gitignore");
    let mut planned: Vec<(PathBuf, String)> = vec![(toml_path, template(&name, example))];
    if example {
        planned.push((data_path, EXAMPLE_CSV.to_string()));
    }
    let existing: Vec<String> = planned
        .iter()
        .filter(|(p, _)| p.exists())
        .map(|(p, _)| display_path(p))
        .collect();
    if !existing.is_empty() {
        return Err(Error::usage(format!(
            "{} already {}; init never overwrites a file: move it away or pick another folder",
            existing.join(" and "),
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
    };
    for (p, text) in &planned {
        write_atomic(p, text.as_bytes())?;
        report.created.push(display_path(p));
    }
    match std::fs::read_to_string(&gitignore) {
        Ok(old) => {
            if !old
                .lines()
                .any(|l| matches!(l.trim(), "dist/" | "dist" | "/dist" | "/dist/"))
            {
                let mut new = old.clone();
                if !new.is_empty() && !new.ends_with('\n') {
                    new.push('\n');
                }
                new.push_str("dist/\n");
                write_atomic(&gitignore, new.as_bytes())?;
                report.updated.push(display_path(&gitignore));
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            write_atomic(&gitignore, b"# mlops bundles\ndist/\n")?;
            report.created.push(display_path(&gitignore));
        }
        Err(e) => return Err(Error::io("read", &gitignore, &e)),
    }
    Ok(report)
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

    #[test]
    fn never_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(".gitignore"), "target/").unwrap();
        let r = init(dir.path(), true).unwrap();
        assert_eq!(r.created.len(), 2);
        assert_eq!(
            std::fs::read_to_string(dir.path().join(".gitignore")).unwrap(),
            "target/\ndist/\n"
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
