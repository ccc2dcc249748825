"""The work cache: each paper prepared once, in parallel, and kept for the next build.

Layout under the cache dir, beside the downloads::

    work/ab/<key>.prep    one prepared paper (paperbundle.assemble.fragment), named by its key

The key is a SHA-256 over everything the prepared bytes depend on: the input file's sha256, the
page selection, the paper's key and title, the versions of paperbundle and pypdf, and FORMAT (the
preparation's own version). Change any of them and the paper is prepared again; the old entry
stays until ``cache prune``. Entries appear only by ``os.replace`` of a complete file, so a killed
build leaves none half-written; one that cannot be read back is prepared again.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import gc
import hashlib
import json
import multiprocessing
import os
import signal
import tempfile
import time
from collections.abc import Iterator, Sequence
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pypdf

from paperbundle import __version__, signals
from paperbundle.assemble import fragment
from paperbundle.assemble.model import PaperInput
from paperbundle.assemble.prepare import prepare
from paperbundle.errors import PdfError, ReleaseError
from paperbundle.manifest import Manifest, Paper
from paperbundle.progress import Reporter

FORMAT = 4  # bump whenever the prepared bytes change for the same inputs
SUFFIX = ".prep"


@dataclass(frozen=True)
class Job:
    paper: Paper
    path: Path  # the paper's file
    sha256: str  # of that file
    size: int


VERSIONS = (__version__, pypdf.__version__)


def work_key(paper: Paper, sha256: str, versions: tuple[str, str] = VERSIONS) -> str:
    """The work-cache key of ``paper`` made from the file ``sha256``, by these versions of
    paperbundle and pypdf."""
    pages = None if paper.pages is None else [[r.first, r.last] for r in paper.pages]
    spec = {
        "format": FORMAT,
        "paperbundle": versions[0],
        "pypdf": versions[1],
        "sha256": sha256,
        "pages": pages,
        "key": paper.key,
        "title": paper.title,
    }
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()


def work_dir(cache_dir: Path) -> Path:
    return Path(cache_dir) / "work"


def work_path(cache_dir: Path, key: str) -> Path:
    return work_dir(cache_dir) / key[:2] / f"{key}{SUFFIX}"


def _result(job: Job, path: Path, meta: dict[str, Any], reused: bool) -> PaperInput:
    return PaperInput(
        job.paper,
        job.sha256,
        job.path,
        path,
        kept=len(meta["pages"]),
        total=int(meta["total_pages"]),
        count=int(meta["count"]),
        reused=reused,
    )


def _lookup(job: Job, cache_dir: Path) -> PaperInput | None:
    key = work_key(job.paper, job.sha256)
    path = work_path(cache_dir, key)
    try:
        meta = fragment.read_meta(path)
    except (OSError, fragment.DamagedFragment):
        return None
    if meta.get("key") != key:
        return None
    return _result(job, path, meta, reused=True)


def prepare_into_cache(job: Job, cache_dir: Path) -> dict[str, Any]:
    """Prepare ``job`` into its work-cache file; its metadata. PdfError as :func:`prepare`."""
    key = work_key(job.paper, job.sha256)
    frag = prepare(job.paper, job.path, job.sha256, key)
    frag.meta["count"] = len(frag.objects)
    dest = work_path(cache_dir, key)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp_dir = Path(cache_dir) / "tmp"
    tmp_dir.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=tmp_dir, prefix="w-", suffix=SUFFIX)
    os.close(fd)
    tmp = Path(name)
    try:
        fragment.write(tmp, frag)
        os.replace(tmp, dest)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return frag.meta


def repair(pin: PaperInput) -> None:
    """Prepare ``pin`` again, in place (its prepared file was found damaged)."""
    prepare_into_cache(Job(pin.paper, pin.file, pin.sha256, 0), pin.path.parents[2])


def _work(job: Job, cache_dir: Path) -> tuple[str, Any, str]:
    """A worker's task: never raises (an exception must cross a process boundary as data)."""
    gc.disable()  # pypdf's objects of one paper die together: collect once, after
    try:
        meta = prepare_into_cache(job, cache_dir)
        small = {k: meta[k] for k in ("pages", "total_pages", "count")}
        return "ok", small, ""
    except PdfError as exc:
        return "error", exc.reason, exc.detail
    except Exception as exc:  # a bug or the disk: name the paper all the same
        return "error", "unreadable", f"merge failed: {exc}"
    finally:
        gc.enable()
        gc.collect()


def _stop(pool: cf.ProcessPoolExecutor) -> None:
    """Stop the workers now, not after the paper each is preparing."""
    for proc in list((getattr(pool, "_processes", None) or {}).values()):
        proc.kill()
    pool.shutdown(wait=False, cancel_futures=True)


def _terminated(signum: int, frame: object) -> None:
    """A SIGTERM sent to a worker ends the whole build, as one sent to the build would."""
    os.kill(os.getppid(), signal.SIGTERM)
    os._exit(128 + signum)


def _worker_signals() -> None:
    """In a worker: Ctrl-C is the parent's to handle (it stops the workers)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _terminated)


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def prepare_all(
    jobs: Sequence[Job], cache_dir: Path, *, workers: int, reporter: Reporter
) -> tuple[dict[str, PaperInput], list[PdfError]]:
    """Every job prepared (from the work cache when it holds it), ``workers`` at a time."""
    done: dict[str, PaperInput] = {}
    failures: list[PdfError] = []
    todo: list[Job] = []
    for job in jobs:
        hit = _lookup(job, cache_dir)
        if hit is not None:
            done[job.paper.key] = hit
        else:
            todo.append(job)
    if not todo:
        return done, failures
    reporter.stage("prepare", total=len(todo))
    todo.sort(key=lambda j: -j.size)  # the largest first: the workers finish together

    def record(job: Job, out: tuple[str, Any, str]) -> None:
        kind, a, b = out
        if kind == "ok":
            path = work_path(cache_dir, work_key(job.paper, job.sha256))
            done[job.paper.key] = _result(job, path, a, reused=False)
        else:
            failures.append(PdfError(job.paper.key, job.paper.source, a, b))
        reporter.stage_advanced()

    if workers <= 1 or len(todo) == 1:
        for job in todo:
            record(job, _work(job, cache_dir))
        return done, failures
    ctx = multiprocessing.get_context("fork")
    pool = cf.ProcessPoolExecutor(
        max_workers=min(workers, len(todo)), mp_context=ctx, initializer=_worker_signals
    )
    futures = {pool.submit(_work, job, cache_dir): job for job in todo}
    try:
        for fut in cf.as_completed(futures):
            record(futures[fut], fut.result())
    except BrokenProcessPool:
        _stop(pool)
        if signals.interrupted():
            raise KeyboardInterrupt from None
        left = sorted(j.paper.key for f, j in futures.items() if not f.done() or f.exception())
        raise ReleaseError(
            "a worker process preparing papers ended abruptly (killed, or out of memory?) "
            f"while it prepared one of: {', '.join(left)}; run again with --jobs 1 to see which"
        ) from None
    except BaseException:  # an interrupt above all: stop the workers now, not after their paper
        _stop(pool)
        raise
    pool.shutdown()
    return done, failures


# --------------------------------------------------------------------------- info and prune


def _entries(cache_dir: Path) -> Iterator[Path]:
    root = work_dir(cache_dir)
    if root.is_dir():
        yield from root.glob(f"*/*{SUFFIX}")


@dataclass(frozen=True)
class WorkInfo:
    entries: int
    bytes: int

    def render(self) -> str:
        from paperbundle.fmt import human_size, plural

        return (
            f"work cache: {plural(self.entries, 'prepared paper')}, {human_size(self.bytes)} "
            "(papers made ready to merge; rebuilt when missing)"
        )


def work_info(cache_dir: Path) -> WorkInfo:
    n = size = 0
    for p in _entries(cache_dir):
        with contextlib.suppress(OSError):
            size += p.stat().st_size
            n += 1
    return WorkInfo(n, size)


@dataclass(frozen=True)
class WorkPruned:
    removed: int
    freed: int

    def render(self) -> str:
        from paperbundle.fmt import human_size, plural

        return (
            f"work cache: removed {plural(self.removed, 'prepared paper')}, "
            f"freed {human_size(self.freed)}"
        )


def _kept_keys(cache_dir: Path, manifests: Sequence[Manifest]) -> set[str]:
    """The work keys of every paper of ``manifests`` whose file the cache, the lock or the
    manifest names (link-only stand-ins are not kept: they cost a page to make again)."""
    from paperbundle.fetch.cache import Cache
    from paperbundle.fetch.lock import read_lock
    from paperbundle.files import sha256_file

    by_url = {e.url: e.sha256 for e in Cache(cache_dir).entries()}
    keep: set[str] = set()
    for m in manifests:
        lock = read_lock(m.lock_path)
        for paper in m.papers:
            shas = {paper.sha256} if paper.sha256 else set()
            if paper.url is not None and paper.url in by_url:
                shas.add(by_url[paper.url])
            if lock is not None and paper.key in lock.entries:
                shas.add(lock.entries[paper.key].sha256)
            if paper.path is not None and paper.path.is_file():
                with contextlib.suppress(OSError):
                    shas.add(sha256_file(paper.path))
            keep.update(work_key(paper, sha) for sha in shas)
    return keep


def work_prune(
    cache_dir: Path, manifests: Sequence[Manifest], *, grace: float = 3600.0
) -> WorkPruned:
    """Remove the prepared papers that no paper of ``manifests`` uses. Entries younger than
    ``grace`` seconds stay: a build running now may have just made them."""
    keep = _kept_keys(cache_dir, manifests)
    removed = freed = 0
    now = time.time()
    for p in list(_entries(cache_dir)):
        if p.name[: -len(SUFFIX)] in keep:
            continue
        try:
            st = p.stat()
            if now - st.st_mtime < grace:
                continue
            p.unlink()
        except OSError:
            continue
        removed += 1
        freed += st.st_size
    return WorkPruned(removed, freed)
