"""What only the end-to-end tier needs beside testkit: its fixture data and the figures it records.

The processes (localeks, `cargo lambda watch`, the release bootstrap) and the Runtime API
emulator come from testkit (tests/support/testkit), shared with tests/sam and bench/.
Nothing here imports pytest.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from testkit import EVENTS_DIR, FIXTURES_DIR

# Measurements the hardening tests record (section, case, result, attempts, wall time, ...):
# printed at the end of the run, and written as JSON to $RELIABILITY_FIGURES when that is set.
FIGURES: list[dict[str, Any]] = []


def record(section: str, case: str, **values: Any) -> None:
    FIGURES.append({"section": section, "case": case, **values})


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
