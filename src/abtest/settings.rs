//! The request of an analysis: where the rows are, which columns play which
//! role, the kind of metric, the test, the correction and the plan; parsed
//! from flags or `[abtest]` and checked for combinations that cannot work.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::stats::correction::Correction;

/// The kind of metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Any real number.
    Continuous,
    /// 0/1 or true/false.
    Binary,
}

impl Kind {
    /// Its name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Continuous => "continuous",
            Kind::Binary => "binary",
        }
    }
}

/// The test asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestChoice {
    /// Welch for continuous metrics; the pooled z-test for binary ones, or
    /// Fisher's exact test when an expected cell count is below 5.
    Auto,
    /// Welch's t-test.
    Welch,
    /// Student's t-test.
    Student,
    /// Mann–Whitney U.
    MannWhitney,
    /// Pooled two-proportion z-test.
    Z,
    /// 2×2 chi-square with Yates' correction.
    Chi2,
    /// Fisher's exact test.
    Fisher,
}

impl TestChoice {
    /// Its name in flags and output.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            TestChoice::Auto => "auto",
            TestChoice::Welch => "welch",
            TestChoice::Student => "student",
            TestChoice::MannWhitney => "mann-whitney",
            TestChoice::Z => "z",
            TestChoice::Chi2 => "chi2",
            TestChoice::Fisher => "fisher",
        }
    }

    /// Parse a name.
    #[must_use]
    pub fn parse(s: &str) -> Option<TestChoice> {
        Some(match s {
            "auto" => TestChoice::Auto,
            "welch" => TestChoice::Welch,
            "student" => TestChoice::Student,
            "mann-whitney" => TestChoice::MannWhitney,
            "z" => TestChoice::Z,
            "chi2" => TestChoice::Chi2,
            "fisher" => TestChoice::Fisher,
            _ => return None,
        })
    }
}

/// The name of a correction.
#[must_use]
pub fn correction_name(c: Correction) -> &'static str {
    match c {
        Correction::Holm => "holm",
        Correction::Bonferroni => "bonferroni",
        Correction::Bh => "bh",
        Correction::None => "none",
    }
}

/// Which way is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Higher is better.
    Increase,
    /// Lower is better.
    Decrease,
}

/// Where the rows come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A file.
    Path(PathBuf),
    /// Standard input.
    Stdin,
    /// An HTTP(S) URL.
    Url(String),
}

impl Input {
    /// `-` is stdin, `http://` and `https://` are URLs, anything else a path
    /// relative to `cwd`.
    #[must_use]
    pub fn parse(s: &str, cwd: &Path) -> Input {
        if s == "-" {
            Input::Stdin
        } else if s.starts_with("http://") || s.starts_with("https://") {
            Input::Url(s.to_string())
        } else {
            Input::Path(cwd.join(s))
        }
    }
}

/// The variable `--token-env` names by default.
pub const DEFAULT_TOKEN_ENV: &str = "MLOPS_TOKEN";

/// The bearer token for a URL input: the variable named by `--token-env`
/// and its value when set and not empty. Never printed: its `Debug` shows
/// the variable only.
#[derive(Clone, PartialEq, Eq)]
pub struct Bearer {
    /// The variable it is read from.
    pub var: String,
    token: Option<String>,
}

impl Bearer {
    /// The token read from `var` (`None` or empty: no token).
    #[must_use]
    pub fn new(var: &str, token: Option<String>) -> Bearer {
        Bearer {
            var: var.to_string(),
            token: token.filter(|t| !t.is_empty()),
        }
    }

    /// The token itself, for the `Authorization` header only.
    #[must_use]
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }
}

impl Default for Bearer {
    fn default() -> Bearer {
        Bearer::new(DEFAULT_TOKEN_ENV, None)
    }
}

impl std::fmt::Debug for Bearer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Bearer(from ${}, redacted)", self.var)
    }
}

/// Everything the analysis needs, validated.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The rows.
    pub input: Input,
    /// The column naming the variant.
    pub variant_column: String,
    /// The metric column.
    pub metric: String,
    /// The kind of metric.
    pub kind: Kind,
    /// The control variant.
    pub control: String,
    /// Significance level.
    pub alpha: f64,
    /// The planned allocation (`--split` or `abtest.planned_split`); without
    /// one, the export's `planned_share` column, else equal shares.
    pub split: Option<Vec<(String, f64)>>,
    /// `split` came from `--split`: it wins over the export's plan.
    pub split_from_flag: bool,
    /// The token sent with a URL input.
    pub bearer: Bearer,
    /// The test.
    pub test: TestChoice,
    /// The multiple-comparison correction.
    pub correction: Correction,
    /// Aggregate rows per unit in this column first.
    pub unit: Option<String>,
    /// CUPED covariate column.
    pub covariate: Option<String>,
    /// Relative minimum detectable effect for sizing.
    pub mde: Option<f64>,
    /// Which way is better.
    pub direction: Direction,
}

/// Parse `A=0.5,B=0.5` (weights of any positive scale).
pub fn parse_split(s: &str, flag: &str) -> Result<Vec<(String, f64)>> {
    let mut out: Vec<(String, f64)> = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((name, w)) = part.split_once('=') else {
            return Err(Error::usage(format!(
                "{flag}: \"{part}\" is not NAME=WEIGHT; write it like A=0.5,B=0.5"
            )));
        };
        let name = name.trim();
        let w: f64 = w.trim().parse().map_err(|_| {
            Error::usage(format!(
                "{flag}: the weight of \"{name}\" is \"{}\", not a number; write it like A=0.5,B=0.5",
                w.trim()
            ))
        })?;
        if !(w > 0.0 && w.is_finite()) {
            return Err(Error::usage(format!(
                "{flag}: the weight of \"{name}\" must be above 0"
            )));
        }
        if out.iter().any(|(n, _)| n == name) {
            return Err(Error::usage(format!("{flag}: \"{name}\" is listed twice")));
        }
        out.push((name.to_string(), w));
    }
    if out.len() < 2 {
        return Err(Error::usage(format!(
            "{flag}: name at least two variants, like A=0.5,B=0.5"
        )));
    }
    Ok(out)
}

impl Settings {
    /// Check combinations of settings (usage errors, exit 2).
    pub fn check(&self) -> Result<()> {
        if !(self.alpha > 0.0 && self.alpha < 1.0) {
            return Err(Error::usage(format!(
                "--alpha = {} must be above 0 and below 1, like 0.05",
                self.alpha
            )));
        }
        if let Some(m) = self.mde
            && !(m > 0.0 && m.is_finite())
        {
            return Err(Error::usage(format!(
                "--mde = {m} must be a relative effect above 0, like 0.02 for 2%"
            )));
        }
        if self.kind == Kind::Continuous
            && matches!(
                self.test,
                TestChoice::Z | TestChoice::Chi2 | TestChoice::Fisher
            )
        {
            return Err(Error::usage(format!(
                "--test {} applies to binary metrics; use --kind binary, or welch, student or mann-whitney",
                self.test.as_str()
            )));
        }
        if self.covariate.is_some() && self.kind == Kind::Binary {
            return Err(Error::usage(
                "--covariate (CUPED) applies to continuous metrics; drop it or use --kind continuous",
            ));
        }
        if self.covariate.is_some() && self.test == TestChoice::MannWhitney {
            return Err(Error::usage(
                "--covariate (CUPED) adjusts means and cannot be combined with --test mann-whitney; drop one of them",
            ));
        }
        if let Some(split) = &self.split
            && !split.iter().any(|(n, _)| *n == self.control)
        {
            return Err(Error::usage(format!(
                "the planned split (--split or abtest.planned_split) does not name the control \"{}\"; add it, like {}=0.5",
                self.control, self.control
            )));
        }
        let mut cols = vec![&self.variant_column, &self.metric];
        cols.extend(self.unit.iter());
        cols.extend(self.covariate.iter());
        for (i, c) in cols.iter().enumerate() {
            if cols[..i].contains(c) {
                return Err(Error::usage(format!(
                    "column \"{c}\" is given for two roles (variant, metric, unit, covariate); each needs its own column"
                )));
            }
        }
        Ok(())
    }
}
