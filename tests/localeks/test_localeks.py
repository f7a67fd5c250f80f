"""Tests of the local EKS endpoint itself, through boto3 as a real client.

One server process serves the whole module (started on a free loopback port,
stopped with SIGTERM at the end, which must exit 0); every test starts from
an empty endpoint (POST /_localeks/reset).
"""

from __future__ import annotations

import http.client
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from testkit import LISTENING_LINE

HERE = Path(__file__).resolve().parent
REGION = "us-east-1"
# moto routes by the signing scope and checks no signature.
FAKE_EKS_AUTH = (
    "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/eks/aws4_request, SignedHeaders=host, Signature=0"
)


# ----------------------------------------------------------------- fixtures


def start_server(*extra: str, stderr: Any = subprocess.DEVNULL) -> tuple[subprocess.Popen, str]:
    env = dict(os.environ, PYTHONPATH=str(HERE) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen(
        [sys.executable, "-m", "localeks", "--port", "0", *extra],
        cwd=HERE,
        env=env,
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 0.5)
        if ready:
            line = proc.stdout.readline()
            assert line.startswith("LISTENING http://127.0.0.1:"), line
            return proc, line.split()[1]
        if proc.poll() is not None:
            raise RuntimeError(f"localeks exited with {proc.returncode} before listening")
    proc.kill()
    raise RuntimeError("localeks did not say LISTENING within 60 s")


def stop_server(proc: subprocess.Popen, sig: int = signal.SIGTERM) -> tuple[int, str, str]:
    """Signal the server; (exit code, rest of stdout, stderr if piped)."""
    proc.send_signal(sig)
    try:
        rest, err = proc.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise
    return proc.returncode, rest, err or ""


@pytest.fixture(scope="module")
def url() -> Any:
    proc, url = start_server("--quiet")
    yield url
    code, rest, _ = stop_server(proc)
    assert code == 0
    assert rest == "", "nothing but the LISTENING line may reach stdout"


def admin(url: str, method: str, path: str, body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url + path, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())


@pytest.fixture(autouse=True)
def fresh(url: str) -> None:
    admin(url, "POST", "/_localeks/reset", {})


def client(url: str, service: str = "eks", **config: Any) -> Any:
    return boto3.client(
        service,
        endpoint_url=url,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        aws_session_token="testing",
        # One attempt: a test about errors must see each error, not a retry.
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}, **config),
    )


@pytest.fixture
def eks(url: str) -> Any:
    return client(url)


def seed(url: str, *clusters: dict[str, Any]) -> dict[str, Any]:
    return admin(url, "POST", "/_localeks/seed", {"region": REGION, "clusters": list(clusters)})


def prod(**ng: Any) -> dict[str, Any]:
    """Cluster "prod" at 1.31 with one node group "workers" (at 1.30 unless told)."""
    nodegroup = {"name": "workers", "version": "1.30", "releaseVersion": "1.30.4-20241109", **ng}
    return {
        "name": "prod",
        "version": "1.31",
        "latestReleases": {"1.31": "1.31.7-20251120", "1.30": "1.30.9-20251120"},
        "nodegroups": [nodegroup],
    }


def ng_state(url: str, cluster: str = "prod", name: str = "workers") -> dict[str, Any]:
    state = admin(url, "GET", "/_localeks/state")
    c = next(c for c in state["clusters"] if c["name"] == cluster)
    return next(n for n in c["nodegroups"] if n["name"] == name)


def describe_ng(eks: Any, name: str = "workers") -> dict[str, Any]:
    return eks.describe_nodegroup(clusterName="prod", nodegroupName=name)["nodegroup"]


def poll(eks: Any, update_id: str, name: str = "workers") -> dict[str, Any]:
    return eks.describe_update(name="prod", updateId=update_id, nodegroupName=name)["update"]


def error_of(exc: pytest.ExceptionInfo) -> tuple[str, int, str | None]:
    resp = exc.value.response
    meta = resp["ResponseMetadata"]
    return resp["Error"]["Code"], meta["HTTPStatusCode"], meta["HTTPHeaders"].get("x-amzn-errortype")


# ------------------------------------------------------------ command line


def test_stdout_and_sigint() -> None:
    proc, url = start_server("--quiet")
    try:
        assert LISTENING_LINE.fullmatch(f"LISTENING {url}"), "the line testkit waits for"
        assert admin(url, "GET", "/_localeks/health") == {"ok": True}
    finally:
        code, rest, _ = stop_server(proc, signal.SIGINT)
    assert code == 0
    assert rest == ""


def test_sigterm_stops_with_exit_0_and_requests_log_to_stderr() -> None:
    proc, url = start_server(stderr=subprocess.PIPE)
    admin(url, "GET", "/_localeks/health")
    code, rest, err = stop_server(proc)
    assert (code, rest) == (0, "")
    assert "GET /_localeks/health" in err


# ------------------------------------------------------------------- seeding


def test_seeded_versions_show_in_describe_calls(url: str, eks: Any) -> None:
    made = seed(
        url,
        prod(
            amiType="AL2023_ARM_64_STANDARD",
            launchTemplate={"id": "lt-0123456789abcdef0", "name": "workers-lt", "version": "1"},
        ),
    )
    assert made["clusters"][0]["nodegroups"][0]["version"] == "1.30"
    ng = describe_ng(eks)
    assert ng["version"] == "1.30"
    assert ng["releaseVersion"] == "1.30.4-20241109"
    assert ng["amiType"] == "AL2023_ARM_64_STANDARD"
    assert ng["status"] == "ACTIVE"
    assert ng["launchTemplate"] == {"id": "lt-0123456789abcdef0", "name": "workers-lt", "version": "1"}
    assert eks.describe_cluster(name="prod")["cluster"]["version"] == "1.31"


def test_seed_defaults_and_reseed_replaces(url: str, eks: Any) -> None:
    seed(url, {"name": "prod", "version": "1.29", "nodegroups": [{"name": "workers", "pastUpdates": 2}]})
    ng = describe_ng(eks)
    assert (ng["version"], ng["releaseVersion"]) == ("1.29", "1.29.0-20250101")
    seed(url, {"name": "prod", "version": "1.31", "nodegroups": [{"name": "other"}]})
    assert eks.list_nodegroups(clusterName="prod")["nodegroups"] == ["other"]
    assert eks.describe_cluster(name="prod")["cluster"]["status"] == "ACTIVE"
    with pytest.raises(ClientError) as exc:
        describe_ng(eks)
    assert error_of(exc)[0] == "ResourceNotFoundException"
    assert admin(url, "GET", "/_localeks/state")["updates"] == []


def test_seeded_tags_show_in_describe_nodegroup(url: str, eks: Any) -> None:
    tags = {"team": "payments", "eks-updater/skip": "true", "empty": ""}
    made = seed(url, {**prod(tags=tags), "nodegroups": [*prod(tags=tags)["nodegroups"], {"name": "plain"}]})
    assert made["clusters"][0]["nodegroups"][0]["tags"] == tags
    assert describe_ng(eks)["tags"] == tags
    assert describe_ng(eks, "plain")["tags"] == {}
    assert ng_state(url)["tags"] == tags
    # An update leaves them as they are.
    eks.update_nodegroup_version(clusterName="prod", nodegroupName="workers")
    assert admin(url, "POST", "/_localeks/finish-updates", {})["finished"][0]["status"] == "Successful"
    assert describe_ng(eks)["releaseVersion"] == "1.30.9-20251120"
    assert describe_ng(eks)["tags"] == tags


@pytest.mark.parametrize(
    "tags",
    [
        ["team"],
        {"team": 1},
        {"": "x"},
        {"k" * 129: "x"},
        {"k": "v" * 257},
        {f"k{i}": "v" for i in range(51)},
    ],
    ids=["list", "int-value", "empty-key", "long-key", "long-value", "51-tags"],
)
def test_seed_rejects_bad_tags(url: str, tags: Any) -> None:
    with pytest.raises(urllib.error.HTTPError) as exc:
        seed(url, prod(tags=tags))
    assert exc.value.code == 400
    assert "tags" in json.loads(exc.value.read())["message"]


def test_seed_rejects_bad_input(url: str) -> None:
    with pytest.raises(urllib.error.HTTPError) as exc:
        seed(url, {"name": "prod", "version": "1.31.2"})
    assert exc.value.code == 400
    with pytest.raises(urllib.error.HTTPError) as exc:
        seed(url, prod(updateOutcome="Maybe"))
    assert exc.value.code == 400


# ------------------------------------------------------------------ lifecycle


def test_update_runs_then_succeeds_and_moves_the_node_group(url: str, eks: Any) -> None:
    seed(url, prod())
    update = eks.update_nodegroup_version(clusterName="prod", nodegroupName="workers", version="1.31")["update"]
    assert update["status"] == "InProgress"
    assert update["type"] == "VersionUpdate"
    assert update["params"] == [
        {"type": "Version", "value": "1.31"},
        {"type": "ReleaseVersion", "value": "1.31.7-20251120"},  # the seeded latest
    ]
    assert update["errors"] == []
    assert describe_ng(eks)["status"] == "UPDATING"

    # InProgress for two DescribeUpdate calls (the default), then over.
    assert poll(eks, update["id"])["status"] == "InProgress"
    assert poll(eks, update["id"])["status"] == "InProgress"
    assert describe_ng(eks)["version"] == "1.30"
    done = poll(eks, update["id"])
    assert done["status"] == "Successful"
    assert poll(eks, update["id"])["status"] == "Successful"

    ng = describe_ng(eks)
    assert (ng["version"], ng["releaseVersion"], ng["status"]) == ("1.31", "1.31.7-20251120", "ACTIVE")
    state = ng_state(url)
    assert (state["updateNodegroupVersionCalls"], state["updatesCreated"]) == (1, 1)


def test_latest_release_is_synthesized_and_version_defaults_to_current(url: str, eks: Any) -> None:
    seed(url, {"name": "prod", "version": "1.31", "nodegroups": [{"name": "workers", "version": "1.30"}]})
    update = eks.update_nodegroup_version(clusterName="prod", nodegroupName="workers")["update"]
    assert update["params"] == [
        {"type": "Version", "value": "1.30"},
        {"type": "ReleaseVersion", "value": "1.30.0-20260101"},
    ]


def test_created_at_is_epoch_seconds_on_the_wire(url: str, eks: Any) -> None:
    seed(url, prod())
    update_id = eks.update_nodegroup_version(clusterName="prod", nodegroupName="workers")["update"]["id"]
    # Unsigned requests reach the update routes too: read the raw JSON.
    raw = admin(url, "GET", f"/clusters/prod/updates/{update_id}?nodegroupName=workers")
    assert isinstance(raw["update"]["createdAt"], float)
    assert abs(raw["update"]["createdAt"] - time.time()) < 60


def test_launch_template_version_moves_on_success(url: str, eks: Any) -> None:
    seed(
        url,
        prod(
            launchTemplate={"id": "lt-0123456789abcdef0", "name": "workers-lt", "version": "1", "latestVersion": "4"},
            pollsInProgress=0,
        ),
    )
    update = eks.update_nodegroup_version(
        clusterName="prod",
        nodegroupName="workers",
        version="1.31",
        releaseVersion="1.31.2-20241115",
        launchTemplate={"id": "lt-0123456789abcdef0", "version": "3"},
    )["update"]
    assert update["params"] == [
        {"type": "Version", "value": "1.31"},
        {"type": "ReleaseVersion", "value": "1.31.2-20241115"},
        {"type": "LaunchTemplateName", "value": "workers-lt"},
        {"type": "LaunchTemplateVersion", "value": "3"},
    ]
    assert poll(eks, update["id"])["status"] == "Successful"  # pollsInProgress 0
    ng = describe_ng(eks)
    assert ng["launchTemplate"]["version"] == "3"
    assert ng["releaseVersion"] == "1.31.2-20241115"

    # $Latest is recorded as the number it stands for.
    update = eks.update_nodegroup_version(
        clusterName="prod", nodegroupName="workers", launchTemplate={"name": "workers-lt", "version": "$Latest"}
    )["update"]
    assert {"type": "LaunchTemplateVersion", "value": "4"} in update["params"]


def test_failed_update_reports_pod_eviction_failure(url: str, eks: Any) -> None:
    seed(url, prod(updateOutcome="Failed", pollsInProgress=1))
    update = eks.update_nodegroup_version(clusterName="prod", nodegroupName="workers", version="1.31")["update"]
    assert poll(eks, update["id"])["status"] == "InProgress"
    failed = poll(eks, update["id"])
    assert failed["status"] == "Failed"
    assert failed["errors"] == [
        {
            "errorCode": "PodEvictionFailure",
            "errorMessage": "Reached max retries while trying to evict pods from nodes in node group workers",
            "resourceIds": ["ip-192-168-1-10.ec2.internal"],
        }
    ]
    ng = describe_ng(eks)
    assert (ng["version"], ng["releaseVersion"], ng["status"]) == ("1.30", "1.30.4-20241109", "ACTIVE")


def test_polls_setting_from_config_and_finish_updates(url: str, eks: Any) -> None:
    seed(url, prod())
    admin(url, "POST", "/_localeks/config", {"pollsInProgress": 0})
    update = eks.update_nodegroup_version(clusterName="prod", nodegroupName="workers")["update"]
    assert poll(eks, update["id"])["status"] == "Successful"

    admin(url, "POST", "/_localeks/config", {"pollsInProgress": 5})
    update = eks.update_nodegroup_version(clusterName="prod", nodegroupName="workers", version="1.31")["update"]
    finished = admin(url, "POST", "/_localeks/finish-updates", {"clusterName": "prod"})["finished"]
    assert [u["id"] for u in finished] == [update["id"]]
    assert poll(eks, update["id"])["status"] == "Successful"
    assert describe_ng(eks)["version"] == "1.31"


# ---------------------------------------------------------------- rejections

LT = {"id": "lt-0123456789abcdef0", "name": "workers-lt", "version": "1"}

REJECTIONS = [
    # (id, node group seed, request, expected error)
    ("unknown-cluster", {}, {"clusterName": "nope"}, "ResourceNotFoundException"),
    ("unknown-nodegroup", {}, {"nodegroupName": "nope"}, "ResourceNotFoundException"),
    ("above-cluster", {}, {"version": "1.32"}, "InvalidParameterException"),
    ("rollback", {}, {"version": "1.29"}, "InvalidParameterException"),
    ("version-with-patch", {}, {"version": "1.31.2"}, "InvalidParameterException"),
    ("version-with-v", {}, {"version": "v1.31"}, "InvalidParameterException"),
    ("version-major-only", {}, {"version": "1"}, "InvalidParameterException"),
    ("older-release", {}, {"releaseVersion": "1.30.4-20241001"}, "InvalidParameterException"),
    ("older-release-patch", {}, {"releaseVersion": "1.30.3-20250101"}, "InvalidParameterException"),
    (
        "release-minor-differs",
        {},
        {"version": "1.31", "releaseVersion": "1.30.9-20251120"},
        "InvalidParameterException",
    ),
    ("release-minor-differs-implicit", {}, {"releaseVersion": "1.31.2-20241115"}, "InvalidParameterException"),
    (
        "windows-release-minor-differs",
        {"amiType": "WINDOWS_CORE_2022_x86_64", "releaseVersion": "1.30-2024.11.12"},
        {"version": "1.31", "releaseVersion": "1.30-2025.01.14"},
        "InvalidParameterException",
    ),
    ("release-malformed", {}, {"releaseVersion": "latest"}, "InvalidParameterException"),
    ("al2-past-1.32", {"amiType": "AL2_x86_64", "version": "1.32"}, {"version": "1.33"}, "InvalidParameterException"),
    (
        "custom-with-version",
        {"amiType": "CUSTOM", "launchTemplate": LT},
        {"version": "1.31"},
        "InvalidParameterException",
    ),
    (
        "custom-with-release",
        {"amiType": "CUSTOM", "launchTemplate": LT},
        {"releaseVersion": "1.30.9-20251120"},
        "InvalidParameterException",
    ),
    (
        "lt-id-and-name",
        {"launchTemplate": LT},
        {"launchTemplate": {"id": LT["id"], "name": LT["name"], "version": "2"}},
        "InvalidParameterException",
    ),
    (
        "lt-neither-id-nor-name",
        {"launchTemplate": LT},
        {"launchTemplate": {"version": "2"}},
        "InvalidParameterException",
    ),
    (
        "lt-bad-version",
        {"launchTemplate": LT},
        {"launchTemplate": {"id": LT["id"], "version": "two"}},
        "InvalidParameterException",
    ),
    (
        "lt-on-ng-without-one",
        {},
        {"launchTemplate": {"name": "workers-lt", "version": "2"}},
        "InvalidParameterException",
    ),
    (
        "lt-other-id",
        {"launchTemplate": LT},
        {"launchTemplate": {"id": "lt-0fedcba9876543210", "version": "2"}},
        "InvalidParameterException",
    ),
    (
        "lt-other-name",
        {"launchTemplate": LT},
        {"launchTemplate": {"name": "other-lt", "version": "2"}},
        "InvalidParameterException",
    ),
    ("status-updating", {"status": "UPDATING"}, {}, "ResourceInUseException"),
    ("status-create-failed", {"status": "CREATE_FAILED"}, {}, "InvalidRequestException"),
]

STATUS = {
    "ResourceNotFoundException": 404,
    "ResourceInUseException": 409,
    "InvalidParameterException": 400,
    "InvalidRequestException": 400,
}


@pytest.mark.parametrize("ng_seed,request_,code", [r[1:] for r in REJECTIONS], ids=[r[0] for r in REJECTIONS])
def test_rejects_what_eks_rejects(url: str, eks: Any, ng_seed: dict, request_: dict, code: str) -> None:
    seed(url, prod(**ng_seed))
    args = {"clusterName": "prod", "nodegroupName": "workers", **request_}
    with pytest.raises(ClientError) as exc:
        eks.update_nodegroup_version(**args)
    assert error_of(exc) == (code, STATUS[code], code)
    body = exc.value.response["Error"]
    assert body["Message"]
    state = ng_state(url)
    assert state["updatesCreated"] == 0
    assert state["updateIds"] == []


ACCEPTED = [
    ("same-version-latest-release", {}, {}),
    ("newer-release-same-minor", {}, {"releaseVersion": "1.30.4-20241201"}),
    ("same-release", {}, {"releaseVersion": "1.30.4-20241109"}),
    (
        "minor-numeric-not-lexical",
        {"version": "1.9", "releaseVersion": "1.9.0-20240101"},
        {"version": "1.10", "releaseVersion": "1.10.1-20240101"},
    ),
    (
        "bottlerocket-release-any-minor",
        {"amiType": "BOTTLEROCKET_x86_64", "releaseVersion": "1.26.1-943d9a41"},
        {"version": "1.31", "releaseVersion": "1.27.0-12ab34cd"},
    ),
    (
        "custom-with-lt-only",
        {"amiType": "CUSTOM", "launchTemplate": LT},
        {"launchTemplate": {"id": LT["id"], "version": "2"}},
    ),
    ("lt-by-name", {"launchTemplate": LT}, {"launchTemplate": {"name": "workers-lt", "version": "2"}}),
    ("degraded", {"status": "DEGRADED"}, {"version": "1.31"}),
    ("al2-at-1.32", {"amiType": "AL2_x86_64", "version": "1.31"}, {"version": "1.31"}),
]


@pytest.mark.parametrize("ng_seed,request_", [a[1:] for a in ACCEPTED], ids=[a[0] for a in ACCEPTED])
def test_accepts_what_eks_accepts(url: str, eks: Any, ng_seed: dict, request_: dict) -> None:
    cluster = prod(**ng_seed)
    if ng_seed.get("version") == "1.9":
        cluster["version"] = "1.10"
    seed(url, cluster)
    update = eks.update_nodegroup_version(clusterName="prod", nodegroupName="workers", **request_)["update"]
    assert update["status"] == "InProgress"
    assert ng_state(url)["updatesCreated"] == 1


def test_custom_ami_update_has_no_release_param(url: str, eks: Any) -> None:
    seed(url, prod(amiType="CUSTOM", launchTemplate=LT, releaseVersion=None, pollsInProgress=0))
    assert describe_ng(eks)["releaseVersion"] == "ami-0123456789abcdef0"
    update = eks.update_nodegroup_version(
        clusterName="prod", nodegroupName="workers", launchTemplate={"id": LT["id"], "version": "7"}
    )["update"]
    assert [p["type"] for p in update["params"]] == ["Version", "LaunchTemplateName", "LaunchTemplateVersion"]
    poll(eks, update["id"])
    ng = describe_ng(eks)
    assert ng["launchTemplate"]["version"] == "7"
    assert ng["releaseVersion"] == "ami-0123456789abcdef0"


def test_cluster_not_active_is_resource_in_use(url: str, eks: Any) -> None:
    cluster = prod()
    cluster["status"] = "UPDATING"
    seed(url, cluster)
    assert eks.describe_cluster(name="prod")["cluster"]["status"] == "UPDATING"
    with pytest.raises(ClientError) as exc:
        eks.update_nodegroup_version(clusterName="prod", nodegroupName="workers")
    assert error_of(exc) == ("ResourceInUseException", 409, "ResourceInUseException")


def test_control_plane_update_ends_after_n_describe_cluster_calls(url: str, eks: Any) -> None:
    made = seed(url, {**prod(), "updatingDescribes": 2}, {"name": "other", "updatingDescribes": 0})
    assert [(c["status"], c["updatingDescribes"]) for c in made["clusters"]] == [("UPDATING", 2), ("UPDATING", 0)]
    # Nothing but DescribeCluster moves it: not ListClusters, the state or the node group.
    eks.list_clusters()
    describe_ng(eks)
    assert admin(url, "GET", "/_localeks/state")["clusters"][0]["updatingDescribesLeft"] == 2
    with pytest.raises(ClientError) as exc:
        eks.update_nodegroup_version(clusterName="prod", nodegroupName="workers")
    assert error_of(exc)[0] == "ResourceInUseException"

    # A call a fault answers is not counted either.
    admin(url, "POST", "/_localeks/faults", {"operation": "DescribeCluster", "kind": "throttle"})
    with pytest.raises(ClientError):
        eks.describe_cluster(name="prod")

    statuses = [eks.describe_cluster(name="prod")["cluster"]["status"] for _ in range(5)]
    assert statuses == ["UPDATING", "UPDATING", "ACTIVE", "ACTIVE", "ACTIVE"]
    assert eks.describe_cluster(name="other")["cluster"]["status"] == "ACTIVE"
    assert {c["name"]: c["updatingDescribesLeft"] for c in admin(url, "GET", "/_localeks/state")["clusters"]} == {
        "prod": None,
        "other": None,
    }
    eks.update_nodegroup_version(clusterName="prod", nodegroupName="workers")


def test_control_plane_update_counts_concurrent_describes_exactly(url: str) -> None:
    seed(url, {"name": "prod", "updatingDescribes": 10})
    statuses: list[str] = []

    def describe() -> None:
        eks = client(url)
        for _ in range(4):
            statuses.append(eks.describe_cluster(name="prod")["cluster"]["status"])

    threads = [threading.Thread(target=describe) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == ["ACTIVE"] * 10 + ["UPDATING"] * 10


def test_control_plane_update_seed_is_validated(url: str) -> None:
    for cluster in (
        {"name": "prod", "updatingDescribes": -1},
        {"name": "prod", "updatingDescribes": "2"},
        {"name": "prod", "updatingDescribes": 2, "status": "ACTIVE"},
    ):
        with pytest.raises(urllib.error.HTTPError) as exc:
            seed(url, cluster)
        assert exc.value.code == 400
        assert "updatingDescribes" in json.loads(exc.value.read())["message"]


# ---------------------------------------------------------- one at a time


def test_second_update_while_one_runs_is_resource_in_use(url: str, eks: Any) -> None:
    seed(url, prod())
    first = eks.update_nodegroup_version(clusterName="prod", nodegroupName="workers", version="1.31")["update"]
    with pytest.raises(ClientError) as exc:
        eks.update_nodegroup_version(clusterName="prod", nodegroupName="workers", version="1.31")
    assert error_of(exc) == ("ResourceInUseException", 409, "ResourceInUseException")
    assert exc.value.response["Error"]["Message"]
    for _ in range(3):
        poll(eks, first["id"])
    # Once it ended, the next one may start.
    eks.update_nodegroup_version(clusterName="prod", nodegroupName="workers")
    state = ng_state(url)
    assert (state["updateNodegroupVersionCalls"], state["updatesCreated"]) == (3, 2)


def test_seeded_running_config_update_blocks(url: str, eks: Any) -> None:
    made = seed(url, prod(runningUpdate={"type": "ConfigUpdate"}, pollsInProgress=0))
    running_id = made["clusters"][0]["nodegroups"][0]["runningUpdateId"]
    assert describe_ng(eks)["status"] == "UPDATING"
    assert eks.list_updates(name="prod", nodegroupName="workers")["updateIds"] == [running_id]
    with pytest.raises(ClientError) as exc:
        eks.update_nodegroup_version(clusterName="prod", nodegroupName="workers", version="1.31")
    assert error_of(exc) == ("ResourceInUseException", 409, "ResourceInUseException")
    done = poll(eks, running_id)  # pollsInProgress 0: ends on the first poll
    assert (done["type"], done["status"]) == ("ConfigUpdate", "Successful")
    assert describe_ng(eks)["status"] == "ACTIVE"
    assert describe_ng(eks)["version"] == "1.30"


def test_seeded_running_version_update_blocks_then_applies(url: str, eks: Any) -> None:
    made = seed(url, prod(runningUpdate={"version": "1.31"}))
    running_id = made["clusters"][0]["nodegroups"][0]["runningUpdateId"]
    with pytest.raises(ClientError) as exc:
        eks.update_nodegroup_version(clusterName="prod", nodegroupName="workers", version="1.31")
    assert error_of(exc)[0] == "ResourceInUseException"
    update = poll(eks, running_id)
    assert update["params"] == [
        {"type": "Version", "value": "1.31"},
        {"type": "ReleaseVersion", "value": "1.31.7-20251120"},
    ]
    for _ in range(2):
        poll(eks, running_id)
    assert describe_ng(eks)["version"] == "1.31"


def test_concurrent_requests_make_one_update(url: str) -> None:
    seed(url, prod())
    results: list[str] = []

    def call() -> None:
        try:
            client(url).update_nodegroup_version(clusterName="prod", nodegroupName="workers", version="1.31")
            results.append("ok")
        except ClientError as e:
            results.append(e.response["Error"]["Code"])

    threads = [threading.Thread(target=call) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["ResourceInUseException"] * 3 + ["ok"]
    assert ng_state(url)["updatesCreated"] == 1


# ------------------------------------------------------------- idempotency


def test_same_token_same_parameters_returns_the_same_update(url: str, eks: Any) -> None:
    seed(url, prod(pollsInProgress=0))
    args = dict(clusterName="prod", nodegroupName="workers", version="1.31", clientRequestToken="tok-1")
    first = eks.update_nodegroup_version(**args)["update"]
    again = eks.update_nodegroup_version(**args)["update"]  # while InProgress: no 409
    assert again["id"] == first["id"]
    assert again["status"] == "InProgress"
    poll(eks, first["id"])
    after = eks.update_nodegroup_version(**args)["update"]  # after it ended
    assert (after["id"], after["status"]) == (first["id"], "Successful")
    state = ng_state(url)
    assert (state["updateNodegroupVersionCalls"], state["updatesCreated"]) == (3, 1)
    assert len(state["updateIds"]) == 1


def test_same_token_other_parameters_is_invalid_request(url: str, eks: Any) -> None:
    seed(url, prod())
    eks.update_nodegroup_version(
        clusterName="prod", nodegroupName="workers", version="1.31", clientRequestToken="tok-1"
    )
    for other in ({"version": "1.30"}, {"version": "1.31", "force": True}, {}):
        with pytest.raises(ClientError) as exc:
            eks.update_nodegroup_version(
                clusterName="prod", nodegroupName="workers", clientRequestToken="tok-1", **other
            )
        assert error_of(exc) == ("InvalidRequestException", 400, "InvalidRequestException")
    assert ng_state(url)["updatesCreated"] == 1


def test_tokens_are_per_node_group(url: str, eks: Any) -> None:
    cluster = prod()
    cluster["nodegroups"].append({"name": "batch", "version": "1.30"})
    seed(url, cluster)
    a = eks.update_nodegroup_version(clusterName="prod", nodegroupName="workers", clientRequestToken="t")["update"]
    b = eks.update_nodegroup_version(clusterName="prod", nodegroupName="batch", clientRequestToken="t")["update"]
    assert a["id"] != b["id"]


# ------------------------------------------------------ list and describe


def test_list_updates_pages_oldest_first(url: str, eks: Any) -> None:
    made = seed(url, prod(pastUpdates=5))
    past = made["clusters"][0]["nodegroups"][0]["pastUpdateIds"]
    assert len(past) == 5
    newest = eks.update_nodegroup_version(clusterName="prod", nodegroupName="workers", version="1.31")["update"]["id"]
    admin(url, "POST", "/_localeks/config", {"pageSize": 2})

    pages, token = [], None
    while True:
        kwargs = {"nextToken": token} if token else {}
        resp = eks.list_updates(name="prod", nodegroupName="workers", **kwargs)
        pages.append(resp["updateIds"])
        token = resp.get("nextToken")
        if not token:
            break
    assert [len(p) for p in pages] == [2, 2, 2]
    assert sum(pages, []) == past + [newest]

    # The page size caps maxResults; a smaller maxResults still counts.
    assert len(eks.list_updates(name="prod", nodegroupName="workers", maxResults=100)["updateIds"]) == 2
    assert len(eks.list_updates(name="prod", nodegroupName="workers", maxResults=1)["updateIds"]) == 1
    paginator = eks.get_paginator("list_updates")
    ids = [i for page in paginator.paginate(name="prod", nodegroupName="workers") for i in page["updateIds"]]
    assert ids == past + [newest]

    # Past updates are complete ones.
    assert poll(eks, past[0])["status"] == "Successful"


def test_list_updates_bad_arguments(url: str, eks: Any) -> None:
    seed(url, prod(pastUpdates=3))
    for kwargs in ({"maxResults": 101}, {"nextToken": "not-a-token"}):
        with pytest.raises(ClientError) as exc:
            eks.list_updates(name="prod", nodegroupName="workers", **kwargs)
        assert error_of(exc)[:2] == ("InvalidParameterException", 400)
    # A token is only good for the list it came from.
    admin(url, "POST", "/_localeks/config", {"pageSize": 1})
    token = eks.list_updates(name="prod", nodegroupName="workers")["nextToken"]
    with pytest.raises(ClientError) as exc:
        eks.list_updates(name="prod", nextToken=token)
    assert error_of(exc)[0] == "InvalidParameterException"
    # Without a node group: the cluster's own updates, of which there are none.
    assert eks.list_updates(name="prod")["updateIds"] == []


def test_unknown_cluster_node_group_or_update_is_not_found(url: str, eks: Any) -> None:
    seed(url, prod(pastUpdates=1))
    update_id = ng_state(url)["updateIds"][0]
    calls = [
        lambda: eks.list_updates(name="nope"),
        lambda: eks.list_updates(name="prod", nodegroupName="nope"),
        lambda: eks.describe_update(name="nope", updateId=update_id, nodegroupName="workers"),
        lambda: eks.describe_update(
            name="prod", updateId="00000000-0000-0000-0000-000000000000", nodegroupName="workers"
        ),
        # A node group's update is not found without its nodegroupName.
        lambda: eks.describe_update(name="prod", updateId=update_id),
    ]
    for call in calls:
        with pytest.raises(ClientError) as exc:
            call()
        assert error_of(exc) == ("ResourceNotFoundException", 404, "ResourceNotFoundException")


# ------------------------------------------------------------- admin state


def test_state_reports_calls_updates_and_params(url: str, eks: Any) -> None:
    seed(url, prod())
    update = eks.update_nodegroup_version(clusterName="prod", nodegroupName="workers", version="1.31")["update"]
    with pytest.raises(ClientError):
        eks.update_nodegroup_version(clusterName="prod", nodegroupName="workers", version="1.31")
    state = admin(url, "GET", "/_localeks/state")
    ng = state["clusters"][0]["nodegroups"][0]
    assert (ng["updateNodegroupVersionCalls"], ng["updatesCreated"], ng["status"]) == (2, 1, "UPDATING")
    assert [u["id"] for u in state["updates"]] == [update["id"]]
    assert state["updates"][0]["params"][0] == {"type": "Version", "value": "1.31"}
    assert state["updates"][0]["nodegroupName"] == "workers"

    admin(url, "POST", "/_localeks/reset", {})
    state = admin(url, "GET", "/_localeks/state")
    assert (state["clusters"], state["updates"]) == ([], [])


def test_config_is_validated(url: str) -> None:
    assert admin(url, "POST", "/_localeks/config", {"pageSize": 3})["config"] == {
        "pageSize": 3,
        "pollsInProgress": 2,
        "latencyMs": 0,
    }
    for bad in (
        {"pageSize": 0},
        {"pageSize": 101},
        {"pollsInProgress": -1},
        {"pagesize": 2},
        {"latencyMs": -1},
        {"latencyMs": 10_001},
        {"latencyMs": "5"},
        {"latencyMs": True},
    ):
        with pytest.raises(urllib.error.HTTPError) as exc:
            admin(url, "POST", "/_localeks/config", bad)
        assert exc.value.code == 400


def test_assume_role_needs_a_role_that_trusts_the_caller_and_lands_in_its_account(url: str) -> None:
    # Account B holds a cluster and two roles: one trusting the caller's account (the default,
    # 123456789012), one trusting another account only. moto alone would let any role be assumed.
    caller, other = "123456789012", "210987654321"
    admin(
        url,
        "POST",
        "/_localeks/seed",
        {
            "accountId": "444455556666",
            "clusters": [{"name": "b-prod", "version": "1.31", "nodegroups": [{"name": "web"}]}],
            "roles": [
                {"name": "eks-nodegroup-updater-target", "trustedAccounts": [caller]},
                {"name": "someone-elses", "trustedAccounts": [other]},
            ],
        },
    )
    sts = client(url, "sts")
    in_b = assumed(url, "arn:aws:iam::444455556666:role/eks-nodegroup-updater-target", session="eks-nodegroup-updater")
    assert in_b.list_clusters()["clusters"] == ["b-prod"]
    assert "b-prod" not in client(url).list_clusters()["clusters"], "the caller's own account does not see B's"
    for role in ("someone-elses", "missing"):
        with pytest.raises(ClientError) as exc:
            sts.assume_role(RoleArn=f"arn:aws:iam::444455556666:role/{role}", RoleSessionName="session")
        assert error_of(exc)[:2] == ("AccessDenied", 403)
        assert f"arn:aws:iam::444455556666:role/{role}" in exc.value.response["Error"]["Message"]
    with pytest.raises(urllib.error.HTTPError) as bad:
        admin(url, "POST", "/_localeks/seed", {"roles": [{"name": "r", "trustedAccounts": ["12"]}]})
    assert bad.value.code == 400 and b"trustedAccounts" in bad.value.read()


# ------------------------------------------------------------- other accounts

CALLER = "123456789012"  # the account of the default credentials (testing/testing)
ACCOUNT_B = "444455556666"
ACCOUNT_C = "777788889999"
TARGET_ROLE = "eks-nodegroup-updater-target"


def role_arn(account: str, name: str = TARGET_ROLE) -> str:
    return f"arn:aws:iam::{account}:role/{name}"


def seed_account(url: str, account: str, *clusters: dict[str, Any], trusted: tuple[str, ...] = (CALLER,)) -> Any:
    """Clusters of `account`, and its role TARGET_ROLE trusting `trusted`."""
    return admin(
        url,
        "POST",
        "/_localeks/seed",
        {
            "accountId": account,
            "region": REGION,
            "clusters": list(clusters),
            "roles": [{"name": TARGET_ROLE, "trustedAccounts": list(trusted)}],
        },
    )


def assumed(url: str, arn: str, service: str = "eks", session: str = "localeks-test") -> Any:
    """A client of `service` signed with the credentials of `arn`, assumed from the default ones."""
    creds = client(url, "sts").assume_role(RoleArn=arn, RoleSessionName=session)["Credentials"]
    return signed(url, creds, service)


def signed(url: str, creds: dict[str, Any], service: str = "eks") -> Any:
    """A client of `service` signed with these temporary credentials (an AssumeRole answer's)."""
    return boto3.client(
        service,
        endpoint_url=url,
        region_name=REGION,
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}),
    )


def not_found(call: Any, **kwargs: Any) -> str:
    with pytest.raises(ClientError) as exc:
        call(**kwargs)
    code, status, _ = error_of(exc)
    assert (code, status) == ("ResourceNotFoundException", 404), exc.value.response
    return exc.value.response["Error"]["Message"]


def test_a_node_group_of_another_account_is_seen_and_updated_only_with_that_accounts_credentials(url: str) -> None:
    # The same cluster name in both accounts, other node groups and versions: each account sees its own.
    seed(url, prod())
    seed_account(
        url,
        ACCOUNT_B,
        {
            "name": "prod",
            "version": "1.32",
            "latestReleases": {"1.32": "1.32.3-20251120"},
            "nodegroups": [{"name": "web", "version": "1.31", "releaseVersion": "1.31.2-20241115"}],
        },
    )
    in_a, in_b = client(url), assumed(url, role_arn(ACCOUNT_B))

    assert in_b.list_clusters()["clusters"] == ["prod"]
    assert in_b.describe_cluster(name="prod")["cluster"]["version"] == "1.32"
    assert in_b.describe_cluster(name="prod")["cluster"]["arn"].split(":")[4] == ACCOUNT_B
    assert in_b.list_nodegroups(clusterName="prod")["nodegroups"] == ["web"]
    assert in_b.describe_nodegroup(clusterName="prod", nodegroupName="web")["nodegroup"]["version"] == "1.31"
    assert in_a.describe_cluster(name="prod")["cluster"]["version"] == "1.31"
    assert in_a.list_nodegroups(clusterName="prod")["nodegroups"] == ["workers"]

    # Neither account sees the other's node group, by any call.
    for eks, other in ((in_a, "web"), (in_b, "workers")):
        not_found(eks.describe_nodegroup, clusterName="prod", nodegroupName=other)
        not_found(eks.list_updates, name="prod", nodegroupName=other)
        not_found(eks.update_nodegroup_version, clusterName="prod", nodegroupName=other, version="1.32")

    update = in_b.update_nodegroup_version(clusterName="prod", nodegroupName="web", version="1.32")["update"]
    assert in_b.list_updates(name="prod", nodegroupName="web")["updateIds"] == [update["id"]]
    # A's credentials cannot read B's update, even naming it by id on A's cluster of the same name.
    not_found(in_a.describe_update, name="prod", nodegroupName="workers", updateId=update["id"])
    assert in_a.list_updates(name="prod", nodegroupName="workers")["updateIds"] == []
    statuses = [poll(in_b, update["id"], "web")["status"] for _ in range(3)]
    assert statuses == ["InProgress", "InProgress", "Successful"]
    assert in_b.describe_nodegroup(clusterName="prod", nodegroupName="web")["nodegroup"]["version"] == "1.32"
    assert describe_ng(in_a)["version"] == "1.30", "A's node group of the same cluster name is untouched"

    # An account with no seed has no clusters, and the caller's own credentials never reach B's.
    assert "prod" in in_a.list_clusters()["clusters"]
    state = admin(url, "GET", "/_localeks/state")
    assert sorted((c["accountId"], c["name"]) for c in state["clusters"]) == [(CALLER, "prod"), (ACCOUNT_B, "prod")]


def test_another_accounts_credentials_do_not_reach_the_callers_clusters(url: str) -> None:
    # And the other way round: B's credentials see nothing of the caller's account.
    seed(url, {"name": "only-in-a", "version": "1.31", "nodegroups": [{"name": "workers", "version": "1.30"}]})
    seed_account(url, ACCOUNT_B)
    in_b = assumed(url, role_arn(ACCOUNT_B))
    assert in_b.list_clusters()["clusters"] == []
    not_found(in_b.describe_cluster, name="only-in-a")
    not_found(in_b.list_nodegroups, clusterName="only-in-a")
    not_found(in_b.describe_nodegroup, clusterName="only-in-a", nodegroupName="workers")
    assert client(url).list_clusters()["clusters"] == ["only-in-a"]


def test_a_role_is_assumed_only_from_an_account_it_trusts(url: str) -> None:
    # B's role trusts C only: the caller (A) is refused; a role seeded in A trusting A is assumable.
    seed_account(url, ACCOUNT_B, trusted=(ACCOUNT_C,))
    with pytest.raises(ClientError) as exc:
        assumed(url, role_arn(ACCOUNT_B))
    assert error_of(exc)[:2] == ("AccessDenied", 403)
    assert f"arn:aws:iam::{CALLER}:root is not authorized to perform: sts:AssumeRole" in str(exc.value)
    seed_account(url, CALLER, {"name": "own", "version": "1.31", "nodegroups": []})
    assert assumed(url, role_arn(CALLER)).list_clusters()["clusters"] == ["own"]


def test_reset_forgets_the_seeded_roles(url: str) -> None:
    seed_account(url, ACCOUNT_B)
    assumed(url, role_arn(ACCOUNT_B))
    admin(url, "POST", "/_localeks/reset", {})
    with pytest.raises(ClientError) as exc:
        assumed(url, role_arn(ACCOUNT_B))
    assert error_of(exc)[:2] == ("AccessDenied", 403)


@pytest.mark.parametrize("account", ["12345678901", "1234567890123", "12345678901a", 123456789012, None])
def test_seed_refuses_an_account_id_that_is_not_12_digits(url: str, account: Any) -> None:
    for path, body in (
        ("/_localeks/seed", {"accountId": account, "clusters": []}),
        ("/_localeks/ssm-parameters", {"accountId": account, "parameters": []}),
    ):
        with pytest.raises(urllib.error.HTTPError) as bad:
            admin(url, "POST", path, body)
        assert bad.value.code == 400 and b"accountId" in bad.value.read()


def test_public_ssm_parameters_answer_in_every_account(url: str) -> None:
    # Published with B's seed and through the admin route (the caller's account by default): AWS's
    # public parameters are one per Region, the same in every account.
    bottlerocket = "/aws/service/bottlerocket/aws-k8s-1.32/x86_64/latest/image_version"
    cluster = {
        "name": "prod",
        "version": "1.32",
        "latestReleases": {"1.32": "1.32.3-20251120"},
        "publishLatestToSsm": {"ageDays": 5},
        "nodegroups": [{"name": "web", "version": "1.32"}],
    }
    seed_account(url, ACCOUNT_B, cluster)
    admin(
        url, "POST", "/_localeks/ssm-parameters", {"parameters": [{"name": bottlerocket, "value": "1.30.0-0a1b2c3d"}]}
    )
    al2023 = "/aws/service/eks/optimized-ami/1.32/amazon-linux-2023/x86_64/standard/recommended/release_version"
    seed_account(url, ACCOUNT_C, trusted=(CALLER,))
    readers = {
        "caller": client(url, "ssm"),
        "B": assumed(url, role_arn(ACCOUNT_B), "ssm"),
        "C": assumed(url, role_arn(ACCOUNT_C), "ssm"),
    }
    for who, ssm in readers.items():
        param = ssm.get_parameter(Name=al2023)["Parameter"]
        assert (param["Value"], param["Version"]) == ("1.32.3-20251120", 1), who
        assert param["ARN"] == f"arn:aws:ssm:{REGION}::parameter{al2023}", "a public parameter's ARN has no account"
        found = ssm.get_parameters(Names=[al2023, bottlerocket])["Parameters"]
        assert sorted(p["Value"] for p in found) == ["1.30.0-0a1b2c3d", "1.32.3-20251120"], who
        by_path = ssm.get_parameters_by_path(Path="/aws/service/bottlerocket/", Recursive=True)["Parameters"]
        assert [p["Name"] for p in by_path] == [bottlerocket], who

    # A new version is every account's at once; a reset unpublishes it everywhere.
    admin(url, "POST", "/_localeks/ssm-parameters", {"parameters": [{"name": al2023, "value": "1.32.4-20251201"}]})
    for who, ssm in readers.items():
        param = ssm.get_parameter(Name=al2023)["Parameter"]
        assert (param["Value"], param["Version"]) == ("1.32.4-20251201", 2), who
    admin(url, "POST", "/_localeks/reset", {})
    for who, ssm in readers.items():
        with pytest.raises(ClientError) as exc:
            ssm.get_parameter(Name=al2023)
        assert exc.value.response["Error"]["Code"] == "ParameterNotFound", who
        assert ssm.get_parameters_by_path(Path="/aws/service/", Recursive=True)["Parameters"] == [], who


def test_an_accounts_own_parameters_stay_its_own(url: str) -> None:
    # Only the published (public) parameters are shared: PutParameter stays per account.
    seed_account(url, ACCOUNT_B)
    name = f"/team/{uuid.uuid4().hex}"  # moto's own parameters outlive a reset
    client(url, "ssm").put_parameter(Name=name, Value="a", Type="String")
    in_b = assumed(url, role_arn(ACCOUNT_B), "ssm")
    with pytest.raises(ClientError) as exc:
        in_b.get_parameter(Name=name)
    assert exc.value.response["Error"]["Code"] == "ParameterNotFound"
    in_b.put_parameter(Name=name, Value="b", Type="String")
    assert client(url, "ssm").get_parameter(Name=name)["Parameter"]["Value"] == "a"


def test_calls_are_counted_per_account_and_assume_role_per_role(url: str) -> None:
    seed(url, prod())
    seed_account(url, ACCOUNT_B, {"name": "prod", "version": "1.31", "nodegroups": [{"name": "web"}]})
    admin(url, "DELETE", "/_localeks/calls")

    client(url).list_clusters()
    creds = client(url, "sts").assume_role(RoleArn=role_arn(ACCOUNT_B), RoleSessionName="updater")["Credentials"]
    in_b = signed(url, creds)
    in_b.describe_cluster(name="prod")
    in_b.describe_nodegroup(clusterName="prod", nodegroupName="web")
    in_b.list_clusters()
    for refused in (role_arn(ACCOUNT_B, "missing"), role_arn(ACCOUNT_C)):
        with pytest.raises(ClientError):
            client(url, "sts").assume_role(RoleArn=refused, RoleSessionName="updater")
    # A faulted AssumeRole is counted, and refused (in STS's XML, so its SDK reads the error).
    admin(url, "POST", "/_localeks/faults", {"service": "sts", "operation": "AssumeRole", "kind": "throttle"})
    with pytest.raises(ClientError) as throttled:
        client(url, "sts").assume_role(RoleArn=role_arn(ACCOUNT_B), RoleSessionName="poller")
    assert error_of(throttled)[:2] == ("Throttling", 429)

    calls = admin(url, "GET", "/_localeks/calls")
    assert calls["byAccount"][CALLER] == {"total": {"eks:ListClusters": 1, "sts:AssumeRole": 4}, "byCluster": {}}
    assert calls["byAccount"][ACCOUNT_B] == {
        "total": {"eks:DescribeCluster": 1, "eks:DescribeNodegroup": 1, "eks:ListClusters": 1},
        "byCluster": {"prod": {"eks:DescribeCluster": 1, "eks:DescribeNodegroup": 1}},
    }
    assert ACCOUNT_C not in calls["byAccount"], "no call at all was made in C (its role was only asked for)"
    assert calls["assumeRole"] == {
        role_arn(ACCOUNT_B): {
            "calls": 2,
            "granted": 1,
            "refused": 1,
            "byCaller": {CALLER: 2},
            "bySession": {"updater": 1, "poller": 1},
        },
        role_arn(ACCOUNT_B, "missing"): {
            "calls": 1,
            "granted": 0,
            "refused": 1,
            "byCaller": {CALLER: 1},
            "bySession": {"updater": 1},
        },
        role_arn(ACCOUNT_C): {
            "calls": 1,
            "granted": 0,
            "refused": 1,
            "byCaller": {CALLER: 1},
            "bySession": {"updater": 1},
        },
    }
    # Every account together, as before.
    assert calls["total"]["eks:ListClusters"] == 2 and calls["total"]["sts:AssumeRole"] == 4
    assert calls["byCluster"] == {"prod": {"eks:DescribeCluster": 1, "eks:DescribeNodegroup": 1}}
    # Names only: no credential is kept or shown.
    text = json.dumps(calls)
    for secret in (creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"], "testing"):
        assert secret not in text
    assert admin(url, "DELETE", "/_localeks/calls") == {"total": {}, "byCluster": {}, "byAccount": {}, "assumeRole": {}}


def test_calls_are_counted_by_operation_and_by_the_cluster_they_name(url: str, eks: Any) -> None:
    seed(url, prod(), {"name": "other", "version": "1.31", "nodegroups": []})
    admin(url, "DELETE", "/_localeks/calls")
    eks.describe_cluster(name="prod")
    eks.list_nodegroups(clusterName="prod")
    eks.list_clusters()
    eks.describe_nodegroup(clusterName="prod", nodegroupName="workers")
    client(url, "ssm").get_parameters_by_path(Path="/aws/service/eks/")
    calls = admin(url, "GET", "/_localeks/calls")
    assert calls["total"] == {
        "eks:DescribeCluster": 1,
        "eks:ListNodegroups": 1,
        "eks:ListClusters": 1,
        "eks:DescribeNodegroup": 1,
        "ssm:GetParametersByPath": 1,
    }
    assert calls["byCluster"] == {
        "prod": {"eks:DescribeCluster": 1, "eks:ListNodegroups": 1, "eks:DescribeNodegroup": 1}
    }
    assert calls["byAccount"] == {"123456789012": {"total": calls["total"], "byCluster": calls["byCluster"]}}
    assert calls["assumeRole"] == {}
    assert admin(url, "DELETE", "/_localeks/calls") == {"total": {}, "byCluster": {}, "byAccount": {}, "assumeRole": {}}


def test_calls_of_a_service_signing_under_another_name_are_named_from_the_request(url: str) -> None:
    # Step Functions signs as `states` (its botocore model is `stepfunctions`), CloudWatch as
    # `monitoring`, Elastic Load Balancing as `elasticloadbalancing` (`elbv2`): moto's router
    # finds no model under those names, so the operation comes from the request itself, the
    # JSON protocol's X-Amz-Target (`AWSStepFunctions.StartExecution`) or the query protocol's
    # Action field, and is counted under the signing name, as IAM names the action.
    admin(url, "DELETE", "/_localeks/calls")
    sfn = client(url, "stepfunctions")
    definition = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}})
    machine = sfn.create_state_machine(
        name=f"counted-{uuid.uuid4().hex[:12]}",  # moto's state machines outlive a reset
        definition=definition,
        roleArn="arn:aws:iam::123456789012:role/counted",
    )["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=machine)["executionArn"]
    sfn.describe_execution(executionArn=execution)
    client(url, "cloudwatch").list_metrics()
    client(url, "elbv2").describe_load_balancers()
    calls = admin(url, "GET", "/_localeks/calls")
    assert calls["total"] == {
        "states:CreateStateMachine": 1,
        "states:StartExecution": 1,
        "states:DescribeExecution": 1,
        "monitoring:ListMetrics": 1,
        "elasticloadbalancing:DescribeLoadBalancers": 1,
    }
    assert calls["byAccount"] == {"123456789012": {"total": calls["total"], "byCluster": {}}}

    # Named so, a fault rule can name a Step Functions operation too.
    admin(url, "POST", "/_localeks/faults", {"service": "states", "operation": "StartExecution", "kind": "throttle"})
    with pytest.raises(ClientError) as throttled:
        sfn.start_execution(stateMachineArn=machine)
    assert error_of(throttled)[:2] == ("ThrottlingException", 429)
    sfn.list_executions(stateMachineArn=machine)
    calls = admin(url, "GET", "/_localeks/calls")["total"]
    assert calls["states:StartExecution"] == 2 and calls["states:ListExecutions"] == 1, calls
    assert not [k for k in calls if k.endswith(":?")], calls


def test_a_query_protocol_request_reaches_moto_with_its_body(url: str) -> None:
    # The operation of a query-protocol call (SNS) is in its form body: the router that names
    # it must not take the body from moto, or the call waits until the client gives up.
    sns = client(url, "sns", read_timeout=10)
    topic = sns.create_topic(Name="fleet")["TopicArn"]
    assert sns.publish(TopicArn=topic, Subject="s", Message="m")["MessageId"]


def test_latency_delays_aws_calls_concurrently_not_admin_calls(url: str) -> None:
    seed(url, prod())
    assert admin(url, "POST", "/_localeks/config", {"latencyMs": 500})["config"]["latencyMs"] == 500
    assert admin(url, "GET", "/_localeks/config")["config"]["latencyMs"] == 500
    clients = [client(url) for _ in range(8)]
    ssm = client(url, "ssm")

    started = time.monotonic()
    admin(url, "GET", "/_localeks/state")
    assert time.monotonic() - started < 0.5

    started = time.monotonic()
    with pytest.raises(ClientError):
        ssm.get_parameter(Name="/nothing/here")
    assert time.monotonic() - started >= 0.5

    # Eight calls at once: each waits its 0.5 s on its own thread, not one after another (4 s).
    took: list[float] = []

    def describe(eks: Any) -> None:
        t = time.monotonic()
        assert eks.describe_nodegroup(clusterName="prod", nodegroupName="workers")["nodegroup"]["status"] == "ACTIVE"
        took.append(time.monotonic() - t)

    started = time.monotonic()
    threads = [threading.Thread(target=describe, args=(eks,)) for eks in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(took) == 8 and min(took) >= 0.5
    assert time.monotonic() - started < 2.5

    assert admin(url, "POST", "/_localeks/reset", {})["config"]["latencyMs"] == 0
    started = time.monotonic()
    clients[0].list_clusters()
    assert time.monotonic() - started < 0.5


# ------------------------------------------------------ moto's own calls


def test_everything_else_passes_through_to_moto(url: str, eks: Any) -> None:
    seed(url, prod())
    assert eks.list_clusters()["clusters"] == ["prod"]
    # A POST with a body that moto answers: the body must reach moto intact.
    resp = eks.update_nodegroup_config(
        clusterName="prod", nodegroupName="workers", scalingConfig={"minSize": 1, "maxSize": 5, "desiredSize": 3}
    )
    assert resp["update"]["type"] == "ConfigUpdate"
    assert describe_ng(eks)["scalingConfig"] == {"minSize": 1, "maxSize": 5, "desiredSize": 3}

    ssm = client(url, "ssm")
    ssm.put_parameter(Name="/team/setting", Value="on", Type="String")
    assert ssm.get_parameter(Name="/team/setting")["Parameter"]["Value"] == "on"


# ------------------------------------------------------- public SSM parameters

AL2023_X86 = "/aws/service/eks/optimized-ami/1.31/amazon-linux-2023/x86_64/standard/recommended/release_version"


def test_public_ssm_parameters_can_be_published(url: str) -> None:
    ssm = client(url, "ssm")
    with pytest.raises(ClientError):  # AWS and moto reserve /aws/ for AWS
        ssm.put_parameter(Name=AL2023_X86, Value="1.31.7-20251120", Type="String")
    admin(
        url,
        "POST",
        "/_localeks/ssm-parameters",
        {"region": REGION, "parameters": [{"name": AL2023_X86, "value": "1.31.7-20251120", "ageDays": 3}]},
    )
    param = ssm.get_parameter(Name=AL2023_X86)["Parameter"]
    assert param["Value"] == "1.31.7-20251120"
    age = time.time() - param["LastModifiedDate"].timestamp()
    assert 3 * 86400 - 120 < age < 3 * 86400 + 120
    admin(url, "POST", "/_localeks/reset", {})
    with pytest.raises(ClientError) as exc:
        ssm.get_parameter(Name=AL2023_X86)
    assert exc.value.response["Error"]["Code"] == "ParameterNotFound"


def test_seed_publishes_latest_releases_to_ssm(url: str, eks: Any) -> None:
    cluster = prod()
    cluster["publishLatestToSsm"] = {"ageDays": 10}
    cluster["nodegroups"].append(
        {
            "name": "br",
            "version": "1.31",
            "amiType": "BOTTLEROCKET_ARM_64_NVIDIA",
            "latestReleases": {"1.31": "1.27.1-abcdef12"},
        }
    )
    seed(url, cluster)
    ssm = client(url, "ssm")
    assert ssm.get_parameter(Name=AL2023_X86)["Parameter"]["Value"] == "1.31.7-20251120"
    br = ssm.get_parameter(Name="/aws/service/bottlerocket/aws-k8s-1.31-nvidia/arm64/latest/image_version")
    assert br["Parameter"]["Value"] == "1.27.1-abcdef12"
    # The endpoint picks the same release when a request names none.
    update = eks.update_nodegroup_version(clusterName="prod", nodegroupName="workers", version="1.31")["update"]
    assert {"type": "ReleaseVersion", "value": "1.31.7-20251120"} in update["params"]


@pytest.mark.parametrize(
    "ami_type,name",
    [
        (
            "AL2023_x86_64_STANDARD",
            "/aws/service/eks/optimized-ami/1.31/amazon-linux-2023/x86_64/standard/recommended/release_version",
        ),
        (
            "AL2023_ARM_64_NVIDIA",
            "/aws/service/eks/optimized-ami/1.31/amazon-linux-2023/arm64/nvidia/recommended/release_version",
        ),
        (
            "AL2023_x86_64_NEURON",
            "/aws/service/eks/optimized-ami/1.31/amazon-linux-2023/x86_64/neuron/recommended/release_version",
        ),
        ("AL2_x86_64", "/aws/service/eks/optimized-ami/1.31/amazon-linux-2/recommended/release_version"),
        ("AL2_x86_64_GPU", "/aws/service/eks/optimized-ami/1.31/amazon-linux-2-gpu/recommended/release_version"),
        ("AL2_ARM_64", "/aws/service/eks/optimized-ami/1.31/amazon-linux-2-arm64/recommended/release_version"),
        ("BOTTLEROCKET_x86_64", "/aws/service/bottlerocket/aws-k8s-1.31/x86_64/latest/image_version"),
        ("BOTTLEROCKET_ARM_64_FIPS", "/aws/service/bottlerocket/aws-k8s-1.31-fips/arm64/latest/image_version"),
        (
            "BOTTLEROCKET_x86_64_NVIDIA_FIPS",
            "/aws/service/bottlerocket/aws-k8s-1.31-nvidia-fips/x86_64/latest/image_version",
        ),
        ("WINDOWS_CORE_2022_x86_64", None),
        ("CUSTOM", None),
        ("SOMETHING_NEW", None),
    ],
)
def test_public_parameter_names(ami_type: str, name: str | None) -> None:
    from localeks.ssm import parameter_name

    assert parameter_name(ami_type, "1.31") == name


# ------------------------------------------------------------------ faults


def test_fault_throttle_then_normal(url: str, eks: Any) -> None:
    seed(url, prod())
    admin(url, "POST", "/_localeks/faults", {"operation": "DescribeNodegroup", "kind": "throttle", "count": 2})
    for _ in range(2):
        with pytest.raises(ClientError) as exc:
            describe_ng(eks)
        assert error_of(exc) == ("ThrottlingException", 429, "ThrottlingException")
    assert describe_ng(eks)["version"] == "1.30"
    assert admin(url, "GET", "/_localeks/faults")["rules"] == []


def test_fault_on_update_call_makes_no_update(url: str, eks: Any) -> None:
    seed(url, prod())
    admin(url, "POST", "/_localeks/faults", {"operation": "UpdateNodegroupVersion", "kind": "error500"})
    with pytest.raises(ClientError) as exc:
        eks.update_nodegroup_version(clusterName="prod", nodegroupName="workers")
    assert error_of(exc) == ("ServerException", 500, "ServerException")
    assert ng_state(url)["updatesCreated"] == 0
    eks.update_nodegroup_version(clusterName="prod", nodegroupName="workers")
    assert ng_state(url)["updatesCreated"] == 1


def test_fault_kinds_break_the_client_as_advertised(url: str) -> None:
    from botocore.exceptions import ConnectionClosedError, ReadTimeoutError

    seed(url, prod())
    eks = client(url, read_timeout=1, connect_timeout=5)
    admin(
        url,
        "POST",
        "/_localeks/faults",
        {
            "rules": [
                {"operation": "DescribeCluster", "kind": "notjson"},
                {"operation": "DescribeCluster", "kind": "reset"},
                {"operation": "DescribeCluster", "kind": "truncated"},
                {"operation": "DescribeCluster", "kind": "stall", "stallSeconds": 3},
                {"operation": "GetParameter", "service": "ssm", "kind": "throttle"},
            ]
        },
    )
    # botocore forgives a body that is not JSON (the Rust SDK does not): it
    # just finds no cluster in it.
    assert "cluster" not in eks.describe_cluster(name="prod")
    with pytest.raises(ConnectionClosedError):
        eks.describe_cluster(name="prod")
    # truncated: botocore shrugs at a short body too, so read it raw.
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    conn.request("GET", "/clusters/prod", headers={"Authorization": FAKE_EKS_AUTH})
    resp = conn.getresponse()
    assert resp.status == 200
    with pytest.raises(http.client.IncompleteRead):
        resp.read()
    conn.close()
    with pytest.raises(ReadTimeoutError):
        eks.describe_cluster(name="prod")
    assert eks.describe_cluster(name="prod")["cluster"]["name"] == "prod"
    with pytest.raises(ClientError) as exc:
        client(url, "ssm").get_parameter(Name="/x")
    assert exc.value.response["Error"]["Code"] == "ThrottlingException"
    assert admin(url, "GET", "/_localeks/faults")["rules"] == []


def test_fault_notfound_and_denied(url: str, eks: Any) -> None:
    seed(url, prod())
    update = eks.update_nodegroup_version(clusterName="prod", nodegroupName="workers")["update"]
    admin(
        url,
        "POST",
        "/_localeks/faults",
        {
            "rules": [
                {"operation": "DescribeUpdate", "kind": "notfound"},
                {"operation": "DescribeNodegroup", "kind": "denied"},
                {"operation": "GetParameter", "service": "ssm", "kind": "denied"},
            ]
        },
    )
    # Right after the start, the update cannot be described yet; the next call can.
    with pytest.raises(ClientError) as exc:
        eks.describe_update(name="prod", nodegroupName="workers", updateId=update["id"])
    assert error_of(exc) == ("ResourceNotFoundException", 404, "ResourceNotFoundException")
    assert update["id"] in exc.value.response["Error"]["Message"]
    assert (
        eks.describe_update(name="prod", nodegroupName="workers", updateId=update["id"])["update"]["id"] == update["id"]
    )
    with pytest.raises(ClientError) as exc:
        describe_ng(eks)
    assert error_of(exc) == ("AccessDeniedException", 403, "AccessDeniedException")
    assert "eks:DescribeNodegroup" in exc.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as exc:
        client(url, "ssm").get_parameter(Name="/x")
    assert exc.value.response["Error"]["Code"] == "AccessDeniedException"
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert admin(url, "GET", "/_localeks/faults")["rules"] == []


@pytest.mark.parametrize(
    "kind,code,status",
    [("throttle", "Throttling", 429), ("error500", "InternalFailure", 500), ("denied", "AccessDenied", 403)],
)
def test_faults_on_a_query_protocol_service_answer_its_xml(url: str, kind: str, code: str, status: int) -> None:
    # STS (and SNS, IAM, ...) answer errors in XML: a fault answered in EKS's JSON would be unreadable.
    admin(url, "POST", "/_localeks/faults", {"service": "sts", "operation": "AssumeRole", "kind": kind})
    with pytest.raises(ClientError) as exc:
        client(url, "sts").assume_role(RoleArn="arn:aws:iam::444455556666:role/r", RoleSessionName="session")
    assert error_of(exc)[:2] == (code, status)
    assert "localeks" in exc.value.response["Error"]["Message"] or kind == "throttle"


def test_faults_are_validated_and_cleared_by_reset(url: str) -> None:
    with pytest.raises(urllib.error.HTTPError) as exc:
        admin(url, "POST", "/_localeks/faults", {"operation": "DescribeNodegroup", "kind": "explode"})
    assert exc.value.code == 400
    admin(url, "POST", "/_localeks/faults", {"operation": "*", "kind": "throttle", "count": 5})
    assert len(admin(url, "GET", "/_localeks/faults")["rules"]) == 1
    admin(url, "POST", "/_localeks/reset", {})
    assert admin(url, "GET", "/_localeks/faults")["rules"] == []


# ---------------------------------------------------------------- a fleet


def fleet(clusters: int, nodegroups: int) -> list[dict[str, Any]]:
    """Clusters c000, c001, ... at 1.31, each with node groups ng00, ng01, ... at 1.30."""
    return [
        {"name": f"c{i:03d}", "version": "1.31", "nodegroups": [{"name": f"ng{j:02d}"} for j in range(nodegroups)]}
        for i in range(clusters)
    ]


def test_seeding_3000_node_groups_is_quick(url: str, eks: Any) -> None:
    # moto checks each node role's partition by parsing botocore's endpoints file: about
    # 0.3 s a node group, a quarter of an hour here, until localeks/shortcuts.py (~3 s). Not
    # timed here (a shared machine is noisy): the admin call's own 60 s timeout bounds it.
    made = seed(url, *fleet(100, 30))
    assert sum(len(c["nodegroups"]) for c in made["clusters"]) == 3000
    # A client reading every page, as the fleet planner does, sees every one of them.
    admin(url, "POST", "/_localeks/config", {"pageSize": 8})
    clusters = [n for page in eks.get_paginator("list_clusters").paginate() for n in page["clusters"]]
    assert clusters == [f"c{i:03d}" for i in range(100)]
    listed = {
        c: [n for page in eks.get_paginator("list_nodegroups").paginate(clusterName=c) for n in page["nodegroups"]]
        for c in clusters
    }
    assert all(names == [f"ng{j:02d}" for j in range(30)] for names in listed.values())
    assert eks.describe_nodegroup(clusterName="c099", nodegroupName="ng29")["nodegroup"]["version"] == "1.31"
    state = admin(url, "GET", "/_localeks/state")
    assert sum(len(c["nodegroups"]) for c in state["clusters"]) == 3000
    # moto still refuses a role in no partition (the check is faster, not gone).
    for role in ("not-an-arn", "arn:aws-nowhere:iam::123456789012:role/x"):
        with pytest.raises(ClientError) as exc:
            eks.create_nodegroup(clusterName="c000", nodegroupName="x", subnets=["subnet-1"], nodeRole=role)
        assert exc.value.response["Error"]["Code"] == "InvalidParameterException"
    role = "arn:aws-us-gov:iam::123456789012:role/x"
    eks.create_nodegroup(clusterName="c000", nodegroupName="x", subnets=["subnet-1"], nodeRole=role)


def walk(call: Any, key: str, **kwargs: Any) -> list[list[str]]:
    """Every page of a list call, by hand: the names of each."""
    pages, token = [], None
    while True:
        resp = call(**kwargs, **({"nextToken": token} if token else {}))
        pages.append(resp[key])
        token = resp.get("nextToken")
        if not token:
            return pages


def test_list_clusters_and_nodegroups_page_by_page_size(url: str, eks: Any) -> None:
    seed(url, *fleet(23, 11))
    # Without a page size below 100, one page each.
    assert [len(p) for p in walk(eks.list_clusters, "clusters")] == [23]
    assert "nextToken" not in eks.list_nodegroups(clusterName="c000")

    admin(url, "POST", "/_localeks/config", {"pageSize": 5})
    pages = walk(eks.list_clusters, "clusters")
    assert [len(p) for p in pages] == [5, 5, 5, 5, 3]
    assert sum(pages, []) == [f"c{i:03d}" for i in range(23)]
    pages = walk(eks.list_nodegroups, "nodegroups", clusterName="c007")
    assert [len(p) for p in pages] == [5, 5, 1]
    assert sum(pages, []) == [f"ng{j:02d}" for j in range(11)]
    # A smaller maxResults still counts; boto3's paginators walk it all.
    assert [len(p) for p in walk(eks.list_nodegroups, "nodegroups", clusterName="c007", maxResults=4)] == [4, 4, 3]
    names = [n for page in eks.get_paginator("list_clusters").paginate() for n in page["clusters"]]
    assert names == [f"c{i:03d}" for i in range(23)]


def test_list_pages_follow_clusters_that_come_and_go(url: str, eks: Any) -> None:
    seed(url, *fleet(8, 0))
    admin(url, "POST", "/_localeks/config", {"pageSize": 3})
    first = eks.list_clusters()
    assert first["clusters"] == ["c000", "c001", "c002"]
    # Between pages: one already listed and the next one go, one comes in right after.
    eks.delete_cluster(name="c001")
    eks.delete_cluster(name="c003")
    seed(url, {"name": "c002a"})
    second = eks.list_clusters(nextToken=first["nextToken"])
    assert second["clusters"] == ["c002a", "c004", "c005"]
    assert eks.list_clusters(nextToken=second["nextToken"])["clusters"] == ["c006", "c007"]


def test_list_calls_refuse_bad_pages_and_unknown_clusters(url: str, eks: Any) -> None:
    seed(url, *fleet(3, 3))
    admin(url, "POST", "/_localeks/config", {"pageSize": 1})
    cluster_token = eks.list_clusters()["nextToken"]
    ng_token = eks.list_nodegroups(clusterName="c000")["nextToken"]
    unchecked = client(url, parameter_validation=False)
    for call, kwargs in (
        (eks.list_clusters, {"nextToken": "not-a-token"}),
        (eks.list_clusters, {"nextToken": ng_token}),
        (eks.list_nodegroups, {"clusterName": "c001", "nextToken": ng_token}),
        (eks.list_nodegroups, {"clusterName": "c000", "nextToken": cluster_token}),
        (unchecked.list_clusters, {"maxResults": 0}),
        (unchecked.list_nodegroups, {"clusterName": "c000", "maxResults": 101}),
    ):
        with pytest.raises(ClientError) as exc:
            call(**kwargs)
        assert error_of(exc) == ("InvalidParameterException", 400, "InvalidParameterException"), kwargs
    with pytest.raises(ClientError) as exc:
        eks.list_nodegroups(clusterName="missing")
    assert error_of(exc) == ("ResourceNotFoundException", 404, "ResourceNotFoundException")
    # Another region has its own clusters: none here.
    other = boto3.client(
        "eks", endpoint_url=url, region_name="eu-west-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    assert other.list_clusters()["clusters"] == []
