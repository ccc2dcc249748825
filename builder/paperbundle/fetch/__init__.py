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

Modules, in import order (none imports a later one): ``options`` (what the stage takes and
gives), ``http`` (reading one answer), ``addresses`` (mirrors, address checks), ``session``
(client, per-host gates, retries), ``transfer`` (one download), ``papers`` (every paper of a
manifest), ``probe`` (``check --links``); ``cache`` and ``lock`` hold what is kept on disk.
"""

from __future__ import annotations

from paperbundle.fetch.addresses import address_kind, apply_mirror
from paperbundle.fetch.http import parse_retry_after
from paperbundle.fetch.options import (
    FetchedPaper,
    FetchResult,
    LinkStatus,
    NetOptions,
    default_cache_dir,
    parse_mirror,
)
from paperbundle.fetch.papers import fetch_all
from paperbundle.fetch.probe import probe_links

__all__ = [
    "FetchResult",
    "FetchedPaper",
    "LinkStatus",
    "NetOptions",
    "address_kind",
    "apply_mirror",
    "default_cache_dir",
    "fetch_all",
    "parse_mirror",
    "parse_retry_after",
    "probe_links",
]
