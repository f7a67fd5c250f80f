"""Where things are: the repository, the project's virtualenv, the release binaries."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
VENV_BIN = ROOT / ".venv" / "bin"


def _bootstrap_dir() -> Path:
    """Where `cargo lambda build` put the bootstraps (``<dir>/<binary>/bootstrap``): the one
    setting that chooses the binaries every tier runs. ``BOOTSTRAP_DIR`` (relative to the
    repository, or absolute), default target/lambda (``make build``, x86-64); ``make test-arm64``
    sets target/lambda-arm64, and ``elf.run_argv`` runs those under qemu-aarch64."""
    chosen = Path(os.environ.get("BOOTSTRAP_DIR") or "target/lambda")
    return chosen if chosen.is_absolute() else ROOT / chosen


# The package's Lambda binaries: the updater's (src/main.rs) and the fleet planner's
# (src/bin/eks-fleet-planner.rs), built side by side.
BINARIES = ("eks-nodegroup-updater", "eks-fleet-planner")
BOOTSTRAP_DIR = _bootstrap_dir()
BOOTSTRAP, PLANNER_BOOTSTRAP = (BOOTSTRAP_DIR / name / "bootstrap" for name in BINARIES)
LOCALEKS_DIR = ROOT / "tests" / "localeks"
EVENTS_DIR = ROOT / "events"
FIXTURES_DIR = ROOT / "tests" / "fixtures"


def bootstrap_newer_sources() -> list[Path]:
    """Sources changed after the bootstrap was built (empty: it is current, or absent)."""
    if not BOOTSTRAP.exists():
        return []
    built = BOOTSTRAP.stat().st_mtime
    sources = [ROOT / "Cargo.toml", ROOT / "Cargo.lock", *sorted((ROOT / "src").rglob("*.rs"))]
    return [p for p in sources if p.exists() and p.stat().st_mtime > built]
