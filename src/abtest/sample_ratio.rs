//! The sample ratio mismatch check: the planned split (from `--split` or
//! `abtest.planned_split`, normalised to 1; equal shares without one)
//! against the units observed per arm.

use super::arms::Arms;
use super::report::SrmReport;
use super::settings::Settings;
use crate::error::{Error, Result};
use crate::stats::srm;

/// Compare the observed split with the plan.
pub(super) fn check(s: &Settings, origin: &str, arms: &Arms<'_>) -> Result<SrmReport> {
    let planned = planned_split(s, origin, &arms.names)?;
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
            let total: f64 = sp.iter().map(|(_, w)| w).sum();
            sp.iter().map(|(n, w)| (n.clone(), w / total)).collect()
        }
        None => {
            #[allow(clippy::cast_precision_loss)]
            let w = 1.0 / arm_names.len() as f64;
            arm_names.iter().map(|n| (n.clone(), w)).collect()
        }
    })
}
