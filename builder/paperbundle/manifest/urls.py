"""Paper and link URLs: what the manifest accepts, and the canonical form it keeps."""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

from paperbundle.fmt import redact

ARXIV_HOSTS = {"arxiv.org", "www.arxiv.org", "export.arxiv.org", "browse.arxiv.org"}
# New-style ids (0704.0001 onwards: YYMM.NNNN or YYMM.NNNNN) and old-style (hep-th/9901001).
ARXIV_ID_RE = re.compile(
    r"^(?P<id>\d{4}\.\d{4,5}|[a-z][a-z.-]*(?:\.[A-Z]{2})?/\d{7})(?P<ver>v\d+)?(?:\.pdf)?/?$"
)


class UrlProblem(ValueError):
    pass


def normalise_url(url: str) -> str:
    """Check an http(s) URL and return its canonical form.

    arXiv URLs in any common form (abs/, pdf/, .pdf or not, vN or not, www./browse./export.,
    http:) become ``https://arxiv.org/pdf/<id>[vN]``. Other URLs get a lower-case scheme and host
    and lose their fragment. Raises :class:`UrlProblem` with a reason for anything unusable.
    """
    if not isinstance(url, str) or not url.strip():
        raise UrlProblem("empty URL")
    if url != url.strip() or any(c.isspace() for c in url):
        raise UrlProblem(f"URL contains whitespace: {url!r}")
    bad = sorted({c for c in url if c in '<>"{}|\\^`' or ord(c) < 32 or ord(c) == 127})
    if bad:
        raise UrlProblem(f"URL contains characters a URL may not hold ({''.join(bad)}): {url!r}")
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise UrlProblem(f"not a valid URL: {url!r} ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        shown = f"'{parts.scheme}:'" if parts.scheme else "none"
        raise UrlProblem(f"only http and https URLs are allowed (scheme {shown} in {url!r})")
    try:
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError as exc:
        raise UrlProblem(f"not a valid URL: {url!r} ({exc})") from None
    # a dotted name, localhost, or an IPv6 literal (urlsplit drops its brackets)
    if not host or ("." not in host and host != "localhost" and ":" not in host):
        raise UrlProblem(f"URL has no valid host: {url!r}")
    if parts.username or parts.password:
        raise UrlProblem(f"URL must not carry credentials: {redact(url)!r}")
    if host in ARXIV_HOSTS:
        arxiv_id = arxiv_id_from_path(parts.path)
        if arxiv_id is None:
            raise UrlProblem(f"arXiv URL without a paper id: {url!r}")
        return f"https://arxiv.org/pdf/{arxiv_id}"
    return urlunsplit((scheme, netloc(host, port), parts.path or "/", parts.query, ""))


def netloc(host: str, port: int | None) -> str:
    """``host[:port]`` for a URL, an IPv6 address in brackets."""
    shown = f"[{host}]" if ":" in host else host
    return shown if port is None else f"{shown}:{port}"


def arxiv_id_from_path(path: str) -> str | None:
    """``/abs/2205.14135v2`` -> ``2205.14135v2``; None when the path names no paper."""
    m = re.match(r"^/(?:abs|pdf|html)/(.+)$", path)
    if not m:
        return None
    idm = ARXIV_ID_RE.match(m.group(1))
    if not idm:
        return None
    return idm.group("id") + (idm.group("ver") or "")


def arxiv_id(url: str) -> str | None:
    """The arXiv id (without version) of a canonical URL, or None."""
    if not url.startswith("https://arxiv.org/pdf/"):
        return None
    rest = url[len("https://arxiv.org/pdf/") :]
    return re.sub(r"v\d+$", "", rest)
