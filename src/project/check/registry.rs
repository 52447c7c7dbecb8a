//! Checks of `[registry]`: the remote and the stage names.

use crate::error::Result;
use crate::project::check::rules::first_duplicate;
use crate::project::locate::Source;
use crate::project::types::RegistrySection;
use crate::registry::tag::valid_name;

/// `[registry]`: a named remote, and valid, distinct stage names.
pub(super) fn check_registry(r: &RegistrySection, src: Source<'_>) -> Result<()> {
    let err = |section: &str, key: &str, msg: String| src.key_error(section, key, msg);
    if r.remote.as_deref().is_some_and(|x| x.trim().is_empty()) {
        return Err(err(
            "registry",
            "remote",
            "is empty; name a git remote such as \"origin\"".into(),
        ));
    }
    for st in &r.stages {
        if !valid_name(st) {
            return Err(err(
                "registry",
                "stages",
                format!(
                    "lists \"{st}\", which is not a valid stage name; use letters, digits, '-', '_' or '/', starting and ending with a letter or digit"
                ),
            ));
        }
    }
    if let Some(dup) = first_duplicate(&r.stages) {
        return Err(err("registry", "stages", format!("lists \"{dup}\" twice")));
    }
    Ok(())
}
