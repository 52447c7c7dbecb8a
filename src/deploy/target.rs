//! What a deploy target is asked and what it answers: the [`Target`]
//! trait, the [`Step`] and [`Job`] it applies, what runs now ([`Live`]),
//! and the [`Check`]s it passed.

use crate::bundle::Bundle;
use crate::error::Result;
use crate::project::TargetKind;

use super::smoke;

/// One verification step and its outcome.
#[derive(Debug, Clone)]
pub struct Check {
    /// What was checked.
    pub name: String,
    /// Whether it passed (a report only carries passed checks; failures are errors).
    pub ok: bool,
    /// What was found.
    pub detail: String,
}

impl Check {
    /// A passed check.
    #[must_use]
    pub fn pass(name: &str, detail: impl Into<String>) -> Check {
        Check {
            name: name.to_string(),
            ok: true,
            detail: detail.into(),
        }
    }
}

/// What the environment runs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Live {
    /// The champion's version.
    pub champion: Option<String>,
    /// The challenger's version (a canary).
    pub challenger: Option<String>,
    /// The challenger's share of traffic.
    pub challenger_percent: u8,
}

/// What a target is asked to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Make the bundle the champion; drop a running challenger when asked.
    Replace {
        /// Remove the challenger too (rollback during a canary).
        drop_challenger: bool,
    },
    /// Load the bundle as challenger with this share of traffic.
    Canary(u8),
    /// The challenger (the bundle) becomes the champion.
    Promote,
    /// Remove the challenger; the champion (the bundle) stays.
    DropChallenger,
}

/// Everything a target needs to apply and verify a step.
pub struct Job<'a> {
    /// The step.
    pub step: Step,
    /// The model name.
    pub model: &'a str,
    /// The verified bundle of the version that ends up live in the step's slot.
    pub bundle: &'a Bundle,
    /// Its bytes.
    pub bytes: &'a [u8],
    /// Rows with known predictions.
    pub smoke: &'a smoke::Rows,
    /// The champion read before acting (for `If-Match`): what the registry
    /// says, which the agreement check found live, or with `--force` what
    /// was live.
    pub registry_champion: Option<&'a str>,
    /// The bundle of an earlier version, to restore it by re-uploading.
    pub fetch: &'a dyn Fn(&str) -> Result<Vec<u8>>,
}

/// A deploy target: reads what is live, applies a step and verifies it,
/// putting back what was live when verification fails.
pub trait Target {
    /// `local`, `http` or `kubernetes`.
    fn kind(&self) -> TargetKind;
    /// The folder or URL, for messages.
    fn location(&self) -> String;
    /// Take the environment's deploy lock (held until the target is dropped).
    fn lock(&mut self) -> Result<()>;
    /// What runs now.
    fn live(&mut self) -> Result<Live>;
    /// Apply and verify `job`; the checks that passed.
    fn apply(&mut self, job: &Job<'_>) -> Result<Vec<Check>>;
}
