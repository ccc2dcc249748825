"""``paperbundle lock``: pin every paper's file, and record what arXiv says about each arXiv paper.

Metadata is asked only for papers the lock has none for (or whose arXiv id changed), unless
``refresh_metadata`` (``--refresh-metadata``, or ``--refresh``). ``--offline`` asks nothing: the
lock keeps the metadata it has and new papers get none. A paper whose metadata could not be had
keeps what the lock held for it; the lock is written anyway and the failures are returned.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from paperbundle.arxiv.client import ArxivClient
from paperbundle.arxiv.meta import Asked, arxiv_papers, ask_arxiv, url_version
from paperbundle.arxiv.records import ArxivRecord
from paperbundle.errors import BuildFailed, ManifestError, PaperError
from paperbundle.fetch import FetchResult, NetOptions, fetch_all
from paperbundle.fetch.http import Stopped
from paperbundle.fetch.lock import Lock, LockEntry, lock_from_fetch, read_lock, write_lock
from paperbundle.fetch.session import Session
from paperbundle.manifest import Manifest
from paperbundle.progress import Reporter


@dataclass(frozen=True)
class LockOutcome:
    lock: Lock
    asked: int  # papers arXiv was asked about
    with_metadata: int  # arXiv papers whose entry has metadata
    without_metadata: tuple[str, ...]  # arXiv papers left without (offline, or failed)
    failures: tuple[PaperError, ...]  # metadata that could not be had
    requests: int  # arXiv requests


def _old_lock(manifest: Manifest, reporter: Reporter) -> Lock | None:
    try:
        return read_lock(manifest.lock_path)
    except ManifestError as exc:
        reporter.warn(f"{manifest.lock_path} is not a valid lock; writing it anew ({exc})")
        return None


def to_ask(
    manifest: Manifest, old: Lock | None, options: NetOptions, refresh_metadata: bool
) -> list[Asked]:
    """The arXiv papers whose metadata the lock needs."""
    out = []
    for p, aid in arxiv_papers(manifest):
        had = old.entries.get(p.key) if old is not None else None
        known = had is not None and had.arxiv is not None and had.arxiv.arxiv_id == aid
        if refresh_metadata or options.refresh or not known:
            out.append(Asked(p.key, aid))
    return out


def _version(entry: LockEntry, had: LockEntry | None, record: ArxivRecord | None) -> int | None:
    """arXiv's latest version when this file was locked (unversioned URLs only): kept while the
    file stays the same, arXiv's latest for a new file (or one locked before versions were)."""
    if url_version(entry.url) is not None:
        return None  # the URL says it
    if had is not None and had.sha256 == entry.sha256 and had.version is not None:
        return had.version
    return record.latest_version if record is not None else None


def merge(
    manifest: Manifest,
    fetched: FetchResult,
    old: Lock | None,
    records: dict[str, ArxivRecord],
) -> Lock:
    """The new lock: fetched files, new metadata where asked, the old metadata elsewhere."""
    base = lock_from_fetch(manifest, fetched)
    ids = {p.key: aid for p, aid in arxiv_papers(manifest)}
    entries: dict[str, LockEntry] = {}
    for key, e in base.entries.items():
        had = old.entries.get(key) if old is not None else None
        record = records.get(key)
        if record is None and had is not None and had.arxiv is not None:
            record = had.arxiv if had.arxiv.arxiv_id == ids.get(key) else None
        version = _version(e, had, record) if key in ids else None
        entries[key] = replace(e, arxiv=record if key in ids else None, version=version)
    return Lock(entries=entries)


def run_lock(
    manifest: Manifest,
    options: NetOptions,
    api: str,
    reporter: Reporter,
    *,
    refresh_metadata: bool = False,
) -> LockOutcome:
    """Fetch every paper, ask arXiv what the lock lacks, write the lock (see the module doc)."""
    old = _old_lock(manifest, reporter)
    fetched = fetch_all(manifest, options, reporter, None)
    if fetched.failures:
        raise BuildFailed(fetched.failures)
    asked = [] if options.offline else to_ask(manifest, old, options, refresh_metadata)
    records: dict[str, ArxivRecord] = {}
    failures: list[PaperError] = []
    requests = 0
    if asked:
        reporter.stage("arXiv metadata")
        net = Session(options, reporter)
        try:
            records, failures = ask_arxiv(ArxivClient(net, api), asked)
        except Stopped:
            raise KeyboardInterrupt from None
        finally:
            requests = net.requests
            net.close()
    lock = merge(manifest, fetched, old, records)
    write_lock(manifest.lock_path, lock)
    keys = [p.key for p, _ in arxiv_papers(manifest)]
    without = tuple(k for k in keys if lock.entries[k].arxiv is None)
    return LockOutcome(
        lock=lock,
        asked=len(asked),
        with_metadata=len(keys) - len(without),
        without_metadata=without,
        failures=tuple(failures),
        requests=requests,
    )
