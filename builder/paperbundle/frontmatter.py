"""Stage: the generated front matter (cover and table of contents) as one PDF.

The assembler places these pages first and adds the internal row links (returned in
:attr:`FrontMatter.links`, never drawn by reportlab) once it knows where each paper starts. External
links (homepage, paper and code URLs) are URI annotations drawn here. Pages are US Letter.

Output is reproducible: the same inputs give byte-identical PDF (reportlab's invariant mode, no
clock, fonts only from ``builder/paperbundle/fonts/``).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from reportlab.pdfgen.canvas import Canvas

from paperbundle import __version__
from paperbundle import text as tx
from paperbundle.cover import draw_cover
from paperbundle.fmt import cap_text
from paperbundle.frontstyle import (
    ACCENT,
    GREY,
    INK,
    LIGHT,
    LINK,
    PAGE_H,
    PAGE_W,
    RULE,
    Texts,
    link,
    paper_link_text,
    roman,
    short_url,
    without_source_date_epoch,
)
from paperbundle.manifest import OTHER_SECTION, Manifest, Paper

if TYPE_CHECKING:
    from paperbundle.rights import PaperRights

_Texts = Texts  # the name tests and older callers use


@dataclass(frozen=True)
class ContentsEntry:
    paper: Paper
    first_page: int  # page label of the paper's first page: papers are numbered 1, 2, ...
    page_count: int
    source_pages: int | None = None  # pages of the original file, when `pages` cut it
    rights: PaperRights | None = None  # its licence and version (lock and manifest)


@dataclass(frozen=True)
class FrontLink:
    page_index: int  # 0-based page within the front-matter PDF
    rect: tuple[float, float, float, float]  # x1, y1, x2, y2 in PDF user space
    target_key: str  # the paper whose first page the link goes to


@dataclass(frozen=True)
class FrontMatter:
    pdf: bytes
    cover_pages: int
    contents_pages: int
    links: tuple[FrontLink, ...]
    warnings: tuple[str, ...]


# --------------------------------------------------------------------------- contents

C_LEFT = 64.0
C_RIGHT = PAGE_W - 64.0
C_TOP = PAGE_H - 64.0
C_BOTTOM = 70.0

TITLE_SIZE = 10.0
TITLE_LEAD = 13.0
META_SIZE = 7.5
META_LEAD = 10.5
ROW_GAP = 7.0
DATE_SIZE = 8.0
NUM_SIZE = 10.0
SECTION_SIZE = 11.5
LEADER_STEP = 4.5
HANG = 12.0
HEADING_ABOVE = 10.0
FIRST_HEAD_GAP = 14.0
NEXT_HEAD_GAP = 12.0
HEADING_HEIGHT = HEADING_ABOVE + SECTION_SIZE * 0.8 + 5.0 + 11.0


@dataclass
class _Row:
    paper: Paper
    page: str | None  # page label; None: not included
    date: str
    label: str
    label_w: float
    lines: list[str]
    indent: float  # x offset of continuation lines from the title column
    meta: list[tuple[str, list[tuple[str, str]]]]  # lines of (authors, [(link text, url)])
    height: float = 0.0


@dataclass
class _Heading:
    title: str
    height: float = 0.0


@dataclass
class _Layout:
    date_x: float
    title_x: float
    num_w: float
    pages: list[list[_Row | _Heading]] = field(default_factory=list)


def _build_rows(
    manifest: Manifest,
    entries: Sequence[ContentsEntry],
    missing: Sequence[Paper],
    t: Texts,
) -> tuple[list[_Row | _Heading], _Layout]:
    sections = manifest.sections()
    section_of = {p.key: s.title for s in sections for p in s.papers}
    position = {p.key: i for i, p in enumerate(manifest.ordered_papers())}
    items: list[tuple[Paper, str | None]] = [(e.paper, str(e.first_page)) for e in entries]
    present = {e.paper.key for e in entries}
    source_pages = {e.paper.key: e.source_pages for e in entries if e.source_pages is not None}
    licences = {e.paper.key: e.rights.licence for e in entries if e.rights is not None}
    extra: list[tuple[Paper, str | None]] = [(p, None) for p in missing if p.key not in present]
    if extra:  # missing papers go where they would have been, in manifest order
        items = sorted(items + extra, key=lambda it: position.get(it[0].key, len(position)))

    dates = {p.key: t.paper(p, "date", p.date) if p.date else "" for p, _ in items}
    date_w = max((tx.width(d, DATE_SIZE) for d in dates.values()), default=0.0)
    date_w = min(date_w, 64.0)
    title_x = C_LEFT + (date_w + 12.0 if date_w else 0.0)
    nums = [pg for _, pg in items if pg is not None]
    num_w = max([tx.width(n, NUM_SIZE) for n in nums] + [tx.width("000", NUM_SIZE)])
    layout = _Layout(date_x=C_LEFT, title_x=title_x, num_w=num_w)
    missing_w = tx.width("not included", META_SIZE)

    out: list[_Row | _Heading] = []
    current: str | None = None
    for paper, page in items:
        sec = section_of.get(paper.key, paper.section or OTHER_SECTION)
        if sec is not None and sec != current:
            out.append(_Heading(t.paper(paper, "section", sec), HEADING_HEIGHT))
        current = sec
        right_col = (num_w if page is not None else missing_w) + 16.0
        text_w = C_RIGHT - right_col - title_x
        label = t.paper(paper, "label", paper.label) if paper.label else ""
        if label:
            inner = text_w * 0.45 - tx.width("[]", TITLE_SIZE, bold=True)
            label = f"[{tx.truncate(label, TITLE_SIZE, inner, bold=True)}]"
        label_w = tx.width(label + " ", TITLE_SIZE, bold=True) if label else 0.0
        title = t.paper(paper, "title", cap_text(paper.title, MAX_TITLE_CHARS))
        lines = _title_lines(title, text_w, label_w)
        indent = HANG  # continuation lines hang under the first one
        authors = t.paper(paper, "authors", paper.authors) if paper.authors else ""
        excerpt = paper.excerpt(source_pages[paper.key]) if paper.key in source_pages else None
        authors = muted_line(authors, paper.affiliation, paper.venue, excerpt)
        # the paper link last, so that arXiv ids form a column at the right edge
        links: list[tuple[str, str]] = []
        if paper.code:
            links.append((f"code: {short_url(paper.code, 44)}", paper.code))
        if (lic := licences.get(paper.key)) is not None:  # attribution travels with the PDF
            links.append((lic.short, lic.url or ""))
        ptext = paper_link_text(paper)
        if ptext is not None and paper.url is not None:
            links.append((ptext, paper.url))
        meta = _meta_lines(authors, links, C_RIGHT - title_x)
        row = _Row(
            paper=paper,
            page=page,
            date=tx.truncate(dates[paper.key], DATE_SIZE, date_w) if date_w else "",
            label=label,
            label_w=label_w,
            lines=lines,
            indent=indent,
            meta=meta,
        )
        row.height = (
            TITLE_SIZE + (len(lines) - 1) * TITLE_LEAD + len(meta) * META_LEAD + 3.0 + ROW_GAP
        )
        out.append(row)
    return out, layout


MAX_TITLE_LINES = 3  # a longer title is cut with "…" (docs/bundle.md, the contents row)
MAX_TITLE_CHARS = 2_000  # never wrapped beyond this: three lines hold about 300


def _title_lines(title: str, text_w: float, label_w: float) -> list[str]:
    """A title wrapped into at most MAX_TITLE_LINES lines, the last cut with "…" when more is
    left; continuation lines hang by HANG."""
    lines = tx.wrap(title, TITLE_SIZE, text_w, first_width=text_w - label_w)
    if len(lines) > 1:
        rest = " ".join(lines[1:])
        lines = lines[:1] + tx.wrap(rest, TITLE_SIZE, text_w - HANG)
    if len(lines) > MAX_TITLE_LINES:
        last = " ".join(lines[MAX_TITLE_LINES - 1 :])
        # the cut must show even when the last line happened to fill its width exactly
        cut = tx.truncate(last, TITLE_SIZE, text_w - HANG - tx.width(" …", TITLE_SIZE))
        lines = [*lines[: MAX_TITLE_LINES - 1], cut.removesuffix("…").rstrip() + " …"]
    return lines or [""]


def _paginate(items: list[_Row | _Heading], first_room: float, room: float) -> list[list[Any]]:
    pages: list[list[_Row | _Heading]] = [[]]
    left = first_room
    for i, item in enumerate(items):
        need = item.height
        if isinstance(item, _Heading) and i + 1 < len(items):
            need += items[i + 1].height  # keep a heading with its first row
        if need > left and pages[-1]:
            pages.append([])
            left = room
        pages[-1].append(item)
        left -= item.height
    return pages


def _draw_row(c: Any, row: _Row, layout: _Layout, y: float) -> float:
    """Draw a paper row whose first baseline is ``y``; return the bottom of its title lines."""
    x = layout.title_x
    muted = row.page is None
    ink = GREY if muted else INK
    if row.date:
        tx.draw(c, layout.date_x, y, row.date, DATE_SIZE, color=GREY)
    by = y
    for i, line in enumerate(row.lines):
        lx = x if i == 0 else x + row.indent
        if i == 0 and row.label:
            tx.draw(c, x, by, row.label, TITLE_SIZE, bold=True, color=GREY if muted else ACCENT)
            lx = x + row.label_w
        end = lx + tx.width(line, TITLE_SIZE)
        tx.draw(c, lx, by, line, TITLE_SIZE, color=ink)
        if i == len(row.lines) - 1:
            if row.page is not None:
                nx = C_RIGHT - tx.width(row.page, NUM_SIZE)
                tx.draw(c, C_RIGHT, by, row.page, NUM_SIZE, color=INK, align="right")
                _leaders(c, end + 6.0, nx - 5.0, by)
            else:
                tx.draw(c, C_RIGHT, by, "not included", META_SIZE, color=GREY, align="right")
        if i < len(row.lines) - 1:
            by -= TITLE_LEAD
    bottom = by - 3.5
    my = by
    for authors, links in row.meta:
        my -= META_LEAD
        _draw_meta(c, authors, links, x, my)
    return bottom


def _leaders(c: Any, x1: float, x2: float, y: float) -> None:
    """Dot leaders on a page-wide grid, so that the dots of all rows line up."""
    start = C_LEFT + LEADER_STEP * (int((x1 - C_LEFT) / LEADER_STEP) + 1)
    if start >= x2:
        return
    last = start + LEADER_STEP * int((x2 - start) / LEADER_STEP)
    # One stroke of zero-length dashes with round caps: a dot of diameter 0.9 at every step.
    c.saveState()
    c.setStrokeColor(LIGHT)
    c.setLineWidth(0.9)
    c.setLineCap(1)
    c.setDash([0, LEADER_STEP], 0)
    c.line(start, y + 1.1, last, y + 1.1)
    c.restoreState()


META_SEP = "  ·  "
MIN_AUTHORS_W = 150.0


def muted_line(authors: str, *rest: str | None) -> str:
    """The contents row's muted line: the first three authors, then "et al.", then the other
    fields (affiliation, venue), joined by " · "; an unknown field and its separator are left out.
    """
    names = [n.strip() for n in authors.replace(";", ",").split(",") if n.strip()]
    if len(names) > 3:
        authors = ", ".join(names[:3]) + " et al."
    return " · ".join(x for x in (authors, *rest) if x)


def _links_width(links: list[tuple[str, str]]) -> float:
    if not links:
        return 0.0
    w = sum(tx.width(text, META_SIZE) for text, _ in links)
    return w + tx.width(META_SEP, META_SIZE) * (len(links) - 1)


def _meta_lines(
    authors: str, links: list[tuple[str, str]], avail: float
) -> list[tuple[str, list[tuple[str, str]]]]:
    """The grey line(s) under a title: authors on the left, links right-aligned. When both do not
    fit on one line, the authors get a line of their own."""
    if not authors and not links:
        return []
    lw = _links_width(links)
    if not authors:
        return [("", links)]
    room = avail - lw - (18.0 if links else 0.0)
    full = tx.width(authors, META_SIZE)
    if full <= room or room >= MIN_AUTHORS_W:
        return [(tx.truncate(authors, META_SIZE, room), links)]
    lines: list[tuple[str, list[tuple[str, str]]]] = [(tx.truncate(authors, META_SIZE, avail), [])]
    if links:
        lines.append(("", links))
    return lines


def _draw_meta(c: Any, authors: str, links: list[tuple[str, str]], x: float, y: float) -> None:
    if authors:
        tx.draw(c, x, y, authors, META_SIZE, color=GREY)
    lx = C_RIGHT - _links_width(links)
    for i, (text, url) in enumerate(links):
        if i:
            lx += tx.draw(c, lx, y, META_SEP, META_SIZE, color=LIGHT)
        w = tx.draw(c, lx, y, text, META_SIZE, color=LINK if url else GREY)
        if url:  # a licence without a page is shown, not linked
            link(c, url, lx - 1, y - 2.5, lx + w + 1, y + META_SIZE)
        lx += w


def _draw_contents_page(
    c: Any,
    page_items: list[_Row | _Heading],
    layout: _Layout,
    *,
    first: bool,
    page_index: int,
    heading: str,
    volume: tuple[int, int] | None,
    footer: str,
    links: list[FrontLink],
) -> None:
    top = C_TOP
    if first:
        base = top - 26
        tx.draw(c, C_LEFT, base, heading, 26, bold=True, color=INK)
        if volume is not None:
            vol = f"Volume {volume[0]} of {volume[1]}"
            tx.draw(c, C_RIGHT, base, vol, 10, color=GREY, align="right")
        c.setStrokeColor(INK)
        c.setLineWidth(0.8)
        c.line(C_LEFT, base - 14, C_RIGHT, base - 14)
        top = base - 14 - FIRST_HEAD_GAP
    else:
        base = top - 9
        tx.draw(c, C_LEFT, base, f"{heading} (continued)", 9, color=GREY)
        c.setStrokeColor(RULE)
        c.setLineWidth(0.5)
        c.line(C_LEFT, base - 6, C_RIGHT, base - 6)
        top = base - 6 - NEXT_HEAD_GAP
    for item in page_items:
        if isinstance(item, _Heading):
            hy = top - HEADING_ABOVE - SECTION_SIZE * 0.8
            heading = tx.truncate(item.title, SECTION_SIZE, C_RIGHT - C_LEFT, bold=True)
            tx.draw(c, C_LEFT, hy, heading, SECTION_SIZE, bold=True, color=ACCENT)
            c.setStrokeColor(RULE)
            c.setLineWidth(0.5)
            c.line(C_LEFT, hy - 5, C_RIGHT, hy - 5)
            top -= item.height
            continue
        y = top - TITLE_SIZE
        bottom = _draw_row(c, item, layout, y)
        if item.page is not None:
            rect = (C_LEFT - 2.0, round(bottom, 2), C_RIGHT + 2.0, round(top, 2))
            links.append(FrontLink(page_index, rect, item.paper.key))
        top -= item.height
    # footer: running title and the page's label (front matter is numbered i, ii, ...)
    c.setStrokeColor(RULE)
    c.setLineWidth(0.5)
    c.line(C_LEFT, 48, C_RIGHT, 48)
    tx.draw(c, C_LEFT, 36, tx.truncate(footer, 8, C_RIGHT - C_LEFT - 60), 8, color=LIGHT)
    tx.draw(c, C_RIGHT, 36, roman(page_index + 1), 8, color=GREY, align="right")


# --------------------------------------------------------------------------- entry point


def render_front_matter(
    manifest: Manifest,
    entries: Sequence[ContentsEntry],
    *,
    total_pages: int,
    date: dt.date | None,
    missing: Sequence[Paper] = (),
    volume: tuple[int, int] | None = None,
) -> FrontMatter:
    """Render the cover and contents pages (see the module docstring)."""
    with without_source_date_epoch():
        return _render(manifest, entries, total_pages, date, missing, volume)


def _render(
    manifest: Manifest,
    entries: Sequence[ContentsEntry],
    total_pages: int,
    date: dt.date | None,
    missing: Sequence[Paper],
    volume: tuple[int, int] | None,
) -> FrontMatter:
    tx.register_fonts()
    t = Texts(manifest)
    b = manifest.bundle
    buf = io.BytesIO()
    c = Canvas(
        buf,
        pagesize=(PAGE_W, PAGE_H),
        invariant=1,
        pageCompression=1,
        initialFontName=tx.REGULAR_CHAIN[0],
    )
    c.setTitle(f"{b.title} {b.version}")
    c.setCreator(f"paperbundle {__version__}")
    if b.curator:
        c.setAuthor(b.curator)

    draw_cover(
        c,
        manifest,
        t,
        n_papers=len(entries),
        n_missing=len({p.key for p in missing} - {e.paper.key for e in entries}),
        total_pages=total_pages,
        date=date,
        volume=volume,
    )
    c.showPage()

    items, layout = _build_rows(manifest, entries, missing, t)
    first_room = (C_TOP - 26 - 14 - FIRST_HEAD_GAP) - C_BOTTOM
    room = (C_TOP - 9 - 6 - NEXT_HEAD_GAP) - C_BOTTOM
    pages = _paginate(items, first_room, room)
    title = t.get("bundle.title", b.title)
    footer = f"{title} · {b.version}"
    if volume is not None:
        footer += f" · Volume {volume[0]} of {volume[1]}"
    links: list[FrontLink] = []
    for i, page_items in enumerate(pages):
        _draw_contents_page(
            c,
            page_items,
            layout,
            first=i == 0,
            page_index=1 + i,
            heading="Contents",
            volume=volume,
            footer=footer,
            links=links,
        )
        c.showPage()
    c.save()
    return FrontMatter(
        pdf=buf.getvalue(),
        cover_pages=1,
        contents_pages=len(pages),
        links=tuple(links),
        warnings=tuple(t.warnings),
    )
