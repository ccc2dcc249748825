"""No-op rebuilds: a fingerprint of every input of a build, and a stamp beside the outputs.

After a complete build (no paper missing) the pipeline writes ``.paperbundle-stamp.json`` into the
output folder, atomically and after every output is in place. It records the build's fingerprint
and the size and modification time (ns) of each output. The next build computes the fingerprint
again *before* fetching anything; when it matches and every output still has the recorded size and
mtime, the build is up to date and nothing is downloaded, merged or written.

The fingerprint covers: the manifest's bytes, the lock file's bytes (or its absence), the bytes of
the ``previous`` manifest, ``SOURCE_DATE_EPOCH``, the options that change what is written, the
versions of paperbundle and pypdf, and the sha256 of every paper's input file. Those digests come
from the manifest pin, the lock or the cache index (a cached object is checked by its size, not
hashed again); local files (``path = ...``) are hashed, they are small and may change in place.
When a paper's file cannot be told without the network (not cached) or ``--refresh`` is given,
there is no fingerprint and the build runs in full.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pypdf

from paperbundle import __version__
from paperbundle.fetch.cache import Cache
from paperbundle.fetch.lock import Lock, lock_url
from paperbundle.files import sha256_file, write_atomic
from paperbundle.manifest import Manifest, Paper

STAMP_NAME = ".paperbundle-stamp.json"
STAMP_VERSION = 1


@dataclass(frozen=True)
class Stamp:
    fingerprint: str
    outputs: Mapping[str, tuple[int, int]]  # file name -> (size, mtime_ns)
    summary: Mapping[str, Any]  # what the CLI reports about the build (volumes, pages, stats)


def _read_optional(path: Path | None) -> bytes | None:
    if path is None:
        return None
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def environment_digest(manifest: Manifest, options: Sequence[tuple[str, object]]) -> str:
    """Everything but the papers' files: manifest, lock, previous, SOURCE_DATE_EPOCH, options,
    versions. Computed once at the start of a build."""
    h = hashlib.sha256()

    def part(name: str, data: bytes | None) -> None:
        h.update(name.encode() + b"\0")
        h.update(b"-" if data is None else b"+%d:" % len(data) + data)

    part("stamp", str(STAMP_VERSION).encode())
    part("paperbundle", __version__.encode())
    part("pypdf", pypdf.__version__.encode())
    part("manifest", manifest.path.read_bytes())
    part("lock", _read_optional(manifest.lock_path))
    part("previous", _read_optional(manifest.bundle.previous))
    sde = os.environ.get("SOURCE_DATE_EPOCH")
    part("SOURCE_DATE_EPOCH", None if sde is None else sde.encode())
    part("options", json.dumps(list(options), sort_keys=True, default=str).encode())
    return h.hexdigest()


def fingerprint(env_digest: str, papers: Mapping[str, str]) -> str:
    """The build's fingerprint from the environment digest and each paper key's sha256."""
    body = json.dumps({"env": env_digest, "papers": dict(sorted(papers.items()))})
    return hashlib.sha256(body.encode()).hexdigest()


def predict_inputs(manifest: Manifest, lock: Lock | None, cache: Cache) -> dict[str, str] | None:
    """The sha256 of the file a build would use for each paper, without the network; None when a
    paper's file is not known yet (it would be downloaded)."""
    shas: dict[str, str] = {}
    for p in manifest.papers:
        sha = _predict(manifest, p, lock, cache)
        if sha is None:
            return None
        shas[p.key] = sha
    return shas


def _predict(manifest: Manifest, p: Paper, lock: Lock | None, cache: Cache) -> str | None:
    if p.url is None:
        assert p.path is not None
        try:
            return sha256_file(p.path)
        except OSError:
            return None
    entry = lock.entries.get(p.key) if lock is not None else None
    if entry is not None and entry.url != lock_url(manifest, p):
        return None  # the build would warn and ignore it: let it run
    index = cache.lookup(p.url, verify=False)
    want = p.sha256 or (entry.sha256 if entry is not None else None)
    if want is None:
        if index is None:
            return None
        want = index.sha256
    size = entry.size if entry is not None and entry.sha256 == want else None
    if size is None and index is not None and index.sha256 == want:
        size = index.size
    try:
        st = cache.object_path(want).stat()
    except (OSError, ValueError):
        return None
    return want if size is None or st.st_size == size else None


def _stat(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


def read_stamp(out_dir: Path) -> Stamp | None:
    try:
        data = json.loads((out_dir / STAMP_NAME).read_text("utf-8"))
        if data.get("stamp_version") != STAMP_VERSION:
            return None
        outputs = {str(k): (int(v[0]), int(v[1])) for k, v in data["outputs"].items()}
        return Stamp(str(data["fingerprint"]), outputs, dict(data["summary"]))
    except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError):
        return None


def up_to_date(out_dir: Path, fp: str) -> Stamp | None:
    """The stamp when the outputs in ``out_dir`` were built from ``fp`` and are untouched."""
    stamp = read_stamp(out_dir)
    if stamp is None or stamp.fingerprint != fp or not stamp.outputs:
        return None
    for name, recorded in stamp.outputs.items():
        if "/" in name or _stat(out_dir / name) != recorded:
            return None
    return stamp


def remove_stamp(out_dir: Path) -> None:
    (out_dir / STAMP_NAME).unlink(missing_ok=True)


def write_stamp(
    out_dir: Path, fp: str, outputs: Sequence[Path], summary: Mapping[str, Any]
) -> None:
    """Record ``fp`` and the outputs' sizes and mtimes; call once every output is in place."""
    stats: dict[str, list[int]] = {}
    for path in outputs:
        st = _stat(path)
        if st is None:
            return  # an output vanished already: no claim to make
        stats[path.name] = list(st)
    data = {
        "stamp_version": STAMP_VERSION,
        "fingerprint": fp,
        "outputs": stats,
        "summary": dict(summary),
    }
    write_atomic(out_dir / STAMP_NAME, (json.dumps(data, indent=2, sort_keys=True) + "\n").encode())
