"""Other accounts, end to end (issue #13): a request's `accountId`, served through the target role.

The release bootstrap runs behind testkit's `ThreadedRuntimeApi`, not `cargo lambda watch`: the
function learns its own account from the invoked function's ARN, and cargo lambda sends
`function-arn` (no account, so every request naming an account would be refused), while
`ThreadedRuntimeApi` sends `arn:aws:lambda:us-east-1:123456789012:function:...`, the default
account of the local endpoint. Account A below is that account.

localeks serves every account: a world seeded in account B is seen only by calls signed with
credentials of B (an assumed role of B's), STS AssumeRole is refused unless the role exists and
trusts the caller, and `/_localeks/calls` counts requests per account and AssumeRole per role
(tests/localeks/README.md). Each test starts a function process of its own, so "assumed once
per warm process" is counted from a cold start.
"""

from __future__ import annotations

import contextlib
import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import testkit as tk
from test_e2e import envelope

A = tk.DEFAULT_ACCOUNT_ID  # the function's own (the invoked ARN's account, moto's default)
B = "111122223333"  # a target account: its role trusts A
C = "444455556666"  # another target account: its role trusts A
NO_ROLE = "777788889999"  # allowed, but no role there
UNTRUSTING = "222233334444"  # allowed, its role trusts only OUTSIDER
OUTSIDER = "999900001111"  # not in ALLOWED_ACCOUNTS, though its role trusts A

# A role name of our own (not the default), so the tests show TARGET_ROLE_NAME is what is assumed.
ROLE = "e2e-nodegroup-updater-target"
SESSION = "eks-nodegroup-updater"  # the session name the function gives (src/aws/sts.rs)
ALLOWED_ACCOUNTS = ",".join([B, C, NO_ROLE, UNTRUSTING])
ALLOWED_CLUSTERS = "prod,payments-*"
BASE_ENV = {"ALLOWED_ACCOUNTS": ALLOWED_ACCOUNTS, "TARGET_ROLE_NAME": ROLE, "ALLOWED_CLUSTERS": ALLOWED_CLUSTERS}

WORKERS = {"clusterName": "prod", "nodegroupName": "workers", "version": "1.31"}
HEX64 = re.compile(r"^[0-9a-f]{64}$")


def arn(account: str) -> str:
    return tk.role_arn(account, ROLE)


def world(*nodegroups: str, cluster: str = "prod") -> dict[str, Any]:
    """One cluster at 1.31 whose node groups are at 1.30, the latest release published in SSM."""
    return {
        "clusters": [
            {
                "name": cluster,
                "version": "1.31",
                "latestReleases": {"1.31": "1.31.7-20251120"},
                "publishLatestToSsm": {"ageDays": 30},
                "nodegroups": [
                    {"name": name, "version": "1.30", "releaseVersion": "1.30.4-20241109"} for name in nodegroups
                ],
            }
        ]
    }


def seed_target(eks: tk.LocalEks, account: str, *nodegroups: str, cluster: str = "prod") -> None:
    """`world` in `account`, with role ROLE there trusting A."""
    eks.seed_account(account, world(*nodegroups, cluster=cluster), role_name=ROLE)


# ------------------------------------------------------------------ the function


@dataclass
class Answer:
    ok: bool
    body: dict[str, Any]
    records: list[dict[str, Any]]

    @property
    def result(self) -> str:
        return self.body["outcome"] if self.ok else self.body["errorType"]

    @property
    def summary(self) -> dict[str, Any]:
        summaries = [r["fields"] for r in self.records if tk.is_summary(r)]
        assert len(summaries) == 1, f"expected one summary log line, got {len(summaries)}: {self.records}"
        return summaries[0]


@dataclass
class Function:
    """One release bootstrap behind its own `ThreadedRuntimeApi` (whose invoked ARN names A)."""

    api: tk.ThreadedRuntimeApi
    fn: tk.FunctionProcess

    def invoke(self, payload: Any) -> Answer:
        start = self.fn.log_size()
        result = self.api.invoke(payload, budget=60)
        assert isinstance(result.body, dict), result.raw
        if not result.ok:
            assert set(result.body) == {"errorType", "errorMessage"}, result.body
        assert tk.FUNCTION_SECRET not in result.raw.decode(errors="replace"), "an answer holds the secret key"
        # The summary line is written before the answer; give the log file a moment to show it.
        deadline = time.monotonic() + 2.0
        while True:
            records = self.fn.records(start)
            if any(tk.is_summary(r) for r in records) or time.monotonic() > deadline:
                break
            time.sleep(0.02)
        answer = Answer(result.ok, result.body, records)
        fields = answer.summary
        assert fields.get("error_type" if not answer.ok else "outcome") == answer.result, fields
        return answer

    def log(self) -> str:
        return self.fn.process.log_text(self.fn.process.log_start)


StartFunction = Callable[..., Function]


@pytest.fixture
def start_function(endpoint: tk.LocalEks, workdir: Path) -> Iterator[StartFunction]:
    """Starts function processes (cold, a Runtime API of their own each) with BASE_ENV, `env` on
    top and the variables in `unset` left out; all stopped at the end of the test."""
    with contextlib.ExitStack() as stack:
        count = 0

        def start(name: str = "accounts", *, unset: tuple[str, ...] = (), **env: str) -> Function:
            nonlocal count
            count += 1
            extra = {k: v for k, v in {**BASE_ENV, **env}.items() if k not in unset}
            api = stack.enter_context(tk.ThreadedRuntimeApi())
            fn = stack.enter_context(
                tk.function_process(api, endpoint.url, workdir, name=f"function-{name}-{count}", extra_env=extra)
            )
            for key in unset:
                assert key not in fn.env, key
            return Function(api, fn)

        yield start


@pytest.fixture
def fn(start_function: StartFunction) -> Function:
    return start_function()


def expect_ok(fn: Function, payload: Any, outcome: str, account: str) -> dict[str, Any]:
    answer = fn.invoke(payload)
    assert answer.ok, answer.body
    assert answer.body["outcome"] == outcome, answer.body
    assert answer.body["accountId"] == account, answer.body
    assert answer.summary.get("account") == account, answer.summary
    return answer.body


def expect_error(fn: Function, payload: Any, error_type: str) -> str:
    """The errorMessage; checks the type, that it names the node group, and the log line's account."""
    answer = fn.invoke(payload)
    assert not answer.ok, answer.body
    assert answer.body["errorType"] == error_type, answer.body
    request = payload.get("detail", payload)
    message = answer.body["errorMessage"]
    assert f"cluster '{request['clusterName']}', node group '{request['nodegroupName']}'" in message, message
    assert answer.summary.get("account") == request.get("accountId", A), answer.summary
    return message


def no_eks_call(counts: tk.CallCounts, account: str) -> None:
    assert counts.in_account(account, "eks") == {}, f"EKS calls in {account}: {counts.raw}"


# ---------------------------------------------------------------------- the tests


def test_a_node_group_in_another_account_is_updated_through_its_role(fn: Function, eks: tk.LocalEks) -> None:
    seed_target(eks, B, "workers")
    eks.clear_calls()

    body = expect_ok(fn, {**WORKERS, "accountId": B}, "Started", B)
    update_id = body["update"]["id"]
    counts = eks.call_counts()

    # STS in A (the function's own credentials), then every other call in B, with B's role.
    assert counts.in_account(A) == {"sts:AssumeRole": 1}, counts.raw
    assert counts.assume_role(arn(B))["granted"] == 1, counts.raw
    assert counts.assume_role(arn(B))["bySession"] == {SESSION: 1}, counts.raw
    in_b = counts.in_account(B)
    assert in_b.get("eks:DescribeNodegroup") == 1 and in_b.get("eks:DescribeCluster") == 1, in_b
    assert in_b.get("eks:UpdateNodegroupVersion") == 1, in_b
    assert counts.accounts == {A, B}, counts.raw

    # The update exists in B, as B's own credentials see it.
    eks_b = eks.client_as("eks", arn(B), retries={"max_attempts": 1, "mode": "standard"})
    update = eks_b.describe_update(name="prod", nodegroupName="workers", updateId=update_id)["update"]
    assert update["status"] == "InProgress" and update["type"] == "VersionUpdate", update
    assert {"type": "Version", "value": "1.31"} in update["params"], update
    assert eks_b.describe_nodegroup(clusterName="prod", nodegroupName="workers")["nodegroup"]["status"] == "UPDATING"
    assert eks.nodegroup_state("prod", "workers", account=B)["updatesCreated"] == 1

    # A's own credentials do not see the cluster at all.
    eks_a = eks.eks()
    assert eks_a.list_clusters()["clusters"] == []
    with pytest.raises(eks_a.exceptions.ResourceNotFoundException):
        eks_a.describe_cluster(name="prod")

    # Without accountId the request is served in A, where the cluster is not: NotFound.
    eks.clear_calls()
    message = expect_error(fn, WORKERS, "NotFound")
    assert "prod" in message, message
    counts = eks.call_counts()
    assert counts.accounts == {A}, f"a request for A made calls elsewhere: {counts.raw}"
    assert counts.count(A, "sts") == 0, counts.raw
    assert eks.nodegroup_state("prod", "workers", account=B)["updateNodegroupVersionCalls"] == 1


@pytest.mark.parametrize(
    "account, roles",
    [
        (NO_ROLE, None),  # a world there, but no role
        (UNTRUSTING, [{"name": ROLE, "trustedAccounts": [OUTSIDER]}]),  # the role trusts someone else
        # The default role name trusts A, but the function is told TARGET_ROLE_NAME=ROLE.
        (B, [{"name": tk.TARGET_ROLE_NAME, "trustedAccounts": [A]}]),
    ],
    ids=["no-role", "role-not-trusting-us", "role-of-another-name"],
)
def test_a_role_that_cannot_be_assumed_is_access_denied_naming_it(
    account: str, roles: list[dict[str, Any]] | None, fn: Function, eks: tk.LocalEks
) -> None:
    eks.seed({"accountId": account, **world("workers"), **({"roles": roles} if roles else {})})
    eks.clear_calls()

    message = expect_error(fn, {**WORKERS, "accountId": account}, "AccessDenied")
    assert arn(account) in message, message
    assert "target-account-role.yaml" in message, message

    counts = eks.call_counts()
    assert counts.assume_role(arn(account))["refused"] == 1, counts.raw
    assert counts.in_account(A) == {"sts:AssumeRole": 1}, counts.raw
    no_eks_call(counts, account)
    assert counts.accounts == {A}, counts.raw
    assert eks.nodegroup_state("prod", "workers", account=account)["updateNodegroupVersionCalls"] == 0

    # Nothing was held for the refused role: the next request asks STS again, and is refused again.
    expect_error(fn, {**WORKERS, "accountId": account}, "AccessDenied")
    assert eks.call_counts().assume_role(arn(account))["refused"] == 2


@pytest.mark.parametrize(
    "account, env, unset",
    [
        (OUTSIDER, {}, ()),  # ALLOWED_ACCOUNTS lists others (its role exists and trusts A)
        (B, {}, ("ALLOWED_ACCOUNTS",)),  # unset: the own account only
        (B, {"ALLOWED_ACCOUNTS": " , "}, ()),  # set but naming no account: none other
    ],
    ids=["not-listed", "unset", "empty"],
)
def test_an_account_outside_allowed_accounts_is_not_allowed_without_any_call(
    account: str, env: dict[str, str], unset: tuple[str, ...], start_function: StartFunction, eks: tk.LocalEks
) -> None:
    # The role there exists and trusts A, and the node group is there: only ALLOWED_ACCOUNTS keeps
    # the function out.
    seed_target(eks, account, "workers")
    fn = start_function("not-allowed", unset=unset, **env)
    eks.clear_calls()

    message = expect_error(fn, {**WORKERS, "accountId": account}, "NotAllowed")
    assert account in message and "ALLOWED_ACCOUNTS" in message, message
    # An EventBridge envelope is refused the same way.
    expect_error(fn, envelope({**WORKERS, "accountId": account}), "NotAllowed")

    counts = eks.call_counts()
    assert counts.total == {}, f"calls made for a refused account: {counts.raw}"
    assert counts.raw["assumeRole"] == {}, counts.raw
    assert counts.accounts == set(), counts.raw

    # Its own account, named or not, is still served, with its own credentials.
    eks.seed(world("workers"))
    eks.clear_calls()
    expect_ok(fn, {**WORKERS, "accountId": A, "dryRun": True}, "DryRun", A)
    expect_ok(fn, {**WORKERS, "dryRun": True}, "DryRun", A)
    counts = eks.call_counts()
    assert counts.accounts == {A} and counts.count(A, "sts") == 0, counts.raw


def test_credentials_are_assumed_once_per_account_per_warm_process(
    start_function: StartFunction, eks: tk.LocalEks
) -> None:
    groups = ("workers", "web", "batch")
    seed_target(eks, B, *groups)
    seed_target(eks, C, *groups)
    eks.seed(world(*groups))  # and in A
    fn = start_function("warm")
    eks.clear_calls()

    # Interleaved: B, C, A, each node group once for real, then again (AlreadyInProgress), and dry runs.
    for group in groups:
        for account in (B, C):
            body = expect_ok(fn, {**WORKERS, "nodegroupName": group, "accountId": account}, "Started", account)
            assert body["update"]["id"], body
        expect_ok(fn, {**WORKERS, "nodegroupName": group}, "Started", A)
    for account in (B, C):
        expect_ok(fn, {**WORKERS, "accountId": account}, "AlreadyInProgress", account)
    expect_ok(fn, {**WORKERS, "nodegroupName": "web", "accountId": B}, "AlreadyInProgress", B)

    counts = eks.call_counts()
    for account in (B, C):
        role = counts.assume_role(arn(account))
        assert role["calls"] == 1 and role["granted"] == 1, (account, counts.raw["assumeRole"])
        assert role["byCaller"] == {A: 1} and role["bySession"] == {SESSION: 1}, role
        # Every node group of the account was updated there, once.
        assert counts.cluster_in(account, "prod").get("eks:UpdateNodegroupVersion") == len(groups), counts.raw
        for group in groups:
            assert eks.nodegroup_state("prod", group, account=account)["updatesCreated"] == 1
    assert set(counts.raw["assumeRole"]) == {arn(B), arn(C)}, counts.raw["assumeRole"]
    assert counts.in_account(A, "sts") == {"sts:AssumeRole": 2}, counts.raw
    for group in groups:
        assert eks.nodegroup_state("prod", group, account=A)["updatesCreated"] == 1
    assert "assumed the target role" in fn.log()

    # A new process (a cold start) holds nothing yet: it assumes B's role once more.
    cold = start_function("cold")
    expect_ok(cold, {**WORKERS, "accountId": B}, "AlreadyInProgress", B)
    expect_ok(cold, {**WORKERS, "nodegroupName": "web", "accountId": B}, "AlreadyInProgress", B)
    assert eks.call_counts().assume_role(arn(B))["granted"] == 2


# What the credentials STS hands out look like: access key ids, secret keys (40 characters of
# base64), session tokens (long base64).
KEY_ID = re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{12,}")
SECRET = re.compile(r"(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])")
TOKEN = re.compile(r"[A-Za-z0-9/+=]{100,}")


def secrets_in(text: str) -> list[str]:
    return [m.group(0) for pattern in (KEY_ID, SECRET, TOKEN) for m in pattern.finditer(text)]


def test_assumed_credentials_never_reach_a_log_or_an_answer(start_function: StartFunction, eks: tk.LocalEks) -> None:
    seed_target(eks, B, "workers", "web")
    seed_target(eks, C, "workers")
    # At DEBUG as well, the level the template lets an operator choose.
    fn = start_function("hygiene", AWS_LAMBDA_LOG_LEVEL="DEBUG")
    answers = [
        fn.invoke({**WORKERS, "accountId": B}),  # Started
        fn.invoke({**WORKERS, "accountId": B}),  # AlreadyInProgress (held credentials)
        fn.invoke({**WORKERS, "nodegroupName": "web", "accountId": B, "dryRun": True}),  # DryRun
        fn.invoke({**WORKERS, "nodegroupName": "nope", "accountId": B}),  # NotFound in B
        fn.invoke({**WORKERS, "accountId": C, "version": "1.29"}),  # PreconditionFailed in C (a rollback)
        fn.invoke({**WORKERS, "accountId": NO_ROLE}),  # AccessDenied (STS)
        fn.invoke({**WORKERS, "accountId": OUTSIDER}),  # NotAllowed
    ]
    eks.faults({"operation": "DescribeNodegroup", "kind": "denied"})
    answers.append(fn.invoke({**WORKERS, "accountId": C}))  # AccessDenied (EKS, in C)
    eks.clear_faults()
    assert [a.result for a in answers] == [
        "Started",
        "AlreadyInProgress",
        "DryRun",
        "NotFound",
        "PreconditionFailed",
        "AccessDenied",
        "NotAllowed",
        "AccessDenied",
    ]
    # The checker finds what STS issues, the same role's credentials assumed here.
    issued = eks.assumed_credentials(arn(B))
    for name in ("AccessKeyId", "SecretAccessKey", "SessionToken"):
        assert secrets_in(f"x {issued[name]} y") == [issued[name]], (name, issued[name])

    log = fn.log()
    assert log, "the function logged nothing"
    assert secrets_in(log) == [], "a credential-shaped string in the function's log"
    assert tk.FUNCTION_SECRET not in log
    text = "".join(json.dumps(a.body) for a in answers)
    assert secrets_in(text) == [] and tk.FUNCTION_SECRET not in text, "a credential in an answer"
    # Every summary names its account: the request's, else the function's own.
    expected = [B, B, B, B, C, NO_ROLE, OUTSIDER, C]
    assert [a.summary.get("account") for a in answers] == expected


def test_the_token_of_one_event_differs_per_account(fn: Function, eks: tk.LocalEks) -> None:
    # The same node group, in the same state, in A and in B: only the account differs.
    eks.seed(world("workers"))
    seed_target(eks, B, "workers")
    event_id = "0b0e7a47-5b7d-4d7a-9c0e-acc0c0ffee13"

    def token(account: str | None, event: str = event_id) -> str:
        detail = {**WORKERS, "dryRun": True, **({"accountId": account} if account else {})}
        body = expect_ok(fn, envelope(detail, event_id=event), "DryRun", account or A)
        value = body["target"]["clientRequestToken"]
        assert HEX64.match(value), body
        assert body["request"]["clientRequestToken"] == value, body
        return value

    absent, own, other = token(None), token(A), token(B)
    assert absent == own, "naming the function's own account changed the token"
    assert other != own, "one event aimed at two accounts got one token"
    assert token(B) == other, "a redelivery to B got another token"
    assert token(B, "0b0e7a47-5b7d-4d7a-9c0e-acc0c0ffee14") != other, "another event got B's token"
    assert eks.update_calls_total() == 0


def test_allowed_clusters_still_applies_in_another_account(fn: Function, eks: tk.LocalEks) -> None:
    clusters = [world("workers", cluster=name)["clusters"][0] for name in ("prod", "staging", "payments-eu")]
    eks.seed_account(B, {"clusters": clusters}, role_name=ROLE)
    eks.clear_calls()

    message = expect_error(fn, {**WORKERS, "clusterName": "staging", "accountId": B}, "NotAllowed")
    assert "ALLOWED_CLUSTERS" in message, message
    counts = eks.call_counts()
    assert counts.total == {} and counts.raw["assumeRole"] == {}, f"calls for a cluster not allowed: {counts.raw}"

    # The allowed ones in B are served.
    expect_ok(fn, {**WORKERS, "clusterName": "payments-eu", "accountId": B}, "Started", B)
    expect_ok(fn, {**WORKERS, "accountId": B}, "Started", B)
    assert eks.nodegroup_state("staging", "workers", account=B)["updateNodegroupVersionCalls"] == 0
    counts = eks.call_counts()
    assert counts.cluster_in(B, "staging") == {}, counts.raw
