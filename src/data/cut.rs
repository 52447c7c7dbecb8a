//! Finding record boundaries in CSV bytes with the grammar of the `csv`
//! crate's reader (`csv_core`, as [`super::records::csv_reader`] configures
//! it: `"` quotes, doubled to escape, `,` between fields, `\r`, `\n` or
//! `\r\n` ending a record). A `"` opens a quoted field only at the start of
//! a field; anywhere else (`12"` for inches) it is data. Counting quotes
//! instead would take such a stray quote for an opening one and never find
//! another record end.
//!
//! [`Scanner`] keeps its state between calls, so a reader that appends
//! blocks scans each byte once.

/// Where the scanner is in the CSV grammar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// At the start of a field (or record): a `"` here opens a quoted field.
    FieldStart,
    /// Inside an unquoted field: `"` is data.
    Field,
    /// Inside a quoted field: only `"` matters.
    Quoted,
    /// Just after a `"` inside a quoted field: another `"` is an escaped
    /// quote, anything else closes the field.
    QuotedQuote,
}

/// A record-boundary scanner over bytes that start at a record boundary.
#[derive(Debug, Clone)]
pub struct Scanner {
    state: State,
}

impl Default for Scanner {
    fn default() -> Self {
        Scanner {
            state: State::FieldStart,
        }
    }
}

impl Scanner {
    /// Scan `bytes` (the continuation of what was scanned before): the
    /// position just after the last `\n` that ends a record, if any.
    pub fn scan(&mut self, bytes: &[u8]) -> Option<usize> {
        // Outside quotes, bytes without a quote end their last record at
        // their last newline: two vectorised searches instead of a stop at
        // every newline.
        if matches!(self.state, State::FieldStart | State::Field)
            && memchr::memchr(b'"', bytes).is_none()
        {
            let (last, from, state) = match memchr::memrchr(b'\n', bytes) {
                Some(p) => (Some(p + 1), p + 1, State::FieldStart),
                None => (None, 0, self.state),
            };
            self.state = field_state(bytes.last().copied(), state, from, bytes.len());
            return last;
        }
        let mut last = None;
        let mut i = 0;
        while i < bytes.len() {
            match self.state {
                State::Quoted => match memchr::memchr(b'"', &bytes[i..]) {
                    Some(p) => {
                        i += p + 1;
                        self.state = State::QuotedQuote;
                    }
                    None => return last,
                },
                State::QuotedQuote => {
                    self.state = match bytes[i] {
                        b'"' => State::Quoted,
                        b'\n' => {
                            last = Some(i + 1);
                            State::FieldStart
                        }
                        b',' | b'\r' => State::FieldStart,
                        _ => State::Field,
                    };
                    i += 1;
                }
                State::FieldStart if bytes[i] == b'"' => {
                    self.state = State::Quoted;
                    i += 1;
                }
                State::FieldStart | State::Field => {
                    // Up to the next quote or newline; a quote opens a field
                    // only right after a delimiter or record end.
                    let Some(p) = memchr::memchr2(b'"', b'\n', &bytes[i..]) else {
                        self.state = field_state(bytes.last().copied(), self.state, i, bytes.len());
                        return last;
                    };
                    let at = i + p;
                    if bytes[at] == b'\n' {
                        last = Some(at + 1);
                        self.state = State::FieldStart;
                    } else {
                        let before = if at == i { None } else { Some(bytes[at - 1]) };
                        let start = match before {
                            None => self.state == State::FieldStart,
                            Some(b) => matches!(b, b',' | b'\r'),
                        };
                        self.state = if start { State::Quoted } else { State::Field };
                    }
                    i = at + 1;
                }
            }
        }
        last
    }

    /// Whether the bytes scanned so far end inside a quoted field.
    #[must_use]
    pub fn in_quotes(&self) -> bool {
        self.state == State::Quoted
    }
}

/// The state after skipping `bytes[from..len]` (no quote nor newline in
/// it) from `state`: at a field start only when it ends with a delimiter
/// or a carriage return, or is empty.
fn field_state(last: Option<u8>, state: State, from: usize, len: usize) -> State {
    if from == len {
        return state;
    }
    match last {
        Some(b',' | b'\r') => State::FieldStart,
        _ => State::Field,
    }
}

/// The position just after the last record end of `bytes` (which start at
/// a record boundary), or `None`.
#[cfg(test)]
#[must_use]
pub fn last_record_end(bytes: &[u8]) -> Option<usize> {
    Scanner::default().scan(bytes)
}

/// The first record end after `from` in `bytes` (which start at a record
/// boundary), looking at most `window` bytes past `from`.
#[must_use]
pub fn record_end_after(bytes: &[u8], from: usize, window: usize) -> Option<usize> {
    let mut s = Scanner::default();
    let from = from.min(bytes.len());
    s.scan(&bytes[..from]);
    let end = from.saturating_add(window).min(bytes.len());
    first_end(&mut s, &bytes[from..end]).map(|e| from + e)
}

/// The first record end in `bytes` for a scanner in state `s`.
fn first_end(s: &mut Scanner, bytes: &[u8]) -> Option<usize> {
    let mut at = 0;
    while at < bytes.len() {
        let nl = memchr::memchr(b'\n', &bytes[at..]).map_or(bytes.len(), |p| at + p + 1);
        if let Some(e) = s.scan(&bytes[at..nl]) {
            return Some(at + e);
        }
        at = nl;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The records the csv crate reads from `bytes`, configured as
    /// [`crate::data::records::csv_reader`] but with a small buffer.
    fn records(bytes: &[u8]) -> Vec<Vec<Vec<u8>>> {
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .buffer_capacity(64)
            .from_reader(bytes);
        rdr.byte_records()
            .map(|r| r.unwrap().iter().map(<[u8]>::to_vec).collect())
            .collect()
    }

    /// Every record end the scanner reports, feeding `bytes` in pieces of
    /// `step`, one line at a time.
    fn scanner_ends(bytes: &[u8], step: usize) -> Vec<usize> {
        let mut s = Scanner::default();
        let mut out = Vec::new();
        for (k, piece) in bytes.chunks(step.max(1)).enumerate() {
            let mut at = 0;
            while at < piece.len() {
                let nl = memchr::memchr(b'\n', &piece[at..]).map_or(piece.len(), |p| at + p + 1);
                if let Some(e) = s.scan(&piece[at..nl]) {
                    out.push(k * step.max(1) + at + e);
                }
                at = nl;
            }
        }
        out
    }

    /// Cutting at every end the scanner reports leaves the csv crate's
    /// records as they were.
    fn cuts_keep_records(bytes: &[u8], step: usize) -> Result<(), String> {
        let ends = scanner_ends(bytes, step);
        let mut parts = Vec::new();
        let mut from = 0;
        for &e in &ends {
            parts.extend(records(&bytes[from..e]));
            from = e;
        }
        parts.extend(records(&bytes[from..]));
        if parts != records(bytes) {
            return Err(format!("cuts {ends:?} split a record"));
        }
        if last_record_end(bytes) != ends.last().copied() {
            return Err(format!("one pass and {step}-byte pieces disagree"));
        }
        Ok(())
    }

    /// Security review M5.
    #[test]
    fn a_stray_quote_inside_an_unquoted_field_is_data() {
        let data = b"a,b\n1,2\"\n3,4\n5,6\n";
        assert_eq!(last_record_end(data), Some(data.len()));
        assert_eq!(scanner_ends(data, 1), vec![4, 9, 13, 17]);
        cuts_keep_records(data, 1).unwrap();
    }

    #[test]
    fn quoted_newlines_escaped_quotes_and_crlf_follow_the_csv_crate() {
        let cases: &[(&[u8], &[usize])] = &[
            (b"a,b\n\"x\ny\",2\n3,4\n", &[4, 12, 16]),
            (b"a,b\r\n\"x\"\"\ny\",2\r\n3,4\r\n", &[5, 16, 21]),
            (b"a,\"b\"c\nd,e\n", &[7, 11]),
            (b"1,2\"\n\"q\nq\",3\n", &[5, 13]),
            (b"\"\"\"\n\",x\n\n\n1\n", &[8, 9, 10, 12]),
            (b"a,\"\r\n\"\r\n,\"\"\n", &[8, 12]),
        ];
        for (data, want) in cases {
            for step in [1, 2, 3, 7, 1000] {
                assert_eq!(
                    &scanner_ends(data, step),
                    want,
                    "{:?}",
                    String::from_utf8_lossy(data)
                );
                cuts_keep_records(data, step).unwrap();
            }
        }
    }

    #[test]
    fn an_unclosed_quote_leaves_the_scanner_in_quotes() {
        let mut s = Scanner::default();
        assert_eq!(s.scan(b"a,\"b\nc\n"), None);
        assert!(s.in_quotes());
    }

    #[test]
    fn the_first_end_after_a_point() {
        let data = b"aa,b\n\"x\ny\",2\n3,4\n";
        assert_eq!(record_end_after(data, 0, 100), Some(5));
        assert_eq!(record_end_after(data, 5, 100), Some(13));
        assert_eq!(record_end_after(data, 7, 100), Some(13));
        assert_eq!(record_end_after(data, 14, 100), Some(17));
        assert_eq!(record_end_after(data, 14, 1), None);
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

        proptest! {
            #![proptest_config(cases(1000))]
            #[test]
            fn fuzz_csv_cuts_never_split_a_record(
                bytes in proptest::collection::vec(
                    prop_oneof![
                        Just(b'"'), Just(b','), Just(b'\n'), Just(b'\r'), Just(b'a'), Just(b'1'), Just(b' ')
                    ],
                    0..120,
                ),
                step in 1usize..20,
            ) {
                cuts_keep_records(&bytes, step).map_err(TestCaseError::fail)?;
            }

            #[test]
            fn fuzz_csv_without_quotes_cuts_at_the_last_newline(
                bytes in proptest::collection::vec(
                    prop_oneof![Just(b','), Just(b'\n'), Just(b'\r'), Just(b'x')],
                    0..120,
                ),
            ) {
                let want = bytes.iter().rposition(|&b| b == b'\n').map(|p| p + 1);
                prop_assert_eq!(last_record_end(&bytes), want);
            }
        }
    }
}
