//! The decision and its reasons: invalid when there is nothing to compare,
//! too little data or a sample ratio mismatch; else ship when a challenger
//! is significantly better, keep when one is significantly worse and none
//! better, inconclusive otherwise.

use super::report::{Comparison, Decision, SrmReport, VariantSummary};
use super::settings::{Direction, Settings, correction_name};
use crate::stats::srm;

/// The decision, with the reasons in the order they are reported.
pub(super) fn decide(
    s: &Settings,
    variants: &[VariantSummary],
    srm: &SrmReport,
    experiments: &[String],
    comparisons: &[Comparison],
) -> (Decision, Vec<String>) {
    let mut reasons = Vec::new();
    let mixed = mixed(srm, experiments, &mut reasons);
    let decision = if invalid(s, variants, srm, &mut reasons) || mixed {
        Decision::Invalid
    } else {
        verdict(s, comparisons, &mut reasons)
    };
    (decision, reasons)
}

/// Whether the rows mix periods or experiments (from an export's
/// `planned_share` and `experiment` columns); each mix is a reason.
fn mixed(srm: &SrmReport, experiments: &[String], reasons: &mut Vec<String>) -> bool {
    for (v, shares) in &srm.changed {
        let list: Vec<String> = shares.iter().map(|x| format!("{x}")).collect();
        reasons.push(format!(
            "the planned share of \"{v}\" changed during the experiment ({}); analyse one period at a time (POST /admin/abtest/reset after each change of split), or pass --split",
            list.join(" then ")
        ));
    }
    if experiments.len() > 1 {
        reasons.push(format!(
            "the rows come from {} experiments ({}); export one (GET /admin/abtest/export?experiment=current) or filter the rows",
            experiments.len(),
            experiments.join(", ")
        ));
    }
    !srm.changed.is_empty() || experiments.len() > 1
}

/// Whether the experiment cannot be trusted; each cause is a reason.
fn invalid(
    s: &Settings,
    variants: &[VariantSummary],
    srm: &SrmReport,
    reasons: &mut Vec<String>,
) -> bool {
    let mut invalid = false;
    if variants.len() < 2 {
        invalid = true;
        reasons.push(format!(
            "only one variant (\"{}\") is in the data; there is nothing to compare",
            s.control
        ));
    }
    for v in variants {
        if v.n < 2 {
            invalid = true;
            reasons.push(format!(
                "too little data: variant \"{}\" has {} unit{}; need at least 2 per arm",
                v.name,
                v.n,
                if v.n == 1 { "" } else { "s" }
            ));
        }
    }
    if srm.mismatch {
        invalid = true;
        reasons.push(format!(
            "sample ratio mismatch: the observed split differs from the plan (chi-square p = {:.3e} < {}); fix the assignment before trusting any result",
            srm.p.p,
            srm::THRESHOLD
        ));
    }
    invalid
}

/// Ship, keep or inconclusive, from the significant comparisons.
fn verdict(s: &Settings, comparisons: &[Comparison], reasons: &mut Vec<String>) -> Decision {
    let better = |c: &Comparison| match s.direction {
        Direction::Increase => c.difference > 0.0,
        Direction::Decrease => c.difference < 0.0,
    };
    let winners: Vec<&Comparison> = comparisons
        .iter()
        .filter(|c| c.significant && better(c))
        .collect();
    let losers: Vec<&Comparison> = comparisons
        .iter()
        .filter(|c| c.significant && !better(c) && c.difference != 0.0)
        .collect();
    if !winners.is_empty() {
        for c in &winners {
            reasons.push(format!(
                "\"{}\" is significantly better than \"{}\" (adjusted p = {:.3e} < {})",
                c.variant, s.control, c.p_adjusted, s.alpha
            ));
        }
        Decision::Ship
    } else if !losers.is_empty() {
        for c in &losers {
            reasons.push(format!(
                "\"{}\" is significantly worse than \"{}\" (adjusted p = {:.3e} < {})",
                c.variant, s.control, c.p_adjusted, s.alpha
            ));
        }
        Decision::Keep
    } else {
        inconclusive_reasons(s, comparisons, reasons);
        Decision::Inconclusive
    }
}

/// Nothing significant: say so, and pass on each comparison's notes on
/// what could not be tested.
fn inconclusive_reasons(s: &Settings, comparisons: &[Comparison], reasons: &mut Vec<String>) {
    reasons.push(format!(
        "no variant differs significantly from \"{}\" at alpha = {} after {} correction",
        s.control,
        s.alpha,
        correction_name(s.correction)
    ));
    for c in comparisons {
        for n in &c.notes {
            if n.contains("not defined") || n.contains("too few") || n.contains("same outcome") {
                reasons.push(format!("\"{}\": {n}", c.variant));
            }
        }
    }
}
