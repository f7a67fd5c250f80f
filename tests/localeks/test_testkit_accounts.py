"""testkit's helpers for other accounts, against the endpoint they drive (tests/support/testkit).

`LocalEks.seed_account`, `client_as`, `assumed_env`, `call_counts()` (`CallCounts`) and
`nodegroup_state(account=)`: what a test of the function or of the state machines in another
account uses. The endpoint is started the way those tiers start it (`testkit.local_eks`).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

import testkit as tk

B, C = "444455556666", "777788889999"


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tk.LocalEks]:
    workdir: Path = tmp_path_factory.mktemp("testkit-accounts")
    with tk.local_eks(workdir, quiet=True) as eks:
        yield eks


@pytest.fixture(autouse=True)
def fresh(endpoint: tk.LocalEks) -> None:
    endpoint.reset()
    endpoint.clear_calls()


def world(version: str = "1.31") -> dict:
    return {"clusters": [{"name": "prod", "version": version, "nodegroups": [{"name": "web", "version": "1.30"}]}]}


def test_seed_account_makes_the_target_role_trusting_the_default_account(endpoint: tk.LocalEks) -> None:
    made = endpoint.seed_account(B, world("1.32"))
    assert made["accountId"] == B
    assert made["roles"] == [{"arn": tk.role_arn(B), "trustedAccounts": [tk.DEFAULT_ACCOUNT_ID]}]
    assert tk.role_arn(B) == f"arn:aws:iam::{B}:role/{tk.TARGET_ROLE_NAME}"

    in_b = endpoint.client_as("eks", tk.role_arn(B), session="updater")
    assert in_b.describe_cluster(name="prod")["cluster"]["version"] == "1.32"
    assert endpoint.eks().list_clusters()["clusters"] == []
    env = endpoint.assumed_env(tk.role_arn(B))
    assert env["AWS_REGION"] == tk.REGION and env["AWS_SESSION_TOKEN"] and env["AWS_ACCESS_KEY_ID"] != "testing"

    endpoint.seed(world("1.31"))  # the default account's cluster of the same name
    assert endpoint.nodegroup_state("prod", "web", account=B)["version"] == "1.30"
    in_b.update_nodegroup_version(clusterName="prod", nodegroupName="web", version="1.32")
    assert endpoint.nodegroup_state("prod", "web", account=B)["updatesCreated"] == 1
    assert endpoint.nodegroup_state("prod", "web", account=tk.DEFAULT_ACCOUNT_ID)["updatesCreated"] == 0
    with pytest.raises(KeyError, match=C):
        endpoint.nodegroup_state("prod", "web", account=C)


def test_a_role_trusting_no_one_or_another_account_is_refused(endpoint: tk.LocalEks) -> None:
    endpoint.seed_account(B, trusted=())
    endpoint.seed_account(C, trusted=(B,), roles=[{"name": "other", "trustedAccounts": [tk.DEFAULT_ACCOUNT_ID]}])
    for arn in (tk.role_arn(B), tk.role_arn(C)):
        with pytest.raises(ClientError) as exc:
            endpoint.client_as("eks", arn)
        assert exc.value.response["Error"]["Code"] == "AccessDenied"
    assert endpoint.client_as("eks", tk.role_arn(C, "other")).list_clusters()["clusters"] == []
    with pytest.raises(tk.HarnessError):
        endpoint.seed_account(B, {"accountId": C})


def test_call_counts_per_account_and_per_role(endpoint: tk.LocalEks) -> None:
    endpoint.seed_account(B, world())
    endpoint.seed_account(C, trusted=())
    endpoint.clear_calls()

    in_b = endpoint.client_as("eks", tk.role_arn(B), session="updater")
    in_b.describe_cluster(name="prod")
    in_b.describe_nodegroup(clusterName="prod", nodegroupName="web")
    with pytest.raises(ClientError):
        endpoint.client_as("eks", tk.role_arn(C), session="updater")
    endpoint.client("ssm").get_parameters(Names=["/aws/service/none"])

    counts = endpoint.call_counts()
    assert counts.accounts == {tk.DEFAULT_ACCOUNT_ID, B}
    assert counts.count(B, "eks") == 2 and counts.count(B) == 2
    assert counts.count(B, "eks", "DescribeNodegroup") == 1
    assert counts.count(C, "eks") == 0, "no EKS call at all in C"
    assert counts.in_account(B, "eks") == {"eks:DescribeCluster": 1, "eks:DescribeNodegroup": 1}
    assert counts.cluster_in(B, "prod") == {"eks:DescribeCluster": 1, "eks:DescribeNodegroup": 1}
    assert counts.in_account(tk.DEFAULT_ACCOUNT_ID) == {"sts:AssumeRole": 2, "ssm:GetParameters": 1}
    assert counts.assume_role(tk.role_arn(B)) == {
        "calls": 1,
        "granted": 1,
        "refused": 0,
        "byCaller": {tk.DEFAULT_ACCOUNT_ID: 1},
        "bySession": {"updater": 1},
    }
    assert counts.assume_role(tk.role_arn(C))["refused"] == 1
    assert counts.assume_role(tk.role_arn(C, "never-asked"))["calls"] == 0
    assert counts.total["eks:DescribeCluster"] == 1
    assert endpoint.calls() == counts.raw
