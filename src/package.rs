//! `package`: build the reproducible bundle of the committed model and
//! register it as `NAME@vX.Y.Z`; `package --check` rebuilds a registered
//! bundle from its commit and compares digests.
//!
//! Everything that goes into the bundle is read from the commit through
//! git2 (never from the work tree), after checking that the work tree holds
//! the same files: a registered version can always be rebuilt from its
//! commit. Registry writes are serialised by a lock file in the git folder,
//! and the tag is created only after the bundle is in place; if tagging
//! fails, the bundle just written is removed.

use std::path::{Component, Path, PathBuf};

use git2::{Oid, Repository};
use serde_json::{Value, json};

use crate::bundle::{self, Entry, sha256_hex};
use crate::error::{Error, Result, display_path};
use crate::model::Artifact;
use crate::project::{self, Project};
use crate::registry::repo;
use crate::registry::state::{self, Model};
use crate::registry::tag::{Action, Bump, Semver, TagName, message_first_line};
use crate::timestamp::rfc3339;

/// What `package` should do.
#[derive(Debug, Clone)]
pub struct PackageOptions {
    /// An explicit version (`vX.Y.Z`).
    pub version: Option<String>,
    /// Otherwise bump the highest registered version this way.
    pub bump: Bump,
    /// Only say what would be done.
    pub dry_run: bool,
    /// Push the new tag to the registry remote.
    pub push: bool,
    /// `MLOPS_GIT_TOKEN`, for HTTPS pushes.
    pub token: Option<String>,
    /// Put the bundle in `[registry].bundle_store` before tagging.
    pub upload: bool,
    /// How long to wait for the registry lock another run holds.
    pub lock_timeout: std::time::Duration,
    /// Diagnostics for stderr as they happen: the registry lock is held
    /// and the run waits; a warning about the repository (a clone with a
    /// remote but no tags).
    pub on_notice: fn(&str),
}

/// What `package` did (or would do).
#[derive(Debug, Clone)]
pub struct PackageReport {
    /// The model name.
    pub model: String,
    /// `vX.Y.Z`.
    pub version: String,
    /// The tag created.
    pub tag: String,
    /// The bundle path.
    pub bundle: PathBuf,
    /// SHA-256 of the bundle.
    pub bundle_sha256: String,
    /// The commit registered.
    pub commit: String,
    /// Whether the tag was pushed.
    pub pushed: bool,
    /// Whether this was a dry run.
    pub dry_run: bool,
    /// The remote pushed to.
    pub remote: String,
}

/// The result of `package --check`.
#[derive(Debug, Clone)]
pub struct CheckReport {
    /// The tag checked.
    pub tag: String,
    /// Its commit.
    pub commit: String,
    /// The digest recorded in the tag.
    pub recorded: String,
    /// The digest of the rebuilt bundle.
    pub rebuilt: String,
}

/// A bundle built from a commit.
pub(crate) struct Built {
    pub(crate) bytes: Vec<u8>,
    pub(crate) sha256: String,
    artifact_rel: String,
    artifact: Artifact,
}

/// Lexically normalised `/`-separated relative path, or `None` if it
/// leaves its root.
fn normalise(p: &Path) -> Option<String> {
    let mut parts: Vec<String> = Vec::new();
    for c in p.components() {
        match c {
            Component::Normal(s) => parts.push(s.to_string_lossy().into_owned()),
            Component::CurDir => {}
            Component::ParentDir => {
                parts.pop()?;
            }
            _ => return None,
        }
    }
    Some(parts.join("/"))
}

/// The project file's path relative to the repository's work tree.
pub(crate) fn rel_in_repo(repo: &Repository, path: &Path) -> Result<String> {
    let work = repo.workdir().ok_or_else(|| {
        Error::Registry("the repository is bare; run mlops in a clone with a work tree".into())
    })?;
    let work = std::fs::canonicalize(work).unwrap_or_else(|_| work.to_path_buf());
    let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    path.strip_prefix(&work)
        .ok()
        .and_then(normalise)
        .ok_or_else(|| {
            Error::Registry(format!(
                "{} is outside the git work tree {}; keep the project inside the repository",
                display_path(&path),
                display_path(&work)
            ))
        })
}

fn blob_at(repo: &Repository, tree: &git2::Tree<'_>, rel: &str) -> Option<Vec<u8>> {
    let entry = tree.get_path(Path::new(rel)).ok()?;
    let blob = repo.find_blob(entry.id()).ok()?;
    Some(blob.content().to_vec())
}

/// Where the artifact of a committed project file lives: (path relative to
/// the repository, path inside the bundle).
fn artifact_location(toml_rel: &str, file: &project::ProjectFile) -> Result<(String, String)> {
    let model = file.model.as_ref().ok_or_else(|| {
        Error::Usage(
            "the project file has no [model] table; add one (see docs/project-file.md)".into(),
        )
    })?;
    let in_project = match &model.artifact {
        Some(a) => PathBuf::from(a),
        None => PathBuf::from("models").join(format!("{}.json", model.name)),
    };
    let dir = Path::new(toml_rel).parent().unwrap_or(Path::new(""));
    let rel = normalise(&dir.join(&in_project)).ok_or_else(|| {
        Error::Registry(format!(
            "[model].artifact = \"{}\" is outside the repository; put the artifact inside it",
            in_project.display()
        ))
    })?;
    let inner = normalise(&in_project).unwrap_or_else(|| rel.clone());
    Ok((rel, inner))
}

/// The project file and model artifact committed in a commit.
pub(crate) struct Committed {
    /// The project file's bytes.
    pub toml_bytes: Vec<u8>,
    /// The artifact's path relative to the repository.
    pub artifact_rel: String,
    /// The artifact's path relative to the project (inside a bundle).
    pub artifact_inner: String,
    /// The artifact's bytes.
    pub art_bytes: Vec<u8>,
    /// The parsed artifact.
    pub artifact: Artifact,
}

/// Read the project file at `toml_rel` and the artifact it names from
/// `commit`'s tree (exit 4 when either is missing).
pub(crate) fn committed_artifact(
    repo: &Repository,
    commit: &git2::Commit<'_>,
    toml_rel: &str,
) -> Result<Committed> {
    let tree = commit
        .tree()
        .map_err(|e| repo::git_err("read the commit tree", &e))?;
    let short = &commit.id().to_string()[..12];
    let toml_bytes = blob_at(repo, &tree, toml_rel).ok_or_else(|| {
        Error::Registry(format!(
            "commit {short} has no {toml_rel}; commit the project file"
        ))
    })?;
    let text = String::from_utf8(toml_bytes.clone())
        .map_err(|_| Error::Registry(format!("{toml_rel} at commit {short} is not UTF-8")))?;
    let file = project::parse(&text, &format!("{toml_rel} at commit {short}"))?;
    let (artifact_rel, artifact_inner) = artifact_location(toml_rel, &file)?;
    let art_bytes = blob_at(repo, &tree, &artifact_rel).ok_or_else(|| {
        Error::Registry(format!(
            "commit {short} has no {artifact_rel}; train and commit the model artifact"
        ))
    })?;
    let artifact = Artifact::from_slice(&art_bytes, &format!("{artifact_rel} at commit {short}"))?;
    Ok(Committed {
        toml_bytes,
        artifact_rel,
        artifact_inner,
        art_bytes,
        artifact,
    })
}

/// Build the bundle of `name`@`version` from `commit`'s tree.
pub(crate) fn build_from_commit(
    repo: &Repository,
    commit: &git2::Commit<'_>,
    toml_rel: &str,
    name: &str,
    version: &str,
    tool: &str,
) -> Result<Built> {
    let Committed {
        toml_bytes,
        artifact_rel,
        artifact_inner,
        art_bytes,
        artifact,
    } = committed_artifact(repo, commit, toml_rel)?;
    let commit_time = commit.time().seconds();
    let features: Vec<Value> = artifact
        .features
        .iter()
        .map(|f| match artifact.categorical.get(f) {
            Some(c) => json!({"name": f, "type": "categorical", "levels": c.levels}),
            None => json!({"name": f, "type": "numeric"}),
        })
        .collect();
    let mut files = serde_json::Map::new();
    files.insert("mlops.toml".into(), sha256_hex(&toml_bytes).into());
    files.insert(artifact_inner.clone(), sha256_hex(&art_bytes).into());
    let manifest = json!({
        "name": name,
        "version": version,
        "commit": commit.id().to_string(),
        "created_at": rfc3339(commit_time),
        "files": files,
        "features": features,
        "target": artifact.target,
        "metrics": artifact.metrics,
        "data_sha256": artifact.data_sha256,
        "tool": tool,
    });
    let mut manifest_bytes = serde_json::to_vec_pretty(&manifest).unwrap_or_default();
    manifest_bytes.push(b'\n');
    let entries = [
        Entry {
            path: "mlops.toml".into(),
            bytes: toml_bytes,
        },
        Entry {
            path: artifact_inner,
            bytes: art_bytes,
        },
        Entry {
            path: "manifest.json".into(),
            bytes: manifest_bytes,
        },
    ];
    let bytes = bundle::build(&entries, u64::try_from(commit_time).unwrap_or(0))?;
    Ok(Built {
        sha256: sha256_hex(&bytes),
        bytes,
        artifact_rel,
        artifact,
    })
}

/// `dist/NAME-vX.Y.Z.tar.gz` under the project folder; a `/` in a name is
/// a subfolder (`team/churn` → `dist/team/churn-v1.0.0.tar.gz`), so that
/// `team/churn` and `team-churn` never share a file.
#[must_use]
pub fn bundle_path(project: &Project, name: &str, version: &str) -> PathBuf {
    let mut p = project.root.join("dist");
    let mut parts: Vec<&str> = name.split('/').collect();
    let last = parts.pop().unwrap_or(name);
    for d in parts {
        p.push(d);
    }
    p.join(format!("{last}-{version}.tar.gz"))
}

/// The tool string recorded in bundles and tags.
#[must_use]
pub fn tool() -> String {
    format!("mlops {}", crate::VERSION)
}

/// Check that `rels` are committed at HEAD and unchanged in the work tree.
fn check_clean(repo: &Repository, head: &git2::Commit<'_>, rels: &[&str]) -> Result<()> {
    let tree = head
        .tree()
        .map_err(|e| repo::git_err("read the HEAD tree", &e))?;
    let mut bad = Vec::new();
    for rel in rels {
        let in_head = tree.get_path(Path::new(rel)).is_ok();
        let status = repo.status_file(Path::new(rel));
        let why = match (in_head, status) {
            (false, Ok(s)) if s.contains(git2::Status::IGNORED) => {
                Some("not committed; it is ignored by .gitignore, add it with `git add -f`")
            }
            (false, _) => Some("not committed"),
            (true, Ok(s)) if s.is_empty() => None,
            (true, Ok(s)) if s.contains(git2::Status::WT_DELETED) => Some("deleted"),
            (true, Ok(_)) => Some("modified"),
            (true, Err(_)) => Some("unreadable"),
        };
        if let Some(w) = why {
            bad.push(format!("{rel} ({w})"));
        }
    }
    if bad.is_empty() {
        return Ok(());
    }
    Err(Error::Registry(format!(
        "the model artifact and the project file must be committed at HEAD and unchanged to register a version, but {} {}; commit {} (`git add` and `git commit`) and run again",
        bad.join(", "),
        if bad.len() == 1 { "is not" } else { "are not" },
        if bad.len() == 1 { "it" } else { "them" }
    )))
}

fn choose_version(model: Option<&Model>, opts: &PackageOptions, name: &str) -> Result<Semver> {
    if let Some(v) = &opts.version {
        let s = Semver::parse_user(v).ok_or_else(|| {
            Error::usage(format!(
                "--version \"{v}\" is not a version; use vMAJOR.MINOR.PATCH, e.g. v1.2.0"
            ))
        })?;
        if let Some(m) = model
            && let Some(old) = m
                .versions
                .iter()
                .find(|x| x.semver().precedence(&s).is_eq())
        {
            return Err(Error::Registry(format!(
                "{name}@{s} is already registered (tag {} on commit {}); choose another version or use --bump",
                old.tag,
                &old.commit[..12]
            )));
        }
        return Ok(s);
    }
    Ok(match model.and_then(Model::highest) {
        Some(h) => h.bump(opts.bump).ok_or_else(|| {
            Error::Registry(format!(
                "{name}@{h} cannot be bumped: that part of the version is already {}; give the version explicitly with --version",
                u64::MAX
            ))
        })?,
        None => Semver {
            major: 0,
            minor: 0,
            patch: 1,
            pre: String::new(),
            build: String::new(),
        },
    })
}

pub use crate::registry::repo::next_tag_time;

/// The annotated message of a registration.
#[must_use]
pub fn register_message(name: &str, version: &Semver, meta: &Value) -> String {
    let first = message_first_line(name, &Action::Register(version.clone()), None);
    format!("{first}\n\n{}\n", json!({ "mlops": meta }))
}

/// Package the project's model at HEAD.
pub fn package(project: &Project, opts: &PackageOptions) -> Result<PackageReport> {
    let repo = repo::open(&project.root)?;
    let toml_rel = rel_in_repo(&repo, &project.path)?;
    let head = repo.head().and_then(|h| h.peel_to_commit()).map_err(|_| {
        Error::Registry(
            "the repository has no commit yet; commit mlops.toml and the model artifact first"
                .into(),
        )
    })?;
    let name = project.model()?.name.clone();
    check_committed(project, &repo, &head, &toml_rel)?;

    // A shallow clone lacks the tags the next version depends on.
    repo::check_full_history(&repo)?;
    if let Some(w) = repo::tagless_clone_warning(&repo, &package_remote(project)) {
        (opts.on_notice)(&format!("warning: {w}"));
    }
    let _lock = if opts.dry_run {
        None
    } else {
        let mut on_wait = |m: &str| (opts.on_notice)(m);
        Some(repo::lock(&repo, opts.lock_timeout, &mut on_wait)?)
    };
    let commit = head.id().to_string();
    let model = registered_model(&repo, &name, &commit)?;
    let version = choose_version(model.as_ref(), opts, &name)?;
    let vs = version.to_string();
    // Registrations are written as GTO writes them, without a counter.
    let tag = TagName {
        artifact: name.clone(),
        action: Action::Register(version.clone()),
        counter: None,
    }
    .to_string();
    let tool = tool();
    let built = build_from_commit(&repo, &head, &toml_rel, &name, &vs, &tool)?;
    let path = bundle_path(project, &name, &vs);
    let remote = package_remote(project);
    let mut report = PackageReport {
        model: name.clone(),
        version: vs.clone(),
        tag: tag.clone(),
        bundle: path.clone(),
        bundle_sha256: built.sha256.clone(),
        commit: commit.clone(),
        pushed: false,
        dry_run: opts.dry_run,
        remote: remote.clone(),
    };
    let store = match (opts.upload, bundle_store(project)) {
        (true, None) => {
            return Err(Error::usage(
                "--upload needs [registry].bundle_store in mlops.toml (an s3://, gs:// or az:// URL)",
            ));
        }
        (true, Some(s)) => Some(crate::bundle_store::object(&s, &name, &vs)?),
        (false, _) => None,
    };
    if opts.dry_run {
        return Ok(report);
    }
    let registration = Registration {
        name: &name,
        version: &version,
        tag: &tag,
        commit: &commit,
        built: &built,
        bundle: &path,
        tool: &tool,
        last_time: model.as_ref().map_or(i64::MIN, |m| m.last_time),
        store: store.as_ref(),
    };
    register(&repo, &registration)?;
    if opts.push {
        repo::push_tag(&repo, &remote, &tag, opts.token.as_deref())?;
        report.pushed = true;
    }
    Ok(report)
}

/// `[registry].remote`, else `origin`.
fn package_remote(project: &Project) -> String {
    project
        .file
        .registry
        .as_ref()
        .and_then(|r| r.remote.clone())
        .unwrap_or_else(|| "origin".into())
}

/// Check that the artifact the project file names exists and that both are
/// committed at `head` and unchanged in the work tree.
fn check_committed(
    project: &Project,
    repo: &Repository,
    head: &git2::Commit<'_>,
    toml_rel: &str,
) -> Result<()> {
    let (artifact_rel, _) = artifact_location(toml_rel, &project.file)?;
    let artifact_path = project.artifact_path()?;
    if !artifact_path.exists() {
        return Err(Error::Registry(format!(
            "there is no model artifact at {}; run `mlops train` and commit the artifact first",
            display_path(&artifact_path)
        )));
    }
    check_clean(repo, head, &[&artifact_rel, toml_rel])
}

/// The registry's state of model `name` (`None` before its first version),
/// refusing a second version on `commit`.
fn registered_model(repo: &Repository, name: &str, commit: &str) -> Result<Option<Model>> {
    let mut records = repo::read_tags(repo, Some(name))?;
    state::sort(&mut records);
    let model = state::resolve(&records).into_iter().next();
    if let Some(v) = model.as_ref().and_then(|m| m.version_on(commit)) {
        return Err(Error::Registry(format!(
            "commit {} already carries version {} of {name} (tag {}); a commit holds one version of a model, forever: commit a change and package again",
            &commit[..12],
            v.version,
            v.tag
        )));
    }
    Ok(model)
}

/// A version about to be registered: its bundle, and the tag that names it.
struct Registration<'a> {
    /// The model name.
    name: &'a str,
    /// The version registered.
    version: &'a Semver,
    /// The tag to create.
    tag: &'a str,
    /// The commit it goes on.
    commit: &'a str,
    /// The bundle built from that commit.
    built: &'a Built,
    /// Where the bundle is written.
    bundle: &'a Path,
    /// The tool string recorded.
    tool: &'a str,
    /// The time of the model's newest tag (`i64::MIN` for none).
    last_time: i64,
    /// Where `--upload` puts the bundle before the tag is created.
    store: Option<&'a crate::data::store::Remote>,
}

/// `[registry].bundle_store`, when set.
#[must_use]
pub fn bundle_store(project: &Project) -> Option<String> {
    project.file.registry.as_ref()?.bundle_store.clone()
}

/// Write the bundle, then the registration tag; if tagging fails, the
/// bundle just written is removed (one that was already there stays).
fn register(repo: &Repository, r: &Registration<'_>) -> Result<()> {
    // Fail on a missing identity before anything is written.
    repo::tagger(repo, 0)?;
    // Never register a bundle that `deploy` would refuse (L17).
    crate::bundle::read(&r.built.bytes, &display_path(r.bundle)).map_err(|e| {
        Error::Registry(format!(
            "the bundle just built does not read back, so nothing was written or tagged: {e} (check [model].artifact)"
        ))
    })?;
    let existed = std::fs::read(r.bundle).is_ok_and(|b| b == r.built.bytes);
    crate::fsutil::write_atomic(r.bundle, &r.built.bytes)?;
    // Stored before tagging, so that a tag never names a bundle not stored.
    if let Some(store) = r.store
        && let Err(e) = store.put(r.built.bytes.clone())
    {
        if !existed {
            let _ = std::fs::remove_file(r.bundle);
        }
        return Err(e);
    }
    let meta = json!({
        "bundle_sha256": r.built.sha256,
        "artifact": r.built.artifact_rel,
        "metrics": r.built.artifact.metrics,
        "data_sha256": r.built.artifact.data_sha256,
        "tool": r.tool,
    });
    let tagged = (|| {
        let t = next_tag_time(r.last_time)?;
        let sig = repo::tagger(repo, t)?;
        repo::create_tag(
            repo,
            r.tag,
            Oid::from_str(r.commit).map_err(|e| repo::git_err("read HEAD", &e))?,
            &sig,
            &register_message(r.name, r.version, &meta),
        )
    })();
    if let Err(e) = tagged {
        if !existed {
            let _ = std::fs::remove_file(r.bundle);
        }
        return Err(e);
    }
    Ok(())
}

/// `NAME@X.Y.Z` as the tag `NAME@vX.Y.Z` (the `v` is optional when typed).
fn with_v(tag: &str) -> String {
    match tag.trim().split_once('@') {
        Some((n, v)) if Semver::parse(v).is_some() => format!("{n}@v{v}"),
        _ => tag.trim().to_string(),
    }
}

/// Rebuild the bundle of `tag` from its commit and compare digests.
pub fn check(project: &Project, tag: &str) -> Result<CheckReport> {
    let with_v = with_v(tag);
    let tag = with_v.as_str();
    let (parsed, version) = match TagName::parse(tag) {
        Some(p) => match &p.action {
            Action::Register(v) => {
                let v = v.clone();
                (p, v)
            }
            _ => {
                return Err(Error::usage(format!(
                    "--check \"{tag}\" is not a version tag; use NAME@vX.Y.Z"
                )));
            }
        },
        None => {
            return Err(Error::usage(format!(
                "--check \"{tag}\" is not a version tag; use NAME@vX.Y.Z"
            )));
        }
    };
    let repo = repo::open(&project.root)?;
    let toml_rel = rel_in_repo(&repo, &project.path)?;
    let records = repo::read_tags(&repo, Some(&parsed.artifact))?;
    let rec = records.iter().find(|r| r.name == tag).ok_or_else(|| {
        Error::Registry(format!(
            "there is no annotated tag {tag}; run `mlops models` to see the registered versions"
        ))
    })?;
    let meta = rec.metadata().unwrap_or(Value::Null);
    let recorded = meta
        .get("bundle_sha256")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            Error::Registry(format!(
                "tag {tag} records no bundle digest (it was not written by `mlops package`); nothing to check against"
            ))
        })?
        .to_string();
    let tool = meta
        .get("tool")
        .and_then(Value::as_str)
        .map_or_else(tool, str::to_string);
    let oid = Oid::from_str(&rec.commit).map_err(|e| repo::git_err("read the tag", &e))?;
    let commit = repo
        .find_commit(oid)
        .map_err(|e| repo::git_err(&format!("find commit {}", rec.commit), &e))?;
    let built = build_from_commit(
        &repo,
        &commit,
        &toml_rel,
        &parsed.artifact,
        &version.to_string(),
        &tool,
    )?;
    let report = CheckReport {
        tag: tag.to_string(),
        commit: rec.commit.clone(),
        recorded,
        rebuilt: built.sha256,
    };
    if report.recorded != report.rebuilt {
        return Err(Error::Check(format!(
            "the bundle of {tag} rebuilt from commit {} has sha256 {}, but the tag records {}; the bundle is not reproducible from its commit",
            &report.commit[..12],
            report.rebuilt,
            report.recorded
        )));
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_normalised() {
        assert_eq!(normalise(Path::new("a/./b/../c")).as_deref(), Some("a/c"));
        assert_eq!(normalise(Path::new("../x")), None);
    }

    /// L1: `a/b` and `a-b` used to share `dist/a-b-v1.0.0.tar.gz`.
    #[test]
    fn bundle_files_of_a_slash_name_and_a_dash_name_differ() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("mlops.toml"), "[project]\nname = \"x\"\n").unwrap();
        let p = Project::load(Some(&dir.path().join("mlops.toml")), dir.path()).unwrap();
        let slash = bundle_path(&p, "team/churn", "v1.0.0");
        let dash = bundle_path(&p, "team-churn", "v1.0.0");
        assert_ne!(slash, dash);
        assert!(
            slash.ends_with("dist/team/churn-v1.0.0.tar.gz"),
            "{slash:?}"
        );
        assert!(dash.ends_with("dist/team-churn-v1.0.0.tar.gz"), "{dash:?}");
    }

    #[test]
    fn registration_message_is_gtos_then_json() {
        let v = Semver::parse("1.4.0").unwrap();
        let m = register_message("hp", &v, &json!({"tool": "mlops 0.1.0"}));
        assert_eq!(
            m,
            "Registering artifact hp version v1.4.0\n\n{\"mlops\":{\"tool\":\"mlops 0.1.0\"}}\n"
        );
    }
}
