//! A node group's AMI type and what it tells the checks: which release format it uses,
//! whether that format names a Kubernetes minor, and where its newest release is published.

use std::fmt;

use crate::core::version::{MinorVersion, SuffixOrder};

/// A node group's `amiType`, parsed once where EKS's answer is read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AmiType {
    /// A value of [`RELEASE_SOURCES`] (every value this build's SDK knows).
    Known(&'static str),
    /// A value EKS added after this build: classified by its prefix, no release parameter.
    Unknown(String),
}

impl AmiType {
    pub fn parse(text: &str) -> Self {
        match RELEASE_SOURCES.iter().find(|(name, _)| *name == text) {
            Some((name, _)) => Self::Known(name),
            None => Self::Unknown(text.to_owned()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::Known(name) => name,
            Self::Unknown(text) => text,
        }
    }

    pub fn family(&self) -> AmiFamily {
        AmiFamily::of(self.as_str())
    }

    /// The SSM parameter holding the newest release for this AMI type at a Kubernetes
    /// minor; `None` for AMI types that publish none, and for values this build does not
    /// know.
    pub fn release_parameter(&self, minor: MinorVersion) -> Option<String> {
        match self {
            Self::Known(name) => latest_release_parameter(name, minor),
            Self::Unknown(_) => None,
        }
    }
}

impl fmt::Display for AmiType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

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
    fn of(ami_type: &str) -> Self {
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

/// Where the newest release of an AMI type is published, as a public SSM parameter
/// (ARCHITECTURE.md, "Latest releases"). `<T>` stands for the Kubernetes minor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReleaseSource {
    /// `/aws/service/eks/optimized-ami/<T>/amazon-linux-2023/<arch>/<variant>/recommended/release_version`
    Al2023 {
        arch: &'static str,
        variant: &'static str,
    },
    /// `/aws/service/eks/optimized-ami/<T>/<flavour>/recommended/release_version`
    Al2 { flavour: &'static str },
    /// `/aws/service/bottlerocket/aws-k8s-<T><variant>/<arch>/latest/image_version`
    Bottlerocket {
        variant: &'static str,
        arch: &'static str,
    },
    /// Windows and custom AMIs publish no release parameter.
    None,
}

/// Every AMI type `aws-sdk-eks` knows, with where its newest release is published.
/// A test of the EKS adapter fails when the SDK gains a value this table lacks.
pub const RELEASE_SOURCES: &[(&str, ReleaseSource)] = &[
    (
        "AL2023_x86_64_STANDARD",
        ReleaseSource::Al2023 {
            arch: "x86_64",
            variant: "standard",
        },
    ),
    (
        "AL2023_x86_64_NVIDIA",
        ReleaseSource::Al2023 {
            arch: "x86_64",
            variant: "nvidia",
        },
    ),
    (
        "AL2023_x86_64_NEURON",
        ReleaseSource::Al2023 {
            arch: "x86_64",
            variant: "neuron",
        },
    ),
    (
        "AL2023_ARM_64_STANDARD",
        ReleaseSource::Al2023 {
            arch: "arm64",
            variant: "standard",
        },
    ),
    (
        "AL2023_ARM_64_NVIDIA",
        ReleaseSource::Al2023 {
            arch: "arm64",
            variant: "nvidia",
        },
    ),
    (
        "AL2_x86_64",
        ReleaseSource::Al2 {
            flavour: "amazon-linux-2",
        },
    ),
    (
        "AL2_x86_64_GPU",
        ReleaseSource::Al2 {
            flavour: "amazon-linux-2-gpu",
        },
    ),
    (
        "AL2_ARM_64",
        ReleaseSource::Al2 {
            flavour: "amazon-linux-2-arm64",
        },
    ),
    (
        "BOTTLEROCKET_x86_64",
        ReleaseSource::Bottlerocket {
            variant: "",
            arch: "x86_64",
        },
    ),
    (
        "BOTTLEROCKET_ARM_64",
        ReleaseSource::Bottlerocket {
            variant: "",
            arch: "arm64",
        },
    ),
    (
        "BOTTLEROCKET_x86_64_NVIDIA",
        ReleaseSource::Bottlerocket {
            variant: "-nvidia",
            arch: "x86_64",
        },
    ),
    (
        "BOTTLEROCKET_ARM_64_NVIDIA",
        ReleaseSource::Bottlerocket {
            variant: "-nvidia",
            arch: "arm64",
        },
    ),
    (
        "BOTTLEROCKET_x86_64_FIPS",
        ReleaseSource::Bottlerocket {
            variant: "-fips",
            arch: "x86_64",
        },
    ),
    (
        "BOTTLEROCKET_ARM_64_FIPS",
        ReleaseSource::Bottlerocket {
            variant: "-fips",
            arch: "arm64",
        },
    ),
    (
        "BOTTLEROCKET_x86_64_NVIDIA_FIPS",
        ReleaseSource::Bottlerocket {
            variant: "-nvidia-fips",
            arch: "x86_64",
        },
    ),
    (
        "BOTTLEROCKET_ARM_64_NVIDIA_FIPS",
        ReleaseSource::Bottlerocket {
            variant: "-nvidia-fips",
            arch: "arm64",
        },
    ),
    ("WINDOWS_CORE_2019_x86_64", ReleaseSource::None),
    ("WINDOWS_CORE_2022_x86_64", ReleaseSource::None),
    ("WINDOWS_CORE_2025_x86_64", ReleaseSource::None),
    ("WINDOWS_FULL_2019_x86_64", ReleaseSource::None),
    ("WINDOWS_FULL_2022_x86_64", ReleaseSource::None),
    ("WINDOWS_FULL_2025_x86_64", ReleaseSource::None),
    ("CUSTOM", ReleaseSource::None),
];

fn latest_release_parameter(ami_type: &str, minor: MinorVersion) -> Option<String> {
    let source = RELEASE_SOURCES
        .iter()
        .find(|(name, _)| *name == ami_type)
        .map(|(_, source)| *source)?;
    match source {
        ReleaseSource::Al2023 { arch, variant } => Some(format!(
            "/aws/service/eks/optimized-ami/{minor}/amazon-linux-2023/{arch}/{variant}/recommended/release_version"
        )),
        ReleaseSource::Al2 { flavour } => Some(format!(
            "/aws/service/eks/optimized-ami/{minor}/{flavour}/recommended/release_version"
        )),
        ReleaseSource::Bottlerocket { variant, arch } => Some(format!(
            "/aws/service/bottlerocket/aws-k8s-{minor}{variant}/{arch}/latest/image_version"
        )),
        ReleaseSource::None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn release_table_families_agree_with_the_ami_family() {
        for (name, source) in RELEASE_SOURCES {
            let family = AmiFamily::of(name);
            let agrees = match source {
                ReleaseSource::Al2023 { .. } => family == AmiFamily::Al2023,
                ReleaseSource::Al2 { .. } => family == AmiFamily::Al2,
                ReleaseSource::Bottlerocket { .. } => family == AmiFamily::Bottlerocket,
                ReleaseSource::None => matches!(family, AmiFamily::Windows | AmiFamily::Custom),
            };
            assert!(agrees, "{name} is listed as {source:?}");
        }
    }

    #[test]
    fn release_parameters_by_ami_type() {
        let minor = MinorVersion::new(1, 31);
        let cases = [
            (
                "AL2023_x86_64_STANDARD",
                Some(
                    "/aws/service/eks/optimized-ami/1.31/amazon-linux-2023/x86_64/standard/recommended/release_version",
                ),
            ),
            (
                "AL2023_ARM_64_NVIDIA",
                Some(
                    "/aws/service/eks/optimized-ami/1.31/amazon-linux-2023/arm64/nvidia/recommended/release_version",
                ),
            ),
            (
                "AL2023_x86_64_NEURON",
                Some(
                    "/aws/service/eks/optimized-ami/1.31/amazon-linux-2023/x86_64/neuron/recommended/release_version",
                ),
            ),
            (
                "AL2_x86_64",
                Some(
                    "/aws/service/eks/optimized-ami/1.31/amazon-linux-2/recommended/release_version",
                ),
            ),
            (
                "AL2_x86_64_GPU",
                Some(
                    "/aws/service/eks/optimized-ami/1.31/amazon-linux-2-gpu/recommended/release_version",
                ),
            ),
            (
                "AL2_ARM_64",
                Some(
                    "/aws/service/eks/optimized-ami/1.31/amazon-linux-2-arm64/recommended/release_version",
                ),
            ),
            (
                "BOTTLEROCKET_x86_64",
                Some("/aws/service/bottlerocket/aws-k8s-1.31/x86_64/latest/image_version"),
            ),
            (
                "BOTTLEROCKET_ARM_64_NVIDIA",
                Some("/aws/service/bottlerocket/aws-k8s-1.31-nvidia/arm64/latest/image_version"),
            ),
            (
                "BOTTLEROCKET_x86_64_FIPS",
                Some("/aws/service/bottlerocket/aws-k8s-1.31-fips/x86_64/latest/image_version"),
            ),
            (
                "BOTTLEROCKET_ARM_64_NVIDIA_FIPS",
                Some(
                    "/aws/service/bottlerocket/aws-k8s-1.31-nvidia-fips/arm64/latest/image_version",
                ),
            ),
            ("WINDOWS_FULL_2022_x86_64", None),
            ("CUSTOM", None),
            ("SOMETHING_NEW", None),
        ];
        for (ami_type, parameter) in cases {
            assert_eq!(
                AmiType::parse(ami_type).release_parameter(minor).as_deref(),
                parameter,
                "{ami_type}"
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
            assert_eq!(AmiType::parse(ami_type).family(), family, "{ami_type}");
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
