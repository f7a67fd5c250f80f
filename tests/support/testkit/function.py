"""The release binaries behind `cargo lambda watch`, the Runtime API most tests use.

- ``runtime_emulator()`` ``cargo lambda watch --only-lambda-apis``: the Runtime API the
  function polls, and the Invoke API we post payloads to;
- ``function_process()`` a bootstrap from ``make build`` (the updater's, or another binary's
  such as the fleet planner's), with per-instance env (e.g. ``ALLOWED_CLUSTERS``), on that
  emulator or on runtime_api.py's;
- ``lambda_function()`` an emulator plus one function process on it, giving
  ``invoke(payload) -> (ok, body)``.

Every process is a processes.Process: its own process group, its log in ``<workdir>/<name>.log``.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from .elf import run_argv
from .httpclient import http
from .local_eks import AWS_ENV
from .paths import BOOTSTRAP, ROOT
from .processes import ANSI, HarnessError, Process, base_env, free_port, port_open, venv_tool

# The function's secret key: localeks checks no signature, so any value works; a distinctive
# one lets tests assert that no answer or log line ever shows it (ARCHITECTURE.md, "Errors": no credentials).
FUNCTION_SECRET = "e2eSecretKeyThatMustNeverBeEchoed0000000"
# The summary line the function writes once per invocation (src/handler.rs).
SUMMARY_MESSAGES = ("node group request done", "node group request failed")


class RuntimeEndpoint(Protocol):
    """What a function process needs from an emulator: its AWS_LAMBDA_RUNTIME_API value."""

    @property
    def runtime_api(self) -> str: ...


# ------------------------------------------------------- cargo lambda watch


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
    cargo_lambda = venv_tool("cargo-lambda")
    last_error = ""
    for attempt in range(attempts):
        port = free_port()
        argv = [cargo_lambda, "lambda", "watch", "--only-lambda-apis", "-A", "127.0.0.1", "-P", str(port)]
        proc = Process(name, argv, cwd=ROOT, env=base_env(), log_path=workdir / f"{name}.log")
        try:
            deadline = time.monotonic() + 60
            ready = False
            while time.monotonic() < deadline:
                if not proc.alive():
                    break
                log = ANSI.sub("", proc.log_text(proc.log_start))
                if f"runtime_addr=127.0.0.1:{port}" in log and port_open(port):
                    # It logs that line before binding: a clash shows as an exit just after.
                    time.sleep(0.3)
                    ready = proc.alive() and port_open(port)
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
        return self.process.log_size()


def is_summary(record: dict[str, Any]) -> bool:
    return record.get("fields", {}).get("message") in SUMMARY_MESSAGES


@contextlib.contextmanager
def function_process(
    emulator: RuntimeEndpoint,
    endpoint_url: str,
    workdir: Path,
    *,
    name: str = "function",
    extra_env: dict[str, str] | None = None,
    bootstrap: Path = BOOTSTRAP,
) -> Iterator[FunctionProcess]:
    """A release bootstrap (the updater's unless `bootstrap` names another binary, e.g.
    PLANNER_BOOTSTRAP), polling `emulator`'s Runtime API; always stopped."""
    if not bootstrap.exists():
        raise HarnessError(f"{bootstrap} is missing: run `make build` first")
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
    env = {**base_env(), **fn_env}
    proc = Process(name, run_argv(bootstrap), cwd=workdir, env=env, log_path=workdir / f"{name}.log")
    try:
        time.sleep(0.05)
        if not proc.alive():
            raise HarnessError(f"the function exited at once ({proc.returncode}):\n{proc.tail()}")
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
        is_error = (
            isinstance(parsed, dict)
            and "errorType" in parsed
            and set(parsed)
            <= {
                "errorType",
                "errorMessage",
                "stackTrace",
            }
        )
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
                result["answer"] = http("POST", self.emulator.invoke_url, body, timeout=timeout)
            except BaseException as err:  # handed to the caller below
                result["error"] = err

        thread = threading.Thread(target=post, name="invoke", daemon=True)
        thread.start()
        while thread.is_alive():
            thread.join(0.1)
            for proc in (self.function.process, self.emulator.process):
                if thread.is_alive() and not proc.alive():
                    raise HarnessError(f"{proc.name} exited ({proc.returncode}) during an invocation:\n{proc.tail()}")
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
    bootstrap: Path = BOOTSTRAP,
) -> Iterator[Lambda]:
    """A Runtime API emulator and one function process on it; both always stopped."""
    with runtime_emulator(workdir, name=f"{name}-emulator") as emulator:
        with function_process(
            emulator, endpoint_url, workdir, name=name, extra_env=extra_env, bootstrap=bootstrap
        ) as fn:
            yield Lambda(emulator=emulator, function=fn)
