//! Small rules shared by the table checks: no value listed twice, and
//! environment variable names.

/// The first value `v` lists a second time.
pub(super) fn first_duplicate(v: &[String]) -> Option<&str> {
    let mut seen = std::collections::HashSet::new();
    v.iter()
        .find(|s| !seen.insert(s.as_str()))
        .map(String::as_str)
}

/// An environment variable name: letters, digits and `_`, not starting with a digit.
#[must_use]
pub fn valid_env_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}
