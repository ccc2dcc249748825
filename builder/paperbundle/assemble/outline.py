"""Outlines: read a paper's outline against its new pages; write the bundle's outline tree."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    NumberObject,
    PdfObject,
    create_string_object,
)

from paperbundle.assemble.dests import _Dests
from paperbundle.assemble.model import (
    MAX_TREE_NODES,
    Target,
    _get,
    _plain,
)


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
