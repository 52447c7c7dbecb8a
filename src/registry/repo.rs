//! Reading and writing registry tags with git2 (never the `git` program).
//!
//! Reading lists `refs/tags/*` once, parses every name with the grammar of
//! [`super::tag`], and peels only the tags that match (and, for one model,
//! only that model's tags): one object read per registry tag.

use std::path::{Path, PathBuf};

use git2::{ErrorCode, ObjectType, Oid, Repository, Signature, Time};

use super::state::TagRecord;
use super::tag::TagName;
use crate::error::{Error, Result, display_path};

/// Open the repository that contains `path`.
pub fn open(path: &Path) -> Result<Repository> {
    Repository::discover(path).map_err(|e| {
        Error::Registry(format!(
            "{} is not inside a git repository ({}); run `git init` and commit the project first",
            display_path(path),
            e.message()
        ))
    })
}

/// A git failure as a registry error.
pub fn git_err(what: &str, e: &git2::Error) -> Error {
    Error::Registry(format!("cannot {what}: {}", e.message()))
}

/// Every registry tag of the repository (of `model` only, when given), unsorted.
pub fn read_tags(repo: &Repository, model: Option<&str>) -> Result<Vec<TagRecord>> {
    let mut out = Vec::new();
    let refs = repo
        .references_glob("refs/tags/*")
        .map_err(|e| git_err("list the tags", &e))?;
    for r in refs {
        let r = r.map_err(|e| git_err("list the tags", &e))?;
        let Ok(full) = r.name() else { continue };
        let name = &full["refs/tags/".len()..];
        let Some(parsed) = TagName::parse(name) else {
            continue;
        };
        if model.is_some_and(|m| parsed.artifact != m) {
            continue;
        }
        let Some(oid) = r.target() else { continue };
        // Lightweight tags are not registry events.
        let Ok(tag) = repo.find_tag(oid) else {
            continue;
        };
        let commit = if tag.target_type() == Some(ObjectType::Commit) {
            tag.target_id()
        } else {
            match tag.as_object().peel(ObjectType::Commit) {
                Ok(c) => c.id(),
                Err(_) => continue,
            }
        };
        let (time, author) = match tag.tagger() {
            Some(s) => (
                s.when().seconds(),
                format!(
                    "{} <{}>",
                    String::from_utf8_lossy(s.name_bytes()),
                    String::from_utf8_lossy(s.email_bytes())
                ),
            ),
            None => (0, String::new()),
        };
        out.push(TagRecord {
            name: name.to_string(),
            parsed,
            commit: commit.to_string(),
            time,
            author,
            message: String::from_utf8_lossy(tag.message_bytes().unwrap_or_default()).into_owned(),
        });
    }
    Ok(out)
}

/// The tagger from the repository's configuration, at `secs` (UTC).
pub fn tagger(repo: &Repository, secs: i64) -> Result<Signature<'static>> {
    let sig = repo.signature().map_err(|_| {
        Error::Registry(
            "no git identity to sign the tag with; set it with `git config user.name \"Your Name\"` and `git config user.email you@example.com`".into(),
        )
    })?;
    let name = String::from_utf8_lossy(sig.name_bytes()).into_owned();
    let email = String::from_utf8_lossy(sig.email_bytes()).into_owned();
    Signature::new(&name, &email, &Time::new(secs, 0))
        .map_err(|e| git_err("make the tagger signature", &e))
}

/// Create the annotated tag `name` on `commit`; never overwrites.
pub fn create_tag(
    repo: &Repository,
    name: &str,
    commit: Oid,
    tagger: &Signature<'_>,
    message: &str,
) -> Result<()> {
    let obj = repo
        .find_object(commit, Some(ObjectType::Commit))
        .map_err(|e| git_err(&format!("find commit {commit}"), &e))?;
    match repo.tag(name, &obj, tagger, message, false) {
        Ok(_) => Ok(()),
        Err(e) if matches!(e.code(), ErrorCode::Exists | ErrorCode::Locked) => {
            Err(Error::Registry(format!(
                "tag {name} already exists (another run created it first); nothing was changed, run `mlops models` to see the registry"
            )))
        }
        Err(e) => Err(git_err(&format!("create tag {name}"), &e)),
    }
}

/// An exclusive lock over registry writes of this repository, held while
/// alive (released by the OS if the process dies).
#[derive(Debug)]
pub struct WriteLock {
    _file: std::fs::File,
    _path: PathBuf,
}

/// Take the registry write lock (`.git/mlops-registry.lock`), waiting for
/// another `mlops` run to finish.
pub fn lock(repo: &Repository) -> Result<WriteLock> {
    let path = repo.path().join("mlops-registry.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| Error::io("open the lock file", &path, &e))?;
    file.lock()
        .map_err(|e| Error::io("lock the lock file", &path, &e))?;
    Ok(WriteLock {
        _file: file,
        _path: path,
    })
}

/// Push `refs/tags/<tag>` to `remote`, with the SSH agent or `token` (HTTPS).
pub fn push_tag(repo: &Repository, remote: &str, tag: &str, token: Option<&str>) -> Result<()> {
    let fail = |msg: String| {
        Error::Remote(format!(
            "cannot push tag {tag} to remote \"{remote}\": {msg}; the tag stays in the local repository, push it later with `git push {remote} {tag}`"
        ))
    };
    let mut r = repo
        .find_remote(remote)
        .or_else(|_| repo.remote_anonymous(remote))
        .map_err(|e| fail(e.message().to_string()))?;
    let mut cb = git2::RemoteCallbacks::new();
    let mut tried_agent = false;
    let mut tried_token = false;
    let token = token.map(str::to_string);
    cb.credentials(move |_url, user, allowed| {
        if allowed.contains(git2::CredentialType::SSH_KEY) && !tried_agent {
            tried_agent = true;
            return git2::Cred::ssh_key_from_agent(user.unwrap_or("git"));
        }
        if allowed.contains(git2::CredentialType::USER_PASS_PLAINTEXT) && !tried_token {
            tried_token = true;
            if let Some(t) = &token {
                return git2::Cred::userpass_plaintext(user.unwrap_or("x-access-token"), t);
            }
        }
        Err(git2::Error::from_str(
            "authentication failed; load a key into the SSH agent or set MLOPS_GIT_TOKEN for HTTPS",
        ))
    });
    let rejected = std::rc::Rc::new(std::cell::RefCell::new(None::<String>));
    let rej = rejected.clone();
    cb.push_update_reference(move |_refname, status| {
        if let Some(s) = status {
            *rej.borrow_mut() = Some(s.to_string());
        }
        Ok(())
    });
    let mut opts = git2::PushOptions::new();
    opts.remote_callbacks(cb);
    let spec = format!("refs/tags/{tag}:refs/tags/{tag}");
    r.push(&[spec.as_str()], Some(&mut opts))
        .map_err(|e| fail(e.message().to_string()))?;
    if let Some(s) = rejected.borrow().as_ref() {
        return Err(fail(format!("the remote refused it ({s})")));
    }
    Ok(())
}
