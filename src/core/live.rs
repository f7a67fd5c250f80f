//! The live state the checks need, in our own types: what the EKS adapter reads and the
//! plan decides on. Statuses and kinds are enums with a variant for values EKS may add
//! later; release versions are parsed where they are read. Nothing here knows the SDK.

use std::collections::BTreeMap;
use std::fmt;
use std::time::SystemTime;

use crate::core::ami::AmiType;
use crate::core::version::{MinorVersion, ReleaseVersion};

/// Declares an enum of the API's status or kind strings, with an `Other` variant for a
/// value this build does not know, `parse` and `as_str`.
macro_rules! api_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq)]
        pub enum $name {
            $($variant,)+
            /// A value this build does not know (or none at all: empty).
            Other(String),
        }

        impl $name {
            pub fn parse(text: &str) -> Self {
                match text {
                    $($text => Self::$variant,)+
                    other => Self::Other(other.to_owned()),
                }
            }

            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $text,)+
                    Self::Other(text) => text,
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

api_enum! {
    /// A node group's `status`.
    NodegroupStatus {
        Creating = "CREATING",
        Active = "ACTIVE",
        Updating = "UPDATING",
        Deleting = "DELETING",
        CreateFailed = "CREATE_FAILED",
        DeleteFailed = "DELETE_FAILED",
        Degraded = "DEGRADED",
    }
}

api_enum! {
    /// A cluster's `status`.
    ClusterStatus {
        Creating = "CREATING",
        Active = "ACTIVE",
        Deleting = "DELETING",
        Failed = "FAILED",
        Updating = "UPDATING",
        Pending = "PENDING",
    }
}

api_enum! {
    /// An update's `status`.
    UpdateStatus {
        InProgress = "InProgress",
        Failed = "Failed",
        Cancelled = "Cancelled",
        Successful = "Successful",
    }
}

api_enum! {
    /// An update's `type`.
    UpdateKind {
        AccessConfigUpdate = "AccessConfigUpdate",
        AddonUpdate = "AddonUpdate",
        AssociateEncryptionConfig = "AssociateEncryptionConfig",
        AssociateIdentityProviderConfig = "AssociateIdentityProviderConfig",
        AutoModeUpdate = "AutoModeUpdate",
        CapabilityUpdate = "CapabilityUpdate",
        CertificateAuthorityUpdate = "CertificateAuthorityUpdate",
        ConfigUpdate = "ConfigUpdate",
        ControlPlaneComponentConfigUpdate = "ControlPlaneComponentConfigUpdate",
        ControlPlaneEgressUpdate = "ControlPlaneEgressUpdate",
        ControlPlaneScalingConfigUpdate = "ControlPlaneScalingConfigUpdate",
        DeletionProtectionUpdate = "DeletionProtectionUpdate",
        DisassociateIdentityProviderConfig = "DisassociateIdentityProviderConfig",
        EndpointAccessUpdate = "EndpointAccessUpdate",
        LoggingUpdate = "LoggingUpdate",
        RemoteNetworkConfigUpdate = "RemoteNetworkConfigUpdate",
        UpgradePolicyUpdate = "UpgradePolicyUpdate",
        VendedLogsUpdate = "VendedLogsUpdate",
        VersionRollback = "VersionRollback",
        VersionUpdate = "VersionUpdate",
        VpcConfigUpdate = "VpcConfigUpdate",
        ZonalShiftConfigUpdate = "ZonalShiftConfigUpdate",
    }
}

/// What a node group's AMI release field held.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CurrentRelease {
    Parsed(ReleaseVersion),
    /// Reported, but not in any release format this build reads.
    Unreadable(String),
}

impl CurrentRelease {
    pub fn parse(text: &str) -> Self {
        match ReleaseVersion::parse(text) {
            Some(release) => Self::Parsed(release),
            None => Self::Unreadable(text.to_owned()),
        }
    }

    pub fn parsed(&self) -> Option<&ReleaseVersion> {
        match self {
            Self::Parsed(release) => Some(release),
            Self::Unreadable(_) => None,
        }
    }
}

/// A managed node group as `DescribeNodegroup` reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodegroupState {
    pub version: MinorVersion,
    pub release_version: Option<CurrentRelease>,
    pub ami_type: Option<AmiType>,
    pub status: NodegroupStatus,
    pub launch_template: Option<LaunchTemplateState>,
    /// Its tags, for fleet selectors that filter by them.
    pub tags: BTreeMap<String, String>,
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
    /// `None` when not reported.
    pub status: Option<ClusterStatus>,
}

/// An EKS update object (`UpdateNodegroupVersion`, `DescribeUpdate`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpdateView {
    pub id: String,
    pub status: UpdateStatus,
    pub kind: UpdateKind,
    /// `(type, value)` pairs as EKS reports them (`Version`, `ReleaseVersion`, ...).
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

/// A release as its public SSM parameter announces it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublishedRelease {
    pub release: ReleaseVersion,
    /// The parameter's `LastModifiedDate`: the release's publication.
    pub published: Option<SystemTime>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values_parse_and_unknown_ones_are_kept() {
        assert_eq!(
            NodegroupStatus::parse("DEGRADED"),
            NodegroupStatus::Degraded
        );
        assert_eq!(
            NodegroupStatus::parse("HIBERNATING"),
            NodegroupStatus::Other("HIBERNATING".into())
        );
        assert_eq!(ClusterStatus::parse("UPDATING"), ClusterStatus::Updating);
        assert_eq!(UpdateStatus::parse("InProgress"), UpdateStatus::InProgress);
        assert_eq!(UpdateKind::parse("ConfigUpdate"), UpdateKind::ConfigUpdate);
        for text in ["ACTIVE", "SOMETHING_NEW", ""] {
            assert_eq!(NodegroupStatus::parse(text).as_str(), text);
            assert_eq!(ClusterStatus::parse(text).to_string(), text);
        }
    }

    #[test]
    fn a_release_that_does_not_parse_is_kept_as_text() {
        assert!(CurrentRelease::parse("1.31.2-20241115").parsed().is_some());
        assert_eq!(
            CurrentRelease::parse("ami-custom"),
            CurrentRelease::Unreadable("ami-custom".into())
        );
    }
}
