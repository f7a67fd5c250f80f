"""The local EKS endpoint with a Step Functions executor in the same server.

    PYTHONPATH=tests/localeks python tests/sam/sfnlocal.py --lambda-invoke-url URL --function-arn ARN

One loopback server, one port: tests/localeks (moto's server plus UpdateNodegroupVersion,
DescribeUpdate and ListUpdates) with moto's Step Functions *executor* switched on. That
executor is moto's port of LocalStack's ASL interpreter (moto.stepfunctions.parser): it runs
the definitions (Choice, Wait, Retry/Catch, intrinsic functions, Map in inline and distributed
mode, ...) and calls services through boto3 clients. Those calls are routed here:

- AWS SDK integrations (`aws-sdk:eks:describeUpdate`, `aws-sdk:sfn:describeExecution`) and the
  nested executions (`states:startExecution.sync:2`) go to this same server: DescribeUpdate is
  localeks' stateful one, StartExecution/DescribeExecution are moto's (running the nested
  definition with this same executor);
- the Lambda integration (`lambda:invoke`) goes to the real function binary, through the
  Invoke API of `cargo lambda watch` (`--lambda-invoke-url`). That emulator answers a function
  error with HTTP 500 and the error document; Lambda's Invoke answers 200 with
  `X-Amz-Function-Error: Unhandled`. The adapter below turns the first into the second, so the
  executor names the error after `errorType`, as Step Functions does. A FunctionName other
  than `--function-arn` is refused like Lambda refuses an unknown function.

and four gaps of moto's port (5.2.5) against Step Functions are filled, each a function below:
SDK-integration member names (PascalCase in Step Functions, the API's own in boto3) are mapped
both ways; SDK timestamps are written as ISO 8601 text; a distributed Map honours
ToleratedFailurePercentage (moto parses it and ignores it); and an EKS SDK-integration error is
named `Eks.<Error>` as Step Functions names it (moto knows only DynamoDb and Sfn and would say
`eks.<Error>`, which no `Retry` on `Eks.*` matches). Everything else is moto's.

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
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError
from moto.core.config import default_user_config

from localeks.server import make_server, serve, stop_on_signals, url_of

log = logging.getLogger("sfnlocal")


def _install(self_url: str, invoke_url: str, function_arn: str) -> None:
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
    from moto.stepfunctions.parser.asl.utils import boto_client as boto_client_module

    def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        return boto3.client(
            service_name=service,
            region_name=region,
            endpoint_url=self_url,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=Config(
                parameter_validation=False,
                retries={"max_attempts": 0, "total_max_attempts": 1},
                connect_timeout=10,
                read_timeout=120,
            ),
        )

    # Every module that did `from ...boto_client import boto_client_for`.
    boto_client_module.boto_client_for = boto_client_for
    for name, module in list(sys.modules.items()):
        if name.startswith("moto.stepfunctions.parser") and hasattr(module, "boto_client_for"):
            module.boto_client_for = boto_client_for

    def invoke(parameters: dict, region: str, state_credentials: Any = None) -> dict:
        name = parameters.get("FunctionName")
        if name != function_arn:
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
        answer = invoke(parameters, region)
        if answer.get("FunctionError"):
            raise lambda_eval_utils.LambdaFunctionErrorException(
                answer["FunctionError"], json.dumps(answer["Payload"], separators=(",", ":"))
            )
        env.stack.append(answer["Payload"])

    lambda_eval_utils._invoke_lambda_function = invoke
    lambda_eval_utils.exec_lambda_function = exec_lambda_function
    _install_case_mapping()
    _install_tolerated_failure_percentage()
    _install_error_names()


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


def _install_tolerated_failure_percentage() -> None:
    """Make a distributed Map honour ToleratedFailurePercentage, as Step Functions does.

    moto parses the field but logs that it "has no effect": a Map Run never fails on failed
    items. Here, once the failed (or timed out) items exceed the percentage of all items, no
    further item starts, and the Map state fails with States.ExceedToleratedFailureThreshold
    (catchable) when the running ones are done.
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
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration import (
        distributed_iteration_component as dic,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.itemprocessor import (
        distributed_item_processor_worker as dipw,
    )
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails

    def exceeded(record: Any) -> bool:
        total = getattr(record, "sfnlocal_total_items", 0)
        if not total:
            return False
        failed = record.item_counter.failed.get() + record.item_counter.timed_out.get()
        return failed * 100.0 / total > float(record.tolerated_failure_percentage)

    original_map_run = dic.DistributedIterationComponent._map_run

    def map_run(self: Any, env: Any, eval_input: Any) -> None:
        record = eval_input.map_run_record
        record.sfnlocal_total_items = len(env.stack[-1])
        original_map_run(self, env, eval_input)
        if exceeded(record):
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

    original_eval_job = dipw.DistributedItemProcessorWorker._eval_job

    def eval_job(self: Any, env: Any, job: Any) -> None:
        if exceeded(self._map_run_record):
            job.job_output = None  # not started: the Map Run is failing
            return
        original_eval_job(self, env, job)

    dic.DistributedIterationComponent._map_run = map_run
    dipw.DistributedItemProcessorWorker._eval_job = eval_job


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


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--lambda-invoke-url", required=True)
    p.add_argument("--function-arn", required=True)
    p.add_argument("--polls-in-progress", type=int, default=1)
    args = p.parse_args(argv)

    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)

    stopping = threading.Event()
    stop_on_signals(stopping)

    server, _ = make_server(args.host, args.port, args.polls_in_progress, stopping)
    url = url_of(server)
    # moto's executor reaches "its" server at localhost:MOTO_PORT; we route explicitly anyway.
    os.environ["MOTO_PORT"] = str(server.server_address[1])
    default_user_config.setdefault("stepfunctions", {})["execute_state_machine"] = True
    _install(url, args.lambda_invoke_url, args.function_arn)
    return serve(server, stopping)


if __name__ == "__main__":
    sys.exit(main())
