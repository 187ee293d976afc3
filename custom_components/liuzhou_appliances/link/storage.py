"""Small files an appliance keeps across power cuts (its key, its pairing-failure count)."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
import tempfile


def write_private_file(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` (mode 0600) so that a power cut leaves old or new.

    Writes a temporary file in the same folder, fsyncs it, renames it over
    ``path`` and fsyncs the folder, so the rename itself is on disk too.
    Raises OSError; the temporary file is removed on any failure.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
