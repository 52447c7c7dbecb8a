//! `abtest-analyze`: read an experiment's rows (CSV or JSON Lines, from a
//! file, stdin or a URL), aggregate them per variant in one streaming pass,
//! compare every variant with the control and decide.
//!
//! Memory does not grow with the row count: each variant keeps Welford
//! moments (and co-moments with the covariate for CUPED). Only the
//! Mann–Whitney test keeps the values, and `--unit` keeps one running sum per
//! unit. The statistics themselves live in [`crate::stats`].
//!
//! One file per step: `settings` (the request) → `read` (rows into
//! `totals`) → `arms` (control first) → `sample_ratio` → `cuped` →
//! `compare` → `power` → `decide` → `report` (the answer).

mod arms;
mod compare;
mod cuped;
mod decide;
mod power;
mod read;
mod report;
mod sample_ratio;
mod settings;
mod totals;

pub use report::{
    Comparison, CupedReport, Decision, PlanSource, PowerReport, Report, SrmReport, VariantSummary,
};
pub use settings::{
    Bearer, DEFAULT_TOKEN_ENV, Direction, Input, Kind, Settings, TestChoice, correction_name,
    parse_split,
};

use crate::error::{Error, Result};
use crate::report::Progress;
use arms::Arms;
use totals::ExperimentTotals;

/// Read the input and analyse it.
pub fn analyze(s: &Settings, progress: &dyn Progress) -> Result<Report> {
    s.check()?;
    let (origin, totals) = read::read_input(s, progress)?;
    analyze_totals(s, origin, totals)
}

/// From the totals of the pass to the report, step by step.
fn analyze_totals(s: &Settings, origin: String, mut totals: ExperimentTotals) -> Result<Report> {
    if totals.rows == 0 {
        return Err(Error::data(format!(
            "{origin} has no data rows; check the input (and the URL or file)"
        )));
    }
    totals.finish(s);
    totals.check_finite(s, &origin)?;
    let arms = Arms::control_first(s, &origin, &totals)?;
    let srm = sample_ratio::check(s, &origin, &arms, &totals)?;
    let experiments: Vec<String> = totals
        .experiments
        .values
        .iter()
        .map(|(e, _)| String::from_utf8_lossy(e).into_owned())
        .collect();
    let (moments, cuped) = cuped::adjusted_moments(s, &arms);
    let variants = arms.summaries(s, &moments);
    let comparisons = compare::compare_all(s, &arms, &moments);
    let family = compare::family(s, comparisons.len());
    let power = power::power_report(s, &moments[0], arms.counts(0), &comparisons);
    let (decision, reasons) = decide::decide(s, &variants, &srm, &experiments, &comparisons);
    Ok(Report {
        origin,
        settings: s.clone(),
        rows: totals.rows,
        experiments,
        variants,
        srm,
        comparisons,
        family,
        power,
        cuped,
        decision,
        reasons,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::NoProgress;
    use crate::stats::correction::Correction;

    fn settings(input: Input, kind: Kind) -> Settings {
        Settings {
            input,
            variant_column: "variant".into(),
            metric: "y".into(),
            kind,
            control: "A".into(),
            alpha: 0.05,
            split: None,
            split_from_flag: false,
            bearer: Bearer::default(),
            test: TestChoice::Auto,
            correction: Correction::Holm,
            unit: None,
            covariate: None,
            mde: None,
            direction: Direction::Increase,
        }
    }

    fn run(text: &str, kind: Kind, f: impl FnOnce(&mut Settings)) -> Result<Report> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("d.csv");
        std::fs::write(&p, text).unwrap();
        let mut s = settings(Input::Path(p), kind);
        f(&mut s);
        analyze(&s, &NoProgress)
    }

    #[test]
    fn welch_and_ship() {
        let mut t = String::from("variant,y\n");
        for i in 0..50 {
            t.push_str(&format!("A,{}\nB,{}\n", i % 7, i % 7 + 3));
        }
        let r = run(&t, Kind::Continuous, |_| {}).unwrap();
        assert_eq!(r.decision, Decision::Ship);
        assert_eq!(r.comparisons[0].test, TestChoice::Welch);
        assert!((r.comparisons[0].difference - 3.0).abs() < 1e-12);
    }

    #[test]
    fn degenerate_inputs_answer() {
        let r = run("variant,y\nA,1\nA,1\nB,1\nB,1\n", Kind::Continuous, |_| {}).unwrap();
        assert_eq!(r.decision, Decision::Inconclusive);
        assert!(r.comparisons[0].result.p.p.is_nan());
        let r = run("variant,y\nA,1\nB,2\n", Kind::Continuous, |_| {}).unwrap();
        assert_eq!(r.decision, Decision::Invalid);
        let r = run("variant,y\nA,1\nA,2\n", Kind::Continuous, |_| {}).unwrap();
        assert_eq!(r.decision, Decision::Invalid);
        assert!(r.comparisons.is_empty());
        let r = run("variant,y\nA,1\nA,2\nB,5\nB,5\n", Kind::Continuous, |_| {}).unwrap();
        assert!(r.comparisons[0].result.p.p.is_finite());
    }

    #[test]
    fn bad_input_names_the_place() {
        let e = run("variant,y\nA,1\nB,x\n", Kind::Continuous, |_| {}).unwrap_err();
        assert_eq!(e.exit_code(), 3);
        assert!(e.to_string().contains("d.csv:3: column \"y\""), "{e}");
        let e = run("variant,y\nA,1\nB,2\n", Kind::Binary, |_| {}).unwrap_err();
        assert!(
            e.to_string().contains(":3: column \"y\": \"2\" is not 0/1"),
            "{e}"
        );
        let e = run("variant,y\nA,1\nB,2\n", Kind::Continuous, |s| {
            s.control = "C".into()
        })
        .unwrap_err();
        assert!(e.to_string().contains("control variant \"C\""), "{e}");
        let e = run("variant,z\nA,1\n", Kind::Continuous, |_| {}).unwrap_err();
        assert!(
            e.to_string()
                .contains("required column \"y\" not in the header"),
            "{e}"
        );
    }

    /// Security review L8.
    #[test]
    fn values_whose_squares_overflow_are_refused_naming_the_column() {
        let mut t = String::from("variant,y\n");
        for i in 0..20 {
            let sign = if i % 2 == 0 { "" } else { "-" };
            t.push_str(&format!("A,{sign}1e200\nB,{sign}2e200\n"));
        }
        let e = run(&t, Kind::Continuous, |_| {}).unwrap_err();
        assert_eq!(e.exit_code(), 3);
        let msg = e.to_string();
        assert!(
            msg.contains("column \"y\" of variant \"A\" holds values too large")
                && msg.contains("rescale"),
            "{msg}"
        );
        // The same data rescaled is analysed.
        let small = t.replace("e200", "");
        assert!(run(&small, Kind::Continuous, |_| {}).is_ok());
    }

    #[test]
    fn units_aggregate_and_must_not_switch() {
        let r = run(
            "variant,y,u\nA,1,a\nA,2,a\nA,3,b\nB,1,c\nB,1,d\nB,1,c\n",
            Kind::Continuous,
            |s| s.unit = Some("u".into()),
        )
        .unwrap();
        assert_eq!(r.variants[0].n, 2);
        assert!((r.variants[0].mean - 3.0).abs() < 1e-12);
        assert!((r.variants[1].mean - 1.5).abs() < 1e-12);
        let e = run("variant,y,u\nA,1,a\nB,2,a\n", Kind::Continuous, |s| {
            s.unit = Some("u".into());
        })
        .unwrap_err();
        assert!(e.to_string().contains("d.csv:3: unit \"a\""), "{e}");
    }

    #[test]
    fn srm_marks_invalid() {
        let mut t = String::from("variant,y\n");
        for i in 0..1000 {
            t.push_str(&format!("A,{}\n", i % 2));
        }
        for i in 0..800 {
            t.push_str(&format!("B,{}\n", i % 2));
        }
        let r = run(&t, Kind::Binary, |_| {}).unwrap();
        assert!(r.srm.mismatch);
        assert_eq!(r.decision, Decision::Invalid);
    }

    #[test]
    fn jsonl_is_read() {
        let r = run(
            "{\"variant\":\"A\",\"y\":true}\n{\"variant\":\"A\",\"y\":false}\n{\"variant\":\"B\",\"y\":1}\n{\"variant\":\"B\",\"y\":0}\n",
            Kind::Binary,
            |_| {},
        )
        .unwrap();
        assert_eq!(r.variants[1].conversions, Some(1));
        assert_eq!(r.comparisons[0].test, TestChoice::Fisher);
    }

    #[test]
    fn cuped_removes_the_pre_period_variance() {
        // y = pre + effect (+ a little noise): theta ≈ 1 and the adjusted
        // arms keep the effect with most of the variance gone.
        let mut t = String::from("variant,y,pre\n");
        for i in 0..200 {
            let pre = f64::from((i * 37) % 101);
            let noise = f64::from(i % 3) * 0.1;
            t.push_str(&format!(
                "A,{},{pre}\nB,{},{pre}\n",
                pre + noise,
                pre + 2.0 + noise
            ));
        }
        let r = run(&t, Kind::Continuous, |s| s.covariate = Some("pre".into())).unwrap();
        let c = r.cuped.as_ref().unwrap();
        assert!((c.theta - 1.0).abs() < 1e-3, "{}", c.theta);
        assert!(c.variance_reduction > 0.99, "{}", c.variance_reduction);
        assert!((r.comparisons[0].difference - 2.0).abs() < 1e-9);
        assert_eq!(r.decision, Decision::Ship);
        let plain = run(&t, Kind::Continuous, |_| {}).unwrap();
        assert!(plain.comparisons[0].result.p.p > r.comparisons[0].result.p.p);
    }

    #[test]
    fn the_token_is_never_in_debug_output() {
        let mut s = settings(Input::Url("http://h/x".into()), Kind::Binary);
        s.bearer = Bearer::new("MY_TOKEN", Some("t0p-secret".into()));
        let shown = format!("{s:?}");
        assert!(
            shown.contains("MY_TOKEN") && !shown.contains("t0p-secret"),
            "{shown}"
        );
        assert_eq!(s.bearer.token(), Some("t0p-secret"));
        assert_eq!(Bearer::new("V", Some(String::new())).token(), None);
    }

    #[test]
    fn split_parsing() {
        assert_eq!(
            parse_split("A=0.8, B=0.2", "--split").unwrap(),
            vec![("A".to_string(), 0.8), ("B".to_string(), 0.2)]
        );
        assert!(parse_split("A=0.8", "--split").is_err());
        assert!(parse_split("A=x,B=1", "--split").is_err());
    }

    /// A canary: `n` rows, the challenger (B) on `share` of them, with
    /// the export's plan columns.
    fn canary(n: usize, share: f64, exp: &str) -> String {
        let mut t = String::new();
        #[allow(clippy::cast_precision_loss)]
        let b_rows = (n as f64 * share).round() as usize;
        for i in 0..n {
            let (v, s) = if i < b_rows {
                ("B", share)
            } else {
                ("A", 1.0 - share)
            };
            t.push_str(&format!("{v},{},{s},{exp}\n", i % 2));
        }
        t
    }

    #[test]
    fn the_plan_comes_from_the_export_unless_split_overrides_it() {
        let head = "variant,y,planned_share,experiment\n";
        let t = format!("{head}{}", canary(1000, 0.1, "m:v1/v2"));
        let r = run(&t, Kind::Binary, |_| {}).unwrap();
        assert_eq!(r.srm.source, PlanSource::Export);
        assert!(!r.srm.mismatch, "{:?}", r.srm);
        assert!((r.srm.planned[1].1 - 0.1).abs() < 1e-12);
        assert_eq!(r.experiments, ["m:v1/v2"]);
        assert_ne!(r.decision, Decision::Invalid, "{:?}", r.reasons);
        // --split wins (and here it is wrong: a mismatch).
        let r = run(&t, Kind::Binary, |s| {
            s.split = Some(vec![("A".into(), 0.5), ("B".into(), 0.5)]);
            s.split_from_flag = true;
        })
        .unwrap();
        assert_eq!(r.srm.source, PlanSource::Flag);
        assert!(r.srm.mismatch);
        // abtest.planned_split yields to the export's plan.
        let r = run(&t, Kind::Binary, |s| {
            s.split = Some(vec![("A".into(), 0.5), ("B".into(), 0.5)]);
        })
        .unwrap();
        assert_eq!(r.srm.source, PlanSource::Export);
        // Without the columns: equal shares, as before.
        let r = run("variant,y\nA,1\nA,0\nB,1\nB,0\n", Kind::Binary, |_| {}).unwrap();
        assert_eq!(r.srm.source, PlanSource::Equal);
        // JSON Lines carry the plan too.
        let r = run(
            "{\"variant\":\"A\",\"y\":1,\"planned_share\":0.5}\n{\"variant\":\"B\",\"y\":0,\"planned_share\":0.5}\n",
            Kind::Binary,
            |_| {},
        )
        .unwrap();
        assert_eq!(r.srm.source, PlanSource::Export);
    }

    #[test]
    fn a_changed_share_or_mixed_experiments_are_invalid() {
        let head = "variant,y,planned_share,experiment\n";
        let t = format!(
            "{head}{}{}",
            canary(1000, 0.1, "m:v1/v2"),
            canary(1000, 0.5, "m:v1/v2")
        );
        let r = run(&t, Kind::Binary, |_| {}).unwrap();
        assert_eq!(r.decision, Decision::Invalid);
        assert_eq!(r.srm.changed.len(), 2);
        assert!(
            r.reasons[0].contains(
                "the planned share of \"A\" changed during the experiment (0.9 then 0.5)"
            ),
            "{:?}",
            r.reasons
        );
        let t = format!(
            "{head}{}{}",
            canary(1000, 0.1, "m:v1/v2"),
            canary(1000, 0.1, "m:v2/v3")
        );
        let r = run(&t, Kind::Binary, |_| {}).unwrap();
        assert_eq!(r.decision, Decision::Invalid);
        assert!(
            r.reasons[0].contains("the rows come from 2 experiments (m:v1/v2, m:v2/v3)"),
            "{:?}",
            r.reasons
        );
        // A share out of range, or missing, is named.
        let e = run(&format!("{head}A,1,1.5,x\n"), Kind::Binary, |_| {}).unwrap_err();
        assert!(
            e.to_string()
                .contains("d.csv:2: column \"planned_share\": 1.5 is not a share"),
            "{e}"
        );
        let e = run(&format!("{head}A,1,0.5,x\nB,1,,x\n"), Kind::Binary, |_| {}).unwrap_err();
        assert!(
            e.to_string()
                .contains("1 row(s) of variant \"B\" have no planned_share"),
            "{e}"
        );
    }
}
