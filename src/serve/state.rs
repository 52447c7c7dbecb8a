//! The models the server holds, by name: a champion, an optional
//! challenger with its traffic share, and the previous champion kept for a
//! rollback. Readers take a snapshot (an `Arc` of the whole table) and never
//! wait for a load; writers build a new table and swap it in one step, so a
//! request sees either the old model or the new one, never half of either.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use serde_json::{Value as Json, json};

use super::model::Model;

/// A slot of a model name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Variant {
    /// The model serving by default.
    Champion,
    /// The model under test, getting `challenger_percent` of the traffic.
    Challenger,
}

impl Variant {
    /// `champion` or `challenger`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Variant::Champion => "champion",
            Variant::Challenger => "challenger",
        }
    }

    /// Parse `champion` or `challenger`.
    #[must_use]
    pub fn parse(s: &str) -> Option<Variant> {
        match s {
            "champion" => Some(Variant::Champion),
            "challenger" => Some(Variant::Challenger),
            _ => None,
        }
    }
}

/// What served a request, as the experiment's export records it.
#[derive(Debug, Clone, PartialEq)]
pub struct Served {
    /// The slot.
    pub variant: Variant,
    /// The model version in that slot.
    pub version: Arc<str>,
    /// The share of traffic the slot was planned to get, in percent.
    pub share_percent: u8,
    /// The experiment: the model name with its champion and challenger
    /// versions ([`experiment_id`]).
    pub experiment: Arc<str>,
}

/// The slots of one model name.
#[derive(Debug, Clone, Default)]
pub struct Slots {
    /// The champion.
    pub champion: Option<Arc<Model>>,
    /// The challenger.
    pub challenger: Option<Arc<Model>>,
    /// The champion before the last change of champion.
    pub previous: Option<Arc<Model>>,
    /// Share of keyed or random traffic the challenger gets, 0..=100.
    pub challenger_percent: u8,
}

impl Slots {
    /// The model in `slot`.
    #[must_use]
    pub fn get(&self, slot: Variant) -> Option<&Arc<Model>> {
        match slot {
            Variant::Champion => self.champion.as_ref(),
            Variant::Challenger => self.challenger.as_ref(),
        }
    }

    fn is_empty(&self) -> bool {
        self.champion.is_none() && self.challenger.is_none() && self.previous.is_none()
    }
}

/// Every model name and its slots.
pub type Table = BTreeMap<String, Slots>;

/// Why a request cannot be routed to a model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteError {
    /// No model is loaded at all (503).
    NotReady,
    /// No model of that name (404); the names that are loaded.
    Unknown(String, Vec<String>),
    /// Several models are loaded and the endpoint does not name one (400).
    Ambiguous(Vec<String>),
    /// The forced or versioned slot is empty (404).
    NoSuchSlot(String),
}

impl RouteError {
    /// The HTTP status.
    #[must_use]
    pub fn status(&self) -> u16 {
        match self {
            RouteError::NotReady => 503,
            RouteError::Unknown(..) | RouteError::NoSuchSlot(_) => 404,
            RouteError::Ambiguous(_) => 400,
        }
    }

    /// One sentence.
    #[must_use]
    pub fn message(&self) -> String {
        match self {
            RouteError::NotReady => {
                "no model is loaded; deploy one (PUT /admin/models/NAME) or start with --model"
                    .into()
            }
            RouteError::Unknown(m, loaded) if loaded.is_empty() => format!(
                "no model named \"{}\" is loaded, nor any other; deploy one first",
                super::model::clip(m)
            ),
            RouteError::Unknown(m, loaded) => format!(
                "no model named \"{}\" is loaded; the loaded models are {}",
                super::model::clip(m),
                super::model::clip_list(loaded)
            ),
            RouteError::Ambiguous(names) => format!(
                "several models are loaded ({}); name one with POST /v2/models/{{m}}/infer",
                super::model::clip_list(names)
            ),
            RouteError::NoSuchSlot(m) => m.clone(),
        }
    }
}

/// How a request chooses its variant.
#[derive(Debug, Clone, Copy, Default)]
pub enum Choice<'a> {
    /// By the key's hash when there is a key, else at random, by the split.
    #[default]
    Split,
    /// Keyed: the same key always gets the same variant (for a given split).
    Key(&'a str),
    /// Forced (an admin's smoke test, or a V2 versioned URL).
    Force(Variant),
}

/// Called with each new table before it is swapped in (the state folder);
/// an error refuses the change.
pub type Saver = Box<dyn Fn(&Table) -> Result<(), String> + Send + Sync>;

/// The models, swapped atomically.
#[derive(Default)]
pub struct Models {
    table: RwLock<Arc<Table>>,
    write: Mutex<()>,
    rng: AtomicU64,
    saver: RwLock<Option<Saver>>,
}

impl std::fmt::Debug for Models {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Models")
            .field("table", &self.snapshot())
            .finish_non_exhaustive()
    }
}

/// The experiment a model name's slots make: the name with its champion
/// and challenger versions, like `house-price:v1.0.0/v1.1.0` (`-` for an
/// empty slot). Observations are kept by it, so a promote or a new canary
/// starts a new experiment.
#[must_use]
pub fn experiment_id(name: &str, s: &Slots) -> String {
    fn v(m: Option<&Arc<Model>>) -> &str {
        m.map_or("-", |m| m.version.as_str())
    }
    format!(
        "{name}:{}/{}",
        v(s.champion.as_ref()),
        v(s.challenger.as_ref())
    )
}

/// Why an admin change was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// A precondition or a state conflict (409).
    Conflict(String),
    /// The request is invalid (400).
    Invalid(String),
    /// No such model (404).
    NotFound(String),
    /// The state folder could not be written; nothing changed (503).
    Storage(String),
}

impl Models {
    /// An empty table.
    #[must_use]
    pub fn new() -> Models {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0x9E37_79B9, |d| {
                u64::try_from(d.as_nanos() & 0xFFFF_FFFF_FFFF).unwrap_or(1)
            });
        Models {
            table: RwLock::new(Arc::new(Table::new())),
            write: Mutex::new(()),
            rng: AtomicU64::new(seed | 1),
            saver: RwLock::new(None),
        }
    }

    /// Save every new table with `saver` before it is swapped in.
    pub fn set_saver(&self, saver: Saver) {
        match self.saver.write() {
            Ok(mut s) => *s = Some(saver),
            Err(p) => *p.into_inner() = Some(saver),
        }
    }

    /// What a request that `model` answered from `variant` was served by
    /// in the current table: its version, the slot's planned share and the
    /// experiment. `None` when the slot changed since (the request then
    /// belongs to no experiment).
    #[must_use]
    pub fn served(&self, model: &Model, variant: Variant) -> Option<Served> {
        let table = self.snapshot();
        let s = table.get(&model.name)?;
        if s.get(variant).map(|m| m.version.as_str()) != Some(model.version.as_str()) {
            return None;
        }
        let share_percent = match (variant, &s.champion, &s.challenger) {
            (Variant::Champion, _, Some(_)) => 100 - s.challenger_percent.min(100),
            (Variant::Challenger, Some(_), _) => s.challenger_percent.min(100),
            _ => 100,
        };
        Some(Served {
            variant,
            version: Arc::from(model.version.as_str()),
            share_percent,
            experiment: Arc::from(experiment_id(&model.name, s).as_str()),
        })
    }

    /// The experiments of the current table, one per model name.
    #[must_use]
    pub fn experiments(&self) -> std::collections::HashSet<String> {
        self.snapshot()
            .iter()
            .map(|(n, s)| experiment_id(n, s))
            .collect()
    }

    /// The current table.
    #[must_use]
    pub fn snapshot(&self) -> Arc<Table> {
        match self.table.read() {
            Ok(t) => Arc::clone(&t),
            Err(p) => Arc::clone(&p.into_inner()),
        }
    }

    /// Whether a champion is loaded.
    #[must_use]
    pub fn ready(&self) -> bool {
        self.snapshot().values().any(|s| s.champion.is_some())
    }

    /// Apply `f` to a copy of the table and swap it in; returns `f`'s result.
    pub fn update<T>(
        &self,
        f: impl FnOnce(&mut Table) -> Result<T, Refused>,
    ) -> Result<T, Refused> {
        let _guard = self
            .write
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut next = (*self.snapshot()).clone();
        let out = f(&mut next)?;
        next.retain(|_, s| !s.is_empty());
        if let Some(save) = &*self
            .saver
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
        {
            save(&next).map_err(Refused::Storage)?;
        }
        let next = Arc::new(next);
        match self.table.write() {
            Ok(mut t) => *t = next,
            Err(p) => *p.into_inner() = next,
        }
        Ok(out)
    }

    /// A random number in 0..100 (xorshift; routing needs no more).
    fn percentile(&self) -> u64 {
        let mut x = self.rng.load(Ordering::Relaxed);
        loop {
            let mut y = x;
            y ^= y << 13;
            y ^= y >> 7;
            y ^= y << 17;
            match self
                .rng
                .compare_exchange_weak(x, y, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => return y % 100,
                Err(cur) => x = cur,
            }
        }
    }

    /// The model (and its variant) a request for `name` (or the only model
    /// when `None`) goes to.
    ///
    /// # Errors
    /// See [`RouteError`].
    pub fn route(
        &self,
        name: Option<&str>,
        choice: Choice<'_>,
    ) -> Result<(Arc<Model>, Variant), RouteError> {
        let table = self.snapshot();
        let slots = match name {
            Some(n) => table.get(n).ok_or_else(|| {
                RouteError::Unknown(n.to_string(), table.keys().cloned().collect())
            })?,
            None => {
                let mut serving = table
                    .iter()
                    .filter(|(_, s)| s.champion.is_some() || s.challenger.is_some());
                match (serving.next(), serving.next()) {
                    (None, _) => return Err(RouteError::NotReady),
                    (Some((_, s)), None) => s,
                    (Some(_), Some(_)) => {
                        return Err(RouteError::Ambiguous(table.keys().cloned().collect()));
                    }
                }
            }
        };
        let variant = match (choice, &slots.challenger) {
            (Choice::Force(v), _) => v,
            (_, None) => Variant::Champion,
            (Choice::Key(k), Some(_)) => pick(bucket(k), slots.challenger_percent),
            (Choice::Split, Some(_)) => pick(self.percentile(), slots.challenger_percent),
        };
        let variant = match (variant, &slots.champion) {
            // No champion yet but a challenger: it takes everything.
            (Variant::Champion, None) if !matches!(choice, Choice::Force(_)) => Variant::Challenger,
            (v, _) => v,
        };
        match slots.get(variant) {
            Some(m) => Ok((Arc::clone(m), variant)),
            None if name.is_none() && slots.champion.is_none() && slots.challenger.is_none() => {
                Err(RouteError::NotReady)
            }
            None => Err(RouteError::NoSuchSlot(format!(
                "the {} slot is empty",
                variant.as_str()
            ))),
        }
    }

    /// The admin view of every model (`GET /admin/models`).
    #[must_use]
    pub fn describe(&self) -> Json {
        let table = self.snapshot();
        let models: Vec<Json> = table.iter().map(|(n, s)| describe_one(n, s)).collect();
        json!({ "models": models })
    }

    /// Put `model` into `slot` of its name, under the preconditions
    /// `if_match` (the slot holds exactly this version) and `if_none_match`
    /// (the slot is empty). A new champion pushes the old one to `previous`.
    ///
    /// # Errors
    /// [`Refused::Conflict`] when a precondition fails.
    pub fn put(
        &self,
        model: Model,
        slot: Variant,
        if_match: Option<&str>,
        if_none_match: bool,
    ) -> Result<Arc<Model>, Refused> {
        let model = Arc::new(model);
        let m = Arc::clone(&model);
        self.update(move |t| {
            let s = t.entry(m.name.clone()).or_default();
            let cur = s.get(slot).map(|c| c.version.clone());
            precondition(&m.name, slot, s, if_match)?;
            if if_none_match && let Some(c) = cur {
                return Err(Refused::Conflict(format!(
                    "If-None-Match: *: the {} slot of {} already holds {c}",
                    slot.as_str(),
                    m.name
                )));
            }
            match slot {
                Variant::Champion => {
                    if let Some(old) = s.champion.replace(Arc::clone(&m)) {
                        s.previous = Some(old);
                    }
                }
                Variant::Challenger => s.challenger = Some(Arc::clone(&m)),
            }
            Ok(())
        })?;
        Ok(model)
    }

    /// Empty `slot` of `name`, under the precondition `if_match` (the slot
    /// holds exactly this version). Removing the challenger sends all
    /// traffic to the champion; removing the champion unloads it (the
    /// server is not ready until another champion comes) and is refused
    /// while a challenger is loaded. `previous` is kept.
    ///
    /// # Errors
    /// [`Refused::NotFound`] when no such model is loaded,
    /// [`Refused::Conflict`] when the precondition fails or a challenger
    /// would be left without a champion.
    pub fn remove(
        &self,
        name: &str,
        slot: Variant,
        if_match: Option<&str>,
    ) -> Result<Json, Refused> {
        self.update(|t| {
            let s = t.get_mut(name).ok_or_else(|| {
                Refused::NotFound(format!(
                    "no model named \"{}\" is loaded",
                    super::model::clip(name)
                ))
            })?;
            precondition(name, slot, s, if_match)?;
            match slot {
                Variant::Challenger => {
                    s.challenger = None;
                    s.challenger_percent = 0;
                }
                Variant::Champion => {
                    if let Some(c) = &s.challenger {
                        return Err(Refused::Conflict(format!(
                            "{name} has challenger {} loaded; remove it (DELETE /admin/models/{name}?slot=challenger) or promote it before unloading the champion",
                            c.version
                        )));
                    }
                    s.champion = None;
                }
            }
            Ok(describe_one(name, s))
        })
    }

    /// Set the challenger's share of `name` (or of the only model).
    ///
    /// # Errors
    /// Out of 0..=100 (400), no such model (404).
    pub fn set_traffic(&self, name: Option<&str>, percent: i64) -> Result<Json, Refused> {
        self.set_traffic_if(name, percent, None)
    }

    /// [`Models::set_traffic`] under the precondition `if_match`: the
    /// challenger is exactly this version (409 otherwise).
    ///
    /// # Errors
    /// As `set_traffic`, and [`Refused::Conflict`] when the precondition fails.
    pub fn set_traffic_if(
        &self,
        name: Option<&str>,
        percent: i64,
        if_match: Option<&str>,
    ) -> Result<Json, Refused> {
        let p = u8::try_from(percent)
            .ok()
            .filter(|p| *p <= 100)
            .ok_or_else(|| {
                Refused::Invalid(format!(
                    "challenger_percent must be 0 to 100, got {percent}"
                ))
            })?;
        self.update(|t| {
            let (n, s) = pick_mut(t, name)?;
            precondition(&n, Variant::Challenger, s, if_match)?;
            s.challenger_percent = p;
            Ok(describe_one(&n, s))
        })
    }

    /// The challenger becomes the champion; the champion becomes previous.
    ///
    /// # Errors
    /// No challenger (409), no such model (404).
    pub fn promote(&self, name: Option<&str>) -> Result<Json, Refused> {
        self.promote_if(name, None)
    }

    /// [`Models::promote`] under the precondition `if_match`: the
    /// challenger to promote is exactly this version (409 otherwise).
    ///
    /// # Errors
    /// As `promote`, and [`Refused::Conflict`] when the precondition fails.
    pub fn promote_if(&self, name: Option<&str>, if_match: Option<&str>) -> Result<Json, Refused> {
        self.update(|t| {
            let (n, s) = pick_mut(t, name)?;
            precondition(&n, Variant::Challenger, s, if_match)?;
            let c = s.challenger.take().ok_or_else(|| {
                Refused::Conflict(format!(
                    "{n} has no challenger to promote; PUT one with ?slot=challenger first"
                ))
            })?;
            s.previous = s.champion.replace(c);
            s.challenger_percent = 0;
            Ok(describe_one(&n, s))
        })
    }

    /// The previous champion comes back (and the current one becomes previous).
    ///
    /// # Errors
    /// No previous champion (409), no such model (404).
    pub fn rollback(&self, name: Option<&str>) -> Result<Json, Refused> {
        self.rollback_if(name, None)
    }

    /// [`Models::rollback`] under the precondition `if_match`: the
    /// champion rolled back is exactly this version (409 otherwise).
    ///
    /// # Errors
    /// As `rollback`, and [`Refused::Conflict`] when the precondition fails.
    pub fn rollback_if(&self, name: Option<&str>, if_match: Option<&str>) -> Result<Json, Refused> {
        self.update(|t| {
            let (n, s) = pick_mut(t, name)?;
            precondition(&n, Variant::Champion, s, if_match)?;
            let p = s.previous.take().ok_or_else(|| {
                Refused::Conflict(format!("{n} has no previous champion to roll back to"))
            })?;
            s.previous = s.champion.replace(p);
            Ok(describe_one(&n, s))
        })
    }

    /// Replace the slots of a model wholesale (an environment folder changed).
    pub fn set_release(&self, champion: Arc<Model>, challenger: Option<Arc<Model>>, percent: u8) {
        let _ = self.update(|t| {
            let s = t.entry(champion.name.clone()).or_default();
            if s.champion
                .as_ref()
                .is_some_and(|c| !Arc::ptr_eq(c, &champion))
            {
                s.previous = s.champion.take();
            }
            s.champion = Some(champion);
            s.challenger = challenger;
            s.challenger_percent = percent;
            Ok(())
        });
    }
}

/// `If-Match: want`: `slot` of `name` holds exactly `want` (409 otherwise).
fn precondition(name: &str, slot: Variant, s: &Slots, want: Option<&str>) -> Result<(), Refused> {
    let cur = s.get(slot).map(|c| c.version.as_str());
    match want {
        Some(w) if cur != Some(w) => Err(Refused::Conflict(format!(
            "If-Match: the {} slot of {name} holds {}, not {w}; someone else deployed, check GET /admin/models",
            slot.as_str(),
            cur.unwrap_or("nothing")
        ))),
        _ => Ok(()),
    }
}

fn pick_mut<'t>(t: &'t mut Table, name: Option<&str>) -> Result<(String, &'t mut Slots), Refused> {
    let n = match name {
        Some(n) => n.to_string(),
        None => {
            let mut names = t.keys();
            match (names.next(), names.next()) {
                (Some(n), None) => n.clone(),
                (None, _) => return Err(Refused::NotFound("no model is loaded".into())),
                (Some(_), Some(_)) => {
                    return Err(Refused::Invalid(format!(
                        "several models are loaded ({}); name one with \"model\"",
                        t.keys().cloned().collect::<Vec<_>>().join(", ")
                    )));
                }
            }
        }
    };
    match t.get_mut(&n) {
        Some(s) => Ok((n, s)),
        None => Err(Refused::NotFound(format!(
            "no model named \"{}\" is loaded",
            super::model::clip(&n)
        ))),
    }
}

fn slot_json(m: Option<&Arc<Model>>) -> Json {
    m.map_or(
        Json::Null,
        |m| json!({"version": m.version, "sha256": m.sha256, "loaded_at": m.loaded_at_rfc3339()}),
    )
}

/// One model's entry of `GET /admin/models`.
#[must_use]
pub fn describe_one(name: &str, s: &Slots) -> Json {
    json!({
        "name": name,
        "champion": slot_json(s.champion.as_ref()),
        "challenger": slot_json(s.challenger.as_ref()),
        "previous": slot_json(s.previous.as_ref()),
        "challenger_percent": s.challenger_percent,
    })
}

fn pick(bucket: u64, percent: u8) -> Variant {
    if bucket < u64::from(percent) {
        Variant::Challenger
    } else {
        Variant::Champion
    }
}

/// The bucket (0..100) of a request key: FNV-1a 64 of its bytes, stable
/// across runs, machines and versions, so a user keeps their variant.
#[must_use]
pub fn bucket(key: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h % 100
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serve::model::tests::toy;

    fn model(version: &str) -> Model {
        let mut m = toy("error");
        m.version = version.into();
        m
    }

    #[test]
    fn keyed_routing_is_sticky_and_follows_the_split() {
        let ms = Models::new();
        ms.put(model("v1"), Variant::Champion, None, false).unwrap();
        ms.put(model("v2"), Variant::Challenger, None, false)
            .unwrap();
        // 0 % : everyone on the champion, even with a challenger loaded.
        for k in ["a", "b", "c"] {
            assert_eq!(ms.route(None, Choice::Key(k)).unwrap().1, Variant::Champion);
        }
        ms.set_traffic(None, 50).unwrap();
        let mut challenger = 0;
        for i in 0..1000 {
            let k = format!("user-{i}");
            let v = ms.route(None, Choice::Key(&k)).unwrap().1;
            assert_eq!(ms.route(None, Choice::Key(&k)).unwrap().1, v, "sticky");
            challenger += usize::from(v == Variant::Challenger);
        }
        assert!((400..600).contains(&challenger), "{challenger}");
        // Random routing follows the split too.
        let n = (0..1000)
            .filter(|_| ms.route(None, Choice::Split).unwrap().1 == Variant::Challenger)
            .count();
        assert!((400..600).contains(&n), "{n}");
        // The FNV-1a value of a fixed key never changes.
        // FNV-1a 64 of "a" is 0xaf63dc4c8601ec8c (the published test vector).
        assert_eq!(bucket("a"), 0xaf63_dc4c_8601_ec8c_u64 % 100);
        assert_eq!(bucket(""), 0xcbf2_9ce4_8422_2325_u64 % 100);
    }

    #[test]
    fn preconditions_promote_and_rollback() {
        let ms = Models::new();
        assert_eq!(
            ms.route(None, Choice::Split).unwrap_err(),
            RouteError::NotReady
        );
        ms.put(model("v1"), Variant::Champion, None, true).unwrap();
        assert!(matches!(
            ms.put(model("v1b"), Variant::Champion, None, true),
            Err(Refused::Conflict(_))
        ));
        assert!(matches!(
            ms.put(model("v2"), Variant::Champion, Some("v0"), false),
            Err(Refused::Conflict(_))
        ));
        ms.put(model("v2"), Variant::Champion, Some("v1"), false)
            .unwrap();
        assert_eq!(
            ms.route(Some("toy"), Choice::Split).unwrap().0.version,
            "v2"
        );
        ms.rollback(None).unwrap();
        assert_eq!(ms.route(None, Choice::Split).unwrap().0.version, "v1");
        assert!(matches!(ms.promote(None), Err(Refused::Conflict(_))));
        ms.put(model("v3"), Variant::Challenger, None, false)
            .unwrap();
        ms.promote(Some("toy")).unwrap();
        let d = ms.describe();
        assert_eq!(d["models"][0]["champion"]["version"], "v3");
        assert_eq!(d["models"][0]["previous"]["version"], "v1");
        assert_eq!(d["models"][0]["challenger"], Json::Null);
        assert!(matches!(
            ms.set_traffic(None, 101),
            Err(Refused::Invalid(_))
        ));
        assert!(matches!(
            ms.rollback(Some("nope")),
            Err(Refused::NotFound(_))
        ));
        assert_eq!(
            ms.route(Some("nope"), Choice::Split).unwrap_err(),
            RouteError::Unknown("nope".into(), vec!["toy".into()])
        );
        assert_eq!(
            ms.route(None, Choice::Force(Variant::Challenger))
                .unwrap_err()
                .status(),
            404
        );
    }

    #[test]
    fn promote_traffic_and_rollback_honour_if_match() {
        let ms = Models::new();
        ms.put(model("v1"), Variant::Champion, None, true).unwrap();
        ms.put(model("v2"), Variant::Challenger, None, false)
            .unwrap();
        // Someone replaced the challenger with v3: a promote of v2 is refused.
        ms.put(model("v3"), Variant::Challenger, Some("v2"), false)
            .unwrap();
        let e = ms.promote_if(None, Some("v2")).unwrap_err();
        assert!(
            matches!(&e, Refused::Conflict(m) if m.contains("holds v3, not v2")),
            "{e:?}"
        );
        assert!(matches!(
            ms.set_traffic_if(None, 50, Some("v2")),
            Err(Refused::Conflict(_))
        ));
        let d = ms.describe();
        assert_eq!(d["models"][0]["champion"]["version"], "v1");
        assert_eq!(d["models"][0]["challenger_percent"], 0);
        ms.set_traffic_if(None, 50, Some("v3")).unwrap();
        ms.promote_if(Some("toy"), Some("v3")).unwrap();
        // Rolling back v2 when v3 is live is refused; v3 is rolled back.
        assert!(matches!(
            ms.rollback_if(None, Some("v2")),
            Err(Refused::Conflict(_))
        ));
        assert_eq!(ms.route(None, Choice::Split).unwrap().0.version, "v3");
        ms.rollback_if(None, Some("v3")).unwrap();
        assert_eq!(ms.route(None, Choice::Split).unwrap().0.version, "v1");
    }

    #[test]
    fn removing_slots() {
        let ms = Models::new();
        ms.put(model("v1"), Variant::Champion, None, true).unwrap();
        ms.put(model("v2"), Variant::Challenger, None, false)
            .unwrap();
        ms.set_traffic(None, 30).unwrap();
        // A champion with a challenger loaded stays.
        assert!(matches!(
            ms.remove("toy", Variant::Champion, None),
            Err(Refused::Conflict(_))
        ));
        assert!(matches!(
            ms.remove("toy", Variant::Challenger, Some("v1")),
            Err(Refused::Conflict(_))
        ));
        let one = ms.remove("toy", Variant::Challenger, Some("v2")).unwrap();
        assert_eq!(one["challenger"], Json::Null);
        assert_eq!(one["challenger_percent"], 0);
        assert!(matches!(
            ms.remove("toy", Variant::Champion, Some("v0")),
            Err(Refused::Conflict(_))
        ));
        assert!(ms.ready());
        let one = ms.remove("toy", Variant::Champion, Some("v1")).unwrap();
        assert_eq!(one["champion"], Json::Null);
        assert!(!ms.ready());
        assert_eq!(
            ms.route(None, Choice::Split).unwrap_err(),
            RouteError::NotReady
        );
        // Nothing left of the name: it is gone from the table.
        assert_eq!(ms.describe(), json!({"models": []}));
        assert!(matches!(
            ms.remove("toy", Variant::Champion, None),
            Err(Refused::NotFound(_))
        ));
        // With a previous champion, it is kept for a rollback.
        ms.put(model("v1"), Variant::Champion, None, true).unwrap();
        ms.put(model("v2"), Variant::Champion, Some("v1"), false)
            .unwrap();
        ms.remove("toy", Variant::Champion, None).unwrap();
        assert!(!ms.ready());
        assert_eq!(ms.describe()["models"][0]["previous"]["version"], "v1");
        ms.rollback(None).unwrap();
        assert_eq!(ms.route(None, Choice::Split).unwrap().0.version, "v1");
    }
}
