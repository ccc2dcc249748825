"""What the generated pages share: page size, colours, text cleaning, dates, URLs as shown."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from reportlab.lib.colors import Color

from paperbundle import text as tx
from paperbundle.manifest import Manifest, Paper, arxiv_id

PAGE_W, PAGE_H = 612.0, 792.0  # US Letter

INK = Color(0.10, 0.11, 0.13)
GREY = Color(0.40, 0.42, 0.45)
LIGHT = Color(0.60, 0.62, 0.65)
RULE = Color(0.80, 0.82, 0.85)
ACCENT = Color(0.12, 0.31, 0.55)
LINK = Color(0.10, 0.35, 0.66)

MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


class Texts:
    """Cleans every text shown (see :func:`paperbundle.text.clean`) and collects the warnings."""

    def __init__(self, manifest: Manifest) -> None:
        self.warnings: list[str] = []
        self._seen: set[str] = set()
        self._index = {p.key: i for i, p in enumerate(manifest.papers)}

    def get(self, where: str, value: str) -> str:
        cleaned, missing = tx.clean(value)
        if missing and where not in self._seen:
            self._seen.add(where)
            cps = ", ".join(f"U+{cp:04X}" for cp in missing)
            self.warnings.append(f"{where}: {cps} not covered by any bundled font; left out")
        return cleaned

    def paper(self, paper: Paper, field_name: str, value: str) -> str:
        i = self._index.get(paper.key)
        where = f"papers[{i}] ({paper.key})" if i is not None else f"paper {paper.key}"
        return self.get(f"{where} {field_name}", value)


def roman(n: int) -> str:
    out = ""
    for value, sym in (
        (1000, "m"),
        (900, "cm"),
        (500, "d"),
        (400, "cd"),
        (100, "c"),
        (90, "xc"),
        (50, "l"),
        (40, "xl"),
        (10, "x"),
        (9, "ix"),
        (5, "v"),
        (4, "iv"),
        (1, "i"),
    ):
        while n >= value:
            out += sym
            n -= value
    return out


def format_date(d: dt.date) -> str:
    return f"{d.day} {MONTHS[d.month - 1]} {d.year}"


def short_url(url: str, limit: int = 48) -> str:
    """A URL as shown in print: no scheme, no ``www.``, shortened in the middle when long."""
    parts = urlsplit(url)
    host = parts.netloc.lower().removeprefix("www.")
    shown = host + parts.path.rstrip("/") + (f"?{parts.query}" if parts.query else "")
    if len(shown) > limit:
        keep = limit - 1
        shown = shown[: keep - keep // 3] + "…" + shown[-(keep // 3) :]
    return shown


def paper_link_text(paper: Paper) -> str | None:
    if paper.url is None:
        return None
    aid = arxiv_id(paper.url)
    if aid is not None:
        return f"arXiv:{aid}"
    return short_url(paper.url)


def link(canvas: Any, url: str, x1: float, y1: float, x2: float, y2: float) -> None:
    canvas.linkURL(url, (x1, y1, x2, y2), relative=0, thickness=0)


@contextlib.contextmanager
def without_source_date_epoch() -> Iterator[None]:
    """reportlab reads SOURCE_DATE_EPOCH itself (and fails on a bad value). Our dates come from
    the manifest first, so the front matter must not depend on it: hide it while rendering."""
    saved = os.environ.pop("SOURCE_DATE_EPOCH", None)
    try:
        yield
    finally:
        if saved is not None:
            os.environ["SOURCE_DATE_EPOCH"] = saved
