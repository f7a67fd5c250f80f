"""Least privilege of template.yaml, checked on the template SAM generates (offline).

    tests/sam/.venv/bin/python tests/sam/check_iam.py

Transforms template.yaml with the pinned SAM translator (no AWS call), then, for every IAM role:
- no Action holds a wildcard, and no NotAction / NotResource is used;
- the actions are exactly those its principal calls (the function: the five EKS calls, the SSM
  read and the failure queue; each state machine: what its definition invokes);
- the EKS resources, evaluated for AllowedClusters=prod-*,staging, are the ARNs of those clusters
  and of their node groups in this account and Region, and nothing else.
Exits non-zero with the differences.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import samtemplate  # noqa: E402
from samtranslator.translator.transform import transform  # noqa: E402

PSEUDO = {"AWS::Partition": "aws", "AWS::Region": "eu-west-1", "AWS::AccountId": "111122223333",
          "AWS::StackName": "ngu", "AWS::URLSuffix": "amazonaws.com", "AWS::NoValue": None}
PARAMS = {"AllowedClusters": "prod-*,staging"}

EXPECTED_ACTIONS = {
    "UpdaterFunctionRole": {
        "eks:DescribeCluster", "eks:DescribeNodegroup", "eks:UpdateNodegroupVersion",
        "eks:ListUpdates", "eks:DescribeUpdate", "ssm:GetParameter",
        "sqs:SendMessage",  # the OnFailure destination (added by SAM)
    },
    "UpdateNodegroupStateMachineRole": {"lambda:InvokeFunction", "eks:DescribeUpdate"},
    "RollFleetStateMachineRole": {
        "states:StartExecution", "states:DescribeExecution", "states:StopExecution",
        "states:RedriveExecution", "events:PutTargets", "events:PutRule", "events:DescribeRule",
    },
    "FleetScheduleRole": {"states:StartExecution", "sqs:SendMessage"},
}
EXPECTED_MANAGED = {
    "UpdaterFunctionRole": {"arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"},
}
ARN = "arn:aws:eks:eu-west-1:111122223333"
CLUSTERS = {f"{ARN}:cluster/prod-*", f"{ARN}:cluster/staging"}
NODEGROUPS = {f"{ARN}:nodegroup/prod-*/*/*", f"{ARN}:nodegroup/staging/*/*"}
# Unused slots: names no cluster can have (EKS names start with a letter or digit).
PADDING = {f"{ARN}:cluster/-unused{i}" for i in range(1, 10)} | {f"{ARN}:nodegroup/-unused{i}/*/*" for i in range(1, 10)}
EXPECTED_EKS_RESOURCES = {
    "eks:DescribeCluster": CLUSTERS,
    "eks:DescribeNodegroup": NODEGROUPS,
    "eks:UpdateNodegroupVersion": NODEGROUPS,
    "eks:ListUpdates": CLUSTERS | NODEGROUPS,
    "eks:DescribeUpdate": CLUSTERS | NODEGROUPS,
}


class _NoManagedPolicies:
    def load(self) -> dict[str, str]:
        return {}


def evaluate(value: Any, template: dict[str, Any]) -> Any:
    """Enough of CloudFormation's intrinsic functions for IAM resources (names of resources stay)."""
    if isinstance(value, list):
        return [evaluate(v, template) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) != 1:
        return {k: evaluate(v, template) for k, v in value.items()}
    (fn, arg), = value.items()
    params = {k: v.get("Default") for k, v in template.get("Parameters", {}).items()} | PARAMS
    if fn == "Ref":
        return PSEUDO.get(arg, params.get(arg, f"<{arg}>"))
    if fn == "Fn::GetAtt":
        res, attr = arg if isinstance(arg, list) else arg.split(".", 1)
        return f"<{res}.{attr}>"
    if fn == "Fn::Sub":
        text, local = (arg, {}) if isinstance(arg, str) else (arg[0], evaluate(arg[1], template))

        def repl(m: re.Match[str]) -> str:
            name = m.group(1)
            if name in local:
                return str(local[name])
            if "." in name:
                return f"<{name}>"
            return str(evaluate({"Ref": name}, template))

        return re.sub(r"\$\{([^}!][^}]*)\}", repl, text)
    if fn == "Fn::Split":
        return evaluate(arg[1], template).split(arg[0])
    if fn == "Fn::Join":
        return arg[0].join(evaluate(arg[1], template))
    if fn == "Fn::Select":
        return evaluate(arg[1], template)[int(arg[0])]
    if fn == "Fn::If":
        return evaluate(arg[1], template)  # conditions taken as true
    return {fn: evaluate(arg, template)}


def statements_of(role: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for policy in role["Properties"].get("Policies", []):
        stmts = policy["PolicyDocument"]["Statement"]
        out += stmts if isinstance(stmts, list) else [stmts]
    return out


def main() -> int:
    template = samtemplate.load_template()
    for res in template["Resources"].values():  # local paths, as `sam package` would upload them
        for key in ("CodeUri", "DefinitionUri"):
            if isinstance(res.get("Properties", {}).get(key), str):
                res["Properties"][key] = f"s3://bucket/{key}"
    parameters = dict(PSEUDO) | PARAMS
    output = transform(template, {k: v for k, v in parameters.items() if v is not None}, _NoManagedPolicies())
    roles = {k: v for k, v in output["Resources"].items() if v["Type"] == "AWS::IAM::Role"}
    problems: list[str] = []

    if set(roles) != set(EXPECTED_ACTIONS):
        problems.append(f"roles: {sorted(roles)}, expected {sorted(EXPECTED_ACTIONS)}")
    for name, role in roles.items():
        actions: set[str] = set()
        eks_resources: dict[str, set[str]] = {}
        for stmt in statements_of(role):
            if stmt.get("Effect") != "Allow":
                problems.append(f"{name}: a statement that is not Allow: {stmt}")
            for key in ("NotAction", "NotResource"):
                if key in stmt:
                    problems.append(f"{name}: {key} is used")
            acts = stmt["Action"] if isinstance(stmt["Action"], list) else [stmt["Action"]]
            for act in acts:
                if "*" in act or "?" in act:
                    problems.append(f"{name}: wildcard action {act!r}")
                actions.add(act)
            resources = evaluate(stmt["Resource"], output)
            resources = resources if isinstance(resources, list) else [resources]
            if len(resources) != len(set(resources)):
                problems.append(f"{name}: a statement lists a resource twice: {acts}")
            if any(r == "*" for r in resources):
                problems.append(f"{name}: Resource '*' for {acts}")
            for act in acts:
                if act.startswith("eks:"):
                    eks_resources.setdefault(act, set()).update(resources)
        if actions != EXPECTED_ACTIONS.get(name, set()):
            problems.append(f"{name}: actions {sorted(actions)}, expected {sorted(EXPECTED_ACTIONS.get(name, set()))}")
        managed = set(evaluate(role["Properties"].get("ManagedPolicyArns", []), output))
        if managed != EXPECTED_MANAGED.get(name, set()):
            problems.append(f"{name}: managed policies {sorted(managed)}")
        for act, resources in eks_resources.items():
            got = resources - PADDING
            if got != EXPECTED_EKS_RESOURCES[act]:
                problems.append(f"{name}: {act} on {sorted(got)}, expected {sorted(EXPECTED_EKS_RESOURCES[act])}")

    if problems:
        print("IAM check failed:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 1
    print(f"IAM check: {len(roles)} roles, no wildcard action, EKS grants only on the allowed clusters' ARNs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
