"""The Lambda Runtime API emulator: real deadlines, and timestamps precise enough to time.

``cargo lambda watch`` (function.py) is the emulator most tests use, but it sends
``Lambda-Runtime-Deadline-Ms: 600000`` (a duration where Lambda sends epoch milliseconds),
which the function reads as "no deadline". This one sends now + a budget, as Lambda does, so
the end-to-end tier can check that a stalled EKS still ends *inside the invocation's
deadline*; and it timestamps what it sees, so the benchmark can time cold starts and
invocations with it.

Implemented (what the `lambda_runtime` crate and `awslambdaric` use):

- ``GET  /2018-06-01/runtime/invocation/next``            long-poll for the next event; each
  invocation goes to exactly one poller, the one that has waited longest;
- ``POST /2018-06-01/runtime/invocation/{id}/response``   the result;
- ``POST /2018-06-01/runtime/invocation/{id}/error``      a function error;
- ``POST /2018-06-01/runtime/init/error``                 an init error (recorded).

It speaks HTTP/1.1 with keep-alive (both `lambda_runtime`'s hyper client and the C++
client inside `awslambdaric` keep one connection), answers ``Expect: 100-continue``, and
reads ``Content-Length`` and chunked bodies. ``RuntimeApi`` is an `asyncio.Protocol` server
on the caller's loop (no streams, no task per request), so its own cost per invocation stays
small and is the same for every benchmark subject. ``ThreadedRuntimeApi`` runs the same
server on a loop in a thread of its own, for synchronous callers (the pytest tiers).

Timestamps are ``time.perf_counter_ns()``: when a ``GET .../next`` request has been read
(``next_poll``), just before the event's bytes are written (``Result.handed_out``), and
once the whole response (or error) body has been read (``Result.answered``).

A function is pointed at it with ``AWS_LAMBDA_RUNTIME_API=<address>`` (host:port).
"""

from __future__ import annotations

import asyncio
import collections
import functools
import json
import threading
import time
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

from .http1 import parse_chunked, parse_head

PREFIX = "/2018-06-01/runtime"
NEXT = f"{PREFIX}/invocation/next"
INVOCATION = f"{PREFIX}/invocation/"
INIT_ERROR = f"{PREFIX}/init/error"
FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:eks-nodegroup-updater-updater"
_ACCEPTED = b'HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: 15\r\n\r\n{"status":"OK"}'

T = TypeVar("T")


class ProtocolError(RuntimeError):
    """The function sent something the Runtime API would not accept."""


@dataclass
class Result:
    """One invocation's answer, and when things happened."""

    request_id: str
    ok: bool
    raw: bytes
    # perf_counter_ns: the invocation queued, its event written, its answer read.
    queued: int
    handed_out: int
    answered: int
    # Wall clock (epoch ms) of the deadline sent, of the queueing and of the answer.
    deadline_ms: int
    queued_ms: int
    answered_ms: int

    @property
    def latency_ns(self) -> int:
        """Event handed out → answer read: what the benchmark times."""
        return self.answered - self.handed_out

    @property
    def elapsed(self) -> float:
        """Seconds from queueing to the answer."""
        return (self.answered - self.queued) / 1e9

    @property
    def before_deadline(self) -> bool:
        return self.answered_ms < self.deadline_ms

    def json(self) -> Any:
        return json.loads(self.raw)

    @functools.cached_property
    def body(self) -> Any:
        """The answer as JSON; its text if it is not JSON; None if empty."""
        if not self.raw:
            return None
        try:
            return json.loads(self.raw)
        except ValueError:
            return self.raw.decode(errors="replace")


class _Connection(asyncio.Protocol):
    def __init__(self, api: RuntimeApi) -> None:
        self.api = api
        self.buf = bytearray()
        self.transport: asyncio.Transport | None = None
        self.continued = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.api.connections += 1
        self.api._transports.add(transport)  # type: ignore[arg-type]

    def connection_lost(self, exc: Exception | None) -> None:
        self.api._transports.discard(self.transport)  # type: ignore[arg-type]
        self.api._forget_polls(self)

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while True:
            try:
                head = parse_head(self.buf)
            except ValueError as e:
                raise ProtocolError(str(e)) from e
            if head is None:
                return
            method, path, headers, start = head
            if "chunked" in headers.get("transfer-encoding", "").lower():
                parsed = parse_chunked(self.buf, start)
                if parsed is None:
                    return
                body, consumed = parsed
            else:
                length = int(headers.get("content-length") or 0)
                if len(self.buf) < start + length:
                    if headers.get("expect", "").lower() == "100-continue" and not self.continued:
                        self.continued = True
                        self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")  # type: ignore[union-attr]
                    return
                body, consumed = bytes(self.buf[start : start + length]), start + length
            del self.buf[:consumed]
            self.continued = False
            self.api._request(self, method, path, body)


class RuntimeApi:
    """One Runtime API endpoint on a free loopback port, on the running event loop."""

    def __init__(self, function_arn: str = FUNCTION_ARN) -> None:
        self.function_arn = function_arn
        self._server: asyncio.base_events.Server | None = None
        self._transports: set[asyncio.Transport] = set()
        # Parked GET /next requests, oldest first: (when it was read, its connection).
        self._polls: collections.deque[tuple[int, _Connection]] = collections.deque()
        self._changed: asyncio.Event | None = None
        self._pending: dict[str, tuple[int, asyncio.Future[tuple[bool, int, int, bytes]]]] = {}
        self.init_errors: list[bytes] = []
        self.connections = 0
        self.port = 0

    async def start(self) -> RuntimeApi:
        loop = asyncio.get_running_loop()
        self._changed = asyncio.Event()
        self._server = await loop.create_server(lambda: _Connection(self), "127.0.0.1", 0, backlog=16)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    @property
    def address(self) -> str:
        """What ``AWS_LAMBDA_RUNTIME_API`` holds: host:port, no scheme."""
        return f"127.0.0.1:{self.port}"

    @property
    def pollers_waiting(self) -> int:
        return len(self._polls)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            for t in list(self._transports):
                t.abort()
            self._server = None

    async def _until(self, ready: Callable[[], bool], timeout: float) -> None:
        assert self._changed is not None, "start() first"
        changed = self._changed

        async def wait() -> None:
            while not ready():
                changed.clear()
                await changed.wait()

        await asyncio.wait_for(wait(), timeout)

    async def next_poll(self, timeout: float) -> int:
        """Waits until the function is asking for an event; returns when it asked (ns)."""
        if not self._polls:
            await self._until(lambda: bool(self._polls), timeout)
        return self._polls[0][0]

    async def wait_for_pollers(self, count: int, timeout: float) -> None:
        """Until `count` GET /next requests are parked here (the functions are idle and ready)."""
        try:
            await self._until(lambda: len(self._polls) >= count, timeout)
        except TimeoutError:
            raise TimeoutError(f"{len(self._polls)} of {count} pollers waiting after {timeout} s") from None

    async def invoke(self, payload: Any, timeout: float, *, budget: float = 60.0) -> Result:
        """Hands `payload` to the waiting (or next) poll, with a deadline `budget` seconds from
        now, and waits for its answer; at most `timeout` seconds in all."""
        queued = time.perf_counter_ns()
        queued_ms = int(time.time() * 1000)
        deadline_ms = queued_ms + int(budget * 1000)
        request_id = str(uuid.uuid4())
        try:
            await self.next_poll(timeout)
        except TimeoutError:
            raise TimeoutError(f"no poller took {request_id} within {timeout} s") from None
        _, connection = self._polls.popleft()
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        head = (
            "HTTP/1.1 200 OK\r\n"
            "Content-Type: application/json\r\n"
            f"Lambda-Runtime-Aws-Request-Id: {request_id}\r\n"
            f"Lambda-Runtime-Deadline-Ms: {deadline_ms}\r\n"
            f"Lambda-Runtime-Invoked-Function-Arn: {self.function_arn}\r\n"
            f"Lambda-Runtime-Trace-Id: Root=1-00000000-{request_id[:24].replace('-', '0')};Sampled=0\r\n"
            f"Content-Length: {len(body)}\r\n"
            "\r\n"
        ).encode()
        done: asyncio.Future[tuple[bool, int, int, bytes]] = asyncio.get_running_loop().create_future()
        handed_out = time.perf_counter_ns()
        self._pending[request_id] = (handed_out, done)
        connection.transport.write(head + body)  # type: ignore[union-attr]
        left = timeout - (handed_out - queued) / 1e9
        try:
            ok, answered, answered_ms, answer = await asyncio.wait_for(done, max(left, 0.0))
        except TimeoutError:
            raise TimeoutError(f"no answer to {request_id} within {timeout} s") from None
        finally:
            # Withdrawn on a timeout: a late answer is refused, as an unknown id.
            self._pending.pop(request_id, None)
        return Result(request_id, ok, answer, queued, handed_out, answered, deadline_ms, queued_ms, answered_ms)

    def _forget_polls(self, connection: _Connection) -> None:
        if any(c is connection for _, c in self._polls):
            self._polls = collections.deque(p for p in self._polls if p[1] is not connection)

    def _request(self, connection: _Connection, method: str, path: str, body: bytes) -> None:
        now = time.perf_counter_ns()
        transport = connection.transport
        assert transport is not None
        if method == "GET" and path == NEXT:
            self._polls.append((now, connection))
            assert self._changed is not None
            self._changed.set()
        elif method == "POST" and path.startswith(INVOCATION):
            request_id, _, kind = path[len(INVOCATION) :].partition("/")
            pending = self._pending.get(request_id)
            if pending is None or kind not in ("response", "error"):
                transport.write(_reply(400, b'{"errorType":"InvalidRequestID"}'))
                return
            if not pending[1].done():
                pending[1].set_result((kind == "response", now, int(time.time() * 1000), body))
            transport.write(_ACCEPTED)
        elif method == "POST" and path == INIT_ERROR:
            self.init_errors.append(body)
            transport.write(_ACCEPTED)
        else:
            transport.write(_reply(404, b'{"errorType":"NotFound"}'))


def _reply(status: int, body: bytes) -> bytes:
    reason = {400: "Bad Request", 404: "Not Found"}.get(status, "OK")
    return (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body


class ThreadedRuntimeApi:
    """``RuntimeApi`` on an event loop in a thread of its own: ``with ThreadedRuntimeApi() as api``."""

    def __init__(self, function_arn: str = FUNCTION_ARN) -> None:
        self.api = RuntimeApi(function_arn)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="runtime-api", daemon=True)

    def _call(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def __enter__(self) -> ThreadedRuntimeApi:
        self._thread.start()
        self._call(self.api.start())
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self._call(self.api.close())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)
            if not self._thread.is_alive():
                self._loop.close()

    @property
    def address(self) -> str:
        return self.api.address

    # What function.function_process() reads from an emulator.
    @property
    def runtime_api(self) -> str:
        return self.api.address

    @property
    def init_errors(self) -> list[bytes]:
        return self.api.init_errors

    def wait_for_pollers(self, count: int, timeout: float = 30.0) -> None:
        """Until `count` GET /next requests are parked here (the functions are idle and ready)."""
        self._call(self.api.wait_for_pollers(count, timeout))

    def invoke(self, payload: Any, *, budget: float, timeout: float = 90.0) -> Result:
        """One invocation whose deadline is `budget` seconds from now; waits for its answer."""
        return self._call(self.api.invoke(payload, timeout, budget=budget))
