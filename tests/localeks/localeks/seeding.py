"""POST /_localeks/seed: clusters and node groups made in moto, with their updates and releases.

A seed is parsed whole first (requests.Seed), so a malformed one changes nothing; then each
cluster replaces any of the same name, its node groups are made through moto's
CreateNodegroup and set to what the seed says (as EKS would show it), with any completed
and running updates, and the latest releases are published to SSM when asked.

The functions here are called with the store's lock held (store.py).
"""

from __future__ import annotations

import uuid
from typing import Any

from moto.utilities.utils import get_partition

from . import trust
from . import versions as v
from .clusters import Registry
from .errors import AdminError
from .model import SUCCESSFUL, UPDATABLE_STATUSES, ClusterExtra, NodegroupExtra, Update, now
from .requests import ClusterSpec, NodegroupSpec, RunningUpdateSpec, Seed
from .ssm import PublicParameters, parameter_name
from .updates import resolve_lt_version, start_update


def seed(registry: Registry, ssm: PublicParameters, req: Seed) -> dict[str, Any]:
    backend = registry.backend(req.account, req.region)
    if backend is None:
        raise AdminError(f"seed: unknown region {req.region!r}")
    made = [_seed_cluster(registry, backend, req.account, req.region, c) for c in req.clusters]
    params = put_ssm(ssm, req.account, req.region, req.ssm_parameters)
    for spec in req.clusters:
        if spec.publish_latest:
            params += _publish_latest(registry, ssm, req.account, req.region, spec.name, spec.publish_latest)
    roles = trust.seed_roles(req.account, req.roles)
    return {"accountId": req.account, "region": req.region, "clusters": made, "ssmParameters": params, "roles": roles}


def put_ssm(ssm: PublicParameters, account: str, region: str, specs: list[Any]) -> list[dict[str, Any]]:
    return [ssm.put(account, region, spec) for spec in specs]


def _publish_latest(
    registry: Registry, ssm: PublicParameters, account: str, region: str, cluster_name: str, publish: Any
) -> list[dict[str, Any]]:
    """Publish each node group's latest releases where EKS's SSM parameters are.

    So the endpoint's idea of "latest" (what it picks when a request has
    no releaseVersion) and the public parameters a client reads agree.
    """
    age = publish.get("ageDays", 30) if isinstance(publish, dict) else 30
    cx = registry.clusters[(account, region, cluster_name)]
    seen: dict[str, str] = {}
    for nx in cx.nodegroups.values():
        for version, release in {**cx.latest_releases, **nx.latest_releases}.items():
            name = parameter_name(nx.moto.ami_type, version)
            if name is not None and name not in seen:
                seen[name] = release
    return [put_ssm(ssm, account, region, [{"name": n, "value": r, "ageDays": age}])[0] for n, r in seen.items()]


def _seed_cluster(registry: Registry, backend: Any, account: str, region: str, spec: ClusterSpec) -> dict[str, Any]:
    name = spec.name
    # Seeding a cluster again replaces it, with all its node groups and updates.
    if name in backend.clusters:
        del backend.clusters[name]
        backend.cluster_count -= 1
    registry.clusters.pop((account, region, name), None)

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
        version=spec.version,
    )
    if spec.platform_version is not None:
        cluster.platformVersion = spec.platform_version
    cx = ClusterExtra(moto=cluster, latest_releases=dict(spec.latest_releases))
    registry.clusters[(account, region, name)] = cx
    made = [_seed_nodegroup(registry, backend, account, cx, n) for n in spec.nodegroups]
    # Last: moto only adds node groups to an ACTIVE cluster.
    cluster.status = spec.status
    cx.updating_describes_left = spec.updating_describes
    return {
        "name": name,
        "version": cluster.version,
        "status": cluster.status,
        "updatingDescribes": spec.updating_describes,
        "nodegroups": made,
    }


def _seed_nodegroup(
    registry: Registry, backend: Any, account: str, cx: ClusterExtra, spec: NodegroupSpec
) -> dict[str, Any]:
    cluster = cx.moto
    name = spec.name
    lt_copy = spec.launch_template
    ng = backend.create_nodegroup(
        cluster_name=cluster.name,
        node_role=f"arn:{get_partition(backend.region_name)}:iam::{account}:role/localeks-node",
        nodegroup_name=name,
        subnets=list(cluster.resources_vpc_config["subnetIds"]),
        instance_types=spec.instance_types,
        ami_type=spec.ami_type,
        capacity_type=spec.capacity_type,
        scaling_config=spec.scaling_config,
        labels=spec.labels,
        tags=dict(spec.tags),
        launch_template=dict(lt_copy) if lt_copy else None,
        version=spec.version,
        release_version=spec.release_version,
    )
    # moto always reports the values it was created with or its own
    # defaults; set what the seed says, the way EKS would show it.
    ng.version = spec.version
    ng.release_version = spec.release_version
    ng.ami_type = spec.ami_type
    ng.launch_template = dict(lt_copy) if lt_copy is not None else None
    if lt_copy is not None:
        # EKS keeps disk size and remote access in the launch template.
        ng.disk_size = None
        ng.remote_access = None
    if ng.scaling_config is not None:
        ng.scaling_config = dict(ng.scaling_config)  # moto shares one default dict
    ng.status = spec.status

    nx = NodegroupExtra(
        moto=ng,
        update_outcome=spec.update_outcome,
        polls_in_progress=spec.polls_in_progress,
        latest_releases=dict(spec.latest_releases),
        lt_latest_version=spec.lt_latest_version,
        lt_default_version=spec.lt_default_version,
        status_before_update=spec.status if spec.status in UPDATABLE_STATUSES else "ACTIVE",
    )
    cx.nodegroups[name] = nx

    # Completed updates first, a day apart and oldest first, so
    # ListUpdates returns them before anything made later.
    past = spec.past_updates
    created = now()
    past_ids = []
    for i in range(past):
        params = [{"type": "Version", "value": spec.version}]
        if v.ami_family(spec.ami_type) != v.CUSTOM:
            params.append({"type": "ReleaseVersion", "value": spec.release_version})
        u = Update(
            id=str(uuid.uuid4()),
            type="VersionUpdate",
            params=params,
            created_at=round(created - (past - i + 1) * 86400, 3),
            cluster_name=cluster.name,
            nodegroup_name=name,
            outcome=SUCCESSFUL,
            polls_left=0,
            target_version=spec.version,
            target_release=spec.release_version,
            origin="seed-past",
            status=SUCCESSFUL,
        )
        nx.updates.append(u)
        past_ids.append(u.id)

    running_id = None
    if spec.running_update is not None:
        running_id = _seed_running(registry, cx, nx, spec.running_update).id

    return {
        "name": name,
        "version": ng.version,
        "releaseVersion": ng.release_version,
        "amiType": ng.ami_type,
        "status": ng.status,
        "launchTemplate": ng.launch_template,
        "tags": dict(ng.tags),
        "runningUpdateId": running_id,
        "pastUpdateIds": past_ids,
    }


def _seed_running(registry: Registry, cx: ClusterExtra, nx: NodegroupExtra, spec: RunningUpdateSpec) -> Update:
    ng = nx.moto
    params: list[dict[str, str]] = []
    target_version = target_release = target_lt = None
    if spec.type == "VersionUpdate":
        target_version = spec.version if spec.version is not None else ng.version
        target_release = spec.release_version or registry.latest_release(cx, nx, target_version)
        params.append({"type": "Version", "value": target_version})
        if target_release is not None:
            params.append({"type": "ReleaseVersion", "value": target_release})
        lt = spec.launch_template
        if lt is not None and ng.launch_template:
            target_lt = resolve_lt_version(nx, (lt or {}).get("version"))
            params.append({"type": "LaunchTemplateName", "value": ng.launch_template["name"]})
            params.append({"type": "LaunchTemplateVersion", "value": target_lt})
    else:
        # Some other kind of update (e.g. ConfigUpdate): it only blocks the
        # node group while it runs and changes no version.
        params.append({"type": "DesiredSize", "value": str((ng.scaling_config or {}).get("desiredSize", 2))})
    update = start_update(
        registry,
        cx,
        nx,
        type_=spec.type,
        params=params,
        target_version=target_version,
        target_release=target_release,
        target_lt_version=target_lt,
        origin="seed-running",
    )
    token = spec.client_request_token
    if token is not None:
        # As if this update had been made by a request with that token
        # and exactly these parameters.
        update.client_request_token = token
        update.fingerprint = spec.fingerprint
        nx.tokens[token] = update
    return update
