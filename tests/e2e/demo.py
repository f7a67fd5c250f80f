#!/usr/bin/env python3
"""`make demo`: the function's main job, end to end, with a readable transcript.

Starts the local EKS endpoint (tests/localeks), cargo lambda's Runtime API emulator and
the release bootstrap; then, for every sample payload in events/, seeds the world the
documented outcomes assume (tests/fixtures/world.json), invokes the function through the
Runtime API and, for a started update, polls DescribeUpdate as the state machine would.

Exit 0 when every event behaved as tests/fixtures/events-expected.json says, 1 otherwise
(2 if the processes could not start, 130 on Ctrl-C). Everything it started is stopped in
every case. Logs stay in a temporary directory when something went wrong.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import suite
import testkit as tk


class Style:
    def __init__(self) -> None:
        self.color = sys.stdout.isatty() and not os.environ.get("NO_COLOR")

    def _wrap(self, code: str, text: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.color else text

    def good(self, text: str) -> str:
        return self._wrap("32", text)

    def bad(self, text: str) -> str:
        return self._wrap("31", text)

    def dim(self, text: str) -> str:
        return self._wrap("2", text)

    def bold(self, text: str) -> str:
        return self._wrap("1", text)


S = Style()


@dataclass
class Row:
    event: str
    expected: str
    got: str
    update: str
    final: str
    ok: bool


def out(line: str = "") -> None:
    print(line, flush=True)


def describe_nodegroup(eks: tk.LocalEks, cluster: str, nodegroup: str) -> dict[str, Any] | None:
    try:
        return eks.describe_nodegroup(cluster, nodegroup)
    except Exception:  # unknown names: the function will say so
        return None


def where(ng: dict[str, Any]) -> str:
    """`1.30 (1.30.4-20241109)`, or for a custom AMI its launch template version."""
    lt = ng.get("launchTemplate") or {}
    if ng.get("amiType") == "CUSTOM":
        return f"{ng['version']}, custom AMI, launch template {lt.get('name') or lt.get('id')} v{lt.get('version')}"
    release = ng.get("releaseVersion")
    text = f"{ng['version']} ({release})" if release else ng["version"]
    if lt:
        text += f", launch template v{lt.get('version')}"
    return text


def context(payload: Any, eks: tk.LocalEks) -> str:
    """What the event asks, next to where the node group is now."""
    envelope = isinstance(payload, dict) and "detail-type" in payload and "detail" in payload
    request = suite.request_of(payload)
    if envelope and not request:
        return f"EventBridge {payload.get('detail-type')!r} from {payload.get('source')}, empty detail"
    if not isinstance(request, dict):
        return "not a JSON object"
    cluster = request.get("clusterName") if isinstance(request.get("clusterName"), str) else "?"
    nodegroup = request.get("nodegroupName") if isinstance(request.get("nodegroupName"), str) else "?"
    via = "EventBridge event, " if envelope else ""
    ng = describe_nodegroup(eks, cluster, nodegroup) if "?" not in (cluster, nodegroup) else None
    asks = []
    version = request.get("version")
    if version == "cluster":
        try:
            cp = eks.eks().describe_cluster(name=cluster)["cluster"]["version"]
            asks.append(f"the cluster's {cp}")
        except Exception:
            asks.append("the cluster's version")
    elif isinstance(version, str):
        asks.append(version)
    if isinstance(request.get("releaseVersion"), str):
        asks.append(f"release {request['releaseVersion']}")
    lt = request.get("launchTemplate")
    if isinstance(lt, dict):
        asks.append(f"launch template {lt.get('name') or lt.get('id')} v{lt.get('version', '$Default')}")
    if not asks:
        asks.append("the latest AMI on its version")
    ask = " + ".join(asks)
    if request.get("dryRun") is True:
        ask += ", dry run"
    if ng is None:
        return f"{via}{cluster}/{nodegroup} → ask {ask}"
    return f"{via}{cluster}/{nodegroup}: {where(ng)} → ask {ask}"


def short(update_id: str) -> str:
    return update_id[:8] + "…"


def run_event(path: Path, lam: tk.Lambda, eks: tk.LocalEks, expected: dict[str, Any] | None) -> Row:
    name = path.name
    eks.reset()
    eks.seed(suite.world())
    payload = suite.load_json(path)
    out(S.bold(f"▶ events/{name}") + f"  ({context(payload, eks)})")
    problems: list[str] = []
    if expected is None:
        problems.append("no expectation in tests/fixtures/events-expected.json")
        expected = {}

    ok, body = lam.invoke(payload)
    update_text, final_text = "-", "-"
    if not ok:
        got = body["errorType"]
        out(f"  error {S.bad(got)}: {body['errorMessage']}")
        if "errorType" not in expected:
            problems.append(f"expected outcome {expected.get('outcome')}, got error {got}")
        else:
            if got != expected["errorType"]:
                problems.append(f"expected error {expected['errorType']}, got {got}")
            if expected.get("message", "") not in body["errorMessage"]:
                problems.append(f"message lacks {expected['message']!r}")
    else:
        got = body["outcome"]
        update = body["update"]
        line = f"  outcome {S.good(got)}"
        if update:
            update_text = short(update["id"])
            line += (
                f", update {update_text} ({update['type']}, "
                + ", ".join(f"{p['type']} {p['value']}" for p in update["params"])
                + ")"
            )
        out(line)
        if got == "DryRun":
            out(f"  would send UpdateNodegroupVersion {json.dumps(body['request'])}")
        target = body["target"]
        if target.get("latestReleaseVersion"):
            out(
                f"  latest release {target['latestReleaseVersion']}, published {target['latestReleasePublishedAt']}"
                f" ({target['latestReleaseAgeDays']} days ago)"
            )
        if got == "Deferred":
            out("  held back by the soak gate: younger than minReleaseAgeDays, no update call")
        if got != expected.get("outcome"):
            problems.append(f"expected {expected.get('errorType') or expected.get('outcome')}, got {got}")
        if update and got in ("Started", "AlreadyInProgress"):
            cluster, nodegroup = body["clusterName"], body["nodegroupName"]
            statuses, final = eks.poll_update(cluster, nodegroup, update["id"])
            out("  poll: " + " → ".join(statuses))
            for error in final.get("errors") or []:
                out(f"  update error {error.get('errorCode')}: {error.get('errorMessage')}")
            ng = eks.describe_nodegroup(cluster, nodegroup)
            moved = "now" if final["status"] == "Successful" else "still"
            out(f"  node group {moved} {where(ng)}, {ng['status']}")
            final_text = f"{final['status']}, {ng['version']}"
            if "finalStatus" in expected and final["status"] != expected["finalStatus"]:
                problems.append(f"expected the update to end {expected['finalStatus']}, it ended {final['status']}")
            if "finalVersion" in expected and ng["version"] != expected["finalVersion"]:
                problems.append(f"expected the node group at {expected['finalVersion']}, it is at {ng['version']}")
            if final["status"] == "Failed" and not any(
                e.get("errorCode") == "PodEvictionFailure" for e in final.get("errors") or []
            ):
                problems.append("a failed update without PodEvictionFailure")

    expected_text = expected.get("errorType") or expected.get("outcome") or "?"
    if "finalStatus" in expected:
        expected_text += f" → {expected['finalStatus']}, {expected.get('finalVersion')}"
    if problems:
        for problem in problems:
            out("  " + S.bad(f"✗ {problem}"))
    else:
        out("  " + S.good("✓ as documented"))
    out()
    return Row(name, expected_text, got, update_text, final_text, not problems)


def table(rows: list[Row]) -> None:
    head = ("event", "expected", "got", "update", "final", "")
    cells = [head] + [(r.event, r.expected, r.got, r.update, r.final, "ok" if r.ok else "FAIL") for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(head))]
    for i, c in enumerate(cells):
        line = "  ".join(text.ljust(widths[j]) for j, text in enumerate(c)).rstrip()
        if i == 0:
            out(S.bold(line))
            out("  ".join("-" * w for w in widths))
        else:
            out(S.good(line) if rows[i - 1].ok else S.bad(line))


def main() -> int:
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="replace")
    tk.install_sigterm_handler()
    expected = suite.events_expected()
    files = suite.event_files()
    workdir = Path(tempfile.mkdtemp(prefix="eks-nodegroup-updater-demo-"))
    started = time.monotonic()
    rows: list[Row] = []
    keep_logs = True
    try:
        out(
            S.dim(
                f"starting the local EKS endpoint, the Runtime API emulator and {tk.BOOTSTRAP.relative_to(tk.ROOT)} …"
            )
        )
        with tk.local_eks(workdir) as eks, tk.lambda_function(eks.url, workdir) as lam:
            out(S.dim(f"endpoint {eks.url}, invoke {lam.emulator.invoke_url}; world: tests/fixtures/world.json"))
            out()
            for path in files:
                rows.append(run_event(path, lam, eks, expected.get(path.name)))
            if not lam.function.alive():
                out(S.bad("the function process died"))
                rows.append(Row("(function process)", "alive", "exited", "-", "-", False))
        missing = sorted(set(expected) - {p.name for p in files})
        for name in missing:
            rows.append(Row(name, "a file in events/", "missing", "-", "-", False))
        table(rows)
        passed = sum(r.ok for r in rows)
        ok = passed == len(rows) and bool(rows)
        out()
        summary = f"{passed}/{len(rows)} events as documented in {time.monotonic() - started:.1f} s"
        out(S.good(summary) if ok else S.bad(summary))
        keep_logs = not ok
        return 0 if ok else 1
    except KeyboardInterrupt:
        out()
        out(S.bad("interrupted; everything started has been stopped"))
        return 130
    except tk.HarnessError as err:
        out(S.bad(f"could not run the demo: {err}"))
        return 2
    finally:
        if keep_logs:
            out(S.dim(f"process logs: {workdir}"))
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
