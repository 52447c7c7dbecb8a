//! `abtest-analyze`: read an experiment's rows (CSV or JSON Lines, from a
//! file, stdin or a URL), aggregate them per variant in one streaming pass,
//! compare every variant with the control and decide.
//!
//! Memory does not grow with the row count: each variant keeps Welford
//! moments (and co-moments with the covariate for CUPED). Only the
//! Mann–Whitney test keeps the values, and `--unit` keeps one running sum per
//! unit. The statistics themselves live in [`crate::stats`].
//!
//! CUPED (Deng, Xu, Kohavi & Walker, WSDM 2013): with a pre-period covariate
//! `X`, `θ = Σ_arms C_XY / Σ_arms M2_X` (within-arm co-moments pooled across
//! arms, so a treatment effect on `Y` does not leak into θ), and each arm's
//! metric becomes `Y − θ(X − X̄)`, whose mean is `Ȳ_i − θ(X̄_i − X̄)` and whose
//! sum of squares is `M2_Y − 2θ C_XY + θ² M2_X`.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use crate::data::{BlockReader, STREAM_BLOCK, locate, parse_number, visit_chunk};
use crate::error::{Error, Result, display_path};
use crate::report::Progress;
use crate::stats::correction::{Correction, adjust};
use crate::stats::proportions::{Counts, PropTest};
use crate::stats::ttest::TTest;
use crate::stats::{
    Moments, PValue, TestResult, bayes, mannwhitney, power, proportions, srm, ttest,
};

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
    /// The planned allocation; `None` means equal.
    pub split: Option<Vec<(String, f64)>>,
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

// ---------------------------------------------------------------- reading

/// Sums of deviations from a shift `k` (the block's first value), the fast
/// accumulator of a block: no division per value, and no dependency chain
/// through the mean. A block holds at most a few hundred thousand values and
/// `k` is one of them, so `M2 = s2 − s1²/n` loses no more than a digit or
/// two to cancellation; blocks are then merged exactly as Welford moments.
#[derive(Debug, Clone, Copy, Default)]
struct Shifted {
    n: u64,
    k: f64,
    s1: f64,
    s2: f64,
}

impl Shifted {
    #[inline]
    fn push(&mut self, y: f64) {
        if self.n == 0 {
            self.k = y;
        }
        let d = y - self.k;
        self.n += 1;
        self.s1 += d;
        self.s2 += d * d;
    }

    fn moments(&self) -> Moments {
        if self.n == 0 {
            return Moments::default();
        }
        #[allow(clippy::cast_precision_loss)]
        let n = self.n as f64;
        let d = self.s1 / n;
        Moments {
            n: self.n,
            mean: self.k + d,
            m2: (self.s2 - self.s1 * d).max(0.0),
        }
    }
}

/// Running sums of one arm.
#[derive(Debug, Clone, Default)]
struct ArmAcc {
    y: Moments,
    fast: Shifted,
    x: Moments,
    cxy: f64,
    ones: u64,
    values: Vec<f64>,
}

impl ArmAcc {
    #[inline]
    fn push(&mut self, y: f64, x: Option<f64>, keep: bool) {
        if let Some(x) = x {
            // Bivariate Welford: the co-moment uses x's old deviation and
            // y's new one.
            let dx = x - self.x.mean;
            self.x.push(x);
            self.y.push(y);
            self.cxy += dx * (y - self.y.mean);
        } else {
            self.fast.push(y);
        }
        if y == 1.0 {
            self.ones += 1;
        }
        if keep {
            self.values.push(y);
        }
    }

    /// Fold the fast sums into the moments.
    fn flush(&mut self) {
        if self.fast.n > 0 {
            let m = self.fast.moments();
            self.y.merge(&m);
            self.fast = Shifted::default();
        }
    }

    fn merge(&mut self, mut o: ArmAcc) {
        self.flush();
        o.flush();
        if self.y.n > 0 && o.y.n > 0 {
            let (na, nb) = (self.y.nf(), o.y.nf());
            let dx = o.x.mean - self.x.mean;
            let dy = o.y.mean - self.y.mean;
            self.cxy += o.cxy + dx * dy * na * nb / (na + nb);
        } else if self.y.n == 0 {
            self.cxy = o.cxy;
        }
        self.y.merge(&o.y);
        self.x.merge(&o.x);
        self.ones += o.ones;
        self.values.extend(o.values);
    }
}

/// One unit's rows under `--unit`.
#[derive(Debug, Clone)]
struct UnitAcc {
    variant: usize,
    y: f64,
    x: f64,
    line: u64,
}

/// The per-variant state of a pass.
#[derive(Debug, Default)]
struct Acc {
    names: Vec<Vec<u8>>,
    arms: Vec<ArmAcc>,
    units: HashMap<Vec<u8>, UnitAcc>,
    rows: u64,
}

/// At most this many distinct variants.
const MAX_VARIANTS: usize = 1000;

/// What every row parser needs.
struct Plan<'a> {
    origin: &'a str,
    s: &'a Settings,
    keep_values: bool,
}

impl Plan<'_> {
    fn variant_index(&self, acc: &mut Acc, name: &[u8], line: u64) -> Result<usize> {
        if let Some(i) = acc.names.iter().position(|n| n == name) {
            return Ok(i);
        }
        let text = std::str::from_utf8(name).map_err(|_| {
            Error::data(format!(
                "{}:{line}: column \"{}\": the cell holds bytes that are not valid UTF-8; save the file as UTF-8",
                self.origin, self.s.variant_column
            ))
        })?;
        if text.trim().is_empty() {
            return Err(Error::data(format!(
                "{}:{line}: column \"{}\" is empty; every row needs its variant",
                self.origin, self.s.variant_column
            )));
        }
        if acc.names.len() >= MAX_VARIANTS {
            return Err(Error::data(format!(
                "{}:{line}: column \"{}\" has more than {MAX_VARIANTS} distinct variants; is --variant-column the right column?",
                self.origin, self.s.variant_column
            )));
        }
        acc.names.push(name.to_vec());
        acc.arms.push(ArmAcc::default());
        Ok(acc.names.len() - 1)
    }

    fn metric(&self, cell: &[u8], line: u64) -> Result<f64> {
        let col = &self.s.metric;
        if self.s.kind == Kind::Binary {
            let t = cell.trim_ascii();
            match t {
                b"1" | b"true" | b"True" | b"TRUE" => return Ok(1.0),
                b"0" | b"false" | b"False" | b"FALSE" => return Ok(0.0),
                _ => {}
            }
            let v = parse_number(t, self.origin, line, col).ok().flatten();
            return match v {
                Some(v) if v == 0.0 || v == 1.0 => Ok(v),
                _ if t.is_empty() => Err(self.empty(line, col)),
                _ => Err(Error::data(format!(
                    "{}:{line}: column \"{col}\": \"{}\" is not 0/1 or true/false; fix the cell, or use --kind continuous",
                    self.origin,
                    String::from_utf8_lossy(t)
                ))),
            };
        }
        match parse_number(cell, self.origin, line, col) {
            Ok(Some(v)) => Ok(v),
            Ok(None) => Err(self.empty(line, col)),
            Err(e) => Err(e),
        }
    }

    fn empty(&self, line: u64, col: &str) -> Error {
        Error::data(format!(
            "{}:{line}: column \"{col}\" is empty; fill it or remove the row",
            self.origin
        ))
    }

    /// One row: variant name, metric cell, covariate cell, unit cell.
    #[inline]
    fn row(
        &self,
        acc: &mut Acc,
        variant: &[u8],
        y: &[u8],
        x: Option<&[u8]>,
        unit: Option<&[u8]>,
        line: u64,
    ) -> Result<()> {
        let v = self.variant_index(acc, variant.trim_ascii(), line)?;
        let y = self.metric(y, line)?;
        let x = match (x, &self.s.covariate) {
            (Some(c), Some(col)) => match parse_number(c, self.origin, line, col)? {
                Some(x) => Some(x),
                None => return Err(self.empty(line, col)),
            },
            _ => None,
        };
        acc.rows += 1;
        match unit {
            None => acc.arms[v].push(y, x, self.keep_values),
            Some(u) => {
                let u = u.trim_ascii();
                if u.is_empty() {
                    let col = self.s.unit.as_deref().unwrap_or("unit");
                    return Err(self.empty(line, col));
                }
                match acc.units.get_mut(u) {
                    Some(e) => {
                        if e.variant != v {
                            return Err(Error::data(format!(
                                "{}:{line}: unit \"{}\" is in variant \"{}\" here but in \"{}\" on line {}; a unit must stay in one variant (check the assignment)",
                                self.origin,
                                String::from_utf8_lossy(u),
                                String::from_utf8_lossy(&acc.names[v]),
                                String::from_utf8_lossy(&acc.names[e.variant]),
                                e.line
                            )));
                        }
                        if self.s.kind == Kind::Binary {
                            e.y = e.y.max(y);
                        } else {
                            e.y += y;
                        }
                        e.x += x.unwrap_or(0.0);
                    }
                    None => {
                        acc.units.insert(
                            u.to_vec(),
                            UnitAcc {
                                variant: v,
                                y,
                                x: x.unwrap_or(0.0),
                                line,
                            },
                        );
                    }
                }
            }
        }
        Ok(())
    }
}

/// Merge `b` (read after `a`) into `a`, keeping first-appearance order.
fn merge(a: &mut Acc, b: Acc, origin: &str, binary: bool) -> Result<()> {
    let mut map = Vec::with_capacity(b.names.len());
    for (name, arm) in b.names.into_iter().zip(b.arms) {
        let i = match a.names.iter().position(|n| *n == name) {
            Some(i) => i,
            None => {
                a.names.push(name);
                a.arms.push(ArmAcc::default());
                a.names.len() - 1
            }
        };
        a.arms[i].merge(arm);
        map.push(i);
    }
    for (u, mut e) in b.units {
        e.variant = map[e.variant];
        match a.units.get_mut(&u) {
            Some(f) => {
                if f.variant != e.variant {
                    return Err(Error::data(format!(
                        "{origin}:{}: unit \"{}\" is in variant \"{}\" here but in \"{}\" on line {}; a unit must stay in one variant (check the assignment)",
                        e.line,
                        String::from_utf8_lossy(&u),
                        String::from_utf8_lossy(&a.names[e.variant]),
                        String::from_utf8_lossy(&a.names[f.variant]),
                        f.line
                    )));
                }
                f.y = if binary { f.y.max(e.y) } else { f.y + e.y };
                f.x += e.x;
            }
            None => {
                a.units.insert(u, e);
            }
        }
    }
    a.rows += b.rows;
    Ok(())
}

/// Column indices in a CSV header.
struct Cols {
    variant: usize,
    metric: usize,
    covariate: Option<usize>,
    unit: Option<usize>,
    max: usize,
}

fn parse_csv_chunk(plan: &Plan<'_>, cols: &Cols, chunk: &[u8], line: u64) -> Result<Acc> {
    let mut acc = Acc::default();
    visit_chunk(plan.origin, chunk, line, &mut |f, line, _| {
        if f.len() <= cols.max {
            return Err(Error::data(format!(
                "{}:{line}: the row has {} fields but the header has more; fix the row",
                plan.origin,
                f.len()
            )));
        }
        plan.row(
            &mut acc,
            f[cols.variant],
            f[cols.metric],
            cols.covariate.map(|i| f[i]),
            cols.unit.map(|i| f[i]),
            line,
        )
    })?;
    Ok(acc)
}

/// A newline near the middle of a chunk without quotes.
fn middle(chunk: &[u8]) -> Option<usize> {
    if chunk.len() < 1 << 16 || chunk.contains(&b'"') {
        return None;
    }
    memchr::memchr(b'\n', &chunk[chunk.len() / 2..]).map(|i| chunk.len() / 2 + i + 1)
}

fn read_csv<R: Read>(input: R, plan: &Plan<'_>, progress: &dyn Progress) -> Result<Acc> {
    let (mut reader, header) = BlockReader::open(input, plan.origin, STREAM_BLOCK)?;
    let s = plan.s;
    let mut wanted = vec![s.variant_column.clone(), s.metric.clone()];
    wanted.extend(s.covariate.iter().cloned());
    wanted.extend(s.unit.iter().cloned());
    let idx = locate(&header, &wanted, plan.origin, "required")?;
    let covariate = s.covariate.as_ref().map(|_| idx[2]);
    let unit = s.unit.as_ref().map(|_| idx[idx.len() - 1]);
    let cols = Cols {
        variant: idx[0],
        metric: idx[1],
        covariate,
        unit,
        max: idx.iter().copied().max().unwrap_or(0),
    };
    let mut acc = Acc::default();
    let binary = s.kind == Kind::Binary;
    reader.for_each_chunk(
        &mut |chunk, line| {
            // Two threads per block when the block is plain (no quotes).
            if let Some(cut) = middle(chunk) {
                let (a, b) = chunk.split_at(cut);
                let line_b = line + memchr::memchr_iter(b'\n', a).count() as u64;
                let (ra, rb) = std::thread::scope(|sc| {
                    let h = sc.spawn(|| parse_csv_chunk(plan, &cols, b, line_b));
                    let ra = parse_csv_chunk(plan, &cols, a, line);
                    let rb = h.join().unwrap_or_else(|_| {
                        Err(Error::data("a parser thread failed; please report it"))
                    });
                    (ra, rb)
                });
                merge(&mut acc, ra?, plan.origin, binary)?;
                merge(&mut acc, rb?, plan.origin, binary)?;
            } else {
                let part = parse_csv_chunk(plan, &cols, chunk, line)?;
                merge(&mut acc, part, plan.origin, binary)?;
            }
            Ok(())
        },
        &|pos| progress.set_position(pos),
    )?;
    Ok(acc)
}

/// A JSON value as a cell's bytes: strings as they are, numbers and
/// booleans as written, null and absent as empty.
fn json_cell(v: Option<&serde_json::Value>) -> Vec<u8> {
    match v {
        None | Some(serde_json::Value::Null) => Vec::new(),
        Some(serde_json::Value::String(s)) => s.as_bytes().to_vec(),
        Some(v) => v.to_string().into_bytes(),
    }
}

fn read_jsonl<R: BufRead>(mut input: R, plan: &Plan<'_>) -> Result<Acc> {
    let s = plan.s;
    let mut acc = Acc::default();
    let mut buf = Vec::new();
    let mut line = 0u64;
    loop {
        buf.clear();
        let n = input.read_until(b'\n', &mut buf).map_err(|e| {
            Error::data(format!(
                "{}: cannot read: {}",
                plan.origin,
                crate::error::io_reason(&e)
            ))
        })?;
        if n == 0 {
            break;
        }
        line += 1;
        if buf.trim_ascii().is_empty() {
            continue;
        }
        let obj: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(&buf)
            .map_err(|e| {
                Error::data(format!(
                    "{}:{line}: not a JSON object ({e}); each line must be one object like {{\"{}\": \"A\", \"{}\": 1.0}}",
                    plan.origin, s.variant_column, s.metric
                ))
            })?;
        for c in [
            Some(&s.variant_column),
            Some(&s.metric),
            s.covariate.as_ref(),
            s.unit.as_ref(),
        ]
        .into_iter()
        .flatten()
        {
            if !obj.contains_key(c) {
                let keys: Vec<&str> = obj.keys().map(String::as_str).collect();
                let hint = crate::project::nearest(c, &keys)
                    .map_or_else(String::new, |n| format!("; did you mean \"{n}\"?"));
                return Err(Error::data(format!(
                    "{}:{line}: the object has no key \"{c}\"{hint}",
                    plan.origin
                )));
            }
        }
        let variant = json_cell(obj.get(&s.variant_column));
        let y = json_cell(obj.get(&s.metric));
        let x = s.covariate.as_ref().map(|c| json_cell(obj.get(c)));
        let u = s.unit.as_ref().map(|c| json_cell(obj.get(c)));
        plan.row(&mut acc, &variant, &y, x.as_deref(), u.as_deref(), line)?;
    }
    Ok(acc)
}

/// Whether the stream holds JSON Lines: the first non-blank byte is `{`.
fn looks_like_jsonl<R: BufRead>(r: &mut R) -> bool {
    loop {
        let Ok(buf) = r.fill_buf() else {
            return false;
        };
        if buf.is_empty() {
            return false;
        }
        match buf.iter().position(|b| !b.is_ascii_whitespace()) {
            Some(i) => return buf[i] == b'{',
            None => {
                let n = buf.len();
                r.consume(n);
            }
        }
    }
}

fn read_any<R: Read>(input: R, plan: &Plan<'_>, progress: &dyn Progress) -> Result<Acc> {
    let mut r = BufReader::with_capacity(1 << 16, input);
    if looks_like_jsonl(&mut r) {
        read_jsonl(r, plan)
    } else {
        read_csv(r, plan, progress)
    }
}

/// Fetch a URL and return its body as a reader.
fn fetch(url: &str) -> Result<reqwest::blocking::Response> {
    let client = reqwest::blocking::Client::builder()
        .timeout(std::time::Duration::from_secs(300))
        .connect_timeout(std::time::Duration::from_secs(10))
        .build()
        .map_err(|e| Error::Remote(format!("cannot start an HTTP client: {e}")))?;
    let resp = client.get(url).send().map_err(|e| {
        let why = if e.is_timeout() {
            "timed out".to_string()
        } else if e.is_connect() {
            "the connection was refused or failed".to_string()
        } else {
            e.to_string()
        };
        Error::Remote(format!(
            "cannot fetch {url}: {why}; check that the server is up and the URL is right"
        ))
    })?;
    let status = resp.status();
    if !status.is_success() {
        return Err(Error::Remote(format!(
            "{url} answered HTTP {status}; check the URL (and the token, if it needs one)"
        )));
    }
    Ok(resp)
}

// ---------------------------------------------------------------- report

/// One variant's summary.
#[derive(Debug, Clone, PartialEq)]
pub struct VariantSummary {
    /// Its name.
    pub name: String,
    /// Units (rows, or distinct `--unit` values).
    pub n: u64,
    /// Mean of the metric (the rate for a binary metric).
    pub mean: f64,
    /// Sample standard deviation.
    pub sd: f64,
    /// Conversions of a binary metric.
    pub conversions: Option<u64>,
    /// CUPED-adjusted mean.
    pub adjusted_mean: Option<f64>,
}

/// The sample ratio mismatch check.
#[derive(Debug, Clone, PartialEq)]
pub struct SrmReport {
    /// The chi-square statistic.
    pub chi2: f64,
    /// Degrees of freedom.
    pub df: f64,
    /// Its p-value.
    pub p: PValue,
    /// Planned shares, normalised to 1.
    pub planned: Vec<(String, f64)>,
    /// Observed counts.
    pub observed: Vec<(String, u64)>,
    /// Expected counts.
    pub expected: Vec<f64>,
    /// Each arm's `(O − E)²/E`.
    pub contributions: Vec<f64>,
    /// `p < 0.001`.
    pub mismatch: bool,
}

/// One variant against the control.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// The variant.
    pub variant: String,
    /// The test used.
    pub test: TestChoice,
    /// Statistic, df and p-value.
    pub result: TestResult,
    /// Adjusted p-value.
    pub p_adjusted: f64,
    /// Variant − control.
    pub difference: f64,
    /// Interval of the difference.
    pub ci: [f64; 2],
    /// Relative lift `B/A − 1`.
    pub relative_lift: Option<f64>,
    /// Its interval.
    pub relative_ci: Option<[f64; 2]>,
    /// Posterior probability that the variant is better.
    pub chance_to_win: f64,
    /// Significant after correction.
    pub significant: bool,
    /// Why something is null.
    pub notes: Vec<String>,
    /// Standard error of the difference (for power).
    pub se: f64,
}

/// Power at the current sizes and sizing for `--mde`.
#[derive(Debug, Clone, PartialEq)]
pub struct PowerReport {
    /// The power assumed.
    pub power: f64,
    /// Per comparison: (variant, absolute MDE, relative MDE).
    pub mde: Vec<(String, f64, Option<f64>)>,
    /// The `--mde` asked for.
    pub target_mde: Option<f64>,
    /// Units per arm needed for it.
    pub units_per_arm: Option<f64>,
}

/// The CUPED adjustment.
#[derive(Debug, Clone, PartialEq)]
pub struct CupedReport {
    /// The covariate column.
    pub covariate: String,
    /// θ.
    pub theta: f64,
    /// `1 − Var(adjusted)/Var(raw)`, pooled within arms.
    pub variance_reduction: f64,
}

/// The decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// A challenger is significantly better.
    Ship,
    /// A challenger is significantly worse and none is better.
    Keep,
    /// Nothing significant.
    Inconclusive,
    /// Sample ratio mismatch or too little data.
    Invalid,
}

impl Decision {
    /// Its name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Ship => "ship",
            Decision::Keep => "keep",
            Decision::Inconclusive => "inconclusive",
            Decision::Invalid => "invalid",
        }
    }
}

/// The whole analysis.
#[derive(Debug, Clone)]
pub struct Report {
    /// Where the rows came from.
    pub origin: String,
    /// The settings used.
    pub settings: Settings,
    /// Rows read.
    pub rows: u64,
    /// Control first, then the other variants in order of appearance.
    pub variants: Vec<VariantSummary>,
    /// Sample ratio mismatch.
    pub srm: SrmReport,
    /// Every variant against the control.
    pub comparisons: Vec<Comparison>,
    /// The family of the correction, in words.
    pub family: String,
    /// Power.
    pub power: PowerReport,
    /// CUPED, when a covariate was given.
    pub cuped: Option<CupedReport>,
    /// The decision.
    pub decision: Decision,
    /// Why.
    pub reasons: Vec<String>,
}

/// Read the input and analyse it.
pub fn analyze(s: &Settings, progress: &dyn Progress) -> Result<Report> {
    s.check()?;
    let keep_values = s.test == TestChoice::MannWhitney;
    let (origin, acc) = match &s.input {
        Input::Path(p) => {
            let origin = display_path(p);
            let f = File::open(p).map_err(|e| Error::io("read", p, &e))?;
            let size = f.metadata().map_or(0, |m| m.len());
            let plan = Plan {
                origin: &origin,
                s,
                keep_values,
            };
            progress.start("reading", Some(size));
            let acc = read_any(f, &plan, progress)?;
            progress.finish();
            (origin, acc)
        }
        Input::Stdin => {
            let origin = "<stdin>".to_string();
            let plan = Plan {
                origin: &origin,
                s,
                keep_values,
            };
            let acc = read_any(std::io::stdin().lock(), &plan, progress)?;
            (origin, acc)
        }
        Input::Url(u) => {
            let resp = fetch(u)?;
            let plan = Plan {
                origin: u,
                s,
                keep_values,
            };
            let acc = read_any(resp, &plan, progress)?;
            (u.clone(), acc)
        }
    };
    analyze_acc(s, origin, acc)
}

/// Turn per-unit sums into arm accumulators.
fn fold_units(acc: &mut Acc, keep: bool, with_x: bool) {
    let units = std::mem::take(&mut acc.units);
    if units.is_empty() {
        return;
    }
    for a in &mut acc.arms {
        *a = ArmAcc::default();
    }
    // Sorted by first line so the order of sums is deterministic.
    let mut units: Vec<UnitAcc> = units.into_values().collect();
    units.sort_by_key(|u| u.line);
    for u in units {
        acc.arms[u.variant].push(u.y, with_x.then_some(u.x), keep);
    }
}

#[allow(clippy::too_many_lines)]
fn analyze_acc(s: &Settings, origin: String, mut acc: Acc) -> Result<Report> {
    if acc.rows == 0 {
        return Err(Error::data(format!(
            "{origin} has no data rows; check the input (and the URL or file)"
        )));
    }
    if s.unit.is_some() {
        fold_units(
            &mut acc,
            s.test == TestChoice::MannWhitney,
            s.covariate.is_some(),
        );
    }
    for a in &mut acc.arms {
        a.flush();
    }
    let names: Vec<String> = acc
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
    let arms: Vec<&ArmAcc> = order.iter().map(|&i| &acc.arms[i]).collect();
    let arm_names: Vec<String> = order.iter().map(|&i| names[i].clone()).collect();

    // The planned split.
    let planned: Vec<(String, f64)> = match &s.split {
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
    };
    let observed: Vec<(String, u64)> = planned
        .iter()
        .map(|(n, _)| {
            let c = arm_names
                .iter()
                .position(|m| m == n)
                .map_or(0, |i| arms[i].y.n);
            (n.clone(), c)
        })
        .collect();
    let srm_raw = srm::srm(
        &observed.iter().map(|(_, c)| *c).collect::<Vec<_>>(),
        &planned.iter().map(|(_, w)| *w).collect::<Vec<_>>(),
    );
    let srm = SrmReport {
        chi2: srm_raw.chi2,
        df: srm_raw.df,
        p: srm_raw.p,
        planned: planned.clone(),
        observed,
        expected: srm_raw.expected,
        contributions: srm_raw.contributions,
        mismatch: srm_raw.mismatch,
    };

    // CUPED.
    let mut cuped = None;
    let moments: Vec<Moments> = if let Some(cov) = &s.covariate {
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
        cuped = Some(CupedReport {
            covariate: cov.clone(),
            theta,
            variance_reduction: if syy > 0.0 { 1.0 - syy_adj / syy } else { 0.0 },
        });
        adj
    } else {
        arms.iter().map(|a| a.y).collect()
    };

    let variants: Vec<VariantSummary> = arms
        .iter()
        .zip(&arm_names)
        .zip(&moments)
        .map(|((a, name), m)| VariantSummary {
            name: name.clone(),
            n: a.y.n,
            mean: a.y.mean,
            sd: a.y.sd(),
            conversions: (s.kind == Kind::Binary).then_some(a.ones),
            adjusted_mean: s.covariate.as_ref().map(|_| m.mean),
        })
        .collect();

    // Comparisons.
    let control = &moments[0];
    let ca = Counts {
        n: arms[0].y.n,
        x: arms[0].ones,
    };
    let mut comparisons = Vec::new();
    for i in 1..arms.len() {
        let mb = &moments[i];
        let cb = Counts {
            n: arms[i].y.n,
            x: arms[i].ones,
        };
        let mut notes = Vec::new();
        let test = match (s.test, s.kind) {
            (TestChoice::Auto, Kind::Continuous) => TestChoice::Welch,
            (TestChoice::Auto, Kind::Binary) => {
                if proportions::small_expected(ca, cb) {
                    TestChoice::Fisher
                } else {
                    TestChoice::Z
                }
            }
            (t, _) => t,
        };
        let (result, difference, ci, se, q) = match test {
            TestChoice::Welch | TestChoice::Student | TestChoice::Auto => {
                let t: TTest = if test == TestChoice::Student {
                    ttest::student(control, mb, s.alpha)
                } else {
                    ttest::welch(control, mb, s.alpha)
                };
                (t.test, t.difference, t.ci, t.se, t.quantile)
            }
            TestChoice::MannWhitney => {
                let t = ttest::welch(control, mb, s.alpha);
                let r = mannwhitney::mann_whitney(&arms[0].values, &arms[i].values).map_or(
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
                notes.push(
                    "the interval is Welch's interval of the difference of means".to_string(),
                );
                (r, t.difference, t.ci, t.se, t.quantile)
            }
            TestChoice::Z | TestChoice::Chi2 | TestChoice::Fisher => {
                let t: PropTest = match test {
                    TestChoice::Z => proportions::z_test(ca, cb, s.alpha),
                    TestChoice::Chi2 => proportions::chi2_test(ca, cb, s.alpha),
                    _ => proportions::fisher(ca, cb, s.alpha),
                };
                (t.test, t.difference, t.ci, t.se, t.quantile)
            }
        };
        if result.p.p.is_nan() {
            notes.push(if control.n < 2 || mb.n < 2 {
                "too few units for a test (need at least 2 per arm)".to_string()
            } else if s.kind == Kind::Binary && (ca.x + cb.x == 0 || ca.x + cb.x == ca.n + cb.n) {
                "every unit has the same outcome in both arms; nothing to test".to_string()
            } else {
                "both arms have zero variance; the test is not defined".to_string()
            });
        }
        let (var_a, var_b) = if s.kind == Kind::Binary
            && matches!(test, TestChoice::Z | TestChoice::Chi2 | TestChoice::Fisher)
        {
            let (pa, pb) = (ca.rate(), cb.rate());
            (pa * (1.0 - pa), pb * (1.0 - pb))
        } else {
            (control.var(), mb.var())
        };
        let rel = ttest::relative_lift(
            control.mean,
            var_a,
            control.nf(),
            mb.mean,
            var_b,
            mb.nf(),
            q,
        );
        if rel.is_none() {
            notes.push("the control mean is 0, so the relative lift is not defined".into());
        }
        let win = if s.kind == Kind::Binary {
            bayes::beta_binomial_win(ca, cb)
        } else {
            bayes::normal_win(difference, se)
        };
        let win = match s.direction {
            Direction::Increase => win,
            Direction::Decrease => 1.0 - win,
        };
        comparisons.push(Comparison {
            variant: arm_names[i].clone(),
            test,
            result,
            p_adjusted: f64::NAN,
            difference,
            ci,
            relative_lift: rel.map(|r| r.0),
            relative_ci: rel.map(|r| r.1),
            chance_to_win: win,
            significant: false,
            notes,
            se,
        });
    }
    let ps: Vec<f64> = comparisons.iter().map(|c| c.result.p.p).collect();
    let adj = adjust(&ps, s.correction);
    for (c, p) in comparisons.iter_mut().zip(adj) {
        c.p_adjusted = p;
        c.significant = p < s.alpha;
    }
    let family = format!(
        "{} comparison{} against control \"{}\", {} correction",
        comparisons.len(),
        if comparisons.len() == 1 { "" } else { "s" },
        s.control,
        correction_name(s.correction)
    );

    // Power.
    let mde = comparisons
        .iter()
        .map(|c| {
            let abs = if c.se > 0.0 {
                power::mde(c.se, s.alpha, power::POWER)
            } else {
                f64::NAN
            };
            let rel = (control.mean != 0.0).then(|| abs / control.mean.abs());
            (c.variant.clone(), abs, rel)
        })
        .collect();
    let units_per_arm = s.mde.map(|m| {
        if s.kind == Kind::Binary {
            let pa = ca.rate();
            let pb = pa * (1.0 + m);
            power::units_per_arm(
                pa,
                pa * (1.0 - pa),
                pb * (1.0 - pb),
                m,
                s.alpha,
                power::POWER,
            )
        } else {
            let v = control.var();
            power::units_per_arm(control.mean, v, v, m, s.alpha, power::POWER)
        }
    });
    let power = PowerReport {
        power: power::POWER,
        mde,
        target_mde: s.mde,
        units_per_arm: units_per_arm.filter(|u| u.is_finite()),
    };

    // Decision.
    let mut reasons = Vec::new();
    let mut invalid = false;
    if arm_names.len() < 2 {
        invalid = true;
        reasons.push(format!(
            "only one variant (\"{}\") is in the data; there is nothing to compare",
            s.control
        ));
    }
    for v in &variants {
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
    let decision = if invalid {
        Decision::Invalid
    } else if !winners.is_empty() {
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
        reasons.push(format!(
            "no variant differs significantly from \"{}\" at alpha = {} after {} correction",
            s.control,
            s.alpha,
            correction_name(s.correction)
        ));
        for c in &comparisons {
            for n in &c.notes {
                if n.contains("not defined") || n.contains("too few") || n.contains("same outcome")
                {
                    reasons.push(format!("\"{}\": {n}", c.variant));
                }
            }
        }
        Decision::Inconclusive
    };

    Ok(Report {
        origin,
        settings: s.clone(),
        rows: acc.rows,
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

    fn settings(input: Input, kind: Kind) -> Settings {
        Settings {
            input,
            variant_column: "variant".into(),
            metric: "y".into(),
            kind,
            control: "A".into(),
            alpha: 0.05,
            split: None,
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
    fn split_parsing() {
        assert_eq!(
            parse_split("A=0.8, B=0.2", "--split").unwrap(),
            vec![("A".to_string(), 0.8), ("B".to_string(), 0.2)]
        );
        assert!(parse_split("A=0.8", "--split").is_err());
        assert!(parse_split("A=x,B=1", "--split").is_err());
    }
}
