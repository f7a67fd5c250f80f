"""The store: the state moto lacks, behind one lock, and what app.py calls.

Split by resource, each module a part of it:

- ``model.py``     the records kept beside moto's objects (updates, tokens, counters);
- ``requests.py``  the typed request shapes, parsed once at each handler's edge;
- ``clusters.py``  clusters and node groups: moto's objects found by name, the state dump;
- ``updates.py``   UpdateNodegroupVersion, DescribeUpdate, ListUpdates; how updates end;
- ``listing.py``   ListClusters, ListNodegroups, paged by the server-wide page size;
- ``seeding.py``   POST /_localeks/seed;
- ``ssm.py``       the public SSM parameters a seed publishes.

Every public method takes the store's lock: werkzeug serves each request on
its own thread, and an update touches several objects at once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from . import listing, seeding, trust, updates
from .clusters import Registry
from .model import Config, default_account_id
from .requests import ConfigChange, FinishUpdates, PageQuery, Seed, SsmParameters, UpdatesQuery
from .ssm import PublicParameters

__all__ = ["Config", "Store", "default_account_id"]

T = TypeVar("T")


class Store:
    def __init__(self, config: Config) -> None:
        self._lock = threading.RLock()
        self._startup_config = Config(**vars(config))
        self._registry = Registry(config)
        self.ssm = PublicParameters()
        # Calls for node groups that did not exist, so the state dump can
        # still say how many calls the endpoint saw in all.
        self._calls_total = 0

    @property
    def config(self) -> Config:
        return self._registry.config

    # ------------------------------------------------------------- EKS calls

    def update_nodegroup_version(
        self, account: str, region: str, cluster_name: str, ng_name: str, body: Any
    ) -> dict[str, Any]:
        with self._lock:
            self._calls_total += 1
            return updates.update_nodegroup_version(self._registry, account, region, cluster_name, ng_name, body)

    def describe_update(
        self, account: str, region: str, cluster_name: str, update_id: str, query: UpdatesQuery
    ) -> dict[str, Any]:
        with self._lock:
            return updates.describe_update(self._registry, account, region, cluster_name, update_id, query)

    def list_updates(self, account: str, region: str, cluster_name: str, query: UpdatesQuery) -> dict[str, Any]:
        with self._lock:
            return updates.list_updates(self._registry, account, region, cluster_name, query)

    def list_clusters(self, account: str, region: str, query: PageQuery) -> dict[str, Any]:
        with self._lock:
            return listing.list_clusters(self._registry, account, region, query)

    def list_nodegroups(self, account: str, region: str, cluster_name: str, query: PageQuery) -> dict[str, Any]:
        with self._lock:
            return listing.list_nodegroups(self._registry, account, region, cluster_name, query)

    def describe_cluster(self, account: str, region: str, name: str, answer: Callable[[], T]) -> T:
        """moto's DescribeCluster (`answer`), after counting it for a seeded control-plane update."""
        with self._lock:
            if self._registry.cluster_described(account, region, name):
                return answer()
        return answer()

    # --------------------------------------------------------------- admin API

    def reset(self) -> dict[str, Any]:
        """Forget every EKS cluster (in every account and region) and update, the published SSM
        parameters and the seeded IAM roles."""
        with self._lock:
            self._registry.forget_all()
            self.ssm.clear()
            trust.forget_seeded()
            self._calls_total = 0
            self._registry.config = Config(**vars(self._startup_config))
            return {"reset": True, "config": self.config.to_api()}

    def set_config(self, payload: Any) -> dict[str, Any]:
        with self._lock:
            change = ConfigChange.parse(payload)
            if change.page_size is not None:
                self.config.page_size = change.page_size
            if change.polls_in_progress is not None:
                self.config.polls_in_progress = change.polls_in_progress
            if change.latency_ms is not None:
                self.config.latency_ms = change.latency_ms
            return {"config": self.config.to_api()}

    def finish_updates(self, payload: Any) -> dict[str, Any]:
        """End every InProgress update now (optionally of one cluster / node group)."""
        with self._lock:
            which = FinishUpdates.parse(payload)
            return {"finished": updates.finish_all(self._registry, which.cluster_name, which.nodegroup_name)}

    def seed(self, payload: Any) -> dict[str, Any]:
        with self._lock:
            return seeding.seed(self._registry, self.ssm, Seed.parse(payload))

    def put_ssm_parameters(self, payload: Any) -> dict[str, Any]:
        """POST /_localeks/ssm-parameters: publish public SSM parameters."""
        with self._lock:
            req = SsmParameters.parse(payload)
            return {"ssmParameters": seeding.put_ssm(self.ssm, req.account, req.region, req.parameters)}

    def state(self) -> dict[str, Any]:
        with self._lock:
            clusters, all_updates = self._registry.dump()
            return {
                "config": self.config.to_api(),
                "updateNodegroupVersionCallsTotal": self._calls_total,
                "clusters": clusters,
                "updates": all_updates,
            }
