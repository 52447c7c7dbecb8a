//! One set of habits across commands (issue 23): `-q` leaves at most one
//! line on stdout, `-v` never repeats a line, `--format json` is `--json`
//! and `--json --format markdown` is a usage error, `--output` writes a file
//! atomically, did-you-mean for model names and stages, and no Rust type
//! name in any message.

use std::collections::HashSet;

use crate::common::{GIT_TIME, Output, Test, example_csv, example_toml};

/// The example project with a registry, a local staging environment and a
/// JWT secret, trained and committed.
fn project() -> Test {
    let toml = format!(
        "{}\n[registry]\nstages = [\"staging\", \"prod\"]\n\n[environments.staging]\ntarget = \"local\"\npath = \"deploy/staging\"\n\n[serve.auth]\nmode = \"jwt\"\nissuer = \"mlops-test\"\naudience = \"mlops\"\nsecret_env = \"HABITS_JWT_SECRET\"\n",
        example_toml()
    );
    let t = Test::new()
        .toml(&toml)
        .file(
            "ab.csv",
            (0..40)
                .map(|i| format!("{},{}\n", if i % 2 == 0 { "A" } else { "B" }, i % 7))
                .fold("variant,m\n".to_string(), |s, l| s + &l),
        )
        .git_init()
        .env("SOURCE_DATE_EPOCH", GIT_TIME.to_string())
        .env(
            "HABITS_JWT_SECRET",
            "a-secret-of-enough-length-for-hs256-0123456789",
        );
    t.run_args(["-q", "train"]).success();
    t.commit_all("model", GIT_TIME);
    t
}

/// Every command (but `serve`), in an order that makes each one succeed:
/// its arguments.
fn journey(csv: &str) -> Vec<Vec<String>> {
    let s = |v: &[&str]| v.iter().map(|x| (*x).to_string()).collect::<Vec<_>>();
    vec![
        s(&["init", "other"]),
        s(&["train"]),
        s(&["predict", "--input", csv, "--output", "p.csv"]),
        s(&["validate"]),
        s(&["package"]),
        s(&["models"]),
        s(&["history"]),
        s(&["show", "house-price"]),
        s(&["deploy", "staging"]),
        s(&["status"]),
        // A second version on a new commit, deployed, then rolled back.
        s(&["package"]),
        s(&["deploy", "staging"]),
        s(&["rollback", "staging"]),
        s(&["unassign", "house-price", "staging"]),
        s(&["deregister", "house-price@v0.0.2"]),
        s(&["deprecate", "house-price"]),
        s(&[
            "abtest-analyze",
            "--input",
            "ab.csv",
            "--metric",
            "m",
            "--control",
            "A",
        ]),
        s(&["token", "--role", "predict"]),
        s(&["monitor", "emit"]),
        s(&["completions", "bash", "--output", "c.bash"]),
    ]
}

/// Run the journey with `global` flags before each command; the outputs.
fn run_journey(global: &[&str]) -> Vec<(String, Output)> {
    let t = project();
    let csv = example_csv().display().to_string();
    let mut outs = Vec::new();
    let mut packaged = 0;
    for args in journey(&csv) {
        if args[0] == "package" {
            packaged += 1;
            if packaged == 2 {
                // A new commit for the second version.
                t.write("NOTES.md", "second\n");
                t.commit_all("notes", GIT_TIME + 10);
            }
        }
        let mut all: Vec<String> = global.iter().map(|s| (*s).to_string()).collect();
        all.extend(args.iter().cloned());
        let o = t.run_args(&all);
        o.success();
        outs.push((all.join(" "), o));
    }
    outs
}

#[test]
fn quiet_leaves_at_most_one_line_on_stdout_on_every_command() {
    for (cmd, o) in run_journey(&["-q"]) {
        let lines = o.stdout.lines().count();
        assert!(
            lines <= 1,
            "mlops {cmd} printed {lines} lines on stdout:\n{}",
            o.stdout
        );
        // Warnings name something broken: -q keeps them, and nothing else.
        assert!(
            o.stderr.lines().all(|l| l.starts_with("warning:")),
            "mlops {cmd} wrote on stderr with -q:\n{}",
            o.stderr
        );
    }
}

#[test]
fn quiet_json_is_one_line_of_json() {
    for (cmd, o) in run_journey(&["-q", "--json"]) {
        if cmd.contains("token") || cmd.contains("completions") || cmd.contains("monitor") {
            continue; // these print no JSON (docs/commands.md)
        }
        assert_eq!(o.stdout.lines().count(), 1, "mlops {cmd}:\n{}", o.stdout);
        serde_json::from_str::<serde_json::Value>(&o.stdout)
            .unwrap_or_else(|e| panic!("mlops {cmd}: {e}\n{}", o.stdout));
    }
}

/// Non-blank lines of stdout and stderr together: none twice.
fn assert_no_repeat(cmd: &str, text: &str) {
    let mut seen = HashSet::new();
    for l in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        assert!(
            seen.insert(l),
            "mlops {cmd} repeated the line {l:?}:\n{text}"
        );
    }
}

#[test]
fn verbose_never_repeats_a_line() {
    for (cmd, o) in run_journey(&["-v", "-v"]) {
        assert_no_repeat(&cmd, &format!("{}{}", o.stdout, o.stderr));
    }
}

#[cfg(unix)]
#[test]
fn verbose_serve_never_repeats_a_line() {
    // The admin token's variable is named but unset: the admin API is off,
    // which the server says once.
    let t = Test::new().toml(&format!(
        "{}\n[serve]\nadmin_token_env = \"HABITS_ADMIN_TOKEN\"\n",
        example_toml()
    ));
    t.run_args(["-q", "train"]).success();
    let s =
        crate::serve::Server::start_with(&t, &["-v", "--model", "models/house-price.json"], &[]);
    std::thread::sleep(std::time::Duration::from_millis(200));
    let err = s.stderr();
    assert_eq!(s.stop(), 0);
    assert_no_repeat("serve -v", &err);
    // Said once, not also as a -v detail in other words.
    assert_eq!(
        err.lines().filter(|l| l.contains("admin API")).count(),
        1,
        "{err}"
    );
}

#[test]
fn format_json_is_json() {
    let json = run_journey(&["--json"]);
    let format = run_journey(&["--format", "json"]);
    for ((cmd, a), (_, b)) in json.iter().zip(&format) {
        if a.stdout.trim_start().starts_with('{') {
            let x: serde_json::Value = serde_json::from_str(&a.stdout).unwrap();
            let y: serde_json::Value = serde_json::from_str(&b.stdout)
                .unwrap_or_else(|e| panic!("mlops {cmd} with --format json: {e}\n{}", b.stdout));
            let keys = |v: &serde_json::Value| {
                v.as_object()
                    .map(|o| o.keys().cloned().collect::<Vec<_>>())
                    .unwrap_or_default()
            };
            assert_eq!(keys(&x), keys(&y), "mlops {cmd}");
        } else if cmd.contains("token") {
            // A token carries its time of issue: compare its shape.
            assert_eq!(a.stdout.split('.').count(), 3, "mlops {cmd}");
            assert_eq!(b.stdout.split('.').count(), 3, "mlops {cmd}");
        } else {
            // The two runs have their own folders: compare the file names.
            let names = |t: &str| {
                t.lines()
                    .map(|l| l.rsplit('/').next().unwrap_or_default().to_string())
                    .collect::<Vec<_>>()
            };
            assert_eq!(names(&a.stdout), names(&b.stdout), "mlops {cmd}");
        }
    }
}

#[test]
fn json_with_another_format_is_a_usage_error_on_every_command() {
    let t = project();
    let csv = example_csv().display().to_string();
    let mut commands = journey(&csv);
    commands.push(vec!["serve".into()]);
    for args in commands {
        let mut all: Vec<String> = ["--json", "--format", "markdown"]
            .iter()
            .map(|s| (*s).to_string())
            .collect();
        all.extend(args.iter().cloned());
        t.run_args(&all)
            .code(2)
            .stderr_contains("--json and --format markdown ask for two formats");
        // A format the command has not is a usage error too.
        if !["validate", "abtest-analyze"].contains(&args[0].as_str()) {
            let mut md: Vec<String> = vec!["--format".into(), "markdown".into()];
            md.extend(args.iter().cloned());
            t.run_args(&md)
                .code(2)
                .stderr_contains("has no markdown report");
        }
    }
    // With validate --report, --format names the file's format.
    t.run_args([
        "--json", "--format", "markdown", "validate", "--report", "r.md",
    ])
    .success();
    assert!(t.read("r.md").starts_with('#') || t.read("r.md").contains('|'));
}

#[test]
fn format_markdown_on_abtest_is_markdown() {
    let t = project();
    let args = [
        "abtest-analyze",
        "--input",
        "ab.csv",
        "--metric",
        "m",
        "--control",
        "A",
    ];
    let o = t.run_args(["--format", "markdown"].iter().chain(&args));
    o.success();
    assert!(o.stdout.contains('|'), "{}", o.stdout);
}

#[test]
fn output_writes_the_report_atomically() {
    let t = project();
    let args = [
        "abtest-analyze",
        "--input",
        "ab.csv",
        "--metric",
        "m",
        "--control",
        "A",
    ];
    let o = t.run_args(args.iter().chain(&["--output", "out/report.txt"]));
    o.success()
        .stdout_eq("Wrote the report to out/report.txt\n");
    assert!(t.read("out/report.txt").contains("Decision:"));
    // JSON goes to the file; stdout stays empty.
    t.run_args(
        ["--json"]
            .iter()
            .chain(&args)
            .chain(&["--output", "r.json"]),
    )
    .success()
    .stdout_eq("");
    assert!(t.read_json("r.json")["decision"].is_string());
    // A folder in the way: nothing written, exit 2.
    std::fs::create_dir_all(t.path("d")).unwrap();
    t.run_args(args.iter().chain(&["--output", "d"]))
        .code(2)
        .stderr_contains("it is a folder");
    // validate's --output is --report.
    t.run_args(["validate", "--format", "junit", "--output", "v.xml"])
        .success();
    assert!(t.read("v.xml").contains("<testsuite"));
    // completions --output writes the script.
    t.run_args(["completions", "bash", "--output", "c.bash"])
        .success()
        .stdout_eq("Wrote the completion script to c.bash\n");
    assert!(t.read("c.bash").contains("mlops"));
    // train's --out stays an alias of --output.
    t.run_args(["-q", "train", "--out", "alias.json"]).success();
    assert!(t.exists("alias.json"));
    // No temporary file is left behind.
    let left: Vec<_> = std::fs::read_dir(t.root())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".tmp") || n.contains(".tmp"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn model_names_and_stages_get_a_did_you_mean() {
    let t = project();
    t.run_args(["-q", "package"]).success();
    t.run_args(["history", "house-prize"])
        .code(4)
        .stderr_contains(
            "there is no model house-prize in the registry; did you mean \"house-price\"?",
        );
    // A name far from every model still just says there are no events.
    t.run_args(["history", "nobody"])
        .success()
        .stdout_eq("No registry events for nobody.\n");
    t.run_args(["show", "house-prise"])
        .code(4)
        .stderr_contains("did you mean \"house-price\"?");
    t.run_args(["deprecate", "huose-price"])
        .code(4)
        .stderr_contains("did you mean \"house-price\"?");
    t.run_args(["validate", "--baseline", "stagin"])
        .code(4)
        .stderr_contains("there is no stage \"stagin\" in the registry; did you mean \"staging\"?");
    t.run_args(["validate", "--baseline", "house-prise@v0.0.1"])
        .code(4)
        .stderr_contains("did you mean \"house-price@v0.0.1\"?");
    t.run_args(["validate", "--baseline", "house-price@v0.0.2"])
        .code(4)
        .stderr_contains("house-price has no version v0.0.2; did you mean v0.0.1?");
    t.run_args(["-q", "deploy", "staging"]).success();
    t.run_args(["unassign", "house-price", "stagign"])
        .code(4)
        .stderr_contains("did you mean \"staging\"?");
}

/// A value of each wrong type for every key of the project file: no
/// message names a Rust type (`struct`, `enum`, a `::` path).
#[test]
fn no_rust_type_names_in_project_file_errors() {
    let values = ["\"x\"", "1.5", "-1", "[1]", "{ a = 1 }", "true", "{}"];
    let mut checked = 0;
    for key in mlops::project::known_keys() {
        let key = key
            .replace("NAME", "prod")
            .replace("METRIC", "r2")
            .replace("ROLE", "predict");
        for v in values {
            let text = format!("{key} = {v}\n");
            if let Err(e) = mlops::project::parse(&text, "mlops.toml") {
                let msg = e.to_string();
                for bad in ["struct ", "enum ", "::"] {
                    assert!(!msg.contains(bad), "{text:?} gives {msg:?}");
                }
                checked += 1;
            }
        }
    }
    assert!(checked > 200, "only {checked} errors checked");
}

/// The messages of the command line's own mistakes name no Rust type.
#[test]
fn no_rust_type_names_in_command_errors() {
    let t = Test::new().toml(&format!(
        "{}\n[validate.thresholds]\nr2 = 0.9\n",
        example_toml()
    ));
    for args in [
        vec!["train"],
        vec!["validate"],
        vec!["--format", "junit", "models"],
        vec!["deploy", "nowhere"],
        vec!["serve", "--bind", "nowhere"],
    ] {
        let o = t.run_args(&args);
        assert_ne!(o.status.code(), Some(0), "{args:?}");
        for bad in ["struct ", "enum ", "::"] {
            assert!(!o.stderr.contains(bad), "{args:?}: {}", o.stderr);
        }
    }
    t.run_args(["train"])
        .code(2)
        .stderr_contains("a gate takes { min = … } or { max = … }");
}
