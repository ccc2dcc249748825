"""The merge: front matter, then each prepared paper streamed into the bundle, renumbered, then
the outline, page labels, names, layers, form and metadata.

Object numbers: 1 the catalog, 2 the page tree, 3 the document info, then the front matter's
objects, each paper's in bundle order, and last the outline and the rest. A paper's objects are
read from the work cache, written, and let go before the next paper is read: memory is bounded by
the largest paper, not by the bundle.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    BooleanObject,
    ByteStringObject,
    DictionaryObject,
    FloatObject,
    IndirectObject,
    NameObject,
    NullObject,
    NumberObject,
    PdfObject,
    create_string_object,
)

from paperbundle import HOMEPAGE, __version__, active
from paperbundle.assemble import fragment
from paperbundle.assemble.model import AssembleStats, PaperInput, _Counters
from paperbundle.assemble.outline import (
    MAX_BUNDLE_OUTLINE,
    MAX_PAPER_OUTLINE,
    _count_items,
    _first_items,
    _Item,
    write_outline,
)
from paperbundle.assemble.prepare import page_id
from paperbundle.assemble.stream import PdfStream, Raw, ref
from paperbundle.fmt import outline_title, safe_text
from paperbundle.frontmatter import FrontMatter
from paperbundle.manifest import Manifest
from paperbundle.progress import Reporter

CATALOG, PAGES, INFO = 1, 2, 3

# Called with a paper whose prepared file cannot be read back: prepares it again, same bytes.
Repair = Callable[[PaperInput], None]


def _top_view(top: float) -> list[PdfObject]:
    return [NameObject("/XYZ"), NullObject(), FloatObject(top), NullObject()]


def pdf_date(day: dt.date) -> str:
    return f"D:{day.year:04d}{day.month:02d}{day.day:02d}000000Z"


@dataclass
class _Placed:
    """What the bundle keeps of a paper once its objects are written."""

    key: str
    title: str
    pages: list[int]  # bundle numbers of its pages
    top: float  # of its first page
    outline: list[_Item]
    cut: bool  # the paper's outline was cut to MAX_PAPER_OUTLINE items when it was prepared
    warnings: list[str]  # what its preparation cut (name or field trees at their caps)


@dataclass
class _Bundle:
    """The bundle-wide parts gathered while the papers stream by."""

    c: _Counters = field(default_factory=_Counters)
    fields: list[IndirectObject] = field(default_factory=list)
    field_names: set[str] = field(default_factory=set)
    ocgs: list[PdfObject] = field(default_factory=list)
    ocg_off: list[PdfObject] = field(default_factory=list)
    ocg_order: list[PdfObject] = field(default_factory=list)
    ocg_rb: list[PdfObject] = field(default_factory=list)
    dr: DictionaryObject | None = None
    need_appearances: bool = False

    def count(self, counts: dict[str, Any]) -> None:
        self.c.links_kept += int(counts["links_kept"])
        self.c.links_dropped += int(counts["links_dropped"])
        self.c.uri_links += int(counts["uri_links"])
        for what, n in counts["removed"].items():
            self.c.removed[what] = self.c.removed.get(what, 0) + int(n)


@dataclass
class _Front:
    objects: list[tuple[int, bytes, bytes]]
    mapping: dict[int, int]  # local id -> bundle number, placeholders included
    pages: list[int]  # bundle numbers
    tops: list[float]


def _front(
    front: FrontMatter, firsts: dict[str, tuple[int, float]], first_num: int, c: _Counters
) -> _Front:
    """The front matter's objects, its contents rows linked to the first page of each paper."""
    writer = PdfWriter()
    pages = [writer.add_page(p) for p in PdfReader(io.BytesIO(front.pdf)).pages]
    external: dict[int, int] = {}  # placeholder id -> bundle number of a paper's first page
    holders: dict[str, IndirectObject] = {}
    for link in front.links:
        if link.target_key not in firsts:
            continue
        num, top = firsts[link.target_key]
        if link.target_key not in holders:
            holders[link.target_key] = writer._add_object(NullObject())
            external[holders[link.target_key].idnum] = num
        page = pages[link.page_index]
        annot = DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Annot"),
                NameObject("/Subtype"): NameObject("/Link"),
                NameObject("/Rect"): ArrayObject([FloatObject(round(v, 3)) for v in link.rect]),
                NameObject("/Border"): ArrayObject([NumberObject(0)] * 3),
                NameObject("/Dest"): ArrayObject([holders[link.target_key], *_top_view(top)]),
                NameObject("/P"): page.indirect_reference,
            }
        )
        annots = page.get("/Annots")
        annots = annots.get_object() if annots is not None else None
        if not isinstance(annots, ArrayObject):
            annots = ArrayObject()
            page[NameObject("/Annots")] = annots
        annots.append(writer._add_object(annot))
    active.strip([o for o in writer._objects if o is not None], c.remove)
    root = writer._pages
    assert isinstance(root, IndirectObject)
    refs: list[PdfObject] = [IndirectObject(page_id(p), 0, writer) for p in pages]
    ids = fragment.reachable(writer, refs, {root.idnum, *external})
    mapping = {i: first_num + k for k, i in enumerate(ids)}
    mapping[root.idnum] = PAGES
    mapping.update(external)
    return _Front(
        fragment.collect(writer, ids),
        mapping,
        [mapping[page_id(p)] for p in pages],
        [float(p.mediabox.top) for p in pages],
    )


def _items(outline: list[Any], pages: dict[int, int]) -> list[_Item]:
    out = []
    target: tuple[IndirectObject, list[PdfObject]] | None
    for title, page, view, closed, color, flags, children in outline:
        target = None
        if page is not None:
            view_objs: list[PdfObject] = [Raw(v.encode("latin-1")) for v in view]
            target = (ref(pages[page]), view_objs)
        out.append(
            _Item(
                title,
                target,
                children=_items(children, pages),
                closed=closed,
                color=Raw(color.encode("latin-1")) if color is not None else None,  # type: ignore[arg-type]
                flags=flags,
            )
        )
    return out


def _raw(snippet: str, ren: Callable[[bytes], bytes]) -> Raw:
    return Raw(ren(snippet.encode("latin-1")))


def _take_form(
    b: _Bundle, form: dict[str, Any], wrapper: int, ren: Callable[[bytes], bytes]
) -> str:
    """The form's parts into the bundle's; the wrapper field's name, unique in the bundle."""
    name = str(form["name"])
    while name in b.field_names:
        name += "_"
    b.field_names.add(name)
    b.fields.append(ref(wrapper))
    for cat, kind, value in form["dr"]:
        if b.dr is None:
            b.dr = DictionaryObject()
        mine = b.dr.get(cat)
        if kind == "dict":
            if not isinstance(mine, DictionaryObject):
                b.dr[NameObject(cat)] = DictionaryObject(
                    {NameObject(k): _raw(v, ren) for k, v in value}
                )
            else:
                for k, v in value:
                    if k not in mine:
                        mine[NameObject(k)] = _raw(v, ren)
        elif mine is None:
            b.dr[NameObject(cat)] = _raw(value, ren)
    if form["need_appearances"]:
        b.need_appearances = True
    return name


def _take_layers(b: _Bundle, layers: dict[str, Any], ren: Callable[[bytes], bytes]) -> None:
    b.ocgs += [_raw(s, ren) for s in layers["ocgs"]]
    b.ocg_off += [_raw(s, ren) for s in layers["off"]]
    b.ocg_order += [_raw(s, ren) for s in layers["order"]]
    b.ocg_rb += [_raw(s, ren) for s in layers["rb"]]


def _read(pin: PaperInput, repair: Repair | None) -> fragment.Fragment:
    try:
        return fragment.read(pin.path)
    except (OSError, fragment.DamagedFragment):
        if repair is None:
            raise
    repair(pin)
    return fragment.read(pin.path)


def _place(ps: PdfStream, b: _Bundle, pin: PaperInput, base: int, repair: Repair | None) -> _Placed:
    """Write one prepared paper's objects, numbered from ``base``; what the bundle keeps of it."""
    frag = _read(pin, repair)
    meta = frag.meta
    if len(frag.objects) != pin.count:
        raise fragment.DamagedFragment(f"{pin.path.name}: changed while the bundle was written")
    mapping = {i: base + k for k, (i, _, _) in enumerate(frag.objects)}
    if meta["pages_root"] is not None:
        mapping[int(meta["pages_root"])] = PAGES
    ren = fragment.renumberer(mapping)
    form, wrapper, old, new = meta["form"], None, b"", b""
    if form is not None:
        wrapper = int(form["wrapper"])
        name = _take_form(b, form, mapping[wrapper], ren)
        old, new = (fragment.to_bytes(create_string_object(n)) for n in (form["name"], name))
    for i, head, tail in frag.objects:
        if i == wrapper and old != new:
            head = head.replace(old, new, 1)  # /T comes first in the wrapper field
        ps.write(mapping[i], ren(head), tail)
    if meta["layers"] is not None:
        _take_layers(b, meta["layers"], ren)
    b.count(meta["counts"])
    pages = {p: mapping[p] for p in meta["pages"]}
    return _Placed(
        pin.paper.key,
        pin.paper.title,
        [pages[p] for p in meta["pages"]],
        float(meta["first_top"]),
        _items(meta["outline"], pages),
        bool(meta.get("outline_cut", False)),
        [str(w) for w in meta.get("warnings", [])],
    )


def assemble(
    manifest: Manifest,
    front: FrontMatter,
    inputs: Sequence[PaperInput],
    out: BinaryIO,
    *,
    date: dt.date | None,
    reporter: Reporter,
    sections: Sequence[tuple[str | None, Sequence[str]]],
    repair: Repair | None = None,
) -> AssembleStats:
    """Merge ``front`` and the prepared papers (in bundle order) into ``out``.

    ``sections`` gives the outline grouping: (section title or None, paper keys).
    """
    b = _Bundle()
    metas = [fragment.read_meta(pin.path) for pin in inputs]
    # The front matter is made once to count its objects, once more to number its links.
    dummy = {
        pin.paper.key: (0, float(m["first_top"])) for pin, m in zip(inputs, metas, strict=True)
    }
    fr = _front(front, dummy, 4, _Counters())
    num = 4 + len(fr.objects)
    bases, firsts = [], {}
    for pin, meta in zip(inputs, metas, strict=True):
        bases.append(num)
        firsts[pin.paper.key] = (num + int(meta["first_rank"]), float(meta["first_top"]))
        num += pin.count
    del metas
    fr = _front(front, firsts, 4, b.c)
    ps = PdfStream(out)
    for i, head, tail in fr.objects:
        ps.write(fr.mapping[i], fragment.renumberer(fr.mapping)(head), tail)
    reporter.stage("merge", total=len(inputs))
    placed: list[_Placed] = []
    outline_used = 0
    for pin, base in zip(inputs, bases, strict=True):
        pl = _place(ps, b, pin, base, repair)
        left = MAX_BUNDLE_OUTLINE - outline_used
        if pl.cut or _count_items(pl.outline) > left:
            limit = min(MAX_PAPER_OUTLINE, left)
            pl.outline = _first_items(pl.outline, limit)
            reporter.warn(
                f"{pl.key}: outline cut to its first {limit:,} items "
                f"(at most {MAX_PAPER_OUTLINE:,} a paper, {MAX_BUNDLE_OUTLINE:,} a bundle)"
            )
        for note in pl.warnings:
            reporter.warn(f"{pl.key}: {note}")
        outline_used += _count_items(pl.outline)
        placed.append(pl)
        reporter.stage_advanced()
    reporter.stage("write")
    counter = [num]

    def alloc() -> int:
        counter[0] += 1
        return counter[0] - 1

    root = _catalog(ps, alloc, b, fr, placed, front, sections)
    ps.write_object(CATALOG, root)
    kids = [*fr.pages, *(p for pl in placed for p in pl.pages)]
    pages_root = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Pages"),
            NameObject("/Count"): NumberObject(len(kids)),
            NameObject("/Kids"): ArrayObject([ref(k) for k in kids]),
        }
    )
    ps.write_object(PAGES, pages_root)
    ps.write_object(INFO, _info(manifest, inputs, date, len(kids) - len(fr.pages)))
    ident = ByteStringObject(_ident(front, inputs))
    trailer = DictionaryObject(
        {
            NameObject("/Size"): NumberObject(counter[0]),
            NameObject("/Root"): ref(CATALOG),
            NameObject("/Info"): ref(INFO),
            NameObject("/ID"): ArrayObject([ident, ident]),
        }
    )
    ps.finish(counter[0], trailer)
    c = b.c
    c.outline_items = outline_used
    return AssembleStats(
        links_kept=c.links_kept,
        links_dropped=c.links_dropped,
        uri_links=c.uri_links,
        outline_items=c.outline_items,
        active_removed=tuple(sorted(c.removed.items())),
    )


def _outline(
    fr: _Front,
    placed: list[_Placed],
    front: FrontMatter,
    sections: Sequence[tuple[str | None, Sequence[str]]],
) -> list[_Item]:
    """Cover, Contents, then sections holding papers holding their own outlines."""
    items = [_Item("Cover", (ref(fr.pages[0]), _top_view(fr.tops[0])), closed=False)]
    if front.contents_pages and len(fr.pages) > front.cover_pages:
        k = front.cover_pages
        items.append(_Item("Contents", (ref(fr.pages[k]), _top_view(fr.tops[k]))))
    by_key = {p.key: p for p in placed}
    for section, keys in sections:
        paper_items = [
            _Item(
                outline_title(by_key[k].title),
                (ref(by_key[k].pages[0]), _top_view(by_key[k].top)),
                children=by_key[k].outline,
                closed=True,
            )
            for k in keys
            if k in by_key
        ]
        if section is None:
            items.extend(paper_items)
        elif paper_items:
            first = paper_items[0].target
            items.append(_Item(outline_title(section), first, children=paper_items, closed=False))
    return items


def _catalog(
    ps: PdfStream,
    alloc: Callable[[], int],
    b: _Bundle,
    fr: _Front,
    placed: list[_Placed],
    front: FrontMatter,
    sections: Sequence[tuple[str | None, Sequence[str]]],
) -> DictionaryObject:
    root = DictionaryObject(
        {NameObject("/Type"): NameObject("/Catalog"), NameObject("/Pages"): ref(PAGES)}
    )
    outline_num = write_outline(ps, alloc, _outline(fr, placed, front, sections))
    root[NameObject("/Outlines")] = ref(outline_num)
    root[NameObject("/PageMode")] = NameObject("/UseOutlines")
    root[NameObject("/ViewerPreferences")] = DictionaryObject(
        {NameObject("/DisplayDocTitle"): BooleanObject(True)}
    )
    # Page labels: i, ii, ... for the front matter; 1, 2, ... across the papers.
    nfront = len(fr.pages)
    nums = ArrayObject([NumberObject(0), DictionaryObject({NameObject("/S"): NameObject("/r")})])
    if any(p.pages for p in placed):
        nums += [NumberObject(nfront), DictionaryObject({NameObject("/S"): NameObject("/D")})]
    root[NameObject("/PageLabels")] = DictionaryObject({NameObject("/Nums"): nums})
    # Named destinations: paper.<key>, cover, contents (a sorted flat name tree).
    named: list[tuple[str, int, float]] = [("cover", fr.pages[0], fr.tops[0])]
    if front.contents_pages and nfront > front.cover_pages:
        k = front.cover_pages
        named.append(("contents", fr.pages[k], fr.tops[k]))
    named += [(f"paper.{p.key}", p.pages[0], p.top) for p in placed]
    flat = ArrayObject()
    for name, page, top in sorted(named, key=lambda x: x[0].encode("utf-8")):
        flat.append(create_string_object(name))
        flat.append(ArrayObject([ref(page), *_top_view(top)]))
    root[NameObject("/Names")] = DictionaryObject(
        {NameObject("/Dests"): DictionaryObject({NameObject("/Names"): flat})}
    )
    _layers_and_form(ps, alloc, b, root)
    return root


def _layers_and_form(
    ps: PdfStream, alloc: Callable[[], int], b: _Bundle, root: DictionaryObject
) -> None:
    if b.ocgs:
        config = DictionaryObject(
            {
                NameObject("/BaseState"): NameObject("/ON"),
                NameObject("/OFF"): ArrayObject(b.ocg_off),
                NameObject("/Order"): ArrayObject(b.ocg_order),
            }
        )
        if b.ocg_rb:
            config[NameObject("/RBGroups")] = ArrayObject(b.ocg_rb)
        root[NameObject("/OCProperties")] = DictionaryObject(
            {NameObject("/OCGs"): ArrayObject(b.ocgs), NameObject("/D"): config}
        )
    if b.fields:
        acro = DictionaryObject({NameObject("/Fields"): ArrayObject(b.fields)})
        if b.dr is not None:
            acro[NameObject("/DR")] = b.dr
        if b.need_appearances:
            acro[NameObject("/NeedAppearances")] = BooleanObject(True)
        num = alloc()
        ps.write_object(num, acro)
        root[NameObject("/AcroForm")] = ref(num)


def _info(
    manifest: Manifest, inputs: Sequence[PaperInput], date: dt.date | None, pages: int
) -> DictionaryObject:
    """Metadata, never from the clock."""
    bundle = manifest.bundle
    labels = [pin.paper.label for pin in inputs if pin.paper.label]
    info: dict[str, Any] = {
        "/Producer": f"paperbundle {__version__} with pypdf",
        "/Title": f"{bundle.title} {bundle.version}",
        "/Subject": bundle.subtitle or bundle.description or f"{len(inputs)} papers, {pages} pages",
        "/Creator": f"paperbundle {__version__} ({HOMEPAGE})",
    }
    if bundle.curator:
        info["/Author"] = bundle.curator
    if labels:
        info["/Keywords"] = ", ".join(labels)
    if date is not None:
        info["/CreationDate"] = pdf_date(date)
        info["/ModDate"] = pdf_date(date)
    return DictionaryObject(
        {NameObject(k): create_string_object(safe_text(v)) for k, v in info.items()}
    )


def _ident(front: FrontMatter, inputs: Sequence[PaperInput]) -> bytes:
    """A deterministic file identifier: a digest of what went in."""
    h = hashlib.sha256()
    h.update(front.pdf)
    for pin in inputs:
        h.update(pin.paper.key.encode())
        h.update(pin.sha256.encode())
    return h.digest()[:16]
