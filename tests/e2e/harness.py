"""End-to-end harness: the release binary behind the Lambda Runtime API, against localeks.

Three processes, each started by a context manager that always stops it (also on an
exception or Ctrl-C), each in its own process group so nothing it spawned survives it:

- ``local_eks()``      the stateful local EKS endpoint (tests/localeks, moto based);
- ``runtime_emulator()`` ``cargo lambda watch --only-lambda-apis``: the Runtime API the
  function polls, and the Invoke API we post payloads to;
- ``function_process()`` the bootstrap from ``make build``, with per-instance env
  (e.g. ``ALLOWED_CLUSTERS``).

``lambda_function()`` starts an emulator plus one function process on it and gives
``invoke(payload) -> (ok, body)``. ``LocalEks`` wraps the endpoint's admin API (seed,
state, reset, config, faults, finish-updates), a boto3 EKS client and ``poll_update``.

Every process writes stdout+stderr to ``<workdir>/<name>.log``; ``Process.tail()``
gives the end of it for a failing test's report. Nothing here imports pytest.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = ROOT / ".venv" / "bin"
BOOTSTRAP = ROOT / "target" / "lambda" / "eks-nodegroup-updater" / "bootstrap"
LOCALEKS_DIR = ROOT / "tests" / "localeks"
EVENTS_DIR = ROOT / "events"
FIXTURES_DIR = ROOT / "tests" / "fixtures"

REGION = "us-east-1"
# Fake credentials for the local endpoint only (moto checks no signature).
AWS_ENV = {
    "AWS_REGION": REGION,
    "AWS_DEFAULT_REGION": REGION,
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
}
# The function's secret key: localeks checks no signature, so any value works; a distinctive
# one lets tests assert that no answer or log line ever shows it (DESIGN: no credentials).
FUNCTION_SECRET = "e2eSecretKeyThatMustNeverBeEchoed0000000"
# The summary line the function writes once per invocation (src/handler.rs).
SUMMARY_MESSAGES = ("node group request done", "node group request failed")
ANSI = re.compile(r"\x1b\[[0-9;]*m")


# Measurements the hardening tests record (section, case, result, attempts, wall time, ...):
# printed at the end of the run, and written as JSON to $RELIABILITY_FIGURES when that is set.
FIGURES: list[dict[str, Any]] = []


def record(section: str, case: str, **values: Any) -> None:
    FIGURES.append({"section": section, "case": case, **values})


class HarnessError(RuntimeError):
    """A process did not start, or an endpoint answered something unusable."""


# ------------------------------------------------------------------ processes

_LIVE: set["Process"] = set()


def _stop_all_live() -> None:
    for proc in list(_LIVE):
        proc.stop()


# Last line of defence (e.g. an exception escaping outside a `with`): the context
# managers below are what normally stop everything.
atexit.register(_stop_all_live)


def install_sigterm_handler() -> None:
    """Turn SIGTERM into KeyboardInterrupt, so `finally` blocks stop the processes."""

    def on_term(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    if hasattr(signal, "SIGTERM"):
        signal.signal(signal.SIGTERM, on_term)


def _group_members(pgid: int) -> list[int]:
    """Pids still in process group `pgid` (Linux /proc; empty elsewhere)."""
    members = []
    proc = Path("/proc")
    if not proc.is_dir():
        return members
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid pgrp ...; comm may hold spaces and parentheses.
        fields = stat[stat.rfind(")") + 2 :].split()
        if len(fields) > 2 and fields[2] == str(pgid) and fields[0] != "Z":
            members.append(int(entry.name))
    return members


class Process:
    """A child in its own session/process group, its output in a log file."""

    def __init__(self, name: str, argv: list[str], *, cwd: Path, env: dict[str, str], log_path: Path) -> None:
        self.name = name
        self.argv = argv
        self.log_path = log_path
        self._log = open(log_path, "ab")
        try:
            self.popen = subprocess.Popen(
                argv,
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stop() ends all of it
            )
        except BaseException:
            self._log.close()
            raise
        self.pgid = self.popen.pid
        self._stopped = False
        _LIVE.add(self)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self, timeout: float = 5.0) -> int | None:
        """SIGTERM the group, SIGKILL what is left after `timeout`; returns the exit code."""
        if self._stopped:
            return self.popen.returncode
        self._stopped = True
        try:
            if self.alive():
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(self.pgid, signal.SIGTERM)
                try:
                    self.popen.wait(timeout)
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(ProcessLookupError, PermissionError):
                        os.killpg(self.pgid, signal.SIGKILL)
                    self.popen.wait(timeout)
            # Anything the leader left behind in its group (the pgid cannot be reused
            # while a member is alive, so this never hits a stranger).
            if _group_members(self.pgid):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(self.pgid, signal.SIGKILL)
        finally:
            self._log.close()
            _LIVE.discard(self)
        return self.popen.returncode

    def log_text(self, start: int = 0) -> str:
        """The log from byte `start` (a `log_size()` taken earlier) to its end."""
        try:
            with open(self.log_path, "rb") as f:
                f.seek(start)
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def tail(self, lines: int = 25, width: int = 400) -> str:
        """The last `lines` lines of the log, each cut to `width` characters."""
        out = []
        for line in self.log_text().splitlines()[-lines:]:
            out.append(line if len(line) <= width else line[:width] + " …")
        return "\n".join(out)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def _venv_tool(name: str) -> str:
    candidate = VENV_BIN / name
    if candidate.exists():
        return str(candidate)
    raise HarnessError(f"{candidate} is missing: run `make venv` first")


def _python() -> str:
    candidate = VENV_BIN / "python"
    return str(candidate) if candidate.exists() else sys.executable


def _base_env() -> dict[str, str]:
    env = dict(os.environ)
    # Never let a developer's own AWS setup leak into the local runs.
    for key in list(env):
        if key.startswith("AWS_"):
            del env[key]
    # Nor a shell's TLS trust overrides: they change which CAs the function trusts (src/tls.rs).
    env.pop("SSL_CERT_FILE", None)
    env.pop("SSL_CERT_DIR", None)
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env["NO_COLOR"] = "1"
    return env


# ------------------------------------------------------------- HTTP helpers


def _http(method: str, url: str, body: bytes | None = None, timeout: float = 30.0) -> tuple[int, bytes]:
    req = urllib.request.Request(url, data=body, method=method)
    if body is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


# ------------------------------------------------------------ local endpoint


@dataclass
class LocalEks:
    url: str
    process: Process
    _client: Any = None

    # admin API
    def admin(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        data = None if body is None else json.dumps(body).encode()
        status, raw = _http(method, f"{self.url}/_localeks/{path.lstrip('/')}", data)
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

    def finish_updates(self, **which: str) -> dict[str, Any]:
        return self.admin("POST", "finish-updates", which)

    # reading the state back
    def nodegroup_state(self, cluster: str, nodegroup: str) -> dict[str, Any]:
        for c in self.state()["clusters"]:
            if c["name"] == cluster:
                for ng in c["nodegroups"]:
                    if ng["name"] == nodegroup:
                        return ng
        raise KeyError(f"{cluster}/{nodegroup} not in localeks state")

    def update_calls_total(self) -> int:
        return self.state()["updateNodegroupVersionCallsTotal"]

    # the EKS API, as a client sees it
    def eks(self) -> Any:
        """A boto3 EKS client pointed at the endpoint (no retries: see every answer)."""
        if self._client is None:
            import boto3
            from botocore.config import Config

            self._client = boto3.client(
                "eks",
                endpoint_url=self.url,
                region_name=REGION,
                aws_access_key_id=AWS_ENV["AWS_ACCESS_KEY_ID"],
                aws_secret_access_key=AWS_ENV["AWS_SECRET_ACCESS_KEY"],
                config=Config(retries={"max_attempts": 1, "mode": "standard"}),
            )
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
def local_eks(workdir: Path, *, name: str = "localeks", polls_in_progress: int | None = None) -> Iterator[LocalEks]:
    """Start localeks on a free port; always stop it."""
    port_file = workdir / f"{name}.url"
    port_file.unlink(missing_ok=True)
    argv = [_python(), "-m", "localeks", "--port", "0", "--port-file", str(port_file)]
    if polls_in_progress is not None:
        argv += ["--polls-in-progress", str(polls_in_progress)]
    env = _base_env()
    env["PYTHONPATH"] = str(LOCALEKS_DIR) + os.pathsep + env.get("PYTHONPATH", "")
    proc = Process(name, argv, cwd=LOCALEKS_DIR, env=env, log_path=workdir / f"{name}.log")
    try:
        deadline = time.monotonic() + 60
        while not port_file.exists():
            if not proc.alive():
                raise HarnessError(f"localeks exited ({proc.popen.returncode}) before listening:\n{proc.tail()}")
            if time.monotonic() > deadline:
                raise HarnessError(f"localeks did not listen within 60 s:\n{proc.tail()}")
            time.sleep(0.05)
        endpoint = LocalEks(url=port_file.read_text().strip(), process=proc)
        endpoint.admin("GET", "health")
        yield endpoint
    finally:
        proc.stop()


# ------------------------------------------------------- Runtime API emulator


@dataclass
class Emulator:
    port: int
    process: Process

    @property
    def runtime_api(self) -> str:
        return f"http://127.0.0.1:{self.port}/.rt"

    @property
    def invoke_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/2015-03-31/functions/_/invocations"


@contextlib.contextmanager
def runtime_emulator(workdir: Path, *, name: str = "emulator", attempts: int = 5) -> Iterator[Emulator]:
    """`cargo lambda watch --only-lambda-apis` on a free port (retried on a clash); always stopped."""
    cargo_lambda = _venv_tool("cargo-lambda")
    last_error = ""
    for attempt in range(attempts):
        port = free_port()
        argv = [cargo_lambda, "lambda", "watch", "--only-lambda-apis", "-A", "127.0.0.1", "-P", str(port)]
        proc = Process(name, argv, cwd=ROOT, env=_base_env(), log_path=workdir / f"{name}.log")
        try:
            deadline = time.monotonic() + 60
            ready = False
            while time.monotonic() < deadline:
                if not proc.alive():
                    break
                log = ANSI.sub("", proc.log_text())
                if f"runtime_addr=127.0.0.1:{port}" in log and _port_open(port):
                    # It logs that line before binding: a clash shows as an exit just after.
                    time.sleep(0.3)
                    ready = proc.alive() and _port_open(port)
                    break
                time.sleep(0.1)
            if ready:
                yield Emulator(port=port, process=proc)
                return
            last_error = f"attempt {attempt + 1} on port {port}:\n{proc.tail()}"
        finally:
            proc.stop()
    raise HarnessError(f"cargo lambda watch did not start after {attempts} attempts; last {last_error}")


# ---------------------------------------------------------- function process


@dataclass
class FunctionProcess:
    process: Process
    env: dict[str, str]

    def alive(self) -> bool:
        return self.process.alive()

    def records(self, start: int = 0) -> list[dict[str, Any]]:
        """The JSON log records from byte `start` of the log (other lines skipped)."""
        with open(self.process.log_path, "rb") as f:
            f.seek(start)
            raw = f.read()
        out = []
        for line in raw.decode(errors="replace").splitlines():
            line = line.strip()
            if line.startswith("{"):
                with contextlib.suppress(ValueError):
                    out.append(json.loads(line))
        return out

    def log_size(self) -> int:
        return self.process.log_path.stat().st_size


def is_summary(record: dict[str, Any]) -> bool:
    return record.get("fields", {}).get("message") in SUMMARY_MESSAGES


@contextlib.contextmanager
def function_process(
    emulator: Emulator,
    endpoint_url: str,
    workdir: Path,
    *,
    name: str = "function",
    extra_env: dict[str, str] | None = None,
) -> Iterator[FunctionProcess]:
    """The release bootstrap, polling `emulator`'s Runtime API; always stopped."""
    if not BOOTSTRAP.exists():
        raise HarnessError(f"{BOOTSTRAP} is missing: run `make build` first")
    fn_env = {
        "AWS_LAMBDA_RUNTIME_API": emulator.runtime_api,
        "AWS_LAMBDA_FUNCTION_NAME": "_",
        "AWS_LAMBDA_FUNCTION_VERSION": "1",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
        "AWS_LAMBDA_LOG_FORMAT": "JSON",
        "AWS_ENDPOINT_URL": endpoint_url,
        **AWS_ENV,
        "AWS_SECRET_ACCESS_KEY": FUNCTION_SECRET,
        **(extra_env or {}),
    }
    env = {**_base_env(), **fn_env}
    proc = Process(name, [str(BOOTSTRAP)], cwd=workdir, env=env, log_path=workdir / f"{name}.log")
    try:
        time.sleep(0.05)
        if not proc.alive():
            raise HarnessError(f"the function exited at once ({proc.popen.returncode}):\n{proc.tail()}")
        yield FunctionProcess(process=proc, env=fn_env)
    finally:
        proc.stop()


# ------------------------------------------------------------ emulator + function


@dataclass
class Invocation:
    ok: bool
    body: Any
    status: int
    records: list[dict[str, Any]] = field(default_factory=list)

    @property
    def summaries(self) -> list[dict[str, Any]]:
        return [r for r in self.records if is_summary(r)]


@dataclass
class Lambda:
    emulator: Emulator
    function: FunctionProcess
    last: Invocation | None = None

    def invoke(self, payload: Any, *, raw: bool = False, timeout: float = 60.0) -> tuple[bool, Any]:
        """Invoke through the Runtime API. `raw=True` sends `payload` (str/bytes) as the body.

        Returns (ok, body): ok is False for a function error, whose body is
        {"errorType", "errorMessage"} (cargo lambda answers those with HTTP 500).
        """
        if raw:
            body = payload.encode() if isinstance(payload, str) else bytes(payload)
        else:
            body = json.dumps(payload).encode()
        start = self.function.log_size()
        status, answer = self._post_watching(body, timeout)
        try:
            parsed = json.loads(answer)
        except ValueError:
            raise HarnessError(f"invoke answered {status} with a body that is not JSON: {answer[:300]!r}") from None
        is_error = isinstance(parsed, dict) and "errorType" in parsed and set(parsed) <= {
            "errorType",
            "errorMessage",
            "stackTrace",
        }
        if status == 200 and not is_error:
            ok = True
        elif is_error and (status == 200 or status >= 400):
            ok = False
        else:
            raise HarnessError(f"invoke answered {status}: {parsed}")
        # The summary line is written before the answer is sent; allow a moment for the
        # file to show it anyway.
        records: list[dict[str, Any]] = []
        deadline = time.monotonic() + 2.0
        while True:
            records = self.function.records(start)
            if any(is_summary(r) for r in records) or time.monotonic() > deadline:
                break
            time.sleep(0.02)
        self.last = Invocation(ok=ok, body=parsed, status=status, records=records)
        return ok, parsed


    def _post_watching(self, body: bytes, timeout: float) -> tuple[int, bytes]:
        """POST the invocation; fail fast (not after `timeout`) if a process dies meanwhile."""
        result: dict[str, Any] = {}

        def post() -> None:
            try:
                result["answer"] = _http("POST", self.emulator.invoke_url, body, timeout=timeout)
            except BaseException as err:  # handed to the caller below
                result["error"] = err

        thread = threading.Thread(target=post, name="invoke", daemon=True)
        thread.start()
        while thread.is_alive():
            thread.join(0.1)
            for proc in (self.function.process, self.emulator.process):
                if thread.is_alive() and not proc.alive():
                    raise HarnessError(
                        f"{proc.name} exited ({proc.popen.returncode}) during an invocation:\n{proc.tail()}"
                    )
        if "error" in result:
            raise HarnessError(f"invoke failed: {result['error']!r}") from result["error"]
        return result["answer"]


@contextlib.contextmanager
def lambda_function(
    endpoint_url: str,
    workdir: Path,
    *,
    name: str = "function",
    extra_env: dict[str, str] | None = None,
) -> Iterator[Lambda]:
    """A Runtime API emulator and one function process on it; both always stopped."""
    with runtime_emulator(workdir, name=f"{name}-emulator") as emulator:
        with function_process(emulator, endpoint_url, workdir, name=name, extra_env=extra_env) as fn:
            yield Lambda(emulator=emulator, function=fn)


def bootstrap_newer_sources() -> list[Path]:
    """Sources changed after the bootstrap was built (empty: it is current, or absent)."""
    if not BOOTSTRAP.exists():
        return []
    built = BOOTSTRAP.stat().st_mtime
    sources = [ROOT / "Cargo.toml", ROOT / "Cargo.lock", *sorted((ROOT / "src").rglob("*.rs"))]
    return [p for p in sources if p.exists() and p.stat().st_mtime > built]


# ------------------------------------------------------------------- fixtures


def load_json(path: Path) -> Any:
    return json.loads(Path(path).read_text())


def world() -> dict[str, Any]:
    return load_json(FIXTURES_DIR / "world.json")


def events_expected() -> dict[str, Any]:
    return load_json(FIXTURES_DIR / "events-expected.json")


def event_files() -> list[Path]:
    return sorted(EVENTS_DIR.glob("*.json"))


def request_of(payload: Any) -> Any:
    """The request inside a payload: an EventBridge envelope's detail, else the payload."""
    if isinstance(payload, dict) and "detail-type" in payload and "detail" in payload:
        return payload["detail"]
    return payload
