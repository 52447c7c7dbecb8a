//! What the process reads from its environment, read once at start-up, and
//! the project file it names.

use std::path::PathBuf;

use super::args::Cli;

/// What the process reads from its environment, read once at start-up.
#[derive(Debug, Clone, Default)]
pub struct Env {
    /// `NO_COLOR` is set and not empty.
    pub no_color: bool,
    /// `CLICOLOR_FORCE` is set and not `0`.
    pub clicolor_force: bool,
    /// `SOURCE_DATE_EPOCH`, for reproducible timestamps.
    pub source_date_epoch: Option<String>,
    /// The current folder.
    pub cwd: PathBuf,
    /// `MLOPS_CONFIG`, when set and not empty.
    pub config: Option<PathBuf>,
    /// `MLOPS_GIT_TOKEN`, for pushing over HTTPS.
    pub git_token: Option<String>,
    /// `GITHUB_STEP_SUMMARY`, when running in GitHub Actions.
    pub step_summary: Option<PathBuf>,
    /// `GITHUB_ACTIONS=true`.
    pub github_actions: bool,
    /// `GITHUB_OUTPUT`, when running in GitHub Actions.
    pub github_output: Option<PathBuf>,
    /// `GITLAB_CI=true`.
    pub gitlab_ci: bool,
    /// `MLOPS_TEST_DEPLOY_PAUSE=STEP:FILE`: fault injection for the tests
    /// of multi-target deploys (wait after journal step STEP until FILE exists).
    pub deploy_pause: Option<String>,
}

impl Env {
    /// An input path as given: an object-storage URL as it is, a file
    /// relative to the current folder.
    pub fn input_path(&self, p: &std::path::Path) -> PathBuf {
        if mlops::data::store_url(p).is_some() {
            p.to_path_buf()
        } else {
            self.cwd.join(p)
        }
    }

    /// Read the process environment.
    #[must_use]
    pub fn from_process() -> Env {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        Env {
            no_color: var("NO_COLOR").is_some(),
            clicolor_force: var("CLICOLOR_FORCE").is_some_and(|v| v != "0"),
            source_date_epoch: var("SOURCE_DATE_EPOCH"),
            cwd: std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
            config: std::env::var_os("MLOPS_CONFIG")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
            git_token: var("MLOPS_GIT_TOKEN"),
            step_summary: var("GITHUB_STEP_SUMMARY")
                .filter(|_| var("GITHUB_ACTIONS").is_some_and(|v| v == "true"))
                .map(PathBuf::from),
            github_actions: var("GITHUB_ACTIONS").is_some_and(|v| v == "true"),
            github_output: var("GITHUB_OUTPUT")
                .filter(|_| var("GITHUB_ACTIONS").is_some_and(|v| v == "true"))
                .map(PathBuf::from),
            gitlab_ci: var("GITLAB_CI").is_some_and(|v| v == "true"),
            deploy_pause: var("MLOPS_TEST_DEPLOY_PAUSE"),
        }
    }
}

/// The project file named by `-C` or else `MLOPS_CONFIG`.
#[must_use]
pub fn config_path<'a>(cli: &'a Cli, env: &'a Env) -> Option<&'a std::path::Path> {
    cli.config.as_deref().or(env.config.as_deref())
}
