//! The CI templates of `examples/ci/`: both parse as YAML, have the jobs
//! `docs/ci.md` describes, and every `mlops` command line in them names a
//! real subcommand with flags that subcommand accepts (checked against the
//! `--help` of the binary under test, so a renamed flag breaks this test).

use std::collections::BTreeSet;

use yaml_rust2::{Yaml, YamlLoader};

use crate::common::{Test, repo};

fn load(rel: &str) -> Yaml {
    let text = std::fs::read_to_string(repo().join(rel)).unwrap();
    let mut docs =
        YamlLoader::load_from_str(&text).unwrap_or_else(|e| panic!("{rel} is not valid YAML: {e}"));
    assert_eq!(docs.len(), 1, "{rel}: one YAML document");
    let doc = docs.remove(0);
    assert!(doc.as_hash().is_some(), "{rel}: the document is a mapping");
    doc
}

fn key<'a>(y: &'a Yaml, k: &str) -> &'a Yaml {
    &y[k]
}

fn str_of<'a>(y: &'a Yaml, what: &str) -> &'a str {
    y.as_str()
        .unwrap_or_else(|| panic!("{what} should be a string, is {y:?}"))
}

/// The shell lines of a script (a string or a list of strings), with
/// backslash continuations joined.
fn lines(script: &Yaml) -> Vec<String> {
    let texts: Vec<&str> = match script {
        Yaml::String(s) => vec![s.as_str()],
        Yaml::Array(a) => a.iter().map(|y| str_of(y, "a script line")).collect(),
        Yaml::BadValue => vec![],
        other => panic!("a script should be a string or a list, is {other:?}"),
    };
    let mut out = Vec::new();
    for text in texts {
        let mut cur = String::new();
        for line in text.lines() {
            if let Some(head) = line.strip_suffix('\\') {
                cur.push_str(head);
                cur.push(' ');
            } else {
                cur.push_str(line);
                out.push(std::mem::take(&mut cur));
            }
        }
        if !cur.is_empty() {
            out.push(cur);
        }
    }
    out
}

/// The `mlops` invocations of a shell line: the words after `mlops` in
/// command position, up to the next shell operator. Comments are dropped.
fn invocations(line: &str) -> Vec<Vec<String>> {
    let words: Vec<&str> = line
        .split_whitespace()
        .take_while(|w| !w.starts_with('#'))
        .collect();
    let is_op = |w: &str| matches!(w, "&&" | "||" | ";" | "|" | "then" | "do" | "else");
    let mut out = Vec::new();
    for (i, w) in words.iter().enumerate() {
        let w = w.trim_end_matches(';');
        if w != "mlops" && !w.ends_with("/mlops") {
            continue;
        }
        // The word before, skipping `VAR=value` assignments, must be a
        // shell operator (or there is none).
        let command_position = words[..i]
            .iter()
            .rev()
            .find(|p| !p.contains('=') || p.starts_with('-'))
            .is_none_or(|p| is_op(p) || p.ends_with(';'));
        if !command_position {
            continue;
        }
        let mut args = Vec::new();
        for a in &words[i + 1..] {
            if is_op(a) {
                break;
            }
            args.push(a.trim_end_matches(';').to_string());
            if a.ends_with(';') {
                break;
            }
        }
        out.push(args);
    }
    out
}

/// Check each invocation against the real binary; return the subcommands.
fn check_invocations(file: &str, invs: &[Vec<String>]) -> BTreeSet<String> {
    let mut subs = BTreeSet::new();
    for args in invs {
        // `mlops --version`: the top level's flags.
        let sub = args.iter().find(|a| !a.starts_with('-'));
        let help = match sub {
            Some(sub) => Test::new().run_args([sub.as_str(), "--help"]),
            None => Test::new().run_args(["--help"]),
        };
        let sub = sub.map_or("", String::as_str);
        assert_eq!(
            help.status.code(),
            Some(0),
            "{file}: `mlops {}`: `{sub}` is not a subcommand of mlops\n{}",
            args.join(" "),
            help.stderr
        );
        for a in args.iter().filter(|a| a.starts_with("--")) {
            // `${VERSION:+--version "$VERSION"}` passes --version.
            let flag = a.split(['=', '"', '}']).next().unwrap();
            let known = help.stdout.lines().any(|l| {
                l.trim_start()
                    .split([' ', ',', '<', '='])
                    .any(|w| w == flag)
            });
            assert!(
                known,
                "{file}: `mlops {}`: `mlops {sub}` has no flag {flag}\n{}",
                args.join(" "),
                help.stdout
            );
        }
        if !sub.is_empty() {
            subs.insert(sub.to_string());
        }
    }
    subs
}

/// `mlops ...` inside `${VAR:+...}` is not a word on its own; this makes
/// the optional flags of such an expansion visible to the checker.
fn expand_optional(line: &str) -> String {
    line.replace("${VERSION:+", "").replace("\"}", "\"")
}

fn all_invocations(scripts: &[&Yaml]) -> Vec<Vec<String>> {
    scripts
        .iter()
        .flat_map(|s| lines(s))
        .flat_map(|l| invocations(&expand_optional(&l)))
        .collect()
}

#[test]
fn invocation_parser_finds_commands_in_command_position_only() {
    assert_eq!(
        invocations("VAR=1 mlops deploy prod --push && echo mlops train # mlops x"),
        vec![vec!["deploy", "prod", "--push"]]
    );
    assert_eq!(
        invocations("if true; then .mlops/bin/mlops --version; fi"),
        vec![vec!["--version"]]
    );
    assert!(invocations("cargo install mlops").is_empty());
}

#[test]
fn github_actions_template_is_a_full_pipeline_of_real_commands() {
    let file = "examples/ci/github-actions.yml";
    let doc = load(file);
    // YAML 1.2: `on` is a string key (the workflow's triggers).
    let on = key(&doc, "on");
    for trigger in ["pull_request", "push", "workflow_dispatch"] {
        assert!(!key(on, trigger).is_badvalue(), "{file}: on.{trigger}");
    }
    let jobs = key(&doc, "jobs").as_hash().expect("jobs");
    let names: BTreeSet<&str> = jobs.keys().map(|k| str_of(k, "a job name")).collect();
    for job in [
        "train",
        "validate",
        "package",
        "deploy-staging",
        "deploy-prod",
        "rollback",
    ] {
        assert!(names.contains(job), "{file}: job {job} (jobs: {names:?})");
    }
    let mut scripts = Vec::new();
    for (name, job) in jobs {
        let name = str_of(name, "a job name");
        assert!(!key(job, "runs-on").is_badvalue(), "{file}: {name} runs-on");
        let steps = key(job, "steps").as_vec().expect("steps");
        assert!(!steps.is_empty(), "{file}: {name} has steps");
        for step in steps {
            assert!(
                !key(step, "uses").is_badvalue() || !key(step, "run").is_badvalue(),
                "{file}: {name}: a step uses an action or runs a command"
            );
            scripts.push(key(step, "run"));
        }
    }
    let job_runs = |job: &str| -> Vec<String> {
        key(&doc["jobs"], job)["steps"]
            .as_vec()
            .unwrap()
            .iter()
            .flat_map(|s| lines(&s["run"]))
            .collect()
    };
    let package = job_runs("package").join("\n");
    assert!(package.contains("mlops package") && package.contains("--push"));
    assert!(str_of(&doc["jobs"]["package"]["if"], "package.if").contains("refs/heads/main"));
    assert!(
        job_runs("deploy-staging")
            .join("\n")
            .contains("mlops deploy staging")
    );
    assert!(
        job_runs("deploy-prod")
            .join("\n")
            .contains("mlops deploy prod")
    );
    assert_eq!(
        str_of(&doc["jobs"]["deploy-prod"]["environment"], "env"),
        "prod"
    );
    assert!(str_of(&doc["jobs"]["deploy-prod"]["if"], "if").contains("workflow_dispatch"));
    assert!(job_runs("rollback").join("\n").contains("mlops rollback"));
    assert!(str_of(&doc["jobs"]["rollback"]["if"], "if").contains("workflow_dispatch"));
    let subs = check_invocations(file, &all_invocations(&scripts));
    for sub in ["train", "validate", "package", "deploy", "rollback"] {
        assert!(
            subs.contains(sub),
            "{file} runs mlops {sub} (runs {subs:?})"
        );
    }
}

#[test]
fn gitlab_ci_template_is_a_full_pipeline_of_real_commands() {
    let file = "examples/ci/gitlab-ci.yml";
    let doc = load(file);
    let stages: Vec<&str> = doc["stages"]
        .as_vec()
        .expect("stages")
        .iter()
        .map(|s| str_of(s, "a stage"))
        .collect();
    let map = doc.as_hash().unwrap();
    let mut scripts = vec![&doc["default"]["before_script"]];
    for (name, job) in map {
        let name = str_of(name, "a top-level key");
        if job["script"].is_badvalue() {
            continue;
        }
        let stage = str_of(&job["stage"], "stage");
        assert!(
            stages.contains(&stage),
            "{file}: {name}: stage {stage} is declared"
        );
        scripts.push(&job["script"]);
        scripts.push(&job["before_script"]);
    }
    for job in [
        "train",
        "validate",
        "package",
        "deploy-staging",
        "deploy-prod",
        "rollback-prod",
    ] {
        assert!(
            map.contains_key(&Yaml::String(job.to_string())),
            "{file}: job {job}"
        );
    }
    // validate: a JUnit report and a dotenv, from the files the command writes.
    let validate = lines(&doc["validate"]["script"]).join("\n");
    let reports = &doc["validate"]["artifacts"]["reports"];
    let junit = str_of(&reports["junit"], "junit report");
    let dotenv = str_of(&reports["dotenv"], "dotenv report");
    assert!(
        validate.contains(&format!("--report {junit}")),
        "{validate}"
    );
    assert!(
        validate.contains(&format!("--dotenv {dotenv}")),
        "{validate}"
    );
    assert_eq!(
        str_of(&doc["validate"]["artifacts"]["when"], "when"),
        "always"
    );
    // package pushes on the default branch only.
    assert!(
        lines(&doc["package"]["script"])
            .join("\n")
            .contains("mlops package --bump patch --push")
    );
    assert!(str_of(&doc["package"]["rules"][0]["if"], "rule").contains("CI_DEFAULT_BRANCH"));
    // prod deploy and rollback are started by a person.
    for job in ["deploy-prod", "rollback-prod"] {
        assert_eq!(
            str_of(&doc[job]["rules"][0]["when"], "when"),
            "manual",
            "{job}"
        );
        assert_eq!(
            str_of(&doc[job]["environment"]["name"], "env"),
            "prod",
            "{job}"
        );
    }
    assert!(
        lines(&doc["rollback-prod"]["script"])
            .join("\n")
            .contains("mlops rollback prod")
    );
    assert_eq!(str_of(&doc["deploy-prod"]["extends"], "extends"), ".deploy");
    assert!(
        lines(&doc[".deploy"]["script"])
            .join("\n")
            .contains("mlops deploy \"$CI_ENVIRONMENT_NAME\"")
    );
    let subs = check_invocations(file, &all_invocations(&scripts));
    for sub in ["train", "validate", "package", "deploy", "rollback"] {
        assert!(
            subs.contains(sub),
            "{file} runs mlops {sub} (runs {subs:?})"
        );
    }
}
