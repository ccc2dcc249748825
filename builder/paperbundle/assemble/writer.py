"""The merge: front matter, papers, outline, labels, names and metadata, written as one PDF."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from collections.abc import Sequence
from typing import Any, BinaryIO

from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    BooleanObject,
    ByteStringObject,
    DictionaryObject,
    FloatObject,
    NameObject,
    NullObject,
    NumberObject,
    PdfObject,
    create_string_object,
)

from paperbundle import HOMEPAGE, __version__
from paperbundle.assemble.model import (
    AssembleStats,
    PaperInput,
)
from paperbundle.assemble.outline import (
    MAX_BUNDLE_OUTLINE,
    MAX_PAPER_OUTLINE,
    _count_items,
    _Item,
    _write_outline,
)
from paperbundle.assemble.paper import _check_boxes, _Merger
from paperbundle.assemble.sanitize import _sanitize
from paperbundle.errors import PdfError
from paperbundle.fmt import outline_title, safe_text
from paperbundle.frontmatter import FrontMatter
from paperbundle.manifest import Manifest, select_pages
from paperbundle.progress import Reporter


def _top_view(page: Any) -> list[PdfObject]:
    top = float(page.mediabox.top)
    return [NameObject("/XYZ"), NullObject(), FloatObject(top), NullObject()]


def pdf_date(day: dt.date) -> str:
    return f"D:{day.year:04d}{day.month:02d}{day.day:02d}000000Z"


def assemble(
    manifest: Manifest,
    front: FrontMatter,
    inputs: Sequence[PaperInput],
    out: BinaryIO,
    *,
    date: dt.date | None,
    reporter: Reporter,
    sections: Sequence[tuple[str | None, Sequence[str]]],
) -> AssembleStats:
    """Merge ``front`` and the papers (already opened, in bundle order) into ``out``.

    ``sections`` gives the outline grouping: (section title or None, paper keys).
    """
    writer = PdfWriter()
    bundle = manifest.bundle
    # Front matter.
    front_reader = PdfReader(io.BytesIO(front.pdf))
    front_pages = [writer.add_page(p) for p in front_reader.pages]
    nfront = len(front_pages)

    merger = _Merger(writer)
    outlines: dict[str, list[_Item]] = {}
    first_ref: dict[str, Any] = {}
    outline_used = 0
    reporter.stage("merge", total=len(inputs))
    for pin in inputs:
        paper, reader = pin.paper, pin.reader
        try:
            kept = select_pages(paper.pages, len(reader.pages))
        except ValueError as exc:
            raise PdfError(paper.key, paper.source, "pages", str(exc)) from None
        start = len(writer.pages)
        # One boundary per paper: whatever its objects make pypdf (or us) raise, a missing or
        # malformed /MediaBox and nesting too deep for Python included, is an error naming it.
        try:
            limit = min(MAX_PAPER_OUTLINE, MAX_BUNDLE_OUTLINE - outline_used)
            outlines[paper.key], cut = merger.add_paper(paper, reader, kept, limit)
            _check_boxes(writer.pages[start:])
        except PdfError:
            raise
        except RecursionError:
            raise PdfError(
                paper.key, paper.source, "unreadable", "merge failed: objects nested too deep"
            ) from None
        except Exception as exc:  # pypdf raises many kinds on damaged files
            raise PdfError(paper.key, paper.source, "unreadable", f"merge failed: {exc}") from None
        first_ref[paper.key] = writer.pages[start]
        outline_used += _count_items(outlines[paper.key])
        if cut:
            reporter.warn(
                f"{paper.key}: outline cut to its first {limit:,} items "
                f"(at most {MAX_PAPER_OUTLINE:,} a paper, {MAX_BUNDLE_OUTLINE:,} a bundle)"
            )
        for note in merger.warnings:
            reporter.warn(f"{paper.key}: {note}")
        reporter.stage_advanced()

    # Internal links of the front matter (contents rows -> first page of each paper).
    for link in front.links:
        if link.target_key not in first_ref:
            continue
        target_page = first_ref[link.target_key]
        annot = DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Annot"),
                NameObject("/Subtype"): NameObject("/Link"),
                NameObject("/Rect"): ArrayObject([FloatObject(round(v, 3)) for v in link.rect]),
                NameObject("/Border"): ArrayObject([NumberObject(0)] * 3),
                NameObject("/Dest"): ArrayObject(
                    [target_page.indirect_reference, *_top_view(target_page)]
                ),
                NameObject("/P"): front_pages[link.page_index].indirect_reference,
            }
        )
        page = front_pages[link.page_index]
        annots = page.get("/Annots")
        annots = annots.get_object() if annots is not None else None
        if not isinstance(annots, ArrayObject):
            annots = ArrayObject()
            page[NameObject("/Annots")] = annots
        annots.append(writer._add_object(annot))

    # Outline: Cover, Contents, then sections holding papers holding their own outlines.
    items: list[_Item] = [
        _Item("Cover", (front_pages[0].indirect_reference, _top_view(front_pages[0])), closed=False)
    ]
    if front.contents_pages and nfront > front.cover_pages:
        cp = front_pages[front.cover_pages]
        items.append(_Item("Contents", (cp.indirect_reference, _top_view(cp))))
    titles = {pin.paper.key: pin.paper.title for pin in inputs}
    for section, keys in sections:
        paper_items = []
        for key in keys:
            if key not in first_ref:
                continue
            p = first_ref[key]
            paper_items.append(
                _Item(
                    outline_title(titles[key]),
                    (p.indirect_reference, _top_view(p)),
                    children=outlines.get(key, []),
                    closed=True,
                )
            )
        if section is None:
            items.extend(paper_items)
        elif paper_items:
            first = paper_items[0].target
            items.append(_Item(outline_title(section), first, children=paper_items, closed=False))
    merger.c.outline_items = sum(_count_items(v) for v in outlines.values())
    root = writer._root_object
    root[NameObject("/Outlines")] = _write_outline(writer, items)
    root[NameObject("/PageMode")] = NameObject("/UseOutlines")
    root[NameObject("/ViewerPreferences")] = DictionaryObject(
        {NameObject("/DisplayDocTitle"): BooleanObject(True)}
    )
    # Page labels: i, ii, ... for the front matter; 1, 2, ... across the papers.
    nums = ArrayObject([NumberObject(0), DictionaryObject({NameObject("/S"): NameObject("/r")})])
    if len(writer.pages) > nfront:
        nums += [NumberObject(nfront), DictionaryObject({NameObject("/S"): NameObject("/D")})]
    root[NameObject("/PageLabels")] = DictionaryObject({NameObject("/Nums"): nums})
    # Named destinations: paper.<key>, cover, contents (a sorted flat name tree).
    named: list[tuple[str, Any]] = [("cover", front_pages[0])]
    if front.contents_pages and nfront > front.cover_pages:
        named.append(("contents", front_pages[front.cover_pages]))
    named += [(f"paper.{k}", p) for k, p in first_ref.items()]
    flat = ArrayObject()
    for name, page in sorted(named, key=lambda x: x[0].encode("utf-8")):
        flat.append(create_string_object(name))
        flat.append(ArrayObject([page.indirect_reference, *_top_view(page)]))
    root[NameObject("/Names")] = DictionaryObject(
        {NameObject("/Dests"): DictionaryObject({NameObject("/Names"): flat})}
    )
    if merger.ocgs:
        config = DictionaryObject(
            {
                NameObject("/BaseState"): NameObject("/ON"),
                NameObject("/OFF"): ArrayObject(merger.ocg_off),
                NameObject("/Order"): ArrayObject(merger.ocg_order),
            }
        )
        if merger.ocg_rb:
            config[NameObject("/RBGroups")] = ArrayObject(merger.ocg_rb)
        root[NameObject("/OCProperties")] = DictionaryObject(
            {NameObject("/OCGs"): ArrayObject(merger.ocgs), NameObject("/D"): config}
        )
    if merger.fields:
        acro = DictionaryObject({NameObject("/Fields"): ArrayObject(merger.fields)})
        if merger.dr is not None:
            acro[NameObject("/DR")] = merger.dr
        if merger.need_appearances:
            acro[NameObject("/NeedAppearances")] = BooleanObject(True)
        root[NameObject("/AcroForm")] = writer._add_object(acro)

    # Metadata, never from the clock.
    labels = [pin.paper.label for pin in inputs if pin.paper.label]
    info: dict[str, Any] = {
        "/Title": f"{bundle.title} {bundle.version}",
        "/Subject": bundle.subtitle
        or bundle.description
        or f"{len(inputs)} papers, {len(writer.pages) - nfront} pages",
        "/Creator": f"paperbundle {__version__} ({HOMEPAGE})",
        "/Producer": f"paperbundle {__version__} with pypdf",
    }
    if bundle.curator:
        info["/Author"] = bundle.curator
    if labels:
        info["/Keywords"] = ", ".join(labels)
    if date is not None:
        info["/CreationDate"] = pdf_date(date)
        info["/ModDate"] = pdf_date(date)
    writer.add_metadata({k: safe_text(v) for k, v in info.items()})
    # A deterministic file identifier: a digest of what went in.
    h = hashlib.sha256()
    h.update(front.pdf)
    for pin in inputs:
        h.update(pin.paper.key.encode())
        h.update(pin.sha256.encode())
    ident = ByteStringObject(h.digest()[:16])
    writer._ID = ArrayObject([ident, ident])

    _sanitize(writer, merger.c)
    reporter.stage("write")
    writer.write(out)
    c = merger.c
    return AssembleStats(
        links_kept=c.links_kept,
        links_dropped=c.links_dropped,
        uri_links=c.uri_links,
        outline_items=c.outline_items,
        active_removed=tuple(sorted(c.removed.items())),
    )
