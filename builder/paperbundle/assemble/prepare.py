"""Per-paper preparation: one paper, on its own, made ready to place into any bundle.

Everything a paper's bytes depend on happens here, once: its kept pages, its links resolved and
rewritten, its outline read, its form fields wrapped, its layers kept, active content stripped,
unreachable objects dropped. The result is a :class:`~paperbundle.assemble.fragment.Fragment`
whose objects are numbered on their own; the bundle writer only renumbers and copies them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

from pypdf import PdfWriter
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    IndirectObject,
    PdfObject,
)

from paperbundle import active
from paperbundle.assemble import fragment, rawcopy
from paperbundle.assemble.model import _Counters, _plain
from paperbundle.assemble.outline import MAX_PAPER_OUTLINE, _count_items, _Item
from paperbundle.assemble.paper import _check_boxes, _Merger
from paperbundle.errors import PdfError
from paperbundle.manifest import Paper
from paperbundle.pdfio import LazyReader, check_streams, open_paper, paper_boundary

RAW_FIRST = 1 << 31  # the first local number of a drawn object copied as bytes


def _snippet(obj: PdfObject) -> str:
    return fragment.to_bytes(obj).decode("latin-1")


def _outline_json(items: list[_Item]) -> list[Any]:
    out: list[Any] = []
    for it in items:
        page, view = (None, []) if it.target is None else it.target
        out.append(
            [
                it.title,
                page.idnum if page is not None else None,
                [_snippet(v) for v in view],
                it.closed,
                _snippet(ArrayObject([_plain(c) for c in it.color]))
                if it.color is not None
                else None,
                it.flags,
                _outline_json(it.children),
            ]
        )
    return out


def _form_json(m: _Merger) -> tuple[dict[str, Any] | None, list[PdfObject]]:
    if not m.fields:
        return None, []
    wrapper = m.fields[0]
    roots: list[PdfObject] = [wrapper]
    dr: list[Any] = []
    if m.dr is not None:
        for cat, sub in m.dr.items():
            if isinstance(sub, DictionaryObject):
                dr.append([str(cat), "dict", [[str(k), _snippet(v)] for k, v in sub.items()]])
            else:
                dr.append([str(cat), "value", _snippet(sub)])
            roots.append(sub)
    name = str(cast(DictionaryObject, wrapper.get_object())["/T"])
    form = {
        "wrapper": wrapper.idnum,
        "name": name,
        "dr": dr,
        "need_appearances": m.need_appearances,
    }
    return form, roots


def _layers_json(m: _Merger) -> tuple[dict[str, Any] | None, list[PdfObject]]:
    if not (m.ocgs or m.ocg_order or m.ocg_rb):
        return None, []
    roots: list[PdfObject] = [*m.ocgs, *m.ocg_off, *m.ocg_order, *m.ocg_rb]
    layers = {
        "ocgs": [_snippet(g) for g in m.ocgs],
        "off": [_snippet(g) for g in m.ocg_off],
        "order": [_snippet(o) for o in m.ocg_order],
        "rb": [_snippet(r) for r in m.ocg_rb],
    }
    return layers, roots


def prepare(paper: Paper, path: Path, sha256: str, key: str) -> fragment.Fragment:
    """Prepare one paper's file; PdfError naming the paper when it cannot be used (whatever its
    objects make pypdf or us raise, a missing or malformed /MediaBox included)."""
    reader, kept = open_paper(paper, path)
    with paper_boundary(paper, "merge failed"):
        return _prepare(paper, reader, kept, sha256, key)


def page_id(page: Any) -> int:
    ref = page.indirect_reference
    assert isinstance(ref, IndirectObject)
    return ref.idnum


def _prepare(
    paper: Paper, reader: LazyReader, kept: list[int], sha256: str, key: str
) -> fragment.Fragment:
    writer = PdfWriter()
    merger = _Merger(writer)
    drawn = _drawn(paper, reader, kept)
    if drawn is not None:
        rawcopy.swap_in(drawn)
    try:
        with paper_boundary(paper):  # every stream the bundle will copy
            check_streams(paper, reader, kept)
        items, cut = merger.add_paper(paper, reader, kept, MAX_PAPER_OUTLINE)
    finally:
        if drawn is not None:
            rawcopy.restore(drawn)
    pages = list(writer.pages)
    _check_boxes(pages)
    active.strip([o for o in writer._objects if o is not None], merger.c.remove)
    form, form_roots = _form_json(merger)
    layers, layer_roots = _layers_json(merger)
    page_ids = [page_id(p) for p in pages]
    page_refs: list[PdfObject] = [IndirectObject(i, 0, writer) for i in page_ids]
    root_ref = writer._pages
    stop = {root_ref.idnum} if isinstance(root_ref, IndirectObject) else set()
    ids = fragment.reachable(writer, [*page_refs, *form_roots, *layer_roots], stop)
    objects = fragment.collect(writer, ids)
    if drawn is not None:
        objects = rawcopy.fill(objects, drawn)
    meta = {
        "key": key,
        "paper": paper.key,
        "sha256": sha256,
        "pages": page_ids,
        "first_rank": ids.index(page_ids[0]),
        "pages_root": next(iter(stop), None),  # this paper's page tree root: the bundle's
        "total_pages": len(reader.pages),
        "first_top": float(pages[0].mediabox.top),
        "outline": _outline_json(items),
        "outline_cut": cut,
        "warnings": list(merger.warnings),
        "form": form,
        "layers": layers,
        "counts": _counts(merger.c, items),
    }
    return fragment.Fragment(meta, objects)


def _drawn(paper: Paper, reader: LazyReader, kept: list[int]) -> rawcopy.DrawnCopy | None:
    """The kept pages' drawn objects as bytes, or None when this paper takes pypdf's path."""
    try:
        return rawcopy.plan(reader, kept, RAW_FIRST)
    except rawcopy.DamagedStream as exc:
        raise PdfError(paper.key, paper.source, exc.reason, str(exc)) from None
    except Exception:  # Unsupported, or whatever pypdf raises on the way: pypdf's path decides
        return None


def _counts(c: _Counters, items: list[_Item]) -> dict[str, Any]:
    return {
        "links_kept": c.links_kept,
        "links_dropped": c.links_dropped,
        "uri_links": c.uri_links,
        "outline_items": _count_items(items),
        "removed": dict(sorted(c.removed.items())),
    }
