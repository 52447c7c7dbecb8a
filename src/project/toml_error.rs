//! The TOML error locator: turns a `toml`/serde error into a usage error
//! that names the key dotted from the root, its line, and the nearest valid
//! key or value ("did you mean").

use crate::error::Error;
use crate::project::keys::{TABLES, backquoted};
use crate::project::suggest::nearest;

/// Where a parse error happened: the `file:line` prefix, the line, and the
/// table the failing key belongs to.
struct ErrorSite<'a> {
    /// The file's text.
    text: &'a str,
    /// The file's name in messages.
    origin: &'a str,
    /// `origin:line`, or `origin` when the error has no span.
    loc: String,
    /// The 1-based line of the error's start.
    line: Option<usize>,
    /// The dotted table of the failing key ("" for the root).
    table: String,
}

/// A usage error for a project file that does not parse (unknown or missing
/// keys, values of the wrong type or variant, bad TOML syntax).
pub(super) fn toml_error(text: &str, origin: &str, e: &toml::de::Error) -> Error {
    let msg = e.message().trim().to_string();
    let site = ErrorSite::new(text, origin, e, &msg);
    if msg.starts_with("unknown field") {
        return site.unknown_key(&msg);
    }
    if msg.starts_with("missing field") {
        return site.missing_key(&msg, e);
    }
    if msg.starts_with("unknown variant") {
        return site.unknown_variant(&msg);
    }
    if msg.starts_with("invalid type")
        || msg.starts_with("invalid value")
        || msg.starts_with("invalid length")
    {
        return site.wrong_type(&msg);
    }
    let loc = &site.loc;
    if msg.contains("untagged enum DataPath") {
        return Error::usage(format!(
            "{loc}: key \"data.path\" must be a path or a list of paths; see docs/project-file.md"
        ));
    }
    if msg.starts_with("wanted string or table") || msg.starts_with("wanted exactly 1 element") {
        // An enum given a value that is not one of its words.
        let key = key_on_line(text, site.line);
        return Error::usage(format!(
            "{loc}: key \"{}\" takes one of its allowed words, as a quoted string; see docs/project-file.md",
            site.qualify(&key)
        ));
    }
    let first = msg.lines().next().unwrap_or("invalid TOML");
    Error::usage(format!("{loc}: {first}; fix the TOML syntax"))
}

/// What serde's "expected …" means in the project file's words: no Rust
/// type names (`struct Bound`, `f64`, `sequence`) reach a user.
const EXPECTED: &[(&str, &str)] = &[
    (
        "struct Bound",
        "a gate takes { min = … } or { max = … }, like r2 = { min = 0.8 }",
    ),
    (
        "struct Rules",
        "expected a table of rules, like { max_relative_degradation = 0.01 }",
    ),
    (
        "struct HealthSection",
        "expected a table { path, timeout_s, retries }",
    ),
    (
        "struct ResourcesSection",
        "expected a table { requests = { … }, limits = { … } }",
    ),
    (
        "struct ResourceList",
        "expected a table { cpu = \"…\", memory = \"…\" }",
    ),
    (
        "struct TlsSection",
        "expected a table { cert = PATH, key = PATH }",
    ),
    ("f64", "expected a number"),
    ("u64", "expected a whole number of at least 0"),
    ("u32", "expected a whole number of at least 0"),
    ("u8", "expected a whole number of at least 0"),
    ("usize", "expected a whole number of at least 0"),
    ("i64", "expected a whole number"),
    ("a boolean", "expected true or false"),
    ("a sequence", "expected a list [ … ]"),
    ("a map", "expected a table { … }"),
];

/// What serde calls the value it got, in the project file's words.
const GOT: &[(&str, &str)] = &[
    ("floating point ", "the number "),
    ("integer ", "the whole number "),
    ("string ", "the string "),
    ("boolean ", "the value "),
    ("sequence", "a list"),
    ("map", "a table"),
];

/// `detail` of an "invalid type" message (`GOT, expected EXPECTED`) in
/// plain words.
fn plain_words(detail: &str) -> String {
    let (got, expected) = detail.split_once(", expected ").unwrap_or((detail, ""));
    let got = GOT
        .iter()
        .find_map(|(rust, plain)| got.strip_prefix(rust).map(|rest| format!("{plain}{rest}")))
        .unwrap_or_else(|| got.to_string());
    if expected.is_empty() {
        return got;
    }
    let expected = EXPECTED
        .iter()
        .find(|(rust, _)| *rust == expected)
        .map(|(_, plain)| (*plain).to_string())
        .unwrap_or_else(|| {
            if expected.starts_with("struct ") {
                "expected a table { … }".to_string()
            } else if expected.starts_with("enum ") {
                "expected one of the allowed words".to_string()
            } else {
                format!("expected {expected}")
            }
        });
    format!("{got}, {expected}")
}

impl<'a> ErrorSite<'a> {
    fn new(text: &'a str, origin: &'a str, e: &toml::de::Error, msg: &str) -> ErrorSite<'a> {
        let pos = e.span().map_or(0, |s| s.start);
        let line = e.span().map(|s| line_of(text, s.start));
        let loc = line.map_or_else(|| origin.to_string(), |l| format!("{origin}:{l}"));
        let mut table = table_at(text, pos);
        // On a `[header]` line an unknown key is the header's last segment, a
        // key of its parent table.
        let header = line
            .and_then(|l| text.lines().nth(l - 1))
            .map(str::trim)
            .filter(|t| t.starts_with('['))
            .map(|t| t.trim_matches(|c| c == '[' || c == ']').trim().to_string());
        if let (Some(h), true) = (&header, msg.starts_with("unknown field")) {
            // The unknown key is one segment of the header path; its table is
            // the segments before it.
            let key = backquoted(msg).first().copied().unwrap_or("");
            let segs: Vec<&str> = h.split('.').map(|s| s.trim().trim_matches('"')).collect();
            let i = segs
                .iter()
                .position(|s| *s == key)
                .unwrap_or(segs.len().saturating_sub(1));
            table = segs[..i].join(".");
        }
        ErrorSite {
            text,
            origin,
            loc,
            line,
            table,
        }
    }

    /// `k` dotted from the root.
    fn qualify(&self, k: &str) -> String {
        if self.table.is_empty() {
            k.to_string()
        } else {
            format!("{}.{k}", self.table)
        }
    }

    /// `unknown field `x`, expected one of ...`: the nearest valid key.
    fn unknown_key(&self, msg: &str) -> Error {
        let names = backquoted(msg);
        let key = names.first().copied().unwrap_or("?");
        let valid: Vec<&str> = TABLES
            .iter()
            .find(|(t, _)| *t == self.table)
            .map(|(_, k)| k.to_vec())
            .unwrap_or_else(|| names.iter().skip(1).copied().collect());
        let hint = match nearest(key, &valid) {
            Some(n) => format!("did you mean \"{}\"?", self.qualify(n)),
            None => format!("valid keys here: {}", valid.join(", ")),
        };
        Error::usage(format!(
            "{}: unknown key \"{}\"; {hint}",
            self.loc,
            self.qualify(key)
        ))
    }

    /// `missing field `x``: a missing table at the root, else a missing key.
    fn missing_key(&self, msg: &str, e: &toml::de::Error) -> Error {
        let (text, origin, loc, table) = (self.text, self.origin, &self.loc, &self.table);
        let names = backquoted(msg);
        let key = names.first().copied().unwrap_or("?");
        let table_name = if table.is_empty() {
            String::new()
        } else {
            format!(" in [{table}]")
        };
        // A field missing at the root has an empty span at 0 (or the whole text).
        let whole = e
            .span()
            .is_some_and(|sp| sp.start == 0 && (sp.end == 0 || sp.end >= text.trim_end().len()));
        let root_table = TABLES[0].1.contains(&key);
        let what = if root_table && (table.is_empty() || whole) {
            format!("{origin}: missing table [{key}]; add it (see docs/project-file.md)")
        } else {
            format!(
                "{loc}: missing key \"{}\"{table_name}; add it (see docs/project-file.md)",
                self.qualify(key)
            )
        };
        Error::usage(what)
    }

    /// `unknown variant `x`, expected one of ...`: the nearest allowed value.
    fn unknown_variant(&self, msg: &str) -> Error {
        let names = backquoted(msg);
        let got = names.first().copied().unwrap_or("?");
        let valid: Vec<&str> = names.iter().skip(1).copied().collect();
        let key = key_on_line(self.text, self.line);
        let hint = match nearest(got, &valid) {
            Some(n) => format!("did you mean \"{n}\"?"),
            None => format!("use one of {}", quoted_list(&valid)),
        };
        Error::usage(format!(
            "{}: key \"{}\" = \"{got}\" is not allowed; {hint}",
            self.loc,
            self.qualify(&key)
        ))
    }

    /// `invalid type: ...` or `invalid value: ...`, in plain words.
    fn wrong_type(&self, msg: &str) -> Error {
        let key = key_on_line(self.text, self.line);
        let detail = msg
            .replace("invalid type: ", "")
            .replace("invalid value: ", "")
            .replace("invalid length ", "a list of length ");
        Error::usage(format!(
            "{}: key \"{}\" has the wrong type ({}); see docs/project-file.md",
            self.loc,
            self.qualify(&key),
            plain_words(&detail)
        ))
    }
}

/// 1-based line of byte offset `pos`.
fn line_of(text: &str, pos: usize) -> usize {
    text.as_bytes()[..pos.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// The `[table]` header in force at byte offset `pos` ("" for the root).
fn table_at(text: &str, pos: usize) -> String {
    let mut current = String::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if offset > pos {
            break;
        }
        let t = line.trim();
        if t.starts_with('[')
            && !t.starts_with("[[")
            && let Some(end) = t.find(']')
        {
            current = t[1..end].trim().to_string();
        }
        offset += line.len();
    }
    current
}

fn quoted_list(v: &[&str]) -> String {
    v.iter()
        .map(|s| format!("\"{s}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

fn key_on_line(text: &str, line: Option<usize>) -> String {
    line.and_then(|l| text.lines().nth(l - 1))
        .and_then(|t| t.split_once('='))
        .map(|(k, _)| k.trim().trim_matches('"').to_string())
        .unwrap_or_else(|| "?".into())
}

#[cfg(test)]
mod tests {
    use crate::project::keys::known_keys;

    /// Every key given every wrong kind of value: no message names a Rust
    /// type (`struct`, `enum`, `::`, `f64`, `sequence`, `map`).
    #[test]
    fn no_rust_type_names_in_any_message() {
        let bad = ["3", "0.5", "-1", "[1]", "\"x\"", "{ a = 1 }", "true"];
        let words = [
            "struct",
            "enum",
            "::",
            "f64",
            "u64",
            "i64",
            "u32",
            "u8",
            "usize",
            "sequence",
            "a map",
            "expected map",
            "floating point",
            "untagged",
        ];
        let mut seen = 0;
        let mut found = Vec::new();
        for key in known_keys() {
            let key = key.replace("NAME", "x").replace("METRIC", "r2");
            let (table, leaf) = key.rsplit_once('.').unwrap_or(("", key.as_str()));
            for v in bad {
                let text = if table.is_empty() {
                    format!("{leaf} = {v}\n")
                } else {
                    format!("[{table}]\n{leaf} = {v}\n")
                };
                let Err(e) = crate::project::parse(&text, "mlops.toml") else {
                    continue;
                };
                seen += 1;
                let msg = e.to_string();
                if words.iter().any(|w| msg.contains(w)) {
                    found.push(format!("{key} = {v}: {msg}"));
                }
            }
        }
        assert!(found.is_empty(), "{}", found.join("\n"));
        assert!(seen > 200, "only {seen} errors");
    }

    #[test]
    fn a_gate_given_a_number_says_how_to_write_a_gate() {
        let e = crate::project::parse("[validate.thresholds]\nr2 = 0.9\n", "mlops.toml")
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "mlops.toml:2: key \"validate.thresholds.r2\" has the wrong type (the number `0.9`, a gate takes { min = … } or { max = … }, like r2 = { min = 0.8 }); see docs/project-file.md"
        );
        let e = crate::project::parse("[validate.baseline]\nmetrics = \"mape\"\n", "mlops.toml")
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "mlops.toml:2: key \"validate.baseline.metrics\" has the wrong type (the string \"mape\", expected a list [ … ]); see docs/project-file.md"
        );
    }
}
