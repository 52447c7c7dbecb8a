//! Semantic checks of the project file that serde cannot express (ranges,
//! combinations of keys, names), run right after parsing, one step per
//! table; each error points at the offending key's line.

mod abtest;
mod environments;
mod prediction_log;
mod registry;
mod rules;
mod serve;
mod training;
mod validate;

pub use prediction_log::MAX_LOG_KEEP;
pub use rules::valid_env_name;

use crate::error::Result;
use crate::project::locate::Source;
use crate::project::types::ProjectFile;

/// Check every table of `f`, parsed from `text` (named `origin` in errors);
/// the first failure is returned.
pub(super) fn check(f: &ProjectFile, text: &str, origin: &str) -> Result<()> {
    let src = Source { text, origin };
    training::check_split(&f.split, src)?;
    if let Some(d) = &f.data {
        training::check_data(d, src)?;
    }
    if let Some(m) = &f.model {
        training::check_model(m, src)?;
    }
    if let Some(r) = &f.registry {
        registry::check_registry(r, src)?;
    }
    if let Some(v) = &f.validate {
        validate::check_validate(f, v, src)?;
    }
    for (name, env) in &f.environments {
        environments::check_environment(name, env, src)?;
    }
    for (name, t) in &f.targets {
        environments::check_target(name, t, src)?;
    }
    for (name, env) in &f.environments {
        environments::check_target_names(name, env, &f.targets, src)?;
    }
    if let Some(d) = &f.deploy
        && let Some(r) = d.max_error_ratio
        && !(0.0..=1.0).contains(&r)
    {
        return Err(src.key_or_header_error(
            "deploy",
            "max_error_ratio",
            &format!("= {r} must be a share between 0 and 1"),
        ));
    }
    if let Some(sv) = &f.serve {
        serve::check_serve(sv, src)?;
        prediction_log::check_prediction_log(sv, src)?;
    }
    if let Some(a) = &f.abtest {
        abtest::check_abtest(a, src)?;
    }
    Ok(())
}
