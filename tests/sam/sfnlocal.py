"""The local EKS endpoint with a Step Functions executor in the same server.

    PYTHONPATH=tests/localeks python tests/sam/sfnlocal.py --function ARN=INVOKE_URL [--function ...]

One loopback server, one port: tests/localeks (moto's server plus UpdateNodegroupVersion,
DescribeUpdate and ListUpdates) with moto's Step Functions *executor* switched on. That
executor is moto's port of LocalStack's ASL interpreter (moto.stepfunctions.parser): it runs
the definitions (Choice, Wait, Retry/Catch, intrinsic functions, Map in inline and distributed
mode, ...) and calls services through boto3 clients. Those calls are routed here:

- AWS SDK integrations (`aws-sdk:eks:describeUpdate`, `aws-sdk:sfn:describeExecution`), the
  optimised `sns:publish`, the distributed Map's S3 reader and writer, and the nested
  executions (`states:startExecution.sync:2`) go to this same server: DescribeUpdate is
  localeks' stateful one; S3, SNS (and the SQS queues subscribed to a topic) and
  StartExecution/DescribeExecution are moto's (running the nested definition with this same
  executor);
- the Lambda integration (`lambda:invoke`) goes to the real function binaries, each behind the
  Invoke API of its own `cargo lambda watch` (`--function ARN=INVOKE_URL`, once per function:
  the updater and the fleet planner). That emulator answers a function error with HTTP 500 and
  the error document; Lambda's Invoke answers 200 with `X-Amz-Function-Error: Unhandled`. The
  adapter below turns the first into the second, so the executor names the error after
  `errorType`, as Step Functions does. A FunctionName that no `--function` names is refused
  like Lambda refuses an unknown function (Lambda.ResourceNotFoundException).

and gaps of moto's port (5.2.5) against Step Functions are filled, each an `_install_*`
function below: SDK-integration member names (PascalCase in Step Functions, the API's own in
boto3) are mapped both ways; SDK timestamps are written as ISO 8601 text; an EKS
SDK-integration error is named `Eks.<Error>` (moto would say `eks.<Error>`, which no `Retry` on
`Eks.*` matches); and the distributed Map as the fleet uses
it: definitions with an integer ToleratedFailurePercentage, ItemBatcher, WriterConfig or JSONL
input are accepted; the tolerance (percentage and count) is honoured; ResultWriter's Parameters
paths (`"Prefix.$"`) select from the Map state's input (moto read them from the children's
outputs); ResultWriter writes the manifest *and* the SUCCEEDED/FAILED result files (also when
the Map fails, or had no items); a worker iterates over its items instead of recursing (moto
hangs past ~950 items per worker); listObjectsV2 reads every page.
A Task state's `Credentials` field (`RoleArn`, or `RoleArn.$`: a path or an intrinsic function)
is honoured (_install_task_credentials; moto parses it, then signs every call with one key): the
role is assumed at this server's STS as the state machine's own account, so localeks judges it as
IAM would (the role must exist and trust that account), and the task's calls are signed with the
role's credentials, so they land in the role's account; a role that cannot be assumed fails the
task with `States.Permissions` (AWS documents no name for that case: a reading of the docs, see
there).
EventBridge is moto's too; one gap is filled (_install_input_transformer_text): a rule's
InputTransformer output reaches an SQS target as the text its InputTemplate produced, as
EventBridge delivers it, not parsed and serialised again.
Step Functions' hard quotas are checked (25,000 history events, 262,144-byte StartExecution
input, 32,768-character causes), and `GET /_sfnlocal/stats` reports every execution's and map
child's history size and largest payloads (`DELETE` forgets the map children);
`POST /_sfnlocal/quotas {"historyEvents": n}` lowers the history quota for a test (no body:
back to 25,000).

Checked as moto's own, unchanged (tests/sam/test_sfnlocal.py runs each): MaxConcurrencyPath
on a distributed Map (never more children at once); ItemReader Parameters paths (`"Key.$"`);
ItemSelector with `$$.Execution.Id` (the parent execution's) and `$$.Map.Item.Value` in
intrinsic functions (States.Hash, States.Format); `$$.Execution.Name` in Parameters;
`startExecution.sync:2` (its output's Output is JSON; a child that fails, times out or is
aborted fails the task with States.TaskFailed, the cause the child's DescribeExecution answer as
JSON text in Step Functions' member names: ExecutionArn, StateMachineArn, Name, Status,
StartDate, StopDate, Input, Error, Cause; AWS documents no more of that text, so its member
order and spacing are moto's, its dates ISO 8601 text as every SDK timestamp here); Pass with
a string Result under a ResultPath; Wait with SecondsPath; Succeed with OutputPath; Fail with a
CausePath intrinsic function. Everything else is moto's.

Started the way localeks is (testkit.local_eks): once listening it prints `LISTENING
http://127.0.0.1:<port>` (localeks.server.serve). SIGTERM/SIGINT stop it.
"""

from __future__ import annotations

import argparse
import datetime
import json
import logging
import os
import sys
import threading
import urllib.error
import urllib.request
import uuid
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError
from moto.core.config import default_user_config

from localeks.server import make_server, serve, stop_on_signals, url_of

log = logging.getLogger("sfnlocal")

# The credentials every call of the executor is signed with: the default account's
# (123456789012, moto's default), the state machines' own account here.
DEFAULT_KEYS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
# What a Task fails with when the role of its Credentials field cannot be assumed (see
# _install_task_credentials: AWS documents no name for this case; this is our reading).
CREDENTIALS_ERROR = "States.Permissions"


def _install(self_url: str, functions: dict[str, str]) -> None:
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
    from moto.stepfunctions.parser.asl.utils import boto_client as boto_client_module

    def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        # A Task with a Credentials field: its role's temporary credentials (_install_task_credentials).
        role = getattr(state_credentials, "sfnlocal_role", None)
        keys = role.keys() if role is not None else DEFAULT_KEYS
        return boto3.client(
            service_name=service,
            region_name=region,
            endpoint_url=self_url,
            **keys,
            config=Config(
                parameter_validation=False,
                retries={"max_attempts": 0, "total_max_attempts": 1},
                connect_timeout=10,
                read_timeout=120,
            ),
        )

    def route_clients() -> None:
        # Every module that did `from ...boto_client import boto_client_for`.
        boto_client_module.boto_client_for = boto_client_for
        for name, module in list(sys.modules.items()):
            if name.startswith("moto.stepfunctions.parser") and hasattr(module, "boto_client_for"):
                module.boto_client_for = boto_client_for

    route_clients()

    def invoke(parameters: dict, region: str, state_credentials: Any = None) -> dict:
        role = getattr(state_credentials, "sfnlocal_role", None)
        if role is not None:
            # The function is reached by its ARN whatever the account; the role is still assumed,
            # so a role that cannot be fails the task as it would on AWS.
            role.keys()
        name = parameters.get("FunctionName")
        invoke_url = functions.get(name) if isinstance(name, str) else None
        if invoke_url is None:
            raise ClientError(
                {
                    "Error": {"Code": "ResourceNotFoundException", "Message": f"Function not found: {name}"},
                    "ResponseMetadata": {"HTTPStatusCode": 404, "RequestId": "local"},
                },
                "Invoke",
            )
        payload = parameters.get("Payload") or b"{}"
        if isinstance(payload, str):
            payload = payload.encode()
        req = urllib.request.Request(invoke_url, data=payload, method="POST")
        req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=120) as resp:
                status, body = resp.status, resp.read()
        except urllib.error.HTTPError as err:
            status, body = err.code, err.read()
        try:
            document = json.loads(body)
        except ValueError:
            document = body.decode(errors="replace")
        answer: dict[str, Any] = {"StatusCode": 200, "ExecutedVersion": "$LATEST", "Payload": document}
        if status != 200:
            if not (isinstance(document, dict) and "errorType" in document):
                raise ClientError(
                    {
                        "Error": {"Code": "ServiceException", "Message": f"invoke answered {status}: {body[:300]!r}"},
                        "ResponseMetadata": {"HTTPStatusCode": 500, "RequestId": "local"},
                    },
                    "Invoke",
                )
            answer["FunctionError"] = "Unhandled"
        log.info("lambda invoke -> %s %s", status, str(document)[:200])
        return answer

    def exec_lambda_function(env: Any, parameters: dict, region: str, account: str, credentials: Any) -> None:
        # The `Resource: <function ARN>` form (not used by our definitions, kept consistent).
        answer = invoke(parameters, region, credentials)
        if answer.get("FunctionError"):
            raise lambda_eval_utils.LambdaFunctionErrorException(
                answer["FunctionError"], json.dumps(answer["Payload"], separators=(",", ":"))
            )
        env.stack.append(answer["Payload"])

    lambda_eval_utils._invoke_lambda_function = invoke
    lambda_eval_utils.exec_lambda_function = exec_lambda_function
    _install_task_credentials(self_url)
    _install_case_mapping()
    _install_definition_normalisation()
    _install_tolerated_failure_percentage()
    _install_result_writer()
    _install_iterative_workers()
    _install_item_reader()
    _install_limits()
    _install_error_names()
    _install_input_transformer_text()
    # The hooks above imported more of moto's modules: route their clients here too.
    route_clients()


def _install_task_credentials(self_url: str) -> None:
    """A Task state's `Credentials` field: the call is made with the credentials of that role.

    Step Functions (the Task state's fields; "Accessing resources in other AWS accounts";
    the API's TaskCredentials: "The ARN of an IAM role that Step Functions assumes for the
    task") assumes the role named by `Credentials.RoleArn` (or `RoleArn.$`: a path, a context
    path or an intrinsic function, evaluated against the state's input) before it calls the
    task's resource, so the call is made in the role's account. moto's port parses the field
    and its validation accepts it (CreateStateMachine, every form above), evaluates it and
    records it in TaskScheduled's `taskCredentials`, but then signs every call with one fixed
    key, whatever the role. Here, for a Task that has the field (only then: a Task without it
    keeps the state machine's own account):

    - once per attempt of the task (each Retry attempt assumes again), STS AssumeRole is
      called at this server as the state machine's own account (its execution details'
      account, default credentials with `x-moto-account-id`), with RoleSessionName
      `sfnlocal-<execution name>` (cut to 64 characters): localeks judges it as IAM would
      (tests/localeks/localeks/trust.py: the role must exist and trust that account) and
      counts it (`/_localeks/calls` `assumeRole`, by role ARN, with that session name);
    - the task's SDK calls are then signed with the temporary credentials: they land in the
      role's account (AWS SDK integrations `aws-sdk:*`, and the optimised ones this executor
      routes through the same client maker: SNS, SQS, nested `states:startExecution`, ...).
      A Lambda task (`lambda:invoke`, a function ARN) assumes the role too, then reaches its
      function by ARN through `--function` as before;
    - when STS refuses (AccessDenied: no such role, or it does not trust the account; any
      STS error), the task fails without calling its resource, after TaskScheduled and
      TaskStarted, with a TaskFailed event: error `States.Permissions`, cause
      `Could not assume the role <RoleArn> given in the Task's Credentials field: <STS's
      message> (Service: Sts, Status Code: <status>, Error Code: <code>)`. Retry and Catch
      apply as to any task error. This is a reading of the docs, not a recorded AWS answer:
      AWS documents no error name or cause for a Credentials role that cannot be assumed;
      the error-handling page's built-in names say `States.Permissions` is "a Task state
      failed because it had insufficient privileges to run the specified code", which is
      what a role the execution role may not assume is. The cause's text is ours (STS's own
      message kept, in the shape of an SDK integration's cause). As the same page says of
      `States.TaskFailed` ("matches any known error name except for States.Timeout"), a
      `States.TaskFailed` retrier or catcher matches it, as do `States.ALL` and
      `States.Permissions` (moto's port would not let `States.TaskFailed` match a
      `States.` error, so the error is named in a way its matching reads as a task error).
      A RoleArn that is not a string of 20 to 2,048 characters fails the task with
      States.Runtime (moto's name for an unexpected evaluation error; AWS's answer unverified).
    """
    from moto.stepfunctions.parser.api import HistoryEventType, TaskFailedEventDetails
    from moto.stepfunctions.parser.asl.component.common.error_name.error_name import ErrorName
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEvent,
        FailureEventException,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task import StateTask
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails

    class TaskError(ErrorName):
        """An error name that moto matches as a task's error (so `States.TaskFailed` matches it)."""

    class TaskRole:
        """The role of one attempt of a Task with Credentials: assumed at its first call."""

        def __init__(self, state: Any, env: Any, role_arn: Any) -> None:
            self.state, self.env, self.role_arn = state, env, role_arn
            self._keys: dict[str, str] | None = None
            self._lock = threading.Lock()

        def keys(self) -> dict[str, str]:
            with self._lock:
                if self._keys is None:
                    self._keys = self._assume()
                return self._keys

        def _assume(self) -> dict[str, str]:
            details = self.env.aws_execution_details
            sts = boto3.client(
                "sts",
                region_name=details.region,
                endpoint_url=self_url,
                **DEFAULT_KEYS,
                config=Config(retries={"max_attempts": 0, "total_max_attempts": 1}, connect_timeout=10),
            )

            def as_state_machine_account(request: Any, **_: Any) -> None:
                request.headers["x-moto-account-id"] = details.account

            sts.meta.events.register("before-sign.sts.AssumeRole", as_state_machine_account)
            execution = self.env.states.context_object.context_object_data.get("Execution", {}).get("Name") or "task"
            session = ("sfnlocal-" + "".join(c if c.isalnum() or c in "+=,.@-_" else "-" for c in execution))[:64]
            try:
                creds = sts.assume_role(RoleArn=self.role_arn, RoleSessionName=session)["Credentials"]
            except ClientError as err:
                raise FailureEventException(self._failure(err)) from None
            log.info("task %s: assumed %s", self.env.next_state_name, self.role_arn)
            return {
                "aws_access_key_id": creds["AccessKeyId"],
                "aws_secret_access_key": creds["SecretAccessKey"],
                "aws_session_token": creds["SessionToken"],
            }

        def _failure(self, err: ClientError) -> Any:
            error = err.response.get("Error", {})
            status = err.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            cause = (
                f"Could not assume the role {self.role_arn} given in the Task's Credentials field: "
                f"{error.get('Message', '')} (Service: Sts, Status Code: {status}, Error Code: {error.get('Code')})"
            )
            log.info("task %s: %s", self.env.next_state_name, cause)
            details = TaskFailedEventDetails(error=CREDENTIALS_ERROR, cause=cause)
            for field, getter in (("resource", "_get_sfn_resource"), ("resourceType", "_get_sfn_resource_type")):
                if hasattr(self.state, getter):
                    details[field] = getattr(self.state, getter)()
            return FailureEvent(
                env=self.env,
                error_name=TaskError(CREDENTIALS_ERROR),
                event_type=HistoryEventType.TaskFailed,
                event_details=EventDetails(taskFailedEventDetails=details),
            )

    original = StateTask._eval_state_credentials

    def eval_state_credentials(self: Any, env: Any) -> Any:
        credentials = original(self, env)
        if self.credentials:  # the Task's own Credentials field, not the execution role
            credentials.sfnlocal_role = TaskRole(self, env, credentials.role_arn)
        return credentials

    StateTask._eval_state_credentials = eval_state_credentials


def _install_error_names() -> None:
    """Name SDK-integration errors `ServiceName.ErrorName`, both in PascalCase, as Step Functions does.

    moto's port has a table of the service names whose PascalCase is not just a capital first
    letter (DynamoDb, Sfn) and falls back to the lower-case name for every other service, so an
    EKS error becomes `eks.ResourceNotFoundException` and the definitions' `Eks.*` retriers
    never match. Add the services our definitions call.
    """
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_aws_sdk as aws_sdk,
    )

    aws_sdk._SERVICE_ERROR_NAMES.setdefault("eks", "Eks")


def _install_input_transformer_text() -> None:
    """Deliver an EventBridge InputTransformer's output to an SQS target as the text it is.

    EventBridge fills the InputTemplate's placeholders and sends that text to the target (a
    state machine is started with it as its input). moto (EventTemplateParser.parse) parses the
    filled text as JSON and the SQS target sends `json.dumps` of that: other spacing than the
    template's, and a text that is not JSON fails PutEvents. Here the filled text is kept with
    the parsed value (an empty one when the text is not a JSON object), and an SQS target (FIFO
    too) sends that text. Targets without an InputTemplate, and other targets, are moto's.
    """
    from moto.events import models, utils
    from moto.sqs import sqs_backends

    moto_parse = utils.EventTemplateParser.parse
    moto_send = models.Rule._send_to_sqs_queue

    class Transformed(dict):
        """The parsed output, carrying the text EventBridge would deliver."""

        text = ""

    def parse(input_template: str, input_paths_map: dict, event: dict) -> dict:
        if not input_template:
            return moto_parse(input_template, input_paths_map, event)
        from jsonpath_ng.ext import parse as jsonpath

        text, stringify = input_template, utils.EventTemplateParser._stringify
        for name, path in (input_paths_map or {}).items():  # as moto fills them
            matches = jsonpath(path).find(event)
            value = stringify(matches[0].value) if matches else None
            if value:
                text = text.replace(f"<{name}>", value)
        for name, value in {
            "aws.events.event.json": event,
            "aws.events.event.ingestion-time": event["ingestion-time"],
        }.items():
            text = text.replace(f"<{name}>", stringify(value))
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
        out = Transformed(parsed if isinstance(parsed, dict) else {})
        out.text = text
        return out

    def send_to_sqs_queue(self: Any, resource_id: str, event: dict, group_id: str | None = None) -> None:
        if not isinstance(event, Transformed):
            return moto_send(self, resource_id, event, group_id)
        backend = sqs_backends[self.account_id][self.region_name]
        if group_id:  # a FIFO queue without content-based deduplication: moto's warning, nothing sent
            wanted = ["ContentBasedDeduplication"]
            if backend.get_queue_attributes(resource_id, wanted)["ContentBasedDeduplication"] == "false":
                return moto_send(self, resource_id, event, group_id)
        backend.send_message(queue_name=resource_id, message_body=event.text, group_id=group_id)

    utils.EventTemplateParser.parse = staticmethod(parse)
    models.Rule._send_to_sqs_queue = send_to_sqs_queue


def _install_tolerated_failure_percentage() -> None:
    """Make a distributed Map honour its failure tolerance and keep each item's record.

    moto parses ToleratedFailurePercentage/ToleratedFailureCount but logs that they "have no
    effect": a Map Run never fails on failed items, and a failed item leaves only a `null`
    output (its error and cause are dropped). Here:
    - once the failed (or timed out) items exceed the percentage of all items, or their number
      exceeds the count (whichever the definition sets; neither set: any failure), no further
      item starts, and the Map state fails with States.ExceedToleratedFailureThreshold
      (catchable) when the running ones are done; its ResultWriter still writes what ran;
    - every item run is recorded on the Map Run (`sfnlocal_records`) as Step Functions records
      a child execution: a synthetic ExecutionArn `...:execution:<state machine>/<label>:<uuid>`,
      its input (after ItemSelector), output or Error/Cause, status, start and stop time. The
      ResultWriter (_install_result_writer) writes these;
    - each item gets its own history (an EventManager; moto shares one among all the items of
      a Map Run), so the 25,000-event quota (_install_limits) applies per child as on AWS, and
      its size statistics are kept for `GET /_sfnlocal/stats`.
    """
    from moto.stepfunctions.parser.api import HistoryEventType, TaskFailedEventDetails
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEvent,
        FailureEventException,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
        StatesErrorNameType,
    )
    from moto.stepfunctions.parser.asl.component.common.timeouts.timeout import EvalTimeoutError
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration import (
        distributed_iteration_component as dic,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.itemprocessor import (
        distributed_item_processor_worker as dipw,
    )
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails
    from moto.stepfunctions.parser.asl.eval.event.event_manager import EventManager
    from moto.stepfunctions.parser.asl.eval.program_state import ProgramError, ProgramStopped, ProgramTimedOut
    from moto.stepfunctions.parser.asl.eval.states import ItemData, MapData
    from moto.stepfunctions.parser.asl.utils.encoding import to_json_str

    def exceeded(record: Any) -> bool:
        total = getattr(record, "sfnlocal_total_items", 0)
        if not total:
            return False
        failed = record.item_counter.failed.get() + record.item_counter.timed_out.get()
        fields = getattr(record, "sfnlocal_tolerance", None) or {"percentage": True, "count": False}
        if not fields["percentage"] and not fields["count"]:
            return failed > 0
        over = False
        if fields["percentage"]:
            over = over or failed * 100.0 / total > float(record.tolerated_failure_percentage or 0)
        if fields["count"]:
            over = over or failed > int(record.tolerated_failure_count or 0)
        return over

    original_map_run = dic.DistributedIterationComponent._map_run

    def map_run(self: Any, env: Any, eval_input: Any) -> None:
        record = eval_input.map_run_record
        record.sfnlocal_tolerance = getattr(self, "sfnlocal_tolerance", None)
        record.sfnlocal_records = []
        record.sfnlocal_lock = threading.Lock()
        batcher = getattr(self, "sfnlocal_item_batcher", None)
        if batcher is not None:
            env.stack.append(_batches(env.stack.pop(), batcher))
        record.sfnlocal_total_items = len(env.stack[-1])
        env.sfnlocal_map_run_record = record  # for the ResultWriter, evaluated in this same frame
        original_map_run(self, env, eval_input)
        if exceeded(record):
            outputs = env.stack.pop()
            writer = getattr(self, "sfnlocal_result_writer", None)
            if writer is not None:
                # Step Functions writes the results of a failed Map Run too.
                env.stack.append(outputs)
                writer.eval(env)
                env.stack.pop()
            error = StatesErrorNameType.StatesExceedToleratedFailureThreshold.to_name()
            raise FailureEventException(
                FailureEvent(
                    env=env,
                    error_name=StatesErrorName(typ=StatesErrorNameType.StatesExceedToleratedFailureThreshold),
                    event_type=HistoryEventType.TaskFailed,
                    event_details=EventDetails(
                        taskFailedEventDetails=TaskFailedEventDetails(
                            error=error,
                            cause="The specified tolerated failure threshold was exceeded",
                        )
                    ),
                )
            )
        config = getattr(self, "sfnlocal_writer_config", None)
        if config is not None and getattr(self, "sfnlocal_result_writer", None) is None:
            # A ResultWriter with only WriterConfig: the Map's output is formatted, nothing exported.
            env.stack.pop()
            records = [r for _, r in sorted(record.sfnlocal_records, key=lambda ir: ir[0])]
            env.stack.append(_transform(records, config.get("Transformation", "COMPACT")))

    def eval_job(self: Any, env: Any, job: Any) -> None:
        # moto's DistributedItemProcessorWorker._eval_job, plus the record and a history of its own.
        record = self._map_run_record
        if exceeded(record):
            job.job_output = None  # not started: the Map Run is failing
            return
        record.item_counter.total.count()
        record.item_counter.running.count()
        record.execution_counter.total.count()
        record.execution_counter.running.count()

        name = str(uuid.uuid4())
        arn = record.map_state_machine_arn.replace(":stateMachine:", ":execution:", 1) + ":" + name
        env.event_manager = EventManager()
        started = _now()
        status, error, cause = "FAILED", None, None
        child_input, job_output = job.job_input, None
        try:
            env.states.context_object.context_object_data["Map"] = MapData(
                Item=ItemData(Index=job.job_index, Value=job.job_input)
            )
            env.states.reset(job.job_input)
            env.stack.append(env.states.get_input())
            self._eval_input(env_frame=env)
            child_input = env.states.get_input()
            job.job_program.eval(env)
            end = env.program_state()
            if isinstance(end, ProgramError):
                error, cause = (end.error or {}).get("error"), (end.error or {}).get("cause")
            elif isinstance(end, ProgramStopped):
                status = "ABORTED"
            elif isinstance(end, ProgramTimedOut):
                status = "TIMED_OUT"
            else:
                status = "SUCCEEDED"
                job_output = env.states.get_input()
        except EvalTimeoutError:
            status = "TIMED_OUT"
        except FailureEventException as failure:
            error, cause = failure.extract_error_cause_pair() or (None, None)
        except Exception as ex:  # noqa: BLE001 - an item's failure, as moto counts it
            error, cause = "States.Runtime", f"{type(ex).__name__}({ex})"
        finally:
            counters = (record.item_counter, record.execution_counter)
            for counter in counters:
                counter.running.offset(-1)
                {"SUCCEEDED": counter.succeeded, "ABORTED": counter.aborted, "TIMED_OUT": counter.timed_out}.get(
                    status, counter.failed
                ).count()
                if status == "SUCCEEDED":
                    counter.results_written.count()
            job.job_output = job_output
            entry: dict[str, Any] = {
                "ExecutionArn": arn,
                "Input": to_json_str(child_input, separators=(",", ":")),
                "InputDetails": {"Included": True},
                "Name": name,
            }
            if status == "SUCCEEDED":
                entry["Output"] = to_json_str(job_output, separators=(",", ":"))
                entry["OutputDetails"] = {"Included": True}
            if error is not None:
                entry["Error"] = error
            if cause is not None:
                entry["Cause"] = cause
            entry.update(
                RedriveCount=0,
                RedriveStatus="NOT_REDRIVABLE" if status == "SUCCEEDED" else "REDRIVABLE",
                StartDate=started,
                StateMachineArn=record.map_state_machine_arn,
                Status=status,
                StopDate=_now(),
            )
            with record.sfnlocal_lock:
                record.sfnlocal_records.append((job.job_index, entry))
            stats = _history_stats(env.event_manager, child=True)
            stats.update(
                status=status,
                mapRunArn=record.map_run_arn,
                parentExecutionArn=record.execution_arn,
                index=job.job_index,
            )
            with _STATS_LOCK:
                _CHILD_STATS[arn] = stats

    dic.DistributedIterationComponent._map_run = map_run
    dipw.DistributedItemProcessorWorker._eval_job = eval_job


def _now() -> str:
    """A timestamp as the result files write it (ISO 8601 UTC, milliseconds; exact AWS form unverified)."""
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _batches(items: list, batcher: dict) -> list:
    """ItemBatcher with literal MaxItemsPerBatch / MaxInputBytesPerBatch / BatchInput.

    The *Path forms are not evaluated (refused). Unlike Step Functions, an ItemSelector then
    sees a whole batch as `$$.Map.Item.Value`, and the tolerance counts batches, not items.
    """
    for field in ("MaxItemsPerBatchPath", "MaxInputBytesPerBatchPath"):
        if field in batcher:
            raise ValueError(f"sfnlocal: ItemBatcher.{field} is not supported locally")
    per_batch = int(batcher.get("MaxItemsPerBatch") or 0) or len(items) or 1
    max_bytes = int(batcher.get("MaxInputBytesPerBatch") or 262_144)
    batches: list[list] = [[]]
    size = 0
    for item in items:
        item_bytes = len(json.dumps(item, separators=(",", ":")).encode())
        if batches[-1] and (len(batches[-1]) >= per_batch or size + item_bytes > max_bytes):
            batches.append([])
            size = 0
        batches[-1].append(item)
        size += item_bytes
    out = []
    for chunk in batches if items else []:
        batch: dict[str, Any] = {"Items": chunk}
        if "BatchInput" in batcher:
            batch["BatchInput"] = batcher["BatchInput"]
        out.append(batch)
    return out


def _transform(records: list[dict], transformation: str) -> list:
    """WriterConfig.Transformation applied to the SUCCEEDED records: NONE keeps the records,
    COMPACT keeps only the children's outputs, FLATTEN also flattens array outputs into one array."""
    if transformation == "NONE":
        return records
    outputs = [json.loads(r["Output"]) for r in records if r["Status"] == "SUCCEEDED"]
    if transformation == "FLATTEN":
        return [x for o in outputs for x in (o if isinstance(o, list) else [o])]
    return outputs


# Step Functions' hard quotas (https://docs.aws.amazon.com/step-functions/latest/dg/limits.html):
# "Maximum execution history size: 25,000 events. If the execution history reaches this quota,
# the execution will fail"; "Maximum input or output size for a task, state, or execution:
# 262,144 bytes of data as a UTF-8 encoded string"; and the API's length constraint on every
# `cause` (ExecutionFailedEventDetails, TaskFailedEventDetails, DescribeExecution): 0-32,768.
HISTORY_EVENTS_MAX = 25_000
PAYLOAD_BYTES_MAX = 262_144
CAUSE_CHARS_MAX = 32_768
# The history quota in force: a test may lower it (`POST /_sfnlocal/quotas`) to check the
# behaviour without running 25,000 events (about a minute here).
QUOTAS = {"historyEvents": HISTORY_EVENTS_MAX}

# Statistics of the map children (not executions in moto), by their synthetic ExecutionArn.
_CHILD_STATS: dict[str, dict[str, Any]] = {}
_STATS_LOCK = threading.Lock()
_TERMINAL_EVENTS = ("ExecutionFailed", "ExecutionSucceeded", "ExecutionAborted", "ExecutionTimedOut")


class ExecutionHistoryLimitExceeded(Exception):
    """Raised by the 25,000th non-terminal event; the execution then fails with States.Runtime."""


def _install_definition_normalisation() -> None:
    """Accept the distributed-Map fields moto's ASL grammar refuses, as Step Functions does.

    Wraps AmazonStateLanguageParser.parse (both CreateStateMachine's validation and each
    execution's parse call it through the class). The definition is rewritten before the
    grammar sees it and what was taken out is attached to the parsed Map states afterwards;
    the stored definition (DescribeStateMachine) stays the original:
    - an integer ToleratedFailurePercentage (the grammar wants a decimal) becomes a decimal;
    - which tolerance fields a Map sets is kept (moto defaults both to 0 and cannot tell);
    - ItemBatcher (not in the grammar) is taken out and applied by the Map Run (_batches);
    - ResultWriter.WriterConfig (not in the grammar) is taken out and applied by the writer;
      a ResultWriter with only WriterConfig (nothing exported) is taken out entirely;
    - ItemReader.ReaderConfig.InputType JSONL (moto knows JSON and CSV) is read as JSON Lines.
    Map states are matched by name: Step Functions wants state names unique in a definition.
    """
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.state_map import StateMap
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    original = AmazonStateLanguageParser.parse

    def normalise(states: dict, extras: dict[str, dict]) -> None:
        for name, state in states.items():
            if not isinstance(state, dict):
                continue
            for branch in state.get("Branches") or []:
                if isinstance(branch, dict):
                    normalise(branch.get("States") or {}, extras)
            if state.get("Type") != "Map":
                continue
            extra: dict[str, Any] = {
                "tolerance": {
                    "percentage": any(k.startswith("ToleratedFailurePercentage") for k in state),
                    "count": any(k.startswith("ToleratedFailureCount") for k in state),
                }
            }
            if isinstance(state.get("ToleratedFailurePercentage"), int):
                state["ToleratedFailurePercentage"] = float(state["ToleratedFailurePercentage"])
            if "ItemBatcher" in state:
                extra["batcher"] = state.pop("ItemBatcher")
            writer = state.get("ResultWriter")
            if isinstance(writer, dict) and "WriterConfig" in writer:
                extra["writer_config"] = writer.pop("WriterConfig")
                if "Resource" not in writer:
                    del state["ResultWriter"]
            config = (state.get("ItemReader") or {}).get("ReaderConfig") or {}
            if config.get("InputType") == "JSONL":
                config["InputType"] = "JSON"
                extra["input_type"] = "JSONL"
            extras[name] = extra
            processor = state.get("ItemProcessor") or state.get("Iterator") or {}
            normalise(processor.get("States") or {}, extras)

    def parse(definition: str) -> Any:
        try:
            document = json.loads(definition)
        except ValueError:
            return original(definition)
        if not isinstance(document, dict):
            return original(definition)
        extras: dict[str, dict] = {}
        normalise(document.get("States") or {}, extras)
        program, tree = original(json.dumps(document) if extras else definition)
        for state in _instances(program, StateMap):
            extra = extras.get(state.name)
            if extra is None:
                continue
            component = state.iteration_component
            component.sfnlocal_tolerance = extra["tolerance"]
            component.sfnlocal_item_batcher = extra.get("batcher")
            component.sfnlocal_result_writer = state.result_writer
            component.sfnlocal_writer_config = extra.get("writer_config")
            if state.result_writer is not None:
                state.result_writer.resource_eval.sfnlocal_writer_config = extra.get("writer_config")
            if state.item_reader is not None and extra.get("input_type"):
                state.item_reader.resource_eval.sfnlocal_input_type = extra["input_type"]
        return program, tree

    AmazonStateLanguageParser.parse = staticmethod(parse)


def _instances(root: Any, cls: type) -> list[Any]:
    """Every `cls` instance reachable from a parsed program (moto's component objects)."""
    found, seen, todo = [], set(), [root]
    while todo:
        obj = todo.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, cls):
            found.append(obj)
        if isinstance(obj, dict):
            todo.extend(obj.values())
        elif isinstance(obj, list | tuple):
            todo.extend(obj)
        elif type(obj).__module__.startswith("moto.stepfunctions") and hasattr(obj, "__dict__"):
            todo.extend(vars(obj).values())
    return found


def _install_result_writer() -> None:
    """Write a distributed Map's results to S3 as Step Functions does.

    moto writes only `<Prefix>/<map run id>/manifest.json`, with empty ResultFiles, and drops
    the results ("TODO"). Here (https://docs.aws.amazon.com/step-functions/latest/dg/
    input-output-resultwriter.html) the records the Map Run kept (_install_tolerated_failure_
    percentage) are written under `<Prefix>/<map run id>/`: SUCCEEDED_0.json (succeeded
    children) and FAILED_0.json (failed, timed out and aborted ones), each a JSON array of
    {ExecutionArn, Input, InputDetails, Name, Output, OutputDetails (succeeded only), Error,
    Cause (when known), RedriveCount, RedriveStatus, StartDate, StateMachineArn, Status,
    StopDate}; then manifest.json {DestinationBucket, MapRunArn, ResultFiles: {FAILED,
    PENDING, SUCCEEDED: [{Key, Size}]}}. The Map state's result is {MapRunArn,
    ResultWriterDetails: {Bucket, Key: the manifest's key}}. A status without records gets no
    file and an empty list. Uncertain against AWS, kept simple here: the field order and the
    Redrive* values; the date format; one file per status whatever its size (AWS starts a new
    index past a size cap); items not started because the tolerance was exceeded appear in
    no file (AWS may list such items as PENDING). WriterConfig: OutputType JSONL writes
    `.jsonl` files of one record per line; Transformation COMPACT/FLATTEN write the succeeded
    children's outputs only (failed records are always written whole).

    Parameters with paths (`"Bucket.$"`, `"Prefix.$"`: the fleet writes each wave under a prefix
    its planner chose) select from the Map state's input, after InputPath, as any Parameters
    field does; moto evaluated them against the children's outputs, where they are not found.
    """
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.result_writer import result_writer_decl
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.result_writer.resource_eval import (
        resource_eval_s3 as rw_s3,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.state_map import StateMap

    original_eval_execution = StateMap._eval_execution

    def eval_execution(self: Any, env: Any) -> None:
        # The Map's effective input (after InputPath), on top of the stack as the state starts.
        env.sfnlocal_map_input = env.stack[-1] if env.stack else env.states.get_input()
        original_eval_execution(self, env)

    def writer_eval_body(self: Any, env: Any) -> None:
        # Parameters paths ("Prefix.$") select from the Map state's input, as every Parameters
        # field does; moto evaluated them against the children's outputs on top of the stack.
        env.stack.append(getattr(env, "sfnlocal_map_input", None))
        self.parargs.eval(env=env)
        parameters = env.stack.pop()
        env.stack.pop()
        env.stack.append(parameters)
        self.resource_eval.eval_resource(env=env)

    StateMap._eval_execution = eval_execution
    result_writer_decl.ResultWriter._eval_body = writer_eval_body

    def put_object(self: Any, env: Any, resource_runtime_part: Any, state_credentials: Any) -> None:
        parameters = env.stack.pop()
        env.stack.pop()  # the Map's outputs: the records hold more
        s3 = rw_s3.ResourceEvalS3._get_s3_client(
            resource_runtime_part=resource_runtime_part, state_credentials=state_credentials
        )
        record = getattr(env, "sfnlocal_map_run_record", None) or env.map_run_record_pool_manager.get_all().pop()
        bucket = parameters["Bucket"]
        prefix = parameters.get("Prefix", "")
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        base = prefix + record.map_run_arn.split(":")[-1] + "/"
        config = getattr(self, "sfnlocal_writer_config", None) or {}
        jsonl = config.get("OutputType") == "JSONL"
        records = [r for _, r in sorted(getattr(record, "sfnlocal_records", []), key=lambda ir: ir[0])]
        groups = {
            "FAILED": [r for r in records if r["Status"] != "SUCCEEDED"],
            "PENDING": [],
            "SUCCEEDED": _transform(
                [r for r in records if r["Status"] == "SUCCEEDED"], config.get("Transformation", "NONE")
            ),
        }
        files: dict[str, list] = {}
        for status, rows in groups.items():
            files[status] = []
            if not rows:
                continue
            if jsonl:
                body = "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in rows).encode()
            else:
                body = json.dumps(rows, separators=(",", ":")).encode()
            key = f"{base}{status}_0.{'jsonl' if jsonl else 'json'}"
            s3.put_object(Bucket=bucket, Key=key, Body=body)
            files[status].append({"Key": key, "Size": len(body)})
        manifest = {"DestinationBucket": bucket, "MapRunArn": record.map_run_arn, "ResultFiles": files}
        key = base + "manifest.json"
        s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(manifest).encode())
        env.stack.append({"MapRunArn": record.map_run_arn, "ResultWriterDetails": {"Bucket": bucket, "Key": key}})

    # A plain function: moto looks the handler up on the instance, so it is called bound.
    rw_s3.ResourceEvalS3._handle_put_object = put_object


def _install_iterative_workers() -> None:
    """Let a Map worker run any number of items: a loop where moto recurses once per item.

    moto's IterationWorker._eval_pool (inline Map) and DistributedItemProcessorWorker._eval_pool
    call themselves after each item, so a worker with more than ~950 items (e.g. 1,500 items at
    MaxConcurrency 1) dies of RecursionError in its thread and the Map never ends (the job is
    never closed, await_jobs waits forever). Same steps, as a loop; and an error escaping an
    item's evaluation closes its job with that error instead of killing the worker silently.
    """
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration import iteration_worker
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.itemprocessor import (
        distributed_item_processor_worker as dipw,
    )

    def run_job(self: Any, worker_frame: Any, job: Any, distributed: bool) -> Any:
        job_frame = worker_frame.open_inner_frame()
        try:
            self._eval_job(env=job_frame, job=job)
        except Exception as ex:  # noqa: BLE001 - handed to the pool, as moto's _eval_job does
            job.job_output = ex
        if distributed:
            worker_frame.delete_frame(job_frame)
        else:
            worker_frame.close_frame(job_frame)
        return job_frame

    def inline_pool(self: Any, job: Any, worker_frame: Any) -> None:
        while job is not None:
            job_frame = run_job(self, worker_frame, job, distributed=False)
            if isinstance(job.job_output, Exception) or self.stopped():
                self._env.close_frame(worker_frame)
                self._job_pool.close_job(job)
                return
            next_job = self._job_pool.next_job()
            if next_job is None:
                worker_frame.event_history_context.source_event_id = (
                    job_frame.event_history_context.last_published_event_id
                )
                self._env.close_frame(worker_frame)
                self._job_pool.close_job(job)
                return
            self._job_pool.close_job(job)
            job = next_job
        self._env.close_frame(worker_frame)

    def distributed_pool(self: Any, job: Any, worker_frame: Any) -> None:
        while job is not None:
            run_job(self, worker_frame, job, distributed=True)
            if isinstance(job.job_output, Exception) or self.stopped():
                self._env.delete_frame(worker_frame)
                self._job_pool.close_job(job)
                return
            next_job = self._job_pool.next_job()
            if next_job is None:
                self._env.delete_frame(worker_frame)
                self._job_pool.close_job(job)
                return
            self._job_pool.close_job(job)
            job = next_job
        self._env.delete_frame(worker_frame)

    iteration_worker.IterationWorker._eval_pool = inline_pool
    dipw.DistributedItemProcessorWorker._eval_pool = distributed_pool


def _install_item_reader() -> None:
    """ItemReader: JSON Lines objects, and every page of listObjectsV2.

    - `ReaderConfig.InputType: JSONL` (taken out of the definition by
      _install_definition_normalisation): the object is read as one JSON value per line.
    - moto's `s3:listObjectsV2` reader makes one call (at most 1,000 keys), fails with KeyError
      when nothing matches and leaves LastModified a datetime; here it reads every page, an
      empty listing is no items, and timestamps are ISO 8601 text.
    """
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.item_reader.eval import (
        resource_eval_s3 as ir_s3,
    )

    original_get_object = ir_s3.ResourceEvalS3._handle_get_object

    def get_object(self: Any, env: Any, resource_runtime_part: Any, state_credentials: Any) -> None:
        original_get_object(env, resource_runtime_part, state_credentials)
        if getattr(self, "sfnlocal_input_type", None) == "JSONL":
            lines = env.stack.pop().splitlines()
            env.stack.append(json.dumps([json.loads(line) for line in lines if line.strip()]))

    def list_objects_v2(self: Any, env: Any, resource_runtime_part: Any, state_credentials: Any) -> None:
        s3 = ir_s3.ResourceEvalS3._get_s3_client(
            resource_runtime_part=resource_runtime_part, state_credentials=state_credentials
        )
        parameters = env.stack.pop()
        contents: list[dict] = []
        for page in s3.get_paginator("list_objects_v2").paginate(**parameters):
            contents.extend(page.get("Contents", []))
        _timestamps_to_text(contents)
        env.stack.append(contents)

    ir_s3.ResourceEvalS3._handle_get_object = get_object
    ir_s3.ResourceEvalS3._handle_list_objects_v2 = list_objects_v2


def _install_limits() -> None:
    """Step Functions' hard quotas, which moto does not check (it checks only the 256 KiB of a
    state's output and of a task's result):

    - History: an execution (and each distributed-Map child, which has its own history) whose
      history would pass 25,000 events fails: the event that would be the 25,000th non-final
      one raises, and the execution ends FAILED with error States.Runtime (moto's name for an
      unexpected evaluation error; the ExecutionFailed event is the 25,000th). The quota page
      says only "the execution will fail"; the error name is this shim's choice.
    - StartExecution input over 262,144 UTF-8 bytes is refused with ValidationException
      ("Member must have length less than or equal to 262144", the API's length constraint on
      `input`; the exact AWS message is unverified).
    - A cause over 32,768 characters (the API's length constraint) is cut to 32,768, in the
      history events and in DescribeExecution: the API cannot return more, and AWS's own
      behaviour (cut or refuse) is undocumented. The longest cause before cutting is kept in
      the statistics (`maxCauseChars`), so a test can still assert it stayed within the quota.
    """
    from moto.stepfunctions.exceptions import ValidationException
    from moto.stepfunctions.parser.asl.eval.environment import Environment
    from moto.stepfunctions.parser.asl.eval.event.event_manager import EventManager
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    original_add_event = EventManager.add_event

    def add_event(self: Any, context: Any, event_type: Any, event_details: Any = None, *args: Any, **kw: Any) -> int:
        for details in (event_details or {}).values():
            if isinstance(details, dict) and isinstance(details.get("cause"), str):
                _note_cause(self, details)
        limit = QUOTAS["historyEvents"]
        kind = getattr(event_type, "value", event_type)
        if len(self._history_event_list) >= limit - 1 and kind not in _TERMINAL_EVENTS:
            raise ExecutionHistoryLimitExceeded(
                f"The execution history reached {limit} events, Step Functions' hard quota"
            )
        return original_add_event(self, context, event_type, event_details, *args, **kw)

    original_set_error = Environment.set_error

    def set_error(self: Any, error: Any) -> None:
        if isinstance(error, dict) and isinstance(error.get("cause"), str) and self.event_manager is not None:
            _note_cause(self.event_manager, error)
        original_set_error(self, error)

    original_start = StepFunctionsParserBackend.start_execution

    def start_execution(self: Any, state_machine_arn: str, name: Any = None, execution_input: Any = None, *a: Any):
        if execution_input is not None and len(execution_input.encode()) > PAYLOAD_BYTES_MAX:
            raise ValidationException(
                "1 validation error detected: Value at 'input' failed to satisfy constraint: "
                f"Member must have length less than or equal to {PAYLOAD_BYTES_MAX}"
            )
        return original_start(self, state_machine_arn, name, execution_input, *a)

    EventManager.add_event = add_event
    Environment.set_error = set_error
    StepFunctionsParserBackend.start_execution = start_execution


def _note_cause(manager: Any, details: dict) -> None:
    cause = details["cause"]
    manager.sfnlocal_max_cause_chars = max(getattr(manager, "sfnlocal_max_cause_chars", 0), len(cause))
    if len(cause) > CAUSE_CHARS_MAX:
        details["cause"] = cause[:CAUSE_CHARS_MAX]


def _history_stats(manager: Any, child: bool = False) -> dict[str, Any]:
    """An execution's history size: its events and the largest payloads in them (UTF-8 bytes).

    For a map child (`child`), moto's history holds only its states: ExecutionStarted and the
    final event that Step Functions adds are counted in.
    """
    events = list(manager._history_event_list)
    stats = {
        "events": len(events) + (2 if child else 0),
        "maxStateInputBytes": 0,
        "maxStateOutputBytes": 0,
        "maxPayloadBytes": 0,
        "maxCauseChars": getattr(manager, "sfnlocal_max_cause_chars", 0),
    }
    for event in events:
        for field, details in event.items():
            if not (field.endswith("EventDetails") and isinstance(details, dict)):
                continue
            for key in ("input", "output", "parameters", "result"):
                value = details.get(key)
                if isinstance(value, str):
                    size = len(value.encode())
                    stats["maxPayloadBytes"] = max(stats["maxPayloadBytes"], size)
                    if field == "stateEnteredEventDetails" and key == "input":
                        stats["maxStateInputBytes"] = max(stats["maxStateInputBytes"], size)
                    if field == "stateExitedEventDetails" and key == "output":
                        stats["maxStateOutputBytes"] = max(stats["maxStateOutputBytes"], size)
            if isinstance(details.get("cause"), str):
                stats["maxCauseChars"] = max(stats["maxCauseChars"], len(details["cause"]))
    return stats


def stats() -> dict[str, Any]:
    """`GET /_sfnlocal/stats`: every execution's history statistics, and every map child's."""
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    executions = {}
    for _account, regions in stepfunctions_parser_backends.items():
        for _region, backend in regions.items():
            for machine in backend.state_machines:
                for execution in machine.executions:
                    env = execution.exec_worker.env if execution.exec_worker else None
                    if env is None or env.event_manager is None:
                        continue
                    executions[execution.exec_arn] = {
                        **_history_stats(env.event_manager),
                        "status": str(execution.exec_status),
                        "inputBytes": len((execution.execution_input or "").encode()),
                    }
    with _STATS_LOCK:
        children = dict(_CHILD_STATS)
    return {"executions": executions, "mapChildren": children}


def _with_stats(app: Any) -> Any:
    def wsgi(environ: dict[str, Any], start_response: Any) -> Any:
        path, method = environ.get("PATH_INFO", "").rstrip("/"), environ.get("REQUEST_METHOD")
        if path == "/_sfnlocal/quotas":
            if method == "POST":
                size = int(environ.get("CONTENT_LENGTH") or 0)
                change = json.loads(environ["wsgi.input"].read(size) or b"{}")
                QUOTAS["historyEvents"] = int(change.get("historyEvents", HISTORY_EVENTS_MAX))
            body = json.dumps(QUOTAS).encode()
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        if path == "/_sfnlocal/stats":
            if method == "DELETE":
                with _STATS_LOCK:
                    _CHILD_STATS.clear()
                body = b"{}"
            else:
                body = json.dumps(stats(), default=str).encode()
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        return app(environ, start_response)

    return wsgi


def _timestamps_to_text(value: Any) -> None:
    """boto3's datetimes as Step Functions writes SDK timestamps: ISO 8601 UTC, milliseconds."""
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in list(items):
        if isinstance(item, datetime.datetime):
            value[key] = item.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        else:
            _timestamps_to_text(item)


def _install_case_mapping() -> None:
    """Map task parameters and results between Step Functions' and the API's member names.

    Step Functions names SDK-integration members in PascalCase ({"Name", "NodegroupName",
    "UpdateId"} in, {"Update": {"Id", "Status", ...}} out); boto3 uses the API's own names
    (name, nodegroupName, updateId / update.id). LocalStack's interpreter maps them in
    StateTaskService._normalise_parameters/_normalise_response; moto's port keeps the mapping
    helpers (_to_boto_request, _from_boto_response) but leaves those two hooks empty, so this
    fills them in with the botocore models.
    """
    import botocore.session
    from botocore import xform_name
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service import (
        StateTaskService,
    )

    session = botocore.session.get_session()
    cache: dict[tuple[str, str], Any] = {}

    def operation_model(service: str, action: str) -> Any:
        key = (service, action)
        if key not in cache:
            model = session.get_service_model(service)
            names = {xform_name(op): op for op in model.operation_names}
            cache[key] = model.operation_model(names[action]) if action in names else None
        return cache[key]

    def normalise_parameters(
        self: Any, parameters: dict, boto_service_name: str | None = None, service_action_name: str | None = None
    ) -> None:
        op = operation_model(
            self._get_boto_service_name(boto_service_name), self._get_boto_service_action(service_action_name)
        )
        if op is not None and op.input_shape is not None:
            self._to_boto_request(parameters, op.input_shape)

    def normalise_response(
        self: Any, response: Any, boto_service_name: str | None = None, service_action_name: str | None = None
    ) -> None:
        op = operation_model(
            self._get_boto_service_name(boto_service_name), self._get_boto_service_action(service_action_name)
        )
        if op is not None and op.output_shape is not None:
            self._from_boto_response(response, op.output_shape)
        _timestamps_to_text(response)

    StateTaskService._normalise_parameters = normalise_parameters
    StateTaskService._normalise_response = normalise_response


def _function_pair(text: str) -> tuple[str, str]:
    """`ARN=INVOKE_URL` (an ARN holds no "="; the URL may)."""
    arn, sep, url = text.partition("=")
    if not (sep and arn.startswith("arn:") and url.startswith("http")):
        raise argparse.ArgumentTypeError(f"expected ARN=INVOKE_URL, got {text!r}")
    return arn, url


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument(
        "--function",
        action="append",
        default=[],
        type=_function_pair,
        metavar="ARN=INVOKE_URL",
        help="a function's ARN and the Invoke API URL of its Runtime API emulator (repeatable)",
    )
    p.add_argument("--polls-in-progress", type=int, default=1)
    args = p.parse_args(argv)

    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)

    stopping = threading.Event()
    stop_on_signals(stopping)

    server, _ = make_server(args.host, args.port, args.polls_in_progress, stopping)
    server.app = _with_stats(server.app)
    url = url_of(server)
    # moto's executor reaches "its" server at localhost:MOTO_PORT; we route explicitly anyway.
    os.environ["MOTO_PORT"] = str(server.server_address[1])
    default_user_config.setdefault("stepfunctions", {})["execute_state_machine"] = True
    _install(url, dict(args.function))
    return serve(server, stopping)


if __name__ == "__main__":
    sys.exit(main())
