//! Checks of `[abtest]`: the defaults of `mlops abtest-analyze`.

use crate::error::Result;
use crate::project::locate::Source;
use crate::project::types::AbtestSection;

/// `[abtest]`: alpha, the minimum detectable effect and the planned split.
pub(super) fn check_abtest(a: &AbtestSection, src: Source<'_>) -> Result<()> {
    let err = |section: &str, key: &str, msg: String| src.key_error(section, key, msg);
    if let Some(al) = a.alpha
        && !(al > 0.0 && al < 1.0)
    {
        return Err(err(
            "abtest",
            "alpha",
            format!("= {al} must be above 0 and below 1, like 0.05"),
        ));
    }
    if let Some(m) = a.mde
        && !(m > 0.0 && m.is_finite())
    {
        return Err(err(
            "abtest",
            "mde",
            format!("= {m} must be a relative effect above 0, like 0.02"),
        ));
    }
    if let Some(sp) = &a.planned_split
        && (sp.len() < 2 || sp.values().any(|w| !(*w > 0.0 && w.is_finite())))
    {
        return Err(err(
            "abtest",
            "planned_split",
            "must name at least two variants with weights above 0, like { A = 0.5, B = 0.5 }"
                .into(),
        ));
    }
    Ok(())
}
