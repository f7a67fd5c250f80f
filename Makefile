# The two commands: `make demo` and `make test`. Both set up what they need on a fresh
# machine (a Python virtualenv with pinned tools in .venv; Rust comes from the toolchain).
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := test

VENV := .venv
PYTHON := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# cargo-lambda finds its zig linker on PATH.
WITH_VENV := PATH="$(CURDIR)/$(VENV)/bin:$$PATH"
# Scripts import testkit, the one Python test harness (pytest finds it via pyproject.toml).
WITH_TESTKIT := PYTHONPATH="$(CURDIR)/tests/support"
BOOTSTRAP := target/lambda/eks-nodegroup-updater/bootstrap
BENCH_VENV := bench/.venv
BENCH_STAMP := $(BENCH_VENV)/.installed
FLOOR := target/lambda/hello_runtime/bootstrap
# The updater as it was before issue #13 (other accounts), measured beside ours by `make bench`
# (`before`, on requests without accountId). Built from `git archive` of that revision, with
# its own target directory under target/ (its dependencies reused from one of its builds to the
# next, nothing shared with ours), once per revision: the stamp names the commit it was built from.
BENCH_BASELINE_REV ?= 7171f16
BENCH_BASELINE_SRC := bench/out/baseline-src
BENCH_BASELINE_DIR := target/bench-baseline
BENCH_BASELINE := $(BENCH_BASELINE_DIR)/lambda/eks-nodegroup-updater/bootstrap
BENCH_BASELINE_STAMP := $(BENCH_BASELINE_DIR)/rev
# arm64 (the template's default architecture): the toolchain's environment and the bootstraps.
ARM64_ENV := target/arm64/env.sh
ARM64_LAMBDA_DIR := target/lambda-arm64

.PHONY: test demo lint unit e2e sam build venv clean fuzz bench bench-smoke bench-baseline help \
	arm64-toolchain build-arm64 test-arm64

## help: every target with what it does (the `## name: ...` comment above each).
help:
	@awk '/^## [a-z0-9-]+:/ { sub(/^## /, ""); split($$0, p, ": "); printf "\n  %-12s %s\n", p[1], substr($$0, length(p[1]) + 3); next } \
	     /^## / { sub(/^## /, ""); printf "  %-12s %s\n", "", $$0 }' $(MAKEFILE_LIST)

## test: every tier — format, lints, unit and adapter tests, end to end, the SAM tier, then
## the benchmark's smoke run (a few invocations, answers checked, nothing timed).
test: lint unit e2e sam bench-smoke

## lint: rustfmt and clippy, warnings are errors.
lint:
	cargo fmt --all -- --check
	cargo clippy --locked --all-targets -- -D warnings

## lint-python: ruff (pinned in tests/requirements.txt, configured in pyproject.toml) over every
## Python file: the lints, then the formatting. Part of `lint`.
.PHONY: lint-python
lint: lint-python
lint-python: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

## unit: the core, table by table; the adapters and the handler on aws-smithy-mocks
## (tests/integration/, one test binary).
unit:
	cargo test --locked

## e2e: the release binary through the Lambda Runtime API against the local EKS endpoint.
e2e: build
	$(WITH_VENV) $(PYTHON) -m pytest -q -p no:cacheprovider tests/localeks tests/e2e

## sam: cfn-lint, sam validate --lint (offline), asl-validator, the IAM check, sam build
## (x86_64), and local executions of the shipped state machines.
sam: build
	tests/sam/check.sh all

## scale: the fleet at EKS's default quotas: 100 clusters × 30 node groups, a tenth behind,
## rolled to the end through the shipped definitions (make test rolls 10 × 30), every
## history and payload measured against Step Functions' limits. FLEET_SCALE_LATENCY_MS
## (default 0) injects that latency into every local AWS call.
.PHONY: scale
scale: build
	FLEET_SCALE_CLUSTERS=$${FLEET_SCALE_CLUSTERS:-100} $(WITH_VENV) $(PYTHON) -m pytest -q -s -p no:cacheprovider \
	  tests/sam/test_fleet_scale.py

## fuzz: the parsing property tests with many more cases than `make test` runs.
fuzz:
	PROPTEST_CASES=$${PROPTEST_CASES:-100000} cargo test --locked --release --test integration fuzz_parse

## demo: the function's main job against the embedded local EKS endpoint, with a transcript.
demo: build
	$(WITH_VENV) $(WITH_TESTKIT) $(PYTHON) tests/e2e/demo.py

## build: the deployable bootstrap, exactly as `cargo lambda build --release` makes it.
build: $(STAMP)
	$(WITH_VENV) cargo-lambda lambda build --release --locked
	test -x $(BOOTSTRAP)

## arm64-toolchain: what arm64 builds need on this x86-64 machine, from Debian's packages
## only (rustc-web, its arm64 std unpacked under target/arm64, qemu-user, the arm64 glibc;
## apt needs root or sudo): tests/arm64/setup.sh. Writes target/arm64/env.sh, which
## `sam build` with the template's default architecture (arm64) needs sourced (README).
arm64-toolchain: $(STAMP)
	tests/arm64/setup.sh

## build-arm64: the arm64 bootstraps as `sam build` makes them (`cargo lambda build --release
## --arm64`, linked by zig), with that toolchain, into target/lambda-arm64.
build-arm64: arm64-toolchain
	. $(ARM64_ENV) && cargo-lambda lambda build --release --locked --arm64 --lambda-dir $(ARM64_LAMBDA_DIR)
	test -x $(ARM64_LAMBDA_DIR)/eks-nodegroup-updater/bootstrap
	test -x $(ARM64_LAMBDA_DIR)/eks-fleet-planner/bootstrap

## test-arm64: the arm64 bootstraps under qemu-aarch64: the end-to-end tier (with the check
## that Amazon Linux 2023's glibc starts them) and the state machine tier's executions, the
## tiers' harness pointed at them by BOOTSTRAP_DIR; then `sam build` with the template's
## defaults (arm64) must give the same binaries; then both packages' sizes.
test-arm64: build-arm64
	$(WITH_TESTKIT) $(PYTHON) bench/package_sizes.py --machine aarch64 $(ARM64_LAMBDA_DIR)
	BOOTSTRAP_DIR=$(ARM64_LAMBDA_DIR) $(WITH_VENV) $(PYTHON) -m pytest -q -p no:cacheprovider tests/e2e
	BOOTSTRAP_DIR=$(ARM64_LAMBDA_DIR) tests/sam/check.sh executions
	tests/sam/check.sh build-arm64
	@# sam build put arm64 bootstraps in target/lambda, where the other tiers expect x86-64 ones.
	$(MAKE) --no-print-directory build
	$(WITH_TESTKIT) $(PYTHON) bench/package_sizes.py target/lambda $(ARM64_LAMBDA_DIR)

## bench: cold starts and warm invocations of our bootstrap, the hello-world floor, a
## Python + boto3 peer and the updater before other accounts (BENCH_BASELINE_REV),
## against a canned stand-in and the local EKS endpoint; requests in another account.
## Figures and method: BENCHMARKS.md.
bench: build bench-baseline $(BENCH_STAMP)
	$(WITH_VENV) cargo-lambda lambda build --release --locked --example hello_runtime
	test -x $(FLOOR)
	$(WITH_TESTKIT) $(PYTHON) bench/run.py -v --before $(BENCH_BASELINE) --before-rev "$$(cat $(BENCH_BASELINE_STAMP))"

## bench-baseline: the updater's release bootstrap at BENCH_BASELINE_REV (default
## 7171f16, the last commit before other accounts) in target/bench-baseline; built once
## per revision (the stamp target/bench-baseline/rev names it).
bench-baseline: $(STAMP)
	@rev=$$(git rev-parse --verify --quiet '$(BENCH_BASELINE_REV)^{commit}') || { \
	  echo "bench-baseline: no commit $(BENCH_BASELINE_REV) in this clone (a shallow one? git fetch --unshallow)" >&2; \
	  exit 1; }; \
	if [ -x $(BENCH_BASELINE) ] && [ "$$(cat $(BENCH_BASELINE_STAMP) 2>/dev/null)" = "$$rev" ]; then \
	  echo "bench-baseline: $(BENCH_BASELINE) is built from $$rev"; exit 0; fi; \
	echo "bench-baseline: building $(BENCH_BASELINE) from $$rev"; \
	rm -rf $(BENCH_BASELINE_STAMP) $(BENCH_BASELINE) $(BENCH_BASELINE_SRC); \
	mkdir -p $(BENCH_BASELINE_SRC); \
	git archive --format=tar "$$rev" | tar -x -C $(BENCH_BASELINE_SRC); \
	( cd $(BENCH_BASELINE_SRC) && CARGO_TARGET_DIR="$(CURDIR)/$(BENCH_BASELINE_DIR)" $(WITH_VENV) \
	  cargo-lambda lambda build --release --locked --bin eks-nodegroup-updater \
	  --lambda-dir "$(CURDIR)/$(BENCH_BASELINE_DIR)/lambda" ); \
	rm -rf $(BENCH_BASELINE_SRC); \
	test -x $(BENCH_BASELINE); \
	echo "$$rev" > $(BENCH_BASELINE_STAMP)

## bench-smoke: the benchmark end to end with a few invocations; checks every answer, times nothing.
bench-smoke: build $(BENCH_STAMP)
	cargo build --locked --example hello_runtime
	$(WITH_TESTKIT) $(PYTHON) bench/run.py --smoke --floor target/debug/examples/hello_runtime --out bench/out/smoke

$(BENCH_STAMP): bench/requirements.txt
	python3.11 -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install --quiet --disable-pip-version-check -r bench/requirements.txt
	touch $@

venv: $(STAMP)

$(STAMP): tests/requirements.txt tests/localeks/requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r tests/requirements.txt
	touch $@

clean:
	rm -rf $(VENV) target tests/sam/.venv tests/sam/node_modules .aws-sam $(BENCH_VENV) bench/out
