"""The Python peer: what many teams write instead of our function.

Python 3.11 + boto3 under the AWS runtime interface client (awslambdaric), both pinned in
bench/requirements.txt. For the same request it makes the same AWS calls as the Rust
function — DescribeNodegroup, DescribeCluster, SSM GetParameter (the public AL2023 /
AL2 release parameter), UpdateNodegroupVersion — and answers a similar object. It is
written the usual way: clients built once at import, calls in sequence, a few of the
same checks, one log line per invocation. It is a yardstick, not a second implementation:
it does not cover the whole contract (ARCHITECTURE.md).
"""

import hashlib
import json
import time

import boto3
from botocore.config import Config

_CONFIG = Config(connect_timeout=2, read_timeout=5, retries={"mode": "standard", "max_attempts": 3})
eks = boto3.client("eks", config=_CONFIG)
ssm = boto3.client("ssm", config=_CONFIG)


class PreconditionFailed(Exception):
    pass


def _minor(version):
    major, minor = version.split(".")[:2]
    return int(major), int(minor)


def _release_parameter(ami_type, version):
    arch = "arm64" if "ARM_64" in ami_type else "x86_64"
    if ami_type.startswith("AL2023_"):
        flavour = "nvidia" if "NVIDIA" in ami_type else "neuron" if "NEURON" in ami_type else "standard"
        return (
            f"/aws/service/eks/optimized-ami/{version}/amazon-linux-2023/{arch}/{flavour}/recommended/release_version"
        )
    if ami_type.startswith("AL2_"):
        suffix = "-gpu" if ami_type.endswith("GPU") else "-arm64" if arch == "arm64" else ""
        return f"/aws/service/eks/optimized-ami/{version}/amazon-linux-2{suffix}/recommended/release_version"
    return None


def handler(event, context):
    started = time.monotonic()
    request = event["detail"] if "detail-type" in event else event
    cluster_name = request["clusterName"]
    nodegroup_name = request["nodegroupName"]

    nodegroup = eks.describe_nodegroup(clusterName=cluster_name, nodegroupName=nodegroup_name)["nodegroup"]
    cluster = eks.describe_cluster(name=cluster_name)["cluster"]

    version = request.get("version") or nodegroup["version"]
    if version == "cluster":
        version = cluster["version"]
    if _minor(version) > _minor(cluster["version"]):
        raise PreconditionFailed(f"{version} is above the control plane's {cluster['version']}")
    if _minor(version) < _minor(nodegroup["version"]):
        raise PreconditionFailed(f"{version} is below the node group's {nodegroup['version']}")

    latest = None
    parameter = _release_parameter(nodegroup.get("amiType", ""), version)
    if parameter and not request.get("releaseVersion"):
        try:
            latest = ssm.get_parameter(Name=parameter)["Parameter"]["Value"]
        except ssm.exceptions.ParameterNotFound:
            latest = None
    release = request.get("releaseVersion")
    if nodegroup["version"] == version and (release or latest) == nodegroup.get("releaseVersion"):
        outcome, update = "UpToDate", None
    else:
        identity = context.aws_request_id
        token = (
            request.get("clientRequestToken")
            or hashlib.sha256(
                "\n".join([identity, cluster_name, nodegroup_name, version, release or ""]).encode()
            ).hexdigest()
        )
        kwargs = dict(
            clusterName=cluster_name,
            nodegroupName=nodegroup_name,
            version=version,
            force=bool(request.get("force", False)),
            clientRequestToken=token,
        )
        if release:
            kwargs["releaseVersion"] = release
        update = eks.update_nodegroup_version(**kwargs)["update"]
        update = {
            "id": update["id"],
            "status": update["status"],
            "type": update["type"],
            "params": update.get("params", []),
            "createdAt": update["createdAt"].isoformat(),
            "errors": update.get("errors", []),
        }
        outcome = "Started"

    print(
        json.dumps(
            {
                "message": "node group request done",
                "cluster": cluster_name,
                "nodegroup": nodegroup_name,
                "outcome": outcome,
                "update_id": update and update["id"],
                "duration_ms": round((time.monotonic() - started) * 1000),
            }
        )
    )
    return {
        "clusterName": cluster_name,
        "nodegroupName": nodegroup_name,
        "outcome": outcome,
        "target": {"version": version, "releaseVersion": release, "latestReleaseVersion": latest},
        "update": update,
    }
