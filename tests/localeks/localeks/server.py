"""Command line: start the endpoint, say where it listens, stop on a signal.

The start-up protocol: once listening, stdout carries exactly one line,
``LISTENING http://HOST:PORT``, so a test harness can read the address
(testkit.local_eks waits for it); everything else (request log, updates,
faults) goes to stderr. ``serve()`` is that protocol and the run until a
signal, for anything built on this server (tests/sam/sfnlocal.py).
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from typing import Any

from .app import LocalEksApp, RequestHandler, Server
from .faults import Faults
from .store import Config, Store


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m localeks",
        description="moto's server plus EKS UpdateNodegroupVersion, DescribeUpdate and ListUpdates.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=0, help="port to bind; 0 = a free one (default)")
    p.add_argument(
        "--polls-in-progress",
        type=int,
        default=2,
        metavar="N",
        help="DescribeUpdate calls an update stays InProgress for (default 2)",
    )
    p.add_argument("--quiet", action="store_true", help="do not log every request")
    args = p.parse_args(argv)
    if args.polls_in_progress < 0:
        p.error("--polls-in-progress must be 0 or more")
    if not 0 <= args.port <= 65535:
        p.error("--port must be 0-65535")
    return args


def make_server(host: str, port: int, polls_in_progress: int, stopping: threading.Event) -> tuple[Server, LocalEksApp]:
    store = Store(Config(polls_in_progress=polls_in_progress))
    app = LocalEksApp(store, Faults(), stopping)
    return Server(host, port, app, handler=RequestHandler), app


def url_of(server: Server) -> str:
    host, port = server.server_address[:2]
    if ":" in str(host):
        host = f"[{host}]"
    return f"http://{host}:{port}"


def stop_on_signals(stopping: threading.Event) -> None:
    """SIGTERM and SIGINT set `stopping`; serve() then ends with exit code 0."""

    def on_signal(signum: int, _frame: Any) -> None:
        logging.getLogger("localeks").info("signal %d: stopping", signum)
        stopping.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)


def serve(server: Server, stopping: threading.Event) -> int:
    """Serve on a thread, say LISTENING, and wait for `stopping`; the exit code."""
    thread = threading.Thread(target=server.serve_forever, name="localeks-server", daemon=True)
    thread.start()

    sys.stdout.write(f"LISTENING {url_of(server)}\n")
    sys.stdout.flush()
    # Anything printed later (moto prints a few diagnostics) must not reach
    # the stdout a harness parses.
    sys.stdout = sys.stderr

    # The main thread only waits, so signal handlers run promptly.
    while not stopping.wait(0.5):
        if not thread.is_alive():
            logging.getLogger("localeks").error("server thread died")
            return 1
    server.shutdown()
    server.server_close()
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.INFO,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    if args.quiet:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)

    stopping = threading.Event()
    stop_on_signals(stopping)
    server, _ = make_server(args.host, args.port, args.polls_in_progress, stopping)
    return serve(server, stopping)
