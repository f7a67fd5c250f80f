"""What localeks keeps beside moto's objects: the records every resource module shares.

Clusters and node groups stay in moto's own EKS backend, so moto's DescribeCluster /
DescribeNodegroup keep answering and show what an update did. What moto has no notion of
lives here, next to each moto object: the updates of a node group, their client request
tokens, how a seeded node group's updates end, and counters for the tests.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any

from moto.core import DEFAULT_ACCOUNT_ID

IN_PROGRESS = "InProgress"
SUCCESSFUL = "Successful"
FAILED = "Failed"
OUTCOMES = (SUCCESSFUL, FAILED)

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 100  # ListUpdates' maxResults range is 1-100
MAX_LATENCY_MS = 10_000

# Node group statuses from which EKS starts an update.
UPDATABLE_STATUSES = ("ACTIVE", "DEGRADED")
# Statuses that mean "busy with something else": EKS answers 409 for them.
BUSY_STATUSES = ("UPDATING", "CREATING", "DELETING")


def default_account_id() -> str:
    # moto's own rule: MOTO_ACCOUNT_ID wins over the built-in default.
    return os.environ.get("MOTO_ACCOUNT_ID", DEFAULT_ACCOUNT_ID)


def now() -> float:
    return round(time.time(), 3)


@dataclass
class Config:
    """Server-wide knobs, settable with POST /_localeks/config."""

    page_size: int = DEFAULT_PAGE_SIZE
    polls_in_progress: int = 2
    # Every AWS API request (not /_localeks/) is answered this much later: a network's and
    # a service's latency, for benchmarks. Each request waits on its own thread.
    latency_ms: int = 0

    def to_api(self) -> dict[str, Any]:
        return {"pageSize": self.page_size, "pollsInProgress": self.polls_in_progress, "latencyMs": self.latency_ms}


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
    # A seeded control-plane update: DescribeCluster calls still to answer UPDATING
    # before the cluster turns ACTIVE (None: no such update, the status stays as it is).
    updating_describes_left: int | None = None
