"""Markdown -> candidate paper items with markdown-it-py (CommonMark plus GFM tables).

An item is one table row, one list item's own text, one line of a paragraph, or a heading that is
itself a link. Each carries its links, its plain text, its bold text and the nearest heading above.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from markdown_it import MarkdownIt
from markdown_it.token import Token

from paperbundle.importer.rules import clean_section


@dataclass(frozen=True)
class Link:
    text: str
    url: str


@dataclass(frozen=True)
class Item:
    line: int  # 1-based
    section: str | None  # raw heading text
    text: str  # plain text of the item (without link destinations)
    bold: str  # text of the first bold span
    links: tuple[Link, ...]
    cells: tuple[str, ...] = ()  # plain text per cell, for table rows
    header: tuple[str, ...] = ()  # the table's header cells, lower-case
    heading: bool = False
    code_links: tuple[Link, ...] = ()  # links in a table's code column
    cell_bold: tuple[str, ...] = ()  # the first bold span per cell, for table rows


@dataclass(frozen=True)
class Heading:
    level: int
    text: str
    line: int


_MD = MarkdownIt("commonmark").enable("table")
_A_RE = re.compile(r"""<a\s[^>]*?href\s*=\s*["']([^"']+)["']""", re.IGNORECASE)
_HTML_H_RE = re.compile(r"<h([1-6])[^>]*>(.*?)</h\1\s*>", re.IGNORECASE | re.DOTALL)
_TAG_RE = re.compile(r"<[^>]+>")
_BARE_URL_RE = re.compile(r"https?://[^\s<>()\[\]|\"']+")


def _inline(children: list[Token]) -> list[tuple[str, str, str, list[Link]]]:
    """Split inline children on line breaks: (text, bold, first-link-text, links) per line."""
    lines: list[tuple[str, str, str, list[Link]]] = []
    text: list[str] = []
    bold: list[str] = []
    links: list[Link] = []
    in_bold = 0
    link_url: str | None = None
    link_text: list[str] = []
    first_bold = ""

    def flush() -> None:
        nonlocal first_bold
        lines.append(("".join(text), first_bold, "", list(links)))
        text.clear()
        links.clear()
        bold.clear()
        first_bold = ""

    for t in children:
        if t.type in ("softbreak", "hardbreak") or (t.type == "html_inline" and "<br" in t.content):
            if link_url is None:
                flush()
            continue
        if t.type == "strong_open":
            in_bold += 1
        elif t.type == "strong_close":
            in_bold -= 1
            if in_bold == 0 and not first_bold:
                first_bold = "".join(bold)
        elif t.type == "html_inline" and (m := _A_RE.match(t.content)):
            link_url, link_text = html.unescape(m.group(1)), []
        elif t.type == "html_inline" and t.content.lower().startswith("</a") and link_url:
            links.append(Link("".join(link_text), link_url))
            link_url = None
        elif t.type == "link_open":
            link_url, link_text = str(t.attrs.get("href", "")), []
        elif t.type == "link_close" and link_url is not None:
            links.append(Link("".join(link_text), link_url))
            link_url = None
        elif t.type in ("text", "code_inline"):
            if link_url is not None:
                link_text.append(t.content)
            else:
                bare = _BARE_URL_RE.findall(t.content)
                links.extend(Link("", u.rstrip(".,;:")) for u in bare)
                t_content = _BARE_URL_RE.sub("", t.content)
                text.append(t_content)
                if in_bold:
                    bold.append(t_content)
                continue
            text.append(t.content)
            if in_bold:
                bold.append(t.content)
        elif t.type == "image" and link_url is None and t.attrs.get("src"):
            pass  # a picture is no paper link
    flush()
    return [ln for ln in lines if ln[0].strip() or ln[3]]


def scan(markdown: str) -> tuple[list[Heading], list[Item]]:
    tokens = _MD.parse(markdown)
    headings: list[Heading] = []
    items: list[Item] = []
    section: str | None = None
    header: list[str] = []
    row: list[tuple[str, list[Link], str]] = []
    in_head = False
    row_line = 0
    waiting: list[tuple[int, list[Item]]] = []  # open list items: level, lines without a link
    for i, t in enumerate(tokens):
        line = (t.map[0] + 1) if t.map else row_line
        if t.type == "heading_open":
            inl = tokens[i + 1]
            parts = _inline(inl.children or [])
            text = " ".join(p[0] for p in parts).strip()
            links = [lk for p in parts for lk in p[3]]
            headings.append(Heading(int(t.tag[1]), clean_section(text), line))
            if links and not links[0].url.startswith("#") and len(text) > 12:
                items.append(Item(line, section, text, "", tuple(links), heading=True))
            else:
                section = text
        elif t.type == "html_block":
            for m in _HTML_H_RE.finditer(t.content):
                text = " ".join(html.unescape(_TAG_RE.sub(" ", m.group(2))).split())
                headings.append(Heading(int(m.group(1)), clean_section(text), line))
                section = text
        elif t.type == "thead_open":
            in_head, header = True, []
        elif t.type == "thead_close":
            in_head = False
        elif t.type == "tr_open":
            row, row_line = [], line
        elif t.type == "inline" and tokens[i - 1].type in ("th_open", "td_open"):
            parts = _inline(t.children or [])
            row.append(
                (
                    next((p[0] for p in parts if clean_section(p[0])), ""),
                    [lk for p in parts for lk in p[3]],
                    next((p[1] for p in parts if p[1]), ""),
                )
            )
        elif t.type == "tr_close":
            if in_head:
                header = [c[0].strip().lower() for c in row]
            else:
                row_links = tuple(lk for c in row for lk in c[1])
                text = " | ".join(c[0] for c in row)
                bold = next((c[2] for c in row if c[2]), "")
                code_cols = [j for j, h in enumerate(header) if "code" in h or "代码" in h]
                code_links = tuple(lk for j in code_cols if j < len(row) for lk in row[j][1])
                items.append(
                    Item(
                        row_line,
                        section,
                        text,
                        bold,
                        row_links,
                        tuple(c[0] for c in row),
                        tuple(header),
                        code_links=code_links,
                        cell_bold=tuple(c[2] for c in row),
                    )
                )
        elif t.type == "list_item_open":
            waiting.append((t.level, []))
        elif t.type == "list_item_close" and waiting:
            waiting.pop()
        elif t.type == "inline" and tokens[i - 1].type == "paragraph_open":
            # in a list item's own paragraphs, lines without a link ("**Title**", then the
            # authors) belong to the next line with one ("[[pdf](...)]"): one paper, one item
            own = waiting[-1][1] if waiting and t.level == waiting[-1][0] + 2 else None
            for text, bold, _, links in _inline(t.children or []):
                if own is not None and not any(not lk.url.startswith("#") for lk in links):
                    own.append(Item(line, section, text, bold, tuple(links)))
                    continue
                item = Item(line, section, text, bold, tuple(links))
                if own:
                    item = _joined([*own, item])
                    own.clear()
                items.append(item)
    return headings, items


def _joined(parts: list[Item]) -> Item:
    """One item from a list item's lines: the first line's place, all text, the first bold."""
    first = parts[0]
    return Item(
        first.line,
        first.section,
        " ".join(p.text.strip() for p in parts if p.text.strip()),
        next((p.bold for p in parts if p.bold), ""),
        tuple(lk for p in parts for lk in p.links),
    )
