"""Local executions of the state machines template.yaml deploys.

The definitions are statemachine/*.asl.json with the template's DefinitionSubstitutions applied
(conftest.SUBSTITUTIONS: local ARNs, 1 s waits); the Lambda task runs the release binary through
the Runtime API emulator and DescribeUpdate is the local EKS endpoint's (see conftest.py and
sfnlocal.py). The fleet state machine's executions are test_fleet.py's.
"""

from __future__ import annotations

import hashlib
import json

import conftest
import pytest

pytestmark = pytest.mark.usefixtures("logs_on_failure")

A = conftest.ACCOUNT

UPDATE = "UpdateNodegroupStateMachine"
FLEET = "RollFleetStateMachine"
INVOKE = "invoke"  # the lambda:invoke integration's resource in the history
DESCRIBE_UPDATE = "describeUpdate"
LATEST = "1.31.7-20251120"


def seed_cluster(stack, name, nodegroups, version="1.31", *, account=None, trusted=(A,)):
    """A cluster of its own per test (seeding a cluster again replaces it); in `account` (default
    A), with the target role there trusting the accounts `trusted`."""
    world = {
        "clusters": [{"name": name, "version": version, "latestReleases": {"1.31": LATEST}, "nodegroups": nodegroups}]
    }
    if account is None:
        stack.eks.seed(world)
    else:
        stack.eks.seed_account(account, world, trusted=trusted)


def states_entered(ex):
    return [e["stateEnteredEventDetails"]["name"] for e in ex.history if e["type"].endswith("StateEntered")]


def test_one_nodegroup_polls_to_successful(stack):
    seed_cluster(
        stack,
        "sam-ok",
        [{"name": "workers", "version": "1.30", "releaseVersion": "1.30.4-20241109", "pollsInProgress": 2}],
    )
    ex = stack.run(UPDATE, {"clusterName": "sam-ok", "nodegroupName": "workers", "version": "1.31"})

    assert ex.status == "SUCCEEDED", ex.explain()
    out = ex.output
    assert out["outcome"] == "Started"
    assert out["accountId"] == A
    assert out["updateStatus"] == "Successful"
    assert out["updateId"] == out["update"]["id"] == out["finalUpdate"]["Id"]
    assert out["finalUpdate"]["Status"] == "Successful"
    assert {"Type": "Version", "Value": "1.31"} in out["finalUpdate"]["Params"]
    # Polled through the SDK integration until the update ended: 2 InProgress answers, then Successful.
    assert len(ex.task_calls(DESCRIBE_UPDATE)) == 3, ex.explain()
    # In this account's loop, with the state machine's own credentials (no Credentials field).
    assert "DescribeUpdateInTargetAccount" not in states_entered(ex)
    assert not [e for e in ex.task_calls(DESCRIBE_UPDATE) if "taskCredentials" in e["taskScheduledEventDetails"]]
    assert len(ex.task_calls(INVOKE)) == 1
    # The token is derived from the execution (SHA-256 of its ARN), so a retried task resends it.
    assert out["target"]["clientRequestToken"] == hashlib.sha256(ex.arn.encode()).hexdigest()
    ng = stack.eks.nodegroup_state("sam-ok", "workers")
    assert ng["version"] == "1.31" and ng["status"] == "ACTIVE"
    assert ng["updatesCreated"] == 1


def test_describe_update_404_right_after_the_start_is_retried_to_successful(stack):
    # EKS is eventually consistent: right after UpdateNodegroupVersion, DescribeUpdate may answer
    # 404 for the new update. The poll retries Eks.ResourceNotFoundException (after 5 s, as
    # deployed) instead of failing an execution whose update is running.
    seed_cluster(stack, "sam-404", [{"name": "workers", "version": "1.30", "pollsInProgress": 1}])
    stack.eks.faults({"operation": "DescribeUpdate", "kind": "notfound", "count": 1})
    try:
        ex = stack.run(UPDATE, {"clusterName": "sam-404", "nodegroupName": "workers", "version": "1.31"})
    finally:
        left = stack.eks.faults()["rules"]
        stack.eks.clear_faults()

    assert left == [], f"the 404 was not served to the poll: {left}"
    assert ex.status == "SUCCEEDED", ex.explain()
    assert ex.failed_errors() == ["Eks.ResourceNotFoundException"], ex.explain()
    assert ex.output["outcome"] == "Started" and ex.output["updateStatus"] == "Successful"
    # The 404, then InProgress once, then Successful.
    assert len(ex.task_calls(DESCRIBE_UPDATE)) == 3, ex.explain()
    assert ex.output["finalUpdate"]["Id"] == ex.output["update"]["id"]
    ng = stack.eks.nodegroup_state("sam-404", "workers")
    assert ng["version"] == "1.31" and ng["updatesCreated"] == 1


def test_failed_update_fails_the_execution_with_the_eks_errors(stack):
    seed_cluster(
        stack, "sam-fail", [{"name": "batch", "version": "1.30", "updateOutcome": "Failed", "pollsInProgress": 1}]
    )
    ex = stack.run(UPDATE, {"clusterName": "sam-fail", "nodegroupName": "batch", "version": "cluster"})

    assert ex.status == "FAILED", ex.explain()
    assert ex.error == "UpdateFailed"
    assert "PodEvictionFailure" in ex.cause
    assert "sam-fail" in ex.cause and "batch" in ex.cause and "ended Failed" in ex.cause
    # The cause carries the whole final update as JSON, errors included.
    update = json.loads(ex.cause.split(": ", 1)[1])
    assert update["Status"] == "Failed"
    assert [e["ErrorCode"] for e in update["Errors"]] == ["PodEvictionFailure"]
    assert stack.eks.nodegroup_state("sam-fail", "batch")["version"] == "1.30"


def test_up_to_date_succeeds_without_polling(stack):
    seed_cluster(stack, "sam-current", [{"name": "workers", "version": "1.31", "releaseVersion": LATEST}])
    ex = stack.run(
        UPDATE, {"clusterName": "sam-current", "nodegroupName": "workers", "version": "1.31", "releaseVersion": LATEST}
    )

    assert ex.status == "SUCCEEDED", ex.explain()
    assert ex.output["outcome"] == "UpToDate"
    assert ex.output["accountId"] == A
    assert ex.output["updateId"] is None and ex.output["update"] is None
    assert ex.task_calls(DESCRIBE_UPDATE) == []
    assert ex.events("WaitStateEntered") == []
    assert stack.eks.nodegroup_state("sam-current", "workers")["updateNodegroupVersionCalls"] == 0


def test_dry_run_ends_at_once_with_the_request(stack):
    seed_cluster(stack, "sam-dry", [{"name": "analytics", "version": "1.30"}])
    ex = stack.run(
        UPDATE, {"clusterName": "sam-dry", "nodegroupName": "analytics", "version": "cluster", "dryRun": True}
    )

    assert ex.status == "SUCCEEDED", ex.explain()
    assert ex.output["outcome"] == "DryRun"
    assert ex.output["request"]["version"] == "1.31"
    assert ex.task_calls(DESCRIBE_UPDATE) == []
    assert stack.eks.nodegroup_state("sam-dry", "analytics")["updateNodegroupVersionCalls"] == 0


def test_update_in_progress_is_retried_then_started(stack):
    # Another update (a ConfigUpdate) is running; it ends after 1 more DescribeUpdate, which the
    # function's own look at the running update makes. The first attempts answer UpdateInProgress,
    # the state machine retries, and a later attempt starts the version update.
    seed_cluster(
        stack,
        "sam-busy",
        [{"name": "workers", "version": "1.30", "pollsInProgress": 1, "runningUpdate": {"type": "ConfigUpdate"}}],
    )
    ex = stack.run(UPDATE, {"clusterName": "sam-busy", "nodegroupName": "workers", "version": "1.31"})

    assert ex.status == "SUCCEEDED", ex.explain()
    failures = ex.failed_errors()
    assert failures and set(failures) == {"UpdateInProgress"}, ex.explain()
    assert len(ex.task_calls(INVOKE)) == len(failures) + 1
    assert ex.output["outcome"] == "Started" and ex.output["updateStatus"] == "Successful"
    # The retries sent the same derived token; one version update was made.
    tokens = {
        json.loads(e["taskScheduledEventDetails"]["parameters"])["Payload"]["clientRequestToken"]
        for e in ex.task_calls(INVOKE)
    }
    assert tokens == {hashlib.sha256(ex.arn.encode()).hexdigest()}
    ng = stack.eks.nodegroup_state("sam-busy", "workers")
    assert ng["version"] == "1.31"
    assert ng["updateNodegroupVersionCalls"] == 1


def test_invalid_input_is_caught_without_a_retry(stack):
    ex = stack.run(UPDATE, {"clusterName": "sam-ok", "nodeGroupName": "workers", "force": "true"})

    assert ex.status == "FAILED", ex.explain()
    assert ex.error == "InvalidInput"
    cause = json.loads(ex.cause)
    assert cause["errorType"] == "InvalidInput"
    assert "nodegroupName" in cause["errorMessage"]
    assert len(ex.task_calls(INVOKE)) == 1, ex.explain()
    assert ex.failed_errors() == ["InvalidInput"]
    assert [e["stateEnteredEventDetails"]["name"] for e in ex.events("FailStateEntered")] == ["CouldNotStart"]
