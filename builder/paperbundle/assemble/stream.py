"""Writing a PDF as a stream: each object once, as soon as it is known, then the xref and trailer.

Nothing is held but the byte offset of each object written (8 bytes an object), so the bundle's
size costs no memory; the caller hands objects over paper by paper.
"""

from __future__ import annotations

from array import array
from typing import BinaryIO

from pypdf.generic import IndirectObject, PdfObject

from paperbundle.assemble.fragment import to_bytes

HEADER = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"


class Raw(PdfObject):
    """Bytes already serialized (and renumbered), placed as they are inside another object."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def write_to_stream(self, stream: object, encryption_key: object = None) -> None:
        stream.write(self.data)  # type: ignore[attr-defined]


def ref(num: int) -> IndirectObject:
    return IndirectObject(num, 0, None)  # type: ignore[arg-type]


class PdfStream:
    def __init__(self, out: BinaryIO) -> None:
        self.out = out
        self.pos = 0
        self.offsets = array("q")
        self._put(HEADER)

    def _put(self, b: bytes) -> None:
        self.out.write(b)
        self.pos += len(b)

    def write(self, num: int, head: bytes, tail: bytes = b"") -> None:
        """Object ``num``: ``head`` (already renumbered) and ``tail`` (stream bytes or empty)."""
        if num >= len(self.offsets):
            self.offsets.extend([0] * (num + 1 - len(self.offsets)))
        self.offsets[num] = self.pos
        self._put(b"%d 0 obj\n%b%b\nendobj\n" % (num, head, tail))

    def write_object(self, num: int, obj: PdfObject) -> None:
        self.write(num, to_bytes(obj))

    def finish(self, size: int, trailer: PdfObject) -> None:
        """The xref table of objects 0 .. size-1 (those never written are free) and ``trailer``."""
        if size > len(self.offsets):
            self.offsets.extend([0] * (size - len(self.offsets)))
        start = self.pos
        lines = [b"xref\n0 %d\n" % size]
        free = [i for i in range(1, size) if self.offsets[i] == 0]
        nxt = dict(zip([0, *free], [*free, 0], strict=True))
        lines.append(b"%010d 65535 f \n" % nxt[0])
        for i in range(1, size):
            off = self.offsets[i]
            lines.append(b"%010d 00000 n \n" % off if off else b"%010d 00001 f \n" % nxt[i])
        self._put(b"".join(lines))
        self._put(b"trailer\n" + to_bytes(trailer) + b"\nstartxref\n%d\n%%%%EOF\n" % start)
