"""The local EKS endpoint (tests/localeks): started one way, and its admin client.

The start-up protocol, the only one localeks (and tests/sam/sfnlocal.py, built on it)
speaks: once listening, the server writes one line to stdout, ``LISTENING <url>``
(``LISTENING_LINE``). ``local_eks()`` starts it with its output in the process's log and
waits for that line there, then checks ``GET /_localeks/health``.

``LocalEks`` wraps the admin API (seed, state, reset, config, faults, finish-updates), a
boto3 EKS client and ``poll_update``.

Other accounts: ``seed_account`` seeds a world in another account with the role the function
assumes there (``TARGET_ROLE_NAME``, trusting the default account); ``client_as`` is a boto3
client signed with an assumed role's credentials (``assumed_env`` the same as environment
variables); ``call_counts()`` reads ``/_localeks/calls`` as a ``CallCounts`` (calls per account,
AssumeRole per role ARN).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .httpclient import http
from .paths import LOCALEKS_DIR
from .processes import HarnessError, Process, base_env, venv_python

REGION = "us-east-1"
# The account of the default credentials (moto's default account), and the role the function
# assumes in another account (template.yaml's TargetRoleName default).
DEFAULT_ACCOUNT_ID = "123456789012"
TARGET_ROLE_NAME = "eks-nodegroup-updater-target"
# Fake credentials for the local endpoint only (moto checks no signature).
AWS_ENV = {
    "AWS_REGION": REGION,
    "AWS_DEFAULT_REGION": REGION,
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
}

# What the server writes to stdout once it accepts connections: its one line there.
LISTENING_LINE = re.compile(r"^LISTENING (http://\S+)$", re.MULTILINE)


def role_arn(account: str, name: str = TARGET_ROLE_NAME) -> str:
    """The ARN of role `name` in `account` (default: the target role)."""
    return f"arn:aws:iam::{account}:role/{name}"


@dataclass(frozen=True)
class CallCounts:
    """A snapshot of ``GET /_localeks/calls`` (tests/localeks/README.md, **Calls**), read by account
    and by role. ``raw`` is the JSON as served."""

    raw: dict[str, Any]

    @property
    def total(self) -> dict[str, int]:
        """Every account together, by ``service:Operation``."""
        return self.raw["total"]

    @property
    def accounts(self) -> set[str]:
        """The accounts at least one request was made in."""
        return set(self.raw["byAccount"])

    def in_account(self, account: str, service: str | None = None) -> dict[str, int]:
        """The requests made in `account` by ``service:Operation`` (only `service`'s if given)."""
        total = self.raw["byAccount"].get(account, {}).get("total", {})
        return {k: n for k, n in total.items() if service is None or k.startswith(f"{service}:")}

    def count(self, account: str, service: str | None = None, operation: str | None = None) -> int:
        """How many requests were made in `account` (of `service`, of `operation` of it)."""
        if operation is not None:
            return self.in_account(account).get(f"{service}:{operation}", 0)
        return sum(self.in_account(account, service).values())

    def cluster_in(self, account: str, cluster: str) -> dict[str, int]:
        """The requests made in `account` naming `cluster`, by ``service:Operation``."""
        return self.raw["byAccount"].get(account, {}).get("byCluster", {}).get(cluster, {})

    def assume_role(self, arn: str) -> dict[str, Any]:
        """STS AssumeRole requests for role `arn`: ``{"calls", "granted", "refused", "byCaller",
        "bySession"}`` (zeros when none)."""
        return self.raw["assumeRole"].get(
            arn, {"calls": 0, "granted": 0, "refused": 0, "byCaller": {}, "bySession": {}}
        )


@dataclass
class LocalEks:
    url: str
    process: Process
    _client: Any = None

    # admin API
    def admin(self, method: str, path: str, body: Any = None, timeout: float = 60.0) -> dict[str, Any]:
        data = None if body is None else json.dumps(body).encode()
        status, raw = http(method, f"{self.url}/_localeks/{path.lstrip('/')}", data, timeout=timeout)
        try:
            answer = json.loads(raw)
        except ValueError:
            raise HarnessError(f"localeks {method} {path}: {status} {raw[:300]!r}") from None
        if status != 200:
            raise HarnessError(f"localeks {method} {path}: {status} {answer}")
        return answer

    def seed(self, world: dict[str, Any]) -> dict[str, Any]:
        return self.admin("POST", "seed", world)

    def state(self) -> dict[str, Any]:
        return self.admin("GET", "state")

    def reset(self) -> dict[str, Any]:
        return self.admin("POST", "reset", {})

    def config(self, **settings: Any) -> dict[str, Any]:
        return self.admin("POST", "config", settings) if settings else self.admin("GET", "config")

    def faults(self, *rules: dict[str, Any]) -> dict[str, Any]:
        """Add fault rules (none: list the armed ones)."""
        if not rules:
            return self.admin("GET", "faults")
        return self.admin("POST", "faults", {"rules": list(rules)})

    def clear_faults(self) -> dict[str, Any]:
        return self.admin("DELETE", "faults")

    def calls(self) -> dict[str, Any]:
        """Every AWS API request served: {"total": {"eks:DescribeNodegroup": n, ...}, "byCluster": {...},
        "byAccount": {account: {"total", "byCluster"}}, "assumeRole": {role ARN: {...}}}."""
        return self.admin("GET", "calls")

    def call_counts(self) -> CallCounts:
        """`calls()`, read by account and role (`CallCounts`)."""
        return CallCounts(self.calls())

    def clear_calls(self) -> dict[str, Any]:
        return self.admin("DELETE", "calls")

    def finish_updates(self, **which: str) -> dict[str, Any]:
        return self.admin("POST", "finish-updates", which)

    def seed_account(
        self,
        account: str,
        world: dict[str, Any] | None = None,
        *,
        trusted: Sequence[str] = (DEFAULT_ACCOUNT_ID,),
        role_name: str = TARGET_ROLE_NAME,
        roles: Sequence[dict[str, Any]] = (),
    ) -> dict[str, Any]:
        """Seed `world` (``clusters``, ``ssmParameters``, ``region``, as `seed` takes) in `account`,
        with its role `role_name` trusting the accounts `trusted` (default: the default account,
        the one the function and the state machines run in), plus any other `roles`
        (``{"name", "trustedAccounts"}``). ``trusted=()`` makes the role trust no one."""
        body = dict(world or {})
        if "accountId" in body and body["accountId"] != account:
            raise HarnessError(f"seed_account({account}): the world names account {body['accountId']}")
        body["accountId"] = account
        body["roles"] = [{"name": role_name, "trustedAccounts": list(trusted)}, *roles, *body.get("roles", [])]
        return self.seed(body)

    def assumed_credentials(self, arn: str, session: str = "testkit") -> dict[str, str]:
        """STS AssumeRole of `arn` from the default credentials: the `Credentials` STS gives
        (AccessKeyId, SecretAccessKey, SessionToken, Expiration). Raises botocore's ClientError
        (AccessDenied) when the role is missing or does not trust the default account."""
        return self.client("sts").assume_role(RoleArn=arn, RoleSessionName=session)["Credentials"]

    def assumed_env(self, arn: str, session: str = "testkit") -> dict[str, str]:
        """`assumed_credentials` as the environment variables an SDK reads (``AWS_ENV`` with them)."""
        creds = self.assumed_credentials(arn, session)
        return {
            **AWS_ENV,
            "AWS_ACCESS_KEY_ID": creds["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"],
            "AWS_SESSION_TOKEN": creds["SessionToken"],
        }

    def client_as(self, service: str, arn: str, session: str = "testkit", **config: Any) -> Any:
        """A boto3 client of `service` signed with the credentials of role `arn` (assumed from
        the default ones): its calls are made in the role's account."""
        creds = self.assumed_credentials(arn, session)
        return self._signed(service, creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"], config)

    # reading the state back
    def nodegroup_state(self, cluster: str, nodegroup: str, account: str | None = None) -> dict[str, Any]:
        """A node group as ``/_localeks/state`` shows it; `account`: only that account's cluster
        (default: the first cluster of that name, whatever its account)."""
        for c in self.state()["clusters"]:
            if c["name"] == cluster and account in (None, c["accountId"]):
                for ng in c["nodegroups"]:
                    if ng["name"] == nodegroup:
                        return ng
        raise KeyError(f"{cluster}/{nodegroup} not in localeks state" + (f" of account {account}" if account else ""))

    def update_calls_total(self) -> int:
        return self.state()["updateNodegroupVersionCallsTotal"]

    # the EKS API, as a client sees it
    def client(self, service: str, **config: Any) -> Any:
        """A boto3 client of any service the endpoint serves (EKS, SSM, S3, SNS, ...)."""
        return self._signed(service, AWS_ENV["AWS_ACCESS_KEY_ID"], AWS_ENV["AWS_SECRET_ACCESS_KEY"], None, config)

    def _signed(self, service: str, key: str, secret: str, token: str | None, config: dict[str, Any]) -> Any:
        """A boto3 client of `service` at this endpoint, signed with the given credentials."""
        import boto3
        from botocore.config import Config

        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name=REGION,
            aws_access_key_id=key,
            aws_secret_access_key=secret,
            aws_session_token=token,
            config=Config(**config),
        )

    def eks(self) -> Any:
        """A boto3 EKS client pointed at the endpoint (no retries: see every answer)."""
        if self._client is None:
            self._client = self.client("eks", retries={"max_attempts": 1, "mode": "standard"})
        return self._client

    def describe_nodegroup(self, cluster: str, nodegroup: str) -> dict[str, Any]:
        return self.eks().describe_nodegroup(clusterName=cluster, nodegroupName=nodegroup)["nodegroup"]

    def poll_update(
        self, cluster: str, nodegroup: str, update_id: str, *, max_polls: int = 50, delay: float = 0.01
    ) -> tuple[list[str], dict[str, Any]]:
        """DescribeUpdate until the update is no longer InProgress, as a state machine would.

        localeks ends an update after N DescribeUpdate calls, so no real waiting is needed.
        Returns every status seen, in order, and the last update.
        """
        statuses: list[str] = []
        for _ in range(max_polls):
            update = self.eks().describe_update(name=cluster, nodegroupName=nodegroup, updateId=update_id)["update"]
            statuses.append(update["status"])
            if update["status"] != "InProgress":
                return statuses, update
            time.sleep(delay)
        raise HarnessError(f"update {update_id} still InProgress after {max_polls} polls: {statuses}")


@contextlib.contextmanager
def local_eks(
    workdir: Path,
    *,
    name: str = "localeks",
    polls_in_progress: int | None = None,
    quiet: bool = False,
    script: str | Path | None = None,
    args: Sequence[str] = (),
    cwd: Path = LOCALEKS_DIR,
) -> Iterator[LocalEks]:
    """Start localeks on a free port, its log in ``<workdir>/<name>.log``; always stop it.

    `script`: a file that runs localeks's server with something added (bench/localeks_fast.py,
    tests/sam/sfnlocal.py), given `args` too; default ``python -m localeks``.
    """
    entry = ["-m", "localeks"] if script is None else [str(script)]
    argv = [venv_python(), *entry, "--port", "0", *args]
    if polls_in_progress is not None:
        argv += ["--polls-in-progress", str(polls_in_progress)]
    if quiet:
        argv.append("--quiet")
    env = base_env()
    env["PYTHONPATH"] = str(LOCALEKS_DIR) + os.pathsep + env.get("PYTHONPATH", "")
    env["PYTHONUNBUFFERED"] = "1"
    proc = Process(name, argv, cwd=cwd, env=env, log_path=workdir / f"{name}.log")
    try:
        url = proc.wait_for(LISTENING_LINE, timeout=60, what="listen").group(1)
        endpoint = LocalEks(url=url, process=proc)
        endpoint.admin("GET", "health")
        yield endpoint
    finally:
        proc.stop()
