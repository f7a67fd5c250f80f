"""The canned stand-in: a fast, stateless EKS + SSM endpoint on loopback.

It answers the four calls a node group update makes with fixed, realistic answers (sizes
and fields as EKS and SSM send them, including a cluster CA blob), so a benchmark against
it measures the client's own overhead — runtime, SDK, signing, (de)serialisation, our
code — and almost nothing of the server's:

- ``GET  /clusters/{name}``                                   DescribeCluster
- ``GET  /clusters/{name}/node-groups/{ng}``                  DescribeNodegroup
- ``POST /clusters/{name}/node-groups/{ng}/update-version``   UpdateNodegroupVersion
- ``POST /`` with ``X-Amz-Target: AmazonSSM.GetParameter``    GetParameter
- ``POST /`` with ``Action=AssumeRole`` (STS, query protocol)  AssumeRole, for requests in
  another account: the role's credentials, an hour long, in STS's XML

The node group is always at 1.30 (AL2023 x86_64, release 1.30.4-20241109, ACTIVE), the
cluster at 1.31, the latest 1.31 release 1.31.7-20251120 published 60 days ago; so
``{"clusterName": ..., "nodegroupName": ..., "version": "1.31"}`` always starts an update.
Signatures are not checked. Every answer is counted per operation (``calls``).

Runs on the caller's asyncio loop (``await CannedEks().start()``), or alone for profiling:
``PYTHONPATH=tests/support python bench/standin.py [--port N]`` prints
``LISTENING http://127.0.0.1:N``. It reads requests with testkit's HTTP/1.1 head parser, the
one the Runtime API emulator uses.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import json
import random
import sys
import time
import uuid
from urllib.parse import parse_qs, unquote

from testkit.http1 import parse_head

NODEGROUP_VERSION = "1.30"
NODEGROUP_RELEASE = "1.30.4-20241109"
CLUSTER_VERSION = "1.31"
LATEST_RELEASE = "1.31.7-20251120"
ACCOUNT = "123456789012"
REGION = "us-east-1"
# A cluster's certificateAuthority.data is ~1.5 KB of base64 in every DescribeCluster answer.
_CA = base64.b64encode(random.Random(7).randbytes(1100)).decode()
_PUBLISHED = time.time() - 60 * 86400


def describe_cluster(name: str) -> dict:
    return {
        "cluster": {
            "name": name,
            "arn": f"arn:aws:eks:{REGION}:{ACCOUNT}:cluster/{name}",
            "createdAt": 1700000000.0,
            "version": CLUSTER_VERSION,
            "endpoint": "https://0123456789ABCDEF0123456789ABCDEF.gr7.us-east-1.eks.amazonaws.com",
            "roleArn": f"arn:aws:iam::{ACCOUNT}:role/eks-cluster-role",
            "resourcesVpcConfig": {
                "subnetIds": ["subnet-0a1b2c3d4e5f60718", "subnet-0b1c2d3e4f5a60718", "subnet-0c1d2e3f4a5b60718"],
                "securityGroupIds": ["sg-0a1b2c3d4e5f60718"],
                "clusterSecurityGroupId": "sg-0f1e2d3c4b5a60718",
                "vpcId": "vpc-0a1b2c3d4e5f60718",
                "endpointPublicAccess": False,
                "endpointPrivateAccess": True,
                "publicAccessCidrs": [],
            },
            "kubernetesNetworkConfig": {"serviceIpv4Cidr": "172.20.0.0/16", "ipFamily": "ipv4"},
            "logging": {"clusterLogging": [{"types": ["api", "audit", "authenticator"], "enabled": True}]},
            "identity": {
                "oidc": {"issuer": "https://oidc.eks.us-east-1.amazonaws.com/id/0123456789ABCDEF0123456789ABCDEF"}
            },
            "status": "ACTIVE",
            "certificateAuthority": {"data": _CA},
            "platformVersion": "eks.12",
            "tags": {"team": "platform", "env": "prod"},
            "accessConfig": {"authenticationMode": "API_AND_CONFIG_MAP"},
            "upgradePolicy": {"supportType": "STANDARD"},
        }
    }


def describe_nodegroup(cluster: str, name: str) -> dict:
    return {
        "nodegroup": {
            "nodegroupName": name,
            "nodegroupArn": (
                f"arn:aws:eks:{REGION}:{ACCOUNT}:nodegroup/{cluster}/{name}/0ac1b2c3-d4e5-f607-1829-3a4b5c6d7e8f"
            ),
            "clusterName": cluster,
            "version": NODEGROUP_VERSION,
            "releaseVersion": NODEGROUP_RELEASE,
            "createdAt": 1700000000.0,
            "modifiedAt": 1731000000.0,
            "status": "ACTIVE",
            "capacityType": "ON_DEMAND",
            "scalingConfig": {"minSize": 3, "maxSize": 12, "desiredSize": 6},
            "instanceTypes": ["m6i.xlarge"],
            "subnets": ["subnet-0a1b2c3d4e5f60718", "subnet-0b1c2d3e4f5a60718", "subnet-0c1d2e3f4a5b60718"],
            "amiType": "AL2023_x86_64_STANDARD",
            "nodeRole": f"arn:aws:iam::{ACCOUNT}:role/eks-node-role",
            "labels": {"workload": "general"},
            "resources": {"autoScalingGroups": [{"name": f"eks-{name}-0ac1b2c3-d4e5-f607-1829-3a4b5c6d7e8f"}]},
            "diskSize": 20,
            "health": {"issues": []},
            "updateConfig": {"maxUnavailable": 1},
            "tags": {"team": "platform", "env": "prod"},
        }
    }


def update_nodegroup_version(request: dict) -> dict:
    params = [{"type": "Version", "value": request.get("version") or NODEGROUP_VERSION}]
    if request.get("releaseVersion"):
        params.append({"type": "ReleaseVersion", "value": request["releaseVersion"]})
    return {
        "update": {
            "id": str(uuid.uuid4()),
            "status": "InProgress",
            "type": "VersionUpdate",
            "params": params,
            "createdAt": time.time(),
            "errors": [],
        }
    }


def get_parameter(request: dict) -> dict:
    name = request.get("Name", "")
    return {
        "Parameter": {
            "Name": name,
            "Type": "String",
            "Value": LATEST_RELEASE,
            "Version": 17,
            "LastModifiedDate": _PUBLISHED,
            "ARN": f"arn:aws:ssm:{REGION}::parameter{name}",
            "DataType": "text",
        }
    }


# Sizes as STS gives them: a 20-character key id, a 40-character secret, a session token of
# several hundred characters.
_SESSION_TOKEN = base64.b64encode(random.Random(13).randbytes(600)).decode()


def assume_role(form: dict[str, list[str]]) -> bytes:
    """STS AssumeRole's answer (XML, query protocol) for the form's RoleArn and session."""
    arn = form.get("RoleArn", [""])[0]
    session = form.get("RoleSessionName", ["session"])[0]
    account = arn.split(":")[4] if arn.count(":") >= 5 else ACCOUNT
    role = arn.rsplit("/", 1)[-1]
    expiration = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
    return (
        '<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">\n'
        "  <AssumeRoleResult>\n"
        "    <AssumedRoleUser>\n"
        f"      <AssumedRoleId>AROA3XFRBF535PLBIFPI4:{session}</AssumedRoleId>\n"
        f"      <Arn>arn:aws:sts::{account}:assumed-role/{role}/{session}</Arn>\n"
        "    </AssumedRoleUser>\n"
        "    <Credentials>\n"
        "      <AccessKeyId>ASIAIOSFODNN7EXAMPLE</AccessKeyId>\n"
        "      <SecretAccessKey>wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY</SecretAccessKey>\n"
        f"      <SessionToken>{_SESSION_TOKEN}</SessionToken>\n"
        f"      <Expiration>{expiration}</Expiration>\n"
        "    </Credentials>\n"
        "  </AssumeRoleResult>\n"
        f"  <ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata>\n"
        "</AssumeRoleResponse>\n"
    ).encode()


class _Http(asyncio.Protocol):
    def __init__(self, owner: CannedEks) -> None:
        self.owner = owner
        self.buf = b""
        self.transport: asyncio.Transport | None = None
        self.continued = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.owner.connections += 1

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while True:
            head = parse_head(self.buf)
            if head is None:
                return
            method, path, headers, start = head
            length = int(headers.get("content-length") or 0)
            if len(self.buf) < start + length:
                if headers.get("expect", "").lower() == "100-continue" and not self.continued:
                    self.continued = True
                    self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                return
            self.continued = False
            body = self.buf[start : start + length]
            self.buf = self.buf[start + length :]
            status, payload, content_type = self.owner.answer(method, path, headers, body)
            self.transport.write(
                (
                    f"HTTP/1.1 {status} {'OK' if status == 200 else 'Error'}\r\n"
                    f"Content-Type: {content_type}\r\n"
                    f"x-amzn-RequestId: {uuid.uuid4()}\r\n"
                    f"Content-Length: {len(payload)}\r\n\r\n"
                ).encode()
                + payload
            )


class CannedEks:
    def __init__(self) -> None:
        self.calls: collections.Counter[str] = collections.Counter()
        self.connections = 0
        # Answers rendered once per distinct request: the stand-in's own cost stays tiny.
        self._rendered: dict[tuple, bytes] = {}
        self.port = 0
        self._server: asyncio.base_events.Server | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> CannedEks:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: _Http(self), "127.0.0.1", 0, backlog=64)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None

    def answer(self, method: str, path: str, headers: dict, body: bytes) -> tuple[int, bytes, str]:
        json_ct = "application/json"
        if method == "POST" and path == "/" and headers.get("x-amz-target") == "AmazonSSM.GetParameter":
            self.calls["GetParameter"] += 1
            key = ("ssm", body)
            if key not in self._rendered:
                self._rendered[key] = json.dumps(get_parameter(json.loads(body or b"{}"))).encode()
            return 200, self._rendered[key], "application/x-amz-json-1.1"
        if method == "POST" and path == "/" and b"Action=AssumeRole" in body:
            self.calls["AssumeRole"] += 1
            return 200, assume_role(parse_qs(body.decode())), "text/xml"
        if method == "POST" and path.endswith("/update-version"):
            self.calls["UpdateNodegroupVersion"] += 1
            request = json.loads(body or b"{}")
            key = ("update", request.get("version"), request.get("releaseVersion"))
            if key not in self._rendered:
                answer = update_nodegroup_version(request)
                answer["update"]["id"] = "@ID@"
                answer["update"]["createdAt"] = 1.0e9
                self._rendered[key] = json.dumps(answer).encode()
            answer = self._rendered[key].replace(b"@ID@", str(uuid.uuid4()).encode(), 1)
            return 200, answer.replace(b"1000000000.0", b"%.3f" % time.time(), 1), json_ct
        key = (method, path)
        rendered = self._rendered.get(key)
        if rendered is not None:
            self.calls["DescribeCluster" if path.count("/") == 2 else "DescribeNodegroup"] += 1
            return 200, rendered, json_ct
        parts = [unquote(p) for p in path.strip("/").split("/")]
        if method == "GET" and parts[:1] == ["clusters"]:
            if len(parts) == 2:
                self.calls["DescribeCluster"] += 1
                self._rendered[key] = json.dumps(describe_cluster(parts[1])).encode()
                return 200, self._rendered[key], json_ct
            if len(parts) == 4 and parts[2] == "node-groups":
                self.calls["DescribeNodegroup"] += 1
                self._rendered[key] = json.dumps(describe_nodegroup(parts[1], parts[3])).encode()
                return 200, self._rendered[key], json_ct
        self.calls["unexpected"] += 1
        return 400, json.dumps({"message": f"the stand-in does not serve {method} {path}"}).encode(), json_ct


async def _serve(port: int) -> None:
    eks = CannedEks()
    loop = asyncio.get_running_loop()
    eks._server = await loop.create_server(lambda: _Http(eks), "127.0.0.1", port)
    eks.port = eks._server.sockets[0].getsockname()[1]
    print(f"LISTENING {eks.url}", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    port = int(sys.argv[sys.argv.index("--port") + 1]) if "--port" in sys.argv else 0
    try:
        asyncio.run(_serve(port))
    except KeyboardInterrupt:
        pass
