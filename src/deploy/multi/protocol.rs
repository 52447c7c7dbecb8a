//! The steps of a deploy across targets, each recorded in the journal
//! before it runs: stage and verify on every target (up to `max_parallel`
//! at once), commit in order (baking between commits when asked), and on
//! any failure compensate: revert the committed targets, remove what was
//! staged on the others.

use std::time::Duration;

use crate::bundle::Bundle;
use crate::error::{Error, Result};
use crate::project::Project;

use super::super::phase::Requests;
use super::super::smoke;
use super::super::target::{Check, Job, Step};
use super::journal::{Failure, Journal, Phase, TargetState};
use super::plan::Planned;

/// What the steps need besides the targets.
pub(crate) struct Ctx<'a> {
    pub(crate) project: &'a Project,
    pub(crate) model: &'a str,
    pub(crate) bundle: &'a Bundle,
    pub(crate) bytes: &'a [u8],
    /// The bundle of an earlier version (to put it back).
    pub(crate) fetch: &'a dyn Fn(&str) -> Result<Vec<u8>>,
    pub(crate) max_parallel: usize,
    pub(crate) bake: Option<Duration>,
    pub(crate) max_error_ratio: f64,
    /// Fault injection for tests: after writing step k, wait for the file.
    pub(crate) pause: Option<&'a (u64, std::path::PathBuf)>,
}

impl Ctx<'_> {
    /// Write the journal's next step (and honour the pause hook).
    pub(crate) fn save(&self, j: &mut Journal) -> Result<()> {
        j.write(self.project)?;
        if let Some((k, go)) = self.pause
            && j.step == *k
        {
            while !go.exists() {
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        Ok(())
    }

    fn smoke_rows(&self, p: &Planned<'_>) -> smoke::Rows {
        smoke::rows(
            self.project,
            &self.bundle.artifact,
            p.section.smoke_rows.unwrap_or(5),
        )
    }
}

fn no_fetch(v: &str) -> Result<Vec<u8>> {
    Err(Error::Registry(format!(
        "the bundle of {v} is not needed while staging"
    )))
}

/// A failure of `target`: the journal's record of it.
fn failure(target: &str, e: &Error) -> Failure {
    Failure {
        target: target.to_string(),
        reason: e.to_string(),
        exit_code: if e.exit_code() == 1 { 1 } else { 5 },
    }
}

/// Run the deploy forward from where the journal is; the checks each
/// target passed. A failure is returned with its target.
pub(crate) fn forward(
    cx: &Ctx<'_>,
    j: &mut Journal,
    targets: &mut [Planned<'_>],
    checks: &mut Vec<(String, Check)>,
) -> std::result::Result<(), Failure> {
    let at = |e: Error| failure("", &e);
    if j.phase == Phase::Staging {
        stage_all(cx, j, targets, checks)?;
        j.phase = Phase::Committing;
        cx.save(j).map_err(at)?;
    }
    if j.phase == Phase::Committing {
        for p in targets.iter_mut() {
            if j.target_mut(&p.name)
                .is_some_and(|t| t.state == TargetState::Committed)
            {
                continue;
            }
            set(j, &p.name, TargetState::Committing);
            cx.save(j).map_err(at)?;
            let rows = cx.smoke_rows(p);
            let job = job(cx, &rows, cx.fetch);
            let got = p.target.commit(&job).map_err(|e| failure(&p.name, &e))?;
            checks.extend(got.into_iter().map(|c| (p.name.clone(), c)));
            set(j, &p.name, TargetState::Committed);
            cx.save(j).map_err(at)?;
            if let Some(d) = cx.bake {
                checks.push((p.name.clone(), bake(cx, p, d)?));
            }
        }
        j.phase = Phase::Tagging;
        cx.save(j).map_err(at)?;
    }
    Ok(())
}

fn set(j: &mut Journal, name: &str, s: TargetState) {
    if let Some(t) = j.target_mut(name) {
        t.state = s;
    }
}

fn job<'a>(
    cx: &Ctx<'a>,
    rows: &'a smoke::Rows,
    fetch: &'a dyn Fn(&str) -> Result<Vec<u8>>,
) -> Job<'a> {
    Job {
        step: Step::Replace {
            drop_challenger: false,
        },
        model: cx.model,
        bundle: cx.bundle,
        bytes: cx.bytes,
        smoke: rows,
        registry_champion: None,
        fetch,
    }
}

/// Stage and verify every target not yet verified, `max_parallel` at once.
fn stage_all(
    cx: &Ctx<'_>,
    j: &mut Journal,
    targets: &mut [Planned<'_>],
    checks: &mut Vec<(String, Check)>,
) -> std::result::Result<(), Failure> {
    let todo: Vec<usize> = (0..targets.len())
        .filter(|&i| {
            j.target_mut(&targets[i].name)
                .is_some_and(|t| matches!(t.state, TargetState::Planned | TargetState::Staging))
        })
        .collect();
    let rows: Vec<smoke::Rows> = targets.iter().map(|p| cx.smoke_rows(p)).collect();
    for chunk in todo.chunks(cx.max_parallel.max(1)) {
        for &i in chunk {
            set(j, &targets[i].name, TargetState::Staging);
        }
        cx.save(j).map_err(|e| failure("", &e))?;
        let (model, bundle, bytes) = (cx.model, cx.bundle, cx.bytes);
        let rows = &rows;
        let results: Vec<(usize, Result<Vec<Check>>)> = std::thread::scope(|s| {
            let handles: Vec<_> = targets
                .iter_mut()
                .enumerate()
                .filter(|(i, _)| chunk.contains(i))
                .map(|(i, p)| {
                    s.spawn(move || {
                        let job = Job {
                            step: Step::Replace {
                                drop_challenger: false,
                            },
                            model,
                            bundle,
                            bytes,
                            smoke: &rows[i],
                            registry_champion: None,
                            fetch: &no_fetch,
                        };
                        (i, p.target.stage(&job))
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| {
                        (
                            usize::MAX,
                            Err(Error::Check("a staging thread panicked".into())),
                        )
                    })
                })
                .collect()
        });
        let mut first = None;
        for (i, r) in results {
            let Some(p) = targets.get(i) else {
                first.get_or_insert(failure(
                    "",
                    &Error::Check("a staging thread panicked".into()),
                ));
                continue;
            };
            match r {
                Ok(c) => {
                    checks.extend(c.into_iter().map(|c| (p.name.clone(), c)));
                    set(j, &p.name, TargetState::Verified);
                }
                Err(e) => {
                    first.get_or_insert(failure(&p.name, &e));
                }
            }
        }
        cx.save(j).map_err(|e| failure("", &e))?;
        if let Some(f) = first {
            return Err(f);
        }
    }
    Ok(())
}

/// Wait `d`, then compare the target's failed share of requests over the
/// wait with `[deploy] max_error_ratio`.
fn bake(cx: &Ctx<'_>, p: &mut Planned<'_>, d: Duration) -> std::result::Result<Check, Failure> {
    let read = |p: &mut Planned<'_>| p.target.requests().map_err(|e| failure(&p.name, &e));
    let before = read(p)?;
    std::thread::sleep(d);
    let after = read(p)?;
    let (Some(b), Some(a)) = (before, after) else {
        return Ok(Check::pass(
            "bake",
            format!(
                "waited {} s; the target keeps no request counts",
                d.as_secs_f64()
            ),
        ));
    };
    let delta = Requests {
        failed: a.failed.saturating_sub(b.failed),
        total: a.total.saturating_sub(b.total),
    };
    #[allow(clippy::cast_precision_loss)]
    let ratio = if delta.total == 0 {
        0.0
    } else {
        delta.failed as f64 / delta.total as f64
    };
    if ratio > cx.max_error_ratio {
        return Err(failure(
            &p.name,
            &Error::Check(format!(
                "{} of {} prediction requests failed during the {} s bake (error ratio {ratio:.4}), above [deploy] max_error_ratio = {}",
                delta.failed,
                delta.total,
                d.as_secs_f64(),
                cx.max_error_ratio
            )),
        ));
    }
    Ok(Check::pass(
        "bake",
        format!(
            "{} of {} requests failed in {} s (ratio {ratio:.4} ≤ {})",
            delta.failed,
            delta.total,
            d.as_secs_f64(),
            cx.max_error_ratio
        ),
    ))
}

/// Put every target back: revert the committed (or committing) ones to
/// their previous version, remove what was staged on the others. The
/// journal ends `aborted`, or stays `compensating` when a target could not
/// be put back (its reasons returned).
pub(crate) fn compensate(
    cx: &Ctx<'_>,
    j: &mut Journal,
    targets: &mut [Planned<'_>],
) -> Result<Vec<String>> {
    j.phase = Phase::Compensating;
    cx.save(j)?;
    let mut failed = Vec::new();
    for p in targets.iter_mut().rev() {
        let Some(t) = j.target_mut(&p.name) else {
            continue;
        };
        let (state, previous) = (t.state, t.previous.clone());
        let rows = cx.smoke_rows(p);
        let job = job(cx, &rows, cx.fetch);
        let (done, r) = match state {
            TargetState::Committing | TargetState::Committed => (
                TargetState::Reverted,
                p.target
                    .revert(&job, previous.as_deref())
                    .and_then(|()| p.target.unstage(&cx.bundle.version)),
            ),
            TargetState::Planned | TargetState::Staging | TargetState::Verified => {
                (TargetState::Unstaged, p.target.unstage(&cx.bundle.version))
            }
            TargetState::Reverted | TargetState::Unstaged => continue,
        };
        match r {
            Ok(()) => {
                set(j, &p.name, done);
                cx.save(j)?;
            }
            Err(e) => failed.push(format!("{}: {e}", p.name)),
        }
    }
    if failed.is_empty() {
        j.phase = Phase::Aborted;
        cx.save(j)?;
    }
    Ok(failed)
}
