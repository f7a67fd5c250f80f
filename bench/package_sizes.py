"""The deployment packages' sizes, each architecture's bootstraps beside the others'.

    python bench/package_sizes.py [--machine M] DIR [DIR ...]

Each DIR is where `cargo lambda build` put bootstraps (``DIR/<binary>/bootstrap``: target/lambda
for x86-64, target/lambda-arm64 from `make build-arm64`). Prints, per binary and directory, the
machine it is built for, its size and its zipped size (deflate, as `sam deploy` uploads it), and
with two directories each binary's second size ÷ first. ``--machine`` fails the run unless every
bootstrap found is built for M (x86_64, aarch64). Figures only: BENCHMARKS.md records them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from testkit import BINARIES, machine, zipped_size

MIB = 1024 * 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dirs", nargs="+", type=Path)
    parser.add_argument("--machine", help="every bootstrap must be built for this machine")
    args = parser.parse_args()

    rows = []
    for binary in BINARIES:
        sizes = []
        for d in args.dirs:
            path = d / binary / "bootstrap"
            if not path.exists():
                print(f"{path} is missing", file=sys.stderr)
                return 1
            built_for = machine(path)
            if args.machine and built_for != args.machine:
                print(f"{path} is built for {built_for}, not {args.machine}", file=sys.stderr)
                return 1
            zipped = zipped_size([(path, "bootstrap")])
            sizes.append(zipped)
            rows.append(f"{binary:<22} {built_for:<8} {path.stat().st_size / MIB:>8.2f} {zipped / MIB:>8.2f}  {d}")
        if len(sizes) == 2:
            ratio = sizes[1] / sizes[0]
            rows.append(f"{'':<22} {'':<8} {'':>8} {ratio:>7.2f}×  zipped, {args.dirs[1]} ÷ {args.dirs[0]}")
    print(f"{'binary':<22} {'machine':<8} {'MiB':>8} {'zipped':>8}  directory")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
