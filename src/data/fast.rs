//! The fast path of the chunk parser, for the common file: no quote
//! characters, numeric columns and plain categorical ones.
//!
//! One scan reads each row's cells left to right; a cell is read eight bytes
//! at a time (a SWAR count of its leading digits, then the digits' value)
//! and must end exactly at the delimiter the row needs. Any row this path
//! does not take whole (a missing cell, an exponent, a sign other than `-`,
//! more than 15 digits, whitespace, a short or long row, a blank line, the
//! last bytes of the chunk) is handed, from its first byte, to the general
//! record parser, so values, messages and line numbers are those of
//! [`super::records::visit_chunk`] + [`super::cell::parse_number`] by
//! construction: the fast path accepts only cells the general parser reads
//! the same way (Clinger's exact case, as in
//! [`super::cell::parse_short_decimal`]). A categorical cell is taken when
//! it is printable ASCII without spaces (nothing to trim, valid UTF-8) and
//! not a `data.na_values` token; any other goes to the general parser.

use super::builder::{Builder, estimate_rows};
use super::cell::POW10;
use super::plan::{FeatureKind, Plan};
use super::records::visit_chunk;
use super::swar::{digit_run, digits_value, load8, unzero};
use crate::error::Result;

/// `10^k` for the digit counts a fast cell can have.
const POW10_U64: [u64; 16] = [
    1,
    10,
    100,
    1_000,
    10_000,
    100_000,
    1_000_000,
    10_000_000,
    100_000_000,
    1_000_000_000,
    10_000_000_000,
    100_000_000_000,
    1_000_000_000_000,
    10_000_000_000_000,
    100_000_000_000_000,
    1_000_000_000_000_000,
];

/// Bytes a cell may read past its first byte: sign, seven integer digits,
/// the point and two eight-byte loads of fraction digits, plus the
/// terminator (and the LF after a CR).
const LOOKAHEAD: usize = 1 + 7 + 1 + 16 + 2;

/// A cell at `b[i..]` of the form `-?D{1,7}(.D{0,16})?` with at most 15
/// digits in all: its value (Clinger's exact case: `m / 10^k` with `m <
/// 2^53`, one correctly rounded division, the same operation
/// [`super::cell::parse_short_decimal`] does) and the offset just past it.
/// Needs `i + LOOKAHEAD <= b.len()`.
#[inline]
fn cell(b: &[u8], i: usize) -> Option<(f64, usize)> {
    let neg = b[i] == b'-';
    let mut i = i + usize::from(neg);
    let v = unzero(load8(b, i));
    let ci = digit_run(v);
    if ci == 0 || ci == 8 {
        return None;
    }
    let mut mant = digits_value(v, ci);
    i += ci;
    let mut frac = 0usize;
    if b[i] == b'.' {
        i += 1;
        let v1 = unzero(load8(b, i));
        let c1 = digit_run(v1);
        let f1 = digits_value(v1, c1);
        let v2 = unzero(load8(b, i + 8));
        // The second load counts only after eight digits (no branch: the
        // digit counts vary from cell to cell).
        let c2 = digit_run(v2) & 0usize.wrapping_sub(usize::from(c1 == 8));
        let f2 = digits_value(v2, c2);
        frac = c1 + c2;
        if ci + frac > 15 {
            return None;
        }
        mant = mant * POW10_U64[frac] + f1 * POW10_U64[c2] + f2;
        i += frac;
    }
    // mant < 10^15 < 2^53: exact, and positive as an i64.
    #[allow(clippy::cast_precision_loss, clippy::cast_possible_wrap)]
    let m = mant as i64 as f64;
    let x = m / POW10[frac];
    // The sign without a branch (signs are random in real data): -x.
    Some((f64::from_bits(x.to_bits() | (u64::from(neg) << 63)), i))
}

/// The bytes of `v` (eight, first byte lowest) that are zero: their top
/// bit set, every other bit clear (exact: no carry from one byte reaches
/// another).
#[inline]
fn zero_bytes(v: u64) -> u64 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    !(((v & LOW7).wrapping_add(LOW7)) | v | LOW7)
}

/// The first `,` or `\n` in `b[i..i + 24]`, if any (needs `i + 24 <=
/// b.len()`): three loads and a few word operations instead of a call.
#[inline]
fn delimiter(b: &[u8], i: usize) -> Option<usize> {
    let found =
        |w: u64| zero_bytes(w ^ 0x2c2c_2c2c_2c2c_2c2c) | zero_bytes(w ^ 0x0a0a_0a0a_0a0a_0a0a);
    let t = u128::from(found(load8(b, i))) | (u128::from(found(load8(b, i + 8))) << 64);
    if t != 0 {
        return Some(i + (t.trailing_zeros() / 8) as usize);
    }
    let t = found(load8(b, i + 16));
    (t != 0).then(|| i + 16 + (t.trailing_zeros() / 8) as usize)
}

/// Where each CSV column goes: a feature, the target, or nowhere.
#[derive(Clone, Copy)]
enum Dest {
    Feature(usize),
    /// A categorical feature.
    Level(usize),
    Target,
    Skip,
}

/// Where each of the `plan.width` CSV columns goes.
fn destinations(plan: &Plan<'_>) -> Vec<Dest> {
    let mut dest = vec![Dest::Skip; plan.width];
    for (k, &c) in plan.feat_idx.iter().enumerate() {
        dest[c] = match plan.kinds[k] {
            FeatureKind::Numeric => Dest::Feature(k),
            FeatureKind::Categorical => Dest::Level(k),
        };
    }
    if let Some((t, _)) = plan.target {
        dest[t] = Dest::Target;
    }
    dest
}

/// The one line of `chunk` at `start` (file line `line`) through the
/// general parser, into `out`; returns the offset just past it.
fn general_line(
    plan: &Plan<'_>,
    chunk: &[u8],
    start: usize,
    line: u64,
    out: &mut Builder<'_>,
) -> Result<usize> {
    let end = memchr::memchr(b'\n', &chunk[start..]).map_or(chunk.len(), |p| start + p + 1);
    visit_chunk(
        plan.origin,
        &chunk[start..end],
        line,
        &mut |fields, l, _| out.push(fields, l),
    )?;
    Ok(end)
}

/// Whether [`parse_numeric_chunk`] can read `chunk` for `plan`.
pub(super) fn applies(plan: &Plan<'_>, chunk: &[u8]) -> bool {
    plan.width > 0 && !plan.numeric_na() && memchr::memchr(b'"', chunk).is_none()
}

/// Whether a categorical cell reads as itself: printable ASCII, no space
/// (so nothing to trim and valid UTF-8), not empty.
fn plain_level(cell: &[u8]) -> bool {
    !cell.is_empty() && cell.iter().all(|b| (0x21..=0x7e).contains(b))
}

/// Parse the records of `chunk` (no quote characters) into `out`; returns
/// how many records the fast path took whole (the others went through the
/// general parser).
pub(super) fn parse_numeric_chunk(
    plan: &Plan<'_>,
    chunk: &[u8],
    first_line: u64,
    out: &mut Builder<'_>,
    progress: &dyn Fn(u64, u64),
) -> Result<usize> {
    let width = plan.width;
    let dest = destinations(plan);
    let mut feats = vec![0.0f64; plan.feat_idx.len()];
    // Each categorical feature's cell: its byte range in `chunk`.
    let mut levels = vec![(0usize, 0usize); plan.feat_idx.len()];
    let mut target = 0.0f64;
    let mut line = first_line;
    let mut rows = 0usize;
    let mut taken = 0usize;
    let mut start = 0usize;
    let safe_end = chunk.len().saturating_sub(LOOKAHEAD);
    while start < chunk.len() {
        // The record at `start`, read whole, or `None`.
        let fast = 'row: {
            let mut i = start;
            for (c, d) in dest.iter().enumerate() {
                let last = c + 1 == width;
                match *d {
                    Dest::Skip => {
                        // Any bytes up to the delimiter this column needs.
                        let Some(p) = memchr::memchr2(b',', b'\n', &chunk[i..]) else {
                            break 'row None;
                        };
                        let at = i + p;
                        if (chunk[at] == b'\n') != last {
                            break 'row None;
                        }
                        i = at + 1;
                    }
                    Dest::Level(k) => {
                        // A short cell's delimiter without a call; else search.
                        let near = if i < safe_end {
                            delimiter(chunk, i)
                        } else {
                            None
                        };
                        let Some(at) = near
                            .or_else(|| memchr::memchr2(b',', b'\n', &chunk[i..]).map(|p| i + p))
                        else {
                            break 'row None;
                        };
                        let c = &chunk[i..at];
                        if (chunk[at] == b'\n') != last || !plain_level(c) || plan.is_na(c) {
                            break 'row None;
                        }
                        levels[k] = (i, at);
                        i = at + 1;
                    }
                    Dest::Feature(_) | Dest::Target => {
                        if i >= safe_end {
                            break 'row None;
                        }
                        let Some((x, end)) = cell(chunk, i) else {
                            break 'row None;
                        };
                        match *d {
                            Dest::Feature(k) => feats[k] = x,
                            _ => target = x,
                        }
                        i = match (last, chunk[end]) {
                            (false, b',') | (true, b'\n') => end + 1,
                            (true, b'\r') if chunk[end + 1] == b'\n' => end + 2,
                            _ => break 'row None,
                        };
                    }
                }
            }
            Some(i)
        };
        let next = if let Some(next) = fast {
            out.push_fast(plan.target.map(|_| target), &feats, (chunk, &levels), line);
            taken += 1;
            next
        } else {
            general_line(plan, chunk, start, line, out)?
        };
        line += 1;
        rows += 1;
        if rows == 1024 {
            out.reserve(estimate_rows(chunk.len(), next as u64));
        }
        if rows.is_multiple_of(65_536) {
            progress(next as u64, rows as u64);
        }
        start = next;
    }
    Ok(taken)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn padded(s: &str) -> Vec<u8> {
        let mut v = s.as_bytes().to_vec();
        v.extend_from_slice(&[b'\n'; LOOKAHEAD + 8]);
        v
    }

    #[test]
    fn cells_agree_with_the_general_parser() {
        for s in [
            "0",
            "-0",
            "7",
            "1234567",
            "4.8984205",
            "-0.292518225",
            "-13.4421455",
            "3.56887008",
            "0.00000000000001",
            "123.456789012345",
            "1.",
            "9999999.99999999",
            "0.1",
            "-1234567.12345678",
        ] {
            let b = padded(&format!("{s},"));
            let (x, end) = cell(&b, 0).unwrap_or_else(|| panic!("{s} not taken"));
            assert_eq!(end, s.len(), "{s}");
            let want: f64 = s.parse().unwrap();
            assert_eq!(x.to_bits(), want.to_bits(), "{s}");
        }
    }

    #[test]
    fn delimiters_are_found_within_twenty_four_bytes() {
        for (s, want) in [
            ("1,", Some(1)),
            ("-0.0292518225\n", Some(13)),
            ("-123456789012345.,", Some(17)),
            ("12345678901234567890123,", Some(23)),
            ("123456789012345678901234,", None),
            (",", Some(0)),
            ("\n", Some(0)),
            ("12\r\n", Some(3)),
            ("\u{ac}\u{8a}x,", Some(5)),
        ] {
            let mut b = s.as_bytes().to_vec();
            b.resize(b.len().max(24) + 8, b'x');
            assert_eq!(delimiter(&b, 0), want, "{s:?}");
        }
        // Every byte value is told apart from the two delimiters.
        for v in 0..=255u8 {
            for at in [0, 9, 20] {
                let mut c = vec![b'7'; 24];
                c[at] = v;
                let hit = (v == b',' || v == b'\n').then_some(at);
                assert_eq!(delimiter(&c, 0), hit, "{v} at {at}");
            }
        }
    }

    #[test]
    fn other_cells_go_to_the_general_parser() {
        for s in [
            "",
            " 1",
            "+1",
            ".5",
            "12345678",
            "1e5",
            "1234567.123456789",
            "-",
            "-.5",
            "NaN",
            "0.1234567890123456",
        ] {
            let b = padded(&format!("{s},"));
            // Not taken, or stopped before the comma, so the row check
            // hands the record to the general parser.
            if let Some((_, end)) = cell(&b, 0) {
                assert!(b[end] != b',' && end < s.len(), "{s}");
            }
        }
    }

    /// The general record parser on the same chunk, for comparison.
    fn general(plan: &Plan<'_>, chunk: &[u8]) -> Result<super::super::Table> {
        let mut b = Builder::new(plan);
        visit_chunk(plan.origin, chunk, 2, &mut |f, l, _| b.push(f, l))?;
        Ok(b.into_table())
    }

    fn same(a: &super::super::Table, b: &super::super::Table) -> bool {
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        a.lines == b.lines
            && bits(&a.target) == bits(&b.target)
            && a.features
                .iter()
                .zip(&b.features)
                .all(|(x, y)| match (x, y) {
                    (super::super::Column::Numeric(x), super::super::Column::Numeric(y)) => {
                        bits(x) == bits(y)
                    }
                    (
                        super::super::Column::Categorical { codes, levels },
                        super::super::Column::Categorical {
                            codes: c2,
                            levels: l2,
                        },
                    ) => codes == c2 && levels == l2,
                    _ => false,
                })
    }

    /// Every bad-data case of the general parser, inside otherwise ordinary
    /// chunks (long enough for the fast path to take the rows around it):
    /// the same message, naming the same line.
    #[test]
    fn bad_data_gives_the_general_messages() {
        use crate::project::MissingPolicy;
        let header: Vec<String> = ["a", "b", "y"].iter().map(|s| (*s).into()).collect();
        let sel = super::super::Selection {
            target: Some("y".into()),
            features: None,
            exclude: vec![],
            categorical: vec![],
            missing: MissingPolicy::Error,
            na_values: vec![],
        };
        let feats = super::super::resolve_features(&header, &sel, "t.csv").unwrap();
        let plan = super::super::plan::plan(&header, &feats, &sel, "t.csv").unwrap();
        let good = "1.25,-3.5,7\n".repeat(40);
        for bad in [
            "12a,3,4\n",
            "2,x,2\r\n",
            "2,3\n",
            "2,3,4,5\n",
            "2,3,NaN\n",
            "inf,3,4\n",
            "1e999,3,4\n",
            ",3,4\n",
            "1, ,4\n",
            "2,\u{0}\u{ff},3\n",
            "1.5.5,2,3\n",
            "--1,2,3\n",
            "0x10,2,3\n",
        ] {
            let text = format!("{good}{bad}{good}");
            let mut b = Builder::new(&plan);
            let fast = parse_numeric_chunk(&plan, text.as_bytes(), 2, &mut b, &|_, _| {});
            let want = general(&plan, text.as_bytes()).map(|_| ()).unwrap_err();
            let got = fast.map(|_| ()).unwrap_err();
            assert_eq!(got.to_string(), want.to_string(), "{bad:?}");
            assert!(got.to_string().starts_with("t.csv:42:"), "{bad:?}: {got}");
        }
        // Blank and whitespace-only lines are skipped, and counted as lines.
        let text = format!("{good}\n  \r\n{good}");
        let mut b = Builder::new(&plan);
        let n = parse_numeric_chunk(&plan, text.as_bytes(), 2, &mut b, &|_, _| {}).unwrap();
        let t = b.into_table();
        assert!(same(&t, &general(&plan, text.as_bytes()).unwrap()));
        assert_eq!(t.rows(), 80);
        assert_eq!(t.lines[40], 44);
        assert!(n >= 70, "{n}");
    }

    /// Random chunks of ordinary and odd cells and rows: the fast path and
    /// the general parser give the same values, lines and errors.
    #[test]
    fn random_chunks_agree_with_the_general_parser() {
        use crate::project::MissingPolicy;
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move |n: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % n
        };
        let header: Vec<String> = ["a", "b", "skip", "y"]
            .iter()
            .map(|s| (*s).into())
            .collect();
        for missing in [MissingPolicy::Error, MissingPolicy::DropRow] {
            let sel = super::super::Selection {
                target: Some("y".into()),
                features: None,
                exclude: vec!["skip".into()],
                categorical: vec![],
                missing,
                na_values: vec![],
            };
            let feats = super::super::resolve_features(&header, &sel, "t.csv").unwrap();
            let plan = super::super::plan::plan(&header, &feats, &sel, "t.csv").unwrap();
            let (mut errors, mut fast_rows, mut rows) = (0, 0, 0);
            for round in 0..400 {
                let mut text = String::new();
                for _ in 0..1 + next(30) {
                    let odd = round % 4 == 0;
                    let fields = if odd && next(20) == 0 { 3 + next(3) } else { 4 };
                    for c in 0..fields {
                        if c > 0 {
                            text.push(',');
                        }
                        let cell = match next(if odd { 16 } else { 8 }) {
                            0..=4 => {
                                let digits = 1 + next(16);
                                let mut d: String = (0..digits)
                                    .map(|_| char::from(b'0' + next(10) as u8))
                                    .collect();
                                let point = next(digits + 1) as usize;
                                if point < d.len() && point > 0 {
                                    d.insert(point, '.');
                                }
                                if next(2) == 0 { format!("-{d}") } else { d }
                            }
                            5 => format!("{}", next(1000)),
                            6 => format!("{}.{}", next(100), next(100_000)),
                            7 => format!("-0.{:09}", next(1_000_000_000)),
                            8 => String::new(),
                            9 => " 1.5".into(),
                            10 => "1e3".into(),
                            11 => "+2".into(),
                            12 => ".5".into(),
                            13 => "x".into(),
                            14 => "12345678.5".into(),
                            _ => "1.5\r".into(),
                        };
                        text.push_str(&cell);
                    }
                    text.push_str(match next(if round % 3 == 0 { 4 } else { 1 }) {
                        0 => "\n",
                        1 => "\r\n",
                        2 => "\n\n",
                        _ => "\n \n",
                    });
                }
                if next(3) == 0 {
                    text.pop(); // no final newline
                }
                let chunk = text.as_bytes();
                let mut b = Builder::new(&plan);
                let fast = parse_numeric_chunk(&plan, chunk, 2, &mut b, &|_, _| {})
                    .map(|n| (n, b.into_table()));
                match (fast, general(&plan, chunk)) {
                    (Ok((n, x)), Ok(y)) => {
                        assert!(same(&x, &y), "{text:?}");
                        fast_rows += n;
                        rows += y.rows();
                    }
                    (Err(x), Err(y)) => {
                        errors += 1;
                        assert_eq!(x.to_string(), y.to_string(), "{text:?}");
                    }
                    (x, y) => panic!("{text:?}: {:?} vs {:?}", x.map(|_| ()), y.map(|_| ())),
                }
            }
            assert!(errors > 10 && errors < 390, "{errors}");
            // Most ordinary rows take the fast path (not those near a
            // chunk's end, nor those with a 16-digit cell).
            assert!(fast_rows * 2 > rows, "{fast_rows} of {rows}");
        }
    }

    mod fuzz {
        //! Property tests (`cargo test fuzz`; `PROPTEST_CASES=1000000` for a long run).
        use super::*;
        use proptest::prelude::*;

        /// `n` cases unless `PROPTEST_CASES` says otherwise.
        fn cases(n: u32) -> ProptestConfig {
            let mut c = ProptestConfig::default();
            if std::env::var_os("PROPTEST_CASES").is_none() {
                c.cases = n;
            }
            c
        }

        fn cell() -> impl Strategy<Value = String> {
            prop_oneof![
                4 => "-?[0-9]{1,16}(\\.[0-9]{0,16})?",
                1 => "-?[0-9]{1,3}",
                1 => prop_oneof![
                    Just(String::new()),
                    Just(" 1.5".to_string()),
                    Just("1e3".to_string()),
                    Just("+2".to_string()),
                    Just(".5".to_string()),
                    Just("x".to_string()),
                    Just("1e308".to_string()),
                    Just("-1e308".to_string()),
                    Just("1e309".to_string()),
                    Just("1.5\r".to_string()),
                    Just("yes".to_string()),
                    Just("no".to_string()),
                    Just(" no".to_string()),
                    Just("a b".to_string()),
                    Just("é".to_string()),
                    Just("x ".to_string()),
                ],
            ]
        }

        fn row() -> impl Strategy<Value = String> {
            prop_oneof![
                20 => proptest::collection::vec(cell(), 4..=4),
                1 => proptest::collection::vec(cell(), 0..7),
            ]
            .prop_map(|c| c.join(","))
        }

        proptest! {
            #![proptest_config(cases(600))]
            #[test]
            fn fuzz_csv_fast_path_agrees_with_the_general_parser(
                rows in proptest::collection::vec(
                    (row(), prop_oneof![Just("\n"), Just("\r\n"), Just("\n\n"), Just("\n \n")]),
                    1..40,
                ),
                drop_row in any::<bool>(),
                final_newline in any::<bool>(),
                categorical_b in any::<bool>(),
                na_x in any::<bool>(),
            ) {
                use crate::project::MissingPolicy;
                let header: Vec<String> = ["a", "b", "skip", "y"].iter().map(|s| (*s).into()).collect();
                let sel = super::super::super::Selection {
                    target: Some("y".into()),
                    features: None,
                    exclude: vec!["skip".into()],
                    categorical: if categorical_b { vec!["b".into()] } else { vec![] },
                    missing: if drop_row { MissingPolicy::DropRow } else { MissingPolicy::Error },
                    na_values: if na_x { vec!["x".into()] } else { vec![] },
                };
                let feats = super::super::super::resolve_features(&header, &sel, "t.csv").unwrap();
                let plan = super::super::super::plan::plan(&header, &feats, &sel, "t.csv").unwrap();
                let mut text: String = rows.iter().map(|(r, end)| format!("{r}{end}")).collect();
                if !final_newline {
                    text.pop();
                }
                let chunk = text.as_bytes();
                prop_assert!(applies(&plan, chunk));
                let mut b = Builder::new(&plan);
                let fast = parse_numeric_chunk(&plan, chunk, 2, &mut b, &|_, _| {})
                    .map(|_| b.into_table());
                match (fast, general(&plan, chunk)) {
                    (Ok(x), Ok(y)) => prop_assert!(same(&x, &y), "{:?}", text),
                    (Err(x), Err(y)) => prop_assert_eq!(x.to_string(), y.to_string()),
                    (x, y) => prop_assert!(false, "{:?}: {:?} vs {:?}", text, x.map(|_| ()), y.map(|_| ())),
                }
            }
        }
    }
}
