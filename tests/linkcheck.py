"""Test helper: compare a bundle's links and outline against the original files.

Resolution here is deliberately independent of ``paperbundle.assemble``: it uses pypdf's own
``named_destinations`` and page lookups, so a bug in the assembler cannot hide itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject

Rect = tuple[float, float, float, float]


def open_reader(path: Any) -> PdfReader:
    r = PdfReader(path)
    if r.is_encrypted:
        r.decrypt("")
    return r


def _page_index(reader: PdfReader) -> dict[int, int]:
    return {p.indirect_reference.idnum: i for i, p in enumerate(reader.pages)}


def _rect(a: DictionaryObject) -> Rect:
    r = [round(float(x), 1) for x in a["/Rect"]]
    x1, y1, x2, y2 = r
    return (min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2))


def resolve(reader: PdfReader, dest: Any, nd: dict[str, Any], idx: dict[int, int]) -> int | None:
    dest = dest.get_object() if isinstance(dest, IndirectObject) else dest
    if isinstance(dest, ArrayObject):
        head = dest[0]
        if isinstance(head, IndirectObject):
            return idx.get(head.idnum)
        return None
    if isinstance(dest, DictionaryObject):
        return resolve(reader, dest.get("/D"), nd, idx)
    if dest is None:
        return None
    name = str(dest)
    d = nd.get(name)
    if d is None and isinstance(dest, NameObject):
        d = nd.get(name[1:])
    if d is None:
        return None
    page = d.get("/Page")
    if isinstance(page, IndirectObject):
        return idx.get(page.idnum)
    if isinstance(page, int):
        return page
    return None


def internal_links(reader: PdfReader) -> list[list[tuple[Rect, int | None]]]:
    """Per page: (rect, target page index or None when unresolvable) of each internal link."""
    nd = reader.named_destinations
    idx = _page_index(reader)
    out: list[list[tuple[Rect, int | None]]] = []
    for page in reader.pages:
        links: list[tuple[Rect, int | None]] = []
        for a in page.get("/Annots") or []:
            a = a.get_object()
            if a.get("/Subtype") != "/Link":
                continue
            if "/Dest" in a:
                links.append((_rect(a), resolve(reader, a["/Dest"], nd, idx)))
            elif "/A" in a:
                act = a["/A"].get_object()
                if act.get("/S") == "/GoTo":
                    links.append((_rect(a), resolve(reader, act.get("/D"), nd, idx)))
        out.append(links)
    return out


def uri_links(reader: PdfReader) -> list[list[str]]:
    out = []
    for page in reader.pages:
        uris = []
        for a in page.get("/Annots") or []:
            a = a.get_object()
            act = a.get("/A")
            if act is not None:
                act = act.get_object()
                if act.get("/S") == "/URI":
                    uris.append(str(act["/URI"]))
        out.append(uris)
    return out


@dataclass
class Score:
    right: int = 0
    total: int = 0
    wrong: list[str] = field(default_factory=list)
    stray: list[str] = field(default_factory=list)  # bundle links that leave their paper

    def add(self, ok: bool, what: str) -> None:
        self.total += 1
        if ok:
            self.right += 1
        else:
            self.wrong.append(what)


def check_links(
    original: PdfReader,
    bundle_links: list[list[tuple[Rect, int | None]]],
    first_index: int,
    kept: list[int],
    score: Score,
    label: str,
) -> None:
    """Every resolvable internal link of ``original`` on a kept page must land on the same page."""
    orig = internal_links(original)
    pos = {p: first_index + n for n, p in enumerate(kept)}
    for n, src_page in enumerate(kept):
        mine = bundle_links[first_index + n]
        mine_by_rect: dict[Rect, list[int | None]] = {}
        for rect, tgt in mine:
            mine_by_rect.setdefault(rect, []).append(tgt)
        for rect, tgt in orig[src_page]:
            if tgt is None:
                continue  # broken in the original too
            got = mine_by_rect.get(rect, [])
            if tgt in pos:
                ok = pos[tgt] in got
                score.add(ok, f"{label} p{src_page + 1} {rect}: want {pos[tgt]} got {got}")
            else:
                # target page was dropped: the link must be gone
                score.add(not got, f"{label} p{src_page + 1} {rect}: link into dropped page kept")
        # and nothing in the bundle on this page may point outside the paper
        lo, hi = first_index, first_index + len(kept) - 1
        for rect, tgt in mine:
            if tgt is None or not lo <= tgt <= hi:
                score.stray.append(f"{label} p{src_page + 1} {rect}: lands outside paper ({tgt})")


def outline_tree(reader: PdfReader) -> list[tuple[str, int | None, list[Any]]]:
    """(title, page index, children) for the whole outline, via pypdf's own parser."""

    def walk(items: list[Any]) -> list[tuple[str, int | None, list[Any]]]:
        out: list[tuple[str, int | None, list[Any]]] = []
        i = 0
        while i < len(items):
            it = items[i]
            children: list[Any] = []
            if i + 1 < len(items) and isinstance(items[i + 1], list):
                children = walk(items[i + 1])
                i += 1
            try:
                page = reader.get_destination_page_number(it)
            except Exception:
                page = None
            if page is not None and page < 0:
                page = None
            out.append((" ".join(str(it.title).split()), page, children))
            i += 1
        return out

    return walk(reader.outline)


def flatten(tree: list[Any], depth: int = 0) -> list[tuple[int, str, int | None]]:
    out = []
    for title, page, kids in tree:
        out.append((depth, title, page))
        out.extend(flatten(kids, depth + 1))
    return out
