"""``check --links``: probe each link politely, HEAD first."""

from __future__ import annotations

from urllib.parse import urljoin

from paperbundle.errors import UsageError
from paperbundle.fetch.addresses import apply_mirror, hostport_of
from paperbundle.fetch.body import decoded
from paperbundle.fetch.http import (
    HEAD_REFUSED,
    MAX_REDIRECTS,
    RETRY_STATUSES,
    Fail,
    Retry,
    Stopped,
    parse_retry_after,
    redirect_location,
)
from paperbundle.fetch.options import LinkStatus, NetOptions
from paperbundle.fetch.session import Budget, Session, lanes
from paperbundle.manifest import Manifest
from paperbundle.progress import Reporter

# --------------------------------------------------------------------------- link probing


class Prober:
    def __init__(self, net: Session, key: str, url: str, is_paper: bool) -> None:
        self.net = net
        self.key = key
        self.url = url
        self.is_paper = is_paper
        self.fetch_url, self.trusted = apply_mirror(url, net.options.mirrors)

    def run(self) -> tuple[bool, int | None, str, bool | None]:
        budget = Budget(self.net.options.retry_total)
        try:
            result: tuple[bool, int | None, str, bool | None] = self.net.retrying(
                self.key, self.url, budget
            )(lambda: self._attempt(budget))
            return result
        except Retry as exc:
            self.net.reporter.log(f"{self.key}: {self.url}: {exc.final}: {exc.detail}")
            return False, exc.status, f"{exc.final}: {exc.detail}", None
        except Fail as exc:
            self.net.reporter.log(f"{self.key}: {self.url}: {exc.reason}: {exc.detail}")
            return False, exc.status, f"{exc.reason}: {exc.detail}", None

    def _attempt(self, budget: Budget) -> tuple[bool, int | None, str, bool | None]:
        method = "HEAD"
        url = self.fetch_url
        hops = 0
        while True:
            headers = (
                {} if method == "HEAD" else {"Range": "bytes=0-4" if self.is_paper else "bytes=0-0"}
            )
            with self.net.open(
                self.key, method, url, headers=headers, trusted=self.trusted, budget=budget
            ) as resp:
                status = resp.status_code
                location = redirect_location(resp)
                first = b""
                if location is None and method == "GET" and status < 300:
                    encoding = resp.headers.get("content-encoding")
                    for chunk in decoded(resp.iter_raw(), encoding):
                        first += chunk
                        if len(first) >= 5:
                            break
                ctype = resp.headers.get("content-type", "")
            self.net.reporter.log(f"{self.key}: {method} {url}: HTTP {status}")
            if location is not None:
                hops += 1
                if hops > MAX_REDIRECTS:
                    raise Fail("bad-redirect", f"more than {MAX_REDIRECTS} redirects")
                url = urljoin(url, location)
                continue
            if method == "HEAD" and status in HEAD_REFUSED:
                method = "GET"
                continue
            if status in RETRY_STATUSES or status >= 500:
                raise Retry(
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
    net = Session(options, reporter)
    outcomes: dict[tuple[str, bool], tuple[bool, int | None, str, bool | None]] = {}
    groups: dict[str, list[tuple[str, bool]]] = {}
    for url, is_paper in unique:
        target, _ = apply_mirror(url, options.mirrors)
        groups.setdefault(hostport_of(target), []).append((url, is_paper))

    def work(items: list[tuple[str, bool]]) -> None:
        for url, is_paper in items:
            if net.stop.is_set():
                return
            prober = Prober(net, first_key[(url, is_paper)], url, is_paper)
            try:
                outcomes[(url, is_paper)] = prober.run()
            except Stopped:
                return

    try:
        net.run_parallel(work, lanes(groups, lambda item: item[0]))
    finally:
        net.close()
    return [LinkStatus(key, url, *outcomes[(url, is_paper)]) for key, url, is_paper in links]
