"""Stage 2: fetch every paper into the content-addressed cache, politely and safely.

* Politeness: papers are grouped by the host they are fetched from; hosts proceed in parallel
  (threads), one request at a time per host:port actually contacted, each request starting at
  least ``min_interval`` seconds after the previous one to that host:port *ended*.
* Retries (tenacity): exponential backoff with jitter, bounded attempts and total time, on
  timeouts, resets, short bodies, 408/429/5xx; Retry-After (seconds or HTTP-date) is honoured,
  capped by ``retry_max_wait``. Never on 403/404/410 and other 4xx.
* Resume: a cut-off body is kept as a partial file and continued with ``Range`` + ``If-Range``
  (strong ETag or Last-Modified); a server that ignores Range (200) or a changed file restarts
  cleanly. Partials survive the process, so the next run resumes too.
* Validation before caching: starts with ``%PDF-``, within the size cap (Content-Length checked up
  front, the stream aborted as soon as the cap is passed), ends with ``%%EOF``, matches a pinned
  sha256, opens with pypdf (empty password tried). Nothing invalid is ever cached.
* Safety: http(s) only, redirects re-checked at every hop, hosts resolving to loopback, private,
  link-local or otherwise non-public addresses refused unless the URL came from a ``--mirror``.
* Cached means sent nothing: a cached paper causes no request unless ``refresh``.
"""

from __future__ import annotations

import contextlib
import email.utils
import hashlib
import ipaddress
import os
import random
import socket
import ssl
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import SplitResult, urljoin, urlsplit, urlunsplit

import httpx
import platformdirs
import tenacity
from filelock import FileLock
from filelock import Timeout as LockTimeout
from pypdf import PdfReader

from paperbundle import USER_AGENT
from paperbundle.errors import FetchError, OfflineMissing, PaperError, PdfError, UsageError
from paperbundle.fetch.cache import Cache, CacheEntry
from paperbundle.fetch.lock import Lock, LockEntry, lock_url
from paperbundle.manifest import ARXIV_HOSTS, Manifest, Paper, netloc
from paperbundle.pdfio import UnusablePdf, read_pdf
from paperbundle.progress import Reporter

MAX_REDIRECTS = 10
MAX_HOST_THREADS = 8
EOF_WINDOW = 1024  # %%EOF must appear within the file's last bytes (as pypdf's strict mode wants)
RETRY_STATUSES = frozenset({408, 429})
HEAD_REFUSED = frozenset({403, 405, 501})
REDIRECTS = frozenset({301, 302, 303, 307, 308})

_T = TypeVar("_T")


# --------------------------------------------------------------------------- public types


@dataclass(frozen=True)
class NetOptions:
    cache_dir: Path
    mirrors: tuple[tuple[str, str], ...] = ()  # (FROM canonical prefix, TO base URL)
    min_interval: float = 3.0  # seconds between requests to one host:port actually contacted
    offline: bool = False
    refresh: bool = False
    frozen: bool = False  # lock must cover every key, any difference is an error
    max_download_size: int = 200_000_000
    timeout: float = 30.0  # connect/read timeout
    retry_attempts: int = 6
    retry_base: float = 1.0  # first backoff
    retry_max_wait: float = 60.0  # cap for one wait (also caps Retry-After)
    retry_total: float = 180.0  # --retry-budget: give up on one paper after this many seconds


@dataclass(frozen=True)
class FetchedPaper:
    key: str
    source: str  # canonical URL (Paper.url), or str(Paper.path) for local files
    path: Path  # the file to read: a cache object, or the local file itself
    sha256: str
    size: int
    page_count: int  # pages of the original file
    from_cache: bool
    # The PDF as this stage opened it to validate it (a download, a local file), for the next
    # stages to use instead of parsing the file again; None for a file taken from the cache.
    reader: PdfReader | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class FetchResult:
    papers: dict[str, FetchedPaper]  # by key, every paper that worked, in manifest order
    failures: tuple[PaperError, ...]  # in manifest order
    requests: int  # HTTP requests sent
    bytes_received: int  # body bytes received (every attempt)


@dataclass(frozen=True)
class LinkStatus:
    key: str  # paper key, or "bundle" for the bundle's homepage
    url: str  # the link as the manifest gives it (canonical)
    ok: bool
    status: int | None  # last HTTP status, None when no response came
    reason: str  # "ok", "http-404", "not a PDF", "network", "refused-address", ...
    is_pdf: bool | None  # for paper URLs: what the content type / first bytes say; None: unknown


def default_cache_dir() -> Path:
    """``$PAPERBUNDLE_CACHE``, else the user cache dir (``~/.cache/paperbundle`` on Linux)."""
    env = os.environ.get("PAPERBUNDLE_CACHE", "").strip()
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_cache_dir("paperbundle", appauthor=False))


def parse_mirror(spec: str) -> tuple[str, str]:
    """``"FROM=TO"`` -> (normalised FROM prefix, TO base URL). Raises UsageError on bad input.

    FROM is normalised like a manifest URL (lower-case scheme and host; any arXiv host and http:
    become ``https://arxiv.org``), so it is matched against canonical URLs. When FROM ends with
    "/" so does TO.
    """
    example = "e.g. --mirror https://arxiv.org/=http://127.0.0.1:8000/"
    if "=" not in spec:
        raise UsageError(f"--mirror {spec!r}: expected FROM=TO ({example})")
    frm, to = (s.strip() for s in spec.split("=", 1))
    frm_n = _normalise_prefix(frm, spec, example)
    to_parts = _split_checked(to, spec, "TO", example)
    if to_parts.fragment:
        raise UsageError(f"--mirror {spec!r}: TO must not have a #fragment")
    to_n = urlunsplit(
        (to_parts.scheme.lower(), to_parts.netloc.lower(), to_parts.path, to_parts.query, "")
    )
    if frm_n.endswith("/") and not to_n.endswith("/"):
        to_n += "/"
    return frm_n, to_n


def _split_checked(url: str, spec: str, what: str, example: str) -> SplitResult:
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018  (raises ValueError on a bad port)
    except ValueError as exc:
        raise UsageError(f"--mirror {spec!r}: {what} is not a valid URL ({exc})") from None
    if parts.scheme.lower() not in ("http", "https") or not host:
        raise UsageError(
            f"--mirror {spec!r}: {what} must be an http(s) URL with a host ({example})"
        )
    if parts.username or parts.password:
        raise UsageError(f"--mirror {spec!r}: {what} must not carry credentials")
    return parts


def _normalise_prefix(frm: str, spec: str, example: str) -> str:
    parts = _split_checked(frm, spec, "FROM", example)
    host = (parts.hostname or "").lower()
    path = parts.path or "/"
    if host in ARXIV_HOSTS:
        if path.startswith("/abs/"):
            path = "/pdf/" + path[len("/abs/") :]
        return urlunsplit(("https", "arxiv.org", path, parts.query, ""))
    return urlunsplit((parts.scheme.lower(), netloc(host, parts.port), path, parts.query, ""))


def fetch_all(
    manifest: Manifest, options: NetOptions, reporter: Reporter, lock: Lock | None = None
) -> FetchResult:
    """Fetch every paper of ``manifest``; never raises for one paper's failure (see FetchResult)."""
    fetcher = _Fetcher(manifest, options, reporter, lock)
    try:
        return fetcher.run()
    finally:
        fetcher.net.close()


def probe_links(manifest: Manifest, options: NetOptions, reporter: Reporter) -> list[LinkStatus]:
    """For ``check --links``: probe the homepage, every paper URL and every code link, politely.

    HEAD first, then a tiny ranged GET when HEAD is refused (403/405/501). Mirrors apply, as for
    downloads; the result names the link as the manifest gives it. One LinkStatus per link, in
    manifest order (homepage first, as key "bundle"); a URL used twice is probed once.
    """
    if options.offline:
        raise UsageError("check --links needs the network; it cannot be combined with --offline")
    links: list[tuple[str, str, bool]] = []
    if manifest.bundle.homepage:
        links.append(("bundle", manifest.bundle.homepage, False))
    for p in manifest.papers:
        if p.url:
            links.append((p.key, p.url, True))
        if p.code:
            links.append((p.key, p.code, False))
    # Each URL is probed once, as a paper when any link to it is one (the stricter probe).
    as_paper = {url for _, url, is_paper in links if is_paper}
    links = [(key, url, url in as_paper) for key, url, _ in links]
    unique = list(dict.fromkeys((url, is_paper) for _, url, is_paper in links))
    first_key: dict[tuple[str, bool], str] = {}
    for key, url, is_paper in links:
        first_key.setdefault((url, is_paper), key)
    net = _Net(options, reporter)
    outcomes: dict[tuple[str, bool], tuple[bool, int | None, str, bool | None]] = {}
    groups: dict[str, list[tuple[str, bool]]] = {}
    for url, is_paper in unique:
        target, _ = apply_mirror(url, options.mirrors)
        groups.setdefault(_hostport_of(target), []).append((url, is_paper))

    def work(items: list[tuple[str, bool]]) -> None:
        for url, is_paper in items:
            if net.stop.is_set():
                return
            prober = _Prober(net, first_key[(url, is_paper)], url, is_paper)
            try:
                outcomes[(url, is_paper)] = prober.run()
            except _Stopped:
                return

    try:
        net.run_parallel(work, list(groups.values()))
    finally:
        net.close()
    return [LinkStatus(key, url, *outcomes[(url, is_paper)]) for key, url, is_paper in links]


# --------------------------------------------------------------------------- internals


class _Retry(Exception):
    """A failure worth another attempt. ``final`` is the reason word if no attempt is left."""

    def __init__(
        self,
        reason: str,
        detail: str,
        *,
        final: str = "network",
        retry_after: float | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
        self.final = final
        self.retry_after = retry_after
        self.status = status


class _Fail(Exception):
    """A failure no retry can fix."""

    def __init__(self, reason: str, detail: str, *, pdf: bool = False, status: int | None = None):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
        self.pdf = pdf
        self.status = status


class _Stopped(Exception):
    """The run was interrupted (Ctrl-C in the main thread): stop quietly."""


class _Gate:
    """A host:port: one request at a time, ``interval`` seconds from one's end to the next start."""

    def __init__(self, interval: float, net: _Net) -> None:
        self.interval = interval
        self.net = net
        self.lock = threading.Lock()
        self.free_at = 0.0

    @contextlib.contextmanager
    def slot(self) -> Iterator[None]:
        with self.lock:
            delay = self.free_at - time.monotonic()
            if delay > 0:
                self.net.sleep(delay)
            try:
                yield
            finally:
                self.free_at = time.monotonic() + self.interval


class _Net:
    """What every request of one run shares: client, per-host gates, counters, stop flag."""

    def __init__(self, options: NetOptions, reporter: Reporter) -> None:
        self.options = options
        self.reporter = reporter
        self.client = httpx.Client(
            timeout=httpx.Timeout(options.timeout),
            follow_redirects=False,
            trust_env=True,
            headers={
                "User-Agent": USER_AGENT,
                "Accept": "application/pdf, */*;q=0.5",
                "Accept-Encoding": "identity",
            },
        )
        self._gates: dict[str, _Gate] = {}
        self._lock = threading.Lock()
        self.requests = 0
        self.bytes_received = 0
        self.stop = threading.Event()

    def close(self) -> None:
        self.client.close()

    def gate(self, hostport: str) -> _Gate:
        with self._lock:
            g = self._gates.get(hostport)
            if g is None:
                g = self._gates[hostport] = _Gate(self.options.min_interval, self)
            return g

    def count_request(self) -> None:
        with self._lock:
            self.requests += 1

    def count_bytes(self, n: int) -> None:
        with self._lock:
            self.bytes_received += n

    def sleep(self, seconds: float) -> None:
        if self.stop.wait(max(0.0, seconds)):
            raise _Stopped

    def retrying(self, key: str, url: str) -> tenacity.Retrying:
        o = self.options

        def wait(state: tenacity.RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            if isinstance(exc, _Retry) and exc.retry_after is not None:
                return float(min(max(exc.retry_after, 0.0), o.retry_max_wait))
            backoff = min(o.retry_max_wait, o.retry_base * 2 ** (state.attempt_number - 1))
            return float(backoff * random.uniform(0.5, 1.0))  # jitter

        def log(state: tenacity.RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            pause = state.next_action.sleep if state.next_action else 0.0
            what = f"{exc.reason}: {exc.detail}" if isinstance(exc, _Retry) else repr(exc)
            self.reporter.log(
                f"{key}: attempt {state.attempt_number} failed ({what}); "
                f"retrying in {pause:.2f}s ({url})"
            )

        return tenacity.Retrying(
            stop=tenacity.stop_after_attempt(max(1, o.retry_attempts))
            | tenacity.stop_before_delay(o.retry_total),
            wait=wait,
            # A server that asks for a longer pause than we are willing to wait is not retried
            # early (that would be rude): the paper fails, saying how long it asked for.
            retry=tenacity.retry_if_exception(
                lambda e: (
                    isinstance(e, _Retry)
                    and (e.retry_after is None or e.retry_after <= o.retry_max_wait)
                )
            ),
            before_sleep=log,
            sleep=self.sleep,
            reraise=True,
        )

    def run_parallel(self, work: Callable[[list[_T]], None], groups: list[list[_T]]) -> None:
        if not groups:
            return
        workers = min(MAX_HOST_THREADS, len(groups))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="paperbundle-net") as ex:
            futures = [ex.submit(work, g) for g in groups]
            try:
                for f in futures:
                    f.result()
            except BaseException:
                self.stop.set()
                raise


# --------------------------------------------------------------------------- URLs and addresses


def apply_mirror(url: str, mirrors: tuple[tuple[str, str], ...]) -> tuple[str, str | None]:
    """(URL to fetch, trusted host:port of the mirror or None). The longest FROM prefix wins."""
    best: tuple[str, str] | None = None
    for frm, to in mirrors:
        if url.startswith(frm) and (best is None or len(frm) > len(best[0])):
            best = (frm, to)
    if best is None:
        return url, None
    target = best[1] + url[len(best[0]) :]
    return target, _hostport_of(target)


def _hostport_of(url: str) -> str:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return url
    host = (parts.hostname or "").lower()
    if port is None:
        port = 443 if parts.scheme.lower() == "https" else 80
    return f"{host}:{port}"


def _split_target(url: str) -> tuple[str, int]:
    """(host, port) of an http(s) URL; _Fail("bad-redirect") for anything else."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise _Fail("bad-redirect", f"invalid URL {url!r}: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise _Fail("bad-redirect", f"{url!r}: only http and https are followed")
    host = (parts.hostname or "").lower()
    if not host:
        raise _Fail("bad-redirect", f"{url!r} has no host")
    return host, port if port is not None else (443 if scheme == "https" else 80)


def _proxied(url: str, host: str) -> bool:
    """Whether httpx would send ``url`` through a proxy from the environment."""
    proxies = urllib.request.getproxies_environment()
    scheme = urlsplit(url).scheme.lower()
    if scheme not in proxies and "all" not in proxies:
        return False
    bypass = getattr(urllib.request, "proxy_bypass_environment", None)
    return not (bypass is not None and bypass(host, proxies))


def address_kind(addr: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """None for a public address, else what it is."""
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    if addr.is_loopback:
        return "loopback"
    if addr.is_link_local:
        return "link-local"
    if addr.is_private:
        return "private"
    if addr.is_multicast or addr.is_unspecified or addr.is_reserved or not addr.is_global:
        return "non-public"
    return None


def _check_address(url: str, host: str, port: int) -> None:
    """Refuse hosts that resolve to loopback, private, link-local or other non-public addresses.

    With a proxy from the environment the check still applies to the target host; a target the
    local resolver cannot see is then left to the proxy.
    """
    literal = host[1:-1] if host.startswith("[") else host
    try:
        addrs = [ipaddress.ip_address(literal.split("%")[0])]
    except ValueError:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            if _proxied(url, host):
                return
            msg = getattr(exc, "strerror", None) or str(exc)
            if isinstance(exc, socket.gaierror) and exc.errno == socket.EAI_AGAIN:
                raise _Retry("dns", f"cannot resolve {host}: {msg}") from None
            raise _Fail("network", f"cannot resolve host {host}: {msg}") from None
        addrs = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    for a in addrs:
        kind = address_kind(a)
        if kind is not None:
            raise _Fail(
                "refused-address",
                f"{host} resolves to {a}, a {kind} address; only a --mirror may point there",
            )


def _redirect_location(resp: httpx.Response) -> str | None:
    if resp.status_code in REDIRECTS:
        loc: str | None = resp.headers.get("location")
        if loc:
            return loc
    return None


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait for a Retry-After value (delta-seconds or HTTP-date); None if absent/bad."""
    if value is None:
        return None
    v = value.strip()
    if not v:
        return None
    if v.isdigit():
        return float(int(v))
    try:
        when = email.utils.parsedate_to_datetime(v)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _content_range(value: str | None) -> tuple[int, int, int | None] | None:
    """``bytes 100-199/1000`` -> (100, 199, 1000); total None for ``*``."""
    if not value:
        return None
    try:
        _unit, rest = value.strip().split(" ", 1)
        span, total = rest.split("/", 1)
        first, last = span.split("-", 1)
        return int(first), int(last), None if total.strip() == "*" else int(total)
    except ValueError:
        return None


def _int_header(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        n = int(value.strip())
    except ValueError:
        return None
    return n if n >= 0 else None


def _validator(headers: httpx.Headers) -> str | None:
    """What If-Range may carry: a strong ETag, else Last-Modified."""
    etag: str | None = headers.get("etag")
    if etag and not etag.startswith("W/"):
        return etag
    modified: str | None = headers.get("last-modified")
    return modified or None


def _is_certificate_error(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            return False
        if isinstance(seen, ssl.SSLCertVerificationError):
            return True
        seen = seen.__cause__ or seen.__context__
    return "CERTIFICATE_VERIFY_FAILED" in str(exc)


def _transport_error(exc: httpx.HTTPError) -> _Retry | _Fail:
    name = type(exc).__name__
    text = str(exc) or name
    if isinstance(exc, httpx.TimeoutException):
        return _Retry("timeout", f"{name}: {text}")
    if isinstance(exc, httpx.RemoteProtocolError) and "incomplete" in text.lower():
        return _Retry("short body", text, final="truncated")
    if isinstance(exc, httpx.RemoteProtocolError) and "complete message body" in text:
        return _Retry("short body", text, final="truncated")
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return _Fail("bad-redirect", text)
    if _is_certificate_error(exc):
        # Retrying cannot fix a certificate the system does not trust.
        return _Fail("tls", f"{text} (a private CA? point SSL_CERT_FILE at its bundle)")
    if isinstance(exc, httpx.TransportError):
        return _Retry("connection", f"{name}: {text}")
    return _Fail("network", f"{name}: {text}")


def _looks_html(head: bytes, content_type: str) -> bool:
    if "html" in content_type.lower():
        return True
    s = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return s.startswith((b"<!doctype", b"<html", b"<head", b"<body", b"<?xml", b"<"))


def _not_pdf(head: bytes, content_type: str) -> _Fail:
    shown = head[:32]
    ctype = content_type or "none"
    if _looks_html(head, content_type):
        return _Fail(
            "html",
            f"the server sent an HTML page, not a PDF (Content-Type {ctype}, starts {shown!r})",
        )
    return _Fail(
        "not-pdf", f"the body does not start with %PDF- (Content-Type {ctype}, starts {shown!r})"
    )


# --------------------------------------------------------------------------- validation


def _inspect_pdf(source: Path | bytes) -> PdfReader:
    """The opened PDF; _Fail("encrypted" / "unreadable") when unusable."""
    try:
        return read_pdf(source)
    except UnusablePdf as exc:
        raise _Fail(exc.reason, exc.detail, pdf=True) from None


def _validate_file(path: Path, pin: str | None, pin_reason: str) -> tuple[str, int, PdfReader]:
    """(sha256, size, the opened PDF) of a complete file, or _Fail naming what is wrong."""
    data = path.read_bytes()  # read once: hashed here, parsed from memory (size is capped)
    size = len(data)
    if size == 0:
        raise _Fail("empty", "the file is empty")
    if not data.startswith(b"%PDF-"):
        raise _not_pdf(data[:64], "")
    if b"%%EOF" not in data[-EOF_WINDOW:]:
        raise _Fail("truncated", "the file ends without its %%EOF marker (cut short?)")
    sha = hashlib.sha256(data).hexdigest()
    if pin is not None and sha != pin:
        raise _Fail(pin_reason, f"the file's sha256 is {sha}, expected {pin}")
    return sha, size, _inspect_pdf(data)


# --------------------------------------------------------------------------- one download


class _Transfer:
    """Download one canonical URL into the cache, with retries and resume."""

    def __init__(
        self, net: _Net, cache: Cache, paper: Paper, pin: str | None, pin_reason: str
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
        self.reader: PdfReader | None = None  # the validated file, opened once

    def log(self, message: str) -> None:
        self.net.reporter.log(f"{self.key}: {message}")

    def run(self) -> CacheEntry:
        via = f" (fetched from mirror {self.fetch_url})" if self.fetch_url != self.url else ""
        try:
            entry: CacheEntry = self.net.retrying(self.key, self.url)(self._attempt)
            return entry
        except _Retry as exc:
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
                f"gave up after {self.attempts} attempt(s): {exc.reason}: {exc.detail}{via}",
            ) from None
        except _Fail as exc:
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
        except _Fail:
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
            host, port = _split_target(url)
            hostport = f"{host}:{port}"
            if hostport != self.trusted:
                _check_address(url, host, port)
            headers: dict[str, str] = {}
            if offset:
                headers["Range"] = f"bytes={offset}-"
                validator = meta.get("validator") if meta else None
                if isinstance(validator, str) and validator:
                    headers["If-Range"] = validator
            with self.net.gate(hostport).slot():
                if self.net.stop.is_set():
                    raise _Stopped
                self.net.count_request()
                self.log(f"GET {url}" + (f" (resuming at byte {offset})" if offset else ""))
                try:
                    with self.net.client.stream("GET", url, headers=headers) as resp:
                        location = _redirect_location(resp)
                        if location is None:
                            self._receive(resp, offset, meta)
                            return
                        self.log(f"HTTP {resp.status_code}: redirected to {location}")
                except httpx.HTTPError as exc:
                    raise _transport_error(exc) from None
            url = urljoin(url, location)
        raise _Fail("bad-redirect", f"more than {MAX_REDIRECTS} redirects")

    def _receive(self, resp: httpx.Response, offset: int, meta: dict[str, Any] | None) -> None:
        status = resp.status_code
        self.log(f"HTTP {status} {resp.reason_phrase} from {resp.url}")
        if status in RETRY_STATUSES or status >= 500:
            raise _Retry(
                f"http-{status}",
                f"HTTP {status} {resp.reason_phrase}".rstrip(),
                final=f"http-{status}",
                retry_after=parse_retry_after(resp.headers.get("retry-after")),
                status=status,
            )
        if status == 416 and offset:
            self.part.discard()
            raise _Retry("http-416", "the server refused to resume; starting over")
        if status not in (200, 206):
            raise _Fail(f"http-{status}", f"HTTP {status} {resp.reason_phrase}".rstrip())
        cap = self.net.options.max_download_size
        encoding = resp.headers.get("content-encoding", "identity").strip().lower()
        resumable = encoding in ("", "identity")
        length = _int_header(resp.headers.get("content-length"))
        ctype = resp.headers.get("content-type", "")
        total: int | None
        if status == 206:
            cr = _content_range(resp.headers.get("content-range"))
            known = meta.get("total") if meta else None
            if (
                not offset
                or cr is None
                or cr[0] != offset
                or (isinstance(known, int) and cr[2] is not None and cr[2] != known)
            ):
                self.part.discard()
                raise _Retry(
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
            raise _Fail(
                "too-large", f"{total} bytes, over the {cap}-byte limit (--max-download-size)"
            )
        if offset == 0:
            self.cache.write_json(
                self.part.meta_path,
                {
                    "url": self.url,
                    "fetch_url": self.fetch_url,
                    "validator": _validator(resp.headers),
                    "total": total,
                    "resumable": resumable,
                },
            )
            self.wrote_partial = True
        self._progress_start(total, offset)
        head = b""
        received = 0
        with self.part.path.open("ab" if offset else "wb") as f:
            for chunk in resp.iter_bytes():
                if self.net.stop.is_set():
                    raise _Stopped
                if not chunk:
                    continue
                if offset == 0 and len(head) < 64:
                    head += chunk[: 64 - len(head)]
                    if len(head) >= 5 and not head.startswith(b"%PDF-"):
                        raise _not_pdf(head, ctype)
                pos = offset + received + len(chunk)
                if pos > cap:
                    raise _Fail(
                        "too-large",
                        f"stopped after {pos} bytes, over the {cap}-byte limit "
                        "(--max-download-size)",
                    )
                f.write(chunk)
                received += len(chunk)
                self.net.count_bytes(len(chunk))
                self._progress(pos)
        if offset == 0 and received == 0:
            raise _Fail("empty", f"HTTP {status} with an empty body")
        if offset == 0 and not head.startswith(b"%PDF-"):
            raise _not_pdf(head, ctype)
        if resumable and length is not None and received < length:
            raise _Retry("short body", f"got {received} of {length} bytes", final="truncated")

    def _finish(self) -> CacheEntry:
        size = self.part.size()
        meta = self.part.read_meta() or {}
        total = meta.get("total")
        if isinstance(total, int) and size < total:  # resume from here next attempt
            raise _Retry("short body", f"have {size} of {total} bytes", final="truncated")
        if isinstance(total, int) and size > total:
            self.no_resume = True
            raise _Retry("long body", f"have {size} bytes, expected {total}; starting over")
        try:
            sha, size, self.reader = _validate_file(self.part.path, self.pin, self.pin_reason)
        except _Fail as exc:
            if self.assembled and not self.no_resume:
                # Pieces from several responses (or an earlier run) may not belong together:
                # one clean download from the start decides.
                self.no_resume = True
                self.part.discard()
                raise _Retry(
                    "resumed file invalid", f"{exc.reason}: {exc.detail}; downloading it whole"
                ) from None
            raise
        pages = len(self.reader.pages)
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


# --------------------------------------------------------------------------- all papers


class _Fetcher:
    def __init__(
        self, manifest: Manifest, options: NetOptions, reporter: Reporter, lock: Lock | None
    ) -> None:
        self.manifest = manifest
        self.options = options
        self.reporter = reporter
        self.lock = lock
        self.cache = Cache(options.cache_dir)
        self.net = _Net(options, reporter)
        self.done: set[str] = set()  # URLs downloaded in this run
        self.failed: dict[str, PaperError] = {}  # URLs that failed in this run

    def run(self) -> FetchResult:
        groups: dict[str, list[Paper]] = {}
        for p in self.manifest.papers:
            if p.url is None:
                groups.setdefault("", []).append(p)  # local files: one worker of their own
            else:
                target, _ = apply_mirror(p.url, self.options.mirrors)
                groups.setdefault(_hostport_of(target), []).append(p)
        results: dict[str, FetchedPaper | PaperError] = {}

        def work(papers: list[Paper]) -> None:
            for p in papers:
                if self.net.stop.is_set():
                    return
                try:
                    results[p.key] = self.paper(p)
                except PaperError as exc:
                    results[p.key] = exc
                except _Stopped:
                    return

        self.net.run_parallel(work, list(groups.values()))
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
        except _Fail as exc:  # from local files and cache checks
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
        sha, size, reader = _validate_file(p.path, pin, pin_reason)
        return FetchedPaper(
            p.key, p.source, p.path, sha, size, len(reader.pages), from_cache=False, reader=reader
        )

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
            if use_cache:  # another process may have fetched it while we waited
                hit = self._cached(p, pin, pin_reason, prefer)
                if hit is not None:
                    return hit
            transfer = _Transfer(self.net, self.cache, p, pin, pin_reason)
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
            reader=transfer.reader,
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
                pages, size = len(_inspect_pdf(path).pages), path.stat().st_size
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
                raise _Stopped
            try:
                lock.acquire(timeout=0.2)
                return
            except LockTimeout:
                continue


# --------------------------------------------------------------------------- link probing


class _Prober:
    def __init__(self, net: _Net, key: str, url: str, is_paper: bool) -> None:
        self.net = net
        self.key = key
        self.url = url
        self.is_paper = is_paper
        self.fetch_url, self.trusted = apply_mirror(url, net.options.mirrors)

    def run(self) -> tuple[bool, int | None, str, bool | None]:
        try:
            result: tuple[bool, int | None, str, bool | None] = self.net.retrying(
                self.key, self.url
            )(self._attempt)
            return result
        except _Retry as exc:
            self.net.reporter.log(f"{self.key}: {self.url}: {exc.final}: {exc.detail}")
            return False, exc.status, f"{exc.final}: {exc.detail}", None
        except _Fail as exc:
            self.net.reporter.log(f"{self.key}: {self.url}: {exc.reason}: {exc.detail}")
            return False, exc.status, f"{exc.reason}: {exc.detail}", None

    def _attempt(self) -> tuple[bool, int | None, str, bool | None]:
        method = "HEAD"
        url = self.fetch_url
        hops = 0
        while True:
            host, port = _split_target(url)
            hostport = f"{host}:{port}"
            if hostport != self.trusted:
                _check_address(url, host, port)
            headers = (
                {} if method == "HEAD" else {"Range": "bytes=0-4" if self.is_paper else "bytes=0-0"}
            )
            location: str | None = None
            with self.net.gate(hostport).slot():
                self.net.count_request()
                self.net.reporter.log(f"{self.key}: {method} {url}")
                try:
                    with self.net.client.stream(method, url, headers=headers) as resp:
                        status = resp.status_code
                        location = _redirect_location(resp)
                        first = b""
                        if location is None and method == "GET" and status < 300:
                            for chunk in resp.iter_bytes(8):
                                first += chunk
                                if len(first) >= 5:
                                    break
                        ctype = resp.headers.get("content-type", "")
                except httpx.HTTPError as exc:
                    raise _transport_error(exc) from None
            self.net.reporter.log(f"{self.key}: {method} {url}: HTTP {status}")
            if location is not None:
                hops += 1
                if hops > MAX_REDIRECTS:
                    raise _Fail("bad-redirect", f"more than {MAX_REDIRECTS} redirects")
                url = urljoin(url, location)
                continue
            if method == "HEAD" and status in HEAD_REFUSED:
                method = "GET"
                continue
            if status in RETRY_STATUSES or status >= 500:
                raise _Retry(
                    f"http-{status}",
                    f"HTTP {status}",
                    final=f"http-{status}",
                    retry_after=parse_retry_after(resp.headers.get("retry-after")),
                    status=status,
                )
            if status >= 400:
                return False, status, f"http-{status}", None
            is_pdf: bool | None = None
            if self.is_paper:
                if "pdf" in ctype.lower() or first.startswith(b"%PDF-"):
                    is_pdf = True
                elif first or "html" in ctype.lower():
                    is_pdf = False
                if is_pdf is False:
                    return False, status, "not a PDF", False
            return True, status, "ok", is_pdf
