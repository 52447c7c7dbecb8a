//! The reference documentation against the code it documents: the man pages
//! in `docs/man/` are generated from the clap definition (`MLOPS_BLESS=1`
//! rewrites them), every flag of every command appears in its section of
//! `docs/commands.md`, and every key of the project file in
//! `docs/project-file.md`.

use std::collections::BTreeMap;

use clap::CommandFactory;

use crate::clidef::Cli;
use crate::common::repo;

/// The clap command as the binary builds it (`mlops help` disabled as
/// `clap_mangen::generate_to` does, so there is no page for it).
fn command() -> clap::Command {
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    cmd
}

/// Every man page: file name → roff text, for the command and each visible
/// subcommand (nested ones too), as `clap_mangen::generate_to` names them.
fn man_pages() -> BTreeMap<String, Vec<u8>> {
    fn walk(cmd: &clap::Command, pages: &mut BTreeMap<String, Vec<u8>>) {
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
            walk(sub, pages);
        }
        let man = clap_mangen::Man::new(cmd.clone());
        let mut buf = Vec::new();
        man.render(&mut buf).unwrap();
        pages.insert(man.get_filename(), buf);
    }
    let mut pages = BTreeMap::new();
    walk(&command(), &mut pages);
    pages
}

#[test]
fn committed_man_pages_are_fresh() {
    let dir = repo().join("docs").join("man");
    let bless = std::env::var_os("MLOPS_BLESS").is_some_and(|v| v == "1");
    let pages = man_pages();
    assert!(pages.contains_key("mlops.1") && pages.contains_key("mlops-train.1"));
    assert!(pages.contains_key("mlops-abtest-analyze.1"));
    let mut stale = Vec::new();
    if bless {
        std::fs::create_dir_all(&dir).unwrap();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "1") {
                std::fs::remove_file(path).unwrap();
            }
        }
    }
    for (file, text) in &pages {
        let path = dir.join(file);
        if bless {
            std::fs::write(&path, text).unwrap();
        } else if std::fs::read(&path).ok().as_deref() != Some(text.as_slice()) {
            stale.push(format!("docs/man/{file}"));
        }
    }
    // A page of a command that no longer exists is stale too.
    for entry in std::fs::read_dir(&dir).into_iter().flatten() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if name.ends_with(".1") && !pages.contains_key(&name) {
            stale.push(format!("docs/man/{name} (no such command)"));
        }
    }
    assert!(
        stale.is_empty(),
        "{stale:?} differ from the clap definition; regenerate with \
         `MLOPS_BLESS=1 cargo test --test integration committed_man_pages_are_fresh`"
    );
}

#[test]
fn man_pages_have_no_date_and_show_the_version() {
    let pages = man_pages();
    let top = String::from_utf8(pages["mlops.1"].clone()).unwrap();
    let th = top.lines().find(|l| l.starts_with(".TH")).unwrap();
    assert_eq!(
        th,
        format!(".TH mlops 1  \"mlops {}\" ", env!("CARGO_PKG_VERSION"))
    );
    // ASCII only, so that groff renders them without a preprocessor.
    for (file, text) in &pages {
        assert!(text.is_ascii(), "{file} has a non-ASCII character");
    }
    let train = String::from_utf8(pages["mlops-train.1"].clone()).unwrap();
    assert!(train.contains("streaming"), "{train}");
}

/// The `##`/`###` sections of a Markdown file: heading → body.
fn sections(text: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = vec![(String::new(), String::new())];
    let mut fenced = false;
    for line in text.lines() {
        if line.starts_with("```") {
            fenced = !fenced;
        }
        if !fenced && (line.starts_with("## ") || line.starts_with("### ")) {
            out.push((
                line.trim_start_matches('#').trim().to_string(),
                String::new(),
            ));
        } else if let Some(last) = out.last_mut() {
            last.1.push_str(line);
            last.1.push('\n');
        }
    }
    out
}

#[test]
fn project_file_md_documents_every_key() {
    let doc = std::fs::read_to_string(repo().join("docs/project-file.md")).unwrap();
    let sections = sections(&doc);
    let tables = sections
        .iter()
        .find(|(h, _)| h == "Tables")
        .map(|(_, b)| b.as_str())
        .unwrap();
    let keys = mlops::project::known_keys();
    assert!(keys.len() > 80, "{keys:?}");
    let mut missing = Vec::new();
    for key in &keys {
        let segs: Vec<&str> = key.split('.').collect();
        if segs.len() == 1 {
            // A table of the root: a row of the table of tables, and its section.
            let header = format!("`[{key}");
            let has_section = sections
                .iter()
                .any(|(h, _)| h == &format!("{header}]`") || h.starts_with(&format!("{header}.")));
            if !tables.contains(&header) || !has_section {
                missing.push(key.clone());
            }
            continue;
        }
        // Documented in the section of its top table (`[environments.NAME]`
        // for the keys of an environment), in backquotes.
        let top = if segs[0] == "environments" || segs[0] == "targets" {
            format!("{}.NAME", segs[0])
        } else {
            segs[0].to_string()
        };
        let body = sections
            .iter()
            .find(|(h, _)| *h == format!("`[{top}]`"))
            .map(|(_, b)| b.as_str());
        // A key that is a table may be shown by its header instead.
        let leaf = format!("`{}`", segs[segs.len() - 1]);
        let header = format!("[{key}]");
        if !body.is_some_and(|b| b.contains(&leaf) || b.contains(&header)) {
            missing.push(key.clone());
        }
    }
    assert!(
        missing.is_empty(),
        "docs/project-file.md does not document {missing:?} in the section of its table"
    );
}

#[test]
fn commands_md_documents_every_command_and_flag() {
    let doc = std::fs::read_to_string(repo().join("docs/commands.md")).unwrap();
    let sections = sections(&doc);
    let body = |heading: &str| {
        sections
            .iter()
            .find(|(h, _)| h == heading)
            .map(|(_, b)| b.as_str())
    };
    let cmd = command();
    let mut missing = Vec::new();
    let globals = body("Global flags").unwrap_or_default();
    for arg in cmd.get_arguments() {
        if let Some(long) = arg.get_long()
            && !globals.contains(&format!("--{long}"))
        {
            missing.push(format!("--{long} under \"## Global flags\""));
        }
    }
    for sub in cmd.get_subcommands() {
        let heading = format!("`mlops {}`", sub.get_name());
        let Some(text) = body(&heading) else {
            missing.push(format!("a section \"## {heading}\""));
            continue;
        };
        for arg in sub.get_arguments().filter(|a| !a.is_global_set()) {
            let name = match arg.get_long() {
                Some(long) => format!("--{long}"),
                None => arg
                    .get_value_names()
                    .and_then(|v| v.first())
                    .map(ToString::to_string)
                    .unwrap_or_else(|| arg.get_id().to_string()),
            };
            if matches!(name.as_str(), "--help" | "--version") {
                continue;
            }
            if !text.contains(&name) {
                missing.push(format!("{name} under \"## {heading}\""));
            }
        }
        if !text.contains("```") {
            missing.push(format!("an example under \"## {heading}\""));
        }
        if !text.contains("(schemas/") && !text.contains("`--json` has no effect") {
            missing.push(format!(
                "a link to the JSON schema (or \"`--json` has no effect\") under \"## {heading}\""
            ));
        }
    }
    assert!(missing.is_empty(), "docs/commands.md lacks {missing:?}");
}

#[test]
fn changelog_names_the_crate_version_as_its_newest_release() {
    let text = std::fs::read_to_string(repo().join("CHANGELOG.md")).unwrap();
    let mut headings = text.lines().filter(|l| l.starts_with("## ["));
    assert_eq!(headings.next(), Some("## [Unreleased]"));
    let newest = headings.next().expect("a release heading");
    let version = newest.trim_start_matches("## [").split(']').next().unwrap();
    assert_eq!(version, env!("CARGO_PKG_VERSION"), "{newest}");
    assert_eq!(
        command().get_version(),
        Some(env!("CARGO_PKG_VERSION")),
        "--version"
    );
}
