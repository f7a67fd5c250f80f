"""Local executions of the state machines template.yaml deploys.

The definitions are statemachine/*.asl.json with the template's DefinitionSubstitutions applied
(conftest.SUBSTITUTIONS: local ARNs, 1 s waits); the Lambda task runs the release binary through
the Runtime API emulator and DescribeUpdate is the local EKS endpoint's (see conftest.py and
sfnlocal.py). The fleet state machine's executions are test_fleet.py's.

The function knows its account (conftest.ACCOUNT, A), as on Lambda. A node group in another
account is served through that account's target role: the function assumes it with session
SESSION, and the update state machine's poll (DescribeUpdateInTargetAccount, the Task's
`Credentials`) is made as that role too, which sfnlocal assumes with session
`sfnlocal-<execution name>`; localeks counts both per role and every call per account.
"""

from __future__ import annotations

import hashlib
import json

import conftest
import pytest
from botocore.exceptions import ClientError

import testkit as tk

pytestmark = pytest.mark.usefixtures("logs_on_failure")

A = conftest.ACCOUNT
SESSION = "eks-nodegroup-updater"  # the functions' RoleSessionName (src/aws/sts.rs)

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


def session_of(ex):
    """The RoleSessionName sfnlocal gives the roles of this execution's Task `Credentials`."""
    return f"sfnlocal-{ex.arn.split(':')[-1]}"[:64]


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


# ------------------------------------------------------------------ other accounts (issue #13)

OLD_RELEASE = "1.30.4-20241109"


def test_a_nodegroup_in_another_account_is_started_and_polled_through_its_role(stack):
    b, role = conftest.UPDATE_ACCOUNT, tk.role_arn(conftest.UPDATE_ACCOUNT)
    workers = {"name": "workers", "version": "1.30", "releaseVersion": OLD_RELEASE, "pollsInProgress": 1}
    # The same cluster in A and in B: only B's node group is asked for, and only B's may change.
    seed_cluster(stack, "sam-xacct", [workers])
    seed_cluster(stack, "sam-xacct", [workers], account=b)
    stack.eks.clear_calls()
    ex = stack.run(UPDATE, {"accountId": b, "clusterName": "sam-xacct", "nodegroupName": "workers", "version": "1.31"})

    assert ex.status == "SUCCEEDED", ex.explain()
    out = ex.output
    assert (out["accountId"], out["outcome"], out["updateStatus"]) == (b, "Started", "Successful")
    assert out["updateId"] == out["update"]["id"] == out["finalUpdate"]["Id"]
    # B's polling loop: each DescribeUpdate as B's role (the Task's Credentials), one InProgress
    # answer, then Successful; never this account's loop.
    polls = ex.task_calls(DESCRIBE_UPDATE)
    assert len(polls) == 2, ex.explain()
    assert [p["taskScheduledEventDetails"].get("taskCredentials") for p in polls] == [{"roleArn": role}] * 2
    entered = states_entered(ex)
    assert "DescribeUpdateInTargetAccount" in entered and "DescribeUpdate" not in entered, entered

    counts = stack.eks.call_counts()
    in_b = counts.cluster_in(b, "sam-xacct")
    assert in_b.get("eks:DescribeUpdate") == len(polls) and in_b.get("eks:UpdateNodegroupVersion") == 1, counts.raw
    assert counts.cluster_in(A, "sam-xacct") == {}, counts.raw
    assert counts.in_account(A, "eks") == {} and counts.in_account(A, "ssm") == {}, counts.raw
    # The function assumed B's role once (its session), the executor once per poll (the execution's).
    assert counts.assume_role(role) == {
        "calls": 1 + len(polls),
        "granted": 1 + len(polls),
        "refused": 0,
        "byCaller": {A: 1 + len(polls)},
        "bySession": {SESSION: 1, session_of(ex): len(polls)},
    }
    assert counts.in_account(A, "sts") == {"sts:AssumeRole": 1 + len(polls)}, counts.raw

    # The world, as each account's credentials see it: B's node group moved, A's untouched.
    eks_b = stack.eks.client_as("eks", role)
    ng = eks_b.describe_nodegroup(clusterName="sam-xacct", nodegroupName="workers")["nodegroup"]
    assert (ng["version"], ng["status"]) == ("1.31", "ACTIVE"), ng
    update = eks_b.describe_update(name="sam-xacct", nodegroupName="workers", updateId=out["updateId"])["update"]
    assert update["status"] == "Successful"
    mine = stack.eks.nodegroup_state("sam-xacct", "workers", account=A)
    assert (mine["version"], mine["updateNodegroupVersionCalls"]) == ("1.30", 0), mine
    with pytest.raises(ClientError) as refused:
        stack.eks.eks().describe_update(name="sam-xacct", nodegroupName="workers", updateId=out["updateId"])
    assert refused.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_a_role_that_does_not_trust_this_account_fails_access_denied_naming_it(stack):
    u = conftest.UNTRUSTING_ACCOUNT
    role = tk.role_arn(u)
    workers = [{"name": "workers", "version": "1.30"}]
    seed_cluster(stack, "sam-untrusted", workers, account=u, trusted=(conftest.STRANGER_ACCOUNT,))
    stack.eks.clear_calls()
    request = {"accountId": u, "clusterName": "sam-untrusted", "nodegroupName": "workers", "version": "1.31"}
    ex = stack.run(UPDATE, request)

    assert ex.status == "FAILED", ex.explain()
    assert ex.error == "AccessDenied"
    cause = json.loads(ex.cause)
    assert cause["errorType"] == "AccessDenied"
    message = cause["errorMessage"]
    assert f"cannot assume role {role} in account {u}" in message, message
    assert "target-account-role.yaml" in message, message
    # The function's own refusal, not retried; nothing polled.
    assert len(ex.task_calls(INVOKE)) == 1 and ex.task_calls(DESCRIBE_UPDATE) == [], ex.explain()
    assert [e["stateEnteredEventDetails"]["name"] for e in ex.events("FailStateEntered")] == ["CouldNotStart"]
    counts = stack.eks.call_counts()
    assert counts.assume_role(role) == {
        "calls": 1,
        "granted": 0,
        "refused": 1,
        "byCaller": {A: 1},
        "bySession": {SESSION: 1},
    }
    assert counts.count(u) == 0 and counts.in_account(A, "eks") == {}, counts.raw
    assert stack.eks.nodegroup_state("sam-untrusted", "workers", account=u)["updateNodegroupVersionCalls"] == 0


def test_a_role_refused_to_the_poll_fails_the_execution_could_not_poll(stack):
    # The updater holds the role's credentials from an earlier request; then the role stops
    # trusting A. The function starts the update with what it holds; the state machine's poll
    # must assume the role anew, is refused (States.Permissions), and the refusal is caught:
    # the execution fails CouldNotPoll, Step Functions' error first in the cause.
    r = conftest.REVOKED_ACCOUNT
    role = tk.role_arn(r)
    request = {"accountId": r, "clusterName": "sam-revoked", "nodegroupName": "workers", "version": "1.31"}
    seed_cluster(stack, "sam-revoked", [{"name": "workers", "version": "1.30", "pollsInProgress": 1}], account=r)
    warm = stack.run(UPDATE, {**request, "dryRun": True})  # the updater assumes the role; nothing is polled
    assert warm.status == "SUCCEEDED", warm.explain()
    assert (warm.output["outcome"], warm.output["accountId"]) == ("DryRun", r)
    assert stack.eks.call_counts().assume_role(role)["bySession"] == {SESSION: 1}

    stack.eks.seed_account(r, trusted=())  # the role again, trusting no one
    stack.eks.clear_calls()
    ex = stack.run(UPDATE, request)

    assert ex.status == "FAILED", ex.explain()
    [poll] = ex.task_calls(DESCRIBE_UPDATE)
    assert poll["taskScheduledEventDetails"]["taskCredentials"] == {"roleArn": role}
    [refused] = ex.events("TaskFailed")
    assert refused["taskFailedEventDetails"]["error"] == "States.Permissions", refused
    assert role in refused["taskFailedEventDetails"]["cause"], refused
    assert [e["stateEnteredEventDetails"]["name"] for e in ex.events("FailStateEntered")] == [
        "CouldNotPollInStepFunctions"
    ]
    counts = stack.eks.call_counts()
    # Only the executor asked STS (and was refused); the function used the credentials it held.
    assert counts.assume_role(role) == {
        "calls": 1,
        "granted": 0,
        "refused": 1,
        "byCaller": {A: 1},
        "bySession": {session_of(ex): 1},
    }
    made = counts.cluster_in(r, "sam-revoked")
    assert made.get("eks:UpdateNodegroupVersion") == 1 and "eks:DescribeUpdate" not in made, counts.raw
    # The update was started and runs on in EKS: the execution could not follow it.
    ng = stack.eks.nodegroup_state("sam-revoked", "workers", account=r)
    assert (ng["status"], ng["updatesCreated"]) == ("UPDATING", 1), ng

    # A Fail state cannot raise an error named `States.*` (ASL: those names are Step Functions'
    # own): the definition raises CouldNotPoll and keeps Step Functions' error in the cause.
    assert ex.error == "CouldNotPoll", ex.explain()
    assert ex.cause.startswith("States.Permissions: "), ex.cause
    assert role in ex.cause, ex.cause
