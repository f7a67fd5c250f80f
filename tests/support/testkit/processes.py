"""Child processes in their own process groups, each with a log file, always stopped.

``Process`` starts a child in a new session (so its own process group): ``stop()`` ends the
whole group, so nothing it spawned survives it. Every live ``Process`` is also stopped at
interpreter exit, and ``install_sigterm_handler()`` makes SIGTERM unwind like Ctrl-C, so the
``finally`` blocks and context managers that normally stop processes run on a CI timeout too.

stdout and stderr go to one log file; ``tail()`` gives its end for a failure report, and
``wait_for()`` waits for a line in it (how a server says it is ready: see local_eks.py).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from .paths import VENV_BIN

ANSI = re.compile(r"\x1b\[[0-9;]*m")


class HarnessError(RuntimeError):
    """A process did not start, or an endpoint answered something unusable."""


_LIVE: set[Process] = set()


def live() -> list[Process]:
    """The processes started here and not stopped yet, by name."""
    return sorted(_LIVE, key=lambda p: p.name)


def stop_all(timeout: float = 5.0) -> None:
    for proc in list(_LIVE):
        proc.stop(timeout)


# Last line of defence (e.g. an exception escaping outside a `with`): the context
# managers and `finally` blocks of the callers are what normally stop everything.
atexit.register(stop_all)


def install_sigterm_handler() -> None:
    """Turn SIGTERM into KeyboardInterrupt, so `finally` blocks stop the processes."""

    def on_term(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    if hasattr(signal, "SIGTERM"):
        signal.signal(signal.SIGTERM, on_term)


def _group_members(pgid: int) -> list[int]:
    """Pids still in process group `pgid` (Linux /proc; empty elsewhere)."""
    members: list[int] = []
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
        self._log = open(log_path, "ab")  # closed by stop()
        # Where this run's output starts: a log may hold an earlier run's under the same name.
        self.log_start = self._log.tell()
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

    @property
    def returncode(self) -> int | None:
        return self.popen.returncode

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
                    self.popen.wait(max(timeout, 5.0))
            # Anything the leader left behind in its group (the pgid cannot be reused
            # while a member is alive, so this never hits a stranger).
            if _group_members(self.pgid):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(self.pgid, signal.SIGKILL)
        finally:
            self._log.close()
            _LIVE.discard(self)
        return self.popen.returncode

    def log_size(self) -> int:
        return self.log_path.stat().st_size

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

    def wait_for(self, pattern: re.Pattern[str], *, timeout: float = 60.0, what: str = "start") -> re.Match[str]:
        """The first match of `pattern` in the log (colour codes removed), once it is there.

        Raises HarnessError, with the log's end, if the process exits or `timeout` passes first.
        """
        deadline = time.monotonic() + timeout
        while True:
            found = pattern.search(ANSI.sub("", self.log_text(self.log_start)))
            if found:
                return found
            if not self.alive():
                raise HarnessError(f"{self.name} exited ({self.returncode}) before it did {what}:\n{self.tail()}")
            if time.monotonic() > deadline:
                raise HarnessError(f"{self.name} did not {what} within {timeout:.0f} s:\n{self.tail()}")
            time.sleep(0.05)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def venv_tool(name: str) -> str:
    candidate = VENV_BIN / name
    if candidate.exists():
        return str(candidate)
    raise HarnessError(f"{candidate} is missing: run `make venv` first")


def venv_python() -> str:
    """The project's .venv python (moto and the pinned tools), else this interpreter."""
    candidate = VENV_BIN / "python"
    return str(candidate) if candidate.exists() else sys.executable


def base_env() -> dict[str, str]:
    """This process's environment, without anything that could reach or trust a real AWS."""
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
