//! Pointing at a key in the project file's text: the line of `key = ...`
//! inside a table, the line of a `[table]` header, and the usage errors of
//! the semantic checks built from them (`file:line: key "table.key" ...`).

use crate::error::Error;

/// The project file's text and the name it goes by in messages (its path,
/// or `mlops.toml at commit ...`): what a check needs to point at a key.
#[derive(Debug, Clone, Copy)]
pub(super) struct Source<'a> {
    /// The file's text.
    pub text: &'a str,
    /// The file's name in messages.
    pub origin: &'a str,
}

impl Source<'_> {
    /// `origin:line: key "section.key" msg`, with the line of `key` when it
    /// is written in `[section]`.
    pub fn key_error(&self, section: &str, key: &str, msg: String) -> Error {
        let line = find_key_line(self.text, section, key)
            .map(|l| format!(":{l}"))
            .unwrap_or_default();
        Error::usage(format!(
            "{}{line}: key \"{section}.{key}\" {msg}",
            self.origin
        ))
    }

    /// Like [`Source::key_error`], pointing at the `[section]` header when
    /// `key` is not written (e.g. it comes from an inline table).
    pub fn key_or_header_error(&self, section: &str, key: &str, msg: &str) -> Error {
        let line = find_key_line(self.text, section, key)
            .or_else(|| find_header_line(self.text, section))
            .map(|l| format!(":{l}"))
            .unwrap_or_default();
        Error::usage(format!(
            "{}{line}: key \"{section}.{key}\" {msg}",
            self.origin
        ))
    }

    /// `origin:line` of the line that reads `[section]` (brackets and
    /// spaces around it ignored), or `origin` alone.
    pub fn at_table(&self, section: &str) -> String {
        let line = self
            .text
            .lines()
            .position(|l| {
                l.trim()
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .trim()
                    == section
            })
            .map(|i| format!(":{}", i + 1))
            .unwrap_or_default();
        format!("{}{line}", self.origin)
    }

    /// `origin:line` of the `[section]` header (quotes and spaces inside
    /// the brackets ignored), or `origin` alone.
    pub fn at_header(&self, section: &str) -> String {
        let line = find_header_line(self.text, section)
            .map(|l| format!(":{l}"))
            .unwrap_or_default();
        format!("{}{line}", self.origin)
    }
}

/// The 1-based line of the `[section]` header.
pub(super) fn find_header_line(text: &str, section: &str) -> Option<usize> {
    text.lines()
        .position(|l| {
            let t = l.trim();
            t.starts_with('[')
                && t.find(']')
                    .is_some_and(|end| t[1..end].trim().replace(['"', ' '], "") == section)
        })
        .map(|i| i + 1)
}

/// The 1-based line of `key = ...` inside `[section]`.
pub(super) fn find_key_line(text: &str, section: &str, key: &str) -> Option<usize> {
    let mut current = String::new();
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.starts_with('[') {
            if let Some(end) = t.find(']') {
                current = t[1..end].trim().to_string();
            }
            continue;
        }
        if current == section
            && let Some((k, _)) = t.split_once('=')
            && k.trim().trim_matches('"') == key
        {
            return Some(i + 1);
        }
    }
    None
}
