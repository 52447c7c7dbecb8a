//! `mlops abtest-analyze`: flags and `[abtest]` → settings, the analysis,
//! then one of three renderers (text, markdown, JSON), each a function from
//! the report to a `String`.
//!
//! Layering: built-in defaults < `[abtest]` of `mlops.toml` (when there is a
//! project file; the command works without one) < flags.

use std::fmt::Write as _;

use serde_json::{Value, json};

use super::{
    AbtestArgs, Cli, CorrectionArg, DirectionArg, Env, KindArg, ReportFormat, RequireArg, TestArg,
    output::Output,
};
use mlops::Result;
use mlops::abtest::{
    Bearer, Comparison, Decision, Direction, Input, Kind, PowerReport, Report, Settings, SrmReport,
    TestChoice, VariantSummary, correction_name, parse_split,
};
use mlops::error::Error;
use mlops::project::{
    AbtestCorrection, AbtestDirection, AbtestKind, AbtestSection, AbtestTest, Project,
};
use mlops::stats::correction::Correction;

pub fn run(a: &AbtestArgs, cli: &Cli, env: &Env, out: &Output) -> Result<()> {
    let explicit = super::config_path(cli, env);
    let project = match explicit {
        Some(_) => Some(Project::load(explicit, &env.cwd)?),
        None => match Project::discover(None, &env.cwd) {
            Ok(p) => Some(Project::load(Some(&p), &env.cwd)?),
            Err(_) => None,
        },
    };
    if let Some(p) = &project {
        out.verbose(&format!("project file: {}", p.path.display()));
    }
    let section = project.as_ref().and_then(|p| p.file.abtest.as_ref());
    let s = settings(a, section, env)?;
    let progress = out.progress();
    let report = mlops::abtest::analyze(&s, progress.as_ref())?;
    let text = if out.json {
        render_json(&report)
    } else if cli.format == Some(ReportFormat::Markdown) {
        render_markdown(&report)
    } else {
        render_text(&report, out)
    };
    match &a.output {
        Some(p) => out.to_file(&env.cwd.join(p), &text, "the report")?,
        None => out.report(&text, &format!("Decision: {}", report.decision.as_str()))?,
    }
    if let Some(path) = &env.step_summary {
        super::output::append(path, render_markdown(&report).as_bytes())?;
    }
    if a.require == Some(RequireArg::Ship) && report.decision != Decision::Ship {
        return Err(Error::Check(format!(
            "--require ship: the decision is \"{}\", not \"ship\"",
            report.decision.as_str()
        )));
    }
    Ok(())
}

/// Defaults < `[abtest]` < flags, checked.
pub fn settings(a: &AbtestArgs, t: Option<&AbtestSection>, env: &Env) -> Result<Settings> {
    let d = AbtestSection::default();
    let t = t.unwrap_or(&d);
    let metric = a
        .metric
        .clone()
        .or_else(|| t.metric.clone())
        .ok_or_else(|| {
            Error::usage(
                "--metric is required (or set abtest.metric in mlops.toml); name the metric column",
            )
        })?;
    let control = a.control.clone().or_else(|| t.control.clone()).ok_or_else(|| {
        Error::usage("--control is required (or set abtest.control in mlops.toml); name the control variant")
    })?;
    let kind = match (a.kind, t.kind) {
        (Some(KindArg::Binary), _) | (None, Some(AbtestKind::Binary)) => Kind::Binary,
        _ => Kind::Continuous,
    };
    let test = test_choice(a.test, t.test);
    let correction = correction_choice(a.correction, t.correction);
    let direction = match (a.direction, t.direction) {
        (Some(DirectionArg::Decrease), _) | (None, Some(AbtestDirection::Decrease)) => {
            Direction::Decrease
        }
        _ => Direction::Increase,
    };
    let split = match (&a.split, &t.planned_split) {
        (Some(s), _) => Some(parse_split(s, "--split")?),
        (None, Some(m)) => Some(m.iter().map(|(k, v)| (k.clone(), *v)).collect()),
        (None, None) => None,
    };
    let s = Settings {
        input: Input::parse(&a.input, &env.cwd),
        variant_column: a
            .variant_column
            .clone()
            .or_else(|| t.variant_column.clone())
            .unwrap_or_else(|| "variant".into()),
        metric,
        kind,
        control,
        alpha: a.alpha.or(t.alpha).unwrap_or(0.05),
        split,
        split_from_flag: a.split.is_some(),
        bearer: Bearer::new(&a.token_env, std::env::var(&a.token_env).ok()),
        test,
        correction,
        unit: a.unit.clone().or_else(|| t.unit.clone()),
        covariate: a.covariate.clone().or_else(|| t.covariate.clone()),
        mde: a.mde.or(t.mde),
        direction,
    };
    s.check()?;
    Ok(s)
}

/// Auto < `abtest.test` < `--test`.
fn test_choice(flag: Option<TestArg>, file: Option<AbtestTest>) -> TestChoice {
    match flag {
        Some(x) => match x {
            TestArg::Auto => TestChoice::Auto,
            TestArg::Welch => TestChoice::Welch,
            TestArg::Student => TestChoice::Student,
            TestArg::MannWhitney => TestChoice::MannWhitney,
            TestArg::Z => TestChoice::Z,
            TestArg::Chi2 => TestChoice::Chi2,
            TestArg::Fisher => TestChoice::Fisher,
        },
        None => match file {
            None | Some(AbtestTest::Auto) => TestChoice::Auto,
            Some(AbtestTest::Welch) => TestChoice::Welch,
            Some(AbtestTest::Student) => TestChoice::Student,
            Some(AbtestTest::MannWhitney) => TestChoice::MannWhitney,
            Some(AbtestTest::Z) => TestChoice::Z,
            Some(AbtestTest::Chi2) => TestChoice::Chi2,
            Some(AbtestTest::Fisher) => TestChoice::Fisher,
        },
    }
}

/// Holm < `abtest.correction` < `--correction`.
fn correction_choice(flag: Option<CorrectionArg>, file: Option<AbtestCorrection>) -> Correction {
    match flag {
        Some(CorrectionArg::Holm) => Correction::Holm,
        Some(CorrectionArg::Bonferroni) => Correction::Bonferroni,
        Some(CorrectionArg::Bh) => Correction::Bh,
        Some(CorrectionArg::None) => Correction::None,
        None => match file {
            None | Some(AbtestCorrection::Holm) => Correction::Holm,
            Some(AbtestCorrection::Bonferroni) => Correction::Bonferroni,
            Some(AbtestCorrection::Bh) => Correction::Bh,
            Some(AbtestCorrection::None) => Correction::None,
        },
    }
}

/// A float for JSON: non-finite values become null.
fn num(v: f64) -> Value {
    if v.is_finite() { json!(v) } else { Value::Null }
}

fn num_opt(v: Option<f64>) -> Value {
    v.map_or(Value::Null, num)
}

fn pair(v: Option<[f64; 2]>) -> Value {
    match v {
        Some([a, b]) if a.is_finite() && b.is_finite() => json!([a, b]),
        _ => Value::Null,
    }
}

/// The `--json` document (schema: docs/schemas/abtest.schema.json).
#[must_use]
pub fn render_json(r: &Report) -> String {
    let s = &r.settings;
    let doc = json!({
        "input": r.origin,
        "rows": r.rows,
        "experiments": r.experiments,
        "kind": s.kind.as_str(),
        "metric": s.metric,
        "variant_column": s.variant_column,
        "unit": s.unit,
        "control": s.control,
        "alpha": s.alpha,
        "direction": match s.direction { Direction::Increase => "increase", Direction::Decrease => "decrease" },
        "test": s.test.as_str(),
        "correction": correction_name(s.correction),
        "family": r.family,
        "variants": r.variants.iter().map(variant_json).collect::<Vec<Value>>(),
        "srm": srm_json(&r.srm),
        "cuped": r.cuped.as_ref().map(|c| json!({
            "covariate": c.covariate,
            "theta": num(c.theta),
            "variance_reduction": num(c.variance_reduction),
        })),
        "comparisons": r.comparisons.iter().map(comparison_json).collect::<Vec<Value>>(),
        "power": power_json(&r.power, s.alpha),
        "decision": r.decision.as_str(),
        "reasons": r.reasons,
    });
    let mut out = serde_json::to_string_pretty(&doc).unwrap_or_default();
    out.push('\n');
    out
}

/// One variant: rate and conversions for a binary metric, mean and sd
/// otherwise, and the CUPED-adjusted mean when there is one.
fn variant_json(v: &VariantSummary) -> Value {
    let mut o = match v.conversions {
        Some(c) => json!({"name": v.name, "n": v.n, "conversions": c, "rate": num(v.mean)}),
        None => json!({"name": v.name, "n": v.n, "mean": num(v.mean), "sd": num(v.sd)}),
    };
    if let Some(m) = v.adjusted_mean {
        o["adjusted_mean"] = num(m);
    }
    o
}

/// The sample ratio check, with planned shares, observed counts and
/// contributions keyed by variant.
fn srm_json(srm: &SrmReport) -> Value {
    let planned: serde_json::Map<String, Value> = srm
        .planned
        .iter()
        .map(|(n, w)| (n.clone(), num(*w)))
        .collect();
    let observed: serde_json::Map<String, Value> = srm
        .observed
        .iter()
        .map(|(n, c)| (n.clone(), json!(c)))
        .collect();
    let contributions: serde_json::Map<String, Value> = srm
        .planned
        .iter()
        .zip(&srm.contributions)
        .map(|((n, _), c)| (n.clone(), num(*c)))
        .collect();
    let changed: serde_json::Map<String, Value> = srm
        .changed
        .iter()
        .map(|(n, xs)| (n.clone(), xs.iter().map(|x| num(*x)).collect()))
        .collect();
    json!({
        "plan_source": srm.source.as_str(),
        "plan_changed": changed,
        "chi2": num(srm.chi2),
        "df": num(srm.df),
        "p_value": num(srm.p.p),
        "log10_p": num(srm.p.log10),
        "planned": planned,
        "observed": observed,
        "contributions": contributions,
        "mismatch": srm.mismatch,
    })
}

/// One variant against the control.
fn comparison_json(c: &Comparison) -> Value {
    json!({
        "variant": c.variant,
        "test": c.test.as_str(),
        "statistic": num(c.result.statistic),
        "df": num_opt(c.result.df),
        "p_value": num(c.result.p.p),
        "log10_p": num(c.result.p.log10),
        "p_value_adjusted": num(c.p_adjusted),
        "significant": c.significant,
        "difference": num(c.difference),
        "ci": pair(Some(c.ci)),
        "relative_lift": num_opt(c.relative_lift),
        "relative_ci": pair(c.relative_ci),
        "chance_to_win": num(c.chance_to_win),
        "notes": c.notes,
    })
}

/// Power, the detectable effects and the sizing.
fn power_json(power: &PowerReport, alpha: f64) -> Value {
    let mde: Vec<Value> = power
        .mde
        .iter()
        .map(|(v, abs, rel)| json!({"variant": v, "mde_absolute": num(*abs), "mde_relative": num_opt(*rel)}))
        .collect();
    json!({
        "power": power.power,
        "alpha": alpha,
        "mde": mde,
        "target_mde": num_opt(power.target_mde),
        "units_per_arm": num_opt(power.units_per_arm),
    })
}

/// A number with about six significant digits.
fn f(v: f64) -> String {
    if !v.is_finite() {
        return "-".into();
    }
    if v == 0.0 {
        return "0".into();
    }
    let a = v.abs();
    if (1e-3..1e7).contains(&a) {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let digits = (5 - a.log10().floor() as i32).clamp(0, 8) as usize;
        format!("{v:.digits$}")
    } else {
        format!("{v:.4e}")
    }
}

/// A p-value: never printed as 0.
fn p(p: f64, log10: f64) -> String {
    if !p.is_finite() {
        "-".into()
    } else if p == 0.0 || p < 1e-300 {
        format!("1e{log10:.1}")
    } else if p < 1e-4 {
        format!("{p:.2e}")
    } else {
        format!("{p:.4}")
    }
}

fn pct(v: Option<f64>) -> String {
    v.filter(|x| x.is_finite())
        .map_or_else(|| "-".into(), |x| format!("{:+.2}%", 100.0 * x))
}

fn interval(c: Option<[f64; 2]>, as_pct: bool) -> String {
    match c {
        Some([a, b]) if a.is_finite() && b.is_finite() => {
            if as_pct {
                format!("[{}, {}]", pct(Some(a)), pct(Some(b)))
            } else {
                format!("[{}, {}]", f(a), f(b))
            }
        }
        _ => "-".into(),
    }
}

fn decision_words(r: &Report) -> String {
    match r.decision {
        Decision::Ship => "ship: a challenger beats the control",
        Decision::Keep => "keep the control: a challenger is worse",
        Decision::Inconclusive => "inconclusive: no significant difference",
        Decision::Invalid => "invalid: do not trust this experiment",
    }
    .to_string()
}

fn variant_rows(r: &Report) -> (Vec<&'static str>, Vec<Vec<String>>) {
    let binary = r.settings.kind == Kind::Binary;
    let cuped = r.cuped.is_some();
    let mut head = vec!["variant", "n"];
    if binary {
        head.extend(["conversions", "rate"]);
    } else {
        head.extend(["mean", "sd"]);
    }
    if cuped {
        head.push("adjusted mean");
    }
    let rows = r
        .variants
        .iter()
        .map(|v| {
            let mut row = vec![v.name.clone(), v.n.to_string()];
            match v.conversions {
                Some(c) => row.extend([c.to_string(), f(v.mean)]),
                None => row.extend([f(v.mean), f(v.sd)]),
            }
            if cuped {
                row.push(v.adjusted_mean.map_or_else(|| "-".into(), f));
            }
            row
        })
        .collect();
    (head, rows)
}

fn comparison_rows(r: &Report) -> (Vec<String>, Vec<Vec<String>>) {
    let conf = format!("{}% CI", 100.0 * (1.0 - r.settings.alpha));
    let head = vec![
        "variant".to_string(),
        "test".into(),
        "difference".into(),
        conf.clone(),
        "lift".into(),
        format!("lift {conf}"),
        "p".into(),
        format!("p ({})", correction_name(r.settings.correction)),
        "chance to win".into(),
    ];
    let rows = r
        .comparisons
        .iter()
        .map(|c: &Comparison| {
            vec![
                c.variant.clone(),
                c.test.as_str().to_string(),
                f(c.difference),
                interval(Some(c.ci), false),
                pct(c.relative_lift),
                interval(c.relative_ci, true),
                p(c.result.p.p, c.result.p.log10),
                p(c.p_adjusted, c.p_adjusted.log10()),
                if c.chance_to_win.is_finite() {
                    format!("{:.1}%", 100.0 * c.chance_to_win)
                } else {
                    "-".into()
                },
            ]
        })
        .collect();
    (head, rows)
}

fn table(s: &mut String, head: &[String], rows: &[Vec<String>]) {
    let mut w: Vec<usize> = head.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            w[i] = w[i].max(c.chars().count());
        }
    }
    let line = |s: &mut String, cells: &[String]| {
        let _ = write!(s, " ");
        for (i, c) in cells.iter().enumerate() {
            let pad = w[i] - c.chars().count();
            if i == 0 {
                let _ = write!(s, " {c}{}", " ".repeat(pad));
            } else {
                let _ = write!(s, "  {}{c}", " ".repeat(pad));
            }
        }
        s.push('\n');
    };
    line(s, head);
    for r in rows {
        line(s, r);
    }
}

fn srm_line(r: &Report) -> String {
    let plan: Vec<String> = r
        .srm
        .planned
        .iter()
        .zip(&r.srm.observed)
        .map(|((n, w), (_, o))| format!("{n} {o} (plan {:.1}%)", 100.0 * w))
        .collect();
    format!(
        "chi2 = {}, p = {}: {}; {}; plan from {}",
        f(r.srm.chi2),
        p(r.srm.p.p, r.srm.p.log10),
        if r.srm.mismatch {
            "MISMATCH"
        } else {
            "no mismatch"
        },
        plan.join(", "),
        r.srm.source.words()
    )
}

/// The human report.
#[must_use]
pub fn render_text(r: &Report, out: &Output) -> String {
    let s = &r.settings;
    let mut o = String::new();
    let _ = writeln!(
        o,
        "{} metric \"{}\" ({}), control \"{}\", {} rows from {}",
        out.paint("Experiment", "1"),
        s.metric,
        s.kind.as_str(),
        s.control,
        r.rows,
        r.origin
    );
    o.push('\n');
    let (h, rows) = variant_rows(r);
    let h: Vec<String> = h.iter().map(|x| (*x).to_string()).collect();
    table(&mut o, &h, &rows);
    let _ = writeln!(o, "\n  sample ratio  {}", srm_line(r));
    if let Some(c) = &r.cuped {
        let _ = writeln!(
            o,
            "  CUPED         covariate \"{}\", theta = {}, variance reduced by {:.1}%",
            c.covariate,
            f(c.theta),
            100.0 * c.variance_reduction
        );
    }
    if !r.comparisons.is_empty() {
        o.push('\n');
        let (h, rows) = comparison_rows(r);
        table(&mut o, &h, &rows);
        let _ = writeln!(o, "\n  family        {}", r.family);
    }
    for (v, abs, rel) in &r.power.mde {
        let _ = writeln!(
            o,
            "  power         {v}: detectable at 80% power: {} ({})",
            f(*abs),
            rel.map_or_else(|| "-".into(), |x| format!("{:.2}%", 100.0 * x))
        );
    }
    if let (Some(m), Some(u)) = (r.power.target_mde, r.power.units_per_arm) {
        let _ = writeln!(
            o,
            "  sizing        {u:.0} units per arm to detect a {:.2}% change",
            100.0 * m
        );
    }
    let colour = match r.decision {
        Decision::Ship => "1;32",
        Decision::Keep | Decision::Invalid => "1;31",
        Decision::Inconclusive => "1;33",
    };
    let _ = writeln!(
        o,
        "\n{} {}",
        out.paint("Decision:", colour),
        decision_words(r)
    );
    for reason in &r.reasons {
        let _ = writeln!(o, "  - {reason}");
    }
    o
}

pub(super) fn md_table(o: &mut String, head: &[String], rows: &[Vec<String>]) {
    let esc = |c: &str| c.replace('|', "\\|");
    let _ = writeln!(
        o,
        "| {} |",
        head.iter().map(|h| esc(h)).collect::<Vec<_>>().join(" | ")
    );
    let _ = writeln!(
        o,
        "|{}|",
        head.iter()
            .enumerate()
            .map(|(i, _)| if i == 0 { "---" } else { "---:" })
            .collect::<Vec<_>>()
            .join("|")
    );
    for r in rows {
        let _ = writeln!(
            o,
            "| {} |",
            r.iter().map(|c| esc(c)).collect::<Vec<_>>().join(" | ")
        );
    }
}

/// Markdown for a pull-request comment or `$GITHUB_STEP_SUMMARY`.
#[must_use]
pub fn render_markdown(r: &Report) -> String {
    let s = &r.settings;
    let mut o = String::new();
    let icon = match r.decision {
        Decision::Ship => "✅",
        Decision::Keep => "❌",
        Decision::Inconclusive => "➖",
        Decision::Invalid => "⚠️",
    };
    let _ = writeln!(
        o,
        "### A/B test: `{}` {icon} **{}**\n",
        s.metric,
        r.decision.as_str()
    );
    let _ = writeln!(
        o,
        "{} metric, control `{}`, alpha {}, {} rows from `{}`.\n",
        s.kind.as_str(),
        s.control,
        s.alpha,
        r.rows,
        r.origin
    );
    let (h, rows) = variant_rows(r);
    let h: Vec<String> = h.iter().map(|x| (*x).to_string()).collect();
    md_table(&mut o, &h, &rows);
    o.push('\n');
    if !r.comparisons.is_empty() {
        let (h, rows) = comparison_rows(r);
        md_table(&mut o, &h, &rows);
        let _ = writeln!(o, "\nFamily: {}.\n", r.family);
    }
    let _ = writeln!(o, "Sample ratio: {}.\n", srm_line(r));
    let _ = writeln!(o, "**Decision: {}**\n", decision_words(r));
    for reason in &r.reasons {
        let _ = writeln!(o, "- {reason}");
    }
    o.push('\n');
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use mlops::report::NoProgress;

    fn report() -> Report {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.csv");
        let mut t = String::from("variant,y\n");
        for i in 0..40 {
            t.push_str(&format!("A,{}\nB,{}\n", i % 5, i % 5 + 2));
        }
        std::fs::write(&path, t).unwrap();
        let s = Settings {
            input: Input::Path(path),
            variant_column: "variant".into(),
            metric: "y".into(),
            kind: Kind::Continuous,
            control: "A".into(),
            alpha: 0.05,
            split: None,
            split_from_flag: false,
            bearer: Bearer::default(),
            test: TestChoice::Auto,
            correction: Correction::Holm,
            unit: None,
            covariate: None,
            mde: Some(0.1),
            direction: Direction::Increase,
        };
        mlops::abtest::analyze(&s, &NoProgress).unwrap()
    }

    #[test]
    fn renderers() {
        let r = report();
        let md = render_markdown(&r);
        assert!(md.starts_with("### A/B test: `y` ✅ **ship**"), "{md}");
        assert!(md.contains("| B | welch | 2.00000 |"), "{md}");
        let js: Value = serde_json::from_str(&render_json(&r)).unwrap();
        assert_eq!(js["decision"], "ship");
        let df = js["comparisons"][0]["df"].as_f64().unwrap();
        assert!((df - 78.0).abs() < 1e-9, "{df}");
        let out = Output {
            color: false,
            json: false,
            quiet: false,
            verbose: 0,
            stderr_tty: false,
        };
        let t = render_text(&r, &out);
        assert!(t.contains("Decision: ship"), "{t}");
        assert!(t.contains("units per arm"), "{t}");
    }

    #[test]
    fn p_values_never_print_as_zero() {
        assert_eq!(p(0.0, -349.44), "1e-349.4");
        assert_eq!(p(0.5, 0.5f64.log10()), "0.5000");
        assert_eq!(p(1e-7, -7.0), "1.00e-7");
    }
}
