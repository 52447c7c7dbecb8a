//! The plan of a deploy across targets: the environment's `[targets.T]`
//! tables (or the `--targets` subset), in commit order (standby first,
//! then `order`, then as listed), each made into a [`Phased`] target.

use std::collections::BTreeMap;

use crate::error::{Error, Result};
use crate::project::{EnvironmentSection, Project, Role};

use super::super::phase::Phased;

/// One target of the plan.
pub(crate) struct Planned<'a> {
    /// `[targets.T]` name.
    pub(crate) name: String,
    /// Its table.
    pub(crate) section: &'a EnvironmentSection,
    /// The target.
    pub(crate) target: Box<dyn Phased + Send>,
}

/// The names of `env_name`'s targets in commit order; `only` picks a
/// subset (each must be one of them).
pub(crate) fn ordered(
    project: &Project,
    env_name: &str,
    env: &EnvironmentSection,
    only: Option<&[String]>,
) -> Result<Vec<String>> {
    let all = env.targets.clone().unwrap_or_default();
    if let Some(only) = only {
        for t in only {
            if !all.contains(t) {
                let names: Vec<&str> = all.iter().map(String::as_str).collect();
                let hint = crate::project::nearest(t, &names)
                    .map_or_else(String::new, |n| format!("did you mean \"{n}\"? "));
                return Err(Error::usage(format!(
                    "--targets names \"{t}\", which is not a target of {env_name}; {hint}its targets are {}",
                    all.join(", ")
                )));
            }
        }
    }
    let mut picked: Vec<(usize, String)> = all
        .into_iter()
        .enumerate()
        .filter(|(_, n)| only.is_none_or(|o| o.contains(n)))
        .collect();
    let key = |n: &str| {
        let t = &project.file.targets[n];
        (
            t.role.unwrap_or_default() != Role::Standby,
            t.order.unwrap_or(0),
        )
    };
    picked.sort_by_key(|(i, n)| (key(n), *i));
    Ok(picked.into_iter().map(|(_, n)| n).collect())
}

/// The target `name` of the project, built with its admin token.
pub(crate) fn build<'a>(
    project: &'a Project,
    name: &str,
    model: &str,
    tokens: &BTreeMap<String, String>,
) -> Result<Planned<'a>> {
    let section = project.file.targets.get(name).ok_or_else(|| {
        Error::usage(format!(
            "{}: there is no [targets.{name}] table any more; put it back to resume or abort the deploy that used it",
            crate::error::display_path(&project.path)
        ))
    })?;
    Ok(Planned {
        name: name.to_string(),
        section,
        target: super::super::construct(project, name, section, model, tokens.get(name).cloned())?,
    })
}
