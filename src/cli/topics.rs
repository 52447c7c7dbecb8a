//! `mlops help TOPIC`: the documentation of the project file and the other
//! reference pages, built into the binary so it can be read offline.
//!
//! clap's own `help` subcommand answers `mlops help COMMAND`; a topic name
//! that is not a command is taken here first.

/// The topics: name, one line, the page.
pub const TOPICS: &[(&str, &str, &str)] = &[
    (
        "project-file",
        "mlops.toml: every table and key",
        include_str!("../../docs/project-file.md"),
    ),
    (
        "commands",
        "every command and flag",
        include_str!("../../docs/commands.md"),
    ),
    (
        "exit-codes",
        "what each exit code means, for scripts",
        include_str!("../../docs/exit-codes.md"),
    ),
    (
        "serving",
        "mlops serve: protocols, admin API, A/B feedback",
        include_str!("../../docs/serving.md"),
    ),
    (
        "deploy",
        "deploy and rollback: targets, canaries",
        include_str!("../../docs/deploy.md"),
    ),
    (
        "registry",
        "the registry on git tags, GTO's format",
        include_str!("../../docs/registry.md"),
    ),
    (
        "statistics",
        "the statistics of validate and abtest-analyze",
        include_str!("../../docs/statistics.md"),
    ),
    (
        "getting-started",
        "the quick start, step by step",
        include_str!("../../docs/getting-started.md"),
    ),
];

/// The page of `mlops help TOPIC`, when `args` is exactly that (after the
/// binary's name) and TOPIC is a topic, not a command.
pub fn page<T: AsRef<std::ffi::OsStr>>(args: &[T]) -> Option<&'static str> {
    let [_, help, topic] = args else { return None };
    if help.as_ref() != "help" {
        return None;
    }
    let topic = topic.as_ref().to_str()?;
    TOPICS.iter().find(|(n, _, _)| *n == topic).map(|t| t.2)
}

/// The list of topics, as the end of `mlops --help` shows it (a test
/// compares the two).
#[must_use]
#[cfg(test)]
pub fn list() -> String {
    let mut s = String::from("Documentation topics (mlops help TOPIC):\n");
    for (name, what, _) in TOPICS {
        s.push_str(&format!("  {name:<16} {what}\n"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_are_found_and_commands_are_not() {
        assert!(
            page(&["mlops", "help", "project-file"])
                .unwrap()
                .starts_with("# The project file")
        );
        assert!(page(&["mlops", "help", "train"]).is_none());
        assert!(page(&["mlops", "help"]).is_none());
        assert!(page(&["mlops", "--json", "help", "project-file"]).is_none());
    }
}
