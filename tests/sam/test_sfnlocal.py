"""The local Step Functions emulator itself: the gaps sfnlocal.py fills in moto 5.2.5's executor.

These tests check the emulator, not the shipped definitions: each runs a small definition
written here (Pass, Fail and S3-reading/-writing distributed Maps) on sfnlocal.py against moto's
S3 in the same server, and checks what Step Functions would do (see the docstrings of the
`_install_*` hooks in sfnlocal.py). No Lambda function is needed: sfnlocal is started with an
invoke URL that nothing calls.
"""

from __future__ import annotations

import json
import time
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from conftest import ACCOUNT, REGION, ROLE_ARN, sfn_local

import testkit as tk

BUCKET = "sfnlocal-tests"


class Emulator:
    def __init__(self, url: str, process: Any) -> None:
        self.url = url
        self.process = process
        kw = dict(endpoint_url=url, region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing")
        self.sfn = boto3.client("stepfunctions", **kw)
        self.s3 = boto3.client("s3", **kw)

    def machine(self, definition: dict) -> str:
        return self.sfn.create_state_machine(
            name=f"t-{uuid.uuid4().hex[:12]}", definition=json.dumps(definition), roleArn=ROLE_ARN, type="STANDARD"
        )["stateMachineArn"]

    def run(self, definition: dict, payload: Any = None, timeout: float = 60.0) -> dict:
        arn = self.sfn.start_execution(
            stateMachineArn=self.machine(definition),
            name=str(uuid.uuid4()),
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

    def stats(self) -> dict:
        with urllib.request.urlopen(f"{self.url}/_sfnlocal/stats", timeout=30) as resp:
            return json.loads(resp.read())


@pytest.fixture(scope="module")
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    tk.install_sigterm_handler()
    workdir = tmp_path_factory.mktemp("sfnlocal")
    # Nothing here invokes a function: a URL that refuses connections.
    with sfn_local(workdir, "http://127.0.0.1:9/invoke") as endpoint:
        emulator = Emulator(endpoint.url, endpoint.process)
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
