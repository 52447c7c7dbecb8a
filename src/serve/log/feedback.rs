//! The feedback store: outcomes (`POST /feedback`) joined to the variant
//! that served the request (by request id, or by the routing key), kept in
//! memory (and in the state folder's journal) for
//! `GET /admin/abtest/export`, the CSV `abtest-analyze` reads.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

pub use crate::serve::state::Served;

/// Why `/feedback` is refused while the admin API is off.
pub const FEEDBACK_OFF: &str = "feedback is off because the admin API is off: nobody could export it; start the server with the variable named by [serve].admin_token_env set";

/// Requests remembered for feedback by request id.
pub const RECENT: usize = 100_000;
/// Observations kept for the export.
pub const MAX_OBSERVATIONS: usize = 1_000_000;

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

#[derive(Debug, Default)]
struct Store {
    requests: HashMap<String, (Served, Option<String>)>,
    order: VecDeque<String>,
    keys: HashMap<String, Served>,
    observations: Vec<Observation>,
    journal: Option<Arc<dyn Journal>>,
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
        s.observations = restored;
        s.journal = Some(journal);
    }

    /// Remember that `request_id` (with `key`) was served by `served`.
    pub fn served(&self, request_id: &str, key: Option<&str>, served: &Served) {
        let mut s = self.lock();
        if s.order.len() >= RECENT
            && let Some(old) = s.order.pop_front()
        {
            s.requests.remove(&old);
        }
        s.requests.insert(
            request_id.to_string(),
            (served.clone(), key.map(str::to_string)),
        );
        s.order.push_back(request_id.to_string());
        if let Some(k) = key {
            if s.keys.len() >= RECENT && !s.keys.contains_key(k) {
                s.keys.clear();
            }
            s.keys.insert(k.to_string(), served.clone());
        }
    }

    /// Record an outcome; returns what it was joined to.
    ///
    /// # Errors
    /// The request id or key was never served (or is too old), the store
    /// is full, or the state folder cannot be written.
    pub fn record(&self, subject: &Subject, value: f64) -> Result<Served, NotRecorded> {
        let mut s = self.lock();
        let (served, key) = match subject {
            Subject::Request(id) => match s.requests.get(id) {
                // A request served with a key is known by its key.
                Some((v, k)) => (v.clone(), k.clone().unwrap_or_else(|| id.clone())),
                None => {
                    return Err(NotRecorded::Unknown(format!(
                        "request_id \"{}\" was not served by this server (or is older than the last {RECENT} requests)",
                        crate::serve::model::clip(id)
                    )));
                }
            },
            Subject::Key(k) => match s.keys.get(k) {
                Some(v) => (v.clone(), k.clone()),
                None => {
                    return Err(NotRecorded::Unknown(format!(
                        "key \"{}\" was not served by this server",
                        crate::serve::model::clip(k)
                    )));
                }
            },
        };
        if s.observations.len() >= MAX_OBSERVATIONS {
            return Err(NotRecorded::Unknown(format!(
                "the server holds {MAX_OBSERVATIONS} observations already; export them and reset the experiment (POST /admin/abtest/reset)"
            )));
        }
        let o = Observation {
            served: served.clone(),
            key,
            value,
        };
        if let Some(j) = &s.journal {
            j.append(&o).map_err(NotRecorded::Storage)?;
        }
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
        s.requests.clear();
        s.order.clear();
        s.keys.clear();
        Ok(n)
    }

    /// The observations `which` names, as CSV ([`EXPORT_HEADER`]).
    #[must_use]
    pub fn export_csv(&self, which: &Which) -> String {
        let s = self.lock();
        let mut w = csv::Writer::from_writer(Vec::new());
        let _ = w.write_record(EXPORT_HEADER);
        for o in &s.observations {
            if let Which::Experiments(set) = which
                && !set.contains(&*o.served.experiment)
            {
                continue;
            }
            let _ = w.write_record(o.cells());
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
}
