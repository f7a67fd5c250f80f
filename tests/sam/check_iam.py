"""Least privilege of template.yaml and target-account-role.yaml, held against the code (offline).

    tests/sam/.venv/bin/python tests/sam/check_iam.py              # the check
    tests/sam/.venv/bin/python tests/sam/check_iam.py --self-test  # the check must catch drift
    tests/sam/.venv/bin/python tests/sam/check_iam.py --src DIR [--self-test]  # another src/ tree

Every role of the template is checked, and what its principal can call is *derived*, not listed
by hand:
- each Lambda function: the binary its `Metadata.BuildProperties.Binary` names (a `[[bin]]` path in
  Cargo.toml, else src/bin/<name>.rs or src/bin/<name>/main.rs), the source files that binary's
  `main` reaches (its `use`s and paths, through modules and the library's re-exports), the
  adapters its `main` builds (`Eks::new(` brings the adapter type src/aws/eks.rs defines) and
  those the files of these adapters build in turn (`Accounts::new(` brings Sts, which
  src/aws/accounts.rs builds), and of those the methods the reached files call
  (`.find_running_update(`), followed through the adapter file's own functions to the SDK calls
  they make (`.client.describe_nodegroup()` -> the SDK's operation `DescribeNodegroup` ->
  `eks:DescribeNodegroup`), for each `aws-sdk-*` crate in Cargo.toml; plus what an answer the code
  handles implies (a GetObject whose NoSuchKey it reads needs s3:ListBucket: S3 answers 403
  instead to who may not list) and what the template wires around the code (an asynchronous
  invocation's failure destination). The adapters built in the closure `main` gives the adapter
  that assumes roles (`Accounts::new(config, |sdk| ...)`, the per-account factory) are also built
  for each other account, signing as the target role there: their calls are the binary's calls
  *in other accounts*; a session policy `main` gives it (`.with_session_policy(NAME)`, a `const
  NAME: &str` in src/) must allow exactly those calls;
- each state machine: the integrations its definition uses (`lambda:invoke`,
  `aws-sdk:eks:describeUpdate`, `states:startExecution.sync:2`, `sns:publish`, a distributed Map
  with its ItemReader and ResultWriter), mapped to the IAM actions AWS documents for them, on the
  resources the definition names; a Task with `Credentials` (the target role of the account its
  input names) needs sts:AssumeRole of that role, and its call is made in the other account;
- each schedule and rule: starting its target (and the schedule's dead-letter queue).

Then, on the roles SAM generates from template.yaml (the pinned SAM translator, no AWS call, with
every optional feature switched on and two other accounts in TargetAccountIds), with the
policies of the template attached to them (AWS::IAM::Policy, its Condition evaluated):
- each role's actions equal the derived set, both ways (a call without a grant fails at run
  time; a grant without a call is privilege nobody needs), no wildcard action, no NotAction or
  NotResource, Resource "*" only for an action IAM authorises on no resource type
  (eks:ListClusters), alone in its statement and held to the stack's Region;
- EKS resources, for AllowedClusters=prod-*,staging, are the ARNs of those clusters and their
  node groups in this account and Region, and nothing else (per action, by the resource types
  IAM authorises it on);
- ssm:GetParameter is granted exactly on the public parameter paths the function's code builds
  (format strings starting `/aws/service/` in the files its binary reaches);
- S3 only on the objects the fleet bucket's lifecycle rule expires (s3:ListBucket on the bucket
  itself); Lambda, Step Functions, EventBridge, SNS and SQS only on what the definitions and
  targets name;
- sts:AssumeRole exactly on the roles that may be assumed, one ARN per account, no wildcard: for
  a function whose code assumes roles, the role its TARGET_ROLE_NAME names in each account its
  ALLOWED_ACCOUNTS lists (so the template must set them from TargetRoleName and
  TargetAccountIds), for a state machine with Credentials Tasks, TargetRoleName in each of
  TargetAccountIds; on no other role, and, checked again with TargetAccountIds empty, on none;
  each Credentials Task has a twin without Credentials (the same call, result handling, Retry and
  Catch: an update is polled alike in either account); the TargetRoleTrustedArns output names
  exactly the roles that assume it.
And target-account-role.yaml, as a StackSet deploys it in a target account (another Region than
the stack's, for stacks in two Regions): one role, TargetRoleName, that TrustedRoleArns and
nobody else may assume (sts:AssumeRole only), granting exactly the calls made in other accounts
(the per-account adapters' calls of every function and the Credentials Tasks' calls, both ways),
every grant held to Regions by aws:RequestedRegion, EKS on the AllowedClusters ARNs of that
account (any of those Regions), SSM on the public parameters the code reads; its AllowedClusters
and TargetRoleName bounded as template.yaml's.
Exits non-zero with the differences. `--self-test` mutates the code's calls and the templates (a
call added, a method only the other binary calls, an adapter built or not, in a per-account
factory or not, a grant dropped or added, a resource widened, an unknown SDK crate, the sts
grant and its condition, a Task's Credentials, the target role's trust, actions and Regions) and
requires each mutation to be reported.
"""

from __future__ import annotations

import copy
import fnmatch
import functools
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tomllib
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

REGION, ACCOUNT = "eu-west-1", "111122223333"
# What Ref AWS::NoValue leaves in a list or a mapping: nothing (evaluate() drops it).
NO_VALUE = object()
PSEUDO = {
    "AWS::Partition": "aws",
    "AWS::Region": REGION,
    "AWS::AccountId": ACCOUNT,
    "AWS::StackName": "ngu",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::NoValue": NO_VALUE,
}
# Other accounts: two, so that every slot of the list is exercised beyond the first. The check
# runs again with none (TargetAccountIds empty): then nothing may be assumed.
TARGET_ACCOUNTS = ("444455556666", "777788889999")
# Every optional feature on, so that every role and every conditional grant is checked.
PARAMS = {
    "AllowedClusters": "prod-*,staging",
    "NotificationEmail": "ops@example.com",
    "FleetScheduleExpression": "rate(7 days)",
    "RollOnClusterUpgrade": "true",
    "TargetAccountIds": ",".join(TARGET_ACCOUNTS),
}
# target-account-role.yaml as a StackSet deploys it in the first target account: in another
# Region than the updater's stack (the role is global), for stacks in two Regions, trusting
# their roles (the three of one stack here, as template.yaml's TargetRoleTrustedArns gives).
TARGET_PSEUDO = PSEUDO | {"AWS::AccountId": TARGET_ACCOUNTS[0], "AWS::Region": "us-east-1", "AWS::StackName": "target"}
TARGET_REGIONS = (REGION, "us-west-2")
TRUSTED_ROLE_ARNS = tuple(
    f"arn:aws:iam::{ACCOUNT}:role/ngu-{role}-0123456789AB"
    for role in ("UpdaterFunctionRole", "PlannerFunctionRole", "UpdateNodegroupStateMachineRole")
)
TARGET_PARAMS = {
    "AllowedClusters": PARAMS["AllowedClusters"],
    "Regions": ",".join(TARGET_REGIONS),
    "TrustedRoleArns": ",".join(TRUSTED_ROLE_ARNS),
}
# The parameters both templates must bound alike: the clusters, and the role's name.
SHARED_PARAMETERS = {"AllowedClusters": ("AllowedPattern",), "TargetRoleName": ("Default", "AllowedPattern")}

BASIC_EXECUTION = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
# What a function's asynchronous-invocation destination of each type needs (SAM adds it).
DESTINATION_ACTIONS = {
    "SQS": "sqs:SendMessage",
    "SNS": "sns:Publish",
    "Lambda": "lambda:InvokeFunction",
    "EventBridge": "events:PutEvents",
}

# IAM prefix of each SDK crate / Step Functions SDK integration service name.
IAM_PREFIX = {"eks": "eks", "ssm": "ssm", "sfn": "states", "lambda": "lambda", "sqs": "sqs", "sts": "sts", "s3": "s3"}
# The call that gets another account's credentials: the code's (an adapter of the STS crate) and
# a state machine Task's Credentials.
ASSUME_ROLE, STS = "sts:AssumeRole", "sts"
# Where a function reads which other accounts it may act in, and as which role there
# (src/core/accounts.rs): what it may assume.
ACCOUNTS_VARIABLE, ROLE_VARIABLE = "ALLOWED_ACCOUNTS", "TARGET_ROLE_NAME"
SYNC_EVENTS_RULE = f"arn:aws:events:{REGION}:{ACCOUNT}:rule/StepFunctionsGetEventsForStepFunctionsExecutionRule"
# A distributed Map's ItemReader and ResultWriter -> the actions AWS documents for them ("IAM
# policies for using Distributed Map states"): ResultWriter writes in parts.
# A call whose answer the code reads in a way only another grant makes possible: S3 answers a
# GetObject of a missing key with 404 (NoSuchKey) only to a caller that may list the bucket,
# with 403 to anyone else; code that handles NoSuchKey needs s3:ListBucket (on the bucket).
IMPLIED = {("s3:GetObject", "NoSuchKey"): "s3:ListBucket"}
BUCKET_ACTIONS = {"s3:ListBucket"}
ITEM_READERS = {"s3:getObject": {"s3:GetObject"}, "s3:listObjectsV2": {"s3:ListBucket"}}
RESULT_WRITERS = {
    "s3:putObject": {"s3:PutObject", "s3:GetObject", "s3:ListMultipartUploadParts", "s3:AbortMultipartUpload"}
}


def eks_resource_types(arn: str) -> dict[str, set[str]]:
    """The resource types IAM authorises each EKS action on (Service Authorization Reference),
    as the ARNs of AllowedClusters=prod-*,staging under `arn` (arn:aws:eks:<region>:<account>);
    an EKS call missing here is reported, so a new call gets its resources decided, not guessed.
    ListClusters has no resource type: only "*" grants it."""
    clusters = {f"{arn}:cluster/prod-*", f"{arn}:cluster/staging"}
    nodegroups = {f"{arn}:nodegroup/prod-*/*/*", f"{arn}:nodegroup/staging/*/*"}
    return {
        "eks:ListClusters": {"*"},
        "eks:ListNodegroups": clusters,
        "eks:DescribeCluster": clusters,
        "eks:DescribeNodegroup": nodegroups,
        "eks:UpdateNodegroupVersion": nodegroups,
        "eks:ListUpdates": clusters | nodegroups,
        "eks:DescribeUpdate": clusters | nodegroups,
    }


def padding(arn: str) -> set[str]:
    """Unused slots: names no cluster can have (EKS names start with a letter or digit)."""
    return {f"{arn}:cluster/-unused{i}" for i in range(1, 10)} | {
        f"{arn}:nodegroup/-unused{i}/*/*" for i in range(1, 10)
    }


ARN = f"arn:aws:eks:{REGION}:{ACCOUNT}"
EKS_RESOURCE_TYPES = eks_resource_types(ARN)
PADDING = padding(ARN)
NO_RESOURCE_TYPE = {act for act, res in EKS_RESOURCE_TYPES.items() if res == {"*"}}
SSM_ARN = f"arn:aws:ssm:{REGION}::parameter"
# In a target account: the account's own clusters in every Region the role allows (the Region
# part is "*", held by aws:RequestedRegion); the public parameters likewise.
TARGET_ARN = f"arn:aws:eks:*:{TARGET_ACCOUNTS[0]}"
TARGET_SSM_ARN = "arn:aws:ssm:*::parameter"


# ------------------------------------------------------------ what the code calls


@dataclass
class CodeCalls:
    """The AWS actions one binary can call, and the SSM parameter paths it builds."""

    actions: set[str] = field(default_factory=set)
    where: dict[str, str] = field(default_factory=dict)  # action -> file:line
    ssm_paths: set[str] = field(default_factory=set)  # format strings, `{...}` = a variable part
    problems: list[str] = field(default_factory=list)
    missing: bool = False  # no main to derive from: the role's actions are not compared
    # What it calls in another account: the adapters its main's per-account factory builds.
    target_actions: set[str] = field(default_factory=set)


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
# What the module walk reads: comments and literals out of the way, then `use` trees, paths,
# child modules; a function's start, and the names a file calls (`.name(`, `::name`).
COMMENT_OR_LITERAL = re.compile(r"//[^\n]*|/\*.*?\*/|r(#*)\".*?\"\1|\"(?:\\.|[^\"\\])*\"|'(?:\\.|[^'\\\n])'", re.S)
USE = re.compile(r"\buse\s+([^;]+);")
USE_TOKEN = re.compile(r"::|[{},*]|[A-Za-z_]\w*")
PATH = re.compile(r"\b[A-Za-z_]\w*(?:\s*::\s*[A-Za-z_]\w*)+")
CHILD_MODULE = re.compile(r"\bmod\s+([a-z_]\w*)\s*;")
FUNCTION = re.compile(r"\bfn\s+([a-z_][a-z0-9_]*)")
CALLED = re.compile(r"(?:\.|::)\s*([a-z_][a-z0-9_]*)\b")


def _non_test(text: str) -> str:
    """The file without its `#[cfg(test)]` module (tests call mocks, not AWS): everything from
    the first `#[cfg(test)]` that is not a one-line declaration (`mod tests;`, `use ...;`)."""
    for m in CFG_TEST.finditer(text):
        if not CFG_TEST_DECLARATION.match(text, m.start()):
            return text[: m.start()]
    return text


def _code(text: str) -> str:
    """The file's code without tests, comments and literals (a literal becomes `""`)."""
    return COMMENT_OR_LITERAL.sub(lambda m: " " if m.group(0)[0] == "/" else '""', _non_test(text))


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
    return _sdk_operations(frozenset(crates))


@functools.cache
def _sdk_operations(crates: frozenset[str]) -> dict[str, dict[str, str]] | None:
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


def binary_main(name: str, cargo_toml: Path = ROOT / "Cargo.toml") -> str:
    """The main file of a binary target, relative to src/: a `[[bin]]` path, the package's own
    src/main.rs, else src/bin/<name>.rs or src/bin/<name>/main.rs (as cargo finds them)."""
    manifest = tomllib.loads(cargo_toml.read_text())
    src = cargo_toml.parent / "src"
    for target in manifest.get("bin", []):
        if target.get("name") == name and "path" in target:
            return str(Path(target["path"]).relative_to("src"))
    if name == manifest["package"]["name"] and (src / "main.rs").is_file():
        return "main.rs"
    if (src / "bin" / name / "main.rs").is_file():
        return f"bin/{name}/main.rs"
    return f"bin/{name}.rs"


# -------------------------------------------------- which files a binary reaches


def _use_tree(tokens: list[str], pos: int, prefix: tuple[str, ...], out: list[tuple[tuple[str, ...], str]]) -> int:
    """One `use` tree from tokens[pos]: (path, the name it binds, "*" for a glob) into `out`."""
    segs = list(prefix)
    while pos < len(tokens):
        tok = tokens[pos]
        if tok == "{":
            pos += 1
            while pos < len(tokens) and tokens[pos] != "}":
                pos = _use_tree(tokens, pos, tuple(segs), out)
                if pos < len(tokens) and tokens[pos] == ",":
                    pos += 1
            return pos + 1
        if tok == "*":
            out.append((tuple(segs), "*"))
            return pos + 1
        segs.append(tok)
        pos += 1
        if pos < len(tokens) and tokens[pos] == "::":
            pos += 1
            continue
        name = segs[-1]
        if pos + 1 < len(tokens) and tokens[pos] == "as":
            name = tokens[pos + 1]
            pos += 2
        if segs[-1] == "self":  # `use a::b::{self}` binds b
            segs.pop()
            name = segs[-1] if name == "self" and segs else name
        out.append((tuple(segs), name))
        return pos
    return pos


@dataclass
class _Parsed:
    code: str
    uses: list[tuple[tuple[str, ...], str]]
    aliases: dict[str, tuple[str, ...]]
    children: set[str]
    paths: list[tuple[str, ...]]


@dataclass(frozen=True)
class _Crate:
    root: Path  # lib.rs, or a binary's main
    module_dir: Path  # where the files of its modules are

    def file(self, module: tuple[str, ...]) -> Path | None:
        if not module:
            return self.root
        base = self.module_dir.joinpath(*module)
        for candidate in (base.parent / f"{base.name}.rs", base / "mod.rs"):
            if candidate.is_file():
                return candidate
        return None


def reached_files(src: Path, binary: Path, lib_name: str) -> set[Path]:
    """The source files a binary's `main` can reach: its `use`s and paths, through the modules
    they name and the items re-exported on the way (the library's root, lib.rs, only re-exports:
    it is followed for the items named, not as a whole). Over-approximates: a file is reached as a
    whole, whatever of it is used."""
    lib = _Crate(src / "lib.rs", src)
    own = _Crate(binary, binary.parent if binary.name == "main.rs" else binary.with_suffix(""))
    cache: dict[Path, _Parsed] = {}

    def parse(path: Path) -> _Parsed:
        if path not in cache:
            code = _code(path.read_text())
            uses: list[tuple[tuple[str, ...], str]] = []
            for m in USE.finditer(code):
                tokens = USE_TOKEN.findall(m.group(1))
                _use_tree(tokens[1:] if tokens[:1] == ["::"] else tokens, 0, (), uses)
            aliases = {name: segs for segs, name in uses if name != "*" and segs}
            paths = [tuple(re.split(r"\s*::\s*", m.group(0))) for m in PATH.finditer(code)]
            cache[path] = _Parsed(code, uses, aliases, set(CHILD_MODULE.findall(code)), paths)
        return cache[path]

    seen: set[tuple[_Crate, tuple[str, ...]]] = set()
    todo: list[tuple[_Crate, tuple[str, ...]]] = []

    def locate(crate: _Crate, segs: tuple[str, ...], depth: int) -> None:
        for k in range(len(segs), -1, -1):
            path = crate.file(segs[:k])
            if path is not None:
                break
        module, rest = segs[:k], segs[k:]
        parsed = parse(path)
        if not (crate == lib and not module) and (crate, module) not in seen:
            seen.add((crate, module))
            todo.append((crate, module))
        if rest and rest[0] in parsed.aliases:  # a re-export, or a name imported there
            resolve(crate, module, parsed.aliases[rest[0]] + rest[1:], depth + 1)

    def resolve(crate: _Crate, module: tuple[str, ...], segs: tuple[str, ...], depth: int = 0) -> None:
        path = crate.file(module)
        if depth > 20 or not segs or path is None:
            return
        parsed = parse(path)
        first = segs[0]
        if first == "crate":
            locate(crate, segs[1:], depth)
        elif first == lib_name:
            locate(lib, segs[1:], depth)
        elif first == "self":
            locate(crate, module + segs[1:], depth)
        elif first == "super":
            n = next((i for i, s in enumerate(segs) if s != "super"), len(segs))
            locate(crate, module[: max(len(module) - n, 0)] + segs[n:], depth)
        elif first in parsed.aliases and parsed.aliases[first][0] != first:
            resolve(crate, module, parsed.aliases[first] + segs[1:], depth + 1)
        elif first in parsed.children:
            locate(crate, module + segs, depth)
        # else: another crate (std, the SDK) or an item of this file

    seen.add((own, ()))
    todo.append((own, ()))
    while todo:
        crate, module = todo.pop()
        parsed = parse(crate.file(module))
        for segs, _name in parsed.uses:
            resolve(crate, module, segs)
        for segs in parsed.paths:
            resolve(crate, module, segs)
    return {path for crate, module in seen if (path := crate.file(module)) is not None}


def _blank(text: str) -> str:
    """The text with comments and literals blanked out, every position kept."""
    return COMMENT_OR_LITERAL.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)


def _reached_functions(text: str, called: set[str]) -> tuple[list[tuple[str, int]], set[int]]:
    """An adapter file's functions (name, start) and those reached: called by name from the
    binary's other files, or named by a reached function of the file (`self.name(`,
    `Self::name`, `name(`, not a module path's `::name::`). Each function spans to the next."""
    code = _blank(text)
    fns = [(m.group(1), m.start()) for m in FUNCTION.finditer(code)]
    bounds = [start for _, start in fns] + [len(code)]
    reached = {i for i, (name, _) in enumerate(fns) if name in called}
    todo = list(reached)
    while todo:
        i = todo.pop()
        body = code[bounds[i] : bounds[i + 1]]
        for j, (name, _) in enumerate(fns):
            if j not in reached and re.search(rf"(?:(?<!::)|(?<=Self::))\b{name}\b(?!\s*::)", body):
                reached.add(j)
                todo.append(j)
    return fns, reached


def _call_arguments(code: str, open_paren: int) -> str:
    """The text between a call's parentheses (`open_paren` is the index of its `(`), nested
    brackets balanced; literals are blanked in `code`, so none of theirs counts."""
    depth = 0
    for i in range(open_paren, len(code)):
        if code[i] in "([{":
            depth += 1
        elif code[i] in ")]}":
            depth -= 1
            if depth == 0:
                return code[open_paren + 1 : i]
    return code[open_paren + 1 :]


def code_calls(
    src: Path = ROOT / "src",
    cargo_toml: Path = ROOT / "Cargo.toml",
    operations: dict[str, dict[str, str]] | None | bool = True,
    binary: str = "main.rs",
) -> CodeCalls:
    """Scan the sources for what one binary (`binary`, its main relative to `src`) can call:
    the SDK calls of the adapters its `main` builds, reached from the methods its files call.
    `main` is wiring only, so the adapters it builds are the AWS code the function has, with the
    adapters those adapters' files build in turn (Accounts builds Sts); an adapter built by no
    binary (one waiting for its function) calls nothing, nor does a method of it that no reached
    file calls. The adapters built in the closure main hands to the adapter that assumes roles
    (`Accounts::new(config, |sdk| ...)`: its per-account factory) are those that also act in
    other accounts, with the target role's credentials: their calls are `target_actions`.
    `operations=True` reads the SDK's operation names via cargo; `None` (cargo could not say)
    takes every `.client.<method>()` for an operation."""
    out = CodeCalls()
    main = src / binary
    deps = set(re.findall(r"^aws-sdk-([a-z0-9]+)\s*=", cargo_toml.read_text(), re.M))
    if operations is True:
        operations = sdk_operations(deps)
    lib_name = tomllib.loads(cargo_toml.read_text()).get("lib", {}).get("name") or tomllib.loads(
        cargo_toml.read_text()
    )["package"]["name"].replace("-", "_")
    main_code = ""
    if not main.is_file():
        out.problems.append(
            f"src/{binary} does not exist: no main to derive the binary's calls from (a [[bin]] path in "
            "Cargo.toml, src/bin/<name>.rs or src/bin/<name>/main.rs)"
        )
        out.missing = True
        reached: set[Path] = set()
    else:
        reached = reached_files(src, main, lib_name)
        main_code = _code(main.read_text())
    test_files = _test_module_files(src)
    sources = {path: _non_test(path.read_text()) for path in sorted(src.rglob("*.rs")) if path not in test_files}
    adapters = {path for path, text in sources.items() if CLIENT_CALL.search(text)}
    # The files that touch an SDK (the aws/ layer): the adapters, and those that build them.
    sdk_files = {path for path, text in sources.items() if path in adapters or ANY_SDK.search(_code(text))}
    defined = {name: path for path, text in sources.items() for name in ADAPTER_TYPE.findall(text)}

    def with_built_by_adapters(types: set[str]) -> set[str]:
        """`types` and what the SDK-touching files defining them build, transitively."""
        found, todo = set(types), list(types)
        while todo:
            path = defined.get(todo.pop())
            if path in sdk_files:
                for name in set(BUILT.findall(_code(sources[path]))) - found:
                    found.add(name)
                    todo.append(name)
        return found

    built = with_built_by_adapters(set(BUILT.findall(main_code)))
    # The adapter that assumes roles: a type main builds whose file builds an STS adapter.
    sts_adapters = {
        name for name, path in defined.items() if path in adapters and set(USES_CLIENT.findall(sources[path])) == {STS}
    }
    assumers = {name for name in set(BUILT.findall(main_code)) if with_built_by_adapters({name}) & sts_adapters}
    per_account: set[str] = set()
    for m in BUILT.finditer(main_code):
        if m.group(1) not in assumers:
            continue
        arguments = _call_arguments(main_code, m.end() - 1)
        closure = re.search(r"\|[^|]*\|", arguments)
        if closure is None:
            out.problems.append(
                f"src/{binary}: {m.group(1)}::new( is given no closure building each account's adapters: "
                "which calls are made in other accounts cannot be told"
            )
            continue
        per_account |= with_built_by_adapters(set(BUILT.findall(arguments[closure.start() :])))
    called: set[str] = set()
    for path in reached - adapters:
        called |= set(CALLED.findall(_code(path.read_text())))
    crates_with_calls: set[str] = set()
    for path, text in sources.items():
        rel = path.relative_to(src.parent)
        clients = set(USES_CLIENT.findall(text))
        calls = [(m.group(1), m.start()) for m in CLIENT_CALL.finditer(text)]
        if calls and len(clients) != 1:
            out.problems.append(
                f"{rel}: SDK calls, but the file uses {len(clients)} SDK clients "
                f"({sorted(clients)}); keep one client per adapter so calls can be attributed"
            )
            continue
        for crate in set(ANY_SDK.findall(text)) - deps:
            out.problems.append(f"{rel}: uses aws_sdk_{crate}, which Cargo.toml does not depend on")
        if path in reached:
            out.ssm_paths |= set(PUBLIC_PARAMETER.findall(text))
        if not calls:
            continue
        (crate,) = clients
        crates_with_calls.add(crate)
        types = set(ADAPTER_TYPE.findall(text))
        if not built & types:
            continue  # an adapter this binary does not build
        fns, reached_fns = _reached_functions(text, called)
        actions: set[str] = set()
        for method, pos in calls:
            enclosing = max((i for i, (_, start) in enumerate(fns) if start <= pos), default=None)
            if enclosing is not None and enclosing not in reached_fns:
                continue  # a method this binary never calls
            known = None if operations is None else operations.get(crate, {})
            if known is not None and method not in known:
                continue  # e.g. `.client.config()`: not an API call
            op = known[method] if known is not None else pascal(method)
            action = f"{IAM_PREFIX.get(crate, crate)}:{op}"
            actions.add(action)
            out.where.setdefault(action, f"{rel}:{text.count(chr(10), 0, pos) + 1}")
            for (call, handled), implied in IMPLIED.items():
                if action == call and re.search(rf"\b{handled}\b", _blank(text)):
                    actions.add(implied)
                    out.where.setdefault(implied, f"{rel}: {handled} is handled")
        out.actions |= actions
        if per_account & types:
            out.target_actions |= actions
    for crate in sorted(deps - crates_with_calls):
        out.problems.append(
            f"Cargo.toml depends on aws-sdk-{crate} but no `.client.<operation>()` call of it was "
            "found in src/: calls this check cannot see would go unchecked"
        )
    out.problems += session_policy_problems(main_code, sources, out.target_actions, binary)
    return out


# `.with_session_policy(planner::SESSION_POLICY)`: the policy AssumeRole's credentials carry.
SESSION_POLICY_USE = re.compile(r"\.with_session_policy\(\s*(?:[\w:]*::)?(\w+)\s*\)")


def session_policy_problems(main_code: str, sources: dict[Path, str], there: set[str], binary: str) -> list[str]:
    """A session policy main gives the role-assuming adapter must allow exactly the calls the
    binary makes in other accounts: less would fail at run time, more would undo its point (the
    target role serves several principals, each narrowed to its own calls)."""
    problems = []
    for name in SESSION_POLICY_USE.findall(main_code):
        definition = re.compile(rf'\bconst {name}: &str = r#"(.*?)"#;', re.S)
        texts = [m.group(1) for text in sources.values() for m in definition.finditer(text)]
        if len(texts) != 1:
            problems.append(f"src/{binary}: session policy {name}: {len(texts)} definitions found, expected one")
            continue
        try:
            document = json.loads(texts[0])
        except json.JSONDecodeError as e:
            problems.append(f"src/{binary}: session policy {name} is not JSON: {e}")
            continue
        allowed: set[str] = set()
        for statement in document.get("Statement", []):
            actions = statement.get("Action", [])
            actions = [actions] if isinstance(actions, str) else actions
            if statement.get("Effect") != "Allow" or statement.get("Resource") != "*" or "NotAction" in statement:
                problems.append(f"src/{binary}: session policy {name}: only Allow statements on Resource * are read")
            allowed |= set(actions)
        if allowed != there:
            problems.append(
                f"src/{binary}: session policy {name} allows {sorted(allowed)}, but the binary calls "
                f"{sorted(there)} in other accounts"
            )
    return problems


def functions_of(template: dict[str, Any]) -> dict[str, str]:
    """{function logical id: its binary's name} for every Lambda function of the template."""
    out = {}
    for logical_id, res in template["Resources"].items():
        if res.get("Type") == "AWS::Serverless::Function":
            out[logical_id] = (res.get("Metadata") or {}).get("BuildProperties", {}).get("Binary", "")
    return out


def all_code_calls(
    template: dict[str, Any], src: Path = ROOT / "src", cargo_toml: Path = ROOT / "Cargo.toml"
) -> dict[str, CodeCalls]:
    """{function logical id: what its binary calls}, with one `cargo metadata` for all."""
    deps = set(re.findall(r"^aws-sdk-([a-z0-9]+)\s*=", cargo_toml.read_text(), re.M))
    operations = sdk_operations(deps)
    out = {}
    for logical_id, binary in functions_of(template).items():
        if not binary:
            out[logical_id] = CodeCalls(
                problems=[f"{logical_id}: no Metadata.BuildProperties.Binary: which binary is it?"], missing=True
            )
            continue
        calls = code_calls(src, cargo_toml, operations, binary_main(binary, cargo_toml))
        if calls.missing:
            calls.problems[0] = f"its Binary {binary}: {calls.problems[0]}"
        out[logical_id] = calls
    return out


# -------------------------------------------------------------- the template


class _NoManagedPolicies:
    def load(self) -> dict[str, str]:
        return {}


def values_of(template: dict[str, Any], params: dict[str, Any], pseudo: dict[str, Any] = PSEUDO) -> dict[str, Any]:
    """Every name a Ref may meet: the template's parameters (`params` over their defaults) and
    the pseudo parameters."""
    return {k: v.get("Default") for k, v in template.get("Parameters", {}).items()} | params | pseudo


def evaluate(value: Any, template: dict[str, Any], values: dict[str, Any]) -> Any:
    """Enough of CloudFormation's intrinsic functions for IAM resources (names of resources stay,
    as <LogicalId> and <LogicalId.Attribute>; a CommaDelimitedList's Ref is its list; conditions
    are evaluated with `values` (values_of()); AWS::NoValue leaves nothing in a list or mapping)."""
    if isinstance(value, list):
        return [x for x in (evaluate(v, template, values) for v in value) if x is not NO_VALUE]
    if not isinstance(value, dict):
        return value
    if len(value) != 1:
        return {k: x for k, x in ((k, evaluate(v, template, values)) for k, v in value.items()) if x is not NO_VALUE}
    ((fn, arg),) = value.items()
    if fn == "Ref":
        if arg not in values:
            return f"<{arg}>"
        declared = template.get("Parameters", {}).get(arg, {})
        if declared.get("Type") == "CommaDelimitedList" and isinstance(values[arg], str):
            return [member.strip() for member in values[arg].split(",")]
        return values[arg]
    if fn == "Fn::GetAtt":
        res, attr = arg if isinstance(arg, list) else arg.split(".", 1)
        return f"<{res}.{attr}>"
    if fn == "Fn::Sub":
        text, local = (arg, {}) if isinstance(arg, str) else (arg[0], evaluate(arg[1], template, values))

        def repl(m: re.Match[str]) -> str:
            name = m.group(1)
            if name in local:
                return str(local[name])
            if "." in name:
                return f"<{name}>"
            return str(evaluate({"Ref": name}, template, values))

        return re.sub(r"\$\{([^}!][^}]*)\}", repl, text)
    if fn == "Fn::Split":
        return evaluate(arg[1], template, values).split(arg[0])
    if fn == "Fn::Join":
        return arg[0].join(evaluate(arg[1], template, values))
    if fn == "Fn::Select":
        return evaluate(arg[1], template, values)[int(arg[0])]
    if fn == "Fn::If":
        name, if_true, if_false = arg
        holds = samtemplate.condition_holds(name, template, values)
        return evaluate(if_true if holds else if_false, template, values)
    return {fn: evaluate(arg, template, values)}


def statements_of(name: str, role: dict[str, Any], template: dict[str, Any], values: dict[str, Any]) -> list[dict]:
    """A role's statements, evaluated: its own policies' and those of every AWS::IAM::Policy of
    the template attached to it (Roles: [!Ref <role>]) whose Condition holds; a conditional
    statement (Fn::If) as its condition decides."""
    documents = [policy["PolicyDocument"] for policy in role["Properties"].get("Policies", [])]
    for res in template["Resources"].values():
        if res.get("Type") != "AWS::IAM::Policy" or {"Ref": name} not in res["Properties"].get("Roles", []):
            continue
        condition = res.get("Condition")
        if condition is None or samtemplate.condition_holds(condition, template, values):
            documents.append(res["Properties"]["PolicyDocument"])
    out = []
    for document in documents:
        stmts = evaluate(document["Statement"], template, values)
        out.extend(stmts if isinstance(stmts, list) else [stmts])
    return out


def generated_roles(template: dict[str, Any], params: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(SAM's output, its IAM roles), for the test parameters (each template and parameters
    transformed once: the self-test checks many mutations of one of them)."""
    key = json.dumps([template, params], sort_keys=True, default=str)
    if key not in _TRANSFORMED:
        _TRANSFORMED[key] = _generated_roles(template, params)
    return copy.deepcopy(_TRANSFORMED[key])


_TRANSFORMED: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}


def _generated_roles(template: dict[str, Any], params: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    template = copy.deepcopy(template)
    for res in template["Resources"].values():  # local paths, as `sam package` would upload them
        for key in ("CodeUri", "DefinitionUri"):
            if isinstance(res.get("Properties", {}).get(key), str):
                res["Properties"][key] = f"s3://bucket/{key}"
    parameters = {k: v for k, v in (PSEUDO | params).items() if isinstance(v, str)}
    output = transform(template, parameters, _NoManagedPolicies())
    roles = {k: v for k, v in output["Resources"].items() if v["Type"] == "AWS::IAM::Role"}
    return output, roles


# ------------------------------------------- what each role's principal needs

# {role: {action: the resources it needs, or None where this check does not derive them}}
Needs = dict[str, dict[str, set[str] | None]]


def _need(needs: dict[str, set[str] | None], actions: set[str], resources: set[str] | None) -> None:
    for act in actions:
        if resources is None or needs.get(act, set()) is None:
            needs[act] = None
        else:
            needs[act] = needs.get(act, set()) | resources  # type: ignore[operator]


def bucket_objects(template: dict[str, Any], bucket: str) -> set[str]:
    """The object ARNs of a bucket of the template that code and Maps may touch: those its
    lifecycle rule expires (a rule with a Prefix), as <Bucket.Arn>/<prefix>*."""
    rules = template["Resources"][bucket]["Properties"].get("LifecycleConfiguration", {}).get("Rules", [])
    prefixes = {rule["Prefix"] for rule in rules if rule.get("Prefix")}
    return {f"<{bucket}.Arn>/{prefix}*" for prefix in prefixes} or {f"<{bucket}.Arn>/*"}


def _logical(placeholder: Any) -> str | None:
    """The logical id in an evaluated "<LogicalId>" or "<LogicalId.Attr>"."""
    m = re.fullmatch(r"<(\w+)(?:\.\w+)?>", str(placeholder))
    return m.group(1) if m else None


def role_arns(partition: str, accounts: Any, name: Any) -> set[str]:
    """The role `name` in each of the comma-separated `accounts` (None or empty: none)."""
    listed = [a.strip() for a in str(accounts or "").split(",") if a.strip()]
    return {f"arn:{partition}:iam::{account}:role/{name}" for account in listed}


def target_role_arns(values: dict[str, Any]) -> set[str]:
    """The role TargetRoleName in each of TargetAccountIds: what may be assumed, and only that."""
    return role_arns(values["AWS::Partition"], values.get("TargetAccountIds"), values["TargetRoleName"])


# A Task's Credentials naming the target role of the account a state's input names.
CREDENTIALS_FORMAT = re.compile(r"States\.Format\('arn:([\w-]+):iam::\{\}:role/([^'{}]+)',\s*\$[\w.]*\)")
# What makes two Tasks the same call: a Credentials Task and its twin in this account.
SAME_CALL = (
    "Type",
    "Resource",
    "Parameters",
    "ResultSelector",
    "ResultPath",
    "OutputPath",
    "InputPath",
    "Retry",
    "Catch",
)


def credentials_roles(credentials: dict[str, Any], values: dict[str, Any]) -> set[str] | None:
    """The roles a Task's Credentials may name: its RoleArn, or for `RoleArn.$` formatting the
    target role's ARN with an account from the input, the target role in every listed account
    (the function refuses any other account before the state machine polls there). None: a form
    this check does not know."""
    if isinstance(credentials.get("RoleArn"), str):
        return {credentials["RoleArn"]}
    m = CREDENTIALS_FORMAT.fullmatch(str(credentials.get("RoleArn.$", "")))
    if m and m.group(1) == values["AWS::Partition"] and m.group(2) == values.get("TargetRoleName"):
        return target_role_arns(values)
    return None


def definition_needs(
    definition: dict[str, Any], own_name: str | None, template: dict[str, Any], values: dict[str, Any]
) -> tuple[dict, dict]:
    """What a state machine's integrations need (its nested states included), and on what: (its
    role's needs, the needs of the role its Tasks' Credentials assume in other accounts). A Task
    with Credentials needs sts:AssumeRole of its role; its call is the assumed role's."""
    needs: dict[str, set[str] | None] = {}
    assumed: dict[str, set[str] | None] = {}
    topics = {f"<{k}>" for k, r in template["Resources"].items() if r.get("Type") == "AWS::SNS::Topic"}
    states_arn = f"arn:aws:states:{REGION}:{ACCOUNT}"

    def objects(params: dict[str, Any]) -> set[str] | None:
        bucket = _logical(params.get("Bucket"))
        if bucket is None or bucket not in template["Resources"]:
            return None
        return bucket_objects(template, bucket)

    def walk(states: dict[str, Any]) -> None:
        for state in states.values():
            resource = state.get("Resource")
            params = state.get("Parameters") or {}
            into = needs
            if "Credentials" in state:
                roles = credentials_roles(state["Credentials"], values)
                if roles is None:
                    _need(needs, {f"<unknown Credentials {state['Credentials']}>"}, None)
                elif roles:
                    _need(needs, {ASSUME_ROLE}, roles)
                into = assumed
            if isinstance(resource, str) and ":states:::" in resource:
                integration = resource.split(":states:::", 1)[1]
                if integration.startswith("aws-sdk:"):
                    _, service, action = integration.split(":", 2)
                    action = action.split(".", 1)[0]
                    _need(into, {f"{IAM_PREFIX.get(service, service)}:{action[0].upper()}{action[1:]}"}, None)
                elif integration == "lambda:invoke":
                    function = params.get("FunctionName")
                    _need(into, {"lambda:InvokeFunction"}, {function} if function else None)
                elif integration in ("states:startExecution.sync:2", "states:startExecution.sync"):
                    machine = params.get("StateMachineArn")
                    logical = _logical(machine)
                    executions = {f"{states_arn}:execution:<{logical}.Name>:*"} if logical else None
                    _need(into, {"states:StartExecution"}, {machine} if machine else None)
                    _need(into, {"states:DescribeExecution", "states:StopExecution"}, executions)
                    _need(into, {"events:PutTargets", "events:PutRule", "events:DescribeRule"}, {SYNC_EVENTS_RULE})
                elif integration == "sns:publish":
                    topic = params.get("TopicArn")
                    _need(into, {"sns:Publish"}, {topic} if topic else topics)
                else:
                    _need(into, {f"<unknown integration {integration}>"}, None)
            processor = state.get("ItemProcessor") or state.get("Iterator")
            if processor:
                if (processor.get("ProcessorConfig") or {}).get("Mode") == "DISTRIBUTED":
                    own = {f"{states_arn}:stateMachine:{own_name}"} if own_name else None
                    children = {f"{states_arn}:execution:{own_name}/*"} if own_name else None
                    _need(needs, {"states:StartExecution"}, own)
                    _need(needs, {"states:DescribeExecution", "states:StopExecution"}, children)
                    _need(needs, {"states:RedriveExecution"}, children)
                for key, known in (("ItemReader", ITEM_READERS), ("ResultWriter", RESULT_WRITERS)):
                    part = state.get(key)
                    if part and "Resource" in part:
                        integration = part["Resource"].split(":states:::", 1)[-1]
                        if integration not in known:
                            _need(needs, {f"<unknown {key} {integration}>"}, None)
                            continue
                        _need(needs, known[integration], objects(part.get("Parameters") or {}))
                walk(processor["States"])
            for branch in state.get("Branches", []):
                walk(branch["States"])

    walk(definition["States"])
    return needs, assumed


def credentials_twins(logical_id: str, definition: dict[str, Any]) -> list[str]:
    """Each Task with Credentials (a call in another account) has a twin without them (the same
    call in this account): the same Resource, Parameters, result handling, Retry and Catch, so an
    update is polled alike wherever its node group is."""
    problems = []

    def walk(states: dict[str, Any]) -> None:
        for name, state in states.items():
            if state.get("Type") == "Task" and "Credentials" in state:
                call = {key: state.get(key) for key in SAME_CALL}
                twins = [
                    other
                    for other in states.values()
                    if "Credentials" not in other and {key: other.get(key) for key in SAME_CALL} == call
                ]
                if not twins:
                    problems.append(
                        f"{logical_id}: {name} calls as the target role in another account, but no Task makes the "
                        f"same call in this account ({', '.join(SAME_CALL[1:])} alike, without Credentials)"
                    )
            processor = state.get("ItemProcessor") or state.get("Iterator")
            if processor:
                walk(processor["States"])
            for branch in state.get("Branches", []):
                walk(branch["States"])

    walk(definition["States"])
    return problems


def state_machine_needs(template: dict[str, Any], values: dict[str, Any]) -> tuple[Needs, Needs, list[str]]:
    """({role logical id: needs}, {role: the needs of the role it assumes}, problems) for every
    state machine of the template, its definition rendered with the substitutions evaluated as
    the roles' resources are."""
    out, assumed, problems = {}, {}, []
    for logical_id, sm in samtemplate.state_machines(template).items():
        substitutions = {k: evaluate(v, template, values) for k, v in sm.substitutions.items()}
        definition = json.loads(sm.render(substitutions))
        name = template["Resources"][logical_id]["Properties"].get("Name")
        own_name = evaluate(name, template, values) if name else None
        role = f"{logical_id}Role"
        out[role], assumed[role] = definition_needs(definition, own_name, template, values)
        problems += credentials_twins(logical_id, definition)
    return out, assumed, problems


def function_needs(template: dict[str, Any], code: dict[str, CodeCalls], values: dict[str, Any]) -> Needs:
    """{role: needs} of every function: its code's calls, S3 on the buckets its environment
    names, sts:AssumeRole on the role its environment names in each account its environment
    allows (ALLOWED_ACCOUNTS unset: none, the function acts in its own account only), plus its
    asynchronous-invocation destinations."""
    out: Needs = {}
    for logical_id in functions_of(template):
        props = template["Resources"][logical_id]["Properties"]
        needs: dict[str, set[str] | None] = {}
        variables = props.get("Environment", {}).get("Variables", {})
        env = evaluate(variables, template, values)
        buckets = {
            v["Ref"]
            for v in variables.values()
            if isinstance(v, dict) and template["Resources"].get(v.get("Ref", ""), {}).get("Type") == "AWS::S3::Bucket"
        }
        objects = set().union(*(bucket_objects(template, b) for b in buckets)) if buckets else None
        arns = {f"<{b}.Arn>" for b in buckets} or None
        for act in code[logical_id].actions:
            if act == ASSUME_ROLE:
                allowed, name = env.get(ACCOUNTS_VARIABLE), env.get(ROLE_VARIABLE, f"<{ROLE_VARIABLE} unset>")
                if roles := role_arns(values["AWS::Partition"], allowed, name):
                    _need(needs, {act}, roles)
                continue
            _need(needs, {act}, (arns if act in BUCKET_ACTIONS else objects) if act.startswith("s3:") else None)
        destinations = (props.get("EventInvokeConfig") or {}).get("DestinationConfig", {})
        for destination in destinations.values():
            _need(
                needs,
                {DESTINATION_ACTIONS[destination["Type"]]},
                {evaluate(destination["Destination"], template, values)},
            )
        out[f"{logical_id}Role"] = needs
    return out


def start_needs(template: dict[str, Any], values: dict[str, Any]) -> tuple[Needs, list[str]]:
    """{role: needs} of the schedules' and rules' roles: starting their target, and a schedule's
    dead-letter queue (a rule's goes through the queue's policy, not its role)."""
    out: Needs = {}
    problems = []
    for logical_id, res in template["Resources"].items():
        kind = res.get("Type")
        if kind == "AWS::Scheduler::Schedule":
            targets = [res["Properties"]["Target"]]
        elif kind == "AWS::Events::Rule":
            targets = res["Properties"].get("Targets", [])
        else:
            continue
        for target in targets:
            role = _logical(evaluate(target.get("RoleArn"), template, values))
            if role is None:
                continue
            needs = out.setdefault(role, {})
            arn = evaluate(target["Arn"], template, values)
            target_type = template["Resources"].get(_logical(arn) or "", {}).get("Type", "")
            if target_type.endswith("StateMachine"):
                _need(needs, {"states:StartExecution"}, {arn})
            else:
                problems.append(f"{logical_id}: a target of type {target_type or arn!r} this check does not know")
            if kind == "AWS::Scheduler::Schedule" and "DeadLetterConfig" in target:
                _need(needs, {"sqs:SendMessage"}, {evaluate(target["DeadLetterConfig"]["Arn"], template, values)})
    return out, problems


def _ssm_covers(granted: str, path: str, ssm_arn: str = SSM_ARN) -> bool:
    """Whether an SSM parameter ARN pattern covers a parameter path (its `{...}` parts vary)."""
    sample = re.sub(r"\{[^}]*\}", "x", path)
    return fnmatch.fnmatchcase(f"{ssm_arn}{sample}", granted)


@dataclass
class Grants:
    """What a role's statements allow: actions, and each action's resources."""

    actions: set[str] = field(default_factory=set)
    resources_of: dict[str, set[str]] = field(default_factory=dict)


def scan(name: str, stmts: list[dict[str, Any]], regions: set[str] | None, everywhere: bool) -> tuple[Grants, list]:
    """A role's grants and the problems of their form: only Allow, no NotAction or NotResource,
    no wildcard action, no resource twice, Resource "*" only for an action IAM authorises on no
    resource type, held to `regions` by aws:RequestedRegion (`everywhere`: every statement is)."""
    grants, problems = Grants(), []
    for stmt in stmts:
        if stmt.get("Effect") != "Allow":
            problems.append(f"{name}: a statement that is not Allow: {stmt}")
        for key in ("NotAction", "NotResource"):
            if key in stmt:
                problems.append(f"{name}: {key} is used")
        acts = stmt["Action"] if isinstance(stmt["Action"], list) else [stmt["Action"]]
        for act in acts:
            if "*" in act or "?" in act:
                problems.append(f"{name}: wildcard action {act!r}")
            grants.actions.add(act)
        resources = stmt["Resource"] if isinstance(stmt["Resource"], list) else [stmt["Resource"]]
        if len(resources) != len(set(resources)):
            problems.append(f"{name}: a statement lists a resource twice: {acts}")
        if "*" in resources and not set(acts) <= NO_RESOURCE_TYPE:
            problems.append(f"{name}: Resource '*' for {acts}")
        if "*" in resources or everywhere:
            region = (stmt.get("Condition") or {}).get("StringEquals", {}).get("aws:RequestedRegion")
            held = {region} if isinstance(region, str) else set(region or [])
            if held != regions:
                problems.append(
                    f"{name}: {acts} on {'*' if '*' in resources else 'its resources'} without aws:RequestedRegion = "
                    f"{sorted(regions or [])} (the Regions it acts in): {sorted(held)}"
                )
        for act in acts:
            grants.resources_of.setdefault(act, set()).update(resources)
    return grants, problems


def check_resources(
    name: str,
    grants: Grants,
    wanted: dict[str, set[str] | None],
    eks: tuple[dict[str, set[str]], set[str]],
    ssm: tuple[str, set[str]] | None,
) -> list[str]:
    """Each granted action's resources: EKS by the resource types IAM authorises it on (`eks`:
    those ARNs and the padding slots), SSM on the public parameters the code reads (`ssm`: the
    ARN prefix and the code's paths; None: not derived), the rest as `wanted` has them."""
    problems = []
    types, pad = eks
    for act, resources in sorted(grants.resources_of.items()):
        if act.startswith("eks:"):
            if act not in types:
                problems.append(
                    f"{name}: {act} has no entry in eks_resource_types(): decide on which "
                    "resource types IAM authorises it and add it"
                )
                continue
            got = resources - pad
            if got != types[act]:
                problems.append(f"{name}: {act} on {sorted(got)}, expected {sorted(types[act])}")
        elif act == "ssm:GetParameter" and ssm is not None:
            prefix, paths = ssm
            for path in sorted(paths):
                if not any(_ssm_covers(r, path, prefix) for r in resources):
                    problems.append(f"{name}: ssm:GetParameter not granted on {path}, which the code reads")
            for granted in sorted(resources):
                if not granted.startswith(prefix + "/aws/service/"):
                    problems.append(
                        f"{name}: ssm:GetParameter on {granted}, outside the public /aws/service/ parameters"
                    )
                elif not any(_ssm_covers(granted, p, prefix) for p in paths):
                    problems.append(f"{name}: ssm:GetParameter on {granted}, which no parameter of the code needs")
        elif wanted.get(act) is not None and resources != wanted[act]:
            problems.append(f"{name}: {act} on {sorted(resources)}, expected {sorted(wanted[act])}")
    return problems


def check(
    template: dict[str, Any],
    code: dict[str, CodeCalls],
    params: dict[str, Any] = PARAMS,
    target_template: dict[str, Any] | None = None,
) -> list[str]:
    """Every difference between what is called and what template.yaml grants for `params` (and,
    given target_template, what target-account-role.yaml grants in another account)."""
    values = values_of(template, params)
    problems = [f"{logical_id}: {p}" for logical_id, calls in code.items() for p in calls.problems]
    functions = {f"{logical_id}Role": logical_id for logical_id in functions_of(template)}
    starts, start_problems = start_needs(template, values)
    machines, assumed, machine_problems = state_machine_needs(template, values)
    problems += start_problems + machine_problems
    expected: Needs = function_needs(template, code, values) | machines | starts
    output, roles = generated_roles(template, params)

    if set(roles) != set(expected):
        problems.append(f"roles: {sorted(roles)}, expected {sorted(expected)}")
    for name, role in sorted(roles.items()):
        function = functions.get(name)
        calls = code.get(function) if function else None
        grants, found = scan(name, statements_of(name, role, output, values), {REGION}, everywhere=False)
        problems += found
        actions = grants.actions
        wanted = expected.get(name, {})
        if calls is not None and calls.missing:
            wanted = {act: res for act, res in wanted.items() if not act.startswith(("eks:", "ssm:", "s3:"))}
            actions = {act for act in actions if not act.startswith(("eks:", "ssm:", "s3:"))}
        for act in sorted(set(wanted) - actions):
            origin = f" (called at {calls.where[act]})" if calls is not None and act in calls.where else ""
            problems.append(f"{name}: {act} is called{origin} but not granted")
        for act in sorted(actions - set(wanted)):
            problems.append(f"{name}: {act} is granted but nothing calls it")
        managed = set(evaluate(role["Properties"].get("ManagedPolicyArns", []), output, values))
        if managed != ({BASIC_EXECUTION} if function else set()):
            problems.append(f"{name}: managed policies {sorted(managed)}")
        ssm = (SSM_ARN, calls.ssm_paths) if calls is not None and not calls.missing else None
        problems += check_resources(name, grants, wanted, (EKS_RESOURCE_TYPES, PADDING), ssm)
    if target_role_arns(values):
        assuming = {name for name, needs in expected.items() if ASSUME_ROLE in needs}
        problems += trusted_output(output, values, assuming)
    if target_template is not None:
        problems += check_target_role(target_template, template, code, assumed)
    return problems


def trusted_output(output: dict[str, Any], values: dict[str, Any], assuming: set[str]) -> list[str]:
    """template.yaml's TargetRoleTrustedArns output (target-account-role.yaml's TrustedRoleArns)
    names the ARNs of exactly the roles that assume the target role."""
    spec = output.get("Outputs", {}).get("TargetRoleTrustedArns")
    if spec is None:
        return ["Outputs: no TargetRoleTrustedArns, the roles target-account-role.yaml's TrustedRoleArns must name"]
    named = str(evaluate(spec["Value"], output, values)).split(",")
    roles = {_logical(arn) for arn in named if re.fullmatch(r"<\w+Role\.Arn>", arn)}
    if roles != assuming or len(named) != len(assuming):
        return [
            f"Outputs.TargetRoleTrustedArns names {named}; the roles that assume the target role are "
            f"{sorted(assuming)} (their .Arn, each once)"
        ]
    return []


def check_target_role(
    target: dict[str, Any], template: dict[str, Any], code: dict[str, CodeCalls], assumed: Needs
) -> list[str]:
    """target-account-role.yaml, as a StackSet deploys it in a target account: one role, named
    TargetRoleName, that only TrustedRoleArns may assume, granting exactly what is called there:
    the calls of the adapters each function's per-account factory builds, and the calls of the
    state machines' Tasks with Credentials; EKS on the AllowedClusters ARNs of that account,
    SSM on the public parameters the code reads, every grant held to Regions."""
    name = "target-account-role.yaml"
    values = values_of(target, TARGET_PARAMS, TARGET_PSEUDO)
    problems = []
    for param, keys in SHARED_PARAMETERS.items():
        for key in keys:
            ours, theirs = target.get("Parameters", {}).get(param, {}).get(key), template["Parameters"][param].get(key)
            if ours != theirs:
                problems.append(f"{name}: parameter {param}'s {key} is {ours!r}, template.yaml's {theirs!r}")
    iam = {k: r for k, r in target["Resources"].items() if str(r.get("Type", "")).startswith("AWS::IAM::")}
    roles = {k: r for k, r in iam.items() if r["Type"] == "AWS::IAM::Role"}
    if set(iam) != set(roles) or len(roles) != 1:
        return problems + [f"{name}: IAM resources {sorted(iam)}: expected one role, its policies inline"]
    ((logical_id, role),) = roles.items()
    label = f"{name} {logical_id}"
    props = role["Properties"]
    if evaluate(props.get("RoleName"), target, values) != values["TargetRoleName"]:
        problems.append(f"{label}: RoleName is not TargetRoleName")
    if props.get("ManagedPolicyArns") or props.get("PermissionsBoundary"):
        problems.append(f"{label}: managed policies or a boundary; its grants are inline, held to the code")

    # Who may assume it: TrustedRoleArns, and nobody else.
    trusted = evaluate({"Ref": "TrustedRoleArns"}, target, values)
    trust = evaluate(props.get("AssumeRolePolicyDocument", {}), target, values).get("Statement", [])
    for stmt in trust if isinstance(trust, list) else [trust]:
        principal = (stmt.get("Principal") or {}).get("AWS")
        named = [principal] if isinstance(principal, str) else principal
        if (
            stmt.get("Effect") != "Allow"
            or set(stmt) - {"Sid", "Effect", "Principal", "Action", "Condition"}
            or set(stmt.get("Principal") or {}) != {"AWS"}
            or named != trusted
            or stmt.get("Action") not in (ASSUME_ROLE, [ASSUME_ROLE])
        ):
            problems.append(f"{label}: trust {stmt}: only TrustedRoleArns {trusted} may assume it, with {ASSUME_ROLE}")
    if not trust:
        problems.append(f"{label}: its trust policy has no statement")

    # What it may do: exactly what is called in another account.
    needed: dict[str, str] = {}
    paths: set[str] = set()
    complete = True
    for logical, calls in code.items():
        complete &= not calls.missing
        for act in calls.target_actions:
            needed.setdefault(act, f"{logical}, {calls.where.get(act, 'src/')}")
        if "ssm:GetParameter" in calls.target_actions:
            paths |= calls.ssm_paths
    for role_name, needs in assumed.items():
        for act in needs:
            needed.setdefault(act, f"{role_name.removesuffix('Role')}'s Tasks with Credentials")
    stmts: list[dict[str, Any]] = []
    for policy in props.get("Policies", []):
        found = evaluate(policy["PolicyDocument"]["Statement"], target, values)
        stmts += found if isinstance(found, list) else [found]
    grants, found = scan(label, stmts, set(TARGET_REGIONS), everywhere=True)
    problems += found
    if complete:
        for act in sorted(set(needed) - grants.actions):
            problems.append(f"{label}: {act} is called in other accounts ({needed[act]}) but not granted")
        for act in sorted(grants.actions - set(needed)):
            problems.append(f"{label}: {act} is granted but nothing calls it in another account")
    wanted: dict[str, set[str] | None] = {}
    problems += check_resources(
        label, grants, wanted, (eks_resource_types(TARGET_ARN), padding(TARGET_ARN)), (TARGET_SSM_ARN, paths)
    )
    return problems


# ----------------------------------------------------------------- self-test


def _statement(template: dict[str, Any], sid: str, resource: str = "UpdaterFunction") -> dict[str, Any]:
    for stmt in template["Resources"][resource]["Properties"]["Policies"][0]["Statement"]:
        if isinstance(stmt, dict) and stmt.get("Sid") == sid:
            return stmt
    raise KeyError(sid)


def _with(template: dict[str, Any], change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    mutated = copy.deepcopy(template)
    change(mutated)
    return mutated


def self_test(src: Path = ROOT / "src") -> int:
    """Each mutation of the code or the templates must be reported; the unmutated ones must pass."""
    import tempfile

    with tempfile.TemporaryDirectory() as definitions:
        return _self_test(src, Path(definitions))


def _self_test(src: Path, definitions: Path) -> int:
    import tempfile

    template, target = samtemplate.load_template(), samtemplate.load_template(samtemplate.TARGET_ROLE_TEMPLATE)
    code = all_code_calls(template, src)
    baseline = check_all(template, code, target)
    failures = []
    if baseline:
        failures.append(f"the unmutated code and templates do not pass: {baseline}")
    updater, planner = code["UpdaterFunction"].actions, code.get("PlannerFunction", CodeCalls()).actions
    updater_there = code["UpdaterFunction"].target_actions
    planner_there = code.get("PlannerFunction", CodeCalls()).target_actions
    if ASSUME_ROLE not in updater & planner:
        failures.append(
            "the scan missed sts:AssumeRole, made by the adapter (Sts) an adapter main builds (Accounts) builds"
        )
    if not {"eks:DescribeNodegroup", "eks:UpdateNodegroupVersion", "ssm:GetParameter"} <= updater_there:
        failures.append(f"the scan of the updater's per-account adapters missed calls: found {sorted(updater_there)}")
    if not {"eks:ListClusters", "eks:DescribeNodegroup"} <= planner_there or planner_there & {
        "ssm:GetParameter",
        "s3:GetObject",
        ASSUME_ROLE,
    }:
        failures.append(
            f"the planner's per-account adapters are its EKS ones (SSM and S3 it reads as itself): {planner_there}"
        )
    if not {"eks:DescribeNodegroup", "eks:UpdateNodegroupVersion", "ssm:GetParameter"} <= updater:
        failures.append(f"the scan of the updater missed calls: found {sorted(updater)}")
    if updater & {"eks:ListClusters", "eks:ListNodegroups", "s3:GetObject", "s3:PutObject"}:
        failures.append(f"the updater was given the planner's adapters' calls: {sorted(updater)}")
    if not {"eks:ListClusters", "eks:ListNodegroups", "eks:DescribeNodegroup", "s3:PutObject"} <= planner:
        failures.append(f"the scan of the planner missed calls: found {sorted(planner)}")
    if "eks:UpdateNodegroupVersion" in planner:
        failures.append("the planner, which builds Eks but never starts an update, was given UpdateNodegroupVersion")

    def mutated_code(change: Callable[[Path], None]) -> dict[str, CodeCalls]:
        with tempfile.TemporaryDirectory() as tmp:
            copy_of = Path(tmp) / "src"
            shutil.copytree(src, copy_of)
            change(copy_of)
            return all_code_calls(template, copy_of)

    def mutated_definition(logical_id: str, change: Callable[[str], str]) -> dict[str, Any]:
        """The template with one state machine's definition file changed (in `definitions`, kept
        for the run), and without the substitutions the changed file no longer uses."""
        sm = samtemplate.state_machines(template)[logical_id]
        path = Path(tempfile.mkdtemp(dir=definitions)) / sm.definition_path.name
        path.write_text(change(sm.definition_text))
        mutated = copy.deepcopy(template)
        props = mutated["Resources"][logical_id]["Properties"]
        props["DefinitionUri"] = str(path)
        used = set(samtemplate.PLACEHOLDER.findall(path.read_text()))
        props["DefinitionSubstitutions"] = {k: v for k, v in props["DefinitionSubstitutions"].items() if k in used}
        return mutated

    def edit(path: Path, old: str, new: str) -> None:
        text = path.read_text()
        if old not in text:
            raise AssertionError(f"self-test: {path.name} no longer contains {old!r}: update the mutation")
        path.write_text(text.replace(old, new, 1))

    def main_builds_discovery(src: Path) -> None:
        edit(
            src / "main.rs",
            "    let updater = Updater::new(",
            "    let discovery = eks_nodegroup_updater::Discovery::new(\n"
            "        aws_sdk_eks::Client::new(&sdk_config));\n"
            "    let _ = discovery.list_clusters(&deadline);\n"
            "    let updater = Updater::new(",
        )

    def extra_call(src: Path) -> None:
        eks = src / "aws" / "eks.rs"
        text = eks.read_text()
        at = text.index("{\n", text.index("pub async fn describe_nodegroup(")) + 2
        eks.write_text(text[:at] + "        let _ = self.client.delete_nodegroup().send().await;\n" + text[at:])
        (src / "sqs.rs").write_text("use aws_sdk_sqs::Client;\nfn f(c: &Client) { c.get_queue_url(); }\n")

    def planner_starts_updates(src: Path) -> None:
        planner_rs = src / "lambda" / "planner.rs"
        planner_rs.write_text(
            "fn _drift(eks: &crate::aws::eks::Eks) { let _ = eks.update_nodegroup_version(); }\n"
            + planner_rs.read_text()
        )

    def planner_without_discovery(src: Path) -> None:
        edit(src / "bin" / "eks-fleet-planner.rs", "Discovery::new(", "NoDiscovery::from(")

    def no_planner(src: Path) -> None:
        (src / "bin" / "eks-fleet-planner.rs").unlink()

    def planner_session_policy_widened(src: Path) -> None:
        edit(src / "lambda" / "planner.rs", '"eks:ListClusters",', '"eks:ListClusters","eks:UpdateNodegroupVersion",')

    def accounts_without_sts(src: Path) -> None:
        edit(src / "aws" / "accounts.rs", "Sts::new(", "Sts::from_parts(")

    def planner_closure_builds(adapter: str) -> Callable[[Path], None]:
        def change(src: Path) -> None:
            crate = {"Ssm": "ssm", "Objects": "s3"}[adapter]
            edit(
                src / "bin" / "eks-fleet-planner.rs",
                "let eks = aws_sdk_eks::Client::new(sdk);",
                "let eks = aws_sdk_eks::Client::new(sdk);\n"
                f"        let _drift = {adapter}::new(aws_sdk_{crate}::Client::new(sdk));",
            )

        return change

    def sts_anywhere(t: dict[str, Any]) -> None:
        policy = t["Resources"]["AssumeTargetRoles"]["Properties"]["PolicyDocument"]
        policy["Statement"][0]["Resource"] = [{"Fn::Sub": "arn:${AWS::Partition}:iam::*:role/*"}]

    def sts_second_slot_dropped(t: dict[str, Any]) -> None:
        del t["Resources"]["AssumeTargetRoles"]["Properties"]["PolicyDocument"]["Statement"][0]["Resource"][1]

    def sts_without_condition(t: dict[str, Any]) -> None:
        del t["Resources"]["AssumeTargetRoles"]["Condition"]

    def sts_for_the_fleet(t: dict[str, Any]) -> None:
        t["Resources"]["AssumeTargetRoles"]["Properties"]["Roles"].append({"Ref": "RollFleetStateMachineRole"})

    def planner_other_accounts(t: dict[str, Any]) -> None:
        variables = t["Resources"]["PlannerFunction"]["Properties"]["Environment"]["Variables"]
        variables["ALLOWED_ACCOUNTS"] = "999999999999"

    def output_without_state_machine(t: dict[str, Any]) -> None:
        value = t["Outputs"]["TargetRoleTrustedArns"]["Value"]["Fn::Join"][1]
        value.remove({"Fn::GetAtt": ["UpdateNodegroupStateMachineRole", "Arn"]})

    def without_credentials(text: str) -> str:
        start = text.index('"Credentials": {', text.index('"DescribeUpdateInTargetAccount": {'))
        return text[:start] + text[text.index("},", start) + 2 :].lstrip()

    def other_retries_there(text: str) -> str:
        start = text.index('"DescribeUpdateInTargetAccount": {')
        at = text.index('"MaxAttempts": 6', start)
        return text[:at] + '"MaxAttempts": 9' + text[at + len('"MaxAttempts": 6') :]

    def credentials_of_another_role(text: str) -> str:
        return text.replace(":role/${TargetRoleName}'", ":role/${TargetRoleName}-admin'", 1)

    def target_statement(t: dict[str, Any], sid: str) -> dict[str, Any]:
        for stmt in t["Resources"]["TargetRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]:
            if stmt.get("Sid") == sid:
                return stmt
        raise KeyError(sid)

    def target_deletes(t: dict[str, Any]) -> None:
        target_statement(t, "ReadAndUpdateNodegroups")["Action"].append("eks:DeleteNodegroup")

    def target_without_list_clusters(t: dict[str, Any]) -> None:
        stmts = t["Resources"]["TargetRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
        stmts.remove(target_statement(t, "ListClusters"))

    def trust_account_root(t: dict[str, Any]) -> None:
        trust = t["Resources"]["TargetRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]
        trust["Principal"]["AWS"] = {"Fn::Sub": f"arn:${{AWS::Partition}}:iam::{ACCOUNT}:root"}

    def target_in_every_region(t: dict[str, Any]) -> None:
        del target_statement(t, "ReadClusters")["Condition"]

    def target_clusters_of_any_account(t: dict[str, Any]) -> None:
        sub = target_statement(t, "ReadClusters")["Resource"]["Fn::Split"][1]["Fn::Sub"][1]
        sub["C"] = {"Fn::Sub": "arn:${AWS::Partition}:eks:*:*:cluster/"}

    def target_other_bound(t: dict[str, Any]) -> None:
        t["Parameters"]["AllowedClusters"]["AllowedPattern"] = "^.*$"

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

    def fleet_cannot_write(t: dict[str, Any]) -> None:
        _statement(t, "FleetObjects", "RollFleetStateMachine")["Action"].remove("s3:PutObject")

    def fleet_whole_bucket(t: dict[str, Any]) -> None:
        _statement(t, "FleetObjects", "RollFleetStateMachine")["Resource"] = {"Fn::Sub": "${FleetBucket.Arn}/*"}

    def list_clusters_on_arns(t: dict[str, Any]) -> None:
        _statement(t, "ListClusters", "PlannerFunction")["Resource"] = {
            "Fn::Sub": "arn:${AWS::Partition}:eks:${AWS::Region}:${AWS::AccountId}:cluster/*"
        }

    def planner_cannot_list(t: dict[str, Any]) -> None:
        stmts = t["Resources"]["PlannerFunction"]["Properties"]["Policies"][0]["Statement"]
        stmts.remove(_statement(t, "FleetBucketListing", "PlannerFunction"))

    def list_clusters_anywhere(t: dict[str, Any]) -> None:
        del _statement(t, "ListClusters", "PlannerFunction")["Condition"]

    def rule_starts_updates(t: dict[str, Any]) -> None:
        policy = t["Resources"]["ClusterUpgradeRuleRole"]["Properties"]["Policies"][0]["PolicyDocument"]
        policy["Statement"][0]["Resource"] = {"Ref": "UpdateNodegroupStateMachine"}

    extra = mutated_code(extra_call)  # one scan serves both cases
    closure_ssm = mutated_code(planner_closure_builds("Ssm"))
    cases: list[tuple[str, dict[str, Any], dict[str, CodeCalls], str]] = [
        ("a new SDK call in the code", template, extra, "UpdaterFunctionRole: eks:DeleteNodegroup is called"),
        (
            "an adapter the binary's main starts to build and call",
            template,
            mutated_code(main_builds_discovery),
            "UpdaterFunctionRole: eks:ListClusters is called",
        ),
        ("an SDK crate the code uses without Cargo.toml", template, extra, "aws_sdk_sqs"),
        (
            "the planner calling an adapter method only the updater called",
            template,
            mutated_code(planner_starts_updates),
            "PlannerFunctionRole: eks:UpdateNodegroupVersion is called",
        ),
        (
            "the planner's main no longer building Discovery",
            template,
            mutated_code(planner_without_discovery),
            "PlannerFunctionRole: eks:ListClusters is granted but nothing calls it",
        ),
        ("a function whose binary has no main", template, mutated_code(no_planner), "eks-fleet-planner.rs does not"),
        (
            "a call whose grant was dropped",
            _with(template, drop_list_updates),
            code,
            "UpdaterFunctionRole: eks:ListUpdates is called",
        ),
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
        (
            "the fleet's ResultWriter without s3:PutObject",
            _with(template, fleet_cannot_write),
            code,
            "RollFleetStateMachineRole: s3:PutObject is called but not granted",
        ),
        (
            "the fleet's objects widened to the whole bucket",
            _with(template, fleet_whole_bucket),
            code,
            "RollFleetStateMachineRole: s3:GetObject on ['<FleetBucket.Arn>/*']",
        ),
        (
            "ListClusters on cluster ARNs (which IAM never matches)",
            _with(template, list_clusters_on_arns),
            code,
            "PlannerFunctionRole: eks:ListClusters on",
        ),
        (
            "the planner without s3:ListBucket (a missing object would read as AccessDenied)",
            _with(template, planner_cannot_list),
            code,
            "PlannerFunctionRole: s3:ListBucket is called (called at src/aws/s3.rs: NoSuchKey is handled)",
        ),
        (
            "ListClusters on * in every Region",
            _with(template, list_clusters_anywhere),
            code,
            "without aws:RequestedRegion",
        ),
        (
            "the cluster-upgrade rule starting another state machine",
            _with(template, rule_starts_updates),
            code,
            "ClusterUpgradeRuleRole: states:StartExecution on ['<UpdateNodegroupStateMachine>']",
        ),
        # Other accounts: who may assume the target role, on which ARNs, and what it grants.
        (
            "the adapter main builds (Accounts) no longer building Sts",
            template,
            mutated_code(accounts_without_sts),
            "UpdaterFunctionRole: sts:AssumeRole is granted but nothing calls it",
        ),
        (
            "the planner's session policy allowing an update call",
            template,
            mutated_code(planner_session_policy_widened),
            "PlannerFunction: src/bin/eks-fleet-planner.rs: session policy SESSION_POLICY allows",
        ),
        (
            "the planner's per-account closure building Objects (S3 in the target account)",
            template,
            mutated_code(planner_closure_builds("Objects")),
            "TargetRole: s3:GetObject is called in other accounts (PlannerFunction",
        ),
        (
            "sts:AssumeRole widened to role/* of any account",
            _with(template, sts_anywhere),
            code,
            "UpdaterFunctionRole: sts:AssumeRole on ['arn:aws:iam::*:role/*']",
        ),
        (
            "the second account's slot left out of the sts grant",
            _with(template, sts_second_slot_dropped),
            code,
            "PlannerFunctionRole: sts:AssumeRole on ['arn:aws:iam::444455556666:role/eks-nodegroup-updater-target']",
        ),
        (
            "the sts grant without its condition (no other account listed)",
            _with(template, sts_without_condition),
            code,
            "with TargetAccountIds empty: UpdaterFunctionRole: sts:AssumeRole is granted but nothing calls it",
        ),
        (
            "the planner's ALLOWED_ACCOUNTS other than TargetAccountIds",
            _with(template, planner_other_accounts),
            code,
            "PlannerFunctionRole: sts:AssumeRole on ['arn:aws:iam::444455556666:role/eks-nodegroup-updater-target', "
            "'arn:aws:iam::777788889999:role/eks-nodegroup-updater-target'], expected "
            "['arn:aws:iam::999999999999:role/eks-nodegroup-updater-target']",
        ),
        (
            "the sts grant given to the roll-fleet state machine too",
            _with(template, sts_for_the_fleet),
            code,
            "RollFleetStateMachineRole: sts:AssumeRole is granted but nothing calls it",
        ),
        (
            "TargetRoleTrustedArns without the update state machine's role",
            _with(template, output_without_state_machine),
            code,
            "Outputs.TargetRoleTrustedArns names",
        ),
        (
            "the target-account poll without its Credentials (polling this account)",
            mutated_definition("UpdateNodegroupStateMachine", without_credentials),
            code,
            "UpdateNodegroupStateMachineRole: sts:AssumeRole is granted but nothing calls it",
        ),
        (
            "the target-account poll retried otherwise than this account's",
            mutated_definition("UpdateNodegroupStateMachine", other_retries_there),
            code,
            "DescribeUpdateInTargetAccount calls as the target role in another account, but no Task",
        ),
        (
            "Credentials naming another role than TargetRoleName",
            mutated_definition("UpdateNodegroupStateMachine", credentials_of_another_role),
            code,
            "<unknown Credentials",
        ),
        (
            "the target role granting an EKS action nothing calls there",
            template,
            code,
            "TargetRole: eks:DeleteNodegroup is granted but nothing calls it in another account",
            _with(target, target_deletes),
        ),
        (
            "the target role without ListClusters (the planner's discovery there)",
            template,
            code,
            "TargetRole: eks:ListClusters is called in other accounts (PlannerFunction",
            _with(target, target_without_list_clusters),
        ),
        (
            "the target role's trust widened to the account root",
            template,
            code,
            "TargetRole: trust",
            _with(target, trust_account_root),
        ),
        (
            "a target role grant in every Region",
            template,
            code,
            "TargetRole: ['eks:DescribeCluster', 'eks:ListNodegroups'] on its resources without aws:RequestedRegion",
            _with(target, target_in_every_region),
        ),
        (
            "the target role's clusters in any account",
            template,
            code,
            "TargetRole: eks:DescribeCluster on ['arn:aws:eks:*:*:cluster/-unused1',",
            _with(target, target_clusters_of_any_account),
        ),
        (
            "the target role's AllowedClusters bounded otherwise than template.yaml's",
            template,
            code,
            "parameter AllowedClusters's AllowedPattern",
            _with(target, target_other_bound),
        ),
    ]
    outcomes = [(case[0], check_all(case[1], case[2], case[4] if len(case) > 4 else target), case[3]) for case in cases]
    # The planner's closure building Ssm changes no grant (the updater reads SSM there already):
    # the derivation must still count its SSM reads as made in other accounts.
    outcomes.append(
        (
            "the planner's per-account closure building Ssm",
            [f"PlannerFunction calls in other accounts: {sorted(closure_ssm['PlannerFunction'].target_actions)}"],
            "ssm:GetParameter",
        )
    )
    return samtemplate.mutations_reported("IAM check", failures, outcomes)


def check_all(template: dict[str, Any], code: dict[str, CodeCalls], target: dict[str, Any]) -> list[str]:
    """Both templates against the code, with other accounts listed (PARAMS) and with none."""
    problems = check(template, code, PARAMS, target)
    alone = check(template, code, PARAMS | {"TargetAccountIds": ""})
    return problems + [f"with TargetAccountIds empty: {p}" for p in alone if p not in problems]


def main(argv: list[str]) -> int:
    args = argv[1:]
    src = ROOT / "src"
    if args[:1] == ["--src"] and len(args) >= 2:  # another tree's sources (a work in progress)
        src, args = Path(args[1]).resolve(), args[2:]
    if args == ["--self-test"]:
        return self_test(src)
    if args:
        print(__doc__, file=sys.stderr)
        return 2
    template = samtemplate.load_template()
    code = all_code_calls(template, src)
    problems = check_all(template, code, samtemplate.load_template(samtemplate.TARGET_ROLE_TEMPLATE))
    if problems:
        print("IAM check failed:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 1
    for logical_id, calls in code.items():
        there = ", ".join(sorted(calls.target_actions)) or "nothing"
        print(f"IAM check: {logical_id} calls {', '.join(sorted(calls.actions))}; in other accounts: {there}")
    print(
        "IAM check: every role grants exactly what its principal calls (functions: from src/, plus their "
        "failure destinations; state machines: from their definitions; schedules and rules: their targets); "
        "no wildcard action; EKS only on the allowed clusters' ARNs; SSM only on the parameters the code "
        "reads; S3 only on the fleet's objects; sts:AssumeRole only on TargetRoleName in each of "
        "TargetAccountIds, by the roles that assume it, none without other accounts; target-account-role.yaml "
        "trusts exactly TrustedRoleArns and grants exactly the calls made in other accounts, in its Regions"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
