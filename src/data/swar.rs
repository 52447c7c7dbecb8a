//! Digits eight at a time: SWAR (SIMD within a register) tests and values
//! of ASCII digits held in one `u64`, shared by the general number parser
//! and the fast numeric path.

/// The value of the eight ASCII digits at `b[i..i + 8]`, if they all are
/// digits: one 64-bit load, a check of all eight bytes at once, and three
/// multiplications that combine digit pairs, then pairs of pairs, then the
/// two halves (the SWAR method of simdjson and fast_float).
#[inline]
pub(super) fn eight_digits(b: &[u8], i: usize) -> Option<u64> {
    let bytes: [u8; 8] = b.get(i..i + 8)?.try_into().ok()?;
    let d = unzero(u64::from_le_bytes(bytes));
    (digit_run(d) == 8).then(|| value_of_eight(d))
}

/// The eight bytes at `b[i..i + 8]`, first byte lowest.
#[inline]
pub(super) fn load8(b: &[u8], i: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[i..i + 8]);
    u64::from_le_bytes(w)
}

/// The eight bytes of `v` with ASCII digits turned into their values
/// (`'0'..='9'` → 0..=9; other bytes become values of 10 or more).
#[inline]
pub(super) fn unzero(v: u64) -> u64 {
    v ^ 0x3030_3030_3030_3030
}

/// How many of the eight bytes of `x` (from [`unzero`]; text order = least
/// significant first) are digits before the first byte that is not.
#[inline]
pub(super) fn digit_run(x: u64) -> usize {
    // A byte is a digit when its value is at most 9: adding 0x76 leaves its
    // top bit clear. A byte of 0x8A or more carries into the next byte, but
    // it is no digit, and a carry only reaches later bytes, so the first
    // non-digit is found exactly.
    let bad = (x.wrapping_add(0x7676_7676_7676_7676) | x) & 0x8080_8080_8080_8080;
    (bad.trailing_zeros() / 8) as usize
}

/// The value of the first `count` (at most 8) digits of `x` (from
/// [`unzero`]).
#[inline]
pub(super) fn digits_value(x: u64, count: usize) -> u64 {
    // Shifted to the top, so that the bytes before them read as leading
    // zeros; a shift by 64 (no digits) is valid on 128 bits, no branch.
    #[allow(clippy::cast_possible_truncation)]
    let d = ((u128::from(x) << 64) >> (8 * count)) as u64;
    value_of_eight(d)
}

/// The number written by eight digit values (0..=9, first digit in the
/// lowest byte): pairs of digits, pairs of pairs, then the two halves (the
/// SWAR method of simdjson and fast_float).
#[inline]
pub(super) fn value_of_eight(d: u64) -> u64 {
    // Each 16-bit lane: 10 * d(2k) + d(2k+1) in its low byte.
    let d = (d * 10) + (d >> 8);
    // Pairs of lanes into 32-bit halves: 100 * pair0 + pair1, and the
    // halves into one number: 10^4 * upper four digits + lower four.
    let lanes = d & 0x0000_00FF_0000_00FF;
    let odd = (d >> 16) & 0x0000_00FF_0000_00FF;
    (lanes
        .wrapping_mul(100 + (1_000_000 << 32))
        .wrapping_add(odd.wrapping_mul(1 + (10_000 << 32))))
        >> 32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digit_runs_and_values() {
        for (s, n, val) in [
            ("12345678", 8, 12_345_678),
            ("1234567,", 7, 1_234_567),
            ("0,000000", 1, 0),
            ("9.000000", 1, 9),
            (",1234567", 0, 0),
            ("00000001", 8, 1),
            ("1\u{7f}000000", 1, 1),
        ] {
            let v = unzero(load8(s.as_bytes(), 0));
            assert_eq!(digit_run(v), n, "{s}");
            assert_eq!(digits_value(v, n), val, "{s}");
        }
        // Every byte value after every run length: the run ends exactly at
        // the first byte that is not a digit, whatever follows it.
        for k in 0..8 {
            for byte in 0..=255u8 {
                let mut w = *b"98765432";
                w[k] = byte;
                for later in &mut w[k + 1..] {
                    *later = 0xFF;
                }
                let x = unzero(u64::from_le_bytes(w));
                let want = if byte.is_ascii_digit() { k + 1 } else { k };
                assert_eq!(digit_run(x), want, "{k} {byte}");
                let text = std::str::from_utf8(&w[..want]).unwrap();
                assert_eq!(
                    digits_value(x, want),
                    text.parse().unwrap_or(0),
                    "{k} {byte}"
                );
            }
        }
        // Bytes that carry or borrow do not disturb the digits before them.
        let v = unzero(u64::from_le_bytes([
            b'4', b'2', 0xFF, 0xFF, 0x00, b'1', 0x2F, 0x3A,
        ]));
        assert_eq!(digit_run(v), 2);
        assert_eq!(digits_value(v, 2), 42);
    }

    #[test]
    fn eight_digits_at_once() {
        assert_eq!(eight_digits(b"12345678", 0), Some(12_345_678));
        assert_eq!(eight_digits(b"x00000009", 1), Some(9));
        assert_eq!(eight_digits(b"99999999", 0), Some(99_999_999));
        assert_eq!(eight_digits(b"1234567", 0), None);
        for bad in [b'/', b':', b'.', b'e', b' ', 0x80, 0xB9] {
            for at in 0..8 {
                let mut s = *b"55555555";
                s[at] = bad;
                assert_eq!(eight_digits(&s, 0), None, "{s:?}");
            }
        }
        for k in [0u64, 1, 10, 1234, 10_000_000, 31_415_926, 87_654_321] {
            assert_eq!(eight_digits(format!("{k:08}").as_bytes(), 0), Some(k));
        }
    }
}
