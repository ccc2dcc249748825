"""Every paper of a manifest: local files, the cache, the lock, downloads grouped by host."""

from __future__ import annotations

from filelock import FileLock
from filelock import Timeout as LockTimeout

from paperbundle.errors import FetchError, OfflineMissing, PaperError, PdfError
from paperbundle.fetch.addresses import apply_mirror, hostport_of
from paperbundle.fetch.cache import Cache
from paperbundle.fetch.http import Fail, Stopped
from paperbundle.fetch.lock import Lock, LockEntry, lock_url
from paperbundle.fetch.options import FetchedPaper, FetchResult, NetOptions
from paperbundle.fetch.session import Session, lanes
from paperbundle.fetch.transfer import Transfer, inspect_pdf, validate_file
from paperbundle.manifest import Manifest, Paper
from paperbundle.progress import Reporter

# --------------------------------------------------------------------------- all papers


class Fetcher:
    def __init__(
        self, manifest: Manifest, options: NetOptions, reporter: Reporter, lock: Lock | None
    ) -> None:
        self.manifest = manifest
        self.options = options
        self.reporter = reporter
        self.lock = lock
        self.cache = Cache(options.cache_dir)
        self.net = Session(options, reporter)
        self.done: set[str] = set()  # URLs downloaded in this run
        self.failed: dict[str, PaperError] = {}  # URLs that failed in this run

    def run(self) -> FetchResult:
        groups: dict[str, list[Paper]] = {}
        for p in self.manifest.papers:
            if p.url is None:
                groups.setdefault("", []).append(p)  # local files: one worker of their own
            else:
                target, _ = apply_mirror(p.url, self.options.mirrors)
                groups.setdefault(hostport_of(target), []).append(p)
        results: dict[str, FetchedPaper | PaperError] = {}

        def work(papers: list[Paper]) -> None:
            for p in papers:
                if self.net.stop.is_set():
                    return
                try:
                    results[p.key] = self.paper(p)
                except PaperError as exc:
                    results[p.key] = exc
                except Stopped:
                    return

        self.net.run_parallel(work, lanes(groups, lambda p: p.url or p.key))
        papers: dict[str, FetchedPaper] = {}
        failures: list[PaperError] = []
        for p in self.manifest.papers:
            r = results.get(p.key)
            if isinstance(r, FetchedPaper):
                papers[p.key] = r
            elif r is not None:
                failures.append(r)
        return FetchResult(
            papers=papers,
            failures=tuple(failures),
            requests=self.net.requests,
            bytes_received=self.net.bytes_received,
        )

    def paper(self, p: Paper) -> FetchedPaper:
        try:
            entry, pin, pin_reason, prefer = self._lock_plan(p)
            fetched = (
                self._local(p, pin, pin_reason)
                if p.url is None
                else self._remote(p, pin, pin_reason, prefer)
            )
            self._check_lock(p, entry, fetched)
            return fetched
        except Fail as exc:  # from local files and cache checks
            cls = PdfError if exc.pdf else FetchError
            raise cls(p.key, p.source, exc.reason, exc.detail) from None
        except OSError as exc:
            raise FetchError(p.key, p.source, "io-error", str(exc)) from None

    # -- lock file

    def _lock_plan(self, p: Paper) -> tuple[LockEntry | None, str | None, str, str | None]:
        """(lock entry, hard pin, its failure reason, preferred sha256 when cached)."""
        frozen = self.options.frozen
        src = lock_url(self.manifest, p)
        entry = self.lock.entries.get(p.key) if self.lock is not None else None
        if frozen and self.lock is None:
            raise FetchError(p.key, p.source, "lock", "--frozen needs a lock file; none was found")
        if frozen and entry is None:
            raise FetchError(p.key, p.source, "lock", "the lock file has no entry for this paper")
        if entry is not None and entry.url != src:
            msg = f"the lock file has {entry.url} for this key"
            if frozen:
                raise FetchError(p.key, p.source, "lock", msg)
            self.reporter.warn(f"{p.key} ({p.source}): {msg}; ignoring it (run paperbundle lock)")
            entry = None
        if p.sha256 is not None:
            if entry is not None and entry.sha256 != p.sha256:
                msg = f"the manifest pins sha256 {p.sha256}, the lock file has {entry.sha256}"
                if frozen:
                    raise FetchError(p.key, p.source, "lock", msg)
                self.reporter.warn(f"{p.key} ({p.source}): {msg}; the manifest wins")
            return entry, p.sha256, "sha256-mismatch", p.sha256
        if entry is not None:
            if frozen:
                return entry, entry.sha256, "lock", entry.sha256
            return entry, None, "", entry.sha256
        return None, None, "", None

    def _check_lock(self, p: Paper, entry: LockEntry | None, f: FetchedPaper) -> None:
        if entry is None:
            return
        diffs = [
            f"{name} {have} (lock: {want})"
            for name, have, want in (
                ("sha256", f.sha256, entry.sha256),
                ("size", f.size, entry.size),
                ("page_count", f.page_count, entry.page_count),
            )
            if have != want
        ]
        if not diffs:
            return
        msg = "differs from the lock file: " + ", ".join(diffs)
        if self.options.frozen:
            raise FetchError(p.key, p.source, "lock", msg)
        self.reporter.warn(f"{p.key} ({p.source}): {msg} (run paperbundle lock to update it)")

    # -- local files

    def _local(self, p: Paper, pin: str | None, pin_reason: str) -> FetchedPaper:
        assert p.path is not None
        if not p.path.is_file():
            raise FetchError(p.key, p.source, "missing", "no such file")
        sha, size, reader = validate_file(p.path, pin, pin_reason, self.options.max_download_size)
        return FetchedPaper(p.key, p.source, p.path, sha, size, len(reader.pages), from_cache=False)

    # -- downloads

    def _remote(
        self, p: Paper, pin: str | None, pin_reason: str, prefer: str | None
    ) -> FetchedPaper:
        url = p.url
        assert url is not None
        if url in self.failed:
            prev = self.failed[url]
            raise type(prev)(p.key, url, prev.reason, prev.detail)
        use_cache = not self.options.refresh or url in self.done
        if use_cache:
            hit = self._cached(p, pin, pin_reason, prefer)
            if hit is not None:
                return hit
        if self.options.offline:
            raise OfflineMissing(
                p.key, url, "offline", "not in the cache (run without --offline to download it)"
            )
        lock = self.cache.lock(url)
        self._acquire(lock, p)
        try:
            if url in self.failed:  # failed in this run while we waited for the lock
                prev = self.failed[url]
                raise type(prev)(p.key, url, prev.reason, prev.detail)
            if use_cache:  # another process may have fetched it while we waited
                hit = self._cached(p, pin, pin_reason, prefer)
                if hit is not None:
                    return hit
            transfer = Transfer(self.net, self.cache, p, pin, pin_reason)
            try:
                entry = transfer.run()
            except PaperError as exc:
                self.failed[url] = exc
                raise
            self.done.add(url)
        finally:
            lock.release()
        return FetchedPaper(
            p.key,
            url,
            entry.path,
            entry.sha256,
            entry.size,
            entry.page_count,
            from_cache=False,
        )

    def _cached(
        self, p: Paper, pin: str | None, pin_reason: str, prefer: str | None
    ) -> FetchedPaper | None:
        url = p.url
        assert url is not None
        if prefer is not None and self.cache.verify_object(prefer):
            e = self.cache.lookup(url, verify=False)
            path = self.cache.object_path(prefer)
            if e is not None and e.sha256 == prefer:
                pages, size = e.page_count, e.size
            else:
                pages, size = len(inspect_pdf(path).pages), path.stat().st_size
            return FetchedPaper(p.key, url, path, prefer, size, pages, from_cache=True)
        e = self.cache.lookup(url)
        if e is None:
            return None
        if pin is not None and e.sha256 != pin:
            msg = f"the cached file has sha256 {e.sha256}, expected {pin}"
            if self.options.offline:
                raise FetchError(p.key, url, pin_reason, msg + " (offline: cannot download it)")
            self.reporter.log(f"{p.key}: {msg}; downloading it again")
            return None
        return FetchedPaper(p.key, url, e.path, e.sha256, e.size, e.page_count, from_cache=True)

    def _acquire(self, lock: FileLock, p: Paper) -> None:
        try:
            lock.acquire(timeout=0)
            return
        except LockTimeout:
            self.reporter.log(
                f"{p.key}: another paperbundle process is downloading {p.url}; waiting for it"
            )
        while True:
            if self.net.stop.is_set():
                raise Stopped
            try:
                lock.acquire(timeout=0.2)
                return
            except LockTimeout:
                continue


def fetch_all(
    manifest: Manifest, options: NetOptions, reporter: Reporter, lock: Lock | None = None
) -> FetchResult:
    """Fetch every paper of ``manifest``; never raises for one paper's failure (see FetchResult)."""
    fetcher = Fetcher(manifest, options, reporter, lock)
    try:
        return fetcher.run()
    finally:
        fetcher.net.close()
