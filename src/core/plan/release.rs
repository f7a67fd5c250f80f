//! Step 6: no node churn for nothing, and the soak gate. What is known of the newest AMI
//! release enters here as data ([`LatestRelease`]), the failed read included.

use std::cmp::Ordering;
use std::time::{Duration, SystemTime};

use super::refusal::{Reason, Refusal};
use super::{Decision, Target};
use crate::core::ami::AmiFamily;
use crate::core::error::Error;
use crate::core::live::{NodegroupState, NodegroupStatus, PublishedRelease};
use crate::core::request::{TemplateVersion, UpdateRequest};
use crate::core::version::{MinorVersion, ReleaseVersion};

pub(crate) const DAY: Duration = Duration::from_secs(24 * 60 * 60);

/// Whether step 6 needs the latest release from SSM, and where to read it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReleaseLookup {
    /// The request names its release, or the node group is not in a state where step 6
    /// is reached.
    NotNeeded,
    /// Needed, but the AMI type publishes none (Windows, `CUSTOM`, an unknown type).
    NothingPublished,
    /// Read this public parameter.
    Read(String),
}

/// What is known of the newest AMI release for the node group's AMI type and target minor.
#[derive(Debug)]
pub enum LatestRelease {
    /// Not looked up ([`ReleaseLookup::NotNeeded`]).
    NotNeeded,
    /// The AMI type publishes no release, or nothing is published at its parameter for
    /// this minor.
    Unpublished { parameter: Option<String> },
    /// Read from the public SSM parameter.
    Known(PublishedRelease),
    /// The parameter could not be read: why, for a soak gate that must report it.
    Unreadable { parameter: String, error: Error },
}

impl LatestRelease {
    /// What a lookup found: the parameter's release, or nothing published there.
    pub fn found(parameter: String, found: Option<PublishedRelease>) -> Self {
        match found {
            Some(release) => Self::Known(release),
            None => Self::Unpublished {
                parameter: Some(parameter),
            },
        }
    }
}

/// Whether step 6 needs the latest release, and from which parameter: no release
/// requested, and a node group that can be updated now.
pub fn release_lookup(
    request: &UpdateRequest,
    nodegroup: &NodegroupState,
    target_minor: MinorVersion,
) -> ReleaseLookup {
    let updatable = matches!(
        nodegroup.status,
        NodegroupStatus::Active | NodegroupStatus::Degraded
    );
    if request.release_version().is_some() || !updatable {
        return ReleaseLookup::NotNeeded;
    }
    match nodegroup
        .ami_type
        .as_ref()
        .and_then(|ami| ami.release_parameter(target_minor))
    {
        Some(parameter) => ReleaseLookup::Read(parameter),
        None => ReleaseLookup::NothingPublished,
    }
}

/// Whether the node group already runs what the target asks for: the minor, the release
/// (the one requested, else the latest known) and the launch template version.
pub(super) fn check_up_to_date(
    target: &Target,
    target_minor: MinorVersion,
    nodegroup: &NodegroupState,
    family: AmiFamily,
    latest: &LatestRelease,
) -> bool {
    let current = nodegroup.release_version.as_ref().and_then(|r| r.parsed());
    let order = family.suffix_order();
    let release_reached = match (&target.release_version, latest) {
        (Some(wanted), _) => {
            current.is_some_and(|have| wanted.compare(have, order) == Some(Ordering::Equal))
        }
        // A custom AMI comes from the launch template: no release to reach.
        (None, _) if family == AmiFamily::Custom => true,
        // At the latest, or past it: SSM can move backwards, a node group never does.
        (None, LatestRelease::Known(latest)) => current.is_some_and(|have| {
            matches!(
                have.compare(&latest.release, order),
                Some(Ordering::Equal | Ordering::Greater)
            )
        }),
        // The latest is unknown: EKS picks it.
        (None, _) => false,
    };
    nodegroup.version == target_minor && release_reached && template_reached(target, nodegroup)
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

/// Step 6 with `minReleaseAgeDays`: hold back a release younger than that, or send the
/// soaked one explicitly so EKS cannot pick a newer, unsoaked one. A gate that cannot see
/// the release's age lets nothing through.
pub(super) fn soak_gate(
    target: &mut Target,
    family: AmiFamily,
    latest: LatestRelease,
    days: u16,
    now: SystemTime,
) -> Result<Decision, Refusal> {
    if target.release_version.is_some() {
        // An explicit release was vetted by whoever named it; its age is not published.
        return Ok(Decision::Start);
    }
    if family == AmiFamily::Custom {
        return Err(Refusal::new(
            Reason::SoakGateCustomAmi,
            "minReleaseAgeDays gates EKS-published AMI releases, and a custom-AMI node group has none: drop minReleaseAgeDays",
        ));
    }
    match latest {
        LatestRelease::Known(PublishedRelease { release, published }) => {
            let Some(published) = published else {
                return Err(Refusal::new(
                    Reason::SoakGateBlind,
                    format!(
                        "the latest release {release} has no publication date, so minReleaseAgeDays cannot be checked; retry later or give releaseVersion"
                    ),
                ));
            };
            if age(now, published) < DAY * u32::from(days) {
                Ok(Decision::Deferred)
            } else {
                target.release_version = Some(release);
                Ok(Decision::Start)
            }
        }
        LatestRelease::Unpublished { parameter } => Err(Refusal::new(
            Reason::SoakGateNothingPublished,
            match parameter {
                Some(parameter) => format!(
                    "minReleaseAgeDays needs the latest release's age, but nothing is published at {parameter}: give releaseVersion, or drop minReleaseAgeDays"
                ),
                None => "minReleaseAgeDays needs the latest release's age, and this AMI type publishes no release parameter (Windows): give releaseVersion, or drop minReleaseAgeDays".to_owned(),
            },
        )),
        LatestRelease::Unreadable { parameter, error } => Err(Refusal::new(
            Reason::SoakGateBlind,
            format!(
                "minReleaseAgeDays is set but the latest release could not be read from {parameter}"
            ),
        )
        .with_read_error(Some(error))),
        LatestRelease::NotNeeded => Err(Refusal::new(
            Reason::SoakGateBlind,
            "minReleaseAgeDays is set but the latest release was not looked up",
        )),
    }
}

pub(super) fn age(now: SystemTime, published: SystemTime) -> Duration {
    now.duration_since(published).unwrap_or(Duration::ZERO)
}

/// The latest release as the target reports it.
pub(super) fn latest_known(latest: &LatestRelease, now: SystemTime) -> Option<LatestKnown> {
    match latest {
        LatestRelease::Known(found) => Some(LatestKnown {
            release: found.release.clone(),
            published: found.published,
            age_days: found
                .published
                .map(|p| age(now, p).as_secs() / DAY.as_secs()),
        }),
        _ => None,
    }
}

/// The newest release SSM names for the AMI type and target, with its age.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LatestKnown {
    pub release: ReleaseVersion,
    /// When it was published, where known.
    pub published: Option<SystemTime>,
    /// Its age in whole days, where known: with `Deferred`, why.
    pub age_days: Option<u64>,
}
