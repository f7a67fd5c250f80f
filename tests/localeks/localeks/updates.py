"""Node group updates: UpdateNodegroupVersion, DescribeUpdate, ListUpdates, and how updates end.

An update starts ``InProgress`` (its node group ``UPDATING``) and stays so for N
DescribeUpdate calls; the next call ends it the way its node group was seeded to end
(``finish``). The rules of UpdateNodegroupVersion are EKS's, checked in EKS's order: the
client request token first, then the request's syntax, then the node group's state, then
versions, releases and launch templates against it.

The functions here are called with the store's lock held (store.py).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import uuid
from typing import Any

from moto.core.utils import utcnow

from . import versions as v
from .clusters import Registry
from .errors import EksError, invalid_parameter
from .model import (
    BUSY_STATUSES,
    FAILED,
    IN_PROGRESS,
    SUCCESSFUL,
    UPDATABLE_STATUSES,
    ClusterExtra,
    NodegroupExtra,
    Update,
    now,
)
from .requests import LaunchTemplateRef, UpdateNodegroupVersion, UpdatesQuery

log = logging.getLogger("localeks")


# ---------------------------------------------------- UpdateNodegroupVersion


def update_nodegroup_version(
    registry: Registry, account: str, region: str, cluster_name: str, ng_name: str, body: Any
) -> dict[str, Any]:
    cluster, cx = registry.cluster(account, region, cluster_name)
    ng, nx = registry.nodegroup(cx, cluster_name, ng_name)
    nx.update_calls += 1
    req = UpdateNodegroupVersion.parse(body, cluster_name, ng_name)

    def bad(message: str) -> EksError:
        return invalid_parameter(message, cluster_name, ng_name)

    # A retry with a known token gets the update the token made, even
    # while it is still running (that is what tokens are for). The
    # same token with other parameters is a client bug.
    token = req.client_request_token
    if token is not None and token in nx.tokens:
        earlier = nx.tokens[token]
        if earlier.fingerprint == req.fingerprint:
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
    if req.version is not None and v.parse_k8s_version(req.version) is None:
        raise bad(f"Invalid Kubernetes version {req.version!r}: expected MAJOR.MINOR, e.g. 1.31.")
    if req.release_version is not None and v.parse_release(req.release_version) is None:
        raise bad(f"Invalid release version {req.release_version!r}.")
    lt = req.launch_template
    if lt is not None:
        _check_launch_template_syntax(lt, bad)

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
    if family == v.CUSTOM and (req.version is not None or req.release_version is not None):
        raise bad(
            "You cannot specify a Kubernetes version or release version for a node group "
            "that uses a custom AMI; update its launch template version instead."
        )

    # The target version: the requested one, or the node group's own.
    target = req.version or ng.version
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

    release = req.release_version
    if release is not None:
        rel_minor = v.release_minor(release)
        if family in v.FAMILIES_WITH_K8S_MINOR and rel_minor != target_num:
            raise bad(f"Release version {release} is not for Kubernetes version {target}.")
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
                f"Nodegroup {ng_name} was not created with a launch template; a launch template cannot be specified."
            )
        for value, key, label in ((lt.id, "id", "ID"), (lt.name, "name", "name")):
            if value is not None and value != current_lt.get(key):
                raise bad(
                    f"Launch template {label} {value} does not match the node group's "
                    f"launch template {current_lt.get(key)}."
                )

    # Everything is acceptable: make the update.
    target_release = release if release is not None else registry.latest_release(cx, nx, target)
    target_lt_version = None
    if lt is not None:
        target_lt_version = resolve_lt_version(nx, lt.version)
    params = [{"type": "Version", "value": target}]
    if target_release is not None:
        params.append({"type": "ReleaseVersion", "value": target_release})
    if lt is not None:
        params.append({"type": "LaunchTemplateName", "value": current_lt.get("name", "")})
        params.append({"type": "LaunchTemplateVersion", "value": target_lt_version})

    update = start_update(
        registry,
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
    update.fingerprint = req.fingerprint
    if token is not None:
        nx.tokens[token] = update
    nx.updates_created += 1
    log.info(
        "update %s started on %s/%s: %s (ends %s after %d polls)",
        update.id,
        cluster_name,
        ng_name,
        params,
        update.outcome,
        update.polls_left,
    )
    return {"update": update.to_api()}


def _check_launch_template_syntax(lt: LaunchTemplateRef, bad: Any) -> None:
    if lt.id is not None and lt.name is not None:
        raise bad("Either launch template ID or launch template name can be specified, but not both.")
    if lt.id is None and lt.name is None:
        raise bad("A launch template ID or launch template name must be specified.")
    if (
        lt.version is not None
        and lt.version not in ("$Latest", "$Default")
        and not (lt.version.isdigit() and int(lt.version) > 0)
    ):
        raise bad(f"Invalid launch template version {lt.version!r}.")


def resolve_lt_version(nx: NodegroupExtra, requested: str | None) -> str:
    """A launch template version as EKS records it: always a number."""
    current = str((nx.moto.launch_template or {}).get("version") or "1")
    if requested == "$Latest":
        return nx.lt_latest_version or current
    if requested in (None, "$Default"):
        return nx.lt_default_version or current
    return requested


def start_update(
    registry: Registry,
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
        created_at=created_at if created_at is not None else now(),
        cluster_name=cx.moto.name,
        nodegroup_name=ng.nodegroup_name,
        outcome=nx.update_outcome,
        polls_left=registry.polls(nx),
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


def finish(nx: NodegroupExtra, update: Update) -> None:
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


def finish_all(registry: Registry, cluster_name: Any, nodegroup_name: Any) -> list[dict[str, Any]]:
    """End every InProgress update now (of one cluster / node group, unless None)."""
    finished = []
    for (_, _, cname), cx in registry.clusters.items():
        if cluster_name is not None and cname != cluster_name:
            continue
        for nname, nx in cx.nodegroups.items():
            if nodegroup_name is not None and nname != nodegroup_name:
                continue
            for u in nx.updates:
                if u.status == IN_PROGRESS:
                    u.polls_left = 0
                    finish(nx, u)
                    finished.append(u.to_state())
    return finished


# ------------------------------------------------- DescribeUpdate/ListUpdates


def _updates_in_scope(
    registry: Registry, account: str, region: str, cluster_name: str, query: UpdatesQuery
) -> tuple[list[Update], NodegroupExtra | None]:
    _, cx = registry.cluster(account, region, cluster_name)
    if query.nodegroup is not None:
        _, nx = registry.nodegroup(cx, cluster_name, query.nodegroup)
        return nx.updates, nx
    if query.addon is not None:
        # Add-ons are not modelled: none exists.
        raise EksError(
            "ResourceNotFoundException", f"No addon: {query.addon} found in cluster: {cluster_name}", cluster_name
        )
    # Cluster-level updates (control plane) are not modelled: there are none.
    return [], None


def describe_update(
    registry: Registry, account: str, region: str, cluster_name: str, update_id: str, query: UpdatesQuery
) -> dict[str, Any]:
    updates, nx = _updates_in_scope(registry, account, region, cluster_name, query)
    update = next((u for u in updates if u.id == update_id), None)
    if update is None:
        raise EksError(
            "ResourceNotFoundException", f"No update found for ID: {update_id}.", cluster_name, query.nodegroup
        )
    update.describe_calls += 1
    # Polling is what moves an update along: it stays InProgress for
    # a set number of DescribeUpdate calls, then ends.
    if update.status == IN_PROGRESS:
        if update.polls_left > 0:
            update.polls_left -= 1
        else:
            finish(nx, update)
    return {"update": update.to_api()}


def list_updates(
    registry: Registry, account: str, region: str, cluster_name: str, query: UpdatesQuery
) -> dict[str, Any]:
    updates, _ = _updates_in_scope(registry, account, region, cluster_name, query)
    limit = query.page_limit(cluster_name)
    # The server-wide page size caps every page, even when the client
    # asks for more: EKS may return fewer than maxResults, and this is
    # how tests make any client walk several pages.
    limit = min(limit, registry.config.page_size)
    scope = hashlib.sha256(f"{account}/{region}/{cluster_name}/{query.nodegroup}".encode()).hexdigest()[:16]
    offset = 0
    if query.next_token:
        decoded = _decode_token(query.next_token, scope)
        if decoded is None:
            raise invalid_parameter("The nextToken is not valid.", cluster_name, query.nodegroup)
        offset = decoded
    page = updates[offset : offset + limit]
    out: dict[str, Any] = {"updateIds": [u.id for u in page]}
    if offset + limit < len(updates):
        out["nextToken"] = _encode_token(scope, offset + limit)
    return out


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
