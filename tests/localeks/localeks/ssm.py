"""Public SSM parameters (/aws/service/...) for the "latest AMI release" look-up.

moto's SSM refuses PutParameter under /aws/ (as AWS does: those names are
reserved), so the only way to publish EKS's release parameters locally is to
place them in moto's SSM backend directly, as moto itself does for the AMI
parameters it ships. GetParameter(s) then answer them as usual, with the
LastModifiedDate given here, which the soak gate (minReleaseAgeDays) reads.

They are public, as AWS's are: one parameter per Region, the same in every account. moto keeps
parameters per account (a `ParameterDict` per account and Region), so a published parameter is
kept once per Region here and every account's dict of that Region is given that very version
list (`_share`, run by moto's own lazy-loading hook `_check_loading_status` before each
look-up): a call signed with any account's credentials (an assumed role's included) finds it,
and a new version published later is seen by all at once. Its ARN has no account, as AWS's
public parameters' ARNs (`arn:aws:ssm:us-east-1::parameter/aws/service/...`).
"""

from __future__ import annotations

import datetime
import threading
from typing import Any

from moto.core.utils import utcnow
from moto.ssm.models import Parameter, ParameterDict, ssm_backends

from . import versions as v
from .errors import AdminError


def parameter_name(ami_type: str, version: str) -> str | None:
    """The public parameter naming the latest release for an AMI type and minor.

    None for AMI types that have none (Windows, CUSTOM, unknown).
    """
    family = v.ami_family(ami_type)
    if family == v.AL2023:
        # AL2023_<ARCH>_<FLAVOUR>, ARCH being x86_64 or ARM_64
        arch_part, _, flavour = ami_type[len("AL2023_") :].rpartition("_")
        arch = {"x86_64": "x86_64", "ARM_64": "arm64"}.get(arch_part)
        if arch is None or flavour not in ("STANDARD", "NVIDIA", "NEURON"):
            return None
        image = f"amazon-linux-2023/{arch}/{flavour.lower()}"
        return f"/aws/service/eks/optimized-ami/{version}/{image}/recommended/release_version"
    if family == v.AL2:
        image = {
            "AL2_x86_64": "amazon-linux-2",
            "AL2_x86_64_GPU": "amazon-linux-2-gpu",
            "AL2_ARM_64": "amazon-linux-2-arm64",
        }.get(ami_type)
        return f"/aws/service/eks/optimized-ami/{version}/{image}/recommended/release_version" if image else None
    if family == v.BOTTLEROCKET:
        rest = ami_type[len("BOTTLEROCKET_") :]
        if rest.startswith("x86_64"):
            arch, rest = "x86_64", rest[len("x86_64") :]
        elif rest.startswith("ARM_64"):
            arch, rest = "arm64", rest[len("ARM_64") :]
        else:
            return None
        suffix = {"": "", "_NVIDIA": "-nvidia", "_FIPS": "-fips", "_NVIDIA_FIPS": "-nvidia-fips"}.get(rest)
        if suffix is None:
            return None
        return f"/aws/service/bottlerocket/aws-k8s-{version}{suffix}/{arch}/latest/image_version"
    return None


def _when(spec: dict[str, Any]) -> datetime.datetime:
    """A parameter's LastModifiedDate, as moto keeps it (naive UTC)."""
    if "ageDays" in spec:
        age = spec["ageDays"]
        if isinstance(age, bool) or not isinstance(age, (int, float)) or age < 0:
            raise AdminError("ssm parameter: ageDays must be a number >= 0")
        return utcnow() - datetime.timedelta(days=age)
    when = spec.get("lastModifiedDate")
    if when is None:
        return utcnow()
    if isinstance(when, (int, float)) and not isinstance(when, bool):
        return datetime.datetime.fromtimestamp(when, datetime.UTC).replace(tzinfo=None)
    if isinstance(when, str):
        try:
            parsed = datetime.datetime.fromisoformat(when.replace("Z", "+00:00"))
        except ValueError as exc:
            raise AdminError(f"ssm parameter: lastModifiedDate {when!r} is not ISO 8601") from exc
        if parsed.tzinfo is not None:
            parsed = parsed.astimezone(datetime.UTC).replace(tzinfo=None)
        return parsed
    raise AdminError("ssm parameter: lastModifiedDate must be epoch seconds or an ISO 8601 string")


# Published parameters, per Region: name -> its versions (the one list every account shares),
# and a generation number that moves at each change, so an account's dict is brought up to date
# only when something changed.
_PUBLIC: dict[str, dict[str, list[Parameter]]] = {}
_GENERATION = [0]
_PUBLIC_LOCK = threading.RLock()


def _share(params: ParameterDict) -> None:
    """Give this account's dict (of one Region) the Region's published parameters, and drop the
    ones no longer published (a reset)."""
    if getattr(params, "localeks_generation", None) == _GENERATION[0]:
        return
    with _PUBLIC_LOCK:
        published = _PUBLIC.get(params.region_name, {})
        shared: set[str] = getattr(params, "localeks_shared", set())
        for name in shared - published.keys():
            if dict.get(params, name) is not None:
                dict.pop(params, name, None)
        for name, versions in published.items():
            if dict.get(params, name) is not versions:
                dict.__setitem__(params, name, versions)
        params.localeks_shared = set(published)  # type: ignore[attr-defined]
        params.localeks_generation = _GENERATION[0]  # type: ignore[attr-defined]


def _install() -> None:
    original = ParameterDict._check_loading_status
    if getattr(original, "localeks", False):
        return

    def check_loading_status(self: ParameterDict, key: str) -> None:
        original(self, key)
        _share(self)

    check_loading_status.localeks = True  # type: ignore[attr-defined]
    ParameterDict._check_loading_status = check_loading_status  # type: ignore[method-assign]


_install()


class PublicParameters:
    """Public parameters placed in moto's SSM (one per Region, seen by every account), removed by
    a reset."""

    def put(self, account: str, region: str, spec: Any) -> dict[str, Any]:
        """Publish a version of `spec` in `region`. `account` is the seed's: it only chooses the
        account whose backend checks the Region; the parameter is every account's."""
        if (
            not isinstance(spec, dict)
            or not isinstance(spec.get("name"), str)
            or not isinstance(spec.get("value"), str)
        ):
            raise AdminError("ssm parameter: needs string 'name' and 'value'")
        name, value = spec["name"], spec["value"]
        if not name.startswith("/"):
            raise AdminError("ssm parameter: name must be a path starting with /")
        when = _when(spec)
        try:
            ssm_backends[account][region]
        except KeyError as exc:
            raise AdminError(f"ssm parameter: unknown region {region!r}") from exc
        with _PUBLIC_LOCK:
            versions = _PUBLIC.setdefault(region, {}).setdefault(ParameterDict.normalize_name(name), [])
            versions.append(
                Parameter(
                    account_id="",  # a public parameter's ARN names no account
                    name=name,
                    value=value,
                    parameter_type="String",
                    description=None,
                    allowed_pattern=None,
                    keyid=None,
                    last_modified_date=when,
                    version=(versions[-1].version + 1) if versions else 1,
                    data_type="text",
                    tier="Standard",
                )
            )
            _GENERATION[0] += 1
        return {
            "name": name,
            "value": value,
            "lastModifiedDate": when.replace(tzinfo=datetime.UTC).isoformat(),
        }

    def clear(self) -> None:
        """Unpublish every parameter, in every Region (each account's dict drops them at its
        next look-up)."""
        with _PUBLIC_LOCK:
            _PUBLIC.clear()
            _GENERATION[0] += 1
