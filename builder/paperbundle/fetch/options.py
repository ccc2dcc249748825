"""What the fetch stage takes and gives: options, results, mirrors, the cache folder."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import SplitResult, urlsplit, urlunsplit

import platformdirs

from paperbundle.errors import PaperError, UsageError
from paperbundle.manifest import ARXIV_HOSTS, netloc

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
    download_timeout: float = 600.0  # --download-timeout: most seconds one request may take
    min_rate: float = 10_000.0  # bytes/s: a body slower than this over ``rate_window`` is cut
    rate_window: float = 60.0  # seconds
    host_failures: int = 3  # consecutive connection-level failures that give a host up


@dataclass(frozen=True)
class FetchedPaper:
    key: str
    source: str  # canonical URL (Paper.url), or str(Paper.path) for local files
    path: Path  # the file to read: a cache object, or the local file itself
    sha256: str
    size: int
    page_count: int  # pages of the original file
    from_cache: bool


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
    hostport = parts.netloc.rpartition("@")[2]
    if hostport.rpartition("]")[2].endswith(":") or parts.port == 0:
        # urlsplit takes "host:" for the default port; a typo here costs minutes of retries.
        raise UsageError(f"--mirror {spec!r}: {what} has an empty or zero port ({example})")
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
