"""The one-page stand-in of a paper the bundle may not carry (``redistribute = "granted"``): its
title, authors, abstract and licence, and links to its arXiv abstract page and its PDF, where the
reader can get it from its rightful source. Reproducible like the front matter."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from reportlab.pdfgen.canvas import Canvas

from paperbundle import __version__
from paperbundle import text as tx
from paperbundle.frontstyle import (
    ACCENT,
    GREY,
    INK,
    LINK,
    PAGE_H,
    PAGE_W,
    RULE,
    link,
    short_url,
    without_source_date_epoch,
)
from paperbundle.manifest import Paper, arxiv_id
from paperbundle.rights import PaperRights

MARGIN = 72.0


@dataclass(frozen=True)
class StandinLinks:
    abstract: str | None  # the arXiv abstract page
    pdf: str | None  # the paper's PDF where the manifest found it


def standin_links(paper: Paper, rights: PaperRights) -> StandinLinks:
    aid = arxiv_id(paper.url) if paper.url else None
    if aid is None:
        return StandinLinks(None, paper.url)
    ver = f"v{rights.version}" if rights.version is not None else ""
    return StandinLinks(f"https://arxiv.org/abs/{aid}{ver}", paper.url)


def _c(value: str) -> str:
    return tx.clean(value)[0]


def _para(c: Any, text: str, y: float, size: float, lead: float, bottom: float, **kw: Any) -> float:
    """Wrapped text from baseline ``y`` down to ``bottom`` at most (the rest cut with "…")."""
    w = PAGE_W - 2 * MARGIN
    lines = tx.wrap(_c(text), size, w, kw.get("bold", False))
    room = max(1, int((y - bottom) // lead) + 1)
    if len(lines) > room:
        lines = [*lines[: room - 1], tx.truncate(lines[room - 1] + " …", size, w)]
    for line in lines:
        tx.draw(c, MARGIN, y, line, size, **kw)
        y -= lead
    return y


def _draw(c: Any, paper: Paper, original_title: str, rights: PaperRights) -> None:
    record = rights.record
    links = standin_links(paper, rights)
    c.setFillColor(ACCENT)
    c.rect(0, PAGE_H - 10, PAGE_W, 10, stroke=0, fill=1)
    y = PAGE_H - 110.0
    tx.draw(c, MARGIN, y, "Link only · not included in this bundle", 10, bold=True, color=ACCENT)
    y = _para(c, original_title, y - 34, 20, 25, y - 140, bold=True, color=INK) - 6
    if record is not None and record.title and record.title != original_title:
        y = _para(c, record.title, y, 12, 16, y - 50, color=INK) - 6  # arXiv's full title
    authors = paper.authors or ""
    if authors:
        y = _para(c, authors, y, 11, 15, y - 60, color=GREY) - 4
    facts = []
    if record is not None:
        facts.append(f"arXiv:{record.arxiv_id}")
        facts.append(f"v{rights.version}" if rights.version else f"latest v{record.latest_version}")
        facts.append(f"submitted {record.published}")
        if record.primary_category:
            facts.append(record.primary_category)
    if facts:
        tx.draw(c, MARGIN, y, " · ".join(facts), 9, color=GREY)
        y -= 24
    if record is not None and record.abstract:
        tx.draw(c, MARGIN, y, "Abstract", 11, bold=True, color=INK)
        y = _para(c, record.abstract, y - 17, 10, 14, 250, color=INK) - 10
    c.setStrokeColor(RULE)
    c.setLineWidth(0.6)
    c.line(MARGIN, 225, PAGE_W - MARGIN, 225)
    lic = rights.licence
    tx.draw(c, MARGIN, 200, f"Licence: {lic.short}", 11, bold=True, color=INK)
    why = (
        "Its licence allows unmodified copies only, and this bundle would carry an excerpt of "
        "its pages. Read it whole at its source:"
        if lic.grant == "unmodified"
        else "Its licence grants no right to redistribute it. Read it at its source:"
    )
    _para(c, why, 182, 9.5, 13, 160, color=GREY)
    ly = 140.0
    for label, url in (("Abstract page", links.abstract), ("PDF", links.pdf), ("Licence", lic.url)):
        if not url:
            continue
        tx.draw(c, MARGIN, ly, label, 9.5, color=GREY)
        w = tx.draw(c, MARGIN + 90, ly, short_url(url, 70), 9.5, color=LINK)
        link(c, url, MARGIN + 88, ly - 3, MARGIN + 92 + w, ly + 10)
        ly -= 18
    tx.draw(c, MARGIN, 54, f"Stand-in page made by paperbundle {__version__}", 7.5, color=GREY)


def render_standin(paper: Paper, original_title: str, rights: PaperRights) -> bytes:
    """The stand-in page of ``paper`` (as shown: with the manifest's or arXiv's authors)."""
    with without_source_date_epoch():
        tx.register_fonts()
        buf = io.BytesIO()
        c = Canvas(
            buf,
            pagesize=(PAGE_W, PAGE_H),
            invariant=1,
            pageCompression=1,
            initialFontName=tx.REGULAR_CHAIN[0],
        )
        c.setTitle(_c(original_title))
        c.setCreator(f"paperbundle {__version__}")
        _draw(c, paper, original_title, rights)
        c.showPage()
        c.save()
        return buf.getvalue()
