//! The state of each model, resolved from its tag records exactly as GTO
//! does (`registry.md`, "Meaning"): pure, no git.
//!
//! Events are ordered by tagger time in whole seconds. GTO leaves the order
//! of events within one second arbitrary; here ties are broken by the tag's
//! counter (a missing counter counts as 0), then by the tag name, so the
//! result is deterministic and follows the order `mlops` and GTO wrote them.
//!
//! Canaries are resolved beside the stages: a canary record (an
//! `mlops/canary/…` tag, or a 0.1.0 assignment with `"strategy":"canary"`)
//! never assigns a stage; a promote or rollback assignment ends it.

use std::collections::BTreeMap;

use serde::Serialize;

use super::tag::{Action, Semver, TagName};

/// One registry tag as read from git.
#[derive(Debug, Clone)]
pub struct TagRecord {
    /// The tag name (without `refs/tags/`).
    pub name: String,
    /// Its parsed form.
    pub parsed: TagName,
    /// The commit it points at (hex).
    pub commit: String,
    /// Tagger time, Unix seconds.
    pub time: i64,
    /// Tagger, `Name <email>`.
    pub author: String,
    /// The whole annotated message.
    pub message: String,
    /// What `mlops deploy` recorded in an assignment or canary tag.
    pub deploy: Option<DeployMeta>,
}

/// The `strategy` (and canary share) that `mlops deploy` records in the
/// metadata of its tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeployMeta {
    /// `replace`, `canary`, `promote` or `rollback`.
    pub strategy: String,
    /// The canary's share of traffic, percent.
    pub percent: Option<u8>,
}

impl DeployMeta {
    /// The deploy metadata of a tag message, when it has any.
    #[must_use]
    pub fn from_message(message: &str) -> Option<DeployMeta> {
        let meta = metadata_of(message)?;
        let strategy = meta.get("strategy")?.as_str()?.to_string();
        let percent = meta
            .get("canary_percent")
            .and_then(serde_json::Value::as_u64)
            .and_then(|p| u8::try_from(p).ok());
        Some(DeployMeta { strategy, percent })
    }
}

/// The `mlops` object of a tag message: the first line that is a JSON
/// object with an `mlops` key.
#[must_use]
pub fn metadata_of(message: &str) -> Option<serde_json::Value> {
    message.lines().find_map(|l| {
        let l = l.trim();
        if !l.starts_with('{') {
            return None;
        }
        let v: serde_json::Value = serde_json::from_str(l).ok()?;
        v.get("mlops").cloned()
    })
}

/// Where canary tags live: `mlops/canary/ARTIFACT/STAGE/N`, a name outside
/// GTO's grammar (no `@`, no `#`), so GTO ignores it.
pub const CANARY_PREFIX: &str = "mlops/canary/";

impl TagRecord {
    /// Whether the record starts a canary: an `mlops/canary/…` tag, or a
    /// 0.1.0 assignment whose metadata says `"strategy":"canary"`.
    #[must_use]
    pub fn is_canary(&self) -> bool {
        self.name.starts_with(CANARY_PREFIX)
            || self.deploy.as_ref().is_some_and(|d| d.strategy == "canary")
    }

    /// Whether GTO reads the record (its name is in GTO's grammar).
    #[must_use]
    pub fn is_gto(&self) -> bool {
        !self.name.starts_with(CANARY_PREFIX)
    }

    /// The mlops metadata object of the message, when present.
    #[must_use]
    pub fn metadata(&self) -> Option<serde_json::Value> {
        metadata_of(&self.message)
    }

    fn key(&self) -> (i64, u64, &str) {
        (self.time, self.parsed.counter.unwrap_or(0), &self.name)
    }
}

/// One registered version of a model.
#[derive(Debug, Clone, Serialize)]
pub struct Version {
    /// `vX.Y.Z`.
    pub version: String,
    /// The commit it is registered on.
    pub commit: String,
    /// When it was registered (tagger time).
    pub created_at: i64,
    /// Who registered it.
    pub author: String,
    /// The registration tag.
    pub tag: String,
    /// Whether its newest register/deregister event is a registration.
    pub active: bool,
    /// mlops metadata of the registration tag, when present.
    pub metadata: Option<serde_json::Value>,
    #[serde(skip)]
    semver: Semver,
}

impl Version {
    /// The parsed version.
    #[must_use]
    pub fn semver(&self) -> &Semver {
        &self.semver
    }
}

/// A model's resolved state.
#[derive(Debug, Clone)]
pub struct Model {
    /// The artifact name as in the tags.
    pub name: String,
    /// Versions by registration order.
    pub versions: Vec<Version>,
    /// The highest active version.
    pub latest: Option<String>,
    /// The current version of each stage.
    pub stages: BTreeMap<String, String>,
    /// Deprecated and not revived since.
    pub deprecated: bool,
    /// The largest counter among the model's tags (0 when none).
    pub max_counter: u64,
    /// The newest tagger time among the model's tags.
    pub last_time: i64,
    /// The canary running beside each stage's version, by stage.
    pub canaries: BTreeMap<String, Canary>,
}

/// A canary recorded by `mlops deploy --canary`: a challenger served beside
/// the stage's version, which stays the stage's version until a promote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Canary {
    /// The challenger's version.
    pub version: String,
    /// Its share of traffic, percent.
    pub percent: u8,
    /// The tag that started it.
    pub tag: String,
    /// When it started (tagger time).
    pub since: i64,
}

impl Model {
    /// The version registered on `commit`, active or not.
    #[must_use]
    pub fn version_on(&self, commit: &str) -> Option<&Version> {
        self.versions.iter().find(|v| v.commit == commit)
    }

    /// A version by name.
    #[must_use]
    pub fn version(&self, name: &str) -> Option<&Version> {
        let name = name.trim();
        let bare = name.strip_prefix('v').unwrap_or(name);
        self.versions
            .iter()
            .find(|v| v.version == name || v.version.strip_prefix('v') == Some(bare))
    }

    /// `; did you mean vX.Y.Z?` for a near miss of an active version
    /// (compared without the `v`), or nothing.
    #[must_use]
    pub fn did_you_mean(&self, typed: &str) -> String {
        let typed = typed.trim();
        let bare = typed.strip_prefix('v').unwrap_or(typed);
        let known: Vec<&str> = self
            .versions
            .iter()
            .filter(|v| v.active)
            .map(|v| v.version.strip_prefix('v').unwrap_or(&v.version))
            .collect();
        crate::project::nearest(bare, &known)
            .map_or_else(String::new, |v| format!("; did you mean v{v}?"))
    }

    /// The counter of the model's next tag: one more than the largest.
    ///
    /// # Errors
    /// A registry error when a tag already carries counter `u64::MAX`.
    pub fn next_counter(&self) -> crate::error::Result<u64> {
        self.max_counter.checked_add(1).ok_or_else(|| {
            crate::error::Error::Registry(format!(
                "a registry tag of {} carries the counter {}, so no later tag can be numbered; delete that tag (`git tag -d` and `git push --delete`) and run again",
                self.name,
                self.max_counter
            ))
        })
    }

    /// The highest version ever registered (active or not).
    #[must_use]
    pub fn highest(&self) -> Option<&Semver> {
        self.versions
            .iter()
            .map(Version::semver)
            .max_by(|a, b| a.precedence(b))
    }
}

/// The kind of an event, as printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EventKind {
    /// A version was registered.
    Register,
    /// A version was deregistered.
    Deregister,
    /// A stage was assigned.
    Assign,
    /// A stage was unassigned.
    Unassign,
    /// The model was deprecated.
    Deprecate,
    /// `mlops deploy` replaced the stage's version (an assignment).
    Deploy,
    /// `mlops deploy --canary` started a challenger beside the stage's version.
    Canary,
    /// `mlops deploy --promote` made the challenger the stage's version.
    Promote,
    /// `mlops rollback` put back an earlier version (an assignment).
    Rollback,
}

impl EventKind {
    /// Whether the event assigns the stage (as GTO reads it).
    #[must_use]
    pub fn is_assignment(self) -> bool {
        matches!(
            self,
            EventKind::Assign | EventKind::Deploy | EventKind::Promote | EventKind::Rollback
        )
    }

    /// The name printed and written in JSON.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            EventKind::Register => "register",
            EventKind::Deregister => "deregister",
            EventKind::Assign => "assign",
            EventKind::Unassign => "unassign",
            EventKind::Deprecate => "deprecate",
            EventKind::Deploy => "deploy",
            EventKind::Canary => "canary",
            EventKind::Promote => "promote",
            EventKind::Rollback => "rollback",
        }
    }

    /// The kind of an assignment record, from what `mlops deploy` wrote in it.
    fn of_assignment(r: &TagRecord) -> EventKind {
        if r.is_canary() {
            return EventKind::Canary;
        }
        match r.deploy.as_ref().map(|d| d.strategy.as_str()) {
            Some("replace") => EventKind::Deploy,
            Some("promote") => EventKind::Promote,
            Some("rollback") => EventKind::Rollback,
            _ => EventKind::Assign,
        }
    }
}

/// One event of the history.
#[derive(Debug, Clone)]
pub struct Event<'a> {
    /// What happened.
    pub kind: EventKind,
    /// The model.
    pub model: &'a str,
    /// The version concerned (none for a stage on an unregistered commit).
    pub version: Option<String>,
    /// The stage of an (un)assignment.
    pub stage: Option<&'a str>,
    /// The canary's share of traffic, for a canary.
    pub percent: Option<u8>,
    /// The tag record.
    pub record: &'a TagRecord,
}

/// Sort records into event order (time, counter, name).
pub fn sort(records: &mut [TagRecord]) {
    records.sort_by(|a, b| {
        a.key()
            .cmp(&b.key())
            .then_with(|| a.parsed.artifact.cmp(&b.parsed.artifact))
    });
}

fn is_event(r: &TagRecord) -> bool {
    !matches!(r.parsed.action, Action::Create)
}

/// Resolve every model from records, which must be sorted with [`sort`].
#[must_use]
pub fn resolve(records: &[TagRecord]) -> Vec<Model> {
    let mut by_model: BTreeMap<&str, Vec<&TagRecord>> = BTreeMap::new();
    for r in records {
        by_model.entry(&r.parsed.artifact).or_default().push(r);
    }
    by_model
        .into_iter()
        .map(|(name, rs)| resolve_one(name, &rs))
        .collect()
}

fn resolve_one(name: &str, rs: &[&TagRecord]) -> Model {
    let mut versions: Vec<Version> = Vec::new();
    // commit -> index into versions
    let mut by_commit: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    let mut max_counter = 0;
    let mut last_time = i64::MIN;
    // Indices into rs: the newest event other than a deprecation, and the
    // newest deprecation. GTO revives a deprecated model with any newer
    // event of its versions (gto/base.py, `Artifact.is_active`).
    let mut last_activity = i64::MIN;
    let mut last_deprecate = i64::MIN;
    // (stage, version index) -> (event index, is assign)
    let mut pairs: BTreeMap<(&str, usize), (usize, bool)> = BTreeMap::new();
    for (i, r) in rs.iter().enumerate() {
        max_counter = max_counter.max(r.parsed.counter.unwrap_or(0));
        last_time = last_time.max(r.time);
        let idx = i64::try_from(i).unwrap_or(i64::MAX);
        match &r.parsed.action {
            Action::Register(v) => {
                last_activity = idx;
                match by_commit.get(r.commit.as_str()) {
                    Some(&x) => versions[x].active = true,
                    None => {
                        by_commit.insert(&r.commit, versions.len());
                        versions.push(Version {
                            version: v.to_string(),
                            commit: r.commit.clone(),
                            created_at: r.time,
                            author: r.author.clone(),
                            tag: r.name.clone(),
                            active: true,
                            metadata: r.metadata(),
                            semver: v.clone(),
                        });
                    }
                }
            }
            Action::Deregister(v) => {
                last_activity = idx;
                let vs = v.to_string();
                // Keyed by commit; a deregistration on another commit
                // (hand-made) falls back to the version name.
                let found = by_commit
                    .get(r.commit.as_str())
                    .copied()
                    .or_else(|| versions.iter().position(|x| x.version == vs));
                if let Some(x) = found {
                    versions[x].active = false;
                }
            }
            Action::Assign(s) | Action::Unassign(s) => {
                let assign = matches!(r.parsed.action, Action::Assign(_));
                if r.is_gto() {
                    last_activity = idx;
                }
                // A canary is not an assignment (a 0.1.0 one is read as a canary).
                if r.is_canary() {
                    continue;
                }
                if let Some(&vi) = by_commit.get(r.commit.as_str()) {
                    pairs.insert((s.as_str(), vi), (i, assign));
                }
            }
            Action::Deprecate => last_deprecate = idx,
            Action::Create => {}
        }
    }
    let mut stages: BTreeMap<String, (usize, String)> = BTreeMap::new();
    for ((stage, vi), (ei, assign)) in pairs {
        if !assign || !versions[vi].active {
            continue;
        }
        let newer = stages.get(stage).is_none_or(|(e, _)| ei > *e);
        if newer {
            stages.insert(stage.to_string(), (ei, versions[vi].version.clone()));
        }
    }
    let latest = versions
        .iter()
        .filter(|v| v.active)
        .max_by(|a, b| a.semver.precedence(&b.semver))
        .map(|v| v.version.clone());
    let canaries = canaries(rs, &versions);
    Model {
        name: name.to_string(),
        canaries,
        versions,
        latest,
        stages: stages.into_iter().map(|(k, (_, v))| (k, v)).collect(),
        deprecated: last_deprecate > last_activity,
        max_counter,
        last_time: if last_time == i64::MIN { 0 } else { last_time },
    }
}

/// The canary of each stage: started by a canary record, ended by a
/// promote or a rollback (a replacement keeps the challenger running).
fn canaries(rs: &[&TagRecord], versions: &[Version]) -> BTreeMap<String, Canary> {
    let mut out = BTreeMap::new();
    for r in rs {
        let Action::Assign(stage) = &r.parsed.action else {
            continue;
        };
        if r.is_canary() {
            if let Some(v) = versions.iter().find(|v| v.commit == r.commit) {
                let percent = r.deploy.as_ref().and_then(|d| d.percent).unwrap_or(0);
                out.insert(
                    stage.clone(),
                    Canary {
                        version: v.version.clone(),
                        percent,
                        tag: r.name.clone(),
                        since: r.time,
                    },
                );
            }
        } else if matches!(
            r.deploy.as_ref().map(|d| d.strategy.as_str()),
            Some("promote" | "rollback")
        ) {
            out.remove(stage);
        }
    }
    out
}

/// The events of `records` (sorted with [`sort`]) in order, optionally of
/// one model.
#[must_use]
pub fn history<'a>(records: &'a [TagRecord], model: Option<&str>) -> Vec<Event<'a>> {
    // The version on each (model, commit), to name the version of stage events.
    let mut on_commit: BTreeMap<(&str, &str), String> = BTreeMap::new();
    for r in records {
        if let Action::Register(v) = &r.parsed.action {
            on_commit
                .entry((&r.parsed.artifact, &r.commit))
                .or_insert_with(|| v.to_string());
        }
    }
    records
        .iter()
        .filter(|r| is_event(r) && model.is_none_or(|m| r.parsed.artifact == m))
        .map(|r| {
            let m = r.parsed.artifact.as_str();
            let (kind, version, stage) = match &r.parsed.action {
                Action::Register(v) => (EventKind::Register, Some(v.to_string()), None),
                Action::Deregister(v) => (EventKind::Deregister, Some(v.to_string()), None),
                Action::Assign(s) => (
                    EventKind::of_assignment(r),
                    on_commit.get(&(m, r.commit.as_str())).cloned(),
                    Some(s.as_str()),
                ),
                Action::Unassign(s) => (
                    EventKind::Unassign,
                    on_commit.get(&(m, r.commit.as_str())).cloned(),
                    Some(s.as_str()),
                ),
                Action::Deprecate | Action::Create => (
                    EventKind::Deprecate,
                    on_commit.get(&(m, r.commit.as_str())).cloned(),
                    None,
                ),
            };
            let percent = if kind == EventKind::Canary {
                r.deploy.as_ref().and_then(|d| d.percent)
            } else {
                None
            };
            Event {
                kind,
                model: m,
                version,
                stage,
                percent,
                record: r,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records from `(tag, commit, time)`.
    fn recs(spec: &[(&str, &str, i64)]) -> Vec<TagRecord> {
        let mut v: Vec<TagRecord> = spec
            .iter()
            .map(|(t, c, time)| TagRecord {
                name: (*t).to_string(),
                parsed: TagName::parse(t).unwrap(),
                commit: (*c).to_string(),
                time: *time,
                author: "T <t@x>".into(),
                message: String::new(),
                deploy: None,
            })
            .collect();
        sort(&mut v);
        v
    }

    fn one(spec: &[(&str, &str, i64)]) -> Model {
        let r = recs(spec);
        let mut m = resolve(&r);
        assert_eq!(m.len(), 1);
        m.remove(0)
    }

    fn stage(m: &Model, s: &str) -> Option<String> {
        m.stages.get(s).cloned()
    }

    #[test]
    fn latest_is_highest_active_semver_not_newest() {
        let m = one(&[
            ("m@v1.0.0", "a", 1),
            ("m@v0.9.0#1", "b", 2),
            ("m@v1.0.0-rc.1#2", "c", 3),
        ]);
        assert_eq!(m.latest.as_deref(), Some("v1.0.0"));
        let m = one(&[("m@v1.0.0", "a", 1), ("m@v1.0.0!#1", "a", 2)]);
        assert_eq!(m.latest, None);
        assert!(!m.versions[0].active);
    }

    #[test]
    fn stages_follow_newest_assignment_and_fall_back() {
        let base = [
            ("m@v1.0.0#1", "a", 1),
            ("m@v2.0.0#2", "b", 2),
            ("m#prod#3", "a", 3),
            ("m#prod#4", "b", 4),
        ];
        let m = one(&base);
        assert_eq!(stage(&m, "prod").as_deref(), Some("v2.0.0"));
        // Unassigning the newer holder brings the older one back.
        let mut s = base.to_vec();
        s.push(("m#prod!#5", "b", 5));
        assert_eq!(stage(&one(&s), "prod").as_deref(), Some("v1.0.0"));
        // Deregistering the newer version voids its stages.
        let mut s = base.to_vec();
        s.push(("m@v2.0.0!#5", "b", 5));
        let m = one(&s);
        assert_eq!(stage(&m, "prod").as_deref(), Some("v1.0.0"));
        assert_eq!(m.latest.as_deref(), Some("v1.0.0"));
        // Rollback: a new assignment of the older version.
        let mut s = base.to_vec();
        s.push(("m#prod#5", "a", 5));
        assert_eq!(stage(&one(&s), "prod").as_deref(), Some("v1.0.0"));
        // A stage on a commit without a version is ignored.
        let mut s = base.to_vec();
        s.push(("m#dev#5", "zzz", 5));
        assert_eq!(stage(&one(&s), "dev"), None);
    }

    #[test]
    fn same_second_ties_break_by_counter() {
        let m = one(&[
            ("m@v1.0.0#1", "a", 1),
            ("m@v2.0.0#2", "b", 1),
            ("m#prod#4", "a", 1),
            ("m#prod#3", "b", 1),
        ]);
        assert_eq!(stage(&m, "prod").as_deref(), Some("v1.0.0"));
        // GTO's default tags have no counter: they count as 0.
        let m = one(&[("m@v1.0.0", "a", 5), ("m#prod#1", "a", 5)]);
        assert_eq!(stage(&m, "prod").as_deref(), Some("v1.0.0"));
        assert_eq!(m.max_counter, 1);
    }

    #[test]
    fn deprecation_and_revival() {
        let base = [("m@v1.0.0#1", "a", 1), ("m@deprecated#2", "a", 2)];
        assert!(one(&base).deprecated);
        let mut s = base.to_vec();
        s.push(("m@v1.1.0#3", "b", 3));
        assert!(!one(&s).deprecated);
        let mut s = base.to_vec();
        s.push(("m#prod#3", "a", 3));
        assert!(!one(&s).deprecated);
        // As in GTO, any newer event of a version revives the model.
        let mut s = base.to_vec();
        s.push(("m@v1.0.0!#3", "a", 3));
        assert!(!one(&s).deprecated);
        // A deprecation in the same second as the registration but with a
        // higher counter wins.
        assert!(one(&[("m@v1.0.0#1", "a", 1), ("m@deprecated#2", "a", 1)]).deprecated);
    }

    #[test]
    fn history_in_order_with_versions_for_stages() {
        let r = recs(&[
            ("n@v0.0.1", "x", 1),
            ("m#prod#2", "a", 3),
            ("m@v1.0.0#1", "a", 2),
            ("m@created", "a", 2),
        ]);
        let h = history(&r, None);
        let kinds: Vec<_> = h.iter().map(|e| (e.kind, e.model)).collect();
        assert_eq!(
            kinds,
            [
                (EventKind::Register, "n"),
                (EventKind::Register, "m"),
                (EventKind::Assign, "m")
            ]
        );
        assert_eq!(h[2].version.as_deref(), Some("v1.0.0"));
        assert_eq!(history(&r, Some("n")).len(), 1);
    }

    /// `recs`, with deploy metadata `(strategy, percent)` on some tags.
    fn with_deploy(
        spec: &[(&str, &str, i64)],
        meta: &[(&str, &str, Option<u8>)],
    ) -> Vec<TagRecord> {
        let mut r = recs(spec);
        for rec in &mut r {
            if let Some((_, s, p)) = meta.iter().find(|(t, _, _)| *t == rec.name) {
                rec.deploy = Some(DeployMeta {
                    strategy: (*s).to_string(),
                    percent: *p,
                });
            }
        }
        r
    }

    #[test]
    fn a_canary_is_beside_the_stage_until_a_promote_or_rollback() {
        let spec = [
            ("m@v1.0.0#1", "a", 1),
            ("m@v1.1.0#2", "b", 2),
            ("m#prod#3", "a", 3),
            // A 0.1.0 canary: an assignment with strategy canary.
            ("m#prod#4", "b", 4),
        ];
        let meta = [
            ("m#prod#3", "replace", None),
            ("m#prod#4", "canary", Some(20)),
        ];
        let r = with_deploy(&spec, &meta);
        let m = &resolve(&r)[0];
        assert_eq!(stage(m, "prod").as_deref(), Some("v1.0.0"));
        let c = &m.canaries["prod"];
        assert_eq!((c.version.as_str(), c.percent), ("v1.1.0", 20));
        let kinds: Vec<_> = history(&r, None)
            .iter()
            .map(|e| (e.kind, e.percent))
            .collect();
        assert_eq!(
            kinds[2..],
            [(EventKind::Deploy, None), (EventKind::Canary, Some(20))]
        );
        // A replacement keeps the challenger; a promote ends the canary.
        let mut s = spec.to_vec();
        s.push(("m#prod#5", "a", 5));
        let mut mt = meta.to_vec();
        mt.push(("m#prod#5", "replace", None));
        assert!(
            resolve(&with_deploy(&s, &mt))[0]
                .canaries
                .contains_key("prod")
        );
        s.push(("m#prod#6", "b", 6));
        mt.push(("m#prod#6", "promote", None));
        let r = with_deploy(&s, &mt);
        let m = &resolve(&r)[0];
        assert!(m.canaries.is_empty());
        assert_eq!(stage(m, "prod").as_deref(), Some("v1.1.0"));
        assert_eq!(history(&r, None)[5].kind, EventKind::Promote);
    }

    #[test]
    fn metadata_is_read_from_the_message() {
        let mut r = recs(&[("m@v1.0.0", "a", 1)]);
        r[0].message =
            "Registering artifact m version v1.0.0\n\n{\"mlops\":{\"bundle_sha256\":\"ab\"}}\n"
                .into();
        assert_eq!(r[0].metadata().unwrap()["bundle_sha256"], "ab");
    }
}
