//! What a node group's AMI type tells the checks: which release format it uses and
//! whether that format names a Kubernetes minor.

use crate::version::SuffixOrder;

/// The operating system family behind an EKS `amiType` value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AmiFamily {
    /// `AL2_*`: Amazon Linux 2, no AMIs from Kubernetes 1.33 on.
    Al2,
    /// `AL2023_*`.
    Al2023,
    /// `BOTTLEROCKET_*`: releases carry the OS version and a commit.
    Bottlerocket,
    /// `WINDOWS_*`.
    Windows,
    /// `CUSTOM`: the AMI comes from the launch template.
    Custom,
    /// A value this build does not know (the SDK may gain new ones).
    Unknown,
}

impl AmiFamily {
    /// Classifies an `amiType` string as EKS reports it.
    pub fn of(ami_type: &str) -> Self {
        // AL2023 first: "AL2_" is not a prefix of "AL2023_", but keep the longer
        // prefix first so that stays true whatever is added.
        if ami_type.starts_with("AL2023_") {
            Self::Al2023
        } else if ami_type.starts_with("AL2_") {
            Self::Al2
        } else if ami_type.starts_with("BOTTLEROCKET_") {
            Self::Bottlerocket
        } else if ami_type.starts_with("WINDOWS_") {
            Self::Windows
        } else if ami_type == "CUSTOM" {
            Self::Custom
        } else {
            Self::Unknown
        }
    }

    /// Whether the first two numbers of a release version are the Kubernetes minor.
    pub fn release_names_minor(self) -> bool {
        matches!(self, Self::Al2 | Self::Al2023 | Self::Windows)
    }

    /// How the suffix of this family's release versions orders.
    pub fn suffix_order(self) -> SuffixOrder {
        match self {
            Self::Bottlerocket => SuffixOrder::Commit,
            _ => SuffixOrder::Date,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_eks::types::AmiTypes;

    #[test]
    fn every_sdk_ami_type_has_a_known_family() {
        for value in AmiTypes::values() {
            assert_ne!(
                AmiFamily::of(value),
                AmiFamily::Unknown,
                "{value} is not classified: add it to AmiFamily::of"
            );
        }
    }

    #[test]
    fn families_by_prefix() {
        let cases = [
            ("AL2_x86_64", AmiFamily::Al2),
            ("AL2_x86_64_GPU", AmiFamily::Al2),
            ("AL2_ARM_64", AmiFamily::Al2),
            ("AL2023_x86_64_STANDARD", AmiFamily::Al2023),
            ("AL2023_ARM_64_NVIDIA", AmiFamily::Al2023),
            ("BOTTLEROCKET_x86_64_NVIDIA_FIPS", AmiFamily::Bottlerocket),
            ("WINDOWS_CORE_2022_x86_64", AmiFamily::Windows),
            ("CUSTOM", AmiFamily::Custom),
            ("FUTURE_OS", AmiFamily::Unknown),
            ("", AmiFamily::Unknown),
        ];
        for (ami_type, family) in cases {
            assert_eq!(AmiFamily::of(ami_type), family, "{ami_type}");
        }
    }

    #[test]
    fn only_linux_and_windows_releases_name_the_minor() {
        assert!(AmiFamily::Al2.release_names_minor());
        assert!(AmiFamily::Al2023.release_names_minor());
        assert!(AmiFamily::Windows.release_names_minor());
        assert!(!AmiFamily::Bottlerocket.release_names_minor());
        assert!(!AmiFamily::Custom.release_names_minor());
        assert!(!AmiFamily::Unknown.release_names_minor());
    }
}
