"""Page selections: the ``pages`` key ("1-3,5,9-") and the pages it keeps of a file."""

from __future__ import annotations

import re

from paperbundle.manifest.model import PageRange

PAGES_RE = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d*)\s*)?$")


def parse_pages(spec: str) -> tuple[PageRange, ...]:
    """``"1-3,5,9-"`` -> ranges. Raises ValueError with a reason."""
    if not spec.strip():
        raise ValueError("empty page selection")
    out: list[PageRange] = []
    for part in spec.split(","):
        m = PAGES_RE.match(part)
        if not m:
            raise ValueError(f"{part.strip()!r} is not a page or range like 3 or 1-12")
        first = int(m.group(1))
        last: int | None
        if m.group(2) is None:
            last = first
        elif m.group(2) == "":
            last = None
        else:
            last = int(m.group(2))
        if first < 1:
            raise ValueError("pages are numbered from 1")
        if last is not None and last < first:
            raise ValueError(f"range {part.strip()!r} ends before it starts")
        out.append(PageRange(first, last))
    return tuple(out)


def select_pages(ranges: tuple[PageRange, ...] | None, page_count: int) -> list[int]:
    """0-based page indexes kept from a file of ``page_count`` pages, in order, without repeats.

    Raises ValueError naming the first range outside the file.
    """
    if ranges is None:
        return list(range(page_count))
    kept: list[int] = []
    seen: set[int] = set()
    for r in ranges:
        last = page_count if r.last is None else r.last
        if r.first > page_count or last > page_count:
            raise ValueError(
                f"pages {r} outside the file's {page_count} page{'s' if page_count != 1 else ''}"
            )
        for i in range(r.first - 1, last):
            if i not in seen:
                seen.add(i)
                kept.append(i)
    return kept
