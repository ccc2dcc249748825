"""The arXiv API (Atom): ``API/api/query?id_list=ID,ID,...&max_results=N``, up to 100 ids a request.

``max_results`` is always the batch size: arXiv's default is 10, and a batch of 19 ids would
otherwise come back with 9 of them missing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import urlencode, urljoin
from xml.etree.ElementTree import Element

from paperbundle.arxiv.records import ApiRecord
from paperbundle.arxiv.xmlread import NS, BadAnswer, find_text, parse_xml, text

BATCH = 100
FEED = "{http://www.w3.org/2005/Atom}feed"
_ABS_ID = re.compile(r"/abs/(?P<id>.+?)(?:v(?P<ver>\d+))?$")


def batches(ids: Sequence[str], size: int = BATCH) -> list[list[str]]:
    """``ids`` in order, in batches of at most ``size``."""
    return [list(ids[i : i + size]) for i in range(0, len(ids), size)]


def query_url(api: str, ids: Sequence[str]) -> str:
    query = urlencode({"id_list": ",".join(ids), "max_results": str(len(ids))}, safe=",/")
    return urljoin(api, "api/query") + "?" + query


def _entry(el: Element) -> ApiRecord | str:
    """The record of one ``<entry>``, or the error text of an error entry."""
    ident = find_text(el, "atom:id")
    if "/api/errors" in ident:
        return find_text(el, "atom:summary") or ident
    m = _ABS_ID.search(ident)
    if m is None or m.group("ver") is None:
        raise BadAnswer("unexpected-xml", f"entry id {ident!r} is not an arXiv abs URL with v<N>")
    cat = el.find("arxiv:primary_category", NS)
    return ApiRecord(
        arxiv_id=m.group("id"),
        title=find_text(el, "atom:title"),
        authors=tuple(n for a in el.findall("atom:author", NS) if (n := find_text(a, "atom:name"))),
        abstract=find_text(el, "atom:summary"),
        published=find_text(el, "atom:published")[:10],
        updated=find_text(el, "atom:updated")[:10],
        latest_version=int(m.group("ver")),
        primary_category=cat.get("term") if cat is not None else None,
        doi=find_text(el, "arxiv:doi") or None,
        journal_ref=find_text(el, "arxiv:journal_ref") or None,
    )


def parse_feed(
    body: bytes, content_type: str, ids: Sequence[str]
) -> tuple[dict[str, ApiRecord], dict[str, BadAnswer]]:
    """(record by id, problem by id) for the ids a query asked for. An answer that is not a feed
    at all, or holds no entry, raises BadAnswer for the whole batch."""
    root = parse_xml(body, content_type, FEED)
    entries = root.findall("atom:entry", NS)
    if not entries:
        total = text(root.find("opensearch:totalResults", NS)) or "no"
        raise BadAnswer("empty-feed", f"the feed holds no entry ({total} results)")
    found: dict[str, ApiRecord] = {}
    errors: list[str] = []
    for el in entries:
        got = _entry(el)
        if isinstance(got, str):
            errors.append(got)
        else:
            found[got.arxiv_id] = got
    problems: dict[str, BadAnswer] = {}
    for aid in ids:
        if aid in found:
            continue
        said = [e for e in errors if aid in e]
        problems[aid] = (
            BadAnswer("api-error", f"arXiv says: {said[0]}")
            if said
            else BadAnswer("missing", f"{aid} is missing from the answer")
        )
    return {a: r for a, r in found.items() if a in ids}, problems
