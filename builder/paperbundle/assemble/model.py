"""The assembler's inputs, results and small helpers over pypdf objects."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

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
)

from paperbundle.manifest import Paper


@dataclass(frozen=True)
class PaperInput:
    """A paper prepared for merging (paperbundle.assemble.workcache)."""

    paper: Paper
    sha256: str  # of the original file
    file: Path  # the original file
    path: Path  # the prepared paper in the work cache
    kept: int  # pages kept
    total: int  # pages of the file
    count: int  # objects
    reused: bool = False  # found in the work cache


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


def _plain(v: PdfObject) -> PdfObject:
    r = v.get_object() if isinstance(v, IndirectObject) else v
    if isinstance(r, (NumberObject, FloatObject, NameObject, NullObject, BooleanObject)):
        return r
    return NullObject()


def _plain_copy(v: PdfObject) -> PdfObject:
    """A direct copy of a simple value (string, name, number, boolean)."""
    r = v.get_object() if isinstance(v, IndirectObject) else v
    if isinstance(r, (DictionaryObject, ArrayObject)) or r is None:
        return NullObject()
    return r
