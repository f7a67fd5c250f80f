"""A minimal AWS Lambda Runtime API, with timestamps, for one function process.

Only what a runtime client needs to serve events and what the benchmark needs to time them:

- ``GET  /2018-06-01/runtime/invocation/next``            long-poll for the next event
- ``POST /2018-06-01/runtime/invocation/{id}/response``   the result
- ``POST /2018-06-01/runtime/invocation/{id}/error``      a function error
- ``POST /2018-06-01/runtime/init/error``                 an init error

It speaks HTTP/1.1 with keep-alive (both `lambda_runtime`'s hyper client and the C++
client inside `awslambdaric` keep one connection), answers ``Expect: 100-continue``, and
reads ``Content-Length`` and chunked bodies. It is an `asyncio.Protocol` on the caller's
loop (no streams, no task per request), so its own cost per invocation stays small and is
the same for every subject.

Timestamps are ``time.perf_counter_ns()``: when a ``GET .../next`` request has been read
(``next_poll``), just before the event's bytes are written (``Result.handed_out``), and
once the whole response (or error) body has been read (``Result.answered``).
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

from http1 import parse_head

PREFIX = "/2018-06-01/runtime"
NEXT = f"{PREFIX}/invocation/next"
INVOCATION = f"{PREFIX}/invocation/"
INIT_ERROR = f"{PREFIX}/init/error"
FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:bench"
_ACCEPTED = b'HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: 15\r\n\r\n{"status":"OK"}'


class ProtocolError(RuntimeError):
    """The function sent something the Runtime API would not accept."""


@dataclass
class Result:
    request_id: str
    handed_out: int
    answered: int
    ok: bool
    body: bytes

    @property
    def latency_ns(self) -> int:
        return self.answered - self.handed_out

    def json(self) -> Any:
        return json.loads(self.body)


class _Connection(asyncio.Protocol):
    def __init__(self, api: "RuntimeApi") -> None:
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
                parsed = _chunked(self.buf, start)
                if parsed is None:
                    return
                body, consumed = parsed
            else:
                length = int(headers.get("content-length") or 0)
                if len(self.buf) < start + length:
                    if headers.get("expect", "").lower() == "100-continue" and not self.continued:
                        self.continued = True
                        self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                    return
                body, consumed = bytes(self.buf[start : start + length]), start + length
            del self.buf[:consumed]
            self.continued = False
            self.api._request(self, method, path, body)


def _chunked(buf: bytearray, start: int) -> tuple[bytes, int] | None:
    """A complete chunked body at `start`: (body, end offset), or None if incomplete."""
    body = bytearray()
    pos = start
    while True:
        eol = buf.find(b"\r\n", pos)
        if eol < 0:
            return None
        size = int(bytes(buf[pos:eol]).split(b";")[0], 16)
        pos = eol + 2
        if size == 0:
            end = buf.find(b"\r\n\r\n", pos - 2)  # trailers end with an empty line
            return (bytes(body), end + 4) if end >= 0 else None
        if len(buf) < pos + size + 2:
            return None
        body += buf[pos : pos + size]
        pos += size + 2


class RuntimeApi:
    """One Runtime API endpoint on a free loopback port, for one function process."""

    def __init__(self) -> None:
        self._server: asyncio.base_events.Server | None = None
        self._transports: set[asyncio.Transport] = set()
        self._poll: tuple[int, _Connection] | None = None
        self._poll_ready: asyncio.Event | None = None
        self._pending: dict[str, tuple[int, asyncio.Future]] = {}
        self.init_error: bytes | None = None
        self.connections = 0
        self.port = 0

    async def start(self) -> "RuntimeApi":
        loop = asyncio.get_running_loop()
        self._poll_ready = asyncio.Event()
        self._server = await loop.create_server(lambda: _Connection(self), "127.0.0.1", 0, backlog=16)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    @property
    def address(self) -> str:
        """What ``AWS_LAMBDA_RUNTIME_API`` holds: host:port, no scheme."""
        return f"127.0.0.1:{self.port}"

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            for t in list(self._transports):
                t.abort()
            self._server = None

    async def next_poll(self, timeout: float) -> int:
        """Waits until the function is asking for an event; returns when it asked (ns)."""
        if self._poll is None:
            assert self._poll_ready is not None
            self._poll_ready.clear()
            await asyncio.wait_for(self._poll_ready.wait(), timeout)
        assert self._poll is not None
        return self._poll[0]

    async def invoke(self, payload: Any, timeout: float, deadline_s: float = 60.0) -> Result:
        """Hands `payload` to the waiting (or next) poll and waits for its answer."""
        await self.next_poll(timeout)
        assert self._poll is not None
        _, connection = self._poll
        self._poll = None
        request_id = str(uuid.uuid4())
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        deadline_ms = int((time.time() + deadline_s) * 1000)
        head = (
            "HTTP/1.1 200 OK\r\n"
            "Content-Type: application/json\r\n"
            f"Lambda-Runtime-Aws-Request-Id: {request_id}\r\n"
            f"Lambda-Runtime-Deadline-Ms: {deadline_ms}\r\n"
            f"Lambda-Runtime-Invoked-Function-Arn: {FUNCTION_ARN}\r\n"
            f"Lambda-Runtime-Trace-Id: Root=1-00000000-{request_id[:24].replace('-', '0')};Sampled=0\r\n"
            f"Content-Length: {len(body)}\r\n"
            "\r\n"
        ).encode()
        done: asyncio.Future = asyncio.get_running_loop().create_future()
        handed_out = time.perf_counter_ns()
        self._pending[request_id] = (handed_out, done)
        connection.transport.write(head + body)
        try:
            ok, answered, answer = await asyncio.wait_for(done, timeout)
        finally:
            self._pending.pop(request_id, None)
        return Result(request_id, handed_out, answered, ok, answer)

    def _request(self, connection: _Connection, method: str, path: str, body: bytes) -> None:
        now = time.perf_counter_ns()
        if method == "GET" and path == NEXT:
            self._poll = (now, connection)
            assert self._poll_ready is not None
            self._poll_ready.set()
        elif method == "POST" and path.startswith(INVOCATION):
            request_id, _, kind = path[len(INVOCATION) :].partition("/")
            pending = self._pending.get(request_id)
            if pending is None or kind not in ("response", "error"):
                connection.transport.write(_reply(400, b'{"errorType":"InvalidRequestID"}'))
                return
            if not pending[1].done():
                pending[1].set_result((kind == "response", now, body))
            connection.transport.write(_ACCEPTED)
        elif method == "POST" and path == INIT_ERROR:
            self.init_error = body
            connection.transport.write(_ACCEPTED)
        else:
            connection.transport.write(_reply(404, b'{"errorType":"NotFound"}'))


def _reply(status: int, body: bytes) -> bytes:
    reason = {400: "Bad Request", 404: "Not Found"}.get(status, "OK")
    return (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body
