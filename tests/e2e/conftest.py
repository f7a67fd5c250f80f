"""Fixtures for the end-to-end tier: one endpoint, one emulator and one function process
per test module (startup costs ~1-2 s), the endpoint reset (and reseeded) per test.

On a failing test the tail of every running process's log is added to the report.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

import suite
import testkit as tk


def pytest_configure(config: pytest.Config) -> None:
    # SIGTERM (e.g. a CI timeout) unwinds like Ctrl-C, so fixtures stop their processes.
    tk.install_sigterm_handler()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("e2e")


@pytest.fixture(scope="module")
def endpoint(workdir: Path) -> Iterator[tk.LocalEks]:
    with tk.local_eks(workdir) as eks:
        yield eks


@pytest.fixture(scope="module")
def lam(endpoint: tk.LocalEks, workdir: Path) -> Iterator[tk.Lambda]:
    """The function, any cluster allowed."""
    with tk.lambda_function(endpoint.url, workdir, name="function") as fn:
        yield fn


@pytest.fixture(scope="module")
def restricted_lam(endpoint: tk.LocalEks, workdir: Path) -> Iterator[tk.Lambda]:
    """A second function (own emulator) with ALLOWED_CLUSTERS=staging-*."""
    with tk.lambda_function(
        endpoint.url,
        workdir,
        name="function-staging-only",
        extra_env={"ALLOWED_CLUSTERS": "staging-*"},
    ) as fn:
        yield fn


@pytest.fixture
def eks(endpoint: tk.LocalEks) -> tk.LocalEks:
    """The endpoint, emptied: no clusters, updates, SSM parameters or faults; default config."""
    endpoint.reset()
    return endpoint


@pytest.fixture
def world_eks(eks: tk.LocalEks) -> tk.LocalEks:
    """The endpoint holding tests/fixtures/world.json (what events-expected.json assumes)."""
    eks.seed(suite.world())
    return eks


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    report = yield
    if report.failed:
        for proc in tk.live():
            report.sections.append((f"{proc.name} log (end of {proc.log_path})", proc.tail()))
    return report


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if suite.FIGURES:
        terminalreporter.section("hardening figures (RELIABILITY.md)")
        for fig in suite.FIGURES:
            rest = {k: v for k, v in fig.items() if k not in ("section", "case")}
            text = ", ".join(f"{k}={v:.2f}" if isinstance(v, float) else f"{k}={v}" for k, v in rest.items())
            terminalreporter.write_line(f"{fig['section']:<13} {fig['case']:<52} {text}")
        target = os.environ.get("RELIABILITY_FIGURES")
        if target:
            Path(target).write_text(json.dumps(suite.FIGURES, indent=1) + "\n")
    newer = tk.bootstrap_newer_sources()
    if newer:
        names = ", ".join(str(p.relative_to(tk.ROOT)) for p in newer[:5]) + (" …" if len(newer) > 5 else "")
        terminalreporter.write_line(
            f"warning: the end-to-end tier ran {tk.BOOTSTRAP.relative_to(tk.ROOT)}, built before changes to {names}; "
            "run `make build` (make e2e does) to test the current code",
            yellow=True,
        )
