"""Kubernetes versions, AMI release versions and AMI families.

Pure functions only: the rules EKS applies to ``version`` / ``releaseVersion``
are easier to get right (and to read) when they do not touch any state.
"""

from __future__ import annotations

import re

# "1.31": EKS accepts exactly MAJOR.MINOR for a node group's Kubernetes version.
K8S_VERSION_RE = re.compile(r"^(\d+)\.(\d+)$")

# AL2/AL2023 "1.31.2-20241115", Windows "1.31-2024.11.12",
# Bottlerocket "1.26.1-943d9a41". The part before the dash is a dotted version,
# the part after it a date (AL2, AL2023, Windows) or a commit (Bottlerocket).
RELEASE_VERSION_RE = re.compile(r"^(\d+)\.(\d+)(?:\.(\d+))?-([0-9A-Za-z.]+)$")

# AMI families, from the node group's amiType.
AL2 = "AL2"
AL2023 = "AL2023"
WINDOWS = "WINDOWS"
BOTTLEROCKET = "BOTTLEROCKET"
CUSTOM = "CUSTOM"
UNKNOWN = "UNKNOWN"

# Families whose release version starts with the Kubernetes MAJOR.MINOR it is
# built for. Bottlerocket's starts with the Bottlerocket OS version instead,
# which says nothing about Kubernetes.
FAMILIES_WITH_K8S_MINOR = (AL2, AL2023, WINDOWS)

# First Kubernetes minor for which no AL2 AMI is published.
AL2_LAST_SUPPORTED = (1, 32)


def ami_family(ami_type: str | None) -> str:
    t = ami_type or ""
    if t == "CUSTOM":
        return CUSTOM
    if t.startswith("AL2023_"):
        return AL2023
    if t.startswith("AL2_"):
        return AL2
    if t.startswith("WINDOWS_"):
        return WINDOWS
    if t.startswith("BOTTLEROCKET_"):
        return BOTTLEROCKET
    return UNKNOWN


def parse_k8s_version(value: str) -> tuple[int, int] | None:
    """(major, minor) of "1.31", or None when it is not MAJOR.MINOR."""
    m = K8S_VERSION_RE.match(value or "")
    if not m:
        return None
    return int(m.group(1)), int(m.group(2))


def parse_release(value: str) -> tuple[tuple[int, int, int], str] | None:
    """((major, minor, patch), suffix) of a release version, or None."""
    m = RELEASE_VERSION_RE.match(value or "")
    if not m or len(value) > 64:
        return None
    return (int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)), m.group(4)


def release_minor(value: str) -> tuple[int, int] | None:
    parsed = parse_release(value)
    if parsed is None:
        return None
    (major, minor, _), _ = parsed
    return major, minor


def _date_key(suffix: str) -> tuple[int, ...] | None:
    """A date suffix ("20241115" or "2024.11.12") as comparable numbers.

    None for anything else, such as a Bottlerocket commit id, which has no
    order: two of those are only ever "equal" or "different".
    """
    parts = suffix.split(".")
    if all(p.isdigit() for p in parts):
        return tuple(int(p) for p in parts)
    return None


def release_is_older(candidate: str, current: str) -> bool:
    """True when ``candidate`` is a strictly older release than ``current``.

    Compares numerically, first the dotted version, then the date. Releases
    that cannot be ordered (unparseable, or commit suffixes) are never called
    older: the endpoint only rejects what it can be sure of.
    """
    a, b = parse_release(candidate), parse_release(current)
    if a is None or b is None:
        return False
    (a_num, a_suffix), (b_num, b_suffix) = a, b
    if a_num != b_num:
        return a_num < b_num
    a_date, b_date = _date_key(a_suffix), _date_key(b_suffix)
    if a_date is None or b_date is None:
        return False
    return a_date < b_date


def synthesized_latest_release(family: str, version: str) -> str | None:
    """The "latest" release the endpoint makes up when nothing was seeded.

    Dated 2026-01-01, so a seeded node group (see ``synthesized_seed_release``)
    is always behind it. Bottlerocket versions are not tied to a Kubernetes
    minor, so one fixed value serves every version. CUSTOM has no release.
    """
    if family == CUSTOM:
        return None
    if family == WINDOWS:
        return f"{version}-2026.01.01"
    if family == BOTTLEROCKET:
        return "1.30.0-0a1b2c3d"
    return f"{version}.0-20260101"


def synthesized_seed_release(family: str, version: str) -> str:
    """The release a seeded node group reports when the seed names none."""
    if family == CUSTOM:
        # EKS reports the AMI id as the release of a custom-AMI node group.
        return "ami-0123456789abcdef0"
    if family == WINDOWS:
        return f"{version}-2025.01.01"
    if family == BOTTLEROCKET:
        return "1.29.0-0a1b2c3d"
    return f"{version}.0-20250101"
