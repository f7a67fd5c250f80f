"""A Runtime API proxy that gives the function its real ARN: ``invoked_arn_proxy()``.

`cargo lambda watch` (function.py) hands every invocation out with
``Lambda-Runtime-Invoked-Function-Arn: function-arn`` (hard-coded in cargo-lambda): an ARN that
names no account. The functions learn their own account from that ARN (src/core/accounts.rs,
``Home::of_function_arn``), as they do on Lambda, where it always names one; behind `cargo lambda
watch` they cannot tell it, so they report ``accountId`` null and serve no other account.

The proxy sits between one function process and the emulator's Runtime API: the function polls
the proxy (``AWS_LAMBDA_RUNTIME_API`` = ``proxy.runtime_api``), the proxy forwards every request
to the emulator as it came, and answers with the emulator's answer as it came, except that the
answer to ``GET /2018-06-01/runtime/invocation/next`` carries the ARN given here (the function's
ARN as Lambda would send it, ``arn:aws:lambda:<region>:<account>:function:<name>``). Nothing else
changes: the emulator's Invoke API, deadlines, request ids and error handling stay
`cargo lambda watch`'s.

HTTP/1.1 with keep-alive on both sides (one upstream connection per function connection), request
bodies by ``Content-Length`` or chunked, ``Expect: 100-continue`` answered; answers are re-sent
with a ``Content-Length``. Serving threads are daemons, so a long poll parked upstream never
holds up the end of a run; ``close()`` stops accepting and drops the open connections.
"""

from __future__ import annotations

import contextlib
import http.client
import http.server
import socket
import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

NEXT = "/2018-06-01/runtime/invocation/next"
ARN_HEADER = "Lambda-Runtime-Invoked-Function-Arn"
# Hop-by-hop headers, and the framing the proxy sets itself.
_NOT_FORWARDED = {"connection", "keep-alive", "transfer-encoding", "content-length", "host", "expect"}


class RuntimeEndpoint(Protocol):
    @property
    def runtime_api(self) -> str: ...


@dataclass
class ArnProxy:
    """What function.function_process() reads from an emulator (``runtime_api``), and what the
    proxy saw: each ARN the emulator sent, how many invocations it rewrote, and each event it
    handed out (the payload, as the function received it), oldest first."""

    function_arn: str
    port: int = 0
    upstream_arns: list[str] = field(default_factory=list)
    rewritten: int = 0
    events: list[bytes] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    _server: Any = None
    _thread: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def runtime_api(self) -> str:
        return f"127.0.0.1:{self.port}"

    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.close_connections()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(5)


def _upstream(runtime_api: str) -> tuple[str, int, str]:
    """(host, port, path prefix) of an AWS_LAMBDA_RUNTIME_API value (`host:port[/prefix]`,
    with or without `http://`)."""
    parts = urllib.parse.urlsplit(runtime_api if "://" in runtime_api else f"http://{runtime_api}")
    if parts.hostname is None or parts.port is None:
        raise ValueError(f"not a Runtime API address: {runtime_api!r}")
    return parts.hostname, parts.port, parts.path.rstrip("/")


def _read_chunked(rfile: Any) -> bytes:
    body = bytearray()
    while True:
        size = int(rfile.readline().split(b";")[0].strip() or b"0", 16)
        if size == 0:
            while rfile.readline() not in (b"\r\n", b"\n", b""):  # trailers, then the empty line
                pass
            return bytes(body)
        body += rfile.read(size)
        rfile.readline()  # the chunk's CRLF


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, proxy: ArnProxy, upstream: tuple[str, int, str]) -> None:
        self.proxy = proxy
        self.upstream = upstream
        self.sockets: set[socket.socket] = set()
        self.sockets_lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)

    def close_connections(self) -> None:
        with self.sockets_lock:
            for sock in list(self.sockets):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.conn: http.client.HTTPConnection | None = None
        with self.server.sockets_lock:
            self.server.sockets.add(self.connection)

    def finish(self) -> None:
        with self.server.sockets_lock:
            self.server.sockets.discard(self.connection)
        if self.conn is not None:
            self.conn.close()
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _forward(self) -> None:
        proxy = self.server.proxy
        host, port, prefix = self.server.upstream
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            body = _read_chunked(self.rfile)
        else:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _NOT_FORWARDED}
        if body or self.command in ("POST", "PUT"):
            headers["Content-Length"] = str(len(body))
        try:
            if self.conn is None:
                # No timeout: GET .../next is a long poll that lasts until the next invocation.
                self.conn = http.client.HTTPConnection(host, port)
            self.conn.request(self.command, prefix + self.path, body=body or None, headers=headers)
            resp = self.conn.getresponse()
            answer = resp.read()
        except (OSError, http.client.HTTPException) as e:
            with proxy._lock:
                proxy.errors.append(f"{self.command} {self.path}: {e!r}")
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.send_error(502, f"upstream: {e!r}")
            return
        is_next = self.command == "GET" and self.path.split("?", 1)[0] == NEXT and resp.status == 200
        self.send_response_only(resp.status, resp.reason)
        for name, value in resp.getheaders():
            lower = name.lower()
            if lower in _NOT_FORWARDED:
                continue
            if is_next and lower == ARN_HEADER.lower():
                with proxy._lock:
                    proxy.upstream_arns.append(value)
                    proxy.rewritten += 1
                    proxy.events.append(answer)
                value = proxy.function_arn
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)
        self.wfile.flush()

    do_GET = _forward
    do_POST = _forward


@contextlib.contextmanager
def invoked_arn_proxy(emulator: RuntimeEndpoint, function_arn: str) -> Iterator[ArnProxy]:
    """A proxy of `emulator`'s Runtime API that hands invocations out as `function_arn`; point a
    function process at it (``function_process(proxy, ...)``). Always closed."""
    proxy = ArnProxy(function_arn=function_arn)
    server = _Server(proxy, _upstream(emulator.runtime_api))
    proxy._server, proxy.port = server, server.server_address[1]
    proxy._thread = threading.Thread(target=server.serve_forever, name=f"arn-proxy-{proxy.port}", daemon=True)
    proxy._thread.start()
    try:
        yield proxy
    finally:
        proxy.close()
