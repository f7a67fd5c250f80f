"""End to end: the release bootstrap, invoked through cargo lambda's Runtime API emulator,
against the stateful local EKS endpoint (tests/localeks). Nothing is mocked in-process.

Every invocation goes through `call()`, which also checks what the contract says about
every answer: one summary log line, the documented output shape, error names, messages
that name the cluster and node group, and no credentials anywhere.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

import suite
import testkit as tk
from testkit import FUNCTION_SECRET

OUTCOMES = {"Started", "AlreadyInProgress", "UpToDate", "Deferred", "DryRun"}
ERROR_TYPES = {
    "InvalidInput",
    "NotAllowed",
    "NotFound",
    "PreconditionFailed",
    "UpdateInProgress",
    "Rejected",
    "AccessDenied",
    "Throttled",
    "ServiceError",
}
NAME = re.compile(r"^[0-9A-Za-z][A-Za-z0-9_-]*$")
RFC3339_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")
HEX64 = re.compile(r"^[0-9a-f]{64}$")
EXPECTED = suite.events_expected()


# ---------------------------------------------------------------- helpers


def envelope(detail: Any, event_id: str = "6a7e8feb-b491-4cf7-a9f1-bf3703467718") -> dict[str, Any]:
    return {
        "version": "0",
        "id": event_id,
        "detail-type": "Nodegroup Update Requested",
        "source": "platform.nodegroups",
        "account": "123456789012",
        "time": "2026-11-24T01:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": detail,
    }


def subject_of(payload: Any) -> tuple[str, str] | None:
    """(cluster, node group) when the payload names both validly, else None."""
    request = suite.request_of(payload)
    if not isinstance(request, dict):
        return None
    cluster, nodegroup = request.get("clusterName"), request.get("nodegroupName")
    if isinstance(cluster, str) and isinstance(nodegroup, str) and NAME.match(cluster) and NAME.match(nodegroup):
        return cluster, nodegroup
    return None


def check_output(payload: Any, body: dict[str, Any]) -> None:
    assert isinstance(payload, dict), f"a success for a payload that is not an object: {body}"
    assert set(body) == {"accountId", "clusterName", "nodegroupName", "outcome", "target", "update", "request"}, body
    # The request's account, else the function's own, read from the invoked function's ARN.
    # `cargo lambda watch` hands out the ARN "function-arn", which names no account: there the
    # function's own is unknown and the field is null (test_accounts.py runs an emulator whose
    # ARN names one, as Lambda's always does).
    request = suite.request_of(payload)
    assert body["accountId"] == request.get("accountId"), body
    assert body["outcome"] in OUTCOMES, body
    assert (body["clusterName"], body["nodegroupName"]) == subject_of(payload), body
    target = body["target"]
    assert {
        "version",
        "releaseVersion",
        "launchTemplate",
        "force",
        "clientRequestToken",
        "latestReleaseVersion",
    } <= set(target), target
    given = suite.request_of(payload).get("clientRequestToken")
    if given is not None:
        assert target["clientRequestToken"] == given, "a given token is used verbatim"
    else:
        assert HEX64.match(target["clientRequestToken"]), target
    update = body["update"]
    if body["outcome"] in ("UpToDate", "Deferred", "DryRun"):
        assert update is None, body
    else:
        assert set(update) == {"id", "status", "type", "params", "createdAt", "errors"}, update
        assert update["id"], update
        assert RFC3339_UTC.match(update["createdAt"]), update["createdAt"]
        for param in update["params"]:
            assert set(param) == {"type", "value"}, param
        for error in update["errors"]:
            assert set(error) == {"errorCode", "errorMessage", "resourceIds"}, error
    if body["outcome"] == "DryRun":
        assert isinstance(body["request"], dict), body
    else:
        assert body["request"] is None, body


def check_error(payload: Any, body: dict[str, Any]) -> None:
    assert body["errorType"] in ERROR_TYPES, body
    message = body["errorMessage"]
    assert isinstance(message, str) and message, body
    subject = subject_of(payload)
    if subject is not None:
        cluster, nodegroup = subject
        assert f"cluster '{cluster}', node group '{nodegroup}'" in message, message
    else:
        # Only a payload that names no (valid) node group may leave it out.
        assert body["errorType"] == "InvalidInput", body


def check_summary(lam: tk.Lambda, payload: Any, ok: bool, body: dict[str, Any]) -> None:
    last = lam.last
    summaries = last.summaries
    assert len(summaries) == 1, f"expected one summary log line, got {len(summaries)}: {last.records}"
    fields = summaries[0]["fields"]
    assert isinstance(fields.get("duration_ms"), int), fields
    if ok:
        assert fields["outcome"] == body["outcome"], fields
        assert fields["cluster"] == body["clusterName"] and fields["nodegroup"] == body["nodegroupName"], fields
        assert fields.get("update_id") == (body["update"] or {}).get("id"), fields
    else:
        assert fields["error_type"] == body["errorType"], fields
        subject = subject_of(payload)
        if subject is not None:
            assert (fields.get("cluster"), fields.get("nodegroup")) == subject, fields
    for record in last.records:
        assert FUNCTION_SECRET not in json.dumps(record), "a log line holds the secret key"


def call(lam: tk.Lambda, payload: Any, *, raw: bool = False) -> tuple[bool, dict[str, Any]]:
    """Invoke, and check what the contract says about every answer."""
    ok, body = lam.invoke(payload, raw=raw)
    assert FUNCTION_SECRET not in json.dumps(body), "an answer holds the secret key"
    parsed = None if raw else payload
    if ok:
        check_output(parsed, body)
    else:
        check_error(parsed, body)
    check_summary(lam, parsed, ok, body)
    return ok, body


def expect_ok(lam: tk.Lambda, payload: Any, outcome: str) -> dict[str, Any]:
    ok, body = call(lam, payload)
    assert ok, body
    assert body["outcome"] == outcome, body
    return body


def expect_error(lam: tk.Lambda, payload: Any, error_type: str, needle: str = "", *, raw: bool = False) -> str:
    ok, body = call(lam, payload, raw=raw)
    assert not ok, body
    assert body["errorType"] == error_type, body
    assert needle in body["errorMessage"], body
    return body["errorMessage"]


def one_cluster(nodegroups: list[dict[str, Any]], *, name: str = "prod", version: str = "1.31", **extra: Any) -> dict:
    return {"clusters": [{"name": name, "version": version, **extra, "nodegroups": nodegroups}]}


def seeded_ids(answer: dict[str, Any], cluster: str, nodegroup: str) -> dict[str, Any]:
    for c in answer["clusters"]:
        if c["name"] == cluster:
            for ng in c["nodegroups"]:
                if ng["name"] == nodegroup:
                    return ng
    raise KeyError((cluster, nodegroup))


def calls_on(eks: tk.LocalEks, cluster: str, nodegroup: str) -> tuple[int, int]:
    ng = eks.nodegroup_state(cluster, nodegroup)
    return ng["updateNodegroupVersionCalls"], ng["updatesCreated"]


# --------------------------------------------------------- the sample events


def test_every_expectation_names_a_sample_event() -> None:
    names = {p.name for p in suite.event_files()}
    assert names, "events/ holds no sample payloads"
    assert set(EXPECTED) <= names, f"expectations without a file: {sorted(set(EXPECTED) - names)}"


@pytest.mark.parametrize("path", suite.event_files(), ids=lambda p: p.name)
def test_sample_event(path: Any, lam: tk.Lambda, world_eks: tk.LocalEks) -> None:
    assert path.name in EXPECTED, f"events/{path.name} has no expectation in tests/fixtures/events-expected.json"
    expected = EXPECTED[path.name]
    payload = suite.load_json(path)

    if "errorType" in expected:
        expect_error(lam, payload, expected["errorType"], expected["message"])
        assert world_eks.update_calls_total() == 0
        return

    body = expect_ok(lam, payload, expected["outcome"])
    cluster, nodegroup = body["clusterName"], body["nodegroupName"]
    if expected["outcome"] != "Started":
        assert world_eks.update_calls_total() == 0, "no UpdateNodegroupVersion call for " + expected["outcome"]
        return

    update = body["update"]
    assert (update["status"], update["type"]) == ("InProgress", "VersionUpdate"), update
    assert calls_on(world_eks, cluster, nodegroup) == (1, 1)
    statuses, final = world_eks.poll_update(cluster, nodegroup, update["id"])
    assert set(statuses[:-1]) <= {"InProgress"} and statuses[-1] == expected["finalStatus"], statuses
    ng = world_eks.describe_nodegroup(cluster, nodegroup)
    assert ng["version"] == expected["finalVersion"], ng
    assert ng["status"] == "ACTIVE", ng
    request = suite.request_of(payload)
    if expected["finalStatus"] == "Failed":
        codes = [e.get("errorCode") for e in final.get("errors", [])]
        assert "PodEvictionFailure" in codes, final
    else:
        if request.get("releaseVersion"):
            assert ng["releaseVersion"] == request["releaseVersion"], ng
        lt_version = (request.get("launchTemplate") or {}).get("version")
        if lt_version:
            assert ng["launchTemplate"]["version"] == lt_version, ng


# ---------------------------------------------------- at-least-once delivery

WORKERS_131 = {"clusterName": "prod", "nodegroupName": "workers", "version": "1.31"}


def test_one_event_delivered_twice_makes_one_update(lam: tk.Lambda, world_eks: tk.LocalEks) -> None:
    event = envelope(WORKERS_131, event_id="11111111-2222-3333-4444-555555555555")
    first = expect_ok(lam, event, "Started")
    update_id = first["update"]["id"]

    ok, second = call(lam, event)  # redelivered while the update runs
    assert ok, second
    assert second["outcome"] in ("AlreadyInProgress", "Started"), second
    assert second["update"]["id"] == update_id
    assert second["target"]["clientRequestToken"] == first["target"]["clientRequestToken"]
    assert calls_on(world_eks, "prod", "workers")[1] == 1
    assert world_eks.nodegroup_state("prod", "workers")["updateIds"] == [update_id]

    # ... and once more after it has ended: still that one update.
    statuses, _ = world_eks.poll_update("prod", "workers", update_id)
    assert statuses[-1] == "Successful"
    ok, third = call(lam, event)
    assert ok, third
    if third["outcome"] != "UpToDate":
        assert third["update"]["id"] == update_id, third
    assert calls_on(world_eks, "prod", "workers")[1] == 1


def test_same_request_in_two_events_while_the_first_runs(lam: tk.Lambda, world_eks: tk.LocalEks) -> None:
    first = expect_ok(lam, envelope(WORKERS_131, event_id="aaaaaaaa-0000-0000-0000-000000000001"), "Started")
    assert world_eks.describe_nodegroup("prod", "workers")["status"] == "UPDATING"
    second = expect_ok(lam, envelope(WORKERS_131, event_id="aaaaaaaa-0000-0000-0000-000000000002"), "AlreadyInProgress")
    assert second["update"]["id"] == first["update"]["id"]
    assert second["update"]["status"] == "InProgress"
    # Another event, another token (the token follows the event's identity).
    assert second["target"]["clientRequestToken"] != first["target"]["clientRequestToken"]
    assert calls_on(world_eks, "prod", "workers") == (1, 1)


def test_step_functions_retry_of_a_bare_request_finds_the_running_update(
    lam: tk.Lambda, world_eks: tk.LocalEks
) -> None:
    first = expect_ok(lam, WORKERS_131, "Started")
    second = expect_ok(lam, WORKERS_131, "AlreadyInProgress")
    assert second["update"]["id"] == first["update"]["id"]
    assert calls_on(world_eks, "prod", "workers") == (1, 1)


def test_redelivered_event_with_latest_launch_template_version(lam: tk.Lambda, world_eks: tk.LocalEks) -> None:
    detail = {
        "clusterName": "prod",
        "nodegroupName": "gpu-custom",
        "launchTemplate": {"name": "gpu-custom-lt", "version": "$Latest"},
    }
    event = envelope(detail, event_id="bbbbbbbb-0000-0000-0000-000000000001")
    first = expect_ok(lam, event, "Started")
    ok, second = call(lam, event)
    assert calls_on(world_eks, "prod", "gpu-custom")[1] == 1
    assert ok, second
    assert second["update"]["id"] == first["update"]["id"]


# ------------------------------------------------------------ invalid input


@pytest.mark.parametrize(
    "raw, needle",
    [
        ("[1,2", "not a usable JSON request"),
        ("{bad json}", "not a usable JSON request"),
        ('"hello"', "must be a JSON object"),
        ("null", "must be a JSON object"),
        ("[]", "must be a JSON object"),
    ],
    ids=["truncated-array", "bad-object", "string", "null", "array"],
)
def test_malformed_payload_is_invalid_input_and_the_process_stays_up(
    raw: str, needle: str, lam: tk.Lambda, world_eks: tk.LocalEks
) -> None:
    pid = lam.function.process.pid
    expect_error(lam, raw, "InvalidInput", needle, raw=True)
    assert lam.function.alive() and lam.function.process.pid == pid
    expect_ok(lam, envelope(WORKERS_131), "Started")
    assert lam.function.alive() and lam.function.process.pid == pid


@pytest.mark.parametrize(
    "payload, needle",
    [
        ({"clusterName": "prod", "nodegroupName": "workers", "force": "true"}, "`force` must be true or false"),
        ({"clusterName": "prod", "nodegroupName": "workers", "version": "1.31.2"}, "version"),
        ({"clusterName": "prod", "nodegroupName": "workers", "dryrun": True}, "`dryRun`"),
        ({"clusterName": "prod"}, "`nodegroupName` is required"),
        (envelope({"clusterName": "prod", "nodeGroupName": "workers"}), "did you mean `nodegroupName`?"),
        (envelope({}), "`detail`"),
    ],
    ids=[
        "mistyped-force",
        "bad-version",
        "unknown-field",
        "missing-nodegroup",
        "envelope-unknown-field",
        "envelope-empty",
    ],
)
def test_invalid_requests(payload: Any, needle: str, lam: tk.Lambda, world_eks: tk.LocalEks) -> None:
    expect_error(lam, payload, "InvalidInput", needle)
    assert world_eks.update_calls_total() == 0


# ------------------------------------------------------------- live state


def test_update_in_progress_of_another_kind(lam: tk.Lambda, eks: tk.LocalEks) -> None:
    seeded = eks.seed(
        one_cluster(
            [{"name": "busy", "version": "1.30", "runningUpdate": {"type": "ConfigUpdate"}, "pollsInProgress": 10}]
        )
    )
    running = seeded_ids(seeded, "prod", "busy")["runningUpdateId"]
    message = expect_error(lam, {"clusterName": "prod", "nodegroupName": "busy", "version": "1.31"}, "UpdateInProgress")
    assert running in message, message
    assert lam.last.summaries[0]["fields"].get("update_id") == running
    assert calls_on(eks, "prod", "busy") == (0, 0)
    assert eks.nodegroup_state("prod", "busy")["updateIds"] == [running]


def test_update_in_progress_to_another_release(lam: tk.Lambda, eks: tk.LocalEks) -> None:
    seeded = eks.seed(
        one_cluster(
            [
                {
                    "name": "busy",
                    "version": "1.31",
                    "releaseVersion": "1.31.2-20241115",
                    "runningUpdate": {"type": "VersionUpdate", "version": "1.31", "releaseVersion": "1.31.5-20250301"},
                    "pollsInProgress": 10,
                }
            ]
        )
    )
    running = seeded_ids(seeded, "prod", "busy")["runningUpdateId"]
    payload = {"clusterName": "prod", "nodegroupName": "busy", "releaseVersion": "1.31.7-20251120"}
    message = expect_error(lam, payload, "UpdateInProgress", running)
    assert "1.31.5-20250301" in message, message


def test_list_updates_is_read_to_its_last_page(lam: tk.Lambda, eks: tk.LocalEks) -> None:
    eks.config(pageSize=2)
    seeded = eks.seed(
        one_cluster(
            [
                {
                    "name": "paged",
                    "version": "1.30",
                    "pastUpdates": 5,
                    "runningUpdate": {"type": "VersionUpdate", "version": "1.31"},
                    "pollsInProgress": 10,
                }
            ]
        )
    )
    ids = seeded_ids(seeded, "prod", "paged")
    assert len(ids["pastUpdateIds"]) == 5
    body = expect_ok(lam, {"clusterName": "prod", "nodegroupName": "paged", "version": "1.31"}, "AlreadyInProgress")
    assert body["update"]["id"] == ids["runningUpdateId"]
    assert {"type": "Version", "value": "1.31"} in body["update"]["params"]
    assert calls_on(eks, "prod", "paged") == (0, 0)
    assert len(eks.nodegroup_state("prod", "paged")["updateIds"]) == 6


def test_unknown_node_group_is_not_found(lam: tk.Lambda, world_eks: tk.LocalEks) -> None:
    message = expect_error(lam, {"clusterName": "prod", "nodegroupName": "nope", "version": "1.31"}, "NotFound")
    assert "node group 'nope' does not exist" in message, message


def test_unknown_cluster_is_not_found(lam: tk.Lambda, world_eks: tk.LocalEks) -> None:
    message = expect_error(lam, {"clusterName": "ghost", "nodegroupName": "workers"}, "NotFound")
    assert "cluster 'ghost' does not exist" in message, message


PRECONDITIONS = [
    pytest.param(None, {"nodegroupName": "workers", "version": "1.32"}, "above the control plane", id="above-cluster"),
    pytest.param(None, {"nodegroupName": "web", "version": "1.30"}, "cannot be rolled back", id="rollback"),
    pytest.param(
        None, {"nodegroupName": "web", "releaseVersion": "1.31.1-20241001"}, "older than", id="release-rollback"
    ),
    pytest.param(
        None,
        {"nodegroupName": "workers", "version": "1.31", "releaseVersion": "1.30.9-20251120"},
        "built for Kubernetes 1.30",
        id="release-of-another-minor",
    ),
    pytest.param(
        one_cluster([{"name": "legacy", "version": "1.32", "amiType": "AL2_x86_64"}], version="1.33"),
        {"nodegroupName": "legacy", "version": "1.33"},
        "Amazon Linux 2",
        id="al2-to-1.33",
    ),
    pytest.param(
        one_cluster([{"name": "legacy", "version": "1.32", "amiType": "AL2_ARM_64"}], version="1.33"),
        {"nodegroupName": "legacy", "version": "cluster"},
        "Amazon Linux 2",
        id="al2-follow-cluster-1.33",
    ),
    pytest.param(None, {"nodegroupName": "gpu-custom", "version": "1.31"}, "custom AMI", id="custom-ami-version"),
    pytest.param(
        None,
        {"nodegroupName": "gpu-custom", "releaseVersion": "1.30.9-20251120"},
        "custom AMI",
        id="custom-ami-release",
    ),
    pytest.param(
        None,
        {"nodegroupName": "workers", "launchTemplate": {"name": "workers-lt", "version": "2"}},
        "without a launch template",
        id="template-on-node-group-without-one",
    ),
    pytest.param(
        None,
        {"nodegroupName": "gpu-custom", "launchTemplate": {"id": "lt-0123456789abcdef0", "version": "4"}},
        "not the node group's launch template",
        id="another-template",
    ),
    pytest.param(
        one_cluster([{"name": "broken", "version": "1.30", "status": "CREATE_FAILED"}]),
        {"nodegroupName": "broken", "version": "1.31"},
        "CREATE_FAILED",
        id="status-create-failed",
    ),
]


@pytest.mark.parametrize("seed, request_fields, needle", PRECONDITIONS)
def test_precondition_failed(
    seed: dict | None, request_fields: dict, needle: str, lam: tk.Lambda, eks: tk.LocalEks
) -> None:
    eks.seed(seed or suite.world())
    expect_error(lam, {"clusterName": "prod", **request_fields}, "PreconditionFailed", needle)
    assert eks.update_calls_total() == 0, "a refused request must not reach UpdateNodegroupVersion"


def test_degraded_node_group_can_be_updated(lam: tk.Lambda, eks: tk.LocalEks) -> None:
    eks.seed(one_cluster([{"name": "sick", "version": "1.30", "status": "DEGRADED"}]))
    body = expect_ok(lam, {"clusterName": "prod", "nodegroupName": "sick", "version": "1.31"}, "Started")
    statuses, _ = eks.poll_update("prod", "sick", body["update"]["id"])
    assert statuses[-1] == "Successful"
    assert eks.describe_nodegroup("prod", "sick")["version"] == "1.31"


def test_cluster_busy_is_retryable_update_in_progress(lam: tk.Lambda, eks: tk.LocalEks) -> None:
    # EKS updates no node group while the control plane changes: the cluster's status says
    # so before any update call, and the answer is retryable.
    eks.seed(one_cluster([{"name": "workers", "version": "1.30"}], status="UPDATING"))
    expect_error(
        lam,
        {"clusterName": "prod", "nodegroupName": "workers", "version": "1.31"},
        "UpdateInProgress",
        "control plane is being updated",
    )
    assert calls_on(eks, "prod", "workers") == (0, 0)


# ---------------------------------------------------------------- allowlist


def test_cluster_outside_the_allowlist_is_not_allowed_before_any_aws_call(
    restricted_lam: tk.Lambda, world_eks: tk.LocalEks
) -> None:
    # Any AWS call would use up (hit) this rule.
    world_eks.faults({"operation": "*", "kind": "error500", "count": 100})
    message = expect_error(restricted_lam, {"clusterName": "prod", "nodegroupName": "workers"}, "NotAllowed")
    assert "ALLOWED_CLUSTERS" in message or "staging-*" in message, message
    rules = world_eks.faults()["rules"]
    assert rules and rules[0]["hits"] == 0, f"the function called AWS for a cluster it may not touch: {rules}"
    assert world_eks.update_calls_total() == 0


def test_cluster_inside_the_allowlist_is_served(restricted_lam: tk.Lambda, eks: tk.LocalEks) -> None:
    eks.seed(one_cluster([{"name": "workers", "version": "1.30"}], name="staging-blue"))
    body = expect_ok(
        restricted_lam, {"clusterName": "staging-blue", "nodegroupName": "workers", "version": "1.31"}, "Started"
    )
    assert calls_on(eks, "staging-blue", "workers") == (1, 1)
    assert body["update"]["status"] == "InProgress"


# ---------------------------------------------------------- EKS rejections


def test_client_request_token_reused_with_other_parameters_is_rejected(lam: tk.Lambda, world_eks: tk.LocalEks) -> None:
    token = "e2e-token-reused-0001"
    first = expect_ok(lam, {**WORKERS_131, "clientRequestToken": token}, "Started")
    statuses, _ = world_eks.poll_update("prod", "workers", first["update"]["id"])
    assert statuses[-1] == "Successful"
    payload = {**WORKERS_131, "releaseVersion": "1.31.8-20251201", "clientRequestToken": token}
    message = expect_error(lam, payload, "Rejected")
    # EKS's own message is kept.
    assert f"The client request token {token} was already used" in message, message
    assert calls_on(world_eks, "prod", "workers") == (2, 1)


# --------------------------------------------------------- nothing to change


def test_up_to_date_makes_no_update_call(lam: tk.Lambda, world_eks: tk.LocalEks) -> None:
    payload = {"clusterName": "prod", "nodegroupName": "web", "version": "1.31", "releaseVersion": "1.31.2-20241115"}
    body = expect_ok(lam, payload, "UpToDate")
    assert body["target"]["version"] == "1.31" and body["target"]["releaseVersion"] == "1.31.2-20241115"
    assert calls_on(world_eks, "prod", "web") == (0, 0)


def test_custom_ami_at_the_requested_template_version_is_up_to_date(lam: tk.Lambda, world_eks: tk.LocalEks) -> None:
    payload = {
        "clusterName": "prod",
        "nodegroupName": "gpu-custom",
        "launchTemplate": {"id": "lt-0a1b2c3d4e5f60718", "version": "3"},
    }
    expect_ok(lam, payload, "UpToDate")
    assert world_eks.update_calls_total() == 0


def test_dry_run_returns_the_exact_request_and_changes_nothing(lam: tk.Lambda, world_eks: tk.LocalEks) -> None:
    payload = {
        "clusterName": "prod",
        "nodegroupName": "workers",
        "version": "cluster",
        "releaseVersion": "1.31.7-20251120",
        "force": True,
        "clientRequestToken": "e2e-dry-run-0001",
        "dryRun": True,
    }
    body = expect_ok(lam, payload, "DryRun")
    assert body["request"] == {
        "clusterName": "prod",
        "nodegroupName": "workers",
        "version": "1.31",
        "releaseVersion": "1.31.7-20251120",
        "force": True,
        "clientRequestToken": "e2e-dry-run-0001",
    }
    assert world_eks.update_calls_total() == 0
    assert world_eks.describe_nodegroup("prod", "workers")["status"] == "ACTIVE"

    # The same request for real sends exactly that.
    real = expect_ok(lam, {k: v for k, v in payload.items() if k != "dryRun"}, "Started")
    assert real["target"]["clientRequestToken"] == "e2e-dry-run-0001"
    assert {"type": "Version", "value": "1.31"} in real["update"]["params"]
    assert {"type": "ReleaseVersion", "value": "1.31.7-20251120"} in real["update"]["params"]


def test_dry_run_of_a_custom_ami_sends_no_version(lam: tk.Lambda, world_eks: tk.LocalEks) -> None:
    payload = {
        "clusterName": "prod",
        "nodegroupName": "gpu-custom",
        "launchTemplate": {"id": "lt-0a1b2c3d4e5f60718", "version": "$Latest"},
        "dryRun": True,
    }
    body = expect_ok(lam, payload, "DryRun")
    assert body["request"] == {
        "clusterName": "prod",
        "nodegroupName": "gpu-custom",
        "launchTemplate": {"id": "lt-0a1b2c3d4e5f60718", "version": "$Latest"},
        "force": False,
        "clientRequestToken": body["target"]["clientRequestToken"],
    }
    assert world_eks.update_calls_total() == 0


# ------------------------------------------------- latest releases from SSM


def soaked_world(age_days: int) -> dict[str, Any]:
    return one_cluster(
        [
            {"name": "current", "version": "1.31", "releaseVersion": "1.31.7-20251120"},
            {"name": "behind", "version": "1.31", "releaseVersion": "1.31.2-20241115"},
        ],
        latestReleases={"1.31": "1.31.7-20251120"},
        publishLatestToSsm={"ageDays": age_days},
    )


def test_already_at_the_latest_release_from_ssm_is_up_to_date(lam: tk.Lambda, eks: tk.LocalEks) -> None:
    eks.seed(soaked_world(age_days=30))
    ok, body = call(lam, {"clusterName": "prod", "nodegroupName": "current", "version": "1.31"})
    assert calls_on(eks, "prod", "current") == (0, 0), "churned nodes for nothing"
    assert ok and body["outcome"] == "UpToDate", body
    assert body["target"]["latestReleaseVersion"] == "1.31.7-20251120"


def test_release_younger_than_min_release_age_is_deferred(lam: tk.Lambda, eks: tk.LocalEks) -> None:
    eks.seed(soaked_world(age_days=2))
    payload = {"clusterName": "prod", "nodegroupName": "behind", "minReleaseAgeDays": 7}
    ok, body = call(lam, payload)
    assert calls_on(eks, "prod", "behind") == (0, 0), "started an update to an unsoaked release"
    assert ok and body["outcome"] == "Deferred", body


def test_soaked_latest_release_is_sent_explicitly(lam: tk.Lambda, eks: tk.LocalEks) -> None:
    eks.seed(soaked_world(age_days=30))
    payload = {"clusterName": "prod", "nodegroupName": "behind", "minReleaseAgeDays": 7}
    body = expect_ok(lam, payload, "Started")
    assert body["target"]["latestReleaseVersion"] == "1.31.7-20251120", body["target"]
    assert body["target"]["releaseVersion"] == "1.31.7-20251120", "sent explicitly, so EKS cannot pick a newer one"
    assert {"type": "ReleaseVersion", "value": "1.31.7-20251120"} in body["update"]["params"]


def test_ssm_down_without_the_gate_starts_and_warns(lam: tk.Lambda, eks: tk.LocalEks) -> None:
    eks.seed(soaked_world(age_days=30))
    eks.faults({"operation": "GetParameter", "service": "ssm", "kind": "error500", "count": 10})
    start = lam.function.log_size()
    body = expect_ok(lam, {"clusterName": "prod", "nodegroupName": "behind"}, "Started")
    assert body["target"]["latestReleaseVersion"] is None, body["target"]
    assert body["target"]["releaseVersion"] is None, "EKS chooses the release"
    warnings = [
        r
        for r in lam.function.records(start)
        if r.get("level") == "WARN" and "SSM" in r.get("fields", {}).get("message", "")
    ]
    assert warnings, "the unknown latest release must be said in the log"
    assert "letting EKS choose" in warnings[0]["fields"]["consequence"], warnings[0]


def test_ssm_down_with_the_gate_starts_nothing(lam: tk.Lambda, eks: tk.LocalEks) -> None:
    eks.seed(soaked_world(age_days=30))
    eks.faults({"operation": "GetParameter", "service": "ssm", "kind": "error500", "count": 10})
    expect_error(
        lam,
        {"clusterName": "prod", "nodegroupName": "behind", "minReleaseAgeDays": 7},
        "ServiceError",
        "minReleaseAgeDays is set but the latest release could not be read",
    )
    assert calls_on(eks, "prod", "behind") == (0, 0), "a blind soak gate let an update through"


def test_ssm_throttled_with_the_gate_is_throttled(lam: tk.Lambda, eks: tk.LocalEks) -> None:
    eks.seed(soaked_world(age_days=30))
    eks.faults({"operation": "GetParameter", "service": "ssm", "kind": "throttle", "count": 10})
    expect_error(lam, {"clusterName": "prod", "nodegroupName": "behind", "minReleaseAgeDays": 7}, "Throttled")
    assert calls_on(eks, "prod", "behind") == (0, 0)


# ----------------------------------------------------------- EKS misbehaving


def test_unreadable_answer_is_service_error(lam: tk.Lambda, world_eks: tk.LocalEks) -> None:
    world_eks.faults({"operation": "DescribeCluster", "kind": "notjson", "count": 5})
    expect_error(lam, WORKERS_131, "ServiceError")
    assert world_eks.update_calls_total() == 0


def test_server_errors_after_the_sdk_retries_are_service_error(lam: tk.Lambda, world_eks: tk.LocalEks) -> None:
    world_eks.faults({"operation": "DescribeNodegroup", "kind": "error500", "count": 10})
    expect_error(lam, WORKERS_131, "ServiceError")
    assert world_eks.update_calls_total() == 0


def test_one_connection_reset_is_retried_by_the_sdk(lam: tk.Lambda, world_eks: tk.LocalEks) -> None:
    world_eks.faults({"operation": "DescribeNodegroup", "kind": "reset", "count": 1})
    expect_ok(lam, WORKERS_131, "Started")
    assert world_eks.faults()["rules"] == []


def test_throttled_after_the_sdk_retries_is_throttled(lam: tk.Lambda, world_eks: tk.LocalEks) -> None:
    world_eks.faults({"operation": "UpdateNodegroupVersion", "kind": "throttle", "count": 10})
    expect_error(lam, WORKERS_131, "Throttled")
    rules = world_eks.faults()["rules"]
    assert rules and 1 < rules[0]["hits"] < 10, f"expected a few SDK retries: {rules}"
    assert calls_on(world_eks, "prod", "workers")[1] == 0


# ------------------------------------------------------------------- logs


def test_one_summary_line_per_invocation(lam: tk.Lambda, world_eks: tk.LocalEks) -> None:
    """`call()` checks every invocation; this one reads the whole log of a mixed run."""
    start = lam.function.log_size()
    payloads = [
        (WORKERS_131, False),
        (WORKERS_131, False),
        (
            {"clusterName": "prod", "nodegroupName": "web", "version": "1.31", "releaseVersion": "1.31.2-20241115"},
            False,
        ),
        ({"clusterName": "prod", "nodegroupName": "nope"}, False),
        ('"hello"', True),
    ]
    answers = [call(lam, p, raw=raw) for p, raw in payloads]
    summaries = [r for r in lam.function.records(start) if tk.is_summary(r)]
    assert len(summaries) == len(payloads), summaries
    request_ids = [s["span"]["requestId"] for s in summaries]
    assert len(set(request_ids)) == len(request_ids), "one line per invocation, each its own request id"
    got = [s["fields"].get("outcome") or s["fields"].get("error_type") for s in summaries]
    assert got == ["Started", "AlreadyInProgress", "UpToDate", "NotFound", "InvalidInput"], got
    started = summaries[0]["fields"]
    assert started["cluster"] == "prod" and started["nodegroup"] == "workers"
    assert started["update_id"] == answers[0][1]["update"]["id"]
    assert summaries[1]["fields"]["update_id"] == started["update_id"]
    assert all(isinstance(s["fields"]["duration_ms"], int) for s in summaries)
