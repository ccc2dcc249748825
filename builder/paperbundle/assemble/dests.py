"""Destinations: resolve a paper's named or explicit destinations inside that paper."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import cast

from pypdf import PdfReader
from pypdf.generic import (
    ArrayObject,
    ByteStringObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    NullObject,
    NumberObject,
    PdfObject,
    TextStringObject,
)

from paperbundle import active
from paperbundle.assemble.model import (
    MAX_TREE_DEPTH,
    MAX_TREE_NODES,
    Target,
    _bytes_name,
    _get,
    _plain,
)


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
        self.cut = False  # the /Dests name tree was past MAX_TREE_NODES nodes or too deep

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
                    for k, v in _walk_name_tree(tree, self._mark_cut):
                        self._by_string.setdefault(k, v)
        return self._by_name, self._by_string

    def _mark_cut(self) -> None:
        self.cut = True

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


def _walk_name_tree(
    root: DictionaryObject, on_cut: Callable[[], None]
) -> Iterator[tuple[str, PdfObject]]:
    """Every (key, value) of a name tree, each node visited once (a node listed twice, or a
    cycle through /Kids, costs nothing more); stops after MAX_TREE_NODES nodes and below
    MAX_TREE_DEPTH levels, calling ``on_cut`` when either left nodes out."""
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
        if isinstance(kids, ArrayObject) and depth >= MAX_TREE_DEPTH:
            on_cut()
        elif isinstance(kids, ArrayObject):
            for kid in reversed(kids):
                kid = kid.get_object()
                if isinstance(kid, DictionaryObject) and id(kid) not in seen:
                    seen.add(id(kid))
                    stack.append((kid, depth + 1))
    if stack:
        on_cut()
