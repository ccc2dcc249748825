"""Files written safely: atomically (temp file in the same folder, fsync, rename) and hashed."""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from paperbundle import signals

CHUNK = 1 << 20


@contextmanager
def atomic_file(
    path: Path, *, overwrite: bool = True, tmp_dir: Path | None = None
) -> Iterator[BinaryIO]:
    """Write ``path`` through a temporary file, moved into place on success.

    The temporary file is made in ``tmp_dir`` (same file system as ``path``), by default beside
    ``path``. With ``overwrite=False`` an existing ``path`` is never replaced, not even one that
    appeared while writing: FileExistsError instead."""
    path.parent.mkdir(parents=True, exist_ok=True)
    where = tmp_dir or path.parent
    where.mkdir(parents=True, exist_ok=True)
    tmp: str | None = None
    try:
        with signals.held():  # an interrupt never falls between creating it and knowing its name
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=where)
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        if overwrite:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)  # atomic, and fails when `path` exists
            except FileExistsError:
                raise
            except OSError:  # a file system without hard links
                if path.exists():
                    raise FileExistsError(path) from None
                os.replace(tmp, path)
    finally:
        if tmp is not None:
            with signals.held(), contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)


def write_atomic(
    path: Path, data: bytes, *, overwrite: bool = True, tmp_dir: Path | None = None
) -> None:
    with atomic_file(path, overwrite=overwrite, tmp_dir=tmp_dir) as f:
        f.write(data)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()
