//! The pure decision: given the request and the live state, what to do (DESIGN steps 3–7).
//! No I/O here; every rule is a row in the tests below.

use std::cmp::Ordering;
use std::time::{Duration, SystemTime};

use aws_smithy_types::DateTime;
use aws_smithy_types::date_time::Format;
use serde::Serialize;

use crate::ami::AmiFamily;
use crate::idempotency::{TokenTarget, derive_token};
use crate::request::{
    LaunchTemplateRequest, TemplateSelector, TemplateVersion, UpdateRequest, VersionRequest,
};
use crate::state::{ClusterState, LatestRelease, NodegroupState, UpdateView};
use crate::version::{MinorVersion, ReleaseVersion};

/// The first Kubernetes minor for which no Amazon Linux 2 AMIs exist.
pub const AL2_LAST_MINOR_EXCLUSIVE: MinorVersion = MinorVersion::new(1, 33);

/// What the node group should end on, resolved against the live state. Serialised as the
/// output's `target` (DESIGN, "Output").
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Target {
    /// `None` (null) for a custom-AMI node group, whose version is never sent.
    pub version: Option<MinorVersion>,
    pub release_version: Option<ReleaseVersion>,
    #[serde(serialize_with = "launch_template_as_sent")]
    pub launch_template: Option<LaunchTemplateRequest>,
    pub force: bool,
    pub client_request_token: String,
    /// The newest release SSM names for the AMI type and target (null where unknown).
    pub latest_release_version: Option<String>,
    /// When that release was published, RFC 3339 (null where unknown).
    pub latest_release_published_at: Option<String>,
    /// Its age in whole days (null where unknown): with `Deferred`, why.
    pub latest_release_age_days: Option<u64>,
}

/// The launch template in the shape of the API request: `{"id"|"name", "version"}`.
fn launch_template_as_sent<S: serde::Serializer>(
    launch_template: &Option<LaunchTemplateRequest>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    launch_template
        .as_ref()
        .map(LaunchTemplateCall::from_request)
        .serialize(serializer)
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
    /// The node group is `UPDATING`: find the running update and compare it.
    FindRunning,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    pub target: Target,
    pub decision: Decision,
}

/// The exact `UpdateNodegroupVersion` request, in the API's own field names; the EKS
/// adapter sends it and a dry run returns it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateCall {
    pub cluster_name: String,
    pub nodegroup_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub release_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub launch_template: Option<LaunchTemplateCall>,
    pub force: bool,
    pub client_request_token: String,
}

/// The launch template of an update request: id or name, never both.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LaunchTemplateCall {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

impl LaunchTemplateCall {
    pub fn from_request(lt: &LaunchTemplateRequest) -> Self {
        let (id, name) = match lt.selector() {
            TemplateSelector::Id(id) => (Some(id.clone()), None),
            TemplateSelector::Name(name) => (None, Some(name.clone())),
        };
        Self {
            id,
            name,
            version: lt.version().map(ToString::to_string),
        }
    }
}

impl UpdateCall {
    pub fn new(request: &UpdateRequest, target: &Target) -> Self {
        Self {
            cluster_name: request.cluster().to_string(),
            nodegroup_name: request.nodegroup().to_string(),
            version: target.version.map(|v| v.to_string()),
            release_version: target.release_version.as_ref().map(|r| r.to_string()),
            launch_template: target
                .launch_template
                .as_ref()
                .map(LaunchTemplateCall::from_request),
            force: target.force,
            client_request_token: target.client_request_token.clone(),
        }
    }
}

/// Why a request cannot go on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The live state forbids the target (`PreconditionFailed`), with what to do.
    Precondition(String),
    /// Something else is being changed right now (`UpdateInProgress`): retry later.
    Busy(String),
    /// `minReleaseAgeDays` is set and the latest release could not be read: the caller
    /// reports the read's own failure (`AccessDenied`, `Throttled`, `ServiceError`).
    SoakGateBlind(String),
}

/// The target minor *T* (DESIGN step 3).
pub fn target_minor(
    request: &UpdateRequest,
    nodegroup: &NodegroupState,
    cluster: &ClusterState,
) -> MinorVersion {
    match request.version() {
        VersionRequest::Explicit(v) => v,
        VersionRequest::Cluster => cluster.version,
        VersionRequest::Current => nodegroup.version,
    }
}

/// Whether step 6 needs the latest release from SSM: no release requested, and a node
/// group that can be updated now. `Some(None)` when it is needed but the AMI type publishes
/// none; `Some(Some(parameter))` names the parameter to read.
pub fn latest_release_lookup(
    request: &UpdateRequest,
    nodegroup: &NodegroupState,
    target_minor: MinorVersion,
) -> Option<Option<String>> {
    let updatable = matches!(nodegroup.status.as_str(), "ACTIVE" | "DEGRADED");
    if request.release_version().is_some() || !updatable {
        return None;
    }
    let ami_type = nodegroup.ami_type.as_deref().unwrap_or("");
    Some(crate::ami::latest_release_parameter(ami_type, target_minor))
}

/// Decides what to do, or why the request cannot go on. `latest` is what SSM said of the
/// newest release (step 6); `now` is the time its age is measured at.
pub fn plan(
    request: &UpdateRequest,
    event_id: &str,
    nodegroup: &NodegroupState,
    cluster: &ClusterState,
    latest: &LatestRelease,
    now: SystemTime,
) -> Result<Plan, Refusal> {
    let ami_type = nodegroup.ami_type.as_deref().unwrap_or("");
    let family = AmiFamily::of(ami_type);
    let current = nodegroup.version;

    // Step 3: the target minor, always explicit.
    let target_minor = target_minor(request, nodegroup, cluster);

    // Step 4, in DESIGN's order.
    if target_minor > cluster.version {
        return Err(Refusal::Precondition(format!(
            "target version {target_minor} is above the control plane's {}: upgrade the cluster first, or ask for {} or \"cluster\"",
            cluster.version, cluster.version
        )));
    }
    if target_minor < current {
        return Err(Refusal::Precondition(format!(
            "target version {target_minor} is below the node group's {current}: node groups cannot be rolled back; ask for {current} or later"
        )));
    }
    let current_release = nodegroup
        .release_version
        .as_deref()
        .and_then(ReleaseVersion::parse);
    if let (Some(wanted), Some(have)) = (request.release_version(), &current_release) {
        // Only within one minor: across minors the order is the minor's, checked above.
        let same_minor = target_minor == current
            && (!family.release_names_minor() || wanted.minor() == have.minor());
        if same_minor && wanted.compare(have, family.suffix_order()) == Some(Ordering::Less) {
            return Err(Refusal::Precondition(format!(
                "releaseVersion {wanted} is older than the node group's {have}: AMI releases cannot be rolled back; ask for {have} or later, or omit releaseVersion for the latest"
            )));
        }
    }
    if let Some(wanted) = request.release_version()
        && family.release_names_minor()
        && wanted.minor() != target_minor
    {
        return Err(Refusal::Precondition(format!(
            "releaseVersion {wanted} is built for Kubernetes {} but the target version is {target_minor}: ask for a {target_minor} release, or set version to {}",
            wanted.minor(),
            wanted.minor()
        )));
    }
    if family == AmiFamily::Custom
        && (request.version() != VersionRequest::Current || request.release_version().is_some())
    {
        return Err(Refusal::Precondition(
            "the node group uses a custom AMI (amiType CUSTOM): only a new launch template version moves it; drop version and releaseVersion and give launchTemplate.version"
                .to_owned(),
        ));
    }
    if let Some(wanted) = request.launch_template() {
        check_launch_template(wanted, nodegroup).map_err(Refusal::Precondition)?;
    }
    if family == AmiFamily::Al2 && target_minor >= AL2_LAST_MINOR_EXCLUSIVE {
        return Err(Refusal::Precondition(format!(
            "amiType {ami_type} is Amazon Linux 2, which has no AMIs for Kubernetes {AL2_LAST_MINOR_EXCLUSIVE} and later: move the workloads to an AL2023 or Bottlerocket node group first"
        )));
    }
    let updating = match nodegroup.status.as_str() {
        "ACTIVE" | "DEGRADED" => false,
        "UPDATING" => true,
        other => {
            return Err(Refusal::Precondition(format!(
                "the node group's status is {other}; it can be updated only when ACTIVE or DEGRADED: wait for it to settle, or repair it, then retry"
            )));
        }
    };

    // EKS refuses node group updates while the control plane changes; a cluster that is
    // not there to change is no state to update a node group in.
    match cluster.status.as_str() {
        "ACTIVE" | "" => {}
        "UPDATING" => {
            return Err(Refusal::Busy(
                "the cluster's control plane is being updated (status UPDATING), and EKS updates no node group meanwhile; retry with back-off once the cluster is ACTIVE".to_owned(),
            ));
        }
        other => {
            return Err(Refusal::Precondition(format!(
                "the cluster's status is {other}; node groups can be updated only while it is ACTIVE"
            )));
        }
    }

    let version = (family != AmiFamily::Custom).then_some(target_minor);
    let mut target = Target {
        version,
        release_version: request.release_version().cloned(),
        launch_template: request.launch_template().cloned(),
        force: request.force(),
        client_request_token: String::new(),
        latest_release_version: None,
        latest_release_published_at: None,
        latest_release_age_days: None,
    };
    if let LatestRelease::Known { release, published } = latest {
        target.latest_release_version = Some(release.to_string());
        target.latest_release_published_at = published.map(rfc3339);
        target.latest_release_age_days = published.map(|p| age(now, p).as_secs() / DAY.as_secs());
    }

    let decision = if updating {
        // Step 5.
        Decision::FindRunning
    } else {
        // Step 6, then 7 and 8.
        let template_reached = template_reached(&target, nodegroup);
        let at_target = nodegroup.version == target_minor;
        let order = family.suffix_order();
        let up_to_date = match (&target.release_version, latest) {
            (Some(wanted), _) => current_release
                .as_ref()
                .is_some_and(|have| wanted.compare(have, order) == Some(Ordering::Equal)),
            // A custom AMI comes from the launch template: no release to reach.
            (None, _) if family == AmiFamily::Custom => true,
            // At the latest, or past it: SSM can move backwards, a node group never does.
            (None, LatestRelease::Known { release, .. }) => {
                current_release.as_ref().is_some_and(|have| {
                    matches!(
                        have.compare(release, order),
                        Some(Ordering::Equal | Ordering::Greater)
                    )
                })
            }
            // The latest is unknown: EKS picks it.
            (None, _) => false,
        };
        if at_target && up_to_date && template_reached {
            Decision::UpToDate
        } else if let Some(days) = request.min_release_age_days() {
            soak_gate(&mut target, family, latest, days, now)?
        } else {
            Decision::Start
        }
    };
    // Step 7: a dry run stops where the update call would be made.
    let decision = match decision {
        Decision::Start if request.dry_run() => Decision::DryRun,
        other => other,
    };

    target.client_request_token = match request.client_request_token() {
        Some(token) => token.as_str().to_owned(),
        None => derive_token(
            event_id,
            request.cluster().as_str(),
            request.nodegroup().as_str(),
            TokenTarget {
                version: target.version.map(|v| v.to_string()),
                release_version: target.release_version.as_ref().map(ReleaseVersion::as_str),
                launch_template: target
                    .launch_template
                    .as_ref()
                    .map(|lt| match lt.selector() {
                        TemplateSelector::Id(id) => format!("id:{id}"),
                        TemplateSelector::Name(name) => format!("name:{name}"),
                    }),
                launch_template_version: target
                    .launch_template
                    .as_ref()
                    .and_then(|lt| lt.version())
                    .map(ToString::to_string),
                force: target.force,
            },
        ),
    };
    Ok(Plan { target, decision })
}

const DAY: Duration = Duration::from_secs(24 * 60 * 60);

fn age(now: SystemTime, published: SystemTime) -> Duration {
    now.duration_since(published).unwrap_or(Duration::ZERO)
}

fn rfc3339(time: SystemTime) -> String {
    DateTime::from(time)
        .fmt(Format::DateTime)
        .unwrap_or_default()
}

/// Step 6 with `minReleaseAgeDays`: hold back a release younger than that, or send the
/// soaked one explicitly so EKS cannot pick a newer, unsoaked one. A gate that cannot see
/// the release's age lets nothing through.
fn soak_gate(
    target: &mut Target,
    family: AmiFamily,
    latest: &LatestRelease,
    days: u16,
    now: SystemTime,
) -> Result<Decision, Refusal> {
    if target.release_version.is_some() {
        // An explicit release was vetted by whoever named it; its age is not published.
        return Ok(Decision::Start);
    }
    if family == AmiFamily::Custom {
        return Err(Refusal::Precondition(
            "minReleaseAgeDays gates EKS-published AMI releases, and a custom-AMI node group has none: drop minReleaseAgeDays".to_owned(),
        ));
    }
    match latest {
        LatestRelease::Known { release, published } => {
            let Some(published) = published else {
                return Err(Refusal::SoakGateBlind(format!(
                    "the latest release {release} has no publication date, so minReleaseAgeDays cannot be checked; retry later or give releaseVersion"
                )));
            };
            let required = DAY * u32::from(days);
            if age(now, *published) < required {
                Ok(Decision::Deferred)
            } else {
                target.release_version = Some(release.clone());
                Ok(Decision::Start)
            }
        }
        LatestRelease::Unpublished { parameter } => Err(Refusal::Precondition(match parameter {
            Some(parameter) => format!(
                "minReleaseAgeDays needs the latest release's age, but nothing is published at {parameter}: give releaseVersion, or drop minReleaseAgeDays"
            ),
            None => "minReleaseAgeDays needs the latest release's age, and this AMI type publishes no release parameter (Windows): give releaseVersion, or drop minReleaseAgeDays".to_owned(),
        })),
        LatestRelease::Unreadable { parameter } => Err(Refusal::SoakGateBlind(format!(
            "minReleaseAgeDays is set but the latest release could not be read from {parameter}"
        ))),
        LatestRelease::NotNeeded => Err(Refusal::SoakGateBlind(
            "minReleaseAgeDays is set but the latest release was not looked up".to_owned(),
        )),
    }
}

fn check_launch_template(
    wanted: &LaunchTemplateRequest,
    nodegroup: &NodegroupState,
) -> Result<(), String> {
    let Some(have) = &nodegroup.launch_template else {
        return Err(
            "the node group was created without a launch template, so an update cannot use one: drop launchTemplate"
                .to_owned(),
        );
    };
    let describe = || match (&have.id, &have.name) {
        (Some(id), Some(name)) => format!("{name} ({id})"),
        (Some(id), None) => id.clone(),
        (None, Some(name)) => name.clone(),
        (None, None) => "unknown".to_owned(),
    };
    let mismatch = match wanted.selector() {
        TemplateSelector::Id(id) => have.id.as_ref().is_some_and(|have| have != id),
        TemplateSelector::Name(name) => have.name.as_ref().is_some_and(|have| have != name),
    };
    if mismatch {
        let named = match wanted.selector() {
            TemplateSelector::Id(id) => format!("id {id}"),
            TemplateSelector::Name(name) => format!("name {name}"),
        };
        return Err(format!(
            "launchTemplate {named} is not the node group's launch template {}: an update must use the template the node group was created with; give only a new version of it",
            describe()
        ));
    }
    Ok(())
}

/// Whether the node group already runs the requested launch template version (or none
/// was requested).
fn template_reached(target: &Target, nodegroup: &NodegroupState) -> bool {
    match target.launch_template.as_ref().and_then(|lt| lt.version()) {
        None => true,
        // `$Latest` and `$Default` name a number only EC2 knows; never assume it is the
        // one the node group runs.
        Some(TemplateVersion::Latest | TemplateVersion::Default) => false,
        Some(TemplateVersion::Number(n)) => {
            nodegroup
                .launch_template
                .as_ref()
                .and_then(|lt| lt.version.as_deref())
                == Some(n.to_string().as_str())
        }
    }
}

/// Step 5: whether a running update is the one this request asks for. `Err` says how it
/// differs, for the `UpdateInProgress` message.
pub fn match_running(target: &Target, update: &UpdateView) -> Result<(), String> {
    if update.kind != "VersionUpdate" {
        return Err(format!(
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
    if differences.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "another version update ({}) is running on the node group, to {}",
            update.id,
            differences.join(", ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::LaunchTemplateState;
    use serde_json::{Value, json};

    fn request(fields: Value) -> UpdateRequest {
        let mut object = json!({"clusterName": "prod", "nodegroupName": "workers"});
        for (k, v) in fields.as_object().unwrap() {
            object[k] = v.clone();
        }
        UpdateRequest::from_json(object.as_object().unwrap()).unwrap()
    }

    fn v(text: &str) -> MinorVersion {
        MinorVersion::parse(text).unwrap()
    }

    fn nodegroup(version: &str, release: &str, ami_type: &str, status: &str) -> NodegroupState {
        NodegroupState {
            version: v(version),
            release_version: Some(release.to_owned()),
            ami_type: Some(ami_type.to_owned()),
            status: status.to_owned(),
            launch_template: None,
        }
    }

    fn al2023(version: &str, release: &str) -> NodegroupState {
        nodegroup(version, release, "AL2023_x86_64_STANDARD", "ACTIVE")
    }

    fn with_template(mut ng: NodegroupState, version: &str) -> NodegroupState {
        ng.launch_template = Some(LaunchTemplateState {
            id: Some("lt-0123456789abcdef0".into()),
            name: Some("workers-lt".into()),
            version: Some(version.into()),
        });
        ng
    }

    fn cluster(version: &str) -> ClusterState {
        ClusterState {
            version: v(version),
            status: "ACTIVE".to_owned(),
        }
    }

    fn decide(req: Value, ng: &NodegroupState, cp: &str) -> Result<Plan, Refusal> {
        decide_with(req, ng, cp, &LatestRelease::NotNeeded)
    }

    fn decide_with(
        req: Value,
        ng: &NodegroupState,
        cp: &str,
        latest: &LatestRelease,
    ) -> Result<Plan, Refusal> {
        plan(&request(req), "event-1", ng, &cluster(cp), latest, now())
    }

    /// A fixed "now" for release ages: 2026-11-24T00:00:00Z.
    fn now() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_478_400)
    }

    fn days_ago(days: u64) -> SystemTime {
        now() - DAY * u32::try_from(days).unwrap()
    }

    fn known(release: &str, published_days_ago: u64) -> LatestRelease {
        LatestRelease::Known {
            release: ReleaseVersion::parse(release).unwrap(),
            published: Some(days_ago(published_days_ago)),
        }
    }

    /// Asserts a refusal whose message contains `needle`.
    fn refused(req: Value, ng: &NodegroupState, cp: &str, needle: &str) {
        match decide(req.clone(), ng, cp) {
            Err(Refusal::Precondition(message)) => assert!(
                message.contains(needle),
                "{req}: {message:?} lacks {needle:?}"
            ),
            other => panic!("{req} should be refused, got {other:?}"),
        }
    }

    fn decision(req: Value, ng: &NodegroupState, cp: &str) -> Decision {
        decide(req.clone(), ng, cp)
            .unwrap_or_else(|e| panic!("{req} refused: {e:?}"))
            .decision
    }

    #[test]
    fn resolves_the_target_minor() {
        let ng = al2023("1.30", "1.30.4-20241109");
        let cases = [
            (json!({}), "1.30"),
            (json!({"version": "cluster"}), "1.31"),
            (json!({"version": "1.31"}), "1.31"),
            (json!({"version": "1.30"}), "1.30"),
        ];
        for (req, expected) in cases {
            let plan = decide(req.clone(), &ng, "1.31").unwrap();
            assert_eq!(plan.target.version, Some(v(expected)), "{req}");
        }
    }

    #[test]
    fn rejects_target_above_the_control_plane() {
        refused(
            json!({"version": "1.32"}),
            &al2023("1.30", "1.30.4-20241109"),
            "1.31",
            "upgrade the cluster first",
        );
    }

    #[test]
    fn rejects_rollback_below_current_minor() {
        refused(
            json!({"version": "1.29"}),
            &al2023("1.30", "1.30.4-20241109"),
            "1.31",
            "cannot be rolled back",
        );
        // "cluster" can point below the node group only if the cluster is behind it.
        refused(
            json!({"version": "cluster"}),
            &al2023("1.31", "1.31.2-20241115"),
            "1.30",
            "cannot be rolled back",
        );
    }

    #[test]
    fn versions_compare_numerically_not_as_text() {
        let ng = al2023("1.9", "1.9.0-20200101");
        assert_eq!(
            decision(json!({"version": "1.10"}), &ng, "1.10"),
            Decision::Start
        );
        refused(
            json!({"version": "1.9"}),
            &al2023("1.10", "1.10.0-20200101"),
            "1.10",
            "rolled back",
        );
    }

    #[test]
    fn rejects_release_older_than_the_node_groups() {
        let cases = [
            (al2023("1.31", "1.31.2-20241115"), "1.31.2-20241101"),
            (al2023("1.31", "1.31.3-20241101"), "1.31.2-20241201"),
            (
                nodegroup(
                    "1.31",
                    "1.31-2024.11.12",
                    "WINDOWS_CORE_2022_x86_64",
                    "ACTIVE",
                ),
                "1.31-2024.10.8",
            ),
            (
                nodegroup("1.31", "1.26.1-943d9a41", "BOTTLEROCKET_x86_64", "ACTIVE"),
                "1.25.0-aaaaaaaa",
            ),
        ];
        for (ng, release) in cases {
            refused(
                json!({"releaseVersion": release}),
                &ng,
                "1.31",
                "older than the node group's",
            );
        }
    }

    #[test]
    fn release_of_another_format_or_minor_is_not_a_rollback() {
        // Moving to the next minor: the new minor's releases are not compared to the old one's.
        let ng = al2023("1.30", "1.30.9-20250101");
        assert_eq!(
            decision(
                json!({"version": "1.31", "releaseVersion": "1.31.1-20241001"}),
                &ng,
                "1.31"
            ),
            Decision::Start
        );
        // Bottlerocket commits with equal numbers cannot be ordered: let EKS judge.
        let br = nodegroup("1.31", "1.26.1-943d9a41", "BOTTLEROCKET_x86_64", "ACTIVE");
        assert_eq!(
            decision(json!({"releaseVersion": "1.26.1-00000000"}), &br, "1.31"),
            Decision::Start
        );
    }

    #[test]
    fn rejects_release_whose_minor_differs_from_the_target() {
        let cases = [
            (
                "AL2023_x86_64_STANDARD",
                "1.30.4-20241109",
                json!({"version": "1.31", "releaseVersion": "1.30.9-20250101"}),
            ),
            (
                "AL2_x86_64",
                "1.30.4-20241109",
                json!({"releaseVersion": "1.31.2-20241115"}),
            ),
            (
                "WINDOWS_FULL_2022_x86_64",
                "1.30-2024.11.12",
                json!({"releaseVersion": "1.31-2024.11.12"}),
            ),
        ];
        for (ami, release, req) in cases {
            let ng = nodegroup("1.30", release, ami, "ACTIVE");
            refused(req, &ng, "1.31", "is built for Kubernetes");
        }
    }

    #[test]
    fn bottlerocket_release_numbers_are_not_a_kubernetes_minor() {
        let ng = nodegroup("1.30", "1.26.1-943d9a41", "BOTTLEROCKET_ARM_64", "ACTIVE");
        assert_eq!(
            decision(
                json!({"version": "1.31", "releaseVersion": "1.27.0-abcdef12"}),
                &ng,
                "1.31"
            ),
            Decision::Start
        );
    }

    #[test]
    fn rejects_version_or_release_for_custom_ami() {
        let ng = with_template(nodegroup("1.30", "", "CUSTOM", "ACTIVE"), "3");
        for req in [
            json!({"version": "1.30"}),
            json!({"version": "cluster"}),
            json!({"releaseVersion": "1.30.4-20241109"}),
        ] {
            refused(req, &ng, "1.30", "custom AMI");
        }
    }

    #[test]
    fn custom_ami_moves_by_launch_template_version_only_and_sends_no_version() {
        let ng = with_template(nodegroup("1.30", "", "CUSTOM", "ACTIVE"), "3");
        let plan = decide(
            json!({"launchTemplate": {"name": "workers-lt", "version": "4"}}),
            &ng,
            "1.31",
        )
        .unwrap();
        assert_eq!(plan.decision, Decision::Start);
        assert_eq!(plan.target.version, None);
        let call = UpdateCall::new(&request(json!({})), &plan.target);
        assert_eq!(call.version, None);
        assert_eq!(
            decision(
                json!({"launchTemplate": {"name": "workers-lt", "version": "3"}}),
                &ng,
                "1.31"
            ),
            Decision::UpToDate
        );
        assert_eq!(decision(json!({}), &ng, "1.31"), Decision::UpToDate);
    }

    #[test]
    fn rejects_launch_template_the_node_group_was_not_created_with() {
        let plain = al2023("1.31", "1.31.2-20241115");
        refused(
            json!({"launchTemplate": {"id": "lt-0123456789abcdef0"}}),
            &plain,
            "1.31",
            "created without a launch template",
        );
        let ng = with_template(al2023("1.31", "1.31.2-20241115"), "1");
        refused(
            json!({"launchTemplate": {"id": "lt-0fffffffffffffff0", "version": "2"}}),
            &ng,
            "1.31",
            "not the node group's launch template workers-lt (lt-0123456789abcdef0)",
        );
        refused(
            json!({"launchTemplate": {"name": "other", "version": "2"}}),
            &ng,
            "1.31",
            "not the node group's launch template",
        );
        for lt in [
            json!({"id": "lt-0123456789abcdef0", "version": "2"}),
            json!({"name": "workers-lt", "version": "2"}),
        ] {
            assert_eq!(
                decision(json!({"launchTemplate": lt}), &ng, "1.31"),
                Decision::Start
            );
        }
    }

    #[test]
    fn rejects_al2_at_or_above_1_33() {
        let ng = nodegroup("1.32", "1.32.1-20250101", "AL2_x86_64", "ACTIVE");
        refused(json!({"version": "1.33"}), &ng, "1.33", "Amazon Linux 2");
        refused(
            json!({"version": "1.34"}),
            &nodegroup("1.33", "", "AL2_ARM_64", "ACTIVE"),
            "1.34",
            "Amazon Linux 2",
        );
        assert_eq!(
            decision(json!({"version": "1.32"}), &ng, "1.33"),
            Decision::Start
        );
        // AL2023 is fine there.
        assert_eq!(
            decision(
                json!({"version": "1.33"}),
                &al2023("1.32", "1.32.1-20250101"),
                "1.33"
            ),
            Decision::Start
        );
    }

    #[test]
    fn rejects_node_groups_that_are_not_active_degraded_or_updating() {
        for status in ["CREATING", "DELETING", "CREATE_FAILED", "DELETE_FAILED"] {
            let ng = nodegroup("1.30", "1.30.4-20241109", "AL2023_x86_64_STANDARD", status);
            refused(json!({"version": "1.31"}), &ng, "1.31", status);
        }
        let degraded = nodegroup(
            "1.30",
            "1.30.4-20241109",
            "AL2023_x86_64_STANDARD",
            "DEGRADED",
        );
        assert_eq!(
            decision(json!({"version": "1.31"}), &degraded, "1.31"),
            Decision::Start
        );
    }

    #[test]
    fn updating_node_group_goes_to_find_the_running_update() {
        let ng = nodegroup(
            "1.30",
            "1.30.4-20241109",
            "AL2023_x86_64_STANDARD",
            "UPDATING",
        );
        assert_eq!(
            decision(json!({"version": "1.31"}), &ng, "1.31"),
            Decision::FindRunning
        );
        assert_eq!(
            decision(json!({"version": "1.31", "dryRun": true}), &ng, "1.31"),
            Decision::FindRunning
        );
        // The checks still come first.
        refused(
            json!({"version": "1.32"}),
            &ng,
            "1.31",
            "above the control plane",
        );
    }

    #[test]
    fn up_to_date_makes_no_update_call() {
        let ng = with_template(al2023("1.31", "1.31.2-20241115"), "5");
        let cases = [
            json!({"version": "1.31", "releaseVersion": "1.31.2-20241115"}),
            json!({"version": "cluster", "releaseVersion": "1.31.2-20241115"}),
            json!({"releaseVersion": "1.31.2-20241115", "launchTemplate": {"name": "workers-lt", "version": "5"}}),
            json!({"releaseVersion": "1.31.2-20241115", "launchTemplate": {"name": "workers-lt"}}),
            json!({"releaseVersion": "1.31.2-20241115", "dryRun": true}),
        ];
        for req in cases {
            assert_eq!(
                decision(req.clone(), &ng, "1.31"),
                Decision::UpToDate,
                "{req}"
            );
        }
    }

    #[test]
    fn not_up_to_date_when_anything_requested_differs() {
        let ng = with_template(al2023("1.31", "1.31.2-20241115"), "5");
        let cases = [
            // No release given: which is the latest is EKS's call.
            json!({}),
            json!({"version": "1.31"}),
            json!({"releaseVersion": "1.31.3-20241201"}),
            json!({"releaseVersion": "1.31.2-20241115", "launchTemplate": {"name": "workers-lt", "version": "6"}}),
            json!({"releaseVersion": "1.31.2-20241115", "launchTemplate": {"name": "workers-lt", "version": "$Latest"}}),
            json!({"releaseVersion": "1.31.2-20241115", "launchTemplate": {"name": "workers-lt", "version": "$Default"}}),
        ];
        for req in cases {
            assert_eq!(decision(req.clone(), &ng, "1.32"), Decision::Start, "{req}");
        }
        assert_eq!(
            decision(json!({"version": "1.32"}), &ng, "1.32"),
            Decision::Start
        );
    }

    #[test]
    fn dry_run_decides_but_changes_nothing() {
        let ng = al2023("1.30", "1.30.4-20241109");
        assert_eq!(
            decision(json!({"version": "1.31", "dryRun": true}), &ng, "1.31"),
            Decision::DryRun
        );
    }

    #[test]
    fn target_carries_request_fields_and_a_token() {
        let ng = with_template(al2023("1.30", "1.30.4-20241109"), "1");
        let plan = decide(
            json!({"version": "cluster", "releaseVersion": "1.31.2-20241115", "force": true,
                   "launchTemplate": {"id": "lt-0123456789abcdef0", "version": "2"}}),
            &ng,
            "1.31",
        )
        .unwrap();
        let call = UpdateCall::new(&request(json!({})), &plan.target);
        assert_eq!(call.version.as_deref(), Some("1.31"));
        assert_eq!(call.release_version.as_deref(), Some("1.31.2-20241115"));
        assert!(call.force);
        assert_eq!(
            call.launch_template,
            Some(LaunchTemplateCall {
                id: Some("lt-0123456789abcdef0".into()),
                name: None,
                version: Some("2".into())
            })
        );
        assert_eq!(call.client_request_token.len(), 64);
    }

    #[test]
    fn given_token_is_used_verbatim() {
        let plan = decide(
            json!({"clientRequestToken": "exec-42"}),
            &al2023("1.30", "1.30.4-20241109"),
            "1.31",
        )
        .unwrap();
        assert_eq!(plan.target.client_request_token, "exec-42");
    }

    #[test]
    fn derived_token_follows_the_event_and_the_resolved_target() {
        let ng = al2023("1.30", "1.30.4-20241109");
        let token = |req: Value, event: &str, cp: &str| {
            plan(
                &request(req),
                event,
                &ng,
                &cluster(cp),
                &LatestRelease::NotNeeded,
                now(),
            )
            .unwrap()
            .target
            .client_request_token
        };
        let a = token(json!({"version": "cluster"}), "e1", "1.31");
        assert_eq!(a, token(json!({"version": "cluster"}), "e1", "1.31"));
        // "cluster" resolves to 1.31 here: the same target as asking for 1.31.
        assert_eq!(a, token(json!({"version": "1.31"}), "e1", "1.31"));
        assert_ne!(a, token(json!({"version": "cluster"}), "e2", "1.31"));
        assert_ne!(a, token(json!({"version": "cluster"}), "e1", "1.30"));
        assert_ne!(
            a,
            token(json!({"version": "1.31", "force": true}), "e1", "1.31")
        );
    }

    fn update(kind: &str, params: &[(&str, &str)]) -> UpdateView {
        UpdateView {
            id: "u-1".into(),
            status: "InProgress".into(),
            kind: kind.into(),
            params: params
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            created_at: None,
            errors: vec![],
        }
    }

    fn target_of(req: Value, ng: &NodegroupState) -> Target {
        decide(req, ng, "1.31").unwrap().target
    }

    #[test]
    fn running_update_matches_the_target() {
        let ng = with_template(
            nodegroup(
                "1.30",
                "1.30.4-20241109",
                "AL2023_x86_64_STANDARD",
                "UPDATING",
            ),
            "1",
        );
        let cases = [
            (
                json!({"version": "1.31"}),
                vec![("Version", "1.31"), ("ReleaseVersion", "1.31.2-20241115")],
            ),
            (
                json!({"version": "1.31", "releaseVersion": "1.31.2-20241115"}),
                vec![("Version", "1.31"), ("ReleaseVersion", "1.31.2-20241115")],
            ),
            (
                json!({"launchTemplate": {"name": "workers-lt", "version": "2"}}),
                vec![
                    ("Version", "1.30"),
                    ("LaunchTemplateName", "workers-lt"),
                    ("LaunchTemplateVersion", "2"),
                ],
            ),
        ];
        for (req, params) in cases {
            assert_eq!(
                match_running(
                    &target_of(req.clone(), &ng),
                    &update("VersionUpdate", &params)
                ),
                Ok(()),
                "{req}"
            );
        }
    }

    #[test]
    fn running_update_that_differs_is_named() {
        let ng = with_template(
            nodegroup(
                "1.30",
                "1.30.4-20241109",
                "AL2023_x86_64_STANDARD",
                "UPDATING",
            ),
            "1",
        );
        let cases = [
            (
                json!({"version": "1.31"}),
                "ConfigUpdate",
                vec![],
                "a ConfigUpdate (u-1) is running",
            ),
            (
                json!({"version": "1.31"}),
                "VersionUpdate",
                vec![("Version", "1.30")],
                "version 1.30 instead of 1.31",
            ),
            (
                json!({"version": "1.31"}),
                "VersionUpdate",
                vec![],
                "version unknown instead of 1.31",
            ),
            (
                json!({"version": "1.31", "releaseVersion": "1.31.2-20241115"}),
                "VersionUpdate",
                vec![("Version", "1.31"), ("ReleaseVersion", "1.31.1-20241001")],
                "releaseVersion 1.31.1-20241001 instead of 1.31.2-20241115",
            ),
            (
                json!({"launchTemplate": {"name": "workers-lt", "version": "3"}}),
                "VersionUpdate",
                vec![("Version", "1.30"), ("LaunchTemplateVersion", "2")],
                "launch template version 2 instead of 3",
            ),
        ];
        for (req, kind, params, needle) in cases {
            let err =
                match_running(&target_of(req.clone(), &ng), &update(kind, &params)).unwrap_err();
            assert!(err.contains(needle), "{req}: {err}");
            assert!(err.contains("u-1"), "{err}");
        }
    }

    #[test]
    fn dry_run_call_is_the_exact_request() {
        let ng = al2023("1.30", "1.30.4-20241109");
        let req = request(json!({"version": "1.31", "clientRequestToken": "t-1", "dryRun": true}));
        let plan = plan(
            &req,
            "e",
            &ng,
            &cluster("1.31"),
            &LatestRelease::NotNeeded,
            now(),
        )
        .unwrap();
        let call = serde_json::to_value(UpdateCall::new(&req, &plan.target)).unwrap();
        assert_eq!(
            call,
            json!({"clusterName": "prod", "nodegroupName": "workers", "version": "1.31", "force": false, "clientRequestToken": "t-1"})
        );
    }

    // ---------------------------------------------------------------- release awareness

    #[test]
    fn at_the_latest_release_is_up_to_date() {
        let ng = al2023("1.31", "1.31.7-20251120");
        let plan = decide_with(json!({}), &ng, "1.31", &known("1.31.7-20251120", 10)).unwrap();
        assert_eq!(plan.decision, Decision::UpToDate);
        assert_eq!(
            plan.target.latest_release_version.as_deref(),
            Some("1.31.7-20251120")
        );
        assert_eq!(plan.target.latest_release_age_days, Some(10));
        assert_eq!(
            plan.target.latest_release_published_at.as_deref(),
            Some("2026-11-14T00:00:00Z")
        );
    }

    #[test]
    fn past_the_latest_release_is_up_to_date_never_backwards() {
        // SSM can move backwards (a release pulled); the node group must not follow it.
        let ng = al2023("1.31", "1.31.8-20251201");
        let plan = decide_with(
            json!({"minReleaseAgeDays": 3}),
            &ng,
            "1.31",
            &known("1.31.7-20251120", 10),
        )
        .unwrap();
        assert_eq!(plan.decision, Decision::UpToDate);
    }

    #[test]
    fn behind_the_latest_release_starts_and_lets_eks_choose_without_a_gate() {
        let ng = al2023("1.31", "1.31.2-20241115");
        let plan = decide_with(json!({}), &ng, "1.31", &known("1.31.7-20251120", 1)).unwrap();
        assert_eq!(plan.decision, Decision::Start);
        assert_eq!(plan.target.release_version, None);
        assert_eq!(
            plan.target.latest_release_version.as_deref(),
            Some("1.31.7-20251120")
        );
    }

    #[test]
    fn a_new_minor_is_never_up_to_date() {
        let ng = al2023("1.30", "1.30.9-20251120");
        let plan = decide_with(
            json!({"version": "1.31"}),
            &ng,
            "1.31",
            &known("1.31.7-20251120", 30),
        )
        .unwrap();
        assert_eq!(plan.decision, Decision::Start);
    }

    #[test]
    fn bottlerocket_at_the_latest_is_up_to_date_and_another_commit_is_not() {
        let ng = nodegroup("1.31", "1.26.1-943d9a41", "BOTTLEROCKET_x86_64", "ACTIVE");
        assert_eq!(
            decide_with(json!({}), &ng, "1.31", &known("1.26.1-943d9a41", 5))
                .unwrap()
                .decision,
            Decision::UpToDate
        );
        assert_eq!(
            decide_with(json!({}), &ng, "1.31", &known("1.26.1-0000abcd", 5))
                .unwrap()
                .decision,
            Decision::Start
        );
        assert_eq!(
            decide_with(json!({}), &ng, "1.31", &known("1.25.0-0000abcd", 5))
                .unwrap()
                .decision,
            Decision::UpToDate
        );
    }

    #[test]
    fn unknown_latest_without_a_gate_goes_on() {
        let ng = al2023("1.31", "1.31.2-20241115");
        for latest in [
            LatestRelease::Unpublished { parameter: None },
            LatestRelease::Unpublished {
                parameter: Some("/aws/service/x".into()),
            },
            LatestRelease::Unreadable {
                parameter: "/aws/service/x".into(),
            },
        ] {
            let plan = decide_with(json!({}), &ng, "1.31", &latest).unwrap();
            assert_eq!(plan.decision, Decision::Start, "{latest:?}");
            assert_eq!(plan.target.latest_release_version, None);
        }
    }

    #[test]
    fn soak_gate_defers_a_release_younger_than_the_minimum() {
        let ng = al2023("1.31", "1.31.2-20241115");
        let plan = decide_with(
            json!({"minReleaseAgeDays": 7}),
            &ng,
            "1.31",
            &known("1.31.7-20251120", 6),
        )
        .unwrap();
        assert_eq!(plan.decision, Decision::Deferred);
        assert_eq!(plan.target.latest_release_age_days, Some(6));
        assert_eq!(plan.target.release_version, None);
        // Just under the minimum is still too young.
        let almost = LatestRelease::Known {
            release: ReleaseVersion::parse("1.31.7-20251120").unwrap(),
            published: Some(now() - DAY * 7 + Duration::from_secs(1)),
        };
        assert_eq!(
            decide_with(json!({"minReleaseAgeDays": 7}), &ng, "1.31", &almost)
                .unwrap()
                .decision,
            Decision::Deferred
        );
    }

    #[test]
    fn soak_gate_sends_a_soaked_release_explicitly() {
        let ng = al2023("1.31", "1.31.2-20241115");
        for days in [7, 30] {
            let plan = decide_with(
                json!({"minReleaseAgeDays": 7}),
                &ng,
                "1.31",
                &known("1.31.7-20251120", days),
            )
            .unwrap();
            assert_eq!(plan.decision, Decision::Start);
            assert_eq!(
                plan.target
                    .release_version
                    .as_ref()
                    .map(ReleaseVersion::as_str),
                Some("1.31.7-20251120")
            );
        }
        let zero = decide_with(
            json!({"minReleaseAgeDays": 0}),
            &ng,
            "1.31",
            &known("1.31.7-20251120", 0),
        )
        .unwrap();
        assert_eq!(zero.decision, Decision::Start);
    }

    #[test]
    fn soak_gate_dry_run_shows_the_release_it_would_send() {
        let ng = al2023("1.31", "1.31.2-20241115");
        let req = request(json!({"minReleaseAgeDays": 7, "dryRun": true}));
        let plan = plan(
            &req,
            "e",
            &ng,
            &cluster("1.31"),
            &known("1.31.7-20251120", 9),
            now(),
        )
        .unwrap();
        assert_eq!(plan.decision, Decision::DryRun);
        assert_eq!(
            UpdateCall::new(&req, &plan.target)
                .release_version
                .as_deref(),
            Some("1.31.7-20251120")
        );
    }

    #[test]
    fn soak_gate_token_is_bound_to_the_release_it_sends() {
        let ng = al2023("1.31", "1.31.2-20241115");
        let a = decide_with(
            json!({"minReleaseAgeDays": 7}),
            &ng,
            "1.31",
            &known("1.31.7-20251120", 9),
        )
        .unwrap();
        let b = decide_with(
            json!({"minReleaseAgeDays": 7}),
            &ng,
            "1.31",
            &known("1.31.8-20251201", 9),
        )
        .unwrap();
        assert_ne!(a.target.client_request_token, b.target.client_request_token);
    }

    #[test]
    fn soak_gate_that_cannot_see_lets_nothing_through() {
        let ng = al2023("1.31", "1.31.2-20241115");
        let gate = json!({"minReleaseAgeDays": 7});
        let blind = [
            LatestRelease::Unreadable {
                parameter: "/aws/service/x".into(),
            },
            LatestRelease::Known {
                release: ReleaseVersion::parse("1.31.7-20251120").unwrap(),
                published: None,
            },
        ];
        for latest in blind {
            assert!(
                matches!(
                    decide_with(gate.clone(), &ng, "1.31", &latest),
                    Err(Refusal::SoakGateBlind(_))
                ),
                "{latest:?}"
            );
        }
        let unpublished = LatestRelease::Unpublished {
            parameter: Some("/aws/service/eks/optimized-ami/1.31/x".into()),
        };
        assert!(
            matches!(decide_with(gate.clone(), &ng, "1.31", &unpublished), Err(Refusal::Precondition(m)) if m.contains("nothing is published"))
        );
        let windows = nodegroup(
            "1.31",
            "1.31-2024.11.12",
            "WINDOWS_CORE_2022_x86_64",
            "ACTIVE",
        );
        assert!(
            matches!(decide_with(gate.clone(), &windows, "1.31", &LatestRelease::Unpublished { parameter: None }), Err(Refusal::Precondition(m)) if m.contains("Windows"))
        );
        let custom = with_template(nodegroup("1.31", "", "CUSTOM", "ACTIVE"), "3");
        let req = json!({"minReleaseAgeDays": 7, "launchTemplate": {"id": "lt-0123456789abcdef0", "version": "4"}});
        assert!(
            matches!(decide_with(req, &custom, "1.31", &LatestRelease::Unpublished { parameter: None }), Err(Refusal::Precondition(m)) if m.contains("custom-AMI"))
        );
    }

    #[test]
    fn soak_gate_leaves_an_explicit_release_alone() {
        let ng = al2023("1.31", "1.31.2-20241115");
        let plan = decide_with(
            json!({"minReleaseAgeDays": 7, "releaseVersion": "1.31.3-20241201"}),
            &ng,
            "1.31",
            &LatestRelease::NotNeeded,
        )
        .unwrap();
        assert_eq!(plan.decision, Decision::Start);
    }

    #[test]
    fn latest_release_is_looked_up_only_when_step_6_needs_it() {
        let minor = v("1.31");
        let active = al2023("1.31", "1.31.2-20241115");
        assert_eq!(
            latest_release_lookup(&request(json!({})), &active, minor),
            Some(Some("/aws/service/eks/optimized-ami/1.31/amazon-linux-2023/x86_64/standard/recommended/release_version".into()))
        );
        assert_eq!(
            latest_release_lookup(
                &request(json!({"releaseVersion": "1.31.3-20241201"})),
                &active,
                minor
            ),
            None
        );
        let updating = nodegroup(
            "1.31",
            "1.31.2-20241115",
            "AL2023_x86_64_STANDARD",
            "UPDATING",
        );
        assert_eq!(
            latest_release_lookup(&request(json!({})), &updating, minor),
            None
        );
        let windows = nodegroup(
            "1.31",
            "1.31-2024.11.12",
            "WINDOWS_FULL_2022_x86_64",
            "DEGRADED",
        );
        assert_eq!(
            latest_release_lookup(&request(json!({})), &windows, minor),
            Some(None)
        );
    }

    #[test]
    fn a_cluster_being_updated_is_busy_and_one_not_active_refuses() {
        let ng = al2023("1.30", "1.30.4-20241109");
        let req = request(json!({"version": "1.31"}));
        let updating = ClusterState {
            version: v("1.31"),
            status: "UPDATING".into(),
        };
        let refusal =
            plan(&req, "e", &ng, &updating, &LatestRelease::NotNeeded, now()).unwrap_err();
        assert!(
            matches!(refusal, Refusal::Busy(m) if m.contains("control plane is being updated"))
        );
        for status in ["CREATING", "DELETING", "FAILED", "PENDING"] {
            let cluster = ClusterState {
                version: v("1.31"),
                status: status.into(),
            };
            let refusal =
                plan(&req, "e", &ng, &cluster, &LatestRelease::NotNeeded, now()).unwrap_err();
            assert!(
                matches!(refusal, Refusal::Precondition(m) if m.contains(status)),
                "{status}"
            );
        }
    }

    #[test]
    fn a_running_update_matches_a_symbolic_launch_template_version() {
        let ng = with_template(nodegroup("1.30", "", "CUSTOM", "UPDATING"), "3");
        for symbolic in ["$Latest", "$Default"] {
            let target = target_of(
                json!({"launchTemplate": {"name": "workers-lt", "version": symbolic}}),
                &ng,
            );
            let running = update(
                "VersionUpdate",
                &[
                    ("LaunchTemplateName", "workers-lt"),
                    ("LaunchTemplateVersion", "4"),
                ],
            );
            assert_eq!(match_running(&target, &running), Ok(()), "{symbolic}");
        }
    }
}
