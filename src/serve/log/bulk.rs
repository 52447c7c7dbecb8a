//! Prediction lines packed as the `_bulk` body they will be sent as: per
//! line, a `create` action with `_id` = the request id, then the document
//! (the line with `@timestamp`, a copy of its `timestamp`, in front). The
//! writer thread appends each line straight into the body, so a line costs
//! one copy and no allocation of its own; the shipper sends the body as it
//! is, and builds a new one only from the lines a cluster asks to retry.
//! Every line's own text stays recoverable for the dead-letter file.

/// Where one line sits in the body.
#[derive(Debug, Clone, Copy)]
struct Item {
    /// Start of its action line.
    start: usize,
    /// Start of the line's own text, after its `{` when `prefixed`.
    text: usize,
    /// End of its document (after the newline).
    end: usize,
    /// Whether the document is `{"@timestamp":"…",` + the line after its `{`.
    prefixed: bool,
}

/// Lines as a `_bulk` body; ends in a newline when not empty.
#[derive(Debug, Default)]
pub struct Batch {
    body: Vec<u8>,
    items: Vec<Item>,
}

/// The field after the request id in every prediction line.
const KEY: &[u8] = b"\",\"timestamp\":\"";

impl Batch {
    /// Append line `line` (JSON ending in a newline, or not) of request `id`.
    pub fn push(&mut self, id: &str, line: &[u8]) {
        let start = self.body.len();
        self.body.extend_from_slice(b"{\"create\":{\"_id\":");
        super::json(&mut self.body, id);
        self.body.extend_from_slice(b"}}\n");
        let (text, prefixed) = match (timestamp(line, id), line.first()) {
            (Some(ts), Some(b'{')) => {
                self.body.extend_from_slice(b"{\"@timestamp\":\"");
                self.body.extend_from_slice(ts);
                self.body.extend_from_slice(b"\",");
                let text = self.body.len();
                self.body.extend_from_slice(&line[1..]);
                (text, true)
            }
            _ => {
                let text = self.body.len();
                self.body.extend_from_slice(line);
                (text, false)
            }
        };
        if self.body.last() != Some(&b'\n') {
            self.body.push(b'\n');
        }
        self.items.push(Item {
            start,
            text,
            end: self.body.len(),
            prefixed,
        });
    }

    /// Lines held.
    #[must_use]
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether no line is held.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Bytes of the body.
    #[must_use]
    pub fn bytes(&self) -> usize {
        self.body.len()
    }

    /// The `_bulk` body.
    #[cfg(test)]
    #[must_use]
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// Hand the body out (to be sent) and take it back with [`Batch::restore`].
    pub fn take_body(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.body)
    }

    /// Put back the body [`Batch::take_body`] handed out.
    pub fn restore(&mut self, body: Vec<u8>) {
        self.body = body;
    }

    /// Line `i` as the file sink writes it, into `out` (cleared first).
    pub fn line_into(&self, i: usize, out: &mut Vec<u8>) {
        out.clear();
        let it = self.items[i];
        if it.prefixed {
            out.push(b'{');
        }
        out.extend_from_slice(&self.body[it.text..it.end]);
    }

    /// A batch of the lines `i` for which `keep(i)` holds, in order.
    #[must_use]
    pub fn select(&self, keep: impl Fn(usize) -> bool) -> Batch {
        let mut b = Batch::default();
        let kept = self.items.iter().enumerate().filter(|(i, _)| keep(*i));
        for (_, it) in kept {
            let shift = b.body.len();
            b.body.extend_from_slice(&self.body[it.start..it.end]);
            b.items.push(Item {
                start: shift,
                text: it.text - it.start + shift,
                end: it.end - it.start + shift,
                prefixed: it.prefixed,
            });
        }
        b
    }

    /// Empty it, keeping its memory for the next lines.
    pub fn clear(&mut self) {
        self.body.clear();
        self.items.clear();
    }
}

/// The value of the line's `timestamp`: looked for where the server's own
/// lines have it (right after `{"request_id":"<id>"`), else searched for.
fn timestamp<'l>(line: &'l [u8], id: &str) -> Option<&'l [u8]> {
    // `{"request_id":"` is 15 bytes; an id that needs no escapes is itself.
    let plain = id.bytes().all(|c| c >= 0x20 && c != b'"' && c != b'\\');
    let at = 15 + id.len();
    let after = if plain
        && line.starts_with(b"{\"request_id\":\"")
        && line.get(at..at + KEY.len()) == Some(KEY)
    {
        at + KEY.len()
    } else {
        // The first `","timestamp":"` is the field itself: the request id
        // before it is JSON-escaped, so it cannot hold that text.
        memchr::memmem::find(line, KEY)? + KEY.len()
    };
    let rest = &line[after..];
    memchr::memchr(b'"', rest).map(|end| &rest[..end])
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A prediction line of request `id`, as the server writes them.
    pub(in crate::serve::log) fn line(id: &str) -> Vec<u8> {
        format!(
            "{{\"request_id\":{},\"timestamp\":\"2026-01-01T00:00:00.000Z\",\"prediction\":1}}\n",
            serde_json::json!(id)
        )
        .into_bytes()
    }

    fn batch(ids: &[&str]) -> Batch {
        let mut b = Batch::default();
        for id in ids {
            b.push(id, &line(id));
        }
        b
    }

    #[test]
    fn the_body_is_create_actions_with_ids_and_ends_in_a_newline() {
        let b = batch(&["a", "q\"\",\"timestamp\":\"x"]);
        let text = String::from_utf8(b.body().to_vec()).unwrap();
        let lines: Vec<&str> = text.split_terminator('\n').collect();
        assert!(text.ends_with('\n'));
        assert_eq!((lines.len(), b.len(), b.bytes()), (4, 2, text.len()));
        assert_eq!(lines[0], r#"{"create":{"_id":"a"}}"#);
        let d: serde_json::Value = serde_json::from_str(lines[1]).unwrap();
        assert_eq!(d["@timestamp"], "2026-01-01T00:00:00.000Z");
        assert_eq!(d["timestamp"], d["@timestamp"]);
        let a: serde_json::Value = serde_json::from_str(lines[2]).unwrap();
        assert_eq!(a["create"]["_id"], "q\"\",\"timestamp\":\"x");
        let d: serde_json::Value = serde_json::from_str(lines[3]).unwrap();
        assert_eq!(d["@timestamp"], "2026-01-01T00:00:00.000Z", "{d}");
    }

    #[test]
    fn every_line_comes_back_as_it_was_written() {
        let mut b = batch(&["a", "é\"\\"]);
        // A line without a timestamp, and one without its newline.
        b.push("x", b"{\"request_id\":\"x\"}\n");
        b.push("y", b"[1]");
        let mut out = Vec::new();
        let want = [
            line("a"),
            line("é\"\\"),
            b"{\"request_id\":\"x\"}\n".to_vec(),
        ];
        for (i, w) in want.iter().enumerate() {
            b.line_into(i, &mut out);
            assert_eq!(&out, w, "line {i}");
        }
        b.line_into(3, &mut out);
        assert_eq!(out, b"[1]\n");
        assert!(b.body().ends_with(b"{\"create\":{\"_id\":\"y\"}}\n[1]\n"));
    }

    #[test]
    fn a_selection_is_the_body_of_those_lines() {
        let b = batch(&["a", "b", "c", "d"]);
        let odd = b.select(|i| i % 2 == 1);
        assert_eq!(odd.body(), batch(&["b", "d"]).body());
        let mut out = Vec::new();
        odd.line_into(1, &mut out);
        assert_eq!(out, line("d"));
        assert!(b.select(|_| false).is_empty());
        let mut b = b;
        let body = b.take_body();
        assert_eq!(b.bytes(), 0);
        b.restore(body);
        assert_eq!(b.body(), batch(&["a", "b", "c", "d"]).body());
        b.clear();
        assert!(b.is_empty() && b.bytes() == 0);
    }
}
