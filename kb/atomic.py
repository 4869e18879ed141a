"""Replacing a file in one step, so that a reader (or a crash) sees the old file or the new one, never half."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["atomic_write", "put_back"]


def atomic_write(path: Path, data: bytes) -> None:
    """Replace path with data in one step: a reader sees the old file or the new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def put_back(path: Path, old: bytes | None) -> None:
    """Restore a file to what it was before a change whose transaction failed (remove a new one)."""
    if old is None:
        path.unlink(missing_ok=True)
    else:
        atomic_write(path, old)
