"""Clusters and node groups: moto's objects, found by name, with what localeks keeps beside them.

``Registry`` is the one place that maps a moto cluster or node group to its ``ClusterExtra``
/ ``NodegroupExtra`` (made with defaults for anything created through moto's own API, and
made anew when moto's object was replaced), and the state dump of /_localeks/state.
"""

from __future__ import annotations

from typing import Any

from moto.eks.models import eks_backends

from . import versions as v
from .errors import not_found_cluster, not_found_nodegroup
from .model import UPDATABLE_STATUSES, ClusterExtra, Config, NodegroupExtra


class Registry:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.clusters: dict[tuple[str, str, str], ClusterExtra] = {}

    @staticmethod
    def backend(account: str, region: str) -> Any | None:
        try:
            return eks_backends[account][region]
        except KeyError:
            return None  # a region moto does not know

    def cluster(self, account: str, region: str, name: str) -> tuple[Any, ClusterExtra]:
        backend = self.backend(account, region)
        cluster = backend.clusters.get(name) if backend is not None else None
        if cluster is None:
            raise not_found_cluster(name)
        key = (account, region, name)
        extra = self.clusters.get(key)
        # A cluster deleted and made again through moto's API is a new object:
        # what we knew about the old one must not leak into it.
        if extra is None or extra.moto is not cluster:
            extra = self.clusters[key] = ClusterExtra(moto=cluster)
        return cluster, extra

    def nodegroup(self, cx: ClusterExtra, cluster_name: str, name: str) -> tuple[Any, NodegroupExtra]:
        ng = cx.moto.nodegroups.get(name)
        if ng is None:
            raise not_found_nodegroup(cluster_name, name)
        extra = cx.nodegroups.get(name)
        if extra is None or extra.moto is not ng:
            # A node group made through moto's own CreateNodegroup: defaults.
            before = ng.status if ng.status in UPDATABLE_STATUSES else "ACTIVE"
            extra = cx.nodegroups[name] = NodegroupExtra(moto=ng, status_before_update=before)
        return ng, extra

    def cluster_described(self, account: str, region: str, name: str) -> bool:
        """Count a DescribeCluster of a cluster seeded with ``updatingDescribes``.

        The first N calls leave it UPDATING, the next one makes it ACTIVE for good. True when
        the cluster has such an update (counted now): the caller then answers under the
        store's lock, so concurrent calls each see the status their turn gave.
        """
        backend = self.backend(account, region)
        cluster = backend.clusters.get(name) if backend is not None else None
        extra = self.clusters.get((account, region, name))
        if cluster is None or extra is None or extra.moto is not cluster or extra.updating_describes_left is None:
            return False
        if extra.updating_describes_left > 0:
            extra.updating_describes_left -= 1
        else:
            cluster.status = "ACTIVE"
            extra.updating_describes_left = None
        return True

    def latest_release(self, cx: ClusterExtra, nx: NodegroupExtra, version: str) -> str | None:
        family = v.ami_family(nx.moto.ami_type)
        if family == v.CUSTOM:
            return None
        return (
            nx.latest_releases.get(version)
            or cx.latest_releases.get(version)
            or v.synthesized_latest_release(family, version)
        )

    def polls(self, nx: NodegroupExtra) -> int:
        return nx.polls_in_progress if nx.polls_in_progress is not None else self.config.polls_in_progress

    def forget_all(self) -> None:
        """Forget every EKS cluster, in every account and region."""
        for account_backends in list(eks_backends.values()):
            for backend in list(account_backends.values()):
                backend.clusters.clear()
                backend.cluster_count = 0
        self.clusters.clear()

    def dump(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """(clusters with their node groups, every update) for /_localeks/state."""
        clusters = []
        updates = []
        for account, account_backends in list(eks_backends.items()):
            for region, backend in list(account_backends.items()):
                for cname, cluster in list(backend.clusters.items()):
                    _, cx = self.cluster(account, region, cname)
                    ngs = []
                    for nname in list(cluster.nodegroups):
                        ng, nx = self.nodegroup(cx, cname, nname)
                        ngs.append(
                            {
                                "name": nname,
                                "version": ng.version,
                                "releaseVersion": ng.release_version,
                                "status": ng.status,
                                "amiType": ng.ami_type,
                                "launchTemplate": ng.launch_template,
                                "tags": dict(ng.tags or {}),
                                "updateOutcome": nx.update_outcome,
                                "pollsInProgress": self.polls(nx),
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
                            "updatingDescribesLeft": cx.updating_describes_left,
                            "latestReleases": dict(cx.latest_releases),
                            "nodegroups": ngs,
                        }
                    )
        return clusters, updates
