"""What a bootstrap is, read from its ELF file (pyelftools): which machine it is built for, how
to run it here, and what it asks of the system it starts on.

- ``machine(path)``          "x86_64" or "aarch64" (others by pyelftools' name);
- ``run_argv(path)``         the command that runs it on this machine: itself when the machine
                             matches, under ``qemu-aarch64 -L /usr/aarch64-linux-gnu`` (Debian's
                             qemu-user and libc6-arm64-cross, installed by tests/arm64/setup.sh)
                             for an arm64 binary on an x86-64 host;
- ``requirements(path)``     the dynamic loader, the shared libraries and the newest glibc
                             symbol version it needs (``Requirements``), what Lambda's OS
                             must provide for it to start at all.
"""

from __future__ import annotations

import platform
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from elftools.elf.dynamic import DynamicSection
from elftools.elf.elffile import ELFFile
from elftools.elf.gnuversions import GNUVerNeedSection

from .processes import HarnessError

# pyelftools' e_machine names, by the names `uname -m` gives.
_MACHINES = {"EM_X86_64": "x86_64", "EM_AARCH64": "aarch64"}
# An arm64 binary on an x86-64 host: the emulator and the arm64 root its loader is found in.
QEMU_AARCH64 = "qemu-aarch64"
AARCH64_ROOT = Path("/usr/aarch64-linux-gnu")


def machine(path: Path) -> str:
    with open(path, "rb") as f:
        raw = ELFFile(f)["e_machine"]
    return _MACHINES.get(raw, raw)


def run_argv(path: Path) -> list[str]:
    """The argv that runs the binary `path` on this host (see the module's docstring)."""
    wanted = machine(path)
    host = platform.machine()
    if wanted == host:
        return [str(path)]
    if wanted == "aarch64":
        qemu = shutil.which(QEMU_AARCH64)
        if qemu is None or not (AARCH64_ROOT / "lib" / "ld-linux-aarch64.so.1").exists():
            raise HarnessError(
                f"{path} is an arm64 binary: running it here needs {QEMU_AARCH64} and the arm64 "
                f"glibc in {AARCH64_ROOT} (tests/arm64/setup.sh installs both; `make test-arm64` runs it)"
            )
        return [qemu, "-L", str(AARCH64_ROOT), str(path)]
    raise HarnessError(f"{path} is built for {wanted}; this host ({host}) cannot run it")


@dataclass(frozen=True)
class Requirements:
    interpreter: str | None
    libraries: tuple[str, ...]
    # Every version of a glibc library's symbols it binds to, e.g. ("GLIBC_2.17", "GLIBC_2.28").
    glibc_versions: tuple[str, ...]

    @property
    def newest_glibc(self) -> tuple[int, ...] | None:
        """The newest of ``glibc_versions`` as numbers, e.g. (2, 28); None if it needs none."""
        numbered = [v for v in map(glibc_version, self.glibc_versions) if v is not None]
        return max(numbered, default=None)


_GLIBC = re.compile(r"GLIBC_(\d+(?:\.\d+)+)")


def glibc_version(name: str) -> tuple[int, ...] | None:
    """ "GLIBC_2.34" -> (2, 34), "GLIBC_2.2.5" -> (2, 2, 5); None for other names
    ("GLIBC_PRIVATE", "GCC_3.0")."""
    m = _GLIBC.fullmatch(name)
    return tuple(int(part) for part in m.group(1).split(".")) if m else None


def requirements(path: Path) -> Requirements:
    with open(path, "rb") as f:
        elf = ELFFile(f)
        interpreter = None
        for segment in elf.iter_segments():
            if segment["p_type"] == "PT_INTERP":
                interpreter = segment.get_interp_name()
        libraries: list[str] = []
        versions: set[str] = set()
        for section in elf.iter_sections():
            if isinstance(section, DynamicSection):
                libraries += [t.needed for t in section.iter_tags() if t.entry.d_tag == "DT_NEEDED"]
            elif isinstance(section, GNUVerNeedSection):
                for _needed, aux in section.iter_versions():
                    versions.update(a.name for a in aux if a.name.startswith("GLIBC_"))
    return Requirements(interpreter, tuple(libraries), tuple(sorted(versions)))
