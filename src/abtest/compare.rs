//! Every variant against the control: the test (resolving `auto`), its
//! interval, the relative lift, the chance to win, notes on whatever is not
//! defined, and the multiple-comparison correction over the family.

use super::arms::Arms;
use super::report::Comparison;
use super::settings::{Direction, Kind, Settings, TestChoice, correction_name};
use crate::stats::correction::adjust;
use crate::stats::proportions::{Counts, PropTest};
use crate::stats::ttest::TTest;
use crate::stats::{Moments, PValue, TestResult, bayes, mannwhitney, proportions, ttest};

/// The control (`a`) and one variant (`b`) as the tests see them.
struct Pair<'a> {
    a: &'a Moments,
    b: &'a Moments,
    ca: Counts,
    cb: Counts,
    values_a: &'a [f64],
    values_b: &'a [f64],
}

/// What a test gives for the difference `b − a`.
struct Outcome {
    result: TestResult,
    difference: f64,
    ci: [f64; 2],
    se: f64,
    /// The quantile of the interval, reused for the relative lift.
    quantile: f64,
}

/// Every variant against the control, in report order, with adjusted
/// p-values; `moments` are the ones the tests compare.
pub(super) fn compare_all(s: &Settings, arms: &Arms<'_>, moments: &[Moments]) -> Vec<Comparison> {
    let mut comparisons: Vec<Comparison> = (1..arms.totals.len())
        .map(|i| {
            let pair = Pair {
                a: &moments[0],
                b: &moments[i],
                ca: arms.counts(0),
                cb: arms.counts(i),
                values_a: &arms.totals[0].values,
                values_b: &arms.totals[i].values,
            };
            compare(s, &pair, arms.names[i].clone())
        })
        .collect();
    let ps: Vec<f64> = comparisons.iter().map(|c| c.result.p.p).collect();
    let adj = adjust(&ps, s.correction);
    for (c, p) in comparisons.iter_mut().zip(adj) {
        c.p_adjusted = p;
        c.significant = p < s.alpha;
    }
    comparisons
}

/// The family of the correction, in words.
pub(super) fn family(s: &Settings, comparisons: usize) -> String {
    format!(
        "{} comparison{} against control \"{}\", {} correction",
        comparisons,
        if comparisons == 1 { "" } else { "s" },
        s.control,
        correction_name(s.correction)
    )
}

/// One variant against the control, before the correction.
fn compare(s: &Settings, pair: &Pair<'_>, variant: String) -> Comparison {
    let mut notes = Vec::new();
    let test = resolve(s, pair);
    let t = run(test, s.alpha, pair, &mut notes);
    if t.result.p.p.is_nan() {
        notes.push(undefined_test_note(s, pair));
    }
    let rel = relative_lift(s, test, pair, t.quantile);
    if rel.is_none() {
        notes.push("the control mean is 0, so the relative lift is not defined".into());
    }
    Comparison {
        variant,
        test,
        result: t.result,
        p_adjusted: f64::NAN,
        difference: t.difference,
        ci: t.ci,
        relative_lift: rel.map(|r| r.0),
        relative_ci: rel.map(|r| r.1),
        chance_to_win: chance_to_win(s, pair, t.difference, t.se),
        significant: false,
        notes,
        se: t.se,
    }
}

/// The test asked for, with `auto` resolved: Welch for a continuous
/// metric; Fisher for a binary one when an expected cell is small, else z.
fn resolve(s: &Settings, pair: &Pair<'_>) -> TestChoice {
    match (s.test, s.kind) {
        (TestChoice::Auto, Kind::Continuous) => TestChoice::Welch,
        (TestChoice::Auto, Kind::Binary) => {
            if proportions::small_expected(pair.ca, pair.cb) {
                TestChoice::Fisher
            } else {
                TestChoice::Z
            }
        }
        (t, _) => t,
    }
}

/// Run the test; Mann–Whitney adds notes on its method and interval.
fn run(test: TestChoice, alpha: f64, pair: &Pair<'_>, notes: &mut Vec<String>) -> Outcome {
    let (control, mb, ca, cb) = (pair.a, pair.b, pair.ca, pair.cb);
    match test {
        TestChoice::Welch | TestChoice::Student | TestChoice::Auto => {
            let t: TTest = if test == TestChoice::Student {
                ttest::student(control, mb, alpha)
            } else {
                ttest::welch(control, mb, alpha)
            };
            Outcome::from(t)
        }
        TestChoice::MannWhitney => mann_whitney(alpha, pair, notes),
        TestChoice::Z | TestChoice::Chi2 | TestChoice::Fisher => {
            let t: PropTest = match test {
                TestChoice::Z => proportions::z_test(ca, cb, alpha),
                TestChoice::Chi2 => proportions::chi2_test(ca, cb, alpha),
                _ => proportions::fisher(ca, cb, alpha),
            };
            Outcome::from(t)
        }
    }
}

impl From<TTest> for Outcome {
    fn from(t: TTest) -> Outcome {
        Outcome {
            result: t.test,
            difference: t.difference,
            ci: t.ci,
            se: t.se,
            quantile: t.quantile,
        }
    }
}

impl From<PropTest> for Outcome {
    fn from(t: PropTest) -> Outcome {
        Outcome {
            result: t.test,
            difference: t.difference,
            ci: t.ci,
            se: t.se,
            quantile: t.quantile,
        }
    }
}

/// Mann–Whitney's p-value with Welch's interval of the difference of means.
fn mann_whitney(alpha: f64, pair: &Pair<'_>, notes: &mut Vec<String>) -> Outcome {
    let t = ttest::welch(pair.a, pair.b, alpha);
    let r = mannwhitney::mann_whitney(pair.values_a, pair.values_b).map_or(
        TestResult {
            statistic: f64::NAN,
            df: None,
            p: PValue::NAN,
        },
        |(r, m)| {
            notes.push(match m {
                mannwhitney::Method::Exact => "Mann-Whitney: exact distribution".into(),
                mannwhitney::Method::Asymptotic => {
                    "Mann-Whitney: normal approximation with tie and continuity corrections".into()
                }
            });
            r
        },
    );
    notes.push("the interval is Welch's interval of the difference of means".to_string());
    Outcome {
        result: r,
        ..Outcome::from(t)
    }
}

/// Why a test gave no p-value.
fn undefined_test_note(s: &Settings, pair: &Pair<'_>) -> String {
    let (ca, cb) = (pair.ca, pair.cb);
    if pair.a.n < 2 || pair.b.n < 2 {
        "too few units for a test (need at least 2 per arm)".to_string()
    } else if s.kind == Kind::Binary && (ca.x + cb.x == 0 || ca.x + cb.x == ca.n + cb.n) {
        "every unit has the same outcome in both arms; nothing to test".to_string()
    } else {
        "both arms have zero variance; the test is not defined".to_string()
    }
}

/// The relative lift `B/A − 1` and its interval; `None` when the control
/// mean is 0. A proportion test uses the binomial variances.
fn relative_lift(
    s: &Settings,
    test: TestChoice,
    pair: &Pair<'_>,
    q: f64,
) -> Option<(f64, [f64; 2])> {
    let (control, mb) = (pair.a, pair.b);
    let (var_a, var_b) = if s.kind == Kind::Binary
        && matches!(test, TestChoice::Z | TestChoice::Chi2 | TestChoice::Fisher)
    {
        let (pa, pb) = (pair.ca.rate(), pair.cb.rate());
        (pa * (1.0 - pa), pb * (1.0 - pb))
    } else {
        (control.var(), mb.var())
    };
    ttest::relative_lift(
        control.mean,
        var_a,
        control.nf(),
        mb.mean,
        var_b,
        mb.nf(),
        q,
    )
}

/// The posterior probability that the variant is better, in the
/// direction asked for.
fn chance_to_win(s: &Settings, pair: &Pair<'_>, difference: f64, se: f64) -> f64 {
    let win = if s.kind == Kind::Binary {
        bayes::beta_binomial_win(pair.ca, pair.cb)
    } else {
        bayes::normal_win(difference, se)
    };
    match s.direction {
        Direction::Increase => win,
        Direction::Decrease => 1.0 - win,
    }
}
