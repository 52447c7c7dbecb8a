//! The project file, `mlops.toml`: discovery up the parent folders (as
//! cargo finds `Cargo.toml`), loading, and the paths and tables later steps
//! read from it. Its serde types, semantic checks and error locating live in
//! the child modules and are re-exported here.
//!
//! Every table denies unknown fields; semantic checks (ranges, combinations)
//! run in [`Project::load`] right after parsing so that every later step can
//! trust the values, and errors name the key, its line and the nearest valid
//! key.

mod bind;
mod check;
mod environments;
mod keys;
mod locate;
mod suggest;
mod toml_error;
mod types;
mod validate;

use std::path::{Path, PathBuf};

use crate::error::{Error, Result, display_path};

pub use bind::parse_bind;
pub use check::MAX_LOG_KEEP;
pub use check::valid_env_name;
pub use environments::{
    DeploySection, EnvironmentSection, HealthSection, ResourceList, ResourcesSection, Role,
    TargetKind,
};
pub use keys::known_keys;
pub use suggest::{did_you_mean, edit_distance, nearest};
pub use types::{
    AbtestCorrection, AbtestDirection, AbtestKind, AbtestSection, AbtestTest, AuthSection,
    DataPath, DataSection, LinkName, MissingPolicy, ModelKind, ModelSection, MonitorSection,
    ProjectFile, ProjectSection, RateLimitSection, RegistrySection, RoleLimit, ServeSection,
    SplitSection, TlsSection,
};
pub use types::{DEFAULT_MAX_LEVELS, HandleUnknown};
pub use types::{LogSink, PredictionLogSection, PredictionLogSetting};
pub use validate::CLASSIFIER_METRICS;
pub use validate::{
    BaselineSection, Bound, DataChecksSection, DriftSection, Rules, Thresholds, VALIDATE_METRICS,
    ValidateSection,
};

/// The file name looked for in the current folder and its parents.
pub const FILE_NAME: &str = "mlops.toml";

/// The parsed project file, plus where it was found.
#[derive(Debug, Clone)]
pub struct Project {
    /// Absolute path of the project file.
    pub path: PathBuf,
    /// The folder holding it; relative paths inside are relative to it.
    pub root: PathBuf,
    /// The parsed content.
    pub file: ProjectFile,
    /// The file's text, to point at keys in later messages.
    pub source: String,
}

impl Project {
    /// Find the project file: `explicit` (a file, or a folder holding
    /// `mlops.toml`) when given, else the current folder and its parents.
    pub fn discover(explicit: Option<&Path>, cwd: &Path) -> Result<PathBuf> {
        if let Some(p) = explicit {
            let p = if p.is_absolute() {
                p.to_path_buf()
            } else {
                cwd.join(p)
            };
            if p.is_dir() {
                let f = p.join(FILE_NAME);
                if f.is_file() {
                    return Ok(f);
                }
                return Err(Error::usage(format!(
                    "no {FILE_NAME} in {}; run `mlops init {}` or pass the file with -C",
                    display_path(&p),
                    display_path(&p)
                )));
            }
            if p.is_file() {
                return Ok(p);
            }
            return Err(Error::usage(format!(
                "project file {} does not exist; check -C/--config or MLOPS_CONFIG",
                display_path(&p)
            )));
        }
        let mut dir = Some(cwd);
        while let Some(d) = dir {
            let f = d.join(FILE_NAME);
            if f.is_file() {
                return Ok(f);
            }
            dir = d.parent();
        }
        Err(Error::usage(format!(
            "no {FILE_NAME} in {} or any parent folder; run `mlops init` to create one or pass -C PATH",
            cwd.display()
        )))
    }

    /// Discover and load the project file.
    pub fn load(explicit: Option<&Path>, cwd: &Path) -> Result<Project> {
        let path = Project::discover(explicit, cwd)?;
        let path = std::fs::canonicalize(&path).unwrap_or(path);
        let text = std::fs::read_to_string(&path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::InvalidData {
                Error::usage(format!("{} is not valid UTF-8", display_path(&path)))
            } else {
                Error::io("read", &path, &e)
            }
        })?;
        Project::from_text(&text, path)
    }

    /// A project from the text of its file, which lives at `path`.
    pub fn from_text(text: &str, path: PathBuf) -> Result<Project> {
        let file = parse(text, &display_path(&path))?;
        let root = path
            .parent()
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        Ok(Project {
            path,
            root,
            file,
            source: text.to_string(),
        })
    }

    /// `file:line` of `key` in `[section]`, or the file alone.
    #[must_use]
    pub fn locate(&self, section: &str, key: &str) -> String {
        let f = display_path(&self.path);
        match locate::find_key_line(&self.source, section, key) {
            Some(l) => format!("{f}:{l}"),
            None => f,
        }
    }

    /// Resolve a path written in the project file.
    #[must_use]
    pub fn resolve(&self, p: impl AsRef<Path>) -> PathBuf {
        let p = p.as_ref();
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.root.join(p)
        }
    }

    /// The training files `[data].path` names, globs expanded (sorted), in
    /// order; each must exist.
    pub fn data_files(&self) -> Result<Vec<PathBuf>> {
        let at = self.locate("data", "path");
        let mut out = Vec::new();
        for pat in self.data()?.path.patterns() {
            if pat.starts_with("https://") || pat.starts_with("http://") {
                out.push(PathBuf::from(pat));
                continue;
            }
            if crate::data::store_url(Path::new(pat)).is_some() {
                out.extend(
                    crate::data::store::glob(pat, &at)?
                        .into_iter()
                        .map(PathBuf::from),
                );
                continue;
            }
            let full = self.resolve(pat);
            if pat.contains(['*', '?', '[']) {
                let text = full.to_string_lossy().into_owned();
                let mut matched: Vec<PathBuf> = glob::glob(&text)
                    .map_err(|e| {
                        Error::usage(format!(
                            "{at}: data.path pattern \"{pat}\" is not a valid glob ({e}); fix the pattern"
                        ))
                    })?
                    .filter_map(std::result::Result::ok)
                    .filter(|p| p.is_file())
                    .collect();
                matched.sort();
                if matched.is_empty() {
                    return Err(Error::usage(format!(
                        "{at}: data.path pattern \"{pat}\" matches no file; check the pattern (it is relative to the project file)"
                    )));
                }
                out.extend(matched);
            } else {
                require_file(&full, &at, "data.path")?;
                out.push(full);
            }
        }
        Ok(out)
    }

    /// `[split].validation_path` resolved, when set; it must be a file.
    pub fn validation_file(&self) -> Result<Option<PathBuf>> {
        let Some(vp) = &self.file.split.validation_path else {
            return Ok(None);
        };
        if crate::data::store_url(Path::new(vp)).is_some() {
            return Ok(Some(PathBuf::from(vp)));
        }
        let full = self.resolve(vp);
        require_file(
            &full,
            &self.locate("split", "validation_path"),
            "split.validation_path",
        )?;
        Ok(Some(full))
    }

    /// Where the artifact goes.
    pub fn artifact_path(&self) -> Result<PathBuf> {
        let model = self.model()?;
        Ok(match &model.artifact {
            Some(a) => self.resolve(a),
            None => self
                .root
                .join("models")
                .join(format!("{}.json", model.name)),
        })
    }

    /// `[data]`, or a usage error naming the missing table.
    pub fn data(&self) -> Result<&DataSection> {
        self.file
            .data
            .as_ref()
            .ok_or_else(|| self.missing_table("data"))
    }

    /// `[environments.NAME]`, or a usage error listing the environments.
    pub fn environment(&self, name: &str) -> Result<&EnvironmentSection> {
        self.file.environments.get(name).ok_or_else(|| {
            let names: Vec<&str> = self.file.environments.keys().map(String::as_str).collect();
            let hint = match (nearest(name, &names), names.is_empty()) {
                (_, true) => {
                    "add an [environments.NAME] table (see docs/project-file.md)".to_string()
                }
                (Some(n), _) => format!("did you mean \"{n}\"?"),
                (None, _) => format!("defined: {}", names.join(", ")),
            };
            Error::usage(format!(
                "{}: no environment \"{name}\"; {hint}",
                display_path(&self.path)
            ))
        })
    }

    /// `[model]`, or a usage error naming the missing table.
    pub fn model(&self) -> Result<&ModelSection> {
        self.file
            .model
            .as_ref()
            .ok_or_else(|| self.missing_table("model"))
    }

    fn missing_table(&self, table: &str) -> Error {
        Error::usage(format!(
            "{}: missing table [{table}]; add it (see docs/project-file.md)",
            display_path(&self.path)
        ))
    }
}

/// A data file named at `key` (found at `at`) must be an existing file.
pub fn require_file(path: &Path, at: &str, key: &str) -> Result<()> {
    if path.is_file() {
        return Ok(());
    }
    let what = if path.is_dir() {
        "is a folder, not a CSV file"
    } else {
        "does not exist"
    };
    Err(Error::usage(format!(
        "{at}: {key} = {} {what}; check the path (it is relative to the project file)",
        display_path(path)
    )))
}

/// Parse and check the text of a project file; `origin` names it in errors.
pub fn parse(text: &str, origin: &str) -> Result<ProjectFile> {
    let file: ProjectFile =
        toml::from_str(text).map_err(|e| toml_error::toml_error(text, origin, &e))?;
    check::check(&file, text, origin)?;
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    const OK: &str = r#"
[project]
name = "p"
[data]
path = "d.csv"
target = "y"
[model]
name = "m"
"#;

    #[track_caller]
    fn fails(text: &str, expected: &str) {
        match parse(text, "mlops.toml") {
            Ok(_) => panic!("parsed: {text}"),
            Err(e) => {
                assert_eq!(e.exit_code(), 2);
                assert!(
                    e.to_string().contains(expected),
                    "{e} does not contain {expected}"
                );
            }
        }
    }

    #[test]
    fn minimal_file_has_defaults() {
        let f = parse(OK, "mlops.toml").unwrap();
        assert_eq!(f.split.fraction(), 0.2);
        assert_eq!(f.split.seed, 42);
        let (m, d) = (f.model.unwrap(), f.data.unwrap());
        assert!(m.fit_intercept);
        assert_eq!(m.kind, ModelKind::Linear);
        assert_eq!(d.missing, MissingPolicy::Error);
    }

    #[test]
    fn registry_section_parses() {
        let f = parse(OK, "mlops.toml").unwrap();
        assert!(f.registry.is_none());
        let f = parse(
            &format!("{OK}[registry]\nremote = \"up\"\nstages = [\"dev\", \"prod\"]\n"),
            "mlops.toml",
        )
        .unwrap();
        let r = f.registry.unwrap();
        assert_eq!(r.remote.as_deref(), Some("up"));
        assert_eq!(r.stages, ["dev", "prod"]);
    }

    #[test]
    fn errors_name_key_line_and_nearest() {
        fails(
            &OK.replace("target = \"y\"", "target = \"y\"\npaht = \"x\""),
            "mlops.toml:7: unknown key \"data.paht\"; did you mean \"data.path\"?",
        );
        fails(
            &OK.replace("path = \"d.csv\"\n", ""),
            "missing key \"data.path\"",
        );
        fails(
            &format!("{OK}[split]\nvalidation_fraction = \"x\"\n"),
            "mlops.toml:10: key \"split.validation_fraction\" has the wrong type",
        );
        fails(
            &format!("{OK}[split]\nvalidation_fraction = 1.5\n"),
            "mlops.toml:10: key \"split.validation_fraction\" = 1.5 must be",
        );
        fails(
            &format!("{OK}kind = \"lineer\"\n"),
            "key \"model.kind\" = \"lineer\" is not allowed; did you mean \"linear\"?",
        );
        fails(
            &format!("{OK}power = 1.0\n"),
            "applies only to kind = \"glm\"",
        );
        fails(&format!("{OK}[splitt]\n"), "did you mean \"split\"");
        fails(
            &format!("{OK}[registry]\nremot = \"o\"\n"),
            "unknown key \"registry.remot\"; did you mean \"registry.remote\"?",
        );
        fails(
            &format!("{OK}[registry]\nstages = [\"prod\", \"a.b\"]\n"),
            "mlops.toml:10: key \"registry.stages\" lists \"a.b\", which is not a valid stage name",
        );
        fails(
            &format!("{OK}[registry]\nstages = [\"prod\", \"prod\"]\n"),
            "lists \"prod\" twice",
        );
        fails("[data\n", "fix the TOML syntax");
        fails(
            &OK.replace("name = \"m\"", "name = \"-m\""),
            "not a valid model name",
        );
    }

    #[test]
    fn discovery_walks_up() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(FILE_NAME), OK).unwrap();
        let sub = dir.path().join("a/b");
        std::fs::create_dir_all(&sub).unwrap();
        let found = Project::discover(None, &sub).unwrap();
        assert_eq!(found, dir.path().join(FILE_NAME));
        let e = Project::discover(Some(Path::new("nope.toml")), &sub).unwrap_err();
        assert_eq!(e.exit_code(), 2);
    }

    #[test]
    fn environments_and_serve_from_the_spec_parse() {
        let text = format!(
            "{OK}{}",
            r#"
[environments.staging]
target = "local"
path = "deploy/staging"

[environments.prod]
target = "http"
url = "http://127.0.0.1:8080"
token_env = "MLOPS_PROD_TOKEN"
health = { path = "/v2/health/ready", timeout_s = 30, retries = 5 }

[environments.k8s]
target = "kubernetes"
path = "deploy/k8s"
replicas = 3
apply = false
resources = { requests = { cpu = "100m", memory = "64Mi" } }

[serve]
bind = "127.0.0.1:8080"
admin_token_env = "MLOPS_ADMIN_TOKEN"
prediction_log = "logs/predictions.jsonl"
max_body_bytes = 1048576
tls = { cert = "certs/server.pem", key = "certs/server.key" }
"#
        );
        let f = parse(&text, "mlops.toml").unwrap();
        assert_eq!(
            f.environments.keys().collect::<Vec<_>>(),
            ["k8s", "prod", "staging"]
        );
        assert_eq!(f.environments["prod"].target, Some(TargetKind::Http));
        assert_eq!(
            f.environments["prod"].health.as_ref().unwrap().retries,
            Some(5)
        );
        assert_eq!(f.environments["k8s"].replicas, Some(3));
        let sv = f.serve.unwrap();
        assert_eq!(sv.admin_token_env.as_deref(), Some("MLOPS_ADMIN_TOKEN"));
        assert_eq!(sv.max_body_bytes, Some(1_048_576));
    }

    /// L2: a huge health timeout is refused (exit 2), never a panic in
    /// `Duration::from_secs_f64` at deploy time.
    #[test]
    fn a_huge_health_timeout_is_refused() {
        for t in ["1e20", "86401", "0", "-1", "nan"] {
            fails(
                &format!(
                    "{OK}[environments.prod]\ntarget = \"http\"\nurl = \"http://h:1\"\nhealth = {{ timeout_s = {t} }}\n"
                ),
                "use a number of seconds above 0 and at most 86400 (a day)",
            );
        }
    }

    #[test]
    fn environment_keys_belong_to_their_target() {
        fails(
            &format!(
                "{OK}[environments.prod]\ntarget = \"http\"\nurl = \"http://h:1\"\npath = \"x\"\n"
            ),
            "mlops.toml:12: key \"environments.prod.path\" applies only to target = \"local\" or \"kubernetes\", not \"http\"",
        );
        fails(
            &format!("{OK}[environments.staging]\ntarget = \"local\"\n"),
            "mlops.toml:9: missing key \"environments.staging.path\"",
        );
        fails(
            &format!("{OK}[environments.prod]\ntarget = \"http\"\n"),
            "missing key \"environments.prod.url\"",
        );
        fails(
            &format!("{OK}[environments.prod]\ntarget = \"http\"\nurl = \"ftp://x\"\n"),
            "is not an http:// or https:// URL",
        );
        fails(
            &format!(
                "{OK}[environments.prod]\ntarget = \"http\"\nurl = \"http://h:1\"\ntoken_env = \"s3cr3t token\"\n"
            ),
            "is not an environment variable name",
        );
        fails(
            &format!("{OK}[environments.x]\ntarget = \"ftp\"\npath = \"p\"\n"),
            "did you mean \"http\"?",
        );
        fails(
            &format!("{OK}[environments.k]\ntarget = \"kubernetes\"\npath = \"p\"\nreplica = 2\n"),
            "replicas",
        );
    }

    #[test]
    fn environments_over_targets_are_checked() {
        let two = "[targets.eu]\ntarget = \"http\"\nurl = \"http://h:1\"\nregion = \"eu-west\"\norder = 1\n[targets.us]\ntarget = \"local\"\npath = \"us\"\nrole = \"standby\"\n";
        let text = format!(
            "{OK}[environments.prod]\ntargets = [\"eu\", \"us\"]\n{two}[deploy]\nmax_error_ratio = 0.02\n"
        );
        let p = Project::from_text(&text, PathBuf::from("mlops.toml")).unwrap();
        assert_eq!(
            p.file.environments["prod"].targets.as_ref().unwrap().len(),
            2
        );
        assert_eq!(p.file.targets["us"].role, Some(Role::Standby));
        assert_eq!(p.file.targets["eu"].order, Some(1));
        fails(
            &format!("{OK}[environments.prod]\ntargets = [\"eu\", \"uss\"]\n{two}"),
            "mlops.toml:10: key \"environments.prod.targets\" names \"uss\", which is not a [targets.T] table; did you mean \"us\"?",
        );
        fails(
            &format!("{OK}[environments.prod]\ntargets = [\"eu\", \"eu\"]\n{two}"),
            "names \"eu\" twice",
        );
        fails(
            &format!("{OK}[environments.prod]\ntargets = []\n{two}"),
            "is empty",
        );
        fails(
            &format!("{OK}[environments.prod]\ntargets = [\"eu\"]\nurl = \"http://h:1\"\n{two}"),
            "key \"environments.prod.url\" cannot be combined with targets",
        );
        fails(
            &format!(
                "{OK}[environments.prod]\ntarget = \"local\"\npath = \"p\"\nrole = \"standby\"\n"
            ),
            "key \"environments.prod.role\" belongs in a [targets.T] table",
        );
        fails(
            &format!("{OK}[environments.prod]\npath = \"p\"\n"),
            "missing key \"environments.prod.target\"",
        );
        fails(
            &format!("{OK}[targets.eu]\ntarget = \"http\"\n"),
            "missing key \"targets.eu.url\"",
        );
        fails(
            &format!("{OK}[targets.eu]\ntarget = \"local\"\npath = \"p\"\nrole = \"primary\"\n"),
            "role",
        );
        fails(
            &format!("{OK}[targets.eu]\ntarget = \"local\"\npath = \"p\"\ntargets = [\"x\"]\n"),
            "belongs in an [environments.NAME] table",
        );
        fails(
            &format!("{OK}[deploy]\nmax_error_ratio = 2\n"),
            "must be a share between 0 and 1",
        );
    }

    #[test]
    fn serve_values_are_checked() {
        fails(
            &format!("{OK}[serve]\nbind = \"localhost\"\n"),
            "mlops.toml:10: key \"serve.bind\" = \"localhost\" is not an address and port",
        );
        fails(
            &format!("{OK}[serve]\nmax_body_bytes = 0\n"),
            "must be at least 1",
        );
        fails(
            &format!("{OK}[serve]\nbnd = \"x\"\n"),
            "did you mean \"serve.bind\"?",
        );
        fails(&format!("{OK}[serve]\ntls = {{ cert = \"c\" }}\n"), "key");
        fails(
            &format!("{OK}[serve]\nlog_keep = 4000000000\n"),
            "mlops.toml:10: key \"serve.log_keep\" = 4000000000 is more than 1000",
        );
        fails(
            &format!("{OK}[serve.prediction_log]\npath = \"p.jsonl\"\nlog_keep = 1001\n"),
            "mlops.toml:11: key \"serve.prediction_log.log_keep\" = 1001 is more than 1000",
        );
    }
}
