"""Fixtures of the local executions: the function binaries (the updater and the fleet planner),
each behind its own Runtime API emulator, the local EKS endpoint with moto's Step Functions
executor (sfnlocal.py), and the template's state machines created there from the very files and
substitutions template.yaml deploys, with the fleet's bucket and notification topic.

Each function polls its emulator (`cargo lambda watch`) through testkit's invoked-ARN proxy
(testkit/runtime_proxy.py), which hands each invocation out with the function's own ARN
(FUNCTION_ARN, PLANNER_ARN: account ACCOUNT), as Lambda does: cargo lambda's ARN names no account,
and the functions learn their own account from that ARN. So here they behave as on Lambda:
`accountId` is ACCOUNT in every output and record of this account, and another account is
served through its target role (ALLOWED_ACCOUNTS below, as template.yaml's TargetAccountIds sets
it; localeks serves every account, sfnlocal honours a Task's `Credentials`). Each test that acts
in another account has accounts of its own (TARGET_ACCOUNTS), so what localeks counts there, and
what a warm function holds for it, is that test's only.

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
from dataclasses import dataclass, field
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
PLANNER_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{STACK}-planner"
# The stack's bucket (template.yaml's FleetBucket) and notification topic (its AlarmTopic, the
# roll's NotificationTopicArn when NotificationEmail is set), created in the local endpoint.
FLEET_BUCKET = f"{STACK}-fleet-{ACCOUNT}"
NOTIFICATION_TOPIC_ARN = f"arn:aws:sns:{REGION}:{ACCOUNT}:{STACK}-alarms"
# An SQS queue subscribed to that topic: what the roll published (Stack.notifications()).
NOTIFICATION_QUEUE = f"{STACK}-notifications"
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
        "AccountId": tk.DEFAULT_ACCOUNT_ID,
        "TargetRoleName": tk.TARGET_ROLE_NAME,
    },
    "RollFleetStateMachine": {
        "Partition": "aws",
        "PlannerFunctionArn": PLANNER_ARN,
        "FleetBucket": FLEET_BUCKET,
        "PollIntervalSeconds": 1,
        "UpdateNodegroupStateMachineArn": UPDATE_SM_ARN,
        "NotificationTopicArn": NOTIFICATION_TOPIC_ARN,
    },
}
# Other accounts (issue #13). The template's TargetAccountIds: each account a test of its own
# acts in, so its per-account call counts (and what a warm function holds) are that test's only.
# Each has the target role (TARGET_ROLE_NAME) as the test seeds it (testkit's seed_account).
UPDATE_ACCOUNT = "111122223333"  # test_statemachines: an update there; its role trusts ACCOUNT
UNTRUSTING_ACCOUNT = "222233334444"  # test_statemachines: its role trusts another account only
REVOKED_ACCOUNT = "333344445555"  # test_statemachines: its role stops trusting ACCOUNT mid-way
FLEET_ACCOUNT = "444455556666"  # test_fleet: one roll over ACCOUNT and this one
FLEET_UNTRUSTING_ACCOUNT = "555566667777"  # test_fleet: its role trusts another account only
WARM_ACCOUNTS = ("666677778888", "777788889999")  # test_fleet: the planner's AssumeRole, counted
TARGET_ACCOUNTS = (
    UPDATE_ACCOUNT,
    UNTRUSTING_ACCOUNT,
    REVOKED_ACCOUNT,
    FLEET_ACCOUNT,
    FLEET_UNTRUSTING_ACCOUNT,
    *WARM_ACCOUNTS,
)
NOT_ALLOWED_ACCOUNT = "888899990000"  # in no TargetAccountIds, though a role there trusts ACCOUNT
STRANGER_ACCOUNT = "999900001111"  # the one account the untrusting roles trust; nothing runs there
# Both functions' ALLOWED_ACCOUNTS and TARGET_ROLE_NAME, as template.yaml sets them from
# TargetAccountIds and TargetRoleName (the same role name the update state machine polls as).
ACCOUNTS_ENV = {
    "ALLOWED_ACCOUNTS": ",".join(TARGET_ACCOUNTS),
    "TARGET_ROLE_NAME": SUBSTITUTIONS["UpdateNodegroupStateMachine"]["TargetRoleName"],
}
# The updater's environment (UpdaterFunction's Variables), but ALLOWED_CLUSTERS unset (any cluster).
UPDATER_ENV = dict(ACCOUNTS_ENV)
# The planner's environment, as template.yaml sets it (PlannerFunction's Variables), with the
# test values above.
PLANNER_ENV = {
    "FLEET_BUCKET": FLEET_BUCKET,
    "ALLOWED_CLUSTERS": "sam-*,fl-*,prod-*,staging-*",
    "UPDATE_TIMEOUT_SECONDS": str(SUBSTITUTIONS["UpdateNodegroupStateMachine"]["UpdateTimeoutSeconds"]),
    "FLEET_MAX_CONCURRENCY": "1",
    "FLEET_TOLERATED_FAILURE_PERCENTAGE": "0",
    **ACCOUNTS_ENV,
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
    notification_queue_url: str = ""
    # Each function's Runtime API proxy (the invoked ARN it hands out).
    runtimes: dict[str, tk.ArnProxy] = field(default_factory=dict)

    def client(self, service: str) -> Any:
        """A boto3 client of the local endpoint (S3, SNS, SQS, ... are moto's)."""
        return self.eks.client(service)

    def s3(self) -> Any:
        return self.client("s3")

    def notifications(self, wait_seconds: int = 0) -> list[dict[str, Any]]:
        """What was published to the notification topic since the last call, oldest first: each
        the SNS envelope SQS received ({"Subject", "Message", "TopicArn", ...})."""
        sqs, found = self.client("sqs"), []
        while True:
            messages = sqs.receive_message(
                QueueUrl=self.notification_queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=wait_seconds
            ).get("Messages", [])
            if not messages:
                return found
            for message in messages:
                found.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=self.notification_queue_url, ReceiptHandle=message["ReceiptHandle"])
            wait_seconds = 0

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
            for name, runtime in self.runtimes.items():
                if not runtime.alive():
                    raise tk.HarnessError(f"the Runtime API proxy of {name} stopped during {arn}: {runtime.errors}")
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
    for bootstrap in (tk.BOOTSTRAP, tk.PLANNER_BOOTSTRAP):
        if not bootstrap.exists():
            pytest.fail(f"{bootstrap} is missing: run `make build` first")

    machines = samtemplate.state_machines()
    assert set(machines) == set(SUBSTITUTIONS), f"template state machines: {sorted(machines)}"
    with contextlib.ExitStack() as started:
        # Each function behind an emulator of its own: the Invoke API of `cargo lambda watch`
        # serves one function. Each polls it through a proxy that names the function's own ARN.
        emulator = started.enter_context(tk.runtime_emulator(workdir, name="emulator"))
        planner_emulator = started.enter_context(tk.runtime_emulator(workdir, name="planner-emulator"))
        functions = {FUNCTION_ARN: emulator.invoke_url, PLANNER_ARN: planner_emulator.invoke_url}
        endpoint = started.enter_context(sfn_local(workdir, functions))
        fn_runtime = started.enter_context(tk.invoked_arn_proxy(emulator, FUNCTION_ARN))
        planner_runtime = started.enter_context(tk.invoked_arn_proxy(planner_emulator, PLANNER_ARN))
        fn = started.enter_context(
            tk.function_process(fn_runtime, endpoint.url, workdir, name="function", extra_env=UPDATER_ENV)
        )
        planner = started.enter_context(
            tk.function_process(
                planner_runtime,
                endpoint.url,
                workdir,
                name="planner",
                extra_env=PLANNER_ENV,
                bootstrap=tk.PLANNER_BOOTSTRAP,
            )
        )
        processes = [emulator.process, endpoint.process, fn.process, planner_emulator.process, planner.process]

        endpoint.client("s3").create_bucket(Bucket=FLEET_BUCKET)
        sns, sqs = endpoint.client("sns"), endpoint.client("sqs")
        assert sns.create_topic(Name=NOTIFICATION_TOPIC_ARN.split(":")[-1])["TopicArn"] == NOTIFICATION_TOPIC_ARN
        queue_url = sqs.create_queue(QueueName=NOTIFICATION_QUEUE)["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=NOTIFICATION_TOPIC_ARN, Protocol="sqs", Endpoint=queue_arn)

        sfn = endpoint.client("stepfunctions")
        arns = {}
        for logical_id in ("UpdateNodegroupStateMachine", "RollFleetStateMachine"):
            definition = machines[logical_id].render(SUBSTITUTIONS[logical_id])
            (workdir / f"{logical_id}.asl.json").write_text(definition)
            arns[logical_id] = sfn.create_state_machine(
                name=NAMES[logical_id], definition=definition, roleArn=ROLE_ARN, type="STANDARD"
            )["stateMachineArn"]
        assert arns["UpdateNodegroupStateMachine"] == UPDATE_SM_ARN
        yield Stack(
            sfn=sfn,
            eks=endpoint,
            state_machine_arns=arns,
            processes=processes,
            notification_queue_url=queue_url,
            runtimes={"function": fn_runtime, "planner": planner_runtime},
        )


@pytest.fixture
def logs_on_failure(request: pytest.FixtureRequest, workdir: Path) -> Iterator[None]:
    yield
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        for name in ("sfnlocal", "function", "emulator", "planner", "planner-emulator"):
            path = workdir / f"{name}.log"
            if path.exists():
                tail = "\n".join(path.read_text(errors="replace").splitlines()[-40:])
                print(f"----- {name}.log (tail) -----\n{tail}")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Iterator[None]:
    outcome = yield
    rep = outcome.get_result()
    setattr(item, f"rep_{rep.when}", rep)
