"""The local Step Functions emulator itself: the gaps sfnlocal.py fills in moto 5.2.5's executor.

These tests check the emulator, not the shipped definitions: each runs a small definition
written here (Pass, Fail, Wait, Lambda and SNS tasks, nested executions and S3-reading/-writing
distributed Maps, Tasks with a `Credentials` role in another account of localeks) on sfnlocal.py
against moto's S3, SNS, SQS and Step Functions in the same server, and checks what Step Functions
would do (see the docstrings of the `_install_*` hooks in
sfnlocal.py). No function binary is needed: the two Lambda functions sfnlocal routes to are
stand-ins served here (FakeFunction), which answer as `cargo lambda watch`'s Invoke API does.
"""

from __future__ import annotations

import hashlib
import http.server
import itertools
import json
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from conftest import ACCOUNT, FUNCTION_ARN, PLANNER_ARN, REGION, ROLE_ARN, sfn_local

import testkit as tk

BUCKET = "sfnlocal-tests"


class Emulator:
    def __init__(self, url: str, process: Any) -> None:
        self.url = url
        self.process = process
        self.eks: tk.LocalEks | None = None  # the same server's localeks admin client
        kw = dict(endpoint_url=url, region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing")
        self.sfn = boto3.client("stepfunctions", **kw)
        self.s3 = boto3.client("s3", **kw)
        self.sns = boto3.client("sns", **kw)
        self.sqs = boto3.client("sqs", **kw)

    def machine(self, definition: dict) -> str:
        return self.sfn.create_state_machine(
            name=f"t-{uuid.uuid4().hex[:12]}", definition=json.dumps(definition), roleArn=ROLE_ARN, type="STANDARD"
        )["stateMachineArn"]

    def run(self, definition: dict, payload: Any = None, timeout: float = 60.0, name: str | None = None) -> dict:
        arn = self.sfn.start_execution(
            stateMachineArn=self.machine(definition),
            name=name or str(uuid.uuid4()),
            input=payload if isinstance(payload, str) else json.dumps({} if payload is None else payload),
        )["executionArn"]
        deadline = time.monotonic() + timeout
        while (d := self.sfn.describe_execution(executionArn=arn))["status"] == "RUNNING":
            assert self.process.alive(), self.process.tail()
            assert time.monotonic() < deadline, f"{arn} still RUNNING after {timeout} s"
            time.sleep(0.1)
        return d

    def put_json(self, key: str, value: Any) -> None:
        self.s3.put_object(Bucket=BUCKET, Key=key, Body=json.dumps(value).encode())

    def get_json(self, key: str) -> Any:
        return json.loads(self.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())

    def quotas(self, change: dict | None = None) -> dict:
        data = None if change is None else json.dumps(change).encode()
        with urllib.request.urlopen(f"{self.url}/_sfnlocal/quotas", data=data, timeout=30) as resp:
            return json.loads(resp.read())

    def stats(self) -> dict:
        with urllib.request.urlopen(f"{self.url}/_sfnlocal/stats", timeout=30) as resp:
            return json.loads(resp.read())


class FakeFunction:
    """A Lambda function's Invoke API as `cargo lambda watch` serves it, answering for a stand-in
    function: a payload {"error": {"errorType", "errorMessage"}} is a function error (HTTP 500
    and that document, as the emulator answers one); any other payload is answered 200 with
    {"function": name, "payload": payload}. Every payload received is kept, in order."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.payloads: list[Any] = []
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                payload = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"null")
                fake.payloads.append(payload)
                if isinstance(payload, dict) and "error" in payload:
                    status, answer = 500, payload["error"]
                else:
                    status, answer = 200, {"function": fake.name, "payload": payload}
                body = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/2015-03-31/functions/_/invocations"
        threading.Thread(target=self.server.serve_forever, name=f"fake-{name}", daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def fakes() -> Iterator[dict[str, FakeFunction]]:
    functions = {"updater": FakeFunction("updater"), "planner": FakeFunction("planner")}
    try:
        yield functions
    finally:
        for fake in functions.values():
            fake.close()


@pytest.fixture(scope="module")
def emu(tmp_path_factory: pytest.TempPathFactory, fakes: dict[str, FakeFunction]) -> Iterator[Emulator]:
    tk.install_sigterm_handler()
    workdir = tmp_path_factory.mktemp("sfnlocal")
    functions = {FUNCTION_ARN: fakes["updater"].url, PLANNER_ARN: fakes["planner"].url}
    with sfn_local(workdir, functions) as endpoint:
        emulator = Emulator(endpoint.url, endpoint.process)
        emulator.eks = endpoint
        emulator.s3.create_bucket(Bucket=BUCKET)
        yield emulator


def distributed_map(
    processor_states: dict,
    start_at: str,
    reader_key: str | None = "items.json",
    writer_prefix: str | None = "out",
    **fields: Any,
) -> dict:
    """A one-state machine: a distributed Map over a JSON array in S3, results written to S3."""
    state: dict[str, Any] = {
        "Type": "Map",
        "ItemProcessor": {
            "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": start_at,
            "States": processor_states,
        },
        "End": True,
        **fields,
    }
    if reader_key is not None:
        state["ItemReader"] = {
            "Resource": "arn:aws:states:::s3:getObject",
            "ReaderConfig": {"InputType": "JSON"},
            "Parameters": {"Bucket": BUCKET, "Key": reader_key},
        }
    if writer_prefix is not None:
        state["ResultWriter"] = {
            "Resource": "arn:aws:states:::s3:putObject",
            "Parameters": {"Bucket": BUCKET, "Prefix": writer_prefix},
        }
    return {"StartAt": "Fleet", "States": {"Fleet": state}}


# Items {"n": i, "fail": bool}: a failing item ends in a Fail state with its own error and cause.
FAIL_OR_PASS = {
    "Check": {
        "Type": "Choice",
        "Choices": [{"Variable": "$.fail", "BooleanEquals": True, "Next": "Boom"}],
        "Default": "Ok",
    },
    "Boom": {"Type": "Fail", "Error": "ItemFailed", "Cause": "the item said so"},
    "Ok": {"Type": "Pass", "Parameters": {"done.$": "$.n"}, "End": True},
}


def items(n: int, failing: set[int] = frozenset()) -> list[dict]:
    return [{"n": i, "fail": i in failing} for i in range(n)]


def read_results(emu: Emulator, output: dict) -> tuple[dict, dict[str, list]]:
    manifest_key = output["ResultWriterDetails"]["Key"]
    assert output["ResultWriterDetails"]["Bucket"] == BUCKET
    manifest = emu.get_json(manifest_key)
    files = {}
    for status, entries in manifest["ResultFiles"].items():
        files[status] = [r for e in entries for r in emu.get_json(e["Key"])]
    return manifest, files


# ---------------------------------------------------------------------- 1. ResultWriter


def test_result_writer_writes_the_manifest_and_result_files_aws_writes(emu):
    emu.put_json("rw/items.json", items(4, failing={2}))
    d = emu.run(
        distributed_map(
            FAIL_OR_PASS, "Check", reader_key="rw/items.json", writer_prefix="rw/out", ToleratedFailurePercentage=50
        )
    )
    assert d["status"] == "SUCCEEDED", d
    output = json.loads(d["output"])
    assert set(output) == {"MapRunArn", "ResultWriterDetails"}
    run_arn = output["MapRunArn"]
    assert run_arn.startswith(f"arn:aws:states:{REGION}:{ACCOUNT}:mapRun:")
    run_id = run_arn.split(":")[-1]
    assert output["ResultWriterDetails"]["Key"] == f"rw/out/{run_id}/manifest.json"

    manifest, files = read_results(emu, output)
    assert manifest["DestinationBucket"] == BUCKET and manifest["MapRunArn"] == run_arn
    assert set(manifest["ResultFiles"]) == {"FAILED", "PENDING", "SUCCEEDED"}
    assert [e["Key"] for e in manifest["ResultFiles"]["SUCCEEDED"]] == [f"rw/out/{run_id}/SUCCEEDED_0.json"]
    assert [e["Key"] for e in manifest["ResultFiles"]["FAILED"]] == [f"rw/out/{run_id}/FAILED_0.json"]
    assert manifest["ResultFiles"]["PENDING"] == []
    for entry in manifest["ResultFiles"]["SUCCEEDED"] + manifest["ResultFiles"]["FAILED"]:
        head = emu.s3.head_object(Bucket=BUCKET, Key=entry["Key"])
        assert entry["Size"] == head["ContentLength"]

    succeeded, failed = files["SUCCEEDED"], files["FAILED"]
    assert [json.loads(r["Input"])["n"] for r in succeeded] == [0, 1, 3]
    assert [json.loads(r["Output"]) for r in succeeded] == [{"done": 0}, {"done": 1}, {"done": 3}]
    assert {r["Status"] for r in succeeded} == {"SUCCEEDED"}
    [bad] = failed
    assert bad["Status"] == "FAILED" and json.loads(bad["Input"]) == {"n": 2, "fail": True}
    assert bad["Error"] == "ItemFailed" and bad["Cause"] == "the item said so"
    assert "Output" not in bad
    machine = d["stateMachineArn"].split(":stateMachine:")[1]
    for r in succeeded + failed:
        assert r["ExecutionArn"].startswith(f"arn:aws:states:{REGION}:{ACCOUNT}:execution:{machine}/")
        assert r["ExecutionArn"].endswith(":" + r["Name"])
        assert r["StateMachineArn"].startswith(d["stateMachineArn"] + "/")
        assert r["StartDate"] <= r["StopDate"]
    assert len({r["ExecutionArn"] for r in succeeded + failed}) == 4


def test_a_map_over_the_tolerance_fails_and_still_writes_its_results(emu):
    emu.put_json("rw2/items.json", items(3, failing={0}))
    definition = distributed_map(
        FAIL_OR_PASS, "Check", reader_key="rw2/items.json", writer_prefix="rw2/out", MaxConcurrency=1
    )
    # Catch the failure to read where the results went.
    del definition["States"]["Fleet"]["End"]
    definition["States"]["Fleet"].update(
        Next="Done",
        Catch=[{"ErrorEquals": ["States.ExceedToleratedFailureThreshold"], "Next": "Caught", "ResultPath": "$.error"}],
    )
    definition["States"]["Done"] = {"Type": "Succeed"}
    definition["States"]["Caught"] = {"Type": "Fail", "Error": "Caught", "CausePath": "$.error.Error"}
    d = emu.run(definition)
    assert d["status"] == "FAILED" and d["error"] == "Caught", d
    assert d["cause"] == "States.ExceedToleratedFailureThreshold"

    prefix = "rw2/out/"
    keys = [o["Key"] for o in emu.s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])]
    [manifest_key] = [k for k in keys if k.endswith("/manifest.json")]
    manifest = emu.get_json(manifest_key)
    [failed_file] = manifest["ResultFiles"]["FAILED"]
    [bad] = emu.get_json(failed_file["Key"])
    assert bad["Error"] == "ItemFailed" and json.loads(bad["Input"])["n"] == 0
    # Tolerance 0 at MaxConcurrency 1: the first failure stops the Map Run; nothing else ran.
    assert manifest["ResultFiles"]["SUCCEEDED"] == []


# ---------------------------------------------------------------------- 2. tolerance


@pytest.mark.parametrize(
    ("fields", "status"),
    [
        ({}, "FAILED"),  # neither field: one failure fails the Map Run
        ({"ToleratedFailurePercentage": 25}, "SUCCEEDED"),  # an integer, as Step Functions takes it
        ({"ToleratedFailurePercentage": 24.9}, "FAILED"),
        ({"ToleratedFailureCount": 1}, "SUCCEEDED"),
        ({"ToleratedFailureCount": 0}, "FAILED"),
        ({"ToleratedFailureCount": 5, "ToleratedFailurePercentage": 10}, "FAILED"),  # either threshold
    ],
)
def test_tolerated_failure_percentage_and_count(emu, fields, status):
    emu.put_json("tol/items.json", items(4, failing={1}))
    d = emu.run(distributed_map(FAIL_OR_PASS, "Check", reader_key="tol/items.json", writer_prefix=None, **fields))
    assert d["status"] == status, d
    if status == "FAILED":
        assert d["error"] == "States.ExceedToleratedFailureThreshold"
    else:
        # Without a ResultWriter: moto's output, null for the failed item.
        assert json.loads(d["output"]) == [{"done": 0}, None, {"done": 2}, {"done": 3}]


# ---------------------------------------------------------------------- 3. recursion


def test_three_thousand_items_one_at_a_time(emu):
    many = [{"n": i} for i in range(3000)]
    emu.put_json("many/items.json", many)
    pass_state = {"P": {"Type": "Pass", "End": True}}
    started = time.monotonic()
    d = emu.run(
        distributed_map(pass_state, "P", reader_key="many/items.json", writer_prefix="many/out", MaxConcurrency=1),
        timeout=120,
    )
    assert d["status"] == "SUCCEEDED", d
    _, files = read_results(emu, json.loads(d["output"]))
    assert len(files["SUCCEEDED"]) == 3000 and files["FAILED"] == []
    assert [json.loads(r["Output"])["n"] for r in files["SUCCEEDED"]] == list(range(3000))
    print(f"3,000 items at MaxConcurrency 1: {time.monotonic() - started:.1f} s")


def test_an_inline_map_of_twelve_hundred_items_one_at_a_time(emu):
    definition = {
        "StartAt": "M",
        "States": {
            "M": {
                "Type": "Map",
                "MaxConcurrency": 1,
                "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}},
                "End": True,
            }
        },
    }
    d = emu.run(definition, list(range(1200)), timeout=120)
    assert d["status"] == "SUCCEEDED", d
    assert json.loads(d["output"]) == list(range(1200))


# ---------------------------------------------------------------------- 4. hard quotas, statistics


def test_an_execution_past_its_history_quota_fails(emu):
    # Running 25,000 events takes about a minute here: the quota is lowered to 1,000 for this test.
    assert emu.quotas() == {"historyEvents": 25_000}
    # A counting loop: 2 states (4 events) per turn, so it would need about 1,200 events.
    definition = {
        "StartAt": "Inc",
        "States": {
            "Inc": {"Type": "Pass", "Parameters": {"i.$": "States.MathAdd($.i, 1)"}, "Next": "More"},
            "More": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.i", "NumericLessThan": 300, "Next": "Inc"}],
                "Default": "Done",
            },
            "Done": {"Type": "Succeed"},
        },
    }
    emu.quotas({"historyEvents": 1000})
    try:
        d = emu.run(definition, {"i": 0})
    finally:
        assert emu.quotas({}) == {"historyEvents": 25_000}
    assert d["status"] == "FAILED", d
    assert d["error"] == "States.Runtime"
    assert "history reached 1000 events" in d["cause"]
    history = emu.sfn.get_execution_history(executionArn=d["executionArn"])["events"]
    assert len(history) == 1000
    assert history[-1]["type"] == "ExecutionFailed"
    assert emu.stats()["executions"][d["executionArn"]]["events"] == 1000


def test_start_execution_input_over_256_kib_is_refused(emu):
    arn = emu.machine({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    at_limit = json.dumps("x" * (262_144 - 2))  # a JSON string of exactly 262,144 bytes
    emu.sfn.start_execution(stateMachineArn=arn, name=str(uuid.uuid4()), input=at_limit)
    with pytest.raises(ClientError) as err:
        emu.sfn.start_execution(stateMachineArn=arn, name=str(uuid.uuid4()), input=json.dumps("x" * 262_143))
    assert err.value.response["Error"]["Code"] == "ValidationException"


def test_a_cause_is_cut_to_32768_characters_and_its_length_kept(emu):
    definition = {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Big", "CausePath": "$.cause"}}}
    d = emu.run(definition, {"cause": "c" * 40_000})
    assert d["status"] == "FAILED" and d["error"] == "Big"
    assert len(d["cause"]) == 32_768
    history = emu.sfn.get_execution_history(executionArn=d["executionArn"])["events"]
    assert len(history[-1]["executionFailedEventDetails"]["cause"]) == 32_768
    assert emu.stats()["executions"][d["executionArn"]]["maxCauseChars"] == 40_000


def test_stats_report_history_sizes_of_executions_and_map_children(emu):
    emu.put_json("st/items.json", [{"n": i, "pad": "p" * (100 * i)} for i in range(3)])
    d = emu.run(distributed_map({"P": {"Type": "Pass", "End": True}}, "P", reader_key="st/items.json"))
    assert d["status"] == "SUCCEEDED", d
    stats = emu.stats()
    mine = stats["executions"][d["executionArn"]]
    history = emu.sfn.get_execution_history(executionArn=d["executionArn"])["events"]
    assert mine["events"] == len(history)
    assert mine["maxStateOutputBytes"] == len(json.dumps(json.loads(d["output"]), separators=(",", ":")).encode())
    run_arn = json.loads(d["output"])["MapRunArn"]
    children = [c for c in stats["mapChildren"].values() if c["mapRunArn"] == run_arn]
    assert sorted(c["index"] for c in children) == [0, 1, 2]
    for c in children:
        # ExecutionStarted, PassStateEntered, PassStateExited, ExecutionSucceeded.
        assert c["events"] == 4 and c["status"] == "SUCCEEDED"
        assert c["parentExecutionArn"] == d["executionArn"]
    biggest = max(children, key=lambda c: c["index"])
    assert biggest["maxStateInputBytes"] == len(json.dumps({"n": 2, "pad": "p" * 200}, separators=(",", ":")))


# ---------------------------------------------------------------------- 5. readers, batcher, writer config


def test_jsonl_items_batches_and_jsonl_results(emu):
    emu.s3.put_object(
        Bucket=BUCKET, Key="jl/items.jsonl", Body="".join(json.dumps({"n": i}) + "\n" for i in range(5)).encode()
    )
    definition = distributed_map({"P": {"Type": "Pass", "End": True}}, "P", reader_key="jl/items.jsonl")
    fleet = definition["States"]["Fleet"]
    fleet["ItemReader"]["ReaderConfig"]["InputType"] = "JSONL"
    fleet["ItemBatcher"] = {"MaxItemsPerBatch": 2, "BatchInput": {"wave": 1}}
    fleet["ResultWriter"]["Parameters"]["Prefix"] = "jl/out"
    fleet["ResultWriter"]["WriterConfig"] = {"OutputType": "JSONL", "Transformation": "COMPACT"}
    d = emu.run(definition)
    assert d["status"] == "SUCCEEDED", d
    manifest = emu.get_json(json.loads(d["output"])["ResultWriterDetails"]["Key"])
    [entry] = manifest["ResultFiles"]["SUCCEEDED"]
    assert entry["Key"].endswith("/SUCCEEDED_0.jsonl")
    body = emu.s3.get_object(Bucket=BUCKET, Key=entry["Key"])["Body"].read().decode()
    assert [json.loads(line) for line in body.splitlines()] == [
        {"BatchInput": {"wave": 1}, "Items": [{"n": 0}, {"n": 1}]},
        {"BatchInput": {"wave": 1}, "Items": [{"n": 2}, {"n": 3}]},
        {"BatchInput": {"wave": 1}, "Items": [{"n": 4}]},
    ]


def test_list_objects_v2_reads_every_page(emu):
    # 250 keys in pages of 100 (MaxKeys): moto's reader made one call and saw the first page only.
    for i in range(250):
        emu.s3.put_object(Bucket=BUCKET, Key=f"pages/k{i:04d}", Body=b"x")
    definition = distributed_map(
        {"P": {"Type": "Pass", "End": True}}, "P", reader_key=None, writer_prefix=None, MaxConcurrency=10
    )
    definition["States"]["Fleet"]["ItemReader"] = {
        "Resource": "arn:aws:states:::s3:listObjectsV2",
        "Parameters": {"Bucket": BUCKET, "Prefix": "pages/", "MaxKeys": 100},
    }
    d = emu.run(definition, timeout=120)
    assert d["status"] == "SUCCEEDED", d
    out = json.loads(d["output"])
    assert [o["Key"] for o in out] == [f"pages/k{i:04d}" for i in range(250)]
    assert isinstance(out[0]["LastModified"], str) and out[0]["Size"] == 1

    definition["States"]["Fleet"]["ItemReader"]["Parameters"]["Prefix"] = "nothing-here/"
    d = emu.run(definition)
    assert d["status"] == "SUCCEEDED" and json.loads(d["output"]) == [], d


# ---------------------------------------------------------------------- 6. what the fleet definition uses


def test_lambda_tasks_reach_each_function_by_its_arn(emu, fakes):
    # Two functions, each behind its own Invoke API; `$$.Execution.Name` in a Task's Parameters;
    # a function error named after its errorType; an unknown function refused as Lambda does.
    def invoke(function: str, payload: dict, **fields: Any) -> dict:
        return {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": function, "Payload": payload},
            "Retry": [{"ErrorEquals": ["Throttled"], "MaxAttempts": 2, "JitterStrategy": "FULL"}],
            **fields,
        }

    caught = {"ErrorEquals": ["States.ALL"], "Next": "Done"}
    definition = {
        "StartAt": "Start",
        "States": {
            "Start": invoke(
                PLANNER_ARN,
                {"action": "start", "fleet.$": "$$.Execution.Name", "input.$": "$"},
                ResultSelector={"roll.$": "$.Payload"},
                ResultPath="$",
                Next="Update",
            ),
            "Update": invoke(
                FUNCTION_ARN, {"n": 1}, ResultSelector={"p.$": "$.Payload"}, ResultPath="$.updater", Next="Nobody"
            ),
            "Nobody": invoke(
                f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:nobody",
                {},
                ResultPath="$.nobody",
                Catch=[{**caught, "ResultPath": "$.nobody", "Next": "Failing"}],
                Next="Failing",
            ),
            "Failing": invoke(
                PLANNER_ARN,
                {"error": {"errorType": "InvalidInput", "errorMessage": "no targets"}},
                ResultPath="$.failing",
                Catch=[{**caught, "ErrorEquals": ["InvalidInput"], "ResultPath": "$.failing"}],
                Next="Done",
            ),
            "Done": {"Type": "Succeed"},
        },
    }
    planner_before = len(fakes["planner"].payloads)
    name = f"roll-{uuid.uuid4().hex[:8]}"
    d = emu.run(definition, {"targets": [1]}, name=name)
    assert d["status"] == "SUCCEEDED", d
    out = json.loads(d["output"])
    assert out["roll"] == {
        "function": "planner",
        "payload": {"action": "start", "fleet": name, "input": {"targets": [1]}},
    }
    assert out["updater"] == {"p": {"function": "updater", "payload": {"n": 1}}}
    assert out["nobody"]["Error"] == "Lambda.ResourceNotFoundException"
    assert out["failing"]["Error"] == "InvalidInput"
    assert json.loads(out["failing"]["Cause"]) == {"errorType": "InvalidInput", "errorMessage": "no targets"}
    assert [p.get("action") for p in fakes["planner"].payloads[planner_before:]] == ["start", None]
    assert fakes["updater"].payloads[-1] == {"n": 1}


# The update state machine as the wave's nested executions see it: a second of work, then the
# request's verdict: UpdateFailed (with its cause), or an outcome.
CHILD = {
    "StartAt": "Work",
    "States": {
        "Work": {"Type": "Wait", "Seconds": 1, "Next": "Verdict"},
        "Verdict": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.fail", "BooleanEquals": True, "Next": "UpdateFailed"}],
            "Default": "Updated",
        },
        "UpdateFailed": {"Type": "Fail", "Error": "UpdateFailed", "Cause": "the update ended Failed"},
        "Updated": {"Type": "Pass", "Parameters": {"outcome": "Started", "n.$": "$.n"}, "End": True},
    },
}


def wave_map(child_arn: str, **fields: Any) -> dict:
    """roll-fleet.asl.json's RollWave, on a child state machine of the test's."""
    definition = distributed_map(
        {
            "UpdateNodegroup": {
                "Type": "Task",
                "Resource": "arn:aws:states:::states:startExecution.sync:2",
                "Parameters": {"StateMachineArn": child_arn, "Name.$": "$.name", "Input.$": "$.request"},
                "ResultSelector": {"executionArn.$": "$.ExecutionArn", "status.$": "$.Status", "output.$": "$.Output"},
                "End": True,
            }
        },
        "UpdateNodegroup",
        reader_key=None,
        writer_prefix=None,
        ItemReader={
            "Resource": "arn:aws:states:::s3:getObject",
            "ReaderConfig": {"InputType": "JSON"},
            "Parameters": {"Bucket": BUCKET, "Key.$": "$.roll.next.items"},
        },
        ItemSelector={
            "index.$": "$$.Map.Item.Value.index",
            "request.$": "$$.Map.Item.Value.request",
            "name.$": "States.Hash(States.Format('{}#{}', $$.Execution.Id, $$.Map.Item.Value.index), 'MD5')",
        },
        MaxConcurrencyPath="$.roll.maxConcurrency",
        ToleratedFailurePercentage=100,
        Label="Wave",
        ResultWriter={
            "Resource": "arn:aws:states:::s3:putObject",
            "Parameters": {"Bucket": BUCKET, "Prefix.$": "$.roll.next.results"},
        },
        ResultPath="$.wave",
        **fields,
    )
    return definition


def most_at_once(runs: list[tuple[Any, Any]]) -> int:
    """The most (start, stop) intervals open at the same moment (a stop before a start at a tie)."""
    edges = sorted([(stop, -1) for _, stop in runs] + [(start, 1) for start, _ in runs])
    return max(itertools.accumulate(step for _, step in edges))


def test_a_wave_map_reads_bounds_names_and_writes_by_paths_and_tolerates_failed_children(emu):
    child = emu.machine(CHILD)
    emu.put_json("wave/items.json", [{"index": i, "request": {"n": i, "fail": i == 2}} for i in range(4)])
    roll = {"maxConcurrency": 2, "next": {"items": "wave/items.json", "results": "wave/results/1"}}
    d = emu.run(wave_map(child), {"roll": roll})
    assert d["status"] == "SUCCEEDED", d  # ToleratedFailurePercentage 100: a failed child is a record

    # ResultPath places {MapRunArn, ResultWriterDetails} in the input; Prefix.$ read from the input.
    out = json.loads(d["output"])
    assert out["roll"] == roll
    run_arn = out["wave"]["MapRunArn"]
    machine = d["stateMachineArn"].split(":stateMachine:")[1]
    assert run_arn.startswith(f"arn:aws:states:{REGION}:{ACCOUNT}:mapRun:{machine}/Wave:")
    run_id = run_arn.split(":")[-1]
    assert out["wave"]["ResultWriterDetails"] == {"Bucket": BUCKET, "Key": f"wave/results/1/{run_id}/manifest.json"}
    manifest, files = read_results(emu, out["wave"])
    assert [e["Key"] for e in manifest["ResultFiles"]["SUCCEEDED"]] == [f"wave/results/1/{run_id}/SUCCEEDED_0.json"]
    assert [e["Key"] for e in manifest["ResultFiles"]["FAILED"]] == [f"wave/results/1/{run_id}/FAILED_0.json"]

    # Each child's name: the MD5 of "<the parent execution's ARN>#<index>" (ItemSelector, $$.Execution.Id).
    names = {i: hashlib.md5(f"{d['executionArn']}#{i}".encode()).hexdigest() for i in range(4)}
    nested = {i: child.replace(":stateMachine:", ":execution:") + ":" + names[i] for i in range(4)}
    succeeded = {json.loads(r["Input"])["index"]: r for r in files["SUCCEEDED"]}
    assert sorted(succeeded) == [0, 1, 3]
    for i, record in succeeded.items():
        assert json.loads(record["Input"]) == {"index": i, "request": {"n": i, "fail": False}, "name": names[i]}
        # .sync:2: the nested execution's Output is JSON already, picked by the ResultSelector.
        assert json.loads(record["Output"]) == {
            "executionArn": nested[i],
            "status": "SUCCEEDED",
            "output": {"outcome": "Started", "n": i},
        }

    # A failed nested execution: States.TaskFailed, its DescribeExecution answer as the cause.
    [failed] = files["FAILED"]
    assert json.loads(failed["Input"])["index"] == 2 and failed["Status"] == "FAILED"
    assert failed["Error"] == "States.TaskFailed"
    described = json.loads(failed["Cause"])
    assert described["ExecutionArn"] == nested[2] and described["Status"] == "FAILED"
    assert described["Error"] == "UpdateFailed" and described["Cause"] == "the update ended Failed"
    assert described["StateMachineArn"] == child and described["Name"] == names[2]

    # MaxConcurrencyPath 2: never more than two nested executions at once, and two did overlap.
    runs = []
    for arn in nested.values():
        x = emu.sfn.describe_execution(executionArn=arn)
        runs.append((x["startDate"], x["stopDate"]))
    assert most_at_once(runs) == 2, runs


def test_a_distributed_map_over_an_empty_array_succeeds_without_children(emu):
    emu.put_json("empty/items.json", [])
    roll = {"maxConcurrency": 2, "next": {"items": "empty/items.json", "results": "empty/results"}}
    d = emu.run(wave_map(emu.machine(CHILD)), {"roll": roll})
    assert d["status"] == "SUCCEEDED", d
    manifest, files = read_results(emu, json.loads(d["output"])["wave"])
    assert manifest["ResultFiles"] == {"FAILED": [], "PENDING": [], "SUCCEEDED": []}
    history = emu.sfn.get_execution_history(executionArn=d["executionArn"])["events"]
    assert [e["type"] for e in history if e["type"].startswith("MapRun")] == ["MapRunStarted", "MapRunSucceeded"]


def test_an_observe_map_invokes_a_function_per_item_and_keeps_its_input(emu, fakes):
    # roll-fleet.asl.json's ObserveClusters: a Lambda task per item, OutputPath $.Payload, a
    # function error tolerated (100 %) and recorded with its errorType; ResultPath null.
    emu.put_json("obs/clusters.json", [{"index": i, "cluster": f"c{i}"} for i in range(3)])
    fail = {"error": {"errorType": "AccessDenied", "errorMessage": "c1: not allowed"}}
    definition = distributed_map(
        {
            "Observe": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": PLANNER_ARN, "Payload": {"action": "observe", "cluster.$": "$"}},
                "OutputPath": "$.Payload",
                "End": True,
            }
        },
        "Observe",
        reader_key=None,
        writer_prefix=None,
        ItemReader={
            "Resource": "arn:aws:states:::s3:getObject",
            "ReaderConfig": {"InputType": "JSON"},
            "Parameters": {"Bucket": BUCKET, "Key.$": "$.roll.clusters"},
        },
        ItemSelector={"cluster.$": "$$.Map.Item.Value.cluster", "index.$": "$$.Map.Item.Value.index"},
        MaxConcurrency=5,
        ToleratedFailurePercentage=100,
        Label="Observe",
        ResultWriter={
            "Resource": "arn:aws:states:::s3:putObject",
            "Parameters": {"Bucket": BUCKET, "Prefix.$": "$.roll.observeResults"},
        },
        ResultPath=None,
    )
    # Item 1 sends the fake a payload it answers with a function error.
    definition["States"]["Fleet"]["ItemProcessor"]["StartAt"] = "Which"
    definition["States"]["Fleet"]["ItemProcessor"]["States"].update(
        Which={
            "Type": "Choice",
            "Choices": [{"Variable": "$.index", "NumericEquals": 1, "Next": "Refused"}],
            "Default": "Observe",
        },
        Refused={
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": PLANNER_ARN, "Payload": fail},
            "End": True,
        },
    )
    roll = {"clusters": "obs/clusters.json", "observeResults": "obs/results"}
    d = emu.run(definition, {"roll": roll})
    assert d["status"] == "SUCCEEDED", d
    assert json.loads(d["output"]) == {"roll": roll}  # ResultPath null: the input, unchanged

    keys = [o["Key"] for o in emu.s3.list_objects_v2(Bucket=BUCKET, Prefix="obs/results/")["Contents"]]
    [manifest_key] = [k for k in keys if k.endswith("/manifest.json")]
    _, files = read_results(emu, {"ResultWriterDetails": {"Bucket": BUCKET, "Key": manifest_key}})
    outputs = [json.loads(r["Output"]) for r in files["SUCCEEDED"]]
    outputs.sort(key=lambda o: o["payload"]["cluster"]["index"])
    assert outputs == [
        {"function": "planner", "payload": {"action": "observe", "cluster": {"cluster": c, "index": i}}}
        for i, c in ((0, "c0"), (2, "c2"))
    ]
    [refused] = files["FAILED"]
    assert refused["Error"] == "AccessDenied"
    assert json.loads(refused["Cause"]) == fail["error"]


def test_sns_publish_reaches_the_topics_subscribers(emu):
    topic = emu.sns.create_topic(Name=f"t-{uuid.uuid4().hex[:8]}")["TopicArn"]
    queue = emu.sqs.create_queue(QueueName=f"q-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    queue_arn = emu.sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    emu.sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    definition = {
        "StartAt": "Notify",
        "States": {
            "Notify": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sns:publish",
                "Parameters": {"TopicArn.$": "$.topic", "Subject.$": "$.subject", "Message.$": "$.message"},
                "ResultPath": None,
                "End": True,
            }
        },
    }
    state = {"topic": topic, "subject": "Fleet roll r-1: 2 updated", "message": "updated: 2\nfailed: 0"}
    d = emu.run(definition, state)
    assert d["status"] == "SUCCEEDED", d
    assert json.loads(d["output"]) == state
    [message] = emu.sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=2)["Messages"]
    envelope = json.loads(message["Body"])
    assert envelope["TopicArn"] == topic
    assert (envelope["Subject"], envelope["Message"]) == (state["subject"], state["message"])


@pytest.mark.parametrize("failed", [False, True])
def test_a_roll_ends_with_succeed_output_path_or_fail_cause_path(emu, failed):
    # roll-fleet.asl.json's tail: the soak's SecondsPath (0), a Pass with a string Result under a
    # ResultPath, then Succeed with OutputPath or Fail with its cause the summary as JSON text.
    definition = {
        "StartAt": "Soak",
        "States": {
            "Soak": {"Type": "Wait", "SecondsPath": "$.roll.waveSoakSeconds", "Next": "Topic"},
            "Topic": {"Type": "Pass", "Result": "", "ResultPath": "$.topic", "Next": "Ended"},
            "Ended": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.failed", "BooleanEquals": True, "Next": "RollFailed"}],
                "Default": "RollSucceeded",
            },
            "RollSucceeded": {"Type": "Succeed", "OutputPath": "$.summary"},
            "RollFailed": {"Type": "Fail", "Error": "FleetRollFailed", "CausePath": "States.JsonToString($.summary)"},
        },
    }
    summary = {"counts": {"failed": int(failed)}, "failures": [{"error": "UpdateFailed"}] if failed else []}
    d = emu.run(definition, {"roll": {"waveSoakSeconds": 0}, "failed": failed, "summary": summary})
    history = emu.sfn.get_execution_history(executionArn=d["executionArn"])["events"]
    exited = {e["stateExitedEventDetails"]["name"]: e for e in history if "stateExitedEventDetails" in e}
    assert json.loads(exited["Topic"]["stateExitedEventDetails"]["output"])["topic"] == ""
    assert "Soak" in exited
    if failed:
        assert (d["status"], d["error"]) == ("FAILED", "FleetRollFailed"), d
        assert json.loads(d["cause"]) == summary
    else:
        assert d["status"] == "SUCCEEDED", d
        assert json.loads(d["output"]) == summary


# ---------------------------------------------------------------------- 7. a Task's Credentials (other accounts)

ACCOUNT_B, ACCOUNT_C = "444455556666", "777788889999"
TARGET = tk.role_arn(ACCOUNT_B)
XACCT_CLUSTER = "sfn-xacct"


def history(emu: Emulator, d: dict) -> list[dict]:
    return emu.sfn.get_execution_history(executionArn=d["executionArn"], maxResults=1000)["events"]


def describe_update_task(credentials: dict | None, **fields: Any) -> dict:
    """update-nodegroup.asl.json's DescribeUpdate, with the Task's `Credentials` field."""
    task = {
        "Type": "Task",
        "Resource": "arn:aws:states:::aws-sdk:eks:describeUpdate",
        "Parameters": {"Name.$": "$.clusterName", "NodegroupName.$": "$.nodegroupName", "UpdateId.$": "$.update.id"},
        "ResultSelector": {"Update.$": "$.Update"},
        "ResultPath": "$.poll",
        **fields,
    }
    if credentials is not None:
        task["Credentials"] = credentials
    return task


def seed_two_accounts(emu: Emulator, trusted: tuple[str, ...] = (ACCOUNT,)) -> dict[str, str]:
    """The same cluster and node group in the state machine's account and in B, each with an
    update running; B's target role trusting `trusted`. The update id of each account."""
    world = {
        "clusters": [{"name": XACCT_CLUSTER, "version": "1.31", "nodegroups": [{"name": "web", "version": "1.30"}]}]
    }
    emu.eks.seed(world)
    emu.eks.seed_account(ACCOUNT_B, world, trusted=trusted)
    # An account C whose role trusts the state machine's account: a role of another account, not B's.
    emu.eks.seed_account(ACCOUNT_C, trusted=(ACCOUNT,))
    start = {"clusterName": XACCT_CLUSTER, "nodegroupName": "web", "version": "1.31"}
    ids = {ACCOUNT: emu.eks.eks().update_nodegroup_version(**start)["update"]["id"]}
    if trusted == (ACCOUNT,):
        ids[ACCOUNT_B] = emu.eks.client_as("eks", TARGET).update_nodegroup_version(**start)["update"]["id"]
    emu.eks.clear_calls()
    return ids


@pytest.mark.parametrize(
    "credentials",
    [
        {"RoleArn": TARGET},
        {"RoleArn.$": "$.roleArn"},
        {"RoleArn.$": "States.Format('arn:aws:iam::{}:role/eks-nodegroup-updater-target', $.accountId)"},
    ],
    ids=["literal", "path", "intrinsic"],
)
def test_a_task_with_credentials_describes_an_update_in_the_roles_account(emu, credentials):
    ids = seed_two_accounts(emu)
    definition = {
        "StartAt": "DescribeUpdate",
        "States": {
            "DescribeUpdate": describe_update_task(credentials, Next="OwnAccount"),
            # Without Credentials, the next task is the state machine's own account's again.
            "OwnAccount": {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:eks:listUpdates",
                "Parameters": {"Name.$": "$.clusterName", "NodegroupName.$": "$.nodegroupName"},
                "ResultSelector": {"ids.$": "$.UpdateIds"},
                "ResultPath": "$.own",
                "End": True,
            },
        },
    }
    payload = {
        "clusterName": XACCT_CLUSTER,
        "nodegroupName": "web",
        "update": {"id": ids[ACCOUNT_B]},
        "accountId": ACCOUNT_B,
        "roleArn": TARGET,
    }
    d = emu.run(definition, payload)
    assert d["status"] == "SUCCEEDED", d
    out = json.loads(d["output"])
    assert out["poll"]["Update"]["Id"] == ids[ACCOUNT_B]  # ResultSelector and ResultPath applied
    assert out["poll"]["Update"]["Status"] == "InProgress"
    assert out["own"] == {"ids": [ids[ACCOUNT]]}

    scheduled = [e["taskScheduledEventDetails"] for e in history(emu, d) if e["type"] == "TaskScheduled"]
    assert scheduled[0]["taskCredentials"] == {"roleArn": TARGET}
    assert "taskCredentials" not in scheduled[1]
    counts = emu.eks.call_counts()
    assert counts.in_account(ACCOUNT_B, "eks") == {"eks:DescribeUpdate": 1}
    assert counts.in_account(ACCOUNT, "eks") == {"eks:ListUpdates": 1}
    assert counts.count(ACCOUNT_C) == 0
    assumed = counts.assume_role(TARGET)
    assert (assumed["calls"], assumed["granted"], assumed["byCaller"]) == (1, 1, {ACCOUNT: 1})
    assert list(assumed["bySession"]) == [f"sfnlocal-{d['name']}"[:64]]


@pytest.mark.parametrize("role", ["untrusting", "missing"])
def test_a_credentials_role_that_cannot_be_assumed_fails_the_task(emu, role):
    # B's role trusts C only (not the state machine's account), or B has no such role.
    seed_two_accounts(emu, trusted=(ACCOUNT_C,))
    arn = TARGET if role == "untrusting" else tk.role_arn(ACCOUNT_B, "missing")
    definition = {
        "StartAt": "DescribeUpdate",
        "States": {"DescribeUpdate": describe_update_task({"RoleArn": arn}, End=True)},
    }
    d = emu.run(definition, {"clusterName": XACCT_CLUSTER, "nodegroupName": "web", "update": {"id": "x"}})
    assert d["status"] == "FAILED", d
    assert d["error"] == "States.Permissions"
    assert d["cause"] == (
        f"Could not assume the role {arn} given in the Task's Credentials field: User: arn:aws:iam::{ACCOUNT}:root "
        f"is not authorized to perform: sts:AssumeRole on resource: {arn} (Service: Sts, Status Code: 403, "
        "Error Code: AccessDenied)"
    )
    events = history(emu, d)
    kinds = [e["type"] for e in events]
    assert kinds[kinds.index("TaskStateEntered") :] == [
        "TaskStateEntered",
        "TaskScheduled",
        "TaskStarted",
        "TaskFailed",
        "ExecutionFailed",
    ]
    failed = next(e["taskFailedEventDetails"] for e in events if e["type"] == "TaskFailed")
    assert (failed["error"], failed["resourceType"], failed["resource"]) == (
        "States.Permissions",
        "aws-sdk:eks",
        "describeUpdate",
    )
    counts = emu.eks.call_counts()
    assert counts.count(ACCOUNT_B) == 0 and counts.count(ACCOUNT, "eks") == 0, "the resource is never called"
    assert counts.assume_role(arn)["refused"] == 1 and counts.assume_role(arn)["granted"] == 0


def test_a_credentials_role_arn_that_sts_cannot_take_is_a_runtime_error(emu):
    # Shorter than STS's 20 characters: the call is not even made (sfnlocal's choice, see its docstring).
    definition = {
        "StartAt": "DescribeUpdate",
        "States": {"DescribeUpdate": describe_update_task({"RoleArn.$": "$.role"}, End=True)},
    }
    emu.eks.clear_calls()
    d = emu.run(
        definition, {"role": "arn:aws:iam", "clusterName": XACCT_CLUSTER, "nodegroupName": "web", "update": {"id": "x"}}
    )
    assert (d["status"], d["error"]) == ("FAILED", "States.Runtime"), d
    made = emu.eks.call_counts().total
    assert not [k for k in made if not k.startswith("states:")], made  # only the test's own Step Functions calls


def test_retry_and_catch_apply_to_a_credentials_failure(emu):
    # Each attempt assumes the role again; States.TaskFailed matches the error, as the docs say
    # it matches any known error but States.Timeout.
    seed_two_accounts(emu, trusted=(ACCOUNT_C,))
    retry = [{"ErrorEquals": ["States.Permissions"], "IntervalSeconds": 1, "MaxAttempts": 2, "BackoffRate": 1.0}]
    catch = [{"ErrorEquals": ["States.TaskFailed"], "ResultPath": "$.error", "Next": "CouldNotPoll"}]
    definition = {
        "StartAt": "DescribeUpdate",
        "States": {
            "DescribeUpdate": describe_update_task({"RoleArn": TARGET}, Retry=retry, Catch=catch, End=True),
            "CouldNotPoll": {"Type": "Pass", "End": True},
        },
    }
    d = emu.run(definition, {"clusterName": XACCT_CLUSTER, "nodegroupName": "web", "update": {"id": "x"}})
    assert d["status"] == "SUCCEEDED", d
    error = json.loads(d["output"])["error"]
    assert error["Error"] == "States.Permissions" and TARGET in error["Cause"]
    assert [e["type"] for e in history(emu, d)].count("TaskFailed") == 3
    assumed = emu.eks.call_counts().assume_role(TARGET)
    assert (assumed["calls"], assumed["refused"]) == (3, 3)


def test_each_item_of_a_map_acts_in_its_own_account(emu):
    # RoleArn.$ from each item: B's and C's clusters of the same name are each described in their account.
    emu.eks.seed_account(ACCOUNT_B, {"clusters": [{"name": XACCT_CLUSTER, "version": "1.30", "nodegroups": []}]})
    emu.eks.seed_account(ACCOUNT_C, {"clusters": [{"name": XACCT_CLUSTER, "version": "1.32", "nodegroups": []}]})
    emu.eks.clear_calls()
    definition = {
        "StartAt": "Accounts",
        "States": {
            "Accounts": {
                "Type": "Map",
                "ItemsPath": "$.accounts",
                "MaxConcurrency": 1,
                "Iterator": {
                    "StartAt": "DescribeCluster",
                    "States": {
                        "DescribeCluster": {
                            "Type": "Task",
                            "Resource": "arn:aws:states:::aws-sdk:eks:describeCluster",
                            "Credentials": {
                                "RoleArn.$": "States.Format('arn:aws:iam::{}:role/eks-nodegroup-updater-target', $)"
                            },
                            "Parameters": {"Name": XACCT_CLUSTER},
                            "ResultSelector": {"arn.$": "$.Cluster.Arn", "version.$": "$.Cluster.Version"},
                            "End": True,
                        }
                    },
                },
                "End": True,
            }
        },
    }
    d = emu.run(definition, {"accounts": [ACCOUNT_B, ACCOUNT_C]})
    assert d["status"] == "SUCCEEDED", d
    assert json.loads(d["output"]) == [
        {"arn": f"arn:aws:eks:{REGION}:{ACCOUNT_B}:cluster/{XACCT_CLUSTER}", "version": "1.30"},
        {"arn": f"arn:aws:eks:{REGION}:{ACCOUNT_C}:cluster/{XACCT_CLUSTER}", "version": "1.32"},
    ]
    counts = emu.eks.call_counts()
    assert (
        counts.cluster_in(ACCOUNT_B, XACCT_CLUSTER)
        == counts.cluster_in(ACCOUNT_C, XACCT_CLUSTER)
        == {"eks:DescribeCluster": 1}
    )
    assert counts.count(ACCOUNT, "eks") == 0
