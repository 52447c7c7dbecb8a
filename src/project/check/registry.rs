//! Checks of `[registry]`: the remote, the stage names and the bundle store.

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
    if let Some(bs) = &r.bundle_store
        && crate::data::store_url(std::path::Path::new(bs)).is_none()
    {
        return Err(err(
            "registry",
            "bundle_store",
            format!(
                "= \"{bs}\" is not an object-storage URL; write s3://bucket/prefix, gs://bucket/prefix or az://container/prefix"
            ),
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
