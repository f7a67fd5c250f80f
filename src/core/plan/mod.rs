//! The pure decision: given the request and the live state, what to do (ARCHITECTURE.md,
//! steps 3–8). No I/O here; every rule is a row in `tests.rs`.
//!
//! [`Live::new`] resolves the target minor (step 3) once; [`Live::release_lookup`] says
//! which SSM parameter step 6 needs; [`Live::plan`] runs the checks of step 4 and decides
//! between steps 5 to 8. [`judge_running`] is step 5's second half, once the running update
//! is read.

mod call;
mod checks;
mod refusal;
mod release;
mod running;
#[cfg(test)]
mod tests;

use std::time::SystemTime;

use crate::core::ami::AmiFamily;
use crate::core::live::{ClusterState, NodegroupState};
use crate::core::request::{LaunchTemplateRequest, UpdateRequest, VersionRequest};
use crate::core::token;
use crate::core::version::{MinorVersion, ReleaseVersion};

pub use call::{LaunchTemplateCall, UpdateCall};
#[cfg(test)]
use refusal::Reason;
pub use refusal::Refusal;
pub use release::{LatestKnown, LatestRelease, ReleaseLookup};
pub use running::judge_running;

/// What the node group should end on, resolved against the live state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// `None` for a custom-AMI node group, whose version is never sent.
    pub version: Option<MinorVersion>,
    pub release_version: Option<ReleaseVersion>,
    pub launch_template: Option<LaunchTemplateRequest>,
    pub force: bool,
    pub client_request_token: String,
    /// The newest release SSM names for the AMI type and target, where known.
    pub latest: Option<LatestKnown>,
}

/// What to do once the checks pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Already there: no update call.
    UpToDate,
    /// The latest release is younger than `minReleaseAgeDays`: no update call.
    Deferred,
    /// Change nothing; report the request that would be sent.
    DryRun,
    /// Call `UpdateNodegroupVersion`.
    Start,
    /// The node group is `UPDATING`: find the running update and judge it.
    FindRunning,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    pub target: Target,
    pub decision: Decision,
}

/// Step 3: the target minor *T*, always explicit.
pub fn target_minor(
    version: VersionRequest,
    nodegroup: MinorVersion,
    cluster: MinorVersion,
) -> MinorVersion {
    match version {
        VersionRequest::Explicit(minor) => minor,
        VersionRequest::Cluster => cluster,
        VersionRequest::Current => nodegroup,
    }
}

/// A request against the live state of its node group and cluster.
#[derive(Clone, Copy, Debug)]
pub struct Live<'a> {
    request: &'a UpdateRequest,
    nodegroup: &'a NodegroupState,
    cluster: &'a ClusterState,
    target_minor: MinorVersion,
}

impl<'a> Live<'a> {
    pub fn new(
        request: &'a UpdateRequest,
        nodegroup: &'a NodegroupState,
        cluster: &'a ClusterState,
    ) -> Self {
        let target_minor = target_minor(request.version(), nodegroup.version, cluster.version);
        Self {
            request,
            nodegroup,
            cluster,
            target_minor,
        }
    }

    /// Which latest release step 6 needs.
    pub fn release_lookup(&self) -> ReleaseLookup {
        release::release_lookup(self.request, self.nodegroup, self.target_minor)
    }

    /// Decides what to do, or why the request cannot go on. `latest` is what was found of
    /// the newest release (step 6); `now` is the time its age is measured at; `event_id`
    /// seeds the token.
    pub fn plan(
        &self,
        event_id: &str,
        latest: LatestRelease,
        now: SystemTime,
    ) -> Result<Plan, Refusal> {
        let family = self
            .nodegroup
            .ami_type
            .as_ref()
            .map_or(AmiFamily::Unknown, |ami| ami.family());
        let updating = self.check(family)?;
        let mut target = self.target(family, &latest, now);
        let decision = if updating {
            Decision::FindRunning
        } else {
            self.decide(&mut target, family, latest, now)?
        };
        // Step 7: a dry run stops where the update call would be made.
        let decision = match decision {
            Decision::Start if self.request.dry_run() => Decision::DryRun,
            other => other,
        };
        target.client_request_token = token::client_request_token(self.request, event_id, &target);
        Ok(Plan { target, decision })
    }

    /// Step 4, in the contract's order; `true` when the node group is being updated.
    fn check(&self, family: AmiFamily) -> Result<bool, Refusal> {
        let facts = checks::Facts {
            request: self.request,
            nodegroup: self.nodegroup,
            cluster: self.cluster,
            target_minor: self.target_minor,
            family,
        };
        checks::check_not_above_control_plane(&facts)?;
        checks::check_no_rollback(&facts)?;
        checks::check_no_release_rollback(&facts)?;
        checks::check_release_minor(&facts)?;
        checks::check_custom_ami(&facts)?;
        checks::check_launch_template(&facts)?;
        checks::check_al2_supported(&facts)?;
        let updating = checks::check_nodegroup_status(&facts)?;
        checks::check_cluster_status(&facts)?;
        Ok(updating)
    }

    /// The target as the request asks for it, before the soak gate and the token.
    fn target(&self, family: AmiFamily, latest: &LatestRelease, now: SystemTime) -> Target {
        Target {
            version: (family != AmiFamily::Custom).then_some(self.target_minor),
            release_version: self.request.release_version().cloned(),
            launch_template: self.request.launch_template().cloned(),
            force: self.request.force(),
            client_request_token: String::new(),
            latest: release::latest_known(latest, now),
        }
    }

    /// Step 6, then 8: up to date, held back by the soak gate, or started.
    fn decide(
        &self,
        target: &mut Target,
        family: AmiFamily,
        latest: LatestRelease,
        now: SystemTime,
    ) -> Result<Decision, Refusal> {
        if release::check_up_to_date(target, self.target_minor, self.nodegroup, family, &latest) {
            Ok(Decision::UpToDate)
        } else if let Some(days) = self.request.min_release_age_days() {
            release::soak_gate(target, family, latest, days, now)
        } else {
            Ok(Decision::Start)
        }
    }
}
