//! The JUnit XML report: each check a `<testcase>`, failed ones with
//! `<failure>`, warnings as `<system-out>` (GitLab reads it).

use std::fmt::Write as _;

use mlops::validate::{Report, Verdict};

use super::rows::rows;

fn xml(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => {}
            c => o.push(c),
        }
    }
    o
}

/// JUnit XML: each check a `<testcase>`, failed ones with `<failure>`.
#[must_use]
pub fn render_junit(r: &Report) -> String {
    let rows = rows(r);
    let failures = rows.iter().filter(|x| x.verdict == Verdict::Fail).count();
    let mut o = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        o,
        "<testsuites name=\"mlops validate\" tests=\"{}\" failures=\"{failures}\" errors=\"0\">",
        rows.len()
    );
    let _ = writeln!(
        o,
        "  <testsuite name=\"mlops validate {}\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"0\">",
        xml(&r.candidate.name),
        rows.len()
    );
    for x in &rows {
        let open = format!(
            "    <testcase classname=\"mlops.validate.{}\" name=\"{}\"",
            x.group,
            xml(&x.name)
        );
        match x.verdict {
            Verdict::Pass => {
                let _ = writeln!(o, "{open}/>");
            }
            Verdict::Warn => {
                let _ = writeln!(
                    o,
                    "{open}>\n      <system-out>warning: {}</system-out>\n    </testcase>",
                    xml(&x.message)
                );
            }
            Verdict::Fail => {
                let _ = writeln!(
                    o,
                    "{open}>\n      <failure message=\"{}\" type=\"{}\">value {}, threshold {}</failure>\n    </testcase>",
                    xml(&x.message),
                    x.group,
                    xml(&x.value),
                    xml(&x.threshold)
                );
            }
        }
    }
    let _ = writeln!(o, "  </testsuite>\n</testsuites>");
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        assert_eq!(
            xml("a<b & \"c\" 'd'>"),
            "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;"
        );
        assert_eq!(xml("x\u{1}y"), "xy");
    }
}
