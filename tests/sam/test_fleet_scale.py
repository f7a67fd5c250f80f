"""The fleet at scale: many clusters of many node groups, a tenth of them behind, rolled to the end.

`make test` rolls 10 clusters × 30 node groups; `make scale` the full 100 × 30 = 3,000 (EKS's
default quotas per Region), with the same assertions (FLEET_SCALE_CLUSTERS and
FLEET_SCALE_NODEGROUPS choose). Every record is checked in the report and against the world,
and every execution's history (the fleet's, each nested update execution's, each map child's)
is measured by the local executor from the histories themselves (sfnlocal's /_sfnlocal/stats)
and held under Step Functions' hard limits; the largest of each is printed.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from typing import Any

import conftest
import pytest

pytestmark = pytest.mark.usefixtures("logs_on_failure")

CLUSTERS = int(os.environ.get("FLEET_SCALE_CLUSTERS", "10"))
LATENCY_MS = int(os.environ.get("FLEET_SCALE_LATENCY_MS", "0"))
# Nested update executions at once. The local executor is one Python process (every
# execution, map child and local endpoint behind one interpreter lock): 10 keeps it
# responsive; Step Functions itself runs far more.
MAX_CONCURRENCY = int(os.environ.get("FLEET_SCALE_MAX_CONCURRENCY", "10"))
NODEGROUPS = int(os.environ.get("FLEET_SCALE_NODEGROUPS", "30"))
BEHIND_EVERY = 10  # one node group in ten needs the newest release
LATEST = "1.31.7-20251120"
OLD = "1.31.2-20241115"

# Step Functions' hard quotas.
MAX_PAYLOAD_BYTES = 262_144
MAX_HISTORY_EVENTS = 25_000
MAX_CAUSE_CHARS = 32_768


def _stats(url: str, method: str = "GET") -> dict:
    request = urllib.request.Request(f"{url}/_sfnlocal/stats", method=method)
    with urllib.request.urlopen(request, timeout=120) as resp:
        return json.loads(resp.read() or b"{}")


@contextlib.contextmanager
def _requests_sent(client: Any) -> Iterator[Counter[str]]:
    """The requests `client` sends while inside, by `service:Operation` as localeks counts them
    (the signing name, the operation), each attempt once: what this test itself adds to
    `/_localeks/calls`, which counts every caller (the test, the executor, the functions)."""
    sent: Counter[str] = Counter()
    service = client.meta.service_model.signing_name

    def count(event_name: str, **_: Any) -> None:
        sent[f"{service}:{event_name.rsplit('.', 1)[-1]}"] += 1  # before-send.<service id>.<Operation>

    client.meta.events.register("before-send", count)
    try:
        yield sent
    finally:
        client.meta.events.unregister("before-send", count)


def _when(event: dict) -> float:
    return event["timestamp"].timestamp()


def _planning_time(ex) -> float:
    """From the fleet's history: Start entered to Decide exited."""
    entered = [_when(e) for e in ex.history if e.get("stateEnteredEventDetails", {}).get("name") == "Start"]
    exited = [_when(e) for e in ex.history if e.get("stateExitedEventDetails", {}).get("name") == "Decide"]
    return exited[0] - entered[0]


def _events(stats, measured, ex) -> dict[str, int]:
    children = stats["mapChildren"].items()
    return {
        "fleet": measured[ex.arn]["events"],
        "observe children": sum(c["events"] for k, c in children if "/Observe:" in k),
        "wave children": sum(c["events"] for k, c in children if "/Wave:" in k),
        "nested update executions": sum(
            s["events"] for k, s in measured.items() if k != ex.arn and not k.startswith("map child")
        ),
    }


def test_a_fleet_of_many_clusters_rolls_to_the_end_within_step_functions_limits(stack, workdir):
    names = [f"fl-scale-{c:03d}" for c in range(CLUSTERS)]
    behind = set()
    clusters = []
    for c, cluster in enumerate(names):
        nodegroups = []
        for n in range(NODEGROUPS):
            name = f"ng-{n:02d}"
            late = (c * NODEGROUPS + n) % BEHIND_EVERY == 0
            if late:
                behind.add((cluster, name))
            nodegroups.append(
                {"name": name, "version": "1.31", "releaseVersion": OLD if late else LATEST, "pollsInProgress": 1}
            )
        clusters.append(
            {
                "name": cluster,
                "version": "1.31",
                "latestReleases": {"1.31": LATEST},
                "publishLatestToSsm": True,
                "nodegroups": nodegroups,
            }
        )
    stack.eks.seed({"clusters": clusters})
    total = CLUSTERS * NODEGROUPS
    selectors = [{"clusters": ["fl-scale-*"]}]
    stack.eks.config(latencyMs=LATENCY_MS)

    # Planning alone (a dry run): what it reads, once each, and how long it takes. The calls are
    # the roll's own: every call localeks served (the executor's, the planner's, the test's) but
    # the test's own Step Functions requests (its StartExecution, its DescribeExecution polls).
    stack.eks.clear_calls()
    with _requests_sent(stack.sfn) as own:
        dry = stack.run("RollFleetStateMachine", {"selectors": selectors, "dryRun": True}, timeout=600 + total)
    served = Counter(stack.eks.calls()["total"])
    assert dry.status == "SUCCEEDED", dry.explain()
    assert dry.output["counts"]["wouldUpdate"] == len(behind)
    # localeks names the test's StartExecution as the test sent it: it would name the roll's so too.
    assert served["states:StartExecution"] >= own["states:StartExecution"] == 1, (served, own)
    reads = dict(served - own)
    assert reads.get("eks:DescribeCluster") == CLUSTERS, reads  # once per cluster
    assert reads.get("ssm:GetParameter") == 1, reads  # each SSM parameter once per roll
    assert reads.get("eks:DescribeNodegroup") == total, reads
    assert reads.get("eks:ListClusters", 0) >= 1 and reads.get("eks:ListNodegroups", 0) >= CLUSTERS, reads
    # A dry run changes nothing: no update, and no nested update execution started.
    assert "eks:UpdateNodegroupVersion" not in reads and "states:StartExecution" not in reads, reads
    planning = _planning_time(dry)
    eks_reads = sum(n for k, n in reads.items() if k.startswith("eks:"))

    # The latency is for the planning figures; the roll is measured for its histories.
    stack.eks.config(latencyMs=0)
    _stats(stack.eks.url, "DELETE")  # only the roll's map children
    stack.eks.clear_calls()
    planner_log = workdir / "planner.log"
    log_start = planner_log.stat().st_size

    started = time.monotonic()
    with _requests_sent(stack.sfn) as own:
        ex = stack.run(
            "RollFleetStateMachine",
            {"selectors": selectors, "maxConcurrency": MAX_CONCURRENCY, "toleratedFailurePercentage": 0},
            timeout=600 + 2 * CLUSTERS * NODEGROUPS,
        )
    elapsed = time.monotonic() - started
    rolled = Counter(stack.eks.calls()["total"]) - own
    with planner_log.open("rb") as log:
        log.seek(log_start)
        done = [
            json.loads(line)["fields"]
            for line in log.read().decode(errors="replace").splitlines()
            if '"message":"step done"' in line
        ]
    steps = Counter(d["action"] for d in done)
    slowest = {a: max(d["elapsed_ms"] for d in done if d["action"] == a) for a in steps}

    assert ex.status == "SUCCEEDED", ex.explain()
    counts = ex.output["counts"]
    assert counts == {
        "targets": total,
        "updated": len(behind),
        "upToDate": total - len(behind),
        "deferred": 0,
        "wouldUpdate": 0,
        "failed": 0,
        "notStarted": 0,
    }, counts

    s3 = stack.s3()
    rows = json.loads(s3.get_object(Bucket=conftest.FLEET_BUCKET, Key=ex.output["report"]["json"])["Body"].read())
    assert [(r["clusterName"], r["nodegroupName"]) for r in rows] == [
        (c, f"ng-{n:02d}") for c in names for n in range(NODEGROUPS)
    ]
    world = {
        (c["name"], ng["name"]): ng
        for c in stack.eks.state()["clusters"]
        if c["name"] in names
        for ng in c["nodegroups"]
    }
    for row in rows:
        key = (row["clusterName"], row["nodegroupName"])
        assert world[key]["releaseVersion"] == LATEST, (key, world[key])
        if key in behind:
            assert row["status"] == "SUCCEEDED" and row["updateStatus"] == "Successful", row
            assert row["executionArn"] and row["fromReleaseVersion"] == OLD and row["toReleaseVersion"] == LATEST
            assert world[key]["updatesCreated"] == 1
        else:
            assert row["status"] == "SETTLED" and row["planned"] == "UpToDate", row
            assert row["executionArn"] is None
            assert world[key]["updateNodegroupVersionCalls"] == 0

    # Only the node groups that needed it got a nested execution (named from this roll's id).
    pages = stack.sfn.get_paginator("list_executions").paginate(
        stateMachineArn=stack.state_machine_arns["UpdateNodegroupStateMachine"]
    )
    mine = {r["executionArn"] for r in rows if r["executionArn"]}
    assert len(mine) == len(behind)
    started_by_roll = [e for page in pages for e in page["executions"] if e["executionArn"] in mine]
    assert len(started_by_roll) == len(behind)
    # Counted as the dry run's calls are, the roll's own nested starts are seen: so is the
    # dry run's absence of them.
    assert rolled["states:StartExecution"] == len(behind), rolled
    assert rolled["eks:UpdateNodegroupVersion"] == len(behind), rolled

    stats = _stats(stack.eks.url)
    measured = {
        arn: s for arn, s in stats["executions"].items() if arn == ex.arn or arn in {r["executionArn"] for r in rows}
    }
    measured.update({f"map child {k}": v for k, v in stats["mapChildren"].items()})
    assert ex.arn in measured and len(measured) >= 1 + len(behind) + CLUSTERS
    largest = {
        key: max(measured.items(), key=lambda item, key=key: item[1][key])
        for key in ("events", "maxStateInputBytes", "maxStateOutputBytes", "maxPayloadBytes", "maxCauseChars")
    }
    print(f"\nfleet of {total} node groups over {CLUSTERS} clusters, {len(behind)} behind: {elapsed:.1f} s")
    print(f"  the fleet execution's own history: {measured[ex.arn]['events']} events")
    for key, (arn, s) in largest.items():
        print(f"  largest {key}: {s[key]} ({arn})")
    events = _events(stats, measured, ex)
    print(f"  planning (dry run, {LATENCY_MS} ms per AWS call): {planning:.1f} s, Start entered to Decide exited")
    print(f"  planning reads: {eks_reads} EKS ({eks_reads / total:.2f} per target), SSM {reads['ssm:GetParameter']}")
    print(f"  planner invocations of the roll: {sum(steps.values())} ({dict(steps)})")
    print(f"  the planner's longest invocation of each step, ms (its timeout: 900,000): {slowest}")
    print(f"  history events: {events}")
    shared = events["fleet"] + events["observe children"]
    print(f"  per up-to-date target: 0 nested executions, {shared / total:.2f} events of the shared planning")
    updated = events["wave children"] + events["nested update executions"]
    print(f"  per updated target: 1 nested execution, {updated / len(behind):.1f} events")
    assert steps["observe"] >= CLUSTERS and steps["start"] == steps["decide"] == steps["report"] == 1
    assert largest["events"][1]["events"] < MAX_HISTORY_EVENTS
    assert largest["maxStateInputBytes"][1]["maxStateInputBytes"] < MAX_PAYLOAD_BYTES
    assert largest["maxStateOutputBytes"][1]["maxStateOutputBytes"] < MAX_PAYLOAD_BYTES
    assert largest["maxPayloadBytes"][1]["maxPayloadBytes"] < MAX_PAYLOAD_BYTES
    assert largest["maxCauseChars"][1]["maxCauseChars"] < MAX_CAUSE_CHARS
    # Bounded whatever the size: the fleet's own history grows with waves and clusters'
    # Map Run, not with node groups; its largest payload is the few keys of $.roll.
    assert measured[ex.arn]["events"] < 200, measured[ex.arn]
    assert measured[ex.arn]["maxPayloadBytes"] < 4096, measured[ex.arn]
