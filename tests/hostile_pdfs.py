# ruff: noqa: E501  (raw PDF objects read best on one line each)
"""Generators of hostile PDF files, shared by tests/test_hostile_files.py (small sizes) and
bench/bench_hostile.py (the sizes the issue measured). Each writes one file and returns its path.
"""

from __future__ import annotations

import zlib
from pathlib import Path

from tests import rawpdf

Objs = dict[int, str | tuple[str, bytes]]


def _one_page(extra_root: str = "", page_extra: str = "", more: Objs | None = None) -> Objs:
    objs: Objs = {
        1: f"<< /Type /Catalog /Pages 2 0 R {extra_root} >>",
        2: rawpdf.pages_node("3 0 R", 1),
        3: f"<< /Type /Page /Parent 2 0 R /Contents 5 0 R {page_extra} >>",
        5: rawpdf.content("hostile"),
        7: rawpdf.FONT,
    }
    objs.update(more or {})
    return objs


def damaged_stream(path: Path) -> Path:
    """The page's content stream claims Flate but holds bytes no inflater accepts."""
    garbage = bytes((i * 37 + 11) % 256 for i in range(400))
    return rawpdf.write(
        path, _one_page(more={5: ("/Filter /FlateDecode", b"x\x9c\xff\xfe" + garbage)})
    )


def _deflated_zeros(size: int, prefix: bytes = b"") -> bytes:
    """``prefix`` then ``size`` zero bytes, deflated chunk by chunk (never all in memory)."""
    comp = zlib.compressobj(9)
    parts = [comp.compress(prefix)]
    chunk = bytes(1 << 20)
    left = size
    while left > 0:
        n = min(left, len(chunk))
        parts.append(comp.compress(chunk[:n]))
        left -= n
    parts.append(comp.flush())
    return b"".join(parts)


def inflation_bomb(path: Path, inflated: int = 300_000_000) -> Path:
    """A content stream of a few hundred kB that inflates to ``inflated`` bytes."""
    data = _deflated_zeros(inflated, b"BT /F1 24 Tf 72 700 Td (bomb) Tj ET\n%")
    return rawpdf.write(path, _one_page(more={5: ("/Filter /FlateDecode", data)}))


def huge_declared_length(path: Path) -> Path:
    """A stream whose /Length says 10 GB (the bytes that follow are a few dozen)."""
    raw = rawpdf.write(path, _one_page()).read_bytes()
    marker = b"/Length "
    at = raw.index(marker, raw.index(b"5 0 obj"))
    end = raw.index(b" ", at + len(marker))
    patched = raw[: at + len(marker)] + b"9999999999" + raw[end:]
    path.write_bytes(patched)  # offsets after it are off by a few bytes: pypdf recovers
    return path


def xref_garbage(path: Path) -> Path:
    """A cross-reference table of nonsense: offsets past the end, text where numbers go."""
    raw = rawpdf.write(path, _one_page()).read_bytes()
    at = raw.index(b"xref\n")
    end = raw.index(b"trailer")
    table = b"xref\n0 9\n" + b"".join(
        f"{(n * 7919) % 10**10:010d} 00000 n \n".encode() if n % 2 else b"zzzzzzzzzz yyyyy q \n"
        for n in range(9)
    )
    path.write_bytes(raw[:at] + table + raw[end:])
    return path


def page_tree_cycles(path: Path) -> Path:
    """/Kids lists the page tree's own root and a node twice; /Parent points in a loop."""
    return rawpdf.write(
        path,
        {
            1: "<< /Type /Catalog /Pages 2 0 R >>",
            2: "<< /Type /Pages /Kids [4 0 R 4 0 R 2 0 R] /Count 3 /Parent 4 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 7 0 R >> >> >>",
            4: "<< /Type /Pages /Kids [3 0 R 2 0 R] /Count 1 /Parent 2 0 R >>",
            3: "<< /Type /Page /Parent 4 0 R /Contents 5 0 R >>",
            5: rawpdf.content("cycles"),
            7: rawpdf.FONT,
        },
    )


def many_pages(path: Path, pages: int = 100_000) -> Path:
    """``pages`` pages in a two-level page tree, all drawing the same content stream."""
    per = 1000
    objs: Objs = {1: "<< /Type /Catalog /Pages 2 0 R >>", 5: rawpdf.content("page"), 7: rawpdf.FONT}
    nodes = []
    first_page = 10 + (pages + per - 1) // per
    for g in range((pages + per - 1) // per):
        node = 10 + g
        nodes.append(f"{node} 0 R")
        kids = range(first_page + g * per, first_page + min(pages, (g + 1) * per))
        objs[node] = (
            f"<< /Type /Pages /Parent 2 0 R /Kids [{' '.join(f'{k} 0 R' for k in kids)}] /Count {len(kids)} >>"
        )
        for k in kids:
            objs[k] = f"<< /Type /Page /Parent {node} 0 R /Contents 5 0 R >>"
    objs[2] = rawpdf.pages_node(" ".join(nodes), pages)
    return rawpdf.write(path, objs)


def long_outline(path: Path, items: int = 6_000, title: str = "Section") -> Path:
    """A flat outline of ``items`` entries on the one page."""
    first = 100
    objs = _one_page("/Outlines 99 0 R")
    objs[99] = (
        f"<< /Type /Outlines /First {first} 0 R /Last {first + items - 1} 0 R /Count {items} >>"
    )
    for i in range(items):
        n = first + i
        link = f"/Next {n + 1} 0 R " if i + 1 < items else ""
        prev = f"/Prev {n - 1} 0 R " if i else ""
        objs[n] = (
            f"<< /Title ({title} {i}) /Parent 99 0 R {prev}{link}/Dest [3 0 R /XYZ 0 700 0] >>"
        )
    return rawpdf.write(path, objs)


def outline_title(path: Path, title_hex: str) -> Path:
    """One outline item whose /Title is the hex string ``title_hex`` (UTF-16BE with BOM, say)."""
    return rawpdf.write(
        path,
        _one_page(
            "/Outlines 99 0 R",
            more={
                99: "<< /Type /Outlines /First 100 0 R /Last 100 0 R /Count 1 >>",
                100: f"<< /Title <{title_hex}> /Parent 99 0 R /Dest [3 0 R /Fit] >>",
            },
        ),
    )


def parent_cycle_annots(path: Path) -> Path:
    """Annotations whose /Popup, /Parent and /IRT chains loop, and whose /P is another page."""
    return rawpdf.write(
        path,
        _one_page(
            page_extra="/Annots [20 0 R 21 0 R 22 0 R]",
            more={
                20: "<< /Type /Annot /Subtype /Text /Rect [0 0 10 10] /Popup 21 0 R /IRT 22 0 R >>",
                21: "<< /Type /Annot /Subtype /Popup /Rect [0 0 10 10] /Parent 20 0 R /IRT 21 0 R >>",
                22: "<< /Type /Annot /Subtype /Square /Rect [0 0 10 10] /IRT 20 0 R /Popup 22 0 R /Parent 22 0 R >>",
            },
        ),
    )
