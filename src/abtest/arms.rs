//! The arms in report order: the control first, then the other variants in
//! order of first appearance, each with its name as text and its totals;
//! and each arm's summary line.

use super::report::VariantSummary;
use super::settings::{Kind, Settings};
use super::totals::{ArmTotals, ExperimentTotals};
use crate::error::{Error, Result};
use crate::stats::Moments;
use crate::stats::proportions::Counts;

/// The arms, control first.
pub(super) struct Arms<'a> {
    /// Their names.
    pub(super) names: Vec<String>,
    /// Their totals.
    pub(super) totals: Vec<&'a ArmTotals>,
}

impl<'a> Arms<'a> {
    /// Put the control first; it must be among the variants read.
    pub(super) fn control_first(
        s: &Settings,
        origin: &str,
        totals: &'a ExperimentTotals,
    ) -> Result<Arms<'a>> {
        let names: Vec<String> = totals
            .names
            .iter()
            .map(|n| String::from_utf8_lossy(n).into_owned())
            .collect();
        let Some(ci) = names.iter().position(|n| *n == s.control) else {
            let nearest = crate::project::nearest(
                &s.control,
                &names.iter().map(String::as_str).collect::<Vec<_>>(),
            )
            .map_or_else(String::new, |n| format!(" (did you mean \"{n}\"?)"));
            return Err(Error::data(format!(
                "{origin}: the control variant \"{}\" does not appear in column \"{}\"{nearest}; variants seen: {}; fix --control",
                s.control,
                s.variant_column,
                names.join(", ")
            )));
        };
        // Control first, then the rest in order of appearance.
        let mut order: Vec<usize> = vec![ci];
        order.extend((0..names.len()).filter(|&i| i != ci));
        Ok(Arms {
            totals: order.iter().map(|&i| &totals.arms[i]).collect(),
            names: order.iter().map(|&i| names[i].clone()).collect(),
        })
    }

    /// Units and conversions of arm `i`.
    pub(super) fn counts(&self, i: usize) -> Counts {
        Counts {
            n: self.totals[i].y.n,
            x: self.totals[i].ones,
        }
    }

    /// Each arm's summary; `moments` are the ones the tests compare (CUPED-
    /// adjusted under `--covariate`).
    pub(super) fn summaries(&self, s: &Settings, moments: &[Moments]) -> Vec<VariantSummary> {
        self.totals
            .iter()
            .zip(&self.names)
            .zip(moments)
            .map(|((a, name), m)| VariantSummary {
                name: name.clone(),
                n: a.y.n,
                mean: a.y.mean,
                sd: a.y.sd(),
                conversions: (s.kind == Kind::Binary).then_some(a.ones),
                adjusted_mean: s.covariate.as_ref().map(|_| m.mean),
            })
            .collect()
    }
}
