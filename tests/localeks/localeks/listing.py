"""ListClusters and ListNodegroups, paged the way ListUpdates is.

moto pages both by ``maxResults`` (default 100) only, with the next name as the token: the
server-wide ``pageSize`` did not reach them, so a fleet under 100 clusters never made a client
walk a second page; a token it did not make, or an unknown cluster, was an HTML 500. Here:

- names in name order, as moto lists them;
- a page holds ``min(maxResults or 100, pageSize)`` names (``maxResults`` outside 1-100: 400
  InvalidParameterException, as EKS);
- ``nextToken`` is opaque and bound to its list (another list's, or a made-up one: 400
  InvalidParameterException); it holds the last name given, so the next page starts after it
  even when clusters or node groups came or went in between (none listed twice, none still
  there skipped);
- ListNodegroups of an unknown cluster: 404 ResourceNotFoundException.

The functions here are called with the store's lock held (store.py).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from bisect import bisect_right
from typing import Any

from .clusters import Registry
from .errors import invalid_parameter, not_found_cluster
from .requests import PageQuery


def list_clusters(registry: Registry, account: str, region: str, query: PageQuery) -> dict[str, Any]:
    backend = registry.backend(account, region)
    names = list(backend.clusters) if backend is not None else []
    names, token = _page(names, f"clusters/{account}/{region}", query, registry.config.page_size, None)
    return {"clusters": names, **({"nextToken": token} if token else {})}


def list_nodegroups(
    registry: Registry, account: str, region: str, cluster_name: str, query: PageQuery
) -> dict[str, Any]:
    backend = registry.backend(account, region)
    cluster = backend.clusters.get(cluster_name) if backend is not None else None
    if cluster is None:
        raise not_found_cluster(cluster_name)
    names, token = _page(
        list(cluster.nodegroups),
        f"nodegroups/{account}/{region}/{cluster_name}",
        query,
        registry.config.page_size,
        cluster_name,
    )
    return {"nodegroups": names, **({"nextToken": token} if token else {})}


def _page(
    names: list[str], list_id: str, query: PageQuery, page_size: int, cluster: str | None
) -> tuple[list[str], str | None]:
    """One page of `names` (sorted here) and the token of the next, if any."""
    limit = min(query.page_limit(cluster), page_size)
    scope = hashlib.sha256(list_id.encode()).hexdigest()[:16]
    names = sorted(names)
    start = 0
    if query.next_token:
        after = _decode(query.next_token, scope)
        if after is None:
            raise invalid_parameter("The nextToken is not valid.", cluster)
        start = bisect_right(names, after)
    page = names[start : start + limit]
    more = start + limit < len(names)
    return page, _encode(scope, page[-1]) if more else None


def _encode(scope: str, after: str) -> str:
    raw = json.dumps({"s": scope, "a": after}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(token: str, scope: str) -> str | None:
    """The last name a page gave, or None when the token is not one of ours for this list."""
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if data.get("s") != scope or not isinstance(data.get("a"), str):
            return None
        return data["a"]
    except (binascii.Error, ValueError, AttributeError, TypeError):
        return None
