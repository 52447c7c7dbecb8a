//! The verified bundle of a registered version: read from `dist/`, fetched
//! from `[registry].bundle_store`, or rebuilt from the tagged commit, and only accepted when its sha256 is the
//! registration tag's `bundle_sha256` and it holds that very version.

use git2::{Oid, Repository};
use serde_json::Value;

use crate::bundle::{self, Bundle};
use crate::error::{Error, Result, display_path};
use crate::package;
use crate::project::Project;
use crate::registry::repo;
use crate::registry::state::{Model, Version};

use super::report::BundleInfo;

/// A version's bundle, checked against its registration tag.
pub(super) struct Verified {
    /// Its bytes.
    pub(super) bytes: Vec<u8>,
    /// Its contents.
    pub(super) bundle: Bundle,
    /// Where it came from.
    pub(super) info: BundleInfo,
}

/// The verified bundle of `version` of `model`: from `dist/`, or rebuilt
/// from its commit; its sha256 must be the registration tag's.
pub(super) fn bundle(
    project: &Project,
    repo: &Repository,
    model: &Model,
    version: &str,
) -> Result<Verified> {
    let name = &model.name;
    let ver = model.version(version).ok_or_else(|| {
        Error::Registry(format!(
            "{name} has no version {version} in the registry{}; run `mlops models` to see it",
            model.did_you_mean(version)
        ))
    })?;
    let recorded = recorded_sha256(ver)?;
    let path = package::bundle_path(project, name, version);
    let mut fetched = None;
    let (bytes, source, from) = match std::fs::read(&path) {
        Ok(b) => (b, "dist", Some(path.clone())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            match package::bundle_store(project) {
                Some(store) => {
                    let obj = crate::bundle_store::object(&store, name, version)?;
                    let b = obj.get_all()?.to_vec();
                    fetched = Some(obj.url().to_string());
                    (b, "store", None)
                }
                None => (rebuild(project, repo, ver, name, version)?, "rebuilt", None),
            }
        }
        Err(e) => return Err(Error::io("read the bundle", &path, &e)),
    };
    let origin = match (&from, &fetched) {
        (Some(p), _) => display_path(p),
        (None, Some(url)) => url.clone(),
        (None, None) => format!(
            "the bundle of {name}@{version} rebuilt from commit {}",
            &ver.commit[..12]
        ),
    };
    let sha = bundle::sha256_hex(&bytes);
    if sha != recorded {
        let fix = if fetched.is_some() {
            format!(
                "put the registered bundle back in the store (`mlops package --check {name}@{version}` rebuilds and checks it)"
            )
        } else if from.is_some() {
            format!(
                "delete it so that deploy rebuilds it from the tagged commit, or check it with `mlops package --check {name}@{version}`"
            )
        } else {
            "the commit no longer rebuilds to the registered bundle; register a new version with `mlops package`".to_string()
        };
        return Err(Error::Registry(format!(
            "{origin} has sha256 {sha} but tag {} records {recorded}: the bundle was altered; nothing was deployed, {fix}",
            ver.tag
        )));
    }
    let b = read_as(&bytes, &origin, name, version)?;
    Ok(Verified {
        bytes,
        bundle: b,
        info: BundleInfo {
            path: from,
            sha256: sha,
            source,
        },
    })
}

/// The `bundle_sha256` of the registration tag of `ver`.
fn recorded_sha256(ver: &Version) -> Result<String> {
    Ok(ver
        .metadata
        .as_ref()
        .and_then(|m| m.get("bundle_sha256"))
        .and_then(Value::as_str)
        .ok_or_else(|| {
            Error::Registry(format!(
                "tag {} records no bundle_sha256 (it was not written by `mlops package`), so its bundle cannot be verified; register the model with `mlops package`",
                ver.tag
            ))
        })?
        .to_string())
}

/// The bundle of `ver` rebuilt from its commit, with the tool recorded in
/// its tag.
fn rebuild(
    project: &Project,
    repo: &Repository,
    ver: &Version,
    name: &str,
    version: &str,
) -> Result<Vec<u8>> {
    let toml_rel = package::rel_in_repo(repo, &project.path)?;
    let oid = Oid::from_str(&ver.commit).map_err(|e| repo::git_err("read the tag", &e))?;
    let commit = repo
        .find_commit(oid)
        .map_err(|e| repo::git_err(&format!("find commit {}", ver.commit), &e))?;
    let tool = ver
        .metadata
        .as_ref()
        .and_then(|m| m.get("tool"))
        .and_then(Value::as_str)
        .map_or_else(package::tool, str::to_string);
    let built = package::build_from_commit(repo, &commit, &toml_rel, name, version, &tool)?;
    Ok(built.bytes)
}

/// Read the bundle `bytes` (named `origin`), which must hold `name@version`.
fn read_as(bytes: &[u8], origin: &str, name: &str, version: &str) -> Result<Bundle> {
    let b = bundle::read(bytes, origin).map_err(|e| Error::Registry(e.to_string()))?;
    if b.name != *name || b.version != version {
        return Err(Error::Registry(format!(
            "{origin} holds {}@{}, not {name}@{version}; nothing was deployed, rebuild it with `mlops package --check {name}@{version}`",
            b.name, b.version
        )));
    }
    Ok(b)
}
