"""Requests to arXiv's API and OAI-PMH through the fetch stage's session: the same per-host
spacing (one request at a time, ``min_interval`` seconds apart), retries, Retry-After and
deadlines as for PDFs. Answers are kept in memory only, never in the PDF cache."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TypeVar
from urllib.parse import urljoin, urlsplit

import httpx

from paperbundle.arxiv.xmlread import BadAnswer
from paperbundle.errors import ArxivError, UsageError
from paperbundle.fetch.addresses import hostport_of
from paperbundle.fetch.body import decoded
from paperbundle.fetch.http import (
    MAX_REDIRECTS,
    RETRY_STATUSES,
    Fail,
    Retry,
    parse_retry_after,
    redirect_location,
)
from paperbundle.fetch.session import Budget, Session

DEFAULT_API = "https://export.arxiv.org/"
MAX_ANSWER = 20_000_000  # bytes: 100 abstracts are a few hundred kB
ACCEPT = "application/atom+xml, application/xml;q=0.9, text/xml;q=0.8"

_T = TypeVar("_T")


def api_base(option: str | None) -> str:
    """``--arxiv-api``, else ``$PAPERBUNDLE_ARXIV_API``, else https://export.arxiv.org/ (with a
    trailing slash, so that ``api/query`` and ``oai2`` go below it)."""
    value = (option or os.environ.get("PAPERBUNDLE_ARXIV_API", "").strip() or DEFAULT_API).strip()
    what = "--arxiv-api" if option else "PAPERBUNDLE_ARXIV_API"
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018  (raises ValueError on a bad port)
    except ValueError as exc:
        raise UsageError(f"{what} {value!r}: not a valid URL ({exc})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"{what} {value!r}: must be an http(s) URL, e.g. http://127.0.0.1:8000/")
    if parts.query or parts.fragment or parts.username:
        raise UsageError(f"{what} {value!r}: give a base URL without query, fragment or login")
    return value if value.endswith("/") else value + "/"


class ArxivClient:
    def __init__(self, net: Session, api: str) -> None:
        self.net = net
        self.api = api
        self.trusted = hostport_of(api)  # the user chose it (or it is arXiv's own)

    def get(self, key: str, url: str, parse: Callable[[bytes, str], _T]) -> _T:
        """GET ``url`` politely and parse the answer; ArxivError (naming ``key`` and ``url``)
        when no answer came or it is not what arXiv sends."""
        o = self.net.options
        budget = Budget(o.retry_total)
        try:
            body, ctype = self.net.retrying(key, url, budget)(self._attempt, key, url, budget)
            return parse(body, ctype)
        except BadAnswer as exc:
            raise ArxivError(key, url, exc.reason, exc.detail) from None
        except Retry as exc:
            if exc.retry_after is not None and exc.retry_after > o.retry_max_wait:
                detail = (
                    f"{exc.detail}: arXiv asks to wait {exc.retry_after:.0f} s (Retry-After), "
                    f"more than {o.retry_max_wait:.0f} s; try later"
                )
                raise ArxivError(key, url, exc.final, detail) from None
            raise ArxivError(key, url, exc.final, f"gave up: {exc.detail}") from None
        except Fail as exc:
            raise ArxivError(key, url, exc.reason, exc.detail) from None

    def _attempt(self, key: str, url: str, budget: Budget) -> tuple[bytes, str]:
        """One request and its redirects, through the session (address check and pinning, the
        host's gate, deadlines, the host's failure count)."""
        target = url
        for _hop in range(MAX_REDIRECTS + 1):
            with self.net.open(
                key,
                "GET",
                target,
                headers={"Accept": ACCEPT},
                trusted=self.trusted,
                budget=budget,
            ) as resp:
                location = redirect_location(resp)
                if location is None:
                    return self._read(resp)
            target = urljoin(target, location)
        raise Fail("bad-redirect", f"more than {MAX_REDIRECTS} redirects")

    def _read(self, resp: httpx.Response) -> tuple[bytes, str]:
        status = resp.status_code
        if status in RETRY_STATUSES or status >= 500:
            raise Retry(
                f"http-{status}",
                f"HTTP {status} {resp.reason_phrase}".rstrip(),
                final=f"http-{status}",
                retry_after=parse_retry_after(resp.headers.get("retry-after")),
                status=status,
            )
        if status != 200:
            raise Fail(f"http-{status}", f"HTTP {status} {resp.reason_phrase}".rstrip())
        body = bytearray()
        for chunk in decoded(resp.iter_raw(), resp.headers.get("content-encoding")):
            body += chunk
            self.net.count_bytes(len(chunk))
            if len(body) > MAX_ANSWER:
                raise Fail("too-large", f"answer over {MAX_ANSWER} bytes")
        return bytes(body), resp.headers.get("content-type", "")
