"""Stage 4: merge the front matter and the papers into one faithful PDF.

What a naive merge gets wrong, and what this module does instead:

* Every hyperref paper defines the same destination names (``page.1``, ``cite.x``,
  ``Doc-Start``). Merging name trees sends links into the wrong paper. Here every internal link and
  outline item is resolved *inside its own paper* and rewritten as an explicit destination to the
  new page object; names never meet.
* Links and outline items into pages dropped by ``pages = "..."`` are removed, not left dangling.
* Each paper's outline is nested under the paper's bookmark; ``Cover`` and ``Contents`` and the
  section items come first. Page labels: i, ii, ... then 1, 2, ... across the papers.
* Active content never gets in: document JavaScript, /OpenAction and embedded files stay behind
  (the catalog is built anew), /AA is stripped from pages, annotations and form fields, Launch,
  JavaScript, GoToR/GoToE and similar link actions are removed, file attachments are dropped.
* Form fields of each paper are wrapped in a parent field named after the paper key, so two
  papers' fields can never merge into one.
* Output is reproducible: no clock, no random /ID.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, BinaryIO, cast

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
    TextStringObject,
    create_string_object,
)

from paperbundle import HOMEPAGE, __version__, active
from paperbundle.errors import PdfError
from paperbundle.frontmatter import FrontMatter
from paperbundle.manifest import Manifest, Paper, select_pages
from paperbundle.progress import Reporter

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


@dataclass(frozen=True)
class PaperInput:
    paper: Paper
    reader: PdfReader  # the paper's PDF, opened once (paperbundle.pdfio)
    sha256: str  # of the original file


@dataclass(frozen=True)
class AssembleStats:
    links_kept: int = 0  # internal links rewritten to their page
    links_dropped: int = 0  # internal links into dropped pages or to nowhere
    uri_links: int = 0
    outline_items: int = 0
    active_removed: tuple[tuple[str, int], ...] = ()


@dataclass
class _Counters:
    links_kept: int = 0
    links_dropped: int = 0
    uri_links: int = 0
    outline_items: int = 0
    removed: dict[str, int] = field(default_factory=dict)

    def remove(self, what: str) -> None:
        self.removed[what] = self.removed.get(what, 0) + 1


Target = tuple[int, list[PdfObject]]  # (0-based source page index, view array after the page)


# --------------------------------------------------------------------------- destinations


class _Dests:
    """Resolve a paper's destinations (named or explicit) to (page index, view) in that paper."""

    def __init__(self, reader: PdfReader) -> None:
        self.reader = reader
        self.page_of: dict[int, int] = {}
        for i, page in enumerate(reader.pages):
            ref = page.indirect_reference
            if ref is not None:
                self.page_of[ref.idnum] = i
        self._by_name: dict[str, PdfObject] | None = None
        self._by_string: dict[str, PdfObject] | None = None

    def _load(self) -> tuple[dict[str, PdfObject], dict[str, PdfObject]]:
        """Names (PDF 1.1 /Dests dictionary) and strings (the /Names /Dests tree) are two
        namespaces: a /Dest name looks in the first, a /Dest string in the second."""
        if self._by_name is None or self._by_string is None:
            self._by_name, self._by_string = {}, {}
            root = cast(DictionaryObject, self.reader.trailer["/Root"])
            dests = _get(root, "/Dests")
            if isinstance(dests, DictionaryObject):
                for k in dests:
                    self._by_name[str(k)[1:]] = dests.raw_get(k)
            names = _get(root, "/Names")
            if isinstance(names, DictionaryObject):
                tree = _get(names, "/Dests")
                if isinstance(tree, DictionaryObject):
                    for k, v in _walk_name_tree(tree):
                        self._by_string.setdefault(k, v)
        return self._by_name, self._by_string

    def _lookup(self, key: str, *, is_name: bool) -> PdfObject | None:
        by_name, by_string = self._load()
        first, second = (by_name, by_string) if is_name else (by_string, by_name)
        found = first.get(key)
        return found if found is not None else second.get(key)

    def resolve(self, dest: PdfObject | None) -> Target | None:
        """A /Dest value (name, string or array) -> (page index, view) or None."""
        for _ in range(4):  # a named destination may point at a dictionary holding /D
            if dest is None:
                return None
            dest = dest.get_object() if isinstance(dest, IndirectObject) else dest
            if isinstance(dest, NameObject):
                dest = self._lookup(str(dest)[1:], is_name=True)
            elif isinstance(dest, (TextStringObject, ByteStringObject)):
                name = dest if isinstance(dest, TextStringObject) else _bytes_name(dest)
                dest = self._lookup(str(name), is_name=False)
            elif isinstance(dest, DictionaryObject):
                dest = dest.get("/D")
            elif isinstance(dest, ArrayObject):
                return self._explicit(dest)
            else:
                return None
        return None

    def _explicit(self, arr: ArrayObject) -> Target | None:
        if not arr:
            return None
        head = arr[0]
        index: int | None = None
        if isinstance(head, IndirectObject):
            index = self.page_of.get(head.idnum)
        elif isinstance(head, NumberObject) and 0 <= int(head) < len(self.page_of):
            index = int(head)  # some producers write a page number instead of a reference
        if index is None:
            return None
        view = [_plain(v) for v in arr[1:]]
        if not view or not isinstance(view[0], NameObject):
            view = [NameObject("/XYZ"), NullObject(), NullObject(), NullObject()]
        return index, view

    def action_target(self, action: PdfObject | None) -> tuple[str, Target | None]:
        """Classify a /A action: ("goto", target) | ("safe", None) | ("unsafe", None)."""
        act = action.get_object() if isinstance(action, IndirectObject) else action
        if not isinstance(act, DictionaryObject):
            return "unsafe", None
        kind = str(act.get("/S", ""))
        if kind == "/GoTo":
            return "goto", self.resolve(act.get("/D"))
        if kind in active.SAFE_ACTIONS and active.bad_action(act) is None:
            return "safe", None
        return "unsafe", None


def _bytes_name(b: ByteStringObject) -> str:
    try:
        return bytes(b).decode("latin-1")
    except Exception:  # pragma: no cover
        return ""


def _get(d: DictionaryObject, key: str) -> PdfObject | None:
    v = d.get(key)
    return v.get_object() if isinstance(v, IndirectObject) else v


MAX_TREE_NODES = 100_000  # nodes of one name or field tree; a node listed twice costs once
MAX_TREE_DEPTH = 64


def _walk_name_tree(root: DictionaryObject) -> Iterator[tuple[str, PdfObject]]:
    """Every (key, value) of a name tree, each node visited once (a node listed twice, or a
    cycle through /Kids, costs nothing more); stops after MAX_TREE_NODES nodes."""
    seen: set[int] = {id(root)}
    stack: list[tuple[DictionaryObject, int]] = [(root, 0)]
    visited = 0
    while stack and visited < MAX_TREE_NODES:
        node, depth = stack.pop()
        visited += 1
        names = _get(node, "/Names")
        if isinstance(names, ArrayObject):
            for i in range(0, len(names) - 1, 2):
                k = names[i]
                k = k.get_object() if isinstance(k, IndirectObject) else k
                if isinstance(k, ByteStringObject):
                    yield _bytes_name(k), names[i + 1]
                else:
                    yield str(k), names[i + 1]
        kids = _get(node, "/Kids")
        if isinstance(kids, ArrayObject) and depth < MAX_TREE_DEPTH:
            for kid in reversed(kids):
                kid = kid.get_object()
                if isinstance(kid, DictionaryObject) and id(kid) not in seen:
                    seen.add(id(kid))
                    stack.append((kid, depth + 1))


def _plain(v: PdfObject) -> PdfObject:
    r = v.get_object() if isinstance(v, IndirectObject) else v
    if isinstance(r, (NumberObject, FloatObject, NameObject, NullObject, BooleanObject)):
        return r
    return NullObject()


# --------------------------------------------------------------------------- outline


@dataclass
class _Item:
    title: str
    target: tuple[Any, list[PdfObject]] | None  # (new page ref, view)
    children: list[_Item] = field(default_factory=list)
    closed: bool = True
    color: ArrayObject | None = None
    flags: int = 0


def _read_outline(
    reader: PdfReader,
    dests: _Dests,
    new_ref: Callable[[int], PdfObject | None],
) -> list[_Item]:
    root = cast(DictionaryObject, reader.trailer["/Root"])
    outlines = _get(root, "/Outlines")
    if not isinstance(outlines, DictionaryObject):
        return []
    seen: set[int] = set()

    def walk(first: PdfObject | None, depth: int) -> list[_Item]:
        items: list[_Item] = []
        node = first
        while node is not None and depth < 32 and len(seen) < MAX_TREE_NODES:
            if isinstance(node, IndirectObject):
                if node.idnum in seen:
                    break
                seen.add(node.idnum)
            d = node.get_object()
            if not isinstance(d, DictionaryObject):
                break
            title = d.get("/Title")
            title_s = str(title.get_object()) if title is not None else ""
            target: Target | None = None
            if "/Dest" in d:
                target = dests.resolve(d.get("/Dest"))
            elif "/A" in d:
                _, target = dests.action_target(d.get("/A"))
            mapped = None
            if target is not None:
                ref = new_ref(target[0])
                if ref is not None:
                    mapped = (ref, target[1])
            count = d.get("/Count")
            color = _get(d, "/C")
            flags = _get(d, "/F")
            item = _Item(
                title=" ".join(title_s.split()) or "(untitled)",
                target=mapped,
                children=walk(d.get("/First"), depth + 1),
                closed=not (isinstance(count, NumberObject) and int(count) > 0),
                color=color if isinstance(color, ArrayObject) and len(color) == 3 else None,
                flags=int(flags) if isinstance(flags, NumberObject) else 0,
            )
            if item.target is not None or item.children:
                items.append(item)
            node = d.get("/Next")
        return items

    return walk(outlines.get("/First"), 0)


def _write_outline(writer: PdfWriter, items: list[_Item]) -> IndirectObject:
    """Write the outline tree; return the /Outlines dictionary's reference."""
    root = DictionaryObject({NameObject("/Type"): NameObject("/Outlines")})
    root_ref = writer._add_object(root)

    def add_level(parent: DictionaryObject, parent_ref: IndirectObject, level: list[_Item]) -> int:
        refs: list[IndirectObject] = []
        visible = 0
        for it in level:
            d = DictionaryObject()
            d[NameObject("/Title")] = create_string_object(it.title)
            d[NameObject("/Parent")] = parent_ref
            if it.target is not None:
                page_ref, view = it.target
                d[NameObject("/Dest")] = ArrayObject([page_ref, *view])
            if it.color is not None:
                d[NameObject("/C")] = ArrayObject([_plain(c) for c in it.color])
            if it.flags:
                d[NameObject("/F")] = NumberObject(it.flags)
            ref = writer._add_object(d)
            refs.append(ref)
            if it.children:
                n = add_level(d, ref, it.children)
                d[NameObject("/Count")] = NumberObject(-n if it.closed else n)
                if not it.closed:
                    visible += n
            visible += 1
        for i, ref in enumerate(refs):
            d = cast(DictionaryObject, ref.get_object())
            if i > 0:
                d[NameObject("/Prev")] = refs[i - 1]
            if i + 1 < len(refs):
                d[NameObject("/Next")] = refs[i + 1]
        if refs:
            parent[NameObject("/First")] = refs[0]
            parent[NameObject("/Last")] = refs[-1]
        return visible if level else 0

    n = add_level(root, root_ref, items)
    root[NameObject("/Count")] = NumberObject(n)
    return root_ref


def _count_items(items: list[_Item]) -> int:
    return sum(1 + _count_items(i.children) for i in items)


# --------------------------------------------------------------------------- the merge


def _check_boxes(pages: Sequence[Any]) -> None:
    """Every merged page has a usable /MediaBox (inherited or its own); ValueError when not."""
    for n, page in enumerate(pages, 1):
        box = page.mediabox
        if not all(math.isfinite(float(v)) for v in box) or box.width == 0 or box.height == 0:
            raise ValueError(f"page {n} has an empty /MediaBox")


def _top_view(page: Any) -> list[PdfObject]:
    top = float(page.mediabox.top)
    return [NameObject("/XYZ"), NullObject(), FloatObject(top), NullObject()]


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

    def add_paper(self, paper: Paper, reader: PdfReader, kept: list[int]) -> list[_Item]:
        w = self.writer
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
        return _read_outline(reader, dests, new_ref)

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
            outlines[paper.key] = merger.add_paper(paper, reader, kept)
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
                    titles[key],
                    (p.indirect_reference, _top_view(p)),
                    children=outlines.get(key, []),
                    closed=True,
                )
            )
        if section is None:
            items.extend(paper_items)
        elif paper_items:
            first = paper_items[0].target
            items.append(_Item(section, first, children=paper_items, closed=False))
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
    writer.add_metadata(info)
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


# --------------------------------------------------------------------------- the last pass


def _plain_copy(v: PdfObject) -> PdfObject:
    """A direct copy of a simple value (string, name, number, boolean)."""
    r = v.get_object() if isinstance(v, IndirectObject) else v
    if isinstance(r, (DictionaryObject, ArrayObject)) or r is None:
        return NullObject()
    return r


def _sanitize(writer: PdfWriter, c: _Counters) -> None:
    """Safety net over every object about to be written: remove active content wherever it
    hides (see paperbundle.active), then drop every object no longer reachable from the catalog or
    the document info."""
    objects = writer._objects
    active.strip([o for o in objects if o is not None], c.remove)
    # Garbage-collect: only what the catalog and the info dictionary reach is written.
    reachable: set[int] = set()
    todo: list[PdfObject] = [writer._root_object]
    info = writer._info
    if info is not None:
        todo.append(info)
    for obj in todo:
        ref = obj.indirect_reference
        if ref is not None and ref.pdf is writer:
            reachable.add(ref.idnum)
    while todo:
        obj = todo.pop()
        stack: list[PdfObject] = [obj]
        while stack:
            x = stack.pop()
            if isinstance(x, IndirectObject):
                if x.pdf is writer and x.idnum not in reachable:
                    reachable.add(x.idnum)
                    target = objects[x.idnum - 1] if 0 < x.idnum <= len(objects) else None
                    if target is not None:
                        todo.append(target)
            elif isinstance(x, DictionaryObject):
                stack.extend(x.values())
            elif isinstance(x, ArrayObject):
                stack.extend(x)
    for i in range(len(objects)):
        if i + 1 not in reachable:
            objects[i] = None
