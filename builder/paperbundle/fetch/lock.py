"""The lock file beside a manifest: per paper key, the canonical URL, sha256, size and page count of
the original file, and for an arXiv paper what arXiv says about it.

Format (stable: sorted keys, indent 2, trailing newline, no timestamps)::

    {
      "lock_version": 2,
      "papers": {
        "flashattention": {
          "arxiv": {"id": "2205.14135", "authors": ["Tri Dao", ...], "latest_version": 2,
                    "licence": "http://arxiv.org/licenses/nonexclusive-distrib/1.0/", ...},
          "page_count": 34,
          "sha256": "95d4b716...",
          "size": 2571663,
          "url": "https://arxiv.org/pdf/2205.14135",
          "version": 2
        }
      }
    }

For a paper given by ``path``, ``url`` is that path relative to the manifest's folder (POSIX form).
``version`` (unversioned arXiv URLs only) is arXiv's latest version when the lock recorded the
file. Version 1 (without ``arxiv`` and ``version``) is still read; ``lock`` writes version 2.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from paperbundle.arxiv.records import ArxivRecord, record_from_json
from paperbundle.errors import ManifestError, Problem
from paperbundle.files import write_atomic
from paperbundle.manifest import KEY_RE, SHA256_RE, Manifest, Paper

if TYPE_CHECKING:
    from paperbundle.fetch import FetchResult

LOCK_VERSION = 2
READ_VERSIONS = (1, 2)
ENTRY_KEYS = ("arxiv", "page_count", "sha256", "size", "url", "version")


@dataclass(frozen=True)
class LockEntry:
    url: str
    sha256: str
    size: int
    page_count: int
    version: int | None = None  # arXiv's latest version when the file was locked (unversioned)
    arxiv: ArxivRecord | None = None  # what arXiv's API and OAI-PMH said


@dataclass(frozen=True)
class Lock:
    entries: Mapping[str, LockEntry]  # by paper key


def lock_url(manifest: Manifest, paper: Paper) -> str:
    """What the lock records as a paper's source: its canonical URL, or its path relative to the
    manifest's folder."""
    if paper.url is not None:
        return paper.url
    assert paper.path is not None
    try:
        rel = os.path.relpath(paper.path, manifest.path.parent)
    except ValueError:  # another drive (Windows)
        rel = str(paper.path)
    return Path(rel).as_posix()


def read_lock(path: Path) -> Lock | None:
    """The lock at ``path``; None when there is none. Raises ManifestError (file and key path of
    every problem) when it is malformed."""
    label = str(path)
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ManifestError([Problem(label, "", f"cannot read: {exc.strerror or exc}")]) from None
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ManifestError([Problem(label, "", f"not UTF-8 text ({exc.reason})")]) from None
    except ValueError as exc:
        raise ManifestError([Problem(label, "", f"not valid JSON: {exc}")]) from None

    problems: list[Problem] = []

    def bad(where: str, message: str) -> None:
        problems.append(Problem(label, where, message))

    if not isinstance(data, dict):
        raise ManifestError([Problem(label, "", "must be a JSON object")])
    for k in data:
        if k not in ("lock_version", "papers"):
            bad(k, "unknown key; allowed: lock_version, papers")
    version = data.get("lock_version")
    if version not in READ_VERSIONS or isinstance(version, bool):
        bad("lock_version", f"must be 1 or {LOCK_VERSION}, not {version!r}")
    allowed = ENTRY_KEYS if version == LOCK_VERSION else ("page_count", "sha256", "size", "url")
    papers = data.get("papers")
    entries: dict[str, LockEntry] = {}
    if not isinstance(papers, dict):
        bad("papers", "missing or not an object of paper keys")
        papers = {}
    for key, e in papers.items():
        where = f"papers.{key}"
        if not KEY_RE.fullmatch(key):
            bad(where, f"{key!r} is not a valid paper key")
            continue
        if not isinstance(e, dict):
            bad(where, "must be an object with url, sha256, size and page_count")
            continue
        n = len(problems)
        for k in e:
            if k not in allowed:
                bad(f"{where}.{k}", f"unknown key; allowed: {', '.join(allowed)}")
        url, sha, size, pages = (e.get(k) for k in ("url", "sha256", "size", "page_count"))
        if not isinstance(url, str) or not url:
            bad(f"{where}.url", "must be a non-empty string")
        if not isinstance(sha, str) or not SHA256_RE.fullmatch(sha):
            bad(f"{where}.sha256", "must be 64 lower-case hexadecimal digits (a SHA-256)")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            bad(f"{where}.size", f"must be a non-negative integer, not {size!r}")
        if not isinstance(pages, int) or isinstance(pages, bool) or pages < 1:
            bad(f"{where}.page_count", f"must be a positive integer, not {pages!r}")
        ver = e.get("version")
        if ver is not None and (not isinstance(ver, int) or isinstance(ver, bool) or ver < 1):
            bad(f"{where}.version", f"must be a positive integer, not {ver!r}")
        record = None
        if "arxiv" in e:
            record, found = record_from_json(e["arxiv"])
            for k, message in found:
                bad(f"{where}.arxiv" + (f".{k}" if k else ""), message)
        if len(problems) == n:
            assert isinstance(url, str) and isinstance(sha, str)
            assert isinstance(size, int) and isinstance(pages, int)
            entries[key] = LockEntry(url, sha, size, pages, ver, record)
    if problems:
        raise ManifestError(problems)
    return Lock(entries=entries)


def _entry_json(e: LockEntry) -> dict[str, object]:
    out: dict[str, object] = {
        "url": e.url,
        "sha256": e.sha256,
        "size": e.size,
        "page_count": e.page_count,
    }
    if e.version is not None:
        out["version"] = e.version
    if e.arxiv is not None:
        out["arxiv"] = e.arxiv.to_json()
    return out


def lock_to_json(lock: Lock) -> str:
    data = {
        "lock_version": LOCK_VERSION,
        "papers": {key: _entry_json(e) for key, e in lock.entries.items()},
    }
    return json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def write_lock(path: Path, lock: Lock) -> None:
    """Write ``lock`` at ``path`` atomically (temp file in the same folder, fsync, os.replace)."""
    path = Path(path)
    text = lock_to_json(lock)
    write_atomic(path, text.encode("utf-8"))


def lock_from_fetch(manifest: Manifest, result: FetchResult) -> Lock:
    """A lock for every paper of ``manifest`` that ``result`` fetched (failures left out)."""
    entries: dict[str, LockEntry] = {}
    for p in manifest.papers:
        f = result.papers.get(p.key)
        if f is None:
            continue
        entries[p.key] = LockEntry(
            url=lock_url(manifest, p), sha256=f.sha256, size=f.size, page_count=f.page_count
        )
    return Lock(entries=entries)


def lock_problems(manifest: Manifest, lock: Lock) -> list[str]:
    """Where ``lock`` and ``manifest`` disagree (for ``check``): keys without an entry, entries for
    unknown keys, different URLs, a manifest sha256 that differs from the lock's. Each message
    gives the key path inside the lock file and names the paper and its URL; prefix it with the
    lock file's path when showing it."""
    out: list[str] = []
    keys = set()
    for p in manifest.papers:
        keys.add(p.key)
        src = lock_url(manifest, p)
        e = lock.entries.get(p.key)
        if e is None:
            out.append(
                f"papers.{p.key}: no entry for paper {p.key!r} ({src}); run paperbundle lock"
            )
            continue
        if e.url != src:
            out.append(
                f"papers.{p.key}.url: lock has {e.url}, manifest has {src} (paper {p.key!r})"
            )
        if p.sha256 is not None and p.sha256 != e.sha256:
            out.append(
                f"papers.{p.key}.sha256: lock has {e.sha256}, manifest pins {p.sha256} "
                f"(paper {p.key!r}, {src})"
            )
    for key in sorted(set(lock.entries) - keys):
        out.append(
            f"papers.{key}: entry for a key the manifest does not have ({lock.entries[key].url})"
        )
    return out
