#!/usr/bin/env bash
# The arm64 toolchain, from Debian's packages only: what `make build-arm64`, `make test-arm64`
# and `sam build` with the template's default architecture (arm64) need on an x86-64 machine.
#
#   tests/arm64/setup.sh        (as root, or with sudo; redoes nothing already done)
#
# rustup's toolchain here has only the x86-64 standard library, and no other toolchain may be
# fetched. Debian has a compiler whose arm64 standard library is packaged too:
#
#   rustc-web                  Debian's rustc (1.96 in bookworm-security; the crate needs
#                              rust-version 1.95). rustup's 1.95 would reject a std built by
#                              another compiler, so arm64 builds name this one (RUSTC).
#   libstd-rust-web-dev:arm64  that compiler's standard library for aarch64-unknown-linux-gnu,
#                              exactly the installed rustc-web's version; fetched with a
#                              private apt state (target/arm64/apt) that knows arm64, so the
#                              system's dpkg architectures and apt lists are not changed, and
#                              unpacked under target/arm64/sysroot (never installed).
#   qemu-user                  qemu-aarch64, which runs an arm64 binary as a process here.
#   libc6-arm64-cross          the arm64 glibc (/usr/aarch64-linux-gnu) that qemu-aarch64 -L
#                              loads for it. zig (cargo-lambda's linker, from .venv) links
#                              against its own glibc stubs and unwinder, so neither a cross gcc
#                              nor libgcc_s is needed.
#
# It writes target/arm64/env.sh: source it in a shell, and `cargo lambda build --arm64` and
# `sam build` (arm64) use that compiler and std, as the README's deploy section says.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
OUT="$ROOT/target/arm64"
PACKAGES=(rustc-web qemu-user libc6-arm64-cross)
TARGET=aarch64-unknown-linux-gnu
# cargo lambda passes `-C target-cpu=neoverse-n1` for arm64 release builds through cargo's
# build.rustflags; the target's own RUSTFLAGS (set below for --sysroot) take precedence over
# build.rustflags entirely (cargo uses one source of flags), so the same flag is restated.
TARGET_CPU=neoverse-n1

as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

# apt_install PACKAGE...: from fresh lists (a new machine's may be stale), without recommends.
apt_install() {
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

missing_packages() {
  local p
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || echo "$p"
  done
}

mapfile -t missing < <(missing_packages)
if ((${#missing[@]})); then
  echo "arm64 toolchain: installing ${missing[*]} (Debian packages)"
  apt_install "${missing[@]}"
fi

# The crate's rust-version: an older rustc-web (stale apt lists when it was installed) is upgraded.
wanted=$(sed -n 's/^rust-version *= *"\(.*\)"/\1/p' "$ROOT/Cargo.toml")
if ! dpkg --compare-versions "$(dpkg-query -W -f='${Version}' rustc-web)" ge "$wanted"; then
  echo "arm64 toolchain: rustc-web is older than rust-version $wanted; upgrading"
  apt_install rustc-web
  dpkg --compare-versions "$(dpkg-query -W -f='${Version}' rustc-web)" ge "$wanted" ||
    { echo "arm64 toolchain: Debian's rustc-web is older than $wanted" >&2; exit 1; }
fi

version=$(dpkg-query -W -f='${Version}' rustc-web)
rustc_release=$(/usr/bin/rustc --version | awk '{print $2}')
sysroot="$OUT/sysroot-$version"
stdlib="$sysroot/usr/lib/rustlib/$TARGET/lib"

if ! compgen -G "$stdlib/libstd-*.rlib" >/dev/null; then
  echo "arm64 toolchain: libstd-rust-web-dev:arm64 $version (the std of rustc $rustc_release)"
  apt_state="$OUT/apt"
  mkdir -p "$apt_state/lists/partial" "$apt_state/archives/partial"
  apt_opts=(
    -o "Dir::State::Lists=$apt_state/lists"
    -o "Dir::Cache=$apt_state"
    -o "Dir::Cache::archives=$apt_state/archives"
    -o "Dir::State::status=/dev/null"
    -o "APT::Architecture=arm64"
    -o "APT::Architectures::=arm64"
  )
  # The system's sources, read with arm64 as the only architecture: the download is checked
  # against Debian's signed index like any install.
  apt-get "${apt_opts[@]}" update -qq
  rm -f "$apt_state"/libstd-rust-web-dev_*.deb
  (cd "$apt_state" && apt-get "${apt_opts[@]}" download "libstd-rust-web-dev:arm64=$version" 2>&1 |
    grep -v 'unsandboxed' || true)
  deb=$(compgen -G "$apt_state/libstd-rust-web-dev_*_arm64.deb" | head -n 1) ||
    { echo "arm64 toolchain: libstd-rust-web-dev:arm64=$version was not downloaded" >&2; exit 1; }
  rm -rf "$sysroot.partial"
  dpkg-deb -x "$deb" "$sysroot.partial"
  mv "$sysroot.partial" "$sysroot"
  rm -f "$deb"
fi
compgen -G "$stdlib/libstd-*.rlib" >/dev/null ||
  { echo "arm64 toolchain: no libstd rlib under $stdlib" >&2; exit 1; }

# Older sysroots (an earlier rustc-web) are dropped: only the installed compiler's std is used.
for old in "$OUT"/sysroot-*; do
  [[ $old == "$sysroot" || ! -d $old ]] || rm -rf "$old"
done

cat >"$OUT/env.sh" <<EOF
# Written by tests/arm64/setup.sh: source it, then \`cargo lambda build --release --arm64\` or
# \`sam build\` (the template's default, arm64) builds with Debian's rustc $rustc_release and its
# arm64 std. Only for arm64 builds: x86_64 needs none of it.
export PATH="$ROOT/.venv/bin:\$PATH"
export RUSTC=/usr/bin/rustc
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUSTFLAGS="--sysroot=$sysroot/usr -C target-cpu=$TARGET_CPU"
# rustup's arm64 std is neither used nor fetched: cargo lambda's target check (which runs
# \`rustup target add\`) is off.
export CARGO_LAMBDA_BUILD='{skip_target_check=true}'
EOF
echo "arm64 toolchain: rustc $rustc_release (rustc-web $version), std in $sysroot; $OUT/env.sh written"
