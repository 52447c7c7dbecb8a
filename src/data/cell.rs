//! One cell: a number (Clinger's exact fast path, then the general parser),
//! a categorical level, or a missing cell, with errors that name file, line,
//! column and value.

use super::swar::eight_digits;
use crate::error::{Error, Result};

/// Parse one numeric cell: `Ok(None)` when missing.
///
/// `origin`, `line` and `column` only feed the error message.
#[inline]
pub fn parse_number(cell: &[u8], origin: &str, line: u64, column: &str) -> Result<Option<f64>> {
    // The common case stays small enough to inline; the general parser and
    // the messages (a large stack frame) live out of line.
    if let Some(v) = parse_short_decimal(cell) {
        return Ok(Some(v));
    }
    parse_number_general(cell, origin, line, column)
}

#[cold]
#[inline(never)]
fn parse_number_general(cell: &[u8], origin: &str, line: u64, column: &str) -> Result<Option<f64>> {
    let t = cell.trim_ascii();
    if t.is_empty() {
        return Ok(None);
    }
    if let Some(v) = parse_short_decimal(t) {
        return Ok(Some(v));
    }
    if let Ok(v) = fast_float2::parse::<f64, _>(t)
        && v.is_finite()
    {
        return Ok(Some(v));
    }
    // The slow path: the exact message, or a form only `str::parse` accepts.
    let Ok(s) = std::str::from_utf8(t) else {
        return Err(Error::data(format!(
            "{origin}:{line}: column \"{column}\": the cell holds bytes that are not valid UTF-8; save the file as UTF-8"
        )));
    };
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(Some(v)),
        Ok(_) if looks_missing(s) => Err(not_a_number(origin, line, column, s)),
        Ok(_) => Err(Error::data(format!(
            "{origin}:{line}: column \"{column}\": \"{s}\" is not a finite number; remove or fix the row"
        ))),
        Err(_) => Err(not_a_number(origin, line, column, s)),
    }
}

/// The spellings of "missing" other tools write (pandas' default
/// `na_values`, spreadsheets, R).
const MISSING_TOKENS: [&str; 14] = [
    "na", "n/a", "#n/a", "nan", "-nan", "null", "none", "nil", "missing", "?", "-", "--", ".",
    "<na>",
];

/// Whether `s` is a usual spelling of a missing value.
#[must_use]
pub fn looks_missing(s: &str) -> bool {
    let t = s.trim().to_ascii_lowercase();
    MISSING_TOKENS.contains(&t.as_str())
}

/// Whether `s` looks like a number written wrongly (`1,54.7`, `1.2.3`,
/// `$12`, `5%`): digits and the punctuation of numbers only.
fn looks_malformed_number(s: &str) -> bool {
    let t = s.trim();
    t.bytes().any(|b| b.is_ascii_digit())
        && t.bytes()
            .all(|b| b.is_ascii_digit() || b",.+-eE $%_'".contains(&b))
}

/// What to do about text `s` in a numeric column.
#[must_use]
pub fn not_a_number_hint(s: &str) -> String {
    if looks_missing(s) {
        format!(
            "list \"{}\" in data.na_values to read it as a missing cell",
            s.trim()
        )
    } else if looks_malformed_number(s) {
        "fix the cell (it is a malformed number)".to_string()
    } else {
        CATEGORICAL_HINT.to_string()
    }
}

/// The hint for text in a numeric feature column that holds words.
pub const CATEGORICAL_HINT: &str = "fix the cell, or list the column in data.categorical";

/// What every message about text that is not a number holds.
const NOT_A_NUMBER: &str = "\" is not a number; ";

/// Whether `e` is the error of a cell that is not a number.
pub(super) fn is_not_a_number(e: &Error) -> bool {
    matches!(e, Error::Data(m) if m.contains(NOT_A_NUMBER))
}

/// The error for text `s` that is not a number.
fn not_a_number(origin: &str, line: u64, column: &str, s: &str) -> Error {
    Error::data(format!(
        "{origin}:{line}: column \"{column}\": \"{s}{NOT_A_NUMBER}{}",
        not_a_number_hint(s)
    ))
}

/// Exact powers of ten representable in an `f64`.
pub(super) const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// The common case of a number cell, without a general parser: at most 15
/// digits and a decimal exponent within ±22. Then the digits form an exact
/// integer `m < 2^53` and `10^|e|` is exact, so `m * 10^e` (or `m / 10^-e`)
/// is one correctly rounded IEEE operation: Clinger's fast path (W. D.
/// Clinger, "How to read floating point numbers accurately", PLDI 1990), the
/// same first step fast_float and Rust's own parser take. Anything else
/// returns `None` for the general parser.
#[inline]
fn parse_short_decimal(b: &[u8]) -> Option<f64> {
    let (neg, mut i) = match b.first()? {
        b'-' => (true, 1),
        b'+' => (false, 1),
        _ => (false, 0),
    };
    let mut mant: u64 = 0;
    let mut digits = 0u32;
    let mut exp: i32 = 0;
    while i < b.len() && b[i].is_ascii_digit() {
        mant = mant * 10 + u64::from(b[i] - b'0');
        digits += 1;
        i += 1;
        if digits > 15 {
            return None;
        }
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        // Eight fraction digits at a time while they fit in 15.
        while digits <= 7
            && let Some(eight) = eight_digits(b, i)
        {
            mant = mant * 100_000_000 + eight;
            digits += 8;
            exp -= 8;
            i += 8;
        }
        while i < b.len() && b[i].is_ascii_digit() {
            mant = mant * 10 + u64::from(b[i] - b'0');
            digits += 1;
            exp -= 1;
            i += 1;
            if digits > 15 {
                return None;
            }
        }
    }
    if digits == 0 {
        return None;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        let eneg = match b.get(i) {
            Some(b'-') => {
                i += 1;
                true
            }
            Some(b'+') => {
                i += 1;
                false
            }
            _ => false,
        };
        let start = i;
        let mut e: i32 = 0;
        while i < b.len() && b[i].is_ascii_digit() && i - start < 4 {
            e = e * 10 + i32::from(b[i] - b'0');
            i += 1;
        }
        if i == start {
            return None;
        }
        exp += if eneg { -e } else { e };
    }
    if i != b.len() || !(-22..=22).contains(&exp) {
        return None;
    }
    #[allow(clippy::cast_precision_loss)] // mant < 10^15 < 2^53: exact
    let m = mant as f64;
    let v = if exp >= 0 {
        m * POW10[exp.unsigned_abs() as usize]
    } else {
        m / POW10[exp.unsigned_abs() as usize]
    };
    Some(if neg { -v } else { v })
}

/// Parse one categorical cell: `Ok(None)` when missing.
pub fn parse_level<'a>(
    cell: &'a [u8],
    origin: &str,
    line: u64,
    column: &str,
) -> Result<Option<&'a str>> {
    let Ok(s) = std::str::from_utf8(cell) else {
        return Err(Error::data(format!(
            "{origin}:{line}: column \"{column}\": the cell holds bytes that are not valid UTF-8; save the file as UTF-8"
        )));
    };
    let s = s.trim();
    Ok(if s.is_empty() { None } else { Some(s) })
}

/// Whether `cell`, trimmed, is one of the `na` tokens (`data.na_values`).
#[inline]
pub fn is_na_value<S: AsRef<str>>(na: &[S], cell: &[u8]) -> bool {
    let t = cell.trim_ascii();
    na.iter().any(|n| {
        let n = n.as_ref().trim();
        !n.is_empty() && n.as_bytes() == t
    })
}

/// A missing-cell error under `missing = "error"`.
#[must_use]
pub fn missing_error(origin: &str, line: u64, column: &str) -> Error {
    Error::data(format!(
        "{origin}:{line}: column \"{column}\" is empty; fill it, or set data.missing = \"drop-row\" or \"mean\""
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_forms() {
        for (text, v) in [
            ("+1.5", 1.5),
            ("1e5", 1e5),
            (".5", 0.5),
            ("5.", 5.0),
            ("1E-3", 1e-3),
            (" 7 ", 7.0),
            ("-0", -0.0),
        ] {
            assert_eq!(
                parse_number(text.as_bytes(), "f", 1, "c").unwrap(),
                Some(v),
                "{text}"
            );
        }
        for text in [
            "1,5", "0x10", "1e", "--1", "1.2.3", "infinity", "-inf", "nan",
        ] {
            assert!(
                parse_number(text.as_bytes(), "f", 1, "c").is_err(),
                "{text}"
            );
        }
    }

    #[test]
    fn hints_fit_the_text() {
        for (text, hint) in [
            (
                "NA",
                "list \"NA\" in data.na_values to read it as a missing cell",
            ),
            (
                "null",
                "list \"null\" in data.na_values to read it as a missing cell",
            ),
            (
                "NaN",
                "list \"NaN\" in data.na_values to read it as a missing cell",
            ),
            (
                "?",
                "list \"?\" in data.na_values to read it as a missing cell",
            ),
            ("1,54.7", "fix the cell (it is a malformed number)"),
            ("1.2.3", "fix the cell (it is a malformed number)"),
            ("$12", "fix the cell (it is a malformed number)"),
            ("12a", CATEGORICAL_HINT),
            ("Paris", CATEGORICAL_HINT),
        ] {
            let e = parse_number(text.as_bytes(), "f", 2, "c").unwrap_err();
            assert_eq!(
                e.to_string(),
                format!("f:2: column \"c\": \"{text}\" is not a number; {hint}"),
            );
            assert!(is_not_a_number(&e));
        }
        assert!(!is_not_a_number(&missing_error("f", 1, "c")));
        assert!(is_na_value(&["NA", ""], b" NA "));
        assert!(!is_na_value(&["NA", ""], b""));
        assert!(!is_na_value(&["NA"], b"na"));
    }

    /// The fast path agrees bit for bit with Rust's own (correctly rounded)
    /// parser, on a deterministic sweep of short decimals.
    #[test]
    fn short_decimal_fast_path_is_exact() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            state = crate::data::split::splitmix64(state);
            state
        };
        let mut checked = 0;
        for _ in 0..200_000 {
            let r = next();
            let int_digits = (r % 9) as usize;
            let frac_digits = ((r >> 8) % 10) as usize;
            let mut s = String::new();
            if r & (1 << 20) != 0 {
                s.push('-');
            }
            for k in 0..int_digits {
                s.push(char::from(b'0' + ((next() >> (k % 7)) % 10) as u8));
            }
            if frac_digits > 0 {
                s.push('.');
                for _ in 0..frac_digits {
                    s.push(char::from(b'0' + (next() % 10) as u8));
                }
            }
            if r & (1 << 21) != 0 {
                s.push_str(&format!("e{}", (r >> 24) as i64 % 30 - 15));
            }
            let want = s.parse::<f64>().ok();
            if let Some(got) = parse_short_decimal(s.as_bytes()) {
                assert_eq!(Some(got.to_bits()), want.map(f64::to_bits), "{s}");
                checked += 1;
            }
        }
        assert!(checked > 150_000, "{checked}");
        for s in ["1e", "e5", ".", "-", "1.2.3", "1e+", "0x1", "1,5", "١"] {
            assert!(parse_short_decimal(s.as_bytes()).is_none(), "{s}");
        }
        assert!(parse_short_decimal(b"1234567890123456").is_none());
        assert_eq!(
            parse_short_decimal(b"-0").map(f64::to_bits),
            Some((-0.0f64).to_bits())
        );
    }
}
