"""One download into the cache, with retries and resume, validated before it is cached."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import httpx
from pypdf import PdfReader

from paperbundle.errors import FetchError, PdfError
from paperbundle.fetch.addresses import apply_mirror
from paperbundle.fetch.body import Pace, decoded
from paperbundle.fetch.cache import Cache, CacheEntry
from paperbundle.fetch.http import (
    MAX_REDIRECTS,
    RETRY_STATUSES,
    Fail,
    Retry,
    Stopped,
    content_range,
    int_header,
    not_pdf,
    parse_retry_after,
    redirect_location,
    validator,
)
from paperbundle.fetch.session import Budget, Session
from paperbundle.manifest import Paper
from paperbundle.pdfio import UnusablePdf, read_pdf

EOF_WINDOW = 1024  # %%EOF must appear within the file's last bytes (as pypdf's strict mode wants)


# --------------------------------------------------------------------------- validation


def inspect_pdf(source: Path | bytes) -> PdfReader:
    """The opened PDF; Fail("encrypted" / "unreadable") when unusable."""
    try:
        return read_pdf(source)
    except UnusablePdf as exc:
        raise Fail(exc.reason, exc.detail, pdf=True) from None


def validate_file(
    path: Path, pin: str | None, pin_reason: str, cap: int
) -> tuple[str, int, PdfReader]:
    """(sha256, size, the opened PDF) of a complete file, or Fail naming what is wrong.
    A file over ``cap`` bytes is refused by its size, before a byte of it is read."""
    size = path.stat().st_size
    if size > cap:
        raise Fail("too-large", f"{size} bytes, over the {cap}-byte limit (--max-download-size)")
    with path.open("rb") as f:
        data = f.read(cap + 1)  # read once: hashed here, parsed from memory
    size = len(data)
    if size > cap:
        raise Fail("too-large", f"over the {cap}-byte limit (--max-download-size)")
    if size == 0:
        raise Fail("empty", "the file is empty")
    if not data.startswith(b"%PDF-"):
        raise not_pdf(data[:64], None)  # never quotes the bytes of a local file
    if b"%%EOF" not in data[-EOF_WINDOW:]:
        raise Fail("truncated", "the file ends without its %%EOF marker (cut short?)")
    sha = hashlib.sha256(data).hexdigest()
    if pin is not None and sha != pin:
        raise Fail(pin_reason, f"the file's sha256 is {sha}, expected {pin}")
    return sha, size, inspect_pdf(data)


# --------------------------------------------------------------------------- one download


class Transfer:
    """Download one canonical URL into the cache, with retries and resume."""

    def __init__(
        self, net: Session, cache: Cache, paper: Paper, pin: str | None, pin_reason: str
    ) -> None:
        assert paper.url is not None
        self.net = net
        self.cache = cache
        self.key = paper.key
        self.url = paper.url
        self.fetch_url, self.trusted = apply_mirror(paper.url, net.options.mirrors)
        self.pin = pin
        self.pin_reason = pin_reason
        self.part = cache.partial(paper.url)
        self.attempts = 0
        self.no_resume = False
        self.assembled = False  # the file came from more than one response (or an earlier run)
        self.wrote_partial = False  # this run wrote the partial (validators not needed to resume)
        self.started = False
        self.shown = 0
        self.budget = Budget(net.options.retry_total)

    def log(self, message: str) -> None:
        self.net.reporter.log(f"{self.key}: {message}")

    def run(self) -> CacheEntry:
        via = f" (fetched from mirror {self.fetch_url})" if self.fetch_url != self.url else ""
        try:
            entry: CacheEntry = self.net.retrying(self.key, self.url, self.budget)(self._attempt)
            return entry
        except Retry as exc:
            if exc.retry_after is not None and exc.retry_after > self.net.options.retry_max_wait:
                raise FetchError(
                    self.key,
                    self.url,
                    exc.final,
                    f"{exc.reason}: the server asks to wait {exc.retry_after:.0f} s before "
                    f"retrying (more than {self.net.options.retry_max_wait:.0f} s); try later"
                    f"{via}",
                ) from None
            raise FetchError(
                self.key,
                self.url,
                exc.final,
                f"gave up after {self.attempts} attempt(s) in {self.budget.spent():.0f} s "
                f"(--retry-budget {self.net.options.retry_total:g} s): "
                f"{exc.reason}: {exc.detail}{via}",
            ) from None
        except Fail as exc:
            cls = PdfError if exc.pdf else FetchError
            raise cls(self.key, self.url, exc.reason, exc.detail + via) from None
        finally:
            if self.started:
                self.net.reporter.download_finished(self.key)

    # -- one attempt

    def _attempt(self) -> CacheEntry:
        self.attempts += 1
        try:
            offset, meta = self._resume_point()
            total = meta.get("total") if meta else None
            if meta is not None and isinstance(total, int) and offset == total:
                self.log(
                    "a complete download is waiting in the cache's partial folder; checking it"
                )
                self.assembled = True
            else:
                self._get(offset, meta)
            return self._finish()
        except Fail:
            self.part.discard()
            raise

    def _resume_point(self) -> tuple[int, dict[str, Any] | None]:
        if self.no_resume:
            self.part.discard()
            return 0, None
        size = self.part.size()
        meta = self.part.read_meta()
        if size == 0 or meta is None:
            self.part.discard()
            return 0, None
        total = meta.get("total")
        usable = (
            meta.get("url") == self.url
            and meta.get("fetch_url") == self.fetch_url
            and meta.get("resumable") is True
            and (bool(meta.get("validator")) or (self.wrote_partial and isinstance(total, int)))
            and not (isinstance(total, int) and size > total)
        )
        if not usable:
            self.part.discard()
            return 0, None
        if not self.wrote_partial:
            self.log(f"resuming an earlier partial download at byte {size}")
        return size, meta

    def _get(self, offset: int, meta: dict[str, Any] | None) -> None:
        url = self.fetch_url
        for _hop in range(MAX_REDIRECTS + 1):
            headers: dict[str, str] = {}
            if offset:
                headers["Range"] = f"bytes={offset}-"
                validator = meta.get("validator") if meta else None
                if isinstance(validator, str) and validator:
                    headers["If-Range"] = validator
            note = f" (resuming at byte {offset})" if offset else ""
            with self.net.open(
                self.key,
                "GET",
                url,
                headers=headers,
                trusted=self.trusted,
                budget=self.budget,
                note=note,
            ) as resp:
                location = redirect_location(resp)
                if location is None:
                    self._receive(resp, offset, meta)
                    return
                self.log(f"HTTP {resp.status_code}: redirected to {location}")
            url = urljoin(url, location)
        raise Fail("bad-redirect", f"more than {MAX_REDIRECTS} redirects")

    def _receive(self, resp: httpx.Response, offset: int, meta: dict[str, Any] | None) -> None:
        status = resp.status_code
        self.log(f"HTTP {status} {resp.reason_phrase} from {resp.url}")
        if status in RETRY_STATUSES or status >= 500:
            raise Retry(
                f"http-{status}",
                f"HTTP {status} {resp.reason_phrase}".rstrip(),
                final=f"http-{status}",
                retry_after=parse_retry_after(resp.headers.get("retry-after")),
                status=status,
            )
        if status == 416 and offset:
            self.part.discard()
            raise Retry("http-416", "the server refused to resume; starting over")
        if status not in (200, 206):
            raise Fail(f"http-{status}", f"HTTP {status} {resp.reason_phrase}".rstrip())
        o = self.net.options
        cap = o.max_download_size
        encoding = resp.headers.get("content-encoding", "identity").strip().lower()
        resumable = encoding in ("", "identity")
        body = decoded(resp.iter_raw(), encoding)  # refuses an encoding it cannot bound
        length = int_header(resp.headers.get("content-length"))
        ctype = resp.headers.get("content-type", "")
        total: int | None
        if status == 206:
            cr = content_range(resp.headers.get("content-range"))
            known = meta.get("total") if meta else None
            if (
                not offset
                or cr is None
                or cr[0] != offset
                or (isinstance(known, int) and cr[2] is not None and cr[2] != known)
            ):
                self.part.discard()
                raise Retry(
                    "bad range",
                    f"Content-Range {resp.headers.get('content-range')!r} does not continue "
                    f"at byte {offset}; starting over",
                )
            total = cr[2]
            self.assembled = True
        else:
            if offset:
                self.log(
                    "the server sent the whole file (Range ignored or file changed); restarting"
                )
                offset = 0
            total = length if resumable else None
            self.assembled = False
        if total is not None and total > cap:
            raise Fail(
                "too-large", f"{total} bytes, over the {cap}-byte limit (--max-download-size)"
            )
        if offset == 0:
            self.cache.write_json(
                self.part.meta_path,
                {
                    "url": self.url,
                    "fetch_url": self.fetch_url,
                    "validator": validator(resp.headers),
                    "total": total,
                    "resumable": resumable,
                },
            )
            self.wrote_partial = True
        self._progress_start(total, offset)
        head = b""
        received = 0
        pace = Pace(o.min_rate, o.rate_window, self.budget.end)
        with self.part.path.open("ab" if offset else "wb") as f:
            for chunk in body:
                if self.net.stop.is_set():
                    raise Stopped
                pace.advance(len(chunk))
                if not chunk:
                    continue
                if offset == 0 and len(head) < 64:
                    head += chunk[: 64 - len(head)]
                    if len(head) >= 5 and not head.startswith(b"%PDF-"):
                        raise not_pdf(head, ctype)
                pos = offset + received + len(chunk)
                if pos > cap:
                    raise Fail(
                        "too-large",
                        f"stopped after {pos} bytes, over the {cap}-byte limit "
                        "(--max-download-size)",
                    )
                f.write(chunk)
                received += len(chunk)
                self.net.count_bytes(len(chunk))
                self._progress(pos)
        if offset == 0 and received == 0:
            raise Fail("empty", f"HTTP {status} with an empty body")
        if offset == 0 and not head.startswith(b"%PDF-"):
            raise not_pdf(head, ctype)
        if resumable and length is not None and received < length:
            raise Retry("short body", f"got {received} of {length} bytes", final="truncated")

    def _finish(self) -> CacheEntry:
        size = self.part.size()
        meta = self.part.read_meta() or {}
        total = meta.get("total")
        if isinstance(total, int) and size < total:  # resume from here next attempt
            raise Retry("short body", f"have {size} of {total} bytes", final="truncated")
        if isinstance(total, int) and size > total:
            self.no_resume = True
            raise Retry("long body", f"have {size} bytes, expected {total}; starting over")
        try:
            sha, size, reader = validate_file(
                self.part.path, self.pin, self.pin_reason, self.net.options.max_download_size
            )
        except Fail as exc:
            if self.assembled and not self.no_resume:
                # Pieces from several responses (or an earlier run) may not belong together:
                # one clean download from the start decides.
                self.no_resume = True
                self.part.discard()
                raise Retry(
                    "resumed file invalid", f"{exc.reason}: {exc.detail}; downloading it whole"
                ) from None
            raise
        pages = len(reader.pages)
        del reader  # the stages after fetch open the file themselves, in worker processes
        entry = self.cache.commit(self.url, self.part.path, sha, size, pages)
        self.part.discard()
        self.log(f"cached {self.url} ({size} bytes, {pages} pages, sha256 {sha[:16]}...)")
        return entry

    # -- progress

    def _progress_start(self, total: int | None, offset: int) -> None:
        if not self.started:
            self.net.reporter.download_started(self.key, total)
            self.started = True
        self._progress(offset)

    def _progress(self, pos: int) -> None:
        if pos > self.shown:
            self.net.reporter.download_advanced(self.key, pos - self.shown)
            self.shown = pos
