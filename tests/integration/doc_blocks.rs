//! The fenced shell blocks (`sh`, `console`) of docs/getting-started.md and
//! docs/ci.md, run as written, in order, with bash, in a temporary copy of
//! the quick start's project and with the test build of `mlops` first on
//! `PATH`. Of a `console` block the `$ ` lines run (the rest is output, not
//! compared: timings and hashes differ). A block right after the line
//! `<!-- doctest: skip REASON -->` is not run: it needs the network, a
//! running server or a release build; every skip gives its reason.

use std::path::Path;
use std::process::Command;

use crate::common::{BIN, Test};

/// A fenced shell block: the line of its fence, its commands, and the
/// reason it is skipped.
#[derive(Debug)]
struct Block {
    line: usize,
    script: String,
    skip: Option<String>,
}

const SKIP: &str = "<!-- doctest: skip";

fn blocks(md: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut lines = md.lines().enumerate().peekable();
    let mut prev = "";
    while let Some((i, raw)) = lines.next() {
        let l = raw.trim_start();
        let Some(info) = l.strip_prefix("```") else {
            if !l.is_empty() {
                prev = l;
            }
            continue;
        };
        let mut body = Vec::new();
        for (_, b) in lines.by_ref() {
            if b.trim_start().starts_with("```") {
                break;
            }
            body.push(b.trim_start());
        }
        let skip = prev.strip_prefix(SKIP).map(|r| {
            let reason = r.trim_end_matches("-->").trim();
            assert!(
                !reason.is_empty(),
                "line {}: a skip without a reason",
                i + 1
            );
            reason.to_string()
        });
        prev = "";
        let script = match info.trim() {
            "sh" => body.join("\n"),
            "console" => body
                .iter()
                .filter_map(|b| b.strip_prefix("$ "))
                .collect::<Vec<_>>()
                .join("\n"),
            _ => continue,
        };
        out.push(Block {
            line: i + 1,
            script,
            skip,
        });
    }
    out
}

/// Run every block of `doc` in `t`'s folder; returns how many ran.
fn run_blocks(t: &Test, doc: &str) -> usize {
    let md = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(doc)).unwrap();
    let bin_dir = Path::new(BIN).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let home = t.path(".home");
    std::fs::create_dir_all(&home).unwrap();
    let mut ran = 0;
    for b in blocks(&md) {
        if b.skip.is_some() {
            continue;
        }
        let out = Command::new("bash")
            .args(["-e", "-o", "pipefail", "-c", &b.script])
            .current_dir(t.root())
            .env("PATH", &path)
            .env("HOME", &home)
            .env("XDG_CONFIG_HOME", &home)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("NO_COLOR", "1")
            .env_remove("MLOPS_CONFIG")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{doc}:{}: the block failed ({}):\n{}\nstdout:\n{}\nstderr:\n{}",
            b.line,
            out.status,
            b.script,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        ran += 1;
    }
    ran
}

/// The quick start's project before its first step: the example's
/// `mlops.toml` with the table of getting-started.md's first `toml` block,
/// its data, a `.gitignore` and a git repository.
fn quickstart_project() -> Test {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let md = std::fs::read_to_string(root.join("docs/getting-started.md")).unwrap();
    let toml = md
        .split("```toml\n")
        .nth(1)
        .and_then(|r| r.split("```").next())
        .unwrap();
    let base = std::fs::read_to_string(root.join("mlops.toml")).unwrap();
    let t = Test::new()
        .file("mlops.toml", format!("{base}\n{toml}"))
        .file(".gitignore", "dist/\ndeploy/\n");
    for f in ["train.csv", "recent.csv"] {
        let data = std::fs::read(root.join("examples/house-prices").join(f)).unwrap();
        t.write(Path::new("examples/house-prices").join(f), data);
    }
    t.git_init()
}

#[test]
fn block_markers_are_read() {
    let md = "x\n```sh\necho a\n```\n<!-- doctest: skip needs the network -->\n\n```console\n$ curl x\nout\n```\n```toml\na = 1\n```\n```console\n$ mlops a\n...\n$ mlops b\n```\n";
    let b = blocks(md);
    assert_eq!(b.len(), 3);
    assert_eq!(
        (b[0].line, b[0].script.as_str(), b[0].skip.as_deref()),
        (2, "echo a", None)
    );
    assert_eq!(b[1].skip.as_deref(), Some("needs the network"));
    assert_eq!(b[2].script, "mlops a\nmlops b");
}

#[test]
fn getting_started_and_ci_blocks_run_as_written() {
    let t = quickstart_project();
    let ran = run_blocks(&t, "docs/getting-started.md");
    assert!(ran >= 8, "only {ran} blocks of getting-started.md ran");
    run_blocks(&t, "docs/ci.md");
    // The journey ended where the doc says: prod rolled back to v0.0.1.
    let out = Command::new(BIN)
        .args(["--json", "models"])
        .current_dir(t.root())
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["models"][0]["stages"]["prod"], "v0.0.1", "{doc}");
    assert_eq!(doc["models"][0]["stages"]["staging"], "v0.0.2", "{doc}");
}
