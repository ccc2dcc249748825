"""Outlines: read a paper's outline against its new pages; write the bundle's outline tree."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, cast

from pypdf import PdfReader
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
)
from paperbundle.assemble.stream import PdfStream, ref
from paperbundle.fmt import outline_title


@dataclass
class _Item:
    title: str
    target: tuple[Any, list[PdfObject]] | None  # (new page ref, view)
    children: list[_Item] = field(default_factory=list)
    closed: bool = True
    color: ArrayObject | None = None
    flags: int = 0


MAX_PAPER_OUTLINE = 5_000  # outline items taken from one paper (real papers have < 500)
MAX_BUNDLE_OUTLINE = 90_000  # in all: pypdf, and so our verify, reads at most 100,000


def _read_outline(
    reader: PdfReader,
    dests: _Dests,
    new_ref: Callable[[int], PdfObject | None],
    limit: int = MAX_PAPER_OUTLINE,
) -> tuple[list[_Item], bool]:
    """The paper's outline items (at most ``limit`` outline nodes visited, each once) and whether
    the limit cut it."""
    root = cast(DictionaryObject, reader.trailer["/Root"])
    outlines = _get(root, "/Outlines")
    if not isinstance(outlines, DictionaryObject):
        return [], False
    seen: set[int] = set()
    cut = False

    def walk(first: PdfObject | None, depth: int) -> list[_Item]:
        nonlocal cut
        items: list[_Item] = []
        node = first
        while node is not None and depth < 32:
            if len(seen) >= min(limit, MAX_TREE_NODES):
                cut = True
                break
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
                title=outline_title(title_s) or "(untitled)",
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

    items = walk(outlines.get("/First"), 0)
    return items, cut


def write_outline(ps: PdfStream, alloc: Callable[[], int], items: list[_Item]) -> int:
    """Write the outline tree into ``ps`` (targets and colours already in bundle terms: a page
    reference and the view, colour values as written); the /Outlines dictionary's number."""
    root_num = alloc()

    def add_level(parent: DictionaryObject, parent_num: int, level: list[_Item]) -> int:
        nums = [alloc() for _ in level]
        visible = 0
        for k, (it, num) in enumerate(zip(level, nums, strict=True)):
            d = DictionaryObject()
            d[NameObject("/Title")] = create_string_object(it.title)
            d[NameObject("/Parent")] = ref(parent_num)
            if it.target is not None:
                page_ref, view = it.target
                d[NameObject("/Dest")] = ArrayObject([page_ref, *view])
            if it.color is not None:
                d[NameObject("/C")] = it.color
            if it.flags:
                d[NameObject("/F")] = NumberObject(it.flags)
            if it.children:
                n = add_level(d, num, it.children)
                d[NameObject("/Count")] = NumberObject(-n if it.closed else n)
                if not it.closed:
                    visible += n
            visible += 1
            if k > 0:
                d[NameObject("/Prev")] = ref(nums[k - 1])
            if k + 1 < len(nums):
                d[NameObject("/Next")] = ref(nums[k + 1])
            ps.write_object(num, d)
        if nums:
            parent[NameObject("/First")] = ref(nums[0])
            parent[NameObject("/Last")] = ref(nums[-1])
        return visible if level else 0

    root = DictionaryObject({NameObject("/Type"): NameObject("/Outlines")})
    n = add_level(root, root_num, items)
    root[NameObject("/Count")] = NumberObject(n)
    ps.write_object(root_num, root)
    return root_num


def _count_items(items: list[_Item]) -> int:
    return sum(1 + _count_items(i.children) for i in items)


def _first_items(items: list[_Item], limit: int) -> list[_Item]:
    """The first ``limit`` items of ``items`` in reading order (depth first), the tree kept."""
    out: list[_Item] = []
    left = limit
    for it in items:
        if left <= 0:
            break
        left -= 1
        children = _first_items(it.children, left)
        left -= _count_items(children)
        out.append(replace(it, children=children))
    return out
