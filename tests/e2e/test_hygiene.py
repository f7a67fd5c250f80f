"""Log and message hygiene, hostile sizes (issue #7, item 5).

The function runs with recognisable fake credentials (access key id, secret key, session
token) through a run that provokes every outcome, every errorType and the faults; none of the
three may appear in any answer, error message or log line. A 1 MiB and a 5 MiB payload (Lambda's
synchronous limit is 6 MB), deep nesting and non-JSON bytes are refused as InvalidInput, fast,
by the same process.

The template lets the log level go down to DEBUG and TRACE (LogLevel). At DEBUG the AWS SDK
itself logs the endpoint resolver's parameters, which hold the resolved identity; the
credentials type redacts the secret key, and the session token is not in it, but the access
key id is. The function therefore holds the SDK and HTTP crates at INFO (src/lambda/logging.rs), and
release builds compile DEBUG and TRACE out altogether (Cargo.toml); the DEBUG run below
checks that neither safeguard has gone.
"""

from __future__ import annotations

import json
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import suite
import testkit as tk
from test_e2e import ERROR_TYPES, OUTCOMES, WORKERS_131, call, envelope, one_cluster, soaked_world

ACCESS_KEY_ID = "AKIAHYGIENEFAKE7777Q"
SECRET_ACCESS_KEY = "hygieneSecretKEY/must+never+leak0000000000"
SESSION_TOKEN = "hygieneSessionToken//must+never+appear+anywhere/FwoGZXIvYXdzEJr=="
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": ACCESS_KEY_ID,
    "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
    "AWS_SESSION_TOKEN": SESSION_TOKEN,
}
MiB = 1024 * 1024


def forms(value: str) -> set[str]:
    """The value as it could show up: raw, URL-encoded, JSON-escaped, and its distinctive core."""
    return {value, urllib.parse.quote(value, safe=""), json.dumps(value)[1:-1], value[6:30]}


def leaks(
    text: str, names: tuple[str, ...] = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
) -> list[str]:
    return sorted({name for name in names for form in forms(CREDENTIALS[name]) if form in text})


def test_the_leak_check_sees_each_credential() -> None:
    """The checker itself: each value, in each form, is found (else the tests below prove nothing)."""
    for name, value in CREDENTIALS.items():
        for form in forms(value):
            assert leaks(f"prefix {form} suffix") == [name], (name, form)
    assert leaks("cluster 'prod', node group 'workers': access denied") == []


@pytest.fixture(scope="module")
def hlam(endpoint: tk.LocalEks, workdir: Path) -> Iterator[tk.Lambda]:
    """The function with the fake credentials and an allowlist (so NotAllowed can be provoked)."""
    with tk.lambda_function(
        endpoint.url,
        workdir,
        name="function-hygiene",
        extra_env={**CREDENTIALS, "ALLOWED_CLUSTERS": "prod,staging-*"},
    ) as fn:
        yield fn


def busy(kind: str, **update: Any) -> dict[str, Any]:
    return one_cluster(
        [{"name": "busy", "version": "1.30", "pollsInProgress": 50, "runningUpdate": {"type": kind, **update}}]
    )


# (seed, fault rules, payload, expected outcome or errorType); run in order on one process.
RUN: list[tuple[Any, list[dict[str, Any]], Any, str]] = [
    ("world", [], WORKERS_131, "Started"),
    (None, [], WORKERS_131, "AlreadyInProgress"),
    (
        "world",
        [],
        {"clusterName": "prod", "nodegroupName": "web", "version": "1.31", "releaseVersion": "1.31.2-20241115"},
        "UpToDate",
    ),
    ("world", [], {**WORKERS_131, "dryRun": True}, "DryRun"),
    (
        soaked_world(age_days=2),
        [],
        {"clusterName": "prod", "nodegroupName": "behind", "minReleaseAgeDays": 7},
        "Deferred",
    ),
    ("world", [], envelope({"clusterName": "prod", "nodeGroupName": "workers"}), "InvalidInput"),
    ("world", [], {"clusterName": "other", "nodegroupName": "workers"}, "NotAllowed"),
    ("world", [], {"clusterName": "prod", "nodegroupName": "nope"}, "NotFound"),
    ("world", [], {"clusterName": "prod", "nodegroupName": "web", "version": "1.30"}, "PreconditionFailed"),
    (busy("ConfigUpdate"), [], {"clusterName": "prod", "nodegroupName": "busy", "version": "1.31"}, "UpdateInProgress"),
    ("world", [{"operation": "UpdateNodegroupVersion", "kind": "denied"}], WORKERS_131, "AccessDenied"),
    ("world", [{"operation": "DescribeNodegroup", "kind": "throttle", "count": 10}], WORKERS_131, "Throttled"),
    ("world", [{"operation": "DescribeCluster", "kind": "error500", "count": 10}], WORKERS_131, "ServiceError"),
    ("world", [{"operation": "DescribeCluster", "kind": "reset", "count": 10}], WORKERS_131, "ServiceError"),
    ("world", [{"operation": "DescribeNodegroup", "kind": "truncated", "count": 10}], WORKERS_131, "ServiceError"),
    ("world", [{"operation": "DescribeNodegroup", "kind": "notjson", "count": 10}], WORKERS_131, "ServiceError"),
    (
        "world",
        [{"operation": "GetParameter", "service": "ssm", "kind": "denied"}],
        {"clusterName": "prod", "nodegroupName": "workers", "minReleaseAgeDays": 3},
        "AccessDenied",
    ),
]


def test_no_credential_in_any_answer_message_or_log_line(hlam: tk.Lambda, eks: tk.LocalEks) -> None:
    start = hlam.function.log_size()
    answers: list[str] = []
    seen: set[str] = set()
    for seed, rules, payload, expected in RUN:
        if seed is not None:
            eks.reset()
            eks.seed(suite.world() if seed == "world" else seed)
        if rules:
            eks.faults(*rules)
        ok, body = call(hlam, payload)
        eks.clear_faults()
        got = body["outcome"] if ok else body["errorType"]
        assert got == expected, (payload, body)
        seen.add(got)
        answers.append(json.dumps(body))

    # Rejected: EKS refuses a token reused with other parameters; its message is kept verbatim.
    eks.reset()
    eks.seed(suite.world())
    token = "hygiene-token-0001"
    ok, first = call(hlam, {**WORKERS_131, "clientRequestToken": token})
    assert ok, first
    eks.finish_updates()
    ok, body = call(hlam, {**WORKERS_131, "releaseVersion": "1.31.8-20251201", "clientRequestToken": token})
    assert not ok and body["errorType"] == "Rejected", body
    seen.add("Rejected")
    answers.append(json.dumps(body))

    every = OUTCOMES | ERROR_TYPES
    assert seen == every, f"not provoked: {sorted(every - seen)}"
    # The run used these credentials: a success needs signed requests, and signing needs them.
    assert "Started" in seen

    log = hlam.function.process.log_text(start)
    records = hlam.function.records(start)
    suite.record(
        "hygiene",
        f"INFO logs, {len(RUN) + 2} invocations, every outcome and errorType",
        log_lines=len(records),
        leaks=",".join(leaks(log + "".join(answers))) or "none",
    )
    assert leaks("".join(answers)) == [], "a credential in an answer"
    assert leaks(log) == [], "a credential in the function's log"
    assert leaks(hlam.emulator.process.log_text()) == [], "a credential in the Runtime API emulator's log"


@pytest.mark.parametrize(
    "name, raw, needle",
    [
        (
            "1 MiB object",
            json.dumps({"clusterName": "prod", "nodegroupName": "workers", "pad": "x" * MiB}),
            "a request is at most 64 KiB",
        ),
        (
            "5 MiB object",
            json.dumps({"clusterName": "prod", "nodegroupName": "workers", "pad": "x" * (5 * MiB)}),
            "a request is at most 64 KiB",
        ),
        ("1 MiB of nested arrays", "[" * (MiB // 2) + "]" * (MiB // 2), "not a usable JSON request"),
        ("60 KB of nested arrays (under the cap)", "[" * 30_000 + "]" * 30_000, "not a usable JSON request"),
        ("1 MiB of invalid UTF-8", b"\xff\xfe" * (MiB // 2), "not a usable JSON request"),
    ],
    ids=["1MiB", "5MiB", "deep-1MiB", "deep-60KB", "bytes-1MiB"],
)
def test_oversized_and_hostile_payloads_are_invalid_input_quickly(
    name: str, raw: Any, needle: str, hlam: tk.Lambda, world_eks: tk.LocalEks
) -> None:
    pid = hlam.function.process.pid
    world_eks.faults({"operation": "*", "kind": "error500", "count": 100})
    start = time.monotonic()
    ok, body = hlam.invoke(raw, raw=True)
    wall = time.monotonic() - start
    suite.record(
        "hostile", name, answer=body.get("errorType"), message_bytes=len(body.get("errorMessage", "")), wall_s=wall
    )
    assert not ok and body["errorType"] == "InvalidInput", body
    assert needle in body["errorMessage"], body
    assert len(body["errorMessage"]) < 1024, "the refusal does not echo the payload"
    assert wall < 10, f"{name}: {wall:.1f} s to refuse"  # a sanity bound; the figure is recorded
    assert world_eks.faults()["rules"][0]["hits"] == 0, "no AWS call for a refused payload"
    world_eks.clear_faults()
    assert hlam.function.alive() and hlam.function.process.pid == pid
    ok, body = call(hlam, WORKERS_131)
    assert ok and body["outcome"] == "Started", body


# ------------------------------------------------------------------- DEBUG logs


@pytest.fixture(scope="module")
def debug_log(endpoint: tk.LocalEks, workdir: Path) -> str:
    """The function's log at AWS_LAMBDA_LOG_LEVEL=DEBUG (LogLevel: DEBUG in the template) over
    a success, an AWS error and a transport failure."""
    with tk.lambda_function(
        endpoint.url, workdir, name="function-debug", extra_env={**CREDENTIALS, "AWS_LAMBDA_LOG_LEVEL": "DEBUG"}
    ) as lam:
        endpoint.reset()
        endpoint.seed(suite.world())
        answers = [lam.invoke(WORKERS_131)]
        endpoint.faults({"operation": "DescribeNodegroup", "kind": "denied"})
        answers.append(lam.invoke(WORKERS_131))
        endpoint.faults({"operation": "DescribeCluster", "kind": "reset", "count": 10})
        answers.append(lam.invoke(WORKERS_131))
        endpoint.clear_faults()
        assert [a[1].get("outcome") or a[1].get("errorType") for a in answers] == [
            "Started",
            "AccessDenied",
            "ServiceError",
        ]
        text = lam.function.process.log_text() + "".join(json.dumps(a[1]) for a in answers)
    suite.record(
        "hygiene",
        "DEBUG logs, 3 invocations",
        log_bytes=len(text),
        leaks=",".join(leaks(text)) or "none",
        access_key_id_occurrences=text.count(ACCESS_KEY_ID),
    )
    return text


def test_debug_logs_hold_no_secret_key_or_session_token(debug_log: str) -> None:
    assert leaks(debug_log, ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")) == []


def test_debug_logs_hold_no_access_key_id(debug_log: str) -> None:
    assert leaks(debug_log, ("AWS_ACCESS_KEY_ID",)) == []
