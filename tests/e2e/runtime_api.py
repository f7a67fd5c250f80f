"""A minimal Lambda Runtime API that sends a real deadline.

`cargo lambda watch` sends `Lambda-Runtime-Deadline-Ms: 600000` (a duration where Lambda sends
epoch milliseconds), which the function reads as "no deadline" (per-call limits only). To check
that a stalled EKS still ends *inside the invocation's deadline*, this server hands the function
invocations with `Lambda-Runtime-Deadline-Ms` = now + a budget, as Lambda does, and records when
the answer came back.

Implemented (what the `lambda_runtime` crate uses):

- `GET  /2018-06-01/runtime/invocation/next`: blocks until an invocation is queued; each queued
  invocation goes to exactly one poller;
- `POST /2018-06-01/runtime/invocation/{id}/response` and `.../{id}/error`: the answer;
- `POST /2018-06-01/runtime/init/error`: recorded, answered 202.

The function is pointed at it with `AWS_LAMBDA_RUNTIME_API=127.0.0.1:<port>`. Nothing here
imports pytest.
"""

from __future__ import annotations

import collections
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PREFIX = "/2018-06-01/runtime"
FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:eks-nodegroup-updater-updater"


@dataclass
class Answer:
    request_id: str
    ok: bool
    body: Any
    deadline_ms: int
    # Wall clock (epoch ms) when the invocation was queued and when its answer arrived.
    queued_ms: int
    answered_ms: int
    # Seconds from queueing to the answer, on the monotonic clock.
    elapsed: float

    @property
    def before_deadline(self) -> bool:
        return self.answered_ms < self.deadline_ms


@dataclass
class _Invocation:
    request_id: str
    payload: bytes
    deadline_ms: int
    queued_ms: int
    queued_at: float
    done: threading.Event = field(default_factory=threading.Event)
    answer: Answer | None = None


class RuntimeApi:
    """Start with `with RuntimeApi() as api:`; `api.address` is AWS_LAMBDA_RUNTIME_API."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._queue: collections.deque[_Invocation] = collections.deque()
        self._inflight: dict[str, _Invocation] = {}
        self._stopping = False
        self.pollers_waiting = 0
        self.init_errors: list[Any] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="runtime-api", daemon=True)

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    # What harness.function_process() reads from an emulator.
    @property
    def runtime_api(self) -> str:
        return self.address

    def __enter__(self) -> "RuntimeApi":
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        self._server.shutdown()
        self._server.server_close()

    def wait_for_pollers(self, count: int, timeout: float = 30.0) -> None:
        """Until `count` GET /next requests are parked here (the functions are idle and ready)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self.pollers_waiting < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{self.pollers_waiting} of {count} pollers waiting after {timeout} s")
                self._cond.wait(left)

    def invoke(self, payload: Any, *, budget: float, timeout: float = 90.0) -> Answer:
        """Queue one invocation whose deadline is `budget` seconds from now; wait for its answer."""
        body = json.dumps(payload).encode()
        now_ms = int(time.time() * 1000)
        inv = _Invocation(
            request_id=str(uuid.uuid4()),
            payload=body,
            deadline_ms=now_ms + int(budget * 1000),
            queued_ms=now_ms,
            queued_at=time.monotonic(),
        )
        with self._cond:
            self._inflight[inv.request_id] = inv
            self._queue.append(inv)
            self._cond.notify_all()
        if not inv.done.wait(timeout):
            # Withdrawn, so the next invocation is not handed this stale one first.
            with self._cond:
                self._inflight.pop(inv.request_id, None)
                if inv in self._queue:
                    self._queue.remove(inv)
            raise TimeoutError(f"no answer to {inv.request_id} within {timeout} s")
        assert inv.answer is not None
        return inv.answer

    # ------------------------------------------------------------ server side

    def _next(self) -> _Invocation | None:
        with self._cond:
            self.pollers_waiting += 1
            self._cond.notify_all()
            try:
                while not self._queue and not self._stopping:
                    self._cond.wait(0.5)
                return None if self._stopping else self._queue.popleft()
            finally:
                self.pollers_waiting -= 1

    def _answer(self, request_id: str, ok: bool, raw: bytes) -> bool:
        answered_ms = int(time.time() * 1000)
        with self._cond:
            inv = self._inflight.pop(request_id, None)
        if inv is None:
            return False
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        inv.answer = Answer(
            request_id=request_id,
            ok=ok,
            body=body,
            deadline_ms=inv.deadline_ms,
            queued_ms=inv.queued_ms,
            answered_ms=answered_ms,
            elapsed=time.monotonic() - inv.queued_at,
        )
        inv.done.set()
        return True

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _body(self) -> bytes:
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length) if length else b""

            def do_GET(self) -> None:
                if self.path != f"{PREFIX}/invocation/next":
                    self._send(404, b'{"message":"unknown route"}')
                    return
                inv = api._next()
                if inv is None:
                    self._send(503, b'{"message":"stopping"}')
                    return
                self._send(
                    200,
                    inv.payload,
                    {
                        "Content-Type": "application/json",
                        "Lambda-Runtime-Aws-Request-Id": inv.request_id,
                        "Lambda-Runtime-Deadline-Ms": str(inv.deadline_ms),
                        "Lambda-Runtime-Invoked-Function-Arn": FUNCTION_ARN,
                        "Lambda-Runtime-Trace-Id": f"Root=1-{uuid.uuid4().hex[:8]}-{uuid.uuid4().hex[:24]};Sampled=0",
                    },
                )

            def do_POST(self) -> None:
                body = self._body()
                parts = self.path.removeprefix(PREFIX + "/").split("/")
                if parts == ["init", "error"]:
                    api.init_errors.append(body.decode(errors="replace"))
                    self._send(202, b'{"status":"OK"}')
                elif len(parts) == 3 and parts[0] == "invocation" and parts[2] in ("response", "error"):
                    known = api._answer(parts[1], parts[2] == "response", body)
                    self._send(202 if known else 400, b'{"status":"OK"}' if known else b'{"message":"unknown id"}')
                else:
                    self._send(404, b'{"message":"unknown route"}')

        return Handler
