"""Reading one HTTP answer: redirects, Retry-After, ranges, validators, transport errors."""

from __future__ import annotations

import email.utils
import ssl
import time
from datetime import UTC

import httpx

MAX_REDIRECTS = 10
RETRY_STATUSES = frozenset({408, 429})
HEAD_REFUSED = frozenset({403, 405, 501})
REDIRECTS = frozenset({301, 302, 303, 307, 308})


class Retry(Exception):
    """A failure worth another attempt. ``final`` is the reason word if no attempt is left.
    ``connection``: the host could not be reached or stopped answering (refused, reset, DNS,
    TLS, stall), which counts towards giving the host up."""

    def __init__(
        self,
        reason: str,
        detail: str,
        *,
        final: str = "network",
        retry_after: float | None = None,
        status: int | None = None,
        connection: bool = False,
    ) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
        self.final = final
        self.retry_after = retry_after
        self.status = status
        self.connection = connection


class Fail(Exception):
    """A failure no retry can fix."""

    def __init__(
        self,
        reason: str,
        detail: str,
        *,
        pdf: bool = False,
        status: int | None = None,
        connection: bool = False,
    ) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
        self.pdf = pdf
        self.status = status
        self.connection = connection


class Stopped(Exception):
    """The run was interrupted (Ctrl-C in the main thread): stop quietly."""


def redirect_location(resp: httpx.Response) -> str | None:
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


def content_range(value: str | None) -> tuple[int, int, int | None] | None:
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


def int_header(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        n = int(value.strip())
    except ValueError:
        return None
    return n if n >= 0 else None


def validator(headers: httpx.Headers) -> str | None:
    """What If-Range may carry: a strong ETag, else Last-Modified."""
    etag: str | None = headers.get("etag")
    if etag and not etag.startswith("W/"):
        return etag
    modified: str | None = headers.get("last-modified")
    return modified or None


def is_certificate_error(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            return False
        if isinstance(seen, ssl.SSLCertVerificationError):
            return True
        seen = seen.__cause__ or seen.__context__
    return "CERTIFICATE_VERIFY_FAILED" in str(exc)


def transport_error(exc: httpx.HTTPError) -> Retry | Fail:
    name = type(exc).__name__
    text = str(exc) or name
    if isinstance(exc, httpx.TimeoutException):
        return Retry("timeout", f"{name}: {text}", connection=True)
    if isinstance(exc, httpx.RemoteProtocolError) and "incomplete" in text.lower():
        return Retry("short body", text, final="truncated")
    if isinstance(exc, httpx.RemoteProtocolError) and "complete message body" in text:
        return Retry("short body", text, final="truncated")
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return Fail("bad-redirect", text)
    if is_certificate_error(exc):
        # Retrying cannot fix a certificate the system does not trust.
        return Fail(
            "tls", f"{text} (a private CA? point SSL_CERT_FILE at its bundle)", connection=True
        )
    if isinstance(exc, httpx.TransportError):
        return Retry("connection", f"{name}: {text}", connection=True)
    return Fail("network", f"{name}: {text}")


def looks_html(head: bytes, content_type: str) -> bool:
    if "html" in content_type.lower():
        return True
    s = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return s.startswith((b"<!doctype", b"<html", b"<head", b"<body", b"<?xml", b"<"))


def not_pdf(head: bytes, content_type: str | None) -> Fail:
    """Fail("html" / "not-pdf"). ``content_type`` None: a local file, whose bytes are never
    quoted (a mistaken ``path = "/etc/passwd"`` must not print the file)."""
    if content_type is None:
        what = "an HTML page" if looks_html(head, "") else "a file that does not start with %PDF-"
        return Fail("html" if looks_html(head, "") else "not-pdf", f"{what}, not a PDF")
    shown = head[:32]
    ctype = content_type or "none"
    if looks_html(head, content_type):
        return Fail(
            "html",
            f"the server sent an HTML page, not a PDF (Content-Type {ctype}, starts {shown!r})",
        )
    return Fail(
        "not-pdf", f"the body does not start with %PDF- (Content-Type {ctype}, starts {shown!r})"
    )
