"""Least privilege of template.yaml, held against the code that uses it (offline).

    tests/sam/.venv/bin/python tests/sam/check_iam.py              # the check
    tests/sam/.venv/bin/python tests/sam/check_iam.py --self-test  # the check must catch drift

What the principals can call is *derived*, not listed by hand:
- the function: every SDK call in the adapters its binary's `main` builds (src/aws/*.rs, an
  adapter type per file: `Eks::new(` in src/main.rs brings src/aws/eks.rs;
  `.client.describe_nodegroup()` -> the SDK's operation `DescribeNodegroup` ->
  `eks:DescribeNodegroup`), for each `aws-sdk-*` crate in Cargo.toml, plus what SAM adds for
  the template's own wiring (the OnFailure queue);
- each state machine: the integrations its definition uses (`lambda:invoke`,
  `aws-sdk:eks:describeUpdate`, `states:startExecution.sync:2`, a distributed Map), mapped to the
  IAM actions AWS documents for them.

Then, on the roles SAM generates from template.yaml (the pinned SAM translator, no AWS call):
- each role's actions equal the derived set, both ways (a call without a grant fails at run
  time; a grant without a call is privilege nobody needs), no wildcard action, no NotAction or
  NotResource, no Resource "*";
- EKS resources, for AllowedClusters=prod-*,staging, are the ARNs of those clusters and their
  node groups in this account and Region, and nothing else (per action, by the resource types
  IAM authorises it on);
- ssm:GetParameter is granted exactly on the public parameter paths the code builds
  (src/**/*.rs format strings starting `/aws/service/`).
Exits non-zero with the differences. `--self-test` mutates the code's calls and the template
(a call added, a grant dropped or added, a resource widened, an unknown SDK crate) and
requires each mutation to be reported.
"""

from __future__ import annotations

import copy
import fnmatch
import json
import logging
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import samtemplate

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]

# The SAM translator asks boto3 for a Region before it reads the pseudo parameters given.
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

from samtranslator.translator.transform import transform  # noqa: E402

# Each transform warns about metrics it never publishes (they would go to AWS).
logging.getLogger("samtranslator.metrics.metrics").setLevel(logging.ERROR)

PSEUDO = {
    "AWS::Partition": "aws",
    "AWS::Region": "eu-west-1",
    "AWS::AccountId": "111122223333",
    "AWS::StackName": "ngu",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::NoValue": None,
}
PARAMS = {"AllowedClusters": "prod-*,staging"}

# The function's role also carries what the template wires around the code: the OnFailure
# destination of asynchronous invocations (SAM adds sqs:SendMessage on the queue).
FUNCTION_WIRING = {"sqs:SendMessage"}
FUNCTION_ROLE = "UpdaterFunctionRole"
# Roles of principals that run no code of ours: the schedule starts the fleet state machine and
# sends failed starts to the queue.
FIXED_ACTIONS = {"FleetScheduleRole": {"states:StartExecution", "sqs:SendMessage"}}
EXPECTED_MANAGED = {
    FUNCTION_ROLE: {"arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"},
}

# IAM prefix of each SDK crate / Step Functions SDK integration service name.
IAM_PREFIX = {"eks": "eks", "ssm": "ssm", "sfn": "states", "lambda": "lambda", "sqs": "sqs", "sts": "sts"}
# Step Functions optimized integrations -> the actions AWS documents for them.
INTEGRATIONS = {
    "lambda:invoke": {"lambda:InvokeFunction"},
    "states:startExecution.sync:2": {
        "states:StartExecution",
        "states:DescribeExecution",
        "states:StopExecution",
        "events:PutTargets",
        "events:PutRule",
        "events:DescribeRule",
    },
}
# A distributed Map runs child executions of its own state machine (and can redrive them).
DISTRIBUTED_MAP = {
    "states:StartExecution",
    "states:DescribeExecution",
    "states:StopExecution",
    "states:RedriveExecution",
}

ARN = "arn:aws:eks:eu-west-1:111122223333"
CLUSTERS = {f"{ARN}:cluster/prod-*", f"{ARN}:cluster/staging"}
NODEGROUPS = {f"{ARN}:nodegroup/prod-*/*/*", f"{ARN}:nodegroup/staging/*/*"}
# Unused slots: names no cluster can have (EKS names start with a letter or digit).
PADDING = {f"{ARN}:cluster/-unused{i}" for i in range(1, 10)} | {
    f"{ARN}:nodegroup/-unused{i}/*/*" for i in range(1, 10)
}
# The resource types IAM authorises each EKS action on (Service Authorization Reference); an EKS
# call missing here is reported, so a new call gets its resources decided, not guessed.
EKS_RESOURCE_TYPES = {
    "eks:DescribeCluster": CLUSTERS,
    "eks:DescribeNodegroup": NODEGROUPS,
    "eks:UpdateNodegroupVersion": NODEGROUPS,
    "eks:ListUpdates": CLUSTERS | NODEGROUPS,
    "eks:DescribeUpdate": CLUSTERS | NODEGROUPS,
}
SSM_ARN = "arn:aws:ssm:eu-west-1::parameter"


# ------------------------------------------------------------ what the code calls


@dataclass
class CodeCalls:
    """The AWS actions the function's code can call, and the SSM parameter paths it builds."""

    actions: set[str] = field(default_factory=set)
    where: dict[str, str] = field(default_factory=dict)  # action -> file:line
    ssm_paths: set[str] = field(default_factory=set)  # format strings, `{...}` = a variable part
    problems: list[str] = field(default_factory=list)


# An adapter: the type an adapter file defines, which a binary's `main` builds (`Eks::new(`).
ADAPTER_TYPE = re.compile(r"^pub struct (\w+)", re.M)
BUILT = re.compile(r"\b([A-Z]\w*)::new\s*\(")
CLIENT_CALL = re.compile(r"\.\s*client\s*\.\s*([a-z][a-z0-9_]*)\s*\(\s*\)")
USES_CLIENT = re.compile(r"\baws_sdk_([a-z0-9]+)::Client\b")
# A path into an SDK crate (`aws_sdk_sts::...`): code that uses it. A bare name (a log target
# in src/lambda/logging.rs) is not a use.
ANY_SDK = re.compile(r"\baws_sdk_([a-z0-9]+)::")
PUBLIC_PARAMETER = re.compile(r'"(/aws/service/[^"]*)"')
CFG_TEST = re.compile(r"#\[cfg\(test\)\]")
# A `#[cfg(test)]` one-line declaration, not the inline test module that ends a file.
CFG_TEST_DECLARATION = re.compile(r"#\[cfg\(test\)\]\s*(?:mod\s+\w+|use\s[^;{]*)\s*;")
# An out-of-line test module (`#[cfg(test)] mod tests;`): its file holds nothing but tests.
TEST_MODULE_DECLARATION = re.compile(r"#\[cfg\(test\)\]\s*mod\s+(\w+)\s*;")


def _non_test(text: str) -> str:
    """The file without its `#[cfg(test)]` module (tests call mocks, not AWS): everything from
    the first `#[cfg(test)]` that is not a one-line declaration (`mod tests;`, `use ...;`)."""
    for m in CFG_TEST.finditer(text):
        if not CFG_TEST_DECLARATION.match(text, m.start()):
            return text[: m.start()]
    return text


def _test_module_files(src: Path) -> set[Path]:
    """The files of out-of-line test modules (`#[cfg(test)] mod tests;` → tests.rs), and below."""
    found: set[Path] = set()
    for path in src.rglob("*.rs"):
        here = path.parent if path.name in ("mod.rs", "lib.rs", "main.rs") else path.parent / path.stem
        for name in TEST_MODULE_DECLARATION.findall(path.read_text()):
            found.add(here / f"{name}.rs")
            found.update((here / name).rglob("*.rs"))
    return found


def sdk_operations(crates: set[str]) -> dict[str, dict[str, str]] | None:
    """{crate: {snake_case module: OperationName}} read from the SDK sources cargo resolved."""
    try:
        meta = json.loads(
            subprocess.run(
                ["cargo", "metadata", "--format-version", "1", "--offline", "--locked"],
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=True,
                timeout=120,
            ).stdout
        )
    except (OSError, subprocess.SubprocessError, ValueError):
        return None
    found: dict[str, dict[str, str]] = {}
    for pkg in meta["packages"]:
        crate = pkg["name"].removeprefix("aws-sdk-")
        if not pkg["name"].startswith("aws-sdk-") or crate not in crates:
            continue
        ops = {}
        for path in (Path(pkg["manifest_path"]).parent / "src" / "operation").glob("*.rs"):
            m = re.search(r"^pub struct (\w+);", path.read_text(), re.M)
            if m:
                ops[path.stem] = m.group(1)
        found[crate] = ops
    return found


def pascal(snake: str) -> str:
    return "".join(part.capitalize() for part in snake.split("_"))


def code_calls(
    src: Path = ROOT / "src",
    cargo_toml: Path = ROOT / "Cargo.toml",
    operations: dict[str, dict[str, str]] | None | bool = True,
    binary: str = "main.rs",
) -> CodeCalls:
    """Scan the sources for what one binary can call: the calls of every adapter file whose
    adapter type its `main` (`binary`, relative to `src`) builds. `main` is wiring only, so the
    adapters it builds are the AWS code the function reaches; an adapter built by no binary
    (one waiting for its function) calls nothing. `operations=True` reads the SDK's operation
    names via cargo; `None` (cargo could not say) takes every `.client.<method>()` for an
    operation."""
    out = CodeCalls()
    built = set(BUILT.findall(_non_test((src / binary).read_text())))
    deps = set(re.findall(r"^aws-sdk-([a-z0-9]+)\s*=", cargo_toml.read_text(), re.M))
    if operations is True:
        operations = sdk_operations(deps)
    crates_with_calls: set[str] = set()
    test_files = _test_module_files(src)
    for path in sorted(src.rglob("*.rs")):
        if path in test_files:
            continue
        text = _non_test(path.read_text())
        rel = path.relative_to(src.parent)
        clients = set(USES_CLIENT.findall(text))
        calls = [(m.group(1), text.count("\n", 0, m.start()) + 1) for m in CLIENT_CALL.finditer(text)]
        if calls and len(clients) != 1:
            out.problems.append(
                f"{rel}: SDK calls, but the file uses {len(clients)} SDK clients "
                f"({sorted(clients)}); keep one client per adapter so calls can be attributed"
            )
            continue
        for crate in set(ANY_SDK.findall(text)) - deps:
            out.problems.append(f"{rel}: uses aws_sdk_{crate}, which Cargo.toml does not depend on")
        out.ssm_paths |= set(PUBLIC_PARAMETER.findall(text))
        if not calls:
            continue
        (crate,) = clients
        crates_with_calls.add(crate)
        if not built & set(ADAPTER_TYPE.findall(text)):
            continue  # an adapter this binary does not build
        for method, line in calls:
            known = None if operations is None else operations.get(crate, {})
            if known is not None and method not in known:
                continue  # e.g. `.client.config()`: not an API call
            op = known[method] if known is not None else pascal(method)
            action = f"{IAM_PREFIX.get(crate, crate)}:{op}"
            out.actions.add(action)
            out.where.setdefault(action, f"{rel}:{line}")
    for crate in sorted(deps - crates_with_calls):
        out.problems.append(
            f"Cargo.toml depends on aws-sdk-{crate} but no `.client.<operation>()` call of it was "
            "found in src/: calls this check cannot see would go unchecked"
        )
    return out


# ------------------------------------------------- what the state machines call


def definition_actions(definition: dict[str, Any]) -> set[str]:
    """The IAM actions a state machine's integrations need (its nested states included)."""
    actions: set[str] = set()

    def walk(states: dict[str, Any]) -> None:
        for state in states.values():
            resource = state.get("Resource")
            if isinstance(resource, str) and ":states:::" in resource:
                integration = resource.split(":states:::", 1)[1]
                if integration.startswith("aws-sdk:"):
                    _, service, action = integration.split(":", 2)
                    action = action.split(".", 1)[0]
                    actions.add(f"{IAM_PREFIX.get(service, service)}:{action[0].upper()}{action[1:]}")
                elif integration in INTEGRATIONS:
                    actions.update(INTEGRATIONS[integration])
                else:
                    actions.add(f"<unknown integration {integration}>")
            processor = state.get("ItemProcessor") or state.get("Iterator")
            if processor:
                if (processor.get("ProcessorConfig") or {}).get("Mode") == "DISTRIBUTED":
                    actions.update(DISTRIBUTED_MAP)
                walk(processor["States"])
            for branch in state.get("Branches", []):
                walk(branch["States"])

    walk(definition["States"])
    return actions


def state_machine_actions(template: dict[str, Any]) -> dict[str, set[str]]:
    """{role logical id: actions} for every state machine of the template."""
    out = {}
    for logical_id, sm in samtemplate.state_machines(template).items():
        definition = json.loads(sm.render(samtemplate.default_values(sm, template)))
        out[f"{logical_id}Role"] = definition_actions(definition)
    return out


# -------------------------------------------------------------- the template


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
    ((fn, arg),) = value.items()
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


def generated_roles(template: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(SAM's output, its IAM roles), for the test parameters."""
    template = copy.deepcopy(template)
    for res in template["Resources"].values():  # local paths, as `sam package` would upload them
        for key in ("CodeUri", "DefinitionUri"):
            if isinstance(res.get("Properties", {}).get(key), str):
                res["Properties"][key] = f"s3://bucket/{key}"
    parameters = dict(PSEUDO) | PARAMS
    output = transform(template, {k: v for k, v in parameters.items() if v is not None}, _NoManagedPolicies())
    roles = {k: v for k, v in output["Resources"].items() if v["Type"] == "AWS::IAM::Role"}
    return output, roles


def _ssm_covers(granted: str, path: str) -> bool:
    """Whether an SSM parameter ARN pattern covers a parameter path (its `{...}` parts vary)."""
    sample = re.sub(r"\{[^}]*\}", "x", path)
    return fnmatch.fnmatchcase(f"{SSM_ARN}{sample}", granted)


def check(template: dict[str, Any], code: CodeCalls) -> list[str]:
    """Every difference between what is called and what template.yaml grants."""
    problems = list(code.problems)
    expected = {FUNCTION_ROLE: code.actions | FUNCTION_WIRING, **FIXED_ACTIONS, **state_machine_actions(template)}
    output, roles = generated_roles(template)

    if set(roles) != set(expected):
        problems.append(f"roles: {sorted(roles)}, expected {sorted(expected)}")
    for name, role in roles.items():
        actions: set[str] = set()
        resources_of: dict[str, set[str]] = {}
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
                resources_of.setdefault(act, set()).update(resources)
        wanted = expected.get(name, set())
        for act in sorted(wanted - actions):
            origin = f" (called at {code.where[act]})" if name == FUNCTION_ROLE and act in code.where else ""
            problems.append(f"{name}: {act} is called{origin} but not granted")
        for act in sorted(actions - wanted):
            problems.append(f"{name}: {act} is granted but nothing calls it")
        managed = set(evaluate(role["Properties"].get("ManagedPolicyArns", []), output))
        if managed != EXPECTED_MANAGED.get(name, set()):
            problems.append(f"{name}: managed policies {sorted(managed)}")
        for act, resources in sorted(resources_of.items()):
            if act.startswith("eks:"):
                if act not in EKS_RESOURCE_TYPES:
                    problems.append(
                        f"{name}: {act} has no entry in EKS_RESOURCE_TYPES: decide on which "
                        "resource types IAM authorises it and add it"
                    )
                    continue
                got = resources - PADDING
                if got != EKS_RESOURCE_TYPES[act]:
                    problems.append(f"{name}: {act} on {sorted(got)}, expected {sorted(EKS_RESOURCE_TYPES[act])}")
            if act == "ssm:GetParameter" and name == FUNCTION_ROLE:
                for path in sorted(code.ssm_paths):
                    if not any(_ssm_covers(r, path) for r in resources):
                        problems.append(f"{name}: ssm:GetParameter not granted on {path}, which the code reads")
                for granted in sorted(resources):
                    if not granted.startswith(SSM_ARN + "/aws/service/"):
                        problems.append(
                            f"{name}: ssm:GetParameter on {granted}, outside the public /aws/service/ parameters"
                        )
                    elif not any(_ssm_covers(granted, p) for p in code.ssm_paths):
                        problems.append(f"{name}: ssm:GetParameter on {granted}, which no parameter of the code needs")
    return problems


# ----------------------------------------------------------------- self-test


def _statement(template: dict[str, Any], sid: str) -> dict[str, Any]:
    for stmt in template["Resources"]["UpdaterFunction"]["Properties"]["Policies"][0]["Statement"]:
        if stmt.get("Sid") == sid:
            return stmt
    raise KeyError(sid)


def _with(template: dict[str, Any], change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    mutated = copy.deepcopy(template)
    change(mutated)
    return mutated


def self_test() -> int:
    """Each mutation of the code or the template must be reported; the unmutated pair must pass."""
    import tempfile

    template = samtemplate.load_template()
    code = code_calls()
    baseline = check(template, code)
    failures = []
    if baseline:
        failures.append(f"the unmutated code and template do not pass: {baseline}")
    if not {"eks:DescribeNodegroup", "eks:UpdateNodegroupVersion", "ssm:GetParameter"} <= code.actions:
        failures.append(f"the scan of src/ missed calls: found {sorted(code.actions)}")
    if code.actions & {"eks:ListClusters", "eks:ListNodegroups"}:
        failures.append("the discovery adapter, which the updater's main does not build, was counted as its calls")

    def main_builds_discovery() -> CodeCalls:
        with tempfile.TemporaryDirectory() as tmp:
            src = Path(tmp) / "src"
            shutil.copytree(ROOT / "src", src)
            main = src / "main.rs"
            main.write_text(
                main.read_text().replace(
                    "    let updater = Updater::new(",
                    "    let _discovery = eks_nodegroup_updater::Discovery::new(\n"
                    "        aws_sdk_eks::Client::new(&sdk_config));\n"
                    "    let updater = Updater::new(",
                    1,
                )
            )
            return code_calls(src)

    def extra_call() -> CodeCalls:
        with tempfile.TemporaryDirectory() as tmp:
            src = Path(tmp) / "src"
            shutil.copytree(ROOT / "src", src)
            eks = src / "aws" / "eks.rs"
            eks.write_text(
                eks.read_text().replace(
                    "    pub async fn describe_cluster(",
                    "    pub async fn drop_it(&self) { let _ = self\n        .client\n        .delete_nodegroup()\n"
                    "        .send().await; }\n\n    pub async fn describe_cluster(",
                    1,
                )
            )
            (src / "sts.rs").write_text("use aws_sdk_sts::Client;\nfn f(c: &Client) { c.get_caller_identity(); }\n")
            return code_calls(src)

    def widen(t: dict[str, Any]) -> None:
        _statement(t, "ReadAndUpdateNodegroups")["Resource"] = "*"

    def drop_list_updates(t: dict[str, Any]) -> None:
        _statement(t, "ReadNodegroupUpdates")["Action"] = ["eks:DescribeUpdate"]

    def grant_delete(t: dict[str, Any]) -> None:
        _statement(t, "ReadAndUpdateNodegroups")["Action"].append("eks:DeleteNodegroup")

    def widen_ssm(t: dict[str, Any]) -> None:
        _statement(t, "ReadLatestAmiReleases")["Resource"].append(
            {"Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}::parameter/*"}
        )

    def drop_bottlerocket(t: dict[str, Any]) -> None:
        del _statement(t, "ReadLatestAmiReleases")["Resource"][1]

    def sm_extra_grant(t: dict[str, Any]) -> None:
        stmts = t["Resources"]["UpdateNodegroupStateMachine"]["Properties"]["Policies"][0]["Statement"]
        stmts.append({"Effect": "Allow", "Action": "eks:ListUpdates", "Resource": "arn:aws:eks:*:*:cluster/x"})

    extra = extra_call()  # one scan (and one `cargo metadata`) serves both cases
    cases: list[tuple[str, dict[str, Any], CodeCalls, str]] = [
        ("a new SDK call in the code", template, extra, "eks:DeleteNodegroup is called"),
        (
            "an adapter the binary's main starts to build",
            template,
            main_builds_discovery(),
            "eks:ListClusters is called",
        ),
        ("an SDK crate the code uses without Cargo.toml", template, extra, "aws_sdk_sts"),
        ("a call whose grant was dropped", _with(template, drop_list_updates), code, "eks:ListUpdates is called"),
        (
            "a grant nothing calls",
            _with(template, grant_delete),
            code,
            "eks:DeleteNodegroup is granted but nothing calls it",
        ),
        ("an EKS resource widened to *", _with(template, widen), code, "Resource '*'"),
        ("SSM widened to every parameter", _with(template, widen_ssm), code, "outside the public"),
        (
            "an SSM path of the code not granted",
            _with(template, drop_bottlerocket),
            code,
            "not granted on /aws/service/bottlerocket/",
        ),
        (
            "a state machine grant its definition never uses",
            _with(template, sm_extra_grant),
            code,
            "UpdateNodegroupStateMachineRole: eks:ListUpdates is granted but nothing calls it",
        ),
    ]
    for name, mutated, calls, needle in cases:
        problems = check(mutated, calls)
        if not any(needle in p for p in problems):
            failures.append(f"{name}: not reported (wanted {needle!r}; got {problems})")
        else:
            print(f"self-test: {name}: reported")
    if failures:
        print("IAM check self-test failed:\n  " + "\n  ".join(failures), file=sys.stderr)
        return 1
    print(f"IAM check self-test: {len(cases)} mutations, each reported")
    return 0


def main(argv: list[str]) -> int:
    if argv[1:] == ["--self-test"]:
        return self_test()
    if argv[1:]:
        print(__doc__, file=sys.stderr)
        return 2
    code = code_calls()
    problems = check(samtemplate.load_template(), code)
    if problems:
        print("IAM check failed:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 1
    print(
        f"IAM check: the function calls {', '.join(sorted(code.actions))} (from src/) and its role grants "
        "exactly those (plus the failure queue); each state machine's role grants exactly what its definition "
        "uses; no wildcard action; EKS only on the allowed clusters' ARNs; SSM only on the parameters the code reads"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
