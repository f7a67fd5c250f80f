"""Typed request shapes: each body and query the endpoint's own handlers take, parsed once.

A handler in updates.py, seeding.py or store.py calls ``parse`` on what it was sent, at its
edge (after finding the cluster and node group its path names, so an unknown one is still a
404 first), and works on these from then on; nothing past that point re-checks a field.
The checks and their messages are EKS's (``EksError``) for the EKS calls and the admin API's
(``AdminError``) for /_localeks/.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from . import versions as v
from .errors import AdminError, EksError, invalid_parameter
from .model import MAX_LATENCY_MS, MAX_PAGE_SIZE, OUTCOMES, SUCCESSFUL, default_account_id

# ------------------------------------------------------------------ EKS calls


def fingerprint(version: Any, release: Any, lt_key: tuple | None, force: bool) -> tuple:
    """The parameters that make two requests "the same" for a client token.

    Taken as sent: an omitted field differs from one set to the value it
    would default to, as the request is different.
    """
    return (version, release, lt_key, force)


def launch_template_key(lt: Any) -> tuple | None:
    """A launch template as `fingerprint` compares it (an empty one is none)."""
    lt = lt or None
    return None if lt is None else (lt.get("id"), lt.get("name"), lt.get("version"))


@dataclass(frozen=True)
class LaunchTemplateRef:
    """``launchTemplate`` of UpdateNodegroupVersion: by id or by name, and a version."""

    id: str | None = None
    name: str | None = None
    version: str | None = None

    def key(self) -> tuple | None:
        if self.id is None and self.name is None and self.version is None:
            return None
        return (self.id, self.name, self.version)


@dataclass(frozen=True)
class UpdateNodegroupVersion:
    """The body of UpdateNodegroupVersion, type-checked (what EKS's own parser does)."""

    version: str | None
    release_version: str | None
    client_request_token: str | None
    launch_template: LaunchTemplateRef | None
    force: bool

    @property
    def fingerprint(self) -> tuple:
        lt_key = self.launch_template.key() if self.launch_template is not None else None
        return fingerprint(self.version, self.release_version, lt_key, self.force)

    @classmethod
    def parse(cls, body: Any, cluster: str, ng: str) -> UpdateNodegroupVersion:
        def bad(message: str) -> EksError:
            return invalid_parameter(message, cluster, ng)

        if body is None:
            body = {}
        if not isinstance(body, dict):
            raise bad("The request body must be a JSON object.")
        fields: dict[str, str | None] = {}
        for key in ("version", "releaseVersion", "clientRequestToken"):
            value = body.get(key)
            if value is not None and not isinstance(value, str):
                raise bad(f"{key} must be a string.")
            fields[key] = value
        force = body.get("force")
        if force is not None and not isinstance(force, bool):
            raise bad("force must be a boolean.")
        lt = body.get("launchTemplate")
        lt_ref = None
        if lt is not None:
            if not isinstance(lt, dict):
                raise bad("launchTemplate must be an object.")
            for key in ("id", "name", "version"):
                if lt.get(key) is not None and not isinstance(lt[key], str):
                    raise bad(f"launchTemplate.{key} must be a string.")
            lt_ref = LaunchTemplateRef(lt.get("id"), lt.get("name"), lt.get("version"))
        token = fields["clientRequestToken"]
        if token is not None and not 1 <= len(token) <= 128:
            raise bad("clientRequestToken must be 1 to 128 characters.")
        return cls(fields["version"], fields["releaseVersion"], token, lt_ref, bool(force))


@dataclass(frozen=True)
class UpdatesQuery:
    """The query of DescribeUpdate and ListUpdates: whose updates, and which page."""

    nodegroup: str | None = None
    addon: str | None = None
    max_results: str | None = None
    next_token: str | None = None

    @classmethod
    def parse(cls, query: dict[str, str]) -> UpdatesQuery:
        return cls(query.get("nodegroupName"), query.get("addonName"), query.get("maxResults"), query.get("nextToken"))

    def page_limit(self, cluster: str) -> int:
        """maxResults as a number (checked once the cluster and node group are known to exist)."""
        if self.max_results is None:
            return MAX_PAGE_SIZE
        if not self.max_results.isdigit() or not 1 <= int(self.max_results) <= MAX_PAGE_SIZE:
            raise invalid_parameter(f"maxResults must be between 1 and {MAX_PAGE_SIZE}.", cluster, self.nodegroup)
        return int(self.max_results)


@dataclass(frozen=True)
class PageQuery:
    """The query of ListClusters and ListNodegroups: which page."""

    max_results: str | None = None
    next_token: str | None = None

    @classmethod
    def parse(cls, query: dict[str, str]) -> PageQuery:
        return cls(query.get("maxResults"), query.get("nextToken"))

    def page_limit(self, cluster: str | None) -> int:
        """maxResults as a number, 100 when not given; outside 1-100 EKS refuses it."""
        if self.max_results is None:
            return MAX_PAGE_SIZE
        if not self.max_results.isdigit() or not 1 <= int(self.max_results) <= MAX_PAGE_SIZE:
            raise invalid_parameter(f"maxResults must be between 1 and {MAX_PAGE_SIZE}.", cluster)
        return int(self.max_results)


# ------------------------------------------------------------------ admin API


def int_in(value: Any, what: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise AdminError(f"{what} must be an integer from {low} to {high}")
    return value


def str_map(value: Any, what: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(x, str) for k, x in value.items()):
        raise AdminError(f"{what} must map versions to release strings")
    return dict(value)


# EKS's limits on a resource's tags (TagMap, TagKey, TagValue).
MAX_TAGS = 50
MAX_TAG_KEY = 128
MAX_TAG_VALUE = 256


def tag_map(value: Any, what: str) -> dict[str, str]:
    """Tags as EKS takes them: string to string, at most 50, keys 1-128 and values 0-256 characters."""
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(x, str) for k, x in value.items()):
        raise AdminError(f"{what} must map strings to strings")
    if len(value) > MAX_TAGS:
        raise AdminError(f"{what}: at most {MAX_TAGS} tags")
    for key, tag in value.items():
        if not 1 <= len(key) <= MAX_TAG_KEY or len(tag) > MAX_TAG_VALUE:
            raise AdminError(
                f"{what}: tag {key[:40]!r}: keys are 1-{MAX_TAG_KEY} characters, values up to {MAX_TAG_VALUE}"
            )
    return dict(value)


@dataclass(frozen=True)
class ConfigChange:
    """POST /_localeks/config: the knobs to set (None: unchanged)."""

    page_size: int | None
    polls_in_progress: int | None
    latency_ms: int | None

    @classmethod
    def parse(cls, payload: Any) -> ConfigChange:
        if not isinstance(payload, dict):
            raise AdminError("config: expected a JSON object")
        unknown = set(payload) - {"pageSize", "pollsInProgress", "latencyMs"}
        if unknown:
            raise AdminError(f"config: unknown keys {sorted(unknown)}")
        page_size = int_in(payload["pageSize"], "pageSize", 1, MAX_PAGE_SIZE) if "pageSize" in payload else None
        polls = (
            int_in(payload["pollsInProgress"], "pollsInProgress", 0, 10_000) if "pollsInProgress" in payload else None
        )
        latency = int_in(payload["latencyMs"], "latencyMs", 0, MAX_LATENCY_MS) if "latencyMs" in payload else None
        return cls(page_size, polls, latency)


@dataclass(frozen=True)
class FinishUpdates:
    """POST /_localeks/finish-updates: which InProgress updates to end (None: all)."""

    cluster_name: Any = None
    nodegroup_name: Any = None

    @classmethod
    def parse(cls, payload: Any) -> FinishUpdates:
        payload = payload or {}
        if not isinstance(payload, dict):
            raise AdminError("finish-updates: expected a JSON object")
        return cls(payload.get("clusterName"), payload.get("nodegroupName"))


@dataclass(frozen=True)
class SsmParameters:
    """POST /_localeks/ssm-parameters; each parameter is checked by ssm.PublicParameters.put."""

    region: str
    account: str
    parameters: list[Any]

    @classmethod
    def parse(cls, payload: Any) -> SsmParameters:
        if not isinstance(payload, dict):
            raise AdminError("ssm-parameters: expected a JSON object")
        return cls(
            payload.get("region", "us-east-1"),
            account_id(payload.get("accountId", default_account_id()), "ssm-parameters"),
            ssm_parameter_list(payload.get("parameters", [])),
        )


def account_id(value: Any, what: str) -> str:
    """An AWS account id: 12 digits, as a string."""
    if not (isinstance(value, str) and len(value) == 12 and value.isdigit()):
        raise AdminError(f"{what}: accountId must be a 12-digit string, got {value!r}")
    return value


def ssm_parameter_list(specs: Any) -> list[Any]:
    if not isinstance(specs, list):
        raise AdminError("ssm parameters must be a list")
    return specs


@dataclass(frozen=True)
class RunningUpdateSpec:
    """A seeded node group's ``runningUpdate``: an InProgress update made at seeding."""

    type: str
    version: str | None
    release_version: str | None
    launch_template: Any
    client_request_token: str | None
    # As if made by a request with exactly these parameters (with the token).
    fingerprint: tuple

    @classmethod
    def parse(cls, spec: Any, where: str) -> RunningUpdateSpec:
        if not isinstance(spec, dict):
            raise AdminError(f"{where}: runningUpdate must be an object")
        return cls(
            type=spec.get("type", "VersionUpdate"),
            version=spec.get("version"),
            release_version=spec.get("releaseVersion"),
            launch_template=spec.get("launchTemplate"),
            client_request_token=spec.get("clientRequestToken"),
            fingerprint=fingerprint(
                spec.get("version"),
                spec.get("releaseVersion"),
                launch_template_key(spec.get("launchTemplate")),
                bool(spec.get("force", False)),
            ),
        )


@dataclass(frozen=True)
class NodegroupSpec:
    """One node group of a seed, defaults filled in."""

    name: str
    where: str  # "seed: node group <cluster>/<name>", the prefix of its errors
    version: str
    ami_type: str
    release_version: str
    update_outcome: str
    # The template as the node group will show it: id and name both known.
    launch_template: dict[str, str] | None
    lt_latest_version: str | None
    lt_default_version: str | None
    status: str
    polls_in_progress: int | None
    latest_releases: dict[str, str]
    past_updates: int
    running_update: RunningUpdateSpec | None
    # Shown by DescribeNodegroup as nodegroup.tags.
    tags: dict[str, str]
    # Passed to moto's CreateNodegroup as given.
    instance_types: Any = None
    capacity_type: Any = None
    scaling_config: Any = None
    labels: Any = None

    @classmethod
    def parse(cls, spec: Any, cluster_name: str, cluster_version: str) -> NodegroupSpec:
        if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
            raise AdminError(f"seed: cluster {cluster_name}: each node group needs a string 'name'")
        name = spec["name"]
        where = f"seed: node group {cluster_name}/{name}"
        version = spec.get("version", cluster_version)
        if v.parse_k8s_version(version) is None:
            raise AdminError(f"{where}: version {version!r} is not MAJOR.MINOR")
        ami_type = spec.get("amiType", "AL2023_x86_64_STANDARD")
        family = v.ami_family(ami_type)
        release = spec.get("releaseVersion") or v.synthesized_seed_release(family, version)
        outcome = spec.get("updateOutcome", SUCCESSFUL)
        if outcome not in OUTCOMES:
            raise AdminError(f"{where}: updateOutcome must be one of {list(OUTCOMES)}")

        lt = spec.get("launchTemplate")
        lt_copy = None
        if lt is not None:
            if not isinstance(lt, dict) or not (lt.get("id") or lt.get("name")):
                raise AdminError(f"{where}: launchTemplate needs an id or a name")
            # A real node group always knows both the id and the name of its
            # template; make up the one the seed left out, deterministically.
            digest = hashlib.sha256(f"{cluster_name}/{name}".encode()).hexdigest()
            lt_copy = {
                "id": lt.get("id") or f"lt-{digest[:17]}",
                "name": lt.get("name") or f"{name}-lt",
                "version": str(lt.get("version", "1")),
            }
        polls = (
            int_in(spec["pollsInProgress"], f"{where}: pollsInProgress", 0, 10_000)
            if "pollsInProgress" in spec
            else None
        )
        latest = str_map(spec.get("latestReleases"), f"{where}: latestReleases")
        past = int_in(spec.get("pastUpdates", 0), f"{where}: pastUpdates", 0, 10_000)
        running = spec.get("runningUpdate")
        return cls(
            name=name,
            where=where,
            version=version,
            ami_type=ami_type,
            release_version=release,
            update_outcome=outcome,
            launch_template=lt_copy,
            lt_latest_version=str(lt["latestVersion"]) if lt and "latestVersion" in lt else None,
            lt_default_version=str(lt["defaultVersion"]) if lt and "defaultVersion" in lt else None,
            status=spec.get("status", "ACTIVE"),
            polls_in_progress=polls,
            latest_releases=latest,
            past_updates=past,
            running_update=None if running is None else RunningUpdateSpec.parse(running, where),
            tags=tag_map(spec.get("tags"), f"{where}: tags"),
            instance_types=spec.get("instanceTypes"),
            capacity_type=spec.get("capacityType"),
            scaling_config=spec.get("scalingConfig"),
            labels=spec.get("labels"),
        )


@dataclass(frozen=True)
class ClusterSpec:
    """One cluster of a seed, with its node groups."""

    name: str
    version: str
    status: str
    platform_version: Any
    latest_releases: dict[str, str]
    # publishLatestToSsm as given: anything true publishes (a dict may set ageDays).
    publish_latest: Any
    nodegroups: list[NodegroupSpec]
    # updatingDescribes: DescribeCluster calls answered UPDATING before ACTIVE (None: not set).
    updating_describes: int | None

    @classmethod
    def parse(cls, spec: Any) -> ClusterSpec:
        if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
            raise AdminError("seed: each cluster needs a string 'name'")
        name = spec["name"]
        version = spec.get("version", "1.31")
        if v.parse_k8s_version(version) is None:
            raise AdminError(f"seed: cluster {name}: version {version!r} is not MAJOR.MINOR")
        latest = str_map(spec.get("latestReleases"), "latestReleases")
        ngs = spec.get("nodegroups", [])
        if not isinstance(ngs, list):
            raise AdminError(f"seed: cluster {name}: nodegroups must be a list")
        nodegroups: list[NodegroupSpec] = []
        for ng_spec in ngs:
            ng = NodegroupSpec.parse(ng_spec, name, version)
            if any(n.name == ng.name for n in nodegroups):
                raise AdminError(f"{ng.where}: listed twice")
            nodegroups.append(ng)
        updating = None
        status = spec.get("status", "ACTIVE")
        if "updatingDescribes" in spec:
            updating = int_in(spec["updatingDescribes"], f"seed: cluster {name}: updatingDescribes", 0, 10_000)
            status = spec.get("status", "UPDATING")
            if status != "UPDATING":
                raise AdminError(f"seed: cluster {name}: updatingDescribes needs status UPDATING, not {status!r}")
        return cls(
            name=name,
            version=version,
            status=status,
            platform_version=spec.get("platformVersion"),
            latest_releases=latest,
            publish_latest=spec.get("publishLatestToSsm"),
            nodegroups=nodegroups,
            updating_describes=updating,
        )


@dataclass(frozen=True)
class Seed:
    """POST /_localeks/seed: clusters (each replacing one of the same name) and SSM parameters."""

    region: str
    account: str
    clusters: list[ClusterSpec]
    ssm_parameters: list[Any]
    # IAM roles of the account, each with the accounts it trusts (trust.py).
    roles: list[Any]

    @classmethod
    def parse(cls, payload: Any) -> Seed:
        if not isinstance(payload, dict):
            raise AdminError("seed: expected a JSON object")
        clusters = payload.get("clusters", [])
        if not isinstance(clusters, list):
            raise AdminError("seed: clusters must be a list")
        return cls(
            region=payload.get("region", "us-east-1"),
            account=account_id(payload.get("accountId", default_account_id()), "seed"),
            clusters=[ClusterSpec.parse(c) for c in clusters],
            ssm_parameters=ssm_parameter_list(payload.get("ssmParameters", [])),
            roles=payload.get("roles", []),
        )
