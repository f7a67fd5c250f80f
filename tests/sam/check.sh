#!/usr/bin/env bash
# The SAM tier: template.yaml, target-account-role.yaml and statemachine/*.asl.json, checked and
# executed locally.
#
#   tests/sam/check.sh [setup|lint|build|build-arm64|executions|all]     (default: all)
#
# setup       tests/sam/.venv (aws-sam-cli + cfn-lint, pinned in tests/sam/requirements.txt: their
#             pins clash with moto's, so not in .venv) and tests/sam/node_modules (asl-validator,
#             pinned by package-lock.json); each redone only when its pin file changed.
# lint        cfn-lint and `sam validate --lint` on template.yaml, cfn-lint on
#             target-account-role.yaml (the role other accounts deploy), offline (dummy region and
#             credentials; in a network namespace without network when `unshare -n` works);
#             asl-validator on every definition, rendered with the template's defaults;
#             check_iam.py: the roles SAM generates grant exactly the calls made (derived from
#             src/*.rs and the definitions, equal both ways), no wildcard action, EKS only on the
#             allowed clusters' ARNs, SSM only on the parameters the code reads, sts:AssumeRole
#             only on the target role of each listed account; the target role trusts exactly
#             the stack's roles and grants exactly the calls made in other accounts; first its
#             --self-test, which mutates code and templates and requires each drift reported;
#             check_limits.py: every polling loop's worst-case history (the template's bounds of
#             PollIntervalSeconds and UpdateTimeoutSeconds) stays under Step Functions' 25,000
#             events, derived from the definitions (also with its --self-test).
# build       `sam build` for x86_64 (the template's default, arm64, is build-arm64's), with
#             cargo-lambda from .venv/bin. SAM's rust-cargolambda builder builds in the source
#             tree, so it reuses target/ from `make build`.
# build-arm64 `sam build` with the template's defaults (arm64), in target/arm64/env.sh (make
#             arm64-toolchain); its bootstraps must equal target/lambda-arm64's (make build-arm64).
# executions  pytest tests/sam: local executions of the rendered definitions against the release
#             binary (needs `make build` and .venv) and the local EKS endpoint.
#
# Needs: python3 (3.11), node + npm, and for build/executions the project's .venv (make venv).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
HERE=tests/sam
SAM_VENV="$HERE/.venv"
SAM="$SAM_VENV/bin/sam"
CFN_LINT="$SAM_VENV/bin/cfn-lint"
ASL_VALIDATOR="$HERE/node_modules/.bin/asl-validator"

# Offline and anonymous: nothing here may reach or use a real AWS account.
while IFS= read -r var; do unset "$var"; done < <(env | sed -n 's/^\(AWS_[A-Z_]*\)=.*/\1/p')
export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
export AWS_EC2_METADATA_DISABLED=true SAM_CLI_TELEMETRY=0 NO_COLOR=1
OFFLINE=()
if unshare -n true 2>/dev/null; then OFFLINE=(unshare -n); fi

step() {  # step NAME CMD...: run, print its duration
  local name=$1 start end
  shift
  echo "==> $name"
  start=$(date +%s)
  "$@"
  end=$(date +%s)
  echo "<== $name: ok ($((end - start)) s)"
}

setup_python() {
  local stamp="$SAM_VENV/.installed"
  if [[ ! -f $stamp || $HERE/requirements.txt -nt $stamp ]]; then
    rm -rf "$SAM_VENV"
    python3 -m venv "$SAM_VENV"
    "$SAM_VENV/bin/pip" install --quiet --disable-pip-version-check -r "$HERE/requirements.txt"
    touch "$stamp"
  fi
}

setup_node() {
  local stamp="$HERE/node_modules/.installed"
  if [[ ! -f $stamp || $HERE/package-lock.json -nt $stamp ]]; then
    (cd "$HERE" && npm ci --no-audit --no-fund --loglevel=error)
    touch "$stamp"
  fi
}

setup() {
  step "setup: SAM CLI and cfn-lint ($SAM_VENV)" setup_python
  step "setup: asl-validator ($HERE/node_modules)" setup_node
}

asl_validate() {
  local out rc=0
  out=$(mktemp -d)
  "$SAM_VENV/bin/python" "$HERE/samtemplate.py" "$out" >/dev/null || rc=$?
  local args=()
  for f in "$out"/*.asl.json; do [[ -f $f ]] && args+=(--json-path "$f"); done
  if [[ $rc -eq 0 && ${#args[@]} -eq 0 ]]; then echo "no state machine definitions rendered" >&2; rc=1; fi
  [[ $rc -ne 0 ]] || "$ASL_VALIDATOR" "${args[@]}" || rc=$?
  rm -rf "$out"
  return "$rc"
}

lint() {
  step "cfn-lint template.yaml" "${OFFLINE[@]}" "$CFN_LINT" template.yaml
  step "cfn-lint target-account-role.yaml" "${OFFLINE[@]}" "$CFN_LINT" target-account-role.yaml
  step "sam validate --lint (offline)" "${OFFLINE[@]}" "$SAM" validate --lint --template-file template.yaml
  step "asl-validator statemachine/*.asl.json (rendered with the template's defaults)" asl_validate
  step "least privilege: the IAM check catches drift (mutated code and template)" \
    "${OFFLINE[@]}" "$SAM_VENV/bin/python" "$HERE/check_iam.py" --self-test
  step "least privilege: the roles (and the target role) grant exactly what src/ and the definitions call" \
    "${OFFLINE[@]}" "$SAM_VENV/bin/python" "$HERE/check_iam.py"
  step "history limit: the check catches a loosened bound" \
    "${OFFLINE[@]}" "$SAM_VENV/bin/python" "$HERE/check_limits.py" --self-test
  step "history limit: every polling loop stays under 25,000 events" \
    "${OFFLINE[@]}" "$SAM_VENV/bin/python" "$HERE/check_limits.py"
}

# sam build [ARCHITECTURE]: `sam build` of template.yaml into .aws-sam/build (x86_64, passed as the
# parameter) or .aws-sam/build-arm64 (arm64: the template's default, no override); each function's
# bootstrap must be its own binary for that machine.
sam_build() {
  local arch=${1:-x86_64} build_dir=.aws-sam/build machine=3e00 params=(AllowedClusters='*')
  if [[ $arch == arm64 ]]; then
    build_dir=.aws-sam/build-arm64 machine=b700 # EM_AARCH64
  else
    params+=(Architecture=x86_64) # EM_X86_64
  fi
  # cargo lambda replaces target/lambda/*/bootstrap; while another run executes that binary the
  # kernel refuses ("Text file busy"): wait and try again.
  local attempt log
  log=$(mktemp)
  for attempt in 1 2 3 4 5 6; do
    if PATH="$ROOT/.venv/bin:$PATH" "$SAM" build --template-file template.yaml --build-dir "$build_dir" \
      --parameter-overrides "${params[@]}" 2>&1 | tee "$log"; then
      break
    fi
    if ! grep -q 'Text file busy' "$log" || [[ $attempt -eq 6 ]]; then rm -f "$log"; return 1; fi
    echo "(the bootstrap is in use by another run; retrying in 10 s)"
    sleep 10
  done
  rm -f "$log"
  local function bin
  for function in UpdaterFunction PlannerFunction; do
    bin=$build_dir/$function/bootstrap
    [[ -x $bin ]] || { echo "sam build made no $bin" >&2; return 1; }
    [[ $(head -c 4 "$bin" | od -An -c | tr -d ' ') == 177ELF ]] || { echo "$bin is not an ELF file" >&2; return 1; }
    # e_machine, at offset 18.
    [[ $(od -An -tx1 -j18 -N2 "$bin" | tr -d ' ') == "$machine" ]] || { echo "$bin is not $arch" >&2; return 1; }
  done
  # Each function its own binary, not one package twice.
  ! cmp -s "$build_dir/UpdaterFunction/bootstrap" "$build_dir/PlannerFunction/bootstrap" ||
    { echo "the updater and the planner were built as the same binary" >&2; return 1; }
  grep -q 'DefinitionUri: ../../statemachine/update-nodegroup.asl.json' "$build_dir/template.yaml"
  grep -q 'DefinitionUri: ../../statemachine/roll-fleet.asl.json' "$build_dir/template.yaml"
}

build() {
  [[ -x .venv/bin/cargo-lambda ]] || { echo ".venv/bin/cargo-lambda is missing: run make venv" >&2; return 1; }
  step "sam build (x86_64, rust-cargolambda)" sam_build x86_64
}

sam_build_in_arm64_env() {
  # shellcheck source=/dev/null
  (. target/arm64/env.sh && sam_build arm64)
}

# `sam build` with the template's defaults (arm64) in the environment tests/arm64/setup.sh
# writes, as the README tells a user; the binaries must be the very ones `make test-arm64` ran
# (target/lambda-arm64, from `make build-arm64`).
build_arm64() {
  local env_file=target/arm64/env.sh
  [[ -f $env_file ]] || { echo "$env_file is missing: run make arm64-toolchain" >&2; return 1; }
  step "sam build (arm64, the default, rust-cargolambda)" sam_build_in_arm64_env
  local function binary
  for function in UpdaterFunction:eks-nodegroup-updater PlannerFunction:eks-fleet-planner; do
    binary=${function#*:} function=${function%%:*}
    cmp -s ".aws-sam/build-arm64/$function/bootstrap" "target/lambda-arm64/$binary/bootstrap" ||
      { echo "sam build's arm64 $function differs from target/lambda-arm64/$binary/bootstrap" >&2; return 1; }
  done
  echo "sam build (arm64): the same binaries as target/lambda-arm64"
}

executions() {
  [[ -x .venv/bin/python ]] || { echo ".venv is missing: run make venv" >&2; return 1; }
  step "local executions (pytest tests/sam)" \
    env PATH="$ROOT/.venv/bin:$PATH" .venv/bin/python -m pytest -q -p no:cacheprovider "$HERE"
}

case "${1:-all}" in
  setup) setup ;;
  lint) setup; lint ;;
  build) setup; build ;;
  build-arm64) setup; build_arm64 ;;
  executions) executions ;;
  all) setup; lint; build; executions ;;
  *) echo "usage: $0 [setup|lint|build|build-arm64|executions|all]" >&2; exit 2 ;;
esac
