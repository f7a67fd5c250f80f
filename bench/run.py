#!/usr/bin/env python3
"""`make bench`: whole processes through the Lambda Runtime API, cold and warm.

Three subjects, interleaved in every round, each started fresh (a cold start) per round
and per target, on loopback only:

- ``ours``   the release bootstrap (``cargo lambda build --release``);
- ``floor``  examples/hello_runtime.rs, same profile: lambda_runtime echoing the event;
- ``python`` bench/peer/handler.py, Python 3.11 + boto3 under awslambdaric (bench/.venv).

Beside them, the package's other Lambda binaries (``planner``: the fleet planner), same
profile, for their init, peak RSS and package only: each of their invocations is a step
refused ``InvalidInput`` before any call, so they run against the canned target alone,
where the answer and the absence of any call are checked.

Issue #13 (other accounts), two more subjects in the same rounds:

- ``before`` (``--before PATH``, what ``make bench`` builds at BENCH_BASELINE_REV): the
  updater's release bootstrap from before other accounts, run exactly like ours on the same
  requests without accountId, every figure printed as ours ÷ before: what staying home costs;
- ``away``   our bootstrap with ``ALLOWED_ACCOUNTS`` naming another account: its first
  invocation is a request at home (the process is warm after it), then every one names the
  other account. The first of those assumes the target role (STS AssumeRole) and builds that
  account's clients, later ones reuse them: its latency and the warm ones' are the figures,
  and the harness checks that each process called AssumeRole exactly once, and that no
  other subject called STS at all (canned: by the stand-in's counts; moto: by account and
  role, and every update in the account its request named).

Two targets the functions call: ``canned`` (bench/standin.py, fast and stateless: our own
overhead) and ``moto`` (tests/localeks, the stateful local EKS endpoint).

Per process: init = spawn → its first ``GET /runtime/invocation/next`` as the emulator
(testkit.runtime_api) sees it; first invocation = event handed out → response read; then
``--warm`` warm invocations likewise; then, once the process is polling again, its
``VmHWM`` from /proc; then it is stopped. Figures: medians over the cold starts, warm p50
and p99 over every warm invocation pooled, and the zipped deployment package.

Standard library and testkit (tests/support/testkit, the harness the test tiers use) only:
run it as ``PYTHONPATH=tests/support .venv/bin/python bench/run.py``, as the Makefile does.
Every process is started here, on free ports, in its own process group, and stopped here
(also on errors, Ctrl-C and SIGTERM); every wait is bounded and the whole run has a time
budget. No figure is asserted: the exit status says only whether every invocation answered
what it should. See BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import hashlib
import json
import math
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from standin import CannedEks
from testkit import (
    DEFAULT_ACCOUNT_ID,
    HarnessError,
    LocalEks,
    Process,
    RuntimeApi,
    install_sigterm_handler,
    local_eks,
    role_arn,
    stop_all,
    zipped_size,
)

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
OURS = ROOT / "target/lambda/eks-nodegroup-updater/bootstrap"
PLANNER = ROOT / "target/lambda/eks-fleet-planner/bootstrap"
FLOOR = ROOT / "target/lambda/hello_runtime/bootstrap"
PEER_PYTHON = BENCH / ".venv/bin/python"
PEER_DIR = BENCH / "peer"
# What the Python peer would vendor into its package (awslambdaric is the managed runtime's).
PEER_VENDORED = ["boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six", "urllib3"]

# What the emulator tells a subject it is (Lambda-Runtime-Invoked-Function-Arn).
FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:bench"
SUBJECTS = ("ours", "floor", "python")
# The other functions of the package, measured beside ours for init, peak RSS and package.
FUNCTIONS = ("planner",)
# What each needs in its environment (the template's), and the steps it is invoked with
# in turn: neither needs an object in the bucket or makes any call, both end InvalidInput.
FUNCTION_ENV = {"planner": {"FLEET_BUCKET": "bench-bucket"}}
FUNCTION_EVENTS = {
    "planner": [
        {"action": "decide"},  # no `fleet`: not a step
        {"action": "start", "fleet": "bench", "input": {}},  # neither targets nor selectors
    ]
}
TARGETS = ("canned", "moto")
# Issue #13: the updater before other accounts (--before), run like ours on the same events,
# and ours serving requests in another account.
BEFORE = "before"
AWAY = "away"
# The account the emulator's function ARN names (moto's default: the function's own), and the
# other one `away` acts in, through the target role it assumes there (trusting ours).
HOME_ACCOUNT = DEFAULT_ACCOUNT_ID
OTHER_ACCOUNT = "444455556666"
# Invocations of an `away` process before its warm ones: one at home, then the first in the
# other account (the one that assumes the role).
AWAY_PREFIX = 2
# What each subject needs in its environment besides Lambda's.
SUBJECT_ENV = FUNCTION_ENV | {AWAY: {"ALLOWED_ACCOUNTS": OTHER_ACCOUNT}}
MIB = 1024 * 1024


class BenchError(RuntimeError):
    pass


# ------------------------------------------------------------------ /proc


def cpu_ns(pid: int) -> int | None:
    """CPU time of every live thread of `pid` so far (schedstat, ns)."""
    total = 0
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(OSError, ValueError, IndexError):
                total += int((task / "schedstat").read_text().split()[0])
    except OSError:
        return None
    return total


def proc_status_kib(pid: int, *keys: str) -> dict[str, int]:
    """Fields of /proc/<pid>/status in KiB (VmHWM, RssAnon, RssFile, ...), those it has."""
    out = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in keys:
                out[key] = int(value.split()[0])
    except (OSError, ValueError, IndexError):
        return {}
    return out


# ------------------------------------------------------------------ local EKS (moto)


def world(cluster: str, nodegroups: int) -> dict:
    """One cluster at 1.31 with `nodegroups` node groups at 1.30."""
    return {
        "region": "us-east-1",
        "clusters": [
            {
                "name": cluster,
                "version": "1.31",
                "latestReleases": {"1.31": "1.31.7-20251120"},
                "publishLatestToSsm": {"ageDays": 60},
                "nodegroups": [
                    {
                        "name": f"ng-{i}",
                        "version": "1.30",
                        "releaseVersion": "1.30.4-20241109",
                        "amiType": "AL2023_x86_64_STANDARD",
                    }
                    for i in range(nodegroups)
                ],
            }
        ],
    }


def seed_cluster(eks: LocalEks, cluster: str, nodegroups: int, away: int = 0) -> None:
    """A fresh endpoint holding `world(cluster, nodegroups)` at home, and with `away` > 0 the
    same cluster name with `away` node groups in the other account, whose target role trusts
    ours (a cluster of the same name in another account is another cluster)."""
    eks.reset()
    eks.seed(world(cluster, nodegroups))
    if away:
        eks.seed_account(OTHER_ACCOUNT, world(cluster, away), trusted=(HOME_ACCOUNT,))


# ------------------------------------------------------------------ subjects


def stage_binaries(args: argparse.Namespace) -> dict[str, Path]:
    """Every Rust subject's bootstrap copied to OUT/bin/<name>/bootstrap, written to disk and
    dropped from the page cache, so that each is read back by the warm-up round's `exec` the
    same way. How a binary's pages sit in the page cache (written by the linker, or read
    back) changes how much of it each page fault maps, hence its file-backed RSS (by up to
    0.7 MiB) and its page faults; two binaries compared must start alike. The copies also
    keep the run on the files it started with when a build replaces target/ meanwhile.
    `away` runs ours's copy."""
    staged = {}
    for name, path in [*args.rust.items(), ("floor", args.floor)]:
        if name == AWAY:
            continue
        copy = args.out / "bin" / name / "bootstrap"
        copy.parent.mkdir(parents=True, exist_ok=True)
        copy.unlink(missing_ok=True)
        shutil.copy2(path, copy)
        fd = os.open(copy, os.O_RDONLY)
        try:
            os.fsync(fd)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)
        staged[name] = copy
    if AWAY in args.rust:
        staged[AWAY] = staged["ours"]
    return staged


def subject_argv(name: str, args: argparse.Namespace) -> tuple[list[str], Path]:
    wrap = shlex.split(args.wrap) if args.wrap else []
    if name in args.staged:
        return wrap + [str(args.staged[name])], ROOT
    return wrap + [str(PEER_PYTHON), "-m", "awslambdaric", "handler.handler"], PEER_DIR


def subject_env(name: str, api: RuntimeApi, endpoint: str, home: Path, extra: dict[str, str]) -> dict[str, str]:
    """A Lambda-like environment, nothing inherited from ours (no SSL_CERT_FILE, no PYTHON*)."""
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "TZ": ":UTC",
        "HOME": str(home),  # empty: no ~/.aws files, as on Lambda
        "AWS_LAMBDA_RUNTIME_API": api.address,
        "AWS_LAMBDA_FUNCTION_NAME": f"bench-{name}",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/bench-{name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": "2026/01/01/[$LATEST]0123456789abcdef",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "ASIABENCHBENCHBENCH0",
        "AWS_SECRET_ACCESS_KEY": "benchSecretKeyNotARealOne000000000000000",
        "AWS_SESSION_TOKEN": "benchSessionToken",
        "AWS_ENDPOINT_URL": endpoint,
    }
    env.update(extra)
    if name == "python":
        env.update(
            {
                "_HANDLER": "handler.handler",
                "LAMBDA_TASK_ROOT": str(PEER_DIR),
                "AWS_EXECUTION_ENV": "AWS_Lambda_python3.11",
            }
        )
    return env


def runs_in(subject: str, target: str) -> bool:
    """The other functions make no call: they run against the canned target only."""
    return subject not in FUNCTIONS or target == "canned"


def is_variant(subject: str) -> bool:
    return subject not in SUBJECTS and subject not in FUNCTIONS and subject not in (BEFORE, AWAY)


def prefix(subject: str) -> int:
    """Invocations of a process before its warm ones."""
    return AWAY_PREFIX if subject == AWAY else 1


def event_for(subject: str, target: str, cluster: str, i: int) -> dict:
    if subject in FUNCTIONS:
        events = FUNCTION_EVENTS[subject]
        return events[i % len(events)]
    if subject == AWAY:
        # Home first, then the other account's (moto: ng-0 at home, then its ng-0, ng-1, ...).
        if target == "canned":
            event = {"clusterName": "prod", "nodegroupName": "workers", "version": "1.31"}
        else:
            event = {"clusterName": cluster, "nodegroupName": f"ng-{max(i - 1, 0)}", "version": "1.31"}
        return event if i == 0 else event | {"accountId": OTHER_ACCOUNT}
    if target == "canned":
        return {"clusterName": "prod", "nodegroupName": "workers", "version": "1.31"}
    return {"clusterName": cluster, "nodegroupName": f"ng-{i}", "version": "1.31"}


def check_answer(subject: str, event: dict, result) -> None:
    if subject in FUNCTIONS:
        error = result.body if not result.ok else None
        if not (isinstance(error, dict) and error.get("errorType") == "InvalidInput"):
            raise BenchError(
                f"{subject}: expected an InvalidInput error for {event!r}, got"
                f" {'an error' if not result.ok else 'an answer'} {result.raw[:500]!r}"
            )
        return
    if not result.ok:
        raise BenchError(f"{subject}: function error {result.raw[:500]!r}")
    answer = result.json()
    if subject == "floor":
        if answer != event:
            raise BenchError(f"floor: echoed {answer!r}, not the event")
    elif not (
        isinstance(answer, dict) and answer.get("outcome") == "Started" and (answer.get("update") or {}).get("id")
    ):
        raise BenchError(f"{subject}: expected outcome Started with an update, got {result.raw[:500]!r}")
    elif subject == AWAY and answer.get("accountId") != event.get("accountId", HOME_ACCOUNT):
        raise BenchError(f"{subject}: answered for account {answer.get('accountId')!r} to {event!r}")


def check_accounts(subject: str, args, before, after) -> int:
    """What a process did at the local EKS endpoint, by account (`before`/`after`: its call
    counts around the process). `away`: exactly one AssumeRole of the target role, granted,
    and its updates in the account each event named; everyone else: no STS call at all.
    Returns the process's AssumeRole calls."""
    arn = role_arn(OTHER_ACCOUNT)
    assumed = {k: after.assume_role(arn)[k] - before.assume_role(arn)[k] for k in ("calls", "granted")}

    def delta(account: str, service: str, operation: str) -> int:
        return after.count(account, service, operation) - before.count(account, service, operation)

    sts = after.total.get("sts:AssumeRole", 0) - before.total.get("sts:AssumeRole", 0)
    if subject == AWAY:
        if assumed != {"calls": 1, "granted": 1} or sts != 1:
            raise BenchError(f"{subject}: AssumeRole {assumed} ({sts} in all), expected exactly one call, granted")
        updates = {a: delta(a, "eks", "UpdateNodegroupVersion") for a in (HOME_ACCOUNT, OTHER_ACCOUNT)}
        expected = {HOME_ACCOUNT: 1, OTHER_ACCOUNT: args.warm + AWAY_PREFIX - 1}
        if updates != expected:
            raise BenchError(f"{subject}: updates by account {updates}, expected {expected}")
    elif sts:
        raise BenchError(f"{subject}: {sts} STS AssumeRole calls for requests without accountId, expected none")
    return sts


@dataclass
class Run:
    target: str
    subject: str
    round: int
    init_ms: float
    first_ms: float
    warm_ms: list[float]
    vm_hwm_kib: int | None
    calls: dict[str, int] = field(default_factory=dict)
    # CPU time (all threads, schedstat) until the first poll, and per warm invocation.
    init_cpu_ms: float | None = None
    warm_cpu_ms: float | None = None
    # CPU time of this harness (emulator + canned stand-in) per warm invocation.
    harness_cpu_ms: float | None = None
    # TCP connections the process opened to the stand-in (canned) and to the Runtime API.
    endpoint_connections: int = 0
    runtime_api_connections: int = 0
    # `away`: its first invocation in the other account (warm process: AssumeRole + clients).
    first_away_ms: float | None = None
    # STS AssumeRole calls the process made (moto target; checked: 1 for `away`, else 0).
    assume_role_calls: int | None = None
    # What its resident memory was made of when VmHWM was read: heap and stacks (RssAnon),
    # pages of the binary and libraries (RssFile), KiB.
    rss_anon_kib: int | None = None
    rss_file_kib: int | None = None


class Budget:
    def __init__(self, seconds: float) -> None:
        self.end = time.monotonic() + seconds
        self.seconds = seconds

    def left(self, cap: float) -> float:
        left = self.end - time.monotonic()
        if left <= 0:
            raise BenchError(f"the run's time budget ({self.seconds:.0f} s) is spent; see --budget")
        return min(cap, left)


async def one_process(
    subject: str, target: str, rnd: int, args, endpoint: str, eks: LocalEks | None, canned: CannedEks, budget: Budget
) -> Run:
    cluster = f"b{rnd + 1000}-{subject}"
    first = prefix(subject)  # invocations before the warm ones
    if target == "moto" and subject != "floor" and subject not in FUNCTIONS:
        if subject == AWAY:
            seed_cluster(eks, cluster, 1, away=args.warm + first - 1)
        else:
            seed_cluster(eks, cluster, args.warm + 1)
    counts_before = eks.call_counts() if target == "moto" else None
    api = await RuntimeApi(FUNCTION_ARN).start()
    argv, cwd = subject_argv(subject, args)
    env = subject_env(
        subject, api, endpoint, args.out / "home", SUBJECT_ENV.get(subject, {}) | args.env.get(subject, {})
    )
    log = args.out / "logs" / f"{target}-{subject}.log"
    calls_before = dict(canned.calls)
    connections_before = canned.connections
    proc = None
    try:
        spawned = time.perf_counter_ns()
        proc = Process(f"{target}-{subject}", argv, cwd=cwd, env=env, log_path=log)
        polled = await _until(api.next_poll(args.init_timeout), proc, subject, budget, args.init_timeout)
        init_ms = (polled - spawned) / 1e6
        init_cpu = cpu_ns(proc.pid)
        timings = []
        warm_cpu_start = None
        for i in range(args.warm + first):
            event = event_for(subject, target, cluster, i)
            result = await _until(api.invoke(event, args.timeout), proc, subject, budget, args.timeout)
            check_answer(subject, event, result)
            timings.append(result.latency_ns / 1e6)
            if i == first - 1:
                await _until(api.next_poll(args.timeout), proc, subject, budget, args.timeout)
                warm_cpu_start = cpu_ns(proc.pid)
                harness_cpu_start = time.process_time()
        # Back at GET /next, as a frozen Lambda sandbox would be: now read its peak.
        await _until(api.next_poll(args.timeout), proc, subject, budget, args.timeout)
        rss = proc_status_kib(proc.pid, "VmHWM", "RssAnon", "RssFile")
        hwm = rss.get("VmHWM")
        warm_cpu_end = cpu_ns(proc.pid)
        harness_cpu = time.process_time() - harness_cpu_start if args.warm else None
    finally:
        if proc is not None:
            proc.stop(1.0)
        await api.close()
    calls = {k: v - calls_before.get(k, 0) for k, v in canned.calls.items() if v - calls_before.get(k, 0)}
    assume_role_calls = None
    if target == "moto":
        assume_role_calls = check_accounts(subject, args, counts_before, eks.call_counts())
    if target == "canned" and subject in FUNCTIONS:
        opened = canned.connections - connections_before
        if calls or opened:
            raise BenchError(f"{subject}: made calls {calls} over {opened} connections, expected none")
    elif target == "canned" and subject != "floor":
        expected = {
            op: args.warm + first
            for op in ("DescribeNodegroup", "DescribeCluster", "GetParameter", "UpdateNodegroupVersion")
        }
        if subject == AWAY:
            expected["AssumeRole"] = 1  # once per process, whatever the number of requests
        if calls != expected:
            raise BenchError(f"{subject}: made calls {calls}, expected {expected}")
    warm_cpu = None
    if args.warm and warm_cpu_start is not None and warm_cpu_end is not None:
        warm_cpu = (warm_cpu_end - warm_cpu_start) / 1e6 / args.warm
    return Run(
        target,
        subject,
        rnd,
        init_ms,
        timings[0],
        timings[first:],
        hwm,
        calls,
        init_cpu / 1e6 if init_cpu is not None else None,
        warm_cpu,
        harness_cpu * 1000 / args.warm if harness_cpu is not None else None,
        canned.connections - connections_before if target == "canned" else 0,
        api.connections,
        timings[1] if subject == AWAY else None,
        assume_role_calls,
        rss.get("RssAnon"),
        rss.get("RssFile"),
    )


async def _until(awaitable, proc: Process, subject: str, budget: Budget, timeout: float):
    """Awaits `awaitable`, failing early if the process exits or time runs out."""
    task = asyncio.ensure_future(awaitable)
    try:
        end = time.monotonic() + budget.left(timeout)  # may raise: the task is cancelled below
        while True:
            done, _ = await asyncio.wait({task}, timeout=0.05)
            if done:
                return task.result()
            if not proc.alive():
                raise BenchError(f"{subject} exited with {proc.returncode}; see {proc.log_path}:\n{proc.tail(15)}")
            if time.monotonic() > end:
                raise BenchError(f"{subject}: no answer within {timeout} s; see {proc.log_path}:\n{proc.tail(15)}")
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


# ------------------------------------------------------------------ package sizes


def package_sizes(args) -> dict[str, dict[str, int]]:
    sizes = {}
    for name, path in [*args.rust.items(), ("floor", args.floor)]:
        if name == AWAY:  # ours, with another environment
            continue
        sizes[name] = {"raw": path.stat().st_size, "zipped": zipped_size([(path, "bootstrap")])}
    # The peer's package: the handler plus what `pip install -t` would vendor (no bytecode).
    site = next((BENCH / ".venv/lib").glob("python3*/site-packages"))
    files = [(PEER_DIR / "handler.py", "handler.py")]
    for dist in PEER_VENDORED:
        records = list(site.glob(f"{dist.replace('-', '_')}-*.dist-info/RECORD"))
        if len(records) != 1:
            raise BenchError(f"cannot find {dist} in {site}")
        for line in records[0].read_text().splitlines():
            rel = line.split(",")[0]
            if rel and "__pycache__" not in rel and not rel.startswith(".."):
                files.append((site / rel, rel))
    sizes["python"] = {"raw": sum(p.stat().st_size for p, _ in files), "zipped": zipped_size(files)}
    return sizes


# ------------------------------------------------------------------ figures


def p(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    s = sorted(values)
    return s[max(0, math.ceil(q * len(s)) - 1)]


def _median(values: list) -> float:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else float("nan")


def subject_order(runs: list[Run]) -> list[str]:
    seen = list(dict.fromkeys(r.subject for r in runs))
    return [s for s in SUBJECTS if s in seen] + [s for s in seen if s not in SUBJECTS]


def figures(runs: list[Run], sizes) -> dict[str, dict[str, dict[str, float]]]:
    out: dict[str, dict[str, dict[str, float]]] = {}
    for target in sorted({r.target for r in runs}, key=TARGETS.index):
        out[target] = {}
        for subject in subject_order(runs):
            rs = [r for r in runs if r.target == target and r.subject == subject]
            if not rs:
                continue
            warm = [w for r in rs for w in r.warm_ms]
            hwm = [r.vm_hwm_kib for r in rs if r.vm_hwm_kib]
            out[target][subject] = {
                "cold starts": len(rs),
                "init ms": statistics.median(r.init_ms for r in rs),
                "first invocation ms": statistics.median(r.first_ms for r in rs),
                "warm p50 ms": p(warm, 0.50) if warm else float("nan"),
                "warm p99 ms": p(warm, 0.99) if warm else float("nan"),
                "warm invocations": len(warm),
                "init CPU ms": _median([r.init_cpu_ms for r in rs]),
                "warm CPU ms": _median([r.warm_cpu_ms for r in rs]),
                "peak RSS MiB": statistics.median(hwm) / 1024 if hwm else float("nan"),
                "RSS anon MiB": _median([r.rss_anon_kib for r in rs]) / 1024,
                "RSS file MiB": _median([r.rss_file_kib for r in rs]) / 1024,
                "package zipped MiB": sizes[subject]["zipped"] / MIB if sizes and subject in sizes else float("nan"),
                "package raw MiB": sizes[subject]["raw"] / MIB if sizes and subject in sizes else float("nan"),
            }
            if subject == AWAY:
                out[target][subject]["first away invocation ms"] = _median([r.first_away_ms for r in rs])
            if target == "moto":
                out[target][subject]["AssumeRole calls per process"] = sorted(
                    {r.assume_role_calls for r in rs if r.assume_role_calls is not None}
                )
    return out


ROWS = [
    ("init ms", "init, median (ms)", "{:.2f}"),
    ("first invocation ms", "first invocation, median (ms)", "{:.2f}"),
    ("warm p50 ms", "warm p50 (ms)", "{:.3f}"),
    ("warm p99 ms", "warm p99 (ms)", "{:.3f}"),
    ("init CPU ms", "init CPU time, median (ms)", "{:.2f}"),
    ("warm CPU ms", "CPU time per warm invocation, median (ms)", "{:.3f}"),
    ("peak RSS MiB", "peak RSS VmHWM, median (MiB)", "{:.1f}"),
    ("package zipped MiB", "package, zipped (MiB)", "{:.2f}"),
    ("package raw MiB", "package, unzipped (MiB)", "{:.2f}"),
]


def _ratio(a, b) -> str:
    if a is None or b is None or not b or math.isnan(a) or math.isnan(b):
        return "–"
    return f"{a / b:.2f}×"


def table(figs, target: str) -> str:
    f = figs[target]
    columns = SUBJECTS
    get = lambda s, k: f[s][k] if s in f else None  # noqa: E731
    n_cold = {s: f[s]["cold starts"] for s in f if s in SUBJECTS or is_variant(s)}
    n_warm = {s: f[s]["warm invocations"] for s in f if s in SUBJECTS or is_variant(s)}
    lines = [
        f"**{target}** — cold starts per subject: {n_cold}; warm invocations pooled: {n_warm}",
        "",
        "| figure | ours | floor | python | ours ÷ floor | ours ÷ python | python ÷ floor |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for key, label, fmt in ROWS:
        cells = [fmt.format(get(s, key)) if get(s, key) is not None else "–" for s in columns]
        lines.append(
            f"| {label} | "
            + " | ".join(cells)
            + f" | {_ratio(get('ours', key), get('floor', key))} | {_ratio(get('ours', key), get('python', key))}"
            + f" | {_ratio(get('python', key), get('floor', key))} |"
        )
    variants = [s for s in f if is_variant(s)]
    if variants:
        lines += ["", f"**{target}, variants** (run in the same rounds as the subjects above)", ""]
        head = "| figure | ours |" + "".join(f" {v} | {v} ÷ ours | {v} ÷ floor | {v} ÷ python |" for v in variants)
        lines += [head, "|---|---:|" + "---:|---:|---:|---:|" * len(variants)]
        for key, label, fmt in ROWS:
            row = f"| {label} | " + (fmt.format(get("ours", key)) if get("ours", key) is not None else "–") + " |"
            for v in variants:
                row += (
                    f" {fmt.format(get(v, key))} | {_ratio(get(v, key), get('ours', key))} |"
                    f" {_ratio(get(v, key), get('floor', key))} | {_ratio(get(v, key), get('python', key))} |"
                )
            lines.append(row)
    return "\n".join(lines)


# What the other functions are measured for: their invocations are refusals, not work.
FUNCTION_ROWS = ("init ms", "init CPU ms", "peak RSS MiB", "package zipped MiB", "package raw MiB")


def functions_table(figs, invocations: int) -> str | None:
    """The other functions beside ours and the floor (canned target): init, RSS, package."""
    f = figs.get("canned", {})
    functions = [s for s in FUNCTIONS if s in f]
    if not functions:
        return None
    get = lambda s, k: f[s][k] if s in f else None  # noqa: E731
    n_cold = {s: f[s]["cold starts"] for s in ("ours", *functions, "floor") if s in f}
    columns = ["ours", *functions, "floor"]
    ratios = [(s, "floor") for s in functions] + [("ours", "floor")] + [(s, "ours") for s in functions]
    lines = [
        f"**functions** (canned) — cold starts per subject: {n_cold}; {invocations} invocations per process,"
        f" for {', '.join(functions)} each a step refused InvalidInput before any call",
        "",
        "| figure | " + " | ".join(columns) + " | " + " | ".join(f"{a} ÷ {b}" for a, b in ratios) + " |",
        "|---|" + "---:|" * (len(columns) + len(ratios)),
    ]
    for key, label, fmt in ROWS:
        if key not in FUNCTION_ROWS:
            continue
        cells = [fmt.format(get(s, key)) if get(s, key) is not None else "–" for s in columns]
        lines.append(
            f"| {label} | "
            + " | ".join(cells)
            + " | "
            + " | ".join(_ratio(get(a, key), get(b, key)) for a, b in ratios)
            + " |"
        )
    return "\n".join(lines)


def before_table(figs, target: str, rev: str) -> str | None:
    """Issue #13 at home: ours against the updater before other accounts, ours ÷ before."""
    f = figs.get(target, {})
    if BEFORE not in f or "ours" not in f:
        return None
    o, b = f["ours"], f[BEFORE]
    lines = [
        f"**{target}, ours against before** (before: the updater at {rev or 'an unnamed revision'}, before"
        f" other accounts; the same requests without accountId, in the same rounds) — cold starts:"
        f" ours {o['cold starts']}, before {b['cold starts']}; warm invocations pooled: ours"
        f" {o['warm invocations']}, before {b['warm invocations']}",
        "",
        "| figure | ours | before | ours ÷ before |",
        "|---|---:|---:|---:|",
    ]
    for key, label, fmt in ROWS:
        lines.append(f"| {label} | {fmt.format(o[key])} | {fmt.format(b[key])} | {_ratio(o[key], b[key])} |")
    return "\n".join(lines)


def away_table(figs, target: str) -> str | None:
    """Issue #13 away: requests in another account, beside ours at home in the same rounds."""
    f = figs.get(target, {})
    if AWAY not in f or "ours" not in f:
        return None
    o, a = f["ours"], f[AWAY]
    rows = [
        ("init ms", "init, median (ms)", "{:.2f}"),
        ("first invocation ms", "first invocation of the process, at home for both, median (ms)", "{:.2f}"),
        ("first away invocation ms", "first invocation in the other account, warm process, median (ms)", "{:.2f}"),
        ("warm p50 ms", "warm p50 (ms): ours at home, away in the other account", "{:.3f}"),
        ("warm p99 ms", "warm p99 (ms)", "{:.3f}"),
        ("warm CPU ms", "CPU time per warm invocation, median (ms)", "{:.3f}"),
        ("peak RSS MiB", "peak RSS VmHWM, median (MiB)", "{:.1f}"),
    ]
    lines = [
        f"**{target}, requests in another account** (away: ours with ALLOWED_ACCOUNTS={OTHER_ACCOUNT}; per"
        f" process one request at home, then every one in account {OTHER_ACCOUNT} through its target role)"
        f" — cold starts: ours {o['cold starts']}, away {a['cold starts']}; warm invocations pooled:"
        f" ours {o['warm invocations']}, away {a['warm invocations']}",
        "",
        "| figure | ours | away | away ÷ ours |",
        "|---|---:|---:|---:|",
    ]
    for key, label, fmt in rows:
        ov, av = o.get(key), a.get(key)
        cell = lambda v, fmt=fmt: fmt.format(v) if v is not None else "–"  # noqa: E731
        lines.append(f"| {label} | {cell(ov)} | {cell(av)} | {_ratio(av, ov)} |")
    first, warm = a["first away invocation ms"], a["warm p50 ms"]
    checked = (
        "by the stand-in's counts: away 1, the others 0"
        if target == "canned"
        else ", ".join(f"{s} {f[s]['AssumeRole calls per process']}" for s in (AWAY, *(s for s in f if s != AWAY)))
    )
    lines += [
        "",
        f"first request in the other account {first:.2f} ms against {warm:.3f} ms warm there"
        f" ({first - warm:+.2f} ms: one STS AssumeRole and that account's clients); STS AssumeRole"
        f" calls per process (checked): {checked}",
    ]
    return "\n".join(lines)


def at_home(figs) -> list[str]:
    """Issue #13's demand in one line per figure: ours ÷ before on requests without accountId."""
    c = figs.get("canned", {})
    if BEFORE not in c or "ours" not in c:
        return []
    o, b = c["ours"], c[BEFORE]
    rss = {t: _ratio(v["ours"]["peak RSS MiB"], v[BEFORE]["peak RSS MiB"]) for t, v in figs.items() if BEFORE in v}
    return [
        "issue #13, requests without accountId (ours ÷ before; judged in BENCHMARKS.md, not here):",
        f"- init (canned): {_ratio(o['init ms'], b['init ms'])} (CPU {_ratio(o['init CPU ms'], b['init CPU ms'])})",
        f"- first invocation (canned): {_ratio(o['first invocation ms'], b['first invocation ms'])};"
        f" warm p50 {_ratio(o['warm p50 ms'], b['warm p50 ms'])}",
        f"- peak RSS: {', '.join(f'{t} {r}' for t, r in rss.items())}",
        f"- zipped package: {_ratio(o['package zipped MiB'], b['package zipped MiB'])}"
        f" ({o['package zipped MiB']:.2f} MiB against {b['package zipped MiB']:.2f} MiB)",
    ]


def goals(figs) -> list[tuple[str, bool | None, str]]:
    f = figs.get("canned", {})
    o, fl, py = f.get("ours"), f.get("floor"), f.get("python")
    out = []

    def add(name, ok, detail):
        out.append((name, ok, detail))

    if o and fl:
        r = o["init ms"] / fl["init ms"]
        add("init ≤ 1.5× the floor", r <= 1.5, f"{r:.2f}×")
    if o and py:
        r = o["init ms"] / py["init ms"]
        add("init ≤ 0.1× the Python peer", r <= 0.1, f"{r:.3f}×")
        r = o["warm p50 ms"] / py["warm p50 ms"]
        add("warm p50 ≤ 0.2× the Python peer (canned)", r <= 0.2, f"{r:.3f}×")
    if o:
        rss = max(v["ours"]["peak RSS MiB"] for v in figs.values() if "ours" in v)
        add("peak RSS ≤ 24 MiB", rss <= 24, f"{rss:.1f} MiB (worst target)")
        if not math.isnan(o["package zipped MiB"]):
            add("zipped package ≤ 5 MiB", o["package zipped MiB"] <= 5, f"{o['package zipped MiB']:.2f} MiB")
    return out


def loadavg() -> str:
    path = Path("/proc/loadavg")
    return path.read_text().split(" ")[0] if path.exists() else "?"


def machine() -> dict[str, str]:
    def cmd(*argv):
        try:
            return subprocess.run(argv, capture_output=True, text=True, timeout=20, cwd=ROOT).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            return "?"

    cpu = "?"
    with contextlib.suppress(OSError):
        cpu = next(
            (
                ln.split(":", 1)[1].strip()
                for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if ln.startswith("model name")
            ),
            "?",
        )
    return {
        "cpu": cpu,
        "cpus": str(os.cpu_count()),
        "kernel": platform.release(),
        "loadavg": loadavg(),
        "python": platform.python_version(),
        "rustc": cmd("rustc", "--version"),
        "commit": cmd("git", "rev-parse", "--short", "HEAD")
        + (" (dirty)" if cmd("git", "status", "--porcelain", "--untracked-files=no") else ""),
    }


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


# ------------------------------------------------------------------ main


async def bench(args) -> int:
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "logs").mkdir(exist_ok=True)
    (args.out / "home").mkdir(exist_ok=True)
    for log in (args.out / "logs").glob("*.log"):
        log.unlink()
    budget = Budget(args.budget)
    started = time.monotonic()
    load_before = loadavg()

    args.staged = stage_binaries(args)
    canned = await CannedEks().start()
    endpoints = contextlib.ExitStack()
    runs: list[Run] = []
    try:
        eks = None
        if "moto" in args.targets:
            eks = endpoints.enter_context(
                local_eks(args.out / "logs", polls_in_progress=1000, quiet=True, script=BENCH / "localeks_fast.py")
            )
        # Untimed: page cache, the endpoints' own first-request paths (moto loads its
        # backends lazily), the peer's bytecode.
        for rnd in range(-args.warmup, 0):
            for target in args.targets:
                endpoint = canned.url if target == "canned" else eks.url
                for subject in args.subjects:
                    if not runs_in(subject, target):
                        continue
                    await one_process(subject, target, rnd, args, endpoint, eks, canned, budget)
        for rnd in range(args.rounds):
            order = [args.subjects[(rnd + k) % len(args.subjects)] for k in range(len(args.subjects))]
            for target in args.targets:
                endpoint = canned.url if target == "canned" else eks.url
                for subject in order:
                    if not runs_in(subject, target):
                        continue
                    run = await one_process(subject, target, rnd, args, endpoint, eks, canned, budget)
                    runs.append(run)
                    if args.verbose:
                        warm_p50 = statistics.median(run.warm_ms) if run.warm_ms else float("nan")
                        print(
                            f"  round {rnd + 1}/{args.rounds} {target:6} {subject:7} init {run.init_ms:7.1f} ms"
                            f"  first {run.first_ms:7.2f} ms  warm p50 {warm_p50:6.3f} ms"
                            + (f"  first away {run.first_away_ms:7.2f} ms" if run.first_away_ms is not None else "")
                            + f"  VmHWM {(run.vm_hwm_kib or 0) / 1024:5.1f} MiB"
                            f"  CPU/warm {run.warm_cpu_ms or 0:6.3f} ms (harness {run.harness_cpu_ms or 0:6.3f} ms)",
                            flush=True,
                        )
    finally:
        endpoints.close()
        await canned.close()

    sizes = package_sizes(args) if not args.no_sizes else None
    figs = figures(runs, sizes)
    elapsed = time.monotonic() - started
    info = machine()
    info["loadavg"] = f"{load_before} → {info['loadavg']}"
    info["ours"] = (
        f"{args.ours.relative_to(ROOT) if args.ours.is_relative_to(ROOT) else args.ours} sha256:{sha256(args.ours)}"
    )
    info["floor"] = (
        f"{args.floor.relative_to(ROOT) if args.floor.is_relative_to(ROOT) else args.floor} sha256:{sha256(args.floor)}"
    )
    for name in FUNCTIONS:
        if name in args.rust:
            path = args.rust[name]
            info[name] = f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path} sha256:{sha256(path)}"
    if BEFORE in args.rust:
        path = args.rust[BEFORE]
        info[BEFORE] = (
            f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path} sha256:{sha256(path)}"
            f" (built from {args.before_rev or 'an unnamed revision'})"
        )

    report = [
        f"# bench — {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC, {elapsed:.0f} s",
        "",
        "machine: " + ", ".join(f"{k} {v}" for k, v in info.items()),
        f"settings: rounds {args.rounds} (+{args.warmup} untimed), warm {args.warm} per process,"
        f" targets {','.join(args.targets)}, subjects {','.join(args.subjects)}"
        + "".join(
            f", {n} = {p.relative_to(ROOT) if p.is_relative_to(ROOT) else p} sha256:{sha256(p)}"
            for n, p in args.rust.items()
            if is_variant(n)
        )
        + (f", extra env {args.env}" if args.env else "")
        + (f", wrapped in {args.wrap!r}" if args.wrap else ""),
        "",
    ]
    for target in figs:
        report += [table(figs, target), ""]
    functions = functions_table(figs, args.warm + 1)
    if functions:
        report += [functions, ""]
    for target in figs:
        before = before_table(figs, target, args.before_rev)
        if before:
            report += [before, ""]
    for target in figs:
        away = away_table(figs, target)
        if away:
            report += [away, ""]
    if args.smoke:
        report.append("smoke run: every answer checked; the figures mean nothing (a few invocations, any build).")
    else:
        report.append("goals (canned target):")
        for name, ok, detail in goals(figs):
            report.append(f"- {'met    ' if ok else 'NOT MET'} {name}: {detail}")
        home = at_home(figs)
        if home:
            report += ["", *home]
    text = "\n".join(report)
    print(text)
    (args.out / "report.md").write_text(text + "\n")
    (args.out / "results.json").write_text(
        json.dumps(
            {
                "machine": info,
                "settings": {k: str(v) for k, v in vars(args).items()},
                "figures": figs,
                "sizes": sizes,
                "runs": [asdict(r) for r in runs],
            },
            indent=1,
        )
    )
    out = args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out
    print(f"\n(written to {out}/report.md and results.json)")
    return 0


def parse_args(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=20, help="cold starts per subject and target (default 20)")
    ap.add_argument(
        "--warm", type=int, default=50, help="warm invocations per process (default 50; rounds × warm ≥ 1000)"
    )
    ap.add_argument("--targets", default=",".join(TARGETS), help="canned,moto (default both)")
    ap.add_argument(
        "--subjects",
        default=",".join(SUBJECTS + FUNCTIONS + (AWAY,)),
        help="ours,floor,python,planner,away (default all; planner against canned only); before is added by --before",
    )
    ap.add_argument("--warmup", type=int, default=1, help="untimed rounds first (default 1)")
    ap.add_argument(
        "--smoke", action="store_true", help="1 round, 3 warm invocations: checks that it works, times nothing"
    )
    ap.add_argument("--ours", type=Path, default=OURS, help=f"our bootstrap (default {OURS.relative_to(ROOT)})")
    ap.add_argument(
        "--planner",
        type=Path,
        default=PLANNER,
        help=f"the fleet planner's bootstrap (default {PLANNER.relative_to(ROOT)})",
    )
    ap.add_argument(
        "--floor", type=Path, default=FLOOR, help=f"the floor's bootstrap (default {FLOOR.relative_to(ROOT)})"
    )
    ap.add_argument(
        "--before",
        type=Path,
        help="the updater before other accounts (make bench: target/bench-baseline/...), run like ours"
        " on the same events as subject `before`, every figure printed as ours ÷ before",
    )
    ap.add_argument("--before-rev", default="", help="the revision --before was built from, for the report")
    ap.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="NAME=PATH",
        help="one more Rust bootstrap, run like ours in the same rounds (repeatable): A/B a lever",
    )
    ap.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="SUBJECT:KEY=VALUE",
        help="extra environment for one subject (repeatable), e.g. ours:SSL_CERT_FILE=/etc/ssl/cert.pem",
    )
    ap.add_argument("--wrap", default="", help="prefix for every subject's command, e.g. 'valgrind --tool=callgrind'")
    ap.add_argument("--out", type=Path, default=BENCH / "out", help="logs, report.md, results.json (default bench/out)")
    ap.add_argument("--no-sizes", action="store_true", help="skip the package sizes")
    ap.add_argument("--init-timeout", type=float, default=30.0, help="seconds for a process to poll (default 30)")
    ap.add_argument("--timeout", type=float, default=30.0, help="seconds per invocation (default 30)")
    ap.add_argument("--budget", type=float, default=900.0, help="seconds for the whole run (default 900)")
    ap.add_argument("-v", "--verbose", action="store_true", help="a line per process")
    args = ap.parse_args(argv)
    if args.smoke:
        args.rounds, args.warm, args.warmup = 1, 3, 0
    subjects = [s for s in args.subjects.split(",") if s]
    args.rust = {"ours": args.ours.resolve()}
    args.rust |= {name: getattr(args, name).resolve() for name in FUNCTIONS if name in subjects}
    if args.before is not None:
        args.rust[BEFORE] = args.before.resolve()
        subjects += [BEFORE] if BEFORE not in subjects else []
    elif BEFORE in subjects:
        ap.error("subject `before` needs --before PATH (make bench builds it: make bench-baseline)")
    if AWAY in subjects:
        args.rust[AWAY] = args.ours.resolve()
    for v in args.variant:
        name, _, path = v.partition("=")
        if (
            not name
            or not path
            or name in SUBJECTS + FUNCTIONS + (BEFORE, AWAY)
            or not name.replace("-", "").replace("_", "").isalnum()
        ):
            ap.error(f"--variant {v!r}: expected NAME=PATH with a new name of letters, digits, - and _")
        args.rust[name] = Path(path).resolve()
    env: dict[str, dict[str, str]] = {}
    for e in args.env:
        subject, _, kv = e.partition(":")
        key, eq, value = kv.partition("=")
        if not subject or not key or not eq:
            ap.error(f"--env {e!r}: expected SUBJECT:KEY=VALUE")
        env.setdefault(subject, {})[key] = value
    args.env = env
    args.targets = [t for t in args.targets.split(",") if t]
    args.subjects = subjects + [n for n in args.rust if is_variant(n)]
    for t in args.targets:
        if t not in TARGETS:
            ap.error(f"unknown target {t!r}")
    for s in args.subjects:
        if s not in SUBJECTS and s not in FUNCTIONS and s not in args.rust:
            ap.error(f"unknown subject {s!r}")
    if args.rounds < 1 or args.warm < 0:
        ap.error("--rounds must be ≥ 1 and --warm ≥ 0")
    args.ours, args.floor, args.out = args.ours.resolve(), args.floor.resolve(), args.out.resolve()
    for name, path in args.rust.items():
        if is_variant(name) and not path.is_file():
            ap.error(f"--variant {name}: {path} is not a file")
    missing = []
    if "ours" in args.subjects and not args.ours.is_file():
        missing.append(f"{args.ours}: run `make build`")
    missing += [f"{args.rust[n]}: run `make build`" for n in FUNCTIONS if n in args.rust and not args.rust[n].is_file()]
    if BEFORE in args.rust and not args.rust[BEFORE].is_file():
        missing.append(f"{args.rust[BEFORE]}: run `make bench-baseline`")
    if "floor" in args.subjects and not args.floor.is_file():
        missing.append(f"{args.floor}: run `cargo lambda build --release --example hello_runtime`")
    if "python" in args.subjects and not PEER_PYTHON.exists():
        missing.append(
            f"{PEER_PYTHON}: python3.11 -m venv bench/.venv && bench/.venv/bin/pip install -r bench/requirements.txt"
        )
    if missing:
        ap.error("missing:\n  " + "\n  ".join(missing))
    return args


def main() -> int:
    args = parse_args()
    install_sigterm_handler()
    try:
        return asyncio.run(bench(args))
    except (BenchError, HarnessError) as e:
        print(f"bench: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        return 130
    finally:
        stop_all(0.2)


if __name__ == "__main__":
    sys.exit(main())
