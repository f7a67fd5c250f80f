//! Step 4: the checks of a target against the live state, one function each, in the
//! contract's order. Each says what to do when it refuses.

use std::cmp::Ordering;

use super::refusal::{Reason, Refusal};
use crate::core::ami::AmiFamily;
use crate::core::live::{ClusterState, ClusterStatus, NodegroupState, NodegroupStatus};
use crate::core::request::{
    LaunchTemplateRequest, TemplateSelector, UpdateRequest, VersionRequest,
};
use crate::core::version::{MinorVersion, ReleaseVersion};

/// The first Kubernetes minor for which no Amazon Linux 2 AMIs exist.
pub const AL2_LAST_MINOR_EXCLUSIVE: MinorVersion = MinorVersion::new(1, 33);

/// What every check reads: the request, the live state, the resolved target minor and
/// the AMI family.
pub(super) struct Facts<'a> {
    pub request: &'a UpdateRequest,
    pub nodegroup: &'a NodegroupState,
    pub cluster: &'a ClusterState,
    pub target_minor: MinorVersion,
    pub family: AmiFamily,
}

impl Facts<'_> {
    fn current_release(&self) -> Option<&ReleaseVersion> {
        self.nodegroup
            .release_version
            .as_ref()
            .and_then(|r| r.parsed())
    }
}

pub(super) fn check_not_above_control_plane(s: &Facts<'_>) -> Result<(), Refusal> {
    let (target, control_plane) = (s.target_minor, s.cluster.version);
    if target > control_plane {
        return Err(Refusal::new(
            Reason::AboveControlPlane,
            format!(
                "target version {target} is above the control plane's {control_plane}: upgrade the cluster first, or ask for {control_plane} or \"cluster\""
            ),
        ));
    }
    Ok(())
}

pub(super) fn check_no_rollback(s: &Facts<'_>) -> Result<(), Refusal> {
    let (target, current) = (s.target_minor, s.nodegroup.version);
    if target < current {
        return Err(Refusal::new(
            Reason::Rollback,
            format!(
                "target version {target} is below the node group's {current}: node groups cannot be rolled back; ask for {current} or later"
            ),
        ));
    }
    Ok(())
}

/// A release older than the node group's, compared only within one minor: across minors
/// the order is the minor's, checked by [`check_no_rollback`].
pub(super) fn check_no_release_rollback(s: &Facts<'_>) -> Result<(), Refusal> {
    let (Some(wanted), Some(have)) = (s.request.release_version(), s.current_release()) else {
        return Ok(());
    };
    let same_minor = s.target_minor == s.nodegroup.version
        && (!s.family.release_names_minor() || wanted.minor() == have.minor());
    if same_minor && wanted.compare(have, s.family.suffix_order()) == Some(Ordering::Less) {
        return Err(Refusal::new(
            Reason::ReleaseRollback,
            format!(
                "releaseVersion {wanted} is older than the node group's {have}: AMI releases cannot be rolled back; ask for {have} or later, or omit releaseVersion for the latest"
            ),
        ));
    }
    Ok(())
}

pub(super) fn check_release_minor(s: &Facts<'_>) -> Result<(), Refusal> {
    let target = s.target_minor;
    match s.request.release_version() {
        Some(wanted) if s.family.release_names_minor() && wanted.minor() != target => {
            Err(Refusal::new(
                Reason::ReleaseMinorMismatch,
                format!(
                    "releaseVersion {wanted} is built for Kubernetes {} but the target version is {target}: ask for a {target} release, or set version to {}",
                    wanted.minor(),
                    wanted.minor()
                ),
            ))
        }
        _ => Ok(()),
    }
}

pub(super) fn check_custom_ami(s: &Facts<'_>) -> Result<(), Refusal> {
    let asks_for_a_version =
        s.request.version() != VersionRequest::Current || s.request.release_version().is_some();
    if s.family == AmiFamily::Custom && asks_for_a_version {
        return Err(Refusal::new(
            Reason::CustomAmiVersion,
            "the node group uses a custom AMI (amiType CUSTOM): only a new launch template version moves it; drop version and releaseVersion and give launchTemplate.version",
        ));
    }
    Ok(())
}

pub(super) fn check_launch_template(s: &Facts<'_>) -> Result<(), Refusal> {
    let Some(wanted) = s.request.launch_template() else {
        return Ok(());
    };
    let Some(have) = &s.nodegroup.launch_template else {
        return Err(Refusal::new(
            Reason::NoLaunchTemplate,
            "the node group was created without a launch template, so an update cannot use one: drop launchTemplate",
        ));
    };
    let mismatch = match wanted.selector() {
        TemplateSelector::Id(id) => have.id.as_ref().is_some_and(|have| have != id),
        TemplateSelector::Name(name) => have.name.as_ref().is_some_and(|have| have != name),
    };
    if !mismatch {
        return Ok(());
    }
    let theirs = match (&have.id, &have.name) {
        (Some(id), Some(name)) => format!("{name} ({id})"),
        (Some(id), None) => id.clone(),
        (None, Some(name)) => name.clone(),
        (None, None) => "unknown".to_owned(),
    };
    Err(Refusal::new(
        Reason::OtherLaunchTemplate,
        format!(
            "launchTemplate {} is not the node group's launch template {theirs}: an update must use the template the node group was created with; give only a new version of it",
            named(wanted)
        ),
    ))
}

fn named(wanted: &LaunchTemplateRequest) -> String {
    match wanted.selector() {
        TemplateSelector::Id(id) => format!("id {id}"),
        TemplateSelector::Name(name) => format!("name {name}"),
    }
}

pub(super) fn check_al2_supported(s: &Facts<'_>) -> Result<(), Refusal> {
    if s.family == AmiFamily::Al2 && s.target_minor >= AL2_LAST_MINOR_EXCLUSIVE {
        let ami_type = s
            .nodegroup
            .ami_type
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default();
        return Err(Refusal::new(
            Reason::Al2Ended,
            format!(
                "amiType {ami_type} is Amazon Linux 2, which has no AMIs for Kubernetes {AL2_LAST_MINOR_EXCLUSIVE} and later: move the workloads to an AL2023 or Bottlerocket node group first"
            ),
        ));
    }
    Ok(())
}

/// Whether the node group can be updated now (`false`), is being updated (`true`: step 5
/// finds the running update), or neither.
pub(super) fn check_nodegroup_status(s: &Facts<'_>) -> Result<bool, Refusal> {
    match &s.nodegroup.status {
        NodegroupStatus::Active | NodegroupStatus::Degraded => Ok(false),
        NodegroupStatus::Updating => Ok(true),
        other => Err(Refusal::new(
            Reason::NodegroupNotUpdatable,
            format!(
                "the node group's status is {other}; it can be updated only when ACTIVE or DEGRADED: wait for it to settle, or repair it, then retry"
            ),
        )),
    }
}

/// EKS refuses node group updates while the control plane changes; a cluster that is not
/// there to change is no state to update a node group in.
pub(super) fn check_cluster_status(s: &Facts<'_>) -> Result<(), Refusal> {
    match &s.cluster.status {
        None | Some(ClusterStatus::Active) => Ok(()),
        Some(ClusterStatus::Updating) => Err(Refusal::new(
            Reason::ClusterUpdating,
            "the cluster's control plane is being updated (status UPDATING), and EKS updates no node group meanwhile; retry with back-off once the cluster is ACTIVE",
        )),
        Some(other) => Err(Refusal::new(
            Reason::ClusterNotActive,
            format!(
                "the cluster's status is {other}; node groups can be updated only while it is ACTIVE"
            ),
        )),
    }
}
