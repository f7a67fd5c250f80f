"""Lambda's OS can start the bootstraps: what each asks of the system, read from its ELF file.

The template's runtime is `provided.al2023`: Amazon Linux 2023, glibc 2.34, on x86-64 or arm64
(the template's `Architecture`). A binary linked against a newer glibc's symbols (a toolchain
or linker change is enough) is refused by the loader before `main`: every invocation would
fail with Runtime.InvalidEntrypoint, and nothing in the other tiers (run here, on a newer
glibc) would notice. These tests read the bootstraps the tiers run (``BOOTSTRAP_DIR``: x86-64
in `make test`, arm64 in `make test-arm64`), and prove on a binary built for the purpose that
the check sees a newer glibc when there is one.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

import testkit as tk

# Amazon Linux 2023's glibc (the provided.al2023 runtime).
AL2023_GLIBC = (2, 34)
# The loader each architecture's binaries name, at the path Amazon Linux 2023 has it.
LOADERS = {"x86_64": "/lib64/ld-linux-x86-64.so.2", "aarch64": "/lib/ld-linux-aarch64.so.1"}
# Shared libraries every glibc system has, Amazon Linux 2023's minimal runtime image among them:
# glibc's own (zig links its own unwinder statically, so not even libgcc_s is needed).
AL2023_LIBRARIES = {
    "libc.so.6",
    "libm.so.6",
    "libdl.so.2",
    "libpthread.so.0",
    "librt.so.1",
    "libutil.so.1",
    "ld-linux-x86-64.so.2",
    "ld-linux-aarch64.so.1",
}

BOOTSTRAPS = {"updater": tk.BOOTSTRAP, "planner": tk.PLANNER_BOOTSTRAP}


def dotted(version: tuple[int, ...]) -> str:
    return ".".join(map(str, version))


def startable_on_al2023(req: tk.Requirements, machine: str) -> list[str]:
    """Why a binary with `req`, built for `machine`, would not start on provided.al2023 (empty: it would)."""
    why = []
    newest = req.newest_glibc
    if newest is not None and newest > AL2023_GLIBC:
        needs = [v for v in req.glibc_versions if (tk.glibc_version(v) or ()) > AL2023_GLIBC]
        why.append(f"needs glibc {dotted(newest)} ({', '.join(needs)}); Amazon Linux 2023 has {dotted(AL2023_GLIBC)}")
    if req.interpreter != LOADERS.get(machine):
        why.append(f"asks for the loader {req.interpreter}, not {LOADERS.get(machine)}")
    extra = sorted(set(req.libraries) - AL2023_LIBRARIES)
    if extra:
        why.append(f"links {', '.join(extra)}, not in the runtime's base image")
    return why


@pytest.fixture(scope="module", params=sorted(BOOTSTRAPS))
def bootstrap(request: pytest.FixtureRequest) -> Path:
    path = BOOTSTRAPS[request.param]
    if not path.exists():
        pytest.fail(f"{path} is missing: run `make build` (or `make build-arm64` with BOOTSTRAP_DIR)")
    return path


def test_bootstrap_starts_on_amazon_linux_2023(bootstrap: Path) -> None:
    machine = tk.machine(bootstrap)
    assert machine in LOADERS, f"{bootstrap} is built for {machine}; Lambda runs x86_64 and arm64"
    req = tk.requirements(bootstrap)
    assert req.newest_glibc is not None, f"{bootstrap} names no glibc version: not a glibc binary?"
    assert startable_on_al2023(req, machine) == [], bootstrap


def test_both_bootstraps_are_built_for_one_architecture() -> None:
    machines = {name: tk.machine(path) for name, path in BOOTSTRAPS.items() if path.exists()}
    assert len(set(machines.values())) == 1, machines


@pytest.mark.parametrize(
    ("name", "want"),
    [
        ("GLIBC_2.34", (2, 34)),
        ("GLIBC_2.2.5", (2, 2, 5)),
        ("GLIBC_2.17", (2, 17)),
        ("GLIBC_PRIVATE", None),
        ("GCC_3.0", None),
        ("GLIBC_2.", None),
    ],
)
def test_glibc_version_names(name: str, want: tuple[int, ...] | None) -> None:
    assert tk.glibc_version(name) == want


def test_the_check_sees_a_newer_glibc(tmp_path: Path) -> None:
    """A program calling arc4random (added in glibc 2.36), built here with the system's gcc:
    the check must name 2.36 and refuse it; the same program without it passes."""
    gcc = shutil.which("gcc")
    assert gcc, "gcc is needed for this test (Debian's gcc: the build of aws-lc-sys needs it too)"
    newer, older = tmp_path / "newer", tmp_path / "older"
    (tmp_path / "newer.c").write_text(
        '#include <stdlib.h>\n#include <stdio.h>\nint main(void) { printf("%u\\n", arc4random()); return 0; }\n'
    )
    (tmp_path / "older.c").write_text('#include <stdio.h>\nint main(void) { puts("hi"); return 0; }\n')
    for name in ("newer", "older"):
        subprocess.run([gcc, "-O1", "-o", str(tmp_path / name), str(tmp_path / f"{name}.c")], check=True)
    host = tk.machine(newer)

    req = tk.requirements(newer)
    assert req.newest_glibc == (2, 36), req
    why = startable_on_al2023(req, host)
    assert len(why) == 1 and "needs glibc 2.36 (GLIBC_2.36)" in why[0], why

    assert startable_on_al2023(tk.requirements(older), host) == []
    # And a foreign loader or library is named too.
    odd = tk.Requirements("/lib/ld-musl-x86_64.so.1", ("libc.so.6", "libssl.so.3"), ("GLIBC_2.17",))
    assert startable_on_al2023(odd, "x86_64") == [
        "asks for the loader /lib/ld-musl-x86_64.so.1, not /lib64/ld-linux-x86-64.so.2",
        "links libssl.so.3, not in the runtime's base image",
    ]
