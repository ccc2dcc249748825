"""Content-addressed download cache, safe for concurrent builds and for ``kill -9`` at any moment.

Layout under the cache dir (every name is a hash, so no key, title or URL can make a path)::

    objects/ab/<sha256>.pdf     file contents, named by their SHA-256; written once, never in place
    index/ab/<u>.json           u = sha256(canonical URL): {"url", "sha256", "size", "page_count"}
    partial/<u>.part            an interrupted download (a prefix of the body, resumable)
    partial/<u>.json            what resuming needs: URL fetched, ETag / Last-Modified, total size
    locks/<u>.lock              one lock per URL (filelock): whoever downloads a URL holds it
    tmp/                        temp files; always renamed into place with os.replace

Why this survives a kill: an object appears under its final name only by ``os.replace`` of a
complete, fsynced temp file; the index entry is written the same way and only after its object
exists. Lookups re-hash the object, so even a damaged file (disk trouble, a hand edit) is never
served: it is dropped and downloaded again. Two builds sharing a cache take the per-URL lock before
downloading and look in the index again once they hold it, so each file is downloaded once.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from paperbundle.fetch.lock import read_lock
from paperbundle.files import sha256_file, write_atomic
from paperbundle.fmt import human_size, plural
from paperbundle.manifest import Manifest

SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
CHUNK = 1 << 20
# Stray temp files and unreferenced objects younger than this are left alone by prune: a build
# running at the same time may be about to rename or index them.
PRUNE_GRACE = 3600.0


@dataclass(frozen=True)
class CacheEntry:
    url: str  # canonical URL
    sha256: str
    size: int
    page_count: int
    path: Path  # the object file


@dataclass(frozen=True)
class PartialFile:
    url: str | None  # None when its description is missing or unreadable
    path: Path
    size: int


@dataclass(frozen=True)
class CacheInfo:
    root: Path
    entries: tuple[CacheEntry, ...]  # sorted by URL
    total_bytes: int  # every file under the cache dir (objects, partials, temp files)
    object_bytes: int
    partials: tuple[PartialFile, ...]
    orphan_objects: int  # objects no index entry points at (kept by prune while a lock needs them)

    def render(self) -> str:
        """Human-readable summary for ``paperbundle cache info``."""
        lines = [
            f"cache: {self.root}",
            f"{plural(len(self.entries), 'file')}, {human_size(self.object_bytes)} in objects, "
            f"{human_size(self.total_bytes)} in all",
        ]
        lines += [
            f"  {e.url}  {human_size(e.size)}  {e.page_count} pages  sha256 {e.sha256[:16]}"
            for e in self.entries
        ]
        if self.partials:
            lines.append(
                f"{plural(len(self.partials), 'partial download')} (resumed by the next fetch):"
            )
            lines += [f"  {p.url or p.path.name}  {human_size(p.size)}" for p in self.partials]
        if self.orphan_objects:
            lines.append(
                f"{plural(self.orphan_objects, 'object')} no URL points at (prune drops them)"
            )
        return "\n".join(lines)


@dataclass(frozen=True)
class PruneResult:
    removed_entries: tuple[str, ...]  # URLs dropped from the index
    removed_objects: int
    removed_partials: int
    freed_bytes: int
    kept_entries: int

    def render(self) -> str:
        """Human-readable summary for ``paperbundle cache prune``."""
        lines = [f"removed: {u}" for u in self.removed_entries]
        lines.append(
            f"kept {plural(self.kept_entries, 'file')}; removed "
            f"{plural(len(self.removed_entries), 'entry', 'entries')}, "
            f"{plural(self.removed_objects, 'object')}, "
            f"{plural(self.removed_partials, 'partial download')}; "
            f"freed {human_size(self.freed_bytes)}"
        )
        return "\n".join(lines)


def url_id(url: str) -> str:
    return hashlib.sha256(url.encode("utf-8")).hexdigest()


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class Partial:
    """An interrupted download of one URL: the body prefix and what resuming it needs."""

    def __init__(self, path: Path, meta_path: Path) -> None:
        self.path = path
        self.meta_path = meta_path

    def size(self) -> int:
        try:
            return self.path.stat().st_size
        except FileNotFoundError:
            return 0

    def read_meta(self) -> dict[str, Any] | None:
        try:
            data = json.loads(self.meta_path.read_text("utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def discard(self) -> None:
        for p in (self.path, self.meta_path):
            with contextlib.suppress(FileNotFoundError):
                p.unlink()


class Cache:
    """The cache under ``root`` (created on first write)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    # ------------------------------------------------------------------ paths

    @property
    def objects_dir(self) -> Path:
        return self.root / "objects"

    @property
    def index_dir(self) -> Path:
        return self.root / "index"

    @property
    def partial_dir(self) -> Path:
        return self.root / "partial"

    @property
    def tmp_dir(self) -> Path:
        return self.root / "tmp"

    @property
    def locks_dir(self) -> Path:
        return self.root / "locks"

    def object_path(self, sha256: str) -> Path:
        if not SHA256_RE.fullmatch(sha256):
            raise ValueError(f"not a SHA-256: {sha256!r}")
        return self.objects_dir / sha256[:2] / f"{sha256}.pdf"

    def index_path(self, url: str) -> Path:
        u = url_id(url)
        return self.index_dir / u[:2] / f"{u}.json"

    def partial(self, url: str) -> Partial:
        u = url_id(url)
        return Partial(self.partial_dir / f"{u}.part", self.partial_dir / f"{u}.json")

    def lock(self, url: str) -> FileLock:
        """The cross-process lock for downloading ``url`` (not yet acquired)."""
        self.locks_dir.mkdir(parents=True, exist_ok=True)
        return FileLock(str(self.locks_dir / f"{url_id(url)}.lock"))

    # ------------------------------------------------------------------ reading

    def lookup(self, url: str, *, verify: bool = True) -> CacheEntry | None:
        """The cached file of ``url``, or None. A damaged entry is removed and reported absent."""
        index = self.index_path(url)
        data = _read_json(index)
        if data is None:
            return None
        entry = _entry_from_json(data, self)
        if entry is None or entry.url != url:
            return None
        if verify and not self.verify_object(entry.sha256, entry.size):
            with contextlib.suppress(FileNotFoundError):
                index.unlink()
            return None
        return entry

    def verify_object(self, sha256: str, size: int | None = None) -> bool:
        """True when the object exists and its content hashes to its name (else it is removed)."""
        path = self.object_path(sha256)
        try:
            st = path.stat()
        except FileNotFoundError:
            return False
        if (size is not None and st.st_size != size) or sha256_file(path) != sha256:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            return False
        return True

    def has_object(self, sha256: str) -> bool:
        return self.verify_object(sha256)

    def entries(self) -> Iterator[CacheEntry]:
        """Every index entry (not verified), in no particular order."""
        if not self.index_dir.is_dir():
            return
        for p in self.index_dir.glob("*/*.json"):
            data = _read_json(p)
            entry = _entry_from_json(data, self) if data is not None else None
            if entry is not None:
                yield entry

    # ------------------------------------------------------------------ writing

    def new_temp(self, suffix: str = "") -> Path:
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=self.tmp_dir, prefix="t-", suffix=suffix)
        os.close(fd)
        return Path(name)

    def write_json(self, path: Path, data: dict[str, Any]) -> None:
        """Write ``data`` at ``path`` atomically, the temp file in the cache's tmp/ folder."""
        text = json.dumps(data, sort_keys=True, indent=2) + "\n"
        write_atomic(path, text.encode("utf-8"), tmp_dir=self.tmp_dir)

    def commit(self, url: str, src: Path, sha256: str, size: int, page_count: int) -> CacheEntry:
        """Move the complete, validated file ``src`` into the cache as the file of ``url``.

        ``src`` must be on the cache's file system (a partial or temp file). The caller has checked
        that ``src`` hashes to ``sha256``.
        """
        obj = self.object_path(sha256)
        obj.parent.mkdir(parents=True, exist_ok=True)
        if obj.exists() and self.verify_object(sha256, size):
            with contextlib.suppress(FileNotFoundError):
                src.unlink()
        else:
            with src.open("rb") as f:
                os.fsync(f.fileno())
            os.chmod(src, 0o444)
            os.replace(src, obj)
            _fsync_dir(obj.parent)
        self.write_json(
            self.index_path(url),
            {"url": url, "sha256": sha256, "size": size, "page_count": page_count},
        )
        return CacheEntry(url, sha256, size, page_count, obj)

    def remove_entry(self, url: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.index_path(url).unlink()


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _entry_from_json(data: dict[str, Any], cache: Cache) -> CacheEntry | None:
    url, sha, size, pages = (data.get(k) for k in ("url", "sha256", "size", "page_count"))
    if not (isinstance(url, str) and isinstance(sha, str) and SHA256_RE.fullmatch(sha)):
        return None
    if not (isinstance(size, int) and isinstance(pages, int)) or size < 0 or pages < 0:
        return None
    return CacheEntry(url, sha, size, pages, cache.object_path(sha))


def _tree_size(path: Path) -> int:
    total = 0
    if path.is_dir():
        for p in path.rglob("*"):
            with contextlib.suppress(OSError):
                if p.is_file():
                    total += p.stat().st_size
    return total


def _object_files(cache: Cache) -> Iterator[tuple[str, Path]]:
    if not cache.objects_dir.is_dir():
        return
    for p in cache.objects_dir.glob("*/*.pdf"):
        if SHA256_RE.fullmatch(p.stem):
            yield p.stem, p


def _partials(cache: Cache) -> list[PartialFile]:
    out: list[PartialFile] = []
    if not cache.partial_dir.is_dir():
        return out
    for p in sorted(cache.partial_dir.glob("*.part")):
        meta = _read_json(p.with_suffix(".json"))
        url = meta.get("url") if meta else None
        with contextlib.suppress(OSError):
            out.append(PartialFile(url if isinstance(url, str) else None, p, p.stat().st_size))
    return out


def cache_info(cache_dir: Path) -> CacheInfo:
    """What the cache at ``cache_dir`` holds (an absent dir is an empty cache)."""
    cache = Cache(cache_dir)
    entries = sorted(cache.entries(), key=lambda e: e.url)
    referenced = {e.sha256 for e in entries}
    object_bytes = 0
    orphans = 0
    for sha, p in _object_files(cache):
        with contextlib.suppress(OSError):
            object_bytes += p.stat().st_size
        if sha not in referenced:
            orphans += 1
    return CacheInfo(
        root=cache.root,
        entries=tuple(entries),
        total_bytes=_tree_size(cache.root),
        object_bytes=object_bytes,
        partials=tuple(_partials(cache)),
        orphan_objects=orphans,
    )


def manifest_usage(info: CacheInfo, manifests: Sequence[Manifest]) -> str:
    """``cache info MANIFEST...``: what of the cache each manifest uses, and what it still lacks."""
    by_url = {e.url: e for e in info.entries}
    lines = [f"cache: {info.root}"]
    for m in manifests:
        remote = [p for p in m.papers if p.url is not None]
        cached = [(p, by_url[p.url]) for p in remote if p.url in by_url]
        lacking = [p for p in remote if p.url not in by_url]
        size = sum(e.size for _, e in cached)
        local = len(m.papers) - len(remote)
        head = f"{m.display_path or m.path}: {len(cached)} of {plural(len(remote), 'download')}"
        head += f" cached, {human_size(size)}"
        if local:
            head += f"; {plural(local, 'local file')} (never cached)"
        lines.append(head)
        lines += [
            f"  {p.key}  {p.url}  {human_size(e.size)}  {e.page_count} pages" for p, e in cached
        ]
        if lacking:
            lines.append(f"  not cached ({len(lacking)}): the next build downloads them")
            lines += [f"  {p.key}  {p.url}" for p in lacking]
    return "\n".join(lines)


def cache_prune(
    cache_dir: Path, manifests: Sequence[Manifest], *, grace: float = PRUNE_GRACE
) -> PruneResult:
    """Keep only what ``manifests`` need: their papers' URLs and every sha256 that a manifest or its
    lock file pins. Everything else is removed: index entries, objects, partial downloads.

    Safe while a build runs: entries and partials are removed under their URL's lock (skipped when
    a build holds it), and unreferenced objects or temp files younger than ``grace`` seconds are
    kept (a build may be about to index them).
    """
    cache = Cache(cache_dir)
    keep_urls: set[str] = set()
    keep_shas: set[str] = set()
    for m in manifests:
        for paper in m.papers:
            if paper.url:
                keep_urls.add(paper.url)
            if paper.sha256:
                keep_shas.add(paper.sha256)
        pinned = read_lock(m.lock_path)
        if pinned is not None:
            keep_shas.update(e.sha256 for e in pinned.entries.values())

    removed: list[str] = []
    removed_objects = 0
    removed_partials = 0
    freed = 0
    kept = 0
    referenced: set[str] = set()
    dropped_shas: set[str] = set()
    now = time.time()

    for entry in sorted(cache.entries(), key=lambda e: e.url):
        if entry.url in keep_urls:
            kept += 1
            referenced.add(entry.sha256)
            continue
        lock = cache.lock(entry.url)
        try:
            lock.acquire(timeout=0)
        except Timeout:  # a build is downloading this URL right now
            kept += 1
            referenced.add(entry.sha256)
            continue
        try:
            cache.remove_entry(entry.url)
            removed.append(entry.url)
            dropped_shas.add(entry.sha256)
        finally:
            lock.release()

    for sha, p in list(_object_files(cache)):
        if sha in referenced or sha in keep_shas:
            continue
        try:
            st = p.stat()
        except OSError:
            continue
        # Objects of the entries removed just now go at once; other unreferenced objects only when
        # old enough that no running build can be about to index them.
        if sha not in dropped_shas and now - st.st_mtime < grace:
            continue
        with contextlib.suppress(FileNotFoundError):
            p.unlink()
            removed_objects += 1
            freed += st.st_size

    for part in _partials(cache):
        if part.url is not None and part.url in keep_urls:
            continue
        if part.url is not None:
            lock = cache.lock(part.url)
            try:
                lock.acquire(timeout=0)
            except Timeout:  # being resumed right now
                continue
            try:
                freed += _unlink_counted(part.path) + _unlink_counted(
                    part.path.with_suffix(".json")
                )
                removed_partials += 1
            finally:
                lock.release()
        else:
            try:
                st = part.path.stat()
            except OSError:
                continue
            if now - st.st_mtime >= grace:
                freed += _unlink_counted(part.path)
                removed_partials += 1

    if cache.tmp_dir.is_dir():
        for p in cache.tmp_dir.iterdir():
            with contextlib.suppress(OSError):
                st = p.stat()
                if now - st.st_mtime >= grace:
                    p.unlink()
                    freed += st.st_size

    return PruneResult(
        removed_entries=tuple(removed),
        removed_objects=removed_objects,
        removed_partials=removed_partials,
        freed_bytes=freed,
        kept_entries=kept,
    )


def _unlink_counted(path: Path) -> int:
    try:
        size = path.stat().st_size
        path.unlink()
    except OSError:
        return 0
    return size
