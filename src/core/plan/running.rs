//! Step 5: an update already running on the node group. Is it the one this request asks
//! for (`AlreadyInProgress`), another one, or has it just ended (both `UpdateInProgress`)?

use super::Target;
use super::refusal::{Reason, Refusal};
use crate::core::live::{UpdateKind, UpdateView};
use crate::core::request::TemplateVersion;
use crate::core::version::MinorVersion;

/// The running update if it is the one asked for. `running` is the node group's
/// `InProgress` update, `None` when none was found any more.
pub fn judge_running(target: &Target, running: Option<UpdateView>) -> Result<UpdateView, Refusal> {
    let Some(update) = running else {
        // It ended between the two reads: the next attempt sees the new state.
        return Err(Refusal::new(
            Reason::UpdateJustEnded,
            "the node group is busy but no update is InProgress any more (it has just ended); retry to see its new state",
        ));
    };
    match differences(target, &update) {
        None => Ok(update),
        Some(difference) => Err(Refusal::new(
            Reason::OtherUpdateRunning,
            format!(
                "{difference}; retry with back-off once update {} has ended",
                update.id
            ),
        )
        .with_update_id(&update.id)),
    }
}

/// How a running update differs from the target, or `None` when it is the target's.
fn differences(target: &Target, update: &UpdateView) -> Option<String> {
    if update.kind != UpdateKind::VersionUpdate {
        return Some(format!(
            "a {} ({}) is running on the node group",
            update.kind, update.id
        ));
    }
    let mut differences = Vec::new();
    if let Some(version) = target.version {
        let running = update.param("Version");
        if running.and_then(MinorVersion::parse_reported) != Some(version) {
            differences.push(format!(
                "version {} instead of {version}",
                running.unwrap_or("unknown")
            ));
        }
    }
    if let Some(release) = &target.release_version {
        let running = update.param("ReleaseVersion");
        if running != Some(release.as_str()) {
            differences.push(format!(
                "releaseVersion {} instead of {release}",
                running.unwrap_or("unknown")
            ));
        }
    }
    // `$Latest` and `$Default` reach the update resolved to a number only EC2 could map
    // back; a running version update of the same target is taken as this request's.
    if let Some(TemplateVersion::Number(number)) =
        target.launch_template.as_ref().and_then(|lt| lt.version())
    {
        let running = update.param("LaunchTemplateVersion");
        let wanted = number.to_string();
        if running != Some(wanted.as_str()) {
            differences.push(format!(
                "launch template version {} instead of {wanted}",
                running.unwrap_or("unknown")
            ));
        }
    }
    (!differences.is_empty()).then(|| {
        format!(
            "another version update ({}) is running on the node group, to {}",
            update.id,
            differences.join(", ")
        )
    })
}
