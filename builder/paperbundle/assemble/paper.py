"""Per-paper preparation: copy one paper's kept pages, annotations, links, form fields and layers
into the writer."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, cast

from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    NullObject,
    PdfObject,
    create_string_object,
)

from paperbundle import active
from paperbundle.assemble.dests import _Dests
from paperbundle.assemble.model import (
    MAX_TREE_DEPTH,
    MAX_TREE_NODES,
    Target,
    _Counters,
    _get,
    _plain_copy,
)
from paperbundle.assemble.outline import _Item, _read_outline
from paperbundle.manifest import Paper

# Page keys carried over (ISO 32000 table 30, less the parent, article beads, page actions,
# structure and piece info, which can reach back into the source document). /Annots are rebuilt.
PAGE_KEYS = {
    "/Type",
    "/MediaBox",
    "/CropBox",
    "/BleedBox",
    "/TrimBox",
    "/ArtBox",
    "/BoxColorInfo",
    "/Contents",
    "/Rotate",
    "/Group",
    "/Thumb",
    "/Dur",
    "/Trans",
    "/Resources",
    "/UserUnit",
    "/VP",
    "/Tabs",
    "/LastModified",
}
ANNOT_SKIPPED = {"/P", "/Dest", "/A", "/AA", "/Popup", "/Parent", "/IRT", "/Next"}


def _check_boxes(pages: Sequence[Any]) -> None:
    """Every merged page has a usable /MediaBox (inherited or its own); ValueError when not."""
    for n, page in enumerate(pages, 1):
        box = page.mediabox
        if not all(math.isfinite(float(v)) for v in box) or box.width == 0 or box.height == 0:
            raise ValueError(f"page {n} has an empty /MediaBox")


class _Merger:
    def __init__(self, writer: PdfWriter) -> None:
        self.writer = writer
        self.c = _Counters()
        self.fields: list[IndirectObject] = []
        self.field_names: set[str] = set()
        self.ocgs: list[PdfObject] = []
        self.ocg_off: list[PdfObject] = []
        self.ocg_order: list[PdfObject] = []
        self.ocg_rb: list[PdfObject] = []
        self.dr: DictionaryObject | None = None
        self.need_appearances = False
        self.warnings: list[str] = []  # of the paper add_paper merged last

    def add_paper(
        self, paper: Paper, reader: PdfReader, kept: list[int], outline_limit: int
    ) -> tuple[list[_Item], bool]:
        """Merge the paper's kept pages; return its outline (at most ``outline_limit`` items)
        and whether that limit cut it."""
        w = self.writer
        self.warnings = []
        dests = _Dests(reader)
        src_pages = reader.pages
        # The translation table pypdf uses while cloning: source object number -> new object
        # number. Seeding it makes every reference to a page, annotation or dropped page
        # resolve to the object we choose, so nothing is cloned twice or pulled in by accident.
        tr = w._id_translated.setdefault(id(reader), {"PreventGC": reader})
        kept_set = set(kept)
        new_pages: dict[int, Any] = {}
        for i in kept:
            page = src_pages[i]
            excluded = [k for k in page if k not in PAGE_KEYS]
            new_pages[i] = w.add_page(page, excluded_keys=excluded)
        null_ref = w._add_object(NullObject())
        for i, page in enumerate(src_pages):
            ref = page.indirect_reference
            if i not in kept_set and ref is not None:
                tr[ref.idnum] = null_ref.idnum

        def new_ref(index: int) -> PdfObject | None:
            p = new_pages.get(index)
            return p.indirect_reference if p is not None else None

        # Pass 1: reserve an object for every annotation we keep, so cross references between
        # annotations (/Popup <-> /Parent, /IRT, widget <-> field /Kids) land on the new ones.
        plan: list[tuple[int, list[tuple[DictionaryObject, IndirectObject, str]]]] = []
        for i in kept:
            annots = _get(src_pages[i], "/Annots")
            if not isinstance(annots, ArrayObject):
                continue
            todo: list[tuple[DictionaryObject, IndirectObject, str]] = []
            for a_ref in annots:
                a = a_ref.get_object()
                if not isinstance(a, DictionaryObject):
                    continue
                kind = self._classify(a, dests, new_ref)
                if kind == "drop":
                    if isinstance(a_ref, IndirectObject):
                        tr[a_ref.idnum] = null_ref.idnum
                    continue
                new_obj_ref = w._add_object(DictionaryObject())
                if isinstance(a_ref, IndirectObject):
                    tr[a_ref.idnum] = new_obj_ref.idnum
                todo.append((a, new_obj_ref, kind))
            plan.append((i, todo))
        # Annotations only on dropped pages must not be pulled in through field /Kids either.
        reserved = {idnum for idnum, value in tr.items() if value != null_ref.idnum}
        for i, page in enumerate(src_pages):
            if i in kept_set:
                continue
            annots = _get(page, "/Annots")
            if isinstance(annots, ArrayObject):
                for a_ref in annots:
                    if isinstance(a_ref, IndirectObject) and a_ref.idnum not in reserved:
                        tr[a_ref.idnum] = null_ref.idnum

        # Pass 2: fill them in.
        for i, todo in plan:
            page_ref = new_pages[i].indirect_reference
            new_annots = ArrayObject()
            for a, ref, kind in todo:
                d = cast(DictionaryObject, ref.get_object())
                for k, v in a.items():
                    if k in ANNOT_SKIPPED:
                        continue
                    d[NameObject(k)] = v.clone(w) if hasattr(v, "clone") else v
                for k in ("/Popup", "/Parent", "/IRT"):
                    if k in a:
                        v = a.raw_get(k)
                        if isinstance(v, IndirectObject):
                            d[NameObject(k)] = v.clone(w)
                d[NameObject("/P")] = page_ref
                if kind == "goto":
                    target = self._link_target(a, dests)
                    assert target is not None
                    tref = new_ref(target[0])
                    assert tref is not None
                    d[NameObject("/Dest")] = ArrayObject([tref, *target[1]])
                    self.c.links_kept += 1
                elif kind == "safe-action":
                    act = cast(DictionaryObject, a["/A"]).get_object()
                    clean = DictionaryObject()
                    for k, v in cast(DictionaryObject, act).items():
                        if k in active.SAFE_ACTION_KEYS:
                            clean[NameObject(k)] = _plain_copy(v)
                    d[NameObject("/A")] = clean
                    if str(clean.get("/S")) == "/URI":
                        self.c.uri_links += 1
                new_annots.append(ref)
            if new_annots:
                new_pages[i][NameObject("/Annots")] = new_annots

        self._take_form(paper, reader, w)
        self._take_layers(paper, reader, w)
        outline = _read_outline(reader, dests, new_ref, outline_limit)
        if dests.cut:
            self.warnings.append(
                f"destinations: name tree cut at {MAX_TREE_NODES:,} nodes or "
                f"{MAX_TREE_DEPTH} levels; links to names past the cut were dropped"
            )
        return outline

    def _take_layers(self, paper: Paper, reader: PdfReader, w: PdfWriter) -> None:
        """Optional content (layers): keep each paper's groups, which are off, and their order,
        so hidden layers stay hidden (without /OCProperties a viewer shows every layer)."""
        root = cast(DictionaryObject, reader.trailer["/Root"])
        ocp = _get(root, "/OCProperties")
        if not isinstance(ocp, DictionaryObject):
            return
        ocgs = _get(ocp, "/OCGs")
        if not isinstance(ocgs, ArrayObject):
            return
        groups = [g.clone(w) for g in ocgs if isinstance(g, IndirectObject)]
        ids = {g.idnum for g in groups if isinstance(g, IndirectObject)}
        self.ocgs.extend(groups)
        d = _get(ocp, "/D")
        if not isinstance(d, DictionaryObject):
            return

        def refs(key: str) -> list[IndirectObject]:
            arr = _get(d, key)
            if not isinstance(arr, ArrayObject):
                return []
            out = [x.clone(w) for x in arr if isinstance(x, IndirectObject)]
            return [x for x in out if isinstance(x, IndirectObject) and x.idnum in ids]

        off = refs("/OFF")
        if str(d.get("/BaseState", "/ON")) == "/OFF":
            on = {x.idnum for x in refs("/ON")}
            off = [g for g in groups if isinstance(g, IndirectObject) and g.idnum not in on]
        self.ocg_off.extend(off)
        order = _get(d, "/Order")
        if isinstance(order, ArrayObject):
            self.ocg_order.append(ArrayObject([create_string_object(paper.title), *order.clone(w)]))
        rb = _get(d, "/RBGroups")
        if isinstance(rb, ArrayObject):
            self.ocg_rb.extend(rb.clone(w))

    def _link_target(self, a: DictionaryObject, dests: _Dests) -> Target | None:
        if "/Dest" in a:
            return dests.resolve(a.get("/Dest"))
        return dests.action_target(a.get("/A"))[1]

    def _classify(
        self, a: DictionaryObject, dests: _Dests, new_ref: Callable[[int], PdfObject | None]
    ) -> str:
        subtype = str(a.get("/Subtype", ""))
        if subtype in active.DROPPED_ANNOTS:
            self.c.remove(f"annotation {subtype[1:]}")
            return "drop"
        if "/AA" in a:
            self.c.remove("additional actions (/AA)")
        if "/Dest" in a:
            target = dests.resolve(a.get("/Dest"))
            if target is None or new_ref(target[0]) is None:
                self.c.links_dropped += 1
                return "drop" if subtype == "/Link" else "plain"
            return "goto"
        if "/A" in a:
            kind, target = dests.action_target(a.get("/A"))
            if kind == "goto":
                if target is None or new_ref(target[0]) is None:
                    self.c.links_dropped += 1
                    return "drop" if subtype == "/Link" else "plain"
                return "goto"
            if kind == "safe":
                return "safe-action"
            act = a["/A"].get_object()
            why = active.bad_action(act) if isinstance(act, DictionaryObject) else None
            self.c.remove(why or "unknown action")
            return "drop" if subtype == "/Link" else "plain"
        return "plain"

    def _take_form(self, paper: Paper, reader: PdfReader, w: PdfWriter) -> None:
        root = cast(DictionaryObject, reader.trailer["/Root"])
        form = _get(root, "/AcroForm")
        if not isinstance(form, DictionaryObject):
            return
        fields = _get(form, "/Fields")
        if not isinstance(fields, ArrayObject) or not fields:
            return
        # One parent field per paper: fully qualified names become "<key>.<name>", so fields of
        # two papers never merge. A partial name may not contain a period, hence the "_".
        name = paper.key.replace(".", "_")
        while name in self.field_names:
            name += "_"
        self.field_names.add(name)
        wrapper = DictionaryObject({NameObject("/T"): create_string_object(name)})
        wrapper_ref = w._add_object(wrapper)
        kids = ArrayObject()
        seen_fields: set[int] = set()
        for f in fields:
            new_f = f.clone(w) if isinstance(f, IndirectObject) else w._add_object(f.clone(w))
            fd = new_f.get_object()
            if id(fd) in seen_fields:
                continue  # a field listed twice in /Fields is taken once
            if isinstance(fd, DictionaryObject) and _prune_field(fd, seen_fields):
                fd[NameObject("/Parent")] = wrapper_ref
                kids.append(fd.indirect_reference)
        if len(seen_fields) >= MAX_TREE_NODES:
            self.warnings.append(f"form fields: cut at {MAX_TREE_NODES:,} fields")
        if not kids:
            return
        wrapper[NameObject("/Kids")] = kids
        self.fields.append(wrapper_ref)
        dr = _get(form, "/DR")
        if isinstance(dr, DictionaryObject):
            # The form's default resources are merged into dictionaries of our own: in the
            # papers they are often the very font dictionaries of their pages.
            if self.dr is None:
                self.dr = DictionaryObject()
            for cat, sub in dr.clone(w).items():
                sub = sub.get_object()
                mine = self.dr.get(cat)
                if isinstance(sub, DictionaryObject):
                    if not isinstance(mine, DictionaryObject):
                        self.dr[NameObject(cat)] = DictionaryObject(sub)
                    else:
                        for k, v in sub.items():
                            if k not in mine:
                                mine[NameObject(k)] = v
                elif mine is None:
                    self.dr[NameObject(cat)] = sub
        if form.get("/NeedAppearances"):
            self.need_appearances = True


def _prune_field(fd: DictionaryObject, seen: set[int] | None = None, depth: int = 0) -> bool:
    """Drop kids that became null (widgets on dropped pages); False when nothing is left.
    Each field is visited once: a kid listed twice, or a /Kids cycle, is kept only once."""
    seen = set() if seen is None else seen
    if depth > 32 or len(seen) >= MAX_TREE_NODES:
        return False
    seen.add(id(fd))
    kids = _get(fd, "/Kids")
    if not isinstance(kids, ArrayObject):
        return True
    alive = ArrayObject()
    dropped = False
    for k in kids:
        kd = k.get_object()
        if isinstance(kd, DictionaryObject) and id(kd) in seen:
            continue  # listed twice, or a cycle back up the tree
        if isinstance(kd, DictionaryObject) and _prune_field(kd, seen, depth + 1):
            alive.append(k)
            if fd.indirect_reference is not None:  # /Parent is the field above, never a loop
                kd[NameObject("/Parent")] = fd.indirect_reference
        else:
            dropped = True
    if not alive and not dropped:  # only repeats: a terminal field after all
        del fd["/Kids"]
        return True
    if not alive:
        return fd.get("/Subtype") == "/Widget"
    fd[NameObject("/Kids")] = alive
    return True
