//! Global flags, colour decisions, and shell completions (with a freshness
//! check of the committed `completions/`; `MLOPS_BLESS=1` rewrites them).

use crate::common::{Test, repo, simple_toml};

const DATA: &str = "a,y\n1,3\n2,5\n4,8\n";

#[test]
fn help_and_version() {
    Test::new()
        .args(["--help"])
        .run()
        .success()
        .stdout_contains("Usage: mlops")
        .stdout_contains("train")
        .stdout_contains("predict");
    Test::new()
        .args(["train", "--help"])
        .run()
        .success()
        .stdout_contains("--out");
    Test::new()
        .args(["--version"])
        .run()
        .success()
        .stdout_eq(&format!("mlops {}\n", env!("CARGO_PKG_VERSION")));
}

#[test]
fn unknown_flag_is_a_usage_error() {
    Test::new()
        .args(["--frobnicate", "train"])
        .run()
        .code(2)
        .stderr_contains("--frobnicate")
        .stdout_eq("");
    Test::new().args(["train", "--frobnicate"]).run().code(2);
    Test::new().args(["frobnicate"]).run().code(2);
    Test::new()
        .args(["--color", "sometimes", "train"])
        .run()
        .code(2);
}

#[test]
fn no_command_is_a_usage_error() {
    Test::new().run().code(2).stderr_contains("Usage: mlops");
}

#[test]
fn quiet_and_verbose_conflict() {
    Test::new().args(["-q", "-v", "train"]).run().code(2);
}

/// A trainable project.
fn project() -> Test {
    Test::new().toml(&simple_toml("")).file("d.csv", DATA)
}

#[test]
fn color_always_paints_the_report() {
    project()
        .args(["--color", "always", "train"])
        .run()
        .success()
        .stdout_contains("\x1b[");
}

#[test]
fn color_always_paints_the_error_label() {
    Test::new()
        .args(["--color", "always", "-C", "nope.toml", "train"])
        .run()
        .code(2)
        .stderr_contains("\x1b[1;31merror:\x1b[0m project file nope.toml");
}

#[test]
fn no_color_with_auto_stays_plain() {
    // CLICOLOR_FORCE alone would colour a pipe; NO_COLOR wins.
    project()
        .env("CLICOLOR_FORCE", "1")
        .args(["--color", "auto", "train"])
        .run()
        .success()
        .stdout_lacks("\x1b[");
    project()
        .args(["train"])
        .run()
        .success()
        .stdout_lacks("\x1b[");
}

#[test]
fn clicolor_force_colours_a_pipe() {
    project()
        .env_remove("NO_COLOR")
        .env("CLICOLOR_FORCE", "1")
        .args(["train"])
        .run()
        .success()
        .stdout_contains("\x1b[");
}

#[test]
fn color_never_beats_clicolor_force() {
    project()
        .env_remove("NO_COLOR")
        .env("CLICOLOR_FORCE", "1")
        .args(["--color", "never", "train"])
        .run()
        .success()
        .stdout_lacks("\x1b[");
}

#[test]
fn quiet_is_accepted_everywhere() {
    project()
        .args(["-q", "train"])
        .run()
        .success()
        .stderr_empty();
    project()
        .args(["train", "--quiet"])
        .run()
        .success()
        .stderr_empty();
    Test::new()
        .args(["-q", "completions", "bash"])
        .run()
        .success();
}

#[test]
fn json_report_is_never_coloured() {
    let out = project()
        .args(["--color", "always", "--json", "train"])
        .run();
    out.success().stdout_lacks("\x1b[");
    let _ = out.json();
}

/// Each shell and its file name under `completions/`.
const SHELLS: &[(&str, &str)] = &[
    ("bash", "mlops.bash"),
    ("zsh", "_mlops"),
    ("fish", "mlops.fish"),
    ("powershell", "_mlops.ps1"),
    ("elvish", "mlops.elv"),
];

#[test]
fn completions_for_every_shell() {
    for (shell, _) in SHELLS {
        let out = Test::new().args(["completions", shell]).run();
        out.success().stderr_empty();
        assert!(out.stdout.len() > 100, "{shell}: {}", out.stdout);
        assert!(out.stdout.contains("mlops"), "{shell}");
        assert!(out.stdout.contains("predict"), "{shell}");
    }
    Test::new().args(["completions", "tcsh"]).run().code(2);
}

#[test]
fn committed_completions_are_fresh() {
    let dir = repo().join("completions");
    let bless = std::env::var_os("MLOPS_BLESS").is_some_and(|v| v == "1");
    let mut stale = Vec::new();
    for (shell, file) in SHELLS {
        let out = Test::new().args(["completions", shell]).run();
        out.success();
        let path = dir.join(file);
        if bless {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &out.stdout_bytes).unwrap();
        } else if std::fs::read(&path).ok().as_deref() != Some(out.stdout_bytes.as_slice()) {
            stale.push(format!("completions/{file}"));
        }
    }
    assert!(
        stale.is_empty(),
        "{stale:?} differ from `mlops completions`; regenerate with \
         `MLOPS_BLESS=1 cargo test --test integration committed_completions_are_fresh`"
    );
}
