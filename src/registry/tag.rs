//! Tag names and messages in GTO's grammar (`registry.md`): pure parsing and
//! formatting, no git.
//!
//! ```text
//! name     = [a-zA-Z0-9]([a-zA-Z0-9-/_]*[a-zA-Z0-9])?
//! dirname  = [a-zA-Z0-9-_./]+
//! artifact = (dirname=)?name
//! tag      = ^artifact( (#stage | @vSEMVER) (!)? | @deprecated | @created )(#counter)?$
//! ```

use std::cmp::Ordering;
use std::fmt;

/// A semantic version (semver.org 2.0), written `vX.Y.Z[-pre][+build]` in tags.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Semver {
    /// Major.
    pub major: u64,
    /// Minor.
    pub minor: u64,
    /// Patch.
    pub patch: u64,
    /// Pre-release identifiers (dot-separated), empty for a release.
    pub pre: String,
    /// Build metadata, ignored when comparing.
    pub build: String,
}

/// Which part of a version `--bump` increments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bump {
    /// `X.Y.Z+1`
    Patch,
    /// `X.Y+1.0`
    Minor,
    /// `X+1.0.0`
    Major,
}

fn numeric(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || (s.len() > 1 && s.starts_with('0'))
    {
        return None;
    }
    s.parse().ok()
}

fn ident_ok(s: &str, pre: bool) -> bool {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return false;
    }
    // A numeric pre-release identifier has no leading zero.
    !(pre && s.bytes().all(|b| b.is_ascii_digit()) && s.len() > 1 && s.starts_with('0'))
}

impl Semver {
    /// Parse `X.Y.Z[-pre][+build]` (without the `v`).
    #[must_use]
    pub fn parse(s: &str) -> Option<Semver> {
        let (rest, build) = match s.split_once('+') {
            Some((r, b)) => (r, b),
            None => (s, ""),
        };
        if s.contains('+') && !build.split('.').all(|i| ident_ok(i, false)) {
            return None;
        }
        let (core, pre) = match rest.split_once('-') {
            Some((c, p)) => (c, p),
            None => (rest, ""),
        };
        if rest.contains('-') && !pre.split('.').all(|i| ident_ok(i, true)) {
            return None;
        }
        let mut it = core.split('.');
        let major = numeric(it.next()?)?;
        let minor = numeric(it.next()?)?;
        let patch = numeric(it.next()?)?;
        if it.next().is_some() {
            return None;
        }
        Some(Semver {
            major,
            minor,
            patch,
            pre: pre.to_string(),
            build: build.to_string(),
        })
    }

    /// Parse a tag version `vX.Y.Z...`.
    #[must_use]
    pub fn parse_v(s: &str) -> Option<Semver> {
        s.strip_prefix('v').and_then(Semver::parse)
    }

    /// Parse a version a user typed: `vX.Y.Z` or `X.Y.Z` (the `v` is optional).
    #[must_use]
    pub fn parse_user(s: &str) -> Option<Semver> {
        let s = s.trim();
        Semver::parse(s.strip_prefix('v').unwrap_or(s))
    }

    /// The next version; pre-release and build parts are dropped. `None`
    /// when the bumped part is already `u64::MAX`.
    #[must_use]
    pub fn bump(&self, b: Bump) -> Option<Semver> {
        let (major, minor, patch) = match b {
            Bump::Patch => (self.major, self.minor, self.patch.checked_add(1)?),
            Bump::Minor => (self.major, self.minor.checked_add(1)?, 0),
            Bump::Major => (self.major.checked_add(1)?, 0, 0),
        };
        Some(Semver {
            major,
            minor,
            patch,
            pre: String::new(),
            build: String::new(),
        })
    }

    /// Semver precedence (build metadata ignored).
    #[must_use]
    pub fn precedence(&self, o: &Semver) -> Ordering {
        (self.major, self.minor, self.patch)
            .cmp(&(o.major, o.minor, o.patch))
            .then_with(|| match (self.pre.is_empty(), o.pre.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => cmp_pre(&self.pre, &o.pre),
            })
    }
}

fn cmp_pre(a: &str, b: &str) -> Ordering {
    let mut ai = a.split('.');
    let mut bi = b.split('.');
    loop {
        match (ai.next(), bi.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) => {
                let o = match (x.parse::<u64>(), y.parse::<u64>()) {
                    (Ok(p), Ok(q)) => p.cmp(&q),
                    (Ok(_), Err(_)) => Ordering::Less,
                    (Err(_), Ok(_)) => Ordering::Greater,
                    (Err(_), Err(_)) => x.cmp(y),
                };
                if o != Ordering::Equal {
                    return o;
                }
            }
        }
    }
}

impl fmt::Display for Semver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}.{}.{}", self.major, self.minor, self.patch)?;
        if !self.pre.is_empty() {
            write!(f, "-{}", self.pre)?;
        }
        if !self.build.is_empty() {
            write!(f, "+{}", self.build)?;
        }
        Ok(())
    }
}

/// What a tag records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// `NAME@vX.Y.Z`
    Register(Semver),
    /// `NAME@vX.Y.Z!`
    Deregister(Semver),
    /// `NAME#STAGE`
    Assign(String),
    /// `NAME#STAGE!`
    Unassign(String),
    /// `NAME@deprecated`
    Deprecate,
    /// `NAME@created` (read, never written, and ignored by the state)
    Create,
}

/// A parsed registry tag name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagName {
    /// The artifact as written in the tag (`dir=name` for monorepo names).
    pub artifact: String,
    /// The event.
    pub action: Action,
    /// The `#N` counter, when present.
    pub counter: Option<u64>,
}

/// GTO's `name` grammar: `[a-zA-Z0-9]([a-zA-Z0-9-/_]*[a-zA-Z0-9])?`; model
/// (artifact) names and stage names both follow it.
#[must_use]
pub fn valid_name(name: &str) -> bool {
    let b = name.as_bytes();
    let edge = |c: u8| c.is_ascii_alphanumeric();
    let inner = |c: u8| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'/' | b'_');
    match b {
        [] => false,
        [c] => edge(*c),
        [first, mid @ .., last] => edge(*first) && edge(*last) && mid.iter().all(|c| inner(*c)),
    }
}

fn valid_dirname(d: &str) -> bool {
    !d.is_empty()
        && d.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'/'))
}

/// `(dirname=)?name`.
#[must_use]
pub fn valid_artifact(a: &str) -> bool {
    match a.split_once('=') {
        Some((d, n)) => valid_dirname(d) && valid_name(n),
        None => valid_name(a),
    }
}

fn counter(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

impl TagName {
    /// Parse a tag name (without `refs/tags/`); `None` when it is not a
    /// registry tag.
    #[must_use]
    pub fn parse(tag: &str) -> Option<TagName> {
        let sep = tag.find(['@', '#'])?;
        let artifact = &tag[..sep];
        if !valid_artifact(artifact) {
            return None;
        }
        let rest = &tag[sep..];
        // Split off a trailing `#counter`; a stage tag without a counter
        // (`NAME#STAGE`) has exactly one `#`.
        let (body, counter) = match rest.rfind('#') {
            Some(i) if i > 0 => (&rest[..i], Some(counter(&rest[i + 1..])?)),
            _ => (rest, None),
        };
        let (body, cancel) = match body.strip_suffix('!') {
            Some(b) => (b, true),
            None => (body, false),
        };
        let action = if let Some(stage) = body.strip_prefix('#') {
            if !valid_name(stage) {
                return None;
            }
            if cancel {
                Action::Unassign(stage.to_string())
            } else {
                Action::Assign(stage.to_string())
            }
        } else {
            let what = body.strip_prefix('@')?;
            match (what, cancel) {
                ("deprecated", false) => Action::Deprecate,
                ("created", false) => Action::Create,
                _ => {
                    let v = Semver::parse_v(what)?;
                    if cancel {
                        Action::Deregister(v)
                    } else {
                        Action::Register(v)
                    }
                }
            }
        };
        Some(TagName {
            artifact: artifact.to_string(),
            action,
            counter,
        })
    }

    /// The stage of an assignment or unassignment.
    #[must_use]
    pub fn stage(&self) -> Option<&str> {
        match &self.action {
            Action::Assign(s) | Action::Unassign(s) => Some(s),
            _ => None,
        }
    }
}

impl fmt::Display for TagName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.artifact)?;
        match &self.action {
            Action::Register(v) => write!(f, "@{v}")?,
            Action::Deregister(v) => write!(f, "@{v}!")?,
            Action::Assign(s) => write!(f, "#{s}")?,
            Action::Unassign(s) => write!(f, "#{s}!")?,
            Action::Deprecate => f.write_str("@deprecated")?,
            Action::Create => f.write_str("@created")?,
        }
        if let Some(n) = self.counter {
            write!(f, "#{n}")?;
        }
        Ok(())
    }
}

/// The first line of GTO's annotated message for an event; `version` is the
/// version a stage event concerns.
#[must_use]
pub fn message_first_line(artifact: &str, action: &Action, version: Option<&Semver>) -> String {
    let v = version.map(ToString::to_string).unwrap_or_default();
    match action {
        Action::Register(v) => format!("Registering artifact {artifact} version {v}"),
        Action::Deregister(v) => format!("Deregistering artifact {artifact} version {v}"),
        Action::Assign(s) => format!("Assigning stage {s} to artifact {artifact} version {v}"),
        Action::Unassign(s) => {
            format!("Unassigning stage '{s}' to artifact '{artifact}' version '{v}'")
        }
        Action::Deprecate => format!("Deprecating artifact '{artifact}'"),
        Action::Create => format!("Creating artifact {artifact}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Semver {
        Semver::parse_v(s).unwrap()
    }

    #[track_caller]
    fn case(tag: &str, artifact: &str, action: Action, counter: Option<u64>) {
        let t = TagName::parse(tag).unwrap_or_else(|| panic!("{tag} did not parse"));
        assert_eq!(
            t,
            TagName {
                artifact: artifact.into(),
                action,
                counter
            },
            "{tag}"
        );
        assert_eq!(t.to_string(), tag, "round trip");
    }

    #[test]
    fn parses_every_kind() {
        // GTO's own examples (README and tests of gto.tag).
        case("rf@v1.2.3", "rf", Action::Register(v("v1.2.3")), None);
        case("rf@v1.2.3!", "rf", Action::Deregister(v("v1.2.3")), None);
        case(
            "rf@v1.2.3!#5",
            "rf",
            Action::Deregister(v("v1.2.3")),
            Some(5),
        );
        case("rf#prod#1", "rf", Action::Assign("prod".into()), Some(1));
        case("rf#prod", "rf", Action::Assign("prod".into()), None);
        case("rf#prod!#2", "rf", Action::Unassign("prod".into()), Some(2));
        case("rf@deprecated", "rf", Action::Deprecate, None);
        case("rf@deprecated#7", "rf", Action::Deprecate, Some(7));
        case("rf@created", "rf", Action::Create, None);
        case(
            "models=churn@v0.0.1",
            "models=churn",
            Action::Register(v("v0.0.1")),
            None,
        );
        case(
            "a/b.c=nn-1_x#staging#12",
            "a/b.c=nn-1_x",
            Action::Assign("staging".into()),
            Some(12),
        );
        case(
            "m@v1.0.0-rc.1+build.5",
            "m",
            Action::Register(v("v1.0.0-rc.1+build.5")),
            None,
        );
        case(
            "m@v1.0.0-alpha-1#3",
            "m",
            Action::Register(v("v1.0.0-alpha-1")),
            Some(3),
        );
        case(
            "house-price#1#2",
            "house-price",
            Action::Assign("1".into()),
            Some(2),
        );
    }

    #[test]
    fn rejects_what_gto_ignores() {
        for bad in [
            "v1.0.0",
            "m",
            "m@1.0.0",
            "m@v1.0",
            "m@v01.0.0",
            "m@v1.0.0-01",
            "m@v1.0.0+",
            "m@v1.0.0-",
            "-m@v1.0.0",
            "m-@v1.0.0",
            "m.x@v1.0.0",
            "m@v1.0.0#",
            "m@v1.0.0#x",
            "m#prod#",
            "m#-prod",
            "m#",
            "m@deprecated!",
            "m@created!",
            "m@latest",
            "m#prod#1#2",
            "=m@v1.0.0",
            "a=b=c@v1.0.0",
            "m@v1.0.0!!",
            "m @v1.0.0",
            "m@v1.0.0.1",
        ] {
            assert_eq!(TagName::parse(bad), None, "{bad} should not parse");
        }
    }

    #[test]
    fn model_names() {
        for ok in ["a", "house-price", "a/b_c", "A1"] {
            assert!(valid_name(ok), "{ok}");
        }
        for bad in ["", "-a", "a-", "a b", "a@b", "a#b"] {
            assert!(!valid_name(bad), "{bad}");
        }
    }

    #[test]
    fn semver_order_and_bump() {
        let order = [
            "v0.0.1",
            "v0.1.0-alpha",
            "v0.1.0-alpha.1",
            "v0.1.0-alpha.beta",
            "v0.1.0-beta.2",
            "v0.1.0-beta.11",
            "v0.1.0-rc.1",
            "v0.1.0",
            "v1.0.0",
            "v1.10.0",
        ];
        for w in order.windows(2) {
            assert_eq!(v(w[0]).precedence(&v(w[1])), Ordering::Less, "{w:?}");
        }
        assert_eq!(v("v1.0.0+a").precedence(&v("v1.0.0+b")), Ordering::Equal);
        let b = |s: &str, k| v(s).bump(k).unwrap().to_string();
        assert_eq!(b("v1.2.3-rc.1", Bump::Patch), "v1.2.4");
        assert_eq!(b("v1.2.3", Bump::Minor), "v1.3.0");
        assert_eq!(b("v1.2.3", Bump::Major), "v2.0.0");
        let max = u64::MAX;
        assert!(v(&format!("v1.2.{max}")).bump(Bump::Patch).is_none());
        assert!(v(&format!("v1.{max}.3")).bump(Bump::Minor).is_none());
        assert!(v(&format!("v{max}.2.3")).bump(Bump::Major).is_none());
        assert_eq!(b(&format!("v1.2.{max}"), Bump::Minor), "v1.3.0");
    }

    #[test]
    fn messages_are_gtos() {
        let ver = v("v1.4.0");
        assert_eq!(
            message_first_line("hp", &Action::Register(ver.clone()), None),
            "Registering artifact hp version v1.4.0"
        );
        assert_eq!(
            message_first_line("hp", &Action::Deregister(ver.clone()), None),
            "Deregistering artifact hp version v1.4.0"
        );
        assert_eq!(
            message_first_line("hp", &Action::Assign("prod".into()), Some(&ver)),
            "Assigning stage prod to artifact hp version v1.4.0"
        );
        assert_eq!(
            message_first_line("hp", &Action::Unassign("prod".into()), Some(&ver)),
            "Unassigning stage 'prod' to artifact 'hp' version 'v1.4.0'"
        );
        assert_eq!(
            message_first_line("hp", &Action::Deprecate, None),
            "Deprecating artifact 'hp'"
        );
    }

    mod fuzz {
        //! Property tests (`cargo test fuzz`; `PROPTEST_CASES=1000000` for a long run).
        use super::super::*;
        use proptest::prelude::*;

        /// `n` cases unless `PROPTEST_CASES` says otherwise.
        fn cases(n: u32) -> ProptestConfig {
            let mut c = ProptestConfig::default();
            if std::env::var_os("PROPTEST_CASES").is_none() {
                c.cases = n;
            }
            c
        }

        fn name() -> impl Strategy<Value = String> {
            prop_oneof!["[a-zA-Z0-9]", "[a-zA-Z0-9][a-zA-Z0-9/_-]{0,12}[a-zA-Z0-9]",]
        }

        fn artifact() -> impl Strategy<Value = String> {
            (proptest::option::of("[a-zA-Z0-9._/-]{1,8}"), name()).prop_map(|(d, n)| match d {
                Some(d) => format!("{d}={n}"),
                None => n,
            })
        }

        fn ident(pre: bool) -> impl Strategy<Value = String> {
            let numeric = if pre {
                "0|[1-9][0-9]{0,5}"
            } else {
                "[0-9]{1,6}"
            };
            prop_oneof![numeric, "[0-9a-zA-Z-]{0,4}[a-zA-Z-][0-9a-zA-Z-]{0,4}"]
        }

        fn dotted(pre: bool) -> impl Strategy<Value = String> {
            prop_oneof![
                Just(String::new()),
                proptest::collection::vec(ident(pre), 1..4).prop_map(|v| v.join(".")),
            ]
        }

        fn semver() -> impl Strategy<Value = Semver> {
            (
                any::<u64>(),
                any::<u64>(),
                any::<u64>(),
                dotted(true),
                dotted(false),
            )
                .prop_map(|(major, minor, patch, pre, build)| Semver {
                    major,
                    minor,
                    patch,
                    pre,
                    build,
                })
        }

        fn action() -> impl Strategy<Value = Action> {
            prop_oneof![
                semver().prop_map(Action::Register),
                semver().prop_map(Action::Deregister),
                name().prop_map(Action::Assign),
                name().prop_map(Action::Unassign),
                Just(Action::Deprecate),
                Just(Action::Create),
            ]
        }

        proptest! {
            #![proptest_config(cases(4000))]
            #[test]
            fn fuzz_tag_parse_of_format_is_the_identity(
                artifact in artifact(),
                action in action(),
                counter in proptest::option::of(any::<u64>()),
            ) {
                let t = TagName { artifact, action, counter };
                prop_assert_eq!(TagName::parse(&t.to_string()), Some(t));
            }

            #[test]
            fn fuzz_tag_parse_never_panics_and_is_stable(s in "[a-z0-9@#!=./_+-]{0,40}|\\PC{0,40}") {
                if let Some(t) = TagName::parse(&s) {
                    prop_assert_eq!(TagName::parse(&t.to_string()), Some(t));
                }
            }
        }
    }
}
