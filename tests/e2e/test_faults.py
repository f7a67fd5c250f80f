"""A failing EKS, end to end (issue #7, item 2): the release binary through the Runtime API,
against the local endpoint with faults injected (tests/localeks, `/_localeks/faults`).

Every fault must end in the documented errorType (or, where the SDK's retries absorb it, in
the normal outcome), with the attempts the SDK's standard retry mode makes (3 for transient
errors: throttling, 5xx, timeouts, connection failures; 1 for the rest), well inside the
function's 60 s timeout; and the same process must then serve the next event.

`cargo lambda watch` sends no usable deadline (see src/aws/deadline.rs), so there only the per-call
limits bound an invocation (connect 2 s, attempt 5 s, operation 20 s). The deadline itself is
checked through testkit's `ThreadedRuntimeApi`, which sends `Lambda-Runtime-Deadline-Ms` as Lambda
does: a stall must come back as ServiceError *before* that deadline.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import suite
import testkit as tk
from test_e2e import OUTCOMES, WORKERS_131, call, one_cluster, seeded_ids, soaked_world

# The template's function timeout is 60 s; an invocation under a fault must end well before.
FUNCTION_TIMEOUT = 60.0
WALL_LIMIT = FUNCTION_TIMEOUT - 15.0
RETRYABLE_ATTEMPTS = 3  # the SDK's standard retry mode: 3 attempts in all

SOAK_GATED = {"clusterName": "prod", "nodegroupName": "behind", "minReleaseAgeDays": 7}
BUSY_131 = {"clusterName": "prod", "nodegroupName": "busy", "version": "1.31"}


def busy_world() -> dict[str, Any]:
    """A node group UPDATING to 1.31 (the update a resumed request must find), with history."""
    return one_cluster(
        [
            {
                "name": "busy",
                "version": "1.30",
                "runningUpdate": {"type": "VersionUpdate", "version": "1.31"},
                "pastUpdates": 3,
                "pollsInProgress": 100,
            }
        ]
    )


@pytest.fixture(scope="module")
def flam(endpoint: tk.LocalEks, workdir: Path) -> Iterator[tk.Lambda]:
    """A function process of this module's own (its SDK retry state is not shared with others)."""
    with tk.lambda_function(endpoint.url, workdir, name="function-faults") as fn:
        yield fn


def armed(eks: tk.LocalEks) -> int:
    """Requests the armed fault rules will still break."""
    return sum(rule["count"] for rule in eks.faults()["rules"])


def timed_call(lam: tk.Lambda, payload: Any) -> tuple[bool, dict[str, Any], float]:
    start = time.monotonic()
    ok, body = call(lam, payload)
    return ok, body, time.monotonic() - start


# (id, fault rules, seed, payload, expected errorType or outcome, attempts the faults see)
FAULTS = [
    (
        "throttle 429 x10, DescribeNodegroup",
        [{"operation": "DescribeNodegroup", "kind": "throttle", "count": 10}],
        "world",
        WORKERS_131,
        "Throttled",
        RETRYABLE_ATTEMPTS,
    ),
    (
        "throttle 429 x10, ListUpdates (resume path)",
        [{"operation": "ListUpdates", "kind": "throttle", "count": 10}],
        "busy",
        BUSY_131,
        "Throttled",
        RETRYABLE_ATTEMPTS,
    ),
    (
        "5xx burst x10, DescribeCluster",
        [{"operation": "DescribeCluster", "kind": "error500", "count": 10}],
        "world",
        WORKERS_131,
        "ServiceError",
        RETRYABLE_ATTEMPTS,
    ),
    (
        "5xx burst x10, UpdateNodegroupVersion",
        [{"operation": "UpdateNodegroupVersion", "kind": "error500", "count": 10}],
        "world",
        WORKERS_131,
        "ServiceError",
        RETRYABLE_ATTEMPTS,
    ),
    (
        "5xx blip x2, DescribeCluster (absorbed)",
        [{"operation": "DescribeCluster", "kind": "error500", "count": 2}],
        "world",
        WORKERS_131,
        "Started",
        2,
    ),
    (
        "stall 7 s x1, DescribeNodegroup (absorbed)",
        [{"operation": "DescribeNodegroup", "kind": "stall", "stallSeconds": 7, "count": 1}],
        "world",
        WORKERS_131,
        "Started",
        1,
    ),
    (
        "stall 8 s x10, DescribeCluster (past the attempt timeout)",
        [{"operation": "DescribeCluster", "kind": "stall", "stallSeconds": 8, "count": 10}],
        "world",
        WORKERS_131,
        "ServiceError",
        RETRYABLE_ATTEMPTS,
    ),
    (
        "connection reset x10, DescribeNodegroup",
        [{"operation": "DescribeNodegroup", "kind": "reset", "count": 10}],
        "world",
        WORKERS_131,
        "ServiceError",
        RETRYABLE_ATTEMPTS,
    ),
    (
        "connection reset x1, UpdateNodegroupVersion (absorbed)",
        [{"operation": "UpdateNodegroupVersion", "kind": "reset", "count": 1}],
        "world",
        WORKERS_131,
        "Started",
        1,
    ),
    (
        "truncated body x10, DescribeCluster",
        [{"operation": "DescribeCluster", "kind": "truncated", "count": 10}],
        "world",
        WORKERS_131,
        "ServiceError",
        RETRYABLE_ATTEMPTS,
    ),
    (
        "truncated body x1, UpdateNodegroupVersion (absorbed)",
        [{"operation": "UpdateNodegroupVersion", "kind": "truncated", "count": 1}],
        "world",
        WORKERS_131,
        "Started",
        1,
    ),
    (
        "non-JSON 200 x10, DescribeNodegroup",
        [{"operation": "DescribeNodegroup", "kind": "notjson", "count": 10}],
        "world",
        WORKERS_131,
        "ServiceError",
        1,
    ),
    (
        "non-JSON 200 x10, ListUpdates (resume path)",
        [{"operation": "ListUpdates", "kind": "notjson", "count": 10}],
        "busy",
        BUSY_131,
        "ServiceError",
        1,
    ),
    (
        "404 x1, DescribeNodegroup",
        [{"operation": "DescribeNodegroup", "kind": "notfound", "count": 1}],
        "world",
        WORKERS_131,
        "NotFound",
        1,
    ),
    (
        "403 x1, DescribeCluster",
        [{"operation": "DescribeCluster", "kind": "denied", "count": 1}],
        "world",
        WORKERS_131,
        "AccessDenied",
        1,
    ),
    (
        "403 x1, UpdateNodegroupVersion",
        [{"operation": "UpdateNodegroupVersion", "kind": "denied", "count": 1}],
        "world",
        WORKERS_131,
        "AccessDenied",
        1,
    ),
    (
        "403 x1, SSM GetParameter with a soak gate",
        [{"operation": "GetParameter", "service": "ssm", "kind": "denied", "count": 1}],
        "soaked",
        SOAK_GATED,
        "AccessDenied",
        1,
    ),
    (
        "reset x10, SSM GetParameter with a soak gate",
        [{"operation": "GetParameter", "service": "ssm", "kind": "reset", "count": 10}],
        "soaked",
        SOAK_GATED,
        "ServiceError",
        RETRYABLE_ATTEMPTS,
    ),
]
SEEDS = {"world": suite.world, "busy": busy_world, "soaked": lambda: soaked_world(age_days=30)}
# Failures on which no update may exist afterwards (the faults above all strike before EKS
# makes one).
ERRORS_BEFORE_ANY_UPDATE = {"Throttled", "ServiceError", "NotFound", "AccessDenied"}


@pytest.mark.parametrize("case, rules, seed, payload, expected, attempts", FAULTS, ids=[f[0] for f in FAULTS])
def test_fault_ends_in_the_documented_answer_and_the_process_serves_the_next_event(
    case: str, rules: list, seed: str, payload: dict, expected: str, attempts: int, flam: tk.Lambda, eks: tk.LocalEks
) -> None:
    eks.seed(SEEDS[seed]())
    cluster, nodegroup = payload["clusterName"], payload["nodegroupName"]
    pid = flam.function.process.pid
    eks.faults(*rules)
    before = armed(eks)

    ok, body, wall = timed_call(flam, payload)
    hits = before - armed(eks)
    eks.clear_faults()

    got = body["outcome"] if ok else body["errorType"]
    suite.record("fault", case, answer=got, attempts=hits, wall_s=wall)
    assert got == expected, body
    assert hits == attempts, f"{case}: the faults saw {hits} attempts, the SDK's standard mode makes {attempts}"
    assert wall < WALL_LIMIT, f"{case}: {wall:.1f} s, the function's timeout is {FUNCTION_TIMEOUT:.0f} s"
    ng = eks.nodegroup_state(cluster, nodegroup)
    if expected == "Started":
        assert ng["updatesCreated"] == 1, ng  # a retried start with the same token made one update
        assert body["update"]["id"] in ng["updateIds"], (body, ng)
    elif expected in ERRORS_BEFORE_ANY_UPDATE:
        assert ng["updatesCreated"] == 0, f"{case}: an update was made although the answer was {got}: {ng}"

    # The same process serves the next event, and it sees the state as it is.
    assert flam.function.alive() and flam.function.process.pid == pid
    ok, after = call(flam, payload)
    assert ok, after
    assert after["outcome"] in OUTCOMES - {"DryRun"}, after
    if expected == "Started":
        assert after["outcome"] == "AlreadyInProgress" and after["update"]["id"] == body["update"]["id"], after
    assert flam.function.process.pid == pid


# ---------------------------------------- DescribeUpdate 404 in the function's resume path


def test_a_listed_update_that_404s_is_passed_over_then_found_on_retry(flam: tk.Lambda, eks: tk.LocalEks) -> None:
    """Right after an update starts, EKS may list it before DescribeUpdate knows it (404).

    The function's resume path (ListUpdates, then DescribeUpdate newest first) passes over it: the
    404 is not "node group not found" but "look again", i.e. the retryable UpdateInProgress; the
    state machine's retry then finds it running and answers AlreadyInProgress with its id.
    """
    seeded = eks.seed(busy_world())
    running = seeded_ids(seeded, "prod", "busy")["runningUpdateId"]
    eks.faults({"operation": "DescribeUpdate", "kind": "notfound", "count": 1})

    ok, body, wall = timed_call(flam, BUSY_131)
    left = eks.faults()["rules"]
    eks.clear_faults()
    suite.record(
        "resume-404",
        "one listed update 404s (the running one)",
        answer=body.get("errorType") or body.get("outcome"),
        wall_s=wall,
    )
    assert left == [], "the function never described the running update"
    assert not ok and body["errorType"] == "UpdateInProgress", body
    assert "no update is InProgress" in body["errorMessage"], body

    ok, retried = call(flam, BUSY_131)
    assert ok and retried["outcome"] == "AlreadyInProgress", retried
    assert retried["update"]["id"] == running
    ng = eks.nodegroup_state("prod", "busy")
    assert (ng["updateNodegroupVersionCalls"], ng["updatesCreated"]) == (0, 0), ng


def test_updates_that_all_404_never_become_not_found(flam: tk.Lambda, eks: tk.LocalEks) -> None:
    eks.seed(busy_world())
    listed = len(eks.nodegroup_state("prod", "busy")["updateIds"])
    eks.faults({"operation": "DescribeUpdate", "kind": "notfound", "count": 100})
    before = armed(eks)

    ok, body, wall = timed_call(flam, BUSY_131)
    described = before - armed(eks)
    eks.clear_faults()
    suite.record(
        "resume-404", "every listed update 404s", answer=body.get("errorType"), describes=described, wall_s=wall
    )
    assert not ok and body["errorType"] == "UpdateInProgress", body
    assert described == listed == 4, "each listed update is described once (404 is not retried by the SDK)"
    ok, retried = call(flam, BUSY_131)
    assert ok and retried["outcome"] == "AlreadyInProgress", retried


# ----------------------------------------------------------- a real invocation deadline


@pytest.fixture(scope="module")
def deadline_lam(endpoint: tk.LocalEks, workdir: Path) -> Iterator[tuple[tk.ThreadedRuntimeApi, tk.FunctionProcess]]:
    """The function behind testkit's Runtime API emulator, which sends a real Lambda-Runtime-Deadline-Ms."""
    with tk.ThreadedRuntimeApi() as api:
        with tk.function_process(api, endpoint.url, workdir, name="function-deadline") as fn:
            api.wait_for_pollers(1)
            yield api, fn


def answer_of(result: Any) -> str:
    body = result.body
    return body.get("outcome") if result.ok else body.get("errorType")


def serves_the_next_event(api: tk.ThreadedRuntimeApi, fn: tk.FunctionProcess, eks: tk.LocalEks, pid: int) -> None:
    eks.clear_faults()
    eks.reset()
    eks.seed(suite.world())
    result = api.invoke(WORKERS_131, budget=30)
    assert result.ok and result.body["outcome"] == "Started", result.body
    assert fn.alive() and fn.process.pid == pid


DEADLINE_BUDGET = 8.0


@pytest.mark.parametrize(
    "case, seed, payload, rule",
    [
        (
            "stall 30 s x10, DescribeNodegroup",
            "world",
            WORKERS_131,
            {"operation": "DescribeNodegroup", "kind": "stall", "stallSeconds": 30, "count": 10},
        ),
        (
            "stall 30 s x10, ListUpdates (after two reads)",
            "busy",
            BUSY_131,
            {"operation": "ListUpdates", "kind": "stall", "stallSeconds": 30, "count": 10},
        ),
    ],
    ids=["describe-nodegroup", "list-updates"],
)
def test_a_stall_ends_as_service_error_before_the_invocation_deadline(
    case: str,
    seed: str,
    payload: dict,
    rule: dict,
    deadline_lam: tuple[tk.ThreadedRuntimeApi, tk.FunctionProcess],
    eks: tk.LocalEks,
) -> None:
    api, fn = deadline_lam
    pid = fn.process.pid
    eks.seed(SEEDS[seed]())
    eks.faults(rule)
    before = armed(eks)

    result = api.invoke(payload, budget=DEADLINE_BUDGET)
    attempts = before - armed(eks)
    suite.record(
        "deadline",
        f"{case}, deadline now+{DEADLINE_BUDGET:.0f} s",
        answer=answer_of(result),
        attempts=attempts,
        wall_s=result.elapsed,
        margin_s=(result.deadline_ms - result.answered_ms) / 1000,
    )
    assert not result.ok and result.body["errorType"] == "ServiceError", result.body
    assert "timed out" in result.body["errorMessage"], result.body
    assert result.before_deadline, f"answered {result.answered_ms - result.deadline_ms} ms after the deadline"
    # The operation timeout was cut to the deadline minus the 1 s margin: more than one attempt
    # (5 s each) fits only partly, and the answer comes before the deadline, not at 3 x 5 s.
    assert 2 <= attempts <= RETRYABLE_ATTEMPTS, attempts
    assert result.elapsed < DEADLINE_BUDGET
    serves_the_next_event(api, fn, eks, pid)


def test_no_time_left_makes_no_call(
    deadline_lam: tuple[tk.ThreadedRuntimeApi, tk.FunctionProcess], eks: tk.LocalEks
) -> None:
    """A deadline inside the 1 s margin: ServiceError at once, and no AWS call at all."""
    api, fn = deadline_lam
    pid = fn.process.pid
    eks.seed(suite.world())
    eks.faults({"operation": "*", "kind": "error500", "count": 100})  # any AWS call would hit it

    result = api.invoke(WORKERS_131, budget=0.9)
    hits = 100 - armed(eks)
    suite.record(
        "deadline",
        "deadline now+0.9 s (inside the 1 s margin)",
        answer=answer_of(result),
        aws_calls=hits,
        wall_s=result.elapsed,
    )
    assert not result.ok and result.body["errorType"] == "ServiceError", result.body
    assert "no time left before the invocation's deadline" in result.body["errorMessage"], result.body
    assert hits == 0, "a call was made with no time left to make it"
    assert result.before_deadline
    serves_the_next_event(api, fn, eks, pid)


def test_a_real_deadline_leaves_normal_work_alone(
    deadline_lam: tuple[tk.ThreadedRuntimeApi, tk.FunctionProcess], eks: tk.LocalEks
) -> None:
    api, fn = deadline_lam
    eks.seed(suite.world())
    result = api.invoke(WORKERS_131, budget=DEADLINE_BUDGET)
    suite.record(
        "deadline", f"no fault, deadline now+{DEADLINE_BUDGET:.0f} s", answer=answer_of(result), wall_s=result.elapsed
    )
    assert result.ok and result.body["outcome"] == "Started", result.body
    assert result.before_deadline
    # No "implausible deadline" warning: this one was honoured.
    assert not any("implausible" in r.get("fields", {}).get("message", "") for r in fn.records()), fn.records()[-3:]
