"""STS AssumeRole judged as IAM would: the role must exist in its account and trust the caller.

moto's AssumeRole hands out credentials for any role ARN, existing or not, trusting anyone: a
test of "the target account's role does not trust us" would pass against it. Here a role is
seeded in an account (`roles` in POST /_localeks/seed, each with the accounts it trusts) and
AssumeRole is refused with STS's 403 AccessDenied unless the role exists and trusts the
caller's account. The credentials moto then issues belong to the role's account (moto routes
requests signed with them there), so calls made with them see that account's clusters only.
A reset (POST /_localeks/reset) deletes the roles seeded here.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from moto.iam.models import iam_backends

from .errors import AdminError

POLICY_VERSION = "2012-10-17"

# (account, role name) of every role seeded, so a reset can delete them.
_SEEDED: set[tuple[str, str]] = set()
_SEEDED_LOCK = threading.Lock()


def seed_roles(account: str, specs: Any) -> list[dict[str, Any]]:
    """Each `{"name": ..., "trustedAccounts": [...]}` made (or made again) in `account`."""
    if not isinstance(specs, list):
        raise AdminError("seed: roles must be a list")
    made = []
    backend = iam_backends[account]["aws"]
    for spec in specs:
        if not isinstance(spec, dict) or not isinstance(spec.get("name"), str) or not spec["name"]:
            raise AdminError("seed: each role needs a string 'name'")
        trusted = spec.get("trustedAccounts", [])
        if not isinstance(trusted, list) or not all(
            isinstance(a, str) and a.isdigit() and len(a) == 12 for a in trusted
        ):
            raise AdminError(f"seed: role {spec['name']}: trustedAccounts must be a list of 12-digit account ids")
        policy = {
            "Version": POLICY_VERSION,
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": [f"arn:aws:iam::{a}:root" for a in trusted]},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
        try:
            backend.delete_role(spec["name"])
        except Exception:  # not there yet
            pass
        role = backend.create_role(
            role_name=spec["name"],
            assume_role_policy_document=json.dumps(policy),
            path="/",
            permissions_boundary=None,
            description="seeded by localeks",
            tags=[],
            max_session_duration="3600",
        )
        with _SEEDED_LOCK:
            _SEEDED.add((account, spec["name"]))
        made.append({"arn": role.arn, "trustedAccounts": trusted})
    return made


def forget_seeded() -> None:
    """Delete every role seeded (POST /_localeks/reset)."""
    with _SEEDED_LOCK:
        seeded = sorted(_SEEDED)
        _SEEDED.clear()
    for account, name in seeded:
        try:
            iam_backends[account]["aws"].delete_role(name)
        except Exception:  # already gone
            pass


def refusal(caller_account: str, role_arn: str) -> str | None:
    """Why `caller_account` may not assume `role_arn`, in STS's words; None when it may."""
    denied = (
        f"User: arn:aws:iam::{caller_account}:root is not authorized to perform: sts:AssumeRole on resource: {role_arn}"
    )
    parts = role_arn.split(":")
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "iam" or not parts[5].startswith("role/"):
        return denied
    account, name = parts[4], parts[5].split("/")[-1]
    try:
        role = iam_backends[account]["aws"].get_role(name)
    except Exception:  # no such role in that account
        return denied
    document = role.assume_role_policy_document
    policy = json.loads(document) if isinstance(document, str) else document
    for statement in policy.get("Statement", []):
        if statement.get("Effect") != "Allow":
            continue
        principals = statement.get("Principal", {}).get("AWS", [])
        principals = [principals] if isinstance(principals, str) else principals
        if any(p.split(":")[4] == caller_account for p in principals if p.count(":") >= 5):
            return None
    return denied
