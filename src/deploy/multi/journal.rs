//! The journal of a deploy across targets: `.mlops/deploys/<id>.json`,
//! rewritten atomically (temp + rename + fsync, `fsutil`) before each step
//! and after it, so that a deploy interrupted anywhere (SIGKILL, power
//! loss) can be resumed or aborted from what it records: the plan, each
//! target's previous version and state, the phase and the failure.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result, display_path};
use crate::project::Project;

/// Where a target is in the protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetState {
    /// Nothing done yet.
    Planned,
    /// Staging started (may be half done).
    Staging,
    /// Staged beside what is served and verified there (checksums,
    /// readiness, smoke test).
    Verified,
    /// The flip started (may be half done).
    Committing,
    /// Serving the new version, verified.
    Committed,
    /// The previous version is back (a committed target compensated).
    Reverted,
    /// What was staged is gone (a target compensated before its commit).
    Unstaged,
}

/// Where the deploy as a whole is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Staging and verifying every target.
    Staging,
    /// Committing target by target.
    Committing,
    /// Every target committed; the tag is being written.
    Tagging,
    /// Putting every target back after a failure (or `--abort`).
    Compensating,
    /// All new, tagged.
    Done,
    /// All old, nothing tagged.
    Aborted,
}

impl Phase {
    /// Whether the deploy still needs `--resume` or `--abort`.
    #[must_use]
    pub fn unfinished(self) -> bool {
        !matches!(self, Phase::Done | Phase::Aborted)
    }
}

/// One target in the journal.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JournalTarget {
    /// `[targets.T]` name.
    pub name: String,
    /// `local`, `http` or `kubernetes`.
    pub kind: String,
    /// Folder or URL.
    pub location: String,
    /// `active` or `standby`.
    pub role: String,
    /// What it served before (the version put back on failure).
    pub previous: Option<String>,
    /// Where it is.
    pub state: TargetState,
}

/// Why a deploy failed: the target, the reason and the exit code.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Failure {
    /// The target that failed.
    pub target: String,
    /// What happened.
    pub reason: String,
    /// 1 (a failed check) or 5 (unreachable or refusing).
    pub exit_code: i32,
}

/// `.mlops/deploys/<id>.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Journal {
    /// The deploy's id (the file's stem).
    pub id: String,
    /// `deploy` or `rollback`.
    pub command: String,
    /// The environment.
    pub environment: String,
    /// The model.
    pub model: String,
    /// The version going live.
    pub version: String,
    /// Each write increments it: the step the deploy is at.
    pub step: u64,
    /// The phase.
    pub phase: Phase,
    /// The targets, in commit order.
    pub targets: Vec<JournalTarget>,
    /// The first failure, once one happened.
    pub failure: Option<Failure>,
    /// The assignment tag, once written.
    pub tag: Option<String>,
    /// When it was last written (RFC 3339).
    pub updated_at: String,
}

/// `.mlops/deploys` of the project.
#[must_use]
pub fn folder(project: &Project) -> PathBuf {
    project.root.join(".mlops").join("deploys")
}

impl Journal {
    /// Its file.
    #[must_use]
    pub fn path(&self, project: &Project) -> PathBuf {
        folder(project).join(format!("{}.json", self.id))
    }

    /// Write the next step: atomically, synced, before the step runs.
    pub fn write(&mut self, project: &Project) -> Result<()> {
        self.step += 1;
        self.updated_at = crate::timestamp::rfc3339(crate::registry::repo::now());
        let mut bytes = serde_json::to_vec_pretty(self)
            .map_err(|e| Error::usage(format!("cannot encode the deploy journal: {e}")))?;
        bytes.push(b'\n');
        crate::fsutil::write_atomic(&self.path(project), &bytes)
    }

    /// The target named `name`.
    pub fn target_mut(&mut self, name: &str) -> Option<&mut JournalTarget> {
        self.targets.iter_mut().find(|t| t.name == name)
    }
}

/// Read the journal `id` of `env`.
pub fn load(project: &Project, env: &str, id: &str) -> Result<Journal> {
    let valid = !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    let path = folder(project).join(format!("{id}.json"));
    let bytes = match std::fs::read(&path) {
        Ok(b) if valid => b,
        Ok(_) => Vec::new(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound || !valid => {
            let known = unfinished(project, Some(env))?;
            let hint = match known.first() {
                Some(j) => format!("the unfinished deploy of {env} is {}", j.id),
                None => format!("{env} has no unfinished deploy"),
            };
            return Err(Error::usage(format!(
                "there is no deploy journal {} ({hint}); run `mlops status {env}` to see it",
                display_path(&path)
            )));
        }
        Err(e) => return Err(Error::io("read the deploy journal", &path, &e)),
    };
    let j: Journal = serde_json::from_slice(&bytes).map_err(|e| {
        Error::usage(format!(
            "{} is not a deploy journal ({e}); it cannot be resumed, restore it or remove it and check the targets with `mlops status {env}`",
            display_path(&path)
        ))
    })?;
    if j.environment != env {
        return Err(Error::usage(format!(
            "{} is a deploy of {}, not {env}; run `mlops deploy {} --resume {id}`",
            display_path(&path),
            j.environment,
            j.environment
        )));
    }
    Ok(j)
}

/// The unfinished journals (of `env`, or of every environment), oldest first.
pub fn unfinished(project: &Project, env: Option<&str>) -> Result<Vec<Journal>> {
    let dir = folder(project);
    let rd = match std::fs::read_dir(&dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io("read the folder", &dir, &e)),
    };
    let mut out: Vec<Journal> = rd
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
        .filter_map(|e| read(&e.path()))
        .filter(|j| j.phase.unfinished() && env.is_none_or(|n| j.environment == n))
        .collect();
    out.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(out)
}

fn read(p: &Path) -> Option<Journal> {
    serde_json::from_slice(&std::fs::read(p).ok()?).ok()
}

/// A fresh id: the time, the environment and the process.
#[must_use]
pub fn new_id(env: &str) -> String {
    let t = crate::timestamp::rfc3339(crate::registry::repo::now())
        .replace([':', '-'], "")
        .trim_end_matches('Z')
        .to_string();
    let env: String = env
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    format!("{t}-{env}-{}", std::process::id())
}
