//! The live state the checks need, in our own types: what the EKS adapter reads and the
//! planning step decides on. Nothing here knows the SDK.

use std::time::SystemTime;

use crate::version::{MinorVersion, ReleaseVersion};

/// A managed node group as `DescribeNodegroup` reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodegroupState {
    pub version: MinorVersion,
    pub release_version: Option<String>,
    /// The `amiType` string (`AL2023_x86_64_STANDARD`, `CUSTOM`, ...), when reported.
    pub ami_type: Option<String>,
    /// `ACTIVE`, `UPDATING`, `DEGRADED`, `CREATING`, ...
    pub status: String,
    pub launch_template: Option<LaunchTemplateState>,
}

/// The launch template a node group was created with.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LaunchTemplateState {
    pub id: Option<String>,
    pub name: Option<String>,
    pub version: Option<String>,
}

/// The cluster as `DescribeCluster` reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterState {
    pub version: MinorVersion,
    /// `ACTIVE`, `UPDATING`, `CREATING`, ... (empty when not reported).
    pub status: String,
}

/// An EKS update object (`UpdateNodegroupVersion`, `DescribeUpdate`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpdateView {
    pub id: String,
    /// `InProgress`, `Successful`, `Failed`, `Cancelled`.
    pub status: String,
    /// `VersionUpdate`, `ConfigUpdate`, ...
    pub kind: String,
    pub params: Vec<(String, String)>,
    /// RFC 3339, UTC.
    pub created_at: Option<String>,
    pub errors: Vec<UpdateErrorView>,
}

impl UpdateView {
    /// The value of the first parameter of that type.
    pub fn param(&self, kind: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == kind)
            .map(|(_, v)| v.as_str())
    }
}

/// One item of an update's `errors`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpdateErrorView {
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub resource_ids: Vec<String>,
}

/// What is known of the newest AMI release for the node group's AMI type and target minor
/// (DESIGN step 6).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LatestRelease {
    /// Not looked up: the request names its release, or the node group is not in a state
    /// where step 6 is reached.
    NotNeeded,
    /// The AMI type publishes no release (Windows, `CUSTOM`, an unknown type), or nothing is
    /// published at its parameter for this minor.
    Unpublished { parameter: Option<String> },
    /// Read from the public SSM parameter.
    Known {
        release: ReleaseVersion,
        /// When the parameter was last written: the release's publication.
        published: Option<SystemTime>,
    },
    /// The parameter could not be read (access denied, throttled, timed out, unusable).
    Unreadable { parameter: String },
}
