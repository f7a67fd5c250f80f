"""Duplicate deliveries under scale-out (issue #7, item 3).

Lambda runs one invocation per execution environment at a time and scales out by starting
more; EventBridge delivers at least once. Here twenty function processes poll ONE
`cargo lambda watch` Runtime API, which hands each GET /next to one poller (checked below:
every process's log holds exactly one summary line per round), and the same payload is
invoked twenty times at once from twenty threads. Afterwards the local endpoint must hold
exactly one update for the node group, and every answer must be `Started` or
`AlreadyInProgress` with that update's id.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import suite
import testkit as tk
from test_e2e import check_output, envelope

PROCESSES = 20
# More attempts than the SDK's three (still inside each call's 20 s): twenty processes
# connecting at once to one local endpoint on a 2-core sandbox see connections held back for
# seconds, and the rounds test idempotency, not that.
RETRIES = {"AWS_MAX_ATTEMPTS": "8"}
DETAIL = {"clusterName": "dup", "nodegroupName": "workers", "version": "1.31"}


@pytest.fixture(scope="module")
def fleet(endpoint: tk.LocalEks, workdir: Path) -> Iterator[tuple[tk.Emulator, list[tk.FunctionProcess]]]:
    """One emulator, twenty function processes polling it; all stopped at the end."""
    with tk.runtime_emulator(workdir, name="fleet-emulator") as emulator, contextlib.ExitStack() as stack:
        functions = [
            stack.enter_context(
                tk.function_process(emulator, endpoint.url, workdir, name=f"fleet-fn{i:02d}", extra_env=RETRIES)
            )
            for i in range(PROCESSES)
        ]
        warm_up(emulator, functions)
        yield emulator, functions
        for fn in functions:
            assert fn.alive(), f"{fn.process.name} died:\n{fn.process.tail()}"


def warm_up(emulator: tk.Emulator, functions: list[tk.FunctionProcess]) -> None:
    """One invocation per process before the rounds, each making both describes (of a cluster
    that does not exist: NotFound), so the rounds measure concurrent requests, not twenty
    processes making their first connections at once. FINDING, left for a later issue: on this
    2-core machine the first round of twenty fresh processes reached the local endpoint late
    (connections trickling in for seconds), at times past the three 5 s attempts."""
    payloads = [{"clusterName": "warm-up", "nodegroupName": f"ng{i}"} for i in range(PROCESSES)]
    fire(emulator, payloads)
    settle(functions, PROCESSES, timeout=60.0)


def seed_dup(eks: tk.LocalEks) -> None:
    # Many DescribeUpdate calls (one per process that finds the update running) must not end it.
    eks.seed(
        {
            "clusters": [
                {
                    "name": "dup",
                    "version": "1.31",
                    "nodegroups": [{"name": "workers", "version": "1.30", "pollsInProgress": 10_000}],
                }
            ]
        }
    )


def summaries(fn: tk.FunctionProcess) -> list[dict[str, Any]]:
    return [r for r in fn.records() if tk.is_summary(r)]


def fire(emulator: tk.Emulator, payloads: list[Any], timeout: float = 60.0) -> tuple[list[tuple[int, Any]], float]:
    """POST every payload at once (a barrier releases the threads together); (answers, wall)."""
    # Every process logs its summary line just before it answers and polls /next again: give
    # the last ones a moment to be back in line, so each gets one of the twenty.
    time.sleep(0.5)
    answers: list[Any] = [None] * len(payloads)
    barrier = threading.Barrier(len(payloads))

    def post(i: int) -> None:
        barrier.wait()
        try:
            status, raw = tk.http("POST", emulator.invoke_url, json.dumps(payloads[i]).encode(), timeout=timeout)
            answers[i] = (status, json.loads(raw))
        except BaseException as err:  # reported by the caller
            answers[i] = (0, repr(err))

    threads = [threading.Thread(target=post, args=(i,), daemon=True) for i in range(len(payloads))]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout + 5)
    return answers, time.monotonic() - start


def settle(functions: list[tk.FunctionProcess], served: int, timeout: float = 10.0) -> list[int]:
    """Summary lines per process once `served` invocations in all are logged."""
    deadline = time.monotonic() + timeout
    while True:
        counts = [len(summaries(fn)) for fn in functions]
        if sum(counts) >= served or time.monotonic() > deadline:
            return counts
        time.sleep(0.05)


def check_round(
    eks: tk.LocalEks, functions: list[tk.FunctionProcess], payloads: list[Any], answers: list[Any], before: list[int]
) -> tuple[str, dict[str, int]]:
    """`before`: each process's summary lines before the round was fired."""
    assert all(a is not None and a[0] == 200 for a in answers), answers
    bodies = [a[1] for a in answers]
    for payload, body in zip(payloads, bodies, strict=True):
        check_output(payload, body)
    ng = eks.nodegroup_state("dup", "workers")
    assert ng["updatesCreated"] == 1, f"{ng['updatesCreated']} updates for one request: {ng}"
    assert len(ng["updateIds"]) == 1, ng
    (update_id,) = ng["updateIds"]
    outcomes: dict[str, int] = {}
    for body in bodies:
        outcomes[body["outcome"]] = outcomes.get(body["outcome"], 0) + 1
        assert body["outcome"] in ("Started", "AlreadyInProgress"), body
        assert body["update"]["id"] == update_id, body
        assert body["update"]["status"] == "InProgress", body
    # Twenty processes, each served exactly one invocation of this round.
    counts = settle(functions, served=sum(before) + PROCESSES)
    assert counts == [n + 1 for n in before], f"invocations per process, before {before}, after {counts}"
    return update_id, outcomes


def test_twenty_processes_one_event_make_one_update(
    fleet: tuple[tk.Emulator, list[tk.FunctionProcess]], eks: tk.LocalEks
) -> None:
    """The same EventBridge event (same id: a redelivery) at twenty processes at once."""
    emulator, functions = fleet
    seed_dup(eks)
    event = envelope(DETAIL, event_id="dddddddd-0000-4000-8000-000000000020")
    payloads = [event] * PROCESSES
    before = [len(summaries(fn)) for fn in functions]

    answers, wall = fire(emulator, payloads)
    update_id, outcomes = check_round(eks, functions, payloads, answers, before)
    ng = eks.nodegroup_state("dup", "workers")
    tokens = {a[1]["target"]["clientRequestToken"] for a in answers}
    suite.record(
        "concurrency",
        "same event x20, 20 processes",
        updates=ng["updatesCreated"],
        update_calls=ng["updateNodegroupVersionCalls"],
        wall_s=wall,
        **{k.lower(): v for k, v in sorted(outcomes.items())},
    )
    assert len(tokens) == 1, "one event, one idempotency token"
    assert update_id


def test_twenty_processes_twenty_events_for_one_target_make_one_update(
    fleet: tuple[tk.Emulator, list[tk.FunctionProcess]], eks: tk.LocalEks
) -> None:
    """Twenty events (twenty ids, e.g. two rules and retried PutEvents) asking the same thing.

    Each carries its own token, so EKS's idempotency cannot merge them: the first start wins,
    the others get ResourceInUseException (or see UPDATING) and find that update running.
    """
    emulator, functions = fleet
    seed_dup(eks)
    payloads = [envelope(DETAIL, event_id=f"eeeeeeee-0000-4000-8000-{i:012d}") for i in range(PROCESSES)]
    before = [len(summaries(fn)) for fn in functions]

    answers, wall = fire(emulator, payloads)
    update_id, outcomes = check_round(eks, functions, payloads, answers, before)
    ng = eks.nodegroup_state("dup", "workers")
    suite.record(
        "concurrency",
        "20 events for one target, 20 processes",
        updates=ng["updatesCreated"],
        update_calls=ng["updateNodegroupVersionCalls"],
        wall_s=wall,
        **{k.lower(): v for k, v in sorted(outcomes.items())},
    )
    assert outcomes.get("Started") == 1, outcomes
    assert len({a[1]["target"]["clientRequestToken"] for a in answers}) == PROCESSES
    assert update_id
