//! The feedback store: which variant served each request (by request id,
//! and by routing key), and the outcomes (`POST /feedback`) joined to them
//! for `GET /admin/abtest/export`, the CSV `abtest-analyze` reads.
//!
//! What a client can make the server remember is bounded by count and by
//! bytes: routing keys are at most [`MAX_KEY_BYTES`] (longer ones are
//! refused with 400 before they get here), the remembered requests and keys
//! are evicted least-recently-used within [`RECENT`] entries and
//! [`STORE_BYTES`] each, and the outcomes within [`MAX_OBSERVATIONS`] and
//! [`OBSERVATION_BYTES`]. The record cannot be rewritten by replaying: a
//! request id takes one outcome (then 409), and a request id used again
//! keeps the variant it was first bound to.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use super::model::clip;
use super::state::Served;

/// Why `/feedback` is refused while the admin API is off.
pub const FEEDBACK_OFF: &str = "feedback is off because the admin API is off: nobody could export it; start the server with the variable named by [serve].admin_token_env set";

/// Longest routing key (body `key`, `X-Request-Key`, feedback `key`).
pub const MAX_KEY_BYTES: usize = 256;
/// Requests (and keys) remembered for feedback.
pub const RECENT: usize = 100_000;
/// Bytes the remembered requests may take, and the keys as many again.
pub const STORE_BYTES: usize = 16 << 20;
/// Observations kept for the export.
pub const MAX_OBSERVATIONS: usize = 1_000_000;
/// Bytes the observations may take.
pub const OBSERVATION_BYTES: usize = 128 << 20;
/// Bookkeeping counted per remembered entry besides its strings.
const ENTRY_OVERHEAD: usize = 96;

/// One outcome, joined to what served it.
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    /// What served the request.
    pub served: Served,
    /// The routing key, else the request id.
    pub key: String,
    /// The outcome.
    pub value: f64,
}

/// The export's columns, in order.
pub const EXPORT_HEADER: [&str; 6] = [
    "variant",
    "key",
    "value",
    "version",
    "planned_share",
    "experiment",
];

impl Observation {
    /// The export's cells, in [`EXPORT_HEADER`] order.
    #[must_use]
    pub fn cells(&self) -> [String; 6] {
        [
            self.served.variant.as_str().to_string(),
            self.key.clone(),
            self.value.to_string(),
            self.served.version.to_string(),
            (f64::from(self.served.share_percent) / 100.0).to_string(),
            self.served.experiment.to_string(),
        ]
    }

    fn bytes(&self) -> usize {
        self.key.len() + ENTRY_OVERHEAD
    }
}

/// Where observations are kept besides memory (the server's state folder).
pub trait Journal: Send + Sync + std::fmt::Debug {
    /// Append one observation durably enough to survive a restart.
    ///
    /// # Errors
    /// The write failed; the observation must not be kept.
    fn append(&self, o: &Observation) -> Result<(), String>;
    /// Forget every observation.
    ///
    /// # Errors
    /// The write failed; the observations must be kept.
    fn clear(&self) -> Result<(), String>;
}

/// A map that forgets its least recently used entries past a count or a
/// number of bytes.
#[derive(Debug)]
struct Lru<V> {
    map: HashMap<String, (V, u64, usize)>,
    order: BTreeMap<u64, String>,
    tick: u64,
    bytes: usize,
    max_len: usize,
    max_bytes: usize,
}

impl<V> Lru<V> {
    fn new(max_len: usize, max_bytes: usize) -> Lru<V> {
        Lru {
            map: HashMap::new(),
            order: BTreeMap::new(),
            tick: 0,
            bytes: 0,
            max_len,
            max_bytes,
        }
    }

    /// Mark `k` used now; its value.
    fn touch(&mut self, k: &str) -> Option<&mut V> {
        let (_, stamp, _) = self.map.get_mut(k)?;
        self.tick += 1;
        let old = std::mem::replace(stamp, self.tick);
        if let Some(name) = self.order.remove(&old) {
            self.order.insert(self.tick, name);
        }
        self.map.get_mut(k).map(|e| &mut e.0)
    }

    /// Put `k` (its bookkeeping costing `size` bytes besides the key),
    /// evicting the least recently used entries to make room. An entry
    /// larger than the whole budget is not kept.
    fn insert(&mut self, k: &str, v: V, size: usize) {
        self.remove(k);
        let size = size + 2 * k.len() + ENTRY_OVERHEAD;
        if size > self.max_bytes || self.max_len == 0 {
            return;
        }
        while self.map.len() >= self.max_len || self.bytes + size > self.max_bytes {
            let Some((_, old)) = self.order.pop_first() else {
                break;
            };
            if let Some((_, _, s)) = self.map.remove(&old) {
                self.bytes -= s;
            }
        }
        self.tick += 1;
        self.order.insert(self.tick, k.to_string());
        self.map.insert(k.to_string(), (v, self.tick, size));
        self.bytes += size;
    }

    fn remove(&mut self, k: &str) {
        if let Some((_, stamp, s)) = self.map.remove(k) {
            self.order.remove(&stamp);
            self.bytes -= s;
        }
    }

    fn clear(&mut self) {
        self.map.clear();
        self.order.clear();
        self.bytes = 0;
    }
}

/// A remembered request: what served it, its key, and whether it has had
/// its outcome.
#[derive(Debug)]
struct Request {
    served: Served,
    key: Option<String>,
    answered: bool,
}

/// Observations in a chunk before the next one starts.
const CHUNK: usize = 4096;

/// The observations, in shared chunks: an export copies the list of
/// chunks (a few hundred pointers) and writes them without the lock; a
/// new observation copies at most the last chunk, when an export holds it.
#[derive(Debug, Default)]
struct Chunks {
    chunks: Vec<Arc<Vec<Observation>>>,
    len: usize,
}

impl Chunks {
    fn push(&mut self, o: Observation) {
        match self.chunks.last_mut() {
            Some(c) if c.len() < CHUNK => Arc::make_mut(c).push(o),
            _ => {
                let mut c = Vec::with_capacity(CHUNK);
                c.push(o);
                self.chunks.push(Arc::new(c));
            }
        }
        self.len += 1;
    }

    fn len(&self) -> usize {
        self.len
    }

    fn clear(&mut self) {
        self.chunks.clear();
        self.len = 0;
    }

    fn snapshot(&self) -> Vec<Arc<Vec<Observation>>> {
        self.chunks.clone()
    }
}

#[derive(Debug)]
struct Store {
    requests: Lru<Request>,
    keys: Lru<Served>,
    observations: Chunks,
    observation_bytes: usize,
    journal: Option<Arc<dyn Journal>>,
}

impl Default for Store {
    fn default() -> Store {
        Store {
            requests: Lru::new(RECENT, STORE_BYTES),
            keys: Lru::new(RECENT, STORE_BYTES),
            observations: Chunks::default(),
            observation_bytes: 0,
            journal: None,
        }
    }
}

/// What a feedback names.
#[derive(Debug, Clone)]
pub enum Subject {
    /// A request id from `X-Request-Id`.
    Request(String),
    /// A routing key.
    Key(String),
}

/// Why a feedback was not recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotRecorded {
    /// The request id or key was never served (or is too old), or the
    /// store is full (404).
    Unknown(String),
    /// The request id has its outcome already (409).
    Duplicate(String),
    /// The state folder could not be written (503).
    Storage(String),
}

/// Which observations an export holds.
#[derive(Debug, Clone)]
pub enum Which {
    /// Those of the experiments named (the current ones).
    Experiments(std::collections::HashSet<String>),
    /// All.
    All,
}

/// Served variants and recorded outcomes.
#[derive(Debug, Default)]
pub struct Feedback {
    store: Mutex<Store>,
}

impl Feedback {
    fn lock(&self) -> std::sync::MutexGuard<'_, Store> {
        self.store
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Start from `restored` observations and keep new ones in `journal` too.
    pub fn persist(&self, restored: Vec<Observation>, journal: Arc<dyn Journal>) {
        let mut s = self.lock();
        s.observation_bytes = restored.iter().map(Observation::bytes).sum();
        s.observations = Chunks::default();
        for o in restored {
            s.observations.push(o);
        }
        s.journal = Some(journal);
    }

    /// Remember that `request_id` (with `key`) was served by `served`. A
    /// request id seen before keeps its first binding; a key is bound to
    /// what served it last.
    pub fn served(&self, request_id: &str, key: Option<&str>, served: &Served) {
        let mut s = self.lock();
        if s.requests.touch(request_id).is_none() {
            let size = key.map_or(0, str::len);
            s.requests.insert(
                request_id,
                Request {
                    served: served.clone(),
                    key: key.map(str::to_string),
                    answered: false,
                },
                size,
            );
        }
        if let Some(k) = key {
            match s.keys.touch(k) {
                Some(v) => *v = served.clone(),
                None => s.keys.insert(k, served.clone(), 0),
            }
        }
    }

    /// Bytes held by the remembered requests and keys (for tests and
    /// metrics): at most twice [`STORE_BYTES`].
    #[must_use]
    pub fn retained_bytes(&self) -> usize {
        let s = self.lock();
        s.requests.bytes + s.keys.bytes
    }

    /// Record an outcome; returns what it was joined to.
    ///
    /// # Errors
    /// The request id or key was never served (or is too old), the request
    /// id has its outcome already, the store is full, or the state folder
    /// cannot be written.
    pub fn record(&self, subject: &Subject, value: f64) -> Result<Served, NotRecorded> {
        let mut s = self.lock();
        let (served, key) = match subject {
            Subject::Request(id) => match s.requests.touch(id) {
                Some(r) if r.answered => {
                    return Err(NotRecorded::Duplicate(format!(
                        "request_id \"{}\" has its outcome already; each request takes one",
                        clip(id)
                    )));
                }
                // A request served with a key is known by its key.
                Some(r) => (
                    r.served.clone(),
                    r.key.clone().unwrap_or_else(|| id.clone()),
                ),
                None => {
                    return Err(NotRecorded::Unknown(format!(
                        "request_id \"{}\" was not served by this server (or is older than the requests it remembers, the last {RECENT} at most)",
                        clip(id)
                    )));
                }
            },
            Subject::Key(k) => match s.keys.touch(k) {
                Some(v) => (v.clone(), k.clone()),
                None => {
                    return Err(NotRecorded::Unknown(format!(
                        "key \"{}\" was not served by this server (or not recently)",
                        clip(k)
                    )));
                }
            },
        };
        let o = Observation {
            served: served.clone(),
            key,
            value,
        };
        if s.observations.len() >= MAX_OBSERVATIONS
            || s.observation_bytes + o.bytes() > OBSERVATION_BYTES
        {
            return Err(NotRecorded::Unknown(format!(
                "the server holds {} observations ({} MiB) already, as many as it keeps; export them and reset the experiment (POST /admin/abtest/reset)",
                s.observations.len(),
                s.observation_bytes >> 20
            )));
        }
        if let Some(j) = &s.journal {
            j.append(&o).map_err(NotRecorded::Storage)?;
        }
        if let Subject::Request(id) = subject
            && let Some(r) = s.requests.touch(id)
        {
            r.answered = true;
        }
        s.observation_bytes += o.bytes();
        s.observations.push(o);
        Ok(served)
    }

    /// Forget every observation and every remembered request; returns how
    /// many observations were dropped.
    ///
    /// # Errors
    /// The state folder cannot be written (nothing is forgotten).
    pub fn reset(&self) -> Result<usize, String> {
        let mut s = self.lock();
        if let Some(j) = &s.journal {
            j.clear()?;
        }
        let n = s.observations.len();
        s.observations.clear();
        s.observation_bytes = 0;
        s.requests.clear();
        s.keys.clear();
        Ok(n)
    }

    /// The observations `which` names, as CSV ([`EXPORT_HEADER`]).
    ///
    /// The store is locked only to copy the list of its chunks, so
    /// predictions (which record what served them in the same store) go
    /// on while a large export is written. A key a spreadsheet would run as
    /// a formula (starting with `=`, `+`, `-`, `@`, a tab or a carriage
    /// return) is written with a `'` in front.
    #[must_use]
    pub fn export_csv(&self, which: &Which) -> String {
        let snapshot = self.lock().observations.snapshot();
        let mut w = csv::Writer::from_writer(Vec::new());
        let _ = w.write_record(EXPORT_HEADER);
        for o in snapshot.iter().flat_map(|c| c.iter()) {
            if let Which::Experiments(set) = which
                && !set.contains(&*o.served.experiment)
            {
                continue;
            }
            let mut cells = o.cells();
            if cells[1].starts_with(['=', '+', '-', '@', '\t', '\r']) {
                cells[1].insert(0, '\'');
            }
            let _ = w.write_record(cells);
        }
        String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serve::state::Variant;

    fn served(variant: Variant, version: &str, share: u8, exp: &str) -> Served {
        Served {
            variant,
            version: Arc::from(version),
            share_percent: share,
            experiment: Arc::from(exp),
        }
    }

    #[derive(Debug)]
    struct NoJournal;

    impl Journal for NoJournal {
        fn append(&self, _: &Observation) -> Result<(), String> {
            Ok(())
        }
        fn clear(&self) -> Result<(), String> {
            Ok(())
        }
    }

    /// L5: an export of the full store does not hold the lock that every
    /// prediction takes, and keys a spreadsheet would run are neutralised.
    #[test]
    fn predictions_go_on_while_a_large_export_is_written() {
        let f = Arc::new(Feedback::default());
        let a = served(Variant::Champion, "v1", 100, "m:v1/-");
        let rows: Vec<Observation> = (0..MAX_OBSERVATIONS)
            .map(|i| Observation {
                served: a.clone(),
                key: format!("user-{i}"),
                value: 1.0,
            })
            .collect();
        f.persist(rows, Arc::new(NoJournal));
        let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let export = {
            let (f, done) = (Arc::clone(&f), Arc::clone(&done));
            std::thread::spawn(move || {
                let t = std::time::Instant::now();
                let csv = f.export_csv(&Which::All);
                done.store(true, std::sync::atomic::Ordering::SeqCst);
                (csv.len(), t.elapsed())
            })
        };
        // Predictions during the export: each records what served it.
        let mut during = Vec::new();
        let mut i = 0;
        while !done.load(std::sync::atomic::Ordering::SeqCst) {
            let t = std::time::Instant::now();
            f.served(&format!("r{i}"), None, &a);
            let took = t.elapsed();
            if !done.load(std::sync::atomic::Ordering::SeqCst) {
                during.push(took);
            }
            i += 1;
            std::thread::sleep(std::time::Duration::from_micros(200));
        }
        let (bytes, export_took) = export.join().unwrap();
        assert!(bytes > 10_000_000);
        during.sort();
        let worst = during.last().copied().unwrap_or_default();
        assert!(
            during.len() >= 50 && worst < export_took / 4,
            "{} predictions during a {export_took:?} export, the slowest {worst:?}",
            during.len()
        );
        // Formula-like keys get a leading quote; the rest are as sent.
        let g = Feedback::default();
        for (i, key) in ["=1+2", "+x", "-y", "@z", "\tt", "plain", "a=b"]
            .iter()
            .enumerate()
        {
            g.served(&format!("q{i}"), Some(key), &a);
            g.record(&Subject::Key((*key).to_string()), 1.0).unwrap();
        }
        let csv = g.export_csv(&Which::All);
        let keys: Vec<&str> = csv
            .lines()
            .skip(1)
            .map(|l| l.split(',').nth(1).unwrap())
            .collect();
        assert_eq!(keys, ["'=1+2", "'+x", "'-y", "'@z", "'\tt", "plain", "a=b"]);
    }

    #[test]
    fn feedback_joins_by_request_and_key_and_exports_by_experiment() {
        let f = Feedback::default();
        let a = served(Variant::Champion, "v1", 70, "m:v1/v2");
        let b = served(Variant::Challenger, "v2", 30, "m:v1/v2");
        f.served("r1", None, &a);
        f.served("r2", Some("alice"), &b);
        assert_eq!(f.record(&Subject::Request("r1".into()), 1.0), Ok(a.clone()));
        assert_eq!(f.record(&Subject::Key("alice".into()), 0.0), Ok(b.clone()));
        assert_eq!(f.record(&Subject::Request("r2".into()), 2.5), Ok(b));
        assert!(matches!(
            f.record(&Subject::Key("bob".into()), 1.0),
            Err(NotRecorded::Unknown(_))
        ));
        // A later experiment (after a promote): its rows are apart.
        let c = served(Variant::Champion, "v2", 100, "m:v2/-");
        f.served("r3", None, &c);
        f.record(&Subject::Request("r3".into()), 4.0).unwrap();
        let head = "variant,key,value,version,planned_share,experiment\n";
        let old = "champion,r1,1,v1,0.7,m:v1/v2\nchallenger,alice,0,v2,0.3,m:v1/v2\nchallenger,alice,2.5,v2,0.3,m:v1/v2\n";
        let new = "champion,r3,4,v2,1,m:v2/-\n";
        assert_eq!(f.export_csv(&Which::All), format!("{head}{old}{new}"));
        let current = Which::Experiments(["m:v2/-".to_string()].into_iter().collect());
        assert_eq!(f.export_csv(&current), format!("{head}{new}"));
        // A reset forgets the observations and the requests.
        assert_eq!(f.reset(), Ok(4));
        assert_eq!(f.export_csv(&Which::All), head);
        assert!(f.record(&Subject::Request("r3".into()), 1.0).is_err());
    }

    /// Security review M1.
    #[test]
    fn one_outcome_per_request_id_and_the_first_binding_stays() {
        let f = Feedback::default();
        let a = served(Variant::Champion, "v1", 50, "m:v1/v2");
        let b = served(Variant::Challenger, "v2", 50, "m:v1/v2");
        f.served("r1", None, &a);
        // The same id again (a client replaying X-Request-Id), served by
        // the other variant: r1 stays bound to the first.
        f.served("r1", None, &b);
        assert_eq!(f.record(&Subject::Request("r1".into()), 1.0), Ok(a));
        assert!(matches!(
            f.record(&Subject::Request("r1".into()), 0.0),
            Err(NotRecorded::Duplicate(_))
        ));
        assert_eq!(f.export_csv(&Which::All).lines().count(), 2);
    }

    /// Security review M1.
    #[test]
    fn keys_are_evicted_least_recently_used_not_all_at_once() {
        let f = Feedback::default();
        let a = served(Variant::Champion, "v1", 50, "m:v1/v2");
        f.served("r-alice", Some("alice"), &a);
        for i in 0..RECENT - 1 {
            f.served(&format!("r{i}"), Some(&format!("junk{i}")), &a);
        }
        // Alice comes back before the flood goes on.
        f.served("r-alice-2", Some("alice"), &a);
        for i in RECENT..RECENT + RECENT / 2 {
            f.served(&format!("r{i}"), Some(&format!("junk{i}")), &a);
        }
        assert!(f.record(&Subject::Key("alice".into()), 1.0).is_ok());
        let newest = format!("junk{}", RECENT + RECENT / 2 - 1);
        assert!(f.record(&Subject::Key(newest), 1.0).is_ok());
        assert!(matches!(
            f.record(&Subject::Key("junk0".into()), 1.0),
            Err(NotRecorded::Unknown(_))
        ));
    }

    /// Security review H1.
    #[test]
    fn the_stores_are_budgeted_in_bytes() {
        let f = Feedback::default();
        let a = served(Variant::Champion, "v1", 50, "m:v1/v2");
        let big = "k".repeat(64 << 10);
        for i in 0..10_000 {
            let key = format!("{i}{big}");
            f.served(&format!("r{i}"), Some(&key), &a);
        }
        assert!(
            f.retained_bytes() <= 2 * STORE_BYTES,
            "{} bytes retained",
            f.retained_bytes()
        );
        // The newest request is still known.
        assert!(f.record(&Subject::Request("r9999".into()), 1.0).is_ok());
    }
}
