"""The part of HTTP/1.1 both bench servers (emulator.py, standin.py) read the same way."""

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
