"""A prepared paper: its objects as ready-to-place bytes, numbered on their own, and what the
bundle needs to know about it (pages, outline, form, layers, counts).

The bytes of each object are what pypdf writes for it, so a reference inside them is always
``<n> 0 R`` after a space or ``[``, and a literal string never holds an unescaped ``)`` (pypdf
writes every character but letters, digits and spaces as an octal escape). That makes the
references easy to find again, and the bundle writer renumbers them with one regular expression
(strings are skipped, stream data is never looked at).

File layout (little-endian)::

    MAGIC, u64 length of the JSON metadata, the metadata, u32 object count, then per object
    u32 id, u32 head length, u64 tail length, the head (dictionary text, renumbered on placing),
    the tail (``stream ... endstream`` bytes, copied as they are); u32 CRC-32 of all before it.
"""

from __future__ import annotations

import io
import json
import re
import struct
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pypdf import PdfWriter
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    NumberObject,
    PdfObject,
    StreamObject,
)

MAGIC = b"PBPREP2\n"
PAGES_ROOT = 0  # the local id standing for the bundle's page tree root
_OBJ = struct.Struct("<IIQ")
# A literal string (skipped) or a reference (renumbered); see the module docstring.
REF_RE = re.compile(rb"\((?:[^)\\]|\\.)*\)|(?<![\w.#+-])(\d+) 0 R(?![\w.])")


class DamagedFragment(Exception):
    """A prepared file that cannot be read back (truncated, edited, another format)."""


@dataclass(frozen=True)
class Fragment:
    meta: dict[str, Any]
    objects: list[tuple[int, bytes, bytes]]  # (local id, head, tail), ids ascending


def to_bytes(obj: PdfObject) -> bytes:
    buf = io.BytesIO()
    obj.write_to_stream(buf)
    return buf.getvalue()


def _object_bytes(obj: PdfObject) -> tuple[bytes, bytes]:
    if isinstance(obj, StreamObject):
        data = obj._data
        obj[_LENGTH] = NumberObject(len(data))
        head = io.BytesIO()
        DictionaryObject.write_to_stream(obj, head)
        del obj[_LENGTH]
        return head.getvalue(), b"\nstream\n" + data + b"\nendstream"
    return to_bytes(obj), b""


_LENGTH = NameObject("/Length")


def reachable(writer: PdfWriter, roots: list[PdfObject], stop: set[int]) -> list[int]:
    """Ids of the writer's objects that ``roots`` reach (``stop`` ids are not entered)."""
    objects = writer._objects
    seen: set[int] = set()
    todo = list(roots)
    while todo:
        x = todo.pop()
        if isinstance(x, IndirectObject):
            if x.pdf is not writer or x.idnum in seen or x.idnum in stop:
                continue
            seen.add(x.idnum)
            target = objects[x.idnum - 1] if 0 < x.idnum <= len(objects) else None
            if target is not None:
                todo.append(target)
        elif isinstance(x, DictionaryObject):
            todo.extend(x.values())
        elif isinstance(x, ArrayObject):
            todo.extend(x)
    return sorted(seen)


def collect(writer: PdfWriter, ids: list[int]) -> list[tuple[int, bytes, bytes]]:
    out = []
    for i in ids:
        obj = writer._objects[i - 1]
        assert obj is not None
        head, tail = _object_bytes(obj)
        out.append((i, head, tail))
    return out


def write(path: Path, frag: Fragment) -> None:
    """Write ``frag`` to ``path`` (the caller renames it into place)."""
    meta = json.dumps(frag.meta, sort_keys=True, separators=(",", ":")).encode()
    crc = 0
    with path.open("wb") as f:

        def put(b: bytes) -> None:
            nonlocal crc
            crc = zlib.crc32(b, crc)
            f.write(b)

        put(MAGIC + struct.pack("<Q", len(meta)) + meta + struct.pack("<I", len(frag.objects)))
        for i, head, tail in frag.objects:
            put(_OBJ.pack(i, len(head), len(tail)))
            put(head)
            put(tail)
        f.write(struct.pack("<I", crc))


def read_meta(path: Path) -> dict[str, Any]:
    """Only the metadata (the objects are read when the paper is placed)."""
    with path.open("rb") as f:
        head = f.read(len(MAGIC) + 8)
        if len(head) != len(MAGIC) + 8 or not head.startswith(MAGIC):
            raise DamagedFragment(f"{path.name}: not a prepared paper")
        (n,) = struct.unpack("<Q", head[len(MAGIC) :])
        raw = f.read(n)
    try:
        meta = json.loads(raw)
    except ValueError:
        raise DamagedFragment(f"{path.name}: damaged metadata") from None
    if not isinstance(meta, dict):
        raise DamagedFragment(f"{path.name}: damaged metadata")
    return meta


def read(path: Path) -> Fragment:
    """The whole fragment, checked against its CRC."""
    data = path.read_bytes()
    if len(data) < len(MAGIC) + 16 or not data.startswith(MAGIC):
        raise DamagedFragment(f"{path.name}: not a prepared paper")
    (crc,) = struct.unpack("<I", data[-4:])
    if zlib.crc32(memoryview(data)[:-4]) != crc:
        raise DamagedFragment(f"{path.name}: checksum mismatch")
    pos = len(MAGIC)
    (n,) = struct.unpack_from("<Q", data, pos)
    pos += 8
    meta = json.loads(data[pos : pos + n])
    pos += n
    (count,) = struct.unpack_from("<I", data, pos)
    pos += 4
    objects = []
    for _ in range(count):
        i, hl, tl = _OBJ.unpack_from(data, pos)
        pos += _OBJ.size
        head = data[pos : pos + hl]
        pos += hl
        objects.append((i, head, data[pos : pos + tl]))
        pos += tl
    if pos != len(data) - 4:
        raise DamagedFragment(f"{path.name}: damaged objects")
    return Fragment(meta, objects)


def renumberer(mapping: dict[int, int]) -> Callable[[bytes], bytes]:
    """A function that rewrites the references of a head through ``mapping`` (local -> bundle)."""

    def repl(m: re.Match[bytes]) -> bytes:
        num = m.group(1)
        if num is None:
            return m.group(0)
        return b"%d 0 R" % mapping[int(num)]

    def renumber(head: bytes) -> bytes:
        return REF_RE.sub(repl, head)

    return renumber


def local_refs(snippet: str) -> Iterator[int]:
    """The local ids a snippet refers to."""
    for m in REF_RE.finditer(snippet.encode("latin-1")):
        if m.group(1) is not None:
            yield int(m.group(1))
