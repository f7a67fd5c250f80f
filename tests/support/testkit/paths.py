"""Where things are: the repository, the project's virtualenv, the release binaries."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
VENV_BIN = ROOT / ".venv" / "bin"
BOOTSTRAP = ROOT / "target" / "lambda" / "eks-nodegroup-updater" / "bootstrap"
# The fleet planner's binary (src/bin/eks-fleet-planner.rs), built beside the updater's.
PLANNER_BOOTSTRAP = ROOT / "target" / "lambda" / "eks-fleet-planner" / "bootstrap"
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
