"""Fixtures of the local executions: the function binary behind the Runtime API emulator, the
local EKS endpoint with moto's Step Functions executor (sfnlocal.py), and the template's state
machines created there from the very files and substitutions template.yaml deploys.

Processes are started with testkit (tests/support/testkit: own process groups, always stopped),
the harness the end-to-end tier and the benchmark use too.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import samtemplate
import testkit as tk

HERE = Path(__file__).resolve().parent
ROOT = tk.ROOT

ACCOUNT = "123456789012"
REGION = tk.REGION
STACK = "eks-nodegroup-updater"
FUNCTION_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{STACK}-updater"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/{STACK}-local"
UPDATE_SM_NAME = f"{STACK}-update-nodegroup"
FLEET_SM_NAME = f"{STACK}-roll-fleet"
UPDATE_SM_ARN = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{UPDATE_SM_NAME}"

# Test values for the template's DefinitionSubstitutions (every key must be here: render()
# refuses a missing or unknown one). Short waits; everything else as deployed.
SUBSTITUTIONS = {
    "UpdateNodegroupStateMachine": {
        "Partition": "aws",
        "UpdaterFunctionArn": FUNCTION_ARN,
        "PollIntervalSeconds": 1,
        "UpdateTimeoutSeconds": 300,
        "UpdateInProgressRetryIntervalSeconds": 1,
        "UpdateInProgressMaxAttempts": 4,
    },
    "RollFleetStateMachine": {
        "Partition": "aws",
        "UpdateNodegroupStateMachineArn": UPDATE_SM_ARN,
        "UpdateNodegroupExecutionArnPrefix": f"arn:aws:states:{REGION}:{ACCOUNT}:execution:{UPDATE_SM_NAME}",
        "FleetMaxConcurrency": 1,
        # moto's ASL grammar takes only a decimal NUMBER here (an integer is a parse error);
        # 0.0 is a value the Number parameter accepts as well.
        "FleetToleratedFailurePercentage": "0.0",
    },
}
NAMES = {"UpdateNodegroupStateMachine": UPDATE_SM_NAME, "RollFleetStateMachine": FLEET_SM_NAME}


@dataclass
class Execution:
    arn: str
    description: dict[str, Any]
    history: list[dict[str, Any]]

    @property
    def status(self) -> str:
        return self.description["status"]

    @property
    def output(self) -> Any:
        return json.loads(self.description["output"]) if self.description.get("output") else None

    @property
    def error(self) -> str | None:
        return self.description.get("error")

    @property
    def cause(self) -> str | None:
        return self.description.get("cause")

    def events(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.history if e["type"] == kind]

    def task_calls(self, resource: str) -> list[dict[str, Any]]:
        """TaskScheduled events of one service integration, e.g. 'invoke' or 'describeUpdate'."""
        return [e for e in self.events("TaskScheduled") if e["taskScheduledEventDetails"]["resource"] == resource]

    def failed_errors(self) -> list[str]:
        return [e["taskFailedEventDetails"].get("error") for e in self.events("TaskFailed")]

    def explain(self) -> str:
        lines = [f"{self.arn}: {self.status} error={self.error!r} cause={(self.cause or '')[:800]!r}"]
        for e in self.history:
            details = {k: v for k, v in e.items() if k.endswith("EventDetails")}
            lines.append(f"  {e['id']:>3} {e['type']} {json.dumps(details, default=str)[:300]}")
        return "\n".join(lines)


@dataclass
class Stack:
    sfn: Any
    eks: tk.LocalEks
    state_machine_arns: dict[str, str]
    processes: list[tk.Process]

    def start(self, logical_id: str, payload: Any, name: str | None = None) -> str:
        # moto's executor names an execution started without a name "None" (AWS: a UUID).
        return self.sfn.start_execution(
            stateMachineArn=self.state_machine_arns[logical_id],
            input=json.dumps(payload),
            name=name or str(uuid.uuid4()),
        )["executionArn"]

    def wait(self, arn: str, timeout: float = 180.0) -> Execution:
        deadline = time.monotonic() + timeout
        while True:
            description = self.sfn.describe_execution(executionArn=arn)
            if description["status"] != "RUNNING":
                break
            for proc in self.processes:
                if not proc.alive():
                    raise tk.HarnessError(f"{proc.name} died during {arn}:\n{proc.tail()}")
            if time.monotonic() > deadline:
                raise tk.HarnessError(f"{arn} still RUNNING after {timeout} s:\n{self.history_text(arn)}")
            time.sleep(0.2)
        return Execution(arn, description, self.history(arn))

    def run(self, logical_id: str, payload: Any, timeout: float = 180.0) -> Execution:
        return self.wait(self.start(logical_id, payload), timeout)

    def history(self, arn: str) -> list[dict[str, Any]]:
        events, token = [], None
        while True:
            page = self.sfn.get_execution_history(
                executionArn=arn, maxResults=1000, **({"nextToken": token} if token else {})
            )
            events += page["events"]
            token = page.get("nextToken")
            if not token:
                return events

    def history_text(self, arn: str) -> str:
        with contextlib.suppress(Exception):
            return Execution(arn, self.sfn.describe_execution(executionArn=arn), self.history(arn)).explain()
        return "(no history)"


@contextlib.contextmanager
def sfn_local(workdir: Path, functions: dict[str, str]) -> Iterator[tk.LocalEks]:
    """sfnlocal.py (localeks + Step Functions executor) on a free port; always stopped.
    `functions`: each Lambda function's ARN and the Invoke API URL of its emulator."""
    args = [f"--function={arn}={url}" for arn, url in functions.items()]
    with tk.local_eks(
        workdir,
        name="sfnlocal",
        script=os.environ.get("SFNLOCAL_SCRIPT", str(HERE / "sfnlocal.py")),
        args=args,
        cwd=ROOT,
    ) as endpoint:
        yield endpoint


@pytest.fixture(scope="session")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sam")


@pytest.fixture(scope="session")
def stack(workdir: Path) -> Iterator[Stack]:
    tk.install_sigterm_handler()
    if not tk.BOOTSTRAP.exists():
        pytest.fail(f"{tk.BOOTSTRAP} is missing: run `make build` first")
    import boto3

    machines = samtemplate.state_machines()
    assert set(machines) == set(SUBSTITUTIONS), f"template state machines: {sorted(machines)}"
    with tk.runtime_emulator(workdir, name="emulator") as emulator:
        with sfn_local(workdir, {FUNCTION_ARN: emulator.invoke_url}) as endpoint:
            with tk.function_process(emulator, endpoint.url, workdir, name="function") as fn:
                sfn = boto3.client(
                    "stepfunctions",
                    endpoint_url=endpoint.url,
                    region_name=REGION,
                    aws_access_key_id="testing",
                    aws_secret_access_key="testing",
                )
                arns = {}
                for logical_id in ("UpdateNodegroupStateMachine", "RollFleetStateMachine"):
                    definition = machines[logical_id].render(SUBSTITUTIONS[logical_id])
                    (workdir / f"{logical_id}.asl.json").write_text(definition)
                    arns[logical_id] = sfn.create_state_machine(
                        name=NAMES[logical_id], definition=definition, roleArn=ROLE_ARN, type="STANDARD"
                    )["stateMachineArn"]
                assert arns["UpdateNodegroupStateMachine"] == UPDATE_SM_ARN
                # The same fleet definition with a tolerance of half the targets.
                tolerant = machines["RollFleetStateMachine"].render(
                    {**SUBSTITUTIONS["RollFleetStateMachine"], "FleetToleratedFailurePercentage": "50.0"}
                )
                arns["RollFleetStateMachine50"] = sfn.create_state_machine(
                    name=f"{FLEET_SM_NAME}-50", definition=tolerant, roleArn=ROLE_ARN, type="STANDARD"
                )["stateMachineArn"]
                yield Stack(
                    sfn=sfn,
                    eks=endpoint,
                    state_machine_arns=arns,
                    processes=[emulator.process, endpoint.process, fn.process],
                )


@pytest.fixture
def logs_on_failure(request: pytest.FixtureRequest, workdir: Path) -> Iterator[None]:
    yield
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        for name in ("sfnlocal", "function", "emulator"):
            path = workdir / f"{name}.log"
            if path.exists():
                tail = "\n".join(path.read_text(errors="replace").splitlines()[-40:])
                print(f"----- {name}.log (tail) -----\n{tail}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Iterator[None]:
    outcome = yield
    rep = outcome.get_result()
    setattr(item, f"rep_{rep.when}", rep)
