//! `mlops history [NAME]`: the registry events in order.

use std::fmt::Write as _;

use serde_json::json;

use super::args::{Cli, HistoryArgs};
use super::env::Env;
use super::output::Output;
use mlops::Result;
use mlops::error::Error;
use mlops::registry::{Event, Registry};
use mlops::timestamp::rfc3339;

pub fn run(a: &HistoryArgs, cli: &Cli, env: &Env, out: &Output) -> Result<()> {
    let dir = super::models::registry_dir(cli, env)?;
    let reg = Registry::read(&dir, a.name.as_deref())?;
    reg.warnings.iter().for_each(|w| out.warning(w));
    let events = reg.history(a.name.as_deref());
    if let Some(n) = &a.name
        && events.is_empty()
        && !mlops::registry::tag::valid_artifact(n)
    {
        return Err(Error::usage(format!(
            "\"{n}\" is not a valid model name; use letters, digits, '-', '_' or '/'"
        )));
    }
    // A near miss of a registered model's name is a typo: say which.
    if let Some(n) = &a.name
        && events.is_empty()
        && Registry::nearest_model(&dir, n).is_some()
    {
        return Err(Registry::no_model(&dir, n));
    }
    if out.json {
        out.report(&render_json(&events), "")
    } else {
        let text = render_text(&events, a.name.as_deref());
        // With -q: the newest event (or the line saying there is none).
        let last = text.lines().last().unwrap_or_default();
        out.report(&text, last)
    }
}

fn first_line(m: &str) -> &str {
    m.lines().next().unwrap_or("").trim()
}

/// The events as JSON objects (also in `show`'s document).
#[must_use]
pub fn events_json(events: &[Event<'_>]) -> Vec<serde_json::Value> {
    events
        .iter()
        .map(|e| {
            json!({
                "event": e.kind.name(),
                "model": e.model,
                "version": e.version,
                "stage": e.stage,
                "canary_percent": e.percent,
                "tag": e.record.name,
                "commit": e.record.commit,
                "created_at": rfc3339(e.record.time),
                "author": e.record.author,
                "message": first_line(&e.record.message),
            })
        })
        .collect()
}

/// The `--json` document (schema: docs/schemas/history.schema.json).
#[must_use]
pub fn render_json(events: &[Event<'_>]) -> String {
    let doc = json!({ "events": events_json(events) });
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
    s.push('\n');
    s
}

/// One line per event.
#[must_use]
pub fn render_text(events: &[Event<'_>], name: Option<&str>) -> String {
    let mut s = String::new();
    if events.is_empty() {
        match name {
            Some(n) => {
                let _ = writeln!(s, "No registry events for {n}.");
            }
            None => {
                s.push_str("No registry events yet; run `mlops package` to register a model.\n")
            }
        }
        return s;
    }
    for e in events {
        let mut what = match (e.stage, e.version.as_deref()) {
            (Some(st), Some(v)) => format!("{v} {st}"),
            (Some(st), None) => format!("? {st}"),
            (None, Some(v)) => v.to_string(),
            (None, None) => String::new(),
        };
        if let Some(p) = e.percent {
            let _ = write!(what, " at {p} %");
        }
        let kind = e.kind.name();
        let _ = writeln!(
            s,
            "{}  {:<10}  {}  {}  {}  {}",
            rfc3339(e.record.time),
            kind,
            e.model,
            what,
            &e.record.commit[..e.record.commit.len().min(12)],
            printable(&e.record.author)
        );
    }
    s
}

/// `text` (from a tag anyone with push rights wrote) with control
/// characters shown as `\u{..}` escapes, so it cannot move the cursor,
/// recolour or retitle the terminal.
fn printable(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_unicode().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_of_a_tag_author_are_escaped() {
        assert_eq!(printable("Ann <a@x>"), "Ann <a@x>");
        let shown = printable("Eve\u{1b}]0;pwned\u{7}\u{1b}[2J\r\n <e@x>");
        assert!(!shown.chars().any(char::is_control), "{shown}");
        assert!(shown.starts_with("Eve\\u{1b}]0;pwned"), "{shown}");
    }
}
