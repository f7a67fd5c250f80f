"""A Lambda deployment package's size: the files zipped as `sam deploy` uploads them (deflate)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path


def zipped_size(files: list[tuple[Path, str]]) -> int:
    """The size in bytes of a zip holding each (path, name in the zip), deflated."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for path, name in files:
            z.write(path, name)
    return buf.tell()
