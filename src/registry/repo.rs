//! Reading and writing registry tags with git2 (never the `git` program).
//!
//! Reading lists `refs/tags/*` once, parses every name with the grammar of
//! [`super::tag`], and peels only the tags that match (and, for one model,
//! only that model's tags): one object read per registry tag.

use std::path::{Path, PathBuf};
use std::time::Duration;

use git2::{ErrorCode, ObjectType, Oid, Repository, Signature, Time};

use super::state::{self, TagRecord};
use super::tag::{Action, Semver, TagName, message_first_line};
use crate::error::{Error, Result, display_path};

/// Open the repository that contains `path`.
pub fn open(path: &Path) -> Result<Repository> {
    enable_fsync_gitdir();
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
/// References that cannot be read are skipped (see [`read_tags_checked`]
/// for the warnings naming them).
pub fn read_tags(repo: &Repository, model: Option<&str>) -> Result<Vec<TagRecord>> {
    read_tags_checked(repo, model).map(|(records, _)| records)
}

/// [`read_tags`], with one warning per reference the listing could not
/// read (libgit2 itself passes over an empty or garbled loose ref). A reference
/// whose name is a registry tag but whose tag object is missing is an
/// error: skipping it could revive a deregistered version.
pub fn read_tags_checked(
    repo: &Repository,
    model: Option<&str>,
) -> Result<(Vec<TagRecord>, Vec<String>)> {
    let mut out = Vec::new();
    let mut warnings = Vec::new();
    let refs = repo
        .references_glob("refs/tags/*")
        .map_err(|e| git_err("list the tags", &e))?;
    for r in refs {
        match r {
            Ok(r) => {
                if let Some(rec) = record_of(repo, &r, model)? {
                    out.push(rec);
                }
            }
            Err(e) => warnings.push(format!(
                "skipped a tag reference that cannot be read ({}); check `git show-ref --tags` and delete or repair it",
                e.message()
            )),
        }
    }
    Ok((out, warnings))
}

/// The record of one tag reference: `None` when it is not a registry event
/// (another name, another model, a lightweight tag).
fn record_of(
    repo: &Repository,
    r: &git2::Reference<'_>,
    model: Option<&str>,
) -> Result<Option<TagRecord>> {
    let Ok(full) = r.name() else { return Ok(None) };
    let name = &full["refs/tags/".len()..];
    let canary = name.starts_with(state::CANARY_PREFIX);
    let parsed = if canary {
        None
    } else {
        match TagName::parse(name) {
            Some(p) if model.is_none_or(|m| p.artifact == m) => Some(p),
            _ => return Ok(None),
        }
    };
    let Some(oid) = r.target() else {
        return Ok(None);
    };
    let object = match repo.find_object(oid, None) {
        Ok(o) => o,
        Err(e) => {
            return Err(Error::Registry(format!(
                "registry tag {name} points at object {oid}, which the repository does not have ({}); fetch the tags again (`git fetch --tags --force`) or delete the tag if it is junk",
                e.message()
            )));
        }
    };
    // Lightweight tags are not registry events.
    let Some(tag) = object.as_tag() else {
        return Ok(None);
    };
    let message = String::from_utf8_lossy(tag.message_bytes().unwrap_or_default()).into_owned();
    let Some(parsed) = parsed.or_else(|| canary_name(name, &message)) else {
        return Ok(None);
    };
    if model.is_some_and(|m| parsed.artifact != m) {
        return Ok(None);
    }
    let peeled = if tag.target_type() == Some(ObjectType::Commit) {
        Ok(tag.target_id())
    } else {
        tag.as_object().peel(ObjectType::Commit).map(|c| c.id())
    };
    let commit = match peeled {
        Ok(c) => c,
        Err(e) => {
            return Err(Error::Registry(format!(
                "registry tag {name} does not lead to a commit ({}); fetch the tags again (`git fetch --tags --force`) or delete the tag if it is junk",
                e.message()
            )));
        }
    };
    let (time, author) = match tag.tagger() {
        Some(s) => (
            // A tag dated in the future counts as written now, so one bad
            // clock cannot block every later write of the model.
            s.when().seconds().min(now()),
            format!(
                "{} <{}>",
                String::from_utf8_lossy(s.name_bytes()),
                String::from_utf8_lossy(s.email_bytes())
            ),
        ),
        None => (0, String::new()),
    };
    Ok(Some(TagRecord {
        name: name.to_string(),
        parsed,
        commit: commit.to_string(),
        time,
        author,
        deploy: state::DeployMeta::from_message(&message),
        message,
    }))
}

/// A canary tag `mlops/canary/ARTIFACT/STAGE/N` read as the assignment it
/// stands beside; the model and stage come from its metadata (names may
/// hold `/`), the counter from the name's last part.
fn canary_name(name: &str, message: &str) -> Option<TagName> {
    let meta = state::metadata_of(message)?;
    let model = meta.get("model")?.as_str()?;
    let stage = meta.get("stage")?.as_str()?;
    let counter = name.rsplit('/').next()?.parse().ok()?;
    if name != canary_tag(model, stage, counter) {
        return None;
    }
    Some(TagName {
        artifact: model.to_string(),
        action: Action::Assign(stage.to_string()),
        counter: Some(counter),
    })
}

/// The name of the canary tag of `model` in `stage` with counter `n`.
#[must_use]
pub fn canary_tag(model: &str, stage: &str, n: u64) -> String {
    format!("{}{model}/{stage}/{n}", state::CANARY_PREFIX)
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

/// Make libgit2 fsync what it writes under `.git` (loose objects, refs,
/// and their folders): a tag written by `mlops` survives a power loss like
/// the files it records. libgit2 reads the option when a repository is
/// opened, so [`open`] sets it first; git2 0.21 has no safe wrapper for it.
fn enable_fsync_gitdir() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        libgit2_sys::init();
        // SAFETY: `git_libgit2_opts` with GIT_OPT_ENABLE_FSYNC_GITDIR takes
        // one int argument and sets a global flag; it runs once, after
        // libgit2's initialisation, as git2's own `opts` setters do.
        #[allow(unsafe_code)]
        let rc = unsafe {
            libgit2_sys::git_libgit2_opts(
                libgit2_sys::GIT_OPT_ENABLE_FSYNC_GITDIR as std::ffi::c_int,
                1 as std::ffi::c_int,
            )
        };
        debug_assert_eq!(rc, 0, "libgit2 refused GIT_OPT_ENABLE_FSYNC_GITDIR");
    });
}

/// An exclusive lock over registry writes of this repository, held while
/// alive (released by the OS if the process dies).
#[derive(Debug)]
pub struct WriteLock {
    _file: std::fs::File,
    _path: PathBuf,
}

/// Take the registry write lock (`.git/mlops-registry.lock`), waiting for
/// another `mlops` run to finish: `on_wait` hears once that the lock is
/// held (a sentence naming the file), and after `timeout` the wait ends
/// with an error (exit 5) instead of blocking for ever.
pub fn lock(
    repo: &Repository,
    timeout: Duration,
    on_wait: &mut dyn FnMut(&str),
) -> Result<WriteLock> {
    let path = repo.path().join("mlops-registry.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| Error::io("open the lock file", &path, &e))?;
    let start = std::time::Instant::now();
    let mut told = false;
    loop {
        match file.try_lock() {
            Ok(()) => break,
            Err(std::fs::TryLockError::WouldBlock) => {}
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(Error::io("lock the lock file", &path, &e));
            }
        }
        if !told {
            told = true;
            on_wait(&format!(
                "waiting for lock on {} (another mlops run is writing to the registry; giving up after {} s)",
                display_path(&path),
                timeout.as_secs()
            ));
        }
        if start.elapsed() >= timeout {
            return Err(Error::Remote(format!(
                "the registry lock {} was still held after {} s; another mlops run is writing to the registry: let it finish (or remove the file if no mlops runs) and run again",
                display_path(&path),
                timeout.as_secs()
            )));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    clear_stale_ref_locks(&repo.path().join("refs").join("tags"));
    Ok(WriteLock {
        _file: file,
        _path: path,
    })
}

/// Remove the `.lock` files a killed run left beside registry tags
/// (`refs/tags/NAME@vX.Y.Z.lock`, `refs/tags/NAME#STAGE#N.lock`): libgit2
/// writes a ref through such a file, and a leftover one refuses the next
/// write of that tag for ever. Called with the registry lock held, so no
/// other mlops run is writing one; only names in the registry's grammar
/// (with `@` or `#`) are touched, never another tool's ref locks.
fn clear_stale_ref_locks(dir: &std::path::Path) {
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        if e.file_type().is_ok_and(|t| t.is_dir()) {
            clear_stale_ref_locks(&p);
        } else if name.ends_with(".lock") && (name.contains('@') || name.contains('#')) {
            let _ = std::fs::remove_file(&p);
        }
    }
}

/// Why `package` cannot choose a version in `repo`: a shallow clone has
/// not got the history or tags the next version depends on.
///
/// # Errors
/// The clone is shallow (exit 4).
pub fn check_full_history(repo: &Repository) -> Result<()> {
    if repo.is_shallow() {
        return Err(Error::Registry(
            "the repository is a shallow clone, so the registry tags and history the next version depends on may be missing; run `git fetch --unshallow --tags` (in CI, check out with full depth) and run again".into(),
        ));
    }
    Ok(())
}

/// A warning when `repo` holds no registry tag at all but has a remote:
/// probably a clone made without its tags.
#[must_use]
pub fn tagless_clone_warning(repo: &Repository, remote: &str) -> Option<String> {
    let has_remote = repo.remotes().is_ok_and(|r| !r.is_empty());
    let has_tags = repo.tag_names(None).is_ok_and(|t| !t.is_empty());
    (has_remote && !has_tags).then(|| {
        format!(
            "the repository has a remote but no tags at all; if the registry lives on remote \"{}\", run `git fetch --tags` first, or the version chosen may already exist there",
            shown_remote(remote)
        )
    })
}

/// `remote` as messages and reports show it: a URL loses its user,
/// password and query (a token there is never printed); a remote's name
/// stays as it is.
#[must_use]
pub fn shown_remote(remote: &str) -> String {
    crate::data::redact_url(remote)
}

/// `msg` with the remote's URL `url` (which git2 may quote) as
/// [`shown_remote`] shows it.
fn scrub(url: &str, msg: &str) -> String {
    if url.is_empty() {
        msg.to_string()
    } else {
        msg.replace(url, &shown_remote(url))
    }
}

/// Push `refs/tags/<tag>` to `remote`, with the SSH agent or `token` (HTTPS).
pub fn push_tag(repo: &Repository, remote: &str, tag: &str, token: Option<&str>) -> Result<()> {
    push_tags(repo, remote, &[tag.to_string()], token).map_err(|msg| {
        let remote = shown_remote(remote);
        Error::Remote(format!(
            "cannot push tag {tag} to remote \"{remote}\": {msg}; the tag stays in the local repository, push it later with `git push {remote} {tag}`"
        ))
    })
}

/// Whether `MLOPS_GIT_TOKEN` may be offered to `url`: only over `https`,
/// and only to a host in `allowed` (the hosts of the remotes configured in
/// `.git/config`, which a change to `mlops.toml` cannot add to).
#[must_use]
pub fn may_offer_token(url: &str, allowed: &[String]) -> bool {
    let Ok(u) = url::Url::parse(url) else {
        return false;
    };
    u.scheme() == "https"
        && u.host_str()
            .is_some_and(|h| allowed.iter().any(|a| a.eq_ignore_ascii_case(h)))
}

/// The hosts of the `https` remotes configured in the repository.
fn token_hosts(repo: &Repository) -> Vec<String> {
    let Ok(names) = repo.remotes() else {
        return Vec::new();
    };
    names
        .iter()
        .flatten()
        .flatten()
        .filter_map(|n| repo.find_remote(n).ok())
        .filter_map(|r| {
            let u = url::Url::parse(r.url().ok()?).ok()?;
            (u.scheme() == "https").then(|| u.host_str().map(str::to_string))?
        })
        .collect()
}

/// The credentials: the SSH agent, then `token` as an HTTPS password when
/// [`may_offer_token`] allows it for the URL asked about.
fn callbacks(token: Option<&str>, hosts: Vec<String>) -> git2::RemoteCallbacks<'static> {
    let mut cb = git2::RemoteCallbacks::new();
    let mut tried_agent = false;
    let mut tried_token = false;
    let token = token.map(str::to_string);
    cb.credentials(move |url, user, allowed| {
        if allowed.contains(git2::CredentialType::SSH_KEY) && !tried_agent {
            tried_agent = true;
            return git2::Cred::ssh_key_from_agent(user.unwrap_or("git"));
        }
        if allowed.contains(git2::CredentialType::USER_PASS_PLAINTEXT) && !tried_token {
            tried_token = true;
            if let Some(t) = token.as_ref().filter(|_| may_offer_token(url, &hosts)) {
                return git2::Cred::userpass_plaintext(user.unwrap_or("x-access-token"), t);
            }
        }
        Err(git2::Error::from_str(
            "authentication failed; load a key into the SSH agent, or set MLOPS_GIT_TOKEN for an https remote whose host is that of a remote configured in .git/config (the token is never sent over http or to other hosts)",
        ))
    });
    cb
}

fn find_remote<'r>(
    repo: &'r Repository,
    remote: &str,
) -> std::result::Result<git2::Remote<'r>, String> {
    repo.find_remote(remote)
        .or_else(|_| repo.remote_anonymous(remote))
        .map_err(|e| e.message().replace(remote, &shown_remote(remote)))
}

/// Push `tags` to `remote` in one push; the reason when it failed.
fn push_tags(
    repo: &Repository,
    remote: &str,
    tags: &[String],
    token: Option<&str>,
) -> std::result::Result<(), String> {
    let mut r = find_remote(repo, remote)?;
    let mut cb = callbacks(token, token_hosts(repo));
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
    let specs: Vec<String> = tags
        .iter()
        .map(|t| format!("refs/tags/{t}:refs/tags/{t}"))
        .collect();
    let url = r.url().unwrap_or_default().to_string();
    r.push(&specs, Some(&mut opts))
        .map_err(|e| scrub(&url, e.message()))?;
    if let Some(s) = rejected.borrow().as_ref() {
        return Err(format!("the remote refused it ({s})"));
    }
    Ok(())
}

/// The tag names `remote` holds.
fn remote_tags(
    repo: &Repository,
    remote: &str,
    token: Option<&str>,
) -> std::result::Result<std::collections::HashSet<String>, String> {
    let mut r = find_remote(repo, remote)?;
    let url = r.url().unwrap_or_default().to_string();
    r.connect_auth(
        git2::Direction::Fetch,
        Some(callbacks(token, token_hosts(repo))),
        None,
    )
    .map_err(|e| scrub(&url, e.message()))?;
    let heads = r.list().map_err(|e| scrub(&url, e.message()))?;
    Ok(heads
        .iter()
        .filter_map(|h| h.name().strip_prefix("refs/tags/"))
        .map(|n| n.trim_end_matches("^{}").to_string())
        .collect())
}

/// A push of registry tags that did not happen.
#[derive(Debug, Clone)]
pub struct PushFailure {
    /// The tags still only in the local repository.
    pub tags: Vec<String>,
    /// Why.
    pub reason: String,
    /// The command that pushes them.
    pub command: String,
}

/// Push every registry tag of `model` (GTO's and canary tags) that `remote`
/// lacks: the tags pushed, or what failed and the command that pushes them.
/// When the remote cannot even be listed, the failure names `fresh` (the
/// tags just written), or every tag of the model when none was.
pub fn push_model_tags(
    repo: &Repository,
    remote: &str,
    model: &str,
    fresh: &[String],
    token: Option<&str>,
) -> std::result::Result<Vec<String>, PushFailure> {
    let mut local: Vec<TagRecord> = read_tags(repo, Some(model)).unwrap_or_default();
    state::sort(&mut local);
    let names: Vec<String> = local.into_iter().map(|r| r.name).collect();
    let fail = |tags: Vec<String>, reason: String| {
        let quoted: Vec<String> = tags.iter().map(|t| format!("'refs/tags/{t}'")).collect();
        PushFailure {
            command: format!("git push {} {}", shown_remote(remote), quoted.join(" ")),
            tags,
            reason,
        }
    };
    let unknown = if fresh.is_empty() {
        names.clone()
    } else {
        fresh.to_vec()
    };
    let on_remote = remote_tags(repo, remote, token).map_err(|e| fail(unknown, e))?;
    let missing: Vec<String> = names
        .into_iter()
        .filter(|n| !on_remote.contains(n))
        .collect();
    if missing.is_empty() {
        return Ok(missing);
    }
    push_tags(repo, remote, &missing, token).map_err(|e| fail(missing.clone(), e))?;
    Ok(missing)
}

/// The clock, in Unix seconds.
#[must_use]
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0))
}

/// Wait until the clock is past `last` (the model's newest tag time), so that
/// tags of one model are at least one second apart and never in the future.
pub fn next_tag_time(last: i64) -> Result<i64> {
    let mut t = now();
    // A tag dated in the future counts as written now (see `read_tags`).
    let last = last.min(t);
    while t <= last {
        std::thread::sleep(std::time::Duration::from_millis(50));
        t = now();
    }
    Ok(t)
}

/// A tag written by [`write_event`].
#[derive(Debug, Clone)]
pub struct Written {
    /// The tag name.
    pub tag: String,
    /// The commit it points at.
    pub commit: String,
    /// The version concerned.
    pub version: Option<String>,
}

/// Write a stage or lifecycle event of `model` with GTO's constraints:
/// an (un)assignment of `stage` goes on the commit of the active registered
/// `version`; a deregistration on the version's commit; a deprecation on the
/// commit of the model's newest event. The counter is one more than the
/// largest among all of the model's tags, the tagger time at least one
/// second after the model's newest tag. Registrations are written by
/// `mlops package`, which builds on this module; `@created` is never written.
pub fn write_event(
    repo: &Repository,
    model: &str,
    action: &Action,
    version: Option<&str>,
) -> Result<Written> {
    write_event_with(repo, model, action, version, &EventNote::default())
}

/// What [`write_event_with`] adds to GTO's message.
#[derive(Debug, Clone, Default)]
pub struct EventNote {
    /// Put before GTO's first line, like `rollback: ` (GTO reads only tag names).
    pub prefix: String,
    /// The `mlops` object written after a blank line, as `{"mlops": …}`.
    pub meta: Option<serde_json::Value>,
    /// Record an assignment as a canary with this share instead: a tag
    /// outside GTO's grammar (`mlops/canary/…`), which GTO ignores.
    pub canary: Option<u8>,
}

/// [`write_event`] with a message prefix and an `mlops` metadata line.
pub fn write_event_with(
    repo: &Repository,
    model: &str,
    action: &Action,
    version: Option<&str>,
    note: &EventNote,
) -> Result<Written> {
    // Another run writes tags for a moment only: wait for it, but not for ever.
    let _lock = lock(repo, Duration::from_secs(120), &mut |_| {})?;
    let mut records = read_tags(repo, Some(model))?;
    state::sort(&mut records);
    let m = state::resolve(&records).into_iter().next().ok_or_else(|| {
        Error::Registry(format!(
            "there is no model {model} in the registry; register a version with `mlops package` first"
        ))
    })?;
    let find_active = |v: &str| {
        let ver = m.version(v).ok_or_else(|| {
            Error::Registry(format!(
                "{model} has no version {v}; run `mlops models` to see its versions"
            ))
        })?;
        if !ver.active {
            return Err(Error::Registry(format!(
                "{model}@{v} was deregistered; choose an active version"
            )));
        }
        Ok(ver)
    };
    let (commit, ver) = match action {
        Action::Assign(_) | Action::Unassign(_) => {
            let v = version.ok_or_else(|| {
                Error::Registry("a stage event needs the version it concerns".into())
            })?;
            let ver = find_active(v)?;
            if let Action::Unassign(stage) = action {
                let held = records
                    .iter()
                    .rev()
                    .find(|r| {
                        r.commit == ver.commit
                            && !r.is_canary()
                            && r.parsed.stage() == Some(stage.as_str())
                    })
                    .is_some_and(|r| matches!(r.parsed.action, Action::Assign(_)));
                if !held {
                    return Err(Error::Registry(format!(
                        "{model}@{v} is not in stage {stage}; nothing to unassign"
                    )));
                }
            }
            (ver.commit.clone(), Some(ver.semver().clone()))
        }
        Action::Deregister(v) => {
            let ver = find_active(&v.to_string())?;
            (ver.commit.clone(), None)
        }
        Action::Deprecate => {
            let newest = records.last().map(|r| r.commit.clone()).unwrap_or_default();
            (newest, None)
        }
        Action::Register(_) | Action::Create => {
            return Err(Error::Registry(
                "registrations are written by `mlops package`, and @created never".into(),
            ));
        }
    };
    let (tag, msg) = tag_and_message(model, action, ver.as_ref(), m.next_counter()?, note);
    let t = next_tag_time(m.last_time)?;
    let sig = tagger(repo, t)?;
    let oid = Oid::from_str(&commit).map_err(|e| git_err("read the commit", &e))?;
    create_tag(repo, &tag, oid, &sig, &msg)?;
    Ok(Written {
        tag,
        commit,
        version: ver.map(|v| v.to_string()).or_else(|| match action {
            Action::Deregister(v) => Some(v.to_string()),
            _ => None,
        }),
    })
}

/// The tag name and annotated message of an event.
fn tag_and_message(
    model: &str,
    action: &Action,
    ver: Option<&Semver>,
    n: u64,
    note: &EventNote,
) -> (String, String) {
    let v = ver.map(ToString::to_string).unwrap_or_default();
    if let (Some(p), Action::Assign(stage)) = (note.canary, action) {
        let mut meta = note.meta.clone().unwrap_or_else(|| serde_json::json!({}));
        if let Some(o) = meta.as_object_mut() {
            o.insert("event".into(), "canary".into());
            o.insert("model".into(), model.into());
            o.insert("stage".into(), stage.as_str().into());
            o.insert("version".into(), v.as_str().into());
            o.insert("canary_percent".into(), p.into());
        }
        let msg = format!(
            "Canary of artifact {model} version {v} beside stage {stage} at {p} % (not an assignment)\n\n{}\n",
            serde_json::json!({ "mlops": meta })
        );
        return (canary_tag(model, stage, n), msg);
    }
    let tag = TagName {
        artifact: model.to_string(),
        action: action.clone(),
        counter: Some(n),
    }
    .to_string();
    let mut msg = format!(
        "{}{}\n",
        note.prefix,
        message_first_line(model, action, ver)
    );
    if let Some(meta) = &note.meta {
        msg.push_str(&format!("\n{}\n", serde_json::json!({ "mlops": meta })));
    }
    (tag, msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A kill inside libgit2's tag write leaves `refs/tags/NAME.lock`;
    /// the next run, holding the registry lock, removes registry ones only.
    #[test]
    fn stale_registry_ref_locks_are_cleared_and_others_kept() {
        let dir = tempfile::tempdir().unwrap();
        let tags = dir.path().join("refs/tags");
        std::fs::create_dir_all(tags.join("team")).unwrap();
        for f in [
            "churn@v1.0.0.lock",
            "team/churn#prod#3.lock",
            "v1.0.lock",
            "churn@v1.0.0",
        ] {
            std::fs::write(tags.join(f), "x").unwrap();
        }
        clear_stale_ref_locks(&tags);
        assert!(!tags.join("churn@v1.0.0.lock").exists());
        assert!(!tags.join("team/churn#prod#3.lock").exists());
        assert!(tags.join("v1.0.lock").exists(), "not a registry tag");
        assert!(tags.join("churn@v1.0.0").exists(), "a tag is never touched");
    }

    #[test]
    fn tag_times_wait_for_the_next_second_and_never_run_ahead() {
        let last = now();
        let t = next_tag_time(last).unwrap();
        assert!(t > last && t <= now());
        assert!(next_tag_time(i64::MIN).unwrap() <= now());
        // A tag dated in the future counts as now: no error, no long wait.
        let t = next_tag_time(now() + 100).unwrap();
        assert!(t <= now());
    }

    /// Security review M11.
    #[test]
    fn the_git_token_goes_only_over_https_to_an_allowed_host() {
        let allowed = vec!["github.com".to_string(), "git.example.org".to_string()];
        assert!(may_offer_token("https://github.com/o/r.git", &allowed));
        assert!(may_offer_token("https://GitHub.com/o/r.git", &allowed));
        assert!(may_offer_token("https://git.example.org:8443/r", &allowed));
        assert!(!may_offer_token("http://github.com/o/r.git", &allowed));
        assert!(!may_offer_token("http://x/r.git", &allowed));
        assert!(!may_offer_token("https://other-host/r.git", &allowed));
        assert!(!may_offer_token("https://github.com.evil.test/r", &allowed));
        assert!(!may_offer_token("ssh://git@github.com/o/r", &allowed));
        assert!(!may_offer_token("git@github.com:o/r.git", &allowed));
        assert!(!may_offer_token("not a url", &allowed));
        assert!(!may_offer_token("https://github.com/o/r.git", &[]));
    }

    /// Security review M11.
    #[test]
    fn the_allowed_hosts_are_those_of_the_configured_https_remotes() {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init(dir.path()).unwrap();
        repo.remote("origin", "https://github.com/o/r.git").unwrap();
        repo.remote("plain", "http://insecure.test/r.git").unwrap();
        repo.remote("ssh", "git@gitlab.com:o/r.git").unwrap();
        assert_eq!(token_hosts(&repo), vec!["github.com".to_string()]);
    }
}
