//! Before a change: what the environment serves must be what the registry
//! says it serves (the stage's version, and the canary beside it). When
//! they disagree — an emptied server, a hand-changed folder, a crash
//! between the switch and the tag — `deploy` and `rollback` say so, naming
//! both, and act only with `--force`.

use crate::error::{Error, Result};

use super::context::Context;
use super::target::Live;

/// What one side says runs: champion and (challenger, percent).
#[derive(Debug, PartialEq, Eq)]
struct Serving<'a> {
    champion: Option<&'a str>,
    challenger: Option<(&'a str, u8)>,
}

impl Serving<'_> {
    fn describe(&self) -> String {
        let champion = self
            .champion
            .map_or_else(|| "no champion".to_string(), |v| format!("champion {v}"));
        match self.challenger {
            Some((c, p)) => format!("{champion} with canary {c} at {p} %"),
            None if self.champion.is_none() => "nothing".to_string(),
            None => champion,
        }
    }
}

/// Refuse when `live` is not what the registry records for the environment.
pub(super) fn check(ctx: &Context<'_>, live: &Live, command: &str) -> Result<()> {
    let registry_champion = ctx.registry_champion();
    let canary = ctx.registry_canary();
    let recorded = Serving {
        champion: registry_champion.as_deref(),
        challenger: canary.map(|c| (c.version.as_str(), c.percent)),
    };
    let serving = Serving {
        champion: live.champion.as_deref(),
        challenger: live
            .challenger
            .as_deref()
            .map(|c| (c, live.challenger_percent)),
    };
    if recorded == serving {
        return Ok(());
    }
    let env = ctx.env_name;
    let name = &ctx.model.name;
    let why = if serving.champion.is_none() && serving.challenger.is_none() {
        "the environment is empty (a restarted or replaced server, a deleted folder)"
    } else {
        "the environment was changed outside `mlops`, or a deploy stopped between the switch and its tag"
    };
    Err(Error::Registry(format!(
        "{env} serves {} of {name} but the registry says {} ({why}); nothing was changed: check the environment, then rerun with --force to {command} anyway",
        serving.describe(),
        recorded.describe(),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_name_every_version() {
        let s = Serving {
            champion: Some("v1.0.0"),
            challenger: Some(("v1.1.0", 20)),
        };
        assert_eq!(s.describe(), "champion v1.0.0 with canary v1.1.0 at 20 %");
        let e = Serving {
            champion: None,
            challenger: None,
        };
        assert_eq!(e.describe(), "nothing");
    }
}
