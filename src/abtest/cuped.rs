//! CUPED (Deng, Xu, Kohavi & Walker, WSDM 2013): with a pre-period
//! covariate `X`, `θ = Σ_arms C_XY / Σ_arms M2_X` (within-arm co-moments
//! pooled across arms, so a treatment effect on `Y` does not leak into θ),
//! and each arm's metric becomes `Y − θ(X − X̄)`, whose mean is
//! `Ȳ_i − θ(X̄_i − X̄)` and whose sum of squares is
//! `M2_Y − 2θ C_XY + θ² M2_X`.

use super::arms::Arms;
use super::report::CupedReport;
use super::settings::Settings;
use crate::stats::Moments;

/// The moments the tests compare, one per arm: CUPED-adjusted under
/// `--covariate` (with the adjustment's report), the raw ones otherwise.
pub(super) fn adjusted_moments(
    s: &Settings,
    arms: &Arms<'_>,
) -> (Vec<Moments>, Option<CupedReport>) {
    let arms = &arms.totals;
    let Some(cov) = &s.covariate else {
        return (arms.iter().map(|a| a.y).collect(), None);
    };
    let sxx: f64 = arms.iter().map(|a| a.x.m2).sum();
    let sxy: f64 = arms.iter().map(|a| a.cxy).sum();
    let syy: f64 = arms.iter().map(|a| a.y.m2).sum();
    let theta = if sxx > 0.0 { sxy / sxx } else { 0.0 };
    let n: f64 = arms.iter().map(|a| a.x.nf()).sum();
    let xbar: f64 = arms.iter().map(|a| a.x.mean * a.x.nf()).sum::<f64>() / n;
    let adj: Vec<Moments> = arms
        .iter()
        .map(|a| Moments {
            n: a.y.n,
            mean: a.y.mean - theta * (a.x.mean - xbar),
            m2: (a.y.m2 - 2.0 * theta * a.cxy + theta * theta * a.x.m2).max(0.0),
        })
        .collect();
    let syy_adj: f64 = adj.iter().map(|m| m.m2).sum();
    let cuped = CupedReport {
        covariate: cov.clone(),
        theta,
        variance_reduction: if syy > 0.0 { 1.0 - syy_adj / syy } else { 0.0 },
    };
    (adj, Some(cuped))
}
