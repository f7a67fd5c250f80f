"""The WSGI application: moto's server, with EKS's update calls and an admin API.

Requests are taken in this order:
1. ``/_localeks/...``: the admin API (seed, reset, config, state, faults);
   every other request first waits ``latencyMs`` (config), on its own thread;
2. a fault rule matching the request's operation, if any (see faults.py);
3. UpdateNodegroupVersion, DescribeUpdate and ListUpdates for EKS, and
   ListClusters and ListNodegroups (paged by ``pageSize``): answered here, by
   store.py (updates.py, listing.py);
4. DescribeCluster: counted for a cluster seeded with ``updatingDescribes``
   (clusters.py), which may turn it ACTIVE, then answered by moto;
5. everything else, untouched, to moto's own server application.

Operations are named the way the AWS API names them by matching the request
against the botocore model of the service it was signed for, with moto's
router, so the EKS routes answered here are recognised exactly as an SDK builds them
and fault rules can name any operation of any service moto serves. A service that
signs under another name than its model's (Step Functions as `states`, CloudWatch as
`monitoring`) is named from what the request says itself: the JSON protocol's
`X-Amz-Target`, Smithy RPC v2's path or the query protocol's `Action`
(operation_named_in).
"""

from __future__ import annotations

import functools
import io
import json
import logging
import os
import re
import socket
import struct
import threading
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from moto.core.request import Request as MotoRequest
from moto.core.routing import get_service_router
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.serving import ThreadedWSGIServer

from . import shortcuts, trust
from .errors import AdminError, EksError
from .faults import Faults, Rule
from .model import default_account_id
from .requests import PageQuery, UpdatesQuery
from .store import Store

log = logging.getLogger("localeks")

shortcuts.install()

# The operations moto 5.2.5 lacks, and the two lists it does not page by the
# server-wide page size (listing.py), which this package answers itself.
OWN_OPERATIONS = ("UpdateNodegroupVersion", "DescribeUpdate", "ListUpdates", "ListClusters", "ListNodegroups")

# environ key telling the request handler to end the connection with a TCP
# reset once the application returns (the "reset" fault).
ABORT_KEY = "localeks.abort"

_SCOPE_RE = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")
# moto's own ways of finding the region, in moto's order (BaseResponse).
_HOST_REGION_RE = re.compile(r"\.(?P<region>[^.]+)\.amazonaws\.com")
_UA_REGION_RE = re.compile(r"region/(?P<region>[a-z]{2}-[a-z]+-\d{1})")
_ACCESS_KEY_RE = re.compile(r"AWS.*(?P<key>(?<![A-Z0-9])[A-Z0-9]{20}(?![A-Z0-9]))[:/]")

StartResponse = Callable[..., Any]


class RequestIdentity:
    """Who a request is for: signing service, region and account, as moto sees them."""

    def __init__(self, environ: dict[str, Any]) -> None:
        auth = environ.get("HTTP_AUTHORIZATION", "")
        scope = _SCOPE_RE.search(auth)
        self.signed = bool(auth)
        self.service = scope.group(3).lower() if scope else None
        host_match = _HOST_REGION_RE.search(environ.get("HTTP_HOST", ""))
        ua_match = _UA_REGION_RE.search(environ.get("HTTP_USER_AGENT", ""))
        if host_match:
            self.region = host_match.group("region")
        elif ua_match:
            self.region = ua_match.group("region")
        elif scope:
            self.region = scope.group(2)
        else:
            self.region = "us-east-1"
        self.account = self._account(environ, auth)

    @staticmethod
    def _account(environ: dict[str, Any], auth: str) -> str:
        if "MOTO_ACCOUNT_ID" in os.environ:
            return default_account_id()
        if environ.get("HTTP_X_MOTO_ACCOUNT_ID"):
            return environ["HTTP_X_MOTO_ACCOUNT_ID"]
        key = _ACCESS_KEY_RE.search(auth)
        if key:
            # An access key made through moto's IAM belongs to its account.
            from moto.iam.models import get_account_id_from

            return get_account_id_from(key.group("key"))
        return default_account_id()


def match_operation(environ: dict[str, Any], service: str | None) -> tuple[str | None, dict[str, str]]:
    """(operation name, URI parameters) of a request, or (None, {}).

    For a query-protocol service (SNS, SQS's query form, ...) the operation is in the form
    body, which the router reads: the body is read once here and both the router and moto
    get their own copy, or moto would wait for bytes already taken off the socket.
    """
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length > 0 else b""
    environ["wsgi.input"] = io.BytesIO(body)
    # Unsigned requests are tried as EKS, so a hand-made curl can reach the
    # update routes; moto itself would send them elsewhere anyway.
    try:
        router = get_service_router(service or "eks")
        operation, uri_params = router.match(MotoRequest({**environ, "wsgi.input": io.BytesIO(body)}))
        return operation.name, dict(uri_params)
    except Exception:  # unknown service, no matching route, odd request
        return operation_named_in(environ, body), {}


# An operation name as the AWS APIs spell them (StartExecution, GetMetricData, ...).
_OPERATION_RE = re.compile(r"[A-Za-z][A-Za-z0-9]{0,127}")
# Smithy RPC v2 (CBOR): POST /service/{ServiceName}/operation/{OperationName}.
_RPC_V2_PATH_RE = re.compile(r"/service/[^/]+/operation/(?P<operation>[^/]+)")


def operation_named_in(environ: dict[str, Any], body: bytes) -> str | None:
    """The operation a request names itself, when moto's router cannot name it: the router looks
    for a botocore model under the signing name, and some services sign under another name than
    their model's (Step Functions signs as `states`, its model is `stepfunctions`; CloudWatch
    signs as `monitoring`). Every RPC protocol carries the operation in the request:

    - JSON: the `X-Amz-Target` header, `<TargetPrefix>.<Operation>` (`AWSStepFunctions.StartExecution`,
      `AmazonSQS.SendMessage`): what follows the last '.';
    - Smithy RPC v2: the path, `/service/<Service>/operation/<Operation>`;
    - query (and EC2): the `Action` field, in the form body or the query string.

    None when it names none (a REST call of such a service stays unnamed: `service:?`).
    """
    candidates: list[str] = []
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target:
        candidates.append(target.rsplit(".", 1)[-1])
    rpc_v2 = _RPC_V2_PATH_RE.fullmatch(environ.get("PATH_INFO", ""))
    if rpc_v2:
        candidates.append(rpc_v2.group("operation"))
    candidates += parse_qs(environ.get("QUERY_STRING", "")).get("Action", [])
    if "x-www-form-urlencoded" in environ.get("CONTENT_TYPE", ""):
        candidates += parse_qs(body.decode(errors="replace")).get("Action", [])
    return next((c for c in candidates if _OPERATION_RE.fullmatch(c)), None)


def json_response(
    start_response: StartResponse, status: int, body: Any, headers: Iterable[tuple[str, str]] = ()
) -> list[bytes]:
    data = json.dumps(body).encode()
    start_response(
        f"{status} {HTTP_STATUS_CODES.get(status, 'Unknown')}",
        [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(data))),
            ("x-amzn-RequestId", str(uuid.uuid4())),
            *headers,
        ],
    )
    return [data]


def sts_error(start_response: StartResponse, status: int, code: str, message: str) -> list[bytes]:
    """An STS (query protocol) error document."""
    return query_error(start_response, status, code, message)


def query_error(start_response: StartResponse, status: int, code: str, message: str) -> list[bytes]:
    """An error document of a query-protocol service (STS, SNS, IAM, ...): what their SDKs parse."""
    kind = "Receiver" if status >= 500 else "Sender"
    data = (
        f'<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>{kind}</Type>'
        f"<Code>{escape(code)}</Code><Message>{escape(message)}</Message></Error>"
        f"<RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>"
    ).encode()
    start_response(
        f"{status} {HTTP_STATUS_CODES.get(status, 'Unknown')}",
        [("Content-Type", "text/xml"), ("Content-Length", str(len(data)))],
    )
    return [data]


def error_response(start_response: StartResponse, err: EksError) -> list[bytes]:
    return json_response(start_response, err.status, err.body(), [("x-amzn-ErrorType", err.name)])


@functools.cache
def query_protocol(service: str | None) -> bool:
    """Whether a service speaks the query protocol (XML errors), by botocore's model."""
    if not service:
        return False
    try:
        import botocore.session

        protocol = botocore.session.get_session().get_service_model(service).metadata.get("protocol")
    except Exception:  # not a service botocore knows
        return False
    return protocol in ("query", "ec2")


class Calls:
    """Every AWS API request served: `GET /_localeks/calls`, `DELETE` to start again. Faulted
    requests count too: a client made them.

    - `total`: by `service:Operation`; `byCluster`: by the EKS cluster the request names (its
      `{name}` URI parameter), every account together (the shape existing tests read);
    - `byAccount`: the same two, per account the request was made in (the account of the
      credentials that signed it: an assumed role's credentials are the role's account);
    - `assumeRole`: STS AssumeRole requests by the role ARN asked for (`calls`; `granted`, answered
      200, and `refused`, answered with an error, a fault's included), with the calling accounts
      (`byCaller`) and the session names given (`bySession`), so a test can tell whose call it was.

    Only names are kept: never an access key, a secret or a session token.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._total: Counter[str] = Counter()
        self._by_cluster: dict[str, Counter[str]] = defaultdict(Counter)
        self._account_total: dict[str, Counter[str]] = defaultdict(Counter)
        self._account_cluster: dict[str, dict[str, Counter[str]]] = defaultdict(lambda: defaultdict(Counter))
        self._assume_role: dict[str, dict[str, Any]] = {}

    def count(
        self, service: str | None, operation: str | None, cluster: str | None, account: str | None = None
    ) -> None:
        key = f"{service or '?'}:{operation or '?'}"
        with self._lock:
            self._total[key] += 1
            if cluster:
                self._by_cluster[cluster][key] += 1
            if account:
                self._account_total[account][key] += 1
                if cluster:
                    self._account_cluster[account][cluster][key] += 1

    def assume_role(self, role_arn: str, caller: str, session: str) -> Callable[[int], None]:
        """Count an AssumeRole request; the function returned records its answer's status."""
        with self._lock:
            entry = self._assume_role.setdefault(
                role_arn, {"calls": 0, "granted": 0, "refused": 0, "byCaller": Counter(), "bySession": Counter()}
            )
            entry["calls"] += 1
            entry["byCaller"][caller] += 1
            entry["bySession"][session] += 1

        def answered(status: int) -> None:
            with self._lock:
                entry["granted" if 200 <= status < 300 else "refused"] += 1

        return answered

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "total": dict(self._total),
                "byCluster": {c: dict(n) for c, n in self._by_cluster.items()},
                "byAccount": {
                    a: {
                        "total": dict(n),
                        "byCluster": {c: dict(m) for c, m in self._account_cluster.get(a, {}).items()},
                    }
                    for a, n in self._account_total.items()
                },
                "assumeRole": {
                    arn: {**e, "byCaller": dict(e["byCaller"]), "bySession": dict(e["bySession"])}
                    for arn, e in self._assume_role.items()
                },
            }

    def clear(self) -> dict[str, Any]:
        with self._lock:
            self._total.clear()
            self._by_cluster.clear()
            self._account_total.clear()
            self._account_cluster.clear()
            self._assume_role.clear()
        return {"total": {}, "byCluster": {}, "byAccount": {}, "assumeRole": {}}


class LocalEksApp:
    def __init__(self, store: Store, faults: Faults, stopping: threading.Event) -> None:
        self.store = store
        self.faults = faults
        self.stopping = stopping
        self.calls = Calls()
        self.moto = DomainDispatcherApplication(create_backend_app)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/_localeks" or path.startswith("/_localeks/"):
            return self.admin(environ, start_response)

        # Injected latency: this request's own thread waits (werkzeug serves each on its
        # own), before anything else, so a fault's answer comes late too; a stop ends it.
        latency_ms = self.store.config.latency_ms
        if latency_ms > 0:
            self.stopping.wait(latency_ms / 1000)

        who = RequestIdentity(environ)
        operation, uri = match_operation(environ, who.service)
        self.calls.count(who.service, operation, uri.get("name"), who.account)
        if who.service == "sts" and operation == "AssumeRole":
            start_response = self._recording_assume_role(who, environ, start_response)
        rule = self.faults.take(who.service, operation)
        if rule is not None:
            log.info("fault %s on %s %s (%s)", rule.kind, environ.get("REQUEST_METHOD"), path, operation)
            return self.fault(
                rule, who, operation, uri, environ, start_response, lambda: self.serve(who, operation, uri, environ)
            )

        return self.serve(who, operation, uri, environ)(start_response)

    def _recording_assume_role(
        self, who: RequestIdentity, environ: dict[str, Any], start_response: StartResponse
    ) -> StartResponse:
        """Count an AssumeRole request by role; `start_response`, recording how it was answered."""
        form = _form(environ)
        answered = self.calls.assume_role(
            form.get("RoleArn", [""])[0], who.account, form.get("RoleSessionName", [""])[0]
        )

        def recording(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            answered(int(status.split()[0]))
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        return recording

    # ----------------------------------------------------------------- EKS

    def serve(
        self, who: RequestIdentity, operation: str | None, uri: dict[str, str], environ: dict[str, Any]
    ) -> Callable[[StartResponse], Iterable[bytes]]:
        """The normal answer to a request, as a function of start_response."""
        if who.service in ("eks", None) and operation in OWN_OPERATIONS:
            return lambda start_response: self.eks(who, operation, uri, environ, start_response)
        if who.service == "sts" and operation == "AssumeRole":
            # Judged as IAM would (trust.py): moto would hand out any role's credentials.
            refused = trust.refusal(who.account, _form(environ).get("RoleArn", [""])[0])
            if refused is not None:
                return lambda start_response: sts_error(start_response, 403, "AccessDenied", refused)
        if who.service == "eks" and operation == "DescribeCluster":
            # Counted for a seeded control-plane update (updatingDescribes), then moto's.
            return lambda start_response: self.store.describe_cluster(
                who.account, who.region, uri.get("name", ""), lambda: _drain(self.moto(environ, start_response))
            )
        return lambda start_response: self.moto(environ, start_response)

    def eks(
        self,
        who: RequestIdentity,
        operation: str,
        uri: dict[str, str],
        environ: dict[str, Any],
        start_response: StartResponse,
    ) -> list[bytes]:
        query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True).items()}
        cluster = uri.get("name", "")
        try:
            if operation == "UpdateNodegroupVersion":
                body = _read_json(environ)
                result = self.store.update_nodegroup_version(
                    who.account, who.region, cluster, uri.get("nodegroupName", ""), body
                )
            elif operation == "ListClusters":
                result = self.store.list_clusters(who.account, who.region, PageQuery.parse(query))
            elif operation == "ListNodegroups":
                result = self.store.list_nodegroups(who.account, who.region, cluster, PageQuery.parse(query))
            elif operation == "DescribeUpdate":
                result = self.store.describe_update(
                    who.account, who.region, cluster, uri.get("updateId", ""), UpdatesQuery.parse(query)
                )
            else:
                result = self.store.list_updates(who.account, who.region, cluster, UpdatesQuery.parse(query))
        except EksError as err:
            log.info("%s %s/%s -> %s: %s", operation, cluster, uri.get("nodegroupName", ""), err.name, err.message)
            return error_response(start_response, err)
        return json_response(start_response, 200, result)

    # -------------------------------------------------------------- faults

    def fault(
        self,
        rule: Rule,
        who: RequestIdentity,
        operation: str | None,
        uri: dict[str, str],
        environ: dict[str, Any],
        start_response: StartResponse,
        normal: Callable[[], Callable[[StartResponse], Iterable[bytes]]],
    ) -> Iterable[bytes]:
        def refuse(err: EksError) -> list[bytes]:
            # In the protocol of the service asked (STS answers XML), so its SDK reads the error.
            if query_protocol(who.service):
                code = {"ThrottlingException": "Throttling", "AccessDeniedException": "AccessDenied"}.get(
                    err.name, err.name
                )
                return query_error(start_response, err.status, code, err.message)
            return error_response(start_response, err)

        if rule.kind == "throttle":
            return refuse(EksError("ThrottlingException", "Rate exceeded", status=429))
        if rule.kind == "error500":
            name = "ServerException" if who.service in ("eks", None) else "InternalFailure"
            return refuse(EksError(name, "localeks: injected internal error", status=500))
        if rule.kind == "notfound":
            # EKS's shape (status, x-amzn-ErrorType, body with the names it knows); for an
            # update, the answer EKS gives while it cannot describe a fresh one yet.
            cluster, nodegroup = uri.get("name"), uri.get("nodegroupName")
            if operation == "DescribeUpdate":
                message = f"No update found for ID: {uri.get('updateId', '')}. (localeks: injected)"
            else:
                message = "localeks: injected ResourceNotFoundException"
            return refuse(EksError("ResourceNotFoundException", message, cluster, nodegroup))
        if rule.kind == "denied":
            action = f"{who.service or 'eks'}:{operation or 'Unknown'}"
            message = (
                f"User: arn:aws:sts::{who.account}:assumed-role/localeks-role/function is not authorized to "
                f"perform: {action} (localeks: injected)"
            )
            return refuse(EksError("AccessDeniedException", message, status=403))
        if rule.kind == "notjson":
            data = b"<html><body>502 Bad Gateway</body></html>"
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
            return [data]
        if rule.kind == "stall":
            # Wait, unless the server is being stopped, then answer as usual.
            self.stopping.wait(rule.stall_seconds)
            return normal()(start_response)
        if rule.kind == "reset":
            environ[ABORT_KEY] = True
            raise ConnectionResetError("localeks: injected connection reset")
        # truncated: the real response, cut in half, then the connection closed.
        captured: dict[str, Any] = {}
        chunks: list[bytes] = []

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
            captured["status"], captured["headers"] = status, headers
            return chunks.append

        body_iter = normal()(capture)
        try:
            chunks.extend(body_iter)
        finally:
            if hasattr(body_iter, "close"):
                body_iter.close()
        body = b"".join(chunks)
        headers = [(k, v) for k, v in captured["headers"] if k.lower() != "content-length"]
        start_response(captured["status"], [*headers, ("Content-Length", str(len(body)))])

        def half() -> Iterable[bytes]:
            yield body[: len(body) // 2]
            # Dropping the connection here makes werkzeug close it (after the
            # half body went out) instead of waiting for a next request.
            raise ConnectionAbortedError("localeks: injected truncated response")

        return half()

    # --------------------------------------------------------------- admin

    def admin(self, environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "").rstrip("/")
        routes: dict[tuple[str, str], Callable[[Any], dict[str, Any]]] = {
            ("GET", "/_localeks/health"): lambda _: {"ok": True},
            ("POST", "/_localeks/seed"): self.store.seed,
            ("POST", "/_localeks/reset"): lambda _: {**self.store.reset(), **self.faults.clear()},
            ("GET", "/_localeks/config"): lambda _: {"config": self.store.config.to_api()},
            ("POST", "/_localeks/config"): self.store.set_config,
            ("GET", "/_localeks/state"): lambda _: {**self.store.state(), "faults": self.faults.snapshot()["rules"]},
            ("POST", "/_localeks/finish-updates"): self.store.finish_updates,
            ("POST", "/_localeks/ssm-parameters"): self.store.put_ssm_parameters,
            ("GET", "/_localeks/faults"): lambda _: self.faults.snapshot(),
            ("POST", "/_localeks/faults"): self.faults.add,
            ("DELETE", "/_localeks/faults"): lambda _: self.faults.clear(),
            ("GET", "/_localeks/calls"): lambda _: self.calls.snapshot(),
            ("DELETE", "/_localeks/calls"): lambda _: self.calls.clear(),
        }
        handler = routes.get((method, path))
        if handler is None:
            known = sorted({p for _, p in routes})
            return json_response(start_response, 404, {"message": f"no admin route {method} {path}; known: {known}"})
        try:
            payload = _read_json(environ) if method == "POST" else None
            return json_response(start_response, 200, handler(payload))
        except (AdminError, EksError) as err:
            message = err.message if isinstance(err, EksError) else str(err)
            return json_response(start_response, 400, {"message": message})
        except Exception as err:  # e.g. moto refusing a seeded value
            log.exception("admin %s %s failed", method, path)
            return json_response(start_response, 500, {"message": f"{type(err).__name__}: {err}"})


def _form(environ: dict[str, Any]) -> dict[str, list[str]]:
    """A query-protocol request's form body (match_operation left it in a BytesIO)."""
    return parse_qs(environ["wsgi.input"].getvalue().decode(errors="replace"))


def _drain(body: Iterable[bytes]) -> list[bytes]:
    """A WSGI body read whole (and closed), so it is made while a lock is held."""
    try:
        return list(body)
    finally:
        if hasattr(body, "close"):
            body.close()


def _read_json(environ: dict[str, Any]) -> Any:
    """The request body as JSON; None when empty."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    raw = environ["wsgi.input"].read(length) if length > 0 else b""
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise EksError("SerializationException", f"The request body is not valid JSON: {exc}") from exc


class RequestHandler(MotoRequestHandler):
    """moto's handler, made to close a connection the application dropped."""

    def connection_dropped(self, error: BaseException, environ: Any = None) -> None:
        # Without this, a keep-alive connection would wait for a next request
        # after an injected reset or truncated response.
        self.close_connection = True
        if environ is not None and environ.get(ABORT_KEY):
            self.server.abort_on_close(self.connection)  # type: ignore[attr-defined]


class Server(ThreadedWSGIServer):
    """werkzeug's threaded server, able to end a connection with a TCP reset."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._abort: set[int] = set()
        self._abort_lock = threading.Lock()

    def abort_on_close(self, conn: socket.socket) -> None:
        # Linger 0 makes close() send a reset instead of an orderly FIN.
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        with self._abort_lock:
            self._abort.add(id(conn))

    def shutdown_request(self, request: Any) -> None:
        with self._abort_lock:
            abort = id(request) in self._abort
            self._abort.discard(id(request))
        if abort:
            # Skip the half-close socketserver does first: it would send a FIN.
            self.close_request(request)
        else:
            super().shutdown_request(request)
