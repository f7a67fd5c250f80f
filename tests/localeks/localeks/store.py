"""Node group updates: the state moto lacks, and the rules EKS enforces.

Clusters and node groups stay in moto's own EKS backend, so moto's
DescribeCluster / DescribeNodegroup keep answering and show what an update
did. What moto has no notion of lives here, next to each moto object:
the updates of a node group, their client request tokens, how a seeded node
group's updates end, and counters for the tests.

Every public method takes the store's lock: werkzeug serves each request on
its own thread, and an update touches several objects at once.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import os
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from moto.core import DEFAULT_ACCOUNT_ID
from moto.core.utils import utcnow
from moto.eks.models import eks_backends
from moto.utilities.utils import get_partition

from . import versions as v
from .errors import AdminError, EksError, invalid_parameter, not_found_cluster, not_found_nodegroup
from .ssm import PublicParameters, parameter_name

log = logging.getLogger("localeks")

IN_PROGRESS = "InProgress"
SUCCESSFUL = "Successful"
FAILED = "Failed"
OUTCOMES = (SUCCESSFUL, FAILED)

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 100  # ListUpdates' maxResults range is 1-100

# Node group statuses from which EKS starts an update.
UPDATABLE_STATUSES = ("ACTIVE", "DEGRADED")
# Statuses that mean "busy with something else": EKS answers 409 for them.
BUSY_STATUSES = ("UPDATING", "CREATING", "DELETING")


def default_account_id() -> str:
    # moto's own rule: MOTO_ACCOUNT_ID wins over the built-in default.
    return os.environ.get("MOTO_ACCOUNT_ID", DEFAULT_ACCOUNT_ID)


@dataclass
class Config:
    """Server-wide knobs, settable with POST /_localeks/config."""

    page_size: int = DEFAULT_PAGE_SIZE
    polls_in_progress: int = 2

    def to_api(self) -> dict[str, Any]:
        return {"pageSize": self.page_size, "pollsInProgress": self.polls_in_progress}


@dataclass
class Update:
    id: str
    type: str
    params: list[dict[str, str]]
    created_at: float
    cluster_name: str
    nodegroup_name: str
    # Decided when the update is made, so a test knows how it will end.
    outcome: str
    # DescribeUpdate calls still to answer with InProgress.
    polls_left: int
    # What a Successful VersionUpdate moves the node group to.
    target_version: str | None = None
    target_release: str | None = None
    target_lt_version: str | None = None
    client_request_token: str | None = None
    # The request parameters, to tell an idempotent retry from a token reused
    # for something else.
    fingerprint: tuple | None = None
    # "api" (UpdateNodegroupVersion), "seed-running" or "seed-past".
    origin: str = "api"
    status: str = IN_PROGRESS
    errors: list[dict[str, Any]] = field(default_factory=list)
    describe_calls: int = 0

    def to_api(self) -> dict[str, Any]:
        """The EKS ``Update`` structure. createdAt is epoch seconds, as restJson1 sends it."""
        return {
            "id": self.id,
            "status": self.status,
            "type": self.type,
            "params": [dict(p) for p in self.params],
            "createdAt": self.created_at,
            "errors": [dict(e) for e in self.errors],
        }

    def to_state(self) -> dict[str, Any]:
        out = self.to_api()
        out.update(
            clusterName=self.cluster_name,
            nodegroupName=self.nodegroup_name,
            origin=self.origin,
            outcome=self.outcome,
            pollsLeft=self.polls_left,
            describeCalls=self.describe_calls,
            clientRequestToken=self.client_request_token,
        )
        return out


@dataclass
class NodegroupExtra:
    """What the endpoint keeps about one moto Nodegroup object."""

    moto: Any
    update_outcome: str = SUCCESSFUL
    polls_in_progress: int | None = None  # None: the server-wide setting
    latest_releases: dict[str, str] = field(default_factory=dict)
    lt_latest_version: str | None = None
    lt_default_version: str | None = None
    updates: list[Update] = field(default_factory=list)
    tokens: dict[str, Update] = field(default_factory=dict)
    # Where a failed update leaves the node group (ACTIVE or DEGRADED).
    status_before_update: str = "ACTIVE"
    update_calls: int = 0
    updates_created: int = 0

    def running(self) -> Update | None:
        for u in self.updates:
            if u.status == IN_PROGRESS:
                return u
        return None


@dataclass
class ClusterExtra:
    moto: Any
    latest_releases: dict[str, str] = field(default_factory=dict)
    nodegroups: dict[str, NodegroupExtra] = field(default_factory=dict)


def _now() -> float:
    return round(time.time(), 3)


def _encode_token(scope: str, offset: int) -> str:
    raw = json.dumps({"s": scope, "o": offset}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_token(token: str, scope: str) -> int | None:
    """Offset in a nextToken, or None when it is not one of ours for this list."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = json.loads(raw)
        if data.get("s") != scope or not isinstance(data.get("o"), int) or data["o"] < 0:
            return None
        return data["o"]
    except (binascii.Error, ValueError, AttributeError, TypeError):
        return None


class Store:
    def __init__(self, config: Config) -> None:
        self._lock = threading.RLock()
        self._startup_config = Config(**vars(config))
        self.config = config
        self._clusters: dict[tuple[str, str, str], ClusterExtra] = {}
        self.ssm = PublicParameters()
        # Calls for node groups that did not exist, so the state dump can
        # still say how many calls the endpoint saw in all.
        self._calls_total = 0

    # ------------------------------------------------------------------ lookups

    @staticmethod
    def _backend(account: str, region: str) -> Any | None:
        try:
            return eks_backends[account][region]
        except KeyError:
            return None  # a region moto does not know

    def _cluster(self, account: str, region: str, name: str) -> tuple[Any, ClusterExtra]:
        backend = self._backend(account, region)
        cluster = backend.clusters.get(name) if backend is not None else None
        if cluster is None:
            raise not_found_cluster(name)
        key = (account, region, name)
        extra = self._clusters.get(key)
        # A cluster deleted and made again through moto's API is a new object:
        # what we knew about the old one must not leak into it.
        if extra is None or extra.moto is not cluster:
            extra = self._clusters[key] = ClusterExtra(moto=cluster)
        return cluster, extra

    def _nodegroup(self, cx: ClusterExtra, cluster_name: str, name: str) -> tuple[Any, NodegroupExtra]:
        ng = cx.moto.nodegroups.get(name)
        if ng is None:
            raise not_found_nodegroup(cluster_name, name)
        extra = cx.nodegroups.get(name)
        if extra is None or extra.moto is not ng:
            # A node group made through moto's own CreateNodegroup: defaults.
            before = ng.status if ng.status in UPDATABLE_STATUSES else "ACTIVE"
            extra = cx.nodegroups[name] = NodegroupExtra(moto=ng, status_before_update=before)
        return ng, extra

    def _latest_release(self, cx: ClusterExtra, nx: NodegroupExtra, version: str) -> str | None:
        family = v.ami_family(nx.moto.ami_type)
        if family == v.CUSTOM:
            return None
        return (
            nx.latest_releases.get(version)
            or cx.latest_releases.get(version)
            or v.synthesized_latest_release(family, version)
        )

    def _polls(self, nx: NodegroupExtra) -> int:
        return nx.polls_in_progress if nx.polls_in_progress is not None else self.config.polls_in_progress

    # ---------------------------------------------------- UpdateNodegroupVersion

    def update_nodegroup_version(
        self, account: str, region: str, cluster_name: str, ng_name: str, body: Any
    ) -> dict[str, Any]:
        with self._lock:
            self._calls_total += 1
            cluster, cx = self._cluster(account, region, cluster_name)
            ng, nx = self._nodegroup(cx, cluster_name, ng_name)
            nx.update_calls += 1
            req = _parse_update_request(body, cluster_name, ng_name)

            def bad(message: str) -> EksError:
                return invalid_parameter(message, cluster_name, ng_name)

            # A retry with a known token gets the update the token made, even
            # while it is still running (that is what tokens are for). The
            # same token with other parameters is a client bug.
            token = req["clientRequestToken"]
            if token is not None and token in nx.tokens:
                earlier = nx.tokens[token]
                if earlier.fingerprint == req["fingerprint"]:
                    log.info("update %s: idempotent retry with token %s", earlier.id, token)
                    return {"update": earlier.to_api()}
                raise EksError(
                    "InvalidRequestException",
                    f"The client request token {token} was already used for an update of "
                    f"node group {ng_name} with different parameters.",
                    cluster_name,
                    ng_name,
                )

            # Syntax of the request, before looking at the node group's state.
            if req["version"] is not None and v.parse_k8s_version(req["version"]) is None:
                raise bad(f"Invalid Kubernetes version {req['version']!r}: expected MAJOR.MINOR, e.g. 1.31.")
            if req["releaseVersion"] is not None and v.parse_release(req["releaseVersion"]) is None:
                raise bad(f"Invalid release version {req['releaseVersion']!r}.")
            lt = req["launchTemplate"]
            if lt is not None:
                if lt.get("id") is not None and lt.get("name") is not None:
                    raise bad("Either launch template ID or launch template name can be specified, but not both.")
                if lt.get("id") is None and lt.get("name") is None:
                    raise bad("A launch template ID or launch template name must be specified.")
                lt_ver = lt.get("version")
                if lt_ver is not None and lt_ver not in ("$Latest", "$Default") and not (
                    lt_ver.isdigit() and int(lt_ver) > 0
                ):
                    raise bad(f"Invalid launch template version {lt_ver!r}.")

            # State: one update at a time, on a node group and cluster that can take it.
            running = nx.running()
            if running is not None or ng.status in BUSY_STATUSES:
                raise EksError(
                    "ResourceInUseException",
                    f"Nodegroup {ng_name} is currently in status {ng.status}"
                    + (f" with update {running.id} in progress." if running else "."),
                    cluster_name,
                    ng_name,
                )
            if ng.status not in UPDATABLE_STATUSES:
                raise EksError(
                    "InvalidRequestException",
                    f"Nodegroup {ng_name} is in status {ng.status} and cannot be updated.",
                    cluster_name,
                    ng_name,
                )
            if cluster.status != "ACTIVE":
                raise EksError(
                    "ResourceInUseException",
                    f"Cluster {cluster_name} is in status {cluster.status}.",
                    cluster_name,
                    ng_name,
                )

            family = v.ami_family(ng.ami_type)
            if family == v.CUSTOM and (req["version"] is not None or req["releaseVersion"] is not None):
                raise bad(
                    "You cannot specify a Kubernetes version or release version for a node group "
                    "that uses a custom AMI; update its launch template version instead."
                )

            # The target version: the requested one, or the node group's own.
            target = req["version"] or ng.version
            target_num = v.parse_k8s_version(target)
            cluster_num = v.parse_k8s_version(cluster.version)
            current_num = v.parse_k8s_version(ng.version)
            if target_num and cluster_num and target_num > cluster_num:
                raise bad(
                    f"Requested Kubernetes version {target} is greater than the cluster's "
                    f"version {cluster.version}. Update the cluster first."
                )
            if target_num and current_num and target_num < current_num:
                raise bad(
                    f"Requested Kubernetes version {target} is lower than the node group's "
                    f"version {ng.version}. Downgrades are not supported."
                )
            if family == v.AL2 and target_num and target_num > v.AL2_LAST_SUPPORTED:
                raise bad(f"Amazon Linux 2 AMIs are not available for Kubernetes {target}.")

            release = req["releaseVersion"]
            if release is not None:
                rel_minor = v.release_minor(release)
                if family in v.FAMILIES_WITH_K8S_MINOR and rel_minor != target_num:
                    raise bad(
                        f"Release version {release} is not for Kubernetes version {target}."
                    )
                # "Older" only means something within one line of releases:
                # the same MAJOR.MINOR prefix as the node group's release
                # (the Kubernetes minor for AL2/AL2023/Windows, the OS minor
                # for Bottlerocket).
                if (
                    ng.release_version
                    and rel_minor is not None
                    and rel_minor == v.release_minor(ng.release_version)
                    and v.release_is_older(release, ng.release_version)
                ):
                    raise bad(
                        f"Requested release version {release} is older than the node group's "
                        f"release version {ng.release_version}."
                    )

            current_lt = ng.launch_template or None
            if lt is not None:
                if not current_lt:
                    raise bad(
                        f"Nodegroup {ng_name} was not created with a launch template; "
                        "a launch template cannot be specified."
                    )
                for key, label in (("id", "ID"), ("name", "name")):
                    if lt.get(key) is not None and lt[key] != current_lt.get(key):
                        raise bad(
                            f"Launch template {label} {lt[key]} does not match the node group's "
                            f"launch template {current_lt.get(key)}."
                        )

            # Everything is acceptable: make the update.
            target_release = release if release is not None else self._latest_release(cx, nx, target)
            target_lt_version = None
            if lt is not None:
                target_lt_version = self._resolve_lt_version(nx, lt.get("version"))
            params = [{"type": "Version", "value": target}]
            if target_release is not None:
                params.append({"type": "ReleaseVersion", "value": target_release})
            if lt is not None:
                params.append({"type": "LaunchTemplateName", "value": current_lt.get("name", "")})
                params.append({"type": "LaunchTemplateVersion", "value": target_lt_version})

            update = self._start_update(
                cx,
                nx,
                type_="VersionUpdate",
                params=params,
                target_version=target,
                target_release=target_release,
                target_lt_version=target_lt_version,
                origin="api",
            )
            update.client_request_token = token
            update.fingerprint = req["fingerprint"]
            if token is not None:
                nx.tokens[token] = update
            nx.updates_created += 1
            log.info(
                "update %s started on %s/%s: %s (ends %s after %d polls)",
                update.id, cluster_name, ng_name, params, update.outcome, update.polls_left,
            )
            return {"update": update.to_api()}

    def _resolve_lt_version(self, nx: NodegroupExtra, requested: str | None) -> str:
        """A launch template version as EKS records it: always a number."""
        current = str((nx.moto.launch_template or {}).get("version") or "1")
        if requested == "$Latest":
            return nx.lt_latest_version or current
        if requested in (None, "$Default"):
            return nx.lt_default_version or current
        return requested

    def _start_update(
        self,
        cx: ClusterExtra,
        nx: NodegroupExtra,
        *,
        type_: str,
        params: list[dict[str, str]],
        target_version: str | None,
        target_release: str | None,
        target_lt_version: str | None,
        origin: str,
        created_at: float | None = None,
    ) -> Update:
        ng = nx.moto
        update = Update(
            id=str(uuid.uuid4()),
            type=type_,
            params=params,
            created_at=created_at if created_at is not None else _now(),
            cluster_name=cx.moto.name,
            nodegroup_name=ng.nodegroup_name,
            outcome=nx.update_outcome,
            polls_left=self._polls(nx),
            target_version=target_version,
            target_release=target_release,
            target_lt_version=target_lt_version,
            origin=origin,
        )
        nx.updates.append(update)
        if ng.status in UPDATABLE_STATUSES:
            nx.status_before_update = ng.status
        ng.status = "UPDATING"
        ng.modified_at = utcnow()
        return update

    def _finish(self, nx: NodegroupExtra, update: Update) -> None:
        """End an update the way its node group was seeded to end it."""
        ng = nx.moto
        if update.outcome == SUCCESSFUL:
            update.status = SUCCESSFUL
            if update.type == "VersionUpdate":
                if update.target_version:
                    ng.version = update.target_version
                if update.target_release:
                    ng.release_version = update.target_release
                if update.target_lt_version and ng.launch_template:
                    ng.launch_template["version"] = update.target_lt_version
            ng.status = "ACTIVE"
        else:
            update.status = FAILED
            update.errors = [
                {
                    "errorCode": "PodEvictionFailure",
                    "errorMessage": "Reached max retries while trying to evict pods from nodes "
                    f"in node group {ng.nodegroup_name}",
                    "resourceIds": ["ip-192-168-1-10.ec2.internal"],
                }
            ]
            # A failed update leaves the nodes as they were.
            ng.status = nx.status_before_update
        ng.modified_at = utcnow()
        log.info("update %s on %s/%s ended %s", update.id, update.cluster_name, update.nodegroup_name, update.status)

    # ------------------------------------------------- DescribeUpdate/ListUpdates

    def _updates_in_scope(
        self, account: str, region: str, cluster_name: str, ng_name: str | None, addon: str | None
    ) -> tuple[list[Update], NodegroupExtra | None]:
        _, cx = self._cluster(account, region, cluster_name)
        if ng_name is not None:
            _, nx = self._nodegroup(cx, cluster_name, ng_name)
            return nx.updates, nx
        if addon is not None:
            # Add-ons are not modelled: none exists.
            raise EksError(
                "ResourceNotFoundException", f"No addon: {addon} found in cluster: {cluster_name}", cluster_name
            )
        # Cluster-level updates (control plane) are not modelled: there are none.
        return [], None

    def describe_update(
        self, account: str, region: str, cluster_name: str, update_id: str, ng_name: str | None, addon: str | None
    ) -> dict[str, Any]:
        with self._lock:
            updates, nx = self._updates_in_scope(account, region, cluster_name, ng_name, addon)
            update = next((u for u in updates if u.id == update_id), None)
            if update is None:
                raise EksError(
                    "ResourceNotFoundException", f"No update found for ID: {update_id}.", cluster_name, ng_name
                )
            update.describe_calls += 1
            # Polling is what moves an update along: it stays InProgress for
            # a set number of DescribeUpdate calls, then ends.
            if update.status == IN_PROGRESS:
                if update.polls_left > 0:
                    update.polls_left -= 1
                else:
                    self._finish(nx, update)
            return {"update": update.to_api()}

    def list_updates(
        self,
        account: str,
        region: str,
        cluster_name: str,
        ng_name: str | None,
        addon: str | None,
        max_results: str | None,
        next_token: str | None,
    ) -> dict[str, Any]:
        with self._lock:
            updates, _ = self._updates_in_scope(account, region, cluster_name, ng_name, addon)
            limit = MAX_PAGE_SIZE
            if max_results is not None:
                if not max_results.isdigit() or not 1 <= int(max_results) <= MAX_PAGE_SIZE:
                    raise invalid_parameter(
                        f"maxResults must be between 1 and {MAX_PAGE_SIZE}.", cluster_name, ng_name
                    )
                limit = int(max_results)
            # The server-wide page size caps every page, even when the client
            # asks for more: EKS may return fewer than maxResults, and this is
            # how tests make any client walk several pages.
            limit = min(limit, self.config.page_size)
            scope = hashlib.sha256(f"{account}/{region}/{cluster_name}/{ng_name}".encode()).hexdigest()[:16]
            offset = 0
            if next_token:
                decoded = _decode_token(next_token, scope)
                if decoded is None:
                    raise invalid_parameter("The nextToken is not valid.", cluster_name, ng_name)
                offset = decoded
            page = updates[offset : offset + limit]
            out: dict[str, Any] = {"updateIds": [u.id for u in page]}
            if offset + limit < len(updates):
                out["nextToken"] = _encode_token(scope, offset + limit)
            return out

    # --------------------------------------------------------------- admin API

    def reset(self) -> dict[str, Any]:
        """Forget every EKS cluster (in every account and region) and update."""
        with self._lock:
            for account_backends in list(eks_backends.values()):
                for backend in list(account_backends.values()):
                    backend.clusters.clear()
                    backend.cluster_count = 0
            self._clusters.clear()
            self.ssm.clear()
            self._calls_total = 0
            self.config = Config(**vars(self._startup_config))
            return {"reset": True, "config": self.config.to_api()}

    def set_config(self, payload: Any) -> dict[str, Any]:
        with self._lock:
            if not isinstance(payload, dict):
                raise AdminError("config: expected a JSON object")
            unknown = set(payload) - {"pageSize", "pollsInProgress"}
            if unknown:
                raise AdminError(f"config: unknown keys {sorted(unknown)}")
            if "pageSize" in payload:
                self.config.page_size = _int_in(payload["pageSize"], "pageSize", 1, MAX_PAGE_SIZE)
            if "pollsInProgress" in payload:
                self.config.polls_in_progress = _int_in(payload["pollsInProgress"], "pollsInProgress", 0, 10_000)
            return {"config": self.config.to_api()}

    def finish_updates(self, payload: Any) -> dict[str, Any]:
        """End every InProgress update now (optionally of one cluster / node group)."""
        with self._lock:
            payload = payload or {}
            if not isinstance(payload, dict):
                raise AdminError("finish-updates: expected a JSON object")
            want_cluster = payload.get("clusterName")
            want_ng = payload.get("nodegroupName")
            finished = []
            for (_, _, cname), cx in self._clusters.items():
                if want_cluster is not None and cname != want_cluster:
                    continue
                for nname, nx in cx.nodegroups.items():
                    if want_ng is not None and nname != want_ng:
                        continue
                    for u in nx.updates:
                        if u.status == IN_PROGRESS:
                            u.polls_left = 0
                            self._finish(nx, u)
                            finished.append(u.to_state())
            return {"finished": finished}

    def seed(self, payload: Any) -> dict[str, Any]:
        with self._lock:
            if not isinstance(payload, dict):
                raise AdminError("seed: expected a JSON object")
            region = payload.get("region", "us-east-1")
            account = payload.get("accountId", default_account_id())
            backend = self._backend(account, region)
            if backend is None:
                raise AdminError(f"seed: unknown region {region!r}")
            clusters = payload.get("clusters", [])
            if not isinstance(clusters, list):
                raise AdminError("seed: clusters must be a list")
            made = [self._seed_cluster(backend, account, region, c) for c in clusters]
            params = self._put_ssm(account, region, payload.get("ssmParameters", []))
            for spec, cluster in zip(clusters, made):
                publish = spec.get("publishLatestToSsm")
                if publish:
                    params += self._publish_latest(account, region, spec["name"], publish)
            return {"accountId": account, "region": region, "clusters": made, "ssmParameters": params}

    def put_ssm_parameters(self, payload: Any) -> dict[str, Any]:
        """POST /_localeks/ssm-parameters: publish public SSM parameters."""
        with self._lock:
            if not isinstance(payload, dict):
                raise AdminError("ssm-parameters: expected a JSON object")
            region = payload.get("region", "us-east-1")
            account = payload.get("accountId", default_account_id())
            return {"ssmParameters": self._put_ssm(account, region, payload.get("parameters", []))}

    def _put_ssm(self, account: str, region: str, specs: Any) -> list[dict[str, Any]]:
        if not isinstance(specs, list):
            raise AdminError("ssm parameters must be a list")
        return [self.ssm.put(account, region, spec) for spec in specs]

    def _publish_latest(self, account: str, region: str, cluster_name: str, publish: Any) -> list[dict[str, Any]]:
        """Publish each node group's latest releases where EKS's SSM parameters are.

        So the endpoint's idea of "latest" (what it picks when a request has
        no releaseVersion) and the public parameters a client reads agree.
        """
        age = publish.get("ageDays", 30) if isinstance(publish, dict) else 30
        cx = self._clusters[(account, region, cluster_name)]
        seen: dict[str, str] = {}
        for nx in cx.nodegroups.values():
            for version, release in {**cx.latest_releases, **nx.latest_releases}.items():
                name = parameter_name(nx.moto.ami_type, version)
                if name is not None and name not in seen:
                    seen[name] = release
        return [self._put_ssm(account, region, [{"name": n, "value": r, "ageDays": age}])[0] for n, r in seen.items()]

    def _seed_cluster(self, backend: Any, account: str, region: str, spec: Any) -> dict[str, Any]:
        if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
            raise AdminError("seed: each cluster needs a string 'name'")
        name = spec["name"]
        version = spec.get("version", "1.31")
        if v.parse_k8s_version(version) is None:
            raise AdminError(f"seed: cluster {name}: version {version!r} is not MAJOR.MINOR")
        # Seeding a cluster again replaces it, with all its node groups and updates.
        if name in backend.clusters:
            del backend.clusters[name]
            backend.cluster_count -= 1
        self._clusters.pop((account, region, name), None)

        partition = get_partition(region)
        cluster = backend.create_cluster(
            name=name,
            role_arn=f"arn:{partition}:iam::{account}:role/localeks-cluster",
            resources_vpc_config={
                "subnetIds": ["subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60002"],
                "securityGroupIds": ["sg-0a1b2c3d4e5f60001"],
                "endpointPublicAccess": True,
                "endpointPrivateAccess": False,
            },
            version=version,
        )
        if "platformVersion" in spec:
            cluster.platformVersion = spec["platformVersion"]
        cx = ClusterExtra(moto=cluster, latest_releases=_str_map(spec.get("latestReleases"), "latestReleases"))
        self._clusters[(account, region, name)] = cx
        ngs = spec.get("nodegroups", [])
        if not isinstance(ngs, list):
            raise AdminError(f"seed: cluster {name}: nodegroups must be a list")
        made = [self._seed_nodegroup(backend, account, cx, n) for n in ngs]
        # Last: moto only adds node groups to an ACTIVE cluster.
        cluster.status = spec.get("status", "ACTIVE")
        return {"name": name, "version": cluster.version, "status": cluster.status, "nodegroups": made}

    def _seed_nodegroup(self, backend: Any, account: str, cx: ClusterExtra, spec: Any) -> dict[str, Any]:
        cluster = cx.moto
        if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
            raise AdminError(f"seed: cluster {cluster.name}: each node group needs a string 'name'")
        name = spec["name"]
        where = f"seed: node group {cluster.name}/{name}"
        version = spec.get("version", cluster.version)
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
            digest = hashlib.sha256(f"{cluster.name}/{name}".encode()).hexdigest()
            lt_copy = {
                "id": lt.get("id") or f"lt-{digest[:17]}",
                "name": lt.get("name") or f"{name}-lt",
                "version": str(lt.get("version", "1")),
            }

        if name in cluster.nodegroups:
            raise AdminError(f"{where}: listed twice")
        ng = backend.create_nodegroup(
            cluster_name=cluster.name,
            node_role=f"arn:{get_partition(backend.region_name)}:iam::{account}:role/localeks-node",
            nodegroup_name=name,
            subnets=list(cluster.resources_vpc_config["subnetIds"]),
            instance_types=spec.get("instanceTypes"),
            ami_type=ami_type,
            capacity_type=spec.get("capacityType"),
            scaling_config=spec.get("scalingConfig"),
            labels=spec.get("labels"),
            launch_template=dict(lt_copy) if lt_copy else None,
            version=version,
            release_version=release,
        )
        # moto always reports the values it was created with or its own
        # defaults; set what the seed says, the way EKS would show it.
        ng.version = version
        ng.release_version = release
        ng.ami_type = ami_type
        ng.launch_template = lt_copy
        if lt_copy is not None:
            # EKS keeps disk size and remote access in the launch template.
            ng.disk_size = None
            ng.remote_access = None
        if ng.scaling_config is not None:
            ng.scaling_config = dict(ng.scaling_config)  # moto shares one default dict
        status = spec.get("status", "ACTIVE")
        ng.status = status

        nx = NodegroupExtra(
            moto=ng,
            update_outcome=outcome,
            polls_in_progress=(
                _int_in(spec["pollsInProgress"], f"{where}: pollsInProgress", 0, 10_000)
                if "pollsInProgress" in spec
                else None
            ),
            latest_releases=_str_map(spec.get("latestReleases"), f"{where}: latestReleases"),
            lt_latest_version=str(lt["latestVersion"]) if lt and "latestVersion" in lt else None,
            lt_default_version=str(lt["defaultVersion"]) if lt and "defaultVersion" in lt else None,
            status_before_update=status if status in UPDATABLE_STATUSES else "ACTIVE",
        )
        cx.nodegroups[name] = nx

        # Completed updates first, a day apart and oldest first, so
        # ListUpdates returns them before anything made later.
        past = _int_in(spec.get("pastUpdates", 0), f"{where}: pastUpdates", 0, 10_000)
        now = _now()
        past_ids = []
        for i in range(past):
            params = [{"type": "Version", "value": version}]
            if family != v.CUSTOM:
                params.append({"type": "ReleaseVersion", "value": release})
            u = Update(
                id=str(uuid.uuid4()),
                type="VersionUpdate",
                params=params,
                created_at=round(now - (past - i + 1) * 86400, 3),
                cluster_name=cluster.name,
                nodegroup_name=name,
                outcome=SUCCESSFUL,
                polls_left=0,
                target_version=version,
                target_release=release,
                origin="seed-past",
                status=SUCCESSFUL,
            )
            nx.updates.append(u)
            past_ids.append(u.id)

        running_id = None
        running = spec.get("runningUpdate")
        if running is not None:
            running_id = self._seed_running(cx, nx, running, where).id

        return {
            "name": name,
            "version": ng.version,
            "releaseVersion": ng.release_version,
            "amiType": ng.ami_type,
            "status": ng.status,
            "launchTemplate": ng.launch_template,
            "runningUpdateId": running_id,
            "pastUpdateIds": past_ids,
        }

    def _seed_running(self, cx: ClusterExtra, nx: NodegroupExtra, spec: Any, where: str) -> Update:
        if not isinstance(spec, dict):
            raise AdminError(f"{where}: runningUpdate must be an object")
        ng = nx.moto
        type_ = spec.get("type", "VersionUpdate")
        params: list[dict[str, str]] = []
        target_version = target_release = target_lt = None
        if type_ == "VersionUpdate":
            target_version = spec.get("version", ng.version)
            target_release = spec.get("releaseVersion") or self._latest_release(cx, nx, target_version)
            params.append({"type": "Version", "value": target_version})
            if target_release is not None:
                params.append({"type": "ReleaseVersion", "value": target_release})
            lt = spec.get("launchTemplate")
            if lt is not None and ng.launch_template:
                target_lt = self._resolve_lt_version(nx, (lt or {}).get("version"))
                params.append({"type": "LaunchTemplateName", "value": ng.launch_template["name"]})
                params.append({"type": "LaunchTemplateVersion", "value": target_lt})
        else:
            # Some other kind of update (e.g. ConfigUpdate): it only blocks the
            # node group while it runs and changes no version.
            params.append({"type": "DesiredSize", "value": str((ng.scaling_config or {}).get("desiredSize", 2))})
        update = self._start_update(
            cx,
            nx,
            type_=type_,
            params=params,
            target_version=target_version,
            target_release=target_release,
            target_lt_version=target_lt,
            origin="seed-running",
        )
        token = spec.get("clientRequestToken")
        if token is not None:
            # As if this update had been made by a request with that token
            # and exactly these parameters.
            update.client_request_token = token
            update.fingerprint = _fingerprint(
                spec.get("version"), spec.get("releaseVersion"), spec.get("launchTemplate"), bool(spec.get("force", False))
            )
            nx.tokens[token] = update
        return update

    def state(self) -> dict[str, Any]:
        with self._lock:
            clusters = []
            updates = []
            for account, account_backends in list(eks_backends.items()):
                for region, backend in list(account_backends.items()):
                    for cname, cluster in list(backend.clusters.items()):
                        _, cx = self._cluster(account, region, cname)
                        ngs = []
                        for nname in list(cluster.nodegroups):
                            ng, nx = self._nodegroup(cx, cname, nname)
                            ngs.append(
                                {
                                    "name": nname,
                                    "version": ng.version,
                                    "releaseVersion": ng.release_version,
                                    "status": ng.status,
                                    "amiType": ng.ami_type,
                                    "launchTemplate": ng.launch_template,
                                    "updateOutcome": nx.update_outcome,
                                    "pollsInProgress": self._polls(nx),
                                    "updateNodegroupVersionCalls": nx.update_calls,
                                    "updatesCreated": nx.updates_created,
                                    "updateIds": [u.id for u in nx.updates],
                                }
                            )
                            updates.extend(u.to_state() for u in nx.updates)
                        clusters.append(
                            {
                                "accountId": account,
                                "region": region,
                                "name": cname,
                                "version": cluster.version,
                                "status": cluster.status,
                                "latestReleases": dict(cx.latest_releases),
                                "nodegroups": ngs,
                            }
                        )
            return {
                "config": self.config.to_api(),
                "updateNodegroupVersionCallsTotal": self._calls_total,
                "clusters": clusters,
                "updates": updates,
            }


# ------------------------------------------------------------------- helpers


def _fingerprint(version: Any, release: Any, lt: Any, force: bool) -> tuple:
    """The parameters that make two requests "the same" for a client token.

    Taken as sent: an omitted field differs from one set to the value it
    would default to, as the request is different.
    """
    lt = lt or None
    lt_key = None if lt is None else (lt.get("id"), lt.get("name"), lt.get("version"))
    return (version, release, lt_key, force)


def _parse_update_request(body: Any, cluster: str, ng: str) -> dict[str, Any]:
    """Type-check an UpdateNodegroupVersion body (what EKS's own parser does)."""

    def bad(message: str) -> EksError:
        return invalid_parameter(message, cluster, ng)

    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise bad("The request body must be a JSON object.")
    out: dict[str, Any] = {}
    for key in ("version", "releaseVersion", "clientRequestToken"):
        value = body.get(key)
        if value is not None and not isinstance(value, str):
            raise bad(f"{key} must be a string.")
        out[key] = value
    force = body.get("force")
    if force is not None and not isinstance(force, bool):
        raise bad("force must be a boolean.")
    lt = body.get("launchTemplate")
    if lt is not None:
        if not isinstance(lt, dict):
            raise bad("launchTemplate must be an object.")
        for key in ("id", "name", "version"):
            if lt.get(key) is not None and not isinstance(lt[key], str):
                raise bad(f"launchTemplate.{key} must be a string.")
        lt = {k: lt[k] for k in ("id", "name", "version") if lt.get(k) is not None}
    token = out["clientRequestToken"]
    if token is not None and not 1 <= len(token) <= 128:
        raise bad("clientRequestToken must be 1 to 128 characters.")
    out["launchTemplate"] = lt
    out["force"] = bool(force)
    out["fingerprint"] = _fingerprint(out["version"], out["releaseVersion"], lt, out["force"])
    return out


def _int_in(value: Any, what: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise AdminError(f"{what} must be an integer from {low} to {high}")
    return value


def _str_map(value: Any, what: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(x, str) for k, x in value.items()):
        raise AdminError(f"{what} must map versions to release strings")
    return dict(value)
