//! The sample ratio mismatch check: the planned split against the units
//! observed per arm. The plan comes from `--split`, else from the input's
//! `planned_share` column (what the server's export says each variant was
//! planned to get when it served the request), else `abtest.planned_split`,
//! else equal shares; normalised to 1. A share that changed during the
//! experiment is reported, never averaged silently.

use super::arms::Arms;
use super::report::{PlanSource, SrmReport};
use super::settings::Settings;
use super::totals::ExperimentTotals;
use crate::error::{Error, Result};
use crate::stats::srm;

/// Planned shares per variant, and the variants whose share changed with
/// the shares seen.
type ExportPlan = (Vec<(String, f64)>, Vec<(String, Vec<f64>)>);

/// The plan the export's rows carry: per arm (in `arms` order) its
/// row-weighted planned share, and the arms whose share changed. `None`
/// when the input has no `planned_share` column.
fn export_plan(
    origin: &str,
    arms: &Arms<'_>,
    totals: &ExperimentTotals,
) -> Result<Option<ExportPlan>> {
    if totals.shares.iter().all(|t| t.values.is_empty()) {
        return Ok(None);
    }
    let mut planned = Vec::with_capacity(arms.names.len());
    let mut changed = Vec::new();
    for name in &arms.names {
        let i = totals
            .names
            .iter()
            .position(|n| n == name.as_bytes())
            .ok_or_else(|| {
                Error::data(format!(
                    "{origin}: variant \"{name}\" vanished; please report it"
                ))
            })?;
        let t = &totals.shares[i];
        if t.missing > 0 || t.values.is_empty() {
            return Err(Error::data(format!(
                "{origin}: {} row(s) of variant \"{name}\" have no {}; fill the column, or pass --split",
                t.missing,
                super::read::PLAN_COLUMN
            )));
        }
        #[allow(clippy::cast_precision_loss)]
        let rows = t.values.iter().map(|(_, n)| *n as f64).sum::<f64>();
        #[allow(clippy::cast_precision_loss)]
        let mean = t.values.iter().map(|(x, n)| x * *n as f64).sum::<f64>() / rows;
        planned.push((name.clone(), mean));
        if t.values.len() > 1 {
            changed.push((name.clone(), t.values.iter().map(|(x, _)| *x).collect()));
        }
    }
    if planned.iter().map(|(_, w)| w).sum::<f64>() <= 0.0 {
        return Err(Error::data(format!(
            "{origin}: every {} is 0; there is no plan to check against; pass --split",
            super::read::PLAN_COLUMN
        )));
    }
    Ok(Some((planned, changed)))
}

/// Compare the observed split with the plan.
pub(super) fn check(
    s: &Settings,
    origin: &str,
    arms: &Arms<'_>,
    totals: &ExperimentTotals,
) -> Result<SrmReport> {
    let (planned, source, changed) = match (s.split_from_flag, export_plan(origin, arms, totals)?) {
        (false, Some((p, changed))) => (normalised(&p), PlanSource::Export, changed),
        (true, _) => (
            planned_split(s, origin, &arms.names)?,
            PlanSource::Flag,
            Vec::new(),
        ),
        (false, None) => {
            let source = if s.split.is_some() {
                PlanSource::ProjectFile
            } else {
                PlanSource::Equal
            };
            (planned_split(s, origin, &arms.names)?, source, Vec::new())
        }
    };
    let observed: Vec<(String, u64)> = planned
        .iter()
        .map(|(n, _)| {
            let c = arms
                .names
                .iter()
                .position(|m| m == n)
                .map_or(0, |i| arms.totals[i].y.n);
            (n.clone(), c)
        })
        .collect();
    let srm_raw = srm::srm(
        &observed.iter().map(|(_, c)| *c).collect::<Vec<_>>(),
        &planned.iter().map(|(_, w)| *w).collect::<Vec<_>>(),
    );
    Ok(SrmReport {
        source,
        changed,
        chi2: srm_raw.chi2,
        df: srm_raw.df,
        p: srm_raw.p,
        planned,
        observed,
        expected: srm_raw.expected,
        contributions: srm_raw.contributions,
        mismatch: srm_raw.mismatch,
    })
}

/// The planned shares, normalised to 1; every arm seen must be planned.
fn planned_split(s: &Settings, origin: &str, arm_names: &[String]) -> Result<Vec<(String, f64)>> {
    Ok(match &s.split {
        Some(sp) => {
            if let Some(extra) = arm_names.iter().find(|n| !sp.iter().any(|(m, _)| m == *n)) {
                return Err(Error::data(format!(
                    "{origin}: variant \"{extra}\" appears in column \"{}\" but not in --split (or abtest.planned_split); add it to the plan",
                    s.variant_column
                )));
            }
            normalised(sp)
        }
        None => {
            #[allow(clippy::cast_precision_loss)]
            let w = 1.0 / arm_names.len() as f64;
            arm_names.iter().map(|n| (n.clone(), w)).collect()
        }
    })
}

/// Shares scaled to sum to 1.
fn normalised(sp: &[(String, f64)]) -> Vec<(String, f64)> {
    let total: f64 = sp.iter().map(|(_, w)| w).sum();
    sp.iter().map(|(n, w)| (n.clone(), w / total)).collect()
}
