"""The part of HTTP/1.1 the loopback servers here read (runtime_api.py, bench/standin.py)."""

from __future__ import annotations


def parse_head(buf: bytes | bytearray) -> tuple[str, str, dict[str, str], int] | None:
    """Once `buf` holds a whole request head: (method, path without the query, headers with
    lower-case names, offset where the body starts); None before that.

    Raises ValueError for a request line that is not `METHOD TARGET VERSION`.
    """
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return None
    lines = bytes(buf[:end]).decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    try:
        method, target, _ = lines[0].split(" ", 2)
    except ValueError as e:
        raise ValueError(f"bad request line {lines[0]!r}") from e
    return method, target.split("?", 1)[0], headers, end + 4


def parse_chunked(buf: bytes | bytearray, start: int) -> tuple[bytes, int] | None:
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
