"""Least privilege of template.yaml, held against the code that uses it (offline).

    tests/sam/.venv/bin/python tests/sam/check_iam.py              # the check
    tests/sam/.venv/bin/python tests/sam/check_iam.py --self-test  # the check must catch drift

Every role of the template is checked, and what its principal can call is *derived*, not listed
by hand:
- each Lambda function: the binary its `Metadata.BuildProperties.Binary` names (a `[[bin]]` path in
  Cargo.toml, else src/bin/<name>.rs or src/bin/<name>/main.rs), the source files that binary's
  `main` reaches (its `use`s and paths, through modules and the library's re-exports), the
  adapters its `main` builds (`Eks::new(` brings the adapter type src/aws/eks.rs defines), and of
  those the methods the reached files call (`.find_running_update(`), followed through the
  adapter file's own functions to the SDK calls they make (`.client.describe_nodegroup()` -> the
  SDK's operation `DescribeNodegroup` -> `eks:DescribeNodegroup`), for each `aws-sdk-*` crate in
  Cargo.toml; plus what an answer the code handles implies (a GetObject whose NoSuchKey it reads
  needs s3:ListBucket: S3 answers 403 instead to who may not list) and what the template wires
  around the code (an asynchronous invocation's failure destination);
- each state machine: the integrations its definition uses (`lambda:invoke`,
  `aws-sdk:eks:describeUpdate`, `states:startExecution.sync:2`, `sns:publish`, a distributed Map
  with its ItemReader and ResultWriter), mapped to the IAM actions AWS documents for them, on the
  resources the definition names;
- each schedule and rule: starting its target (and the schedule's dead-letter queue).

Then, on the roles SAM generates from template.yaml (the pinned SAM translator, no AWS call, with
every optional feature switched on):
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
  targets name.
Exits non-zero with the differences. `--self-test` mutates the code's calls and the template (a
call added, a method only the other binary calls, an adapter built or not, a grant dropped or
added, a resource widened, an unknown SDK crate) and requires each mutation to be reported.
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
PSEUDO = {
    "AWS::Partition": "aws",
    "AWS::Region": REGION,
    "AWS::AccountId": ACCOUNT,
    "AWS::StackName": "ngu",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::NoValue": None,
}
# Every optional feature on, so that every role and every conditional grant is checked.
PARAMS = {
    "AllowedClusters": "prod-*,staging",
    "NotificationEmail": "ops@example.com",
    "FleetScheduleExpression": "rate(7 days)",
    "RollOnClusterUpgrade": "true",
}

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

ARN = f"arn:aws:eks:{REGION}:{ACCOUNT}"
CLUSTERS = {f"{ARN}:cluster/prod-*", f"{ARN}:cluster/staging"}
NODEGROUPS = {f"{ARN}:nodegroup/prod-*/*/*", f"{ARN}:nodegroup/staging/*/*"}
# Unused slots: names no cluster can have (EKS names start with a letter or digit).
PADDING = {f"{ARN}:cluster/-unused{i}" for i in range(1, 10)} | {
    f"{ARN}:nodegroup/-unused{i}/*/*" for i in range(1, 10)
}
# The resource types IAM authorises each EKS action on (Service Authorization Reference); an EKS
# call missing here is reported, so a new call gets its resources decided, not guessed.
# ListClusters has no resource type: only "*" grants it.
EKS_RESOURCE_TYPES = {
    "eks:ListClusters": {"*"},
    "eks:ListNodegroups": CLUSTERS,
    "eks:DescribeCluster": CLUSTERS,
    "eks:DescribeNodegroup": NODEGROUPS,
    "eks:UpdateNodegroupVersion": NODEGROUPS,
    "eks:ListUpdates": CLUSTERS | NODEGROUPS,
    "eks:DescribeUpdate": CLUSTERS | NODEGROUPS,
}
NO_RESOURCE_TYPE = {act for act, res in EKS_RESOURCE_TYPES.items() if res == {"*"}}
SSM_ARN = f"arn:aws:ssm:{REGION}::parameter"


# ------------------------------------------------------------ what the code calls


@dataclass
class CodeCalls:
    """The AWS actions one binary can call, and the SSM parameter paths it builds."""

    actions: set[str] = field(default_factory=set)
    where: dict[str, str] = field(default_factory=dict)  # action -> file:line
    ssm_paths: set[str] = field(default_factory=set)  # format strings, `{...}` = a variable part
    problems: list[str] = field(default_factory=list)
    missing: bool = False  # no main to derive from: the role's actions are not compared


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


def code_calls(
    src: Path = ROOT / "src",
    cargo_toml: Path = ROOT / "Cargo.toml",
    operations: dict[str, dict[str, str]] | None | bool = True,
    binary: str = "main.rs",
) -> CodeCalls:
    """Scan the sources for what one binary (`binary`, its main relative to `src`) can call:
    the SDK calls of the adapters its `main` builds, reached from the methods its files call.
    `main` is wiring only, so the adapters it builds are the AWS code the function has; an
    adapter built by no binary (one waiting for its function) calls nothing, nor does a method
    of it that no reached file calls. `operations=True` reads the SDK's operation names via
    cargo; `None` (cargo could not say) takes every `.client.<method>()` for an operation."""
    out = CodeCalls()
    main = src / binary
    deps = set(re.findall(r"^aws-sdk-([a-z0-9]+)\s*=", cargo_toml.read_text(), re.M))
    if operations is True:
        operations = sdk_operations(deps)
    lib_name = tomllib.loads(cargo_toml.read_text()).get("lib", {}).get("name") or tomllib.loads(
        cargo_toml.read_text()
    )["package"]["name"].replace("-", "_")
    if not main.is_file():
        out.problems.append(
            f"src/{binary} does not exist: no main to derive the binary's calls from (a [[bin]] path in "
            "Cargo.toml, src/bin/<name>.rs or src/bin/<name>/main.rs)"
        )
        out.missing = True
        reached: set[Path] = set()
        built: set[str] = set()
    else:
        reached = reached_files(src, main, lib_name)
        built = set(BUILT.findall(_code(main.read_text())))
    test_files = _test_module_files(src)
    sources = {path: _non_test(path.read_text()) for path in sorted(src.rglob("*.rs")) if path not in test_files}
    adapters = {path for path, text in sources.items() if CLIENT_CALL.search(text)}
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
        if not built & set(ADAPTER_TYPE.findall(text)):
            continue  # an adapter this binary does not build
        fns, reached_fns = _reached_functions(text, called)
        for method, pos in calls:
            enclosing = max((i for i, (_, start) in enumerate(fns) if start <= pos), default=None)
            if enclosing is not None and enclosing not in reached_fns:
                continue  # a method this binary never calls
            known = None if operations is None else operations.get(crate, {})
            if known is not None and method not in known:
                continue  # e.g. `.client.config()`: not an API call
            op = known[method] if known is not None else pascal(method)
            action = f"{IAM_PREFIX.get(crate, crate)}:{op}"
            out.actions.add(action)
            out.where.setdefault(action, f"{rel}:{text.count(chr(10), 0, pos) + 1}")
            for (call, handled), implied in IMPLIED.items():
                if action == call and re.search(rf"\b{handled}\b", _blank(text)):
                    out.actions.add(implied)
                    out.where.setdefault(implied, f"{rel}: {handled} is handled")
    for crate in sorted(deps - crates_with_calls):
        out.problems.append(
            f"Cargo.toml depends on aws-sdk-{crate} but no `.client.<operation>()` call of it was "
            "found in src/: calls this check cannot see would go unchecked"
        )
    return out


def functions_of(template: dict[str, Any]) -> dict[str, str]:
    """{function logical id: its binary's name} for every Lambda function of the template."""
    out = {}
    for logical_id, res in template["Resources"].items():
        if res.get("Type") == "AWS::Serverless::Function":
            out[logical_id] = (res.get("Metadata") or {}).get("BuildProperties", {}).get("Binary", "")
    return out


def all_code_calls(template: dict[str, Any], src: Path = ROOT / "src") -> dict[str, CodeCalls]:
    """{function logical id: what its binary calls}, with one `cargo metadata` for all."""
    cargo_toml = ROOT / "Cargo.toml"
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


def _values(template: dict[str, Any]) -> dict[str, Any]:
    return {k: v.get("Default") for k, v in template.get("Parameters", {}).items()} | PARAMS


def evaluate(value: Any, template: dict[str, Any]) -> Any:
    """Enough of CloudFormation's intrinsic functions for IAM resources (names of resources stay,
    as <LogicalId> and <LogicalId.Attribute>; conditions are evaluated with PARAMS)."""
    if isinstance(value, list):
        return [evaluate(v, template) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) != 1:
        return {k: evaluate(v, template) for k, v in value.items()}
    ((fn, arg),) = value.items()
    params = _values(template)
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
        name, if_true, if_false = arg
        holds = samtemplate.condition_holds(name, template, params | PSEUDO)
        return evaluate(if_true if holds else if_false, template)
    return {fn: evaluate(arg, template)}


def statements_of(role: dict[str, Any], template: dict[str, Any]) -> list[dict[str, Any]]:
    """A role's statements, a conditional one (Fn::If) as its condition decides."""
    out = []
    for policy in role["Properties"].get("Policies", []):
        stmts = policy["PolicyDocument"]["Statement"]
        for stmt in stmts if isinstance(stmts, list) else [stmts]:
            if isinstance(stmt, dict) and set(stmt) == {"Fn::If"}:
                name, if_true, if_false = stmt["Fn::If"]
                holds = samtemplate.condition_holds(name, template, _values(template) | PSEUDO)
                stmt = if_true if holds else if_false
                if stmt == {"Ref": "AWS::NoValue"}:
                    continue
            out.append(stmt)
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


def definition_needs(definition: dict[str, Any], own_name: str | None, template: dict[str, Any]) -> dict:
    """What a state machine's integrations need (its nested states included), and on what."""
    needs: dict[str, set[str] | None] = {}
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
            if isinstance(resource, str) and ":states:::" in resource:
                integration = resource.split(":states:::", 1)[1]
                if integration.startswith("aws-sdk:"):
                    _, service, action = integration.split(":", 2)
                    action = action.split(".", 1)[0]
                    _need(needs, {f"{IAM_PREFIX.get(service, service)}:{action[0].upper()}{action[1:]}"}, None)
                elif integration == "lambda:invoke":
                    function = params.get("FunctionName")
                    _need(needs, {"lambda:InvokeFunction"}, {function} if function else None)
                elif integration in ("states:startExecution.sync:2", "states:startExecution.sync"):
                    machine = params.get("StateMachineArn")
                    logical = _logical(machine)
                    executions = {f"{states_arn}:execution:<{logical}.Name>:*"} if logical else None
                    _need(needs, {"states:StartExecution"}, {machine} if machine else None)
                    _need(needs, {"states:DescribeExecution", "states:StopExecution"}, executions)
                    _need(needs, {"events:PutTargets", "events:PutRule", "events:DescribeRule"}, {SYNC_EVENTS_RULE})
                elif integration == "sns:publish":
                    topic = params.get("TopicArn")
                    _need(needs, {"sns:Publish"}, {topic} if topic else topics)
                else:
                    _need(needs, {f"<unknown integration {integration}>"}, None)
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
    return needs


def state_machine_needs(template: dict[str, Any]) -> Needs:
    """{role logical id: needs} for every state machine of the template, its definition rendered
    with the substitutions evaluated as the roles' resources are."""
    out = {}
    for logical_id, sm in samtemplate.state_machines(template).items():
        values = {k: evaluate(v, template) for k, v in sm.substitutions.items()}
        definition = json.loads(sm.render(values))
        name = template["Resources"][logical_id]["Properties"].get("Name")
        out[f"{logical_id}Role"] = definition_needs(definition, evaluate(name, template) if name else None, template)
    return out


def function_needs(template: dict[str, Any], code: dict[str, CodeCalls]) -> Needs:
    """{role: needs} of every function: its code's calls, S3 on the buckets its environment
    names, plus its asynchronous-invocation destinations."""
    out: Needs = {}
    for logical_id in functions_of(template):
        props = template["Resources"][logical_id]["Properties"]
        needs: dict[str, set[str] | None] = {}
        variables = props.get("Environment", {}).get("Variables", {})
        buckets = {
            v["Ref"]
            for v in variables.values()
            if isinstance(v, dict) and template["Resources"].get(v.get("Ref", ""), {}).get("Type") == "AWS::S3::Bucket"
        }
        objects = set().union(*(bucket_objects(template, b) for b in buckets)) if buckets else None
        arns = {f"<{b}.Arn>" for b in buckets} or None
        for act in code[logical_id].actions:
            _need(needs, {act}, (arns if act in BUCKET_ACTIONS else objects) if act.startswith("s3:") else None)
        destinations = (props.get("EventInvokeConfig") or {}).get("DestinationConfig", {})
        for destination in destinations.values():
            _need(needs, {DESTINATION_ACTIONS[destination["Type"]]}, {evaluate(destination["Destination"], template)})
        out[f"{logical_id}Role"] = needs
    return out


def target_needs(template: dict[str, Any]) -> tuple[Needs, list[str]]:
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
            role = _logical(evaluate(target.get("RoleArn"), template))
            if role is None:
                continue
            needs = out.setdefault(role, {})
            arn = evaluate(target["Arn"], template)
            target_type = template["Resources"].get(_logical(arn) or "", {}).get("Type", "")
            if target_type.endswith("StateMachine"):
                _need(needs, {"states:StartExecution"}, {arn})
            else:
                problems.append(f"{logical_id}: a target of type {target_type or arn!r} this check does not know")
            if kind == "AWS::Scheduler::Schedule" and "DeadLetterConfig" in target:
                _need(needs, {"sqs:SendMessage"}, {evaluate(target["DeadLetterConfig"]["Arn"], template)})
    return out, problems


def _ssm_covers(granted: str, path: str) -> bool:
    """Whether an SSM parameter ARN pattern covers a parameter path (its `{...}` parts vary)."""
    sample = re.sub(r"\{[^}]*\}", "x", path)
    return fnmatch.fnmatchcase(f"{SSM_ARN}{sample}", granted)


def check(template: dict[str, Any], code: dict[str, CodeCalls]) -> list[str]:
    """Every difference between what is called and what template.yaml grants."""
    problems = [f"{logical_id}: {p}" for logical_id, calls in code.items() for p in calls.problems]
    functions = {f"{logical_id}Role": logical_id for logical_id in functions_of(template)}
    targets, target_problems = target_needs(template)
    problems += target_problems
    expected: Needs = function_needs(template, code) | state_machine_needs(template) | targets
    output, roles = generated_roles(template)

    if set(roles) != set(expected):
        problems.append(f"roles: {sorted(roles)}, expected {sorted(expected)}")
    for name, role in sorted(roles.items()):
        function = functions.get(name)
        calls = code.get(function) if function else None
        actions: set[str] = set()
        resources_of: dict[str, set[str]] = {}
        for stmt in statements_of(role, output):
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
            if "*" in resources:
                if not set(acts) <= NO_RESOURCE_TYPE:
                    problems.append(f"{name}: Resource '*' for {acts}")
                region = (stmt.get("Condition") or {}).get("StringEquals", {}).get("aws:RequestedRegion")
                if evaluate(region, output) != REGION:
                    problems.append(f"{name}: Resource '*' for {acts} without aws:RequestedRegion = the stack's Region")
            for act in acts:
                resources_of.setdefault(act, set()).update(resources)
        wanted = expected.get(name, {})
        if calls is not None and calls.missing:
            wanted = {act: res for act, res in wanted.items() if not act.startswith(("eks:", "ssm:", "s3:"))}
            actions = {act for act in actions if not act.startswith(("eks:", "ssm:", "s3:"))}
        for act in sorted(set(wanted) - actions):
            origin = f" (called at {calls.where[act]})" if calls is not None and act in calls.where else ""
            problems.append(f"{name}: {act} is called{origin} but not granted")
        for act in sorted(actions - set(wanted)):
            problems.append(f"{name}: {act} is granted but nothing calls it")
        managed = set(evaluate(role["Properties"].get("ManagedPolicyArns", []), output))
        if managed != ({BASIC_EXECUTION} if function else set()):
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
            elif act == "ssm:GetParameter" and calls is not None and not calls.missing:
                for path in sorted(calls.ssm_paths):
                    if not any(_ssm_covers(r, path) for r in resources):
                        problems.append(f"{name}: ssm:GetParameter not granted on {path}, which the code reads")
                for granted in sorted(resources):
                    if not granted.startswith(SSM_ARN + "/aws/service/"):
                        problems.append(
                            f"{name}: ssm:GetParameter on {granted}, outside the public /aws/service/ parameters"
                        )
                    elif not any(_ssm_covers(granted, p) for p in calls.ssm_paths):
                        problems.append(f"{name}: ssm:GetParameter on {granted}, which no parameter of the code needs")
            elif wanted.get(act) is not None and resources != wanted[act]:
                problems.append(f"{name}: {act} on {sorted(resources)}, expected {sorted(wanted[act])}")
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


def self_test() -> int:
    """Each mutation of the code or the template must be reported; the unmutated pair must pass."""
    import tempfile

    template = samtemplate.load_template()
    code = all_code_calls(template)
    baseline = check(template, code)
    failures = []
    if baseline:
        failures.append(f"the unmutated code and template do not pass: {baseline}")
    updater, planner = code["UpdaterFunction"].actions, code.get("PlannerFunction", CodeCalls()).actions
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
            src = Path(tmp) / "src"
            shutil.copytree(ROOT / "src", src)
            change(src)
            return all_code_calls(template, src)

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
        (src / "sts.rs").write_text("use aws_sdk_sts::Client;\nfn f(c: &Client) { c.get_caller_identity(); }\n")

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
    cases: list[tuple[str, dict[str, Any], dict[str, CodeCalls], str]] = [
        ("a new SDK call in the code", template, extra, "UpdaterFunctionRole: eks:DeleteNodegroup is called"),
        (
            "an adapter the binary's main starts to build and call",
            template,
            mutated_code(main_builds_discovery),
            "UpdaterFunctionRole: eks:ListClusters is called",
        ),
        ("an SDK crate the code uses without Cargo.toml", template, extra, "aws_sdk_sts"),
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
    ]
    outcomes = [(name, check(mutated, calls), needle) for name, mutated, calls, needle in cases]
    return samtemplate.mutations_reported("IAM check", failures, outcomes)


def main(argv: list[str]) -> int:
    if argv[1:] == ["--self-test"]:
        return self_test()
    if argv[1:]:
        print(__doc__, file=sys.stderr)
        return 2
    template = samtemplate.load_template()
    code = all_code_calls(template)
    problems = check(template, code)
    if problems:
        print("IAM check failed:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 1
    for logical_id, calls in code.items():
        print(f"IAM check: {logical_id} calls {', '.join(sorted(calls.actions))} (from src/)")
    print(
        "IAM check: every role grants exactly what its principal calls (functions: from src/, plus their "
        "failure destinations; state machines: from their definitions; schedules and rules: their targets); "
        "no wildcard action; EKS only on the allowed clusters' ARNs; SSM only on the parameters the code "
        "reads; S3 only on the fleet's objects"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
