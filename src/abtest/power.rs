//! Power at the current sizes (the minimum detectable effect of each
//! comparison at 80% power) and, for `--mde`, the units per arm needed.

use super::report::{Comparison, PowerReport};
use super::settings::{Kind, Settings};
use crate::stats::Moments;
use crate::stats::power::{POWER, mde, units_per_arm};
use crate::stats::proportions::Counts;

/// Power and sizing from the control's moments and counts and each
/// comparison's standard error.
pub(super) fn power_report(
    s: &Settings,
    control: &Moments,
    ca: Counts,
    comparisons: &[Comparison],
) -> PowerReport {
    let mde = comparisons
        .iter()
        .map(|c| {
            let abs = if c.se > 0.0 {
                mde(c.se, s.alpha, POWER)
            } else {
                f64::NAN
            };
            let rel = (control.mean != 0.0).then(|| abs / control.mean.abs());
            (c.variant.clone(), abs, rel)
        })
        .collect();
    PowerReport {
        power: POWER,
        mde,
        target_mde: s.mde,
        units_per_arm: sizing(s, control, ca).filter(|u| u.is_finite()),
    }
}

/// Units per arm to detect the relative `--mde`, when one is given.
fn sizing(s: &Settings, control: &Moments, ca: Counts) -> Option<f64> {
    s.mde.map(|m| {
        if s.kind == Kind::Binary {
            let pa = ca.rate();
            let pb = pa * (1.0 + m);
            units_per_arm(pa, pa * (1.0 - pa), pb * (1.0 - pb), m, s.alpha, POWER)
        } else {
            let v = control.var();
            units_per_arm(control.mean, v, v, m, s.alpha, POWER)
        }
    })
}
