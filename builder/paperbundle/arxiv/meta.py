"""Asking arXiv about many papers: the API in batches of up to 100 ids, then OAI-PMH per paper for
its licence. Every failure is an ArxivError naming the paper; the others still get their answer."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

from paperbundle.arxiv import api, oai
from paperbundle.arxiv.client import ArxivClient
from paperbundle.arxiv.records import ApiRecord, ArxivRecord
from paperbundle.errors import ArxivError, PaperError
from paperbundle.fetch.http import Stopped
from paperbundle.manifest import Manifest, Paper, arxiv_id

_VERSION = re.compile(r"v(\d+)$")


@dataclass(frozen=True)
class Asked:
    """A paper to ask about: its key and arXiv id (without version)."""

    key: str
    arxiv_id: str


def arxiv_papers(manifest: Manifest) -> list[tuple[Paper, str]]:
    """(paper, arXiv id) of every arXiv paper of ``manifest``, in manifest order."""
    out = []
    for p in manifest.papers:
        aid = arxiv_id(p.url) if p.url else None
        if aid is not None:
            out.append((p, aid))
    return out


def url_version(url: str | None) -> int | None:
    """The version a versioned arXiv URL names (``.../2205.14135v2`` -> 2), else None."""
    if url is None or arxiv_id(url) is None:
        return None
    m = _VERSION.search(url)
    return int(m.group(1)) if m else None


def ask_api(
    client: ArxivClient, asked: Sequence[Asked]
) -> tuple[dict[str, ApiRecord], list[PaperError]]:
    """The API's record of each paper (by key), in batches of at most 100 ids."""
    ids = list(dict.fromkeys(a.arxiv_id for a in asked))
    keys: dict[str, list[str]] = {}
    for a in asked:
        keys.setdefault(a.arxiv_id, []).append(a.key)
    records: dict[str, ApiRecord] = {}
    failures: list[PaperError] = []
    for n, batch in enumerate(api.batches(ids), 1):
        if client.net.stop.is_set():
            raise Stopped
        url = api.query_url(client.api, batch)
        label = f"arXiv API batch {n} ({len(batch)} ids)"
        try:
            found, problems = client.get(label, url, partial(api.parse_feed, ids=batch))
        except ArxivError as exc:
            failures += [
                ArxivError(k, url, exc.reason, exc.detail) for aid in batch for k in keys[aid]
            ]
            continue
        for aid in batch:
            for k in keys[aid]:
                if aid in found:
                    records[k] = found[aid]
                else:
                    failures.append(ArxivError(k, url, problems[aid].reason, problems[aid].detail))
    return records, failures


def ask_licences(
    client: ArxivClient, records: dict[str, ApiRecord]
) -> tuple[dict[str, ArxivRecord], list[PaperError]]:
    """Each paper's OAI-PMH licence URL, joined with its API record."""
    out: dict[str, ArxivRecord] = {}
    failures: list[PaperError] = []
    for key, rec in records.items():
        if client.net.stop.is_set():
            raise Stopped
        url = oai.record_url(client.api, rec.arxiv_id)
        try:
            licence = client.get(key, url, partial(oai.parse_record, arxiv_id=rec.arxiv_id))
        except ArxivError as exc:
            failures.append(exc)
            continue
        out[key] = ArxivRecord.of(rec, licence)
    return out, failures


def ask_arxiv(
    client: ArxivClient, asked: Sequence[Asked]
) -> tuple[dict[str, ArxivRecord], list[PaperError]]:
    """Full records (API and licence) by key, and every paper that could not be had."""
    found, failures = ask_api(client, asked)
    records, more = ask_licences(client, found)
    order = {a.key: i for i, a in enumerate(asked)}
    return records, sorted(failures + more, key=lambda e: order.get(e.key, 0))
